/**
 * Request limits and strict parsing, on top of what node:http's parser (llhttp, strict mode:
 * `insecureHTTPParser` is never set) already refuses. llhttp refuses bad tokens, bare CR or
 * LF, NUL and control bytes, obs-fold, duplicate or malformed Content-Length, Content-Length
 * with Transfer-Encoding, chunked not last, bad chunk sizes, long chunk extensions and unknown
 * HTTP/1.x minor versions; node:http refuses HTTP/1.1 without Host. What it lets through and
 * RFC 9110/9112 forbid is refused here: duplicate Host, asterisk-form on a method other than
 * OPTIONS, HTTP/0.9 and HTTP/2.0 request lines, Transfer-Encoding on HTTP/1.0 or with a coding
 * other than chunked, and framing or routing fields in chunked trailers. Gunicorn's three size
 * limits are checked here exactly; llhttp's own head cap is set just above them, as a backstop.
 *
 * The per-request check is a few comparisons and one loop over the raw header array (which
 * also finds Host, Content-Length and Transfer-Encoding by name length first). Only chunked
 * requests get more: a counting `push` and a trailer check at the end of the body.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { type Config, REQUEST_LIMIT_MAX } from '../config/settings.ts';
import { isHeader } from '../header-names.ts';

// Not an ESM import: node:http's namespace loads undici (with crypto, tls and http2) into
// every worker, 8 MiB of RSS (src/worker/wire.ts).
const { STATUS_CODES } = process.getBuiltinModule('node:http');

export interface Limits {
  /** Longest request line in bytes. */
  readonly line: number;
  readonly fields: number;
  /** Longest `name: value` in bytes. */
  readonly fieldSize: number;
  /** Largest body in bytes; 0 = unlimited. */
  readonly body: number;
  /** Node's headersTimeout and requestTimeout, in ms; 0 = off. */
  readonly headerTimeoutMs: number;
  readonly bodyTimeoutMs: number;
}

type LimitSettings = Pick<
  Config,
  | 'limitRequestLine'
  | 'limitRequestFields'
  | 'limitRequestFieldSize'
  | 'limitRequestBody'
  | 'headerTimeout'
  | 'bodyTimeout'
>;

export function limitsFrom(c: LimitSettings): Limits {
  const headerTimeoutMs = Math.round(c.headerTimeout * 1000);
  const bodyMs = Math.round(c.bodyTimeout * 1000);
  return {
    line: c.limitRequestLine || REQUEST_LIMIT_MAX.line,
    fields: c.limitRequestFields || REQUEST_LIMIT_MAX.fields,
    fieldSize: c.limitRequestFieldSize || REQUEST_LIMIT_MAX.fieldSize,
    body: c.limitRequestBody,
    headerTimeoutMs,
    // node:http refuses a requestTimeout shorter than headersTimeout: the head is part of it.
    bodyTimeoutMs: bodyMs > 0 && headerTimeoutMs > bodyMs ? headerTimeoutMs : bodyMs,
  };
}

/** node:http's own options and properties, set from the limits. */
export function httpOptions(l: Limits) {
  return {
    // llhttp counts the target and each name and value (not separators): this is exactly what
    // the limits allow, so a head it cuts off is over one of them (414 or 431, see below).
    maxHeaderSize: Math.min(REQUEST_LIMIT_MAX.head, l.line + l.fields * l.fieldSize + 1),
    /** One over the limit, so "too many" is seen (node:http drops fields past this count). */
    maxHeadersCount: l.fields + 1,
    requireHostHeader: true,
  };
}

/**
 * How often the worker looks for slow clients (header and body timeouts) and idle keep-alive
 * connections: a quarter of the shortest timeout, at most every second (node:http's own
 * default check is every 30 s, which would let a 10 s header timeout run to 40 s); 0 when all
 * are off.
 */
export function connectionCheckEveryMs(l: Limits, keepAliveMs = 0): number {
  const timeouts = [l.headerTimeoutMs, l.bodyTimeoutMs, keepAliveMs].filter((t) => t > 0);
  return timeouts.length ? Math.min(1000, ...timeouts.map((t) => t / 4)) : 0;
}

/** Why a request or connection was refused: its status and a phrase for the log line. */
export interface Refusal {
  readonly status: 400 | 408 | 413 | 414 | 431;
  readonly reason: string;
}

export type OnRefused = (refusal: Refusal, client: string) => void;

