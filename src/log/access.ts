/**
 * The access log in Gunicorn's format atoms (`%(h)s %(r)s %(s)s …`), or `json` for pino's line
 * shape (src/log/access-json.ts). The format is compiled once into a list of small functions,
 * so a line costs one pass over them; lines leave through a LineSink, off the request path.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { clientAddress } from '../proxy/client.ts';
import { renderJson } from './access-json.ts';
import { LineSink } from './line-sink.ts';

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
export function responseHeader(res: ServerResponse, name: string): string | undefined {
  const v = res.getHeader(name);
  if (v !== undefined) return Array.isArray(v) ? v.join(', ') : String(v);
  const raw = (res as ServerResponse & { _header?: string | null })._header;
  if (!raw) return undefined;
  const m = new RegExp(`\\r\\n${name}:[ \\t]*([^\\r]*)`, 'i').exec(raw);
  return m?.[1];
}

export function length(res: ServerResponse): number {
  const n = Number(responseHeader(res, 'content-length'));
  return Number.isFinite(n) ? n : 0;
}

/** Exported so the JSON format reports the same values (e.g. the client address `h`). */
export const ATOMS: Record<string, (e: AccessEntry) => string> = {
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
  const re = /%\((\{[^}]+\}[ioe]|\w)\)s/g;
  let last = 0;
  for (const m of format.matchAll(re)) {
    if (m.index > last) parts.push(format.slice(last, m.index));
    const atom = m[1] ?? '';
    const hdr = /^\{([^}]+)\}([ioe])$/.exec(atom);
    if (hdr?.[2] === 'e') {
      // Gunicorn reads its WSGI environ here; a Node server's environment is process.env.
      const name = hdr[1] ?? '';
      parts.push(() => process.env[name] ?? '-');
    } else if (hdr) {
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

/** The `json` format name: one pino-shaped JSON object per line. */
export const JSON_FORMAT = 'json';

export interface AccessLog {
  write(e: AccessEntry): void;
  /** Reopen the file (after log rotation). */
  reopen(): void;
  /** Resolves once every line so far is written (before a draining worker exits). */
  flush(): Promise<void>;
  close(): Promise<void>;
}

/**
 * An access log writing to stdout (`-`) or appending to a file. `onDrop` hears how many lines
 * were dropped because the destination could not keep up (see LineSink).
 */
export function openAccessLog(
  target: string,
  format: string,
  onDrop?: (lines: number) => void,
): AccessLog {
  const render =
    format.trim().toLowerCase() === JSON_FORMAT ? renderJson : compileAccessFormat(format);
  const sink = new LineSink({ target, onDrop });
  return {
    write(e) {
      sink.write(`${render(e)}\n`);
    },
    reopen: () => sink.reopen(),
    flush: () => sink.flush(),
    close: () => sink.close(),
  };
}
