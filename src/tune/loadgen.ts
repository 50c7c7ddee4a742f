/**
 * The load generator's process (forked by drive.ts). autocannon runs here, not in the tune
 * command's process, so the load it makes and the bookkeeping tune does (progress, /proc
 * sampling) never share an event loop: a busy tune process would otherwise slow the load and
 * read as a slow server. It also measures its own CPU, so tune can say when the tool, not the
 * app, was the limit.
 *
 * Protocol (IPC, JSON): the parent sends `{t: 'run', seconds}`, this answers `{t: 'result'}`
 * or `{t: 'error'}`; it exits when the parent disconnects.
 */
import { autocannon } from './autocannon.ts';
import type { LoadgenReply, LoadgenRequest, LoadSpec } from './drive.ts';

/** A request that takes longer than this counts as an error (a timeout), not a latency. */
const REQUEST_TIMEOUT_S = 10;

async function run(spec: LoadSpec, seconds: number): Promise<LoadgenReply> {
  const before = process.cpuUsage();
  const started = performance.now();
  const r = await autocannon({
    url: spec.url,
    connections: spec.connections,
    duration: seconds,
    timeout: REQUEST_TIMEOUT_S,
    requests: spec.requests,
  });
  const wall = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(before);
  return {
    t: 'result',
    requests: r.requests.total,
    rps: r.requests.total / Math.max(r.duration, 0.001),
    p50: r.latency.p50,
    p99: r.latency.p99,
    errors: r.errors + r.timeouts + r.non2xx,
    cpu: (cpu.user + cpu.system) / 1e6 / Math.max(wall, 0.001),
  };
}

const spec = JSON.parse(process.argv[2] ?? '{}') as LoadSpec;
process.on('message', (m: LoadgenRequest) => {
  run(spec, m.seconds).then(
    (reply) => process.send?.(reply),
    (err: unknown) => process.send?.({ t: 'error', message: String(err) } satisfies LoadgenReply),
  );
});
process.on('disconnect', () => process.exit(0));
