// Listen mode: scripts that call listen() themselves, served unchanged by corral's workers.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  burst,
  FIXTURES,
  get,
  metricSum,
  metricsUrl,
  runApp,
  runCorral,
  serveApp,
  sleep,
  startCorral,
  workerPids,
} from '../helpers/corral.ts';
import { failures, load, loadThrough } from '../helpers/load.ts';

/** A port nobody listens on right now. */
async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

/** Bind the port ourselves: it succeeds only if no worker holds it. */
async function canBind(port: number, host = '127.0.0.1'): Promise<boolean> {
  const s: Server = createServer();
  const ok = await new Promise<boolean>((done) => {
    s.once('error', () => done(false));
    s.listen(port, host, () => done(true));
  });
  if (ok) await new Promise((r) => s.close(r));
  return ok;
}

for (const [name, file] of [
  ['node:http createServer().listen()', 'listen-http.mjs'],
  ['Express app.listen()', 'listen-express.mjs'],
  ['Fastify listen()', 'listen-fastify.mjs'],
] as const) {
  test(`${name}: both workers serve on corral's bind; HUPs and TERM lose nothing; access log, metrics, request timeout`, async () => {
    const asked = await freePort();
    const log = join(mkdtempSync(join(tmpdir(), 'corral-listen-')), 'access.log');
    const server = await startCorral(
      [
        `${FIXTURES}${file}`,
        '-w',
        '2',
        '-b',
        '127.0.0.1:0',
        '--access-logfile',
        log,
        '--metrics-bind',
        '127.0.0.1:0',
        '--request-timeout',
        '1',
        '--',
        '--flag',
        'x',
      ],
      { env: { APP_PORT: String(asked) } },
    );
    const port = Number(new URL(server.url).port);
    try {
      // 400 keep-alive requests over 8 connections: both workers answer, the app's
      // address() is corral's bind, the script got its arguments and ran as the main module.
      const replies = await burst(`${server.url}/`, 400, 8);
      assert.deepEqual([...new Set(replies.map((r) => r.status))], [200]);
      const bodies = replies.map((r) => JSON.parse(r.body));
      assert.equal(new Set(bodies.map((b) => b.pid)).size, 2, 'both workers answered');
      for (const b of bodies) {
        assert.deepEqual(b.address, { address: '127.0.0.1', family: 'IPv4', port });
        assert.deepEqual(b.argv, ['--flag', 'x']);
        assert.equal(b.main, `${FIXTURES}${file}`);
        assert.equal(b.env.PORT, String(port));
      }
      // Nothing bound the port the app asked for.
      assert.equal(await canBind(asked), true, `port ${asked} is free`);
      // 3 HUPs under 6,000 requests: every request answered.
      const pid = server.proc.pid as number;
      const hups = (async () => {
        for (let i = 0; i < 3; i++) {
          await sleep(400);
          process.kill(pid, 'SIGHUP');
        }
        await server.waitFor(/reload: rolling[\s\S]*reload: rolling[\s\S]*reload: rolling/);
        await sleep(300);
      })();
      await loadThrough(
        {
          url: `${server.url}/`,
          connections: 16,
          total: 6000,
          maxMs: 60_000,
        },
        hups,
      );
      // --request-timeout applies to the app's requests.
      assert.equal((await get(`${server.url}/slow?ms=3000`)).status, 503);
      // The master's /metrics counts them.
      await sleep(700);
      const m = await get(`${metricsUrl(server)}/metrics`);
      const total = metricSum(m.body, 'corral_requests_total');
      assert.ok(total >= 6400, `corral_requests_total ${total}`);
      // The access log has their lines.
      const lines = readFileSync(log, 'utf8').split('\n').filter(Boolean);
      assert.ok(lines.filter((l) => l.includes('"GET / HTTP/1.1" 200')).length >= 6400);
      // TERM with a request in flight: it completes, corral exits 0.
      const inFlight = get(`${server.url}/slow?ms=800`);
      await sleep(200);
      server.proc.kill('SIGTERM');
      const slow = await inFlight;
      assert.equal(slow.status, 200);
      assert.equal(await server.exited, 0);
    } finally {
      await server.stop();
    }
  });
}

