// Connections in numbers, on 2 default workers serving hello world:
//  1. the master's RSS idle and after 100,000 connections (one request each), with the default
//     dispatch (workers accept, the master steers) and with least-conn (the master accepts and
//     hands every connection over, as for the sync class with --queue-timeout);
//  2. 5,000 idle keep-alive connections held open: active clients' throughput against the run
//     without them, whether they keep their keep-alive, and whether any idle one is reset.
//
//   node bench/connections.ts [--corral dist|src|PATH] [--handoffs 100000] [--idle 5000]
//                             [--only memory|idle]
//
// The memory table also gives the master's CPU time per connection over the run (user +
// system, from /proc), and has rows for the sync class (one connection a worker): by default
// (shared: a worker accepts only while it holds none) and with least-conn.
//
// Needs wrk. Loopback only; every server is stopped before the next one starts.
import { execFile, spawn } from 'node:child_process';
import { Agent, request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { loadavg } from 'node:os';
import { parseArgs, promisify } from 'node:util';
import { corralCommand, throughBin } from './lib/build.ts';
import { cpuSecondsOf, memoryOf } from './lib/proc.ts';
import { here, sleep, stopChild, waitClosed, waitHttp } from './lib/servers.ts';

const run = promisify(execFile);
const { values: opt } = parseArgs({
  options: {
    corral: { type: 'string', default: 'dist' },
    handoffs: { type: 'string', default: '100000' },
    idle: { type: 'string', default: '5000' },
    port: { type: 'string', default: '18480' },
    only: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (opt.help) {
  console.log(
    'node bench/connections.ts [--corral dist|src|PATH] [--handoffs 100000] [--idle 5000] [--only memory|idle] [--port 18480]',
  );
  process.exit(0);
}
const PORT = Number(opt.port);
const URL_ = `http://127.0.0.1:${PORT}/`;
// The bin sets the master's young-generation flag: without it, a master that hands connections
// over grows ~5 MiB more (docs/benchmarks.md).
const corral = throughBin(corralCommand(opt.corral as string));

async function start(extra: string[]) {
  await waitClosed(PORT);
  const p = spawn(
    process.execPath,
    [...corral.args, here('apps/hello.mjs'), '-w', '2', '-b', `127.0.0.1:${PORT}`, ...extra],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  p.stderr?.on('data', (d) => (log += d));
  const exited = new Promise<void>((done) => p.once('exit', () => done()));
  for (let i = 0; i < 400 && !/\] ready: /.test(log); i++) await sleep(25);
  await waitHttp(PORT);
  await sleep(500);
  return { pid: p.pid as number, stop: () => stopChild(p, exited) };
}

async function wrk(args: string[]): Promise<{ rps: number; requests: number }> {
  const { stdout } = await run('wrk', [...args, URL_], { encoding: 'utf8' });
  return {
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1] ?? 0),
    requests: Number(/(\d+) requests in/.exec(stdout)?.[1] ?? 0),
  };
}

async function masterAfter(handoffs: number, extra: string[], label: string): Promise<string> {
  const s = await start(extra);
  try {
    const idle = memoryOf(s.pid);
    const cpu0 = cpuSecondsOf(s.pid);
    let done = 0;
    const t0 = performance.now();
    // V8's old generation grows in a sawtooth between full GCs: the value after the load is
    // one point of it, the peak (sampled every 250 ms) the most the load took.
    let peak = idle.rss;
    const sampler = setInterval(() => {
      peak = Math.max(peak, memoryOf(s.pid).rss);
    }, 250);
    try {
      while (done < handoffs) {
        done += (await wrk(['-t2', '-c32', '-d3s', '-H', 'Connection: close'])).requests;
      }
    } finally {
      clearInterval(sampler);
    }
    const secs = (performance.now() - t0) / 1000;
    const cpuUs = ((cpuSecondsOf(s.pid) - cpu0) * 1e6) / done;
    await sleep(1000);
    const after = memoryOf(s.pid);
    // KiB: RSS, and its anonymous part (what the master allocated) and file-backed part (the
    // node executable's own code, paged in when V8's optimising compilers first run: the same
    // pages every Node process on the machine maps).
    const grew = (k: 'rss' | 'anon' | 'file') => signed((after[k] - idle[k]) / 1024);
    const peakGrowth = signed((Math.max(peak, after.rss) - idle.rss) / 1024);
    return `| ${label} | ${mib(idle.rss)} | ${done.toLocaleString('en')} in ${secs.toFixed(0)} s | ${mib(after.rss)} | ${grew('rss')} | ${peakGrowth} | ${grew('anon')} | ${grew('file')} | ${cpuUs.toFixed(1)} |`;
  } finally {
    await s.stop();
  }
}

const mib = (k: number) => (k / 1024).toFixed(1);
const signed = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(1)}`;

/** A keep-alive connection that asked once and now sits idle; `how` says how it ended. */
function idleConnection(): Promise<{ socket: Socket; how: () => string }> {
  return new Promise((done, fail) => {
    const socket = connect(PORT, '127.0.0.1');
    let how = 'open';
    socket.on('end', () => {
      how = 'closed';
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      how = err.code ?? 'error';
    });
    socket.once('error', fail);
    socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    socket.once('data', () => done({ socket, how: () => how }));
  });
}

async function keptAlive(n: number): Promise<number> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  let kept = 0;
  for (let i = 0; i < n; i++) {
    kept += await new Promise<number>((done, fail) => {
      const req = request(URL_, { agent }, (res) => {
        res.resume();
        res.on('end', () => done(res.headers.connection === 'close' ? 0 : 1));
      });
      req.on('error', fail);
      req.end();
    });
  }
  agent.destroy();
  return kept;
}

async function idleRun(n: number): Promise<string[]> {
  const s = await start([]);
  const lines: string[] = [];
  try {
    const shape = ['-t2', '-c16', '-d4s'];
    await wrk(['-t2', '-c16', '-d1s']);
    const before = await wrk(shape);
    const idle: Awaited<ReturnType<typeof idleConnection>>[] = [];
    for (let i = 0; i < n; i += 500) {
      idle.push(
        ...(await Promise.all(Array.from({ length: Math.min(500, n - i) }, idleConnection))),
      );
    }
    const withIdle = await wrk(shape);
    const kept = await keptAlive(200);
    await sleep(1000);
    const ends = new Map<string, number>();
    for (const c of idle) ends.set(c.how(), (ends.get(c.how()) ?? 0) + 1);
    for (const c of idle) c.socket.destroy();
    lines.push(
      `| active clients (wrk -c16, keep-alive), req/s | ${Math.round(before.rps).toLocaleString('en')} | ${Math.round(withIdle.rps).toLocaleString('en')} (${(withIdle.rps / before.rps).toFixed(2)}×) |`,
      `| 200 more requests on one keep-alive connection: kept alive | — | ${kept} of 200 |`,
      `| the ${n.toLocaleString('en')} idle connections at the end | — | ${[...ends].map(([k, v]) => `${v} ${k}`).join(', ')} |`,
    );
  } finally {
    await s.stop();
  }
  return lines;
}

const load0 = loadavg()
  .map((x) => x.toFixed(2))
  .join(' ');
const handoffs = Number(opt.handoffs);
const memory =
  opt.only === 'idle'
    ? []
    : [
        await masterAfter(handoffs, [], 'default (shared, steered)'),
        await masterAfter(
          handoffs,
          ['--dispatch', 'least-conn'],
          'least-conn (every connection handed over)',
        ),
        await masterAfter(handoffs, ['--worker-class', 'sync'], 'sync class (shared, its default)'),
        await masterAfter(
          handoffs,
          ['--worker-class', 'sync', '--dispatch', 'least-conn'],
          'sync class, least-conn (handed over)',
        ),
      ];
const idle = opt.only === 'memory' ? [] : await idleRun(Number(opt.idle));
const load1 = loadavg()
  .map((x) => x.toFixed(2))
  .join(' ');
console.log(
  `corral from ${corral.build}; Node ${process.version}; load average ${load0} before, ${load1} after\n`,
);
if (memory.length) {
  console.log(
    "| master, 2 workers | RSS idle, MiB | connections (one request each) | RSS after, MiB | RSS growth, MiB | peak growth during the load | of it anonymous | of it file-backed (node's code) | master CPU µs/connection |",
  );
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const l of memory) console.log(l);
}
if (idle.length) {
  console.log(
    `\n| ${Number(opt.idle).toLocaleString('en')} idle keep-alive connections on 2 default workers | without them | with them |`,
  );
  console.log('| --- | ---: | ---: |');
  for (const l of idle) console.log(l);
}
