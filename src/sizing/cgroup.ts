/**
 * The CPU and memory limits of this process's cgroups (v1, v2 or hybrid): the CFS quota, the
 * cpuset and the memory limit. A limit on an ancestor cgroup applies to us too, so quotas and
 * memory limits are the smallest found walking up to the mount point.
 */
import {
  ancestors,
  type CgroupLayout,
  findHierarchies,
  type Hierarchy,
  layoutOf,
  readCgroupFile,
} from './cgroup-paths.ts';

export interface CpuQuota {
  readonly version: 'v1' | 'v2';
  readonly quota: number;
  readonly period: number;
  /** quota / period: CPUs' worth of time per period, possibly fractional. */
  readonly cpus: number;
  readonly file: string;
}

export interface Cpuset {
  readonly version: 'v1' | 'v2';
  /** As written, e.g. `0-3,8`. */
  readonly list: string;
  readonly cpus: number;
  readonly file: string;
}

export interface MemoryLimit {
  readonly version: 'v1' | 'v2';
  readonly bytes: number;
  readonly file: string;
}

export interface CgroupLimits {
  readonly layout: CgroupLayout;
  readonly cpuQuota: CpuQuota | null;
  readonly cpuset: Cpuset | null;
  readonly memory: MemoryLimit | null;
}

/**
 * v1 writes "no limit" as the largest page-aligned signed 64-bit number (9223372036854771712
 * with 4 KiB pages); anything this large is no limit, whatever the page size.
 */
const UNLIMITED = 2 ** 62;

/** The hierarchy holding `controller`: a v1 one that binds it, else the v2 one. */
function hierarchyFor(hs: readonly Hierarchy[], controller: string): Hierarchy | null {
  return (
    hs.find((h) => h.version === 'v1' && h.controllers.includes(controller)) ??
    hs.find((h) => h.version === 'v2') ??
    null
  );
}

function smallest<T extends { readonly cpus?: number; readonly bytes?: number }>(
  found: readonly T[],
): T | null {
  const key = (x: T) => x.cpus ?? x.bytes ?? Number.POSITIVE_INFINITY;
  return found.reduce<T | null>(
    (best, x) => (best === null || key(x) < key(best) ? x : best),
    null,
  );
}

function readQuota(root: string, h: Hierarchy): CpuQuota | null {
  const found: CpuQuota[] = [];
  for (const dir of ancestors(h)) {
    if (h.version === 'v1') {
      const quota = Number(readCgroupFile(root, dir, 'cpu.cfs_quota_us'));
      const period = Number(readCgroupFile(root, dir, 'cpu.cfs_period_us'));
      // -1 (or a missing file) = no quota at this level.
      if (quota > 0 && period > 0) {
        found.push({
          version: 'v1',
          quota,
          period,
          cpus: quota / period,
          file: `${dir}/cpu.cfs_quota_us`,
        });
      }
    } else {
      // "max 100000" = no quota; "150000 100000" = 1.5 CPUs.
      const [q, p] = (readCgroupFile(root, dir, 'cpu.max') ?? '').split(/\s+/);
      const quota = Number(q);
      const period = Number(p);
      if (q !== 'max' && quota > 0 && period > 0) {
        found.push({ version: 'v2', quota, period, cpus: quota / period, file: `${dir}/cpu.max` });
      }
    }
  }
  return smallest(found);
}

/** `0-3,8` → 5. */
export function countCpuList(list: string): number {
  let n = 0;
  for (const part of list.split(',')) {
    const m = /^\s*(\d+)(?:-(\d+))?\s*$/.exec(part);
    if (!m) continue;
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi >= lo) n += hi - lo + 1;
  }
  return n;
}

function readCpuset(root: string, h: Hierarchy): Cpuset | null {
  // The effective set is already narrowed by every ancestor; the nearest non-empty one counts.
  const files =
    h.version === 'v1'
      ? ['cpuset.effective_cpus', 'cpuset.cpus']
      : ['cpuset.cpus.effective', 'cpuset.cpus'];
  for (const dir of ancestors(h)) {
    for (const file of files) {
      const list = readCgroupFile(root, dir, file);
      const cpus = list ? countCpuList(list) : 0;
      if (list && cpus > 0) return { version: h.version, list, cpus, file: `${dir}/${file}` };
    }
  }
  return null;
}

function readMemory(root: string, h: Hierarchy): MemoryLimit | null {
  const file = h.version === 'v1' ? 'memory.limit_in_bytes' : 'memory.max';
  const found: MemoryLimit[] = [];
  for (const dir of ancestors(h)) {
    const text = readCgroupFile(root, dir, file);
    if (text === null || text === 'max') continue;
    const bytes = Number(text);
    if (Number.isFinite(bytes) && bytes > 0 && bytes < UNLIMITED) {
      found.push({ version: h.version, bytes, file: `${dir}/${file}` });
    }
  }
  return smallest(found);
}

/** This process's cgroup limits, read under `root` (`/` on a real system). */
export function readCgroupLimits(root = '/'): CgroupLimits {
  const hs = findHierarchies(root);
  const cpu = hierarchyFor(hs, 'cpu');
  const cpuset = hierarchyFor(hs, 'cpuset');
  const memory = hierarchyFor(hs, 'memory');
  return {
    layout: layoutOf(hs),
    cpuQuota: cpu ? readQuota(root, cpu) : null,
    cpuset: cpuset ? readCpuset(root, cpuset) : null,
    memory: memory ? readMemory(root, memory) : null,
  };
}
