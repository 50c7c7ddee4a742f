// The Node options a real worker runs with: corral's V8 default, then the app's --node-args.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FIXTURES, get, serveApp } from '../helpers/corral.ts';

const APP = `${FIXTURES}exec-argv.mjs`;

test('a worker runs without allocation-site pretenuring unless --node-args says otherwise', async () => {
  const plain = await serveApp(APP, ['-w', '1']);
  try {
    const r = await get(`${plain.url}/`);
    assert.deepEqual(JSON.parse(r.body), ['--no-allocation-site-pretenuring']);
  } finally {
    assert.equal(await plain.stop(), 0);
  }
  const own = await serveApp(APP, ['-w', '1', '--node-args=--allocation-site-pretenuring']);
  try {
    const r = await get(`${own.url}/`);
    assert.deepEqual(JSON.parse(r.body), ['--allocation-site-pretenuring']);
  } finally {
    assert.equal(await own.stop(), 0);
  }
});
