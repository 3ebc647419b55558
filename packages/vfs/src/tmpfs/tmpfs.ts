/**
 * tmpfs: a filesystem in memory (Linux's mm/shmem.c as seen from user space).
 *
 * Directories keep stable getdents offsets ({@link DirEntries}), regular files are sparse
 * ({@link FileData}), hard links share one inode, and removed files live on while open (the
 * description holds the inode). Device nodes and FIFOs are plain inodes: the VFS opens them
 * through its device registry and FIFO table, as Linux does for every filesystem.
 *
 * @module
 */

import { E, isError } from '@tsvisor/abi';
import type { LinuxError } from '@tsvisor/abi';
import { nowNs } from '../clock.js';
import {
  DT_BLK,
  DT_CHR,
  DT_DIR,
  DT_FIFO,
  DT_LNK,
  DT_REG,
  DT_SOCK,
  DT_UNKNOWN,
  MAX_LFS_FILESIZE,
  O_NOATIME,
  S_IFDIR,
  S_IFLNK,
  S_IFMT,
  S_IFREG,
  SEEK_CUR,
  SEEK_DATA,
  SEEK_HOLE,
  SEEK_SET,
} from '../constants.js';
import { anonDev } from '../devices.js';
import { DirFileImpl } from '../dir-file.js';
import { FileDescriptionImpl } from '../file.js';
import type { FileDescription } from '../file.js';
import { Inode } from '../inode.js';
import type { CreateAttrs, FilesystemImpl } from '../inode.js';
import type { DirentSink, SetAttr, Statfs } from '../types.js';
import { DirEntries } from './dir-entries.js';
import { FileData } from './file-data.js';
import type { HostMemoryProvider } from './file-data.js';
import { fallocateSealed, modeSealed, resizeSealed, sealFcntl, writeSealed } from './seals.js';
import { TMPFS_PAGE, TmpfsSpace, symlinkTakesBlock, xattrSpace } from './space.js';

/** TMPFS_MAGIC for statfs f_type. */
export const TMPFS_MAGIC = 0x01021994;
/** tmpfs counts 20 bytes of directory size per entry. */
const BOGO_DIRENT_SIZE = 20;
const DAY_NS = 86_400_000_000_000n;

/** The d_type of a mode. */
export function direntType(mode: number): number {
  switch (mode & S_IFMT) {
    case S_IFREG:
      return DT_REG;
    case S_IFDIR:
      return DT_DIR;
    case S_IFLNK:
      return DT_LNK;
    case 0o020000:
      return DT_CHR;
    case 0o060000:
      return DT_BLK;
    case 0o010000:
      return DT_FIFO;
    case 0o140000:
      return DT_SOCK;
    default:
      return DT_UNKNOWN;
  }
}

/**
 * Options of a tmpfs instance: Linux tmpfs's mount options (`parseTmpfsMountData` reads them
 * from a mount(2) data string).
 */
export interface TmpfsOptions {
  /** Mode of the root directory (default 01777, as Linux's tmpfs). */
  mode?: number;
  /** Owner of the root directory (default 0). */
  uid?: number;
  /** Group of the root directory (default 0). */
  gid?: number;
  /**
   * `size=`: the most bytes of file data (rounded up to 4 KiB pages); writes, fallocate and long
   * symlinks past it give ENOSPC. 0 or absent: unlimited (statfs then reports a nominal 4 GiB).
   */
  size?: number;
  /**
   * `nr_inodes=`: the most inodes (the root and every extra hard link count); creating past it
   * gives ENOSPC. 0 or absent: unlimited (statfs reports a nominal 2^20).
   */
  nrInodes?: number;
}

/** statfs figures of an unlimited tmpfs (Linux would derive them from the machine's RAM). */
const NOMINAL_BLOCKS = 1 << 20;
const NOMINAL_INODES = 1 << 20;

