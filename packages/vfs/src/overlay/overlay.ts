/**
 * overlay: a writable union of a read-only lower filesystem (typically hostfs of the host root)
 * and a writable upper one (typically tmpfs), as Linux's overlayfs presents it.
 *
 * - Reads come from the topmost layer that has the file.
 * - The first change to a lower file (open for writing, truncate, chmod, chown, utimes, link)
 *   copies it up: data, mode, owner and timestamps, after copying up its parent directories.
 * - Removing a lower name leaves a whiteout in the upper layer (a 0/0 character device, as
 *   overlayfs uses); a directory made where a whiteout was is opaque (hides the lower one).
 * - Directory listings merge both layers; whiteouts hide lower names.
 * - st_ino of a file stays the lower file's number after copy-up; files born in the upper layer
 *   get the upper number plus 2^48, so the two ranges never meet. st_dev is the overlay's.
 * - Renaming a directory that has a lower part gives EXDEV by default (overlayfs without
 *   redirect_dir, the kernel's default; `mv` then copies). With {@link OverlayOptions.redirectDir}
 *   the rename works as with redirect_dir=on: the directory inode alone is copied up, renamed,
 *   and given a redirect to its lower path (overlayfs's trusted.overlay.redirect), so its lower
 *   children still show; a whiteout hides the old name (RENAME_EXCHANGE gives both directories
 *   their redirect). An upper-only directory moved into a merged one is made opaque, so a lower
 *   directory of its new name does not show through.
 * - Nothing is ever written to the lower layer: the overlay calls only its lookup, open for
 *   reading, readlink, readdir and getxattr/listxattr.
 *
 * ## Marks kept in the upper layer ({@link OverlayOptions.userxattr})
 * By default whiteouts are 0/0 character devices and opaque marks and redirects live in memory,
 * so they last as long as the overlay object. With `userxattr` and an upper layer that has
 * extended attributes (tmpfs; hostfs with its host calls), they are written where Linux
 * overlayfs mounted with `-o userxattr` keeps them, and read back by an overlay later mounted
 * over the same upper layer (or by Linux):
 * - opaque directory: `user.overlay.opaque` = `y`;
 * - renamed directory: `user.overlay.redirect` = its lower path from the root (`/a/b`);
 * - whiteout: a 0/0 character device when the upper layer lets the overlay make one (tmpfs, or
 *   hostfs whose host calls make devices); otherwise (tsvisor's native host calls refuse every
 *   device) an empty regular file with `user.overlay.whiteout`, its directory marked
 *   `user.overlay.opaque` = `x` (it holds xattr whiteouts) and `user.overlay.impure` = `y`.
 *   overlayfs.rst documents this form for lower layers; in an upper layer Linux honours it on
 *   lookup, and in readdir only because `impure` makes it look each name up (which needs all
 *   layers on one filesystem, or xino).
 * - The app's own `user.overlay.*` attributes are stored escaped (`user.overlay.overlay.*`) and
 *   the overlay's own are hidden from it, as overlayfs does; copy-up leaves the lower layer's own
 *   overlay attributes behind.
 *
 * Linux refuses `userxattr` together with `redirect_dir` (it forces `redirect_dir=nofollow` and
 * answers EPERM for a directory with a redirect), so a tree with renamed lower directories is
 * readable by this overlay only. Not kept across a remount: st_ino of copied-up files (overlayfs
 * keeps it through `overlay.origin` file handles; here a remounted copy-up shows the upper
 * inode's number). Changes are not crash-atomic (overlayfs prepares them in its workdir).
 *
 * Layer operations are called directly on the layers' inodes (the VFS already checked the
 * caller's permissions against the overlay's view), like overlayfs acting with the mounter's
 * credentials.
 *
 * @module
 */

import { E, isError } from '@tsvisor/abi';
import type { LinuxError } from '@tsvisor/abi';
import {
  O_ACCMODE,
  O_NOATIME,
  O_RDONLY,
  O_TRUNC,
  S_IFCHR,
  S_IFDIR,
  S_IFLNK,
  S_IFMT,
  S_IFREG,
  SEEK_CUR,
  SEEK_SET,
} from '../constants.js';
import { anonDev } from '../devices.js';
import { SnapshotDirFile } from '../dir-file.js';
import type { DirListEntry } from '../dir-file.js';
import { FileDescription } from '../file.js';
import type { FileDescriptionImpl } from '../file.js';
import { Inode } from '../inode.js';
import type { CreateAttrs, FilesystemImpl } from '../inode.js';
import { Mount } from '../mount.js';
import { direntType } from '../tmpfs/tmpfs.js';
import { ROOT_CREDS } from '../types.js';
import type { SetAttr, Statfs } from '../types.js';

