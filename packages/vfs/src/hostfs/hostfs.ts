/**
 * hostfs: a host directory as a filesystem, read-only or read-write, confined to that directory.
 *
 * Confinement: the only host path string ever built from outside is the mount's root, given by
 * whoever assembles the sandbox. Every other host access names one component relative to a
 * directory fd this filesystem holds: `/proc/self/fd/<dirfd>/<name>` with O_NOFOLLOW, where
 * `name` comes from the VFS (never `.`, `..`, empty or containing `/`). The VFS resolves `..`
 * with its own parent pointers (never the host's) and symlinks in the sandbox's namespace (a
 * host symlink to /etc/passwd means the sandbox's /etc/passwd). A symlink swapped in on the host
 * during a walk makes that component's O_NOFOLLOW open fail instead of being followed.
 *
 * Metadata changes go through an O_PATH fd of the object (`/proc/self/fd/<fd>` names exactly
 * that inode), so they cannot be redirected either. Host errnos are mapped one to one.
 *
 * Host calls node:fs lacks (mknodat, renameat2, the l*xattr family, fallocate) come from an
 * optional {@link HostCalls} the assembler supplies (the runtime has native code; this package
 * has none).
 * They too name one component under a held directory fd. Without them: mknod gives EPERM,
 * RENAME_EXCHANGE gives EINVAL, RENAME_NOREPLACE is checked by the VFS rather than by the host
 * (a name appearing on the host in between is replaced), and extended attributes give
 * EOPNOTSUPP. With them, user.* attributes pass through (other namespaces stay EOPNOTSUPP: a
 * sandbox must not set the host's trusted.* or security.* labels).
 *
 * Host calls per operation: every lookup asks the host (one lstat; a volume shows host renames and
 * new files as a bind mount does) and every stat re-reads the attributes (one lstat, or one fstat
 * of a held directory fd). Kept between calls is only what cannot change behind the same inode:
 * a lookup that finds a directory already known by (dev, ino) reuses its object and fd instead
 * of opening it again (a held fd pins the inode, so its number cannot be reused meanwhile), and
 * a symlink's target is read once per inode (a new target is a new inode, which refresh notices).
 *
 * Limits: timestamps set through utimensat keep microsecond precision; directory fds stay open
 * while the filesystem lives (one per directory visited).
 *
 * @module
 */

import * as fs from 'node:fs';
import { E, errorOf, isError } from '@tsvisor/abi';
import type { LinuxError } from '@tsvisor/abi';
import {
  MAX_LFS_FILESIZE,
  O_ACCMODE,
  O_NOATIME,
  O_PATH,
  S_IFDIR,
  S_IFMT,
  SEEK_END,
  SEEK_HOLE,
} from '../constants.js';
import { SnapshotDirFile } from '../dir-file.js';
import type { DirListEntry } from '../dir-file.js';
import { FileDescriptionImpl } from '../file.js';
import type { FileDescription } from '../file.js';
import { Inode } from '../inode.js';
import type { CreateAttrs, FilesystemImpl } from '../inode.js';
import { direntType } from '../tmpfs/tmpfs.js';
import type { SetAttr, Statfs } from '../types.js';

const { O_RDONLY, O_DIRECTORY, O_NOFOLLOW, O_CREAT, O_EXCL, O_RDWR, O_NONBLOCK } = fs.constants;
const O_CLOEXEC = 0o2000000;
const HOST_O_PATH = 0o10000000;

/** The LinuxError for a host error thrown by node:fs. */
export function hostError(e: unknown): LinuxError {
  const errno = (e as { errno?: unknown }).errno;
  if (typeof errno === 'number' && errno < 0 && errno >= -4095) return errorOf(-errno);
  return E.EIO;
}

function at(dirFd: number, name: string): Buffer {
  return Buffer.from(`/proc/self/fd/${dirFd}/${name}`, 'latin1');
}

function self(fd: number): string {
  return `/proc/self/fd/${fd}`;
}

