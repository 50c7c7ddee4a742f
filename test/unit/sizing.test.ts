// Worker-count strategies, clamps and the memory fit, on fixture machines with a fake probe.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { settings } from '../../src/config/settings.ts';
import type { Host } from '../../src/sizing/resources.ts';
import {
  autoStrategy,
  clamp,
  cpuFormula,
  memoryFit,
  wholeCpus,
} from '../../src/sizing/strategies.ts';
import { type SizingConfig, type SizingContext, sizeWorkers } from '../../src/sizing/workers.ts';

const MiB = 2 ** 20;
const fixture = (name: string) =>
  fileURLToPath(new URL(`../fixtures/cgroup/${name}/`, import.meta.url));

const defaults: SizingConfig = {
  workers: settings.workers.default,
  single: settings.single.default,
  workerClass: settings.workerClass.default,
  threads: settings.threads.default,
  workersPerCore: settings.workersPerCore.default,
  minWorkers: settings.minWorkers.default,
  maxWorkers: settings.maxWorkers.default,
  // Pinned (not the table's default) so the arithmetic in the tests below stays readable.
  memoryMargin: 1.5,
  memoryReserve: settings.memoryReserve.default,
  preload: settings.preload.default,
};

/** A machine: a fixture cgroup tree, 8 CPUs of affinity, 16 GiB free; a probe that counts calls. */
function machine(over: Partial<Host> = {}, privateMiB = 20) {
  const calls = { n: 0 };
  const ctx: SizingContext = {
    host: {
      root: fixture('none'),
      availableParallelism: () => 8,
      constrainedMemory: () => 0,
      freemem: () => 16 * 2 ** 30,
      totalmem: () => 32 * 2 ** 30,
      rss: () => 40 * MiB,
      ...over,
    },
    async measure() {
      calls.n++;
      return { rssBytes: 60 * MiB, privateBytes: privateMiB * MiB, what: 'test app' };
    },
  };
  return { ctx, calls };
}

const size = (config: Partial<SizingConfig>, ctx: SizingContext) =>
  sizeWorkers({ ...defaults, ...config }, ctx);

test('formulas: cpu, io, conservative; fractional CPUs and the per-core factor round down', () => {
  const f = (s: 'cpu' | 'io' | 'conservative', cpus: number, k = 1) => cpuFormula(s, cpus, k);
  assert.deepEqual(f('io', 1), { count: 3, text: '2×1+1 = 3' });
  assert.deepEqual(f('cpu', 2), { count: 2, text: '2' });
  assert.deepEqual(f('cpu', 1.5), { count: 1, text: 'max(1, ⌊1.5⌋) = 1' });
  assert.deepEqual(f('cpu', 0.5), { count: 1, text: 'max(1, ⌊0.5⌋) = 1' });
  assert.deepEqual(f('io', 1.5), { count: 4, text: '2×1.5+1 = 4' });
  assert.deepEqual(f('io', 1.25), { count: 3, text: '⌊2×1.25⌋+1 = 3' });
  assert.equal(f('conservative', 4).count, 2, 'Open WebUI: 4 cores → 2');
  assert.equal(f('conservative', 16).count, 8);
  assert.equal(f('conservative', 1).count, 2, 'never fewer than 2');
  assert.equal(f('cpu', 8, 0.25).count, 2, 'seed: max(1, int(8 × 0.25))');
  assert.equal(f('cpu', 2, 0.25).count, 1);
  assert.equal(f('cpu', 4, 0.75).count, 3);
  assert.equal(f('cpu', 10, 0.3).count, 3, 'no float error: 10 × 0.3 is 3');
  assert.equal(f('io', 4, 0.5).text, '2×4×0.5+1 = 5');
});

test('auto picks cpu for async and sync workers', () => {
  assert.equal(autoStrategy('async').strategy, 'cpu');
  assert.equal(autoStrategy('sync').strategy, 'cpu');
});

test('clamp and memory fit', () => {
  assert.deepEqual(clamp(9, 1, 4), { count: 4, by: 'max' });
  assert.deepEqual(clamp(1, 2, null), { count: 2, by: 'min' });
  assert.deepEqual(clamp(3, 1, null), { count: 3, by: null });
  assert.equal(memoryFit(100 * MiB, 30 * MiB), 3);
  assert.equal(memoryFit(-5, 30 * MiB), 0);
});

test('fixed numbers and single-process mode are taken as given', async () => {
  const { ctx, calls } = machine();
  assert.equal((await size({ workers: 5, maxWorkers: 2 }, ctx)).count, 5);
  assert.equal((await size({ workers: 5 }, ctx)).why, 'fixed: workers = 5');
  const single = await size({ workers: 0 }, ctx);
  assert.equal(single.count, 0);
  assert.equal(single.why, 'single-process mode (workers = 0)');
  assert.equal((await size({ single: true, workers: 4 }, ctx)).count, 0);
  assert.equal(calls.n, 0);
});

test('a fractional quota rounds to the nearest whole CPU, half up, at least 1', async () => {
  assert.deepEqual([0.3, 1, 1.25, 1.49, 1.5, 2.5, 3.7].map(wholeCpus), [1, 1, 1, 1, 2, 3, 4]);
  const { ctx } = machine({ root: fixture('v1-docker') });
  const io = await size({ workers: 'io' }, ctx);
  assert.equal(io.count, 5);
  assert.equal(io.strategy, 'io');
  assert.equal(io.cpus?.value, 1.5);
  assert.equal(io.usableCpus, 2);
  assert.equal(io.why, 'io: 2×2+1 = 5; CPUs 1.5 → 2 from cgroup v1 quota 150000/100000');
  assert.equal((await size({ workers: 'cpu' }, ctx)).count, 2);
  assert.equal((await size({ workers: 'conservative' }, ctx)).count, 2);
  const half = machine({ root: fixture('v1-hostpath') }).ctx; // a 0.5-CPU quota
  const cpu = await size({ workers: 'cpu' }, half);
  assert.equal(cpu.count, 1);
  assert.match(cpu.why, /^cpu: 1; CPUs 0\.5 → 1 from cgroup v1 quota 50000\/100000$/);
});

