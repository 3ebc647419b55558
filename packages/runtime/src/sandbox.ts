/**
 * A sandbox assembled from a config: the VFS and its mounts, the process kernel, the syscall table
 * and the ptrace platform, with the first program loaded and ready to run.
 *
 * @module
 */
import { E, SiCode, isError, isValidSignal, type LinuxError } from '@tsvisor/abi';
import {
  Devpts,
  HostTime,
  Kernel,
  PTMX_MAJOR,
  PTMX_MINOR,
  hostCpuAux,
  hostResident,
  hostSmapsResidency,
  type PlatformPort,
  type SandboxLimits,
} from '@tsvisor/kernel';
import {
  configureMounts,
  configureNetwork,
  createSyscallTable,
  monotonicOffsetOf,
  fileDescriptionRefs,
  procNetSource,
  type SyscallTable,
} from '@tsvisor/syscalls';
import { createCgroupfs, createProcfs, createSysfs } from '@tsvisor/procfs';
import { Platform, hostClockOffsetNs, hostFsCalls } from '@tsvisor/trap-native';
import {
  Devfs,
  Hostfs,
  MS_NODEV,
  MS_NOEXEC,
  MS_NOSUID,
  MS_RDONLY,
  O_CREAT,
  O_RDONLY,
  O_TRUNC,
  O_WRONLY,
  Overlayfs,
  ROOT_CREDS,
  S_IFMT,
  S_IFREG,
  Tmpfs,
  Vfs,
  userCreds,
  type Creds,
  type FileDescription,
  type FilesystemImpl,
  type FsContext,
} from '@tsvisor/vfs';
import { STACK_TOP, spawnFirstProgram } from './exec.js';
import { STUB_RESERVED, attachHostMemory, memfdHostMemory, vdsoReserved } from './host-memory.js';
import {
  DNS_ADDRESS,
  DNS_ADDRESS6,
  Gateway,
  SANDBOX_ADDRESS,
  type NameserverConfig,
  type PortForward,
  type Resolver,
} from './gateway/gateway.js';
import { enableHostNetwork, hostIpv6Sysctl, hostNetSysctl, hostTcpTable } from './host-network.js';
import { hostStdio } from './host-stdio.js';
import { Machine } from './machine.js';
import { LimitedProcSource, createResourceControl, machineLimitTarget, type LimitMode } from './cgroup.js';
import { Strace, type TraceSink } from './strace.js';

/** A host directory mounted into the sandbox (`-v HOST:SANDBOX[:ro]`). */
export interface Volume {
  readonly host: string;
  readonly sandbox: string;
  readonly readOnly?: boolean;
}

