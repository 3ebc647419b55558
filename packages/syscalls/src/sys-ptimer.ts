/**
 * POSIX per-process timers: timer_create(2), timer_settime(2), timer_gettime(2),
 * timer_getoverrun(2), timer_delete(2). The timers themselves (expiry, signal queueing,
 * overrun counting) are the kernel's `PosixTimer`; this file parses and checks arguments.
 *
 * glibc's SIGEV_THREAD is built in user space on SIGEV_THREAD_ID, so it needs nothing here.
 *
 * @module
 */
import { ClockId, E, Sigev, Signal, TimerFlag, isError } from '@tsvisor/abi';
import { posixTimersOf, type PosixTimer, type Task, type TimerNotify } from '@tsvisor/kernel';
import { readClock } from './sys-time.js';
import { cpuClockOf, monotonicDeadline, readTimerSetting, writeTimerSetting } from './timer-spec.js';
import {
  FULL,
  int,
  partial,
  ptr,
  type SyscallArgs,
  type SyscallFamily,
  type SyscallResult,
} from './types.js';

/** The clocks with timers that expire on the sandbox's monotonic base. */
const TIMER_CLOCKS: ReadonlySet<number> = new Set([
  ClockId.CLOCK_REALTIME,
  ClockId.CLOCK_MONOTONIC,
  ClockId.CLOCK_BOOTTIME,
  ClockId.CLOCK_TAI,
]);

/** Reads `struct sigevent` (64 bytes) and checks it as Linux's good_sigevent. */
function readSigevent(t: Task, addr: number): TimerNotify | 'efault' | 'einval' {
  const raw = t.memory.read(addr, 64);
  if (isError(raw)) return 'efault';
  const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const value = v.getBigUint64(0, true);
  const signo = v.getInt32(8, true);
  const notify = v.getInt32(12, true);
  const tid = v.getInt32(16, true);
  const goodSigno = signo > 0 && signo <= 64;
  switch (notify) {
    case Sigev.SIGEV_NONE:
      return { kind: 'none' };
    // The kernel treats SIGEV_THREAD like SIGEV_SIGNAL (glibc never passes it down).
    case Sigev.SIGEV_SIGNAL:
    case Sigev.SIGEV_THREAD:
      return goodSigno ? { kind: 'signal', signo, value } : 'einval';
    case Sigev.SIGEV_THREAD_ID: {
      const task = t.kernel.task(tid);
      if (!task || task.state !== 'alive' || task.group !== t.group || !goodSigno) return 'einval';
      return { kind: 'thread', signo, value, task };
    }
    default:
      return 'einval';
  }
}

/**
 * implements timer_create(2) on CLOCK_REALTIME, MONOTONIC, BOOTTIME, TAI and the CPU-time
 * clocks. `EINVAL` for an unknown clock or a bad sigevent; raw, coarse and _ALARM clocks answer
 * `EOPNOTSUPP` (as Linux on a machine without a wake-up RTC). A NULL sigevent means SIGALRM with
 * the timer id as its value.
 */
function timerCreate(t: Task, a: SyscallArgs): SyscallResult {
  const clockId = int(a[0]);
  const cpu = cpuClockOf(t, clockId);
  if (!cpu) {
    // Negative ids of type 3 are fd clocks (no timers: EOPNOTSUPP); other bad CPU clocks EINVAL.
    if (clockId < 0) return (clockId & 3) === 3 ? E.EOPNOTSUPP : E.EINVAL;
    if (isError(readClock(t, clockId))) return E.EINVAL;
    // The _ALARM clocks need a wake-up RTC, which a sandbox does not have: Linux without one
    // answers EOPNOTSUPP too. Raw and coarse clocks have no timers.
    if (!TIMER_CLOCKS.has(clockId)) return E.EOPNOTSUPP;
  }
  let notify: TimerNotify | undefined;
  if (a[1] !== 0n) {
    const ev = readSigevent(t, ptr(a[1]));
    if (ev === 'efault') return E.EFAULT;
    if (ev === 'einval') return E.EINVAL;
    notify = ev;
  }
  const table = posixTimersOf(t.group);
  const timer = table.create(
    t.kernel,
    t.group,
    clockId,
    notify ?? ((id) => ({ kind: 'signal', signo: Signal.SIGALRM, value: BigInt(id) })),
    cpu,
  );
  const e = t.memory.writeI32(ptr(a[2]), timer.id);
  if (e) {
    table.delete(timer.id);
    return e;
  }
  return 0;
}

/** The caller's timer `id`, or `EINVAL`. */
function timerAt(t: Task, id: number): PosixTimer | typeof E.EINVAL {
  return posixTimersOf(t.group).get(id) ?? E.EINVAL;
}

function settingOf(timer: PosixTimer): { value: bigint; interval: bigint } {
  const value = timer.timer.remaining();
  return { value, interval: timer.timer.armed ? timer.timer.intervalNs : 0n };
}

/**
 * implements timer_settime(2): `EINVAL` for a NULL or unnormalized setting or an unknown timer,
 * `EFAULT`. TIMER_ABSTIME takes `it_value` as a time of the timer's clock.
 */
function timerSettime(t: Task, a: SyscallArgs): SyscallResult {
  if (a[2] === 0n) return E.EINVAL;
  const setting = readTimerSetting(t, ptr(a[2]));
  if (isError(setting)) return setting;
  const timer = timerAt(t, int(a[0]));
  if (isError(timer)) return timer;
  const old = settingOf(timer);
  const abs = (int(a[1]) & TimerFlag.TIMER_ABSTIME) !== 0;
  const cpu = timer.clock !== t.kernel.time;
  // A CPU clock's deadlines are times of that clock; the others' are monotonic.
  const deadline = !cpu
    ? monotonicDeadline(t, timer.clockId, setting.value, abs)
    : setting.value === 0n
      ? undefined
      : (abs ? 0n : timer.clock.monotonicNs()) + setting.value;
  timer.arm(deadline, setting.interval);
  if (a[3] !== 0n) return writeTimerSetting(t, ptr(a[3]), old) ?? 0;
  return 0;
}

/** implements timer_gettime(2): time to the next expiration and the interval; `EINVAL`, `EFAULT`. */
function timerGettime(t: Task, a: SyscallArgs): SyscallResult {
  const timer = timerAt(t, int(a[0]));
  if (isError(timer)) return timer;
  return writeTimerSetting(t, ptr(a[1]), settingOf(timer)) ?? 0;
}

/** implements timer_getoverrun(2): the overrun count of the timer's last delivered signal. */
function timerGetoverrun(t: Task, a: SyscallArgs): SyscallResult {
  const timer = timerAt(t, int(a[0]));
  return isError(timer) ? timer : timer.overrunLast;
}

/** implements timer_delete(2): `EINVAL` for an unknown timer. */
function timerDelete(t: Task, a: SyscallArgs): SyscallResult {
  return posixTimersOf(t.group).delete(int(a[0])) ? 0 : E.EINVAL;
}

const CPU_NOTE =
  'timers on CPU-time clocks fire at the first syscall of the measured process after their time is used';

/** POSIX timer syscalls. */
export const posixTimerSyscalls: SyscallFamily = {
  timer_create: { handler: timerCreate, support: partial(CPU_NOTE) },
  timer_settime: { handler: timerSettime, support: FULL },
  timer_gettime: { handler: timerGettime, support: FULL },
  timer_getoverrun: { handler: timerGetoverrun, support: FULL },
  timer_delete: { handler: timerDelete, support: FULL },
};
