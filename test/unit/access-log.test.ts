import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { test } from 'node:test';
import { GUNICORN_ACCESS_FORMAT } from '../../src/config/settings.ts';
import { compileAccessFormat } from '../../src/log/access.ts';
import { renderJson, traceFields } from '../../src/log/access-json.ts';

const req = {
  method: 'GET',
  url: '/a?b=1',
  httpVersion: '1.1',
  headers: {
    'user-agent': 'test/1',
    referer: 'http://r/',
    authorization: `Basic ${Buffer.from('ann:pw').toString('base64')}`,
    'x-id': '7',
  },
  socket: { remoteAddress: '127.0.0.1' },
} as unknown as IncomingMessage;
const res = {
  statusCode: 201,
  getHeader: (n: string) => (n === 'content-length' ? '12' : undefined),
  _header: 'HTTP/1.1 201 Created\r\nX-Trace: abc\r\n\r\n',
} as unknown as ServerResponse;
const entry = {
  req,
  res,
  start: 1000,
  end: 1002.5,
  time: new Date(Date.UTC(2026, 10, 24, 9, 5, 3)),
};

test("Gunicorn's default format renders the common log line", () => {
  assert.equal(
    compileAccessFormat(GUNICORN_ACCESS_FORMAT)(entry),
    '127.0.0.1 - ann [24/Nov/2026:09:05:03 +0000] "GET /a?b=1 HTTP/1.1" 201 12 "http://r/" "test/1"',
  );
});

test('timing, path, query, header atoms; unknown atoms render -', () => {
  const line = compileAccessFormat(
    '%(m)s %(U)s %(q)s %(H)s %(M)s %(D)s %(L)s %({x-id}i)s %({x-trace}o)s %(Z)s',
  )(entry);
  assert.equal(line, 'GET /a b=1 HTTP/1.1 2 2500 0.002500 7 abc -');
});

test('%({NAME}e)s reads the environment; unset renders -', () => {
  process.env.CORRAL_TEST_REGION = 'eu-1';
  try {
    const line = compileAccessFormat('%({CORRAL_TEST_REGION}e)s %({CORRAL_TEST_UNSET}e)s')(entry);
    assert.equal(line, 'eu-1 -');
  } finally {
    delete process.env.CORRAL_TEST_REGION;
  }
});

test("json: pino's fields and pino-http's req/res/responseTime, no Authorization", () => {
  const parsed = JSON.parse(renderJson(entry));
  assert.equal(parsed.level, 30);
  assert.equal(parsed.time, entry.time.getTime());
  assert.equal(parsed.pid, process.pid);
  assert.equal(typeof parsed.hostname, 'string');
  assert.equal(parsed.msg, 'GET /a?b=1 201');
  assert.deepEqual(parsed.req, {
    method: 'GET',
    url: '/a?b=1',
    protocol: 'HTTP/1.1',
    remoteAddress: '127.0.0.1',
    user: 'ann',
    headers: { 'user-agent': 'test/1', referer: 'http://r/' },
  });
  assert.deepEqual(parsed.res, { statusCode: 201, headers: { 'content-length': '12' } });
  assert.equal(parsed.bytes, 12);
  assert.equal(parsed.responseTime, 2.5);
});

test('json: trace_id, span_id and trace_flags from a valid traceparent only', () => {
  const tp = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
  const traced = {
    ...entry,
    req: { ...req, headers: { traceparent: tp } } as unknown as IncomingMessage,
  };
  const parsed = JSON.parse(renderJson(traced));
  assert.equal(parsed.trace_id, '4bf92f3577b34da6a3ce929d0e0e4736');
  assert.equal(parsed.span_id, '00f067aa0ba902b7');
  assert.equal(parsed.trace_flags, '01');
  assert.equal(JSON.parse(renderJson(entry)).trace_id, undefined);
  for (const bad of [
    'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    '00-00000000000000000000000000000000-00f067aa0ba902b7-01',
    '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01',
    '00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01',
    '00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01',
    'garbage',
  ]) {
    assert.equal(traceFields(bad), undefined, bad);
  }
  // A future version may append fields after a dash.
  assert.equal(
    traceFields('01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra')?.trace_id,
    '4bf92f3577b34da6a3ce929d0e0e4736',
  );
});
