/**
 * The arbiter. Events (signals, worker messages, exits) only record facts and call wakeup();
 * one tick() then does, in order: actions → timeouts → canary → regulate → roll → spawn →
 * retire → finish. Time comes from an injected monotonic clock and workers from an injected
 * spawn, so the loop is tested with fake workers (test/unit/master.test.ts).
 */
import type { Resolved } from '../config/resolve.ts';
import { EXIT } from '../errors.ts';
import { runHook, type ServerInfo } from '../hooks.ts';
import { sendToWorker } from '../ipc.ts';
import type { Logger } from '../log/logger.ts';
import { Aggregate } from '../metrics/aggregate.ts';
import { collectWorkerMetrics, type WorkerMetrics } from '../metrics/collect.ts';
import type { Status } from '../metrics/status.ts';
import { Backoff } from './backoff.ts';
import { Canary } from './canary.ts';
import { type Clock, monotonic } from './clock.ts';
import { Dispatcher } from './dispatch.ts';
import { giveFile, type Identity } from './identity.ts';
import type { Listener } from './listeners.ts';
import type { SystemdNotify } from './notify.ts';
import type { PidFile } from './pidfile.ts';
import { reexec } from './reexec.ts';
import { type Decision, NOTHING, Regulator } from './regulator.ts';
import { Rollout } from './rollout.ts';
import { type Action, trapSignals } from './signals.ts';
import { bootMessage, spawnWorker } from './spawn.ts';
import { buildStatus } from './status.ts';
import { abortBlocked, watch } from './watchdog.ts';
import { WorkerHandle } from './worker-handle.ts';

/** Quick stop: how long workers get before SIGKILL. */
const QUICK_STOP_MS = 2000;
/** This many workers failing before ready, in a row, at start means the app cannot boot. */
const MAX_BOOT_FAILURES = 3;
/** How often systemd's STATUS= line is refreshed while serving. */
const STATUS_EVERY_MS = 10_000;

/** What a HUP produces: the re-read config and the worker count it gives. */
export type Reloader = () => Promise<{
  resolved: Resolved;
  count: number;
  adaptive?: { readonly min: number; readonly max: number } | null;
}>;

export interface MasterOptions {
  readonly resolved: Resolved;
  readonly listeners: readonly Listener[];
  readonly count: number;
  readonly log: Logger;
  readonly pidFile: PidFile;
  readonly reload: Reloader;
  /** -w adaptive: the range the worker count is regulated within. */
  readonly adaptive?: { readonly min: number; readonly max: number } | null;
  /** --user/--group: workers are forked as this user, and log files are given to it. */
  readonly identity?: Identity | null;
  /** NOTIFY_SOCKET was set: tell systemd about readiness, reloads and stopping. */
  readonly notify?: SystemdNotify | null;
  /** Handle the process's signals (TERM, HUP, …); false when embedded by serve(). */
  readonly signals?: boolean;
  /** Every worker is ready for the first time (serve() resolves then). */
  readonly onReady?: () => void;
  /** Monotonic milliseconds (tests move their own). */
  readonly clock?: Clock;
  /** Starts a worker process (tests hand out fake ones). */
  readonly spawn?: typeof spawnWorker;
}

/** A reload's canary under watch, and what a rollback restores. */
interface CanaryRun {
  readonly canary: Canary;
  readonly previous: Resolved;
  /** The worker count the reload asks for, applied once the canary passes. */
  readonly count: number;
}

type Stopping = null | 'delay' | 'graceful' | 'quick';

export class Master {
  #r: Resolved;
  readonly #o: MasterOptions;
  readonly #log: Logger;
  readonly #workers = new Set<WorkerHandle>();
  readonly #actions: Action[] = [];
  readonly #dispatch: Dispatcher;
  #target: number;
  #nextId = 1;
  #stopping: Stopping = null;
  #exitCode: number = EXIT.OK;
  #announcedReady = false;
  #bootFailures = 0;
  readonly #backoff = new Backoff();
  readonly #clock: Clock;
  #canary: CanaryRun | null = null;
  readonly #aggregate = new Aggregate();
  /** The advisor's last decision: its finding, and its text for /status. */
  #advisor: Decision = NOTHING;
  #regulator: Regulator;
  #lastSample = 0;
  readonly #rollout = new Rollout();
  #wake: NodeJS.Immediate | null = null;
  /** #dispatchable()'s answer, refilled on each call. */
  readonly #dispatchList: WorkerHandle[] = [];
  /**
   * A HUP systemd was told about (RELOADING=1) and must hear the end of (READY=1): the config
   * is being re-read ('resolving'), then the roll runs ('rolling').
   */
  #notifyRollEnd: null | 'resolving' | 'rolling' = null;
  #lastStatus = { at: 0, requests: 0 };
  #done: ((code: number) => void) | null = null;
  /** Why the server stopped on its own (a boot failure), for serve()'s rejection. */
  #failure: string | null = null;

