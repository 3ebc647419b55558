/**
 * Syscalls a sandboxed program may make but is never allowed to have its way with: changing the
 * machine's clock, tracing, loading kernel modules, rebooting, raw I/O ports. Each
 * answers a fixed errno, the one Linux gives a process without the privilege, and says why in
 * the table.
 *
 * @module
 */
import { E, type LinuxError } from '@tsvisor/abi';
import type { SyscallDef, SyscallFamily, SyscallResult } from './types.js';

function refused(errno: LinuxError, reason: string): SyscallDef {
  return { handler: (): SyscallResult => errno, support: { level: 'errno', errno, reason } };
}

const CLOCK = 'the sandbox cannot set the host clock';
const HOST = 'a sandboxed program may not change the host machine';

/** Refused syscalls. */
export const refusedSyscalls: SyscallFamily = {
  settimeofday: refused(E.EPERM, CLOCK),
  clock_settime: refused(E.EPERM, CLOCK),
  clock_adjtime: refused(E.EPERM, CLOCK),
  adjtimex: refused(E.EPERM, CLOCK),
  ptrace: refused(E.EPERM, 'tsvisor traces the sandbox itself; tracing inside it is not supported'),
  process_vm_readv: refused(E.EPERM, 'cross-process memory access is not supported'),
  process_vm_writev: refused(E.EPERM, 'cross-process memory access is not supported'),
  init_module: refused(E.EPERM, HOST),
  finit_module: refused(E.EPERM, HOST),
  delete_module: refused(E.EPERM, HOST),
  kexec_load: refused(E.EPERM, HOST),
  kexec_file_load: refused(E.EPERM, HOST),
  reboot: refused(E.EPERM, HOST),
  swapon: refused(E.EPERM, HOST),
  swapoff: refused(E.EPERM, HOST),
  iopl: refused(E.EPERM, HOST),
  ioperm: refused(E.EPERM, HOST),
  acct: refused(E.EPERM, HOST),
  quotactl: refused(E.EPERM, HOST),
};
