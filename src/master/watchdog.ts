/**
 * The master's per-tick look at each worker: kill deadlines (graceful timeout, abort grace),
 * missed heartbeats (--timeout), boot timeouts, and the reasons a worker is replaced while it
 * serves: memory, lifetime, event-loop delay. It marks and signals workers through their
 * handles; replacing them is the master loop's job.
 */
import type { Config } from '../config/settings.ts';
import type { Logger } from '../log/logger.ts';
import { overMemoryNote } from '../worker/memory-guard.ts';
import { monotonic } from './clock.ts';
import { readStack } from './stack.ts';
import { STALE_MS, type WorkerHandle } from './worker-handle.ts';

/** After a timeout SIGABRT, how long before SIGKILL. */
export const ABORT_GRACE_MS = 1000;
/** How long the master tries to read a blocked worker's stack before it aborts it anyway. */
export const STACK_BUDGET_MS = 1500;

export type Watched = Pick<
  Config,
  | 'timeout'
  | 'maxWorkerMemory'
  | 'bootTimeout'
  | 'maxWorkerLifetime'
  | 'maxEventLoopDelay'
  | 'workerClass'
>;

export function watch(
  workers: Iterable<WorkerHandle>,
  config: Watched,
  log: Logger,
  onTimeout: (w: WorkerHandle) => void,
): void {
  const { timeout, maxWorkerMemory, bootTimeout } = config;
  for (const w of workers) {
    // A sync worker in a long request is busy by design: it gets no new connections anyway.
    if (w.state === 'ready' && config.workerClass !== 'sync') tellStall(w, workers, timeout, log);
    if (w.killDue) {
      if (w.state === 'draining') {
        log.warning(
          `${w.name} still had ${w.stats.inFlight} request(s) in flight at the graceful timeout: killed`,
        );
      }
      w.kill();
    } else if (timeout > 0 && w.killAt === null && w.silentFor > timeout * 1000) {
      onTimeout(w);
    } else if (
      bootTimeout > 0 &&
      w.state === 'booting' &&
      w.killAt === null &&
      w.age > bootTimeout * 1000
    ) {
      // Its heartbeats come (loading is async), but it never got ready.
      log.critical(
        `WORKER BOOT TIMEOUT: ${w.name} not ready ${bootTimeout} s after it started (boot-timeout): ${w.waitingFor ?? 'the app is still loading'}; killing it`,
      );
      w.bootTimeOut();
    } else if (w.state === 'ready' && !w.retiring) {
      if (maxWorkerMemory > 0 && w.stats.rssBytes > maxWorkerMemory) {
        log.warning(`${w.name} ${overMemoryNote(w.stats.rssBytes, maxWorkerMemory)}: replacing it`);
        w.retire('memory');
      } else if (w.expired) {
        log.info(
          `${w.name} served for ${Math.round(w.age / 1000)} s (max-worker-lifetime ${config.maxWorkerLifetime} s): replacing it`,
        );
        w.retire('lifetime');
      } else if (w.sluggish) {
        log.warning(
          `${w.name} event-loop delay ${Math.round(w.stats.lagSeconds * 1000)} ms for several heartbeats in a row (max-event-loop-delay ${config.maxEventLoopDelay} ms): replacing it`,
        );
        w.retire('event-loop-delay');
      }
    }
  }
}

/** A worker that stalls again and again is told about once a minute, with a count. */
const STALL_QUIET_MS = 60_000;
const stalls = new WeakMap<WorkerHandle, { toldAt: number; untold: number; telling: boolean }>();

/**
 * A worker whose heartbeats stop takes no new connections (master/dispatch.ts) long before
 * --timeout replaces it; the log says so when it happens, and when it ends.
 */
function tellStall(
  w: WorkerHandle,
  workers: Iterable<WorkerHandle>,
  timeout: number,
  log: Logger,
): void {
  const change = w.stallChange();
  if (change === null) return;
  const s = stalls.get(w) ?? { toldAt: Number.NEGATIVE_INFINITY, untold: 0, telling: false };
  stalls.set(w, s);
  if (change === 'stalled') {
    const now = monotonic();
    s.telling = now - s.toldAt >= STALL_QUIET_MS;
    if (!s.telling) {
      s.untold++;
      return;
    }
    let others = false;
    for (const o of workers) others ||= o.state === 'ready' && !o.stale();
    const meanwhile = others ? 'new connections go to the other workers' : 'new connections wait';
    const then = timeout > 0 ? `; --timeout replaces it after ${timeout} s of silence` : '';
    const before = s.untold ? ` (${s.untold} more stall(s) since the last one told)` : '';
    log.warning(
      `${w.name} sent no heartbeat for ${STALE_MS / 1000} s: its event loop is blocked, or the process is stopped; ${meanwhile} until it beats again${then}${before}`,
    );
    s.toldAt = now;
    s.untold = 0;
  } else if (s.telling) {
    log.info(`${w.name} beats again, after ${(change / 1000).toFixed(1)} s without a heartbeat`);
  }
}

/**
 * --timeout fired: report it, read the stack the worker is stuck in and report that, then
 * abort the worker (SIGABRT, SIGKILL a second later). Resolves once it is aborted.
 */
export async function abortBlocked(
  w: WorkerHandle,
  log: Logger,
  budgetMs = STACK_BUDGET_MS,
): Promise<void> {
  const silent = (w.silentFor / 1000).toFixed(1);
  w.timeOut(budgetMs + ABORT_GRACE_MS);
  log.critical(
    `WORKER TIMEOUT: ${w.name} sent no heartbeat for ${silent} s — its event loop was blocked (${w.conns} open connection(s), ${w.stats.inFlight} request(s) in flight at its last heartbeat); aborting it and starting a replacement`,
  );
  const frames = await readStack(w.pid, w.inspectPort, budgetMs);
  log.critical(
    frames?.length
      ? `WORKER TIMEOUT: ${w.name} was running:\n${frames.join('\n')}`
      : `WORKER TIMEOUT: ${w.name}: its JavaScript stack could not be read`,
  );
  w.abort(ABORT_GRACE_MS);
}
