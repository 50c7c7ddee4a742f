/**
 * Closing the app when its worker drains, after the last request: Fastify's `close()` (its
 * `onClose` hooks run), or what a factory handed back — `Symbol.asyncDispose` or `close()` —
 * so database pools and other clients are closed instead of cut.
 */
import type { Logger } from '../log/logger.ts';

/** Closes the app; resolves when it has. */
export type AppCloser = () => Promise<void>;

type Obj = Record<string | symbol, unknown>;

function callClose(target: Obj, close: (...args: unknown[]) => unknown): Promise<void> {
  // close(callback) (Node's style, Fastify's too) or close() returning a promise.
  if (close.length >= 1) {
    return new Promise((done, fail) => {
      const r = close.call(target, (err?: unknown) => (err ? fail(err) : done()));
      if (r && typeof (r as Promise<unknown>).then === 'function') {
        (r as Promise<unknown>).then(() => done(), fail);
      }
    });
  }
  return Promise.resolve(close.call(target)).then(() => undefined);
}

/**
 * What closes `value`: a Fastify instance always; any other object when it was built by a
 * factory or exported as an object (`{ fetch, close }`). A function export (Express, a
 * listener) has nothing to close. `Symbol.asyncDispose` wins over `close()`.
 */
export function closerOf(
  value: unknown,
  { fastify = false, factory = false } = {},
): AppCloser | null {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return null;
  if (!fastify && !factory && typeof value !== 'object') return null;
  const v = value as Obj;
  const dispose = v[Symbol.asyncDispose];
  const close = v.close;
  const run =
    typeof dispose === 'function'
      ? () => Promise.resolve(dispose.call(v)).then(() => undefined)
      : typeof close === 'function'
        ? () => callClose(v, close as () => unknown)
        : null;
  if (!run) return null;
  // Once: a worker told to drain twice (TERM, then the master's message) closes the app once.
  let closing: Promise<void> | null = null;
  return () => (closing ??= run());
}

/**
 * Close the app within `ms` (what is left of --graceful-timeout); a close that throws or
 * takes longer is logged, and the worker exits anyway.
 */
export async function closeApp(closer: AppCloser | null, ms: number, log: Logger): Promise<void> {
  if (!closer) return;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((done) => {
    timer = setTimeout(() => done('late'), Math.max(0, ms));
  });
  try {
    const how = await Promise.race([closer().then(() => 'closed' as const), late]);
    if (how === 'late') {
      log.warning(
        `the app did not finish closing within the graceful timeout (${Math.round(ms)} ms left)`,
      );
    } else {
      log.debug('app closed');
    }
  } catch (err) {
    log.error(`closing the app failed: ${(err as Error)?.stack ?? err}`);
  } finally {
    clearTimeout(timer);
  }
}
