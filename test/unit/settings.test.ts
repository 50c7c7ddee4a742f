import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { settingsMarkdown } from '../../src/config/docs.ts';
import { envName, SETTING_NAMES, settings } from '../../src/config/settings.ts';

test('every setting is complete: doc, section, and a default its own type accepts', () => {
  for (const name of SETTING_NAMES) {
    const s = settings[name];
    assert.ok(s.doc.length > 10, `${name} has a doc line`);
    assert.ok(s.section, `${name} has a section`);
    assert.deepEqual(
      s.type.parse(s.default === null ? null : s.default),
      s.default,
      `${name} default parses`,
    );
  }
});

test('flags are unique across the table and use Gunicorn names where Gunicorn has them', () => {
  const seen = new Map<string, string>();
  for (const name of SETTING_NAMES) {
    for (const flag of settings[name].flags) {
      assert.equal(seen.has(flag), false, `${flag} used by ${seen.get(flag)} and ${name}`);
      seen.set(flag, name);
    }
  }
  const gunicorn = [
    '-b',
    '--bind',
    '-w',
    '--workers',
    '-k',
    '--worker-class',
    '-t',
    '--timeout',
    '--graceful-timeout',
    '--keep-alive',
    '--backlog',
    '--max-requests',
    '--max-requests-jitter',
    '--access-logfile',
    '--access-logformat',
    '--error-logfile',
    '--log-level',
    '-c',
    '--config',
    '-p',
    '--pid',
    '--chdir',
    '-e',
    '--env',
    '--preload',
  ];
  for (const f of gunicorn) assert.ok(seen.has(f), `Gunicorn flag ${f} is there`);
});

test('env names are CORRAL_ + SCREAMING_SNAKE of the setting name', () => {
  assert.equal(envName('maxRequestsJitter'), 'CORRAL_MAX_REQUESTS_JITTER');
  assert.equal(envName('workers'), 'CORRAL_WORKERS');
  assert.deepEqual(settings.workers.env, ['WEB_CONCURRENCY']);
});

test('value types refuse bad input with what is allowed', () => {
  assert.throws(() => settings.workers.type.parse('banana'), {
    message: /an integer from 0 .* or a strategy: auto, cpu, io, conservative, memory/,
  });
  assert.throws(() => settings.backlog.type.parse('0'), { message: /from 1 to 65535/ });
  assert.throws(() => settings.timeout.type.parse('-1'), { message: /seconds ≥ 0/ });
  assert.throws(() => settings.logLevel.type.parse('loud'), {
    message: /one of trace, debug, info, warn/,
  });
  assert.throws(() => settings.env.type.parse('NOEQUALS'), { message: /KEY=VALUE/ });
  assert.equal(settings.workers.type.parse('AUTO'), 'auto');
  assert.equal(settings.workers.type.parse(' 4 '), 4);
  assert.throws(() => settings.workers.type.parse('4.5'));
  assert.equal(settings.timeout.type.parse('2.5'), 2.5);
  assert.equal(settings.preload.type.parse('yes'), true);
  assert.equal(settings.workerClass.type.parse('gevent'), 'async');
  assert.deepEqual(settings.bind.type.parse(['a:1', 'b:2']), ['a:1', 'b:2']);
});

test('docs/settings.md is generated from the table and up to date (run `npm run docs`)', () => {
  const onDisk = readFileSync(new URL('../../docs/settings.md', import.meta.url), 'utf8');
  assert.equal(onDisk, settingsMarkdown());
  for (const name of SETTING_NAMES)
    assert.ok(onDisk.includes(`### \`${name}\``), `${name} documented`);
});
