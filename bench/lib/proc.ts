/**
 * What /proc says about a server's processes: the tree under a pid, each process's resident
 * memory and CPU time. Linux only (the benches run there); elsewhere every figure reads 0.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** Kernel clock ticks per second for /proc/PID/stat times (USER_HZ: 100 on Linux). */
const TICKS_PER_SECOND = 100;

function read(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** Fields of /proc/PID/stat after the command name (which may contain spaces). */
function statFields(pid: number): string[] {
  const s = read(`/proc/${pid}/stat`);
  return s.slice(s.lastIndexOf(')') + 2).split(' ');
}

/** pid and every descendant, parents first. */
export function processTree(root: number): number[] {
  const kids = new Map<number, number[]>();
  let entries: string[] = [];
  try {
    entries = readdirSync('/proc');
  } catch {}
  for (const d of entries) {
    if (!/^\d+$/.test(d)) continue;
    const ppid = Number(statFields(Number(d))[1]);
    kids.set(ppid, [...(kids.get(ppid) ?? []), Number(d)]);
  }
  const out: number[] = [];
  const walk = (pid: number) => {
    out.push(pid);
    for (const k of kids.get(pid) ?? []) walk(k);
  };
  walk(root);
  return out;
}

/** A `Name:   123 kB` field of a /proc file, in KiB; NaN when absent. */
const kib = (text: string, field: string): number =>
  Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? Number.NaN);

/** Resident set size in bytes (VmRSS), 0 when the process is gone. */
export function rssOf(pid: number): number {
  return (kib(read(`/proc/${pid}/status`), 'VmRSS') || 0) * 1024;
}

/** Resident memory in KiB: RSS, its anonymous and file-backed parts, PSS, private pages. */
export function memoryOf(pid: number) {
  const status = read(`/proc/${pid}/status`);
  const rollup = read(`/proc/${pid}/smaps_rollup`);
  return {
    rss: kib(status, 'VmRSS'),
    anon: kib(status, 'RssAnon'),
    file: kib(status, 'RssFile'),
    pss: kib(rollup, 'Pss'),
    priv: kib(rollup, 'Private_Clean') + kib(rollup, 'Private_Dirty'),
  };
}

/** User + system CPU seconds the process has used so far (its threads included). */
export function cpuSecondsOf(pid: number): number {
  const f = statFields(pid);
  return (Number(f[11] ?? 0) + Number(f[12] ?? 0)) / TICKS_PER_SECOND;
}

/** The command line, for telling a master from its workers. */
export function commandOf(pid: number): string {
  return read(`/proc/${pid}/cmdline`).replaceAll('\0', ' ').trim();
}

/** inotify watches this process holds (every inotify fd's `inotify wd` lines). */
export function inotifyWatches(): number {
  let n = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) !== 'anon_inode:inotify') continue;
      const info = readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8');
      n += info.split('\n').filter((l) => l.startsWith('inotify wd')).length;
    } catch {}
  }
  return n;
}
