/**
 * Driving load: which requests (from --url or --requests-file) and the parent's side of the
 * load generator process (loadgen.ts). Every run is bounded: autocannon stops after its
 * duration, and a generator that does not answer in time is killed.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { UsageError } from '../errors.ts';
import { readFileSync } from '../fs.ts';

/** One request autocannon cycles through (its `requests` option). */
export interface RequestSpec {
  readonly method: string;
  readonly path: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
}

/** What the generator is started with. `url` is always the candidate's loopback address. */
export interface LoadSpec {
  readonly url: string;
  readonly connections: number;
  readonly requests: readonly RequestSpec[];
}

export type LoadgenRequest = { readonly t: 'run'; readonly seconds: number };
export type LoadgenReply =
  | {
      readonly t: 'result';
      readonly requests: number;
      readonly rps: number;
      readonly p50: number;
      readonly p99: number;
      readonly errors: number;
      /** The generator's own CPU over the run, in CPUs. */
      readonly cpu: number;
    }
  | { readonly t: 'error'; readonly message: string };
export type LoadResult = Extract<LoadgenReply, { t: 'result' }>;

function bad(file: string, why: string): never {
  throw new UsageError(`corral: --requests-file ${file}: ${why}`);
}

/** --requests-file: a JSON array of `{method?, path, headers?, body?}`; a body object is sent as JSON. */
export function readRequestsFile(file: string): RequestSpec[] {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    bad(file, (err as Error).message.split('\n')[0] ?? 'unreadable');
  }
  if (!Array.isArray(data) || data.length === 0) bad(file, 'expected a non-empty JSON array');
  return data.map((r: unknown, i): RequestSpec => {
    const o = (typeof r === 'object' && r !== null ? r : {}) as Record<string, unknown>;
    if (typeof o.path !== 'string' || !o.path.startsWith('/')) {
      bad(file, `request ${i}: "path" must be a string starting with /`);
    }
    const headers = { ...((o.headers ?? {}) as Record<string, string>) };
    let body: string | undefined;
    if (typeof o.body === 'string') body = o.body;
    else if (o.body !== undefined) {
      body = JSON.stringify(o.body);
      headers['content-type'] ??= 'application/json';
    }
    return {
      method: typeof o.method === 'string' ? o.method.toUpperCase() : 'GET',
      path: o.path,
      ...(Object.keys(headers).length ? { headers } : {}),
      ...(body === undefined ? {} : { body }),
    };
  });
}

export function requestsFor(urls: readonly string[], file: string | null): RequestSpec[] {
  return file ? readRequestsFile(file) : urls.map((path) => ({ method: 'GET', path }));
}

const entry = new URL(`loadgen${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);

/** Beyond its duration, a run gets this long to report before the generator is killed. */
const GRACE_MS = 30_000;

export interface Loadgen {
  run(seconds: number): Promise<LoadResult>;
  close(): void;
}

export function startLoadgen(spec: LoadSpec, signal?: AbortSignal): Loadgen {
  const child: ChildProcess = fork(entry, [JSON.stringify(spec)], {
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    serialization: 'json',
    ...(signal ? { signal } : {}),
  });
  child.on('error', () => {}); // an abort's AbortError; the 'exit' after it fails the run
  let stderr = '';
  child.stderr?.on('data', (d) => (stderr = (stderr + d).slice(-2000)));
  return {
    run(seconds) {
      return new Promise((done, fail) => {
        const timer = setTimeout(() => child.kill('SIGKILL'), seconds * 1000 + GRACE_MS);
        const onExit = (code: number | null) => {
          clearTimeout(timer);
          fail(new Error(`load generator exited (${code ?? 'killed'}): ${stderr.trim()}`));
        };
        child.once('exit', onExit);
        child.once('message', (m: LoadgenReply) => {
          clearTimeout(timer);
          child.off('exit', onExit);
          if (m.t === 'result') done(m);
          else fail(new Error(`load generator: ${m.message}`));
        });
        child.send({ t: 'run', seconds } satisfies LoadgenRequest);
      });
    },
    close() {
      if (child.connected) child.disconnect();
      if (child.exitCode === null) setTimeout(() => child.kill('SIGKILL'), 2000).unref();
    },
  };
}
