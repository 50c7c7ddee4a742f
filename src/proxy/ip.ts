/**
 * IP addresses and the trust lists built from them (`--forwarded-allow-ips`,
 * `--proxy-allow-from`): single addresses, CIDR ranges and `*`. An IPv4-mapped IPv6 address
 * (`::ffff:127.0.0.1`, what a dual-stack socket reports for an IPv4 peer) is the IPv4 address
 * it maps, both as a peer and in a list, so `127.0.0.1` trusts it.
 */
import { isIPv4, isIPv6 } from 'node:net';

/** 4 bytes for IPv4 (and IPv4-mapped IPv6), 16 for IPv6; null when not an address. */
export function ipBytes(text: string): Uint8Array | null {
  const zone = text.indexOf('%');
  const s = zone >= 0 ? text.slice(0, zone) : text;
  if (isIPv4(s)) return v4(s);
  if (!isIPv6(s)) return null;
  const bytes = v6(s);
  return isMapped(bytes) ? bytes.subarray(12) : bytes;
}

function v4(s: string): Uint8Array {
  return Uint8Array.from(s.split('.'), Number);
}

/** Parse an address node:net already said is IPv6 (`::`, embedded dotted quads). */
function v6(s: string): Uint8Array {
  const out = new Uint8Array(16);
  let text = s;
  let tail: Uint8Array | null = null;
  const dot = text.lastIndexOf(':');
  if (text.includes('.', dot)) {
    tail = v4(text.slice(dot + 1));
    text = `${text.slice(0, dot + 1)}0:0`;
  }
  const [head = '', rest] = text.split('::');
  const left = head ? head.split(':') : [];
  const right = rest === undefined ? [] : rest ? rest.split(':') : [];
  const groups = [...left, ...Array(8 - left.length - right.length).fill('0'), ...right];
  groups.forEach((g, i) => {
    const n = Number.parseInt(g, 16);
    out[i * 2] = n >> 8;
    out[i * 2 + 1] = n & 0xff;
  });
  if (tail) out.set(tail, 12);
  return out;
}

function isMapped(b: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (b[i] !== 0) return false;
  return b[10] === 0xff && b[11] === 0xff;
}

/** The address as it is best shown: IPv4-mapped IPv6 as plain IPv4, zone kept. */
export function displayAddress(address: string): string {
  return address.length > 7 && address.startsWith('::ffff:') && isIPv4(address.slice(7))
    ? address.slice(7)
    : address;
}

interface Range {
  readonly bytes: Uint8Array;
  readonly prefix: number;
}

/** `10.0.0.0/8`, `2001:db8::/32`, `127.0.0.1` (a /32), `::1`; null when not one of these. */
export function parseRange(text: string): Range | null {
  const s = text.trim();
  const slash = s.indexOf('/');
  const addr = slash >= 0 ? s.slice(0, slash) : s;
  if (addr.includes('%')) return null;
  const full = isIPv6(addr) ? v6(addr) : isIPv4(addr) ? v4(addr) : null;
  if (!full) return null;
  const bits = full.length * 8;
  let prefix = bits;
  if (slash >= 0) {
    const p = s.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p) || Number(p) > bits) return null;
    prefix = Number(p);
  }
  // A mapped range is the IPv4 range it maps (`::ffff:10.0.0.0/104` = `10.0.0.0/8`).
  if (full.length === 16 && isMapped(full) && prefix >= 96) {
    return { bytes: full.subarray(12), prefix: prefix - 96 };
  }
  return { bytes: full, prefix };
}

/** What a trust-list entry may be, in words (setting errors and docs). */
export const TRUST_ENTRY = 'IP addresses or CIDR ranges (10.0.0.0/8, fd00::/8), or * for all';

export function isTrustEntry(text: string): boolean {
  return text.trim() === '*' || parseRange(text) !== null;
}

function inRange(b: Uint8Array, r: Range): boolean {
  if (b.length !== r.bytes.length) return false;
  const whole = r.prefix >> 3;
  for (let i = 0; i < whole; i++) if (b[i] !== r.bytes[i]) return false;
  const bits = r.prefix & 7;
  if (bits === 0) return true;
  const mask = (0xff << (8 - bits)) & 0xff;
  return ((b[whole] as number) & mask) === ((r.bytes[whole] as number) & mask);
}

/**
 * A list of trusted peers. Peers are few (the proxies in front), so answers are remembered
 * per address string; the memory is bounded and starts over when full.
 */
export class TrustList {
  readonly all: boolean;
  readonly empty: boolean;
  readonly #ranges: Range[];
  readonly #seen = new Map<string, boolean>();

  constructor(entries: readonly string[]) {
    this.all = entries.some((e) => e.trim() === '*');
    this.#ranges = entries.flatMap((e) => parseRange(e) ?? []);
    this.empty = !this.all && this.#ranges.length === 0;
  }

  /** Whether this address (IPv4, IPv6, mapped, with or without a zone) is in the list. */
  has(address: string): boolean {
    if (this.all) return true;
    const known = this.#seen.get(address);
    if (known !== undefined) return known;
    const b = ipBytes(address);
    const yes = b !== null && this.#ranges.some((r) => inRange(b, r));
    if (this.#seen.size >= 1024) this.#seen.clear();
    this.#seen.set(address, yes);
    return yes;
  }
}