const UPPER_INO_BASE = 2 ** 48;
const COPY_CHUNK = 1 << 20;

/** The prefix of overlayfs's own attributes with `userxattr` (OVL_XATTR_USER_PREFIX). */
const OVL_PREFIX = 'user.overlay.';
/** An app's `user.overlay.X` is stored as `user.overlay.overlay.X` (overlayfs's escaping). */
const OVL_ESCAPED = 'user.overlay.overlay.';
const OVL_OPAQUE = 'user.overlay.opaque';
const OVL_REDIRECT = 'user.overlay.redirect';
const OVL_WHITEOUT = 'user.overlay.whiteout';
const OVL_IMPURE = 'user.overlay.impure';

function isCharWhiteout(i: Inode): boolean {
  return (i.mode & S_IFMT) === S_IFCHR && i.rdev === 0;
}

const latin1 = (b: Uint8Array): string => Buffer.from(b).toString('latin1');
const bytes = (s: string): Uint8Array => Buffer.from(s, 'latin1');

/** Mount options of an {@link Overlayfs}. */
export interface OverlayOptions {
  /**
   * overlayfs's `redirect_dir=on`: a directory with a lower part can be renamed (the upper copy
   * records where its lower part is). Off by default, as the kernel's own default
   * (CONFIG_OVERLAY_FS_REDIRECT_DIR=n): such a rename gives EXDEV.
   */
  readonly redirectDir?: boolean;
  /**
   * overlayfs's `userxattr`: keep whiteouts, opaque marks and redirects in the upper layer's
   * `user.overlay.*` attributes, so an overlay mounted later over the same upper layer (or Linux
   * overlayfs with `-o userxattr`) sees the same tree. Takes effect only when the upper layer
   * has extended attributes ({@link Overlayfs.xattrMarks}). Off by default, as in Linux.
   */
  readonly userxattr?: boolean;
}

/** An overlay of `upper` (writable) on `lower` (never written). */
export class Overlayfs implements FilesystemImpl {
  readonly type = 'overlay';
  readonly dev = anonDev();
  readonly root: OverlayNode;
  /** Upper directories that hide the lower layer entirely (see {@link isOpaque}). */
  private readonly opaque = new WeakSet<Inode>();
  /** Upper directories holding xattr whiteouts (`user.overlay.opaque` = `x`). */
  private readonly xwhiteoutDirs = new WeakSet<Inode>();
  /** Upper directories whose marks were read from their attributes. */
  private readonly marksRead = new WeakSet<Inode>();
  /** Redirects read in relative form (a name beside the parent's lower path). */
  private readonly relativeRedirects = new WeakMap<Inode, string>();
  /** The overlay inode number of upper inodes made by copy-up (hard links share it). */
  readonly inoOfUpper = new WeakMap<Inode, number>();
  /**
   * Upper directories renamed away from their lower part (redirect_dir): the lower path, from
   * the lower root, their lower part is found at instead of their own name.
   */
  private readonly redirects = new WeakMap<Inode, readonly string[]>();
  /** Whether directories with a lower part can be renamed ({@link OverlayOptions.redirectDir}). */
  readonly redirectDir: boolean;
  /**
   * Whether whiteouts, opaque marks and redirects are kept in the upper layer's attributes:
   * {@link OverlayOptions.userxattr} was given and the upper layer has extended attributes.
   */
  readonly xattrMarks: boolean;
  private readonly lowerMount: Mount;
  private readonly upperMount: Mount;

  constructor(
    readonly lower: FilesystemImpl,
    readonly upper: FilesystemImpl,
    options: OverlayOptions = {},
  ) {
    this.redirectDir = options.redirectDir ?? false;
    // As overlayfs probes its upper layer at mount: no xattr support, no marks there.
    this.xattrMarks = options.userxattr === true && upper.root.getxattr(OVL_OPAQUE) !== E.EOPNOTSUPP;
    this.lowerMount = new Mount(lower, lower.root, null, null, 0);
    this.upperMount = new Mount(upper, upper.root, null, null, 0);
    this.root = new OverlayNode(this, upper.root, lower.root);
    this.root.parent = this.root;
    this.inoOfUpper.set(upper.root, this.root.ino);
  }

