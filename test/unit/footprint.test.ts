// What corral's modules make Node load, in the master and in a worker serving cleartext
// HTTP/1. Each of these costs megabytes of RSS (docs/benchmarks.md, "Where a goal is
// missed"): node:tls with crypto 5 MiB, node:http's ESM namespace with undici 12 MiB,
// perf_hooks 1.4 MiB, node:fs's ESM namespace with fs/promises and readline 1.2 MiB (src/fs.ts),
// node:v8 1.6 MiB (src/metrics/node-process.ts: workers only). corral writes Prometheus text
// itself (src/metrics/exposition.ts); prom-client's index would cost the master 14 MiB.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';

const HEAVY = [
  'tls',
  'crypto',
  'https',
  'http2',
  'internal/deps/undici/undici',
  'internal/fs/promises',
  'internal/readline/interface',
];

/** The heavy Node modules loaded once `modules` are imported, in a fresh process. */
function loadedBy(modules: readonly string[], heavy: readonly string[], then = ''): string[] {
  const script = `
    for (const m of ${JSON.stringify(modules)}) await import(m);
    ${then};
    const loaded = new Set(process.moduleLoadList);
    console.log(JSON.stringify(${JSON.stringify(heavy)}.filter((m) => loaded.has('NativeModule ' + m))));
  `;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
  });
  return JSON.parse(out);
}

test("the master's modules load none of the workers' Node modules", () => {
  const master = ['./src/commands/serve.ts', './src/master/master.ts'];
  assert.deepEqual(loadedBy(master, [...HEAVY, 'http', 'perf_hooks', 'worker_threads']), []);
});

test("the master's /metrics server loads no TLS, crypto, undici or perf_hooks", () => {
  // prom-client's index would (its Pushgateway, default metrics). Node's default metrics of
  // the master come from process.* and /proc, without perf_hooks or node:v8.
  const metrics = [
    './src/metrics/http.ts',
    './src/metrics/prometheus.ts',
    './src/metrics/collect.ts',
  ];
  const script = `(await import('./src/metrics/prometheus.ts')).renderMetrics({ workers: [], totals: { statusClasses: [], latencyCounts: [], latencySumSeconds: 0 }, restarts: {} }, new Map())`;
  assert.deepEqual(loadedBy(metrics, [...HEAVY, 'perf_hooks', 'v8'], script), []);
});

test('a cleartext HTTP/1 worker loads no TLS, HTTP/2, undici or fs/promises', () => {
  // The listener path: the fetch bridge (app/fetch.ts) needs undici's Request and Response.
  const worker = ['./src/worker/serve.ts', './src/worker/server.ts', './src/worker/limits.ts'];
  assert.deepEqual(loadedBy(worker, HEAVY), []);
});
