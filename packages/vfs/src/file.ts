/**
 * Open file descriptions: the VFS-owned {@link FileDescription} (flags, offset, where it was
 * opened) and the per-filesystem {@link FileDescriptionImpl} that does the I/O.
 *
 * There is no reference count here: the kernel's fd tables hold references and call
 * {@link FileDescription.release} once, when the last descriptor (and mapping) goes away.
 *
 * @module
 */

import { E, isError } from '@tsvisor/abi';
import type { LinuxError } from '@tsvisor/abi';
import {
  MAX_LFS_FILESIZE,
  O_ACCMODE,
  O_APPEND,
  O_NONBLOCK,
  O_PATH,
  O_RDONLY,
  O_RDWR,
  O_WRONLY,
  POLLIN,
  POLLOUT,
  POLLRDNORM,
  POLLWRNORM,
  SEEK_CUR,
  SEEK_DATA,
  SEEK_END,
  SEEK_HOLE,
  SEEK_SET,
  SETFL_MASK,
  CAP_FSETID,
  S_ISGID,
  S_ISUID,
  S_IXGRP,
  S_IFDIR,
  S_IFMT,
  S_IFREG,
} from './constants.js';
import { nowNs } from './clock.js';
import { releaseDescriptionLocks } from './locks.js';
import type { IOSequence } from './io-sequence.js';
import { IN_ACCESS, IN_MODIFY, fsnotifyClose, fsnotifyLocation, fsnotifyOpen } from './fsnotify.js';
import { fillStat } from './stat.js';
import { capable } from './types.js';
import type { Creds, DirentSink, Dirent, Location, Stat } from './types.js';
import { WOULD_BLOCK } from './wait.js';
import type { WaitQueue, Waitable, WouldBlock } from './wait.js';

/** The readiness of a file that is always ready (Linux's DEFAULT_POLLMASK). */
export const DEFAULT_POLLMASK = POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM;

/**
 * What a filesystem implements for an open file (Linux's file_operations). Defaults are Linux's
 * answers for a missing operation; each says which.
 */
export abstract class FileDescriptionImpl {
  /**
   * True for objects without a file position (pipes, FIFOs, sockets): read/write ignore offsets,
   * and pread/pwrite/lseek give ESPIPE (no FMODE_PREAD / no llseek).
   */
  get stream(): boolean {
    return false;
  }

  /**
   * True when readiness can change with no notification on the wait queue at that moment: a
   * host-backed object hears of the host's changes later (through the event loop). Edge-triggered
   * epoll then also compares the readiness it last reported with the readiness now.
   */
  get readinessLags(): boolean {
    return false;
  }

  /**
   * True when I/O can be asked not to wait (Linux's FMODE_NOWAIT): preadv2/pwritev2 with
   * RWF_NOWAIT give EOPNOTSUPP on other files. Linux's tmpfs does not have it, pipes do.
   */
  get nowait(): boolean {
    return false;
  }

  /**
   * Read into `dst` from `offset` (-1 for streams). Returns the byte count (0 at end of file),
   * {@link WOULD_BLOCK} when a blocking read would wait, or an error. No read op: EINVAL.
   */
  read(_dst: Uint8Array, _offset: number, _file: FileDescription): number | LinuxError | WouldBlock {
    return E.EINVAL;
  }

  /**
   * Write `src` at `offset` (-1 for streams). Returns the byte count written (possibly short),
   * {@link WOULD_BLOCK}, or an error. No write op: EINVAL.
   */
  write(_src: Uint8Array, _offset: number, _file: FileDescription): number | LinuxError | WouldBlock {
    return E.EINVAL;
  }

  /**
   * Read from `offset` (-1 for streams) straight into `dst`, which may fault part way. Returns
   * the bytes that reached `dst` (a fault after some gives their count, before any `EFAULT`),
   * {@link WOULD_BLOCK}, or an error. Bytes a file produced but could not deliver must count as
   * unread: the VFS advances the position only by the result.
   *
   * The default bounces through {@link read} (so filesystems need not implement this): right for
   * files with a position, but a stream loses what it read and could not deliver, so stream
   * types (pipes) override it.
   */
  readIO(dst: IOSequence, offset: number, file: FileDescription): number | LinuxError | WouldBlock {
    const buf = new Uint8Array(dst.length);
    const n = this.read(buf, offset, file);
    if (typeof n !== 'number' || n <= 0) return n;
    return dst.copyOut(buf.subarray(0, n));
  }

