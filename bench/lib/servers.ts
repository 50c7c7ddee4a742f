/**
 * The servers a bench compares: corral in each class and dispatch mode, and what users run
 * instead (one plain Node process, node:cluster in both policies, a reusePort socket per
 * process, PM2 cluster mode, Platformatic Watt). Each starts on a loopback port, says which
 * of its processes is which, and stops with everything it started.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { processTree } from './proc.ts';

const run = promisify(execFile);
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const here = (p: string) => new URL(`../${p}`, import.meta.url).pathname;

export type Role = 'master' | 'worker' | 'process' | 'daemon';

export interface Running {
  /** Every process of the server now, with its role (a PM2 daemon included). */
  processes(): { pid: number; role: Role }[];
  /** What the server wrote to stderr (corral's log), the last 32 KiB or so. */
  log?(): string;
  stop(): Promise<void>;
}

export interface StartOptions {
  readonly port: number;
  readonly workers: number;
  /** Absolute path of the app module (a listener, or a fetch handler for corral). */
  readonly app: string;
  /** How to run corral: [script] or [script, ...] run by this Node. */
  readonly corral: readonly string[];
  /** Wait a moment after the first answer so every worker is listening (default true). */
  readonly settle?: boolean;
  /** Servers started and not yet stopped, for the bench to stop on Ctrl+C or SIGTERM. */
  readonly live?: Set<Running>;
}

export interface Target {
  /** Stable key, used in JSON results and on the command line (--targets). */
  readonly id: string;
  readonly label: (workers: number) => string;
  readonly kind: 'corral' | 'baseline';
  /** One process whatever the worker count (run once per round, not per count). */
  readonly single?: boolean;
  /** Serves fetch-handler apps (corral only); the others serve the listener twin. */
  readonly fetch?: boolean;
  start(o: StartOptions): Promise<Running>;
}

/** GET / until it answers 200, up to `ms`. */
export async function waitHttp(port: number, ms = 20000): Promise<void> {
  const t0 = Date.now();
  while (Date.now() - t0 < ms) {
    const ok = await new Promise<boolean>((done) => {
      const req = request({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
        res.resume();
        done(res.statusCode === 200);
      });
      req.on('error', () => done(false));
      req.setTimeout(1000, () => req.destroy());
      req.end();
    });
    if (ok) return;
    await sleep(50);
  }
  throw new Error(`nothing answered on 127.0.0.1:${port} within ${ms} ms`);
}

/** Until the port refuses connections (the previous server is gone). */
export async function waitClosed(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const open = await new Promise<boolean>((done) => {
      const req = request({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
        res.resume();
        done(true);
      });
      req.on('error', () => done(false));
      req.end();
    });
    if (!open) return;
    await sleep(100);
  }
}

/** SIGTERM, SIGKILL after 10 s, resolved once `exited` (the child's 'exit') has come. */
export async function stopChild(p: ChildProcess, exited: Promise<void>): Promise<void> {
  if (p.exitCode === null && p.signalCode === null) p.kill('SIGTERM');
  const t = setTimeout(() => p.kill('SIGKILL'), 10000);
  await exited;
  clearTimeout(t);
}

