import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { test } from 'node:test';
import { settings } from '../../src/config/settings.ts';
import {
  type Client,
  clientAddress,
  clientOf,
  ForwardedPolicy,
  POLICY,
  PROXIED,
  schemeConflict,
  schemeOf,
} from '../../src/proxy/client.ts';
import { parseForwarded, parseXForwardedFor } from '../../src/proxy/forwarded.ts';
import { ipBytes, TrustList } from '../../src/proxy/ip.ts';

test('trust lists: addresses, CIDR ranges, IPv4-mapped IPv6 peers, *', () => {
  const t = new TrustList(['127.0.0.1', '::1', '10.0.0.0/8', '2001:db8::/32', '192.168.1.128/25']);
  assert.equal(t.has('127.0.0.1'), true);
  assert.equal(t.has('::ffff:127.0.0.1'), true, 'mapped v6 matches its IPv4');
  assert.equal(t.has('::1'), true);
  assert.equal(t.has('0:0:0:0:0:0:0:1'), true, 'uncompressed ::1');
  assert.equal(t.has('127.0.0.2'), false);
  assert.equal(t.has('10.255.3.4'), true);
  assert.equal(t.has('::ffff:10.1.2.3'), true);
  assert.equal(t.has('11.0.0.1'), false);
  assert.equal(t.has('2001:db8:ffff::1'), true);
  assert.equal(t.has('2001:db9::1'), false);
  assert.equal(t.has('192.168.1.200'), true, 'non-octet prefix');
  assert.equal(t.has('192.168.1.100'), false, 'non-octet prefix');
  assert.equal(t.has('fe80::1%eth0'), false);
  assert.equal(t.has('not an ip'), false);
  assert.equal(new TrustList(['::ffff:10.0.0.0/104']).has('10.9.9.9'), true, 'mapped range');
  assert.equal(new TrustList(['*']).has('198.51.100.1'), true);
  assert.equal(new TrustList([]).empty, true);
  assert.deepEqual([...(ipBytes('::ffff:1.2.3.4') ?? [])], [1, 2, 3, 4]);
});

test('the trust-list settings refuse what is not an address or range, saying what is allowed', () => {
  const type = settings.forwardedAllowIps.type;
  assert.deepEqual(type.parse('10.0.0.0/8, ::1'), ['10.0.0.0/8', '::1']);
  assert.deepEqual(type.parse('*'), ['*']);
  assert.deepEqual(type.parse(''), [], 'empty: trust no one');
  assert.throws(() => type.parse('10.0.0.0/33'), { message: /CIDR ranges .* or \* for all/ });
  assert.throws(() => type.parse('localhost'), { message: /IP addresses/ });
  assert.throws(() => settings.proxyAllowFrom.type.parse('1.2.3.4/x'), { message: /CIDR/ });
});

test('proxy-protocol takes off, v1, v2, auto, and Gunicorn’s boolean as auto/off', () => {
  const t = settings.proxyProtocol.type;
  assert.equal(t.parse('V2'), 'v2');
  assert.equal(t.parse('true'), 'auto');
  assert.equal(t.parse(true), 'auto');
  assert.equal(t.parse(false), 'off');
  assert.throws(() => t.parse('v3'), { message: /one of off, v1, v2, auto/ });
});

test('secure scheme headers: an object in a file, NAME=VALUE pairs on the command line', () => {
  const t = settings.secureSchemeHeaders.type;
  assert.deepEqual(t.parse('X-Forwarded-Proto=https, X-Scheme: https'), {
    'X-Forwarded-Proto': 'https',
    'X-Scheme': 'https',
  });
  assert.deepEqual(t.parse({ 'X-FORWARDED-SSL': 'on' }), { 'X-FORWARDED-SSL': 'on' });
  assert.deepEqual(t.parse('none'), {});
  assert.throws(() => t.parse('X-Forwarded-Proto'), { message: /NAME=VALUE pairs/ });
  assert.throws(() => t.parse({ 'bad name': 'x' }), { message: /NAME=VALUE pairs/ });
  assert.throws(() => t.parse(['x']), { message: /NAME=VALUE pairs/ });
});

test('X-Forwarded-For: addresses with or without ports; junk entries read as unknown', () => {
  assert.deepEqual(
    parseXForwardedFor(
      ' 203.0.113.9, 2001:db8::1 ,[2001:db8::2]:443, 10.0.0.1:8080,, <script>',
    ).map((h) => [h.address, h.port, h.ip]),
    [
      ['203.0.113.9', null, true],
      ['2001:db8::1', null, true],
      ['2001:db8::2', 443, true],
      ['10.0.0.1', 8080, true],
      ['unknown', null, false],
    ],
  );
});