  /**
   * Write from `src`, which may fault part way, at `offset` (-1 for streams). Returns the bytes
   * written, {@link WOULD_BLOCK}, or an error (`EFAULT` when nothing could be copied in and the
   * file would have read it). The default copies in the readable prefix of `src` and hands it
   * to {@link write}; devices that never look at the bytes override it. `queued` (streams): the
   * bytes the same write(2) moved already, for a blocked writer going on (a TCP socket then
   * leaves a reset for the next call, as Linux does).
   */
  writeIO(
    src: IOSequence,
    offset: number,
    file: FileDescription,
    queued?: number,
  ): number | LinuxError | WouldBlock {
    void queued;
    const buf = new Uint8Array(src.length);
    if (buf.length === 0) return this.write(buf, offset, file);
    const got = src.copyIn(buf);
    if (isError(got)) return got;
    return this.write(buf.subarray(0, got), offset, file);
  }

  /**
   * The new offset for lseek(2). The default is generic_file_llseek over the inode's size, with
   * SEEK_DATA treating the whole file as data and SEEK_HOLE finding the hole at its end.
   */
  seek(file: FileDescription, offset: number, whence: number): number | LinuxError {
    const size = file.location.inode.size();
    let pos: number;
    switch (whence) {
      case SEEK_SET:
        pos = offset;
        break;
      case SEEK_CUR:
        pos = file.offset + offset;
        break;
      case SEEK_END:
        pos = size + offset;
        break;
      case SEEK_DATA:
        if (offset < 0 || offset >= size) return E.ENXIO;
        pos = offset;
        break;
      case SEEK_HOLE:
        if (offset < 0 || offset >= size) return E.ENXIO;
        pos = size;
        break;
      default:
        return E.EINVAL;
    }
    if (pos < 0 || pos > MAX_LFS_FILESIZE) return E.EINVAL;
    return pos;
  }

  /**
   * Emit directory entries starting at directory offset `pos` until `sink` refuses one or the
   * directory ends; return the offset to continue from. No iterate op: ENOTDIR.
   */
  getdents(_pos: number, _sink: DirentSink, _file: FileDescription): number | LinuxError {
    return E.ENOTDIR;
  }

  /** ioctl(2) on this file; `arg` is the raw argument. No ioctl op: ENOTTY. */
  ioctl(_cmd: number, _arg: bigint, _file: FileDescription): number | LinuxError {
    return E.ENOTTY;
  }

  /**
   * fcntl(2) commands that belong to the file type (F_SETPIPE_SZ/F_GETPIPE_SZ for pipes).
   * Return undefined for a command this type does not know (the caller then gives EINVAL).
   */
  fcntl(_cmd: number, _arg: number, _file: FileDescription): number | LinuxError | undefined {
    return undefined;
  }

  /** The ready poll events within `mask`. No poll op: always readable and writable. */
  readiness(mask: number): number {
    return mask & DEFAULT_POLLMASK;
  }

  /** Where readiness changes are announced; null when they never change (no poll op). */
  get waitQueue(): WaitQueue | null {
    return null;
  }

  /**
   * fallocate(2) after the VFS's checks (mode is 0, FALLOC_FL_KEEP_SIZE, or PUNCH_HOLE with
   * KEEP_SIZE; the range is valid). No fallocate op: EOPNOTSUPP.
   */
  fallocate(_mode: number, _offset: number, _len: number, _file: FileDescription): LinuxError | undefined {
    return E.EOPNOTSUPP;
  }

  /** fsync(2)/fdatasync(2). No fsync op: EINVAL. */
  fsync(): LinuxError | undefined {
    return E.EINVAL;
  }

  /**
   * A host file descriptor holding this file's bytes, for file-backed mmap by the platform, or
   * null when the data lives only in this process (then mmap copies or uses a memfd).
   */
  hostFd(): number | null {
    return null;
  }