/** What a sandbox runs and how it is assembled. Every field but `argv` has a default. */
export interface SandboxConfig {
  /** The program and its arguments; `argv[0]` without a `/` is looked up in the sandbox's PATH. */
  readonly argv: readonly string[];
  /** The environment, as `KEY=VALUE` strings. Default: a minimal PATH/HOME/TERM set. */
  readonly env?: readonly string[];
  /** Working directory inside the sandbox. Default `/`. */
  readonly cwd?: string;
  /** Credentials of the first process inside. Default root (0/0). */
  readonly uid?: number;
  readonly gid?: number;
  /**
   * The root filesystem. Default: the host's `/`, read-only, as the lower layer of an overlay
   * whose upper layer is in memory.
   */
  readonly root?: FilesystemImpl;
  /** Host directories to mount. */
  readonly volumes?: readonly Volume[];
  /** The host fds behind the sandbox's fds 0, 1 and 2. Default `[0, 1, 2]`. */
  readonly stdio?: readonly [number, number, number];
  /** Receives one strace-format line per syscall when set (`--strace`). */
  readonly strace?: TraceSink;
  /** Sandbox log (unsupported syscalls, caught bugs). Default: stderr with a `tsvisor: ` prefix. */
  readonly log?: (line: string) => void;
  /** The sandbox's host name. Default `tsvisor`. */
  readonly hostname?: string;
  /** The platform to use (several sandboxes may share one). Default: a new ptrace platform. */
  readonly platform?: Platform;
  /** A syscall table (to add or replace handlers). Default: `createSyscallTable()`. */
  readonly syscalls?: SyscallTable;
  /**
   * The sandbox's cgroup limits, shown read-only at /sys/fs/cgroup (memory.max, cpu.max,
   * pids.max) and in /proc/meminfo's MemTotal; pids.max is enforced at clone (EAGAIN). Default:
   * no limits.
   */
  readonly limits?: SandboxLimits;
  /**
   * How memory.max and cpu.max are enforced (see the README): `host-cgroup` (a child cgroup v2
   * of the supervisor's; run() fails without one), `supervisor` (sampling and throttling by the
   * supervisor). Default: the host cgroup when usable, else the supervisor. The sandbox log
   * names the mode used.
   */
  readonly limitMode?: LimitMode;
  /**
   * The cgroup v2 directory under which the host cgroup is created (a delegated cgroup with the
   * memory and cpu controllers and no processes of its own). Default: the supervisor's cgroup,
   * usable only when it is the root cgroup or already delegates those controllers.
   */
  readonly cgroupParent?: string;
  /**
   * The network: `none` (loopback only; the default) or `sandbox` (loopback plus `eth0`, whose
   * far side is a gateway carrying TCP/UDP over host sockets; DNS from the host's resolver) or
   * `host` (inet sockets are host sockets of the supervisor; the host's interfaces, read-only).
   */
  readonly network?: 'none' | 'sandbox' | 'host';
  /** Inbound forwards of mode `sandbox`: the host's 127.0.0.1:host to the sandbox's port. */
  readonly ports?: readonly PortForward[];
  /** What answers the sandbox's A and AAAA queries first (mode `sandbox`). Default: the host's resolver. */
  readonly resolver?: Resolver;
  /**
   * Where mode `sandbox`'s DNS server forwards what the resolver does not answer (MX, TXT,
   * SRV...). Default: the nameservers of the host's /etc/resolv.conf.
   */
  readonly nameservers?: NameserverConfig;
  /**
   * IPv6 on mode `sandbox`'s eth0, as slirp4netns's `--enable-ipv6`: fd00::100/64 and a
   * link-local address, the default route via fd00::2 (the host's ::1), DNS on fd00::3;
   * `ports` listen on the host's [::1] too. Default off.
   */
  readonly ipv6?: boolean;
  /**
   * Give programs the host's vDSO (AT_SYSINFO_EHDR), so clock_gettime, gettimeofday, time and
   * getcpu run without a trap: the sandbox's clocks are the host's, so the answers are the ones
   * the trapped calls give. Its pages show as `[vdso]`/`[vvar]` in /proc/<pid>/maps and, unlike
   * on Linux (before mseal'd system mappings), cannot be unmapped or reprotected (EPERM).
   * Default true.
   */
  readonly vdso?: boolean;
  /**
   * Called once the first program is loaded, just before its first instruction runs: the
   * supervisor's own start-up is over there (the tsvisor command collects the garbage it left,
   * see apps/cli's boot-gc.ts).
   */
  readonly beforeStart?: () => void;
}

const DEFAULT_ENV = [
  'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  'HOME=/root',
  'TERM=xterm',
];

/** The exit status of a wait status: the code, or 128 + the signal that killed it (as shells do). */
export function exitCodeOf(waitStatus: number): number {
  const sig = waitStatus & 0x7f;
  return sig === 0 ? (waitStatus >> 8) & 0xff : 128 + sig;
}

/** Why a sandbox could not start (the program was not found or not executable, ...). */
export class SandboxError extends Error {
  override readonly name = 'SandboxError';
  constructor(
    message: string,
    /** The errno execve would have returned, when that is the cause. */
    readonly errno: LinuxError | undefined,
  ) {
    super(message);
  }
}

/**
 * An assembled sandbox. {@link run} starts the first program and resolves with its exit status.
 */
export class Sandbox {
  #ran = false;

