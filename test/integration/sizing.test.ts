// Worker sizing end to end: env/CLI precedence, clamps, --explain, the startup log, and (where
// the machine allows) a real cgroup v1 with a 1-CPU quota and a 256 MiB memory limit.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { BIN, cleanEnv, FIXTURES, get, ROOT, runCorral, startCorral } from '../helpers/corral.ts';

const MiB = 2 ** 20;
const app = `${FIXTURES}listener.mjs`;

async function configJson(args: string[], env: Record<string, string> = {}) {
  const r = await runCorral(['config', '--json', ...args], { env });
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

test('WEB_CONCURRENCY=5 gives 5; the command line beats it; --max-workers clamps', async () => {
  const env = await configJson([], { WEB_CONCURRENCY: '5' });
  assert.equal(env.workers, 5);
  assert.deepEqual(env.settings.workers, { value: 5, source: 'env', origin: 'WEB_CONCURRENCY' });
  assert.equal(env.sizing.strategy, 'fixed');
  assert.equal((await configJson(['-w', '2'], { WEB_CONCURRENCY: '5' })).workers, 2);
  const strategy = await configJson(['-w', 'io'], { WEB_CONCURRENCY: '5' });
  assert.equal(strategy.sizing.strategy, 'io', 'a strategy on the CLI beats a number in env');
  const capped = await configJson(['-w', 'io', '--max-workers', '2']);
  assert.equal(capped.workers, 2, 'io is at least 3, capped at 2');
  assert.equal(capped.sizing.clamp.by, 'max');
  assert.match(capped.workersWhy, /^io: 2×.*\+1 = \d+; CPUs .*; capped at --max-workers 2$/);
  const envStrategy = await configJson([], { CORRAL_WORKERS: 'conservative' });
  assert.equal(envStrategy.sizing.strategy, 'conservative');
  assert.ok(envStrategy.workers >= 2);
});

test('config --json carries the derivation as data; -w memory measures the app', async () => {
  const auto = await configJson([app]);
  assert.equal(auto.sizing.requested, 'auto');
  assert.equal(typeof auto.sizing.cpus.value, 'number');
  assert.ok(auto.sizing.cpus.candidates.length >= 1);
  assert.equal(typeof auto.sizing.memory.limit.value, 'number');
  const mem = await configJson([app, '-w', 'memory']);
  assert.equal(mem.sizing.strategy, 'memory');
  assert.equal(mem.sizing.memory.measured, true);
  assert.ok(mem.sizing.memory.perWorkerRssBytes > 10 * MiB);
  assert.match(mem.sizing.memory.measuredWhat, /listener\.mjs, a \(req, res\) listener/);
  assert.ok(mem.workers >= 1);
});

test('-w memory with an app that cannot load fails like serve would: exit 4, its error', async () => {
  const r = await runCorral(['config', `${FIXTURES}boot-fail.mjs`, '-w', 'memory']);
  assert.equal(r.code, 4, r.stderr);
  assert.match(r.stderr, /boot-fail\.mjs failed to load/);
});

test('config --explain: every setting with its source, the workers line, profiles', async () => {
  const r = await runCorral(['config', app, '--explain', '--profile', 'production']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^maxRequests\s+1000\s+profile production$/m);
  assert.match(r.stdout, /^workers\s+"auto"\s+profile production$/m);
  assert.match(r.stdout, /^workers = \d+ {2}\(auto → cpu .*; CPUs [\d.]+ from .*\)$/m);
  assert.match(r.stdout, /^CPUs \(the smallest wins\):$/m);
  assert.match(r.stdout, /^ {2}\* /m);
  assert.match(r.stdout, /^ {2}production {2}← active$/m);
  for (const p of ['development', 'high-availability', 'memory-constrained', 'high-concurrency']) {
    assert.match(r.stdout, new RegExp(`^ {2}${p}$`, 'm'));
  }
});

test('serve starts the count config reports, and logs the derivation', async () => {
  const args = [app, '-w', 'io', '--max-workers', '2', '-b', '127.0.0.1:0'];
  const reported = await configJson(args);
  const server = await startCorral(args);
  try {
    const line = server.output().match(/Workers: (\d+) \((.*)\); class async/);
    assert.ok(line, server.output());
    assert.equal(Number(line[1]), reported.workers);
    assert.equal(line[2], reported.workersWhy);
    assert.match(server.output(), new RegExp(`ready: ${reported.workers} worker\\(s\\)`));
  } finally {
    assert.equal(await server.stop(), 0);
  }
});

/** This process's cgroup path in a v1 hierarchy, from /proc/self/cgroup. */
function ownV1Path(controller: string): string | null {
  for (const line of readFileSync('/proc/self/cgroup', 'utf8').split('\n')) {
    const [, list, path] = line.split(':');
    if (list?.split(',').includes(controller)) return path ?? null;
  }
  return null;
}

/** Why a real cgroup cannot be made here, or null when it can. */
function cgroupV1Unavailable(): string | null {
  if (process.platform !== 'linux') return 'not Linux';
  if (process.getuid?.() !== 0) return 'needs root to create cgroups';
  for (const c of ['cpu', 'memory']) {
    if (!existsSync(`/sys/fs/cgroup/${c}/cgroup.procs`)) return `no cgroup v1 ${c} hierarchy`;
    if (ownV1Path(c) === null) return `this process is in no v1 ${c} cgroup`;
  }
  return null;
}

/** Run BIN ARGS inside the cgroups: a shell moves itself in, then execs node. */
function inCgroups(dirs: string[], args: string[]) {
  const moves = dirs.map((d) => `echo $$ > ${d}/cgroup.procs`).join(' && ');
  return spawn('sh', ['-c', `${moves} && exec "$0" "$@"`, process.execPath, BIN, ...args], {
    cwd: ROOT,
    env: cleanEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

async function output(proc: ReturnType<typeof inCgroups>) {
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (d) => (stdout += d));
  proc.stderr.on('data', (d) => (stderr += d));
  const [code] = await once(proc, 'exit');
  return { code, stdout, stderr };
}

test('in a real cgroup v1 (1 CPU quota, 256 MiB): io 3, cpu 1, memory fits', async (t) => {
  const why = cgroupV1Unavailable();
  if (why) {
    t.skip(`cannot create a cgroup here: ${why}`);
    return;
  }
  const name = `corral-test-${process.pid}`;
  const cpu = `/sys/fs/cgroup/cpu${ownV1Path('cpu')}/${name}`.replace('//', '/');
  const memory = `/sys/fs/cgroup/memory${ownV1Path('memory')}/${name}`.replace('//', '/');
  const limit = 256 * MiB;
  try {
    mkdirSync(cpu);
    mkdirSync(memory);
    writeFileSync(`${cpu}/cpu.cfs_period_us`, '100000');
    writeFileSync(`${cpu}/cpu.cfs_quota_us`, '100000');
    writeFileSync(`${memory}/memory.limit_in_bytes`, String(limit));
  } catch (err) {
    for (const d of [cpu, memory]) if (existsSync(d)) rmdirSync(d);
    t.skip(`cannot create a cgroup here: ${(err as Error).message}`);
    return;
  }
  try {
    const json = async (...args: string[]) => {
      const r = await output(inCgroups([cpu, memory], ['config', '--json', app, ...args]));
      assert.equal(r.code, 0, r.stderr);
      return JSON.parse(r.stdout);
    };
    const io = await json('-w', 'io');
    assert.equal(io.workers, 3);
    assert.equal(io.sizing.cpus.value, 1);
    assert.equal(io.sizing.cpus.source, 'cgroup v1 quota');
    assert.equal(io.sizing.cpus.file, `${cpu}/cpu.cfs_quota_us`);
    assert.match(io.workersWhy, /^io: 2×1\+1 = 3; CPUs 1\.0 from cgroup v1 quota 100000\/100000$/);
    assert.equal((await json('-w', 'cpu')).workers, 1);
    const auto = await json();
    assert.equal(auto.workers, 1, 'auto → cpu = 1');
    assert.equal(auto.sizing.memory.measured, true, 'under 256 MiB auto measures a worker');

    const mem = await json('-w', 'memory');
    const m = mem.sizing.memory;
    assert.equal(m.limit.value, limit);
    assert.equal(m.limit.source, 'cgroup v1 limit');
    assert.equal(m.measured, true);
    assert.ok(mem.workers >= 1 && mem.workers <= 3);
    assert.ok(
      mem.workers === 1 || mem.workers * m.perWorkerBytes <= m.budgetBytes,
      `${mem.workers} × ${m.perWorkerBytes} fits ${m.budgetBytes}`,
    );
    assert.equal(m.budgetBytes, limit - m.masterRssBytes - m.reserveBytes);

    // And serve starts that many inside the limit, which holds them: ready, serving, no OOM.
    writeFileSync(`${memory}/memory.max_usage_in_bytes`, '0');
    const server = inCgroups([cpu, memory], [app, '-w', 'memory', '-b', '127.0.0.1:0']);
    let log = '';
    server.stderr.on('data', (d) => (log += d));
    try {
      for (let i = 0; i < 300 && !/ready: \d+ worker/.test(log); i++) {
        await new Promise((r) => setTimeout(r, 50));
      }
      // serve measures again (its own RSS and a fresh probe), so at the edge of a fit it may
      // differ from config by one; what must hold is its own derivation, and the limit.
      const started = /Workers: (\d+) \(memory: from io 2×1\+1 = 3; .* fits (\d+) × /.exec(log);
      assert.ok(started, log);
      const [n, fits] = [Number(started[1]), Number(started[2])];
      assert.equal(n, Math.max(1, Math.min(3, fits)));
      assert.match(log, new RegExp(`ready: ${n} worker\\(s\\) serving`));
      const url = /Listening at: (\S+)/.exec(log)?.[1] as string;
      for (let i = 0; i < 20; i++) assert.equal((await get(`${url}/`)).status, 200);
      const peak = Number(readFileSync(`${memory}/memory.max_usage_in_bytes`, 'utf8'));
      assert.ok(peak < limit, `peak ${peak} under the ${limit} limit`);
      assert.match(readFileSync(`${memory}/memory.oom_control`, 'utf8'), /under_oom 0/);
    } finally {
      server.kill('SIGTERM');
      await once(server, 'exit');
    }
  } finally {
    // Every process that was in them has exited; empty cgroups can be removed.
    for (const d of [cpu, memory]) if (existsSync(d)) rmdirSync(d);
  }
});