  /**
   * The upper layer's statfs (where writes go, as ovl_statfs reports), with the lower layer's
   * used blocks added to the total and used counts: the files a program sees live there too, so
   * a sandbox's root does not look empty (`df`, shutil.disk_usage). Free space stays the upper's.
   */
  statfs(): Statfs {
    const up = this.upper.statfs();
    const low = this.lower.statfs();
    const lowerUsed = Math.max(0, Math.floor(((low.blocks - low.bfree) * low.frsize) / up.frsize));
    const lowerFiles = Math.max(0, low.files - low.ffree);
    return { ...up, blocks: up.blocks + lowerUsed, files: up.files + lowerFiles };
  }

  /** Read the marks of upper directory `up` from its attributes, once. */
  private readMarks(up: Inode): void {
    if (!this.xattrMarks || this.marksRead.has(up)) return;
    this.marksRead.add(up);
    const opaque = up.getxattr(OVL_OPAQUE);
    if (!isError(opaque)) {
      const v = latin1(opaque);
      if (v === 'y') this.opaque.add(up);
      else if (v === 'x') this.xwhiteoutDirs.add(up);
    }
    const redirect = up.getxattr(OVL_REDIRECT);
    if (!isError(redirect)) {
      const v = latin1(redirect);
      const path = v.split('/').filter((n) => n !== '');
      if (v.startsWith('/')) this.redirects.set(up, path);
      else if (path.length === 1) this.relativeRedirects.set(up, v);
    }
  }

  /** Whether upper directory `up` hides the lower layer (an opaque directory). */
  isOpaque(up: Inode): boolean {
    this.readMarks(up);
    return this.opaque.has(up);
  }

  /** Mark upper directory `up` opaque (and say so in its attributes). */
  markOpaque(up: Inode): LinuxError | undefined {
    this.opaque.add(up);
    this.xwhiteoutDirs.delete(up);
    return this.xattrMarks ? up.setxattr(OVL_OPAQUE, bytes('y'), 0) : undefined;
  }

  /**
   * The lower path upper directory `up` was renamed from, if it was (`parentLowerPath` places a
   * relative redirect, which Linux writes for a rename within one directory).
   */
  redirectOf(up: Inode, parentLowerPath: () => readonly string[]): readonly string[] | undefined {
    this.readMarks(up);
    const abs = this.redirects.get(up);
    if (abs !== undefined) return abs;
    const rel = this.relativeRedirects.get(up);
    return rel === undefined ? undefined : [...parentLowerPath(), rel];
  }

  /** Record that upper directory `up` has its lower part at `path` (an absolute redirect). */
  setRedirect(up: Inode, path: readonly string[]): LinuxError | undefined {
    this.readMarks(up);
    this.redirects.set(up, path);
    this.relativeRedirects.delete(up);
    return this.xattrMarks ? up.setxattr(OVL_REDIRECT, bytes(`/${path.join('/')}`), 0) : undefined;
  }

  /**
   * Whether `child`, found in upper directory `dir`, is a whiteout: a 0/0 character device, or
   * (with xattr marks, in a directory marked as holding them) an empty regular file with
   * `user.overlay.whiteout`.
   */
  isWhiteoutIn(dir: Inode, child: Inode): boolean {
    if (isCharWhiteout(child)) return true;
    if (!this.xattrMarks || !child.isRegular || child.size() !== 0) return false;
    this.readMarks(dir);
    return this.xwhiteoutDirs.has(dir) && !isError(child.getxattr(OVL_WHITEOUT));
  }

  /**
   * Leave a whiteout for `name` in upper directory `dir`: a 0/0 character device, or where the
   * upper layer makes no devices (tsvisor's hostfs), an xattr whiteout.
   */
  makeWhiteout(dir: Inode, name: string): LinuxError | undefined {
    const r = dir.mknod(name, { mode: S_IFCHR, uid: 0, gid: 0, rdev: 0 });
    if (!isError(r)) return undefined;
    if (!this.xattrMarks || r !== E.EPERM) return r;
    this.readMarks(dir);
    if (!this.xwhiteoutDirs.has(dir)) {
      // Marked before the first one is made, so no whiteout is ever unrecognised.
      const e = dir.setxattr(OVL_OPAQUE, bytes('x'), 0) ?? dir.setxattr(OVL_IMPURE, bytes('y'), 0);
      if (e) return e;
      this.xwhiteoutDirs.add(dir);
    }
    const f = dir.create(name, { mode: S_IFREG | 0o600, uid: 0, gid: 0, rdev: 0 });
    if (isError(f)) return f;
    const e = f.setxattr(OVL_WHITEOUT, bytes('y'), 0);
    if (e) {
      dir.unlink(name, f);
      return e;
    }
    return undefined;
  }

