/**
 * `corral tune`'s own flags. They configure the measurement, not the server, so they are
 * command options (as `--json` is), not settings: no env var, no config-file key. This one
 * table gives the parser its options, `--help` its lines and the command its typed values.
 */

import {
  decimal,
  integer,
  seconds,
  size,
  text,
  ValueError,
  type ValueType,
} from '../config/values.ts';
import { UsageError } from '../errors.ts';

interface TuneFlag<T> {
  readonly type: ValueType<T>;
  readonly doc: string;
  /** May be given more than once. */
  readonly multiple?: boolean;
}

const flag = <T>(f: TuneFlag<T>) => f;

const PATH_RULE =
  'a path on the app, starting with / (tune only loads the app it starts, on 127.0.0.1)';
const path: ValueType<string> = {
  describe: PATH_RULE,
  meta: 'PATH',
  parse(raw) {
    if (typeof raw !== 'string' || !raw.startsWith('/')) throw new ValueError(PATH_RULE);
    return raw;
  },
};

export const TUNE_FLAGS = {
  url: flag({
    type: path,
    multiple: true,
    doc: 'Path to load (repeatable; connections cycle through them). Default: /',
  }),
  'requests-file': flag({
    type: text('FILE'),
    doc: 'JSON array of requests [{method, path, headers, body}] to cycle through instead of --url',
  }),
  duration: flag({ type: seconds(0.5), doc: 'Seconds per measured run. Default: 5' }),
  runs: flag({
    type: integer(1, 20),
    doc: 'Measured runs per candidate (the spread is shown). Default: 3',
  }),
  warmup: flag({
    type: seconds(0),
    doc: 'Seconds of load before measuring each candidate. Default: min(2, duration)',
  }),
  connections: flag({ type: integer(1, 10_000), doc: 'Concurrent connections. Default: 64' }),
  'max-p99': flag({
    type: decimal(0, 3_600_000, { exclusiveMin: true, meta: 'MS' }),
    doc: 'Latency budget: candidates whose p99 is above this many ms are not recommended',
  }),
  'max-memory': flag({
    type: size(),
    doc: 'Memory budget: candidates whose RSS (master and workers) is above this are not recommended or not tried',
  }),
  'max-candidates': flag({
    type: integer(1, 100),
    doc: 'Measure at most this many candidates. Default: 12',
  }),
  finals: flag({
    type: integer(0, 8),
    doc: 'Measure the best this many again, side by side and interleaved, before deciding; 0 = off. Default: 4',
  }),
  'time-limit': flag({
    type: seconds(10),
    doc: 'Stop starting candidates after this many seconds. Default: 600',
  }),
  report: flag({
    type: text('FILE.html'),
    doc: 'Write an HTML report with charts (opens with no network)',
  }),
  'write-config': flag({
    type: text('FILE'),
    doc: 'Write the recommendation as a corral.config.ts',
  }),
} as const;

export type TuneFlagName = keyof typeof TUNE_FLAGS;
export const TUNE_FLAG_NAMES = Object.keys(TUNE_FLAGS) as TuneFlagName[];

/** What parseArgs gave for tune's flags (strings, or arrays for repeatable ones). */
export type RawTuneFlags = Partial<Record<TuneFlagName, string | string[]>>;

export interface TuneOptions {
  readonly urls: readonly string[];
  readonly requestsFile: string | null;
  readonly duration: number;
  readonly runs: number;
  readonly warmup: number;
  readonly connections: number;
  readonly maxP99: number | null;
  readonly maxMemory: number | null;
  readonly maxCandidates: number;
  readonly finals: number;
  readonly timeLimit: number;
  readonly report: string | null;
  readonly writeConfig: string | null;
}

/** Validate tune's flags; a bad one is a usage error naming the flag, the value and what is allowed. */
export function parseTuneFlags(raw: RawTuneFlags): TuneOptions {
  const one = <T>(name: TuneFlagName, fallback: T): T => {
    const v = raw[name];
    if (v === undefined) return fallback;
    const values = Array.isArray(v) ? v : [v];
    try {
      const parsed = values.map((x) => (TUNE_FLAGS[name].type as ValueType<unknown>).parse(x));
      return (TUNE_FLAGS[name].multiple ? parsed : parsed[parsed.length - 1]) as T;
    } catch (err) {
      if (!(err instanceof ValueError)) throw err;
      throw new UsageError(
        `corral: invalid --${name} for corral tune: ${JSON.stringify(v)}; allowed: ${err.allowed}`,
      );
    }
  };
  const duration = one('duration', 5);
  return {
    urls: one<string[]>('url', ['/']),
    requestsFile: one<string | null>('requests-file', null),
    duration,
    runs: one('runs', 3),
    warmup: one('warmup', Math.min(2, duration)),
    connections: one('connections', 64),
    maxP99: one<number | null>('max-p99', null),
    maxMemory: one<number | null>('max-memory', null),
    maxCandidates: one('max-candidates', 12),
    finals: one('finals', 4),
    timeLimit: one('time-limit', 600),
    report: one<string | null>('report', null),
    writeConfig: one<string | null>('write-config', null),
  };
}

/** `--help` lines for the flags. */
export function tuneHelp(): string {
  return TUNE_FLAG_NAMES.map((name) => {
    const f = TUNE_FLAGS[name];
    const meta = f.type.meta ? ` ${f.type.meta}` : '';
    return `  ${`--${name}${meta}`.padEnd(34)} ${f.doc}`;
  }).join('\n');
}
