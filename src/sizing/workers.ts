/**
 * How many workers to start, and why: the one function `corral config` and `corral serve`
 * both call, so the count reported is the count started.
 */
import type { Config, WorkersValue } from '../config/settings.ts';
import { UsageError } from '../errors.ts';
import { envPairs } from '../master/spawn.ts';
import { explainSizing } from './explain.ts';
import { type Measurement, measureWorker } from './measure.ts';
import { type Host, type Resource, type Resources, readResources, realHost } from './resources.ts';
import {
  autoStrategy,
  type Clamp,
  type CpuStrategy,
  clamp,
  cpuFormula,
  memoryFit,
  ROOMY_WORKER_BYTES,
  wholeCpus,
} from './strategies.ts';

export type SizingConfig = Pick<
  Config,
  | 'workers'
  | 'single'
  | 'workerClass'
  | 'threads'
  | 'workersPerCore'
  | 'minWorkers'
  | 'maxWorkers'
  | 'memoryMargin'
  | 'memoryReserve'
  | 'preload'
>;

export interface SizingContext {
  readonly host: Host;
  /** Boot one worker of the app and read its RSS (only called when memory must be checked). */
  measure(): Promise<Measurement>;
}

export interface MemoryCheck {
  /** The smallest memory limit and every candidate. */
  readonly limit: Resource;
  readonly masterRssBytes: number;
  /** With --preload the master loads the app too: one worker's private memory more. */
  readonly preloadBytes: number;
  readonly reserveBytes: number;
  /** limit − master − preloaded app − reserve. */
  readonly budgetBytes: number;
  readonly margin: number;
  /** False when auto found the budget roomy enough not to boot a probe. */
  readonly measured: boolean;
  /** The probe worker's RSS. */
  readonly perWorkerRssBytes: number | null;
  /**
   * The part of it only that worker holds (Linux RssAnon + RssShmem): what one more worker
   * adds to the cgroup's charge. Its file pages (the node binary) are shared with the master,
   * whose whole RSS the budget already subtracts. Null off Linux, where RSS is used instead.
   */
  readonly perWorkerPrivateBytes: number | null;
  /** What one worker is counted as: (private, else RSS) × margin. */
  readonly perWorkerBytes: number | null;
  readonly measuredWhat: string | null;
  /** How many workers of perWorkerBytes fit the budget; null when not measured. */
  readonly fits: number | null;
}

export interface Sizing {
  /** Workers to start; 0 = single-process mode. */
  readonly count: number;
  readonly strategy: 'single' | 'fixed' | 'cpu' | 'io' | 'conservative' | 'memory' | 'adaptive';
  /** -w adaptive: the range the master regulates the count within. */
  readonly adaptive?: { readonly min: number; readonly max: number };
  /** What was asked for: the workers setting, or single. */
  readonly requested: WorkersValue | 'single';
  /** What auto chose and why (auto only). */
  readonly auto: { readonly strategy: string; readonly why: string } | null;
  /** The CPU formula with its numbers, e.g. `2×1+1 = 3` (strategies only). */
  readonly formula: string | null;
  readonly workersPerCore: number;
  readonly layout: Resources['layout'] | null;
  /** The smallest CPU source (possibly fractional: a quota) and every candidate. */
  readonly cpus: Resource | null;
  /** cpus.value as whole CPUs (nearest, half up, at least 1): what the formulas use. */
  readonly usableCpus: number | null;
  readonly clamp: (Clamp & { readonly min: number; readonly max: number | null }) | null;
  readonly memory: MemoryCheck | null;
  /** The whole derivation in one line (the startup log and `config --explain` show it). */
  readonly why: string;
}

/** Where workers will run: their working directory (after --chdir) and environment. */
export interface WorkerPlace {
  readonly cwd: string;
  readonly env: Readonly<Record<string, string | undefined>>;
}

export function realSizingContext(config: Config, where: WorkerPlace): SizingContext {
  return {
    host: realHost(),
    measure: () =>
      measureWorker({
        config,
        cwd: where.cwd,
        env: { ...where.env, ...envPairs(config) },
      }),
  };
}

