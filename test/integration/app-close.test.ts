// A draining worker closes the app after its last request: Fastify's close() (onClose hooks),
// a factory's close() or Symbol.asyncDispose — on TERM, on HUP and in single-process mode.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FIXTURES, get, serveApp, startCorral, workerPids } from '../helpers/corral.ts';

const closedIn = (out: string, what: string) =>
  [...out.matchAll(new RegExp(`${what} ran in (\\d+)`, 'g'))].map((m) => Number(m[1]));

describe('apps closed on drain', () => {
  test("a Fastify app's onClose runs in every worker on HUP and on TERM", async () => {
    const server = await serveApp(`${FIXTURES}fastify-close.mjs`, ['-w', '2']);
    let stopped: number | string = -1;
    let first: number[] = [];
    try {
      assert.match((await get(`${server.url}/`)).body, /^fastify \d+/);
      first = workerPids(server.output());
      assert.equal(first.length, 2);
      server.proc.kill('SIGHUP');
      await server.waitFor(/worker 4 \(pid \d+\) ready/);
      await server.waitFor(new RegExp(`onClose ran in ${first[0]}[\\s\\S]*`));
      await server.waitFor(new RegExp(`onClose ran in ${first[1]}`));
      assert.match((await get(`${server.url}/`)).body, /^fastify \d+/);
    } finally {
      stopped = await server.stop('SIGTERM');
    }
    assert.equal(stopped, 0);
    const all = workerPids(server.output());
    const second = all.filter((p) => !first.includes(p));
    assert.equal(second.length, 2, server.output());
    const closed = closedIn(server.output(), 'onClose');
    for (const pid of [...first, ...second]) {
      assert.ok(closed.includes(pid), `onClose ran in worker ${pid}:\n${server.output()}`);
    }
    assert.equal(closed.length, 4, 'once per worker');
    // The app closes before the worker says it exited.
    for (const pid of all) {
      const out = server.output();
      assert.ok(
        out.indexOf(`onClose ran in ${pid}`) < out.search(new RegExp(`\\(pid ${pid}\\) exited`)),
      );
    }
  });

  test('a worker recycled by --max-requests closes its app', async () => {
    const server = await serveApp(`${FIXTURES}fastify-close.mjs`, [
      '-w',
      '1',
      '--max-requests',
      '3',
    ]);
    try {
      const [first] = workerPids(server.output());
      for (let i = 0; i < 3; i++) assert.equal((await get(`${server.url}/`)).status, 200);
      await server.waitFor(new RegExp(`onClose ran in ${first}`));
      await server.waitFor(/worker 2 \(pid \d+\) ready/);
      assert.equal((await get(`${server.url}/`)).status, 200);
    } finally {
      assert.equal(await server.stop('SIGTERM'), 0);
    }
  });

  for (const [factory, what] of [
    ['createClosable()', 'close\\(\\)'],
    ['createDisposable()', 'asyncDispose'],
  ] as const) {
    test(`a factory's ${what.replace(/\\/g, '')} runs on TERM`, async () => {
      const server = await startCorral([
        `${FIXTURES}closable.mjs:${factory}`,
        '-b',
        '127.0.0.1:0',
        '-w',
        '1',
      ]);
      assert.equal((await get(`${server.url}/`)).status, 200);
      assert.equal(await server.stop('SIGTERM'), 0);
      assert.deepEqual(closedIn(server.output(), what), workerPids(server.output()));
    });
  }

  test('single-process mode closes the app on TERM', async () => {
    const server = await serveApp(`${FIXTURES}fastify-close.mjs`, ['-w', '0']);
    assert.equal((await get(`${server.url}/`)).status, 200);
    assert.equal(await server.stop('SIGTERM'), 0);
    assert.deepEqual(closedIn(server.output(), 'onClose'), [server.proc.pid]);
  });

  test("the thread class closes each thread's app on TERM", async () => {
    const server = await startCorral([
      `${FIXTURES}closable.mjs:createClosable()`,
      '-b',
      '127.0.0.1:0',
      '-w',
      '1',
      '--threads',
      '2',
    ]);
    assert.equal((await get(`${server.url}/`)).status, 200);
    assert.equal(await server.stop('SIGTERM'), 0);
    // Both threads live in the one worker process.
    assert.deepEqual(closedIn(server.output(), 'close\\(\\)'), [
      ...workerPids(server.output()),
      ...workerPids(server.output()),
    ]);
  });
});
