// @tsvisor/syscalls: the syscall table as data and one handler file per family. See README.md.
import { capsSyscalls } from './sys-caps.js';
import { cloneSyscalls } from './sys-clone.js';
import { epollSyscalls } from './sys-epoll.js';
import { eventfdSyscalls } from './sys-eventfd.js';
import { execSyscalls } from './sys-exec.js';
import { fileSyscalls } from './sys-file.js';
import { futexSyscalls } from './sys-futex.js';
import { identitySyscalls } from './sys-identity.js';
import { infoSyscalls } from './sys-info.js';
import { mmSyscalls } from './sys-mm.js';
import { pollSyscalls } from './sys-poll.js';
import { processSyscalls } from './sys-process.js';
import { randomSyscalls } from './sys-random.js';
import { refusedSyscalls } from './sys-refused.js';
import { rlimitSyscalls } from './sys-rlimit.js';
import { schedSyscalls } from './sys-sched.js';
import { signalSyscalls } from './sys-signal.js';
import { socketSyscalls } from './sys-socket.js';
import { threadSyscalls } from './sys-thread.js';
import { timeSyscalls } from './sys-time.js';
import { timerSyscalls } from './sys-timer.js';
import { xattrSyscalls } from './sys-xattr.js';
import { SyscallTable } from './table.js';
import type { SyscallFamily } from './types.js';

export {
  FULL,
  partial,
  int,
  uint,
  long,
  ptr,
  size,
  unknownBits,
  type SyscallArgs,
  type SyscallResult,
  type SyscallHandler,
  type Support,
  type SyscallDef,
  type SyscallFamily,
} from './types.js';
export { SyscallTable, type SyscallEntry } from './table.js';
export { dispatch } from './dispatch.js';
export { compatibilityMarkdown } from './compatibility.js';
export { handleSyscall, deliverUntilRunnable } from './syscall-entry.js';
export { handleFault, type FaultAccess } from './fault.js';
export { execProgram } from './sys-exec.js';
export { readStruct, writeStruct } from './user-structs.js';
export { readClock } from './sys-time.js';
export { PATH_MAX, fileDescriptionRefs, waitReady } from './vfs-context.js';
export { VfsMapFile, applyHostOps, modelOf } from './sys-mm.js';
export { EpollImpl } from './sys-epoll.js';
export { EventfdImpl } from './sys-eventfd.js';
export {
  capsSyscalls,
  cloneSyscalls,
  epollSyscalls,
  eventfdSyscalls,
  execSyscalls,
  fileSyscalls,
  futexSyscalls,
  mmSyscalls,
  pollSyscalls,
  identitySyscalls,
  infoSyscalls,
  processSyscalls,
  randomSyscalls,
  refusedSyscalls,
  rlimitSyscalls,
  schedSyscalls,
  signalSyscalls,
  socketSyscalls,
  threadSyscalls,
  timeSyscalls,
  timerSyscalls,
  xattrSyscalls,
};

/** Every family this package implements, in table order of precedence (later ones win). */
export const allFamilies: readonly SyscallFamily[] = [
  capsSyscalls,
  cloneSyscalls,
  epollSyscalls,
  eventfdSyscalls,
  execSyscalls,
  fileSyscalls,
  futexSyscalls,
  identitySyscalls,
  infoSyscalls,
  mmSyscalls,
  pollSyscalls,
  processSyscalls,
  randomSyscalls,
  refusedSyscalls,
  rlimitSyscalls,
  schedSyscalls,
  signalSyscalls,
  socketSyscalls,
  threadSyscalls,
  timeSyscalls,
  timerSyscalls,
  xattrSyscalls,
];

/**
 * The default table: every Linux x86-64 syscall, with tsvisor's handlers where they exist.
 *
 * @example
 * ```ts
 * const table = createSyscallTable();
 * table.get(39)?.name; // 'getpid'
 * ```
 */
export function createSyscallTable(): SyscallTable {
  return new SyscallTable(allFamilies);
}
