/**
 * I/O priorities: ioprio_get and ioprio_set. tsvisor schedules no block I/O of its own, so the
 * value is kept per thread with Linux's checks and reported back; it is inherited at fork as a
 * task's io_context priority is.
 *
 * @module
 */
import { Capability, E } from '@tsvisor/abi';
import { capable, type Task } from '@tsvisor/kernel';
import { int, partial, uint, type SyscallArgs, type SyscallFamily, type SyscallResult } from './types.js';

const IOPRIO_WHO_PROCESS = 1;
const IOPRIO_WHO_PGRP = 2;
const IOPRIO_WHO_USER = 3;

const IOPRIO_CLASS_SHIFT = 13;
const IOPRIO_CLASS_NONE = 0;
const IOPRIO_CLASS_RT = 1;
const IOPRIO_CLASS_BE = 2;
const IOPRIO_CLASS_IDLE = 3;
/** What ioprio_best counts a task without a class as: best effort, level 4 (IOPRIO_BE_NORM). */
const BE_NORM = (IOPRIO_CLASS_BE << IOPRIO_CLASS_SHIFT) | 4;

const prios = new WeakMap<Task, number>();

/** fork copies the parent's I/O priority (copy_io). */
export function inheritIoprio(parent: Task, child: Task): void {
  const p = prios.get(parent);
  if (p !== undefined) prios.set(child, p);
}

function ioprioOf(t: Task): number {
  return prios.get(t) ?? 0;
}

/** The tasks `which`/`who` name; `EINVAL` for an unknown `which`. */
function targets(t: Task, which: number, who: number): Task[] | 'invalid' {
  const k = t.kernel;
  switch (which) {
    case IOPRIO_WHO_PROCESS: {
      const p = who === 0 ? t : k.task(who);
      return p ? [p] : [];
    }
    case IOPRIO_WHO_PGRP: {
      const pg = k.processGroup(who === 0 ? t.group.pgrp.pgid : who);
      return pg ? [...pg.members].flatMap((g) => [...g.tasks]) : [];
    }
    case IOPRIO_WHO_USER: {
      const uid = who === 0 ? t.creds.uid : who;
      return k.allTasks().filter((x) => x.state === 'alive' && x.creds.uid === uid);
    }
    default:
      return 'invalid';
  }
}

/** ioprio_check_cap: the class and level are valid, and RT needs privilege. */
function checkPrio(t: Task, prio: number): SyscallResult | undefined {
  const cls = prio >>> IOPRIO_CLASS_SHIFT;
  const level = prio & 7;
  switch (cls) {
    case IOPRIO_CLASS_RT:
      if (!capable(t.creds, Capability.CAP_SYS_NICE) && !capable(t.creds, Capability.CAP_SYS_ADMIN))
        return E.EPERM;
      return undefined;
    case IOPRIO_CLASS_BE:
    case IOPRIO_CLASS_IDLE:
      return undefined;
    case IOPRIO_CLASS_NONE:
      return level !== 0 ? E.EINVAL : undefined;
    default:
      return E.EINVAL;
  }
}

/**
 * implements ioprio_set(2): `EINVAL` for an unknown `which`, class or (class NONE) level,
 * `EPERM` for the real-time class without privilege or another user's task, `ESRCH` when
 * nothing matches.
 */
function ioprioSet(t: Task, a: SyscallArgs): SyscallResult {
  const which = int(a[0]);
  const prio = uint(a[2]) & 0xffff;
  const bad = checkPrio(t, uint(a[2]));
  if (bad !== undefined) return bad;
  const ts = targets(t, which, int(a[1]));
  if (ts === 'invalid') return E.EINVAL;
  if (ts.length === 0) return E.ESRCH;
  for (const p of ts) {
    if (
      p.creds.uid !== t.creds.euid &&
      p.creds.uid !== t.creds.uid &&
      !capable(t.creds, Capability.CAP_SYS_NICE)
    )
      return E.EPERM;
    prios.set(p, prio);
  }
  return 0;
}

/**
 * implements ioprio_get(2): the thread's priority (0, no class, until one is set); for a
 * process group or user, the best of its tasks, counting a task without a class as best-effort
 * level 4 (ioprio_best).
 */
function ioprioGet(t: Task, a: SyscallArgs): SyscallResult {
  const which = int(a[0]);
  const ts = targets(t, which, int(a[1]));
  if (ts === 'invalid') return E.EINVAL;
  if (ts.length === 0) return E.ESRCH;
  if (which === IOPRIO_WHO_PROCESS) return ioprioOf(ts[0] as Task);
  let best: number | undefined;
  for (const p of ts) {
    const v = ioprioOf(p);
    if (best === undefined) best = v;
    else {
      const x = best >>> IOPRIO_CLASS_SHIFT === IOPRIO_CLASS_NONE ? BE_NORM : best;
      const y = v >>> IOPRIO_CLASS_SHIFT === IOPRIO_CLASS_NONE ? BE_NORM : v;
      best = Math.min(x, y);
    }
  }
  return best ?? 0;
}

/** I/O priority syscalls. */
export const ioprioSyscalls: SyscallFamily = {
  ioprio_get: { handler: ioprioGet, support: partial('recorded per thread; tsvisor has no I/O scheduler') },
  ioprio_set: { handler: ioprioSet, support: partial('recorded per thread; tsvisor has no I/O scheduler') },
};
