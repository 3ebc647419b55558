/**
 * The ptrace platform: {@link Platform} creates {@link Stub}s (host processes that run sandboxed
 * code), and each stub's threads and forked processes are {@link Task}s that TypeScript drives
 * one event at a time with {@link Task.switch}.
 *
 * Threading (see README.md): the JavaScript thread that first uses the platform is the ptrace
 * tracer. `switch()` resumes the task and waits for its next stop synchronously for at most
 * `waitBudgetUs`; a task that runs longer is waited for by a native helper thread and its event
 * arrives as a macrotask, so the event loop keeps running. A run of synchronous switches yields
 * to the event loop every `quantumMs`, so timers and I/O are never starved.
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import { E, errorOf, type LinuxError } from '@tsvisor/abi';
import { TrapError } from './errors.js';
import type { TaskEvent } from './events.js';
import {
  EV_EXITED,
  EV_FAULT,
  EV_KILLED,
  EV_PENDING,
  EV_SIGNAL,
  EV_SYSCALL,
  native,
  setEventSink,
  type Native,
} from './native.native.js';
import { Registers } from './registers.js';

/** Where the stub's own pages live; the application's address space must stay below `start`. */
export const STUB_REGION = Object.freeze({ start: 0x7ffffff00000, end: 0x7ffffff02000 });

/** Namespaces a stub can be created in (each maps to a `CLONE_NEW*` flag). */
export interface StubNamespaces {
  readonly user?: boolean;
  readonly mount?: boolean;
  readonly pid?: boolean;
  readonly net?: boolean;
  readonly ipc?: boolean;
  readonly uts?: boolean;
}

/** Options of {@link Platform.createStub}. */
export interface StubOptions {
  /** New namespaces for the stub (user maps the caller's uid/gid to 0). Default: none. */
  readonly namespaces?: StubNamespaces;
  /** Host fds to give the stub, as `[hostFd, fdInStub]` pairs. Nothing else is inherited. */
  readonly fds?: readonly (readonly [number, number])[];
  /**
   * Keep the host's vDSO (`[vdso]`, `[vvar]`, `[vvar_vclock]`) mapped in the stub, so a program
   * told about it (AT_SYSINFO_EHDR) reads the host's clocks without a trap. Only right when the
   * sandbox's clocks are the host's. Default false: the stub holds nothing but its own pages.
   */
  readonly vdso?: boolean;
}

/** One host special mapping kept in a stub: `[start, end)` and its name in /proc/<pid>/maps. */
export interface VdsoRange {
  readonly start: number;
  readonly end: number;
  /** `[vdso]`, `[vvar]` or `[vvar_vclock]`. */
  readonly name: string;
}

/**
 * Where the host's vDSO sits in a stub created with {@link StubOptions.vdso}: the code page(s)
 * and the data pages it reads. Stubs run without address randomisation, so every stub of the
 * host and every process forked from one has the same layout.
 */
export interface VdsoLayout {
  /** The `[vdso]` image (its start is AT_SYSINFO_EHDR). */
  readonly vdso: VdsoRange;
  /** The `[vvar]` (and on Linux 6.x `[vvar_vclock]`) data pages, lowest first. */
  readonly vvar: readonly VdsoRange[];
}

