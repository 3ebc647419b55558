/**
 * Path resolution (Linux's fs/namei.c): one walker that every path operation uses, so every
 * filesystem gets the same rules for `.`/`..`, mounts, symlinks, permissions and limits.
 *
 * @module
 */

import { E, isError } from '@tsvisor/abi';
import type { LinuxError } from '@tsvisor/abi';
import { MAXSYMLINKS, NAME_MAX, PATH_MAX } from './constants.js';
import type { Inode } from './inode.js';
import type { Mount } from './mount.js';
import { MAY_EXEC, permission } from './permission.js';
import type { FsContext, Location } from './types.js';

const SLASH = 47;

/**
 * The state of one path walk: where it is, how many symlinks it followed, and whether the last
 * component had a trailing slash.
 */
export class Walk {
  mount: Mount;
  inode: Inode;
  links = 0;
  trailing = false;
  /** When standing on a non-directory: the directory it is in and its name there. */
  fileParent: Inode | null = null;
  fileName = '';

  constructor(
    readonly ctx: FsContext,
    start: Location,
  ) {
    this.mount = start.mount;
    this.inode = start.inode;
  }

  /** Jump to the caller's root (absolute paths and absolute symlinks). */
  toRoot(): void {
    this.mount = this.ctx.root.mount;
    this.inode = this.ctx.root.inode;
  }

  /** The current position as a location. */
  here(): Location {
    if (this.inode.isDir || this.fileParent === null) return { mount: this.mount, inode: this.inode };
    return { mount: this.mount, inode: this.inode, parent: this.fileParent, name: this.fileName };
  }
}

/**
 * Check a path argument as getname() does and cut it at a NUL (what the kernel copies from user
 * memory stops there): ENAMETOOLONG at PATH_MAX, ENOENT when empty (unless `emptyOk`).
 */
export function checkPath(path: string, emptyOk: boolean): string | LinuxError {
  const nul = path.indexOf('\0');
  if (nul >= 0) path = path.slice(0, nul);
  if (path.length >= PATH_MAX) return E.ENAMETOOLONG;
  if (path.length === 0 && !emptyOk) return E.ENOENT;
  return path;
}

/**
 * Start a walk of `path` (already checked) relative to `dir` (ignored for absolute paths; an
 * error there is returned only when the path needs it, as Linux reports a bad dirfd).
 */
export function startWalk(ctx: FsContext, dir: Location | LinuxError, path: string): Walk | LinuxError {
  if (path.charCodeAt(0) === SLASH) {
    const w = new Walk(ctx, ctx.root);
    return w;
  }
  if (isError(dir)) return dir;
  if (path.length > 0 && !dir.inode.isDir) return E.ENOTDIR;
  return new Walk(ctx, dir);
}

/** Step into mounts stacked on the current directory. */
function crossMounts(w: Walk): void {
  let m = w.mount;
  if (m.children.size === 0) return;
  let sub = m.children.get(w.inode);
  while (sub !== undefined) {
    m = sub;
    w.mount = sub;
    w.inode = sub.root;
    sub = m.children.size === 0 ? undefined : m.children.get(sub.root);
  }
}

/** follow_dotdot: to the parent, never above the caller's root, across mount boundaries. */
export function dotdot(w: Walk): void {
  const root = w.ctx.root;
  for (;;) {
    if (w.mount === root.mount && w.inode === root.inode) return;
    if (w.inode === w.mount.root) {
      const parent = w.mount.parent;
      const mp = w.mount.mountpoint;
      if (parent === null || mp === null) return;
      w.mount = parent;
      w.inode = mp;
      continue;
    }
    break;
  }
  const p = w.inode.parent;
  if (p !== null) w.inode = p;
  crossMounts(w);
}

/**
 * Look `name` up in the current directory (which the walk already may search). Returns the child
 * without moving; mounts on it are crossed by {@link enter}.
 */
