/**
 * File change notification (Linux's fsnotify) and the inotify instance built on it.
 *
 * The VFS calls the `fsnotify*` hooks at each operation (open, read, write, close, create,
 * delete, rename, attribute changes, unmount); they cost one counter test while nobody watches.
 * A watch (an inotify instance's, see `inotify.ts`) is a mark on one inode; an event on an inode goes
 * to the inode's own watches, and (for the events Linux reports on children) to the watches of
 * the directory it was reached through, with the child's name.
 *
 * IN_DELETE_SELF comes when the last link of a file goes, or at the last close of a description
 * of it (mappings hold their description). Differences from Linux, kept on purpose: a removed
 * directory ends at once even if it is someone's cwd, and IN_UNMOUNT comes when the last mount
 * of a filesystem is detached, even if files of it are still open.
 *
 * @module
 */
import type { FileDescription } from './file.js';
import type { FilesystemImpl, Inode } from './inode.js';
import type { Location } from './types.js';

/** A file was read (read, getdents). (`<sys/inotify.h>`) */
export const IN_ACCESS = 0x1;
/** A file was written or truncated. */
export const IN_MODIFY = 0x2;
/** Metadata changed: mode, owner, times, link count, xattrs. */
export const IN_ATTRIB = 0x4;
/** A description opened for writing was closed. */
export const IN_CLOSE_WRITE = 0x8;
/** A description not opened for writing was closed. */
export const IN_CLOSE_NOWRITE = 0x10;
/** A file was opened. */
export const IN_OPEN = 0x20;
/** An entry was renamed away from the watched directory (with a cookie). */
export const IN_MOVED_FROM = 0x40;
/** An entry was renamed into the watched directory (same cookie). */
export const IN_MOVED_TO = 0x80;
/** An entry was created in the watched directory. */
export const IN_CREATE = 0x100;
/** An entry was removed from the watched directory. */
export const IN_DELETE = 0x200;
/** The watched file itself is gone (last link and last description). */
export const IN_DELETE_SELF = 0x400;
/** The watched file itself was renamed. */
export const IN_MOVE_SELF = 0x800;
/** The filesystem of the watched file was unmounted. */
export const IN_UNMOUNT = 0x2000;
/** Events were lost: the queue reached max_queued_events (wd -1). */
export const IN_Q_OVERFLOW = 0x4000;
/** The watch ended (inotify_rm_watch, deletion, unmount, IN_ONESHOT). */
export const IN_IGNORED = 0x8000;
/** inotify_add_watch: only watch a directory (ENOTDIR otherwise). */
export const IN_ONLYDIR = 0x1000000;
/** inotify_add_watch: do not follow a final symlink. */
export const IN_DONT_FOLLOW = 0x2000000;
/** No events about children after they were unlinked. */
export const IN_EXCL_UNLINK = 0x4000000;
/** inotify_add_watch: EEXIST if the inode is already watched. */
export const IN_MASK_CREATE = 0x10000000;
/** inotify_add_watch: add to the existing mask instead of replacing it. */
export const IN_MASK_ADD = 0x20000000;
/** Set in events whose subject is a directory. */
export const IN_ISDIR = 0x40000000;
/** The watch ends after its first event. */
export const IN_ONESHOT = 0x80000000;
/** Every event a watch may ask for. */
export const IN_ALL_EVENTS = 0xfff;
/** Every bit inotify_add_watch accepts (ALL_INOTIFY_BITS). */
export const ALL_INOTIFY_BITS =
  (IN_ALL_EVENTS |
    IN_UNMOUNT |
    IN_Q_OVERFLOW |
    IN_IGNORED |
    IN_ONLYDIR |
    IN_DONT_FOLLOW |
    IN_EXCL_UNLINK |
    IN_MASK_CREATE |
    IN_MASK_ADD |
    IN_ISDIR |
    IN_ONESHOT) >>>
  0;

/** Events a directory's watch hears about its children (FS_EVENTS_POSS_ON_CHILD). */
const ON_CHILD = IN_ACCESS | IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_CLOSE_NOWRITE | IN_OPEN;

