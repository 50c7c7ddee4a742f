// One fetch bridge (or a plain listener) in a plain node:http server, for bench/bridges.ts:
//   node bench/apps/bridge-server.ts listener|corral|hono|srvx PORT
import { createServer, type RequestListener } from 'node:http';

const [variant, port] = process.argv.slice(2);
const body = 'Hello, world!';
const headers = { 'content-type': 'text/plain', 'x-pid': String(process.pid) };

async function listener(): Promise<RequestListener> {
  switch (variant) {
    case 'listener':
      return (_req, res) => {
        res.writeHead(200, { ...headers, 'content-length': '13' });
        res.end(body);
      };
    case 'corral': {
      const { fetchListener } = await import('../../src/app/fetch.ts');
      return fetchListener(() => new Response(body, { headers }));
    }
    case 'hono': {
      const { getRequestListener } = await import('@hono/node-server');
      return getRequestListener(() => new Response(body, { headers })) as RequestListener;
    }
    case 'srvx': {
      // srvx's fast path: its own Response class (FastResponse), as its docs recommend.
      const { toNodeHandler, FastResponse } = await import('srvx/node');
      return toNodeHandler(() => new FastResponse(body, { headers })) as RequestListener;
    }
    default:
      throw new Error(`unknown variant ${variant}`);
  }
}

const server = createServer(await listener());
server.keepAliveTimeout = 60_000;
server.listen(Number(port), '127.0.0.1', () => process.send?.('ready'));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
