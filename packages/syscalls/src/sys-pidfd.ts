/**
 * Process file descriptors: pidfd_open, pidfd_send_signal, pidfd_getfd, and the pidfd that
 * waitid(P_PIDFD) takes. A pidfd refers to a thread group (not to its number, so a recycled pid
 * never redirects it); it polls readable once the process has exited and hangs up once it has
 * been reaped, as Linux's pidfd_poll does.
 *
 * @module
 */
import { E, OpenFlag, PollEvent, isError, type LinuxError } from '@tsvisor/abi';
import { Waiter, ptraceCredsMatch, type Task, type ThreadGroup } from '@tsvisor/kernel';
import { FileDescription, FileDescriptionImpl, WaitQueue, anonInode, type WouldBlock } from '@tsvisor/vfs';
import { KernDir } from '@tsvisor/procfs';
import { fileAt, filesOf, nofile, vfsCreds } from './vfs-context.js';
import {
  FULL,
  int,
  partial,
  uint,
  type SyscallArgs,
  type SyscallFamily,
  type SyscallResult,
} from './types.js';

const PIDFD_NONBLOCK = OpenFlag.O_NONBLOCK;

/** The file behind a pidfd. */
export class PidfdImpl extends FileDescriptionImpl {
  private readonly queue = new WaitQueue();

  constructor(readonly group: ThreadGroup) {
    super();
    this.watch();
  }

  /** Re-arms a one-shot kernel waiter on the group's exit events until it has been reaped. */
  private watch(): void {
    if (this.group.state === 'reaped') return;
    const w = new Waiter(undefined);
    this.group.exitEvents.add(w);
    void w.promise.then(() => {
      this.queue.notify(PollEvent.POLLIN | PollEvent.POLLRDNORM | PollEvent.POLLHUP);
      this.watch();
    });
  }

  /** pidfd_poll: POLLIN once every thread has exited, POLLHUP too once the process is reaped. */
  override readiness(mask: number): number {
    const s = this.group.state;
    let ev = 0;
    if (s !== 'alive') ev |= PollEvent.POLLIN | PollEvent.POLLRDNORM;
    if (s === 'reaped') ev |= PollEvent.POLLHUP;
    return ev & (mask | PollEvent.POLLHUP);
  }

  /**
   * The lines /proc/<pid>/fdinfo/<fd> shows after the common ones, as pidfd_show_fdinfo: the
   * process's pid (the sandbox has one pid namespace), -1 once it has been reaped.
   */
  fdinfo(): readonly string[] {
    const nr = this.group.state === 'reaped' ? -1 : this.group.tgid;
    return [`Pid:\t${nr}`, `NSpid:\t${nr}`];
  }

  override get waitQueue(): WaitQueue {
    return this.queue;
  }

  /** A pidfd has no read op: EINVAL. */
  override read(): number | LinuxError | WouldBlock {
    return E.EINVAL;
  }

  /** A pidfd has no write op: EINVAL. */
  override write(): number | LinuxError | WouldBlock {
    return E.EINVAL;
  }
}

/**
 * The process a pidfd refers to and whether it was opened nonblocking (waitid then does not
 * wait); `EBADF` for an fd that is not a pidfd.
 */
export function pidfdTarget(t: Task, fd: number): { group: ThreadGroup; nonblock: boolean } | LinuxError {
  const file = fileAt(t, fd);
  if (isError(file)) return file;
  const nonblock = (file.getFlags() & OpenFlag.O_NONBLOCK) !== 0;
  if (file.impl instanceof PidfdImpl) return { group: file.impl.group, nonblock };
  return E.EBADF;
}

/**
 * pidfd_send_signal's `pidfd_to_pid`: a pidfd, or an fd of a /proc/<tgid> directory (ESRCH once
 * that process is gone).
 */
function signalTarget(t: Task, fd: number): ThreadGroup | LinuxError {
  const file = fileAt(t, fd);
  if (isError(file)) return file;
  if (file.impl instanceof PidfdImpl) return file.impl.group;
  const inode = file.location.inode;
  if (!(inode instanceof KernDir) || inode.node.tgid === undefined) return E.EBADF;
  const g = t.kernel.threadGroup(inode.node.tgid);
  return g && g.state !== 'reaped' ? g : E.ESRCH;
}

