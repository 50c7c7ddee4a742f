// The production entry points of the big frameworks, built from the npm registry and served
// UNCHANGED under corral with two workers: pages and API routes answer 200 from both workers,
// a HUP under load loses nothing, and a TERM to the whole process group (systemd's
// KillMode=control-group, Ctrl+C) lets a request in flight finish — although Next.js, Nitro and
// NestJS install SIGTERM handlers that exit the process. Then each framework's own handler
// export (docs/frameworks.md), also from both workers.
//
// `npm run test:frameworks` runs this file: `npm ci` in test/frameworks/ (its own lock, so the
// main install stays small), each app's production build, then the checks.
// FRAMEWORKS_SKIP_INSTALL=1 reuses an installed test/frameworks/node_modules; FRAMEWORKS=next,nest
// picks apps by folder.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { get, type Running, sleep, startCorral, workerPids } from '../helpers/corral.ts';
import { failures, load, loadThrough } from '../helpers/load.ts';
import {
  type App,
  buildApp,
  freePort,
  HERE,
  install,
  pickedApps,
  QUIET_ENV,
  versions,
} from './apps.ts';

/** Access log lines `ACCESS <pid> PATH STATUS` that corral writes to stdout. */
const ACCESS_FORMAT = 'ACCESS %(p)s %(U)s %(s)s';

function accessLog(output: string): { pid: string; path: string; status: number }[] {
  return [...output.matchAll(/^ACCESS <(\d+)> (\S+) (\d+)$/gm)].map((m) => ({
    pid: m[1] as string,
    path: m[2] as string,
    status: Number(m[3]),
  }));
}

/** corral APP -w 2 -b 127.0.0.1:P (in its own process group), ready once both workers are. */
async function serve(app: App, target: string, args: string[] = []): Promise<Running> {
  const port = await freePort();
  const argv = [
    target,
    '-w',
    '2',
    '-b',
    `127.0.0.1:${port}`,
    '--access-logfile',
    '-',
    '--access-logformat',
    ACCESS_FORMAT,
    ...(args.length ? ['--', ...args] : []),
  ];
  const server = await startCorral(argv, {
    cwd: join(HERE, app.dir),
    detached: true,
    env: QUIET_ENV,
    ready: /worker 2 \(pid \d+\) ready/,
  });
  await server.waitFor(/worker 1 \(pid \d+\) ready/);
  assert.equal(server.url, `http://127.0.0.1:${port}`);
  return server;
}

/**
 * Rounds of 8 new connections at once to the API route, then 8 to the page, until corral's
 * access log shows both workers answering both with 200.
 */
async function bothWorkersAnswer(server: Running): Promise<void> {
  const workers = workerPids(server.output()).map(String);
  assert.equal(workers.length, 2);
  const seen = new Map<string, Set<string>>();
  const done = () => workers.every((w) => seen.get(w)?.has('/') && seen.get(w)?.has('/api/pid'));
  for (let round = 0; round < 10 && !done(); round++) {
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        const api = await get(`${server.url}/api/pid`);
        assert.equal(api.status, 200, api.body.slice(0, 500));
        // The API route runs in a worker and says which.
        const { pid } = JSON.parse(api.body) as { pid: number };
        assert.ok(workers.includes(String(pid)), `API pid ${pid} is a worker (${workers})`);
      }),
    );
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        const page = await get(`${server.url}/`);
        assert.equal(page.status, 200, page.body.slice(0, 500));
        assert.match(page.body, /page/i);
      }),
    );
    await sleep(100); // access log lines are written as responses end
    for (const e of accessLog(server.output())) {
      assert.equal(e.status, 200, `${e.path} answered ${e.status}`);
      if (!seen.has(e.pid)) seen.set(e.pid, new Set());
      seen.get(e.pid)?.add(e.path);
    }
  }
  assert.ok(done(), `by worker: ${JSON.stringify([...seen].map(([p, s]) => [p, [...s]]))}`);
}

/** SIGKILL to what is left of a corral's process group, then wait for the master. */
async function killGroup(server: Running | undefined): Promise<void> {
  if (!server) return;
  if (server.proc.exitCode === null && server.proc.signalCode === null)
    process.kill(-(server.proc.pid as number), 'SIGKILL');
  await server.exited;
}

before(install);

for (const app of pickedApps()) {
  const built = () => existsSync(join(HERE, app.dir, app.entry));

  describe(app.name, () => {
    let server: Running | undefined;
    after(() => killGroup(server));

    test(`build: ${app.build.map((s) => [s.bin, ...s.args].join(' ')).join(' && ')}`, async () => {
      await buildApp(app);
      console.log(`# ${app.name}: ${versions(app)}`);
      assert.ok(built(), `${app.entry} was built`);
    });

    const cmd = `corral ${app.entry} -w 2${app.args ? ` -- ${app.args.join(' ')}` : ''}`;
    test(`${cmd}: page and API route 200 from both workers`, async () => {
      assert.ok(built(), 'built');
      server = await serve(app, app.entry, app.args);
      await bothWorkersAnswer(server);
    });

    test('HUP under load (8 connections, ≥ 2,000 requests): all 200, both workers replaced', async () => {
      const s = server;
      assert.ok(s, 'serving');
      const first = workerPids(s.output()).slice(0, 2).map(String);
      const hup = (async () => {
        await sleep(300);
        process.kill(s.proc.pid as number, 'SIGHUP');
        await s.waitFor(/worker 4 \(pid \d+\) ready/, 60_000);
        await sleep(500);
      })();
      await loadThrough(
        {
          url: `${s.url}/api/pid`,
          connections: 8,
          total: 2000,
          maxMs: 120_000,
        },
        hup,
      );
      await sleep(300);
      const next = await load({ url: `${s.url}/api/pid`, connections: 8, total: 200 });
      assert.equal(failures(next), '{"errors":{},"non2xx":{}}');
      assert.equal(next.pids.size, 2, `two workers after the HUP: ${[...next.pids]}`);
      for (const p of first) assert.equal(next.pids.has(p), false, `worker ${p} was replaced`);
    });

    test('TERM to the whole process group with a request in flight: it completes, exit 0', async () => {
      const s = server;
      assert.ok(s, 'serving');
      const slow = get(`${s.url}/api/slow`);
      await sleep(500); // the request is now in a worker, 1 s from its answer
      process.kill(-(s.proc.pid as number), 'SIGTERM');
      const reply = await slow;
      assert.equal(reply.status, 200, reply.body.slice(0, 500));
      assert.match(reply.body, /"slow":true/);
      assert.equal(await s.exited, 0, s.output().slice(-3000));
      server = undefined;
    });

    test(`the handler export, corral ${app.handler} -w 2: page and API route 200 from both workers`, async () => {
      assert.ok(built(), 'built');
      await killGroup(server);
      server = await serve(app, app.handler);
      await bothWorkersAnswer(server);
      assert.equal(await server.stop('SIGTERM'), 0, server.output().slice(-3000));
      server = undefined;
    });
  });
}
