/**
 * Run the app file as `node FILE ARGS…` would: as the process's main module (`require.main`
 * is it, `import.meta.main` is true), with `process.argv` = [node, FILE, ARGS…]. Node's own
 * entry-point runner does it (module.runMain: the CommonJS or the ESM loader, as for a main
 * file, shebang and extension-less bins included). Resolves with the module's exports once
 * its top-level code has run.
 */
import Module from 'node:module';
import { pathToFileURL } from 'node:url';

type Obj = Record<string | symbol, unknown>;

type RunMain = (main?: string) => void;

/** CommonJS exports as an ESM import would show them: `default` plus their own keys. */
function namespaceOf(exports: unknown): Obj {
  const ns: Obj = {};
  if (exports !== null && (typeof exports === 'object' || typeof exports === 'function')) {
    for (const k of Object.keys(exports)) ns[k] = (exports as Obj)[k];
  }
  ns.default = exports;
  return ns;
}

export async function runAsMain(path: string, args: readonly string[]): Promise<Obj> {
  process.argv = [process.execPath, path, ...args];
  const runMain = (Module as unknown as { runMain: RunMain }).runMain;
  // CommonJS runs synchronously here (a throw is the load error) and becomes process.mainModule.
  runMain(path);
  const main = (process as { mainModule?: { exports: unknown; filename: string } }).mainModule;
  if (main) return namespaceOf(main.exports);
  // ESM: the same module record the entry-point runner is evaluating; this waits for it.
  return (await import(pathToFileURL(path).href)) as Obj;
}
