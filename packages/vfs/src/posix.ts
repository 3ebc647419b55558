/**
 * A process-like facade with numeric file descriptors over a {@link Vfs}: the low-level API that
 * mirrors the syscalls for standalone use and tests (`p.openat(AT_FDCWD, '/a', O_CREAT | O_RDWR,
 * 0o644)` returns an fd or a `LinuxError`). The tsvisor kernel has its own fd tables and calls
 * the {@link Vfs} and {@link FileDescription} methods directly.
 *
 * Being synchronous, it answers EAGAIN where a blocking description would wait.
 *
 * @module
 */

import { E, isError } from '@tsvisor/abi';
import type { LinuxError } from '@tsvisor/abi';
import {
  AT_EMPTY_PATH,
  AT_FDCWD,
  AT_REMOVEDIR,
  AT_SYMLINK_NOFOLLOW,
  F_GETFL,
  F_SETFL,
  O_CLOEXEC,
} from './constants.js';
import type { FileDescription } from './file.js';
import {
  LOCK_EX,
  LOCK_NB,
  LOCK_SH,
  LOCK_UN,
  flock,
  getRecordLock,
  releasePosixLocks,
  setRecordLock,
} from './locks.js';
import type { FlockRequest } from './locks.js';
import { createPipe } from './pipe.js';
import type { Creds, Dirent, FsContext, Location, Stat, Statfs } from './types.js';
import type { OpenHowRequest, Timespec, Vfs } from './vfs.js';
import { WOULD_BLOCK } from './wait.js';

const F_DUPFD = 0;
const F_GETFD = 1;
const F_SETFD = 2;
const F_DUPFD_CLOEXEC = 1030;
const FD_CLOEXEC = 1;

interface Slot {
  file: FileDescription;
  cloexec: boolean;
}

/** One process's view of a {@link Vfs}: credentials, umask, root, cwd and an fd table. */
export class Posix {
  private readonly fds: (Slot | undefined)[] = [];
  private readonly refs = new Map<FileDescription, number>();
  private ctxCache: FsContext | null = null;
  private _cwd: Location;
  private _root: Location;

  constructor(
    readonly vfs: Vfs,
    private _creds: Creds,
    private _umask = 0o022,
  ) {
    this._root = vfs.rootLocation();
    this._cwd = this._root;
  }

  /** The path-operation context (rebuilt when creds, umask, root or cwd change). */
  get ctx(): FsContext {
    this.ctxCache ??= { creds: this._creds, umask: this._umask, root: this._root, cwd: this._cwd };
    return this.ctxCache;
  }

  /** Change credentials (setuid(2) and friends). */
  setCreds(creds: Creds): void {
    this._creds = creds;
    this.ctxCache = null;
  }

  /** Implements umask(2): returns the old mask. */
  umask(mask: number): number {
    const old = this._umask;
    this._umask = mask & 0o777;
    this.ctxCache = null;
    return old;
  }

  /** The description behind an fd, or EBADF. */
  file(fd: number): FileDescription | LinuxError {
    return this.fds[fd]?.file ?? E.EBADF;
  }

  private dir(dirfd: number): Location | LinuxError {
    if (dirfd === AT_FDCWD) return this._cwd;
    const f = this.fds[dirfd];
    return f === undefined ? E.EBADF : f.file.location;
  }

  /** Install a description at the lowest free fd (the caller's reference moves into the table). */
  install(file: FileDescription, cloexec = false, min = 0): number {
    let fd = min;
    while (this.fds[fd] !== undefined) fd++;
    this.fds[fd] = { file, cloexec };
    this.refs.set(file, (this.refs.get(file) ?? 0) + 1);
    return fd;
  }

  /** Implements close(2): POSIX locks of the file go; the description goes with its last fd. */
  close(fd: number): 0 | LinuxError {
    const s = this.fds[fd];
    if (s === undefined) return E.EBADF;
    this.fds[fd] = undefined;
    releasePosixLocks(s.file.location.inode, this);
    const n = (this.refs.get(s.file) ?? 1) - 1;
    if (n === 0) {
      this.refs.delete(s.file);
      s.file.release();
    } else this.refs.set(s.file, n);
    return 0;
  }

  /** Close every fd. */
  closeAll(): void {
    for (let fd = 0; fd < this.fds.length; fd++) if (this.fds[fd] !== undefined) this.close(fd);
  }

  /** Implements openat(2). */
  openat(dirfd: number, path: string, flags: number, mode = 0): number | LinuxError {
    const f = this.vfs.openat(this.ctx, this.dir(dirfd), path, flags, mode);
    if (isError(f)) return f;
    if (f.openWait !== null) {
      f.release();
      return E.EAGAIN;
    }
    return this.install(f, (flags & O_CLOEXEC) !== 0);
  }

