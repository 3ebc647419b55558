// @tsvisor/kernel: the process kernel of a sandbox. See README.md.

// Ports the runtime implements.
export {
  TASK_SIZE,
  UIO_MAXIOV,
  MAX_RW_COUNT,
  TaskMemoryBase,
  userAddress,
  accessOk,
  type TaskMemory,
  type Iovec,
} from './ports/task-memory.js';
export { SparseMemory, type PageProt } from './ports/sparse-memory.js';
export {
  CpuState,
  REG,
  USER_REGS_COUNT,
  USER_CS,
  USER_DS,
  INITIAL_EFLAGS,
  defaultFpState,
  type RegName,
  type FpState,
} from './ports/cpu-state.js';
export type { PlatformPort, PlatformTask, HostCloneKind } from './ports/platform.js';

// Control results.
export {
  ControlResult,
  ERESTARTSYS,
  ERESTARTNOINTR,
  ERESTARTNOHAND,
  ERESTART_RESTARTBLOCK,
  NO_RESULT,
  TASK_GONE,
  isControl,
  type ControlKind,
} from './control.js';

// Cold state.
export {
  makeCredentials,
  capable,
  capBit,
  effectiveLow,
  accessCapsLow,
  setCaps,
  boundingHas,
  dropBounding,
  ambient,
  AmbientOp,
  setKeepCaps,
  setSecurebits,
  execCredentials,
  credsChangeClearsDumpable,
  execDumpable,
  parseFileCaps,
  type FileCaps,
  type ExecCapsOptions,
  CAP_FULL_SET,
  Securebit,
  type CapSets,
  ptraceCredsMatch,
  inGroup,
  setId,
  setReId,
  setResId,
  setFsId,
  setGroups,
  NGROUPS_MAX,
  ID_UNCHANGED,
  type Credentials,
} from './creds/credentials.js';
export {
  RLIM_NLIMITS,
  NR_OPEN,
  defaultRlimits,
  setRlimit,
  softLimit,
  type ResourceLimit,
  type Rlimits,
} from './creds/rlimits.js';
export { UtsNamespace, UTS_LEN, TSVISOR_RELEASE, TSVISOR_VERSION, type Utsname } from './uts.js';
export {
  FdTable,
  O_CLOEXEC,
  CLOSE_RANGE_CLOEXEC,
  CLOSE_RANGE_UNSHARE,
  type FileRefs,
  type FdEntry,
} from './fd-table.js';

// System V IPC.
export { IpcNamespace } from './ipc/ipc-namespace.js';
export {
  IpcObject,
  IpcIds,
  ipcPermitted,
  ipcOwnerCheck,
  ipcSetPerm,
  IPC_PRIVATE,
  IPC_CREAT,
  IPC_EXCL,
  IPC_NOWAIT,
  IPC_RMID,
  IPC_SET,
  IPC_STAT,
  IPC_INFO,
} from './ipc/ipc-ids.js';
export {
  ShmNamespace,
  ShmSegment,
  SHMMAX,
  SHMALL,
  SHMMNI,
  SHMMIN,
  SHM_DEST,
  SHM_LOCKED,
  type ShmBacking,
} from './ipc/shm.js';
export {
  SemNamespace,
  SemSet,
  SEMMSL,
  SEMMNS,
  SEMOPM,
  SEMMNI,
  SEMVMX,
  SEMAEM,
  SEM_UNDO,
  type Sembuf,
  type SemopOutcome,
  type SemSleeper,
} from './ipc/sem.js';
export {
  MsgNamespace,
  MsgQueue,
  MSGMAX,
  MSGMNB,
  MSGMNI,
  MSG_NOERROR,
  MSG_EXCEPT,
  MSG_COPY,
  badMsgSize,
  type Message,
} from './ipc/msg.js';
export {
  MqNamespace,
  MqQueue,
  MQ_PRIO_MAX,
  HARD_MSGMAX,
  HARD_MSGSIZEMAX,
  checkMqAttr,
  type MqAttr,
  type MqLimits,
  type MqMessage,
  type MqNotify,
} from './ipc/mqueue.js';

