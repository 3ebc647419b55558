/**
 * Extended attributes (getxattr(2) and friends, and Linux 6.13's *xattrat calls) on the VFS.
 *
 * The syscall layer does what fs/xattr.c does before a filesystem is asked: it copies the
 * arguments in (flags EINVAL, the name with EFAULT/ERANGE, E2BIG for a value over
 * XATTR_SIZE_MAX, EFAULT for the value), then resolves the path or fd (O_PATH descriptors are
 * EBADF, as fdget refuses them), and packs the answer into the caller's buffer (the size for a
 * size 0 query, ERANGE for a short buffer). Namespace rules, permissions and EROFS are the VFS's
 * (Vfs.getxattr and friends), the storage the filesystem's.
 *
 * @module
 */
import { E, isError, At, type LinuxError } from '@tsvisor/abi';
import type { Task } from '@tsvisor/kernel';
import type { Location } from '@tsvisor/vfs';
import { ctxOf, dirOf, fileAt, pathArg, vfsOf } from './vfs-context.js';
import {
  int,
  partial,
  ptr,
  size,
  type SyscallArgs,
  type SyscallDef,
  type SyscallFamily,
  type SyscallResult,
} from './types.js';

/** Linux's limits (include/uapi/linux/limits.h). */
const XATTR_NAME_MAX = 255;
const XATTR_SIZE_MAX = 65536;
const XATTR_LIST_MAX = 65536;
/** XATTR_CREATE | XATTR_REPLACE. */
const XATTR_FLAGS = 3;
/** struct xattr_args { u64 value; u32 size; u32 flags; }: XATTR_ARGS_SIZE_VER0. */
const XATTR_ARGS_SIZE = 16;
const PAGE_SIZE = 4096;

/** import_xattr_name: EFAULT, or ERANGE for an empty name or one longer than XATTR_NAME_MAX. */
function readName(t: Task, addr: bigint): string | LinuxError {
  const name = t.memory.readCStringBytes(ptr(addr), XATTR_NAME_MAX + 1);
  if (isError(name)) return name === E.ENAMETOOLONG ? E.ERANGE : name;
  if (name.length === 0) return E.ERANGE;
  return Buffer.from(name.buffer, name.byteOffset, name.byteLength).toString('latin1');
}

/** What a call acts on: a path from a directory (with AT_* flags) or an open descriptor. */
type Target = { dirfd: number; path: bigint; atFlags: number } | { fd: number };

/** The f*xattr target: fdget refuses O_PATH descriptors, so they are EBADF. */
function resolveFd(t: Task, fd: number): Location | LinuxError {
  const f = fileAt(t, fd);
  if (isError(f)) return f;
  return f.isPath ? E.EBADF : f.location;
}

/**
 * Resolves a target as path_*xattrat does: with AT_EMPTY_PATH a NULL or empty path means the
 * descriptor itself (getname_maybe_null), else the path is looked up from `dirfd`, following a
 * final symlink unless AT_SYMLINK_NOFOLLOW.
 */
function resolveTarget(t: Task, target: Target): Location | LinuxError {
  if ('fd' in target) return resolveFd(t, target.fd);
  const { dirfd, atFlags } = target;
  const emptyOk = (atFlags & At.AT_EMPTY_PATH) !== 0;
  if (emptyOk && target.path === 0n) return resolveFd(t, dirfd);
  const path = pathArg(t, ptr(target.path));
  if (isError(path)) return path;
  if (emptyOk && path.length === 0) return resolveFd(t, dirfd);
  return vfsOf(t).lookupat(ctxOf(t), dirOf(t, dirfd), path, atFlags & At.AT_SYMLINK_NOFOLLOW);
}

/** The AT_* flags the *xattrat calls accept. */
function badAtFlags(atFlags: number): boolean {
  return (atFlags & ~(At.AT_SYMLINK_NOFOLLOW | At.AT_EMPTY_PATH)) !== 0;
}

/** Copies `bytes` out as getxattr does: the size for a size 0 query, else ERANGE or EFAULT. */
function copyOut(t: Task, bytes: Uint8Array, addr: bigint, len: number, max: number): SyscallResult {
  if (len === 0) return bytes.length;
  if (bytes.length > Math.min(len, max)) return len >= max ? E.E2BIG : E.ERANGE;
  if (bytes.length === 0) return 0;
  return t.memory.writeExact(ptr(addr), bytes) ?? bytes.length;
}

/** setxattr_copy then the set: flags, name, value size and bytes, the target, the VFS. */
function doSet(t: Task, target: Target, nameAddr: bigint, valueAddr: bigint, len: number, flags: number) {
  if ((flags & ~XATTR_FLAGS) !== 0) return E.EINVAL;
  const name = readName(t, nameAddr);
  if (isError(name)) return name;
  if (len > XATTR_SIZE_MAX) return E.E2BIG;
  const value = len === 0 ? new Uint8Array(0) : t.memory.read(ptr(valueAddr), len);
  if (isError(value)) return value;
  const loc = resolveTarget(t, target);
  if (isError(loc)) return loc;
  return vfsOf(t).setxattr(ctxOf(t), loc, name, value, flags) ?? 0;
}

function doGet(t: Task, target: Target, nameAddr: bigint, valueAddr: bigint, len: number): SyscallResult {
  const name = readName(t, nameAddr);
  if (isError(name)) return name;
  const loc = resolveTarget(t, target);
  if (isError(loc)) return loc;
  const value = vfsOf(t).getxattr(ctxOf(t), loc, name);
  if (isError(value)) return value;
  return copyOut(t, value, valueAddr, len, XATTR_SIZE_MAX);
}

