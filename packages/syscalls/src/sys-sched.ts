/**
 * Scheduling: sched_yield, getcpu, the affinity pair, and the policy family (sched_setscheduler,
 * sched_getscheduler, sched_setparam, sched_getparam, sched_setattr, sched_getattr,
 * sched_get_priority_max/min, sched_rr_get_interval).
 *
 * The sandbox's tasks run on the host's CPUs under the host's scheduler: tsvisor records each
 * thread's policy, real-time priority, reset-on-fork flag and affinity mask with Linux's checks
 * (ranges, EPERM rules, inheritance at clone) and reports them back, but does not pin or
 * reprioritise the host threads. The nice value lives on the thread group, where
 * getpriority/setpriority keep it, so sched_setattr and setpriority agree.
 *
 * @module
 */
import { Capability, E, Rlimit, isError, type LinuxError } from '@tsvisor/abi';
import { capable, type Task } from '@tsvisor/kernel';
import {
  FULL,
  int,
  partial,
  ptr,
  size,
  uint,
  type SyscallArgs,
  type SyscallFamily,
  type SyscallResult,
} from './types.js';

/** Scheduling policies (`SCHED_*` of <linux/sched.h>). */
export const SchedPolicyValue = {
  SCHED_OTHER: 0,
  SCHED_FIFO: 1,
  SCHED_RR: 2,
  SCHED_BATCH: 3,
  SCHED_IDLE: 5,
  SCHED_DEADLINE: 6,
  /** Linux 6.12: BPF-defined scheduling; without a loaded scheduler such tasks run as fair ones. */
  SCHED_EXT: 7,
} as const;

const { SCHED_OTHER, SCHED_FIFO, SCHED_RR, SCHED_BATCH, SCHED_IDLE, SCHED_DEADLINE, SCHED_EXT } =
  SchedPolicyValue;

/** Or-ed into the policy of sched_setscheduler (and reported by sched_getscheduler). */
const SCHED_RESET_ON_FORK = 0x40000000;
/** sched_setparam's "keep the policy" (SETPARAM_POLICY in kernel/sched). */
const SETPARAM_POLICY = -1;
/** Highest real-time priority (MAX_RT_PRIO - 1). */
const MAX_RT_PRIO = 100;

// sched_attr.sched_flags
const SCHED_FLAG_RESET_ON_FORK = 0x01n;
const SCHED_FLAG_KEEP_POLICY = 0x08n;
const SCHED_FLAG_KEEP_PARAMS = 0x10n;
const SCHED_FLAG_UTIL_CLAMP = 0x60n;
const SCHED_FLAG_ALL = 0x7fn;
const SCHED_FLAG_SUGOV = 0x10000000n;
const SCHED_FLAG_RECLAIM_AND_OVERRUN = 0x06n;

/** sizeof(struct sched_attr) with and without the utilisation clamps. */
const SCHED_ATTR_SIZE_VER0 = 48;
const SCHED_ATTR_SIZE_VER1 = 56;
const PAGE_SIZE = 4096;
/** Round-robin time slice (RR_TIMESLICE: 100 ms). */
const RR_TIMESLICE_NS = 100_000_000n;

/** The per-thread scheduling state Linux keeps in task_struct. */
interface SchedState {
  policy: number;
  rtPriority: number;
  resetOnFork: boolean;
  deadline: { runtime: bigint; deadline: bigint; period: bigint; flags: bigint } | null;
  /** The affinity mask, one bit per configured CPU; null: every CPU. */
  affinity: Uint8Array | null;
}

const states = new WeakMap<Task, SchedState>();

function stateOf(t: Task): SchedState {
  let s = states.get(t);
  if (!s) {
    s = { policy: SCHED_OTHER, rtPriority: 0, resetOnFork: false, deadline: null, affinity: null };
    states.set(t, s);
  }
  return s;
}

/**
 * Gives a new task its parent's scheduling state as clone(2) does (sched_fork): policy, priority
 * and affinity are inherited; with SCHED_RESET_ON_FORK a real-time or deadline policy becomes
 * SCHED_OTHER and a negative nice becomes 0 in the child, and the flag is not inherited. A new
 * process also inherits the nice value.
 */