test('a group-wide SIGTERM with a request in flight, on an app that exits in its own SIGTERM handler: the request completes', async () => {
  const server = await serveApp(`${FIXTURES}listen-exit-on-term.mjs`, ['-w', '2'], {
    detached: true,
  });
  try {
    const inFlight = get(`${server.url}/slow?ms=1500`);
    await sleep(300);
    // As systemd's KillMode=control-group does: every process of the group gets it at once.
    process.kill(-(server.proc.pid as number), 'SIGTERM');
    const r = await inFlight;
    assert.equal(r.status, 200);
    assert.equal(await server.exited, 0);
    // The app's handler still ran, after its worker had drained.
    assert.equal(server.output().match(/SIGTERM handler runs/g)?.length, 2);
  } finally {
    await server.stop();
  }
});

test('--timeout: a listen app whose handler blocks its worker is aborted and replaced; the other keeps serving', async () => {
  const server = await serveApp(`${FIXTURES}listen-http.mjs`, ['-w', '2', '--timeout', '1']);
  try {
    const spin = get(`${server.url}/spin`).then(
      (r) => r.status,
      () => 'cut',
    );
    await server.waitFor(/WORKER TIMEOUT: worker \d \(pid \d+\) sent no heartbeat/);
    assert.equal(await spin, 'cut');
    await server.waitFor(/worker 3 \(pid \d+\) ready/);
    const replies = await burst(`${server.url}/`, 40, 4);
    assert.ok(replies.every((r) => r.status === 200));
  } finally {
    assert.equal(await server.stop(), 0);
  }
});

test('upgrades: a WebSocket server on the app’s server works; without one, an upgrade request is an ordinary request', async () => {
  const ws = await serveApp(`${FIXTURES}listen-ws.mjs`, ['-w', '1']);
  const plain = await serveApp(`${FIXTURES}listen-http.mjs`, ['-w', '1']);
  try {
    const socket = new WebSocket(ws.url.replace(/^http/, 'ws'));
    const echoed = new Promise<string>((done, fail) => {
      socket.onmessage = (e) => done(String(e.data));
      socket.onerror = () => fail(new Error('websocket failed'));
    });
    await new Promise((r) => {
      socket.onopen = r;
    });
    socket.send('hi');
    assert.equal(await echoed, 'echo hi');
    socket.close();
    const r = await get(`${plain.url}/`, {
      headers: { connection: 'upgrade', upgrade: 'websocket' },
    });
    assert.equal(r.status, 200);
  } finally {
    assert.equal(await ws.stop(), 0);
    assert.equal(await plain.stop(), 0);
  }
});

test('the app closes its server: that worker drains and is replaced; nothing is lost', async () => {
  const server = await serveApp(`${FIXTURES}listen-http.mjs`, ['-w', '2']);
  try {
    const closing = load({ url: `${server.url}/`, connections: 8, total: 1500, maxMs: 30_000 });
    await sleep(200);
    assert.equal((await get(`${server.url}/close`)).status, 200);
    const r = await closing;
    assert.equal(failures(r), '{"errors":{},"non2xx":{}}');
    await server.waitFor(/the app closed its server: draining it; a replacement starts/);
    await server.waitFor(/worker 3 \(pid \d+\) ready/);
    await server.waitFor(/app \d+: server closed/);
  } finally {
    assert.equal(await server.stop(), 0);
  }
});