test('Forwarded (RFC 7239): quoted IPv6 with port, obfuscated identifiers, proto, bad syntax', () => {
  const hops = parseForwarded(
    'for=192.0.2.60;proto=http;by=203.0.113.43, for="[2001:db8:cafe::17]:4711";PROTO=HTTPS, For=_hidden, for=unknown, for="_x:_p"',
  );
  assert.deepEqual(
    hops?.map((h) => [h.address, h.port, h.ip, h.proto]),
    [
      ['192.0.2.60', null, true, 'http'],
      ['2001:db8:cafe::17', 4711, true, 'https'],
      ['_hidden', null, false, null],
      ['unknown', null, false, null],
      ['_x', null, false, null],
    ],
  );
  assert.deepEqual(
    parseForwarded('proto=https, for=1.2.3.4,')?.map((h) => h.address),
    ['unknown', '1.2.3.4'],
    'an element without for= is an unknown client; a trailing comma is no element',
  );
  assert.deepEqual(parseForwarded('for="\\"quoted\\""'), null, 'not a node');
  assert.equal(parseForwarded('for=[2001:db8::1]'), null, 'IPv6 must be quoted');
  assert.equal(parseForwarded('for="1.2.3.4'), null, 'unterminated quote');
  assert.equal(parseForwarded('for=1.2.3.4 junk'), null);
  assert.equal(parseForwarded('for=1.2.3.4:99999'), null, 'port out of range');
  assert.deepEqual(parseForwarded(''), []);
});

/** A request as node:http would give it, from `peer`, to a server with `policy`. */
function fakeReq(
  headers: Record<string, string>,
  peer: string | undefined,
  policy: ForwardedPolicy | null,
  extra: Record<PropertyKey, unknown> = {},
): IncomingMessage {
  const server = policy ? { [POLICY]: policy } : {};
  const socket = { remoteAddress: peer, remotePort: 40000, server, ...extra };
  return { headers, socket } as unknown as IncomingMessage;
}

const GUNICORN_SECURE = settings.secureSchemeHeaders.default;
const loopback = ForwardedPolicy.from(['127.0.0.1', '::1'], GUNICORN_SECURE);

function client(headers: Record<string, string>, peer?: string, p = loopback): Client {
  return clientOf(fakeReq(headers, peer, p));
}

test('the client is the right-most untrusted hop, and only a trusted peer is believed', () => {
  const xff = { 'x-forwarded-for': '198.51.100.1, 203.0.113.9' };
  assert.deepEqual(client(xff, '127.0.0.1'), {
    address: '203.0.113.9',
    port: null,
    scheme: 'http',
    proxied: true,
  });
  assert.equal(client(xff, '::ffff:127.0.0.1').address, '203.0.113.9', 'mapped peer trusted');
  assert.deepEqual(client(xff, '192.0.2.1'), {
    address: '192.0.2.1',
    port: 40000,
    scheme: 'http',
    proxied: false,
  });
  const chain = ForwardedPolicy.from(['127.0.0.1', '10.0.0.0/8'], GUNICORN_SECURE);
  assert.equal(
    client({ 'x-forwarded-for': '6.6.6.6, 203.0.113.9, 10.1.1.1, 10.2.2.2' }, '127.0.0.1', chain)
      .address,
    '203.0.113.9',
    'trusted proxies are skipped from the right; the forged left part is never reached',
  );
  assert.equal(
    client({ 'x-forwarded-for': '10.1.1.1, 10.2.2.2' }, '127.0.0.1', chain).address,
    '10.1.1.1',
    'all trusted: the left-most',
  );
  const all = ForwardedPolicy.from(['*'], GUNICORN_SECURE);
  assert.equal(
    client({ 'x-forwarded-for': '1.1.1.1, 2.2.2.2' }, '9.9.9.9', all).address,
    '1.1.1.1',
  );
  assert.equal(client({ 'x-forwarded-for': '1.1.1.1' }, undefined).address, '1.1.1.1', 'unix');
  assert.equal(ForwardedPolicy.from([], GUNICORN_SECURE), null, 'empty list: nobody trusted');
  assert.equal(clientOf(fakeReq(xff, '127.0.0.1', null)).address, '127.0.0.1', 'no policy');
});