export function inheritSched(parent: Task, child: Task): void {
  const p = states.get(parent);
  const newProcess = child.group !== parent.group;
  let nice = parent.group.nice;
  if (p) {
    const c: SchedState = {
      policy: p.policy,
      rtPriority: p.rtPriority,
      resetOnFork: false,
      deadline: p.deadline,
      affinity: p.affinity,
    };
    if (p.resetOnFork) {
      if (isRealtime(c.policy) || c.policy === SCHED_DEADLINE) {
        c.policy = SCHED_OTHER;
        c.rtPriority = 0;
        c.deadline = null;
      }
      if (nice < 0) nice = 0;
    }
    states.set(child, c);
    child.schedPolicy = c.policy;
    child.schedRtPriority = c.rtPriority;
  }
  if (newProcess) child.group.nice = nice;
}

function isRealtime(policy: number): boolean {
  return policy === SCHED_FIFO || policy === SCHED_RR;
}

function isFair(policy: number): boolean {
  return policy === SCHED_OTHER || policy === SCHED_BATCH || policy === SCHED_IDLE || policy === SCHED_EXT;
}

function validPolicy(policy: number): boolean {
  return isFair(policy) || isRealtime(policy) || policy === SCHED_DEADLINE;
}

/** The policy and priority tsvisor reports for `t` (procfs and the getters). */
export function schedInfo(t: Task): { policy: number; rtPriority: number } {
  const s = states.get(t);
  return { policy: s?.policy ?? SCHED_OTHER, rtPriority: s?.rtPriority ?? 0 };
}

/** implements sched_yield(2): always succeeds. */
function schedYield(): SyscallResult {
  return 0;
}

/** implements getcpu(2): CPU 0, node 0 (either pointer may be NULL). */
function getcpu(t: Task, a: SyscallArgs): SyscallResult {
  for (const p of [a[0], a[1]]) {
    if (p === 0n) continue;
    const e = t.memory.writeU32(ptr(p), 0);
    if (e) return e;
  }
  return 0;
}

/** Size in bytes of the kernel's cpumask for `n` CPUs (whole longs). */
function cpumaskSize(n: number): number {
  return Math.ceil(n / 64) * 8;
}

function target(t: Task, pid: number): Task | LinuxError {
  if (pid === 0) return t;
  return t.kernel.task(pid) ?? E.ESRCH;
}

/**
 * The owner check of sched_setaffinity and __sched_setscheduler (check_same_owner): the caller's
 * euid is the target's uid or euid, or the caller has CAP_SYS_NICE.
 */
function sameOwner(t: Task, p: Task): boolean {
  return (
    t.creds.euid === p.creds.euid || t.creds.euid === p.creds.uid || capable(t.creds, Capability.CAP_SYS_NICE)
  );
}

/**
 * implements sched_getaffinity(2): `EINVAL` when `len` is smaller than the kernel's mask or not a
 * multiple of 8, `ESRCH` for an unknown tid; returns the bytes written (the mask last set on the
 * thread, or every configured CPU).
 */
function schedGetaffinity(t: Task, a: SyscallArgs): SyscallResult {
  const who = target(t, int(a[0]));
  if (isError(who)) return who;
  const len = size(a[1]);
  const cpus = t.kernel.cpuCount;
  const maskLen = cpumaskSize(cpus);
  if (len * 8 < cpus || len % 8 !== 0) return E.EINVAL;
  const out = new Uint8Array(maskLen);
  const set = states.get(who)?.affinity;
  if (set) out.set(set);
  else for (let c = 0; c < cpus; c++) out[c >> 3] = (out[c >> 3] as number) | (1 << (c & 7));
  return t.memory.writeExact(ptr(a[2]), out) ?? maskLen;
}

/**
 * implements sched_setaffinity(2): `EFAULT`, `ESRCH`, `EPERM` (another user's thread without
 * CAP_SYS_NICE), `EINVAL` for a mask with no configured CPU; the mask (restricted to configured
 * CPUs) is what sched_getaffinity reports afterwards. Host threads are not pinned.
 */
