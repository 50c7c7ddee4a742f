// --reload: editing a served file changes the response, with no failed request in between.
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { get, runCorral, serveApp } from '../helpers/corral.ts';
import { failures, load } from '../helpers/load.ts';

/** An app whose answer comes from a module one directory down, and a text file it reads once. */
function appDir(): { dir: string; setMessage(v: string, atomic?: boolean): void } {
  const dir = mkdtempSync(join(tmpdir(), 'corral-reload-'));
  mkdirSync(join(dir, 'lib'));
  writeFileSync(
    join(dir, 'app.mjs'),
    [
      "import { readFileSync } from 'node:fs';",
      "import { message } from './lib/message.mjs';",
      "const motd = readFileSync(new URL('./motd.txt', import.meta.url), 'utf8').trim();",
      "console.error('app loaded: ' + message + ' (pid ' + process.pid + ')');",
      'export default function app(_req, res) {',
      "  res.writeHead(200, { 'content-type': 'text/plain', 'x-pid': String(process.pid) });",
      "  res.end(message + ' ' + motd + '\\n');",
      '}',
      '',
    ].join('\n'),
  );
  writeFileSync(join(dir, 'motd.txt'), 'motd-1\n');
  const file = join(dir, 'lib', 'message.mjs');
  const setMessage = (v: string, atomic = false) => {
    const source = `export const message = '${v}';\n`;
    if (!atomic) return writeFileSync(file, source);
    // How many editors save: a temp file renamed over the original.
    writeFileSync(`${file}.tmp`, source);
    renameSync(`${file}.tmp`, file);
  };
  setMessage('v1');
  return { dir, setMessage };
}

/**
 * The output shows that no worker can still answer with an older edit than `v`: each worker
 * corral booted has loaded `v`, or has exited. It can be judged once some worker has loaded `v`
 * (after the edit): the master writes "booting worker N" to the same stderr before it sends that
 * worker its boot message, so a worker not listed by then was booted after the edit.
 */
function onlyServes(v: string) {
  return (out: string): boolean => {
    const pids = (re: RegExp) => new Set([...out.matchAll(re)].map((m) => m[1]));
    const loaded = pids(new RegExp(`app loaded: ${v} \\(pid (\\d+)\\)`, 'g'));
    const exited = pids(/\(pid (\d+)\) exited/g);
    const booted = pids(/booting worker \d+ \(pid (\d+)\)/g);
    return loaded.size > 0 && [...booted].every((pid) => loaded.has(pid) || exited.has(pid));
  };
}

/** Resolves once an answer's body starts with `prefix`. */
function bodySeen(prefix: string) {
  let done: () => void = () => {};
  const seen = new Promise<void>((r) => (done = r));
  return { seen, check: (body: string) => body.startsWith(prefix) && done() };
}

test('--reload under load: each edit (in place, then atomic twice) is served, 0 failed requests', async () => {
  const { dir, setMessage } = appDir();
  const server = await serveApp('app.mjs', ['-w', '2', '--reload'], {
    cwd: dir,
  });
  try {
    assert.match(server.output(), /reload: watching \. \(2 directories\) for changes/);
    const bodies = new Set<string>();
    const waits = ['v2', 'v3', 'v4'].map((v) => bodySeen(`${v} `));
    const edits = (async () => {
      for (const [i, v] of ['v2', 'v3', 'v4'].entries()) {
        setMessage(v, i > 0);
        await (waits[i] as ReturnType<typeof bodySeen>).seen;
      }
    })();
    const r = await load({
      url: `${server.url}/`,
      connections: 8,
      total: 200,
      until: edits,
      maxMs: 30_000,
      onReply: (_status, body) => {
        bodies.add(body.split(' ')[0] as string);
        for (const w of waits) w.check(body);
      },
    });
    await edits;
    assert.equal(failures(r), '{"errors":{},"non2xx":{}}');
    assert.equal(r.answered, r.issued);
    assert.deepEqual([...bodies].sort(), ['v1', 'v2', 'v3', 'v4']);
    assert.match(server.output(), /\[master\] reload: lib\/message\.mjs changed/);
    // The first v4 answer can come while the roll for it still has older workers to replace.
    // Once those are gone, every answer is the last edit.
    await server.waitUntil('every older worker replaced by one serving v4', onlyServes('v4'));
    const after = new Set<string>();
    const settled = await load({
      url: `${server.url}/`,
      connections: 4,
      total: 40,
      onReply: (_status, body) => after.add(body),
    });
    assert.equal(settled.answered, 40);
    assert.deepEqual([...after], ['v4 motd-1\n']);
  } finally {
    assert.equal(await server.stop(), 0);
  }
});

test('--reload-extra-files: a non-module file the app reads at start reloads it too', async () => {
  const { dir } = appDir();
  const server = await serveApp(
    'app.mjs',
    ['-w', '1', '--reload', '--reload-extra-files', 'motd.txt'],
    { cwd: dir },
  );
  try {
    assert.equal((await get(`${server.url}/`)).body, 'v1 motd-1\n');
    writeFileSync(join(dir, 'motd.txt'), 'motd-2\n');
    await server.waitFor(/reload: motd\.txt changed[\s\S]*exited \(code 0\)/);
    assert.equal((await get(`${server.url}/`)).body, 'v1 motd-2\n');
  } finally {
    assert.equal(await server.stop(), 0);
  }
});

test('--reload with a broken edit: the running workers keep serving; the fix is picked up', async () => {
  const { dir, setMessage } = appDir();
  const server = await serveApp('app.mjs', ['-w', '1', '--reload'], {
    cwd: dir,
  });
  try {
    writeFileSync(join(dir, 'lib', 'message.mjs'), 'export const message = ;\n');
    await server.waitFor(/a new worker failed to boot; the running workers keep serving/);
    assert.equal((await get(`${server.url}/`)).body, 'v1 motd-1\n');
    setMessage('fixed');
    await server.waitFor(
      /reload: lib\/message\.mjs changed[\s\S]*reload: lib\/message\.mjs changed[\s\S]*exited \(code 0\)/,
    );
    assert.equal((await get(`${server.url}/`)).body, 'fixed motd-1\n');
  } finally {
    assert.equal(await server.stop(), 0);
  }
});

test('--reload needs workers: -w 0 is refused with one line (exit 2)', async () => {
  const { dir } = appDir();
  const r = await runCorral(['app.mjs', '-w', '0', '--reload'], { cwd: dir });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^corral: --reload needs worker processes/m);
});

test('--reload with a .ts app: the edited TypeScript is served', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'corral-reload-hello-'));
  cpSync(new URL('../../examples/hello.ts', import.meta.url), join(dir, 'hello.ts'));
  const server = await serveApp('hello.ts', ['-w', '1', '--reload'], {
    cwd: dir,
  });
  try {
    assert.match((await get(`${server.url}/`)).body, /^Hello from corral/);
    writeFileSync(
      join(dir, 'hello.ts'),
      "export default { fetch: (): Response => new Response('edited\\n') };\n",
    );
    await server.waitFor(/reload: hello\.ts changed[\s\S]*exited \(code 0\)/);
    assert.equal((await get(`${server.url}/`)).body, 'edited\n');
  } finally {
    assert.equal(await server.stop(), 0);
  }
});
