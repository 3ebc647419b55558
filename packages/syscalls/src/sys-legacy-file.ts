/**
 * The older forms of file calls that programs built against old ABIs (or calling them directly)
 * still use: utime, utimes and futimesat (microsecond timestamps, served by the VFS's
 * utimensat) and getdents (struct linux_dirent, with d_type in the record's last byte).
 *
 * @module
 */
import { E, isError, type LinuxError } from '@tsvisor/abi';
import type { Task } from '@tsvisor/kernel';
import type { Timespec } from '@tsvisor/vfs';
import { FULL, int, ptr, uint, type SyscallArgs, type SyscallFamily, type SyscallResult } from './types.js';
import { ctxOf, dirOf, fileAt, pathArg, pathBytes, vfsOf } from './vfs-context.js';

const AT_FDCWD = -100;

/** Two `struct timeval`s (utimes, futimesat): `EINVAL` for a microsecond field outside 0..999999. */
function readTimevals(t: Task, addr: number): [Timespec, Timespec] | LinuxError {
  const raw = t.memory.read(addr, 32);
  if (isError(raw)) return raw;
  if (raw.length < 32) return E.EFAULT;
  const v = new DataView(raw.buffer, raw.byteOffset, 32);
  const out: Timespec[] = [];
  for (const at of [0, 16]) {
    const usec = v.getBigInt64(at + 8, true);
    if (usec < 0n || usec >= 1_000_000n) return E.EINVAL;
    out.push({ sec: Number(v.getBigInt64(at, true)), nsec: Number(usec) * 1000 });
  }
  return [out[0] as Timespec, out[1] as Timespec];
}

/**
 * do_futimesat: a NULL path with a real dirfd changes that fd's file (as futimens); otherwise the
 * path is resolved from dirfd, following symlinks.
 */
function futimesatAt(
  t: Task,
  dirfd: number,
  pathAddr: bigint,
  times: [Timespec, Timespec] | null,
): SyscallResult {
  if (pathAddr === 0n && dirfd !== AT_FDCWD) {
    const file = fileAt(t, dirfd);
    if (isError(file)) return file;
    return vfsOf(t).futimens(ctxOf(t), file, times) ?? 0;
  }
  const path = pathArg(t, ptr(pathAddr));
  if (isError(path)) return path;
  return vfsOf(t).utimensat(ctxOf(t), dirOf(t, dirfd), path, times, 0) ?? 0;
}

/** implements futimesat(2): utimes relative to a directory fd. */
function futimesat(t: Task, a: SyscallArgs): SyscallResult {
  let times: [Timespec, Timespec] | null = null;
  if (a[2] !== 0n) {
    const tv = readTimevals(t, ptr(a[2]));
    if (isError(tv)) return tv;
    times = tv;
  }
  return futimesatAt(t, int(a[0]), a[1], times);
}

/** implements utimes(2): access and modification times in microseconds; NULL means now. */
function utimes(t: Task, a: SyscallArgs): SyscallResult {
  let times: [Timespec, Timespec] | null = null;
  if (a[1] !== 0n) {
    const tv = readTimevals(t, ptr(a[1]));
    if (isError(tv)) return tv;
    times = tv;
  }
  return futimesatAt(t, AT_FDCWD, a[0], times);
}

/** implements utime(2): `struct utimbuf` (whole seconds); NULL means now. */
function utime(t: Task, a: SyscallArgs): SyscallResult {
  let times: [Timespec, Timespec] | null = null;
  if (a[1] !== 0n) {
    const raw = t.memory.read(ptr(a[1]), 16);
    if (isError(raw)) return raw;
    if (raw.length < 16) return E.EFAULT;
    const v = new DataView(raw.buffer, raw.byteOffset, 16);
    times = [
      { sec: Number(v.getBigInt64(0, true)), nsec: 0 },
      { sec: Number(v.getBigInt64(8, true)), nsec: 0 },
    ];
  }
  return futimesatAt(t, AT_FDCWD, a[0], times);
}

/** Length of a `struct linux_dirent` record: header, name, NUL and d_type, 8-byte aligned. */
function direntRecLen(nameLen: number): number {
  return (18 + nameLen + 2 + 7) & ~7;
}

/**
 * implements getdents(2): `struct linux_dirent` records (d_ino, d_off, d_reclen, d_name, NUL,
 * padding, d_type in the last byte). `EINVAL` when the buffer cannot hold the next entry,
 * `EFAULT` when no entry could be copied; the directory position moves past copied entries only.
 */
function getdents(t: Task, a: SyscallArgs): SyscallResult {
  const file = fileAt(t, int(a[0]));
  if (isError(file)) return file;
  const start = file.offset;
  const len = Math.min(uint(a[2]), 1 << 20);
  const buf = new Uint8Array(len);
  const v = new DataView(buf.buffer);
  let pos = 0;
  let more = false;
  const ends: number[] = [];
  const nexts: number[] = [];
  const r = file.getdents((ino, next, type, name) => {
    const bytes = pathBytes(name);
    const reclen = direntRecLen(bytes.length);
    if (pos + reclen > len) {
      more = true;
      return false;
    }
    v.setBigUint64(pos, BigInt(ino), true);
    v.setBigInt64(pos + 8, BigInt(next), true);
    v.setUint16(pos + 16, reclen, true);
    buf.set(bytes, pos + 18);
    buf[pos + reclen - 1] = type;
    pos += reclen;
    ends.push(pos);
    nexts.push(next);
    return true;
  });
  if (isError(r)) return r;
  if (pos === 0) return more ? E.EINVAL : 0;
  const copied = t.memory.write(ptr(a[1]), buf.subarray(0, pos));
  const got = isError(copied) ? 0 : copied;
  if (got === pos) return pos;
  let k = ends.length;
  while (k > 0 && (ends[k - 1] ?? 0) > got) k--;
  if (k === 0) {
    file.offset = start;
    return E.EFAULT;
  }
  file.offset = nexts[k - 1] ?? start;
  return ends[k - 1] ?? 0;
}

/** Old-ABI file syscalls. */
export const legacyFileSyscalls: SyscallFamily = {
  utime: { handler: utime, support: FULL },
  utimes: { handler: utimes, support: FULL },
  futimesat: { handler: futimesat, support: FULL },
  getdents: { handler: getdents, support: FULL },
};
