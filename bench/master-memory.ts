// Where the memory of corral's master goes: its RSS split into anonymous and file-backed
// pages, PSS and private memory, V8's heap, Node's internal modules, the node binary's code it
// has paged in by part (Maglev, TurboFan, the rest of V8, Node), and the functions V8's
// optimising compilers compiled while it started, each against a bare `node`, the least a
// pre-fork master can be (bench/baselines/prefork.mjs) and node:cluster's primary, all with
// 2 workers serving hello world. Then corral's master again under V8 flags that trade speed
// for memory, to show what they would buy. The master's memory profile for docs/benchmarks.md.
//
//   node bench/master-memory.ts [--rounds 3] [--settle 3] [--corral dist|src|PATH] [--out FILE]
//
// Medians of the rounds; each process is measured `--settle` seconds after it first answers.
// Loopback only; every server is stopped before the next one starts.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { corralCommand } from './lib/build.ts';
import { describeMachine, machineLine } from './lib/machine.ts';
import { memoryOf } from './lib/proc.ts';
import { here, sleep, stopChild, waitClosed, waitHttp } from './lib/servers.ts';
import { median } from './lib/stats.ts';
import { loadSymbols, PARTS, type Part, textPages } from './lib/text-pages.ts';

const { values: opt } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    settle: { type: 'string', default: '3' },
    corral: { type: 'string', default: 'dist' },
    port: { type: 'string', default: '18470' },
    out: { type: 'string' },
  },
});
const rounds = Number(opt.rounds);
const settleMs = Number(opt.settle) * 1000;
const port = Number(opt.port);
const corral = corralCommand(opt.corral as string);
const hello = here('apps/hello.mjs');

interface Subject {
  readonly id: string;
  readonly label: string;
  /** Node flags for the top process only (corral's workers get their own). */
  readonly flags?: readonly string[];
  readonly args: readonly string[];
  readonly env?: Record<string, string>;
  /** Serves HTTP on `port` once started (the bare node does not). */
  readonly serves: boolean;
  /** A --metrics-bind port to scrape once before measuring. */
  readonly scrape?: number;
}

const corralArgs = [...corral.args, hello, '-w', '2', '-b', `127.0.0.1:${port}`];
const SUBJECTS: Subject[] = [
  {
    id: 'bare',
    label: 'bare `node` (an idle timer)',
    args: ['-e', 'setInterval(() => {}, 1 << 30)'],
    serves: false,
  },
  {
    id: 'prefork',
    label: 'minimal pre-fork master (prefork.mjs)',
    args: [here('baselines/prefork.mjs')],
    env: { PORT: String(port), WORKERS: '2' },
    serves: true,
  },
  {
    id: 'cluster',
    label: 'node:cluster primary (round-robin)',
    args: [here('baselines/cluster.mjs')],
    env: { PORT: String(port), WORKERS: '2' },
    serves: true,
  },
  { id: 'corral', label: '**corral master**', args: corralArgs, serves: true },
  {
    id: 'corral-metrics',
    label: 'corral master, `--metrics-bind` (scraped once)',
    args: [...corralArgs, '--metrics-bind', `127.0.0.1:${port + 1}`],
    serves: true,
    scrape: port + 1,
  },
  {
    id: 'corral-semi',
    label: 'corral master, `--max-semi-space-size=1`',
    flags: ['--max-semi-space-size=1'],
    args: corralArgs,
    serves: true,
  },
  {
    id: 'corral-noopt',
    label: 'corral master, `--no-maglev --no-turbofan`',
    flags: ['--no-maglev', '--no-turbofan'],
    args: corralArgs,
    serves: true,
  },
  {
    id: 'corral-lite',
    label: 'corral master, `--lite-mode`',
    flags: ['--lite-mode'],
    args: corralArgs,
    serves: true,
  },
];

type Sample = ReturnType<typeof memoryOf> & { text: Map<Part | 'total', number> | null };
interface Heap {
  used: number;
  total: number;
  spaces: Record<string, number>;
  malloced: number;
  modules: number;
}

