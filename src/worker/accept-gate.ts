/**
 * Stop and restart accepting on listening sockets without closing them: what lets workers that
 * share one listening socket leave new connections to the others (at their connection cap, or
 * above their fair share) while the kernel keeps queueing them.
 *
 * node:net has no pause for a listening server. libuv serves accepts from the socket's read
 * watcher, and `uv_read_stop` stops that watcher: once armed with one `readStart()`, the
 * handle's `readStop()`/`readStart()` stop and resume accepting, and a `readStop()` from a
 * 'connection' listener ends the accept loop at once (measured on Node 24 / libuv 1.52: 8
 * queued connections, 1 accepted). It works on sockets opened from an fd (shared dispatch:
 * every worker opens the inherited fd); where it does not (`readStart` refuses), the gate
 * stays open and the kernel alone decides, as before.
 */
import type { Server } from 'node:net';

type Handle = { readStart?(): number; readStop?(): number };

export class AcceptGate {
  readonly #handles: Handle[] = [];
  #open = true;

  /** Gate this listening server (call once it listens). False: it cannot be paused. */
  add(server: Server): boolean {
    const handle = (server as unknown as { _handle?: Handle | null })._handle;
    if (!handle?.readStart || !handle.readStop || handle.readStart() !== 0) return false;
    this.#handles.push(handle);
    if (!this.#open) handle.readStop();
    return true;
  }

  get open(): boolean {
    return this.#open;
  }

  set open(open: boolean) {
    if (open === this.#open) return;
    this.#open = open;
    for (const h of this.#handles) {
      if (open) h.readStart?.();
      else h.readStop?.();
    }
  }

  /** Before its server closes: the handle goes with it. */
  remove(server: Server): void {
    const handle = (server as unknown as { _handle?: Handle | null })._handle;
    const i = handle ? this.#handles.indexOf(handle) : -1;
    if (i >= 0) this.#handles.splice(i, 1);
  }
}
