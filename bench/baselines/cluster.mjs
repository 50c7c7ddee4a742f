// node:cluster with WORKERS workers; SCHED=none for the shared socket, else round-robin.
import cluster from 'node:cluster';

if (process.env.SCHED === 'none') cluster.schedulingPolicy = cluster.SCHED_NONE;
if (cluster.isPrimary) {
  for (let i = 0; i < Number(process.env.WORKERS); i++) cluster.fork();
  process.on('SIGTERM', () => {
    for (const w of Object.values(cluster.workers ?? {})) w?.kill();
    process.exit(0);
  });
} else {
  await import('./single.mjs');
}
