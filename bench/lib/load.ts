/**
 * Load drivers: wrk when installed (the anchors' tool, and the cheaper client: it leaves more
 * CPU to the servers on a small machine), autocannon (a devDependency) otherwise. Both keep
 * connections alive and report the same numbers.
 */
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface LoadResult {
  readonly rps: number;
  /** Completed requests. */
  readonly requests: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Socket errors and non-2xx answers, in words; '' when there were none. */
  readonly errors: string;
}

export interface LoadOptions {
  readonly url: string;
  readonly seconds: number;
  readonly connections: number;
  /** Client threads (wrk -t) or workers (autocannon -w). */
  readonly threads: number;
  /** A new connection per request (`Connection: close`) instead of keep-alive (wrk only). */
  readonly close?: boolean;
  /** The CPUs the load generator runs on (a taskset list, `0` or `2-5`); unset: any. */
  readonly cpus?: string;
}

/** `cmd args` as run on `cpus` (taskset), or as it is. */
export function onCpus(
  cpus: string | null | undefined,
  cmd: string,
  args: string[],
): [string, string[]] {
  return cpus ? ['taskset', ['-c', cpus, cmd, ...args]] : [cmd, args];
}

export interface Driver {
  readonly name: string;
  load(o: LoadOptions): Promise<LoadResult>;
}

/** wrk prints latencies as 1.23ms, 456.00us, 1.02s. */
function toMs(v: string | undefined): number {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(v ?? '');
  if (!m) return Number.NaN;
  const scale = { us: 1e-3, ms: 1, s: 1e3, m: 6e4 }[m[2] as 'us' | 'ms' | 's' | 'm'];
  return Number(m[1]) * scale;
}

const wrk: Driver = {
  name: 'wrk',
  async load({ url, seconds, connections, threads, close, cpus }) {
    const t = Math.min(threads, connections);
    const args = [`-t${t}`, `-c${connections}`, `-d${seconds}s`, '--latency', url];
    // wrk reconnects after each response that closes: one connection per request.
    if (close) args.unshift('-H', 'Connection: close');
    const { stdout } = await run(...onCpus(cpus, 'wrk', args), { encoding: 'utf8' });
    const errors = (stdout.match(/Socket errors:.*|Non-2xx or 3xx responses:.*/g) ?? []).join('; ');
    return {
      rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1] ?? 0),
      requests: Number(/(\d+) requests in/.exec(stdout)?.[1] ?? 0),
      p50Ms: toMs(/^\s+50%\s+(\S+)/m.exec(stdout)?.[1]),
      p99Ms: toMs(/^\s+99%\s+(\S+)/m.exec(stdout)?.[1]),
      errors,
    };
  },
};

function autocannon(bin: string): Driver {
  return {
    name: 'autocannon',
    async load({ url, seconds, connections, threads, close, cpus }) {
      if (close) throw new Error('a new connection per request needs wrk (apt-get install wrk)');
      const args = [bin, '-j', '-c', String(connections), '-d', String(seconds)];
      if (threads > 1) args.push('-w', String(threads));
      const { stdout } = await run(...onCpus(cpus, process.execPath, [...args, url]), {
        encoding: 'utf8',
        maxBuffer: 1 << 24,
      });
      const r = JSON.parse(stdout) as {
        requests: { average: number; total: number };
        latency: { p50: number; p99: number };
        errors: number;
        timeouts: number;
        non2xx: number;
        duration: number;
      };
      const errors = [
        r.errors ? `${r.errors} errors` : '',
        r.timeouts ? `${r.timeouts} timeouts` : '',
        r.non2xx ? `${r.non2xx} non-2xx` : '',
      ]
        .filter(Boolean)
        .join(', ');
      return {
        rps: r.requests.total / r.duration,
        requests: r.requests.total,
        p50Ms: r.latency.p50,
        p99Ms: r.latency.p99,
        errors,
      };
    },
  };
}

function hasWrk(): boolean {
  try {
    execFileSync('wrk', ['-v'], { stdio: 'ignore' });
    return true;
  } catch (err) {
    // wrk -v exits 1 after printing its version; only a missing binary is ENOENT.
    return (err as NodeJS.ErrnoException).code !== 'ENOENT';
  }
}

/** wrk if it is on PATH (unless `prefer` says autocannon); autocannon from node_modules else. */
export function pickDriver(prefer: string | undefined, autocannonBin: string): Driver {
  if (prefer === 'autocannon') return autocannon(autocannonBin);
  if (hasWrk()) return wrk;
  if (prefer === 'wrk')
    throw new Error('wrk is not installed (Debian/Ubuntu: apt-get install wrk)');
  process.stderr.write(
    'wrk is not installed, so the load comes from autocannon (a Node client: it takes more of\n' +
      'the CPU the servers share with it, so figures are lower than with wrk). For the anchors\n' +
      'driver: apt-get install wrk (Debian/Ubuntu), brew install wrk (macOS).\n' +
      "autocannon's latencies are wrong for servers that close every connection (the sync\n" +
      'class): it times their responses from ever older requests (src/tune/autocannon.ts).\n',
  );
  return autocannon(autocannonBin);
}

export function wrkVersion(): string {
  try {
    execFileSync('wrk', ['-v'], { encoding: 'utf8', stdio: 'pipe' });
  } catch (err) {
    const out = String((err as { stdout?: string }).stdout ?? '');
    return /wrk (\S+)/.exec(out)?.[1] ?? '';
  }
  return '';
}
