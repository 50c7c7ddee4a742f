/**
 * /metrics: the master's status as Prometheus text. prom-client does the exposition format;
 * the values come from the heartbeats the master already has, read at scrape time.
 */
import { createRequire } from 'node:module';
import type { Registry as PromRegistry } from 'prom-client';
import { LATENCY_BUCKETS } from './stats.ts';
import type { Status } from './status.ts';

/**
 * prom-client's Registry alone. Its index also loads the Pushgateway (node:https with tls and
 * crypto), cluster aggregation and the default metrics: 14 MiB more master RSS with
 * --metrics-bind (docs/benchmarks.md). prom-client has no "exports" map, so the file is
 * reachable; test/integration/observability.test.ts fails if it moves.
 */
const Registry = createRequire(import.meta.url)(
  'prom-client/lib/registry.js',
) as typeof PromRegistry;

type Value = { value: number; labels?: Record<string, string | number>; metricName?: string };

/** A metric whose values are computed when scraped (prom-client's Metric interface). */
function snapshot(
  name: string,
  help: string,
  type: 'gauge' | 'counter' | 'histogram',
  values: Value[],
) {
  return {
    name,
    help,
    type,
    aggregator: 'sum' as const,
    get: async () => ({ name, help, type, values, aggregator: 'sum' as const }),
    reset() {},
  };
}

export async function renderMetrics(
  s: Status,
  backlog: ReadonlyMap<string, number>,
): Promise<string> {
  const reg = new Registry();
  const add = (m: ReturnType<typeof snapshot>) => reg.registerMetric(m as never);
  const perWorker = (f: (w: Status['workers'][number]) => number): Value[] =>
    s.workers.map((w) => ({ value: f(w), labels: { worker: w.id, pid: w.pid } }));
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
  const buckets: Value[] = LATENCY_BUCKETS.map((le, i) => {
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
      'Connections accepted by the master, waiting for a free worker.',
      'gauge',
      [{ value: s.waiting }],
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
  return reg.metrics();
}

export const CONTENT_TYPE = new Registry().contentType;
