// node:cluster round-robin (or PM2 cluster mode, which runs this file per instance) serving work.mjs.
import cluster from 'node:cluster';
import { createServer } from 'node:http';
import work from '../apps/work.mjs';

if (cluster.isPrimary && !process.env.pm_id) {
  for (let i = 0; i < Number(process.env.WORKERS); i++) cluster.fork();
  process.on('SIGTERM', () => {
    for (const w of Object.values(cluster.workers ?? {})) w?.kill();
    process.exit(0);
  });
} else {
  createServer(work).listen({ port: Number(process.env.PORT), host: '127.0.0.1', backlog: 2048 });
}
