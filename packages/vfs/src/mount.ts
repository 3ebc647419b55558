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
    /** The mount this one is attached to (null for the namespace root or a detached mount). */
    public parent: Mount | null,
    /** The directory of `parent` this mount covers (null for the namespace root). */
    public mountpoint: Inode | null,
    /**
     * MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, which the VFS enforces, plus the atime bits
     * (MS_NOATIME, MS_NODIRATIME, MS_RELATIME, MS_STRICTATIME) that mountinfo shows.
     */
    public flags: number,
  ) {}

  /** The source string given to mount(2) (`tmpfs`, `none`); undefined: the filesystem type. */
  source: string | undefined = undefined;
  /** Peer group id when the mount is shared (mountinfo `shared:N`); 0 when it is not. */
  peerGroup = 0;
  /** Peer group this mount is a slave of (mountinfo `master:N`); 0 when it is not a slave. */
  masterGroup = 0;
  /** Set by MS_UNBINDABLE: the mount cannot be the source of a bind mount. */
  unbindable = false;

  /** True for a read-only mount (writes give EROFS). */
  get readOnly(): boolean {
    return (this.flags & MS_RDONLY) !== 0;
  }
}