function doList(t: Task, target: Target, listAddr: bigint, len: number): SyscallResult {
  const loc = resolveTarget(t, target);
  if (isError(loc)) return loc;
  const names = vfsOf(t).listxattr(ctxOf(t), loc);
  if (isError(names)) return names;
  // Each name NUL-terminated, back to back.
  const packed = new Uint8Array(Buffer.from(names.map((n) => `${n}\0`).join(''), 'latin1'));
  return copyOut(t, packed, listAddr, len, XATTR_LIST_MAX);
}

function doRemove(t: Task, target: Target, nameAddr: bigint): SyscallResult {
  const name = readName(t, nameAddr);
  if (isError(name)) return name;
  const loc = resolveTarget(t, target);
  if (isError(loc)) return loc;
  return vfsOf(t).removexattr(ctxOf(t), loc, name) ?? 0;
}

/** The path calls: getxattr(path, ...) is getxattrat(AT_FDCWD, path, 0 or NOFOLLOW, ...). */
const onPath = (follow: boolean, a: SyscallArgs): Target => ({
  dirfd: At.AT_FDCWD,
  path: a[0],
  atFlags: follow ? 0 : At.AT_SYMLINK_NOFOLLOW,
});
const onFd = (a: SyscallArgs): Target => ({ fd: int(a[0]) });
const onAt = (a: SyscallArgs): Target => ({ dirfd: int(a[0]), path: a[1], atFlags: int(a[2]) });

/**
 * Reads a struct xattr_args as copy_struct_from_user does: EINVAL below the first version's
 * size, E2BIG above a page or for non-zero bytes past the struct, EFAULT.
 */
function readXattrArgs(
  t: Task,
  addr: bigint,
  usize: number,
): { value: bigint; size: number; flags: number } | LinuxError {
  if (usize < XATTR_ARGS_SIZE) return E.EINVAL;
  if (usize > PAGE_SIZE) return E.E2BIG;
  const raw = t.memory.read(ptr(addr), usize);
  if (isError(raw)) return raw;
  if (raw.subarray(XATTR_ARGS_SIZE).some((b) => b !== 0)) return E.E2BIG;
  const v = new DataView(raw.buffer, raw.byteOffset, XATTR_ARGS_SIZE);
  return { value: v.getBigUint64(0, true), size: v.getUint32(8, true), flags: v.getUint32(12, true) };
}

/** implements setxattrat(2): (dirfd, path, at_flags, name, struct xattr_args *, usize). */
function setxattrat(t: Task, a: SyscallArgs): SyscallResult {
  const args = readXattrArgs(t, a[4], size(a[5]));
  if (isError(args)) return args;
  if (badAtFlags(int(a[2]))) return E.EINVAL;
  return doSet(t, onAt(a), a[3], args.value, args.size, args.flags);
}

/** implements getxattrat(2): struct xattr_args carries the buffer; its flags must be 0. */
function getxattrat(t: Task, a: SyscallArgs): SyscallResult {
  const args = readXattrArgs(t, a[4], size(a[5]));
  if (isError(args)) return args;
  if (args.flags !== 0 || badAtFlags(int(a[2]))) return E.EINVAL;
  return doGet(t, onAt(a), a[3], args.value, args.size);
}

/** implements listxattrat(2): (dirfd, path, at_flags, list, size). */
function listxattrat(t: Task, a: SyscallArgs): SyscallResult {
  if (badAtFlags(int(a[2]))) return E.EINVAL;
  return doList(t, onAt(a), a[3], size(a[4]));
}

/** implements removexattrat(2): (dirfd, path, at_flags, name). */
function removexattrat(t: Task, a: SyscallArgs): SyscallResult {
  if (badAtFlags(int(a[2]))) return E.EINVAL;
  return doRemove(t, onAt(a), a[3]);
}

const note = partial(
  'POSIX ACLs (system.posix_acl_*) answer EOPNOTSUPP; host volumes keep only user.* attributes',
);
const def = (handler: SyscallDef['handler']): SyscallDef => ({ handler, support: note });

/** implements the xattr family: getxattr(2), setxattr(2), listxattr(2), removexattr(2) and kin. */
export const xattrSyscalls: SyscallFamily = {
  setxattr: def((t, a) => doSet(t, onPath(true, a), a[1], a[2], size(a[3]), int(a[4]))),
  lsetxattr: def((t, a) => doSet(t, onPath(false, a), a[1], a[2], size(a[3]), int(a[4]))),
  fsetxattr: def((t, a) => doSet(t, onFd(a), a[1], a[2], size(a[3]), int(a[4]))),
  getxattr: def((t, a) => doGet(t, onPath(true, a), a[1], a[2], size(a[3]))),
  lgetxattr: def((t, a) => doGet(t, onPath(false, a), a[1], a[2], size(a[3]))),
  fgetxattr: def((t, a) => doGet(t, onFd(a), a[1], a[2], size(a[3]))),
  listxattr: def((t, a) => doList(t, onPath(true, a), a[1], size(a[2]))),
  llistxattr: def((t, a) => doList(t, onPath(false, a), a[1], size(a[2]))),
  flistxattr: def((t, a) => doList(t, onFd(a), a[1], size(a[2]))),
  removexattr: def((t, a) => doRemove(t, onPath(true, a), a[1])),
  lremovexattr: def((t, a) => doRemove(t, onPath(false, a), a[1])),
  fremovexattr: def((t, a) => doRemove(t, onFd(a), a[1])),
  setxattrat: def(setxattrat),
  getxattrat: def(getxattrat),
  listxattrat: def(listxattrat),
  removexattrat: def(removexattrat),
};
