/**
 * Process credentials: real, effective, saved and filesystem user and group ids and the
 * supplementary groups, with the transitions of the set*id family as Linux does them.
 *
 * Credentials are cold, shared state: a task holds an immutable {@link Credentials} object, and a
 * change makes a new one (copy-on-write through immer, autoFreeze off), so fork shares them for
 * free and a racing reader never sees half an update.
 *
 * Capabilities are modelled the way a process without file capabilities sees them: a task whose
 * effective uid is 0 holds every capability, any other holds none ({@link capable}).
 *
 * @module
 */
import { E, type LinuxError } from '@tsvisor/abi';
import { Immer } from 'immer';

const immer = new Immer({ autoFreeze: false });

/** Linux's `NGROUPS_MAX`. */
export const NGROUPS_MAX = 65536;

/** `(uid_t)-1`: "leave unchanged" in setre*id/setres*id, invalid as an id. */
export const ID_UNCHANGED = 0xffffffff;

/** One task's credentials (immutable by convention: change them with the functions below). */
export interface Credentials {
  readonly uid: number;
  readonly euid: number;
  readonly suid: number;
  readonly fsuid: number;
  readonly gid: number;
  readonly egid: number;
  readonly sgid: number;
  readonly fsgid: number;
  readonly groups: readonly number[];
}

/** Credentials with every id set to `uid`/`gid` (root inside the sandbox by default). */
export function makeCredentials(uid = 0, gid = 0, groups: readonly number[] = []): Credentials {
  return {
    uid,
    euid: uid,
    suid: uid,
    fsuid: uid,
    gid,
    egid: gid,
    sgid: gid,
    fsgid: gid,
    groups: [...groups],
  };
}

/** True when the task holds every capability (see the module comment). */
export function capable(c: Credentials): boolean {
  return c.euid === 0;
}

/**
 * `__ptrace_may_access` with PTRACE_MODE_REALCREDS, as far as credentials go: the caller is
 * privileged, or its real uid and gid equal all three of the target's (real, effective, saved).
 * Callers check "same thread group" first (always allowed), since that needs no credentials.
 */
export function ptraceCredsMatch(caller: Credentials, target: Credentials): boolean {
  if (capable(caller)) return true;
  return (
    caller.uid === target.uid &&
    caller.uid === target.euid &&
    caller.uid === target.suid &&
    caller.gid === target.gid &&
    caller.gid === target.egid &&
    caller.gid === target.sgid
  );
}

/** True when `gid` is the fs gid or a supplementary group (`in_group_p`). */
export function inGroup(c: Credentials, gid: number): boolean {
  return c.fsgid === gid || c.groups.includes(gid);
}

type IdKind = 'u' | 'g';

function ids(c: Credentials, k: IdKind): [number, number, number, number] {
  return k === 'u' ? [c.uid, c.euid, c.suid, c.fsuid] : [c.gid, c.egid, c.sgid, c.fsgid];
}

function withIds(c: Credentials, k: IdKind, r: number, e: number, s: number, fs: number): Credentials {
  return immer.produce(c, (d) => {
    if (k === 'u') {
      d.uid = r;
      d.euid = e;
      d.suid = s;
      d.fsuid = fs;
    } else {
      d.gid = r;
      d.egid = e;
      d.sgid = s;
      d.fsgid = fs;
    }
  });
}

// CAP_SETUID for uids, CAP_SETGID for gids: both follow euid == 0 here.
const privileged = capable;

/** setuid(2)/setgid(2): `EINVAL` for -1, `EPERM` when unprivileged and not the real or saved id. */
export function setId(c: Credentials, k: IdKind, id: number): Credentials | LinuxError {
  if (id === ID_UNCHANGED) return E.EINVAL;
  const [r, , s] = ids(c, k);
  if (privileged(c)) return withIds(c, k, id, id, id, id);
  if (id === r || id === s) {
    const [rr, , ss] = ids(c, k);
    return withIds(c, k, rr, id, ss, id);
  }
  return E.EPERM;
}

/** setreuid(2)/setregid(2). */
export function setReId(c: Credentials, k: IdKind, nr: number, ne: number): Credentials | LinuxError {
  const [r, e, s] = ids(c, k);
  const priv = privileged(c);
  let newR = r;
  let newE = e;
  if (nr !== ID_UNCHANGED) {
    if (!priv && nr !== r && nr !== e) return E.EPERM;
    newR = nr;
  }
  if (ne !== ID_UNCHANGED) {
    if (!priv && ne !== r && ne !== e && ne !== s) return E.EPERM;
    newE = ne;
  }
  // The saved id follows the effective one whenever the real id is set or the effective id
  // moves away from the old real id.
  const newS = nr !== ID_UNCHANGED || (ne !== ID_UNCHANGED && ne !== r) ? newE : s;
  return withIds(c, k, newR, newE, newS, newE);
}

/** setresuid(2)/setresgid(2). */
export function setResId(
  c: Credentials,
  k: IdKind,
  nr: number,
  ne: number,
  ns: number,
): Credentials | LinuxError {
  const [r, e, s] = ids(c, k);
  if (!privileged(c)) {
    for (const v of [nr, ne, ns]) if (v !== ID_UNCHANGED && v !== r && v !== e && v !== s) return E.EPERM;
  }
  const newE = ne === ID_UNCHANGED ? e : ne;
  return withIds(c, k, nr === ID_UNCHANGED ? r : nr, newE, ns === ID_UNCHANGED ? s : ns, newE);
}

/**
 * setfsuid(2)/setfsgid(2): always answers the old fs id; changes it only when privileged or when
 * the new id is one of the real, effective, saved or current fs ids.
 */
export function setFsId(c: Credentials, k: IdKind, id: number): { old: number; creds: Credentials } {
  const [r, e, s, fs] = ids(c, k);
  if (id !== ID_UNCHANGED && (privileged(c) || id === r || id === e || id === s || id === fs)) {
    return { old: fs, creds: withIds(c, k, r, e, s, id) };
  }
  return { old: fs, creds: c };
}

/** setgroups(2): `EPERM` without CAP_SETGID, `EINVAL` past {@link NGROUPS_MAX}. */
export function setGroups(c: Credentials, groups: readonly number[]): Credentials | LinuxError {
  if (groups.length > NGROUPS_MAX) return E.EINVAL;
  if (!privileged(c)) return E.EPERM;
  const sorted = [...groups].sort((a, b) => a - b);
  return immer.produce(c, (d) => {
    d.groups = sorted;
  });
}
