// The worker's connection list on its own: tracking without a hash table, and how it finds
// slow clients (header and body timeouts) from what node:http leaves on each socket.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { test } from 'node:test';
import { ConnectionList } from '../../src/worker/connections.ts';

/** What the list reads of a socket: node:http's parser and response, and bytes read. */
interface Fake {
  parser: object | null;
  _httpMessage: ServerResponse | null;
  bytesRead: number;
}
const fake = (): Fake => ({ parser: {}, _httpMessage: null, bytesRead: 0 });
const sock = (f: Fake) => f as unknown as Socket;
/** A response in progress whose request has (or has not) arrived in full. */
const answering = (complete: boolean, started: number) =>
  ({ req: { complete }, started }) as unknown as ServerResponse;
const startedAt = (res: ServerResponse) => (res as unknown as { started: number }).started;
/** The slow connections at `now`, keep-alive off. */
const slowAt = (list: ConnectionList, now: number, headerMs: number, bodyMs: number) =>
  list.check(now, { headerMs, bodyMs, idleMs: 0 }, startedAt).slow;
/** The idle keep-alive connections at `now`. */
const idleAt = (list: ConnectionList, now: number, idleMs: number) =>
  list.check(now, { headerMs: 4000, bodyMs: 0, idleMs }, startedAt).idle;

test('add and delete in any order: size, snapshot and idle marks stay right', () => {
  const list = new ConnectionList();
  const all = [fake(), fake(), fake(), fake()].map(sock);
  for (const s of all) list.add(s);
  assert.equal(list.size, 4);
  list.markIdle(all[3] as Socket, 123);
  assert.equal(list.delete(all[1] as Socket), true);
  assert.equal(list.delete(all[1] as Socket), false, 'a second delete is a no-op');
  assert.deepEqual(new Set(list.snapshot()), new Set([all[0], all[2], all[3]]));
  assert.equal(list.idleSince(all[3] as Socket), 123, 'the moved socket keeps its mark');
  assert.equal(list.delete(all[3] as Socket), true);
  assert.equal(list.delete(all[0] as Socket), true);
  assert.equal(list.delete(all[2] as Socket), true);
  assert.equal(list.size, 0);
  list.markIdle(all[0] as Socket, 5);
  assert.equal(list.idleSince(all[0] as Socket), 0, 'an untracked socket is never marked');
});

test('a connection that opens and sends nothing is slow once the header timeout has passed', () => {
  const list = new ConnectionList();
  const f = fake();
  list.add(sock(f));
  assert.deepEqual(slowAt(list, 1000, 4000, 0), [], 'first look starts the clock');
  assert.deepEqual(slowAt(list, 4999, 4000, 0), []);
  assert.deepEqual(slowAt(list, 5000, 4000, 0), [sock(f)]);
});

test('a head trickling in after a served request is slow from its first new byte', () => {
  const list = new ConnectionList();
  const f = fake();
  list.add(sock(f));
  // The first request arrives and is answered.
  list.countRequest(sock(f));
  f._httpMessage = answering(true, 0);
  f.bytesRead = 100;
  assert.deepEqual(slowAt(list, 1000, 4000, 0), []);
  f._httpMessage = null;
  // Idle keep-alive connection: never slow however long it waits (keep-alive's business:
  // off here).
  assert.deepEqual(slowAt(list, 2000, 4000, 0), []);
  assert.deepEqual(slowAt(list, 60_000, 4000, 0), []);
  // Bytes of a next head arrive and keep trickling, never complete.
  f.bytesRead = 101;
  assert.deepEqual(slowAt(list, 61_000, 4000, 0), [], 'first new byte seen');
  f.bytesRead = 102;
  assert.deepEqual(slowAt(list, 64_999, 4000, 0), []);
  assert.deepEqual(slowAt(list, 65_000, 4000, 0), [sock(f)]);
});

