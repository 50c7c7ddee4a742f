/**
 * Throughput of each framework app under corral -w 2: its unchanged production entry point
 * (listen mode) against the framework's own handler export, in interleaved rounds of the same
 * run. Prints Markdown rows for docs/frameworks.md. The apps must be built (npm run
 * test:frameworks does it). Loopback only; every corral it starts is stopped.
 *
 *   cpu-exclusive node test/frameworks/bench.ts [--rounds 3] [--seconds 5] [--connections 16]
 *   FRAMEWORKS=next,nest picks apps by folder.
 */
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pickDriver } from '../../bench/lib/load.ts';
import { describeMachine, machineLine } from '../../bench/lib/machine.ts';
import { int, median, range, ratio } from '../../bench/lib/stats.ts';
import { type Running, startCorral } from '../helpers/corral.ts';
import { type App, freePort, HERE, pickedApps, QUIET_ENV, versions } from './apps.ts';

const { values: opt } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '5' },
    connections: { type: 'string', default: '16' },
    driver: { type: 'string' },
  },
});
const rounds = Number(opt.rounds);
const seconds = Number(opt.seconds);
const connections = Number(opt.connections);
const driver = pickDriver(opt.driver, join(HERE, '../../node_modules/autocannon/autocannon.js'));
const PATHS = ['/', '/api/pid'];
type Variant = 'entry' | 'handler';

async function serve(app: App, variant: Variant): Promise<{ server: Running; url: string }> {
  const port = await freePort();
  const target = variant === 'entry' ? app.entry : app.handler;
  const args = variant === 'entry' && app.args ? ['--', ...app.args] : [];
  const server = await startCorral([target, '-w', '2', '-b', `127.0.0.1:${port}`, ...args], {
    cwd: join(HERE, app.dir),
    detached: true,
    env: QUIET_ENV,
    ready: /worker 2 \(pid \d+\) ready/,
  });
  await server.waitFor(/worker 1 \(pid \d+\) ready/);
  return { server, url: `http://127.0.0.1:${port}` };
}

async function stop(server: Running): Promise<void> {
  server.proc.kill('SIGTERM');
  const t = setTimeout(() => process.kill(-(server.proc.pid as number), 'SIGKILL'), 15_000);
  await server.exited;
  clearTimeout(t);
}

const machine = describeMachine(driver.name);
const rows: string[] = [];
for (const app of pickedApps()) {
  if (!existsSync(join(HERE, app.dir, app.entry))) {
    console.error(`${app.dir}: not built (npm run test:frameworks builds it); skipped`);
    continue;
  }
  // rps[variant][path] = one figure per round
  const rps: Record<Variant, Record<string, number[]>> = { entry: {}, handler: {} };
  const errors: string[] = [];
  for (let round = 0; round < rounds; round++) {
    // Alternate which variant goes first, so neither always gets the cooler machine.
    const order: Variant[] = round % 2 ? ['handler', 'entry'] : ['entry', 'handler'];
    for (const variant of order) {
      const { server, url } = await serve(app, variant);
      try {
        for (const path of PATHS) {
          await driver.load({ url: url + path, seconds: 1, connections, threads: 1 }); // warm-up
          const r = await driver.load({ url: url + path, seconds, connections, threads: 1 });
          if (r.errors) errors.push(`${variant} ${path}: ${r.errors}`);
          rps[variant][path] = [...(rps[variant][path] ?? []), r.rps];
        }
      } finally {
        await stop(server);
      }
    }
  }
  console.error(`${app.dir}: ${versions(app)}`);
  for (const path of PATHS) {
    const e = rps.entry[path] ?? [];
    const h = rps.handler[path] ?? [];
    rows.push(
      `| ${app.name} | \`${path}\` | ${int(median(e))} (${range(e)}) | ${int(median(h))} (${range(h)}) | ${ratio(median(e), median(h))} |`,
    );
  }
  if (errors.length) console.error(`${app.dir}: ${errors.join('; ')}`);
}
machine.loadAfter = loadavg().map((x) => Math.round(x * 100) / 100);
console.log(machineLine(machine));
console.log(
  `corral -w 2 -b 127.0.0.1:P; ${rounds} interleaved rounds of ${seconds} s after 1 s warm-up, ${connections} keep-alive connections, 1 client thread; median req/s (range).\n`,
);
console.log('| framework | path | unchanged entry | handler export | entry / handler |');
console.log('|---|---|---|---|---|');
for (const row of rows) console.log(row);