  /**
   * The name an attribute the app names `name` is stored under: the app's `user.overlay.*` are
   * escaped with a second `overlay.` (ovl_xattr_escape), so they never meet the overlay's own.
   */
  storedXattr(name: string): string {
    return this.xattrMarks && name.startsWith(OVL_PREFIX)
      ? OVL_ESCAPED + name.slice(OVL_PREFIX.length)
      : name;
  }

  /** The name the app sees for stored attribute `stored`, or null for the overlay's own. */
  shownXattr(stored: string): string | null {
    if (!this.xattrMarks || !stored.startsWith(OVL_PREFIX)) return stored;
    return stored.startsWith(OVL_ESCAPED) ? OVL_PREFIX + stored.slice(OVL_ESCAPED.length) : null;
  }

  /** The lower directory at `path` from the lower root, or null if there is none. */
  lowerDirAt(path: readonly string[]): Inode | null {
    let d: Inode = this.lower.root;
    for (const name of path) {
      const next = d.lookup(name);
      if (isError(next) || !next.isDir) return null;
      d = next;
    }
    return d;
  }

  /**
   * Removes every entry of the upper directory `up` of an empty merged directory: only whiteouts
   * are left there (mergedNames found nothing), which must go before it is removed or replaced.
   */
  clearWhiteouts(up: Inode): LinuxError | undefined {
    const impl = up.open(O_RDONLY);
    if (isError(impl)) return impl;
    const f = this.layerFile(impl, up, true);
    const names: string[] = [];
    impl.getdents(
      2,
      (_i, _o, _t, n) => {
        if (n !== '.' && n !== '..') names.push(n);
        return true;
      },
      f,
    );
    f.release();
    for (const n of names) {
      const w = up.lookup(n);
      if (!isError(w)) up.unlink(n, w);
    }
    return undefined;
  }

  /** A description of a layer inode for the overlay's own reads (copy-up). */
  layerFile(impl: FileDescriptionImpl, inode: Inode, upper: boolean): FileDescription {
    return new FileDescription(
      impl,
      { mount: upper ? this.upperMount : this.lowerMount, inode },
      O_RDONLY | O_NOATIME,
      ROOT_CREDS,
    );
  }
}

/** A file of the overlay: its upper and lower inodes (at least one). */
export class OverlayNode extends Inode {
  private children: Map<string, OverlayNode> | null = null;

  constructor(
    readonly fs: Overlayfs,
    public upper: Inode | null,
    public lower: Inode | null,
  ) {
    super();
    const known = upper !== null ? fs.inoOfUpper.get(upper) : undefined;
    this.ino = known ?? (lower !== null ? lower.ino : (upper as Inode).ino + UPPER_INO_BASE);
    this.load();
  }

  private get top(): Inode {
    return (this.upper ?? this.lower) as Inode;
  }

  private load(): void {
    const t = this.top;
    this.mode = t.mode;
    this.uid = t.uid;
    this.gid = t.gid;
    this.nlink = t.nlink;
    this.rdev = t.rdev;
    this.atimeNs = t.atimeNs;
    this.mtimeNs = t.mtimeNs;
    this.ctimeNs = t.ctimeNs;
    this.btimeNs = t.btimeNs;
    // overlayfs: "nlink=1 seems to pacify 'find' and other utilities" for merged directories.
    if (this.upper !== null && this.upper.isDir && this.mergesLower()) this.nlink = 1;
  }

  override refresh(): void {
    this.top.refresh();
    this.load();
  }

  override size(): number {
    return this.top.size();
  }

  override statSize(): number {
    return this.top.statSize();
  }

  override blocks(): number {
    return this.top.blocks();
  }

  override blksize(): number {
    return this.top.blksize();
  }

  override readlink(): string | LinuxError {
    return this.top.readlink();
  }

  override getxattr(name: string): Uint8Array | LinuxError {
    return this.top.getxattr(this.fs.storedXattr(name));
  }

  override listxattr(): string[] | LinuxError {
    const names = this.top.listxattr();
    if (isError(names)) return names;
    const shown: string[] = [];
    for (const n of names) {
      const s = this.fs.shownXattr(n);
      if (s !== null) shown.push(s);
    }
    return shown;
  }

  override setxattr(name: string, value: Uint8Array, flags: number): LinuxError | undefined {
    const err = this.copyUpForChange();
    if (err) return err;
    const e = (this.upper as Inode).setxattr(this.fs.storedXattr(name), value, flags);
    this.load();
    return e;
  }