async function checkMemory(
  config: SizingConfig,
  ctx: SizingContext,
  limit: Resource,
  count: number,
  always: boolean,
): Promise<MemoryCheck> {
  const masterRssBytes = ctx.host.rss();
  const before = limit.value - masterRssBytes - config.memoryReserve;
  const base = {
    limit,
    masterRssBytes,
    reserveBytes: config.memoryReserve,
    margin: config.memoryMargin,
  };
  if (!always && before >= count * ROOMY_WORKER_BYTES) {
    return {
      ...base,
      preloadBytes: 0,
      budgetBytes: before,
      measured: false,
      perWorkerRssBytes: null,
      perWorkerPrivateBytes: null,
      perWorkerBytes: null,
      measuredWhat: null,
      fits: null,
    };
  }
  const m = await ctx.measure();
  const own = m.privateBytes ?? m.rssBytes;
  // Sizing runs before --preload loads the app into the master (and `config` never loads it),
  // so both count the app the master will hold the same way: as one worker's private memory.
  const preloadBytes = config.preload ? own : 0;
  const budgetBytes = before - preloadBytes;
  const perWorkerBytes = own * config.memoryMargin;
  return {
    ...base,
    preloadBytes,
    budgetBytes,
    measured: true,
    perWorkerRssBytes: m.rssBytes,
    perWorkerPrivateBytes: m.privateBytes,
    perWorkerBytes,
    measuredWhat: m.what,
    fits: memoryFit(budgetBytes, perWorkerBytes),
  };
}

export async function sizeWorkers(config: SizingConfig, ctx: SizingContext): Promise<Sizing> {
  const none = {
    auto: null,
    formula: null,
    workersPerCore: config.workersPerCore,
    layout: null,
    cpus: null,
    usableCpus: null,
    clamp: null,
    memory: null,
  };
  if (config.single || config.workers === 0) {
    const s: Omit<Sizing, 'why'> = {
      ...none,
      count: 0,
      strategy: 'single',
      requested: config.single ? 'single' : 0,
    };
    return { ...s, why: explainSizing(s) };
  }
  if (typeof config.workers === 'number') {
    const s: Omit<Sizing, 'why'> = {
      ...none,
      count: config.workers,
      strategy: 'fixed',
      requested: config.workers,
    };
    return { ...s, why: explainSizing(s) };
  }
  if (config.maxWorkers !== null && config.minWorkers > config.maxWorkers) {
    throw new UsageError(
      `corral: --min-workers ${config.minWorkers} is above --max-workers ${config.maxWorkers}`,
    );
  }
  const adaptive = config.workers === 'adaptive';
  // adaptive's ceiling is what auto would start: usable CPUs × factor, within the memory fit.
  const requested = adaptive ? 'auto' : config.workers;
  const auto = requested === 'auto' ? autoStrategy(config.workerClass) : null;
  // memory starts from the io count and lowers it; auto from what suits the worker class.
  const cpuStrategy: CpuStrategy = auto
    ? auto.strategy
    : requested === 'memory' || requested === 'auto'
      ? 'io'
      : requested;
  const resources = readResources(ctx.host);
  const usableCpus = wholeCpus(resources.cpus.value);
  // A thread-class worker already spreads over `threads` cores: auto counts processes so that
  // processes × threads ≈ CPUs.
  const perCore =
    auto && config.workerClass === 'thread'
      ? config.workersPerCore / config.threads
      : config.workersPerCore;
  const formula = cpuFormula(cpuStrategy, usableCpus, perCore);
  const clamped = clamp(formula.count, adaptive ? 1 : config.minWorkers, config.maxWorkers);
  let count = clamped.count;
  let memory: MemoryCheck | null = null;
  if (requested === 'memory' || requested === 'auto') {
    memory = await checkMemory(config, ctx, resources.memory, count, requested === 'memory');
    // Workers that do not fit get OOM-killed and crash-loop: the fit wins over --min-workers,
    // but one worker is always started (fewer than one is not a server).
    if (memory.fits !== null) count = Math.max(1, Math.min(count, memory.fits));
  }
  const range = adaptive
    ? { min: Math.min(count, Math.max(1, config.minWorkers)), max: count }
    : undefined;
  const s: Omit<Sizing, 'why'> = {
    count: range ? range.min : count,
    strategy: adaptive ? 'adaptive' : requested === 'memory' ? 'memory' : cpuStrategy,
    requested: config.workers,
    ...(range ? { adaptive: range } : {}),
    auto: auto ? { strategy: auto.strategy, why: auto.why } : null,
    formula: formula.text,
    workersPerCore: perCore,
    layout: resources.layout,
    cpus: resources.cpus,
    usableCpus,
    clamp: { ...clamped, min: config.minWorkers, max: config.maxWorkers },
    memory,
  };
  return { ...s, why: explainSizing(s) };
}

/** The count corral starts for this config: what `serve` starts and `config` reports. */
export function sizeForConfig(config: Config, where: WorkerPlace): Promise<Sizing> {
  return sizeWorkers(config, realSizingContext(config, where));
}