/** The code of the error a refused request's body stream ends with (already logged). */
export const REFUSED_CODE = 'ERR_CORRAL_REQUEST_REFUSED';

/** Marks a socket whose remaining pipelined requests must not reach the app. */
const REFUSED = Symbol('corral.refused');
type Marked = Socket & { [REFUSED]?: true };

/**
 * Fields a chunked request's trailer must not carry (RFC 9110 §6.5.1): framing, routing,
 * request modifiers, authentication and payload processing. Content-Length and
 * Transfer-Encoding llhttp refuses itself; they are listed for completeness.
 */
const FORBIDDEN_TRAILERS = new Set([
  'authorization',
  'cache-control',
  'content-encoding',
  'content-length',
  'content-range',
  'content-type',
  'cookie',
  'expect',
  'host',
  'if-match',
  'if-modified-since',
  'if-none-match',
  'if-range',
  'if-unmodified-since',
  'max-forwards',
  'pragma',
  'proxy-authorization',
  'range',
  'te',
  'trailer',
  'transfer-encoding',
]);

/** The client's address for log lines. */
export function clientOf(socket: Socket | null | undefined): string {
  return socket?.remoteAddress ? `${socket.remoteAddress}:${socket.remotePort}` : 'unknown';
}

/** checkHead's answer for a valid request whose body is chunked. */
const CHUNKED: unique symbol = Symbol('corral.chunked');

/**
 * The checks on a request head: a refusal, CHUNKED (valid, with a chunked body to watch), or
 * null. Pure: the callers answer.
 */
export function checkHead(req: IncomingMessage, l: Limits): Refusal | typeof CHUNKED | null {
  const url = req.url as string;
  const method = req.method as string;
  // The request line: method SP target SP HTTP/x.y
  if (method.length + url.length + 10 > l.line) {
    return {
      status: 414,
      reason: `request line of ${method.length + url.length + 10} bytes over limit-request-line ${l.line}`,
    };
  }
  if (req.httpVersionMajor !== 1) {
    return { status: 400, reason: `HTTP/${req.httpVersion} request line` };
  }
  if (url.charCodeAt(0) === 42 /* * */ && (url !== '*' || method !== 'OPTIONS')) {
    return { status: 400, reason: `asterisk-form target on ${method}` };
  }
  const raw = req.rawHeaders;
  if (raw.length > 2 * l.fields) {
    return { status: 431, reason: `more than limit-request-fields ${l.fields} header fields` };
  }
  let hosts = 0;
  let te: string | null = null;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    const value = raw[i + 1] as string;
    if (name.length + value.length + 2 > l.fieldSize) {
      return {
        status: 431,
        reason: `header field ${name.slice(0, 64)} of ${name.length + value.length + 2} bytes over limit-request-field-size ${l.fieldSize}`,
      };
    }
    const n = name.length;
    if (n === 4) {
      if (isHeader(name, 'host')) hosts++;
    } else if (n === 14) {
      if (l.body > 0 && isHeader(name, 'content-length') && Number(value) > l.body) {
        return {
          status: 413,
          reason: `Content-Length ${value} over limit-request-body ${l.body}`,
        };
      }
    } else if (n === 17 && isHeader(name, 'transfer-encoding')) {
      te = value;
    }
  }
  if (hosts > 1) return { status: 400, reason: `${hosts} Host header fields` };
  if (te === null) return null;
  // llhttp has made sure chunked is the last coding; any other we do not decode, and the app
  // would take the coded bytes for the body (RFC 9112 §6.1 suggests 501; 400 keeps all
  // refusals of bad input in 4xx). On HTTP/1.0 the framing is faulty by definition (§6.1).
  if (req.httpVersionMinor === 0) {
    return { status: 400, reason: 'Transfer-Encoding on an HTTP/1.0 request' };
  }
  if (te.toLowerCase() !== 'chunked') {
    return {
      status: 400,
      reason: `Transfer-Encoding ${JSON.stringify(te.slice(0, 64))} (only chunked is supported)`,
    };
  }
  return CHUNKED;
}

/**
 * The per-request check, before the app sees the request. Answers a refused request itself
 * (and marks its connection so later pipelined requests are dropped) and returns true; for a
 * chunked body, installs the body watch.
 */
export function refuseRequest(
  req: IncomingMessage,
  res: ServerResponse,
  l: Limits,
  onRefused: OnRefused,
): boolean {
  const r = checkHead(req, l);
  if (r === null) return false;
  if (r === CHUNKED) {
    watchChunked(req, res, l, onRefused);
    return false;
  }
  return refuse(req, res, onRefused, r);
}

