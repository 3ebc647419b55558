/**
 * The `ProcSource` interface: everything /proc and /sys show about the kernel comes through it.
 * procfs declares it; the kernel implements it (and {@link FixtureProcSource} implements it for
 * tests and simulations). One source is one pid namespace's view: every pid and tid it takes or
 * returns is a number in that namespace, as a procfs mount belongs to one pid namespace in Linux.
 *
 * Units: memory figures are bytes, times are nanoseconds (procfs converts to kB, pages and
 * clock ticks as each file wants). Optional methods have the documented default; a kernel can
 * implement them as it grows.
 *
 * Re-entrancy: procfs calls the source synchronously, from inside a VFS operation (lookup,
 * readlink, open, write); it never holds anything across an `await`. A source must not call back
 * into the same procfs synchronously.
 *
 * @module
 */

import type { LinuxError } from '@tsvisor/abi';
import type { FileDescriptionImpl, Location } from '@tsvisor/vfs';
import type { ProcNetSource } from './net.js';
import type { ProcSysvIpc } from './sysvipc.js';

/** The Linux task state letters of /proc/<pid>/stat (fs/proc/array.c task_state_array). */
export type TaskState = 'R' | 'S' | 'D' | 'T' | 't' | 'X' | 'Z' | 'P' | 'I';

/** A task's credentials (struct cred), ids as seen in the source's user namespace. */
export interface ProcCreds {
  readonly ruid: number;
  readonly euid: number;
  readonly suid: number;
  readonly fsuid: number;
  readonly rgid: number;
  readonly egid: number;
  readonly sgid: number;
  readonly fsgid: number;
  /** Supplementary groups. */
  readonly groups: readonly number[];
  /** Capability sets as 64-bit masks (bit n = capability n). */
  readonly capInh: bigint;
  readonly capPrm: bigint;
  readonly capEff: bigint;
  readonly capBnd: bigint;
  readonly capAmb: bigint;
}

/** Who is reading: the calling task, in the source's pid namespace. */
export interface ProcCaller {
  readonly tgid: number;
  readonly tid: number;
  readonly creds: ProcCreds;
}

/** One open file of a task, for fd/N (symlink) and fdinfo/N. */
export interface ProcFd {
  /** The symlink target: a path from the task's root, `pipe:[ino]`, `socket:[ino]`, `anon_inode:[eventfd]`... */
  readonly path: string;
  /** Access mode and status flags as F_GETFL reports them, plus O_CLOEXEC when the fd has FD_CLOEXEC. */
  readonly flags: number;
  /** The file position. */
  readonly pos: number;
  /** The mount id of the file (mountinfo's first field). */
  readonly mntId: number;
  /** The inode number. */
  readonly ino: number;
  /** Extra fdinfo lines for the file type (`eventfd-count: ...`, `tfd: ...`), without newlines. */
  readonly extra?: readonly string[];
  /**
   * Where the open file description is (its `location` in the VFS): /proc/<pid>/fd/N is a magic
   * link that jumps here, so reopening reaches a pipe, a socket or a deleted file. Absent: the
   * link resolves {@link ProcFd.path} as an ordinary symlink.
   */
  readonly location?: Location;
}

/** I/O accounting of /proc/<pid>/io (struct task_io_accounting), bytes and counts. */
export interface ProcIo {
  /** Bytes read through read-like syscalls (rchar). */
  readonly rchar: number;
  /** Bytes written through write-like syscalls (wchar). */
  readonly wchar: number;
  /** Read syscalls (syscr). */
  readonly syscr: number;
  /** Write syscalls (syscw). */
  readonly syscw: number;
  /** Bytes fetched from storage (read_bytes). */
  readonly readBytes: number;
  /** Bytes sent to storage (write_bytes). */
  readonly writeBytes: number;
  /** Written bytes whose writeback was cancelled by truncation (cancelled_write_bytes). */
  readonly cancelledWriteBytes: number;
}

