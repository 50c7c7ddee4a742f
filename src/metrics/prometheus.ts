/**
 * /metrics: the master's status, Node's metrics of the master and of each worker, and the
 * app's own prom-client metrics summed across the workers, as Prometheus text
 * (metrics/exposition.ts writes it; no library is loaded into the master for it). corral's
 * values come from the heartbeats the master already has, read at scrape time; the rest is
 * asked of the workers when scraped (metrics/collect.ts).
 */
import type { WorkerMetrics } from './collect.ts';
import { aggregate, type Family, merge, render, type Sample, withLabels } from './exposition.ts';
import { lagFamily, nodeMetrics } from './node-process.ts';
import { LATENCY_BUCKETS } from './stats.ts';
import type { Status } from './status.ts';

export { CONTENT_TYPE } from './exposition.ts';

type WorkerStatus = Status['workers'][number];

/** Which worker of a slot is shown while a replacement and its predecessor both live. */
function rank(w: WorkerStatus): number {
  if (w.state === 'ready') return w.retiring ? 1 : 0;
  return w.state === 'booting' ? 2 : 3;
}

function onePerSlot(workers: readonly WorkerStatus[]): WorkerStatus[] {
  const bySlot = new Map<number, WorkerStatus>();
  for (const w of workers) {
    const had = bySlot.get(w.slot);
    if (!had || rank(w) < rank(had)) bySlot.set(w.slot, w);
  }
  return [...bySlot.values()].sort((a, b) => a.slot - b.slot);
}

function snapshot(
  name: string,
  help: string,
  type: 'gauge' | 'counter' | 'histogram',
  values: Sample[],
): Family {
  return { name, help, type, values };
}

/**
 * The exposition. `workers`: what the workers answered to this scrape. Worker series carry a
 * `worker` label with the worker's slot (1..N, reused by its replacement), never a pid, so a
 * recycle does not start new series. An app's own families come first: one that collects
 * Node's default metrics itself gets its own, summed, instead of corral's.
 */
export function renderMetrics(
  s: Status,
  backlog: ReadonlyMap<string, number>,
  workers: readonly WorkerMetrics[] = [],
): string {
  const out: Family[] = [];
  const add = (m: Family) => out.push(m);
  const shown = onePerSlot(s.workers);
  const perWorker = (f: (w: WorkerStatus) => number): Sample[] =>
    shown.map((w) => ({ value: f(w), labels: { worker: w.slot } }));
  const states = ['booting', 'ready', 'draining'];
  add(
    snapshot('corral_workers', 'Worker processes by state.', 'gauge', [
      ...states.map((state) => ({
        value: s.workers.filter((w) => w.state === state).length,
        labels: { state },
      })),
      { value: s.target, labels: { state: 'target' } },
    ]),
  );
  add(
    snapshot(
      'corral_requests_total',
      'Requests answered, by status class.',
      'counter',
      s.totals.statusClasses.map((n, i) => ({ value: n, labels: { status: `${i + 1}xx` } })),
    ),
  );
  let cumulative = 0;
  const buckets: Sample[] = LATENCY_BUCKETS.map((le, i) => {
    cumulative += s.totals.latencyCounts[i] ?? 0;
    return {
      metricName: 'corral_request_duration_seconds_bucket',
      value: cumulative,
      labels: { le },
    };
  });
  const count = s.totals.latencyCounts.reduce((a, b) => a + b, 0);
  add(
    snapshot(
      'corral_request_duration_seconds',
      'Request duration, from request to response end.',
      'histogram',
      [
        ...buckets,
        {
          metricName: 'corral_request_duration_seconds_bucket',
          value: count,
          labels: { le: '+Inf' },
        },
        { metricName: 'corral_request_duration_seconds_sum', value: s.totals.latencySumSeconds },
        { metricName: 'corral_request_duration_seconds_count', value: count },
      ],
    ),
  );
  add(
    snapshot('corral_requests_in_flight', 'Requests being served now.', 'gauge', [
      { value: s.workers.reduce((n, w) => n + w.inFlight, 0) },
    ]),
  );
  add(
    snapshot(
      'corral_waiting_connections',
      'Connections waiting for a free worker: accepted by the master (least-conn), or in the kernel accept queue while every worker is at its cap (shared; looked at once a second).',
      'gauge',
      [{ value: s.waiting }],
    ),
  );
  add(
    snapshot(
      'corral_connections_shed_total',
      'Connections answered 503 (Retry-After) after waiting --queue-timeout for a worker.',
      'counter',
      [{ value: s.shed }],
    ),
  );
  add(
    snapshot(
      'corral_worker_rss_bytes',
      'Resident memory of each worker.',
      'gauge',
      perWorker((w) => w.rssBytes),
    ),
  );
  add(
    snapshot(
      'corral_worker_heap_used_bytes',
      'V8 heap in use in each worker.',
      'gauge',
      perWorker((w) => w.heapUsedBytes),
    ),
  );
  add(
    snapshot(
      'corral_worker_connections',
      'Open connections of each worker: as it last reported them (shared and reuseport dispatch: within an eighth, or every 250 ms under churn) or handed to it and not yet closed (least-conn).',
      'gauge',
      perWorker((w) => w.connections),
    ),
  );
  add(
    snapshot(
      'corral_worker_heartbeat_age_seconds',
      "Seconds since each worker's last heartbeat (they come twice a second): above 1.2 its event loop is blocked, or it is stopped, and it takes no new connections.",
      'gauge',
      perWorker((w) => w.silentSeconds),
    ),
  );
  add(
    snapshot(
      'corral_worker_event_loop_utilization',
      "Share of time each worker's event loop was busy, since its last heartbeat.",
      'gauge',
      perWorker((w) => w.elu),
    ),
  );
  add(
    snapshot(
      'corral_worker_event_loop_lag_seconds',
      'Event-loop delay p99 of each worker, since its last heartbeat.',
      'gauge',
      perWorker((w) => w.lagSeconds),
    ),
  );
  add(
    snapshot(
      'corral_worker_cpu_seconds_total',
      'CPU time used by each worker.',
      'counter',
      perWorker((w) => w.cpuSeconds),
    ),
  );
  add(
    snapshot(
      'corral_worker_restarts_total',
      'Workers replaced, by reason.',
      'counter',
      Object.entries(s.restarts).map(([reason, n]) => ({ value: n, labels: { reason } })),
    ),
  );
  add(
    snapshot('corral_ready', '1 when the server takes traffic (what /readyz answers).', 'gauge', [
      { value: s.ready ? 1 : 0 },
    ]),
  );
  if (backlog.size) {
    add(
      snapshot(
        'corral_listen_backlog',
        "Connections waiting in the kernel's accept queue, per bind.",
        'gauge',
        [...backlog].map(([bind, n]) => ({ value: n, labels: { bind } })),
      ),
    );
  }
  // The app's counts of every worker, leaving ones too; Node's of the one shown per slot.
  const app = aggregate(workers.map((w) => w.app));
  const lag = new Map(shown.map((w) => [w.slot, w.lagSeconds]));
  const ids = new Set(shown.map((w) => w.id));
  const node = merge([
    ...nodeMetrics(),
    ...workers
      .filter((w) => ids.has(w.id))
      .flatMap((w) => withLabels([...w.node, ...lagFamily(lag.get(w.slot))], { worker: w.slot })),
  ]);
  return render([...out, ...app, ...node]);
}
