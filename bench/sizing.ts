// Which worker count suits async workers: throughput and p99 for each sizing strategy (cpu, io,
// conservative, and what auto picks) on an app with a CPU-bound and an I/O-bound route, plus a
// mixed load where both compete; and how much a worker's private memory grows under load
// (the evidence for --memory-margin).
//
//   node bench/sizing.ts [--duration 4] [--rounds 3] [--no-confine] [--quota 1.5] [--workers 1,2]
//
// Where it can (root, cgroup v1 cpuset writable, 2+ CPUs, taskset), corral runs in a cgroup
// confined to the last CPU and wrk is pinned to the others, so the server's CPUs are its own;
// elsewhere both share the machine. --quota N instead gives corral a CFS quota of N CPUs (a v1
// cpu cgroup) over all CPUs, to see how a fractional quota should round. --workers replaces the
// strategies compared (any -w values). Needs wrk. Loopback only; every server is stopped.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { parseArgs, promisify } from 'node:util';
import { onCpus } from './lib/load.ts';

const { values: opt } = parseArgs({
  options: {
    duration: { type: 'string', default: '4' },
    rounds: { type: 'string', default: '3' },
    'no-confine': { type: 'boolean', default: false },
    quota: { type: 'string' },
    workers: { type: 'string', default: 'cpu,io,conservative,auto' },
  },
});
const run = promisify(execFile);
const here = (p: string) => new URL(p, import.meta.url).pathname;
const BIN = here('../bin/corral.js');
const APP = here('apps/sizing.mjs');
const D = Number(opt.duration);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Box {
  /** cgroup directories corral runs in. */
  readonly cgroup: string;
  /** CPUs wrk is pinned to, or null (not pinned). */
  readonly wrkCpus: string | null;
  readonly description: string;
}

/** A cgroup for corral: a CFS quota (--quota), or the last CPU with wrk on the rest. */
function confine(): Box | null {
  const n = availableParallelism();
  if (process.getuid?.() !== 0) return null;
  if (opt.quota) {
    const cgroup = `/sys/fs/cgroup/cpu/corral-bench-${process.pid}`;
    mkdirSync(cgroup);
    writeFileSync(`${cgroup}/cpu.cfs_period_us`, '100000');
    writeFileSync(`${cgroup}/cpu.cfs_quota_us`, String(Math.round(Number(opt.quota) * 100000)));
    return {
      cgroup,
      wrkCpus: null,
      description: `corral under a CFS quota of ${opt.quota} CPUs (cgroup v1 cpu), wrk beside it on all ${n} CPUs`,
    };
  }
  if (opt['no-confine'] || n < 2) return null;
  const cgroup = `/sys/fs/cgroup/cpuset/corral-bench-${process.pid}`;
  try {
    mkdirSync(cgroup);
    writeFileSync(`${cgroup}/cpuset.cpus`, String(n - 1));
    writeFileSync(`${cgroup}/cpuset.mems`, readFileSync('/sys/fs/cgroup/cpuset/cpuset.mems'));
    const wrkCpus = n === 2 ? '0' : `0-${n - 2}`;
    return {
      cgroup,
      wrkCpus,
      description: `corral confined to CPU ${n - 1} (cgroup cpuset), wrk on CPU ${wrkCpus}`,
    };
  } catch {
    if (existsSync(cgroup)) rmdirSync(cgroup);
    return null;
  }
}
const box = confine();
const inBox = (args: string[]) =>
  box
    ? [
        'sh',
        [
          '-c',
          `echo $$ > ${box.cgroup}/cgroup.procs && exec "$0" "$@"`,
          process.execPath,
          BIN,
          ...args,
        ],
      ]
    : [process.execPath, [BIN, ...args]];

async function corralConfig(workers: string): Promise<{ count: number; why: string }> {
  const [cmd, args] = inBox(['config', '--json', APP, '-w', workers]) as [string, string[]];
  const out = JSON.parse((await run(cmd, args)).stdout);
  return { count: out.workers, why: out.workersWhy };
}

