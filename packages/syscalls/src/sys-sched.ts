/**
 * Scheduling: sched_yield, getcpu, sched_getaffinity, sched_setaffinity. The sandbox's tasks run
 * on the host's CPUs; tsvisor reports the CPUs the kernel was configured with and does not pin.
 *
 * @module
 */
import { E, isError, type LinuxError } from '@tsvisor/abi';
import type { Task } from '@tsvisor/kernel';
import {
  FULL,
  int,
  partial,
  ptr,
  size,
  type SyscallArgs,
  type SyscallFamily,
  type SyscallResult,
} from './types.js';

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
 * implements sched_getaffinity(2): `EINVAL` when `len` is smaller than the kernel's mask or not a
 * multiple of 8, `ESRCH` for an unknown tid; returns the bytes written.
 */
function schedGetaffinity(t: Task, a: SyscallArgs): SyscallResult {
  const who = target(t, int(a[0]));
  if (isError(who)) return who;
  const len = size(a[1]);
  const cpus = t.kernel.cpuCount;
  const maskLen = cpumaskSize(cpus);
  if (len * 8 < cpus || len % 8 !== 0) return E.EINVAL;
  const out = new Uint8Array(maskLen);
  for (let c = 0; c < cpus; c++) out[c >> 3] = (out[c >> 3] as number) | (1 << (c & 7));
  return t.memory.writeExact(ptr(a[2]), out) ?? maskLen;
}

/**
 * implements sched_setaffinity(2): validates like Linux (`EFAULT`, `ESRCH`, `EINVAL` for a mask
 * with no configured CPU) and accepts; tasks are not pinned.
 */
function schedSetaffinity(t: Task, a: SyscallArgs): SyscallResult {
  const who = target(t, int(a[0]));
  if (isError(who)) return who;
  const len = Math.min(size(a[1]), cpumaskSize(t.kernel.cpuCount));
  const mask = t.memory.read(ptr(a[2]), len);
  if (isError(mask)) return mask;
  let any = false;
  for (let c = 0; c < t.kernel.cpuCount && c < len * 8; c++)
    if ((mask[c >> 3] as number) & (1 << (c & 7))) any = true;
  return any ? 0 : E.EINVAL;
}

/** Scheduling syscalls. */
export const schedSyscalls: SyscallFamily = {
  sched_yield: { handler: schedYield, support: FULL },
  getcpu: { handler: getcpu, support: partial('always reports CPU 0, node 0') },
  sched_getaffinity: { handler: schedGetaffinity, support: FULL },
  sched_setaffinity: { handler: schedSetaffinity, support: partial('accepted but tasks are not pinned') },
};
