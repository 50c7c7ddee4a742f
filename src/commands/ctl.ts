/** `corral ctl status [--json] | reload | scale N | stop`: talk to a master's control socket. */
import { connect } from 'node:net';
import { CorralError, UsageError } from '../errors.ts';
import type { ControlReply, ControlRequest } from '../master/control.ts';
import type { Status } from '../metrics/status.ts';

export function askMaster(path: string, req: ControlRequest): Promise<ControlReply> {
  return new Promise((done, fail) => {
    const socket = connect(path, () => socket.write(`${JSON.stringify(req)}\n`));
    let buf = '';
    socket.setEncoding('utf8');
    socket.on('data', (d) => (buf += d));
    socket.on('end', () => {
      try {
        done(JSON.parse(buf) as ControlReply);
      } catch {
        fail(new CorralError(`corral: no answer from the master on ${path}`));
      }
    });
    socket.on('error', (err: NodeJS.ErrnoException) =>
      fail(
        new CorralError(
          `corral: cannot reach the master on ${path}: ${err.code ?? err.message} (is it running with --control-socket ${path}?)`,
        ),
      ),
    );
    socket.setTimeout(10_000, () => socket.destroy(new Error('timed out')));
  });
}

const mib = (n: number) => `${Math.round(n / 2 ** 20)} MiB`;

/** Human form of `status`. */
export function formatStatus(s: Status): string {
  const head = `corral ${s.version}, master pid ${s.pid}: ${s.ready ? 'ready' : s.stopping ? 'stopping' : 'not ready'}, ${s.workers.length}/${s.target} ${s.workerClass} workers, ${s.totals.requests} requests, ${s.waiting} waiting`;
  const rows = s.workers.map(
    (w) =>
      `  worker ${String(w.id).padEnd(4)} pid ${String(w.pid).padEnd(8)} ${(w.stalled ? 'stalled' : w.state).padEnd(9)}${w.retiring ? '*' : ' '} ${String(w.requests).padStart(9)} req ${String(w.inFlight).padStart(5)} in flight ${mib(w.rssBytes).padStart(8)} ELU ${(w.elu * 100).toFixed(0).padStart(3)}%`,
  );
  return [head, ...rows, ...(s.advice ? [`advice: ${s.advice}`] : [])].join('\n');
}

export async function ctl(
  socketPath: string | null,
  args: readonly string[],
  json: boolean,
): Promise<string> {
  if (!socketPath)
    throw new UsageError(
      'corral: ctl needs the control socket: --socket PATH (or controlSocket in the config file)',
    );
  const [cmd, arg] = args;
  let req: ControlRequest;
  if (cmd === 'status' || cmd === 'reload' || cmd === 'stop') req = { cmd };
  else if (cmd === 'scale') req = { cmd, n: Number(arg) };
  else
    throw new UsageError(
      `corral: ctl expects status, reload, scale N or stop; got ${cmd ?? 'nothing'}`,
    );
  const reply = await askMaster(socketPath, req);
  if (!reply.ok) throw new UsageError(`corral: ${reply.error}`);
  if (reply.status)
    return json ? JSON.stringify(reply.status, null, 2) : formatStatus(reply.status);
  return reply.message ?? 'ok';
}
