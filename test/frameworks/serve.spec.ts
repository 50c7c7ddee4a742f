// The production entry points of the big frameworks, built from the npm registry and served
// UNCHANGED under corral with two workers: pages and API routes answer 200 from both workers,
// a HUP under load loses nothing, and a TERM to the whole process group (systemd's
// KillMode=control-group, Ctrl+C) lets a request in flight finish — although Next.js, Nitro and
// NestJS install SIGTERM handlers that exit the process.
//
// `npm run test:frameworks` runs this file: `npm ci` in test/frameworks/ (its own lock, so the
// main install stays small), each app's production build, then the checks. FRAMEWORKS_SKIP_INSTALL=1
// reuses an existing test/frameworks/node_modules; FRAMEWORKS=next,nest picks apps.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { delimiter, dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { get, type Running, sleep, startCorral, workerPids } from '../helpers/corral.ts';
import { failures, load } from '../helpers/load.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
const BIN_DIR = join(HERE, 'node_modules', '.bin');

interface App {
  /** The framework, as its docs name it. */
  name: string;
  /** Its folder under test/frameworks/. */
  dir: string;
  /** Packages whose installed versions the test names. */
  packages: string[];
  /** The production build, as the framework's docs give it (a bin of node_modules/.bin + args). */
  build: string[][];
  /** The production entry point as `node ENTRY` would run it, relative to the app's folder. */
  entry: string;
  /** The entry's own arguments (for CLIs): `corral ENTRY … -- ARGS`. */
  args?: string[];
}

const APPS: App[] = [
  {
    name: 'Next.js (output: standalone)',
    dir: 'next',
    packages: ['next', 'react'],
    build: [['next', 'build']],
    // The apps share node_modules in test/frameworks/, Next's tracing root, so the standalone
    // server sits at .next/standalone/<app folder>/server.js.
    entry: '.next/standalone/next/server.js',
  },
  {
    name: 'NestJS',
    dir: 'nest',
    packages: ['@nestjs/core', '@nestjs/platform-express'],
    build: [['tsc', '-p', '.']],
    entry: 'dist/main.js',
  },
  {
    name: 'Nitro (node-server preset)',
    dir: 'nitro',
    packages: ['nitropack'],
    build: [['nitropack', 'build']],
    entry: '.output/server/index.mjs',
  },
  {
    name: 'SvelteKit + adapter-node',
    dir: 'sveltekit',
    packages: ['@sveltejs/kit', '@sveltejs/adapter-node', 'svelte'],
    build: [['vite', 'build']],
    entry: 'build/index.js',
  },
  {
    name: 'Astro + @astrojs/node standalone',
    dir: 'astro',
    packages: ['astro', '@astrojs/node'],
    build: [['astro', 'build']],
    entry: 'dist/server/entry.mjs',
  },
  {
    name: 'React Router framework mode (react-router-serve)',
    dir: 'react-router',
    packages: ['react-router', '@react-router/serve'],
    build: [['react-router', 'build']],
    entry: '../node_modules/@react-router/serve/bin.js',
    args: ['./build/server/index.js'],
  },
];

const picked = process.env.FRAMEWORKS?.split(',').filter(Boolean);
const apps = picked ? APPS.filter((a) => picked.includes(a.dir)) : APPS;

/** PATH with this Node first (the bins' `#!/usr/bin/env node`) and the apps' bins. */
const toolEnv = {
  ...process.env,
  PATH: [dirname(process.execPath), BIN_DIR, process.env.PATH ?? ''].join(delimiter),
  NEXT_TELEMETRY_DISABLED: '1',
  ASTRO_TELEMETRY_DISABLED: '1',
  NUXT_TELEMETRY_DISABLED: '1',
  CI: '1',
};

/** Run a command to completion; throws with the tail of its output when it fails. */
function run(cmd: string, args: string[], cwd: string, timeoutMs = 600_000): Promise<void> {
  return new Promise((done, fail) => {
    const child = spawn(cmd, args, { cwd, env: toolEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', fail);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) done();
      else
        fail(
          new Error(`${cmd} ${args.join(' ')} (in ${cwd}): ${code ?? signal}\n${out.slice(-4000)}`),
        );
    });
  });
}

function version(pkg: string): string {
  const file = join(HERE, 'node_modules', pkg, 'package.json');
  return existsSync(file)
    ? (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version
    : '?';
}

/** A port free on 127.0.0.1 right now: the fixed `-b 127.0.0.1:P` a deployment would use. */
function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const s = createServer();
    s.on('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => done(port));
    });
  });
}

/** Access log lines `ACCESS <pid> PATH STATUS` that corral writes to stdout. */
const ACCESS_FORMAT = 'ACCESS %(p)s %(U)s %(s)s';
function accessLog(output: string): { pid: string; path: string; status: number }[] {
  return [...output.matchAll(/^ACCESS <(\d+)> (\S+) (\d+)$/gm)].map((m) => ({
    pid: m[1] as string,
    path: m[2] as string,
    status: Number(m[3]),
  }));
}

before(async () => {
  if (process.env.FRAMEWORKS_SKIP_INSTALL === '1' && existsSync(BIN_DIR)) return;
  await run('npm', ['ci', '--no-audit', '--no-fund'], HERE);
});

