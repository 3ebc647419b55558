/**
 * A fake kernel for procfs: {@link FixtureProcSource} implements {@link ProcSource} over plain
 * data that tests and simulations set directly. {@link FixtureProcSource.sample} builds a small
 * machine (an init shell, a threaded python, another user's sleep, a zombie).
 *
 * @module
 */

import { E } from '@tsvisor/abi';
import type { LinuxError } from '@tsvisor/abi';
import { FileDescriptionImpl } from '@tsvisor/vfs';
import type { Location } from '@tsvisor/vfs';
import type { ProcNetSource } from './net.js';
import type {
  ProcCaller,
  ProcCgroup,
  ProcCpu,
  ProcCreds,
  ProcFd,
  ProcIo,
  ProcKernelInfo,
  ProcKmsg,
  ProcSyscall,
  ProcLayout,
  ProcMeminfo,
  ProcMemory,
  NamespaceKind,
  ProcMount,
  ProcRlimit,
  ProcSched,
  ProcSignals,
  ProcSource,
  ProcTask,
  ProcTimes,
  ProcTunables,
  TaskState,
} from './source.js';

/** Capabilities 0..40 (CAP_CHOWN ... CAP_CHECKPOINT_RESTORE): a full set on Linux 6.x. */
const ALL_CAPS = (1n << 41n) - 1n;

/** Credentials with every id `uid`/`gid`; root (uid 0) gets the full capability sets. */
export function fixtureCreds(uid: number, gid: number, groups: readonly number[] = []): ProcCreds {
  const caps = uid === 0 ? ALL_CAPS : 0n;
  return {
    ruid: uid,
    euid: uid,
    suid: uid,
    fsuid: uid,
    rgid: gid,
    egid: gid,
    sgid: gid,
    fsgid: gid,
    groups,
    capInh: 0n,
    capPrm: caps,
    capEff: caps,
    capBnd: ALL_CAPS,
    capAmb: 0n,
  };
}

/** The data of one fixture task; every field may be changed by the test. */
export interface FixtureTaskData {
  tid: number;
  tgid: number;
  comm: string;
  state: TaskState;
  ppid: number;
  pgrp: number;
  session: number;
  creds: ProcCreds;
  umask: number;
  /** Arguments; cmdline is them joined with NULs, each NUL-terminated. */
  argv: string[];
  /** Environment entries `K=V`. */
  envp: string[];
  exe: string | null;
  cwd: string | null;
  root: string | null;
  fds: Map<number, ProcFd>;
  maps: string[];
  memory: ProcMemory | null;
  layout: ProcLayout | null;
  times: ProcTimes;
  sched: ProcSched;
  signals: ProcSignals;
  dumpable: boolean;
  rlimits: ProcRlimit[];
  oomScoreAdj: number;
  /** Makes cmdline reads fail (as a read of unmapped memory would: EFAULT...). */
  memoryError: LinuxError | null;
  /** Where exe, cwd and root are in a Vfs (for the magic links); absent: paths are resolved. */
  exeLocation?: Location | null;
  cwdLocation?: Location | null;
  rootLocation?: Location | null;
  /** The smaps text; absent: no smaps method (empty files). */
  smaps?: string;
  io?: ProcIo;
  /** The syscall the task is in; absent: no syscall file. */
  syscall?: ProcSyscall;
  timerslackNs?: number;
  loginuid?: number;
  sessionid?: number;
}

const MB = 1024 * 1024;

/** A memory footprint: `size` virtual bytes, `rss` resident (mostly anonymous). */
export function fixtureMemory(size: number, rss: number): ProcMemory {
  const page = (b: number): number => Math.floor(b / 4096) * 4096;
  return {
    vmPeak: page(size),
    vmSize: page(size),
    vmLck: 0,
    vmPin: 0,
    vmHWM: page(rss),
    rssAnon: page(rss / 4),
    rssFile: page(rss - rss / 4),
    rssShmem: 0,
    vmData: page(size / 8),
    vmStk: 132 * 1024,
    vmExe: 20 * 1024,
    vmLib: page(size / 2),
    vmPTE: 52 * 1024,
    vmSwap: 0,
  };
}

