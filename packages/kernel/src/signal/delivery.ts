/**
 * Signal delivery on x86-64: what happens between a syscall's return (or an interruption of app
 * code) and the task's next instruction. Pending signals are taken in Linux's order; default
 * actions stop or kill; a handler gets an `rt_sigframe` built on the app stack (or the
 * alternate stack) exactly where and how Linux builds it, and rt_sigreturn undoes it.
 *
 * Restart rules for an interrupted syscall (its result is a control value from `control.ts`):
 * with a handler to run, ERESTARTSYS restarts only under SA_RESTART, ERESTARTNOINTR always, the
 * others become EINTR; with no handler, all restart, ERESTART_RESTARTBLOCK through
 * restart_syscall(2).
 *
 * @module
 */
import {
  E,
  FP_XSTATE_MAGIC1,
  FP_XSTATE_MAGIC2,
  FP_XSTATE_MAGIC2_SIZE,
  SaFlag,
  SiCode,
  SigSet,
  Signal,
  SignalDefault,
  SsFlag,
  UC_FP_XSTATE,
  UC_SIGCONTEXT_SS,
  UC_STRICT_RESTORE_SS,
  dataView,
  fpx_sw_bytes,
  isError,
  rtSigframeLayout,
  rt_sigframe,
  signalDefault,
  ucontext,
  type LinuxError,
} from '@tsvisor/abi';
import {
  ERESTARTNOINTR,
  ERESTARTSYS,
  ERESTART_RESTARTBLOCK,
  NO_RESULT,
  TASK_GONE,
  isControl,
  type ControlResult,
} from '../control.js';
import type { Kernel } from '../kernel.js';
import { USER_CS, USER_DS, defaultFpState, type CpuState } from '../ports/cpu-state.js';
import type { Task } from '../task/task.js';
import { SIG_DFL, SIG_DFL_ACTION, SIG_IGN, siginfoBytes, type SigInfo } from './signal-state.js';

/** `__NR_restart_syscall` on x86-64. */
export const NR_RESTART_SYSCALL = 219;

/** What the runtime does next with a task after {@link deliverSignals}. */
export type DeliveryOutcome =
  /** Resume it with its (possibly changed) registers. */
  | 'run'
  /** Its process is stopped: await `kernel.waitWhileStopped(task)`, then deliver again. */
  | 'stopped'
  /** It is gone. */
  | 'exited';

// eflags bits sigreturn takes from the frame (Linux's FIX_EFLAGS: AC OF DF TF SF ZF AF PF CF RF).
const FIX_EFLAGS = 0x40000n | 0x800n | 0x400n | 0x100n | 0x80n | 0x40n | 0x10n | 0x4n | 0x1n | 0x10000n;
// Cleared on handler entry: DF, RF, TF.
const HANDLER_CLEARS = 0x400n | 0x10000n | 0x100n;

/**
 * Takes the task's deliverable signals and acts on them, after the syscall `interrupted` (if the
 * task is returning from one) has had its result stored. `syscallResult` is that result: a
 * restart control value makes the syscall restart or fail with EINTR as the module comment says.
 */
