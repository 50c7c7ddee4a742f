/**
 * Prometheus' text exposition format (0.0.4), written directly, and the aggregation of many
 * processes' metrics into one. Both take prom-client's JSON shape (`getMetricsAsJSON()`), so
 * an app's own prom-client registry, read in its worker, travels to the master as it is and
 * is summed as prom-client's AggregatorRegistry sums it: per series (metric name and labels),
 * with each metric's `aggregator` (sum by default; first, min, max, average, omit).
 */

export type Labels = Readonly<Record<string, string | number>>;

export interface Sample {
  readonly value: number;
  readonly labels?: Labels;
  /** The sample's own name where it differs from the family's (`_bucket`, `_sum`, `_count`). */
  readonly metricName?: string;
}

export type Aggregator = 'sum' | 'first' | 'min' | 'max' | 'average' | 'omit';

export interface Family {
  readonly name: string;
  readonly help: string;
  readonly type: string;
  readonly values: readonly Sample[];
  readonly aggregator?: Aggregator;
}

export const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

const escapeText = (s: string) => s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
const escapeLabel = (s: string) => escapeText(s).replace(/"/g, '\\"');

function number(v: number | null): string {
  // JSON carries NaN and ±Inf from a worker as null.
  if (typeof v !== 'number' || Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v < 0 ? '-Inf' : '+Inf';
  return String(v);
}

function labelText(labels: Labels | undefined): string {
  if (!labels) return '';
  const parts: string[] = [];
  for (const k in labels) {
    const v = labels[k];
    if (v !== undefined) parts.push(`${k}="${escapeLabel(String(v))}"`);
  }
  return parts.length ? `{${parts.join(',')}}` : '';
}

export function renderFamily(f: Family): string {
  const lines = [`# HELP ${f.name} ${escapeText(f.help)}`, `# TYPE ${f.name} ${f.type}`];
  for (const s of f.values) {
    lines.push(`${s.metricName ?? f.name}${labelText(s.labels)} ${number(s.value)}`);
  }
  return lines.join('\n');
}

/** Families as one exposition; the first family of a name wins over later ones. */
export function render(families: Iterable<Family>): string {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const f of families) {
    if (seen.has(f.name)) continue;
    seen.add(f.name);
    out.push(renderFamily(f));
  }
  return `${out.join('\n\n')}\n`;
}

function seriesKey(s: Sample): string {
  const labels = s.labels ?? {};
  const keys = Object.keys(labels).sort();
  return `${s.metricName ?? ''}\u0000${keys.map((k) => `${k}=${labels[k]}`).join('\u0000')}`;
}

const AGGREGATE: Record<Exclude<Aggregator, 'omit'>, (vs: number[]) => number> = {
  sum: (vs) => vs.reduce((a, b) => a + b, 0),
  first: (vs) => vs[0] ?? 0,
  min: (vs) => Math.min(...vs),
  max: (vs) => Math.max(...vs),
  average: (vs) => vs.reduce((a, b) => a + b, 0) / vs.length,
};

/** Many processes' families as one set: each series aggregated across the processes. */
export function aggregate(perProcess: readonly (readonly Family[])[]): Family[] {
  const byName = new Map<string, Family[]>();
  for (const families of perProcess) {
    for (const f of families) {
      const list = byName.get(f.name);
      if (list) list.push(f);
      else byName.set(f.name, [f]);
    }
  }
  const out: Family[] = [];
  for (const [name, list] of byName) {
    const first = list[0] as Family;
    const how = first.aggregator ?? 'sum';
    if (how === 'omit') continue;
    const fn = AGGREGATE[how] ?? AGGREGATE.sum;
    const series = new Map<string, { sample: Sample; values: number[] }>();
    for (const f of list) {
      for (const s of f.values) {
        const key = seriesKey(s);
        const entry = series.get(key);
        if (entry) entry.values.push(s.value);
        else series.set(key, { sample: s, values: [s.value] });
      }
    }
    out.push({
      name,
      help: first.help,
      type: first.type,
      aggregator: how,
      values: [...series.values()].map(({ sample, values }) => ({
        ...(sample.metricName !== undefined && { metricName: sample.metricName }),
        ...(sample.labels && { labels: sample.labels }),
        value: fn(values),
      })),
    });
  }
  return out;
}

/** The same families with `extra` labels added to every sample (a worker's slot). */
export function withLabels(families: readonly Family[], extra: Labels): Family[] {
  return families.map((f) => ({
    ...f,
    values: f.values.map((s) => ({ ...s, labels: { ...s.labels, ...extra } })),
  }));
}

/** Families of one name from several sources merged into one family (their samples joined). */
export function merge(families: readonly Family[]): Family[] {
  const byName = new Map<string, Family>();
  for (const f of families) {
    const had = byName.get(f.name);
    byName.set(f.name, had ? { ...had, values: [...had.values, ...f.values] } : f);
  }
  return [...byName.values()];
}
