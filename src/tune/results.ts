/**
 * What `corral tune` measures and reports, as data: one shape per candidate configuration,
 * the runs measured at it, and the summary the table, the charts, `--json` and the config file
 * are all written from.
 */
import type { WorkerClass } from '../config/settings.ts';

/** A configuration to measure: the three settings tune varies. */
export interface Shape {
  readonly workerClass: WorkerClass;
  readonly workers: number;
  readonly threads: number;
}

/** Event loops serving requests: processes × threads. The x axis of the charts. */
export function loops(s: Shape): number {
  return s.workers * s.threads;
}

/** `async × 2`, `thread 1 × 4`. */
export function label(s: Shape): string {
  return s.workerClass === 'thread'
    ? `thread ${s.workers} × ${s.threads}`
    : `${s.workerClass} × ${s.workers}`;
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.workerClass === b.workerClass && a.workers === b.workers && a.threads === b.threads;
}

/** One measured run of the load generator against a running candidate. */
export interface Run {
  readonly rps: number;
  /** Milliseconds. */
  readonly p50: number;
  readonly p99: number;
  /** Responses (any status). */
  readonly requests: number;
  /** Socket errors, timeouts and non-2xx responses. */
  readonly errors: number;
  /** CPU the server's process tree used, in CPUs (CPU-seconds per second); null off Linux. */
  readonly cpu: number | null;
  /** CPU the load generator used, in CPUs. */
  readonly loadgenCpu: number;
  /** CPU the whole machine used, in CPUs; null off Linux. */
  readonly machineCpu: number | null;
}

export interface Measured extends Shape {
  /** Why the search measured this shape: `cpu: 1 per CPU`, `one step up from async × 2`. */
  readonly why: string;
  readonly status: 'ok' | 'failed';
  /** Why it failed (status failed). */
  readonly error?: string;
  /** Medians over the runs. */
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  /** Summed over the runs. */
  readonly errors: number;
  readonly requests: number;
  /** Peak RSS of the whole process tree (master, workers) under load; null off Linux. */
  readonly rssBytes: number | null;
  /** Mean RSS of one worker process at that peak. */
  readonly workerRssBytes: number | null;
  /** Median CPU of the server's process tree, in CPUs. */
  readonly cpu: number | null;
  /** Highest load generator CPU over the runs, in CPUs. */
  readonly loadgenCpu: number;
  /** Highest CPU used by other processes over the runs, in CPUs. */
  readonly otherCpu: number | null;
  readonly spread: {
    readonly rps: readonly [number, number];
    readonly p99: readonly [number, number];
  };
  readonly runs: readonly Run[];
  /** How many of `runs` were measured in the finals (see finals.ts); absent when none. */
  readonly finalRuns?: number;
  /** Seconds from spawning corral to its `ready:` line. */
  readonly bootSeconds: number;
}

/** Set when a candidate is not eligible for the recommendation. */
export interface Verdict {
  readonly eligible: boolean;
  /** Why not, in words: `p99 812 ms over --max-p99 500 ms`. */
  readonly reasons: readonly string[];
}

export interface Recommendation {
  readonly candidate: Measured;
  /** False when no candidate met the budget and this is only the closest. */
  readonly withinBudget: boolean;
  /** One paragraph: why this one. */
  readonly why: string;
}

export interface Skipped extends Shape {
  readonly reason: string;
}

export interface TuneSummary {
  readonly app: string;
  readonly date: string;
  readonly machine: {
    /** Usable CPUs (whole), as sizing reads them, and where that came from. */
    readonly cpus: number;
    readonly cpuSource: string;
    readonly memoryBytes: number;
    readonly memorySource: string;
    readonly node: string;
    readonly platform: string;
  };
  readonly load: {
    readonly requests: readonly string[];
    readonly connections: number;
    readonly duration: number;
    readonly warmup: number;
    readonly runs: number;
  };
  readonly budget: { readonly maxP99: number | null; readonly maxMemory: number | null };
  readonly candidates: readonly (Measured & { readonly verdict: Verdict })[];
  readonly recommended: Recommendation | null;
  readonly skipped: readonly Skipped[];
  readonly warnings: readonly string[];
  readonly elapsedSeconds: number;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return 0;
  const mid = s.length >> 1;
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}
