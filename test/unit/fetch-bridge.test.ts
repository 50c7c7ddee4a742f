// The fetch bridge: what a fetch app sees of the request, what reaches the client of the
// Response it returns (every body kind, headers, statuses), and how errors are answered.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { Agent, createServer, request as httpRequest, type IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import { test } from 'node:test';
import { type FetchHandler, fetchListener } from '../../src/app/fetch.ts';

interface Reply {
  status: number;
  statusText: string;
  headers: IncomingMessage['headers'];
  raw: string[];
  body: string;
}

/** Serve `handler` on an ephemeral loopback port for the length of `fn`. */
async function serving(
  handler: FetchHandler,
  fn: (port: number, errors: unknown[]) => Promise<void>,
): Promise<void> {
  const errors: unknown[] = [];
  const server = createServer(fetchListener(handler, (err) => errors.push(err)));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    await fn((server.address() as { port: number }).port, errors);
  } finally {
    server.closeAllConnections();
    server.close();
  }
}

function call(
  port: number,
  path = '/',
  opts: { method?: string; body?: string; agent?: Agent; headers?: Record<string, string> } = {},
): Promise<Reply> {
  return new Promise((done, fail) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        path,
        method: opts.method ?? 'GET',
        agent: opts.agent,
        headers: opts.headers,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (body += d));
        res.on('end', () =>
          done({
            status: res.statusCode ?? 0,
            statusText: res.statusMessage ?? '',
            headers: res.headers,
            raw: res.rawHeaders,
            body,
          }),
        );
      },
    );
    req.on('error', fail);
    req.end(opts.body);
  });
}

test('the request: method, url, headers, instanceof, new Request(request), clone()', async () => {
  let seen: Record<string, unknown> = {};
  await serving(
    (req) => {
      const copy = new Request(req);
      seen = {
        method: req.method,
        url: req.url,
        ua: req.headers.get('x-test'),
        isRequest: req instanceof Request,
        copyUrl: copy.url,
        cloneUrl: req.clone().url,
      };
      return new Response('ok');
    },
    async (port) => {
      const r = await call(port, '/a/b?c=1&d=/x', { headers: { 'x-test': 'yes' } });
      assert.equal(r.status, 200);
      assert.deepEqual(seen, {
        method: 'GET',
        url: `http://127.0.0.1:${port}/a/b?c=1&d=/x`,
        ua: 'yes',
        isRequest: true,
        copyUrl: `http://127.0.0.1:${port}/a/b?c=1&d=/x`,
        cloneUrl: `http://127.0.0.1:${port}/a/b?c=1&d=/x`,
      });
    },
  );
});

test('the url is what new URL() makes of it: dot segments, escapes, host case, ports, IPv6, absolute form', async () => {
  const urls: string[] = [];
  await serving(
    (req) => {
      urls.push(req.url);
      return new Response('ok');
    },
    async (port) => {
      await call(port, '/a/../b/./c');
      await call(port, '/x%20y');
      await call(port, '/q?a="b"');
      await call(port, '/', { headers: { host: 'Example.COM:80' } });
      await call(port, '/p', { headers: { host: 'example.com:8080' } });
      await call(port, '/p5', { headers: { host: 'example.com:18500' } });
      await call(port, '/p6', { headers: { host: '[::1]:18500' } });
      await call(port, 'http://example.org/abs?x=1');
      assert.deepEqual(urls, [
        `http://127.0.0.1:${port}/b/c`,
        `http://127.0.0.1:${port}/x%20y`,
        `http://127.0.0.1:${port}/q?a=%22b%22`,
        'http://example.com/',
        'http://example.com:8080/p',
        'http://example.com:18500/p5',
        'http://[::1]:18500/p6',
        'http://example.org/abs?x=1',
      ]);
    },
  );
});

