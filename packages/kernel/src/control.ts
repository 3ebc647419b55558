/**
 * Kernel-internal syscall results that are neither a value nor an errno the app may see. Linux
 * keeps them as errnos above 511 that never reach user space; here each is a distinct object,
 * compared with `===`, so that no handler can confuse one with a real result.
 *
 * The runtime, after a handler returns one of these, decides what the app sees:
 * - restart values: if a signal handler is about to run, the syscall either fails with EINTR or
 *   is restarted after the handler (rip moved back over the `syscall` instruction), as each
 *   value documents; with no handler to run, it is restarted transparently;
 * - {@link NO_RESULT}: the handler has set the registers itself (rt_sigreturn, execve);
 * - {@link TASK_GONE}: the task no longer exists (exit, exit_group, a fatal signal).
 *
 * @module
 */

/** The kinds of control results. */
export type ControlKind =
  'ERESTARTSYS' | 'ERESTARTNOINTR' | 'ERESTARTNOHAND' | 'ERESTART_RESTARTBLOCK' | 'NO_RESULT' | 'TASK_GONE';

/** A kernel-internal syscall result. */
export class ControlResult {
  /** @internal one object per kind; use the exported constants. */
  constructor(
    readonly kind: ControlKind,
    /** Linux's internal number for the restart kinds (512..516); 0 for the others. */
    readonly linuxValue: number,
  ) {
    Object.freeze(this);
  }

  toString(): string {
    return this.kind;
  }
}

/**
 * Interrupted by a signal: restart if the handler has `SA_RESTART` or if no handler runs
 * (ignored or default-ignored signal, or a stop/continue); otherwise EINTR.
 */
export const ERESTARTSYS = new ControlResult('ERESTARTSYS', 512);
/** Interrupted: always restart, whatever the handler's flags (e.g. a vfork wait). */
export const ERESTARTNOINTR = new ControlResult('ERESTARTNOINTR', 513);
/** Interrupted: restart only if no handler runs; EINTR if one does (pause, sigsuspend, ...). */
export const ERESTARTNOHAND = new ControlResult('ERESTARTNOHAND', 514);
/**
 * Interrupted: restart through `restart_syscall(2)` with the task's saved restart block (the
 * remaining time of nanosleep/clock_nanosleep/futex) if no handler runs; EINTR otherwise.
 */
export const ERESTART_RESTARTBLOCK = new ControlResult('ERESTART_RESTARTBLOCK', 516);
/** The handler set the task's registers itself; do not write rax. */
export const NO_RESULT = new ControlResult('NO_RESULT', 0);
/** The calling task is gone; there is nothing to resume. */
export const TASK_GONE = new ControlResult('TASK_GONE', 0);

/** True when `value` is a {@link ControlResult}. */
export function isControl(value: unknown): value is ControlResult {
  // Numbers first, as in abi's isError: most syscall results are counts.
  return typeof value === 'object' && value instanceof ControlResult;
}
