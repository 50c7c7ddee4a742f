// sd_notify: what a Type=notify unit hears, received on a real AF_UNIX datagram socket.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { get, serveListener, sleep } from '../helpers/corral.ts';

const hasPython =
  spawnSync('python3', ['-c', 'import socket; socket.AF_UNIX'], {
    stdio: 'ignore',
  }).status === 0;
const hasNotify = spawnSync('systemd-notify', ['--version'], { stdio: 'ignore' }).status === 0;
const skip = !hasPython
  ? 'python3 (for the datagram receiver) is not installed'
  : !hasNotify
    ? 'systemd-notify is not installed'
    : false;

/** Binds a datagram socket and prints each message as one JSON string per line. */
const RECEIVER = `
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print(json.dumps("bound"), flush=True)
while True:
    print(json.dumps(s.recv(65536).decode()), flush=True)
`;

interface Receiver {
  readonly path: string;
  readonly proc: ChildProcess;
  /** Messages received so far, each split into its KEY=VALUE lines. */
  readonly messages: string[][];
  /** Wait for a message with this line; resolves with its index in `messages`. */
  next(line: string, from?: number): Promise<number>;
}

async function receiver(): Promise<Receiver> {
  const path = join(mkdtempSync(join(tmpdir(), 'corral-notify-')), 'notify.sock');
  const proc = spawn('python3', ['-c', RECEIVER, path], { stdio: ['ignore', 'pipe', 'inherit'] });
  const messages: string[][] = [];
  const lines = createInterface({ input: proc.stdout as NodeJS.ReadableStream });
  let bound = false;
  lines.on('line', (l) => {
    const m = JSON.parse(l) as string;
    if (m === 'bound') bound = true;
    else messages.push(m.split('\n'));
  });
  for (let i = 0; i < 200 && !bound; i++) await sleep(25);
  assert.ok(bound && existsSync(path), 'the receiver is bound');
  return {
    path,
    proc,
    messages,
    async next(line, from = 0) {
      for (let i = 0; i < 400; i++) {
        const at = messages.findIndex((m, j) => j >= from && m.includes(line));
        if (at >= 0) return at;
        await sleep(25);
      }
      throw new Error(`no ${line} after message ${from}; got ${JSON.stringify(messages)}`);
    },
  };
}

test('READY=1 once workers serve; RELOADING=1 then READY=1 on HUP; STOPPING=1 on TERM', {
  skip,
}, async () => {
  const rx = await receiver();
  const server = await serveListener(['-w', '2'], { env: { NOTIFY_SOCKET: rx.path } });
  try {
    const ready = await rx.next('READY=1');
    // Sent after the master's "ready" line, i.e. after both workers reported ready.
    assert.match(
      server.output(),
      /booting worker 1[\s\S]*booting worker 2[\s\S]*\] ready: 2 worker/,
    );
    const first = rx.messages[ready] ?? [];
    assert.ok(first.includes(`MAINPID=${server.proc.pid}`), `MAINPID is the master: ${first}`);
    assert.ok(first.some((l) => l.startsWith('STATUS=')));
    assert.equal((await get(`${server.url}/`)).status, 200);

    server.proc.kill('SIGHUP');
    const reloading = await rx.next('RELOADING=1', ready + 1);
    assert.ok(rx.messages[reloading]?.some((l) => /^MONOTONIC_USEC=\d+$/.test(l)));
    const reloaded = await rx.next('READY=1', reloading + 1);
    // READY=1 again only once the replacements serve and the old workers are gone.
    const out = server.output();
    for (const id of [3, 4]) assert.match(out, new RegExp(`worker ${id} \\(pid \\d+\\) ready`));
    for (const id of [1, 2]) assert.match(out, new RegExp(`worker ${id} \\(pid \\d+\\) exited`));
    assert.ok(reloaded > reloading);
    assert.equal((await get(`${server.url}/`)).status, 200);

    const stopAt = rx.messages.length;
    assert.equal(await server.stop('SIGTERM'), 0);
    await rx.next('STOPPING=1', stopAt);
  } finally {
    await server.stop();
    rx.proc.kill();
  }
});

test('workers and the app do not see NOTIFY_SOCKET', { skip }, async () => {
  const rx = await receiver();
  const server = await serveListener(['-w', '1'], { env: { NOTIFY_SOCKET: rx.path } });
  try {
    const r = await get(`${server.url}/env?name=NOTIFY_SOCKET`);
    assert.equal(r.body, '\n');
  } finally {
    assert.equal(await server.stop(), 0);
    rx.proc.kill();
  }
});
