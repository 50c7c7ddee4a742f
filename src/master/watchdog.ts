/**
 * The master's per-tick look at each worker: kill deadlines (graceful timeout, abort grace),
 * missed heartbeats (--timeout) and memory (--max-worker-memory). It marks and signals
 * workers; replacing them is the master loop's job.
 */
import type { Config } from '../config/settings.ts';
import type { Logger } from '../log/logger.ts';
import type { WorkerHandle } from './worker-handle.ts';

/** After a timeout SIGABRT, how long before SIGKILL. */
const ABORT_GRACE_MS = 1000;

const mib = (n: number) => `${Math.round(n / 2 ** 20)} MiB`;

export function watch(
  workers: Iterable<WorkerHandle>,
  config: Pick<Config, 'timeout' | 'maxWorkerMemory' | 'bootTimeout'>,
  log: Logger,
  onAbort: (w: WorkerHandle) => void,
  now = Date.now(),
): void {
  const { timeout, maxWorkerMemory, bootTimeout } = config;
  for (const w of workers) {
    if (w.killAt !== null && now >= w.killAt) {
      if (w.state === 'draining') {
        log.warning(
          `${w.name} still had ${w.stats.inFlight} request(s) in flight at the graceful timeout: killed`,
        );
      }
      w.signal('SIGKILL');
      w.killAt = Number.POSITIVE_INFINITY;
    } else if (timeout > 0 && w.killAt === null && now - w.lastBeat > timeout * 1000) {
      const silent = ((now - w.lastBeat) / 1000).toFixed(1);
      log.critical(
        `WORKER TIMEOUT: ${w.name} sent no heartbeat for ${silent} s — its event loop was blocked (${w.conns} open connection(s), ${w.stats.inFlight} request(s) in flight at its last heartbeat); aborting it and starting a replacement`,
      );
      onAbort(w);
      w.signal('SIGABRT');
      w.timedOut = true;
      w.killAt = now + ABORT_GRACE_MS;
      w.retire('timeout');
    } else if (
      bootTimeout > 0 &&
      w.state === 'booting' &&
      w.killAt === null &&
      now - w.startedAt > bootTimeout * 1000
    ) {
      // Its heartbeats come (loading is async), but it never got ready.
      w.bootTimedOut = true;
      log.critical(
        `WORKER BOOT TIMEOUT: ${w.name} not ready ${bootTimeout} s after it started (boot-timeout): ${w.waitingFor ?? 'the app is still loading'}; killing it`,
      );
      w.signal('SIGKILL');
      w.killAt = Number.POSITIVE_INFINITY;
    } else if (maxWorkerMemory > 0 && !w.retiring && w.stats.rssBytes > maxWorkerMemory) {
      log.warning(
        `${w.name} uses ${mib(w.stats.rssBytes)} (max-worker-memory ${mib(maxWorkerMemory)}): replacing it`,
      );
      w.retire('memory');
    }
  }
}