const LAYOUT: ProcLayout = {
  startCode: 0x555555554000,
  endCode: 0x555555559000,
  startData: 0x55555555bc30,
  endData: 0x55555555c280,
  startBrk: 0x55555555d000,
  brk: 0x55555557e000,
  startStack: 0x7ffffffde000,
  argStart: 0x7fffffffe5a0,
  argEnd: 0x7fffffffe5b4,
  envStart: 0x7fffffffe5b4,
  envEnd: 0x7fffffffefe5,
};

/** A task of the fixture, reading its {@link FixtureTaskData}. */
export class FixtureTask implements ProcTask {
  constructor(
    private readonly source: FixtureProcSource,
    /** The task's data, freely editable. */
    readonly data: FixtureTaskData,
  ) {}

  get tid(): number {
    return this.data.tid;
  }
  get tgid(): number {
    return this.data.tgid;
  }
  comm(): string {
    return this.data.comm;
  }
  setComm(name: string): LinuxError | undefined {
    this.data.comm = name;
    return undefined;
  }
  state(): TaskState {
    return this.data.state;
  }
  ppid(): number {
    return this.data.ppid;
  }
  pgrp(): number {
    return this.data.pgrp;
  }
  session(): number {
    return this.data.session;
  }
  creds(): ProcCreds {
    return this.data.creds;
  }
  umask(): number {
    return this.data.umask;
  }
  threads(): readonly number[] {
    return this.source.threadsOf(this.data.tgid);
  }
  cmdline(): Uint8Array | LinuxError {
    if (this.data.memoryError !== null) return this.data.memoryError;
    if (this.data.state === 'Z') return new Uint8Array(0);
    return nulJoined(this.data.argv);
  }
  environ(): Uint8Array | LinuxError {
    if (this.data.memoryError !== null) return this.data.memoryError;
    if (this.data.state === 'Z') return new Uint8Array(0);
    return nulJoined(this.data.envp);
  }
  exe(): string | null {
    return this.data.exe;
  }
  cwd(): string | null {
    return this.data.cwd;
  }
  root(): string | null {
    return this.data.root;
  }
  fds(): readonly number[] {
    return [...this.data.fds.keys()].sort((a, b) => a - b);
  }
  fd(n: number): ProcFd | null {
    return this.data.fds.get(n) ?? null;
  }
  maps(): readonly string[] {
    return this.data.maps;
  }
  exeLocation(): Location | null {
    return this.data.exeLocation ?? null;
  }
  cwdLocation(): Location | null {
    return this.data.cwdLocation ?? null;
  }
  rootLocation(): Location | null {
    return this.data.rootLocation ?? null;
  }
  smaps(): string {
    return this.data.smaps ?? '';
  }
  io(_whole: boolean): ProcIo {
    return (
      this.data.io ?? {
        rchar: 0,
        wchar: 0,
        syscr: 0,
        syscw: 0,
        readBytes: 0,
        writeBytes: 0,
        cancelledWriteBytes: 0,
      }
    );
  }
  syscall(): ProcSyscall | null {
    return this.data.syscall ?? null;
  }
  timerslackNs(): number {
    return this.data.timerslackNs ?? 50000;
  }
  setTimerslackNs(ns: bigint): LinuxError | undefined {
    this.data.timerslackNs = ns === 0n ? 50000 : Number(ns);
    return undefined;
  }
  loginuid(): number {
    return this.data.loginuid ?? 4294967295;
  }
  setLoginuid(uid: number): LinuxError | undefined {
    this.data.loginuid = uid;
    return undefined;
  }
  sessionid(): number {
    return this.data.sessionid ?? 4294967295;
  }
  memory(): ProcMemory | null {
    return this.data.memory;
  }
  layout(): ProcLayout | null {
    return this.data.layout;
  }
  /** The thread's own times, or the sum over the thread group's live threads when `whole`. */
  times(whole: boolean): ProcTimes {
    if (!whole) return this.data.times;
    let utimeNs = 0;
    let stimeNs = 0;
    for (const tid of this.threads()) {
      const t = this.source.tasks.get(tid)?.data.times;
      if (t === undefined) continue;
      utimeNs += t.utimeNs;
      stimeNs += t.stimeNs;
    }
    return { ...this.data.times, utimeNs, stimeNs };
  }
  sched(_whole: boolean): ProcSched {
    return this.data.sched;
  }
  signals(): ProcSignals {
    return this.data.signals;
  }
  dumpable(): boolean {
    return this.data.dumpable;
  }
  mounts(): readonly ProcMount[] {
    return this.source.mountTable;
  }
  rlimits(): readonly ProcRlimit[] {
    return this.data.rlimits;
  }
  oomScoreAdj(): number {
    return this.data.oomScoreAdj;
  }
  setOomScoreAdj(value: number): LinuxError | undefined {
    this.data.oomScoreAdj = value;
    return undefined;
  }
  net(): ProcNetSource | null {
    return this.source.netValue;
  }
  namespaces(): Partial<Readonly<Record<NamespaceKind, number>>> {
    return {
      ipc: 4026531839,
      mnt: 4026531832,
      net: 4026531833,
      pid: 4026531836,
      user: 4026531837,
      uts: 4026531838,
    };
  }
}