/**
 * What /proc/<pid>/syscall shows: the system call the task is blocked in (number, six
 * arguments, stack and instruction pointers), or `running`.
 */
export type ProcSyscall =
  | 'running'
  | {
      /** The syscall number, or -1 when the task is stopped outside a syscall. */
      readonly nr: number;
      readonly args: readonly [bigint, bigint, bigint, bigint, bigint, bigint];
      readonly sp: bigint;
      readonly pc: bigint;
    };

/** /proc/kmsg: the kernel's syslog reader (syslog(2) SYSLOG_ACTION_READ through a file). */
export interface ProcKmsg {
  /**
   * Open /proc/kmsg (procfs checked the mode: 0400 root). The kernel checks CAP_SYSLOG /
   * dmesg_restrict and returns a description whose reads consume the log as
   * SYSLOG_ACTION_READ does.
   */
  open(flags: number): FileDescriptionImpl | LinuxError;
}

/** Memory figures of a process (struct mm_struct counters), all in bytes. */
export interface ProcMemory {
  /** Peak virtual size (VmPeak). */
  readonly vmPeak: number;
  /** Virtual size (VmSize, total_vm). */
  readonly vmSize: number;
  /** Locked (VmLck). */
  readonly vmLck: number;
  /** Pinned (VmPin). */
  readonly vmPin: number;
  /** Peak resident (VmHWM). */
  readonly vmHWM: number;
  /** Resident anonymous memory. */
  readonly rssAnon: number;
  /** Resident file mappings. */
  readonly rssFile: number;
  /** Resident shared memory. */
  readonly rssShmem: number;
  /** Private writable non-stack mappings (VmData). */
  readonly vmData: number;
  /** Stack (VmStk). */
  readonly vmStk: number;
  /** Text (VmExe: end_code - start_code). */
  readonly vmExe: number;
  /** Executable mappings other than the text (VmLib). */
  readonly vmLib: number;
  /** Page tables (VmPTE). */
  readonly vmPTE: number;
  /** Swapped out (VmSwap). */
  readonly vmSwap: number;
}

/** Address-space layout of a process (the mm_struct fields /proc/<pid>/stat shows). */
export interface ProcLayout {
  readonly startCode: number;
  readonly endCode: number;
  readonly startData: number;
  readonly endData: number;
  readonly startBrk: number;
  /** Current program break (not shown in stat, but statm's data derives from mappings). */
  readonly brk: number;
  readonly startStack: number;
  readonly argStart: number;
  readonly argEnd: number;
  readonly envStart: number;
  readonly envEnd: number;
}

/** CPU times and start time, in nanoseconds. */
export interface ProcTimes {
  /** User time (of the thread, or of the whole thread group: see {@link ProcTask.times}). */
  readonly utimeNs: number;
  readonly stimeNs: number;
  /** Times of waited-for children. */
  readonly cutimeNs: number;
  readonly cstimeNs: number;
  /** Start time, nanoseconds after boot (stat field 22 converts it to clock ticks). */
  readonly startNs: number;
}

/** Scheduling and accounting figures. Each defaults to 0 (or the Linux default noted). */
export interface ProcSched {
  /** Nice value, -20..19 (priority is derived: 20 + nice for normal policies). */
  readonly nice?: number;
  /** SCHED_* policy number (default 0, SCHED_OTHER). */
  readonly policy?: number;
  readonly rtPriority?: number;
  /** CPU the task last ran on. */
  readonly processor?: number;
  readonly voluntaryCtxtSwitches?: number;
  readonly nonvoluntaryCtxtSwitches?: number;
  readonly minflt?: number;
  readonly cminflt?: number;
  readonly majflt?: number;
  readonly cmajflt?: number;
  /** PF_* flags of stat field 9; default 0x400000 (PF_RANDOMIZE), what a plain user process shows. */
  readonly flags?: number;
}

