/**
 * Mounts: a filesystem attached at a directory of another mount (Linux's struct mount).
 *
 * @module
 */

import type { FilesystemImpl, Inode } from './inode.js';

/** Mount flags (the MS_* values of mount(2) that the VFS enforces). */
export const MS_RDONLY = 1;
export const MS_NOSUID = 2;
export const MS_NODEV = 4;
export const MS_NOEXEC = 8;

let nextMountId = 1;

/** One mount of a filesystem in a mount namespace. */
export class Mount {
  /** Unique id (statx stx_mnt_id, /proc/self/mountinfo). */
  readonly id = nextMountId++;
  /** Mounts attached at directories of this mount, keyed by the directory. */
  readonly children = new Map<Inode, Mount>();

  constructor(
    /** The mounted filesystem. */
    readonly fs: FilesystemImpl,
    /** The directory of `fs` that appears at the mount point (its root, or a bind mount's source). */
    readonly root: Inode,
    /** The mount this one is attached to (null for the namespace root). */
    readonly parent: Mount | null,
    /** The directory of `parent` this mount covers (null for the namespace root). */
    readonly mountpoint: Inode | null,
    /** MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC. */
    public flags: number,
  ) {}

  /** True for a read-only mount (writes give EROFS). */
  get readOnly(): boolean {
    return (this.flags & MS_RDONLY) !== 0;
  }
}
