/**
 * What timerfd(2) and POSIX timers share: reading and writing `struct itimerspec`, and turning a
 * setting on a clock into a monotonic deadline (the sandbox's clocks are all the monotonic clock
 * plus a fixed offset, since tsvisor never lets a program set the time).
 *
 * @module
 */
import { ClockId, E, isError, itimerspec, type LinuxError } from '@tsvisor/abi';
import { CpuClock, type Task, type TimeSource } from '@tsvisor/kernel';
import { readStruct, writeStruct } from './user-structs.js';

const NS = 1_000_000_000n;

/** An itimerspec in nanoseconds. */
export interface TimerSetting {
  readonly value: bigint;
  readonly interval: bigint;
}

/** Reads a `struct itimerspec`: `EFAULT`, or `EINVAL` for a negative or unnormalized field. */
export function readTimerSetting(t: Task, addr: number): TimerSetting | LinuxError {
  const v = readStruct(t, addr, itimerspec);
  if (isError(v)) return v;
  for (const ts of [v.it_value, v.it_interval])
    if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= 1e9) return E.EINVAL;
  const ns = (ts: { tv_sec: number; tv_nsec: number }): bigint => BigInt(ts.tv_sec) * NS + BigInt(ts.tv_nsec);
  return { value: ns(v.it_value), interval: ns(v.it_interval) };
}

/** Writes a `struct itimerspec` (`EFAULT`). */
export function writeTimerSetting(t: Task, addr: number, s: TimerSetting): LinuxError | undefined {
  const ts = (ns: bigint): { tv_sec: number; tv_nsec: number } => ({
    tv_sec: Number(ns / NS),
    tv_nsec: Number(ns % NS),
  });
  return writeStruct(t, addr, itimerspec, { it_interval: ts(s.interval), it_value: ts(s.value) });
}

/** True for the clocks whose absolute times are wall-clock times. */
function realtimeClock(clockId: number): boolean {
  return (
    clockId === ClockId.CLOCK_REALTIME ||
    clockId === ClockId.CLOCK_REALTIME_ALARM ||
    clockId === ClockId.CLOCK_TAI
  );
}

/**
 * The monotonic deadline of `value` on `clockId`: relative to now, or (`absolute`) a time of
 * that clock. `value` 0 means disarm (undefined). A time already past stays in the past: the
 * timer expires at once and a periodic one counts every period since then, as Linux's does.
 */
export function monotonicDeadline(
  t: Task,
  clockId: number,
  value: bigint,
  absolute: boolean,
): bigint | undefined {
  if (value === 0n) return undefined;
  const time = t.kernel.time;
  const mono = time.monotonicNs();
  if (!absolute) return mono + value;
  return realtimeClock(clockId) ? value - (time.realtimeNs() - mono) : value;
}

/**
 * The CPU-time clock `id` names (CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID, or a
 * clock_getcpuclockid/pthread_getcpuclockid id `(~pid << 3) | type`, bit 2 for a thread), or
 * undefined when `id` is not a CPU clock the caller may use. Its timers are checked at the
 * syscalls of the process whose CPU time it reads (that is when the runtime samples it).
 */
export function cpuClockOf(t: Task, id: number): TimeSource | undefined {
  if (id === ClockId.CLOCK_PROCESS_CPUTIME_ID || id === ClockId.CLOCK_THREAD_CPUTIME_ID)
    id = id === 2 ? -6 : -2;
  if (id >= 0 || (id & 3) === 3) return undefined;
  const userOnly = (id & 3) === 1;
  const pid = ~(id >> 3);
  if (id & 4) {
    const task = pid === 0 ? t : t.kernel.task(pid);
    if (!task || task.group !== t.group) return undefined;
    return new CpuClock(task.group, () => task.cpu.userNs + (userOnly ? 0n : task.cpu.sysNs));
  }
  const g = pid === 0 ? t.group : t.kernel.threadGroup(pid);
  if (!g || g.state !== 'alive' || (g.tgid !== pid && pid !== 0)) return undefined;
  return new CpuClock(g, () => {
    const c = g.cpuTimes();
    return c.userNs + (userOnly ? 0n : c.sysNs);
  });
}
