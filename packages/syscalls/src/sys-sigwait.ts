/**
 * Synchronous signal acceptance and queued signals with data: rt_sigtimedwait(2),
 * rt_sigqueueinfo(2), rt_tgsigqueueinfo(2).
 *
 * @module
 */
import {
  E,
  SIGSET_SIZE,
  SiCode,
  SigSet,
  isError,
  isValidSignal,
  siginfoLayout,
  timespec,
  type LinuxError,
} from '@tsvisor/abi';
import { Waiter, siginfoBytes, watchSignals, type SigInfo, type Task } from '@tsvisor/kernel';
import { readStruct } from './user-structs.js';
import { FULL, int, ptr, size, type SyscallArgs, type SyscallFamily, type SyscallResult } from './types.js';

const NS = 1_000_000_000n;
const ALL = 0xffff_ffff_ffff_ffffn;

/** Takes the first pending signal of `these`: the thread's queue first, then the process's. */
function takeOneOf(t: Task, these: SigSet): SigInfo | undefined {
  const others = SigSet.fromBigInt(~these.toBigInt() & ALL);
  return t.pending.dequeue(others) ?? t.group.sharedPending.dequeue(others);
}

function pendingOneOf(t: Task, these: SigSet): boolean {
  return !t.pending.set.clone().union(t.group.sharedPending.set).intersect(these).isEmpty();
}

function accept(t: Task, info: SigInfo, uinfo: number): SyscallResult {
  if (uinfo !== 0) {
    const e = t.memory.writeExact(uinfo, siginfoBytes(info));
    if (e) return e;
  }
  return info.signo;
}

/**
 * implements rt_sigtimedwait(2): takes a pending signal of the set (thread's, then process's),
 * sleeping until one arrives or the timeout passes (`EAGAIN`); another signal that interrupts
 * gives `EINTR` (never restarted, as Linux). `EINVAL` for a sigsetsize other than 8 or a bad
 * timespec, `EFAULT`. SIGKILL and SIGSTOP cannot be waited for.
 */
function rtSigtimedwait(t: Task, a: SyscallArgs): SyscallResult | Promise<SyscallResult> {
  if (size(a[3]) !== SIGSET_SIZE) return E.EINVAL;
  const raw = t.memory.readU64(ptr(a[0]));
  if (isError(raw)) return raw;
  const these = SigSet.fromBigInt(raw).removeUncatchable();
  let timeout: bigint | undefined;
  if (a[2] !== 0n) {
    const ts = readStruct(t, ptr(a[2]), timespec);
    if (isError(ts)) return ts;
    if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= 1e9) return E.EINVAL;
    timeout = BigInt(ts.tv_sec) * NS + BigInt(ts.tv_nsec);
  }
  const uinfo = a[1] === 0n ? 0 : ptr(a[1]);
  const now = takeOneOf(t, these);
  if (now) return accept(t, now, uinfo);
  if (timeout === 0n) return E.EAGAIN;
  return (async (): Promise<SyscallResult> => {
    const time = t.kernel.time;
    const w = new Waiter(undefined);
    if (timeout !== undefined) w.setDeadline(time, time.monotonicNs() + timeout);
    // The waited-for signals are usually blocked, so no interruption wakes us: watch the queues.
    const unwatch = watchSignals(t.kernel, (g) => {
      if (g === t.group && pendingOneOf(t, these)) w.wake('notified');
    });
    let why;
    try {
      why = await t.block(w);
    } finally {
      unwatch();
    }
    const info = takeOneOf(t, these);
    if (info) return accept(t, info, uinfo);
    return why === 'interrupted' ? E.EINTR : E.EAGAIN;
  })();
}

