import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseCommandLine } from '../../src/config/argv.ts';
import { judge, MIN_ERRORS } from '../../src/master/canary.ts';
import { memoryGuard } from '../../src/worker/memory-guard.ts';

test('canary rule: rolled back only with enough 5xx, clearly above the old workers', () => {
  assert.equal(
    judge({ requests: 100, errors: MIN_ERRORS - 1 }, { requests: 100, errors: 0 }),
    null,
  );
  assert.match(
    judge({ requests: 10, errors: 10 }, { requests: 500, errors: 0 }) ?? '',
    /^the canary answered 10 of 10 request\(s\) with 5xx \(100%\), the old workers 0 of 500 \(0%\)$/,
  );
  // A dependency failing everywhere is not the release's fault.
  assert.equal(judge({ requests: 100, errors: 50 }, { requests: 200, errors: 90 }), null);
  assert.notEqual(judge({ requests: 100, errors: 60 }, { requests: 200, errors: 90 }), null);
});

test('memory guard: reads RSS every 16 requests, then every request near the limit', () => {
  let rss = 0;
  let reads = 0;
  const over = memoryGuard(100, () => {
    reads++;
    return rss;
  });
  rss = 50;
  for (let n = 1; n <= 32; n++) assert.equal(over(n), null);
  assert.equal(reads, 2);
  rss = 95;
  assert.equal(over(48), null, 'near the limit now');
  assert.equal(over(49), null);
  assert.equal(reads, 4, 'every request from here');
  rss = 100;
  assert.equal(over(50), 100);
});

test('a negative number after an option is its value, so the setting says what it allows', () => {
  const values = (argv: string[]) =>
    parseCommandLine(argv).values.map((v) => [v.name, v.raw, v.flag]);
  assert.deepEqual(values(['app.mjs', '-w', '-1']), [['workers', '-1', '-w']]);
  assert.deepEqual(values(['app.mjs', '--timeout', '-5']), [['timeout', '-5', '--timeout']]);
  assert.deepEqual(values(['app.mjs', '-t', '-0.5', '--preload']), [
    ['timeout', '-0.5', '-t'],
    ['preload', true, '--preload'],
  ]);
});