  constructor(o: MasterOptions) {
    this.#o = o;
    this.#r = o.resolved;
    this.#target = o.count;
    this.#log = o.log;
    this.#clock = o.clock ?? monotonic;
    this.#regulator = new Regulator(o.adaptive ?? null);
    this.#dispatch = new Dispatcher(
      () => this.#dispatchable(),
      () => (this.#r.config.workerClass === 'sync' ? 1 : this.#r.config.workerConnections),
      {
        shared: () => this.#r.config.dispatch === 'shared',
        // A sync worker's cap (one connection) is all the steering it needs.
        steering: () =>
          this.#r.config.dispatch === 'shared' && this.#r.config.workerClass !== 'sync',
        queueTimeout: () => this.#r.config.queueTimeout,
        cleartext: () => !this.#r.config.certfile,
        log: (line) => this.#log.warning(line),
      },
    );
  }

  get info(): ServerInfo {
    return { pid: process.pid, workers: this.#target, binds: this.#o.listeners.map((l) => l.url) };
  }

  /** False while starting, during --shutdown-delay and while stopping (for readiness probes). */
  get ready(): boolean {
    return this.#announcedReady && this.#stopping === null && this.#ready().length > 0;
  }

  /** What stopped the server on its own, if something did (the app cannot boot). */
  get failure(): string | null {
    return this.#failure;
  }

  /** Runs until stopped; resolves with the exit code. */
  run(): Promise<number> {
    const untrap =
      this.#o.signals === false
        ? () => {}
        : trapSignals((action, sig) => {
            this.#log.info(`received ${sig}`);
            this.#actions.push(action);
            this.wakeup();
          });
    this.#dispatch.attach(this.#o.listeners);
    const timer = setInterval(() => this.wakeup(), 250);
    this.wakeup();
    return new Promise<number>((done) => {
      this.#done = (code) => {
        clearInterval(timer);
        untrap();
        done(code);
      };
    });
  }

