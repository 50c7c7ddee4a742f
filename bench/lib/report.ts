/** The bench's results as Markdown tables and SVG charts (docs/benchmarks.md). */
import { type Bar, barChart, lineChart, type Series } from './chart.ts';
import { type Machine, machineLine } from './machine.ts';
import type { Sample } from './measure.ts';
import { best, int, least, median, mib, ms, range, ratio } from './stats.ts';

export interface Cell {
  readonly id: string;
  readonly label: string;
  readonly corral: boolean;
  readonly workers: number;
  readonly samples: Sample[];
}

export interface Startup {
  /** `node -e 0`, spawn to exit. */
  readonly bareNode: number[];
  /** `corral --help` with the published build (dist/) and from the repository (src/). */
  readonly helpDist: number[];
  readonly helpSrc: number[];
  /** Plain node hello world, spawn to first answer. */
  readonly nodeFirstAnswer: number[];
  /** corral -w 1, spawn to all ready and answering. */
  readonly corralFirstAnswer: number[];
  /** Each corral worker, fork to ready (corral's own log). */
  readonly workerReady: number[];
}

export interface Results {
  readonly machine: Machine;
  readonly command: string;
  readonly date: string;
  readonly corralBuild: string;
  readonly shape: {
    seconds: number;
    warmup?: number;
    connections: number;
    threads: number;
    rounds: number;
  };
  /** Hello world: one list of cells per worker count. */
  readonly hello: Map<number, Cell[]>;
  /** Hello world with a new connection per request, and how many at a time. */
  readonly churn?: Map<number, Cell[]>;
  readonly churnConnections?: number;
  /** Realistic routes at one worker count: path → cells. */
  readonly routes: Map<string, Cell[]>;
  readonly routesWorkers: number;
  readonly startup: Startup | null;
}

const rps = (c: Cell | undefined) => best(c?.samples.map((s) => s.rps) ?? []);
const find = (cells: readonly Cell[] | undefined, id: string) => cells?.find((c) => c.id === id);
/** The sample of the best round (its latencies belong with its throughput). */
const bestSample = (c: Cell): Sample | undefined => [...c.samples].sort((a, b) => b.rps - a.rps)[0];

