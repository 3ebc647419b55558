/**
 * The process kernel of one sandbox: its pid namespace, the tasks and thread groups in it, and
 * the operations that change them (spawn, clone, exit, wait, signal sending, process groups and
 * sessions). Also the per-sandbox services every subsystem reaches through it: the time source,
 * the UTS namespace, the futex table, the syslog ring and the sandbox log.
 *
 * Everything here is synchronous bookkeeping except waits, which return promises. Host effects
 * go through the optional {@link PlatformPort}.
 *
 * @module
 */
import {
  Capability,
  CldCode,
  E,
  Prot,
  SaFlag,
  SiCode,
  Signal,
  SignalDefault,
  WaitOption,
  isValidSignal,
  signalDefault,
  type LinuxError,
} from '@tsvisor/abi';
import type { Vfs } from '@tsvisor/vfs';
import type { ReservedRange } from '@tsvisor/mm';
import { availableParallelism, cpus } from 'node:os';
import { ERESTARTSYS, type ControlResult } from './control.js';
import { capable, makeCredentials, type Credentials } from './creds/credentials.js';
import { defaultRlimits } from './creds/rlimits.js';
import { STACK_TOP } from './elf/elf.js';
import { orphanedGroupsOnExit, sessionLeaderExited } from './tty/job-control.js';
import { FdTable, type FileRefs } from './fd-table.js';
import { FutexTable } from './futex.js';
import { IpcNamespace } from './ipc/ipc-namespace.js';
import { Waiter } from './wait-queue.js';
import type { CpuState } from './ports/cpu-state.js';
import type { PlatformPort } from './ports/platform.js';
import type { TaskMemory } from './ports/task-memory.js';
import type { SandboxLimits } from './proc-source.js';
import { SIG_DFL, SIG_IGN, SignalActions, type SigInfo } from './signal/signal-state.js';
import { notifySignalQueued } from './signal/signal-watch.js';
import { exitPosixTimers } from './time/posix-timers.js';
import { Syslog } from './syslog.js';
import {
  AddressSpace,
  FsContext,
  ProcessGroup,
  Session,
  Task,
  ThreadGroup,
  type CpuTimes,
  type Namespace,
} from './task/task.js';
import { HostTime, type TimeSource } from './time/time-source.js';
import { UtsNamespace } from './uts.js';

/** Options of a {@link Kernel}. */
export interface KernelOptions<F> {
  /** Clocks and timers; the host's by default. */
  time?: TimeSource;
  /** The initial host name (uname's nodename). */
  hostname?: string;
  /** Credentials of the first process: root (0/0) unless set. */
  uid?: number;
  gid?: number;
  groups?: readonly number[];
  /** Reference counting of open files held in fd tables. */
  fileRefs?: FileRefs<F>;
  /** Host effects; without one the kernel only keeps books (tests, tools). */
  platform?: PlatformPort;
  /** Where sandbox log lines go (unsupported syscalls, bugs caught at the trap edge). */
  log?: (line: string) => void;
  /** Leave the boot messages out of the syslog ring. */
  quietBoot?: boolean;
  /** CPUs the sandbox reports (sched_getaffinity, /proc/cpuinfo); the host's count by default. */
  cpuCount?: number;
  /** The mount namespace the file syscalls work in. */
  vfs?: Vfs;
  /**
   * Where new stacks start (execve). Linux's is {@link STACK_TOP}; the runtime lowers it when the
   * platform keeps a region of its own near the top of the address space.
   */
  stackTop?: number;
  /**
   * The platform's own pages in every address space (the stub), which the memory model holds as
   * sealed reserved ranges (@tsvisor/mm `ReservedRange`). Default: everything from `stackTop` up
   * to {@link STACK_TOP}, when `stackTop` is lower.
   */
  reserved?: readonly ReservedRange[];
  /** What execve puts in the auxiliary vector about the CPU (the host's values, ideally). */
  cpuAux?: CpuAux;
  /** The sandbox's cgroup limits (/sys/fs/cgroup; pids.max is enforced by clone). Default none. */
  limits?: SandboxLimits;
}

/** CPU facts for the auxiliary vector. */
export interface CpuAux {
  readonly hwcap: number;
  readonly hwcap2: number;
  /** AT_MINSIGSTKSZ: the signal frame size with this CPU's FP state. */
  readonly minSigStackSize: number;
  /** AT_SYSINFO_EHDR, when the runtime maps a vDSO. */
  readonly vdso?: number;
}

/** Which children a wait4/waitid call asks about. */
export type WaitSelector =
  | { readonly kind: 'any' }
  | { readonly kind: 'pid'; readonly pid: number }
  | { readonly kind: 'pgid'; readonly pgid: number };

/** What a successful wait reports. */
export interface WaitReport {
  readonly pid: number;
  readonly uid: number;
  /** The status word of wait4 (`WIFEXITED`... decode it). */
  readonly status: number;
  /** The waitid si_code (CLD_*) and si_status. */
  readonly code: number;
  readonly siStatus: number;
  /** The child's CPU time (itself and its reaped descendants) for the rusage. */
  readonly times: CpuTimes;
  readonly maxRssKib: number;
}

const WAIT_KNOWN =
  WaitOption.WNOHANG |
  WaitOption.WSTOPPED |
  WaitOption.WEXITED |
  WaitOption.WCONTINUED |
  WaitOption.WNOWAIT |
  WaitOption.__WNOTHREAD |
  WaitOption.__WALL |
  WaitOption.__WCLONE;

