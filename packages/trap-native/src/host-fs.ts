/**
 * Host filesystem calls of the supervisor that node:fs has no binding for, for hostfs volumes:
 * mknodat(2), renameat2(2), the l*xattr/f*xattr family, lseek(2) for SEEK_END/SEEK_DATA/SEEK_HOLE
 * and fallocate(2). The object {@link hostFsCalls} has the shape of `@tsvisor/vfs`'s `HostCalls`
 * (this package does not depend on the VFS; the runtime passes it to `new Hostfs(...)`).
 *
 * Each call names at most one component inside a directory fd the caller holds, never a path:
 * the native side refuses an empty name, "." and "..", and names holding '/' or NUL with EINVAL
 * before any host call, and reaches attributes through `/proc/self/fd/<dirFd>/<name>` with the
 * l* variants, so neither a symlink in the name nor a walk up can leave the held directory.
 * Results are 0 (or the value) on success and a negative errno on failure; nothing throws.
 *
 * @module
 */
import { native } from './native.native.js';

/** The host filesystem calls; see the module comment for how names are confined. */
export interface HostFsCalls {
  /** mknodat(2) of `name` in `dirFd`; device nodes are EPERM (host users would get the device). */
  mknodat(dirFd: number, name: string, mode: number, dev: number): number;
  /** renameat2(2) between two directory fds, with RENAME_NOREPLACE (1) or RENAME_EXCHANGE (2). */
  renameat2(oldDirFd: number, oldName: string, newDirFd: number, newName: string, flags: number): number;
  /** lgetxattr(2) of `name` in `dirFd`, or fgetxattr(2) of `dirFd` itself when `name` is null. */
  getxattr(dirFd: number, name: string | null, attr: string): Uint8Array | number;
  /** lsetxattr(2) / fsetxattr(2) with XATTR_CREATE (1) / XATTR_REPLACE (2). */
  setxattr(dirFd: number, name: string | null, attr: string, value: Uint8Array, flags: number): number;
  /** llistxattr(2) / flistxattr(2): the names. */
  listxattr(dirFd: number, name: string | null): string[] | number;
  /** lremovexattr(2) / fremovexattr(2). */
  removexattr(dirFd: number, name: string | null, attr: string): number;
  /** lseek(2) on `fd` (offsets past 2^53 lose precision). */
  lseek(fd: number, offset: number, whence: number): number;
  /** fallocate(2) on `fd`. */
  fallocate(fd: number, mode: number, offset: number, len: number): number;
}

/**
 * The host filesystem calls of this process.
 *
 * @example
 * ```ts
 * const dir = fs.openSync('/srv/data', fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
 * hostFsCalls.setxattr(dir, 'notes.txt', 'user.tag', new TextEncoder().encode('x'), 0); // 0 or -errno
 * ```
 */
export const hostFsCalls: HostFsCalls = {
  mknodat: (d, n, m, dev) => native().addon.hostMknodat(d, n, m, dev),
  renameat2: (od, on, nd, nn, f) => native().addon.hostRenameat2(od, on, nd, nn, f),
  getxattr: (d, n, a) => native().addon.hostGetxattr(d, n, a),
  setxattr: (d, n, a, v, f) => native().addon.hostSetxattr(d, n, a, v, f),
  listxattr: (d, n) => native().addon.hostListxattr(d, n),
  removexattr: (d, n, a) => native().addon.hostRemovexattr(d, n, a),
  lseek: (fd, o, w) => native().addon.hostLseek(fd, o, w),
  fallocate: (fd, m, o, l) => native().addon.hostFallocate(fd, m, o, l),
};
