/** Raw HTTP/1 over net.Socket: for requests no well-behaved client would send. */
import { connect, type Socket } from 'node:net';

export interface RawReply {
  /** Status codes of every response seen, in order (interim 100 included). */
  statuses: number[];
  text: string;
  /** The server closed (FIN or reset) before our bound. */
  closed: boolean;
}

export interface RawOptions {
  /** Keep our side open after sending (to wait for a server timeout); else half-close. */
  keepOpen?: boolean;
  /** Give up (counts as a hang) after this long. */
  boundMs?: number;
}

/** The host:port of an http:// URL. */
export function hostPort(url: string): { host: string; port: number } {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port) };
}

/**
 * Send `payload` (pieces are written one by one) and collect what comes back until the
 * server closes the connection. Rejects on a hang: no close within `boundMs`.
 */
export function sendRaw(
  url: string,
  payload: string | Buffer | readonly (string | Buffer)[],
  { keepOpen = false, boundMs = 15_000 }: RawOptions = {},
): Promise<RawReply> {
  const { host, port } = hostPort(url);
  return new Promise((done, fail) => {
    const chunks: Buffer[] = [];
    const socket: Socket = connect({ host, port }, () => {
      const parts = Array.isArray(payload) ? payload : [payload];
      for (const p of parts) socket.write(p);
      if (!keepOpen) socket.end();
    });
    const timer = setTimeout(() => {
      socket.destroy();
      fail(new Error(`hang: no close within ${boundMs} ms; got ${JSON.stringify(text())}`));
    }, boundMs);
    const text = () => Buffer.concat(chunks).toString('latin1');
    socket.on('data', (d: Buffer) => chunks.push(d));
    // A reset after the answer is a close too; EPIPE when the server closed mid-write.
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      const t = text();
      const statuses = [...t.matchAll(/HTTP\/1\.[01] (\d{3}) /g)].map((m) => Number(m[1]));
      done({ statuses, text: t, closed: true });
    });
  });
}
