// Realistic routes as a (req, res) listener: / hello world, /json ~10 KB of JSON serialised
// per request, /wait answers after awaiting 5 ms.
import { setTimeout as wait } from 'node:timers/promises';
import { items, WAIT_MS } from './routes-data.mjs';

const pid = String(process.pid);

export default async function routes(req, res) {
  if (req.url === '/json') {
    const body = JSON.stringify({ items, count: items.length });
    res.writeHead(200, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      'x-pid': pid,
    });
    res.end(body);
    return;
  }
  if (req.url === '/wait') await wait(WAIT_MS);
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '13', 'x-pid': pid });
  res.end('Hello, world!');
}
