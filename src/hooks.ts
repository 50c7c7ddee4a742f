/**
 * Server hooks (Gunicorn's, in camelCase), set as functions in the config file. A hook that
 * throws or rejects is logged and never stops the server.
 */
import type { Logger } from './log/logger.ts';

/** What master-side hooks receive. */
export interface ServerInfo {
  readonly pid: number;
  /** Worker processes the master keeps running (0 in single-process mode). */
  readonly workers: number;
  readonly binds: readonly string[];
}

/** What worker-side hooks receive. */
export interface WorkerInfo {
  readonly pid: number;
  /** The worker's number, 1..N, stable across respawns of the same slot. */
  readonly id: number;
}

export interface WorkerExitInfo extends WorkerInfo {
  readonly code: number | null;
  readonly signal: string | null;
}

export interface Hooks {
  /** Master, before anything is bound or started. */
  onStarting?(server: ServerInfo): void | Promise<void>;
  /** Master, once every first-generation worker is ready to serve. */
  whenReady?(server: ServerInfo): void | Promise<void>;
  /** Worker, after the app is loaded and before it takes connections. */
  postWorkerInit?(worker: WorkerInfo): void | Promise<void>;
  /** Master, after a worker process has exited (for any reason). */
  childExit?(server: ServerInfo, worker: WorkerExitInfo): void | Promise<void>;
  /** Master, just before it exits. */
  onExit?(server: ServerInfo): void | Promise<void>;
}

export type HookName = keyof Hooks;
export const HOOK_NAMES: readonly HookName[] = [
  'onStarting',
  'whenReady',
  'postWorkerInit',
  'childExit',
  'onExit',
];

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
    log.error(`hook ${name} failed: ${err instanceof Error ? (err.stack ?? err.message) : err}`);
  }
}
