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
/** The longest wait for every connection's first response; measuring starts then anyway. */
const MAX_RAMP_S = 10;

/**
 * `seconds` of load, measured in the steady state: from the moment every connection has had
 * a response. Before that, connections are still being accepted and handed to workers — one
 * per worker event-loop turn, since Node passes one socket per IPC round trip — and a worker
 * busy with the first connections' requests takes the rest slowly: with 1 worker and 64
 * connections on /cpu the last connection waited ~2 s for its first response. In a run of a
 * few seconds that ramp decided p99 (1100 ms against 135 ms in 10 s runs) and cut throughput
 * by a quarter; it says how fast connections are set up, not how the configuration serves.
 */
async function run(spec: LoadSpec, seconds: number): Promise<LoadgenReply> {
  const before = process.cpuUsage();
  const started = performance.now();
  const latencies: number[] = [];
  const answered = new Set<object>();
  let from = Number.POSITIVE_INFINITY;
  let until = Number.POSITIVE_INFINITY;
  const load = autocannon({
    url: spec.url,
    connections: spec.connections,
    duration: MAX_RAMP_S + seconds,
    timeout: REQUEST_TIMEOUT_S,
    requests: spec.requests,
  });
  const steady = () => {
    if (from !== Number.POSITIVE_INFINITY) return;
    from = performance.now();
    until = from + seconds * 1000;
    setTimeout(() => load.stop(), seconds * 1000);
  };
  const ramp = setTimeout(steady, MAX_RAMP_S * 1000);
  load.on('response', (client, _status, _bytes, ms) => {
    const now = performance.now();
    if (now < from) {
      answered.add(client);
      if (answered.size >= spec.connections) steady();
    } else if (now <= until) {
      latencies.push(ms);
    }
  });
  const r = await load;
  clearTimeout(ramp);
  const wall = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(before);
  latencies.sort((a, b) => a - b);
  const at = (q: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  return {
    t: 'result',
    requests: latencies.length,
    rps: latencies.length / seconds,
    p50: Math.round(at(0.5)),
    p99: Math.round(at(0.99)),
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
