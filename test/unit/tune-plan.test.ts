// corral tune's candidate search: ladders from the CPUs, the order of steps, climbing only
// while it pays, dropping a class far behind, and skipping what would not fit the memory.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { finalists } from '../../src/tune/finals.ts';
import { ladder, nextStep, predictRss, type SearchSpace } from '../../src/tune/plan.ts';
import { label, loops, type Measured, type Shape } from '../../src/tune/results.ts';
import { async, fake, MiB, sync, thread } from '../helpers/tune.ts';

const space = (over: Partial<SearchSpace> = {}): SearchSpace => ({
  cpus: 2,
  classes: ['async', 'sync', 'thread'],
  fixedWorkers: null,
  fixedThreads: null,
  minWorkers: 1,
  maxWorkers: null,
  memoryLimit: null,
  ...over,
});

/** Run the search against a model of the app; returns what it measured and skipped, in order. */
function simulate(sp: SearchSpace, model: (s: Shape) => { rps: number; p99?: number }) {
  const results: Measured[] = [];
  const skipped: Shape[] = [];
  for (let i = 0; i < 50; i++) {
    const next = nextStep(sp, results, skipped);
    if (!next) break;
    if (next.kind === 'skip') skipped.push(next.step.shape);
    else {
      const m = model(next.step.shape);
      results.push(fake(next.step.shape, m.rps, m.p99));
    }
  }
  return { measured: results.map(label), skipped: skipped.map(label) };
}

/** CPU-bound on 2 CPUs: throughput grows to 2 event loops, then stays flat. */
const cpuBound = (s: Shape) => {
  const factor = { async: 1, sync: 0.9, thread: 0.95 }[s.workerClass];
  return { rps: Math.min(loops(s), 2) * 500 * factor };
};

test('ladders come from the usable CPUs, and start where -w auto would', () => {
  const two = (cls: 'async' | 'sync' | 'thread', sp = space()) => {
    const l = ladder(cls, sp);
    return {
      steps: l.steps.map((s) => label(s.shape)),
      start: label(l.steps[l.start]?.shape as Shape),
    };
  };
  assert.deepEqual(two('async'), {
    steps: ['async × 1', 'async × 2', 'async × 5', 'async × 9'],
    start: 'async × 2',
  });
  assert.deepEqual(two('sync'), {
    steps: ['sync × 2', 'sync × 5', 'sync × 9', 'sync × 17'],
    start: 'sync × 2',
  });
  assert.deepEqual(two('thread'), {
    steps: ['thread 1 × 2', 'thread 1 × 4', 'thread 1 × 8'],
    start: 'thread 1 × 2',
  });
  const sixteen = ladder('async', space({ cpus: 16 }));
  assert.deepEqual(
    sixteen.steps.map((s) => s.shape.workers),
    [1, 8, 16, 33, 65],
  );
  assert.match(sixteen.steps[sixteen.start]?.why ?? '', /auto/);
  // Above 16 threads a thread-class ladder adds processes.
  assert.deepEqual(
    ladder('thread', space({ cpus: 16 })).steps.map((s) => label(s.shape)),
    ['thread 1 × 16', 'thread 2 × 16', 'thread 4 × 16'],
  );
  // One CPU: the 1-worker rung is auto's, and keeps auto's name.
  const one = ladder('async', space({ cpus: 1 }));
  assert.equal(label(one.steps[one.start]?.shape as Shape), 'async × 1');
  assert.match(one.steps[one.start]?.why ?? '', /auto/);
});

test('-w, --threads and --max-workers narrow the ladders', () => {
  const fixed = space({ fixedWorkers: 4 });
  assert.deepEqual(
    ladder('async', fixed).steps.map((s) => label(s.shape)),
    ['async × 4'],
  );
  assert.deepEqual(
    ladder('thread', fixed).steps.map((s) => label(s.shape)),
    ['thread 4 × 2'],
  );
  const threads = space({ fixedThreads: 4 });
  assert.deepEqual(
    ladder('thread', threads).steps.map((s) => label(s.shape)),
    ['thread 1 × 4', 'thread 2 × 4'],
  );
  const capped = space({ maxWorkers: 3 });
  assert.deepEqual(
    ladder('async', capped).steps.map((s) => s.shape.workers),
    [1, 2, 3],
  );
});

test('CPU-bound: every class gets its auto point first, then climbs one step that does not pay', () => {
  const { measured } = simulate(space(), cpuBound);
  assert.deepEqual(measured, [
    'async × 2',
    'sync × 2',
    'thread 1 × 2',
    'async × 5',
    'thread 1 × 4',
    'sync × 5',
    'async × 1',
  ]);
});

test('a class keeps climbing while each step gains more than 5%', () => {
  // I/O-bound: sync serves one request per worker, so more workers keep paying.
  const io = (s: Shape) => ({ rps: s.workerClass === 'sync' ? loops(s) * 50 : 2000 });
  const { measured } = simulate(space({ classes: ['sync'] }), io);
  assert.deepEqual(measured, ['sync × 2', 'sync × 5', 'sync × 9', 'sync × 17']);
});