test('a second server with the same handler is served as one; another port is not bound, and a warning says so', async () => {
  const admin = await freePort();
  const server = await serveApp(`${FIXTURES}listen-two-servers.mjs`, ['-w', '2'], {
    env: { ADMIN_PORT: String(admin) },
  });
  try {
    const replies = await burst(`${server.url}/`, 40, 4);
    assert.ok(replies.every((r) => r.status === 200));
    assert.equal(await canBind(admin), true, 'the admin port is not bound');
    await server.waitFor(/admin listening: true[\s\S]*admin listening: true/);
    const out = server.output();
    assert.equal(
      out.match(/the app opened another HTTP server \(port \d+\); it is not served/g)?.length,
      2,
    );
    assert.doesNotMatch(out, /another HTTP server \(port \d+ on ::1\)/);
  } finally {
    assert.equal(await server.stop(), 0);
  }
});

test('corral check: a listen() script is reported with the port it asked for, and check exits', async () => {
  const r = await runCorral(['check', `${FIXTURES}listen-express.mjs`], {
    env: { APP_PORT: '3456' },
  });
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stdout,
    /listen-express\.mjs is a listen\(\) script \(http\.Server, asked for port 3456\): corral serves that server on its binds/,
  );
});

test('a script that never calls listen(): check and serve say so and name listen()', async () => {
  const ended = await runCorral(['check', `${FIXTURES}ends-without-listen.mjs`]);
  assert.equal(ended.code, 4);
  assert.match(
    ended.stderr,
    /ends-without-listen\.mjs has no default export; it has no exports, and its code ran to the end without calling listen\(\) on an HTTP server/,
  );
  // Served, with corral's output piped (as here): the worker says so at once, well before the
  // boot timeout, although the script's console.log opened stdout.
  const servedEnded = await runApp(`${FIXTURES}ends-without-listen.mjs`, [
    '-w',
    '1',
    '--boot-timeout',
    '30',
  ]);
  assert.equal(servedEnded.code, 4, servedEnded.stderr);
  assert.match(servedEnded.stderr, /its code ran to the end without calling listen\(\)/);
  assert.doesNotMatch(servedEnded.stderr, /boot-timeout/);
  // Its last timer fires after the first look at what is pending: the loop running dry says it.
  const later = await runCorral(['check', `${FIXTURES}ends-later.mjs`]);
  assert.equal(later.code, 4, later.stderr);
  assert.match(
    later.stderr,
    /ends-later\.mjs has no default export; it has no exports, and its code ran to the end without calling listen\(\) on an HTTP server/,
  );
  const hangs = await runCorral(['check', `${FIXTURES}never-listens.mjs`, '--boot-timeout', '1']);
  assert.equal(hangs.code, 4);
  assert.match(
    hangs.stderr,
    /has not called listen\(\) on an HTTP server within --boot-timeout 1 s/,
  );
  const served = await runApp(`${FIXTURES}never-listens.mjs`, ['-w', '1', '--boot-timeout', '1']);
  assert.equal(served.code, 3);
  assert.match(
    served.stderr,
    /not ready 1 s after it started \(boot-timeout\): \S*never-listens\.mjs has no default export; it has no exports, and it has not called listen\(\) on an HTTP server; killing it/,
  );
  assert.equal(workerPids(served.stderr).length, 3);
});

test('a worker stopped while its script has not yet called listen() leaves cleanly, not as an app that ended', async () => {
  const server = await serveApp(`${FIXTURES}never-listens.mjs`, ['-w', '1'], {
    ready: /booting worker 1/,
  });
  // Its top-level code has run by then, and the worker waits for listen().
  await sleep(1000);
  assert.equal(await server.stop(), 0);
  assert.match(server.output(), /worker 1 \(pid \d+\) exited \(code 0\)/);
  assert.doesNotMatch(server.output(), /ran to the end/);
});

test('an app that changes directory while it starts: the access log stays where corral was started', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'corral-chdir-'));
  const server = await serveApp(
    `${FIXTURES}listen-chdir.mjs`,
    ['-w', '1', '--access-logfile', 'access.log'],
    { cwd: dir },
  );
  try {
    assert.equal((await get(`${server.url}/`)).status, 200);
  } finally {
    assert.equal(await server.stop(), 0);
  }
  assert.match(readFileSync(join(dir, 'access.log'), 'utf8'), /"GET \/ HTTP\/1.1" 200/);
});
