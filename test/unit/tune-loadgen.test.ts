// tune's load generator times each response from its own request, also when the server
// closes the connection after every response (the sync class), where autocannon alone times
// responses from ever older requests (src/tune/autocannon.ts).
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { startLoadgen } from '../../src/tune/drive.ts';

const DELAY_MS = 20;

test('latency stays per request when every response closes the connection', async () => {
  let served = 0;
  const server = createServer((_req, res) => {
    setTimeout(() => {
      served++;
      res.writeHead(200, { connection: 'close', 'content-type': 'text/plain' });
      res.end('ok\n');
    }, DELAY_MS);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  const lg = startLoadgen({
    url: `http://127.0.0.1:${port}`,
    connections: 8,
    requests: [{ method: 'GET', path: '/' }],
  });
  try {
    const r = await lg.run(4);
    assert.equal(r.errors, 0);
    assert.ok(r.requests > 50, `only ${r.requests} responses in 4 s`);
    assert.ok(r.requests <= served, `${r.requests} responses counted, ${served} served`);
    // Without the fix the queue of unanswered requests grows by one per response: after 4 s
    // the median response is timed from a request ~1 s older than it (p50 ≈ 1000 ms, p99 ≈
    // 2000 ms). Each request here takes 20 ms plus scheduling.
    assert.ok(r.p50 < 500, `p50 ${r.p50} ms for a ${DELAY_MS} ms route`);
    assert.ok(r.p99 < 1000, `p99 ${r.p99} ms for a ${DELAY_MS} ms route`);
  } finally {
    lg.close();
    server.closeAllConnections();
    server.close();
  }
});
