/**
 * Enforcement of a sandbox's cgroup limits (memory.max, cpu.max, pids.max) on the host.
 *
 * Two modes, chosen when the sandbox is assembled:
 * - `host-cgroup`: the supervisor creates a child cgroup v2 of its own cgroup (root, a cgroup2
 *   mount, and the memory and cpu controllers available there), writes the limits into it and
 *   moves the first stub process in; every later stub is a host fork of that one and inherits
 *   the cgroup. The host kernel then does the accounting, the throttling and the OOM kill (a stub
 *   the host kills with SIGKILL is, to the sandbox kernel, a process killed by SIGKILL).
 * - `supervisor`: no usable host cgroup (cgroup v1 or a hybrid layout, controllers not
 *   delegated, not root). The supervisor samples the resident memory of its stub processes on
 *   a timer and at syscall boundaries and kills the largest process with SIGKILL once the total
 *   passes memory.max; it throttles CPU by holding every trap loop at a gate (after nudging the
 *   threads that run application code) once the period's quota is used. Sampling means a
 *   process can pass memory.max by what it touches between two samples before it is killed.
 *
 * pids.max is always enforced by the sandbox kernel itself (clone fails with EAGAIN); the host
 * cgroup's pids.max is only a backstop.
 *
 * @module
 */
import { Signal } from '@tsvisor/abi';
import { KernelProcSource, type Kernel, type SandboxLimits } from '@tsvisor/kernel';
import type { ProcCgroup } from '@tsvisor/procfs';
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Machine } from './machine.js';

/** Which mechanism enforces memory.max and cpu.max. */
export type LimitMode = 'host-cgroup' | 'supervisor';

/** The memory.events counters of a cgroup. */
export interface MemoryEvents {
  readonly max: number;
  readonly oom: number;
  readonly oomKill: number;
}

/** cpu.stat's figures: usage (nanoseconds) and the cpu controller's throttling counters. */
export interface CpuStat {
  readonly userNs: number;
  readonly systemNs: number;
  readonly nrPeriods: number;
  readonly nrThrottled: number;
  readonly throttledUs: number;
}

/** What a limiter needs to see and do in the supervisor (implemented over the Machine). */
export interface LimitTarget {
  /** Host process ids of the sandbox's stubs (each once). */
  hostProcesses(): readonly number[];
  /** Host thread ids of process `pid` that run sandbox tasks. */
  hostThreads(pid: number): readonly number[];
  /** Kills the sandboxed processes that run in host process `pid` with SIGKILL. */
  oomKill(pid: number): void;
  /** Holds every trap loop (tasks running application code are stopped first). */
  pause(): void;
  /** Releases the loops held by {@link pause}. */
  resume(): void;
}

/** Resident bytes of host process `pid` (anon + file + shmem), or null when it is gone. */
export type ResidentOf = (pid: number) => number | null;

/**
 * Enforces memory.max and cpu.max for one sandbox run, in one of the {@link LimitMode}s.
 * Lifecycle: {@link start} with the first stub, {@link stop} once every stub is dead.
 */
export interface ResourceControl {
  readonly mode: LimitMode;
  /** Why the host cgroup was not used (supervisor mode only). */
  readonly reason?: string | undefined;
  /** Begins enforcement; `firstStub` is the host pid of the first stub process. */
  start(firstStub: number): void;
  /** A syscall boundary: the supervisor mode samples memory there (rate-limited). */
  atSyscall(): void;
  /** memory.current as this mode measures it, or undefined to use the kernel's figure. */
  memoryCurrent(): number | undefined;
  /** memory.peak as this mode measures it, or undefined to use the kernel's figure. */
  memoryPeak(): number | undefined;
  /** memory.events. */
  memoryEvents(): MemoryEvents;
  /** cpu.stat, or undefined to use the kernel's CPU times (and no throttling figures). */
  cpuStat(): CpuStat | undefined;
  /** Ends enforcement and removes what {@link start} created on the host. */
  stop(): Promise<void>;
}

/** The result of {@link probeHostCgroup}. */
export type HostCgroupProbe =
  { readonly usable: true; readonly parent: string } | { readonly usable: false; readonly reason: string };

