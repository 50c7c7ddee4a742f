/** `corral [serve] APP`: resolve, bind, then run the master (or the single process). */
import { enableCompileCache } from 'node:module';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAppSpec } from '../app/spec.ts';
import { applyEnvFiles } from '../config/env-file.ts';
import type { Resolved } from '../config/resolve.ts';
import { loadWire, readTlsFiles } from '../config/tls.ts';
import { AppLoadError, CorralError, EXIT, UsageError } from '../errors.ts';
import { existsSync } from '../fs.ts';
import { runHook } from '../hooks.ts';
import { Logger } from '../log/logger.ts';
import { chooseBinds, clearActivation, socketActivation } from '../master/activation.ts';
import { serveControl } from '../master/control.ts';
import { changesIdentity, dropPrivileges, giveFile, resolveIdentity } from '../master/identity.ts';
import { bindAll, parseBind } from '../master/listeners.ts';
import { Master } from '../master/master.ts';
import { SystemdNotify } from '../master/notify.ts';
import { PidFile } from '../master/pidfile.ts';
import { INHERIT_ENV, inheritedFds } from '../master/reexec.ts';
import { envPairs } from '../master/spawn.ts';
import { ChangeWatcher } from '../master/watch.ts';
import { sizeForConfig } from '../sizing/workers.ts';
import { VERSION } from '../version.ts';
import { enterChdir } from './chdir.ts';

/** Checks that need no app code: the app is named and its file exists. */
export function checkAppFile(r: Resolved): string {
  const spec = r.config.app;
  if (!spec)
    throw new UsageError(
      'corral: no app given (usage: corral APP, e.g. corral app.ts; see corral --help)',
    );
  const file = parseAppSpec(spec).file;
  if (!existsSync(resolve(file))) {
    throw new AppLoadError(`corral: app file not found: ${file} (looked for ${resolve(file)})`);
  }
  return spec;
}

