/**
 * The trap loop and the kernel's platform port over `@tsvisor/trap-native`.
 *
 * Every sandboxed thread is a pair: the kernel's `Task` (all Linux state) and a traced host thread.
 * One loop per pair switches into the host thread and serves what stops it:
 * - a syscall: registers are copied into the task's `CpuState`, the syscall table's handler runs
 *   (synchronously on the fast path; a returned promise parks only this task, the event loop and
 *   the other tasks keep going), the result goes to rax, restart results and pending signals go
 *   through the kernel's signal delivery, and the registers that changed go back to the host;
 * - a fault: a fault below a stack VMA grows the stack (mm's model, then the host); any other
 *   becomes the signal Linux would force on the thread, delivered by the kernel;
 * - a signal sent to the host process from outside: forwarded to the sandboxed process;
 * - the host thread's end: the kernel learns of it if it did not cause it (for host threads
 *   stopped while their task waits in a handler, by polling the platform: no wait sees them).
 *
 * The host reports a thread-group leader's death only once every other thread of its process is
 * reaped, and only this thread reaps: so a host leader is never made to exit while its process
 * has other threads (it stays stopped until the process is killed), and a kill reaps every
 * thread before the leader.
 *
 * A handler that throws is a bug: it is logged with the syscall and answered with ENOSYS, and the
 * sandbox keeps running.
 *
 * @module
 */
import { E, SiCode, Signal, errorOf, isError, type LinuxError } from '@tsvisor/abi';
import {
  ERESTARTNOHAND,
  ERESTARTNOINTR,
  ERESTARTSYS,
  ERESTART_RESTARTBLOCK,
  TASK_SIZE,
  SIG_DFL_ACTION,
  SIG_IGN,
  TASK_GONE,
  deliverSignals,
  isControl,
  type ControlResult,
  type CpuState,
  type FpState,
  type HostCloneKind,
  type Kernel,
  type PlatformPort,
  type PlatformTask,
  type Task,
  type TaskMemory,
} from '@tsvisor/kernel';
import { AddressSpace as MmSpace, type HostOp } from '@tsvisor/mm';
import { dispatch, type SyscallArgs, type SyscallResult, type SyscallTable } from '@tsvisor/syscalls';
import {
  Registers,
  STUB_REGION,
  TrapError,
  type Platform,
  type Task as HostTask,
  type TaskEvent,
} from '@tsvisor/trap-native';
import { performance } from 'node:perf_hooks';
import { applyHostOps } from './host-memory.js';
import { hostMincore } from './host-mincore.js';
import {
  NR_CLOSE,
  NR_EXECVE,
  NR_EXECVEAT,
  NR_EXIT,
  NR_EXIT_GROUP,
  NR_IOCTL,
  NR_MUNMAP,
  NR_RT_SIGRETURN,
} from './host-nr.js';
import type { Strace } from './strace.js';
import { TrapMemory } from './trap-memory.js';

/** How often a busy task's CPU times are read from the host, in ms. */
const CPU_SAMPLE_MS = 20;
/**
 * How often, while some task waits in a handler, the platform is asked for stopped host threads
 * killed from outside (the host's OOM killer), in ms: nothing else would notice them.
 */
const DEATH_POLL_MS = 500;
const ESRCH = 3;
/**
 * The host signal that makes a running stub stop so a sandbox signal can be delivered: SIGURG,
 * whose default action is to be ignored, so it is harmless even if it ever reached the stub.
 */
const NUDGE_SIGNAL = 23;
const NUDGE_SIGNAL_NAME = 'SIGURG';
const PAGE = 4096;
const FP_XSTATE_MAGIC1 = 0x46505853;

/** The strace state of one call: its line rendered before it ran, if it is an execve. */
interface TraceState {
  readonly exec: string | undefined;
}

/** A sandboxed thread: the kernel's task and the host thread that runs it. */
interface Thread {
  readonly task: Task;
  /** The host thread (replaced when a task that shares its host process execs). */
  host: HostTask;
  /** Scratch register set for the host copies (reused: no allocation per syscall). */
  readonly regs: Registers;
  /** The FP state object last synchronised with the host (pushed, or pulled). */
  fpSynced: FpState | undefined;
  /** True when the task's FP state was pulled since the host thread last ran. */
  fpFresh: boolean;
  /** True while the host thread runs application code (inside `switch()`). */
  running: boolean;
  /** True once its loop is ending the host thread (it no longer keeps its host process up). */
  ending: boolean;
  /** Last fault address handled by growing the stack (a second fault there is a real one). */
  lastGrowFault: number;
  /** When the task's CPU times were last read from the host (performance.now() ms). */
  cpuSampledAt: number;
}

