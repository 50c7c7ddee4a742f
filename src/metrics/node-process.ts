/**
 * Node's default metrics for one process, under prom-client's names (`collectDefaultMetrics`),
 * so dashboards made for prom-client read them: process_* (CPU, memory, file descriptors,
 * start time) and nodejs_* (heap, external memory, active handles, version, event-loop delay).
 * Read when scraped from process.* and /proc (Linux), with nothing loaded or sampled in
 * between: a process that is never scraped pays nothing.
 */
import type { Family, Sample } from './exposition.ts';

const { readFileSync, readdirSync } = process.getBuiltinModule('node:fs');

const startSeconds = Math.round(Date.now() / 1000 - process.uptime());

/** Fields of /proc/self/status in kB (VmRSS, VmSize, VmData), as bytes; empty off Linux. */
function procStatus(): Map<string, number> {
  const out = new Map<string, number>();
  try {
    for (const line of readFileSync('/proc/self/status', 'utf8').split('\n')) {
      const m = /^(Vm\w+):\s+(\d+) kB/.exec(line);
      if (m) out.set(m[1] as string, Number(m[2]) * 1024);
    }
  } catch {
    // Not Linux.
  }
  return out;
}

function openFds(): number | null {
  try {
    return readdirSync('/proc/self/fd').length - 1; // less the one reading the directory
  } catch {
    return null;
  }
}

function maxFds(): number | null {
  try {
    const m = /Max open files\s+(\d+)/.exec(readFileSync('/proc/self/limits', 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

const one = (
  name: string,
  help: string,
  type: 'gauge' | 'counter',
  value: number,
  aggregator?: Family['aggregator'],
): Family => ({ name, help, type, values: [{ value }], ...(aggregator && { aggregator }) });

export interface NodeMetricsOptions {
  /** V8 heap spaces too (node:v8, 1.6 MiB of RSS the first time; workers only). */
  readonly heapSpaces?: boolean;
}

/**
 * A worker's event-loop delay p99, which its heartbeats carry (the master measures none: it
 * loads no perf_hooks).
 */
export function lagFamily(seconds: number | undefined): Family[] {
  if (seconds === undefined) return [];
  return [
    one(
      'nodejs_eventloop_lag_p99_seconds',
      'The 99th percentile of the recorded event loop delays (since the last heartbeat).',
      'gauge',
      seconds,
    ),
  ];
}

export function nodeMetrics(o: NodeMetricsOptions = {}): Family[] {
  const cpu = process.cpuUsage();
  const mem = process.memoryUsage();
  const status = procStatus();
  const fds = openFds();
  const fdLimit = maxFds();
  const [major, minor, patch] = process.versions.node.split('.');
  const out: Family[] = [
    one(
      'process_cpu_user_seconds_total',
      'Total user CPU time spent in seconds.',
      'counter',
      cpu.user / 1e6,
    ),
    one(
      'process_cpu_system_seconds_total',
      'Total system CPU time spent in seconds.',
      'counter',
      cpu.system / 1e6,
    ),
    one(
      'process_cpu_seconds_total',
      'Total user and system CPU time spent in seconds.',
      'counter',
      (cpu.user + cpu.system) / 1e6,
    ),
    one(
      'process_start_time_seconds',
      'Start time of the process since unix epoch in seconds.',
      'gauge',
      startSeconds,
      'omit',
    ),
    one(
      'process_resident_memory_bytes',
      'Resident memory size in bytes.',
      'gauge',
      status.get('VmRSS') ?? mem.rss,
    ),
  ];
  const vsize = status.get('VmSize');
  if (vsize !== undefined) {
    out.push(one('process_virtual_memory_bytes', 'Virtual memory size in bytes.', 'gauge', vsize));
  }
  const data = status.get('VmData');
  if (data !== undefined) {
    out.push(one('process_heap_bytes', 'Process heap size in bytes.', 'gauge', data));
  }
  if (fds !== null) {
    out.push(one('process_open_fds', 'Number of open file descriptors.', 'gauge', fds));
  }
  if (fdLimit !== null) {
    out.push(one('process_max_fds', 'Maximum number of open file descriptors.', 'gauge', fdLimit));
  }
  out.push(
    one(
      'nodejs_heap_size_total_bytes',
      'Process heap size from Node.js in bytes.',
      'gauge',
      mem.heapTotal,
    ),
    one(
      'nodejs_heap_size_used_bytes',
      'Process heap size used from Node.js in bytes.',
      'gauge',
      mem.heapUsed,
    ),
    one(
      'nodejs_external_memory_bytes',
      'Node.js external memory size in bytes.',
      'gauge',
      mem.external,
    ),
    one(
      'nodejs_active_resources_total',
      'Total number of active resources.',
      'gauge',
      process.getActiveResourcesInfo().length,
    ),
    {
      name: 'nodejs_version_info',
      help: 'Node.js version info.',
      type: 'gauge',
      aggregator: 'first',
      values: [
        {
          value: 1,
          labels: {
            version: process.version,
            major: Number(major),
            minor: Number(minor),
            patch: Number(patch),
          },
        },
      ],
    },
  );
  if (o.heapSpaces) out.push(...heapSpaceFamilies());
  return out;
}

function heapSpaceFamilies(): Family[] {
  const spaces = process.getBuiltinModule('node:v8').getHeapSpaceStatistics();
  const family = (
    what: 'total' | 'used' | 'available',
    pick: (s: (typeof spaces)[0]) => number,
  ) => ({
    name: `nodejs_heap_space_size_${what}_bytes`,
    help: `Process heap space size ${what} from Node.js in bytes.`,
    type: 'gauge',
    values: spaces.map(
      (s): Sample => ({ value: pick(s), labels: { space: s.space_name.replace(/_space$/, '') } }),
    ),
  });
  return [
    family('total', (s) => s.space_size),
    family('used', (s) => s.space_used_size),
    family('available', (s) => s.space_available_size),
  ];
}