/** Linux's limits of a fresh root shell (init's defaults with nofile raised by the login). */
export function fixtureRlimits(): ProcRlimit[] {
  const inf = { soft: null, hard: null };
  return [
    inf, // cpu
    inf, // fsize
    inf, // data
    { soft: 8 * 1024 * 1024, hard: null }, // stack
    { soft: 0, hard: null }, // core
    inf, // rss
    { soft: 7787, hard: 7787 }, // nproc
    { soft: 1024, hard: 1048576 }, // nofile
    { soft: 8 * 1024 * 1024, hard: 8 * 1024 * 1024 }, // memlock
    inf, // as
    inf, // locks
    { soft: 7787, hard: 7787 }, // sigpending
    { soft: 819200, hard: 819200 }, // msgqueue
    { soft: 0, hard: 0 }, // nice
    { soft: 0, hard: 0 }, // rtprio
    inf, // rttime
  ];
}

function nulJoined(parts: readonly string[]): Uint8Array {
  const s = parts.map((p) => p + '\0').join('');
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i) & 0xff;
  return out;
}

/** What {@link FixtureProcSource.addProcess} takes: anything left out gets a plausible value. */
export type FixtureTaskInit = Partial<FixtureTaskData> & { tid: number };

/** A fake kernel: processes, threads, mounts and system figures held as plain data. */
export class FixtureProcSource implements ProcSource {
  /** Tasks by tid. */
  readonly tasks = new Map<number, FixtureTask>();
  /** The tid of the reading task (`caller()`), or null for an outside reader. */
  callerTid: number | null = null;
  hostnameValue = 'tsvisor';
  kernelInfo: ProcKernelInfo = {
    ostype: 'Linux',
    osrelease: '6.18.0-tsvisor',
    version: '#1 SMP PREEMPT_DYNAMIC tsvisor',
    builder: '(tsvisor@tsvisor) (fixture)',
  };
  meminfoValue: ProcMeminfo = {
    memTotal: 2048 * MB,
    memFree: 1536 * MB,
    memAvailable: 1800 * MB,
    cached: 200 * MB,
    anonPages: 100 * MB,
  };
  cpuList: ProcCpu[] = [0, 1].map(() => ({
    vendorId: 'GenuineIntel',
    family: 6,
    model: 85,
    modelName: 'tsvisor virtual CPU',
    stepping: 7,
    mhz: 2000,
    cacheSizeKb: 1024,
    flags: ['fpu', 'vme', 'de', 'pse', 'tsc', 'msr', 'pae', 'sse', 'sse2', 'syscall', 'nx', 'lm'],
    bogomips: 4000,
    addressSizes: '46 bits physical, 48 bits virtual',
    cpuidLevel: 13,
  }));
  domainnameValue = '(none)';
  uptime = 12_345_670_000_000;
  idle = 20_000_000_000_000;
  bootTime = 1_700_000_000;
  load: [number, number, number] = [0.25, 0.1, 0.05];
  lastPidValue = 0;
  bootIdValue = '2b6e6a0c-7d4f-4a43-9f3c-0d1c7a6e5b11';
  tunableValues: ProcTunables = {};
  /** /proc/cmdline's content. */
  cmdlineValue = 'console=ttyS0 quiet';
  /** Lines /proc/kmsg hands out (consumed by reads); null: no /proc/kmsg. */
  kmsgLines: string[] | null = null;
  filesystemList = [
    { name: 'sysfs', nodev: true },
    { name: 'tmpfs', nodev: true },
    { name: 'proc', nodev: true },
    { name: 'devtmpfs', nodev: true },
    { name: 'overlay', nodev: true },
  ];
  /** The cgroup every task is in (null: unlimited, no controllers). */
  cgroupValue: ProcCgroup | null = {
    controllers: ['cpu', 'memory', 'pids'],
    memoryMax: 512 * MB,
    cpuQuotaUs: 150000,
    cpuPeriodUs: 100000,
    pidsMax: 64,
    memoryCurrent: () => 60 * MB,
  };
  /** The network namespace every task is in (null: no /proc/net). */
  netValue: ProcNetSource | null = fixtureNet();
  /** The mount table every task sees. */
  mountTable: ProcMount[] = [
    {
      mountId: 1,
      parentId: 1,
      major: 0,
      minor: 30,
      root: '/',
      mountPoint: '/',
      mountOptions: 'rw,relatime',
      fsType: 'overlay',
      source: 'overlay',
      superOptions: 'rw,lowerdir=/,upperdir=memory',
    },
    {
      mountId: 2,
      parentId: 1,
      major: 0,
      minor: 31,
      root: '/',
      mountPoint: '/proc',
      mountOptions: 'rw,nosuid,nodev,noexec,relatime',
      fsType: 'proc',
      source: 'proc',
      superOptions: 'rw',
    },
    {
      mountId: 3,
      parentId: 1,
      major: 0,
      minor: 32,
      root: '/',
      mountPoint: '/tmp',
      mountOptions: 'rw,nosuid,nodev',
      fsType: 'tmpfs',
      source: 'tmpfs',
      superOptions: 'rw,mode=1777',
    },
  ];

