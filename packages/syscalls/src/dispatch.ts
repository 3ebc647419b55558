/**
 * The dispatcher: from a trapped syscall (number and raw arguments) to a handler's result. An
 * unknown or unimplemented number answers ENOSYS and is reported once per name in the sandbox
 * log, so a user learns what their program missed without a flood.
 *
 * @module
 */
import { E } from '@tsvisor/abi';
import { runCpuTimers, type Task } from '@tsvisor/kernel';
import { beginPendingIo, endPendingIo } from '@tsvisor/vfs';
import type { SyscallTable } from './table.js';
import type { SyscallArgs, SyscallResult } from './types.js';

/**
 * Runs syscall `nr` for `task`. Returns the handler's result (value, errno, control result, or a
 * promise of one). Never throws for app input; a handler that throws is a bug, which the trap
 * loop catches and logs.
 */
export function dispatch(
  table: SyscallTable,
  task: Task,
  nr: number,
  args: SyscallArgs,
): SyscallResult | Promise<SyscallResult> {
  // procfs asks the kernel who is reading; this is the task whose syscall runs now.
  task.kernel.current = task;
  // CPU time is sampled at syscall entry, so the CPU-time interval timers are checked here.
  runCpuTimers(task.kernel, task.group);
  const entry = table.get(nr);
  if (!entry) {
    task.kernel.logOnce(`nr:${nr}`, `unknown syscall ${nr}: answered ENOSYS`);
    return E.ENOSYS;
  }
  if (!entry.handler) {
    task.kernel.logOnce(`nr:${nr}`, `unsupported syscall ${entry.name}(${nr}): answered ENOSYS`);
    return E.ENOSYS;
  }
  // A filesystem whose callbacks answer later (userfs with async callbacks) makes a path
  // operation answer EAGAIN while its callback is in flight; the same call repeated once the
  // callback settled finds the answer (see settleVfs in @tsvisor/vfs). Blocking reads and writes
  // wait through the file's wait queue instead and never get here with EAGAIN.
  // (collectPendingIo without its closure and result object: this runs for every syscall, and
  // so it makes no closure at all: see again.)
  const mark = beginPendingIo();
  let result: SyscallResult | Promise<SyscallResult>;
  try {
    result = entry.handler(task, args);
  } catch (e) {
    endPendingIo(mark);
    throw e;
  }
  const pending = endPendingIo(mark);
  if (pending !== null && result === E.EAGAIN) return again(pending, table, task, nr, args);
  return result;
}

/**
 * The same call once `pending` settled. Its own function because the closure it makes would
 * otherwise make every dispatch allocate a context for the variables it captures.
 */
function again(
  pending: Promise<void>,
  table: SyscallTable,
  task: Task,
  nr: number,
  args: SyscallArgs,
): Promise<SyscallResult> {
  return pending.then(() => dispatch(table, task, nr, args));
}