  /** @internal use {@link createSandbox} */
  constructor(
    /** The process kernel. */
    readonly kernel: Kernel<FileDescription>,
    /** The mount namespace. */
    readonly vfs: Vfs,
    private readonly config: SandboxConfig,
    private readonly fsContext: FsContext,
    private readonly machine: Machine,
    private readonly hostDirs: readonly Hostfs[],
    private readonly gateway?: Gateway,
    private readonly proc?: LimitedProcSource,
  ) {}

  /**
   * Loads the program, runs it and every process it starts, and resolves with pid 1's exit
   * status (0-255, or 128 + n when signal n killed it). Throws {@link SandboxError} when the
   * program cannot be started (ENOENT, EACCES, ENOEXEC, ...). A sandbox runs once.
   */
  async run(): Promise<number> {
    if (this.#ran) throw new Error('a sandbox runs once');
    this.#ran = true;
    const cfg = this.config;
    const ownPlatform = cfg.platform === undefined;
    const platform = cfg.platform ?? Platform.create();
    const stub = platform.createStub({ vdso: cfg.vdso !== false });
    if (stub.vdso) this.kernel.useVdso(stub.vdso.vdso.start, vdsoReserved(stub.vdso));
    let control: ReturnType<typeof createResourceControl>;
    try {
      if (cfg.limits && this.proc) {
        control = createResourceControl(
          cfg.limits,
          machineLimitTarget(this.machine, this.kernel as Kernel),
          cfg.limitMode,
          cfg.cgroupParent,
        );
        if (control) {
          this.kernel.log(
            control.mode === 'host-cgroup'
              ? 'limits: memory.max and cpu.max enforced by a host cgroup v2'
              : `limits: memory.max and cpu.max enforced by the supervisor (no host cgroup: ${control.reason ?? ''})`,
          );
          control.start(stub.task.tgid);
          this.proc.control = control;
        }
      }
      await this.gateway?.open();
      const machine = this.machine;
      machine.bind(this.kernel as Kernel, platform);
      const path = this.#resolve(cfg.argv[0] ?? '');
      if (isError(path)) throw new SandboxError(`${cfg.argv[0] ?? ''}: ${path.message}`, path);
      const env = cfg.env ?? DEFAULT_ENV;
      const files = this.kernel.newFdTable();
      const stdio = hostStdio(cfg.stdio ?? [0, 1, 2], this.fsContext.creds, (fd, cmd, arg) =>
        machine.hostIoctl(fd, cmd, arg),
      );
      stdio.forEach((f, fd) => files.replace(f, fd, false, 1024));
      const task = await spawnFirstProgram({
        kernel: this.kernel,
        machine,
        host: stub.task,
        ctx: this.fsContext,
        files,
        path,
        argv: cfg.argv,
        envp: env,
      });
      if (isError(task)) throw new SandboxError(`${path}: ${task.message}`, task);
      cfg.beforeStart?.();
      machine.adopt(task, stub.task);
      // Tasks parked in handlers wait on promises only; this keeps Node running while they do
      // (a sandbox whose tasks all wait forever hangs, as it would on Linux, instead of exiting).
      const keepAlive = setInterval(() => undefined, 1 << 30);
      const status = await this.kernel.initExited.finally(() => clearInterval(keepAlive));
      stub.kill();
      await machine.settled();
      return exitCodeOf(status);
    } finally {
      stub.kill();
      if (control) {
        // The host cgroup can be removed only once its processes are gone.
        await this.machine.settled();
        await control
          .stop()
          .catch((e: unknown) => this.kernel.log(`limits: cannot remove the host cgroup: ${String(e)}`));
      }
      this.gateway?.close();
      if (ownPlatform) platform.close();
      // The programs are gone: keep only the root fd of each host filesystem, so a caller can
      // still read results through `vfs` until close().
      for (const h of this.hostDirs) h.evictAll();
    }
  }

  /**
   * How many host directory fds the sandbox's own host filesystems hold now: one per root after
   * {@link run} (so results stay readable), 0 after {@link close}.
   */
  get hostDirFds(): number {
    return this.hostDirs.reduce((n, h) => n + h.openDirCount, 0);
  }

  /**
   * Gives back every host fd the sandbox's own host filesystems hold (the read-only host root and
   * the `volumes`); `vfs` answers ENOENT for their files afterwards. Call it after {@link run}
   * when the sandbox is no longer needed; a program that creates many sandboxes should.
   */
  close(): void {
    for (const h of this.hostDirs) h.close();
  }

  /**
   * Sends signal `signo` to the sandbox's pid 1 from outside (as `kill` from the host would,
   * SI_USER from pid 0). Returns false when the sandbox is not running.
   */
  signal(signo: number): boolean {
    const init = this.kernel.threadGroup(1);
    if (!init || init.state !== 'alive' || !isValidSignal(signo)) return false;
    this.kernel.sendToGroup(init, { signo, code: SiCode.SI_USER, pid: 0, uid: 0 });
    return true;
  }

  /** `argv[0]` as execvp finds it: a path as given, or the first executable match in PATH. */
  #resolve(name: string): string | LinuxError {
    if (name === '') return E.ENOENT;
    if (name.includes('/')) return name;
    const env = this.config.env ?? DEFAULT_ENV;
    const pathVar = env.find((e) => e.startsWith('PATH='))?.slice(5) ?? '/usr/bin:/bin';
    let err: LinuxError = E.ENOENT;
    for (const dir of pathVar.split(':')) {
      const candidate = `${dir === '' ? '.' : dir}/${name}`;
      const f = this.vfs.openat(this.fsContext, this.fsContext.cwd, candidate, O_RDONLY);
      if (isError(f)) continue;
      const mode = f.location.inode.mode;
      f.release();
      if ((mode & S_IFMT) === S_IFREG && (mode & 0o111) !== 0) return candidate;
      err = E.EACCES;
    }
    return err;
  }
}

