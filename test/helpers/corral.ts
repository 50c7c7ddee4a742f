/** Start real corral processes for tests and talk to them over loopback. */
import { type ChildProcess, type StdioOptions, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const BIN = fileURLToPath(new URL('../../bin/corral.js', import.meta.url));
export const FIXTURES = fileURLToPath(new URL('../fixtures/apps/', import.meta.url));

/** The (req, res) fixture app most behaviour tests serve. */
export const LISTENER = `${FIXTURES}listener.mjs`;

/** corral serving `app` on a free loopback port, plus `args`. */
export function serveApp(app: string, args: string[], opts?: StartOptions): Promise<Running> {
  return startCorral([app, '-b', '127.0.0.1:0', ...args], opts);
}

/** corral serving the listener fixture on a free loopback port, plus `args`. */
export function serveListener(args: string[], opts?: StartOptions): Promise<Running> {
  return serveApp(LISTENER, args, opts);
}

/** Run corral on `app` bound to a free loopback port, plus `args`, to completion. */
export function runApp(app: string, args: string[], opts?: LaunchOptions) {
  return runCorral([app, '-b', '127.0.0.1:0', ...args], opts);
}

export interface Running {
  readonly proc: ChildProcess;
  /** First bind's URL, from the "Listening at:" line. */
  readonly url: string;
  readonly urls: string[];
  output(): string;
  /** Resolves with the exit code (or signal name). */
  readonly exited: Promise<number | string>;
  waitFor(re: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Wait until `holds(output)`; `what` names the condition in a timeout's message. */
  waitUntil(what: string, holds: (output: string) => boolean, timeoutMs?: number): Promise<void>;
  stop(signal?: NodeJS.Signals): Promise<number | string>;
}

export interface LaunchOptions {
  env?: Record<string, string>;
  cwd?: string;
  /** fds handed to corral as its fd 3, 4, … (listening sockets, as systemd would pass them). */
  extraFds?: number[];
  /**
   * Shell commands run before `exec node corral …` in the same process, e.g.
   * `export LISTEN_PID=$$` (a pid only known once the process exists).
   */
  shellPrefix?: string;
  /** Its own process group (pgid = its pid), so a test can signal the whole group. */
  detached?: boolean;
}

/** Spawn `corral ARGS` with piped stdout/stderr. */
function launch(args: string[], opts: LaunchOptions): ChildProcess {
  const argv = [process.execPath, BIN, ...args];
  const [command, ...rest] = opts.shellPrefix
    ? ['sh', '-c', `${opts.shellPrefix}; exec "$0" "$@"`, ...argv]
    : argv;
  const stdio: StdioOptions = ['ignore', 'pipe', 'pipe', ...(opts.extraFds ?? [])];
  return spawn(command as string, rest, {
    cwd: opts.cwd ?? ROOT,
    env: { ...cleanEnv(), ...opts.env },
    stdio,
    detached: opts.detached === true,
  });
}

/** Run corral to completion (for commands that exit): code, stdout, stderr. */
export async function runCorral(
  args: string[],
  opts: LaunchOptions = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const proc = launch(args, opts);
  let stdout = '';
  let stderr = '';
  proc.stdout?.on('data', (d) => (stdout += d));
  proc.stderr?.on('data', (d) => (stderr += d));
  const killer = setTimeout(() => proc.kill('SIGKILL'), 20_000);
  const [code] = await once(proc, 'exit');
  clearTimeout(killer);
  return { code, stdout, stderr };
}

/** The environment without CORRAL_* / WEB_CONCURRENCY / PORT / HOST / LISTEN_* from the caller. */
export function cleanEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (
      v === undefined ||
      k.startsWith('CORRAL_') ||
      ['WEB_CONCURRENCY', 'PORT', 'HOST', 'LISTEN_FDS', 'LISTEN_PID', 'LISTEN_FDNAMES'].includes(k)
    )
      continue;
    env[k] = v;
  }
  return env;
}

export interface StartOptions extends LaunchOptions {
  ready?: RegExp;
  readyFile?: string;
}

