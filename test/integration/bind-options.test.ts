// --umask on a unix-socket bind, and --reuse-port: two corral instances on one port.
import assert from 'node:assert/strict';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { get, LISTENER, runCorral, serveListener, startCorral } from '../helpers/corral.ts';

for (const [umask, mode] of [
  ['027', 0o750],
  ['0o077', 0o700],
] as const) {
  test(`unix bind with --umask ${umask}: answers, and its file mode is ${mode.toString(8)}`, async () => {
    const sock = join(mkdtempSync(join(tmpdir(), 'corral-umask-')), 'app.sock');
    const server = await startCorral([LISTENER, '-w', '1', '-b', `unix:${sock}`, '--umask', umask]);
    try {
      assert.equal(statSync(sock).mode & 0o777, mode);
      const r = await get('/', { socketPath: sock });
      assert.equal(r.status, 200);
      assert.match(r.body, /^listener \d+/);
    } finally {
      assert.equal(await server.stop(), 0);
    }
  });
}

test('--umask that is not octal: one line naming the setting and what is allowed', async () => {
  const r = await runCorral([LISTENER, '--umask', '0889']);
  assert.equal(r.code, 2);
  assert.match(
    r.stderr,
    /invalid umask \(--umask\) from command line --umask: "0889"; allowed: an octal mask/,
  );
});

for (const dispatch of ['least-conn', 'shared'] as const) {
  test(`--reuse-port (${dispatch}): two instances bind one port and both serve`, async () => {
    const a = await serveListener(['-w', '1', '--reuse-port', '--dispatch', dispatch]);
    const port = new URL(a.url).port;
    let b: Awaited<ReturnType<typeof startCorral>> | null = null;
    try {
      b = await startCorral([
        LISTENER,
        '-w',
        '1',
        '-b',
        `127.0.0.1:${port}`,
        '--reuse-port',
        '--dispatch',
        dispatch,
      ]);
      assert.equal(b.url, a.url);
      // The kernel spreads new connections over both sockets by a hash of the client port:
      // over 60 fresh connections, both instances answer (all on one: 2 × 2^-60).
      const pids = new Set<string>();
      for (let i = 0; i < 60; i++) {
        const r = await get(`${a.url}/`);
        assert.equal(r.status, 200);
        pids.add(String(r.headers['x-pid']));
      }
      assert.equal(pids.size, 2, 'one worker of each instance answered');
    } finally {
      if (b) assert.equal(await b.stop(), 0);
      assert.equal(await a.stop(), 0);
    }
  });
}

test('without --reuse-port a second instance on the port fails with one line', async () => {
  const a = await serveListener(['-w', '1', '--reuse-port']);
  try {
    const r = await runCorral([LISTENER, '-w', '1', '-b', new URL(a.url).host]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /cannot bind 127\.0\.0\.1:\d+: address already in use/);
  } finally {
    assert.equal(await a.stop(), 0);
  }
});
