/**
 * Resolution: defaults < profile < config file < environment < command line. Every value is
 * validated by its setting's type and remembers where it came from.
 */
import { basename } from 'node:path';
import { UsageError } from '../errors.ts';
import { HOOK_NAMES, type HookName, type Hooks } from '../hooks.ts';
import type { RawValue } from './argv.ts';
import { findConfigFile, loadConfigFile } from './file.ts';
import { PROFILES, type ProfileName } from './profiles.ts';
import {
  type Config,
  envName,
  envNames,
  SETTING_NAMES,
  type SettingName,
  settings,
} from './settings.ts';
import { describeSource, type Source } from './sources.ts';
import { closest } from './suggest.ts';
import { checkTlsSettings } from './tls.ts';
import { ValueError } from './values.ts';

export interface Resolved {
  readonly config: Config;
  readonly sources: Readonly<Record<SettingName, Source>>;
  readonly hooks: Hooks;
  /** Absolute path of the config file loaded, if any. */
  readonly file: string | null;
  /** One-line notices about how input was read (an alias used, say). */
  readonly notices: readonly string[];
}

export interface ResolveInput {
  /** Values from the command line, in order. */
  readonly cli?: readonly RawValue[];
  /** The app spec given as the positional argument. */
  readonly app?: string | null;
  /** The script's arguments, given after `--` (null: none given there). */
  readonly args?: readonly string[] | null;
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly cwd?: string;
  /** Re-import the config file even if it was imported before (HUP). */
  readonly fresh?: boolean;
  /**
   * serve()'s options: settings and hooks, a layer just above the config file, which is then
   * only the one they name (`config`), never looked up by name in `cwd`.
   */
  readonly options?: Readonly<Record<string, unknown>>;
}

function flagsOf(name: SettingName): string {
  const flags = settings[name].flags;
  return flags.length ? ` (${flags.join('/')})` : '';
}

/** `corral: invalid workers (-w/--workers) from command line -w: "banana"; allowed: …` */
export function invalid(
  name: SettingName,
  source: Source,
  raw: unknown,
  allowed: string,
): UsageError {
  const shown =
    typeof raw === 'string' ? JSON.stringify(raw) : (JSON.stringify(raw) ?? String(raw));
  return new UsageError(
    `corral: invalid ${name}${flagsOf(name)} from ${describeSource(source)}: ${shown}; allowed: ${allowed}`,
  );
}

function parseValue(name: SettingName, raw: unknown, source: Source, notices?: string[]): unknown {
  try {
    const value = settings[name].type.parse(raw);
    // A name that parsed to a different name is an alias (Gunicorn's worker classes, say).
    if (
      typeof raw === 'string' &&
      typeof value === 'string' &&
      raw !== value &&
      raw.trim().toLowerCase() !== value
    ) {
      notices?.push(`${name}: ${raw} (${describeSource(source)}) runs as corral's ${value}`);
    }
    return value;
  } catch (err) {
    if (err instanceof ValueError) throw invalid(name, source, raw, err.allowed);
    throw err;
  }
}

/** The bind convention: CORRAL_BIND wins; otherwise HOST and/or PORT. */
function bindFromEnv(env: Readonly<Record<string, string | undefined>>) {
  if (env[envName('bind')]) return null;
  const host = env.HOST?.trim();
  const port = env.PORT?.trim();
  if (!host && !port) return null;
  const h = host || '0.0.0.0';
  const origin = host && port ? 'HOST+PORT' : host ? 'HOST' : 'PORT';
  const hostPart = h.includes(':') && !h.startsWith('[') ? `[${h}]` : h;
  return { raw: `${hostPart}:${port || '8000'}`, origin };
}

/**
 * Settings that are fine alone but not together, and defaults that follow from another
 * setting (recorded as `default` with the reason as origin, so `corral config` shows it).
 */
