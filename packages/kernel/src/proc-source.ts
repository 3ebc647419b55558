/**
 * The kernel seen through procfs's {@link ProcSource}: /proc and /sys read processes, memory,
 * files and the machine from here. Values are computed on each read from the live kernel state;
 * nothing is cached.
 *
 * @module
 */
import { Capability, E, OpenFlag, RLIM_INFINITY, type LinuxError } from '@tsvisor/abi';
import { PTY_SLAVE_MAJOR } from './tty/devpts.js';
import { controllingTty } from './tty/job-control.js';
import {
  DEFAULT_MAX_MAP_COUNT,
  DEFAULT_MMAP_MIN_ADDR,
  mapsLine,
  renderSmaps,
  statusMemory,
  type AddressSpace as MmSpace,
  meminfoTotals,
  type Vma,
  type VmaResidency,
} from '@tsvisor/mm';
import {
  nsfsName,
  vfsMounts,
  type NamespaceKind,
  type ProcCaller,
  type ProcCgroup,
  type ProcCpu,
  type ProcCpuTimes,
  type ProcCreds,
  type ProcFd,
  type ProcKernelInfo,
  type ProcKmsg,
  type ProcSyscall,
  type ProcSysvIpc,
  type ProcLayout,
  type ProcMeminfo,
  type ProcMemory,
  type ProcIo,
  type ProcMount,
  type ProcNetSource,
  type ProcRlimit,
  type ProcSignals,
  type ProcSource,
  type ProcTask,
  type ProcTimes,
  type ProcTunables,
  type TaskState,
} from '@tsvisor/procfs';
import {
  FileDescriptionImpl,
  WOULD_BLOCK,
  WaitQueue,
  anonInodeName,
  type FileDescription,
  type FsContext,
  type Location,
  type WouldBlock,
} from '@tsvisor/vfs';
import { readFileSync } from 'node:fs';
import { cpus as hostCpus, totalmem } from 'node:os';
import { NGROUPS_MAX, capable, effectiveLow, type Credentials } from './creds/credentials.js';
import { NR_OPEN } from './creds/rlimits.js';
import { procSysvIpc } from './ipc/proc-sysvipc.js';
import { randomUuid } from './random.js';
import type { Kernel } from './kernel.js';
import { SIG_IGN } from './signal/signal-state.js';
import type { Syslog } from './syslog.js';
import type { Task } from './task/task.js';
import { TSVISOR_RELEASE, TSVISOR_VERSION, type UtsNamespace } from './uts.js';

/**
 * The cgroup limits a sandbox runs under, as its config gives them (`null` or absent: no limit,
 * `max`). They are shown by /sys/fs/cgroup (memory.max, cpu.max, pids.max); pids.max is
 * enforced (clone fails with EAGAIN past it, as the pids controller does); memory.max is also
 * the MemTotal of /proc/meminfo, as container-aware kernels such as gVisor's show it.
 */
export interface SandboxLimits {
  /** memory.max in bytes. */
  readonly memoryMax?: number | null;
  /** cpu.max's quota in microseconds per period. */
  readonly cpuQuotaUs?: number | null;
  /** cpu.max's period in microseconds; default 100000. */
  readonly cpuPeriodUs?: number;
  /** pids.max: the most tasks (threads, zombies included) the sandbox may hold. */
  readonly pidsMax?: number | null;
}

/** What the embedder adds to the kernel's own state (host facts the kernel cannot see). */
export interface KernelProcSourceOptions {
  /**
   * Resident memory of the host process that runs task `tid` (see {@link hostResident}): the
   * kernel's memory model does not see page faults, the host does. Absent or null: none.
   */
  readonly resident?: (tid: number) => ResidentMemory | null;
  /**
   * Resident figures per mapping of the process running task `tid`, for smaps and smaps_rollup
   * (see {@link hostSmapsResidency}). Absent or null: the mappings show 0 resident.
   */
  readonly residency?: (tid: number) => ((v: Vma) => VmaResidency | undefined) | null;
  /**
   * The network namespace task `t` is in, for its /proc/<pid>/net (/proc/net is the reader's) and
   * /sys/class/net; absent: none shown.
   */
  readonly net?: (t: Task) => ProcNetSource | null;
  /** The host's /proc/cpuinfo text (tests pass their own); default read from the host. */
  readonly hostCpuinfo?: () => string;
  /** The host's physical memory in bytes; default `os.totalmem()`. */
  readonly hostMemory?: () => number;
}

const NOT_RESIDENT: ResidentMemory = { anon: 0, file: 0, shmem: 0 };

