// --user/--group: bind as root, serve as nobody. Needs root; skipped with the reason otherwise.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { get as httpsGet } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type KeyPair, selfSigned } from '../helpers/certs.ts';
import { BIN, FIXTURES, get, runCorral, startCorral, workerPids } from '../helpers/corral.ts';

const NOBODY = 65534;
const WORKER_ENTRY = fileURLToPath(new URL('../../src/worker/main.ts', import.meta.url));

/** The ids in /proc/PID/status: [real, effective, saved, filesystem]. */
function ids(pid: number, field: 'Uid' | 'Gid'): number[] {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${field}:`));
  return (line ?? '').split(/\s+/).slice(1, 5).map(Number);
}

/** A copy of the listener fixture in a directory nobody can read. */
function appForNobody(): string {
  const dir = mkdtempSync(join(tmpdir(), 'corral-priv-'));
  chmodSync(dir, 0o755);
  const app = join(dir, 'listener.mjs');
  copyFileSync(join(FIXTURES, 'listener.mjs'), app);
  chmodSync(app, 0o644);
  return app;
}

/** Why the test cannot run here, or false. Checked by running node as nobody. */
function whyNot(app: string): string | false {
  if (process.getuid?.() !== 0) return 'needs root (to bind as root and start workers as nobody)';
  const probe = spawnSync(
    process.execPath,
    [
      '-e',
      'for (const f of process.argv.slice(1)) require("fs").accessSync(f, require("fs").constants.R_OK)',
      app,
      WORKER_ENTRY,
      BIN,
    ],
    { uid: NOBODY, gid: NOBODY, stdio: 'pipe', encoding: 'utf8' },
  );
  if (probe.error || probe.status !== 0) {
    return `nobody cannot run node or read the app and corral's sources here: ${probe.error?.message ?? probe.stderr.trim().split('\n')[0]}`;
  }
  return false;
}

/** A free port below 1024 (only root may bind it), so the test shows the master binding as root. */
async function privilegedPort(): Promise<number> {
  for (let port = 1023; port > 900; port--) {
    const free = await new Promise<boolean>((done) => {
      const s = createServer();
      s.once('error', () => done(false));
      s.listen(port, '127.0.0.1', () => s.close(() => done(true)));
    });
    if (free) return port;
  }
  throw new Error('no free port between 901 and 1023 on 127.0.0.1');
}

const app = appForNobody();
const skip = whyNot(app);

test('--user nobody: the master binds a port below 1024 and stays root, workers run as nobody:nogroup and serve', {
  skip,
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'corral-priv-logs-'));
  chmodSync(dir, 0o755); // the workers (nobody) open the file in it
  const access = join(dir, 'access.log');
  const port = await privilegedPort();
  const server = await startCorral(
    [app, '-w', '2', '-b', `127.0.0.1:${port}`, '--user', 'nobody', '--access-logfile', access],
    { cwd: dir },
  );
  try {
    assert.equal(server.url, `http://127.0.0.1:${port}`);
    assert.match(server.output(), /Workers run as nobody:nogroup \(65534:65534\)/);
    const master = server.proc.pid ?? 0;
    assert.deepEqual(ids(master, 'Uid'), [0, 0, 0, 0]);
    const workers = workerPids(server.output());
    assert.equal(workers.length, 2);
    for (const pid of workers) {
      assert.deepEqual(ids(pid, 'Uid'), [NOBODY, NOBODY, NOBODY, NOBODY]);
      assert.deepEqual(ids(pid, 'Gid'), [NOBODY, NOBODY, NOBODY, NOBODY]);
    }
    const r = await get(`${server.url}/`);
    assert.equal(r.status, 200);
    assert.ok(workers.includes(Number(r.headers['x-pid'])));
    // The access log was given to the workers' user, so they could open it.
    assert.equal(statSync(access).uid, NOBODY);
  } finally {
    assert.equal(await server.stop(), 0);
  }
  assert.equal(readFileSync(access, 'utf8').split('\n').filter(Boolean).length, 1);
});

test('-w 0 --user nobody: the one process binds, then serves as nobody', { skip }, async () => {
  const server = await startCorral([app, '-w', '0', '-b', '127.0.0.1:0', '--user', 'nobody']);
  try {
    const pid = server.proc.pid ?? 0;
    assert.deepEqual(ids(pid, 'Uid'), [NOBODY, NOBODY, NOBODY, NOBODY]);
    const r = await get(`${server.url}/`);
    assert.equal(r.status, 200);
    assert.equal(Number(r.headers['x-pid']), pid);
  } finally {
    assert.equal(await server.stop(), 0);
  }
});

/** A self-signed certificate and a key only root may read (0600), as a real key is kept. */
function rootOnlyCertificate(): KeyPair | null {
  const pair = selfSigned();
  if (pair) chmodSync(pair.key, 0o600);
  return pair;
}

function httpsStatus(url: string): Promise<number> {
  return new Promise((done, fail) => {
    const req = httpsGet(url, { rejectUnauthorized: false }, (res) => {
      res.resume();
      res.on('end', () => done(res.statusCode ?? 0));
    });
    req.on('error', fail);
    req.setTimeout(10_000, () => req.destroy(new Error('timed out')));
  });
}

const tls = skip ? null : rootOnlyCertificate();

test('--user nobody with TLS: the master reads a key only root can read; workers serve HTTPS', {
  skip: skip || (tls ? false : 'openssl is not installed'),
}, async () => {
  const { cert, key } = tls as { cert: string; key: string };
  for (const workers of ['2', '0']) {
    const server = await startCorral([
      app,
      '-w',
      workers,
      '-b',
      '127.0.0.1:0',
      '--user',
      'nobody',
      '--certfile',
      cert,
      '--keyfile',
      key,
    ]);
    try {
      const port = new URL(server.url).port;
      assert.equal(await httpsStatus(`https://127.0.0.1:${port}/`), 200, `-w ${workers}`);
    } finally {
      assert.equal(await server.stop(), 0);
    }
  }
});

// Names are looked up before anything else, as any user: no root needed for this one.
test('an unknown user or group: one line naming the setting', async () => {
  const r = await runCorral([app, '-w', '1', '--user', 'no-such-user-corral']);
  assert.equal(r.code, 2);
  assert.equal(
    r.stderr.trim(),
    'corral: invalid user (-u/--user) from command line --user: "no-such-user-corral"; allowed: a user name or uid that exists on this machine',
  );
  const g = await runCorral([
    app,
    '-w',
    '1',
    '--user',
    'nobody',
    '--group',
    'no-such-group-corral',
  ]);
  assert.equal(g.code, 2);
  assert.match(
    g.stderr,
    /invalid group \(-g\/--group\) from command line --group: "no-such-group-corral"/,
  );
});

test('--user with workers binding a port below 1024 themselves: one line, before any starts', {
  skip,
}, async () => {
  const r = await runCorral([
    app,
    '-w',
    '1',
    '-b',
    '127.0.0.1:81',
    '--user',
    'nobody',
    '--dispatch',
    'reuseport',
  ]);
  assert.equal(r.code, 2);
  assert.match(
    r.stderr,
    /^corral: cannot serve 127\.0\.0\.1:81 with --user: with --dispatch reuseport each worker binds the port itself/m,
  );
  assert.doesNotMatch(r.stderr, /booting worker/);
});
