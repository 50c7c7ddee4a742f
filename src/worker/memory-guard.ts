/**
 * --max-worker-memory, checked by the worker itself as it serves: a heartbeat every 500 ms is
 * too late for a leak of a megabyte a request at full speed (workers peaked at 1.3–1.5× the
 * limit). Reading RSS costs a few microseconds, so it is read every EVERY requests, and on
 * every request once it is within NEAR of the limit.
 */
const EVERY = 16;
const NEAR = 0.9;

/** Returns a check to run after each request: the RSS once it reached `limit`, else null. */
export function memoryGuard(limit: number, rss = () => process.memoryUsage.rss()) {
  let near = false;
  return (requests: number): number | null => {
    if (!near && requests % EVERY !== 0) return null;
    const bytes = rss();
    near = bytes >= limit * NEAR;
    return bytes >= limit ? bytes : null;
  };
}

const mib = (n: number) => `${Math.round(n / 2 ** 20)} MiB`;

/** `uses 270 MiB (max-worker-memory 256 MiB)`: a worker over its limit, as the logs say it. */
export function overMemoryNote(rss: number, limit: number): string {
  return `uses ${mib(rss)} (max-worker-memory ${mib(limit)})`;
}
