/**
 * The bridge from a task to the VFS: its credentials and fs context as the VFS wants them, its
 * fd table of open file descriptions, path arguments as VFS byte strings, and blocking on a
 * description's readiness with signal interruption.
 *
 * @module
 */
import { Rlimit, isError, type LinuxError, At } from '@tsvisor/abi';
import {
  Waiter,
  accessCapsLow,
  effectiveLow,
  softLimit,
  type FdTable,
  type FileRefs,
  type Task,
} from '@tsvisor/kernel';
import {
  type Creds,
  type FileDescription,
  type FsContext,
  releasePosixLocks,
  type Location,
  type Vfs,
  type Waitable,
} from '@tsvisor/vfs';

/** Linux's `PATH_MAX`, including the NUL. */
export const PATH_MAX = 4096;

/** The VFS of the task's sandbox. A sandbox without one is a configuration bug. */
export function vfsOf(t: Task): Vfs {
  const v = t.kernel.vfs;
  if (!v) throw new Error('file syscall in a sandbox without a VFS');
  return v;
}

/** The task's fd table, which holds VFS file descriptions. */
export function filesOf(t: Task): FdTable<FileDescription> {
  return t.files as FdTable<FileDescription>;
}

/** The descriptor limit (RLIMIT_NOFILE soft limit). */
export function nofile(t: Task): number {
  return softLimit(t.group.rlimits, Rlimit.RLIMIT_NOFILE);
}

/** The file description at `fd`, or EBADF. */
export function fileAt(t: Task, fd: number): FileDescription | LinuxError {
  // filesOf without the call: every fd syscall comes here.
  return (t.files as FdTable<FileDescription>).file(fd);
}

/** The task's credentials for file access (fsuid/fsgid and the effective capabilities). */
export function vfsCreds(t: Task): Creds {
  const c = t.creds;
  return { fsuid: c.fsuid, fsgid: c.fsgid, groups: c.groups, caps: effectiveLow(c) };
}

/** The credentials access(2) checks with: the real ids (and the capabilities they imply). */
export function realCreds(t: Task): Creds {
  const c = t.creds;
  return { fsuid: c.uid, fsgid: c.gid, groups: c.groups, caps: accessCapsLow(c) };
}

/** The VFS context of one path operation. */
export function ctxOf(t: Task): FsContext {
  const { root, cwd } = t.fs;
  if (!root || !cwd) throw new Error('task has no root/cwd: the runtime must set task.fs');
  return { creds: vfsCreds(t), umask: t.fs.umask, root: root as Location, cwd: cwd as Location };
}

/** The starting directory of an *at() call: AT_FDCWD is the cwd, else the fd's location. */
export function dirOf(t: Task, dirfd: number): Location | LinuxError {
  if (dirfd === At.AT_FDCWD) return t.fs.cwd as Location;
  const f = fileAt(t, dirfd);
  return isError(f) ? f : f.location;
}

/** Reads a path argument as a VFS byte string: `EFAULT`, `ENAMETOOLONG`. */
export function pathArg(t: Task, addr: number): string | LinuxError {
  const b = t.memory.readCStringBytes(addr, PATH_MAX);
  if (isError(b)) return b;
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
}

/** A VFS byte string as bytes. */
export function pathBytes(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, 'latin1'));
}

/**
 * Waits until `w` reports one of `mask`'s events (or an error/hangup), or a signal interrupts.
 */
export async function waitReady(t: Task, w: Waitable, mask: number): Promise<'ready' | 'interrupted'> {
  const q = w.waitQueue;
  if (!q) return 'ready';
  const kw = new Waiter(undefined);
  const sub = { mask: mask | 0x18, notify: (): void => void kw.wake('notified') };
  q.add(sub);
  try {
    // POLLERR|POLLHUP (0x18) always count: a broken pipe must not sleep forever.
    if (w.readiness(mask | 0x18) !== 0) return 'ready';
    return (await t.block(kw)) === 'interrupted' ? 'interrupted' : 'ready';
  } finally {
    q.remove(sub);
  }
}

/**
 * Reference counting for file descriptions held in fd tables: a description is released when
 * its last descriptor in any table closes. Pass it as the kernel's `fileRefs`.
 */
export function fileDescriptionRefs(): FileRefs<FileDescription> {
  const counts = new Map<FileDescription, number>();
  return {
    retain(f) {
      counts.set(f, (counts.get(f) ?? 0) + 1);
    },
    closed(f, table) {
      // fcntl(2) record locks belong to the descriptor table (see sys-file.ts); closing an
      // O_PATH descriptor leaves them alone, as filp_flush does.
      if (!f.isPath) releasePosixLocks(f.location.inode, table);
    },
    release(f) {
      const n = (counts.get(f) ?? 0) - 1;
      if (n > 0) counts.set(f, n);
      else {
        counts.delete(f);
        f.release();
      }
    },
  };
}
