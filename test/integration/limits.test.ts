// Request limits and strict parsing: every request in the malformed corpus gets its 4xx (or a
// clean close), none a 5xx or a hang, and the same workers keep serving; on async and sync.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CORPUS, CORPUS_ARGS } from '../fixtures/malformed.ts';
import {
  alive,
  FIXTURES,
  get,
  type Running,
  serveListener,
  startCorral,
  workerPids,
} from '../helpers/corral.ts';
import { sendRaw } from '../helpers/raw.ts';

/** Worker pids answering GET /: each worker serves at least one of `n` fresh connections. */
async function answeringPids(url: string, n = 6): Promise<Set<number>> {
  const pids = new Set<number>();
  for (let i = 0; i < n; i++) {
    const r = await get(`${url}/`);
    assert.equal(r.status, 200);
    pids.add(Number(r.headers['x-pid']));
  }
  return pids;
}

const NODE_22 = process.versions.node.startsWith('22.');

for (const workerClass of ['async', 'sync'] as const) {
  describe(`malformed corpus, -k ${workerClass}`, () => {
    let corral: Running;
    let pids: number[];
    before(async () => {
      corral = await serveListener(['-w', '2', '-k', workerClass, ...CORPUS_ARGS]);
      pids = workerPids(corral.output());
      assert.equal(pids.length, 2);
    });
    after(() => corral.stop());

    for (const c of CORPUS) {
      const sync = workerClass === 'sync';
      const expected =
        (sync && NODE_22 && c.expectSyncNode22) || (sync && c.expectSync) || c.expect;
      test(`${c.name} → ${expected.length ? expected.join(', ') : 'close'}`, async () => {
        const reply = await sendRaw(corral.url, c.send, {
          keepOpen: c.keepOpen ?? false,
          boundMs: 15_000,
        });
        assert.ok(
          reply.statuses.every((s) => s < 500),
          `no 5xx: ${JSON.stringify(reply.text.slice(0, 300))}`,
        );
        // A sync worker holds one connection; its at-capacity sweep (server.ts) may close one
        // still without a whole head after a second, before the header timeout answers 408.
        const early = workerClass === 'sync' && c.keepOpen && reply.statuses.length === 0;
        if (!early) {
          assert.deepEqual(reply.statuses, expected, JSON.stringify(reply.text.slice(0, 300)));
        }
        assert.ok(reply.closed);
      });
    }

    test('after the corpus: the same workers, alive and serving; each refusal was logged', async () => {
      for (const pid of pids) assert.ok(alive(pid), `worker ${pid} alive`);
      assert.equal(workerPids(corral.output()).length, 2, 'no worker was replaced');
      const serving = await answeringPids(corral.url);
      for (const pid of serving) assert.ok(pids.includes(pid), `answered by an original worker`);
      const out = corral.output();
      const logged = (re: RegExp) => assert.ok(re.test(out), `a log line like ${re}`);
      const client = String.raw`refused 127\.0\.0\.1:\d+: `;
      logged(new RegExp(`${client}414 request line of 5000 bytes over limit-request-line 4094`));
      logged(new RegExp(`${client}431 more than limit-request-fields 100 header fields`));
      logged(
        new RegExp(
          `${client}431 header field X-Big of 9007 bytes over limit-request-field-size 8190`,
        ),
      );
      logged(new RegExp(`${client}400 2 Host header fields`));
      logged(new RegExp(`${client}413 Content-Length 2048 over limit-request-body 1024`));
      logged(new RegExp(`${client}413 chunked body over limit-request-body 1024`));
      logged(new RegExp(`${client}400 forbidden field Host in the chunked trailer`));
      logged(new RegExp(`${client}408 body not received within body-timeout 3 s`));
      assert.doesNotMatch(out, /\[ERROR\]/);
    });
  });
}

