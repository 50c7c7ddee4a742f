/**
 * One worker as the master sees it: its process, state, last heartbeat and stats, and the
 * TERM→KILL escalation. The child-side counterpart is worker/main.ts.
 */
import type { ChildProcess } from 'node:child_process';
import { onWorkerMessage, sendToWorker, type WorkerStats } from '../ipc.ts';
import type { RestartReason } from '../metrics/aggregate.ts';
import { EMPTY_STATS } from '../metrics/stats.ts';

export type WorkerState = 'booting' | 'ready' | 'draining' | 'exited';

/**
 * Workers beat twice a second; one silent this long has a blocked event loop right now, so it
 * gets no new connections even before --timeout replaces it.
 */
const STALE_MS = 1200;

export class WorkerHandle {
  /** Increasing number, Gunicorn's "age": `worker 7` is the seventh started. */
  readonly id: number;
  /**
   * The lowest number 1.. not held by another active worker: a replacement takes the slot of
   * the worker it replaces, so per-worker metric series survive recycles. While both live,
   * /metrics shows one of them per slot (metrics/prometheus.ts).
   */
  readonly slot: number;
  readonly child: ChildProcess;
  readonly pid: number;
  readonly startedAt = Date.now();
  state: WorkerState = 'booting';
  lastBeat = Date.now();
  /** Connections handed to it and not yet reported closed (least-conn), or as it last said (shared). */
  conns = 0;
  stats: WorkerStats = EMPTY_STATS;
  /** Wants replacing (max-requests, reload); keeps serving until its replacement is ready. */
  retiring = false;
  /** When to SIGKILL: set on drain (graceful timeout) and on timeout abort. */
  killAt: number | null = null;
  /** Why it is being replaced, for corral_worker_restarts_total (null: not replaced). */
  reason: RestartReason | null = null;
  /** Aborted for missing heartbeats (--timeout). */
  timedOut = false;
  /** Killed by the watchdog for not getting ready within --boot-timeout. */
  bootTimedOut = false;
  /** Still booting because of this (the app has not called listen() yet). */
  waitingFor: string | null = null;
  /** Set when the worker reported it could not boot. */
  bootFailure: { message: string; code: number } | null = null;

  constructor(id: number, child: ChildProcess, slot = id) {
    this.id = id;
    this.slot = slot;
    this.child = child;
    this.pid = child.pid ?? 0;
  }

  /**
   * Keep this view current from the worker's messages; the master hears about what it acts
   * on: ready, a closed connection (a free slot), a request to be replaced, the exit.
   */
  follow(events: {
    ready(bootMs: number): void;
    closed(): void;
    retire(): void;
    /** The app closed its own server: the worker is draining. */
    leaving(why: string): void;
    exit(code: number | null, signal: NodeJS.Signals | null): void;
    error(err: Error): void;
  }): void {
    onWorkerMessage(this.child, {
      ready: (m) => {
        if (this.state === 'booting') this.state = 'ready';
        this.lastBeat = Date.now();
        events.ready(m.bootMs);
      },
      beat: ({ t: _, ...stats }) => {
        this.lastBeat = Date.now();
        this.stats = stats;
      },
      closed: (m) => {
        this.conns = Math.max(0, this.conns - m.n);
        events.closed();
      },
      conns: (m) => {
        this.conns = m.n;
        events.closed();
      },
      retire: (m) => {
        this.retire(m.reason);
        events.retire();
      },
      waiting: (m) => {
        this.waitingFor = m.why;
      },
      leaving: (m) => events.leaving(m.why),
      'boot-failed': (m) => {
        this.bootFailure = { message: m.message, code: m.code };
      },
    });
    // An IPC send to a worker that just died reports as an error; its exit follows.
    this.child.on('error', events.error);
    this.child.on('exit', events.exit);
  }

  get name(): string {
    return `worker ${this.id} (pid ${this.pid})`;
  }

  /** Mark for replacement (replacement first), remembering why. */
  retire(reason: RestartReason): void {
    this.retiring = true;
    this.reason ??= reason;
  }

  /** Its event loop looks blocked (heartbeats are late). */
  stale(now: number): boolean {
    return now - this.lastBeat > STALE_MS;
  }

  /** Serving or about to: counts toward the target number of workers. */
  get active(): boolean {
    return (this.state === 'booting' || this.state === 'ready') && !this.retiring;
  }

  /** Ask it to finish in-flight requests and exit; killed after `graceMs`. */
  drain(graceMs: number): void {
    if (this.state === 'draining' || this.state === 'exited') return;
    this.state = 'draining';
    this.killAt = Date.now() + graceMs;
    if (!sendToWorker(this.child, { t: 'drain' })) this.signal('SIGTERM');
  }

  signal(sig: NodeJS.Signals): void {
    if (this.state === 'exited') return;
    try {
      this.child.kill(sig);
    } catch {
      // Already gone; the exit event will tell.
    }
  }
}
