/**
 * How many connections wait in the kernel's accept queue of each listening TCP port: the
 * `rx_queue` of LISTEN sockets in /proc/net/tcp{,6} (Linux only; elsewhere nothing).
 */
import { readFile } from '../fs.ts';

const LISTEN = '0A';

/**
 * Read on libuv's thread pool, not in the master's event loop: the kernel walks its whole
 * established-connection hash to write these files, which took 7 ms on an idle 24 GiB machine
 * (262,144 buckets) and 15–30 ms under load, during which a master doing least-conn would
 * hand out no connection.
 */
function read(path: string): Promise<string> {
  return new Promise((done) => {
    readFile(path, 'utf8', (err, text) => done(err ? '' : text));
  });
}

export async function readBacklog(
  ports: readonly number[],
  procNet = '/proc/net',
): Promise<Map<number, number>> {
  const wanted = new Set(ports);
  const out = new Map<number, number>();
  const texts = await Promise.all(['tcp', 'tcp6'].map((file) => read(`${procNet}/${file}`)));
  for (const text of texts) {
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f[3] !== LISTEN) continue;
      const port = Number.parseInt(f[1]?.split(':').pop() ?? '', 16);
      if (!wanted.has(port)) continue;
      const rx = Number.parseInt(f[4]?.split(':')[1] ?? '0', 16);
      out.set(port, (out.get(port) ?? 0) + rx);
    }
  }
  return out;
}
