// The fetch bridge against the maintained libraries that do the same job, over real sockets:
// corral's (src/app/fetch*.ts), @hono/node-server 2.x's getRequestListener and srvx's
// toNodeHandler, each in one plain node:http process answering hello world, plus a
// (req, res) listener as the ceiling. wrk loads each in turn; rounds rotate the order.
// Medians of the rounds (req/s, and the server's CPU per request), with the spread.
//
//   node bench/bridges.ts [--rounds 5] [--duration 3] [--connections 32]
import { execFileSync, fork } from 'node:child_process';
import { once } from 'node:events';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { median, range } from './lib/stats.ts';

const { values: opt } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    duration: { type: 'string', default: '3' },
    connections: { type: 'string', default: '32' },
    port: { type: 'string', default: '18490' },
  },
});
const VARIANTS = ['listener', 'corral', 'hono', 'srvx'] as const;
const LABEL: Record<(typeof VARIANTS)[number], string> = {
  listener: '(req, res) listener (ceiling)',
  corral: "corral's fetch bridge",
  hono: '@hono/node-server 2.x getRequestListener',
  srvx: 'srvx toNodeHandler (FastResponse)',
};
const port = Number(opt.port);
const server = new URL('./apps/bridge-server.ts', import.meta.url);

function cpuSeconds(pid: number): number {
  const stat = execFileSync('cat', [`/proc/${pid}/stat`], { encoding: 'utf8' });
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100; // utime + stime, clock ticks
}

async function measure(variant: string): Promise<{ rps: number; cpuUs: number }> {
  const child = fork(server, [variant, String(port)], { stdio: 'ignore' });
  await once(child, 'message');
  const url = `http://127.0.0.1:${port}/`;
  execFileSync('wrk', ['-t1', '-c8', '-d1s', url], { stdio: 'ignore' }); // warm-up
  const cpu0 = cpuSeconds(child.pid as number);
  const out = execFileSync('wrk', ['-t1', `-c${opt.connections}`, `-d${opt.duration}s`, url], {
    encoding: 'utf8',
  });
  const cpu1 = cpuSeconds(child.pid as number);
  child.kill('SIGTERM');
  await once(child, 'exit');
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
  const requests = Number(/(\d+) requests in/.exec(out)?.[1]);
  return { rps, cpuUs: ((cpu1 - cpu0) * 1e6) / requests };
}

const rps = new Map<string, number[]>();
const cpu = new Map<string, number[]>();
const before = loadavg();
for (let round = 0; round < Number(opt.rounds); round++) {
  const order = VARIANTS.map((_, i) => VARIANTS[(i + round) % VARIANTS.length] as string);
  for (const v of order) {
    const r = await measure(v);
    rps.set(v, [...(rps.get(v) ?? []), r.rps]);
    cpu.set(v, [...(cpu.get(v) ?? []), r.cpuUs]);
  }
}
const after = loadavg();
const top = median(rps.get('listener') ?? []);
console.log(
  `wrk -t1 -c${opt.connections} -d${opt.duration}s, ${opt.rounds} rounds (rotating order); load average before ${before.map((x) => x.toFixed(2)).join(' ')}, after ${after.map((x) => x.toFixed(2)).join(' ')}\n`,
);
console.log(
  '| handler | req/s, median | rounds (min–max) | ÷ listener | server CPU µs/req, median |',
);
console.log('| --- | ---: | ---: | ---: | ---: |');
for (const v of VARIANTS) {
  const xs = rps.get(v) ?? [];
  console.log(
    `| ${LABEL[v as keyof typeof LABEL]} | ${Math.round(median(xs)).toLocaleString('en-US')} | ${range(xs)} | ${(median(xs) / top).toFixed(2)}× | ${median(cpu.get(v) ?? []).toFixed(1)} |`,
  );
}
