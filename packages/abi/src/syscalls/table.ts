/**
 * The Linux x86-64 system call table (Linux 6.18: numbers 0..336 and 424..469) with each call's
 * argument signature and result kind. It drives argument decoding and `--strace` output.
 *
 * Signatures are written in a compact notation parsed once at load time:
 * `name:type` per argument, where type is a {@link ScalarKind} (`fd`, `path`, `size`, ...),
 * `in@N` / `out@N` / `out@ret` (byte buffers with their length argument or the return value;
 * `outx@` prints the bytes in hex),
 * `s:T` / `o:T` / `io:T` (a struct T read, written, or both), `a:T@N` / `ao:T@N` / `aio:T@N`
 * (an array of T with its count argument, or `@ret`), `f:SET` (flags) and `e:SET` (enum).
 *
 * @module
 */
import type { ConstantSet, EnumSet, FlagSet } from '../constants/flagset.js';
import {
  accessAtFlags,
  accessModes,
  atFlags,
  closeRangeFlags,
  fadviseAdvice,
  fcntlCmds,
  FcntlCmd,
  dnotifyFlags,
  fdFlags,
  flockOps,
  fallocFlags,
  lockTypes,
  memfdFlags,
  mountFlags,
  rwfFlags,
  umountFlags,
  oFlagsNoMode,
  openFlags,
  OpenFlag,
  renameFlags,
  sealFlags,
  seekWhence,
  spliceFlags,
  statxAtFlags,
  xattrFlags,
} from '../constants/open.js';
import { statxMask } from '../constants/stat.js';
import {
  madvAdvice,
  Mremap,
  mapFlags,
  mclFlags,
  mlockFlags,
  mremapFlags,
  msyncFlags,
  protFlags,
} from '../constants/mman.js';
import {
  CloneFlag,
  cloneFlags,
  idTypes,
  nsTypes,
  pidfdFlags,
  schedPolicies,
  schedPolicyValues,
  unshareFlags,
  waitidOptions,
  waitOptions,
} from '../constants/sched.js';
import {
  AddressFamily,
  SocketLevel,
  addressFamilies,
  ipOptions,
  ipProtocols,
  ipv6Options,
  socketGetOptions,
  socketOptions,
  tcpOptions,
  msgFlags,
  shutHow,
  sockFlags,
  socketLevels,
  sockTypes,
} from '../constants/socket.js';
import { ioctlRequests } from '../constants/ioctl.js';
import { epollCreateFlags, epollCtlOps } from '../constants/poll.js';
import { Futex, futex2Flags, futexOps } from '../constants/futex.js';
import { archPrctlCodes, prctlOptions } from '../constants/prctl.js';
import { itimerWhich, prioWhich, rlimitResources, rusageWho, timerFlags } from '../constants/resource.js';
import { efdFlags, grndFlags, inotifyInitFlags, inotifyMask, sfdFlags, tfdFlags } from '../constants/misc.js';
import { sigHow } from '../signals.js';
import type { ArgType, ReturnKind, ScalarKind, SyscallArg, SyscallInfo } from './signature.js';

const sets: Readonly<Record<string, ConstantSet>> = {
  open: openFlags,
  ofl: oFlagsNoMode,
  at: atFlags,
  accessat: accessAtFlags,
  statxat: statxAtFlags,
  statxmask: statxMask,
  access: accessModes,
  fcntl: fcntlCmds,
  flock: flockOps,
  seek: seekWhence,
  rename: renameFlags,
  falloc: fallocFlags,
  xattr: xattrFlags,
  splice: spliceFlags,
  closerange: closeRangeFlags,
  memfd: memfdFlags,
  rwf: rwfFlags,
  mount: mountFlags,
  umount: umountFlags,
  fadvise: fadviseAdvice,
  prot: protFlags,
  mmap: mapFlags,
  mremap: mremapFlags,
  madv: madvAdvice,
  msync: msyncFlags,
  mlockall: mclFlags,
  mlock2: mlockFlags,
  clone: cloneFlags,
  unshare: unshareFlags,
  wait: waitOptions,
  waitid: waitidOptions,
  idtype: idTypes,
  pidfd: pidfdFlags,
  schedpolicy: schedPolicies,
  schedpolicyvalue: schedPolicyValues,
  nstype: nsTypes,
  family: addressFamilies,
  socktype: sockTypes,
  sockflags: sockFlags,
  sol: socketLevels,
  msg: msgFlags,
  shut: shutHow,
  ioctl: ioctlRequests,
  epollctl: epollCtlOps,
  epollcreate: epollCreateFlags,
  futex: futexOps,
  futex2: futex2Flags,
  prctl: prctlOptions,
  archprctl: archPrctlCodes,
  rlimit: rlimitResources,
  rusage: rusageWho,
  prio: prioWhich,
  timer: timerFlags,
  itimer: itimerWhich,
  grnd: grndFlags,
  efd: efdFlags,
  tfd: tfdFlags,
  sfd: sfdFlags,
  inotifymask: inotifyMask,
  inotifyinit: inotifyInitFlags,
  sighow: sigHow,
};

const scalarKinds: Readonly<Record<string, ScalarKind>> = {
  fd: 'fd',
  dirfd: 'dirfd',
  int: 'int',
  uint: 'uint',
  long: 'long',
  ulong: 'ulong',
  size: 'size',
  off: 'offset',
  hexoff: 'hexOffset',
  pid: 'pid',
  uid: 'uid',
  gid: 'gid',
  sig: 'signal',
  mode: 'mode',
  fmode: 'fileMode',
  addr: 'address',
  hex: 'hex',
  clock: 'clockId',
  path: 'path',
  str: 'string',
  ostr: 'outString',
  fdpair: 'fdPair',
  argv: 'argv',
  envp: 'envp',
};

function countOf(text: string): number | 'ret' {
  return text === 'ret' ? 'ret' : Number(text);
}

/** Parses one argument type of the notation described in the module comment. */
function parseType(t: string): ArgType {
  const scalar = scalarKinds[t];
  if (scalar) return { kind: scalar };
  let m = /^(in|out|outx)@(\d+|ret)$/.exec(t);
  if (m) {
    if (m[1] === 'in') return { kind: 'inBuffer', len: Number(m[2]) };
    return m[1] === 'out'
      ? { kind: 'outBuffer', len: countOf(m[2]!) }
      : { kind: 'outBuffer', len: countOf(m[2]!), hex: true };
  }
  m = /^(s|o|io):(\w+)$/.exec(t);
  if (m) {
    const dir = m[1] === 's' ? 'in' : m[1] === 'o' ? 'out' : 'inout';
    return { kind: 'struct', struct: m[2]!, dir };
  }
  m = /^(a|ao|aio):(\w+)@(\d+|ret)$/.exec(t);
  if (m) {
    const dir = m[1] === 'a' ? 'in' : m[1] === 'ao' ? 'out' : 'inout';
    return { kind: 'array', struct: m[2]!, count: countOf(m[3]!), dir };
  }
  m = /^(f|e):(\w+)$/.exec(t);
  if (m) {
    const set = sets[m[2]!];
    if (!set) throw new Error(`syscall table: unknown constant set ${m[2]}`);
    if (m[1] === 'f' && set.kind === 'flags') return { kind: 'flags', set: set as FlagSet };
    if (m[1] === 'e' && set.kind === 'enum') return { kind: 'enum', set: set as EnumSet };
    throw new Error(`syscall table: set ${m[2]} is not ${m[1] === 'f' ? 'flags' : 'an enum'}`);
  }
  throw new Error(`syscall table: bad argument type ${t}`);
}

