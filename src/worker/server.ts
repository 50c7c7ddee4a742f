/**
 * The HTTP server a worker (or the master in single-process mode) runs around the app:
 * counts requests, enforces the per-request timeout, tracks connections, and drains without
 * resetting anyone.
 */
import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import type { Http2ServerRequest, ServerHttp2Session } from 'node:http2';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import type { UpgradeListener } from '../app/upgrade.ts';
import type { Wire, WireTls } from '../config/tls.ts';
import type { ListenPlan } from '../ipc.ts';
import type { AccessLog } from '../log/access.ts';
import { RequestStats } from '../metrics/stats.ts';
import { type ForwardedPolicy, POLICY, schemeConflict } from '../proxy/client.ts';
import { AcceptGate } from './accept-gate.ts';
import { ConnectionList, NO_TIME } from './connections.ts';
import {
  closing,
  connectionCheckEveryMs,
  httpOptions,
  type Limits,
  type OnRefused,
  refuseRequest,
  refuseUpgrade,
  silence,
} from './limits.ts';
import { carryPeer, type ProxyProtocolOptions, readProxyHeader } from './proxy-protocol.ts';
import { createServers, type WireServers } from './wire.ts';

/**
 * When draining, a keep-alive connection that was idle is closed only after this long without
 * a new request: a client that sends one in that window gets an answer with `Connection:
 * close` instead of a reset from a connection closed under it.
 */
const IDLE_GRACE_MS = 1000;

export interface AppServerOptions {
  readonly listener: RequestListener;
  /** Cleartext HTTP/1 unless TLS or HTTP/2 is configured (config/tls.ts). */
  readonly wire?: Wire;
  /** The app's `'upgrade'` listener (WebSocket), if it exports one. */
  readonly upgrade?: UpgradeListener | null;
  /** Seconds an idle keep-alive connection stays open; 0 = close after each response. */
  readonly keepAlive: number;
  /**
   * Most connections held at once: at the cap this worker stops accepting from shared
   * sockets (the master holds back handed-off ones) and closes keep-alive connections idle
   * for a second.
   */
  readonly connectionCap: number;
  /** Seconds a request may run before it is answered 503; 0 = no limit. */
  readonly requestTimeout: number;
  readonly accessLog: AccessLog | null;
  /** Request limits, strict parsing and slow-client timeouts (limits.ts). */
  readonly limits: Limits;
  /** A request or connection was refused by a limit or as malformed: log it. */
  readonly onRefused: OnRefused;
  /** Runs before the app sees the request; the request waits for a returned promise. */
  readonly beforeRequest?: (req: IncomingMessage) => unknown;
  /** Runs after each response is done (finished or aborted). */
  readonly afterRequest?: (req: IncomingMessage, res: ServerResponse, requests: number) => void;
  /** A request ran past the request timeout and was cut. */
  readonly onRequestTimeout?: (req: IncomingMessage, ranMs: number) => void;
  /** Called when a handed-off connection closes. */
  readonly onHandoffClosed?: () => void;
  /**
   * The number of open connections changed (shared dispatch reports it to the master);
   * `steered`: the master's share binds now (most connections carry several requests);
   * `held`: it stopped accepting at its share (the master needs the exact count to raise it).
   */
  readonly onConnections?: (open: number, steered: boolean, held: boolean) => void;
  /** Which peers' forwarded headers count (`--forwarded-allow-ips`); null: none. */
  readonly forwarded?: ForwardedPolicy | null;
  /** Read a PROXY protocol header before HTTP (`--proxy-protocol`); null: off. */
  readonly proxyProtocol?: ProxyProtocolOptions | null;
  /** A request was refused before the app saw it (conflicting scheme headers). */
  readonly onBadForwarding?: (req: IncomingMessage, reason: string) => void;
}

/**
 * The compat request of an HTTP/2 stream has a `stream`; node:http's requests have none, also
 * when their request line claims `HTTP/2.0` (refused by limits.ts as HTTP/1 input).
 */
const isH2 = (req: IncomingMessage) => (req as { stream?: unknown }).stream !== undefined;

