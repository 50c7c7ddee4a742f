// The Node options a real worker runs with, and what the app's own options take back.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { get, serveListener } from '../helpers/corral.ts';

const MiB = 2 ** 20;

test('a worker’s young generation is at least 4 MiB; an app that sizes it keeps its own size', async () => {
  const server = await serveListener(['-w', '1']);
  try {
    const young = Math.round(Number((await get(`${server.url}/young`)).body) / MiB);
    assert.ok(young >= 4, `young generation ${young} MiB`);
  } finally {
    assert.equal(await server.stop(), 0);
  }
  const own = await serveListener(['-w', '1', '--node-args=--min-semi-space-size=8']);
  try {
    const theirs = Math.round(Number((await get(`${own.url}/young`)).body) / MiB);
    assert.ok(theirs >= 8, `young generation ${theirs} MiB`);
    assert.deepEqual(JSON.parse((await get(`${own.url}/execargv`)).body), [
      '--no-allocation-site-pretenuring',
      '--min-semi-space-size=8',
    ]);
  } finally {
    assert.equal(await own.stop(), 0);
  }
});

test('--node-args=--allocation-site-pretenuring keeps V8’s default pretenuring', async () => {
  const server = await serveListener(['-w', '1', '--node-args=--allocation-site-pretenuring']);
  try {
    const argv = JSON.parse((await get(`${server.url}/execargv`)).body);
    assert.deepEqual(argv, ['--min-semi-space-size=4', '--allocation-site-pretenuring']);
  } finally {
    assert.equal(await server.stop(), 0);
  }
});

test('a thread-class worker keeps V8’s young generation (its threads each have one)', async () => {
  const server = await serveListener(['-w', '1', '-k', 'thread', '--threads', '1']);
  try {
    const argv = JSON.parse((await get(`${server.url}/execargv`)).body);
    assert.deepEqual(argv, ['--no-allocation-site-pretenuring']);
  } finally {
    assert.equal(await server.stop(), 0);
  }
});