function parseArgs(spec: string): SyscallArg[] {
  if (spec === '') return [];
  return spec.split(/\s+/).map((a) => {
    const i = a.indexOf(':');
    return Object.freeze({ name: a.slice(0, i), type: Object.freeze(parseType(a.slice(i + 1))) });
  });
}

// [number, name, return kind, arguments]
type Row = readonly [number, string, ReturnKind, string];

// prettier-ignore
const rows: readonly Row[] = [
  [0, 'read', 'size', 'fd:fd buf:out@ret count:size'],
  [1, 'write', 'size', 'fd:fd buf:in@2 count:size'],
  [2, 'open', 'fd', 'filename:path flags:f:open mode:mode'],
  [3, 'close', 'int', 'fd:fd'],
  [4, 'stat', 'int', 'filename:path statbuf:o:stat'],
  [5, 'fstat', 'int', 'fd:fd statbuf:o:stat'],
  [6, 'lstat', 'int', 'filename:path statbuf:o:stat'],
  [7, 'poll', 'int', 'ufds:aio:pollfd@1 nfds:uint timeout_msecs:int'],
  [8, 'lseek', 'offset', 'fd:fd offset:off whence:e:seek'],
  [9, 'mmap', 'address', 'addr:addr len:size prot:f:prot flags:f:mmap fd:fd off:hexoff'],
  [10, 'mprotect', 'int', 'start:addr len:size prot:f:prot'],
  [11, 'munmap', 'int', 'addr:addr len:size'],
  [12, 'brk', 'address', 'brk:addr'],
  [13, 'rt_sigaction', 'int', 'sig:sig act:s:kernel_sigaction oact:o:kernel_sigaction sigsetsize:size'],
  [14, 'rt_sigprocmask', 'int', 'how:e:sighow nset:s:sigset oset:o:sigset sigsetsize:size'],
  [15, 'rt_sigreturn', 'none', ''],
  [16, 'ioctl', 'int', 'fd:fd cmd:e:ioctl arg:hex'],
  [17, 'pread64', 'size', 'fd:fd buf:out@ret count:size pos:off'],
  [18, 'pwrite64', 'size', 'fd:fd buf:in@2 count:size pos:off'],
  [19, 'readv', 'size', 'fd:fd vec:ao:iovec@2 vlen:int'],
  [20, 'writev', 'size', 'fd:fd vec:a:iovec@2 vlen:int'],
  [21, 'access', 'int', 'filename:path mode:f:access'],
  [22, 'pipe', 'int', 'fildes:fdpair'],
  [23, 'select', 'int', 'n:int inp:io:fd_set outp:io:fd_set exp:io:fd_set tvp:io:timeval'],
  [24, 'sched_yield', 'int', ''],
  [25, 'mremap', 'address', 'addr:addr old_len:size new_len:size flags:f:mremap new_addr:addr'],
  [26, 'msync', 'int', 'start:addr len:size flags:f:msync'],
  [27, 'mincore', 'int', 'start:addr len:size vec:o:mincore_vec'],
  [28, 'madvise', 'int', 'start:addr len_in:size behavior:e:madv'],
  [29, 'shmget', 'int', 'key:hex size:size shmflg:hex'],
  [30, 'shmat', 'address', 'shmid:int shmaddr:addr shmflg:hex'],
  [31, 'shmctl', 'int', 'shmid:int cmd:int buf:io:shmid_ds'],
  [32, 'dup', 'fd', 'fildes:fd'],
  [33, 'dup2', 'fd', 'oldfd:fd newfd:fd'],
  [34, 'pause', 'int', ''],
  [35, 'nanosleep', 'int', 'rqtp:s:timespec rmtp:o:timespec'],
  [36, 'getitimer', 'int', 'which:e:itimer value:o:itimerval'],
  [37, 'alarm', 'int', 'seconds:uint'],
  [38, 'setitimer', 'int', 'which:e:itimer value:s:itimerval ovalue:o:itimerval'],
  [39, 'getpid', 'pid', ''],
  [40, 'sendfile', 'size', 'out_fd:fd in_fd:fd offset:io:loff_t count:size'],
  [41, 'socket', 'fd', 'family:e:family type:f:socktype protocol:int'],
  [42, 'connect', 'int', 'fd:fd uservaddr:s:sockaddr addrlen:int'],
  [43, 'accept', 'fd', 'fd:fd upeer_sockaddr:o:sockaddr upeer_addrlen:io:socklen_t'],
  [44, 'sendto', 'size', 'fd:fd buff:in@2 len:size flags:f:msg addr:s:sockaddr addr_len:int'],
  [45, 'recvfrom', 'size', 'fd:fd ubuf:out@ret size:size flags:f:msg addr:o:sockaddr addr_len:io:socklen_t'],
  [46, 'sendmsg', 'size', 'fd:fd msg:s:msghdr flags:f:msg'],
  [47, 'recvmsg', 'size', 'fd:fd msg:io:msghdr flags:f:msg'],
  [48, 'shutdown', 'int', 'fd:fd how:e:shut'],
  [49, 'bind', 'int', 'fd:fd umyaddr:s:sockaddr addrlen:int'],
  [50, 'listen', 'int', 'fd:fd backlog:int'],
  [51, 'getsockname', 'int', 'fd:fd usockaddr:o:sockaddr usockaddr_len:io:socklen_t'],
  [52, 'getpeername', 'int', 'fd:fd usockaddr:o:sockaddr usockaddr_len:io:socklen_t'],
  [53, 'socketpair', 'int', 'family:e:family type:f:socktype protocol:int usockvec:fdpair'],
  [54, 'setsockopt', 'int', 'fd:fd level:e:sol optname:int optval:in@4 optlen:int'],
  [55, 'getsockopt', 'int', 'fd:fd level:e:sol optname:int optval:addr optlen:io:socklen_t'],
  [56, 'clone', 'pid', 'clone_flags:f:clone newsp:addr parent_tidptr:addr child_tidptr:addr tls:hex'],
  [57, 'fork', 'pid', ''],
  [58, 'vfork', 'pid', ''],
  [59, 'execve', 'int', 'filename:path argv:argv envp:envp'],
  [60, 'exit', 'none', 'error_code:int'],
  [61, 'wait4', 'pid', 'upid:pid stat_addr:o:wait_status options:f:wait ru:o:rusage'],
  [62, 'kill', 'int', 'pid:pid sig:sig'],
  [63, 'uname', 'int', 'name:o:utsname'],
  [64, 'semget', 'int', 'key:hex nsems:int semflg:hex'],
  [65, 'semop', 'int', 'semid:int tsops:a:sembuf@2 nsops:uint'],
  [66, 'semctl', 'int', 'semid:int semnum:int cmd:int arg:hex'],
  [67, 'shmdt', 'int', 'shmaddr:addr'],
  [68, 'msgget', 'int', 'key:hex msgflg:hex'],
  [69, 'msgsnd', 'int', 'msqid:int msgp:s:msgbuf msgsz:size msgflg:hex'],
  [70, 'msgrcv', 'size', 'msqid:int msgp:o:msgbuf msgsz:size msgtyp:long msgflg:hex'],
  [71, 'msgctl', 'int', 'msqid:int cmd:int buf:io:msqid_ds'],
  [72, 'fcntl', 'int', 'fd:fd cmd:e:fcntl arg:hex'],
  [73, 'flock', 'int', 'fd:fd cmd:f:flock'],
  [74, 'fsync', 'int', 'fd:fd'],
  [75, 'fdatasync', 'int', 'fd:fd'],
  [76, 'truncate', 'int', 'path:path length:off'],
  [77, 'ftruncate', 'int', 'fd:fd length:off'],
  [78, 'getdents', 'size', 'fd:fd dirent:ao:linux_dirent@ret count:uint'],
  [79, 'getcwd', 'size', 'buf:ostr size:size'],
  [80, 'chdir', 'int', 'filename:path'],
  [81, 'fchdir', 'int', 'fd:fd'],
  [82, 'rename', 'int', 'oldname:path newname:path'],
  [83, 'mkdir', 'int', 'pathname:path mode:mode'],
  [84, 'rmdir', 'int', 'pathname:path'],
  [85, 'creat', 'fd', 'pathname:path mode:mode'],
  [86, 'link', 'int', 'oldname:path newname:path'],
  [87, 'unlink', 'int', 'pathname:path'],
  [88, 'symlink', 'int', 'oldname:path newname:path'],
  [89, 'readlink', 'size', 'path:path buf:out@ret bufsiz:int'],
  [90, 'chmod', 'int', 'filename:path mode:mode'],
  [91, 'fchmod', 'int', 'fd:fd mode:mode'],
  [92, 'chown', 'int', 'filename:path user:uid group:gid'],
  [93, 'fchown', 'int', 'fd:fd user:uid group:gid'],
  [94, 'lchown', 'int', 'filename:path user:uid group:gid'],
  [95, 'umask', 'mode', 'mask:mode'],
  [96, 'gettimeofday', 'int', 'tv:o:timeval tz:o:timezone'],
  [97, 'getrlimit', 'int', 'resource:e:rlimit rlim:o:rlimit'],
  [98, 'getrusage', 'int', 'who:e:rusage ru:o:rusage'],
  [99, 'sysinfo', 'int', 'info:o:sysinfo'],
  [100, 'times', 'int', 'tbuf:o:tms'],
  [101, 'ptrace', 'int', 'request:long pid:pid addr:addr data:hex'],
  [102, 'getuid', 'int', ''],
  [103, 'syslog', 'int', 'type:int buf:out@ret len:int'],
  [104, 'getgid', 'int', ''],
  [105, 'setuid', 'int', 'uid:uid'],
  [106, 'setgid', 'int', 'gid:gid'],
  [107, 'geteuid', 'int', ''],
  [108, 'getegid', 'int', ''],
  [109, 'setpgid', 'int', 'pid:pid pgid:pid'],
  [110, 'getppid', 'pid', ''],
  [111, 'getpgrp', 'pid', ''],
  [112, 'setsid', 'pid', ''],
  [113, 'setreuid', 'int', 'ruid:uid euid:uid'],
  [114, 'setregid', 'int', 'rgid:gid egid:gid'],
  [115, 'getgroups', 'int', 'gidsetsize:int grouplist:ao:gid_t@ret'],
  [116, 'setgroups', 'int', 'gidsetsize:int grouplist:a:gid_t@0'],
  [117, 'setresuid', 'int', 'ruid:uid euid:uid suid:uid'],
  [118, 'getresuid', 'int', 'ruidp:o:uid_t euidp:o:uid_t suidp:o:uid_t'],
  [119, 'setresgid', 'int', 'rgid:gid egid:gid sgid:gid'],
  [120, 'getresgid', 'int', 'rgidp:o:gid_t egidp:o:gid_t sgidp:o:gid_t'],
  [121, 'getpgid', 'pid', 'pid:pid'],
  [122, 'setfsuid', 'int', 'uid:uid'],
  [123, 'setfsgid', 'int', 'gid:gid'],
  [124, 'getsid', 'pid', 'pid:pid'],
  [125, 'capget', 'int', 'header:io:cap_user_header dataptr:o:cap_user_data'],
  [126, 'capset', 'int', 'header:s:cap_user_header data:s:cap_user_data'],
  [127, 'rt_sigpending', 'int', 'uset:o:sigset sigsetsize:size'],
  [128, 'rt_sigtimedwait', 'signal', 'uthese:s:sigset uinfo:o:siginfo uts:s:timespec sigsetsize:size'],
  [129, 'rt_sigqueueinfo', 'int', 'pid:pid sig:sig uinfo:s:siginfo'],
  [130, 'rt_sigsuspend', 'int', 'unewset:s:sigset sigsetsize:size'],
  [131, 'sigaltstack', 'int', 'uss:s:stack_t uoss:o:stack_t'],
  [132, 'utime', 'int', 'filename:path times:s:utimbuf'],
  [133, 'mknod', 'int', 'filename:path mode:fmode dev:hex'],
  [134, 'uselib', 'int', 'library:path'],
  [135, 'personality', 'hex', 'personality:hex'],
  [136, 'ustat', 'int', 'dev:hex ubuf:o:ustat'],
  [137, 'statfs', 'int', 'pathname:path buf:o:statfs'],
  [138, 'fstatfs', 'int', 'fd:fd buf:o:statfs'],
  [139, 'sysfs', 'int', 'option:int arg1:hex arg2:hex'],
  [140, 'getpriority', 'int', 'which:e:prio who:int'],
  [141, 'setpriority', 'int', 'which:e:prio who:int niceval:int'],
  [142, 'sched_setparam', 'int', 'pid:pid param:s:sched_param'],
  [143, 'sched_getparam', 'int', 'pid:pid param:o:sched_param'],
  [144, 'sched_setscheduler', 'int', 'pid:pid policy:f:schedpolicy param:s:sched_param'],
  [145, 'sched_getscheduler', 'int', 'pid:pid'],
  [146, 'sched_get_priority_max', 'int', 'policy:e:schedpolicyvalue'],
  [147, 'sched_get_priority_min', 'int', 'policy:e:schedpolicyvalue'],
  [148, 'sched_rr_get_interval', 'int', 'pid:pid interval:o:timespec'],
  [149, 'mlock', 'int', 'start:addr len:size'],
  [150, 'munlock', 'int', 'start:addr len:size'],
  [151, 'mlockall', 'int', 'flags:f:mlockall'],
  [152, 'munlockall', 'int', ''],
  [153, 'vhangup', 'int', ''],
  [154, 'modify_ldt', 'int', 'func:int ptr:addr bytecount:ulong'],
  [155, 'pivot_root', 'int', 'new_root:path put_old:path'],
  [156, '_sysctl', 'int', 'args:io:__sysctl_args'],
  [157, 'prctl', 'int', 'option:e:prctl arg2:hex arg3:hex arg4:hex arg5:hex'],
  [158, 'arch_prctl', 'int', 'code:e:archprctl addr:hex'],
  [159, 'adjtimex', 'int', 'txc_p:io:timex'],
  [160, 'setrlimit', 'int', 'resource:e:rlimit rlim:s:rlimit'],
  [161, 'chroot', 'int', 'filename:path'],
  [162, 'sync', 'int', ''],
  [163, 'acct', 'int', 'name:path'],
  [164, 'settimeofday', 'int', 'tv:s:timeval tz:s:timezone'],
  [165, 'mount', 'int', 'dev_name:str dir_name:path type:str flags:f:mount data:addr'],
  [166, 'umount2', 'int', 'name:path flags:f:umount'],
  [167, 'swapon', 'int', 'specialfile:path swap_flags:hex'],
  [168, 'swapoff', 'int', 'specialfile:path'],
  [169, 'reboot', 'int', 'magic1:hex magic2:hex cmd:hex arg:addr'],
  [170, 'sethostname', 'int', 'name:in@1 len:int'],
  [171, 'setdomainname', 'int', 'name:in@1 len:int'],
  [172, 'iopl', 'int', 'level:uint'],
  [173, 'ioperm', 'int', 'from:ulong num:ulong turn_on:int'],
  [174, 'create_module', 'address', 'name:str size:size'],
  [175, 'init_module', 'int', 'umod:addr len:ulong uargs:str'],
  [176, 'delete_module', 'int', 'name_user:str flags:hex'],
  [177, 'get_kernel_syms', 'int', 'table:addr'],
  [178, 'query_module', 'int', 'name:str which:int buf:addr bufsize:size ret:addr'],
  [179, 'quotactl', 'int', 'cmd:hex special:path id:int addr:addr'],
  [180, 'nfsservctl', 'int', 'cmd:int argp:addr resp:addr'],
  [181, 'getpmsg', 'int', 'a0:hex a1:hex a2:hex a3:hex a4:hex'],
  [182, 'putpmsg', 'int', 'a0:hex a1:hex a2:hex a3:hex a4:hex'],
  [183, 'afs_syscall', 'int', 'a0:hex a1:hex a2:hex a3:hex a4:hex'],
  [184, 'tuxcall', 'int', 'a0:hex a1:hex a2:hex'],
  [185, 'security', 'int', 'a0:hex a1:hex a2:hex'],
  [186, 'gettid', 'pid', ''],
  [187, 'readahead', 'size', 'fd:fd offset:off count:size'],
  [188, 'setxattr', 'int', 'pathname:path name:str value:in@3 size:size flags:f:xattr'],
  [189, 'lsetxattr', 'int', 'pathname:path name:str value:in@3 size:size flags:f:xattr'],
  [190, 'fsetxattr', 'int', 'fd:fd name:str value:in@3 size:size flags:f:xattr'],
  [191, 'getxattr', 'size', 'pathname:path name:str value:out@ret size:size'],
  [192, 'lgetxattr', 'size', 'pathname:path name:str value:out@ret size:size'],
  [193, 'fgetxattr', 'size', 'fd:fd name:str value:out@ret size:size'],
  [194, 'listxattr', 'size', 'pathname:path list:out@ret size:size'],
  [195, 'llistxattr', 'size', 'pathname:path list:out@ret size:size'],
  [196, 'flistxattr', 'size', 'fd:fd list:out@ret size:size'],
  [197, 'removexattr', 'int', 'pathname:path name:str'],
  [198, 'lremovexattr', 'int', 'pathname:path name:str'],
  [199, 'fremovexattr', 'int', 'fd:fd name:str'],
  [200, 'tkill', 'int', 'pid:pid sig:sig'],
  [201, 'time', 'int', 'tloc:o:time_t'],
  [202, 'futex', 'int', 'uaddr:addr op:e:futex val:uint utime:s:timespec uaddr2:addr val3:uint'],
  [203, 'sched_setaffinity', 'int', 'pid:pid len:uint user_mask_ptr:s:cpu_set'],
  [204, 'sched_getaffinity', 'int', 'pid:pid len:uint user_mask_ptr:o:cpu_set'],
  [205, 'set_thread_area', 'int', 'u_info:io:user_desc'],
  [206, 'io_setup', 'int', 'nr_events:uint ctxp:o:aio_context_t'],
  [207, 'io_destroy', 'int', 'ctx:hex'],
  [208, 'io_getevents', 'int', 'ctx_id:hex min_nr:long nr:long events:ao:io_event@ret timeout:s:timespec'],
  [209, 'io_submit', 'int', 'ctx_id:hex nr:long iocbpp:a:iocb_ptr@1'],
  [210, 'io_cancel', 'int', 'ctx_id:hex iocb:s:iocb result:o:io_event'],
  [211, 'get_thread_area', 'int', 'u_info:io:user_desc'],
  [212, 'lookup_dcookie', 'size', 'cookie64:hex buf:out@ret len:size'],
  [213, 'epoll_create', 'fd', 'size:int'],
  [214, 'epoll_ctl_old', 'int', 'a0:hex a1:hex a2:hex a3:hex'],
  [215, 'epoll_wait_old', 'int', 'a0:hex a1:hex a2:hex a3:hex'],
  [216, 'remap_file_pages', 'int', 'start:addr size:size prot:f:prot pgoff:ulong flags:f:mmap'],
  [217, 'getdents64', 'size', 'fd:fd dirent:ao:linux_dirent64@ret count:uint'],
  [218, 'set_tid_address', 'pid', 'tidptr:addr'],
  [219, 'restart_syscall', 'int', ''],
  [220, 'semtimedop', 'int', 'semid:int tsops:a:sembuf@2 nsops:uint timeout:s:timespec'],
  [221, 'fadvise64', 'int', 'fd:fd offset:off len:size advice:e:fadvise'],
  [222, 'timer_create', 'int', 'which_clock:clock timer_event_spec:s:sigevent created_timer_id:o:timer_t'],
  [223, 'timer_settime', 'int', 'timer_id:int flags:f:timer new_setting:s:itimerspec old_setting:o:itimerspec'],
  [224, 'timer_gettime', 'int', 'timer_id:int setting:o:itimerspec'],
  [225, 'timer_getoverrun', 'int', 'timer_id:int'],
  [226, 'timer_delete', 'int', 'timer_id:int'],
  [227, 'clock_settime', 'int', 'which_clock:clock tp:s:timespec'],
  [228, 'clock_gettime', 'int', 'which_clock:clock tp:o:timespec'],
  [229, 'clock_getres', 'int', 'which_clock:clock tp:o:timespec'],
  [230, 'clock_nanosleep', 'int', 'which_clock:clock flags:f:timer rqtp:s:timespec rmtp:o:timespec'],
  [231, 'exit_group', 'none', 'error_code:int'],
  [232, 'epoll_wait', 'int', 'epfd:fd events:ao:epoll_event@ret maxevents:int timeout:int'],
  [233, 'epoll_ctl', 'int', 'epfd:fd op:e:epollctl fd:fd event:s:epoll_event'],
  [234, 'tgkill', 'int', 'tgid:pid pid:pid sig:sig'],
  [235, 'utimes', 'int', 'filename:path utimes:s:timeval_pair'],
  [236, 'vserver', 'int', 'a0:hex a1:hex a2:hex a3:hex a4:hex'],
  [237, 'mbind', 'int', 'start:addr len:size mode:int nmask:addr maxnode:ulong flags:hex'],
  [238, 'set_mempolicy', 'int', 'mode:int nmask:addr maxnode:ulong'],
  [239, 'get_mempolicy', 'int', 'policy:o:int nmask:addr maxnode:ulong addr:addr flags:hex'],
  [240, 'mq_open', 'fd', 'u_name:str oflag:f:open mode:mode u_attr:s:mq_attr'],
  [241, 'mq_unlink', 'int', 'u_name:str'],
  [242, 'mq_timedsend', 'int', 'mqdes:fd u_msg_ptr:in@2 msg_len:size msg_prio:uint u_abs_timeout:s:timespec'],
  [243, 'mq_timedreceive', 'size', 'mqdes:fd u_msg_ptr:out@ret msg_len:size u_msg_prio:o:uint u_abs_timeout:s:timespec'],
  [244, 'mq_notify', 'int', 'mqdes:fd u_notification:s:sigevent'],
  [245, 'mq_getsetattr', 'int', 'mqdes:fd u_mqstat:s:mq_attr u_omqstat:o:mq_attr'],
  [246, 'kexec_load', 'int', 'entry:hex nr_segments:ulong segments:addr flags:hex'],
  [247, 'waitid', 'int', 'which:e:idtype upid:pid infop:o:siginfo options:f:waitid ru:o:rusage'],
  [248, 'add_key', 'int', '_type:str _description:str _payload:in@3 plen:size ringid:int'],
  [249, 'request_key', 'int', '_type:str _description:str _callout_info:str destringid:int'],
  [250, 'keyctl', 'int', 'option:int arg2:hex arg3:hex arg4:hex arg5:hex'],
  [251, 'ioprio_set', 'int', 'which:int who:int ioprio:int'],
  [252, 'ioprio_get', 'int', 'which:int who:int'],
  [253, 'inotify_init', 'fd', ''],
  [254, 'inotify_add_watch', 'int', 'fd:fd pathname:path mask:f:inotifymask'],
  [255, 'inotify_rm_watch', 'int', 'fd:fd wd:int'],
  [256, 'migrate_pages', 'int', 'pid:pid maxnode:ulong old_nodes:addr new_nodes:addr'],
  [257, 'openat', 'fd', 'dfd:dirfd filename:path flags:f:open mode:mode'],
  [258, 'mkdirat', 'int', 'dfd:dirfd pathname:path mode:mode'],
  [259, 'mknodat', 'int', 'dfd:dirfd filename:path mode:fmode dev:hex'],
  [260, 'fchownat', 'int', 'dfd:dirfd filename:path user:uid group:gid flag:f:at'],
  [261, 'futimesat', 'int', 'dfd:dirfd filename:path utimes:s:timeval_pair'],
  [262, 'newfstatat', 'int', 'dfd:dirfd filename:path statbuf:o:stat flag:f:at'],
  [263, 'unlinkat', 'int', 'dfd:dirfd pathname:path flag:f:at'],
  [264, 'renameat', 'int', 'olddfd:dirfd oldname:path newdfd:dirfd newname:path'],
  [265, 'linkat', 'int', 'olddfd:dirfd oldname:path newdfd:dirfd newname:path flags:f:at'],
  [266, 'symlinkat', 'int', 'oldname:path newdfd:dirfd newname:path'],
  [267, 'readlinkat', 'size', 'dfd:dirfd pathname:path buf:out@ret bufsiz:int'],
  [268, 'fchmodat', 'int', 'dfd:dirfd filename:path mode:mode'],
  [269, 'faccessat', 'int', 'dfd:dirfd filename:path mode:f:access'],
  [270, 'pselect6', 'int', 'n:int inp:io:fd_set outp:io:fd_set exp:io:fd_set tsp:io:timespec sig:s:sigset_argpack'],
  [271, 'ppoll', 'int', 'ufds:aio:pollfd@1 nfds:uint tsp:io:timespec sigmask:s:sigset sigsetsize:size'],
  [272, 'unshare', 'int', 'unshare_flags:f:unshare'],
  [273, 'set_robust_list', 'int', 'head:addr len:size'],
  [274, 'get_robust_list', 'int', 'pid:pid head_ptr:o:pointer len_ptr:o:size_t'],
  [275, 'splice', 'size', 'fd_in:fd off_in:io:loff_t fd_out:fd off_out:io:loff_t len:size flags:f:splice'],
  [276, 'tee', 'size', 'fdin:fd fdout:fd len:size flags:f:splice'],
  [277, 'sync_file_range', 'int', 'fd:fd offset:off nbytes:off flags:hex'],
  [278, 'vmsplice', 'size', 'fd:fd uiov:a:iovec@2 nr_segs:ulong flags:f:splice'],
  [279, 'move_pages', 'int', 'pid:pid nr_pages:ulong pages:addr nodes:addr status:addr flags:hex'],
  [280, 'utimensat', 'int', 'dfd:dirfd filename:path utimes:s:timespec_pair flags:f:at'],
  [281, 'epoll_pwait', 'int', 'epfd:fd events:ao:epoll_event@ret maxevents:int timeout:int sigmask:s:sigset sigsetsize:size'],
  [282, 'signalfd', 'fd', 'ufd:fd user_mask:s:sigset sizemask:size'],
  [283, 'timerfd_create', 'fd', 'clockid:clock flags:f:tfd'],
  [284, 'eventfd', 'fd', 'count:uint'],
  [285, 'fallocate', 'int', 'fd:fd mode:f:falloc offset:off len:off'],
  [286, 'timerfd_settime', 'int', 'ufd:fd flags:f:tfd utmr:s:itimerspec otmr:o:itimerspec'],
  [287, 'timerfd_gettime', 'int', 'ufd:fd otmr:o:itimerspec'],
  [288, 'accept4', 'fd', 'fd:fd upeer_sockaddr:o:sockaddr upeer_addrlen:io:socklen_t flags:f:sockflags'],
  [289, 'signalfd4', 'fd', 'ufd:fd user_mask:s:sigset sizemask:size flags:f:sfd'],
  [290, 'eventfd2', 'fd', 'count:uint flags:f:efd'],
  [291, 'epoll_create1', 'fd', 'flags:f:epollcreate'],
  [292, 'dup3', 'fd', 'oldfd:fd newfd:fd flags:f:ofl'],
  [293, 'pipe2', 'int', 'fildes:fdpair flags:f:ofl'],
  [294, 'inotify_init1', 'fd', 'flags:f:inotifyinit'],
  [295, 'preadv', 'size', 'fd:fd vec:ao:iovec@2 vlen:int pos_l:off pos_h:ulong'],
  [296, 'pwritev', 'size', 'fd:fd vec:a:iovec@2 vlen:int pos_l:off pos_h:ulong'],
  [297, 'rt_tgsigqueueinfo', 'int', 'tgid:pid pid:pid sig:sig uinfo:s:siginfo'],
  [298, 'perf_event_open', 'fd', 'attr_uptr:s:perf_event_attr pid:pid cpu:int group_fd:fd flags:hex'],
  [299, 'recvmmsg', 'int', 'fd:fd mmsg:aio:mmsghdr@2 vlen:uint flags:f:msg timeout:io:timespec'],
  [300, 'fanotify_init', 'fd', 'flags:hex event_f_flags:f:open'],
  [301, 'fanotify_mark', 'int', 'fanotify_fd:fd flags:hex mask:hex dfd:dirfd pathname:path'],
  [302, 'prlimit64', 'int', 'pid:pid resource:e:rlimit new_rlim:s:rlimit old_rlim:o:rlimit'],
  [303, 'name_to_handle_at', 'int', 'dfd:dirfd name:path handle:io:file_handle mnt_id:o:int flag:f:at'],
  [304, 'open_by_handle_at', 'fd', 'mountdirfd:fd handle:s:file_handle flags:f:open'],
  [305, 'clock_adjtime', 'int', 'which_clock:clock tx:io:timex'],
  [306, 'syncfs', 'int', 'fd:fd'],
  [307, 'sendmmsg', 'int', 'fd:fd mmsg:aio:mmsghdr@2 vlen:uint flags:f:msg'],
  [308, 'setns', 'int', 'fd:fd nstype:f:nstype'],
  [309, 'getcpu', 'int', 'cpup:o:uint nodep:o:uint unused:addr'],
  [310, 'process_vm_readv', 'size', 'pid:pid lvec:ao:iovec@2 liovcnt:ulong rvec:a:iovec@4 riovcnt:ulong flags:ulong'],
  [311, 'process_vm_writev', 'size', 'pid:pid lvec:a:iovec@2 liovcnt:ulong rvec:a:iovec@4 riovcnt:ulong flags:ulong'],
  [312, 'kcmp', 'int', 'pid1:pid pid2:pid type:int idx1:ulong idx2:ulong'],
  [313, 'finit_module', 'int', 'fd:fd uargs:str flags:hex'],
  [314, 'sched_setattr', 'int', 'pid:pid uattr:s:sched_attr flags:uint'],
  [315, 'sched_getattr', 'int', 'pid:pid uattr:o:sched_attr usize:uint flags:uint'],
  [316, 'renameat2', 'int', 'olddfd:dirfd oldname:path newdfd:dirfd newname:path flags:f:rename'],
  [317, 'seccomp', 'int', 'op:uint flags:hex uargs:addr'],
  [318, 'getrandom', 'size', 'ubuf:outx@ret len:size flags:f:grnd'],
  [319, 'memfd_create', 'fd', 'uname_ptr:str flags:f:memfd'],
  [320, 'kexec_file_load', 'int', 'kernel_fd:fd initrd_fd:fd cmdline_len:ulong cmdline_ptr:str flags:hex'],
  [321, 'bpf', 'int', 'cmd:int uattr:addr size:uint'],
  [322, 'execveat', 'int', 'fd:dirfd filename:path argv:argv envp:envp flags:f:at'],
  [323, 'userfaultfd', 'fd', 'flags:f:ofl'],
  [324, 'membarrier', 'int', 'cmd:int flags:uint cpu_id:int'],
  [325, 'mlock2', 'int', 'start:addr len:size flags:f:mlock2'],
  [326, 'copy_file_range', 'size', 'fd_in:fd off_in:io:loff_t fd_out:fd off_out:io:loff_t len:size flags:uint'],
  [327, 'preadv2', 'size', 'fd:fd vec:ao:iovec@2 vlen:int pos_l:off pos_h:ulong flags:f:rwf'],
  [328, 'pwritev2', 'size', 'fd:fd vec:a:iovec@2 vlen:int pos_l:off pos_h:ulong flags:f:rwf'],
  [329, 'pkey_mprotect', 'int', 'start:addr len:size prot:f:prot pkey:int'],
  [330, 'pkey_alloc', 'int', 'flags:uint init_val:uint'],
  [331, 'pkey_free', 'int', 'pkey:int'],
  [332, 'statx', 'int', 'dfd:dirfd filename:path flags:f:statxat mask:f:statxmask buffer:o:statx'],
  [333, 'io_pgetevents', 'int', 'ctx_id:hex min_nr:long nr:long events:ao:io_event@ret timeout:s:timespec usig:s:aio_sigset'],
  [334, 'rseq', 'int', 'rseq:s:rseq rseq_len:uint flags:hex sig:hex'],
  [335, 'uretprobe', 'int', ''],
  [336, 'uprobe', 'int', ''],
  [424, 'pidfd_send_signal', 'int', 'pidfd:fd sig:sig info:s:siginfo flags:uint'],
  [425, 'io_uring_setup', 'fd', 'entries:uint p:io:io_uring_params'],
  [426, 'io_uring_enter', 'int', 'fd:fd to_submit:uint min_complete:uint flags:hex argp:addr argsz:size'],
  [427, 'io_uring_register', 'int', 'fd:fd opcode:uint arg:addr nr_args:uint'],
  [428, 'open_tree', 'fd', 'dfd:dirfd filename:path flags:hex'],
  [429, 'move_mount', 'int', 'from_dfd:dirfd from_pathname:path to_dfd:dirfd to_pathname:path flags:hex'],
  [430, 'fsopen', 'fd', '_fs_name:str flags:hex'],
  [431, 'fsconfig', 'int', 'fd:fd cmd:uint _key:str _value:addr aux:int'],
  [432, 'fsmount', 'fd', 'fs_fd:fd flags:hex attr_flags:hex'],
  [433, 'fspick', 'fd', 'dfd:dirfd path:path flags:hex'],
  [434, 'pidfd_open', 'fd', 'pid:pid flags:f:pidfd'],
  [435, 'clone3', 'pid', 'uargs:s:clone_args size:size'],
  [436, 'close_range', 'int', 'fd:fd max_fd:fd flags:f:closerange'],
  [437, 'openat2', 'fd', 'dfd:dirfd filename:path how:s:open_how usize:size'],
  [438, 'pidfd_getfd', 'fd', 'pidfd:fd fd:fd flags:uint'],
  [439, 'faccessat2', 'int', 'dfd:dirfd filename:path mode:f:access flags:f:accessat'],
  [440, 'process_madvise', 'size', 'pidfd:fd vec:a:iovec@2 vlen:size behavior:e:madv flags:uint'],
  [441, 'epoll_pwait2', 'int', 'epfd:fd events:ao:epoll_event@ret maxevents:int timeout:s:timespec sigmask:s:sigset sigsetsize:size'],
  [442, 'mount_setattr', 'int', 'dfd:dirfd path:path flags:f:at uattr:s:mount_attr usize:size'],
  [443, 'quotactl_fd', 'int', 'fd:fd cmd:hex id:int addr:addr'],
  [444, 'landlock_create_ruleset', 'fd', 'attr:s:landlock_ruleset_attr size:size flags:hex'],
  [445, 'landlock_add_rule', 'int', 'ruleset_fd:fd rule_type:int rule_attr:addr flags:hex'],
  [446, 'landlock_restrict_self', 'int', 'ruleset_fd:fd flags:hex'],
  [447, 'memfd_secret', 'fd', 'flags:f:ofl'],
  [448, 'process_mrelease', 'int', 'pidfd:fd flags:uint'],
  [449, 'futex_waitv', 'int', 'waiters:a:futex_waitv@1 nr_futexes:uint flags:uint timeout:s:timespec clockid:clock'],
  [450, 'set_mempolicy_home_node', 'int', 'start:addr len:ulong home_node:ulong flags:hex'],
  [451, 'cachestat', 'int', 'fd:fd cstat_range:s:cachestat_range cstat:o:cachestat flags:uint'],
  [452, 'fchmodat2', 'int', 'dfd:dirfd filename:path mode:mode flags:f:at'],
  [453, 'map_shadow_stack', 'address', 'addr:addr size:size flags:hex'],
  [454, 'futex_wake', 'int', 'uaddr:addr mask:hex nr:int flags:f:futex2'],
  [455, 'futex_wait', 'int', 'uaddr:addr val:hex mask:hex flags:f:futex2 timeout:s:timespec clockid:clock'],
  [456, 'futex_requeue', 'int', 'waiters:s:futex_waitv_pair flags:f:futex2 nr_wake:int nr_requeue:int'],
  [457, 'statmount', 'int', 'req:s:mnt_id_req buf:o:statmount bufsize:size flags:hex'],
  [458, 'listmount', 'int', 'req:s:mnt_id_req mnt_ids:ao:u64@ret nr_mnt_ids:size flags:hex'],
  [459, 'lsm_get_self_attr', 'int', 'attr:uint ctx:o:lsm_ctx size:io:u32 flags:uint'],
  [460, 'lsm_set_self_attr', 'int', 'attr:uint ctx:s:lsm_ctx size:uint flags:uint'],
  [461, 'lsm_list_modules', 'int', 'ids:o:u64_array size:io:u32 flags:uint'],
  [462, 'mseal', 'int', 'start:addr len:size flags:hex'],
  [463, 'setxattrat', 'int', 'dfd:dirfd pathname:path at_flags:f:at name:str uargs:s:xattr_args usize:size'],
  [464, 'getxattrat', 'size', 'dfd:dirfd pathname:path at_flags:f:at name:str uargs:io:xattr_args usize:size'],
  [465, 'listxattrat', 'size', 'dfd:dirfd pathname:path at_flags:f:at list:out@ret size:size'],
  [466, 'removexattrat', 'int', 'dfd:dirfd pathname:path at_flags:f:at name:str'],
  [467, 'open_tree_attr', 'fd', 'dfd:dirfd filename:path flags:hex uattr:s:mount_attr usize:size'],
  [468, 'file_getattr', 'int', 'dfd:dirfd filename:path ufattr:o:file_attr usize:size at_flags:f:at'],
  [469, 'file_setattr', 'int', 'dfd:dirfd filename:path ufattr:s:file_attr usize:size at_flags:f:at'],
];

