/**
 * execve(2) and execveat(2): the arguments are read from the app here; the kernel's exec entry
 * (`execTask` of `@tsvisor/kernel`) finds the binary and its interpreter in the sandbox VFS, lays
 * out the new image through `@tsvisor/mm` and the platform, and starts the task at its entry with
 * a stack that matches Linux's byte for byte.
 *
 * @module
 */
import { At, E, Rlimit, isError } from '@tsvisor/abi';
import { MAX_ARG_STRLEN, NO_RESULT, TASK_GONE, execTask, softLimit, type Task } from '@tsvisor/kernel';
import { ctxOf, dirOf, pathArg, pathBytes } from './vfs-context.js';
import { int, partial, ptr, type SyscallArgs, type SyscallFamily, type SyscallResult } from './types.js';

/** Linux's `MAX_ARG_STRINGS`. */
const MAX_ARG_STRINGS = 0x7fffffff;

/**
 * Reads execve's arguments from the app and runs {@link execProgram}. Errors before the point of
 * no return leave the caller untouched.
 */
async function doExecve(
  t: Task,
  dirfd: number,
  pathAddr: number,
  argvAddr: number,
  envpAddr: number,
  flags: number,
): Promise<SyscallResult> {
  if (flags & ~(At.AT_EMPTY_PATH | At.AT_SYMLINK_NOFOLLOW)) return E.EINVAL;
  const path = pathArg(t, pathAddr);
  if (isError(path)) return path;
  // Linux charges each pointer against a quarter of the stack limit; stop reading there (E2BIG)
  // rather than walk an endless vector.
  const stackLimit = softLimit(t.group.rlimits, Rlimit.RLIMIT_STACK);
  const maxPointers = Math.min(
    MAX_ARG_STRINGS,
    Math.floor(Math.max(Number.isFinite(stackLimit) ? stackLimit / 4 : 6 << 20, 32 * 4096) / 8),
  );
  const argv = t.memory.readStringArray(argvAddr, maxPointers, MAX_ARG_STRLEN);
  if (isError(argv)) return argv;
  const envp = t.memory.readStringArray(envpAddr, maxPointers - argv.length, MAX_ARG_STRLEN);
  if (isError(envp)) return envp;
  return execProgram(t, pathBytes(path), argv, envp, { dirfd, flags });
}

/**
 * Replaces the task's program, as execve does once the arguments are known (argv and envp from a
 * command line, for instance). `path` is resolved in the sandbox VFS from the task's cwd (or
 * `opts.dirfd`). Returns NO_RESULT when the task now runs the new program (registers set), an
 * errno when nothing changed, or TASK_GONE when a failure after the point of no return killed
 * the process (SIGSEGV, as Linux).
 */
export async function execProgram(
  t: Task,
  path: Uint8Array,
  argv: readonly Uint8Array[],
  envp: readonly Uint8Array[],
  opts: { dirfd?: number; flags?: number } = {},
): Promise<SyscallResult> {
  const flags = opts.flags ?? 0;
  if (path.length === 0 && !(flags & At.AT_EMPTY_PATH)) return E.ENOENT;
  // An absolute path never looks at dirfd (a bad one is no error then).
  const dir = path[0] === 0x2f ? dirOf(t, At.AT_FDCWD) : dirOf(t, opts.dirfd ?? At.AT_FDCWD);
  if (isError(dir)) return dir;
  const r = await execTask(t, { path, argv, envp, ctx: ctxOf(t), dir, flags });
  return isError(r) || r === TASK_GONE ? r : NO_RESULT;
}

/** implements execve(2). */
function execve(t: Task, a: SyscallArgs): Promise<SyscallResult> {
  return doExecve(t, -100, ptr(a[0]), ptr(a[1]), ptr(a[2]), 0);
}

/** implements execveat(2): AT_EMPTY_PATH executes the dirfd itself; AT_SYMLINK_NOFOLLOW. */
function execveat(t: Task, a: SyscallArgs): Promise<SyscallResult> {
  const dirfd = int(a[0]);
  return doExecve(t, dirfd, ptr(a[1]), ptr(a[2]), ptr(a[3]), int(a[4]));
}

/** Program execution syscalls. */
export const execSyscalls: SyscallFamily = {
  execve: {
    handler: execve,
    support: partial('no set-id binaries'),
  },
  execveat: { handler: execveat, support: partial('as execve') },
};
