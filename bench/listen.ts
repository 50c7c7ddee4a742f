// Listen mode against an exported handler: the same hello-world listener served by corral
// as an export (bench/apps/hello.mjs) and as a script that calls listen() itself
// (bench/apps/hello-listen.mjs), same workers, same load, in interleaved rounds (the order
// alternates each round). Prints medians, the spread of the rounds and the load average.
//
//   node bench/listen.ts [--workers 2] [--rounds 7] [--duration 5] [--connections 64]
//                        [--close] [--corral src|dist|PATH] [--port 18470]
//
// Run it alone on the machine (the numbers in docs/benchmarks.md came from `cpu-exclusive`).
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { corralCommand } from './lib/build.ts';
import { pickDriver } from './lib/load.ts';
import { measure } from './lib/measure.ts';
import { corralBuild, here } from './lib/servers.ts';
import { int, median, range } from './lib/stats.ts';

const { values: opt } = parseArgs({
  options: {
    workers: { type: 'string', default: '2' },
    rounds: { type: 'string', default: '7' },
    duration: { type: 'string', default: '5' },
    connections: { type: 'string', default: '64' },
    threads: { type: 'string', default: '2' },
    close: { type: 'boolean', default: false },
    corral: { type: 'string', default: 'src' },
    port: { type: 'string', default: '18470' },
    driver: { type: 'string' },
  },
});
const workers = Number(opt.workers);
const rounds = Number(opt.rounds);
const corral = corralCommand(opt.corral as string);
const driver = pickDriver(opt.driver, here('../node_modules/autocannon/autocannon.js'));
const [target] = corralBuild(corral.args[0] as string, 'corral');
if (!target) throw new Error('no corral target');
const shape = {
  seconds: Number(opt.duration),
  connections: Number(opt.connections),
  threads: Number(opt.threads),
  path: '/',
  close: opt.close,
};
const modes = [
  { id: 'handler', label: 'exported handler (hello.mjs)', app: here('apps/hello.mjs') },
  { id: 'listen', label: 'listen() script (hello-listen.mjs)', app: here('apps/hello-listen.mjs') },
] as const;
const rps: Record<string, number[]> = { handler: [], listen: [] };
const errors: string[] = [];
const load0 = loadavg();
process.stderr.write(
  `corral: ${corral.build}; ${workers} workers; ${driver.name} ${shape.connections} connections, ${shape.seconds} s × ${rounds} rounds${shape.close ? ', a new connection per request' : ', keep-alive'}\n`,
);
for (let r = 0; r < rounds; r++) {
  const order = r % 2 ? [...modes].reverse() : modes;
  for (const m of order) {
    const s = await measure(
      target,
      { port: Number(opt.port), workers, app: m.app, corral: corral.args },
      driver,
      shape,
    );
    if (s.errors) errors.push(`${m.id} round ${r + 1}: ${s.errors}`);
    rps[m.id]?.push(s.rps);
    process.stderr.write(`round ${r + 1} ${m.id}: ${int(s.rps)} req/s\n`);
  }
}
const load1 = loadavg();
const h = rps.handler ?? [];
const l = rps.listen ?? [];
const ratios = h.map((x, i) => (l[i] ?? Number.NaN) / x);
const fmt = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(', ');
console.log(`| corral serving | req/s, median of ${rounds} | spread (min–max) |`);
console.log('|---|---|---|');
for (const m of modes) {
  const xs = rps[m.id] ?? [];
  console.log(`| ${m.label} | ${int(median(xs))} | ${range(xs)} |`);
}
console.log('');
console.log(
  `listen / handler: ${(median(l) / median(h)).toFixed(3)}× (medians); per round: ${fmt(ratios)}; median of the per-round ratios ${median(ratios).toFixed(3)}×`,
);
console.log(
  `load average before: ${load0.map((x) => x.toFixed(2)).join(' ')}; after: ${load1.map((x) => x.toFixed(2)).join(' ')}`,
);
if (errors.length) console.log(`errors: ${errors.join('; ')}`);
