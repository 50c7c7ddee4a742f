// The master's memory: its modules must not load what only workers need. Each of these costs
// the master megabytes of RSS (docs/benchmarks.md, "Where a goal is missed"): node:tls with
// crypto 5 MiB, node:http with undici 12 MiB, perf_hooks 1.4 MiB; fs/promises with readline
// 1.2 MiB, which an ESM import of node:fs loads (src/fs.ts).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';

const WORKER_ONLY = [
  'tls',
  'crypto',
  'http',
  'https',
  'http2',
  'perf_hooks',
  'worker_threads',
  'internal/fs/promises',
  'internal/readline/interface',
];

test("the master's modules load none of the workers' Node modules", () => {
  const script = `
    await import('./src/commands/serve.ts');
    await import('./src/master/master.ts');
    const loaded = new Set(process.moduleLoadList);
    console.log(JSON.stringify(${JSON.stringify(WORKER_ONLY)}.filter((m) => loaded.has('NativeModule ' + m))));
  `;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
  });
  assert.deepEqual(JSON.parse(out), []);
});
