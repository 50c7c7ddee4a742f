/**
 * Worker process entry: wait for the master's boot message, load the app, serve, beat, and
 * drain on request. A worker whose master goes away drains and exits (no orphans).
 */
import type { Socket } from 'node:net';
import { type AppCloser, closeApp } from '../app/close.ts';
import { loadApp } from '../app/load.ts';
import { loadConfigFile } from '../config/file.ts';
import type { Config } from '../config/settings.ts';
import { EXIT } from '../errors.ts';
import { HOOK_NAMES, type Hooks, runHook } from '../hooks.ts';
import { onMasterMessage, sendToMaster, type ToWorker } from '../ipc.ts';
import { Logger } from '../log/logger.ts';
import { EMPTY_STATS, ProcessSampler, type RequestStats } from '../metrics/stats.ts';
import { buildAppServer } from './serve.ts';
import type { AppServer } from './server.ts';
import { ThreadPool } from './thread-pool.ts';

type Boot = Extract<ToWorker, { t: 'boot' }>;

async function workerHooks(file: string | null): Promise<Hooks> {
  if (!file) return {};
  const { values } = await loadConfigFile(file);
  return Object.fromEntries(
    HOOK_NAMES.filter((h) => typeof values[h] === 'function').map((h) => [h, values[h]]),
  );
}

/**
 * Heartbeat interval: twice a second (cheap, and lets the master notice a blocked event loop
 * within about a second), more often for short timeouts.
 */
function beatInterval(config: Config): number {
  return config.timeout > 0 ? Math.min(500, Math.max(100, (config.timeout * 1000) / 4)) : 500;
}

/** What the worker process serves with: its own HTTP server, or (thread class) a thread pool. */
type Serving = Pick<AppServer, 'requests' | 'inFlight' | 'drain' | 'leave' | 'reopenLogs'> & {
  setShare?(limit: number): void;
  readonly stats?: Pick<RequestStats, 'statusClasses' | 'latencyCounts' | 'latencySumSeconds'>;
  /** A thread pool's own event-loop gauges (its threads serve; the main thread only beats). */
  readonly gauges?: { readonly elu: number; readonly lagSeconds: number };
  adopt?(socket: Socket): void;
};

interface State {
  sampler?: ProcessSampler;
  server: Serving | null;
  log: Logger | null;
  hooks: Hooks;
  id: number;
  /** Closes the app once its requests are done (Fastify's close(), a factory's close()). */
  closeApp: AppCloser | null;
  gracefulMs: number;
}

async function boot(msg: Boot, state: State) {
  const started = performance.now();
  const { config, id } = msg;
  state.id = id;
  state.gracefulMs = config.gracefulTimeout * 1000;
  const log = new Logger({
    level: config.logLevel,
    format: config.logFormat,
    file: config.errorLogfile,
    role: `worker ${id}`,
  });
  state.log = log;
  process.title = `corral: worker ${id} [${config.app}]`;
  // Beat from the start: an app whose loading blocks the event loop is caught by --timeout too.
  const sampler = new ProcessSampler();
  state.sampler = sampler;
  setInterval(() => sendBeat(state.server, sampler), beatInterval(config)).unref();
  const me = { pid: process.pid, id };
  const failed = (err: unknown) => {
    const code = (err as { exitCode?: number }).exitCode ?? EXIT.APP_LOAD;
    sendToMaster({ t: 'boot-failed', message: (err as Error).message, code });
    process.exitCode = code;
    process.disconnect?.();
  };
  let app: Awaited<ReturnType<typeof loadApp>>;
  let hooks: Hooks;
  try {
    hooks = await workerHooks(msg.configFile);
    state.hooks = hooks;
    await runHook(hooks, 'postFork', log, me);
    if (config.workerClass === 'thread') {
      // Each thread loads its own copy of the app; this thread only supervises them.
      const pool = new ThreadPool(config, msg.configFile, id, msg.listen, log, msg.tlsFiles);
      await pool.start();
      state.server = pool;
      if (msg.maxRequests > 0) watchMaxRequests(pool, msg.maxRequests, log);
      await runHook(hooks, 'postWorkerInit', log, me);
      sendToMaster({ t: 'ready', bootMs: Math.round(performance.now() - started) });
      return;
    }
    app = await loadApp(config.app ?? '', process.cwd());
    state.closeApp = app.close;
  } catch (err) {
    failed(err);
    return;
  }
  let retired = false;
  const retire = (reason: 'max-requests' | 'request-timeout') => {
    if (retired) return;
    retired = true;
    sendToMaster({ t: 'retire', reason });
    server.leave();
  };
  const server = buildAppServer(config, app.listener, log, {
    hooks,
    worker: me,
    onRequestDone: (n) => {
      if (msg.maxRequests > 0 && n >= msg.maxRequests && !retired) {
        log.info(`served ${n} requests (max-requests ${msg.maxRequests}): asking to be replaced`);
        retire('max-requests');
      }
    },
    // Like Gunicorn's sync timeout: the app may still be running that request, so the worker goes.
    onTimedOut: config.workerClass === 'sync' ? () => retire('request-timeout') : undefined,
    onHandoffClosed: batchClosed(),
    onConnections: config.dispatch === 'shared' ? reportConnections() : undefined,
    upgrade: app.upgrade,
    tlsFiles: msg.tlsFiles,
  });
  state.server = server;
  try {
    for (const plan of msg.listen) await server.listen(plan, config.backlog);
  } catch (err) {
    sendToMaster({
      t: 'boot-failed',
      message: `corral: worker could not listen: ${(err as Error).message}`,
      code: EXIT.WORKER_BOOT,
    });
    process.exit(EXIT.WORKER_BOOT);
  }
  await runHook(hooks, 'postWorkerInit', log, me);
  sendToMaster({ t: 'ready', bootMs: Math.round(performance.now() - started) });
  log.debug(`booted ${app.description} in ${Math.round(performance.now() - started)} ms`);
}

