// The access log as written by real workers: Gunicorn's text format, pino-shaped JSON, and
// rotation (rename, USR1, new file) without losing a line.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, renameSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { get, serveListener, sleep } from '../helpers/corral.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'corral-access-'));
const lines = (file: string) =>
  existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (check()) return;
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}`);
}

test('Gunicorn format: a known request renders the expected line', async () => {
  const file = join(tmp(), 'access.log');
  const format =
    '%(h)s %(l)s %(u)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %({x-id}i)s %({x-pid}o)s %({REGION}e)s';
  const server = await serveListener([
    '-w',
    '1',
    '--access-logfile',
    file,
    '--access-logformat',
    format,
    '-e',
    'REGION=eu-1',
  ]);
  let pid = '';
  try {
    const r = await get(`${server.url}/hello?x=1`, {
      headers: {
        'user-agent': 'probe/1',
        referer: 'http://ref.example/',
        'x-id': 'abc',
        authorization: `Basic ${Buffer.from('ann:pw').toString('base64')}`,
      },
    });
    assert.equal(r.status, 200);
    pid = String(r.headers['x-pid']);
  } finally {
    assert.equal(await server.stop(), 0);
  }
  // The listener fixture answers with writeHead(...) and no content-length: b renders -.
  assert.deepEqual(lines(file), [
    `127.0.0.1 - ann "GET /hello?x=1 HTTP/1.1" 200 - "http://ref.example/" "probe/1" abc ${pid} eu-1`,
  ]);
});

test("json format: one JSON object per line with pino's fields", async () => {
  const file = join(tmp(), 'access.json');
  const server = await serveListener([
    '-w',
    '2',
    '--access-logfile',
    file,
    '--access-logformat',
    'json',
  ]);
  try {
    for (let i = 0; i < 5; i++) {
      const r = await get(`${server.url}/item/${i}`, { headers: { 'user-agent': 'probe/2' } });
      assert.equal(r.status, 200);
    }
    assert.equal((await get(`${server.url}/throw`)).status, 500);
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    assert.equal((await get(`${server.url}/traced`, { headers: { traceparent } })).status, 200);
  } finally {
    assert.equal(await server.stop(), 0);
  }
  const parsed = lines(file).map((l) => JSON.parse(l));
  assert.equal(parsed.length, 7);
  const traced = parsed.find((p) => p.req.url === '/traced');
  assert.equal(traced.trace_id, '4bf92f3577b34da6a3ce929d0e0e4736');
  assert.equal(traced.span_id, '00f067aa0ba902b7');
  assert.equal(parsed.find((p) => p.req.url === '/item/0').trace_id, undefined);
  for (const p of parsed) {
    assert.equal(p.level, 30);
    assert.equal(typeof p.time, 'number');
    assert.ok(Math.abs(Date.now() - p.time) < 600_000, 'time is epoch milliseconds');
    assert.equal(typeof p.pid, 'number');
    assert.equal(p.hostname, hostname());
    assert.equal(typeof p.msg, 'string');
    assert.equal(p.req.method, 'GET');
    assert.equal(p.req.remoteAddress, '127.0.0.1');
    assert.equal(typeof p.req.remotePort, 'number');
    assert.equal(p.req.protocol, 'HTTP/1.1');
    assert.equal(typeof p.responseTime, 'number');
  }
  const urls = parsed.map((p) => p.req.url).sort();
  assert.deepEqual(urls, [
    '/item/0',
    '/item/1',
    '/item/2',
    '/item/3',
    '/item/4',
    '/throw',
    '/traced',
  ]);
  const item = parsed.find((p) => p.req.url === '/item/0');
  assert.equal(item.req.headers['user-agent'], 'probe/2');
  assert.equal(item.res.statusCode, 200);
  assert.equal(item.msg, 'GET /item/0 200');
  assert.equal(parsed.find((p) => p.req.url === '/throw').res.statusCode, 500);
});

test('USR1 after a rename: new lines go to a new file, none is lost', async () => {
  const dir = tmp();
  const file = join(dir, 'access.log');
  const rotated = join(dir, 'access.log.1');
  const server = await serveListener([
    '-w',
    '2',
    '--log-level',
    'debug',
    '--access-logfile',
    file,
    '--access-logformat',
    '%(U)s',
  ]);
  const before = 40;
  const after = 40;
  try {
    for (let i = 0; i < before; i++) await get(`${server.url}/before/${i}`);
    await until(() => lines(file).length === before, 'the lines before rotation');
    renameSync(file, rotated);
    server.proc.kill('SIGUSR1');
    // Both workers say so (debug level) once their access log points at the new file.
    await server.waitFor(/(\[worker \d+\] log files reopened[\s\S]*){2}/);
    assert.ok(existsSync(file), 'the workers created the file again');
    for (let i = 0; i < after; i++) await get(`${server.url}/after/${i}`);
  } finally {
    assert.equal(await server.stop(), 0);
  }
  const old = lines(rotated);
  const fresh = lines(file);
  assert.equal(old.length + fresh.length, before + after, 'no line lost or doubled');
  assert.ok(old.every((l) => l.startsWith('/before/')));
  assert.deepEqual(
    fresh.map((l) => l.split(' ')[0]).sort(),
    Array.from({ length: after }, (_, i) => `/after/${i}`).sort(),
  );
});
