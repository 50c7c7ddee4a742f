// Timeouts, memory recycling, WINCH/USR1, and hooks running where Gunicorn runs them.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { get, LISTENER, serveListener, sleep, startCorral, workerPids } from '../helpers/corral.ts';

test('a route stuck in an infinite loop with -t 2: the other worker keeps answering, the stuck one is replaced', async () => {
  const server = await serveListener(['-w', '2', '-t', '2']);
  try {
    const stuck = get(`${server.url}/spin`).then(
      () => 'answered',
      () => 'lost',
    );
    await sleep(200);
    // Meanwhile: requests keep being answered by the other worker.
    let answered = 0;
    const t0 = Date.now();
    while (!/worker 3 \(pid \d+\) ready/.test(server.output()) && Date.now() - t0 < 15_000) {
      assert.equal((await get(`${server.url}/`)).status, 200);
      answered++;
      await sleep(50);
    }
    assert.ok(answered >= 10, `${answered} answered while one worker was stuck`);
    assert.match(
      server.output(),
      /WORKER TIMEOUT: worker \d \(pid \d+\) sent no heartbeat for \d+\.\d s — its event loop was blocked \(1 open connection\(s\)/,
    );
    assert.equal(await stuck, 'lost', 'only the stuck request is lost');
  } finally {
    await server.stop();
  }
});

test('--request-timeout: a slow request gets 503, the same worker keeps serving', async () => {
  const server = await serveListener(['-w', '1', '--request-timeout', '0.5']);
  try {
    const [slow, fast] = await Promise.all([
      get(`${server.url}/slow?ms=2500`),
      (async () => {
        await sleep(100);
        return get(`${server.url}/`);
      })(),
    ]);
    assert.equal(slow.status, 503);
    assert.match(slow.body, /timed out/);
    assert.equal(fast.status, 200);
    await sleep(2500); // the app's own late answer must not crash the worker
    const again = await get(`${server.url}/`);
    assert.equal(again.status, 200);
    assert.equal(workerPids(server.output()).length, 1, 'no worker was replaced');
    assert.match(
      server.output(),
      /request timeout: GET \/slow\?ms=2500 ran 0\.\d s \(request-timeout 0\.5 s\); answered 503/,
    );
  } finally {
    await server.stop();
  }
});

test('--max-worker-memory: a worker past the limit is replaced, replacement first', async () => {
  const server = await serveListener(['-w', '1', '--max-worker-memory', '150MiB']);
  try {
    const first = await get(`${server.url}/`);
    await get(`${server.url}/grow?mb=200`);
    await server.waitFor(
      /worker 1 \(pid \d+\) uses \d+ MiB \(max-worker-memory 150 MiB\): replacing it/,
    );
    await server.waitFor(/worker 2 \(pid \d+\) ready/);
    await server.waitFor(/worker 1 \(pid \d+\) exited \(code 0\)/);
    const after = await get(`${server.url}/`);
    assert.notEqual(after.body, first.body, 'a new worker answers');
  } finally {
    await server.stop();
  }
});

test('WINCH stops the workers and keeps the master; HUP brings them back', async () => {
  const server = await serveListener(['-w', '2']);
  try {
    server.proc.kill('SIGWINCH');
    await server.waitFor(/workers: 2 → 0/);
    await server.waitFor(
      /worker 2 \(pid \d+\) exited \(code 0\)[\s\S]*|worker 1 \(pid \d+\) exited \(code 0\)[\s\S]*worker 2 \(pid \d+\) exited/,
    );
    assert.equal(server.proc.exitCode, null, 'the master is still running');
    server.proc.kill('SIGHUP');
    await server.waitFor(/workers: 0 → 2/);
    await server.waitFor(/worker 4 \(pid \d+\) ready/);
    assert.equal((await get(`${server.url}/`)).status, 200);
  } finally {
    assert.equal(await server.stop(), 0);
  }
});

test('USR1 reopens the access log (log rotation)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'corral-'));
  const log = join(dir, 'access.log');
  const server = await serveListener(['-w', '1', '--access-logfile', log]);
  try {
    await get(`${server.url}/before`);
    for (let i = 0; i < 50 && !(existsSync(log) && readFileSync(log, 'utf8')); i++) await sleep(50);
    renameSync(log, `${log}.1`);
    server.proc.kill('SIGUSR1');
    await server.waitFor(/log files reopened/);
    await sleep(200);
    await get(`${server.url}/after`);
    for (let i = 0; i < 50 && !existsSync(log); i++) await sleep(50);
    let text = '';
    for (let i = 0; i < 50 && !text.includes('/after'); i++) {
      await sleep(50);
      text = existsSync(log) ? readFileSync(log, 'utf8') : '';
    }
    assert.match(text, /"GET \/after HTTP\/1\.1" 200/);
    assert.match(readFileSync(`${log}.1`, 'utf8'), /"GET \/before HTTP\/1\.1" 200/);
  } finally {
    await server.stop();
  }
});

