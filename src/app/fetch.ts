/**
 * Fetch handler → Node request listener. The request is a lazy Request (fetch-request.ts),
 * the global Response a light one (fetch-response.ts), and a Response the app returns is
 * written straight to the socket: one writeHead and one end for a string or bytes body, no
 * promise unless the app returns one. Measured against a plain listener and
 * @hono/node-server's bridge in docs/benchmarks.md.
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { isHeader } from '../header-names.ts';
import { type Client, clientOf } from '../proxy/client.ts';
import { CompatRequest, LazyRequest, requestUrl } from './fetch-request.ts';
import {
  LightResponse,
  NativeResponse,
  type ResponseState,
  responseState,
} from './fetch-response.ts';
import { type ErrorReporter, REPORT_TO, type SelfGuarded } from './reporting.ts';

/**
 * A fetch handler. The second argument carries the Node objects (`{ incoming, outgoing }`)
 * and the client (`client`: address, port, scheme, as trusted proxies tell them).
 */
export type FetchHandler = (request: Request, env?: FetchEnv) => Response | Promise<Response>;

/** A fetch handler's second argument; `client` is resolved only when read. */
export class FetchEnv {
  readonly incoming: IncomingMessage;
  readonly outgoing: ServerResponse;
  constructor(incoming: IncomingMessage, outgoing: ServerResponse) {
    this.incoming = incoming;
    this.outgoing = outgoing;
  }
  get client(): Client {
    return clientOf(this.incoming);
  }
}

const consoleReporter: ErrorReporter = (err, req) => {
  console.error(`error handling ${req.method} ${req.url}:`, err);
};

/** Serve `fetch` as a (req, res) listener; errors answer 500 and go to `report`. */
export function fetchListener(fetch: FetchHandler, report = consoleReporter): RequestListener {
  installGlobals();
  const fail = (err: unknown, req: IncomingMessage, res: ServerResponse) => {
    report(err, req);
    if (!res.headersSent) {
      res.writeHead(500, { 'content-type': 'text/plain', connection: 'close' });
      res.end('Internal Server Error\n');
    } else {
      res.destroy();
    }
  };
  const send = (r: unknown, req: IncomingMessage, res: ServerResponse) => {
    try {
      const pending = writeResponse(r, res);
      if (pending) pending.catch((err) => fail(err, req, res));
    } catch (err) {
      fail(err, req, res);
    }
  };
  const memo = { host: '' };
  const listener = (incoming: IncomingMessage, outgoing: ServerResponse) => {
    let request: LazyRequest;
    try {
      request = new LazyRequest(incoming, outgoing, requestUrl(incoming, memo));
    } catch (err) {
      // A Host header or request target no URL can be made of: the client's fault.
      outgoing.writeHead(400, { 'content-type': 'text/plain', connection: 'close' });
      outgoing.end(`Bad Request: ${(err as Error).message}\n`);
      return;
    }
    let r: Response | Promise<Response>;
    try {
      r = fetch(request as unknown as Request, new FetchEnv(incoming, outgoing));
    } catch (err) {
      fail(err, incoming, outgoing);
      return;
    }
    if (typeof (r as Promise<Response>)?.then === 'function') {
      (r as Promise<Response>).then(
        (v) => send(v, incoming, outgoing),
        (err) => fail(err, incoming, outgoing),
      );
    } else {
      send(r, incoming, outgoing);
    }
  };
  // The worker passes its log (reporting.ts): the bridge answers its own errors.
  const guarded: SelfGuarded = Object.assign(listener, {
    [REPORT_TO]: (to: ErrorReporter) => fetchListener(fetch, to),
  });
  return guarded;
}

/** While a fetch app is served, Request and Response are the cheap ones. */
function installGlobals(): void {
  if (globalThis.Response !== (LightResponse as unknown)) {
    Object.defineProperty(globalThis, 'Response', {
      value: LightResponse,
      writable: true,
      configurable: true,
    });
  }
  if (globalThis.Request !== (CompatRequest as unknown)) {
    Object.defineProperty(globalThis, 'Request', {
      value: CompatRequest,
      writable: true,
      configurable: true,
    });
  }
}

/**
 * Write a Response; returns a promise only when the body has to be awaited (a stream or a
 * Blob). An app that answered through `outgoing` itself gets nothing more written.
 */
