/**
 * sd_notify for `Type=notify` systemd units: READY=1 once every worker serves, RELOADING=1 at
 * HUP and READY=1 after the roll, STOPPING=1 at shutdown, STATUS= lines in between.
 *
 * Node has no AF_UNIX datagram sockets, so each message is sent by the `systemd-notify` binary
 * (on every systemd host). Its datagrams come from its own pid, not the master's, so the unit
 * needs `NotifyAccess=all` (docs/deploy/systemd.md). Messages go one process at a time, in
 * order, never blocking the master; without the binary corral warns once and carries on.
 */
import { spawn } from 'node:child_process';
import type { Logger } from '../log/logger.ts';

export const NOTIFY_ENV = 'NOTIFY_SOCKET';
const BINARY = 'systemd-notify';

export class SystemdNotify {
  readonly #socket: string;
  readonly #log: Logger;
  readonly #queue: string[][] = [];
  #busy = false;
  #broken = false;

  constructor(socket: string, log: Logger) {
    this.#socket = socket;
    this.#log = log;
  }

  /**
   * The notifier when systemd asked for one. NOTIFY_SOCKET is then removed from the
   * environment, as sd_notify(3) advises, so the workers and the app never speak for the unit.
   */
  static fromEnv(env: NodeJS.ProcessEnv, log: Logger): SystemdNotify | null {
    const socket = env[NOTIFY_ENV];
    delete env[NOTIFY_ENV];
    return socket ? new SystemdNotify(socket, log) : null;
  }

  /** Send `KEY=VALUE` lines as one message. A STATUS-only message replaces a queued one. */
  send(...lines: string[]): void {
    if (this.#broken) return;
    const statusOnly = lines.every((l) => l.startsWith('STATUS='));
    const last = this.#queue.at(-1);
    if (statusOnly && last?.every((l) => l.startsWith('STATUS='))) this.#queue.pop();
    this.#queue.push(lines);
    this.#next();
  }

  ready(status: string): void {
    this.send('READY=1', `STATUS=${status}`);
  }

  /** RELOADING=1 with the monotonic time systemd (≥ 253) wants beside it. */
  reloading(status: string): void {
    const usec = process.hrtime.bigint() / 1000n;
    this.send('RELOADING=1', `MONOTONIC_USEC=${usec}`, `STATUS=${status}`);
  }

  stopping(status: string): void {
    this.send('STOPPING=1', `STATUS=${status}`);
  }

  status(status: string): void {
    this.send(`STATUS=${status}`);
  }

  #next(): void {
    if (this.#busy || this.#broken) return;
    const lines = this.#queue.shift();
    if (!lines) return;
    this.#busy = true;
    const child = spawn(BINARY, [`--pid=${process.pid}`, ...lines], {
      env: { ...process.env, [NOTIFY_ENV]: this.#socket },
      stdio: 'ignore',
    });
    // A notification must never keep a stopping master alive.
    child.unref();
    const done = () => {
      this.#busy = false;
      this.#next();
    };
    child.on('error', (err: NodeJS.ErrnoException) => {
      this.#broken = true;
      this.#queue.length = 0;
      this.#log.warning(
        err.code === 'ENOENT'
          ? `${NOTIFY_ENV} is set but ${BINARY} is not installed: systemd is not told when corral is ready`
          : `${BINARY} failed (${err.message}): systemd is not told when corral is ready`,
      );
    });
    child.on('exit', (code) => {
      if (code) this.#log.debug(`${BINARY} ${lines.join(' ')} exited with ${code}`);
      done();
    });
  }
}
