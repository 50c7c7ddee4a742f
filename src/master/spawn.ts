/** Start one worker process: the same Node, the app's env and cwd, inherited sockets. */
import { fork } from 'node:child_process';
import type { Resolved } from '../config/resolve.ts';
import type { Config } from '../config/settings.ts';
import { readTlsFiles, type TlsFiles } from '../config/tls.ts';
import type { ListenPlan, ToWorker } from '../ipc.ts';
import type { Identity } from './identity.ts';
import { bindInfo, type Listener } from './listeners.ts';
import { workerExecArgv } from './worker-v8-options.ts';

const entry = new URL(
  `../worker/main${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`,
  import.meta.url,
);

/** Extra environment from `-e KEY=VALUE`. */
export function envPairs(config: Pick<Config, 'env'>): Record<string, string> {
  return Object.fromEntries(
    config.env.map((kv) => {
      const i = kv.indexOf('=');
      return [kv.slice(0, i), kv.slice(i + 1)];
    }),
  );
}

/** fd numbers listening sockets get in the child: after stdin/out/err and the IPC channel. */
const FIRST_FD = 4;

/**
 * How each bind reaches this worker. shared: the socket is inherited at fd 4+i. reuseport:
 * the worker binds its own TCP socket. least-conn: the master hands connections over.
 */
export function listenPlans(config: Config, listeners: readonly Listener[]): ListenPlan[] {
  return listeners.map((l, i): ListenPlan => {
    if (config.dispatch === 'least-conn') return { kind: 'handoff' };
    if (config.dispatch === 'reuseport' && l.address.kind === 'tcp') {
      return { kind: 'reuseport', host: l.address.host, port: l.address.port };
    }
    return { kind: 'fd', fd: FIRST_FD + i };
  });
}

/** `identity`: --user/--group; libuv sets gid, drops supplementary groups, then sets uid. */
export function spawnWorker(
  config: Config,
  listeners: readonly Listener[],
  identity: Identity | null = null,
) {
  const inherit = config.dispatch === 'least-conn' ? [] : listeners.map((l) => l.fd);
  return fork(entry, [], {
    ...(identity && { uid: identity.uid, gid: identity.gid }),
    execArgv: workerExecArgv(config),
    env: { ...process.env, ...envPairs(config) },
    cwd: process.cwd(),
    stdio: ['ignore', 'inherit', 'inherit', 'ipc', ...inherit],
    serialization: 'json',
  });
}

/**
 * The master (root, before --user applies to workers) reads the certificate and key for each
 * worker it starts: read at every start, so a HUP's new workers get renewed files. When they
 * cannot be read now the worker tries itself and reports the error as a boot failure.
 */
function masterReadTls(c: Config): TlsFiles | null {
  try {
    return readTlsFiles(c);
  } catch {
    return null;
  }
}

/** What a new worker is told: its number, the config, how to listen, its max-requests limit. */
export function bootMessage(
  id: number,
  r: Pick<Resolved, 'config' | 'file'>,
  listeners: readonly Listener[],
): Extract<ToWorker, { t: 'boot' }> {
  const c = r.config;
  // Each worker's limit is max-requests + random(0..jitter), so they don't all recycle at once.
  const jitter = c.maxRequestsJitter ? Math.floor(Math.random() * (c.maxRequestsJitter + 1)) : 0;
  return {
    t: 'boot',
    id,
    config: c,
    configFile: r.file,
    listen: listenPlans(c, listeners),
    maxRequests: c.maxRequests ? c.maxRequests + jitter : 0,
    canaryMs: 0,
    tlsFiles: masterReadTls(c),
    bind: bindInfo(listeners[0]),
  };
}
