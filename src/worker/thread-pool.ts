/**
 * The main thread of a `thread`-class worker: runs N app threads (worker/thread.ts), sums
 * their stats for the heartbeat, and replaces a thread that dies or stops beating, the way
 * the master replaces a worker. The main thread itself serves nothing, so it always beats.
 */
import { Worker } from 'node:worker_threads';
import type { Config } from '../config/settings.ts';
import type { ListenPlan } from '../ipc.ts';
import type { Logger } from '../log/logger.ts';
import type { FromThread, ThreadData, ToThread } from './thread.ts';

const entry = new URL(
  `./thread${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`,
  import.meta.url,
);

interface Slot {
  thread: Worker;
  lastBeat: number;
  requests: number;
  inFlight: number;
  /** Requests served by threads that were in this slot before. */
  past: number;
}

export class ThreadPool {
  readonly #slots: Slot[] = [];
  readonly #config: Config;
  readonly #log: Logger;
  readonly #data: ThreadData;
  #draining = false;
  #leaving = false;

  constructor(
    config: Config,
    configFile: string | null,
    id: number,
    listen: readonly ListenPlan[],
    log: Logger,
  ) {
    this.#config = config;
    this.#log = log;
    this.#data = { config, configFile, id, listen };
  }

  /** Start every thread; rejects with the first boot failure (the app cannot load). */
  async start(): Promise<void> {
    await Promise.all(Array.from({ length: this.#config.threads }, (_, i) => this.#spawn(i)));
    const timeout = this.#config.timeout * 1000;
    if (timeout > 0)
      setInterval(() => this.#checkBeats(timeout), Math.min(500, timeout / 4)).unref();
  }

  #spawn(i: number, past = 0): Promise<void> {
    const replacing = this.#slots[i]?.thread.threadId;
    const thread = new Worker(entry, { workerData: this.#data });
    const slot: Slot = { thread, lastBeat: Date.now(), requests: 0, inFlight: 0, past };
    this.#slots[i] = slot;
    return new Promise((ready, fail) => {
      thread.on('message', (m: FromThread) => {
        if (m.t === 'beat') {
          slot.lastBeat = Date.now();
          slot.requests = m.requests;
          slot.inFlight = m.inFlight;
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
        this.#spawn(i, slot.past + slot.requests).catch((err) => this.#log.error(String(err)));
      });
    });
  }

  /** A thread whose event loop is blocked stops beating: terminate it and start another. */
  #checkBeats(timeout: number): void {
    const now = Date.now();
    this.#slots.forEach((slot, i) => {
      if (this.#draining || now - slot.lastBeat <= timeout) return;
      this.#log.critical(
        `THREAD TIMEOUT: thread ${slot.thread.threadId} sent no heartbeat for ${((now - slot.lastBeat) / 1000).toFixed(1)} s — its event loop was blocked (${slot.inFlight} request(s) in flight); replacing it`,
      );
      const past = slot.past + slot.requests;
      // Detach first, so its exit does not spawn a second replacement.
      this.#slots[i] = { ...slot, lastBeat: now };
      void slot.thread.terminate();
      this.#spawn(i, past).catch((err) => this.#log.error(String(err)));
    });
  }

  get requests(): number {
    return this.#slots.reduce((n, s) => n + s.past + s.requests, 0);
  }

  get inFlight(): number {
    return this.#slots.reduce((n, s) => n + s.inFlight, 0);
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
