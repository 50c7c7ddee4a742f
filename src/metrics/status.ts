/** The master's state as `corral ctl status --json`, `corral top` and /metrics see it. */
import type { Totals } from './aggregate.ts';

export interface WorkerStatus {
  readonly id: number;
  /** 1..N, reused by the worker that replaces it: the `worker` label of its metrics. */
  readonly slot: number;
  readonly pid: number;
  readonly state: string;
  /** Due for replacement (max-requests, memory, reload, timeout). */
  readonly retiring: boolean;
  readonly uptimeSeconds: number;
  readonly requests: number;
  readonly inFlight: number;
  /** Open connections: as it last reported them (shared, reuseport) or handed over (least-conn). */
  readonly connections: number;
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
  readonly cpuSeconds: number;
  readonly elu: number;
  readonly lagSeconds: number;
  /** Seconds since its last heartbeat (they come twice a second). */
  readonly silentSeconds: number;
  /** Ready, but its heartbeats are 1.2 s late: its event loop is blocked (or it is stopped). */
  readonly stalled: boolean;
}

export interface Status {
  readonly pid: number;
  readonly version: string;
  readonly ready: boolean;
  readonly stopping: boolean;
  readonly workerClass: string;
  readonly target: number;
  readonly binds: readonly string[];
  /**
   * Connections waiting for a free worker: unread in the master (least-conn), or in the
   * kernel's accept queue while every worker is at its cap (shared, looked at once a second).
   */
  readonly waiting: number;
  /** Connections answered 503 after waiting --queue-timeout for a worker, since start. */
  readonly shed: number;
  readonly workers: readonly WorkerStatus[];
  readonly totals: Totals;
  readonly restarts: Readonly<Record<string, number>>;
  /** The provisioning advisor's current finding, if any. */
  readonly advice: string | null;
}