test('hooks run where Gunicorn runs them; a throwing hook is logged and the server goes on', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'corral-'));
  const hookLog = join(dir, 'hooks.log');
  const cwd = fileURLToPath(new URL('../fixtures/configs/hooks/', import.meta.url));
  const server = await serveListener(['-w', '1', '-t', '1'], { cwd, env: { HOOK_LOG: hookLog } });
  const master = String(server.proc.pid);
  const lines = () => readFileSync(hookLog, 'utf8').trim().split('\n');
  try {
    assert.equal((await get(`${server.url}/`)).status, 200);
    const bad = await get(`${server.url}/hook-throws`);
    assert.equal(bad.status, 200, 'the request is still served');
    assert.match(server.output(), /hook preRequest failed: Error: preRequest hook exploded/);
    server.proc.kill('SIGTTIN');
    await server.waitFor(/worker 2 \(pid \d+\) ready/);
    // HUP re-reads the config: back to its -w 1 (as Gunicorn does), rolled onto worker 3.
    server.proc.kill('SIGHUP');
    await server.waitFor(/worker 3 \(pid \d+\) ready/);
    await server.waitFor(/worker 2 \(pid \d+\) exited/);
    get(`${server.url}/spin`).catch(() => {});
    await server.waitFor(/WORKER TIMEOUT/);
    await server.waitFor(/worker 4 \(pid \d+\) ready/);
  } finally {
    await server.stop();
  }
  const seen = lines();
  const where = (name: string) =>
    seen.filter((l) => l.startsWith(`${name} `)).map((l) => l.split(' ')[1]);
  for (const name of [
    'onStarting',
    'whenReady',
    'preFork',
    'onReload',
    'childExit',
    'workerAbort',
    'onExit',
  ]) {
    assert.ok(where(name).length > 0, `${name} ran`);
    assert.ok(
      where(name).every((p) => p === master),
      `${name} ran in the master`,
    );
  }
  for (const name of ['postFork', 'postWorkerInit', 'preRequest', 'postRequest', 'workerExit']) {
    assert.ok(where(name).length > 0, `${name} ran`);
    assert.ok(
      where(name).every((p) => p !== master),
      `${name} ran in a worker`,
    );
  }
  assert.ok(seen.includes('nworkersChanged 1->2'));
  assert.ok(seen.includes('nworkersChanged 2->1'));
});

test('HUP fails closed: a broken app or config changes nothing and the old workers keep serving', async () => {
  const { copyFileSync, writeFileSync } = await import('node:fs');
  const dir = mkdtempSync(join(tmpdir(), 'corral-'));
  const app = join(dir, 'app.mjs');
  copyFileSync(LISTENER, app);
  writeFileSync(join(dir, 'corral.config.json'), '{"workers": 2}');
  const server = await startCorral([app, '-b', '127.0.0.1:0'], { cwd: dir });
  try {
    // A broken app: the replacement cannot boot, the roll stops, the old workers stay.
    writeFileSync(app, "throw new Error('syntax of the new release is broken');\n");
    server.proc.kill('SIGHUP');
    await server.waitFor(
      /a new worker failed to boot; the running workers keep serving: .*syntax of the new release is broken/,
    );
    for (let i = 0; i < 10; i++) assert.equal((await get(`${server.url}/`)).status, 200);
    assert.equal(server.proc.exitCode, null);
    // A broken config file: nothing changes at all.
    writeFileSync(join(dir, 'corral.config.json'), '{"workers": "many"}');
    server.proc.kill('SIGHUP');
    await server.waitFor(
      /reload failed, nothing changed: corral: invalid workers .* from config file corral\.config\.json: "many"/,
    );
    // Fixed: the next HUP rolls onto the new code.
    copyFileSync(LISTENER, app);
    writeFileSync(join(dir, 'corral.config.json'), '{"workers": 2}');
    await sleep(1100); // past the back-off from the failed boot
    server.proc.kill('SIGHUP');
    await server.waitFor(
      /reload: rolling 2 worker\(s\)[\s\S]*reload: rolling 2 worker\(s\)[\s\S]*worker \d+ \(pid \d+\) exited \(code 0\)[\s\S]*worker \d+ \(pid \d+\) exited \(code 0\)/,
    );
    assert.equal((await get(`${server.url}/`)).status, 200);
  } finally {
    assert.equal(await server.stop(), 0);
  }
});
