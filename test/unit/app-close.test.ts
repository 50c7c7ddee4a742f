import assert from 'node:assert/strict';
import { test } from 'node:test';
import { closeApp, closerOf } from '../../src/app/close.ts';
import { Logger } from '../../src/log/logger.ts';

const quiet = new Logger({ level: 'critical', file: '-', role: 'test' });

test('closerOf: what closes each app shape', async () => {
  assert.equal(
    closerOf((_req: unknown, _res: unknown) => {}),
    null,
    'a listener has nothing',
  );
  assert.equal(closerOf({ fetch() {} }), null, 'an object without close');
  const calls: string[] = [];
  const both = {
    close: () => calls.push('close'),
    [Symbol.asyncDispose]: async () => void calls.push('dispose'),
  };
  await closerOf(both)?.();
  assert.deepEqual(calls, ['dispose'], 'asyncDispose wins over close()');
  let n = 0;
  const callback = {
    close: (done: (err?: Error) => void) => {
      n++;
      setTimeout(() => done(), 5);
    },
  };
  const close = closerOf(callback);
  await close?.();
  await close?.();
  assert.equal(n, 1, 'close(callback) awaited, and called once');
  const fn = Object.assign(() => {}, { close: () => calls.push('fn') });
  assert.equal(closerOf(fn), null, 'a function export is not closed…');
  assert.ok(closerOf(fn, { factory: true }), '…unless a factory returned it');
});

test('closeApp: a close that throws or hangs is logged, never thrown', async () => {
  await closeApp(
    async () => {
      throw new Error('boom');
    },
    1000,
    quiet,
  );
  await closeApp(() => new Promise(() => {}), 10, quiet);
  await closeApp(null, 10, quiet);
});
