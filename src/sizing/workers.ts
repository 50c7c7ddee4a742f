/** How many workers to start, and why. */
import { availableParallelism } from 'node:os';
import type { Config } from '../config/settings.ts';

export interface WorkerCount {
  readonly count: number;
  /** One line: where the number came from. */
  readonly why: string;
}

export function workerCount(config: Pick<Config, 'workers' | 'single'>): WorkerCount {
  if (config.single) return { count: 0, why: 'single-process mode (--single)' };
  if (config.workers === 'auto') {
    const cpus = availableParallelism();
    return {
      count: cpus,
      why: `auto: one per usable CPU (${cpus}, from os.availableParallelism())`,
    };
  }
  if (config.workers === 0) return { count: 0, why: 'single-process mode (workers = 0)' };
  return { count: config.workers, why: `fixed: workers = ${config.workers}` };
}
