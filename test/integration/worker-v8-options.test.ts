// The Node options a real worker runs with when the app names V8's pretenuring itself.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { get, serveListener } from '../helpers/corral.ts';

test('--node-args=--allocation-site-pretenuring keeps V8’s default: corral adds nothing', async () => {
  const server = await serveListener(['-w', '1', '--node-args=--allocation-site-pretenuring']);
  try {
    const argv = JSON.parse((await get(`${server.url}/execargv`)).body);
    assert.deepEqual(argv, ['--allocation-site-pretenuring']);
  } finally {
    assert.equal(await server.stop(), 0);
  }
});
