/**
 * The PROXY protocol (HAProxy's, versions 1 and 2): a header a load balancer sends at the
 * start of each connection naming the client's address, for proxies that pass TCP through
 * (HAProxy in TCP mode, AWS NLB) and so cannot add HTTP headers.
 *
 * The header is read off the socket before the HTTP server sees it: bounded (107 bytes for
 * v1, 16 + its length for v2) and on a short timer; what follows it is put back with
 * unshift(), and the source address it names shadows the socket's own, so the app, the
 * access log and clientOf() all see the client.
 * Spec: https://www.haproxy.org/download/2.9/doc/proxy-protocol.txt
 */

import type { Socket } from 'node:net';
import { isIPv4, isIPv6 } from 'node:net';
import type { ProxyProtocolMode } from '../config/settings.ts';
import { PROXIED } from '../proxy/client.ts';
import type { TrustList } from '../proxy/ip.ts';

export interface ProxySource {
  readonly address: string;
  readonly port: number;
  readonly family: 'IPv4' | 'IPv6';
}

export type ProxyParse =
  /** Not enough bytes yet to tell. */
  | { readonly kind: 'more' }
  /** No PROXY header (auto only): serve the bytes as they are. */
  | { readonly kind: 'none' }
  /** A header of `length` bytes; source null for LOCAL, UNKNOWN and AF_UNSPEC / AF_UNIX. */
  | {
      readonly kind: 'header';
      readonly version: 1 | 2;
      readonly length: number;
      readonly source: ProxySource | null;
    }
  | { readonly kind: 'error'; readonly reason: string };

const V1_PREFIX = Buffer.from('PROXY ');
const V1_MAX = 107;
export const V2_SIGNATURE = Buffer.from([
  0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a,
]);

/** Whether `buf` so far is a prefix of `sig` (or starts with all of it). */
function startsLike(buf: Buffer, sig: Buffer): boolean {
  const n = Math.min(buf.length, sig.length);
  return buf.subarray(0, n).equals(sig.subarray(0, n));
}

/** Parse the start of a connection for a PROXY header, as `mode` allows. */
export function parseProxyHeader(buf: Buffer, mode: Exclude<ProxyProtocolMode, 'off'>): ProxyParse {
  if (buf.length === 0) return { kind: 'more' };
  const v1 = mode !== 'v2' && startsLike(buf, V1_PREFIX);
  const v2 = mode !== 'v1' && startsLike(buf, V2_SIGNATURE);
  if (v1) return parseV1(buf);
  if (v2) return parseV2(buf);
  if (mode === 'auto') return { kind: 'none' };
  return { kind: 'error', reason: `no PROXY protocol ${mode} header` };
}

const PORT = /^(?:0|[1-9]\d{0,4})$/;

function parseV1(buf: Buffer): ProxyParse {
  const end = buf.indexOf('\r\n');
  if (end < 0) {
    return buf.length >= V1_MAX
      ? { kind: 'error', reason: 'PROXY v1 header longer than 107 bytes' }
      : { kind: 'more' };
  }
  if (end + 2 > V1_MAX) return { kind: 'error', reason: 'PROXY v1 header longer than 107 bytes' };
  const line = buf.toString('latin1', 0, end);
  const parts = line.split(' ');
  const length = end + 2;
  // `PROXY UNKNOWN` may carry anything after it; the receiver ignores it.
  if (parts[1] === 'UNKNOWN') return { kind: 'header', version: 1, length, source: null };
  if (parts.length !== 6) return { kind: 'error', reason: 'malformed PROXY v1 header' };
  const [, proto, src = '', dst = '', sport = '', dport = ''] = parts;
  const family = proto === 'TCP4' ? 'IPv4' : proto === 'TCP6' ? 'IPv6' : null;
  if (!family) return { kind: 'error', reason: `PROXY v1: unknown protocol ${proto}` };
  const valid = family === 'IPv4' ? isIPv4 : isIPv6;
  if (!valid(src) || !valid(dst)) {
    return { kind: 'error', reason: `PROXY v1: bad ${proto} address` };
  }
  if (!PORT.test(sport) || !PORT.test(dport) || Number(sport) > 65535 || Number(dport) > 65535) {
    return { kind: 'error', reason: 'PROXY v1: bad port' };
  }
  return {
    kind: 'header',
    version: 1,
    length,
    source: { address: src, port: Number(sport), family },
  };
}

