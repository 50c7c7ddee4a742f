/**
 * How the master steers connections to workers.
 *
 * shared (the default for async workers): workers accept from the shared socket themselves and
 * report how many connections they hold when it changes notably; the master answers each with
 * a fair share, and a worker above it (or at its --worker-connections cap) stops accepting, so
 * the kernel hands the next connections to the others. The master is never on a connection's
 * path.
 *
 * least-conn (sync workers, or chosen): the master accepts each connection and hands it to the
 * ready worker with the fewest open connections, ties in turn. As node:cluster's round-robin
 * primary does, it takes the accepted handle from libuv (the listening handle's onconnection)
 * and sends it over IPC as is: nothing is read and no net.Socket is built, so a connection
 * leaves no garbage in the master beyond its IPC message. The master closes its copy once the
 * fd is written to the channel (the worker holds its own then). Connections that arrive while
 * no worker is ready wait here, unread, instead of being refused. Nothing reads a waiting
 * connection, so a client that gives up while waiting is not noticed here: the worker it goes
 * to reads the end at once and closes it.
 */
import type { ChildProcess } from 'node:child_process';
import { Socket } from 'node:net';
import { type ConnHandle, sendToWorker } from '../ipc.ts';
import { backlogByBind } from '../metrics/backlog.ts';
import type { Listener } from './listeners.ts';
import type { WorkerHandle } from './worker-handle.ts';

/**
 * An accepted connection: libuv's handle (TCP or Pipe), or a paused net.Socket where a
 * listener has no handle to take connections from.
 */
type Conn = ConnHandle | Socket;
type Pending = { conn: Conn; bind: number; since: number };

/** A listening net.Server's libuv handle: node:cluster's round-robin primary sets the same. */
type ListenHandle = { onconnection?: (err: number, conn?: ConnHandle) => void };

function closeConn(c: Conn): void {
  if (c instanceof Socket) c.destroy();
  else c.close();
}

/** A socket to write on: a raw handle is wrapped only when it is answered here. */
function socketOf(c: Conn): Socket {
  if (c instanceof Socket) return c;
  return new Socket({ handle: c, readable: true, writable: true } as ConstructorParameters<
    typeof Socket
  >[0]);
}

export interface DispatchOptions {
  /** Workers accept from the shared socket: past their caps connections wait in the kernel. */
  readonly shared?: () => boolean;
  /** The master sets fair shares for workers that accept for themselves (shared, async). */
  readonly steering?: () => boolean;
  /** --queue-timeout in seconds (0: connections wait for a worker as long as it takes). */
  readonly queueTimeout?: () => number;
  /** Connections are cleartext HTTP (no TLS): a 503 can be written to them. */
  readonly cleartext?: () => boolean;
  readonly log?: (line: string) => void;
}

/**
 * The answer to a connection that waited too long. Its request is read and dropped, so
 * closing does not turn into a reset that could destroy the answer before the client reads it.
 */
function shed(socket: Socket, retryAfter: number): void {
  const body = 'Service Unavailable: no worker was free in time\n';
  socket.on('error', () => {});
  socket.resume();
  socket.end(
    `HTTP/1.1 503 Service Unavailable\r\nretry-after: ${retryAfter}\r\ncontent-type: text/plain\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`,
  );
  // A client that never closes its side does not keep the socket.
  setTimeout(() => socket.destroy(), 5000).unref();
}

export class Dispatcher {
  readonly #ready: () => readonly WorkerHandle[];
  /** Most connections a worker may hold (1 for sync, --worker-connections for async). */
  readonly #capacity: () => number;
  readonly #pending: Pending[] = [];
  /** --queue-timeout, in seconds (0: off). */
  readonly #queueTimeout: () => number;
  /** Answers 503 to connections that waited too long; null when none waits. */
  #shedTimer: NodeJS.Timeout | null = null;
  /** Connections answered 503 by --queue-timeout, since start. */
  shed = 0;
  /** What was shed since the last log line, and when that line was written. */
  #unlogged = 0;
  #loggedAt = Number.NEGATIVE_INFINITY;
  readonly #log: (line: string) => void;
  /** HTTP/1 in clear text: a 503 can be written (over TLS the connection is only closed). */
  readonly #cleartext: () => boolean;
  #turn = 0;
  /** #pick()'s rank of each ready worker, kept between picks (no array per connection). */
  readonly #ranks: number[] = [];
  /** Workers accept from the shared socket: past their caps connections wait in the kernel. */
  readonly #shared: () => boolean;
  /** The master sets fair shares (shared, async workers). */
  readonly #steering: () => boolean;
  /** The binds' URLs, for the kernel's accept queue (#lookAtKernelQueue). */
  #binds: string[] = [];
  /** Connections seen in the kernel's accept queue at the last look, while every worker was full. */
  #queued = 0;
  #looking = false;
  /** The share each worker was last told. */
  readonly #told = new WeakMap<WorkerHandle, number>();
  /** Handles sent to a worker whose fd is not yet written to its channel. */
  readonly #unsent = new WeakMap<ChildProcess, Set<ConnHandle>>();