async function start(workers: string): Promise<{ proc: ChildProcess; url: string }> {
  const [cmd, args] = inBox([APP, '-w', workers, '-b', '127.0.0.1:0', '--log-level', 'info']) as [
    string,
    string[],
  ];
  const proc = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  proc.stderr?.on('data', (d) => (log += d));
  for (let i = 0; i < 200 && !/ready: \d+ worker/.test(log); i++) await sleep(50);
  const url = /Listening at: (\S+)/.exec(log)?.[1];
  if (!url || !/ready: /.test(log)) throw new Error(`corral did not start:\n${log}`);
  return { proc, url };
}

async function stop(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null) return;
  p.kill('SIGTERM');
  await Promise.race([new Promise((r) => p.once('exit', r)), sleep(5000)]);
  if (p.exitCode === null) p.kill('SIGKILL');
}

interface Wrk {
  rps: number;
  p99ms: number;
}

/** p99 as wrk prints it (`12.34ms`, `1.02s`, `850.00us`) → ms. */
function ms(s: string): number {
  const m = /([\d.]+)(us|ms|s)/.exec(s);
  if (!m) return Number.NaN;
  return Number(m[1]) * (m[2] === 'us' ? 0.001 : m[2] === 's' ? 1000 : 1);
}

async function wrk(url: string, connections: number, seconds: number): Promise<Wrk> {
  const args = [`-t1`, `-c${connections}`, `-d${seconds}s`, '--latency', url];
  const { stdout } = await run(...onCpus(box?.wrkCpus, 'wrk', args));
  return {
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1] ?? 0),
    p99ms: ms(/^\s+99%\s+(\S+)/m.exec(stdout)?.[1] ?? ''),
  };
}

/** Private memory (RssAnon) of the master's children, in MiB. */
async function workerPrivateMiB(master: ChildProcess): Promise<number[]> {
  const { stdout } = await run('ps', ['-o', 'pid=', '--ppid', String(master.pid)]).catch(() => ({
    stdout: '',
  }));
  return stdout
    .split(/\s+/)
    .filter(Boolean)
    .map((pid) => {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      return Number(/^RssAnon:\s+(\d+)/m.exec(status)?.[1] ?? 0) / 1024;
    });
}

const SCENARIOS = ['cpu', 'io', 'mixed'] as const;
type Scenario = (typeof SCENARIOS)[number];
interface Result {
  rps: number;
  p99ms: number;
  /** --quota: share of CFS periods in which the cgroup was throttled. */
  throttled?: number;
  /** mixed: the I/O route's numbers while CPU-bound requests compete. */
  ioRps?: number;
  ioP99ms?: number;
}

/** nr_periods and nr_throttled of the --quota cgroup (zeros otherwise). */
function cfsStat(): { periods: number; throttled: number } {
  if (!opt.quota || !box) return { periods: 0, throttled: 0 };
  const stat = readFileSync(`${box.cgroup}/cpu.stat`, 'utf8');
  const n = (k: string) => Number(new RegExp(`^${k} (\\d+)`, 'm').exec(stat)?.[1] ?? 0);
  return { periods: n('nr_periods'), throttled: n('nr_throttled') };
}

async function load(url: string, s: Scenario): Promise<Result> {
  if (s === 'cpu') return wrk(`${url}/cpu`, 16, D);
  if (s === 'io') return wrk(`${url}/io`, 256, D);
  const [cpu, io] = await Promise.all([wrk(`${url}/cpu`, 8, D), wrk(`${url}/io`, 64, D)]);
  return { ...cpu, ioRps: io.rps, ioP99ms: io.p99ms };
}

async function scenario(url: string, s: Scenario): Promise<Result> {
  const before = cfsStat();
  const r = await load(url, s);
  const after = cfsStat();
  const periods = after.periods - before.periods;
  return opt.quota
    ? { ...r, throttled: periods ? (after.throttled - before.throttled) / periods : 0 }
    : r;
}

