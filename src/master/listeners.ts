/**
 * Binds: parse `host:port` / `[v6]:port` / `unix:path` / `fd://N`, bind in the master (or adopt
 * a socket it was handed), and say how each worker gets its connections. The master owns every
 * listening socket so that sockets outlive workers (respawns and reloads never close the port).
 */
import * as net from 'node:net';
import { connect, createServer, isIP, type Server } from 'node:net';
import { dirname } from 'node:path';
import type { DispatchMode } from '../config/settings.ts';
import { CorralError, UsageError } from '../errors.ts';
import { chownSync, existsSync, fstatSync, lstatSync, unlinkSync } from '../fs.ts';
import type { BindInfo } from '../worker/listen-mode.ts';

export type Address =
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number; readonly spec: string }
  | { readonly kind: 'unix'; readonly path: string; readonly spec: string }
  /** A listening socket already open at this fd (systemd, a supervisor, or the shell). */
  | { readonly kind: 'fd'; readonly fd: number; readonly spec: string };

const ALLOWED = 'HOST:PORT, [IPv6]:PORT, unix:PATH or fd://N';

export function parseBind(spec: string): Address {
  if (spec.startsWith('unix:')) {
    const path = spec.slice(5);
    if (!path)
      throw new UsageError(`corral: invalid bind ${JSON.stringify(spec)}: unix: needs a path`);
    return { kind: 'unix', path, spec };
  }
  if (spec.startsWith('fd://')) {
    const fd = /^\d+$/.test(spec.slice(5)) ? Number(spec.slice(5)) : Number.NaN;
    // 0-2 are stdin/stdout/stderr: never a listening socket someone meant to hand over.
    if (!Number.isSafeInteger(fd) || fd < 3) {
      throw new UsageError(
        `corral: invalid bind ${JSON.stringify(spec)}: fd://N needs a file descriptor number ≥ 3`,
      );
    }
    return { kind: 'fd', fd, spec };
  }
  const m = /^(?:\[(?<v6>[^\]]+)\]|(?<host>[^:]*))(?::(?<port>\d+))?$/.exec(spec);
  const port = Number(m?.groups?.port ?? 8000);
  const host = m?.groups?.v6 ?? m?.groups?.host ?? '';
  if (!m || port > 65535 || (m.groups?.v6 && isIP(m.groups.v6) !== 6)) {
    throw new UsageError(`corral: invalid bind ${JSON.stringify(spec)}; allowed: ${ALLOWED}`);
  }
  return { kind: 'tcp', host: host || '0.0.0.0', port, spec };
}

/** One bound address as the master holds it. */
export interface Listener {
  readonly address: Address;
  /** The listening socket's fd, passed to workers in `shared` mode. */
  readonly fd: number;
  /** Human form with the real port: `http://127.0.0.1:8000`, `unix:/run/app.sock`. */
  readonly url: string;
  /** In `least-conn` (and single) mode: a server accepting paused sockets in the master. */
  readonly server: Server | null;
  close(): void;
}

const WHY: Record<string, string> = {
  EADDRINUSE: 'address already in use (another process is listening there)',
  EACCES: 'permission denied (ports below 1024 need privileges)',
  EADDRNOTAVAIL: 'address not available on this machine',
  EBADF: 'no such file descriptor in this process (was it passed to corral?)',
  ENOTSOCK: 'that file descriptor is not a socket',
  EINVAL: 'that file descriptor is not a listening stream socket',
};

/** A unix socket's own reasons: its directory, not a port. */
const WHY_UNIX: Record<string, string> = {
  ENOENT: 'its directory does not exist',
  EACCES: 'permission denied (cannot create a file in its directory)',
  ENOTDIR: 'a part of its path is not a directory',
};

function bindError(spec: string, code: string): CorralError {
  const why = (spec.startsWith('unix:') ? WHY_UNIX[code] : undefined) ?? WHY[code] ?? code;
  return new CorralError(`corral: cannot bind ${spec}: ${why}`);
}

type RawHandle = { fd: number; close(): void; getsockname?(out: object): number };
type CreateHandle = (
  address: string | null,
  port: number,
  addressType: number,
  fd?: number,
  flags?: number,
) => RawHandle | number;

/**
 * Bind without listening, so the master never accepts in `shared` mode: workers call listen()
 * on the inherited fd. This is the call node:cluster's own shared-socket mode makes.
 */
function createHandle(): CreateHandle {
  const fn = (net as unknown as { _createServerHandle?: CreateHandle })._createServerHandle;
  if (!fn) throw new CorralError('corral: --dispatch shared needs net._createServerHandle');
  return fn;
}