  constructor(
    ready: () => readonly WorkerHandle[],
    capacity: () => number,
    o: DispatchOptions = {},
  ) {
    this.#ready = ready;
    this.#capacity = capacity;
    this.#shared = o.shared ?? (() => false);
    this.#steering = o.steering ?? (() => false);
    this.#queueTimeout = o.queueTimeout ?? (() => 0);
    this.#cleartext = o.cleartext ?? (() => true);
    this.#log = o.log ?? (() => {});
  }

  attach(listeners: readonly Listener[]): void {
    this.#binds = listeners.map((l) => l.url);
    listeners.forEach((l, bind) => {
      const server = l.server;
      if (!server) return;
      const handle = (server as unknown as { _handle?: ListenHandle | null })._handle;
      if (handle && typeof handle.onconnection === 'function') {
        // libuv retries a failed accept (EMFILE included) on its own; nothing to hand over then.
        handle.onconnection = (err, conn) => {
          if (!err && conn) this.#dispatch(conn, bind);
        };
        return;
      }
      server.on('connection', (socket: Socket) => this.#dispatch(socket, bind));
    });
  }

  /**
   * The ready worker with the fewest connections, ties in turn. A worker whose heartbeats are
   * late (blocked event loop) gets nothing while another is responsive; one due for
   * replacement only when no other is ready. Called for every connection, so it allocates
   * nothing: each candidate gets a rank (late: 2, retiring: 1), only the lowest rank present
   * competes, and the turn rotates over the workers of that rank.
   */
  #pick(): WorkerHandle | null {
    const cap = this.#capacity();
    const workers = this.#ready();
    const ranks = this.#ranks;
    let rank = 4;
    let n = 0;
    for (let i = 0; i < workers.length; i++) {
      const w = workers[i] as WorkerHandle;
      const r = w.conns >= cap ? 4 : (w.stale() ? 2 : 0) + (w.retiring ? 1 : 0);
      ranks[i] = r;
      if (r === 4) continue;
      if (r < rank) {
        rank = r;
        n = 1;
      } else if (r === rank) n++;
    }
    if (n === 0) return null;
    this.#turn = (this.#turn + 1) % n;
    // The first of the fewest connections, counting from the turn's worker of this rank.
    let best: WorkerHandle | null = null;
    let bestAt = n;
    let k = 0;
    for (let i = 0; i < workers.length; i++) {
      const w = workers[i] as WorkerHandle;
      if (ranks[i] !== rank) continue;
      const at = (k++ - this.#turn + n) % n;
      if (!best || w.conns < best.conns || (w.conns === best.conns && at < bestAt)) {
        best = w;
        bestAt = at;
      }
    }
    return best;
  }

  #dispatch(conn: Conn, bind: number): void {
    const worker = this.#pick();
    if (!worker) {
      this.#wait(conn, bind, performance.now());
      if (conn instanceof Socket) {
        conn.once('close', () => {
          const i = this.#pending.findIndex((p) => p.conn === conn);
          if (i >= 0) this.#pending.splice(i, 1);
        });
      }
      return;
    }
    this.#handTo(worker, conn, bind, performance.now());
  }