function helloTable(cells: readonly Cell[], plain: Cell | undefined): string[] {
  const rr = rps(find(cells, 'cluster-rr'));
  const sh = rps(find(cells, 'cluster-shared'));
  const cluster = Math.max(rr || 0, sh || 0);
  const lines = [
    '| server | req/s, best | all rounds | vs better node:cluster | p50 ms | p99 ms | server CPU µs/req | errors |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  ];
  for (const c of plain ? [plain, ...cells] : cells) {
    const b = bestSample(c);
    const name = c.corral ? `**${c.label}**` : c.label;
    lines.push(
      `| ${name} | ${int(rps(c))} | ${range(c.samples.map((s) => s.rps))} | ${ratio(rps(c), cluster)} | ${ms(b?.p50Ms ?? Number.NaN)} | ${ms(b?.p99Ms ?? Number.NaN)} | ${ms(median(c.samples.map((s) => s.cpuUsPerRequest)))} | ${[...new Set(c.samples.map((s) => s.errors).filter(Boolean))].join('; ') || 'none'} |`,
    );
  }
  return lines;
}

interface Claim {
  readonly what: string;
  readonly goal: string;
  readonly value: string;
  /** true met, null below the goal but within the floor, false missed, undefined not measured. */
  readonly met: boolean | null | undefined;
}

/**
 * corral against the others in one shape. The claim is the median of the round-by-round
 * ratios (both servers ran in the same round, so machine drift cancels); the rounds show how
 * steady it is.
 */
function shapeClaims(cells: readonly Cell[], w: number, fetch: boolean): Claim[] {
  const series = (id: string) => find(cells, id)?.samples.map((x) => x.rps) ?? [];
  const corral = series('corral');
  const rr = series('cluster-rr');
  const shared = series('cluster-shared');
  const cluster = rr.map((v, i) => Math.max(v, shared[i] ?? 0));
  const out: Claim[] = [];
  const add = (
    what: string,
    goal: string,
    a: number[],
    b: number[],
    bar: number,
    floor: number,
  ) => {
    const rounds = a.map((x, i) => x / (b[i] ?? Number.NaN)).filter(Number.isFinite);
    const v = rounds.length ? median(rounds) : Number.NaN;
    const spread =
      rounds.length > 1 ? ` (rounds: ${rounds.map((x) => x.toFixed(2)).join(', ')})` : '';
    out.push({
      what,
      goal,
      value: Number.isFinite(v) ? `${v.toFixed(3)}×${spread}` : '—',
      met: !Number.isFinite(v) ? undefined : v >= bar ? true : v >= floor ? null : false,
    });
  };
  add(
    `corral / better node:cluster policy, ${w} workers`,
    '≥ 1.00× (floor 0.95×)',
    corral,
    cluster,
    1,
    0.95,
  );
  add(
    `corral / PM2 cluster mode, ${w} instances`,
    '≥ 1.20× (floor 1.05×)',
    corral,
    series('pm2'),
    1.2,
    1.05,
  );
  // Watt has its own install (bench/watt/): its claim is shown when it ran.
  if (find(cells, 'watt')) {
    add(`corral / Platformatic Watt, ${w} workers`, '≥ 1.00×', corral, series('watt'), 1, 1);
  }
  if (fetch) {
    add(
      'fetch-handler hello / listener hello, through corral',
      '≥ 0.95×',
      series('corral-fetch'),
      corral,
      0.95,
      0.95,
    );
  }
  // p99 against the node:cluster policy with more throughput (median of the rounds).
  const p99 = (id: string) => median(find(cells, id)?.samples.map((x) => x.p99Ms) ?? []);
  const better = median(rr) >= median(shared) || !shared.length ? 'cluster-rr' : 'cluster-shared';
  const mine = p99('corral');
  const theirs = p99(better);
  out.push({
    what: `corral p99 / ${better === 'cluster-rr' ? 'node:cluster round-robin' : 'node:cluster shared'} p99 (medians of the rounds)`,
    goal: '≤ 1.00×',
    value:
      Number.isFinite(mine) && Number.isFinite(theirs)
        ? `${ms(mine)} / ${ms(theirs)} ms = ${(mine / theirs).toFixed(2)}×`
        : '—',
    met: !Number.isFinite(mine / theirs) ? undefined : mine <= theirs,
  });
  return out;
}

function claims(r: Results, w: number, plain: Cell | undefined): Claim[] {
  const cells = r.hello.get(w) ?? [];
  const out = shapeClaims(cells, w, true);
  const c = find(cells, 'corral');
  const s = c && bestSample(c);
  const node = plain && bestSample(plain);
  if (s && node) {
    const workers = s.processes.filter((p) => p.role === 'worker').map((p) => p.rssLoaded);
    const master = s.processes.find((p) => p.role === 'master')?.rssLoaded ?? Number.NaN;
    const plainRss = node.processes[0]?.rssLoaded ?? Number.NaN;
    const extra = (median(workers) - plainRss) / 2 ** 20;
    out.push({
      what: 'worker RSS − plain node RSS (after load)',
      goal: '≤ 5 MiB',
      value: `${extra.toFixed(1)} MiB`,
      met: extra <= 5,
    });
    out.push({
      what: 'master RSS (after load)',
      goal: '≤ 50 MiB',
      value: `${mib(master)} MiB`,
      met: master <= 50 * 2 ** 20,
    });
  }
  if (r.startup) {
    const boot = median(r.startup.workerReady) - median(r.startup.bareNode);
    out.push({
      what: 'worker boot (fork → ready) − bare `node -e 0`',
      goal: '≤ 60 ms',
      value: `${Math.round(boot)} ms`,
      met: boot <= 60,
    });
    const help = median(r.startup.helpDist);
    out.push({
      what: '`corral --help` (published build)',
      goal: '< 150 ms',
      value: `${Math.round(help)} ms`,
      met: help < 150,
    });
  }
  return out;
}

function memoryTable(cells: readonly Cell[], plain: Cell | undefined): string[] {
  const lines = [
    '| server | master / primary / daemon | each worker (median) | all processes |',
    '| --- | ---: | ---: | ---: |',
  ];
  for (const c of plain ? [plain, ...cells] : cells) {
    const s = bestSample(c);
    if (!s) continue;
    const head = s.processes.filter((p) => p.role !== 'worker').map((p) => p.rssLoaded);
    const workers = s.processes.filter((p) => p.role === 'worker').map((p) => p.rssLoaded);
    const all = s.processes.reduce((n, p) => n + p.rssLoaded, 0);
    const name = c.corral ? `**${c.label}**` : c.label;
    lines.push(
      `| ${name} | ${head.length ? head.map(mib).join(' + ') : '—'} | ${workers.length ? mib(median(workers)) : '—'} | ${mib(all)} |`,
    );
  }
  return lines;
}

function routesTable(r: Results): string[] {
  const paths = [...r.routes.keys()];
  const ids = r.routes.get(paths[0] ?? '')?.map((c) => c.id) ?? [];
  const lines = [
    `| server | ${paths.map((p) => `\`${p}\` req/s (rounds) | p50 / p99 ms`).join(' | ')} |`,
    `| --- | ${paths.map(() => '---: | ---:').join(' | ')} |`,
  ];
  for (const id of ids) {
    const row = paths.map((p) => find(r.routes.get(p), id) as Cell);
    const label = row[0]?.label ?? id;
    const cols = row.map((c) => {
      const b = bestSample(c);
      return `${int(rps(c))} (${range(c.samples.map((s) => s.rps))}) | ${ms(b?.p50Ms ?? Number.NaN)} / ${ms(b?.p99Ms ?? Number.NaN)}`;
    });
    lines.push(`| ${row[0]?.corral ? `**${label}**` : label} | ${cols.join(' | ')} |`);
  }
  return lines;
}

function startupTable(s: Startup): string[] {
  const row = (what: string, xs: number[]) =>
    xs.length
      ? `| ${what} | ${Math.round(median(xs))} | ${Math.round(least(xs))}–${Math.round(best(xs))} | ${xs.length} |`
      : '';
  return [
    '| what | median ms | min–max | runs |',
    '| --- | ---: | ---: | ---: |',
    row('`node -e 0` (a bare Node start)', s.bareNode),
    row('`corral --help`, published build (`dist/`)', s.helpDist),
    row('`corral --help`, from the repository (`src/*.ts`)', s.helpSrc),
    row('plain node hello world: spawn → first answer', s.nodeFirstAnswer),
    row('corral `-w 1`: spawn → worker ready → first answer', s.corralFirstAnswer),
    row('one corral worker: fork → ready (its log)', s.workerReady),
  ].filter(Boolean);
}

function claimTable(cl: readonly Claim[]): string[] {
  return [
    '',
    '| claim | goal | measured | |',
    '| --- | --- | ---: | --- |',
    ...cl.map(
      (c) =>
        `| ${c.what} | ${c.goal} | ${c.value} | ${c.met === true ? 'met' : c.met === false ? '**missed**' : c.met === null ? 'within the floor' : 'not measured'} |`,
    ),
  ];
}

/** The Markdown section, and the SVG files it links (name → content). */
export function render(
  r: Results,
  svgPrefix: string,
): { markdown: string; svgs: Map<string, string> } {
  const svgs = new Map<string, string>();
  const counts = [...r.hello.keys()];
  const plainOf = (w: number) =>
    find(r.hello.get(w), 'node') ?? find(r.hello.get(counts[0] ?? 0), 'node');
  const md: string[] = [
    `**Machine:** ${machineLine(r.machine)}`,
    '',
    `**Command:** \`${r.command}\` (${r.date}; corral from ${r.corralBuild}). Load: ${r.machine.driver} with ${r.shape.threads} threads and ${r.shape.connections} keep-alive connections, ${r.shape.seconds} s per run after a ${r.shape.warmup ?? 1} s warm-up at the same load; ${r.shape.rounds} round${r.shape.rounds > 1 ? 's' : ''}, every server once per round in a rotating order. "req/s, best" is the best round, "all rounds" the worst–best spread; latencies are the best round's; the claims are medians of the round-by-round ratios. "server CPU µs/req" is the CPU time of all the server's processes (master included) per request, median of the rounds: it moves less than req/s when the machine is shared.`,
  ];
  for (const w of counts) {
    const cells = (r.hello.get(w) ?? []).filter((c) => c.id !== 'node');
    const plain = plainOf(w);
    md.push(
      '',
      `#### Hello world, ${w} worker${w > 1 ? 's' : ''}`,
      '',
      ...helloTable(cells, plain),
    );
    md.push(...claimTable(claims(r, w, plain)));
    const churn = r.churn?.get(w);
    if (churn?.length) {
      const churnPlain = find(churn, 'node');
      md.push(
        '',
        `#### Hello world, ${w} worker${w > 1 ? 's' : ''}, a new connection per request`,
        '',
        `wrk with \`Connection: close\`, ${r.churnConnections} connections at a time: every request opens a connection, as health checks, webhooks and many load balancers do.`,
        '',
        ...helloTable(
          churn.filter((c) => c.id !== 'node'),
          churnPlain,
        ),
        ...claimTable(shapeClaims(churn, w, false)),
      );
    }
    const bars: Bar[] = (plain ? [plain, ...cells] : cells).map((c) => ({
      label: c.label,
      value: rps(c),
      min: least(c.samples.map((s) => s.rps)),
      max: best(c.samples.map((s) => s.rps)),
      corral: c.corral,
    }));
    const name = `${svgPrefix}-hello-w${w}.svg`;
    svgs.set(
      name,
      barChart(
        `Hello world, ${w} workers: requests per second`,
        `${r.machine.cpus} CPUs, ${r.machine.driver} -t${r.shape.threads} -c${r.shape.connections}, best of ${r.shape.rounds} round${r.shape.rounds > 1 ? 's' : ''} (${r.date})`,
        bars,
      ),
    );
    md.push('', `![Hello world, ${w} workers](${name.split('/').pop()})`);
    md.push(
      '',
      `Memory after the load (RSS, MiB; the best round's run):`,
      '',
      ...memoryTable(cells, plain),
    );
  }
  if (counts.length > 1) {
    const ids = (r.hello.get(counts[0] as number) ?? [])
      .map((c) => c.id)
      .filter((id) => id !== 'node');
    md.push(
      '',
      '#### Scaling: req/s (best round) by worker count',
      '',
      `| server | ${counts.join(' | ')} |`,
      `| --- | ${counts.map(() => '---:').join(' | ')} |`,
    );
    const series: Series[] = [];
    for (const id of ids) {
      const cells = counts.map((w) => find(r.hello.get(w), id));
      const label = (cells[0]?.label ?? id).replace(
        /, \d+ (workers|processes|instances)|1 worker × \d+ threads/,
        (m) => (m.includes('threads') ? 'N threads' : ''),
      );
      md.push(`| ${label} | ${cells.map((c) => int(rps(c))).join(' | ')} |`);
      series.push({
        label,
        corral: id.startsWith('corral'),
        points: counts
          .map((w, i) => ({ x: w, y: rps(cells[i]) }))
          .filter((p) => Number.isFinite(p.y)),
      });
    }
    const name = `${svgPrefix}-scaling.svg`;
    svgs.set(
      name,
      lineChart(
        'Hello world: requests per second by worker count',
        `${r.machine.cpus} CPUs, ${r.machine.driver} -t${r.shape.threads} -c${r.shape.connections}, best of ${r.shape.rounds} round${r.shape.rounds > 1 ? 's' : ''} (${r.date})`,
        series,
      ),
    );
    md.push('', `![Scaling](${name.split('/').pop()})`);
  }
  if (r.routes.size) {
    md.push(
      '',
      `#### Realistic routes, ${r.routesWorkers} workers`,
      '',
      '`/json` serialises a ~10 KB object per request; `/wait` answers after awaiting 5 ms (so its ceiling is connections ÷ 5 ms).',
      '',
      ...routesTable(r),
    );
  }
  if (r.startup) md.push('', '#### Start-up', '', ...startupTable(r.startup));
  return { markdown: `${md.join('\n')}\n`, svgs };
}
