/**
 * The arbiter. Events (signals, worker messages, exits) only record facts and call wakeup();
 * one tick() then does, in order: actions → timeouts → spawn → retire → finish.
 */
import type { Resolved } from '../config/resolve.ts';
import { EXIT } from '../errors.ts';
import { runHook, type ServerInfo } from '../hooks.ts';
import { onWorkerMessage, sendToWorker } from '../ipc.ts';
import type { Logger } from '../log/logger.ts';
import { Dispatcher } from './dispatch.ts';
import type { Listener } from './listeners.ts';
import { type Action, trapSignals } from './signals.ts';
import { listenPlans, spawnWorker } from './spawn.ts';
import { WorkerHandle } from './worker-handle.ts';

/** After a timeout SIGABRT, how long before SIGKILL. */
const ABORT_GRACE_MS = 1000;
/** Quick stop: how long workers get before SIGKILL. */
const QUICK_STOP_MS = 2000;
/** This many workers failing before ready, in a row, means the app cannot boot: stop. */
const MAX_BOOT_FAILURES = 3;

export class Master {
  readonly #r: Resolved;
  readonly #log: Logger;
  readonly #listeners: readonly Listener[];
  readonly #workers = new Set<WorkerHandle>();
  readonly #actions: Action[] = [];
  readonly #dispatch: Dispatcher;
  #target: number;
  #nextId = 1;
  #stopping: 'graceful' | 'quick' | null = null;
  #exitCode: number = EXIT.OK;
  #announcedReady = false;
  #bootFailures = 0;
  #crashes: number[] = [];
  #respawnAt = 0;
  #wake: NodeJS.Immediate | null = null;
  #done: ((code: number) => void) | null = null;

  constructor(resolved: Resolved, listeners: readonly Listener[], count: number, log: Logger) {
    this.#r = resolved;
    this.#listeners = listeners;
    this.#target = count;
    this.#log = log;
    this.#dispatch = new Dispatcher(() => this.#ready());
  }

