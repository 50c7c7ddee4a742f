/**
 * The master loop with fake workers and a clock the test moves: no process is started, every
 * decision is driven by messages the test sends on the workers' behalf.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { test } from 'node:test';
import { type Resolved, resolveConfig } from '../../src/config/resolve.ts';
import type { Config } from '../../src/config/settings.ts';
import type { Logger } from '../../src/log/logger.ts';
import { Master } from '../../src/master/master.ts';
import type { PidFile } from '../../src/master/pidfile.ts';
import { EMPTY_STATS } from '../../src/metrics/stats.ts';

/** A worker process that does nothing unless the test says so; it exits when told to stop. */
class FakeChild extends EventEmitter {
  static nextPid = 1000;
  readonly pid = FakeChild.nextPid++;
  connected = true;
  readonly sent: { t: string; canaryMs?: number }[] = [];
  readonly signals: string[] = [];
  /** Ignores every signal but SIGKILL (a hook that hangs, a blocked event loop). */
  stubborn = false;
  #gone = false;

  send(msg: { t: string }): boolean {
    this.sent.push(msg);
    if (msg.t === 'drain') this.exit(0, null);
    return true;
  }
  kill(sig: string): boolean {
    this.signals.push(sig);
    if (sig === 'SIGKILL' || (!this.stubborn && sig !== 'SIGUSR1')) this.exit(null, sig);
    return true;
  }
  /** The process ends (on its own, or as told). */
  exit(code: number | null, signal: string | null): void {
    if (this.#gone) return;
    this.#gone = true;
    this.connected = false;
    setImmediate(() => this.emit('exit', code, signal));
  }
  ready(): void {
    this.emit('message', { t: 'ready', bootMs: 1 });
  }
  beat(stats: Partial<typeof EMPTY_STATS> = {}): void {
    this.emit('message', { t: 'beat', ...EMPTY_STATS, ...stats });
  }
  get drained(): boolean {
    return this.sent.some((m) => m.t === 'drain');
  }
  get gone(): boolean {
    return this.#gone;
  }
}

interface Harness {
  readonly master: Master;
  readonly children: FakeChild[];
  readonly lines: string[];
  /** Move the clock on, then let the loop run. */
  advance(ms: number): Promise<void>;
  settle(): Promise<void>;
  live(): FakeChild[];
  /** Every booting child reports ready. */
  allReady(): Promise<void>;
}

const flush = () => new Promise<void>((r) => setImmediate(r));

async function config(values: Partial<Config>): Promise<Resolved> {
  const r = await resolveConfig({ app: 'app.mjs', env: {}, cwd: '/' });
  return { ...r, config: { ...r.config, ...values } };
}

async function harness(
  values: Partial<Config>,
  count: number,
  reloadTo: Partial<Config> = {},
): Promise<Harness> {
  let now = 0;
  const lines: string[] = [];
  const say = (level: string) => (m: string) => lines.push(`${level} ${m}`);
  const log = {
    debug: () => {},
    info: say('info'),
    warning: say('warning'),
    error: say('error'),
    critical: say('critical'),
    reopen: () => {},
  } as unknown as Logger;
  const children: FakeChild[] = [];
  const resolved = await config({ timeout: 30, ...values });
  const next = await config({ timeout: 30, ...values, ...reloadTo });
  const master = new Master({
    resolved,
    listeners: [],
    count,
    log,
    pidFile: { moveAside() {} } as unknown as PidFile,
    reload: async () => ({ resolved: next, count }),
    clock: () => now,
    spawn: () => {
      const c = new FakeChild();
      children.push(c);
      return c as unknown as ChildProcess;
    },
  });
  const settle = async () => {
    for (let i = 0; i < 5; i++) {
      master.tick();
      await flush();
    }
  };
  const live = () => children.filter((c) => !c.gone);
  return {
    master,
    children,
    lines,
    settle,
    live,
    async advance(ms) {
      now += ms;
      await settle();
    },
    async allReady() {
      for (const c of live()) c.ready();
      await settle();
    },
  };
}

test('start: the target number of workers boot, and ready is announced once all are', async () => {
  const h = await harness({}, 3);
  await h.settle();
  assert.equal(h.children.length, 3);
  assert.ok(h.children.every((c) => c.sent[0]?.t === 'boot'));
  assert.equal(h.master.ready, false);
  await h.allReady();
  assert.equal(h.master.ready, true);
  assert.ok(h.lines.includes('info ready: 3 worker(s) serving'));
});

test('reload: rolls in batches of ⌈N/4⌉, each old worker drained only once its replacement is ready', async () => {
  const h = await harness({}, 8);
  await h.settle();
  await h.allReady();
  const old = [...h.children];
  h.master.request('reload');
  await h.settle();
  assert.equal(h.children.length, 10, 'a batch of 2 replacements started');
  assert.equal(old.filter((c) => c.drained).length, 0, 'nothing drained before they are ready');
  for (let batch = 1; batch <= 4; batch++) {
    await h.allReady();
    assert.equal(old.filter((c) => c.drained).length, 2 * batch, `batch ${batch} retired`);
  }
  assert.equal(h.live().length, 8);
  assert.ok(h.live().every((c) => !old.includes(c)));
});

test('boot failure at start: three workers in a row die booting, corral stops with exit 3', async () => {
  const h = await harness({}, 2);
  const code = h.master.run();
  await h.settle();
  for (let i = 0; i < 3; i++) {
    const booting = h.live()[0];
    booting?.exit(1, null);
    await h.settle();
  }
  assert.equal(await code, 3);
  assert.ok(h.lines.some((l) => /3 workers in a row died while booting: stopping/.test(l)));
});

test('crashes back off: the fourth crash within a minute delays the next start', async () => {
  const h = await harness({}, 1);
  await h.settle();
  await h.allReady();
  for (let i = 0; i < 4; i++) {
    h.live()[0]?.exit(1, null);
    await h.settle();
    if (i < 3) h.live()[0]?.ready();
  }
  assert.ok(
    h.lines.some((l) => /4 worker failures in the last minute: next start in 500 ms/.test(l)),
  );
  const started = h.children.length;
  await h.advance(400);
  assert.equal(h.children.length, started, 'no start while backing off');
  await h.advance(200);
  assert.equal(h.children.length, started + 1, 'started once the delay passed');
});

test('quick stop: SIGQUIT, then SIGKILL for workers still there 2 s later', async () => {
  const h = await harness({}, 2);
  await h.settle();
  await h.allReady();
  // These two ignore SIGQUIT (a hook that hangs).
  for (const c of h.children) c.stubborn = true;
  h.master.request('quick-stop');
  await h.settle();
  assert.deepEqual(
    h.children.map((c) => c.signals),
    [['SIGQUIT'], ['SIGQUIT']],
  );
  await h.advance(1999);
  assert.ok(h.children.every((c) => !c.signals.includes('SIGKILL')));
  await h.advance(1);
  assert.ok(h.children.every((c) => c.signals.includes('SIGKILL')));
});

test('--timeout: a silent worker is aborted, then killed; a replacement starts', async () => {
  const h = await harness({ timeout: 2 }, 1);
  await h.settle();
  await h.allReady();
  const stuck = h.children[0] as FakeChild;
  stuck.stubborn = true;
  await h.advance(2001);
  await h.settle();
  assert.ok(h.lines.some((l) => /^critical WORKER TIMEOUT: worker 1 .*sent no heartbeat/.test(l)));
  assert.ok(stuck.signals.includes('SIGABRT'));
  assert.equal(h.children.length, 2, 'replacement started');
  await h.advance(1000);
  assert.ok(stuck.signals.includes('SIGKILL'), 'killed after the abort grace');
});

test('--max-worker-lifetime: replaced after its lifetime, replacement first', async () => {
  const h = await harness({ maxWorkerLifetime: 2 }, 2);
  await h.settle();
  await h.allReady();
  const old = [...h.children];
  await h.advance(1999);
  assert.equal(h.children.length, 2);
  await h.advance(1);
  assert.equal(h.children.length, 4, 'replacements started');
  assert.ok(
    old.every((c) => !c.drained),
    'old ones serve until the new ones are ready',
  );
  await h.allReady();
  assert.ok(old.every((c) => c.drained));
  assert.ok(h.lines.some((l) => /max-worker-lifetime 2 s\): replacing it/.test(l)));
  assert.deepEqual(h.master.status().restarts, { lifetime: 2 });
});