  wakeup(): void {
    this.#wake ??= setImmediate(() => {
      this.#wake = null;
      this.tick();
    });
  }

  tick(): void {
    for (const action of this.#actions.splice(0)) this.#act(action);
    this.#checkTimeouts();
    this.#dispatch.reshare();
    if (this.#stopping === null || this.#stopping === 'delay') {
      this.#judgeCanary();
      this.#regulate();
      this.#rollout.advance(this.#workers, this.#target);
      this.#spawnMissing();
      this.#retireReplaced();
      this.#notifyProgress();
    } else if (this.#workers.size === 0) {
      this.#finish();
    }
  }

  #ready(): WorkerHandle[] {
    return [...this.#workers].filter((w) => w.state === 'ready');
  }

  /**
   * Who may get new connections: not a worker at its memory limit, even when no other is ready
   * (its connections wait in the master for the replacement), so the limit holds.
   */
  #dispatchable(): readonly WorkerHandle[] {
    // Asked for every handed-off connection: one array, refilled.
    const out = this.#dispatchList;
    out.length = 0;
    for (const w of this.#workers) if (w.state === 'ready' && w.reason !== 'memory') out.push(w);
    return out;
  }

  #active(): WorkerHandle[] {
    return [...this.#workers].filter((w) => w.active);
  }

  /** How long a draining worker may take: --graceful-timeout, in ms. */
  #graceMs(): number {
    return this.#r.config.gracefulTimeout * 1000;
  }

  #act(action: Action): void {
    const grace = this.#graceMs();
    switch (action) {
      case 'stop':
        this.#stop(this.#r.config.shutdownDelay > 0 ? 'delay' : 'graceful');
        break;
      case 'quick-stop':
        this.#stop('quick');
        break;
      case 'more':
        this.#setTarget(this.#target + 1);
        break;
      case 'fewer':
        if (this.#target <= 1) {
          this.#log.info('workers: already at 1, not going lower');
          break;
        }
        this.scaleTo(this.#target - 1);
        break;
      case 'reload':
        if (this.#stopping) break;
        if (this.#target === 0) this.#log.info('reload: bringing workers back after WINCH');
        this.#o.notify?.reloading(`reloading: ${this.#target} worker(s) to roll`);
        this.#notifyRollEnd = 'resolving';
        void this.#reload();
        break;
      case 'reopen-logs':
        this.#log.reopen();
        this.#giveLogFiles();
        for (const w of this.#workers) sendToWorker(w.child, { t: 'reopen-logs' });
        this.#log.info('log files reopened');
        break;
      case 'reexec': {
        void runHook(this.#r.hooks, 'preExec', this.#log, this.info).then(() => {
          this.#o.pidFile.moveAside();
          const pid = reexec(this.#o.listeners);
          this.#log.info(
            `USR2: started a new master (pid ${pid}) on the same sockets; send TERM (or WINCH, then TERM) to this one (pid ${process.pid}) once it is ready`,
          );
        });
        break;
      }
      case 'stop-workers':
        if (process.stderr.isTTY) {
          this.#log.info('ignoring WINCH: it is a window resize on an interactive terminal');
          break;
        }
        this.#log.info(
          'WINCH: stopping all workers gracefully; the master stays (HUP brings them back)',
        );
        this.#rollout.cancel();
        this.#canary = null;
        this.#setTarget(0);
        for (const w of this.#workers) w.drain(grace);
        break;
    }
  }

  /** Set the number of workers; extra workers drain, newest first. */
  scaleTo(n: number): void {
    const extra = this.#active().length - n;
    this.#setTarget(n);
    const grace = this.#graceMs();
    for (const w of this.#active().slice(n).slice(-Math.max(0, extra))) {
      w.drain(grace);
    }
  }

  /** For the control socket and the --reload watcher: the same actions signals trigger. */
  request(action: Action): void {
    this.#actions.push(action);
    this.wakeup();
  }

  status(): Status {
    return buildStatus([...this.#workers], this.#aggregate, {
      ready: this.ready,
      stopping: this.#stopping !== null,
      workerClass: this.#r.config.workerClass,
      target: this.#target,
      binds: this.#o.listeners.map((l) => l.url),
      waiting: this.#dispatch.waiting,
      shed: this.#dispatch.shed,
      advice: this.#advisor.advice,
    });
  }

  #setTarget(n: number): void {
    const old = this.#target;
    if (n === old) return;
    this.#target = n;
    this.#log.info(`workers: ${old} → ${n}`);
    void runHook(this.#r.hooks, 'nworkersChanged', this.#log, this.info, n, old);
  }

  /** Once a second: the advisor's finding, and in adaptive mode a step up or down. */
  #regulate(): void {
    const now = this.#clock();
    if (now - this.#lastSample < 1000 || !this.#announcedReady || this.#rollout.pending) return;
    if (this.#canary) return;
    this.#lastSample = now;
    this.#dispatch.lookAtKernelQueue();
    const ready = this.#ready();
    const elu = ready.reduce((a, w) => a + w.stats.elu, 0) / Math.max(1, ready.length);
    const d = this.#regulator.sample(
      { elu, waiting: this.#dispatch.waiting, workers: this.#target },
      now,
    );
    // One line when a finding starts and one when it ends: its figures change every second
    // (the live text is in /status).
    if (d.finding !== this.#advisor.finding) {
      if (d.advice) this.#log.warning(`advisor: ${d.advice}`);
      else if (this.#advisor.finding) this.#log.info('advisor: provisioning looks right again');
    }
    this.#advisor = d;
    if (d.scale) {
      this.#log.info(`adaptive: ${this.#target} → ${d.scale.to} worker(s): ${d.scale.why}`);
      this.scaleTo(d.scale.to);
    }
  }

  /** HUP: re-read the config, then roll every worker, a batch at a time, new ones first. */
  async #reload(): Promise<void> {
    let next: Awaited<ReturnType<Reloader>>;
    try {
      next = await this.#o.reload();
    } catch (err) {
      this.#log.error(`reload failed, nothing changed: ${(err as Error).message}`);
      this.#notifyRollEnd &&= 'rolling'; // READY=1 again: the old workers still serve.
      this.wakeup();
      return;
    }
    const old = this.#r.config;
    for (const key of [
      'bind',
      'dispatch',
      'backlog',
      'reusePort',
      'umask',
      'user',
      'group',
    ] as const) {
      if (JSON.stringify(old[key]) !== JSON.stringify(next.resolved.config[key])) {
        this.#log.warning(`reload: ${key} changed; it takes effect on restart or USR2, not HUP`);
      }
    }
    const previous = this.#r;
    this.#r = next.resolved;
    this.#regulator = new Regulator(next.adaptive ?? null);
    await runHook(this.#r.hooks, 'onReload', this.#log, this.info);
    this.#notifyRollEnd &&= 'rolling';
    // A HUP during a canary window replaces that canary.
    if (this.#canary) this.#canary.canary.worker.drain(this.#graceMs());
    this.#canary = null;
    const seconds = this.#r.config.reloadCanary;
    if (seconds > 0 && this.#active().length > 0 && !this.#stopping) {
      const w = this.#spawn(seconds * 1000);
      this.#canary = { canary: new Canary(w, seconds * 1000), previous, count: next.count };
      this.#log.info(
        `reload: canary ${w.name} serves beside the ${this.#active().length - 1} running worker(s) for ${seconds} s before the roll`,
      );
    } else {
      this.#roll(this.#active(), next.count);
    }
    this.wakeup();
  }

  #roll(workers: WorkerHandle[], count: number): void {
    this.#rollout.start(workers);
    this.#log.info(
      `reload: rolling ${this.#rollout.pending} worker(s), ${Rollout.batch(count)} at a time`,
    );
    this.#setTarget(count);
  }

  /** --reload-canary: the roll goes on once the canary has served its window well. */
  #judgeCanary(): void {
    const run = this.#canary;
    if (!run) return;
    const w = run.canary.worker;
    const old = this.#active().filter((o) => o !== w);
    const verdict = run.canary.check(old, this.#clock());
    if (verdict.go === 'wait') return;
    this.#canary = null;
    if (verdict.go === 'rollback') {
      this.#rollBack(run, verdict.evidence);
      return;
    }
    this.#log.info(`reload: ${verdict.summary}: rolling the rest`);
    this.#roll(old, run.count);
  }

  /** The canary failed: it stops, the old workers and the old settings stay. */
  #rollBack(run: CanaryRun, evidence: string): void {
    this.#canary = null;
    this.#r = run.previous;
    this.#aggregate.count('rollback');
    const w = run.canary.worker;
    if (w.state === 'booting' || w.state === 'ready') w.drain(this.#graceMs());
    this.#log.error(
      `reload rolled back: ${evidence}; ${w.name} stops and the ${this.#active().length} running worker(s) keep serving`,
    );
    this.wakeup();
  }

  #stop(mode: Exclude<Stopping, null>): void {
    const order: Stopping[] = [null, 'delay', 'graceful', 'quick'];
    if (order.indexOf(mode) <= order.indexOf(this.#stopping)) return;
    if (this.#stopping === null) this.#o.notify?.stopping(`stopping (${mode})`);
    this.#stopping = mode;
    this.#rollout.cancel();
    this.#canary = null;
    if (mode === 'delay') {
      const delay = this.#r.config.shutdownDelay;
      this.#log.info(`shutdown delay: not ready, still serving for ${delay} s before draining`);
      setTimeout(() => {
        this.#stop('graceful');
        this.wakeup();
      }, delay * 1000).unref();
      return;
    }
    for (const l of this.#o.listeners) if (l.server) l.server.close();
    const dropped = this.#dispatch.dropPending();
    if (dropped) this.#log.warning(`closed ${dropped} connection(s) that no worker had taken yet`);
    if (mode === 'graceful') {
      const grace = this.#r.config.gracefulTimeout;
      this.#log.info(
        `graceful stop: ${this.#workers.size} worker(s) finishing in-flight requests (up to ${grace} s)`,
      );
      for (const w of this.#workers) w.drain(grace * 1000);
    } else {
      this.#log.info('quick stop');
      for (const w of this.#workers) w.quit(QUICK_STOP_MS);
    }
  }

  #checkTimeouts(): void {
    watch(this.#workers, this.#r.config, this.#log, (w) => {
      void runHook(this.#r.hooks, 'workerAbort', this.#log, this.info, { pid: w.pid, id: w.id });
      void abortBlocked(w, this.#log).then(() => this.wakeup());
    });
  }

  #spawnMissing(): void {
    const active = this.#active().length;
    if (active >= this.#target || this.#backoff.waiting(this.#clock())) return;
    for (let i = active; i < this.#target; i++) this.#spawn();
  }

  /** A retiring worker drains once a ready, non-retiring worker can take its place. */
  #retireReplaced(): void {
    const grace = this.#graceMs();
    const retiring = [...this.#workers].filter((w) => w.retiring && w.state === 'ready');
    if (!retiring.length) return;
    const readyNew = this.#ready().length - retiring.length;
    const surplus = readyNew + retiring.length - this.#target;
    for (const w of retiring.slice(0, Math.max(0, surplus))) w.drain(grace);
  }

  /** A retiring or draining worker's slot is free: its replacement takes it. */
  #freeSlot(): number {
    const taken = new Set(this.#active().map((w) => w.slot));
    let slot = 1;
    while (taken.has(slot)) slot++;
    return slot;
  }

  /** Every live worker's metrics, asked for now (a /metrics scrape). */
  workerMetrics(): Promise<WorkerMetrics[]> {
    return collectWorkerMetrics(
      [...this.#workers].filter((w) => w.state === 'ready' || w.state === 'draining'),
    );
  }

  /** Start a worker; `canaryMs`: it is a reload's canary, judged that long once ready. */
  #spawn(canaryMs = 0): WorkerHandle {
    const c = this.#r.config;
    const id = this.#nextId++;
    void runHook(this.#r.hooks, 'preFork', this.#log, this.info, { pid: 0, id });
    const child = (this.#o.spawn ?? spawnWorker)(c, this.#o.listeners, this.#o.identity ?? null);
    const jitter = Math.random() * c.maxWorkerLifetimeJitter;
    const w = new WorkerHandle(id, child, this.#freeSlot(), this.#clock, {
      lifetimeMs: c.maxWorkerLifetime > 0 ? (c.maxWorkerLifetime + jitter) * 1000 : 0,
      maxLagMs: c.maxEventLoopDelay,
    });
    this.#workers.add(w);
    this.#log.info(`booting ${w.name}`);
    sendToWorker(child, { ...bootMessage(id, this.#r, this.#o.listeners), canaryMs });
    w.follow({
      ready: (bootMs) => {
        this.#bootFailures = 0;
        this.#log.info(`${w.name} ready in ${Math.round(w.age)} ms (app loaded in ${bootMs} ms)`);
        this.#dispatch.flush();
        this.#maybeAnnounceReady();
        this.wakeup();
      },
      closed: () => this.#dispatch.flush(),
      // A canary is judged on each of its heartbeats.
      beat: () => {
        if (this.#canary?.canary.worker === w) this.wakeup();
      },
      retire: () => this.wakeup(),
      leaving: (why) => {
        if (w.state !== 'ready') return;
        this.#log.info(`${w.name}: ${why}: draining it; a replacement starts`);
        w.retire('app-closed');
        w.drain(this.#graceMs());
        this.wakeup();
      },
      exit: (code, signal) => this.#onExit(w, code, signal),
      error: (err) => this.#log.debug(`${w.name}: ${err.message}`),
    });
    return w;
  }

  #maybeAnnounceReady(): void {
    if (this.#announcedReady || this.#ready().length < this.#target) return;
    this.#announcedReady = true;
    this.#log.info(`ready: ${this.#target} worker(s) serving`);
    this.#o.notify?.ready(`${this.#target} worker(s) serving`);
    void runHook(this.#r.hooks, 'whenReady', this.#log, this.info);
    this.#o.onReady?.();
  }

  /**
   * systemd: READY=1 once a HUP roll is over (every worker ready and none left to replace),
   * and a fresh STATUS= line every STATUS_EVERY_MS while serving.
   */
  #notifyProgress(): void {
    const notify = this.#o.notify;
    if (!notify || !this.#announcedReady) return;
    const ready = this.#ready();
    const settled =
      !this.#rollout.pending &&
      ready.length >= this.#target &&
      !this.#canary &&
      [...this.#workers].every((w) => w.state !== 'booting' && !w.retiring);
    if (this.#notifyRollEnd === 'rolling' && settled) {
      this.#notifyRollEnd = null;
      notify.ready(`reloaded: ${ready.length} worker(s) serving`);
      return;
    }
    const now = this.#clock();
    if (now - this.#lastStatus.at < STATUS_EVERY_MS || this.#notifyRollEnd) return;
    const requests = this.status().totals.requests;
    const rate = this.#lastStatus.at
      ? Math.round(((requests - this.#lastStatus.requests) * 1000) / (now - this.#lastStatus.at))
      : 0;
    this.#lastStatus = { at: now, requests };
    notify.status(`${ready.length} worker(s), ${rate} req/s`);
  }

  /** After rotation the master recreated the error log; workers (another user) reopen it. */
  #giveLogFiles(): void {
    const id = this.#o.identity;
    if (!id) return;
    try {
      giveFile(this.#r.config.errorLogfile, id);
      giveFile(this.#r.config.accessLogfile, id);
    } catch (err) {
      this.#log.error(`cannot give the log files to ${id.label}: ${(err as Error).message}`);
    }
  }

  #onExit(w: WorkerHandle, code: number | null, signal: NodeJS.Signals | null): void {
    const was = w.exited();
    this.#workers.delete(w);
    this.#dispatch.flush();
    const crashed = !this.#stopping && was !== 'draining' && !w.timedOut;
    this.#aggregate.retire(w.stats, crashed && was !== 'booting' ? 'crash' : w.reason);
    void runHook(this.#r.hooks, 'childExit', this.#log, this.info, {
      pid: w.pid,
      id: w.id,
      code,
      signal,
    });
    const how = signal ? `signal ${signal}` : `code ${code}`;
    if (this.#canary?.canary.worker === w) {
      this.#log.error(`${w.name} exited (${how})`);
      const why = was === 'booting' ? 'failed to boot' : `exited (${how})`;
      this.#rollBack(
        this.#canary,
        `the canary ${w.name} ${why} ${w.bootFailure?.message ?? ''}`.trim(),
      );
      if (was !== 'booting') this.#noteCrash();
      return;
    }
    if (this.#stopping === 'graceful' || this.#stopping === 'quick' || was === 'draining') {
      this.#log.info(`${w.name} exited (${how})`);
    } else if (w.timedOut) {
      this.#noteCrash();
      this.#log.info(`${w.name} exited (${how}) after its WORKER TIMEOUT`);
    } else if (was === 'booting') {
      this.#bootFailed(w, how);
    } else {
      this.#noteCrash();
      this.#log.error(`${w.name} exited unexpectedly (${how}); starting a replacement`);
    }
    this.wakeup();
  }

  /**
   * At start, a worker that cannot load the app stops the server (every worker would fail
   * alike). Once serving, it fails closed: the old workers keep serving, the error is logged.
   */
  #bootFailed(w: WorkerHandle, how: string): void {
    const why =
      w.bootFailure?.message ??
      (w.bootTimedOut
        ? `${w.name} was not ready within --boot-timeout ${this.#r.config.bootTimeout} s${w.waitingFor ? `: ${w.waitingFor}` : ''}`
        : `${w.name} died while booting (${how})`);
    if (!this.#announcedReady) {
      if (w.bootFailure) {
        this.#log.error(why);
        this.#failure = why;
        this.#fatal(w.bootFailure.code);
      } else if (++this.#bootFailures >= MAX_BOOT_FAILURES) {
        this.#failure = `${why}; ${MAX_BOOT_FAILURES} workers in a row died while booting: stopping`;
        this.#log.error(this.#failure);
        this.#fatal(EXIT.WORKER_BOOT);
      } else {
        this.#log.error(why);
      }
      return;
    }
    this.#log.error(`a new worker failed to boot; the running workers keep serving: ${why}`);
    this.#rollout.cancel();
    for (const old of this.#workers) if (old.retiring && old.state === 'ready') old.keep();
    this.#noteCrash();
  }

  #noteCrash(): void {
    const delay = this.#backoff.fail(this.#clock());
    if (delay) {
      this.#log.warning(
        `${this.#backoff.recent} worker failures in the last minute: next start in ${delay} ms`,
      );
    }
  }

  #fatal(code: number): void {
    if (this.#exitCode === EXIT.OK) this.#exitCode = code;
    this.#stop('quick');
  }

  #finish(): void {
    const done = this.#done;
    if (!done) return;
    this.#done = null;
    for (const l of this.#o.listeners) l.close();
    void runHook(this.#r.hooks, 'onExit', this.#log, this.info).then(() => done(this.#exitCode));
  }
}