  get info(): ServerInfo {
    return { pid: process.pid, workers: this.#target, binds: this.#listeners.map((l) => l.url) };
  }

  /** Runs until stopped; resolves with the exit code. */
  run(): Promise<number> {
    const untrap = trapSignals((action, sig) => {
      this.#log.info(`received ${sig}`);
      this.#actions.push(action);
      this.wakeup();
    });
    this.#dispatch.attach(this.#listeners);
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
    if (!this.#stopping) {
      this.#spawnMissing();
      this.#retireReplaced();
    } else if (this.#workers.size === 0) {
      this.#finish();
    }
  }

  #ready(): WorkerHandle[] {
    return [...this.#workers].filter((w) => w.state === 'ready');
  }

  #act(action: Action): void {
    const c = this.#r.config;
    switch (action) {
      case 'stop':
        this.#stop('graceful');
        break;
      case 'quick-stop':
        this.#stop('quick');
        break;
      case 'more':
        this.#target++;
        this.#log.info(`workers: ${this.#target - 1} → ${this.#target}`);
        break;
      case 'fewer': {
        if (this.#target <= 1) {
          this.#log.info('workers: already at 1, not going lower');
          break;
        }
        this.#target--;
        this.#log.info(`workers: ${this.#target + 1} → ${this.#target}`);
        const newest = [...this.#workers].filter((w) => w.active).at(-1);
        newest?.drain(c.gracefulTimeout * 1000);
        break;
      }
      case 'reload':
        this.#log.info(
          'reloading: starting new workers; old ones drain once each new one is ready',
        );
        for (const w of this.#workers) if (w.active) w.retiring = true;
        break;
    }
  }

  #stop(mode: 'graceful' | 'quick'): void {
    if (this.#stopping === 'quick' || this.#stopping === mode) return;
    this.#stopping = mode;
    for (const l of this.#listeners) if (l.server) l.server.close();
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
      for (const w of this.#workers) {
        w.signal('SIGQUIT');
        w.killAt = Math.min(w.killAt ?? Number.POSITIVE_INFINITY, Date.now() + QUICK_STOP_MS);
      }
    }
  }

  #checkTimeouts(): void {
    const now = Date.now();
    const timeoutMs = this.#r.config.timeout * 1000;
    for (const w of this.#workers) {
      if (w.killAt !== null && now >= w.killAt) {
        if (w.state === 'draining') {
          this.#log.warning(
            `${w.name} still had ${w.stats.inFlight} request(s) in flight at the graceful timeout: killed`,
          );
        }
        w.signal('SIGKILL');
        w.killAt = Number.POSITIVE_INFINITY;
      } else if (timeoutMs > 0 && w.killAt === null && now - w.lastBeat > timeoutMs) {
        const silent = ((now - w.lastBeat) / 1000).toFixed(1);
        this.#log.critical(
          `WORKER TIMEOUT: ${w.name} sent no heartbeat for ${silent} s — its event loop was blocked (${w.stats.inFlight} request(s) in flight); aborting it and starting a replacement`,
        );
        w.signal('SIGABRT');
        w.killAt = now + ABORT_GRACE_MS;
        w.retiring = true;
      }
    }
  }

  #spawnMissing(): void {
    const active = [...this.#workers].filter((w) => w.active).length;
    if (active >= this.#target || Date.now() < this.#respawnAt) return;
    for (let i = active; i < this.#target; i++) this.#spawn();
  }

  /** A retiring worker drains once a ready, non-retiring worker can take its place. */
  #retireReplaced(): void {
    const grace = this.#r.config.gracefulTimeout * 1000;
    const retiring = [...this.#workers].filter(
      (w) => w.retiring && w.state !== 'draining' && w.state !== 'exited',
    );
    if (!retiring.length) return;
    const readyNew = [...this.#workers].filter((w) => w.state === 'ready' && !w.retiring).length;
    const surplus = readyNew + retiring.length - this.#target;
    for (const w of retiring.slice(0, Math.max(0, surplus))) w.drain(grace);
  }

  #spawn(): void {
    const c = this.#r.config;
    const child = spawnWorker(c, this.#listeners);
    const w = new WorkerHandle(this.#nextId++, child);
    this.#workers.add(w);
    this.#log.info(`booting ${w.name}`);
    const jitter = c.maxRequestsJitter ? Math.floor(Math.random() * (c.maxRequestsJitter + 1)) : 0;
    sendToWorker(child, {
      t: 'boot',
      id: w.id,
      config: c,
      configFile: this.#r.file,
      listen: listenPlans(c, this.#listeners),
      maxRequests: c.maxRequests ? c.maxRequests + jitter : 0,
    });
    onWorkerMessage(child, {
      ready: (m) => {
        w.state = w.state === 'booting' ? 'ready' : w.state;
        w.lastBeat = Date.now();
        this.#bootFailures = 0;
        this.#log.info(`${w.name} ready in ${m.bootMs} ms`);
        this.#dispatch.flush();
        this.#maybeAnnounceReady();
        this.wakeup();
      },
      beat: (m) => {
        w.lastBeat = Date.now();
        w.stats = { requests: m.requests, inFlight: m.inFlight, rssBytes: m.rssBytes };
      },
      closed: (m) => {
        w.conns = Math.max(0, w.conns - m.n);
      },
      retire: () => {
        w.retiring = true;
        this.wakeup();
      },
      'boot-failed': (m) => {
        w.bootFailure = { message: m.message, code: m.code };
      },
    });
    // An IPC send to a worker that just died reports here; its exit is handled below.
    child.on('error', (err) => this.#log.debug(`${w.name}: ${err.message}`));
    child.on('exit', (code, signal) => this.#onExit(w, code, signal));
  }

  #maybeAnnounceReady(): void {
    if (this.#announcedReady || this.#ready().length < this.#target) return;
    this.#announcedReady = true;
    this.#log.info(`ready: ${this.#target} worker(s) serving`);
    void runHook(this.#r.hooks, 'whenReady', this.#log, this.info);
  }

  #onExit(w: WorkerHandle, code: number | null, signal: NodeJS.Signals | null): void {
    const was = w.state;
    w.state = 'exited';
    this.#workers.delete(w);
    void runHook(this.#r.hooks, 'childExit', this.#log, this.info, {
      pid: w.pid,
      id: w.id,
      code,
      signal,
    });
    const how = signal ? `signal ${signal}` : `code ${code}`;
    if (w.bootFailure) {
      // The app itself cannot load (or a worker cannot listen): every worker would fail alike.
      this.#log.error(w.bootFailure.message);
      this.#fatal(w.bootFailure.code);
    } else if (this.#stopping || was === 'draining') {
      this.#log.info(`${w.name} exited (${how})`);
    } else if (was === 'booting') {
      this.#bootFailures++;
      this.#log.error(`${w.name} died while booting (${how})`);
      if (this.#bootFailures >= MAX_BOOT_FAILURES) {
        this.#log.error(
          `corral: ${MAX_BOOT_FAILURES} workers in a row died while booting; stopping`,
        );
        this.#fatal(EXIT.WORKER_BOOT);
      }
    } else {
      this.#noteCrash();
      this.#log.error(`${w.name} exited unexpectedly (${how}); starting a replacement`);
    }
    this.wakeup();
  }

  /** Crash-loop guard: respawn at once, but back off when crashes come fast. */
  #noteCrash(): void {
    const now = Date.now();
    this.#crashes = this.#crashes.filter((t) => now - t < 60_000);
    this.#crashes.push(now);
    const n = this.#crashes.length;
    if (n > 3) {
      const delay = Math.min(30_000, 250 * 2 ** (n - 3));
      this.#respawnAt = now + delay;
      this.#log.warning(`${n} worker crashes in the last minute: next start in ${delay} ms`);
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
    for (const l of this.#listeners) l.close();
    void runHook(this.#r.hooks, 'onExit', this.#log, this.info).then(() => done(this.#exitCode));
  }
}
