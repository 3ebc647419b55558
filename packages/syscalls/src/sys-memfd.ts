/**
 * memfd_create(2): an anonymous memory file, on the sandbox VFS's internal tmpfs
 * ({@link memfdFsOf}). Its seals are fcntl(2) commands that the file itself answers
 * (F_ADD_SEALS / F_GET_SEALS reach it through `FileDescription.fcntl`).
 *
 * @module
 */
import { E, isError } from '@tsvisor/abi';
import type { Task } from '@tsvisor/kernel';
import { MFD_CLOEXEC, MFD_NAME_MAX_LEN, memfdFsOf } from '@tsvisor/vfs';
import { filesOf, nofile, vfsCreds, vfsOf } from './vfs-context.js';
import { int, partial, ptr, type SyscallArgs, type SyscallFamily, type SyscallResult } from './types.js';

/**
 * implements memfd_create(2) in Linux's order: `EINVAL` for bad flags, then the name (`EFAULT`;
 * `EINVAL` when longer than 249 bytes), then `EMFILE`.
 */
function memfdCreate(t: Task, a: SyscallArgs): SyscallResult {
  const flags = int(a[1]);
  const fs = memfdFsOf(vfsOf(t));
  // Flags first: a bad name with bad flags is EINVAL (create checks the flags again, cheaply).
  const probe = fs.checkFlags(flags);
  if (probe) return probe;
  const raw = t.memory.readCStringBytes(ptr(a[0]), MFD_NAME_MAX_LEN + 1);
  if (raw === E.ENAMETOOLONG) return E.EINVAL;
  if (isError(raw)) return raw;
  const name = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('latin1');
  const file = fs.create(name, flags, vfsCreds(t));
  if (isError(file)) return file;
  const fd = filesOf(t).install(file, { limit: nofile(t), cloexec: (flags & MFD_CLOEXEC) !== 0 });
  if (isError(fd)) file.release();
  return fd;
}

/** memfd syscalls. */
export const memfdSyscalls: SyscallFamily = {
  memfd_create: {
    handler: memfdCreate,
    support: partial(
      'MFD_HUGETLB gives an ordinary memfd; a writable shared mmap of a memfd sealed against writes gets EPERM from the host, but the memory model keeps a VMA for it (shown in /proc/self/maps) until munmap',
    ),
  },
};