/** An in-memory filesystem. */
export class Tmpfs implements FilesystemImpl {
  readonly type: string = 'tmpfs';
  readonly dev = anonDev();
  readonly root: TmpfsDir;
  /** Block and inode accounting against the `size=` / `nr_inodes=` limits. */
  readonly space: TmpfsSpace;
  /**
   * Host memory for files that get mapped (the runtime gives memfds). Null in a standalone VFS:
   * file bytes then stay in this process and shared mappings of them are refused.
   */
  hostMemory: HostMemoryProvider | null = null;
  private nextIno = 1;

  constructor(options: TmpfsOptions = {}) {
    this.space = new TmpfsSpace(Math.ceil((options.size ?? 0) / TMPFS_PAGE), options.nrInodes ?? 0);
    // The root takes an inode like any other (a tmpfs with nr_inodes=1 holds nothing more).
    this.space.usedIspace = 0;
    this.space.reserveInode();
    this.root = new TmpfsDir(this, {
      mode: S_IFDIR | ((options.mode ?? 0o1777) & 0o7777),
      uid: options.uid ?? 0,
      gid: options.gid ?? 0,
      rdev: 0,
    });
    this.root.parent = this.root;
  }

  /** Inodes in use (statfs f_files - f_ffree). */
  get inodes(): number {
    return this.space.usedInodes;
  }

  /** A fresh inode number (the inode was reserved with {@link TmpfsSpace.reserveInode}). */
  allocIno(): number {
    return this.nextIno++;
  }

  /**
   * The last name of `inode` is gone: free its inode and space now, or, while a description of
   * it is open (any kind: O_PATH too), when the last one is released, as Linux frees at the
   * final iput. Does nothing while the inode still has a name, and only once.
   */
  evict(inode: TmpfsInode): void {
    if (inode.nlink > 0 || inode.opens > 0 || inode.holds > 0 || inode.evicted) return;
    inode.evicted = true;
    inode.dropXattrs();
    if (inode instanceof TmpfsFile) {
      this.space.freeBlocks(this.space.blocksLimited ? TmpfsSpace.pagesOf(inode) : 0);
      inode.data.releaseHostMemory();
    } else if (inode instanceof TmpfsSymlink && symlinkTakesBlock(inode.target)) {
      this.space.freeBlocks(1);
    }
    this.space.freeInode();
  }

  statfs(): Statfs {
    const sp = this.space;
    const blocks = sp.maxBlocks !== 0 ? sp.maxBlocks : NOMINAL_BLOCKS;
    const bfree = sp.maxBlocks !== 0 ? sp.maxBlocks - sp.usedBlocks : NOMINAL_BLOCKS;
    const files = sp.maxInodes !== 0 ? sp.maxInodes : NOMINAL_INODES;
    return {
      type: TMPFS_MAGIC,
      bsize: 4096,
      blocks,
      bfree,
      bavail: bfree,
      files,
      ffree: files - sp.usedInodes,
      fsid: 0,
      namelen: 255,
      frsize: 4096,
      flags: 0,
    };
  }
}

/** Common part of tmpfs inodes. */
export abstract class TmpfsInode extends Inode {
  constructor(
    readonly fs: Tmpfs,
    attrs: CreateAttrs,
  ) {
    super();
    this.ino = fs.allocIno();
    this.mode = attrs.mode;
    this.uid = attrs.uid;
    this.gid = attrs.gid;
    this.rdev = attrs.rdev;
    const now = nowNs();
    this.atimeNs = now;
    this.mtimeNs = now;
    this.ctimeNs = now;
    this.btimeNs = now;
  }

  private xattrs: Map<string, Uint8Array> | null = null;
  /** Descriptions made by this inode's open() and not released yet. */
  opens = 0;
  /** Other descriptions referring to this inode (see {@link Inode.hold}): O_PATH, FIFOs, ... */
  holds = 0;
  /** The inode and its space were given back ({@link Tmpfs.evict}). */
  evicted = false;

  /** An unlinked inode goes with the last description referring to it. */
  override hold(delta: 1 | -1): void {
    this.holds += delta;
    if (this.holds === 0 && this.nlink === 0) this.fs.evict(this);
  }

