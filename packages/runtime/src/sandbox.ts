/**
 * A sandbox assembled from a config: the VFS and its mounts, the process kernel, the syscall table
 * and the ptrace platform, with the first program loaded and ready to run.
 *
 * @module
 */
import { E, SiCode, isError, isValidSignal, type LinuxError } from '@tsvisor/abi';
import {
  FsContext as TaskFs,
  Kernel,
  KernelProcSource,
  hostCpuAux,
  type PlatformPort,
} from '@tsvisor/kernel';
import { createSyscallTable, fileDescriptionRefs, type SyscallTable } from '@tsvisor/syscalls';
import { createProcfs, createSysfs } from '@tsvisor/procfs';
import { Platform } from '@tsvisor/trap-native';
import {
  Devfs,
  Hostfs,
  MS_NODEV,
  MS_NOEXEC,
  MS_NOSUID,
  MS_RDONLY,
  O_RDONLY,
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
import { STACK_TOP, commOf, loadProgram, vfsExecOpener } from './exec.js';
import { hostStdio } from './host-stdio.js';
import { Machine } from './machine.js';
import { Strace, type TraceSink } from './strace.js';
import { TrapMemory } from './trap-memory.js';

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
    const stub = platform.createStub();
    try {
      const machine = this.machine;
      const strace = machine.strace;
      machine.bind(this.kernel as Kernel, platform);
      const path = this.#resolve(cfg.argv[0] ?? '');
      if (isError(path)) throw new SandboxError(`${cfg.argv[0] ?? ''}: ${path.message}`, path);
      const env = cfg.env ?? DEFAULT_ENV;
      const image = await loadProgram({
        host: stub.task,
        open: vfsExecOpener(this.vfs, this.fsContext),
        path,
        argv: cfg.argv,
        envp: env,
        creds: { uid: cfg.uid ?? 0, gid: cfg.gid ?? 0 },
        cpu: this.kernel.cpuAux,
      });
      if (isError(image)) throw new SandboxError(`${path}: ${image.message}`, image);
      const memory = new TrapMemory(stub.task);
      const files = this.kernel.newFdTable();
      const stdio = hostStdio(cfg.stdio ?? [0, 1, 2], this.fsContext.creds, (fd, cmd, arg) =>
        machine.hostIoctl(fd, cmd, arg),
      );
      stdio.forEach((f, fd) => files.replace(f, fd, false, 1024));
      const task = this.kernel.spawnInit({
        mm: this.kernel.newAddressSpace(memory, image.mm),
        regs: image.regs,
        comm: commOf(image.path),
        files,
        fs: new TaskFs(0o022, this.fsContext.cwd, this.fsContext.root),
      });
      task.group.didExec = true;
      task.exe = image.exe;
      strace?.emit(
        task.tid,
        strace.render(task.tid, 59, [image.execfnAddr, image.argvAddr, image.envpAddr], 0, (addr, len) => {
          const off = addr - image.stackBase;
          if (off < 0 || off + len > image.stackBytes.length) return E.EFAULT;
          return image.stackBytes.subarray(off, off + len);
        }),
      );
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
      if (ownPlatform) platform.close();
    }
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
  const root = config.root ?? defaultRoot();
  const vfs = new Vfs(root);
  const rootCtx = vfs.rootContext(ROOT_CREDS);
  mountAt(vfs, rootCtx, '/dev', new Devfs(vfs.devices));
  mountAt(vfs, rootCtx, '/tmp', new Tmpfs());

  for (const v of config.volumes ?? []) {
    mountAt(
      vfs,
      rootCtx,
      v.sandbox,
      new Hostfs(v.host, { readOnly: v.readOnly === true }),
      v.readOnly ? MS_RDONLY : 0,
    );
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
    cpuAux: hostCpuAux(),
    vfs,
    ...(config.log ? { log: config.log } : {}),
  });
  // /proc and /sys describe the sandbox, never the host (the overlay would show the host's).
  const proc = new KernelProcSource(kernel);
  mountAt(vfs, rootCtx, '/proc', createProcfs(proc), MS_NOSUID | MS_NODEV | MS_NOEXEC);
  mountAt(vfs, rootCtx, '/sys', createSysfs(proc), MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC);
  return new Sandbox(kernel, vfs, config, ctx, machine);
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

/** The host's `/`, read-only, under an in-memory writable layer: writes never reach the host. */
function defaultRoot(): FilesystemImpl {
  return new Overlayfs(new Hostfs('/', { readOnly: true }), new Tmpfs({ mode: 0o755 }));
}
