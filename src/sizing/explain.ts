/** The worker-count derivation as one readable line, for the startup log and `config --explain`. */
import { num, ROOMY_WORKER_BYTES } from './strategies.ts';
import type { MemoryCheck, Sizing } from './workers.ts';

const MiB = 2 ** 20;
const GiB = 2 ** 30;

/** 201326592 → `192 MiB`; 10 GiB and up in GiB with one decimal. */
export function bytes(n: number): string {
  if (Math.abs(n) >= 10 * GiB) return `${(n / GiB).toFixed(1)} GiB`;
  return `${Math.round(n / MiB)} MiB`;
}

/** 1 → `1.0` (it is a measurement, not a count), 1.5 → `1.5`. */
function cpus(n: number): string {
  return Number.isInteger(n) ? n.toFixed(1) : num(n);
}

function memoryPart(m: MemoryCheck, before: number, count: number, min: number): string {
  const preload = m.preloadBytes > 0 ? ` − ${bytes(m.preloadBytes)} preloaded app` : '';
  const budget = `${bytes(m.budgetBytes)} (${bytes(m.limit.value)} ${m.limit.source} − ${bytes(m.masterRssBytes)} master${preload} − ${bytes(m.reserveBytes)} reserve)`;
  if (m.fits === null || m.perWorkerBytes === null || m.perWorkerRssBytes === null) {
    return `memory not measured: budget ${budget} ≥ ${before} × ${bytes(ROOMY_WORKER_BYTES)}`;
  }
  const measured =
    m.perWorkerPrivateBytes === null
      ? `${bytes(m.perWorkerRssBytes)} RSS`
      : `${bytes(m.perWorkerPrivateBytes)} private of ${bytes(m.perWorkerRssBytes)} RSS`;
  const each = `${bytes(m.perWorkerBytes)} (${measured} measured × ${num(m.margin)})`;
  let text = `memory ${budget} fits ${m.fits} × ${each}`;
  if (m.fits < before) text += `, lowered from ${before}`;
  if (count > m.fits) text += `; starting ${count} anyway`;
  else if (count < min) text += `, below --min-workers ${min}`;
  return text;
}

export function explainSizing(s: Omit<Sizing, 'why'>): string {
  if (s.strategy === 'single') {
    return `single-process mode (${s.requested === 'single' ? '--single' : 'workers = 0'})`;
  }
  if (s.strategy === 'fixed') return `fixed: workers = ${s.count}`;
  const parts: string[] = [];
  if (s.adaptive) {
    parts.push(
      `adaptive: starts at ${s.adaptive.min}, regulated between ${s.adaptive.min} and ${s.adaptive.max}`,
    );
  }
  if (s.auto) parts.push(`auto → ${s.auto.strategy} ${s.auto.why}: ${s.formula}`);
  else if (s.strategy === 'memory') parts.push(`memory: from io ${s.formula}`);
  else parts.push(`${s.strategy}: ${s.formula}`);
  if (s.cpus) {
    const rounded =
      s.usableCpus !== null && s.usableCpus !== s.cpus.value ? ` → ${s.usableCpus}` : '';
    parts.push(`CPUs ${cpus(s.cpus.value)}${rounded} from ${s.cpus.source} ${s.cpus.detail}`);
  }
  if (s.clamp?.by === 'min') parts.push(`raised to --min-workers ${s.clamp.min}`);
  if (s.clamp?.by === 'max') parts.push(`capped at --max-workers ${s.clamp.max}`);
  if (s.memory && s.clamp) {
    parts.push(memoryPart(s.memory, s.clamp.count, s.count, s.clamp.min));
  }
  return parts.join('; ');
}