/** A unix socket file left by a dead process is removed; one in use is an error. */
export async function clearStaleSocket(path: string): Promise<void> {
  if (!existsSync(path)) return;
  if (!lstatSync(path).isSocket()) {
    throw new CorralError(`corral: cannot bind unix:${path}: a file that is not a socket is there`);
  }
  const inUse = await new Promise<boolean>((done) => {
    const s = connect(path, () => {
      s.destroy();
      done(true);
    });
    s.on('error', () => done(false));
  });
  if (inUse) throw bindError(`unix:${path}`, 'EADDRINUSE');
  unlinkSync(path);
}

/**
 * util's error-name lookup without an ESM import of node:util: that import evaluates every
 * lazy export of util's namespace, 3 MiB more RSS for the master (measured).
 */
function systemErrorName(errno: number): string {
  return process.getBuiltinModule('node:util').getSystemErrorName(errno);
}

async function resolveHost(host: string): Promise<{ ip: string; family: 4 | 6 }> {
  const kind = isIP(host);
  if (kind) return { ip: host, family: kind as 4 | 6 };
  try {
    // Loaded only for a host name: dns/promises costs the master 1.2 MiB of RSS.
    const r = await process.getBuiltinModule('node:dns/promises').lookup(host);
    return { ip: r.address, family: r.family as 4 | 6 };
  } catch {
    throw new CorralError(`corral: cannot bind ${host}: host name does not resolve`);
  }
}

function urlOf(a: Address, ip: string, port: number): string {
  if (a.kind === 'unix') return `unix:${a.path}`;
  return `http://${ip.includes(':') ? `[${ip}]` : ip}:${port}`;
}

/** What an adopted socket is bound to: its TCP address, its unix path, or just its fd. */
function adoptedUrl(a: Address, fd: number, info: string | net.AddressInfo | null): string {
  if (typeof info === 'string' && info) return `unix:${info}`;
  if (info && typeof info === 'object' && info.port) return urlOf(a, info.address, info.port);
  return a.kind === 'unix' ? urlOf(a, '', 0) : `fd://${fd}`;
}

/** Fail with a precise line before handing Node an fd that cannot be a listening socket. */
function checkSocketFd(spec: string, fd: number): void {
  try {
    if (!fstatSync(fd).isSocket()) throw bindError(spec, 'ENOTSOCK');
  } catch (err) {
    if (err instanceof CorralError) throw err;
    throw bindError(spec, (err as NodeJS.ErrnoException).code ?? 'EBADF');
  }
}

/** How binds are made, beyond the address and backlog. */
export interface BindOptions {
  /** --reuse-port: SO_REUSEPORT on TCP sockets, so other processes may bind the same port. */
  readonly reusePort?: boolean;
  /** --user/--group: unix socket files are given to the workers' user, as Gunicorn does. */
  readonly owner?: { readonly uid: number; readonly gid: number } | null;
}

/** libuv's UV_TCP_REUSEPORT bind flag (net.Server's reusePort sets the same). */
const UV_TCP_REUSEPORT = 2;

/** Bind one address. `accept`: the master accepts (least-conn, single); else bind only. */
export async function bindAddress(
  a: Address,
  backlog: number,
  accept: boolean,
  inheritedFd?: number,
  opts: BindOptions = {},
): Promise<Listener> {
  if (inheritedFd !== undefined) return adopt(a, backlog, accept, inheritedFd);
  if (a.kind === 'fd') return adopt(a, backlog, accept, a.fd);
  if (a.kind === 'unix') {
    // Node reports a missing directory as EACCES; say what it is.
    if (!existsSync(dirname(a.path))) throw bindError(a.spec, 'ENOENT');
    await clearStaleSocket(a.path);
  }
  const listener = await bindNew(a, backlog, accept, opts.reusePort === true);
  // The file's mode came from the umask at bind time; its owner is who the workers run as.
  if (a.kind === 'unix' && opts.owner) chownSync(a.path, opts.owner.uid, opts.owner.gid);
  return listener;
}