function writeResponse(r: unknown, out: ServerResponse): Promise<void> | undefined {
  if (out.headersSent || out.writableEnded) return undefined;
  const s = responseState(r as Response);
  if (s) return writeState(s, out);
  if (!(r instanceof NativeResponse)) {
    throw new TypeError(`the fetch handler returned ${describe(r)}, not a Response`);
  }
  const headers: (string | number)[] = [];
  let length = false;
  for (const [k, v] of r.headers) {
    headers.push(k, v);
    if (k === 'content-length') length = true;
  }
  if (!r.body) {
    if (!length && !NO_BODY.has(r.status)) headers.push('content-length', '0');
    out.writeHead(r.status, r.statusText, headers);
    out.end();
    return undefined;
  }
  out.writeHead(r.status, r.statusText, headers);
  return pipeBody(r.body, out);
}

/**
 * The globals a response is checked against, read once: node defines them on globalThis as
 * lazy accessors, and a load from the global object on every response was measurable.
 */
const { Blob: BlobType, Headers: HeadersType } = globalThis;

/** Statuses whose responses carry no body, and so no Content-Length. */
const NO_BODY = new Set([101, 103, 204, 205, 304]);

function writeState(s: ResponseState, out: ServerResponse): Promise<void> | undefined {
  const body = s.body;
  const headers: (string | number)[] = [];
  const given = pushHeaders(headers, s.own ?? s.init);
  // What the app set wins; the spec's default type and the length are added when absent.
  if (!(given & HAS_TYPE) && s.defaultType) headers.push('content-type', s.defaultType);
  if (!(given & HAS_LENGTH)) {
    // As strings, as apps write it: node:http's header checks then see one type of value.
    if (typeof body === 'string') headers.push('content-length', `${Buffer.byteLength(body)}`);
    else if (body instanceof Uint8Array) headers.push('content-length', `${body.byteLength}`);
    else if (body instanceof BlobType) headers.push('content-length', `${body.size}`);
    else if (body === null && !NO_BODY.has(s.status)) headers.push('content-length', '0');
  }
  if (s.statusText === undefined) out.writeHead(s.status, headers);
  else out.writeHead(s.status, s.statusText, headers);
  if (typeof body === 'string' || body instanceof Uint8Array) {
    out.end(body);
    return undefined;
  }
  if (body === null) {
    out.end();
    return undefined;
  }
  if (body instanceof BlobType) {
    return body.arrayBuffer().then((b) => {
      out.end(new Uint8Array(b));
    });
  }
  return pipeBody(body, out);
}

const HAS_TYPE = 1;
const HAS_LENGTH = 2;

/** Flatten HeadersInit into name, value pairs; says whether type and length were among them. */
function pushHeaders(list: (string | number)[], h: ResponseState['init']): number {
  let given = 0;
  if (!h) return 0;
  if (h instanceof HeadersType) {
    for (const [k, v] of h) {
      list.push(k, v);
      given |= noted(k);
    }
  } else if (Array.isArray(h)) {
    for (const [k, v] of h as [string, string][]) {
      list.push(k, v);
      given |= noted(k);
    }
  } else {
    for (const k in h) {
      list.push(k, (h as Record<string, string>)[k] as string);
      given |= noted(k);
    }
  }
  return given;
}

/** HAS_TYPE or HAS_LENGTH when `k` is one of those headers (in any case), else 0. */
function noted(k: string): number {
  if (isHeader(k, 'content-type')) return HAS_TYPE;
  return isHeader(k, 'content-length') ? HAS_LENGTH : 0;
}

/** Stream a body with backpressure; stop reading when the client goes away. */
async function pipeBody(body: ReadableStream, out: ServerResponse): Promise<void> {
  // Headers go out now: a stream's first chunk may be a while coming (server-sent events).
  out.flushHeaders();
  const reader = body.getReader();
  const cancel = () => {
    reader.cancel().catch(() => {});
  };
  out.once('close', cancel);
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (out.destroyed) return;
      if (!out.write(value)) await drained(out);
    }
    out.end();
  } finally {
    out.off('close', cancel);
  }
}

function drained(out: ServerResponse): Promise<void> {
  return new Promise((done) => {
    const go = () => {
      out.off('drain', go);
      out.off('close', go);
      done();
    };
    out.on('drain', go);
    out.on('close', go);
  });
}

function describe(v: unknown): string {
  if (v === null || v === undefined) return String(v);
  return typeof v === 'object'
    ? `an object (${v.constructor?.name ?? 'no constructor'})`
    : typeof v;
}
