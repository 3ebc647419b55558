/**
 * Linux x86-64 struct views over `Uint8Array`: per struct a validated value level
 * (`parse`/`emit`/`size`, or `bufferLen` for variable-length records) and a direct level
 * (`read`/`write` on a `DataView`, view classes for the hot structs). See `layout.ts` for the
 * integer conventions (`bigint` versus `number`).
 *
 * @module
 */

export {
  alignUp,
  checkRange,
  codecs,
  dataView,
  defineStruct,
  emitArray,
  parseArray,
  readI64n,
  readU64n,
  structView,
  writeN64,
} from './layout.js';
export type {
  Codec,
  Field,
  FieldInfo,
  FieldKind,
  FixedStruct,
  NamedField,
  SpecValue,
  StructCodec,
  StructLayout,
  StructValue,
  StructView,
  StructViewClass,
} from './layout.js';
export { TimespecView, itimerspec, itimerval, rusage, timespec, timeval, timezone, tms } from './time.js';
export type { Itimerspec, Itimerval, Rusage, Timespec, Timeval, Timezone, Tms } from './time.js';
export { StatView, stat, statfs, statx, statx_timestamp } from './stat.js';
export type { Stat, Statfs, Statx, StatxTimestamp } from './stat.js';
export {
  DIRENT64_NAME_OFFSET,
  Dirent64Writer,
  dirent64RecLen,
  linux_dirent64,
  writeDirent64,
} from './dirent.js';
export type { Dirent64 } from './dirent.js';
export {
  EpollEventView,
  IovecView,
  PollfdView,
  UIO_MAXIOV,
  epoll_event,
  iovec,
  parseIovecs,
  pollfd,
} from './io.js';
export type { EpollEvent, Iovec, Pollfd } from './io.js';
export {
  UTS_FIELD_LEN,
  cap_user_data,
  cap_user_header,
  rlimit,
  robust_list_head,
  sched_param,
  sysinfo,
  utsname,
} from './system.js';
export type {
  CapUserData,
  CapUserHeader,
  RlimitValue,
  RobustListHead,
  SchedParam,
  Sysinfo,
  Utsname,
} from './system.js';
export { KERNEL_NCCS, termios, termios2, winsize } from './tty.js';
export type { Termios, Termios2, Winsize } from './tty.js';
export {
  CMSG_ALIGN,
  CMSG_LEN,
  CMSG_SPACE,
  CmsgWriter,
  SCM_MAX_FD,
  SIN6_LEN_RFC2133,
  SockaddrFamily,
  cmsghdr,
  cmsgsBufferLen,
  emitSockaddr,
  encodeScmRights,
  encodeSockaddr,
  linger,
  msghdr,
  parseCmsgs,
  parseScmCredentials,
  parseScmRights,
  parseSockaddr,
  sockaddr,
  sockaddrFamily,
  sockaddrLen,
  sockaddr_in,
  sockaddr_in6,
  sockaddr_nl,
  sockaddr_storage,
  sockaddr_un,
  ucred,
} from './socket.js';
export type {
  Cmsg,
  Cmsghdr,
  Linger,
  Msghdr,
  Sockaddr,
  SockaddrIn,
  SockaddrIn6,
  SockaddrNl,
  SockaddrOther,
  SockaddrUnixAbstract,
  SockaddrUnixPath,
  SockaddrUnixUnnamed,
  Ucred,
} from './socket.js';
export {
  FP_XSTATE_MAGIC1,
  FP_XSTATE_MAGIC2,
  FP_XSTATE_MAGIC2_SIZE,
  REDZONE,
  SIGINFO_SIZE,
  UC_FP_XSTATE,
  UC_SIGCONTEXT_SS,
  UC_STRICT_RESTORE_SS,
  fpstate,
  fpx_sw_bytes,
  kernel_sigaction,
  rtSigframeLayout,
  rt_sigframe,
  sigcontext,
  siginfo,
  siginfoLayout,
  sigset,
  stack_t,
  ucontext,
  xstate_header,
} from './signal.js';
export type {
  Fpstate,
  FpxSwBytes,
  KernelSigaction,
  RtSigframe,
  SigframeLayout,
  Sigcontext,
  Siginfo,
  SiginfoLayout,
  StackT,
  Ucontext,
  XstateHeader,
} from './signal.js';
export {
  CLONE_ARGS_SIZE_VER0,
  CLONE_ARGS_SIZE_VER1,
  CLONE_ARGS_SIZE_VER2,
  OPEN_HOW_SIZE_VER0,
  PAGE_SIZE,
  clone_args,
  copyStructFromUser,
  open_how,
  parseCloneArgs,
  parseOpenHow,
} from './versioned.js';
export type { CloneArgs, OpenHow } from './versioned.js';
export { structRegistry } from './registry.js';
