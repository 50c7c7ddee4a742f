/** The command line → a command, its app spec and raw setting values, driven by the table. */
/**
 * Not `import { parseArgs } from 'node:util'`: an ESM import of node:util evaluates every lazy
 * export of util's namespace, 3 MiB more RSS in the master (measured).
 */
const { parseArgs } = process.getBuiltinModule('node:util');

import { UsageError } from '../errors.ts';
import { type RawTuneFlags, TUNE_FLAG_NAMES, TUNE_FLAGS } from '../tune/options.ts';
import { SETTING_NAMES, type SettingName, settings } from './settings.ts';
import { closest } from './suggest.ts';

export const COMMANDS = ['serve', 'check', 'config', 'ctl', 'top', 'tune'] as const;
export type Command = (typeof COMMANDS)[number];

export interface RawValue {
  readonly name: SettingName;
  readonly raw: unknown;
  /** The flag as typed (`-w`, `--workers`). */
  readonly flag: string;
}

export interface CommandLine {
  readonly command: Command;
  /** The command was named (`corral tune …`), not implied (`corral app.ts` serves). */
  readonly named: boolean;
  readonly app: string | null;
  /** What follows `--`: the script app's own arguments (null: no `--`). */
  readonly scriptArgs: readonly string[] | null;
  /** ctl's subcommand and its argument. */
  readonly args: readonly string[];
  /** Setting values in the order given; repeatable settings have one entry per occurrence. */
  readonly values: readonly RawValue[];
  readonly json: boolean;
  /** config: show how every value was derived (the workers count in full) and the profiles. */
  readonly explain: boolean;
  /** tune's own flags, as given (validated by the tune command). */
  readonly tune: RawTuneFlags;
  readonly help: boolean;
  readonly version: boolean;
}

type OptionSpec = { type: 'string' | 'boolean'; short?: string; multiple?: boolean };

/** Options for util.parseArgs, and which setting each long option feeds. */
function optionTable() {
  const options: Record<string, OptionSpec> = {
    help: { type: 'boolean', short: 'h' },
    version: { type: 'boolean', short: 'v' },
    json: { type: 'boolean' },
    explain: { type: 'boolean' },
  };
  for (const name of TUNE_FLAG_NAMES) {
    options[name] = TUNE_FLAGS[name].multiple
      ? { type: 'string', multiple: true }
      : { type: 'string' };
  }
  const owner = new Map<string, SettingName>();
  for (const name of SETTING_NAMES) {
    const s = settings[name];
    const short = s.flags.find((f) => /^-[^-]$/.test(f))?.slice(1);
    const longs = s.flags.filter((f) => f.startsWith('--')).map((f) => f.slice(2));
    longs.forEach((long, i) => {
      const spec: OptionSpec = { type: s.type.boolean ? 'boolean' : 'string' };
      if (i === 0 && short) spec.short = short;
      options[long] = spec;
      owner.set(long, name);
    });
  }
  return { options, owner };
}

/** parseArgs' complaint in one line, with the nearest option to a mistyped one. */
function optionError(err: unknown, longs: readonly string[]): string {
  const msg = err instanceof Error ? err.message : String(err);
  const unknown = /^Unknown option '(-{1,2})([^'=]+)/.exec(msg);
  if (unknown) {
    const [, dashes, name = ''] = unknown;
    const meant = dashes === '--' ? closest(name, longs) : undefined;
    const hint = meant ? `; did you mean --${meant}?` : '';
    return `corral: unknown option ${dashes}${name}${hint} (see corral --help)`;
  }
  const missing = /^Option '(?:-(\w), )?--([\w-]+) <value>' argument missing/.exec(msg);
  if (missing) {
    const flag = missing[1] ? `-${missing[1]}/--${missing[2]}` : `--${missing[2]}`;
    return `corral: option ${flag} needs a value (see corral --help)`;
  }
  return `corral: ${msg.split('. ')[0]} (see corral --help)`;
}

