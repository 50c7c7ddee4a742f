// How the default dispatch spreads connections and what it does at a worker's cap: workers
// accept from the shared socket, steered by the master's fair shares.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { test } from 'node:test';
import {
  get,
  metricsUrl,
  type Running,
  serveListener,
  sleep,
  workerPids,
} from '../helpers/corral.ts';

interface Answer {
  status: number;
  pid: string;
  connection: string | undefined;
}

function ask(url: URL, path: string, agent: Agent): Promise<Answer> {
  return new Promise((done, fail) => {
    const req = request({ host: url.hostname, port: url.port, path, agent }, (res) => {
      res.resume();
      res.on('end', () =>
        done({
          status: res.statusCode ?? 0,
          pid: String(res.headers['x-pid'] ?? ''),
          connection: res.headers.connection,
        }),
      );
    });
    req.on('error', fail);
    req.end();
  });
}

/** A keep-alive connection that sends one request, reads its answer and then stays idle. */
function idleConnection(
  url: URL,
): Promise<{ socket: Socket; ended: Promise<'end' | string>; pid: string }> {
  return new Promise((done, fail) => {
    const socket = connect(Number(url.port), url.hostname);
    const ended = new Promise<'end' | string>((settle) => {
      socket.on('end', () => settle('end'));
      socket.on('error', (err: NodeJS.ErrnoException) => settle(err.code ?? err.message));
    });
    socket.once('error', fail);
    socket.write(`GET / HTTP/1.1\r\nHost: ${url.host}\r\n\r\n`);
    socket.once('data', (d) => {
      assert.match(String(d), /^HTTP\/1\.1 200/);
      assert.doesNotMatch(String(d), /connection: close/i);
      done({ socket, ended, pid: /x-pid: (\d+)/i.exec(String(d))?.[1] ?? '' });
    });
  });
}

test('default dispatch, 2 workers: 8 keep-alive clients opened together spread 4/4 ± 1', async () => {
  const server = await serveListener(['-w', '2']);
  const url = new URL(server.url);
  try {
    for (let round = 0; round < 3; round++) {
      const perPid = new Map<string, number>();
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          const agent = new Agent({ keepAlive: true, maxSockets: 1 });
          const pids = new Set<string>();
          for (let i = 0; i < 20; i++) pids.add((await ask(url, '/', agent)).pid);
          agent.destroy();
          assert.equal(pids.size, 1, 'a keep-alive client stays on its worker');
          const pid = [...pids][0] as string;
          perPid.set(pid, (perPid.get(pid) ?? 0) + 1);
        }),
      );
      const counts = [...perPid.values()].sort();
      assert.equal(counts.length, 2, `both workers got clients: ${counts}`);
      assert.ok((counts[0] as number) >= 3, `clients per worker ${counts} (round ${round + 1})`);
      // Let the closed connections be reported before the next round.
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    assert.equal(await server.stop(), 0);
  }
});

for (const dispatch of ['shared', 'reuseport']) {
  test(`--dispatch ${dispatch}, 2 workers: /metrics gives each worker's open connections as the clients see them, then 0`, async () => {
    const server = await serveListener([
      '-w',
      '2',
      '--dispatch',
      dispatch,
      '--metrics-bind',
      '127.0.0.1:0',
    ]);
    const url = new URL(server.url);
    const metricsAt = metricsUrl(server);
    /** corral_worker_connections per slot, sorted; polled until `want` or 5 s. */
    const perWorker = async (want: number[]): Promise<number[]> => {
      let got: number[] = [];
      for (const until = Date.now() + 5000; Date.now() < until; await sleep(100)) {
        const body = (await get(`${metricsAt}/metrics`)).body;
        got = [...body.matchAll(/^corral_worker_connections\{worker="\d+"\} (\d+)$/gm)]
          .map((m) => Number(m[1]))
          .sort((a, b) => a - b);
        if (JSON.stringify(got) === JSON.stringify(want)) break;
      }
      return got;
    };
    const held: Socket[] = [];
    try {
      const perPid = new Map<string, number>();
      for (let i = 0; i < 8; i++) {
        const c = await idleConnection(url);
        held.push(c.socket);
        perPid.set(c.pid, (perPid.get(c.pid) ?? 0) + 1);
      }
      const seen = [...perPid.values()];
      while (seen.length < 2) seen.push(0);
      seen.sort((a, b) => a - b);
      assert.deepEqual(await perWorker(seen), seen);
      for (const s of held) s.destroy();
      assert.deepEqual(await perWorker([0, 0]), [0, 0]);
    } finally {
      for (const s of held) s.destroy();
      assert.equal(await server.stop(), 0);
    }
  });
}

