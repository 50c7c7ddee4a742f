/**
 * Plain SVG charts for docs/benchmarks.md, made here (no network, no chart library): a
 * horizontal bar chart with the round-to-round spread drawn on each bar, and a line chart
 * for throughput against worker count.
 */

export interface Bar {
  readonly label: string;
  /** The bar: best of the rounds. */
  readonly value: number;
  /** The spread: worst and best round. */
  readonly min: number;
  readonly max: number;
  readonly corral: boolean;
}

const FONT = 'font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif"';
const COLORS = { corral: '#2f6fbf', other: '#9aa4b1', grid: '#e3e6ea', text: '#1f2328' };

const esc = (s: string) =>
  s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');

function niceMax(v: number): number {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

const short = (n: number) =>
  n >= 1e6 ? `${+(n / 1e6).toFixed(1)}M` : n >= 1e3 ? `${+(n / 1e3).toFixed(1)}k` : String(n);

/** The opening of every chart: the svg element with its title, the background, the headings. */
function frame(w: number, h: number, title: string, subtitle: string): string[] {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" role="img" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" ${FONT} font-size="13">`,
    `<title>${esc(title)}</title>`,
    `<rect width="${w}" height="${h}" fill="#fff"/>`,
    `<text x="12" y="22" font-size="15" font-weight="600" fill="${COLORS.text}">${esc(title)}</text>`,
    `<text x="12" y="42" fill="#57606a">${esc(subtitle)}</text>`,
  ];
}
export function barChart(title: string, subtitle: string, bars: readonly Bar[]): string {
  const labelW = 330;
  const plotW = 420;
  const rowH = 26;
  const top = 58;
  const h = top + bars.length * rowH + 40;
  const w = labelW + plotW + 90;
  const max = niceMax(Math.max(...bars.map((b) => b.max)));
  const x = (v: number) => Math.round((labelW + (v / max) * plotW) * 10) / 10;
  const out: string[] = frame(w, h, title, subtitle);
  for (let i = 0; i <= 5; i++) {
    const v = (max / 5) * i;
    const gx = x(v);
    out.push(
      `<line x1="${gx}" y1="${top - 6}" x2="${gx}" y2="${top + bars.length * rowH}" stroke="${COLORS.grid}"/>`,
      `<text x="${gx}" y="${top + bars.length * rowH + 16}" text-anchor="middle" fill="#57606a">${short(v)}</text>`,
    );
  }
  bars.forEach((b, i) => {
    const y = top + i * rowH;
    const fill = b.corral ? COLORS.corral : COLORS.other;
    out.push(
      `<text x="${labelW - 8}" y="${y + 17}" text-anchor="end" fill="${COLORS.text}"${b.corral ? ' font-weight="600"' : ''}>${esc(b.label)}</text>`,
      `<rect x="${labelW}" y="${y + 4}" width="${Math.max(0, x(b.value) - labelW)}" height="${rowH - 8}" fill="${fill}" rx="2"/>`,
    );
    if (b.max > b.min) {
      const cy = y + rowH / 2;
      out.push(
        `<line x1="${x(b.min)}" y1="${cy}" x2="${x(b.max)}" y2="${cy}" stroke="#1f2328" stroke-width="1.5"/>`,
        `<line x1="${x(b.min)}" y1="${cy - 5}" x2="${x(b.min)}" y2="${cy + 5}" stroke="#1f2328" stroke-width="1.5"/>`,
      );
    }
    out.push(
      `<text x="${x(b.max) + 6}" y="${y + 17}" fill="${COLORS.text}">${short(Math.round(b.value))}</text>`,
    );
  });
  out.push(
    `<text x="${labelW}" y="${h - 6}" fill="#57606a">req/s; bar = best round, line = worst to best round</text>`,
    '</svg>',
  );
  return `${out.join('\n')}\n`;
}

export interface Series {
  readonly label: string;
  readonly points: readonly { readonly x: number; readonly y: number }[];
  readonly corral: boolean;
}

const PALETTE = ['#2f6fbf', '#d1242f', '#1a7f37', '#9a6700', '#8250df', '#57606a', '#bc4c00'];

export function lineChart(title: string, subtitle: string, series: readonly Series[]): string {
  const w = 760;
  const h = 420;
  const left = 70;
  const right = 250;
  const top = 60;
  const bottom = 50;
  const xs = [...new Set(series.flatMap((s) => s.points.map((p) => p.x)))].sort((a, b) => a - b);
  const maxX = Math.max(...xs, 1);
  const maxY = niceMax(Math.max(...series.flatMap((s) => s.points.map((p) => p.y)), 1));
  const px = (v: number) => Math.round((left + (v / maxX) * (w - left - right)) * 10) / 10;
  const py = (v: number) => Math.round((h - bottom - (v / maxY) * (h - top - bottom)) * 10) / 10;
  const out: string[] = frame(w, h, title, subtitle);
  for (let i = 0; i <= 5; i++) {
    const v = (maxY / 5) * i;
    out.push(
      `<line x1="${left}" y1="${py(v)}" x2="${w - right}" y2="${py(v)}" stroke="${COLORS.grid}"/>`,
      `<text x="${left - 6}" y="${py(v) + 4}" text-anchor="end" fill="#57606a">${short(v)}</text>`,
    );
  }
  for (const x of xs) {
    out.push(
      `<text x="${px(x)}" y="${h - bottom + 18}" text-anchor="middle" fill="#57606a">${x}</text>`,
    );
  }
  out.push(
    `<text x="${(left + w - right) / 2}" y="${h - 10}" text-anchor="middle" fill="#57606a">workers</text>`,
  );
  series.forEach((s, i) => {
    const color = s.corral && i === 0 ? COLORS.corral : (PALETTE[i % PALETTE.length] as string);
    const pts = s.points.map((p) => `${px(p.x)},${py(p.y)}`).join(' ');
    out.push(
      `<polyline points="${pts}" fill="none" stroke="${color}" stroke-width="${s.corral ? 3 : 2}"/>`,
      ...s.points.map((p) => `<circle cx="${px(p.x)}" cy="${py(p.y)}" r="3" fill="${color}"/>`),
      `<line x1="${w - right + 14}" y1="${top + i * 20}" x2="${w - right + 34}" y2="${top + i * 20}" stroke="${color}" stroke-width="3"/>`,
      `<text x="${w - right + 40}" y="${top + i * 20 + 4}" fill="${COLORS.text}">${esc(s.label)}</text>`,
    );
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
