/**
 * futex(2): the wait/wake primitive under every pthread mutex, condition variable and join.
 *
 * The check of the futex word and the enqueue happen with no `await` in between, and every
 * FUTEX_WAKE is itself a trapped syscall handled on the same event loop, so no wake-up can fall
 * between "value checked" and "asleep", which is what makes FUTEX_WAIT correct.
 *
 * @module
 */
import { E, Futex, isError } from '@tsvisor/abi';
import { ERESTARTSYS, ERESTART_RESTARTBLOCK, FutexTable, type Task } from '@tsvisor/kernel';
import { readTimespecNs } from './user-structs.js';
import {
  int,
  partial,
  ptr,
  uint,
  type SyscallArgs,
  type SyscallFamily,
  type SyscallResult,
} from './types.js';

/** The queue of the futex word at `addr` for operation `op` (shared unless FUTEX_PRIVATE_FLAG). */
function key(t: Task, addr: number, op: number): string {
  return FutexTable.keyOf(t.mm, addr, (op & Futex.FUTEX_PRIVATE_FLAG) === 0);
}

/** Sleeps on `addr` if it still holds `val`; `deadline` is monotonic (undefined: forever). */
async function waitOn(
  t: Task,
  addr: number,
  op: number,
  val: number,
  bitset: number,
  deadline: bigint | undefined,
): Promise<SyscallResult> {
  const cur = t.memory.readU32(addr);
  if (isError(cur)) return cur;
  if (cur !== val) return E.EAGAIN;
  const time = t.kernel.time;
  const w = t.kernel.futexes.enqueue(key(t, addr, op), bitset);
  if (deadline !== undefined) w.setDeadline(time, deadline);
  const why = await t.block(w);
  if (why === 'notified') return 0;
  if (why === 'timeout') return E.ETIMEDOUT;
  if (deadline === undefined) return ERESTARTSYS;
  t.restartBlock = { resume: () => waitOn(t, addr, op, val, bitset, deadline) };
  return ERESTART_RESTARTBLOCK;
}

/** Applies a FUTEX_WAKE_OP operation to the old value; undefined for an unknown op. */
function wakeOpNew(op: number, oldval: number, oparg: number): number | undefined {
  switch (op) {
    case 0:
      return oparg;
    case 1:
      return (oldval + oparg) | 0;
    case 2:
      return oldval | oparg;
    case 3:
      return oldval & ~oparg;
    case 4:
      return oldval ^ oparg;
    default:
      return undefined;
  }
}

function wakeOpCmp(cmp: number, a: number, b: number): boolean | undefined {
  switch (cmp) {
    case 0:
      return a === b;
    case 1:
      return a !== b;
    case 2:
      return a < b;
    case 3:
      return a <= b;
    case 4:
      return a > b;
    case 5:
      return a >= b;
    default:
      return undefined;
  }
}

const signExtend12 = (v: number): number => (v << 20) >> 20;

/**
 * implements futex(2): WAIT, WAKE, REQUEUE, CMP_REQUEUE, WAKE_OP, WAIT_BITSET, WAKE_BITSET, with
 * FUTEX_PRIVATE_FLAG and FUTEX_CLOCK_REALTIME; `EINVAL` for a misaligned address or a zero
 * bitset, `ENOSYS` for the PI operations and FUTEX_CLOCK_REALTIME on other commands.
 */
