/**
 * Tasks (threads), thread groups (processes), process groups and sessions, and the sandbox pid
 * namespace that numbers them. This is the bookkeeping half of the process kernel: who exists,
 * who is whose parent, what each shares, and what happens when one exits. Signals are sent and
 * delivered by `kernel.ts` and `signal/` on top of it.
 *
 * Sharing follows clone(2): threads of one group share the group's credentials, rlimits, signal
 * actions and group-wide pending signals; the fd table (CLONE_FILES), fs context (CLONE_FS) and
 * address space (CLONE_VM) are separate objects that clone shares or copies.
 *
 * @module
 */
import { SigSet } from '@tsvisor/abi';
import type { Credentials } from '../creds/credentials.js';
import type { Kernel } from '../kernel.js';
import type { Rlimits } from '../creds/rlimits.js';
import type { FdTable } from '../fd-table.js';
import type { CpuState } from '../ports/cpu-state.js';
import type { TaskMemory } from '../ports/task-memory.js';
import { PendingSignals, type SignalActions } from '../signal/signal-state.js';
import type { TimeSource } from '../time/time-source.js';
import type { UtsNamespace } from '../uts.js';
import { Waiter, WaitQueue, type WakeReason } from '../wait-queue.js';

/** An address space as the kernel sees it: an identity (for futex keys), its memory, its model. */
export class AddressSpace<Model = unknown> {
  /** Tasks using it (CLONE_VM shares it). */
  users = 0;
  constructor(
    /** Unique within the kernel. */
    readonly id: number,
    /**
     * How the kernel reaches its bytes. Replaced once by the runtime when the host side of a
     * forked address space comes into being.
     */
    public memory: TaskMemory,
    /** The `@tsvisor/mm` model of this address space, if the embedder keeps one. */
    public model: Model,
  ) {}
}

/** The fs context shared with CLONE_FS: umask, and the VFS's cwd/root handles. */
export class FsContext<Loc = unknown> {
  constructor(
    public umask = 0o022,
    public cwd: Loc | undefined = undefined,
    public root: Loc | undefined = undefined,
  ) {}

  /** A copy for clone without CLONE_FS. */
  fork(): FsContext<Loc> {
    return new FsContext(this.umask, this.cwd, this.root);
  }
}

/**
 * A namespace a task is in, as the kernel sees it: its nsfs number and a count of who holds it
 * (tasks, and whatever else its owner lets hold it: open nsfs files, sockets). One made inside
 * the sandbox is freed when the count drops to 0; the sandbox's initial ones stay. What a
 * network namespace holds (its stack) lives in the syscall layer.
 */
export interface Namespace {
  /** Its nsfs inode number (`net:[4026532000]`). */
  readonly inum: number;
  /** Takes one reference. */
  get(): void;
  /** Drops one; the last frees the namespace. */
  put(): void;
}

/** A session (setsid(2)). */
export class Session {
  readonly groups = new Set<ProcessGroup>();
  constructor(readonly sid: number) {}
}

/** A process group. */
export class ProcessGroup {
  readonly members = new Set<ThreadGroup>();
  constructor(
    readonly pgid: number,
    readonly session: Session,
  ) {}
}

/** The alternate signal stack of a task (sigaltstack(2)). */
export interface AltStack {
  readonly sp: number;
  readonly size: number;
  /**
   * The `ss_flags` sigaltstack stored (0 when never set, SS_DISABLE after disabling, possibly
   * with SS_AUTODISARM): what a signal frame saves in `uc_stack`. Disabled means `size === 0`.
   */
  readonly flags: number;
}

/** How a group stopped or continued, for the parent's wait (WUNTRACED/WCONTINUED). */
export type JobNotice = { readonly kind: 'stopped'; readonly signo: number } | { readonly kind: 'continued' };

/** CPU time in nanoseconds. */
export interface CpuTimes {
  userNs: bigint;
  sysNs: bigint;
}

/** A state saved for restart_syscall(2) (ERESTART_RESTARTBLOCK). */
export interface RestartBlock {
  /** Re-runs the interrupted call with its remaining work. */
  readonly resume: () => unknown;
}

