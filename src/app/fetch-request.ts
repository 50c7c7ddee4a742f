/**
 * The Request a fetch app is given. Building an undici Request costs ~2 µs and a WHATWG URL
 * parse ~0.2 µs, per request; most handlers read only the method, the URL and a header. So
 * this object is a Request (`instanceof Request` holds) whose method and url come straight
 * from the IncomingMessage, whose headers are built when first read, and whose other members
 * (body, signal, text(), clone() …) come from a real Request built the first time one is
 * touched. The idea is @hono/node-server's.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { rawHeader } from '../header-names.ts';
import { schemeOf } from '../proxy/client.ts';

const NativeRequest = globalThis.Request;

/** Methods undici refuses in `new Request()`; llhttp accepts them. */
const FORBIDDEN = new Set(['CONNECT', 'TRACE', 'TRACK']);

/**
 * Hosts and request targets that a WHATWG URL parse would leave exactly as they are, so the
 * URL string can be built by concatenation. Anything else (upper case, IDN, IPv6, default
 * ports, dot segments, characters the parser escapes) goes through `new URL()`.
 */
const PLAIN_HOST =
  /^(?:(?:[a-z0-9-]+\.)*[a-z][a-z0-9-]*|(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d))(?::[1-9]\d{0,4})?$/;
const PLAIN_TARGET = /^\/[\w\-.~!$&()*+,;=:@/%?]*$/;
const DOT_SEGMENT = /\/(?:\.|%2e)/i;

export class BadRequestError extends Error {}

/**
 * The last Host header that passed the plain-host check, per bridge: nearly every request
 * names the same one, and a string compare is cheaper than the regular expression.
 */
export interface HostMemo {
  host: string;
}

