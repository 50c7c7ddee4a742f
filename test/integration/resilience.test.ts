// A blocked worker's stack, canary reloads, lifetime and memory recycling, a master that dies,
// and bad input: real corral processes on loopback.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  alive,
  FIXTURES,
  get,
  metricsUrl,
  type Reply,
  runCorral,
  serveApp,
  serveListener,
  sleep,
  workerPids,
} from '../helpers/corral.ts';

const APP = `${FIXTURES}resilience.mjs`;

/** `total` requests, `connections` at a time, each on a new connection; no answer is an error. */
async function requests(
  url: string,
  total: number,
  connections: number,
  until?: () => boolean,
): Promise<{ replies: Reply[]; errors: string[] }> {
  const replies: Reply[] = [];
  const errors: string[] = [];
  let issued = 0;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (issued < total || (until && !until() && issued < total * 20)) {
        issued++;
        try {
          replies.push(await get(url));
        } catch (err) {
          errors.push((err as Error).message);
        }
      }
    }),
  );
  return { replies, errors };
}

test('-t 2: the WORKER TIMEOUT report names the function a worker is stuck in', async (t) => {
  const server = await serveApp(APP, ['-w', '2', '-t', '2']);
  try {
    for (const [route, fn] of [
      ['/stuck', 'spinForever'],
      ['/wait', 'waitForever'],
    ] as const) {
      const started = performance.now();
      void get(`${server.url}${route}`).catch(() => {});
      const re = new RegExp(
        `WORKER TIMEOUT: worker \\d+ \\(pid \\d+\\) was running:\\n\\s+at ${fn} \\(file://.*resilience\\.mjs:\\d+:\\d+\\)`,
      );
      await server.waitFor(re, 10_000);
      t.diagnostic(
        `${route}: ${fn} named ${Math.round(performance.now() - started)} ms after the request`,
      );
    }
    // The report comes before the kill.
    const out = server.output();
    assert.ok(out.indexOf('at spinForever') < out.indexOf('exited (signal SIGABRT)'));
  } finally {
    await server.stop();
  }
});

test('a worker stopped (SIGSTOP) for a while: the log says so at 1.2 s without a heartbeat, ctl status shows it stalled, the log says when it beats again, and not again for a second stall within the minute', async () => {
  const socket = join(mkdtempSync(join(tmpdir(), 'corral-')), 'ctl.sock');
  const server = await serveApp(APP, [
    '-w',
    '2',
    '--control-socket',
    socket,
    '--metrics-bind',
    '127.0.0.1:0',
  ]);
  /** corral_worker_heartbeat_age_seconds, the largest of the workers'. */
  const oldestBeat = async () =>
    Math.max(
      ...[
        ...(await get(`${metricsUrl(server)}/metrics`)).body.matchAll(
          /^corral_worker_heartbeat_age_seconds\{worker="\d+"\} ([\d.]+)$/gm,
        ),
      ].map((m) => Number(m[1])),
    );
  const workers = async () =>
    JSON.parse((await runCorral(['ctl', '--socket', socket, 'status', '--json'])).stdout)
      .workers as { pid: number; stalled: boolean; silentSeconds: number }[];
  try {
    const [pid] = workerPids(server.output());
    assert.ok((await workers()).every((w) => !w.stalled));
    assert.ok((await oldestBeat()) < 1.2);
    process.kill(pid as number, 'SIGSTOP');
    try {
      await server.waitFor(
        new RegExp(
          `worker \\d+ \\(pid ${pid}\\) sent no heartbeat for 1\\.2 s: .*; new connections go to the other workers until it beats again; --timeout replaces it after 30 s`,
        ),
        10_000,
      );
      const stalled = (await workers()).filter((w) => w.stalled);
      assert.deepEqual(
        stalled.map((w) => w.pid),
        [pid],
      );
      assert.ok((stalled[0]?.silentSeconds ?? 0) >= 1.2, `silent ${stalled[0]?.silentSeconds} s`);
      assert.ok((await oldestBeat()) >= 1.2);
      assert.match(
        (await runCorral(['ctl', '--socket', socket, 'status'])).stdout,
        new RegExp(`pid ${pid} +stalled`),
      );
    } finally {
      process.kill(pid as number, 'SIGCONT');
    }
    const [, after] = await server.waitFor(
      new RegExp(`\\(pid ${pid}\\) beats again, after (\\d+\\.\\d) s without a heartbeat`),
      10_000,
    );
    assert.ok(Number(after) >= 1.2, `stalled ${after} s`);
    assert.ok(alive(pid as number), 'not replaced: it recovered before --timeout');
    // Told once each way; a second stall within the minute is not told again.
    process.kill(pid as number, 'SIGSTOP');
    try {
      for (const until = Date.now() + 10_000; Date.now() < until; await sleep(100)) {
        if ((await workers()).some((w) => w.stalled)) break;
      }
      assert.ok(
        (await workers()).some((w) => w.stalled),
        'stalled again',
      );
      await sleep(500); // past the master's next tick
    } finally {
      process.kill(pid as number, 'SIGCONT');
    }
    await sleep(1000);
    const out = server.output();
    assert.equal(out.match(/sent no heartbeat for 1\.2 s/g)?.length, 1, out);
    assert.equal(out.match(/\) beats again, after/g)?.length, 1, out);
  } finally {
    await server.stop();
  }
});

