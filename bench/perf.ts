// corral against the servers users run instead, side by side in one run with interleaved
// rounds: hello world (listener and fetch handler) under corral's classes and dispatch modes,
// one plain Node process, node:cluster (round-robin and shared), a reusePort socket per
// process, PM2 cluster mode and Platformatic Watt, with keep-alive and with a new connection per request (wrk
// sending `Connection: close`); realistic routes (10 KB of JSON, a 5 ms await); RSS of every
// process; worker boot and CLI start times. Prints Markdown, writes JSON + Markdown to
// docs/measurements/, and with --docs updates docs/benchmarks.md and its SVG charts.
//
//   npm run bench [-- --quick]                    # everything, about 10 min (--quick: ~3)
//   node bench/perf.ts --workers 1,2,4,8,12 --threads 4 --connections 256 --sections hello
//
// Flags: --workers N[,N…] (2), --threads wrk threads (2; 4 above 4 CPUs), --connections (64;
// 256 above 4 CPUs), --duration s (5), --warmup s (3: the same load first, to steady state), --rounds (3), --targets id,… / --skip id,… (ids in
// bench/lib/servers.ts), --sections hello,churn,routes,startup (churn: a new connection per
// request, --churn-connections at a time, 32), --routes-workers (2),
// --driver wrk|autocannon, --corral dist|src|PATH (dist: the published build, built if
// stale and TypeScript is there; PATH: any corral cli.js),
// --port (18440), --docs [--docs-key K: the section <!-- perf:K:begin --> … to replace;
// default NCPUcpu, NCPUcpu-apart when pinned], --server-cpus LIST --load-cpus LIST (taskset
// lists: the servers on some CPUs, wrk on others, e.g. --server-cpus 0,1 --load-cpus 2-5 for
// 2 workers on 2 CPUs of their own), --no-save, --name (perf: the saved files' name), --compare CLI[:name] (another corral build's cli.js,
// e.g. the commit before a change, measured in the same run). Needs wrk (apt-get install wrk) or falls back to
// autocannon; PM2 and autocannon are devDependencies; Watt has its own install in bench/watt/
// (`npm run bench:setup`), and is left out with one line when it is not there. Loopback only; every server it starts
// is stopped before the next one starts.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { corralCommand, throughBin } from './lib/build.ts';
import { pickDriver } from './lib/load.ts';
import { describeMachine } from './lib/machine.ts';
import { measure, timeCommand, timeStart } from './lib/measure.ts';
import { type Cell, type Results, render, type Startup } from './lib/report.ts';
import { corralBuild, here, type Running, TARGETS, type Target } from './lib/servers.ts';
import { int } from './lib/stats.ts';

const big = availableParallelism() > 4;
const { values: opt } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    workers: { type: 'string', default: '2' },
    threads: { type: 'string', default: big ? '4' : '2' },
    connections: { type: 'string', default: big ? '256' : '64' },
    duration: { type: 'string' },
    warmup: { type: 'string' },
    rounds: { type: 'string' },
    targets: { type: 'string' },
    skip: { type: 'string' },
    sections: { type: 'string', default: 'hello,churn,routes,startup' },
    'churn-connections': { type: 'string', default: '32' },
    'routes-workers': { type: 'string', default: '2' },
    driver: { type: 'string' },
    corral: { type: 'string', default: 'dist' },
    port: { type: 'string', default: '18440' },
    docs: { type: 'boolean', default: false },
    'no-save': { type: 'boolean', default: false },
    compare: { type: 'string' },
    name: { type: 'string', default: 'perf' },
    'docs-key': { type: 'string' },
    'server-cpus': { type: 'string' },
    'load-cpus': { type: 'string' },
  },
});
// --server-cpus LIST --load-cpus LIST: the servers (this process and all it starts) on some
// CPUs, wrk on others, so the load generator never takes a server's CPU. This process runs
// itself again under taskset; what it starts inherits the CPUs.
const pin =
  opt['server-cpus'] || opt['load-cpus']
    ? { server: opt['server-cpus'] ?? '', load: opt['load-cpus'] ?? '' }
    : undefined;
