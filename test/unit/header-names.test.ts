import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isHeader, rawHeader } from '../../src/header-names.ts';

test('isHeader: any case, same name only', () => {
  for (const n of ['host', 'Host', 'HOST', 'hOsT']) assert.ok(isHeader(n, 'host'), n);
  assert.ok(isHeader('Content-Length', 'content-length'));
  assert.ok(isHeader('X-FORWARDED-FOR', 'x-forwarded-for'));
  for (const n of ['hosts', 'hos', 'post', 'Accept-Language', ''])
    assert.ok(!isHeader(n, 'host'), n);
  assert.ok(!isHeader('Content_Length', 'content-length'));
  assert.ok(!isHeader('Accept-Language', 'x-forwarded-for'), 'same length, another name');
});

test('rawHeader: the first value of a name in a raw list, or undefined', () => {
  const raw = ['User-Agent', 'x', 'HOST', 'a.example', 'host', 'b.example'];
  assert.equal(rawHeader(raw, 'host'), 'a.example');
  assert.equal(rawHeader(raw, 'user-agent'), 'x');
  assert.equal(rawHeader(raw, 'forwarded'), undefined);
  assert.equal(rawHeader([], 'host'), undefined);
});