export function deliverSignals<F>(
  kernel: Kernel<F>,
  task: Task<F>,
  syscallResult?: unknown,
): DeliveryOutcome {
  let pendingRestart: ControlResult | undefined =
    isControl(syscallResult) && syscallResult.linuxValue !== 0 ? syscallResult : undefined;
  for (;;) {
    if (task.state !== 'alive') return 'exited';
    const g = task.group;
    if (g.stopped) {
      if (pendingRestart) restartSyscall(task, pendingRestart);
      return 'stopped';
    }
    const info = task.pending.dequeue(task.mask) ?? g.sharedPending.dequeue(task.mask);
    if (!info) {
      if (pendingRestart) restartSyscall(task, pendingRestart);
      if (task.savedMask) {
        task.mask.set(task.savedMask);
        task.savedMask = undefined;
      }
      return 'run';
    }
    const sig = info.signo;
    const act = g.actions.get(sig);
    if (act.handler === SIG_IGN) continue;
    if (act.handler === SIG_DFL) {
      const def = signalDefault(sig);
      if (def === SignalDefault.Ignore || def === SignalDefault.Continue) continue;
      if (def === SignalDefault.Stop) {
        kernel.stopGroup(g, sig);
        continue;
      }
      kernel.killGroup(g, sig | (def === SignalDefault.Core ? 0x80 : 0));
      return 'exited';
    }
    // A handler runs.
    if (pendingRestart) {
      const restart =
        pendingRestart === ERESTARTNOINTR ||
        (pendingRestart === ERESTARTSYS && (act.flags & SaFlag.SA_RESTART) !== 0);
      if (restart) restartSyscall(task, pendingRestart);
      else task.regs.setSyscallResult(-E.EINTR.errno);
      pendingRestart = undefined;
    }
    const err = setupFrame(task, info, act.handler, act.flags, act.restorer);
    if (err) {
      forceSigsegv(kernel, task);
      continue;
    }
    if (act.flags & SaFlag.SA_RESETHAND) g.actions.set(sig, SIG_DFL_ACTION);
    task.mask.union(act.mask);
    if ((act.flags & SaFlag.SA_NODEFER) === 0) task.mask.add(sig);
    task.mask.removeUncatchable();
  }
}

function restartSyscall(task: Task<unknown>, why: ControlResult): void {
  const r = task.regs;
  r.set('rip', r.get('rip') - 2n);
  r.set('rax', why === ERESTART_RESTARTBLOCK ? BigInt(NR_RESTART_SYSCALL) : r.get('orig_rax'));
}

/** True when `sp` lies on the task's alternate signal stack (Linux's on_sig_stack). */
export function onAltStack(task: Task<unknown>, sp: number): boolean {
  const a = task.altStack;
  return a.size > 0 && sp > a.sp && sp - a.sp <= a.size;
}

/** The `ss_flags` sigaltstack(2) reports for the task at stack pointer `sp`. */
export function altStackFlags(task: Task<unknown>, sp: number): number {
  if (task.altStack.size === 0) return SsFlag.SS_DISABLE;
  return (onAltStack(task, sp) ? SsFlag.SS_ONSTACK : 0) | (task.altStack.flags & SsFlag.SS_AUTODISARM);
}

/** Size of the FP part of a frame: the fxsave area, or the xsave area plus the MAGIC2 word. */
function fpFrameSize(cpu: CpuState): number {
  return cpu.fp.xsave ? cpu.fp.bytes.length + FP_XSTATE_MAGIC2_SIZE : 512;
}