/**
 * Host system calls that node:fs does not offer, for {@link Hostfs}. Each names one component
 * `name` in the directory open as `dirFd` (never a path) and must not follow a symlink in it
 * (`/proc/self/fd/<dirFd>/<name>` with the l* variants); with `name` null it is the directory
 * `dirFd` itself (the f* variants on the fd: an l* call on the /proc magic link would name the
 * link). Results are 0 (or the value) on success and a negative errno on failure; nothing
 * throws.
 */
export interface HostCalls {
  /** mknodat(2). */
  mknodat(dirFd: number, name: string, mode: number, dev: number): number;
  /** renameat2(2) with RENAME_NOREPLACE (1) or RENAME_EXCHANGE (2). */
  renameat2(oldDirFd: number, oldName: string, newDirFd: number, newName: string, flags: number): number;
  /** lgetxattr(2): the value, or a negative errno. */
  getxattr(dirFd: number, name: string | null, attr: string): Uint8Array | number;
  /** lsetxattr(2) with XATTR_CREATE / XATTR_REPLACE flags. */
  setxattr(dirFd: number, name: string | null, attr: string, value: Uint8Array, flags: number): number;
  /** llistxattr(2): the attribute names, or a negative errno. */
  listxattr(dirFd: number, name: string | null): string[] | number;
  /** lremovexattr(2). */
  removexattr(dirFd: number, name: string | null, attr: string): number;
  /**
   * lseek(2) on the directory `fd` for SEEK_END, SEEK_DATA and SEEK_HOLE, whose answers depend on
   * the host filesystem (ext4 puts a directory's end at its hash limit, near 2^63). Optional:
   * without it the end of a directory is its st_size.
   */
  lseek?(fd: number, offset: number, whence: number): number;
  /**
   * fallocate(2) on an open host file `fd`, after the VFS's checks. Optional: without it hostfs
   * files answer EOPNOTSUPP.
   */
  fallocate?(fd: number, mode: number, offset: number, len: number): number;
}

/** The LinuxError for a HostCalls result, or undefined for success. */
function callError(r: number): LinuxError | undefined {
  return r < 0 ? errorOf(-r) : undefined;
}

/** Options of a {@link Hostfs}. */
export interface HostfsOptions {
  /** mknod, renameat2 and xattrs on the host (see {@link HostCalls}); absent: not supported. */
  hostCalls?: HostCalls;
  /** Refuse every change with EROFS (also mount it MS_RDONLY so open(O_WRONLY) fails early). */
  readOnly?: boolean;
  /**
   * How many directory fds to keep open (default 512). Beyond that the least recently used are
   * closed and reopened on demand, one component at a time from their parent, checking that the
   * host directory is still the same (dev, ino); a directory replaced on the host meanwhile
   * answers ENOENT.
   */
  maxOpenDirs?: number;
}

/**
 * A Hostfs nobody closed gives its root fd back when it is garbage collected (its other
 * directory fds are closed by {@link Hostfs.evictAll} or {@link Hostfs.close}).
 */
const hostRoots = new FinalizationRegistry<number>((fd) => {
  try {
    fs.closeSync(fd);
  } catch {
    // already closed
  }
});

/** A host directory mounted into the sandbox. */
export class Hostfs implements FilesystemImpl {
  readonly type = 'hostfs';
  readonly dev: number;
  readonly root: HostDir;
  readonly readOnly: boolean;
  /** The host calls node:fs lacks, if the assembler gave them. */
  readonly calls: HostCalls | null;
  /** Directories by host (dev, ino): one object per directory. */
  private readonly dirs = new Map<number, Map<number, HostDir>>();
  /** Directories holding an open fd, least recently used first (the root is not listed). */
  private readonly openDirs = new Map<HostDir, true>();
  private readonly maxOpenDirs: number;
  private closed = false;