/** A server that is one child of ours (and its descendants). */
function child(
  args: string[],
  env: Record<string, string>,
  ready: (p: ChildProcess, out: () => string) => Promise<void>,
  roles: (root: number, pids: number[]) => { pid: number; role: Role }[],
  live: Set<Running> | undefined,
): Promise<Running> {
  const p = spawn(process.execPath, args, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  p.stderr?.on('data', (d) => {
    err += d;
    if (err.length > 1 << 16) err = err.slice(-(1 << 15));
  });
  const exited = new Promise<void>((done) => p.once('exit', () => done()));
  const running: Running = {
    processes: () => roles(p.pid as number, processTree(p.pid as number)),
    log: () => err,
    async stop() {
      await stopChild(p, exited);
      live?.delete(running);
    },
  };
  live?.add(running);
  return Promise.race([
    ready(p, () => err).then(() => running),
    exited.then(() => {
      throw new Error(`${args.join(' ')} exited early:\n${err.slice(-2000)}`);
    }),
  ]);
}

const rootIs =
  (root: Role, rest: Role) =>
  (pid: number, pids: number[]): { pid: number; role: Role }[] =>
    pids.map((p) => ({ pid: p, role: p === pid ? root : rest }));

function baseline(
  id: string,
  label: Target['label'],
  script: string,
  env: Record<string, string> = {},
  single = false,
): Target {
  return {
    id,
    label,
    kind: 'baseline',
    single,
    start: (o) =>
      child(
        [here(script)],
        { ...env, PORT: String(o.port), WORKERS: String(o.workers), APP: o.app },
        async (p) => {
          await waitHttp(o.port);
          // Every worker started, not just the first to answer; then time to listen.
          const want = single ? 1 : o.workers + 1;
          for (let i = 0; i < 200 && processTree(p.pid as number).length < want; i++) {
            await sleep(50);
          }
          if (o.settle !== false) await sleep(single ? 200 : 800);
        },
        single ? rootIs('process', 'process') : rootIs('master', 'worker'),
        o.live,
      ),
  };
}

function corral(
  id: string,
  label: Target['label'],
  extra: (w: number) => string[],
  fetch = false,
  command?: readonly string[],
): Target {
  return {
    id,
    label,
    kind: 'corral',
    fetch,
    start: (o) => {
      const args = [
        ...(command ?? o.corral),
        o.app,
        '-b',
        `127.0.0.1:${o.port}`,
        '--log-level',
        'info',
        ...extra(o.workers),
      ];
      return child(
        args,
        {},
        async (_p, out) => {
          // corral says when every worker is ready.
          for (let i = 0; i < 600 && !/\] ready: /.test(out()); i++) await sleep(25);
          await waitHttp(o.port);
        },
        rootIs('master', 'worker'),
        o.live,
      );
    },
  };
}

/** PM2 cluster mode, run by this Node with its own PM2_HOME (no user daemon is touched). */
function pm2(): Target {
  return {
    id: 'pm2',
    label: (w) => `PM2 cluster mode, ${w} instances`,
    kind: 'baseline',
    async start(o) {
      // The devDependency, or a PM2 installed beside the bench for a machine without
      // node_modules (see docs/benchmarks.md), or $PM2_BIN.
      const bin = [
        process.env.PM2_BIN,
        here('../node_modules/pm2/bin/pm2'),
        here('.deps/node_modules/pm2/bin/pm2'),
      ].find((b): b is string => !!b && existsSync(b));
      if (!bin) {
        throw new Error(
          'PM2 is not installed (npm install, or npm install --prefix bench/.deps pm2@7)',
        );
      }
      const home = mkdtempSync(join(tmpdir(), 'corral-bench-pm2-'));
      const env = { ...process.env, PM2_HOME: home, PORT: String(o.port), APP: o.app };
      const pm2 = (...args: string[]) => run(process.execPath, [bin, ...args], { env });
      await pm2(
        'start',
        here('baselines/single.mjs'),
        '-i',
        String(o.workers),
        '--interpreter',
        process.execPath,
        '--name',
        'bench',
      );
      await waitHttp(o.port);
      if (o.settle !== false) await sleep(800);
      const daemon = Number(readFileSync(join(home, 'pm2.pid'), 'utf8'));
      const running: Running = {
        processes: () => {
          const tree = processTree(daemon);
          return tree.map((pid) => ({ pid, role: pid === daemon ? 'daemon' : 'worker' }));
        },
        async stop() {
          await pm2('kill').catch(() => {});
          rmSync(home, { recursive: true, force: true });
          o.live?.delete(running);
        },
      };
      o.live?.add(running);
      return running;
    },
  };
}

