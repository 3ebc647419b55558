/**
 * devfs: the /dev a sandbox needs. The memory devices (null, zero, full, random, urandom) are
 * drivers registered in the VFS's {@link DeviceRegistry}, so a node made with mknod anywhere
 * works too; /dev itself is a tmpfs holding the nodes and the fd symlinks. The kernel plugs in
 * the controlling terminal (/dev/tty) and adds its own nodes (ptmx, ...) with
 * {@link Devfs.addDevice}.
 *
 * @module
 */

import { E, isError } from '@tsvisor/abi';
import type { LinuxError } from '@tsvisor/abi';
import { S_IFCHR, S_IFDIR, S_IFLNK } from '../constants.js';
import { makedev } from '../devices.js';
import type { CharDevice, DeviceRegistry } from '../devices.js';
import { FileDescriptionImpl } from '../file.js';
import type { FileDescription } from '../file.js';
import type { IOSequence } from '../io-sequence.js';
import type { Creds, Location } from '../types.js';
import { Tmpfs, TmpfsDir } from '../tmpfs/tmpfs.js';

/** Character devices read and written without a position (memory devices): lseek gives 0. */
abstract class MemDevice extends FileDescriptionImpl {
  /** null_lseek / zero_lseek: the position is always 0. */
  override seek(file: FileDescription): number {
    file.offset = 0;
    return 0;
  }

  override fsync(): LinuxError | undefined {
    return E.EINVAL;
  }
}

/** /dev/null and /dev/zero never wait (FMODE_NOWAIT); /dev/full does not say so on Linux. */
abstract class NowaitMemDevice extends MemDevice {
  override get nowait(): boolean {
    return true;
  }
}

/** /dev/null: reads give EOF, writes vanish. */
class NullFile extends NowaitMemDevice {
  override read(): number {
    return 0;
  }
  override write(src: Uint8Array): number {
    return src.length;
  }
  override readIO(): number {
    return 0;
  }
  /** write_iter_null: the count, the buffer never read (so even a NULL one is fine). */
  override writeIO(src: IOSequence): number {
    return src.length;
  }
}

/** /dev/zero: reads give zeros, writes vanish. */
class ZeroFile extends NowaitMemDevice {
  override read(dst: Uint8Array): number {
    dst.fill(0);
    return dst.length;
  }
  override write(src: Uint8Array): number {
    return src.length;
  }
  /** read_iter_zero: clears the destination, stopping at a fault. */
  override readIO(dst: IOSequence): number | LinuxError {
    return dst.zeroOut(dst.length);
  }
  override writeIO(src: IOSequence): number {
    return src.length;
  }
}

/** /dev/full: reads give zeros, writes fail with ENOSPC (even empty ones). */
class FullFile extends MemDevice {
  override read(dst: Uint8Array): number {
    dst.fill(0);
    return dst.length;
  }
  /** write_full: ENOSPC whatever the count, even 0. */
  override write(): LinuxError {
    return E.ENOSPC;
  }
  override readIO(dst: IOSequence): number | LinuxError {
    return dst.zeroOut(dst.length);
  }
  /** write_full: ENOSPC without reading the buffer. */
  override writeIO(): LinuxError {
    return E.ENOSPC;
  }
}

/** /dev/random and /dev/urandom: the host CSPRNG (the kernel's pool never blocks after boot). */
class RandomFile extends FileDescriptionImpl {
  override read(dst: Uint8Array): number {
    for (let off = 0; off < dst.length; off += 65536) {
      crypto.getRandomValues(dst.subarray(off, Math.min(dst.length, off + 65536)));
    }
    return dst.length;
  }
  /** Writing mixes into the pool on Linux; here it is accepted and dropped. */
  override write(src: Uint8Array): number {
    return src.length;
  }
  /** noop_llseek: the position does not move. */
  override seek(file: FileDescription): number {
    return file.offset;
  }
}

function device(make: () => FileDescriptionImpl): CharDevice {
  return { open: () => make() };
}

/** Register the memory devices (major 1) in `registry`. */
export function registerMemDevices(registry: DeviceRegistry): void {
  registry.registerChar(
    1,
    3,
    device(() => new NullFile()),
  );
  registry.registerChar(
    1,
    5,
    device(() => new ZeroFile()),
  );
  registry.registerChar(
    1,
    7,
    device(() => new FullFile()),
  );
  registry.registerChar(
    1,
    8,
    device(() => new RandomFile()),
  );
  registry.registerChar(
    1,
    9,
    device(() => new RandomFile()),
  );
}