/**
 * 8 keep-alive clients (4/4: each worker's share is then 6, the mean plus one plus a
 * quarter), then `pick` names the processes to stop (SIGSTOP), then 16 more clients one at a
 * time: each must be answered, though the 13th reaches workers that both hold their share.
 * Idle connections are kept a minute: none closes to make room.
 */
async function moreClientsWhileStopped(
  pick: (server: Running, firstPids: string[]) => number[],
): Promise<string[]> {
  const server = await serveListener(['-w', '2', '--keep-alive', '60']);
  const url = new URL(server.url);
  const held: Socket[] = [];
  const pids: string[] = [];
  const open = async () => {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, fail) => {
      timer = setTimeout(
        () => fail(new Error(`client ${held.length + 1}: no answer in 5 s`)),
        5000,
      );
    });
    try {
      const c = await Promise.race([idleConnection(url), late]);
      held.push(c.socket);
      pids.push(c.pid);
    } finally {
      clearTimeout(timer);
    }
  };
  try {
    for (let i = 0; i < 8; i++) await open();
    await new Promise((r) => setTimeout(r, 300));
    const stopped = pick(server, pids.slice());
    for (const pid of stopped) process.kill(pid, 'SIGSTOP');
    try {
      for (let i = 0; i < 16; i++) await open();
    } finally {
      for (const pid of stopped) process.kill(pid, 'SIGCONT');
    }
    return pids.slice(8);
  } finally {
    for (const s of held) s.destroy();
    assert.equal(await server.stop(), 0);
  }
}

test('default dispatch, 2 workers: with the master stopped (SIGSTOP), workers past their fair share still take new connections', async () => {
  const later = await moreClientsWhileStopped((server) => [server.proc.pid as number]);
  assert.equal(later.length, 16);
});

test('default dispatch, 2 workers: with one worker stopped (SIGSTOP), the other takes every new connection past its fair share', async () => {
  let stopped = '';
  const later = await moreClientsWhileStopped((server, first) => {
    const pid = workerPids(server.output()).find((p) => first.includes(String(p))) as number;
    stopped = String(pid);
    return [pid];
  });
  assert.equal(later.length, 16);
  assert.ok(!later.includes(stopped), `answered by ${[...new Set(later)]}, ${stopped} stopped`);
});

test('default dispatch, 2 workers: with the master and one worker stopped (SIGSTOP), the other takes every new connection past its fair share', async () => {
  // Nobody can raise the live worker's share or take the stopped one out of the shares: the
  // live worker finds the waiting connections itself.
  let stopped = '';
  const later = await moreClientsWhileStopped((server, first) => {
    const pid = workerPids(server.output()).find((p) => first.includes(String(p))) as number;
    stopped = String(pid);
    return [server.proc.pid as number, pid];
  });
  assert.equal(later.length, 16);
  assert.ok(!later.includes(stopped), `answered by ${[...new Set(later)]}, ${stopped} stopped`);
});

test('--worker-connections 10, 9 idle keep-alive connections: an active client keeps keep-alive; the idle ones are closed, none reset', async () => {
  const server = await serveListener(['-w', '1', '--worker-connections', '10']);
  const url = new URL(server.url);
  try {
    const idle = await Promise.all(Array.from({ length: 9 }, () => idleConnection(url)));
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const answers: Answer[] = [];
    for (let i = 0; i < 200; i++) answers.push(await ask(url, '/', agent));
    agent.destroy();
    assert.deepEqual(
      answers.filter((a) => a.status !== 200 || a.connection === 'close'),
      [],
      'every answer 200 and kept alive',
    );
    // At the cap the worker closes the connections idle for a second: a FIN, never a reset.
    const how = await Promise.all(idle.map((c) => c.ended));
    assert.deepEqual(how, Array(9).fill('end'));
    for (const c of idle) c.socket.destroy();
  } finally {
    assert.equal(await server.stop(), 0);
  }
});

test('3,000 concurrent 4 s streams on 2 default workers: all open at once, all complete', async () => {
  const server = await serveListener(['-w', '2']);
  const url = new URL(server.url);
  const N = 3000;
  try {
    let opened = 0;
    let completedBeforeAllOpen = 0;
    let completed = 0;
    const pids = new Set<string>();
    const streams = Array.from(
      { length: N },
      () =>
        new Promise<void>((done, fail) => {
          const req = request(
            { host: url.hostname, port: url.port, path: '/stream?ms=4000', agent: false },
            (res) => {
              assert.equal(res.statusCode, 200);
              pids.add(String(res.headers['x-pid']));
              let first = true;
              res.on('data', () => {
                if (!first) return;
                first = false;
                opened++;
              });
              res.on('end', () => {
                completed++;
                if (opened < N) completedBeforeAllOpen++;
                done();
              });
            },
          );
          req.on('error', fail);
          req.setTimeout(30_000, () => req.destroy(new Error('stream timed out')));
          req.end();
        }),
    );
    await Promise.all(streams);
    assert.equal(completed, N);
    assert.equal(completedBeforeAllOpen, 0, 'every stream was open before the first ended');
    assert.equal(pids.size, 2, 'both workers hold streams');
  } finally {
    assert.equal(await server.stop(), 0);
  }
});

