/**
 * Signals: rt_sigaction, rt_sigprocmask, rt_sigpending, rt_sigsuspend, pause, sigaltstack,
 * kill, tgkill, tkill, rt_sigreturn. Delivery itself (frames, default actions, restarts) is the
 * kernel's `deliverSignals`, which the runtime runs after every syscall.
 *
 * @module
 */
import {
  E,
  SIGSET_SIZE,
  SigHow,
  SigSet,
  SigStack,
  SignalDefault,
  SsFlag,
  isError,
  isUncatchable,
  isValidSignal,
  kernel_sigaction,
  signalDefault,
  stack_t,
} from '@tsvisor/abi';
import {
  ERESTARTNOHAND,
  KNOWN_SA_FLAGS,
  SIG_DFL,
  SIG_IGN,
  Waiter,
  altStackFlags,
  onAltStack,
  sigreturn,
  type Task,
} from '@tsvisor/kernel';
import { readStruct, writeStruct } from './user-structs.js';
import { FULL, int, ptr, size, type SyscallArgs, type SyscallFamily, type SyscallResult } from './types.js';

/**
 * implements rt_sigaction(2): `EINVAL` for a bad signal, a sigsetsize other than 8, or changing
 * SIGKILL/SIGSTOP; `EFAULT` for bad pointers. Unknown flag bits are dropped, as Linux does.
 * Setting a disposition that ignores a signal discards its pending instances.
 */
function rtSigaction(t: Task, a: SyscallArgs): SyscallResult {
  const sig = int(a[0]);
  if (size(a[3]) !== SIGSET_SIZE) return E.EINVAL;
  if (!isValidSignal(sig)) return E.EINVAL;
  const g = t.group;
  const old = g.actions.get(sig);
  if (a[1] !== 0n) {
    if (isUncatchable(sig)) return E.EINVAL;
    const act = readStruct(t, ptr(a[1]), kernel_sigaction);
    if (isError(act)) return act;
    const mask = SigSet.fromBigInt(act.sa_mask).removeUncatchable();
    g.actions.set(sig, {
      handler: act.sa_handler,
      flags: Number(act.sa_flags & BigInt(KNOWN_SA_FLAGS >>> 0)),
      restorer: act.sa_restorer,
      mask,
    });
    const ignored =
      act.sa_handler === SIG_IGN ||
      (act.sa_handler === SIG_DFL && signalDefault(sig) === SignalDefault.Ignore);
    if (ignored) {
      g.sharedPending.discard(sig);
      for (const th of g.tasks) th.pending.discard(sig);
    }
  }
  if (a[2] !== 0n) {
    const e = writeStruct(t, ptr(a[2]), kernel_sigaction, {
      sa_handler: old.handler,
      sa_flags: BigInt(old.flags >>> 0),
      sa_restorer: old.restorer,
      sa_mask: old.mask.toBigInt(),
    });
    if (e) return e;
  }
  return 0;
}

/** implements rt_sigprocmask(2): `EINVAL` for a bad `how` or sigsetsize, `EFAULT`. */
function rtSigprocmask(t: Task, a: SyscallArgs): SyscallResult {
  if (size(a[3]) !== SIGSET_SIZE) return E.EINVAL;
  const old = t.mask.toBigInt();
  if (a[1] !== 0n) {
    const raw = t.memory.readU64(ptr(a[1]));
    if (isError(raw)) return raw;
    const set = SigSet.fromBigInt(raw).removeUncatchable();
    switch (int(a[0])) {
      case SigHow.SIG_BLOCK:
        t.mask.union(set);
        break;
      case SigHow.SIG_UNBLOCK:
        t.mask.subtract(set);
        break;
      case SigHow.SIG_SETMASK:
        t.mask.set(set);
        break;
      default:
        return E.EINVAL;
    }
  }
  if (a[2] !== 0n) {
    const e = t.memory.writeU64(ptr(a[2]), old);
    if (e) return e;
  }
  return 0;
}

/** implements rt_sigpending(2): the blocked signals pending for the thread or its process. */
function rtSigpending(t: Task, a: SyscallArgs): SyscallResult {
  if (size(a[1]) > SIGSET_SIZE) return E.EINVAL;
  const pending = t.pending.set.clone().union(t.group.sharedPending.set).intersect(t.mask);
  const bytes = new Uint8Array(8);
  new DataView(bytes.buffer).setBigUint64(0, pending.toBigInt(), true);
  return t.memory.writeExact(ptr(a[0]), bytes.subarray(0, size(a[1]))) ?? 0;
}