/** Signal state of a task, masks as 64-bit values (bit n-1 = signal n). */
export interface ProcSignals {
  /** Thread-private pending. */
  readonly pending: bigint;
  /** Process-shared pending. */
  readonly shared: bigint;
  readonly blocked: bigint;
  readonly ignored: bigint;
  readonly caught: bigint;
  /** Queued signals of the real uid and its RLIMIT_SIGPENDING (status SigQ). */
  readonly queued: number;
  readonly queueLimit: number;
}

/** One mount as /proc/<pid>/mountinfo shows it (fs/proc_namespace.c show_mountinfo). */
export interface ProcMount {
  readonly mountId: number;
  readonly parentId: number;
  readonly major: number;
  readonly minor: number;
  /** Path of the mount's root inside its filesystem (`/` unless a bind mount of a subdirectory). */
  readonly root: string;
  /** Mount point, from the reading task's root. */
  readonly mountPoint: string;
  /** Per-mount options: `rw,nosuid,nodev,noexec,relatime`... */
  readonly mountOptions: string;
  /** Optional fields (`shared:1`, `master:2`); empty for private mounts. */
  readonly optional?: readonly string[];
  readonly fsType: string;
  /** The source (`proc`, `tmpfs`, `/dev/sda1`, `none`). */
  readonly source: string;
  /** Per-superblock options: `rw,size=...`. */
  readonly superOptions: string;
}

/** One resource limit (struct rlimit); `null` is RLIM_INFINITY. */
export interface ProcRlimit {
  readonly soft: number | null;
  readonly hard: number | null;
}

/** The namespace kinds of /proc/<pid>/ns, in Linux's listing order. */
export type NamespaceKind =
  | 'cgroup'
  | 'ipc'
  | 'mnt'
  | 'net'
  | 'pid'
  | 'pid_for_children'
  | 'time'
  | 'time_for_children'
  | 'user'
  | 'uts';

