// `corral tune` end to end on a sample app with a CPU-bound route: real candidates, real load
// (autocannon on loopback, bounded), --json, the HTML report opened in headless Chromium, and
// the written config file loaded back by corral. Asserts shapes and counts, never timings.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { CLASS_COLORS } from '../../src/tune/html.ts';
import { findChromium, headless } from '../helpers/chromium.ts';
import { BIN, cleanEnv, FIXTURES, ROOT, runCorral } from '../helpers/corral.ts';
import { countColour, readPng } from '../helpers/png.ts';

const APP = `${FIXTURES}cpu.mjs`;

/** corral tune, with a deadline well above its own --time-limit. */
async function tune(
  args: string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const proc = spawn(process.execPath, [BIN, 'tune', ...args], {
    cwd: ROOT,
    env: cleanEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (d) => (stdout += d));
  proc.stderr.on('data', (d) => (stderr += d));
  const killer = setTimeout(() => proc.kill('SIGKILL'), 180_000);
  const [code] = await once(proc, 'exit');
  clearTimeout(killer);
  return { code, stdout, stderr };
}

interface Candidate {
  workerClass: string;
  workers: number;
  threads: number;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  rssBytes: number;
  workerRssBytes: number;
  cpu: number;
  runs: unknown[];
  finalRuns?: number;
  spread: { rps: [number, number] };
}

test('tune measures three candidates, recommends one, writes a report and a config', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'corral-tune-test-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const report = join(dir, 'report.html');
  const config = join(dir, 'corral.config.ts');
  const r = await tune([
    APP,
    ...['--url', '/cpu', '--duration', '1', '--runs', '2', '--max-candidates', '3'],
    ...['--connections', '16', '--time-limit', '120', '--finals', '2', '--json'],
    ...['--report', report, '--write-config', config],
  ]);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as {
    candidates: Candidate[];
    recommended: Candidate & { withinBudget: boolean; why: string };
    skipped: { reason: string }[];
    machine: { cpus: number };
  };
  assert.equal(out.candidates.length, 3);
  // Every class gets its starting point before any class climbs.
  assert.deepEqual(out.candidates.map((c) => c.workerClass).sort(), ['async', 'sync', 'thread']);
  for (const c of out.candidates) {
    assert.ok(c.rps > 0, `${c.workerClass} rps`);
    assert.ok(c.p99 > 0 && c.p99 >= c.p50, `${c.workerClass} p50 ${c.p50} p99 ${c.p99}`);
    assert.ok(c.rssBytes > c.workerRssBytes && c.workerRssBytes > 0, `${c.workerClass} RSS`);
    assert.equal(typeof c.cpu, 'number');
    assert.equal(c.runs.length, c.finalRuns ? 4 : 2);
    assert.ok(c.spread.rps[0] <= c.rps && c.rps <= c.spread.rps[1]);
  }
  const rec = out.recommended;
  assert.ok(
    out.candidates.some(
      (c) =>
        c.workerClass === rec.workerClass && c.workers === rec.workers && c.threads === rec.threads,
    ),
  );
  assert.equal(rec.withinBudget, true);
  assert.match(rec.why, / is recommended for /);
  assert.match(out.skipped[0]?.reason ?? '', /--max-candidates 3 reached/);
  // The progress display: one line per finished candidate, on stderr.
  assert.equal((r.stderr.match(/^\[\d\] .*req\/s/gm) ?? []).length, 3, r.stderr);
  // The finals: the two leaders measured again, their new runs joined to the old.
  assert.match(r.stderr, /^finals: .+, .+ again, side by side$/m);
  const finalists = out.candidates.filter((c) => c.finalRuns === 2);
  assert.equal(finalists.length, 2, r.stderr);
  for (const c of finalists) assert.equal(c.runs.length, 4);

  // The config file is a corral.config.ts that corral loads with the recommended values.
  const written = readFileSync(config, 'utf8');
  assert.match(written, /import \{ defineConfig \} from 'corral';/);
  const loadable = join(dir, 'check.config.ts');
  writeFileSync(loadable, written.replace("from 'corral'", `from '${ROOT}src/index.ts'`));
  const cfg = await runCorral(['config', '-c', loadable, '--json']);
  assert.equal(cfg.code, 0, cfg.stderr);
  const settings = JSON.parse(cfg.stdout).settings;
  assert.equal(settings.workerClass.value, rec.workerClass);
  assert.equal(settings.workers.value, rec.workers);
  assert.equal(settings.threads.value, rec.threads);

  const html = readFileSync(report, 'utf8');
  assert.equal((html.match(/<svg /g) ?? []).length, 3);

  const browser = findChromium();
  const skip = browser
    ? false
    : 'chromium is not installed (apt-get install chromium): report not rendered';
  if (skip) t.diagnostic(skip);
  await t.test('the report renders in headless Chromium', { skip }, async () => {
    const url = `file://${report}`;
    // The DOM Chromium built: three SVG charts with a point per candidate and one ring each.
    const dom = await headless(browser as string, ['--dump-dom'], url);
    const charts = [...dom.matchAll(/<svg [^>]*data-chart="(\w+)"/g)].map((m) => m[1]);
    assert.deepEqual(charts, ['throughput', 'p99', 'memory']);
    assert.equal((dom.match(/<circle class="point"/g) ?? []).length, 9);
    assert.equal((dom.match(/<circle class="recommended"/g) ?? []).length, 3);
    // And what it painted: every class's colour is on screen (points and legends).
    const shot = join(dir, 'report.png');
    await headless(browser as string, [`--screenshot=${shot}`, '--window-size=1200,900'], url);
    const img = readPng(shot);
    assert.equal(img.width, 1200);
    for (const cls of ['async', 'sync', 'thread']) {
      const n = countColour(img, CLASS_COLORS[cls] as string);
      assert.ok(n > 100, `${cls} is painted (${n} pixels of ${CLASS_COLORS[cls]})`);
    }
  });
});

test('tune fails fast: no app, an app that cannot load, a config file it would overwrite', async () => {
  const missing = await runCorral(['tune', 'nope.mjs']);
  assert.equal(missing.code, 4);
  assert.match(missing.stderr, /app file not found: nope\.mjs/);
  const broken = await tune([`${FIXTURES}boot-fail.mjs`, '--duration', '1', '--runs', '1']);
  assert.equal(broken.code, 4, broken.stderr);
  assert.match(
    broken.stderr,
    /corral tune: corral exited \(code 4\) before it was ready: .*boot-fail\.mjs/,
  );
  const exists = await runCorral(['tune', APP, '--write-config', `${ROOT}package.json`]);
  assert.equal(exists.code, 2);
  assert.match(exists.stderr, /--write-config .*package\.json exists; tune does not overwrite/);
});
