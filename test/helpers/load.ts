/**
 * A bounded keep-alive load generator for behaviour tests: N connections, each sending requests
 * one after another until a total is reached or it is told to stop. Loopback only.
 */
import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';

export interface LoadResult {
  /** Requests answered, by status code. */
  statuses: Map<number, number>;
  /** Requests that got no answer, by error code. */
  errors: Map<string, number>;
  /** Distinct values of the x-pid response header (or the pid in the body). */
  pids: Set<string>;
  issued: number;
  answered: number;
}

export interface LoadOptions {
  url: string;
  connections: number;
  /** Stop issuing once this many requests have been issued (and `until` has resolved, if given). */
  total: number;
  /** Keep going (past `total`) until this resolves. */
  until?: Promise<unknown>;
  /** A connection whose response says `Connection: close` stops (the server is going away). */
  stopOnClose?: boolean;
  /** Upper bound on run time, so a test never spins forever. */
  maxMs?: number;
  /** Sees every answer's status and body, as it arrives. */
  onReply?: (status: number, body: string) => void;
}

function one(
  url: URL,
  agent: Agent,
): Promise<{ status: number; pid: string; close: boolean; body: string }> {
  return new Promise((done, fail) => {
    const req = request(
      { host: url.hostname, port: url.port, path: url.pathname + url.search, agent },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (body += d));
        res.on('end', () =>
          done({
            status: res.statusCode ?? 0,
            pid: String(res.headers['x-pid'] ?? body.match(/\b(\d+)\b/)?.[1] ?? ''),
            close: res.headers.connection === 'close',
            body,
          }),
        );
        res.on('error', fail);
      },
    );
    req.on('error', fail);
    req.setTimeout(20_000, () => req.destroy(new Error('request timed out')));
    req.end();
  });
}

export async function load(o: LoadOptions): Promise<LoadResult> {
  const url = new URL(o.url);
  const r: LoadResult = {
    statuses: new Map(),
    errors: new Map(),
    pids: new Set(),
    issued: 0,
    answered: 0,
  };
  let untilDone = !o.until;
  void o.until?.then(() => (untilDone = true));
  const deadline = Date.now() + (o.maxMs ?? 60_000);
  const more = () => (r.issued < o.total || !untilDone) && Date.now() < deadline;
  await Promise.all(
    Array.from({ length: o.connections }, async () => {
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      while (more()) {
        r.issued++;
        try {
          const res = await one(url, agent);
          r.answered++;
          o.onReply?.(res.status, res.body);
          r.statuses.set(res.status, (r.statuses.get(res.status) ?? 0) + 1);
          if (res.pid) r.pids.add(res.pid);
          if (res.close && o.stopOnClose) break;
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
          r.errors.set(code, (r.errors.get(code) ?? 0) + 1);
        }
      }
      agent.destroy();
    }),
  );
  return r;
}

/** Non-2xx answers and errors, for one readable assertion message. */
export function failures(r: LoadResult): string {
  const bad = [...r.statuses].filter(([s]) => s < 200 || s > 299);
  return JSON.stringify({ errors: Object.fromEntries(r.errors), non2xx: Object.fromEntries(bad) });
}

/**
 * Load until `during` has finished (and `o.total` requests were issued), then assert that every
 * request was answered with a 2xx: nothing lost while `during` changed the server.
 */
export async function loadThrough(
  o: Omit<LoadOptions, 'until'>,
  during: Promise<unknown>,
): Promise<LoadResult> {
  const r = await load({ ...o, until: during });
  await during;
  assert.equal(failures(r), '{"errors":{},"non2xx":{}}');
  assert.equal(r.answered, r.issued);
  return r;
}
