/**
 * stat(2) values from inodes.
 *
 * @module
 */

import type { Location, Stat } from './types.js';

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
    size: inode.size(),
    blksize: inode.blksize(),
    blocks: inode.blocks(),
    atimeNs: inode.atimeNs,
    mtimeNs: inode.mtimeNs,
    ctimeNs: inode.ctimeNs,
    btimeNs: inode.btimeNs,
    mountId: loc.mount.id,
  };
}