  override removexattr(name: string): LinuxError | undefined {
    const stored = this.fs.storedXattr(name);
    // Removing a name the file does not have must not copy it up.
    const has = this.top.getxattr(stored);
    if (isError(has)) return has;
    const err = this.copyUpForChange();
    if (err) return err;
    const e = (this.upper as Inode).removexattr(stored);
    this.load();
    return e;
  }

  /**
   * For a directory that is not merged (one layer only, or an opaque upper): that layer's
   * directory and whether it is the upper one; null for a merged directory.
   */
  realDir(): { dir: Inode; upper: boolean } | null {
    if (this.upper === null) return this.lower === null ? null : { dir: this.lower, upper: false };
    return this.mergesLower() ? null : { dir: this.upper, upper: true };
  }

  /**
   * Where this directory's lower part lies, from the lower root: its redirect if it was renamed,
   * else its parent's lower path and its name (lookup found it there).
   */
  private lowerPath(): string[] {
    const parent = this.parent;
    const isRoot = this === this.fs.root || !(parent instanceof OverlayNode) || parent === this;
    const r =
      this.upper !== null && !isRoot ? this.fs.redirectOf(this.upper, () => parent.lowerPath()) : undefined;
    if (r !== undefined) return [...r];
    if (isRoot) return [];
    return [...parent.lowerPath(), this.name];
  }

  /** True when the lower directory shows through this one. */
  private mergesLower(): boolean {
    return this.lower !== null && this.lower.isDir && (this.upper === null || !this.fs.isOpaque(this.upper));
  }

  /** Only names already merged are cached; anything else asks the layers. */
  override lookupCached(name: string): Inode | LinuxError | null {
    return this.children?.get(name) ?? null;
  }

  override lookup(name: string): Inode | LinuxError {
    const cached = this.children?.get(name);
    if (cached !== undefined) return cached;
    let up: Inode | null = null;
    if (this.upper !== null) {
      const u = this.upper.lookup(name);
      if (!isError(u)) {
        if (this.fs.isWhiteoutIn(this.upper, u)) return E.ENOENT;
        up = u;
      } else if (u !== E.ENOENT) return u;
    }
    let low: Inode | null = null;
    const redirect =
      up !== null && up.isDir && !this.fs.isOpaque(up)
        ? this.fs.redirectOf(up, () => this.lowerPath())
        : undefined;
    if (redirect !== undefined) {
      // A renamed directory: its lower part is where it came from, not under its new name.
      low = this.fs.lowerDirAt(redirect);
    } else if (this.mergesLower() && (up === null || up.isDir)) {
      const l = (this.lower as Inode).lookup(name);
      if (!isError(l)) {
        if (up === null || (l.isDir && !this.fs.isOpaque(up))) low = l;
      } else if (l !== E.ENOENT) return l;
    }
    if (up === null && low === null) return E.ENOENT;
    if (up !== null && low !== null && !low.isDir) low = null;
    return this.adopt(name, new OverlayNode(this.fs, up, low));
  }

  // ---------------------------------------------------------------------------------------------
  // Copy-up

  /** Copy up `child` (named `name` in this directory). */
  copyUpChild(name: string, child: OverlayNode): LinuxError | undefined {
    if (child.upper !== null) return undefined;
    const err = this.copyUpSelf();
    if (err) return err;
    const dir = this.upper as Inode;
    const low = child.lower as Inode;
    const whiteout = dir.lookup(name);
    if (!isError(whiteout) && this.fs.isWhiteoutIn(dir, whiteout)) {
      const e = dir.unlink(name, whiteout);
      if (e) return e;
    }
    const attrs: CreateAttrs = { mode: low.mode, uid: low.uid, gid: low.gid, rdev: low.rdev };
    let made: Inode | LinuxError;
    switch (low.mode & S_IFMT) {
      case S_IFREG:
        made = dir.create(name, attrs);
        if (!isError(made)) {
          const e = this.copyData(low, made);
          if (e) {
            dir.unlink(name, made);
            return e;
          }
        }
        break;
      case S_IFDIR:
        made = dir.mkdir(name, attrs);
        break;
      case S_IFLNK: {
        const t = low.readlink();
        if (isError(t)) return t;
        made = dir.symlink(name, t, attrs);
        break;
      }
      default:
        made = dir.mknod(name, attrs);
    }
    if (isError(made)) return made;
    made.setattr({ uid: low.uid, gid: low.gid, atimeNs: low.atimeNs, mtimeNs: low.mtimeNs });
    if (!made.isSymlink) made.setattr({ mode: low.mode & 0o7777 });
    const names = low.listxattr();
    if (!isError(names)) {
      for (const n of names) {
        // The lower layer's own overlay attributes stay behind (ovl_copy_xattr).
        if (this.fs.shownXattr(n) === null) continue;
        const v = low.getxattr(n);
        if (!isError(v)) made.setxattr(n, v, 0);
      }
    }
    this.fs.inoOfUpper.set(made, child.ino);
    child.upper = made;
    child.load();
    return undefined;
  }