  /**
   * What mmap(2) of this file answers when it has no {@link hostFd} to map and is not a regular
   * file: the file's own mmap operation's refusal (an AF_PACKET socket without a ring: EINVAL),
   * ENODEV for files that have none (Linux's mmap_region without f_op->mmap).
   */
  mmapRefusal(): LinuxError {
    return E.ENODEV;
  }

  /** The last reference went away (Linux's release). Default: nothing to free. */
  release(_file: FileDescription): void {}
}

/**
 * An open file description (Linux's struct file): what open(2) creates and dup(2) shares.
 *
 * I/O methods take caller-provided buffers and return a count, an error, or {@link WOULD_BLOCK}
 * (only for blocking descriptions; O_NONBLOCK ones get EAGAIN).
 */
export class FileDescription implements Waitable {
  /** The file position (directory offset for directories). */
  offset = 0;
  /**
   * Set when opening must wait for a peer (a FIFO opened without O_NONBLOCK and without the
   * other end): the kernel waits until it reports POLLIN, then clears it and returns the fd.
   */
  openWait: Waitable | null = null;
  /** Status flags and access mode as F_GETFL reports them. */
  private statusFlags: number;
  /**
   * True for an O_PATH description (no I/O at all). O_PATH and the access mode are fixed at open
   * (F_SETFL changes neither), so these three are plain fields rather than getters that would
   * decode the flags again on every read and write.
   */
  readonly isPath: boolean;
  /** Opened for reading (O_RDONLY or O_RDWR, not O_PATH). */
  readonly readable: boolean;
  /** Opened for writing (O_WRONLY or O_RDWR, not O_PATH). */
  readonly writable: boolean;
  private released = false;
  /** The inode counts this description through {@link Inode.hold} (its open() did not see it). */
  private readonly holdsInode: boolean;

  constructor(
    /** The filesystem's part. */
    readonly impl: FileDescriptionImpl,
    /** Where it was opened (also what fchdir and /proc/self/fd use). */
    readonly location: Location,
    flags: number,
    /** The opener's credentials (Linux's f_cred). */
    readonly creds: Creds,
  ) {
    this.statusFlags = flags & ~0o2000000; // O_CLOEXEC belongs to the descriptor, not here
    const acc = flags & O_ACCMODE;
    this.isPath = (flags & O_PATH) !== 0;
    this.readable = !this.isPath && (acc === O_RDONLY || acc === O_RDWR);
    this.writable = !this.isPath && (acc === O_WRONLY || acc === O_RDWR);
    const type = location.inode.mode & S_IFMT;
    this.holdsInode = (flags & O_PATH) !== 0 || (type !== S_IFREG && type !== S_IFDIR);
    if (this.holdsInode) location.inode.hold(1);
    fsnotifyOpen(this);
  }

  /** True once the last reference is gone ({@link FileDescription.release} ran). */
  get isReleased(): boolean {
    return this.released;
  }

  /** Implements F_GETFL: access mode and status flags. */
  getFlags(): number {
    return this.statusFlags;
  }

  /** Implements F_SETFL: only O_APPEND, O_NONBLOCK, O_ASYNC, O_DIRECT, O_NOATIME change. */
  setFlags(flags: number): LinuxError | undefined {
    if (this.isPath) return E.EBADF;
    this.statusFlags = (this.statusFlags & ~SETFL_MASK) | (flags & SETFL_MASK);
    return undefined;
  }

  private blocked(): LinuxError | WouldBlock {
    return (this.statusFlags & O_NONBLOCK) !== 0 ? E.EAGAIN : WOULD_BLOCK;
  }

  // The I/O methods below call the implementation directly rather than through a shared helper
  // taking a closure: they run for every read(2)/write(2), and a closure per call is most of
  // their cost before V8 optimizes them. The checks are in Linux's order (vfs_read/vfs_write,
  // rw_verify_area): EBADF, then EINVAL and ESPIPE for a positional call.

