// How connections reach workers, measured: how requests spread over the workers (keep-alive
// clients opening their connections together) and throughput, for corral's three dispatch
// modes and the node:cluster / reusePort / single-process baselines, in one run. The servers,
// the load driver and the process handling are bench/lib's, shared with bench/perf.ts (which
// has the full throughput comparison, PM2 included).
//
//   node bench/dispatch.ts [--workers 2] [--duration 5] [--connections 64] [--threads 2]
//                          [--rounds 1] [--only ID] [--driver wrk|autocannon]
//
// Needs wrk (apt-get install wrk) or uses autocannon. Loopback only; every server is stopped.
import { Agent, request } from 'node:http';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { pickDriver } from './lib/load.ts';
import { here, TARGETS, waitClosed } from './lib/servers.ts';
import { best, int, ratio } from './lib/stats.ts';

const { values: opt } = parseArgs({
  options: {
    workers: { type: 'string', default: '2' },
    duration: { type: 'string', default: '5' },
    connections: { type: 'string', default: '64' },
    threads: { type: 'string', default: '2' },
    rounds: { type: 'string', default: '1' },
    port: { type: 'string', default: '18431' },
    only: { type: 'string' },
    driver: { type: 'string' },
  },
});
const W = Number(opt.workers);
const PORT = Number(opt.port);
const IDS = [
  'node',
  'cluster-rr',
  'cluster-shared',
  'reuseport',
  'corral',
  'corral-least-conn',
  'corral-reuseport',
  'corral-fetch',
];
const targets = IDS.map((id) => TARGETS.find((t) => t.id === id))
  .filter((t) => t !== undefined)
  .filter((t) => !opt.only || t.id === opt.only);
const driver = pickDriver(opt.driver, here('../node_modules/autocannon/autocannon.js'));
const corral = [here('../bin/corral.js')];

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

interface Row {
  name: string;
  rps: number[];
  p99: number[];
  spread8: number[];
  spread64: number[];
}
const rows = new Map<string, Row>(
  targets.map((t) => [t.id, { name: t.label(W), rps: [], p99: [], spread8: [], spread64: [] }]),
);

for (let round = 0; round < Number(opt.rounds); round++) {
  for (const t of targets) {
    await waitClosed(PORT);
    const app = here(`apps/${t.fetch ? 'hello-fetch' : 'hello'}.mjs`);
    const server = await t.start({ port: PORT, workers: W, app, corral });
    try {
      const row = rows.get(t.id) as Row;
      row.spread8 = await spread(8, 50);
      row.spread64 = await spread(64, 20);
      const url = `http://127.0.0.1:${PORT}/`;
      const shape = { url, connections: Number(opt.connections), threads: Number(opt.threads) };
      await driver.load({ ...shape, seconds: 1 });
      const r = await driver.load({ ...shape, seconds: Number(opt.duration) });
      row.rps.push(r.rps);
      row.p99.push(r.p99Ms);
      process.stderr.write(
        `round ${round + 1}: ${row.name}: ${int(r.rps)} req/s, p99 ${r.p99Ms} ms, 8 conns → [${row.spread8}]\n`,
      );
    } finally {
      await server.stop();
    }
  }
}

const base = best(rows.get('cluster-rr')?.rps ?? []) || 1;
console.log(
  `\n${W} workers, ${driver.name} -t${opt.threads} -c${opt.connections} -d${opt.duration}s, ${opt.rounds} round(s), ${availableParallelism()} CPUs, Node ${process.version}\n`,
);
console.log(
  '| server | req/s (best) | all rounds | p99 ms | vs cluster RR | 8 keep-alive clients × 50: requests per worker | 64 × 20 |',
);
console.log('|---|---:|---|---|---:|---|---|');
for (const r of rows.values()) {
  console.log(
    `| ${r.name} | ${int(best(r.rps))} | ${r.rps.map(int).join(', ')} | ${r.p99.join(', ')} | ${ratio(best(r.rps), base)} | ${r.spread8.join(' / ')} | ${r.spread64.join(' / ')} |`,
  );
}
