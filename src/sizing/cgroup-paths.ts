/**
 * Where this process's cgroups are: /proc/self/cgroup (which cgroup, per hierarchy) joined with
 * the cgroup mounts (/proc/self/mountinfo, or the standard /sys/fs/cgroup layout when that file
 * is missing). Handles v1, v2 and hybrid layouts, and containers whose cgroup mount root is
 * their own cgroup. Everything is read under `root`, so tests can point it at a fixture tree.
 */
import { join, posix } from 'node:path';
import { existsSync, readdirSync, readFileSync } from '../fs.ts';

export type CgroupLayout = 'v1' | 'v2' | 'hybrid' | 'none';

/** One cgroup hierarchy as this process sees it. */
export interface Hierarchy {
  readonly version: 'v1' | 'v2';
  /** v1: the controllers bound to it (`cpu`, `cpuacct`, `memory`, …); v2: empty. */
  readonly controllers: readonly string[];
  /** Where it is mounted, e.g. `/sys/fs/cgroup/cpu,cpuacct` (not prefixed by `root`). */
  readonly mountPoint: string;
  /** This process's cgroup directory in it (not prefixed by `root`). */
  readonly dir: string;
}

interface Mount {
  readonly version: 'v1' | 'v2';
  readonly controllers: readonly string[];
  /** The cgroup path mounted at `point` (`/` unless the mount shows only a subtree). */
  readonly root: string;
  readonly point: string;
}

interface Membership {
  readonly controllers: readonly string[];
  readonly path: string;
}

function read(root: string, path: string): string | null {
  try {
    return readFileSync(join(root, path), 'utf8');
  } catch {
    return null;
  }
}

/** `/proc/self/cgroup`: `ID:controller,list:/path`; v2's line is `0::/path`. */
export function parseProcCgroup(text: string): Membership[] {
  const out: Membership[] = [];
  for (const line of text.split('\n')) {
    const a = line.indexOf(':');
    const b = line.indexOf(':', a + 1);
    if (a < 0 || b < 0) continue;
    const list = line.slice(a + 1, b);
    out.push({ controllers: list ? list.split(',') : [], path: line.slice(b + 1) || '/' });
  }
  return out;
}

/** mountinfo escapes spaces and a few other bytes as \\NNN (octal). */
function unescapeOctal(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)));
}

/** `/proc/self/mountinfo`: the cgroup and cgroup2 mounts. */
export function parseMountinfo(text: string): Mount[] {
  const out: Mount[] = [];
  for (const line of text.split('\n')) {
    const fields = line.split(' ');
    const dash = fields.indexOf('-');
    if (dash < 0) continue;
    const fstype = fields[dash + 1];
    const root = unescapeOctal(fields[3] ?? '/');
    const point = unescapeOctal(fields[4] ?? '');
    if (fstype === 'cgroup2') out.push({ version: 'v2', controllers: [], root, point });
    if (fstype === 'cgroup') {
      // Super options list the bound controllers: `rw,cpu,cpuacct` or `rw,name=systemd`.
      const opts = (fields[dash + 3] ?? '').split(',');
      out.push({ version: 'v1', controllers: opts, root, point });
    }
  }
  return out;
}

/** Without mountinfo: v2 at /sys/fs/cgroup, or v1 at /sys/fs/cgroup/<controllers> (+ unified). */
function standardMounts(root: string): Mount[] {
  const base = '/sys/fs/cgroup';
  if (existsSync(join(root, base, 'cgroup.controllers'))) {
    return [{ version: 'v2', controllers: [], root: '/', point: base }];
  }
  let names: string[] = [];
  try {
    names = readdirSync(join(root, base));
  } catch {
    return [];
  }
  return names.map((name): Mount => {
    const point = posix.join(base, name);
    return name === 'unified'
      ? { version: 'v2', controllers: [], root: '/', point }
      : { version: 'v1', controllers: name.split(','), root: '/', point };
  });
}

/**
 * The directory of `path` under a mount. With a cgroup namespace (or on the host) the mount
 * root is `/`; without one, a container's mount root is its own cgroup (`/docker/<id>`) and
 * /proc/self/cgroup shows that same path, so strip it; a path outside the mount root means the
 * mount shows only our cgroup, at the mount point itself.
 */
function dirUnder(mount: Mount, path: string): string {
  const under = (rel: string) => posix.join(mount.point, rel).replace(/(.)\/$/, '$1');
  if (mount.root === '/') return under(path);
  if (path === mount.root || path.startsWith(`${mount.root}/`)) {
    return under(path.slice(mount.root.length));
  }
  return mount.point;
}

/** This process's cgroup hierarchies: the v1 ones with controllers, and the v2 one if any. */
export function findHierarchies(root: string): Hierarchy[] {
  const procCgroup = read(root, '/proc/self/cgroup');
  if (procCgroup === null) return [];
  const memberships = parseProcCgroup(procCgroup);
  const mountinfo = read(root, '/proc/self/mountinfo');
  const mounts = mountinfo === null ? standardMounts(root) : parseMountinfo(mountinfo);
  const out: Hierarchy[] = [];
  for (const m of memberships) {
    const mount =
      m.controllers.length === 0
        ? mounts.find((x) => x.version === 'v2')
        : mounts.find(
            (x) => x.version === 'v1' && m.controllers.every((c) => x.controllers.includes(c)),
          );
    if (!mount) continue;
    let dir = dirUnder(mount, m.path);
    // A path from another namespace that this mount cannot show: our cgroup is the mount point.
    if (!existsSync(join(root, dir))) dir = mount.point;
    out.push({ version: mount.version, controllers: m.controllers, mountPoint: mount.point, dir });
  }
  return out;
}

export function layoutOf(hierarchies: readonly Hierarchy[]): CgroupLayout {
  const v1 = hierarchies.some(
    (h) => h.version === 'v1' && !h.controllers.some((c) => c.startsWith('name=')),
  );
  const v2 = hierarchies.some((h) => h.version === 'v2');
  return v1 && v2 ? 'hybrid' : v1 ? 'v1' : v2 ? 'v2' : 'none';
}

/** `dir`, its parent, … up to the mount point: a limit set on an ancestor applies too. */
export function ancestors(h: Hierarchy): string[] {
  const out = [h.dir];
  let d = h.dir;
  while (d !== h.mountPoint && d.startsWith(`${h.mountPoint}/`)) {
    d = posix.dirname(d);
    out.push(d);
  }
  return out;
}

export function readCgroupFile(root: string, dir: string, file: string): string | null {
  const text = read(root, posix.join(dir, file));
  return text === null ? null : text.trim();
}
