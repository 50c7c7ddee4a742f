// The published package runs compiled JS (Node does not strip types under node_modules):
// build it and serve from dist/.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { FIXTURES, get, ROOT } from '../helpers/corral.ts';

test('npm run build produces a dist/ CLI that serves', async () => {
  execFileSync(
    process.execPath,
    [`${ROOT}node_modules/typescript/bin/tsc`, '-p', 'tsconfig.build.json'],
    { cwd: ROOT },
  );
  assert.ok(existsSync(`${ROOT}dist/cli.js`));
  assert.ok(existsSync(`${ROOT}dist/index.d.ts`), 'types ship too');
  const proc = spawn(
    process.execPath,
    [`${ROOT}dist/cli.js`, `${FIXTURES}fetch.ts`, '-w', '1', '-b', '127.0.0.1:0'],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let err = '';
  proc.stderr.on('data', (d) => (err += d));
  for (let i = 0; i < 200 && !/ready: /.test(err); i++) await new Promise((r) => setTimeout(r, 50));
  try {
    const url = /Listening at: (\S+)/.exec(err)?.[1];
    assert.ok(url, err);
    assert.match((await get(`${url}/`)).body, /^fetch \d+/);
    assert.match(err, /worker 1 \(pid \d+\) ready/);
  } finally {
    proc.kill('SIGTERM');
    await once(proc, 'exit');
  }
});