/** Sleeps until a signal interrupts; the result makes delivery run a handler, then EINTR. */
async function sleepForSignal(t: Task): Promise<SyscallResult> {
  for (;;) {
    const why = await t.block(new Waiter(undefined));
    if (why === 'interrupted') return ERESTARTNOHAND;
  }
}

/**
 * implements rt_sigsuspend(2): replaces the mask until a signal is delivered; the handler's frame
 * saves the original mask, which rt_sigreturn restores.
 */
function rtSigsuspend(t: Task, a: SyscallArgs): SyscallResult | Promise<SyscallResult> {
  if (size(a[1]) !== SIGSET_SIZE) return E.EINVAL;
  const raw = t.memory.readU64(ptr(a[0]));
  if (isError(raw)) return raw;
  t.savedMask = t.mask.clone();
  t.mask.set(SigSet.fromBigInt(raw).removeUncatchable());
  return sleepForSignal(t);
}

/** implements pause(2). */
function pause(t: Task): Promise<SyscallResult> {
  return sleepForSignal(t);
}

/**
 * implements sigaltstack(2): `EPERM` while running on the alternate stack, `EINVAL` for bad
 * flags, `ENOMEM` for a stack smaller than MINSIGSTKSZ, `EFAULT`.
 */
function sigaltstack(t: Task, a: SyscallArgs): SyscallResult {
  const sp = Number(BigInt.asUintN(47, t.regs.get('rsp')));
  const old = t.altStack;
  const oldValue = { ss_sp: BigInt(old.sp), ss_flags: altStackFlags(t, sp), ss_size: BigInt(old.size) };
  if (a[0] !== 0n) {
    const ss = readStruct(t, ptr(a[0]), stack_t);
    if (isError(ss)) return ss;
    if (onAltStack(t, sp)) return E.EPERM;
    const mode = ss.ss_flags & ~SsFlag.SS_AUTODISARM;
    if (mode !== 0 && mode !== SsFlag.SS_ONSTACK && mode !== SsFlag.SS_DISABLE) return E.EINVAL;
    // Linux keeps the flags word as given; signal frames save it in uc_stack.
    if (mode === SsFlag.SS_DISABLE) t.altStack = { sp: 0, size: 0, flags: ss.ss_flags };
    else {
      if (ss.ss_size < BigInt(SigStack.MINSIGSTKSZ)) return E.ENOMEM;
      t.altStack = {
        sp: Number(BigInt.asUintN(47, ss.ss_sp)),
        size: size(ss.ss_size),
        flags: ss.ss_flags,
      };
    }
  }
  if (a[1] !== 0n) {
    const e = writeStruct(t, ptr(a[1]), stack_t, oldValue);
    if (e) return e;
  }
  return 0;
}

/** implements kill(2). */
function kill(t: Task, a: SyscallArgs): SyscallResult {
  const pid = int(a[0]);
  if (pid === -0x80000000) return E.ESRCH;
  return t.kernel.kill(t, pid, int(a[1])) ?? 0;
}

/** implements tgkill(2). */
function tgkill(t: Task, a: SyscallArgs): SyscallResult {
  const tgid = int(a[0]);
  const tid = int(a[1]);
  // Neither id may be 0 or negative (no process-group or broadcast forms, unlike kill).
  if (tgid <= 0 || tid <= 0) return E.EINVAL;
  return t.kernel.tgkill(t, tgid, tid, int(a[2])) ?? 0;
}

/** implements tkill(2). */
function tkill(t: Task, a: SyscallArgs): SyscallResult {
  if (int(a[0]) <= 0) return E.EINVAL;
  return t.kernel.tgkill(t, -1, int(a[0]), int(a[1])) ?? 0;
}

/** implements rt_sigreturn(2): restores the state saved in the signal frame. */
function rtSigreturn(t: Task): SyscallResult {
  return sigreturn(t.kernel, t);
}

/** Signal syscalls. */
export const signalSyscalls: SyscallFamily = {
  rt_sigaction: { handler: rtSigaction, support: FULL },
  rt_sigprocmask: { handler: rtSigprocmask, support: FULL },
  rt_sigpending: { handler: rtSigpending, support: FULL },
  rt_sigsuspend: { handler: rtSigsuspend, support: FULL },
  pause: { handler: pause, support: FULL },
  sigaltstack: { handler: sigaltstack, support: FULL },
  kill: { handler: kill, support: FULL },
  tgkill: { handler: tgkill, support: FULL },
  tkill: { handler: tkill, support: FULL },
  rt_sigreturn: { handler: rtSigreturn, support: FULL },
};