test('Forwarded gives address, port and scheme; X-Forwarded-For wins when both are sent', () => {
  const fwd = { forwarded: 'for="[2001:db8::1]:4711";proto=https' };
  assert.deepEqual(client(fwd, '::1'), {
    address: '2001:db8::1',
    port: 4711,
    scheme: 'https',
    proxied: true,
  });
  assert.equal(client({ forwarded: 'for=_gazonk' }, '::1').address, '_gazonk');
  assert.equal(client({ forwarded: 'for="[::1' }, '::1').address, '::1', 'unparsable: the peer');
  assert.equal(
    client({ forwarded: 'for=192.0.2.1', 'x-forwarded-for': '198.51.100.2' }, '::1').address,
    '198.51.100.2',
  );
});

test('secure scheme headers: https from a trusted peer only; disagreeing ones conflict', () => {
  assert.equal(client({ 'x-forwarded-proto': 'https' }, '127.0.0.1').scheme, 'https');
  assert.equal(client({ 'x-forwarded-proto': 'HTTPS' }, '127.0.0.1').scheme, 'https');
  assert.equal(client({ 'x-forwarded-ssl': 'on' }, '127.0.0.1').scheme, 'https');
  assert.equal(client({ 'x-forwarded-protocol': 'ssl' }, '127.0.0.1').scheme, 'https');
  assert.equal(client({ 'x-forwarded-proto': 'https' }, '203.0.113.5').scheme, 'http');
  assert.equal(
    client({ 'x-forwarded-proto': 'https, http' }, '127.0.0.1').scheme,
    'http',
    'the last (nearest, trusted) proxy speaks',
  );
  const conflicting = fakeReq(
    { 'x-forwarded-proto': 'https', 'x-forwarded-ssl': 'off' },
    '127.0.0.1',
    loopback,
  );
  assert.equal(schemeConflict(conflicting), true);
  const agreeing = fakeReq(
    { 'x-forwarded-proto': 'https', 'x-forwarded-ssl': 'on' },
    '127.0.0.1',
    loopback,
  );
  assert.equal(schemeConflict(agreeing), false);
  assert.equal(schemeOf(agreeing), 'https');
  const untrusted = fakeReq(
    { 'x-forwarded-proto': 'https', 'x-forwarded-ssl': 'off' },
    '198.51.100.9',
    loopback,
  );
  assert.equal(schemeConflict(untrusted), false, 'an untrusted peer’s headers are not read');
  assert.equal(
    schemeConflict(
      fakeReq(
        { 'x-forwarded-proto': 'http', forwarded: 'for=1.2.3.4;proto=https' },
        '::1',
        loopback,
      ),
    ),
    true,
    'Forwarded proto= counts as a scheme header too',
  );
});

test('cheap paths: presence check, address and scheme without resolving, PROXY-protocol peers', () => {
  assert.ok(loopback);
  assert.equal(loopback.present(['Host', 'x', 'User-Agent', 'y']), false);
  // Same length as x-forwarded-for, another name.
  assert.equal(loopback.present(['Accept-Language', 'en']), false);
  assert.equal(loopback.present(['Host', 'x', 'X-Forwarded-SSL', 'on']), true);
  assert.equal(loopback.present(['forwarded', 'for=1.2.3.4']), true);
  assert.equal(loopback.present(['X-FORWARDED-FOR', '1.2.3.4']), true);
  const plain = fakeReq({}, '::ffff:192.0.2.7', loopback);
  assert.equal(clientAddress(plain), '192.0.2.7', 'mapped shown as IPv4');
  assert.equal(schemeOf(plain), 'http');
  assert.equal(clientAddress(fakeReq({}, undefined, loopback)), null, 'unix peer');
  const tls = fakeReq({}, '192.0.2.7', loopback, { encrypted: true });
  assert.equal(schemeOf(tls), 'https');
  assert.equal(clientOf(tls).scheme, 'https');
  const viaHeader = fakeReq({}, '198.51.100.3', loopback, { [PROXIED]: true });
  assert.deepEqual(clientOf(viaHeader), {
    address: '198.51.100.3',
    port: 40000,
    scheme: 'http',
    proxied: true,
  });
  const req = fakeReq({ 'x-forwarded-for': '203.0.113.9' }, '127.0.0.1', loopback);
  assert.equal(clientOf(req), clientOf(req), 'computed once, kept on the request');
  assert.equal(clientAddress(req), '203.0.113.9');
});
