import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';
import { test } from 'node:test';
import { TrustList } from '../../src/proxy/ip.ts';
import { parseProxyHeader, readProxyHeader } from '../../src/worker/proxy-protocol.ts';
import { inet4, v2 } from '../helpers/proxy-protocol.ts';

const v1 = (s: string) => Buffer.from(s, 'latin1');

test('v1: TCP4, TCP6 and UNKNOWN; the header length is what to skip', () => {
  const line = 'PROXY TCP4 198.51.100.22 203.0.113.7 35646 80\r\n';
  assert.deepEqual(parseProxyHeader(v1(`${line}GET / HTTP/1.1\r\n`), 'v1'), {
    kind: 'header',
    version: 1,
    length: line.length,
    source: { address: '198.51.100.22', port: 35646, family: 'IPv4' },
  });
  assert.deepEqual(parseProxyHeader(v1('PROXY TCP6 2001:db8::1 ::1 4711 443\r\n'), 'auto'), {
    kind: 'header',
    version: 1,
    length: 'PROXY TCP6 2001:db8::1 ::1 4711 443\r\n'.length,
    source: { address: '2001:db8::1', port: 4711, family: 'IPv6' },
  });
  assert.deepEqual(parseProxyHeader(v1('PROXY UNKNOWN ffff::1 ::1 1 2\r\n'), 'v1'), {
    kind: 'header',
    version: 1,
    length: 'PROXY UNKNOWN ffff::1 ::1 1 2\r\n'.length,
    source: null,
  });
});

test('v1: malformed, truncated and oversized headers', () => {
  const bad = (s: string, re: RegExp) => {
    const r = parseProxyHeader(v1(s), 'v1');
    assert.equal(r.kind, 'error', s);
    assert.match((r as { reason: string }).reason, re, s);
  };
  bad('PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n', /malformed/);
  bad('PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n', /malformed|address/);
  bad('PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n', /unknown protocol/);
  bad('PROXY TCP4 ::1 5.6.7.8 1 2\r\n', /bad TCP4 address/);
  bad('PROXY TCP6 1.2.3.4 ::1 1 2\r\n', /bad TCP6 address/);
  bad('PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n', /bad port/);
  bad('PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n', /bad port/);
  bad(`PROXY TCP4 ${'1'.repeat(110)}`, /longer than 107/);
  bad('GET / HTTP/1.1\r\n', /no PROXY protocol v1 header/);
  assert.deepEqual(parseProxyHeader(v1('PROXY TCP4 1.2.3.4 5.6'), 'v1'), { kind: 'more' });
  assert.deepEqual(parseProxyHeader(v1('PRO'), 'auto'), { kind: 'more' });
  assert.deepEqual(parseProxyHeader(v1('GET / HTTP/1.1\r\n'), 'auto'), { kind: 'none' });
  assert.deepEqual(parseProxyHeader(v1('PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n'), 'v2').kind, 'error');
});

test('v2: PROXY over IPv4 and IPv6 with TLVs skipped, LOCAL, AF_UNIX and AF_UNSPEC', () => {
  const tlv = Buffer.from([0x01, 0x00, 0x02, 0x68, 0x32]); // ALPN "h2"
  const four = v2(1, 0x11, Buffer.concat([inet4([192, 0, 2, 9], [10, 0, 0, 1], 5000, 443), tlv]));
  const rest = Buffer.from('GET / HTTP/1.1\r\n');
  assert.deepEqual(parseProxyHeader(Buffer.concat([four, rest]), 'v2'), {
    kind: 'header',
    version: 2,
    length: 16 + 12 + 5,
    source: { address: '192.0.2.9', port: 5000, family: 'IPv4' },
  });
  const six = Buffer.alloc(36);
  six.set([0x20, 0x01, 0x0d, 0xb8], 0);
  six[15] = 1; // 2001:db8::1
  six[31] = 1; // ::1
  six.writeUInt16BE(4711, 32);
  six.writeUInt16BE(443, 34);
  assert.deepEqual(parseProxyHeader(v2(1, 0x21, six), 'auto'), {
    kind: 'header',
    version: 2,
    length: 52,
    source: { address: '2001:db8::1', port: 4711, family: 'IPv6' },
  });
  const mapped = Buffer.alloc(36);
  mapped.set([0xff, 0xff, 203, 0, 113, 5], 10);
  assert.equal(
    (parseProxyHeader(v2(1, 0x21, mapped), 'v2') as { source: { address: string } }).source.address,
    '::ffff:203.0.113.5',
  );
  assert.deepEqual(parseProxyHeader(v2(0, 0x00, Buffer.alloc(0)), 'v2'), {
    kind: 'header',
    version: 2,
    length: 16,
    source: null,
  });
  assert.equal(
    (parseProxyHeader(v2(1, 0x31, Buffer.alloc(216)), 'v2') as { source: unknown }).source,
    null,
  );
  assert.equal(
    (parseProxyHeader(v2(1, 0x00, Buffer.alloc(0)), 'v2') as { source: unknown }).source,
    null,
  );
});

