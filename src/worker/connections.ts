/**
 * The open connections of a worker and what corral keeps about each: kept on the sockets
 * themselves, in an array, without a hash table. A JS Set of sockets kept every closed socket
 * reachable until the Set rehashed: under connection churn V8 then copied and promoted each
 * of them (~3 MB a scavenge, GC 3–5× a plain node:http process's, measured with --trace-gc
 * at 15k connections/s). Here a closed socket's slot is overwritten at once.
 *
 * It also finds slow clients (`--header-timeout`, `--body-timeout`) and idle keep-alive
 * connections (`--keep-alive`) by looking at every connection once per check, in place of
 * node:http's own connection tracking, which costs a sorted-set update in C++ per connection
 * and per request (10% of a hello world's CPU with a new connection per request, 3% with
 * keep-alive, measured on Node 24), and of its keep-alive timer, a Timeout and a bound
 * function per keep-alive request (3.5%).
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
/** When the connection was first seen idle after a response (0: it is not). */
const IDLE_FROM = Symbol('corral.idleFrom');

/**
 * "No time yet" for the time fields: zero, but a double. They later hold Date.now() and
 * performance.now(), which are doubles; a small-integer 0 stored first made V8 change the
 * representation of the field on the first time stored, which changes the shape of every
 * socket and throws away the optimised code of node:http's whole request path (measured: 36
 * deoptimisations in the first seconds of load against node:cluster's 6, p99 2× its).
 */
export const NO_TIME = -0;

/** A tracked socket, and node:http's fields read here. */
type Tracked = Socket & {
  [INDEX]: number;
  [IDLE_SINCE]: number;
  [SERVED]: number;
  [SEEN_SERVED]: number;
  [SEEN_BYTES]: number;
  [HEAD_SINCE]: number;
  [IDLE_FROM]: number;
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
    s[IDLE_SINCE] = NO_TIME;
    s[SERVED] = 0;
    s[SEEN_SERVED] = -1;
    s[SEEN_BYTES] = 0;
    s[HEAD_SINCE] = NO_TIME;
    s[IDLE_FROM] = NO_TIME;
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
   * Look at every HTTP/1 connection at `now` (performance.now()). `slow`: a request head
   * arriving for `headerMs` or more (for a connection's first request, counted from its first
   * look: a client that opens and sends nothing is slow too), or a request answered for
   * `bodyMs` or more whose body has not all arrived (`startedAt`: when its head was complete).
   * `idle`: no request and no new byte for `idleMs` or more since the last response (the
   * keep-alive timeout). Run every quarter of the shortest at most, every second at most: each
   * is found within its limit plus two looks (node:http closes keep-alive connections a second
   * after the advertised timeout). Connections without node:http's parser (a TLS handshake,
   * HTTP/2, an upgrade) are not looked at. 0 turns a check off.
   */
  check(
    now: number,
    limits: { readonly headerMs: number; readonly bodyMs: number; readonly idleMs: number },
    startedAt: (res: ServerResponse) => number,
  ): { slow: Socket[]; idle: Socket[] } {
    const { headerMs, bodyMs, idleMs } = limits;
    const slow: Socket[] = [];
    const idle: Socket[] = [];
    for (const s of this.#all) {
      if (!s.parser) continue;
      const res = s._httpMessage;
      if (res) {
        s[HEAD_SINCE] = 0;
        const req = res.req;
        if (bodyMs > 0 && req && !req.complete && now - startedAt(res) >= bodyMs) slow.push(s);
        continue;
      }
      if (headerMs === 0 && idleMs === 0) continue;
      const read = s.bytesRead;
      if (s[SEEN_SERVED] !== s[SERVED]) {
        // First look, or a request was answered since: the bytes so far are accounted for. A
        // new connection's first head is due from now; after a response the connection is
        // idle from now, until a new byte starts the next head (a head that then stalls is
        // the header timeout's).
        s[HEAD_SINCE] = s[SERVED] === 0 ? now : 0;
        s[IDLE_FROM] = s[SERVED] === 0 ? 0 : now;
        s[SEEN_SERVED] = s[SERVED];
        s[SEEN_BYTES] = read;
      } else if (s[HEAD_SINCE] === 0) {
        if (read > s[SEEN_BYTES]) {
          s[HEAD_SINCE] = now;
          s[IDLE_FROM] = 0;
        } else if (idleMs > 0 && s[IDLE_FROM] > 0 && now - s[IDLE_FROM] >= idleMs) {
          idle.push(s);
        }
      } else if (headerMs > 0 && now - s[HEAD_SINCE] >= headerMs) {
        slow.push(s);
      }
    }
    return { slow, idle };
  }
}
