/**
 * The file descriptor table: small integers naming open file descriptions, with the
 * close-on-exec bit per descriptor. Threads created with CLONE_FILES share one table; fork copies
 * it ({@link FdTable.fork}), so both tables then refer to the same open file descriptions.
 *
 * The table does not know what a file is. It counts references through a {@link FileRefs}
 * policy given at creation, so the VFS can free a file description when its last descriptor in
 * any table is closed.
 *
 * @module
 */
import { E, OpenFlag, type LinuxError } from '@tsvisor/abi';

/** Reference-count hooks for the objects a table holds. */
export interface FileRefs<F> {
  /** A new descriptor refers to `file` (install, dup, fork). */
  retain(file: F): void;
  /** A descriptor referring to `file` went away (close, dup2 over it, close-on-exec, exit). */
  release(file: F): void;
  /**
   * Called before {@link release} when a descriptor of `table` referring to `file` is closed (not
   * when a table is merely dropped without closing). The VFS drops the POSIX record locks that
   * `table` owns on the file here, as Linux's filp_close does (locks_remove_posix): closing any
   * descriptor of a file releases all of its owner's locks on it.
   */
  closed?(file: F, table: FdTable<F>): void;
}

/** One descriptor's entry. */
export interface FdEntry<F> {
  readonly file: F;
  readonly cloexec: boolean;
}

/** `O_CLOEXEC` as dup3(2) and F_DUPFD_CLOEXEC understand it. */
export const O_CLOEXEC: number = OpenFlag.O_CLOEXEC;

/** `CLOSE_RANGE_UNSHARE` and `CLOSE_RANGE_CLOEXEC`. */
export const CLOSE_RANGE_UNSHARE = 2;
export const CLOSE_RANGE_CLOEXEC = 4;

/**
 * A descriptor table. Limits come from the caller (the thread group's RLIMIT_NOFILE soft
 * limit), because threads in different groups may share one table.
 *
 * @example
 * ```ts
 * const t = new FdTable<string>();
 * t.install('stdin', { limit: 1024 }); // 0
 * t.dup2(0, 5, 1024); // 5
 * t.get(5); // 'stdin'
 * ```
 */
export class FdTable<F> {
  private readonly entries = new Map<number, FdEntry<F>>();
  /**
   * One bit per open descriptor, 32 to a word, so the lowest free one is found a word at a time
   * (a program may hold tens of thousands: a descriptor per step would make opening them all
   * quadratic).
   */
  private used = new Uint32Array(2);
  /** Every descriptor below this one is open (Linux's next_fd): where a search may begin. */
  private nextFd = 0;

  constructor(private readonly refs: FileRefs<F> = { retain: () => {}, release: () => {} }) {}

  /** The file at `fd`, or `undefined`. */
  get(fd: number): F | undefined {
    return this.entries.get(fd)?.file;
  }

  /** The file at `fd`, or `EBADF`: the usual first step of an fd-taking handler. */
  file(fd: number): F | LinuxError {
    const e = this.entries.get(fd);
    return e ? e.file : E.EBADF;
  }

  /** The entry at `fd` (file and close-on-exec bit). */
  entry(fd: number): FdEntry<F> | undefined {
    return this.entries.get(fd);
  }

  /** Open descriptors in ascending order. */
  fds(): number[] {
    return [...this.entries.keys()].sort((a, b) => a - b);
  }

  /** Number of open descriptors. */
  get size(): number {
    return this.entries.size;
  }

  /**
   * Installs `file` at the lowest free descriptor `>= min` (default 0). `EMFILE` when none is
   * below `limit`. Takes a reference.
   */
  install(file: F, opts: { limit: number; cloexec?: boolean; min?: number }): number | LinuxError {
    const min = opts.min ?? 0;
    const fd = this.lowestFree(min);
    if (fd >= opts.limit) return E.EMFILE;
    this.refs.retain(file);
    this.entries.set(fd, { file, cloexec: opts.cloexec ?? false });
    this.mark(fd);
    if (min <= this.nextFd) this.nextFd = fd + 1;
    return fd;
  }

  /** close(2): `EBADF` if not open; otherwise removes it and drops the reference. */
  close(fd: number): F | LinuxError {
    const e = this.entries.get(fd);
    if (!e) return E.EBADF;
    this.entries.delete(fd);
    this.unmark(fd);
    this.refs.closed?.(e.file, this);
    this.refs.release(e.file);
    return e.file;
  }

  /** fcntl(F_DUPFD / F_DUPFD_CLOEXEC): lowest free `>= min`; `EINVAL` when `min` is out of range. */
  dupMin(fd: number, min: number, cloexec: boolean, limit: number): number | LinuxError {
    const e = this.entries.get(fd);
    if (!e) return E.EBADF;
    if (min < 0 || min >= limit) return E.EINVAL;
    return this.install(e.file, { limit, cloexec, min });
  }

