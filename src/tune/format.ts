/** The terminal output: a table of candidates, a bar chart of throughput, the recommendation. */
import { label, loops, type TuneSummary } from './results.ts';
import { figures, ms, rate } from './units.ts';

type Row = readonly string[];

/** Columns padded to their widest cell; numbers right-aligned. */
function columns(rows: readonly Row[], right: ReadonlySet<number>): string[] {
  const widths = (rows[0] ?? []).map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) =>
    r
      .map((cell, i) =>
        right.has(i) ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0),
      )
      .join('  ')
      .trimEnd(),
  );
}

export function table(s: TuneSummary): string {
  const pick = s.recommended?.candidate;
  const head: Row = [
    'CANDIDATE',
    'REQ/S',
    'RUNS',
    'P50',
    'P99',
    'ERRORS',
    'RSS',
    'PER WORKER',
    'CPU',
    'LOADGEN',
    '',
  ];
  const rows: Row[] = s.candidates.map((m) => {
    if (m.status !== 'ok')
      return [label(m), '–', '', '', '', '', '', '', '', '', `failed: ${m.error ?? ''}`];
    const note =
      m === pick ? '← recommended' : m.verdict.eligible ? '' : `✗ ${m.verdict.reasons.join('; ')}`;
    return [label(m), ...figures(m), note];
  });
  return columns([head, ...rows], new Set([1, 3, 4, 5, 6, 7, 8, 9])).join('\n');
}

const EIGHTHS = ['', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];

/** A bar `width` cells long at full scale, to 1/8 of a cell. */
export function bar(value: number, max: number, width: number): string {
  const eighths = max > 0 ? Math.round((value / max) * width * 8) : 0;
  return '█'.repeat(Math.floor(eighths / 8)) + (EIGHTHS[eighths % 8] ?? '');
}

/** Throughput per candidate, grouped by class and ordered by event loops, p99 beside it. */
export function chart(s: TuneSummary, width = 40): string {
  const ok = s.candidates.filter((m) => m.status === 'ok');
  if (ok.length === 0) return '';
  const max = Math.max(...ok.map((m) => m.spread.rps[1]));
  const sorted = [...ok].sort(
    (a, b) => a.workerClass.localeCompare(b.workerClass) || loops(a) - loops(b),
  );
  const name = Math.max(...sorted.map((m) => label(m).length));
  const lines = [`throughput, req/s (median of runs; full bar = ${rate(max)})`];
  for (const m of sorted) {
    const mark = m === s.recommended?.candidate ? '  ★' : '';
    lines.push(
      `${label(m).padEnd(name)}  ${bar(m.rps, max, width).padEnd(width)}  ${rate(m.rps).padStart(7)}  p99 ${ms(m.p99)}${mark}`,
    );
  }
  return lines.join('\n');
}

/** Everything a person reads at the end of a run. */
export function summaryText(s: TuneSummary): string {
  const parts = [
    `corral tune ${s.app}: ${s.candidates.length} candidates on ${s.machine.cpus} CPUs (${s.machine.cpuSource}), ${s.load.connections} connections, ${s.load.runs} × ${s.load.duration} s runs after ${s.load.warmup} s warm-up, ${Math.round(s.elapsedSeconds)} s in all`,
    '',
    table(s),
    '',
    chart(s),
  ];
  if (s.skipped.length) {
    parts.push('', ...s.skipped.map((k) => `skipped ${label(k)}: ${k.reason}`));
  }
  if (s.warnings.length) parts.push('', ...s.warnings.map((w) => `warning: ${w}`));
  parts.push(
    '',
    s.recommended
      ? `recommended: ${s.recommended.why}`
      : 'no recommendation: no candidate answered',
  );
  return parts.join('\n');
}