function arg(name: string, type: ArgType): SyscallArg {
  return Object.freeze({ name, type: Object.freeze(type) });
}

function low32(v: bigint | undefined): number {
  return Number(BigInt.asIntN(32, v ?? 0n));
}

/** open(2)-style calls show the mode only when it is used: O_CREAT or O_TMPFILE. */
function modeWhenCreating(flagsIndex: number): (all: readonly SyscallArg[]) => SyscallInfo['refine'] {
  return (all) => (args) => {
    const flags = low32(args[flagsIndex]);
    const creating = (flags & OpenFlag.O_CREAT) !== 0 || (flags & OpenFlag.__O_TMPFILE) !== 0;
    return creating ? all : all.slice(0, flagsIndex + 1);
  };
}

const fcntlThird: Readonly<Record<number, ArgType | null>> = {
  [FcntlCmd.F_GETFD]: null,
  [FcntlCmd.F_GETFL]: null,
  [FcntlCmd.F_GETOWN]: null,
  [FcntlCmd.F_GETSIG]: null,
  [FcntlCmd.F_GETLEASE]: null,
  [FcntlCmd.F_GETPIPE_SZ]: null,
  [FcntlCmd.F_GET_SEALS]: null,
  [FcntlCmd.F_SETFD]: { kind: 'flags', set: fdFlags },
  [FcntlCmd.F_SETFL]: { kind: 'flags', set: openFlags },
  [FcntlCmd.F_DUPFD]: { kind: 'uint' },
  [FcntlCmd.F_DUPFD_CLOEXEC]: { kind: 'uint' },
  [FcntlCmd.F_DUPFD_QUERY]: { kind: 'fd' },
  [FcntlCmd.F_SETOWN]: { kind: 'int' },
  [FcntlCmd.F_SETSIG]: { kind: 'signal' },
  [FcntlCmd.F_SETLEASE]: { kind: 'enum', set: lockTypes },
  [FcntlCmd.F_SETPIPE_SZ]: { kind: 'uint' },
  [FcntlCmd.F_NOTIFY]: { kind: 'flags', set: dnotifyFlags },
  [FcntlCmd.F_ADD_SEALS]: { kind: 'flags', set: sealFlags },
  [FcntlCmd.F_GETLK]: { kind: 'struct', struct: 'flock', dir: 'inout' },
  [FcntlCmd.F_SETLK]: { kind: 'struct', struct: 'flock', dir: 'in' },
  [FcntlCmd.F_SETLKW]: { kind: 'struct', struct: 'flock', dir: 'in' },
  [FcntlCmd.F_OFD_GETLK]: { kind: 'struct', struct: 'flock', dir: 'inout' },
  [FcntlCmd.F_OFD_SETLK]: { kind: 'struct', struct: 'flock', dir: 'in' },
  [FcntlCmd.F_OFD_SETLKW]: { kind: 'struct', struct: 'flock', dir: 'in' },
  [FcntlCmd.F_GETOWN_EX]: { kind: 'struct', struct: 'f_owner_ex', dir: 'out' },
  [FcntlCmd.F_SETOWN_EX]: { kind: 'struct', struct: 'f_owner_ex', dir: 'in' },
};

