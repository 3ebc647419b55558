/**
 * The whole kernel side of one trapped syscall, for the runtime's trap loop: dispatch by the
 * number and arguments in the task's registers, store the result in rax (unless the handler set
 * the registers itself), then deliver pending signals with the restart rules applied.
 *
 * @module
 */
import { E, isError, syscallByNumber } from '@tsvisor/abi';
import {
  NO_RESULT,
  TASK_GONE,
  deliverSignals,
  isControl,
  type DeliveryOutcome,
  type Task,
} from '@tsvisor/kernel';
import { dispatch } from './dispatch.js';
import type { SyscallTable } from './table.js';
import type { SyscallResult } from './types.js';

/**
 * Handles the syscall `task` has trapped on. Returns what to do with the task next: `'run'`
 * (resume with `task.regs`), or `'exited'`. A stopped process is waited for here (until SIGCONT
 * or death), so `'stopped'` is never returned.
 *
 * A handler that throws is a bug: it is logged with the syscall's name and answered with EFAULT,
 * and the sandbox goes on.
 */
export async function handleSyscall(
  table: SyscallTable,
  task: Task,
): Promise<Exclude<DeliveryOutcome, 'stopped'>> {
  const regs = task.regs;
  const nr = regs.syscallNr;
  let result: SyscallResult;
  try {
    result = await dispatch(table, task, nr, regs.syscallArgs());
  } catch (err) {
    const name = syscallByNumber(nr)?.name ?? `syscall ${nr}`;
    task.kernel.log(`bug: ${name} threw: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    result = E.EFAULT;
  }
  if (result === TASK_GONE || task.state !== 'alive') return 'exited';
  if (isError(result)) regs.setSyscallResult(-result.errno);
  else if (!isControl(result)) regs.setSyscallResult(result);
  else if (result !== NO_RESULT) {
    // A restart value: until delivery decides, rax shows EINTR as Linux's -ERESTART* would not leak.
    regs.setSyscallResult(-E.EINTR.errno);
  }
  return deliverUntilRunnable(task, result);
}

/**
 * Delivers pending signals to a task that is about to resume (after a syscall, or after the
 * runtime interrupted it), waiting out a stop. Pass the syscall result when there is one.
 */
export async function deliverUntilRunnable(task: Task, syscallResult?: unknown): Promise<'run' | 'exited'> {
  let pending = syscallResult;
  for (;;) {
    const outcome = deliverSignals(task.kernel, task, pending);
    pending = undefined;
    if (outcome !== 'stopped') return outcome;
    await task.kernel.waitWhileStopped(task);
  }
}
