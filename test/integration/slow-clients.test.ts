// Slow clients: 1,000 connections that trickle a request head a byte at a time, or open and
// send nothing, must not stop a normal client from getting answers (async class, default
// least-conn dispatch), and the header timeout must end every one of them with a 408.
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { get, type Running, serveListener, sleep, workerPids } from '../helpers/corral.ts';
import { hostPort } from '../helpers/raw.ts';

interface Trickler {
  readonly socket: Socket;
  reply: string;
  closed: boolean;
}

/**
 * `n` slow connections: even ones send a head a byte every `everyMs` (it never ends), odd
 * ones connect and send nothing. One timer writes for all of them.
 */
async function openTricklers(url: string, n: number, everyMs = 400) {
  const { host, port } = hostPort(url);
  const all: Trickler[] = [];
  const opened: Promise<void>[] = [];
  for (let i = 0; i < n; i++) {
    // Tricklers ignore a FIN from the server and keep writing (allowHalfOpen), as a slowloris
    // would: only a connection the server really closes ends (reset on the next write).
    const socket = connect({ host, port, allowHalfOpen: i % 2 === 0 });
    const t: Trickler = { socket, reply: '', closed: false };
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => (t.reply += d));
    socket.on('error', () => {});
    socket.on('close', () => (t.closed = true));
    opened.push(new Promise((done) => socket.once('connect', () => done())));
    if (i % 2 === 0)
      socket.once('connect', () => socket.write('GET / HTTP/1.1\r\nHost: a\r\nX-Slow: '));
    all.push(t);
  }
  await Promise.all(opened);
  const timer = setInterval(() => {
    for (let i = 0; i < all.length; i += 2) {
      const t = all[i] as Trickler;
      if (!t.closed && t.socket.writable) t.socket.write('a');
    }
  }, everyMs);
  return {
    all,
    open: () => all.filter((t) => !t.closed).length,
    answered408: () => all.filter((t) => t.reply.startsWith('HTTP/1.1 408 ')).length,
    stop() {
      clearInterval(timer);
      for (const t of all) t.socket.destroy();
    },
  };
}

/** A normal client: `count` requests, each on a new connection; every reply and its latency. */
async function normalClient(url: string, count: number, gapMs = 200) {
  const replies: { status: number; ms: number }[] = [];
  for (let i = 0; i < count; i++) {
    const start = performance.now();
    const r = await get(`${url}/`);
    replies.push({ status: r.status, ms: performance.now() - start });
    await sleep(gapMs);
  }
  return replies;
}

const summary = (replies: { ms: number }[]) => {
  const ms = replies.map((r) => r.ms).sort((a, b) => a - b);
  return `median ${ms[Math.floor(ms.length / 2)]?.toFixed(1)} ms, max ${ms.at(-1)?.toFixed(1)} ms`;
};

describe('1,000 slow clients, 2 workers × 1,000 connections (the default cap), 4 s header timeout', () => {
  let corral: Running;
  before(async () => {
    corral = await serveListener(['-w', '2', '--header-timeout', '4']);
  });
  after(() => corral.stop());

  test('a normal client keeps getting answers; the header timeout ends every slow one with 408', async (t) => {
    const pids = workerPids(corral.output());
    const slow = await openTricklers(corral.url, 1000);
    try {
      const openAtStart = slow.open();
      const replies = await normalClient(corral.url, 10);
      assert.deepEqual(
        replies.map((r) => r.status),
        Array(10).fill(200),
      );
      t.diagnostic(`slow connections open when the normal client started: ${openAtStart}`);
      t.diagnostic(`normal client among 1,000 slow connections: ${summary(replies)}`);
      assert.equal(openAtStart, 1000, 'all slow connections were open and held');
      // Every slow connection ends with a 408 from the header timeout (a generous bound).
      for (let i = 0; i < 150 && slow.open() > 0; i++) await sleep(200);
      assert.equal(slow.open(), 0, 'the header timeout closed every slow connection');
      assert.equal(slow.answered408(), 1000);
      assert.equal(workerPids(corral.output()).length, pids.length, 'no worker was replaced');
    } finally {
      slow.stop();
    }
  });
});

describe('1,000 slow clients over the connection cap (2 workers × 300 connections)', () => {
  let corral: Running;
  before(async () => {
    // The header timeout is left long: what frees slots here is the at-capacity sweep.
    corral = await serveListener(['-w', '2', '--worker-connections', '300']);
  });
  after(() => corral.stop());

  test('slots held by connections without a request are freed; the normal client is answered', async (t) => {
    const slow = await openTricklers(corral.url, 1000);
    try {
      const replies = await normalClient(corral.url, 10);
      assert.deepEqual(
        replies.map((r) => r.status),
        Array(10).fill(200),
      );
      t.diagnostic(`normal client, 1,000 slow connections, 600 slots: ${summary(replies)}`);
      t.diagnostic(`slow connections still open after: ${slow.open()}`);
    } finally {
      slow.stop();
    }
  });
});