/** fcntl's third argument depends on the command (none for the F_GET* commands). */
function fcntlRefine(all: readonly SyscallArg[]): SyscallInfo['refine'] {
  const cache = new Map<number, readonly SyscallArg[]>();
  return (args) => {
    const cmd = low32(args[1]);
    let out = cache.get(cmd);
    if (!out) {
      const third = fcntlThird[cmd];
      out =
        third === null
          ? all.slice(0, 2)
          : third === undefined
            ? all
            : Object.freeze([...all.slice(0, 2), arg('arg', third)]);
      cache.set(cmd, out);
    }
    return out;
  };
}

/** futex's arguments after `op` depend on the operation, as strace shows them. */
function futexRefine(all: readonly SyscallArg[]): SyscallInfo['refine'] {
  const [uaddr, op, val, utime, uaddr2, val3] = all as [
    SyscallArg,
    SyscallArg,
    SyscallArg,
    SyscallArg,
    SyscallArg,
    SyscallArg,
  ];
  // The fourth register is a count (val2) for the requeue operations, a bare pointer otherwise.
  const val2 = arg(utime.name, { kind: 'uint' });
  const timeoutAddr = arg(utime.name, { kind: 'address' });
  const bitset = arg(val3.name, { kind: 'futexBitset' });
  const wakeOp = arg(val3.name, { kind: 'futexWakeOp' });
  const v3hex = arg(val3.name, { kind: 'hex' });
  const byCmd: Readonly<Record<number, readonly SyscallArg[]>> = {
    [Futex.FUTEX_WAIT]: [uaddr, op, val, utime],
    [Futex.FUTEX_WAKE]: [uaddr, op, val],
    [Futex.FUTEX_FD]: [uaddr, op, val],
    [Futex.FUTEX_REQUEUE]: [uaddr, op, val, val2, uaddr2],
    [Futex.FUTEX_CMP_REQUEUE]: [uaddr, op, val, val2, uaddr2, val3],
    [Futex.FUTEX_WAKE_OP]: [uaddr, op, val, val2, uaddr2, wakeOp],
    [Futex.FUTEX_LOCK_PI]: [uaddr, op, utime],
    [Futex.FUTEX_LOCK_PI2]: [uaddr, op, utime],
    [Futex.FUTEX_UNLOCK_PI]: [uaddr, op],
    [Futex.FUTEX_TRYLOCK_PI]: [uaddr, op],
    [Futex.FUTEX_WAIT_BITSET]: [uaddr, op, val, utime, bitset],
    [Futex.FUTEX_WAKE_BITSET]: [uaddr, op, val, bitset],
    [Futex.FUTEX_WAIT_REQUEUE_PI]: [uaddr, op, val, utime, uaddr2],
    [Futex.FUTEX_CMP_REQUEUE_PI]: [uaddr, op, val, val2, uaddr2, val3],
  };
  const unknown = [uaddr, op, val, timeoutAddr, uaddr2, v3hex];
  return (args) => byCmd[low32(args[1]) & 0x7f] ?? unknown;
}

