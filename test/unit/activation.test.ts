import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chooseBinds, clearActivation, socketActivation } from '../../src/master/activation.ts';
import { parseBind } from '../../src/master/listeners.ts';

test('socketActivation: fds 3.. only when LISTEN_PID is this process', () => {
  assert.deepEqual(socketActivation({ LISTEN_PID: '42', LISTEN_FDS: '2' }, 42), {
    fds: [3, 4],
    ignored: null,
  });
  assert.deepEqual(socketActivation({}, 42), { fds: [], ignored: null });
  const other = socketActivation({ LISTEN_PID: '7', LISTEN_FDS: '1' }, 42);
  assert.deepEqual(other.fds, []);
  assert.match(other.ignored ?? '', /LISTEN_PID=7 is not this process \(pid 42\)/);
  assert.deepEqual(socketActivation({ LISTEN_PID: '42', LISTEN_FDS: 'x' }, 42).fds, []);
  const env: Record<string, string | undefined> = {
    LISTEN_PID: '1',
    LISTEN_FDS: '1',
    LISTEN_FDNAMES: 'web',
    KEEP: 'y',
  };
  clearActivation(env);
  assert.deepEqual(env, { KEEP: 'y' });
});

test('chooseBinds: passed sockets replace the default bind; explicit binds must name them', () => {
  const none = { configured: ['127.0.0.1:8000'], explicit: false, activated: [], inherited: [] };
  assert.deepEqual(chooseBinds(none).binds, ['127.0.0.1:8000']);
  const activated = chooseBinds({ ...none, activated: [3, 4] });
  assert.deepEqual(activated.binds, ['fd://3', 'fd://4']);
  assert.equal(activated.origin.get('fd://4'), 'passed by systemd, fd 4');
  // A USR2 master finds the activated sockets in what the old master passed on.
  assert.deepEqual(chooseBinds({ ...none, inherited: ['fd://3'] }).binds, ['fd://3']);
  assert.deepEqual(chooseBinds({ ...none, inherited: ['127.0.0.1:8000'] }).binds, [
    '127.0.0.1:8000',
  ]);
  const named = { configured: ['fd://3', 'unix:/run/a.sock'], explicit: true, inherited: [] };
  assert.deepEqual(chooseBinds({ ...named, activated: [3] }).binds, ['fd://3', 'unix:/run/a.sock']);
  assert.throws(() => chooseBinds({ ...named, activated: [3, 4] }), {
    message: /does not name fd:\/\/4; name each passed socket with -b fd:\/\/N/,
  });
});

test('parseBind: fd://N', () => {
  assert.deepEqual(parseBind('fd://3'), { kind: 'fd', fd: 3, spec: 'fd://3' });
  assert.throws(() => parseBind('fd://2'), { message: /needs a file descriptor number ≥ 3/ });
  assert.throws(() => parseBind('fd://x'), { message: /needs a file descriptor number ≥ 3/ });
  assert.throws(() => parseBind('a:b:c'), {
    message: /HOST:PORT, \[IPv6\]:PORT, unix:PATH or fd:\/\/N/,
  });
});