test('auto for the thread class counts processes so that processes × threads ≈ CPUs', async () => {
  const { ctx } = machine({ availableParallelism: () => 16 });
  const t4 = await size({ workerClass: 'thread', threads: 4 }, ctx);
  assert.equal(t4.count, 4);
  assert.match(t4.why, /^auto → cpu for thread workers: CPUs ÷ threads per worker: 16×0\.25 = 4;/);
  assert.equal((await size({ workerClass: 'thread', threads: 32 }, ctx)).count, 1);
  assert.equal((await size({ workerClass: 'thread', threads: 4, workers: 'cpu' }, ctx)).count, 16);
});

test('--workers-per-core scales the CPU term; --min/--max-workers clamp', async () => {
  const { ctx } = machine({ availableParallelism: () => 16 });
  assert.equal((await size({ workers: 'cpu', workersPerCore: 0.25 }, ctx)).count, 4);
  const capped = await size({ workers: 'io', maxWorkers: 8 }, ctx);
  assert.equal(capped.count, 8);
  assert.match(capped.why, /^io: 2×16\+1 = 33; .*; capped at --max-workers 8$/);
  const raised = await size({ workers: 'cpu', workersPerCore: 0.05, minWorkers: 2 }, ctx);
  assert.equal(raised.count, 2);
  assert.match(raised.why, /raised to --min-workers 2/);
});

test('auto boots no probe when memory is roomy', async () => {
  const { ctx, calls } = machine();
  const s = await size({}, ctx);
  assert.equal(s.count, 8);
  assert.equal(s.auto?.strategy, 'cpu');
  assert.equal(s.memory?.measured, false);
  assert.equal(calls.n, 0);
  assert.match(
    s.why,
    /^auto → cpu for async workers: 8; CPUs 8\.0 from scheduler affinity .*; memory not measured/,
  );
});

test('auto measures under a tight limit and lowers the count to what fits', async () => {
  // 256 MiB cgroup limit − 40 MiB master − 64 MiB reserve = 152 MiB; 1.5 CPUs → 2.
  const { ctx, calls } = machine({ root: fixture('v1-docker'), availableParallelism: () => 8 });
  const s = await size({ workersPerCore: 4 }, ctx);
  assert.equal(calls.n, 1);
  // cpu: 2 × 4 = 8; each worker 20 MiB × 1.5 = 30 MiB; 152 / 30 → 5.
  assert.equal(s.memory?.budgetBytes, 152 * MiB);
  assert.equal(s.memory?.fits, 5);
  assert.equal(s.count, 5);
  assert.match(
    s.why,
    /memory 152 MiB \(256 MiB cgroup v1 limit − 40 MiB master − 64 MiB reserve\) fits 5 × 30 MiB \(20 MiB private of 60 MiB RSS measured × 1\.5\), lowered from 8$/,
  );
});

test('memory: the io count lowered to the fit; the fit wins over --min-workers; never 0', async () => {
  const { ctx, calls } = machine({ root: fixture('hybrid'), availableParallelism: () => 2 });
  // 192 MiB − 40 − 64 = 88 MiB; io on 1 CPU = 3; 88 / 30 = 2.
  const s = await size({ workers: 'memory' }, ctx);
  assert.equal(calls.n, 1, 'memory always measures');
  assert.equal(s.strategy, 'memory');
  assert.equal(s.count, 2);
  assert.match(s.why, /^memory: from io 2×1\+1 = 3; CPUs 1\.0 from cgroup v1 quota/);
  const min = await size({ workers: 'memory', minWorkers: 3 }, ctx);
  assert.equal(min.count, 2);
  assert.match(min.why, /below --min-workers 3$/);
  const heavy = machine({ root: fixture('hybrid') }, 200);
  const one = await size({ workers: 'memory' }, heavy.ctx);
  assert.equal(one.memory?.fits, 0);
  assert.equal(one.count, 1);
  assert.match(one.why, /starting 1 anyway$/);
});

test('memory on a roomy host still measures, and uses RSS where private memory is unknown', async () => {
  const { ctx } = machine({ availableParallelism: () => 2 });
  ctx.measure = async () => ({ rssBytes: 60 * MiB, privateBytes: null, what: 'x' });
  const s = await size({ workers: 'memory' }, ctx);
  assert.equal(s.count, 5);
  assert.equal(s.memory?.perWorkerBytes, 90 * MiB);
  assert.match(s.why, /× 90 MiB \(60 MiB RSS measured × 1\.5\)$/);
});

test('--preload: the master holds the app too, so the budget counts it once more', async () => {
  const { ctx } = machine({ root: fixture('hybrid'), availableParallelism: () => 2 });
  // 192 − 40 − 20 (preloaded) − 64 = 68 MiB; 68 / 30 = 2.
  const s = await size({ workers: 'memory', preload: true }, ctx);
  assert.equal(s.memory?.preloadBytes, 20 * MiB);
  assert.equal(s.memory?.budgetBytes, 68 * MiB);
  assert.match(s.why, /− 40 MiB master − 20 MiB preloaded app − 64 MiB reserve\) fits 2 ×/);
});

test('--min-workers above --max-workers is refused', async () => {
  const { ctx } = machine();
  await assert.rejects(size({ workers: 'cpu', minWorkers: 4, maxWorkers: 2 }, ctx), {
    message: 'corral: --min-workers 4 is above --max-workers 2',
  });
});
