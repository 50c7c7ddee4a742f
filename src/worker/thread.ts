/**
 * A thread of a `thread`-class worker: its own copy of the app, its own HTTP server and its
 * own SO_REUSEPORT socket(s), beating to the worker's main thread (worker/thread-pool.ts).
 */
import { parentPort, threadId, workerData } from 'node:worker_threads';
import { type AppCloser, closeApp } from '../app/close.ts';
import { loadApp } from '../app/load.ts';
import type { Config } from '../config/settings.ts';
import type { TlsFiles } from '../config/tls.ts';
import { AppLoadError, bootExitCode } from '../errors.ts';
import { loadHooks } from '../hooks.ts';
import type { ListenPlan } from '../ipc.ts';
import { Logger } from '../log/logger.ts';
import { EMPTY_STATS, ProcessSampler, type WorkerStats } from '../metrics/stats.ts';
import { ListenInterceptor } from './listen-mode.ts';
import { buildAppServer } from './serve.ts';
import type { AppServer } from './server.ts';

export interface ThreadData {
  readonly config: Config;
  readonly configFile: string | null;
  readonly id: number;
  readonly listen: readonly ListenPlan[];
  readonly tlsFiles: TlsFiles | null;
}

export type FromThread =
  | { readonly t: 'ready' }
  | ({ readonly t: 'beat' } & ThreadBeat)
  | { readonly t: 'boot-failed'; readonly message: string; readonly code: number };

/** What a thread reports 4×/s: its request counters and its own event loop's gauges. */
export type ThreadBeat = Pick<
  WorkerStats,
  | 'requests'
  | 'inFlight'
  | 'statusClasses'
  | 'latencyCounts'
  | 'latencySumSeconds'
  | 'elu'
  | 'lagSeconds'
>;

export type ToThread =
  | { readonly t: 'drain' }
  | { readonly t: 'leave' }
  | { readonly t: 'reopen-logs' };

const port = parentPort;
const data = workerData as ThreadData;
const post = (m: FromThread) => port?.postMessage(m);

async function main(): Promise<void> {
  const { config, id } = data;
  const log = new Logger({
    level: config.logLevel,
    format: config.logFormat,
    file: config.errorLogfile,
    role: `worker ${id} thread ${threadId}`,
  });
  let server: AppServer | null = null;
  let close: AppCloser | null = null;
  // ELU and event-loop delay are per thread: this thread's loop, not the process's main one.
  const sampler = new ProcessSampler();
  setInterval(() => {
    const { elu, lagSeconds } = sampler.sample();
    const stats = server?.stats ?? EMPTY_STATS;
    post({
      t: 'beat',
      requests: server?.requests ?? 0,
      inFlight: server?.inFlight ?? 0,
      statusClasses: stats.statusClasses,
      latencyCounts: stats.latencyCounts,
      latencySumSeconds: stats.latencySumSeconds,
      elu,
      lagSeconds,
    });
  }, 250).unref();
  try {
    const hooks = await loadHooks(data.configFile);
    // A script's listen() must bind nothing here either; the thread class cannot serve it.
    const intercept = ListenInterceptor.install({ bind: null });
    const app = await loadApp(config.app ?? '', process.cwd()).catch((err) => {
      if (!intercept.primary) throw err;
      throw new AppLoadError(
        `corral: ${config.app} calls listen() (${intercept.asked}): the thread worker class serves exported handlers only; serve this script with the async or sync class`,
      );
    });
    close = app.close;
    server = buildAppServer(config, app.listener, log, {
      hooks,
      worker: { pid: process.pid, id },
      upgrade: app.upgrade,
      tlsFiles: data.tlsFiles,
    });
    for (const plan of data.listen) await server.listen(plan, config.backlog);
  } catch (err) {
    const code = bootExitCode(err);
    post({ t: 'boot-failed', message: (err as Error).message, code });
    return;
  }
  const s = server;
  port?.on('message', (m: ToThread) => {
    if (m.t === 'drain') {
      const deadline = performance.now() + config.gracefulTimeout * 1000;
      s.drain()
        .then(() => closeApp(close, deadline - performance.now(), log))
        .then(() => process.exit(0));
    } else if (m.t === 'leave') s.leave();
    else if (m.t === 'reopen-logs') {
      log.reopen();
      s.reopenLogs();
    }
  });
  post({ t: 'ready' });
}

void main();