/** Address block sizes for AF_INET, AF_INET6, AF_UNIX (v2 section 2.2). */
const V2_ADDRESS_BYTES: Readonly<Record<number, number>> = { 1: 12, 2: 36, 3: 216 };

function parseV2(buf: Buffer): ProxyParse {
  if (buf.length < 16) return { kind: 'more' };
  const verCmd = buf[12] as number;
  if (verCmd >> 4 !== 2) return { kind: 'error', reason: 'PROXY v2: bad version' };
  const command = verCmd & 0x0f;
  if (command > 1) return { kind: 'error', reason: `PROXY v2: unknown command ${command}` };
  const famProto = buf[13] as number;
  const family = famProto >> 4;
  const transport = famProto & 0x0f;
  if (family > 3 || transport > 2) {
    return { kind: 'error', reason: 'PROXY v2: unknown address family or protocol' };
  }
  const length = 16 + buf.readUInt16BE(14);
  if (buf.length < length) return { kind: 'more' };
  // LOCAL (a health check from the proxy itself): the connection's own address stands.
  if (command === 0 || family === 0) return { kind: 'header', version: 2, length, source: null };
  const need = V2_ADDRESS_BYTES[family] as number;
  if (length - 16 < need) return { kind: 'error', reason: 'PROXY v2: address block too short' };
  // TLVs after the addresses (ALPN, authority, SSL, AWS VPC endpoint id …) are skipped.
  if (family === 1) {
    const address = [...buf.subarray(16, 20)].join('.');
    return {
      kind: 'header',
      version: 2,
      length,
      source: { address, port: buf.readUInt16BE(24), family: 'IPv4' },
    };
  }
  if (family === 2) {
    const groups: string[] = [];
    for (let i = 0; i < 16; i += 2) groups.push(buf.readUInt16BE(16 + i).toString(16));
    return {
      kind: 'header',
      version: 2,
      length,
      source: { address: compressV6(groups), port: buf.readUInt16BE(48), family: 'IPv6' },
    };
  }
  // AF_UNIX: a path is no client address; the connection's own stands.
  return { kind: 'header', version: 2, length, source: null };
}

