// A fast route and a CPU-bound one: `/` answers at once, `/cpu?ms=N` spins N ms first.
const pid = String(process.pid);
export default function work(req, res) {
  if (req.url.startsWith('/cpu')) {
    const ms = Number(new URL(req.url, 'http://x').searchParams.get('ms') ?? 20);
    const until = performance.now() + ms;
    while (performance.now() < until);
  }
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '2', 'x-pid': pid });
  res.end('ok');
}
