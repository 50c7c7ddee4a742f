/**
 * Which configuration to measure next. Not a grid: each worker class has a ladder of worker
 * counts built from the machine's usable CPUs (the sizing strategies' own formulas), the
 * search starts each class where `-w auto` would, and climbs a ladder only while the last step
 * paid. A class far behind the best is dropped, and a step whose memory (predicted from what
 * was measured) would not fit the budget is skipped. Pure: results in, next step out.
 */
import type { WorkerClass } from '../config/settings.ts';
import { label, loops, type Measured, type Shape, sameShape } from './results.ts';

export interface SearchSpace {
  /** Usable CPUs (whole), as sizing reads them. */
  readonly cpus: number;
  readonly classes: readonly WorkerClass[];
  /** `-w N` given to tune: every class uses exactly N processes. */
  readonly fixedWorkers: number | null;
  /** `--threads N` given to tune: thread candidates use exactly N threads. */
  readonly fixedThreads: number | null;
  readonly minWorkers: number;
  readonly maxWorkers: number | null;
  /** Bytes the whole server may use; a step predicted above it is skipped. */
  readonly memoryLimit: number | null;
}

/** A further step is taken only when the last one gained more than this: less is run-to-run noise. */
export const GAIN = 0.05;
/** Going down (fewer processes, less memory) continues while throughput stays within this. */
export const TIE = 0.03;
/**
 * A class whose best run is this far below the best candidate's worst run, at no better p99,
 * is dropped.
 */
export const PRUNE = 0.25;
/** One thread-class process holds up to this many threads; more loops get more processes. */
const THREADS_PER_PROCESS = 16;

export interface Step {
  readonly shape: Shape;
  /** Why this one, for the table and the report. */
  readonly why: string;
}

export type Next =
  | { readonly kind: 'measure'; readonly step: Step }
  | { readonly kind: 'skip'; readonly step: Step; readonly reason: string };

interface Rung {
  readonly loops: number;
  readonly why: string;
}

/** Event-loop counts to try for a class, low to high, and which one `auto` would start. */
function rungs(cls: WorkerClass, c: number): { rungs: Rung[]; start: number } {
  const io = { loops: 2 * c + 1, why: `io: 2×${c}+1` };
  if (cls === 'async') {
    return {
      rungs: [
        { loops: 1, why: 'one event loop' },
        { loops: Math.floor(c / 2), why: `half the CPUs: ⌊${c}/2⌋` },
        { loops: c, why: 'cpu: one per CPU (auto)' },
        io,
        { loops: 4 * c + 1, why: `4×${c}+1` },
      ],
      start: c,
    };
  }
  if (cls === 'sync') {
    // One request per worker at a time: fewer workers than CPUs cannot keep the CPUs busy.
    return {
      rungs: [
        { loops: c, why: 'cpu: one per CPU (auto)' },
        io,
        { loops: 4 * c + 1, why: `4×${c}+1` },
        { loops: 8 * c + 1, why: `8×${c}+1` },
      ],
      start: c,
    };
  }
  const b = Math.max(2, c);
  return {
    rungs: [
      { loops: b, why: 'a thread per CPU (auto)' },
      { loops: 2 * b, why: 'two threads per CPU' },
      { loops: 4 * b, why: 'four threads per CPU' },
    ],
    start: b,
  };
}

function shapeFor(cls: WorkerClass, n: number, space: SearchSpace): Shape {
  const fit = (w: number) =>
    Math.max(space.minWorkers, Math.min(space.maxWorkers ?? Number.MAX_SAFE_INTEGER, w));
  if (cls !== 'thread')
    return { workerClass: cls, workers: fit(space.fixedWorkers ?? n), threads: 1 };
  let threads: number;
  let workers: number;
  if (space.fixedThreads !== null) {
    threads = space.fixedThreads;
    workers = space.fixedWorkers ?? Math.ceil(n / threads);
  } else if (space.fixedWorkers !== null) {
    // A thread worker with one thread is an async worker with extra steps: at least two.
    workers = space.fixedWorkers;
    threads = Math.max(2, Math.ceil(n / workers));
  } else {
    workers = Math.ceil(n / THREADS_PER_PROCESS);
    threads = Math.ceil(n / workers);
  }
  return { workerClass: cls, workers: fit(workers), threads: Math.min(256, Math.max(1, threads)) };
}

export interface Ladder {
  readonly steps: readonly Step[];
  /** Index of the step `auto` would start. */
  readonly start: number;
}

/** A class's ladder as distinct shapes (a fixed -w, clamps and rounding can merge rungs). */
export function ladder(cls: WorkerClass, space: SearchSpace): Ladder {
  const r = rungs(cls, space.cpus);
  const steps: Step[] = [];
  let start = 0;
  for (const rung of r.rungs) {
    if (rung.loops < 1) continue;
    const shape = shapeFor(cls, rung.loops, space);
    const at = steps.findIndex((s) => sameShape(s.shape, shape));
    const isStart = rung.loops === r.start;
    if (at === -1) steps.push({ shape, why: rung.why });
    // Merged rungs keep the name of the one auto would start: that is what the user knows.
    else if (isStart) steps[at] = { shape, why: rung.why };
    if (isStart) start = at === -1 ? steps.length - 1 : at;
  }
  return { steps, start };
}

