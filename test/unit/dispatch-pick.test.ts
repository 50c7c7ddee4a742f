/**
 * least-conn's choice of worker, in the dispatcher alone with fake workers that record what
 * they are sent: the fewest connections wins, ties in turn; a worker whose heartbeats are late
 * gets nothing while a responsive one is there, one due for replacement only when no other is;
 * a worker at its capacity gets nothing, and the connection waits for a free slot.
 */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { connect, type Socket } from 'node:net';
import { test } from 'node:test';
import { Dispatcher } from '../../src/master/dispatch.ts';
import type { WorkerHandle } from '../../src/master/worker-handle.ts';
import { asListener, listen } from '../helpers/dispatcher.ts';

interface Fake {
  name: string;
  conns: number;
  retiring: boolean;
  late: boolean;
}

/** Workers whose child records the name of each worker a connection is sent to. */
function pool(fakes: Fake[], sent: string[]): WorkerHandle[] {
  return fakes.map((f) => {
    const child = Object.assign(new EventEmitter(), {
      connected: true,
      send(_msg: unknown, _handle: unknown, cb?: (err: Error | null) => void) {
        sent.push(f.name);
        setImmediate(() => cb?.(null));
        return true;
      },
    });
    return {
      get conns() {
        return f.conns;
      },
      set conns(n: number) {
        f.conns = n;
      },
      get retiring() {
        return f.retiring;
      },
      stale: () => f.late,
      child,
    } as unknown as WorkerHandle;
  });
}

async function setup(fakes: Fake[], capacity = 100) {
  const server = await listen();
  const sent: string[] = [];
  const workers = pool(fakes, sent);
  const d = new Dispatcher(
    () => workers,
    () => capacity,
  );
  d.attach([asListener(server)]);
  const port = (server.address() as { port: number }).port;
  const clients: Socket[] = [];
  /** Open a connection; resolves with the worker it went to (null: it waits in the master). */
  const open = async (): Promise<string | null> => {
    const before = sent.length;
    const waiting = d.waiting;
    const c = connect(port, '127.0.0.1');
    c.on('error', () => {});
    clients.push(c);
    while (sent.length === before && d.waiting === waiting) {
      await new Promise((ok) => setTimeout(ok, 5));
    }
    return sent.length > before ? (sent.at(-1) as string) : null;
  };
  const close = async () => {
    for (const c of clients) c.destroy();
    await new Promise((ok) => server.close(ok));
  };
  return { d, sent, open, close };
}

const fake = (name: string, o: Partial<Fake> = {}): Fake => ({
  name,
  conns: 0,
  retiring: false,
  late: false,
  ...o,
});

test('the fewest connections wins; ties go in turn', { timeout: 10_000 }, async () => {
  const fakes = [fake('a'), fake('b', { conns: 2 }), fake('c')];
  const s = await setup(fakes);
  try {
    // b holds 2: a and c get the next four (they tie at 0, then at 1), then all hold 2.
    const first = [await s.open(), await s.open()];
    assert.deepEqual([...first].sort(), ['a', 'c']);
    const next = [await s.open(), await s.open()];
    assert.deepEqual([...next].sort(), ['a', 'c']);
    assert.deepEqual(
      fakes.map((f) => f.conns),
      [2, 2, 2],
    );
    // Connections that close at once: every pick is a tie, and the turn rotates.
    const seq: (string | null)[] = [];
    for (let i = 0; i < 6; i++) {
      for (const f of fakes) f.conns = 0;
      seq.push(await s.open());
    }
    assert.deepEqual([...seq.slice(0, 3)].sort(), ['a', 'b', 'c']);
    assert.deepEqual(seq.slice(3), seq.slice(0, 3));
  } finally {
    await s.close();
  }
});

test('late and retiring workers get connections only when no better one is ready', {
  timeout: 10_000,
}, async () => {
  const fakes = [fake('late', { late: true }), fake('leaving', { retiring: true, conns: 5 })];
  const s = await setup(fakes);
  try {
    // A responsive worker due for replacement is preferred to a late one, despite more work.
    assert.equal(await s.open(), 'leaving');
    fakes.push(fake('fresh', { conns: 9 }));
    const s2 = await setup(fakes);
    try {
      assert.equal(await s2.open(), 'fresh');
      assert.equal(await s2.open(), 'fresh');
    } finally {
      await s2.close();
    }
  } finally {
    await s.close();
  }
});

test('a worker at its capacity gets nothing; the connection waits for a free slot', {
  timeout: 10_000,
}, async () => {
  const fakes = [fake('a', { conns: 1 }), fake('b')];
  const s = await setup(fakes, 1);
  try {
    assert.equal(await s.open(), 'b');
    assert.equal(await s.open(), null);
    assert.equal(s.d.waiting, 1);
    (fakes[0] as Fake).conns = 0;
    s.d.flush();
    assert.equal(s.sent.at(-1), 'a');
    assert.equal(s.d.waiting, 0);
  } finally {
    s.d.dropPending();
    await s.close();
  }
});