/** `2001:db8:0:0:0:0:0:1` → `2001:db8::1` (the longest run of zero groups, as RFC 5952). */
function compressV6(groups: string[]): string {
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const s =
    best < 0
      ? groups.join(':')
      : `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
  // Mapped IPv4 reads as Node shows it for a dual-stack socket.
  return /^::ffff:[0-9a-f]{1,4}:[0-9a-f]{1,4}$/.test(s) ? mappedV4(s) : s;
}

function mappedV4(s: string): string {
  const [hi = '0', lo = '0'] = s.slice(7).split(':');
  const a = Number.parseInt(hi, 16);
  const b = Number.parseInt(lo, 16);
  return `::ffff:${a >> 8}.${a & 0xff}.${b >> 8}.${b & 0xff}`;
}

export interface ProxyProtocolOptions {
  readonly mode: Exclude<ProxyProtocolMode, 'off'>;
  /** Peers allowed to send a header (`--proxy-allow-from`). */
  readonly allowFrom: TrustList;
  /** A connection was closed: no header when one is required, a bad one, or a disallowed peer. */
  readonly onRefused?: (reason: string, peer: string) => void;
}

/** How long a connection may take to send its PROXY header. */
export const PROXY_HEADER_TIMEOUT_MS = 5000;

/**
 * Read the PROXY header (if any) off `socket`, then hand the socket on with the rest of its
 * bytes put back. In `auto` mode a connection whose first bytes are not a header is handed on
 * as it is; so is one that sends nothing before the timer (a browser's preconnect), which
 * node:http's own header timeout then looks after.
 */
export function readProxyHeader(
  socket: Socket,
  opts: ProxyProtocolOptions,
  ready: (socket: Socket) => void,
): void {
  const peer = socket.remoteAddress;
  // A unix-socket peer has no address; as with --forwarded-allow-ips, it is trusted unless
  // the list is empty.
  const allowed = peer === undefined ? !opts.allowFrom.empty : opts.allowFrom.has(peer);
  const shown = peer ?? 'unix socket';
  if (!allowed && opts.mode !== 'auto') {
    refuse(socket, opts, `peer not in --proxy-allow-from (PROXY ${opts.mode} required)`, shown);
    return;
  }
  let buf: Buffer = Buffer.alloc(0);
  const done = () => {
    clearTimeout(timer);
    socket.off('data', onData);
    socket.off('error', onError);
    socket.off('end', onEnd);
  };
  const onError = () => {
    done();
    socket.destroy();
  };
  const onEnd = () => {
    done();
    socket.destroy();
  };
  const timer = setTimeout(() => {
    done();
    if (buf.length === 0 && opts.mode === 'auto') {
      ready(socket);
      return;
    }
    refuse(socket, opts, 'timed out waiting for the PROXY header', shown);
  }, PROXY_HEADER_TIMEOUT_MS);
  timer.unref();
  const onData = (chunk: Buffer) => {
    buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
    const r = parseProxyHeader(buf, opts.mode);
    if (r.kind === 'more') return;
    done();
    socket.pause();
    if (r.kind === 'error') {
      refuse(socket, opts, r.reason, shown);
      return;
    }
    if (r.kind === 'header') {
      if (!allowed) {
        refuse(socket, opts, 'PROXY header from a peer not in --proxy-allow-from', shown);
        return;
      }
      if (r.source) shadow(socket, r.source);
      buf = buf.subarray(r.length);
    }
    if (buf.length) socket.unshift(buf);
    ready(socket);
  };
  socket.on('data', onData);
  socket.on('error', onError);
  socket.on('end', onEnd);
  socket.resume();
}

/** How long a refused connection may take to close its side after ours is closed. */
const REFUSED_LINGER_MS = 1000;

/**
 * Close a refused connection cleanly: FIN, not RST (which a destroy with unread bytes would
 * send), reading and dropping whatever still comes, for at most REFUSED_LINGER_MS.
 */
function refuse(socket: Socket, opts: ProxyProtocolOptions, reason: string, peer: string): void {
  opts.onRefused?.(reason, peer);
  socket.on('error', () => {});
  socket.removeAllListeners('data');
  socket.end();
  socket.resume();
  setTimeout(() => socket.destroy(), REFUSED_LINGER_MS).unref();
}

const SHADOWED = ['remoteAddress', 'remotePort', 'remoteFamily', PROXIED] as const;

/**
 * A TLS socket over a socket that carried a PROXY header answers with the TLS socket's own
 * address getters: give it the header's client too.
 */
export function carryPeer(from: Socket, to: Socket): void {
  if (!(from as unknown as Record<symbol, unknown>)[PROXIED]) return;
  for (const key of SHADOWED) {
    Object.defineProperty(to, key, {
      value: (from as unknown as Record<string | symbol, unknown>)[key],
      configurable: true,
    });
  }
}

/** The client named by the header becomes the socket's peer, for everyone who asks. */
function shadow(socket: Socket, src: ProxySource): void {
  Object.defineProperties(socket, {
    remoteAddress: { value: src.address, configurable: true },
    remotePort: { value: src.port, configurable: true },
    remoteFamily: { value: src.family, configurable: true },
    [PROXIED]: { value: true, configurable: true },
  });
}
