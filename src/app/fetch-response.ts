/**
 * A Response that costs almost nothing to make. undici's constructor takes ~4 µs (more than
 * serving a hello-world request), so while a fetch app is served, the global `Response` is
 * this class: it keeps status, body and headers as given, the bridge writes them straight to
 * the socket, and a real Response is built only if the app reads something only a real one
 * has (the body stream, text(), clone() …). The idea is @hono/node-server's; the measurements
 * are in docs/benchmarks.md.
 */

const NativeResponse = globalThis.Response;

type HeadersInit = ConstructorParameters<typeof Headers>[0];
type BodyInit = ConstructorParameters<typeof Response>[0];

/** What the bridge writes without building a real Response. */
export interface ResponseState {
  readonly status: number;
  readonly statusText: string | undefined;
  readonly body: string | Uint8Array | Blob | ReadableStream | null;
  /** As the app gave them. */
  readonly init: HeadersInit | undefined;
  /** Content-Type the Fetch spec derives from the body, when the headers give none. */
  defaultType: string | undefined;
  /**
   * The Response's own Headers, made when the app first reads `response.headers` (middleware
   * may then change them): from then on the bridge writes these.
   */
  own: Headers | undefined;
}

export const STATE = Symbol('corral.response');

const NULL_BODY_STATUS = new Set([101, 103, 204, 205, 304]);

/** Body and init the fast path can keep as they are; undefined means "build a real one". */
function stateOf(body: unknown, init: ResponseInit | undefined): ResponseState | undefined {
  const status = init?.status ?? 200;
  // Out-of-range statuses and bodies on null-body statuses must throw as the spec says: the
  // real constructor does that.
  if (!Number.isInteger(status) || status < 200 || status > 599) return undefined;
  let b: ResponseState['body'];
  let defaultType: string | undefined;
  if (typeof body === 'string') {
    b = body;
    defaultType = 'text/plain;charset=UTF-8';
  } else if (body === null || body === undefined) {
    b = null;
  } else if (body instanceof Uint8Array || body instanceof ReadableStream) {
    b = body;
  } else if (body instanceof ArrayBuffer) {
    b = new Uint8Array(body);
  } else if (body instanceof Blob) {
    b = body;
    defaultType = body.type || undefined;
  } else {
    return undefined; // FormData, URLSearchParams, other views: the real constructor knows them
  }
  if (b !== null && NULL_BODY_STATUS.has(status)) return undefined;
  return {
    status,
    statusText: init?.statusText,
    body: b,
    init: init?.headers,
    defaultType,
    own: undefined,
  };
}

export class LightResponse {
  [STATE]: ResponseState | undefined;
  #real: Response | undefined;

  constructor(body?: BodyInit | null, init?: ResponseInit) {
    this[STATE] = stateOf(body, init);
    if (!this[STATE]) this.#real = new NativeResponse(body, init);
  }

  /** The real Response, built once; from then on it is the only truth. */
  #materialize(): Response {
    if (this.#real) return this.#real;
    const s = this[STATE] as ResponseState;
    this[STATE] = undefined;
    this.#real = new NativeResponse(s.body, {
      status: s.status,
      statusText: s.statusText,
      headers: s.own ?? s.init,
    });
    return this.#real;
  }

  get headers(): Headers {
    const s = this[STATE];
    if (!s) return this.#materialize().headers;
    if (!s.own) {
      s.own = new Headers(s.init);
      if (s.defaultType && !s.own.has('content-type')) s.own.set('content-type', s.defaultType);
    }
    return s.own;
  }

  get status(): number {
    return this[STATE]?.status ?? this.#materialize().status;
  }

  get ok(): boolean {
    const status = this.status;
    return status >= 200 && status < 300;
  }

  get statusText(): string {
    const s = this[STATE];
    return s ? (s.statusText ?? '') : this.#materialize().statusText;
  }

  static json(data: unknown, init?: ResponseInit): Response {
    const body = JSON.stringify(data);
    // undefined, functions, symbols: the real one raises the spec's TypeError.
    if (body === undefined) return NativeResponse.json(data, init);
    const r = new LightResponse(body, init);
    const s = r[STATE];
    if (s) s.defaultType = 'application/json';
    return r as unknown as Response;
  }

  /** Real Responses (Response.error(), fetch() results) are Responses too. */
  static [Symbol.hasInstance](v: unknown): boolean {
    return v instanceof NativeResponse;
  }

  static {
    // Everything else a Response has is the real one's, built on first use.
    const proto = LightResponse.prototype as unknown as Record<string, unknown>;
    for (const k of ['body', 'bodyUsed', 'redirected', 'type', 'url'] as const) {
      Object.defineProperty(proto, k, {
        get(this: LightResponse) {
          return this.#materialize()[k];
        },
      });
    }
    for (const k of ['arrayBuffer', 'blob', 'bytes', 'clone', 'formData', 'json', 'text']) {
      Object.defineProperty(proto, k, {
        value(this: LightResponse) {
          const real = this.#materialize() as unknown as Record<string, () => unknown>;
          return (real[k] as () => unknown).call(real);
        },
      });
    }
    Object.setPrototypeOf(LightResponse, NativeResponse);
    Object.setPrototypeOf(LightResponse.prototype, NativeResponse.prototype);
  }
}

/** The state to write for a Response, or undefined for a real Response. */
export function responseState(r: Response): ResponseState | undefined {
  return (r as unknown as LightResponse | undefined)?.[STATE];
}

export { NativeResponse };