const CLI = new URL(`../cli${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);

/** --preload: `corral check APP` in a child process; its one line, or its error as ours. */
async function preloadCheck(r: Resolved, spec: string): Promise<string> {
  const { execFile } = await import('node:child_process');
  const argv = [
    ...process.execArgv,
    fileURLToPath(CLI),
    'check',
    spec,
    '--boot-timeout',
    String(r.config.bootTimeout),
    ...(r.file ? ['-c', r.file] : []),
    ...(r.config.args.length ? ['--', ...r.config.args] : []),
  ];
  return new Promise((done, fail) => {
    execFile(process.execPath, argv, { env: process.env }, (err, stdout, stderr) => {
      if (!err) done(stdout.trim().replace(/^ok: /, ''));
      else {
        const code = typeof err.code === 'number' ? err.code : EXIT.APP_LOAD;
        fail(new CorralError(stderr.trim() || err.message, code));
      }
    });
  });
}

/** Node's compile cache, shared by the master and its workers (--preload fills it). */
function compileCacheEnv(log: Logger): Record<string, string> {
  const { status, directory } = enableCompileCache();
  if (!directory) return {};
  log.debug(`compile cache: ${directory} (${status})`);
  return { NODE_COMPILE_CACHE: directory };
}

/** After a save, editors and builds write several files within a few ms: one reload for all. */
const RELOAD_DEBOUNCE_MS = 200;

/** --reload: roll the workers when the app's sources, the config file or extra files change. */
function watchForReload(r: Resolved, spec: string, master: Master, log: Logger): ChangeWatcher {
  const appDir = dirname(resolve(parseAppSpec(spec).file));
  const show = (path: string) => {
    const rel = relative(process.cwd(), path);
    return rel.startsWith('..') ? path : rel || '.';
  };
  const watcher = new ChangeWatcher({
    trees: [appDir],
    extra: [...r.config.reloadExtraFiles, ...(r.file ? [r.file] : [])],
    debounceMs: RELOAD_DEBOUNCE_MS,
    onChange: (paths) => {
      const shown = paths.slice(0, 3).map(show);
      const more = paths.length > 3 ? ` and ${paths.length - 3} more` : '';
      log.info(`reload: ${shown.join(', ')}${more} changed`);
      master.request('reload');
    },
    onError: (message) => log.warning(message),
  });
  log.info(`reload: watching ${show(appDir)} (${watcher.directories} directories) for changes`);
  return watcher;
}

/**
 * With --dispatch reuseport and the thread class each worker binds its own socket, as the
 * --user: a port below 1024 would fail in every worker. Say so once, before starting any.
 */
function refuseWorkerBindsBelow1024(
  c: Resolved['config'],
  binds: readonly string[],
  who: string,
): void {
  if (c.dispatch !== 'reuseport' && c.workerClass !== 'thread') return;
  const low = binds.map(parseBind).find((a) => a.kind === 'tcp' && a.port > 0 && a.port < 1024);
  if (!low) return;
  throw new UsageError(
    `corral: cannot serve ${low.spec} with --user: with ${c.workerClass === 'thread' ? 'workerClass thread' : '--dispatch reuseport'} each worker binds the port itself, as ${who}, and ports below 1024 need root; use --dispatch least-conn or shared (the master binds), or socket activation`,
  );
}

/**
 * serve() from code: the master runs inside the caller's process. It leaves the process's
 * signals, title, systemd and inherited sockets alone, and reports instead of exiting.
 */
export interface Embedding {
  /** The master is built and about to run: serve() keeps it to stop it and to read its state. */
  started(master: Master): void;
  /** Every worker is ready for the first time. */
  ready(): void;
}

const NO_ENV: Readonly<Record<string, string | undefined>> = {};

export async function serve(
  r: Resolved,
  reresolve: () => Promise<Resolved>,
  embed: Embedding | null = null,
): Promise<number> {
  const c = r.config;
  // Files named on the command line were read before the settings; this adds a config file's
  // (and serve()'s), never replacing a variable already set, as process.loadEnvFile does.
  if (c.envFile.length) applyEnvFiles(c.envFile, process.env, process.cwd());
  enterChdir(r);
  // Embedded, -e reaches the workers (spawn adds it) and the probe, not the caller's process.
  if (!embed) Object.assign(process.env, envPairs(c));
  const appEnv = embed ? { ...process.env, ...envPairs(c) } : process.env;
  // Before any file is created (log files, sockets, the pid file); workers inherit it.
  if (c.umask !== null) process.umask(c.umask);
  const log = new Logger({
    level: c.logLevel,
    file: c.errorLogfile,
    role: 'master',
    format: c.logFormat,
  });
  if (!embed) process.title = `corral: master [${c.app}]`;
  const spec = checkAppFile(r);
  const identity = resolveIdentity(r);
  const owner = changesIdentity(identity) ? identity : null;
  const notify = embed ? null : SystemdNotify.fromEnv(process.env, log);
  // Certificates unreadable or broken: one line now, not a crash loop of workers later.
  loadWire(c);
  // chdir and -e are applied above, so the probe (if sizing needs one) sees what workers will.
  const sizing = await sizeForConfig(c, { cwd: process.cwd(), env: appEnv });
  const { count, why } = sizing;
  if (embed && count === 0) {
    throw new UsageError(
      'corral: serve() runs worker processes; workers 0 (single process) would serve inside this process: give workers ≥ 1, or run corral -w 0',
    );
  }
  if (c.reload && count === 0) {
    throw new UsageError(
      'corral: --reload needs worker processes: it rolls them on change, and a single process (-w 0) cannot load new code into itself',
    );
  }
  if (!c.reload && c.reloadExtraFiles.length) {
    log.warning('reload-extra-files is set but --reload is not: nothing is watched');
  }
  // Sockets handed over (USR2, systemd): read once, then removed so workers never see them.
  // Embedded, they are the caller's business.
  const inherited = inheritedFds(embed ? NO_ENV : process.env);
  if (!embed) delete process.env[INHERIT_ENV];
  const activation = socketActivation(embed ? NO_ENV : process.env, process.pid);
  if (!embed) clearActivation(process.env);
  if (activation.ignored) log.warning(activation.ignored);
  const { binds, origin } = chooseBinds({
    configured: c.bind,
    explicit: r.sources.bind.kind !== 'default',
    activated: activation.fds,
    inherited: [...inherited.keys()],
  });
  if (
    c.workerClass === 'thread' &&
    activation.fds.length &&
    binds.some((b) => b.startsWith('fd://'))
  ) {
    throw new UsageError(
      'corral: workerClass thread needs TCP binds (each thread binds its own SO_REUSEPORT socket); it cannot serve sockets passed by systemd',
    );
  }
  await runHook(r.hooks, 'onStarting', log, { pid: process.pid, workers: count, binds });
  // Workers boot from Node's compile cache: measured 130 → 67 ms from fork to ready.
  // (Embedded, the caller's process and environment are left as they are.)
  if (!embed) Object.assign(process.env, compileCacheEnv(log));
  if (c.preload && count > 0) {
    // Node has no copy-on-write fork: loading here shares no memory with workers. It proves
    // the app loads before any worker starts, and fills the compile cache workers boot from.
    // In a child (`corral check`): a script runs its code, which must not run in the master.
    log.info(`preload: ${await preloadCheck(r, spec)}`);
  }
  if (owner && count > 0) refuseWorkerBindsBelow1024(c, binds, owner.label);
  const listeners = await bindAll(
    binds,
    c.backlog,
    count === 0 ? 'single' : c.dispatch,
    inherited,
    {
      reusePort: c.reusePort,
      owner,
    },
  );
  log.info(`Starting corral ${VERSION} (Node ${process.version})`);
  for (const l of listeners) {
    const how = origin.get(l.address.spec);
    // The workers speak TLS on every TCP bind when a certificate is set.
    const url = c.certfile ? l.url.replace(/^http:/, 'https:') : l.url;
    log.info(`Listening at: ${url} (${process.pid})${how ? ` (${how})` : ''}`);
  }
  log.info(`App: ${spec}`);
  for (const notice of r.notices) log.info(notice);
  if (count === 0 && c.workerClass === 'sync') {
    log.warning('single-process mode serves requests concurrently: workerClass sync needs workers');
  }
  log.info(
    count === 0
      ? `Single process: ${why}`
      : `Workers: ${count} (${why}); class ${c.workerClass}; dispatch ${c.dispatch}`,
  );
  const pidFile = new PidFile(c.pid);
  pidFile.write();
  if (owner) {
    // Workers open (and after rotation reopen) the log files themselves, as that user.
    giveFile(c.accessLogfile, owner);
    giveFile(c.errorLogfile, owner);
    log.info(`${count === 0 ? 'Serving' : 'Workers run'} as ${owner.label}`);
  }
  const reload = async () => {
    const resolved = await reresolve();
    // Renewed certificates that do not load: the reload fails and the old workers keep serving.
    loadWire(resolved.config);
    const sized = await sizeForConfig(resolved.config, { cwd: process.cwd(), env: process.env });
    return { resolved, count: sized.count, adaptive: sized.adaptive ?? null };
  };
  const closers: { close(): void }[] = [];
  try {
    if (count === 0) {
      // The master serves only in single-process mode; otherwise it never loads the HTTP server.
      const { runSingle } = await import('../master/single.ts');
      // Bound as root; the app is loaded and served as the user.
      // The certificate and key too are read as root, before the drop.
      const tlsFiles = readTlsFiles(c);
      if (owner) dropPrivileges(owner);
      return await runSingle(r, listeners, log, notify, tlsFiles);
    }
    const adaptive = sizing.adaptive ?? null;
    const master = new Master({
      resolved: r,
      listeners,
      count,
      log,
      pidFile,
      reload,
      adaptive,
      identity: owner,
      notify,
      signals: !embed,
      onReady: embed?.ready,
    });
    embed?.started(master);
    if (c.metricsBind) {
      // The /metrics server (node:http, the exposition writer) is ~2 MiB of master RSS:
      // loaded only when metrics are served.
      const { serveMetrics } = await import('../metrics/http.ts');
      const metrics = await serveMetrics(
        c.metricsBind,
        () => master.status(),
        () => master.workerMetrics(),
      );
      closers.push(metrics);
      const at = metrics.address();
      const where = typeof at === 'string' ? `unix:${at}` : `http://${at?.address}:${at?.port}`;
      log.info(`Metrics at: ${where} (/metrics, /healthz, /readyz)`);
    }
    if (c.controlSocket) {
      closers.push(await serveControl(c.controlSocket, master));
      log.info(
        `Control socket: ${c.controlSocket} (corral ctl --socket ${c.controlSocket} status)`,
      );
    }
    if (c.reload) closers.push(watchForReload(r, spec, master, log));
    return await master.run();
  } finally {
    for (const x of closers) x.close();
    pidFile.remove();
    log.info('Shutting down: master');
  }
}
