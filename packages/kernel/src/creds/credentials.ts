/**
 * Process credentials: real, effective, saved and filesystem user and group ids and the
 * supplementary groups, with the transitions of the set*id family as Linux does them.
 *
 * Credentials are cold, shared state: a task holds an immutable {@link Credentials} object, and a
 * change makes a new one (copy-on-write through immer, autoFreeze off), so fork shares them for
 * free and a racing reader never sees half an update.
 *
 * Capabilities follow Linux's model (capabilities(7), security/commoncap.c): five 41-bit sets
 * (inheritable, permitted, effective, bounding, ambient) and the securebits, changed by capset,
 * prctl, the set*id fixups of `cap_task_fix_setuid` and execve (`bprm_fill_uid` and
 * `cap_bprm_creds_from_file`: set-id programs and file capabilities from `security.capability`).
 * {@link capable} checks the effective set.
 *
 * @module
 */
import { Capability, E, type LinuxError } from '@tsvisor/abi';
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
  /** Capabilities kept across execve (bit `n` is capability `n`). */
  readonly inheritable: bigint;
  /** The limit of what the effective set may hold. */
  readonly permitted: bigint;
  /** What {@link capable} checks. */
  readonly effective: bigint;
  /** The bounding set: the most an execve by root can gain; only shrinks. */
  readonly bounding: bigint;
  /** Ambient capabilities: kept across execve of an unprivileged program. */
  readonly ambient: bigint;
  /** `SECBIT_*` flags (PR_SET_SECUREBITS). */
  readonly securebits: number;
}

/** Every capability Linux defines (0..CAP_LAST_CAP, 41 bits): `CAP_VALID_MASK`. */
export const CAP_FULL_SET = (1n << BigInt(Capability.CAP_LAST_CAP + 1)) - 1n;

/** The bit of one capability in a set. */
export function capBit(cap: number): bigint {
  return 1n << BigInt(cap);
}

/**
 * The capabilities a non-zero fsuid drops from the effective set (`CAP_FS_SET`: `CAP_FS_MASK`
 * plus CAP_LINUX_IMMUTABLE).
 */
const CAP_FS_SET = [
  Capability.CAP_CHOWN,
  Capability.CAP_DAC_OVERRIDE,
  Capability.CAP_DAC_READ_SEARCH,
  Capability.CAP_FOWNER,
  Capability.CAP_FSETID,
  Capability.CAP_LINUX_IMMUTABLE,
  Capability.CAP_MKNOD,
  Capability.CAP_MAC_OVERRIDE,
].reduce((m, c) => m | capBit(c), 0n);

/** securebits (`SECBIT_*`, linux/securebits.h); each flag's lock is the next bit up. */
export const Securebit = {
  SECBIT_NOROOT: 1 << 0,
  SECBIT_NOROOT_LOCKED: 1 << 1,
  SECBIT_NO_SETUID_FIXUP: 1 << 2,
  SECBIT_NO_SETUID_FIXUP_LOCKED: 1 << 3,
  SECBIT_KEEP_CAPS: 1 << 4,
  SECBIT_KEEP_CAPS_LOCKED: 1 << 5,
  SECBIT_NO_CAP_AMBIENT_RAISE: 1 << 6,
  SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED: 1 << 7,
  SECBIT_EXEC_RESTRICT_FILE: 1 << 8,
  SECBIT_EXEC_RESTRICT_FILE_LOCKED: 1 << 9,
  SECBIT_EXEC_DENY_INTERACTIVE: 1 << 10,
  SECBIT_EXEC_DENY_INTERACTIVE_LOCKED: 1 << 11,
} as const;

/** The flags PR_SET_SECUREBITS accepts (Linux 6.14+ has the two EXEC bits). */
const SECURE_ALL_BITS = 0x555;
const SECURE_ALL_LOCKS = SECURE_ALL_BITS << 1;

/** Credentials with every id set to `uid`/`gid` (root inside the sandbox by default). */
export function makeCredentials(uid = 0, gid = 0, groups: readonly number[] = []): Credentials {
  // What a process execed with these ids and no capabilities of its own ends with.
  const caps = uid === 0 ? CAP_FULL_SET : 0n;
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
    inheritable: 0n,
    permitted: caps,
    effective: caps,
    bounding: CAP_FULL_SET,
    ambient: 0n,
    securebits: 0,
  };
}

/** True when capability `cap` (a `Capability.CAP_*` number) is in the effective set. */
export function capable(c: Credentials, cap: number): boolean {
  return (c.effective & capBit(cap)) !== 0n;
}

