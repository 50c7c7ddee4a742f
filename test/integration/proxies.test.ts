/**
 * Proxies in front of real corral workers: trusted forwarded headers reach the access log
 * and the app (listener and fetch handler), and PROXY protocol headers are read, or refused
 * with a clean close while the worker keeps serving. Covers both ways connections reach a
 * worker (handed over by the master; the worker's own reuseport listener) and single-process
 * mode.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { connect as h2Connect } from 'node:http2';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import { selfSigned } from '../helpers/certs.ts';
import { FIXTURES, get, type Running, sleep, startCorral } from '../helpers/corral.ts';
import { inet4, v2 } from '../helpers/proxy-protocol.ts';

const CLIENT_APP = `${FIXTURES}client.mjs`;
const FETCH_APP = `${FIXTURES}fetch-client.ts`;

/** The first access-log line matching `re`, waiting for the worker to write it. */
async function logLine(file: string, re: RegExp): Promise<string> {
  for (let i = 0; i < 100; i++) {
    const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
    const line = text.split('\n').find((l) => re.test(l));
    if (line) return line;
    await sleep(50);
  }
  throw new Error(`no access-log line matching ${re} in ${file}`);
}

interface Exchange {
  /** Everything the server sent before closing. */
  readonly data: string;
  /** The connection closed with an error (a reset) rather than a FIN. */
  readonly reset: boolean;
}

/** Write raw bytes to the server and read until it closes the connection. */
async function exchange(url: string, ...chunks: Buffer[]): Promise<Exchange> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  let data = '';
  let reset = false;
  socket.on('data', (d) => (data += d));
  socket.on('error', () => (reset = true));
  const closed = once(socket, 'close');
  await once(socket, 'connect');
  for (const c of chunks) socket.write(c);
  const timer = setTimeout(() => socket.destroy(new Error('no close in 10 s')), 10_000);
  await closed;
  clearTimeout(timer);
  return { data, reset };
}

const request = (path: string) =>
  Buffer.from(`GET ${path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n`);

/** The JSON body of a raw HTTP/1.1 response. */
function jsonBody(e: Exchange): Record<string, unknown> {
  assert.match(e.data, /^HTTP\/1\.1 200 /, e.data);
  return JSON.parse(e.data.slice(e.data.indexOf('\r\n\r\n') + 4));
}

/** The client app on one worker with an access log, plus `flags`. */
async function serveLogged(...flags: string[]): Promise<{ server: Running; accessLog: string }> {
  const accessLog = join(mkdtempSync(join(tmpdir(), 'corral-proxy-')), 'access.log');
  const args = [CLIENT_APP, '-w', '1', '-b', '127.0.0.1:0', '--access-logfile', accessLog];
  return { server: await startCorral([...args, ...flags]), accessLog };
}

