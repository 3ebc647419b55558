/**
 * Per-thread setup the C library does at start and in pthread_create: arch_prctl (TLS base),
 * set_tid_address, set_robust_list/get_robust_list, and prctl's common options.
 *
 * @module
 */
import { Capability, ArchPrctl, E, Prctl, isError, isValidSignal, type LinuxError } from '@tsvisor/abi';
import { TASK_SIZE, capable, type Task } from '@tsvisor/kernel';
import {
  FULL,
  int,
  partial,
  ptr,
  size,
  type SyscallArgs,
  type SyscallFamily,
  type SyscallResult,
} from './types.js';
import { capPrctl } from './sys-caps.js';

/** `sizeof(struct robust_list_head)`. */
const ROBUST_LIST_HEAD_SIZE = 24;
/** `TASK_COMM_LEN`. */
const TASK_COMM_LEN = 16;

/**
 * implements arch_prctl(2): ARCH_SET_FS/ARCH_SET_GS (`EPERM` for a non-canonical base),
 * ARCH_GET_FS/ARCH_GET_GS, ARCH_GET_CPUID, ARCH_GET_XCOMP_SUPP/PERM; others `EINVAL`.
 */
function archPrctl(t: Task, a: SyscallArgs): SyscallResult {
  const code = int(a[0]);
  const regs = t.regs;
  switch (code) {
    case ArchPrctl.ARCH_SET_FS:
    case ArchPrctl.ARCH_SET_GS:
      if (a[1] >= BigInt(TASK_SIZE)) return E.EPERM;
      regs.set(code === ArchPrctl.ARCH_SET_FS ? 'fs_base' : 'gs_base', a[1]);
      return 0;
    case ArchPrctl.ARCH_GET_FS:
      return t.memory.writeU64(ptr(a[1]), regs.get('fs_base')) ?? 0;
    case ArchPrctl.ARCH_GET_GS:
      return t.memory.writeU64(ptr(a[1]), regs.get('gs_base')) ?? 0;
    case ArchPrctl.ARCH_GET_CPUID:
      return 1;
    case ArchPrctl.ARCH_SET_CPUID:
      // CPUID faulting is a host CPU feature tsvisor does not drive.
      return E.ENODEV;
    case ArchPrctl.ARCH_GET_XCOMP_SUPP:
    case ArchPrctl.ARCH_GET_XCOMP_PERM:
      return t.memory.writeU64(ptr(a[1]), regs.fp.xfeatures) ?? 0;
    default:
      return E.EINVAL;
  }
}

/** implements set_tid_address(2): records the clear-child-tid address; returns the tid. */
function setTidAddress(t: Task, a: SyscallArgs): SyscallResult {
  t.clearChildTid = ptr(a[0]) === TASK_SIZE ? 0 : ptr(a[0]);
  return t.tid;
}

/** implements set_robust_list(2): `EINVAL` unless `len` is the size of the list head. */
function setRobustList(t: Task, a: SyscallArgs): SyscallResult {
  if (size(a[1]) !== ROBUST_LIST_HEAD_SIZE) return E.EINVAL;
  t.robustList = { head: ptr(a[0]), len: ROBUST_LIST_HEAD_SIZE };
  return 0;
}

/** implements get_robust_list(2): `ESRCH` unknown tid, `EPERM` another user's thread. */
function getRobustList(t: Task, a: SyscallArgs): SyscallResult {
  const pid = int(a[0]);
  const who = pid === 0 ? t : t.kernel.task(pid);
  if (!who) return E.ESRCH;
  if (who.group !== t.group && !capable(t.creds, Capability.CAP_SYS_PTRACE) && who.creds.uid !== t.creds.euid)
    return E.EPERM;
  const e = t.memory.writeU64(ptr(a[1]), BigInt(who.robustList.head));
  if (e) return e;
  return t.memory.writeU64(ptr(a[2]), BigInt(ROBUST_LIST_HEAD_SIZE)) ?? 0;
}

/** Reads a new comm: up to 15 bytes, stopping at a NUL. */
function readComm(t: Task, addr: number): string | LinuxError {
  const s = t.memory.readCStringBytes(addr, TASK_COMM_LEN);
  if (!isError(s)) return dec.decode(s);
  if (s !== E.ENAMETOOLONG) return s;
  const raw = t.memory.read(addr, TASK_COMM_LEN - 1);
  return isError(raw) ? raw : dec.decode(raw);
}