/** What receives a watch's events (an inotify instance). */
export interface FsnotifyGroup {
  /** An event for watch `w` (the group filters by the watch's mask). */
  event(w: Watch, mask: number, cookie: number, name: string | null): void;
  /** Ends watch `w` (the inode is gone or unmounted): IN_IGNORED. */
  drop(w: Watch): void;
}

/** One watch: a mark of a group on an inode. */
export interface Watch {
  readonly owner: FsnotifyGroup;
  readonly wd: number;
  readonly inode: Inode;
  mask: number;
}

const marks = new WeakMap<Inode, Set<Watch>>();
/** Every live watch (for unmount), and so also the fast-path test. */
const allWatches = new Set<Watch>();

/** Puts mark `w` on its inode. */
export function addMark(w: Watch): void {
  let set = marks.get(w.inode);
  if (!set) marks.set(w.inode, (set = new Set()));
  set.add(w);
  allWatches.add(w);
}

/** Takes mark `w` off its inode. */
export function removeMark(w: Watch): void {
  marks.get(w.inode)?.delete(w);
  allWatches.delete(w);
}
let nextCookie = 0;

/** A fresh rename cookie (fsnotify_get_cookie). */
function cookie(): number {
  nextCookie = (nextCookie + 1) >>> 0;
  return nextCookie;
}

/** Delivers `mask` on `inode` to its own watches and, with `name`, to those of `parent`. */
function deliver(inode: Inode, mask: number, parent: Inode | null, name: string | null, ck = 0): void {
  if (allWatches.size === 0) return;
  const isDir = inode.isDir ? IN_ISDIR : 0;
  if (parent !== null && name !== null && (mask & ON_CHILD) !== 0) {
    const pw = marks.get(parent);
    if (pw) {
      for (const w of [...pw]) {
        // IN_EXCL_UNLINK: nothing about children that were unlinked while still open.
        if ((w.mask & IN_EXCL_UNLINK) !== 0 && inode.nlink === 0) continue;
        w.owner.event(w, mask | isDir, ck, name);
      }
    }
  }
  const own = marks.get(inode);
  if (own) for (const w of [...own]) w.owner.event(w, mask | isDir, ck, null);
}

/** IN_MOVE_SELF / IN_DELETE_SELF: to the inode's own watches, without IN_ISDIR (as Linux shows them). */
function deliverSelf(inode: Inode, mask: number): void {
  const own = marks.get(inode);
  if (own) for (const w of [...own]) w.owner.event(w, mask, 0, null);
}

/** An event about entry `name` of directory `dir` (create, delete, moves). */
function deliverName(dir: Inode, mask: number, name: string, isDir: boolean, ck = 0): void {
  if (allWatches.size === 0) return;
  const ws = marks.get(dir);
  if (ws) for (const w of [...ws]) w.owner.event(w, mask | (isDir ? IN_ISDIR : 0), ck, name);
}

/** The directory and name a location was reached through (for events reported to the parent). */
function parentOf(loc: Location): [Inode | null, string | null] {
  if (loc.parent !== undefined && loc.name !== undefined && !loc.name.startsWith('#'))
    return [loc.parent, loc.name];
  const inode = loc.inode;
  if (inode.isDir && inode.parent !== null && inode.parent !== inode) return [inode.parent, inode.name];
  return [null, null];
}

/** An event on the file at `loc` (open, access, modify, attrib, close). */
export function fsnotifyLocation(loc: Location, mask: number): void {
  if (allWatches.size === 0) return;
  const [p, n] = parentOf(loc);
  deliver(loc.inode, mask, p, n);
}

/** Open descriptions per inode: an unlinked file lives (no IN_DELETE_SELF yet) while one is open. */
const openCounts = new WeakMap<Inode, number>();
/** Unlinked files whose IN_DELETE_SELF waits for their last description to close. */
const deleteWhenClosed = new WeakSet<Inode>();

/** fsnotify_open: IN_OPEN for a description just opened (not O_PATH ones, which only hold the file). */
export function fsnotifyOpen(file: FileDescription): void {
  const inode = file.location.inode;
  openCounts.set(inode, (openCounts.get(inode) ?? 0) + 1);
  if (allWatches.size === 0 || file.isPath) return;
  fsnotifyLocation(file.location, IN_OPEN);
}

