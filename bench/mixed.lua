-- 90% fast requests, 10% that spin 100 ms of CPU.
math.randomseed(os.time())
request = function()
  if math.random() < 0.1 then
    return wrk.format("GET", "/cpu?ms=100")
  end
  return wrk.format("GET", "/")
end