test('--max-event-loop-delay: replaced after 3 slow heartbeats in a row, not after 2', async () => {
  const h = await harness({ maxEventLoopDelay: 200 }, 1);
  await h.settle();
  await h.allReady();
  const w = h.children[0] as FakeChild;
  w.beat({ lagSeconds: 0.5 });
  w.beat({ lagSeconds: 0.5 });
  w.beat({ lagSeconds: 0.01 });
  w.beat({ lagSeconds: 0.5 });
  w.beat({ lagSeconds: 0.5 });
  await h.settle();
  assert.equal(h.children.length, 1, 'two in a row is not enough');
  w.beat({ lagSeconds: 0.5 });
  await h.settle();
  assert.equal(h.children.length, 2, 'replacement started');
  assert.equal(w.drained, false);
  await h.allReady();
  assert.equal(w.drained, true);
});

test('canary: a canary answering 5xx is rolled back; the old workers stay', async () => {
  const h = await harness({ reloadCanary: 2 }, 2, {});
  await h.settle();
  await h.allReady();
  const old = [...h.children];
  h.master.request('reload');
  await h.settle();
  assert.equal(h.children.length, 3, 'one canary');
  const canary = h.children[2] as FakeChild;
  assert.equal(canary.sent[0]?.canaryMs, 2000);
  canary.ready();
  await h.settle();
  for (const o of old) o.beat({ statusClasses: [0, 100, 0, 0, 0] });
  canary.beat({ statusClasses: [0, 0, 0, 0, 40] });
  await h.settle();
  assert.ok(canary.drained, 'the canary stops');
  assert.ok(
    old.every((c) => !c.drained && !c.gone),
    'the old workers keep serving',
  );
  assert.ok(
    h.lines.some((l) =>
      /^error reload rolled back: the canary answered 40 of 40 request\(s\) with 5xx \(100%\), the old workers 0 of 200 \(0%\)/.test(
        l,
      ),
    ),
  );
  assert.equal(h.master.status().restarts.rollback, 1);
  await h.advance(5000);
  assert.equal(h.children.length, 3, 'no roll afterwards');
});

