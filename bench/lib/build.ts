/**
 * Which corral a bench runs: the published build (dist/, rebuilt when a source file is newer
 * and TypeScript is there), the repository's sources, or any corral cli.js given by path.
 */
import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { here } from './servers.ts';

export interface CorralCommand {
  /** What to run with this Node: [script]. */
  readonly args: string[];
  /** In words, for the report. */
  readonly build: string;
}

/** `which`: 'dist', 'src' or a path to a corral cli.js. */
export function corralCommand(which: string): CorralCommand {
  const src = here('../bin/corral.js');
  if (which === 'src') return { args: [src], build: 'the repository (src/*.ts, type-stripped)' };
  if (which !== 'dist') return { args: [which], build: which };
  const cli = here('../dist/cli.js');
  const tsc = here('../node_modules/typescript/bin/tsc');
  const newest = (dir: string): number =>
    Math.max(
      ...readdirSync(dir, { withFileTypes: true }).map((e) =>
        e.isDirectory() ? newest(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs,
      ),
    );
  // Without TypeScript (a machine with only node and a copy of the tree), a dist/ built
  // elsewhere is used as it is: file times there say nothing about staleness.
  if (!existsSync(tsc)) {
    if (existsSync(cli))
      return { args: [cli], build: 'the published build (dist/, built beforehand)' };
    process.stderr.write('no dist/ and no TypeScript to build it: measuring the sources\n');
    return { args: [src], build: 'the repository (src/*.ts; dist/ could not be built)' };
  }
  if (!existsSync(cli) || statSync(cli).mtimeMs < newest(here('../src'))) {
    try {
      process.stderr.write('building dist/ (the published build) …\n');
      execFileSync(process.execPath, [tsc, '-p', here('../tsconfig.build.json')], {
        stdio: 'inherit',
      });
    } catch {
      process.stderr.write('could not build dist/: measuring the sources instead\n');
      return { args: [src], build: 'the repository (src/*.ts; dist/ could not be built)' };
    }
  }
  return { args: [cli], build: 'the published build (dist/)' };
}

/**
 * The published build as `npx corral` runs it: through the package's bin, which sets the
 * master's V8 flags and Node's compile cache before it loads dist/ (in the repository the bin
 * loads src/ instead). A temporary package is laid out the way npm installs it: a copy of
 * bin/corral.js, links to dist/, package.json and node_modules. Other commands are kept.
 */
export function throughBin(c: CorralCommand): CorralCommand {
  const cli = here('../dist/cli.js');
  if (c.args[0] !== cli) return c;
  const root = mkdtempSync(join(tmpdir(), 'corral-bench-pkg-'));
  // Links and one copied file: removed when the bench ends (the links are not followed).
  process.once('exit', () => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, 'bin'));
  copyFileSync(here('../bin/corral.js'), join(root, 'bin', 'corral.js'));
  for (const name of ['dist', 'package.json', 'node_modules']) {
    symlinkSync(here(`../${name}`), join(root, name));
  }
  return { args: [join(root, 'bin', 'corral.js')], build: `${c.build}, through the package's bin` };
}