/** The `[vdso]`/`[vvar]` lines of a host process's maps, or null when it has no `[vdso]`. */
function readVdsoLayout(pid: number): VdsoLayout | null {
  let maps: string;
  try {
    maps = readFileSync(`/proc/${pid}/maps`, 'latin1');
  } catch {
    return null;
  }
  let vdso: VdsoRange | undefined;
  const vvar: VdsoRange[] = [];
  for (const line of maps.split('\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) .* (\[vdso\]|\[vvar\]|\[vvar_vclock\])$/.exec(line);
    if (!m) continue;
    const r = { start: parseInt(m[1] ?? '', 16), end: parseInt(m[2] ?? '', 16), name: m[3] ?? '' };
    if (r.name === '[vdso]') vdso = r;
    else vvar.push(r);
  }
  return vdso ? { vdso, vvar: vvar.sort((a, b) => a.start - b.start) } : null;
}

/**
 * Where the tracer and the stubs run. `'same-cpu'` (default) pins the tracer thread and every
 * stub to the CPU the tracer is on: on the 2-vCPU VMs this was measured on, a round trip is
 * ~9 µs on one CPU against ~40 µs across CPUs, because waking an idle vCPU costs 10-20 µs.
 * `'none'` leaves placement to the scheduler; `{ cpu }` pins to that CPU.
 */
export type Placement = 'same-cpu' | 'none' | { readonly cpu: number };

/** Options of {@link Platform.create}. */
export interface PlatformOptions {
  readonly placement?: Placement;
  /** How long `switch()` waits synchronously before handing the wait to a helper thread (µs). Default 500. */
  readonly waitBudgetUs?: number;
  /** Longest run of synchronous switches before yielding to the event loop (ms). Default 2. */
  readonly quantumMs?: number;
}

const CLONE_NEWNS = 0x00020000;
const CLONE_NEWUTS = 0x04000000;
const CLONE_NEWIPC = 0x08000000;
const CLONE_NEWUSER = 0x10000000;
const CLONE_NEWPID = 0x20000000;
const CLONE_NEWNET = 0x40000000;
const CLONE_PARENT = 0x00008000;
const SIGCHLD = 17;
/** clone flags of a new thread in the same host process. */
const THREAD_FLAGS = 0x00000100 | 0x00000200 | 0x00000400 | 0x00000800 | 0x00010000 | 0x00040000; // VM FS FILES SIGHAND THREAD SYSVSEM

type Resolver = (ev: TaskEvent) => void;

// Per-thread platform state: the addon is loaded once, whoever creates the first Platform.
const waiting = new Map<number, Resolver>();
let sliceStart = 0;
/** Switches since the clock was last read (see Task.switch). */
let sliceSwitches = 0;
let pinnedCpu = -1;
let pinUsers = 0;

function eventFrom(nat: Native, code: number): TaskEvent {
  const i = nat.info;
  switch (code) {
    case EV_SYSCALL:
      return {
        kind: 'syscall',
        nr: i[1] as number,
        args: [
          i[2] as number,
          i[3] as number,
          i[4] as number,
          i[5] as number,
          i[6] as number,
          i[7] as number,
        ],
      };
    case EV_FAULT:
      return { kind: 'fault', signo: i[1] as number, code: i[2] as number, addr: i[3] as number };
    case EV_SIGNAL:
      return {
        kind: 'signal',
        signo: i[1] as number,
        code: i[2] as number,
        pid: i[3] as number,
        uid: i[4] as number,
      };
    case EV_EXITED:
      return { kind: 'exited', status: i[1] as number };
    case EV_KILLED:
      return { kind: 'killed', signo: i[1] as number, coreDumped: i[2] === 1 };
    default:
      throw new TrapError('EIO', `unknown event code ${code}`);
  }
}

function toResult(n: number): number | LinuxError {
  return n < 0 ? errorOf(-n) : n;
}

/**
 * The ptrace platform. One per supervisor is typical; several may coexist (they share the
 * tracer thread and its CPU placement).
 *
 * @example
 * ```ts
 * const platform = Platform.create();
 * const stub = platform.createStub();
 * const task = stub.task;
 * const addr = task.hostSyscall(9, 0x10000, 4096, 3, 0x32, -1, 0); // mmap inside the stub
 * task.writeMemory(addr, new TextEncoder().encode('hi'));
 * stub.kill();
 * platform.close();
 * ```
 */
export class Platform {
  readonly #nat: Native;
  readonly #budgetUs: number;
  readonly #quantumMs: number;
  readonly #cpu: number;
  readonly #stubs = new Set<Stub>();
  #closed = false;

  private constructor(nat: Native, options: PlatformOptions) {
    this.#nat = nat;
    this.#budgetUs = options.waitBudgetUs ?? 500;
    this.#quantumMs = options.quantumMs ?? 2;
    const placement = options.placement ?? 'same-cpu';
    if (placement === 'none') {
      this.#cpu = -1;
    } else {
      const want = placement === 'same-cpu' ? (pinnedCpu >= 0 ? pinnedCpu : nat.facts.cpu) : placement.cpu;
      if (pinUsers > 0 && want !== pinnedCpu)
        throw new TrapError('EINVAL', `the tracer is already pinned to CPU ${pinnedCpu}`);
      nat.addon.affinity(want);
      pinnedCpu = want;
      pinUsers++;
      this.#cpu = want;
    }
  }

  /** Loads the addon (this thread becomes the tracer) and applies the CPU placement. */
  static create(options: PlatformOptions = {}): Platform {
    const nat = native();
    setEventSink((tid, code) => {
      sliceStart = performance.now();
      const resolve = waiting.get(tid);
      if (!resolve) return;
      waiting.delete(tid);
      resolve(eventFrom(nat, code));
    });
    return new Platform(nat, options);
  }

  /** The pages the stub occupies in every address space. */
  get stubRegion(): { readonly start: number; readonly end: number } {
    return STUB_REGION;
  }

  /** Size in bytes of the FP/SSE/AVX (XSAVE) state that {@link Task.getFpRegs} returns. */
  get fpStateSize(): number {
    return this.#nat.facts.xstateSize;
  }

  /** The CPU the tracer and stubs are pinned to, or -1. */
  get cpu(): number {
    return this.#cpu;
  }

  /**
   * Starts a stub: a fresh host process (no_new_privs, default signal dispositions, only the
   * given fds, optional namespaces) that holds nothing but the stub's two pages at
   * {@link STUB_REGION}, stopped and ready for mmaps and memory writes.
   */
  createStub(options: StubOptions = {}): Stub {
    if (this.#closed) throw new TrapError('EINVAL', 'platform is closed');
    const ns = options.namespaces ?? {};
    const flags =
      (ns.user ? CLONE_NEWUSER : 0) |
      (ns.mount ? CLONE_NEWNS : 0) |
      (ns.pid ? CLONE_NEWPID : 0) |
      (ns.net ? CLONE_NEWNET : 0) |
      (ns.ipc ? CLONE_NEWIPC : 0) |
      (ns.uts ? CLONE_NEWUTS : 0);
    const pairs = options.fds ?? [];
    const fdMap = new Int32Array(pairs.length * 2);
    pairs.forEach(([host, target], k) => {
      fdMap[2 * k] = host;
      fdMap[2 * k + 1] = target;
    });
    const keepVdso = options.vdso === true;
    const tid = this.#nat.addon.spawnStub(this.#nat.stubPath, flags, fdMap, this.#cpu, keepVdso);
    const stub = new Stub(this, this.#nat, tid, keepVdso ? readVdsoLayout(tid) : null);
    this.#stubs.add(stub);
    return stub;
  }

  /**
   * Collects the deaths of stopped tasks (none inside {@link Task.switch}) that were killed from
   * outside the supervisor: the host's OOM killer, a `kill -9` of a stub process. Nothing else
   * notices them, and a process's leader, even one inside `switch()`, is reported dead only once
   * they are reaped. Returns the host tids of all stopped tasks whose death is known and not yet
   * reported (of every platform in this thread); each one's next `switch()` reports its death.
   */
  reapStopped(): number[] {
    return this.#nat.addon.reapStopped();
  }

  /** Kills every stub of this platform and releases the CPU pin when no platform needs it. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const s of this.#stubs) s.kill();
    this.#stubs.clear();
    if (this.#cpu >= 0 && --pinUsers === 0) {
      this.#nat.addon.affinity(-1);
      pinnedCpu = -1;
    }
  }

  /** @internal */
  get budgetUs(): number {
    return this.#budgetUs;
  }

  /** @internal */
  get quantumMs(): number {
    return this.#quantumMs;
  }

  /** @internal */
  dropStub(stub: Stub): void {
    this.#stubs.delete(stub);
  }
}

/**
 * One sandbox's host side: the first host process and every process and thread created from it
 * with {@link Task.hostClone}. Killing the stub kills all of them.
 */
export class Stub {
  /** The stub's first task (its host pid). */
  readonly task: Task;
  readonly #platform: Platform;
  readonly #nat: Native;
  #killed = false;

  /**
   * The host vDSO kept in this stub ({@link StubOptions.vdso}), or null: not asked for, or the
   * host has none (vdso=0 on the kernel command line).
   */
  readonly vdso: VdsoLayout | null;

  /** @internal */
  constructor(platform: Platform, nat: Native, tid: number, vdso: VdsoLayout | null = null) {
    this.#platform = platform;
    this.#nat = nat;
    this.task = new Task(platform, nat, tid, tid);
    this.vdso = vdso;
  }

  /** The host pid of the stub's first process. */
  get pid(): number {
    return this.task.tid;
  }

  /** True once {@link kill} ran. */
  get killed(): boolean {
    return this.#killed;
  }

  /**
   * SIGKILLs every host process of this sandbox and reaps them (no zombies). Tasks waiting in
   * `switch()` resolve with a `killed` event; other tasks report it on their next `switch()`.
   */
  kill(): void {
    if (this.#killed) return;
    this.#killed = true;
    // Any live task of the sandbox identifies it (the first one may have exited already).
    const any = [...this.task.family].find((t) => t.alive && !t.reaped);
    if (any) {
      this.#nat.addon.killSandbox(any.tid);
      for (const t of this.task.family) t.collectDeath();
    }
    this.#platform.dropStub(this);
  }
}

/**
 * A host thread of a stub, traced by the platform. All methods but {@link switch} require the
 * task to be stopped (after `switch()` resolved, or right after creation) and throw a
 * {@link TrapError} `EBUSY` while it runs, `ESRCH` once it is gone.
 */
export class Task {
  /** The host tid (also the platform's handle). */
  readonly tid: number;
  /** The host pid of the task's process. */
  readonly tgid: number;
  readonly #platform: Platform;
  readonly #nat: Native;
  readonly #family: Set<Task>;
  #alive = true;
  #switching = false;
  /** The death collected by kill(), reported by the next switch(). */
  #death: TaskEvent | undefined;

  /** @internal */
  constructor(platform: Platform, nat: Native, tid: number, tgid: number, family?: Set<Task>) {
    this.#platform = platform;
    this.#nat = nat;
    this.tid = tid;
    this.tgid = tgid;
    this.#family = family ?? new Set();
    this.#family.add(this);
  }

  /** False once an exit or death was reported by {@link switch}. */
  get alive(): boolean {
    return this.#alive;
  }

  /** @internal every task of the same sandbox created through this platform. */
  get family(): ReadonlySet<Task> {
    return this.#family;
  }

  /** @internal true once kill() collected this task's death (not yet reported by switch()). */
  get reaped(): boolean {
    return this.#death !== undefined;
  }

  /**
   * @internal After a kill: takes the task's death from the addon (which then forgets it), to be
   * reported by the next switch(). Tasks waiting in switch() get theirs from the helper thread.
   */
  collectDeath(): void {
    if (!this.#alive || this.#switching || this.#death) return;
    const code = this.#nat.addon.forget(this.tid);
    this.#death = eventFrom(this.#nat, code);
  }

  /**
   * Runs the task until its next event: a system call (not executed by the host), a fault, a
   * signal from outside, or its exit or death. Resolves synchronously-fast when the task stops
   * within the wait budget; otherwise the event arrives later while the event loop runs.
   */
  switch(): Promise<TaskEvent> {
    if (this.#switching)
      return Promise.reject(new TrapError('EBUSY', `task ${this.tid} is already switching`));
    if (!this.#alive) return Promise.reject(new TrapError('ESRCH', `task ${this.tid} has exited`));
    if (this.#death) return Promise.resolve(this.#settle(this.#death));
    // The clock is read at every 16th switch: in unoptimized code performance.now() costs about
    // what the rest of a switch's JavaScript does, and a slice may well run 15 switches over.
    if ((++sliceSwitches & 15) === 0 && performance.now() - sliceStart > this.#platform.quantumMs) {
      // Let timers and I/O run before continuing this run of synchronous switches.
      this.#switching = true;
      return new Promise<void>((r) => setImmediate(r)).then(() => {
        sliceStart = performance.now();
        this.#switching = false;
        return this.switch();
      });
    }
    const code = this.#nat.addon.resume(this.tid, this.#platform.budgetUs);
    if (code !== EV_PENDING) return Promise.resolve(this.#settle(eventFrom(this.#nat, code)));
    this.#switching = true;
    return new Promise<TaskEvent>((resolve) => {
      waiting.set(this.tid, (ev) => {
        this.#switching = false;
        resolve(this.#settle(ev));
      });
    });
  }

  #settle(ev: TaskEvent): TaskEvent {
    if (ev.kind === 'exited' || ev.kind === 'killed') {
      this.#alive = false;
      this.#family.delete(this);
    }
    return ev;
  }

  /**
   * The host thread's user and system CPU time in clock ticks (`sysconf(_SC_CLK_TCK)`, 100 on
   * x86-64), as `out[0]` and `out[1]`; running or stopped alike. `E.ESRCH` (or the errno of
   * reading its /proc stat file) once the thread is gone.
   */
  cpuTicks(out: Float64Array): undefined | LinuxError {
    const r = this.#nat.addon.cpuTicks(this.tgid, this.tid, out);
    return r < 0 ? errorOf(-r) : undefined;
  }

  /** Copies the user registers into `out` (or a new {@link Registers}). */
  getRegs(out: Registers = new Registers()): Registers {
    this.#nat.addon.getRegs(this.tid, out.raw);
    return out;
  }

  /** Sets all user registers, including fs_base/gs_base; throws `EINVAL` if the kernel refuses a value. */
  setRegs(regs: Registers): void {
    this.#nat.addon.setRegs(this.tid, regs.raw);
  }

  /** Sets rax only: the answer to the system call the task stopped at. */
  setSyscallResult(value: number | bigint): void {
    this.#nat.addon.setSyscallResult(this.tid, value);
  }

  /**
   * Gives the thread the 27 words of `regs` (kernel order, as {@link Registers.raw}), writing
   * only what differs from what it holds: nothing, rax alone (a system call's answer), or all
   * of them as {@link setRegs} does (and with its errors).
   */
  syncRegs(regs: BigUint64Array): void {
    this.#nat.addon.syncRegs(this.tid, regs);
  }

  /** The XSAVE area (FP, SSE, AVX state) as bytes, {@link Platform.fpStateSize} long. */
  getFpRegs(out: Uint8Array = new Uint8Array(this.#nat.facts.xstateSize)): Uint8Array {
    const n = this.#nat.addon.getFpRegs(this.tid, out);
    return out.subarray(0, n);
  }

  /** Replaces the XSAVE area; `state` must be exactly {@link Platform.fpStateSize} bytes. */
  setFpRegs(state: Uint8Array): void {
    this.#nat.addon.setFpRegs(this.tid, state);
  }

  /**
   * Reads the task's memory at `addr` into `buf`. Returns the number of bytes read, short when
   * the range runs into unmapped memory, or `E.EFAULT` when not even the first byte is readable
   * (any address outside the user range included).
   */
  readMemory(addr: number | bigint, buf: Uint8Array): number | LinuxError {
    return toResult(this.#nat.addon.readMemory(this.tid, addr, buf));
  }

  /** Writes `buf` at `addr`, honouring page protections; same results as {@link readMemory}. */
  writeMemory(addr: number | bigint, buf: Uint8Array): number | LinuxError {
    return toResult(this.#nat.addon.writeMemory(this.tid, addr, buf));
  }

  /** Gathers several ranges in one host call; stops at the first inaccessible byte. */
  readMemoryv(ranges: readonly { readonly addr: number; readonly buf: Uint8Array }[]): number | LinuxError {
    if (ranges.length === 0) return 0;
    return toResult(
      this.#nat.addon.readMemoryv(
        this.tid,
        Float64Array.from(ranges, (r) => r.addr),
        ranges.map((r) => r.buf),
      ),
    );
  }

  /** Scatters several buffers into the task in one host call. */
  writeMemoryv(ranges: readonly { readonly addr: number; readonly buf: Uint8Array }[]): number | LinuxError {
    if (ranges.length === 0) return 0;
    return toResult(
      this.#nat.addon.writeMemoryv(
        this.tid,
        Float64Array.from(ranges, (r) => r.addr),
        ranges.map((r) => r.buf),
      ),
    );
  }

  /**
   * Runs host system call `nr` inside the task (mmap, munmap, mprotect, mremap, madvise,
   * close, ...) and returns its raw result (`-errno` on failure), leaving the task's registers
   * as they were. Only for calls that do not block. A call that ends the thread (exit) returns
   * `-ESRCH`, and the next {@link switch} reports the exit. Use {@link hostClone} for clone and
   * fork; execve is refused.
   */
  hostSyscall(nr: number, ...args: (number | bigint)[]): number {
    return this.#nat.addon.hostSyscall(this.tid, nr, args[0], args[1], args[2], args[3], args[4], args[5]);
  }

  /**
   * Runs `clone(flags)` inside the task and returns the new task, traced and stopped before its
   * first instruction (set its registers, then switch it). Flags that take pointers, and
   * CLONE_VFORK, are refused; the kernel writes tids itself.
   */
  hostClone(flags: number): Task | LinuxError {
    const r = this.#nat.addon.hostClone(this.tid, flags);
    if (r < 0) return errorOf(-r);
    const isThread = (flags & 0x00010000) !== 0;
    return new Task(this.#platform, this.#nat, r, isThread ? this.tgid : r, this.#family);
  }

  /**
   * A new host process with a copy-on-write copy of this task's address space. The host parent
   * is the supervisor (CLONE_PARENT), so its exit is reaped without zombies; in a stub created
   * with a pid namespace the first process forks plainly (its children are reaped when it dies).
   */
  fork(): Task | LinuxError {
    return this.hostClone(CLONE_PARENT | SIGCHLD);
  }

  /** A new host thread in this task's process (shared address space). */
  newThread(): Task | LinuxError {
    return this.hostClone(THREAD_FLAGS);
  }

  /**
   * Gives the task's host process a copy of host fd `hostFd` (e.g. a memfd to mmap shared)
   * and returns its number there, or `E.EBADF` if `hostFd` is not open.
   */
  passFd(hostFd: number): number | LinuxError {
    if (!Number.isInteger(hostFd) || hostFd < 0) return E.EBADF;
    return toResult(this.#nat.addon.passFd(this.tid, hostFd));
  }

  /**
   * SIGKILLs the task's host process (all its threads). Stopped tasks of it report `killed` at
   * their next `switch()`; a task waiting in `switch()` resolves with it.
   */
  kill(): void {
    this.#nat.addon.kill(this.tid);
    for (const t of this.#family) if (t.tgid === this.tgid) t.collectDeath();
  }
}
