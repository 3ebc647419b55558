/**
 * File seals (Linux's mm/memfd.c): what F_ADD_SEALS forbids on a tmpfs regular file, and the
 * fcntl commands. Seals live on the {@link TmpfsFile} (null for a file that is not a memfd:
 * F_ADD_SEALS and F_GET_SEALS then give EINVAL). When the file's bytes are in host memory (it
 * was mapped), seals are added to the host memfd too: the host knows the sandbox's shared
 * mappings, so it answers EBUSY for F_SEAL_WRITE while a writable one exists, as Linux does.
 *
 * @module
 */

import { E } from '@tsvisor/abi';
import type { LinuxError } from '@tsvisor/abi';
import type { FileDescription } from '../file.js';
import type { TmpfsFile } from './tmpfs.js';

/** F_SEAL_SEAL: no more seals. */
export const F_SEAL_SEAL = 0x01;
/** F_SEAL_SHRINK: the size cannot go down. */
export const F_SEAL_SHRINK = 0x02;
/** F_SEAL_GROW: the size cannot go up. */
export const F_SEAL_GROW = 0x04;
/** F_SEAL_WRITE: no writes, no writable shared mappings. */
export const F_SEAL_WRITE = 0x08;
/** F_SEAL_FUTURE_WRITE: no writes, no new writable shared mappings (existing ones stay). */
export const F_SEAL_FUTURE_WRITE = 0x10;
/** F_SEAL_EXEC: the exec bits of the mode cannot change. */
export const F_SEAL_EXEC = 0x20;
const F_ALL_SEALS = 0x3f;
/** fcntl(2) commands. */
export const F_ADD_SEALS = 1033;
export const F_GET_SEALS = 1034;

/** A write of `len` bytes at `offset` is refused by the seals (shmem_write_begin): EPERM. */
export function writeSealed(file: TmpfsFile, offset: number, len: number): LinuxError | undefined {
  const seals = file.seals;
  if (seals === null || seals === 0) return undefined;
  if ((seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)) !== 0) return E.EPERM;
  if ((seals & F_SEAL_GROW) !== 0 && offset + len > file.data.size) return E.EPERM;
  return undefined;
}

/** A mode change to `mode` is refused by F_SEAL_EXEC when it flips an exec bit (shmem_setattr). */
export function modeSealed(file: TmpfsFile, mode: number): LinuxError | undefined {
  const seals = file.seals;
  if (seals === null || (seals & F_SEAL_EXEC) === 0) return undefined;
  return ((file.mode ^ mode) & 0o111) !== 0 ? E.EPERM : undefined;
}

/** A size change to `size` is refused by the seals (shmem_setattr): EPERM. */
export function resizeSealed(file: TmpfsFile, size: number): LinuxError | undefined {
  const seals = file.seals;
  if (seals === null || seals === 0) return undefined;
  const cur = file.data.size;
  if (size < cur && (seals & F_SEAL_SHRINK) !== 0) return E.EPERM;
  if (size > cur && (seals & F_SEAL_GROW) !== 0) return E.EPERM;
  return undefined;
}

/**
 * fallocate on a sealed file (shmem_fallocate): punching needs no write seal, allocating past
 * the end (even with KEEP_SIZE) no grow seal.
 */
export function fallocateSealed(
  file: TmpfsFile,
  mode: number,
  offset: number,
  len: number,
): LinuxError | undefined {
  const seals = file.seals;
  if (seals === null || seals === 0) return undefined;
  if ((mode & 2) !== 0) return (seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)) !== 0 ? E.EPERM : undefined;
  return (seals & F_SEAL_GROW) !== 0 && offset + len > file.data.size ? E.EPERM : undefined;
}

/**
 * F_GET_SEALS / F_ADD_SEALS on a tmpfs regular file (memfd_fcntl); undefined for other
 * commands. Adding needs a writable description (EPERM), known bits (EINVAL) and no F_SEAL_SEAL
 * yet (EPERM); F_SEAL_EXEC on an executable file brings the write and size seals with it.
 */
export function sealFcntl(
  inode: TmpfsFile,
  cmd: number,
  arg: number,
  file: FileDescription,
): number | LinuxError | undefined {
  if (cmd !== F_ADD_SEALS && cmd !== F_GET_SEALS) return undefined;
  const seals = inode.seals;
  if (seals === null) return E.EINVAL;
  if (cmd === F_GET_SEALS) return seals;
  if (!file.writable) return E.EPERM;
  if ((arg & ~F_ALL_SEALS) !== 0) return E.EINVAL;
  if ((seals & F_SEAL_SEAL) !== 0) return E.EPERM;
  let add = arg;
  if ((add & F_SEAL_EXEC) !== 0 && (inode.mode & 0o111) !== 0)
    add |= F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_FUTURE_WRITE;
  const fd = inode.data.hostFd;
  const provider = inode.fs.hostMemory;
  if (fd !== null && provider !== null && (add & ~seals) !== 0) {
    const err = provider.addSeals(fd, add & ~seals);
    if (err) return err;
  }
  inode.seals = seals | add;
  return 0;
}
