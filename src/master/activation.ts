/**
 * Sockets handed to corral instead of bound by it: systemd socket activation (`LISTEN_FDS`,
 * `LISTEN_PID`; sd_listen_fds(3)) and those a previous master passed on USR2. This decides which
 * binds the master serves; listeners.ts adopts each `fd://N`.
 */
import { UsageError } from '../errors.ts';

/** systemd passes sockets from fd 3 on (SD_LISTEN_FDS_START). */
export const SD_LISTEN_FDS_START = 3;

const VARS = ['LISTEN_PID', 'LISTEN_FDS', 'LISTEN_FDNAMES'] as const;

export interface Activation {
  /** The passed fds, in order (3, 4, …); empty when there are none for this process. */
  readonly fds: readonly number[];
  /** Set when LISTEN_FDS was there but meant for another process: the operator should know. */
  readonly ignored: string | null;
}

/**
 * The sockets systemd passed to this process. As sd_listen_fds(3) does, they count only when
 * LISTEN_PID is this process: a variable inherited by a child (npx, a shell that forks) is not
 * meant for it.
 */
export function socketActivation(
  env: Readonly<Record<string, string | undefined>>,
  pid: number,
): Activation {
  const fdsRaw = env.LISTEN_FDS;
  if (fdsRaw === undefined) return { fds: [], ignored: null };
  const n = /^\d+$/.test(fdsRaw) ? Number(fdsRaw) : 0;
  if (env.LISTEN_PID !== String(pid)) {
    return {
      fds: [],
      ignored: `LISTEN_FDS=${fdsRaw} is set but LISTEN_PID=${env.LISTEN_PID ?? '(unset)'} is not this process (pid ${pid}): not using systemd's sockets. Start corral itself as the service's main process (ExecStart=…/corral, not npx or a shell that forks).`,
    };
  }
  return { fds: Array.from({ length: n }, (_, i) => SD_LISTEN_FDS_START + i), ignored: null };
}

/**
 * Unset the activation variables, as sd_listen_fds(unset_environment=1) does, so workers and a
 * USR2 master (which inherit the environment) never take the sockets for their own.
 */
export function clearActivation(env: Record<string, string | undefined>): void {
  for (const name of VARS) delete env[name];
}

export interface BindChoice {
  /** The bind specs to serve, in order. */
  readonly binds: readonly string[];
  /** Bind spec → why it is served (for the "Listening at" line). */
  readonly origin: ReadonlyMap<string, string>;
}

/**
 * Which binds to serve.
 * - No bind configured anywhere (the setting is at its default): the passed sockets are the
 *   binds, `fd://3`, `fd://4`, … in fd order (a USR2 master serves the same ones again).
 * - Binds configured: they are served as given, and each passed socket must be named by one of
 *   them as `fd://N`; one left unnamed is an error rather than a port silently not served.
 */
export function chooseBinds(o: {
  readonly configured: readonly string[];
  /** True when `bind` came from the command line, env or config file. */
  readonly explicit: boolean;
  /** fds systemd passed (this process's LISTEN_FDS). */
  readonly activated: readonly number[];
  /** Specs a previous master passed on USR2 (CORRAL_INHERIT_FDS). */
  readonly inherited: readonly string[];
}): BindChoice {
  const origin = new Map<string, string>();
  for (const fd of o.activated) origin.set(`fd://${fd}`, `passed by systemd, fd ${fd}`);
  for (const spec of o.inherited) origin.set(spec, 'inherited from the previous master');
  if (!o.explicit) {
    const activated = o.activated.map((fd) => `fd://${fd}`);
    const passedOn = o.inherited.filter((spec) => spec.startsWith('fd://'));
    const passed = activated.length ? activated : passedOn;
    if (passed.length) return { binds: passed, origin };
  }
  const unnamed = o.activated.filter((fd) => !o.configured.includes(`fd://${fd}`));
  if (o.explicit && unnamed.length) {
    const list = unnamed.map((fd) => `fd://${fd}`).join(', ');
    throw new UsageError(
      `corral: systemd passed ${o.activated.length} socket(s) (LISTEN_FDS) but bind (${o.configured.join(', ')}) does not name ${list}; name each passed socket with -b fd://N, or set no bind to serve exactly the passed sockets`,
    );
  }
  return { binds: o.configured, origin };
}