/** Start s, let it settle, then `look` at it; stdout collected when asked (for --trace-opt). */
async function once<T>(
  s: Subject,
  extraFlags: readonly string[],
  env: Record<string, string>,
  look: (pid: number, stdout: string) => Promise<T> | T,
): Promise<T> {
  const p = spawn(process.execPath, [...(s.flags ?? []), ...extraFlags, ...s.args], {
    env: { ...process.env, ...s.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((done) => p.once('exit', () => done()));
  let out = '';
  let err = '';
  p.stdout?.on('data', (d) => {
    out += d;
  });
  p.stderr?.on('data', (d) => {
    err += d;
    if (err.length > 1 << 16) err = err.slice(-(1 << 15));
  });
  try {
    if (s.serves) await waitHttp(port);
    if (s.scrape) await fetch(`http://127.0.0.1:${s.scrape}/metrics`).then((r) => r.text());
    await sleep(settleMs);
    if (p.exitCode !== null) throw new Error(`${s.label} exited early:\n${err.slice(-2000)}`);
    return await look(p.pid as number, out);
  } finally {
    await stopChild(p, exited);
    // Children may outlive their parent a moment: the next server must find the port free.
    if (s.serves) await waitClosed(port);
  }
}

const symbols = loadSymbols();
if (!symbols)
  process.stderr.write('no `nm` or no symbols in the node binary: code pages not attributed\n');
const samples = new Map<string, Sample[]>(SUBJECTS.map((s) => [s.id, []]));
const heaps = new Map<string, Heap[]>(SUBJECTS.map((s) => [s.id, []]));
const scratch = mkdtempSync(join(tmpdir(), 'corral-master-memory-'));
const machine = describeMachine('none');
process.stderr.write(
  `${SUBJECTS.length} processes × ${rounds} rounds × 2 passes, ~${Math.ceil((SUBJECTS.length * rounds * 2 * (settleMs + 1500)) / 60000)} min; ${corral.build}\n`,
);
try {
  for (let r = 0; r < rounds; r++) {
    for (const s of SUBJECTS) {
      // Pass 1: memory with nothing extra loaded.
      const measure = (pid: number) => ({
        ...memoryOf(pid),
        text: symbols ? textPages(pid, symbols) : null,
      });
      samples.get(s.id)?.push(await once(s, [], {}, measure));
      // Pass 2: V8's own figures, from a hook that is not there in pass 1.
      const file = join(scratch, `${s.id}-${r}.json`);
      const report = await once(
        s,
        ['--import', here('lib/heap-report.mjs')],
        { HEAP_REPORT: file },
        async () => {
          writeFileSync(`${file}.go`, '');
          for (let i = 0; i < 100 && !existsSync(file); i++) await sleep(50);
          return JSON.parse(readFileSync(file, 'utf8')) as Heap;
        },
      );
      heaps.get(s.id)?.push(report);
      process.stderr.write('.');
    }
  }
  process.stderr.write('\n');
  // What V8's optimising compilers compiled in corral's master while it started and settled.
  const compiled = await once(
    SUBJECTS.find((s) => s.id === 'corral') as Subject,
    ['--trace-opt'],
    {},
    (_pid, stdout) => {
      const seen = new Map<string, number>();
      for (const m of stdout.matchAll(
        /completed compiling [^<]*<JSFunction ([^ >]*)[^>]*>[^(]*\(target (\w+)\)/g,
      )) {
        const name = !m[1] || m[1].startsWith('(') ? '(anonymous)' : m[1];
        const key = `${name} (${m[2]})`;
        seen.set(key, (seen.get(key) ?? 0) + 1);
      }
      return [...seen.keys()];
    },
  );
  report(compiled);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}

function report(compiled: string[]): void {
  machine.loadAfter = loadavg().map((x) => Math.round(x * 100) / 100);
  const m = (xs: number[]) => median(xs);
  const mb = (k: number) => (Number.isFinite(k) ? (k / 1024).toFixed(1) : '—');
  const bytesMb = (b: number) => (b / 2 ** 20).toFixed(1);
  const lines: string[] = [];
  lines.push(`**Machine:** ${machineLine(machine).replace(', load from none', '')}`, '');
  lines.push(
    `**Command:** \`node bench/master-memory.ts ${process.argv.slice(2).join(' ')}\`. corral: ${corral.build}; each server with 2 workers serving hello world, measured ${opt.settle} s after it first answered; medians of ${rounds} rounds. RSS = anonymous + file-backed; PSS shares each file page among the processes mapping it; private = pages no other process maps. MiB.`,
    '',
  );
  lines.push(
    '| top process | RSS | anonymous | file-backed | PSS | private | V8 heap used / total | young generation | malloc | internal modules |',
    '| --- | --: | --: | --: | --: | --: | --: | --: | --: | --: |',
  );
  for (const s of SUBJECTS) {
    const xs = samples.get(s.id) ?? [];
    const hs = heaps.get(s.id) ?? [];
    lines.push(
      `| ${s.label} | ${mb(m(xs.map((x) => x.rss)))} | ${mb(m(xs.map((x) => x.anon)))} | ${mb(m(xs.map((x) => x.file)))} | ${mb(m(xs.map((x) => x.pss)))} | ${mb(m(xs.map((x) => x.priv)))} | ${bytesMb(m(hs.map((h) => h.used)))} / ${bytesMb(m(hs.map((h) => h.total)))} | ${bytesMb(m(hs.map((h) => h.spaces.new_space ?? 0)))} | ${bytesMb(m(hs.map((h) => h.malloced)))} | ${m(hs.map((h) => h.modules))} |`,
    );
  }
  if (symbols) {
    const parts = [...PARTS.map(([p]) => p), 'other'] as Part[];
    lines.push(
      '',
      "The node binary's code paged in (MiB), by the function each resident page belongs to:",
      '',
      `| top process | all code | ${parts.join(' | ')} |`,
      `| --- | --: | ${parts.map(() => '--:').join(' | ')} |`,
    );
    for (const s of SUBJECTS) {
      const xs = (samples.get(s.id) ?? []).map((x) => x.text).filter((t) => t !== null);
      const at = (p: Part | 'total') => mb(m(xs.map((t) => t.get(p) ?? 0)));
      lines.push(`| ${s.label} | ${at('total')} | ${parts.map(at).join(' | ')} |`);
    }
  }
  lines.push(
    '',
    `Functions V8's optimising compilers compiled in corral's master (\`--trace-opt\`, one run): ${compiled.length ? compiled.map((c) => `\`${c}\``).join(', ') : 'none'}.`,
  );
  const md = `${lines.join('\n')}\n`;
  process.stdout.write(md);
  if (opt.out) writeFileSync(opt.out, md);
}
