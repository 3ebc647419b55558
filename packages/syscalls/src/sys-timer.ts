/**
 * Process timers and system information: alarm, setitimer, getitimer (ITIMER_REAL), sysinfo,
 * getpriority/setpriority (the scheduler-policy calls are in sys-sched.ts).
 *
 * @module
 */
import {
  Capability,
  E,
  Itimer,
  Rlimit,
  SiCode,
  Signal,
  isError,
  itimerval,
  sysinfo,
  type LinuxError,
} from '@tsvisor/abi';
import { capable, getCpuItimer, setCpuItimer, type Task, type ThreadGroup } from '@tsvisor/kernel';
import { freemem, totalmem } from 'node:os';
import { readStruct, writeStruct } from './user-structs.js';
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

const NS = 1_000_000_000n;
const US = 1000n;

/** Arms (or with `value` 0 disarms) the process's ITIMER_REAL. */
function armReal(t: Task, g: ThreadGroup, value: bigint, interval: bigint): void {
  g.itimerReal?.cancel();
  g.itimerReal = undefined;
  if (value === 0n) return;
  const time = t.kernel.time;
  const timer = { deadline: time.monotonicNs() + value, interval, cancel: () => {} };
  const fire = (): void => {
    if (g.itimerReal !== timer) return;
    t.kernel.sendToGroup(g, { signo: Signal.SIGALRM, code: SiCode.SI_KERNEL });
    if (timer.interval > 0n && g.state === 'alive') {
      timer.deadline += timer.interval;
      timer.cancel = time.setTimer(timer.deadline, fire);
    } else if (g.itimerReal === timer) g.itimerReal = undefined;
  };
  timer.cancel = time.setTimer(timer.deadline, fire);
  g.itimerReal = timer;
}

function remaining(t: Task, g: ThreadGroup): { value: bigint; interval: bigint } {
  const r = g.itimerReal;
  if (!r) return { value: 0n, interval: 0n };
  const left = r.deadline - t.kernel.time.monotonicNs();
  return { value: left > 0n ? left : 1n, interval: r.interval };
}

function toTimeval(ns: bigint): { tv_sec: number; tv_usec: number } {
  return { tv_sec: Number(ns / NS), tv_usec: Number((ns % NS) / US) };
}

/** implements alarm(2): returns the seconds left on the previous alarm (rounded as Linux). */
function alarm(t: Task, a: SyscallArgs): SyscallResult {
  const g = t.group;
  const old = remaining(t, g).value;
  armReal(t, g, BigInt(uint(a[0])) * NS, 0n);
  if (old === 0n) return 0;
  // Round to the nearest second, but never report 0 for a pending alarm.
  const sec = Number((old + NS / 2n) / NS);
  return sec === 0 ? 1 : sec;
}

function readItimer(t: Task, which: number, addr: number): LinuxError | undefined {
  const r =
    which === Itimer.ITIMER_REAL
      ? remaining(t, t.group)
      : getCpuItimer(t.group, which === Itimer.ITIMER_VIRTUAL ? 'virtual' : 'prof');
  return writeStruct(t, addr, itimerval, {
    it_interval: toTimeval(r.interval),
    it_value: toTimeval(r.value),
  });
}

/** implements getitimer(2): ITIMER_REAL, and the CPU-time ITIMER_VIRTUAL and ITIMER_PROF. */
function getitimer(t: Task, a: SyscallArgs): SyscallResult {
  const which = int(a[0]);
  if (which < 0 || which > Itimer.ITIMER_PROF) return E.EINVAL;
  return readItimer(t, which, ptr(a[1])) ?? 0;
}

/**
 * implements setitimer(2): `EINVAL` for a bad timer or timeval, `EFAULT`. ITIMER_VIRTUAL and
 * ITIMER_PROF fire at the first syscall after their CPU time is used (the runtime samples CPU
 * time at syscall entry; see the kernel's cpu-timers).
 */