/** Options of a {@link Machine}. */
export interface MachineOptions {
  readonly table: SyscallTable;
  readonly strace?: Strace | undefined;
  /**
   * Called at every syscall boundary, before a task goes back to the host (the supervisor-mode
   * memory limit samples there and may kill the task).
   */
  readonly atSyscall?: (() => void) | undefined;
}

/**
 * Runs the tasks of one kernel on one platform. Create it, hand {@link port} to the kernel's
 * options, {@link bind} the kernel and the platform, then {@link adopt} the first task.
 */
export class Machine {
  #platform: Platform | undefined;
  readonly #table: SyscallTable;
  /** The strace renderer, when tracing. */
  readonly strace: Strace | undefined;
  /**
   * The pairs, by kernel task: not by tid, which an exec by a non-leader thread hands over from
   * the retired leader to the exec'ing task (both may still have loops ending).
   */
  readonly #threads = new Map<PlatformTask, Thread>();
  readonly #loops = new Set<Promise<void>>();
  /** Nudges sent per host process and not yet seen (see {@link NUDGE_SIGNAL}). */
  readonly #nudges = new Map<number, number>();
  /** Children created during the current syscall, started once the parent's call completes. */
  readonly #toStart: Thread[] = [];
  #kernel: Kernel | undefined;
  #current: Task | undefined;
  /** While set, trap loops wait for it before switching into the host (CPU throttling). */
  #gate: Promise<void> | undefined;
  #openGate: (() => void) | undefined;
  readonly #atSyscall: (() => void) | undefined;
  /** Loops waiting in a handler (or in a group stop) now. */
  #waiting = 0;
  /** Polls for host threads killed from outside while {@link #waiting} is not 0. */
  #deathPoll: ReturnType<typeof setInterval> | undefined;

  /** The kernel's platform port, implemented over this machine. */
  readonly port: PlatformPort<HostOp>;

  constructor(opts: MachineOptions) {
    this.#table = opts.table;
    this.strace = opts.strace;
    this.#atSyscall = opts.atSyscall;
    this.port = {
      applyMemoryOps: (task, ops) => this.#applyMemoryOps(task, ops),
      createTask: (parent, child, kind, cpu) => this.#createTask(parent, child, kind, cpu),
      execAddressSpace: (task) => this.#execAddressSpace(task),
      destroyTask: (task) => this.#destroyTask(task),
      interruptTask: (task) => this.#interruptTask(task),
      mincore: (task, start, pages) => {
        const host = this.#stoppedHost(task);
        return host ? hostMincore(host, start, pages) : E.ENOMEM;
      },
    };
  }

  /** Binds the kernel (created with {@link port}) and the platform its tasks run on. */
  bind(kernel: Kernel, platform: Platform): void {
    this.#kernel = kernel;
    this.#platform = platform;
  }

  get #k(): Kernel {
    if (!this.#kernel) throw new Error('Machine.bind(kernel) was not called');
    return this.#kernel;
  }

  /** The task whose syscall handler is running synchronously right now (procfs's reader). */
  get current(): Task | undefined {
    return this.#current;
  }

  /**
   * Runs `ioctl(hostFd, cmd, arg)` inside the host process of the task whose syscall is being
   * served, so `arg` points into that task's memory (terminal ioctls on passed-through stdio).
   * ENOTTY outside a syscall.
   */
  hostIoctl(hostFd: number, cmd: number, arg: bigint): number | LinuxError {
    const th = this.#current ? this.#threads.get(this.#current) : undefined;
    if (!th?.host.alive) return E.ENOTTY;
    const stubFd = th.host.passFd(hostFd);
    if (isError(stubFd)) return E.ENOTTY;
    const r = th.host.hostSyscall(NR_IOCTL, stubFd, cmd, arg);
    th.host.hostSyscall(NR_CLOSE, stubFd);
    return r < 0 ? errorOf(-r) : r;
  }

