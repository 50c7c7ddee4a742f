/**
 * Start corral itself, as a user would, under one candidate configuration on a free loopback
 * port, and stop it again. The candidate runs the real master, dispatch and worker classes,
 * so what is measured is what `corral serve` would do with these settings.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { DispatchMode } from '../config/settings.ts';
import { childrenOf } from './procfs.ts';
import type { Shape } from './results.ts';

const BIN = fileURLToPath(new URL('../../bin/corral.js', import.meta.url));

/** Loading an app can be slow (a big bundle, a factory that connects): give it this long. */
const READY_DEADLINE_MS = 60_000;
const STOP_DEADLINE_MS = 15_000;

export interface BootSpec {
  readonly app: string;
  /** Server settings from tune's own command line, passed on (see command's passthrough). */
  readonly args: readonly string[];
  /** The dispatch the user's settings resolve to, from whichever source set it. */
  readonly dispatch: DispatchMode;
  readonly shape: Shape;
  readonly cwd: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Aborting (tune interrupted) sends the master SIGTERM. */
  readonly signal?: AbortSignal;
}

export interface Booted {
  readonly pid: number;
  readonly url: string;
  /** Worker processes (the master's children). */
  readonly workers: readonly number[];
  readonly bootSeconds: number;
  stop(): Promise<void>;
}

/** corral exited before it was ready; `code` is its exit code (4: the app did not load). */
export class BootFailure extends Error {
  readonly code: number | null;
  constructor(message: string, code: number | null) {
    super(message);
    this.code = code;
  }
}

/** The command line for one candidate: the user's settings, then the shape, which wins. */
export function candidateArgs(
  spec: Pick<BootSpec, 'app' | 'args' | 'dispatch' | 'shape'>,
): string[] {
  const { workerClass, workers, threads } = spec.shape;
  // Each class keeps its promise under some dispatch modes only (see resolve.ts): thread needs
  // reuseport, and sync refuses it (a reuseport chosen for async, on the command line, in the
  // config file or the environment, becomes shared for sync).
  const dispatch =
    workerClass === 'thread'
      ? ['--dispatch', 'reuseport']
      : workerClass === 'sync' && spec.dispatch === 'reuseport'
        ? ['--dispatch', 'shared']
        : [];
  return [
    spec.app,
    ...spec.args,
    ...['-w', String(workers), '-k', workerClass, '--threads', String(threads), ...dispatch],
    // Its own port, and the log lines this module waits for, on stderr.
    ...['-b', '127.0.0.1:0', '--log-level', 'info', '--log-format', 'text', '--error-logfile', '-'],
  ];
}

export function boot(spec: BootSpec): Promise<Booted> {
  const started = performance.now();
  const proc = spawn(process.execPath, [BIN, ...candidateArgs(spec)], {
    cwd: spec.cwd,
    env: { ...spec.env },
    stdio: ['ignore', 'ignore', 'pipe'],
    ...(spec.signal ? { signal: spec.signal } : {}),
  });
  // With a signal, an abort also emits 'error' (AbortError); the 'exit' that follows is what counts.
  proc.on('error', () => {});
  let log = '';
  const exited = new Promise<number | null>((done) => proc.once('exit', (code) => done(code)));
  const stop = async () => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), STOP_DEADLINE_MS);
    await exited;
    clearTimeout(timer);
  };
  return new Promise((done, fail) => {
    const timer = setTimeout(() => {
      void stop();
      fail(new BootFailure(`not ready after ${READY_DEADLINE_MS / 1000} s`, null));
    }, READY_DEADLINE_MS);
    proc.stderr.on('data', (d) => {
      // Keep the head (where the address is) and a bounded tail: workers may log a lot.
      log = log.length < 64_000 ? log + d : log;
      const url = /Listening at: (\S+)/.exec(log)?.[1];
      if (!url || !/\] ready: /.test(log)) return;
      clearTimeout(timer);
      proc.stderr.removeAllListeners('data');
      proc.stderr.resume();
      const bootSeconds = (performance.now() - started) / 1000;
      done({
        pid: proc.pid as number,
        url,
        workers: childrenOf(proc.pid as number),
        bootSeconds,
        stop,
      });
    });
    void exited.then((code) => {
      clearTimeout(timer);
      const lines = log.trim().split('\n');
      const why =
        lines.filter((l) => /ERROR|CRITICAL|^corral:/.test(l)).slice(-1)[0] ??
        lines.slice(-1)[0] ??
        '';
      fail(
        new BootFailure(`corral exited (code ${code}) before it was ready: ${why.trim()}`, code),
      );
    });
  });
}