const NEEDED = ['memory', 'cpu'] as const;

/**
 * Finds whether this process may create a child cgroup v2 with the memory and cpu controllers
 * under `parent`: by default its own cgroup (`0::/path` in /proc/self/cgroup on the cgroup2
 * mount), or a delegated cgroup directory the operator prepared (as runc's cgroup parent). It
 * must be root, and the controllers must be in the parent's cgroup.controllers. When they are
 * not yet in its cgroup.subtree_control they are enabled, which Linux refuses (EBUSY) in a
 * non-root cgroup that holds processes: a supervisor outside the root cgroup therefore needs a
 * `parent` that holds no processes.
 */
export function probeHostCgroup(parent?: string): HostCgroupProbe {
  if (process.getuid?.() !== 0) return { usable: false, reason: 'not root' };
  if (parent === undefined) {
    const mount = cgroup2Mount();
    if (mount === undefined) return { usable: false, reason: 'no cgroup2 mount' };
    const own = /^0::(\/.*)$/m.exec(readOr('/proc/self/cgroup'))?.[1];
    if (own === undefined) return { usable: false, reason: 'no cgroup v2 membership in /proc/self/cgroup' };
    parent = join(mount, own);
  } else if (!existsSync(join(parent, 'cgroup.controllers')))
    return { usable: false, reason: `${parent} is not a cgroup v2 directory` };
  const controllers = words(readOr(join(parent, 'cgroup.controllers')));
  const missing = NEEDED.filter((c) => !controllers.includes(c));
  if (missing.length > 0)
    return { usable: false, reason: `controllers ${missing.join(', ')} not available in ${parent}` };
  const enabled = words(readOr(join(parent, 'cgroup.subtree_control')));
  const wanted = [...NEEDED, ...(controllers.includes('pids') ? ['pids'] : [])].filter(
    (c) => !enabled.includes(c),
  );
  if (wanted.length > 0) {
    try {
      writeFileSync(join(parent, 'cgroup.subtree_control'), wanted.map((c) => `+${c}`).join(' '));
    } catch (e) {
      return { usable: false, reason: `cannot enable ${wanted.join(', ')} in ${parent}: ${message(e)}` };
    }
  }
  return { usable: true, parent };
}

/** Where cgroup2 is mounted (the first such line of /proc/self/mountinfo). */
function cgroup2Mount(): string | undefined {
  for (const line of readOr('/proc/self/mountinfo').split('\n')) {
    const [pre, post] = line.split(' - ');
    if (post?.split(' ')[0] === 'cgroup2') return pre?.split(' ')[4];
  }
  return undefined;
}

let counter = 0;

/**
 * A child cgroup v2 created for one sandbox, named `tsvisor-<supervisor pid>-<n>` under `parent`.
 * Throws when the directory or a limit cannot be written (the caller falls back to the
 * supervisor mode).
 */
export class HostCgroup implements ResourceControl {
  readonly mode = 'host-cgroup';
  /** The cgroup's directory on the host. */
  readonly dir: string;
  #peak = 0;

  constructor(parent: string, limits: SandboxLimits) {
    this.dir = join(parent, `tsvisor-${process.pid}-${++counter}`);
    mkdirSync(this.dir);
    try {
      const mem = limits.memoryMax;
      if (mem !== undefined && mem !== null) {
        this.#write('memory.max', String(mem));
        // Without swap off, a cgroup over memory.max swaps instead of being OOM-killed.
        if (existsSync(join(this.dir, 'memory.swap.max'))) this.#write('memory.swap.max', '0');
      }
      const quota = limits.cpuQuotaUs;
      if (quota !== undefined && quota !== null)
        this.#write('cpu.max', `${quota} ${limits.cpuPeriodUs ?? 100000}`);
      const pids = limits.pidsMax;
      // A backstop only: the sandbox kernel counts tasks itself; the host also counts the
      // transient stub forks of exec, hence the slack.
      if (pids !== undefined && pids !== null && existsSync(join(this.dir, 'pids.max')))
        this.#write('pids.max', String(pids + 16));
    } catch (e) {
      rmdirSync(this.dir);
      throw e;
    }
  }

