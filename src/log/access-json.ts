/**
 * The `json` access-log format: one JSON object per line in pino's shape, so pino tooling
 * (pino-pretty, log shippers that parse pino) reads it as it reads a pino-http log. pino's own
 * fields: `level` (30 = info), `time` (epoch ms), `pid`, `hostname`, `msg`; pino-http's: `req`
 * (method, url, remoteAddress, remotePort, headers), `res` (statusCode, headers) and
 * `responseTime` (ms). Only a few headers are copied: logging every request header would write
 * cookies and Authorization tokens to disk.
 *
 * A request with a W3C `traceparent` header gets `trace_id`, `span_id` and `trace_flags`, the
 * names OpenTelemetry's pino instrumentation writes, so a log line joins its trace. `span_id` is
 * the caller's span (the header's parent-id). Parsed here, when the line is written: a server
 * without the JSON access log never looks at the header.
 */
import { hostname } from 'node:os';
import { type AccessEntry, ATOMS, length, responseHeader } from './access.ts';

const HOST = hostname();
/** pino's number for info. */
const INFO = 30;

/** Headers worth a log line; the rest (cookies, tokens) stay out of it. */
const REQ_HEADERS = ['host', 'user-agent', 'referer', 'x-request-id'] as const;
const RES_HEADERS = ['content-type', 'content-length'] as const;

function pick(
  names: readonly string[],
  get: (name: string) => string | string[] | number | undefined,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const n of names) {
    const v = get(n);
    if (v !== undefined) out[n] = Array.isArray(v) ? v.join(', ') : String(v);
  }
  return out;
}

/** version-traceid-parentid-flags; all-zero ids and version ff are invalid (W3C Trace Context). */
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(?:-|$)/;
const ZEROS = /^0+$/;

/** The trace fields of a valid `traceparent`, or nothing. */
export function traceFields(
  header: string | string[] | undefined,
): { trace_id: string; span_id: string; trace_flags: string } | undefined {
  if (typeof header !== 'string') return undefined;
  const m = TRACEPARENT.exec(header.trim());
  if (!m || m[1] === 'ff') return undefined;
  const [, , traceId = '', spanId = '', flags = ''] = m;
  if (ZEROS.test(traceId) || ZEROS.test(spanId)) return undefined;
  return { trace_id: traceId, span_id: spanId, trace_flags: flags };
}

const atom = (name: string, e: AccessEntry): string => ATOMS[name]?.(e) ?? '-';

export function renderJson(e: AccessEntry): string {
  const { req, res } = e;
  const responseTime = Math.round((e.end - e.start) * 1000) / 1000;
  const user = atom('u', e);
  return JSON.stringify({
    level: INFO,
    time: e.time.getTime(),
    pid: process.pid,
    hostname: HOST,
    req: {
      method: req.method,
      url: req.url,
      protocol: `HTTP/${req.httpVersion}`,
      remoteAddress: atom('h', e),
      remotePort: req.socket.remotePort,
      ...(user !== '-' && { user }),
      headers: pick(REQ_HEADERS, (n) => req.headers[n]),
    },
    res: {
      statusCode: res.statusCode,
      headers: pick(RES_HEADERS, (n) => responseHeader(res, n)),
    },
    bytes: length(res),
    responseTime,
    ...traceFields(req.headers.traceparent),
    msg: `${req.method} ${req.url} ${res.statusCode}`,
  });
}
