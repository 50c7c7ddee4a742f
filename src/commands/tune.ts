/**
 * `corral tune APP`: measure the app under candidate configurations and recommend one. This
 * file wires the command line to the search (src/tune/search.ts) and writes the outputs; the
 * measuring, the rule and the rendering live in src/tune/.
 */
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { RawValue } from '../config/argv.ts';
import type { Resolved } from '../config/resolve.ts';
import { type SettingName, WORKER_CLASSES, type WorkerClass } from '../config/settings.ts';
import { CorralError, UsageError } from '../errors.ts';
import { existsSync, writeFileSync } from '../fs.ts';
import { readResources, realHost } from '../sizing/resources.ts';
import { wholeCpus } from '../sizing/strategies.ts';
import { configFile } from '../tune/config-file.ts';
import { requestsFor } from '../tune/drive.ts';
import { summaryText } from '../tune/format.ts';
import { reportHtml } from '../tune/html.ts';
import { parseTuneFlags, type RawTuneFlags, type TuneOptions } from '../tune/options.ts';
import type { SearchSpace } from '../tune/plan.ts';
import { Progress } from '../tune/progress.ts';
import { recommend, verdict } from '../tune/recommend.ts';
import type { TuneSummary } from '../tune/results.ts';
import { search } from '../tune/search.ts';
import { warnings } from '../tune/warnings.ts';
import { checkAppFile } from './serve.ts';

/** Settings tune decides (or must own) for each candidate: not passed on from its command line. */
const OWNED: ReadonlySet<SettingName> = new Set<SettingName>([
  'workers',
  'workerClass',
  'threads',
  'single',
  'bind',
  'logLevel',
  'logFormat',
  'errorLogfile',
  'pid',
  'controlSocket',
  'metricsBind',
]);

/**
 * The user's other settings (-e, --node-args, --preload, -c, …) go to every candidate as
 * given; the config file and environment are read by each candidate itself. Settings that
 * would collide with a server already running (pid file, control socket, metrics port) are
 * moved out of the way wherever they came from.
 */
export function passthrough(values: readonly RawValue[], r: Resolved, scratch: string): string[] {
  const args: string[] = [];
  for (const v of values) {
    if (OWNED.has(v.name)) continue;
    if (typeof v.raw === 'boolean') args.push(v.flag);
    else args.push(v.flag, String(v.raw));
  }
  if (r.config.pid) args.push('--pid', `${scratch}.pid`);
  if (r.config.controlSocket) args.push('--control-socket', `${scratch}.sock`);
  if (r.config.metricsBind) args.push('--metrics-bind', '127.0.0.1:0');
  return args;
}

/** What the command line narrows: `-k sync` tunes only sync, `-w 4` only 4 processes. */
export function searchSpace(r: Resolved, cpus: number, memoryLimit: number | null): SearchSpace {
  const cli = (name: SettingName) => r.sources[name].kind === 'cli';
  const { config } = r;
  if (cli('workers') && config.workers === 0) {
    throw new UsageError(
      'corral: tune measures workers: -w 0 (single process) has nothing to tune',
    );
  }
  let classes: readonly WorkerClass[] = WORKER_CLASSES;
  if (cli('workerClass')) classes = [config.workerClass];
  else if (cli('threads') && config.threads > 1) classes = ['thread'];
  return {
    cpus,
    classes,
    fixedWorkers: cli('workers') && typeof config.workers === 'number' ? config.workers : null,
    fixedThreads: cli('threads') ? config.threads : null,
    minWorkers: config.minWorkers,
    maxWorkers: config.maxWorkers,
    memoryLimit,
  };
}

/**
 * The load generator is an optional peer dependency: `npm install corral` stays small, and
 * only those who tune install it. Resolved from corral's own location, as loadgen.ts will.
 */
export const LOAD_GENERATOR_MISSING =
  'corral tune: the load generator autocannon is not installed; add it with: npm install --save-dev autocannon';

function checkLoadGenerator(): void {
  try {
    createRequire(import.meta.url).resolve('autocannon');
  } catch {
    throw new UsageError(LOAD_GENERATOR_MISSING);
  }
}