function combine(
  values: Record<string, unknown>,
  sources: Record<SettingName, Source>,
  notices: string[],
): void {
  const from = (name: SettingName) => describeSource(sources[name]);
  if ((values.threads as number) > 1 && values.workerClass !== 'thread') {
    if (sources.workerClass.kind !== 'default') {
      throw new UsageError(
        `corral: threads ${values.threads} (from ${from('threads')}) needs workerClass thread, got ${values.workerClass} (from ${from('workerClass')})`,
      );
    }
    // Gunicorn does the same: threads > 1 turns the default class into gthread.
    values.workerClass = 'thread';
    sources.workerClass = { kind: 'default', origin: `threads ${values.threads}` };
    notices.push(`workerClass: thread, because threads is ${values.threads}`);
  }
  if (values.workerClass === 'thread' && values.dispatch !== 'reuseport') {
    if (sources.dispatch.kind !== 'default') {
      throw new UsageError(
        `corral: workerClass thread needs dispatch reuseport (each thread accepts on its own socket), got ${values.dispatch} (from ${from('dispatch')})`,
      );
    }
    values.dispatch = 'reuseport';
    sources.dispatch = { kind: 'default', origin: 'workerClass thread' };
  }
  if (values.workerClass === 'thread') {
    const unix = (values.bind as string[]).find(
      (b) => b.startsWith('unix:') || b.startsWith('fd://'),
    );
    if (unix) {
      throw new UsageError(
        `corral: workerClass thread needs TCP binds (each thread binds its own SO_REUSEPORT socket), got ${unix} (from ${from('bind')})`,
      );
    }
  }
  checkTlsSettings(values, from);
  if (values.workerClass === 'sync') {
    // A sync worker accepts only while it holds no connection, so the shared socket gives each
    // connection to an idle worker (as Gunicorn's sync workers sit in accept() only when idle).
    // Only the master can time a waiting connection: --queue-timeout needs it on the path.
    if (values.dispatch === 'reuseport') {
      throw new UsageError(
        `corral: workerClass sync (from ${from('workerClass')}) needs dispatch shared or least-conn, got reuseport (from ${from('dispatch')}): a busy worker's own queue would hold connections while another worker is idle`,
      );
    }
    if ((values.queueTimeout as number) > 0 && sources.dispatch.kind === 'default') {
      values.dispatch = 'least-conn';
      sources.dispatch = { kind: 'default', origin: 'workerClass sync with queueTimeout' };
    }
  }
  if ((values.queueTimeout as number) > 0 && values.dispatch !== 'least-conn') {
    notices.push(
      `queueTimeout: ${values.queueTimeout} (${from('queueTimeout')}) applies only with dispatch least-conn; with ${values.dispatch} connections wait in the kernel's accept queue`,
    );
  }
}

interface Layered {
  readonly name: SettingName;
  readonly raw: unknown;
  readonly source: Source;
}

/** Settings and hooks by name, split; unknown keys are refused with a hint. */
function splitValues(
  values: Readonly<Record<string, unknown>>,
  source: Source,
  where: string,
): { hooks: Hooks; layered: Layered[] } {
  const hooks: Hooks = {};
  const layered: Layered[] = [];
  for (const [key, raw] of Object.entries(values)) {
    if ((HOOK_NAMES as readonly string[]).includes(key)) {
      if (typeof raw !== 'function') {
        throw new UsageError(
          `corral: hook ${key} in ${where} must be a function, found ${typeof raw}`,
        );
      }
      hooks[key as HookName] = raw as never;
      continue;
    }
    if (!(key in settings)) {
      const hint = closest(key, [...SETTING_NAMES, ...HOOK_NAMES]);
      throw new UsageError(
        `corral: unknown setting ${key} in ${where}${hint ? ` (did you mean ${hint}?)` : ''}`,
      );
    }
    // A setting left undefined (an optional field of a typed object) is not given.
    if (raw === undefined) continue;
    layered.push({ name: key as SettingName, raw, source });
  }
  return { hooks, layered };
}

/** A config file split into hooks and setting values. */
async function readConfigFile(
  file: string,
  fresh = false,
): Promise<{ hooks: Hooks; fileValues: Layered[] }> {
  const loaded = await loadConfigFile(file, fresh);
  const origin = basename(file);
  const { hooks, layered } = splitValues(
    loaded.values,
    { kind: 'file', origin },
    `config file ${origin}`,
  );
  return { hooks, fileValues: layered };
}

