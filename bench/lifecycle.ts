// Lifecycle costs, measured: worker boot time (cold and warm compile cache, with and without
// --preload), time to roll N workers on HUP, and throughput during continuous rolling
// reloads against steady state.
//
//   node bench/lifecycle.ts [--workers 2,4,8] [--duration 5] [--runs 5]
//
// Needs wrk for the throughput part (apt-get install wrk). Loopback only.
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';

const { values: opt } = parseArgs({
  options: {
    workers: { type: 'string', default: '2,4,8' },
    duration: { type: 'string', default: '5' },
    runs: { type: 'string', default: '5' },
    port: { type: 'string', default: '18432' },
  },
});
const BIN = new URL('../bin/corral.js', import.meta.url).pathname;
const APP = new URL('apps/hello.mjs', import.meta.url).pathname;
const PORT = Number(opt.port);
const execFileAsync = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Run {
  proc: ChildProcess;
  out: () => string;
  waitFor: (re: RegExp, count?: number) => Promise<number>;
}

function start(args: string[], env: Record<string, string> = {}): Run {
  const t0 = performance.now();
  const proc = spawn(process.execPath, [BIN, APP, '-b', `127.0.0.1:${PORT}`, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let out = '';
  proc.stderr?.on('data', (d) => (out += d));
  const waitFor = async (re: RegExp, count = 1) => {
    for (let i = 0; i < 600; i++) {
      if ((out.match(new RegExp(re, 'g')) ?? []).length >= count) return performance.now() - t0;
      await sleep(5);
    }
    throw new Error(`timed out waiting for ${re}:\n${out}`);
  };
  return { proc, out: () => out, waitFor };
}

async function stop(r: Run): Promise<void> {
  r.proc.kill('SIGTERM');
  await new Promise((done) => r.proc.once('exit', done));
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const fmt = (xs: number[]) =>
  `${Math.round(median(xs))} ms (min ${Math.round(Math.min(...xs))}, max ${Math.round(Math.max(...xs))})`;

/** Start to "ready: N workers", and each worker's fork-to-ready time. */
async function bootTimes(workers: number, extra: string[], cacheDir: string | null) {
  const total: number[] = [];
  const perWorker: number[] = [];
  for (let i = 0; i < Number(opt.runs); i++) {
    const env = { NODE_COMPILE_CACHE: cacheDir ?? mkdtempSync(join(tmpdir(), 'corral-cc-')) };
    const r = start(['-w', String(workers), ...extra], env);
    total.push(await r.waitFor(/\] ready: /));
    for (const m of r.out().matchAll(/ready in (\d+) ms/g)) perWorker.push(Number(m[1]));
    await stop(r);
  }
  return { total, perWorker };
}

/** HUP: time from the signal until every old worker has exited. */
async function rollTime(workers: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < Number(opt.runs); i++) {
    const r = start(['-w', String(workers), '--log-level', 'info']);
    await r.waitFor(/\] ready: /);
    const t0 = performance.now();
    r.proc.kill('SIGHUP');
    const before = r.out().length;
    for (;;) {
      const exits = (
        r
          .out()
          .slice(before)
          .match(/exited \(code 0\)/g) ?? []
      ).length;
      if (exits >= workers) break;
      await sleep(5);
    }
    times.push(performance.now() - t0);
    await stop(r);
  }
  return times;
}

/** wrk in the background (the HUP timer must keep running while it loads). */
async function wrk(seconds: number): Promise<{ rps: number; errors: string }> {
  const args = ['-t2', '-c64', `-d${seconds}s`, `http://127.0.0.1:${PORT}/`];
  const { stdout: out } = await execFileAsync('wrk', args, { encoding: 'utf8' });
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 0);
  const errors = (out.match(/(Socket errors:.*|Non-2xx.*)/g) ?? []).join('; ') || 'none';
  return { rps, errors };
}

/** Steady throughput, then the same with a HUP every second (workers always rolling). */
async function reloadThroughput(workers: number) {
  const r = start(['-w', String(workers), '--log-level', 'warning']);
  await sleep(1500);
  await wrk(1);
  const steady = await wrk(Number(opt.duration));
  let hups = 0;
  const timer = setInterval(() => {
    r.proc.kill('SIGHUP');
    hups++;
  }, 1000);
  const rolling = await wrk(Number(opt.duration));
  clearInterval(timer);
  await stop(r);
  return { steady, rolling, hups };
}

const counts = (opt.workers ?? '2').split(',').map(Number);
const cpus = execFileSync('nproc', { encoding: 'utf8' }).trim();
console.log(
  `## Lifecycle (${new Date().toISOString().slice(0, 10)}, ${cpus} CPUs, Node ${process.version}, ${opt.runs} runs each)\n`,
);
console.log(
  '| workers | start → all ready, cold cache | warm cache | warm + --preload | one worker fork → ready (warm) | HUP: roll all workers |',
);
console.log('|---:|---|---|---|---|---|');
for (const w of counts) {
  const cold = await bootTimes(w, [], null);
  const cache = mkdtempSync(join(tmpdir(), 'corral-cc-'));
  await bootTimes(w, [], cache); // fill it
  const warm = await bootTimes(w, [], cache);
  const preload = await bootTimes(w, ['--preload'], cache);
  const roll = await rollTime(w);
  console.log(
    `| ${w} | ${fmt(cold.total)} | ${fmt(warm.total)} | ${fmt(preload.total)} | ${fmt(warm.perWorker)} | ${fmt(roll)} |`,
  );
}
console.log(
  '\n| workers | steady req/s | req/s with a HUP every second | ratio | errors while rolling |',
);
console.log('|---:|---:|---:|---:|---|');
for (const w of counts) {
  const { steady, rolling, hups } = await reloadThroughput(w);
  console.log(
    `| ${w} | ${Math.round(steady.rps)} | ${Math.round(rolling.rps)} (${hups} HUPs) | ${(rolling.rps / steady.rps).toFixed(2)} | ${rolling.errors} |`,
  );
}
