/**
 * Worker process entry: wait for the master's boot message, load the app, serve, beat, and
 * drain on request. A worker whose master goes away drains and exits (no orphans).
 */
import { Socket } from 'node:net';
import { closeApp } from '../app/close.ts';
import { loadFailure } from '../app/load.ts';
import { parseAppSpec } from '../app/spec.ts';
import type { Config } from '../config/settings.ts';
import { bootExitCode, EXIT } from '../errors.ts';
import { type Hooks, loadHooks, runHook } from '../hooks.ts';
import { type FromWorker, onMasterMessage, sendToMaster, type ToWorker } from '../ipc.ts';
import { Logger } from '../log/logger.ts';
import { EMPTY_STATS, ProcessSampler, type RequestStats } from '../metrics/stats.ts';
import { type Serving as App, anchorPaths, decideUpgrades, loadServing } from './app-mode.ts';
import { APP_SIGNALS, AppSignals } from './app-signals.ts';
import { exitWhenIdle } from './exit.ts';
import { offerInspectPort } from './inspect-port.ts';
import { memoryGuard, overMemoryNote } from './memory-guard.ts';
import { buildAppServer } from './serve.ts';
import type { AppServer } from './server.ts';
import { ThreadPool } from './thread-pool.ts';

type Boot = Extract<ToWorker, { t: 'boot' }>;

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
  gracefulMs: number;
  /** What the worker serves, once loaded (listen mode: the app's servers, closed on drain). */
  app: App | null;
  /** The app's SIGTERM/SIGINT/SIGQUIT listeners, run after the drain. */
  signals: AppSignals | null;
  /** The app file is running its top-level code (a throw there is a load failure). */
  loading: string | null;
  /** Start draining (set by main()). */
  drain?: (why: string) => void;
}

/** A reload's canary beats every CANARY_BEAT_MS during its window, so it is judged quickly. */
const CANARY_BEAT_MS = 50;