if (pin && (!pin.server || !pin.load)) {
  process.stderr.write('--server-cpus and --load-cpus go together (taskset lists: 0,1 or 2-5)\n');
  process.exit(2);
}
if (pin && process.env.CORRAL_BENCH_SERVER_CPUS !== pin.server) {
  const r = spawnSync(
    'taskset',
    ['-c', pin.server, process.execPath, ...process.execArgv, ...process.argv.slice(1)],
    { stdio: 'inherit', env: { ...process.env, CORRAL_BENCH_SERVER_CPUS: pin.server } },
  );
  if (r.error) process.stderr.write(`taskset: ${r.error.message}\n`);
  process.exit(r.status ?? 1);
}
const seconds = Number(opt.duration ?? (opt.quick ? 2 : 5));
const rounds = Number(opt.rounds ?? (opt.quick ? 1 : 3));
// Every server gets the same load for this long before each measured run: steady state is
// what the claims are about (bench/lib/measure.ts says why 3 s).
const warmup = Number(opt.warmup ?? (opt.quick ? 1 : 3));
const shape = {
  seconds,
  warmup,
  connections: Number(opt.connections),
  threads: Number(opt.threads),
  ...(pin ? { cpus: pin.load } : {}),
};
const counts = (opt.workers ?? '2').split(',').map(Number);
const sections = new Set((opt.sections ?? '').split(','));
const port = Number(opt.port);
const pick = (ids?: string) => (ids ? new Set(ids.split(',')) : null);
const only = pick(opt.targets);
const skip = pick(opt.skip) ?? new Set<string>();
// --compare CLI[:name]: another corral build (say the commit before a change) in the same run.
const [compareCli, compareName = 'before'] = (opt.compare ?? '').split(':');
const targets = [...TARGETS, ...(compareCli ? corralBuild(compareCli, compareName) : [])].filter(
  (t) => (!only || only.has(t.id)) && !skip.has(t.id),
);
/** Served with a new connection per request too: the baselines and corral's modes. */
const CHURN_TARGETS = new Set([
  'node',
  'cluster-rr',
  'cluster-shared',
  'pm2',
  'watt',
  'corral',
  'corral-fetch',
  'corral-least-conn',
  'reuseport',
  compareName,
]);
const churnShape = { ...shape, connections: Number(opt['churn-connections']), close: true };
/** What the realistic routes are served by: the baselines users compare with, and corral. */
const ROUTE_TARGETS = new Set([
  'node',
  'cluster-rr',
  'pm2',
  'watt',
  'corral',
  'corral-fetch',
  compareName,
  `${compareName}-fetch`,
]);
const ROUTE_PATHS = ['/json', '/wait'];
const driver = pickDriver(opt.driver, here('../node_modules/autocannon/autocannon.js'));
const app = (t: Target, name: string) => here(`apps/${t.fetch ? `${name}-fetch` : name}.mjs`);

// Through the package's bin, as `npx corral` runs it: the bin sets the master's V8 flags and
// Node's compile cache (bench/lib/build.ts).
const corral = throughBin(corralCommand(opt.corral as string));

/** Rotate the order each round, so no server always runs first or last. */
const rotate = <T>(xs: readonly T[], by: number): T[] =>
  xs.map((_, i) => xs[(i + by) % xs.length] as T);

function cellFor(map: Map<string, Cell>, t: Target, w: number): Cell {
  const key = `${t.id}@${w}`;
  let c = map.get(key);
  if (!c) {
    c = { id: t.id, label: t.label(w), corral: t.kind === 'corral', workers: w, samples: [] };
    map.set(key, c);
  }
  return c;
}

const runsPerRound =
  (sections.has('hello')
    ? counts.length * targets.filter((t) => !t.single).length +
      (targets.some((t) => t.single) ? 1 : 0)
    : 0) +
  (sections.has('churn')
    ? counts.length * targets.filter((t) => CHURN_TARGETS.has(t.id) && !t.single).length +
      (targets.some((t) => t.single && CHURN_TARGETS.has(t.id)) ? 1 : 0)
    : 0) +
  (sections.has('routes') ? 2 * targets.filter((t) => ROUTE_TARGETS.has(t.id)).length : 0);
process.stderr.write(
  `${targets.length} servers, ${counts.join('/')} workers, ${rounds} round(s) of ${runsPerRound} runs × ~${seconds + warmup + 2} s ≈ ${Math.ceil((rounds * runsPerRound * (seconds + warmup + 2)) / 60)} min, plus start-up timings; load from ${driver.name}\n`,
);