test('-k sync -w 1: while the worker is busy, 3 more requests wait in the kernel queue, are counted as waiting, and are all served', async () => {
  const server = await serveListener(['-w', '1', '-k', 'sync', '--metrics-bind', '127.0.0.1:0']);
  const metrics = metricsUrl(server);
  try {
    assert.match(server.output(), /class sync; dispatch shared/);
    const slow = get(`${server.url}/slow?ms=4000`);
    await sleep(200); // the worker now holds the slow request
    const waiting = Array.from({ length: 3 }, () => get(`${server.url}/`));
    // The master looks at the kernel's queue once a second while every worker is full: wait
    // (bounded) for the gauge to read `want`.
    const gauge = async (want: string): Promise<string> => {
      let seen = '';
      for (let i = 0; i < 40 && seen !== want; i++) {
        await sleep(100);
        const body = (await get(`${metrics}/metrics`)).body;
        seen = /^corral_waiting_connections (\d+)$/m.exec(body)?.[1] ?? '';
      }
      return seen;
    };
    assert.equal(await gauge('3'), '3', 'the three queued connections are counted as waiting');
    assert.equal((await slow).status, 200);
    for (const r of await Promise.all(waiting)) assert.equal(r.status, 200);
    // And no longer once they are served: the next look finds the queue empty.
    assert.equal(await gauge('0'), '0', 'nothing waits once all are served');
  } finally {
    assert.equal(await server.stop(), 0);
  }
});

test('-k sync -w 1 --queue-timeout 1: while the worker is busy 4 s, a second request gets 503 with Retry-After, counted and logged', async () => {
  const server = await serveListener([
    '-w',
    '1',
    '-k',
    'sync',
    '--queue-timeout',
    '1',
    '--metrics-bind',
    '127.0.0.1:0',
  ]);
  const metricsUrl = server.output().match(/Metrics at: (\S+)/)?.[1] as string;
  try {
    // Only the master can time a waiting connection: the sync class hands over with it.
    assert.match(server.output(), /class sync; dispatch least-conn/);
    let slowDone = false;
    const slow = get(`${server.url}/slow?ms=4000`).then((r) => {
      slowDone = true;
      return r;
    });
    await new Promise((r) => setTimeout(r, 200)); // the worker now holds the slow request
    const t0 = performance.now();
    const shed = await get(`${server.url}/`);
    const waited = performance.now() - t0;
    assert.equal(shed.status, 503);
    assert.equal(shed.headers['retry-after'], '1');
    assert.equal(shed.headers.connection, 'close');
    assert.equal(slowDone, false, 'answered while the worker was still busy');
    await server.waitFor(/queue-timeout: answered 503 to 1 connection\(s\) that waited 1 s/);
    const m = await get(`${metricsUrl}/metrics`);
    assert.match(m.body, /^corral_connections_shed_total 1$/m);
    assert.equal((await slow).status, 200, 'the busy request still completes');
    // Once the worker is free, requests are served again.
    assert.equal((await get(`${server.url}/`)).status, 200);
    process.stdout.write(`# the 503 came after ${Math.round(waited)} ms\n`);
  } finally {
    assert.equal(await server.stop(), 0);
  }
});

test('--dispatch least-conn -w 2: 400 connections handed over are all answered, by both workers, and the master keeps no fd of them', async () => {
  const server = await serveListener(['-w', '2', '--dispatch', 'least-conn']);
  const fds = () => readdirSync(`/proc/${server.proc.pid}/fd`).length;
  try {
    assert.equal((await get(`${server.url}/`)).status, 200);
    const before = fds();
    const pids = new Set<string>();
    for (let i = 0; i < 40; i++) {
      // 10 at a time, each on its own connection.
      const replies = await Promise.all(Array.from({ length: 10 }, () => get(`${server.url}/`)));
      for (const r of replies) {
        assert.equal(r.status, 200);
        pids.add(String(r.headers['x-pid']));
      }
    }
    assert.equal(pids.size, 2, 'both workers answered');
    // A handle is closed once its fd is written to the worker's channel.
    await new Promise((r) => setTimeout(r, 200));
    assert.ok(fds() <= before + 2, `master fds: ${before} before, ${fds()} after`);
  } finally {
    assert.equal(await server.stop(), 0);
  }
});
