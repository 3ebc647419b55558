/**
 * Permission checks as Linux's fs/namei.c does them: generic_permission with the capability
 * overrides, sticky directories, may_create/may_delete.
 *
 * @module
 */

import { E } from '@tsvisor/abi';
import type { LinuxError } from '@tsvisor/abi';
import { CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER, S_ISVTX } from './constants.js';
import type { Inode } from './inode.js';
import { capable } from './types.js';
import type { Creds } from './types.js';

/** Permission to execute / search. */
export const MAY_EXEC = 1;
/** Permission to write. */
export const MAY_WRITE = 2;
/** Permission to read. */
export const MAY_READ = 4;

/** in_group_p: the fsgid or a supplementary group is `gid`. */
export function inGroup(creds: Creds, gid: number): boolean {
  if (creds.fsgid === gid) return true;
  const groups = creds.groups;
  for (let i = 0; i < groups.length; i++) if (groups[i] === gid) return true;
  return false;
}

/**
 * generic_permission: may `creds` access `inode` for `mask` (MAY_READ | MAY_WRITE | MAY_EXEC)?
 * EACCES if not; an inode's own {@link Inode.checkPermission} decides instead when it has one.
 * Read-only mounts are the caller's check (EROFS).
 */
export function permission(creds: Creds, inode: Inode, mask: number): LinuxError | undefined {
  if (inode.checkPermission) return inode.checkPermission(creds, mask);
  const mode = inode.mode;
  let bits: number;
  if (creds.fsuid === inode.uid) bits = mode >> 6;
  else if (inGroup(creds, inode.gid)) bits = mode >> 3;
  else bits = mode;
  if ((bits & mask & 7) === mask) return undefined;
  if (creds.caps === 0) return E.EACCES;
  if (inode.isDir) {
    if (capable(creds, CAP_DAC_OVERRIDE)) return undefined;
    if ((mask & MAY_WRITE) === 0 && capable(creds, CAP_DAC_READ_SEARCH)) return undefined;
    return E.EACCES;
  }
  // Root may execute only what someone may execute.
  if (capable(creds, CAP_DAC_OVERRIDE) && ((mask & MAY_EXEC) === 0 || (mode & 0o111) !== 0)) return undefined;
  if (mask === MAY_READ && capable(creds, CAP_DAC_READ_SEARCH)) return undefined;
  return E.EACCES;
}

/** inode_owner_or_capable: the fsuid owns `inode`, or has CAP_FOWNER. */
export function ownerOrCapable(creds: Creds, inode: Inode): boolean {
  return creds.fsuid === inode.uid || capable(creds, CAP_FOWNER);
}

/** check_sticky: may `creds` remove or rename `victim` out of the sticky directory `dir`? */
export function stickyAllows(creds: Creds, dir: Inode, victim: Inode): boolean {
  if ((dir.mode & S_ISVTX) === 0) return true;
  if (creds.fsuid === victim.uid || creds.fsuid === dir.uid) return true;
  return capable(creds, CAP_FOWNER);
}
