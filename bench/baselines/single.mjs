// Plain node:http, one process: the per-core baseline. APP names the listener module
// (default: the hello world); the cluster, reusePort and PM2 baselines run this file too.
// node:http is required, not imported: an ESM import loads undici with it (12 MiB of RSS),
// which the anchors' CommonJS hello world does not pay, and neither do corral's workers.
import { createRequire } from 'node:module';

const { createServer } = createRequire(import.meta.url)('node:http');
const app = (await import(process.env.APP ?? new URL('../apps/hello.mjs', import.meta.url).href))
  .default;

createServer(app).listen({
  port: Number(process.env.PORT),
  host: '127.0.0.1',
  backlog: 2048,
  reusePort: process.env.REUSEPORT === '1',
});