  /** The host thread of a kernel task, if it has one. */
  hostOf(tid: number): HostTask | undefined {
    // The live task with that tid first: a retired leader's pair may linger while its loop ends.
    let retired: HostTask | undefined;
    for (const th of this.#threads.values()) {
      if (th.task.tid !== tid) continue;
      if (th.task.state === 'alive') return th.host;
      retired = th.host;
    }
    return retired;
  }

  /**
   * Pairs a kernel task with a stopped host thread without running it yet, so the kernel can
   * exec a program into it (the platform port then finds its host thread).
   */
  attach(task: Task, host: HostTask): void {
    this.#newThread(task, host);
  }

  /** Pairs a kernel task with a stopped host thread (unless {@link attach}ed) and starts its loop with the task's `regs`. */
  adopt(task: Task, host: HostTask): void {
    const known = this.#threads.get(task);
    const th = known?.task === task ? known : this.#newThread(task, host);
    this.#pushRegs(th, true);
    this.#start(th);
  }

  /**
   * Holds every trap loop before its next switch into the host and stops the tasks that run
   * application code now (with the platform's nudge), until {@link resume}: how cpu.max is
   * enforced without a host cgroup.
   */
  pause(): void {
    if (this.#gate) return;
    this.#gate = new Promise((resolve) => (this.#openGate = resolve));
    // One nudge per host process: it is process-directed, and a second one sent before the
    // first is taken would merge with it (a standard signal) and be counted as owed.
    const nudged = new Set<number>();
    for (const th of this.#threads.values()) {
      if (!th.running || nudged.has(th.host.tgid)) continue;
      nudged.add(th.host.tgid);
      this.#interruptTask(th.task);
    }
  }

  /** Releases the loops held by {@link pause}. */
  resume(): void {
    const open = this.#openGate;
    this.#gate = undefined;
    this.#openGate = undefined;
    open?.();
  }

  /** The host processes that run sandbox tasks, each with the ids of those host threads. */
  hostProcesses(): Map<number, number[]> {
    const out = new Map<number, number[]>();
    for (const th of this.#threads.values()) {
      if (!th.host.alive) continue;
      const tids = out.get(th.host.tgid);
      if (tids) tids.push(th.host.tid);
      else out.set(th.host.tgid, [th.host.tid]);
    }
    return out;
  }

  /** The kernel tasks whose host thread is in host process `pid`. */
  tasksInHost(pid: number): Task[] {
    return [...this.#threads.values()].filter((th) => th.host.tgid === pid).map((th) => th.task);
  }

  /** Resolves when every loop has ended. */
  async settled(): Promise<void> {
    while (this.#loops.size > 0) await Promise.allSettled([...this.#loops]);
  }

  #newThread(task: Task, host: HostTask): Thread {
    const regs = new Registers();
    const th: Thread = {
      task,
      host,
      regs,
      fpSynced: task.regs.fp,
      fpFresh: false,
      running: false,
      ending: false,
      lastGrowFault: -1,
      cpuSampledAt: 0,
    };
    this.#threads.set(task, th);
    if (this.#threads.size > 1 && this.strace) this.strace.multi = true;
    if (task.memory instanceof TrapMemory) task.memory.attach(host);
    return th;
  }

  #start(th: Thread): void {
    const p = this.#loop(th).catch((e: unknown) => {
      this.#k.log(`bug: trap loop of task ${th.task.tid} failed: ${describe(e)}`);
      if (th.task.state === 'alive') this.#k.killGroup(th.task.group, Signal.SIGKILL);
    });
    this.#loops.add(p);
    void p.finally(() => this.#loops.delete(p));
  }

  // ---------------------------------------------------------------------------------------------
  // The loop

  async #loop(th: Thread): Promise<void> {
    const task = th.task;
    for (;;) {
      if (this.#gate) await this.#gate;
      // Between two syscalls (or faults) of this task: it may be killed here (memory.max).
      this.#atSyscall?.();
      if (task.state !== 'alive') return this.#retire(th);
      let ev: TaskEvent;
      try {
        th.running = true;
        ev = await th.host.switch();
        th.running = false;
      } catch (e) {
        th.running = false;
        if (e instanceof TrapError && e.code === 'ESRCH') return this.#hostGone(th, Signal.SIGKILL);
        throw e;
      }
      // The platform's own nudge (interruptTask) is consumed here; any other host signal comes
      // from outside the sandbox and goes to the sandboxed process.
      const nudge = ev.kind === 'signal' && ev.signo === NUDGE_SIGNAL && this.#takeNudge(th.host.tgid);
      if (task.state !== 'alive') return this.#retire(th);
      switch (ev.kind) {
        case 'syscall': {
          const p = this.#syscall(th, ev.nr);
          if (p) await this.#wait(p);
          break;
        }
        case 'fault': {
          const p = this.#fault(th, ev.signo, ev.code, ev.addr);
          if (p) await this.#wait(p);
          break;
        }
        case 'signal': {
          if (!nudge) this.#k.sendToGroup(task.group, { signo: ev.signo, code: SiCode.SI_KERNEL });
          this.#pullRegs(th);
          const p = this.#deliver(th, undefined);
          if (p) await this.#wait(p);
          break;
        }
        case 'exited':
          return this.#hostGone(th, (ev.status & 0xff) << 8);
        case 'killed':
          return this.#hostGone(th, ev.signo | (ev.coreDumped ? 0x80 : 0));
      }
    }
  }

  /**
   * A loop waits for its task's handler (or group stop) with the host thread stopped, where no
   * host wait would see it die: while any loop does, the platform is polled for such deaths.
   */
  async #wait(p: Promise<void>): Promise<void> {
    if (this.#waiting++ === 0) {
      this.#deathPoll = setInterval(() => this.#reapKilled(), DEATH_POLL_MS);
      this.#deathPoll.unref();
    }
    try {
      await p;
    } finally {
      if (--this.#waiting === 0) {
        clearInterval(this.#deathPoll);
        this.#deathPoll = undefined;
      }
    }
  }

  /**
   * Host threads killed from outside the supervisor (the host's OOM killer, `kill -9` of a stub
   * process) while stopped: their processes die with SIGKILL, as on Linux. The loops then end
   * them as for any death (the platform reports it at their next switch).
   */
  #reapKilled(): void {
    const platform = this.#platform;
    if (!platform) return;
    for (const tid of platform.reapStopped()) {
      for (const th of this.#threads.values())
        if (th.host.tid === tid && th.task.state === 'alive')
          this.#k.killGroup(th.task.group, Signal.SIGKILL);
    }
  }

  /** Host registers → the task's CpuState (and the snapshot that tells what changed). */
  #pullRegs(th: Thread): void {
    th.host.getRegs(th.regs);
    th.task.regs.regs.set(th.regs.raw);
    th.fpFresh = false;
  }