function schedSetaffinity(t: Task, a: SyscallArgs): SyscallResult {
  const cpus = t.kernel.cpuCount;
  const maskLen = cpumaskSize(cpus);
  const len = Math.min(size(a[1]), maskLen);
  const mask = t.memory.read(ptr(a[2]), len);
  if (isError(mask)) return mask;
  const who = target(t, int(a[0]));
  if (isError(who)) return who;
  if (!sameOwner(t, who)) return E.EPERM;
  const kept = new Uint8Array(maskLen);
  let any = false;
  for (let c = 0; c < cpus && c < len * 8; c++)
    if ((mask[c >> 3] as number) & (1 << (c & 7))) {
      kept[c >> 3] = (kept[c >> 3] as number) | (1 << (c & 7));
      any = true;
    }
  if (!any) return E.EINVAL;
  stateOf(who).affinity = kept;
  return 0;
}

/** RLIMIT_RTPRIO / RLIMIT_NICE of `t`'s process, as a number (infinity: a large number). */
function rlimitCur(t: Task, r: number): number {
  const l = t.group.rlimits[r];
  if (!l) return 0;
  return l.cur > 1_000_000n ? 1_000_000 : Number(l.cur);
}

/**
 * can_nice(): lowering `target`'s nice to `nice` is allowed by the target's RLIMIT_NICE or the
 * caller's CAP_SYS_NICE.
 */
function canNice(caller: Task, target: Task, nice: number): boolean {
  return 20 - nice <= rlimitCur(target, Rlimit.RLIMIT_NICE) || capable(caller.creds, Capability.CAP_SYS_NICE);
}

/** What a set call asks for, in sched_attr's terms. */
interface SchedRequest {
  /** SETPARAM_POLICY keeps the current policy. */
  policy: number;
  priority: number;
  /** undefined: keep the current nice. */
  nice: number | undefined;
  flags: bigint;
  runtime: bigint;
  deadline: bigint;
  period: bigint;
}

/** __checkparam_dl: deadline parameters are consistent (runtime <= deadline <= period, >= 1 µs). */
function deadlineParamsOk(r: SchedRequest): boolean {
  if (r.deadline === 0n) return false;
  if (r.runtime < 1024n) return false;
  if (r.deadline & (1n << 63n) || (r.period !== 0n && r.period & (1n << 63n))) return false;
  const period = r.period === 0n ? r.deadline : r.period;
  if (period !== 0n && period < r.deadline) return false;
  if (r.deadline < r.runtime) return false;
  return period <= 4_194_304_000_000_000n; // sysctl_sched_dl_period_max (~4 s in µs, as ns)
}

