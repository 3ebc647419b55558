/**
 * What {@link Task.switch} reports: the next thing that stopped the task.
 *
 * @module
 */

/**
 * The task made a system call. The host did not run it (PTRACE_SYSEMU): answer it with
 * `task.setSyscallResult()` (or registers), then switch again. `args` are the six argument
 * registers read as signed 64-bit integers (so `-100` stays `-100`, and pointers are exact);
 * values beyond ±2^53 lose precision: read `task.getRegs()` for those.
 */
export interface SyscallEvent {
  readonly kind: 'syscall';
  /** orig_rax: the system call number. */
  readonly nr: number;
  /** rdi, rsi, rdx, r10, r8, r9. */
  readonly args: readonly [number, number, number, number, number, number];
}

/** A synchronous fault: SIGSEGV, SIGBUS, SIGFPE, SIGILL or SIGTRAP raised by an instruction. */
export interface FaultEvent {
  readonly kind: 'fault';
  readonly signo: number;
  /** siginfo si_code (e.g. SEGV_MAPERR = 1, SEGV_ACCERR = 2). */
  readonly code: number;
  /** siginfo si_addr: the faulting address. */
  readonly addr: number;
}

/** A signal sent to the host process from outside (never delivered: the kernel decides). */
export interface SignalEvent {
  readonly kind: 'signal';
  readonly signo: number;
  readonly code: number;
  /** Sender pid and uid from siginfo, as the host sees them. */
  readonly pid: number;
  readonly uid: number;
}

/** The task's host thread exited (after an injected exit/exit_group) with `status`. */
export interface ExitEvent {
  readonly kind: 'exited';
  readonly status: number;
}

/** The task's host thread was killed by a signal (`kill()`, or from outside). */
export interface KilledEvent {
  readonly kind: 'killed';
  readonly signo: number;
  readonly coreDumped: boolean;
}

/** Everything {@link Task.switch} can report. */
export type TaskEvent = SyscallEvent | FaultEvent | SignalEvent | ExitEvent | KilledEvent;