  /** tmpfs keeps the security., trusted. and user. namespaces. */
  private static xattrNamespace(name: string): boolean {
    return name.startsWith('user.') || name.startsWith('trusted.') || name.startsWith('security.');
  }

  override getxattr(name: string): Uint8Array | LinuxError {
    if (!TmpfsInode.xattrNamespace(name)) return E.EOPNOTSUPP;
    return this.xattrs?.get(name) ?? E.ENODATA;
  }

  override setxattr(name: string, value: Uint8Array, flags: number): LinuxError | undefined {
    if (!TmpfsInode.xattrNamespace(name)) return E.EOPNOTSUPP;
    // With nr_inodes= the new value is charged first (ENOSPC before EEXIST/ENODATA), then the
    // value it replaces is given back, as shmem_xattr_handler_set does.
    const space = this.fs.space;
    const cost = space.xattrsCharged ? xattrSpace(name, value.length) : 0;
    if (!space.reserveIspace(cost)) return E.ENOSPC;
    const old = this.xattrs?.get(name);
    if (((flags & 1) !== 0 && old !== undefined) || ((flags & 2) !== 0 && old === undefined)) {
      space.freeIspace(cost);
      return old !== undefined ? E.EEXIST : E.ENODATA;
    }
    if (old !== undefined && space.xattrsCharged) space.freeIspace(xattrSpace(name, old.length));
    (this.xattrs ??= new Map()).set(name, value.slice());
    this.ctimeNs = nowNs();
    return undefined;
  }

  override removexattr(name: string): LinuxError | undefined {
    if (!TmpfsInode.xattrNamespace(name)) return E.EOPNOTSUPP;
    const old = this.xattrs?.get(name);
    if (old === undefined) return E.ENODATA;
    this.xattrs?.delete(name);
    if (this.fs.space.xattrsCharged) this.fs.space.freeIspace(xattrSpace(name, old.length));
    this.ctimeNs = nowNs();
    return undefined;
  }

  /** Eviction: the extended attributes go, and with them their inode space. */
  dropXattrs(): void {
    const xattrs = this.xattrs;
    if (xattrs === null) return;
    if (this.fs.space.xattrsCharged)
      for (const [n, v] of xattrs) this.fs.space.freeIspace(xattrSpace(n, v.length));
    this.xattrs = null;
  }

  override listxattr(): string[] {
    return this.xattrs === null ? [] : [...this.xattrs.keys()];
  }

  /** Device nodes, FIFOs and sockets are opened by the VFS itself; this is never reached for them. */
  override open(_flags: number): FileDescriptionImpl | LinuxError {
    return E.ENXIO;
  }
}

/** A tmpfs directory. */
export class TmpfsDir extends TmpfsInode {
  readonly entries = new DirEntries<TmpfsInode>();

  constructor(fs: Tmpfs, attrs: CreateAttrs) {
    super(fs, attrs);
    this.nlink = 2;
  }

  override size(): number {
    return (this.entries.size + 2) * BOGO_DIRENT_SIZE;
  }

  override lookup(name: string): Inode | LinuxError {
    return this.entries.get(name) ?? E.ENOENT;
  }

  private added(child: TmpfsInode, name: string): void {
    this.entries.add(name, child);
    const now = child.ctimeNs;
    this.mtimeNs = now;
    this.ctimeNs = now;
  }

  override create(name: string, attrs: CreateAttrs): Inode | LinuxError {
    const full = this.fs.space.reserveInode();
    if (full) return full;
    const f = new TmpfsFile(this.fs, attrs);
    this.added(f, name);
    return f;
  }

  override tmpfile(attrs: CreateAttrs): Inode | LinuxError {
    const full = this.fs.space.reserveInode();
    if (full) return full;
    const f = new TmpfsFile(this.fs, attrs);
    f.nlink = 0;
    return f;
  }