/**
 * /dev/tty's driver: asks the kernel for the caller's controlling terminal. With no hook, or when
 * the hook has none for the caller, opening gives ENXIO as on Linux.
 */
export type TtyHook = (flags: number, loc: Location, creds: Creds) => FileDescriptionImpl | LinuxError;

/** Options of {@link Devfs}. */
export interface DevfsOptions {
  /** The controlling-terminal hook behind /dev/tty (5,0). */
  tty?: TtyHook;
}

/** A /dev filesystem with the standard nodes; mount it with {@link Vfs.mount}. */
export class Devfs extends Tmpfs {
  override readonly type: string = 'devtmpfs';
  private ttyHook: TtyHook | undefined;

  /** Registers its drivers in `registry` (use the VFS's: `vfs.devices`). */
  constructor(
    private readonly registry: DeviceRegistry,
    options: DevfsOptions = {},
  ) {
    super({ mode: 0o755 });
    this.ttyHook = options.tty;
    registerMemDevices(registry);
    registry.registerChar(5, 0, {
      open: (flags, loc, creds) => (this.ttyHook ? this.ttyHook(flags, loc, creds) : E.ENXIO),
    });
    for (const [name, min] of [
      ['null', 3],
      ['zero', 5],
      ['full', 7],
      ['random', 8],
      ['urandom', 9],
    ] as const) {
      this.addNode(name, 0o666, 1, min);
    }
    this.addNode('tty', 0o666, 5, 0);
    this.addSymlink('fd', '/proc/self/fd');
    this.addSymlink('stdin', '/proc/self/fd/0');
    this.addSymlink('stdout', '/proc/self/fd/1');
    this.addSymlink('stderr', '/proc/self/fd/2');
    this.addDir('shm', 0o1777);
    this.addDir('pts', 0o755);
  }

  /** Set or replace the controlling-terminal hook. */
  setTty(hook: TtyHook | undefined): void {
    this.ttyHook = hook;
  }

  private dirOf(path: string): [TmpfsDir, string] | LinuxError {
    const parts = path.split('/').filter((p) => p.length > 0);
    const last = parts.pop();
    if (last === undefined) return E.EINVAL;
    let dir: TmpfsDir = this.root;
    for (const p of parts) {
      const next = dir.lookup(p);
      if (isError(next)) return next;
      if (!(next instanceof TmpfsDir)) return E.ENOTDIR;
      dir = next;
    }
    if (dir.entries.has(last)) return E.EEXIST;
    return [dir, last];
  }

  /**
   * Add a character device node at `path` (relative to /dev, e.g. `ptmx` or `pts/0`) and, if
   * given, register its driver.
   */
  addDevice(
    path: string,
    mode: number,
    maj: number,
    min: number,
    driver?: CharDevice,
  ): LinuxError | undefined {
    if (driver !== undefined) this.registry.registerChar(maj, min, driver);
    return this.addNode(path, mode, maj, min);
  }

  /**
   * Add a character device node at `path` (relative to /dev, e.g. `kmsg`) for a driver that is
   * (or will be) registered in the {@link DeviceRegistry} under `maj`:`min`, as mknod(2) would
   * make it: owned by root, mode `mode & 07777`. EEXIST if the name is taken, ENOENT/ENOTDIR if
   * a parent directory is missing.
   *
   * @example
   * ```ts
   * devfs.addNode('kmsg', 0o644, 1, 11); // /dev/kmsg, whose driver the kernel registered
   * ```
   */
  addNode(path: string, mode: number, maj: number, min: number): LinuxError | undefined {
    const at = this.dirOf(path);
    if (isError(at)) return at;
    const r = at[0].mknod(at[1], {
      mode: S_IFCHR | (mode & 0o7777),
      uid: 0,
      gid: 0,
      rdev: makedev(maj, min),
    });
    return isError(r) ? r : undefined;
  }

  /** Add a symlink at `path` (relative to /dev). */
  addSymlink(path: string, target: string): LinuxError | undefined {
    const at = this.dirOf(path);
    if (isError(at)) return at;
    const r = at[0].symlink(at[1], target, { mode: S_IFLNK | 0o777, uid: 0, gid: 0, rdev: 0 });
    return isError(r) ? r : undefined;
  }

  /** Add a directory at `path` (relative to /dev). */
  addDir(path: string, mode: number): LinuxError | undefined {
    const at = this.dirOf(path);
    if (isError(at)) return at;
    const r = at[0].mkdir(at[1], { mode: S_IFDIR | (mode & 0o7777), uid: 0, gid: 0, rdev: 0 });
    return isError(r) ? r : undefined;
  }
}