/** A thread (or thread group leader) seen through procfs. */
export interface ProcTask {
  /** Thread id in the source's pid namespace. */
  readonly tid: number;
  /** Thread group id (the process id). */
  readonly tgid: number;
  /** The command name (at most 15 bytes, as a byte string). */
  comm(): string;
  /**
   * Set the command name (a write to /proc/<pid>/comm; `name` is already cut to 15 bytes and
   * at the first newline). Absent: comm is read-only for this source, writes give EACCES.
   */
  setComm?(name: string): LinuxError | undefined;
  state(): TaskState;
  /** Parent's tgid (0 when the parent is outside the namespace). */
  ppid(): number;
  pgrp(): number;
  session(): number;
  /** Controlling terminal device number (0: none); default 0. */
  ttyNr?(): number;
  /** Foreground process group of the controlling terminal (-1: none); default -1. */
  tpgid?(): number;
  /** Tracer's tgid, 0 when not traced; default 0. */
  tracerPid?(): number;
  creds(): ProcCreds;
  /** The process umask; default 0o022. */
  umask?(): number;
  /** Thread ids of the thread group, ascending (the leader first if alive). */
  threads(): readonly number[];
  /**
   * The argument bytes (arg_start..arg_end of the task's memory, NULs included). The kernel reads
   * them through the task's memory; an error (EFAULT...) or an empty array for zombies/kernel
   * threads.
   */
  cmdline(): Uint8Array | LinuxError;
  /** The environment bytes (env_start..env_end). */
  environ(): Uint8Array | LinuxError;
  /** Path of the executable from the reader's root, or null (readlink then gives ENOENT). */
  exe(): string | null;
  cwd(): string | null;
  root(): string | null;
  /**
   * The executable, working directory and root as VFS locations, for the exe/cwd/root magic
   * links (nd_jump_link). Absent or null: the links resolve the path of {@link ProcTask.exe}
   * (and cwd, root) as ordinary symlinks (ENOENT when that is null too).
   */
  exeLocation?(): Location | null;
  cwdLocation?(): Location | null;
  rootLocation?(): Location | null;
  /** Open fd numbers, ascending. */
  fds(): readonly number[];
  /** One open fd, or null when not open. */
  fd(n: number): ProcFd | null;
  /** The fd table size (status FDSize); default: from 64, doubled until above the highest open fd. */
  fdTableSize?(): number;
  /** The lines of /proc/<pid>/maps without newlines, as the mm package renders them. */
  maps(): readonly string[];
  /**
   * /proc/<pid>/smaps as the mm package renders it (`renderSmaps`); smaps_rollup is summed from
   * it. Absent: both files are empty, as for a task without an address space.
   */
  smaps?(): string | LinuxError;
  /** I/O accounting (of the thread, or of the whole group when `whole`); default all zero. */
  io?(whole: boolean): ProcIo;
  /**
   * The syscall the task is in (/proc/<pid>/syscall). Absent or null (the source cannot tell):
   * the file is not listed, as on a kernel without CONFIG_HAVE_ARCH_TRACEHOOK.
   */
  syscall?(): ProcSyscall | null;
  /** The timer slack in nanoseconds (prctl PR_GET_TIMERSLACK); default 50000. */
  timerslackNs?(): number;
  /** Set the timer slack (0 means the default); absent: writes give EPERM. */
  setTimerslackNs?(ns: bigint): LinuxError | undefined;
  /** The audit login uid; default 4294967295 (AUDIT_UID_UNSET). */
  loginuid?(): number;
  /** Set the audit login uid (procfs checked CAP_AUDIT_CONTROL); absent: writes give EPERM. */
  setLoginuid?(uid: number): LinuxError | undefined;
  /** The audit session id; default 4294967295 (AUDIT_SID_UNSET). */
  sessionid?(): number;
  /** Memory figures, or null for a process without an address space (zombie). */
  memory(): ProcMemory | null;
  /** Address-space layout, or null for a process without an address space. */
  layout(): ProcLayout | null;
  /**
   * CPU times. `whole` is true for /proc/<pid>/stat (the thread group's totals, dead threads
   * included) and false for /proc/<pid>/task/<tid>/stat (this thread only), as do_task_stat's
   * `whole` argument.
   */
  times(whole: boolean): ProcTimes;
  /** Scheduling and accounting figures (fault counts summed over the group when `whole`); default all zero. */
  sched?(whole: boolean): ProcSched;
  /** Signal state; default nothing pending, blocked, ignored or caught. */
  signals?(): ProcSignals;
  /** Exit signal sent to the parent (stat field 38); default 17 (SIGCHLD). */
  exitSignal?(): number;
  /** Exit status for a zombie (stat field 52, wait status); default 0. */
  exitCode?(): number;
  /** no_new_privs; default false. */
  noNewPrivs?(): boolean;
  /** Seccomp mode (0 none, 1 strict, 2 filter) and filter count; default 0, 0. */
  seccomp?(): { readonly mode: number; readonly filters: number };
  /** Whether the process is dumpable (ptrace access by same-uid readers); default true. */
  dumpable?(): boolean;
  /** The mounts of the task's mount namespace, seen from its root, in mount order. */
  mounts(): readonly ProcMount[];
  /** Resource limits indexed by RLIMIT_* number (0 RLIMIT_CPU ... 15 RLIMIT_RTTIME). */
  rlimits(): readonly ProcRlimit[];
  /** oom_score_adj, -1000..1000; default 0. */
  oomScoreAdj?(): number;
  /**
   * Set oom_score_adj (procfs checked the range and that lowering it needs CAP_SYS_RESOURCE).
   * Absent: writes give EACCES.
   */
  setOomScoreAdj?(value: number): LinuxError | undefined;
  /** The personality(2) value; default 0 (PER_LINUX). */
  personality?(): number;
  /** The auxiliary vector bytes as the ELF loader placed them; default empty. */
  auxv?(): Uint8Array | LinuxError;
  /**
   * Inode numbers of the task's namespaces, for the ns/ links (`pid:[4026531836]`). Kinds left
   * out are not listed; default none.
   */
  namespaces?(): Partial<Readonly<Record<NamespaceKind, number>>>;
  /**
   * The user namespace's uid map as (first id inside, first id outside, count) extents; default
   * the initial namespace's identity map `0 0 4294967295`. The map is set, so writes give EPERM.
   */
  uidMap?(): readonly (readonly [number, number, number])[];
  /** The gid map, as {@link ProcTask.uidMap}. */
  gidMap?(): readonly (readonly [number, number, number])[];
  /** Whether setgroups(2) is allowed in the task's user namespace; default true. */
  setgroupsAllowed?(): boolean;
  /** The task's network namespace, for /proc/<pid>/net (and /proc/net); absent: no net/ entries. */
  net?(): ProcNetSource | null;
}