  /** Implements read(2) at the file position. */
  read(dst: Uint8Array): number | LinuxError | WouldBlock {
    if (!this.readable) return E.EBADF;
    const impl = this.impl;
    if (impl.stream) return this.readDone(impl.read(dst, -1, this), false);
    return this.readDone(impl.read(dst, this.offset, this), true);
  }

  /**
   * Implements read(2) into an {@link IOSequence} (readv(2) when it has several ranges): bytes
   * go straight to their destination, and the position moves only over those that arrived.
   */
  readIO(dst: IOSequence): number | LinuxError | WouldBlock {
    if (!this.readable) return E.EBADF;
    const impl = this.impl;
    if (impl.stream) return this.readDone(impl.readIO(dst, -1, this), false);
    return this.readDone(impl.readIO(dst, this.offset, this), true);
  }

  /** Implements pread64(2): read at `offset`, the file position unchanged. */
  pread(dst: Uint8Array, offset: number): number | LinuxError | WouldBlock {
    const bad = this.positional(this.readable, offset);
    if (bad !== undefined) return bad;
    return this.readDone(this.impl.read(dst, offset, this), false);
  }

  /** Implements pread64(2)/preadv(2) into an {@link IOSequence}. */
  preadIO(dst: IOSequence, offset: number): number | LinuxError | WouldBlock {
    const bad = this.positional(this.readable, offset);
    if (bad !== undefined) return bad;
    return this.readDone(this.impl.readIO(dst, offset, this), false);
  }

  /**
   * The checks of a positional read or write before the file is asked: `EBADF` without the
   * access (`allowed`), `EINVAL` for a bad offset, `ESPIPE` on a stream.
   */
  private positional(allowed: boolean, at: number): LinuxError | undefined {
    if (!allowed) return E.EBADF;
    if (at < 0 || !Number.isSafeInteger(at)) return E.EINVAL;
    if (this.impl.stream) return E.ESPIPE;
    return undefined;
  }

  /** After a read: WOULD_BLOCK or EAGAIN, the position moved (`advance`), IN_ACCESS. */
  private readDone(n: number | LinuxError | WouldBlock, advance: boolean): number | LinuxError | WouldBlock {
    if (n === WOULD_BLOCK) return this.blocked();
    if (typeof n === 'number') {
      if (advance) this.offset += n;
      if (n > 0) fsnotifyLocation(this.location, IN_ACCESS);
    }
    return n;
  }

  /** Implements write(2) at the file position (at the end with O_APPEND). */
  write(src: Uint8Array): number | LinuxError | WouldBlock {
    if (!this.writable) return E.EBADF;
    const impl = this.impl;
    if (impl.stream) return this.streamWritten(impl.write(src, -1, this));
    const off = this.writeOffset(null, src.length, undefined);
    return this.written(impl.write(src, off, this), true, off);
  }

  /**
   * Implements write(2)/writev(2) from an {@link IOSequence}: the file copies the bytes in itself
   * (or never does: /dev/null). `append` overrides O_APPEND (pwritev2's RWF_APPEND and
   * RWF_NOAPPEND); undefined keeps the description's flag. `queued`: what this write(2) moved
   * already when it goes on after waiting (passed to a stream's implementation).
   */
  writeIO(src: IOSequence, append?: boolean, queued = 0): number | LinuxError | WouldBlock {
    if (!this.writable) return E.EBADF;
    const impl = this.impl;
    if (impl.stream) return this.streamWritten(impl.writeIO(src, -1, this, queued));
    const off = this.writeOffset(null, src.length, append);
    return this.written(impl.writeIO(src, off, this), true, off);
  }

  /**
   * Implements pwrite64(2): write at `offset`, the file position unchanged. With O_APPEND Linux
   * appends anyway (a documented Linux bug, kept for compatibility).
   */
  pwrite(src: Uint8Array, offset: number): number | LinuxError | WouldBlock {
    const bad = this.positional(this.writable, offset);
    if (bad !== undefined) return bad;
    const off = this.writeOffset(offset, src.length, undefined);
    return this.written(this.impl.write(src, off, this), false, off);
  }

