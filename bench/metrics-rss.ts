// What /metrics costs the master's memory: the RSS of a process that loads the master's
// metrics server and renders /metrics once, with corral's own exposition writer and with
// prom-client's public API (its index: Registry, collectDefaultMetrics for the master's Node
// metrics), against node with node:http alone. Needs the build (npm run build): medians of 5.
//
//   node bench/metrics-rss.ts
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, '');
const status = `{ pid: 1, version: '0', ready: true, stopping: false, workerClass: 'async', target: 2, binds: [], waiting: 0, advice: null, workers: [{ id: 1, slot: 1, pid: 2, state: 'ready', retiring: false, uptimeSeconds: 1, requests: 1, inFlight: 0, connections: 0, rssBytes: 1, heapUsedBytes: 1, cpuSeconds: 1, elu: 0, lagSeconds: 0 }], totals: { requests: 1, cpuSeconds: 1, statusClasses: [1,0,0,0,0], latencyCounts: [1,0,0,0,0,0,0,0,0,0,0,0], latencySumSeconds: 0.001 }, restarts: {} }`;
const scripts: Record<string, string> = {
  'node, node:http via getBuiltinModule (no corral)': `process.getBuiltinModule('node:http');`,
  'corral: metrics/http.ts + exposition.ts (written directly)': `await import('${root}/dist/metrics/http.js'); const p = await import('${root}/dist/metrics/prometheus.js'); p.renderMetrics(${status}, new Map());`,
  'prom-client public API (index, Registry, collectDefaultMetrics)': `await import('${root}/dist/metrics/http.js'); const p = await import('${root}/dist/metrics/prometheus.js'); p.renderMetrics(${status}, new Map()); const c = (await import('prom-client')).default; const r = new c.Registry(); c.collectDefaultMetrics({ register: r }); await r.metrics();`,
};
const med = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
console.log('| process | RSS, median | spread |');
console.log('| --- | ---: | ---: |');
for (const [name, s] of Object.entries(scripts)) {
  const xs: number[] = [];
  for (let i = 0; i < 5; i++) {
    const out = execFileSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `${s}; await new Promise((r) => setTimeout(r, 1000)); console.log(process.memoryUsage.rss())`,
      ],
      { cwd: root, encoding: 'utf8' },
    );
    xs.push(Number(out.trim()) / 2 ** 20);
  }
  console.log(
    `| ${name} | ${med(xs).toFixed(1)} MiB | ${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)} |`,
  );
}