const machine = describeMachine(driver.name, pin);
// Ctrl+C or SIGTERM: stop the server under test (and a PM2 daemon) before leaving.
const live = new Set<Running>();
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, async () => {
    await Promise.all([...live].map((r) => r.stop()));
    process.exit(130);
  });
}
/** Servers that could not run (PM2 not installed, say): said once, then left out. */
const failed = new Set<string>();
async function attempt<T>(t: Target, fn: () => Promise<T>): Promise<T | null> {
  if (failed.has(t.id)) return null;
  try {
    return await fn();
  } catch (err) {
    failed.add(t.id);
    process.stderr.write(
      `${t.id}: left out of this run: ${(err as Error).message.split('\n')[0]}\n`,
    );
    return null;
  }
}
const hello = new Map<string, Cell>();
const churn = new Map<string, Cell>();
const routes = new Map(ROUTE_PATHS.map((p) => [p, new Map<string, Cell>()]));
const routesW = Number(opt['routes-workers']);
for (let round = 0; round < rounds; round++) {
  if (sections.has('hello')) {
    for (const w of counts) {
      for (const t of rotate(targets, round)) {
        if (t.single && w !== counts[0]) continue;
        const s = await attempt(t, () =>
          measure(
            t,
            { port, workers: w, app: app(t, 'hello'), corral: corral.args, live },
            driver,
            {
              ...shape,
              path: '/',
            },
          ),
        );
        if (!s) continue;
        cellFor(hello, t, w).samples.push(s);
        process.stderr.write(
          `round ${round + 1}, ${t.label(w)}: ${int(s.rps)} req/s, p99 ${s.p99Ms} ms, ${s.cpuUsPerRequest.toFixed(1)} µs CPU/req${s.errors ? `, ${s.errors}` : ''}\n`,
        );
      }
    }
  }
  if (sections.has('churn')) {
    for (const w of counts) {
      for (const t of rotate(
        targets.filter((x) => CHURN_TARGETS.has(x.id)),
        round,
      )) {
        if (t.single && w !== counts[0]) continue;
        const s = await attempt(t, () =>
          measure(
            t,
            { port, workers: w, app: app(t, 'hello'), corral: corral.args, live },
            driver,
            { ...churnShape, path: '/' },
          ),
        );
        if (!s) continue;
        cellFor(churn, t, w).samples.push(s);
        process.stderr.write(
          `round ${round + 1}, ${t.label(w)}, new connection per request: ${int(s.rps)} req/s, p99 ${s.p99Ms} ms, ${s.cpuUsPerRequest.toFixed(1)} µs CPU/req${s.errors ? `, ${s.errors}` : ''}\n`,
        );
      }
    }
  }
  if (sections.has('routes')) {
    for (const t of rotate(
      targets.filter((x) => ROUTE_TARGETS.has(x.id)),
      round,
    )) {
      for (const path of ROUTE_PATHS) {
        const s = await attempt(t, () =>
          measure(
            t,
            { port, workers: routesW, app: app(t, 'routes'), corral: corral.args, live },
            driver,
            {
              ...shape,
              path,
            },
          ),
        );
        if (!s) continue;
        cellFor(routes.get(path) as Map<string, Cell>, t, routesW).samples.push(s);
        process.stderr.write(
          `round ${round + 1}, ${t.label(routesW)} ${path}: ${int(s.rps)} req/s, p99 ${s.p99Ms} ms\n`,
        );
      }
    }
  }
}

async function startup(): Promise<Startup> {
  const n = opt.quick ? 3 : 10;
  const out: Startup = {
    bareNode: [],
    helpDist: [],
    helpSrc: [],
    nodeFirstAnswer: [],
    corralFirstAnswer: [],
    workerReady: [],
  };
  const base = {
    port,
    workers: 1,
    app: here('apps/hello.mjs'),
    corral: corral.args,
    live,
    settle: false,
  };
  const node = TARGETS.find((t) => t.id === 'node') as Target;
  const c = TARGETS.find((t) => t.id === 'corral') as Target;
  // One unmeasured run of each fills Node's compile cache, as any second start would find it.
  await timeCommand([here('../bin/corral.js'), '--help']);
  if (corral.args[0] !== here('../bin/corral.js')) await timeCommand([...corral.args, '--help']);
  await timeStart(c, base);
  for (let i = 0; i < n; i++) {
    out.bareNode.push(await timeCommand(['-e', '0']));
    if (corral.args[0] !== here('../bin/corral.js'))
      out.helpDist.push(await timeCommand([...corral.args, '--help']));
    out.helpSrc.push(await timeCommand([here('../bin/corral.js'), '--help']));
    out.nodeFirstAnswer.push((await timeStart(node, base)).toFirstAnswer);
    const s = await timeStart(c, base);
    out.corralFirstAnswer.push(s.toFirstAnswer);
    out.workerReady.push(...s.workerReady);
  }
  return out;
}

