/**
 * A line chart as a standalone SVG string: one series per worker class over an ordinal x axis
 * (event loops), whiskers for the spread of runs, a ring on the recommended point and a dashed
 * budget line. Written by hand because the report must open with no network and no script,
 * and three small charts do not justify a charting library.
 */

export interface Point {
  readonly x: number;
  readonly y: number;
  /** The spread of runs (drawn as a whisker). */
  readonly lo?: number;
  readonly hi?: number;
  readonly recommended?: boolean;
  /** Tooltip text. */
  readonly note: string;
}

export interface Series {
  readonly name: string;
  readonly color: string;
  readonly points: readonly Point[];
}

export interface ChartSpec {
  /** A stable id for the chart (`throughput`, `p99`, `memory`), on the svg as data-chart. */
  readonly id: string;
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly Series[];
  readonly format: (y: number) => string;
  readonly budget?: { readonly y: number; readonly label: string } | null;
}

const W = 560;
const H = 320;
const PAD = { left: 64, right: 16, top: 56, bottom: 52 };

export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A round axis maximum at or above `max`: 1, 2 or 5 × 10^n. */
export function niceMax(max: number): number {
  if (!(max > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(max));
  return ([1, 2, 5, 10].find((m) => m * p >= max) ?? 10) * p;
}

const n = (v: number) => Math.round(v * 10) / 10;

export function lineChart(spec: ChartSpec): string {
  const xs = [...new Set(spec.series.flatMap((s) => s.points.map((p) => p.x)))].sort(
    (a, b) => a - b,
  );
  const ys = spec.series.flatMap((s) => s.points.flatMap((p) => [p.y, p.hi ?? p.y]));
  const top = niceMax(Math.max(...ys, spec.budget?.y ?? 0));
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  // Ordinal x: counts like 1, 2, 5, 9, 17 spread evenly instead of crowding the left.
  const px = (x: number) => n(PAD.left + ((xs.indexOf(x) + 0.5) / Math.max(1, xs.length)) * plotW);
  const py = (y: number) => n(PAD.top + plotH - (y / top) * plotH);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart" data-chart="${spec.id}" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${escapeXml(spec.title)}">`,
    `<title>${escapeXml(spec.title)}</title>`,
    `<text class="chart-title" x="${PAD.left}" y="22" font-size="15" font-weight="600">${escapeXml(spec.title)}</text>`,
  ];
  for (let i = 0; i <= 4; i++) {
    const y = (top * i) / 4;
    out.push(
      `<line class="grid" x1="${PAD.left}" x2="${W - PAD.right}" y1="${py(y)}" y2="${py(y)}" stroke="#e5e7eb"/>`,
      `<text class="tick" x="${PAD.left - 6}" y="${py(y) + 4}" text-anchor="end" font-size="11" fill="#4b5563">${escapeXml(spec.format(y))}</text>`,
    );
  }
  for (const x of xs) {
    out.push(
      `<text class="tick" x="${px(x)}" y="${H - PAD.bottom + 16}" text-anchor="middle" font-size="11" fill="#4b5563">${x}</text>`,
    );
  }
  out.push(
    `<line class="axis" x1="${PAD.left}" x2="${W - PAD.right}" y1="${py(0)}" y2="${py(0)}" stroke="#6b7280"/>`,
    `<text class="axis-label" x="${PAD.left + plotW / 2}" y="${H - 14}" text-anchor="middle" font-size="12" fill="#374151">${escapeXml(spec.xLabel)}</text>`,
    `<text class="axis-label" transform="translate(14 ${PAD.top + plotH / 2}) rotate(-90)" text-anchor="middle" font-size="12" fill="#374151">${escapeXml(spec.yLabel)}</text>`,
  );
  if (spec.budget) {
    const y = py(spec.budget.y);
    out.push(
      `<line class="budget" x1="${PAD.left}" x2="${W - PAD.right}" y1="${y}" y2="${y}" stroke="#dc2626" stroke-dasharray="6 4"/>`,
      `<text class="budget-label" x="${W - PAD.right}" y="${y - 5}" text-anchor="end" font-size="11" fill="#dc2626">${escapeXml(spec.budget.label)}</text>`,
    );
  }
  spec.series.forEach((s, i) => {
    const pts = [...s.points].sort((a, b) => a.x - b.x);
    const attrs = `data-class="${escapeXml(s.name)}" stroke="${s.color}"`;
    out.push(
      `<polyline class="series" ${attrs} fill="none" stroke-width="2.5" points="${pts.map((p) => `${px(p.x)},${py(p.y)}`).join(' ')}"/>`,
    );
    for (const p of pts) {
      if (p.lo !== undefined && p.hi !== undefined && p.hi > p.lo) {
        out.push(
          `<line class="spread" ${attrs} stroke-width="1.5" x1="${px(p.x)}" x2="${px(p.x)}" y1="${py(p.lo)}" y2="${py(p.hi)}"/>`,
        );
      }
      out.push(
        `<circle class="point" ${attrs} fill="${s.color}" cx="${px(p.x)}" cy="${py(p.y)}" r="4.5"><title>${escapeXml(p.note)}</title></circle>`,
      );
      if (p.recommended) {
        out.push(
          `<circle class="recommended" cx="${px(p.x)}" cy="${py(p.y)}" r="10" fill="none" stroke="#111827" stroke-width="2"/>`,
        );
      }
    }
    // Legend under the title, right-aligned, one entry per class.
    const lx = W - PAD.right - 96 * (spec.series.length - i);
    out.push(
      `<rect class="legend" x="${lx}" y="31" width="12" height="12" fill="${s.color}"/>`,
      `<text class="legend" x="${lx + 16}" y="41" font-size="12" fill="#111827">${escapeXml(s.name)}</text>`,
    );
  });
  out.push('</svg>');
  return out.join('\n');
}
