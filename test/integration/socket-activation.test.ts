// Sockets handed to corral instead of bound by it: `fd://N`, and systemd socket activation
// (LISTEN_FDS, with LISTEN_PID set to corral's own pid by a shell that then execs it).
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { test } from 'node:test';
import { FIXTURES, get, runCorral, startCorral, terminate } from '../helpers/corral.ts';

const LISTENER = `${FIXTURES}listener.mjs`;
/** What systemd does before exec'ing the service: LISTEN_PID is the service's own pid. */
const ACTIVATE = 'export LISTEN_PID=$$ LISTEN_FDS=1';

interface Passed {
  readonly port: number;
  readonly fd: number;
  /** Close our copy: once corral has its own, ours must not accept anything. */
  release(): void;
}

/** A listening loopback socket, as a .socket unit would hold it, and its fd to pass on. */
async function socketToPass(): Promise<Passed> {
  const server: Server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const fd = (server as unknown as { _handle: { fd: number } })._handle.fd;
  return { port, fd, release: () => server.listening && server.close() };
}

for (const dispatch of ['least-conn', 'shared'] as const) {
  test(`LISTEN_FDS=1 and no bind: the passed socket is served, workers never see LISTEN_* (${dispatch})`, async () => {
    const passed = await socketToPass();
    const server = await startCorral([LISTENER, '-w', '2', '--dispatch', dispatch], {
      shellPrefix: ACTIVATE,
      extraFds: [passed.fd],
    }).finally(passed.release);
    try {
      assert.deepEqual(server.urls, [`http://127.0.0.1:${passed.port}`]);
      assert.match(server.output(), /Listening at: \S+ \(\d+\) \(passed by systemd, fd 3\)/);
      assert.doesNotMatch(server.output(), /:8000/, 'the default bind was not used');
      assert.match((await get(`${server.url}/`)).body, /^listener \d+/);
      for (const name of ['LISTEN_FDS', 'LISTEN_PID']) {
        assert.equal((await get(`${server.url}/env?name=${name}`)).body, '\n', name);
      }
    } finally {
      assert.equal(await server.stop(), 0);
    }
  });
}

test('-b fd://3: an fd handed over by any supervisor is served, no LISTEN_* needed', async () => {
  const passed = await socketToPass();
  const server = await startCorral([LISTENER, '-w', '1', '-b', 'fd://3'], {
    extraFds: [passed.fd],
  }).finally(passed.release);
  try {
    assert.deepEqual(server.urls, [`http://127.0.0.1:${passed.port}`]);
    assert.equal((await get(`${server.url}/`)).status, 200);
  } finally {
    assert.equal(await server.stop(), 0);
  }
});

test('LISTEN_PID of another process: the sockets are not taken, and the log says why', async () => {
  const server = await startCorral([LISTENER, '-w', '1', '-b', '127.0.0.1:0'], {
    env: { LISTEN_PID: '1', LISTEN_FDS: '1' },
  });
  try {
    assert.match(
      server.output(),
      /\[WARNING\] \[master\] LISTEN_FDS=1 is set but LISTEN_PID=1 is not this process \(pid \d+\): not using systemd's sockets/,
    );
    assert.equal((await get(`${server.url}/`)).status, 200);
  } finally {
    assert.equal(await server.stop(), 0);
  }
});

test('binds that leave a passed socket unnamed: exit 2 with one line saying what to do', async () => {
  const passed = await socketToPass();
  try {
    const r = await runCorral([LISTENER, '-w', '1', '-b', '127.0.0.1:0'], {
      shellPrefix: ACTIVATE,
      extraFds: [passed.fd],
    });
    assert.equal(r.code, 2);
    assert.match(
      r.stderr,
      /^corral: systemd passed 1 socket\(s\) \(LISTEN_FDS\) but bind \(127\.0\.0\.1:0\) does not name fd:\/\/3; name each passed socket with -b fd:\/\/N, or set no bind/m,
    );
  } finally {
    passed.release();
  }
});

test('fd:// errors: a closed fd, stdio fds and thread workers are refused with the reason', async () => {
  const closed = await runCorral([LISTENER, '-w', '1', '-b', 'fd://97']);
  assert.equal(closed.code, 1);
  assert.match(closed.stderr, /corral: cannot bind fd:\/\/97: no such file descriptor/);
  const stdio = await runCorral([LISTENER, '-w', '1', '-b', 'fd://1']);
  assert.equal(stdio.code, 2);
  assert.match(
    stdio.stderr,
    /invalid bind "fd:\/\/1": fd:\/\/N needs a file descriptor number ≥ 3/,
  );
  // Threads each bind their own SO_REUSEPORT socket: an inherited fd cannot be split that way.
  const threads = await runCorral([LISTENER, '--threads', '2', '-b', 'fd://3']);
  assert.equal(threads.code, 2);
  assert.match(threads.stderr, /workerClass thread needs TCP binds .* got fd:\/\/3/);
});

// shared: the new master adopts the fd without listening on it itself (bind-only handle).
for (const dispatch of ['least-conn', 'shared'] as const) {
  test(`USR2 under socket activation: the new master serves the same passed socket (${dispatch})`, async () => {
    const passed = await socketToPass();
    const old = await startCorral([LISTENER, '-w', '1', '--dispatch', dispatch], {
      shellPrefix: ACTIVATE,
      extraFds: [passed.fd],
    }).finally(passed.release);
    let newPid = 0;
    try {
      old.proc.kill('SIGUSR2');
      const m = await old.waitFor(
        /\[(\d+)\] \[INFO\] \[master\] Listening at: (\S+) \(\d+\) \(inherited from the previous master\)/,
      );
      newPid = Number(m[1]);
      assert.equal(m[2], `http://127.0.0.1:${passed.port}`);
      await old.waitFor(/ready: 1 worker\(s\) serving[\s\S]*ready: 1 worker\(s\) serving/);
      old.proc.kill('SIGTERM');
      await old.exited;
      const r = await get(`${old.url}/`);
      assert.equal(r.status, 200);
    } finally {
      if (newPid) await terminate(newPid);
      await old.stop('SIGKILL');
    }
  });
}
