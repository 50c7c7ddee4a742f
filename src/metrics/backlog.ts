/**
 * How many connections wait in the kernel's accept queue of each listening TCP port: the
 * `rx_queue` of LISTEN sockets in /proc/net/tcp{,6} (Linux only; elsewhere nothing).
 */
import { readFileSync } from '../fs.ts';

const LISTEN = '0A';

export function readBacklog(ports: readonly number[], procNet = '/proc/net'): Map<number, number> {
  const wanted = new Set(ports);
  const out = new Map<number, number>();
  for (const file of ['tcp', 'tcp6']) {
    let text: string;
    try {
      text = readFileSync(`${procNet}/${file}`, 'utf8');
    } catch {
      continue;
    }
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