/**
 * fsnotify_close: IN_CLOSE_WRITE or IN_CLOSE_NOWRITE when a description is released, then
 * IN_DELETE_SELF if it was the last one of an unlinked file.
 */
export function fsnotifyClose(file: FileDescription): void {
  const inode = file.location.inode;
  const left = (openCounts.get(inode) ?? 1) - 1;
  if (left > 0) openCounts.set(inode, left);
  else openCounts.delete(inode);
  if (allWatches.size === 0) return;
  if (!file.isPath) fsnotifyLocation(file.location, file.writable ? IN_CLOSE_WRITE : IN_CLOSE_NOWRITE);
  if (left <= 0 && deleteWhenClosed.has(inode)) {
    deleteWhenClosed.delete(inode);
    inodeGone(inode, IN_DELETE_SELF);
  }
}

/** fsnotify_create / fsnotify_mkdir: IN_CREATE (with IN_ISDIR for a directory) on `dir`. */
export function fsnotifyCreate(dir: Inode, name: string, isDir: boolean): void {
  deliverName(dir, IN_CREATE, name, isDir);
}

/** fsnotify_link: IN_ATTRIB on the file (a link more) and IN_CREATE on the directory. */
export function fsnotifyLink(dir: Inode, name: string, inode: Inode): void {
  if (allWatches.size === 0) return;
  deliver(inode, IN_ATTRIB, null, null);
  deliverName(dir, IN_CREATE, name, false);
}

/**
 * After unlink/rmdir of `inode` from `dir`: IN_ATTRIB on a file (its link count changed), IN_DELETE
 * on the directory, then IN_DELETE_SELF and the end of its watches (IN_IGNORED) when it has no
 * link left.
 */
export function fsnotifyDelete(dir: Inode, name: string, inode: Inode, isDir: boolean): void {
  if (allWatches.size === 0) return;
  if (!isDir) deliver(inode, IN_ATTRIB, null, null);
  // Linux (tmpfs) reports the inode's end before the directory's IN_DELETE; an open file ends
  // at its last close.
  if (isDir || inode.nlink === 0) {
    if (!isDir && (openCounts.get(inode) ?? 0) > 0) deleteWhenClosed.add(inode);
    else inodeGone(inode, IN_DELETE_SELF);
  }
  deliverName(dir, IN_DELETE, name, isDir);
}

/** fsnotify_move: IN_MOVED_FROM/IN_MOVED_TO with one cookie, IN_MOVE_SELF on the moved file. */
export function fsnotifyMove(
  oldDir: Inode,
  oldName: string,
  newDir: Inode,
  newName: string,
  moved: Inode,
  replaced: Inode | null,
): void {
  if (allWatches.size === 0) return;
  const ck = cookie();
  deliverName(oldDir, IN_MOVED_FROM, oldName, moved.isDir, ck);
  deliverName(newDir, IN_MOVED_TO, newName, moved.isDir, ck);
  if (replaced !== null) deliver(replaced, IN_ATTRIB, null, null);
  deliverSelf(moved, IN_MOVE_SELF);
  if (replaced !== null && (replaced.isDir || replaced.nlink === 0)) {
    if (!replaced.isDir && (openCounts.get(replaced) ?? 0) > 0) deleteWhenClosed.add(replaced);
    else inodeGone(replaced, IN_DELETE_SELF);
  }
}

/** IN_UNMOUNT and IN_IGNORED for every watch on a file of `fs`, whose last mount went away. */
export function fsnotifyUnmount(fs: FilesystemImpl): void {
  for (const w of [...allWatches]) {
    if (w.inode.fs !== fs) continue;
    w.owner.event(w, IN_UNMOUNT | (w.inode.isDir ? IN_ISDIR : 0), 0, null);
    w.owner.drop(w);
  }
}

/** The inode is gone: `mask` (IN_DELETE_SELF) to its watches, which then end. */
function inodeGone(inode: Inode, mask: number): void {
  const own = marks.get(inode);
  if (!own) return;
  deliverSelf(inode, mask);
  for (const w of [...own]) w.owner.drop(w);
}
