// --reload's watcher (src/master/watch.ts, one fs.watch per directory) against chokidar, the
// library most Node reloaders use (nodemon, PM2's watch, Vite), configured to the same rule:
// module files only, node_modules and .git skipped. Each round starts a fresh process per
// watcher, alternating, and measures in it:
//   - what loading the watcher costs the master: import time, RSS after import and setup;
//   - watching a project (--root, default the repository): setup until ready, inotify watches;
//   - saves as editors make them (in place, atomic temp + rename), a new directory with a
//     module, and files that must not reload (a .log, node_modules): seen or missed, and the
//     time from the write to the callback.
//
//   node bench/watch-chokidar.ts [--root .] [--rounds 5] [--saves 20]
//
// ours runs compiled (dist/, built first), as the published package does. Linux only (inotify).
import { execFileSync, fork } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { basename, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { inotifyWatches } from './lib/proc.ts';
import { median } from './lib/stats.ts';

const { values: opt } = parseArgs({
  options: {
    root: { type: 'string', default: '.' },
    rounds: { type: 'string', default: '5' },
    saves: { type: 'string', default: '20' },
    child: { type: 'string' },
  },
});
const ROOT_DIR = fileURLToPath(new URL('../', import.meta.url));
const SKIP = new Set(['node_modules', '.git']);
const MODULE_EXT = new Set(['.js', '.mjs', '.cjs', '.ts', '.mts', '.cts', '.jsx', '.tsx', '.json']);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Watching {
  close(): unknown;
}
type Start = (dir: string, on: (path: string) => void) => Promise<Watching>;

/** The two watchers, each loaded (timed) and started the way --reload would use it. */
const WATCHERS: Record<string, () => Promise<Start>> = {
  async ours() {
    const { ChangeWatcher } = (await import(
      join(ROOT_DIR, 'dist/master/watch.js')
    )) as typeof import('../src/master/watch.ts');
    return async (dir, on) =>
      new ChangeWatcher({
        trees: [dir],
        extra: [],
        debounceMs: 0,
        onChange: (paths) => {
          for (const p of paths) on(p);
        },
      });
  },
  async chokidar() {
    const { watch } = await import('chokidar');
    return (dir, on) =>
      new Promise((ready) => {
        const w = watch(dir, {
          ignoreInitial: true,
          ignored: (path, stats) =>
            SKIP.has(basename(path)) || (!!stats?.isFile() && !MODULE_EXT.has(extname(path))),
        });
        w.on('all', (_event, path) => on(path));
        w.once('ready', () => ready(w));
      });
  },
};

interface ChildResult {
  importMs: number;
  setupMs: number;
  watches: number;
  rssMiB: number;
  /** ms from the write to the callback, per save; null = missed (not seen within 1 s). */
  inPlace: (number | null)[];
  atomic: (number | null)[];
  newDir: boolean;
  /** Changes that must not reload, reported anyway. */
  noise: number;
}

/** One watcher, in this (fresh) process. */
async function child(name: string, root: string, saves: number): Promise<ChildResult> {
  const rss0 = process.memoryUsage().rss;
  const t0 = performance.now();
  const start = await (WATCHERS[name] as () => Promise<Start>)();
  const importMs = performance.now() - t0;
  const t1 = performance.now();
  const project = await start(root, () => {});
  const setupMs = performance.now() - t1;
  const watches = inotifyWatches();
  const rssMiB = (process.memoryUsage().rss - rss0) / 2 ** 20;
  await project.close();

  const dir = mkdtempSync(join(tmpdir(), 'corral-watch-chokidar-'));
  mkdirSync(join(dir, 'lib'));
  mkdirSync(join(dir, 'node_modules'));
  const file = join(dir, 'lib', 'app.js');
  writeFileSync(file, 'v0');
  writeFileSync(join(dir, 'node_modules', 'dep.js'), 'v0');
  let waiter: ((path: string) => void) | null = null;
  const seenPaths: string[] = [];
  const w = await start(dir, (p) => {
    seenPaths.push(p);
    waiter?.(p);
  });
  await sleep(200);
  /** Run `act` and wait (≤ 1 s) for a report of `want`: ms, or null when missed. */
  const timed = (act: () => void, want: string) =>
    new Promise<number | null>((done) => {
      let t = 0;
      const timer = setTimeout(() => {
        waiter = null;
        done(null);
      }, 1000);
      waiter = (p) => {
        if (resolve(p) !== want) return;
        clearTimeout(timer);
        waiter = null;
        done(performance.now() - t);
      };
      t = performance.now();
      act();
    });
  const inPlace: (number | null)[] = [];
  const atomic: (number | null)[] = [];
  for (let i = 0; i < saves; i++) {
    inPlace.push(await timed(() => writeFileSync(file, `in place ${i}`), file));
    await sleep(150);
    atomic.push(
      await timed(() => {
        writeFileSync(`${file}.tmp`, `atomic ${i}`);
        renameSync(`${file}.tmp`, file);
      }, file),
    );
    await sleep(150);
  }
  const fresh = join(dir, 'feature', 'route.js');
  // Seen: the new module reported, or (ours reports a new directory once) the directory.
  const timedNew = await timed(() => {
    mkdirSync(join(dir, 'feature'));
    writeFileSync(fresh, 'x');
  }, fresh);
  await sleep(300);
  const newDir =
    timedNew !== null || seenPaths.some((p) => resolve(p).startsWith(join(dir, 'feature')));
  seenPaths.length = 0;
  writeFileSync(join(dir, 'lib', 'server.log'), 'log line');
  writeFileSync(join(dir, 'node_modules', 'dep.js'), 'v1');
  await sleep(500);
  const noise = seenPaths.length;
  await w.close();
  rmSync(dir, { recursive: true, force: true });
  return { importMs, setupMs, watches, rssMiB, inPlace, atomic, newDir, noise };
}

function runChild(name: string, root: string, saves: number): Promise<ChildResult> {
  return new Promise((done, fail) => {
    const p = fork(
      fileURLToPath(import.meta.url),
      ['--child', name, '--root', root, '--saves', String(saves)],
      {
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      },
    );
    p.once('message', (m) => done(m as ChildResult));
    p.once('exit', (code) => code && fail(new Error(`${name} child exited ${code}`)));
  });
}

const spread = (xs: number[], digits = 1) =>
  `${median(xs).toFixed(digits)} (${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)})`;

if (opt.child) {
  const r = await child(opt.child, resolve(opt.root), Number(opt.saves));
  process.send?.(r, () => process.exit(0));
} else {
  const root = resolve(opt.root);
  const rounds = Number(opt.rounds);
  const saves = Number(opt.saves);
  execFileSync(
    process.execPath,
    [join(ROOT_DIR, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'],
    {
      cwd: ROOT_DIR,
    },
  );
  const chokidarVersion = (
    JSON.parse(readFileSync(join(ROOT_DIR, 'node_modules/chokidar/package.json'), 'utf8')) as {
      version: string;
    }
  ).version;
  const results: Record<string, ChildResult[]> = { ours: [], chokidar: [] };
  for (let i = 0; i < rounds; i++) {
    // Alternate which goes first, so neither always meets a warmer page cache.
    const order = i % 2 ? ['chokidar', 'ours'] : ['ours', 'chokidar'];
    for (const name of order) results[name]?.push(await runChild(name, root, saves));
  }
  console.log(
    `Node ${process.version}, ${process.platform}; chokidar ${chokidarVersion}; project ${root}; ${rounds} rounds × ${saves} saves of each kind; load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}\n`,
  );
  const rows: string[][] = [
    [
      'watcher',
      'import ms',
      'setup ms',
      'inotify watches',
      'RSS +MiB',
      'in-place saves seen',
      'in-place ms',
      'atomic saves seen',
      'atomic ms',
      'new dir seen',
      'noise',
    ],
  ];
  for (const [name, rs] of Object.entries(results)) {
    const all = (k: 'inPlace' | 'atomic') => rs.flatMap((r) => r[k]);
    const seen = (k: 'inPlace' | 'atomic') =>
      `${all(k).filter((x) => x !== null).length}/${all(k).length}`;
    const ms = (k: 'inPlace' | 'atomic') => {
      const xs = all(k).filter((x): x is number => x !== null);
      return xs.length ? spread(xs) : '-';
    };
    rows.push([
      name === 'ours' ? 'corral (fs.watch per dir)' : `chokidar ${chokidarVersion}`,
      spread(rs.map((r) => r.importMs)),
      spread(rs.map((r) => r.setupMs)),
      String(median(rs.map((r) => r.watches))),
      spread(rs.map((r) => r.rssMiB)),
      seen('inPlace'),
      ms('inPlace'),
      seen('atomic'),
      ms('atomic'),
      `${rs.filter((r) => r.newDir).length}/${rs.length}`,
      String(rs.reduce((a, r) => a + r.noise, 0)),
    ]);
  }
  const widths = rows[0]?.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length))) ?? [];
  for (const r of rows) console.log(r.map((cell, c) => cell.padEnd(widths[c] ?? 0)).join('  '));
  console.log('\nmedian (min–max) over rounds; ms columns over every save of every round.');
}
