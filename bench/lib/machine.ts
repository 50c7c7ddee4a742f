/** The machine a bench ran on, in the words docs/benchmarks.md uses. */
import { readFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, release, totalmem } from 'node:os';
import { wrkVersion } from './load.ts';

export interface Machine {
  /** CPUs the servers may run on (all of the machine's unless --server-cpus). */
  readonly cpus: number;
  /** With --server-cpus / --load-cpus: the machine's CPUs and who runs where. */
  readonly pinned?: {
    readonly machineCpus: number;
    readonly server: string;
    readonly load: string;
  };
  readonly model: string;
  readonly virtual: boolean;
  readonly memoryGiB: number;
  readonly kernel: string;
  readonly node: string;
  readonly driver: string;
  readonly loadBefore: readonly number[];
  loadAfter?: readonly number[];
}

export function describeMachine(
  driver: string,
  pin?: { readonly server: string; readonly load: string },
): Machine {
  let flags = '';
  try {
    flags = readFileSync('/proc/cpuinfo', 'utf8');
  } catch {}
  const wrk = driver === 'wrk' ? `wrk ${wrkVersion()}` : driver;
  return {
    cpus: availableParallelism(),
    ...(pin ? { pinned: { machineCpus: cpus().length, ...pin } } : {}),
    model: cpus()[0]?.model.trim() ?? 'unknown CPU',
    virtual: /\bhypervisor\b/.test(flags),
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    kernel: `Linux ${release()}`,
    node: process.version,
    driver: wrk,
    loadBefore: loadavg().map((x) => Math.round(x * 100) / 100),
  };
}

export function machineLine(m: Machine): string {
  const load = (l: readonly number[] | undefined) => (l ? l.join(' / ') : '?');
  const cpuList = (l: string) => `CPU${/[,-]/.test(l) ? 's' : ''} ${l}`;
  const where = m.pinned
    ? `${m.pinned.machineCpus} CPUs: the servers on ${cpuList(m.pinned.server)}, the load generator on ${cpuList(m.pinned.load)} (taskset)`
    : `${m.cpus} CPUs`;
  return (
    `${where} (${m.model}${m.virtual ? ', virtual machine' : ''}), ${m.memoryGiB} GiB, ` +
    `${m.kernel}, Node ${m.node}, load from ${m.driver}. Load average (1/5/15 min) ` +
    `${load(m.loadBefore)} before, ${load(m.loadAfter)} after.`
  );
}
