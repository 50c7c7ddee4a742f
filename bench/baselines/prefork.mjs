// The least a pre-fork master can be: listen, fork WORKERS children, hand each the listening
// socket (node:cluster's shared-socket way) and wait. No settings, logging, health checks or
// metrics: bench/master-memory.ts measures corral's master against it. The children serve
// the hello world of single.mjs.
import { fork } from 'node:child_process';
import { createRequire } from 'node:module';
import net from 'node:net';

if (process.send) {
  process.once('message', async (_msg, handle) => {
    const { createServer } = createRequire(import.meta.url)('node:http');
    const app = (
      await import(process.env.APP ?? new URL('../apps/hello.mjs', import.meta.url).href)
    ).default;
    createServer(app).listen(handle);
  });
} else {
  const kids = [];
  const server = net
    .createServer()
    .listen({ port: Number(process.env.PORT), host: '127.0.0.1', backlog: 2048 }, () => {
      for (let i = 0; i < Number(process.env.WORKERS ?? 2); i++) {
        const kid = fork(new URL(import.meta.url).pathname);
        kid.send('listen', server);
        kids.push(kid);
      }
      // The children hold the socket now; the master accepts nothing.
      setTimeout(() => server.close(), 500);
    });
  process.on('SIGTERM', () => {
    for (const kid of kids) kid.kill();
    process.exit(0);
  });
}
