/**
 * signalfd(2) and signalfd4(2): blocked signals read from a file as `struct signalfd_siginfo`
 * records, so an event loop can wait for them with poll or epoll instead of running handlers.
 *
 * As in Linux, what a signalfd reports depends on who asks: a read dequeues from the reading
 * thread's pending signals, then its process's; readiness looks at the same two queues.
 *
 * @module
 */
import { E, OpenFlag, SIGSET_SIZE, Sfd, SigSet, isError, siginfoLayout, type LinuxError } from '@tsvisor/abi';
import { watchSignals, type SigInfo, type Task } from '@tsvisor/kernel';
import {
  FileDescription,
  FileDescriptionImpl,
  WOULD_BLOCK,
  WaitQueue,
  anonInode,
  type WouldBlock,
} from '@tsvisor/vfs';
import { fileAt, filesOf, nofile, vfsCreds } from './vfs-context.js';
import { FULL, int, ptr, size, type SyscallArgs, type SyscallFamily, type SyscallResult } from './types.js';

const POLLIN = 0x1;
/** sizeof(struct signalfd_siginfo). */
export const SIGNALFD_SIGINFO_SIZE = 128;

/**
 * Encodes one signal as `struct signalfd_siginfo`, filling the fields Linux's
 * signalfd_copyinfo fills for the signal's siginfo layout.
 */
export function signalfdSiginfo(info: SigInfo): Uint8Array {
  const out = new Uint8Array(SIGNALFD_SIGINFO_SIZE);
  const v = new DataView(out.buffer);
  v.setUint32(0, info.signo, true);
  v.setInt32(4, info.errno ?? 0, true);
  v.setInt32(8, info.code, true);
  const pidUid = (): void => {
    v.setUint32(12, info.pid ?? 0, true);
    v.setUint32(16, info.uid ?? 0, true);
  };
  const value = (): void => {
    const val = info.value ?? 0n;
    v.setInt32(44, Number(BigInt.asIntN(32, val)), true); // ssi_int: sival_int, the low half
    v.setBigUint64(48, BigInt.asUintN(64, val), true); // ssi_ptr
  };
  switch (siginfoLayout(info.signo, info.code)) {
    case 'kill':
      pidUid();
      break;
    case 'timer':
      v.setUint32(24, info.timerId ?? 0, true);
      v.setUint32(32, info.overrun ?? 0, true);
      value();
      break;
    case 'chld':
      pidUid();
      v.setInt32(40, info.status ?? 0, true);
      v.setBigUint64(56, BigInt(info.utime ?? 0), true);
      v.setBigUint64(64, BigInt(info.stime ?? 0), true);
      break;
    case 'sys':
      v.setBigUint64(88, info.addr ?? 0n, true);
      break;
    case 'poll':
      v.setInt32(20, info.fd ?? 0, true); // ssi_fd
      v.setUint32(28, info.band ?? 0, true); // ssi_band
      break;
    case 'fault':
    case 'fault-mceerr':
    case 'fault-bnderr':
    case 'fault-pkuerr':
    case 'perf':
      v.setBigUint64(72, info.addr ?? 0n, true);
      break;
    case 'rt':
      pidUid();
      value();
      break;
  }
  return out;
}

/** The state behind a signalfd: the signals it reports (Linux keeps the complement). */
export class SignalfdImpl extends FileDescriptionImpl {
  private readonly queue = new WaitQueue();
  private readonly unwatch: () => void;
  /** Signals NOT reported (the blocked set handed to dequeue). */
  private notReported: SigSet;

  constructor(
    private readonly creator: Task,
    mask: SigSet,
  ) {
    super();
    this.notReported = SigSet.fromBigInt(~mask.toBigInt() & 0xffff_ffff_ffff_ffffn);
    this.unwatch = watchSignals(creator.kernel, () => this.queue.notify(POLLIN));
  }

  /** Replaces the set of signals reported (signalfd on an existing fd). */
  setMask(mask: SigSet): void {
    this.notReported = SigSet.fromBigInt(~mask.toBigInt() & 0xffff_ffff_ffff_ffffn);
    this.queue.notify(POLLIN);
  }

