/**
 * The filesystem implementation side of the VFS: {@link FilesystemImpl} (a mounted filesystem
 * instance, Linux's superblock) and {@link Inode} (a file of it, with the directory operations
 * Linux keeps in inode_operations).
 *
 * Division of labour (as in Linux's VFS): the VFS walks paths, follows symlinks, crosses mounts,
 * checks permissions, read-only mounts, sticky bits and the existence rules (EEXIST, ENOENT,
 * EISDIR, ENOTDIR, ...), then calls one of these methods to do the change. An implementation
 * therefore only says what its storage can and cannot do. The base class's defaults are Linux's
 * answers for a missing inode operation; each says which one it stands for.
 *
 * Contract for implementations:
 * - `lookup` returns the same object for a directory for as long as it exists (directories have
 *   exactly one name, `parent`/`name` say where); non-directories may be new objects each time
 *   but then must share state (hard links share one inode).
 * - Metadata fields (`mode`, `uid`, ..., times) are current whenever the VFS reads them after
 *   calling {@link Inode.refresh}.
 * - No method throws for anything an application can cause.
 *
 * @module
 */

import { E } from '@tsvisor/abi';
import type { LinuxError } from '@tsvisor/abi';
import { S_IFDIR, S_IFLNK, S_IFMT, S_IFREG } from './constants.js';
import type { FileDescriptionImpl } from './file.js';
import type { Creds, FsContext, Location, SetAttr, Statfs } from './types.js';

/** A mounted filesystem instance (Linux's super_block, gVisor's FilesystemImpl). */
export interface FilesystemImpl {
  /** The filesystem type name as /proc/mounts shows it: `tmpfs`, `overlay`, ... */
  readonly type: string;
  /** st_dev of every file on it. */
  readonly dev: number;
  /** The root directory. */
  readonly root: Inode;
  /** Implements statfs(2) for any file on this filesystem (flags are filled by the VFS). */
  statfs(): Statfs;
}

/** What the VFS hands a filesystem to create a file: final mode (type included) and owner. */
export interface CreateAttrs {
  /** File type and permission bits, umask already applied. */
  mode: number;
  uid: number;
  gid: number;
  /** Device number for character and block devices (Linux's new_encode_dev layout). */
  rdev: number;
}

/**
 * A file of a filesystem, with the directory operations of Linux's inode_operations.
 *
 * Directory methods receive names that the VFS has validated: not empty, not `.` or `..`, at most
 * 255 bytes, no `/`. They may assume the checks listed in their comments were done.
 */
export abstract class Inode {
  abstract readonly fs: FilesystemImpl;
  /** st_ino. */
  ino = 0;
  /** st_mode: type and permission bits. */
  mode = 0;
  uid = 0;
  gid = 0;
  nlink = 1;
  /** Device number of a character or block device node. */
  rdev = 0;
  atimeNs = 0n;
  mtimeNs = 0n;
  ctimeNs = 0n;
  btimeNs = 0n;
  /** An O_TMPFILE file that linkat may still give a name although nlink is 0 (I_LINKABLE). */
  linkable = false;
  /** For a directory: its parent directory (itself at the filesystem root). */
  parent: Inode | null = null;
  /** For a directory: its name in `parent` (empty at the root). */
  name = '';
  /**
   * The filesystem's own permission check, used instead of generic_permission when set (Linux's
   * inode_operations.permission: /proc/sys grants no capability override, for one). Answers
   * EACCES or undefined (allowed).
   */
  checkPermission: ((creds: Creds, mask: number) => LinuxError | undefined) | undefined = undefined;

  /** True for a directory. */
  get isDir(): boolean {
    return (this.mode & S_IFMT) === S_IFDIR;
  }

  /** True for a symbolic link. */
  get isSymlink(): boolean {
    return (this.mode & S_IFMT) === S_IFLNK;
  }

  /** True for a regular file. */
  get isRegular(): boolean {
    return (this.mode & S_IFMT) === S_IFREG;
  }

  /** Bring the metadata fields up to date (hostfs re-reads the host file). Default: they are. */
  refresh(): void {}

  /**
   * An open description that this inode's {@link Inode.open} did not make (an O_PATH one, or a
   * FIFO, socket or device node, which the VFS opens itself) took (+1) or dropped (-1) its
   * reference. Linux frees an unlinked inode only when its last open file goes, so a filesystem
   * that frees unlinked inodes itself counts these along with its own opens. Default: nothing.
   */
  hold(_delta: 1 | -1): void {}

  /** st_size. */
  size(): number {
    return 0;
  }

  /**
   * st_size for stat(2), which reads it right after {@link Inode.refresh}: a filesystem whose
   * size() asks its storage every time (hostfs) answers from what refresh just loaded, so one
   * stat is one host call. Default: size().
   */
  statSize(): number {
    return this.size();
  }

  /** st_dev: the filesystem's device unless the inode knows better (hostfs spanning devices). */
  stDev(): number {
    return this.fs.dev;
  }

  /** st_blocks (512-byte units). */
  blocks(): number {
    return 0;
  }

  /** st_blksize. */
  blksize(): number {
    return 4096;
  }

  /** The child called `name`. No lookup op: ENOTDIR. Missing name: ENOENT. */
  lookup(_name: string): Inode | LinuxError {
    return E.ENOTDIR;
  }

