// The V8 options a worker process starts with, ahead of the app's --node-args.
import type { Config, WorkerClass } from '../config/settings.ts';

/**
 * V8 options workers start with, before --node-args (where a later option wins); each is left
 * out when the app's options (--node-args or NODE_OPTIONS) name the same thing themselves.
 *
 * --no-allocation-site-pretenuring: when a worker's first seconds are under load (its code not
 * yet optimised, so requests live longer), V8 sees per-request objects survive and starts
 * allocating them straight in the old generation, and keeps doing so: measured under a new
 * connection per request, scavenges that promoted ~10 MB each and 5–6 full GCs in 4 s, GC
 * 200 ms against 40, and 12–15% more CPU per request for as long as the worker lives. A server's
 * request objects die young.
 *
 * --min-semi-space-size=4: V8 starts the young generation at 1 MiB semi-spaces and grows it
 * only while objects survive scavenges, which a warm keep-alive server's do not: workers stayed
 * at 2 MiB and scavenged twice as often per request as node:cluster's, which happened to reach
 * 4 MiB (2.9 against 1.55 scavenges per 1,000 requests; GC pauses 1.06 against 0.78 µs per
 * request). 4 MiB a semi-space costs no idle memory and 2–4 MiB after load; V8 still grows it
 * to its maximum where objects survive (a new connection per request: 16 MiB). Not for the
 * thread class: every thread is an isolate with a young generation of its own, chosen for
 * memory (4 threads: +6.5 MiB idle, +10–20 MiB after load).
 */
export function workerExecArgv(
  config: Pick<Config, 'nodeArgs' | 'workerClass'>,
  nodeOptions = process.env.NODE_OPTIONS ?? '',
): string[] {
  return [...ourV8Options(config.nodeArgs, config.workerClass, nodeOptions), ...config.nodeArgs];
}

/** corral's V8 defaults that apply: those whose subject the given options do not name. */
export function ourV8Options(
  theirs: readonly string[],
  workerClass: WorkerClass,
  nodeOptions = process.env.NODE_OPTIONS ?? '',
): string[] {
  const named = `${theirs.join(' ')} ${nodeOptions}`;
  return WORKER_V8_DEFAULTS.filter(
    (d) => !d.unless.test(named) && !d.notFor.includes(workerClass),
  ).map((d) => d.option);
}

export const NO_PRETENURING = '--no-allocation-site-pretenuring';
export const MIN_SEMI_SPACE = '--min-semi-space-size=4';

const WORKER_V8_DEFAULTS: readonly {
  option: string;
  unless: RegExp;
  notFor: readonly WorkerClass[];
}[] = [
  { option: NO_PRETENURING, unless: /allocation-site-pretenuring/, notFor: [] },
  { option: MIN_SEMI_SPACE, unless: /semi-space/, notFor: ['thread'] },
];