  /**
   * The task's CpuState → host, writing only what changed (the platform compares: nothing, rax
   * alone for the common syscall return, or the whole set), or everything when `all`; and the
   * FP state if the kernel replaced it.
   */
  #pushRegs(th: Thread, all = false): void {
    const cur = th.task.regs.regs;
    if (all) {
      th.regs.raw.set(cur);
      th.host.setRegs(th.regs);
    } else th.host.syncRegs(cur);
    const fp = th.task.regs.fp;
    if (fp !== th.fpSynced || all) {
      // The kernel replaced the FP state (signal handler entry, rt_sigreturn, execve).
      th.host.setFpRegs(this.#hostFp(fp));
      th.fpSynced = fp;
    }
  }

  /** Loads the host FP state into the task (before a signal frame is built or torn down). */
  #pullFp(th: Thread): void {
    if (th.fpFresh) return;
    const bytes = th.host.getFpRegs();
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    // The kernel puts its fpx_sw_bytes (with XCR0 as xfeatures) in the software-reserved area.
    const xfeatures =
      bytes.length > 512 && dv.getUint32(464, true) === FP_XSTATE_MAGIC1
        ? dv.getBigUint64(472, true)
        : bytes.length > 520
          ? dv.getBigUint64(512, true) | 3n
          : 3n;
    const fp: FpState = { bytes: new Uint8Array(bytes), xsave: bytes.length > 512, xfeatures };
    th.task.regs.fp = fp;
    th.fpSynced = fp;
    th.fpFresh = true;
  }

  /** An FP image in the platform's size (a 512-byte fxsave image gets an XSAVE header). */
  #hostFp(fp: FpState): Uint8Array {
    const size = this.#platform?.fpStateSize ?? fp.bytes.length;
    if (fp.bytes.length === size) return fp.bytes;
    const out = new Uint8Array(size);
    out.set(fp.bytes.subarray(0, Math.min(512, size)));
    out.fill(0, 464, 512);
    if (size > 520) new DataView(out.buffer).setBigUint64(512, 3n, true); // XSTATE_BV: x87 | SSE
    return out;
  }

  // ---------------------------------------------------------------------------------------------
  // Syscalls

  #syscall(th: Thread, nr: number): void | Promise<void> {
    this.#pullRegs(th);
    const task = th.task;
    // CPU times come from the host: sampled now and then, and always before a thread exits.
    const now = performance.now();
    if (now - th.cpuSampledAt >= CPU_SAMPLE_MS || nr === NR_EXIT || nr === NR_EXIT_GROUP) {
      th.cpuSampledAt = now;
      sampleCpu(th.host, task);
    }
    if (nr === NR_RT_SIGRETURN) this.#pullFp(th);
    const args = task.regs.syscallArgs();
    const strace = this.strace;
    // execve replaces the memory its arguments live in: render its line before it runs.
    const trace: TraceState | undefined = strace
      ? {
          exec:
            nr === NR_EXECVE || nr === NR_EXECVEAT
              ? strace.render(task.tid, nr, args, 0, this.#reader(task))
              : undefined,
        }
      : undefined;
    let res: SyscallResult | Promise<SyscallResult>;
    this.#current = task;
    try {
      res = dispatch(this.#table, task, nr, args);
    } catch (e) {
      res = this.#bug(task, nr, e);
    } finally {
      this.#current = undefined;
    }
    // A number first: unoptimized, `instanceof` looks Promise's Symbol.hasInstance up each time.
    if (typeof res === 'object' && res instanceof Promise) {
      if (strace && trace && trace.exec === undefined) strace.begin(task.tid, nr, args, this.#reader(task));
      return res.then(
        (r) => this.#complete(th, nr, args, r, trace),
        (e: unknown) => this.#complete(th, nr, args, this.#bug(task, nr, e), trace),
      );
    }
    return this.#complete(th, nr, args, res, trace);
  }

  /** After the handler: result to rax, strace, signals, registers back to the host. */
  #complete(
    th: Thread,
    nr: number,
    args: SyscallArgs,
    res: SyscallResult,
    trace: TraceState | undefined,
  ): void | Promise<void> {
    const task = th.task;
    const strace = this.strace;
    if (res === TASK_GONE || task.state !== 'alive') {
      if (strace) strace.noReturn(task.tid, nr, args, this.#reader(task));
      this.#flushStarts();
      return;
    }
    if (!isControl(res)) task.regs.setSyscallResult(isError(res) ? -res.errno : res);
    this.#syncMemory(th);
    return this.#afterSync(th, nr, args, res, trace);
  }

  /**
   * Host operations the model journaled and nobody applied yet (a handler that changed the
   * address space without calling the port): applied before the task runs again.
   */
  #syncMemory(th: Thread): void {
    const model = th.task.mm.model;
    if (!(model instanceof MmSpace)) return;
    const ops = model.drainHostOps();
    if (ops.length === 0) return;
    this.#memoryFailed(th, applyHostOps(th.host, ops));
  }

  /** The host refused a change the model made: the process cannot go on consistently. */
  #memoryFailed(th: Thread, e: LinuxError | undefined): void {
    if (!e) return;
    this.#k.log(`task ${th.task.tid}: the host refused a memory change (${e.name}); killing the process`);
    this.#k.killGroup(th.task.group, Signal.SIGKILL);
  }

  #afterSync(
    th: Thread,
    nr: number,
    args: SyscallArgs,
    res: SyscallResult,
    trace: TraceState | undefined,
  ): void | Promise<void> {
    const task = th.task;
    const strace = this.strace;
    if (task.state !== 'alive') return;
    if (strace && trace) {
      const read = this.#reader(task);
      if (isRestart(res)) strace.restarted(task.tid, nr, args, res, read);
      else if (trace.exec !== undefined && !isError(res)) strace.emit(task.tid, trace.exec);
      else strace.complete(task.tid, nr, args, task.regs.get('rax'), read);
    }
    const p = this.#deliver(th, res);
    this.#flushStarts();
    return p;
  }

  /** A thrown handler is a bug: log it with the syscall, answer ENOSYS. */
  #bug(task: Task, nr: number, e: unknown): LinuxError {
    const name = this.#table.get(nr)?.name ?? `syscall ${nr}`;
    this.#k.log(`bug: ${name}(${nr}) of task ${task.tid} threw: ${describe(e)}; answered ENOSYS`);
    return E.ENOSYS;
  }

  /**
   * Signal delivery before returning to user mode, then the registers back to the host. A
   * stopped process waits here for SIGCONT (only this task's loop is parked).
   */
  #deliver(th: Thread, res: SyscallResult | undefined): void | Promise<void> {
    const task = th.task;
    if (isRestart(res) || signalsPending(task) || task.savedMask !== undefined) {
      if (task.state === 'alive') this.#pullFp(th);
      const out = deliverSignals(this.#k, task, res);
      if (out === 'exited') return;
      if (out === 'stopped') return this.#waitStopped(th);
    }
    if (task.state === 'alive') this.#pushRegs(th);
  }

  async #waitStopped(th: Thread): Promise<void> {
    const task = th.task;
    for (;;) {
      await this.#k.waitWhileStopped(task);
      if (task.state !== 'alive') return;
      const out = deliverSignals(this.#k, task);
      if (out === 'exited') return;
      if (out === 'run') break;
    }
    this.#pushRegs(th);
  }

  #reader(task: Task): (addr: number, len: number) => Uint8Array | LinuxError {
    const mem = task.memory;
    return (addr, len) => mem.read(addr, len);
  }

  // ---------------------------------------------------------------------------------------------
  // Faults

  #fault(th: Thread, signo: number, code: number, addr: number): void | Promise<void> {
    this.#pullRegs(th);
    const task = th.task;
    const model = task.mm.model;
    if (
      signo === Signal.SIGSEGV &&
      model instanceof MmSpace &&
      addr !== th.lastGrowFault &&
      !model.findVma(addr)
    ) {
      // A touch below a growsdown VMA: grow the stack as Linux's fault handler does.
      if (model.expandStack(addr) === 0) {
        th.lastGrowFault = addr;
        if (!applyHostOps(th.host, model.drainHostOps())) return;
      }
    }
    th.lastGrowFault = -1;
    this.#forceSignal(task, signo, code, addr);
    return this.#deliver(th, undefined);
  }

  /** force_sig_fault: a blocked or ignored synchronous signal is unblocked and reset to default. */
  #forceSignal(task: Task, signo: number, code: number, addr: number): void {
    const act = task.group.actions.get(signo);
    if (task.mask.has(signo) || act.handler === SIG_IGN) {
      task.group.actions.set(signo, SIG_DFL_ACTION);
      task.mask.delete(signo);
    }
    this.#k.sendToTask(task, { signo, code, addr: BigInt(addr) });
  }

  // ---------------------------------------------------------------------------------------------
  // Task ends

  /** The kernel task is gone: end the host thread if it still lives, and forget the pair. */
  async #retire(th: Thread): Promise<void> {
    const { task, host } = th;
    th.ending = true;
    let parked = false;
    if (host.alive) {
      try {
        // The whole host process goes when it holds only this dying process, or when this is
        // its last live thread (a leader parked below may still be in it). A thread that exits
        // alone, or a vfork child living in its parent's host process, ends by itself, except a
        // host thread-group leader (see #parkable).
        const dying = task.group.exiting || task.group.state !== 'alive';
        if (!this.#sharesHostProcess(th) || (dying && this.#ownsHostProcess(th))) host.kill();
        else if (this.#parkable(host)) parked = true;
        else host.hostSyscall(NR_EXIT, 0);
      } catch (e) {
        // Already dead (the whole stub was killed): its next switch reports it.
        if (!(e instanceof TrapError)) throw e;
      }
      for (let i = 0; !parked && host.alive && i < 8; i++) {
        const ev = await host.switch().catch(() => undefined);
        if (!ev || ev.kind === 'exited' || ev.kind === 'killed') break;
      }
    }
    this.#forget(th);
    // A leader retired by a non-leader's exec shares the pid with its successor: only one ends it.
    if (this.strace && task.group.leader === task && task.group.state !== 'alive')
      this.strace.processEnd(task.tid, task.group.exitStatus);
  }

  /**
   * True for a host thread-group leader (while other host threads of its process live): it is
   * left stopped instead of ended. A leader that exits first stays a zombie until every other
   * thread of its process is reaped, so the tracer's wait for its exit would block the event
   * loop (the supervisor's only thread) while those threads sit stopped in syscalls only this
   * thread can answer. It ends with its host process, which the last of its threads kills.
   */
  #parkable(host: HostTask): boolean {
    return host.tid === host.tgid;
  }

  /** True when no task of another process runs in `th`'s host process (a vfork parent would). */
  #ownsHostProcess(th: Thread): boolean {
    for (const other of this.#threads.values())
      if (other.task.group !== th.task.group && other.host.alive && other.host.tgid === th.host.tgid)
        return false;
    return true;
  }

  /** The host thread ended without the kernel asking: the kernel kills the sandboxed process. */
  #hostGone(th: Thread, waitStatus: number): void {
    const task = th.task;
    if (task.state === 'alive') this.#k.killGroup(task.group, waitStatus);
    this.#forget(th);
    if (this.strace && task.group.leader === task) this.strace.processEnd(task.tid, task.group.exitStatus);
  }

  #forget(th: Thread): void {
    if (this.#threads.get(th.task) === th) this.#threads.delete(th.task);
    if (th.task.memory instanceof TrapMemory) th.task.memory.detach(th.host);
  }

  // ---------------------------------------------------------------------------------------------
  // The platform port

  #applyMemoryOps(task: PlatformTask, ops: readonly HostOp[]): undefined | LinuxError {
    if (ops.length === 0) return undefined;
    const host = this.#stoppedHost(task);
    if (!host) return E.ENOMEM;
    return applyHostOps(host, ops);
  }

  /** A stopped host thread of `task`'s address space: the task's own, or another of its group. */
  #stoppedHost(task: PlatformTask): HostTask | undefined {
    const th = this.#threads.get(task);
    if (th?.host.alive) return th.host;
    const kt = this.#kernel?.task(task.tid);
    const mem = kt?.memory;
    return mem instanceof TrapMemory ? mem.host : undefined;
  }

  #createTask(
    parent: PlatformTask,
    child: PlatformTask,
    kind: HostCloneKind,
    cpu: CpuState,
  ): TaskMemory | undefined | LinuxError {
    const pth = this.#threads.get(parent);
    if (!pth) return E.EAGAIN;
    const host = kind === 'thread' ? pth.host.newThread() : pth.host.fork();
    if (isError(host)) return host;
    const task = this.#k.task(child.tid);
    if (!task) {
      host.kill();
      return E.EAGAIN;
    }
    // A fork child has its own host address space; a thread shares the parent's memory object.
    const memory = kind === 'fork' ? new TrapMemory(host) : undefined;
    const th = this.#newThread(task, host);
    task.regs = cpu;
    th.regs.raw.set(cpu.regs);
    host.setRegs(th.regs);
    // The host clone copied the parent's FP state, which is the child's.
    th.fpSynced = cpu.fp;
    // The child starts when the parent's call completes (the kernel has then written the tids
    // it owes the child), or on the next turn of the event loop if that call waits (vfork).
    this.#toStart.push(th);
    setImmediate(() => this.#flushStarts());
    return memory;
  }

  #flushStarts(): void {
    while (this.#toStart.length > 0) this.#start(this.#toStart.shift() as Thread);
  }

  #execAddressSpace(task: PlatformTask): TaskMemory | LinuxError {
    const th = this.#threads.get(task);
    if (!th?.host.alive) return E.ENOMEM;
    if (th.task.memory instanceof TrapMemory) th.task.memory.detach(th.host);
    if (this.#sharesHostProcess(th)) {
      // A vfork child (or a thread) runs in its parent's host process: it gets a process of its
      // own, a host fork emptied below, and its old host thread ends.
      const fresh = th.host.fork();
      if (isError(fresh)) return E.ENOMEM;
      const old = th.host;
      th.host = fresh;
      // A host leader stays parked (see #parkable): the process's last thread kills it.
      if (this.#parkable(old)) {
        // Nothing to do: it is stopped and out of every loop.
      } else if (old.hostSyscall(NR_EXIT, 0) === -ESRCH) void old.switch().catch(() => undefined);
      else old.kill();
    }
    // The platform's pages stay: the stub's, and the host vDSO's when the sandbox uses it.
    const err = clearAddressSpace(th.host, this.#k.reserved ?? []);
    if (err) return err;
    return new TrapMemory(th.host);
  }

  /** True when another live task (not already ending) runs in the same host process as `th`. */
  #sharesHostProcess(th: Thread): boolean {
    for (const other of this.#threads.values())
      if (other !== th && !other.ending && other.host.alive && other.host.tgid === th.host.tgid) return true;
    return false;
  }

  /**
   * A signal is pending for a task that may be running application code: a host signal stops
   * its host process at once (ptrace reports it instead of delivering it), and the loop then
   * delivers the sandbox's signal. A task waiting in a handler is woken by the kernel instead.
   */
  #interruptTask(task: PlatformTask): void {
    const th = this.#threads.get(task);
    if (!th?.running || !th.host.alive) return;
    const pid = th.host.tgid;
    try {
      process.kill(pid, NUDGE_SIGNAL_NAME);
      this.#nudges.set(pid, (this.#nudges.get(pid) ?? 0) + 1);
    } catch {
      // The host process is gone; its loop learns it at its next switch.
    }
  }

  /** Counts down one nudge sent to host process `pid`; false if none was outstanding. */
  #takeNudge(pid: number): boolean {
    const n = this.#nudges.get(pid) ?? 0;
    if (n === 0) return false;
    if (n === 1) this.#nudges.delete(pid);
    else this.#nudges.set(pid, n - 1);
    return true;
  }

  #destroyTask(task: PlatformTask): void {
    const th = this.#threads.get(task);
    if (!th || !th.host.alive) return;
    const g = th.task.group;
    // A dead process loses all its host threads at once, once the kernel has released the last
    // of its tasks (until then it still writes their clear_child_tid words and robust lists into
    // the process's memory), unless its host process also runs another process (a vfork child
    // in its parent's): then each loop ends its own thread. A thread that exits alone is ended by
    // its loop too (it is stopped at its exit call).
    if (g.tasks.size === 0 && this.#ownsHostProcess(th)) {
      try {
        th.host.kill();
      } catch (e) {
        // Already dead: nothing to free.
        if (!(e instanceof TrapError)) throw e;
      }
    } else if (th.running) {
      // Ended by another task (execve ends the other threads) while running app code: stop it
      // so that its loop ends it now.
      this.#interruptTask(task);
    }
  }
}