/** Total RSS a shape would need, scaled from the closest measured candidate; null before any. */
export function predictRss(shape: Shape, results: readonly Measured[]): number | null {
  const ok = results.filter((r) => r.status === 'ok' && r.rssBytes && r.workerRssBytes);
  const same = ok.filter((r) => r.workerClass === shape.workerClass);
  const base = (same.length ? same : ok).sort((a, b) => loops(b) - loops(a))[0];
  if (!base?.rssBytes || !base.workerRssBytes) return null;
  const master = Math.max(0, base.rssBytes - base.workers * base.workerRssBytes);
  // A thread-class process grows with its threads: scale per thread (an overestimate).
  const perProcess =
    shape.threads === base.threads
      ? base.workerRssBytes
      : (base.workerRssBytes / base.threads) * shape.threads;
  return master + shape.workers * perProcess;
}

const found = (results: readonly Measured[], s: Shape) => results.find((r) => sameShape(r, s));
const rpsOf = (results: readonly Measured[], s: Step) => found(results, s.shape)?.rps ?? 0;

/** The class's next step: its start, then up while climbing pays, then down while it ties. */
function classStep(l: Ladder, results: readonly Measured[], walls: readonly Shape[]): Step | null {
  const at = (i: number) => l.steps[i] as Step;
  const measured = (i: number) => found(results, at(i).shape);
  const blocked = (i: number) => walls.some((w) => sameShape(w, at(i).shape));
  const start = measured(l.start);
  if (!start) return at(l.start);
  if (start.status !== 'ok') return null;
  let hi = l.start;
  while (hi + 1 < l.steps.length && measured(hi + 1)?.status === 'ok') hi++;
  const up = hi + 1;
  if (up < l.steps.length && !measured(up) && !blocked(up)) {
    const paid = hi === l.start || rpsOf(results, at(hi)) > rpsOf(results, at(hi - 1)) * (1 + GAIN);
    if (paid) return { ...at(up), why: `${at(up).why}; up from ${label(at(hi).shape)}` };
  }
  let lo = l.start;
  while (lo - 1 >= 0 && measured(lo - 1)?.status === 'ok') lo--;
  const down = lo - 1;
  if (down >= 0 && !measured(down) && !blocked(down)) {
    const tied = lo === l.start || rpsOf(results, at(lo)) >= rpsOf(results, at(lo + 1)) * (1 - TIE);
    if (tied) return { ...at(down), why: `${at(down).why}; down from ${label(at(lo).shape)}` };
  }
  return null;
}

/** Classes still worth measuring: not far behind the best one, unless their tail is better. */
function pruned(cls: WorkerClass, results: readonly Measured[]): boolean {
  const ok = results.filter((r) => r.status === 'ok');
  const best = ok.reduce<Measured | null>((a, r) => (!a || r.rps > a.rps ? r : a), null);
  const mine = ok.filter((r) => r.workerClass === cls);
  if (!best || mine.length === 0) return false;
  // Even its luckiest run behind the leader's unluckiest: one noisy run cannot drop a class.
  const luckiest = Math.max(...mine.map((r) => r.spread.rps[1]));
  const p99 = Math.min(...mine.map((r) => r.p99));
  return luckiest < best.spread.rps[0] * (1 - PRUNE) && p99 >= best.p99;
}

/**
 * The next step, or null when every class has converged. Classes take turns (fewest measured
 * first, so each class gets its starting point before any climbs), the most promising first.
 */
export function nextStep(
  space: SearchSpace,
  results: readonly Measured[],
  skipped: readonly Shape[],
): Next | null {
  const proposals = space.classes
    .filter((cls) => !pruned(cls, results))
    .map((cls) => ({ cls, step: classStep(ladder(cls, space), results, skipped) }))
    .filter((p): p is { cls: WorkerClass; step: Step } => p.step !== null)
    .map((p) => {
      const mine = results.filter((r) => r.workerClass === p.cls);
      return { ...p, count: mine.length, best: Math.max(0, ...mine.map((r) => r.rps)) };
    })
    .sort((a, b) => a.count - b.count || b.best - a.best);
  const first = proposals[0];
  if (!first) return null;
  const predicted = predictRss(first.step.shape, results);
  if (space.memoryLimit !== null && predicted !== null && predicted > space.memoryLimit) {
    const mib = (n: number) => `${Math.round(n / 2 ** 20)} MiB`;
    return {
      kind: 'skip',
      step: first.step,
      reason: `would need about ${mib(predicted)}, over the memory budget of ${mib(space.memoryLimit)}`,
    };
  }
  return { kind: 'measure', step: first.step };
}
