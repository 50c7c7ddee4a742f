/**
 * Which of the node binary's code a process has paged in, by part: the symbol table (`nm`)
 * names the function at each resident page of the binary's executable mappings
 * (/proc/PID/pagemap). Shows, say, that a process ran V8's optimising compilers. Linux only;
 * null when `nm` is missing or the binary has no symbols.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, readSync, realpathSync } from 'node:fs';

const PAGE = 4096;

/** The parts a page is counted under, first match wins; the rest is "other". */
export const PARTS = [
  ['Maglev', /maglev::/],
  ['TurboFan', /compiler::|turboshaft/],
  ['rest of V8', /^v8::|^Builtins_|^v8_|^cppgc::|^heap::/],
  ['Node', /^node::/],
] as const;
export type Part = (typeof PARTS)[number][0] | 'other';

export interface Symbols {
  readonly binary: string;
  /** Position-independent: loaded at a bias, where its offset-0 mapping starts. */
  readonly pie: boolean;
  readonly addrs: number[];
  readonly parts: Part[];
}

export function loadSymbols(binary = process.execPath): Symbols | null {
  const real = realpathSync(binary);
  let out: string;
  try {
    out = execFileSync('nm', ['-C', '--defined-only', '-n', real], {
      encoding: 'utf8',
      maxBuffer: 1 << 30,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
  } catch {
    return null;
  }
  const addrs: number[] = [];
  const parts: Part[] = [];
  for (const line of out.split('\n')) {
    const m = /^([0-9a-f]+) [tTwW] (.*)$/.exec(line);
    if (!m) continue;
    addrs.push(Number.parseInt(m[1] as string, 16));
    parts.push((PARTS.find(([, re]) => re.test(m[2] as string))?.[0] ?? 'other') as Part);
  }
  if (addrs.length <= 1000) return null;
  const header = Buffer.alloc(18);
  const fd = openSync(real, 'r');
  readSync(fd, header, 0, 18, 0);
  closeSync(fd);
  return { binary: real, pie: header.readUInt16LE(16) === 3 /* ET_DYN */, addrs, parts };
}

/** Index of the last symbol starting at or before addr. */
function symbolAt(s: Symbols, addr: number): number {
  let lo = 0;
  let hi = s.addrs.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((s.addrs[mid] as number) <= addr) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** KiB of the binary's code resident in pid, by part (and 'total'). */
export function textPages(pid: number, s: Symbols): Map<Part | 'total', number> {
  const kib = new Map<Part | 'total', number>([['total', 0]]);
  const maps = readFileSync(`/proc/${pid}/maps`, 'utf8').split('\n');
  let bias = 0;
  const mine = maps
    .map((l) => /^([0-9a-f]+)-([0-9a-f]+) (\S+) ([0-9a-f]+) \S+ \S+\s+(.*)$/.exec(l))
    .filter((m) => m && m[5] === s.binary) as RegExpExecArray[];
  if (s.pie) {
    const first = mine.find((m) => Number.parseInt(m[4] as string, 16) === 0);
    bias = first ? Number.parseInt(first[1] as string, 16) : 0;
  }
  const fd = openSync(`/proc/${pid}/pagemap`, 'r');
  try {
    for (const m of mine.filter((x) => x[3] === 'r-xp')) {
      const start = Number.parseInt(m[1] as string, 16);
      const end = Number.parseInt(m[2] as string, 16);
      const n = (end - start) / PAGE;
      const buf = Buffer.alloc(n * 8);
      readSync(fd, buf, 0, buf.length, (start / PAGE) * 8);
      for (let i = 0; i < n; i++) {
        if (!(buf.readBigUInt64LE(i * 8) >> 63n)) continue;
        const part = s.parts[symbolAt(s, start + i * PAGE + PAGE / 2 - bias)] as Part;
        kib.set(part, (kib.get(part) ?? 0) + PAGE / 1024);
        kib.set('total', (kib.get('total') ?? 0) + PAGE / 1024);
      }
    }
  } finally {
    closeSync(fd);
  }
  return kib;
}
