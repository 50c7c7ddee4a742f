/**
 * --queue-timeout in the dispatcher alone, with no worker ready (a fake pool that stays
 * empty): a connection that waited past the limit is answered 503 with Retry-After, counted,
 * and logged once; one that a worker took in time is not shed.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { test } from 'node:test';
import { Dispatcher } from '../../src/master/dispatch.ts';
import type { WorkerHandle } from '../../src/master/worker-handle.ts';
import { asListener, listen } from '../helpers/dispatcher.ts';

function ask(port: number): Promise<string> {
  return new Promise((ok, fail) => {
    const c = connect(port, '127.0.0.1', () => c.write('GET / HTTP/1.1\r\nhost: x\r\n\r\n'));
    let got = '';
    c.setEncoding('utf8');
    c.on('data', (d) => {
      got += d;
    });
    c.on('end', () => ok(got));
    c.on('error', fail);
  });
}

test('a connection that waited past --queue-timeout for a worker gets 503 + Retry-After, counted and logged', {
  timeout: 10_000,
}, async () => {
  const server = await listen();
  const logged: string[] = [];
  const none: WorkerHandle[] = [];
  const d = new Dispatcher(
    () => none,
    () => 1,
    { queueTimeout: () => 0.2, log: (l) => logged.push(l) },
  );
  d.attach([asListener(server)]);
  const port = (server.address() as { port: number }).port;
  const answers = await Promise.all([ask(port), ask(port)]);
  for (const a of answers) {
    assert.match(a, /^HTTP\/1\.1 503 Service Unavailable\r\n/);
    assert.match(a, /\r\nretry-after: 1\r\n/i);
  }
  assert.equal(d.shed, 2);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(logged.filter((l) => l.includes('queue-timeout')).length, 1, logged.join('\n'));
  server.close();
});