/**
 * Copies the host thread's user and system CPU time (clock ticks in /proc/<pid>/task/<tid>/stat)
 * into the task, for times(2), getrusage(2), wait4's rusage and /proc.
 */
function sampleCpu(host: HostTask, task: Task): void {
  if (host.cpuTicks(ticks) !== undefined) return; // the host thread is gone
  const ticksNs = 1_000_000_000n / BigInt(HOST_CLK_TCK);
  const utime = BigInt(ticks[0] ?? 0) * ticksNs;
  const stime = BigInt(ticks[1] ?? 0) * ticksNs;
  // Host counters only grow; a task that moved to a fresh host process (execve from a vfork
  // child) keeps what it had.
  if (utime > task.cpu.userNs) task.cpu.userNs = utime;
  if (stime > task.cpu.sysNs) task.cpu.sysNs = stime;
}

const ticks = new Float64Array(2);

/** The host's clock tick rate (sysconf(_SC_CLK_TCK), 100 on x86-64 Linux). */
const HOST_CLK_TCK = 100;

/**
 * Unmaps every page of a host address space but the stub's and those of `keep` (the kernel's
 * reserved ranges: the stub's again, and the host vDSO's pages when the sandbox uses them).
 */
export function clearAddressSpace(
  host: HostTask,
  keep: readonly { readonly start: number; readonly end: number }[] = [],
): undefined | LinuxError {
  const kept = [STUB_REGION, ...keep].sort((x, y) => x.start - y.start);
  let from = PAGE;
  for (const k of [...kept, { start: TASK_SIZE, end: TASK_SIZE }]) {
    if (k.start > from) {
      const r = host.hostSyscall(NR_MUNMAP, from, k.start - from);
      if (r < 0) return E.ENOMEM;
    }
    from = Math.max(from, k.end);
  }
  return undefined;
}

/**
 * True when delivery has something to look at: the kernel's full check (which builds a set) runs
 * only when some signal is pending at all, which is rare on the syscall fast path.
 */
function signalsPending(task: Task): boolean {
  if (task.pending.set.isEmpty() && task.group.sharedPending.set.isEmpty() && !task.group.exiting)
    return false;
  return task.hasInterruptingSignal();
}

function isRestart(res: unknown): res is ControlResult {
  return (
    res === ERESTARTSYS || res === ERESTARTNOINTR || res === ERESTARTNOHAND || res === ERESTART_RESTARTBLOCK
  );
}

function describe(e: unknown): string {
  return e instanceof Error ? (e.stack ?? e.message) : String(e);
}
