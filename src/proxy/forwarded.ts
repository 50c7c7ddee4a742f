/**
 * The headers proxies use to say who the client was: `X-Forwarded-For` (a comma-separated
 * list of addresses, the client first, each proxy appending the peer it saw) and RFC 7239
 * `Forwarded` (`for=192.0.2.60;proto=https, for="[2001:db8::1]:4711"`). Both read as a list
 * of hops, oldest first; which hop is the client is decided by the trust list (client.ts).
 */
import { isIPv4, isIPv6 } from 'node:net';

/** One hop: who it came from and, from `Forwarded`, the scheme it was received on. */
export interface Hop {
  /**
   * An IP address (IPv6 without brackets), or an RFC 7239 obfuscated identifier (`_hidden`)
   * or `unknown` when the proxy withholds the address or the entry is not one.
   */
  readonly address: string;
  readonly port: number | null;
  /** True when `address` is an IP address (so it can be matched against a trust list). */
  readonly ip: boolean;
  /** `proto=` of this `Forwarded` element, lower case; null when absent (or from XFF). */
  readonly proto: string | null;
}

const UNKNOWN: Hop = { address: 'unknown', port: null, ip: false, proto: null };

/** `X-Forwarded-For`: `203.0.113.9, 10.0.0.2`; `[v6]:port` and `v4:port` are read too. */
export function parseXForwardedFor(value: string): Hop[] {
  const hops: Hop[] = [];
  for (const part of value.split(',')) {
    const s = part.trim();
    if (s) hops.push(node(s, true) ?? UNKNOWN);
  }
  return hops;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const OBFUSCATED = /^_[A-Za-z0-9._-]+$/;

/**
 * A node (RFC 7239 section 6): `192.0.2.1`, `[2001:db8::1]`, either with `:port`, `unknown`,
 * or `_obfuscated` (also as the port). `lenient` (XFF) also takes a bare IPv6 address.
 */
function node(s: string, lenient: boolean): Hop | null {
  let host = s;
  let portText: string | null = null;
  if (s[0] === '[') {
    const end = s.indexOf(']');
    if (end < 0) return null;
    host = s.slice(1, end);
    if (!isIPv6(host)) return null;
    const rest = s.slice(end + 1);
    if (rest) {
      if (rest[0] !== ':') return null;
      portText = rest.slice(1);
    }
  } else if (lenient && isIPv6(s)) {
    return { address: s, port: null, ip: true, proto: null };
  } else {
    const colon = s.indexOf(':');
    if (colon >= 0) {
      host = s.slice(0, colon);
      portText = s.slice(colon + 1);
    }
    const named = host === 'unknown' || OBFUSCATED.test(host);
    if (!named && !isIPv4(host)) return null;
  }
  let port: number | null = null;
  if (portText !== null) {
    if (/^\d{1,5}$/.test(portText) && Number(portText) <= 65535) port = Number(portText);
    else if (!OBFUSCATED.test(portText)) return null;
  }
  const ip = isIPv4(host) || isIPv6(host);
  return { address: host, port, ip, proto: null };
}

/**
 * `Forwarded` (RFC 7239): elements separated by commas, `name=value` pairs by semicolons,
 * values tokens or quoted strings. Null when it does not parse: a header a client forged
 * badly is not a reason to refuse its request, and the peer address is used instead.
 */
export function parseForwarded(value: string): Hop[] | null {
  const hops: Hop[] = [];
  let i = 0;
  const n = value.length;
  let forNode: Hop | null = null;
  let proto: string | null = null;
  let sawFor = false;
  let pairs = 0;
  const skipSpace = () => {
    while (i < n && (value[i] === ' ' || value[i] === '\t')) i++;
  };
  const endElement = () => {
    // An empty element (`a, , b`, a trailing comma) is allowed by the list syntax.
    if (pairs === 0) return;
    pairs = 0;
    const hop = sawFor ? forNode : UNKNOWN;
    hops.push({ ...(hop ?? UNKNOWN), proto });
    forNode = null;
    proto = null;
    sawFor = false;
  };
  for (;;) {
    skipSpace();
    if (i >= n) break;
    if (value[i] === ',') {
      i++;
      endElement();
      continue;
    }
    // name
    const eq = value.indexOf('=', i);
    if (eq < 0) return null;
    const name = value.slice(i, eq).trim().toLowerCase();
    if (!TOKEN.test(name)) return null;
    i = eq + 1;
    // value: quoted-string or token
    let v: string;
    if (value[i] === '"') {
      i++;
      v = '';
      for (;;) {
        if (i >= n) return null;
        const c = value[i++] as string;
        if (c === '"') break;
        if (c === '\\') {
          if (i >= n) return null;
          v += value[i++];
        } else v += c;
      }
    } else {
      const start = i;
      while (i < n && value[i] !== ';' && value[i] !== ',' && value[i] !== ' ') i++;
      v = value.slice(start, i);
      if (!TOKEN.test(v)) return null;
    }
    pairs++;
    if (name === 'for') {
      sawFor = true;
      forNode = node(v, false);
      if (!forNode) return null;
    } else if (name === 'proto') {
      proto = v.toLowerCase();
    }
    skipSpace();
    if (i >= n) break;
    if (value[i] === ';') i++;
    else if (value[i] === ',') {
      i++;
      endElement();
    } else return null;
  }
  endElement();
  return hops;
}
