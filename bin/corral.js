#!/usr/bin/env node
// corral's executable. In the repository it runs the TypeScript sources directly (Node strips
// the types); the published package runs the compiled JS in dist/.
import { existsSync } from 'node:fs';

const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  process.stderr.write(`corral: needs Node >= 22.18 (this is ${process.version})\n`);
  process.exit(1);
}
const src = new URL('../src/cli.ts', import.meta.url);
await import(existsSync(src) ? src.href : new URL('../dist/cli.js', import.meta.url).href);
