/**
 * timerfd_create(2), timerfd_settime(2), timerfd_gettime(2): a timer whose expirations are read
 * from a file as an 8-byte count, so event loops (systemd, libevent, tokio, Node's own libuv on
 * some paths) can wait for it with poll or epoll.
 *
 * The count is kept the way Linux's timerfd keeps it: every period that has passed since the
 * last read counts, even if the host ran the timer late. tsvisor's clocks cannot be set, so
 * TFD_TIMER_CANCEL_ON_SET is accepted and never cancels.
 *
 * @module
 */
import { Capability, ClockId, E, OpenFlag, Tfd, isError, type LinuxError } from '@tsvisor/abi';
import { ExpiringTimer, capable, type Task, type TimeSource } from '@tsvisor/kernel';
import {
  FileDescription,
  FileDescriptionImpl,
  WOULD_BLOCK,
  WaitQueue,
  anonInode,
  type WouldBlock,
} from '@tsvisor/vfs';
import { monotonicDeadline, readTimerSetting, writeTimerSetting } from './timer-spec.js';
import { fileAt, filesOf, nofile, vfsCreds } from './vfs-context.js';
import { FULL, int, ptr, type SyscallArgs, type SyscallFamily, type SyscallResult } from './types.js';

const POLLIN = 0x1;

/** The timer behind a timerfd. */
export class TimerfdImpl extends FileDescriptionImpl {
  private readonly queue = new WaitQueue();
  private readonly timer: ExpiringTimer;
  private ticks = 0n;
  /** The flags of the last timerfd_settime (fdinfo's `settime flags`). */
  private settimeFlags = 0;

  constructor(
    time: TimeSource,
    /** The clock given to timerfd_create. */
    readonly clockId: number,
  ) {
    super();
    this.timer = new ExpiringTimer(time, (n) => {
      this.ticks += n;
      this.queue.notify(POLLIN);
    });
  }

  /** Arms (monotonic `deadline`) or disarms (undefined); pending expirations are forgotten. */
  arm(deadline: bigint | undefined, interval: bigint, flags = 0): void {
    this.ticks = 0n;
    this.settimeFlags = flags;
    this.timer.arm(deadline, interval);
  }

  /** The time to the next expiration and the interval, in ns (0, 0 when disarmed). */
  setting(): { value: bigint; interval: bigint } {
    const value = this.timer.remaining();
    return { value, interval: this.timer.armed ? this.timer.intervalNs : 0n };
  }

  /** The expirations not yet read. */
  get pendingTicks(): bigint {
    this.timer.settleAndReport();
    return this.ticks;
  }

  /** The lines /proc/<pid>/fdinfo/<fd> shows after the common ones, as Linux's timerfd_show. */
  fdinfo(): readonly string[] {
    const { value, interval } = this.setting();
    const ts = (ns: bigint): string => `(${ns / 1_000_000_000n}, ${ns % 1_000_000_000n})`;
    return [
      `clockid: ${this.clockId}`,
      `ticks: ${this.pendingTicks}`,
      `settime flags: 0${this.settimeFlags.toString(8)}`,
      `it_value: ${ts(value)}`,
      `it_interval: ${ts(interval)}`,
    ];
  }

  override read(dst: Uint8Array): number | LinuxError | WouldBlock {
    if (dst.length < 8) return E.EINVAL;
    this.timer.settleAndReport();
    if (this.ticks === 0n) return WOULD_BLOCK;
    new DataView(dst.buffer, dst.byteOffset, 8).setBigUint64(0, this.ticks, true);
    this.ticks = 0n;
    return 8;
  }

  override readiness(mask: number): number {
    return (this.pendingTicks > 0n ? POLLIN : 0) & mask;
  }

  override get waitQueue(): WaitQueue {
    return this.queue;
  }

  override get stream(): boolean {
    return true;
  }

  override release(): void {
    this.timer.disarm();
  }
}

const CREATE_FLAGS = Tfd.TFD_CLOEXEC | Tfd.TFD_NONBLOCK;
const SETTIME_FLAGS = Tfd.TFD_TIMER_ABSTIME | Tfd.TFD_TIMER_CANCEL_ON_SET;

/**
 * implements timerfd_create(2): CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME and their
 * _ALARM variants (`EPERM` without CAP_WAKE_ALARM); `EINVAL` for other clocks or flags.
 */
function timerfdCreate(t: Task, a: SyscallArgs): SyscallResult {
  const clockId = int(a[0]);
  const flags = int(a[1]);
  const alarm = clockId === ClockId.CLOCK_REALTIME_ALARM || clockId === ClockId.CLOCK_BOOTTIME_ALARM;
  const known =
    alarm ||
    clockId === ClockId.CLOCK_REALTIME ||
    clockId === ClockId.CLOCK_MONOTONIC ||
    clockId === ClockId.CLOCK_BOOTTIME;
  if (flags & ~CREATE_FLAGS || !known) return E.EINVAL;
  if (alarm && !capable(t.creds, Capability.CAP_WAKE_ALARM)) return E.EPERM;
  const file = new FileDescription(
    new TimerfdImpl(t.kernel.time, clockId),
    anonInode('[timerfd]'),
    OpenFlag.O_RDWR | (flags & Tfd.TFD_NONBLOCK ? OpenFlag.O_NONBLOCK : 0),
    vfsCreds(t),
  );
  const fd = filesOf(t).install(file, { limit: nofile(t), cloexec: (flags & Tfd.TFD_CLOEXEC) !== 0 });
  if (isError(fd)) file.release();
  return fd;
}

/** The timerfd at `fd`: `EBADF`, or `EINVAL` for another kind of file. */
function timerfdAt(t: Task, fd: number): TimerfdImpl | LinuxError {
  const f = fileAt(t, fd);
  if (isError(f)) return f;
  return f.impl instanceof TimerfdImpl ? f.impl : E.EINVAL;
}

/**
 * implements timerfd_settime(2): `EFAULT`, `EINVAL` for bad flags or an unnormalized value
 * (checked before the fd, as Linux), `EBADF`, `EINVAL` for a file that is not a timerfd.
 */
function timerfdSettime(t: Task, a: SyscallArgs): SyscallResult {
  const setting = readTimerSetting(t, ptr(a[2]));
  if (setting === E.EFAULT) return setting;
  const flags = int(a[1]);
  if (flags & ~SETTIME_FLAGS || isError(setting)) return E.EINVAL;
  const tfd = timerfdAt(t, int(a[0]));
  if (isError(tfd)) return tfd;
  const old = tfd.setting();
  const abs = (flags & Tfd.TFD_TIMER_ABSTIME) !== 0;
  tfd.arm(monotonicDeadline(t, tfd.clockId, setting.value, abs), setting.interval, flags);
  if (a[3] !== 0n) return writeTimerSetting(t, ptr(a[3]), old) ?? 0;
  return 0;
}

/** implements timerfd_gettime(2): the time left and the interval; `EBADF`, `EINVAL`, `EFAULT`. */
function timerfdGettime(t: Task, a: SyscallArgs): SyscallResult {
  const tfd = timerfdAt(t, int(a[0]));
  if (isError(tfd)) return tfd;
  return writeTimerSetting(t, ptr(a[1]), tfd.setting()) ?? 0;
}

/** timerfd syscalls. */
export const timerfdSyscalls: SyscallFamily = {
  timerfd_create: { handler: timerfdCreate, support: FULL },
  timerfd_settime: { handler: timerfdSettime, support: FULL },
  timerfd_gettime: { handler: timerfdGettime, support: FULL },
};
