/** Numbers as the table, the charts and the recommendation write them, one way everywhere. */
import { bytes } from '../sizing/explain.ts';
import type { Measured } from './results.ts';

export { bytes };

/**
 * A measured candidate's figures as the terminal table and the HTML report both show them:
 * req/s, spread over its runs, p50, p99, errors, RSS, RSS per worker, server CPU, load gen CPU.
 */
export function figures(m: Measured): string[] {
  return [
    rate(m.rps),
    // The spread, and how many runs it is over (more for finalists).
    m.runs.length > 1 ? `${rate(m.spread.rps[0])}–${rate(m.spread.rps[1])} ×${m.runs.length}` : '',
    ms(m.p50),
    ms(m.p99),
    String(m.errors),
    m.rssBytes === null ? '–' : bytes(m.rssBytes),
    m.workerRssBytes === null ? '–' : bytes(m.workerRssBytes),
    cores(m.cpu),
    cores(m.loadgenCpu),
  ];
}

/** 1234.5 → `1235`; under 100 one decimal (`12.3`), so small rates keep their precision. */
export function rate(n: number): string {
  return n >= 100 ? String(Math.round(n)) : n.toFixed(1);
}

/** Milliseconds: `0.8 ms`, `31 ms`, `1.24 s`. */
export function ms(n: number): string {
  if (n >= 1000) return `${(n / 1000).toFixed(2)} s`;
  return n >= 10 ? `${Math.round(n)} ms` : `${n.toFixed(1)} ms`;
}

/** 0.123 → `+12%`, −0.04 → `−4%`. */
export function pct(n: number): string {
  const p = Math.round(n * 100);
  return p >= 0 ? `+${p}%` : `−${Math.abs(p)}%`;
}

/** CPUs used: `1.93`. */
export function cores(n: number | null): string {
  return n === null ? '–' : n.toFixed(2);
}
