// --keep-alive: the header says how long an idle connection is kept; the connection is reused
// within that time, and closed by corral (not reset) once idle past it, never before.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { test } from 'node:test';
import { serveListener, sleep } from '../helpers/corral.ts';
import { hostPort } from '../helpers/raw.ts';

test('--keep-alive 1: Keep-Alive: timeout=1, reused within it, closed with a FIN after it', async () => {
  const server = await serveListener(['-w', '1', '--keep-alive', '1']);
  try {
    const { host, port } = hostPort(server.url);
    const socket = connect({ host, port });
    socket.setEncoding('latin1');
    let received = '';
    let lastAnswer = 0;
    socket.on('data', (d: string) => {
      received += d;
      lastAnswer = performance.now();
    });
    const ended = new Promise<number>((done) => socket.once('end', () => done(performance.now())));
    const closed = new Promise<boolean>((done) =>
      socket.once('close', (hadError) => done(hadError)),
    );
    socket.on('error', () => {});
    const ask = () => socket.write(`GET / HTTP/1.1\r\nHost: x\r\n\r\n`);
    await new Promise((ok) => socket.once('connect', ok));
    ask();
    await sleep(500);
    ask();
    await sleep(300);
    const answers = received.match(/HTTP\/1\.1 200 /g) ?? [];
    assert.equal(answers.length, 2, 'both requests answered on the one connection');
    assert.match(received, /keep-alive: timeout=1\r\n/i);
    const endAt = await Promise.race([ended, sleep(8000).then(() => -1)]);
    assert.notEqual(endAt, -1, 'corral closed the idle connection');
    assert.ok(endAt - lastAnswer >= 1000, 'not before the advertised timeout');
    assert.equal(await closed, false, 'a FIN, not a reset');
    socket.destroy();
  } finally {
    assert.equal(await server.stop(), 0);
  }
});
