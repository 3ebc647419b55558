/**
 * membarrier(2): process-wide memory barriers, as JITs, userspace RCU and garbage collectors use
 * them. The commands, their registration rules (per address space, inherited by fork, cleared by
 * exec) and their errnos are Linux's.
 *
 * The barrier itself: every thread of a sandboxed process enters the supervisor on each syscall
 * (a full barrier on that thread), and the caller does too; threads running application code on
 * other CPUs at that moment are not interrupted, so the expedited commands give the ordering of
 * a barrier on the caller plus the next syscall of each other thread (see the support note).
 *
 * @module
 */
import { E } from '@tsvisor/abi';
import type { Task } from '@tsvisor/kernel';
import { int, partial, uint, type SyscallArgs, type SyscallFamily, type SyscallResult } from './types.js';

const MEMBARRIER_CMD_QUERY = 0;
const MEMBARRIER_CMD_GLOBAL = 1 << 0;
const MEMBARRIER_CMD_GLOBAL_EXPEDITED = 1 << 1;
const MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED = 1 << 2;
const MEMBARRIER_CMD_PRIVATE_EXPEDITED = 1 << 3;
const MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED = 1 << 4;
const MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE = 1 << 5;
const MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE = 1 << 6;
const MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ = 1 << 7;
const MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ = 1 << 8;
const MEMBARRIER_CMD_GET_REGISTRATIONS = 1 << 9;
const MEMBARRIER_CMD_FLAG_CPU = 1;

/** What QUERY reports: every command (Linux built with CONFIG_RSEQ and without nohz_full). */
const SUPPORTED = 0x3ff;

/** The commands each barrier command needs registered first. */
const NEEDS: Readonly<Record<number, number>> = {
  [MEMBARRIER_CMD_PRIVATE_EXPEDITED]: MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED,
  [MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE]: MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE,
  [MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ]: MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ,
};

/** Registrations per address space (Linux keeps them in mm->membarrier_state). */
const registrations = new WeakMap<object, number>();

/** fork copies the parent's registrations into the child's new address space (dup_mm). */
export function inheritMembarrier(parent: Task, child: Task): void {
  if (child.mm === parent.mm) return;
  const r = registrations.get(parent.mm);
  if (r !== undefined) registrations.set(child.mm, r);
}

/**
 * implements membarrier(2): `EINVAL` for an unknown command or flags (MEMBARRIER_CMD_FLAG_CPU is
 * allowed with the RSEQ command only), `EPERM` for a private expedited barrier of an unregistered
 * process; QUERY and GET_REGISTRATIONS return bit masks.
 */
function membarrier(t: Task, a: SyscallArgs): SyscallResult {
  const cmd = int(a[0]);
  const flags = uint(a[1]);
  if (cmd === MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ) {
    if ((flags & ~MEMBARRIER_CMD_FLAG_CPU) !== 0) return E.EINVAL;
  } else if (flags !== 0) return E.EINVAL;
  const mine = registrations.get(t.mm) ?? 0;
  switch (cmd) {
    case MEMBARRIER_CMD_QUERY:
      return SUPPORTED;
    case MEMBARRIER_CMD_GLOBAL:
    case MEMBARRIER_CMD_GLOBAL_EXPEDITED:
      return 0;
    case MEMBARRIER_CMD_PRIVATE_EXPEDITED:
    case MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE:
    case MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ:
      return (mine & (NEEDS[cmd] ?? 0)) !== 0 ? 0 : E.EPERM;
    case MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED:
    case MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED:
    case MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE:
    case MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ:
      registrations.set(t.mm, mine | cmd);
      return 0;
    case MEMBARRIER_CMD_GET_REGISTRATIONS:
      return mine;
    default:
      return E.EINVAL;
  }
}

/** membarrier. */
export const membarrierSyscalls: SyscallFamily = {
  membarrier: {
    handler: membarrier,
    support: partial(
      "commands, registrations and errnos as Linux; a barrier orders the caller's memory and each other thread's at its next syscall, without interrupting threads running on other CPUs",
    ),
  },
};