/** An armed ITIMER_REAL (alarm, setitimer): monotonic deadline, reload interval, cancel. */
export interface IntervalTimer {
  deadline: bigint;
  readonly interval: bigint;
  cancel: () => void;
}

/** struct task_io_accounting's syscall-level counters. */
export interface IoAccounting {
  /** Bytes returned by read-like syscalls. */
  rchar: number;
  /** Bytes accepted by write-like syscalls. */
  wchar: number;
  /** Read-like syscalls made. */
  syscr: number;
  /** Write-like syscalls made. */
  syscw: number;
}

/** A process: the tasks sharing one pid (tgid). */
export class ThreadGroup {
  readonly tasks = new Set<Task>();
  readonly children = new Set<ThreadGroup>();
  /** Pending signals addressed to the process as a whole. */
  readonly sharedPending = new PendingSignals();
  /** Woken when a child changes state (exit, stop, continue): wait4/waitid sleep here. */
  readonly childEvents = new WaitQueue();
  /** Woken when this group stops being stopped (SIGCONT) or dies. */
  readonly continued = new WaitQueue();
  /** Woken when this group exits (becomes a zombie) and when it is reaped: pidfds poll here. */
  readonly exitEvents = new WaitQueue();
  /** Parent process; undefined for pid 1. */
  parent: ThreadGroup | undefined;
  pgrp!: ProcessGroup;
  /** The signal sent to the parent when this process exits (CSIGNAL of clone; 0 = none). */
  exitSignal: number;
  /** Exit state: alive, zombie (exited, not yet waited for), or reaped. */
  state: 'alive' | 'zombie' | 'reaped' = 'alive';
  /** The wait status once the group has exited (`WEXITSTATUS << 8` or the signal | 0x80). */
  exitStatus = 0;
  /** Set once exit_group or a fatal signal started tearing the group down. */
  exiting = false;
  /** True while stopped by a stop signal. */
  stopped = false;
  /** A stop/continue the parent has not seen yet. */
  jobNotice: JobNotice | undefined;
  /** True after execve (setpgid's EACCES rule). */
  didExec = false;
  /** CPU time of tasks of this group that have exited. */
  readonly deadTimes: CpuTimes = { userNs: 0n, sysNs: 0n };
  /** CPU time of reaped children and their reaped descendants (RUSAGE_CHILDREN). */
  readonly childTimes: CpuTimes = { userNs: 0n, sysNs: 0n };
  /** The ITIMER_REAL timer, when armed (its SIGALRM goes to the process). */
  itimerReal: IntervalTimer | undefined;
  /** The auxiliary vector execve gave the program (/proc/<pid>/auxv), AT_NULL included. */
  auxv: Uint8Array | undefined;
  /** personality(2) persona (PER_LINUX = 0). */
  personality = 0;
  /** Nice value (getpriority/setpriority), -20..19. */
  nice = 0;
  /** PR_SET_DUMPABLE (1 by default; execve of a set-id binary would clear it). */
  dumpable = 1;
  /** PR_SET_CHILD_SUBREAPER. */
  childSubreaper = false;
  /** PR_SET_THP_DISABLE. */
  thpDisable = false;
  /** Peak RSS in KiB reported by the runtime (ru_maxrss). */
  maxRssKib = 0;
  childMaxRssKib = 0;
  /** I/O accounting of the whole group, exited threads included (/proc/<pid>/io). */
  readonly ioac: IoAccounting = { rchar: 0, wchar: 0, syscr: 0, syscw: 0 };

  constructor(
    readonly tgid: number,
    public creds: Credentials,
    public rlimits: Rlimits,
    public actions: SignalActions,
    exitSignal: number,
  ) {
    this.exitSignal = exitSignal;
  }

  /** The leader: the task whose tid equals the tgid (it may have exited already). */
  leader!: Task;

  /** The group's session. */
  get session(): Session {
    return this.pgrp.session;
  }

  /** User and system time of the whole group, live and exited threads. */
  cpuTimes(): CpuTimes {
    let userNs = this.deadTimes.userNs;
    let sysNs = this.deadTimes.sysNs;
    for (const t of this.tasks) {
      userNs += t.cpu.userNs;
      sysNs += t.cpu.sysNs;
    }
    return { userNs, sysNs };
  }

