/**
 * System V semaphores: semget(2), semop(2), semtimedop(2), semctl(2), over the kernel's
 * {@link SemNamespace}. A semop that must wait sleeps on its set until another process's change
 * lets it complete (the changer performs it), a signal interrupts it (EINTR: semop is never
 * restarted), its timeout passes (EAGAIN) or the set is removed (EIDRM).
 *
 * @module
 */
import { E, isError, timespec, type LinuxError } from '@tsvisor/abi';
import {
  IPC_INFO,
  IPC_RMID,
  IPC_SET,
  IPC_STAT,
  SEMAEM,
  SEMMNI,
  SEMMNS,
  SEMMSL,
  SEMOPM,
  SEMVMX,
  ipcOwnerCheck,
  ipcPermitted,
  ipcSetPerm,
  type SemSet,
  type Sembuf,
  type Task,
} from '@tsvisor/kernel';
import { buffer, checkPermSet, copyOut, emitPerm, ipcNow, readDs } from './sys-sysv-common.js';
import { readStruct } from './user-structs.js';
import { FULL, int, ptr, uint, type SyscallArgs, type SyscallFamily, type SyscallResult } from './types.js';

/** semctl commands beyond the common ones. */
export const GETPID = 11;
export const GETVAL = 12;
export const GETALL = 13;
export const GETNCNT = 14;
export const GETZCNT = 15;
export const SETVAL = 16;
export const SETALL = 17;
export const SEM_STAT = 18;
export const SEM_INFO = 19;
export const SEM_STAT_ANY = 20;
const SEMID_DS_SIZE = 104;
const SEMBUF_SIZE = 6;
const SEMUSZ = 20;
const NS = 1_000_000_000n;

/** implements semget(2): `EINVAL` for nsems outside 0..SEMMSL (0 only to look a set up). */
function semget(t: Task, a: SyscallArgs): SyscallResult {
  return t.kernel.ipc.sem.get(int(a[0]), int(a[1]), int(a[2]), t.creds, ipcNow(t));
}

/** Reads and checks the operations, in Linux's order up to the lookup. */
function readSops(t: Task, addr: number, nsops: number): Sembuf[] | LinuxError {
  const raw = t.memory.read(addr, nsops * SEMBUF_SIZE);
  if (isError(raw)) return raw;
  const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const sops: Sembuf[] = [];
  for (let i = 0; i < nsops; i++) {
    const o = i * SEMBUF_SIZE;
    sops.push({ num: dv.getUint16(o, true), op: dv.getInt16(o + 2, true), flg: dv.getInt16(o + 4, true) });
  }
  return sops;
}

/** `do_semtimedop()`; `timeoutAddr` 0 means no timeout. */
async function semtimedopImpl(
  t: Task,
  semid: number,
  sopsAddr: number,
  nsops: number,
  timeoutAddr: number,
): Promise<SyscallResult> {
  if (nsops < 1 || semid < 0) return E.EINVAL;
  if (nsops > SEMOPM) return E.E2BIG;
  const sops = readSops(t, sopsAddr, nsops);
  if (isError(sops)) return sops;
  let deadline: bigint | undefined;
  if (timeoutAddr !== 0) {
    const ts = readStruct(t, timeoutAddr, timespec);
    if (isError(ts)) return ts;
    if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= 1e9) return E.EINVAL;
    deadline = t.kernel.time.monotonicNs() + BigInt(ts.tv_sec) * NS + BigInt(ts.tv_nsec);
  }
  const max = Math.max(...sops.map((s) => s.num));
  const alter = sops.some((s) => s.op !== 0);
  const ns = t.kernel.ipc.sem;
  const set = ns.ids.find(semid);
  if (isError(set)) return set;
  if (max >= set.nsems) return E.EFBIG;
  if (!ipcPermitted(set, t.creds, alter ? 0o222 : 0o444)) return E.EACCES;
  for (;;) {
    const r = ns.semop(set, sops, t.tgid, t.group, ipcNow(t));
    if (r === 0 || isError(r)) return r;
    if (deadline !== undefined) r.waiter.setDeadline(t.kernel.time, deadline);
    const why = await t.block(r.waiter);
    const done = r.finish();
    if (done !== undefined) return done;
    if (why === 'timeout') return E.EAGAIN;
    if (why === 'interrupted') return E.EINTR;
  }
}

/** implements semop(2). */
function semop(t: Task, a: SyscallArgs): Promise<SyscallResult> {
  return semtimedopImpl(t, int(a[0]), ptr(a[1]), uint(a[2]), 0);
}

/** implements semtimedop(2): a relative timeout; EAGAIN when it passes. */
function semtimedop(t: Task, a: SyscallArgs): Promise<SyscallResult> {
  return semtimedopImpl(t, int(a[0]), ptr(a[1]), uint(a[2]), ptr(a[3]));
}

