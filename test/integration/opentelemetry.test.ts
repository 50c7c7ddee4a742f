// OpenTelemetry's zero-code setup in every worker, with the real SDK
// (@opentelemetry/auto-instrumentations-node) exporting OTLP/HTTP JSON to a receiver in this
// test. The span processor's timer is an hour, so only the SDK's flush on exit sends spans:
// every span must arrive, including those of workers recycled by --max-requests.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { get, serveListener, sleep } from '../helpers/corral.ts';

interface Received {
  /** Server spans by the pid that sent them. */
  readonly spans: Map<number, number>;
  /** service.instance.id by pid. */
  readonly instance: Map<number, Set<string>>;
  readonly services: Set<string>;
}

type Attr = { key: string; value: { stringValue?: string; intValue?: string | number } };

async function receiver() {
  const got: Received = { spans: new Map(), instance: new Map(), services: new Set() };
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      if (req.url === '/v1/traces') {
        for (const rs of JSON.parse(body).resourceSpans ?? []) {
          const attrs: Attr[] = rs.resource?.attributes ?? [];
          const attr = (k: string) => attrs.find((a) => a.key === k)?.value;
          const pid = Number(attr('process.pid')?.intValue);
          const ids = got.instance.get(pid) ?? new Set();
          ids.add(String(attr('service.instance.id')?.stringValue));
          got.instance.set(pid, ids);
          got.services.add(String(attr('service.name')?.stringValue));
          for (const ss of rs.scopeSpans ?? []) {
            for (const span of ss.spans ?? []) {
              if (span.kind !== 2) continue; // SPAN_KIND_SERVER
              got.spans.set(pid, (got.spans.get(pid) ?? 0) + 1);
            }
          }
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { got, server, port: (server.address() as AddressInfo).port };
}

const otelEnv = (port: number): Record<string, string> => ({
  OTEL_SERVICE_NAME: 'corral-otel-test',
  OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
  OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
  OTEL_TRACES_EXPORTER: 'otlp',
  OTEL_METRICS_EXPORTER: 'none',
  OTEL_LOGS_EXPORTER: 'none',
  OTEL_NODE_ENABLED_INSTRUMENTATIONS: 'http',
  // No cloud metadata lookups; serviceinstance gives each process its own id.
  OTEL_NODE_RESOURCE_DETECTORS: 'env,host,os,process,serviceinstance',
  // Export only when the SDK shuts down.
  OTEL_BSP_SCHEDULE_DELAY: '3600000',
  OTEL_BSP_MAX_QUEUE_SIZE: '10000',
  OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '10000',
});

const ZERO_CODE = '--node-args=--import @opentelemetry/auto-instrumentations-node/register';

const total = (m: Map<number, number>) => [...m.values()].reduce((a, b) => a + b, 0);

test('OpenTelemetry per worker: every span arrives across --max-requests recycles and TERM', async (t) => {
  const otlp = await receiver();
  t.after(() => {
    otlp.server.closeAllConnections();
    otlp.server.close();
  });
  const server = await serveListener(['-w', '2', '--max-requests', '8', ZERO_CODE], {
    env: otelEnv(otlp.port),
  });
  const servedBy = new Map<number, number>();
  let sent = 0;
  const send = async (n: number) => {
    for (let i = 0; i < n; i++) {
      const r = await get(`${server.url}/item/${sent}`);
      assert.equal(r.status, 200);
      sent++;
      const pid = Number(r.headers['x-pid']);
      servedBy.set(pid, (servedBy.get(pid) ?? 0) + 1);
    }
  };
  try {
    await send(20);
    // The recycled workers leave once their replacements are ready; their spans arrive from
    // their own flush on exit, while the server still runs.
    for (let i = 0; i < 400 && otlp.got.spans.size === 0; i++) await sleep(50);
    assert.match(server.output(), /max-requests 8\): asking to be replaced/);
    assert.ok(otlp.got.spans.size > 0, 'a recycled worker flushed its spans before exiting');
    // The replacements serve (and recycle) too.
    await send(20);
  } finally {
    assert.equal(await server.stop(), 0);
  }
  for (let i = 0; i < 100 && total(otlp.got.spans) < sent; i++) await sleep(50);
  assert.equal(total(otlp.got.spans), sent, 'one server span per request, none lost');
  assert.deepEqual(
    [...otlp.got.spans].sort(),
    [...servedBy].sort(),
    'each worker sent the spans of the requests it served',
  );
  // Each worker is its own service instance.
  const ids = [...otlp.got.instance.values()].map((s) => [...s]);
  for (const s of ids) assert.equal(s.length, 1);
  assert.equal(new Set(ids.flat()).size, ids.length);
  assert.ok(servedBy.size >= 3, `workers that served: ${servedBy.size}`);
  assert.deepEqual([...otlp.got.services], ['corral-otel-test']);
});

test("OpenTelemetry: a TERM sent to a worker itself (systemd's control-group kill) loses no span", async (t) => {
  const otlp = await receiver();
  t.after(() => {
    otlp.server.closeAllConnections();
    otlp.server.close();
  });
  const server = await serveListener(['-w', '1', ZERO_CODE], {
    env: otelEnv(otlp.port),
  });
  try {
    let pid = 0;
    for (let i = 0; i < 5; i++) {
      const r = await get(`${server.url}/item/${i}`);
      assert.equal(r.status, 200);
      pid = Number(r.headers['x-pid']);
    }
    // A request in flight when the signal reaches the worker: the SDK's own SIGTERM listener
    // must not shut it down before that request's span ends.
    const slow = get(`${server.url}/slow?ms=1500`);
    await sleep(300);
    process.kill(pid, 'SIGTERM');
    assert.equal((await slow).status, 200);
    await server.waitFor(/exited/);
  } finally {
    assert.equal(await server.stop(), 0);
  }
  for (let i = 0; i < 100 && total(otlp.got.spans) < 6; i++) await sleep(50);
  assert.equal(total(otlp.got.spans), 6, "the in-flight request's span too");
});