function setupFrame(
  task: Task<unknown>,
  info: SigInfo,
  handler: bigint,
  flags: number,
  restorer: bigint,
): LinuxError | undefined {
  const regs = task.regs;
  const rsp = Number(BigInt.asUintN(47, regs.get('rsp')));
  const alt = task.altStack;
  const useAlt = (flags & SaFlag.SA_ONSTACK) !== 0 && alt.size > 0 && !onAltStack(task, rsp);
  const top = useAlt ? alt.sp + alt.size : rsp;
  // x86-64 needs SA_RESTORER: without a return address the handler cannot come back.
  if ((flags & SaFlag.SA_RESTORER) === 0) return E.EFAULT;
  const layout = rtSigframeLayout(top, fpFrameSize(regs));
  if (isError(layout)) return layout;

  // The FP state, with the software bytes that tell sigreturn (and glibc) what format it is.
  const fp = new Uint8Array(fpFrameSize(regs));
  fp.set(regs.fp.bytes.subarray(0, Math.min(regs.fp.bytes.length, fp.length)));
  if (regs.fp.xsave) {
    fpx_sw_bytes.write(dataView(fp), 464, {
      magic1: FP_XSTATE_MAGIC1,
      extended_size: fp.length,
      xfeatures: regs.fp.xfeatures,
      xstate_size: regs.fp.bytes.length,
      padding: new Uint8Array(28),
    });
    dataView(fp).setUint32(regs.fp.bytes.length, FP_XSTATE_MAGIC2, true);
  } else {
    fp.fill(0, 464, 512);
  }
  const savedMask = task.savedMask ?? task.mask;
  const frame = new Uint8Array(rt_sigframe.size);
  const uc = {
    uc_flags: BigInt(UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS | (regs.fp.xsave ? UC_FP_XSTATE : 0)),
    uc_link: 0n,
    // Linux saves the flags as sigaltstack stored them (0 when never set), not the on-stack state.
    uc_stack: { ss_sp: BigInt(alt.sp), ss_flags: alt.flags, ss_size: BigInt(alt.size) },
    uc_mcontext: {
      r8: regs.get('r8'),
      r9: regs.get('r9'),
      r10: regs.get('r10'),
      r11: regs.get('r11'),
      r12: regs.get('r12'),
      r13: regs.get('r13'),
      r14: regs.get('r14'),
      r15: regs.get('r15'),
      rdi: regs.get('rdi'),
      rsi: regs.get('rsi'),
      rbp: regs.get('rbp'),
      rbx: regs.get('rbx'),
      rdx: regs.get('rdx'),
      rax: regs.get('rax'),
      rcx: regs.get('rcx'),
      rsp: regs.get('rsp'),
      rip: regs.get('rip'),
      eflags: regs.get('eflags'),
      cs: Number(regs.get('cs') & 0xffffn),
      gs: 0,
      fs: 0,
      ss: Number(regs.get('ss') & 0xffffn),
      err: 0n,
      trapno: 0n,
      oldmask: savedMask.toBigInt(),
      cr2: 0n,
      fpstate: layout.fpstate,
      reserved1: new Uint8Array(64),
    },
    uc_sigmask: savedMask.toBigInt(),
  };
  const dv = dataView(frame);
  dv.setBigUint64(0, restorer, true);
  ucontext.write(dv, 8, uc);
  frame.set(siginfoBytes(info), 312);
  const mem = task.memory;
  const e1 = mem.writeExact(layout.fpstate, fp);
  if (e1) return e1;
  const e2 = mem.writeExact(layout.frame, frame);
  if (e2) return e2;
  if (useAlt && alt.flags & SsFlag.SS_AUTODISARM)
    task.altStack = { sp: 0, size: 0, flags: SsFlag.SS_DISABLE };
  task.savedMask = undefined;

  regs.set('rsp', BigInt(layout.frame));
  regs.set('rip', handler);
  regs.set('rdi', BigInt(info.signo));
  regs.set('rsi', BigInt(layout.frame + 312));
  regs.set('rdx', BigInt(layout.frame + 8));
  regs.set('rax', 0n);
  regs.set('eflags', regs.get('eflags') & ~HANDLER_CLEARS);
  regs.set('cs', USER_CS);
  regs.set('ss', USER_DS);
  // The handler starts with a clean FP state, as after fpu__clear_user_states.
  const fresh = defaultFpState();
  if (regs.fp.xsave) {
    const bytes = new Uint8Array(regs.fp.bytes.length);
    bytes.set(fresh.bytes);
    regs.fp = { bytes, xsave: true, xfeatures: regs.fp.xfeatures };
  } else {
    regs.fp = fresh;
  }
  return undefined;
}

/**
 * rt_sigreturn(2): restores the registers, FP state, signal mask and alternate stack saved in
 * the frame the handler is returning through (at rsp - 8, after its `ret` popped pretcode).
 * A frame that cannot be read kills the task with SIGSEGV, as Linux does.
 */
