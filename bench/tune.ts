// Does `corral tune` pick well? Run tune (short runs, its own search) a few times, then measure
// every candidate on the same ladders exhaustively with longer runs, and compare each
// recommendation with the sweep's best: throughput within 5%, at no worse p99.
//
//   node bench/tune.ts [--app bench/apps/sizing.mjs] [--url /cpu] [--duration 2]
//                      [--repeat 3] [--sweep-duration 10] [--sweep-runs 3] [--connections 64]
//
// Loopback only; every run is bounded by its duration.
import { execFile } from 'node:child_process';
import { parseArgs, promisify } from 'node:util';
import { WORKER_CLASSES } from '../src/config/settings.ts';
import { readResources, realHost } from '../src/sizing/resources.ts';
import { wholeCpus } from '../src/sizing/strategies.ts';
import { measureCandidate } from '../src/tune/measure.ts';
import { ladder, type SearchSpace } from '../src/tune/plan.ts';
import { label, type Measured, type Shape, sameShape } from '../src/tune/results.ts';

const { values: opt } = parseArgs({
  options: {
    app: { type: 'string', default: 'bench/apps/sizing.mjs' },
    url: { type: 'string', default: '/cpu' },
    duration: { type: 'string', default: '2' },
    repeat: { type: 'string', default: '3' },
    'sweep-duration': { type: 'string', default: '10' },
    'sweep-runs': { type: 'string', default: '3' },
    connections: { type: 'string', default: '64' },
  },
});
const here = (p: string) => new URL(p, import.meta.url).pathname;
const run = promisify(execFile);
const cpus = wholeCpus(readResources(realHost()).cpus.value);
const connections = Number(opt.connections);

interface TuneRun {
  recommended: Shape & { rps: number; p99: number };
  candidates: (Shape & { rps: number; p99: number; finalRuns?: number })[];
  elapsedSeconds: number;
}

async function tuneOnce(): Promise<TuneRun> {
  const args = [here('../bin/corral.js'), 'tune', opt.app, '--url', opt.url, '--json'];
  args.push('--duration', opt.duration, '--connections', String(connections));
  const { stdout } = await run(process.execPath, args, { maxBuffer: 16 * 2 ** 20 });
  return JSON.parse(stdout) as TuneRun;
}

const space: SearchSpace = {
  cpus,
  classes: WORKER_CLASSES,
  fixedWorkers: null,
  fixedThreads: null,
  minWorkers: 1,
  maxWorkers: null,
  memoryLimit: null,
};

async function sweep(): Promise<Measured[]> {
  const steps = WORKER_CLASSES.flatMap((cls) => ladder(cls, space).steps);
  const out: Measured[] = [];
  for (const step of steps) {
    const m = await measureCandidate(
      {
        // No settings of the user's: corral's default dispatch.
        boot: { app: opt.app, args: [], dispatch: 'shared', cwd: process.cwd(), env: process.env },
        shape: step.shape,
        why: step.why,
        connections,
        requests: [{ method: 'GET', path: opt.url }],
        warmup: 3,
        runs: Number(opt['sweep-runs']),
        duration: Number(opt['sweep-duration']),
      },
      () => {},
    );
    process.stderr.write(`sweep ${label(m)}: ${Math.round(m.rps)} req/s, p99 ${m.p99} ms\n`);
    out.push(m);
  }
  return out;
}

const date = new Date().toISOString().slice(0, 10);
console.log(
  `## corral tune against an exhaustive sweep (${date}, ${cpus} CPUs, Node ${process.version}, ${opt.app} ${opt.url}, ${connections} connections)\n`,
);
const tunes: TuneRun[] = [];
for (let i = 0; i < Number(opt.repeat); i++) {
  const t = await tuneOnce();
  process.stderr.write(
    `tune ${i + 1}: ${label(t.recommended)} (${t.candidates.length} candidates, ${Math.round(t.elapsedSeconds)} s)\n`,
  );
  tunes.push(t);
}
const started = performance.now();
const all = (await sweep()).filter((m) => m.status === 'ok');
const sweepSeconds = (performance.now() - started) / 1000;
const best = all.reduce((a, b) => (b.rps > a.rps ? b : a));
console.log(
  `Sweep: ${all.length} candidates × ${opt['sweep-runs']} runs of ${opt['sweep-duration']} s after 3 s warm-up, ${Math.round(sweepSeconds)} s.\n`,
);
console.log('| candidate | req/s (median) | runs min–max | p99 ms | RSS MiB |');
console.log('|---|---:|---:|---:|---:|');
for (const m of all) {
  const mark = m === best ? ' **(best)**' : '';
  console.log(
    `| ${label(m)}${mark} | ${Math.round(m.rps)} | ${Math.round(m.spread.rps[0])}–${Math.round(m.spread.rps[1])} | ${m.p99} | ${Math.round((m.rssBytes ?? 0) / 2 ** 20)} |`,
  );
}
console.log('\nWhat each tune run measured (req/s, p99 ms; * = in the finals):\n');
tunes.forEach((t, i) => {
  const seen = t.candidates.map(
    (c) => `${label(c)}${c.finalRuns ? '*' : ''} ${Math.round(c.rps)}/${Math.round(c.p99)}`,
  );
  console.log(`${i + 1}. ${seen.join(', ')}`);
});
console.log(
  '\n| tune run | candidates measured | time | recommended | its sweep req/s | vs best | its sweep p99 | best p99 | within 5%, p99 no worse |',
);
console.log('|---:|---:|---:|---|---:|---:|---:|---:|---|');
tunes.forEach((t, i) => {
  const inSweep = all.find((m) => sameShape(m, t.recommended));
  const ratio = inSweep ? inSweep.rps / best.rps - 1 : Number.NaN;
  const ok = inSweep && ratio >= -0.05 && inSweep.p99 <= best.p99 ? 'yes' : 'no';
  console.log(
    `| ${i + 1} | ${t.candidates.length} | ${Math.round(t.elapsedSeconds)} s | ${label(t.recommended)} | ${inSweep ? Math.round(inSweep.rps) : '–'} | ${(ratio * 100).toFixed(1)}% | ${inSweep?.p99 ?? '–'} | ${best.p99} | ${ok} |`,
  );
});
