// corral tune's outputs from synthetic results: the SVG charts, the HTML report, the terminal
// table and chart, the config file; and its command line (flags, what passes to candidates).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { jsonReport, passthrough, searchSpace } from '../../src/commands/tune.ts';
import { parseCommandLine } from '../../src/config/argv.ts';
import { resolveConfig } from '../../src/config/resolve.ts';
import { candidateArgs } from '../../src/tune/boot.ts';
import { configFile } from '../../src/tune/config-file.ts';
import { requestsFor } from '../../src/tune/drive.ts';
import { bar, chart, table } from '../../src/tune/format.ts';
import { reportHtml } from '../../src/tune/html.ts';
import { parseTuneFlags } from '../../src/tune/options.ts';
import { lineChart, niceMax } from '../../src/tune/svg.ts';
import { async, fake, MiB, summary, sync, thread } from '../helpers/tune.ts';

const count = (s: string, re: RegExp) => (s.match(new RegExp(re, 'g')) ?? []).length;

const measured = () => [
  fake(async(2), 1000, 30),
  fake(sync(2), 700, 25),
  fake(thread(1, 2), 950, 40),
  fake(async(5), 900, 60),
];

test('lineChart: a polyline per series, a point and a whisker per value, the ring, the budget', () => {
  const svg = lineChart({
    id: 'p99',
    title: 'p99 <latency>',
    xLabel: 'loops',
    yLabel: 'ms',
    format: String,
    budget: { y: 50, label: 'budget' },
    series: [
      {
        name: 'async',
        color: '#2563eb',
        points: [
          { x: 1, y: 10, lo: 8, hi: 12, note: 'a' },
          { x: 2, y: 20, lo: 18, hi: 22, recommended: true, note: 'b' },
        ],
      },
      { name: 'sync', color: '#d97706', points: [{ x: 2, y: 30, note: 'c' }] },
    ],
  });
  assert.match(
    svg,
    /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" class="chart" data-chart="p99"/,
  );
  assert.equal(count(svg, /<polyline class="series"/), 2);
  assert.equal(count(svg, /<circle class="point"/), 3);
  assert.equal(count(svg, /<line class="spread"/), 2);
  assert.equal(count(svg, /<circle class="recommended"/), 1);
  assert.equal(count(svg, /<line class="budget"/), 1);
  assert.equal(count(svg, /<rect class="legend"/), 2);
  assert.match(svg, /<title>p99 &#60;latency&#62;<\/title>/, 'text is escaped');
  assert.equal(niceMax(0), 1);
  assert.equal(niceMax(1475), 2000);
  assert.equal(niceMax(430), 500);
  assert.equal(niceMax(100), 100);
});

test('the HTML report: three charts, the table, the recommendation; nothing to fetch', () => {
  const s = summary(measured(), { maxP99: 100, maxMemory: 512 * MiB });
  const html = reportHtml({ ...s, warnings: ['the generator was busy'] });
  assert.match(html, /<meta http-equiv="Content-Security-Policy" content="default-src 'none'/);
  assert.doesNotMatch(html, /<script|\ssrc=|\shref=|@import|url\(/);
  assert.deepEqual(
    [...html.matchAll(/data-chart="(\w+)"/g)].map((m) => m[1]),
    ['throughput', 'p99', 'memory'],
  );
  assert.equal(count(html, /<circle class="point"/), 3 * 4, 'each candidate in each chart');
  assert.equal(count(html, /<circle class="recommended"/), 3);
  assert.equal(count(html, /<line class="budget"/), 2, 'p99 and memory budgets');
  assert.equal(count(html, /<tr class="recommended">/), 1);
  assert.equal(count(html, /<tbody>.*?<\/tbody>/s), 1);
  assert.equal(count(html, /<tr/), 1 + 4);
  assert.match(html, /<strong>Recommended: async × 2<\/strong>/);
  assert.match(html, /<div class="warn">the generator was busy<\/div>/);
});

test('the terminal table and chart', () => {
  const s = summary(measured());
  const t = table(s).split('\n');
  assert.equal(t.length, 1 + 4);
  assert.match(
    t[0] ?? '',
    /^CANDIDATE\s+REQ\/S\s+RUNS\s+P50\s+P99\s+ERRORS\s+RSS\s+PER WORKER\s+CPU\s+LOADGEN$/,
  );
  assert.match(
    t[1] ?? '',
    /^async × 2\s+1000\s+980–1020 ×3\s+15 ms\s+30 ms\s+0\s+170 MiB\s+60 MiB\s+1\.00\s+0\.20\s+← recommended$/,
  );
  const c = chart(s).split('\n');
  assert.equal(c.length, 1 + 4);
  assert.match(c[1] ?? '', /^async × 2\s+█+[▏▎▍▌▋▊▉]?\s+1000 {2}p99 30 ms {2}★$/);
  assert.equal(bar(1, 1, 10), '██████████');
  assert.equal(bar(0.55, 1, 10), '█████▌');
  assert.equal(bar(0, 0, 10), '');
});

test('--json carries every candidate and the recommendation flattened', () => {
  const j = JSON.parse(JSON.stringify(jsonReport(summary(measured())))) as {
    candidates: Record<string, unknown>[];
    recommended: Record<string, unknown>;
  };
  for (const key of [
    'workerClass',
    'workers',
    'threads',
    'rps',
    'p50',
    'p99',
    'errors',
    'rssBytes',
    'cpu',
  ]) {
    assert.ok(key in (j.candidates[0] ?? {}), key);
    assert.ok(key in j.recommended, key);
  }
  assert.equal(j.recommended.workerClass, 'async');
  assert.equal(j.recommended.withinBudget, true);
  assert.equal(typeof j.recommended.why, 'string');
});

test('the config file: defineConfig with the recommended class and counts, and the evidence', () => {
  const a = configFile(summary(measured())) ?? '';
  assert.match(
    a,
    /^\/\/ Written by `corral tune app\.mjs` on 2026-11-24 12:00: async × 2 served 1000 req\/s/,
  );
  assert.match(
    a,
    /\nimport \{ defineConfig \} from 'corral';\n\nexport default defineConfig\(\{\n {2}workerClass: 'async',\n {2}workers: 2,\n\}\);\n$/,
  );
  assert.ok(
    a.split('\n').every((l) => l.length <= 100),
    'comment lines wrap',
  );
  const t = configFile(summary([fake(thread(2, 4), 1000)])) ?? '';
  assert.match(t, /workerClass: 'thread',\n {2}workers: 2,\n {2}threads: 4,/);
  assert.equal(configFile(summary([])), null);
});

test('tune flags: defaults, repeatable --url, errors name the flag; other commands refuse them', () => {
  const o = parseTuneFlags({});
  assert.deepEqual(
    {
      urls: o.urls,
      duration: o.duration,
      runs: o.runs,
      warmup: o.warmup,
      connections: o.connections,
      limit: o.timeLimit,
    },
    { urls: ['/'], duration: 5, runs: 3, warmup: 2, connections: 64, limit: 600 },
  );
  assert.equal(parseTuneFlags({ duration: '1' }).warmup, 1, 'warm-up is at most one run');
  assert.equal(parseTuneFlags({ 'max-memory': '512MiB' }).maxMemory, 512 * MiB);
  const cl = parseCommandLine([
    'tune',
    'app.mjs',
    '--url',
    '/a',
    '--url',
    '/b',
    '--duration',
    '2',
    '-e',
    'A=1',
  ]);
  assert.equal(cl.command, 'tune');
  assert.equal(cl.app, 'app.mjs');
  assert.deepEqual(parseTuneFlags(cl.tune).urls, ['/a', '/b']);
  assert.throws(
    () => parseTuneFlags({ url: ['http://example.com/'] }),
    /invalid --url for corral tune: .*starting with \//,
  );
  assert.throws(
    () => parseTuneFlags({ duration: 'soon' }),
    /invalid --duration for corral tune: "soon"; allowed: a number of seconds/,
  );
  assert.throws(
    () => parseCommandLine(['app.mjs', '--duration', '2']),
    /--duration is an option of corral tune/,
  );
});

test('candidates get the user settings, the shape on top, and nothing that collides', async () => {
  const cl = parseCommandLine([
    'tune',
    'app.mjs',
    '-e',
    'A=1',
    '--preload',
    '-w',
    '3',
    '-b',
    '0.0.0.0:80',
    '--pid',
    'x.pid',
    '--log-level',
    'error',
  ]);
  const r = await resolveConfig({ cli: cl.values, app: cl.app, env: {}, cwd: '/' });
  const args = passthrough(cl.values, r, '/tmp/t');
  assert.deepEqual(args, ['-e', 'A=1', '--preload', '--pid', '/tmp/t.pid']);
  assert.deepEqual(
    candidateArgs({ app: 'app.mjs', args, dispatch: r.config.dispatch, shape: thread(1, 4) }),
    [
      'app.mjs',
      ...args,
      '-w',
      '1',
      '-k',
      'thread',
      '--threads',
      '4',
      '--dispatch',
      'reuseport',
      '-b',
      '127.0.0.1:0',
      '--log-level',
      'info',
      '--log-format',
      'text',
      '--error-logfile',
      '-',
    ],
  );
  // sync refuses reuseport: one chosen for async becomes shared for the sync candidates only.
  const reuse = ['--dispatch', 'reuseport'];
  const dispatchOf = (a: string[]) =>
    a.slice(a.lastIndexOf('--dispatch'), a.lastIndexOf('--dispatch') + 2);
  assert.deepEqual(
    dispatchOf(candidateArgs({ app: 'a.mjs', args: reuse, dispatch: 'reuseport', shape: sync(2) })),
    ['--dispatch', 'shared'],
  );
  assert.deepEqual(
    dispatchOf(
      candidateArgs({ app: 'a.mjs', args: reuse, dispatch: 'reuseport', shape: async(2) }),
    ),
    reuse,
  );
  assert.ok(
    !candidateArgs({ app: 'a.mjs', args: [], dispatch: 'shared', shape: sync(2) }).includes(
      '--dispatch',
    ),
  );
  // -w 3 on tune's command line fixes the count; -k narrows the classes.
  assert.equal(searchSpace(r, 2, null).fixedWorkers, 3);
  const k = parseCommandLine(['tune', 'app.mjs', '-k', 'sync']);
  const rk = await resolveConfig({ cli: k.values, app: k.app, env: {}, cwd: '/' });
  assert.deepEqual(searchSpace(rk, 2, null).classes, ['sync']);
  const w0 = parseCommandLine(['tune', 'app.mjs', '-w', '0']);
  const r0 = await resolveConfig({ cli: w0.values, app: w0.app, env: {}, cwd: '/' });
  assert.throws(() => searchSpace(r0, 2, null), /nothing to tune/);
});

test('--requests-file: methods, headers and JSON bodies; a bad file names what is wrong', () => {
  const dir = mkdtempSync(join(tmpdir(), 'corral-requests-'));
  try {
    const good = join(dir, 'good.json');
    writeFileSync(
      good,
      JSON.stringify([
        { path: '/a' },
        { method: 'post', path: '/b', body: { n: 1 } },
        { path: '/c', headers: { 'x-k': 'v' }, body: 'raw' },
      ]),
    );
    assert.deepEqual(requestsFor([], good), [
      { method: 'GET', path: '/a' },
      {
        method: 'POST',
        path: '/b',
        headers: { 'content-type': 'application/json' },
        body: '{"n":1}',
      },
      { method: 'GET', path: '/c', headers: { 'x-k': 'v' }, body: 'raw' },
    ]);
    assert.deepEqual(requestsFor(['/x', '/y'], null), [
      { method: 'GET', path: '/x' },
      { method: 'GET', path: '/y' },
    ]);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '[{"path": "http://elsewhere/"}]');
    assert.throws(
      () => requestsFor([], bad),
      /--requests-file .*bad\.json: request 0: "path" must be a string starting with \//,
    );
    writeFileSync(bad, '{}');
    assert.throws(() => requestsFor([], bad), /expected a non-empty JSON array/);
    assert.throws(
      () => requestsFor([], join(dir, 'none.json')),
      /--requests-file .*none\.json: ENOENT/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
