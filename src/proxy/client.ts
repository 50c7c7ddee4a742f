/**
 * Who the client is and which scheme it used, with proxies in front: the forwarded headers
 * (`X-Forwarded-For`, RFC 7239 `Forwarded`, the secure scheme headers) count only when the
 * peer is trusted (`--forwarded-allow-ips`); the peer is the TCP peer, or the source a PROXY
 * protocol header named (worker/proxy-protocol.ts shadows the socket's address with it).
 *
 * The answer is computed when first asked for and kept on the request. The app server asks
 * up front only when a request carries one of the headers (a scan of its raw header names,
 * most ruled out by their length), to refuse conflicting scheme headers with a 400 before the app
 * runs.
 */
import type { IncomingMessage } from 'node:http';
import { rawHeader } from '../header-names.ts';
import { type Hop, parseForwarded, parseXForwardedFor } from './forwarded.ts';
import { displayAddress, TrustList } from './ip.ts';

/** The client of a request, as `clientOf(req)` gives it to apps. */
export interface Client {
  /**
   * The client's IP address (IPv4-mapped IPv6 shown as IPv4), or an RFC 7239 identifier
   * (`_hidden`, `unknown`) a trusted proxy gave instead; null for a unix-socket peer with no
   * forwarded address.
   */
  readonly address: string | null;
  /** The client's port, when known (X-Forwarded-For carries none). */
  readonly port: number | null;
  /** `https` when the connection is TLS or a trusted proxy says the client used HTTPS. */
  readonly scheme: 'http' | 'https';
  /** True when the address or the scheme came from a proxy (headers or PROXY protocol). */
  readonly proxied: boolean;
}

/** Symbols shared across module copies (an app may import corral from dist/ or src/). */
const CLIENT = Symbol.for('corral.client');
const CONFLICT = Symbol.for('corral.client.conflict');
/** On the HTTP server: its ForwardedPolicy. */
export const POLICY = Symbol.for('corral.forwarded-policy');
/** On a socket whose address came from a PROXY protocol header. */
export const PROXIED = Symbol.for('corral.proxy-protocol');

type Marked = IncomingMessage & { [CLIENT]?: Client; [CONFLICT]?: true };
type MarkedSocket = { [PROXIED]?: true; encrypted?: boolean; server?: { [POLICY]?: unknown } };

export class ForwardedPolicy {
  readonly trust: TrustList;
  /** [lower-case header name, lower-case value meaning https]. */
  readonly schemeHeaders: readonly (readonly [string, string])[];
  /** Every header whose presence means the request must be looked at. */
  readonly #names: readonly string[];

  constructor(allow: readonly string[], secureSchemeHeaders: Readonly<Record<string, string>>) {
    this.trust = new TrustList(allow);
    this.schemeHeaders = Object.entries(secureSchemeHeaders).map(
      ([k, v]) => [k.toLowerCase(), v.trim().toLowerCase()] as const,
    );
    this.#names = ['x-forwarded-for', 'forwarded', ...this.schemeHeaders.map(([k]) => k)];
  }

  /** Null when no peer is trusted: then no request is looked at. */
  static from(
    allow: readonly string[],
    secure: Readonly<Record<string, string>>,
  ): ForwardedPolicy | null {
    const p = new ForwardedPolicy(allow, secure);
    return p.trust.empty ? null : p;
  }