async function bindNew(
  a: Exclude<Address, { kind: 'fd' }>,
  backlog: number,
  accept: boolean,
  reusePort: boolean,
): Promise<Listener> {
  const target =
    a.kind === 'unix' ? { path: a.path } : { ...(await resolveHost(a.host)), port: a.port };
  if (accept) {
    const server = createServer({ pauseOnConnect: true });
    await new Promise<void>((done, fail) => {
      server.once('error', (err: NodeJS.ErrnoException) => fail(bindError(a.spec, err.code ?? '')));
      const opts =
        'path' in target
          ? { path: target.path, backlog }
          : { host: target.ip, port: target.port, backlog, ipv6Only: false, reusePort };
      server.listen(opts, () => done());
    });
    const info = server.address();
    const port = typeof info === 'object' && info ? info.port : 0;
    const fd = (server as unknown as { _handle: { fd: number } })._handle.fd;
    return {
      address: a,
      fd,
      url: urlOf(a, 'ip' in target ? target.ip : '', port),
      server,
      close: () => server.close(),
    };
  }
  const handle =
    'path' in target
      ? createHandle()(target.path ?? null, -1, -1)
      : createHandle()(
          target.ip,
          target.port,
          target.family,
          undefined,
          reusePort ? UV_TCP_REUSEPORT : 0,
        );
  if (typeof handle === 'number') throw bindError(a.spec, systemErrorName(handle));
  const out: { port?: number } = {};
  handle.getsockname?.(out);
  // libuv keeps a bind's EADDRINUSE for listen(), which the workers call: an address taken
  // by another listener shows here as a socket left unbound.
  if ('port' in target && target.port !== 0 && out.port !== target.port) {
    handle.close();
    throw bindError(a.spec, 'EADDRINUSE');
  }
  return {
    address: a,
    fd: handle.fd,
    url: urlOf(a, 'ip' in target ? target.ip : '', out.port ?? 0),
    server: null,
    close: () => handle.close(),
  };
}

/**
 * A listening socket that is already open: inherited from the master before us (USR2), passed
 * by systemd socket activation, or named as `fd://N`. Serve it instead of binding.
 */
async function adopt(a: Address, backlog: number, accept: boolean, fd: number): Promise<Listener> {
  checkSocketFd(a.spec, fd);
  if (accept) {
    const server = createServer({ pauseOnConnect: true });
    await new Promise<void>((done, fail) => {
      server.once('error', (err: NodeJS.ErrnoException) => fail(bindError(a.spec, err.code ?? '')));
      server.listen({ fd, backlog }, () => done());
    });
    const url = adoptedUrl(a, fd, server.address());
    return { address: a, fd, url, server, close: () => server.close() };
  }
  // With an fd, Node asserts that address and port are empty (-1 would fail that assertion).
  const handle = createHandle()(null, 0, 0, fd);
  if (typeof handle === 'number') throw bindError(a.spec, systemErrorName(handle));
  const out: { address?: string; port?: number } = {};
  handle.getsockname?.(out);
  const info = out.port ? { address: out.address ?? '', port: out.port, family: '' } : null;
  return {
    address: a,
    fd,
    url: adoptedUrl(a, fd, info),
    server: null,
    close: () => handle.close(),
  };
}

/**
 * reuseport: each worker binds its own SO_REUSEPORT socket, so the master holds nothing; it
 * only checks now that the address is free, to fail with one line instead of in every worker.
 */
async function probeReusePort(
  a: Address & { kind: 'tcp' },
  backlog: number,
  opts: BindOptions,
): Promise<Listener> {
  // With --reuse-port another instance may hold the port: the probe binds beside it.
  const probe = await bindAddress(a, backlog, true, undefined, opts);
  const url = probe.url;
  // Port 0: the probe's free port becomes the one every worker binds.
  const port = Number(new URL(url).port);
  await new Promise((done) => probe.server?.close(done));
  return { address: { ...a, port }, fd: -1, url, server: null, close: () => {} };
}

export async function bindAll(
  specs: readonly string[],
  backlog: number,
  mode: DispatchMode | 'single',
  inherited: ReadonlyMap<string, number> = new Map(),
  opts: BindOptions = {},
): Promise<Listener[]> {
  const addresses = specs.map(parseBind);
  const bound: Listener[] = [];
  try {
    for (const a of addresses) {
      const accept = mode === 'least-conn' || mode === 'single';
      bound.push(
        mode === 'reuseport' && a.kind === 'tcp'
          ? await probeReusePort(a, backlog, opts)
          : await bindAddress(a, backlog, accept, inherited.get(a.spec), opts),
      );
    }
  } catch (err) {
    for (const l of bound) l.close();
    throw err;
  }
  return bound;
}

/** A bind as server.address() reports it: from the listener's URL (with its real port). */
export function bindInfo(l: Listener | undefined): BindInfo | null {
  if (!l) return null;
  if (l.url.startsWith('unix:')) return { path: l.url.slice(5) };
  if (!l.url.startsWith('http')) return null;
  const m = /^https?:\/\/\[?(?<host>.*?)\]?:(?<port>\d+)$/.exec(l.url);
  if (!m?.groups) return null;
  return tcpBindInfo(m.groups.host as string, Number(m.groups.port));
}

/** What `server.address()` says of a TCP bind: `{ address, family, port }`. */
export function tcpBindInfo(host: string, port: number): BindInfo {
  return { address: host, family: host.includes(':') ? 'IPv6' : 'IPv4', port };
}