  /** Copy up this directory (and its ancestors). */
  private copyUpSelf(): LinuxError | undefined {
    if (this.upper !== null) return undefined;
    const parent = this.parent;
    if (!(parent instanceof OverlayNode) || parent === this) return E.EIO;
    return parent.copyUpChild(this.name, this);
  }

  private copyData(from: Inode, to: Inode): LinuxError | undefined {
    const src = from.open(O_RDONLY | O_NOATIME);
    if (isError(src)) return src;
    const dst = to.open(2);
    if (isError(dst)) return dst;
    const rf = this.fs.layerFile(src, from, false);
    const wf = this.fs.layerFile(dst, to, true);
    const buf = new Uint8Array(Math.min(COPY_CHUNK, Math.max(from.size(), 1)));
    try {
      for (let off = 0; ;) {
        const n = src.read(buf, off, rf);
        if (typeof n !== 'number') return isError(n) ? n : E.EIO;
        if (n === 0) break;
        const w = dst.write(buf.subarray(0, n), off, wf);
        if (typeof w !== 'number') return isError(w) ? w : E.EIO;
        off += n;
      }
      const size = from.size();
      if (to.size() < size) to.truncate(size);
      return undefined;
    } finally {
      rf.release();
      wf.release();
    }
  }

  /** Copy this node up, for a change (through its parent, which knows its name). */
  private copyUpForChange(): LinuxError | undefined {
    if (this.upper !== null) return undefined;
    if (this.isDir) return this.copyUpSelf();
    const parent = this.fileParent;
    if (parent === null) return E.EIO;
    return parent.copyUpChild(this.fileName, this);
  }

  /** For a non-directory: where it was last looked up (copy-up needs a name). */
  fileParent: OverlayNode | null = null;
  fileName = '';

  // ---------------------------------------------------------------------------------------------
  // Directory changes

  /** The child node for a name after a change, cached so later lookups see the same object. */
  private adopt(name: string, node: OverlayNode): OverlayNode {
    if (node.isDir) {
      node.parent = this;
      node.name = name;
    } else {
      node.fileParent = this;
      node.fileName = name;
    }
    (this.children ??= new Map()).set(name, node);
    return node;
  }

  /** Prepare the upper directory for a new entry `name`: copy up, drop a whiteout. */
  private prepareName(name: string): { dir: Inode; hadWhiteout: boolean } | LinuxError {
    const err = this.copyUpSelf();
    if (err) return err;
    const dir = this.upper as Inode;
    const existing = dir.lookup(name);
    if (!isError(existing) && this.fs.isWhiteoutIn(dir, existing)) {
      const e = dir.unlink(name, existing);
      if (e) return e;
      return { dir, hadWhiteout: true };
    }
    return { dir, hadWhiteout: false };
  }

  private made(name: string, r: Inode | LinuxError): Inode | LinuxError {
    if (isError(r)) return r;
    this.refresh();
    return this.adopt(name, new OverlayNode(this.fs, r, null));
  }

  override create(name: string, attrs: CreateAttrs): Inode | LinuxError {
    const p = this.prepareName(name);
    if (isError(p)) return p;
    return this.made(name, p.dir.create(name, attrs));
  }

  override tmpfile(attrs: CreateAttrs): Inode | LinuxError {
    const err = this.copyUpSelf();
    if (err) return err;
    const r = (this.upper as Inode).tmpfile(attrs);
    if (isError(r)) return r;
    const node = new OverlayNode(this.fs, r, null);
    node.fileParent = this;
    return node;
  }

  override mkdir(name: string, attrs: CreateAttrs): Inode | LinuxError {
    const p = this.prepareName(name);
    if (isError(p)) return p;
    const r = p.dir.mkdir(name, attrs);
    // Made where a lower name was removed: whatever the lower layer has there stays hidden.
    if (!isError(r) && p.hadWhiteout) {
      const e = this.fs.markOpaque(r);
      if (e) {
        p.dir.rmdir(name, r);
        return e;
      }
    }
    return this.made(name, r);
  }

