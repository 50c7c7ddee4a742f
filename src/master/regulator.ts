/**
 * The provisioning advisor and `-w adaptive`. Once a second the master hands it the workers'
 * event-loop utilisation (the honest "busy" signal for a Node worker) and the connections
 * waiting for a worker. It names over- and under-provisioning with a concrete suggestion,
 * and in adaptive mode moves the worker count one step at a time, with hysteresis (scale up
 * above 75% busy, down below 25%) and a cool-down after each change, so it does not flap.
 */

export interface Sample {
  /** Mean event-loop utilisation of the ready workers, 0..1. */
  readonly elu: number;
  /** Connections waiting in the master for a worker. */
  readonly waiting: number;
  readonly workers: number;
}

/** What the advisor found; its text (figures included) changes from second to second. */
export type Finding = 'under-provisioned' | 'over-provisioned';

export interface Decision {
  /** The advisor's finding, or null when provisioning looks right. */
  readonly finding: Finding | null;
  /** The finding in words, with the figures of this second and a suggestion (null: none). */
  readonly advice: string | null;
  /** adaptive: the new worker count and why, when it should change. */
  readonly scale?: { readonly to: number; readonly why: string };
}

const UP_ELU = 0.75;
const DOWN_ELU = 0.25;
const UP_WINDOW_MS = 3_000;
const DOWN_WINDOW_MS = 20_000;
const COOLDOWN_MS = 8_000;
/** The advisor judges over longer windows than adaptive acts on. */
const BUSY_ADVICE_MS = 10_000;
const IDLE_ADVICE_MS = 10 * 60_000;
const IDLE_ELU = 0.2;
const BUSY_ELU = 0.85;

const pct = (x: number) => `${Math.round(x * 100)}%`;
/** No finding, no change. */
export const NOTHING: Decision = { finding: null, advice: null };
const found = (finding: Finding, details: string): Decision => ({
  finding,
  advice: `${finding}: ${details}`,
});

export class Regulator {
  readonly #range: { readonly min: number; readonly max: number } | null;
  readonly #samples: { at: number; s: Sample }[] = [];
  #lastChange = Number.NEGATIVE_INFINITY;

  constructor(range: { min: number; max: number } | null) {
    this.#range = range;
  }

  get adaptive(): boolean {
    return this.#range !== null;
  }

  /** Every sample in the last `ms` meets `test` (and the window is full). */
  #sustained(now: number, ms: number, test: (s: Sample) => boolean): boolean {
    const oldest = this.#samples[0];
    if (!oldest || now - oldest.at < ms) return false;
    return this.#samples.filter((x) => now - x.at <= ms).every((x) => test(x.s));
  }

  #mean(now: number, ms: number): number {
    const window = this.#samples.filter((x) => now - x.at <= ms);
    return window.reduce((a, x) => a + x.s.elu, 0) / Math.max(1, window.length);
  }

  sample(s: Sample, now = performance.now()): Decision {
    this.#samples.push({ at: now, s });
    while ((this.#samples[0]?.at ?? now) < now - IDLE_ADVICE_MS) this.#samples.shift();
    const busy = (x: Sample) => x.elu >= UP_ELU || x.waiting > 0;
    const range = this.#range;
    if (range && now - this.#lastChange >= COOLDOWN_MS) {
      if (s.workers < range.max && this.#sustained(now, UP_WINDOW_MS, busy)) {
        return this.#change(
          now,
          s.workers + 1,
          `workers ${pct(this.#mean(now, UP_WINDOW_MS))} busy for ${UP_WINDOW_MS / 1000} s${s.waiting ? `, ${s.waiting} connection(s) waiting` : ''}`,
        );
      }
      if (
        s.workers > range.min &&
        this.#sustained(now, DOWN_WINDOW_MS, (x) => x.elu < DOWN_ELU && x.waiting === 0)
      ) {
        return this.#change(
          now,
          s.workers - 1,
          `workers ${pct(this.#mean(now, DOWN_WINDOW_MS))} busy for ${DOWN_WINDOW_MS / 1000} s`,
        );
      }
    }
    return this.#advise(now, s);
  }

  #change(now: number, to: number, why: string): Decision {
    this.#lastChange = now;
    // A new count changes what the samples mean: judge it afresh.
    this.#samples.length = 0;
    return { finding: null, advice: null, scale: { to, why } };
  }

  #advise(now: number, s: Sample): Decision {
    const atCeiling = !this.#range || s.workers >= this.#range.max;
    if (
      atCeiling &&
      this.#sustained(now, BUSY_ADVICE_MS, (x) => x.elu >= BUSY_ELU || x.waiting > 0)
    ) {
      const more = s.workers + Math.max(1, Math.ceil(s.workers / 2));
      return found(
        'under-provisioned',
        `${s.workers} worker(s) ${pct(this.#mean(now, BUSY_ADVICE_MS))} busy for ${BUSY_ADVICE_MS / 1000} s${s.waiting ? ` with ${s.waiting} connection(s) waiting` : ''}: try -w ${more}${this.#range ? ` or --max-workers ${more}` : ' or -w adaptive'} (if CPUs and memory allow)`,
      );
    }
    const floor = this.#range?.min ?? 1;
    if (
      s.workers > floor &&
      this.#sustained(now, IDLE_ADVICE_MS, (x) => x.elu < IDLE_ELU && x.waiting === 0)
    ) {
      const need = Math.max(floor, Math.ceil((this.#mean(now, IDLE_ADVICE_MS) * s.workers) / 0.6));
      return found(
        'over-provisioned',
        `${s.workers} workers below ${pct(IDLE_ELU)} busy for ${IDLE_ADVICE_MS / 60_000} min: ${need} would do; try -w ${need}${this.#range ? '' : ' or -w adaptive'}`,
      );
    }
    return NOTHING;
  }
}
