import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseCommandLine } from '../../src/config/argv.ts';
import { resolveConfig } from '../../src/config/resolve.ts';

const configs = (dir: string) =>
  fileURLToPath(new URL(`../fixtures/configs/${dir}/`, import.meta.url));
const empty = fileURLToPath(new URL('../fixtures/apps/', import.meta.url));

async function resolve(argv: string[], env: Record<string, string> = {}, cwd = empty) {
  const cl = parseCommandLine(argv);
  return resolveConfig({ cli: cl.values, app: cl.app, env, cwd });
}

test('defaults when nothing is given', async () => {
  const r = await resolve([]);
  assert.deepEqual(r.config.bind, ['127.0.0.1:8000']);
  assert.equal(r.config.workers, 'auto');
  assert.deepEqual(r.sources.workers, { kind: 'default' });
  assert.equal(r.file, null);
});

test('precedence: defaults < file < env < command line, each with its source', async () => {
  const cwd = configs('ts');
  const fileOnly = await resolve([], {}, cwd);
  assert.equal(fileOnly.config.workers, 3);
  assert.deepEqual(fileOnly.sources.workers, { kind: 'file', origin: 'corral.config.ts' });
  assert.equal(fileOnly.config.maxRequests, 500);
  assert.equal(typeof fileOnly.hooks.whenReady, 'function');

  const env = await resolve([], { CORRAL_WORKERS: '5' }, cwd);
  assert.equal(env.config.workers, 5);
  assert.deepEqual(env.sources.workers, { kind: 'env', origin: 'CORRAL_WORKERS' });
  assert.equal(env.config.maxRequests, 500, 'other file values stay');

  const cli = await resolve(['-w', '7'], { CORRAL_WORKERS: '5' }, cwd);
  assert.equal(cli.config.workers, 7);
  assert.deepEqual(cli.sources.workers, { kind: 'cli', origin: '-w' });
});

test('CORRAL_* wins over the WEB_CONCURRENCY convention; both over the file', async () => {
  const wc = await resolve([], { WEB_CONCURRENCY: '6' }, configs('json'));
  assert.equal(wc.config.workers, 6);
  assert.deepEqual(wc.sources.workers, { kind: 'env', origin: 'WEB_CONCURRENCY' });
  const both = await resolve([], { WEB_CONCURRENCY: '6', CORRAL_WORKERS: '4' });
  assert.equal(both.config.workers, 4);
});

test('PORT and HOST conventions build the bind; CORRAL_BIND and -b win', async () => {
  assert.deepEqual((await resolve([], { PORT: '3000' })).config.bind, ['0.0.0.0:3000']);
  assert.deepEqual((await resolve([], { HOST: '127.0.0.2' })).config.bind, ['127.0.0.2:8000']);
  assert.deepEqual((await resolve([], { HOST: '::1', PORT: '3000' })).config.bind, ['[::1]:3000']);
  const r = await resolve([], {
    HOST: '::1',
    PORT: '3000',
    CORRAL_BIND: '127.0.0.1:1,127.0.0.1:2',
  });
  assert.deepEqual(r.config.bind, ['127.0.0.1:1', '127.0.0.1:2']);
  assert.deepEqual(
    (await resolve(['-b', 'unix:/tmp/x', '--bind', '[::]:9'], { PORT: '3' })).config.bind,
    ['unix:/tmp/x', '[::]:9'],
  );
});

test('JSON config file; -c picks a file explicitly', async () => {
  const r = await resolve([], {}, configs('json'));
  assert.equal(r.config.keepAlive, 10);
  const c = await resolve(['-c', `${configs('ts')}corral.config.ts`]);
  assert.equal(c.config.workers, 3);
});

test('a bad value names the setting, the source, the value and what is allowed', async () => {
  await assert.rejects(resolve(['--backlog', 'many']), {
    message:
      'corral: invalid backlog (--backlog) from command line --backlog: "many"; allowed: an integer from 1 to 65535',
  });
  await assert.rejects(resolve([], { CORRAL_LOG_LEVEL: 'loud' }), {
    message:
      /^corral: invalid logLevel \(--log-level\) from environment CORRAL_LOG_LEVEL: "loud"; allowed: one of trace, debug, info, warn, warning, error, fatal, critical$/,
  });
});

test('an unknown key in the config file is named, with a suggestion', async () => {
  await assert.rejects(resolve([], {}, configs('bad')), {
    message:
      'corral: unknown setting wrokers in config file corral.config.mjs (did you mean workers?)',
  });
});

test('argv: commands, repeatable flags, negation, unknown flags', () => {
  const cl = parseCommandLine([
    'config',
    'app.ts',
    '--json',
    '-b',
    'a:1',
    '-b',
    'b:2',
    '--no-preload',
  ]);
  assert.equal(cl.command, 'config');
  assert.equal(cl.app, 'app.ts');
  assert.equal(cl.json, true);
  assert.deepEqual(
    cl.values.map((v) => [v.name, v.raw, v.flag]),
    [
      ['bind', 'a:1', '-b'],
      ['bind', 'b:2', '-b'],
      ['preload', false, '--no-preload'],
    ],
  );
  assert.equal(
    parseCommandLine(['app.ts:make()', '--log-file', 'x.log']).values[0]?.name,
    'errorLogfile',
  );
  assert.throws(() => parseCommandLine(['--nope']), { message: /unknown option --nope/ });
  assert.throws(() => parseCommandLine(['a.ts', 'b.ts']), { message: /expected one app/ });
});

test('sync: shared dispatch by default, least-conn with --queue-timeout, reuseport refused', async () => {
  const plain = await resolve(['-k', 'sync']);
  assert.equal(plain.config.dispatch, 'shared');
  assert.deepEqual(plain.sources.dispatch, { kind: 'default' });
  assert.deepEqual(plain.notices, []);

  const timed = await resolve(['-k', 'sync', '--queue-timeout', '2']);
  assert.equal(timed.config.dispatch, 'least-conn');
  assert.deepEqual(timed.sources.dispatch, {
    kind: 'default',
    origin: 'workerClass sync with queueTimeout',
  });

  const chosen = await resolve(['-k', 'sync', '--dispatch', 'least-conn']);
  assert.equal(chosen.config.dispatch, 'least-conn');

  // Chosen explicitly, shared stays, and --queue-timeout is said to have no effect.
  const told = await resolve(['-k', 'sync', '--dispatch', 'shared', '--queue-timeout', '2']);
  assert.equal(told.config.dispatch, 'shared');
  assert.deepEqual(told.notices, [
    "queueTimeout: 2 (command line --queue-timeout) applies only with dispatch least-conn; with shared connections wait in the kernel's accept queue",
  ]);

  await assert.rejects(
    resolve(['-k', 'sync', '--dispatch', 'reuseport']),
    /corral: workerClass sync \(from command line -k\) needs dispatch shared or least-conn, got reuseport \(from command line --dispatch\)/,
  );
});