test('a request that blocks the event loop 2 s: told as a stall in an async worker, not in a sync worker (busy by design)', async () => {
  for (const workerClass of ['async', 'sync']) {
    const server = await serveListener(['-k', workerClass, '-w', '2']);
    try {
      const r = await get(`${server.url}/cpu?ms=2000`);
      assert.equal(r.status, 200);
      await sleep(600); // the master's ticks after the worker beats again
      const told = /sent no heartbeat for 1\.2 s/.test(server.output());
      assert.equal(told, workerClass === 'async', `${workerClass}: ${server.output()}`);
    } finally {
      await server.stop();
    }
  }
});

test('--max-worker-lifetime 2: 3,000 requests, ≥ 4 workers served, 0 failed', async (t) => {
  const server = await serveApp(APP, ['-w', '2', '--max-worker-lifetime', '2']);
  try {
    // 10 ms a request, 4 at a time: the run outlasts a lifetime whatever the machine's speed.
    const { replies, errors } = await requests(`${server.url}/slow?ms=10`, 3000, 4);
    assert.deepEqual(errors, []);
    assert.equal(replies.length, 3000);
    assert.ok(replies.every((r) => r.status === 200));
    const pids = new Set(replies.map((r) => r.body.split(' ')[1]));
    assert.ok(pids.size >= 4, `${pids.size} workers served`);
    t.diagnostic(`${pids.size} workers served 3000 requests`);
    assert.match(server.output(), /max-worker-lifetime 2 s\): replacing it/);
  } finally {
    assert.equal(await server.stop(), 0);
  }
});

test('--reload-canary 2: a release answering 500 is rolled back under load', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'corral-canary-'));
  const release = join(dir, 'release');
  writeFileSync(release, 'good');
  const server = await serveApp(
    APP,
    ['-w', '2', '--reload-canary', '2', '--metrics-bind', '127.0.0.1:0'],
    { env: { RELEASE_FILE: release } },
  );
  try {
    let rolledBack = false;
    const window = (async () => {
      await sleep(300);
      writeFileSync(release, 'bad');
      process.kill(server.proc.pid as number, 'SIGHUP');
      await server.waitFor(/reload rolled back/, 20_000);
      rolledBack = true;
    })();
    const during = await requests(`${server.url}/`, 200, 6, () => rolledBack);
    await window;
    assert.deepEqual(during.errors, []);
    const errors = during.replies.filter((r) => r.status === 500).length;
    t.diagnostic(`${errors} of ${during.replies.length} answers were 5xx during the window`);
    assert.ok(errors > 0, 'the canary served');
    assert.ok(errors / during.replies.length < 0.2, 'a small share');
    assert.match(
      server.output(),
      /reload rolled back: the canary answered \d+ of \d+ request\(s\) with 5xx \(\d+%\), the old workers 0 of \d+ \(0%\); worker 3 \(pid \d+\) stops and the 2 running worker\(s\) keep serving/,
    );
    await server.waitFor(/worker 3 \(pid \d+\) exited/);
    const after = await requests(`${server.url}/`, 100, 4);
    assert.ok(after.replies.every((r) => r.status === 200 && r.body.startsWith('good')));
    const metrics = await get(`${metricsUrl(server)}/metrics`);
    assert.match(metrics.body, /corral_worker_restarts_total\{reason="rollback"\} 1/);
  } finally {
    assert.equal(await server.stop(), 0);
  }
});