  #write(file: string, value: string): void {
    writeFileSync(join(this.dir, file), value);
  }

  #keyed(file: string): Map<string, number> {
    const out = new Map<string, number>();
    for (const line of readOr(join(this.dir, file)).split('\n')) {
      const [k, v] = line.split(' ');
      if (k && v !== undefined) out.set(k, Number(v));
    }
    return out;
  }

  start(firstStub: number): void {
    this.#write('cgroup.procs', String(firstStub));
  }

  atSyscall(): void {}

  memoryCurrent(): number {
    const v = Number(readOr(join(this.dir, 'memory.current')).trim() || 0);
    this.#peak = Math.max(this.#peak, v);
    return v;
  }

  memoryPeak(): number {
    // memory.peak exists from Linux 5.19; before that, the highest value read.
    const text = readOr(join(this.dir, 'memory.peak')).trim();
    return text === '' ? Math.max(this.#peak, this.memoryCurrent()) : Number(text);
  }

  memoryEvents(): MemoryEvents {
    const m = this.#keyed('memory.events');
    return { max: m.get('max') ?? 0, oom: m.get('oom') ?? 0, oomKill: m.get('oom_kill') ?? 0 };
  }

  cpuStat(): CpuStat {
    const m = this.#keyed('cpu.stat');
    return {
      userNs: (m.get('user_usec') ?? 0) * 1000,
      systemNs: (m.get('system_usec') ?? 0) * 1000,
      nrPeriods: m.get('nr_periods') ?? 0,
      nrThrottled: m.get('nr_throttled') ?? 0,
      throttledUs: m.get('throttled_usec') ?? 0,
    };
  }

  /** Removes the cgroup once its processes are gone (killing leftovers through cgroup.kill). */
  async stop(): Promise<void> {
    if (!existsSync(this.dir)) return;
    for (let i = 0; i < 200; i++) {
      if (/^populated 0$/m.test(readOr(join(this.dir, 'cgroup.events')))) break;
      if (i === 20 && existsSync(join(this.dir, 'cgroup.kill'))) this.#write('cgroup.kill', '1');
      await new Promise((r) => setTimeout(r, 10));
    }
    rmdirSync(this.dir);
  }
}

/** Options of a {@link SupervisorLimiter}. */
export interface SupervisorLimiterOptions {
  /** Memory sampling period in milliseconds (default 10). */
  readonly sampleMs?: number;
  /** Resident bytes of a host process; default from /proc/<pid>/status. */
  readonly residentOf?: ResidentOf;
  /** On-CPU nanoseconds of a host thread; default from /proc/<pid>/task/<tid>/schedstat. */
  readonly cpuNsOf?: (pid: number, tid: number) => number | null;
}

/**
 * The supervisor-side enforcement (see the module comment): memory by sampling resident sizes,
 * CPU by gating the trap loops. The memory figures it shows are the host's resident sizes.
 */
export class SupervisorLimiter implements ResourceControl {
  readonly mode = 'supervisor';
  readonly #memMax: number | null;
  readonly #quotaNs: number | null;
  readonly #periodMs: number;
  readonly #sampleMs: number;
  readonly #residentOf: ResidentOf;
  readonly #cpuNsOf: (pid: number, tid: number) => number | null;
  #timers: NodeJS.Timeout[] = [];
  #lastSample = 0;
  #current = 0;
  #peak = 0;
  #events = { max: 0, oom: 0, oomKill: 0 };
  /** Last CPU figure per host thread (`pid/tid`), to charge only what was used since. */
  #cpuSeen = new Map<string, number>();
  /** CPU nanoseconds used in this period beyond what was allowed (carried into the next). */
  #usedNs = 0;
  #paused = false;
  #periods = 0;
  #throttled = 0;
  #throttledNs = 0;
  #pausedAt = 0;
  #running = false;