  /** Implements pwrite64(2)/pwritev(2) from an {@link IOSequence}; `append` as in {@link writeIO}. */
  pwriteIO(src: IOSequence, offset: number, append?: boolean): number | LinuxError | WouldBlock {
    const bad = this.positional(this.writable, offset);
    if (bad !== undefined) return bad;
    const off = this.writeOffset(offset, src.length, append);
    return this.written(this.impl.writeIO(src, off, this), false, off);
  }

  /** After a write to a stream (pipe, socket, character device): IN_MODIFY, EAGAIN or WOULD_BLOCK. */
  private streamWritten(n: number | LinuxError | WouldBlock): number | LinuxError | WouldBlock {
    if (typeof n === 'number' && n > 0) fsnotifyLocation(this.location, IN_MODIFY);
    return n === WOULD_BLOCK ? this.blocked() : n;
  }

  /**
   * Where a write of `len` bytes to a file with a position goes: the end with O_APPEND (or
   * `append`), else `at` (positional) or the file position. Drops setuid/setgid first.
   */
  private writeOffset(at: number | null, len: number, append: boolean | undefined): number {
    const inode = this.location.inode;
    if ((inode.mode & 0o6000) !== 0 && len > 0) this.killPriv();
    const appending = append ?? (this.statusFlags & O_APPEND) !== 0;
    return appending ? inode.size() : (at ?? this.offset);
  }

  /** After a write at `off`: the position moved past it (`advance`), IN_MODIFY, EAGAIN or WOULD_BLOCK. */
  private written(
    n: number | LinuxError | WouldBlock,
    advance: boolean,
    off: number,
  ): number | LinuxError | WouldBlock {
    if (n === WOULD_BLOCK) return this.blocked();
    if (typeof n === 'number') {
      if (advance) this.offset = off + n;
      if (n > 0) fsnotifyLocation(this.location, IN_MODIFY);
    }
    return n;
  }

  /**
   * file_remove_privs: a write by someone without CAP_FSETID drops setuid, and setgid when
   * group-executable, from a regular file.
   */
  private killPriv(): void {
    const inode = this.location.inode;
    if (!inode.isRegular || capable(this.creds, CAP_FSETID)) return;
    const m = inode.mode;
    let nm = m & ~S_ISUID;
    if ((m & (S_ISGID | S_IXGRP)) === (S_ISGID | S_IXGRP)) nm &= ~S_ISGID;
    if (nm !== m) inode.setattr({ mode: nm & 0o7777, ctimeNs: nowNs() });
  }

  /** Implements readv(2) over caller buffers: stops at the first short read. */
  readv(dsts: readonly Uint8Array[]): number | LinuxError | WouldBlock {
    let total = 0;
    for (const d of dsts) {
      if (d.length === 0) continue;
      const n = this.read(d);
      if (typeof n !== 'number') return total > 0 ? total : n;
      total += n;
      if (n < d.length) break;
    }
    return total;
  }

  /** Implements writev(2) over caller buffers: stops at the first short write. */
  writev(srcs: readonly Uint8Array[]): number | LinuxError | WouldBlock {
    let total = 0;
    for (const s of srcs) {
      if (s.length === 0) continue;
      const n = this.write(s);
      if (typeof n !== 'number') return total > 0 ? total : n;
      total += n;
      if (n < s.length) break;
    }
    return total;
  }

  /** Implements lseek(2). O_PATH: EBADF; pipes: ESPIPE. */
  lseek(offset: number, whence: number): number | LinuxError {
    if (this.isPath) return E.EBADF;
    if (this.impl.stream) return E.ESPIPE;
    if (!Number.isSafeInteger(offset)) return E.EINVAL;
    const pos = this.impl.seek(this, offset, whence);
    if (isError(pos)) return pos;
    this.offset = pos;
    return pos;
  }

  /**
   * Implements getdents64(2): hands entries to `sink` from the current directory offset until it
   * refuses one; the offset advances past the accepted ones. Returns 0 (entries went to the sink)
   * or an error (ENOTDIR for a non-directory, EBADF for O_PATH).
   */
  getdents(sink: DirentSink): 0 | LinuxError {
    if (this.isPath) return E.EBADF;
    const pos = this.impl.getdents(this.offset, sink, this);
    if (isError(pos)) return pos;
    this.offset = pos;
    fsnotifyLocation(this.location, IN_ACCESS);
    return 0;
  }