/**
 * Assembles a sandbox: root filesystem, /dev, /tmp, volumes, the kernel with its credentials,
 * and the working directory. Nothing runs until {@link Sandbox.run}.
 *
 * @example
 * ```ts
 * const sandbox = createSandbox({ argv: ['/bin/busybox', 'echo', 'hello'] });
 * const status = await sandbox.run(); // 0, after "hello" on the host's stdout
 * ```
 */
export function createSandbox(config: SandboxConfig): Sandbox {
  if (config.argv.length === 0) throw new SandboxError('argv is empty', E.EINVAL);
  // Host filesystems this sandbox opened itself (not a caller's root): their directory fds are
  // given back after the run and at close().
  const hostDirs: Hostfs[] = [];
  const root = config.root ?? defaultRoot(hostDirs);
  const vfs = new Vfs(root);
  const rootCtx = vfs.rootContext(ROOT_CREDS);
  const devfs = new Devfs(vfs.devices);
  mountAt(vfs, rootCtx, '/dev', devfs);
  mountAt(vfs, rootCtx, '/tmp', new Tmpfs());

  for (const v of config.volumes ?? []) {
    const volume = new Hostfs(v.host, { readOnly: v.readOnly === true, hostCalls: hostFsCalls });
    hostDirs.push(volume);
    mountAt(vfs, rootCtx, v.sandbox, volume, v.readOnly ? MS_RDONLY : 0);
  }
  const uid = config.uid ?? 0;
  const gid = config.gid ?? 0;
  const creds: Creds = uid === 0 ? ROOT_CREDS : userCreds(uid, gid);
  let ctx = vfs.rootContext(creds);
  if (config.cwd !== undefined && config.cwd !== '/') {
    const cwd = vfs.chdir(ctx, ctx.cwd, config.cwd);
    if (isError(cwd)) throw new SandboxError(`--cwd ${config.cwd}: ${cwd.message}`, cwd);
    ctx = { ...ctx, cwd };
  }
  const machine = new Machine({
    table: config.syscalls ?? createSyscallTable(),
    atSyscall: () => proc.control?.atSyscall(),
    strace: config.strace ? new Strace(config.strace) : undefined,
  });
  const kernel = new Kernel<FileDescription>({
    platform: machine.port as PlatformPort,
    hostname: config.hostname ?? 'tsvisor',
    uid,
    gid,
    fileRefs: fileDescriptionRefs(),
    // New stacks end below the stub's pages; the auxiliary vector describes the host CPU.
    stackTop: STACK_TOP,
    reserved: STUB_RESERVED,
    cpuAux: hostCpuAux(),
    ...(config.limits ? { limits: config.limits } : {}),
    vfs,
    ...(config.log ? { log: config.log } : {}),
    // Realtime as the sandbox's vDSO gives it, to the nanosecond (timestamps it compares).
    time: new HostTime(Date.now, hostClockOffsetNs),
  });
  // /proc and /sys describe the sandbox, never the host (the overlay would show the host's).
  // Resident memory is the host's figure for the process that runs a task.
  const proc = new LimitedProcSource(kernel, {
    resident: (tid) => {
      const host = machine.hostOf(tid);
      return host ? hostResident(host.tgid) : null;
    },
    residency: (tid) => {
      const host = machine.hostOf(tid);
      return host ? hostSmapsResidency(host.tgid) : null;
    },
    // /proc/net and /sys/class/net over netstack, of the network namespace the task is in; in
    // network mode host, the initial namespace's over the sandbox's own host sockets (and the
    // connections it closed that the host still keeps) and the host's interfaces and net
    // sysctls (read-only).
    net: (t) =>
      procNetSource(
        kernel as Kernel,
        config.network === 'host' ? { hostSysctl: hostNetSysctl, hostIpv6Sysctl, hostTcpTable } : {},
        t,
      ),
  });
  mountAt(vfs, rootCtx, '/proc', createProcfs(proc), MS_NOSUID | MS_NODEV | MS_NOEXEC);
  // Pseudo-terminals: /dev/ptmx and /dev/pts (devpts), /dev/tty is the caller's terminal.
  const devpts = new Devpts(kernel as Kernel, vfs.devices);
  mountAt(vfs, rootCtx, '/dev/pts', devpts, MS_NOSUID | MS_NOEXEC);
  devfs.addNode('ptmx', 0o666, PTMX_MAJOR, PTMX_MINOR);
  devfs.setTty(devpts.controllingTtyHook());
  const sysfs = createSysfs(proc);
  mountAt(vfs, rootCtx, '/sys', sysfs, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC);
  const cgroupFlags = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC;
  const cgroupfs = createCgroupfs(proc);
  mountAt(vfs, rootCtx, '/sys/fs/cgroup', cgroupfs, cgroupFlags);
  attachHostMemory(vfs);
  // mount(2) inside the sandbox: a new procfs per mount; sysfs, cgroup2 and devpts share their
  // one instance (as Linux shares the sysfs and cgroup2 superblocks); new tmpfs get host memory.
  configureMounts(kernel as Kernel, {
    filesystems: {
      proc: () => createProcfs(proc),
      sysfs: () => sysfs,
      cgroup2: () => cgroupfs,
      devpts: () => devpts,
    },
    hostMemory: memfdHostMemory,
  });
  let gateway: Gateway | undefined;
  if (config.network === 'sandbox') {
    const g = new Gateway({
      forwards: config.ports ?? [],
      ...(config.log ? { log: config.log } : {}),
      ...(config.resolver ? { resolver: config.resolver } : {}),
      ...(config.nameservers ? { nameservers: config.nameservers } : {}),
      ...(config.ipv6 ? { ipv6: true } : {}),
      monotonicOffset: monotonicOffsetOf(kernel.time),
    });
    g.kickSandbox = configureNetwork(kernel, { stack: g.stack, links: () => g.links() });
    // Names resolve through the gateway (the host's resolv.conf may name servers the sandbox cannot reach).
    writeSandboxFile(
      vfs,
      rootCtx,
      '/etc/resolv.conf',
      `nameserver ${DNS_ADDRESS}\n${config.ipv6 ? `nameserver ${DNS_ADDRESS6}\n` : ''}`,
    );
    gateway = g;
  } else if (config.network === 'host' && !config.ports?.length) {
    enableHostNetwork(kernel);
  } else if (config.ports && config.ports.length > 0) {
    throw new SandboxError('port forwards (-p) need network mode sandbox', E.EINVAL);
  }
  // The sandbox's host name resolves, as a container's does: gethostbyname(gethostname()) is how
  // many programs find their own address (Java's getLocalHost, Python's getfqdn).
  nameSandboxHost(
    vfs,
    rootCtx,
    kernel.uts.uname().nodename,
    config.network === 'sandbox' ? SANDBOX_ADDRESS : '127.0.1.1',
  );
  return new Sandbox(kernel, vfs, config, ctx, machine, hostDirs, gateway, proc);
}

