// One worker's cost per request, with less noise than the 2-CPU comparison in perf.ts: each
// server runs on CPU 1 only (taskset), wrk on CPU 0 only, so the server has a CPU of its own
// and never competes with the load generator. One process or one worker each: plain Node,
// a node:cluster worker (shared socket), a corral worker serving the listener hello world,
// and one serving the fetch-handler hello world; with keep-alive or a new connection per
// request. Interleaved rounds in a rotating order; medians and the spread of every round.
//
//   node bench/pinned.ts [--rounds 6] [--duration 3] [--connections 32] [--close]
//                        [--corral dist|src|PATH]
//
// Needs Linux with at least 2 CPUs, taskset (util-linux) and wrk. Loopback only.
import { execFile, spawn } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import { parseArgs, promisify } from 'node:util';
import { corralCommand } from './lib/build.ts';
import { cpuSecondsOf, processTree } from './lib/proc.ts';
import { here, sleep, stopChild, waitClosed, waitHttp } from './lib/servers.ts';

const run = promisify(execFile);
const { values: opt } = parseArgs({
  options: {
    rounds: { type: 'string', default: '6' },
    duration: { type: 'string', default: '3' },
    connections: { type: 'string', default: '32' },
    close: { type: 'boolean', default: false },
    corral: { type: 'string', default: 'dist' },
    port: { type: 'string', default: '18520' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (opt.help) {
  console.log(
    'node bench/pinned.ts [--rounds 6] [--duration 3] [--connections 32] [--close] [--corral dist|src|PATH] [--port 18520]',
  );
  process.exit(0);
}
if (availableParallelism() < 2) {
  console.error('bench/pinned.ts needs 2 CPUs: one for the server, one for wrk');
  process.exit(1);
}
const corral = corralCommand(opt.corral as string);
const base = Number(opt.port);
const app = (name: string) => here(`apps/${name}`);
const servers = [
  { name: 'plain node, 1 process', args: [here('baselines/single.mjs')], env: {} },
  {
    name: 'node:cluster shared socket, 1 worker',
    args: [here('baselines/cluster.mjs')],
    env: { WORKERS: '1', SCHED: 'none' },
  },
  { name: 'corral, 1 worker', args: [...corral.args, app('hello.mjs'), '-w', '1'], env: {} },
  {
    name: 'corral, 1 worker, fetch handler',
    args: [...corral.args, app('hello-fetch.mjs'), '-w', '1'],
    env: {},
  },
].map((s, i) => ({ ...s, port: base + i, rps: [] as number[], cpu: [] as number[] }));

const load0 = loadavg()
  .map((x) => x.toFixed(2))
  .join(' ');
const running = [];
for (const s of servers) {
  await waitClosed(s.port);
  const corralArgs = s.args.includes('-w')
    ? ['-b', `127.0.0.1:${s.port}`, '--log-level', 'warn']
    : [];
  const p = spawn('taskset', ['-c', '1', process.execPath, ...s.args, ...corralArgs], {
    env: { ...process.env, ...s.env, PORT: String(s.port) },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise<void>((done) => p.once('exit', () => done()));
  running.push({ s, p, stop: () => stopChild(p, exited) });
}
try {
  for (const { s } of running) await waitHttp(s.port);
  const wrk = async (port: number, seconds: string) => {
    const { stdout } = await run(
      'taskset',
      [
        '-c',
        '0',
        'wrk',
        '-t1',
        `-c${opt.connections}`,
        `-d${seconds}s`,
        ...(opt.close ? ['-H', 'Connection: close'] : []),
        `http://127.0.0.1:${port}/`,
      ],
      { encoding: 'utf8' },
    );
    return {
      rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1] ?? 0),
      requests: Number(/(\d+) requests in/.exec(stdout)?.[1] ?? 0),
    };
  };
  // Warm-up: the same load, to steady state (V8 tiers up, the young generation sizes itself).
  for (const { s } of running) await wrk(s.port, '3');
  const rounds = Number(opt.rounds);
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < running.length; i++) {
      const { s, p } = running[(i + r) % running.length] as (typeof running)[number];
      const tree = processTree(p.pid as number);
      const cpu = (pids: number[]) => pids.reduce((a, pid) => a + cpuSecondsOf(pid), 0);
      const before = cpu(tree);
      const w = await wrk(s.port, opt.duration as string);
      s.rps.push(w.rps);
      s.cpu.push(((cpu(tree) - before) * 1e6) / Math.max(1, w.requests));
    }
  }
} finally {
  for (const r of running) await r.stop();
}
await sleep(100);
const median = (a: number[]) => {
  const b = [...a].sort((x, y) => x - y);
  const m = b.length >> 1;
  return b.length % 2 ? (b[m] as number) : ((b[m - 1] as number) + (b[m] as number)) / 2;
};
const first = servers[0] as (typeof servers)[number];
console.log(
  `corral from ${corral.build}; Node ${process.version}; ${opt.close ? 'a new connection per request' : 'keep-alive'}, wrk -t1 -c${opt.connections} on CPU 0, servers on CPU 1; ${opt.rounds} rounds × ${opt.duration} s; load average ${load0} before\n`,
);
console.log(
  '| server (on its own CPU) | req/s, median | ÷ plain node (median of rounds) | CPU µs/request, median | all rounds |',
);
console.log('| --- | ---: | ---: | ---: | --- |');
for (const s of servers) {
  const ratio = median(s.rps.map((x, i) => x / (first.rps[i] ?? Number.NaN)));
  console.log(
    `| ${s.name} | ${Math.round(median(s.rps)).toLocaleString('en')} | ${ratio.toFixed(3)}× | ${median(s.cpu).toFixed(2)} | ${s.cpu.map((x) => x.toFixed(1)).join(', ')} |`,
  );
}
