// Bad input at start-up: one clear line, a non-zero exit, nothing left running.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FIXTURES, runApp, runCorral } from '../helpers/corral.ts';

function oneLine(stderr: string): string {
  const lines = stderr
    .trim()
    .split('\n')
    .filter((l) => !/^\[.*\] \[(INFO|DEBUG)\]/.test(l));
  assert.ok(lines.length >= 1, `some error line in:\n${stderr}`);
  return lines.at(-1) ?? '';
}

test('-w banana: names the setting, source, value and what is allowed; exit 2', async () => {
  const r = await runCorral([`${FIXTURES}listener.mjs`, '-w', 'banana']);
  assert.equal(r.code, 2);
  assert.equal(
    r.stderr.trim(),
    'corral: invalid workers (-w/--workers) from command line -w: "banana"; allowed: an integer from 0 (single process) to 4096, or a strategy: auto, cpu, io, conservative, memory, adaptive',
  );
});

test('a bad environment value names the variable', async () => {
  const r = await runCorral([`${FIXTURES}listener.mjs`], { env: { WEB_CONCURRENCY: 'lots' } });
  assert.equal(r.code, 2);
  assert.match(
    r.stderr,
    /^corral: invalid workers \(-w\/--workers\) from environment WEB_CONCURRENCY: "lots"; allowed: /,
  );
});

test('an unknown flag is refused', async () => {
  const r = await runCorral([`${FIXTURES}listener.mjs`, '--wrokers', '2']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown option --wrokers; did you mean --workers\?/);
});

test('missing app file: one line, exit 4', async () => {
  const r = await runApp('no/such/app.ts', ['-w', '2']);
  assert.equal(r.code, 4);
  assert.match(
    r.stderr.trim(),
    /^corral: app file not found: no\/such\/app\.ts \(looked for .*no\/such\/app\.ts\)$/,
  );
});

test('no app at all: usage line, exit 2', async () => {
  const r = await runCorral(['-w', '2']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /no app given/);
});

test('an app that throws on import: the workers report it, the master exits 4 (no respawn loop)', async () => {
  const r = await runApp(`${FIXTURES}boot-fail.mjs`, ['-w', '2']);
  assert.equal(r.code, 4);
  assert.match(
    oneLine(r.stderr),
    /corral: app .*boot-fail\.mjs failed to load: database is not reachable/,
  );
  assert.equal((r.stderr.match(/booting worker/g) ?? []).length, 2, 'no worker was started again');
});

test('an app that never finishes loading: killed at --boot-timeout, three in a row stop corral (exit 3)', async () => {
  const r = await runApp(`${FIXTURES}boot-hang.mjs`, ['-w', '1', '--boot-timeout', '1']);
  assert.equal(r.code, 3);
  assert.equal(
    (r.stderr.match(/WORKER BOOT TIMEOUT: worker \d+ \(pid \d+\) not ready 1 s after/g) ?? [])
      .length,
    3,
  );
  assert.match(
    oneLine(r.stderr),
    /worker \d+ \(pid \d+\) was not ready within --boot-timeout 1 s; 3 workers in a row died while booting: stopping/,
  );
});

test('wrong shape: says what was found, that it never listened, and what is expected', async () => {
  const r = await runApp(`${FIXTURES}wrong-shape.mjs`, ['-w', '1']);
  assert.equal(r.code, 4);
  assert.match(
    oneLine(r.stderr),
    /wrong-shape\.mjs exports no handler: its default export is an object with keys hello, and its code ran to the end without calling listen\(\) on an HTTP server; serve a script that calls listen\(\) .* or a module that exports a handler: a \(req, res\) listener/,
  );
});

test('missing export: lists the exports there are', async () => {
  const r = await runCorral(['check', `${FIXTURES}factory.mjs:nope`]);
  assert.equal(r.code, 4);
  assert.match(
    r.stderr,
    /has no export named nope; found exports: createApp, createListener, notAnApp/,
  );
});

test('--preload catches a broken app before any worker starts', async () => {
  const r = await runApp(`${FIXTURES}boot-fail.mjs`, ['-w', '2', '--preload']);
  assert.equal(r.code, 4);
  assert.doesNotMatch(r.stderr, /booting worker/);
  assert.match(r.stderr, /database is not reachable/);
});

test('corral check reports the shape it found', async () => {
  const r = await runCorral(['check', `${FIXTURES}factory.mjs:createApp()`]);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^ok: .*factory\.mjs:createApp\(\) is a fetch handler/);
});
