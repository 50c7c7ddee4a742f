// What each worker class promises, shown with real requests.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { get, LISTENER, runCorral, serveListener, sleep } from '../helpers/corral.ts';
import { failures, load } from '../helpers/load.ts';

const pidOf = (body: string) => body.match(/\b(\d+)\b/)?.[1];

test('sync, 2 workers: while worker A awaits a slow request, six fresh requests all go to worker B', async () => {
  const server = await serveListener(['-w', '2', '-k', 'sync']);
  try {
    let slowDone = false;
    const slow = get(`${server.url}/slow?ms=2500`).then((r) => {
      slowDone = true;
      return r;
    });
    await sleep(200); // A now holds the slow request
    const fresh = await Promise.all(Array.from({ length: 6 }, () => get(`${server.url}/`)));
    assert.equal(slowDone, false, 'all six answered while the slow one was still running');
    const a = pidOf((await slow).body);
    for (const r of fresh) {
      assert.equal(r.status, 200);
      assert.notEqual(pidOf(r.body), a, 'not queued behind the busy worker');
      assert.equal(r.headers.connection, 'close', 'sync closes after each response');
    }
    assert.equal(new Set(fresh.map((r) => pidOf(r.body))).size, 1, 'all by worker B');
  } finally {
    assert.equal(await server.stop(), 0);
  }
});

test('sync, 1 worker: concurrent requests are served one at a time, none reset', async () => {
  const server = await serveListener(['-w', '1', '-k', 'sync']);
  try {
    const replies = await Promise.all(
      Array.from({ length: 4 }, () => get(`${server.url}/concurrency?ms=200`)),
    );
    for (const r of replies) assert.equal(r.status, 200);
    const peaks = replies.map((r) => Number(r.body.split(' ')[1]));
    assert.deepEqual(peaks, [1, 1, 1, 1], 'the app never ran two requests at once');
  } finally {
    await server.stop();
  }
});

test('async, 1 worker, --worker-connections 2: 12 keep-alive clients, 24 requests, all answered, none reset', async () => {
  const server = await serveListener(['-w', '1', '--worker-connections', '2']);
  try {
    const r = await load({ url: `${server.url}/concurrency?ms=50`, connections: 12, total: 24 });
    assert.equal(failures(r), '{"errors":{},"non2xx":{}}');
    assert.equal(r.answered, 24);
  } finally {
    await server.stop();
  }
});

test("Gunicorn's class names are accepted with a notice; sync refuses reuseport", async () => {
  const server = await serveListener(['-w', '1', '-k', 'gevent']);
  try {
    assert.match(server.output(), /workerClass: gevent \(command line -k\) runs as corral's async/);
  } finally {
    await server.stop();
  }
  const bad = await runCorral([LISTENER, '-k', 'sync', '--dispatch', 'reuseport']);
  assert.equal(bad.code, 2);
  assert.match(
    bad.stderr,
    /workerClass sync \(from command line -k\) needs dispatch shared or least-conn, got reuseport \(from command line --dispatch\): a busy worker's own queue/,
  );
  assert.doesNotMatch(bad.stderr, /\n\s+at /, 'one line, no stack trace');
});

test('thread, 1 worker × 2 threads: two CPU-bound requests run at once on one pid, two threads', async () => {
  const server = await serveListener(['-w', '1', '--threads', '2']);
  try {
    assert.match(server.output(), /workerClass: thread, because threads is 2/);
    // The kernel spreads connections over the threads' sockets; try a few pairs until both threads got one.
    let pair: string[][] = [];
    for (let i = 0; i < 20; i++) {
      const replies = await Promise.all([
        get(`${server.url}/cpu?ms=400`),
        get(`${server.url}/cpu?ms=400`),
      ]);
      pair = replies.map((r) => r.body.trim().split(' '));
      if (pair[0]?.[2] !== pair[1]?.[2]) break;
    }
    const [a, b] = pair as [string[], string[]];
    assert.equal(a[1], b[1], 'same worker process');
    assert.notEqual(a[2], b[2], 'different threads');
    // In parallel: each started before the other finished.
    assert.ok(Number(a[3]) < Number(b[4]) && Number(b[3]) < Number(a[4]), `overlap: ${a} / ${b}`);
  } finally {
    assert.equal(await server.stop(), 0);
  }
});

test('thread: a thread stuck in a loop is replaced; the other thread keeps serving', async () => {
  const server = await serveListener(['-w', '1', '--threads', '2', '-t', '1']);
  try {
    get(`${server.url}/spin`).catch(() => {});
    await server.waitFor(/THREAD TIMEOUT: thread \d+ sent no heartbeat/);
    // Connections the kernel queued on the stuck thread's own socket go with it (see
    // docs/worker-classes.md); once its replacement listens, everything is answered.
    await server.waitFor(/thread \d+ ready, replacing thread \d+/);
    for (let i = 0; i < 10; i++) assert.equal((await get(`${server.url}/`)).status, 200);
    assert.equal(server.proc.exitCode, null);
  } finally {
    await server.stop();
  }
});
