/**
 * The kernel seen through procfs's {@link ProcSource}: /proc and /sys read processes, memory,
 * files and the machine from here. Values are computed on each read from the live kernel state;
 * nothing is cached.
 *
 * @module
 */
import { E, OpenFlag, RLIM_INFINITY, type LinuxError } from '@tsvisor/abi';
import { mapsLine, renderSmaps, statusMemory, type AddressSpace as MmSpace } from '@tsvisor/mm';
import {
  vfsMounts,
  type ProcCaller,
  type ProcCpu,
  type ProcCreds,
  type ProcFd,
  type ProcKernelInfo,
  type ProcKmsg,
  type ProcSyscall,
  type ProcLayout,
  type ProcMeminfo,
  type ProcMemory,
  type ProcMount,
  type ProcRlimit,
  type ProcSignals,
  type ProcSource,
  type ProcTask,
  type ProcTimes,
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
import { randomUUID } from 'node:crypto';
import { cpus as hostCpus, freemem, totalmem } from 'node:os';
import { capable, type Credentials } from './creds/credentials.js';
import type { Kernel } from './kernel.js';
import { SIG_IGN } from './signal/signal-state.js';
import type { Syslog } from './syslog.js';
import type { Task } from './task/task.js';
import { TSVISOR_RELEASE, TSVISOR_VERSION } from './uts.js';

/** All 41 capabilities Linux 6.x defines (CAP_LAST_CAP = 40). */
const ALL_CAPS = (1n << 41n) - 1n;

function procCreds(c: Credentials): ProcCreds {
  const caps = capable(c) ? ALL_CAPS : 0n;
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
    capInh: 0n,
    capPrm: caps,
    capEff: caps,
    capBnd: ALL_CAPS,
    capAmb: 0n,
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
    // Anonymous-inode files (epoll, eventfd...) carry their name on anon_inodefs' location.
    const anon = anonInodeName(f.location);
    const path =
      anon !== null
        ? anon
        : type === 0o010000 && !f.location.name
          ? `pipe:[${st.ino}]`
          : type === 0o140000
            ? `socket:[${st.ino}]`
            : (this.path(f.location) ?? '');
    return {
      path,
      flags: f.getFlags() | (e.cloexec ? OpenFlag.O_CLOEXEC : 0),
      pos: f.offset,
      mntId: f.location.mount.id,
      ino: st.ino,
      location: f.location,
    };
  }

  smaps(): string {
    const m = this.model();
    return m && this.t.group.state === 'alive' ? renderSmaps(m) : '';
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
    return {
      vmPeak: s.VmPeak * kb,
      vmSize: s.VmSize * kb,
      vmLck: s.VmLck * kb,
      vmPin: 0,
      vmHWM: this.t.group.maxRssKib * kb,
      rssAnon: this.t.group.maxRssKib * kb,
      rssFile: 0,
      rssShmem: 0,
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

  sched(): { nice: number } {
    return { nice: this.t.group.nice };
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

  rlimits(): readonly ProcRlimit[] {
    return this.t.group.rlimits.map((l) => ({
      soft: l.cur === RLIM_INFINITY ? null : Number(l.cur),
      hard: l.max === RLIM_INFINITY ? null : Number(l.max),
    }));
  }
}

/**
 * The kernel's implementation of procfs's {@link ProcSource}. The caller (for /proc/self and
 * permission checks) is `kernel.current`, which the syscall layer sets on each syscall.
 *
 * @example
 * ```ts
 * const procfs = createProcfs(new KernelProcSource(kernel));
 * ```
 */
export class KernelProcSource implements ProcSource {
  private readonly bootUuid = randomUUID();
  private readonly starts = new WeakMap<Task, number>();
  private readonly bootRealtimeSec: number;

  constructor(private readonly k: Kernel) {
    this.bootRealtimeSec =
      Number(k.time.realtimeNs() / 1_000_000_000n) - Number(k.uptimeNs() / 1_000_000_000n);
  }

  /** @internal a VFS context rooted at the task's root, for path rendering. */
  context(t: Task): FsContext | undefined {
    const { root, cwd } = t.fs;
    if (!root || !cwd) return undefined;
    const c = t.group.creds;
    return {
      creds: { fsuid: c.fsuid, fsgid: c.fsgid, groups: c.groups, caps: capable(c) ? -1 : 0 },
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

  idleNs(): number {
    return Number(this.k.uptimeNs()) * this.k.cpuCount;
  }

  bootTimeSec(): number {
    return this.bootRealtimeSec;
  }

  hostname(): string {
    return Buffer.from(this.k.uts.hostnameBytes).toString('latin1');
  }

  setHostname(name: string): LinuxError | undefined {
    return this.k.uts.setHostname(new Uint8Array(Buffer.from(name.replace(/\n$/, ''), 'latin1')));
  }

  domainname(): string {
    return Buffer.from(this.k.uts.domainnameBytes).toString('latin1');
  }

  setDomainname(name: string): LinuxError | undefined {
    return this.k.uts.setDomainname(new Uint8Array(Buffer.from(name.replace(/\n$/, ''), 'latin1')));
  }

  kernel(): ProcKernelInfo {
    return {
      ostype: 'Linux',
      osrelease: TSVISOR_RELEASE,
      version: TSVISOR_VERSION,
      builder: 'tsvisor@sandbox',
    };
  }

  meminfo(): ProcMeminfo {
    const total = totalmem();
    const free = freemem();
    return { memTotal: total, memFree: free, memAvailable: free };
  }

  cpus(): readonly ProcCpu[] {
    const host = hostCpus();
    return Array.from({ length: this.k.cpuCount }, (_, i) => {
      const h = host[i] ?? host[0];
      return {
        vendorId: 'GenuineIntel',
        family: 6,
        model: 0,
        modelName: h?.model ?? 'tsvisor virtual CPU',
        stepping: 0,
        mhz: h?.speed ?? 0,
        cacheSizeKb: 0,
        flags: [
          'fpu',
          'vme',
          'de',
          'pse',
          'tsc',
          'msr',
          'pae',
          'mce',
          'cx8',
          'apic',
          'sep',
          'mtrr',
          'pge',
          'mca',
          'cmov',
          'pat',
          'pse36',
          'clflush',
          'mmx',
          'fxsr',
          'sse',
          'sse2',
          'syscall',
          'nx',
          'lm',
          'pni',
          'ssse3',
          'cx16',
          'sse4_1',
          'sse4_2',
          'popcnt',
        ],
        bogomips: 0,
        addressSizes: '46 bits physical, 48 bits virtual',
        cpuidLevel: 13,
      };
    });
  }

  loadavg(): readonly [number, number, number] {
    return [0, 0, 0];
  }

  lastPid(): number {
    return this.k.lastPid;
  }

  bootId(): string {
    return this.bootUuid;
  }

  /** /proc/kmsg: SYSLOG_ACTION_READ through a file (CAP_SYSLOG checked at open, as Linux). */
  kmsg(): ProcKmsg {
    return {
      open: () => {
        const t = this.k.current;
        if (t && !capable(t.group.creds)) return E.EPERM;
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
