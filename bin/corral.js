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
// Node's on-disk compile cache (Node >= 22.1): a second start reuses the compiled code of
// corral's modules. serve hands the same directory to its workers.
process.getBuiltinModule('node:module').enableCompileCache?.();
const src = new URL('../src/cli.ts', import.meta.url);
await import(existsSync(src) ? src.href : new URL('../dist/cli.js', import.meta.url).href);
