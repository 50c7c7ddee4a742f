/**
 * The master's own HTTP endpoint (--metrics-bind): /metrics, /healthz, /readyz. The master
 * answers, so probes never queue behind busy workers.
 */
import type { Server } from 'node:http';
import { CorralError, UsageError } from '../errors.ts';
import { clearStaleSocket, parseBind } from '../master/listeners.ts';
import { backlogByBind } from './backlog.ts';
import type { WorkerMetrics } from './collect.ts';
import { CONTENT_TYPE, renderMetrics } from './prometheus.ts';
import type { Status } from './status.ts';

// Not an ESM import: node:http's namespace loads undici, 12 MiB of the master's RSS.
const { createServer } = process.getBuiltinModule('node:http');

export async function serveMetrics(
  bind: string,
  status: () => Status,
  workerMetrics: () => Promise<WorkerMetrics[]> = async () => [],
): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    } else if (path === '/readyz') {
      const s = status();
      const ready = s.ready;
      res
        .writeHead(ready ? 200 : 503, { 'content-type': 'text/plain' })
        .end(ready ? 'ready\n' : s.stopping ? 'shutting down\n' : 'not ready\n');
    } else if (path === '/metrics') {
      Promise.all([workerMetrics(), backlogByBind(status().binds)])
        .then(([workers, backlog]) => {
          // The status after the workers answered: its heartbeats are at least as fresh.
          return renderMetrics(status(), backlog, workers);
        })
        .then(
          (text) => res.writeHead(200, { 'content-type': CONTENT_TYPE }).end(text),
          (err) => res.writeHead(500).end(`${err}\n`),
        );
    } else {
      res
        .writeHead(404, { 'content-type': 'text/plain' })
        .end('not found: try /metrics, /healthz, /readyz\n');
    }
  });
  const a = parseBind(bind);
  // Inherited sockets are for the app's binds; the metrics endpoint always binds its own.
  if (a.kind === 'fd') {
    throw new UsageError(`corral: --metrics-bind ${bind}: use HOST:PORT or unix:PATH, not fd://`);
  }
  if (a.kind === 'unix') await clearStaleSocket(a.path);
  await new Promise<void>((done, fail) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      fail(new CorralError(`corral: cannot serve metrics on ${bind}: ${err.code ?? err.message}`)),
    );
    server.listen(a.kind === 'unix' ? { path: a.path } : { host: a.host, port: a.port }, () =>
      done(),
    );
  });
  return server;
}
