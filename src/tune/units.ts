/** Numbers as the table, the charts and the recommendation write them, one way everywhere. */
export { bytes } from '../sizing/explain.ts';

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