/** The effective capabilities 0-31 as a bit mask (the VFS's `Creds.caps`). */
export function effectiveLow(c: Credentials): number {
  return Number(c.effective & 0xffffffffn) | 0;
}

/**
 * The capabilities 0-31 access(2) and faccessat(2) check with (`access_override_creds`): the
 * real uid is used, so a non-root real uid has none and root has its permitted set, unless
 * SECBIT_NO_SETUID_FIXUP keeps the effective set.
 */
export function accessCapsLow(c: Credentials): number {
  if (c.securebits & Securebit.SECBIT_NO_SETUID_FIXUP) return effectiveLow(c);
  return c.uid === 0 ? Number(c.permitted & 0xffffffffn) | 0 : 0;
}

/**
 * `__ptrace_may_access` with PTRACE_MODE_REALCREDS, as far as credentials go: the caller has
 * CAP_SYS_PTRACE, or its real uid and gid equal all three of the target's (real, effective,
 * saved) and the target permits no capability the caller does not (`cap_ptrace_access_check`).
 * Callers check "same thread group" first (always allowed), since that needs no credentials.
 */
export function ptraceCredsMatch(caller: Credentials, target: Credentials): boolean {
  if (capable(caller, Capability.CAP_SYS_PTRACE)) return true;
  return (
    caller.uid === target.uid &&
    caller.uid === target.euid &&
    caller.uid === target.suid &&
    caller.gid === target.gid &&
    caller.gid === target.egid &&
    caller.gid === target.sgid &&
    (target.permitted & ~caller.permitted) === 0n
  );
}

/**
 * `commit_creds`' dumpability rule: a new effective or fs uid or gid, or permitted capabilities
 * beyond the old ones, make the process non-dumpable (`suid_dumpable`, 0 by default), so its
 * /proc files become root's and same-uid ptrace access stops.
 */
export function credsChangeClearsDumpable(old: Credentials, next: Credentials): boolean {
  return (
    old.euid !== next.euid ||
    old.egid !== next.egid ||
    old.fsuid !== next.fsuid ||
    old.fsgid !== next.fsgid ||
    (next.permitted & ~old.permitted) !== 0n
  );
}

/**
 * Dumpability after execve (`begin_new_exec`): dumpable when the effective ids equal the real
 * ones and installing the new credentials did not clear it ({@link credsChangeClearsDumpable}).
 */
export function execDumpable(old: Credentials, next: Credentials): boolean {
  return next.euid === next.uid && next.egid === next.gid && !credsChangeClearsDumpable(old, next);
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
      if (!(c.securebits & Securebit.SECBIT_NO_SETUID_FIXUP)) emulateSetxuid(c, d);
    } else {
      d.gid = r;
      d.egid = e;
      d.sgid = s;
      d.fsgid = fs;
    }
  });
}

type Draft = { -readonly [K in keyof Credentials]: Credentials[K] };

/**
 * `cap_emulate_setxuid`: the capability side effects of a uid change. Leaving uid 0 in all of
 * real, effective and saved drops permitted and effective (unless SECBIT_KEEP_CAPS) and ambient;
 * an effective uid leaving 0 drops the effective set, one becoming 0 regains the permitted set.
 */
function emulateSetxuid(old: Credentials, d: Draft): void {
  const wasRoot = old.uid === 0 || old.euid === 0 || old.suid === 0;
  const isRoot = d.uid === 0 || d.euid === 0 || d.suid === 0;
  if (wasRoot && !isRoot) {
    if (!(old.securebits & Securebit.SECBIT_KEEP_CAPS)) {
      d.permitted = 0n;
      d.effective = 0n;
    }
    d.ambient = 0n;
  }
  if (old.euid === 0 && d.euid !== 0) d.effective = 0n;
  if (old.euid !== 0 && d.euid === 0) d.effective = d.permitted;
  // The fsuid followed the euid: the effective set changes with it above, as in Linux.
}

/** CAP_SETUID for uids, CAP_SETGID for gids. */
function privileged(c: Credentials, k: IdKind): boolean {
  return capable(c, k === 'u' ? Capability.CAP_SETUID : Capability.CAP_SETGID);
}

/** setuid(2)/setgid(2): `EINVAL` for -1, `EPERM` when unprivileged and not the real or saved id. */
export function setId(c: Credentials, k: IdKind, id: number): Credentials | LinuxError {
  if (id === ID_UNCHANGED) return E.EINVAL;
  const [r, , s] = ids(c, k);
  if (privileged(c, k)) return withIds(c, k, id, id, id, id);
  if (id === r || id === s) {
    const [rr, , ss] = ids(c, k);
    return withIds(c, k, rr, id, ss, id);
  }
  return E.EPERM;
}

