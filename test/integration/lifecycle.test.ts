// Stop, crash, recycle, reload and single-process behaviour of real masters.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import {
  alive,
  burst,
  get,
  LISTENER,
  serveListener,
  sleep,
  startCorral,
  workerPids,
} from '../helpers/corral.ts';

describe('lifecycle', () => {
  test('SIGTERM: the in-flight request completes, then master and workers are gone', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'corral-'));
    const pidfile = join(dir, 'corral.pid');
    const server = await serveListener(['-w', '2', '-p', pidfile]);
    assert.equal(Number(readFileSync(pidfile, 'utf8')), server.proc.pid);
    const pids = workerPids(server.output());
    assert.equal(pids.length, 2);
    const slow = get(`${server.url}/slow?ms=800`);
    await sleep(200); // the request is now in a worker
    server.proc.kill('SIGTERM');
    const reply = await slow;
    assert.equal(reply.status, 200);
    assert.match(reply.body, /^slow \d+/);
    assert.equal(await server.exited, 0);
    for (const pid of pids) assert.equal(alive(pid), false, `worker ${pid} is gone`);
    assert.equal(existsSync(pidfile), false, 'pid file removed');
  });

  test('SIGINT: quick stop, nothing left behind', async () => {
    const server = await serveListener(['-w', '2']);
    const pids = workerPids(server.output());
    assert.equal(await server.stop('SIGINT'), 0);
    for (const pid of pids) assert.equal(alive(pid), false);
  });

  test('a worker that crashes after boot is replaced and serving continues', async () => {
    const server = await serveListener(['-w', '2']);
    try {
      const r = await get(`${server.url}/crash`);
      assert.equal(r.status, 200);
      await server.waitFor(/exited unexpectedly \(code 1\); starting a replacement/);
      await server.waitFor(/worker 3 \(pid \d+\) ready/);
      const replies = await burst(`${server.url}/`, 40, 4);
      assert.ok(replies.every((x) => x.status === 200));
    } finally {
      await server.stop();
    }
  });

  test('a request that throws gets a 500 and the worker keeps serving', async () => {
    const server = await serveListener(['-w', '1']);
    try {
      const bad = await get(`${server.url}/throw`);
      assert.equal(bad.status, 500);
      const ok = await get(`${server.url}/`);
      assert.equal(ok.status, 200);
      assert.equal(workerPids(server.output()).length, 1, 'no respawn was needed');
      assert.match(server.output(), /boom from the app/);
    } finally {
      await server.stop();
    }
  });

  test('a worker that blocks its event loop past --timeout is aborted and replaced', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'corral-'));
    const app = join(dir, 'block.mjs');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(
      app,
      `export default (req, res) => { if (req.url === '/block') { const t = Date.now(); while (Date.now() - t < 5000); } res.end('ok ' + process.pid); };\n`,
    );
    const server = await startCorral([app, '-w', '1', '-b', '127.0.0.1:0', '--timeout', '1']);
    try {
      get(`${server.url}/block`).catch(() => {}); // this one is lost with its worker
      await server.waitFor(/WORKER TIMEOUT: worker 1 .* event loop was blocked/);
      await server.waitFor(/worker 2 \(pid \d+\) ready/);
      assert.equal((await get(`${server.url}/`)).status, 200);
    } finally {
      await server.stop();
    }
  });

  test('--max-requests recycles a worker: replacement first, no failed request', async () => {
    const server = await serveListener(['-w', '2', '--max-requests', '50']);
    try {
      const replies = await burst(`${server.url}/`, 300, 4);
      assert.ok(
        replies.every((r) => r.status === 200),
        'every request answered',
      );
      await server.waitFor(/asking to be replaced/);
      await server.waitFor(/worker [3-9] \(pid \d+\) ready/);
    } finally {
      assert.equal(await server.stop(), 0);
    }
  });

  test('SIGHUP rolls every worker: new pids serve, old ones exit cleanly', async () => {
    const server = await serveListener(['-w', '2']);
    try {
      const before = workerPids(server.output());
      server.proc.kill('SIGHUP');
      await server.waitFor(/worker 4 \(pid \d+\) ready/);
      await server.waitFor(
        /worker 2 \(pid \d+\) exited \(code 0\)[\s\S]*|worker 1 \(pid \d+\) exited \(code 0\)[\s\S]*worker 2 \(pid \d+\) exited/,
      );
      const after = new Set(
        (await burst(`${server.url}/`, 40, 4)).map((r) => Number(r.body.split(' ')[1])),
      );
      for (const pid of before)
        assert.equal(after.has(pid), false, `old worker ${pid} no longer serves`);
    } finally {
      await server.stop();
    }
  });

  test('-w 0 serves from the master process alone', async () => {
    const server = await serveListener(['-w', '0']);
    try {
      const r = await get(`${server.url}/`);
      assert.equal(r.body.trim(), `listener ${server.proc.pid}`);
      assert.equal(workerPids(server.output()).length, 0);
    } finally {
      assert.equal(await server.stop(), 0);
    }
  });

  test('-e KEY=VALUE reaches the app', async () => {
    const server = await serveListener(['-w', '1', '-e', 'GREETING=hi there']);
    try {
      assert.equal((await get(`${server.url}/env`)).body.trim(), 'hi there');
    } finally {
      await server.stop();
    }
  });
});