  /**
   * Implements openat2(2) with `struct open_how` as numbers (the RESOLVE_* path-walk
   * restrictions; see {@link Vfs.openat2}).
   */
  openat2(dirfd: number, path: string, how: OpenHowRequest): number | LinuxError {
    const f = this.vfs.openat2(this.ctx, this.dir(dirfd), path, how);
    if (isError(f)) return f;
    if (f.openWait !== null) {
      f.release();
      return E.EAGAIN;
    }
    return this.install(f, (how.flags & O_CLOEXEC) !== 0);
  }

  /** Implements open(2). */
  open(path: string, flags: number, mode = 0): number | LinuxError {
    return this.openat(AT_FDCWD, path, flags, mode);
  }

  private io(r: number | LinuxError | typeof WOULD_BLOCK): number | LinuxError {
    return r === WOULD_BLOCK ? E.EAGAIN : r;
  }

  /** Implements read(2). */
  read(fd: number, dst: Uint8Array): number | LinuxError {
    const f = this.file(fd);
    return isError(f) ? f : this.io(f.read(dst));
  }

  /** Implements write(2). */
  write(fd: number, src: Uint8Array): number | LinuxError {
    const f = this.file(fd);
    return isError(f) ? f : this.io(f.write(src));
  }

  /** Implements pread64(2). */
  pread(fd: number, dst: Uint8Array, offset: number): number | LinuxError {
    const f = this.file(fd);
    return isError(f) ? f : this.io(f.pread(dst, offset));
  }

  /** Implements pwrite64(2). */
  pwrite(fd: number, src: Uint8Array, offset: number): number | LinuxError {
    const f = this.file(fd);
    return isError(f) ? f : this.io(f.pwrite(src, offset));
  }

  /** Implements lseek(2). */
  lseek(fd: number, offset: number, whence: number): number | LinuxError {
    const f = this.file(fd);
    return isError(f) ? f : f.lseek(offset, whence);
  }

  /** Implements getdents64(2), returning every remaining entry. */
  getdents(fd: number): Dirent[] | LinuxError {
    const f = this.file(fd);
    return isError(f) ? f : f.readdirAll();
  }

  /** Implements fstat(2). */
  fstat(fd: number): Stat | LinuxError {
    const f = this.file(fd);
    return isError(f) ? f : f.stat();
  }

  /** Implements newfstatat(2). */
  fstatat(dirfd: number, path: string, flags: number): Stat | LinuxError {
    if ((flags & AT_EMPTY_PATH) !== 0 && path === '' && dirfd !== AT_FDCWD) {
      const f = this.file(dirfd);
      if (isError(f)) return f;
    }
    return this.vfs.statat(this.ctx, this.dir(dirfd), path, flags);
  }

  /** Implements stat(2). */
  stat(path: string): Stat | LinuxError {
    return this.fstatat(AT_FDCWD, path, 0);
  }

  /** Implements lstat(2). */
  lstat(path: string): Stat | LinuxError {
    return this.fstatat(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW);
  }

  /** Implements mkdirat(2). */
  mkdirat(dirfd: number, path: string, mode: number): 0 | LinuxError {
    return this.vfs.mkdirat(this.ctx, this.dir(dirfd), path, mode) ?? 0;
  }

  /** Implements mkdir(2). */
  mkdir(path: string, mode: number): 0 | LinuxError {
    return this.mkdirat(AT_FDCWD, path, mode);
  }

  /** Implements mknodat(2). */
  mknodat(dirfd: number, path: string, mode: number, dev: number): 0 | LinuxError {
    return this.vfs.mknodat(this.ctx, this.dir(dirfd), path, mode, dev) ?? 0;
  }

  /** Implements unlinkat(2). */
  unlinkat(dirfd: number, path: string, flags: number): 0 | LinuxError {
    return this.vfs.unlinkat(this.ctx, this.dir(dirfd), path, flags) ?? 0;
  }

  /** Implements unlink(2). */
  unlink(path: string): 0 | LinuxError {
    return this.unlinkat(AT_FDCWD, path, 0);
  }

  /** Implements rmdir(2). */
  rmdir(path: string): 0 | LinuxError {
    return this.unlinkat(AT_FDCWD, path, AT_REMOVEDIR);
  }

  /** Implements renameat2(2). */
  renameat2(
    olddirfd: number,
    oldpath: string,
    newdirfd: number,
    newpath: string,
    flags: number,
  ): 0 | LinuxError {
    return this.vfs.renameat2(this.ctx, this.dir(olddirfd), oldpath, this.dir(newdirfd), newpath, flags) ?? 0;
  }

  /** Implements rename(2). */
  rename(oldpath: string, newpath: string): 0 | LinuxError {
    return this.renameat2(AT_FDCWD, oldpath, AT_FDCWD, newpath, 0);
  }

