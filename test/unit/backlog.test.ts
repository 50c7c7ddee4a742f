// The kernel's accept queue per listening port, from /proc/net/tcp{,6} (a copy of their format).
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { readBacklog } from '../../src/metrics/backlog.ts';

const HEAD =
  '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
// Port 8000 (1F40) listening on 127.0.0.1 with 3 queued, an established connection to it
// (its rx_queue is bytes, not connections), and port 9000 (2328) listening with none queued.
const TCP = `${HEAD}   0: 0100007F:1F40 00000000:0000 0A 00000000:00000003 00:00000000 00000000     0        0 1 1 0 100 0 0 10 0
   1: 0100007F:2328 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2 1 0 100 0 0 10 0
   2: 0100007F:1F40 0100007F:C350 01 00000000:00000200 00:00000000 00000000     0        0 3 1 0 20 4 30 10 -1
`;
// Port 8000 on ::1 with 2 more queued.
const TCP6 = `${HEAD}   0: 00000000000000000000000001000000:1F40 00000000000000000000000000000000:0000 0A 00000000:00000002 00:00000000 00000000     0        0 4 1 0 100 0 0 10 0
`;

test('queued connections of the LISTEN sockets on the wanted ports, over IPv4 and IPv6', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'corral-proc-'));
  writeFileSync(join(dir, 'tcp'), TCP);
  writeFileSync(join(dir, 'tcp6'), TCP6);
  const got = await readBacklog([8000, 9000], dir);
  assert.deepEqual([...got].sort(), [
    [8000, 5],
    [9000, 0],
  ]);
  assert.deepEqual([...(await readBacklog([7000], dir))], []);
});

test('no /proc (not Linux): nothing, no error', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'corral-proc-'));
  assert.deepEqual([...(await readBacklog([8000], dir))], []);
});

test('reading stops at the first socket that is not listening: a LISTEN line after it is not read', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'corral-proc-'));
  // The kernel lists every LISTEN socket first; what follows can be millions of lines.
  const established = (i: number) =>
    `${String(i).padStart(6)}: 0100007F:1F40 0100007F:${(40000 + (i % 20000)).toString(16).toUpperCase()} 06 00000000:00000000 03:00000000 00000000     0        0 0 3 0000000000000000\n`;
  const late =
    '999999: 0100007F:2328 00000000:0000 0A 00000000:00000007 00:00000000 00000000     0        0 9 1 0 100 0 0 10 0\n';
  const body = `${HEAD}   0: 0100007F:1F40 00000000:0000 0A 00000000:00000004 00:00000000 00000000     0        0 1 1 0 100 0 0 10 0
${Array.from({ length: 5000 }, (_, i) => established(i + 1)).join('')}${late}`;
  writeFileSync(join(dir, 'tcp'), body);
  const got = await readBacklog([8000, 9000], dir);
  assert.deepEqual([...got], [[8000, 4]]);
});