  /** Every remaining entry of a directory, from the current offset (a convenience for tests/tools). */
  readdirAll(): Dirent[] | LinuxError {
    const out: Dirent[] = [];
    const r = this.getdents((ino, off, type, name) => {
      out.push({ ino, off, type, name });
      return true;
    });
    return isError(r) ? r : out;
  }

  /** Implements fstat(2) (allowed on O_PATH descriptions). */
  stat(): Stat {
    return fillStat(this.location);
  }

  /** Implements the file-type fcntl(2) commands (F_GETPIPE_SZ/F_SETPIPE_SZ); EINVAL if unknown. */
  fcntl(cmd: number, arg: number): number | LinuxError {
    if (this.isPath) return E.EBADF;
    return this.impl.fcntl(cmd, arg, this) ?? E.EINVAL;
  }

  /** Implements ioctl(2) for file-type commands. O_PATH: EBADF. */
  ioctl(cmd: number, arg: bigint): number | LinuxError {
    if (this.isPath) return E.EBADF;
    return this.impl.ioctl(cmd, arg, this);
  }

  /** Implements fallocate(2) with vfs_fallocate's checks in Linux's order. */
  fallocate(mode: number, offset: number, len: number): LinuxError | undefined {
    if (this.isPath) return E.EBADF;
    if (offset < 0 || len <= 0 || !Number.isSafeInteger(offset) || !Number.isSafeInteger(len))
      return E.EINVAL;
    // Linux 6.x: KEEP_SIZE plus exactly one mode (allocate, punch, collapse, zero, insert,
    // unshare, write-zeroes), with the KEEP_SIZE rules of each.
    if ((mode & ~0xff) !== 0) return E.EOPNOTSUPP;
    switch (mode & 0xfe) {
      case 0:
      case 0x10:
      case 0x40:
        break;
      case 0x02:
        if ((mode & 1) === 0) return E.EOPNOTSUPP;
        break;
      case 0x08:
      case 0x20:
      case 0x80:
        if ((mode & 1) !== 0) return E.EOPNOTSUPP;
        break;
      default:
        return E.EOPNOTSUPP;
    }
    if (!this.writable) return E.EBADF;
    const inode = this.location.inode;
    const type = inode.mode & 0o170000;
    if (type === 0o010000) return E.ESPIPE;
    if (inode.isDir) return E.EISDIR;
    if (!inode.isRegular && type !== 0o060000) return E.ENODEV;
    if (offset + len > MAX_LFS_FILESIZE) return E.EFBIG;
    return this.impl.fallocate(mode, offset, len, this);
  }

  /** Implements fsync(2)/fdatasync(2). O_PATH: EBADF. */
  fsync(): LinuxError | undefined {
    if (this.isPath) return E.EBADF;
    return this.impl.fsync();
  }

  /** Ready poll events within `mask`; an O_PATH description is never ready (POLLNVAL is the kernel's). */
  readiness(mask: number): number {
    if (this.isPath) return 0;
    return this.impl.readiness(mask);
  }

  /** Where readiness changes are announced (null: never changes). */
  get waitQueue(): WaitQueue | null {
    return this.impl.waitQueue;
  }

  /** A host fd with this file's bytes for file-backed mmap, or null. */
  hostFd(): number | null {
    return this.impl.hostFd();
  }

  /** See {@link FileDescriptionImpl.mmapRefusal}. */
  mmapRefusal(): LinuxError {
    return this.impl.mmapRefusal();
  }

  /**
   * Drop the description: call once, when the last fd and mapping referring to it are gone.
   * Later calls do nothing. Pipes see their end close here (EOF / EPIPE for the peer).
   */
  release(): void {
    if (this.released) return;
    this.released = true;
    fsnotifyClose(this);
    releaseDescriptionLocks(this);
    this.impl.release(this);
    if (this.holdsInode) this.location.inode.hold(-1);
  }
}

/** The impl of an O_PATH description: every I/O operation answers EBADF (the VFS checks first). */
export class PathFileImpl extends FileDescriptionImpl {}
