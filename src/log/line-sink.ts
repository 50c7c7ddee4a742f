/**
 * Where log lines go without blocking the request path. Node writes to files and pipes
 * synchronously on Linux, so a slow disk or a full pipe would stall every request of a worker.
 * Here a line is appended to memory and the lines of one event-loop turn leave in one
 * asynchronous write (the libuv thread pool does the blocking part).
 *
 * Memory is bounded: while the destination cannot keep up and `maxBuffered` bytes wait, new
 * lines are dropped and counted, and the count is reported (once a second at most) rather than
 * the buffer growing until the worker is killed for its memory. Backpressure was the other
 * choice; it would slow the app down for the sake of its log.
 */
import { closeSync, openSync, write, writeSync } from '../fs.ts';

export interface LineSinkOptions {
  /** `-` = stdout, else a file appended to. */
  readonly target: string;
  /** Bytes waiting to be written beyond which lines are dropped. */
  readonly maxBuffered?: number;
  /** Told how many lines were dropped since the last report. */
  readonly onDrop?: (lines: number) => void;
}

const DEFAULT_MAX_BUFFERED = 4 * 2 ** 20;
/** A full non-blocking pipe (EAGAIN): try again shortly. */
const RETRY_MS = 10;
const DROP_REPORT_MS = 1000;

export class LineSink {
  readonly #target: string;
  readonly #max: number;
  readonly #onDrop: ((lines: number) => void) | undefined;
  #fd: number;
  #pending: string[] = [];
  #pendingBytes = 0;
  /** Bytes handed to a write that has not completed yet (or a remainder it left). */
  #inFlight: Buffer | null = null;
  #scheduled = false;
  #reopenWanted = false;
  #dropped = 0;
  #lastDropReport = 0;
  #idle: (() => void)[] = [];
  #closed = false;
  /** Lines dropped because the destination could not keep up, since start. */
  droppedTotal = 0;

  constructor({ target, maxBuffered = DEFAULT_MAX_BUFFERED, onDrop }: LineSinkOptions) {
    this.#target = target;
    this.#max = maxBuffered;
    this.#onDrop = onDrop;
    this.#fd = this.#open();
    // Quick stops exit without draining: whatever is still in memory is written then.
    process.once('exit', () => this.flushSync());
  }

  #open(): number {
    return this.#target === '-' ? 1 : openSync(this.#target, 'a');
  }

  write(line: string): void {
    if (this.#closed) return;
    const bytes = Buffer.byteLength(line);
    if (this.#pendingBytes + bytes > this.#max) {
      this.#dropped++;
      this.droppedTotal++;
      return;
    }
    this.#pending.push(line);
    this.#pendingBytes += bytes;
    this.#schedule();
  }

  #schedule(): void {
    if (this.#scheduled || this.#inFlight) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.#writeNext();
    });
  }

  #writeNext(): void {
    if (this.#inFlight) return;
    if (this.#reopenWanted) this.#doReopen();
    if (!this.#pending.length) {
      this.#reportDrops();
      for (const done of this.#idle.splice(0)) done();
      return;
    }
    const buf = Buffer.from(this.#pending.join(''));
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#send(buf);
  }

  #send(buf: Buffer): void {
    this.#inFlight = buf;
    write(this.#fd, buf, 0, buf.length, null, (err, written) => {
      if (err && err.code === 'EAGAIN') {
        setTimeout(() => this.#send(buf), RETRY_MS).unref();
        return;
      }
      if (err) {
        // A full disk or a closed pipe: these lines are lost; say so instead of retrying forever.
        const lines = buf.toString().split('\n').length - 1;
        this.#dropped += lines;
        this.droppedTotal += lines;
      } else if (written < buf.length) {
        this.#send(buf.subarray(written));
        return;
      }
      this.#inFlight = null;
      this.#writeNext();
    });
  }

  #reportDrops(): void {
    const now = Date.now();
    if (!this.#dropped || now - this.#lastDropReport < DROP_REPORT_MS) return;
    this.#lastDropReport = now;
    const n = this.#dropped;
    this.#dropped = 0;
    this.#onDrop?.(n);
  }

  /** Reopen the file (after rotation renamed it): lines not yet written go to the new file. */
  reopen(): void {
    if (this.#target === '-') return;
    this.#reopenWanted = true;
    if (!this.#inFlight) this.#writeNext();
  }

  #doReopen(): void {
    this.#reopenWanted = false;
    const old = this.#fd;
    try {
      this.#fd = this.#open();
    } catch {
      return; // Keep writing to the old file rather than losing lines.
    }
    if (old > 2) closeSync(old);
  }

  /** Resolves once every line written so far is in the destination. */
  flush(): Promise<void> {
    if (!this.#inFlight && !this.#pending.length && !this.#scheduled) return Promise.resolve();
    return new Promise((done) => {
      this.#idle.push(done);
      this.#schedule();
    });
  }

  /** Synchronous last resort at process exit: what is still in memory is written now. */
  flushSync(): void {
    const rest = this.#pending.join('');
    this.#pending = [];
    this.#pendingBytes = 0;
    if (!rest) return;
    try {
      writeSync(this.#fd, rest);
    } catch {
      // Exiting anyway; nothing better to do with a failing destination.
    }
  }

  async close(): Promise<void> {
    await this.flush();
    this.#closed = true;
    if (this.#fd > 2) closeSync(this.#fd);
  }
}
