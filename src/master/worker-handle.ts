/**
 * One worker as the master sees it: its process, state, last heartbeat and stats, and the
 * TERM→KILL escalation. Its state changes only through the methods here. The child-side
 * counterpart is worker/main.ts.
 */
import type { ChildProcess } from 'node:child_process';
import { onWorkerMessage, sendToWorker, type WorkerStats } from '../ipc.ts';
import type { RestartReason } from '../metrics/aggregate.ts';
import { EMPTY_STATS } from '../metrics/stats.ts';
import { type Clock, monotonic } from './clock.ts';

export type WorkerState = 'booting' | 'ready' | 'draining' | 'exited';

/**
 * Workers beat twice a second; one silent this long has a blocked event loop right now, so it
 * gets no new connections even before --timeout replaces it.
 */
export const STALE_MS = 1200;

/** What a worker is told to watch in itself, and how the master judges its health. */
export interface WorkerLimits {
  /** --max-worker-lifetime (+ its jitter, drawn once): replaced after this long (0 = never). */
  readonly lifetimeMs?: number;
  /** --max-event-loop-delay in ms (0 = off). */
  readonly maxLagMs?: number;
}

/** Heartbeats in a row above --max-event-loop-delay before the worker is replaced. */
export const SLOW_BEATS = 3;

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
  readonly startedAt: number;
  readonly #clock: Clock;
  readonly #limits: WorkerLimits;
  #state: WorkerState = 'booting';
  #lastBeat: number;
  /** Connections handed to it and not yet reported closed (least-conn), or as it last said (shared). */
  conns = 0;
  #stats: WorkerStats = EMPTY_STATS;
  #retiring = false;
  #killAt: number | null = null;
  #reason: RestartReason | null = null;
  #timedOut = false;
  #bootTimedOut = false;
  #bootFailure: { message: string; code: number } | null = null;
  /** Still booting because of this (the app has not called listen() yet). */
  waitingFor: string | null = null;
  /** Heartbeats in a row whose event-loop delay was above the limit. */
  #slowBeats = 0;
  /** Its last heartbeat before a stall the master has reported (null: none going on). */
  #stalledSince: number | null = null;
  /** The inspector port it reported (for the stack of a blocked worker); 0: none. */
  #inspectPort = 0;

  constructor(
    id: number,
    child: ChildProcess,
    slot = id,
    clock: Clock = monotonic,
    limits: WorkerLimits = {},
  ) {
    this.id = id;
    this.slot = slot;
    this.child = child;
    this.pid = child.pid ?? 0;
    this.#clock = clock;
    this.#limits = limits;
    this.startedAt = clock();
    this.#lastBeat = this.startedAt;
  }

  get state(): WorkerState {
    return this.#state;
  }
  get stats(): WorkerStats {
    return this.#stats;
  }
  /** Wants replacing (max-requests, reload, …); keeps serving until its replacement is ready. */
  get retiring(): boolean {
    return this.#retiring;
  }
  /** When it is SIGKILLed: set on drain (graceful timeout), timeout abort and quick stop. */
  get killAt(): number | null {
    return this.#killAt;
  }
  /** Why it is being replaced, for corral_worker_restarts_total (null: not replaced). */
  get reason(): RestartReason | null {
    return this.#reason;
  }
  /** Aborted for missing heartbeats (--timeout). */
  get timedOut(): boolean {
    return this.#timedOut;
  }
  /** Killed for not getting ready within --boot-timeout. */
  get bootTimedOut(): boolean {
    return this.#bootTimedOut;
  }
  /** Set when the worker reported it could not boot. */
  get bootFailure(): { message: string; code: number } | null {
    return this.#bootFailure;
  }
  get inspectPort(): number {
    return this.#inspectPort;
  }
  /** Milliseconds since it was started. */
  get age(): number {
    return this.#clock() - this.startedAt;
  }
  /** Milliseconds since its last heartbeat (or its start). */
  get silentFor(): number {
    return this.#clock() - this.#lastBeat;
  }
  /** Past --max-worker-lifetime. */
  get expired(): boolean {
    const life = this.#limits.lifetimeMs ?? 0;
    return life > 0 && this.age >= life;
  }
  /** Its event loop has lagged past --max-event-loop-delay for SLOW_BEATS heartbeats in a row. */
  get sluggish(): boolean {
    return this.#slowBeats >= SLOW_BEATS;
  }

  /**
   * Keep this view current from the worker's messages; the master hears about what it acts
   * on: ready, a closed connection (a free slot), a request to be replaced, the exit.
   */
  follow(events: {
    ready(bootMs: number): void;
    closed(): void;
    beat(): void;
    retire(): void;
    /** The app closed its own server: the worker is draining. */
    leaving(why: string): void;
    exit(code: number | null, signal: NodeJS.Signals | null): void;
    error(err: Error): void;
  }): void {
    onWorkerMessage(this.child, {
      ready: (m) => {
        this.markReady();
        events.ready(m.bootMs);
      },
      beat: ({ t: _, ...stats }) => {
        this.beat(stats);
        events.beat();
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
      'boot-failed': (m) => this.failedBoot(m.message, m.code),
      inspect: (m) => {
        this.#inspectPort = m.port;
      },
    });
    // An IPC send to a worker that just died reports as an error; its exit follows.
    this.child.on('error', events.error);
    this.child.on('exit', events.exit);
  }

  get name(): string {
    return `worker ${this.id} (pid ${this.pid})`;
  }

  markReady(): void {
    if (this.#state === 'booting') this.#state = 'ready';
    this.#lastBeat = this.#clock();
  }

  beat(stats: WorkerStats): void {
    this.#lastBeat = this.#clock();
    this.#stats = stats;
    const limit = this.#limits.maxLagMs ?? 0;
    this.#slowBeats = limit > 0 && stats.lagSeconds * 1000 > limit ? this.#slowBeats + 1 : 0;
  }

  failedBoot(message: string, code: number): void {
    this.#bootFailure = { message, code };
  }

  /** Mark for replacement (replacement first), remembering why. */
  retire(reason: RestartReason): void {
    this.#retiring = true;
    this.#reason ??= reason;
  }

  /** A roll was called off before its replacement came: it stays. */
  keep(): void {
    this.#retiring = false;
    this.#reason = null;
  }

  /** Its event loop looks blocked (heartbeats are late). */
  stale(): boolean {
    return this.silentFor > STALE_MS;
  }

  /**
   * On the master's tick, so that each stall is told once each way: 'stalled' when its
   * heartbeats have just gone late, the stall's length (ms between the heartbeats around it)
   * when they have just come back, else null.
   */
  stallChange(): 'stalled' | number | null {
    const stale = this.stale();
    if (stale && this.#stalledSince === null) {
      this.#stalledSince = this.#lastBeat;
      return 'stalled';
    }
    if (stale || this.#stalledSince === null) return null;
    const ms = this.#lastBeat - this.#stalledSince;
    this.#stalledSince = null;
    return ms;
  }

  /** Serving or about to: counts toward the target number of workers. */
  get active(): boolean {
    return (this.#state === 'booting' || this.#state === 'ready') && !this.#retiring;
  }

  /** Its kill deadline has passed. */
  get killDue(): boolean {
    return this.#killAt !== null && this.#clock() >= this.#killAt;
  }

  /** Ask it to finish in-flight requests and exit; killed after `graceMs`. */
  drain(graceMs: number): void {
    if (this.#state === 'draining' || this.#state === 'exited') return;
    this.#state = 'draining';
    this.#killAt = this.#clock() + graceMs;
    if (!sendToWorker(this.child, { t: 'drain' })) this.signal('SIGTERM');
  }

  /** Quick stop: SIGQUIT now, SIGKILL after `graceMs` (or sooner if already due). */
  quit(graceMs: number): void {
    this.#signalThenKill('SIGQUIT', graceMs);
  }

  /**
   * --timeout: it is replaced, and killed after `graceMs` unless abort() comes first. The
   * master reads its stack in between.
   */
  timeOut(graceMs: number): void {
    this.#timedOut = true;
    this.#killAt = this.#clock() + graceMs;
    this.retire('timeout');
  }

  /** After a timeout: SIGABRT now, SIGKILL after `graceMs`. */
  abort(graceMs: number): void {
    this.#signalThenKill('SIGABRT', graceMs);
  }

  /** `sig` now; SIGKILL after `graceMs`, or at the kill deadline it already had if sooner. */
  #signalThenKill(sig: NodeJS.Signals, graceMs: number): void {
    this.signal(sig);
    this.#killAt = Math.min(this.#killAt ?? Number.POSITIVE_INFINITY, this.#clock() + graceMs);
  }

  /** --boot-timeout: it never got ready. */
  bootTimeOut(): void {
    this.#bootTimedOut = true;
    this.kill();
  }

  /** SIGKILL now, once. */
  kill(): void {
    this.signal('SIGKILL');
    this.#killAt = Number.POSITIVE_INFINITY;
  }

  /** Its process is gone; returns the state it was in. */
  exited(): WorkerState {
    const was = this.#state;
    this.#state = 'exited';
    return was;
  }

  signal(sig: NodeJS.Signals): void {
    if (this.#state === 'exited') return;
    try {
      this.child.kill(sig);
    } catch {
      // Already gone; the exit event will tell.
    }
  }
}