/**
 * Platformatic Watt (`wattpm start`, production mode) from bench/watt/, its own install
 * (`npm run bench:setup`): one process whose N worker threads each run baselines/single.mjs
 * and bind the port with SO_REUSEPORT (bench/watt/watt.json). The management API stays on,
 * as `wattpm start` has it; the socket directory it can leave behind when stopped by a
 * signal is removed.
 */
function watt(): Target {
  const root = here('watt');
  const bin = join(root, 'node_modules/wattpm/bin/cli.js');
  return {
    id: 'watt',
    label: (w) => `Platformatic Watt, ${w} workers (threads)`,
    kind: 'baseline',
    async start(o) {
      if (!existsSync(bin)) {
        throw new Error('Watt is not installed (npm run bench:setup installs it in bench/watt/)');
      }
      const running = await child(
        [bin, 'start', root],
        { PORT: String(o.port), WORKERS: String(o.workers), APP: o.app },
        async (p) => {
          await waitHttp(o.port);
          // Every worker thread started (Watt names them APP_ID:INDEX), then time to listen.
          const threads = () => {
            try {
              return readdirSync(`/proc/${p.pid}/task`).filter((t) =>
                /^hello:\d+$/.test(readFileSync(`/proc/${p.pid}/task/${t}/comm`, 'utf8').trim()),
              ).length;
            } catch {
              return o.workers;
            }
          };
          for (let i = 0; i < 200 && threads() < o.workers; i++) await sleep(50);
          if (o.settle !== false) await sleep(800);
        },
        rootIs('master', 'worker'),
        o.live,
      );
      const pid = running.processes()[0]?.pid;
      const stop = running.stop;
      running.stop = async () => {
        await stop();
        if (pid)
          rmSync(join(tmpdir(), 'platformatic', 'runtimes', String(pid)), {
            recursive: true,
            force: true,
          });
      };
      return running;
    },
  };
}

/** Every target, in the order tables list them. */
export const TARGETS: readonly Target[] = [
  corral(
    'corral',
    (w) => `corral async, ${w} workers`,
    (w) => ['-w', String(w)],
  ),
  corral(
    'corral-fetch',
    (w) => `corral async, ${w} workers, fetch handler`,
    (w) => ['-w', String(w)],
    true,
  ),
  corral(
    'corral-sync',
    (w) => `corral sync, ${w} workers`,
    (w) => ['-w', String(w), '-k', 'sync'],
  ),
  corral(
    'corral-thread',
    (w) => `corral thread, 1 worker × ${w} threads`,
    (w) => ['-w', '1', '--threads', String(w)],
  ),
  corral(
    'corral-least-conn',
    (w) => `corral async, ${w} workers, dispatch least-conn`,
    (w) => ['-w', String(w), '--dispatch', 'least-conn'],
  ),
  corral(
    'corral-reuseport',
    (w) => `corral async, ${w} workers, dispatch reuseport`,
    (w) => ['-w', String(w), '--dispatch', 'reuseport'],
  ),
  baseline('node', () => 'plain node, 1 process', 'baselines/single.mjs', {}, true),
  baseline('cluster-rr', (w) => `node:cluster round-robin, ${w} workers`, 'baselines/cluster.mjs', {
    SCHED: 'rr',
  }),
  baseline(
    'cluster-shared',
    (w) => `node:cluster shared socket, ${w} workers`,
    'baselines/cluster.mjs',
    { SCHED: 'none' },
  ),
  baseline('reuseport', (w) => `reusePort, ${w} processes`, 'baselines/reuseport.mjs'),
  pm2(),
  watt(),
];

/**
 * corral's async listener and fetch hello from another build (e.g. the commit before a
 * change), measured in the same run as this one: before/after without machine drift.
 */
export function corralBuild(cli: string, name: string): Target[] {
  return [
    corral(
      `${name}`,
      (w) => `corral ${name}, ${w} workers`,
      (w) => ['-w', String(w)],
      false,
      [cli],
    ),
    corral(
      `${name}-fetch`,
      (w) => `corral ${name}, ${w} workers, fetch handler`,
      (w) => ['-w', String(w)],
      true,
      [cli],
    ),
  ];
}
