/**
 * Listen mode: an app that is a script calling `listen()` itself (Express's `app.listen()`,
 * Fastify's `listen()`, a framework's production server) runs unchanged in each worker.
 * `listen()` on an HTTP server (node:http, node:https, node:http2) binds nothing here: the
 * server is marked listening on corral's bind (`address()`, `'listening'`, the callback), and
 * corral's own server in this worker hands it every request it parses. Plain net.Servers
 * (not HTTP) listen as usual.
 *
 * Which servers are served: the first HTTP server the app opens. A further server with the
 * same request handler (Fastify's second server for `localhost`'s other address family) is an
 * alias of it; any other further server (an admin or metrics port) is not served, and a
 * warning says so: every worker would fight for its port, and corral's binds are the app's.
 */
import type { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type AddressInfo, Server as NetServer } from 'node:net';
import type { Duplex } from 'node:stream';

/** What `address()` reports: corral's first bind (a TCP address, or a unix socket path). */
export type BindInfo =
  | { readonly address: string; readonly family: 'IPv4' | 'IPv6'; readonly port: number }
  | { readonly path: string };

/** What the app passed to listen(), in words: `port 3000 on localhost`, `unix:/tmp/x`. */
export type Asked = string;

type Listening = NetServer & EventEmitter;

interface Entry {
  readonly server: Listening;
  readonly role: 'primary' | 'alias' | 'extra';
  readonly asked: Asked;
  closed: boolean;
}

/**
 * An HTTP server among net.Servers: node:http, node:https and both node:http2 servers have
 * `setTimeout`; a plain net.Server or tls.Server has none. No module is loaded to find out.
 */
function isHttpServer(s: object): boolean {
  return typeof (s as { setTimeout?: unknown }).setTimeout === 'function';
}

type ListenArgs = unknown[];

/** Node's listen() signatures → the callback and a description of what was asked. */
function readArgs(args: ListenArgs): { cb: (() => void) | null; asked: Asked; port: number } {
  const last = args.at(-1);
  const cb = typeof last === 'function' ? (last as () => void) : null;
  const [first, second] = args;
  let port: unknown;
  let host: unknown;
  let path: unknown;
  if (first !== null && typeof first === 'object') {
    const o = first as { port?: unknown; host?: unknown; path?: unknown; fd?: unknown };
    if (o.fd !== undefined) return { cb, asked: `fd ${String(o.fd)}`, port: 0 };
    ({ port, host, path } = o);
  } else if (typeof first === 'string' && !/^\d+$/.test(first)) {
    path = first;
  } else {
    port = first;
    if (typeof second === 'string') host = second;
  }
  if (typeof path === 'string' && path) return { cb, asked: `unix:${path}`, port: 0 };
  const n = Number(port ?? 0) || 0;
  const where = typeof host === 'string' && host ? ` on ${host}` : '';
  return { cb, asked: `port ${n}${where}`, port: n };
}

function requestHandlers(s: EventEmitter): readonly unknown[] {
  return s.listeners('request');
}

function sameHandler(a: EventEmitter, b: EventEmitter): boolean {
  const ha = requestHandlers(a);
  const hb = requestHandlers(b);
  return ha.length > 0 && ha.length === hb.length && ha.every((h, i) => h === hb[i]);
}

export interface InterceptOptions {
  /** corral's first bind, reported by address(); null before the worker knows it. */
  readonly bind: BindInfo | null;
  /** A further server was opened and is not served (warning), or was an alias (debug). */
  readonly onOther?: (role: 'alias' | 'extra', asked: Asked, primaryAsked: Asked) => void;
  /** The app closed its (first) server: this worker should drain. */
  readonly onPrimaryClose?: () => void;
}

/** The one installed interceptor of this process (listen() is patched once). */
let active: ListenInterceptor | null = null;

export class ListenInterceptor {
  readonly #o: InterceptOptions;
  readonly #entries: Entry[] = [];
  #onListen: ((primary: Listening) => void)[] = [];
  /** No longer intercepting: listen() of servers opened from now on is not taken. */
  #drained = false;

  private constructor(o: InterceptOptions) {
    this.#o = o;
  }

  /** Patch net.Server's listen() for this process; returns the interceptor. */
  static install(o: InterceptOptions): ListenInterceptor {
    const me = new ListenInterceptor(o);
    if (active) throw new Error('listen() is already intercepted in this process');
    active = me;
    const original = NetServer.prototype.listen;
    NetServer.prototype.listen = function (this: Listening, ...args: ListenArgs) {
      if (!isHttpServer(this)) return Reflect.apply(original, this, args);
      return me.#take(this, args);
    } as typeof original;
    return me;
  }

