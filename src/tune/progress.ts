/**
 * The progress display, on stderr so `--json` output stays clean. On a terminal the current
 * candidate's phase is rewritten in place; elsewhere (CI, a pipe) only finished candidates
 * and notices are printed, one line each, so logs stay readable.
 */
import { label, type Measured, type Shape } from './results.ts';
import { bytes, ms, rate } from './units.ts';

export interface ProgressOut {
  readonly isTTY?: boolean;
  write(s: string): unknown;
}

export class Progress {
  readonly #out: ProgressOut;
  readonly #started = performance.now();
  readonly #limit: number;
  #live = false;

  constructor(out: ProgressOut, timeLimitSeconds: number) {
    this.#out = out;
    this.#limit = timeLimitSeconds;
  }

  #clock(): string {
    const s = Math.round((performance.now() - this.#started) / 1000);
    return `${s}s/${this.#limit}s`;
  }

  #line(text: string): void {
    if (this.#live) this.#out.write('\r\x1b[K');
    this.#live = false;
    this.#out.write(`${text}\n`);
  }

  #phases(title: string): (phase: string) => void {
    return (phase) => {
      if (!this.#out.isTTY) return;
      this.#out.write(`\r\x1b[K${title}: ${phase}…  ${this.#clock()}`);
      this.#live = true;
    };
  }

  /** A phase updater for candidate `n` (shown live on a terminal only). */
  candidate(n: number, shape: Shape, why: string): (phase: string) => void {
    return this.#phases(`[${n}] ${label(shape)} (${why})`);
  }

  /** A phase updater for the finals, announced on every output. */
  finals(list: readonly Shape[]): (phase: string) => void {
    this.#line(`finals: ${list.map(label).join(', ')} again, side by side`);
    return this.#phases('[finals]');
  }

  /** A finished candidate: `n` is its number, or `final` for its result after the finals. */
  done(n: number | 'final', m: Measured): void {
    const what =
      m.status === 'ok'
        ? `${rate(m.rps)} req/s (${rate(m.spread.rps[0])}–${rate(m.spread.rps[1])}), p99 ${ms(m.p99)}${m.rssBytes === null ? '' : `, ${bytes(m.rssBytes)}`}${m.errors ? `, ${m.errors} errors` : ''}`
        : `failed: ${m.error ?? ''}`;
    this.#line(`[${n}] ${label(m)}: ${what}  ${this.#clock()}`);
  }

  note(text: string): void {
    this.#line(text);
  }
}