test('a request whose body is still arriving after the body timeout is slow; a complete one is not', () => {
  const list = new ConnectionList();
  const uploading = fake();
  const done = fake();
  list.add(sock(uploading));
  list.add(sock(done));
  uploading._httpMessage = answering(false, 100);
  done._httpMessage = answering(true, 100);
  assert.deepEqual(slowAt(list, 5099, 4000, 5000), []);
  assert.deepEqual(slowAt(list, 5100, 4000, 5000), [sock(uploading)]);
  assert.deepEqual(slowAt(list, 5100, 4000, 0), [], 'body timeout off');
});

test('connections without an HTTP/1 parser (TLS handshake, HTTP/2, upgraded) are not looked at', () => {
  const list = new ConnectionList();
  const f = fake();
  f.parser = null;
  list.add(sock(f));
  assert.deepEqual(slowAt(list, 0, 1000, 1000), []);
  assert.deepEqual(slowAt(list, 10_000, 1000, 1000), []);
});

test('a keep-alive connection idle past --keep-alive after its last response is idle; a busy one is not', () => {
  const list = new ConnectionList();
  const f = fake();
  list.add(sock(f));
  assert.deepEqual(idleAt(list, 0, 5000), [], 'a new connection is the header timeout’s');
  list.countRequest(sock(f));
  f._httpMessage = answering(true, 0);
  f.bytesRead = 80;
  assert.deepEqual(idleAt(list, 1000, 5000), []);
  f._httpMessage = null;
  assert.deepEqual(idleAt(list, 2000, 5000), [], 'idle from this look on');
  assert.deepEqual(idleAt(list, 6999, 5000), []);
  assert.deepEqual(idleAt(list, 7000, 5000), [sock(f)]);
  // A next request arrives and is answered: idle counts again from after it.
  list.countRequest(sock(f));
  f.bytesRead = 160;
  assert.deepEqual(idleAt(list, 7500, 5000), []);
  assert.deepEqual(idleAt(list, 12_499, 5000), []);
  assert.deepEqual(idleAt(list, 12_500, 5000), [sock(f)]);
  // Bytes of a next head: not idle any more (a head that stalls is the header timeout's).
  f.bytesRead = 170;
  assert.deepEqual(idleAt(list, 13_000, 5000), []);
  assert.deepEqual(idleAt(list, 60_000, 5000), []);
  assert.deepEqual(idleAt(list, 60_000, 0), [], 'keep-alive checks off');
});

test('storing the first times changes no field representation on sockets (one shape for node:http)', () => {
  // A time field that first held a small integer changes representation on its first double:
  // V8 then gives sockets new hidden classes and drops optimised code for node:http's whole
  // request path (36 deoptimisations in a worker's first seconds of load, against 6). V8's
  // --trace-generalization names every field change with the line that caused it.
  const script = `
    import { Socket } from 'node:net';
    import { ConnectionList } from ${JSON.stringify(new URL('../../src/worker/connections.ts', import.meta.url).href)};
    const list = new ConnectionList();
    const [a, b] = [new Socket(), new Socket()];
    list.add(a);
    list.add(b);
    list.markIdle(a, Date.now());
    const limits = { headerMs: 4000, bodyMs: 0, idleMs: 5000 };
    list.check(performance.now() + 0.5, limits, () => 0);
    list.check(performance.now() + 0.25, limits, () => 0);
  `;
  const out = execFileSync(
    process.execPath,
    ['--trace-generalization', '--input-type=module', '-e', script],
    { encoding: 'utf8' },
  );
  const ours = out.split('\n').filter((l) => l.includes('worker/connections.ts'));
  assert.ok(ours.length > 0, `the trace names connections.ts (const to mutable fields):\n${out}`);
  // "s{…}->d{…}": Smi to double. Any change of the letter is a change of representation,
  // except from "v" (a field not yet initialised, taking its first value).
  const changed = ours.filter((l) => {
    const m = /\b([a-z])\{[^}]*\}->([a-z])\{/.exec(l);
    return m !== null && m[1] !== 'v' && m[1] !== m[2];
  });
  assert.deepEqual(changed, []);
});
