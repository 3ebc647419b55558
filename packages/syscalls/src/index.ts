// @tsvisor/syscalls: the syscall table as data and one handler file per family. See README.md.
import { capsSyscalls } from './sys-caps.js';
import { nsfsSyscalls } from './sys-nsfs.js';
import { cloneSyscalls } from './sys-clone.js';
import { epollSyscalls } from './sys-epoll.js';
import { eventfdSyscalls } from './sys-eventfd.js';
import { execSyscalls } from './sys-exec.js';
import { fileSyscalls } from './sys-file.js';
import { fileRangeSyscalls } from './sys-file-range.js';
import { legacyFileSyscalls } from './sys-legacy-file.js';
import { spliceSyscalls } from './sys-splice.js';
import { pidfdSyscalls } from './sys-pidfd.js';
import { membarrierSyscalls } from './sys-membarrier.js';
import { ioprioSyscalls } from './sys-ioprio.js';
import { kcmpSyscalls } from './sys-kcmp.js';
import { futexSyscalls } from './sys-futex.js';
import { identitySyscalls } from './sys-identity.js';
import { infoSyscalls } from './sys-info.js';
import { memfdSyscalls } from './sys-memfd.js';
import { mmSyscalls } from './sys-mm.js';
import { mountSyscalls } from './sys-mount.js';
import { inotifySyscalls } from './sys-inotify.js';
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
import { timerfdSyscalls } from './sys-timerfd.js';
import { signalfdSyscalls } from './sys-signalfd.js';
import { sigwaitSyscalls } from './sys-sigwait.js';
import { posixTimerSyscalls } from './sys-ptimer.js';
import { xattrSyscalls } from './sys-xattr.js';
import { sysvMsgSyscalls } from './sys-sysv-msg.js';
import { mqueueSyscalls } from './sys-mqueue.js';
import { sysvSemSyscalls } from './sys-sysv-sem.js';
import { sysvShmSyscalls } from './sys-sysv-shm.js';
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
export { ShmMapFile } from './sys-sysv-shm.js';
export { configureMounts, type MountSetup, type FilesystemFactory } from './sys-mount.js';
export {
  INOTIFY_MAX_USER_INSTANCES,
  INOTIFY_MAX_USER_WATCHES,
  INOTIFY_MAX_QUEUED_EVENTS,
} from './sys-inotify.js';
export { TimerfdImpl } from './sys-timerfd.js';
export { SignalfdImpl, signalfdSiginfo, SIGNALFD_SIGINFO_SIZE } from './sys-signalfd.js';
export { configureNetwork, monotonicOffsetOf, type NetworkSetup } from './sys-socket-file.js';
export { procNetSource, type ProcNetOptions } from './sys-socket-proc.js';
export { configureHostNetwork, hostSockaddr, type HostSockets, type HostFdWatch } from './sys-socket-host.js';
export { ARPHRD_LOOPBACK, ARPHRD_NONE, IfFlag, type LinkInfo, type LinkStats } from './sys-netlink.js';
export {
  interfaceAddressing,
  interfaceRouting,
  stackLinkControl,
  type AddressControl,
  type LinkControl,
  type RouteControl,
  type RouteEntry,
} from './sys-netlink-change.js';
export { auditBytecode, runBytecode, sockDiagHandler, type BytecodeEntry } from './sys-netlink-diag.js';
export {
  capsSyscalls,
  cloneSyscalls,
  epollSyscalls,
  eventfdSyscalls,
  execSyscalls,
  fileSyscalls,
  fileRangeSyscalls,
  legacyFileSyscalls,
  spliceSyscalls,
  pidfdSyscalls,
  membarrierSyscalls,
  ioprioSyscalls,
  kcmpSyscalls,
  futexSyscalls,
  mmSyscalls,
  mountSyscalls,
  inotifySyscalls,
  pollSyscalls,
  identitySyscalls,
  infoSyscalls,
  memfdSyscalls,
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
  timerfdSyscalls,
  signalfdSyscalls,
  sigwaitSyscalls,
  posixTimerSyscalls,
  sysvShmSyscalls,
  sysvSemSyscalls,
  sysvMsgSyscalls,
  mqueueSyscalls,
  nsfsSyscalls,
};

/** Every family this package implements, in table order of precedence (later ones win). */
export const allFamilies: readonly SyscallFamily[] = [
  capsSyscalls,
  cloneSyscalls,
  epollSyscalls,
  eventfdSyscalls,
  execSyscalls,
  fileSyscalls,
  fileRangeSyscalls,
  legacyFileSyscalls,
  spliceSyscalls,
  pidfdSyscalls,
  membarrierSyscalls,
  ioprioSyscalls,
  kcmpSyscalls,
  futexSyscalls,
  identitySyscalls,
  infoSyscalls,
  memfdSyscalls,
  mmSyscalls,
  mountSyscalls,
  inotifySyscalls,
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
  timerfdSyscalls,
  signalfdSyscalls,
  sigwaitSyscalls,
  posixTimerSyscalls,
  sysvShmSyscalls,
  sysvSemSyscalls,
  sysvMsgSyscalls,
  mqueueSyscalls,
  nsfsSyscalls,
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
