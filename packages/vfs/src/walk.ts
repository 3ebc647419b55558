/**
 * Path resolution (Linux's fs/namei.c): one walker that every path operation uses, so every
 * filesystem gets the same rules for `.`/`..`, mounts, symlinks, permissions and limits.
 *
 * @module
 */

import { E, isError, Resolve } from '@tsvisor/abi';
import type { LinuxError } from '@tsvisor/abi';
import { MAXSYMLINKS, NAME_MAX, PATH_MAX } from './constants.js';
import type { Inode } from './inode.js';
import type { Mount } from './mount.js';
import { MAY_EXEC, permission } from './permission.js';
import type { FsContext, Location } from './types.js';

const SLASH = 47;

const {
  RESOLVE_NO_XDEV,
  RESOLVE_NO_MAGICLINKS,
  RESOLVE_NO_SYMLINKS,
  RESOLVE_BENEATH,
  RESOLVE_IN_ROOT,
  RESOLVE_CACHED,
} = Resolve;
/** The resolve flags that make the dirfd the root of the walk (Linux's LOOKUP_IS_SCOPED). */
const SCOPED = RESOLVE_BENEATH | RESOLVE_IN_ROOT;

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
  /**
   * Where `..` stops and absolute symlinks lead: the caller's root, or the starting directory
   * under RESOLVE_BENEATH / RESOLVE_IN_ROOT (Linux's nd->root of a scoped lookup).
   */
  readonly root: Location;
  /**
   * Whether the walk has fetched its root yet (Linux's nd->root.mnt being set: at the start of
   * a scoped walk or an absolute path, at the first `..` or absolute symlink). Under
   * RESOLVE_NO_XDEV an absolute symlink before that point is EXDEV, as in nd_jump_root.
   */
  rootKnown: boolean;

  /**
   * @param resolve openat2(2)'s `RESOLVE_*` bits (0 for every other call); the caller checked
   * that only known bits are set and that BENEATH and IN_ROOT are not both set.
   */
  constructor(
    readonly ctx: FsContext,
    start: Location,
    readonly resolve = 0,
    root: Location = ctx.root,
    rootKnown = false,
  ) {
    this.mount = start.mount;
    this.inode = start.inode;
    this.root = root;
    this.rootKnown = rootKnown;
  }

  /**
   * Jump to the walk's root for an absolute symlink (nd_jump_root): EXDEV under RESOLVE_BENEATH,
   * and under RESOLVE_NO_XDEV when the root is on another mount than the walk or was not
   * fetched yet (see {@link Walk.rootKnown}).
   */
  toRoot(): LinuxError | undefined {
    if ((this.resolve & (RESOLVE_BENEATH | RESOLVE_NO_XDEV)) !== 0) {
      if ((this.resolve & RESOLVE_BENEATH) !== 0) return E.EXDEV;
      if (!this.rootKnown || this.mount !== this.root.mount) return E.EXDEV;
    }
    this.rootKnown = true;
    this.mount = this.root.mount;
    this.inode = this.root.inode;
    return undefined;
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
export function startWalk(
  ctx: FsContext,
  dir: Location | LinuxError,
  path: string,
  resolve = 0,
): Walk | LinuxError {
  const absolute = path.charCodeAt(0) === SLASH;
  if (resolve === 0) {
    if (absolute) return new Walk(ctx, ctx.root, 0, ctx.root, true);
  } else if ((resolve & SCOPED) !== 0) {
    // Scoped lookups (path_init with LOOKUP_IS_SCOPED): the dirfd is the root; an absolute path
    // is EXDEV under BENEATH and starts at the dirfd under IN_ROOT.
    if (absolute && (resolve & RESOLVE_BENEATH) !== 0) return E.EXDEV;
    if (isError(dir)) return dir;
    if (path.length > 0 && !dir.inode.isDir) return E.ENOTDIR;
    return new Walk(ctx, dir, resolve, dir, true);
  } else if (absolute) {
    return new Walk(ctx, ctx.root, resolve, ctx.root, true);
  }
  if (isError(dir)) return dir;
  if (path.length > 0 && !dir.inode.isDir) return E.ENOTDIR;
  return new Walk(ctx, dir, resolve);
}

/** Step into mounts stacked on the current inode (EXDEV under RESOLVE_NO_XDEV). */
function crossMounts(w: Walk): LinuxError | undefined {
  let m = w.mount;
  if (m.children.size === 0) return undefined;
  let sub = m.children.get(w.inode);
  if (sub !== undefined && (w.resolve & RESOLVE_NO_XDEV) !== 0) return E.EXDEV;
  while (sub !== undefined) {
    m = sub;
    w.mount = sub;
    w.inode = sub.root;
    sub = m.children.size === 0 ? undefined : m.children.get(sub.root);
  }
  return undefined;
}

/**
 * follow_dotdot: to the parent, never above the walk's root (EXDEV there under RESOLVE_BENEATH),
 * across mount boundaries (EXDEV under RESOLVE_NO_XDEV).
 */
export function dotdot(w: Walk): LinuxError | undefined {
  const root = w.root;
  w.rootKnown = true;
  for (;;) {
    if (w.mount === root.mount && w.inode === root.inode) {
      return (w.resolve & RESOLVE_BENEATH) !== 0 ? E.EXDEV : undefined;
    }
    if (w.inode === w.mount.root) {
      const parent = w.mount.parent;
      const mp = w.mount.mountpoint;
      if (parent === null || mp === null) return (w.resolve & RESOLVE_BENEATH) !== 0 ? E.EXDEV : undefined;
      w.mount = parent;
      w.inode = mp;
      if ((w.resolve & RESOLVE_NO_XDEV) !== 0) return E.EXDEV;
      continue;
    }
    break;
  }
  const p = w.inode.parent;
  if (p !== null) w.inode = p;
  return crossMounts(w);
}

/**
 * Look `name` up in the current directory (which the walk already may search). Returns the child
 * without moving; mounts on it are crossed by {@link enter}.
 */
export function lookupChild(w: Walk, name: string): Inode | LinuxError {
  if (name.length > NAME_MAX) return E.ENAMETOOLONG;
  if ((w.resolve & RESOLVE_CACHED) !== 0) {
    // RESOLVE_CACHED: what Linux's dcache cannot answer needs ->lookup, which may block: EAGAIN.
    return w.inode.lookupCached(name) ?? E.EAGAIN;
  }
  return w.inode.lookup(name);
}

/**
 * Move the walk onto `child` (a directory or other file found in the current directory), and
 * onto the mounts stacked on it (a non-directory may carry file bind mounts). Fails only with
 * EXDEV, when `child` is a mountpoint and the walk has RESOLVE_NO_XDEV.
 */
export function enter(w: Walk, child: Inode, name: string): LinuxError | undefined {
  if (!child.isDir) {
    // A file bind mount covers one link of a file: cross only when it is mounted on this one.
    const dir = w.inode;
    w.fileParent = dir;
    w.fileName = name;
    w.inode = child;
    const sub = w.mount.mountOn(child, dir, name);
    if (sub === undefined) return undefined;
    if ((w.resolve & RESOLVE_NO_XDEV) !== 0) return E.EXDEV;
    w.mount = sub;
    w.inode = sub.root;
    return crossMounts(w);
  }
  w.inode = child;
  return crossMounts(w);
}

/**
 * Follow the symlink `link` found in the current directory: count it (ELOOP after 40), then walk
 * its target from here (or from the root for an absolute target), following a final symlink too.
 */
export function followLink(w: Walk, link: Inode): LinuxError | undefined {
  if (++w.links > MAXSYMLINKS) return E.ELOOP;
  if ((w.resolve & RESOLVE_NO_SYMLINKS) !== 0) return E.ELOOP;
  const jump = link.magicLink(w.ctx);
  if (jump !== null) {
    const err = magicJumpAllowed(w, jump);
    if (err) return err;
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
  if (target.charCodeAt(0) === SLASH) {
    const e = w.toRoot();
    if (e) return e;
  }
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
    const err = w.toRoot();
    if (err) return err;
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
  if (name === '..') return dotdot(w);
  const child = lookupChild(w, name);
  if (isError(child)) return child;
  if (follow && child.isSymlink) return followLink(w, child);
  return enter(w, child, name);
}

/**
 * The checks Linux makes before a magic link's jump (the ECHILD of a lockless walk, then
 * nd_jump_link): EAGAIN under RESOLVE_CACHED, ELOOP under RESOLVE_NO_MAGICLINKS, EXDEV under
 * RESOLVE_NO_XDEV when the target is on another mount and under BENEATH / IN_ROOT always.
 */
export function magicJumpAllowed(w: Walk, jump: Location | LinuxError): LinuxError | undefined {
  const r = w.resolve;
  if (r === 0) return undefined;
  if ((r & RESOLVE_CACHED) !== 0) return E.EAGAIN;
  if (isError(jump)) return undefined;
  if ((r & RESOLVE_NO_MAGICLINKS) !== 0) return E.ELOOP;
  if ((r & RESOLVE_NO_XDEV) !== 0 && jump.mount !== w.mount) return E.EXDEV;
  if ((r & SCOPED) !== 0) return E.EXDEV;
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
