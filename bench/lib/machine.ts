/** The machine a bench ran on, in the words docs/benchmarks.md uses. */
import { readFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, release, totalmem } from 'node:os';
import { wrkVersion } from './load.ts';

export interface Machine {
  readonly cpus: number;
  readonly model: string;
  readonly virtual: boolean;
  readonly memoryGiB: number;
  readonly kernel: string;
  readonly node: string;
  readonly driver: string;
  readonly loadBefore: readonly number[];
  loadAfter?: readonly number[];
}

export function describeMachine(driver: string): Machine {
  let flags = '';
  try {
    flags = readFileSync('/proc/cpuinfo', 'utf8');
  } catch {}
  const wrk = driver === 'wrk' ? `wrk ${wrkVersion()}` : driver;
  return {
    cpus: availableParallelism(),
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
  return (
    `${m.cpus} CPUs (${m.model}${m.virtual ? ', virtual machine' : ''}), ${m.memoryGiB} GiB, ` +
    `${m.kernel}, Node ${m.node}, load from ${m.driver}. Load average (1/5/15 min) ` +
    `${load(m.loadBefore)} before, ${load(m.loadAfter)} after.`
  );
}
