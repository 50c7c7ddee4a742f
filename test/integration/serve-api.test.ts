// serve() from code: the same settings as a config file, typed; resolves when the workers are
// ready; close() stops gracefully and frees the port; bad input rejects with the CLI's line.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { type CorralServer, defineConfig, serve, type UserConfig } from '../../src/index.ts';
import { FIXTURES, get, LISTENER, runCorral } from '../helpers/corral.ts';

// Node 22 has Symbol.asyncDispose but not `await using`: that module does not parse there.
const usingSyntax = await import('../fixtures/await-using.ts').catch((err: unknown) => {
  if (err instanceof SyntaxError && Number(process.versions.node.split('.')[0]) < 24) return null;
  throw err;
});

const dir = mkdtempSync(join(tmpdir(), 'corral-serve-api-'));
after(() => rmSync(dir, { recursive: true, force: true }));
/** The error log of these servers goes to a file, not the test's output. */
const errorLogfile = join(dir, 'error.log');

function canBind(port: number): Promise<boolean> {
  return new Promise((done) => {
    const s = createServer();
    s.once('error', () => done(false));
    s.listen(port, '127.0.0.1', () => s.close(() => done(true)));
  });
}

describe('serve() from code', () => {
  test('two workers answer; close() drains, closes and frees the port', async () => {
    const signalsBefore = process.listenerCount('SIGTERM') + process.listenerCount('SIGHUP');
    let ready = 0;
    const server: CorralServer = await serve({
      app: LISTENER,
      workers: 2,
      bind: '127.0.0.1:0',
      maxWorkerMemory: '512MiB',
      errorLogfile,
      whenReady: () => {
        ready++;
      },
    });
    const url = server.urls[0] as string;
    const port = Number(new URL(url).port);
    assert.ok(port > 0, url);
    assert.equal(server.config.maxWorkerMemory, 512 * 2 ** 20, "typed input '512MiB'");
    assert.deepEqual(server.config.bind, ['127.0.0.1:0'], 'one bind string');
    assert.equal(ready, 1, 'resolved once the whenReady hook had run');
    assert.equal(
      process.listenerCount('SIGTERM') + process.listenerCount('SIGHUP'),
      signalsBefore,
      "the caller's signals are left alone",
    );
    const pids = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const r = await get(`${url}/`);
      assert.equal(r.status, 200);
      pids.add(r.body.split(' ')[1] as string);
    }
    assert.equal(server.status().workers.length, 2);
    assert.equal(await canBind(port), false, 'the port is held while serving');
    await server.close();
    assert.equal(await server.closed, 0);
    assert.equal(await canBind(port), true, 'close() freed the port');
    await server.close(); // again: nothing more to do
    assert.match(readFileSync(errorLogfile, 'utf8'), /graceful stop/);
  });

  test('[Symbol.asyncDispose]() closes it', async () => {
    const server = await serve({ app: LISTENER, workers: 1, bind: ['127.0.0.1:0'], errorLogfile });
    const port = Number(new URL(server.urls[0] as string).port);
    assert.equal((await get(`${server.urls[0]}/`)).status, 200);
    await server[Symbol.asyncDispose]();
    assert.equal(await server.closed, 0);
    assert.equal(await canBind(port), true);
  });

  test('await using closes it', {
    skip: usingSyntax ? false : 'no `await using` in this Node',
  }, async () => {
    const port = await (usingSyntax as NonNullable<typeof usingSyntax>).serveInBlock(
      serve,
      { app: LISTENER, workers: 1, bind: ['127.0.0.1:0'], errorLogfile },
      async (url) => assert.equal((await get(`${url}/`)).status, 200),
    );
    assert.equal(await canBind(port), true);
  });

  test('bad settings reject with the command line’s one-line message', async () => {
    await assert.rejects(serve({ app: LISTENER, workers: 'banana' as never, errorLogfile }), {
      message:
        /^corral: invalid workers \(-w\/--workers\) from serve\(\) options: "banana"; allowed: an integer from 0/,
    });
    await assert.rejects(
      serve({ app: LISTENER, wokers: 2, errorLogfile } as unknown as UserConfig & { app: string }),
      { message: 'corral: unknown setting wokers in serve() options (did you mean workers?)' },
    );
    await assert.rejects(serve({ app: 'no/such/app.mjs', errorLogfile }), {
      message: /^corral: app file not found: no\/such\/app.mjs/,
    });
    await assert.rejects(serve({ app: LISTENER, preRequest: () => {}, errorLogfile }), {
      message: /^corral: hook preRequest runs in the worker processes/,
    });
    await assert.rejects(serve({ app: LISTENER, workers: 0, errorLogfile }), {
      message: /serve\(\) runs worker processes/,
    });
  });

  test('an app that cannot boot, or a port in use, rejects; nothing is left running', async () => {
    await assert.rejects(
      serve({ app: `${FIXTURES}boot-fail.mjs`, workers: 1, bind: '127.0.0.1:0', errorLogfile }),
      { message: /database is not reachable/ },
    );
    const holder = createServer();
    await new Promise<void>((r) => holder.listen(0, '127.0.0.1', () => r()));
    const { port } = holder.address() as { port: number };
    try {
      await assert.rejects(
        serve({ app: LISTENER, workers: 1, bind: `127.0.0.1:${port}`, errorLogfile }),
        { message: /127\.0\.0\.1:\d+/ },
      );
    } finally {
      holder.close();
    }
  });
});

describe('defineConfig', () => {
  test('takes typed input values, and a function (as Vite does)', async () => {
    const object = defineConfig({ maxWorkerMemory: '1GiB', bind: '0.0.0.0:8080', workers: 'io' });
    assert.equal(object.maxWorkerMemory, '1GiB');
    const fn = defineConfig(async () => ({ workers: 2, memoryReserve: '64MiB' }));
    assert.equal(typeof fn, 'function');
    // @ts-expect-error: not a size
    defineConfig({ maxWorkerMemory: 'lots' });
    // @ts-expect-error: not a worker class
    defineConfig({ workerClass: 'forking' });
    defineConfig({ workerClass: 'gthread', logLevel: 'warn' }); // Gunicorn's alias, pino's name

    const file = join(dir, 'corral.config.mjs');
    writeFileSync(
      file,
      "export default async () => ({ workers: 3, maxWorkerMemory: '256MiB', bind: '127.0.0.1:9' });\n",
    );
    const r = await runCorral(['config', LISTENER, '-c', file, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const { settings } = JSON.parse(r.stdout) as {
      settings: Record<string, { value: unknown }>;
    };
    assert.equal(settings.workers?.value, 3);
    assert.equal(settings.maxWorkerMemory?.value, 256 * 2 ** 20);
    assert.deepEqual(settings.bind?.value, ['127.0.0.1:9']);
  });
});
