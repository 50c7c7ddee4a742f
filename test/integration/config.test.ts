// `corral config`: every resolved setting with its source; --json as documented.
import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { SETTING_NAMES } from '../../src/config/settings.ts';
import { runCorral, startCorral } from '../helpers/corral.ts';

const tsConfigDir = fileURLToPath(new URL('../fixtures/configs/ts/', import.meta.url));

test('config --json: settings map of {value, source} and the worker count', async () => {
  const r = await runCorral(['config', 'app.ts', '--json', '-w', '3', '--keep-alive', '7'], {
    env: { CORRAL_BACKLOG: '100', PORT: '9000' },
  });
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.deepEqual(Object.keys(out.settings).sort(), [...SETTING_NAMES].sort());
  assert.deepEqual(out.settings.workers, { value: 3, source: 'cli', origin: '-w' });
  assert.deepEqual(out.settings.keepAlive, { value: 7, source: 'cli', origin: '--keep-alive' });
  assert.deepEqual(out.settings.backlog, { value: 100, source: 'env', origin: 'CORRAL_BACKLOG' });
  assert.deepEqual(out.settings.bind, { value: ['0.0.0.0:9000'], source: 'env', origin: 'PORT' });
  assert.deepEqual(out.settings.timeout, { value: 30, source: 'default' });
  assert.deepEqual(out.settings.app, { value: 'app.ts', source: 'cli', origin: 'APP' });
  assert.equal(out.workers, 3);
});

test('config --json with auto workers reports the count that would start', async () => {
  const r = await runCorral(['config', '--json']);
  assert.equal(JSON.parse(r.stdout).workers, availableParallelism());
  const single = await runCorral(['config', '--json', '--single']);
  assert.equal(JSON.parse(single.stdout).workers, 0);
});

test('config reads corral.config.ts from the working directory, sources say so', async () => {
  const r = await runCorral(['config'], { cwd: tsConfigDir });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^workers\s+3\s+config file corral\.config\.ts$/m);
  assert.match(r.stdout, /^timeout\s+30\s+default$/m);
  assert.match(r.stdout, /^workers to start: 3 \(fixed: workers = 3\)$/m);
});

test('hooks from the config file run (whenReady)', async () => {
  const app = fileURLToPath(new URL('../fixtures/apps/listener.mjs', import.meta.url));
  const server = await startCorral([app, '-w', '1', '-b', '127.0.0.1:0', '--log-level', 'info'], {
    cwd: tsConfigDir,
    ready: /hook whenReady: 1 workers/,
  });
  assert.equal(await server.stop(), 0);
});

test('--help is generated from the table; --version prints the version', async () => {
  const help = await runCorral(['--help']);
  assert.equal(help.code, 0);
  for (const flag of [
    '-w, --workers',
    '--max-requests-jitter',
    '--graceful-timeout',
    '-b, --bind',
  ]) {
    assert.ok(help.stdout.includes(flag), `help lists ${flag}`);
  }
  assert.match(help.stdout, /WEB_CONCURRENCY/);
  const v = await runCorral(['--version']);
  assert.match(v.stdout, /^corral \d+\.\d+\.\d+/);
});
