import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseCommandLine } from '../../src/config/argv.ts';
import { resolveConfig } from '../../src/config/resolve.ts';
import { loadWire, protocolsOf } from '../../src/config/tls.ts';

const cwd = fileURLToPath(new URL('../fixtures/apps/', import.meta.url));

async function resolve(argv: string[], env: Record<string, string> = {}) {
  const cl = parseCommandLine(argv);
  return resolveConfig({ cli: cl.values, app: cl.app, env, cwd });
}

const TLS = ['--certfile', 'c.pem', '--keyfile', 'k.pem'];

test("--cert-reqs takes Gunicorn's numbers and the names", async () => {
  for (const [raw, want] of [
    ['0', 'none'],
    ['1', 'optional'],
    ['2', 'required'],
    ['REQUIRED', 'required'],
  ]) {
    const r = await resolve([...TLS, '--cert-reqs', raw as string]);
    assert.equal(r.config.certReqs, want);
  }
  const env = await resolve(TLS, { CORRAL_CERT_REQS: '1' });
  assert.equal(env.config.certReqs, 'optional');
});

test('--http2 adds h2 to --http-protocols; the default is h1 alone', async () => {
  assert.deepEqual([...protocolsOf((await resolve([])).config)], ['h1']);
  assert.deepEqual([...protocolsOf((await resolve([...TLS, '--http2'])).config)], ['h1', 'h2']);
  const listed = await resolve([...TLS, '--http-protocols', 'h2']);
  assert.deepEqual([...protocolsOf(listed.config)], ['h2']);
});

test('settings that only work together are refused, naming both sides', async () => {
  await assert.rejects(resolve(['--keyfile', 'k.pem']), /keyfile "k\.pem" .* needs certfile/);
  await assert.rejects(resolve(['--http-protocols', 'h1,h2']), /h2 .* needs certfile and keyfile/);
  await assert.rejects(
    resolve([...TLS, '--http-protocols', 'h2c']),
    /h2c .* cannot be served over TLS/,
  );
  await assert.rejects(resolve(['--cert-reqs', '2']), /certReqs "required" .* needs certfile/);
  await assert.rejects(resolve(['--ca-certs', 'ca.pem']), /caCerts "ca\.pem" .* needs certfile/);
  await assert.rejects(resolve(['--http-protocols', 'h3']), /invalid httpProtocols/);
});

test('cleartext wires need no files: h1, h2c, or both', async () => {
  assert.deepEqual(loadWire((await resolve([])).config), { tls: null, h1: true, h2: false });
  const both = loadWire((await resolve(['--http-protocols', 'h1,h2c'])).config);
  assert.deepEqual(both, { tls: null, h1: true, h2: true });
});

test('a certificate file that is not there is named with its path', async () => {
  const r = await resolve(['--certfile', '/nonexistent/c.pem', '--keyfile', '/nonexistent/k.pem']);
  assert.throws(
    () => loadWire(r.config),
    /^Error: corral: certfile \(--certfile\) \/nonexistent\/c\.pem: cannot read it \(ENOENT\)$/,
  );
});
