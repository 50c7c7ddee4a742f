// routes.mjs as a fetch handler: / hello world, /json ~10 KB of JSON, /wait after 5 ms.
import { setTimeout as wait } from 'node:timers/promises';
import { items, WAIT_MS } from './routes-data.mjs';

const headers = { 'content-type': 'text/plain', 'x-pid': String(process.pid) };

export default {
  async fetch(request) {
    const path = request.url.slice(request.url.indexOf('/', 8));
    if (path === '/json') return Response.json({ items, count: items.length });
    if (path === '/wait') await wait(WAIT_MS);
    return new Response('Hello, world!', { headers });
  },
};
