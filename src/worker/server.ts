/**
 * The HTTP server a worker (or the master in single-process mode) runs around the app:
 * counts requests, enforces the per-request timeout, tracks connections, and drains without
 * resetting anyone.
 */
import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { UpgradeListener } from '../app/upgrade.ts';
import type { ListenPlan } from '../ipc.ts';
import type { AccessLog } from '../log/access.ts';
import { RequestStats } from '../metrics/stats.ts';
import { type ForwardedPolicy, POLICY, schemeConflict } from '../proxy/client.ts';
import { type ProxyProtocolOptions, readProxyHeader } from './proxy-protocol.ts';

/**
 * An ESM import of node:http evaluates every export of its namespace, including the lazy
 * WebSocket and MessageEvent ones, which load undici: 12 MiB more RSS in each worker
 * (measured: 57 vs 45 MiB for a process that only loads node:http). require() does not.
 */
const { createServer } = createRequire(import.meta.url)('node:http') as typeof import('node:http');

/**
 * When draining, a keep-alive connection that was idle is closed only after this long without
 * a new request: a client that sends one in that window gets an answer with `Connection:
 * close` instead of a reset from a connection closed under it.
 */
const IDLE_GRACE_MS = 1000;

export interface AppServerOptions {
  readonly listener: RequestListener;
  /** The app's `'upgrade'` listener (WebSocket), if it exports one. */
  readonly upgrade?: UpgradeListener | null;
  /** Seconds an idle keep-alive connection stays open; 0 = close after each response. */
  readonly keepAlive: number;
  /** Most connections held at once (the master enforces it; at the cap, keep-alive ends). */
  readonly connectionCap: number;
  /** Seconds a request may run before it is answered 503; 0 = no limit. */
  readonly requestTimeout: number;
  readonly accessLog: AccessLog | null;
  /** Runs before the app sees the request; the request waits for a returned promise. */
  readonly beforeRequest?: (req: IncomingMessage) => unknown;
  /** Runs after each response is done (finished or aborted). */
  readonly afterRequest?: (req: IncomingMessage, res: ServerResponse, requests: number) => void;
  /** A request ran past the request timeout and was cut. */
  readonly onRequestTimeout?: (req: IncomingMessage, ranMs: number) => void;
  /** Called when a handed-off connection closes. */
  readonly onHandoffClosed?: () => void;
  /** Which peers' forwarded headers count (`--forwarded-allow-ips`); null: none. */
  readonly forwarded?: ForwardedPolicy | null;
  /** Read a PROXY protocol header before HTTP (`--proxy-protocol`); null: off. */
  readonly proxyProtocol?: ProxyProtocolOptions | null;
  /** A request was refused before the app saw it (conflicting scheme headers). */
  readonly onRefused?: (req: IncomingMessage, reason: string) => void;
}

type WithMessage = Socket & { _httpMessage?: ServerResponse | null };

/** When a response's request started (performance.now()), kept on the response itself. */
const STARTED = Symbol('corral.started');
type Timed = ServerResponse & { [STARTED]: number };

export class AppServer {
  readonly http: Server;
  requests = 0;
  inFlight = 0;
  /** Status classes and latency, for the heartbeat (and so for /metrics). */
  readonly stats = new RequestStats();
  readonly #o: AppServerOptions;
  readonly #sockets = new Set<Socket>();
  readonly #listeners: NetServer[] = [];
  /** Requests in flight; kept only when a request timeout is set. */
  readonly #running = new Set<Timed>();
  /** The one 'close' listener every response gets (`this` is the response): no closure each. */
  readonly #closed: (this: ServerResponse) => void;
  /** While draining or at the connection cap: when each connection last went idle. */
  readonly #idleSince = new Map<Socket, number>();
  #sweep: NodeJS.Timeout | null = null;
  #drainPromise: Promise<void> | null = null;
  /** Due for replacement: keep serving, but send keep-alive clients elsewhere. */
  #leaving = false;
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
    this.http = createServer(
      { keepAliveTimeout: Math.max(1, opts.keepAlive * 1000) },
      this.#handle,
    );
    // clientOf(req) finds the policy through req.socket.server (proxy/client.ts).
    if (opts.forwarded) Object.assign(this.http, { [POLICY]: opts.forwarded });
    // node:http starts tracking connections (idle closing, header and request timeouts) on
    // 'listening'. Our HTTP server never listens itself (sockets arrive from the master or
    // from per-bind listeners), so tell it to start now.
    this.http.emit('listening');
    this.http.on('connection', (socket: Socket) => {
      this.#sockets.add(socket);
      if (this.#sockets.size >= opts.connectionCap) this.#squeeze();
      socket.once('close', () => {
        this.#sockets.delete(socket);
        this.#idleSince.delete(socket);
        this.#checkDrained();
      });
    });
    const { upgrade } = opts;
    if (upgrade) {
      const context = { signal: this.#draining.signal };
      this.http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
        this.#upgraded.add(socket);
        // The sweep may have marked it idle when it connected: from now on it is the app's.
        this.#idleSince.delete(socket as Socket);
        upgrade(req, socket, head, context);
      });
    }
    if (opts.requestTimeout > 0) {
      const every = Math.min(1000, Math.max(50, (opts.requestTimeout * 1000) / 4));
      setInterval(() => this.#cutSlowRequests(), every).unref();
    }
  }