  /** dup(2). */
  dup(fd: number, limit: number): number | LinuxError {
    const e = this.entries.get(fd);
    if (!e) return E.EBADF;
    return this.install(e.file, { limit });
  }

  /**
   * dup2(2): `EBADF` for a bad `oldfd` or a `newfd` outside `[0, limit)`; `oldfd === newfd`
   * returns it unchanged; otherwise closes whatever `newfd` held and clears its close-on-exec.
   */
  dup2(oldfd: number, newfd: number, limit: number): number | LinuxError {
    const e = this.entries.get(oldfd);
    if (!e) return E.EBADF;
    if (oldfd === newfd) return newfd;
    return this.replace(e.file, newfd, false, limit);
  }

  /** dup3(2): like dup2 but `EINVAL` for equal fds or flags other than O_CLOEXEC. */
  dup3(oldfd: number, newfd: number, flags: number, limit: number): number | LinuxError {
    if ((flags & ~O_CLOEXEC) !== 0) return E.EINVAL;
    if (oldfd === newfd) return E.EINVAL;
    const e = this.entries.get(oldfd);
    if (!e) return E.EBADF;
    return this.replace(e.file, newfd, (flags & O_CLOEXEC) !== 0, limit);
  }

  /** Installs `file` exactly at `fd`, closing what was there (`EBADF` outside `[0, limit)`). */
  replace(file: F, fd: number, cloexec: boolean, limit: number): number | LinuxError {
    if (!Number.isInteger(fd) || fd < 0 || fd >= limit) return E.EBADF;
    this.refs.retain(file);
    const old = this.entries.get(fd);
    this.entries.set(fd, { file, cloexec });
    if (!old) this.mark(fd);
    if (old) {
      this.refs.closed?.(old.file, this);
      this.refs.release(old.file);
    }
    return fd;
  }

  /** fcntl(F_SETFD): sets the close-on-exec bit. */
  setCloexec(fd: number, cloexec: boolean): undefined | LinuxError {
    const e = this.entries.get(fd);
    if (!e) return E.EBADF;
    this.entries.set(fd, { file: e.file, cloexec });
    return undefined;
  }

  /** Closes every close-on-exec descriptor (execve). */
  closeOnExec(): void {
    for (const [fd, e] of [...this.entries]) if (e.cloexec) this.close(fd);
  }

  /**
   * close_range(2) over `[first, last]`: closes them, or with CLOSE_RANGE_CLOEXEC marks them
   * close-on-exec. (CLOSE_RANGE_UNSHARE is the caller's business: it forks the table first.)
   */
  closeRange(first: number, last: number, flags: number): undefined | LinuxError {
    if ((flags & ~(CLOSE_RANGE_UNSHARE | CLOSE_RANGE_CLOEXEC)) !== 0 || first > last) return E.EINVAL;
    for (const fd of this.fds()) {
      if (fd < first || fd > last) continue;
      if (flags & CLOSE_RANGE_CLOEXEC) this.setCloexec(fd, true);
      else this.close(fd);
    }
    return undefined;
  }

  /** A copy for fork or unshare(CLONE_FILES): same files, same bits, new references. */
  fork(): FdTable<F> {
    const t = new FdTable<F>(this.refs);
    for (const [fd, e] of this.entries) {
      this.refs.retain(e.file);
      t.entries.set(fd, e);
    }
    t.used = this.used.slice();
    t.nextFd = this.nextFd;
    return t;
  }

  /** Closes everything (the last task using the table exited). */
  closeAll(): void {
    for (const fd of [...this.entries.keys()]) this.close(fd);
  }

  /** The lowest descriptor `>= min` that is not open (it may be past any limit). */
  lowestFree(min = 0): number {
    const start = Math.max(min, this.nextFd);
    const used = this.used;
    let w = start >>> 5;
    if (w >= used.length) return start;
    // Open bits below `start` in its word count as taken.
    let free = ~(used[w]! | ((1 << (start & 31)) - 1));
    while (free === 0) {
      if (++w === used.length) return w << 5;
      free = ~used[w]!;
    }
    return (w << 5) + 31 - Math.clz32(free & -free);
  }

  /** The highest open descriptor, or -1 when none is open. */
  highest(): number {
    const used = this.used;
    for (let w = used.length - 1; w >= 0; w--) if (used[w] !== 0) return (w << 5) + 31 - Math.clz32(used[w]!);
    return -1;
  }

  private mark(fd: number): void {
    const w = fd >>> 5;
    if (w >= this.used.length) {
      let n = this.used.length * 2;
      while (n <= w) n *= 2;
      const grown = new Uint32Array(n);
      grown.set(this.used);
      this.used = grown;
    }
    this.used[w]! |= 1 << (fd & 31);
  }

  private unmark(fd: number): void {
    const w = fd >>> 5;
    if (w < this.used.length) this.used[w]! &= ~(1 << (fd & 31));
    if (fd < this.nextFd) this.nextFd = fd;
  }
}