  /**
   * Add a task (a process leader when `tgid` is left out or equals `tid`, else a thread of
   * `tgid`). Returns it so the test can change its data.
   */
  addTask(init: FixtureTaskInit): FixtureTask {
    const tgid = init.tgid ?? init.tid;
    const leader = tgid === init.tid ? undefined : this.tasks.get(tgid)?.data;
    const data: FixtureTaskData = {
      tgid,
      comm: leader?.comm ?? 'task',
      state: 'S',
      ppid: leader?.ppid ?? 0,
      pgrp: leader?.pgrp ?? tgid,
      session: leader?.session ?? tgid,
      creds: leader?.creds ?? fixtureCreds(0, 0),
      umask: 0o022,
      argv: leader?.argv ?? [init.comm ?? 'task'],
      envp: leader?.envp ?? ['PATH=/usr/bin:/bin', 'HOME=/root'],
      exe: leader?.exe ?? '/bin/true',
      cwd: leader?.cwd ?? '/',
      root: leader?.root ?? '/',
      fds: leader?.fds ?? new Map(),
      maps: leader?.maps ?? [],
      memory: leader?.memory ?? fixtureMemory(8 * MB, 2 * MB),
      layout: leader?.layout ?? LAYOUT,
      times: { utimeNs: 0, stimeNs: 0, cutimeNs: 0, cstimeNs: 0, startNs: this.uptime },
      sched: {},
      signals: { pending: 0n, shared: 0n, blocked: 0n, ignored: 0n, caught: 0n, queued: 0, queueLimit: 7787 },
      dumpable: true,
      rlimits: leader?.rlimits ?? fixtureRlimits(),
      oomScoreAdj: leader?.oomScoreAdj ?? 0,
      memoryError: null,
      ...init,
    };
    const t = new FixtureTask(this, data);
    this.tasks.set(init.tid, t);
    this.lastPidValue = Math.max(this.lastPidValue, init.tid);
    return t;
  }

  /** Remove a task (a reaped process or an exited thread). */
  removeTask(tid: number): void {
    this.tasks.delete(tid);
  }

  /** @internal The thread ids of group `tgid`, ascending. */
  threadsOf(tgid: number): number[] {
    const out: number[] = [];
    for (const t of this.tasks.values()) if (t.data.tgid === tgid) out.push(t.data.tid);
    return out.sort((a, b) => a - b);
  }

