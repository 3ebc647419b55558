/**
 * The VFS: a mount namespace and the path operations of the filesystem syscalls, with Linux's
 * rules and errno order. The kernel's syscall handlers call these after reading their arguments
 * from user memory; results are values or `LinuxError`s, never exceptions.
 *
 * A `dir` argument is the starting point of a relative path: the kernel passes `ctx.cwd` for
 * AT_FDCWD, the location of the dirfd's description otherwise, or the error it got looking the
 * fd up (EBADF): the VFS reports that error only when the path is relative, as Linux does.
 *
 * @module
 */

import { E, isError, Resolve } from '@tsvisor/abi';
import type { LinuxError } from '@tsvisor/abi';
import { nowNs } from './clock.js';
import {
  AT_EACCESS,
  AT_EMPTY_PATH,
  AT_NO_AUTOMOUNT,
  AT_REMOVEDIR,
  AT_STATX_SYNC_TYPE,
  AT_SYMLINK_FOLLOW,
  AT_SYMLINK_NOFOLLOW,
  CAP_CHOWN,
  CAP_DAC_READ_SEARCH,
  CAP_FOWNER,
  CAP_FSETID,
  CAP_MKNOD,
  CAP_SYS_ADMIN,
  MAX_LFS_FILESIZE,
  MAXSYMLINKS,
  O_ACCMODE,
  O_CLOEXEC,
  O_CREAT,
  O_DIRECTORY,
  O_EXCL,
  O_LARGEFILE,
  O_NOCTTY,
  O_NOATIME,
  O_NOFOLLOW,
  O_PATH,
  O_RDONLY,
  O_RDWR,
  O_TMPFILE,
  O_TRUNC,
  O_VALID_FLAGS,
  O_WRONLY,
  R_OK,
  RENAME_EXCHANGE,
  RENAME_NOREPLACE,
  RENAME_WHITEOUT,
  S_IFBLK,
  S_IFCHR,
  S_IFDIR,
  S_IFIFO,
  S_IFLNK,
  S_IFMT,
  S_IFREG,
  S_IFSOCK,
  S_ISGID,
  S_ISUID,
  S_ISVTX,
  S_IXGRP,
  UTIME_NOW,
  UTIME_OMIT,
  W_OK,
  X_OK,
} from './constants.js';
import { DeviceRegistry } from './devices.js';
import { FileDescription, PathFileImpl } from './file.js';
import type { CreateAttrs, FilesystemImpl, Inode } from './inode.js';
import { MS_NODEV, MS_NOEXEC, MS_NOSUID, MS_RDONLY, Mount } from './mount.js';
import {
  IN_ATTRIB,
  IN_MODIFY,
  fsnotifyCreate,
  fsnotifyDelete,
  fsnotifyLink,
  fsnotifyLocation,
  fsnotifyMove,
} from './fsnotify.js';
import { openFifo } from './pipe.js';
import { attachMount, copyForBind, mountTree, umountMounts, umountPropagation } from './propagation.js';
import {
  MAY_EXEC,
  MAY_READ,
  MAY_WRITE,
  inGroup,
  ownerOrCapable,
  permission,
  stickyAllows,
} from './permission.js';
import { fillStat } from './stat.js';
import type { Creds, FsContext, Location, SetAttr, Stat, Statfs } from './types.js';
import { capable } from './types.js';
import type { Walk } from './walk.js';
import {
  checkPath,
  enter,
  lookupChild,
  magicJumpAllowed,
  resolve,
  startWalk,
  stepLast,
  walkParent,
} from './walk.js';
import { memfdPath } from './tmpfs/memfd.js';

/** A timespec as utimensat(2) takes it; `nsec` may be UTIME_NOW or UTIME_OMIT. */
export interface Timespec {
  sec: number;
  nsec: number;
}

/** __O_TMPFILE: the bit that, with O_DIRECTORY, makes O_TMPFILE. */
const O_TMPFILE_BIT = 0o20000000;

/** The flags O_PATH keeps (Linux ignores the others with O_PATH). */
const O_PATH_KEEP = O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;

/** The parent directory and last component of a path, for operations that create or remove. */
interface Parent {
  w: Walk;
  last: string;
  trailing: boolean;
}

/** openat2(2)'s arguments as numbers (`struct open_how` after its size rules). */
export interface OpenHowRequest {
  /** O_* flags (bits above 31 have no meaning: the syscall layer gives EINVAL for them). */
  readonly flags: number;
  /** The creation mode; must be 0 unless O_CREAT or O_TMPFILE. */
  readonly mode: number;
  /** `RESOLVE_*` bits. */
  readonly resolve: number;
}

const { RESOLVE_BENEATH, RESOLVE_CACHED, RESOLVE_IN_ROOT, RESOLVE_NO_SYMLINKS } = Resolve;
/** Every RESOLVE_* bit Linux knows. */
const RESOLVE_ALL = Object.values(Resolve).reduce((a, b) => a | b, 0);
const RESOLVE_BENEATH_IN_ROOT = RESOLVE_BENEATH | RESOLVE_IN_ROOT;
/** The flags O_PATH may come with in openat2 (O_PATH_FLAGS; O_CLOEXEC is stripped first). */
const O_PATH_FLAGS = O_DIRECTORY | O_NOFOLLOW | O_PATH;

/**
 * The checks openat2(2) makes on `struct open_how` before touching the path (build_open_flags),
 * in Linux's order: EINVAL for unknown O_* or RESOLVE_* bits, for BENEATH with IN_ROOT, for a
 * mode with bits outside 07777 or a mode without O_CREAT/O_TMPFILE, for O_CREAT with
 * O_DIRECTORY, for O_TMPFILE without O_DIRECTORY or write access, for O_PATH with flags other
 * than O_DIRECTORY/O_NOFOLLOW/O_CLOEXEC; EAGAIN for RESOLVE_CACHED with O_CREAT, O_TRUNC or
 * O_TMPFILE. Undefined when the request is acceptable.
 */
export function checkOpenHow(how: OpenHowRequest): LinuxError | undefined {
  const flags = how.flags & ~O_CLOEXEC;
  if ((flags & ~O_VALID_FLAGS) !== 0) return E.EINVAL;
  if ((how.resolve & ~RESOLVE_ALL) !== 0) return E.EINVAL;
  if ((how.resolve & RESOLVE_BENEATH_IN_ROOT) === RESOLVE_BENEATH_IN_ROOT) return E.EINVAL;
  if ((flags & (O_CREAT | O_TMPFILE_BIT)) !== 0) {
    if ((how.mode & ~0o7777) !== 0) return E.EINVAL;
  } else if (how.mode !== 0) return E.EINVAL;
  if ((flags & (O_DIRECTORY | O_CREAT)) === (O_DIRECTORY | O_CREAT)) return E.EINVAL;
  if ((flags & O_TMPFILE_BIT) !== 0) {
    if ((flags & O_DIRECTORY) === 0) return E.EINVAL;
    const acc = flags & O_ACCMODE;
    if (acc !== O_WRONLY && acc !== O_RDWR) return E.EINVAL;
  }
  if ((flags & O_PATH) !== 0 && (flags & ~O_PATH_FLAGS) !== 0) return E.EINVAL;
  if ((how.resolve & RESOLVE_CACHED) !== 0 && (flags & (O_TRUNC | O_CREAT | O_TMPFILE_BIT)) !== 0)
    return E.EAGAIN;
  return undefined;
}