  override mkdir(name: string, attrs: CreateAttrs): Inode | LinuxError {
    const full = this.fs.space.reserveInode();
    if (full) return full;
    const d = new TmpfsDir(this.fs, attrs);
    d.parent = this;
    d.name = name;
    this.nlink++;
    this.added(d, name);
    return d;
  }

  override mknod(name: string, attrs: CreateAttrs): Inode | LinuxError {
    const full = this.fs.space.reserveInode();
    if (full) return full;
    const n = new TmpfsSpecial(this.fs, attrs);
    this.added(n, name);
    return n;
  }

  override symlink(name: string, target: string, attrs: CreateAttrs): Inode | LinuxError {
    const space = this.fs.space;
    const full = space.reserveInode();
    if (full) return full;
    // A long target takes a page of its own (shmem_symlink), which may not be there.
    if (symlinkTakesBlock(target) && !space.reserveBlocks(1)) {
      space.freeInode();
      return E.ENOSPC;
    }
    const l = new TmpfsSymlink(this.fs, attrs, target);
    this.added(l, name);
    return l;
  }

  override link(name: string, target: Inode): LinuxError | undefined {
    if (!(target instanceof TmpfsInode) || target.fs !== this.fs) return E.EXDEV;
    // Every link but the first of an inode costs an inode's worth (shmem_link).
    if (target.nlink > 0) {
      const full = this.fs.space.reserveInode();
      if (full) return full;
    }
    target.nlink++;
    const now = nowNs();
    target.ctimeNs = now;
    this.entries.add(name, target);
    this.mtimeNs = now;
    this.ctimeNs = now;
    return undefined;
  }

  override unlink(name: string, child: Inode): LinuxError | undefined {
    this.entries.remove(name);
    child.nlink--;
    const now = nowNs();
    child.ctimeNs = now;
    this.mtimeNs = now;
    this.ctimeNs = now;
    this.dropLink(child);
    return undefined;
  }

  /** A name of the non-directory `child` went (its nlink already lowered): account for it. */
  private dropLink(child: Inode): void {
    if (!(child instanceof TmpfsInode)) return;
    if (child.nlink > 0) this.fs.space.freeInode();
    else this.fs.evict(child);
  }

  override rmdir(name: string, child: Inode): LinuxError | undefined {
    if (!(child instanceof TmpfsDir)) return E.ENOTDIR;
    if (child.entries.size > 0) return E.ENOTEMPTY;
    this.entries.remove(name);
    child.nlink = 0;
    this.nlink--;
    const now = nowNs();
    child.ctimeNs = now;
    this.mtimeNs = now;
    this.ctimeNs = now;
    this.fs.evict(child);
    return undefined;
  }

  override rename(
    oldName: string,
    moved: Inode,
    newDir: Inode,
    newName: string,
    replaced: Inode | null,
    exchange: boolean,
  ): LinuxError | undefined {
    if (!(newDir instanceof TmpfsDir) || !(moved instanceof TmpfsInode)) return E.EXDEV;
    const now = nowNs();
    if (exchange) {
      if (!(replaced instanceof TmpfsInode)) return E.ENOENT;
      this.entries.replace(oldName, replaced);
      newDir.entries.replace(newName, moved);
      if (moved.isDir !== replaced.isDir && this !== newDir) {
        if (moved.isDir) {
          this.nlink--;
          newDir.nlink++;
        } else {
          this.nlink++;
          newDir.nlink--;
        }
      }
      if (moved instanceof TmpfsDir) {
        moved.parent = newDir;
        moved.name = newName;
      }
      if (replaced instanceof TmpfsDir) {
        replaced.parent = this;
        replaced.name = oldName;
      }
      replaced.ctimeNs = now;
    } else {
      if (replaced !== null) {
        if (replaced instanceof TmpfsDir) {
          if (replaced.entries.size > 0) return E.ENOTEMPTY;
          replaced.nlink = 0;
          newDir.nlink--;
          this.fs.evict(replaced);
        } else {
          replaced.nlink--;
          this.dropLink(replaced);
        }
        replaced.ctimeNs = now;
        newDir.entries.remove(newName);
      }
      this.entries.remove(oldName);
      newDir.entries.add(newName, moved);
      if (moved instanceof TmpfsDir) {
        moved.parent = newDir;
        moved.name = newName;
        if (this !== newDir) {
          this.nlink--;
          newDir.nlink++;
        }
      }
    }
    moved.ctimeNs = now;
    this.mtimeNs = now;
    this.ctimeNs = now;
    newDir.mtimeNs = now;
    newDir.ctimeNs = now;
    return undefined;
  }

