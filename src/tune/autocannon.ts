/**
 * autocannon, with its keep-alive bookkeeping fixed for servers that close connections.
 *
 * After each response autocannon writes the next request on the same socket. When the server
 * answered `Connection: close` (the sync class, always; any worker at --max-requests), that
 * request is lost with the socket, and on reconnecting autocannon sends another without
 * forgetting the first: its queue of requests awaiting an answer grows by one per response, and
 * each later response is timed from an ever older request. Measured against a plain node:http
 * server that burns 1 ms and closes, 64 connections: autocannon p50 1534 ms / p99 3070 ms, wrk
 * 91 / 161 ms. A real client does not send on a connection the server said it closes, so a
 * reconnect starts with an empty queue here.
 */
import { createRequire } from 'node:module';

/** The part of autocannon's API tune uses (it ships no types of its own). */
export interface AutocannonResult {
  readonly duration: number;
  readonly requests: { readonly total: number };
  readonly latency: { readonly p50: number; readonly p99: number };
  readonly errors: number;
  readonly timeouts: number;
  readonly non2xx: number;
}
/** A running load: a promise of its result that also reports each response and can stop. */
export interface AutocannonRun extends Promise<AutocannonResult> {
  on(
    event: 'response',
    listener: (client: object, status: number, bytes: number, ms: number) => void,
  ): this;
  stop(): void;
}
export type Autocannon = (opts: {
  url: string;
  connections: number;
  duration: number;
  timeout: number;
  requests: readonly { method: string; path: string }[];
}) => AutocannonRun;

interface ClientInternals {
  pipelinedRequests?: { clear(): void };
  _connect(): void;
}

const require = createRequire(import.meta.url);
const Client = require('autocannon/lib/httpClient') as { prototype: ClientInternals };
const connect = Client.prototype._connect;
Client.prototype._connect = function (this: ClientInternals) {
  // Absent on the first connect (the constructor connects before anything is queued).
  this.pipelinedRequests?.clear();
  connect.call(this);
};

export const autocannon = require('autocannon') as Autocannon;
