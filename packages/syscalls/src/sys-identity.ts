/**
 * Process identity: pids, tids and credentials (the get/set*id family, groups).
 *
 * @module
 */
import { E, isError, type LinuxError } from '@tsvisor/abi';
import {
  credsChangeClearsDumpable,
  ID_UNCHANGED,
  NGROUPS_MAX,
  setFsId,
  setGroups,
  setId,
  setReId,
  setResId,
  type Credentials,
  type Task,
} from '@tsvisor/kernel';
import { FULL, ptr, uint, int, type SyscallArgs, type SyscallFamily, type SyscallResult } from './types.js';

/** implements getpid(2): the sandbox pid of the caller's process. */
function getpid(t: Task): SyscallResult {
  return t.tgid;
}

/** implements getppid(2): the parent's pid, 0 for pid 1 (its parent is outside the namespace). */
function getppid(t: Task): SyscallResult {
  return t.group.parent?.tgid ?? 0;
}

/** implements gettid(2). */
function gettid(t: Task): SyscallResult {
  return t.tid;
}

/** implements getuid(2). */
function getuid(t: Task): SyscallResult {
  return t.creds.uid;
}

/** implements geteuid(2). */
function geteuid(t: Task): SyscallResult {
  return t.creds.euid;
}

/** implements getgid(2). */
function getgid(t: Task): SyscallResult {
  return t.creds.gid;
}

/** implements getegid(2). */
function getegid(t: Task): SyscallResult {
  return t.creds.egid;
}

function commit(t: Task, c: Credentials | LinuxError): SyscallResult {
  if (isError(c)) return c;
  if (credsChangeClearsDumpable(t.creds, c)) t.group.dumpable = 0;
  t.group.creds = c;
  return 0;
}

/** implements setuid(2). */
function setuid(t: Task, a: SyscallArgs): SyscallResult {
  return commit(t, setId(t.creds, 'u', uint(a[0])));
}

/** implements setgid(2). */
function setgid(t: Task, a: SyscallArgs): SyscallResult {
  return commit(t, setId(t.creds, 'g', uint(a[0])));
}

/** implements setreuid(2). */
function setreuid(t: Task, a: SyscallArgs): SyscallResult {
  return commit(t, setReId(t.creds, 'u', uint(a[0]), uint(a[1])));
}

/** implements setregid(2). */
function setregid(t: Task, a: SyscallArgs): SyscallResult {
  return commit(t, setReId(t.creds, 'g', uint(a[0]), uint(a[1])));
}

/** implements setresuid(2). */
function setresuid(t: Task, a: SyscallArgs): SyscallResult {
  return commit(t, setResId(t.creds, 'u', uint(a[0]), uint(a[1]), uint(a[2])));
}

/** implements setresgid(2). */
function setresgid(t: Task, a: SyscallArgs): SyscallResult {
  return commit(t, setResId(t.creds, 'g', uint(a[0]), uint(a[1]), uint(a[2])));
}

function writeThree(t: Task, a: SyscallArgs, v: [number, number, number]): SyscallResult {
  for (let i = 0; i < 3; i++) {
    const e = t.memory.writeU32(ptr(a[i] as bigint), v[i] as number);
    if (e) return e;
  }
  return 0;
}

/** implements getresuid(2): writes real, effective and saved uid; EFAULT for a bad pointer. */
function getresuid(t: Task, a: SyscallArgs): SyscallResult {
  const c = t.creds;
  return writeThree(t, a, [c.uid, c.euid, c.suid]);
}

/** implements getresgid(2). */
function getresgid(t: Task, a: SyscallArgs): SyscallResult {
  const c = t.creds;
  return writeThree(t, a, [c.gid, c.egid, c.sgid]);
}

/** implements setfsuid(2): returns the previous fs uid, whether or not it changed. */
function setfsuid(t: Task, a: SyscallArgs): SyscallResult {
  const r = setFsId(t.creds, 'u', uint(a[0]));
  commit(t, r.creds);
  return r.old;
}

/** implements setfsgid(2). */
function setfsgid(t: Task, a: SyscallArgs): SyscallResult {
  const r = setFsId(t.creds, 'g', uint(a[0]));
  commit(t, r.creds);
  return r.old;
}

/**
 * implements getgroups(2): size 0 asks for the count; a size smaller than the count is EINVAL,
 * a negative size EINVAL.
 */
function getgroups(t: Task, a: SyscallArgs): SyscallResult {
  const n = int(a[0]);
  const groups = t.creds.groups;
  if (n < 0) return E.EINVAL;
  if (n === 0) return groups.length;
  if (n < groups.length) return E.EINVAL;
  const out = new Uint8Array(groups.length * 4);
  const v = new DataView(out.buffer);
  groups.forEach((g, i) => v.setUint32(i * 4, g, true));
  return t.memory.writeExact(ptr(a[1]), out) ?? groups.length;
}

/** implements setgroups(2): EINVAL above NGROUPS_MAX, EPERM unprivileged, EFAULT bad list. */
function setgroups(t: Task, a: SyscallArgs): SyscallResult {
  const n = int(a[0]);
  if (n < 0 || n > NGROUPS_MAX) return E.EINVAL;
  const raw = t.memory.read(ptr(a[1]), n * 4);
  if (isError(raw)) return raw;
  const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const groups: number[] = [];
  for (let i = 0; i < n; i++) {
    const g = v.getUint32(i * 4, true);
    if (g === ID_UNCHANGED) return E.EINVAL;
    groups.push(g);
  }
  return commit(t, setGroups(t.creds, groups));
}

/** Identity syscalls. */
export const identitySyscalls: SyscallFamily = {
  getpid: { handler: getpid, support: FULL },
  getppid: { handler: getppid, support: FULL },
  gettid: { handler: gettid, support: FULL },
  getuid: { handler: getuid, support: FULL },
  geteuid: { handler: geteuid, support: FULL },
  getgid: { handler: getgid, support: FULL },
  getegid: { handler: getegid, support: FULL },
  setuid: { handler: setuid, support: FULL },
  setgid: { handler: setgid, support: FULL },
  setreuid: { handler: setreuid, support: FULL },
  setregid: { handler: setregid, support: FULL },
  setresuid: { handler: setresuid, support: FULL },
  setresgid: { handler: setresgid, support: FULL },
  getresuid: { handler: getresuid, support: FULL },
  getresgid: { handler: getresgid, support: FULL },
  setfsuid: { handler: setfsuid, support: FULL },
  setfsgid: { handler: setfsgid, support: FULL },
  getgroups: { handler: getgroups, support: FULL },
  setgroups: { handler: setgroups, support: FULL },
};