/** Clock ticks per second (`AT_CLKTCK`, `sysconf(_SC_CLK_TCK)`). */
export const CLK_TCK = 100;

/** A sandbox's process kernel. `F` is the type of open file the fd tables hold. */
export class Kernel<F = unknown> {
  readonly time: TimeSource;
  readonly uts: UtsNamespace;
  readonly futexes = new FutexTable();
  /** The sandbox's System V IPC namespace (shm, sem, msg). */
  readonly ipc: IpcNamespace = new IpcNamespace(() => this.tasks.values());
  readonly syslog: Syslog;
  readonly platform: PlatformPort | undefined;
  /** Monotonic time at boot: uptime and boottime count from here. */
  readonly bootNs: bigint;
  /** CPUs the sandbox reports. */
  readonly cpuCount: number;
  /** The sandbox's mount namespace, when it has one. */
  readonly vfs: Vfs | undefined;
  /** Top of new stacks. */
  readonly stackTop: number;
  /** The platform's reserved ranges (see {@link KernelOptions.reserved}), or undefined. */
  get reserved(): readonly ReservedRange[] | undefined {
    return this.#reserved;
  }
  /** CPU facts for execve's auxiliary vector. */
  get cpuAux(): CpuAux {
    return this.#cpuAux;
  }
  #reserved: readonly ReservedRange[] | undefined;
  #cpuAux: CpuAux;
  /** The sandbox's cgroup limits. */
  readonly limits: SandboxLimits;
  /** The task whose syscall is being handled (procfs's reader); set by the syscall layer. */
  current: Task<F> | undefined;
  /** Resolves with pid 1's wait status when it exits (the sandbox's result). */
  readonly initExited: Promise<number>;
  private resolveInit!: (status: number) => void;
  private readonly tasks = new Map<number, Task<F>>();
  private readonly groups = new Map<number, ThreadGroup>();
  private readonly pgrps = new Map<number, ProcessGroup>();
  private readonly sessions = new Map<number, Session>();
  private nextId = 1;
  private nextSpaceId = 1;
  private readonly fileRefs: FileRefs<F> | undefined;
  private readonly logSink: (line: string) => void;
  private readonly reported = new Set<string>();
  private readonly initCreds: Credentials;

  /**
   * Gives every later execve the host's vDSO: its pages (`[vdso]`, `[vvar]`, ...) become
   * reserved ranges of each new address space, as the platform keeps them mapped in its host
   * processes, and `ehdr` (the `[vdso]` start) becomes AT_SYSINFO_EHDR. Called by the runtime
   * once the platform knows where the host put them, before the first program is loaded.
   *
   * The host's vDSO reads the host's clocks without a system call, so it is only right for a
   * kernel whose {@link time} is the host's ({@link HostTime}); anything else is a bug and
   * throws. Linux lets a program munmap its vDSO; here, like the stub's pages, the ranges are
   * sealed (munmap, mprotect and MAP_FIXED over them give EPERM), as Linux 6.15+ does with
   * CONFIG_MSEAL_SYSTEM_MAPPINGS.
   */
  useVdso(ehdr: number, ranges: readonly ReservedRange[]): void {
    if (!(this.time instanceof HostTime)) throw new Error('a vDSO needs the host clocks (HostTime)');
    if (!ranges.some((r) => r.start === ehdr)) throw new Error('AT_SYSINFO_EHDR is not a vDSO range');
    // Without reserved ranges of its own, the kernel reserves what execve would (above stackTop).
    const base =
      this.#reserved ??
      (this.stackTop < STACK_TOP
        ? [{ start: this.stackTop, end: STACK_TOP, prot: Prot.PROT_READ | Prot.PROT_EXEC, name: '[tsvisor]' }]
        : []);
    this.#reserved = [...base, ...ranges];
    this.#cpuAux = { ...this.#cpuAux, vdso: ehdr };
  }

  constructor(opts: KernelOptions<F> = {}) {
    this.time = opts.time ?? new HostTime();
    this.bootNs = this.time.monotonicNs();
    this.uts = new UtsNamespace(opts.hostname);
    this.syslog = new Syslog(() => Number((this.time.monotonicNs() - this.bootNs) / 1000n));
    if (!opts.quietBoot) this.syslog.bootLog();
    this.platform = opts.platform;
    // The host's CPUs, not the supervisor's affinity (the platform may pin it to one CPU).
    this.cpuCount = opts.cpuCount ?? (cpus().length || availableParallelism());
    this.vfs = opts.vfs;
    this.stackTop = opts.stackTop ?? STACK_TOP;
    this.#reserved = opts.reserved;
    // Without the embedder's values (see hostCpuAux): SSE2-era x86-64 and a 2 KiB frame.
    this.#cpuAux = opts.cpuAux ?? { hwcap: 0x178bfbff, hwcap2: 2, minSigStackSize: 2048 };
    this.fileRefs = opts.fileRefs;
    this.limits = opts.limits ?? {};
    this.logSink = opts.log ?? ((line) => process.stderr.write(`tsvisor: ${line}\n`));
    this.initCreds = makeCredentials(opts.uid ?? 0, opts.gid ?? 0, opts.groups ?? []);
    this.initExited = new Promise((r) => (this.resolveInit = r));
  }

  /** Writes a line to the sandbox log. */
  log(line: string): void {
    this.logSink(line);
  }

  /** Writes a line to the sandbox log the first time `key` is seen (e.g. an unsupported syscall). */
  logOnce(key: string, line: string): void {
    if (this.reported.has(key)) return;
    this.reported.add(key);
    this.logSink(line);
  }