  caller(): ProcCaller | null {
    if (this.callerTid === null) return null;
    const t = this.tasks.get(this.callerTid);
    if (t === undefined) return null;
    return { tgid: t.data.tgid, tid: t.data.tid, creds: t.data.creds };
  }
  pids(): readonly number[] {
    const out: number[] = [];
    for (const t of this.tasks.values()) if (t.data.tid === t.data.tgid) out.push(t.data.tid);
    return out.sort((a, b) => a - b);
  }
  task(tid: number): ProcTask | null {
    return this.tasks.get(tid) ?? null;
  }
  uptimeNs(): number {
    return this.uptime;
  }
  idleNs(): number {
    return this.idle;
  }
  bootTimeSec(): number {
    return this.bootTime;
  }
  hostname(): string {
    return this.hostnameValue;
  }
  setHostname(name: string): LinuxError | undefined {
    if (name.length > 64) return E.EINVAL;
    this.hostnameValue = name;
    return undefined;
  }
  domainname(): string {
    return this.domainnameValue;
  }
  setDomainname(name: string): LinuxError | undefined {
    if (name.length > 64) return E.EINVAL;
    this.domainnameValue = name;
    return undefined;
  }
  kernel(): ProcKernelInfo {
    return this.kernelInfo;
  }
  meminfo(): ProcMeminfo {
    return this.meminfoValue;
  }
  cpus(): readonly ProcCpu[] {
    return this.cpuList;
  }
  loadavg(): readonly [number, number, number] {
    return this.load;
  }
  lastPid(): number {
    return this.lastPidValue;
  }
  bootCmdline(): string {
    return this.cmdlineValue;
  }
  kmsg(): ProcKmsg | null {
    const lines = this.kmsgLines;
    return lines === null ? null : { open: () => new FixtureKmsg(lines) };
  }
  bootId(): string {
    return this.bootIdValue;
  }
  filesystems(): readonly { readonly name: string; readonly nodev: boolean }[] {
    return this.filesystemList;
  }
  tunables(): ProcTunables {
    return this.tunableValues;
  }
  cgroup(): ProcCgroup | null {
    return this.cgroupValue;
  }

  /**
   * A small machine: pid 1 `sh` (root), pid 7 `python3` with threads 8 and 9 (root, reading by
   * default: `callerTid` is 7), pid 12 `sleep` of uid 1000, pid 13 a zombie child of 1.
   */
  static sample(): FixtureProcSource {
    const s = new FixtureProcSource();
    const fd = (path: string, flags: number, ino: number, pos = 0): ProcFd => ({
      path,
      flags,
      pos,
      mntId: 1,
      ino,
    });
    s.addTask({
      tid: 1,
      comm: 'sh',
      state: 'S',
      argv: ['/bin/sh', '-c', 'python3 app.py & sleep 100'],
      exe: '/usr/bin/dash',
      fds: new Map([
        [0, fd('/dev/null', 0o100000, 5)],
        [1, fd('pipe:[1001]', 0o1, 1001)],
        [2, fd('pipe:[1001]', 0o1, 1001)],
      ]),
      maps: [
        '555555554000-555555559000 r-xp 00000000 00:1e 12                         /usr/bin/dash',
        '7ffffffde000-7ffffffff000 rw-p 00000000 00:00 0                          [stack]',
      ],
    });
    s.addTask({
      tid: 7,
      ppid: 1,
      pgrp: 1,
      session: 1,
      comm: 'python3',
      state: 'R',
      argv: ['python3', 'app.py'],
      envp: ['PATH=/usr/bin:/bin', 'HOME=/root', 'LANG=C.UTF-8'],
      exe: '/usr/bin/python3.11',
      cwd: '/srv/app',
      memory: fixtureMemory(40 * MB, 12 * MB),
      fds: new Map([
        [0, fd('/dev/null', 0o100000, 5)],
        [1, fd('/tmp/out.log', 0o102001, 40, 123)],
        [2, fd('/tmp/out.log', 0o102001, 40, 123)],
        [3, fd('/srv/app/data.db', 0o2100002, 41, 4096)],
        [
          4,
          {
            path: 'anon_inode:[eventfd]',
            flags: 0o2004002,
            pos: 0,
            mntId: 9,
            ino: 1,
            extra: ['eventfd-count:                0', 'eventfd-id: 1'],
          },
        ],
      ]),
      times: {
        utimeNs: 1_230_000_000,
        stimeNs: 450_000_000,
        cutimeNs: 0,
        cstimeNs: 0,
        startNs: 2_000_000_000,
      },
      sched: { voluntaryCtxtSwitches: 12, nonvoluntaryCtxtSwitches: 3, minflt: 900, processor: 1 },
    });
    s.addTask({ tid: 8, tgid: 7, comm: 'worker', state: 'S' });
    s.addTask({ tid: 9, tgid: 7, comm: 'worker', state: 'S' });
    s.addTask({
      tid: 12,
      ppid: 1,
      pgrp: 12,
      session: 1,
      comm: 'sleep',
      argv: ['sleep', '100'],
      exe: '/usr/bin/sleep',
      creds: fixtureCreds(1000, 1000, [1000, 27]),
      umask: 0o002,
    });
    s.addTask({
      tid: 13,
      ppid: 1,
      pgrp: 1,
      session: 1,
      comm: 'true',
      state: 'Z',
      memory: null,
      layout: null,
      exe: null,
      cwd: null,
      root: null,
      fds: new Map(),
    });
    s.callerTid = 7;
    return s;
  }
}