  /** The signals reported, as a set (for fdinfo's `sigmask`). */
  get mask(): SigSet {
    return SigSet.fromBigInt(~this.notReported.toBigInt() & 0xffff_ffff_ffff_ffffn);
  }

  /** The line /proc/<pid>/fdinfo/<fd> shows after the common ones (the reported signals). */
  fdinfo(): readonly string[] {
    return [`sigmask:\t${this.mask.toBigInt().toString(16).padStart(16, '0')}`];
  }

  private reader(): Task {
    const cur = this.creator.kernel.current;
    return cur && cur.state === 'alive' ? cur : this.creator;
  }

  private take(t: Task): SigInfo | undefined {
    return t.pending.dequeue(this.notReported) ?? t.group.sharedPending.dequeue(this.notReported);
  }

  override read(dst: Uint8Array): number | LinuxError | WouldBlock {
    const n = Math.floor(dst.length / SIGNALFD_SIGINFO_SIZE);
    if (n === 0) return E.EINVAL;
    const t = this.reader();
    let got = 0;
    for (; got < n; got++) {
      const info = this.take(t);
      if (!info) break;
      dst.set(signalfdSiginfo(info), got * SIGNALFD_SIGINFO_SIZE);
    }
    return got === 0 ? WOULD_BLOCK : got * SIGNALFD_SIGINFO_SIZE;
  }

  override readiness(mask: number): number {
    const t = this.reader();
    const pending = t.pending.set.clone().union(t.group.sharedPending.set).subtract(this.notReported);
    return (pending.isEmpty() ? 0 : POLLIN) & mask;
  }

  override get waitQueue(): WaitQueue {
    return this.queue;
  }

  override get stream(): boolean {
    return true;
  }

  override release(): void {
    this.unwatch();
  }
}

function signalfdCommon(
  t: Task,
  fd: number,
  maskAddr: number,
  sizemask: number,
  flags: number,
): SyscallResult {
  if (sizemask !== SIGSET_SIZE) return E.EINVAL;
  const raw = t.memory.readU64(maskAddr);
  if (isError(raw)) return raw;
  if (flags & ~(Sfd.SFD_CLOEXEC | Sfd.SFD_NONBLOCK)) return E.EINVAL;
  const mask = SigSet.fromBigInt(raw).removeUncatchable();
  if (fd !== -1) {
    const f = fileAt(t, fd);
    if (isError(f)) return f;
    if (!(f.impl instanceof SignalfdImpl)) return E.EINVAL;
    f.impl.setMask(mask);
    return fd;
  }
  const file = new FileDescription(
    new SignalfdImpl(t, mask),
    anonInode('[signalfd]'),
    OpenFlag.O_RDWR | (flags & Sfd.SFD_NONBLOCK ? OpenFlag.O_NONBLOCK : 0),
    vfsCreds(t),
  );
  const nfd = filesOf(t).install(file, { limit: nofile(t), cloexec: (flags & Sfd.SFD_CLOEXEC) !== 0 });
  if (isError(nfd)) file.release();
  return nfd;
}

/**
 * implements signalfd4(2): `EINVAL` for a sigsetsize other than 8, unknown flags, or an fd that
 * is not a signalfd; `EFAULT`; `EBADF`. SIGKILL and SIGSTOP are silently left out of the mask.
 */
function signalfd4(t: Task, a: SyscallArgs): SyscallResult {
  return signalfdCommon(t, int(a[0]), ptr(a[1]), size(a[2]), int(a[3]));
}

/** implements signalfd(2): signalfd4 without flags. */
function signalfd(t: Task, a: SyscallArgs): SyscallResult {
  return signalfdCommon(t, int(a[0]), ptr(a[1]), size(a[2]), 0);
}

/** signalfd syscalls. */
export const signalfdSyscalls: SyscallFamily = {
  signalfd4: { handler: signalfd4, support: FULL },
  signalfd: { handler: signalfd, support: FULL },
};
