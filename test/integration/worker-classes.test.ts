// What each worker class promises, shown with real requests.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FIXTURES, get, runCorral, sleep, startCorral } from '../helpers/corral.ts';
import { failures, load } from '../helpers/load.ts';

const LISTENER = `${FIXTURES}listener.mjs`;
const pidOf = (body: string) => body.match(/\b(\d+)\b/)?.[1];

test('sync, 2 workers: while worker A awaits a slow request, six fresh requests all go to worker B', async () => {
  const server = await startCorral([LISTENER, '-w', '2', '-k', 'sync', '-b', '127.0.0.1:0']);
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
  const server = await startCorral([LISTENER, '-w', '1', '-k', 'sync', '-b', '127.0.0.1:0']);
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
  const server = await startCorral([
    LISTENER,
    '-w',
    '1',
    '--worker-connections',
    '2',
    '-b',
    '127.0.0.1:0',
  ]);
  try {
    const r = await load({ url: `${server.url}/concurrency?ms=50`, connections: 12, total: 24 });
    assert.equal(failures(r), '{"errors":{},"non2xx":{}}');
    assert.equal(r.answered, 24);
  } finally {
    await server.stop();
  }
});

test("Gunicorn's class names are accepted with a notice; sync refuses kernel dispatch", async () => {
  const server = await startCorral([LISTENER, '-w', '1', '-k', 'gevent', '-b', '127.0.0.1:0']);
  try {
    assert.match(server.output(), /workerClass: gevent \(command line -k\) runs as corral's async/);
  } finally {
    await server.stop();
  }
  const bad = await runCorral([LISTENER, '-k', 'sync', '--dispatch', 'shared']);
  assert.equal(bad.code, 2);
  assert.match(
    bad.stderr,
    /workerClass sync \(from command line -k\) needs dispatch least-conn, got shared/,
  );
});
