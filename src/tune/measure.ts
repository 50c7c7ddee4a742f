/**
 * Measure one candidate: boot it, warm it up, run the load generator `runs` times while
 * reading the server's CPU and memory from /proc, stop it. A warm-up comes first because a
 * fresh worker is slower than it will be (V8 compiles hot code after the first thousands of
 * calls; heaps and connection pools grow to size), and several runs because one run on a
 * shared machine can be off by tens of percent: the median is reported with the spread.
 */
import { CorralError, EXIT } from '../errors.ts';
import { type Booted, BootFailure, type BootSpec, boot } from './boot.ts';
import { type LoadResult, type RequestSpec, startLoadgen } from './drive.ts';
import { childrenOf, machineCpuSeconds, sampleTree, treeCpuSeconds } from './procfs.ts';
import { type Measured, median, type Run, type Shape } from './results.ts';

export interface MeasureSpec {
  readonly boot: Omit<BootSpec, 'shape'>;
  readonly shape: Shape;
  readonly why: string;
  readonly connections: number;
  readonly requests: readonly RequestSpec[];
  readonly warmup: number;
  readonly runs: number;
  readonly duration: number;
}

/** Memory is sampled this often during a run; the peak is what a memory limit must hold. */
const SAMPLE_MS = 500;

type Phase = (what: string) => void;

function failed(spec: MeasureSpec, error: string, bootSeconds = 0): Measured {
  return {
    ...spec.shape,
    why: spec.why,
    status: 'failed',
    error,
    rps: 0,
    p50: 0,
    p99: 0,
    errors: 0,
    requests: 0,
    rssBytes: null,
    workerRssBytes: null,
    cpu: null,
    loadgenCpu: 0,
    otherCpu: null,
    spread: { rps: [0, 0], p99: [0, 0] },
    runs: [],
    bootSeconds,
  };
}

export interface Peak {
  total: number;
  perWorker: number;
}

/** One run, with the server's and the machine's CPU over exactly that run. */
export async function measuredRun(
  server: Booted,
  run: (seconds: number) => Promise<LoadResult>,
  seconds: number,
  peak: Peak | null,
): Promise<Run> {
  const workers = childrenOf(server.pid);
  const sample = () => {
    const s = sampleTree(server.pid, workers);
    if (s && peak && s.totalRss > peak.total) {
      peak.total = s.totalRss;
      peak.perWorker = s.childRss;
    }
  };
  const timer = setInterval(sample, SAMPLE_MS);
  const cpu0 = treeCpuSeconds(server.pid, workers);
  const machine0 = machineCpuSeconds();
  const t0 = performance.now();
  try {
    const r = await run(seconds);
    const wall = (performance.now() - t0) / 1000;
    sample();
    const cpu1 = treeCpuSeconds(server.pid, workers);
    const machine1 = machineCpuSeconds();
    return {
      rps: r.rps,
      p50: r.p50,
      p99: r.p99,
      requests: r.requests,
      errors: r.errors,
      cpu: cpu0 === null || cpu1 === null ? null : (cpu1 - cpu0) / wall,
      loadgenCpu: r.cpu,
      machineCpu: machine0 === null || machine1 === null ? null : (machine1 - machine0) / wall,
    };
  } finally {
    clearInterval(timer);
  }
}

export function summarise(
  what: Pick<MeasureSpec, 'shape' | 'why'>,
  runs: Run[],
  peak: Peak | null,
  bootSeconds: number,
): Measured {
  const rps = runs.map((r) => r.rps);
  const p99 = runs.map((r) => r.p99);
  const cpus = runs.map((r) => r.cpu).filter((c): c is number => c !== null);
  const others = runs
    .map((r) =>
      r.machineCpu === null || r.cpu === null ? null : r.machineCpu - r.cpu - r.loadgenCpu,
    )
    .filter((c): c is number => c !== null);
  return {
    ...what.shape,
    why: what.why,
    status: 'ok',
    rps: median(rps),
    p50: median(runs.map((r) => r.p50)),
    p99: median(p99),
    errors: runs.reduce((a, r) => a + r.errors, 0),
    requests: runs.reduce((a, r) => a + r.requests, 0),
    rssBytes: peak ? peak.total : null,
    workerRssBytes: peak ? peak.perWorker : null,
    cpu: cpus.length ? median(cpus) : null,
    loadgenCpu: Math.max(...runs.map((r) => r.loadgenCpu)),
    otherCpu: others.length ? Math.max(0, ...others) : null,
    spread: {
      rps: [Math.min(...rps), Math.max(...rps)],
      p99: [Math.min(...p99), Math.max(...p99)],
    },
    runs,
    bootSeconds,
  };
}

/**
 * Measure `spec`. A candidate that cannot boot is reported as failed; an app that cannot load
 * (or settings corral refuses) stops the whole tune: no other candidate would do better.
 */
export async function measureCandidate(spec: MeasureSpec, phase: Phase): Promise<Measured> {
  phase('booting');
  let server: Booted;
  try {
    server = await boot({ ...spec.boot, shape: spec.shape });
  } catch (err) {
    if (!(err instanceof BootFailure)) throw err;
    if (err.code === EXIT.APP_LOAD || err.code === EXIT.USAGE)
      throw new CorralError(`corral tune: ${err.message}`, err.code);
    return failed(spec, err.message);
  }
  const loadgen = startLoadgen(
    { url: server.url, connections: spec.connections, requests: spec.requests },
    spec.boot.signal,
  );
  try {
    if (spec.warmup > 0) {
      phase(`warm-up ${spec.warmup} s`);
      await loadgen.run(spec.warmup);
    }
    const peak: Peak = { total: 0, perWorker: 0 };
    const runs: Run[] = [];
    for (let i = 1; i <= spec.runs; i++) {
      phase(`run ${i}/${spec.runs}`);
      runs.push(await measuredRun(server, (s) => loadgen.run(s), spec.duration, peak));
    }
    return summarise(spec, runs, peak.total > 0 ? peak : null, server.bootSeconds);
  } catch (err) {
    return failed(spec, (err as Error).message, server.bootSeconds);
  } finally {
    loadgen.close();
    phase('stopping');
    await server.stop();
  }
}