/**
 * Mounts `fs` at `path`, creating the directory and its missing parents first (in the overlay's
 * memory layer by default, so the host never sees them).
 */
function mountAt(vfs: Vfs, ctx: FsContext, path: string, fs: FilesystemImpl, flags = 0): void {
  let m = vfs.mount(ctx, ctx.cwd, path, fs, flags);
  if (m === E.ENOENT) {
    const parts = path.split('/').filter((p) => p !== '');
    for (let i = 1; i <= parts.length; i++) {
      const made = vfs.mkdirat(ctx, ctx.cwd, `/${parts.slice(0, i).join('/')}`, 0o755);
      if (made !== undefined && made !== E.EEXIST) break;
    }
    m = vfs.mount(ctx, ctx.cwd, path, fs, flags);
  }
  if (isError(m)) throw new SandboxError(`cannot mount ${fs.type} at ${path}: ${m.message}`, m);
}

/** Writes a file in the sandbox's view (the overlay's memory layer by default); best effort. */
function writeSandboxFile(vfs: Vfs, ctx: FsContext, path: string, text: string | Uint8Array): void {
  const f = vfs.openat(ctx, ctx.cwd, path, O_WRONLY | O_CREAT | O_TRUNC, 0o644);
  if (isError(f)) return;
  f.write(typeof text === 'string' ? new TextEncoder().encode(text) : text);
  f.release();
}

