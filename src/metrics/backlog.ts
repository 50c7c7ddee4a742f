/**
 * How many connections wait in the kernel's accept queue of each listening TCP port: the
 * `rx_queue` of LISTEN sockets in /proc/net/tcp{,6} (Linux only; elsewhere nothing).
 */
import { close, open, read } from '../fs.ts';

const LISTEN = '0A';
const CHUNK = 16 * 1024;

/**
 * The LISTEN lines at the head of a /proc/net/tcp file. The kernel writes listening sockets
 * first and then every other one (established, TIME_WAIT), and writes a chunk only when it is
 * read: reading stops at the first line that is not LISTEN, so the cost does not grow with the
 * connections the machine holds. Read in full, the file was 18 MB after 120,000 connections
 * closed (TIME_WAIT lasts 60 s); the master that read it once a second grew by 33 MiB. Read on
 * libuv's thread pool, not in the master's event loop.
 */
function listening(path: string): Promise<string[][]> {
  return new Promise((done) => {
    open(path, 'r', (err, fd) => {
      if (err) return done([]);
      const lines: string[][] = []; // each LISTEN line's fields
      const buf = Buffer.allocUnsafe(CHUNK);
      let rest = '';
      let header = true;
      const finish = () => close(fd, () => done(lines));
      const next = () =>
        read(fd, buf, 0, CHUNK, null, (readErr, n) => {
          if (readErr || n === 0) return finish();
          const parts = (rest + buf.toString('latin1', 0, n)).split('\n');
          rest = parts.pop() ?? '';
          for (const line of parts) {
            if (header) {
              header = false;
              continue;
            }
            const fields = line.trim().split(/\s+/);
            if (fields[3] !== LISTEN) return finish();
            lines.push(fields);
          }
          next();
        });
      next();
    });
  });
}

export async function readBacklog(
  ports: readonly number[],
  procNet = '/proc/net',
): Promise<Map<number, number>> {
  const wanted = new Set(ports);
  const out = new Map<number, number>();
  const files = await Promise.all(['tcp', 'tcp6'].map((file) => listening(`${procNet}/${file}`)));
  for (const listeners of files) {
    for (const f of listeners) {
      const port = Number.parseInt(f[1]?.split(':').pop() ?? '', 16);
      if (!wanted.has(port)) continue;
      const rx = Number.parseInt(f[4]?.split(':')[1] ?? '0', 16);
      out.set(port, (out.get(port) ?? 0) + rx);
    }
  }
  return out;
}

/** Kernel accept-queue length per TCP bind URL (`http://host:port`; other binds have none). */
export async function backlogByBind(binds: readonly string[]): Promise<Map<string, number>> {
  const ports = new Map<number, string>();
  for (const b of binds) {
    if (b.startsWith('http://')) ports.set(Number(new URL(b).port), b);
  }
  if (ports.size === 0) return new Map();
  const counts = await readBacklog([...ports.keys()]);
  return new Map(
    [...ports].filter(([p]) => counts.has(p)).map(([p, b]) => [b, counts.get(p) ?? 0]),
  );
}