  /** Implements symlinkat(2). */
  symlinkat(target: string, dirfd: number, path: string): 0 | LinuxError {
    return this.vfs.symlinkat(this.ctx, target, this.dir(dirfd), path) ?? 0;
  }

  /** Implements symlink(2). */
  symlink(target: string, path: string): 0 | LinuxError {
    return this.symlinkat(target, AT_FDCWD, path);
  }

  /** Implements readlinkat(2). */
  readlinkat(dirfd: number, path: string): string | LinuxError {
    return this.vfs.readlinkat(this.ctx, this.dir(dirfd), path);
  }

  /** Implements readlink(2). */
  readlink(path: string): string | LinuxError {
    return this.readlinkat(AT_FDCWD, path);
  }

  /** Implements linkat(2). */
  linkat(
    olddirfd: number,
    oldpath: string,
    newdirfd: number,
    newpath: string,
    flags: number,
  ): 0 | LinuxError {
    return this.vfs.linkat(this.ctx, this.dir(olddirfd), oldpath, this.dir(newdirfd), newpath, flags) ?? 0;
  }

  /** Implements link(2). */
  link(oldpath: string, newpath: string): 0 | LinuxError {
    return this.linkat(AT_FDCWD, oldpath, AT_FDCWD, newpath, 0);
  }

  /** Implements faccessat2(2) (the facade's creds serve as both real and effective ids). */
  faccessat(dirfd: number, path: string, mode: number, flags: number): 0 | LinuxError {
    return this.vfs.faccessat(this.ctx, this.dir(dirfd), path, mode, flags) ?? 0;
  }

  /** Implements access(2). */
  access(path: string, mode: number): 0 | LinuxError {
    return this.faccessat(AT_FDCWD, path, mode, 0);
  }

  /** Implements fchmodat(2). */
  fchmodat(dirfd: number, path: string, mode: number, flags: number): 0 | LinuxError {
    return this.vfs.fchmodat(this.ctx, this.dir(dirfd), path, mode, flags) ?? 0;
  }

  /** Implements chmod(2). */
  chmod(path: string, mode: number): 0 | LinuxError {
    return this.fchmodat(AT_FDCWD, path, mode, 0);
  }

  /** Implements fchmod(2). */
  fchmod(fd: number, mode: number): 0 | LinuxError {
    const f = this.file(fd);
    return isError(f) ? f : (this.vfs.fchmod(this.ctx, f, mode) ?? 0);
  }

  /** Implements fchownat(2). */
  fchownat(dirfd: number, path: string, uid: number, gid: number, flags: number): 0 | LinuxError {
    return this.vfs.fchownat(this.ctx, this.dir(dirfd), path, uid, gid, flags) ?? 0;
  }

  /** Implements chown(2). */
  chown(path: string, uid: number, gid: number): 0 | LinuxError {
    return this.fchownat(AT_FDCWD, path, uid, gid, 0);
  }

  /** Implements fchown(2). */
  fchown(fd: number, uid: number, gid: number): 0 | LinuxError {
    const f = this.file(fd);
    return isError(f) ? f : (this.vfs.fchown(this.ctx, f, uid, gid) ?? 0);
  }

  /** Implements utimensat(2). */
  utimensat(
    dirfd: number,
    path: string | null,
    times: readonly [Timespec, Timespec] | null,
    flags: number,
  ): 0 | LinuxError {
    if (path === null) {
      const f = this.file(dirfd);
      if (isError(f)) return f;
    }
    return this.vfs.utimensat(this.ctx, this.dir(dirfd), path, times, flags) ?? 0;
  }

  /** Implements truncate(2). */
  truncate(path: string, length: number): 0 | LinuxError {
    return this.vfs.truncateat(this.ctx, this._cwd, path, length) ?? 0;
  }

  /** Implements ftruncate(2). */
  ftruncate(fd: number, length: number): 0 | LinuxError {
    const f = this.file(fd);
    return isError(f) ? f : (this.vfs.ftruncate(f, length) ?? 0);
  }

  /** Implements fsync(2). */
  fsync(fd: number): 0 | LinuxError {
    const f = this.file(fd);
    return isError(f) ? f : (f.fsync() ?? 0);
  }

  /** Implements chdir(2). */
  chdir(path: string): 0 | LinuxError {
    const loc = this.vfs.chdir(this.ctx, this._cwd, path);
    if (isError(loc)) return loc;
    this._cwd = loc;
    this.ctxCache = null;
    return 0;
  }

  /** Implements fchdir(2). */
  fchdir(fd: number): 0 | LinuxError {
    const f = this.file(fd);
    if (isError(f)) return f;
    const loc = this.vfs.fchdir(this.ctx, f.location);
    if (isError(loc)) return loc;
    this._cwd = loc;
    this.ctxCache = null;
    return 0;
  }

