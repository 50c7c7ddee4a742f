// corral top's frame: one row per worker, a stalled worker named as such.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { frame } from '../../src/commands/top.ts';
import type { Status, WorkerStatus } from '../../src/metrics/status.ts';

const worker = (id: number, stalled: boolean): WorkerStatus => ({
  id,
  slot: id,
  pid: 1000 + id,
  state: 'ready',
  retiring: false,
  uptimeSeconds: 5,
  requests: 10,
  inFlight: 0,
  connections: 4,
  rssBytes: 60e6,
  heapUsedBytes: 1,
  cpuSeconds: 1,
  elu: 0.2,
  lagSeconds: 0.01,
  silentSeconds: stalled ? 3.4 : 0.2,
  stalled,
});

const status = (workers: WorkerStatus[]): Status => ({
  pid: 1,
  version: '0',
  ready: true,
  stopping: false,
  workerClass: 'async',
  target: workers.length,
  binds: ['http://127.0.0.1:8000'],
  waiting: 0,
  shed: 0,
  workers,
  totals: {
    requests: 20,
    cpuSeconds: 2,
    statusClasses: [0, 20, 0, 0, 0],
    latencyCounts: Array(12).fill(0),
    latencySumSeconds: 0,
  },
  restarts: {},
  advice: null,
});

test('a worker whose heartbeats are late shows as stalled, the others as ready', () => {
  const rows = frame(status([worker(1, false), worker(2, true)]), null, 1)
    .split('\n')
    .filter((l) => /^\d/.test(l));
  assert.equal(rows.length, 2);
  assert.match(rows[0] as string, /^1\s+1001\s+ready\s/);
  assert.match(rows[1] as string, /^2\s+1002\s+stalled\s/);
});
