// The V8 options a worker starts with: corral's defaults first, the app's --node-args after
// them (a later option wins), and none of a default whose subject the app's options name.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  MIN_SEMI_SPACE,
  NO_PRETENURING,
  workerExecArgv,
} from '../../src/master/worker-v8-options.ts';

test('workers start without allocation-site pretenuring and a 4 MiB young generation, then the app’s --node-args', () => {
  assert.deepEqual(workerExecArgv({ workerClass: 'async', nodeArgs: [] }, ''), [
    NO_PRETENURING,
    MIN_SEMI_SPACE,
  ]);
  assert.deepEqual(workerExecArgv({ workerClass: 'async', nodeArgs: ['--import', 'tsx'] }, ''), [
    NO_PRETENURING,
    MIN_SEMI_SPACE,
    '--import',
    'tsx',
  ]);
});

test('an app that names pretenuring itself, in --node-args or NODE_OPTIONS, gets its own', () => {
  assert.deepEqual(
    workerExecArgv({ workerClass: 'async', nodeArgs: ['--allocation-site-pretenuring'] }, ''),
    [MIN_SEMI_SPACE, '--allocation-site-pretenuring'],
  );
  assert.deepEqual(
    workerExecArgv({ workerClass: 'async', nodeArgs: [] }, '--allocation-site-pretenuring'),
    [MIN_SEMI_SPACE],
  );
});

test('an app that sizes the young generation itself gets its own size', () => {
  assert.deepEqual(
    workerExecArgv({ workerClass: 'async', nodeArgs: ['--max-semi-space-size=64'] }, ''),
    [NO_PRETENURING, '--max-semi-space-size=64'],
  );
  assert.deepEqual(
    workerExecArgv({ workerClass: 'async', nodeArgs: [] }, '--min-semi-space-size=1'),
    [NO_PRETENURING],
  );
});

test('the thread class keeps V8’s young generation: every thread is an isolate with its own', () => {
  assert.deepEqual(workerExecArgv({ workerClass: 'thread', nodeArgs: [] }, ''), [NO_PRETENURING]);
  assert.deepEqual(workerExecArgv({ workerClass: 'sync', nodeArgs: [] }, ''), [
    NO_PRETENURING,
    MIN_SEMI_SPACE,
  ]);
});