for (const dispatch of ['shared', 'least-conn']) {
  test(`--max-worker-memory 256MiB, --dispatch ${dispatch}, 1 MiB leaked a request: peak ≤ 1.1× the limit, none failed`, async (t) => {
    const limit = 256 * 2 ** 20;
    const server = await serveApp(APP, [
      '-w',
      '2',
      '--max-worker-memory',
      '256MiB',
      '--dispatch',
      dispatch,
    ]);
    try {
      const { replies, errors } = await requests(`${server.url}/leak`, 800, 4);
      assert.deepEqual(errors, []);
      assert.ok(replies.every((r) => r.status === 200));
      const peak = Math.max(...replies.map((r) => Number(r.body.split(' ')[1])));
      t.diagnostic(`peak RSS ${(peak / limit).toFixed(2)}× the limit`);
      assert.ok(peak <= 1.1 * limit, `peak ${(peak / 2 ** 20).toFixed(0)} MiB`);
      assert.match(server.output(), /max-worker-memory 256 MiB\): asking to be replaced/);
    } finally {
      assert.equal(await server.stop(), 0);
    }
  });
}

test('--max-event-loop-delay 100: a worker whose loop lags on every heartbeat is replaced, replacement first', async () => {
  const server = await serveApp(APP, ['-w', '1', '--max-event-loop-delay', '100']);
  try {
    let replaced = false;
    void server.waitFor(/booting worker 2/, 30_000).then(() => (replaced = true));
    // 300 ms of synchronous work a request, one after another: every heartbeat sees the lag.
    const { replies, errors } = await requests(`${server.url}/busy?ms=300`, 10, 1, () => replaced);
    assert.deepEqual(errors, []);
    assert.ok(replies.every((r) => r.status === 200));
    assert.match(
      server.output(),
      /worker 1 \(pid \d+\) event-loop delay \d+ ms for several heartbeats in a row \(max-event-loop-delay 100 ms\): replacing it/,
    );
    await server.waitFor(/worker 1 \(pid \d+\) exited/);
    const ready2 = server.output().search(/worker 2 \(pid \d+\) ready/);
    const exit1 = server.output().search(/worker 1 \(pid \d+\) exited/);
    assert.ok(
      ready2 >= 0 && ready2 < exit1,
      'the replacement was ready before the old worker left',
    );
  } finally {
    assert.equal(await server.stop(), 0);
  }
});

test('kill -9 of the master: a 7 s request in flight completes, then no worker remains', async () => {
  const server = await serveApp(APP, ['-w', '1']);
  const [worker] = workerPids(server.output());
  const reply = get(`${server.url}/slow?ms=7000`);
  await sleep(1000);
  server.proc.kill('SIGKILL');
  await server.exited;
  const r = await reply;
  assert.equal(r.status, 200);
  assert.equal(r.body, `slow ${worker}\n`);
  for (let i = 0; i < 40 && alive(worker as number); i++) await sleep(50);
  assert.equal(alive(worker as number), false, 'the worker exited');
});

test('bad input: one line naming the setting, exit 2 (1 for a bind that cannot be made)', async () => {
  const cases: [string[], number, RegExp][] = [
    [
      ['--chdir', '/no/such/dir'],
      2,
      /^corral: invalid chdir \(--chdir\) from command line --chdir: "\/no\/such\/dir"; allowed: an existing directory/,
    ],
    [
      ['-b', 'unix:/no/such/dir/app.sock'],
      1,
      /^corral: cannot bind unix:\/no\/such\/dir\/app\.sock: its directory does not exist$/,
    ],
    [
      ['-w', '-1'],
      2,
      /^corral: invalid workers \(-w\/--workers\) from command line -w: "-1"; allowed: an integer from 0/,
    ],
    [
      ['--timeout', '-5'],
      2,
      /^corral: invalid timeout \(-t\/--timeout\) from command line --timeout: "-5"; allowed: a number of seconds ≥ 0$/,
    ],
  ];
  for (const [args, code, re] of cases) {
    const r = await runCorral([APP, ...args]);
    assert.equal(r.code, code, args.join(' '));
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0] as string, re);
  }
});
