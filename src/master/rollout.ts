/**
 * A rolling reload: old workers are replaced a batch at a time (⌈N/4⌉), each batch only once
 * the previous one's replacements are ready, so capacity never dips and memory grows by at
 * most a batch.
 */
import type { WorkerHandle } from './worker-handle.ts';

export class Rollout {
  #queue: WorkerHandle[] = [];

  /** Roll these workers (a new HUP replaces a roll still under way). */
  start(workers: readonly WorkerHandle[]): void {
    this.#queue = [...workers];
  }

  cancel(): void {
    this.#queue = [];
  }

  get pending(): number {
    return this.#queue.length;
  }

  static batch(target: number): number {
    return Math.max(1, Math.ceil(target / 4));
  }

  /** Mark the next batch for replacement once nothing from the previous one is in flight. */
  advance(all: Iterable<WorkerHandle>, target: number): void {
    this.#queue = this.#queue.filter((w) => w.active);
    if (!this.#queue.length) return;
    for (const w of all) if (w.state === 'booting' || (w.retiring && w.state === 'ready')) return;
    for (const w of this.#queue.splice(0, Rollout.batch(target))) w.retire('reload');
  }
}