/** socket(2)/socketpair(2): the protocol is an IPPROTO_* for the IP families. */
function socketRefine(all: readonly SyscallArg[]): SyscallInfo['refine'] {
  const withProto = Object.freeze([
    all[0]!,
    all[1]!,
    arg(all[2]!.name, { kind: 'enum', set: ipProtocols }),
    ...all.slice(3),
  ]);
  return (args) => {
    const family = low32(args[0]);
    return family === AddressFamily.AF_INET || family === AddressFamily.AF_INET6 ? withProto : all;
  };
}

/**
 * clone(2) as strace shows it: `clone(child_stack=..., flags=...)`, then parent_tid, tls and
 * child_tidptr only when the flags use them. x86-64 register order: flags, newsp, parent_tidptr,
 * child_tidptr, tls.
 */
function cloneRefine(all: readonly SyscallArg[]): SyscallInfo['refine'] {
  const [flags, newsp, ptid, ctid, tls] = all as [SyscallArg, SyscallArg, SyscallArg, SyscallArg, SyscallArg];
  const labeled = (a: SyscallArg, label: string, type: ArgType = a.type): SyscallArg =>
    Object.freeze({ name: a.name, type: Object.freeze(type), label });
  const stackArg = labeled(newsp, 'child_stack');
  const flagsArg = labeled(flags, 'flags');
  const ptidArg = labeled(ptid, 'parent_tid', { kind: 'intOut' });
  const tlsArg = labeled(tls, 'tls', { kind: 'address' });
  const ctidArg = labeled(ctid, 'child_tidptr', { kind: 'address' });
  const cache = new Map<number, readonly SyscallArg[]>();
  return (args) => {
    const f = low32(args[0]);
    const key =
      (f & (CloneFlag.CLONE_PARENT_SETTID | CloneFlag.CLONE_PIDFD) ? 1 : 0) |
      (f & CloneFlag.CLONE_SETTLS ? 2 : 0) |
      (f & (CloneFlag.CLONE_CHILD_SETTID | CloneFlag.CLONE_CHILD_CLEARTID) ? 4 : 0);
    let out = cache.get(key);
    if (!out) {
      out = Object.freeze([
        stackArg,
        flagsArg,
        ...(key & 1 ? [ptidArg] : []),
        ...(key & 2 ? [tlsArg] : []),
        ...(key & 4 ? [ctidArg] : []),
      ]);
      cache.set(key, out);
    }
    return out;
  };
}

