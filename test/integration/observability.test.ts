// Metrics, health and readiness from the master; the control socket; corral top; the
// advisor and adaptive workers.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  BIN,
  burst,
  cleanEnv,
  FIXTURES,
  get,
  metricSum,
  metricsUrl,
  ROOT,
  runCorral,
  serveApp,
  serveListener,
  sleep,
} from '../helpers/corral.ts';
import { load } from '../helpers/load.ts';

const sock = () => join(mkdtempSync(join(tmpdir(), 'corral-')), 'ctl.sock');
const LINE =
  /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="[^"]*",?)*\})? -?[0-9.e+-]+|NaN|[+-]Inf$/;

/** A Prometheus body's sample lines (no comments, no blanks), each checked for its shape. */
function sampleLines(body: string): string[] {
  const lines = body.split('\n').filter((l) => l && !l.startsWith('#'));
  for (const l of lines) assert.match(l, LINE, `a Prometheus sample line: ${l}`);
  return lines;
}

test('/metrics after 300 requests; /healthz and /readyz; /readyz 503 while shutting down', async () => {
  const server = await serveListener([
    '-w',
    '2',
    '--metrics-bind',
    '127.0.0.1:0',
    '--shutdown-delay',
    '1',
  ]);
  const metricsAt = metricsUrl(server);
  try {
    const replies = await burst(`${server.url}/`, 300, 8);
    assert.ok(replies.every((r) => r.status === 200));
    await sleep(700); // a heartbeat carries the counts to the master
    const m = await get(`${metricsAt}/metrics`);
    assert.equal(m.status, 200);
    assert.match(String(m.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    const lines = sampleLines(m.body);
    const sum = (name: string) => metricSum(m.body, name);
    assert.ok(
      sum('corral_requests_total') >= 300,
      `requests_total ${sum('corral_requests_total')}`,
    );
    assert.ok(sum('corral_request_duration_seconds_count') >= 300);
    assert.match(m.body, /corral_request_duration_seconds_bucket\{le="\+Inf"\} \d+/);
    assert.equal(lines.filter((l) => l.startsWith('corral_worker_rss_bytes{')).length, 2);
    assert.equal(
      lines.filter((l) => l.startsWith('corral_worker_event_loop_utilization{')).length,
      2,
    );
    assert.match(m.body, /corral_workers\{state="ready"\} 2/);
    assert.equal((await get(`${metricsAt}/healthz`)).status, 200);
    assert.equal((await get(`${metricsAt}/readyz`)).status, 200);
    server.proc.kill('SIGTERM');
    await server.waitFor(/shutdown delay/);
    const during = await get(`${metricsAt}/readyz`);
    assert.equal(during.status, 503);
    assert.equal((await get(`${server.url}/`)).status, 200, 'still serving during the delay');
    assert.equal(await server.exited, 0);
  } finally {
    await server.stop();
  }
});

test('corral_listen_backlog counts the connections waiting in the kernel while the worker is at its cap', async () => {
  const server = await serveListener([
    '-w',
    '1',
    '--worker-connections',
    '1',
    '--metrics-bind',
    '127.0.0.1:0',
  ]);
  const metricsAt = metricsUrl(server);
  const waiting: Socket[] = [];
  try {
    // The one connection the worker may hold, busy for 3 s.
    const slow = get(`${server.url}/slow?ms=3000`);
    await sleep(300);
    const { port } = new URL(server.url);
    for (let i = 0; i < 3; i++) waiting.push(connect(Number(port), '127.0.0.1'));
    const line = new RegExp(`^corral_listen_backlog\\{bind="${server.url}"\\} (\\d+)$`, 'm');
    let queued = -1;
    for (const until = Date.now() + 2000; Date.now() < until && queued !== 3; await sleep(100)) {
      queued = Number(line.exec((await get(`${metricsAt}/metrics`)).body)?.[1] ?? -1);
    }
    assert.equal(queued, 3);
    assert.equal((await slow).status, 200);
  } finally {
    for (const s of waiting) s.destroy();
    await server.stop();
  }
});

test("thread class: the threads' status classes and latency reach /metrics", async () => {
  const server = await serveListener([
    '-w',
    '1',
    '-k',
    'thread',
    '--threads',
    '2',
    '--metrics-bind',
    '127.0.0.1:0',
  ]);
  const metricsAt = metricsUrl(server);
  try {
    const replies = await burst(`${server.url}/`, 200, 8);
    assert.ok(replies.every((r) => r.status === 200));
    await sleep(1200); // a thread beats 4×/s to its worker, the worker 2×/s to the master
    const m = await get(`${metricsAt}/metrics`);
    const value = (re: RegExp) => Number(m.body.match(re)?.[1] ?? Number.NaN);
    assert.ok(value(/^corral_request_duration_seconds_count (\d+)/m) >= 200, m.body);
    assert.ok(value(/^corral_requests_total\{status="2xx"\} (\d+)/m) >= 200, m.body);
  } finally {
    await server.stop();
  }
});

test('ctl status --json lists the workers; ctl scale 3 gives 3; ctl reload and stop', async () => {
  const path = sock();
  const server = await serveListener(['-w', '2', '--control-socket', path]);
  try {
    const s = await runCorral(['ctl', '--socket', path, 'status', '--json']);
    assert.equal(s.code, 0, s.stderr);
    const status = JSON.parse(s.stdout);
    assert.equal(status.workers.length, 2);
    for (const w of status.workers) {
      for (const k of ['pid', 'state', 'requests', 'inFlight', 'rssBytes', 'elu'])
        assert.ok(k in w, k);
    }
    assert.match((await runCorral(['ctl', '--socket', path, 'scale', '3'])).stdout, /scaling to 3/);
    await server.waitFor(/worker 3 \(pid \d+\) ready/);
    const after = JSON.parse(
      (await runCorral(['ctl', '--socket', path, 'status', '--json'])).stdout,
    );
    assert.equal(after.target, 3);
    assert.equal(after.workers.filter((w: { state: string }) => w.state === 'ready').length, 3);
    const human = await runCorral(['ctl', '--socket', path, 'status']);
    assert.match(human.stdout, /ready, 3\/3 async workers/);
    const bad = await runCorral(['ctl', '--socket', path, 'scale', 'zero']);
    assert.equal(bad.code, 2);
    assert.match(
      (await runCorral(['ctl', '--socket', path, 'stop'])).stdout,
      /stopping gracefully/,
    );
    assert.equal(await server.exited, 0);
  } finally {
    await server.stop();
  }
  const gone = await runCorral(['ctl', '--socket', path, 'status']);
  assert.notEqual(gone.code, 0);
  assert.match(gone.stderr, /cannot reach the master/);
});

test('corral top draws the workers and quits on q', async () => {
  const path = sock();
  const server = await serveListener(['-w', '2', '--control-socket', path]);
  try {
    const top = spawn(process.execPath, [BIN, 'top', '--socket', path], {
      cwd: ROOT,
      env: cleanEnv(),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let screen = '';
    top.stdout.on('data', (d) => (screen += d));
    for (let i = 0; i < 100 && !/WORKER +PID/.test(screen); i++) await sleep(50);
    assert.match(screen, /WORKER +PID +STATE/);
    assert.match(screen, /ready/);
    top.stdin.write('q');
    const code = await new Promise((done) => top.on('exit', done));
    assert.equal(code, 0);
  } finally {
    await server.stop();
  }
});

test('-w adaptive 1..2: grows under CPU load, returns to 1 when idle, no flapping', async () => {
  const path = sock();
  const server = await serveListener([
    '-w',
    'adaptive',
    '--min-workers',
    '1',
    '--max-workers',
    '2',
    '--control-socket',
    path,
  ]);
  const counts: number[] = [];
  let recording = true;
  const recorder = (async () => {
    while (recording) {
      const r = await runCorral(['ctl', '--socket', path, 'status', '--json']).catch(() => null);
      if (r?.code === 0) counts.push(JSON.parse(r.stdout).target);
      await sleep(500);
    }
  })();
  try {
    // CPU-bound load until the master adds a worker (bounded).
    const grown = server.waitFor(/adaptive: 1 → 2 worker\(s\)/, 30_000);
    await load({
      url: `${server.url}/cpu?ms=40`,
      connections: 4,
      total: 0,
      until: grown,
      maxMs: 30_000,
    });
    await grown;
    // Idle: it goes back to 1.
    await server.waitFor(/adaptive: 2 → 1 worker\(s\)/, 60_000);
    await sleep(1000);
  } finally {
    recording = false;
    await recorder;
    await server.stop();
  }
  // The recorded counts go 1…1, 2…2, 1…1: one step up, one step down, nothing in between.
  const changes = counts.filter((c, i) => i > 0 && c !== counts[i - 1]);
  assert.deepEqual(changes, [2, 1], `counts over time: ${counts.join(' ')}`);
});

test("an app's prom-client Counter in 2 workers: /metrics serves the sum; Node's metrics per worker slot", async () => {
  const server = await serveApp(`${FIXTURES}prom-counter.mjs`, [
    '-w',
    '2',
    '--metrics-bind',
    '127.0.0.1:0',
  ]);
  const metricsAt = metricsUrl(server);
  try {
    const replies = await burst(`${server.url}/`, 200, 8);
    assert.ok(replies.every((r) => r.status === 200));
    const pids = new Set(replies.map((r) => r.body));
    assert.equal(pids.size, 2, `both workers served (${[...pids].join(', ')})`);
    const m = await get(`${metricsAt}/metrics`);
    assert.equal(m.status, 200);
    const lines = sampleLines(m.body);
    assert.ok(lines.includes('app_requests_total{route="root"} 200'), m.body);
    assert.match(m.body, /# TYPE app_requests_total counter/);
    // Node's metrics: the master's (no worker label) and each worker's, by slot.
    for (const name of ['process_resident_memory_bytes', 'nodejs_heap_size_used_bytes']) {
      const series = lines.filter((l) => l.startsWith(name));
      assert.deepEqual(series.map((l) => l.replace(/ .*/, '')).sort(), [
        name,
        `${name}{worker="1"}`,
        `${name}{worker="2"}`,
      ]);
    }
    assert.match(m.body, /^process_cpu_seconds_total\{worker="1"\} /m);
    assert.match(m.body, /^nodejs_version_info\{version="v\d+/m);
    assert.match(m.body, /^corral_worker_rss_bytes\{worker="1"\} /m);
    assert.doesNotMatch(m.body, /pid="/);
  } finally {
    await server.stop();
  }
});

test('worker slots survive recycles: a replaced worker takes its slot, no new series', async () => {
  const server = await serveListener([
    '-w',
    '2',
    '--metrics-bind',
    '127.0.0.1:0',
    '--max-requests',
    '20',
  ]);
  const metricsAt = metricsUrl(server);
  try {
    for (let i = 0; i < 100; i++) assert.equal((await get(`${server.url}/`)).status, 200);
    // Let the replacements finish booting and the old workers leave.
    for (let i = 0; i < 100; i++) {
      const m = await get(`${metricsAt}/metrics`);
      if (
        /corral_workers\{state="ready"\} 2/.test(m.body) &&
        !/state="draining"\} [1-9]/.test(m.body) &&
        !/state="booting"\} [1-9]/.test(m.body)
      )
        break;
      await sleep(100);
    }
    const m = await get(`${metricsAt}/metrics`);
    assert.match(m.body, /corral_worker_restarts_total\{reason="max-requests"\} [2-9]/);
    const slots = [...m.body.matchAll(/^corral_worker_rss_bytes\{worker="(\d+)"\}/gm)].map(
      (x) => x[1],
    );
    assert.deepEqual(slots.sort(), ['1', '2']);
  } finally {
    await server.stop();
  }
});
