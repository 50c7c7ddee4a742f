/** The master's status snapshot (control socket, `corral top`, /metrics), from its parts. */
import type { Aggregate } from '../metrics/aggregate.ts';
import type { Status } from '../metrics/status.ts';
import { VERSION } from '../version.ts';
import type { WorkerHandle } from './worker-handle.ts';

/** What only the master knows; the rest comes from the workers and the totals. */
export type StatusParts = Pick<
  Status,
  'ready' | 'stopping' | 'workerClass' | 'target' | 'binds' | 'waiting' | 'shed' | 'advice'
>;

export function buildStatus(
  workers: readonly WorkerHandle[],
  aggregate: Aggregate,
  parts: StatusParts,
): Status {
  return {
    pid: process.pid,
    version: VERSION,
    ...parts,
    workers: workers.map((w) => ({
      id: w.id,
      slot: w.slot,
      pid: w.pid,
      state: w.state,
      retiring: w.retiring,
      uptimeSeconds: Math.round(w.age / 1000),
      requests: w.stats.requests,
      inFlight: w.stats.inFlight,
      connections: w.conns,
      rssBytes: w.stats.rssBytes,
      heapUsedBytes: w.stats.heapUsedBytes,
      cpuSeconds: w.stats.cpuSeconds,
      elu: w.stats.elu,
      lagSeconds: w.stats.lagSeconds,
      silentSeconds: Math.round(w.silentFor / 100) / 10,
      stalled: w.state === 'ready' && w.stale(),
    })),
    totals: aggregate.totals(workers.map((w) => w.stats)),
    restarts: Object.fromEntries(aggregate.restarts),
  };
}
