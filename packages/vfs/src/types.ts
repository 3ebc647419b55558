/**
 * The value types of the VFS API: who is asking (credentials and the per-process filesystem
 * context), where (locations), and what comes back (stat, statfs, directory entries).
 *
 * Paths and names are "byte strings": JavaScript strings in which every character code is one
 * byte (0-255) of the Linux path, i.e. what `Buffer.toString('latin1')` gives for the bytes the
 * application passed. This keeps every byte (Linux names are not UTF-8) and costs no decoding.
 *
 * @module
 */

import type { Inode } from './inode.js';
import type { Mount } from './mount.js';

/**
 * The credentials a path operation is checked against (Linux's fsuid/fsgid, supplementary groups
 * and effective capabilities).
 *
 * `caps` is a bit mask of effective capabilities numbered as in capabilities(7) (`1 << CAP_CHOWN`
 * ...); only capabilities 0-31 are consulted, which covers every one the VFS needs
 * (CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER, CAP_FSETID, CAP_SYS_ADMIN,
 * CAP_SYS_RESOURCE, CAP_MKNOD).
 */
export interface Creds {
  readonly fsuid: number;
  readonly fsgid: number;
  /** Supplementary group ids. */
  readonly groups: readonly number[];
  /** Effective capabilities, bit `n` for capability `n`. */
  readonly caps: number;
}

/** All capabilities 0-31 set: what root has in the initial user namespace. */
export const ALL_CAPS = 0xffffffff | 0;

/** Credentials of root (uid 0, gid 0, every capability). */
export const ROOT_CREDS: Creds = Object.freeze({
  fsuid: 0,
  fsgid: 0,
  groups: Object.freeze([]),
  caps: ALL_CAPS,
});

/** Credentials of an unprivileged user (no capabilities). */
export function userCreds(uid: number, gid: number, groups: readonly number[] = []): Creds {
  return { fsuid: uid, fsgid: gid, groups, caps: 0 };
}

/** True when `creds` holds capability `cap` (a capabilities(7) number below 32). */
export function capable(creds: Creds, cap: number): boolean {
  return ((creds.caps >>> cap) & 1) === 1;
}

/**
 * A position in the mount namespace: a mount and an inode inside it (gVisor's VirtualDentry,
 * Linux's struct path). Used for the root and cwd of a process, for dirfds and for what a file
 * description was opened at.
 *
 * `name` and `parent` remember how a non-directory was reached (for /proc/self/fd links);
 * directories know their own parent and name (a directory has exactly one name).
 */
export interface Location {
  readonly mount: Mount;
  readonly inode: Inode;
  /** For a non-directory: the directory it was found in. */
  readonly parent?: Inode | undefined;
  /** For a non-directory: the name it was found under. */
  readonly name?: string | undefined;
}

/**
 * The filesystem context of the calling task for one path operation: credentials, umask and the
 * task's root and current directory (Linux's `current->fs` plus `current_cred()`).
 *
 * The kernel owns these values and may share them between threads (CLONE_FS); the VFS only reads
 * them, except that {@link Vfs.chdir} returns the new cwd for the kernel to store.
 */
export interface FsContext {
  readonly creds: Creds;
  /** The process umask (only the low 9 bits count). */
  readonly umask: number;
  /** Absolute paths and absolute symlinks start here; `..` never climbs above it. */
  readonly root: Location;
  /** Relative paths with AT_FDCWD start here. */
  readonly cwd: Location;
}

/**
 * File status, the union of struct stat and struct statx fields. Times are nanoseconds since the
 * epoch as bigint; the kernel splits them into seconds and nanoseconds.
 */
export interface Stat {
  dev: number;
  ino: number;
  mode: number;
  nlink: number;
  uid: number;
  gid: number;
  rdev: number;
  size: number;
  blksize: number;
  /** 512-byte blocks allocated. */
  blocks: number;
  atimeNs: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
  btimeNs: bigint;
  /** The id of the mount the file was found on (statx stx_mnt_id). */
  mountId: number;
}

/** Filesystem statistics (struct statfs). */
export interface Statfs {
  /** The filesystem magic number (TMPFS_MAGIC, ...). */
  type: number;
  bsize: number;
  blocks: number;
  bfree: number;
  bavail: number;
  files: number;
  ffree: number;
  fsid: number;
  namelen: number;
  frsize: number;
  /** ST_* mount flags (ST_RDONLY = 1, ST_NOSUID = 2, ST_NODEV = 4, ST_NOEXEC = 8, ...). */
  flags: number;
}

/**
 * Receives directory entries from getdents: return false when the entry does not fit (the VFS
 * then stops and the same entry comes first on the next call). `nextOff` is the entry's d_off:
 * the directory offset to resume after it.
 */
export type DirentSink = (ino: number, nextOff: number, type: number, name: string) => boolean;

/** One directory entry, as {@link FileDescription.readdirAll} returns it. */
export interface Dirent {
  ino: number;
  off: number;
  type: number;
  name: string;
}

/**
 * Attribute changes for {@link Inode.setattr}: only present fields change. The VFS has checked
 * permissions and computed the final values (mode with setuid/setgid already cleared).
 */
export interface SetAttr {
  mode?: number;
  uid?: number;
  gid?: number;
  size?: number;
  atimeNs?: bigint;
  mtimeNs?: bigint;
  /** Set by the VFS on every change, as Linux updates ctime. */
  ctimeNs?: bigint;
}