test('v2: truncated, bad version or command, short address block', () => {
  const good = v2(1, 0x11, inet4([1, 2, 3, 4], [5, 6, 7, 8], 1, 2));
  for (const n of [1, 11, 12, 15, 16, 27]) {
    assert.deepEqual(parseProxyHeader(good.subarray(0, n), 'v2'), { kind: 'more' }, `${n} bytes`);
  }
  const reason = (b: Buffer) => (parseProxyHeader(b, 'v2') as { reason?: string }).reason;
  const badVersion = Buffer.from(good);
  badVersion[12] = 0x11;
  assert.match(reason(badVersion) ?? '', /bad version/);
  const badCommand = Buffer.from(good);
  badCommand[12] = 0x22;
  assert.match(reason(badCommand) ?? '', /unknown command/);
  const badFamily = Buffer.from(good);
  badFamily[13] = 0x41;
  assert.match(reason(badFamily) ?? '', /unknown address family/);
  assert.match(reason(v2(1, 0x21, Buffer.alloc(12))) ?? '', /too short/);
  const notSig = Buffer.from(good);
  notSig[3] = 0x00;
  assert.match(reason(notSig) ?? '', /no PROXY protocol v2 header/);
  assert.deepEqual(parseProxyHeader(notSig, 'auto'), { kind: 'none' });
});

/** A loopback server whose connections go through readProxyHeader; reports what came of each. */
async function reader(mode: 'v1' | 'v2' | 'auto', allow: string[]) {
  const events: string[] = [];
  const server = createServer((socket) => {
    readProxyHeader(
      socket,
      { mode, allowFrom: new TrustList(allow), onRefused: (r) => events.push(`refused: ${r}`) },
      (s: Socket) => {
        let data = '';
        s.on('data', (d) => {
          data += d;
          if (data.endsWith('\n\n')) {
            s.end(`${s.remoteAddress} ${s.remotePort} ${JSON.stringify(data)}`);
          }
        });
        s.resume();
      },
    );
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  const send = async (...chunks: Buffer[]) => {
    const c = connect(port, '127.0.0.1');
    const closed = once(c, 'close');
    let got = '';
    c.on('data', (d) => (got += d));
    c.on('error', () => {});
    await once(c, 'connect');
    for (const chunk of chunks) {
      c.write(chunk);
      await new Promise((r) => setTimeout(r, 20));
    }
    await closed;
    return got;
  };
  return { events, send, close: () => server.close() };
}

test('reader: the bytes after the header reach the server, in one write or in pieces', async () => {
  const r = await reader('auto', ['127.0.0.1']);
  try {
    const header = v1('PROXY TCP4 198.51.100.22 203.0.113.7 35646 80\r\n');
    assert.equal(
      await r.send(Buffer.concat([header, v1('hello\n\n')])),
      '198.51.100.22 35646 "hello\\n\\n"',
    );
    assert.equal(
      await r.send(header.subarray(0, 9), header.subarray(9), v1('hel'), v1('lo\n\n')),
      '198.51.100.22 35646 "hello\\n\\n"',
    );
    const two = v2(1, 0x11, inet4([192, 0, 2, 9], [10, 0, 0, 1], 5000, 443));
    assert.equal(
      await r.send(two.subarray(0, 14), Buffer.concat([two.subarray(14), v1('x\n\n')])),
      '192.0.2.9 5000 "x\\n\\n"',
    );
    const plain = await r.send(v1('no header\n\n'));
    assert.match(plain, /^127\.0\.0\.1 \d+ "no header\\n\\n"$/, 'auto: no header is fine');
    assert.deepEqual(r.events, []);
  } finally {
    r.close();
  }
});

test('reader: garbage, a missing header and a disallowed peer are closed with a reason', async () => {
  const v1only = await reader('v1', ['127.0.0.1']);
  const closed = await reader('auto', ['10.0.0.0/8']);
  try {
    assert.equal(await v1only.send(v1('PROXY TCP4 nonsense\r\n')), '');
    assert.equal(await v1only.send(v1('GET / HTTP/1.1\r\n\r\n')), '');
    assert.match(v1only.events[0] ?? '', /refused: PROXY v1: bad TCP4 address|malformed/);
    assert.match(v1only.events[1] ?? '', /refused: no PROXY protocol v1 header/);
    assert.equal(await closed.send(v1('PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\nx\n\n')), '');
    assert.match(closed.events[0] ?? '', /from a peer not in --proxy-allow-from/);
    assert.match(
      await closed.send(v1('plain\n\n')),
      /^127\.0\.0\.1 /,
      'auto: a disallowed peer without a header is served as it is',
    );
  } finally {
    v1only.close();
    closed.close();
  }
});