/** The absolute URL of a request, as `new Request()` would have it; throws BadRequestError. */
export function requestUrl(incoming: IncomingMessage, memo: HostMemo): string {
  const target = incoming.url ?? '/';
  // TLS, or a trusted proxy's X-Forwarded-Proto and the like (proxy/client.ts).
  const scheme = schemeOf(incoming);
  // A request in absolute form names its own origin.
  if (target[0] !== '/') {
    if (!/^https?:\/\//i.test(target)) throw new BadRequestError('bad request target');
    return parse(target).href;
  }
  // HTTP/2 clients name the origin in `:authority` and usually send no Host.
  // From the raw list: node:http builds `req.headers` on first read, which an app that never
  // reads it should not pay for. A request with two is refused before it gets here (limits.ts).
  const host = rawHeader(incoming.rawHeaders, 'host') ?? authority(incoming) ?? localHost(incoming);
  if (PLAIN_TARGET.test(target) && !DOT_SEGMENT.test(target) && plainHost(host, memo)) {
    return `${scheme}://${host}${target}`;
  }
  if (target.includes('\\')) throw new BadRequestError('backslash in request target');
  const url = parse(`${scheme}://${host}${target}`);
  // A Host header with a path, user info or other junk in it parses as something else.
  const lower = host.toLowerCase();
  if (url.host !== lower && url.hostname !== lower.replace(/:\d+$/, '')) {
    throw new BadRequestError('bad host header');
  }
  return url.href;
}

function plainHost(host: string, memo: HostMemo): boolean {
  if (host === memo.host) return true;
  if (!PLAIN_HOST.test(host) || host.includes('xn--')) return false;
  // A default port is dropped by the parser, and a port past 65535 refused.
  const port = host.lastIndexOf(':');
  if (port > 0) {
    const n = Number(host.slice(port + 1));
    if (n === 80 || n === 443 || n > 65535) return false;
  }
  memo.host = host;
  return true;
}

function parse(u: string): URL {
  try {
    return new URL(u);
  } catch {
    throw new BadRequestError('bad request URL');
  }
}

function authority(incoming: IncomingMessage): string | undefined {
  const a = incoming.headers[':authority'];
  return typeof a === 'string' && a ? a : undefined;
}

/** HTTP/1.0 clients may send no Host: use the address the connection came in on. */
function localHost(incoming: IncomingMessage): string {
  const { localAddress = 'localhost', localPort } = incoming.socket ?? {};
  const addr = localAddress.includes(':') ? `[${localAddress}]` : localAddress;
  return localPort ? `${addr}:${localPort}` : addr;
}

export class LazyRequest {
  readonly #incoming: IncomingMessage;
  readonly #outgoing: ServerResponse;
  readonly #url: string;
  #headers: Headers | undefined;
  #real: Request | undefined;

  constructor(incoming: IncomingMessage, outgoing: ServerResponse, url: string) {
    this.#incoming = incoming;
    this.#outgoing = outgoing;
    this.#url = url;
  }

  get method(): string {
    return this.#incoming.method ?? 'GET';
  }

  get url(): string {
    return this.#url;
  }

  get headers(): Headers {
    if (this.#headers) return this.#headers;
    const raw = this.#incoming.rawHeaders;
    const h = new Headers();
    if (this.#incoming.httpVersionMajor === 2) {
      // HTTP/2 pseudo-headers (`:method`, `:path` …) are not header names a Headers takes.
      for (let i = 0; i < raw.length; i += 2) {
        const name = raw[i] as string;
        if (name[0] !== ':') h.append(name, raw[i + 1] as string);
      }
    } else {
      for (let i = 0; i < raw.length; i += 2) h.append(raw[i] as string, raw[i + 1] as string);
    }
    this.#headers = h;
    return h;
  }

  /** The real Request, built once, with the body and an abort signal tied to the response. */
  toRequest(): Request {
    if (this.#real) return this.#real;
    const incoming = this.#incoming;
    const outgoing = this.#outgoing;
    const method = this.method;
    const ac = new AbortController();
    // The client went away before the response was done: tell the app.
    outgoing.once('close', () => {
      if (!outgoing.writableFinished) ac.abort(new Error('client closed the connection'));
    });
    const init: RequestInit & { duplex?: 'half' } = {
      method: FORBIDDEN.has(method) ? 'GET' : method,
      headers: this.headers,
      signal: ac.signal,
    };
    if (method !== 'GET' && method !== 'HEAD' && !FORBIDDEN.has(method)) {
      init.body = Readable.toWeb(incoming) as ReadableStream;
      init.duplex = 'half';
      // The stream now holds the request body; if the app never reads all of it, node:http
      // no longer discards the rest, and the connection would stall: discard it after the
      // response, as node:http does for a body nobody touched.
      outgoing.once('finish', () => {
        if (incoming.complete) return;
        incoming.removeAllListeners('data');
        incoming.resume();
      });
    }
    this.#real = new NativeRequest(this.#url, init);
    return this.#real;
  }

  static {
    const proto = LazyRequest.prototype as unknown as Record<string, unknown>;
    for (const k of [
      'body',
      'bodyUsed',
      'cache',
      'credentials',
      'destination',
      'duplex',
      'integrity',
      'keepalive',
      'mode',
      'redirect',
      'referrer',
      'referrerPolicy',
      'signal',
    ]) {
      Object.defineProperty(proto, k, {
        get(this: LazyRequest) {
          return (this.toRequest() as unknown as Record<string, unknown>)[k];
        },
      });
    }
    for (const k of ['arrayBuffer', 'blob', 'bytes', 'clone', 'formData', 'json', 'text']) {
      Object.defineProperty(proto, k, {
        value(this: LazyRequest) {
          const real = this.toRequest() as unknown as Record<string, () => unknown>;
          return (real[k] as () => unknown).call(real);
        },
      });
    }
  }
}

/**
 * The global Request while a fetch app is served: `new Request(request)` on the request the
 * app was given works (undici's constructor would not know the lazy one), a streamed body
 * needs no `duplex` option, and `instanceof Request` holds for every kind of Request.
 */
export class CompatRequest extends NativeRequest {
  constructor(
    input: Request | string | URL | LazyRequest,
    init?: RequestInit & { duplex?: 'half' },
  ) {
    const real = input instanceof LazyRequest ? input.toRequest() : input;
    if (init?.body && typeof (init.body as ReadableStream).getReader === 'function') {
      init.duplex ??= 'half';
    }
    super(real, init);
  }

  static override [Symbol.hasInstance](v: unknown): boolean {
    return v instanceof NativeRequest;
  }
}

// A lazy request is a Request to every check; its own getters shadow the real ones.
Object.setPrototypeOf(LazyRequest.prototype, CompatRequest.prototype);

export { NativeRequest };
