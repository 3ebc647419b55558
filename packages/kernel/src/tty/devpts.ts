/**
 * devpts and /dev/ptmx: opening the multiplexor (character device 5:2) makes a new pty pair,
 * whose slave appears as /dev/pts/N (character device 136:N, mode 0620, owned by the opener)
 * until the master's last descriptor closes. The master and slave open files are
 * {@link PtyMaster} and {@link PtySlave}; their terminal is a {@link Tty}.
 *
 * @module
 */
import { E, OpenFlag, isError, type LinuxError } from '@tsvisor/abi';
import {
  FileDescriptionImpl,
  S_IFCHR,
  S_IFDIR,
  Tmpfs,
  TmpfsDir,
  type CreateAttrs,
  type Inode,
  makedev,
  simpleStatfs,
  type CharDevice,
  type Creds,
  type DeviceRegistry,
  type FileDescription,
  type Statfs,
  type WaitQueue,
  type WouldBlock,
} from '@tsvisor/vfs';
import type { Kernel } from '../kernel.js';
import { controllingTty, kernelTtySignals, openedTty } from './job-control.js';
import { Tty } from './tty.js';

/** `DEVPTS_SUPER_MAGIC`. */
export const DEVPTS_SUPER_MAGIC = 0x1cd1;
/** The multiplexor's device number, 5:2. */
export const PTMX_MAJOR = 5;
export const PTMX_MINOR = 2;
/** `UNIX98_PTY_SLAVE_MAJOR`: slave N is 136:N. */
export const PTY_SLAVE_MAJOR = 136;

const FIONREAD = 0x541b;

/** The master side of a pair: reads the slave's output, writes its input. */
export class PtyMaster extends FileDescriptionImpl {
  constructor(
    readonly tty: Tty,
    private readonly devpts: Devpts,
  ) {
    super();
  }
  override get stream(): boolean {
    return true;
  }
  override read(dst: Uint8Array): number | LinuxError | WouldBlock {
    return this.tty.masterRead(dst);
  }
  override write(src: Uint8Array): number | LinuxError | WouldBlock {
    return this.tty.masterWrite(src);
  }
  override readiness(mask: number): number {
    return this.tty.masterReadiness(mask);
  }
  override get waitQueue(): WaitQueue {
    return this.tty.masterQueue;
  }
  /** FIONREAD: the slave's output not yet read. Terminal ioctls are the syscall layer's. */
  override ioctl(cmd: number): number | LinuxError {
    return cmd === FIONREAD ? this.tty.masterInq() : E.ENOTTY;
  }
  /** tty_lseek: ESPIPE. */
  override seek(): LinuxError {
    return E.ESPIPE;
  }
  override fsync(): LinuxError | undefined {
    return E.EINVAL;
  }
  /** The last master descriptor closed: the slave hangs up and /dev/pts/N goes away. */
  override release(): void {
    this.tty.hangup();
    this.devpts.remove(this.tty);
  }
}

/** The slave side (/dev/pts/N, or /dev/tty for its session): a terminal with N_TTY. */
export class PtySlave extends FileDescriptionImpl {
  constructor(readonly tty: Tty) {
    super();
    tty.slaveOpened();
  }
  override get stream(): boolean {
    return true;
  }
  override read(dst: Uint8Array): number | LinuxError | WouldBlock {
    return this.tty.slaveRead(dst);
  }
  override write(src: Uint8Array): number | LinuxError | WouldBlock {
    return this.tty.slaveWrite(src);
  }
  override readiness(mask: number): number {
    return this.tty.slaveReadiness(mask);
  }
  override get waitQueue(): WaitQueue {
    return this.tty.slaveQueue;
  }
  /** FIONREAD: input a read would return (complete lines in canonical mode). */
  override ioctl(cmd: number): number | LinuxError {
    if (this.tty.hungUp) return E.EIO;
    return cmd === FIONREAD ? this.tty.slaveInq() : E.ENOTTY;
  }
  override seek(): LinuxError {
    return E.ESPIPE;
  }
  override fsync(): LinuxError | undefined {
    return E.EINVAL;
  }
  override release(): void {
    this.tty.slaveClosed();
  }
}

/**
 * The devpts root: its entries come and go with the pairs. Like Linux's (which has only a lookup
 * operation) it refuses changes from users: EACCES for O_CREAT, EPERM for the rest.
 */
class DevptsRoot extends TmpfsDir {
  override create(): LinuxError {
    return E.EACCES;
  }
  override tmpfile(): LinuxError {
    return E.EOPNOTSUPP;
  }
  override mkdir(): LinuxError {
    return E.EPERM;
  }
  override mknod(): LinuxError {
    return E.EPERM;
  }
  override symlink(): LinuxError {
    return E.EPERM;
  }
  override link(): LinuxError {
    return E.EPERM;
  }
  override unlink(): LinuxError {
    return E.EPERM;
  }
  override rmdir(): LinuxError {
    return E.EPERM;
  }
  override rename(): LinuxError {
    return E.EPERM;
  }

