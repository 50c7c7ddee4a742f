/**
 * Memory and CPU of a process tree, read from Linux's /proc (as bench/classes.ts does): the
 * numbers a user would see in top, for the master and every worker, measured from outside so
 * the measuring costs the server nothing. Elsewhere every reading is null.
 */
import { readdirSync, readFileSync } from '../fs.ts';

/**
 * /proc reports CPU time in USER_HZ ticks, which the kernel fixes at 100 for userspace on
 * every mainstream architecture (it is ABI, unlike the internal HZ).
 */
const TICKS_PER_SECOND = 100;

function read(file: string): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

/** Fields after the `(comm)` of /proc/PID/stat, which may itself contain spaces. */
function statFields(pid: number): string[] | null {
  const s = read(`/proc/${pid}/stat`);
  if (!s) return null;
  return s.slice(s.lastIndexOf(') ') + 2).split(' ');
}

/** The children of `root` (not grandchildren): corral's workers are the master's children. */
export function childrenOf(root: number): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const kids: number[] = [];
  for (const d of entries) {
    if (!/^\d+$/.test(d)) continue;
    // Field 2 after comm is the parent pid.
    if (Number(statFields(Number(d))?.[1]) === root) kids.push(Number(d));
  }
  return kids;
}

/** Resident memory of one process in bytes; null when it is gone or /proc is missing. */
export function rssOf(pid: number): number | null {
  const m = /VmRSS:\s+(\d+) kB/.exec(read(`/proc/${pid}/status`) ?? '');
  return m ? Number(m[1]) * 1024 : null;
}

/** CPU seconds (user + system, all threads) a process has used; null when unreadable. */
export function cpuSecondsOf(pid: number): number | null {
  const f = statFields(pid);
  // utime and stime are fields 14 and 15 of stat, i.e. 11 and 12 after comm.
  if (!f) return null;
  return (Number(f[11]) + Number(f[12])) / TICKS_PER_SECOND;
}

/** Busy CPU seconds of the whole machine so far (all CPUs, idle and iowait excluded). */
export function machineCpuSeconds(): number | null {
  const line = read('/proc/stat')?.split('\n')[0];
  if (!line?.startsWith('cpu ')) return null;
  const n = line.trim().split(/\s+/).slice(1).map(Number);
  const total = n.slice(0, 8).reduce((a, b) => a + b, 0);
  const idle = (n[3] ?? 0) + (n[4] ?? 0);
  return (total - idle) / TICKS_PER_SECOND;
}

export interface TreeSample {
  readonly totalRss: number;
  /** Mean RSS of one child process. */
  readonly childRss: number;
}

/** RSS of a master and its children, summed, with the children's mean; null off Linux. */
export function sampleTree(master: number, children: readonly number[]): TreeSample | null {
  const own = rssOf(master);
  if (own === null) return null;
  const kids = children.map(rssOf).filter((x): x is number => x !== null);
  const sum = kids.reduce((a, b) => a + b, 0);
  return { totalRss: own + sum, childRss: kids.length ? sum / kids.length : 0 };
}

/** CPU seconds of a master and its children together; null off Linux. */
export function treeCpuSeconds(master: number, children: readonly number[]): number | null {
  const own = cpuSecondsOf(master);
  if (own === null) return null;
  return children.reduce((a, pid) => a + (cpuSecondsOf(pid) ?? 0), own);
}
