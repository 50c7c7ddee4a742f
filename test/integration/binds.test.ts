// Several binds at once, a unix socket, and what happens when the port is taken.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { get, LISTENER, runCorral, startCorral } from '../helpers/corral.ts';

for (const dispatch of ['least-conn', 'shared'] as const) {
  test(`multi-bind: two TCP ports and a unix socket (${dispatch})`, async () => {
    const sock = join(mkdtempSync(join(tmpdir(), 'corral-')), 'app.sock');
    const server = await startCorral([
      LISTENER,
      '-w',
      '2',
      '-b',
      '127.0.0.1:0',
      '-b',
      '[::1]:0',
      '-b',
      `unix:${sock}`,
      '--dispatch',
      dispatch,
    ]);
    try {
      assert.equal(server.urls.length, 3);
      assert.match(server.urls[1] ?? '', /^http:\/\/\[::1\]:\d+$/);
      for (const url of server.urls.slice(0, 2)) {
        assert.equal((await get(`${url}/`)).status, 200);
      }
      const viaUnix = await get('/', { socketPath: sock });
      assert.equal(viaUnix.status, 200);
      assert.match(viaUnix.body, /^listener \d+/);
    } finally {
      assert.equal(await server.stop(), 0);
    }
  });
}

test('port in use: one line naming the address, exit ≠ 0', async () => {
  const blocker = createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
  const port = (blocker.address() as { port: number }).port;
  try {
    const r = await runCorral([LISTENER, '-w', '1', '-b', `127.0.0.1:${port}`]);
    assert.notEqual(r.code, 0);
    const lines = r.stderr
      .trim()
      .split('\n')
      .filter((l) => !l.includes('[INFO]'));
    assert.deepEqual(lines, [
      `corral: cannot bind 127.0.0.1:${port}: address already in use (another process is listening there)`,
    ]);
  } finally {
    blocker.close();
  }
});