/** /proc/meminfo figures, in bytes. Anything not given is shown as 0. */
export interface ProcMeminfo {
  readonly memTotal: number;
  readonly memFree: number;
  readonly memAvailable: number;
  readonly buffers?: number;
  readonly cached?: number;
  readonly active?: number;
  readonly inactive?: number;
  readonly activeAnon?: number;
  readonly inactiveAnon?: number;
  readonly activeFile?: number;
  readonly inactiveFile?: number;
  readonly swapTotal?: number;
  readonly swapFree?: number;
  readonly anonPages?: number;
  readonly mapped?: number;
  readonly shmem?: number;
  readonly slab?: number;
  readonly kernelStack?: number;
  readonly pageTables?: number;
  readonly committedAs?: number;
  /**
   * Whether the CPU maps memory with 1 GiB pages (cpuinfo flag `pdpe1gb`): only then does Linux
   * print a DirectMap1G row. Default true.
   */
  readonly gigabytePages?: boolean;
}

/** Identity of the running kernel (uname fields and /proc/version). */
export interface ProcKernelInfo {
  /** `Linux`. */
  readonly ostype: string;
  /** The release, e.g. `6.18.0-tsvisor`. */
  readonly osrelease: string;
  /** The version field of uname, e.g. `#1 SMP PREEMPT_DYNAMIC tsvisor`. */
  readonly version: string;
  /** Who built it and with what, the middle of /proc/version: `(tsvisor@tsvisor) (node v22)`. */
  readonly builder: string;
}

/** One CPU as /proc/cpuinfo describes it. */
export interface ProcCpu {
  readonly vendorId: string;
  readonly family: number;
  readonly model: number;
  readonly modelName: string;
  readonly stepping: number;
  readonly mhz: number;
  /** Cache size in KB. */
  readonly cacheSizeKb: number;
  readonly flags: readonly string[];
  readonly bogomips: number;
  readonly addressSizes: string;
  /** The highest standard CPUID leaf (`cpuid level`). */
  readonly cpuidLevel: number;
}

/** System-wide CPU time of one CPU (a `cpuN` line of /proc/stat), nanoseconds. */
export interface ProcCpuTimes {
  readonly userNs: number;
  readonly niceNs: number;
  readonly systemNs: number;
  readonly idleNs: number;
  readonly iowaitNs: number;
  readonly irqNs: number;
  readonly softirqNs: number;
}

