/**
 * The node server class a worker feeds its connections to, chosen once from the protocols and
 * TLS settings: node:http for cleartext HTTP/1 (the hot path, unchanged), node:https for TLS,
 * node:http2's secure server for h2 by ALPN (with the HTTP/1.1 fallback), node:http2's
 * cleartext server for h2c. Each is fed raw TCP sockets with `emit('connection', socket)`:
 * the TLS servers wrap them, so TLS terminates in the worker.
 */
import type { EventEmitter } from 'node:events';
import type { RequestListener, Server, ServerOptions } from 'node:http';
import type { Http2SecureServer, Http2Server } from 'node:http2';
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';
import type { Server as TlsServer } from 'node:tls';
import type { Wire } from '../config/tls.ts';

/**
 * An ESM import of node:http evaluates every export of its namespace, including the lazy
 * WebSocket and MessageEvent ones, which load undici: 12 MiB more RSS in each worker
 * (measured: 57 vs 45 MiB for a process that only loads node:http). require() does not.
 */
const require = createRequire(import.meta.url);

/** The first bytes of every HTTP/2 connection (RFC 9113 §3.4). */
const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');

export interface WireServers {
  /** The server requests, upgrades and client errors of HTTP/1 come from. */
  readonly main: Server;
  /** Every server that emits 'request' (main, and the h2c one beside an HTTP/1 server). */
  readonly all: readonly EventEmitter[];
  /** The TLS server, for setSecureContext on a certificate reload; null when cleartext. */
  readonly secure: TlsServer | null;
  /** Give the server a connection (a raw TCP socket). */
  readonly accept: (socket: Socket) => void;
}

/** node:http's options for HTTP/1 (request limits and slow-client timeouts, limits.ts). */
export type H1Options = Omit<ServerOptions, 'keepAliveTimeout'> & {
  readonly maxHeadersCount?: number;
};

/**
 * node:http's keep-alive timer is off (0): it costs a Timeout and a bound function per
 * keep-alive request (3.5% of a hello world's CPU). corral closes idle keep-alive connections
 * itself, on its connection list (connections.ts), and writes the `Keep-Alive: timeout=`
 * header per response (server.ts).
 */
const KEEP_ALIVE_OFF = { keepAliveTimeout: 0 };

export function createServers(
  wire: Wire,
  handle: RequestListener,
  h1Limits: H1Options = {},
): WireServers {
  const { maxHeadersCount, ...h1Options } = h1Limits;
  // maxHeadersCount is a property, not a constructor option, on every HTTP/1 server.
  const limited = <T extends object>(server: T): T =>
    maxHeadersCount === undefined ? server : Object.assign(server, { maxHeadersCount });
  const { tls } = wire;
  if (tls && wire.h2) {
    const http2 = require('node:http2') as typeof import('node:http2');
    const server: Http2SecureServer = http2.createSecureServer(
      { ...tls, allowHTTP1: wire.h1 },
      handle as never,
    );
    // For the HTTP/1.1 connections allowHTTP1 serves with node:http's own machinery, which
    // reads these from the server object.
    Object.assign(server, h1Options, KEEP_ALIVE_OFF);
    limited(server);
    return single(server as unknown as Server, server as unknown as TlsServer);
  }
  if (tls) {
    const https = require('node:https') as typeof import('node:https');
    const server = limited(https.createServer({ ...tls, ...h1Options, ...KEEP_ALIVE_OFF }, handle));
    return single(server as unknown as Server, server as unknown as TlsServer);
  }
  const http = require('node:http') as typeof import('node:http');
  const h1Server = () => limited(http.createServer({ ...h1Options, ...KEEP_ALIVE_OFF }, handle));
  if (!wire.h2) return single(h1Server(), null);
  const http2 = require('node:http2') as typeof import('node:http2');
  const h2c: Http2Server = http2.createServer({}, handle as never);
  if (!wire.h1) return single(h2c as unknown as Server, null);
  // h1 and h2c on one port: a connection that opens with the HTTP/2 preface is HTTP/2. The
  // first bytes are read, put back, and the socket handed to the server that speaks them.
  const h1 = h1Server();
  return {
    main: h1,
    all: [h1, h2c],
    secure: null,
    accept(socket) {
      sniff(socket, (isH2) => (isH2 ? h2c : h1).emit('connection', socket));
    },
  };
}

function single(server: Server, secure: TlsServer | null): WireServers {
  return {
    main: server,
    all: [server],
    secure,
    accept: (socket) => server.emit('connection', socket),
  };
}

/**
 * Wait for enough bytes to tell the HTTP/2 preface from an HTTP/1 request line, put them back
 * and decide. A client that closes first is simply gone.
 */
function sniff(socket: Socket, decide: (isH2: boolean) => void): void {
  let seen: Buffer = Buffer.alloc(0);
  const onData = (chunk: Buffer) => {
    seen = seen.length ? Buffer.concat([seen, chunk]) : chunk;
    const n = Math.min(seen.length, PREFACE.length);
    const matches = seen.subarray(0, n).equals(PREFACE.subarray(0, n));
    if (matches && n < PREFACE.length) return;
    socket.off('data', onData);
    socket.pause();
    socket.unshift(seen);
    decide(matches);
    // Reading restarts once the server listens: node:http through the socket's 'data'
    // events; node:http2 takes the bytes put back on the next tick, so resume after that.
    if (matches) process.nextTick(() => socket.resume());
    else socket.resume();
  };
  socket.on('data', onData);
}
