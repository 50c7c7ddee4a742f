// The worker's connection list on its own: tracking without a hash table, and how it finds
// slow clients (header and body timeouts) from what node:http leaves on each socket.
import assert from 'node:assert/strict';
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
  assert.deepEqual(list.slow(1000, 4000, 0, startedAt), [], 'first look starts the clock');
  assert.deepEqual(list.slow(4999, 4000, 0, startedAt), []);
  assert.deepEqual(list.slow(5000, 4000, 0, startedAt), [sock(f)]);
});

test('a head trickling in after a served request is slow from its first new byte', () => {
  const list = new ConnectionList();
  const f = fake();
  list.add(sock(f));
  // The first request arrives and is answered.
  list.countRequest(sock(f));
  f._httpMessage = answering(true, 0);
  f.bytesRead = 100;
  assert.deepEqual(list.slow(1000, 4000, 0, startedAt), []);
  f._httpMessage = null;
  // Idle keep-alive connection: never slow however long it waits (keep-alive's business).
  assert.deepEqual(list.slow(2000, 4000, 0, startedAt), []);
  assert.deepEqual(list.slow(60_000, 4000, 0, startedAt), []);
  // Bytes of a next head arrive and keep trickling, never complete.
  f.bytesRead = 101;
  assert.deepEqual(list.slow(61_000, 4000, 0, startedAt), [], 'first new byte seen');
  f.bytesRead = 102;
  assert.deepEqual(list.slow(64_999, 4000, 0, startedAt), []);
  assert.deepEqual(list.slow(65_000, 4000, 0, startedAt), [sock(f)]);
});

test('a request whose body is still arriving after the body timeout is slow; a complete one is not', () => {
  const list = new ConnectionList();
  const uploading = fake();
  const done = fake();
  list.add(sock(uploading));
  list.add(sock(done));
  uploading._httpMessage = answering(false, 100);
  done._httpMessage = answering(true, 100);
  assert.deepEqual(list.slow(5099, 4000, 5000, startedAt), []);
  assert.deepEqual(list.slow(5100, 4000, 5000, startedAt), [sock(uploading)]);
  assert.deepEqual(list.slow(5100, 4000, 0, startedAt), [], 'body timeout off');
});

test('connections without an HTTP/1 parser (TLS handshake, HTTP/2, upgraded) are not looked at', () => {
  const list = new ConnectionList();
  const f = fake();
  f.parser = null;
  list.add(sock(f));
  assert.deepEqual(list.slow(0, 1000, 1000, startedAt), []);
  assert.deepEqual(list.slow(10_000, 1000, 1000, startedAt), []);
});