  /** True when the group is a session leader. */
  get isSessionLeader(): boolean {
    return this.session.sid === this.tgid;
  }
}

/**
 * One schedulable thread of a sandboxed program.
 *
 * The runtime owns the registers (`regs`) across switches; the kernel changes them in
 * syscall handlers, signal delivery and rt_sigreturn.
 */
export class Task<F = unknown> {
  /** Signals blocked by this thread. */
  readonly mask = new SigSet();
  /** Mask to restore after a handler runs from sigsuspend/ppoll/pselect (set_restore_sigmask). */
  savedMask: SigSet | undefined;
  /** Signals addressed to this thread. */
  readonly pending = new PendingSignals();
  altStack: AltStack = { sp: 0, size: 0, flags: 0 };
  /** set_tid_address / CLONE_CHILD_CLEARTID: where to write 0 and futex-wake at exit. */
  clearChildTid = 0;
  /** set_robust_list registration. */
  robustList = { head: 0, len: 0 };
  /** PR_SET_PDEATHSIG. */
  pdeathSignal = 0;
  /** PR_SET_NO_NEW_PRIVS (inherited across fork and execve, never cleared). */
  noNewPrivs = false;
  /** PR_SET_TIMERSLACK: the timer slack in ns, and the value 0 restores (the parent's at clone). */
  timerSlackNs = 50_000;
  defaultTimerSlackNs = 50_000;
  /** I/O accounting of this thread (read/write syscalls and bytes; /proc/<pid>/task/<tid>/io). */
  readonly ioac: IoAccounting = { rchar: 0, wchar: 0, syscr: 0, syscw: 0 };
  /**
   * The scheduling policy (SCHED_*) and real-time priority /proc/<pid>/stat and sched show; the
   * sched_* syscalls set them (and keep the rest of the scheduling state themselves).
   */
  schedPolicy = 0;
  schedRtPriority = 0;
  /** PR_SET_NAME / the comm shown in /proc (up to 15 bytes). */
  comm: string;
  /** CPU time used so far (the runtime adds to it). */
  readonly cpu: CpuTimes = { userNs: 0n, sysNs: 0n };
  /**
   * Monotonic time since boot when the task was created (/proc/<pid>/stat starttime); an exec'ing
   * thread that becomes the leader takes the leader's.
   */
  startNs: bigint;
  #tid: number;
  /** The executable's VFS location (for /proc/<pid>/exe), set by execve. */
  exe: unknown;
  /** Set while a vfork parent waits for this task to exec or exit. */
  vforkDone: WaitQueue | undefined;
  /** The saved work of an interrupted restartable call. */
  restartBlock: RestartBlock | undefined;
  /**
   * The network namespace this thread is in (a thread's own, as Linux's nsproxy is: setns and
   * unshare move only the caller); undefined for the sandbox's initial one.
   */
  #netns: Namespace | undefined;
  /** The UTS namespace this thread is in (its own, as the network namespace). */
  #uts: UtsNamespace;
  /** alive until it exits; then it is gone from the namespace. */
  state: 'alive' | 'exited' = 'alive';
  /** Resolves with the task's last breath (for the runtime's trap loop). */
  readonly exited: Promise<void>;
  private markExited!: () => void;
  /** The wait this task is blocked in, if any (signals interrupt it). */
  private waiter: Waiter<unknown> | undefined;

  constructor(
    /** The kernel this task lives in (handlers reach the sandbox's services through it). */
    readonly kernel: Kernel<F>,
    tid: number,
    readonly group: ThreadGroup,
    /** The address space (shared with CLONE_VM). */
    public mm: AddressSpace,
    /** Registers and FP state. */
    public regs: CpuState,
    /** Descriptor table (shared with CLONE_FILES). */
    public files: FdTable<F>,
    /** umask/cwd/root (shared with CLONE_FS). */
    public fs: FsContext,
    comm: string,
  ) {
    this.#tid = tid;
    this.#uts = kernel.uts;
    this.comm = comm.slice(0, 15);
    this.startNs = kernel.uptimeNs();
    this.exited = new Promise((r) => (this.markExited = r));
  }