/** Kernel tunables shown under /proc/sys. Defaults are Linux's on x86-64. */
export interface ProcTunables {
  /** kernel.pid_max (default 4194304 on 64-bit with many CPUs; Linux's minimum default 32768). */
  readonly pidMax?: number;
  /** kernel.ngroups_max (65536). */
  readonly ngroupsMax?: number;
  /** vm.overcommit_memory (0). */
  readonly overcommitMemory?: number;
  /** vm.max_map_count (65530). */
  readonly maxMapCount?: number;
  /** fs.file-max (9223372036854775807). */
  readonly fileMax?: bigint;
  /** fs.nr_open (1048576). */
  readonly nrOpen?: number;
  /** fs.pipe-max-size (1048576). */
  readonly pipeMaxSize?: number;
  /** kernel.threads-max (derived from RAM on Linux; default 126935, 2 GiB's value). */
  readonly threadsMax?: number;
  /** kernel.shmmax (18446744073692774399). */
  readonly shmmax?: bigint;
  /** kernel.shmall (18446744073692774399). */
  readonly shmall?: bigint;
  /** vm.mmap_min_addr (65536). */
  readonly mmapMinAddr?: number;
  /** net.core.somaxconn (4096). */
  readonly somaxconn?: number;
  /** fs.inotify.max_queued_events (16384). */
  readonly inotifyMaxQueuedEvents?: number;
  /** fs.inotify.max_user_instances (128). */
  readonly inotifyMaxUserInstances?: number;
  /** fs.inotify.max_user_watches (derived from RAM on Linux; default 8192, the historical value). */
  readonly inotifyMaxUserWatches?: number;
  /** fs.mqueue.queues_max (256): POSIX message queues an unprivileged namespace may hold. */
  readonly mqQueuesMax?: number;
  /** fs.mqueue.msg_max and msgsize_max (10, 8192): the largest mq_attr an unprivileged creator may ask. */
  readonly mqMsgMax?: number;
  readonly mqMsgsizeMax?: number;
  /** fs.mqueue.msg_default and msgsize_default (10, 8192): a queue created without mq_attr. */
  readonly mqMsgDefault?: number;
  readonly mqMsgsizeDefault?: number;
  /** kernel.core_pattern (`core`). */
  readonly corePattern?: string;
}

/** The tunables a program may write (through /proc/sys), with their parsed value. */
export type WritableTunable =
  | { readonly key: 'overcommitMemory'; readonly value: number }
  | { readonly key: 'pipeMaxSize'; readonly value: number }
  | { readonly key: 'corePattern'; readonly value: string };

/** CPU time charged to a cgroup (cpu.stat), nanoseconds. */
export interface ProcCgroupCpuUsage {
  readonly userNs: number;
  readonly systemNs: number;
}

/**
 * The cgroup (v2) every task of the source belongs to, as a container sees its own cgroup: the
 * root of its cgroup namespace (/proc/<pid>/cgroup reads `0::/`), shown read-only under
 * /sys/fs/cgroup by {@link createCgroupfs}. The limits are those the kernel enforces (or that
 * the sandbox's config sets); `null` is Linux's `max` (no limit).
 */
export interface ProcCgroup {
  /** Enabled controllers in Linux's order (`cpuset cpu io memory hugetlb pids rdma misc`). */
  readonly controllers: readonly string[];
  /** memory.max in bytes (rounded down to pages when shown), or null for `max`. */
  readonly memoryMax: number | null;
  /** cpu.max's quota in microseconds per period, or null for `max`. */
  readonly cpuQuotaUs: number | null;
  /** cpu.max's period in microseconds (Linux's default 100000). */
  readonly cpuPeriodUs: number;
  /** pids.max: the most tasks (threads) the cgroup may hold, or null for `max`. */
  readonly pidsMax: number | null;
  /** memory.current: bytes charged to the cgroup now. */
  memoryCurrent(): number;
  /** memory.peak: the highest memory.current seen; default memory.current. */
  memoryPeak?(): number;
  /** CPU time of the cgroup's tasks, live and reaped; default the sum over live tasks. */
  cpuUsage?(): ProcCgroupCpuUsage;
  /**
   * pids.current: the tasks charged to the cgroup, zombies included until they are reaped;
   * default the threads of the listed processes.
   */
  pidsCurrent?(): number;
  /** memory.events: times memory.max was hit, OOMs and OOM kills; default none. */
  memoryEvents?(): ProcCgroupMemoryEvents;
  /** cpu.stat's throttling counters of the cpu controller; default none. */
  cpuThrottling?(): ProcCgroupCpuThrottling;
}

/** memory.events counters (`max`, `oom`, `oom_kill`; the others are 0 in this view). */
export interface ProcCgroupMemoryEvents {
  readonly max: number;
  readonly oom: number;
  readonly oomKill: number;
}

/** cpu.stat's `nr_periods`, `nr_throttled` and `throttled_usec`. */
export interface ProcCgroupCpuThrottling {
  readonly nrPeriods: number;
  readonly nrThrottled: number;
  readonly throttledUs: number;
}

