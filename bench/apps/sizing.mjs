// The sizing bench's app: /cpu burns ~1 ms of JavaScript on the event loop (templating, JSON,
// validation in a real app), /io waits 20 ms the way an await on a database or API does.
const pid = String(process.pid);
const LOOPS = Number(process.env.CPU_LOOPS ?? 80000);

function burn(n) {
  let x = 0;
  for (let i = 1; i <= n; i++) x += Math.sqrt(i) * Math.sin(i);
  return x;
}

export default function app(req, res) {
  const headers = { 'content-type': 'text/plain', 'x-pid': pid };
  if (req.url.startsWith('/cpu')) {
    const x = burn(LOOPS);
    res.writeHead(200, headers);
    res.end(`cpu ${x > 0 ? '+' : '-'}\n`);
    return;
  }
  if (req.url.startsWith('/io')) {
    setTimeout(() => {
      res.writeHead(200, headers);
      res.end('io\n');
    }, 20);
    return;
  }
  res.writeHead(200, headers);
  res.end('ok\n');
}