export function sigreturn<F>(kernel: Kernel<F>, task: Task<F>): ControlResult {
  const regs = task.regs;
  const frameAddr = Number(BigInt.asUintN(47, regs.get('rsp'))) - 8;
  const raw = task.memory.read(frameAddr, rt_sigframe.size);
  if (isError(raw)) {
    forceSigsegv(kernel, task);
    return task.state === 'alive' ? NO_RESULT : TASK_GONE;
  }
  const uc = ucontext.read(dataView(raw), 8);
  const sc = uc.uc_mcontext;
  const fpAddr = sc.fpstate;
  let fp = defaultFpState();
  if (regs.fp.xsave) {
    const bytes = new Uint8Array(regs.fp.bytes.length);
    bytes.set(fp.bytes);
    fp = { bytes, xsave: true, xfeatures: regs.fp.xfeatures };
  }
  if (fpAddr !== 0) {
    const len = regs.fp.xsave && uc.uc_flags & BigInt(UC_FP_XSTATE) ? regs.fp.bytes.length : 512;
    const bytes = task.memory.read(fpAddr, len);
    if (isError(bytes)) {
      forceSigsegv(kernel, task);
      return task.state === 'alive' ? NO_RESULT : TASK_GONE;
    }
    fp.bytes.set(bytes.subarray(0, 464));
    if (len > 512) fp.bytes.set(bytes.subarray(512), 512);
  }
  for (const r of [
    'r8',
    'r9',
    'r10',
    'r11',
    'r12',
    'r13',
    'r14',
    'r15',
    'rdi',
    'rsi',
    'rbp',
    'rbx',
    'rdx',
    'rax',
    'rcx',
    'rsp',
    'rip',
  ] as const) {
    regs.set(r, sc[r]);
  }
  regs.set('eflags', (regs.get('eflags') & ~FIX_EFLAGS) | (sc.eflags & FIX_EFLAGS));
  regs.set('cs', USER_CS);
  regs.set('ss', USER_DS);
  // Never let the restored state look like a syscall to restart.
  regs.set('orig_rax', -1n);
  regs.fp = fp;
  task.mask.set(SigSet.fromBigInt(uc.uc_sigmask)).removeUncatchable();
  const st = uc.uc_stack;
  // restore_altstack: a bad saved stack is ignored unless it faults, as Linux.
  if ((st.ss_flags & SsFlag.SS_DISABLE) !== 0) task.altStack = { sp: 0, size: 0, flags: 0 };
  else if (st.ss_size > 0n && !onAltStack(task, Number(BigInt.asUintN(47, regs.get('rsp'))))) {
    task.altStack = {
      sp: Number(st.ss_sp),
      size: Number(st.ss_size),
      flags: st.ss_flags & SsFlag.SS_AUTODISARM,
    };
  }
  return NO_RESULT;
}

/**
 * Delivers SIGSEGV the way Linux's force_sigsegv does when a frame cannot be written or read:
 * the handler is reset to SIG_DFL and the signal unblocked, so it kills.
 */
export function forceSigsegv<F>(kernel: Kernel<F>, task: Task<F>): void {
  task.group.actions.set(Signal.SIGSEGV, SIG_DFL_ACTION);
  task.mask.delete(Signal.SIGSEGV);
  kernel.sendToTask(task, { signo: Signal.SIGSEGV, code: SiCode.SI_KERNEL });
}

/**
 * A synchronous SIGSEGV for a bad access at `addr` (force_sig_fault): a handler runs if one is
 * installed and the signal is not blocked; otherwise (blocked or ignored) the handler is reset
 * and the process dies, as Linux does for faults it cannot deliver.
 */
export function forceSigsegvAt<F>(kernel: Kernel<F>, task: Task<F>, addr: bigint, code: number): void {
  const act = task.group.actions.get(Signal.SIGSEGV);
  if (task.mask.has(Signal.SIGSEGV) || act.handler === SIG_IGN) {
    task.group.actions.set(Signal.SIGSEGV, SIG_DFL_ACTION);
    task.mask.delete(Signal.SIGSEGV);
  }
  kernel.sendToTask(task, { signo: Signal.SIGSEGV, code, addr });
}