/**
 * implements prctl(2) for PR_SET/GET_NAME, PR_SET/GET_PDEATHSIG, PR_SET/GET_DUMPABLE,
 * PR_SET/GET_NO_NEW_PRIVS, PR_SET/GET_CHILD_SUBREAPER, PR_SET/GET_TIMERSLACK, PR_SET/GET_THP_DISABLE,
 * PR_GET_SECCOMP and the capability options (`capPrctl`); other options are `EINVAL`.
 */
function prctl(t: Task, a: SyscallArgs): SyscallResult {
  const op = int(a[0]);
  const g = t.group;
  const zeroFrom = (i: number): boolean => a.slice(i, 5).every((v) => v === 0n);
  switch (op) {
    case Prctl.PR_SET_NAME: {
      const name = readComm(t, ptr(a[1]));
      if (isError(name)) return name;
      t.comm = name;
      return 0;
    }
    case Prctl.PR_GET_NAME: {
      const out = new Uint8Array(TASK_COMM_LEN);
      out.set(enc.encode(t.comm).subarray(0, TASK_COMM_LEN - 1));
      return t.memory.writeExact(ptr(a[1]), out) ?? 0;
    }
    case Prctl.PR_SET_PDEATHSIG: {
      const sig = int(a[1]);
      if (sig !== 0 && !isValidSignal(sig)) return E.EINVAL;
      t.pdeathSignal = sig;
      return 0;
    }
    case Prctl.PR_GET_PDEATHSIG:
      return t.memory.writeI32(ptr(a[1]), t.pdeathSignal) ?? 0;
    case Prctl.PR_GET_DUMPABLE:
      return g.dumpable;
    case Prctl.PR_SET_DUMPABLE:
      if (a[1] !== 0n && a[1] !== 1n) return E.EINVAL;
      g.dumpable = Number(a[1]);
      return 0;
    case Prctl.PR_SET_NO_NEW_PRIVS:
      if (a[1] !== 1n || !zeroFrom(2)) return E.EINVAL;
      t.noNewPrivs = true;
      return 0;
    case Prctl.PR_GET_NO_NEW_PRIVS:
      if (!zeroFrom(1)) return E.EINVAL;
      return t.noNewPrivs ? 1 : 0;
    case Prctl.PR_SET_CHILD_SUBREAPER:
      g.childSubreaper = a[1] !== 0n;
      return 0;
    case Prctl.PR_GET_CHILD_SUBREAPER:
      return t.memory.writeI32(ptr(a[1]), g.childSubreaper ? 1 : 0) ?? 0;
    case Prctl.PR_GET_TIMERSLACK:
      return t.timerSlackNs;
    case Prctl.PR_SET_TIMERSLACK:
      // arg2 is unsigned: 0 restores the default slack (the parent's at clone).
      t.timerSlackNs = a[1] === 0n ? t.defaultTimerSlackNs : Number(BigInt.asUintN(64, a[1]));
      return 0;
    case Prctl.PR_GET_THP_DISABLE:
      if (!zeroFrom(1)) return E.EINVAL;
      return g.thpDisable ? 1 : 0;
    case Prctl.PR_SET_THP_DISABLE:
      if (!zeroFrom(2)) return E.EINVAL;
      g.thpDisable = a[1] !== 0n;
      return 0;
    case Prctl.PR_GET_SECCOMP:
      return 0;
    default:
      return capPrctl(t, op, a) ?? E.EINVAL;
  }
}

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Thread setup syscalls. */
export const threadSyscalls: SyscallFamily = {
  arch_prctl: {
    handler: archPrctl,
    support: partial('no CPUID faulting, no AMX permission requests, no shadow stacks'),
  },
  set_tid_address: { handler: setTidAddress, support: FULL },
  set_robust_list: { handler: setRobustList, support: FULL },
  get_robust_list: { handler: getRobustList, support: FULL },
  prctl: {
    handler: prctl,
    support: partial(
      'names, death signal, dumpable, no_new_privs, capabilities (bounding, ambient, keepcaps, securebits), subreaper, timer slack, THP; others EINVAL',
    ),
  },
};
