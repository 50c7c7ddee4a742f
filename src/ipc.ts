/**
 * Typed messages between master and workers (a discriminated union on `t`), and the one pair
 * of helpers that sends and dispatches them.
 */
import type { ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import type { Config } from './config/settings.ts';

/** How a worker gets connections for one bind. */
export type ListenPlan =
  /** The master accepts and hands sockets over (`conn` messages). */
  | { readonly kind: 'handoff' }
  /** Accept on an inherited listening socket at this fd (shared). */
  | { readonly kind: 'fd'; readonly fd: number }
  /** Bind an own SO_REUSEPORT socket. */
  | { readonly kind: 'reuseport'; readonly host: string; readonly port: number };

export type ToWorker =
  | {
      readonly t: 'boot';
      readonly id: number;
      readonly config: Config;
      readonly configFile: string | null;
      readonly listen: readonly ListenPlan[];
      readonly maxRequests: number;
      /** A reload's canary: beat every 50 ms this long once ready, so it is judged quickly. */
      readonly canaryMs: number;
      /** Certificate files read by the master (null: no TLS, or the worker reads them). */
      readonly tlsFiles: TlsFiles | null;
      /** The first bind, as a listen-mode app's server.address() reports it. */
      readonly bind: BindInfo | null;
    }
  /** A connection for bind number `bind` (the socket travels as the handle). */
  | { readonly t: 'conn'; readonly bind: number }
  /**
   * shared dispatch: accept from the shared socket only while holding fewer than `limit`
   * connections (0: no limit beside --worker-connections). The master's view of a fair share.
   */
  | { readonly t: 'share'; readonly limit: number }
  /** Stop taking connections, finish in-flight requests, exit. */
  | { readonly t: 'drain' }
  /** USR1 reached the master: reopen log files. */
  | { readonly t: 'reopen-logs' }
  /** /metrics is being scraped: send Node's metrics and the app's prom-client registry. */
  | { readonly t: 'metrics'; readonly seq: number };

import type { TlsFiles } from './config/tls.ts';
import type { Family } from './metrics/exposition.ts';
import type { WorkerStats } from './metrics/stats.ts';
import type { BindInfo } from './worker/listen-mode.ts';

export type { WorkerStats };

export type FromWorker =
  | { readonly t: 'ready'; readonly bootMs: number }
  | ({ readonly t: 'beat' } & WorkerStats)
  /** `n` handed-off connections have closed since the last report. */
  | { readonly t: 'closed'; readonly n: number }
  /** shared dispatch: the worker now holds `n` connections (sent when that changed notably). */
  | { readonly t: 'conns'; readonly n: number }
  /**
   * The worker wants to be replaced (max-requests; a sync worker whose request timed out; its
   * own RSS reached --max-worker-memory).
   */
  | { readonly t: 'retire'; readonly reason: 'max-requests' | 'request-timeout' | 'memory' }
  /** The port its inspector opens on SIGUSR1 (the master reads a blocked worker's stack). */
  | { readonly t: 'inspect'; readonly port: number }
  | { readonly t: 'boot-failed'; readonly message: string; readonly code: number }
  /** The answer to a `metrics` request: Node's metrics, the app's own (prom-client JSON). */
  | {
      readonly t: 'metrics';
      readonly seq: number;
      readonly node: readonly Family[];
      readonly app: readonly Family[];
    }
  /** Still booting, and why: the app exports no handler and has not called listen() yet. */
  | { readonly t: 'waiting'; readonly why: string }
  /** The app closed its server (listen mode): this worker drains; start a replacement. */
  | { readonly t: 'leaving'; readonly why: string };

type Handlers<M extends { t: string }, H> = {
  [K in M['t']]?: (msg: Extract<M, { t: K }>, handle: H) => void;
};

function isMessage(m: unknown): m is { t: string } {
  return typeof m === 'object' && m !== null && typeof (m as { t?: unknown }).t === 'string';
}

/**
 * An accepted connection as libuv's handle (TCP or Pipe), before any net.Socket is made of it.
 * It crosses IPC as child_process's `net.Native` and arrives in the worker as the same kind of
 * handle, not as a net.Socket.
 */
export interface ConnHandle {
  close(callback?: () => void): void;
}

/**
 * Master side: send to a worker. Returns false only when the channel is gone. (child.send's
 * own `false` means "queued behind a backlog", and the message is still delivered.) `sent` is
 * called once the message (and the handle's fd) is written to the channel, or with the error
 * that stopped it.
 */
export function sendToWorker(
  child: ChildProcess,
  msg: ToWorker,
  handle?: Socket | ConnHandle,
  sent?: (err: Error | null) => void,
): boolean {
  if (!child.connected) return false;
  try {
    if (handle) child.send(msg, handle as Socket, sent);
    else child.send(msg);
    return true;
  } catch {
    return false;
  }
}

export function onWorkerMessage(
  child: ChildProcess,
  handlers: Handlers<FromWorker, undefined>,
): void {
  child.on('message', (m: unknown) => {
    if (!isMessage(m)) return;
    (handlers as Record<string, ((m: unknown, h: undefined) => void) | undefined>)[m.t]?.(
      m,
      undefined,
    );
  });
}

/** Worker side: send to the master. */
export function sendToMaster(msg: FromWorker): void {
  if (process.connected) process.send?.(msg);
}

export function onMasterMessage(
  handlers: Handlers<ToWorker, Socket | ConnHandle | undefined>,
): void {
  process.on('message', (m: unknown, handle: unknown) => {
    if (!isMessage(m)) return;
    (handlers as Record<string, ((m: unknown, h: unknown) => void) | undefined>)[m.t]?.(m, handle);
  });
}
