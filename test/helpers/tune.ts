/** Synthetic tune results for the pure parts of `corral tune` (plan, rule, rendering). */

import { recommend, verdict } from '../../src/tune/recommend.ts';
import type { Measured, Shape, TuneSummary } from '../../src/tune/results.ts';

export const MiB = 2 ** 20;

/** A measured candidate: `rps` and `p99` as given, memory = 50 MiB master + 60 MiB a worker. */
export function fake(shape: Shape, rps: number, p99 = 20, over: Partial<Measured> = {}): Measured {
  const worker = 60 * MiB * (shape.threads > 1 ? 0.5 + 0.5 * shape.threads : 1);
  return {
    ...shape,
    why: 'test',
    status: 'ok',
    rps,
    p50: p99 / 2,
    p99,
    errors: 0,
    requests: Math.round(rps * 6),
    rssBytes: 50 * MiB + shape.workers * worker,
    workerRssBytes: worker,
    cpu: 1,
    loadgenCpu: 0.2,
    otherCpu: 0,
    spread: { rps: [rps * 0.98, rps * 1.02], p99: [p99 * 0.9, p99 * 1.1] },
    runs: [1, 2, 3].map(() => ({
      rps,
      p50: p99 / 2,
      p99,
      requests: Math.round(rps * 2),
      errors: 0,
      cpu: 1,
      loadgenCpu: 0.2,
      machineCpu: 1.2,
    })),
    bootSeconds: 0.5,
    ...over,
  };
}

export const async = (workers: number): Shape => ({ workerClass: 'async', workers, threads: 1 });
export const sync = (workers: number): Shape => ({ workerClass: 'sync', workers, threads: 1 });
export const thread = (workers: number, threads: number): Shape => ({
  workerClass: 'thread',
  workers,
  threads,
});

/** A summary around `measured`, judged against `budget`, as the command builds it. */
export function summary(
  measured: readonly Measured[],
  budget: TuneSummary['budget'] = { maxP99: null, maxMemory: null },
): TuneSummary {
  const candidates = measured.map((m) => ({ ...m, verdict: verdict(m, budget) }));
  return {
    app: 'app.mjs',
    date: '2026-11-24 12:00',
    machine: {
      cpus: 2,
      cpuSource: 'scheduler affinity',
      memoryBytes: 8 * 1024 * MiB,
      memorySource: 'host available',
      node: 'v24.21.0',
      platform: 'linux x64',
    },
    load: { requests: ['GET /cpu'], connections: 64, duration: 2, warmup: 2, runs: 3 },
    budget,
    candidates,
    recommended: recommend(candidates),
    skipped: [],
    warnings: [],
    elapsedSeconds: 42,
  };
}
