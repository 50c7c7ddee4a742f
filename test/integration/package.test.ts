// The published package runs compiled JS (Node does not strip types under node_modules):
// build it and serve from dist/. Then the package as a user gets it: `npm pack`, installed
// into an empty project, run with npx and imported from code.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { cleanEnv, FIXTURES, get, ROOT } from '../helpers/corral.ts';

test('npm run build produces a dist/ CLI that serves', async () => {
  execFileSync(
    process.execPath,
    [`${ROOT}node_modules/typescript/bin/tsc`, '-p', 'tsconfig.build.json'],
    { cwd: ROOT },
  );
  assert.ok(existsSync(`${ROOT}dist/cli.js`));
  assert.ok(existsSync(`${ROOT}dist/index.d.ts`), 'types ship too');
  const proc = spawn(
    process.execPath,
    [`${ROOT}dist/cli.js`, `${FIXTURES}fetch.ts`, '-w', '1', '-b', '127.0.0.1:0'],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let err = '';
  proc.stderr.on('data', (d) => (err += d));
  for (let i = 0; i < 200 && !/ready: /.test(err); i++) await new Promise((r) => setTimeout(r, 50));
  try {
    const url = /Listening at: (\S+)/.exec(err)?.[1];
    assert.ok(url, err);
    assert.match((await get(`${url}/`)).body, /^fetch \d+/);
    assert.match(err, /worker 1 \(pid \d+\) ready/);
  } finally {
    proc.kill('SIGTERM');
    await once(proc, 'exit');
  }
});

/** npm and npx run by this Node (24), whatever `node` is first on the caller's PATH. */
const env = { ...cleanEnv(), PATH: `${dirname(process.execPath)}:${process.env.PATH}` };

function npm(args: string[], cwd: string): string {
  return execFileSync('npm', [...args, '--no-audit', '--no-fund', '--prefer-offline'], {
    cwd,
    env,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Run a command in `cwd` to its end (bounded): exit code and output. */
async function run(cmd: string, args: string[], cwd: string) {
  const proc = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (d) => (stdout += d));
  proc.stderr.on('data', (d) => (stderr += d));
  const killer = setTimeout(() => proc.kill('SIGKILL'), 30_000);
  const [code] = await once(proc, 'exit');
  clearTimeout(killer);
  return { code: code as number | null, stdout, stderr };
}

const APP = "export default (req, res) => res.end('hello from ' + process.pid);\n";

test('the packed package installs small, serves with npx, and tune says how to get its load generator', async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'corral-package-'));
  t.after(() => rmSync(work, { recursive: true, force: true }));
  npm(['pack', '--pack-destination', work], ROOT);
  const tarball = readdirSync(work).find((f) => f.endsWith('.tgz'));
  assert.ok(tarball, 'npm pack wrote a tarball');
  const project = join(work, 'project');
  execFileSync('mkdir', [project]);
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify({ name: 'empty', private: true, type: 'module' }),
  );
  writeFileSync(join(project, 'app.mjs'), APP);
  npm(['install', join(work, tarball)], project);

  // Every installed package, corral included; the project itself is the first line.
  const tree = npm(['ls', '--omit=dev', '--all', '--parseable'], project)
    .trim()
    .split('\n')
    .slice(1);
  t.diagnostic(`installed runtime tree: ${tree.length} packages`);
  assert.ok(tree.length <= 8, `≤ 8 packages, got ${tree.length}:\n${tree.join('\n')}`);
  assert.ok(!tree.some((p) => p.endsWith('/autocannon')), 'the load generator is not installed');

  const proc = spawn('npx', ['corral', 'app.mjs', '-w', '1', '-b', '127.0.0.1:0'], {
    cwd: project,
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: true,
  });
  let err = '';
  proc.stderr.on('data', (d) => (err += d));
  try {
    for (let i = 0; i < 300 && !/ready: /.test(err); i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const url = /Listening at: (\S+)/.exec(err)?.[1];
    assert.ok(url, err);
    assert.match((await get(`${url}/`)).body, /^hello from \d+/);
  } finally {
    // npx runs corral as its child: stop the whole group.
    process.kill(-(proc.pid as number), 'SIGTERM');
    await once(proc, 'exit');
  }

  const tune = await run('npx', ['corral', 'tune', 'app.mjs'], project);
  assert.equal(tune.code, 2, tune.stderr);
  const lines = tune.stderr.trim().split('\n');
  assert.equal(lines.length, 1, tune.stderr);
  assert.match(lines[0] as string, /autocannon .*npm install --save-dev autocannon/);

  // serve() from code, imported by name from the installed package. The script must end by
  // itself after close(): nothing of the server is left holding its event loop.
  writeFileSync(join(project, 'serve.mjs'), SERVE_SCRIPT);
  const served = await run(process.execPath, ['serve.mjs'], project);
  assert.equal(served.code, 0, served.stderr);
  const result = JSON.parse(served.stdout) as {
    statuses: number[];
    pids: number;
    workers: number;
    rebind: string;
  };
  assert.deepEqual(new Set(result.statuses), new Set([200]));
  assert.equal(result.workers, 2);
  assert.equal(result.rebind, 'free', 'close() freed the port');
});

const SERVE_SCRIPT = `import { createServer } from 'node:net';
import { serve } from 'corral';

const freePort = () =>
  new Promise((done) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => done(port));
    });
  });
const port = await freePort();
const server = await serve({ app: './app.mjs', workers: 2, bind: ['127.0.0.1:' + port], logLevel: 'warn' });
const statuses = [];
const pids = new Set();
for (let i = 0; i < 10; i++) {
  const res = await fetch('http://127.0.0.1:' + port + '/', { headers: { connection: 'close' } });
  statuses.push(res.status);
  pids.add((await res.text()).split(' ')[2]);
}
const workers = server.status().workers.length;
await server.close();
const rebind = await new Promise((done) => {
  const s = createServer();
  s.once('error', (err) => done(err.code));
  s.listen(port, '127.0.0.1', () => s.close(() => done('free')));
});
console.log(JSON.stringify({ statuses, pids: pids.size, workers, rebind }));
`;
