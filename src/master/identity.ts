/**
 * --user / --group: who the workers run as. The master binds (a port below 1024 needs root)
 * and stays root, as Gunicorn's arbiter does; workers are forked with the user's uid and gid,
 * so the app never runs privileged. Files the workers must write (log files) and unix sockets
 * are given to that user, so rotation and reopening keep working.
 */
import { execFileSync } from 'node:child_process';
import type { Resolved } from '../config/resolve.ts';
import { invalid } from '../config/resolve.ts';
import { CorralError } from '../errors.ts';
import { chownSync, closeSync, existsSync, openSync, readFileSync } from '../fs.ts';

export interface Identity {
  readonly uid: number;
  readonly gid: number;
  /** How to name it in the log: `nobody:nogroup (65534:65534)`. */
  readonly label: string;
}

/**
 * A passwd/group entry by name or number. `getent` asks NSS (LDAP, sssd, systemd's dynamic
 * users), which Node cannot; the files are the fallback where getent is missing.
 */
function lookup(db: 'passwd' | 'group', key: string): string[] | null {
  try {
    const out = execFileSync('getent', [db, key], { encoding: 'utf8', stdio: 'pipe' });
    const line = out.split('\n')[0];
    return line ? line.split(':') : null;
  } catch (err) {
    // getent exits 2 for "not found"; only its absence sends us to the files.
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return null;
  }
  const file = `/etc/${db}`;
  if (!existsSync(file)) return null;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const f = line.split(':');
    if (f[0] === key || (/^\d+$/.test(key) && f[2] === key)) return f;
  }
  return null;
}

const numeric = (s: string) => /^\d+$/.test(s);

/** Resolve --user/--group to ids; null when neither is set. Errors name the setting. */
export function resolveIdentity(r: Pick<Resolved, 'config' | 'sources'>): Identity | null {
  const { user, group } = r.config;
  if (user === null && group === null) return null;
  let uid = process.getuid?.() ?? 0;
  let gid = process.getgid?.() ?? 0;
  let userName = String(uid);
  if (user !== null) {
    const pw = lookup('passwd', user);
    if (!pw && !numeric(user)) {
      throw invalid('user', r.sources.user, user, 'a user name or uid that exists on this machine');
    }
    // A numeric uid without a passwd entry is allowed (containers often run such ids).
    uid = pw ? Number(pw[2]) : Number(user);
    gid = pw ? Number(pw[3]) : gid;
    userName = pw?.[0] ?? user;
  }
  let groupName = String(gid);
  if (group !== null) {
    const gr = lookup('group', group);
    if (!gr && !numeric(group)) {
      throw invalid(
        'group',
        r.sources.group,
        group,
        'a group name or gid that exists on this machine',
      );
    }
    gid = gr ? Number(gr[2]) : Number(group);
    groupName = gr?.[0] ?? group;
  } else {
    groupName = lookup('group', String(gid))?.[0] ?? String(gid);
  }
  const me = process.getuid?.();
  if (me !== 0 && (uid !== me || gid !== process.getgid?.())) {
    throw new CorralError(
      `corral: --user/--group ${userName}:${groupName} needs root: corral runs as uid ${me}, which cannot change to uid ${uid} gid ${gid} (leave --user unset, or start corral as root)`,
    );
  }
  return { uid, gid, label: `${userName}:${groupName} (${uid}:${gid})` };
}

/** True when the workers would run as someone else than the master. */
export function changesIdentity(id: Identity | null): id is Identity {
  return id !== null && (id.uid !== process.getuid?.() || id.gid !== process.getgid?.());
}

/**
 * Create (if need be) and give a log file to the workers' user: they open it themselves, and
 * reopen it after rotation, which a root-owned file would refuse. `-` (a std stream) is skipped.
 */
export function giveFile(path: string | null, id: Identity): void {
  if (!path || path === '-') return;
  closeSync(openSync(path, 'a'));
  chownSync(path, id.uid, id.gid);
}

/**
 * Single-process mode: this process binds as root, then becomes the user before it loads the
 * app. Group first (setgid needs root), supplementary groups dropped, uid last.
 */
export function dropPrivileges(id: Identity): void {
  process.setgroups?.([id.gid]);
  process.setgid?.(id.gid);
  process.setuid?.(id.uid);
}