/** Start `corral ARGS` and wait until it says it is ready. */
export async function startCorral(args: string[], opts: StartOptions = {}): Promise<Running> {
  const proc = launch(args, opts);
  let out = '';
  const waiters = new Set<() => void>();
  const onData = (d: Buffer) => {
    out += d;
    for (const w of waiters) w();
  };
  proc.stdout?.on('data', onData);
  proc.stderr?.on('data', onData);
  const exited = new Promise<number | string>((done) =>
    proc.on('exit', (code, sig) => {
      for (const w of waiters) w();
      done(code ?? sig ?? -1);
    }),
  );
  let dead = false;
  void exited.then(() => (dead = true));
  const waitUntil = (what: string, holds: (output: string) => boolean, timeoutMs = 15_000) =>
    new Promise<void>((done, fail) => {
      const check = () => {
        if (holds(out)) {
          cleanup();
          done();
        } else if (dead) {
          cleanup();
          fail(new Error(`corral exited before ${what}; output:\n${out}`));
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        fail(new Error(`timed out waiting for ${what}; output:\n${out}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });
  const waitFor = async (re: RegExp, timeoutMs = 15_000) => {
    let m: RegExpMatchArray | null = null;
    await waitUntil(
      String(re),
      (o) => {
        m = o.match(re);
        return m !== null;
      },
      timeoutMs,
    );
    return m as unknown as RegExpMatchArray;
  };
  let log = out;
  if (opts.readyFile) {
    // The error log goes to a file: wait on the file instead of the process's output.
    const file = opts.readyFile;
    for (let i = 0; i < 300 && !/\] ready: /.test(log); i++) {
      await new Promise((r) => setTimeout(r, 50));
      log = existsSync(file) ? readFileSync(file, 'utf8') : '';
    }
  } else {
    await waitFor(opts.ready ?? /\] ready: /);
    log = out;
  }
  const urls = [...log.matchAll(/Listening at: (\S+)/g)].map((m) => m[1] as string);
  const running: Running = {
    proc,
    url: urls[0] ?? '',
    urls,
    output: () => out,
    exited,
    waitFor,
    waitUntil,
    async stop(signal = 'SIGTERM') {
      if (!dead) proc.kill(signal);
      const t = setTimeout(() => proc.kill('SIGKILL'), 20_000);
      const r = await exited;
      clearTimeout(t);
      return r;
    },
  };
  return running;
}

/** The master's metrics server URL, from its "Metrics at:" line. */
export function metricsUrl(server: Running): string {
  return server.output().match(/Metrics at: (\S+)/)?.[1] as string;
}

/** The sum of a metric's samples over all its label sets, from a Prometheus text body. */
export function metricSum(body: string, name: string): number {
  return body
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `))
    .reduce((a, l) => a + Number(l.split(' ').pop()), 0);
}

export interface Reply {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

/** One HTTP request over loopback: a URL, or a path with `socketPath` for unix sockets. */
export function get(
  url: string,
  opts: {
    agent?: Agent;
    socketPath?: string;
    method?: string;
    body?: string;
    headers?: Record<string, string>;
  } = {},
): Promise<Reply> {
  return new Promise((done, fail) => {
    const target = opts.socketPath ? { socketPath: opts.socketPath, path: url } : new URL(url);
    const req = httpRequest(
      {
        ...(target instanceof URL
          ? {
              host: target.hostname.replace(/^\[|\]$/g, ''),
              port: target.port,
              path: target.pathname + target.search,
            }
          : target),
        agent: opts.agent ?? false,
        method: opts.method ?? 'GET',
        headers: opts.headers,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (body += d));
        res.on('end', () => done({ status: res.statusCode ?? 0, body, headers: res.headers }));
        res.on('error', fail);
      },
    );
    req.on('error', fail);
    req.setTimeout(15_000, () => req.destroy(new Error('request timed out')));
    req.end(opts.body);
  });
}

/** `n` requests over `connections` keep-alive sockets; returns every reply. */
export async function burst(url: string, n: number, connections: number): Promise<Reply[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  try {
    return await Promise.all(Array.from({ length: n }, () => get(url, { agent })));
  } finally {
    agent.destroy();
  }
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** SIGTERM a process corral started (a USR2 master) and wait up to 5 s for it to be gone. */
export async function terminate(pid: number): Promise<void> {
  process.kill(pid, 'SIGTERM');
  for (let i = 0; i < 100 && alive(pid); i++) await sleep(50);
}

/** Worker pids from "booting worker N (pid P)" lines. */
export function workerPids(output: string): number[] {
  return [...output.matchAll(/booting worker \d+ \(pid (\d+)\)/g)].map((m) => Number(m[1]));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