test('a Host header that is not a host is a 400, and the app is not called', async () => {
  let called = false;
  await serving(
    () => {
      called = true;
      return new Response('ok');
    },
    async (port) => {
      const socket = connect(port, '127.0.0.1');
      socket.end('GET / HTTP/1.1\r\nHost: evil.com/x?\r\n\r\n');
      let text = '';
      for await (const d of socket) text += d;
      assert.match(text, /^HTTP\/1\.1 400 /);
    },
  );
  assert.equal(called, false);
});

test('request bodies: text() and json(); an unread body does not stall keep-alive', async () => {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  await serving(
    async (req) => {
      const path = new URL(req.url).pathname;
      if (path === '/text') return new Response(`got ${await req.text()}`);
      if (path === '/json') return Response.json({ echo: await req.json() });
      if (path === '/signal') return new Response(String(req.signal.aborted));
      return new Response('ignored the body');
    },
    async (port) => {
      assert.equal(
        (await call(port, '/text', { method: 'POST', body: 'hello', agent })).body,
        'got hello',
      );
      const j = await call(port, '/json', { method: 'POST', body: '{"a":1}', agent });
      assert.equal(j.headers['content-type'], 'application/json');
      assert.deepEqual(JSON.parse(j.body), { echo: { a: 1 } });
      const big = 'x'.repeat(256 * 1024);
      assert.equal(
        (await call(port, '/signal', { method: 'POST', body: big, agent })).body,
        'false',
      );
      assert.equal(
        (await call(port, '/', { method: 'POST', body: big, agent })).body,
        'ignored the body',
      );
      assert.equal(
        (await call(port, '/text', { method: 'PUT', body: 'again', agent })).body,
        'got again',
      );
    },
  );
  agent.destroy();
});

test('response bodies: string, bytes, Blob, stream, null; lengths and default types', async () => {
  await serving(
    (req) => {
      const path = new URL(req.url).pathname;
      if (path === '/string') return new Response('héllo');
      if (path === '/bytes') return new Response(new TextEncoder().encode('bytes'));
      if (path === '/buffer') return new Response(new TextEncoder().encode('ab').buffer);
      if (path === '/blob') return new Response(new Blob(['blob'], { type: 'text/x-blob' }));
      if (path === '/stream') {
        return new Response(
          new ReadableStream({
            start(c) {
              c.enqueue(new TextEncoder().encode('one '));
              c.enqueue(new TextEncoder().encode('two'));
              c.close();
            },
          }),
        );
      }
      if (path === '/204') return new Response(null, { status: 204 });
      if (path === '/form') return new Response(new URLSearchParams({ a: '1' }));
      return new Response(null, { status: 404, statusText: 'Nothing Here' });
    },
    async (port) => {
      const s = await call(port, '/string');
      assert.equal(s.body, 'héllo');
      assert.equal(s.headers['content-length'], '6');
      assert.equal(s.headers['content-type'], 'text/plain;charset=UTF-8');
      const b = await call(port, '/bytes');
      assert.equal(b.body, 'bytes');
      assert.equal(b.headers['content-type'], undefined);
      assert.equal((await call(port, '/buffer')).body, 'ab');
      const blob = await call(port, '/blob');
      assert.equal(blob.body, 'blob');
      assert.equal(blob.headers['content-type'], 'text/x-blob');
      assert.equal(blob.headers['content-length'], '4');
      const st = await call(port, '/stream');
      assert.equal(st.body, 'one two');
      assert.equal(st.headers['transfer-encoding'], 'chunked');
      const nc = await call(port, '/204');
      assert.equal(nc.status, 204);
      assert.equal(nc.headers['content-length'], undefined);
      const form = await call(port, '/form');
      assert.equal(form.body, 'a=1');
      assert.match(String(form.headers['content-type']), /application\/x-www-form-urlencoded/);
      const nf = await call(port, '/missing');
      assert.equal(nf.status, 404);
      assert.equal(nf.statusText, 'Nothing Here');
      assert.equal(nf.headers['content-length'], '0');
    },
  );
});

