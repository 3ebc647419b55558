/**
 * Page faults of sandboxed code, as the platform reports them: either the stack must grow (the
 * memory model extends the growsdown VMA and the platform maps the new pages), or the access is
 * invalid and the thread gets SIGSEGV with Linux's si_code (SEGV_MAPERR: nothing mapped there,
 * SEGV_ACCERR: mapped without the needed permission) and si_addr.
 *
 * @module
 */
import { SegvCode, isError } from '@tsvisor/abi';
import { forceSigsegvAt, type Task } from '@tsvisor/kernel';
import type { AddressSpace } from '@tsvisor/mm';
import { applyHostOps } from './sys-mm.js';
import { deliverUntilRunnable } from './syscall-entry.js';

/** The access that faulted. */
export type FaultAccess = 'read' | 'write' | 'exec';

const PROT_BIT: Record<FaultAccess, number> = { read: 1, write: 2, exec: 4 };

/**
 * Handles a fault at `addr`. Returns `'run'` when the task may retry the instruction (the stack
 * grew) or runs a SIGSEGV handler, `'exited'` when the signal killed it.
 */
export async function handleFault(task: Task, addr: number, access: FaultAccess): Promise<'run' | 'exited'> {
  const model = task.mm.model as AddressSpace | undefined;
  let code: number = SegvCode.SEGV_MAPERR;
  if (model && typeof model.findVma === 'function') {
    const v = model.findVma(addr);
    if (v && v.start <= addr) {
      // Mapped: the host should not have faulted unless the permission is missing.
      if ((v.flags & PROT_BIT[access]) === 0) code = SegvCode.SEGV_ACCERR;
    } else if (model.expandStack(addr) === 0) {
      const e = await applyHostOps(task);
      if (!isError(e ?? 0)) return 'run';
    }
  }
  forceSigsegvAt(task.kernel, task, BigInt(addr), code);
  return deliverUntilRunnable(task);
}