/** Installs a new close-on-exec pidfd for `g` in `t`'s fd table (pidfd_open, CLONE_PIDFD). */
export function installPidfd(t: Task, g: ThreadGroup, flags = 0): number | LinuxError {
  const file = new FileDescription(
    new PidfdImpl(g),
    anonInode('[pidfd]'),
    OpenFlag.O_RDWR | (flags & PIDFD_NONBLOCK),
    vfsCreds(t),
  );
  const fd = filesOf(t).install(file, { limit: nofile(t), cloexec: true });
  if (isError(fd)) file.release();
  return fd;
}

/**
 * implements pidfd_open(2): `EINVAL` for unknown flags, a pid <= 0 or a thread that does not
 * lead its group, `ESRCH` for an unknown pid; the new fd is close-on-exec.
 */
function pidfdOpen(t: Task, a: SyscallArgs): SyscallResult {
  const pid = int(a[0]);
  const flags = uint(a[1]);
  if ((flags & ~PIDFD_NONBLOCK) !== 0) return E.EINVAL;
  if (pid <= 0) return E.EINVAL;
  const g = t.kernel.threadGroup(pid);
  if (!g || g.state === 'reaped') return t.kernel.task(pid) ? E.EINVAL : E.ESRCH;
  return installPidfd(t, g, flags);
}

// pidfd_send_signal flags (Linux 6.9): which of the pidfd's tasks the signal goes to.
const PIDFD_SIGNAL_THREAD = 1;
const PIDFD_SIGNAL_THREAD_GROUP = 2;
const PIDFD_SIGNAL_PROCESS_GROUP = 4;

/**
 * implements pidfd_send_signal(2) without a siginfo: `EINVAL` for unknown or several scope
 * flags, `EBADF` for an fd that is not a pidfd, `ESRCH` once the process has been reaped, then
 * kill(2)'s rules for the process (default), its leader thread (PIDFD_SIGNAL_THREAD) or its
 * process group (PIDFD_SIGNAL_PROCESS_GROUP).
 */
function pidfdSendSignal(t: Task, a: SyscallArgs): SyscallResult {
  const flags = uint(a[3]);
  const scopes = PIDFD_SIGNAL_THREAD | PIDFD_SIGNAL_THREAD_GROUP | PIDFD_SIGNAL_PROCESS_GROUP;
  if ((flags & ~scopes) !== 0 || (flags & (flags - 1)) !== 0) return E.EINVAL;
  const g = signalTarget(t, int(a[0]));
  if (isError(g)) return g;
  if (g.state === 'reaped') return E.ESRCH;
  // A caller-made siginfo is not supported (see the support note).
  if (a[2] !== 0n) return E.EINVAL;
  const sig = int(a[1]);
  if (sig < 0 || sig > 64) return E.EINVAL;
  if (flags === PIDFD_SIGNAL_THREAD) return t.kernel.tgkill(t, g.tgid, g.tgid, sig) ?? 0;
  if (flags === PIDFD_SIGNAL_PROCESS_GROUP) return t.kernel.kill(t, -g.pgrp.pgid, sig) ?? 0;
  return t.kernel.kill(t, g.tgid, sig) ?? 0;
}

/** ptrace_may_access(PTRACE_MODE_ATTACH_REALCREDS) as far as tsvisor's credentials go. */
function mayAttach(t: Task, g: ThreadGroup): boolean {
  return t.group === g || ptraceCredsMatch(t.creds, g.creds);
}

/**
 * implements pidfd_getfd(2): duplicates another process's fd into the caller, close-on-exec.
 * `EINVAL` for flags, `EBADF` (not a pidfd, or no such fd in the target), `ESRCH` once the
 * process has exited, `EPERM` without ptrace-attach rights.
 */
function pidfdGetfd(t: Task, a: SyscallArgs): SyscallResult {
  if (uint(a[2]) !== 0) return E.EINVAL;
  const target = pidfdTarget(t, int(a[0]));
  if (isError(target)) return target;
  const g = target.group;
  if (g.state !== 'alive') return E.ESRCH;
  if (!mayAttach(t, g)) return E.EPERM;
  const holder = [...g.tasks].find((x) => x.state === 'alive');
  if (!holder) return E.ESRCH;
  const file = filesOf(holder).file(int(a[1]));
  if (isError(file)) return file;
  return filesOf(t).install(file, { limit: nofile(t), cloexec: true });
}

/** pidfd syscalls. */
export const pidfdSyscalls: SyscallFamily = {
  pidfd_open: { handler: pidfdOpen, support: partial('no PIDFD_THREAD') },
  pidfd_send_signal: {
    handler: pidfdSendSignal,
    support: partial('no caller-supplied siginfo (EINVAL)'),
  },
  pidfd_getfd: { handler: pidfdGetfd, support: FULL },
};
