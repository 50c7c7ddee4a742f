/**
 * What a worker measures about itself and sends in every heartbeat: counters and a latency
 * histogram kept with plain arithmetic per request (no allocation), plus process gauges read
 * once per beat. The master adds these up (metrics/aggregate.ts).
 */

/** Latency bucket upper bounds, seconds (Prometheus' defaults, which suit web requests). */
export const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

export interface WorkerStats {
  readonly requests: number;
  readonly inFlight: number;
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
  /** User + system CPU time since the worker started. */
  readonly cpuSeconds: number;
  /** Event-loop utilisation since the previous beat, 0..1. */
  readonly elu: number;
  /** Event-loop delay p99 since the previous beat, seconds. */
  readonly lagSeconds: number;
  /** Responses by status class: 1xx, 2xx, 3xx, 4xx, 5xx. */
  readonly statusClasses: readonly number[];
  /** Per-bucket (non-cumulative) counts, one more than LATENCY_BUCKETS for +Inf. */
  readonly latencyCounts: readonly number[];
  readonly latencySumSeconds: number;
}

export const EMPTY_STATS: WorkerStats = {
  requests: 0,
  inFlight: 0,
  rssBytes: 0,
  heapUsedBytes: 0,
  cpuSeconds: 0,
  elu: 0,
  lagSeconds: 0,
  statusClasses: [0, 0, 0, 0, 0],
  latencyCounts: LATENCY_BUCKETS.map(() => 0).concat(0),
  latencySumSeconds: 0,
};

/** Request outcomes, counted on the request path. */
export class RequestStats {
  readonly statusClasses = [0, 0, 0, 0, 0];
  readonly latencyCounts: number[] = LATENCY_BUCKETS.map(() => 0).concat(0);
  latencySumSeconds = 0;

  observe(status: number, seconds: number): void {
    const cls = Math.min(4, Math.max(0, Math.floor(status / 100) - 1));
    this.statusClasses[cls] = (this.statusClasses[cls] ?? 0) + 1;
    let i = 0;
    while (i < LATENCY_BUCKETS.length && seconds > (LATENCY_BUCKETS[i] as number)) i++;
    this.latencyCounts[i] = (this.latencyCounts[i] ?? 0) + 1;
    this.latencySumSeconds += seconds;
  }
}

/** Process gauges sampled once per heartbeat. */
export class ProcessSampler {
  #elu = performance.eventLoopUtilization();
  // perf_hooks is loaded by the processes that sample (workers), not by every importer of
  // this module (the master, for the stats types): 1.4 MiB of RSS.
  readonly #delay = process.getBuiltinModule('node:perf_hooks').monitorEventLoopDelay({
    resolution: 10,
  });

  constructor() {
    this.#delay.enable();
  }

  sample(): Pick<WorkerStats, 'rssBytes' | 'heapUsedBytes' | 'cpuSeconds' | 'elu' | 'lagSeconds'> {
    const now = performance.eventLoopUtilization();
    const elu = performance.eventLoopUtilization(now, this.#elu).utilization;
    this.#elu = now;
    const lag = this.#delay.count ? this.#delay.percentile(99) / 1e9 : 0;
    this.#delay.reset();
    const cpu = process.cpuUsage();
    return {
      rssBytes: process.memoryUsage.rss(),
      heapUsedBytes: process.memoryUsage().heapUsed,
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      elu,
      lagSeconds: lag,
    };
  }
}
