// How connections reach workers, measured: throughput (wrk) and how requests spread over the
// workers (a keep-alive client), for corral's three dispatch modes and the node:cluster /
// reusePort / single-process baselines, side by side in one run.
//
//   node bench/dispatch.ts [--workers 2] [--duration 5] [--connections 64] [--threads 2] [--rounds 1]
//
// Needs wrk (apt-get install wrk). Loopback only; every server is stopped at the end.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { Agent, request } from 'node:http';
import { parseArgs } from 'node:util';

const { values: opt } = parseArgs({
  options: {
    workers: { type: 'string', default: '2' },
    duration: { type: 'string', default: '5' },
    connections: { type: 'string', default: '64' },
    threads: { type: 'string', default: '2' },
    rounds: { type: 'string', default: '1' },
    port: { type: 'string', default: '18431' },
    only: { type: 'string' },
  },
});
const W = Number(opt.workers);
const PORT = Number(opt.port);
const here = (p: string) => new URL(p, import.meta.url).pathname;
const BIN = here('../bin/corral.js');

interface Target {
  name: string;
  cmd: string[];
  env?: Record<string, string>;
}

const corral = (app: string, dispatch: string): Target => ({
  name: `corral ${dispatch}${app.includes('fetch') ? ' (fetch)' : ''}`,
  cmd: [
    BIN,
    here(`apps/${app}`),
    '-w',
    String(W),
    '-b',
    `127.0.0.1:${PORT}`,
    '--dispatch',
    dispatch,
    '--log-level',
    'warning',
  ],
});
const TARGETS: Target[] = [
  { name: 'plain node (1 process)', cmd: [here('baselines/single.mjs')] },
  { name: 'node:cluster round-robin', cmd: [here('baselines/cluster.mjs')], env: { SCHED: 'rr' } },
  {
    name: 'node:cluster shared (SCHED_NONE)',
    cmd: [here('baselines/cluster.mjs')],
    env: { SCHED: 'none' },
  },
  { name: 'reusePort per worker', cmd: [here('baselines/reuseport.mjs')] },
  corral('hello.mjs', 'least-conn'),
  corral('hello.mjs', 'shared'),
  corral('hello.mjs', 'reuseport'),
  corral('hello-fetch.mjs', 'least-conn'),
].filter((t) => !opt.only || t.name.includes(opt.only));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function get(agent: Agent): Promise<string> {
  return new Promise((done, fail) => {
    const req = request({ host: '127.0.0.1', port: PORT, path: '/', agent }, (res) => {
      res.resume();
      res.on('end', () => done(String(res.headers['x-pid'])));
    });
    req.on('error', fail);
    req.end();
  });
}

async function waitUp(): Promise<void> {
  for (let i = 0; i < 100; i++) {
    try {
      await get(new Agent({ keepAlive: false }));
      // Give every worker time to come up, not just the first.
      await sleep(800);
      return;
    } catch {
      await sleep(100);
    }
  }
  throw new Error('server did not start');
}

/** `clients` keep-alive connections opened together, `perClient` requests each: requests per pid. */
async function spread(clients: number, perClient: number): Promise<number[]> {
  const counts = new Map<string, number>();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      for (let i = 0; i < perClient; i++) {
        const pid = await get(agent);
        counts.set(pid, (counts.get(pid) ?? 0) + 1);
      }
      agent.destroy();
    }),
  );
  return [...counts.values()].sort((a, b) => b - a);
}

function wrk(seconds: number): { rps: number; p99: string } {
  const out = execFileSync(
    'wrk',
    [
      `-t${opt.threads}`,
      `-c${opt.connections}`,
      `-d${seconds}s`,
      '--latency',
      `http://127.0.0.1:${PORT}/`,
    ],
    {
      encoding: 'utf8',
    },
  );
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 0);
  const p99 = /^\s+99%\s+(\S+)/m.exec(out)?.[1] ?? '?';
  return { rps, p99 };
}

async function stop(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null) return;
  p.kill('SIGTERM');
  await Promise.race([new Promise((r) => p.once('exit', r)), sleep(5000)]);
  if (p.exitCode === null) p.kill('SIGKILL');
  await sleep(300);
}

interface Row {
  name: string;
  rps: number[];
  p99: string[];
  spread8: number[];
  spread64: number[];
}
const rows = new Map<string, Row>(
  TARGETS.map((t) => [t.name, { name: t.name, rps: [], p99: [], spread8: [], spread64: [] }]),
);

for (let round = 0; round < Number(opt.rounds); round++) {
  for (const t of TARGETS) {
    const p = spawn(process.execPath, t.cmd, {
      env: { ...process.env, ...t.env, WORKERS: String(W), PORT: String(PORT) },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    try {
      await waitUp();
      const row = rows.get(t.name) as Row;
      row.spread8 = await spread(8, 50);
      row.spread64 = await spread(64, 20);
      wrk(1);
      const r = wrk(Number(opt.duration));
      row.rps.push(r.rps);
      row.p99.push(r.p99);
      process.stderr.write(
        `round ${round + 1}: ${t.name}: ${Math.round(r.rps)} req/s, p99 ${r.p99}, 8 conns → [${row.spread8}]\n`,
      );
    } finally {
      await stop(p);
    }
  }
}

const best = (xs: number[]) => Math.max(...xs);
const base = best(rows.get('node:cluster round-robin')?.rps ?? [0]) || 1;
const cpus = execFileSync('nproc', { encoding: 'utf8' }).trim();
console.log(
  `\n${W} workers, wrk -t${opt.threads} -c${opt.connections} -d${opt.duration}s, ${opt.rounds} round(s), ${cpus} CPUs, Node ${process.version}\n`,
);
console.log(
  '| server | req/s (best) | all rounds | p99 | vs cluster RR | 8 keep-alive clients × 50: requests per worker | 64 × 20 |',
);
console.log('|---|---:|---|---|---:|---|---|');
for (const r of rows.values()) {
  console.log(
    `| ${r.name} | ${Math.round(best(r.rps))} | ${r.rps.map(Math.round).join(', ')} | ${r.p99.join(', ')} | ${(best(r.rps) / base).toFixed(2)}× | ${r.spread8.join(' / ')} | ${r.spread64.join(' / ')} |`,
  );
}
