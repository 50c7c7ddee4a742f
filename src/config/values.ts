/**
 * Value types for settings: each one turns raw input (a CLI/env string, or a value from a
 * config file) into a typed value, or throws a `ValueError` saying what is allowed.
 */

export class ValueError extends Error {
  readonly allowed: string;
  constructor(allowed: string) {
    super(allowed);
    this.allowed = allowed;
  }
}

/** A size as a config file may write it: `'512MiB'`, `'1g'`, `'64 KiB'`. */
export type SizeText =
  `${number}${'' | ' '}${'b' | 'B' | 'k' | 'K' | 'KiB' | 'kib' | 'm' | 'M' | 'MiB' | 'mib' | 'g' | 'G' | 'GiB' | 'gib'}`;

/** `T`: the parsed value; `In`: what a config file or serve() may give (typed input). */
export interface ValueType<T, In = T> {
  /** What is allowed, in words: shown in errors, --help and docs. */
  readonly describe: string;
  /** Metavar for --help. */
  readonly meta: string;
  /** True when the flag takes no argument (`--preload`), or `--no-x` negation is allowed. */
  readonly boolean?: boolean;
  /** True when a flag may repeat and each occurrence adds an item. */
  readonly repeatable?: boolean;
  parse(raw: unknown): T;
  /** Type-level only (never set): the input this type accepts from code, for UserConfig. */
  readonly input?: In;
}

function reject(allowed: string): never {
  throw new ValueError(allowed);
}

export function integer(min = 0, max = Number.MAX_SAFE_INTEGER): ValueType<number> {
  const describe =
    max === Number.MAX_SAFE_INTEGER ? `an integer ≥ ${min}` : `an integer from ${min} to ${max}`;
  return {
    describe,
    meta: 'INT',
    parse(raw) {
      const n = typeof raw === 'number' ? raw : typeof raw === 'string' ? Number(raw.trim()) : NaN;
      if (typeof raw === 'string' && !/^[+-]?\d+$/.test(raw.trim())) reject(describe);
      if (!Number.isInteger(n) || n < min || n > max) reject(describe);
      return n;
    },
  };
}

/** Seconds, fractional allowed. */
export function seconds(min = 0): ValueType<number> {
  const describe = `a number of seconds ≥ ${min}`;
  return {
    describe,
    meta: 'SECONDS',
    parse(raw) {
      const n =
        typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() ? Number(raw) : NaN;
      if (!Number.isFinite(n) || n < min) reject(describe);
      return n;
    },
  };
}

const TRUE = new Set(['1', 'true', 'yes', 'on']);
const FALSE = new Set(['0', 'false', 'no', 'off']);

export function boolean(): ValueType<boolean> {
  const describe = 'true or false (also 1/0, yes/no, on/off)';
  return {
    describe,
    meta: '',
    boolean: true,
    parse(raw) {
      if (typeof raw === 'boolean') return raw;
      const s = String(raw).trim().toLowerCase();
      if (TRUE.has(s)) return true;
      if (FALSE.has(s)) return false;
      return reject(describe);
    },
  };
}

export function text(meta = 'STRING'): ValueType<string> {
  return {
    describe: 'a non-empty string',
    meta,
    parse(raw) {
      if (typeof raw !== 'string' || raw.length === 0) reject('a non-empty string');
      return raw;
    },
  };
}

/** A string or null (unset). */
export function optionalText(meta = 'STRING'): ValueType<string | null> {
  return {
    describe: 'a non-empty string',
    meta,
    parse(raw) {
      if (raw === null) return null;
      if (typeof raw !== 'string' || raw.length === 0) reject('a non-empty string');
      return raw;
    },
  };
}

export function oneOf<const T extends string, const A extends string = never>(
  choices: readonly T[],
  aliases: Readonly<Record<A, T>> = {} as Record<A, T>,
): ValueType<T, T | A> {
  const names = [...choices, ...Object.keys(aliases)];
  const describe = `one of ${names.join(', ')}`;
  return {
    describe,
    meta: choices.join('|'),
    parse(raw) {
      const s = typeof raw === 'string' ? raw.trim().toLowerCase() : '';
      if ((choices as readonly string[]).includes(s)) return s as T;
      const alias = (aliases as Readonly<Record<string, T>>)[s];
      if (alias) return alias;
      return reject(describe);
    },
  };
}

/**
 * A list of strings. From a string (CLI/env) it splits on commas unless `splitOn` is null;
 * repeated flags add items. From a file it takes an array of strings (or one string).
 */
export function list(
  item: ValueType<string>,
  { splitOn = ',' as string | null, meta = item.meta } = {},
): ValueType<string[], string | readonly string[]> {
  const one = item.describe.replace(/^an? /, '');
  const describe = `a list of ${one.endsWith('s') ? one : `${one}s`}`;
  return {
    describe,
    meta,
    repeatable: true,
    parse(raw) {
      const items = Array.isArray(raw)
        ? raw
        : typeof raw === 'string'
          ? splitOn === null
            ? [raw]
            : raw.split(splitOn).map((s) => s.trim())
          : reject(describe);
      return items.filter((s) => s !== '').map((s) => item.parse(s));
    },
  };
}