function isDotOrDotDot(name: string): boolean {
  return name === '.' || name === '..';
}

/**
 * A mount namespace with the filesystem syscalls. Create one per sandbox (or per mount namespace)
 * with the root filesystem; mount others with {@link Vfs.mount}.
 *
 * @example
 * ```ts
 * const vfs = new Vfs(new Tmpfs());
 * const ctx = vfs.rootContext(ROOT_CREDS);
 * vfs.mkdirat(ctx, ctx.cwd, '/etc', 0o755);
 * const f = vfs.openat(ctx, ctx.cwd, '/etc/hostname', O_CREAT | O_WRONLY, 0o644);
 * ```
 */
export class Vfs {
  /** The root mount of the namespace. */
  readonly rootMount: Mount;
  /** Character device drivers: opening a device node of any filesystem goes here. */
  readonly devices = new DeviceRegistry();

  constructor(rootFs: FilesystemImpl, flags = 0) {
    this.rootMount = new Mount(rootFs, rootFs.root, null, null, flags);
  }

  /** The namespace root as a location. */
  rootLocation(): Location {
    return { mount: this.rootMount, inode: this.rootMount.root };
  }

  /** A context at the namespace root (root and cwd both `/`), umask 022. */
  rootContext(creds: Creds, umask = 0o022): FsContext {
    const root = this.rootLocation();
    return { creds, umask, root, cwd: root };
  }

  // ---------------------------------------------------------------------------------------------
  // Mounts

  /**
   * Mount `fs` on the directory at `path` (followed), with MS_RDONLY/MS_NOSUID/MS_NODEV/
   * MS_NOEXEC flags. The caller (mount(2)) checks CAP_SYS_ADMIN. ENOTDIR if not a directory.
   */
  mount(
    ctx: FsContext,
    dir: Location | LinuxError,
    path: string,
    fs: FilesystemImpl,
    flags = 0,
  ): Mount | LinuxError {
    const at = this.lookupat(ctx, dir, path, 0);
    if (isError(at)) return at;
    return this.mountAt(at, fs, fs.root, flags);
  }

  /**
   * Bind mount: make `source` appear at `path` as well. A directory goes on a directory; any
   * non-directory (regular file, device, FIFO, ...) goes on a non-directory, covering that one
   * link of it. ENOTDIR when the kinds differ (graft_tree), EINVAL for an unbindable source.
   * The new mount is a peer of a shared source, and propagates when the target mount is shared
   * (see {@link attachMount}).
   */
  bindMount(
    ctx: FsContext,
    source: Location,
    dir: Location | LinuxError,
    path: string,
    flags = 0,
  ): Mount | LinuxError {
    const at = this.lookupat(ctx, dir, path, 0);
    if (isError(at)) return at;
    if (source.mount.unbindable) return E.EINVAL;
    if (source.inode.isDir !== at.inode.isDir) return E.ENOTDIR;
    return this.mountAt(at, source.mount.fs, source.inode, flags, source);
  }