  /** Open `hostPath` (a directory) as the root. Throws if it cannot be opened (a setup error). */
  constructor(hostPath: string, options: HostfsOptions = {}) {
    this.readOnly = options.readOnly === true;
    this.calls = options.hostCalls ?? null;
    this.maxOpenDirs = Math.max(16, options.maxOpenDirs ?? 512);
    const fd = fs.openSync(hostPath, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    const st = fs.fstatSync(fd, { bigint: true });
    this.dev = Number(st.dev);
    this.root = new HostDir(this, fd, st);
    this.root.parent = this.root;
    this.remember(this.root, st);
    hostRoots.register(this, fd, this);
  }

  private remember(d: HostDir, st: fs.BigIntStats): void {
    const dev = Number(st.dev);
    let m = this.dirs.get(dev);
    if (m === undefined) {
      m = new Map();
      this.dirs.set(dev, m);
    }
    m.set(Number(st.ino), d);
  }

  /** The directory object for a freshly opened host directory fd (closing it if known). */
  dirFor(fd: number, parent: HostDir, name: string): HostDir | LinuxError {
    let st: fs.BigIntStats;
    try {
      st = fs.fstatSync(fd, { bigint: true });
    } catch (e) {
      fs.closeSync(fd);
      return hostError(e);
    }
    const known = this.dirs.get(Number(st.dev))?.get(Number(st.ino));
    if (known !== undefined) {
      if (!known.adoptFd(fd)) fs.closeSync(fd);
      else this.track(known);
      return this.foundAgain(known, st, parent, name);
    }
    const d = new HostDir(this, fd, st);
    d.parent = parent;
    d.name = name;
    this.remember(d, st);
    this.track(d);
    return d;
  }

  /**
   * The directory object already known for the host directory an lstat found at `name` in
   * `parent`, now placed there; null if it was never opened. No new open is needed: its fd came
   * from a confined open and, while held, keeps that inode (and so its number) alive; an evicted
   * one reopens from `parent` by name and checks (dev, ino), as {@link reopen} does.
   */
  knownDir(st: fs.BigIntStats, parent: HostDir, name: string): HostDir | null {
    const known = this.dirs.get(Number(st.dev))?.get(Number(st.ino));
    return known === undefined ? null : this.foundAgain(known, st, parent, name);
  }

  /** Known directory `d`, found again as `name` in `parent` with attributes `st`. */
  private foundAgain(d: HostDir, st: fs.BigIntStats, parent: HostDir, name: string): HostDir {
    d.load(st);
    if (d !== this.root) {
      d.parent = parent;
      d.name = name;
    }
    return d;
  }

  /** Count `d` as holding an fd, closing the least recently used directory's if over the cap. */
  track(d: HostDir): void {
    this.openDirs.delete(d);
    this.openDirs.set(d, true);
    if (this.openDirs.size > this.maxOpenDirs) {
      const lru = this.openDirs.keys().next().value as HostDir;
      this.openDirs.delete(lru);
      lru.evict();
    }
  }

  /** Mark `d` as just used. */
  touch(d: HostDir): void {
    if (this.openDirs.delete(d)) this.openDirs.set(d, true);
  }

  /** Open an evicted directory again from its parent; -1 if it is gone or was replaced. */
  reopen(d: HostDir): number {
    if (this.closed) return -1;
    const parent = d.parent;
    if (!(parent instanceof HostDir) || parent === d) return -1;
    const pfd = parent.fd;
    if (pfd < 0) return -1;
    let fd: number;
    try {
      fd = fs.openSync(at(pfd, d.name), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    } catch {
      return -1;
    }
    try {
      const st = fs.fstatSync(fd, { bigint: true });
      if (Number(st.dev) !== d.hostDev || Number(st.ino) !== d.ino) {
        fs.closeSync(fd);
        return -1;
      }
    } catch {
      fs.closeSync(fd);
      return -1;
    }
    this.track(d);
    return fd;
  }

  /** Directories currently holding a host fd (the root included, unless closed). */
  get openDirCount(): number {
    return this.openDirs.size + (this.closed ? 0 : 1);
  }

  /**
   * Closes every directory fd but the root's; each reopens on its next use. For an owner whose
   * programs have finished (a sandbox after its run) and who may still read files through it.
   */
  evictAll(): void {
    for (const d of this.openDirs.keys()) d.evict();
    this.openDirs.clear();
  }

  /**
   * Closes every host fd this filesystem holds, the root's included. Open files keep their own
   * fds until released; everything else answers ENOENT from then on. Idempotent.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.evictAll();
    for (const byIno of this.dirs.values()) for (const d of byIno.values()) d.close();
    hostRoots.unregister(this);
  }

  /** True once {@link close} ran. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Forget a removed directory and close its fd. */
  forget(d: HostDir): void {
    this.dirs.get(d.hostDev)?.delete(d.ino);
    this.openDirs.delete(d);
    d.close();
  }

  statfs(): Statfs {
    const s = fs.statfsSync(self(this.root.fd));
    return {
      type: Number(s.type),
      bsize: Number(s.bsize),
      blocks: Number(s.blocks),
      bfree: Number(s.bfree),
      bavail: Number(s.bavail),
      files: Number(s.files),
      ffree: Number(s.ffree),
      fsid: 0,
      namelen: 255,
      frsize: Number(s.bsize),
      flags: 0,
    };
  }
}

/** Common part of host inodes: metadata from a host stat. */
abstract class HostInode extends Inode {
  hostDev = 0;
  private sizeBytes = 0;
  private blockCount = 0;
  private blockSize = 4096;

  constructor(readonly fs: Hostfs) {
    super();
  }

  /** Copy a host stat into the fields. */
  load(st: fs.BigIntStats): void {
    this.hostDev = Number(st.dev);
    this.ino = Number(st.ino);
    this.mode = Number(st.mode);
    this.uid = Number(st.uid);
    this.gid = Number(st.gid);
    this.nlink = Number(st.nlink);
    this.rdev = Number(st.rdev);
    this.sizeBytes = Number(st.size);
    this.blockCount = Number(st.blocks);
    this.blockSize = Number(st.blksize);
    this.atimeNs = st.atimeNs;
    this.mtimeNs = st.mtimeNs;
    this.ctimeNs = st.ctimeNs;
    this.btimeNs = st.birthtimeNs;
  }

  override size(): number {
    return this.sizeBytes;
  }

  override statSize(): number {
    return this.sizeBytes;
  }

  override stDev(): number {
    return this.hostDev;
  }

  override blocks(): number {
    return this.blockCount;
  }

  override blksize(): number {
    return this.blockSize;
  }

  /** A `/proc/self/fd/N` path naming exactly this inode, valid during `fn`. */
  protected abstract withPath<T>(fn: (path: string) => T): T | LinuxError;

  /** Where this inode is for {@link HostCalls}: a directory fd and a name (null: the fd itself). */
  protected abstract place(): [number, string | null];

  /** The host calls for user.* attributes, or the error for any other name / no host calls. */
  private xattrCalls(attr: string): HostCalls | LinuxError {
    const calls = this.fs.calls;
    if (calls === null || !attr.startsWith('user.')) return E.EOPNOTSUPP;
    return calls;
  }

  override getxattr(attr: string): Uint8Array | LinuxError {
    const calls = this.xattrCalls(attr);
    if (isError(calls)) return calls;
    const [fd, name] = this.place();
    const r = calls.getxattr(fd, name, attr);
    return typeof r === 'number' ? errorOf(-r) : r;
  }

  override setxattr(attr: string, value: Uint8Array, flags: number): LinuxError | undefined {
    if (this.fs.readOnly) return E.EROFS;
    const calls = this.xattrCalls(attr);
    if (isError(calls)) return calls;
    const [fd, name] = this.place();
    const err = callError(calls.setxattr(fd, name, attr, value, flags));
    if (err === undefined) this.refresh();
    return err;
  }

  override removexattr(attr: string): LinuxError | undefined {
    if (this.fs.readOnly) return E.EROFS;
    const calls = this.xattrCalls(attr);
    if (isError(calls)) return calls;
    const [fd, name] = this.place();
    const err = callError(calls.removexattr(fd, name, attr));
    if (err === undefined) this.refresh();
    return err;
  }

  override listxattr(): string[] | LinuxError {
    const calls = this.fs.calls;
    if (calls === null) return [];
    const [fd, name] = this.place();
    const r = calls.listxattr(fd, name);
    return typeof r === 'number' ? errorOf(-r) : r.filter((n) => n.startsWith('user.'));
  }

  override setattr(attr: SetAttr): LinuxError | undefined {
    if (this.fs.readOnly) return E.EROFS;
    const r = this.withPath((p) => {
      try {
        if (attr.size !== undefined) fs.truncateSync(p, attr.size);
        if (attr.mode !== undefined) fs.chmodSync(p, attr.mode & 0o7777);
        if (attr.uid !== undefined || attr.gid !== undefined) fs.chownSync(p, attr.uid ?? -1, attr.gid ?? -1);
        if (attr.atimeNs !== undefined || attr.mtimeNs !== undefined) {
          const a = attr.atimeNs ?? this.atimeNs;
          const m = attr.mtimeNs ?? this.mtimeNs;
          fs.utimesSync(p, Number(a) / 1e9, Number(m) / 1e9);
        }
        this.load(fs.statSync(p, { bigint: true }));
        return undefined;
      } catch (e) {
        return hostError(e);
      }
    });
    return r;
  }
}

/** A host directory, reached through a directory fd (reopened on demand after eviction). */
export class HostDir extends HostInode {
  private closed = false;
  private openFd: number;

  constructor(fs: Hostfs, fd: number, st: fs.BigIntStats) {
    super(fs);
    this.openFd = fd;
    this.load(st);
  }

  /** The directory fd, reopened if it was evicted; -1 when the directory is gone. */
  get fd(): number {
    if (this.openFd < 0 && !this.closed) this.openFd = this.fs.reopen(this);
    else if (this.openFd >= 0) this.fs.touch(this);
    return this.openFd;
  }

  /** Take a freshly opened fd of this directory if it has none; false if it already has one. */
  adoptFd(fd: number): boolean {
    if (this.openFd >= 0 || this.closed) return false;
    this.openFd = fd;
    return true;
  }

  /** Close the fd to save descriptors; the next use reopens it. */
  evict(): void {
    if (this.openFd >= 0) {
      fs.closeSync(this.openFd);
      this.openFd = -1;
    }
  }

  close(): void {
    if (!this.closed) {
      this.closed = true;
      this.evict();
    }
  }

  override refresh(): void {
    if (this.closed) return;
    const fd = this.fd;
    if (fd < 0) return;
    try {
      this.load(fs.fstatSync(fd, { bigint: true }));
    } catch {
      // keep the last known values
    }
  }

  protected withPath<T>(fn: (path: string) => T): T | LinuxError {
    return fn(self(this.fd));
  }

  protected place(): [number, string | null] {
    return [this.fd, null];
  }

  /** Every lookup asks the host (no dentry cache): RESOLVE_CACHED gives EAGAIN. */
  override lookupCached(_name: string): Inode | LinuxError | null {
    return null;
  }

  override lookup(name: string): Inode | LinuxError {
    let st: fs.BigIntStats | undefined;
    try {
      // Misses are common (PATH and library searches): ENOENT comes back without an exception.
      st = fs.lstatSync(at(this.fd, name), { bigint: true, throwIfNoEntry: false });
    } catch (e) {
      return hostError(e);
    }
    if (st === undefined) return E.ENOENT;
    if ((Number(st.mode) & S_IFMT) === S_IFDIR) return this.fs.knownDir(st, this, name) ?? this.openDir(name);
    return new HostNode(this.fs, this, name, st);
  }

  private openDir(name: string): HostDir | LinuxError {
    let fd: number;
    try {
      fd = fs.openSync(at(this.fd, name), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    } catch (e) {
      return hostError(e);
    }
    return this.fs.dirFor(fd, this, name);
  }

  private touched(): void {
    this.refresh();
  }

  /** Give a new host object the sandbox's owner and exact mode through an fd of it. */
  private own(fd: number, attrs: CreateAttrs): void {
    fs.fchownSync(fd, attrs.uid, attrs.gid);
    fs.fchmodSync(fd, attrs.mode & 0o7777);
  }

  override create(name: string, attrs: CreateAttrs): Inode | LinuxError {
    if (this.fs.readOnly) return E.EROFS;
    try {
      const fd = fs.openSync(at(this.fd, name), O_CREAT | O_EXCL | O_RDWR | O_NOFOLLOW | O_CLOEXEC, 0o600);
      try {
        this.own(fd, attrs);
        const st = fs.fstatSync(fd, { bigint: true });
        this.touched();
        return new HostNode(this.fs, this, name, st);
      } finally {
        fs.closeSync(fd);
      }
    } catch (e) {
      return hostError(e);
    }
  }

  override mkdir(name: string, attrs: CreateAttrs): Inode | LinuxError {
    if (this.fs.readOnly) return E.EROFS;
    try {
      fs.mkdirSync(at(this.fd, name), 0o700);
      const fd = fs.openSync(at(this.fd, name), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      this.own(fd, attrs);
      this.touched();
      return this.fs.dirFor(fd, this, name);
    } catch (e) {
      return hostError(e);
    }
  }

  override symlink(name: string, target: string, attrs: CreateAttrs): Inode | LinuxError {
    if (this.fs.readOnly) return E.EROFS;
    try {
      const p = at(this.fd, name);
      fs.symlinkSync(Buffer.from(target, 'latin1'), p);
      fs.lchownSync(p, attrs.uid, attrs.gid);
      this.touched();
      return new HostNode(this.fs, this, name, fs.lstatSync(p, { bigint: true }));
    } catch (e) {
      return hostError(e);
    }
  }

  /**
   * mknod through the host: the node is made with mode 0600, then given the sandbox's owner and
   * mode through an O_PATH fd of it (as create does), so the supervisor's umask does not matter.
   */
  override mknod(name: string, attrs: CreateAttrs): Inode | LinuxError {
    const calls = this.fs.calls;
    if (calls === null) return E.EPERM;
    if (this.fs.readOnly) return E.EROFS;
    const err = callError(calls.mknodat(this.fd, name, (attrs.mode & S_IFMT) | 0o600, attrs.rdev));
    if (err) return err;
    let node: HostNode;
    try {
      node = new HostNode(this.fs, this, name, fs.lstatSync(at(this.fd, name), { bigint: true }));
    } catch (e) {
      return hostError(e);
    }
    const own = node.setattr({ uid: attrs.uid, gid: attrs.gid, mode: attrs.mode & 0o7777 });
    if (own) return own;
    this.touched();
    return node;
  }

  override link(name: string, target: Inode): LinuxError | undefined {
    if (this.fs.readOnly) return E.EROFS;
    if (!(target instanceof HostNode) || target.fs !== this.fs) return E.EXDEV;
    try {
      fs.linkSync(at(target.dir.fd, target.hostName), at(this.fd, name));
      target.refresh();
      this.touched();
      return undefined;
    } catch (e) {
      return hostError(e);
    }
  }

  override unlink(name: string, child: Inode): LinuxError | undefined {
    if (this.fs.readOnly) return E.EROFS;
    try {
      fs.unlinkSync(at(this.fd, name));
      child.nlink = Math.max(0, child.nlink - 1);
      this.touched();
      return undefined;
    } catch (e) {
      return hostError(e);
    }
  }

  override rmdir(name: string, child: Inode): LinuxError | undefined {
    if (this.fs.readOnly) return E.EROFS;
    try {
      fs.rmdirSync(at(this.fd, name));
      child.nlink = 0;
      if (child instanceof HostDir) this.fs.forget(child);
      this.touched();
      return undefined;
    } catch (e) {
      return hostError(e);
    }
  }

  override rename(
    oldName: string,
    moved: Inode,
    newDir: Inode,
    newName: string,
    replaced: Inode | null,
    exchange: boolean,
  ): LinuxError | undefined {
    if (this.fs.readOnly) return E.EROFS;
    if (!(newDir instanceof HostDir) || newDir.fs !== this.fs) return E.EXDEV;
    const calls = this.fs.calls;
    if (exchange && calls === null) return E.EINVAL;
    if (calls !== null) {
      // The host checks what the VFS checked, atomically: no name appears or goes in between.
      const flags = exchange ? 2 : replaced === null ? 1 : 0;
      const err = callError(calls.renameat2(this.fd, oldName, newDir.fd, newName, flags));
      if (err) return err;
    } else {
      try {
        fs.renameSync(at(this.fd, oldName), at(newDir.fd, newName));
      } catch (e) {
        return hostError(e);
      }
    }
    const place = (node: Inode, dir: HostDir, name: string): void => {
      if (node instanceof HostDir) {
        node.parent = dir;
        node.name = name;
      } else if (node instanceof HostNode) {
        node.dir = dir;
        node.hostName = name;
      }
    };
    place(moved, newDir, newName);
    if (exchange && replaced !== null) place(replaced, this, oldName);
    else if (replaced instanceof HostDir) this.fs.forget(replaced);
    if (replaced !== null && !exchange) replaced.nlink = Math.max(0, replaced.nlink - 1);
    this.touched();
    newDir.touched();
    return undefined;
  }

  override open(_flags: number): FileDescriptionImpl | LinuxError {
    return new HostDirFile(this);
  }

  override truncate(): LinuxError | undefined {
    return E.EISDIR;
  }
}

/** A host non-directory, named by its directory and name. */
export class HostNode extends HostInode {
  /**
   * A symlink's target once read: a symlink's contents never change in place (a new target is a
   * new inode), so readlink asks the host only once per inode.
   */
  private target: string | null = null;

  constructor(
    fs: Hostfs,
    public dir: HostDir,
    public hostName: string,
    st: fs.BigIntStats,
  ) {
    super(fs);
    this.load(st);
  }

  override refresh(): void {
    try {
      const st = fs.lstatSync(at(this.dir.fd, this.hostName), { bigint: true });
      // Another inode has this name on the host now: the target read was the old one's.
      if (Number(st.ino) !== this.ino || Number(st.dev) !== this.hostDev) this.target = null;
      this.load(st);
    } catch {
      // removed on the host: keep the last known values
    }
  }

  override size(): number {
    this.refresh();
    return super.size();
  }

  protected place(): [number, string | null] {
    return [this.dir.fd, this.hostName];
  }

  protected withPath<T>(fn: (path: string) => T): T | LinuxError {
    let fd: number;
    try {
      fd = fs.openSync(at(this.dir.fd, this.hostName), HOST_O_PATH | O_NOFOLLOW | O_CLOEXEC);
    } catch (e) {
      return hostError(e);
    }
    try {
      return fn(self(fd));
    } finally {
      fs.closeSync(fd);
    }
  }

  override setattr(attr: SetAttr): LinuxError | undefined {
    if (this.isSymlink) {
      if (this.fs.readOnly) return E.EROFS;
      try {
        const p = at(this.dir.fd, this.hostName);
        if (attr.uid !== undefined || attr.gid !== undefined)
          fs.lchownSync(p, attr.uid ?? -1, attr.gid ?? -1);
        if (attr.atimeNs !== undefined || attr.mtimeNs !== undefined) {
          fs.lutimesSync(
            p,
            Number(attr.atimeNs ?? this.atimeNs) / 1e9,
            Number(attr.mtimeNs ?? this.mtimeNs) / 1e9,
          );
        }
        this.refresh();
        return undefined;
      } catch (e) {
        return hostError(e);
      }
    }
    return super.setattr(attr);
  }

  override readlink(): string | LinuxError {
    if (!this.isSymlink) return E.EINVAL;
    if (this.target !== null) return this.target;
    try {
      const link = fs.readlinkSync(at(this.dir.fd, this.hostName), { encoding: 'buffer' });
      this.target = link.toString('latin1');
      return this.target;
    } catch (e) {
      return hostError(e);
    }
  }

  override truncate(size: number): LinuxError | undefined {
    return this.setattr({ size });
  }

  override open(flags: number): FileDescriptionImpl | LinuxError {
    if (!this.isRegular) return E.ENXIO;
    const acc = flags & O_ACCMODE;
    if (this.fs.readOnly && acc !== 0) return E.EROFS;
    let hostFlags =
      (acc === 0 ? O_RDONLY : acc === 1 ? fs.constants.O_WRONLY : O_RDWR) |
      O_NOFOLLOW |
      O_CLOEXEC |
      O_NONBLOCK;
    if ((flags & O_NOATIME) !== 0) hostFlags |= O_NOATIME;
    if ((flags & O_PATH) !== 0) hostFlags = HOST_O_PATH | O_NOFOLLOW | O_CLOEXEC;
    try {
      const fd = fs.openSync(at(this.dir.fd, this.hostName), hostFlags);
      return new HostRegularFile(this, fd);
    } catch (e) {
      return hostError(e);
    }
  }
}

/** An open host regular file: I/O on its own host fd. */
export class HostRegularFile extends FileDescriptionImpl {
  private closed = false;

  constructor(
    readonly inode: HostNode,
    readonly fd: number,
  ) {
    super();
  }

  override read(dst: Uint8Array, offset: number): number | LinuxError {
    if (dst.length === 0) return 0;
    try {
      return fs.readSync(this.fd, dst, 0, dst.length, offset);
    } catch (e) {
      return hostError(e);
    }
  }

  /** With O_APPEND the VFS passes the current end of file as `offset`. */
  override write(src: Uint8Array, offset: number): number | LinuxError {
    if (offset + src.length > MAX_LFS_FILESIZE) return E.EFBIG;
    if (src.length === 0) return 0;
    try {
      return fs.writeSync(this.fd, src, 0, src.length, offset);
    } catch (e) {
      return hostError(e);
    }
  }

  override fsync(): LinuxError | undefined {
    try {
      fs.fsyncSync(this.fd);
      return undefined;
    } catch (e) {
      return hostError(e);
    }
  }

  /** On the host file itself (through {@link HostCalls.fallocate}), then the size is reloaded. */
  override fallocate(mode: number, offset: number, len: number): LinuxError | undefined {
    const fallocate = this.inode.fs.calls?.fallocate;
    if (fallocate === undefined) return E.EOPNOTSUPP;
    const err = callError(fallocate(this.fd, mode, offset, len));
    if (err === undefined) this.inode.refresh();
    return err;
  }

  override hostFd(): number {
    return this.fd;
  }

  override release(): void {
    if (!this.closed) {
      this.closed = true;
      fs.closeSync(this.fd);
    }
  }
}

/** An open host directory: a listing snapshot taken at offset 0, indexed by position. */
class HostDirFile extends SnapshotDirFile {
  constructor(protected override readonly dir: HostDir) {
    super();
  }

  /**
   * SEEK_END/SEEK_DATA/SEEK_HOLE answer what the host filesystem answers (through
   * {@link HostCalls.lseek}), capped at the VFS's largest offset (2^53 - 1): offsets are numbers.
   */
  override seek(file: FileDescription, offset: number, whence: number): number | LinuxError {
    const lseek = this.dir.fs.calls?.lseek;
    if (lseek === undefined || whence < SEEK_END || whence > SEEK_HOLE)
      return super.seek(file, offset, whence);
    const r = lseek(this.dir.fd, offset, whence);
    return r < 0 ? errorOf(-r) : Math.min(r, MAX_LFS_FILESIZE);
  }

  protected override list(): DirListEntry[] | LinuxError {
    const dir = this.dir;
    try {
      const names = fs.readdirSync(self(dir.fd), { encoding: 'buffer' });
      const list: DirListEntry[] = [];
      for (const n of names) {
        const name = n.toString('latin1');
        try {
          const st = fs.lstatSync(at(dir.fd, name), { bigint: true });
          list.push({ name, type: direntType(Number(st.mode)), ino: Number(st.ino) });
        } catch {
          // removed meanwhile
        }
      }
      return list;
    } catch (e) {
      return hostError(e);
    }
  }
}