test('response headers: object, tuples, Headers with two set-cookie, changed after creation', async () => {
  await serving(
    (req) => {
      const path = new URL(req.url).pathname;
      if (path === '/object')
        return new Response('o', { headers: { 'x-a': '1', 'Content-Type': 'text/html' } });
      if (path === '/tuples') return new Response('t', { headers: [['x-b', '2']] });
      if (path === '/cookies') {
        const h = new Headers();
        h.append('set-cookie', 'a=1');
        h.append('set-cookie', 'b=2');
        return new Response('c', { headers: h });
      }
      const r = new Response('m', { status: 201 });
      r.headers.set('x-later', 'yes');
      return r;
    },
    async (port) => {
      const o = await call(port, '/object');
      assert.equal(o.headers['x-a'], '1');
      assert.equal(o.headers['content-type'], 'text/html');
      assert.equal(o.raw.filter((k) => k.toLowerCase() === 'content-type').length, 1);
      assert.equal((await call(port, '/tuples')).headers['x-b'], '2');
      assert.deepEqual((await call(port, '/cookies')).headers['set-cookie'], ['a=1', 'b=2']);
      const m = await call(port, '/mutated');
      assert.equal(m.status, 201);
      assert.equal(m.headers['x-later'], 'yes');
      assert.equal(m.headers['content-type'], 'text/plain;charset=UTF-8');
    },
  );
});

test('real Responses (redirect, clone) are written too, and are instanceof Response', async () => {
  await serving(
    (req) => {
      const path = new URL(req.url).pathname;
      if (path === '/redirect') return Response.redirect('http://example.com/', 302);
      const r = new Response('cloned', { headers: { 'x-c': '1' } });
      return r.clone();
    },
    async (port) => {
      const r = await call(port, '/redirect');
      assert.equal(r.status, 302);
      assert.equal(r.headers.location, 'http://example.com/');
      const c = await call(port, '/clone');
      assert.equal(c.body, 'cloned');
      assert.equal(c.headers['x-c'], '1');
    },
  );
  assert.ok(Response.redirect('http://example.com/', 302) instanceof Response);
  assert.ok(new Response('x') instanceof Response);
  assert.equal(await new Response('text').text(), 'text');
  assert.throws(() => new Response('x', { status: 99 }), RangeError);
});

test('errors: a throw, a rejection or a non-Response answer 500 and are reported', async () => {
  await serving(
    (req) => {
      const path = new URL(req.url).pathname;
      if (path === '/throw') throw new Error('sync boom');
      if (path === '/reject') return Promise.reject(new Error('async boom'));
      return undefined as unknown as Response;
    },
    async (port, errors) => {
      for (const p of ['/throw', '/reject', '/nothing'])
        assert.equal((await call(port, p)).status, 500);
      assert.deepEqual(
        errors.map((e) => (e as Error).message),
        ['sync boom', 'async boom', 'the fetch handler returned undefined, not a Response'],
      );
    },
  );
});

test('the signal aborts when the client goes away mid-response', async () => {
  let aborted: Promise<unknown> = Promise.resolve(false);
  await serving(
    (req) => {
      aborted = new Promise((done) => req.signal.addEventListener('abort', () => done(true)));
      return new Promise(() => {}); // never answers
    },
    async (port) => {
      const socket = connect(port, '127.0.0.1');
      socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
      await new Promise((r) => setTimeout(r, 100));
      socket.destroy();
      assert.equal(await aborted, true);
    },
  );
});

test('an app that answered through outgoing itself gets nothing more written', async () => {
  await serving(
    (_req, env) => {
      const { outgoing } = env as { outgoing: import('node:http').ServerResponse };
      outgoing.writeHead(202, { 'content-type': 'text/plain' });
      outgoing.end('direct');
      return new Response('ignored');
    },
    async (port, errors) => {
      const r = await call(port);
      assert.equal(r.status, 202);
      assert.equal(r.body, 'direct');
      assert.deepEqual(errors, []);
    },
  );
});