/** __sched_setscheduler: validation, permission checks and the change itself, in Linux's order. */
function setScheduler(t: Task, p: Task, r: SchedRequest): SyscallResult {
  const s = stateOf(p);
  let policy = r.policy;
  let resetOnFork: boolean;
  if (policy < 0) {
    resetOnFork = s.resetOnFork;
    policy = s.policy;
  } else {
    resetOnFork = (r.flags & SCHED_FLAG_RESET_ON_FORK) !== 0n;
    if (!validPolicy(policy)) return E.EINVAL;
  }
  if ((r.flags & ~(SCHED_FLAG_ALL | SCHED_FLAG_SUGOV)) !== 0n) return E.EINVAL;
  if (r.priority > MAX_RT_PRIO - 1 || r.priority < 0) return E.EINVAL;
  if (policy === SCHED_DEADLINE && !deadlineParamsOk(r)) return E.EINVAL;
  if (isRealtime(policy) !== (r.priority !== 0)) return E.EINVAL;
  const curNice = p.group.nice;
  const nice = r.nice ?? curNice;
  if (!capable(t.creds, Capability.CAP_SYS_NICE)) {
    if (isFair(policy) && nice < curNice && !canNice(t, p, nice)) return E.EPERM;
    if (isRealtime(policy)) {
      const rlim = rlimitCur(p, Rlimit.RLIMIT_RTPRIO);
      if (policy !== s.policy && rlim === 0) return E.EPERM;
      if (r.priority > s.rtPriority && r.priority > rlim) return E.EPERM;
    }
    if (policy === SCHED_DEADLINE) return E.EPERM;
    if (s.policy === SCHED_IDLE && policy !== SCHED_IDLE && !canNice(t, p, curNice)) return E.EPERM;
    if (!sameOwner(t, p)) return E.EPERM;
    if (s.resetOnFork && !resetOnFork) return E.EPERM;
  }
  s.resetOnFork = resetOnFork;
  // sched_setattr with SCHED_FLAG_KEEP_PARAMS changes nothing but the reset-on-fork bit.
  if ((r.flags & SCHED_FLAG_KEEP_PARAMS) !== 0n) return 0;
  s.policy = policy;
  s.rtPriority = isRealtime(policy) ? r.priority : 0;
  s.deadline =
    policy === SCHED_DEADLINE
      ? {
          runtime: r.runtime,
          deadline: r.deadline,
          period: r.period,
          flags: r.flags & SCHED_FLAG_RECLAIM_AND_OVERRUN,
        }
      : null;
  if (isFair(policy) && r.nice !== undefined) p.group.nice = r.nice;
  p.schedPolicy = s.policy;
  p.schedRtPriority = s.rtPriority;
  return 0;
}

/** do_sched_setscheduler: `EINVAL` for a NULL param or negative pid, `EFAULT`, `ESRCH`. */
function doSetscheduler(t: Task, pidArg: bigint, policy: number, paramArg: bigint): SyscallResult {
  const pid = int(pidArg);
  if (paramArg === 0n || pid < 0) return E.EINVAL;
  const prio = t.memory.readI32(ptr(paramArg));
  if (isError(prio)) return prio;
  const p = target(t, pid);
  if (isError(p)) return p;
  const flags = policy >= 0 && (policy & SCHED_RESET_ON_FORK) !== 0 ? SCHED_FLAG_RESET_ON_FORK : 0n;
  return setScheduler(t, p, {
    policy: policy >= 0 ? policy & ~SCHED_RESET_ON_FORK : SETPARAM_POLICY,
    priority: prio,
    nice: undefined,
    flags,
    runtime: 0n,
    deadline: 0n,
    period: 0n,
  });
}

/** implements sched_setscheduler(2): `EINVAL` for a negative policy too. */
function schedSetscheduler(t: Task, a: SyscallArgs): SyscallResult {
  const policy = int(a[1]);
  if (policy < 0) return E.EINVAL;
  return doSetscheduler(t, a[0], policy, a[2]);
}

/** implements sched_setparam(2): sched_setscheduler keeping the policy. */
function schedSetparam(t: Task, a: SyscallArgs): SyscallResult {
  return doSetscheduler(t, a[0], SETPARAM_POLICY, a[1]);
}

/** implements sched_getscheduler(2): the policy, with SCHED_RESET_ON_FORK or-ed in when set. */
function schedGetscheduler(t: Task, a: SyscallArgs): SyscallResult {
  const pid = int(a[0]);
  if (pid < 0) return E.EINVAL;
  const p = target(t, pid);
  if (isError(p)) return p;
  const s = states.get(p);
  if (!s) return SCHED_OTHER;
  return s.policy | (s.resetOnFork ? SCHED_RESET_ON_FORK : 0);
}

/** implements sched_getparam(2): the real-time priority (0 for the other policies). */
function schedGetparam(t: Task, a: SyscallArgs): SyscallResult {
  const pid = int(a[0]);
  if (pid < 0 || a[1] === 0n) return E.EINVAL;
  const p = target(t, pid);
  if (isError(p)) return p;
  return t.memory.writeI32(ptr(a[1]), schedInfo(p).rtPriority) ?? 0;
}

