/**
 * Operations on a byte range of an open file that leave its bytes to the filesystem:
 * fallocate, sync_file_range and readahead. The VFS does fallocate's checks (vfs_fallocate) and
 * the filesystem its work; the other two only validate, since tsvisor's files have no page cache
 * to write back or fill.
 *
 * @module
 */
import { E, Mode, isError } from '@tsvisor/abi';
import type { Task } from '@tsvisor/kernel';
import {
  FULL,
  int,
  long,
  partial,
  uint,
  type SyscallArgs,
  type SyscallFamily,
  type SyscallResult,
} from './types.js';
import { fileAt } from './vfs-context.js';

const { S_IFMT, S_IFREG, S_IFDIR, S_IFBLK, S_IFLNK } = Mode;

/** loff_t arguments beyond what a number holds exactly are past any file size (EFBIG/EINVAL). */
function loff(a: bigint): number {
  const v = long(a);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) return Number.MAX_SAFE_INTEGER;
  if (v < -BigInt(Number.MAX_SAFE_INTEGER)) return -Number.MAX_SAFE_INTEGER;
  return Number(v);
}

/**
 * implements fallocate(2): `EBADF`, then the VFS's checks in Linux's order (`EINVAL` for a
 * negative offset or non-positive length, `EOPNOTSUPP` for a mode combination, `EBADF` when not
 * open for writing, `ESPIPE`, `EISDIR`, `ENODEV`, `EFBIG`), then the filesystem's work
 * (`EOPNOTSUPP` where it has no fallocate).
 */
function fallocate(t: Task, a: SyscallArgs): SyscallResult {
  const file = fileAt(t, int(a[0]));
  if (isError(file)) return file;
  const offset = loff(a[2]);
  const len = loff(a[3]);
  return file.fallocate(int(a[1]), offset, len) ?? 0;
}

const SYNC_FILE_RANGE_ALL = 7;

/**
 * implements sync_file_range(2): `EINVAL` for unknown flags or a negative offset/length or an
 * overflowing range, `EBADF`, `ESPIPE` for pipes and sockets; there is no dirty page cache to
 * write back.
 */
function syncFileRange(t: Task, a: SyscallArgs): SyscallResult {
  const file = fileAt(t, int(a[0]));
  if (isError(file)) return file;
  if (file.isPath) return E.EBADF;
  const offset = long(a[1]);
  const nbytes = long(a[2]);
  const flags = uint(a[3]);
  if ((flags & ~SYNC_FILE_RANGE_ALL) !== 0) return E.EINVAL;
  if (offset < 0n || nbytes < 0n) return E.EINVAL;
  if (offset + nbytes > (1n << 63n) - 1n) return E.EINVAL;
  const type = file.stat().mode & S_IFMT;
  if (type !== S_IFREG && type !== S_IFDIR && type !== S_IFLNK && type !== S_IFBLK) return E.ESPIPE;
  return 0;
}

/**
 * implements readahead(2): `EBADF` unless open for reading, `EINVAL` for files that are not
 * regular (no address space to fill: pipes, sockets, directories) or a negative offset.
 */
function readahead(t: Task, a: SyscallArgs): SyscallResult {
  const file = fileAt(t, int(a[0]));
  if (isError(file)) return file;
  if (!file.readable) return E.EBADF;
  const type = file.stat().mode & S_IFMT;
  if (type !== S_IFREG && type !== S_IFBLK) return E.EINVAL;
  if (long(a[1]) < 0n) return E.EINVAL;
  return 0;
}

/** Byte-range syscalls. */
export const fileRangeSyscalls: SyscallFamily = {
  fallocate: {
    handler: fallocate,
    support: partial(
      'tmpfs: allocate, KEEP_SIZE, PUNCH_HOLE; other filesystems answer EOPNOTSUPP (glibc posix_fallocate then writes zeros)',
    ),
  },
  sync_file_range: { handler: syncFileRange, support: FULL },
  readahead: { handler: readahead, support: FULL },
};
