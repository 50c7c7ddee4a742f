// corral top's frame: one row per worker, a stalled worker named as such.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { frame } from '../../src/commands/top.ts';
import type { WorkerStatus } from '../../src/metrics/status.ts';
import { statusOf, workerStatus } from '../helpers/status.ts';

const worker = (id: number, stalled: boolean): WorkerStatus =>
  workerStatus(id, { connections: 4, silentSeconds: stalled ? 3.4 : 0.2, stalled });

test('a worker whose heartbeats are late shows as stalled, the others as ready', () => {
  const rows = frame(statusOf([worker(1, false), worker(2, true)]), null, 1)
    .split('\n')
    .filter((l) => /^\d/.test(l));
  assert.equal(rows.length, 2);
  assert.match(rows[0] as string, /^1\s+1001\s+ready\s/);
  assert.match(rows[1] as string, /^2\s+1002\s+stalled\s/);
});
