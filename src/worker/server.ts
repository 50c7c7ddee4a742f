/**
 * The HTTP server a worker (or the master in single-process mode) runs around the app:
 * counts requests, tracks connections, and drains without resetting anyone.
 */
import { createServer, type RequestListener, type Server } from 'node:http';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import type { ListenPlan } from '../ipc.ts';
import type { AccessLog } from '../log/access.ts';

interface PendingResponse {
  readonly headersSent: boolean;
  setHeader(name: string, value: string): void;
}

export interface AppServerOptions {
  readonly listener: RequestListener;
  /** Seconds an idle keep-alive connection stays open; 0 = close after each response. */
  readonly keepAlive: number;
  readonly accessLog: AccessLog | null;
  /** Called after each response is done (finished or aborted). */
  readonly onRequestDone?: (requests: number) => void;
  /** Called when a handed-off connection closes. */
  readonly onHandoffClosed?: () => void;
}

export class AppServer {
  readonly http: Server;
  requests = 0;
  inFlight = 0;
  readonly #sockets = new Set<Socket>();
  readonly #listeners: NetServer[] = [];
  #draining = false;
  #drained: (() => void) | null = null;
  #drainPromise: Promise<void> | null = null;
  readonly #opts: AppServerOptions;

  constructor(opts: AppServerOptions) {
    this.#opts = opts;
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
      socket.once('close', () => {
        this.#sockets.delete(socket);
        if (this.#draining) this.#checkDrained();
      });
    });
  }

  readonly #handle: RequestListener = (req, res) => {
    this.requests++;
    this.inFlight++;
    const { accessLog, keepAlive } = this.#opts;
    const start = accessLog ? process.hrtime.bigint() : 0n;
    if (this.#draining || keepAlive === 0) res.setHeader('connection', 'close');
    res.once('close', () => {
      this.inFlight--;
      if (accessLog) {
        accessLog.write({ req, res, start, end: process.hrtime.bigint(), time: new Date() });
      }
      this.#opts.onRequestDone?.(this.requests);
      if (this.#draining) setImmediate(() => this.http.closeIdleConnections());
    });
    this.#opts.listener(req, res);
  };

  /** Serve a connection the master accepted and handed over. */
  adopt(socket: Socket): void {
    if (this.#opts.onHandoffClosed) socket.once('close', this.#opts.onHandoffClosed);
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

  get draining(): boolean {
    return this.#draining;
  }

  /**
   * Stop taking connections; in-flight requests finish and get `Connection: close`; idle
   * keep-alive connections are closed between requests. Resolves when no connection is left.
   */
  drain(): Promise<void> {
    this.#drainPromise ??= new Promise((done) => {
      this.#draining = true;
      this.#drained = done;
      for (const socket of this.#sockets) {
        // The response in progress on this connection, if any (node:http's own link).
        const res = (socket as Socket & { _httpMessage?: PendingResponse })._httpMessage;
        if (res && !res.headersSent) res.setHeader('connection', 'close');
      }
      for (const l of this.#listeners) l.close();
      this.http.closeIdleConnections();
      this.#checkDrained();
    });
    return this.#drainPromise;
  }

  /** Open connections. */
  get connections(): number {
    return this.#sockets.size;
  }

  #checkDrained(): void {
    if (this.#sockets.size === 0 && this.#drained) {
      const done = this.#drained;
      this.#drained = null;
      done();
    }
  }
}