  /** Adds a device node (devpts itself, for a new pair and for ptmx). */
  addNode(name: string, attrs: CreateAttrs): Inode | LinuxError {
    return super.mknod(name, attrs);
  }

  /** Removes a pair's node. */
  removeNode(name: string): void {
    const node = this.lookup(name);
    if (!isError(node)) super.unlink(name, node);
  }
}

/**
 * A devpts instance: mount it at /dev/pts; it registers /dev/ptmx's driver (5:2) in the VFS's
 * device registry and holds a `ptmx` node of its own. One instance per sandbox (its pty numbers
 * start at 0).
 *
 * @example
 * ```ts
 * const devpts = new Devpts(kernel, vfs.devices);
 * vfs.mount(ctx, ctx.cwd, '/dev/pts', devpts, 0);
 * devfs.addNode('ptmx', 0o666, 5, 2); // /dev/ptmx, as on a desktop system
 * devfs.setTty(devpts.controllingTtyHook()); // /dev/tty
 * ```
 */
export class Devpts extends Tmpfs {
  override readonly type: string = 'devpts';
  override readonly root: DevptsRoot;
  readonly #ttys = new Map<number, Tty>();
  readonly #kernel: Kernel;
  readonly #registry: DeviceRegistry;

  constructor(kernel: Kernel, registry: DeviceRegistry) {
    super({ mode: 0o755 });
    this.root = new DevptsRoot(this, { mode: S_IFDIR | 0o755, uid: 0, gid: 0, rdev: 0 });
    this.root.parent = this.root;
    this.#kernel = kernel;
    this.#registry = registry;
    registry.registerChar(PTMX_MAJOR, PTMX_MINOR, { open: (_flags, _loc, creds) => this.#openMaster(creds) });
    this.root.addNode('ptmx', { mode: S_IFCHR, uid: 0, gid: 0, rdev: makedev(PTMX_MAJOR, PTMX_MINOR) });
  }

  override statfs(): Statfs {
    return simpleStatfs(DEVPTS_SUPER_MAGIC);
  }

  /** The pair whose slave is /dev/pts/`index`, while its master is open. */
  tty(index: number): Tty | undefined {
    return this.#ttys.get(index);
  }

  /**
   * The driver behind /dev/tty (pass it to `Devfs.setTty`): the opener's controlling terminal,
   * ENXIO without one.
   */
  controllingTtyHook(): (flags: number) => FileDescriptionImpl | LinuxError {
    return () => {
      const g = this.#kernel.current?.group;
      const tty = g ? controllingTty(g) : undefined;
      return tty ? new PtySlave(tty) : E.ENXIO;
    };
  }

  #openMaster(creds: Creds): FileDescriptionImpl | LinuxError {
    let index = 0;
    while (this.#ttys.has(index)) index++;
    const tty = new Tty(index, kernelTtySignals(this.#kernel));
    const node = this.root.addNode(String(index), {
      mode: S_IFCHR | 0o620,
      uid: creds.fsuid,
      gid: creds.fsgid,
      rdev: makedev(PTY_SLAVE_MAJOR, index),
    });
    if (isError(node)) return node;
    const driver: CharDevice = { open: (flags) => this.#openSlave(tty, flags) };
    this.#registry.registerChar(PTY_SLAVE_MAJOR, index, driver);
    this.#ttys.set(index, tty);
    return new PtyMaster(tty, this);
  }

  #openSlave(tty: Tty, flags: number): FileDescriptionImpl | LinuxError {
    if (tty.hungUp || this.#ttys.get(tty.index) !== tty) return E.EIO;
    if (tty.locked) return E.EIO;
    const slave = new PtySlave(tty);
    openedTty(this.#kernel.current?.group, tty, (flags & OpenFlag.O_NOCTTY) !== 0);
    return slave;
  }

  /** The master of `tty` closed: /dev/pts/N goes away and N is free again. */
  remove(tty: Tty): void {
    if (this.#ttys.get(tty.index) !== tty) return;
    this.#ttys.delete(tty.index);
    this.#registry.unregisterChar(PTY_SLAVE_MAJOR, tty.index);
    this.root.removeNode(String(tty.index));
  }
}

/** The terminal behind an open file, if it is one end of a pty. */
export function ttyOf(file: FileDescription): { tty: Tty; master: boolean } | undefined {
  const impl = file.impl;
  if (impl instanceof PtyMaster) return { tty: impl.tty, master: true };
  if (impl instanceof PtySlave) return { tty: impl.tty, master: false };
  return undefined;
}