function setitimer(t: Task, a: SyscallArgs): SyscallResult {
  const which = int(a[0]);
  if (which < 0 || which > Itimer.ITIMER_PROF) return E.EINVAL;
  let next: { value: bigint; interval: bigint } | undefined;
  if (a[1] !== 0n) {
    const v = readStruct(t, ptr(a[1]), itimerval);
    if (isError(v)) return v;
    for (const tv of [v.it_value, v.it_interval])
      if (tv.tv_sec < 0 || tv.tv_usec < 0 || tv.tv_usec >= 1e6) return E.EINVAL;
    const ns = (tv: { tv_sec: number; tv_usec: number }): bigint =>
      BigInt(tv.tv_sec) * NS + BigInt(tv.tv_usec) * US;
    next = { value: ns(v.it_value), interval: ns(v.it_interval) };
  }
  if (a[2] !== 0n) {
    const e = readItimer(t, which, ptr(a[2]));
    if (e) return e;
  }
  if (next && which === Itimer.ITIMER_REAL) armReal(t, t.group, next.value, next.interval);
  else if (next)
    setCpuItimer(t.group, which === Itimer.ITIMER_VIRTUAL ? 'virtual' : 'prof', next.value, next.interval);
  return 0;
}

/** implements sysinfo(2): uptime since the sandbox booted, the host's memory, the task count. */
function sysinfoHandler(t: Task, a: SyscallArgs): SyscallResult {
  const k = t.kernel;
  return (
    writeStruct(t, ptr(a[0]), sysinfo, {
      uptime: Number(k.uptimeNs() / NS),
      loads: [0, 0, 0],
      totalram: totalmem(),
      freeram: freemem(),
      sharedram: 0,
      bufferram: 0,
      totalswap: 0,
      freeswap: 0,
      procs: k.allTasks().length,
      pad: 0,
      totalhigh: 0,
      freehigh: 0,
      mem_unit: 1,
    }) ?? 0
  );
}

const PRIO_PROCESS = 0;
const PRIO_PGRP = 1;
const PRIO_USER = 2;

function prioTargets(t: Task, which: number, who: number): ThreadGroup[] | LinuxError {
  const k = t.kernel;
  switch (which) {
    case PRIO_PROCESS: {
      const g = who === 0 ? t.group : k.task(who)?.group;
      return g ? [g] : [];
    }
    case PRIO_PGRP: {
      const pg = k.processGroup(who === 0 ? t.group.pgrp.pgid : who);
      return pg ? [...pg.members] : [];
    }
    case PRIO_USER: {
      const uid = who === 0 ? t.creds.uid : who;
      return k.allThreadGroups().filter((g) => g.state === 'alive' && g.creds.uid === uid);
    }
    default:
      return E.EINVAL;
  }
}

/** implements getpriority(2): returns `20 - nice` of the highest-priority match (ESRCH if none). */
function getpriority(t: Task, a: SyscallArgs): SyscallResult {
  const gs = prioTargets(t, int(a[0]), int(a[1]));
  if (isError(gs)) return gs;
  if (gs.length === 0) return E.ESRCH;
  return 20 - Math.min(...gs.map((g) => g.nice));
}

/** implements setpriority(2): clamps to -20..19; lowering nice needs RLIMIT_NICE or privilege (EACCES). */
function setpriority(t: Task, a: SyscallArgs): SyscallResult {
  const gs = prioTargets(t, int(a[0]), int(a[1]));
  if (isError(gs)) return gs;
  if (gs.length === 0) return E.ESRCH;
  const nice = Math.max(-20, Math.min(19, int(a[2])));
  for (const g of gs) {
    if (
      g.creds.uid !== t.creds.euid &&
      g.creds.euid !== t.creds.euid &&
      !capable(t.creds, Capability.CAP_SYS_NICE)
    )
      return E.EPERM;
    // can_nice: RLIMIT_NICE (as 20 - nice) of the target lets it go lower without privilege.
    const lim = g.rlimits[Rlimit.RLIMIT_NICE]?.cur ?? 0n;
    if (nice < g.nice && !capable(t.creds, Capability.CAP_SYS_NICE) && BigInt(20 - nice) > lim)
      return E.EACCES;
    g.nice = nice;
  }
  return 0;
}

/** Timer and system-information syscalls. */
export const timerSyscalls: SyscallFamily = {
  alarm: { handler: alarm, support: FULL },
  getitimer: { handler: getitimer, support: FULL },
  setitimer: {
    handler: setitimer,
    support: partial('ITIMER_VIRTUAL and ITIMER_PROF fire at the first syscall after their CPU time is used'),
  },
  sysinfo: { handler: sysinfoHandler, support: partial('no load averages or swap') },
  getpriority: { handler: getpriority, support: FULL },
  setpriority: { handler: setpriority, support: partial('recorded; the host scheduler is not told') },
};