  override open(_flags: number): FileDescriptionImpl | LinuxError {
    this.opens++;
    return new TmpfsDirFile(this);
  }

  override truncate(_size: number): LinuxError | undefined {
    return E.EISDIR;
  }
}

/** An open tmpfs directory: getdents with stable offsets. */
class TmpfsDirFile extends DirFileImpl {
  constructor(protected override readonly dir: TmpfsDir) {
    super();
  }

  /** dcache_dir_lseek: SEEK_SET and SEEK_CUR only. */
  override seek(file: FileDescription, offset: number, whence: number): number | LinuxError {
    const pos = whence === SEEK_SET ? offset : whence === SEEK_CUR ? file.offset + offset : -1;
    return pos < 0 ? E.EINVAL : pos;
  }

  protected override entriesFrom(pos: number, sink: DirentSink): number | LinuxError {
    return this.dir.entries.iterate(pos, (e) =>
      sink(e.value.ino, e.key + 1, direntType(e.value.mode), e.name),
    );
  }

  /** A removed directory's inode goes with its last open description. */
  override release(_file: FileDescription): void {
    const dir = this.dir;
    dir.opens--;
    if (dir.nlink === 0) dir.fs.evict(dir);
  }
}

/** A tmpfs regular file. */
export class TmpfsFile extends TmpfsInode {
  readonly data = new FileData();
  /** Fallocated pages not written yet (see {@link SpaceFile.reserved}). */
  reserved: Set<number> | null = null;
  /** F_SEAL_* seals of a memfd; null for other files (no sealing at all). */
  seals: number | null = null;

  /**
   * The host fd holding the bytes, moving them into host memory from the filesystem's
   * {@link Tmpfs.hostMemory} on first use (seals go along); null without host memory.
   */
  hostBacking(): number | null {
    const data = this.data;
    if (data.hostFd !== null) return data.hostFd;
    const provider = this.fs.hostMemory;
    if (provider === null) return null;
    const fd = provider.create(`tsvisor-tmpfs:${this.ino}`);
    if (isError(fd) || data.moveToHost(fd) !== undefined) return null;
    if (this.seals) provider.addSeals(fd, this.seals);
    return fd;
  }

  /** shmem_setattr: F_SEAL_EXEC keeps the exec bits (checked before any change is made). */
  override setattr(attr: SetAttr): LinuxError | undefined {
    if (attr.mode !== undefined) {
      const sealed = modeSealed(this, attr.mode);
      if (sealed) return sealed;
    }
    return super.setattr(attr);
  }

  override size(): number {
    return this.data.size;
  }

  override blocks(): number {
    return TmpfsSpace.pagesOf(this) * 8;
  }

  override truncate(size: number): LinuxError | undefined {
    if (size > MAX_LFS_FILESIZE) return E.EFBIG;
    const sealed = resizeSealed(this, size);
    if (sealed) return sealed;
    const space = this.fs.space;
    const before = space.blocksLimited ? this.data.pages() : -1;
    this.data.truncate(size);
    space.released(this, before, size, Infinity);
    return undefined;
  }

  override open(_flags: number): FileDescriptionImpl | LinuxError {
    this.opens++;
    return new TmpfsRegularFile(this);
  }
}

/** An open tmpfs regular file. */
export class TmpfsRegularFile extends FileDescriptionImpl {
  constructor(readonly inode: TmpfsFile) {
    super();
  }

