/**
 * Process life: exit, exit_group, wait4, waitid, process groups and sessions, umask,
 * restart_syscall.
 *
 * @module
 */
import { E, IdType, Signal, WaitOption, isError } from '@tsvisor/abi';
import { TASK_GONE, type Task, type WaitReport, type WaitSelector } from '@tsvisor/kernel';
import { pidfdTarget } from './sys-pidfd.js';
import { writeRusage } from './sys-rlimit.js';
import {
  FULL,
  int,
  partial,
  ptr,
  uint,
  type SyscallArgs,
  type SyscallFamily,
  type SyscallResult,
} from './types.js';

/** implements exit(2): ends the calling thread. */
function exit(t: Task, a: SyscallArgs): SyscallResult {
  t.kernel.exitThread(t, int(a[0]));
  return TASK_GONE;
}

/** implements exit_group(2): ends every thread of the process. */
function exitGroup(t: Task, a: SyscallArgs): SyscallResult {
  t.kernel.exitGroup(t, int(a[0]));
  return TASK_GONE;
}

const WAIT4_OPTIONS =
  WaitOption.WNOHANG |
  WaitOption.WUNTRACED |
  WaitOption.WCONTINUED |
  WaitOption.__WNOTHREAD |
  WaitOption.__WCLONE |
  WaitOption.__WALL;

/**
 * implements wait4(2): `pid` < -1 a process group, -1 any child, 0 the caller's group, > 0 one
 * child. `EINVAL` for unknown options, `ECHILD` with no such children, `ESRCH` for INT_MIN,
 * `EFAULT` for an unwritable status or rusage (the child is reaped anyway, as Linux).
 */
async function wait4(t: Task, a: SyscallArgs): Promise<SyscallResult> {
  const pid = int(a[0]);
  const options = uint(a[2]);
  if ((options & ~(WAIT4_OPTIONS >>> 0)) !== 0) return E.EINVAL;
  if (pid === -0x80000000) return E.ESRCH;
  const sel: WaitSelector =
    pid < -1
      ? { kind: 'pgid', pgid: -pid }
      : pid === -1
        ? { kind: 'any' }
        : pid === 0
          ? { kind: 'pgid', pgid: 0 }
          : { kind: 'pid', pid };
  const r = await t.kernel.waitChild(t, sel, options | WaitOption.WEXITED);
  if (r === 'none') return 0;
  if (!isReport(r)) return r;
  if (a[1] !== 0n) {
    const e = t.memory.writeI32(ptr(a[1]), r.status);
    if (e) return e;
  }
  if (a[3] !== 0n) {
    const e = writeRusage(t, ptr(a[3]), r.times, r.maxRssKib);
    if (e) return e;
  }
  return r.pid;
}

function isReport(r: unknown): r is WaitReport {
  return typeof r === 'object' && r !== null && 'status' in r && 'pid' in r;
}

/**
 * implements waitid(2): P_ALL, P_PID, P_PGID (0 = the caller's group), P_PIDFD. Requires one of WEXITED/WSTOPPED/WCONTINUED. Fills si_signo,
 * si_errno, si_code, si_pid, si_uid and si_status (all 0 under WNOHANG with nothing to report).
 */
async function waitid(t: Task, a: SyscallArgs): Promise<SyscallResult> {
  const idtype = int(a[0]);
  const id = int(a[1]);
  let options = uint(a[3]);
  let forcedNohang = false;
  let sel: WaitSelector;
  switch (idtype) {
    case IdType.P_ALL:
      sel = { kind: 'any' };
      break;
    case IdType.P_PID:
      if (id <= 0) return E.EINVAL;
      sel = { kind: 'pid', pid: id };
      break;
    case IdType.P_PGID:
      if (id < 0) return E.EINVAL;
      sel = { kind: 'pgid', pgid: id };
      break;
    case IdType.P_PIDFD: {
      // pidfd_get_pid: the process the pidfd holds (ECHILD once reaped, as its pid is gone);
      // a nonblocking pidfd makes the wait WNOHANG, and EAGAIN when nothing is ready.
      const target = pidfdTarget(t, id);
      if (isError(target)) return target;
      if (target.group.state === 'reaped') return E.ECHILD;
      sel = { kind: 'pid', pid: target.group.tgid };
      if (target.nonblock && (options & WaitOption.WNOHANG) === 0) {
        options |= WaitOption.WNOHANG;
        forcedNohang = true;
      }
      break;
    }
    default:
      return E.EINVAL;
  }
  const r = await t.kernel.waitChild(t, sel, options);
  if (r !== 'none' && !isReport(r)) return r;
  if (r === 'none' && forcedNohang) return E.EAGAIN;
  if (a[2] !== 0n) {
    const b = new Uint8Array(28);
    const v = new DataView(b.buffer);
    if (r !== 'none') {
      v.setInt32(0, Signal.SIGCHLD, true);
      v.setInt32(8, r.code, true);
      v.setInt32(16, r.pid, true);
      v.setUint32(20, r.uid, true);
      v.setInt32(24, r.siStatus, true);
    }
    const e = t.memory.writeExact(ptr(a[2]), b);
    if (e) return e;
  }
  if (a[4] !== 0n && r !== 'none') {
    const e = writeRusage(t, ptr(a[4]), r.times, r.maxRssKib);
    if (e) return e;
  }
  return 0;
}

/** implements getpgid(2). */
function getpgid(t: Task, a: SyscallArgs): SyscallResult {
  return t.kernel.getpgid(t, int(a[0]));
}

/** implements getpgrp(2). */
function getpgrp(t: Task): SyscallResult {
  return t.group.pgrp.pgid;
}

/** implements setpgid(2). */
function setpgid(t: Task, a: SyscallArgs): SyscallResult {
  return t.kernel.setpgid(t, int(a[0]), int(a[1])) ?? 0;
}

/** implements getsid(2). */
function getsid(t: Task, a: SyscallArgs): SyscallResult {
  return t.kernel.getsid(t, int(a[0]));
}

/** implements setsid(2). */
function setsid(t: Task): SyscallResult {
  return t.kernel.setsid(t);
}

/** implements umask(2): sets the mask to `mask & 0777`, returns the previous one. */
function umask(t: Task, a: SyscallArgs): SyscallResult {
  const old = t.fs.umask;
  t.fs.umask = uint(a[0]) & 0o777;
  return old;
}

/**
 * implements restart_syscall(2): resumes the call interrupted with ERESTART_RESTARTBLOCK
 * (nanosleep and friends, with their original deadline); EINTR when there is nothing to resume.
 */
function restartSyscall(t: Task): SyscallResult | Promise<SyscallResult> {
  const block = t.restartBlock;
  t.restartBlock = undefined;
  if (!block) return E.EINTR;
  return block.resume() as SyscallResult | Promise<SyscallResult>;
}

/** Process syscalls. */
export const processSyscalls: SyscallFamily = {
  exit: { handler: exit, support: FULL },
  exit_group: { handler: exitGroup, support: FULL },
  wait4: {
    handler: wait4,
    support: partial('ru_maxrss and CPU times only in the rusage; __WNOTHREAD is ignored'),
  },
  waitid: { handler: waitid, support: FULL },
  getpgid: { handler: getpgid, support: FULL },
  getpgrp: { handler: getpgrp, support: FULL },
  setpgid: { handler: setpgid, support: FULL },
  getsid: { handler: getsid, support: FULL },
  setsid: { handler: setsid, support: FULL },
  umask: { handler: umask, support: FULL },
  restart_syscall: { handler: restartSyscall, support: FULL },
};
