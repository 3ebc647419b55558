/**
 * Clocks and sleeping: clock_gettime, clock_getres, gettimeofday, time, nanosleep,
 * clock_nanosleep.
 *
 * The sandbox's CLOCK_MONOTONIC is the host's (so timestamps agree with the host's logs);
 * CLOCK_BOOTTIME equals it (a sandbox never suspends on its own). CPU clocks report what the
 * runtime has charged to each task.
 *
 * @module
 */
import { ClockId, E, TimerFlag, isError, timespec, timeval, type LinuxError } from '@tsvisor/abi';
import { ERESTARTNOHAND, ERESTART_RESTARTBLOCK, type Task, type TimeSource } from '@tsvisor/kernel';
import { cpuClockOf } from './timer-spec.js';
import { readStruct, writeStruct } from './user-structs.js';
import {
  FULL,
  int,
  partial,
  ptr,
  type SyscallArgs,
  type SyscallFamily,
  type SyscallResult,
} from './types.js';

const NS = 1_000_000_000n;
/** Resolution of the coarse clocks: one tick of a HZ=250 kernel, as Debian builds them. */
const COARSE_RES_NS = 4_000_000n;

/** Reads a clock by id, in nanoseconds; `EINVAL` for ids Linux rejects. */
export function readClock(t: Task, id: number): bigint | LinuxError {
  const time = t.kernel.time;
  switch (id) {
    case ClockId.CLOCK_REALTIME:
    case ClockId.CLOCK_REALTIME_COARSE:
    case ClockId.CLOCK_REALTIME_ALARM:
    case ClockId.CLOCK_TAI:
      return time.realtimeNs();
    case ClockId.CLOCK_MONOTONIC:
    case ClockId.CLOCK_MONOTONIC_RAW:
    case ClockId.CLOCK_MONOTONIC_COARSE:
    case ClockId.CLOCK_BOOTTIME:
    case ClockId.CLOCK_BOOTTIME_ALARM:
      return time.monotonicNs();
    case ClockId.CLOCK_PROCESS_CPUTIME_ID: {
      const c = t.group.cpuTimes();
      return c.userNs + c.sysNs;
    }
    case ClockId.CLOCK_THREAD_CPUTIME_ID:
      return t.cpu.userNs + t.cpu.sysNs;
  }
  if (id >= 0) return E.EINVAL;
  return cpuClock(t, id);
}

/**
 * A CPU-time clock id of clock_getcpuclockid/pthread_getcpuclockid: `(~pid << 3) | type`, with
 * bit 2 set for a thread. Type 0 PROF (user+sys), 1 VIRT (user), 2 SCHED (user+sys); 3 is invalid.
 */
function cpuClock(t: Task, id: number): bigint | LinuxError {
  const type = id & 3;
  const perThread = (id & 4) !== 0;
  const pid = ~(id >> 3);
  if (type === 3) return E.EINVAL;
  let user: bigint;
  let sys: bigint;
  if (perThread) {
    const task = pid === 0 ? t : t.kernel.task(pid);
    if (!task || task.group !== t.group) return E.EINVAL;
    user = task.cpu.userNs;
    sys = task.cpu.sysNs;
  } else {
    const g = pid === 0 ? t.group : t.kernel.threadGroup(pid);
    if (!g || g.state === 'reaped') return E.EINVAL;
    const c = g.cpuTimes();
    user = c.userNs;
    sys = c.sysNs;
  }
  return type === 1 ? user : user + sys;
}

function toTimespec(ns: bigint): { tv_sec: number; tv_nsec: number } {
  return { tv_sec: Number(ns / NS), tv_nsec: Number(ns % NS) };
}

/** implements clock_gettime(2). */
function clockGettime(t: Task, a: SyscallArgs): SyscallResult {
  const now = readClock(t, int(a[0]));
  if (isError(now)) return now;
  return writeStruct(t, ptr(a[1]), timespec, toTimespec(now)) ?? 0;
}

/** implements clock_getres(2): 1 ns for high-resolution clocks, a tick for the coarse ones. */
function clockGetres(t: Task, a: SyscallArgs): SyscallResult {
  const id = int(a[0]);
  const ok = readClock(t, id);
  if (isError(ok)) return ok;
  if (a[1] === 0n) return 0;
  const coarse = id === ClockId.CLOCK_REALTIME_COARSE || id === ClockId.CLOCK_MONOTONIC_COARSE;
  return writeStruct(t, ptr(a[1]), timespec, toTimespec(coarse ? COARSE_RES_NS : 1n)) ?? 0;
}

/** implements gettimeofday(2): either pointer may be NULL; the timezone is always UTC. */
function gettimeofday(t: Task, a: SyscallArgs): SyscallResult {
  if (a[0] !== 0n) {
    const now = t.kernel.time.realtimeNs();
    const e = writeStruct(t, ptr(a[0]), timeval, {
      tv_sec: Number(now / NS),
      tv_usec: Number((now % NS) / 1000n),
    });
    if (e) return e;
  }
  if (a[1] !== 0n) {
    const z = new Uint8Array(8);
    const e = t.memory.writeExact(ptr(a[1]), z);
    if (e) return e;
  }
  return 0;
}

