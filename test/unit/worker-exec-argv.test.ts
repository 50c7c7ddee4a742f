// The V8 options workers start with: corral's default first, the app's --node-args after it
// (a later option wins), and none when the app's options name pretenuring themselves.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NO_PRETENURING, workerExecArgv } from '../../src/master/spawn.ts';

test('workers start without allocation-site pretenuring, then the app’s --node-args', () => {
  assert.deepEqual(workerExecArgv({ nodeArgs: [] }, ''), [NO_PRETENURING]);
  assert.deepEqual(workerExecArgv({ nodeArgs: ['--import', 'tsx'] }, ''), [
    NO_PRETENURING,
    '--import',
    'tsx',
  ]);
});

test('an app that names pretenuring itself, in --node-args or NODE_OPTIONS, gets its own', () => {
  assert.deepEqual(workerExecArgv({ nodeArgs: ['--allocation-site-pretenuring'] }, ''), [
    '--allocation-site-pretenuring',
  ]);
  assert.deepEqual(workerExecArgv({ nodeArgs: [] }, '--allocation-site-pretenuring'), []);
});