function futex(t: Task, a: SyscallArgs): SyscallResult | Promise<SyscallResult> {
  const addr = ptr(a[0]);
  const op = int(a[1]);
  const cmd = op & Futex.FUTEX_CMD_MASK;
  const realtime = (op & Futex.FUTEX_CLOCK_REALTIME) !== 0;
  if (
    realtime &&
    cmd !== Futex.FUTEX_WAIT_BITSET &&
    cmd !== Futex.FUTEX_WAIT_REQUEUE_PI &&
    cmd !== Futex.FUTEX_LOCK_PI2
  ) {
    return E.ENOSYS;
  }
  if (addr % 4 !== 0) return E.EINVAL;
  const val = uint(a[2]);
  const time = t.kernel.time;
  switch (cmd) {
    case Futex.FUTEX_WAIT:
    case Futex.FUTEX_WAIT_BITSET: {
      const bitset = cmd === Futex.FUTEX_WAIT ? Futex.FUTEX_BITSET_MATCH_ANY : uint(a[5]);
      if (bitset === 0) return E.EINVAL;
      let deadline: bigint | undefined;
      if (a[3] !== 0n) {
        const ns = readTimespecNs(t, ptr(a[3]));
        if (isError(ns)) return ns;
        // FUTEX_WAIT's timeout is relative; WAIT_BITSET's is absolute on the chosen clock.
        if (cmd === Futex.FUTEX_WAIT) deadline = time.monotonicNs() + ns;
        else deadline = realtime ? time.monotonicNs() + (ns - time.realtimeNs()) : ns;
      }
      return waitOn(t, addr, op, val, bitset, deadline);
    }
    case Futex.FUTEX_WAKE:
    case Futex.FUTEX_WAKE_BITSET: {
      const bitset = cmd === Futex.FUTEX_WAKE ? Futex.FUTEX_BITSET_MATCH_ANY : uint(a[5]);
      if (bitset === 0) return E.EINVAL;
      return t.kernel.futexes.wake(key(t, addr, op), Math.max(0, int(a[2])), bitset);
    }
    case Futex.FUTEX_REQUEUE:
    case Futex.FUTEX_CMP_REQUEUE: {
      const nWake = int(a[2]);
      const nRequeue = int(a[3]);
      if (nWake < 0 || nRequeue < 0) return E.EINVAL;
      const addr2 = ptr(a[4]);
      if (addr2 % 4 !== 0) return E.EINVAL;
      if (cmd === Futex.FUTEX_CMP_REQUEUE) {
        const cur = t.memory.readU32(addr);
        if (isError(cur)) return cur;
        if (cur !== uint(a[5])) return E.EAGAIN;
      }
      return t.kernel.futexes.requeue(key(t, addr, op), key(t, addr2, op), nWake, nRequeue);
    }
    case Futex.FUTEX_WAKE_OP: {
      const addr2 = ptr(a[4]);
      if (addr2 % 4 !== 0) return E.EINVAL;
      const enc = uint(a[5]);
      const opcode = (enc >>> 28) & 7;
      const shift = (enc >>> 28) & 8;
      const cmp = (enc >>> 24) & 15;
      let oparg = signExtend12((enc >>> 12) & 0xfff);
      const cmparg = signExtend12(enc & 0xfff);
      if (shift) {
        if (oparg < 0 || oparg > 31) oparg &= 31;
        oparg = 1 << oparg;
      }
      const old = t.memory.readI32(addr2);
      if (isError(old)) return old;
      const next = wakeOpNew(opcode, old, oparg);
      const hit = wakeOpCmp(cmp, old, cmparg);
      if (next === undefined || hit === undefined) return E.ENOSYS;
      const e = t.memory.writeI32(addr2, next);
      if (e) return e;
      let woken = t.kernel.futexes.wake(key(t, addr, op), Math.max(0, int(a[2])));
      if (hit) woken += t.kernel.futexes.wake(key(t, addr2, op), Math.max(0, int(a[3])));
      return woken;
    }
    case Futex.FUTEX_LOCK_PI:
    case Futex.FUTEX_UNLOCK_PI:
    case Futex.FUTEX_TRYLOCK_PI:
    case Futex.FUTEX_WAIT_REQUEUE_PI:
    case Futex.FUTEX_CMP_REQUEUE_PI:
    case Futex.FUTEX_LOCK_PI2:
      return E.ENOSYS;
    default:
      return E.ENOSYS;
  }
}

/** Futex syscalls. */
export const futexSyscalls: SyscallFamily = {
  futex: {
    handler: futex,
    support: partial(
      'no priority-inheritance operations (ENOSYS); WAKE_OP is not atomic against host threads running concurrently',
    ),
  },
};