type WithMessage = Socket & { _httpMessage?: ServerResponse | null };
/** The TCP socket under a TLS socket (node:tls keeps it; no public accessor). */
type Wrapping = TLSSocket & { _parent?: Socket };
const CLEARTEXT_H1: Wire = { tls: null, h1: true, h2: false };
/** On a socket that runs an HTTP/2 session: the session. */
const SESSION = Symbol('corral.h2session');
type Carrying = Socket & { [SESSION]?: ServerHttp2Session };

/**
 * How often a worker held at its fair share looks for connections nobody took (see #probe);
 * the master answers a report in about a millisecond, so a probe finds some only when every
 * worker is held, a sibling is stalled or the master is.
 */
const PROBE_MS = 10;
/** One-request connections closed per second from which the fair share stops binding. */
const CHURN_PER_S = 100;

/** When a response's request started (performance.now()), kept on the response itself. */
const STARTED = Symbol('corral.started');
/** Node's global `performance` is a getter: read once, not on every request. */
const clock = globalThis.performance;
type Timed = ServerResponse & { [STARTED]: number };
/** node:http writes `Keep-Alive: timeout=` from this (ms), read when the head is written. */
type KeepAliveHeader = ServerResponse & { _keepAliveTimeout: number };

export class AppServer {
  readonly http: Server;
  requests = 0;
  inFlight = 0;
  /** Status classes and latency, for the heartbeat (and so for /metrics). */
  readonly stats = new RequestStats();
  readonly #o: AppServerOptions;
  /** Open connections (a list, not a Set: see connections.ts). */
  readonly #sockets = new ConnectionList();
  readonly #listeners: NetServer[] = [];
  /** Pauses accepting on the listeners: at the cap, or above the master's fair share. */
  readonly #gate = new AcceptGate();
  /** The master's fair share for this worker (0: none). */
  #share = 0;
  /** Connections closed this second, after one request or more (see #closedAfter). */
  readonly #window = { start: NO_TIME, once: 0, more: 0 };
  #churned = false;
  readonly #wire: WireServers;
  /** Open HTTP/2 sessions (their sockets carry them too, under SESSION). */
  readonly #sessions = new Set<ServerHttp2Session>();
  /** Requests in flight; kept only when a request timeout is set. */
  readonly #running = new Set<Timed>();
  /** The one 'close' listener every response gets (`this` is the response): no closure each. */
  readonly #closed: (this: ServerResponse) => void;
  #sweep: NodeJS.Timeout | null = null;
  #drainPromise: Promise<void> | null = null;
  /** Due for replacement: keep serving, but send keep-alive clients elsewhere. */
  #leaving = false;
  /** At its memory limit: it accepts no new connections either (shared dispatch). */
  #full = false;
  #drained: (() => void) | null = null;
  /** Connections the app took over with an upgrade: never closed by the idle sweep. */
  readonly #upgraded = new WeakSet<Duplex>();
  /** Aborted when draining starts, so the app can close its upgraded connections. */
  readonly #draining = new AbortController();

