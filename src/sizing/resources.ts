/**
 * What this process can use: CPUs (the smallest of cgroup quota, cpuset and scheduler
 * affinity) and memory (the smallest of the cgroup limit, process.constrainedMemory() and the
 * host's available memory), each with every candidate and which one won.
 */
import { availableParallelism, freemem, totalmem } from 'node:os';
import { readCgroupLimits } from './cgroup.ts';
import type { CgroupLayout } from './cgroup-paths.ts';

/** The machine as sizing sees it; tests replace any part. */
export interface Host {
  /** Prefix for /proc and /sys (a fixture tree in tests). */
  readonly root: string;
  availableParallelism(): number;
  /** Node's cgroup memory limit; 0 or a huge number when there is none. */
  constrainedMemory(): number;
  /** Memory the host can still give (Linux: MemAvailable). */
  freemem(): number;
  totalmem(): number;
  /** This process's RSS: the master's share of the memory budget. */
  rss(): number;
}

export function realHost(): Host {
  return {
    root: '/',
    availableParallelism,
    constrainedMemory: () => process.constrainedMemory(),
    freemem,
    totalmem,
    rss: () => process.memoryUsage.rss(),
  };
}

export interface Candidate {
  /** e.g. `cgroup v1 quota`, `cpuset`, `scheduler affinity`. */
  readonly source: string;
  readonly value: number;
  /** The fact it comes from, short: `100000/100000`, `0-3`, `os.availableParallelism()`. */
  readonly detail: string;
  /** The file it was read from, if any. */
  readonly file?: string;
}

export interface Resource extends Candidate {
  /** Every source consulted, in priority order; the winner is the smallest (first on ties). */
  readonly candidates: readonly Candidate[];
}

export interface Resources {
  readonly layout: CgroupLayout;
  readonly cpus: Resource;
  readonly memory: Resource;
}

/** Anything at or above this is "no limit" (v1's sentinel, constrainedMemory()'s UINT64_MAX). */
const NO_LIMIT = 2 ** 62;

/** Ties go to the earlier candidate: the cgroup fact explains more than the fallback it caused. */
function pick(candidates: Candidate[]): Resource {
  const best = candidates.reduce((a, b) => (b.value < a.value ? b : a));
  return { ...best, candidates };
}

export function readResources(host: Host): Resources {
  const cg = readCgroupLimits(host.root);
  const cpu: Candidate[] = [];
  if (cg.cpuQuota) {
    const q = cg.cpuQuota;
    cpu.push({
      source: `cgroup ${q.version} quota`,
      value: q.cpus,
      detail: `${q.quota}/${q.period}`,
      file: q.file,
    });
  }
  if (cg.cpuset) {
    cpu.push({
      source: `cgroup ${cg.cpuset.version} cpuset`,
      value: cg.cpuset.cpus,
      detail: cg.cpuset.list,
      file: cg.cpuset.file,
    });
  }
  cpu.push({
    source: 'scheduler affinity',
    value: host.availableParallelism(),
    detail: 'os.availableParallelism()',
  });

  const mem: Candidate[] = [];
  if (cg.memory) {
    mem.push({
      source: `cgroup ${cg.memory.version} limit`,
      value: cg.memory.bytes,
      detail: `${cg.memory.bytes} bytes`,
      file: cg.memory.file,
    });
  }
  const constrained = host.constrainedMemory();
  if (constrained > 0 && constrained < NO_LIMIT) {
    mem.push({
      source: 'constrained memory',
      value: constrained,
      detail: 'process.constrainedMemory()',
    });
  }
  mem.push({
    source: 'host available',
    value: host.freemem(),
    detail: `os.freemem(), of ${host.totalmem()} bytes total`,
  });
  return { layout: cg.layout, cpus: pick(cpu), memory: pick(mem) };
}
