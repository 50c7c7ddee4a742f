// The access-log writer (src/log/line-sink.ts) against sonic-boom, pino's writer, doing the
// same job: lines appended to a file without blocking the event loop. Each round writes the
// same lines, `--batch` per event-loop turn as a busy worker would, through each writer in
// turn (rotating order), to a fresh file in a tmpfs-or-disk temp dir. Per writer: the caller's
// time per line (what the request path pays), the wall time until every byte is in the file,
// and the longest event-loop turn seen meanwhile. Medians of the rounds, with the spread.
//
//   node bench/line-sink.ts [--rounds 7] [--lines 200000] [--batch 64]
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import sonicBoom, { type SonicBoom as SonicBoomClass } from 'sonic-boom';
import { LineSink } from '../src/log/line-sink.ts';
import { median } from './lib/stats.ts';

const { values: opt } = parseArgs({
  options: {
    rounds: { type: 'string', default: '7' },
    lines: { type: 'string', default: '200000' },
    batch: { type: 'string', default: '64' },
  },
});
// sonic-boom is CommonJS: its class is the module itself (the typings call it a named export).
const SonicBoom = sonicBoom as unknown as typeof SonicBoomClass;
const LINES = Number(opt.lines);
const BATCH = Number(opt.batch);
// A JSON access-log line of the usual size (~330 bytes).
const line = `${JSON.stringify({
  level: 30,
  time: 1795568383706,
  pid: 30586,
  hostname: 'web-1',
  req: {
    method: 'GET',
    url: '/orders?page=2',
    protocol: 'HTTP/1.1',
    remoteAddress: '127.0.0.1',
    remotePort: 38422,
    headers: { host: 'shop.example', 'user-agent': 'curl/8.5.0' },
  },
  res: { statusCode: 200, headers: { 'content-type': 'application/json' } },
  bytes: 512,
  responseTime: 3.229,
  msg: 'GET /orders?page=2 200',
})}\n`;

interface Writer {
  write(s: string): void;
  done(): Promise<void>;
}

/** An async SonicBoom appending to `file`; done once it has flushed and closed. */
function asyncSonicBoom(file: string, minLength?: number): Writer {
  const sb = new SonicBoom({ dest: file, sync: false, append: true, minLength });
  return {
    write: (s) => sb.write(s),
    done: () =>
      new Promise((ok) => {
        sb.once('close', () => ok());
        sb.end();
      }),
  };
}

const WRITERS: Record<string, (file: string) => Writer> = {
  'corral LineSink': (file) => {
    const sink = new LineSink({ target: file, maxBuffered: 1 << 30 });
    return { write: (s) => sink.write(s), done: () => sink.close() };
  },
  'sonic-boom (async)': (file) => asyncSonicBoom(file),
  'sonic-boom (async, minLength 4096)': (file) => asyncSonicBoom(file, 4096),
};

async function run(make: (file: string) => Writer, dir: string, name: string) {
  const file = join(dir, `${name.replace(/\W+/g, '-')}.log`);
  const w = make(file);
  let callerNs = 0n;
  let longest = 0;
  const t0 = performance.now();
  let last = t0;
  for (let i = 0; i < LINES; i += BATCH) {
    const c0 = process.hrtime.bigint();
    for (let j = 0; j < BATCH && i + j < LINES; j++) w.write(line);
    callerNs += process.hrtime.bigint() - c0;
    await new Promise((r) => setImmediate(r));
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
  }
  await w.done();
  const wallMs = performance.now() - t0;
  const size = statSync(file).size;
  if (size !== LINES * Buffer.byteLength(line)) throw new Error(`${name}: ${size} bytes written`);
  rmSync(file);
  return { nsPerLine: Number(callerNs) / LINES, wallMs, longestTurnMs: longest };
}

const dir = mkdtempSync(join(tmpdir(), 'corral-line-sink-'));
const names = Object.keys(WRITERS);
const results = new Map<string, { ns: number[]; wall: number[]; turn: number[] }>();
const before = loadavg();
try {
  for (let round = 0; round < Number(opt.rounds); round++) {
    for (let k = 0; k < names.length; k++) {
      const name = names[(k + round) % names.length] as string;
      const r = await run(WRITERS[name] as (f: string) => Writer, dir, name);
      const acc = results.get(name) ?? { ns: [], wall: [], turn: [] };
      acc.ns.push(r.nsPerLine);
      acc.wall.push(r.wallMs);
      acc.turn.push(r.longestTurnMs);
      results.set(name, acc);
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const after = loadavg();
const span = (xs: number[], f: (n: number) => string) =>
  `${f(Math.min(...xs))}–${f(Math.max(...xs))}`;
console.log(
  `${LINES} lines of ${Buffer.byteLength(line)} bytes, ${BATCH} per event-loop turn, ${opt.rounds} rounds (rotating order), to ${tmpdir()}; load average before ${before.map((x) => x.toFixed(2)).join(' ')}, after ${after.map((x) => x.toFixed(2)).join(' ')}\n`,
);
console.log(
  '| writer | caller ns/line, median (spread) | until on disk, ms, median (spread) | longest turn, ms, median |',
);
console.log('| --- | ---: | ---: | ---: |');
for (const [name, r] of results) {
  console.log(
    `| ${name} | ${Math.round(median(r.ns))} (${span(r.ns, (n) => String(Math.round(n)))}) | ${Math.round(median(r.wall))} (${span(r.wall, (n) => String(Math.round(n)))}) | ${median(r.turn).toFixed(1)} |`,
  );
}