/**
 * The same check on an upgrade request (WebSocket), which has no response object: a refused
 * one is answered on the socket and never reaches the app's upgrade listener.
 */
export function refuseUpgrade(
  req: IncomingMessage,
  socket: Socket,
  l: Limits,
  onRefused: OnRefused,
): boolean {
  const r = checkHead(req, l);
  if (r === null || r === CHUNKED) return false;
  (socket as Marked)[REFUSED] = true;
  onRefused(r, clientOf(socket));
  endWith(socket, r.status);
  return true;
}

/** A connection on which a request was refused: drop what else was pipelined on it. */
export function closing(req: IncomingMessage): boolean {
  return (req.socket as Marked)[REFUSED] === true;
}

function refuse(
  req: IncomingMessage,
  res: ServerResponse,
  onRefused: OnRefused,
  refusal: Refusal,
): true {
  (req.socket as Marked)[REFUSED] = true;
  onRefused(refusal, clientOf(req.socket));
  answer(res, refusal.status);
  return true;
}

/** A short plain-text answer that closes the connection. */
export function answer(res: ServerResponse, status: number): void {
  const body = `${STATUS_CODES[status] ?? 'Error'}\n`;
  res.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    connection: 'close',
  });
  res.end(body);
}

/** The same answer written straight to a socket that has no response object (clientError). */
export function rawAnswer(status: number): string {
  const body = `${STATUS_CODES[status] ?? 'Error'}\n`;
  return `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`;
}

/**
 * A chunked body: count it as node:http's parser pushes it (the only per-chunk cost, and only
 * on chunked requests), and check the trailer fields when it ends. Past a limit the app gets
 * no more of the body; its request stream errors once the answer is out.
 */
function watchChunked(
  req: IncomingMessage,
  res: ServerResponse,
  l: Limits,
  onRefused: OnRefused,
): void {
  const push = req.push;
  let received = 0;
  let stopped = false;
  req.push = function (this: IncomingMessage, chunk: unknown, encoding?: BufferEncoding) {
    if (stopped) return false;
    if (chunk === null) {
      const bad = forbiddenTrailer(this.rawTrailers);
      if (bad) {
        stopped = true;
        stopBody(this, res, onRefused, {
          status: 400,
          reason: `forbidden field ${bad.slice(0, 64)} in the chunked trailer`,
        });
        return false;
      }
    } else if (l.body > 0) {
      received += (chunk as Buffer).length;
      if (received > l.body) {
        stopped = true;
        stopBody(this, res, onRefused, {
          status: 413,
          reason: `chunked body over limit-request-body ${l.body}`,
        });
        return false;
      }
    }
    return push.call(this, chunk, encoding);
  };
}

function forbiddenTrailer(raw: readonly string[]): string | null {
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    if (FORBIDDEN_TRAILERS.has(name.toLowerCase())) return name;
  }
  return null;
}

/**
 * Refuse a request whose body went wrong after the app got it: answer if the response has not
 * started (the app's later writes are dropped), else close the connection; then end the
 * request stream with an error, so the app never takes a partial body for a whole one.
 */
function stopBody(
  req: IncomingMessage,
  res: ServerResponse,
  onRefused: OnRefused,
  refusal: Refusal,
): void {
  const socket = req.socket;
  (socket as Marked)[REFUSED] = true;
  onRefused(refusal, clientOf(socket));
  const error = Object.assign(new Error(`request refused: ${refusal.reason}`), {
    code: REFUSED_CODE,
    status: refusal.status,
  });
  if (res.headersSent || res.writableEnded) {
    socket.destroy();
    req.destroy(error);
    return;
  }
  res.once('finish', () => req.destroy(error));
  answer(res, refusal.status);
  silence(res);
}

/** node:http's clientError, with what the parser knows when it gives up. */
export interface ClientError extends Error {
  code?: string;
  rawPacket?: Buffer;
  bytesParsed?: number;
}

type ParsedSocket = Socket & {
  parser?: { incoming?: IncomingMessage | null } | null;
  _httpMessage?: ServerResponse | null;
};

/**
 * The answer to a connection node:http's parser gave up on, or null when there is nobody to
 * answer (the client reset or closed it).
 */