/** Resident memory of a process in bytes, by kind (status's RssAnon, RssFile, RssShmem). */
export interface ResidentMemory {
  readonly anon: number;
  readonly file: number;
  readonly shmem: number;
}

/**
 * The resident memory of host process `pid` from its /proc/<pid>/status, or null when it is
 * gone: what an embedder passes as {@link KernelProcSourceOptions.resident}.
 */
export function hostResident(pid: number): ResidentMemory | null {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'latin1');
  } catch {
    return null;
  }
  const kb = (name: string): number =>
    Number(new RegExp(`^${name}:\\s+(\\d+) kB$`, 'm').exec(status)?.[1] ?? 0) * 1024;
  return { anon: kb('RssAnon'), file: kb('RssFile'), shmem: kb('RssShmem') };
}

/**
 * Per-mapping resident figures of host process `pid`, from its /proc/<pid>/smaps: a model
 * mapping gets the sums of the host mappings that start inside it (the host may split or merge
 * what the model keeps as one). Null when the process is gone.
 */
export function hostSmapsResidency(pid: number): ((v: Vma) => VmaResidency | undefined) | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/smaps`, 'latin1');
  } catch {
    return null;
  }
  const host: { start: number; rss: number; pss: number; anonymous: number; swap: number }[] = [];
  let cur: (typeof host)[number] | undefined;
  for (const line of text.split('\n')) {
    const range = /^([0-9a-f]+)-[0-9a-f]+ /.exec(line);
    if (range) {
      cur = { start: parseInt(range[1] as string, 16), rss: 0, pss: 0, anonymous: 0, swap: 0 };
      host.push(cur);
      continue;
    }
    const field = /^(Rss|Pss|Anonymous|Swap):\s+(\d+) kB$/.exec(line);
    if (field && cur) {
      const key = (field[1] as string).toLowerCase() as 'rss' | 'pss' | 'anonymous' | 'swap';
      cur[key] = Number(field[2]) * 1024;
    }
  }
  return (v) => {
    let found = false;
    const r = { rss: 0, pss: 0, anonymous: 0, swap: 0 };
    for (const h of host) {
      if (h.start < v.start || h.start >= v.end) continue;
      found = true;
      r.rss += h.rss;
      r.pss += h.pss;
      r.anonymous += h.anonymous;
      r.swap += h.swap;
    }
    return found ? r : undefined;
  };
}

/**
 * Inode numbers of the sandbox's initial namespaces, which every task is in (network namespaces
 * made inside the sandbox aside).
 * Linux's fixed numbers for the initial namespaces (PROC_*_INIT_INO), and the first two
 * allocated ones for the mount and network namespaces, as a freshly booted host shows them.
 */
export const NAMESPACE_INODES: Readonly<Record<NamespaceKind, number>> = {
  cgroup: 0xeffffffb,
  ipc: 0xefffffff,
  mnt: 0xf0000001,
  net: 0xf0000000,
  pid: 0xeffffffc,
  pid_for_children: 0xeffffffc,
  time: 0xeffffffa,
  time_for_children: 0xeffffffa,
  user: 0xeffffffd,
  uts: 0xeffffffe,
};

/**
 * The CPUs of a host /proc/cpuinfo text, in order; empty when it cannot be parsed (the caller
 * then falls back to `os.cpus()`).
 */
export function parseCpuinfo(text: string): ProcCpu[] {
  const out: ProcCpu[] = [];
  for (const block of text.split(/\n\s*\n/)) {
    const f = new Map<string, string>();
    for (const line of block.split('\n')) {
      const i = line.indexOf(':');
      if (i > 0) f.set(line.slice(0, i).trim(), line.slice(i + 1).trim());
    }
    if (!f.has('processor')) continue;
    const num = (k: string): number => {
      const v = parseFloat(f.get(k) ?? '');
      return Number.isFinite(v) ? v : 0;
    };
    out.push({
      vendorId: f.get('vendor_id') ?? 'GenuineIntel',
      family: num('cpu family'),
      model: num('model'),
      modelName: f.get('model name') ?? 'unknown',
      stepping: num('stepping'),
      mhz: num('cpu MHz'),
      cacheSizeKb: num('cache size'),
      // Split on single spaces, so that the sandbox's line is the host's to the byte: some hosts
      // print runs of spaces in it (seen on 6.18: "pti        vmmcall").
      flags: f.get('flags')?.split(' ') ?? [],
      bogomips: num('bogomips'),
      addressSizes: f.get('address sizes') ?? '48 bits physical, 48 bits virtual',
      cpuidLevel: num('cpuid level'),
    });
  }
  return out;
}

/** The host's CPUs from node's view, when /proc/cpuinfo is unreadable. */
function cpusFromNode(): ProcCpu[] {
  return hostCpus().map((c) => ({
    vendorId: 'GenuineIntel',
    family: 6,
    model: 0,
    modelName: c.model,
    stepping: 0,
    mhz: c.speed,
    cacheSizeKb: 0,
    flags: ['fpu', 'tsc', 'cx8', 'cmov', 'mmx', 'fxsr', 'sse', 'sse2', 'syscall', 'nx', 'lm'],
    bogomips: 0,
    addressSizes: '48 bits physical, 48 bits virtual',
    cpuidLevel: 13,
  }));
}

/** FSHIFT, FIXED_1 and the decay factors of kernel/sched/loadavg.c (1, 5 and 15 minutes). */
const FSHIFT = 11n;
const FIXED_1 = 1n << FSHIFT;
const EXP = [1884n, 2014n, 2037n] as const;
/** LOAD_FREQ: 5 s + 1 tick, in ns. */
const LOAD_FREQ_NS = 5_010_000_000;

/** fixed_power_int(x, FSHIFT, n): x^n in fixed point, rounding each product. */
function fixedPower(x: bigint, n: number): bigint {
  let result = FIXED_1;
  let k = n;
  let b = x;
  const half = 1n << (FSHIFT - 1n);
  while (k > 0) {
    if (k & 1) result = (result * b + half) >> FSHIFT;
    k >>= 1;
    if (k === 0) break;
    b = (b * b + half) >> FSHIFT;
  }
  return result;
}

/** calc_load: one exponential decay step towards `active` (fixed point), rounding up when rising. */
function calcLoad(load: bigint, exp: bigint, active: bigint): bigint {
  let next = load * exp + active * (FIXED_1 - exp);
  if (active >= load) next += FIXED_1 - 1n;
  return next / FIXED_1;
}

/**
 * Linux's load average (kernel/sched/loadavg.c) over the sandbox's tasks: every LOAD_FREQ the
 * three averages decay towards the number of runnable tasks, in 11-bit fixed point. The kernel
 * has no tick, so the samples are taken when someone looks: the periods that passed since the
 * last look are applied at once with the count seen now, as Linux's calc_global_nohz catches up
 * after an idle (NO_HZ) stretch.
 */
export class LoadAverage {
  private readonly avenrun: [bigint, bigint, bigint] = [0n, 0n, 0n];
  private nextNs = LOAD_FREQ_NS;

  /** The averages at `nowNs` (ns since boot) given `active` runnable tasks now. */
  sample(nowNs: number, active: number): [number, number, number] {
    if (nowNs >= this.nextNs) {
      const n = 1 + Math.floor((nowNs - this.nextNs) / LOAD_FREQ_NS);
      const a = BigInt(Math.max(0, active)) * FIXED_1;
      for (let i = 0; i < 3; i++)
        this.avenrun[i] = calcLoad(this.avenrun[i] as bigint, fixedPower(EXP[i] as bigint, n), a);
      this.nextNs += n * LOAD_FREQ_NS;
    }
    return this.avenrun.map((v) => Number(v) / Number(FIXED_1)) as [number, number, number];
  }
}

/** set_max_threads: as many threads as 1/8 of memory holds 16 KiB kernel stacks (20..2^30-1). */
function maxThreads(memBytes: number): number {
  return Math.min(0x3fffffff, Math.max(20, Math.floor(memBytes / (16384 * 8))));
}

function procCreds(c: Credentials): ProcCreds {
  return {
    ruid: c.uid,
    euid: c.euid,
    suid: c.suid,
    fsuid: c.fsuid,
    rgid: c.gid,
    egid: c.egid,
    sgid: c.sgid,
    fsgid: c.fsgid,
    groups: c.groups,
    capInh: c.inheritable,
    capPrm: c.permitted,
    capEff: c.effective,
    capBnd: c.bounding,
    capAmb: c.ambient,
  };
}

/** A task as procfs sees it. */
class KernelProcTask implements ProcTask {
  constructor(
    private readonly kernel: Kernel,
    private readonly t: Task,
    private readonly source: KernelProcSource,
  ) {}

  get tid(): number {
    return this.t.tid;
  }

  get tgid(): number {
    return this.t.tgid;
  }

  comm(): string {
    return this.t.comm;
  }

  setComm(name: string): LinuxError | undefined {
    this.t.comm = name.slice(0, 15);
    return undefined;
  }

  state(): TaskState {
    const g = this.t.group;
    if (g.state === 'zombie') return 'Z';
    if (this.t.state !== 'alive') return 'X';
    if (g.stopped) return 'T';
    return this.t.blocked ? 'S' : 'R';
  }

  ppid(): number {
    return this.t.group.parent?.tgid ?? 0;
  }

  pgrp(): number {
    return this.t.group.pgrp.pgid;
  }

  session(): number {
    return this.t.group.session.sid;
  }

  /** The controlling terminal's device number (new_encode_dev of 136:N), 0 without one. */
  ttyNr(): number {
    const tty = controllingTty(this.t.group);
    return tty ? ((tty.index & 0xff) | (PTY_SLAVE_MAJOR << 8) | ((tty.index & ~0xff) << 12)) >>> 0 : 0;
  }

  /** The controlling terminal's foreground process group: -1 without a terminal. */
  tpgid(): number {
    const tty = controllingTty(this.t.group);
    return tty ? (tty.pgrp?.pgid ?? 0) : -1;
  }

  creds(): ProcCreds {
    return procCreds(this.t.group.creds);
  }

  umask(): number {
    return this.t.fs.umask;
  }

  threads(): readonly number[] {
    return [...this.t.group.tasks].map((x) => x.tid).sort((a, b) => a - b);
  }

  private model(): MmSpace | undefined {
    const m = this.t.mm.model as MmSpace | undefined;
    return m && typeof m.list === 'function' ? m : undefined;
  }

  private range(from: number, to: number): Uint8Array | LinuxError {
    if (to <= from) return new Uint8Array(0);
    return this.t.memory.read(from, to - from);
  }

  cmdline(): Uint8Array | LinuxError {
    const m = this.model();
    if (!m || this.t.group.state !== 'alive') return new Uint8Array(0);
    return this.range(m.layout.argStart, m.layout.argEnd);
  }

  environ(): Uint8Array | LinuxError {
    const m = this.model();
    if (!m || this.t.group.state !== 'alive') return new Uint8Array(0);
    return this.range(m.layout.envStart, m.layout.envEnd);
  }

  private path(loc: unknown): string | null {
    const ctx = this.source.context(this.t);
    if (!loc || !ctx || !this.kernel.vfs) return null;
    return this.kernel.vfs.pathOf(ctx, loc as Location);
  }

  exe(): string | null {
    return this.path(this.t.exe);
  }

  cwd(): string | null {
    return this.path(this.t.fs.cwd);
  }

  root(): string | null {
    return this.path(this.t.fs.root);
  }

  /** The magic-link targets: the task's own locations, reached without resolving a path. */
  exeLocation(): Location | null {
    return (this.t.exe as Location | undefined) ?? null;
  }

  cwdLocation(): Location | null {
    return (this.t.fs.cwd as Location | undefined) ?? null;
  }

  rootLocation(): Location | null {
    return (this.t.fs.root as Location | undefined) ?? null;
  }

  fds(): readonly number[] {
    return this.t.state === 'alive' ? this.t.files.fds() : [];
  }

  fd(n: number): ProcFd | null {
    const e = this.t.files.entry(n);
    if (!e) return null;
    const f = e.file as FileDescription;
    if (typeof f.getFlags !== 'function') return null;
    const st = f.stat();
    const type = st.mode & 0o170000;
    // Anonymous-inode files (epoll, eventfd...) carry their name on anon_inodefs' location;
    // namespace files show their type and number (ns_dname).
    const named = anonInodeName(f.location) ?? nsfsName(f.location);
    const path =
      named !== null
        ? named
        : type === 0o010000 && !f.location.name
          ? `pipe:[${st.ino}]`
          : type === 0o140000
            ? `socket:[${st.ino}]`
            : (this.path(f.location) ?? '');
    // File types with more to say (timerfd, signalfd) give their lines through `fdinfo()`.
    const extra = (f.impl as { fdinfo?: () => readonly string[] }).fdinfo?.();
    return {
      path,
      flags: f.getFlags() | (e.cloexec ? OpenFlag.O_CLOEXEC : 0),
      pos: f.offset,
      mntId: f.location.mount.id,
      ino: st.ino,
      location: f.location,
      ...(extra ? { extra } : {}),
    };
  }

  /** smaps with the resident figures the embedder can give (the host's, per mapping). */
  smaps(): string {
    const m = this.model();
    if (!m || this.t.group.state !== 'alive') return '';
    const residency = this.source.residencyOf(this.t);
    return residency ? renderSmaps(m, residency) : renderSmaps(m);
  }

  /**
   * A task blocked in the kernel is inside the syscall its registers name (orig_rax, the
   * argument registers, rsp and rip as the trap left them); any other live task is running.
   */
  syscall(): ProcSyscall | null {
    if (this.t.state !== 'alive') return null;
    const r = this.t.regs;
    if (!this.t.blocked) return 'running';
    return { nr: r.syscallNr, args: r.syscallArgs(), sp: r.get('rsp'), pc: r.get('rip') };
  }

  maps(): readonly string[] {
    const m = this.model();
    return m ? m.list().map((v) => mapsLine(m, v)) : [];
  }

  memory(): ProcMemory | null {
    const m = this.model();
    if (!m || this.t.group.state !== 'alive') return null;
    const s = statusMemory(m);
    const kb = 1024;
    // Resident memory is the host's figure for the process running the task; its peak is kept
    // as ru_maxrss (getrusage) keeps it.
    const res = this.source.residentOf(this.t);
    const rss = res.anon + res.file + res.shmem;
    const g = this.t.group;
    g.maxRssKib = Math.max(g.maxRssKib, Math.ceil(rss / kb));
    return {
      vmPeak: s.VmPeak * kb,
      vmSize: s.VmSize * kb,
      vmLck: s.VmLck * kb,
      vmPin: 0,
      vmHWM: Math.max(g.maxRssKib * kb, rss),
      rssAnon: res.anon,
      rssFile: res.file,
      rssShmem: res.shmem,
      vmData: s.VmData * kb,
      vmStk: s.VmStk * kb,
      vmExe: s.VmExe * kb,
      vmLib: s.VmLib * kb,
      vmPTE: 0,
      vmSwap: 0,
    };
  }

  layout(): ProcLayout | null {
    const m = this.model();
    return m ? { ...m.layout } : null;
  }

  times(whole: boolean): ProcTimes {
    const g = this.t.group;
    const own = whole ? g.cpuTimes() : this.t.cpu;
    return {
      utimeNs: Number(own.userNs),
      stimeNs: Number(own.sysNs),
      cutimeNs: whole ? Number(g.childTimes.userNs) : 0,
      cstimeNs: whole ? Number(g.childTimes.sysNs) : 0,
      startNs: this.source.startNs(this.t),
    };
  }

  signals(): ProcSignals {
    const g = this.t.group;
    let ignored = 0n;
    let caught = 0n;
    for (let s = 1; s <= 64; s++) {
      const h = g.actions.get(s).handler;
      if (h === SIG_IGN) ignored |= 1n << BigInt(s - 1);
      else if (h > 1n) caught |= 1n << BigInt(s - 1);
    }
    return {
      pending: this.t.pending.set.toBigInt(),
      shared: g.sharedPending.set.toBigInt(),
      blocked: this.t.mask.toBigInt(),
      ignored,
      caught,
      queued: 0,
      queueLimit: 95_000,
    };
  }

  auxv(): Uint8Array | LinuxError {
    return this.t.group.auxv ?? new Uint8Array(16);
  }

  personality(): number {
    return this.t.group.personality;
  }

  sched(): { nice: number; policy: number; rtPriority: number } {
    return { nice: this.t.group.nice, policy: this.t.schedPolicy, rtPriority: this.t.schedRtPriority };
  }

  exitSignal(): number {
    return this.t.group.exitSignal;
  }

  exitCode(): number {
    return this.t.group.state === 'alive' ? 0 : this.t.group.exitStatus;
  }

  noNewPrivs(): boolean {
    return this.t.noNewPrivs;
  }

  dumpable(): boolean {
    return this.t.group.dumpable === 1;
  }

  mounts(): readonly ProcMount[] {
    const ctx = this.source.context(this.t);
    if (!ctx || !this.kernel.vfs) return [];
    return vfsMounts(this.kernel.vfs, ctx);
  }

  /** Counted by the read/write syscalls: this thread's, or the group's with exited threads. */
  io(whole: boolean): ProcIo {
    const a = whole ? this.t.group.ioac : this.t.ioac;
    return { ...a, readBytes: 0, writeBytes: 0, cancelledWriteBytes: 0 };
  }

  timerslackNs(): number {
    return this.t.timerSlackNs;
  }

  /** timerslack_ns_write: 0 restores the task's default slack. */
  setTimerslackNs(ns: bigint): LinuxError | undefined {
    this.t.timerSlackNs = ns === 0n ? this.t.defaultTimerSlackNs : Number(ns);
    return undefined;
  }

  namespaces(): Partial<Readonly<Record<NamespaceKind, number>>> {
    const net = this.t.netns;
    const uts = this.t.uts;
    if (net === undefined && uts === this.t.kernel.uts) return NAMESPACE_INODES;
    return { ...NAMESPACE_INODES, net: net?.inum ?? NAMESPACE_INODES.net, uts: uts.inum };
  }

  net(): ProcNetSource | null {
    return this.source.netNamespace(this.t);
  }

  rlimits(): readonly ProcRlimit[] {
    return this.t.group.rlimits.map((l) => ({
      soft: l.cur === RLIM_INFINITY ? null : Number(l.cur),
      hard: l.max === RLIM_INFINITY ? null : Number(l.max),
    }));
  }
}

/**
 * The kernel's implementation of procfs's {@link ProcSource}. The caller (for /proc/self and
 * permission checks) is `kernel.current`, which the syscall layer sets on each syscall. Host
 * facts the kernel cannot see (resident memory, the network namespace) come from `options`.
 *
 * @example
 * ```ts
 * const source = new KernelProcSource(kernel, { resident: (tid) => hostResident(hostPidOf(tid)) });
 * vfs.mount(ctx, ctx.cwd, '/proc', createProcfs(source));
 * vfs.mount(ctx, ctx.cwd, '/sys/fs/cgroup', createCgroupfs(source), MS_RDONLY);
 * ```
 */
export class KernelProcSource implements ProcSource {
  /** boot_id: made when first read (most sandboxes never read it), then the same for good. */
  private bootUuid: string | undefined;
  private readonly starts = new WeakMap<Task, number>();
  private readonly bootRealtimeSec: number;
  private readonly load = new LoadAverage();
  private hostCpuList: readonly ProcCpu[] | undefined;
  private memoryPeak = 0;

  constructor(
    private readonly k: Kernel,
    private readonly options: KernelProcSourceOptions = {},
  ) {
    this.bootRealtimeSec =
      Number(k.time.realtimeNs() / 1_000_000_000n) - Number(k.uptimeNs() / 1_000_000_000n);
  }

  /** @internal resident bytes of the host process running `t` (0 when unknown). */
  residentOf(t: Task): ResidentMemory {
    return this.options.resident?.(t.tid) ?? NOT_RESIDENT;
  }

  /** @internal per-mapping resident figures of the process running `t`, if the embedder has them. */
  residencyOf(t: Task): ((v: Vma) => VmaResidency | undefined) | null {
    return this.options.residency?.(t.tid) ?? null;
  }

  /** @internal the network namespace `t` is in, if the embedder gave the sandbox's. */
  netNamespace(t: Task): ProcNetSource | null {
    return this.options.net?.(t) ?? null;
  }

  /**
   * Bytes the sandbox uses: the resident memory of each address space once (threads and vfork
   * children share one).
   */
  private memoryUsed(): number {
    const seen = new Set<number>();
    let used = 0;
    for (const t of this.k.allTasks() as Task[]) {
      if (t.state !== 'alive' || t.group.state !== 'alive' || seen.has(t.mm.id)) continue;
      seen.add(t.mm.id);
      const r = this.residentOf(t);
      used += r.anon + r.file + r.shmem;
    }
    this.memoryPeak = Math.max(this.memoryPeak, used);
    return used;
  }

  /** MemTotal: the host's memory, or memory.max when the sandbox has a smaller one. */
  private memoryTotal(): number {
    const host = this.options.hostMemory?.() ?? totalmem();
    const max = this.k.limits.memoryMax;
    return max === undefined || max === null ? host : Math.min(host, max);
  }

  /** CPU time of every task that ever ran: live groups (exited threads included) and reaped ones. */
  private busyTimes(): { userNs: number; sysNs: number } {
    let userNs = 0;
    let sysNs = 0;
    for (const g of this.k.allThreadGroups()) {
      const c = g.cpuTimes();
      userNs += Number(c.userNs) + Number(g.childTimes.userNs);
      sysNs += Number(c.sysNs) + Number(g.childTimes.sysNs);
    }
    return { userNs, sysNs };
  }

  /** Tasks that are running or ready (not blocked in the kernel, not stopped): nr_running. */
  private runnable(): number {
    let n = 0;
    for (const t of this.k.allTasks() as Task[])
      if (t.state === 'alive' && t.group.state === 'alive' && !t.blocked && !t.group.stopped) n++;
    return n;
  }

  /** @internal a VFS context rooted at the task's root, for path rendering. */
  context(t: Task): FsContext | undefined {
    const { root, cwd } = t.fs;
    if (!root || !cwd) return undefined;
    const c = t.group.creds;
    return {
      creds: { fsuid: c.fsuid, fsgid: c.fsgid, groups: c.groups, caps: effectiveLow(c) },
      umask: t.fs.umask,
      root: root as Location,
      cwd: cwd as Location,
    };
  }

  /** @internal when the task was first seen (its start time since boot, ns). */
  startNs(t: Task): number {
    let s = this.starts.get(t);
    if (s === undefined) {
      s = Number(t.startNs);
      this.starts.set(t, s);
    }
    return s;
  }

  caller(): ProcCaller | null {
    const t = this.k.current;
    if (!t || t.state !== 'alive') return null;
    return { tgid: t.tgid, tid: t.tid, creds: procCreds(t.group.creds) };
  }

  pids(): readonly number[] {
    return this.k.allThreadGroups().map((g) => g.tgid);
  }

  task(tid: number): ProcTask | null {
    const t = this.k.task(tid) ?? this.k.threadGroup(tid)?.leader;
    return t ? new KernelProcTask(this.k, t as Task, this) : null;
  }

  uptimeNs(): number {
    return Number(this.k.uptimeNs());
  }

  /** The time the sandbox's CPUs were not running its tasks. */
  idleNs(): number {
    const b = this.busyTimes();
    return Math.max(0, Number(this.k.uptimeNs()) * this.k.cpuCount - b.userNs - b.sysNs);
  }

  /** /proc/stat's per-CPU lines: the sandbox's user and system time spread over its CPUs. */
  cpuTimes(): readonly ProcCpuTimes[] {
    const n = this.k.cpuCount;
    const b = this.busyTimes();
    const idle = this.idleNs();
    return Array.from({ length: n }, () => ({
      userNs: b.userNs / n,
      niceNs: 0,
      systemNs: b.sysNs / n,
      idleNs: idle / n,
      iowaitNs: 0,
      irqNs: 0,
      softirqNs: 0,
    }));
  }

  bootTimeSec(): number {
    return this.bootRealtimeSec;
  }

  /** The reader's UTS namespace (proc_do_uts_string's current->nsproxy->uts_ns). */
  private uts(): UtsNamespace {
    return this.k.current?.uts ?? this.k.uts;
  }

  hostname(): string {
    return Buffer.from(this.uts().hostnameBytes).toString('latin1');
  }

  setHostname(name: string): LinuxError | undefined {
    return this.uts().setHostname(new Uint8Array(Buffer.from(name.replace(/\n$/, ''), 'latin1')));
  }

  domainname(): string {
    return Buffer.from(this.uts().domainnameBytes).toString('latin1');
  }

  setDomainname(name: string): LinuxError | undefined {
    return this.uts().setDomainname(new Uint8Array(Buffer.from(name.replace(/\n$/, ''), 'latin1')));
  }

  kernel(): ProcKernelInfo {
    return {
      ostype: 'Linux',
      osrelease: TSVISOR_RELEASE,
      version: TSVISOR_VERSION,
      builder: 'tsvisor@sandbox',
    };
  }

  /**
   * MemTotal is the host's memory or the sandbox's memory.max; what the sandbox's processes have
   * resident is used (AnonPages), the rest free. Committed_AS, Mapped and Shmem are summed over
   * the sandbox's address spaces by the memory model ({@link meminfoTotals}: Mapped and Shmem are
   * upper bounds, since the model does not see page faults).
   */
  meminfo(): ProcMeminfo {
    const total = this.memoryTotal();
    const used = Math.min(total, this.memoryUsed());
    const spaces = new Map<number, MmSpace>();
    for (const t of this.k.allTasks() as Task[]) {
      const m = t.mm.model as MmSpace | undefined;
      if (m && typeof m.stats === 'function') spaces.set(t.mm.id, m);
    }
    const sums = meminfoTotals(spaces.values());
    return {
      memTotal: total,
      memFree: total - used,
      memAvailable: total - used,
      anonPages: used,
      activeAnon: used,
      active: used,
      mapped: Math.min(total, sums.mapped),
      shmem: Math.min(total, sums.shmem),
      committedAs: sums.committedAs,
      gigabytePages: this.cpus()[0]?.flags.includes('pdpe1gb') ?? true,
    };
  }

  /** The host's CPUs, as many as the sandbox reports, each described as the host does. */
  cpus(): readonly ProcCpu[] {
    if (this.hostCpuList === undefined) {
      let text = '';
      try {
        text = this.options.hostCpuinfo?.() ?? readFileSync('/proc/cpuinfo', 'latin1');
      } catch {
        text = '';
      }
      const parsed = parseCpuinfo(text);
      this.hostCpuList = parsed.length > 0 ? parsed : cpusFromNode();
    }
    const host = this.hostCpuList;
    return Array.from({ length: this.k.cpuCount }, (_, i) => host[Math.min(i, host.length - 1)] as ProcCpu);
  }

  loadavg(): readonly [number, number, number] {
    return this.load.sample(Number(this.k.uptimeNs()), this.runnable());
  }

  /**
   * The tunables the kernel applies (its fd, group and mapping limits, the listen backlog cap, the
   * POSIX message queue limits),
   * and threads-max derived from the sandbox's memory as Linux derives it.
   */
  tunables(): ProcTunables {
    const mq = this.k.ipc.mq.limits;
    return {
      mqQueuesMax: mq.queuesMax,
      mqMsgMax: mq.msgMax,
      mqMsgsizeMax: mq.msgsizeMax,
      mqMsgDefault: mq.msgDefault,
      mqMsgsizeDefault: mq.msgsizeDefault,
      ngroupsMax: NGROUPS_MAX,
      nrOpen: NR_OPEN,
      maxMapCount: DEFAULT_MAX_MAP_COUNT,
      mmapMinAddr: DEFAULT_MMAP_MIN_ADDR,
      threadsMax: maxThreads(this.memoryTotal()),
      // netstack caps listen backlogs at 4096 (tcp.ts, unix-socket.ts).
      somaxconn: 4096,
    };
  }

  /** The sandbox's cgroup: its limits, its memory and its tasks. */
  cgroup(): ProcCgroup {
    const l = this.k.limits;
    return {
      controllers: ['cpu', 'memory', 'pids'],
      memoryMax: l.memoryMax ?? null,
      cpuQuotaUs: l.cpuQuotaUs ?? null,
      cpuPeriodUs: l.cpuPeriodUs ?? 100000,
      pidsMax: l.pidsMax ?? null,
      memoryCurrent: () => this.memoryUsed(),
      // What clone's pids.max check counts: live tasks and unreaped zombie leaders.
      pidsCurrent: () => this.k.chargedTasks(),
      memoryPeak: () => this.memoryPeak,
      cpuUsage: () => {
        const b = this.busyTimes();
        return { userNs: b.userNs, systemNs: b.sysNs };
      },
    };
  }

  lastPid(): number {
    return this.k.lastPid;
  }

  bootId(): string {
    this.bootUuid ??= randomUuid();
    return this.bootUuid;
  }

  /** /proc/kmsg: SYSLOG_ACTION_READ through a file (CAP_SYSLOG checked at open, as Linux). */
  /** /proc/sysvipc: the sandbox's IPC namespace. */
  sysvipc(): ProcSysvIpc {
    return procSysvIpc(this.k.ipc);
  }

  kmsg(): ProcKmsg {
    return {
      open: () => {
        const t = this.k.current;
        if (t && !capable(t.group.creds, Capability.CAP_SYSLOG)) return E.EPERM;
        return new ProcKmsgFile(this.k.syslog);
      },
    };
  }

  filesystems(): readonly { readonly name: string; readonly nodev: boolean }[] {
    return [
      { name: 'sysfs', nodev: true },
      { name: 'tmpfs', nodev: true },
      { name: 'proc', nodev: true },
      { name: 'devtmpfs', nodev: true },
      { name: 'pipefs', nodev: true },
      { name: 'overlay', nodev: true },
    ];
  }
}

const POLLIN = 0x1;
const POLLRDNORM = 0x40;
const kmsgEnc = new TextEncoder();

/**
 * An open /proc/kmsg: each read consumes whole unread records in syslog format
 * (`<6>[    0.000000] text`), shared with syslog(2)'s SYSLOG_ACTION_READ, and waits when
 * nothing is unread (EAGAIN with O_NONBLOCK).
 */
class ProcKmsgFile extends FileDescriptionImpl {
  private readonly queue = new WaitQueue();
  private readonly unsubscribe: () => void;

  constructor(private readonly log: Syslog) {
    super();
    this.unsubscribe = log.onAppend(() => this.queue.notify(POLLIN | POLLRDNORM));
  }

  override read(dst: Uint8Array): number | LinuxError | WouldBlock {
    if (this.log.sizeUnread() === 0) return WOULD_BLOCK;
    const bytes = kmsgEnc.encode(this.log.consume(dst.length));
    // A buffer too small for the next whole record (Linux would hand it out in parts).
    if (bytes.length === 0) return E.EINVAL;
    dst.set(bytes);
    return bytes.length;
  }

  override readiness(mask: number): number {
    return this.log.sizeUnread() > 0 ? mask & (POLLIN | POLLRDNORM) : 0;
  }

  override get waitQueue(): WaitQueue {
    return this.queue;
  }

  override release(): void {
    this.unsubscribe();
  }
}