/** setsockopt/getsockopt: the option name is decoded by level, as strace does. */
function sockoptRefine(all: readonly SyscallArg[], get: boolean): SyscallInfo['refine'] {
  const byLevel = new Map<number, readonly SyscallArg[]>();
  const levels: [number, EnumSet][] = [
    [SocketLevel.SOL_SOCKET, get ? socketGetOptions : socketOptions],
    [SocketLevel.SOL_IP, ipOptions],
    [SocketLevel.SOL_IPV6, ipv6Options],
    [SocketLevel.SOL_TCP, tcpOptions],
  ];
  for (const [level, set] of levels) {
    byLevel.set(
      level,
      Object.freeze([all[0]!, all[1]!, arg(all[2]!.name, { kind: 'enum', set }), ...all.slice(3)]),
    );
  }
  return (args) => byLevel.get(low32(args[1])) ?? all;
}

/** mremap(2) shows new_addr only when MREMAP_MAYMOVE and MREMAP_FIXED are both set, as strace. */
function mremapRefine(all: readonly SyscallArg[]): SyscallInfo['refine'] {
  const short = all.slice(0, 4);
  const both = Mremap.MREMAP_MAYMOVE | Mremap.MREMAP_FIXED;
  return (args) => ((low32(args[3]) & both) === both ? all : short);
}