  constructor(
    limits: SandboxLimits,
    private readonly target: LimitTarget,
    /** Why the host cgroup was not used. */
    readonly reason?: string,
    opts: SupervisorLimiterOptions = {},
  ) {
    this.#memMax = limits.memoryMax ?? null;
    this.#quotaNs =
      limits.cpuQuotaUs === undefined || limits.cpuQuotaUs === null ? null : limits.cpuQuotaUs * 1000;
    this.#periodMs = (limits.cpuPeriodUs ?? 100000) / 1000;
    this.#sampleMs = opts.sampleMs ?? 10;
    this.#residentOf = opts.residentOf ?? hostRss;
    this.#cpuNsOf = opts.cpuNsOf ?? hostThreadCpuNs;
  }

  start(_firstStub: number): void {
    this.#running = true;
    if (this.#memMax !== null) this.#timers.push(setInterval(() => this.sampleMemory(), this.#sampleMs));
    if (this.#quotaNs !== null) {
      // Usage is checked several times a period so that a loop is stopped soon after the quota.
      const check = Math.max(1, Math.min(this.#periodMs / 10, 10));
      this.#timers.push(setInterval(() => this.#checkCpu(), check));
      this.#timers.push(setInterval(() => this.#newPeriod(), this.#periodMs));
    }
  }

  atSyscall(): void {
    if (this.#memMax === null || !this.#running) return;
    const now = performance.now();
    if (now - this.#lastSample >= 2) this.sampleMemory(now);
  }

  /**
   * Sums the resident memory of the stub processes; past memory.max, kills the largest with
   * SIGKILL (the OOM killer's choice by badness, which is mostly resident size) and counts it in
   * memory.events. Returns the host pid killed, if any.
   */
  sampleMemory(now = performance.now()): number | undefined {
    this.#lastSample = now;
    let total = 0;
    let victim: number | undefined;
    let victimRss = -1;
    for (const pid of this.target.hostProcesses()) {
      const rss = this.#residentOf(pid);
      if (rss === null) continue;
      total += rss;
      if (rss > victimRss) {
        victim = pid;
        victimRss = rss;
      }
    }
    this.#current = total;
    this.#peak = Math.max(this.#peak, total);
    if (this.#memMax === null || total <= this.#memMax || victim === undefined) return undefined;
    this.#events = {
      max: this.#events.max + 1,
      oom: this.#events.oom + 1,
      oomKill: this.#events.oomKill + 1,
    };
    this.target.oomKill(victim);
    return victim;
  }

  /** Charges the CPU used since the last check; stops the loops when the quota is used up. */
  #checkCpu(): void {
    for (const pid of this.target.hostProcesses())
      for (const tid of this.target.hostThreads(pid)) {
        const ns = this.#cpuNsOf(pid, tid);
        if (ns === null) continue;
        const key = `${pid}/${tid}`;
        const seen = this.#cpuSeen.get(key);
        // A thread seen for the first time is charged from its start.
        this.#usedNs += ns - (seen ?? 0);
        this.#cpuSeen.set(key, ns);
      }
    if (!this.#paused && this.#quotaNs !== null && this.#usedNs >= this.#quotaNs) {
      this.#paused = true;
      this.#pausedAt = performance.now();
      this.#throttled++;
      this.target.pause();
    }
  }

  /** A new period: its quota is what is left after the previous period's overrun. */
  #newPeriod(): void {
    this.#checkCpu();
    this.#periods++;
    const quota = this.#quotaNs ?? 0;
    this.#usedNs = Math.max(0, this.#usedNs - quota);
    if (this.#paused && this.#usedNs < quota) {
      this.#paused = false;
      this.#throttledNs += (performance.now() - this.#pausedAt) * 1e6;
      this.target.resume();
    }
  }

  memoryCurrent(): number | undefined {
    return this.#memMax === null ? undefined : this.#current;
  }

  memoryPeak(): number | undefined {
    return this.#memMax === null ? undefined : this.#peak;
  }

  memoryEvents(): MemoryEvents {
    return this.#events;
  }

  cpuStat(): CpuStat | undefined {
    return undefined;
  }

  /** Throttling counters for cpu.stat (the usage comes from the kernel's CPU times). */
  throttling(): { nrPeriods: number; nrThrottled: number; throttledUs: number } {
    return {
      nrPeriods: this.#periods,
      nrThrottled: this.#throttled,
      throttledUs: Math.floor(this.#throttledNs / 1000),
    };
  }

  stop(): Promise<void> {
    this.#running = false;
    for (const t of this.#timers) clearInterval(t);
    this.#timers = [];
    if (this.#paused) {
      this.#paused = false;
      this.target.resume();
    }
    return Promise.resolve();
  }
}

/**
 * The enforcement for `limits`: a host cgroup (under `cgroupParent`, default the supervisor's
 * own cgroup) when {@link probeHostCgroup} finds one usable and
 * `mode` does not force the supervisor; otherwise a {@link SupervisorLimiter}. Undefined when
 * there is neither memory.max nor cpu.max to enforce.
 */
export function createResourceControl(
  limits: SandboxLimits,
  target: LimitTarget,
  mode?: LimitMode,
  cgroupParent?: string,
): ResourceControl | undefined {
  const mem = limits.memoryMax ?? null;
  const cpu = limits.cpuQuotaUs ?? null;
  if (mem === null && cpu === null) return undefined;
  let reason = 'forced by the limitMode option';
  if (mode !== 'supervisor') {
    const probe = probeHostCgroup(cgroupParent);
    if (probe.usable) {
      try {
        return new HostCgroup(probe.parent, limits);
      } catch (e) {
        reason = `cannot create a host cgroup in ${probe.parent}: ${message(e)}`;
      }
    } else reason = probe.reason;
    if (mode === 'host-cgroup') throw new Error(`no usable host cgroup v2: ${reason}`);
  }
  return new SupervisorLimiter(limits, target, reason);
}

/** Resident bytes of host process `pid` (VmRSS), or null when it is gone. */
function hostRss(pid: number): number | null {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readOr(`/proc/${pid}/status`));
  return m ? Number(m[1]) * 1024 : null;
}

/** On-CPU nanoseconds of a host thread (the first field of its schedstat), or null when gone. */
function hostThreadCpuNs(pid: number, tid: number): number | null {
  const text = readOr(`/proc/${pid}/task/${tid}/schedstat`);
  return text === '' ? null : Number(text.split(' ')[0]);
}

function readOr(path: string): string {
  try {
    return readFileSync(path, 'latin1');
  } catch {
    return '';
  }
}

function words(s: string): string[] {
  return s.split(/\s+/).filter((w) => w !== '');
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * The limiter's view of a running sandbox: the host processes of `machine`, and OOM kills that
 * end the sandboxed processes in a host process with SIGKILL through `kernel`.
 */
export function machineLimitTarget(machine: Machine, kernel: Kernel): LimitTarget {
  return {
    hostProcesses: () => [...machine.hostProcesses().keys()],
    hostThreads: (pid) => machine.hostProcesses().get(pid) ?? [],
    oomKill: (pid) => {
      for (const task of machine.tasksInHost(pid))
        if (task.group.state === 'alive' && !task.group.exiting) kernel.killGroup(task.group, Signal.SIGKILL);
    },
    pause: () => machine.pause(),
    resume: () => machine.resume(),
  };
}

/**
 * A {@link KernelProcSource} whose cgroup figures (memory.current, memory.peak, memory.events,
 * cpu.stat) come from the sandbox's {@link ResourceControl} while it has one.
 */
export class LimitedProcSource extends KernelProcSource {
  /** The enforcement of the current run, set by the sandbox when it starts. */
  control: ResourceControl | undefined;

  override cgroup(): ProcCgroup {
    const base = super.cgroup();
    const c = this.control;
    if (c === undefined) return base;
    return {
      ...base,
      memoryCurrent: () => c.memoryCurrent() ?? base.memoryCurrent(),
      memoryPeak: () => c.memoryPeak() ?? base.memoryPeak?.() ?? 0,
      memoryEvents: () => c.memoryEvents(),
      cpuUsage: () => {
        const s = c.cpuStat();
        return s
          ? { userNs: s.userNs, systemNs: s.systemNs }
          : (base.cpuUsage?.() ?? { userNs: 0, systemNs: 0 });
      },
      cpuThrottling: () =>
        c.cpuStat() ??
        (c instanceof SupervisorLimiter ? c.throttling() : { nrPeriods: 0, nrThrottled: 0, throttledUs: 0 }),
    };
  }
}