  override read(dst: Uint8Array, offset: number, file: FileDescription): number | LinuxError {
    const inode = this.inode;
    const n = inode.data.read(dst, offset);
    if ((file.getFlags() & O_NOATIME) === 0) {
      // relatime: update atime when it is not newer than mtime/ctime, or a day old.
      const a = inode.atimeNs;
      if (a <= inode.mtimeNs || a <= inode.ctimeNs) inode.atimeNs = nowNs();
      else {
        const now = nowNs();
        if (now - a >= DAY_NS) inode.atimeNs = now;
      }
    }
    return n;
  }

  override write(src: Uint8Array, offset: number): number | LinuxError {
    const len = src.length;
    if (offset + len > MAX_LFS_FILESIZE) {
      if (offset >= MAX_LFS_FILESIZE) return E.EFBIG;
      src = src.subarray(0, MAX_LFS_FILESIZE - offset);
    }
    if (src.length === 0) return 0;
    const inode = this.inode;
    const sealed = writeSealed(inode, offset, src.length);
    if (sealed) return sealed;
    const fits = inode.fs.space.fitWrite(inode, offset, src.length);
    if (fits === 0) return E.ENOSPC;
    if (fits < src.length) src = src.subarray(0, fits);
    inode.data.write(src, offset);
    const now = nowNs();
    inode.mtimeNs = now;
    inode.ctimeNs = now;
    return src.length;
  }

  override seek(file: FileDescription, offset: number, whence: number): number | LinuxError {
    if (whence === SEEK_DATA || whence === SEEK_HOLE) {
      const data = this.inode.data;
      if (offset < 0 || offset >= data.size) return E.ENXIO;
      const pos = whence === SEEK_DATA ? data.nextData(offset) : data.nextHole(offset);
      return pos < 0 ? E.ENXIO : pos;
    }
    return super.seek(file, offset, whence);
  }

  /** shmem_fallocate: allocation (optionally keeping the size) and hole punching. */
  override fallocate(mode: number, offset: number, len: number): LinuxError | undefined {
    if ((mode & ~3) !== 0) return E.EOPNOTSUPP;
    const inode = this.inode;
    const sealed = fallocateSealed(inode, mode, offset, len);
    if (sealed) return sealed;
    // Allocated pages read as zeros and count as holes for SEEK_HOLE until written (shmem marks
    // them not up to date), which is what a sparse range already is here; the space accounting
    // keeps them apart, so they count in st_blocks and against size= as in Linux.
    const space = inode.fs.space;
    if ((mode & 2) !== 0) {
      const before = space.blocksLimited ? inode.data.pages() : -1;
      inode.data.punch(offset, len);
      space.released(inode, before, offset, offset + len);
    } else {
      const full = space.fallocate(inode, offset, len);
      if (full) return full;
      if ((mode & 1) === 0 && offset + len > inode.data.size) inode.data.truncate(offset + len);
    }
    const now = nowNs();
    inode.mtimeNs = now;
    inode.ctimeNs = now;
    return undefined;
  }

  override fsync(): LinuxError | undefined {
    return undefined;
  }

  /** The bytes move to host memory (once) so the platform can map them, shared or private. */
  override hostFd(): number | null {
    return this.inode.hostBacking();
  }

  /** F_ADD_SEALS / F_GET_SEALS (see seals.ts). */
  override fcntl(cmd: number, arg: number, file: FileDescription): number | LinuxError | undefined {
    return sealFcntl(this.inode, cmd, arg, file);
  }

  override release(_file: FileDescription): void {
    const inode = this.inode;
    inode.opens--;
    if (inode.nlink === 0) inode.fs.evict(inode);
  }
}

/** A tmpfs symbolic link. */
export class TmpfsSymlink extends TmpfsInode {
  constructor(
    fs: Tmpfs,
    attrs: CreateAttrs,
    readonly target: string,
  ) {
    super(fs, attrs);
  }

  override size(): number {
    return this.target.length;
  }

  override readlink(): string | LinuxError {
    return this.target;
  }
}

/** A tmpfs device node, FIFO or socket. */
export class TmpfsSpecial extends TmpfsInode {}