describe('proxies: default trust, handed-over connections', () => {
  let server: Running;
  let accessLog: string;
  before(async () => {
    ({ server, accessLog } = await serveLogged('--proxy-protocol', 'auto'));
  });
  after(() => server.stop());

  test('X-Forwarded-For from loopback is the client, in the access log and the app', async () => {
    const r = await get(`${server.url}/xff`, { headers: { 'x-forwarded-for': '203.0.113.9' } });
    assert.equal(r.status, 200);
    const body = JSON.parse(r.body);
    assert.equal(body.address, '203.0.113.9');
    assert.equal(body.proxied, true);
    assert.equal(body.scheme, 'http');
    assert.match(await logLine(accessLog, /"GET \/xff /), /^203\.0\.113\.9 - - \[/);
  });

  test('a forged X-Forwarded-For left of the proxy’s entry is not believed', async () => {
    const r = await get(`${server.url}/chain`, {
      headers: { 'x-forwarded-for': '6.6.6.6, 203.0.113.10, 127.0.0.1' },
    });
    assert.equal(JSON.parse(r.body).address, '203.0.113.10');
  });

  test('X-Forwarded-Proto https reaches the app as the scheme; conflicting ones are 400', async () => {
    const r = await get(`${server.url}/proto`, { headers: { 'x-forwarded-proto': 'https' } });
    assert.equal(JSON.parse(r.body).scheme, 'https');
    const bad = await get(`${server.url}/conflict`, {
      headers: { 'x-forwarded-proto': 'https', 'x-forwarded-ssl': 'off' },
    });
    assert.equal(bad.status, 400);
    assert.match(bad.body, /conflicting scheme headers/);
    await server.waitFor(/400 for GET \/conflict from 127\.0\.0\.1: conflicting/);
  });

  test('PROXY v1 and v2 headers name the client for the app and the access log', async () => {
    const one = await exchange(
      server.url,
      Buffer.from('PROXY TCP4 198.51.100.22 127.0.0.1 35646 80\r\n'),
      request('/pp1'),
    );
    const b1 = jsonBody(one);
    assert.deepEqual(
      [b1.address, b1.port, b1.remoteAddress, b1.proxied],
      ['198.51.100.22', 35646, '198.51.100.22', true],
    );
    assert.match(await logLine(accessLog, /"GET \/pp1 /), /^198\.51\.100\.22 - - /);
    const header = v2(1, 0x11, inet4([192, 0, 2, 9], [127, 0, 0, 1], 5000, 80));
    // The header and the request in one write: the bytes after the header are not lost.
    const two = await exchange(server.url, Buffer.concat([header, request('/pp2')]));
    assert.deepEqual([jsonBody(two).address, jsonBody(two).port], ['192.0.2.9', 5000]);
    assert.match(await logLine(accessLog, /"GET \/pp2 /), /^192\.0\.2\.9 - - /);
    // A proxied client's own X-Forwarded-For counts only if the PROXY source is trusted.
    const viaBoth = await exchange(
      server.url,
      Buffer.from('PROXY TCP4 198.51.100.22 127.0.0.1 35646 80\r\n'),
      Buffer.from(
        'GET /pp3 HTTP/1.1\r\nHost: t\r\nX-Forwarded-For: 1.2.3.4\r\nConnection: close\r\n\r\n',
      ),
    );
    assert.equal(jsonBody(viaBoth).address, '198.51.100.22');
  });

  test('a garbage PROXY header is closed cleanly and the worker keeps serving', async () => {
    const before = JSON.parse((await get(`${server.url}/before`)).body).pid;
    const e = await exchange(server.url, Buffer.from('PROXY TCP4 garbage\r\n'), request('/g'));
    assert.deepEqual(e, { data: '', reset: false });
    await server.waitFor(/PROXY protocol: closed a connection from [\d.:f]+: malformed/);
    const v2bad = v2(1, 0x21, Buffer.alloc(4));
    const e2 = await exchange(server.url, v2bad, request('/g2'));
    assert.deepEqual(e2, { data: '', reset: false });
    await server.waitFor(/address block too short/);
    const afterPid = JSON.parse((await get(`${server.url}/after`)).body).pid;
    assert.equal(afterPid, before, 'the same worker still serves');
  });
});

describe('proxies: loopback not trusted, the worker’s own reuseport listener', () => {
  let server: Running;
  let accessLog: string;
  before(async () => {
    ({ server, accessLog } = await serveLogged(
      '--dispatch',
      'reuseport',
      '--forwarded-allow-ips',
      '10.0.0.1',
      '--proxy-protocol',
      'auto',
      '--proxy-allow-from',
      '10.0.0.0/8',
    ));
  });
  after(() => server.stop());

  test('X-Forwarded-For from an untrusted peer is ignored: the log shows 127.0.0.1', async () => {
    const r = await get(`${server.url}/xff`, {
      headers: { 'x-forwarded-for': '203.0.113.9', 'x-forwarded-proto': 'https' },
    });
    const body = JSON.parse(r.body);
    assert.deepEqual([body.address, body.scheme, body.proxied], ['127.0.0.1', 'http', false]);
    assert.match(await logLine(accessLog, /"GET \/xff /), /^127\.0\.0\.1 - - \[/);
  });

  test('a PROXY header from a peer outside --proxy-allow-from is refused', async () => {
    const e = await exchange(
      server.url,
      Buffer.from('PROXY TCP4 198.51.100.22 127.0.0.1 35646 80\r\n'),
      request('/denied'),
    );
    assert.deepEqual(e, { data: '', reset: false });
    await server.waitFor(/closed a connection from 127\.0\.0\.1: PROXY header from a peer not in/);
    assert.equal((await get(`${server.url}/still`)).status, 200);
  });
});

describe('proxies: a fetch handler in single-process mode', () => {
  let server: Running;
  before(async () => {
    server = await startCorral([
      FETCH_APP,
      '-w',
      '0',
      '-b',
      '127.0.0.1:0',
      '--proxy-protocol',
      'v2',
    ]);
  });
  after(() => server.stop());

  const local = v2(0, 0x00, Buffer.alloc(0));

  test('trusted X-Forwarded-Proto makes request.url https; env.client has the client', async () => {
    const e = await exchange(
      server.url,
      local,
      Buffer.from(
        'GET /f?x=1 HTTP/1.1\r\nHost: example.test\r\nX-Forwarded-Proto: https\r\nX-Forwarded-For: 203.0.113.7\r\nConnection: close\r\n\r\n',
      ),
    );
    const body = jsonBody(e) as { url: string; client: Record<string, unknown> };
    assert.equal(body.url, 'https://example.test/f?x=1');
    assert.deepEqual(body.client, {
      address: '203.0.113.7',
      port: null,
      scheme: 'https',
      proxied: true,
    });
  });

  test('a PROXY v2 source is the client; without a header (v2 required) it is closed', async () => {
    const header = v2(1, 0x11, inet4([192, 0, 2, 44], [127, 0, 0, 1], 6000, 80));
    const body = jsonBody(await exchange(server.url, header, request('/p'))) as {
      url: string;
      client: Record<string, unknown>;
    };
    assert.equal(body.url, 'http://test/p');
    assert.deepEqual(body.client, {
      address: '192.0.2.44',
      port: 6000,
      scheme: 'http',
      proxied: true,
    });
    assert.deepEqual(await exchange(server.url, request('/none')), { data: '', reset: false });
    await server.waitFor(/no PROXY protocol v2 header/);
  });
});

describe('proxies: a unix-socket bind', () => {
  let server: Running;
  let socketPath: string;
  before(async () => {
    socketPath = join(mkdtempSync(join(tmpdir(), 'corral-proxy-')), 'app.sock');
    server = await startCorral([CLIENT_APP, '-w', '1', '-b', `unix:${socketPath}`]);
  });
  after(() => server.stop());

  test('the peer has no address; its forwarded headers are trusted (as Gunicorn does)', async () => {
    const plain = JSON.parse((await get('/plain', { socketPath })).body);
    assert.deepEqual([plain.address, plain.proxied], [null, false]);
    const r = await get('/fwd', {
      socketPath,
      headers: { 'x-forwarded-for': '203.0.113.50', 'x-forwarded-proto': 'https' },
    });
    const body = JSON.parse(r.body);
    assert.deepEqual([body.address, body.scheme, body.proxied], ['203.0.113.50', 'https', true]);
  });
});

/** PROXY v1 header, then TLS over the same connection; one request over h1 or h2. */
function overTls(port: number, alpn: 'http/1.1' | 'h2', from: string): Promise<string> {
  return new Promise((done, fail) => {
    const raw = connect(port, '127.0.0.1', () => {
      raw.write(`PROXY TCP4 ${from} 127.0.0.1 40000 443\r\n`);
      const socket = tlsConnect({ socket: raw, rejectUnauthorized: false, ALPNProtocols: [alpn] });
      socket.on('error', fail);
      socket.once('secureConnect', () => {
        if (socket.alpnProtocol === 'h2') {
          const session = h2Connect('https://localhost', { createConnection: () => socket });
          const stream = session.request({ ':path': '/' });
          let body = '';
          stream.on('data', (d) => (body += d));
          stream.on('end', () => {
            session.close();
            done(body);
          });
          stream.on('error', fail);
        } else {
          socket.write('GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
          let text = '';
          socket.on('data', (d) => (text += d));
          socket.on('end', () => done(text.slice(text.indexOf('\r\n\r\n') + 4)));
        }
      });
    });
    raw.on('error', fail);
    raw.setTimeout(10_000, () => raw.destroy(new Error('no answer over TLS in 10 s')));
  });
}

const certificate = selfSigned();

test('PROXY header before TLS: the client reaches the app over HTTPS and HTTP/2, many at once', {
  skip: certificate ? false : 'openssl is not installed',
}, async () => {
  const { cert, key } = certificate as { cert: string; key: string };
  const server = await startCorral([
    CLIENT_APP,
    '-w',
    '1',
    '-b',
    '127.0.0.1:0',
    '--certfile',
    cert,
    '--keyfile',
    key,
    '--http2',
    '--proxy-protocol',
    'v1',
  ]);
  try {
    const port = Number(new URL(server.url).port);
    // Concurrent connections, so the PROXY header and the TLS hello arrive in every order
    // and grouping the network makes of them (bytes put back under a TLS socket were lost).
    for (let round = 0; round < 5; round++) {
      const bodies = await Promise.all(
        ['http/1.1', 'h2', 'http/1.1', 'h2'].map((alpn, i) =>
          overTls(port, alpn as 'http/1.1' | 'h2', `198.51.100.${10 + i}`),
        ),
      );
      bodies.forEach((body, i) => {
        const seen = JSON.parse(body) as { address: string; scheme: string; proxied: boolean };
        assert.equal(seen.address, `198.51.100.${10 + i}`);
        assert.equal(seen.scheme, 'https');
        assert.equal(seen.proxied, true);
      });
    }
  } finally {
    await server.stop();
  }
});