test('canary: one that crashes in its window is rolled back', async () => {
  const h = await harness({ reloadCanary: 2 }, 2);
  await h.settle();
  await h.allReady();
  h.master.request('reload');
  await h.settle();
  const canary = h.children[2] as FakeChild;
  canary.ready();
  await h.settle();
  canary.exit(1, null);
  await h.settle();
  assert.ok(
    h.lines.some((l) => /reload rolled back: the canary worker 3 .* exited \(code 1\)/.test(l)),
  );
  assert.equal(h.live().length, 2);
  assert.equal(h.children.length, 3, 'no replacement for the canary');
});

test('canary: a healthy canary serves its window, then the roll continues', async () => {
  const h = await harness({ reloadCanary: 2 }, 2);
  await h.settle();
  await h.allReady();
  const old = [...h.children];
  h.master.request('reload');
  await h.settle();
  const canary = h.children[2] as FakeChild;
  canary.ready();
  await h.settle();
  canary.beat({ statusClasses: [0, 50, 0, 0, 1] });
  await h.advance(1999);
  assert.ok(
    old.every((c) => !c.drained),
    'nothing rolls during the window',
  );
  await h.advance(1);
  await h.allReady();
  await h.allReady();
  assert.ok(
    old.every((c) => c.drained),
    'every old worker was replaced',
  );
  assert.ok(h.live().includes(canary), 'the canary is one of the new workers');
  assert.equal(h.live().length, 2);
  assert.ok(
    h.lines.some((l) => /the canary worker 3 .*answered 51 request\(s\), 1 with 5xx/.test(l)),
  );
});