/** implements sched_get_priority_max(2): 99 for FIFO/RR, 0 for the others, `EINVAL` otherwise. */
function schedGetPriorityMax(_t: Task, a: SyscallArgs): SyscallResult {
  const policy = int(a[0]);
  if (isRealtime(policy)) return MAX_RT_PRIO - 1;
  return isFair(policy) || policy === SCHED_DEADLINE ? 0 : E.EINVAL;
}

/** implements sched_get_priority_min(2): 1 for FIFO/RR, 0 for the others, `EINVAL` otherwise. */
function schedGetPriorityMin(_t: Task, a: SyscallArgs): SyscallResult {
  const policy = int(a[0]);
  if (isRealtime(policy)) return 1;
  return isFair(policy) || policy === SCHED_DEADLINE ? 0 : E.EINVAL;
}

/**
 * implements sched_rr_get_interval(2): 100 ms for SCHED_RR, 0 for SCHED_FIFO, and for the fair
 * policies the slice of a lone task on an idle runqueue, which Linux rounds to whole jiffies (0).
 */
function schedRrGetInterval(t: Task, a: SyscallArgs): SyscallResult {
  const pid = int(a[0]);
  if (pid < 0) return E.EINVAL;
  const p = target(t, pid);
  if (isError(p)) return p;
  const ns = schedInfo(p).policy === SCHED_RR ? RR_TIMESLICE_NS : 0n;
  const out = new Uint8Array(16);
  const v = new DataView(out.buffer);
  v.setBigInt64(0, ns / 1_000_000_000n, true);
  v.setBigInt64(8, ns % 1_000_000_000n, true);
  return t.memory.writeExact(ptr(a[1]), out) ?? 0;
}

/**
 * sched_copy_attr: reads a `struct sched_attr` of the size the app states. `E2BIG` (writing the
 * kernel's size back) for a size below VER0, above a page, or with non-zero bytes past the
 * kernel's struct.
 */
function readSchedAttr(t: Task, addr: number): DataView | LinuxError {
  let sz = t.memory.readU32(addr);
  if (isError(sz)) return sz;
  if (sz === 0) sz = SCHED_ATTR_SIZE_VER0;
  if (sz < SCHED_ATTR_SIZE_VER0 || sz > PAGE_SIZE) {
    return t.memory.writeU32(addr, SCHED_ATTR_SIZE_VER1) ?? E.E2BIG;
  }
  const raw = t.memory.read(addr, sz);
  if (isError(raw)) return raw;
  if (raw.length < sz) return E.EFAULT;
  for (let i = SCHED_ATTR_SIZE_VER1; i < sz; i++)
    if (raw[i] !== 0) return t.memory.writeU32(addr, SCHED_ATTR_SIZE_VER1) ?? E.E2BIG;
  const attr = new Uint8Array(SCHED_ATTR_SIZE_VER1);
  attr.set(raw.subarray(0, Math.min(sz, SCHED_ATTR_SIZE_VER1)));
  const v = new DataView(attr.buffer);
  v.setUint32(0, sz, true);
  return v;
}

/** implements sched_setattr(2): policy, flags, nice or priority, deadline parameters. */
function schedSetattr(t: Task, a: SyscallArgs): SyscallResult {
  const pid = int(a[0]);
  if (a[1] === 0n || pid < 0) return E.EINVAL;
  if (uint(a[2]) !== 0) return E.EINVAL;
  const v = readSchedAttr(t, ptr(a[1]));
  if (isError(v)) return v;
  const sz = v.getUint32(0, true);
  const flags = v.getBigUint64(8, true);
  if ((flags & SCHED_FLAG_UTIL_CLAMP) !== 0n && sz < SCHED_ATTR_SIZE_VER1) return E.EINVAL;
  let policy = v.getInt32(4, true);
  if (policy < 0) return E.EINVAL;
  const nice = Math.max(-20, Math.min(19, v.getInt32(16, true)));
  const p = target(t, pid);
  if (isError(p)) return p;
  // KEEP_POLICY keeps the policy and its reset-on-fork bit; KEEP_PARAMS keeps priority, nice and
  // deadline parameters (get_params) under whatever policy is asked for.
  if ((flags & SCHED_FLAG_KEEP_POLICY) !== 0n) policy = SETPARAM_POLICY;
  const keepParams = (flags & SCHED_FLAG_KEEP_PARAMS) !== 0n;
  const s = stateOf(p);
  const dl = s.deadline;
  const req: SchedRequest = {
    policy,
    priority: keepParams ? s.rtPriority : v.getUint32(20, true),
    nice: keepParams ? undefined : nice,
    flags,
    runtime: keepParams ? (dl?.runtime ?? 0n) : v.getBigUint64(24, true),
    deadline: keepParams ? (dl?.deadline ?? 0n) : v.getBigUint64(32, true),
    period: keepParams ? (dl?.period ?? 0n) : v.getBigUint64(40, true),
  };
  return setScheduler(t, p, req);
}

