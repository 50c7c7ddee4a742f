/**
 * The control socket (--control-socket, mode 0600): one JSON request per connection, one JSON
 * reply. `corral ctl` and `corral top` are its clients.
 */
import { createServer, type Server } from 'node:net';
import { chmodSync } from '../fs.ts';
import type { Status } from '../metrics/status.ts';
import { clearStaleSocket } from './listeners.ts';
import type { Action } from './signals.ts';

export type ControlRequest =
  | { readonly cmd: 'status' }
  | { readonly cmd: 'reload' }
  | { readonly cmd: 'stop' }
  | { readonly cmd: 'scale'; readonly n: number };

export type ControlReply =
  | { readonly ok: true; readonly status?: Status; readonly message?: string }
  | { readonly ok: false; readonly error: string };

export interface Controlled {
  status(): Status;
  request(action: Action): void;
  scaleTo(n: number): void;
}

function answer(master: Controlled, req: ControlRequest): ControlReply {
  switch (req.cmd) {
    case 'status':
      return { ok: true, status: master.status() };
    case 'reload':
      master.request('reload');
      return { ok: true, message: 'reloading: workers roll, new ones first' };
    case 'stop':
      master.request('stop');
      return { ok: true, message: 'stopping gracefully' };
    case 'scale':
      if (!Number.isInteger(req.n) || req.n < 1)
        return { ok: false, error: `scale needs a whole number ≥ 1, got ${req.n}` };
      master.scaleTo(req.n);
      return { ok: true, message: `scaling to ${req.n} worker(s)` };
    default:
      return {
        ok: false,
        error: `unknown command ${JSON.stringify((req as { cmd?: unknown }).cmd)}`,
      };
  }
}

export async function serveControl(path: string, master: Controlled): Promise<Server> {
  await clearStaleSocket(path);
  const server = createServer((socket) => {
    let buf = '';
    socket.setEncoding('utf8');
    socket.on('data', (d) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      let reply: ControlReply;
      try {
        reply = answer(master, JSON.parse(buf.slice(0, nl)) as ControlRequest);
      } catch (err) {
        reply = { ok: false, error: `bad request: ${(err as Error).message}` };
      }
      socket.end(`${JSON.stringify(reply)}\n`);
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(path, () => done());
  });
  chmodSync(path, 0o600);
  return server;
}
