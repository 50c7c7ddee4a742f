// The master's /metrics text from a status snapshot and the workers' answers.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { WorkerMetrics } from '../../src/metrics/collect.ts';
import { renderMetrics } from '../../src/metrics/prometheus.ts';
import type { Status, WorkerStatus } from '../../src/metrics/status.ts';
import { statusOf, workerStatus } from '../helpers/status.ts';

const worker = (id: number, slot: number, state: string, retiring = false): WorkerStatus =>
  workerStatus(id, { slot, state, retiring });

const status = (workers: WorkerStatus[]): Status => statusOf(workers, { target: 2 });

const counter = (n: number) => [
  { name: 'app_hits_total', help: 'Hits.', type: 'counter', values: [{ value: n }] },
];
const rss = (n: number) => [
  {
    name: 'process_resident_memory_bytes',
    help: 'Resident memory size in bytes.',
    type: 'gauge',
    values: [{ value: n }],
  },
];

test('one series per slot while a replacement and its predecessor both live; app counts of both', () => {
  // Worker 1 (slot 1) retiring and still serving; worker 3 took slot 1 and is booting.
  const s = status([worker(1, 1, 'ready', true), worker(2, 2, 'ready'), worker(3, 1, 'booting')]);
  const answers: WorkerMetrics[] = [
    { id: 1, slot: 1, node: rss(11), app: counter(5) },
    { id: 2, slot: 2, node: rss(22), app: counter(7) },
  ];
  const text = renderMetrics(s, new Map(), answers);
  const lines = text.split('\n');
  assert.deepEqual(
    lines.filter((l) => l.startsWith('corral_worker_rss_bytes')),
    ['corral_worker_rss_bytes{worker="1"} 1000000', 'corral_worker_rss_bytes{worker="2"} 2000000'],
  );
  assert.deepEqual(
    lines.filter((l) => l.startsWith('process_resident_memory_bytes{')),
    [
      'process_resident_memory_bytes{worker="1"} 11',
      'process_resident_memory_bytes{worker="2"} 22',
    ],
  );
  assert.ok(lines.includes('app_hits_total 12'));
  // The master's own, unlabelled.
  assert.ok(lines.some((l) => /^process_resident_memory_bytes \d+$/.test(l)));
  assert.ok(lines.includes('nodejs_eventloop_lag_p99_seconds{worker="2"} 0.01'));
  // Once the replacement is ready, it is the one shown.
  const after = renderMetrics(
    status([worker(1, 1, 'draining'), worker(2, 2, 'ready'), worker(3, 1, 'ready')]),
    new Map(),
  );
  assert.match(after, /^corral_worker_rss_bytes\{worker="1"\} 3000000$/m);
});

test("an app's own default metrics replace corral's for the same name", () => {
  const text = renderMetrics(status([worker(1, 1, 'ready')]), new Map(), [
    { id: 1, slot: 1, node: rss(11), app: rss(99) },
  ]);
  const lines = text.split('\n').filter((l) => l.startsWith('process_resident_memory_bytes'));
  assert.deepEqual(lines, ['process_resident_memory_bytes 99']);
  assert.equal(text.match(/# TYPE process_resident_memory_bytes/g)?.length, 1);
});
