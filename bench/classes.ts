// Worker classes against node:cluster round-robin and PM2 with the same number of processes:
// a CPU-bound route and a mixed workload (90% fast, 10% 100 ms of CPU), throughput, p50/p99
// and the resident memory of the whole process tree.
//
//   node bench/classes.ts [--workers 2] [--duration 5] [--connections 32]
//
// Needs wrk; PM2 is a devDependency. Loopback only.
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';

const { values: opt } = parseArgs({
  options: {
    workers: { type: 'string', default: '2' },
    duration: { type: 'string', default: '5' },
    connections: { type: 'string', default: '32' },
    port: { type: 'string', default: '18433' },
  },
});
const W = Number(opt.workers);
const PORT = Number(opt.port);
const here = (p: string) => new URL(p, import.meta.url).pathname;
const run = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const PM2 = here('../node_modules/.bin/pm2');
const PM2_HOME = mkdtempSync(join(tmpdir(), 'corral-pm2-'));

interface Target {
  name: string;
  start(): Promise<() => Promise<number[]>>;
}

/** RSS (bytes) of a process and all its descendants. */
function treeRss(root: number): number {
  const kids = new Map<number, number[]>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const ppid = Number(readFileSync(`/proc/${d}/stat`, 'utf8').split(') ')[1]?.split(' ')[1]);
      kids.set(ppid, [...(kids.get(ppid) ?? []), Number(d)]);
    } catch {}
  }
  let total = 0;
  const walk = (pid: number) => {
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      total += Number(m?.[1] ?? 0) * 1024;
    } catch {}
    for (const k of kids.get(pid) ?? []) walk(k);
  };
  walk(root);
  return total;
}

function spawned(args: string[], env: Record<string, string> = {}): Target['start'] {
  return async () => {
    const p: ChildProcess = spawn(process.execPath, args, {
      env: { ...process.env, WORKERS: String(W), PORT: String(PORT), ...env },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    await sleep(2000);
    return async () => {
      const rss = [treeRss(p.pid as number)];
      p.kill('SIGTERM');
      await new Promise((done) => p.once('exit', done));
      await sleep(300);
      return rss;
    };
  };
}

const corral = (...args: string[]) =>
  spawned([
    here('../bin/corral.js'),
    here('apps/work.mjs'),
    '-b',
    `127.0.0.1:${PORT}`,
    '--log-level',
    'warning',
    ...args,
  ]);

const TARGETS: Target[] = [
  { name: `corral async, ${W} workers`, start: corral('-w', String(W)) },
  { name: `corral sync, ${W} workers`, start: corral('-w', String(W), '-k', 'sync') },
  {
    // The sync class's dispatch with --queue-timeout (and its default before 2026-12-06).
    name: `corral sync, least-conn, ${W} workers`,
    start: corral('-w', String(W), '-k', 'sync', '--dispatch', 'least-conn'),
  },
  {
    name: `corral thread, 1 worker × ${W} threads`,
    start: corral('-w', '1', '--threads', String(W)),
  },
  {
    name: `node:cluster round-robin, ${W} workers`,
    start: spawned([here('baselines/work-cluster.mjs')]),
  },
  {
    name: `PM2 cluster, ${W} instances`,
    start: async () => {
      const env = { ...process.env, PM2_HOME, PORT: String(PORT) };
      await run(
        PM2,
        [
          'start',
          here('baselines/work-cluster.mjs'),
          '-i',
          String(W),
          '--interpreter',
          process.execPath,
        ],
        { env },
      );
      await sleep(2500);
      return async () => {
        const { stdout } = await run(PM2, ['jlist'], { env });
        const pids = (JSON.parse(stdout) as { pid: number }[]).map((p) => p.pid);
        const rss = [pids.reduce((n, pid) => n + treeRss(pid), 0)];
        await run(PM2, ['kill'], { env });
        await sleep(500);
        return rss;
      };
    },
  },
];

async function wrk(path: string, script?: string) {
  const args = ['-t2', `-c${opt.connections}`, `-d${opt.duration}s`, '--latency'];
  if (script) args.push('-s', script);
  const { stdout } = await run('wrk', [...args, `http://127.0.0.1:${PORT}${path}`]);
  return {
    rps: Math.round(Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1] ?? 0)),
    p50: /^\s+50%\s+(\S+)/m.exec(stdout)?.[1] ?? '?',
    p99: /^\s+99%\s+(\S+)/m.exec(stdout)?.[1] ?? '?',
    errors: /Socket errors.*|Non-2xx.*/.exec(stdout)?.[0] ?? '',
  };
}

const cpus = execFileSync('nproc', { encoding: 'utf8' }).trim();
console.log(
  `## Worker classes (${new Date().toISOString().slice(0, 10)}, ${cpus} CPUs, Node ${process.version}, wrk -t2 -c${opt.connections} -d${opt.duration}s)\n`,
);
console.log(
  '| server | CPU route (20 ms): req/s, p50, p99 | mixed (10% × 100 ms CPU): req/s, p50, p99 | RSS, all processes |',
);
console.log('|---|---|---|---:|');
for (const t of TARGETS) {
  const stop = await t.start();
  await wrk('/cpu?ms=20');
  const cpu = await wrk('/cpu?ms=20');
  const mixed = await wrk('/', here('mixed.lua'));
  const [rss] = await stop();
  const cell = (r: Awaited<ReturnType<typeof wrk>>) =>
    `${r.rps}, ${r.p50}, ${r.p99}${r.errors ? ` (${r.errors})` : ''}`;
  console.log(
    `| ${t.name} | ${cell(cpu)} | ${cell(mixed)} | ${Math.round((rss ?? 0) / 2 ** 20)} MiB |`,
  );
}
