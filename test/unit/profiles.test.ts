// Profiles: presets from the settings table, applied above defaults and below file/env/CLI.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseCommandLine } from '../../src/config/argv.ts';
import { PROFILE_NAMES, PROFILES } from '../../src/config/profiles.ts';
import { resolveConfig } from '../../src/config/resolve.ts';
import { type SettingName, settings } from '../../src/config/settings.ts';

const empty = fileURLToPath(new URL('../fixtures/apps/', import.meta.url));
const tsConfig = fileURLToPath(new URL('../fixtures/configs/ts/', import.meta.url));

async function resolve(argv: string[], env: Record<string, string> = {}, cwd = empty) {
  const cl = parseCommandLine(argv);
  return resolveConfig({ cli: cl.values, app: cl.app, env, cwd });
}

test('every profile presets only settings in the table, with values their types accept', () => {
  assert.deepEqual(PROFILE_NAMES, [
    'development',
    'production',
    'high-availability',
    'memory-constrained',
    'high-concurrency',
  ]);
  for (const name of PROFILE_NAMES) {
    assert.ok(PROFILES[name].summary.length > 20, `${name} says what it is for`);
    for (const [key, value] of Object.entries(PROFILES[name].values)) {
      assert.ok(key in settings, `${name}: ${key} is a setting`);
      assert.deepEqual(settings[key as SettingName].type.parse(value), value, `${name}.${key}`);
    }
  }
});

test('a profile sets values with source "profile NAME"; the rest stay defaults', async () => {
  const r = await resolve(['--profile', 'production']);
  assert.equal(r.config.profile, 'production');
  assert.deepEqual(r.sources.profile, { kind: 'cli', origin: '--profile' });
  assert.equal(r.config.maxRequests, 1000);
  assert.deepEqual(r.sources.maxRequests, { kind: 'profile', origin: 'production' });
  assert.equal(r.config.logLevel, 'warning');
  assert.deepEqual(r.sources.timeout, { kind: 'default' });
});

test('precedence: profile < config file < env < command line', async () => {
  // The file sets workers 3, maxRequests 500 and logLevel warning; development says 2 / debug.
  const file = await resolve(['--profile', 'development'], {}, tsConfig);
  assert.equal(file.config.workers, 3, 'the file beats the profile');
  assert.equal(file.config.logLevel, 'warning');
  assert.equal(file.config.accessLogfile, '-', 'what the file leaves alone, the profile sets');
  assert.deepEqual(file.sources.accessLogfile, { kind: 'profile', origin: 'development' });
  const env = await resolve([], { CORRAL_PROFILE: 'high-availability', CORRAL_BACKLOG: '100' });
  assert.equal(env.config.minWorkers, 2);
  assert.equal(env.config.backlog, 100, 'env beats the profile');
  const cli = await resolve(['--profile', 'memory-constrained', '-w', 'io'], {
    CORRAL_PROFILE: 'development',
  });
  assert.equal(cli.config.profile, 'memory-constrained', 'the CLI picks the profile');
  assert.equal(cli.config.workers, 'io', 'the CLI beats the profile');
  assert.equal(cli.config.workersPerCore, 0.25);
});

test('an unknown profile names the setting, the source and the profiles there are', async () => {
  await assert.rejects(resolve(['--profile', 'prod']), {
    message:
      'corral: invalid profile (--profile) from command line --profile: "prod"; allowed: one of development, production, high-availability, memory-constrained, high-concurrency',
  });
});

test('a config file can name the profile; its own values still win over it', async () => {
  const cwd = fileURLToPath(new URL('../fixtures/configs/profile/', import.meta.url));
  const r = await resolve([], {}, cwd);
  assert.deepEqual(r.sources.profile, { kind: 'file', origin: 'corral.config.json' });
  assert.equal(r.config.keepAlive, 65);
  assert.deepEqual(r.sources.keepAlive, { kind: 'profile', origin: 'high-concurrency' });
  assert.equal(r.config.backlog, 1024);
  assert.equal((await resolve(['--profile', 'development'], {}, cwd)).config.workers, 2);
});