async function boot(msg: Boot, state: State) {
  const started = performance.now();
  const { id } = msg;
  const config = anchorPaths(msg.config);
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
  const beat = () => sendBeat(state.server, sampler);
  setInterval(beat, beatInterval(config)).unref();
  void offerInspectPort(config);
  const ready = () => {
    sendToMaster({ t: 'ready', bootMs: Math.round(performance.now() - started) });
    if (msg.canaryMs > 0) {
      const fast = setInterval(beat, CANARY_BEAT_MS).unref();
      setTimeout(() => clearInterval(fast), msg.canaryMs + 1000).unref();
    }
  };
  const me = { pid: process.pid, id };
  let app: App;
  let hooks: Hooks;
  try {
    hooks = await loadHooks(msg.configFile);
    state.hooks = hooks;
    await runHook(hooks, 'postFork', log, me);
    if (config.workerClass === 'thread') {
      // Each thread loads its own copy of the app; this thread only supervises them.
      const pool = new ThreadPool(config, msg.configFile, id, msg.listen, log, msg.tlsFiles);
      await pool.start();
      state.server = pool;
      if (msg.maxRequests > 0) watchMaxRequests(pool, msg.maxRequests, log);
      await runHook(hooks, 'postWorkerInit', log, me);
      ready();
      return;
    }
    state.loading = config.app ?? '';
    app = await loadServing({
      spec: config.app ?? '',
      args: config.args,
      bind: msg.bind,
      log,
      onWaiting: (why) => {
        log.debug(`waiting: ${why}`);
        sendToMaster({ t: 'waiting', why });
      },
      onAppClose: () => {
        sendToMaster({ t: 'leaving', why: 'the app closed its server' });
        state.drain?.('the app closed its server');
      },
    });
    state.loading = null;
    state.app = app;
  } catch (err) {
    bootFailed(err);
    return;
  }
  let retired = false;
  const retire = (reason: 'max-requests' | 'request-timeout' | 'memory') => {
    if (retired) return;
    retired = true;
    sendToMaster({ t: 'retire', reason });
    // At its memory limit it takes no new connections (they wait for the replacement).
    server.leave(reason === 'memory');
  };
  const overMemory = config.maxWorkerMemory > 0 ? memoryGuard(config.maxWorkerMemory) : null;
  const server = buildAppServer(config, app.listener, log, {
    hooks,
    worker: me,
    // Nothing runs after each request unless a limit needs counting.
    onRequestDone:
      msg.maxRequests > 0 || overMemory
        ? (n) => {
            if (msg.maxRequests > 0 && n >= msg.maxRequests && !retired) {
              log.info(
                `served ${n} requests (max-requests ${msg.maxRequests}): asking to be replaced`,
              );
              retire('max-requests');
            }
            const rss = overMemory?.(n);
            if (rss && !retired) {
              log.warning(`${overMemoryNote(rss, config.maxWorkerMemory)}: asking to be replaced`);
              retire('memory');
            }
          }
        : undefined,
    // Like Gunicorn's sync timeout: the app may still be running that request, so the worker goes.
    onTimedOut: config.workerClass === 'sync' ? () => retire('request-timeout') : undefined,
    onHandoffClosed: batchClosed(),
    // least-conn: the master counts what it hands over. Otherwise the worker says (reuseport:
    // for ctl status, top and /metrics only; shared: for the fair shares too).
    onConnections: config.dispatch === 'least-conn' ? undefined : reportConnections(),
    upgrade: app.upgrade,
    tlsFiles: msg.tlsFiles,
  });
  state.server = server;
  decideUpgrades(app, server.http);
  try {
    for (const plan of msg.listen) await server.listen(plan, config.backlog);
  } catch (err) {
    sendToMaster({
      t: 'boot-failed',
      message: `corral: worker could not listen: ${(err as Error).message}`,
      code: EXIT.WORKER_BOOT,
    });
    exit(EXIT.WORKER_BOOT);
  }
  if (app.listening) {
    // As after a real bind: the app's 'listening' listeners (Next.js initialises in one) and
    // its listen callback have run before the first request arrives.
    await new Promise((r) => setImmediate(r));
    const kind = app.description;
    if (/https|Secure/.test(kind) && !config.certfile) {
      log.warning(
        `the app's server is ${kind.match(/\((\S+)/)?.[1]}: corral serves it on its binds over cleartext HTTP; set --certfile and --keyfile for TLS (corral terminates it)`,
      );
    }
  }
  await runHook(hooks, 'postWorkerInit', log, me);
  ready();
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
 * shared and reuseport dispatch: tell the master how many connections this worker holds when
 * the count moved by an eighth (at least 1) since the last report, or at all once it stopped
 * accepting at its share: at the end of the event-loop turn while the share binds (a few
 * long-lived clients spread evenly need every step), else at most every REPORT_EVERY_MS (under
 * connection churn the count moves all the time, and nobody waits: each IPC message costs the
 * master and the workers tens of µs, measured as 2 µs of master CPU per request at 10 ms).
 */
const REPORT_EVERY_MS = 250;

function reportConnections(): (open: number, steered: boolean, held: boolean) => void {
  let sent = 0;
  let open = 0;
  let lastAt = 0;
  let exact = false;
  let queued: NodeJS.Immediate | NodeJS.Timeout | null = null;
  const flush = () => {
    queued = null;
    if (!(exact && open !== sent) && Math.abs(open - sent) < Math.max(1, sent >> 3)) return;
    exact = false;
    sent = open;
    lastAt = performance.now();
    sendToMaster({ t: 'conns', n: open });
  };
  return (n, steered, held) => {
    open = n;
    // Held at its share: the master raises shares from exact counts, so report any move.
    if (held) exact = true;
    if (queued) return;
    const wait = steered ? 0 : lastAt + REPORT_EVERY_MS - performance.now();
    queued = wait <= 0 ? setImmediate(flush) : setTimeout(flush, wait);
  };
}

/** process.exit as corral calls it (the app's own calls wait while the worker drains). */
const exit = process.exit.bind(process) as (code?: number) => never;

/** A load failure: tell the master, and leave (an app's open handles do not keep us). */
function bootFailed(err: unknown): void {
  const code = bootExitCode(err);
  const msg: FromWorker = { t: 'boot-failed', message: (err as Error).message, code };
  const done = () => exit(code);
  // Exit once the message is written (not by disconnecting: that reads as a master gone).
  if (process.connected && process.send) process.send(msg, undefined, {}, done);
  else done();
  setTimeout(done, 1000).unref();
}

/**
 * After the drain, how long the app's own clean-up (its SIGTERM listeners, close callbacks)
 * may take at most, within what is left of --graceful-timeout.
 */
const APP_CLEANUP_MS = 5000;

function main(): void {
  // What a preload (--import, --require) put on the app signals is the app's too: it runs
  // after the drain, not when the signal arrives. OpenTelemetry's SDK shuts down on SIGTERM;
  // at the signal it would drop the spans of the requests still in flight.
  const preloaded = APP_SIGNALS.flatMap((sig) =>
    process.listeners(sig).map((fn) => [sig, fn] as const),
  );
  for (const [sig, fn] of preloaded) process.removeListener(sig, fn);
  const state: State = {
    server: null,
    log: null,
    hooks: {},
    id: 0,
    gracefulMs: 0,
    app: null,
    signals: null,
    loading: null,
  };
  const pendingConns: Socket[] = [];
  let draining = false;
  let drained = false;
  /** The app called process.exit(code) while draining: exit with it once drained. */
  let appExit: number | undefined;
  // Not process.exit() at once: the loop ends first, so 'beforeExit' listeners (OpenTelemetry's
  // SDK) flush (worker/exit.ts).
  let leaving = false;
  const leave = (code = 0) => {
    if (leaving) return;
    leaving = true;
    if (state.log)
      void runHook(state.hooks, 'workerExit', state.log, { pid: process.pid, id: state.id }).then(
        () => exitWhenIdle(appExit ?? code, exit),
      );
    else exitWhenIdle(appExit ?? code, exit);
  };
  /**
   * Drained: the app is closed (Fastify's close(), a factory's), a listen-mode app's servers
   * close and its SIGTERM listeners run; then the worker exits.
   */
  const afterDrain = async (deadline: number) => {
    drained = true;
    // The last counts, so /metrics has every request this worker served.
    if (state.sampler) sendBeat(state.server, state.sampler);
    // After the last request (they may still need the pools it closes), within what is left
    // of --graceful-timeout: the master kills the worker at its end anyway.
    if (state.log) {
      await closeApp(state.app?.close ?? null, deadline - performance.now(), state.log);
    }
    // The app's SIGTERM listeners first, while its server still looks open (they close it
    // themselves), then whatever it left open is closed.
    state.app?.listening?.markDrained();
    const ran =
      state.signals?.run('SIGTERM', (err) =>
        state.log?.error(`the app's SIGTERM listener threw: ${(err as Error)?.stack ?? err}`),
      ) ?? 0;
    const closing = state.app?.listening?.closeAll() ?? 0;
    if (appExit !== undefined || (ran === 0 && closing === 0)) {
      leave();
      return;
    }
    // The app cleans up (its close() callbacks, its SIGTERM listeners: closing a database
    // pool, then often exiting itself): the worker leaves when the app exits, when nothing
    // of it is left running, or at this timer.
    state.log?.debug(
      `drained: the app has ${closing} close listener(s) and ran ${ran} SIGTERM listener(s)`,
    );
    process.channel?.unref();
    // The app's clean-up done and nothing of it left running: leave as usual (the workerExit
    // hook, then exit), rather than end without the hook.
    process.once('beforeExit', () => leave());
    const left = deadline - performance.now();
    setTimeout(() => leave(), Math.max(0, Math.min(APP_CLEANUP_MS, left))).unref();
  };
  const drainAndExit = (why: string) => {
    if (drained) {
      leave();
      return;
    }
    if (draining) return;
    draining = true;
    state.log?.debug(`draining: ${why}`);
    const server = state.server;
    // The end of --graceful-timeout, on the monotonic clock.
    const deadline = performance.now() + state.gracefulMs;
    if (!server) {
      void afterDrain(deadline);
      return;
    }
    // A fresh count for the master, so a kill at the graceful timeout says what it cut.
    if (state.sampler) sendBeat(server, state.sampler);
    server.drain().then(() => afterDrain(deadline));
  };
  state.drain = drainAndExit;
  const quit = async () => {
    if (state.log)
      await runHook(state.hooks, 'workerInt', state.log, { pid: process.pid, id: state.id });
    exit(0);
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
          exit(EXIT.WORKER_BOOT);
        },
      );
    },
    conn: (_msg, handle) => {
      if (!handle) return;
      // The master sends the accepted handle itself (as node:cluster's round-robin does).
      const socket =
        handle instanceof Socket
          ? handle
          : new Socket({ handle, readable: true, writable: true } as ConstructorParameters<
              typeof Socket
            >[0]);
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
  // The master is gone: stop taking connections at once, finish what we have (up to
  // --graceful-timeout) and leave; never linger as an orphan.
  process.on('disconnect', () => {
    if (drained) return;
    state.log?.warning(
      `the master went away: finishing ${state.server?.inFlight ?? 0} request(s) in flight, then exiting`,
    );
    drainAndExit('master went away');
    setTimeout(() => exit(0), state.gracefulMs || 30_000).unref();
  });
  process.on('SIGTERM', () => drainAndExit('SIGTERM'));
  // Quick stop. Ctrl+C reaches the whole process group; the master coordinates the rest.
  process.on('SIGINT', quit);
  process.on('SIGQUIT', quit);
  // A terminal hangup is the master's business (reload), not the worker's.
  process.on('SIGHUP', () => {});
  /** While the app's code loads, what it throws or rejects is its load failure. */
  const loadFailed = (err: unknown): boolean => {
    if (state.loading === null) return false;
    bootFailed(loadFailure(parseAppSpec(state.loading).file, err));
    return true;
  };
  process.on('uncaughtException', (err) => {
    // The app's top-level code threw (an ES module's error arrives here too).
    if (loadFailed(err)) return;
    state.log?.critical(`uncaught exception, worker exits: ${err.stack ?? err}`);
    exit(1);
  });
  process.on('unhandledRejection', (err) => {
    // While it loads, a script's failed start-up (an async main() that threw) is a boot
    // failure, as under `node FILE`; once serving, one bad request must not end the worker.
    if (loadFailed(err)) return;
    state.log?.error(
      `unhandled promise rejection (worker keeps serving): ${(err as Error)?.stack ?? err}`,
    );
  });
  // From here on, the app's listeners for these signals run after the drain, and its
  // process.exit() waits for the drain (app-signals.ts).
  state.signals = AppSignals.install();
  for (const [sig, fn] of preloaded) process.on(sig, fn);
  process.exit = ((code?: number) => {
    if (draining && !drained) {
      appExit = typeof code === 'number' ? code : (process.exitCode as number | undefined);
      state.log?.debug(`the app called process.exit(${code ?? ''}): leaving once drained`);
      return undefined as never;
    }
    return exit(code);
  }) as typeof process.exit;
}

main();
