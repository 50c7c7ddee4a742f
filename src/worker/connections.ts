/**
 * The open connections of a worker and what corral keeps about each: kept on the sockets
 * themselves, in an array, without a hash table. A JS Set of sockets kept every closed socket
 * reachable until the Set rehashed: under connection churn V8 then copied and promoted each
 * of them (~3 MB a scavenge, GC 3–5× a plain node:http process's, measured with --trace-gc
 * at 15k connections/s). Here a closed socket's slot is overwritten at once.
 *
 * It also finds slow clients (`--header-timeout`, `--body-timeout`) by looking at every
 * connection once per check, in place of node:http's own connection tracking, which costs a
 * sorted-set update in C++ per connection and per request (10% of a hello world's CPU with a
 * new connection per request, 3% with keep-alive, measured on Node 24).
 */
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

const INDEX = Symbol('corral.index');
const IDLE_SINCE = Symbol('corral.idleSince');
const SERVED = Symbol('corral.served');
/** SERVED as of the last look at the connection (-1: never looked at). */
const SEEN_SERVED = Symbol('corral.seenServed');
/** Bytes read when the connection was last seen between requests. */
const SEEN_BYTES = Symbol('corral.seenBytes');
/** When a request head was first seen arriving (0: none is). */
const HEAD_SINCE = Symbol('corral.headSince');

/** A tracked socket, and node:http's fields read here. */
type Tracked = Socket & {
  [INDEX]: number;
  [IDLE_SINCE]: number;
  [SERVED]: number;
  [SEEN_SERVED]: number;
  [SEEN_BYTES]: number;
  [HEAD_SINCE]: number;
  parser?: unknown;
  _httpMessage?: ServerResponse | null;
};

export class ConnectionList {
  readonly #all: Tracked[] = [];

  get size(): number {
    return this.#all.length;
  }

  /**
   * Start tracking. Every property is set here, before node:http adds its own, so every socket
   * has the same shape through node's code (a property added on a socket's first request gave
   * node's functions two shapes to handle).
   */
  add(socket: Socket): void {
    const s = socket as Tracked;
    s[INDEX] = this.#all.length;
    s[IDLE_SINCE] = 0;
    s[SERVED] = 0;
    s[SEEN_SERVED] = -1;
    s[SEEN_BYTES] = 0;
    s[HEAD_SINCE] = 0;
    this.#all.push(s);
  }

  /** Stop tracking; false when it was not tracked (already removed). */
  delete(socket: Socket): boolean {
    const s = socket as Tracked;
    const i = s[INDEX];
    if (i === undefined || i < 0 || this.#all[i] !== s) return false;
    const last = this.#all.pop() as Tracked;
    if (last !== s) {
      this.#all[i] = last;
      last[INDEX] = i;
    }
    s[INDEX] = -1;
    s[IDLE_SINCE] = 0;
    return true;
  }

  /** The sockets open now (a copy: closing one while walking it is safe). */
  snapshot(): Socket[] {
    return this.#all.slice();
  }

  /** A request arrived on this connection. */
  countRequest(socket: Socket): void {
    const s = socket as Tracked;
    if (s[SERVED] !== undefined) s[SERVED]++;
  }

  /** Requests that arrived on this connection. */
  served(socket: Socket): number {
    return (socket as Tracked)[SERVED] ?? 0;
  }

  /** When this socket went idle (Date.now()); 0: not marked idle. */
  idleSince(socket: Socket): number {
    return (socket as Tracked)[IDLE_SINCE] ?? 0;
  }

  /** Mark a tracked socket idle since `at` (0: not idle). */
  markIdle(socket: Socket, at: number): void {
    const s = socket as Tracked;
    if (s[INDEX] >= 0) s[IDLE_SINCE] = at;
  }

  /** Forget every idle mark. */
  clearIdle(): void {
    for (const s of this.#all) s[IDLE_SINCE] = 0;
  }

  /**
   * The HTTP/1 connections that are too slow at `now` (performance.now()): a request head
   * arriving for `headerMs` or more (counted from the connection's first check for its first
   * request: a client that opens and sends nothing is slow too), or a request answered for
   * `bodyMs` or more whose body has not all arrived (`startedAt`: when its head was complete).
   * Run every quarter of the shorter timeout at most (every second at most): a slow client is
   * found within its timeout plus two runs. Connections without node:http's parser (a TLS handshake, HTTP/2, an upgrade)
   * are not looked at. 0 turns a timeout off.
   */
  slow(
    now: number,
    headerMs: number,
    bodyMs: number,
    startedAt: (res: ServerResponse) => number,
  ): Socket[] {
    const slow: Socket[] = [];
    for (const s of this.#all) {
      if (!s.parser) continue;
      const res = s._httpMessage;
      if (res) {
        s[HEAD_SINCE] = 0;
        const req = res.req;
        if (bodyMs > 0 && req && !req.complete && now - startedAt(res) >= bodyMs) slow.push(s);
        continue;
      }
      if (headerMs === 0) continue;
      const read = s.bytesRead;
      if (s[SEEN_SERVED] !== s[SERVED]) {
        // First look, or a request was answered since: the bytes so far are accounted for. A
        // new connection's first head is due from now; a later one from its first new byte (a
        // head that stalls is ended by the keep-alive timeout, which only data restarts).
        s[HEAD_SINCE] = s[SERVED] === 0 ? now : 0;
        s[SEEN_SERVED] = s[SERVED];
        s[SEEN_BYTES] = read;
      } else if (s[HEAD_SINCE] === 0) {
        if (read > s[SEEN_BYTES]) s[HEAD_SINCE] = now;
      } else if (now - s[HEAD_SINCE] >= headerMs) {
        slow.push(s);
      }
    }
    return slow;
  }
}
