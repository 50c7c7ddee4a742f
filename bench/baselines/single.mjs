// Plain node:http, one process: the per-core baseline.
import { createServer } from 'node:http';
import hello from '../apps/hello.mjs';

createServer(hello).listen({
  port: Number(process.env.PORT),
  host: '127.0.0.1',
  backlog: 2048,
  reusePort: process.env.REUSEPORT === '1',
});
