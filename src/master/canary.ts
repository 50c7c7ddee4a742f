/**
 * --reload-canary: a reload first starts one new worker beside the old ones, and lets it take
 * its share of traffic for the window. The roll goes on only if the canary stayed up and
 * answered no worse than the old workers; otherwise the reload is rolled back.
 *
 * The rule: the canary is rolled back when it crashes or times out within the window, or when
 * it has answered at least MIN_ERRORS server errors (5xx) and its 5xx share exceeds the old
 * workers' share over the same time by more than MARGIN (0.10 = ten percentage points). It is
 * judged on every heartbeat, so a release that fails everything is stopped at its first
 * heartbeats, not at the end of the window. A canary that got too little traffic to judge
 * (fewer than MIN_REQUESTS answers) is given more time, up to QUIET_WINDOWS windows, and then
 * passes with a note in the log.
 */
import type { WorkerStats } from '../ipc.ts';
import type { WorkerHandle } from './worker-handle.ts';

export const MIN_ERRORS = 5;
export const MARGIN = 0.1;
/**
 * A canary that answered fewer requests than this in its window (keep-alive clients stay on
 * the old workers; a quiet hour) waits for more, up to QUIET_WINDOWS windows.
 */
export const MIN_REQUESTS = 10;
export const QUIET_WINDOWS = 5;

/** Requests and 5xx answers. */
export interface Tally {
  readonly requests: number;
  readonly errors: number;
}

export function tally(stats: readonly Pick<WorkerStats, 'statusClasses'>[]): Tally {
  let requests = 0;
  let errors = 0;
  for (const s of stats) {
    for (const n of s.statusClasses) requests += n;
    errors += s.statusClasses[4] ?? 0;
  }
  return { requests, errors };
}

const pct = (t: Tally) => (t.requests ? Math.round((100 * t.errors) / t.requests) : 0);
const share = (t: Tally) => (t.requests ? t.errors / t.requests : 0);

/** The evidence for rolling back, or null while the canary does as well as the old workers. */
export function judge(canary: Tally, old: Tally): string | null {
  if (canary.errors < MIN_ERRORS || share(canary) <= share(old) + MARGIN) return null;
  return `the canary answered ${canary.errors} of ${canary.requests} request(s) with 5xx (${pct(canary)}%), the old workers ${old.errors} of ${old.requests} (${pct(old)}%)`;
}

export type Verdict =
  | { readonly go: 'wait' }
  | { readonly go: 'promote'; readonly summary: string }
  | { readonly go: 'rollback'; readonly evidence: string };

export class Canary {
  readonly worker: WorkerHandle;
  readonly #windowMs: number;
  /** When the canary got ready, and the old workers' totals then. */
  #since: { at: number; old: Tally } | null = null;

  constructor(worker: WorkerHandle, windowMs: number) {
    this.worker = worker;
    this.#windowMs = windowMs;
  }

  /** Look at the canary again (`old`: the workers it would replace). */
  check(old: readonly WorkerHandle[], now: number): Verdict {
    const w = this.worker;
    if (w.timedOut) return { go: 'rollback', evidence: `the canary ${w.name} timed out` };
    if (w.state !== 'ready') return { go: 'wait' };
    const oldNow = tally(old.map((o) => o.stats));
    this.#since ??= { at: now, old: oldNow };
    const canary = tally([w.stats]);
    const oldDelta = {
      requests: Math.max(0, oldNow.requests - this.#since.old.requests),
      errors: Math.max(0, oldNow.errors - this.#since.old.errors),
    };
    const evidence = judge(canary, oldDelta);
    if (evidence) return { go: 'rollback', evidence };
    const served = now - this.#since.at;
    if (served < this.#windowMs) return { go: 'wait' };
    const quiet = canary.requests < MIN_REQUESTS;
    if (quiet && served < this.#windowMs * QUIET_WINDOWS) return { go: 'wait' };
    return {
      go: 'promote',
      summary: `the canary ${w.name} answered ${canary.requests} request(s), ${canary.errors} with 5xx (${pct(canary)}%), the old workers ${pct(oldDelta)}%${quiet ? ` (too little traffic to judge in ${Math.round(served / 1000)} s)` : ''}`,
    };
  }
}
