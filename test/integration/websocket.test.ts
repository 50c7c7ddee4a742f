// WebSockets through corral: the app's `upgrade` export on every worker's server (the ws
// library), a real client round trip, and a draining worker telling its clients to go away.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startCorral } from '../helpers/corral.ts';

const APP = 'examples/websocket.mjs';

function wsUrl(httpUrl: string): string {
  return `${httpUrl.replace(/^http/, 'ws')}/`;
}

/** Open a WebSocket and resolve once it is open. */
function connect(url: string): Promise<WebSocket> {
  return new Promise((done, fail) => {
    const ws = new WebSocket(url);
    ws.onopen = () => done(ws);
    ws.onerror = () => fail(new Error(`could not open ${url}`));
  });
}

/** Send one message and resolve with the reply. */
function roundTrip(ws: WebSocket, text: string): Promise<string> {
  return new Promise((done, fail) => {
    ws.onmessage = (m) => done(String(m.data));
    ws.onclose = (e) => fail(new Error(`closed ${e.code} before a reply`));
    ws.send(text);
  });
}

function closed(ws: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((done) => {
    ws.onclose = (e) => done({ code: e.code, reason: e.reason });
  });
}

test('ws echo through 2 workers: every client gets its echo, and both workers serve', async () => {
  const server = await startCorral([APP, '-w', '2', '-b', '127.0.0.1:0']);
  try {
    const clients = await Promise.all(Array.from({ length: 6 }, () => connect(wsUrl(server.url))));
    const replies = await Promise.all(clients.map((ws, i) => roundTrip(ws, `hello ${i}`)));
    const pids = new Set<string>();
    replies.forEach((reply, i) => {
      const m = /^echo from pid (\d+): hello (\d+)$/.exec(reply);
      assert.ok(m, reply);
      assert.equal(m[2], String(i));
      pids.add(m[1] as string);
    });
    // least-conn hands each new connection to the worker holding fewer: both take some.
    assert.equal(pids.size, 2, `both workers echoed: ${[...pids].join(', ')}`);
    for (const ws of clients) ws.close();
  } finally {
    assert.equal(await server.stop(), 0);
  }
});

test('HUP: open WebSockets are closed with 1001 by the draining worker; new ones reach the new workers', async () => {
  const server = await startCorral([APP, '-w', '2', '-b', '127.0.0.1:0']);
  try {
    const old = await connect(wsUrl(server.url));
    const oldPid = /pid (\d+)/.exec(await roundTrip(old, 'before'))?.[1];
    const goneAway = closed(old);
    server.proc.kill('SIGHUP');
    assert.deepEqual(await goneAway, { code: 1001, reason: 'server restarting' });
    await server.waitFor(/exited \(code 0\)[\s\S]*exited \(code 0\)/);
    const fresh = await connect(wsUrl(server.url));
    const newPid = /pid (\d+)/.exec(await roundTrip(fresh, 'after'))?.[1];
    assert.notEqual(newPid, oldPid);
    fresh.close();
  } finally {
    assert.equal(await server.stop(), 0);
  }
});

test('single-process mode serves upgrades too', async () => {
  const server = await startCorral([APP, '-w', '0', '-b', '127.0.0.1:0']);
  try {
    const ws = await connect(wsUrl(server.url));
    assert.match(
      await roundTrip(ws, 'solo'),
      new RegExp(`^echo from pid ${server.proc.pid}: solo$`),
    );
    const bye = closed(ws);
    ws.close();
    await bye;
  } finally {
    assert.equal(await server.stop(), 0);
  }
});
