/**
 * The measuring loop: ask the plan for the next step, measure it, repeat, within
 * --max-candidates and --time-limit. A candidate is only started when the time it is expected
 * to take (its boot as measured so far, warm-up and runs) still fits the limit, so the
 * command ends near the limit instead of overrunning it by a candidate.
 */
import type { RequestSpec } from './drive.ts';
import { finalists, runFinals } from './finals.ts';
import { type MeasureSpec, measureCandidate } from './measure.ts';
import { nextStep, type SearchSpace } from './plan.ts';
import type { Progress } from './progress.ts';
import { label, type Measured, type Skipped, sameShape } from './results.ts';

export interface SearchSpec {
  readonly space: SearchSpace;
  readonly boot: MeasureSpec['boot'];
  readonly requests: readonly RequestSpec[];
  readonly connections: number;
  readonly warmup: number;
  readonly runs: number;
  readonly duration: number;
  readonly maxCandidates: number;
  /** How many leaders to measure again in the finals (0: none). */
  readonly finals: number;
  /** Whether a candidate can be recommended at all (the budget): only those go to the finals. */
  readonly eligible: (m: Measured) => boolean;
  readonly timeLimit: number;
}

/** Seconds a candidate is expected to take besides its load: boot before, stop after. */
const FIRST_BOOT_GUESS_S = 2;
const STOP_S = 1;

export async function search(
  spec: SearchSpec,
  progress: Progress,
): Promise<{ results: Measured[]; skipped: Skipped[] }> {
  const started = performance.now();
  const results: Measured[] = [];
  const skipped: Skipped[] = [];
  const load = spec.warmup + spec.runs * spec.duration;
  for (;;) {
    if (spec.boot.signal?.aborted) break;
    const next = nextStep(spec.space, results, skipped);
    if (!next) break;
    const shape = next.step.shape;
    if (next.kind === 'skip') {
      skipped.push({ ...shape, reason: next.reason });
      progress.note(`skipping ${label(shape)}: ${next.reason}`);
      continue;
    }
    if (results.length >= spec.maxCandidates) {
      const reason = `--max-candidates ${spec.maxCandidates} reached`;
      skipped.push({ ...shape, reason });
      progress.note(`stopping: ${reason} (next would have been ${label(shape)})`);
      break;
    }
    const boots = results.map((r) => r.bootSeconds).filter((b) => b > 0);
    const expected = Math.max(FIRST_BOOT_GUESS_S, ...boots) + load + STOP_S;
    const elapsed = (performance.now() - started) / 1000;
    if (elapsed + expected > spec.timeLimit) {
      const reason = `--time-limit ${spec.timeLimit} s: it would take about ${Math.round(expected)} s more after ${Math.round(elapsed)} s`;
      skipped.push({ ...shape, reason });
      progress.note(`stopping: ${reason} (next would have been ${label(shape)})`);
      break;
    }
    const n = results.length + 1;
    const m = await measureCandidate(
      {
        boot: spec.boot,
        shape,
        why: next.step.why,
        connections: spec.connections,
        requests: spec.requests,
        warmup: spec.warmup,
        runs: spec.runs,
        duration: spec.duration,
      },
      progress.candidate(n, shape, next.step.why),
    );
    results.push(m);
    progress.done(n, m);
  }
  return { results: await finals(spec, results, started, progress), skipped };
}

/** The search's results with the finalists' numbers replaced by their merged runs. */
async function finals(
  spec: SearchSpec,
  results: Measured[],
  started: number,
  progress: Progress,
): Promise<Measured[]> {
  const list = finalists(results, spec.eligible, spec.finals);
  if (list.length === 0 || spec.boot.signal?.aborted) return results;
  const boots = Math.max(FIRST_BOOT_GUESS_S, ...results.map((r) => r.bootSeconds));
  const expected = list.length * (boots + spec.warmup + spec.runs * spec.duration) + STOP_S;
  const elapsed = (performance.now() - started) / 1000;
  const names = list.map(label).join(', ');
  if (elapsed + expected > spec.timeLimit) {
    progress.note(
      `no finals: ${names} would take about ${Math.round(expected)} s more than --time-limit allows`,
    );
    return results;
  }
  try {
    const updated = await runFinals(list, spec, progress.finals(list));
    for (const m of updated) progress.done('final', m);
    return results.map((r) => updated.find((u) => sameShape(u, r)) ?? r);
  } catch (err) {
    // The search's numbers stand; say why they were not confirmed.
    progress.note(`finals not completed (${(err as Error).message}); using the search's runs`);
    return results;
  }
}
