import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { test } from 'node:test';
import { GUNICORN_ACCESS_FORMAT } from '../../src/config/settings.ts';
import { compileAccessFormat } from '../../src/log/access.ts';

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
