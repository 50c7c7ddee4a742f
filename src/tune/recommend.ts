/**
 * The recommendation rule, and the paragraph that explains it.
 *
 * 1. Out: candidates that failed, dropped more than 0.1% of requests, or broke the budget
 *    (--max-p99, --max-memory).
 * 2. The most throughput (median over runs) wins, but differences under TIE (3%) are noise,
 *    not a result: among candidates that close to the best, the lowest p99 wins, and among
 *    those within 10% of that p99, the least memory.
 * 3. When nothing is eligible, the closest candidate (fewest broken rules, then throughput)
 *    is named, marked as outside the budget.
 */
import { TIE } from './plan.ts';
import { label, type Measured, type Recommendation, type Verdict } from './results.ts';
import { bytes, ms, pct, rate } from './units.ts';

export interface Budget {
  readonly maxP99: number | null;
  readonly maxMemory: number | null;
}

/** A configuration that drops more than this share of requests is not a candidate, however fast. */
export const MAX_ERROR_RATE = 0.001;
/** p99s this close (×1.1, +1 ms) count as the same when choosing by memory. */
const P99_TIE = 1.1;

export function verdict(m: Measured, budget: Budget): Verdict {
  const reasons: string[] = [];
  if (m.status !== 'ok') reasons.push(`failed: ${m.error ?? 'unknown'}`);
  else {
    const sent = m.requests + m.errors;
    if (sent === 0) reasons.push('no responses');
    else if (m.errors / sent > MAX_ERROR_RATE)
      reasons.push(`${m.errors} errors in ${sent} requests`);
    if (budget.maxP99 !== null && m.p99 > budget.maxP99) {
      reasons.push(`p99 ${ms(m.p99)} over --max-p99 ${ms(budget.maxP99)}`);
    }
    if (budget.maxMemory !== null && m.rssBytes !== null && m.rssBytes > budget.maxMemory) {
      reasons.push(`${bytes(m.rssBytes)} over --max-memory ${bytes(budget.maxMemory)}`);
    }
  }
  return { eligible: reasons.length === 0, reasons };
}

type Judged = Measured & { readonly verdict: Verdict };

/** Step 2 of the rule, with what decided it. */
function choose(pool: readonly Judged[]): { pick: Judged; best: Judged; decided: string } {
  const byRps = [...pool].sort((a, b) => b.rps - a.rps);
  const best = byRps[0] as Judged;
  const tied = byRps.filter((m) => m.rps >= best.rps * (1 - TIE));
  const lowP99 = Math.min(...tied.map((m) => m.p99));
  const near = tied.filter((m) => m.p99 <= lowP99 * P99_TIE + 1);
  const mem = (m: Judged) => m.rssBytes ?? Number.POSITIVE_INFINITY;
  const pick = [...near].sort((a, b) => mem(a) - mem(b) || b.rps - a.rps)[0] as Judged;
  let decided = 'the most throughput';
  if (pick !== best) {
    const byP99 = pick.p99 < best.p99 / P99_TIE - 1;
    decided = byP99 ? 'a lower p99' : 'less memory';
  }
  return { pick, best, decided };
}

/** The ladder rung's name, without how the search reached it (`io: 2×2+1`). */
const rung = (m: Measured) => m.why.split(';')[0] ?? m.why;

function numbers(m: Measured): string {
  const runs = m.runs.length;
  const spread =
    runs > 1 ? `, ${rate(m.spread.rps[0])}–${rate(m.spread.rps[1])} over ${runs} runs` : '';
  const mem = m.rssBytes === null ? '' : `, ${bytes(m.rssBytes)} in all`;
  return `${rate(m.rps)} req/s${spread}, p99 ${ms(m.p99)}${mem}`;
}

/** The other classes' best eligible candidates, against the pick. */
function alternatives(pick: Judged, pool: readonly Judged[]): string | null {
  const others = new Map<string, Judged>();
  for (const m of pool) {
    if (m.workerClass === pick.workerClass) continue;
    const cur = others.get(m.workerClass);
    if (!cur || m.rps > cur.rps) others.set(m.workerClass, m);
  }
  if (others.size === 0) return null;
  const parts = [...others.values()].map((m) => {
    const mem =
      m.rssBytes !== null && pick.rssBytes !== null && m.rssBytes < pick.rssBytes * 0.9
        ? `, ${bytes(m.rssBytes)}`
        : '';
    return `${label(m)} ${rate(m.rps)} req/s (${pct(m.rps / pick.rps - 1)}), p99 ${ms(m.p99)}${mem}`;
  });
  return `Best of the other classes: ${parts.join('; ')}.`;
}

/** What more or fewer workers of the chosen class did. */
function countEffect(pick: Judged, all: readonly Judged[]): string | null {
  const same = all.filter(
    (m) => m.workerClass === pick.workerClass && m.status === 'ok' && m !== pick,
  );
  const more = same.filter((m) => m.workers * m.threads > pick.workers * pick.threads);
  const fewer = same.filter((m) => m.workers * m.threads < pick.workers * pick.threads);
  const say = (m: Judged) =>
    `${label(m)} ${pct(m.rps / pick.rps - 1)} throughput, p99 ${ms(m.p99)}`;
  const parts: string[] = [];
  if (more.length) parts.push(`more: ${more.map(say).join(', ')}`);
  if (fewer.length) parts.push(`fewer: ${fewer.map(say).join(', ')}`);
  return parts.length ? `Against other counts of ${pick.workerClass} (${parts.join('; ')}).` : null;
}

function noise(pool: readonly Judged[]): string | null {
  const worst = Math.max(
    0,
    ...pool
      .filter((m) => m.runs.length > 1 && m.rps > 0)
      .map((m) => (m.spread.rps[1] - m.spread.rps[0]) / m.rps),
  );
  return worst > 0.1
    ? `Runs of one candidate varied by up to ${Math.round(worst * 100)}% of its median, so smaller differences are noise.`
    : null;
}

export function recommend(all: readonly Judged[]): Recommendation | null {
  const eligible = all.filter((m) => m.verdict.eligible);
  const excluded = all.filter((m) => !m.verdict.eligible && m.status === 'ok');
  const outs = excluded.length
    ? `Not eligible: ${excluded.map((m) => `${label(m)} (${m.verdict.reasons.join('; ')})`).join(', ')}.`
    : null;
  if (eligible.length === 0) {
    const ok = all.filter((m) => m.status === 'ok' && m.requests > 0);
    const closest = [...ok].sort(
      (a, b) => a.verdict.reasons.length - b.verdict.reasons.length || b.rps - a.rps,
    )[0];
    if (!closest) return null;
    const why = `No candidate met the budget. Closest: ${label(closest)} (${rung(closest)}) with ${numbers(closest)}, but ${closest.verdict.reasons.join('; ')}. ${outs ?? ''}`;
    return { candidate: closest, withinBudget: false, why: why.trim() };
  }
  const { pick, best, decided } = choose(eligible);
  const lead = `${label(pick)} (${rung(pick)}) is recommended for ${decided} within the budget: ${numbers(pick)}.`;
  const tie =
    pick === best
      ? null
      : `${label(best)} measured ${pct(best.rps / pick.rps - 1)} throughput (p99 ${ms(best.p99)}${best.rssBytes === null ? '' : `, ${bytes(best.rssBytes)}`}), within the ${Math.round(TIE * 100)}% counted as a tie.`;
  const why = [lead, tie, countEffect(pick, all), alternatives(pick, eligible), outs, noise(all)]
    .filter((s): s is string => s !== null)
    .join(' ');
  return { candidate: pick, withinBudget: true, why };
}
