/**
 * The HTTP server a worker (or the master in single-process mode) runs around the app:
 * counts requests, enforces the per-request timeout, tracks connections, and drains without
 * resetting anyone.
 */
import {
  createServer,
  type IncomingMessage,
  type RequestListener,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { UpgradeListener } from '../app/upgrade.ts';
import type { ListenPlan } from '../ipc.ts';
import type { AccessLog } from '../log/access.ts';
import { RequestStats } from '../metrics/stats.ts';

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
}

type WithMessage = Socket & { _httpMessage?: ServerResponse | null };

export class AppServer {
  readonly http: Server;
  requests = 0;
  inFlight = 0;
  /** Status classes and latency, for the heartbeat (and so for /metrics). */
  readonly stats = new RequestStats();
  readonly #o: AppServerOptions;
  readonly #sockets = new Set<Socket>();
  readonly #listeners: NetServer[] = [];
  /** Requests in flight and when they started; kept only when a request timeout is set. */
  readonly #running = new Map<ServerResponse, { req: IncomingMessage; start: number }>();
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
    this.http = createServer(
      { keepAliveTimeout: Math.max(1, opts.keepAlive * 1000) },
      this.#handle,
    );
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

  readonly #handle: RequestListener = (req, res) => {
    this.requests++;
    this.inFlight++;
    const { accessLog, keepAlive, requestTimeout, afterRequest, beforeRequest } = this.#o;
    const start = process.hrtime.bigint();
    if (this.#leaving || keepAlive === 0 || this.#sockets.size >= this.#o.connectionCap) {
      res.setHeader('connection', 'close');
    }
    if (requestTimeout > 0) this.#running.set(res, { req, start: Date.now() });
    res.once('close', () => {
      this.inFlight--;
      if (requestTimeout > 0) this.#running.delete(res);
      const end = process.hrtime.bigint();
      this.stats.observe(res.statusCode, Number(end - start) / 1e9);
      if (accessLog) accessLog.write({ req, res, start, end, time: new Date() });
      afterRequest?.(req, res, this.requests);
      if (this.#sweep && !req.socket.destroyed) this.#idleSince.set(req.socket, Date.now());
    });
    if (beforeRequest) {
      const r = beforeRequest(req);
      if (r && typeof (r as Promise<unknown>).then === 'function') {
        (r as Promise<unknown>).then(() => this.#o.listener(req, res));
        return;
      }
    }
    this.#o.listener(req, res);
  };

  /** Answer requests that ran past the request timeout; later writes by the app are dropped. */
  #cutSlowRequests(): void {
    const limit = this.#o.requestTimeout * 1000;
    const now = Date.now();
    for (const [res, { req, start }] of this.#running) {
      if (now - start < limit) continue;
      this.#running.delete(res);
      this.#o.onRequestTimeout?.(req, now - start);
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
    this.http.emit('connection', socket);
    socket.resume();
  }

  /**
   * Accept connections ourselves: on an inherited listening fd (shared) or an own
   * SO_REUSEPORT socket. Each listener feeds the one HTTP server.
   */
  listen(plan: ListenPlan, backlog: number): Promise<void> {
    if (plan.kind === 'handoff') return Promise.resolve();
    const listener = createNetServer((socket) => this.http.emit('connection', socket));
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
