// The error log as Node users expect it: JSON lines in pino's shape, pino's level names,
// --env-file, and a command line that helps (per-command help, "did you mean").
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { BIN, cleanEnv, get, LISTENER, runCorral, sleep } from '../helpers/corral.ts';

function freePort(): Promise<number> {
  return new Promise((done) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => done(port));
    });
  });
}

/** Every non-empty line of `text`, parsed; fails on a line that is not a JSON object. */
function jsonLines(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => {
      const o = JSON.parse(l) as unknown;
      assert.equal(typeof o, 'object', l);
      return o as Record<string, unknown>;
    });
}

describe('error log', () => {
  test('--log-format json --log-level warn --env-file FILE: JSON lines, warn and up, the app sees the file', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'corral-log-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const envFile = join(dir, 'app.env');
    writeFileSync(envFile, '# a comment\nGREETING="hello from the env file"\nOTHER=1\n');
    const port = await freePort();
    const proc = spawn(
      process.execPath,
      [
        BIN,
        LISTENER,
        '-b',
        `127.0.0.1:${port}`,
        '-w',
        '2',
        '--log-format',
        'json',
        '--log-level',
        'warn',
        '--env-file',
        envFile,
        // A warning at start: set, but nothing watches it without --reload.
        '--reload-extra-files',
        envFile,
      ],
      { env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let err = '';
    let out = '';
    proc.stderr.on('data', (d) => (err += d));
    proc.stdout.on('data', (d) => (out += d));
    try {
      let greeting = '';
      for (let i = 0; i < 200 && !greeting; i++) {
        greeting = await get(`http://127.0.0.1:${port}/env`).then(
          (r) => r.body.trim(),
          () => sleep(50).then(() => ''),
        );
      }
      assert.equal(greeting, 'hello from the env file');
      assert.equal((await get(`http://127.0.0.1:${port}/throw`)).status, 500);
      await sleep(200);
    } finally {
      proc.kill('SIGTERM');
      await once(proc, 'exit');
    }
    assert.equal(out, '', 'nothing on stdout');
    const lines = jsonLines(err);
    for (const l of lines) {
      assert.equal(typeof l.level, 'number', JSON.stringify(l));
      assert.equal(typeof l.msg, 'string', JSON.stringify(l));
      assert.equal(typeof l.time, 'number');
      assert.equal(typeof l.pid, 'number');
      assert.ok((l.level as number) >= 40, `warn and up only: ${JSON.stringify(l)}`);
    }
    assert.ok(lines.some((l) => l.level === 40 && /reload-extra-files/.test(l.msg as string)));
    const thrown = lines.find((l) => /error handling GET \/throw/.test(l.msg as string));
    assert.equal(thrown?.level, 50, 'the app error, at pino error level');
    assert.match(thrown?.msg as string, /boom from the app/);
    assert.match(thrown?.role as string, /^worker \d$/);
  });

  test('--log-format json at info: the whole start and stop, one object per line', async () => {
    const port = await freePort();
    const proc = spawn(
      process.execPath,
      [BIN, LISTENER, '-b', `127.0.0.1:${port}`, '-w', '1', '--log-format', 'json'],
      { env: cleanEnv(), stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let err = '';
    proc.stderr.on('data', (d) => (err += d));
    for (let i = 0; i < 200 && !/"msg":"ready: /.test(err); i++) await sleep(50);
    proc.kill('SIGTERM');
    await once(proc, 'exit');
    const lines = jsonLines(err);
    assert.ok(lines.some((l) => l.level === 30 && /^Listening at: /.test(l.msg as string)));
    assert.ok(lines.some((l) => l.msg === 'Shutting down: master'));
  });

  test('a bad setting with --log-format json is a JSON line too', async () => {
    const r = await runCorral([LISTENER, '--log-format', 'json', '-w', 'banana']);
    assert.equal(r.code, 2);
    const [line] = jsonLines(r.stderr);
    assert.equal(line?.level, 60);
    assert.match(line?.msg as string, /invalid workers/);
  });

  test("pino's level names beside Gunicorn's; --log-format and --watch resolve", async () => {
    for (const level of ['trace', 'warn', 'fatal', 'warning', 'critical']) {
      const r = await runCorral(['config', LISTENER, '--log-level', level, '--json']);
      assert.equal(r.code, 0, r.stderr);
      const report = JSON.parse(r.stdout) as { settings: Record<string, { value: unknown }> };
      assert.equal(report.settings.logLevel?.value, level);
    }
    const r = await runCorral(['config', LISTENER, '--watch', '--log-format', 'json', '--json']);
    const report = JSON.parse(r.stdout) as { settings: Record<string, { value: unknown }> };
    assert.equal(report.settings.reload?.value, true);
    assert.equal(report.settings.logFormat?.value, 'json');
    const bad = await runCorral([LISTENER, '--log-level', 'loud']);
    assert.match(
      bad.stderr,
      /invalid logLevel .*allowed: one of trace, debug, info, warn, warning/,
    );
  });
});

describe('command line', () => {
  test('--help lists every command; each command has its own help', async () => {
    const all = await runCorral(['--help']);
    for (const cmd of ['serve', 'check', 'config', 'ctl', 'top', 'tune']) {
      assert.match(all.stdout, new RegExp(`corral ${cmd === 'serve' ? '\\[serve\\]' : cmd} `));
    }
    assert.match(all.stdout, /--env-file FILE/);
    assert.match(all.stdout, /--reload, --watch/);
    for (const cmd of ['check', 'config', 'ctl', 'top', 'tune']) {
      const r = await runCorral([cmd, '--help']);
      assert.equal(r.code, 0);
      assert.match(r.stdout, new RegExp(`^Usage: corral ${cmd} `), r.stdout);
    }
    assert.match((await runCorral(['ctl', '--help'])).stdout, /scale N/);
    assert.match((await runCorral(['tune', '--help'])).stdout, /--max-p99/);
    assert.equal((await runCorral(['serve', '--help'])).stdout, all.stdout);
  });

  test('a mistyped flag or command gets "did you mean"', async () => {
    const flag = await runCorral([LISTENER, '--wokers', '2']);
    assert.equal(flag.code, 2);
    assert.equal(
      flag.stderr.trim(),
      'corral: unknown option --wokers; did you mean --workers? (see corral --help)',
    );
    const level = await runCorral([LISTENER, '--log-levle=warn']);
    assert.match(level.stderr, /did you mean --log-level\?/);
    const cmd = await runCorral(['tnue', LISTENER]);
    assert.match(cmd.stderr, /did you mean corral tune\?/);
    const missing = await runCorral([LISTENER, '-w']);
    assert.equal(
      missing.stderr.trim(),
      'corral: option -w/--workers needs a value (see corral --help)',
    );
  });
});
