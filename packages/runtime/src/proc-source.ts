/**
 * The `ProcSource` of `@tsvisor/procfs` over a running sandbox: the kernel's tasks, thread
 * groups, fd tables and signal state, `@tsvisor/mm`'s model of each address space, and the VFS's
 * mounts, as /proc shows them.
 *
 * This is glue the kernel could own (it holds every fact used here); it lives in the runtime
 * because only the runtime knows the caller of a read (the task whose syscall is being served)
 * and the host facts (memory, CPUs).
 *
 * @module
 */
import { SigSet, type LinuxError } from '@tsvisor/abi';
import {
  SIG_DFL,
  SIG_IGN,
  TSVISOR_RELEASE,
  TSVISOR_VERSION,
  type Credentials,
  type Kernel,
  type Task,
  type ThreadGroup,
} from '@tsvisor/kernel';
import { AddressSpace as MmSpace, mapsLine, statusMemory } from '@tsvisor/mm';
import {
  vfsMounts,
  type ProcCaller,
  type ProcCpu,
  type ProcCreds,
  type ProcFd,
  type ProcMemory,
  type ProcSource,
  type ProcTask,
  type TaskState,
} from '@tsvisor/procfs';
import {
  S_IFIFO,
  S_IFMT,
  S_IFSOCK,
  type FileDescription,
  type FsContext,
  type Location,
  type Vfs,
} from '@tsvisor/vfs';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import os from 'node:os';

const ALL_CAPS = (1n << 41n) - 1n;
const O_CLOEXEC = 0o2000000;