const STRATEGIES = (opt.workers ?? '').split(',').filter(Boolean);
const results = new Map<string, Map<Scenario, Result[]>>();
const memory: { idle: number[]; loaded: number[] } = { idle: [], loaded: [] };
const counts = new Map<string, { count: number; why: string }>();
try {
  for (const w of STRATEGIES) counts.set(w, await corralConfig(w));
  for (let round = 0; round < Number(opt.rounds); round++) {
    for (const w of STRATEGIES) {
      const { proc, url } = await start(w);
      try {
        await wrk(`${url}/`, 16, 1); // warm up every worker's JIT
        if (round === 0) memory.idle.push(...(await workerPrivateMiB(proc)));
        for (const s of SCENARIOS) {
          const r = await scenario(url, s);
          const byScenario = results.get(w) ?? new Map<Scenario, Result[]>();
          byScenario.set(s, [...(byScenario.get(s) ?? []), r]);
          results.set(w, byScenario);
          process.stderr.write(
            `round ${round + 1} ${w} (${counts.get(w)?.count}) ${s}: ${Math.round(r.rps)} req/s p99 ${r.p99ms.toFixed(1)} ms${r.ioRps ? `; io ${Math.round(r.ioRps)} req/s p99 ${r.ioP99ms?.toFixed(1)} ms` : ''}${r.throttled === undefined ? '' : `; throttled in ${Math.round(r.throttled * 100)}% of periods`}\n`,
          );
        }
        if (round === 0) memory.loaded.push(...(await workerPrivateMiB(proc)));
      } finally {
        await stop(proc);
      }
    }
  }
} finally {
  if (box) rmdirSync(box.cgroup);
}

// Best throughput of the rounds, and the p99 of that same run.
const best = (rs: Result[]) => rs.reduce((a, b) => (b.rps > a.rps ? b : a));
const f = (n: number | undefined) => (n === undefined ? '—' : n.toFixed(1));
console.log(
  `\n${box ? box.description : `corral and wrk sharing ${availableParallelism()} CPUs`}; ` +
    `${D} s per run, best of ${opt.rounds} round(s); Node ${process.version}\n`,
);
console.log(
  `| -w | workers | /cpu req/s | /cpu p99 ms | /io req/s | /io p99 ms | mixed: /cpu req/s | mixed: /io req/s | mixed: /io p99 ms |${opt.quota ? ' /cpu throttled periods |' : ''}`,
);
console.log(`|---|---:|---:|---:|---:|---:|---:|---:|---:|${opt.quota ? '---:|' : ''}`);
for (const w of STRATEGIES) {
  const r = results.get(w) as Map<Scenario, Result[]>;
  const [cpu, io, mixed] = SCENARIOS.map((s) => best(r.get(s) ?? []));
  console.log(
    `| ${w} | ${counts.get(w)?.count} | ${Math.round(cpu?.rps ?? 0)} | ${f(cpu?.p99ms)} | ${Math.round(io?.rps ?? 0)} | ${f(io?.p99ms)} | ${Math.round(mixed?.rps ?? 0)} | ${Math.round(mixed?.ioRps ?? 0)} | ${f(mixed?.ioP99ms)} |${opt.quota ? ` ${Math.round((cpu?.throttled ?? 0) * 100)}% |` : ''}`,
  );
}
console.log();
for (const w of STRATEGIES) console.log(`${w}: ${counts.get(w)?.why}`);
const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / (xs.length || 1);
console.log(
  `worker private memory (RssAnon): ${avg(memory.idle).toFixed(1)} MiB after boot and warm-up, ` +
    `${avg(memory.loaded).toFixed(1)} MiB after the three loads (max ${Math.max(...memory.loaded).toFixed(1)}); ` +
    `growth ×${(Math.max(...memory.loaded) / avg(memory.idle)).toFixed(2)}`,
);
