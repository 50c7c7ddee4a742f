/**
 * The main thread of a `thread`-class worker: runs N app threads (worker/thread.ts), sums
 * their stats for the heartbeat, and replaces a thread that dies or stops beating, the way
 * the master replaces a worker. The main thread itself serves nothing, so it always beats.
 */
import { Worker } from 'node:worker_threads';
import type { Config } from '../config/settings.ts';
import type { TlsFiles } from '../config/tls.ts';
import type { ListenPlan } from '../ipc.ts';
import type { Logger } from '../log/logger.ts';
import { EMPTY_STATS, type RequestStats } from '../metrics/stats.ts';
import type { FromThread, ThreadBeat, ThreadData, ToThread } from './thread.ts';

const entry = new URL(
  `./thread${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`,
  import.meta.url,
);

interface Slot {
  thread: Worker;
  lastBeat: number;
  /** The thread's latest heartbeat: its counters since it started, its gauges. */
  beat: ThreadBeat;
}

type Counters = Pick<RequestStats, 'statusClasses' | 'latencyCounts' | 'latencySumSeconds'>;

const NO_BEAT: ThreadBeat = EMPTY_STATS;

/** a + b, element by element (the arrays are the same length). */
const plus = (a: readonly number[], b: readonly number[]) => a.map((v, i) => v + (b[i] ?? 0));

export class ThreadPool {
  readonly #slots: Slot[] = [];
  readonly #config: Config;
  readonly #log: Logger;
  readonly #data: ThreadData;
  #draining = false;
  #leaving = false;
  /** What threads that were replaced had counted, so the worker's totals never go back. */
  #retired: ThreadBeat = EMPTY_STATS;

  constructor(
    config: Config,
    configFile: string | null,
    id: number,
    listen: readonly ListenPlan[],
    log: Logger,
    tlsFiles: TlsFiles | null,
  ) {
    this.#config = config;
    this.#log = log;
    this.#data = { config, configFile, id, listen, tlsFiles };
  }

  /** Start every thread; rejects with the first boot failure (the app cannot load). */
  async start(): Promise<void> {
    await Promise.all(Array.from({ length: this.#config.threads }, (_, i) => this.#spawn(i)));
    const timeout = this.#config.timeout * 1000;
    if (timeout > 0)
      setInterval(() => this.#checkBeats(timeout), Math.min(500, timeout / 4)).unref();
  }

  #spawn(i: number): Promise<void> {
    const replacing = this.#slots[i]?.thread.threadId;
    const thread = new Worker(entry, { workerData: this.#data });
    const slot: Slot = { thread, lastBeat: Date.now(), beat: NO_BEAT };
    this.#slots[i] = slot;
    return new Promise((ready, fail) => {
      thread.on('message', (m: FromThread) => {
        if (m.t === 'beat') {
          slot.lastBeat = Date.now();
          slot.beat = m;
        } else if (m.t === 'ready') {
          if (this.#leaving) thread.postMessage({ t: 'leave' } satisfies ToThread);
          if (replacing)
            this.#log.info(`thread ${thread.threadId} ready, replacing thread ${replacing}`);
          ready();
        } else if (m.t === 'boot-failed') {
          fail(Object.assign(new Error(m.message), { exitCode: m.code }));
        }
      });
      thread.on('error', (err) =>
        this.#log.error(`thread ${thread.threadId} failed: ${err.stack ?? err}`),
      );
      thread.on('exit', (code) => {
        if (this.#slots[i] !== slot || this.#draining) return;
        this.#log.error(`thread ${thread.threadId} exited (code ${code}); starting a replacement`);
        this.#retire(slot);
        this.#spawn(i).catch((err) => this.#log.error(String(err)));
      });
    });
  }

  /** A thread whose event loop is blocked stops beating: terminate it and start another. */
  #checkBeats(timeout: number): void {
    const now = Date.now();
    this.#slots.forEach((slot, i) => {
      if (this.#draining || now - slot.lastBeat <= timeout) return;
      this.#log.critical(
        `THREAD TIMEOUT: thread ${slot.thread.threadId} sent no heartbeat for ${((now - slot.lastBeat) / 1000).toFixed(1)} s — its event loop was blocked (${slot.beat.inFlight} request(s) in flight); replacing it`,
      );
      // Detach first, so its exit does not spawn a second replacement.
      this.#slots[i] = { ...slot, lastBeat: now };
      this.#retire(slot);
      void slot.thread.terminate();
      this.#spawn(i).catch((err) => this.#log.error(String(err)));
    });
  }

  #retire(slot: Slot): void {
    const r = this.#retired;
    const b = slot.beat;
    this.#retired = {
      ...r,
      requests: r.requests + b.requests,
      statusClasses: plus(r.statusClasses, b.statusClasses),
      latencyCounts: plus(r.latencyCounts, b.latencyCounts),
      latencySumSeconds: r.latencySumSeconds + b.latencySumSeconds,
    };
  }

  get requests(): number {
    return this.#slots.reduce((n, s) => n + s.beat.requests, this.#retired.requests);
  }

  get inFlight(): number {
    return this.#slots.reduce((n, s) => n + s.beat.inFlight, 0);
  }

  /** Status classes and latency of every thread, past ones included (for the heartbeat). */
  get stats(): Counters {
    const r = this.#retired;
    let statusClasses = [...r.statusClasses];
    let latencyCounts = [...r.latencyCounts];
    let latencySumSeconds = r.latencySumSeconds;
    for (const { beat } of this.#slots) {
      statusClasses = plus(statusClasses, beat.statusClasses);
      latencyCounts = plus(latencyCounts, beat.latencyCounts);
      latencySumSeconds += beat.latencySumSeconds;
    }
    return { statusClasses, latencyCounts, latencySumSeconds };
  }

  /**
   * The threads' event loops, which serve, instead of the main thread's, which only beats:
   * mean utilisation, and the worst event-loop delay.
   */
  get gauges(): { elu: number; lagSeconds: number } {
    const n = this.#slots.length || 1;
    return {
      elu: this.#slots.reduce((sum, s) => sum + s.beat.elu, 0) / n,
      lagSeconds: Math.max(0, ...this.#slots.map((s) => s.beat.lagSeconds)),
    };
  }

  leave(): void {
    this.#leaving = true;
    for (const s of this.#slots) s.thread.postMessage({ t: 'leave' } satisfies ToThread);
  }

  reopenLogs(): void {
    for (const s of this.#slots) s.thread.postMessage({ t: 'reopen-logs' } satisfies ToThread);
  }

  /** Every thread drains its connections and exits. */
  drain(): Promise<void> {
    this.#draining = true;
    return Promise.all(
      this.#slots.map(
        (s) =>
          new Promise<void>((done) => {
            s.thread.once('exit', () => done());
            s.thread.postMessage({ t: 'drain' } satisfies ToThread);
          }),
      ),
    ).then(() => undefined);
  }
}