/**
 * Adds `address hostname` to the sandbox's /etc/hosts (in the writable layer; the host's file is
 * untouched) unless the file names that host already; `address` is eth0's in network mode
 * sandbox (Docker's way), else 127.0.1.1 (Debian's for a host without a fixed address). Nothing
 * happens without a readable /etc/hosts.
 */
function nameSandboxHost(vfs: Vfs, ctx: FsContext, hostname: string, address: string): void {
  const f = vfs.openat(ctx, ctx.cwd, '/etc/hosts', O_RDONLY, 0);
  if (isError(f)) return;
  const chunks: Uint8Array[] = [];
  for (;;) {
    const buf = new Uint8Array(65536);
    const n = f.read(buf);
    if (typeof n !== 'number' || n <= 0) break;
    chunks.push(buf.subarray(0, n));
  }
  f.release();
  const bytes = Buffer.concat(chunks);
  const named = bytes
    .toString('latin1')
    .split('\n')
    .some((line) => line.replace(/#.*/, '').trim().split(/\s+/).slice(1).includes(hostname));
  if (named) return;
  const sep = bytes.length === 0 || bytes[bytes.length - 1] === 0x0a ? '' : '\n';
  writeSandboxFile(
    vfs,
    ctx,
    '/etc/hosts',
    Buffer.concat([bytes, Buffer.from(`${sep}${address}\t${hostname}\n`)]),
  );
}

/** The host's `/`, read-only, under an in-memory writable layer: writes never reach the host. */
function defaultRoot(hostDirs: Hostfs[]): FilesystemImpl {
  const lower = new Hostfs('/', { readOnly: true, hostCalls: hostFsCalls });
  hostDirs.push(lower);
  return new Overlayfs(lower, new Tmpfs({ mode: 0o755 }));
}