describe('default limits', () => {
  let corral: Running;
  before(async () => {
    corral = await serveListener(['-w', '2']);
  });
  after(() => corral.stop());

  test('a 5,000-byte request line → 414, 120 fields → 431, and the same workers keep serving', async () => {
    const pids = workerPids(corral.output());
    const line = await sendRaw(corral.url, `GET /${'a'.repeat(4986)} HTTP/1.1\r\nHost: a\r\n\r\n`);
    assert.deepEqual(line.statuses, [414]);
    assert.match(line.text, /\r\nconnection: close\r\n/i);
    assert.match(line.text, /\r\n\r\nURI Too Long\n$/);
    const fields = Array.from({ length: 119 }, (_, i) => `X-F${i}: v\r\n`).join('');
    const many = await sendRaw(corral.url, `GET / HTTP/1.1\r\nHost: a\r\n${fields}\r\n`);
    assert.deepEqual(many.statuses, [431]);
    assert.match(many.text, /\r\n\r\nRequest Header Fields Too Large\n$/);
    // 100 fields (Host and 99 more) is at the limit, not over it.
    const at = Array.from({ length: 99 }, (_, i) => `X-F${i}: v\r\n`).join('');
    const atLimit = await sendRaw(corral.url, `GET / HTTP/1.1\r\nHost: a\r\n${at}\r\n`);
    assert.deepEqual(atLimit.statuses, [200]);
    for (const pid of await answeringPids(corral.url)) assert.ok(pids.includes(pid));
    assert.equal(workerPids(corral.output()).length, 2);
  });

  test('413 for an oversized body, by Content-Length and chunked', async () => {
    const big = 101 * 2 ** 20;
    const byLength = await sendRaw(
      corral.url,
      `POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: ${big}\r\n\r\n`,
    );
    assert.deepEqual(byLength.statuses, [413]);
    // A chunked body just over 100 MiB, in 1 MiB chunks: refused as the count passes the limit.
    const chunk = `100000\r\n${'x'.repeat(2 ** 20)}\r\n`;
    const parts = [`POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n`];
    for (let i = 0; i < 101; i++) parts.push(chunk);
    parts.push('0\r\n\r\n');
    const chunked = await sendRaw(corral.url, parts, { boundMs: 30_000 });
    assert.deepEqual(chunked.statuses, [413]);
    // Under the limit, the app gets the whole body.
    const fine = await get(`${corral.url}/echo`, { method: 'POST', body: 'x'.repeat(100_000) });
    assert.equal(fine.status, 200);
    assert.match(fine.body, /^echo 100000 /);
  });

  test('a limit setting names itself when bad; the Gunicorn spelling is accepted', async () => {
    const { runCorral, LISTENER } = await import('../helpers/corral.ts');
    const bad = await runCorral([LISTENER, '--limit-request-line', 'long']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /invalid limitRequestLine \(--limit-request-line\) from command line/);
    const cfg = await runCorral(['config', '--json', '--limit-request-field_size', '100']);
    assert.equal(cfg.code, 0, cfg.stderr);
    assert.match(
      cfg.stdout,
      /"limitRequestFieldSize": \{\s*"value": 100,\s*"source": "cli",\s*"origin": "--limit-request-field_size"/,
    );
  });
});

describe('a fetch app', () => {
  let corral: Running;
  before(async () => {
    corral = await startCorral([
      `${FIXTURES}fetch.ts`,
      '-w',
      '1',
      '-b',
      '127.0.0.1:0',
      ...CORPUS_ARGS,
    ]);
  });
  after(() => corral.stop());

  test('a refused chunked body: 413 or 400, one log line, no error from the app reading it', async () => {
    const head = 'POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n';
    const over = await sendRaw(corral.url, `${head}800\r\n${'x'.repeat(2048)}\r\n0\r\n\r\n`);
    assert.deepEqual(over.statuses, [413]);
    const trailer = await sendRaw(corral.url, `${head}5\r\nhello\r\n0\r\nHost: b\r\n\r\n`);
    assert.deepEqual(trailer.statuses, [400]);
    const fine = await sendRaw(corral.url, `${head}5\r\nhello\r\n0\r\n\r\n`);
    assert.deepEqual(fine.statuses, [200]);
    assert.match(fine.text, /\r\n\r\nhello$/);
    const out = corral.output();
    assert.match(out, /refused 127\.0\.0\.1:\d+: 413 chunked body over limit-request-body 1024/);
    assert.doesNotMatch(out, /\[ERROR\]/);
  });
});

describe('an upgrade (WebSocket) request', () => {
  let corral: Running;
  before(async () => {
    corral = await startCorral(['examples/websocket.mjs', '-w', '1', '-b', '127.0.0.1:0']);
  });
  after(() => corral.stop());

  const upgrade = (extra: string) =>
    `GET / HTTP/1.1\r\nHost: a\r\n${extra}Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`;

  test('gets the same checks: a duplicate Host is refused before the app sees it', async () => {
    const bad = await sendRaw(corral.url, upgrade('Host: b\r\n'));
    assert.deepEqual(bad.statuses, [400]);
    const big = await sendRaw(corral.url, upgrade(`X-Big: ${'b'.repeat(9000)}\r\n`));
    assert.deepEqual(big.statuses, [431]);
    // A valid one is switched (the client closes its side, the app's socket ends).
    const ok = await sendRaw(corral.url, upgrade(''));
    assert.deepEqual(ok.statuses, [101]);
    assert.match(corral.output(), /refused 127\.0\.0\.1:\d+: 400 2 Host header fields/);
  });
});