  /** Nanoseconds since the sandbox booted (uptime, CLOCK_BOOTTIME's zero is the host's). */
  uptimeNs(): bigint {
    return this.time.monotonicNs() - this.bootNs;
  }

  /** A new empty fd table using this kernel's reference counting. */
  newFdTable(): FdTable<F> {
    return new FdTable<F>(this.fileRefs);
  }

  /** A new address space identity over `memory`. */
  newAddressSpace<M>(memory: TaskMemory, model: M): AddressSpace<M> {
    return new AddressSpace(this.nextSpaceId++, memory, model);
  }

  /**
   * Creates pid 1, in session 1 and process group 1: the program `tsvisor do` runs. Its
   * registers are set later by execve (the loader); pass the initial ones here.
   */
  spawnInit(opts: {
    mm: AddressSpace;
    regs: CpuState;
    comm: string;
    files?: FdTable<F>;
    fs?: FsContext;
  }): Task<F> {
    if (this.tasks.size > 0 || this.nextId !== 1) throw new Error('init already exists');
    const id = this.nextId++;
    const g = new ThreadGroup(id, this.initCreds, defaultRlimits(), new SignalActions(), Signal.SIGCHLD);
    const session = new Session(id);
    const pgrp = new ProcessGroup(id, session);
    session.groups.add(pgrp);
    this.sessions.set(id, session);
    this.pgrps.set(id, pgrp);
    this.joinPgrp(g, pgrp);
    const t = new Task<F>(
      this,
      id,
      g,
      opts.mm,
      opts.regs,
      opts.files ?? this.newFdTable(),
      opts.fs ?? new FsContext(),
      opts.comm,
    );
    this.attach(t, g, true);
    return t;
  }

  /** The task with thread id `tid`, if alive. */
  task(tid: number): Task<F> | undefined {
    return this.tasks.get(tid);
  }

  /** The thread group with pid `pid` (alive or zombie). */
  threadGroup(pid: number): ThreadGroup | undefined {
    return this.groups.get(pid);
  }

  /** The most recently allocated pid. */
  get lastPid(): number {
    return this.nextId - 1;
  }

  /** Every live task, by ascending tid. */
  allTasks(): Task<F>[] {
    return [...this.tasks.values()].sort((a, b) => a.tid - b.tid);
  }

  /** The tasks the pids controller charges: live ones, and zombies until they are reaped. */
  chargedTasks(): number {
    let zombies = 0;
    for (const g of this.groups.values()) if (g.state === 'zombie') zombies++;
    return this.tasks.size + zombies;
  }

  /** Every thread group (alive or zombie), by ascending pid. */
  allThreadGroups(): ThreadGroup[] {
    return [...this.groups.values()].sort((a, b) => a.tgid - b.tgid);
  }

  /** The process group `pgid`, if it has members. */
  processGroup(pgid: number): ProcessGroup | undefined {
    return this.pgrps.get(pgid);
  }

  // ---------------------------------------------------------------------------------------------
  // clone

  /**
   * The bookkeeping half of clone/fork/vfork: validates the flags as Linux does, allocates the
   * tid, and shares or copies the parent's state. The caller (the syscall layer) then copies the
   * memory model for a fork, creates the host entity through the platform and writes the
   * parent/child tid pointers. `mm` is the child's address space when not sharing (CLONE_VM).
   *
   * Errors: `EINVAL` for CLONE_THREAD without CLONE_SIGHAND, CLONE_SIGHAND without CLONE_VM,
   * CLONE_FS with CLONE_NEWNS, CLONE_NEWUSER with CLONE_THREAD; `EINVAL` for an invalid exit
   * signal; `EPERM` for the namespace flags but CLONE_NEWNET and CLONE_NEWUTS (not supported:
   * the sandbox is one namespace of each), and for those two without CAP_SYS_ADMIN or without
   * `newNet` / `newUts`, which make the child's new network namespace (copy_net_ns) and UTS
   * namespace (from its parent's: copy_utsname). The child is in its parent's otherwise.
   */
  clone(
    parent: Task<F>,
    opts: {
      flags: number;
      exitSignal: number;
      regs: CpuState;
      mm?: AddressSpace;
      newNet?: () => Namespace;
      newUts?: (parent: UtsNamespace) => UtsNamespace;
    },
  ): Task<F> | LinuxError {
    const f = opts.flags;
    const has = (bit: number): boolean => (f & bit) !== 0;
    const THREAD = 0x00010000;
    const SIGHAND = 0x00000800;
    const VM = 0x00000100;
    const FS = 0x00000200;
    const FILES = 0x00000400;
    const PARENT = 0x00008000;
    const NEWNS = 0x00020000;
    const NEWUSER = 0x10000000;
    const NEWNET = 0x40000000;
    const NEWUTS = 0x04000000;
    const NS_FLAGS = [0x00020000, 0x02000000, 0x08000000, 0x10000000, 0x20000000];
    if (has(NEWNS) && has(FS)) return E.EINVAL;
    if (has(NEWUSER) && (has(THREAD) || has(FS))) return E.EINVAL;
    if (has(THREAD) && !has(SIGHAND)) return E.EINVAL;
    if (has(SIGHAND) && !has(VM)) return E.EINVAL;
    if (opts.exitSignal !== 0 && !isValidSignal(opts.exitSignal)) return E.EINVAL;
    if (NS_FLAGS.some((b) => has(b))) return E.EPERM;
    // copy_namespaces: any new namespace needs CAP_SYS_ADMIN.
    if ((has(NEWNET) || has(NEWUTS)) && !capable(parent.creds, Capability.CAP_SYS_ADMIN)) return E.EPERM;
    if ((has(NEWNET) && !opts.newNet) || (has(NEWUTS) && !opts.newUts)) return E.EPERM;
    if (has(PARENT) && parent.group.parent === undefined) return E.EINVAL; // init cannot make siblings
    if (!has(VM) && !opts.mm) throw new Error('clone without CLONE_VM needs the child address space');
    // The pids controller (pids_can_fork): one task more than pids.max fails with EAGAIN.
    const pidsMax = this.limits.pidsMax;
    if (pidsMax !== undefined && pidsMax !== null && this.chargedTasks() >= pidsMax) return E.EAGAIN;

    const pg = parent.group;
    const id = this.nextId++;
    let g: ThreadGroup;
    if (has(THREAD)) {
      g = pg;
    } else {
      g = new ThreadGroup(
        id,
        pg.creds,
        pg.rlimits,
        has(SIGHAND) ? pg.actions : pg.actions.fork(),
        opts.exitSignal,
      );
      const realParent = has(PARENT) ? (pg.parent as ThreadGroup) : pg;
      g.parent = realParent;
      realParent.children.add(g);
      this.joinPgrp(g, pg.pgrp);
    }
    const mm = has(VM) ? parent.mm : (opts.mm as AddressSpace);
    const files = has(FILES) ? parent.files : parent.files.fork();
    const fs = has(FS) ? parent.fs : parent.fs.fork();
    const t = new Task<F>(this, id, g, mm, opts.regs, files, fs, parent.comm);
    t.mask.set(parent.mask);
    t.exe = parent.exe;
    t.timerSlackNs = parent.timerSlackNs;
    t.defaultTimerSlackNs = parent.timerSlackNs;
    t.altStack = has(VM) && !has(0x00004000) ? { sp: 0, size: 0, flags: 0 } : parent.altStack;
    t.setNetns(has(NEWNET) ? (opts.newNet as () => Namespace)() : parent.netns);
    t.setUts(has(NEWUTS) ? (opts.newUts as (p: UtsNamespace) => UtsNamespace)(parent.uts) : parent.uts);
    this.attach(t, g, !has(THREAD));
    return t;
  }

