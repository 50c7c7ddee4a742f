/**
 * The master's running totals. Counters must never go backwards when workers come and go, so
 * a worker's last heartbeat is folded into `retired` when it exits; live workers add theirs.
 */
import { EMPTY_STATS, type WorkerStats } from './stats.ts';

export type RestartReason =
  | 'crash'
  | 'timeout'
  | 'max-requests'
  | 'memory'
  | 'request-timeout'
  | 'reload'
  | 'scale-down'
  /** A listen-mode app closed its own server. */
  | 'app-closed'
  | 'lifetime'
  | 'event-loop-delay'
  /** A reload rolled back: its canary stopped (counted once per rollback). */
  | 'rollback';

export interface Totals {
  requests: number;
  cpuSeconds: number;
  statusClasses: number[];
  latencyCounts: number[];
  latencySumSeconds: number;
}

function empty(): Totals {
  return {
    requests: 0,
    cpuSeconds: 0,
    statusClasses: [...EMPTY_STATS.statusClasses],
    latencyCounts: [...EMPTY_STATS.latencyCounts],
    latencySumSeconds: 0,
  };
}

function addInto(t: Totals, s: WorkerStats): void {
  t.requests += s.requests;
  t.cpuSeconds += s.cpuSeconds;
  t.latencySumSeconds += s.latencySumSeconds;
  s.statusClasses.forEach((n, i) => {
    t.statusClasses[i] = (t.statusClasses[i] ?? 0) + n;
  });
  s.latencyCounts.forEach((n, i) => {
    t.latencyCounts[i] = (t.latencyCounts[i] ?? 0) + n;
  });
}

export class Aggregate {
  readonly #retired = empty();
  readonly restarts = new Map<RestartReason, number>();

  /** A worker exited: keep its counts; count the restart if it was one. */
  retire(stats: WorkerStats, reason: RestartReason | null): void {
    addInto(this.#retired, stats);
    if (reason) this.count(reason);
  }

  /** Count a restart: a worker's exit, or an event that is none (a reload rolled back). */
  count(reason: RestartReason): void {
    this.restarts.set(reason, (this.restarts.get(reason) ?? 0) + 1);
  }

  /** Everything served so far: retired workers plus the live ones' last heartbeats. */
  totals(live: Iterable<WorkerStats>): Totals {
    const t = empty();
    addInto(t, { ...EMPTY_STATS, ...this.#retired, inFlight: 0 } as WorkerStats);
    for (const s of live) addInto(t, s);
    return t;
  }
}
