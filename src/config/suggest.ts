/** "Did you mean": the nearest known name to a mistyped one (flags, settings, commands). */

/** Edit distance (Levenshtein). */
export function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0] as number;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j] as number;
      row[j] = Math.min(
        cur + 1,
        (row[j - 1] as number) + 1,
        prev + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
      prev = cur;
    }
  }
  return row[b.length] as number;
}

/**
 * The candidate nearest to `word` (case, `-` and `_` ignored), if it is close enough to be a
 * typo: at most 2 edits, and at most half the word's letters.
 */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  const norm = (s: string) => s.toLowerCase().replace(/[-_]/g, '');
  const w = norm(word);
  const scored = candidates.map((c) => ({ c, d: distance(w, norm(c)) }));
  const best = scored.sort((x, y) => x.d - y.d)[0];
  return best && best.d <= 2 && best.d <= w.length / 2 ? best.c : undefined;
}
