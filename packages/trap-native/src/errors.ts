/**
 * The one error class of the platform. Everything that goes wrong in the platform itself (a bad
 * task handle, a task that is running or gone, a register set the kernel refuses, a call with
 * the wrong argument shapes) arrives as a `TrapError` whose `code` names the Linux errno that
 * best describes it. The addon receives this class at load time and throws it directly, so a
 * bad call from TypeScript never crashes Node.
 *
 * Failures the sandboxed program can cause (a bad pointer it passed, a host call that fails)
 * are not thrown: memory calls return `LinuxError` values and host calls return `-errno`.
 *
 * @module
 */

/** The codes a {@link TrapError} carries; other errno names can appear for host failures. */
export type TrapErrorCode =
  'EINVAL' | 'ESRCH' | 'EBUSY' | 'EPERM' | 'EBADF' | 'EIO' | 'ENOENT' | 'EACCES' | (string & {});

/**
 * An error of the platform, typed by an errno-like `code`.
 *
 * @example
 * ```ts
 * try {
 *   task.getRegs();
 * } catch (e) {
 *   if (e instanceof TrapError && e.code === 'ESRCH') console.log('task is gone');
 * }
 * ```
 */
export class TrapError extends Error {
  override readonly name = 'TrapError';

  constructor(
    /** errno-like name: `EINVAL` for bad arguments, `ESRCH` for unknown or dead tasks, `EBUSY` for running tasks. */
    readonly code: TrapErrorCode,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}