  /**
   * Per request: two counters, a timestamp on the response and one shared listener; nothing
   * else is allocated here. Metrics are counters and a histogram (metrics/stats.ts) that the
   * heartbeat carries twice a second; the access log costs nothing when it is off.
   */
  readonly #handle: RequestListener = (req, res) => {
    this.requests++;
    this.inFlight++;
    const o = this.#o;
    (res as Timed)[STARTED] = performance.now();
    if (this.#leaving || o.keepAlive === 0 || this.#sockets.size >= o.connectionCap) {
      res.setHeader('connection', 'close');
    }
    if (o.requestTimeout > 0) this.#running.add(res as Timed);
    res.on('close', this.#closed);
    // Proxy headers: a few lookups when absent; when present the client is resolved now.
    if (o.forwarded?.present(req.headers) && schemeConflict(req)) {
      o.onRefused?.(req, 'conflicting secure scheme headers');
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
  };

  /** A response is done: finished, or cut short by the client or a timeout. */
  #done(res: Timed): void {
    this.inFlight--;
    const end = performance.now();
    const start = res[STARTED];
    const req = res.req;
    const { accessLog, afterRequest } = this.#o;
    if (this.#o.requestTimeout > 0) this.#running.delete(res);
    this.stats.observe(res.statusCode, (end - start) / 1000);
    if (accessLog) accessLog.write({ req, res, start, end, time: new Date() });
    afterRequest?.(req, res, this.requests);
    if (this.#sweep && !req.socket?.destroyed) this.#idleSince.set(req.socket, Date.now());
  }

  /** Answer requests that ran past the request timeout; later writes by the app are dropped. */
  #cutSlowRequests(): void {
    const limit = this.#o.requestTimeout * 1000;
    const now = performance.now();
    for (const res of this.#running) {
      const ran = now - res[STARTED];
      if (ran < limit) continue;
      this.#running.delete(res);
      this.#o.onRequestTimeout?.(res.req, ran);
      res.on('error', () => {});
      if (!res.headersSent) {
        res.writeHead(503, { 'content-type': 'text/plain', connection: 'close' });
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
  leave(): void {
    this.#leaving = true;
  }

  /** Serve a connection the master accepted and handed over. */
  adopt(socket: Socket): void {
    if (this.#o.onHandoffClosed) socket.once('close', this.#o.onHandoffClosed);
    // node:http turns Nagle off on the sockets it accepts (noDelay); these were accepted by
    // the master, so do it here: a response written in pieces must not wait for an ACK.
    socket.setNoDelay(true);
    this.#accept(socket);
  }

  /** Every connection comes in here: through the PROXY header reader first, when it is on. */
  #accept = (socket: Socket): void => {
    const proxy = this.#o.proxyProtocol;
    if (proxy) {
      readProxyHeader(socket, proxy, this.#serve);
    } else {
      this.#serve(socket);
    }
  };

  #serve = (socket: Socket): void => {
    this.http.emit('connection', socket);
    socket.resume();
  };

  /**
   * Accept connections ourselves: on an inherited listening fd (shared) or an own
   * SO_REUSEPORT socket. Each listener feeds the one HTTP server.
   */
  listen(plan: ListenPlan, backlog: number): Promise<void> {
    if (plan.kind === 'handoff') return Promise.resolve();
    const listener = createNetServer({ noDelay: true }, this.#accept);
    this.#listeners.push(listener);
    const opts =
      plan.kind === 'fd'
        ? { fd: plan.fd, backlog }
        : { host: plan.host, port: plan.port, backlog, reusePort: true };
    return new Promise((done, fail) => {
      listener.once('error', fail);
      listener.listen(opts, () => {
        listener.off('error', fail);
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
      this.#drained = done;
      this.#leaving = true;
      for (const socket of this.#sockets) {
        if (this.#upgraded.has(socket)) continue;
        const res = (socket as WithMessage)._httpMessage;
        if (res && !res.headersSent) res.setHeader('connection', 'close');
      }
      this.#draining.abort(new Error('worker draining'));
      for (const l of this.#listeners) l.close();
      this.#squeeze();
      this.#checkDrained();
    });
    return this.#drainPromise;
  }

  /**
   * Draining, or at the connection cap with others waiting: close keep-alive connections
   * once idle for IDLE_GRACE_MS, so they neither hold the worker open nor starve the clients
   * waiting for a slot. The grace keeps a client that is just sending a request from being
   * reset; it is answered, with `Connection: close`.
   */
  #squeeze(): void {
    if (this.#sweep) return;
    const now = Date.now();
    for (const socket of this.#sockets) {
      // Upgraded connections are the app's (WebSocket): they are never idle in HTTP's sense.
      if (this.#upgraded.has(socket)) continue;
      if (!(socket as WithMessage)._httpMessage) this.#idleSince.set(socket, now);
    }
    this.#sweep = setInterval(() => this.#closeIdle(), 100);
    this.#sweep.unref();
  }

  #closeIdle(): void {
    if (!this.#drainPromise && this.#sockets.size < this.#o.connectionCap) {
      // Back under the cap: keep-alive as usual again.
      clearInterval(this.#sweep ?? undefined);
      this.#sweep = null;
      this.#idleSince.clear();
      return;
    }
    const now = Date.now();
    for (const [socket, since] of this.#idleSince) {
      const busy = (socket as WithMessage)._httpMessage || this.#upgraded.has(socket);
      if (busy) this.#idleSince.delete(socket);
      else if (now - since >= IDLE_GRACE_MS) socket.end();
    }
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

const METHODS = [
  'writeHead',
  'setHeader',
  'appendHeader',
  'removeHeader',
  'write',
  'end',
  'flushHeaders',
];

/** After a timeout answer, the app's own late writes must not throw inside the worker. */
function silence(res: ServerResponse): void {
  for (const m of METHODS) {
    (res as unknown as Record<string, unknown>)[m] = function (this: unknown) {
      return m === 'write' ? true : this;
    };
  }
}