  /** The first HTTP server the app opened (the one corral serves), or null. */
  get primary(): Listening | null {
    return this.#entries.find((e) => e.role === 'primary')?.server ?? null;
  }

  /** What the app asked its first server to listen on. */
  get asked(): Asked | null {
    return this.#entries.find((e) => e.role === 'primary')?.asked ?? null;
  }

  /** Servers of every role, for `corral check`. */
  get servers(): readonly { readonly role: Entry['role']; readonly asked: Asked }[] {
    return this.#entries;
  }

  /** Resolves with the primary server once the app has called its listen(). */
  listened(): Promise<Listening> {
    const p = this.primary;
    if (p) return Promise.resolve(p);
    return new Promise((done) => this.#onListen.push(done));
  }

  /** A request listener that hands each request to the app's server. */
  static requestListener(server: EventEmitter) {
    return (req: IncomingMessage, res: ServerResponse): void => {
      server.emit('request', req, res);
    };
  }

  /** An upgrade listener for the app's server ('upgrade'): destroyed when it has none. */
  static upgradeListener(server: EventEmitter) {
    return (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
      if (server.listenerCount('upgrade') > 0) server.emit('upgrade', req, socket, head);
      else socket.destroy();
    };
  }

  /**
   * The worker has drained: from now on the app's close() closes at once (its callback and
   * 'close' run), as it would on a server with no connection left.
   */
  markDrained(): void {
    this.#drained = true;
  }

  /**
   * Close what the app has not closed itself ('close' fires, close() callbacks run). Returns
   * how many 'close' listeners the app had on its servers (its clean-up to wait for).
   */
  closeAll(): number {
    this.#drained = true;
    let listeners = 0;
    for (const e of this.#entries) {
      listeners += e.server.listenerCount('close');
      this.#finishClose(e);
    }
    return listeners;
  }

  #take(server: Listening, args: ListenArgs): Listening {
    const { cb, asked, port: askedPort } = readArgs(args);
    const primary = this.#entries.find((e) => e.role === 'primary');
    const role: Entry['role'] = !primary
      ? 'primary'
      : sameHandler(server, primary.server)
        ? 'alias'
        : 'extra';
    const entry: Entry = { server, role, asked, closed: false };
    this.#entries.push(entry);
    const bind = this.#o.bind;
    const address = (): AddressInfo | string | null => {
      if (entry.closed) return null;
      // Never bound: it reports the port it asked for, on loopback.
      if (role === 'extra') return { address: '127.0.0.1', family: 'IPv4', port: askedPort };
      if (!bind) return null;
      return 'path' in bind ? bind.path : { ...bind };
    };
    Object.defineProperties(server, {
      address: { value: address, configurable: true, writable: true },
      listening: { get: () => !entry.closed, configurable: true },
      close: {
        value: (done?: (err?: Error) => void) => this.#close(entry, done),
        configurable: true,
        writable: true,
      },
    });
    if (cb) server.once('listening', cb);
    // As a real bind: 'listening' (and so the callback) fires asynchronously.
    process.nextTick(() => {
      if (!entry.closed) server.emit('listening');
    });
    if (role === 'primary') {
      for (const f of this.#onListen.splice(0)) f(server);
    } else if (primary) {
      this.#o.onOther?.(role, asked, primary.asked);
    }
    return server;
  }

  #close(entry: Entry, done?: (err?: Error) => void): Listening {
    const { server } = entry;
    if (entry.closed) {
      if (done) {
        const err = Object.assign(new Error('Server is not running.'), {
          code: 'ERR_SERVER_NOT_RUNNING',
        });
        process.nextTick(done, err);
      }
      return server;
    }
    entry.closed = true;
    if (done) server.once('close', () => done());
    // The first server's close() drains this worker; 'close' fires when it has drained.
    if (entry.role === 'primary' && !this.#drained) this.#o.onPrimaryClose?.();
    else this.#finishClose(entry);
    return server;
  }

  #finishClose(entry: Entry): void {
    entry.closed = true;
    const { server } = entry;
    if ((server as { [CLOSED]?: boolean })[CLOSED]) return;
    (server as { [CLOSED]?: boolean })[CLOSED] = true;
    // node:http's close() stops its connection-checking timer; with no handle it then emits
    // 'close' on the next tick (its callback argument is not used: ours is registered).
    const proto = Object.getPrototypeOf(server) as { close?: (this: Listening) => void };
    try {
      proto.close?.call(server);
    } catch {
      process.nextTick(() => server.emit('close'));
    }
  }
}

const CLOSED = Symbol('corral.closed');