/**
 * preadv/pwritev and their v2 forms: on x86-64 the offset is whole in pos_l and the kernel ignores
 * pos_h, so it is not shown (as strace shows it).
 */
function withoutPosH(all: readonly SyscallArg[]): SyscallInfo['refine'] {
  const shown = Object.freeze(all.filter((a) => a.name !== 'pos_h'));
  return () => shown;
}

const refiners: Readonly<Record<string, (all: readonly SyscallArg[]) => SyscallInfo['refine']>> = {
  preadv: withoutPosH,
  pwritev: withoutPosH,
  preadv2: withoutPosH,
  pwritev2: withoutPosH,
  open: modeWhenCreating(1),
  openat: modeWhenCreating(2),
  mq_open: modeWhenCreating(1),
  fcntl: fcntlRefine,
  futex: futexRefine,
  socket: socketRefine,
  socketpair: socketRefine,
  mremap: mremapRefine,
  clone: cloneRefine,
  setsockopt: (all) => sockoptRefine(all, false),
  getsockopt: (all) => sockoptRefine(all, true),
};

/**
 * A row of the table whose arguments are parsed when first asked for: only strace shows them,
 * and parsing every row at load took 1.5-2 ms and half a megabyte of every sandbox's start.
 * (table.test.ts reads them all, so a bad spec still fails the build.)
 */