// Waiting, time, futexes, log.
export { Waiter, WaitQueue, type WakeReason } from './wait-queue.js';
export { FutexTable, FUTEX_BITSET_MATCH_ANY, type FutexWaitData } from './futex.js';
export { HostTime, ManualTime, type TimeSource } from './time/time-source.js';
export { Syslog, BOOT_MESSAGES, renderLine, renderKmsg, type LogRecord } from './syslog.js';
export { kmsgDevice } from './kmsg.js';

// Tasks, processes, signals.
export {
  Task,
  ThreadGroup,
  ProcessGroup,
  Session,
  AddressSpace,
  FsContext,
  type AltStack,
  type JobNotice,
  type CpuTimes,
  type RestartBlock,
  type IntervalTimer,
  type Namespace,
} from './task/task.js';
export { Kernel, CLK_TCK, ticks, type KernelOptions, type WaitSelector, type WaitReport } from './kernel.js';
export {
  deliverSignals,
  sigreturn,
  forceSigsegv,
  forceSigsegvAt,
  onAltStack,
  altStackFlags,
  NR_RESTART_SYSCALL,
  type DeliveryOutcome,
} from './signal/delivery.js';
export {
  SignalActions,
  PendingSignals,
  SIG_DFL_ACTION,
  SIG_DFL,
  SIG_IGN,
  KNOWN_SA_FLAGS,
  toSiginfo,
  siginfoBytes,
  userInfo,
  type SigAction,
  type SigInfo,
} from './signal/signal-state.js';
export { watchSignals } from './signal/signal-watch.js';
export { ExpiringTimer } from './time/interval-timer.js';
export { CpuClock, getCpuItimer, setCpuItimer, runCpuTimers, type CpuItimerKind } from './time/cpu-timers.js';
export {
  PosixTimer,
  PosixTimerTable,
  posixTimersOf,
  exitPosixTimers,
  type TimerNotify,
} from './time/posix-timers.js';

// ELF loader.
export {
  parseElf,
  planLoad,
  imageSpan,
  segmentProt,
  isElf,
  ELF,
  ELF_ET_DYN_BASE,
  STACK_TOP,
  PAGE_SIZE,
  type FileReader,
  type ElfFile,
  type ElfHeader,
  type ProgramHeader,
  type LoadMapping,
  type LoadPlan,
} from './elf/elf.js';
export {
  parseShebang,
  scriptArgv,
  BINPRM_BUF_SIZE,
  MAX_INTERP_DEPTH,
  type ShebangLine,
} from './elf/script.js';
export { buildInitialStack, AT, MAX_ARG_STRLEN, type AuxInfo, type InitialStack } from './elf/stack.js';
export {
  resolveProgram,
  layoutExec,
  type ExecFile,
  type ExecOpener,
  type ExecProgram,
  type ExecLayout,
  type PlaceImage,
} from './elf/exec.js';
export { execTask, type ExecRequest, type ExecResult } from './exec.js';

// Terminals: pty pairs, devpts, job control.
export { Termios, TERMIOS_SIZE, encodeWinsize, decodeWinsize, type Winsize } from './tty/termios.js';
export { Tty, TIOCPKT_FLUSHREAD, TIOCPKT_FLUSHWRITE, type TtySignals } from './tty/tty.js';
export {
  Devpts,
  PtyMaster,
  PtySlave,
  ttyOf,
  DEVPTS_SUPER_MAGIC,
  PTMX_MAJOR,
  PTMX_MINOR,
  PTY_SLAVE_MAJOR,
} from './tty/devpts.js';
export {
  controllingTty,
  setControllingTty,
  tiocsctty,
  tiocnotty,
  sessionLeaderExited,
  ttyCheckChange,
  isOrphaned,
  kernelTtySignals,
} from './tty/job-control.js';

// procfs's view of the kernel.
export {
  KernelProcSource,
  LoadAverage,
  NAMESPACE_INODES,
  hostResident,
  hostSmapsResidency,
  parseCpuinfo,
  type KernelProcSourceOptions,
  type ResidentMemory,
  type SandboxLimits,
} from './proc-source.js';
export { hostCpuAux, parseAuxv, DEFAULT_CPU_AUX } from './host-aux.js';
export { fillRandom, randomUuid } from './random.js';
