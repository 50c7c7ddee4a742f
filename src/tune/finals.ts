/**
 * The finals: the leading candidates measured again, side by side. The search measures one
 * candidate after another, so a busy moment of the machine (another process, a cron job, the
 * neighbours of a shared VM) lands on whichever candidate was running then, and can decide the
 * recommendation. Here the finalists all run at once, idle but for the one under load, and
 * take their runs in turn, round after round in rotating order: drift hits them all alike.
 * Their new runs join the old ones, and the medians are taken over both.
 */
import { type Booted, boot } from './boot.ts';
import { type Loadgen, startLoadgen } from './drive.ts';
import { type MeasureSpec, measuredRun, type Peak, summarise } from './measure.ts';
import { label, type Measured, type Run } from './results.ts';

/** Candidates this close to the best throughput (or the best of their class) go to the finals. */
export const NEAR = 0.15;

/**
 * Who is in: the best of each class and anything within NEAR of the best, strongest first,
 * at most `max`; nobody when fewer than two qualify (there is nothing to decide).
 */
export function finalists(
  results: readonly Measured[],
  eligible: (m: Measured) => boolean,
  max: number,
): Measured[] {
  const pool = results.filter((m) => m.status === 'ok' && eligible(m));
  const top = Math.max(0, ...pool.map((m) => m.rps));
  const bestOfClass = (m: Measured) =>
    pool.every((o) => o.workerClass !== m.workerClass || o.rps <= m.rps);
  const picked = pool
    .filter((m) => m.rps >= top * (1 - NEAR) || bestOfClass(m))
    .sort((a, b) => b.rps - a.rps)
    .slice(0, max);
  return picked.length >= 2 ? picked : [];
}

export type FinalsSpec = Omit<MeasureSpec, 'shape' | 'why'>;

interface Entrant {
  readonly m: Measured;
  readonly server: Booted;
  readonly loadgen: Loadgen;
  readonly peak: Peak;
  readonly runs: Run[];
}

/** Measure `list` again, interleaved; returns them updated (same order), or throws. */
export async function runFinals(
  list: readonly Measured[],
  spec: FinalsSpec,
  phase: (what: string) => void,
): Promise<Measured[]> {
  const entrants: Entrant[] = [];
  try {
    for (const m of list) {
      phase(`booting ${label(m)}`);
      const server = await boot({ ...spec.boot, shape: m });
      const loadgen = startLoadgen(
        { url: server.url, connections: spec.connections, requests: spec.requests },
        spec.boot.signal,
      );
      entrants.push({ m, server, loadgen, peak: { total: 0, perWorker: 0 }, runs: [] });
    }
    for (const e of entrants) {
      if (spec.warmup <= 0) break;
      phase(`warm-up ${label(e.m)}`);
      await e.loadgen.run(spec.warmup);
    }
    for (let round = 0; round < spec.runs; round++) {
      for (let i = 0; i < entrants.length; i++) {
        const e = entrants[(i + round) % entrants.length] as Entrant;
        phase(`round ${round + 1}/${spec.runs}: ${label(e.m)}`);
        e.runs.push(await measuredRun(e.server, (s) => e.loadgen.run(s), spec.duration, e.peak));
      }
    }
  } finally {
    for (const e of entrants) e.loadgen.close();
    phase('stopping');
    await Promise.all(entrants.map((e) => e.server.stop()));
  }
  return entrants.map((e) => {
    const peak = Math.max(e.m.rssBytes ?? 0, e.peak.total);
    const perWorker = peak === e.peak.total ? e.peak.perWorker : (e.m.workerRssBytes ?? 0);
    const merged = summarise(
      { shape: e.m, why: e.m.why },
      [...e.m.runs, ...e.runs],
      peak > 0 ? { total: peak, perWorker } : null,
      e.m.bootSeconds,
    );
    return { ...merged, finalRuns: e.runs.length };
  });
}
