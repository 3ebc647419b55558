/**
 * Extended attributes: tsvisor's filesystems have none yet. Every call still resolves its path
 * or fd first, so a missing file is ENOENT and a bad fd EBADF, and then answers EOPNOTSUPP, which
 * programs (ls, cp -a, tar) read as "this filesystem has no xattrs" and go on.
 *
 * @module
 */
import { E, isError, At } from '@tsvisor/abi';
import type { Task } from '@tsvisor/kernel';
import { ctxOf, dirOf, fileAt, pathArg, vfsOf } from './vfs-context.js';
import {
  int,
  ptr,
  type SyscallArgs,
  type SyscallDef,
  type SyscallFamily,
  type SyscallResult,
} from './types.js';

const XATTR_NAME_MAX = 255;

/** Checks the attribute name argument as Linux does (EFAULT, ERANGE for an empty or long name). */
function checkName(t: Task, addr: bigint): SyscallResult | undefined {
  const name = t.memory.readCStringBytes(ptr(addr), XATTR_NAME_MAX + 1);
  if (isError(name)) return name === E.ENAMETOOLONG ? E.ERANGE : name;
  if (name.length === 0) return E.ERANGE;
  return undefined;
}

function onPath(follow: boolean, withName: boolean) {
  return (t: Task, a: SyscallArgs): SyscallResult => {
    // Linux copies the attribute name before it resolves the path.
    if (withName) {
      const e = checkName(t, a[1]);
      if (e !== undefined) return e;
    }
    const path = pathArg(t, ptr(a[0]));
    if (isError(path)) return path;
    const loc = vfsOf(t).lookupat(ctxOf(t), dirOf(t, -100), path, follow ? 0 : At.AT_SYMLINK_NOFOLLOW);
    if (isError(loc)) return loc;
    return E.EOPNOTSUPP;
  };
}

function onFd(withName: boolean) {
  return (t: Task, a: SyscallArgs): SyscallResult => {
    if (withName) {
      const e = checkName(t, a[1]);
      if (e !== undefined) return e;
    }
    const f = fileAt(t, int(a[0]));
    if (isError(f)) return f;
    return E.EOPNOTSUPP;
  };
}

const note = {
  level: 'errno',
  errno: E.EOPNOTSUPP,
  reason: 'no filesystem supports extended attributes yet',
} as const;
const def = (handler: SyscallDef['handler']): SyscallDef => ({ handler, support: note });

/** implements the xattr family (getxattr(2) and friends) as "not supported here". */
export const xattrSyscalls: SyscallFamily = {
  getxattr: def(onPath(true, true)),
  lgetxattr: def(onPath(false, true)),
  fgetxattr: def(onFd(true)),
  setxattr: def(onPath(true, true)),
  lsetxattr: def(onPath(false, true)),
  fsetxattr: def(onFd(true)),
  removexattr: def(onPath(true, true)),
  lremovexattr: def(onPath(false, true)),
  fremovexattr: def(onFd(true)),
  listxattr: def(onPath(true, false)),
  llistxattr: def(onPath(false, false)),
  flistxattr: def(onFd(false)),
};
