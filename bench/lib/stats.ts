/** Best-of-N and spread, for figures measured in interleaved rounds on a shared machine. */

export const best = (xs: readonly number[]): number => (xs.length ? Math.max(...xs) : Number.NaN);
export const least = (xs: readonly number[]): number => (xs.length ? Math.min(...xs) : Number.NaN);
export const median = (xs: readonly number[]): number => {
  if (!xs.length) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

/** 75,083 */
export const int = (n: number): string =>
  Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '—';

/** 1.02× */
export const ratio = (a: number, b: number): string =>
  Number.isFinite(a / b) && b > 0 ? `${(a / b).toFixed(2)}×` : '—';

/** Milliseconds with sensible precision: 0.84, 12.3, 156. */
export const ms = (n: number): string =>
  !Number.isFinite(n)
    ? '—'
    : n < 10
      ? n.toFixed(2)
      : n < 100
        ? n.toFixed(1)
        : String(Math.round(n));

export const mib = (bytes: number): string =>
  Number.isFinite(bytes) && bytes > 0 ? (bytes / 2 ** 20).toFixed(1) : '—';

/** "61,200–75,083" from the rounds (or the one value). */
export const range = (xs: readonly number[], f: (n: number) => string = int): string =>
  xs.length > 1 ? `${f(least(xs))}–${f(best(xs))}` : xs.length ? f(xs[0] as number) : '—';
