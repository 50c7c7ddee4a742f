/**
 * How the master steers connections to workers.
 *
 * shared (the default for async workers): workers accept from the shared socket themselves and
 * report how many connections they hold when it changes notably; the master answers each with
 * a fair share, and a worker above it (or at its --worker-connections cap) stops accepting, so
 * the kernel hands the next connections to the others. The master is never on a connection's
 * path.
 *
 * least-conn (sync workers, or chosen): the master accepts each connection (paused, unread)
 * and hands it to the ready worker with the fewest open connections, ties in turn. Connections
 * that arrive while no worker is ready wait here, unread, instead of being refused.
 */
import type { Socket } from 'node:net';
import { sendToWorker } from '../ipc.ts';
import type { Listener } from './listeners.ts';
import type { WorkerHandle } from './worker-handle.ts';

export class Dispatcher {
  readonly #ready: () => readonly WorkerHandle[];
  /** Most connections a worker may hold (1 for sync, --worker-connections for async). */
  readonly #capacity: () => number;
  readonly #pending: { socket: Socket; bind: number }[] = [];
  #turn = 0;
  /** Workers accept for themselves (shared): the master only sets fair shares. */
  readonly #steering: () => boolean;
  /** The share each worker was last told. */
  readonly #told = new WeakMap<WorkerHandle, number>();

  constructor(
    ready: () => readonly WorkerHandle[],
    capacity: () => number,
    steering: () => boolean = () => false,
  ) {
    this.#ready = ready;
    this.#capacity = capacity;
    this.#steering = steering;
  }

  attach(listeners: readonly Listener[]): void {
    listeners.forEach((l, bind) => {
      l.server?.on('connection', (socket: Socket) => this.#dispatch(socket, bind));
    });
  }

  #pick(): WorkerHandle | null {
    // A worker whose heartbeats are late (blocked event loop) gets nothing while another is
    // responsive; one due for replacement only when no other is ready.
    const now = Date.now();
    const cap = this.#capacity();
    const all = this.#ready().filter((w) => w.conns < cap);
    const live = all.filter((w) => !w.stale(now));
    const pool = live.length ? live : all;
    const staying = pool.filter((w) => !w.retiring);
    const ready = staying.length ? staying : pool;
    const n = ready.length;
    if (n === 0) return null;
    this.#turn = (this.#turn + 1) % n;
    let best: WorkerHandle | null = null;
    for (let i = 0; i < n; i++) {
      const w = ready[(this.#turn + i) % n] as WorkerHandle;
      if (!best || w.conns < best.conns) best = w;
    }
    return best;
  }

  #dispatch(socket: Socket, bind: number): void {
    const worker = this.#pick();
    if (!worker) {
      this.#pending.push({ socket, bind });
      socket.once('close', () => {
        const i = this.#pending.findIndex((p) => p.socket === socket);
        if (i >= 0) this.#pending.splice(i, 1);
      });
      return;
    }
    this.#handTo(worker, socket, bind);
  }

  #handTo(worker: WorkerHandle, socket: Socket, bind: number): void {
    worker.conns++;
    if (!sendToWorker(worker.child, { t: 'conn', bind }, socket)) {
      worker.conns--;
      this.#pending.push({ socket, bind });
    }
  }

  /** Hand out connections that waited for a ready worker or a free slot. */
  flush(): void {
    if (this.#steering()) this.#share();
    while (this.#pending.length) {
      const worker = this.#pick();
      if (!worker) return;
      const p = this.#pending.shift();
      if (p && !p.socket.destroyed) this.#handTo(worker, p.socket, p.bind);
    }
  }

  /**
   * shared: a ready worker accepts while it holds no more than the mean plus a quarter of it
   * (with a handful of clients: no more than the mean, so 8 spread 4/4). Workers
   * report a count that moved by an eighth, so the master's view is at most an eighth off and
   * the least loaded worker is always below its share: the shares never stop everyone at once.
   */
  #share(): void {
    const ready = this.#ready();
    const total = ready.reduce((sum, w) => sum + w.conns, 0);
    const mean = total / Math.max(1, ready.length);
    const limit = ready.length < 2 ? 0 : Math.floor(mean) + 1 + Math.floor(mean / 4);
    for (const w of ready) {
      if (this.#told.get(w) === limit) continue;
      this.#told.set(w, limit);
      sendToWorker(w.child, { t: 'share', limit });
    }
  }

  /** Connections waiting for a worker. */
  get waiting(): number {
    return this.#pending.length;
  }

  /** On stop: connections never handed out are closed. */
  dropPending(): number {
    const n = this.#pending.length;
    for (const p of this.#pending.splice(0)) p.socket.destroy();
    return n;
  }
}