const ip4 = (a: number, b: number, c: number, d: number): Uint8Array => new Uint8Array([a, b, c, d]);
const LOOPBACK6 = new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);

/**
 * A small network namespace: lo and eth0 (10.0.2.15/24, default route via 10.0.2.2), a TCP
 * listener on :8080 with one connection, a UDP socket on :5353, a listening Unix socket and an
 * abstract one.
 */
export function fixtureNet(): ProcNetSource {
  const any4 = ip4(0, 0, 0, 0);
  return {
    devices: () => [
      { name: 'lo', index: 1, stats: { rxBytes: 3193, rxPackets: 29, txBytes: 3193, txPackets: 29 } },
      {
        name: 'eth0',
        index: 2,
        stats: { rxBytes: 123456, rxPackets: 100, txBytes: 6543, txPackets: 60 },
        address: new Uint8Array([0x02, 0x42, 0xac, 0x11, 0x00, 0x02]),
      },
    ],
    inet6Addresses: () => [
      { address: LOOPBACK6, device: 'lo', ifindex: 1, prefixLen: 128, scope: 0x10, flags: 0x80 },
    ],
    tcp: () => [
      {
        local: { address: any4, port: 8080 },
        remote: { address: any4, port: 0 },
        state: 10,
        txQueue: 0,
        rxQueue: 0,
        uid: 0,
        inode: 2001,
      },
      {
        local: { address: ip4(10, 0, 2, 15), port: 8080 },
        remote: { address: ip4(10, 0, 2, 2), port: 51000 },
        state: 1,
        txQueue: 0,
        rxQueue: 0,
        uid: 0,
        inode: 2002,
        refCount: 2,
        rtoTicks: 20,
        atoTicks: 4,
      },
    ],
    tcp6: () => [],
    udp: () => [
      {
        local: { address: any4, port: 5353 },
        remote: { address: any4, port: 0 },
        state: 7,
        txQueue: 0,
        rxQueue: 0,
        uid: 1000,
        inode: 2003,
      },
    ],
    udp6: () => [],
    unix: () => [
      { refCount: 2, flags: 0x10000, type: 1, state: 1, inode: 2004, path: '/run/app.sock' },
      { refCount: 3, flags: 0, type: 1, state: 3, inode: 2005 },
      { refCount: 2, flags: 0, type: 2, state: 1, inode: 2006, path: '\0tsvisor\0x' },
    ],
    routes: () => [
      { device: 'eth0', destination: any4, gateway: ip4(10, 0, 2, 2), flags: 0x3, metric: 0, mask: any4 },
      {
        device: 'eth0',
        destination: ip4(10, 0, 2, 0),
        gateway: any4,
        flags: 0x1,
        metric: 0,
        mask: ip4(255, 255, 255, 0),
      },
    ],
  };
}

/** /proc/kmsg over a list of lines: each read consumes whole lines (EAGAIN when none are left). */
class FixtureKmsg extends FileDescriptionImpl {
  constructor(private readonly lines: string[]) {
    super();
  }
  override read(dst: Uint8Array): number | LinuxError {
    let n = 0;
    while (this.lines.length > 0) {
      const line = new TextEncoder().encode((this.lines[0] as string) + '\n');
      if (n + line.length > dst.length) break;
      dst.set(line, n);
      n += line.length;
      this.lines.shift();
    }
    return n === 0 && this.lines.length === 0 ? E.EAGAIN : n;
  }
}