/** Reads a user `siginfo_t` into the kernel's record, keeping the fields of its layout. */
function readUserSiginfo(t: Task, addr: number, signo: number): SigInfo | LinuxError {
  const raw = t.memory.read(addr, 128);
  if (isError(raw)) return raw;
  const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const errno = v.getInt32(4, true);
  const code = v.getInt32(8, true);
  const head = { signo, code, errno };
  if (!isValidSignal(signo)) return { ...head, pid: v.getInt32(16, true), uid: v.getUint32(20, true) };
  switch (siginfoLayout(signo, code)) {
    case 'timer':
      return {
        ...head,
        timerId: v.getInt32(16, true),
        overrun: v.getInt32(20, true),
        value: v.getBigUint64(24, true),
      };
    case 'chld':
      return {
        ...head,
        pid: v.getInt32(16, true),
        uid: v.getUint32(20, true),
        status: v.getInt32(24, true),
        utime: Number(v.getBigInt64(32, true)),
        stime: Number(v.getBigInt64(40, true)),
      };
    case 'fault':
    case 'fault-mceerr':
    case 'fault-bnderr':
    case 'fault-pkuerr':
    case 'perf':
    case 'sys':
      return { ...head, addr: v.getBigUint64(16, true) };
    default:
      return {
        ...head,
        pid: v.getInt32(16, true),
        uid: v.getUint32(20, true),
        value: v.getBigUint64(24, true),
      };
  }
}

/** Linux's rule: only the kernel may forge kernel codes (>= 0) or SI_TKILL to someone else. */
function forged(t: Task, info: SigInfo, targetTid: number): boolean {
  return (info.code >= 0 || info.code === SiCode.SI_TKILL) && targetTid !== t.tid;
}

/**
 * implements rt_sigqueueinfo(2): queues `sig` with the caller's siginfo to process `tgid`.
 * `EFAULT`; `EPERM` for a kernel si_code (>= 0 or SI_TKILL) sent to another process or for a
 * target kill(2) may not signal; `ESRCH` for no such process; `EINVAL` for a bad signal.
 */
function rtSigqueueinfo(t: Task, a: SyscallArgs): SyscallResult {
  const pid = int(a[0]);
  const sig = int(a[1]);
  const info = readUserSiginfo(t, ptr(a[2]), sig);
  if (isError(info)) return info;
  if (forged(t, info, pid)) return E.EPERM;
  const g = pid > 0 ? t.kernel.threadGroup(pid) : undefined;
  if (!g || g.state === 'reaped') return E.ESRCH;
  if (sig !== 0 && !isValidSignal(sig)) return E.EINVAL;
  if (!t.kernel.maySignal(t, g, sig)) return E.EPERM;
  if (sig !== 0 && g.state === 'alive') t.kernel.sendToGroup(g, info);
  return 0;
}

/**
 * implements rt_tgsigqueueinfo(2): as rt_sigqueueinfo for thread `tid` of process `tgid`;
 * `EINVAL` for ids that are not positive.
 */
function rtTgsigqueueinfo(t: Task, a: SyscallArgs): SyscallResult {
  const tgid = int(a[0]);
  const tid = int(a[1]);
  const sig = int(a[2]);
  if (tgid <= 0 || tid <= 0) return E.EINVAL;
  const info = readUserSiginfo(t, ptr(a[3]), sig);
  if (isError(info)) return info;
  if (forged(t, info, tid)) return E.EPERM;
  const target = t.kernel.task(tid);
  if (!target || target.state !== 'alive' || target.tgid !== tgid) return E.ESRCH;
  if (sig !== 0 && !isValidSignal(sig)) return E.EINVAL;
  if (!t.kernel.maySignal(t, target.group, sig)) return E.EPERM;
  if (sig !== 0) t.kernel.sendToTask(target, info);
  return 0;
}

/** rt_sigtimedwait and the sigqueue calls. */
export const sigwaitSyscalls: SyscallFamily = {
  rt_sigtimedwait: { handler: rtSigtimedwait, support: FULL },
  rt_sigqueueinfo: { handler: rtSigqueueinfo, support: FULL },
  rt_tgsigqueueinfo: { handler: rtTgsigqueueinfo, support: FULL },
};
