// The limits module on its own: settings to node:http options, and how a parser error becomes
// an answer (the 414-or-431 judgement on llhttp's head cap in particular).
import assert from 'node:assert/strict';
import { Socket } from 'node:net';
import { test } from 'node:test';
import { settings } from '../../src/config/settings.ts';
import {
  type ClientError,
  clientErrorRefusal,
  connectionCheckEveryMs,
  httpOptions,
  limitsFrom,
} from '../../src/worker/limits.ts';

const defaults = {
  limitRequestLine: settings.limitRequestLine.default,
  limitRequestFields: settings.limitRequestFields.default,
  limitRequestFieldSize: settings.limitRequestFieldSize.default,
  limitRequestBody: settings.limitRequestBody.default,
  headerTimeout: settings.headerTimeout.default,
  bodyTimeout: settings.bodyTimeout.default,
};

test('defaults: Gunicorn’s three limits, node:http’s caps just above them, 1 s checks', () => {
  const l = limitsFrom(defaults);
  assert.deepEqual(
    { line: l.line, fields: l.fields, fieldSize: l.fieldSize, body: l.body },
    { line: 4094, fields: 100, fieldSize: 8190, body: 100 * 2 ** 20 },
  );
  const o = httpOptions(l);
  assert.equal(o.maxHeaderSize, 4094 + 100 * 8190 + 1);
  assert.equal(o.maxHeadersCount, 101);
  assert.equal(l.headerTimeoutMs, 10_000);
  assert.equal(l.bodyTimeoutMs, 300_000);
  assert.equal(connectionCheckEveryMs(l), 1000);
  assert.equal(o.requireHostHeader, true);
});

test('0 means the hard maximum; the head cap stays at 1 MiB', () => {
  const l = limitsFrom({
    ...defaults,
    limitRequestLine: 0,
    limitRequestFields: 0,
    limitRequestFieldSize: 0,
  });
  assert.deepEqual([l.line, l.fields, l.fieldSize], [65536, 32768, 65536]);
  assert.equal(httpOptions(l).maxHeaderSize, 2 ** 20);
});

test('a body timeout shorter than the header timeout is raised to it; checks every quarter', () => {
  const l = limitsFrom({ ...defaults, headerTimeout: 20, bodyTimeout: 5 });
  assert.equal(l.bodyTimeoutMs, 20_000);
  const off = limitsFrom({ ...defaults, headerTimeout: 0, bodyTimeout: 0 });
  assert.equal(off.headerTimeoutMs, 0);
  assert.equal(connectionCheckEveryMs(off), 0);
  assert.equal(connectionCheckEveryMs(limitsFrom({ ...defaults, headerTimeout: 2 })), 500);
});

function overflow(packet: string, bytesParsed = packet.length): ClientError {
  return Object.assign(new Error('Parse Error: Header overflow'), {
    code: 'HPE_HEADER_OVERFLOW',
    rawPacket: Buffer.from(packet, 'latin1'),
    bytesParsed,
  });
}

test('llhttp’s head cap: 414 when it fell inside the request line, else 431', () => {
  const l = limitsFrom(defaults);
  const socket = new Socket();
  const status = (e: ClientError) => clientErrorRefusal(e, socket, l)?.status;
  // The head starts in the packet: the first line end decides.
  assert.equal(status(overflow(`GET /${'a'.repeat(9000)}`)), 414);
  assert.equal(status(overflow(`GET /${'a'.repeat(5000)} HTTP/1.1\r\nHost: a\r\n`)), 414);
  assert.equal(status(overflow(`GET / HTTP/1.1\r\nHost: a\r\nX: ${'v'.repeat(9000)}`)), 431);
  // Mid-head packets: no line end and no space can only be a target.
  assert.equal(status(overflow('a'.repeat(65536))), 414);
  assert.equal(status(overflow(`vvv\r\nX-F: ${'v'.repeat(100)}`)), 431);
  assert.equal(status(overflow(`value with spaces ${'v'.repeat(100)}`)), 431);
  // Too many fields (node:http's count) reads as such.
  const fields = Array.from({ length: 120 }, (_, i) => `X-F${i}: v\r\n`).join('');
  assert.deepEqual(clientErrorRefusal(overflow(`GET / HTTP/1.1\r\n${fields}`), socket, l), {
    status: 431,
    reason: 'more than limit-request-fields 100 header fields',
  });
});

test('other parser errors are 400, timeouts 408, a reset is nobody to answer', () => {
  const l = limitsFrom(defaults);
  const socket = new Socket();
  const err = (code: string, message = 'x') => Object.assign(new Error(message), { code });
  assert.equal(clientErrorRefusal(err('HPE_INVALID_METHOD'), socket, l)?.status, 400);
  assert.deepEqual(clientErrorRefusal(err('ERR_HTTP_REQUEST_TIMEOUT'), socket, l), {
    status: 408,
    reason: 'request head not received within header-timeout 10 s',
  });
  assert.equal(clientErrorRefusal(err('ECONNRESET'), socket, l), null);
});