/** implements sched_getattr(2): `EINVAL` for a size outside [48, 4096] or flags; writes min(size, 56) bytes. */
function schedGetattr(t: Task, a: SyscallArgs): SyscallResult {
  const pid = int(a[0]);
  const usize = uint(a[2]);
  if (a[1] === 0n || pid < 0 || usize > PAGE_SIZE || usize < SCHED_ATTR_SIZE_VER0 || uint(a[3]) !== 0)
    return E.EINVAL;
  const p = target(t, pid);
  if (isError(p)) return p;
  const s = states.get(p);
  const policy = s?.policy ?? SCHED_OTHER;
  const out = new Uint8Array(SCHED_ATTR_SIZE_VER1);
  const v = new DataView(out.buffer);
  const ksize = Math.min(usize, SCHED_ATTR_SIZE_VER1);
  v.setUint32(0, ksize, true);
  v.setUint32(4, policy, true);
  let flags = s?.deadline?.flags ?? 0n;
  if (s?.resetOnFork) flags |= SCHED_FLAG_RESET_ON_FORK;
  v.setBigUint64(8, flags, true);
  if (isFair(policy)) v.setInt32(16, p.group.nice, true);
  v.setUint32(20, s?.rtPriority ?? 0, true);
  if (s?.deadline) {
    v.setBigUint64(24, s.deadline.runtime, true);
    v.setBigUint64(32, s.deadline.deadline, true);
    v.setBigUint64(40, s.deadline.period === 0n ? s.deadline.deadline : s.deadline.period, true);
  }
  // util_min/util_max stay 0, as on kernels built without CONFIG_UCLAMP_TASK (Debian's).
  return t.memory.writeExact(ptr(a[1]), out.subarray(0, ksize)) ?? 0;
}

const NOT_HOST = 'recorded per thread with Linux checks; the host scheduler is not told';

/** Scheduling syscalls. */
export const schedSyscalls: SyscallFamily = {
  sched_yield: { handler: schedYield, support: FULL },
  getcpu: { handler: getcpu, support: partial('always reports CPU 0, node 0') },
  sched_getaffinity: { handler: schedGetaffinity, support: FULL },
  sched_setaffinity: {
    handler: schedSetaffinity,
    support: partial('recorded and reported; host threads are not pinned'),
  },
  sched_setscheduler: { handler: schedSetscheduler, support: partial(NOT_HOST) },
  sched_getscheduler: { handler: schedGetscheduler, support: FULL },
  sched_setparam: { handler: schedSetparam, support: partial(NOT_HOST) },
  sched_getparam: { handler: schedGetparam, support: FULL },
  sched_setattr: {
    handler: schedSetattr,
    support: partial(`${NOT_HOST}; SCHED_DEADLINE has no admission control; utilisation clamps ignored`),
  },
  sched_getattr: {
    handler: schedGetattr,
    support: partial('utilisation clamps read as 0 (no CONFIG_UCLAMP_TASK)'),
  },
  sched_get_priority_max: { handler: schedGetPriorityMax, support: FULL },
  sched_get_priority_min: { handler: schedGetPriorityMin, support: FULL },
  sched_rr_get_interval: {
    handler: schedRrGetInterval,
    support: partial('fair policies report a 0 slice (a lone task rounded to jiffies)'),
  },
};
