/** Read the manifests in deploy/ and resolve the corral settings they set, as corral would. */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCommandLine } from '../../src/config/argv.ts';
import { type Resolved, resolveConfig } from '../../src/config/resolve.ts';
import { envNames, SETTING_NAMES, settings } from '../../src/config/settings.ts';
import { parseBind } from '../../src/master/listeners.ts';

export const DEPLOY = new URL('../../deploy/', import.meta.url);

export function readDeploy(path: string): string {
  return readFileSync(new URL(path, DEPLOY), 'utf8');
}

/** A systemd unit file: section → key → values (a key may repeat). */
export function parseUnit(text: string): Map<string, Map<string, string[]>> {
  const out = new Map<string, Map<string, string[]>>();
  let section: Map<string, string[]> | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const head = /^\[(.+)\]$/.exec(line);
    if (head) {
      section = new Map();
      out.set(head[1] as string, section);
      continue;
    }
    const eq = line.indexOf('=');
    if (!section || eq < 0) throw new Error(`not a unit file line: ${raw}`);
    const key = line.slice(0, eq).trim();
    section.set(key, [...(section.get(key) ?? []), line.slice(eq + 1).trim()]);
  }
  return out;
}

export interface Instruction {
  readonly op: string;
  readonly args: string;
}

/** Dockerfile instructions, continuation lines joined, comments dropped. */
export function parseDockerfile(text: string): Instruction[] {
  const lines: string[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    if (/^\s*#/.test(raw)) continue;
    const continued = raw.endsWith('\\');
    pending += `${continued ? raw.slice(0, -1) : raw} `;
    if (continued) continue;
    if (pending.trim()) lines.push(pending.trim());
    pending = '';
  }
  return lines.map((l) => {
    const i = l.search(/\s/);
    return { op: l.slice(0, i).toUpperCase(), args: l.slice(i + 1).trim() };
  });
}

/** Every `CORRAL_*` variable must be a real setting's (corral would silently ignore a typo). */
export function unknownCorralVars(env: Record<string, string>): string[] {
  const known = new Set(SETTING_NAMES.flatMap((n) => envNames(n)));
  return Object.keys(env).filter((k) => k.startsWith('CORRAL_') && !known.has(k));
}

/** Resolve corral's command line and environment exactly as it would, in an empty directory. */
export async function resolveCorral(args: string[], env: Record<string, string>) {
  const cl = parseCommandLine(args);
  const cwd = mkdtempSync(join(tmpdir(), 'corral-deploy-'));
  const resolved: Resolved = await resolveConfig({ cli: cl.values, app: cl.app, env, cwd });
  return resolved;
}

/** The TCP address of a bind spec (manifests bind TCP ports). */
export function tcp(spec: string): { host: string; port: number } {
  const a = parseBind(spec);
  if (a.kind !== 'tcp') throw new Error(`${spec} is not a TCP bind`);
  return { host: a.host, port: a.port };
}

/** The port corral binds by default (8000): the manifests use it, so docs and probes agree. */
export function defaultPort(): number {
  return tcp(settings.bind.default[0] as string).port;
}