  #handTo(worker: WorkerHandle, conn: Conn, bind: number, since: number): void {
    worker.conns++;
    if (conn instanceof Socket) {
      if (!sendToWorker(worker.child, { t: 'conn', bind }, conn)) {
        worker.conns--;
        this.#wait(conn, bind, since);
      }
      return;
    }
    const unsent = this.#unsentOf(worker.child);
    unsent.add(conn);
    const sent = sendToWorker(worker.child, { t: 'conn', bind }, conn, (err) => {
      // Closed already: its worker left before the fd was written.
      if (!unsent.delete(conn)) return;
      if (!err) {
        conn.close();
        return;
      }
      worker.conns--;
      this.#wait(conn, bind, since);
    });
    if (!sent) {
      unsent.delete(conn);
      worker.conns--;
      this.#wait(conn, bind, since);
    }
  }

  /**
   * child_process sends one handle at a time and queues the rest until the worker acknowledges;
   * a worker that exits drops that queue without a word. What it dropped is closed here (the
   * client sees its connection closed, as when a worker dies holding it), never leaked.
   */
  #unsentOf(child: ChildProcess): Set<ConnHandle> {
    let set = this.#unsent.get(child);
    if (set) return set;
    const mine = new Set<ConnHandle>();
    set = mine;
    this.#unsent.set(child, mine);
    const drop = () => {
      for (const c of mine) c.close();
      mine.clear();
    };
    child.once('disconnect', drop);
    child.once('exit', drop);
    return mine;
  }

  #wait(conn: Conn, bind: number, since: number): void {
    this.#pending.push({ conn, bind, since });
    const limit = this.#queueTimeout();
    if (limit > 0 && !this.#shedTimer) {
      const every = Math.min(250, Math.max(20, limit * 250));
      this.#shedTimer = setInterval(() => this.#shedExpired(limit * 1000), every);
      this.#shedTimer.unref();
    }
  }

  /**
   * --queue-timeout: connections that waited longer for a worker are answered 503 with
   * Retry-After and closed, instead of hanging; counted, and logged at most every 10 s.
   */
  #shedExpired(limitMs: number): void {
    const now = performance.now();
    while (this.#pending.length && now - (this.#pending[0] as Pending).since >= limitMs) {
      const p = this.#pending.shift() as Pending;
      if (p.conn instanceof Socket && p.conn.destroyed) continue;
      this.shed++;
      this.#unlogged++;
      if (this.#cleartext()) shed(socketOf(p.conn), Math.max(1, Math.ceil(limitMs / 1000)));
      else closeConn(p.conn);
    }
    if (this.#unlogged && now - this.#loggedAt >= 10_000) {
      this.#log(
        `queue-timeout: answered 503 to ${this.#unlogged} connection(s) that waited ${limitMs / 1000} s for a worker (${this.shed} since start)`,
      );
      this.#unlogged = 0;
      this.#loggedAt = now;
    }
    if (!this.#pending.length && !this.#unlogged && this.#shedTimer) {
      clearInterval(this.#shedTimer);
      this.#shedTimer = null;
    }
  }

  /** Hand out connections that waited for a ready worker or a free slot. */
  flush(): void {
    if (this.#steering()) this.#share();
    while (this.#pending.length) {
      const worker = this.#pick();
      if (!worker) return;
      const p = this.#pending.shift();
      if (p && !(p.conn instanceof Socket && p.conn.destroyed)) {
        this.#handTo(worker, p.conn, p.bind, p.since);
      }
    }
  }

  /**
   * shared: a ready worker accepts while it holds no more than the mean plus a quarter of it
   * (with a handful of clients: no more than the mean, so 8 spread 4/4). Workers report a
   * count that moved by an eighth, and at once when they stop at their share: a burst fills
   * every share before the master hears of it, and then everyone waits for the next shares
   * (a held worker also probes the queue itself: AppServer's #probe). A worker whose
   * heartbeats are late (its event loop blocked, or the process stopped) takes no connection
   * now: the shares are those of the others (one left: no share), so nobody probes for long.
   */
  #share(): void {
    const ready = this.#ready();
    const live = ready.filter((w) => !w.stale());
    const total = live.reduce((sum, w) => sum + w.conns, 0);
    const mean = total / Math.max(1, live.length);
    const limit = live.length < 2 ? 0 : Math.floor(mean) + 1 + Math.floor(mean / 4);
    for (const w of ready) {
      if (this.#told.get(w) === limit) continue;
      this.#told.set(w, limit);
      sendToWorker(w.child, { t: 'share', limit });
    }
  }

  /** On the master's tick: a worker whose heartbeats went late leaves the shares, or is back. */
  reshare(): void {
    if (this.#steering()) this.#share();
  }

  /**
   * Connections waiting for a worker: unread in the master (least-conn), or in the kernel's
   * accept queue while every worker is at its cap (shared), as of the last look.
   */
  get waiting(): number {
    return this.#pending.length + this.#queued;
  }

  /**
   * Once a second (the master's regulator). With shared dispatch, connections past every
   * worker's cap (a sync worker's cap is one) wait in the kernel's accept queue, where only
   * /proc/net/tcp shows them. It is read, on libuv's thread pool (metrics/backlog.ts), while
   * every worker is full and then until a read finds the queue empty: a sync worker's count
   * drops to 0 between two connections, and a look skipped then would read as "nobody waits".
   */
  lookAtKernelQueue(): void {
    if (!this.#shared() || this.#looking) return;
    if (this.#queued === 0 && !this.#full()) return;
    this.#looking = true;
    void backlogByBind(this.#binds).then((counts) => {
      this.#looking = false;
      let n = 0;
      for (const c of counts.values()) n += c;
      this.#queued = n;
    });
  }

  /** Every ready worker at its cap (as workers last reported their counts). */
  #full(): boolean {
    const cap = this.#capacity();
    return this.#ready().every((w) => w.conns >= cap);
  }

  /** On stop: connections never handed out are closed. */
  dropPending(): number {
    const n = this.#pending.length;
    for (const p of this.#pending.splice(0)) closeConn(p.conn);
    return n;
  }
}