/** Thread class: the count is summed from the threads' beats, so check it on a timer. */
function watchMaxRequests(pool: ThreadPool, limit: number, log: Logger): void {
  const timer = setInterval(() => {
    if (pool.requests < limit) return;
    clearInterval(timer);
    log.info(`served ${pool.requests} requests (max-requests ${limit}): asking to be replaced`);
    sendToMaster({ t: 'retire', reason: 'max-requests' });
    pool.leave();
  }, 250);
  timer.unref();
}

/** Heartbeat with the stats the master keeps (zeros until the server exists). */
function sendBeat(server: Serving | null, sampler: ProcessSampler): void {
  const stats = server?.stats ?? EMPTY_STATS;
  sendToMaster({
    t: 'beat',
    ...sampler.sample(),
    ...server?.gauges,
    requests: server?.requests ?? 0,
    inFlight: server?.inFlight ?? 0,
    statusClasses: stats.statusClasses,
    latencyCounts: stats.latencyCounts,
    latencySumSeconds: stats.latencySumSeconds,
  });
}

/** Report closed handed-off connections, coalescing a burst into one message. */
function batchClosed(): () => void {
  let n = 0;
  const flush = () => {
    sendToMaster({ t: 'closed', n });
    n = 0;
  };
  return () => {
    if (n++ === 0) setImmediate(flush);
  };
}

/**
 * shared dispatch: tell the master how many connections this worker holds, once per event-loop
 * turn at most and only when the count moved by an eighth (at least 1) since the last report:
 * enough for the master's fair share, without a message per connection.
 */
function reportConnections(): (open: number) => void {
  let sent = 0;
  let open = 0;
  let queued = false;
  const flush = () => {
    queued = false;
    if (Math.abs(open - sent) < Math.max(1, sent >> 3)) return;
    sent = open;
    sendToMaster({ t: 'conns', n: open });
  };
  return (n) => {
    open = n;
    if (queued) return;
    queued = true;
    setImmediate(flush);
  };
}

function main(): void {
  const state: State = {
    server: null,
    log: null,
    hooks: {},
    id: 0,
    closeApp: null,
    gracefulMs: 0,
  };
  const pendingConns: Socket[] = [];
  const drainAndExit = (why: string) => {
    state.log?.debug(`draining: ${why}`);
    const server = state.server;
    if (!server) process.exit(0);
    const started = Date.now();
    // A fresh count for the master, so a kill at the graceful timeout says what it cut.
    if (state.sampler) sendBeat(server, state.sampler);
    server.drain().then(async () => {
      // After the last request (they may still need the pools it closes), within what is left
      // of --graceful-timeout: the master kills the worker at its end anyway.
      if (state.log) {
        const left = state.gracefulMs - (Date.now() - started);
        await closeApp(state.closeApp, left, state.log);
        await runHook(state.hooks, 'workerExit', state.log, { pid: process.pid, id: state.id });
      }
      process.exit(0);
    });
  };
  const quit = async () => {
    if (state.log)
      await runHook(state.hooks, 'workerInt', state.log, { pid: process.pid, id: state.id });
    process.exit(0);
  };
  // A thread pool takes no handed-off connections (its threads accept for themselves).
  const adopt = (socket: Socket) =>
    state.server?.adopt ? state.server.adopt(socket) : socket.destroy();
  onMasterMessage({
    boot: (msg) => {
      boot(msg, state).then(
        () => {
          for (const s of pendingConns.splice(0)) adopt(s);
        },
        (err) => {
          sendToMaster({
            t: 'boot-failed',
            message: String(err?.stack ?? err),
            code: EXIT.WORKER_BOOT,
          });
          process.exit(EXIT.WORKER_BOOT);
        },
      );
    },
    conn: (_msg, socket) => {
      if (!socket) return;
      if (state.server) adopt(socket);
      else pendingConns.push(socket);
    },
    share: (msg) => state.server?.setShare?.(msg.limit),
    drain: () => drainAndExit('asked by master'),
    metrics: (m) => {
      import('./metrics.ts')
        .then((x) => x.collectMetrics())
        .then(
          (r) => sendToMaster({ t: 'metrics', seq: m.seq, ...r }),
          (err) => state.log?.error(`metrics: ${(err as Error)?.stack ?? err}`),
        );
    },
    'reopen-logs': () => {
      state.log?.reopen();
      state.server?.reopenLogs();
      state.log?.debug('log files reopened');
    },
  });
  // The master is gone: finish what we have and leave; never linger as an orphan.
  process.on('disconnect', () => {
    drainAndExit('master went away');
    setTimeout(() => process.exit(0), 5000).unref();
  });
  process.on('SIGTERM', () => drainAndExit('SIGTERM'));
  // Quick stop. Ctrl+C reaches the whole process group; the master coordinates the rest.
  process.on('SIGINT', quit);
  process.on('SIGQUIT', quit);
  // A terminal hangup is the master's business (reload), not the worker's.
  process.on('SIGHUP', () => {});
  process.on('uncaughtException', (err) => {
    state.log?.critical(`uncaught exception, worker exits: ${err.stack ?? err}`);
    process.exit(1);
  });
  process.on('unhandledRejection', (err) => {
    state.log?.error(
      `unhandled promise rejection (worker keeps serving): ${(err as Error)?.stack ?? err}`,
    );
  });
}

main();