/** The profile named by the highest layer: command line, then environment, then config file. */
function chooseProfile(
  cli: readonly RawValue[],
  env: Readonly<Record<string, string | undefined>>,
  fileValues: readonly Layered[],
): ProfileName | null {
  const fromCli = [...cli].reverse().find((v) => v.name === 'profile');
  const envVar = envName('profile');
  const fromFile = [...fileValues].reverse().find((v) => v.name === 'profile');
  const chosen: { raw: unknown; source: Source } | undefined = fromCli
    ? { raw: fromCli.raw, source: { kind: 'cli', origin: fromCli.flag } }
    : env[envVar]
      ? { raw: env[envVar], source: { kind: 'env', origin: envVar } }
      : fromFile;
  return chosen ? (parseValue('profile', chosen.raw, chosen.source) as ProfileName | null) : null;
}

export async function resolveConfig(input: ResolveInput = {}): Promise<Resolved> {
  const env = input.env ?? {};
  const cwd = input.cwd ?? process.cwd();
  const cli = input.cli ?? [];
  const values: Record<string, unknown> = {};
  const notices: string[] = [];
  const sources = {} as Record<SettingName, Source>;
  for (const name of SETTING_NAMES) {
    values[name] = settings[name].default;
    sources[name] = { kind: 'default' };
  }

  // serve()'s options: split first, since they may name the config file.
  const code = input.options
    ? splitValues(input.options, { kind: 'code', origin: 'serve()' }, 'serve() options')
    : null;
  // Which config file: -c, then CORRAL_CONFIG, then the default names in cwd; for serve(),
  // only the one its options name.
  const cliConfig = [...cli].reverse().find((v) => v.name === 'config');
  const codeConfig = input.options?.config;
  const explicit = code
    ? typeof codeConfig === 'string'
      ? codeConfig
      : null
    : cliConfig
      ? String(cliConfig.raw)
      : (env[envName('config')] ?? null);
  const file = code && !explicit ? null : findConfigFile(explicit, cwd);
  const read = file ? await readConfigFile(file, input.fresh) : { hooks: {}, fileValues: [] };
  const hooks: Hooks = { ...read.hooks, ...code?.hooks };
  const fileValues = [...read.fileValues, ...(code?.layered ?? [])];

  // The profile sits just above the defaults, so which one is chosen must be known before the
  // file, env and CLI layers are applied: the highest layer that names one picks it.
  const profile = chooseProfile(cli, env, fileValues);
  if (profile) {
    for (const [key, raw] of Object.entries(PROFILES[profile].values)) {
      const name = key as SettingName;
      const source: Source = { kind: 'profile', origin: profile };
      values[name] = parseValue(name, raw, source, notices);
      sources[name] = source;
    }
  }
  for (const { name, raw, source } of fileValues) {
    values[name] = parseValue(name, raw, source, notices);
    sources[name] = source;
  }

  for (const name of SETTING_NAMES) {
    if (name === 'bind') {
      const conv = bindFromEnv(env);
      if (conv) {
        const source: Source = { kind: 'env', origin: conv.origin };
        values.bind = parseValue('bind', [conv.raw], source);
        sources.bind = source;
        continue;
      }
    }
    for (const varName of envNames(name)) {
      const raw = env[varName];
      if (raw === undefined || raw === '' || (name === 'bind' && varName !== envName('bind'))) {
        continue;
      }
      const source: Source = { kind: 'env', origin: varName };
      values[name] = parseValue(name, raw, source, notices);
      sources[name] = source;
      break;
    }
  }

  // Command line: a repeatable setting's occurrences replace lower layers together.
  const fromCli = new Map<SettingName, unknown[]>();
  for (const v of cli) {
    const source: Source = { kind: 'cli', origin: v.flag };
    const parsed = parseValue(v.name, v.raw, source, notices);
    if (settings[v.name].type.repeatable) {
      const items = fromCli.get(v.name) ?? [];
      items.push(...(parsed as unknown[]));
      fromCli.set(v.name, items);
      values[v.name] = items;
    } else {
      values[v.name] = parsed;
    }
    sources[v.name] = source;
  }
  if (input.app) {
    values.app = input.app;
    sources.app = { kind: 'cli', origin: 'APP' };
  }
  if (input.args) {
    values.args = [...input.args];
    sources.args = { kind: 'cli', origin: '--' };
  }

  combine(values, sources, notices);
  return {
    config: Object.freeze(values) as unknown as Config,
    sources: Object.freeze(sources),
    hooks: Object.freeze(hooks),
    file,
    notices,
  };
}