/** Kernel credentials as procfs shows them (root holds every capability, as in Linux). */
function procCreds(c: Credentials): ProcCreds {
  const caps = c.euid === 0 ? ALL_CAPS : 0n;
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

/** The host's CPU description, once (model name, flags... as the sandbox runs on that CPU). */
function hostCpu(): ProcCpu {
  let text = '';
  try {
    text = readFileSync('/proc/cpuinfo', 'utf8').split('\n\n')[0] ?? '';
  } catch {
    // Without the host's /proc the description stays generic.
  }
  const field = (name: string): string => new RegExp(`^${name}\\s*:\\s*(.*)$`, 'm').exec(text)?.[1] ?? '';
  const num = (name: string): number => Number.parseFloat(field(name)) || 0;
  return {
    vendorId: field('vendor_id') || 'unknown',
    family: num('cpu family'),
    model: num('model'),
    modelName: field('model name') || 'unknown',
    stepping: num('stepping'),
    mhz: num('cpu MHz'),
    cacheSizeKb: num('cache size'),
    flags: field('flags').split(/\s+/).filter(Boolean),
    bogomips: num('bogomips'),
    addressSizes: field('address sizes') || '48 bits physical, 48 bits virtual',
    cpuidLevel: num('cpuid level'),
  };
}

/**
 * Reads `[start, end)` of a task's memory (cmdline, environ); empty when it cannot be read, as
 * Linux shows a process whose memory is gone.
 */
function readRange(task: Task, start: number, end: number): Uint8Array | LinuxError {
  if (end <= start) return new Uint8Array(0);
  const bytes = task.memory.read(start, end - start);
  return bytes instanceof Uint8Array ? bytes : new Uint8Array(0);
}

/**
 * A {@link ProcSource} over one sandbox. `caller` names the task whose syscall is being served
 * (the trap loop knows it); `vfs` and `rootCtx` give paths and mounts.
 */
export class SandboxProcSource implements ProcSource {
  readonly #bootId = randomUUID();
  #cpu: ProcCpu | undefined;

  constructor(
    private readonly k: Kernel<FileDescription>,
    private readonly vfs: Vfs,
    private readonly rootCtx: FsContext,
    private readonly current: () => Task | undefined,
  ) {}

  caller(): ProcCaller | null {
    const t = this.current();
    return t ? { tgid: t.tgid, tid: t.tid, creds: procCreds(t.creds) } : null;
  }

  pids(): readonly number[] {
    return this.k
      .allThreadGroups()
      .filter((g) => g.state !== 'reaped')
      .map((g) => g.tgid);
  }

  task(tid: number): ProcTask | null {
    const t = this.k.task(tid);
    if (t) return this.#procTask(t, t.group);
    const g = this.k.threadGroup(tid);
    // A zombie: its leader task is gone from the kernel's table but the group is still shown.
    if (g && g.state === 'zombie') return this.#procTask(g.leader as Task, g);
    return null;
  }

  uptimeNs(): number {
    return Number(this.k.uptimeNs());
  }

  idleNs(): number {
    return 0;
  }

  bootTimeSec(): number {
    return Math.floor(Date.now() / 1000 - this.uptimeNs() / 1e9);
  }

  hostname(): string {
    return this.k.uts.uname().nodename;
  }

  setHostname(name: string): LinuxError | undefined {
    return this.k.uts.setHostname(new TextEncoder().encode(name));
  }

  domainname(): string {
    return this.k.uts.uname().domainname;
  }

  setDomainname(name: string): LinuxError | undefined {
    return this.k.uts.setDomainname(new TextEncoder().encode(name));
  }

  kernel(): { ostype: string; osrelease: string; version: string; builder: string } {
    return {
      ostype: 'Linux',
      osrelease: TSVISOR_RELEASE,
      version: TSVISOR_VERSION,
      builder: 'tsvisor@tsvisor',
    };
  }

  meminfo(): { memTotal: number; memFree: number; memAvailable: number } {
    // The host's figures, in bytes: the sandbox's memory is the host's.
    const free = os.freemem();
    return { memTotal: os.totalmem(), memFree: free, memAvailable: free };
  }

  cpus(): readonly ProcCpu[] {
    this.#cpu ??= hostCpu();
    return Array.from({ length: this.k.cpuCount }, () => this.#cpu as ProcCpu);
  }

  loadavg(): readonly [number, number, number] {
    const [a = 0, b = 0, c = 0] = os.loadavg();
    return [a, b, c];
  }

  lastPid(): number {
    return this.k.allTasks().reduce((m, t) => Math.max(m, t.tid), 0);
  }

  bootId(): string {
    return this.#bootId;
  }

  filesystems(): readonly { readonly name: string; readonly nodev: boolean }[] {
    return ['tmpfs', 'devtmpfs', 'proc', 'sysfs', 'overlay', 'hostfs', 'pipefs'].map((name) => ({
      name,
      nodev: true,
    }));
  }

  /** The path of a location as the sandbox names it, or a `type:[ino]` name for anonymous files. */
  #pathOf(loc: Location): string {
    let m = loc.mount;
    while (m.parent) m = m.parent;
    if (m !== this.vfs.rootMount) {
      const type = loc.inode.mode & S_IFMT;
      const kind = type === S_IFIFO ? 'pipe' : type === S_IFSOCK ? 'socket' : loc.mount.fs.type;
      return `${kind}:[${loc.inode.ino}]`;
    }
    return this.vfs.pathOf(this.rootCtx, loc);
  }

  #procTask(t: Task, g: ThreadGroup): ProcTask {
    const model = (): MmSpace | undefined => (t.mm.model instanceof MmSpace ? t.mm.model : undefined);
    const files = (): FileDescriptionTable => t.files as unknown as FileDescriptionTable;
    const loc = (l: unknown): string | null => (l ? this.#pathOf(l as Location) : null);
    return {
      tid: t.tid,
      tgid: g.tgid,
      comm: () => t.comm,
      state: (): TaskState =>
        g.state === 'zombie' ? 'Z' : g.stopped ? 'T' : t.state !== 'alive' ? 'X' : t.blocked ? 'S' : 'R',
      ppid: () => g.parent?.tgid ?? 0,
      pgrp: () => g.pgrp.pgid,
      session: () => g.session.sid,
      creds: () => procCreds(g.creds),
      umask: () => t.fs.umask,
      threads: () => [...g.tasks].map((x) => x.tid).sort((a, b) => a - b),
      cmdline: () => {
        const m = model();
        return m ? readRange(t, m.layout.argStart, m.layout.argEnd) : new Uint8Array(0);
      },
      environ: () => {
        const m = model();
        return m ? readRange(t, m.layout.envStart, m.layout.envEnd) : new Uint8Array(0);
      },
      exe: () => loc(t.exe),
      cwd: () => loc(t.fs.cwd),
      root: () => loc(t.fs.root),
      fds: () => (g.state === 'zombie' ? [] : files().fds()),
      fd: (n): ProcFd | null => {
        const e = files().entry(n);
        if (!e) return null;
        const f = e.file;
        return {
          path: this.#pathOf(f.location),
          flags: f.getFlags() | (e.cloexec ? O_CLOEXEC : 0),
          pos: f.offset,
          mntId: f.location.mount.id,
          ino: f.location.inode.ino,
        };
      },
      maps: () => {
        const m = model();
        return m ? m.list().map((v) => mapsLine(m, v)) : [];
      },
      memory: (): ProcMemory | null => {
        const m = model();
        if (!m || g.state === 'zombie') return null;
        // statusMemory is in kB; procfs wants bytes.
        const s = statusMemory(m);
        const kb = 1024;
        return {
          vmPeak: s.VmPeak * kb,
          vmSize: s.VmSize * kb,
          vmLck: s.VmLck * kb,
          vmPin: 0,
          vmHWM: 0,
          rssAnon: 0,
          rssFile: 0,
          rssShmem: 0,
          vmData: s.VmData * kb,
          vmStk: s.VmStk * kb,
          vmExe: s.VmExe * kb,
          vmLib: s.VmLib * kb,
          vmPTE: 0,
          vmSwap: 0,
        };
      },
      layout: () => {
        const m = model();
        return m ? { ...m.layout } : null;
      },
      times: (whole) => {
        const own = whole ? g.cpuTimes() : t.cpu;
        return {
          utimeNs: Number(own.userNs),
          stimeNs: Number(own.sysNs),
          cutimeNs: Number(g.childTimes.userNs),
          cstimeNs: Number(g.childTimes.sysNs),
          startNs: 0,
        };
      },
      signals: () => {
        const ignored = new SigSet();
        const caught = new SigSet();
        for (let sig = 1; sig <= 64; sig++) {
          const h = g.actions.get(sig).handler;
          if (h === SIG_IGN) ignored.add(sig);
          else if (h !== SIG_DFL) caught.add(sig);
        }
        return {
          pending: t.pending.set.toBigInt(),
          shared: g.sharedPending.set.toBigInt(),
          blocked: t.mask.toBigInt(),
          ignored: ignored.toBigInt(),
          caught: caught.toBigInt(),
          queued: 0,
          queueLimit: 0,
        };
      },
      exitSignal: () => g.exitSignal,
      exitCode: () => (g.state === 'zombie' ? g.exitStatus : 0),
      noNewPrivs: () => t.noNewPrivs,
      dumpable: () => g.dumpable === 1,
      mounts: () => vfsMounts(this.vfs, this.rootCtx),
      rlimits: () =>
        g.rlimits.map((r) => ({
          soft: r.cur >= 2n ** 63n ? null : Number(r.cur),
          hard: r.max >= 2n ** 63n ? null : Number(r.max),
        })),
    };
  }
}

/** The part of the kernel's fd table this file reads. */
interface FileDescriptionTable {
  fds(): number[];
  entry(fd: number): { readonly file: FileDescription; readonly cloexec: boolean } | undefined;
}