export function lookupChild(w: Walk, name: string): Inode | LinuxError {
  if (name.length > NAME_MAX) return E.ENAMETOOLONG;
  return w.inode.lookup(name);
}

/** Move the walk onto `child` (a directory or other file found in the current directory). */
export function enter(w: Walk, child: Inode, name: string): void {
  if (!child.isDir) {
    w.fileParent = w.inode;
    w.fileName = name;
  }
  w.inode = child;
  if (child.isDir) crossMounts(w);
}

/**
 * Follow the symlink `link` found in the current directory: count it (ELOOP after 40), then walk
 * its target from here (or from the root for an absolute target), following a final symlink too.
 */
export function followLink(w: Walk, link: Inode): LinuxError | undefined {
  if (++w.links > MAXSYMLINKS) return E.ELOOP;
  const jump = link.magicLink(w.ctx);
  if (jump !== null) {
    if (isError(jump)) return jump;
    w.mount = jump.mount;
    w.inode = jump.inode;
    w.fileParent = jump.parent ?? null;
    w.fileName = jump.name ?? '';
    return undefined;
  }
  const target = link.readlink();
  if (isError(target)) return target;
  if (target.length === 0) return E.ENOENT;
  if (target.charCodeAt(0) === SLASH) w.toRoot();
  const saved = w.trailing;
  const last = walkParent(w, target);
  if (isError(last)) return last;
  const err = stepLast(w, last, true);
  w.trailing = saved || w.trailing;
  return err;
}

/**
 * Walk every component of `path` but the last, following symlinks, and return the last one
 * (`''` when the path is only slashes, i.e. the walk stands on the root). Sets `w.trailing` when
 * the last component is followed by slashes. The current directory must be searchable for every
 * component (EACCES), and each intermediate one must be a directory (ENOTDIR).
 */
export function walkParent(w: Walk, path: string): string | LinuxError {
  const n = path.length;
  let i = 0;
  if (path.charCodeAt(0) === SLASH) {
    w.toRoot();
    while (i < n && path.charCodeAt(i) === SLASH) i++;
  }
  w.trailing = false;
  if (i >= n) return '';
  for (;;) {
    const err = permission(w.ctx.creds, w.inode, MAY_EXEC);
    if (err) return err;
    let j = path.indexOf('/', i);
    if (j < 0) j = n;
    const name = path.slice(i, j);
    let k = j;
    while (k < n && path.charCodeAt(k) === SLASH) k++;
    if (k >= n) {
      w.trailing = j < n;
      return name;
    }
    const e2 = stepLast(w, name, true);
    if (e2) return e2;
    if (!w.inode.isDir) return E.ENOTDIR;
    i = k;
  }
}

/**
 * Step through one component (`.`, `..` or a name), following a symlink if `follow`. The walk
 * then stands on the result.
 */
export function stepLast(w: Walk, name: string, follow: boolean): LinuxError | undefined {
  if (name === '' || name === '.') return undefined;
  if (name === '..') {
    dotdot(w);
    return undefined;
  }
  const child = lookupChild(w, name);
  if (isError(child)) return child;
  if (follow && child.isSymlink) return followLink(w, child);
  enter(w, child, name);
  return undefined;
}

/**
 * Resolve a whole path to a location: follow a final symlink when `follow` (always with a
 * trailing slash), and require a directory when the path ends in a slash (ENOTDIR).
 * The result remembers the parent and name of a non-directory.
 */
export function resolve(w: Walk, path: string, follow: boolean): Location | LinuxError {
  const last = walkParent(w, path);
  if (isError(last)) return last;
  const trailing = w.trailing;
  if (last === '' || last === '.' || last === '..') {
    const err = stepLast(w, last, true);
    if (err) return err;
    return w.here();
  }
  const err = stepLast(w, last, follow || trailing);
  if (err) return err;
  if ((trailing || w.trailing) && !w.inode.isDir) return E.ENOTDIR;
  return w.here();
}