class TableEntry implements SyscallInfo {
  readonly #spec: string;
  #args: readonly SyscallArg[] | undefined;
  #refine: SyscallInfo['refine'];

  constructor(
    readonly nr: number,
    readonly name: string,
    readonly ret: ReturnKind,
    spec: string,
  ) {
    this.#spec = spec;
  }

  get args(): readonly SyscallArg[] {
    return this.#args ?? this.#parse();
  }

  get refine(): SyscallInfo['refine'] {
    if (this.#args === undefined) this.#parse();
    return this.#refine;
  }

  #parse(): readonly SyscallArg[] {
    const args = Object.freeze(parseArgs(this.#spec));
    this.#refine = refiners[this.name]?.(args);
    this.#args = args;
    return args;
  }
}

const byNumber: (SyscallInfo | undefined)[] = [];
const byName = new Map<string, SyscallInfo>();
for (const [nr, name, ret, spec] of rows) {
  const info: SyscallInfo = Object.freeze(new TableEntry(nr, name, ret, spec));
  if (byNumber[nr] || byName.has(name)) throw new Error(`syscall table: duplicate ${nr} ${name}`);
  byNumber[nr] = info;
  byName.set(name, info);
}

/** Every syscall of the table, ascending by number. */
export const syscallTable: readonly SyscallInfo[] = Object.freeze(
  byNumber.filter((s): s is SyscallInfo => s !== undefined),
);

/** The highest syscall number of the table (Linux 6.18: file_setattr, 469). */
export const SYSCALL_MAX = byNumber.length - 1;

/**
 * The syscall with this number, or `undefined` for numbers Linux x86-64 does not define
 * (387..423 are unused; 512..547 belong to x32). O(1).
 *
 * @example
 * ```ts
 * syscallByNumber(257)?.name; // 'openat'
 * ```
 */
export function syscallByNumber(nr: number): SyscallInfo | undefined {
  return Number.isInteger(nr) && nr >= 0 ? byNumber[nr] : undefined;
}

/**
 * The syscall with this name (as in syscall_64.tbl: `newfstatat`, `pread64`), O(1).
 *
 * @example
 * ```ts
 * syscallByName('mmap')?.nr; // 9
 * ```
 */
export function syscallByName(name: string): SyscallInfo | undefined {
  return byName.get(name);
}
