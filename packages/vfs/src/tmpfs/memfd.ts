/**
 * memfd_create(2) (Linux's mm/memfd.c over shmem): a memfd is an unlinked tmpfs regular file on
 * an internal tmpfs, named `memfd:NAME` in /proc/<pid>/fd and maps, whose size and contents can
 * be sealed with fcntl(F_ADD_SEALS) (see seals.ts).
 *
 * @module
 */

import { E, isError } from '@tsvisor/abi';
import type { LinuxError } from '@tsvisor/abi';
import { S_IFREG } from '../constants.js';
import { FileDescription } from '../file.js';
import { Mount } from '../mount.js';
import type { Creds, Location } from '../types.js';
import type { Vfs } from '../vfs.js';
import { Tmpfs } from './tmpfs.js';
import type { TmpfsFile } from './tmpfs.js';
import { F_SEAL_EXEC, F_SEAL_SEAL } from './seals.js';

/** memfd_create(2) flags. */
export const MFD_CLOEXEC = 0x01;
export const MFD_ALLOW_SEALING = 0x02;
export const MFD_HUGETLB = 0x04;
export const MFD_NOEXEC_SEAL = 0x08;
export const MFD_EXEC = 0x10;
const MFD_ALL_FLAGS = 0x1f;
/** MFD_HUGE_MASK << MFD_HUGE_SHIFT: a huge page size may be encoded with MFD_HUGETLB. */
const MFD_HUGE_BITS = 0x3f << 26;
/** The longest name: NAME_MAX minus "memfd:". */
export const MFD_NAME_MAX_LEN = 249;

/**
 * The internal tmpfs memfds live on (Linux's shm_mnt): never mounted anywhere, so its files are
 * reachable only through their descriptions.
 */
export class MemfdFs extends Tmpfs {
  /** The mount the memfd descriptions stand on. */
  readonly mount: Mount;

  constructor() {
    super({ mode: 0o1777 });
    this.mount = new Mount(this, this.root, null, null, 0);
  }

  /** memfd_create's flag checks alone (they come before the name is read): EINVAL or undefined. */
  checkFlags(flags: number): LinuxError | undefined {
    const allowed = (flags & MFD_HUGETLB) !== 0 ? MFD_ALL_FLAGS | MFD_HUGE_BITS : MFD_ALL_FLAGS;
    if ((flags & ~allowed) !== 0) return E.EINVAL;
    if ((flags & MFD_EXEC) !== 0 && (flags & MFD_NOEXEC_SEAL) !== 0) return E.EINVAL;
    return undefined;
  }

  /**
   * Implements memfd_create(2) after the name was read: `EINVAL` for unknown flags (a huge page
   * size only with MFD_HUGETLB, which gives an ordinary memfd here), MFD_EXEC with
   * MFD_NOEXEC_SEAL, or a name longer than {@link MFD_NAME_MAX_LEN}. Mode 0777 (0666 with
   * MFD_NOEXEC_SEAL); seals F_SEAL_SEAL unless MFD_ALLOW_SEALING (MFD_NOEXEC_SEAL: F_SEAL_EXEC and
   * sealing allowed). MFD_CLOEXEC is the caller's (it belongs to the descriptor).
   */
  create(name: string, flags: number, creds: Creds): FileDescription | LinuxError {
    const bad = this.checkFlags(flags);
    if (bad) return bad;
    if (name.length > MFD_NAME_MAX_LEN) return E.EINVAL; // a VFS byte string: one char a byte
    const noexec = (flags & MFD_NOEXEC_SEAL) !== 0;
    const inode = this.root.tmpfile({
      mode: S_IFREG | (noexec ? 0o666 : 0o777),
      uid: creds.fsuid,
      gid: creds.fsgid,
      rdev: 0,
    });
    if (isError(inode)) return inode;
    const file = inode as TmpfsFile;
    file.seals = noexec ? F_SEAL_EXEC : (flags & MFD_ALLOW_SEALING) !== 0 ? 0 : F_SEAL_SEAL;
    const impl = file.open(2);
    if (isError(impl)) return impl;
    const loc: Location = { mount: this.mount, inode: file, parent: this.root, name: `memfd:${name}` };
    return new FileDescription(impl, loc, 2 | 0o100000, creds);
  }
}

const memfdFilesystems = new WeakMap<Vfs, MemfdFs>();

/**
 * The memfd filesystem of a mount namespace's VFS, made on first use. Give it host memory
 * (`memfdFsOf(vfs).hostMemory = provider`) so memfds can be mapped shared.
 */
export function memfdFsOf(vfs: Vfs): MemfdFs {
  let fs = memfdFilesystems.get(vfs);
  if (fs === undefined) {
    fs = new MemfdFs();
    memfdFilesystems.set(vfs, fs);
  }
  return fs;
}

/**
 * What d_path shows for a memfd (`/memfd:NAME (deleted)`: Linux names shmem pseudo files by
 * their dentry alone), or null for any other location.
 */
export function memfdPath(loc: Location): string | null {
  if (!(loc.mount.fs instanceof MemfdFs) || loc.inode === loc.mount.root) return null;
  return `/${loc.name ?? ''} (deleted)`;
}
