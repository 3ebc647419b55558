/**
 * stat(2) values from inodes, and statfs(2) values for pseudo filesystems.
 *
 * @module
 */

import type { Location, Stat, Statfs } from './types.js';

/** The stat of the file at `loc` (after refreshing cached host metadata). */
export function fillStat(loc: Location): Stat {
  const inode = loc.inode;
  inode.refresh();
  return {
    dev: inode.stDev(),
    ino: inode.ino,
    mode: inode.mode,
    nlink: inode.nlink,
    uid: inode.uid,
    gid: inode.gid,
    rdev: inode.rdev,
    size: inode.statSize(),
    blksize: inode.blksize(),
    blocks: inode.blocks(),
    atimeNs: inode.atimeNs,
    mtimeNs: inode.mtimeNs,
    ctimeNs: inode.ctimeNs,
    btimeNs: inode.btimeNs,
    mountId: loc.mount.id,
  };
}

/**
 * Linux's simple_statfs: the statfs of a pseudo filesystem (pipefs, anon_inodefs, ...) that has
 * no blocks and no inode limit, only its magic number, 4096-byte blocks and 255-byte names.
 *
 * @example
 * ```ts
 * class MyFs implements FilesystemImpl {
 *   // ...
 *   statfs(): Statfs {
 *     return simpleStatfs(0x50495045); // PIPEFS_MAGIC
 *   }
 * }
 * ```
 */
export function simpleStatfs(magic: number): Statfs {
  return {
    type: magic,
    bsize: 4096,
    blocks: 0,
    bfree: 0,
    bavail: 0,
    files: 0,
    ffree: 0,
    fsid: 0,
    namelen: 255,
    frsize: 4096,
    flags: 0,
  };
}