  /**
   * Whether a request carries any header this policy reads, from its raw header list (name,
   * value, name, …): node:http builds `req.headers` on first read, and a request without proxy
   * headers whose app never reads them should not pay for building it.
   */
  present(rawHeaders: readonly string[]): boolean {
    for (const name of this.#names) if (rawHeader(rawHeaders, name) !== undefined) return true;
    return false;
  }

  /**
   * A unix-socket peer has no address: it is trusted, as Gunicorn does, since only local
   * processes allowed by the socket file's mode can connect (in practice, the proxy).
   */
  trusts(peer: string | undefined): boolean {
    return peer === undefined || this.trust.has(peer);
  }
}

/**
 * The client of a request served by corral: its address, port and scheme, from trusted
 * proxy headers when there are any. Computed on first call and kept on the request.
 */
export function clientOf(req: IncomingMessage): Client {
  const r = req as Marked;
  return r[CLIENT] ?? resolve(r);
}

/** The access log's `%(h)s`: no object is made for a request without proxy headers. */
export function clientAddress(req: IncomingMessage): string | null {
  const known = (req as Marked)[CLIENT];
  if (known) return known.address;
  const peer = req.socket?.remoteAddress;
  return peer === undefined ? null : displayAddress(peer);
}

/** The scheme for a fetch request's URL: one property lookup unless the request was proxied. */
export function schemeOf(req: IncomingMessage): 'http' | 'https' {
  if ((req.socket as MarkedSocket | null)?.encrypted) return 'https';
  return (req as Marked)[CLIENT]?.scheme ?? 'http';
}

/**
 * Resolve the client now (the app server calls this for requests with proxy headers);
 * true when a trusted peer sent scheme headers that disagree (Gunicorn answers those 400).
 */
export function schemeConflict(req: IncomingMessage): boolean {
  const r = req as Marked;
  if (!r[CLIENT]) resolve(r);
  return r[CONFLICT] === true;
}

function resolve(req: Marked): Client {
  const socket = req.socket as (IncomingMessage['socket'] & MarkedSocket) | null;
  const peer = socket?.remoteAddress;
  const policy = (socket?.server?.[POLICY] as ForwardedPolicy | undefined) ?? null;
  let address = peer === undefined ? null : displayAddress(peer);
  let port = socket?.remotePort ?? null;
  let scheme: Client['scheme'] = socket?.encrypted ? 'https' : 'http';
  let proxied = socket?.[PROXIED] === true;
  if (policy?.trusts(peer)) {
    const h = req.headers;
    const hop = clientHop(h, policy);
    if (hop) {
      address = hop.ip ? displayAddress(hop.address) : hop.address;
      port = hop.port;
      proxied = true;
    }
    let said: Client['scheme'] | null = null;
    const say = (s: Client['scheme']) => {
      if (said !== null && said !== s) req[CONFLICT] = true;
      said = s;
    };
    for (const [name, https] of policy.schemeHeaders) {
      const v = h[name];
      if (typeof v !== 'string') continue;
      // Appended lists (`https, http`): the nearest proxy, which is trusted, wrote the last.
      say(lastItem(v) === https ? 'https' : 'http');
    }
    const proto = hop?.proto;
    if (proto === 'https' || proto === 'wss') say('https');
    else if (proto === 'http' || proto === 'ws') say('http');
    if (said !== null) {
      scheme = said;
      proxied = true;
    }
  }
  const client: Client = { address, port, scheme, proxied };
  req[CLIENT] = client;
  return client;
}

function lastItem(v: string): string {
  const comma = v.lastIndexOf(',');
  return (comma < 0 ? v : v.slice(comma + 1)).trim().toLowerCase();
}

/**
 * The client's hop: walking the list from the right (the hop nearest to us), skip the
 * trusted proxies; the first untrusted one is the client. Every hop left of it could have
 * been written by the client itself, so none of them is believed. When every hop is trusted,
 * the left-most is the client. X-Forwarded-For is used when present, `Forwarded` otherwise.
 */
function clientHop(h: IncomingMessage['headers'], policy: ForwardedPolicy): Hop | null {
  const xff = h['x-forwarded-for'];
  const fwd = h.forwarded;
  const hops =
    typeof xff === 'string'
      ? parseXForwardedFor(xff)
      : typeof fwd === 'string'
        ? parseForwarded(fwd)
        : null;
  if (!hops || hops.length === 0) return null;
  for (let i = hops.length - 1; i > 0; i--) {
    const hop = hops[i] as Hop;
    if (!hop.ip || !policy.trust.has(hop.address)) return hop;
  }
  return hops[0] as Hop;
}
