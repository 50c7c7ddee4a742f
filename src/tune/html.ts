/**
 * The HTML report: one self-contained file (inline CSS and SVG, no script) with the
 * recommendation, the warnings, throughput / p99 / memory against event loops per worker
 * class, and the full table. Its Content-Security-Policy forbids every fetch, so it opens the
 * same on an air-gapped machine, from a CI artifact or an email attachment.
 */
import { label, loops, type Measured, type TuneSummary } from './results.ts';
import { type ChartSpec, escapeXml as esc, lineChart, type Series } from './svg.ts';
import { bytes, figures, ms, rate } from './units.ts';

export const CLASS_COLORS: Readonly<Record<string, string>> = {
  async: '#2563eb',
  sync: '#d97706',
  thread: '#059669',
};

const X_LABEL = 'event loops (workers × threads)';
/** Axis ticks: whole numbers where they are, at most two decimals for tiny scales. */
const tick = (y: number) => String(Math.round(y * 100) / 100);

function series(
  s: TuneSummary,
  y: (m: Measured) => number | null,
  spread?: (m: Measured) => readonly [number, number],
): Series[] {
  const ok = s.candidates.filter((m) => m.status === 'ok' && y(m) !== null);
  const classes = [...new Set(ok.map((m) => m.workerClass))];
  return classes.map((cls) => ({
    name: cls,
    color: CLASS_COLORS[cls] ?? '#6b7280',
    points: ok
      .filter((m) => m.workerClass === cls)
      .map((m) => {
        const r = spread?.(m);
        return {
          x: loops(m),
          y: y(m) as number,
          ...(r ? { lo: r[0], hi: r[1] } : {}),
          recommended: m === s.recommended?.candidate,
          note: `${label(m)}: ${rate(m.rps)} req/s, p99 ${ms(m.p99)}${m.rssBytes === null ? '' : `, ${bytes(m.rssBytes)}`}`,
        };
      }),
  }));
}

export function charts(s: TuneSummary): ChartSpec[] {
  const specs: ChartSpec[] = [
    {
      id: 'throughput',
      title: 'Throughput',
      xLabel: X_LABEL,
      yLabel: 'requests/s (median, min–max)',
      series: series(
        s,
        (m) => m.rps,
        (m) => m.spread.rps,
      ),
      format: tick,
    },
    {
      id: 'p99',
      title: 'p99 latency',
      xLabel: X_LABEL,
      yLabel: 'p99, ms (median, min–max)',
      series: series(
        s,
        (m) => m.p99,
        (m) => m.spread.p99,
      ),
      format: tick,
      budget:
        s.budget.maxP99 === null
          ? null
          : { y: s.budget.maxP99, label: `--max-p99 ${ms(s.budget.maxP99)}` },
    },
  ];
  const mem = series(s, (m) => (m.rssBytes === null ? null : m.rssBytes / 2 ** 20));
  if (mem.length) {
    specs.push({
      id: 'memory',
      title: 'Memory (RSS of master and workers, peak under load)',
      xLabel: X_LABEL,
      yLabel: 'MiB',
      series: mem,
      format: tick,
      budget:
        s.budget.maxMemory === null
          ? null
          : { y: s.budget.maxMemory / 2 ** 20, label: `--max-memory ${bytes(s.budget.maxMemory)}` },
    });
  }
  return specs;
}

function tableHtml(s: TuneSummary): string {
  const head = [
    'candidate',
    'why measured',
    'req/s',
    'runs: min–max ×n',
    'p50',
    'p99',
    'errors',
    'RSS',
    'per worker',
    'CPU',
    'load gen CPU',
    'verdict',
  ];
  const rows = s.candidates.map((m) => {
    const mark = m === s.recommended?.candidate ? ' class="recommended"' : '';
    const verdict =
      m.status !== 'ok'
        ? `failed: ${m.error ?? ''}`
        : m === s.recommended?.candidate
          ? 'recommended'
          : m.verdict.eligible
            ? ''
            : m.verdict.reasons.join('; ');
    const cells =
      m.status !== 'ok'
        ? [label(m), m.why, '–', '', '', '', '', '', '', '', '', verdict]
        : [label(m), m.finalRuns ? `${m.why}; in the finals` : m.why, ...figures(m), verdict];
    return `<tr${mark}>${cells.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`;
  });
  return `<table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

const CSS = `body{font:14px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;color:#111827;margin:24px auto;max-width:1180px;padding:0 16px}
h1{font-size:22px;margin:0 0 4px}.meta{color:#4b5563;margin:0 0 16px}
.rec{background:#eff6ff;border-left:4px solid #2563eb;padding:10px 14px;margin:12px 0}
.rec.out{background:#fef2f2;border-color:#dc2626}.warn{background:#fffbeb;border-left:4px solid #d97706;padding:8px 14px;margin:8px 0}
.charts{display:flex;flex-wrap:wrap;gap:16px;margin:16px 0}.charts svg{background:#fff;border:1px solid #e5e7eb;border-radius:6px}
table{border-collapse:collapse;width:100%;font-size:13px}th,td{padding:4px 8px;border-bottom:1px solid #e5e7eb;text-align:right;white-space:nowrap}
td:nth-child(2),td:last-child{white-space:normal}.rec p{margin:4px 0 0}
th:nth-child(-n+2),td:nth-child(-n+2),td:last-child,th:last-child{text-align:left}tr.recommended{background:#eff6ff;font-weight:600}`;

export function reportHtml(s: TuneSummary): string {
  const rec = s.recommended;
  const recBox = rec
    ? `<div class="rec${rec.withinBudget ? '' : ' out'}"><strong>Recommended: ${esc(label(rec.candidate))}</strong><p>${esc(rec.why)}</p></div>`
    : '<div class="rec out"><strong>No recommendation</strong>: no candidate answered.</div>';
  const skipped = s.skipped.map((k) => `<li>${esc(label(k))}: ${esc(k.reason)}</li>`).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>corral tune: ${esc(s.app)}</title><style>${CSS}</style></head>
<body>
<h1>corral tune: ${esc(s.app)}</h1>
<p class="meta">${esc(s.date)} · ${s.machine.cpus} usable CPUs (${esc(s.machine.cpuSource)}) · ${esc(bytes(s.machine.memoryBytes))} memory (${esc(s.machine.memorySource)}) · Node ${esc(s.machine.node)} · load: ${esc(s.load.requests.join(', '))}, ${s.load.connections} connections, ${s.load.runs} × ${s.load.duration} s after ${s.load.warmup} s warm-up · ${s.candidates.length} candidates in ${Math.round(s.elapsedSeconds)} s</p>
${recBox}
${s.warnings.map((w) => `<div class="warn">${esc(w)}</div>`).join('\n')}
<div class="charts">
${charts(s).map(lineChart).join('\n')}
</div>
${tableHtml(s)}
${skipped ? `<p>Not measured:</p><ul>${skipped}</ul>` : ''}
<p class="meta">Whiskers show the lowest and highest of the runs; the ring marks the recommendation. RSS counts every process of the server, master included.</p>
</body></html>
`;
}
