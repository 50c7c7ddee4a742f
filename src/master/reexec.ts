/**
 * USR2: start a new master from the same command line that inherits the listening sockets
 * (a binary or code upgrade without closing the port). Both masters serve until the operator
 * sends TERM (or WINCH, then TERM) to the old one; HUP to the old one and TERM to the new one
 * rolls back. The pid file moves to `PIDFILE.oldbin` while both run, as nginx and unicorn do.
 */
import { spawn } from 'node:child_process';
import type { Listener } from './listeners.ts';

/** Environment variable carrying `{bind spec: fd}` to the new master. */
export const INHERIT_ENV = 'CORRAL_INHERIT_FDS';

/** The fds a re-executed master inherited, by bind spec (none for a fresh start). */
export function inheritedFds(
  env: Readonly<Record<string, string | undefined>>,
): Map<string, number> {
  const raw = env[INHERIT_ENV];
  if (!raw) return new Map();
  try {
    return new Map(Object.entries(JSON.parse(raw) as Record<string, number>));
  } catch {
    return new Map();
  }
}

export function reexec(listeners: readonly Listener[]): number {
  const fds = listeners.filter((l) => l.fd >= 0);
  // In the child, stdio index i is fd i: the sockets land on 3, 4, ...
  const mapping = Object.fromEntries(fds.map((l, i) => [l.address.spec, 3 + i]));
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    stdio: ['ignore', 'inherit', 'inherit', ...fds.map((l) => l.fd)],
    env: { ...process.env, [INHERIT_ENV]: JSON.stringify(mapping) },
  });
  child.unref();
  return child.pid ?? 0;
}
