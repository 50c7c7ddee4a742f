/**
 * `--env-file`: Node's .env format (`util.parseEnv`, what `node --env-file` reads). Later files
 * win over earlier ones; variables already in the environment win over every file, as with Node.
 */
import { resolve } from 'node:path';
import { UsageError } from '../errors.ts';
import { readFileSync } from '../fs.ts';

/** The variables of `paths`, merged in order. */
export function readEnvFiles(paths: readonly string[], cwd: string): Record<string, string> {
  // Not an ESM import of node:util: it evaluates util's whole namespace (src/config/argv.ts).
  const { parseEnv } = process.getBuiltinModule('node:util');
  const vars: Record<string, string> = {};
  for (const path of paths) {
    let text: string;
    try {
      text = readFileSync(resolve(cwd, path), 'utf8');
    } catch (err) {
      const why = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      throw new UsageError(`corral: cannot read env file ${path} (--env-file): ${why}`);
    }
    Object.assign(vars, parseEnv(text));
  }
  return vars;
}

/** Add the files' variables to `env`, leaving those it already has; returns the names added. */
export function applyEnvFiles(
  paths: readonly string[],
  env: Record<string, string | undefined>,
  cwd: string,
): string[] {
  const added: string[] = [];
  for (const [k, v] of Object.entries(readEnvFiles(paths, cwd))) {
    if (env[k] !== undefined) continue;
    env[k] = v;
    added.push(k);
  }
  return added;
}
