/**
 * Mounts: a filesystem attached at a directory of another mount (Linux's struct mount).
 *
 * @module
 */

import type { FilesystemImpl, Inode } from './inode.js';
import type { Location } from './types.js';

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
    /**
     * The inode of `fs` that appears at the mount point: its root, or a bind mount's source (a
     * directory, or for a file bind mount any non-directory).
     */
    readonly root: Inode,
    /** The mount this one is attached to (null for the namespace root or a detached mount). */
    public parent: Mount | null,
    /**
     * The inode of `parent` this mount covers (null for the namespace root): a directory, or a
     * non-directory under a file bind mount.
     */
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

  /**
   * For a non-directory mount point below the parent's root: the directory holding it and its
   * name there. Linux mounts on a dentry, which is one link of a file: another hard link of the
   * covered file stays visible (null when the mount point is a directory or the parent's root).
   */
  mountpointDir: Inode | null = null;
  /** The name of the covered file in {@link Mount.mountpointDir}. */
  mountpointName = '';
  /**
   * For a mount whose root is a non-directory (a file bind mount): the directory of `fs` that
   * held the source file when it was bound and the file's name there, so mountinfo can show the
   * root's path inside the filesystem (non-directories do not know their parent).
   */
  rootDir: Inode | null = null;
  /** The name of the bound file in {@link Mount.rootDir}. */
  rootName = '';

  /**
   * Attaches this mount at `at` (a directory, or a non-directory with the directory and name it
   * was found under), covering what is there. The caller has detached it from any other place and
   * checked that nothing is mounted on that spot of `at.mount` (the walk crossed to the top).
   */
  attach(at: Location): void {
    const parent = at.mount;
    this.parent = parent;
    this.mountpoint = at.inode;
    const onFile = !at.inode.isDir && at.inode !== parent.root;
    const dir = onFile ? (at.parent ?? null) : null;
    this.mountpointDir = dir;
    this.mountpointName = onFile ? (at.name ?? '') : '';
    parent.children.set(at.inode, this);
    if (dir !== null) {
      parent.fileMounts ??= new Map();
      let byName = parent.fileMounts.get(dir);
      if (byName === undefined) parent.fileMounts.set(dir, (byName = new Map()));
      byName.set(this.mountpointName, this);
    }
  }

  /**
   * Records, for a file bind mount of `source`, where the file sits in its filesystem (see
   * {@link Mount.rootDir}): the directory and name it was found under, or those recorded by the
   * file bind mount it is the root of.
   */
  bindFrom(source: Location): void {
    if (source.inode.isDir) return;
    if (source.inode === source.mount.root) {
      this.rootDir = source.mount.rootDir;
      this.rootName = source.mount.rootName;
    } else if (source.parent !== undefined && source.name !== undefined) {
      this.rootDir = source.parent;
      this.rootName = source.name;
    }
  }

  /**
   * A copy of this mount rooted at `root` (`root` itself, or for a directory mount a directory
   * below it), detached, with the same filesystem, flags, source and propagation (clone_mnt
   * without flags: a peer of a shared mount, a slave of the same master).
   */
  clone(root: Inode = this.root): Mount {
    const c = new Mount(this.fs, root, null, null, this.flags);
    c.source = this.source;
    c.peerGroup = this.peerGroup;
    c.masterGroup = this.masterGroup;
    if (root === this.root) {
      c.rootDir = this.rootDir;
      c.rootName = this.rootName;
    }
    return c;
  }

  /** Detaches this mount from its parent; the mounts attached to it stay attached to it. */
  detach(): void {
    const p = this.parent;
    if (p !== null && this.mountpoint !== null && p.children.get(this.mountpoint) === this) {
      p.children.delete(this.mountpoint);
    }
    const dir = this.mountpointDir;
    const byName = dir === null ? undefined : p?.fileMounts?.get(dir);
    if (dir !== null && byName?.get(this.mountpointName) === this) {
      byName.delete(this.mountpointName);
      if (byName.size === 0) p?.fileMounts?.delete(dir);
    }
    this.parent = null;
    this.mountpoint = null;
    this.mountpointDir = null;
    this.mountpointName = '';
  }

  /**
   * The mount attached on `inode`, found as `name` in directory `dir` of this mount (ignored for
   * directories): Linux's __lookup_mnt on that dentry. A file bind mount covers only the link it
   * was mounted on.
   */
  mountOn(inode: Inode, dir: Inode | null, name: string): Mount | undefined {
    if (this.children.size === 0) return undefined;
    if (inode.isDir || dir === null) return this.children.get(inode);
    // By directory and name: a filesystem may hand out a new object for a file at each lookup.
    const sub = this.fileMounts?.get(dir)?.get(name);
    if (sub !== undefined) return sub;
    const onRoot = this.children.get(inode);
    return onRoot?.mountpointDir === null ? onRoot : undefined;
  }

  /** The file bind mounts attached below this mount's root, by directory and name. */
  private fileMounts: Map<Inode, Map<string, Mount>> | null = null;

  /** True for a read-only mount (writes give EROFS). */
  get readOnly(): boolean {
    return (this.flags & MS_RDONLY) !== 0;
  }
}