function emitSemidDs(set: SemSet): Uint8Array {
  const { bytes, dv } = buffer(SEMID_DS_SIZE);
  emitPerm(dv, set);
  dv.setBigInt64(48, BigInt(set.otime), true);
  dv.setBigInt64(64, BigInt(set.ctime), true);
  dv.setBigUint64(80, BigInt(set.nsems), true);
  return bytes;
}

/**
 * implements semctl(2): GETVAL, GETPID, GETNCNT, GETZCNT, GETALL, SETVAL, SETALL, IPC_STAT,
 * SEM_STAT, SEM_STAT_ANY, IPC_SET, IPC_RMID, IPC_INFO, SEM_INFO; `EINVAL` for a negative id or
 * an unknown command. The fourth argument is the `union semun` passed by value.
 */
function semctl(t: Task, a: SyscallArgs): SyscallResult {
  const semid = int(a[0]);
  const semnum = int(a[1]);
  const cmd = int(a[2]);
  const arg = a[3];
  const ns = t.kernel.ipc.sem;
  if (semid < 0) return E.EINVAL;
  switch (cmd) {
    case IPC_INFO:
    case SEM_INFO: {
      const { bytes, dv } = buffer(40);
      const info = cmd === SEM_INFO;
      [SEMMNS, SEMMNI, SEMMNS, SEMMNS, SEMMSL, SEMOPM, SEMOPM].forEach((v, i) => dv.setInt32(i * 4, v, true));
      dv.setInt32(28, info ? ns.ids.inUse : SEMUSZ, true);
      dv.setInt32(32, SEMVMX, true);
      dv.setInt32(36, info ? ns.usedSems : SEMAEM, true);
      return copyOut(t, ptr(arg), bytes) ?? Math.max(0, ns.ids.maxIndex());
    }
    case IPC_STAT:
    case SEM_STAT:
    case SEM_STAT_ANY: {
      const set = cmd === IPC_STAT ? ns.ids.find(semid) : ns.ids.atIndex(semid);
      if (isError(set)) return set;
      if (cmd !== SEM_STAT_ANY && !ipcPermitted(set, t.creds, 0o444)) return E.EACCES;
      return copyOut(t, ptr(arg), emitSemidDs(set)) ?? (cmd === IPC_STAT ? 0 : set.id);
    }
    case SETVAL: {
      const val = int(arg);
      if (val < 0 || val > SEMVMX) return E.ERANGE;
      const set = ns.ids.find(semid);
      if (isError(set)) return set;
      if (semnum < 0 || semnum >= set.nsems) return E.EINVAL;
      if (!ipcPermitted(set, t.creds, 0o222)) return E.EACCES;
      return ns.setVal(set, semnum, val, t.tgid, ipcNow(t));
    }
    case GETVAL:
    case GETPID:
    case GETNCNT:
    case GETZCNT:
    case GETALL:
    case SETALL: {
      const set = ns.ids.find(semid);
      if (isError(set)) return set;
      if (!ipcPermitted(set, t.creds, cmd === SETALL ? 0o222 : 0o444)) return E.EACCES;
      if (cmd === GETALL) {
        const { bytes, dv } = buffer(set.nsems * 2);
        set.values.forEach((v, i) => dv.setUint16(i * 2, v, true));
        return copyOut(t, ptr(arg), bytes) ?? 0;
      }
      if (cmd === SETALL) {
        const raw = t.memory.read(ptr(arg), set.nsems * 2);
        if (isError(raw)) return raw;
        const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
        const vals = Array.from({ length: set.nsems }, (_, i) => dv.getUint16(i * 2, true));
        return ns.setAll(set, vals, t.tgid, ipcNow(t));
      }
      if (semnum < 0 || semnum >= set.nsems) return E.EINVAL;
      if (cmd === GETVAL) return set.values[semnum] ?? 0;
      if (cmd === GETPID) return set.pids[semnum] ?? 0;
      return cmd === GETNCNT ? set.ncnt(semnum) : set.zcnt(semnum);
    }
    case IPC_SET: {
      const ds = readDs(t, ptr(arg), SEMID_DS_SIZE);
      if (isError(ds)) return ds;
      const set = ns.ids.find(semid);
      if (isError(set)) return set;
      const denied = ipcOwnerCheck(set, t.creds) ?? checkPermSet(ds.perm);
      if (denied) return denied;
      ipcSetPerm(set, ds.perm.uid, ds.perm.gid, ds.perm.mode);
      set.ctime = ipcNow(t);
      return 0;
    }
    case IPC_RMID: {
      const set = ns.ids.find(semid);
      if (isError(set)) return set;
      const denied = ipcOwnerCheck(set, t.creds);
      if (denied) return denied;
      ns.remove(set);
      return 0;
    }
    default:
      return E.EINVAL;
  }
}

/** System V semaphore syscalls. */
export const sysvSemSyscalls: SyscallFamily = {
  semget: { handler: semget, support: FULL },
  semop: { handler: semop, support: FULL },
  semtimedop: { handler: semtimedop, support: FULL },
  semctl: { handler: semctl, support: FULL },
};
