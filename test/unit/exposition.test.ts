// The Prometheus text corral writes itself (metrics/exposition.ts) against prom-client's own:
// an app's registries, read as JSON in its workers, aggregate and render as prom-client's
// AggregatorRegistry does.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import client from 'prom-client';
import { aggregate, render, withLabels } from '../../src/metrics/exposition.ts';

async function workerRegistry(n: number) {
  const register = new client.Registry();
  const requests = new client.Counter({
    name: 'app_requests_total',
    help: 'Requests.\nSecond "line" \\ here.',
    labelNames: ['route'],
    registers: [register],
  });
  const latency = new client.Histogram({
    name: 'app_latency_seconds',
    help: 'Latency.',
    buckets: [0.1, 1],
    registers: [register],
  });
  const peak = new client.Gauge({
    name: 'app_peak',
    help: 'Peak.',
    aggregator: 'max',
    registers: [register],
  });
  new client.Gauge({
    name: 'app_started',
    help: 'Omitted.',
    aggregator: 'omit',
    registers: [register],
  }).set(1);
  requests.inc({ route: 'a"b' }, n);
  requests.inc({ route: 'c' }, 2 * n);
  latency.observe(0.05 * n);
  latency.observe(5);
  peak.set(n * 10);
  return register.getMetricsAsJSON();
}

test("aggregate + render = prom-client's AggregatorRegistry, text for text", async () => {
  const perWorker = [await workerRegistry(1), await workerRegistry(3)];
  const expected = await client.AggregatorRegistry.aggregate(perWorker as never).metrics();
  // Through JSON, as the samples travel from a worker to the master.
  const actual = render(aggregate(JSON.parse(JSON.stringify(perWorker))));
  assert.equal(actual, expected);
  assert.match(actual, /^app_requests_total\{route="c"\} 8$/m);
  assert.match(actual, /^app_peak 30$/m);
  assert.doesNotMatch(actual, /app_started/);
});

test('labels added per worker; NaN and infinities; first family of a name wins', () => {
  const text = render([
    ...withLabels(
      [
        {
          name: 'x',
          help: 'h',
          type: 'gauge',
          values: [{ value: Number.NaN }, { value: 1, labels: { a: 'b' } }],
        },
      ],
      { worker: 2 },
    ),
    { name: 'x', help: 'again', type: 'gauge', values: [{ value: 9 }] },
    { name: 'y', help: 'h', type: 'gauge', values: [{ value: Number.POSITIVE_INFINITY }] },
  ]);
  assert.equal(
    text,
    '# HELP x h\n# TYPE x gauge\nx{worker="2"} NaN\nx{a="b",worker="2"} 1\n\n# HELP y h\n# TYPE y gauge\ny +Inf\n',
  );
});
