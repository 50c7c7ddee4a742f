/**
 * TLS and HTTP/2 with real processes and curl: HTTPS with HTTP/1.1, HTTP/2 by ALPN, h2c,
 * client certificates, a graceful drain over h2, certificates re-read on HUP, and the
 * one-line errors for bad TLS settings.
 */
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { connect } from 'node:tls';
import { openssl, selfSigned } from '../helpers/certs.ts';
import { FIXTURES, runCorral, startCorral } from '../helpers/corral.ts';

function has(cmd: string): boolean {
  try {
    execFileSync(cmd, ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    try {
      execFileSync(cmd, ['version'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  }
}

const missing = !has('curl')
  ? 'curl is not installed'
  : !has('openssl')
    ? 'openssl is not installed'
    : '';
const skip = missing ? `${missing}: TLS tests need it` : false;

const INFO = `${FIXTURES}tls-info.mjs`;
const FETCH = `${FIXTURES}tls-fetch.mjs`;

let dir = '';
/** Paths of the certificates made for these tests. */
const pem = (name: string) => join(dir, name);

/** A copy of certificate one in a directory of its own, to be overwritten by a renewal. */
function renewable(name: string) {
  const work = mkdtempSync(join(dir, `${name}-`));
  const cert = join(work, 'cert.pem');
  const key = join(work, 'key.pem');
  copyFileSync(pem('one.pem'), cert);
  copyFileSync(pem('one.key'), key);
  /** Overwrite them with certificate two, as a renewal does. */
  const renew = () => {
    copyFileSync(pem('two.pem'), cert);
    copyFileSync(pem('two.key'), key);
  };
  /** corral serving INFO over TLS on them, with `workers` workers. */
  const serve = (workers: string) =>
    startCorral([INFO, '-b', '127.0.0.1:0', '-w', workers, '--certfile', cert, '--keyfile', key]);
  return { cert, renew, serve };
}

/** corral serving `app` over TLS (certificate one) with one worker, plus `extra` flags. */
function serveTls(app: string, ...extra: string[]) {
  return startCorral([app, '-b', '127.0.0.1:0', '-w', '1', ...tlsArgs(), ...extra]);
}

function run(...args: string[]): void {
  if (!openssl(...args)) throw new Error(`openssl ${args[0]} failed`);
}

/** Two self-signed server certificates (CN=one, CN=two) and a CA that signed a client's. */
function makeCertificates(): void {
  dir = mkdtempSync(join(tmpdir(), 'corral-tls-'));
  for (const cn of ['one', 'two']) {
    if (!selfSigned(cn, dir)) throw new Error('openssl req failed');
  }
  run(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '2',
    '-subj',
    '/CN=test-ca',
    '-keyout',
    pem('ca.key'),
    '-out',
    pem('ca.pem'),
  );
  run(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    '/CN=alice',
    '-keyout',
    pem('client.key'),
    '-out',
    pem('client.csr'),
  );
  run(
    'x509',
    '-req',
    '-in',
    pem('client.csr'),
    '-CA',
    pem('ca.pem'),
    '-CAkey',
    pem('ca.key'),
    '-CAcreateserial',
    '-days',
    '2',
    '-out',
    pem('client.pem'),
  );
}

interface Curl {
  /** curl's exit code (0 = a response came back). */
  code: number;
  body: string;
  /** `%{http_version}`: 1.1, 2 … */
  version: string;
  status: number;
}

/** curl ARGS URL; the last line of stdout carries the version and status. */
function curl(args: string[]): Promise<Curl> {
  return new Promise((done) => {
    execFile(
      'curl',
      ['-s', '--max-time', '15', '-w', '\n%{http_version} %{http_code}', ...args],
      (err, stdout) => {
        const at = stdout.lastIndexOf('\n');
        const [version = '', status = '0'] = stdout.slice(at + 1).split(' ');
        const code = err ? Number((err as { code?: number }).code ?? 1) : 0;
        done({ code, body: stdout.slice(0, at), version, status: Number(status) });
      },
    );
  });
}

/** The subject CN of the certificate the server presents now. */
function serverCN(url: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((done, fail) => {
    const s = connect({ host: hostname, port: Number(port), rejectUnauthorized: false }, () => {
      done(String(s.getPeerCertificate().subject.CN));
      s.end();
    });
    s.on('error', fail);
  });
}

interface WsClient {
  on(event: 'open', f: () => void): void;
  on(event: 'message', f: (m: Buffer) => void): void;
  on(event: 'error', f: (e: Error) => void): void;
  send(text: string): void;
  close(): void;
}
type WsClientClass = new (url: string, opts: { rejectUnauthorized: boolean }) => WsClient;

const tlsArgs = (cn = 'one') => ['--certfile', pem(`${cn}.pem`), '--keyfile', pem(`${cn}.key`)];
const https = (url: string) => url.replace(/^http:/, 'https:');

describe('TLS and HTTP/2', { skip }, () => {
  before(() => makeCertificates());
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('HTTPS answers HTTP/1.1; with --http2, h2 by ALPN and HTTP/1.1 as fallback (node listener, least-conn workers); the access log says HTTP/2.0', async () => {
    const plain = await serveTls(INFO);
    try {
      const r = await curl(['-k', `${https(plain.url)}/`]);
      assert.equal(r.version, '1.1');
      assert.equal(r.status, 200);
      assert.deepEqual(JSON.parse(r.body).encrypted, true);
    } finally {
      assert.equal(await plain.stop(), 0);
    }
    const h2 = await serveTls(
      INFO,
      '--http2',
      '--access-logfile',
      '-',
      '--access-logformat',
      'access %(H)s "%(r)s" %(s)s',
    );
    try {
      const url = `${https(h2.url)}/`;
      const two = await curl(['-k', '--http2', url]);
      assert.equal(two.version, '2');
      assert.equal(JSON.parse(two.body).httpVersion, '2.0');
      const one = await curl(['-k', '--http1.1', url]);
      assert.equal(one.version, '1.1');
      assert.equal(JSON.parse(one.body).httpVersion, '1.1');
      await h2.waitFor(/access HTTP\/2\.0 "GET \/ HTTP\/2\.0" 200/);
      await h2.waitFor(/access HTTP\/1\.1 "GET \/ HTTP\/1\.1" 200/);
    } finally {
      assert.equal(await h2.stop(), 0);
    }
  });

  for (const [name, args] of [
    ['reuseport workers', ['-w', '1', '--dispatch', 'reuseport']],
    ['the thread class', ['-w', '1', '--threads', '2']],
    ['single-process mode', ['-w', '0']],
  ] as const) {
    test(`a fetch handler over h2 and HTTPS (${name}) gets an https URL from :authority, no pseudo-headers, and its body`, async () => {
      const server = await startCorral([
        FETCH,
        '-b',
        '127.0.0.1:0',
        ...args,
        ...tlsArgs(),
        '--http2',
      ]);
      try {
        const url = `${https(server.url)}/path?q=1`;
        const two = await curl(['-k', '--http2', '-d', 'hello', url]);
        assert.equal(two.version, '2');
        const seen = JSON.parse(two.body);
        assert.equal(seen.url, url);
        assert.equal(seen.body, 'hello');
        assert.equal(
          seen.headers.some((h: string) => h.startsWith(':')),
          false,
        );
        const one = await curl(['-k', '--http1.1', url]);
        assert.equal(one.version, '1.1');
        assert.equal(JSON.parse(one.body).url, url);
      } finally {
        assert.equal(await server.stop(), 0);
      }
    });
  }

  test('h2c: --http-protocols h1,h2c answers prior-knowledge HTTP/2 and HTTP/1.1 on one cleartext port', async () => {
    const server = await startCorral([
      INFO,
      '-b',
      '127.0.0.1:0',
      '-w',
      '1',
      '--http-protocols',
      'h1,h2c',
    ]);
    try {
      const two = await curl(['--http2-prior-knowledge', `${server.url}/`]);
      assert.equal(two.version, '2');
      assert.equal(JSON.parse(two.body).encrypted, false);
      const one = await curl([`${server.url}/`]);
      assert.equal(one.version, '1.1');
      assert.equal(JSON.parse(one.body).httpVersion, '1.1');
    } finally {
      assert.equal(await server.stop(), 0);
    }
  });

  test('client certificates: with --cert-reqs 2 a client without one is refused in the handshake; one signed by --ca-certs is served and the app reads it', async () => {
    const server = await serveTls(INFO, '--http2', '--cert-reqs', '2', '--ca-certs', pem('ca.pem'));
    try {
      const url = `${https(server.url)}/`;
      const refused = await curl(['-k', url]);
      assert.notEqual(refused.code, 0, 'no response without a client certificate');
      assert.equal(refused.status, 0);
      for (const proto of ['--http1.1', '--http2']) {
        const r = await curl([
          '-k',
          proto,
          '--cert',
          pem('client.pem'),
          '--key',
          pem('client.key'),
          url,
        ]);
        assert.equal(r.status, 200);
        const seen = JSON.parse(r.body);
        assert.equal(seen.peer, 'alice');
        assert.equal(seen.authorized, true);
      }
    } finally {
      assert.equal(await server.stop(), 0);
    }
  });

  test('an app exporting upgrade (WebSocket) keeps working over HTTP/1.1 on TLS, with h2 enabled', async () => {
    // The ws package (a dev dependency, no bundled types): its client takes TLS options.
    const { WebSocket } = (await import('ws' as string)) as { WebSocket: WsClientClass };
    const server = await serveTls('examples/websocket.mjs', '--http2');
    try {
      const ws = new WebSocket(`${server.url.replace(/^http:/, 'wss:')}/`, {
        rejectUnauthorized: false,
      });
      const reply = await new Promise<string>((done, fail) => {
        ws.on('open', () => ws.send('hi'));
        ws.on('message', (m) => done(String(m)));
        ws.on('error', fail);
      });
      assert.match(reply, /^echo from pid \d+: hi$/);
      ws.close();
    } finally {
      assert.equal(await server.stop(), 0);
    }
  });

  test('graceful drain over h2: a TERM while an h2 request is in flight lets it finish', async () => {
    const server = await serveTls(INFO, '--http2');
    const pending = curl(['-k', '--http2', `${https(server.url)}/slow?ms=1500`]);
    await new Promise((r) => setTimeout(r, 500));
    server.proc.kill('SIGTERM');
    const r = await pending;
    assert.equal(r.version, '2');
    assert.equal(r.status, 200);
    assert.equal(await server.stop(), 0);
  });

  test('HUP re-reads the certificate: workers roll onto the renewed one; a broken one fails the reload and the old workers keep serving', async () => {
    const { cert, renew, serve } = renewable('hup');
    const server = await serve('1');
    try {
      const url = https(server.url);
      assert.equal(await serverCN(url), 'one');
      renew();
      server.proc.kill('SIGHUP');
      await server.waitFor(/worker 2 \(pid \d+\) ready/);
      await server.waitFor(/worker 1 \(pid \d+\) exited \(code 0\)/);
      assert.equal(await serverCN(url), 'two');
      writeFileSync(cert, 'not a certificate\n');
      server.proc.kill('SIGHUP');
      await server.waitFor(
        /reload failed, nothing changed: corral: TLS settings do not load \(certfile /,
      );
      assert.equal(await serverCN(url), 'two');
      assert.equal((await curl(['-k', `${url}/`])).status, 200);
    } finally {
      assert.equal(await server.stop(), 0);
    }
  });

  test('single-process mode re-reads the certificate on HUP (setSecureContext)', async () => {
    const { renew, serve } = renewable('single');
    const server = await serve('0');
    try {
      const url = https(server.url);
      assert.equal(await serverCN(url), 'one');
      renew();
      server.proc.kill('SIGHUP');
      await server.waitFor(/TLS certificate re-read/);
      assert.equal(await serverCN(url), 'two');
      assert.equal((await curl(['-k', `${url}/`])).status, 200);
    } finally {
      assert.equal(await server.stop(), 0);
    }
  });

  test('bad TLS settings: one line naming the settings (and the path), non-zero exit', async () => {
    const cases: [string[], RegExp][] = [
      [
        ['--certfile', pem('one.pem')],
        /^corral: certfile ".*one\.pem" \(from command line --certfile\) needs keyfile \(--keyfile\) too/,
      ],
      [
        ['--certfile', join(dir, 'nope.pem'), '--keyfile', pem('one.key')],
        /^corral: certfile \(--certfile\) .*nope\.pem: cannot read it \(ENOENT\)$/,
      ],
      [
        ['--certfile', pem('one.pem'), '--keyfile', pem('two.key')],
        /^corral: TLS settings do not load \(certfile .*one\.pem, keyfile .*two\.key\): .*mismatch/,
      ],
      [
        ['--http2'],
        /^corral: h2 \(http2 true \(from command line --http2\)\) is HTTP\/2 over TLS and needs certfile and keyfile/,
      ],
      [
        ['--cert-reqs', 'banana'],
        /^corral: invalid certReqs \(--cert-reqs\) from command line --cert-reqs: "banana"; allowed: one of none, optional, required, 0, 1, 2$/,
      ],
    ];
    for (const [args, re] of cases) {
      const r = await runCorral([INFO, '-b', '127.0.0.1:0', '-w', '1', ...args]);
      assert.notEqual(r.code, 0, args.join(' '));
      const lines = r.stderr.trim().split('\n');
      assert.equal(lines.length, 1, `one line for ${args.join(' ')}: ${r.stderr}`);
      assert.match(lines[0] ?? '', re);
    }
  });
});
