import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type RequestListener } from 'node:http';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadApp, takesRest, toListener } from '../../src/app/load.ts';
import { parseAppSpec } from '../../src/app/spec.ts';
import { guardUpgrade } from '../../src/app/upgrade.ts';

const apps = fileURLToPath(new URL('../fixtures/apps/', import.meta.url));

/** Serve a listener once on an ephemeral loopback port and GET `path`. */
async function call(
  listener: RequestListener,
  path = '/',
): Promise<{ status: number; body: string }> {
  const server = createServer(listener);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const { port } = server.address() as { port: number };
    const res = await fetch(`http://127.0.0.1:${port}${path}`);
    return { status: res.status, body: await res.text() };
  } finally {
    server.close();
  }
}

function must<T>(v: T | null | undefined): T {
  assert.ok(v, 'shape recognised');
  return v;
}

test('spec parsing: path, path:export, path:factory()', () => {
  assert.deepEqual(parseAppSpec('app.ts'), { file: 'app.ts', exportName: null, call: false });
  assert.deepEqual(parseAppSpec('dist/a.js:app'), {
    file: 'dist/a.js',
    exportName: 'app',
    call: false,
  });
  assert.deepEqual(parseAppSpec('a.mjs:createApp()'), {
    file: 'a.mjs',
    exportName: 'createApp',
    call: true,
  });
  assert.deepEqual(parseAppSpec('./x:y/app.js'), {
    file: './x:y/app.js',
    exportName: null,
    call: false,
  });
});

test('shape detection: listener, fetch object, fetch function, Express-, Koa- and Fastify-like', async () => {
  const listener = await toListener((_req: unknown, res: { end(s: string): void }) => res.end('L'));
  assert.equal(listener?.kind, 'listener');
  assert.equal((await call(must(listener).listener)).body, 'L');

  const fetchObj = await toListener({ fetch: () => new Response('F') });
  assert.equal(fetchObj?.kind, 'fetch');
  assert.equal((await call(must(fetchObj).listener)).body, 'F');

  const fetchFn = await toListener((req: Request) => new Response(new URL(req.url).pathname));
  assert.equal(fetchFn?.kind, 'fetch');
  assert.equal((await call(must(fetchFn).listener, '/p')).body, '/p');

  const express = Object.assign(
    (_q: unknown, res: { end(s: string): void }, _next: unknown) => res.end('E'),
    {
      handle() {},
      listen() {},
    },
  );
  assert.equal((await toListener(express))?.kind, 'express');

  const koa = {
    use() {},
    middleware: [],
    callback: () => (_q: unknown, res: { end(s: string): void }) => res.end('K'),
  };
  const k = await toListener(koa);
  assert.equal(k?.kind, 'koa');
  assert.equal((await call(must(k).listener)).body, 'K');

  let readied = false;
  const fastify = {
    server: {},
    async ready() {
      readied = true;
    },
    routing(_q: unknown, res: { end(s: string): void }) {
      res.end('Y');
    },
  };
  const f = await toListener(fastify);
  assert.equal(f?.kind, 'fastify');
  assert.equal(readied, true, 'ready() awaited before serving');
  assert.equal((await call(must(f).listener)).body, 'Y');

  assert.equal(await toListener(42), null);
  assert.equal(await toListener({ nope: true }), null);
});

test('a zero-length function: a rest parameter is a (req, res) listener, no parameters a fetch handler', async () => {
  // Astro's middleware handler: `async (...args) => …` takes (req, res, next).
  const rest = await toListener(async (...args: unknown[]) => {
    (args[1] as { end(s: string): void }).end('R');
  });
  assert.equal(rest?.kind, 'listener');
  assert.equal((await call(must(rest).listener)).body, 'R');
  const none = await toListener(() => new Response('N'));
  assert.equal(none?.kind, 'fetch');
  assert.equal((await call(must(none).listener)).body, 'N');
  assert.equal(
    takesRest(function (this: unknown, ...a: unknown[]) {
      return a;
    }),
    true,
  );
  assert.equal(
    takesRest(() => 1),
    false,
  );
});

test('loadApp: default export, named export, sync and async factories', async () => {
  assert.equal((await loadApp(`${apps}listener.mjs`)).kind, 'listener');
  assert.equal((await loadApp(`${apps}fetch.ts`)).kind, 'fetch');
  assert.equal((await loadApp(`${apps}factory.mjs:createApp()`)).kind, 'fetch');
  assert.equal((await loadApp(`${apps}factory.mjs:createListener()`)).kind, 'listener');
});

test('loadApp errors say what was found', async () => {
  await assert.rejects(loadApp(`${apps}nope.mjs`), { message: /app file not found: .*nope\.mjs/ });
  await assert.rejects(loadApp(`${apps}factory.mjs`), {
    message: /has no default export; found exports: createApp, createListener, notAnApp/,
  });
  await assert.rejects(loadApp(`${apps}factory.mjs:notAnApp()`), {
    message: /is not a factory function: it is a number/,
  });
  await assert.rejects(loadApp(`${apps}factory.mjs:notAnApp`), {
    message: /is a number \(42\); expected/,
  });
  await assert.rejects(loadApp(`${apps}boot-fail.mjs`), {
    message: /failed to load: database is not reachable/,
  });
});

test('loadApp: the module’s upgrade export comes with the app; a non-function is refused', async () => {
  const ws = await loadApp(fileURLToPath(new URL('../../examples/websocket.mjs', import.meta.url)));
  assert.equal(typeof ws.upgrade, 'function');
  assert.match(ws.description, /with an upgrade listener \(export upgrade\)$/);
  assert.equal((await loadApp(`${apps}listener.mjs`)).upgrade, null);
  await assert.rejects(loadApp(`${apps}bad-upgrade.mjs`), {
    message:
      /export upgrade of .*bad-upgrade\.mjs must be a function \(req, socket, head, \{ signal \}\); it is an object with keys handleUpgrade/,
  });
});

test('guardUpgrade: a throwing or rejecting upgrade listener costs only its own connection', async () => {
  const errors: string[] = [];
  const onError = (err: unknown) => errors.push((err as Error).message);
  const context = { signal: new AbortController().signal };
  const req = {} as IncomingMessage;
  const sync = new PassThrough();
  guardUpgrade(() => {
    throw new Error('sync boom');
  }, onError)(req, sync, Buffer.alloc(0), context);
  assert.equal(sync.destroyed, true);
  const async = new PassThrough();
  guardUpgrade(async () => {
    throw new Error('async boom');
  }, onError)(req, async, Buffer.alloc(0), context);
  await new Promise((r) => setImmediate(r));
  assert.equal(async.destroyed, true);
  const fine = new PassThrough();
  guardUpgrade(() => {}, onError)(req, fine, Buffer.alloc(0), context);
  assert.equal(fine.destroyed, false);
  assert.deepEqual(errors, ['sync boom', 'async boom']);
});