  override mknod(name: string, attrs: CreateAttrs): Inode | LinuxError {
    // ovl_create_object: a 0/0 character device is a whiteout, which the overlay never makes
    // on request.
    if ((attrs.mode & S_IFMT) === S_IFCHR && attrs.rdev === 0) return E.EPERM;
    const p = this.prepareName(name);
    if (isError(p)) return p;
    return this.made(name, p.dir.mknod(name, attrs));
  }

  override symlink(name: string, target: string, attrs: CreateAttrs): Inode | LinuxError {
    const p = this.prepareName(name);
    if (isError(p)) return p;
    return this.made(name, p.dir.symlink(name, target, attrs));
  }

  override link(name: string, target: Inode): LinuxError | undefined {
    if (!(target instanceof OverlayNode) || target.fs !== this.fs) return E.EXDEV;
    const err = target.copyUpForChange();
    if (err) return err;
    const p = this.prepareName(name);
    if (isError(p)) return p;
    const e = p.dir.link(name, target.upper as Inode);
    if (e) return e;
    target.refresh();
    this.refresh();
    this.adopt(name, target);
    return undefined;
  }

  /** Leave a whiteout for `name` in the upper directory. */
  private whiteout(name: string): LinuxError | undefined {
    return this.fs.makeWhiteout(this.upper as Inode, name);
  }

  override unlink(name: string, child: Inode): LinuxError | undefined {
    if (!(child instanceof OverlayNode)) return E.EIO;
    const err = this.copyUpSelf();
    if (err) return err;
    const dir = this.upper as Inode;
    if (child.upper !== null) {
      const e = dir.unlink(name, child.upper);
      if (e) return e;
    }
    if (child.lower !== null || (this.mergesLower() && !isError((this.lower as Inode).lookup(name)))) {
      const e = this.whiteout(name);
      if (e) return e;
    }
    this.children?.delete(name);
    child.refresh();
    if (child.upper === null) child.nlink = 0;
    this.refresh();
    return undefined;
  }

  /** The names the merged directory shows (whiteouts removed), with their overlay inode numbers. */
  mergedNames(): Map<string, { ino: number; type: number }> | LinuxError {
    const names = new Map<string, number>();
    const collect = (dir: Inode, upper: boolean): LinuxError | undefined => {
      const impl = dir.open(O_RDONLY);
      if (isError(impl)) return impl;
      const f = this.fs.layerFile(impl, dir, upper);
      const r = impl.getdents(
        2,
        (_ino, _off, type, name) => {
          if (name !== '.' && name !== '..' && !names.has(name)) names.set(name, type);
          return true;
        },
        f,
      );
      f.release();
      return isError(r) ? r : undefined;
    };
    if (this.upper !== null) {
      const e = collect(this.upper, true);
      if (e) return e;
    }
    if (this.mergesLower()) {
      const e = collect(this.lower as Inode, false);
      if (e) return e;
    }
    const out = new Map<string, { ino: number; type: number }>();
    for (const name of names.keys()) {
      const node = this.lookup(name);
      if (isError(node)) continue; // a whiteout
      out.set(name, { ino: node.ino, type: direntType(node.mode) });
    }
    return out;
  }

  override rmdir(name: string, child: Inode): LinuxError | undefined {
    if (!(child instanceof OverlayNode)) return E.EIO;
    const names = child.mergedNames();
    if (isError(names)) return names;
    if (names.size > 0) return E.ENOTEMPTY;
    const err = this.copyUpSelf();
    if (err) return err;
    const dir = this.upper as Inode;
    if (child.upper !== null) {
      // Remove the whiteouts it holds, then the directory.
      const up = child.upper;
      const cleared = this.fs.clearWhiteouts(up);
      if (cleared) return cleared;
      const e = dir.rmdir(name, up);
      if (e) return e;
    }
    if (child.lower !== null) {
      const e = this.whiteout(name);
      if (e) return e;
    }
    this.children?.delete(name);
    child.nlink = 0;
    this.refresh();
    return undefined;
  }

