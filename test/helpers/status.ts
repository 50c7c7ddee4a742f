// Status snapshots as the master builds them (metrics/status.ts), for the code that reads
// them: /metrics, ctl status, corral top.
import type { Status, WorkerStatus } from '../../src/metrics/status.ts';

/** A ready worker, 1 s old, idle; `over` sets what a test looks at. */
export function workerStatus(id: number, over: Partial<WorkerStatus> = {}): WorkerStatus {
  return {
    id,
    slot: id,
    pid: 1000 + id,
    state: 'ready',
    retiring: false,
    uptimeSeconds: 1,
    requests: 0,
    inFlight: 0,
    connections: 0,
    rssBytes: id * 1e6,
    heapUsedBytes: 1,
    cpuSeconds: 1,
    elu: 0.5,
    lagSeconds: 0.01,
    silentSeconds: 0.2,
    stalled: false,
    ...over,
  };
}

/** A ready async server with these workers and no traffic yet. */
export function statusOf(workers: WorkerStatus[], over: Partial<Status> = {}): Status {
  return {
    pid: 1,
    version: '0',
    ready: true,
    stopping: false,
    workerClass: 'async',
    target: workers.length,
    binds: [],
    waiting: 0,
    shed: 0,
    workers,
    totals: {
      requests: 0,
      cpuSeconds: 0,
      statusClasses: [0, 0, 0, 0, 0],
      latencyCounts: Array(12).fill(0),
      latencySumSeconds: 0,
    },
    restarts: {},
    advice: null,
    ...over,
  };
}