/** A value checked by a predicate after parsing by `base`. */
export function refine<T>(
  base: ValueType<T>,
  describe: string,
  check: (value: T) => boolean,
): ValueType<T> {
  return {
    ...base,
    describe,
    parse(raw) {
      const v = base.parse(raw);
      if (!check(v)) reject(describe);
      return v;
    },
  };
}

/** An integer, or null (unset: e.g. "no cap"). */
export function optionalInteger(min = 0, max = Number.MAX_SAFE_INTEGER): ValueType<number | null> {
  const base = integer(min, max);
  const describe = `${base.describe}, or none`;
  return {
    describe,
    meta: 'INT',
    parse(raw) {
      if (raw === null) return null;
      if (typeof raw === 'string' && raw.trim().toLowerCase() === 'none') return null;
      try {
        return base.parse(raw);
      } catch {
        return reject(describe);
      }
    },
  };
}

/** A decimal number in (min, max] (`exclusiveMin`) or [min, max]. */
export function decimal(
  min: number,
  max: number,
  { exclusiveMin = false, meta = 'NUMBER' } = {},
): ValueType<number> {
  const describe = `a number ${exclusiveMin ? '>' : '≥'} ${min} and ≤ ${max}`;
  return {
    describe,
    meta,
    parse(raw) {
      const n =
        typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() ? Number(raw) : NaN;
      if (!Number.isFinite(n) || n > max || (exclusiveMin ? n <= min : n < min)) reject(describe);
      return n;
    },
  };
}

const SIZE_UNITS: Readonly<Record<string, number>> = {
  '': 1,
  b: 1,
  k: 2 ** 10,
  kib: 2 ** 10,
  m: 2 ** 20,
  mib: 2 ** 20,
  g: 2 ** 30,
  gib: 2 ** 30,
};

/**
 * A size in bytes. Binary units only (`64MiB`, `1GiB`, and Docker's `512m`, `1g`), so `M`
 * never means 10^6 in one place and 2^20 in another; a bare number is bytes.
 */
export function size(): ValueType<number, number | SizeText> {
  const describe = 'a size such as 64MiB, 512m or 1GiB (binary units; a bare number is bytes)';
  return {
    describe,
    meta: 'SIZE',
    parse(raw) {
      if (typeof raw === 'number') {
        if (!Number.isInteger(raw) || raw < 0) reject(describe);
        return raw;
      }
      const m = typeof raw === 'string' ? /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(raw) : null;
      const unit = m ? SIZE_UNITS[(m[2] ?? '').toLowerCase()] : undefined;
      if (!m || unit === undefined) return reject(describe);
      return Math.round(Number(m[1]) * unit);
    },
  };
}

/** `base`, or null (unset). */
export function nullable<T, In>(base: ValueType<T, In>): ValueType<T | null, In | null> {
  return {
    ...base,
    parse(raw) {
      return raw === null ? null : base.parse(raw);
    },
  };
}

/**
 * A file-mode mask such as a umask: octal digits as strings (`027`, `0o027`, `0027`), since a
 * umask is always written in octal; a number from a config file is taken as is (write `0o027`).
 */
export function octalMask(max = 0o777): ValueType<number> {
  const describe = `an octal mask from 0 to ${max.toString(8)} (e.g. 027 or 0o027)`;
  return {
    describe,
    meta: 'OCTAL',
    parse(raw) {
      if (typeof raw === 'number') {
        if (!Number.isInteger(raw) || raw < 0 || raw > max) reject(describe);
        return raw;
      }
      const m = typeof raw === 'string' ? /^\s*(?:0o)?([0-7]{1,4})\s*$/i.exec(raw) : null;
      const n = m ? Number.parseInt(m[1] ?? '', 8) : Number.NaN;
      if (!Number.isInteger(n) || n > max) reject(describe);
      return n;
    },
  };
}

const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * Header names to values: an object in a config file, `NAME=VALUE,NAME=VALUE` (or
 * `NAME: VALUE`) from the command line or environment; `none` or empty for no entries.
 */
export function stringMap(
  meta = 'PAIRS',
): ValueType<Readonly<Record<string, string>>, Readonly<Record<string, string>> | string> {
  const describe = 'NAME=VALUE pairs, comma-separated (an object in a config file), or none';
  const entry = (k: string, v: unknown): [string, string] => {
    const name = k.trim();
    if (!HEADER_NAME.test(name) || typeof v !== 'string' || v.trim() === '') reject(describe);
    return [name, v.trim()];
  };
  return {
    describe,
    meta,
    parse(raw) {
      if (raw !== null && typeof raw === 'object' && !Array.isArray(raw)) {
        return Object.fromEntries(Object.entries(raw).map(([k, v]) => entry(k, v)));
      }
      if (typeof raw !== 'string') return reject(describe);
      const s = raw.trim();
      if (s === '' || s.toLowerCase() === 'none') return {};
      return Object.fromEntries(
        s.split(',').map((pair) => {
          const at = pair.search(/[=:]/);
          return at < 0 ? reject(describe) : entry(pair.slice(0, at), pair.slice(at + 1));
        }),
      );
    },
  };
}
