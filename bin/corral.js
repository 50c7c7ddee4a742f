#!/usr/bin/env node
// corral's executable. In the repository it runs the TypeScript sources directly (Node strips
// the types); the published package runs the compiled JS in dist/.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  process.stderr.write(`corral: needs Node >= 22.18 (this is ${process.version})\n`);
  process.exit(1);
}
// Built-ins by getBuiltinModule(), not an ESM import: importing node:fs loads fs/promises and
// readline with its namespace, 1 MiB of the master's RSS (src/fs.ts).
const { existsSync } = process.getBuiltinModule('node:fs');
// The master's young generation stays at its first size (two 1 MiB semi-spaces). V8 doubles
// it, up to 16 MiB a semi-space, when objects keep surviving scavenges, and a master that hands
// connections to workers (least-conn, the sync class) always has some in flight: measured, that
// was +10 MiB of RSS after 100,000 hand-offs, for no speed (docs/benchmarks.md). Set before the
// compile cache is enabled, so the master's cache matches its flags. Only corral's own process:
// workers get --node-args, and a semi-space flag given to this node is kept.
if (
  !/--(max|min)-semi-space-size|--semi-space-growth-factor/.test(
    `${process.execArgv.join(' ')} ${process.env.NODE_OPTIONS ?? ''}`,
  )
) {
  process.getBuiltinModule('node:v8').setFlagsFromString('--semi-space-growth-factor=1');
  // Single-process mode (-w 0) serves the app in this process: it gives V8's default back.
  Object.assign(process, { [Symbol.for('corral.youngGenerationCapped')]: true });
}
// Node's on-disk compile cache (Node >= 22.1): a second start reuses the compiled code of
// corral's modules. serve hands the same directory to its workers.
process.getBuiltinModule('node:module').enableCompileCache?.();
const src = new URL('../src/cli.ts', import.meta.url);
await import(existsSync(src) ? src.href : new URL('../dist/cli.js', import.meta.url).href);