/** implements time(2): the seconds since the epoch, also stored at `tloc` unless NULL. */
function time(t: Task, a: SyscallArgs): SyscallResult {
  const sec = t.kernel.time.realtimeNs() / NS;
  if (a[0] !== 0n) {
    const e = t.memory.writeU64(ptr(a[0]), sec);
    if (e) return e;
  }
  return sec;
}

/** Reads a sleep request: `EFAULT`, or `EINVAL` for a negative or unnormalized timespec. */
function readRequest(t: Task, addr: number): bigint | LinuxError {
  const ts = readStruct(t, addr, timespec);
  if (isError(ts)) return ts;
  if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= 1e9) return E.EINVAL;
  return BigInt(ts.tv_sec) * NS + BigInt(ts.tv_nsec);
}

/**
 * Sleeps until the monotonic `deadline` (or a deadline of the CPU-time clock `time`).
 * Interrupted: writes the remaining time to `rem` (unless 0) and returns ERESTART_RESTARTBLOCK
 * with a restart block that sleeps to the same deadline (so restart_syscall keeps the original
 * wake-up time, as Linux does).
 */
async function sleepUntil(
  t: Task,
  deadline: bigint,
  rem: number,
  time: TimeSource = t.kernel.time,
): Promise<SyscallResult> {
  const why = await t.wait([], { time, ns: deadline });
  if (why !== 'interrupted') return 0;
  const left = deadline - time.monotonicNs();
  if (left <= 0n) return 0;
  if (rem !== 0) {
    const e = writeStruct(t, rem, timespec, toTimespec(left));
    if (e) return e;
  }
  t.restartBlock = { resume: () => sleepUntil(t, deadline, rem, time) };
  return ERESTART_RESTARTBLOCK;
}

/** implements nanosleep(2): relative sleep on CLOCK_MONOTONIC, interruptible by signals. */
function nanosleep(t: Task, a: SyscallArgs): SyscallResult | Promise<SyscallResult> {
  const req = readRequest(t, ptr(a[0]));
  if (isError(req)) return req;
  return sleepUntil(t, t.kernel.time.monotonicNs() + req, a[1] === 0n ? 0 : ptr(a[1]));
}

/**
 * implements clock_nanosleep(2) on CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME, CLOCK_TAI
 * and the process CPU-time clocks, relative or TIMER_ABSTIME (an absolute sleep is not
 * shortened by a signal: it restarts with ERESTARTNOHAND and writes no remainder). The caller's
 * own thread CPU clock by id answers EINVAL, as Linux; CLOCK_THREAD_CPUTIME_ID, raw and coarse
 * clocks EOPNOTSUPP. A CPU-clock
 * sleep ends at the first syscall of the measured process after the time is used.
 */
function clockNanosleep(t: Task, a: SyscallArgs): SyscallResult | Promise<SyscallResult> {
  const id = int(a[0]);
  const flags = int(a[1]);
  const realtimeLike = id === ClockId.CLOCK_REALTIME || id === ClockId.CLOCK_TAI;
  const monoLike = id === ClockId.CLOCK_MONOTONIC || id === ClockId.CLOCK_BOOTTIME;
  // CLOCK_THREAD_CPUTIME_ID has no sleep method (EOPNOTSUPP below; glibc answers EINVAL itself).
  const cpuLike = id === ClockId.CLOCK_PROCESS_CPUTIME_ID || id < 0;
  if (!realtimeLike && !monoLike && !cpuLike) {
    // Known clocks without a sleep method answer EOPNOTSUPP; anything else EINVAL.
    return id >= 0 && id <= 11 && id !== ClockId.CLOCK_SGI_CYCLE ? E.EOPNOTSUPP : E.EINVAL;
  }
  // Negative ids of type 3 are fd clocks, which cannot sleep.
  if (id < 0 && (id & 3) === 3) return E.EOPNOTSUPP;
  const req = readRequest(t, ptr(a[2]));
  if (isError(req)) return req;
  let time: TimeSource = t.kernel.time;
  if (cpuLike) {
    // The caller's own thread clock cannot advance while it sleeps: Linux refuses it.
    const pid = ~(id >> 3);
    const ownThread = id < 0 && (id & 4) !== 0 && (pid === 0 || pid === t.tid);
    const cpu = ownThread ? undefined : cpuClockOf(t, id);
    if (!cpu) return E.EINVAL;
    time = cpu;
  }
  if ((flags & TimerFlag.TIMER_ABSTIME) === 0) {
    return sleepUntil(t, time.monotonicNs() + req, a[3] === 0n ? 0 : ptr(a[3]), time);
  }
  const deadline = realtimeLike ? time.monotonicNs() + (req - time.realtimeNs()) : req;
  return (async (): Promise<SyscallResult> => {
    const why = await t.wait([], { time, ns: deadline });
    return why === 'interrupted' && time.monotonicNs() < deadline ? ERESTARTNOHAND : 0;
  })();
}

/** Time syscalls. */
export const timeSyscalls: SyscallFamily = {
  clock_gettime: { handler: clockGettime, support: FULL },
  clock_getres: { handler: clockGetres, support: FULL },
  gettimeofday: { handler: gettimeofday, support: FULL },
  time: { handler: time, support: FULL },
  nanosleep: { handler: nanosleep, support: FULL },
  clock_nanosleep: {
    handler: clockNanosleep,
    support: partial(
      'a sleep on a CPU-time clock ends at the first syscall of the measured process after the time is used',
    ),
  },
};