  private mountAt(
    at: Location,
    fs: FilesystemImpl,
    root: Inode,
    flags: number,
    source?: Location,
  ): Mount | LinuxError {
    if (root.isDir !== at.inode.isDir) return E.ENOTDIR;
    const m = source === undefined ? new Mount(fs, root, null, null, 0) : copyForBind(source, false);
    m.flags = flags & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC);
    const err = attachMount(this.rootMount, m, at);
    return err ?? m;
  }

  /** Detach the mount whose root is at `path` (umount2 without flags). EINVAL if not a mount root. */
  umount(ctx: FsContext, dir: Location | LinuxError, path: string): LinuxError | undefined {
    const at = this.lookupat(ctx, dir, path, 0);
    if (isError(at)) return at;
    const m = at.mount;
    if (at.inode !== m.root || m.parent === null || m.mountpoint === null) return E.EINVAL;
    if (m.children.size > 0) return E.EBUSY;
    umountMounts(this.rootMount, [m, ...umountPropagation(this.rootMount, [m])]);
    return undefined;
  }

  /**
   * is_local_mountpoint: is `inode`, found as `name` in directory `dir`, covered by a mount of
   * this namespace (through any mount of its filesystem)? Unlink, rmdir and rename of such an
   * entry give EBUSY.
   */
  isMountpoint(dir: Inode, name: string, inode: Inode): boolean {
    if (this.rootMount.children.size === 0) return false;
    return this.mounts().some((m) => m.mountOn(inode, dir, name) !== undefined);
  }

  /**
   * Every mount of the namespace, parents before children (for /proc/self/mounts and
   * mountinfo: the path of a mount is `pathOf(ctx, { mount: m, inode: m.root })`).
   */
  mounts(): Mount[] {
    return mountTree(this.rootMount);
  }

  // ---------------------------------------------------------------------------------------------
  // Lookups

  private parentOf(
    ctx: FsContext,
    dir: Location | LinuxError,
    rawPath: string,
    resolveFlags = 0,
  ): Parent | LinuxError {
    const path = checkPath(rawPath, false);
    if (isError(path)) return path;
    const w = startWalk(ctx, dir, path, resolveFlags);
    if (isError(w)) return w;
    const last = walkParent(w, path);
    if (isError(last)) return last;
    return { w, last, trailing: w.trailing };
  }

  /**
   * Resolve a path to a location (for chdir, chroot, mount, fstatat, ...). `flags`:
   * AT_SYMLINK_NOFOLLOW (do not follow a final symlink), AT_EMPTY_PATH (an empty path means
   * `dir` itself). `resolveFlags`: openat2(2)'s `RESOLVE_*` bits, already checked by
   * {@link checkOpenHow}.
   */
  lookupat(
    ctx: FsContext,
    dir: Location | LinuxError,
    rawPath: string,
    flags: number,
    resolveFlags = 0,
  ): Location | LinuxError {
    const path = checkPath(rawPath, (flags & AT_EMPTY_PATH) !== 0);
    if (isError(path)) return path;
    if (path.length === 0) return dir;
    const w = startWalk(ctx, dir, path, resolveFlags);
    if (isError(w)) return w;
    return resolve(w, path, (flags & AT_SYMLINK_NOFOLLOW) === 0);
  }

  /** Implements chdir(2): the new cwd for the kernel to store. ENOTDIR, EACCES (no search). */
  chdir(ctx: FsContext, dir: Location | LinuxError, path: string): Location | LinuxError {
    const loc = this.lookupat(ctx, dir, path, 0);
    if (isError(loc)) return loc;
    return this.fchdir(ctx, loc);
  }

  /** Implements fchdir(2) (and chroot's checks): a searchable directory. */
  fchdir(ctx: FsContext, loc: Location): Location | LinuxError {
    if (!loc.inode.isDir) return E.ENOTDIR;
    loc.inode.refresh();
    const err = permission(ctx.creds, loc.inode, MAY_EXEC);
    if (err) return err;
    return loc;
  }

  /**
   * The path of `loc` as seen from `ctx.root` (d_path). A location outside the root gets
   * Linux's "(unreachable)" prefix; a removed file gets the " (deleted)" suffix.
   */
  pathOf(ctx: FsContext, loc: Location): string {
    const memfd = memfdPath(loc);
    if (memfd !== null) return memfd;
    const parts: string[] = [];
    let mount = loc.mount;
    let inode = loc.inode;
    let deleted = false;
    if (!inode.isDir) {
      let dir = loc.parent;
      let name = loc.name;
      // A file bind mount: the path is that of the file it covers (maybe itself a mount's root).
      while (inode === mount.root && mount.parent !== null && mount.mountpoint !== null) {
        if (mount.mountpointDir !== null) {
          dir = mount.mountpointDir;
          name = mount.mountpointName;
        }
        inode = mount.mountpoint;
        mount = mount.parent;
      }
      if (dir !== undefined && name !== undefined) {
        parts.push(name);
        if (loc.inode.nlink === 0) deleted = true;
        inode = dir;
      }
    }
    const root = ctx.root;
    let reachable = true;
    for (;;) {
      if (mount === root.mount && inode === root.inode) break;
      if (inode === mount.root) {
        if (mount.parent === null || mount.mountpoint === null) {
          reachable = false;
          break;
        }
        inode = mount.mountpoint;
        mount = mount.parent;
        continue;
      }
      if (inode.isDir && inode.nlink === 0) deleted = true;
      const p = inode.parent;
      if (p === null || p === inode) {
        reachable = false;
        break;
      }
      parts.push(inode.name);
      inode = p;
    }
    let path = '/' + parts.reverse().join('/');
    if (!reachable) path = '(unreachable)' + (parts.length === 0 ? '/' : path);
    if (deleted) path += ' (deleted)';
    return path;
  }

  /**
   * Implements getcwd(2): the cwd's path from the root; ENOENT if the cwd was removed. A cwd
   * outside the root gives "(unreachable)/..." as Linux does.
   */
  getcwd(ctx: FsContext): string | LinuxError {
    const cwd = ctx.cwd;
    if (cwd.inode.nlink === 0) return E.ENOENT;
    return this.pathOf(ctx, cwd);
  }

  // ---------------------------------------------------------------------------------------------
  // open

  /**
   * Implements openat(2). Returns a new file description (the kernel installs it in its fd
   * table and applies O_CLOEXEC there). A FIFO opened without a peer and without O_NONBLOCK
   * returns a description whose {@link FileDescription.openWait} is set: the kernel waits on
   * it for POLLIN before returning the fd (and releases the description if interrupted).
   *
   * `resolveFlags` are openat2(2)'s `RESOLVE_*` bits (see {@link Vfs.openat2}, which checks
   * them); plain openat passes none.
   */
  openat(
    ctx: FsContext,
    dir: Location | LinuxError,
    rawPath: string,
    flags: number,
    mode = 0,
    resolveFlags = 0,
  ): FileDescription | LinuxError {
    if ((flags & O_PATH) !== 0) flags &= O_PATH_KEEP;
    else if ((flags & O_TMPFILE_BIT) !== 0)
      return this.openTmpfile(ctx, dir, rawPath, flags, mode, resolveFlags);
    if ((flags & O_CREAT) !== 0 && (flags & O_DIRECTORY) !== 0) return E.EINVAL;
    const p = this.parentOf(ctx, dir, rawPath, resolveFlags);
    if (isError(p)) return p;
    const w = p.w;
    let last = p.last;
    let trailing = p.trailing;
    let created = false;
    let target: Location;
    if ((flags & O_CREAT) === 0) {
      const follow = (flags & O_NOFOLLOW) === 0 || trailing;
      const err = stepLast(w, last, follow);
      if (err) return err;
      if ((trailing || w.trailing) && !w.inode.isDir) return E.ENOTDIR;
      target = w.here();
    } else {
      for (;;) {
        if (last === '' || isDotOrDotDot(last)) return (flags & O_EXCL) !== 0 ? E.EEXIST : E.EISDIR;
        if (trailing) return E.EISDIR;
        const dirInode = w.inode;
        const child = lookupChild(w, last);
        if (child === E.ENOENT) {
          if (w.mount.readOnly) return E.EROFS;
          const err = this.mayCreate(ctx.creds, dirInode);
          if (err) return err;
          const made = dirInode.create(
            last,
            this.createAttrs(ctx, dirInode, S_IFREG | (mode & 0o7777 & ~ctx.umask)),
          );
          if (isError(made)) return made;
          created = true;
          fsnotifyCreate(dirInode, last, false);
          const e = enter(w, made, last);
          if (e) return e;
          break;
        }
        if (isError(child)) return child;
        if ((flags & O_EXCL) !== 0) return E.EEXIST;
        if (child.isSymlink) {
          if ((flags & O_NOFOLLOW) !== 0) return E.ELOOP;
          if (++w.links > MAXSYMLINKS) return E.ELOOP;
          if ((resolveFlags & RESOLVE_NO_SYMLINKS) !== 0) return E.ELOOP;
          const jump = child.magicLink(ctx);
          if (jump !== null) {
            const e = magicJumpAllowed(w, jump);
            if (e) return e;
            if (isError(jump)) return jump;
            if (jump.inode.isDir) return E.EISDIR;
            return this.openLocation(ctx, jump, flags, false);
          }
          const t = child.readlink();
          if (isError(t)) return t;
          if (t.length === 0) return E.ENOENT;
          const next = walkParent(w, t);
          if (isError(next)) return next;
          last = next;
          trailing = w.trailing;
          continue;
        }
        const e = enter(w, child, last);
        if (e) return e;
        if (w.inode.isDir) return E.EISDIR;
        break;
      }
      target = w.here();
    }
    return this.openLocation(ctx, target, flags, created);
  }

  /**
   * Implements openat2(2) once its `struct open_how` was read (the syscall layer applies the
   * size rules, e.g. with `@tsvisor/abi`'s `parseOpenHow`): {@link checkOpenHow}'s EINVAL and
   * EAGAIN rules, then {@link Vfs.openat} with the `RESOLVE_*` restrictions on the path walk:
   * BENEATH (EXDEV for an absolute path, `..` above `dir`, an absolute symlink or a magic link),
   * IN_ROOT (`dir` acts as the root for `..` and absolute paths and symlinks; EXDEV for magic
   * links), NO_XDEV (EXDEV when the walk would cross a mount), NO_SYMLINKS (ELOOP for any
   * symlink followed), NO_MAGICLINKS (ELOOP for procfs-style links) and CACHED (EAGAIN when a
   * name is not in what Linux's dentry cache would hold).
   *
   * @example
   * ```ts
   * const dir = vfs.openat(ctx, ctx.cwd, '/srv', O_DIRECTORY | O_PATH);
   * vfs.openat2(ctx, dir.location, '../etc/passwd', { flags: O_RDONLY, mode: 0, resolve: 0x08 }); // E.EXDEV
   * ```
   */
  openat2(
    ctx: FsContext,
    dir: Location | LinuxError,
    rawPath: string,
    how: OpenHowRequest,
  ): FileDescription | LinuxError {
    const err = checkOpenHow(how);
    if (err) return err;
    return this.openat(ctx, dir, rawPath, how.flags & ~O_CLOEXEC, how.mode, how.resolve);
  }

  /** O_TMPFILE: an unnamed regular file in the directory at `path` (linkable unless O_EXCL). */
  private openTmpfile(
    ctx: FsContext,
    dir: Location | LinuxError,
    path: string,
    flags: number,
    mode: number,
    resolveFlags: number,
  ): FileDescription | LinuxError {
    const acc = flags & O_ACCMODE;
    if ((flags & O_DIRECTORY) === 0 || (acc !== O_WRONLY && acc !== O_RDWR)) return E.EINVAL;
    const loc = this.lookupat(ctx, dir, path, 0, resolveFlags);
    if (isError(loc)) return loc;
    if (!loc.inode.isDir) return E.ENOTDIR;
    const err = permission(ctx.creds, loc.inode, MAY_WRITE | MAY_EXEC);
    if (err) return err;
    if (loc.mount.readOnly) return E.EROFS;
    const made = loc.inode.tmpfile(this.createAttrs(ctx, loc.inode, S_IFREG | (mode & 0o7777 & ~ctx.umask)));
    if (isError(made)) return made;
    made.linkable = (flags & O_EXCL) === 0;
    const impl = made.open(flags & ~(O_TMPFILE | O_CREAT | O_EXCL | O_TRUNC));
    if (isError(impl)) return impl;
    const fileLoc: Location = { mount: loc.mount, inode: made, parent: loc.inode, name: '#' + made.ino };
    return new FileDescription(
      impl,
      fileLoc,
      (flags & ~(O_TMPFILE | O_CREAT | O_EXCL | O_TRUNC | O_NOCTTY)) | O_LARGEFILE,
      ctx.creds,
    );
  }

  /**
   * Open an already resolved location (open's may_open and do_open part): also what
   * /proc/self/fd reopening and O_PATH upgrades use.
   */
  openLocation(ctx: FsContext, loc: Location, flags: number, created = false): FileDescription | LinuxError {
    const inode = loc.inode;
    inode.refresh();
    const type = inode.mode & S_IFMT;
    if ((flags & O_PATH) !== 0) {
      if ((flags & O_DIRECTORY) !== 0 && type !== S_IFDIR) return E.ENOTDIR;
      return new FileDescription(new PathFileImpl(), loc, flags & O_PATH_KEEP, ctx.creds);
    }
    if ((flags & O_DIRECTORY) !== 0 && type !== S_IFDIR) return E.ENOTDIR;
    if (type === S_IFLNK) return E.ELOOP;
    const acc = flags & O_ACCMODE;
    let mask = acc === O_RDONLY ? MAY_READ : acc === O_WRONLY ? MAY_WRITE : MAY_READ | MAY_WRITE;
    if ((flags & O_TRUNC) !== 0) mask |= MAY_WRITE;
    if (type === S_IFDIR) {
      if ((mask & MAY_WRITE) !== 0) return E.EISDIR;
    } else if (type === S_IFCHR || type === S_IFBLK) {
      if ((loc.mount.flags & MS_NODEV) !== 0) return E.EACCES;
      flags &= ~O_TRUNC;
    } else if (type === S_IFIFO || type === S_IFSOCK) {
      flags &= ~O_TRUNC;
    }
    if (!created) {
      const err = permission(ctx.creds, inode, mask);
      if (err) return err;
    }
    if ((mask & MAY_WRITE) !== 0 && loc.mount.readOnly && (type === S_IFREG || type === S_IFDIR))
      return E.EROFS;
    if ((flags & O_NOATIME) !== 0 && !ownerOrCapable(ctx.creds, inode)) return E.EPERM;
    if (type === S_IFSOCK) return E.ENXIO;
    if (type === S_IFIFO)
      return openFifo(loc, (flags & ~(O_CREAT | O_EXCL | O_TRUNC | O_NOCTTY)) | O_LARGEFILE, ctx.creds);
    if (type === S_IFCHR || type === S_IFBLK) {
      if (type === S_IFBLK) return E.ENXIO;
      const dev = this.devices.openChar(inode.rdev, flags, loc, ctx.creds);
      if (isError(dev)) return dev;
      return new FileDescription(
        dev,
        loc,
        (flags & ~(O_CREAT | O_EXCL | O_TRUNC | O_NOCTTY)) | O_LARGEFILE,
        ctx.creds,
      );
    }
    if ((flags & O_TRUNC) !== 0 && !created && type === S_IFREG) {
      const now = nowNs();
      const attr: SetAttr = { size: 0, mtimeNs: now, ctimeNs: now };
      this.killPriv(ctx.creds, inode, attr);
      const err = inode.setattr(attr);
      if (err) return err;
      fsnotifyLocation(loc, IN_MODIFY);
    }
    const impl = inode.open(flags);
    if (isError(impl)) return impl;
    return new FileDescription(
      impl,
      loc,
      (flags & ~(O_CREAT | O_EXCL | O_TRUNC | O_NOCTTY)) | O_LARGEFILE,
      ctx.creds,
    );
  }

  /**
   * The checks execve(2) makes on the file it is about to load: a regular file (EACCES
   * otherwise), on a mount without MS_NOEXEC (EACCES), executable by the caller (EACCES; root
   * needs at least one x bit). The kernel opens the file with {@link Vfs.openat} O_RDONLY first.
   */
  mayExec(ctx: FsContext, loc: Location): LinuxError | undefined {
    const inode = loc.inode;
    inode.refresh();
    if (!inode.isRegular) return E.EACCES;
    if ((loc.mount.flags & MS_NOEXEC) !== 0) return E.EACCES;
    return permission(ctx.creds, inode, MAY_EXEC);
  }

  // ---------------------------------------------------------------------------------------------
  // stat family

  /** Implements fstatat(2)/statx(2)'s lookup: AT_SYMLINK_NOFOLLOW, AT_EMPTY_PATH, AT_NO_AUTOMOUNT. */
  statat(ctx: FsContext, dir: Location | LinuxError, path: string, flags: number): Stat | LinuxError {
    if ((flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT | AT_STATX_SYNC_TYPE)) !== 0)
      return E.EINVAL;
    const loc = this.lookupat(ctx, dir, path, flags);
    if (isError(loc)) return loc;
    return fillStat(loc);
  }

  /** Implements statfs(2) on a path. */
  statfsat(ctx: FsContext, dir: Location | LinuxError, path: string): Statfs | LinuxError {
    const loc = this.lookupat(ctx, dir, path, 0);
    if (isError(loc)) return loc;
    return this.statfsOf(loc);
  }

  /** Implements fstatfs(2). */
  statfsOf(loc: Location): Statfs {
    const s = loc.mount.fs.statfs();
    const mf = loc.mount.flags;
    // ST_RDONLY 1, ST_NOSUID 2, ST_NODEV 4, ST_NOEXEC 8, ST_RELATIME 1024
    s.flags =
      (mf & MS_RDONLY ? 1 : 0) |
      (mf & MS_NOSUID ? 2 : 0) |
      (mf & MS_NODEV ? 4 : 0) |
      (mf & MS_NOEXEC ? 8 : 0) |
      1024;
    return s;
  }

  /** Implements readlinkat(2): EINVAL if not a symlink; AT_EMPTY_PATH-style with an empty path. */
  readlinkat(ctx: FsContext, dir: Location | LinuxError, path: string): string | LinuxError {
    const loc = this.lookupat(ctx, dir, path, AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH);
    if (isError(loc)) return loc;
    if (path.length === 0 && !loc.inode.isSymlink) return E.ENOENT;
    const t = loc.inode.readlink();
    if (!isError(t) && loc.inode.isSymlink) this.touchAtime(loc);
    return t;
  }

  /**
   * Implements faccessat2(2). Without AT_EACCESS Linux checks with the real uid/gid: the kernel
   * passes them as `realCreds` (for root they keep the capabilities).
   */
  faccessat(
    ctx: FsContext,
    dir: Location | LinuxError,
    path: string,
    mode: number,
    flags: number,
    realCreds?: Creds,
  ): LinuxError | undefined {
    if ((mode & ~7) !== 0) return E.EINVAL;
    if ((flags & ~(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) !== 0) return E.EINVAL;
    const creds = (flags & AT_EACCESS) === 0 && realCreds !== undefined ? realCreds : ctx.creds;
    const c: FsContext = creds === ctx.creds ? ctx : { ...ctx, creds };
    const loc = this.lookupat(c, dir, path, flags);
    if (isError(loc)) return loc;
    if (mode === 0) return undefined;
    const inode = loc.inode;
    inode.refresh();
    let mask = 0;
    if ((mode & R_OK) !== 0) mask |= MAY_READ;
    if ((mode & W_OK) !== 0) mask |= MAY_WRITE;
    if ((mode & X_OK) !== 0) mask |= MAY_EXEC;
    const type = inode.mode & S_IFMT;
    if (
      (mask & MAY_WRITE) !== 0 &&
      loc.mount.readOnly &&
      (type === S_IFREG || type === S_IFDIR || type === S_IFLNK)
    ) {
      const err = permission(creds, inode, mask);
      return err ?? E.EROFS;
    }
    if ((mask & MAY_EXEC) !== 0 && type === S_IFREG && (loc.mount.flags & MS_NOEXEC) !== 0) return E.EACCES;
    return permission(creds, inode, mask);
  }

  // ---------------------------------------------------------------------------------------------
  // Creating

  private mayCreate(creds: Creds, dir: Inode): LinuxError | undefined {
    if (dir.nlink === 0) return E.ENOENT;
    return permission(creds, dir, MAY_WRITE | MAY_EXEC);
  }

  /** inode_init_owner: owner, group (from a setgid directory) and the setgid bit rules. */
  private createAttrs(ctx: FsContext, dir: Inode, mode: number, rdev = 0): CreateAttrs {
    const creds = ctx.creds;
    let gid = creds.fsgid;
    if ((dir.mode & S_ISGID) !== 0) {
      gid = dir.gid;
      if ((mode & S_IFMT) === S_IFDIR) mode |= S_ISGID;
      else if (
        (mode & (S_ISGID | S_IXGRP)) === (S_ISGID | S_IXGRP) &&
        !inGroup(creds, gid) &&
        !capable(creds, CAP_FSETID)
      )
        mode &= ~S_ISGID;
    }
    return { mode, uid: creds.fsuid, gid, rdev };
  }

  /**
   * The common start of mkdir/mknod/symlink/link (filename_create): the parent, a free name, and
   * Linux's errno order EEXIST, ENOENT (trailing slash on a non-directory), EROFS, EACCES.
   */
  private prepareCreate(
    ctx: FsContext,
    p: Parent,
    isDir: boolean,
    skipPermission = false,
  ): LinuxError | undefined {
    const { w, last } = p;
    if (last === '' || isDotOrDotDot(last)) return E.EEXIST;
    const existing = lookupChild(w, last);
    if (!isError(existing)) return E.EEXIST;
    if (existing !== E.ENOENT) return existing;
    if (p.trailing && !isDir) return E.ENOENT;
    if (w.mount.readOnly) return E.EROFS;
    return skipPermission ? undefined : this.mayCreate(ctx.creds, w.inode);
  }

  /** Implements mkdirat(2). */
  mkdirat(ctx: FsContext, dir: Location | LinuxError, path: string, mode: number): LinuxError | undefined {
    const p = this.parentOf(ctx, dir, path);
    if (isError(p)) return p;
    const err = this.prepareCreate(ctx, p, true);
    if (err) return err;
    const made = p.w.inode.mkdir(
      p.last,
      this.createAttrs(ctx, p.w.inode, S_IFDIR | (mode & 0o1777 & ~ctx.umask)),
    );
    if (isError(made)) return made;
    fsnotifyCreate(p.w.inode, p.last, true);
    return undefined;
  }

  /** Implements mknodat(2): regular files, FIFOs, sockets, and (with CAP_MKNOD) devices. */
  mknodat(
    ctx: FsContext,
    dir: Location | LinuxError,
    path: string,
    mode: number,
    dev: number,
  ): LinuxError | undefined {
    let type = mode & S_IFMT;
    if (type === 0) type = S_IFREG;
    if (type === S_IFDIR) return E.EPERM;
    if (type !== S_IFREG && type !== S_IFCHR && type !== S_IFBLK && type !== S_IFIFO && type !== S_IFSOCK)
      return E.EINVAL;
    const p = this.parentOf(ctx, dir, path);
    if (isError(p)) return p;
    const err = this.prepareCreate(ctx, p, false);
    if (err) return err;
    // A 0/0 character device is a whiteout, which anyone may make (vfs_mknod's is_whiteout).
    const whiteout = type === S_IFCHR && dev === 0;
    if ((type === S_IFCHR || type === S_IFBLK) && !whiteout && !capable(ctx.creds, CAP_MKNOD)) return E.EPERM;
    const rdev = type === S_IFCHR || type === S_IFBLK ? dev >>> 0 : 0;
    const attrs = this.createAttrs(ctx, p.w.inode, type | (mode & 0o7777 & ~ctx.umask), rdev);
    const made = type === S_IFREG ? p.w.inode.create(p.last, attrs) : p.w.inode.mknod(p.last, attrs);
    if (isError(made)) return made;
    fsnotifyCreate(p.w.inode, p.last, false);
    return undefined;
  }

  /** Implements symlinkat(2): `target` is stored as given (ENOENT if empty). */
  symlinkat(
    ctx: FsContext,
    rawTarget: string,
    dir: Location | LinuxError,
    path: string,
  ): LinuxError | undefined {
    const target = checkPath(rawTarget, false);
    if (isError(target)) return target;
    const p = this.parentOf(ctx, dir, path);
    if (isError(p)) return p;
    const err = this.prepareCreate(ctx, p, false);
    if (err) return err;
    const made = p.w.inode.symlink(p.last, target, this.createAttrs(ctx, p.w.inode, S_IFLNK | 0o777));
    if (isError(made)) return made;
    fsnotifyCreate(p.w.inode, p.last, false);
    return undefined;
  }

  /** Implements linkat(2): AT_SYMLINK_FOLLOW, AT_EMPTY_PATH (needs CAP_DAC_READ_SEARCH). */
  linkat(
    ctx: FsContext,
    oldDir: Location | LinuxError,
    oldPath: string,
    newDir: Location | LinuxError,
    newPath: string,
    flags: number,
  ): LinuxError | undefined {
    if ((flags & ~(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH)) !== 0) return E.EINVAL;
    if ((flags & AT_EMPTY_PATH) !== 0 && !capable(ctx.creds, CAP_DAC_READ_SEARCH)) flags &= ~AT_EMPTY_PATH;
    const old = this.lookupat(
      ctx,
      oldDir,
      oldPath,
      (flags & AT_SYMLINK_FOLLOW ? 0 : AT_SYMLINK_NOFOLLOW) | (flags & AT_EMPTY_PATH),
    );
    if (isError(old)) return old;
    const p = this.parentOf(ctx, newDir, newPath);
    if (isError(p)) return p;
    let err = this.prepareCreate(ctx, p, false, true);
    if (err) return err;
    if (p.w.mount !== old.mount) return E.EXDEV;
    const inode = old.inode;
    inode.refresh();
    // fs.protected_hardlinks = 1 (may_linkat)
    if (ctx.creds.fsuid !== inode.uid && !capable(ctx.creds, CAP_FOWNER)) {
      const safe =
        inode.isRegular &&
        (inode.mode & S_ISUID) === 0 &&
        (inode.mode & (S_ISGID | S_IXGRP)) !== (S_ISGID | S_IXGRP) &&
        permission(ctx.creds, inode, MAY_READ | MAY_WRITE) === undefined;
      if (!safe) return E.EPERM;
    }
    err = this.mayCreate(ctx.creds, p.w.inode);
    if (err) return err;
    if (inode.isDir) return E.EPERM;
    if (inode.nlink === 0 && !inode.linkable) return E.ENOENT;
    err = p.w.inode.link(p.last, inode);
    if (!err) {
      inode.linkable = false;
      fsnotifyLink(p.w.inode, p.last, inode);
    }
    return err;
  }

  // ---------------------------------------------------------------------------------------------
  // Removing and renaming

  /** may_delete: may `creds` remove `victim` from `dir`, with the type rule for `isDir`? */
  private mayDelete(
    creds: Creds,
    dir: Inode,
    victim: Inode,
    isDir: boolean,
    mount: Mount,
  ): LinuxError | undefined {
    victim.refresh();
    const err = permission(creds, dir, MAY_WRITE | MAY_EXEC);
    if (err) return err;
    if (!stickyAllows(creds, dir, victim)) return E.EPERM;
    if (isDir) {
      if (!victim.isDir) return E.ENOTDIR;
      if (victim === mount.root || mount.children.has(victim) || this.isMountpoint(dir, '', victim))
        return E.EBUSY;
    } else if (victim.isDir) return E.EISDIR;
    return undefined;
  }

  /** Implements unlinkat(2) (AT_REMOVEDIR for rmdir). */
  unlinkat(ctx: FsContext, dir: Location | LinuxError, path: string, flags: number): LinuxError | undefined {
    if ((flags & ~AT_REMOVEDIR) !== 0) return E.EINVAL;
    const rmdir = (flags & AT_REMOVEDIR) !== 0;
    const p = this.parentOf(ctx, dir, path);
    if (isError(p)) return p;
    const { w, last } = p;
    if (rmdir) {
      if (last === '.') return E.EINVAL;
      if (last === '..') return E.ENOTEMPTY;
      if (last === '') return E.EBUSY;
    } else if (last === '' || isDotOrDotDot(last)) return E.EISDIR;
    if (w.mount.readOnly) return E.EROFS;
    const victim = lookupChild(w, last);
    if (isError(victim)) return victim;
    if (!rmdir && p.trailing) return victim.isDir ? E.EISDIR : E.ENOTDIR;
    const err = this.mayDelete(ctx.creds, w.inode, victim, rmdir, w.mount);
    if (err) return err;
    if (rmdir) {
      if (victim === ctx.root.inode && w.mount === ctx.root.mount) return E.EBUSY;
      const e = w.inode.rmdir(last, victim);
      if (!e) fsnotifyDelete(w.inode, last, victim, true);
      return e;
    }
    if (this.isMountpoint(w.inode, last, victim)) return E.EBUSY;
    const e = w.inode.unlink(last, victim);
    if (!e) fsnotifyDelete(w.inode, last, victim, false);
    return e;
  }

  /** Implements renameat2(2) with RENAME_NOREPLACE and RENAME_EXCHANGE. */
  renameat2(
    ctx: FsContext,
    oldDir: Location | LinuxError,
    oldPath: string,
    newDir: Location | LinuxError,
    newPath: string,
    flags: number,
  ): LinuxError | undefined {
    if ((flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT)) !== 0) return E.EINVAL;
    if ((flags & RENAME_NOREPLACE) !== 0 && (flags & RENAME_EXCHANGE) !== 0) return E.EINVAL;
    if ((flags & RENAME_WHITEOUT) !== 0) return (flags & RENAME_EXCHANGE) !== 0 ? E.EINVAL : E.EOPNOTSUPP;
    const exchange = (flags & RENAME_EXCHANGE) !== 0;
    const op = this.parentOf(ctx, oldDir, oldPath);
    if (isError(op)) return op;
    const np = this.parentOf(ctx, newDir, newPath);
    if (isError(np)) return np;
    if (op.w.mount !== np.w.mount) return E.EXDEV;
    if (op.last === '' || isDotOrDotDot(op.last)) return E.EBUSY;
    if (np.last === '' || isDotOrDotDot(np.last))
      return (flags & RENAME_NOREPLACE) !== 0 ? E.EEXIST : E.EBUSY;
    const mount = op.w.mount;
    if (mount.readOnly) return E.EROFS;
    const od = op.w.inode;
    const nd = np.w.inode;
    const moved = lookupChild(op.w, op.last);
    if (isError(moved)) return moved;
    const replacedR = lookupChild(np.w, np.last);
    if (isError(replacedR) && replacedR !== E.ENOENT) return replacedR;
    const replaced = isError(replacedR) ? null : replacedR;
    if (exchange) {
      if (replaced === null) return E.ENOENT;
      if ((op.trailing && !moved.isDir) || (np.trailing && !replaced.isDir)) return E.ENOTDIR;
    } else {
      if ((flags & RENAME_NOREPLACE) !== 0 && replaced !== null) return E.EEXIST;
      if (!moved.isDir && (op.trailing || np.trailing)) return E.ENOTDIR;
    }
    // The source may not be an ancestor of the target's parent, nor the other way round.
    if (moved.isDir && isAncestor(moved, nd)) return E.EINVAL;
    if (replaced !== null && replaced.isDir && isAncestor(replaced, od))
      return exchange ? E.EINVAL : E.ENOTEMPTY;
    if (replaced === moved) return undefined;
    const creds = ctx.creds;
    let err = this.mayDelete(creds, od, moved, moved.isDir, mount);
    if (err) return err;
    if (replaced === null) err = this.mayCreate(creds, nd);
    else err = this.mayDelete(creds, nd, replaced, exchange ? replaced.isDir : moved.isDir, mount);
    if (err) return err;
    if (od !== nd) {
      if (moved.isDir) {
        err = permission(creds, moved, MAY_WRITE);
        if (err) return err;
      }
      if (exchange && replaced !== null && replaced.isDir) {
        err = permission(creds, replaced, MAY_WRITE);
        if (err) return err;
      }
    }
    // vfs_rename: neither a covered file nor the file it would replace may go (directories were
    // checked by mayDelete).
    if (
      (!moved.isDir && this.isMountpoint(od, op.last, moved)) ||
      (replaced !== null && !replaced.isDir && this.isMountpoint(nd, np.last, replaced))
    )
      return E.EBUSY;
    err = od.rename(op.last, moved, nd, np.last, replaced, exchange);
    if (err) return err;
    if (exchange && replaced !== null) {
      fsnotifyMove(od, op.last, nd, np.last, moved, null);
      fsnotifyMove(nd, np.last, od, op.last, replaced, null);
    } else fsnotifyMove(od, op.last, nd, np.last, moved, replaced);
    return undefined;
  }

  // ---------------------------------------------------------------------------------------------
  // Extended attributes

  /**
   * xattr_permission: the namespace rules (trusted.* needs CAP_SYS_ADMIN; user.* only on
   * regular files and directories, owner-only on sticky directories), then read or write
   * permission on the file.
   */
  private xattrPermission(creds: Creds, inode: Inode, name: string, write: boolean): LinuxError | undefined {
    // security.*: no VFS check; the capability module wants CAP_SYS_ADMIN to change them.
    if (name.startsWith('security.')) return write && !capable(creds, CAP_SYS_ADMIN) ? E.EPERM : undefined;
    if (name.startsWith('system.')) return undefined;
    if (name.startsWith('trusted.')) {
      if (!capable(creds, CAP_SYS_ADMIN)) return write ? E.EPERM : E.ENODATA;
      return undefined;
    }
    if (name.startsWith('user.')) {
      if (!inode.isRegular && !inode.isDir) return write ? E.EPERM : E.ENODATA;
      if (write && inode.isDir && (inode.mode & S_ISVTX) !== 0 && !ownerOrCapable(creds, inode))
        return E.EPERM;
    }
    return permission(creds, inode, write ? MAY_WRITE : MAY_READ);
  }

  /**
   * Implements getxattr(2)/lgetxattr/fgetxattr on a resolved location: the whole value (the
   * kernel answers ERANGE when the caller's buffer is too small, or the size for size 0).
   */
  getxattr(ctx: FsContext, loc: Location, name: string): Uint8Array | LinuxError {
    const inode = loc.inode;
    inode.refresh();
    const err = this.xattrPermission(ctx.creds, inode, name, false);
    if (err) return err;
    return inode.getxattr(name);
  }

  /**
   * Implements setxattr(2) and friends: flags XATTR_CREATE (1) / XATTR_REPLACE (2), values up to
   * 64 KiB (E2BIG), EROFS on read-only mounts. The kernel has checked the name (ERANGE).
   */
  setxattr(
    ctx: FsContext,
    loc: Location,
    name: string,
    value: Uint8Array,
    flags: number,
  ): LinuxError | undefined {
    if ((flags & ~3) !== 0) return E.EINVAL;
    if (value.length > 65536) return E.E2BIG;
    const inode = loc.inode;
    inode.refresh();
    if (loc.mount.readOnly) return E.EROFS;
    const err = this.xattrPermission(ctx.creds, inode, name, true);
    if (err) return err;
    return notified(loc, IN_ATTRIB, inode.setxattr(name, value, flags));
  }

  /** Implements removexattr(2) and friends. */
  removexattr(ctx: FsContext, loc: Location, name: string): LinuxError | undefined {
    const inode = loc.inode;
    inode.refresh();
    if (loc.mount.readOnly) return E.EROFS;
    const err = this.xattrPermission(ctx.creds, inode, name, true);
    if (err) return err;
    return notified(loc, IN_ATTRIB, inode.removexattr(name));
  }

  /**
   * Implements listxattr(2) and friends: the names (trusted.* only for CAP_SYS_ADMIN); the kernel
   * packs them NUL-separated and answers ERANGE for a short buffer.
   */
  listxattr(ctx: FsContext, loc: Location): string[] | LinuxError {
    const inode = loc.inode;
    inode.refresh();
    const names = inode.listxattr();
    if (isError(names)) return names;
    return capable(ctx.creds, CAP_SYS_ADMIN) ? names : names.filter((n) => !n.startsWith('trusted.'));
  }

  // ---------------------------------------------------------------------------------------------
  // Attributes

  /** Linux's killpriv on write/truncate by someone without CAP_FSETID: drop setuid/setgid. */
  private killPriv(creds: Creds, inode: Inode, attr: SetAttr): void {
    const m = inode.mode;
    if ((m & S_ISUID) === 0 && (m & (S_ISGID | S_IXGRP)) !== (S_ISGID | S_IXGRP)) return;
    if (capable(creds, CAP_FSETID)) return;
    attr.mode = m & ~(S_ISUID | ((m & S_IXGRP) !== 0 ? S_ISGID : 0)) & 0o7777;
  }

  private touchAtime(_loc: Location): void {
    // relatime on symlinks: not tracked (Linux updates it rarely; nothing depends on it).
  }

  /** Implements fchmodat(2) (AT_SYMLINK_NOFOLLOW gives EOPNOTSUPP as on Linux). */
  fchmodat(
    ctx: FsContext,
    dir: Location | LinuxError,
    path: string,
    mode: number,
    flags: number,
  ): LinuxError | undefined {
    if ((flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) !== 0) return E.EINVAL;
    const loc = this.lookupat(ctx, dir, path, flags);
    if (isError(loc)) return loc;
    if (loc.inode.isSymlink) return E.EOPNOTSUPP;
    return this.chmodLocation(ctx, loc, mode);
  }

  /** Implements fchmod(2) on a description. O_PATH: EBADF. */
  fchmod(ctx: FsContext, file: FileDescription, mode: number): LinuxError | undefined {
    if (file.isPath) return E.EBADF;
    return this.chmodLocation(ctx, file.location, mode);
  }

  private chmodLocation(ctx: FsContext, loc: Location, mode: number): LinuxError | undefined {
    const inode = loc.inode;
    inode.refresh();
    if (loc.mount.readOnly) return E.EROFS;
    if (!ownerOrCapable(ctx.creds, inode)) return E.EPERM;
    mode &= 0o7777;
    if ((mode & S_ISGID) !== 0 && !inGroup(ctx.creds, inode.gid) && !capable(ctx.creds, CAP_FSETID))
      mode &= ~S_ISGID;
    return notified(loc, IN_ATTRIB, inode.setattr({ mode, ctimeNs: nowNs() }));
  }

  /** Implements fchownat(2): -1 leaves an id unchanged. */
  fchownat(
    ctx: FsContext,
    dir: Location | LinuxError,
    path: string,
    uid: number,
    gid: number,
    flags: number,
  ): LinuxError | undefined {
    if ((flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) !== 0) return E.EINVAL;
    const loc = this.lookupat(ctx, dir, path, flags);
    if (isError(loc)) return loc;
    return this.chownLocation(ctx, loc, uid, gid);
  }

  /** Implements fchown(2). O_PATH: EBADF. */
  fchown(ctx: FsContext, file: FileDescription, uid: number, gid: number): LinuxError | undefined {
    if (file.isPath) return E.EBADF;
    return this.chownLocation(ctx, file.location, uid, gid);
  }

  private chownLocation(ctx: FsContext, loc: Location, uid: number, gid: number): LinuxError | undefined {
    const inode = loc.inode;
    inode.refresh();
    uid = uid | 0;
    gid = gid | 0;
    if (loc.mount.readOnly) return E.EROFS;
    const creds = ctx.creds;
    const attr: SetAttr = {};
    if (uid !== -1) {
      uid >>>= 0;
      if (uid !== inode.uid && !capable(creds, CAP_CHOWN)) return E.EPERM;
      if (creds.fsuid !== inode.uid && uid === inode.uid && !capable(creds, CAP_CHOWN)) return E.EPERM;
      attr.uid = uid;
    }
    if (gid !== -1) {
      gid >>>= 0;
      const ok =
        capable(creds, CAP_CHOWN) ||
        (creds.fsuid === inode.uid && (gid === inode.gid || inGroup(creds, gid)));
      if (!ok) return E.EPERM;
      attr.gid = gid;
    }
    if (!inode.isDir) {
      const m = inode.mode;
      let nm = m;
      if ((m & S_ISUID) !== 0) nm &= ~S_ISUID;
      if ((m & (S_ISGID | S_IXGRP)) === (S_ISGID | S_IXGRP)) nm &= ~S_ISGID;
      if (nm !== m) attr.mode = nm & 0o7777;
    }
    attr.ctimeNs = nowNs();
    return notified(loc, IN_ATTRIB, inode.setattr(attr));
  }

  /**
   * Implements utimensat(2). `times` null means both now. With a null path (futimens) or an empty
   * path and AT_EMPTY_PATH, `dir` itself is changed.
   */
  utimensat(
    ctx: FsContext,
    dir: Location | LinuxError,
    path: string | null,
    times: readonly [Timespec, Timespec] | null,
    flags: number,
  ): LinuxError | undefined {
    if ((flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) !== 0) return E.EINVAL;
    // Both omitted: "we must not even check the path" (fs/utimes.c).
    if (times !== null && times[0].nsec === UTIME_OMIT && times[1].nsec === UTIME_OMIT) return undefined;
    let loc: Location | LinuxError;
    if (path === null) {
      if (isError(dir)) return dir;
      loc = dir;
    } else loc = this.lookupat(ctx, dir, path, flags);
    if (isError(loc)) return loc;
    return this.utimesLocation(ctx, loc, times);
  }

  /** Implements futimens(2) on a description (O_PATH allowed, as utimensat(fd, NULL) is). */
  futimens(
    ctx: FsContext,
    file: FileDescription,
    times: readonly [Timespec, Timespec] | null,
  ): LinuxError | undefined {
    return this.utimensat(ctx, file.location, null, times, 0);
  }

  private utimesLocation(
    ctx: FsContext,
    loc: Location,
    times: readonly [Timespec, Timespec] | null,
  ): LinuxError | undefined {
    if (times !== null) {
      for (const t of times) {
        if (
          t.nsec !== UTIME_NOW &&
          t.nsec !== UTIME_OMIT &&
          !(Number.isInteger(t.nsec) && t.nsec >= 0 && t.nsec < 1e9)
        )
          return E.EINVAL;
      }
    }
    const inode = loc.inode;
    inode.refresh();
    if (loc.mount.readOnly) return E.EROFS;
    const creds = ctx.creds;
    const now = nowNs();
    if (times !== null && (!Number.isSafeInteger(times[0].sec) || !Number.isSafeInteger(times[1].sec)))
      return E.EINVAL;
    const toNs = (t: Timespec): bigint | undefined =>
      t.nsec === UTIME_OMIT
        ? undefined
        : t.nsec === UTIME_NOW
          ? now
          : BigInt(Math.trunc(t.sec)) * 1_000_000_000n + BigInt(t.nsec);
    const touch = times === null || (times[0].nsec === UTIME_NOW && times[1].nsec === UTIME_NOW);
    if (!ownerOrCapable(creds, inode)) {
      // Setting both to now needs write access; anything explicit needs ownership.
      if (!touch) return E.EPERM;
      const err = permission(creds, inode, MAY_WRITE);
      if (err) return err;
    }
    const attr: SetAttr = { ctimeNs: now };
    if (times === null) {
      attr.atimeNs = now;
      attr.mtimeNs = now;
    } else {
      const a = toNs(times[0]);
      const m = toNs(times[1]);
      if (a !== undefined) attr.atimeNs = a;
      if (m !== undefined) attr.mtimeNs = m;
    }
    return notified(loc, IN_ATTRIB, inode.setattr(attr));
  }

  /** Implements truncate(2) (follows symlinks; needs write permission). */
  truncateat(
    ctx: FsContext,
    dir: Location | LinuxError,
    path: string,
    length: number,
  ): LinuxError | undefined {
    if (length < 0 || !Number.isSafeInteger(length)) return length < 0 ? E.EINVAL : E.EFBIG;
    const loc = this.lookupat(ctx, dir, path, 0);
    if (isError(loc)) return loc;
    const inode = loc.inode;
    inode.refresh();
    if (inode.isDir) return E.EISDIR;
    if (!inode.isRegular) return E.EINVAL;
    const err = permission(ctx.creds, inode, MAY_WRITE);
    if (err) return err;
    if (loc.mount.readOnly) return E.EROFS;
    return notified(loc, IN_MODIFY, this.truncateInode(ctx.creds, inode, length));
  }

  /** Implements ftruncate(2): the description must be open for writing (EINVAL otherwise). */
  ftruncate(file: FileDescription, length: number): LinuxError | undefined {
    if (file.isPath) return E.EBADF;
    if (length < 0) return E.EINVAL;
    if (!Number.isSafeInteger(length) || length > MAX_LFS_FILESIZE) return E.EFBIG;
    const inode = file.location.inode;
    if (!inode.isRegular || !file.writable) return E.EINVAL;
    return notified(file.location, IN_MODIFY, this.truncateInode(file.creds, inode, length));
  }

  private truncateInode(creds: Creds, inode: Inode, length: number): LinuxError | undefined {
    const now = nowNs();
    const attr: SetAttr = { size: length, mtimeNs: now, ctimeNs: now };
    this.killPriv(creds, inode, attr);
    return inode.setattr(attr);
  }
}

/** Passes `err` through; on success first reports `mask` (fsnotify_change) on `loc`. */
function notified(loc: Location, mask: number, err: LinuxError | undefined): LinuxError | undefined {
  if (!err) fsnotifyLocation(loc, mask);
  return err;
}

/** True when directory `a` is `b` or one of its ancestors (fs-level parents). */
function isAncestor(a: Inode, b: Inode): boolean {
  let x: Inode | null = b;
  while (x !== null) {
    if (x === a) return true;
    const p: Inode | null = x.parent;
    if (p === x) return false;
    x = p;
  }
  return false;
}
