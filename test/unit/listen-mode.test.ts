// listen() of HTTP servers intercepted in this process: nothing binds, address() is the bind.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer as createHttp } from 'node:http';
import { createServer as createHttp2 } from 'node:http2';
import { createServer as createHttps } from 'node:https';
import { createServer as createNet } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { alternativeEntry } from '../../src/worker/app-mode.ts';
import { ListenInterceptor } from '../../src/worker/listen-mode.ts';

const bind = { address: '127.0.0.1', family: 'IPv4', port: 8123 } as const;
const others: string[] = [];
let closedByApp = 0;
const intercept = ListenInterceptor.install({
  bind,
  onOther: (role, asked) => others.push(`${role} ${asked}`),
  onPrimaryClose: () => closedByApp++,
});

test('an HTTP server: no bind, address() is corral’s, the callback and listening fire later', async () => {
  const handler = () => {};
  const server = createHttp(handler);
  let called = false;
  server.listen(3000, 'localhost', () => {
    called = true;
  });
  assert.equal(called, false, 'not synchronously');
  await once(server, 'listening');
  assert.equal(called, true);
  assert.deepEqual(server.address(), bind);
  assert.equal(server.listening, true);
  assert.equal(intercept.primary, server);
  assert.equal(intercept.asked, 'port 3000 on localhost');
  // A second server with the same handler (Fastify on localhost): an alias, silently.
  const alias = createHttp(handler);
  alias.listen({ port: 3000, host: '::1' });
  assert.deepEqual(alias.address(), bind);
  // Another server with its own handler: not served, reported with what it asked for.
  const admin = createHttp(() => {});
  admin.listen(9100);
  assert.deepEqual(others, ['alias port 3000 on ::1', 'extra port 9100']);
  assert.deepEqual(admin.address(), { address: '127.0.0.1', family: 'IPv4', port: 9100 });
  // https and http2 servers are HTTP servers too.
  const secure = createHttps();
  secure.listen(443);
  const h2 = createHttp2();
  h2.listen(8443);
  assert.equal(secure.listening && h2.listening, true);
  // The app closes its first server: corral is told (the worker drains); once drained, the
  // close callback runs without error; a second close says the server is not running.
  server.close();
  assert.equal(closedByApp, 1);
  intercept.markDrained();
  const err = await new Promise((done) => admin.close(done));
  assert.equal(err, undefined);
  const again = await new Promise((done) => admin.close(done));
  assert.equal((again as { code?: string }).code, 'ERR_SERVER_NOT_RUNNING');
  assert.ok(intercept.closeAll() >= 0);
  assert.equal(server.listening, false);
});

test('a plain net.Server is left alone: it binds for real', async () => {
  const s = createNet();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const a = s.address();
  assert.ok(a && typeof a === 'object' && a.port > 0 && a.port !== bind.port);
  s.close();
});

test('a framework build’s listening entry names its handler entry in messages', () => {
  const dir = mkdtempSync(join(tmpdir(), 'corral-build-'));
  mkdirSync(join(dir, 'build'));
  writeFileSync(join(dir, 'build', 'index.js'), '');
  writeFileSync(join(dir, 'build', 'handler.js'), '');
  assert.match(
    String(alternativeEntry(join(dir, 'build', 'index.js'))),
    /handler\.js, which exports its handler/,
  );
  assert.match(String(alternativeEntry('/app/.output/server/index.mjs')), /node-listener preset/);
  assert.match(String(alternativeEntry('/app/dist/server/entry.mjs')), /entry\.mjs:handler/);
  assert.match(String(alternativeEntry('/app/.next/standalone/server.js')), /getRequestHandler/);
  assert.equal(alternativeEntry('/app/server.js'), null);
});