/** setreuid(2)/setregid(2). */
export function setReId(c: Credentials, k: IdKind, nr: number, ne: number): Credentials | LinuxError {
  const [r, e, s] = ids(c, k);
  const priv = privileged(c, k);
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
  if (!privileged(c, k)) {
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
  if (id !== ID_UNCHANGED && id !== fs && (privileged(c, k) || id === r || id === e || id === s)) {
    return { old: fs, creds: k === 'u' ? withFsuid(c, id) : withIds(c, k, r, e, s, id) };
  }
  return { old: fs, creds: c };
}

/**
 * A new fsuid alone (the LSM_SETID_FS fixup): leaving 0 drops the filesystem capabilities from
 * the effective set, returning to 0 raises those of them that are permitted.
 */
function withFsuid(c: Credentials, fsuid: number): Credentials {
  return immer.produce(c, (d) => {
    d.fsuid = fsuid;
    if (c.securebits & Securebit.SECBIT_NO_SETUID_FIXUP) return;
    if (c.fsuid === 0 && fsuid !== 0) d.effective = c.effective & ~CAP_FS_SET;
    if (c.fsuid !== 0 && fsuid === 0) d.effective = c.effective | (c.permitted & CAP_FS_SET);
  });
}

/** setgroups(2): `EPERM` without CAP_SETGID, `EINVAL` past {@link NGROUPS_MAX}. */
export function setGroups(c: Credentials, groups: readonly number[]): Credentials | LinuxError {
  if (groups.length > NGROUPS_MAX) return E.EINVAL;
  if (!privileged(c, 'g')) return E.EPERM;
  const sorted = [...groups].sort((a, b) => a - b);
  return immer.produce(c, (d) => {
    d.groups = sorted;
  });
}

/** The three sets capset(2) writes. */
export interface CapSets {
  readonly effective: bigint;
  readonly permitted: bigint;
  readonly inheritable: bigint;
}

/**
 * capset(2)'s rules (`cap_capset`): the new inheritable set stays within the old inheritable
 * and permitted sets (any capability of the bounding set with CAP_SETPCAP) and within old
 * inheritable | bounding; permitted only shrinks; effective stays within the new permitted.
 * `EPERM` otherwise. Ambient capabilities no longer both permitted and inheritable go.
 */
export function setCaps(c: Credentials, want: CapSets): Credentials | LinuxError {
  const e = want.effective & CAP_FULL_SET;
  const p = want.permitted & CAP_FULL_SET;
  const i = want.inheritable & CAP_FULL_SET;
  if (!capable(c, Capability.CAP_SETPCAP) && (i & ~(c.inheritable | c.permitted)) !== 0n) return E.EPERM;
  if ((i & ~(c.inheritable | c.bounding)) !== 0n) return E.EPERM;
  if ((p & ~c.permitted) !== 0n) return E.EPERM;
  if ((e & ~p) !== 0n) return E.EPERM;
  return immer.produce(c, (d) => {
    d.effective = e;
    d.permitted = p;
    d.inheritable = i;
    d.ambient = c.ambient & p & i;
  });
}

function validCap(cap: bigint): cap is bigint {
  return cap >= 0n && cap <= BigInt(Capability.CAP_LAST_CAP);
}

/** PR_CAPBSET_READ: 1 when `cap` is in the bounding set, `EINVAL` for an unknown capability. */
export function boundingHas(c: Credentials, cap: bigint): number | LinuxError {
  if (!validCap(cap)) return E.EINVAL;
  return (c.bounding >> cap) & 1n ? 1 : 0;
}

/** PR_CAPBSET_DROP: `EPERM` without CAP_SETPCAP (checked first), `EINVAL` for an unknown capability. */
export function dropBounding(c: Credentials, cap: bigint): Credentials | LinuxError {
  if (!capable(c, Capability.CAP_SETPCAP)) return E.EPERM;
  if (!validCap(cap)) return E.EINVAL;
  return immer.produce(c, (d) => {
    d.bounding = c.bounding & ~(1n << cap);
  });
}

/** PR_CAP_AMBIENT's sub-operations (`PR_CAP_AMBIENT_*`). */
export const AmbientOp = { IS_SET: 1n, RAISE: 2n, LOWER: 3n, CLEAR_ALL: 4n } as const;

/**
 * prctl(PR_CAP_AMBIENT, op, cap, arg4, arg5): IS_SET answers 0/1; RAISE needs the capability
 * permitted and inheritable and SECBIT_NO_CAP_AMBIENT_RAISE clear (`EPERM`); CLEAR_ALL wants
 * `cap`, `arg4` and `arg5` zero, the others `arg4`/`arg5` zero and a known capability (`EINVAL`).
 */
export function ambient(
  c: Credentials,
  op: bigint,
  cap: bigint,
  rest: bigint,
): { creds: Credentials; result: number } | LinuxError {
  if (op === AmbientOp.CLEAR_ALL) {
    if (cap !== 0n || rest !== 0n) return E.EINVAL;
    return { creds: immer.produce(c, (d) => void (d.ambient = 0n)), result: 0 };
  }
  if (!validCap(cap) || rest !== 0n) return E.EINVAL;
  const bit = 1n << cap;
  if (op === AmbientOp.IS_SET) return { creds: c, result: c.ambient & bit ? 1 : 0 };
  if (op === AmbientOp.RAISE) {
    if (
      !(c.permitted & bit) ||
      !(c.inheritable & bit) ||
      c.securebits & Securebit.SECBIT_NO_CAP_AMBIENT_RAISE
    )
      return E.EPERM;
    return { creds: immer.produce(c, (d) => void (d.ambient = c.ambient | bit)), result: 0 };
  }
  if (op === AmbientOp.LOWER) {
    return { creds: immer.produce(c, (d) => void (d.ambient = c.ambient & ~bit)), result: 0 };
  }
  return E.EINVAL;
}

/** PR_SET_KEEPCAPS: `EINVAL` above 1, `EPERM` when SECBIT_KEEP_CAPS_LOCKED. */
export function setKeepCaps(c: Credentials, on: bigint): Credentials | LinuxError {
  if (on > 1n || on < 0n) return E.EINVAL;
  if (c.securebits & Securebit.SECBIT_KEEP_CAPS_LOCKED) return E.EPERM;
  const bits = on ? c.securebits | Securebit.SECBIT_KEEP_CAPS : c.securebits & ~Securebit.SECBIT_KEEP_CAPS;
  return immer.produce(c, (d) => void (d.securebits = bits));
}

/**
 * PR_SET_SECUREBITS: `EPERM` when a locked flag would change, a lock would be released, an
 * unknown bit is set, or the caller lacks CAP_SETPCAP.
 */
export function setSecurebits(c: Credentials, bits: bigint): Credentials | LinuxError {
  const old = BigInt(c.securebits);
  const locks = BigInt(SECURE_ALL_LOCKS);
  if (
    ((old & locks) >> 1n) & (old ^ bits) ||
    old & locks & ~bits ||
    bits & ~(locks | BigInt(SECURE_ALL_BITS)) ||
    !capable(c, Capability.CAP_SETPCAP)
  ) {
    return E.EPERM;
  }
  return immer.produce(c, (d) => void (d.securebits = Number(bits)));
}

/** A program's file capabilities (the `security.capability` xattr, capabilities(7)). */
export interface FileCaps {
  readonly permitted: bigint;
  readonly inheritable: bigint;
  /** VFS_CAP_FLAGS_EFFECTIVE: the new permitted set becomes effective (a "legacy" program). */
  readonly effective: boolean;
}

const VFS_CAP_REVISION_MASK = 0xff000000;
const VFS_CAP_FLAGS_EFFECTIVE = 0x1;
/** Revision -> size of `struct vfs_cap_data` / `vfs_ns_cap_data` and the 32-bit words it holds. */
const VFS_CAP_REVISIONS = new Map([
  [0x01000000, { size: 12, words: 1 }],
  [0x02000000, { size: 20, words: 2 }],
  [0x03000000, { size: 24, words: 2 }],
]);

/**
 * Decodes a `security.capability` value (`get_vfs_caps_from_disk`): `EINVAL` for a bad size or
 * revision (execve fails with it), `undefined` for a revision 3 value whose root id is not 0
 * (it belongs to another user namespace: no file capabilities).
 */
export function parseFileCaps(raw: Uint8Array): FileCaps | undefined | LinuxError {
  if (raw.length < 4) return E.EINVAL;
  const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const magic = v.getUint32(0, true);
  const rev = VFS_CAP_REVISIONS.get((magic & VFS_CAP_REVISION_MASK) >>> 0);
  if (!rev || raw.length !== rev.size) return E.EINVAL;
  if (rev.size === 24 && v.getUint32(20, true) !== 0) return undefined;
  let permitted = 0n;
  let inheritable = 0n;
  for (let i = 0; i < rev.words; i++) {
    permitted |= BigInt(v.getUint32(4 + 8 * i, true)) << BigInt(32 * i);
    inheritable |= BigInt(v.getUint32(8 + 8 * i, true)) << BigInt(32 * i);
  }
  return {
    permitted: permitted & CAP_FULL_SET,
    inheritable: inheritable & CAP_FULL_SET,
    effective: (magic & VFS_CAP_FLAGS_EFFECTIVE) !== 0,
  };
}

/** What execve needs to know about the program and the task beyond the credentials. */
export interface ExecCapsOptions {
  /** The program's file capabilities (none on a nosuid mount). */
  readonly fileCaps?: FileCaps | undefined;
  /**
   * The program's mode and owner, for its set-user-ID and set-group-ID bits (`bprm_fill_uid`);
   * leave it out on a nosuid mount.
   */
  readonly file?: { readonly mode: number; readonly uid: number; readonly gid: number } | undefined;
  /** PR_SET_NO_NEW_PRIVS: the exec may not change ids or gain permitted capabilities. */
  readonly noNewPrivs?: boolean;
}

const S_ISUID = 0o4000;
const S_ISGID = 0o2000;
const S_IXGRP = 0o010;

/**
 * The credentials after execve (`bprm_fill_uid` and `cap_bprm_creds_from_file`):
 *
 * - a set-user-ID program runs with its owner as effective uid, a set-group-ID one (group
 *   executable) with its group as effective gid, unless no_new_privs;
 * - file capabilities give permitted = (bounding & fP) | (inheritable & fI); a program marked
 *   effective that would not get all of fP fails with `EPERM`;
 * - root (real or effective uid 0, unless SECBIT_NOROOT) gets permitted = bounding | inheritable
 *   and, with effective uid 0, the effective flag (not so for file capabilities with the
 *   effective uid 0 but the real one not);
 * - with no_new_privs an exec that changes ids or gains capabilities gets the real ids back and
 *   nothing beyond the old permitted set;
 * - the ambient set survives unless the program has file capabilities or its set-id bits
 *   changed the effective uid or gid, and is added to permitted; effective = permitted with the
 *   effective flag, else the ambient set.
 *
 * The saved and fs ids take the effective ones, and SECBIT_KEEP_CAPS is cleared. `secure` is
 * AT_SECURE: effective ids that differ from the real ones (or were changed by the exec), or a
 * non-root caller that gained capabilities.
 */
export function execCredentials(
  c: Credentials,
  options: ExecCapsOptions = {},
): { creds: Credentials; secure: boolean } | LinuxError {
  const { fileCaps: fcaps, file, noNewPrivs = false } = options;
  let euid = c.euid;
  let egid = c.egid;
  if (file && !noNewPrivs) {
    if (file.mode & S_ISUID) euid = file.uid;
    if ((file.mode & (S_ISGID | S_IXGRP)) === (S_ISGID | S_IXGRP)) egid = file.gid;
  }
  let permitted = 0n;
  let effective = false;
  if (fcaps) {
    permitted = (c.bounding & fcaps.permitted) | (c.inheritable & fcaps.inheritable);
    effective = fcaps.effective;
    if (effective && (fcaps.permitted & ~permitted) !== 0n) return E.EPERM;
  }
  const suidRoot = euid === 0 && c.uid !== 0;
  if (!(c.securebits & Securebit.SECBIT_NOROOT) && !(fcaps && suidRoot)) {
    if (euid === 0 || c.uid === 0) permitted = c.bounding | c.inheritable;
    if (euid === 0) effective = true;
  }
  // Set-id bits changed the effective ids (not the same as effective != real: a process that
  // only called seteuid keeps its ambient set across exec).
  const idChanged = euid !== c.euid || egid !== c.egid;
  if (noNewPrivs && (idChanged || (permitted & ~c.permitted) !== 0n)) {
    euid = c.uid;
    egid = c.gid;
    permitted &= c.permitted;
  }
  const ambientSet = fcaps || idChanged ? 0n : c.ambient;
  permitted |= ambientSet;
  const creds = immer.produce(c, (d) => {
    d.euid = d.suid = d.fsuid = euid;
    d.egid = d.sgid = d.fsgid = egid;
    d.permitted = permitted;
    d.effective = effective ? permitted : ambientSet;
    d.ambient = ambientSet;
    d.securebits = c.securebits & ~Securebit.SECBIT_KEEP_CAPS;
  });
  const secure =
    idChanged ||
    euid !== c.uid ||
    egid !== c.gid ||
    (c.uid !== 0 && (effective || (permitted & ~ambientSet) !== 0n));
  return { creds, secure };
}
