/**
 * When the numbers say more about the measurement than about the app: the load generator at
 * its own limit, the machine saturated by server and generator together (a 2-CPU machine
 * cannot show what 8 workers do), other processes competing for the CPUs.
 */
import { label, loops, type Measured } from './results.ts';
import { cores } from './units.ts';

/** autocannon is one event loop: above this share of a CPU it is the bottleneck. */
export const LOADGEN_SATURATED = 0.85;
/** Server plus generator above this share of the machine's CPUs: nothing more can show. */
export const MACHINE_SATURATED = 0.9;
/** Other processes using more than this many CPUs make runs noisy. */
const BUSY_NEIGHBOURS = 0.25;

const names = (ms: readonly Measured[]) => ms.map(label).join(', ');

export function warnings(candidates: readonly Measured[], machineCpus: number): string[] {
  const ok = candidates.filter((m) => m.status === 'ok');
  const out: string[] = [];
  const toolBound = ok.filter((m) => m.loadgenCpu >= LOADGEN_SATURATED);
  if (toolBound.length) {
    const top = Math.max(...toolBound.map((m) => m.loadgenCpu));
    out.push(
      `The load generator used up to ${Math.round(top * 100)}% of a CPU (autocannon runs on one thread) at ${names(toolBound)}: there, throughput is the tool's limit, not the app's. Fast routes need a faster generator or more CPUs than the server uses.`,
    );
  }
  // Busy CPUs of the whole machine (server, generator and everything else) in a run.
  const busiest = (m: Measured) =>
    Math.max(...m.runs.map((r) => r.machineCpu ?? (r.cpu ?? 0) + r.loadgenCpu));
  const full = ok.filter((m) => busiest(m) >= MACHINE_SATURATED * machineCpus);
  if (full.length) {
    const gen = Math.max(...full.map((m) => m.loadgenCpu));
    const others = Math.max(0, ...full.map((m) => m.otherCpu ?? 0));
    // What was left for the server while each candidate ran (its own generator and neighbours).
    const room = (m: Measured) => Math.max(0, machineCpus - m.loadgenCpu - (m.otherCpu ?? 0));
    const rooms = full.map(room);
    const [lo, hi] = [Math.min(...rooms), Math.max(...rooms)];
    const left = hi - lo < 0.1 ? `about ${hi.toFixed(1)}` : `${lo.toFixed(1)}–${hi.toFixed(1)}`;
    // More event loops than the CPUs left to the server cannot all run at once.
    const beyond = full.filter((m) => loops(m) > Math.max(1, Math.round(room(m))));
    const othersText = others >= 0.05 ? ` and other processes up to ${cores(others)}` : '';
    out.push(
      `The machine was saturated (${MACHINE_SATURATED * 100}% or more of its ${machineCpus} CPUs busy) at ${names(full)}: the load generator took up to ${cores(gen)} CPUs${othersText}, leaving the server ${left}.${beyond.length ? ` ${names(beyond)} had more event loops than that and could not show what they would do with CPUs of their own.` : ''} These results are limited by the machine, not only by the app.`,
    );
  }
  const busy = Math.max(0, ...ok.map((m) => m.otherCpu ?? 0));
  if (busy >= BUSY_NEIGHBOURS) {
    out.push(
      `Other processes used up to ${cores(busy)} CPUs during the runs: expect noise; rerun on a quiet machine for firm numbers.`,
    );
  }
  return out;
}