/**
 * What procfs reads from the kernel. Implemented by the kernel for a pid namespace, and by
 * {@link FixtureProcSource} for tests.
 */
export interface ProcSource {
  /**
   * The task making the current request, or null when the reader is not a task of this
   * namespace (a tool of the supervisor): then /proc/self gives ENOENT and permission checks
   * that depend on the reader (environ, fd/, exe...) are passed.
   */
  caller(): ProcCaller | null;
  /** Thread group ids (process ids) of the namespace, ascending. */
  pids(): readonly number[];
  /** The task with thread id `tid` (a process leader or any thread), or null. */
  task(tid: number): ProcTask | null;
  /** Time since boot (CLOCK_BOOTTIME), nanoseconds. */
  uptimeNs(): number;
  /** Sum of idle time of all CPUs, nanoseconds (second field of /proc/uptime). */
  idleNs(): number;
  /** Boot time, seconds since the epoch (btime of /proc/stat). */
  bootTimeSec(): number;
  /** The hostname of the reader's UTS namespace. */
  hostname(): string;
  /** Set the hostname (a write to /proc/sys/kernel/hostname by a reader with write permission). */
  setHostname(name: string): LinuxError | undefined;
  /** The NIS domain name of the reader's UTS namespace (`(none)` when unset). */
  domainname(): string;
  /** Set the domain name (a write to /proc/sys/kernel/domainname). */
  setDomainname(name: string): LinuxError | undefined;
  kernel(): ProcKernelInfo;
  meminfo(): ProcMeminfo;
  /** The online CPUs, described; the count is what nproc and /sys/devices/system/cpu/online show. */
  cpus(): readonly ProcCpu[];
  /** Per-CPU times for /proc/stat; default: idle time spread over the CPUs, the rest 0. */
  cpuTimes?(): readonly ProcCpuTimes[];
  /** Load averages over 1, 5 and 15 minutes. */
  loadavg(): readonly [number, number, number];
  /** The most recently allocated pid (loadavg's last field). */
  lastPid(): number;
  /** Processes and threads created since boot (/proc/stat `processes`); default: lastPid(). */
  forks?(): number;
  /** Context switches since boot (/proc/stat `ctxt`); default 0. */
  contextSwitches?(): number;
  /** A random UUID fixed at boot (/proc/sys/kernel/random/boot_id). */
  bootId(): string;
  /** Filesystem types (/proc/filesystems); `nodev` for those that need no device. */
  filesystems(): readonly { readonly name: string; readonly nodev: boolean }[];
  /** Tunables under /proc/sys; default Linux's x86-64 defaults. */
  tunables?(): ProcTunables;
  /**
   * Store a tunable written through /proc/sys (procfs parsed and range-checked it). Absent:
   * procfs keeps the value itself (per mount), so reads show what was written.
   */
  setTunable?(t: WritableTunable): LinuxError | undefined;
  /** The kernel command line (/proc/cmdline, without the newline); default empty. */
  bootCmdline?(): string;
  /**
   * Registered device majors for /proc/devices, in ascending major order; default: the
   * character devices Linux always registers (1 mem; 5 /dev/tty, /dev/console, /dev/ptmx).
   */
  devices?(): {
    readonly char: readonly (readonly [number, string])[];
    readonly block: readonly (readonly [number, string])[];
  };
  /**
   * The cgroup every task is in (/sys/fs/cgroup and /proc/<pid>/cgroup); absent or null: an
   * unlimited cgroup with no controllers enabled.
   */
  cgroup?(): ProcCgroup | null;
  /**
   * The kernel log reader behind /proc/kmsg, asked once when procfs is created; absent or null:
   * /proc/kmsg is not there.
   */
  kmsg?(): ProcKmsg | null;
  /** The System V IPC objects of the reader's namespace (/proc/sysvipc); absent: none. */
  sysvipc?(): ProcSysvIpc;
}
