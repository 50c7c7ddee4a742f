/**
 * node:fs for corral's modules, without an ESM import. Importing node:fs builds its module
 * namespace, which reads every export — fs.promises included — and so loads fs/promises,
 * readline, the REPL's history and file streams into every process that imports it: 1.2 MiB
 * of the master's RSS (docs/benchmarks.md). process.getBuiltinModule() returns the CommonJS
 * exports, whose lazy parts stay lazy. test/unit/footprint.test.ts keeps it so.
 */
export type { Dirent, FSWatcher, Stats } from 'node:fs';

export const {
  chmodSync,
  chownSync,
  close,
  closeSync,
  existsSync,
  fstatSync,
  lstatSync,
  open,
  openSync,
  read,
  readdirSync,
  readFile,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  watch,
  write,
  writeFileSync,
  writeSync,
} = process.getBuiltinModule('node:fs');