  override rename(
    oldName: string,
    moved: Inode,
    newDir: Inode,
    newName: string,
    replaced: Inode | null,
    exchange: boolean,
  ): LinuxError | undefined {
    if (!(moved instanceof OverlayNode) || !(newDir instanceof OverlayNode)) return E.EXDEV;
    const redirect = moved.isDir && moved.lower !== null;
    if (redirect && !this.fs.redirectDir) return E.EXDEV;
    if (exchange) {
      if (!(replaced instanceof OverlayNode)) return E.ENOENT;
      if (replaced.isDir && replaced.lower !== null && !this.fs.redirectDir) return E.EXDEV;
      const err = this.copyUpSelf() ?? newDir.copyUpSelf() ?? newDir.copyUpChild(newName, replaced);
      if (err) return err;
    }
    if (!exchange && replaced instanceof OverlayNode && replaced.isDir) {
      const names = replaced.mergedNames();
      if (isError(names)) return names;
      if (names.size > 0) return E.ENOTEMPTY;
      // An empty merged directory: its upper part may still hold whiteouts, which must go
      // before the upper rename can replace it (overlayfs clears it the same way).
      if (replaced.upper !== null) {
        const e = this.fs.clearWhiteouts(replaced.upper);
        if (e) return e;
      }
    }
    let err = this.copyUpSelf() ?? newDir.copyUpSelf();
    if (err) return err;
    // Computed before the move changes the nodes' parents and names.
    const lowerPath = redirect ? moved.lowerPath() : null;
    const swapped = exchange && replaced instanceof OverlayNode && replaced.isDir ? replaced : null;
    const swappedLowerPath = swapped !== null && swapped.lower !== null ? swapped.lowerPath() : null;
    err = this.copyUpChild(oldName, moved);
    if (err) return err;
    const p = newDir.prepareName(newName);
    if (isError(p)) return p;
    const upReplaced = replaced instanceof OverlayNode ? replaced.upper : null;
    err = (this.upper as Inode).rename(oldName, moved.upper as Inode, p.dir, newName, upReplaced, exchange);
    if (err) return err;
    if (lowerPath !== null) err = this.fs.setRedirect(moved.upper as Inode, lowerPath);
    else if (moved.isDir && newDir.mergesLower()) {
      // An upper-only directory moved into a merged one must not merge with a lower directory
      // of its new name: overlayfs marks it opaque.
      err = this.fs.markOpaque(moved.upper as Inode);
    }
    if (err) return err;
    if (swapped !== null) {
      if (swappedLowerPath !== null) err = this.fs.setRedirect(swapped.upper as Inode, swappedLowerPath);
      else if (this.mergesLower()) err = this.fs.markOpaque(swapped.upper as Inode);
      if (err) return err;
    }
    const lowerHadOld = this.mergesLower() && !isError((this.lower as Inode).lookup(oldName));
    if (!exchange && lowerHadOld) {
      err = this.whiteout(oldName);
      if (err) return err;
    }
    this.children?.delete(oldName);
    newDir.children?.delete(newName);
    if (exchange && replaced instanceof OverlayNode) this.adopt(oldName, replaced);
    newDir.adopt(newName, moved);
    if (replaced instanceof OverlayNode && !exchange) replaced.refresh();
    moved.refresh();
    this.refresh();
    newDir.refresh();
    return undefined;
  }

  // ---------------------------------------------------------------------------------------------
  // Files

  override setattr(attr: SetAttr): LinuxError | undefined {
    const err = this.copyUpForChange();
    if (err) return err;
    const e = (this.upper as Inode).setattr(attr);
    this.load();
    return e;
  }

  override truncate(size: number): LinuxError | undefined {
    return this.setattr({ size });
  }

  override open(flags: number): FileDescriptionImpl | LinuxError {
    if (this.isDir) return new OverlayDirFile(this);
    if ((flags & O_ACCMODE) !== O_RDONLY || (flags & O_TRUNC) !== 0) {
      const err = this.copyUpForChange();
      if (err) return err;
    }
    return this.top.open(flags);
  }
}

/** A merged directory listing, taken at offset 0 and indexed by position. */
class OverlayDirFile extends SnapshotDirFile {
  constructor(protected override readonly dir: OverlayNode) {
    super();
  }

  /**
   * ovl_dir_llseek: a directory of one layer seeks as that layer's directory does; a merged one
   * takes SEEK_SET and SEEK_CUR only (EINVAL otherwise).
   */
  override seek(file: FileDescription, offset: number, whence: number): number | LinuxError {
    const real = this.dir.realDir();
    if (real === null) {
      const pos = whence === SEEK_SET ? offset : whence === SEEK_CUR ? file.offset + offset : -1;
      return pos < 0 ? E.EINVAL : pos;
    }
    const impl = real.dir.open(O_RDONLY);
    if (isError(impl)) return impl;
    const f = this.dir.fs.layerFile(impl, real.dir, real.upper);
    f.offset = file.offset;
    try {
      return impl.seek(f, offset, whence);
    } finally {
      f.release();
    }
  }

  protected override list(): DirListEntry[] | LinuxError {
    const names = this.dir.mergedNames();
    if (isError(names)) return names;
    return [...names].map(([name, v]) => ({ name, ino: v.ino, type: v.type }));
  }
}
