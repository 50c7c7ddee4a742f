/**
 * The access log in Gunicorn's format atoms (`%(h)s %(r)s %(s)s …`). The format is compiled
 * once into a list of small functions, so a line costs one pass over them.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { clientAddress } from '../proxy/client.ts';

export interface AccessEntry {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  /** Request start and end, milliseconds from performance.now(). */
  readonly start: number;
  readonly end: number;
  readonly time: Date;
}

type Part = string | ((e: AccessEntry) => string);

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function clf(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `[${p(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000]`;
}

function header(v: string | string[] | number | undefined): string {
  if (v === undefined) return '-';
  return Array.isArray(v) ? v.join(', ') : String(v);
}

function user(req: IncomingMessage): string {
  const auth = req.headers.authorization;
  if (!auth?.startsWith('Basic ')) return '-';
  const decoded = Buffer.from(auth.slice(6), 'base64').toString();
  return decoded.slice(0, decoded.indexOf(':')) || '-';
}

/**
 * A response header, also when the app passed headers straight to writeHead() (then only
 * node:http's raw header block has them).
 */
function responseHeader(res: ServerResponse, name: string): string | undefined {
  const v = res.getHeader(name);
  if (v !== undefined) return Array.isArray(v) ? v.join(', ') : String(v);
  const raw = (res as ServerResponse & { _header?: string | null })._header;
  if (!raw) return undefined;
  const m = new RegExp(`\\r\\n${name}:[ \\t]*([^\\r]*)`, 'i').exec(raw);
  return m?.[1];
}

function length(res: ServerResponse): number {
  const n = Number(responseHeader(res, 'content-length'));
  return Number.isFinite(n) ? n : 0;
}

const ATOMS: Record<string, (e: AccessEntry) => string> = {
  // The client as resolved from trusted proxy headers or a PROXY header (proxy/client.ts).
  h: (e) => clientAddress(e.req) ?? '-',
  l: () => '-',
  u: (e) => user(e.req),
  t: (e) => clf(e.time),
  r: (e) => `${e.req.method} ${e.req.url} HTTP/${e.req.httpVersion}`,
  m: (e) => e.req.method ?? '-',
  U: (e) => (e.req.url ?? '').split('?')[0] ?? '',
  q: (e) => {
    const i = (e.req.url ?? '').indexOf('?');
    return i < 0 ? '' : (e.req.url ?? '').slice(i + 1);
  },
  H: (e) => `HTTP/${e.req.httpVersion}`,
  s: (e) => String(e.res.statusCode),
  B: (e) => String(length(e.res)),
  b: (e) => {
    const n = length(e.res);
    return n ? String(n) : '-';
  },
  f: (e) => header(e.req.headers.referer),
  a: (e) => header(e.req.headers['user-agent']),
  T: (e) => String(Math.floor((e.end - e.start) / 1000)),
  M: (e) => String(Math.floor(e.end - e.start)),
  D: (e) => String(Math.floor((e.end - e.start) * 1000)),
  L: (e) => ((e.end - e.start) / 1000).toFixed(6),
  p: () => `<${process.pid}>`,
};

/** Compile a Gunicorn access-log format; unknown atoms render as `-`, as Gunicorn does. */
export function compileAccessFormat(format: string): (e: AccessEntry) => string {
  const parts: Part[] = [];
  const re = /%\((\{[^}]+\}[io]|\w)\)s/g;
  let last = 0;
  for (const m of format.matchAll(re)) {
    if (m.index > last) parts.push(format.slice(last, m.index));
    const atom = m[1] ?? '';
    const hdr = /^\{([^}]+)\}([io])$/.exec(atom);
    if (hdr) {
      const name = (hdr[1] ?? '').toLowerCase();
      parts.push(
        hdr[2] === 'i'
          ? (e) => header(e.req.headers[name])
          : (e) => responseHeader(e.res, name) ?? '-',
      );
    } else {
      parts.push(ATOMS[atom] ?? (() => '-'));
    }
    last = m.index + m[0].length;
  }
  if (last < format.length) parts.push(format.slice(last));
  return (e) => {
    let line = '';
    for (const p of parts) line += typeof p === 'string' ? p : p(e);
    return line;
  };
}

export interface AccessLog {
  write(e: AccessEntry): void;
  /** Reopen the file (after log rotation). */
  reopen(): void;
  close(): void;
}

/** An access log writing to stdout (`-`) or appending to a file. */
export function openAccessLog(target: string, format: string): AccessLog {
  const render = compileAccessFormat(format);
  const open = (): NodeJS.WritableStream =>
    target === '-' ? process.stdout : createWriteStream(target, { flags: 'a' });
  let stream = open();
  return {
    write(e) {
      stream.write(`${render(e)}\n`);
    },
    reopen() {
      if (target === '-') return;
      (stream as WriteStream).end();
      stream = open();
    },
    close() {
      if (target !== '-') (stream as WriteStream).end();
    },
  };
}
