/**
 * `serve()` from code: corral's master inside the caller's process (tests, custom launchers,
 * an embedding app). The same settings as a config file, typed; no process.exit, no signal
 * handlers: the caller stops it with `close()`.
 */
import type { Config, ConfigInput } from './config/settings.ts';
import { CorralError } from './errors.ts';
import type { Hooks } from './hooks.ts';
import type { Master } from './master/master.ts';
import type { Status } from './metrics/status.ts';

/** Hooks that run in the workers (the rest run in the master, in the caller's process). */
const WORKER_HOOKS = [
  'postFork',
  'postWorkerInit',
  'workerInt',
  'preRequest',
  'postRequest',
  'workerExit',
] as const satisfies readonly (keyof Hooks)[];

/** What serve() takes: any setting as a config file gives it, plus the master's hooks. */
export type ServeOptions = ConfigInput & Hooks & { readonly app: string };

/** A running server started by serve(). */
export interface CorralServer {
  /** Each bind's URL, ports chosen (`http://127.0.0.1:41234`, `unix:/run/app.sock`). */
  readonly urls: readonly string[];
  /** The resolved settings it runs with. */
  readonly config: Config;
  /** Workers, requests, memory: what `corral ctl status` shows. */
  status(): Status;
  /** Roll every worker onto a fresh load of the app and the settings (as HUP does). */
  reload(): void;
  /** Run `n` workers from now on. */
  scale(n: number): void;
  /**
   * Stop gracefully (as TERM does): in-flight requests finish within `gracefulTimeout`, the app
   * is closed in every worker, the ports are freed. Resolves when all of that is done.
   */
  close(): Promise<void>;
  /** Resolves with the exit code the command line would have, once the server has stopped. */
  readonly closed: Promise<number>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Start corral's master and its workers. Resolves once every worker is ready; rejects with the
 * command line's one-line message when a setting is bad, the app cannot load or a bind fails.
 */
export async function serve(options: ServeOptions): Promise<CorralServer> {
  if (options === null || typeof options !== 'object') {
    throw new CorralError(
      'corral: serve() takes an options object: serve({ app, workers, bind })',
      2,
    );
  }
  // Functions cannot travel to worker processes: worker-side hooks live in a config file.
  const inWorkers = WORKER_HOOKS.find((h) => typeof (options as Hooks)[h] === 'function');
  if (inWorkers) {
    throw new CorralError(
      `corral: hook ${inWorkers} runs in the worker processes, which cannot receive a function from serve(): put it in a config file and name that file with the config option`,
      2,
    );
  }
  const { resolveConfig } = await import('./config/resolve.ts');
  const { serve: run } = await import('./commands/serve.ts');
  // The caller's environment does not configure it (no CORRAL_*, PORT, WEB_CONCURRENCY): what
  // the code says is what runs. A config file is read only when `config` names one.
  const input = {
    options: options as unknown as Record<string, unknown>,
    env: {},
    cwd: process.cwd(),
  };
  const resolved = await resolveConfig(input);
  return new Promise<CorralServer>((resolve, reject) => {
    let master: Master | null = null;
    let server: CorralServer | null = null;
    const closed = run(resolved, () => resolveConfig({ ...input, fresh: true }), {
      started: (m) => {
        master = m;
      },
      ready: () => {
        const m = master as Master;
        let closing: Promise<void> | null = null;
        const close = () => {
          if (!closing) {
            m.request('stop');
            closing = closed.then(() => undefined);
          }
          return closing;
        };
        server = {
          urls: m.info.binds,
          config: resolved.config,
          status: () => m.status(),
          reload: () => m.request('reload'),
          scale: (n) => m.scaleTo(n),
          close,
          closed,
          [Symbol.asyncDispose]: close,
        };
        resolve(server);
      },
    });
    closed.then(
      (code) => {
        if (server) return;
        const why = (master as Master | null)?.failure;
        reject(
          new CorralError(
            why ?? `corral: the server stopped before it was ready (exit code ${code})`,
            code || 1,
          ),
        );
      },
      (err: unknown) => {
        if (!server) reject(err);
      },
    );
  });
}