  /** Implements chroot(2) (the caller checks CAP_SYS_CHROOT). */
  chroot(path: string): 0 | LinuxError {
    const loc = this.vfs.chdir(this.ctx, this._cwd, path);
    if (isError(loc)) return loc;
    this._root = loc;
    this.ctxCache = null;
    return 0;
  }

  /** Implements getcwd(2). */
  getcwd(): string | LinuxError {
    return this.vfs.getcwd(this.ctx);
  }

  /** Implements statfs(2). */
  statfs(path: string): Statfs | LinuxError {
    return this.vfs.statfsat(this.ctx, this._cwd, path);
  }

  /** Implements fstatfs(2). */
  fstatfs(fd: number): Statfs | LinuxError {
    const f = this.file(fd);
    return isError(f) ? f : this.vfs.statfsOf(f.location);
  }

  /** Implements pipe2(2): [read fd, write fd]. */
  pipe2(flags = 0): [number, number] | LinuxError {
    const p = createPipe(this._creds, flags);
    if (isError(p)) return p;
    const cloexec = (flags & O_CLOEXEC) !== 0;
    return [this.install(p[0], cloexec), this.install(p[1], cloexec)];
  }

  /** Implements dup(2). */
  dup(fd: number): number | LinuxError {
    const f = this.file(fd);
    return isError(f) ? f : this.install(f);
  }

  /** Implements dup3(2) (dup2 when flags is 0 and the fds differ). */
  dup3(oldfd: number, newfd: number, flags = 0): number | LinuxError {
    const f = this.file(oldfd);
    if (isError(f)) return f;
    if (oldfd === newfd) return E.EINVAL;
    if (newfd < 0) return E.EBADF;
    if (this.fds[newfd] !== undefined) this.close(newfd);
    this.fds[newfd] = { file: f, cloexec: (flags & O_CLOEXEC) !== 0 };
    this.refs.set(f, (this.refs.get(f) ?? 0) + 1);
    return newfd;
  }

  /** Implements fcntl(2) for the fd and file-status commands and the file-type ones. */
  fcntl(fd: number, cmd: number, arg = 0): number | LinuxError {
    const s = this.fds[fd];
    if (s === undefined) return E.EBADF;
    switch (cmd) {
      case F_DUPFD:
      case F_DUPFD_CLOEXEC:
        if (arg < 0) return E.EINVAL;
        return this.install(s.file, cmd === F_DUPFD_CLOEXEC, arg);
      case F_GETFD:
        return s.cloexec ? FD_CLOEXEC : 0;
      case F_SETFD:
        s.cloexec = (arg & FD_CLOEXEC) !== 0;
        return 0;
      case F_GETFL:
        return s.file.getFlags();
      case F_SETFL:
        return s.file.setFlags(arg) ?? 0;
      default:
        return s.file.fcntl(cmd, arg);
    }
  }

  /**
   * Implements flock(2) (EAGAIN where a blocking flock would wait). As in Linux, LOCK_MAND is
   * ignored and a bad operation is EINVAL before the fd is looked at.
   */
  flock(fd: number, op: number): 0 | LinuxError {
    if ((op & 32) !== 0) return 0; // LOCK_MAND
    const kind = op & ~LOCK_NB;
    if (kind !== LOCK_SH && kind !== LOCK_EX && kind !== LOCK_UN) return E.EINVAL;
    const f = this.file(fd);
    if (isError(f)) return f;
    const r = flock(f, op);
    return r === WOULD_BLOCK ? E.EAGAIN : r;
  }

  /**
   * Implements the record-lock fcntls: F_GETLK/F_SETLK/F_SETLKW (owned by this process, `pid`)
   * and F_OFD_GETLK/F_OFD_SETLK/F_OFD_SETLKW (owned by the description). GETLK fills `lock`.
   */
  lock(fd: number, cmd: number, lock: FlockRequest, pid = 1): 0 | LinuxError {
    const f = this.file(fd);
    if (isError(f)) return f;
    const ofd = cmd === 36 || cmd === 37 || cmd === 38;
    if (ofd && lock.pid !== 0) return E.EINVAL;
    const owner: object = ofd ? f : this;
    if (cmd === 5 || cmd === 36) {
      const r = getRecordLock(f, owner, lock);
      if (isError(r)) return r;
      Object.assign(lock, r);
      return 0;
    }
    if (cmd !== 6 && cmd !== 7 && cmd !== 37 && cmd !== 38) return E.EINVAL;
    const r = setRecordLock(f, owner, ofd ? -1 : pid, lock, cmd === 7 || cmd === 38);
    return r === WOULD_BLOCK ? E.EAGAIN : r;
  }
}