/** A value that starts with a dash but is a number: `-1`, `-5`, `-0.5`. */
const NEGATIVE = /^-\.?\d/;

/**
 * parseArgs takes `-w -1` for an option missing its value ("argument is ambiguous"). Join a
 * negative number to its option (`-w-1`, `--timeout=-5`) so the setting's own check names the
 * setting and what it allows.
 */
function joinNegativeValues(
  argv: readonly string[],
  options: Record<string, OptionSpec>,
): string[] {
  const takesValue = new Set<string>();
  for (const [long, spec] of Object.entries(options)) {
    if (spec.type !== 'string') continue;
    takesValue.add(`--${long}`);
    if (spec.short) takesValue.add(`-${spec.short}`);
  }
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const next = argv[i + 1];
    if (arg === '--') return out.concat(argv.slice(i));
    if (takesValue.has(arg) && next !== undefined && NEGATIVE.test(next)) {
      out.push(arg.startsWith('--') ? `${arg}=${next}` : `${arg}${next}`);
      i++;
    } else {
      out.push(arg);
    }
  }
  return out;
}

export function parseCommandLine(argv: readonly string[]): CommandLine {
  const { options, owner } = optionTable();
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: joinNegativeValues(argv, options),
      options,
      allowPositionals: true,
      allowNegative: true,
      strict: true,
      tokens: true,
    });
  } catch (err) {
    throw new UsageError(optionError(err, Object.keys(options)));
  }
  // After `--` everything is the script's (`corral APP [options] -- ARGS…`).
  const tokens = parsed.tokens ?? [];
  const end = tokens.find((t) => t.kind === 'option-terminator')?.index ?? Number.POSITIVE_INFINITY;
  const positionals = tokens
    .filter((t) => t.kind === 'positional' && t.index < end)
    .map((t) => (t as { value: string }).value);
  const scriptArgs = Number.isFinite(end)
    ? tokens
        .filter((t) => t.kind === 'positional' && t.index > end)
        .map((t) => (t as { value: string }).value)
    : null;
  let command: Command = 'serve';
  const named = !!positionals[0] && (COMMANDS as readonly string[]).includes(positionals[0]);
  if (named) command = positionals.shift() as Command;
  // ctl and top take no app: their positionals are their own (`ctl scale 3`).
  const takesApp = command !== 'ctl' && command !== 'top';
  if (takesApp && positionals.length > 1) {
    const meant = !named && closest(positionals[0] as string, COMMANDS);
    throw new UsageError(
      `corral: expected one app, got ${positionals.length}: ${positionals.join(' ')}${meant ? ` (did you mean corral ${meant}?)` : ` (arguments for the app go after --: corral ${positionals[0]} [options] -- ${positionals.slice(1).join(' ')})`}`,
    );
  }
  const tune: RawTuneFlags = {};
  for (const name of TUNE_FLAG_NAMES) {
    const v = parsed.values[name];
    if (v === undefined) continue;
    // A measurement flag on another command is a mistake worth saying, not ignoring.
    if (command !== 'tune') {
      throw new UsageError(`corral: --${name} is an option of corral tune (see corral --help)`);
    }
    tune[name] = v as string | string[];
  }
  const values: RawValue[] = [];
  for (const token of tokens) {
    if (token.kind !== 'option') continue;
    const name = owner.get(token.name);
    if (!name) continue;
    const raw = settings[name].type.boolean ? !token.rawName.startsWith('--no-') : token.value;
    values.push({ name, raw, flag: token.rawName });
  }
  return {
    command,
    named,
    app: takesApp ? (positionals[0] ?? null) : null,
    scriptArgs: takesApp ? scriptArgs : null,
    args: takesApp ? [] : positionals,
    values,
    json: parsed.values.json === true,
    explain: parsed.values.explain === true,
    tune,
    help: parsed.values.help === true,
    version: parsed.values.version === true,
  };
}
