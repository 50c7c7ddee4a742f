// Why --reload uses one fs.watch per directory instead of Node's recursive fs.watch (Linux):
// which saves each one sees, and what watching a project costs (inotify watches, setup time).
//
//   node bench/watch.ts [--root .]
//
// Linux only for the inotify count (it reads /proc/self/fdinfo).
import {
  type FSWatcher,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  renameSync,
  statSync,
  watch,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { inotifyWatches } from './lib/proc.ts';

const { values: opt } = parseArgs({ options: { root: { type: 'string', default: '.' } } });
const SKIP = new Set(['node_modules', '.git']);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Start = (dir: string, on: (path: string) => void) => FSWatcher[];

const recursive: Start = (dir, on) => [watch(dir, { recursive: true }, (_e, f) => on(String(f)))];
const recursiveIgnore: Start = (dir, on) => [
  watch(
    dir,
    { recursive: true, ignore: (f: string) => f.split('/').some((p) => SKIP.has(p)) },
    (_e, f) => on(String(f)),
  ),
];
const perDirectory: Start = (dir, on) => {
  const out: FSWatcher[] = [];
  const walk = (d: string) => {
    out.push(
      watch(d, (_e, f) => {
        const p = join(d, String(f));
        on(p);
        if (statSync(p, { throwIfNoEntry: false })?.isDirectory()) walk(p);
      }),
    );
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory() && !SKIP.has(e.name)) walk(join(d, e.name));
    }
  };
  walk(dir);
  return out;
};

/** Saves of one file, as editors make them: which does each strategy report? */
async function saves(name: string, start: Start): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'corral-watch-bench-'));
  mkdirSync(join(dir, 'lib'));
  const file = join(dir, 'lib', 'app.js');
  writeFileSync(file, 'v0');
  let seen = 0;
  const watchers = start(dir, () => seen++);
  await sleep(100);
  const atomic = (v: string) => {
    writeFileSync(`${file}.tmp`, v);
    renameSync(`${file}.tmp`, file);
  };
  const steps: [string, () => void][] = [
    ['in place', () => writeFileSync(file, 'v1')],
    ['in place again', () => writeFileSync(file, 'v2')],
    ['atomic (temp + rename)', () => atomic('v3')],
    ['atomic again', () => atomic('v4')],
    ['in place after atomic', () => writeFileSync(file, 'v5')],
  ];
  const row: string[] = [];
  for (const [label, step] of steps) {
    seen = 0;
    step();
    await sleep(300);
    row.push(`${label}: ${seen ? 'seen' : 'MISSED'}`);
  }
  for (const w of watchers) w.close();
  return `${name.padEnd(26)} ${row.join(' · ')}`;
}

function cost(name: string, start: Start, root: string): string {
  const times: number[] = [];
  let watches = 0;
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    const ws = start(root, () => {});
    times.push(performance.now() - t0);
    watches = inotifyWatches();
    for (const w of ws) w.close();
  }
  const best = Math.min(...times).toFixed(1);
  return `${name.padEnd(26)} ${String(watches).padStart(6)} inotify watches, setup ${best} ms (best of 3)`;
}

const root = resolve(opt.root);
console.log(`Node ${process.version}, ${process.platform}; project: ${root}\n`);
console.log('Saves seen:');
for (const [n, s] of [
  ['recursive fs.watch', recursive],
  ['one fs.watch per directory', perDirectory],
] as const) {
  console.log(`  ${await saves(n, s)}`);
}
console.log('\nWatching the project (node_modules and .git skipped unless noted):');
console.log(`  ${cost('one fs.watch per directory', perDirectory, root)}`);
console.log(`  ${cost('recursive, with ignore', recursiveIgnore, root)}`);
console.log(`  ${cost('recursive, everything', recursive, root)}`);
