/**
 * A listener that answers its own errors (the fetch bridge) carries this key: given where to
 * report errors, it returns a listener that reports there. The worker then needs no guard
 * around it. A module of its own so that checking for it loads nothing else (the bridge
 * loads undici's Request and Response, ~15 MiB a worker that serves a listener app never
 * needs).
 */
import type { IncomingMessage, RequestListener } from 'node:http';

export type ErrorReporter = (err: unknown, req: IncomingMessage) => void;

export const REPORT_TO = Symbol('corral.reportTo');

export type SelfGuarded = RequestListener & {
  readonly [REPORT_TO]: (report: ErrorReporter) => RequestListener;
};

/** The same listener reporting to `report`, or null when it does not answer its own errors. */
export function reportingTo(
  listener: RequestListener,
  report: ErrorReporter,
): RequestListener | null {
  return (listener as Partial<SelfGuarded>)[REPORT_TO]?.(report) ?? null;
}