  /**
   * What Linux's dentry cache would answer for `name` without calling the filesystem, for
   * openat2's RESOLVE_CACHED: the child (or an error such as ENOTDIR), or null when the kernel
   * would need ->lookup (and so may block), which the walk turns into EAGAIN. The default suits
   * an in-memory filesystem: found names are cached, misses are not (tmpfs keeps no negative
   * dentries). Filesystems whose lookups do I/O return null.
   */
  lookupCached(name: string): Inode | LinuxError | null {
    const child = this.lookup(name);
    return child === E.ENOENT ? null : child;
  }

  /** Create a regular file (the name is free). No create op: open(O_CREAT) gives EACCES. */
  create(_name: string, _attrs: CreateAttrs): Inode | LinuxError {
    return E.EACCES;
  }

  /** Create an unnamed regular file for O_TMPFILE (nlink 0). No tmpfile op: EOPNOTSUPP. */
  tmpfile(_attrs: CreateAttrs): Inode | LinuxError {
    return E.EOPNOTSUPP;
  }

  /** Create a directory (the name is free). No mkdir op: EPERM. */
  mkdir(_name: string, _attrs: CreateAttrs): Inode | LinuxError {
    return E.EPERM;
  }

  /** Create a device node, FIFO or socket (the name is free). No mknod op: EPERM. */
  mknod(_name: string, _attrs: CreateAttrs): Inode | LinuxError {
    return E.EPERM;
  }

  /** Create a symlink (the name is free, the target not empty). No symlink op: EPERM. */
  symlink(_name: string, _target: string, _attrs: CreateAttrs): Inode | LinuxError {
    return E.EPERM;
  }

  /** Add a hard link to `target` (same filesystem, not a directory, name free). No link op: EPERM. */
  link(_name: string, _target: Inode): LinuxError | undefined {
    return E.EPERM;
  }

  /** Remove the non-directory `child` named `name`. No unlink op: EPERM. */
  unlink(_name: string, _child: Inode): LinuxError | undefined {
    return E.EPERM;
  }

  /** Remove the directory `child` named `name`; ENOTEMPTY if it has entries. No rmdir op: EPERM. */
  rmdir(_name: string, _child: Inode): LinuxError | undefined {
    return E.EPERM;
  }

  /**
   * Move `oldName` of this directory to `newName` of `newDir` (same filesystem), replacing
   * `replaced` if present (the VFS checked the type rules; the implementation checks that a
   * replaced directory is empty: ENOTEMPTY). With `exchange`, swap the two. No rename op: EPERM.
   */
  rename(
    _oldName: string,
    _moved: Inode,
    _newDir: Inode,
    _newName: string,
    _replaced: Inode | null,
    _exchange: boolean,
  ): LinuxError | undefined {
    return E.EPERM;
  }

  /**
   * For procfs's magic links (/proc/<pid>/fd/N, cwd, root, exe): the location the link stands
   * for, which the walk jumps to directly instead of resolving a path (so a deleted file, a pipe
   * or a directory outside the caller's root are reached as Linux reaches them). `ctx` is the
   * context of the walk (the kernel may extend it with the calling task). Null: an ordinary
   * symlink, resolved through {@link Inode.readlink}.
   */
  magicLink(_ctx: FsContext): Location | LinuxError | null {
    return null;
  }

  /** The value of extended attribute `name`. No xattr support: EOPNOTSUPP; missing: ENODATA. */
  getxattr(_name: string): Uint8Array | LinuxError {
    return E.EOPNOTSUPP;
  }

  /**
   * Set extended attribute `name` (the VFS checked permissions, the flags and the size).
   * `flags`: XATTR_CREATE (EEXIST if present), XATTR_REPLACE (ENODATA if absent). No xattr
   * support: EOPNOTSUPP.
   */
  setxattr(_name: string, _value: Uint8Array, _flags: number): LinuxError | undefined {
    return E.EOPNOTSUPP;
  }

  /** Remove extended attribute `name`: ENODATA if absent. No xattr support: EOPNOTSUPP. */
  removexattr(_name: string): LinuxError | undefined {
    return E.EOPNOTSUPP;
  }

  /** The names of the extended attributes. No xattr support: none. */
  listxattr(): string[] | LinuxError {
    return [];
  }

  /** The target of a symlink. Not a symlink (no get_link): EINVAL. */
  readlink(): string | LinuxError {
    return E.EINVAL;
  }

  /**
   * Open this file: make the implementation of a new file description. `flags` are the open
   * flags (access mode, O_TRUNC already applied by the VFS through setattr). No open: ENXIO.
   */
  open(_flags: number): FileDescriptionImpl | LinuxError {
    return E.ENXIO;
  }

  /**
   * Change attributes (simple_setattr): the VFS checked permissions and computed the values.
   * The default stores them in the fields; a size change goes to {@link Inode.truncate}.
   */
  setattr(attr: SetAttr): LinuxError | undefined {
    if (attr.size !== undefined) {
      const err = this.truncate(attr.size);
      if (err) return err;
    }
    if (attr.mode !== undefined) this.mode = (this.mode & S_IFMT) | (attr.mode & 0o7777);
    if (attr.uid !== undefined) this.uid = attr.uid;
    if (attr.gid !== undefined) this.gid = attr.gid;
    if (attr.atimeNs !== undefined) this.atimeNs = attr.atimeNs;
    if (attr.mtimeNs !== undefined) this.mtimeNs = attr.mtimeNs;
    if (attr.ctimeNs !== undefined) this.ctimeNs = attr.ctimeNs;
    return undefined;
  }

  /** Set the size of a regular file. Default (no storage to resize): EPERM. */
  truncate(_size: number): LinuxError | undefined {
    return E.EPERM;
  }
}