for (const app of apps) {
  const cwd = join(HERE, app.dir);
  const label = `${app.name}: ${app.packages.map((p) => `${p}@${version(p)}`).join(', ')}`;

  describe(app.name, () => {
    let server: Running | undefined;
    let port = 0;

    after(async () => {
      // Whatever is left of this app's corral (master and workers): its process group.
      if (server && server.proc.exitCode === null)
        process.kill(-(server.proc.pid as number), 'SIGKILL');
      if (server) await server.exited;
    });

    test(`build (${app.build.map((c) => c.join(' ')).join(' && ')})`, async () => {
      console.log(`# ${label}`);
      for (const [bin, ...args] of app.build) await run(join(BIN_DIR, bin as string), args, cwd);
      assert.ok(existsSync(join(cwd, app.entry)), `${app.entry} was built`);
    });

    test(`corral ${app.entry} -w 2 ${app.args ? `-- ${app.args.join(' ')}` : ''}: page and API route 200 from both workers`, async () => {
      assert.ok(existsSync(join(cwd, app.entry)), 'built');
      port = await freePort();
      const argv = [
        app.entry,
        '-w',
        '2',
        '-b',
        `127.0.0.1:${port}`,
        '--access-logfile',
        '-',
        '--access-logformat',
        ACCESS_FORMAT,
        ...(app.args ? ['--', ...app.args] : []),
      ];
      server = await startCorral(argv, {
        cwd,
        detached: true,
        env: { NEXT_TELEMETRY_DISABLED: '1', ASTRO_TELEMETRY_DISABLED: '1' },
        ready: /worker 2 \(pid \d+\) ready/,
      });
      await server.waitFor(/worker 1 \(pid \d+\) ready/);
      const base = `http://127.0.0.1:${port}`;
      const workers = workerPids(server.output()).map(String);
      assert.equal(workers.length, 2);

      // Rounds of 8 connections at once, each asking for the API route and then the page on the
      // same keep-alive connection, until both workers have answered both.
      const seen = new Map<string, Set<string>>();
      for (let round = 0; round < 10 && !both(seen, workers); round++) {
        await Promise.all(
          Array.from({ length: 8 }, async () => {
            const r = await load({ url: `${base}/api/pid`, connections: 1, total: 1 });
            assert.equal(failures(r), '{"errors":{},"non2xx":{}}');
          }),
        );
        await Promise.all(
          Array.from({ length: 8 }, async () => {
            const page = await get(`${base}/`);
            assert.equal(page.status, 200, page.body.slice(0, 500));
            assert.match(page.body, /page/i);
          }),
        );
        await sleep(100); // access log lines are written when the response ends
        for (const e of accessLog(server.output())) {
          assert.equal(e.status, 200, `${e.path} answered ${e.status}`);
          if (!seen.has(e.pid)) seen.set(e.pid, new Set());
          seen.get(e.pid)?.add(e.path);
        }
      }
      assert.ok(
        both(seen, workers),
        `by worker: ${JSON.stringify([...seen].map(([p, s]) => [p, [...s]]))}`,
      );

      // The API route runs in the worker, not somewhere else: it reports a worker's pid.
      const api = await get(`${base}/api/pid`);
      assert.equal(api.status, 200);
      const { pid } = JSON.parse(api.body) as { pid: number };
      assert.ok(workers.includes(String(pid)), `API pid ${pid} is a worker (${workers})`);
    });

    test('HUP under load (8 connections, ≥ 2,000 requests): every request answered 200, both workers replaced', async () => {
      const s = server;
      assert.ok(s, 'serving');
      const base = `http://127.0.0.1:${port}`;
      const first = workerPids(s.output()).slice(0, 2).map(String);
      const pid = s.proc.pid as number;
      const hup = (async () => {
        await sleep(300);
        process.kill(pid, 'SIGHUP');
        await s.waitFor(/worker 4 \(pid \d+\) ready/, 60_000);
        await sleep(500);
      })();
      const r = await load({
        url: `${base}/api/pid`,
        connections: 8,
        total: 2000,
        until: hup,
        maxMs: 120_000,
      });
      await hup;
      assert.equal(failures(r), '{"errors":{},"non2xx":{}}');
      assert.equal(r.answered, r.issued);
      await sleep(300);
      const afterHup = await load({ url: `${base}/api/pid`, connections: 8, total: 200 });
      assert.equal(failures(afterHup), '{"errors":{},"non2xx":{}}');
      assert.equal(afterHup.pids.size, 2, `two workers after the HUP: ${[...afterHup.pids]}`);
      for (const p of first) assert.equal(afterHup.pids.has(p), false, `worker ${p} was replaced`);
    });

    test('TERM to the whole process group with a request in flight: it completes, corral exits 0', async () => {
      assert.ok(server, 'serving');
      const slow = get(`http://127.0.0.1:${port}/api/slow`);
      await sleep(500); // the request is now in a worker, 1 s from its answer
      process.kill(-(server.proc.pid as number), 'SIGTERM');
      const reply = await slow;
      assert.equal(reply.status, 200, reply.body.slice(0, 500));
      assert.match(reply.body, /"slow":true/);
      assert.equal(await server.exited, 0, server.output().slice(-3000));
      server = undefined;
    });
  });
}

function both(seen: Map<string, Set<string>>, workers: string[]): boolean {
  return workers.every((w) => seen.get(w)?.has('/') && seen.get(w)?.has('/api/pid'));
}
