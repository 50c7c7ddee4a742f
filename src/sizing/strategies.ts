/**
 * The worker-count formulas, pure: CPUs in, a count and the formula with its numbers out.
 *
 * Rounding happens twice, each measured or conventional (docs/sizing.md):
 * - usable CPUs: a fractional CFS quota rounds to the nearest whole CPU, half up (1.5 → 2,
 *   1.25 → 1), never below 1. Measured under a 1.5-CPU quota, a second CPU-bound worker added
 *   50% throughput for 20% more p99; under 1.25, 16–20% throughput for 55% more p99.
 * - the formulas on whole CPUs × workers-per-core round down, as the seeds' `int()` does, then
 *   rise to the strategy's floor.
 */

/** A quota's CPUs as whole CPUs: nearest, half up, at least 1. */
export function wholeCpus(cpus: number): number {
  return Math.max(1, Math.floor(cpus + 0.5 + 1e-9));
}

export type CpuStrategy = 'cpu' | 'io' | 'conservative';

export interface Formula {
  readonly count: number;
  /** With its numbers, e.g. `2×1+1 = 3`, `max(1, ⌊1.5⌋) = 1`. */
  readonly text: string;
}

/** Guards ⌊3×0.1×10⌋-style float error: 2.9999999999 is 3. */
const floor = (x: number) => Math.floor(x + 1e-9);
const isWhole = (x: number) => Math.abs(x - Math.round(x)) < 1e-9;

/** 2 → `2`, 1.5 → `1.5`, 1/3 → `0.33`. */
export function num(x: number): string {
  return String(Math.round(x * 100) / 100);
}

export function cpuFormula(strategy: CpuStrategy, cpus: number, perCore: number): Formula {
  const term = cpus * perCore;
  const t = perCore === 1 ? num(cpus) : `${num(cpus)}×${num(perCore)}`;
  switch (strategy) {
    case 'cpu': {
      const count = Math.max(1, floor(term));
      // A whole number of CPUs needs no formula: `2`, not `2 = 2`.
      if (isWhole(term) && term >= 1)
        return { count, text: t === String(count) ? t : `${t} = ${count}` };
      return { count, text: `max(1, ⌊${t}⌋) = ${count}` };
    }
    case 'io': {
      const count = floor(2 * term) + 1;
      const text = isWhole(2 * term) ? `2×${t}+1` : `⌊2×${t}⌋+1`;
      return { count, text: `${text} = ${count}` };
    }
    case 'conservative': {
      const count = Math.max(2, floor(0.5 * term));
      return { count, text: `max(2, ⌊0.5×${t}⌋) = ${count}` };
    }
  }
}

/**
 * What `auto` means for a worker class. sync serves one request at a time, so a worker per
 * CPU keeps every CPU busy without queueing behind more processes than cores. For async, one
 * event loop per CPU was measured to match or beat 2×CPU+1 (docs/benchmarks.md, "Worker
 * sizing"): extra processes only split the same CPUs and add memory.
 */
const AUTO_BY_CLASS: Readonly<Record<string, { strategy: CpuStrategy; why: string }>> = {
  async: { strategy: 'cpu', why: 'for async workers' },
  sync: { strategy: 'cpu', why: 'for sync workers' },
  thread: { strategy: 'cpu', why: 'for thread workers: CPUs ÷ threads per worker' },
};

export function autoStrategy(workerClass: string): { strategy: CpuStrategy; why: string } {
  return AUTO_BY_CLASS[workerClass] ?? { strategy: 'cpu', why: `for ${workerClass} workers` };
}

export interface Clamp {
  readonly count: number;
  /** Which bound moved the count, if one did. */
  readonly by: 'min' | 'max' | null;
}

export function clamp(count: number, min: number, max: number | null): Clamp {
  if (count < min) return { count: min, by: 'min' };
  if (max !== null && count > max) return { count: max, by: 'max' };
  return { count, by: null };
}

/** How many workers of `perWorkerBytes` fit in `budgetBytes` (0 when not even one does). */
export function memoryFit(budgetBytes: number, perWorkerBytes: number): number {
  return budgetBytes <= 0 ? 0 : Math.floor(budgetBytes / perWorkerBytes);
}

/**
 * auto boots a probe worker only when the memory budget is under this much per CPU-derived
 * worker: many times a Node worker's private memory after boot (16–35 MiB for small apps,
 * docs/benchmarks.md), so a roomy machine starts without the extra boot, and a tight one (a
 * container limit of a few hundred MiB per CPU, a small VM) is always measured.
 */
export const ROOMY_WORKER_BYTES = 512 * 2 ** 20;