export function clientErrorRefusal(err: ClientError, socket: Socket, l: Limits): Refusal | null {
  const code = err.code ?? '';
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    // Both timeouts end here; a request whose head was parsed is waiting for its body.
    const incoming = (socket as ParsedSocket).parser?.incoming;
    return incoming && !incoming.complete
      ? { status: 408, reason: `body not received within body-timeout ${l.bodyTimeoutMs / 1000} s` }
      : {
          status: 408,
          reason: `request head not received within header-timeout ${l.headerTimeoutMs / 1000} s`,
        };
  }
  if (code === 'HPE_HEADER_OVERFLOW') {
    // llhttp's head cap, or node:http's count of fields (maxHeadersCount): the same code.
    const seen = err.rawPacket?.subarray(0, err.bytesParsed ?? err.rawPacket.length);
    const text = seen ? seen.toString('latin1') : '';
    if (overflowInRequestLine(text, l)) {
      return { status: 414, reason: `request line over limit-request-line ${l.line}` };
    }
    const fields = METHOD_START.test(text) ? text.split('\n').length - 2 : 0;
    return {
      status: 431,
      reason:
        fields > l.fields
          ? `more than limit-request-fields ${l.fields} header fields`
          : `request head over ${httpOptions(l).maxHeaderSize} bytes (limit-request-line + limit-request-fields × limit-request-field-size)`,
    };
  }
  if (code.startsWith('HPE_')) {
    const what = err.message.replace(/^Parse Error: /, '');
    return { status: 400, reason: `malformed request (${code}: ${what})` };
  }
  return null;
}

const METHOD_START = /^[A-Z]+ /;

/**
 * Did llhttp's head cap cut the request line? `text` is the packet it failed on, up to where it
 * stopped; it judges: if the
 * head starts in it (a method), the first line end says; a packet in the middle of a head with
 * no line end and no space or tab can only be part of a long target (a field has `: `).
 */
function overflowInRequestLine(text: string, l: Limits): boolean {
  const lf = text.indexOf('\n');
  if (METHOD_START.test(text)) return lf === -1 || lf > l.line + 1;
  return text.length > 0 && lf === -1 && !/[ \t]/.test(text);
}

/** A response cut short by corral: the app's own late writes must not throw in the worker. */
const METHODS = [
  'writeHead',
  'setHeader',
  'appendHeader',
  'removeHeader',
  'write',
  'end',
  'flushHeaders',
];

export function silence(res: ServerResponse): void {
  for (const m of METHODS) {
    (res as unknown as Record<string, unknown>)[m] = function (this: unknown) {
      return m === 'write' ? true : this;
    };
  }
}

/** A client gets this long to read an answer and close before its connection is destroyed. */
const LINGER_MS = 2000;

/**
 * Write the answer and close our side; destroy the connection if the client has not closed
 * its side a while later: one that ignores our FIN (a slowloris) must not keep the slot.
 */
function endWith(socket: Socket, status: number): void {
  socket.end(rawAnswer(status));
  const timer = setTimeout(() => socket.destroy(), LINGER_MS);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
}

/**
 * Answer a clientError (limits, parse errors, timeouts) and close; log through onRefused.
 * node:http may report more errors for the same connection as more bytes arrive: only the
 * first is answered.
 */
export function answerClientError(
  err: ClientError,
  socket: Socket,
  l: Limits,
  onRefused: OnRefused,
): void {
  const s = socket as ParsedSocket & Marked;
  const res = s._httpMessage;
  if (s[REFUSED]) {
    // Already answered (or being answered): that answer closes the connection.
    if (!res && !socket.writableEnded) socket.destroy();
    return;
  }
  const refusal = clientErrorRefusal(err, socket, l);
  if (!refusal || !socket.writable || socket.destroyed) {
    socket.destroy();
    return;
  }
  s[REFUSED] = true;
  onRefused(refusal, clientOf(socket));
  const incoming = s.parser?.incoming;
  if (!res) {
    endWith(socket, refusal.status);
  } else if (incoming && !incoming.complete) {
    // The request being answered went wrong in its body (or it timed out): answer through
    // its response, so node:http's bookkeeping stays right; the app's later writes are dropped.
    if (res.headersSent) {
      socket.destroy();
      return;
    }
    res.on('error', () => {});
    answer(res, refusal.status);
    silence(res);
  } else {
    // An earlier request's response is still going out; the bad one was pipelined behind it.
    const end = () => endWith(socket, refusal.status);
    if (res.writableFinished) end();
    else res.once('finish', end);
  }
}