/** Fail before measuring, not minutes later, when an output cannot be written. */
function checkOutputs(o: TuneOptions): void {
  if (o.writeConfig && existsSync(o.writeConfig)) {
    throw new UsageError(
      `corral: --write-config ${o.writeConfig} exists; tune does not overwrite a config file`,
    );
  }
  for (const f of [o.report, o.writeConfig]) {
    if (f && !existsSync(dirname(resolve(f)))) {
      throw new UsageError(`corral: cannot write ${f}: no directory ${dirname(resolve(f))}`);
    }
  }
}

/** `--json`: the summary with each candidate's verdict, and the recommendation flattened. */
export function jsonReport(s: TuneSummary): unknown {
  const rec = s.recommended;
  return {
    ...s,
    recommended: rec ? { ...rec.candidate, withinBudget: rec.withinBudget, why: rec.why } : null,
  };
}

export async function tune(
  r: Resolved,
  cl: { values: readonly RawValue[]; tune: RawTuneFlags; json: boolean },
): Promise<number> {
  const o = parseTuneFlags(cl.tune);
  const app = checkAppFile(r);
  checkOutputs(o);
  checkLoadGenerator();
  const requests = requestsFor(o.urls, o.requestsFile);
  const host = realHost();
  const res = readResources(host);
  const cpus = wholeCpus(res.cpus.value);
  // The machine's own budget as memory sizing computes it, lowered by --max-memory.
  const machineBudget = res.memory.value - host.rss() - r.config.memoryReserve;
  const memoryLimit = Math.min(machineBudget, o.maxMemory ?? Number.POSITIVE_INFINITY);
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const progress = new Progress(process.stderr, o.timeLimit);
  const started = performance.now();
  const budget = { maxP99: o.maxP99, maxMemory: o.maxMemory };
  let found: Awaited<ReturnType<typeof search>>;
  try {
    found = await search(
      {
        space: searchSpace(r, cpus, memoryLimit),
        boot: {
          app,
          args: passthrough(cl.values, r, join(tmpdir(), `corral-tune-${process.pid}`)),
          dispatch: r.config.dispatch,
          cwd: process.cwd(),
          env: process.env,
          signal: controller.signal,
        },
        requests,
        connections: o.connections,
        warmup: o.warmup,
        runs: o.runs,
        duration: o.duration,
        maxCandidates: o.maxCandidates,
        finals: o.finals,
        eligible: (m) => verdict(m, budget).eligible,
        timeLimit: o.timeLimit,
      },
      progress,
    );
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
  if (controller.signal.aborted) throw new CorralError('corral tune: interrupted', 130);
  const candidates = found.results.map((m) => ({ ...m, verdict: verdict(m, budget) }));
  const summary: TuneSummary = {
    app,
    date: new Date().toISOString().slice(0, 16).replace('T', ' '),
    machine: {
      cpus,
      cpuSource: res.cpus.source,
      memoryBytes: res.memory.value,
      memorySource: res.memory.source,
      node: process.version,
      platform: `${process.platform} ${process.arch}`,
    },
    load: {
      requests: requests.map((q) => `${q.method} ${q.path}`),
      connections: o.connections,
      duration: o.duration,
      warmup: o.warmup,
      runs: o.runs,
    },
    budget,
    candidates,
    recommended: recommend(candidates),
    skipped: found.skipped,
    warnings: warnings(found.results, cpus),
    elapsedSeconds: (performance.now() - started) / 1000,
  };
  process.stdout.write(
    cl.json ? `${JSON.stringify(jsonReport(summary), null, 2)}\n` : `${summaryText(summary)}\n`,
  );
  if (o.report) {
    writeFileSync(o.report, reportHtml(summary));
    progress.note(`report: ${o.report}`);
  }
  const file = o.writeConfig ? configFile(summary) : null;
  if (o.writeConfig && file) {
    writeFileSync(o.writeConfig, file, { flag: 'wx' });
    progress.note(`config: ${o.writeConfig}`);
  }
  return summary.recommended ? 0 : 1;
}
