// What the fetch bridge itself costs per request, without sockets or a kernel in the way:
// the app's handler is called through corral's bridge, @hono/node-server's and srvx's with
// stand-ins for IncomingMessage and ServerResponse that only record the writes, against a
// (req, res) listener writing the same response. Nanoseconds per request: median of N
// interleaved rounds, and the spread. (Over sockets: bench/bridges.ts.)
//
//   node bench/bridge.ts [--rounds 5] [--requests 300000]
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { parseArgs } from 'node:util';
import { median } from './lib/stats.ts';

const { values: opt } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    requests: { type: 'string', default: '300000' },
  },
});

class FakeResponse {
  headersSent = false;
  writableEnded = false;
  writableFinished = false;
  destroyed = false;
  statusCode = 200;
  written = 0;
  req: unknown = null;
  writeHead(status: number) {
    this.statusCode = status;
    this.headersSent = true;
    return this;
  }
  write(chunk: string | Uint8Array) {
    this.written += chunk.length;
    return true;
  }
  end(body?: string | Uint8Array | (() => void), done?: () => void) {
    if (typeof body === 'function') [body, done] = [undefined, body];
    this.written += body ? body.length : 0;
    this.writableEnded = true;
    this.writableFinished = true;
    done?.();
    return this;
  }
  destroy() {
    this.destroyed = true;
    return this;
  }
  on() {
    return this;
  }
  once() {
    return this;
  }
  off() {
    return this;
  }
}

function fakeRequest(): IncomingMessage {
  return {
    method: 'GET',
    url: '/',
    httpVersion: '1.1',
    headers: { host: '127.0.0.1:8000', 'user-agent': 'bench', accept: '*/*' },
    rawHeaders: ['Host', '127.0.0.1:8000', 'User-Agent', 'bench', 'Accept', '*/*'],
    socket: { encrypted: false },
    complete: true,
  } as unknown as IncomingMessage;
}

/** Run `n` requests through a listener; a promise per request is awaited in batches. */
async function drive(listener: RequestListener, n: number): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < n; i += 1000) {
    for (let j = 0; j < 1000; j++) {
      const res = new FakeResponse();
      listener(fakeRequest(), res as unknown as ServerResponse);
    }
    // Let promise-based bridges finish their microtasks, as the event loop would.
    await new Promise((r) => setImmediate(r));
  }
  return ((performance.now() - t0) * 1e6) / n;
}

const headers = { 'content-type': 'text/plain', 'x-pid': String(process.pid) };
const plain: RequestListener = (_req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '13', 'x-pid': '1' });
  res.end('Hello, world!');
};
const fetchApp = () => new Response('Hello, world!', { headers });

// Import order matters: both bridges replace the global Response; each is measured with its own.
const { fetchListener } = await import('../src/app/fetch.ts');
const { getRequestListener } = await import('@hono/node-server');
const { toNodeHandler, FastResponse } = await import('srvx/node');
const srvxApp = () => new FastResponse('Hello, world!', { headers });
const variants: [string, () => RequestListener][] = [
  ['(req, res) listener', () => plain],
  ['corral fetch bridge', () => fetchListener(fetchApp)],
  [
    '@hono/node-server 2.x getRequestListener',
    () => getRequestListener(fetchApp) as RequestListener,
  ],
  ['srvx toNodeHandler (FastResponse)', () => toNodeHandler(srvxApp) as RequestListener],
];
const N = Number(opt.requests);
const best = new Map<string, number[]>();
for (let round = 0; round < Number(opt.rounds); round++) {
  for (const [name, make] of variants) {
    const ns = await drive(make(), N);
    best.set(name, [...(best.get(name) ?? []), ns]);
  }
}
console.log(`| ${'handler'.padEnd(42)} | ns/request, median | rounds (min–max) |`);
console.log(`|${'-'.repeat(44)}|---:|---:|`);
for (const [name, xs] of best) {
  console.log(
    `| ${name.padEnd(42)} | ${Math.round(median(xs))} | ${Math.round(Math.min(...xs))}–${Math.round(Math.max(...xs))} |`,
  );
}