  /**
   * The thread id. It changes once at most: when a thread that is not its group's leader execs,
   * it takes over the leader's tid (see `Kernel.takeOverLeader`), as Linux's de_thread does.
   */
  get tid(): number {
    return this.#tid;
  }

  /** @internal the kernel gives an exec'ing thread its group leader's tid. */
  assumeTid(tid: number, startNs: bigint): void {
    this.#tid = tid;
    this.startNs = startNs;
  }

  /** The thread group id (the pid). */
  get tgid(): number {
    return this.group.tgid;
  }

  /** The network namespace the task is in; undefined for the sandbox's initial one. */
  get netns(): Namespace | undefined {
    return this.#netns;
  }

  /**
   * Moves the task into network namespace `ns` (undefined: the initial one), holding it and
   * dropping the one it leaves. A task that has exited holds none.
   */
  setNetns(ns: Namespace | undefined): void {
    if (ns === this.#netns) return;
    ns?.get();
    const old = this.#netns;
    this.#netns = ns;
    old?.put();
  }

  /** The UTS namespace the task is in: uname's names, sethostname's target. */
  get uts(): UtsNamespace {
    return this.#uts;
  }

  /** Moves the task into UTS namespace `ns`, holding it and dropping the one it leaves. */
  setUts(ns: UtsNamespace): void {
    if (ns === this.#uts) return;
    ns.get();
    const old = this.#uts;
    this.#uts = ns;
    old.put();
  }

  /**
   * @internal exit_task_namespaces: an exiting task lets go of the namespaces made inside the
   * sandbox that it was in.
   */
  exitNamespaces(): void {
    this.setNetns(undefined);
    this.setUts(this.kernel.uts);
  }

  /** Shortcut to this task's memory. */
  get memory(): TaskMemory {
    return this.mm.memory;
  }

  /** Shortcut to the credentials. */
  get creds(): Credentials {
    return this.group.creds;
  }

  /** True when this task is blocked in an interruptible wait. */
  get blocked(): boolean {
    return this.waiter !== undefined;
  }

  /**
   * Blocks until one of `queues` notifies, a signal interrupts (see {@link interrupt}) or the
   * waiter's deadline passes. The caller re-checks its condition afterwards. If an unblocked
   * signal is already pending the wait ends at once with 'interrupted'.
   */
  async block<D>(waiter: Waiter<D>, queues: readonly WaitQueue<D>[] = []): Promise<WakeReason> {
    if (this.state !== 'alive' || this.hasInterruptingSignal()) {
      waiter.wake('interrupted');
      return 'interrupted';
    }
    for (const q of queues) q.add(waiter);
    this.waiter = waiter as Waiter<unknown>;
    try {
      return await waiter.promise;
    } finally {
      if (this.waiter === (waiter as Waiter<unknown>)) this.waiter = undefined;
      // The handler resumes: it is again the task whose syscall runs (signalfd reads its queues).
      this.kernel.current = this;
    }
  }

  /** Convenience: wait on queues with an optional monotonic deadline, with a fresh waiter. */
  wait(queues: readonly WaitQueue[], deadline?: { time: TimeSource; ns: bigint }): Promise<WakeReason> {
    const w = new Waiter(undefined);
    if (deadline) w.setDeadline(deadline.time, deadline.ns);
    return this.block(w, queues);
  }

  /** Ends the current wait with 'interrupted' (a signal arrived, or the task is dying). */
  interrupt(): boolean {
    return this.waiter?.wake('interrupted') ?? false;
  }

  /** True when a signal is pending that this task does not block (or the task must die). */
  hasInterruptingSignal(): boolean {
    if (this.group.exiting || this.state !== 'alive') return true;
    const ready = this.pending.set.clone().union(this.group.sharedPending.set).subtract(this.mask);
    return !ready.isEmpty();
  }

  /** @internal the kernel marks the task gone. */
  markGone(): void {
    this.state = 'exited';
    this.interrupt();
    this.markExited();
  }
}