test('going down continues only while throughput ties', () => {
  const flat = (s: Shape) => ({ rps: 1000 + loops(s) });
  const sp = space({ cpus: 8, classes: ['async'] });
  const { measured } = simulate(sp, flat);
  // 8 → 17 (no gain) → 4 (tie) → 1 (tie): the bottom of the ladder.
  assert.deepEqual(measured, ['async × 8', 'async × 17', 'async × 4', 'async × 1']);
});

test('a class far behind the best, with no better tail, is dropped after its first point', () => {
  const model = (s: Shape) =>
    s.workerClass === 'sync' ? { rps: 300, p99: 50 } : { rps: 1000, p99: 20 };
  const { measured } = simulate(space({ classes: ['async', 'sync'] }), model);
  assert.deepEqual(
    measured.filter((m) => m.startsWith('sync')),
    ['sync × 2'],
  );
  // ... but kept when its p99 is better.
  const tail = (s: Shape) =>
    s.workerClass === 'sync' ? { rps: 300 * loops(s), p99: 5 } : { rps: 1000, p99: 20 };
  const kept = simulate(space({ classes: ['async', 'sync'] }), tail);
  assert.ok(kept.measured.filter((m) => m.startsWith('sync')).length > 1, kept.measured.join());
});

test('a step predicted over the memory budget is skipped, not measured', () => {
  // 50 MiB master + 60 MiB per worker: 2 workers 170 MiB, 5 workers 350 MiB.
  const sp = space({ classes: ['async'], memoryLimit: 300 * MiB });
  const { measured, skipped } = simulate(sp, (s) => ({ rps: 100 * loops(s) }));
  assert.deepEqual(measured, ['async × 2', 'async × 1']);
  assert.deepEqual(skipped, ['async × 5']);
  const next = nextStep(sp, [fake(async(2), 200)], []);
  assert.equal(next?.kind, 'skip');
  assert.match(
    next?.kind === 'skip' ? next.reason : '',
    /about 350 MiB, over the memory budget of 300 MiB/,
  );
});

test('memory is predicted from the closest measured candidate', () => {
  assert.equal(predictRss(async(4), []), null);
  assert.equal(predictRss(async(4), [fake(async(2), 100)]), 50 * MiB + 4 * 60 * MiB);
  // sync has no measurement of its own: async's worker size stands in.
  assert.equal(predictRss(sync(3), [fake(async(2), 100)]), 50 * MiB + 3 * 60 * MiB);
  // A thread process is scaled per thread from the measured one.
  const t = fake(thread(1, 2), 100);
  assert.equal(predictRss(thread(1, 4), [t]), 50 * MiB + ((t.workerRssBytes as number) / 2) * 4);
});

test('a class whose first point failed is not climbed', () => {
  const failed = fake(sync(2), 0, 0, { status: 'failed', error: 'boom' });
  const next = nextStep(space({ classes: ['sync'] }), [failed], []);
  assert.equal(next, null);
});

test('one noisy run cannot drop a class: pruning compares the luckiest run with the leader’s worst', () => {
  const noisy = fake(sync(2), 700, 50, { spread: { rps: [500, 900], p99: [40, 60] } });
  const leader = fake(async(2), 1000, 20);
  const next = nextStep(space({ classes: ['async', 'sync'] }), [leader, noisy], []);
  assert.ok(next, 'the search goes on');
  const sp = space({ classes: ['async', 'sync'] });
  const steps: string[] = [];
  const results = [leader, noisy];
  for (let i = 0; i < 10; i++) {
    const n = nextStep(sp, results, []);
    if (n?.kind !== 'measure') break;
    steps.push(label(n.step.shape));
    results.push(fake(n.step.shape, n.step.shape.workerClass === 'sync' ? 700 : 1000, 20));
  }
  assert.ok(steps.includes('sync × 5'), `sync still climbs: ${steps.join(', ')}`);
});

test('finalists: the best of each class and anything within 15% of the best, at most N', () => {
  const all = [
    fake(async(2), 1000),
    fake(async(5), 900),
    fake(async(1), 500),
    fake(sync(2), 600),
    fake(thread(1, 2), 870),
    fake(thread(1, 4), 800),
  ];
  const yes = () => true;
  assert.deepEqual(finalists(all, yes, 4).map(label), [
    'async × 2',
    'async × 5',
    'thread 1 × 2',
    'sync × 2',
  ]);
  assert.deepEqual(finalists(all, yes, 2).map(label), ['async × 2', 'async × 5']);
  // Only eligible candidates; fewer than two is no final.
  assert.deepEqual(
    finalists(all, (m) => m.workerClass === 'sync', 4),
    [],
  );
  assert.deepEqual(finalists(all, yes, 0), []);
});