  private attach(t: Task<F>, g: ThreadGroup, leader: boolean): void {
    if (leader) {
      g.leader = t;
      this.groups.set(g.tgid, g);
    }
    g.tasks.add(t);
    t.mm.users++;
    usersOf(t.files).n++;
    this.tasks.set(t.tid, t);
  }

  private joinPgrp(g: ThreadGroup, pgrp: ProcessGroup): void {
    if (g.pgrp === pgrp) return;
    if (g.pgrp) this.leavePgrp(g);
    g.pgrp = pgrp;
    pgrp.members.add(g);
  }

  private leavePgrp(g: ThreadGroup): void {
    const old = g.pgrp;
    old.members.delete(g);
    if (old.members.size === 0) {
      this.pgrps.delete(old.pgid);
      old.session.groups.delete(old);
      if (old.session.groups.size === 0) this.sessions.delete(old.session.sid);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // exit

  /** exit(2): ends one thread; the process ends with `code` when its last thread does. */
  exitThread(t: Task<F>, code: number): void {
    const g = t.group;
    if (!g.exiting && g.tasks.size === 1) g.exitStatus = (code & 0xff) << 8;
    this.releaseTask(t);
  }

  /**
   * The identity half of Linux's de_thread, for an exec by a thread that is not its group's
   * leader, once every other thread (the leader too) has been released: `t` takes over the
   * leader's tid (in this kernel's one pid namespace) and start time and becomes the leader, the
   * old leader's Task is left retired, and `t`'s former tid names nothing any more (signals,
   * tgkill and /proc/<pid>/task see it gone, as Linux frees it). The process keeps its
   * pid, parent, process group and session, so the parent's wait sees the pid it forked.
   * Nothing to do when `t` already leads its group.
   */
  takeOverLeader(t: Task<F>): void {
    const g = t.group;
    if (t.tid === g.tgid || t.state !== 'alive') return;
    const leader = g.leader as Task<F>;
    if (g.tasks.size !== 1 || leader.state === 'alive')
      throw new Error('takeOverLeader while other threads of the process live');
    this.tasks.delete(t.tid);
    t.assumeTid(g.tgid, leader.startNs);
    this.tasks.set(t.tid, t);
    g.leader = t;
  }

  /** exit_group(2): ends every thread of the process with exit status `code`. */
  exitGroup(t: Task<F>, code: number): void {
    this.killGroup(t.group, (code & 0xff) << 8);
  }

  /**
   * Ends every thread of `g` with the wait status `status` (an exit code `<< 8`, or a signal
   * number with 0x80 for a core dump). Later calls while it is dying change nothing.
   */
  killGroup(g: ThreadGroup, status: number): void {
    if (g.exiting || g.state !== 'alive') return;
    g.exiting = true;
    g.exitStatus = status;
    g.stopped = false;
    g.continued.notify();
    for (const t of [...g.tasks] as Task<F>[]) this.releaseTask(t);
  }

  private releaseTask(t: Task<F>): void {
    if (t.state !== 'alive') return;
    const g = t.group;
    this.releaseRobustList(t);
    // CLONE_CHILD_CLEARTID: tell a pthread_join waiting on the tid word, if anyone else can see it.
    if (t.clearChildTid !== 0 && t.mm.users > 1) {
      t.memory.writeU32(t.clearChildTid, 0);
      this.futexes.wake(FutexTable.keyOf(t.mm, t.clearChildTid, true), 1);
    }
    this.completeVfork(t);
    g.tasks.delete(t);
    g.deadTimes.userNs += t.cpu.userNs;
    g.deadTimes.sysNs += t.cpu.sysNs;
    t.mm.users--;
    const fu = usersOf(t.files);
    if (--fu.n === 0) t.files.closeAll();
    if (t.tid !== g.tgid) this.tasks.delete(t.tid);
    t.exitNamespaces();
    t.markGone();
    void this.platform?.destroyTask(t);
    if (g.tasks.size === 0) this.groupDied(g);
  }

  /**
   * Walks the dying thread's robust futex list (set_robust_list) as Linux's exit_robust_list
   * does: every lock the thread still holds gets FUTEX_OWNER_DIED and one waiter is woken, so
   * another thread's pthread_mutex_lock returns EOWNERDEAD instead of hanging. Faults end the
   * walk silently; at most ROBUST_LIST_LIMIT entries are visited.
   */
  private releaseRobustList(t: Task<F>): void {
    const head = t.robustList.head;
    if (head === 0) return;
    const mem = t.memory;
    const next0 = mem.readU64(head);
    const offset = mem.readU64(head + 8);
    const pending = mem.readU64(head + 16);
    if (typeof next0 !== 'bigint' || typeof offset !== 'bigint' || typeof pending !== 'bigint') return;
    const off = BigInt.asIntN(64, offset);
    const handle = (entry: bigint): void => {
      const uaddr = Number(BigInt.asUintN(47, (entry & ~1n) + off));
      const word = mem.readU32(uaddr);
      if (typeof word !== 'number') return;
      if ((word & 0x3fffffff) !== t.tid) return;
      // Keep FUTEX_WAITERS, set FUTEX_OWNER_DIED, clear the owner.
      mem.writeU32(uaddr, ((word & 0x80000000) | 0x40000000) >>> 0);
      if (word & 0x80000000) this.futexes.wake(FutexTable.keyOf(t.mm, uaddr, true), 1);
    };
    let entry = next0;
    for (let i = 0; i < 2048 && entry !== BigInt(head); i++) {
      const next = mem.readU64(Number(BigInt.asUintN(47, entry)));
      if (entry !== pending) handle(entry);
      if (typeof next !== 'bigint') return;
      entry = next;
    }
    if (pending !== 0n) handle(pending);
    t.robustList = { head: 0, len: 0 };
  }

  /** Wakes a vfork parent waiting on `t` (at exec or exit). */
  completeVfork(t: Task<F>): void {
    const q = t.vforkDone;
    t.vforkDone = undefined;
    q?.notify();
  }

  /**
   * Undoes a {@link clone} whose host side could not be created: the task disappears without a
   * trace (no exit status, no SIGCHLD), as if clone had failed. A task that is no longer alive was
   * released with its process (killed while the clone waited for the host): there is nothing left
   * to undo, and its process, maybe a zombie now, must stay for its parent's wait.
   */
  discardTask(t: Task<F>): void {
    if (t.state !== 'alive') return;
    const g = t.group;
    g.tasks.delete(t);
    t.mm.users--;
    const fu = usersOf(t.files);
    if (--fu.n === 0) t.files.closeAll();
    this.tasks.delete(t.tid);
    t.exitNamespaces();
    t.markGone();
    if (g.tasks.size === 0) {
      g.state = 'reaped';
      g.parent?.children.delete(g);
      this.groups.delete(g.tgid);
      this.leavePgrp(g);
    }
  }

  private groupDied(g: ThreadGroup): void {
    g.itimerReal?.cancel();
    g.itimerReal = undefined;
    exitPosixTimers(g);
    this.ipc.sem.exitUndo(g, g.tgid, Number(this.time.realtimeNs() / 1_000_000_000n));
    this.tasks.delete(g.tgid);
    g.state = 'zombie';
    g.exiting = true;
    g.exitEvents.notify();
    // A session leader's exit hangs its controlling terminal's foreground group up.
    if (g.isSessionLeader) sessionLeaderExited(this as Kernel, g);
    const init = this.groups.get(1);
    if (g.tgid === 1) {
      // The init of a pid namespace takes everyone with it.
      for (const other of this.groups.values()) if (other !== g) this.killGroup(other, Signal.SIGKILL);
    }
    const formerChildren = [...g.children];
    for (const child of formerChildren) {
      g.children.delete(child);
      for (const ct of child.tasks) {
        if (ct.pdeathSignal)
          this.sendToTask(ct as Task<F>, { signo: ct.pdeathSignal, code: SiCode.SI_USER, pid: 0, uid: 0 });
      }
      if (init && init !== g && init.state === 'alive') {
        child.parent = init;
        init.children.add(child);
        if (child.state === 'zombie') this.notifyParentOfExit(child);
      } else {
        child.parent = undefined;
        if (child.state === 'zombie') this.reap(child);
      }
    }
    // Groups this exit orphans get SIGHUP and SIGCONT when they have stopped jobs.
    orphanedGroupsOnExit(this as Kernel, g, formerChildren);
    if (g.tgid === 1) {
      this.ipc.destroy();
      this.resolveInit(g.exitStatus);
      this.reap(g);
      return;
    }
    this.notifyParentOfExit(g);
  }

  private notifyParentOfExit(g: ThreadGroup): void {
    const p = g.parent;
    if (!p) return;
    if (g.exitSignal === Signal.SIGCHLD) {
      const act = p.actions.get(Signal.SIGCHLD);
      if (act.handler === SIG_IGN || (act.flags & SaFlag.SA_NOCLDWAIT) !== 0) {
        // Nobody will wait: the child is reaped at once (and wait4 later says ECHILD).
        this.reap(g);
        p.childEvents.notify();
        return;
      }
    }
    if (g.exitSignal !== 0) this.sendToGroup(p, this.childInfo(g, g.exitSignal));
    p.childEvents.notify();
  }

  private childInfo(g: ThreadGroup, signo: number): SigInfo {
    const st = g.exitStatus;
    const sig = st & 0x7f;
    const code = sig === 0 ? CldCode.CLD_EXITED : st & 0x80 ? CldCode.CLD_DUMPED : CldCode.CLD_KILLED;
    const t = g.cpuTimes();
    return {
      signo,
      code,
      pid: g.tgid,
      uid: g.creds.uid,
      status: sig === 0 ? (st >> 8) & 0xff : sig,
      utime: ticks(t.userNs),
      stime: ticks(t.sysNs),
    };
  }

  private reap(g: ThreadGroup): void {
    if (g.state === 'reaped') return;
    g.state = 'reaped';
    g.exitEvents.notify();
    const p = g.parent;
    if (p) {
      p.children.delete(g);
      const t = g.cpuTimes();
      p.childTimes.userNs += t.userNs + g.childTimes.userNs;
      p.childTimes.sysNs += t.sysNs + g.childTimes.sysNs;
      p.childMaxRssKib = Math.max(p.childMaxRssKib, g.maxRssKib, g.childMaxRssKib);
    }
    this.groups.delete(g.tgid);
    this.leavePgrp(g);
  }

  // ---------------------------------------------------------------------------------------------
  // wait

  /**
   * One non-blocking look for a child to report (the core of wait4/waitid). `options` are
   * waitid's (wait4 callers add WEXITED). Returns the report, `'none'` when there are eligible
   * children but none has anything to say, or `ECHILD` when there are no eligible children.
   * `EINVAL` for unknown option bits or no event type requested.
   */
  tryWait(t: Task<F>, sel: WaitSelector, options: number): WaitReport | 'none' | LinuxError {
    if ((options & ~WAIT_KNOWN) !== 0) return E.EINVAL;
    if ((options & (WaitOption.WEXITED | WaitOption.WSTOPPED | WaitOption.WCONTINUED)) === 0) return E.EINVAL;
    const me = t.group;
    let eligible = 0;
    for (const c of me.children) {
      if (!this.selects(me, c, sel, options)) continue;
      eligible++;
      const noWait = (options & WaitOption.WNOWAIT) !== 0;
      if (c.state === 'zombie' && options & WaitOption.WEXITED) {
        const info = this.childInfo(c, Signal.SIGCHLD);
        const report: WaitReport = {
          pid: c.tgid,
          uid: c.creds.uid,
          status: c.exitStatus,
          code: info.code,
          siStatus: info.status ?? 0,
          times: sumTimes(c.cpuTimes(), c.childTimes),
          maxRssKib: Math.max(c.maxRssKib, c.childMaxRssKib),
        };
        if (!noWait) this.reap(c);
        return report;
      }
      const notice = c.jobNotice;
      if (c.state === 'alive' && notice) {
        if (notice.kind === 'stopped' && c.stopped && options & WaitOption.WSTOPPED) {
          if (!noWait) c.jobNotice = undefined;
          return this.jobReport(c, (notice.signo << 8) | 0x7f, CldCode.CLD_STOPPED, notice.signo);
        }
        if (notice.kind === 'continued' && options & WaitOption.WCONTINUED) {
          if (!noWait) c.jobNotice = undefined;
          return this.jobReport(c, 0xffff, CldCode.CLD_CONTINUED, Signal.SIGCONT);
        }
      }
    }
    return eligible === 0 ? E.ECHILD : 'none';
  }

  private jobReport(c: ThreadGroup, status: number, code: number, siStatus: number): WaitReport {
    return {
      pid: c.tgid,
      uid: c.creds.uid,
      status,
      code,
      siStatus,
      times: sumTimes(c.cpuTimes(), c.childTimes),
      maxRssKib: c.maxRssKib,
    };
  }

  private selects(me: ThreadGroup, c: ThreadGroup, sel: WaitSelector, options: number): boolean {
    if (c.state === 'reaped') return false;
    if (sel.kind === 'pid' && c.tgid !== sel.pid) return false;
    if (sel.kind === 'pgid' && c.pgrp.pgid !== (sel.pgid === 0 ? me.pgrp.pgid : sel.pgid)) return false;
    if (options & WaitOption.__WALL) return true;
    const cloneChild = c.exitSignal !== Signal.SIGCHLD;
    return (options & WaitOption.__WCLONE) !== 0 ? cloneChild : !cloneChild;
  }

  /**
   * wait4/waitid's blocking loop: {@link tryWait}, then (without WNOHANG) sleep until a child
   * changes state or a signal interrupts (`ERESTARTSYS`). WNOHANG with nothing to report gives
   * `'none'`.
   */
  async waitChild(
    t: Task<F>,
    sel: WaitSelector,
    options: number,
  ): Promise<WaitReport | 'none' | LinuxError | ControlResult> {
    for (;;) {
      const r = this.tryWait(t, sel, options);
      if (r !== 'none' || options & WaitOption.WNOHANG) return r;
      const why = await t.wait([t.group.childEvents]);
      if (why === 'interrupted') {
        // Like do_wait, look at the children once more before giving up: the SIGCHLD that
        // interrupted us usually comes with the exit that makes a child reapable.
        const again = this.tryWait(t, sel, options);
        return again === 'none' ? ERESTARTSYS : again;
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // signals: sending

  /**
   * Sends a signal to a process (kill(2)'s core after permission checks). SIGKILL kills at once;
   * a fatal signal nobody handles or blocks kills at once; a stop/continue updates the job state;
   * an ignored signal is dropped unless blocked everywhere. Otherwise the signal is queued on the
   * process and one thread that does not block it is woken to take it.
   */
  sendToGroup(g: ThreadGroup, info: SigInfo): void {
    this.send(g, undefined, info);
  }

  /** Sends a signal to one thread (tgkill/tkill, faults). */
  sendToTask(t: Task<F>, info: SigInfo): void {
    this.send(t.group, t, info);
  }

  private send(g: ThreadGroup, target: Task<F> | undefined, info: SigInfo): void {
    if (g.state !== 'alive' || g.exiting) return;
    const sig = info.signo;
    if (sig === Signal.SIGKILL) {
      this.killGroup(g, Signal.SIGKILL);
      return;
    }
    const def = signalDefault(sig);
    if (def === SignalDefault.Stop) this.discardEverywhere(g, Signal.SIGCONT);
    if (sig === Signal.SIGCONT) {
      for (const s of [Signal.SIGSTOP, Signal.SIGTSTP, Signal.SIGTTIN, Signal.SIGTTOU])
        this.discardEverywhere(g, s);
      if (g.stopped) this.continueGroup(g);
    }
    const act = g.actions.get(sig);
    const ignored = act.handler === SIG_IGN || (act.handler === SIG_DFL && def === SignalDefault.Ignore);
    const tasks = target ? [target] : ([...g.tasks] as Task<F>[]);
    const blockedAll = tasks.every((t) => t.mask.has(sig));
    if (ignored && !blockedAll) return;
    (target ? target.pending : g.sharedPending).enqueue(info);
    notifySignalQueued(this, g);
    const chosen = target ?? this.pickThread(g, sig);
    if (!chosen) return;
    const fatal = act.handler === SIG_DFL && (def === SignalDefault.Term || def === SignalDefault.Core);
    if (fatal && !chosen.mask.has(sig)) {
      // A signal that kills is acted on at once for the whole group (Linux's complete_signal).
      this.killGroup(g, sig | (def === SignalDefault.Core ? 0x80 : 0));
      return;
    }
    chosen.interrupt();
    void this.platform?.interruptTask?.(chosen);
  }

  private pickThread(g: ThreadGroup, sig: number): Task<F> | undefined {
    const leader = g.leader as Task<F>;
    if (leader.state === 'alive' && !leader.mask.has(sig)) return leader;
    for (const t of g.tasks as Set<Task<F>>) if (!t.mask.has(sig)) return t;
    return undefined;
  }

  private discardEverywhere(g: ThreadGroup, sig: number): void {
    g.sharedPending.discard(sig);
    for (const t of g.tasks) t.pending.discard(sig);
  }

  /** Stops a process (default action of a stop signal) and tells its parent. */
  stopGroup(g: ThreadGroup, signo: number): void {
    if (g.stopped || g.exiting) return;
    g.stopped = true;
    g.jobNotice = { kind: 'stopped', signo };
    for (const t of g.tasks) t.interrupt();
    this.notifyParentOfJob(g, CldCode.CLD_STOPPED, signo);
  }

  private continueGroup(g: ThreadGroup): void {
    g.stopped = false;
    g.jobNotice = { kind: 'continued' };
    g.continued.notify();
    this.notifyParentOfJob(g, CldCode.CLD_CONTINUED, Signal.SIGCONT);
  }

  private notifyParentOfJob(g: ThreadGroup, code: number, status: number): void {
    const p = g.parent;
    if (!p) return;
    const act = p.actions.get(Signal.SIGCHLD);
    if ((act.flags & SaFlag.SA_NOCLDSTOP) === 0) {
      this.sendToGroup(p, { signo: Signal.SIGCHLD, code, pid: g.tgid, uid: g.creds.uid, status });
    }
    p.childEvents.notify();
  }

  /**
   * Waits while the task's process is stopped (the runtime calls this before resuming a task
   * whose delivery step reported a stop). Ends when SIGCONT or SIGKILL arrives.
   */
  async waitWhileStopped(t: Task<F>): Promise<void> {
    const g = t.group;
    while (g.stopped && !g.exiting && t.state === 'alive') {
      // SIGCONT and SIGKILL both notify `continued` (killGroup does for the latter).
      const w = new Waiter(undefined);
      g.continued.add(w);
      await w.promise;
    }
  }

  /**
   * kill(2)'s permission rule: privileged senders, or a real/effective uid equal to the target's
   * real or saved uid; SIGCONT within the same session is always allowed.
   */
  maySignal(sender: Task<F>, g: ThreadGroup, sig: number): boolean {
    const s = sender.group.creds;
    const r = g.creds;
    if (capable(s, Capability.CAP_KILL)) return true;
    if (sig === Signal.SIGCONT && sender.group.session === g.session) return true;
    return s.euid === r.uid || s.euid === r.suid || s.uid === r.uid || s.uid === r.suid;
  }

  /**
   * kill(2): `pid > 0` one process, `0` the caller's process group, `-1` every process but init
   * and the caller, `< -1` process group `-pid`. `sig` 0 checks existence and permission only.
   * `EINVAL` bad signal, `ESRCH` nobody matched, `EPERM` matched but none permitted.
   */
  kill(sender: Task<F>, pid: number, sig: number): undefined | LinuxError {
    if (sig !== 0 && !isValidSignal(sig)) return E.EINVAL;
    let targets: ThreadGroup[];
    if (pid > 0) {
      const g = this.groups.get(pid);
      targets = g && g.state !== 'reaped' ? [g] : [];
    } else if (pid === -1) {
      targets = [...this.groups.values()].filter(
        (g) => g.tgid !== 1 && g !== sender.group && g.state === 'alive',
      );
    } else {
      const pgid = pid === 0 ? sender.group.pgrp.pgid : -pid;
      targets = [...(this.pgrps.get(pgid)?.members ?? [])];
    }
    if (targets.length === 0) return E.ESRCH;
    let permitted = 0;
    for (const g of targets) {
      if (!this.maySignal(sender, g, sig)) continue;
      permitted++;
      if (sig !== 0) this.sendToGroup(g, this.userSigInfo(sender, sig, SiCode.SI_USER));
    }
    return permitted > 0 ? undefined : E.EPERM;
  }

  /** tgkill(2)/tkill(2) (`tgid` -1 for tkill). `EINVAL`, `ESRCH`, `EPERM` as Linux. */
  tgkill(sender: Task<F>, tgid: number, tid: number, sig: number): undefined | LinuxError {
    if (tid <= 0 || (tgid !== -1 && tgid <= 0)) return E.EINVAL;
    if (sig !== 0 && !isValidSignal(sig)) return E.EINVAL;
    const t = this.tasks.get(tid);
    if (!t || t.state !== 'alive' || (tgid !== -1 && t.tgid !== tgid)) return E.ESRCH;
    if (!this.maySignal(sender, t.group, sig)) return E.EPERM;
    if (sig !== 0) this.sendToTask(t, this.userSigInfo(sender, sig, SiCode.SI_TKILL));
    return undefined;
  }

  private userSigInfo(sender: Task<F>, signo: number, code: number): SigInfo {
    return { signo, code, pid: sender.tgid, uid: sender.group.creds.uid };
  }

  // ---------------------------------------------------------------------------------------------
  // process groups and sessions

  /** getpgid(2): `pid` 0 is the caller; `ESRCH` if no such process. */
  getpgid(t: Task<F>, pid: number): number | LinuxError {
    const g = pid === 0 ? t.group : this.groups.get(pid);
    return g && g.state !== 'reaped' ? g.pgrp.pgid : E.ESRCH;
  }

  /** getsid(2). */
  getsid(t: Task<F>, pid: number): number | LinuxError {
    const g = pid === 0 ? t.group : this.groups.get(pid);
    return g && g.state !== 'reaped' ? g.session.sid : E.ESRCH;
  }

  /** setpgid(2) with Linux's rules (see the errno notes in the code). */
  setpgid(t: Task<F>, pid: number, pgid: number): undefined | LinuxError {
    if (pgid < 0) return E.EINVAL;
    const me = t.group;
    const g = pid === 0 ? me : this.groups.get(pid);
    if (!g || g.state !== 'alive') return E.ESRCH;
    if (g !== me) {
      if (g.parent !== me) return E.ESRCH; // only ourselves or a child
      if (g.session !== me.session) return E.EPERM;
      if (g.didExec) return E.EACCES;
    }
    if (g.isSessionLeader) return E.EPERM;
    const target = pgid === 0 ? g.tgid : pgid;
    let pgrp = this.pgrps.get(target);
    if (target !== g.tgid) {
      if (!pgrp || pgrp.session !== me.session) return E.EPERM;
    } else if (!pgrp) {
      pgrp = new ProcessGroup(target, g.session);
      g.session.groups.add(pgrp);
      this.pgrps.set(target, pgrp);
    }
    this.joinPgrp(g, pgrp);
    return undefined;
  }

  /** setsid(2): `EPERM` for a process group leader; returns the new session id. */
  setsid(t: Task<F>): number | LinuxError {
    const g = t.group;
    if (this.pgrps.has(g.tgid)) return E.EPERM;
    const s = new Session(g.tgid);
    const p = new ProcessGroup(g.tgid, s);
    s.groups.add(p);
    this.sessions.set(s.sid, s);
    this.pgrps.set(p.pgid, p);
    this.joinPgrp(g, p);
    return g.tgid;
  }
}

/** fd-table user counts (CLONE_FILES sharing), kept beside the tables. */
const fdUsers = new WeakMap<object, { n: number }>();
function usersOf(files: object): { n: number } {
  let u = fdUsers.get(files);
  if (!u) {
    u = { n: 0 };
    fdUsers.set(files, u);
  }
  return u;
}

/** Nanoseconds to clock ticks ({@link CLK_TCK}). */
export function ticks(ns: bigint): number {
  return Number(ns / (1_000_000_000n / BigInt(CLK_TCK)));
}

function sumTimes(a: CpuTimes, b: CpuTimes): CpuTimes {
  return { userNs: a.userNs + b.userNs, sysNs: a.sysNs + b.sysNs };
}
