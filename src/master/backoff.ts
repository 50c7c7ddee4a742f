/** Crash-loop guard: respawn at once, but back off exponentially when failures come fast. */
const WINDOW_MS = 60_000;
const FREE_FAILURES = 3;
const MAX_DELAY_MS = 30_000;

export class Backoff {
  #failures: number[] = [];
  #until = 0;

  /** Record a failure; returns the delay imposed (0 while failures are rare). */
  fail(now = performance.now()): number {
    this.#failures = this.#failures.filter((t) => now - t < WINDOW_MS);
    this.#failures.push(now);
    const n = this.#failures.length;
    if (n <= FREE_FAILURES) return 0;
    const delay = Math.min(MAX_DELAY_MS, 250 * 2 ** (n - FREE_FAILURES));
    this.#until = now + delay;
    return delay;
  }

  get recent(): number {
    return this.#failures.length;
  }

  waiting(now = performance.now()): boolean {
    return now < this.#until;
  }
}