const started = sections.has('startup') ? await startup() : null;
machine.loadAfter = loadavg().map((x) => Math.round(x * 100) / 100);

const byWorkers = new Map<number, Cell[]>();
for (const w of counts) {
  const cells = targets
    .map((t) => hello.get(`${t.id}@${w}`) ?? hello.get(`${t.id}@${counts[0]}`))
    .filter((c): c is Cell => !!c);
  if (cells.length) byWorkers.set(w, cells);
}
const churnByWorkers = new Map<number, Cell[]>();
for (const w of counts) {
  const cells = targets
    .map((t) => churn.get(`${t.id}@${w}`) ?? churn.get(`${t.id}@${counts[0]}`))
    .filter((c): c is Cell => !!c);
  if (cells.length) churnByWorkers.set(w, cells);
}
const byPath = new Map<string, Cell[]>();
for (const path of ROUTE_PATHS) {
  const cells = targets
    .map((t) => routes.get(path)?.get(`${t.id}@${routesW}`))
    .filter((c): c is Cell => !!c);
  if (cells.length) byPath.set(path, cells);
}
const date = new Date().toISOString().slice(0, 10);
const results: Results = {
  machine,
  command: `node bench/perf.ts ${process.argv.slice(2).join(' ')}`.trim(),
  date,
  corralBuild: corral.build,
  shape: { ...shape, rounds },
  churnConnections: churnShape.connections,
  hello: byWorkers,
  churn: churnByWorkers,
  routes: byPath,
  routesWorkers: routesW,
  startup: started,
};
// A pinned run is its own section: its figures are not comparable with an unpinned run's.
const size = `${machine.cpus}cpu${pin ? '-apart' : ''}`;
const tag = `${date}-${opt.name}-${size}`;
const { markdown, svgs } = render(results, `docs/perf-${opt['docs-key'] ?? size}`);
process.stdout.write(`\n${markdown}`);

if (!opt['no-save']) {
  const dir = here('../docs/measurements');
  mkdirSync(dir, { recursive: true });
  const json = JSON.stringify(
    {
      ...results,
      hello: Object.fromEntries(byWorkers),
      churn: Object.fromEntries(churnByWorkers),
      routes: Object.fromEntries(byPath),
    },
    null,
    1,
  );
  writeFileSync(join(dir, `${tag}.json`), `${json}\n`);
  // The charts sit in docs/, one level up from the measurements.
  writeFileSync(join(dir, `${tag}.md`), markdown.replaceAll('](perf-', '](../perf-'));
  process.stderr.write(`wrote docs/measurements/${tag}.{json,md}\n`);
}
if (opt.docs) {
  for (const [name, svg] of svgs) writeFileSync(here(`../${name}`), svg);
  // The section between the markers for this machine size is replaced; the rest is kept.
  const file = here('../docs/benchmarks.md');
  const key = opt['docs-key'] ?? size;
  const begin = `<!-- perf:${key}:begin -->`;
  const end = `<!-- perf:${key}:end -->`;
  const doc = readFileSync(file, 'utf8');
  const a = doc.indexOf(begin);
  const b = doc.indexOf(end);
  const body = `${begin}\n\n${markdown}\n${end}`;
  writeFileSync(
    file,
    a >= 0 && b > a
      ? doc.slice(0, a) + body + doc.slice(b + end.length)
      : `${doc.trimEnd()}\n\n${body}\n`,
  );
  process.stderr.write(
    `updated docs/benchmarks.md (${begin}) and ${[...svgs.keys()].join(', ')}\n`,
  );
}