describe('stopping and logs', () => {
  test('a master killed with SIGKILL leaves no orphan workers', async () => {
    const server = await serveListener(['-w', '2']);
    const pids = workerPids(server.output());
    server.proc.kill('SIGKILL');
    await server.exited;
    for (let i = 0; i < 100 && pids.some(alive); i++) await sleep(100);
    for (const pid of pids) assert.equal(alive(pid), false, `worker ${pid} exited with its master`);
  });

  test('--graceful-timeout: a request running past it is cut and the master still exits', async () => {
    const server = await serveListener(['-w', '1', '--graceful-timeout', '0.5']);
    const slow = get(`${server.url}/slow?ms=10000`).then(
      () => 'answered',
      () => 'cut',
    );
    await sleep(200);
    server.proc.kill('SIGTERM');
    assert.equal(await server.exited, 0);
    assert.equal(await slow, 'cut');
    assert.match(
      server.output(),
      /still had 1 request\(s\) in flight at the graceful timeout: killed/,
    );
  });

  test('SIGTERM closes idle keep-alive connections cleanly (no reset) and exits', async () => {
    const { connect } = await import('node:net');
    const server = await serveListener(['-w', '1', '--keep-alive', '60']);
    const { port } = new URL(server.url);
    const sock = connect(Number(port), '127.0.0.1');
    let data = '';
    let error: Error | null = null;
    sock.on('data', (d) => (data += d));
    sock.on('error', (e) => (error = e));
    sock.write('GET / HTTP/1.1\r\nhost: x\r\n\r\n');
    while (!data.includes('listener')) await sleep(20);
    const closed = new Promise((r) => sock.on('close', r));
    server.proc.kill('SIGTERM');
    await closed;
    assert.equal(error, null, 'closed with FIN, not reset');
    assert.equal(await server.exited, 0);
  });

  test('--access-logfile and --error-logfile write where they are told', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'corral-'));
    const access = join(dir, 'access.log');
    const errors = join(dir, 'error.log');
    const server = await startCorral(
      [
        LISTENER,
        '-w',
        '1',
        '-b',
        '127.0.0.1:0',
        '--access-logfile',
        access,
        '--error-logfile',
        errors,
      ],
      { readyFile: errors },
    );
    try {
      assert.doesNotMatch(server.output(), /Listening at/, 'nothing on stderr');
      await get(`${server.url}/hello?x=1`, { headers: { 'user-agent': 'corral-test' } });
      let line = '';
      for (let i = 0; i < 100 && !line; i++) {
        line = existsSync(access) ? readFileSync(access, 'utf8').trim() : '';
        if (!line) await sleep(50);
      }
      assert.match(
        line,
        /^127\.0\.0\.1 - - \[\d{2}\/\w{3}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000\] "GET \/hello\?x=1 HTTP\/1\.1" 200 - "-" "corral-test"$/,
      );
    } finally {
      await server.stop();
    }
    assert.match(
      readFileSync(errors, 'utf8'),
      /\[INFO\] \[worker 1\]|\[INFO\] \[master\] Listening at: http:\/\/127\.0\.0\.1:\d+/,
    );
  });

  test("--node-args reach the worker processes, after corral's V8 defaults", async () => {
    const server = await serveListener([
      '-w',
      '1',
      '--node-args=--max-old-space-size=200 --no-warnings',
    ]);
    try {
      const argv = JSON.parse((await get(`${server.url}/execargv`)).body);
      assert.deepEqual(argv, [
        '--no-allocation-site-pretenuring',
        '--min-semi-space-size=4',
        '--max-old-space-size=200',
        '--no-warnings',
      ]);
    } finally {
      await server.stop();
    }
  });
});
