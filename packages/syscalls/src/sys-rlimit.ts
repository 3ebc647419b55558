/**
 * Resource limits and usage: getrlimit, setrlimit, prlimit64, getrusage, times.
 *
 * @module
 */
import {
  Capability,
  E,
  RLIM_INFINITY,
  Rlimit,
  RusageWho,
  isError,
  rlimit,
  rusage,
  tms,
  type LinuxError,
} from '@tsvisor/abi';
import {
  RLIM_NLIMITS,
  capable,
  setRlimit,
  ticks,
  type CpuTimes,
  type Task,
  type ThreadGroup,
} from '@tsvisor/kernel';
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

/** implements getrlimit(2): `EINVAL` for an unknown resource, `EFAULT`. */
function getrlimit(t: Task, a: SyscallArgs): SyscallResult {
  const r = uint(a[0]);
  const l = t.group.rlimits[r];
  if (r >= RLIM_NLIMITS || !l) return E.EINVAL;
  return writeStruct(t, ptr(a[1]), rlimit, { rlim_cur: l.cur, rlim_max: l.max }) ?? 0;
}

/** implements setrlimit(2): `EINVAL`, `EPERM` (raising the hard limit unprivileged), `EFAULT`. */
function setrlimitHandler(t: Task, a: SyscallArgs): SyscallResult {
  const r = uint(a[0]);
  if (r >= RLIM_NLIMITS) return E.EINVAL;
  const v = readStruct(t, ptr(a[1]), rlimit);
  if (isError(v)) return v;
  const next = setRlimit(
    t.group.rlimits,
    r,
    { cur: v.rlim_cur, max: v.rlim_max },
    capable(t.creds, Capability.CAP_SYS_RESOURCE),
  );
  if (isError(next)) return next;
  t.group.rlimits = next;
  syncMmLimits(t.group);
  return 0;
}

/** Keeps the memory model's copy of the memory limits in step (RLIMIT_AS, DATA, STACK, MEMLOCK). */
function syncMmLimits(g: ThreadGroup): void {
  const lim = (r: number): number => {
    const l = g.rlimits[r];
    return !l || l.cur === RLIM_INFINITY ? Infinity : Number(l.cur);
  };
  for (const t of g.tasks) {
    const model = t.mm.model as { limits?: Record<string, number | boolean> } | undefined;
    if (!model?.limits) continue;
    model.limits.as = lim(Rlimit.RLIMIT_AS);
    model.limits.data = lim(Rlimit.RLIMIT_DATA);
    const dm = g.rlimits[Rlimit.RLIMIT_DATA];
    model.limits.dataMax = !dm || dm.max === RLIM_INFINITY ? Infinity : Number(dm.max);
    model.limits.stack = lim(Rlimit.RLIMIT_STACK);
    model.limits.memlock = lim(Rlimit.RLIMIT_MEMLOCK);
  }
}

/**
 * implements prlimit64(2): reads and/or sets a limit of process `pid` (0 = caller). `ESRCH` for
 * no such process, `EPERM` when the caller may not change another user's process.
 */
function prlimit64(t: Task, a: SyscallArgs): SyscallResult {
  const pid = int(a[0]);
  const r = uint(a[1]);
  if (r >= RLIM_NLIMITS) return E.EINVAL;
  const g: ThreadGroup | undefined = pid === 0 ? t.group : t.kernel.threadGroup(pid);
  if (!g || g.state !== 'alive') return E.ESRCH;
  if (g !== t.group && !capable(t.creds, Capability.CAP_SYS_RESOURCE)) {
    const c = t.creds;
    const o = g.creds;
    const same =
      [o.uid, o.euid, o.suid].every((u) => u === c.uid) && [o.gid, o.egid, o.sgid].every((x) => x === c.gid);
    if (!same) return E.EPERM;
  }
  let next: typeof g.rlimits | undefined;
  if (a[2] !== 0n) {
    const v = readStruct(t, ptr(a[2]), rlimit);
    if (isError(v)) return v;
    const n = setRlimit(
      g.rlimits,
      r,
      { cur: v.rlim_cur, max: v.rlim_max },
      capable(t.creds, Capability.CAP_SYS_RESOURCE),
    );
    if (isError(n)) return n;
    next = n;
  }
  if (a[3] !== 0n) {
    const old = g.rlimits[r] as { cur: bigint; max: bigint };
    const e = writeStruct(t, ptr(a[3]), rlimit, { rlim_cur: old.cur, rlim_max: old.max });
    if (e) return e;
  }
  if (next) {
    g.rlimits = next;
    syncMmLimits(g);
  }
  return 0;
}