  constructor(opts: AppServerOptions) {
    this.#o = opts;
    const server = this;
    this.#closed = function (this: ServerResponse) {
      server.#done(this as Timed);
    };
    this.#untrack = function (this: Socket) {
      server.#untracked(this);
    };
    const { maxHeadersCount, ...limitOptions } = httpOptions(opts.limits);
    this.#keepAliveMs = opts.keepAlive * 1000;
    this.#wire = createServers(opts.wire ?? CLEARTEXT_H1, this.#handle, {
      ...limitOptions,
      maxHeadersCount,
    });
    this.http = this.#wire.main;
    // Expect: 100-continue: refuse an oversized body before the client sends it.
    for (const s of this.#wire.all) {
      s.on('checkContinue', (req: IncomingMessage, res: ServerResponse) =>
        this.#serve(req, res, true),
      );
    }
    // clientOf(req) finds the policy through req.socket.server (proxy/client.ts).
    if (opts.forwarded) {
      for (const s of [...this.#wire.all, this.#wire.secure]) {
        if (s) Object.assign(s, { [POLICY]: opts.forwarded });
      }
    }
    // node:http would start its own connection tracking on 'listening', which is never
    // emitted here (the server never listens itself): corral tracks connections and finds
    // slow clients itself (connections.ts), for less than node's tracking costs.
    const checkEvery = connectionCheckEveryMs(opts.limits, this.#keepAliveMs);
    if (checkEvery > 0) setInterval(() => this.#checkConnections(), checkEvery).unref();
    // Over TLS, node:http's per-connection state lives on the TLS socket: track that one
    // from the handshake on, in place of the TCP socket under it.
    this.#wire.secure?.on('secureConnection', (tls: Wrapping) => {
      const raw = tls._parent;
      if (!raw || !this.#sockets.delete(raw)) return;
      raw.off('close', this.#untrack);
      carryPeer(raw, tls);
      this.#track(tls);
    });
    if (opts.wire?.h2) {
      for (const s of this.#wire.all) {
        s.on('session', (session: ServerHttp2Session) => this.#session(session));
      }
    }
    const { upgrade } = opts;
    if (upgrade) {
      const context = { signal: this.#draining.signal };
      this.http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
        if (refuseUpgrade(req, socket as Socket, opts.limits, opts.onRefused)) return;
        this.#upgraded.add(socket);
        // The sweep may have marked it idle when it connected: from now on it is the app's.
        this.#sockets.markIdle(socket as Socket, 0);
        upgrade(req, socket, head, context);
      });
    }
    if (opts.requestTimeout > 0) {
      const every = Math.min(1000, Math.max(50, (opts.requestTimeout * 1000) / 4));
      setInterval(() => this.#cutSlowRequests(), every).unref();
    }
  }

  /**
   * Count a connection until it closes; at the cap, start closing idle keep-alive ones. The
   * socket gets corral's properties here, before node:http adds its own, so every socket keeps
   * one shape from now on (a property added on its first request gave node's own functions
   * two shapes to handle); one shared 'close' listener, no closure per connection.
   */
  #track(socket: Socket): void {
    this.#sockets.add(socket);
    this.#counted();
    if (this.#sockets.size >= this.#o.connectionCap) this.#squeeze();
    socket.on('close', this.#untrack);
  }

  /** A tracked connection closed (`this` is its socket). */
  readonly #untrack: (this: Socket) => void;

  #untracked(socket: Socket): void {
    const served = this.#sockets.served(socket);
    if (!this.#sockets.delete(socket)) return;
    this.#closedAfter(served);
    this.#counted();
    this.#checkDrained();
  }

  /**
   * After every change of the connection count: close the gate at once when at the limit (a
   * 'connection' listener that closes it ends libuv's accept loop), reopen it at the end of the
   * event-loop turn (connections come and go many times a turn under churn: one toggle, not
   * one per connection); tell who asked.
   */
  #counted(): void {
    const n = this.#sockets.size;
    const churning = this.#churning();
    const limit = this.#limit(churning);
    const cap = this.#o.connectionCap;
    const stopped = this.#drainPromise !== null || this.#full;
    if (stopped || n >= (this.#probing ? cap : limit)) this.#gate.open = false;
    else if (!this.#gate.open) this.#reopen ??= setImmediate(this.#reopenGate);
    this.#held = n >= limit && limit < cap && !stopped;
    if (this.#held && this.#probeTimer === null && !this.#probing) {
      this.#probeTimer = setTimeout(this.#probe, PROBE_MS).unref();
    }
    this.#o.onConnections?.(n, !churning, this.#held);
  }

  /**
   * Connection churn: in the last second, at least CHURN_PER_S connections closed, most of
   * them after a single request. Counted per second, in two windows.
   */
  #closedAfter(served: number): void {
    const now = clock.now();
    this.#clock = now;
    const w = this.#window;
    if (now - w.start >= 1000) {
      // The window that ends now says whether it churned, if it was the last second's.
      this.#churned = now - w.start < 2000 && w.once >= CHURN_PER_S && w.once > w.more;
      w.start = now;
      w.once = 0;
      w.more = 0;
    }
    if (served <= 1) w.once++;
    else w.more++;
    if (!this.#churned && w.once >= CHURN_PER_S && w.once > w.more) this.#churned = true;
  }

  /** The clock as last read on the connection or request path (performance.now()). */
  #clock = NO_TIME;

  /** Churning now: it was, and the window is not older than two seconds (churn stopped). */
  #churning(): boolean {
    return this.#churned && this.#clock - this.#window.start < 2000;
  }

  #reopen: NodeJS.Immediate | null = null;
  readonly #reopenGate = (): void => {
    this.#reopen = null;
    if (this.#sockets.size < this.#limit() && !this.#drainPromise && !this.#full) {
      this.#gate.open = true;
    }
  };

  /**
   * The master's share binds only while most connections carry several requests: clients
   * that open a connection per request are spread by the kernel well enough, and steering
   * them would stop and restart accepting for nearly every connection.
   */
  #limit(churning = this.#churning()): number {
    const cap = this.#o.connectionCap;
    return this.#share > 0 && this.#share < cap && !churning ? this.#share : cap;
  }

  /**
   * Not accepting because of the master's share alone (not the cap, a drain or memory), as of
   * the last change of the count or the share (#counted).
   */
  #held = false;

  /**
   * The master's fair share (shared dispatch): accept only while holding fewer connections
   * (0: no limit beside the cap). Kernel-balanced accept spreads a burst unevenly (8 clients
   * on 2 workers came out 6/2); this keeps it even without the master on the path.
   */
  setShare(limit: number): void {
    this.#share = limit;
    this.#counted();
  }

  /**
   * A worker held at its share opens its gate for one event-loop turn every PROBE_MS and takes
   * every connection waiting in the kernel's queue then: connections nobody took while it was
   * held. Its siblings, when they can, take them within a turn, and the master raises the
   * shares within a millisecond of the worker's report; so a probe finds some only when every
   * worker is held, a sibling is stalled (a blocked event loop, a stopped process) or the
   * master is. New connections then wait PROBE_MS at most, not until a heartbeat goes missing.
   */
  #probeTimer: NodeJS.Timeout | null = null;
  #probing = false;
  readonly #probe = (): void => {
    this.#probeTimer = null;
    if (!this.#held) return;
    this.#probing = true;
    this.#gate.open = true;
    setImmediate(this.#probed);
  };
  readonly #probed = (): void => {
    this.#probing = false;
    this.#counted();
  };

  /** A connection arrived (handed over or accepted here): track it, then serve it. */
  readonly #take = (socket: Socket): void => {
    this.#track(socket);
    this.#wire.accept(socket);
  };

  /**
   * An HTTP/2 session: tracked by its socket so draining can send GOAWAY, and closed after
   * keep-alive seconds without an open stream (HTTP/2's keep-alive).
   */
  #session(session: ServerHttp2Session): void {
    // An HTTP/2 session's own idle timer (0 would mean none: the sync class has no h2 anyway).
    const keepAliveMs = Math.max(1, this.#keepAliveMs);
    // session.socket is a proxy; a property set on it lands on the real socket, so the
    // socket tracked above is known as HTTP/2 (never closed as an idle HTTP/1 connection).
    (session.socket as Carrying)[SESSION] = session;
    this.#sessions.add(session);
    session.once('close', () => this.#sessions.delete(session));
    session.on('error', () => {});
    if (this.#drainPromise) {
      session.close();
      return;
    }
    let open = 0;
    session.on('stream', (stream) => {
      open++;
      stream.once('close', () => {
        if (--open === 0) session.setTimeout(keepAliveMs);
      });
    });
    session.on('timeout', () => {
      if (open === 0) session.close();
    });
    session.setTimeout(keepAliveMs);
  }

  /**
   * This response is the connection's last: `Connection: close` on HTTP/1; on HTTP/2 (where
   * that header is illegal) a GOAWAY, which lets the streams already open finish.
   */
  #closeAfter(req: IncomingMessage, res: ServerResponse): void {
    if (isH2(req)) (req as unknown as Http2ServerRequest).stream.session?.close();
    else res.setHeader('connection', 'close');
  }

  /**
   * Per request: two counters, a timestamp on the response and one shared listener; nothing
   * else is allocated here. Metrics are counters and a histogram (metrics/stats.ts) that the
   * heartbeat carries twice a second; the access log costs nothing when it is off.
   */
  readonly #handle: RequestListener = (req, res) => this.#serve(req, res, false);

  #serve(req: IncomingMessage, res: ServerResponse, expectsContinue: boolean): void {
    // Pipelined behind a refused request: its connection is closing, nobody gets an answer.
    if (closing(req)) return;
    this.requests++;
    this.inFlight++;
    this.#sockets.countRequest(req.socket);
    const o = this.#o;
    const now = clock.now();
    this.#clock = now;
    (res as Timed)[STARTED] = now;
    const h2 = isH2(req);
    if (this.#leaving || o.keepAlive === 0) this.#closeAfter(req, res);
    // node:http's own keep-alive timer is off (wire.ts): the header still says how long an idle
    // connection is kept (corral closes it after that, connections.ts).
    else if (!h2) (res as KeepAliveHeader)._keepAliveTimeout = this.#keepAliveMs;
    if (o.requestTimeout > 0) this.#running.add(res as Timed);
    res.on('close', this.#closed);
    // Not for an HTTP/2 stream (it has a `stream`): its head is bounded by nghttp2
    // (docs/limits.md), and a refusal answered with Connection: close is no HTTP/2 answer.
    if (!h2 && refuseRequest(req, res, o.limits, o.onRefused)) return;
    if (expectsContinue) res.writeContinue();
    // Proxy headers: a few lookups when absent; when present the client is resolved now.
    if (o.forwarded?.present(req.rawHeaders) && schemeConflict(req)) {
      o.onBadForwarding?.(req, 'conflicting secure scheme headers');
      res.writeHead(400, { 'content-type': 'text/plain', connection: 'close' });
      res.end('Bad Request: conflicting scheme headers\n');
      return;
    }
    if (o.beforeRequest) {
      const r = o.beforeRequest(req);
      if (r && typeof (r as Promise<unknown>).then === 'function') {
        (r as Promise<unknown>).then(() => o.listener(req, res));
        return;
      }
    }
    o.listener(req, res);
  }

  /** A response is done: finished, or cut short by the client or a timeout. */
  #done(res: Timed): void {
    this.inFlight--;
    const end = clock.now();
    const start = res[STARTED];
    const req = res.req;
    const { accessLog, afterRequest } = this.#o;
    if (this.#o.requestTimeout > 0) this.#running.delete(res);
    this.stats.observe(res.statusCode, (end - start) / 1000);
    if (accessLog) accessLog.write({ req, res, start, end, time: new Date() });
    afterRequest?.(req, res, this.requests);
    // (An HTTP/2 stream's socket is its session's, idle or not: sessions close by GOAWAY.)
    if (this.#sweep && !isH2(req) && !req.socket?.destroyed) {
      this.#sockets.markIdle(req.socket, Date.now());
    }
  }

  /**
   * --header-timeout and --body-timeout: a connection whose request head or body is arriving
   * too slowly is answered 408 and closed, as node:http does for its own timeouts (the same
   * 'clientError' path, so the answer and the log line are the same). --keep-alive: a
   * connection idle that long after its last response is closed.
   */
  #checkConnections(): void {
    const { headerTimeoutMs, bodyTimeoutMs } = this.#o.limits;
    const { slow, idle } = this.#sockets.check(
      clock.now(),
      { headerMs: headerTimeoutMs, bodyMs: bodyTimeoutMs, idleMs: this.#idleCloseMs },
      startedAt,
    );
    // Idle past --keep-alive: closed, as node:http's keep-alive timer would.
    for (const socket of idle) socket.destroy();
    for (const socket of slow) {
      if (socket.destroyed) continue;
      if (socket.listenerCount('error') === 0) socket.on('error', noop);
      this.http.emit('clientError', requestTimeout(), socket);
    }
  }

  /** Answer requests that ran past the request timeout; later writes by the app are dropped. */
  #cutSlowRequests(): void {
    const limit = this.#o.requestTimeout * 1000;
    const now = clock.now();
    for (const res of this.#running) {
      const ran = now - res[STARTED];
      if (ran < limit) continue;
      this.#running.delete(res);
      this.#o.onRequestTimeout?.(res.req, ran);
      res.on('error', () => {});
      if (!res.headersSent) {
        const h2 = isH2(res.req);
        res.writeHead(503, h2 ? TIMEOUT_HEADERS_H2 : TIMEOUT_HEADERS);
        res.end('Service Unavailable: the request timed out\n');
      } else {
        res.destroy();
      }
      silence(res);
    }
  }

  /**
   * This worker is due for replacement (max-requests): from now on each response carries
   * `Connection: close`, so keep-alive clients reconnect and the master sends them elsewhere.
   */
  leave(full = false): void {
    this.#leaving = true;
    if (full) {
      this.#full = true;
      this.#counted();
    }
  }

  /** Serve a connection the master accepted and handed over. */
  adopt(socket: Socket): void {
    if (this.#o.onHandoffClosed) socket.once('close', this.#o.onHandoffClosed);
    // node:http turns Nagle off on the sockets it accepts (noDelay); these were accepted by
    // the master, so do it here: a response written in pieces must not wait for an ACK.
    socket.setNoDelay(true);
    this.#intake(socket, this.#connect);
  }

  /**
   * Every connection comes in here: through the PROXY header reader first, when it is on.
   * A socket our own listener accepted is already reading, and node:http takes its reads over,
   * as for the sockets node:http accepts itself; a handed-off one, or one whose PROXY header
   * was read, is resumed.
   */
  #accept = (socket: Socket): void => {
    if (this.#noDelayInherited) markNoDelay(socket);
    this.#intake(socket, this.#take);
  };

  /** Through the PROXY header reader when it is on (then resumed), else straight to `next`. */
  #intake(socket: Socket, next: (socket: Socket) => void): void {
    const proxy = this.#o.proxyProtocol;
    if (proxy) readProxyHeader(socket, proxy, this.#connect);
    else next(socket);
  }

  #connect = (socket: Socket): void => {
    this.#take(socket);
    // A TLS socket reads its parent itself, bytes put back after a PROXY header included (it
    // takes them a tick later): resuming the parent here would let them flow past it, lost.
    if (!this.#wire.secure) socket.resume();
  };

  /** --keep-alive in milliseconds (0: one request per connection). */
  readonly #keepAliveMs: number;
  /**
   * An idle keep-alive connection is closed this long after its last response: a second
   * past the advertised timeout, as node:http does (its keepAliveTimeoutBuffer), so a client
   * that reuses a connection right at the advertised time is not met by a close.
   */
  get #idleCloseMs(): number {
    return this.#keepAliveMs > 0 ? this.#keepAliveMs + 1000 : 0;
  }

  /** TCP_NODELAY is set on a listening socket, so the sockets it accepts have it already. */
  #noDelayInherited = false;

  /**
   * Accept connections ourselves: on an inherited listening fd (shared) or an own
   * SO_REUSEPORT socket. Each listener feeds the one HTTP server.
   */
  listen(plan: ListenPlan, backlog: number): Promise<void> {
    if (plan.kind === 'handoff') return Promise.resolve();
    // Cleartext: the options node:http's own server listens with (half-open: node:http ends
    // the socket itself). TLS sockets are ended by the TLS layer.
    const allowHalfOpen = !this.#wire.secure;
    const listener = createNetServer({ noDelay: true, allowHalfOpen }, this.#accept);
    this.#listeners.push(listener);
    const opts =
      plan.kind === 'fd'
        ? { fd: plan.fd, backlog }
        : { host: plan.host, port: plan.port, backlog, reusePort: true };
    return new Promise((done, fail) => {
      listener.once('error', fail);
      listener.listen(opts, () => {
        listener.off('error', fail);
        this.#gate.add(listener);
        if (noDelayOnListener(listener)) {
          // Accepted sockets inherit it: no setsockopt per connection.
          Object.assign(listener, { noDelay: false });
          this.#noDelayInherited = true;
        }
        done();
      });
    });
  }

  /**
   * Stop taking connections; responses from now on carry `Connection: close`; connections
   * idle for IDLE_GRACE_MS are closed between requests; the app's upgrade signal aborts, so it
   * can close its upgraded connections. Resolves when no connection is left.
   */
  drain(): Promise<void> {
    this.#drainPromise ??= new Promise((done) => {
      // Access-log lines are written asynchronously: they are all out before the worker exits.
      const log = this.#o.accessLog;
      this.#drained = log ? () => void log.flush().then(done) : done;
      this.#leaving = true;
      // HTTP/2: GOAWAY; each session closes once its open streams are done.
      for (const session of this.#sessions) session.close();
      for (const socket of this.#sockets.snapshot()) {
        if (this.#upgraded.has(socket) || (socket as Carrying)[SESSION]) continue;
        const res = (socket as WithMessage)._httpMessage;
        if (res && !res.headersSent) res.setHeader('connection', 'close');
      }
      this.#draining.abort(new Error('worker draining'));
      for (const l of this.#listeners) {
        this.#gate.remove(l);
        l.close();
      }
      this.#squeeze();
      this.#checkDrained();
    });
    return this.#drainPromise;
  }

  /**
   * Draining, or at the connection cap: close keep-alive connections
   * once idle for IDLE_GRACE_MS, so they neither hold the worker open nor starve the clients
   * waiting for a slot. The grace keeps a client that is just sending a request from being
   * reset; it is answered, with `Connection: close`.
   */
  #squeeze(): void {
    if (this.#sweep) return;
    const now = Date.now();
    for (const socket of this.#sockets.snapshot()) {
      // Upgraded connections are the app's (WebSocket): they are never idle in HTTP's sense.
      // HTTP/2 sessions close by GOAWAY (drain) or their own keep-alive timeout.
      if (this.#upgraded.has(socket) || (socket as Carrying)[SESSION]) continue;
      if (!(socket as WithMessage)._httpMessage) this.#sockets.markIdle(socket, now);
    }
    this.#sweep = setInterval(() => this.#closeIdle(), 100);
    this.#sweep.unref();
  }

  #closeIdle(): void {
    const cap = this.#o.connectionCap;
    // Back under the cap by a margin (a client leaving and another arriving must not restart
    // every connection's grace): keep-alive as usual again.
    if (!this.#drainPromise && this.#sockets.size <= cap - 1 - Math.floor(cap / 10)) {
      clearInterval(this.#sweep ?? undefined);
      this.#sweep = null;
      this.#sockets.clearIdle();
      return;
    }
    const now = Date.now();
    const sockets = this.#sockets;
    for (const socket of sockets.snapshot()) {
      const since = sockets.idleSince(socket);
      if (since === 0) continue;
      const busy =
        (socket as WithMessage)._httpMessage ||
        this.#upgraded.has(socket) ||
        (socket as Carrying)[SESSION];
      if (busy) sockets.markIdle(socket, 0);
      else if (now - since < IDLE_GRACE_MS) continue;
      else if (!socket.writableEnded) {
        socket.end();
        sockets.markIdle(socket, now);
      } else {
        // Ended a grace ago and still open: a client that ignores our FIN (a slowloris
        // trickling its head) must not keep the slot.
        socket.destroy();
      }
    }
  }

  /**
   * Certificates re-read (single-process mode, on HUP): new handshakes use them; connections
   * already open keep theirs.
   */
  setSecureContext(tls: WireTls): boolean {
    if (!this.#wire.secure) return false;
    this.#wire.secure.setSecureContext(tls);
    return true;
  }

  /** Open connections. */
  get connections(): number {
    return this.#sockets.size;
  }

  reopenLogs(): void {
    this.#o.accessLog?.reopen();
  }

  #checkDrained(): void {
    if (this.#sockets.size === 0 && this.#drained) {
      const done = this.#drained;
      this.#drained = null;
      done();
    }
  }
}

/**
 * Linux: a socket accept() returns inherits TCP_NODELAY from the listening socket. Set it there
 * once, and node:net need not set it on every connection (a system call each, as node:http's
 * own server does). False where it cannot be set (a unix socket) or might not be inherited.
 */
function noDelayOnListener(listener: NetServer): boolean {
  if (process.platform !== 'linux') return false;
  const handle = (listener as unknown as { _handle?: { setNoDelay?(on: boolean): number } })
    ._handle;
  return handle?.setNoDelay?.(true) === 0;
}

/** node:net's own record that a socket has TCP_NODELAY (found on the first socket). */
let kSetNoDelay: symbol | null | undefined;

/**
 * Tell node:net the socket already has TCP_NODELAY, so the app's `setNoDelay(false)` still
 * turns it off (node:net skips a call that changes nothing by its own record).
 */
function markNoDelay(socket: Socket): void {
  if (kSetNoDelay === undefined) {
    kSetNoDelay =
      Object.getOwnPropertySymbols(socket).find((s) => s.description === 'kSetNoDelay') ?? null;
  }
  if (kSetNoDelay) (socket as unknown as Record<symbol, boolean>)[kSetNoDelay] = true;
}

const startedAt = (res: ServerResponse) => (res as Timed)[STARTED];
const noop = () => {};
/** The error node:http reports its own header and request timeouts with. */
const requestTimeout = () =>
  Object.assign(new Error('Request timeout'), { code: 'ERR_HTTP_REQUEST_TIMEOUT' });

const TIMEOUT_HEADERS = { 'content-type': 'text/plain', connection: 'close' };
const TIMEOUT_HEADERS_H2 = { 'content-type': 'text/plain' };
