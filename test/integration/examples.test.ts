// Every example in examples/: `corral check` recognises its shape, and corral serves it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { get, runCorral, startCorral } from '../helpers/corral.ts';

const EXAMPLES = [
  { spec: 'examples/hello.ts', shape: 'fetch handler', body: /^Hello from corral \(pid \d+\)/ },
  { spec: 'examples/node-http.ts', shape: '(req, res) listener', body: /^Hello from node:http/ },
  { spec: 'examples/express.mjs', shape: 'Express app', body: /^Hello from Express \(pid \d+\)/ },
  { spec: 'examples/fastify.ts:build()', shape: 'Fastify instance', body: /^Hello from Fastify/ },
  { spec: 'examples/hono.ts', shape: 'fetch handler', body: /^Hello from Hono \(pid \d+\)/ },
  { spec: 'examples/koa.mjs', shape: 'Koa app', body: /^Hello from Koa \(pid \d+\)/ },
  {
    spec: 'examples/websocket.mjs',
    shape: '(req, res) listener',
    body: /^WebSocket echo \(pid \d+\)/,
    upgrade: true,
  },
];

for (const ex of EXAMPLES) {
  test(`example ${ex.spec}: corral check names its shape`, async () => {
    const r = await runCorral(['check', ex.spec]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.includes(` ${ex.shape} (`), r.stdout);
    assert.equal(r.stdout.includes('with an upgrade listener'), ex.upgrade === true, r.stdout);
  });

  test(`example ${ex.spec}: served by one worker`, async () => {
    const server = await startCorral([ex.spec, '-w', '1', '-b', '127.0.0.1:0']);
    try {
      const r = await get(`${server.url}/`);
      assert.equal(r.status, 200);
      assert.match(r.body, ex.body);
    } finally {
      assert.equal(await server.stop(), 0);
    }
  });
}

test('example node-http.ts: a JSON POST is read and answered', async () => {
  const server = await startCorral(['examples/node-http.ts', '-w', '1', '-b', '127.0.0.1:0']);
  try {
    const r = await get(`${server.url}/greet`, { method: 'POST', body: '{"name":"Ada"}' });
    assert.equal(r.status, 200);
    assert.equal(JSON.parse(r.body).greeting, 'Hello, Ada');
    assert.equal((await get(`${server.url}/nope`)).status, 404);
  } finally {
    assert.equal(await server.stop(), 0);
  }
});