function timeval(ns: bigint): { tv_sec: number; tv_usec: number } {
  return { tv_sec: Number(ns / 1_000_000_000n), tv_usec: Number((ns % 1_000_000_000n) / 1000n) };
}

function rusageOf(times: CpuTimes, maxRssKib: number): Parameters<typeof rusage.encode>[0] {
  return {
    ru_utime: timeval(times.userNs),
    ru_stime: timeval(times.sysNs),
    ru_maxrss: maxRssKib,
    ru_ixrss: 0,
    ru_idrss: 0,
    ru_isrss: 0,
    ru_minflt: 0,
    ru_majflt: 0,
    ru_nswap: 0,
    ru_inblock: 0,
    ru_oublock: 0,
    ru_msgsnd: 0,
    ru_msgrcv: 0,
    ru_nsignals: 0,
    ru_nvcsw: 0,
    ru_nivcsw: 0,
  };
}

/** Writes a `struct rusage` for CPU times and peak RSS. */
export function writeRusage(
  t: Task,
  addr: number,
  times: CpuTimes,
  maxRssKib: number,
): LinuxError | undefined {
  return writeStruct(t, addr, rusage, rusageOf(times, maxRssKib));
}

/** implements getrusage(2): RUSAGE_SELF, RUSAGE_CHILDREN, RUSAGE_THREAD; `EINVAL` otherwise. */
function getrusage(t: Task, a: SyscallArgs): SyscallResult {
  const who = int(a[0]);
  const g = t.group;
  switch (who) {
    case RusageWho.RUSAGE_SELF:
      return writeRusage(t, ptr(a[1]), g.cpuTimes(), g.maxRssKib) ?? 0;
    case RusageWho.RUSAGE_CHILDREN:
      return writeRusage(t, ptr(a[1]), g.childTimes, g.childMaxRssKib) ?? 0;
    case RusageWho.RUSAGE_THREAD:
      return writeRusage(t, ptr(a[1]), t.cpu, g.maxRssKib) ?? 0;
    default:
      return E.EINVAL;
  }
}

/** implements times(2): CPU times in clock ticks (buffer may be NULL); returns ticks since boot. */
function times(t: Task, a: SyscallArgs): SyscallResult {
  if (a[0] !== 0n) {
    const g = t.group;
    const self = g.cpuTimes();
    const e = writeStruct(t, ptr(a[0]), tms, {
      tms_utime: ticks(self.userNs),
      tms_stime: ticks(self.sysNs),
      tms_cutime: ticks(g.childTimes.userNs),
      tms_cstime: ticks(g.childTimes.sysNs),
    });
    if (e) return e;
  }
  return ticks(t.kernel.time.monotonicNs());
}

/** Resource syscalls. */
export const rlimitSyscalls: SyscallFamily = {
  getrlimit: { handler: getrlimit, support: FULL },
  setrlimit: {
    handler: setrlimitHandler,
    support: partial('enforced: NOFILE, STACK, AS, DATA, MEMLOCK; the others are kept and reported'),
  },
  prlimit64: { handler: prlimit64, support: partial('as setrlimit') },
  getrusage: { handler: getrusage, support: partial('CPU times and ru_maxrss only; other counters are 0') },
  times: { handler: times, support: FULL },
};
