/**
 * Server hooks (Gunicorn's, in camelCase), set as functions in the config file. Each runs
 * where Gunicorn runs it (master or worker), may be async, and a hook that throws or rejects
 * is logged with its name and never stops the server.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { loadConfigFile } from './config/file.ts';
import type { Logger } from './log/logger.ts';

/** What master-side hooks receive. */
export interface ServerInfo {
  readonly pid: number;
  /** Worker processes the master keeps running (0 in single-process mode). */
  readonly workers: number;
  readonly binds: readonly string[];
}

/** What worker-side hooks receive (and master-side hooks about one worker). */
export interface WorkerInfo {
  readonly pid: number;
  /** The worker's number: 1, 2, … in start order (Gunicorn's "age"); 0 in single-process mode. */
  readonly id: number;
}

export interface WorkerExitInfo extends WorkerInfo {
  readonly code: number | null;
  readonly signal: string | null;
}

type Maybe = void | Promise<void>;

export interface Hooks {
  /** Master, before anything is bound or started. */
  onStarting?(server: ServerInfo): Maybe;
  /** Master, on HUP, after the config is re-read and before workers roll. */
  onReload?(server: ServerInfo): Maybe;
  /** Master, once the first workers are all ready to serve. */
  whenReady?(server: ServerInfo): Maybe;
  /** Master, just before a worker process is started (its pid is not known yet: 0). */
  preFork?(server: ServerInfo, worker: WorkerInfo): Maybe;
  /** Worker, first thing in the new process, before the app is loaded. */
  postFork?(worker: WorkerInfo): Maybe;
  /** Worker, after the app is loaded and before it takes connections. */
  postWorkerInit?(worker: WorkerInfo): Maybe;
  /** Worker, on SIGINT/SIGQUIT (quick stop), before it exits. */
  workerInt?(worker: WorkerInfo): Maybe;
  /**
   * Master, when a worker timed out and is being aborted. Gunicorn runs this in the worker;
   * a Node worker whose event loop is blocked cannot run JavaScript, so corral runs it here.
   */
  workerAbort?(server: ServerInfo, worker: WorkerInfo): Maybe;
  /** Master, on USR2, just before the new master is started. */
  preExec?(server: ServerInfo): Maybe;
  /** Worker, before the app sees a request (the request waits for an async hook). */
  preRequest?(worker: WorkerInfo, req: IncomingMessage): Maybe;
  /** Worker, after a response has finished (or the connection closed). */
  postRequest?(worker: WorkerInfo, req: IncomingMessage, res: ServerResponse): Maybe;
  /** Master, after a worker process has exited (for any reason). */
  childExit?(server: ServerInfo, worker: WorkerExitInfo): Maybe;
  /** Worker, when it leaves after draining (stop, recycle, reload), before it exits. */
  workerExit?(worker: WorkerInfo): Maybe;
  /** Master, when the target number of workers changes (TTIN/TTOU, reload). */
  nworkersChanged?(server: ServerInfo, newValue: number, oldValue: number): Maybe;
  /** Master, just before it exits. */
  onExit?(server: ServerInfo): Maybe;
}

export type HookName = keyof Hooks;
export const HOOK_NAMES: readonly HookName[] = [
  'onStarting',
  'onReload',
  'whenReady',
  'preFork',
  'postFork',
  'postWorkerInit',
  'workerInt',
  'workerAbort',
  'preExec',
  'preRequest',
  'postRequest',
  'childExit',
  'workerExit',
  'nworkersChanged',
  'onExit',
];

/** The hooks a config file defines (a worker or thread loads them itself); none without one. */
export async function loadHooks(file: string | null): Promise<Hooks> {
  if (!file) return {};
  const { values } = await loadConfigFile(file);
  return Object.fromEntries(
    HOOK_NAMES.filter((h) => typeof values[h] === 'function').map((h) => [h, values[h]]),
  );
}

function describe(err: unknown): string {
  return err instanceof Error ? (err.stack ?? err.message) : String(err);
}

/** Runs a hook if set; failures are logged, never thrown. */
export async function runHook<K extends HookName>(
  hooks: Hooks,
  name: K,
  log: Logger,
  ...args: Parameters<NonNullable<Hooks[K]>>
): Promise<void> {
  const fn = hooks[name] as ((...a: unknown[]) => unknown) | undefined;
  if (!fn) return;
  try {
    await fn(...args);
  } catch (err) {
    log.error(`hook ${name} failed: ${describe(err)}`);
  }
}
