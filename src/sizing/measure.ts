/**
 * Measure one worker of this app: start the probe (src/sizing/probe.ts) as a worker would be
 * started and read the RSS it reports over IPC.
 */
import { fork } from 'node:child_process';
import type { Config } from '../config/settings.ts';
import { CorralError } from '../errors.ts';
import { workerExecArgv } from '../master/worker-v8-options.ts';

export type ProbeReport =
  | {
      readonly t: 'rss';
      readonly rssBytes: number;
      readonly privateBytes: number | null;
      readonly what: string;
    }
  | { readonly t: 'failed'; readonly message: string; readonly code: number };

export interface Measurement {
  readonly rssBytes: number;
  /** The part of RSS only this process holds; null where it cannot be read (not Linux). */
  readonly privateBytes: number | null;
  /** What was measured, e.g. `app.ts, a fetch handler (default export of app.ts)`. */
  readonly what: string;
}

export interface ProbeOptions {
  /** The worker's config (its app; null measures a bare worker). */
  readonly config: Config;
  readonly cwd: string;
  readonly env: Readonly<Record<string, string | undefined>>;
}

const entry = new URL(`probe${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);

/** An app whose import hangs must not hang the start-up: give up after this long. */
const PROBE_DEADLINE_MS = 60_000;

export function measureWorker(opts: ProbeOptions): Promise<Measurement> {
  // No log or access-log files: the probe must not create or append to the server's logs.
  const config = { ...opts.config, accessLogfile: null, errorLogfile: '-' };
  const child = fork(entry, [JSON.stringify(config)], {
    // Started as a worker is, so it measures what a worker will hold.
    execArgv: workerExecArgv(opts.config, opts.env.NODE_OPTIONS ?? ''),
    cwd: opts.cwd,
    env: { ...opts.env },
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    serialization: 'json',
  });
  let stderr = '';
  child.stderr?.on('data', (d) => (stderr = (stderr + d).slice(-2000)));
  return new Promise((done, fail) => {
    let answered = false;
    const timer = setTimeout(() => child.kill('SIGKILL'), PROBE_DEADLINE_MS);
    child.on('message', (m: ProbeReport) => {
      answered = true;
      if (m.t === 'rss') done({ rssBytes: m.rssBytes, privateBytes: m.privateBytes, what: m.what });
      else fail(new CorralError(m.message, m.code));
    });
    // 'close' comes after the IPC channel has delivered everything the probe sent.
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (answered) return;
      const how =
        signal === 'SIGKILL'
          ? `gave no answer in ${PROBE_DEADLINE_MS / 1000} s`
          : `exited (${signal ?? code})`;
      const tail = stderr.trim().split('\n').slice(-1)[0];
      fail(
        new CorralError(
          `corral: could not measure a worker for memory sizing: the probe ${how}${tail ? `: ${tail}` : ''}`,
        ),
      );
    });
  });
}
