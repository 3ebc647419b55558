/**
 * File locks (Linux's fs/locks.c): flock(2) locks owned by open file descriptions, POSIX record
 * locks (fcntl F_SETLK/F_SETLKW/F_GETLK) owned by a process, and open-file-description record
 * locks (F_OFD_*) owned by a description.
 *
 * Nothing blocks here: a conflicting request without "no wait" returns {@link WOULD_BLOCK}; the
 * kernel waits on {@link lockWaitQueue} (any unlock of the inode notifies it) and asks again.
 * The kernel's duties: call {@link releasePosixLocks} when a process closes any fd of a file
 * (POSIX locks go with it, as Linux does) and when it exits; flock and OFD locks go away in
 * {@link FileDescription.release}.
 *
 * @module
 */

import { E } from '@tsvisor/abi';
import type { LinuxError } from '@tsvisor/abi';
import { POLLIN, SEEK_CUR, SEEK_END, SEEK_SET } from './constants.js';
import type { FileDescription } from './file.js';
import type { Inode } from './inode.js';
import { WOULD_BLOCK, WaitQueue } from './wait.js';
import type { WouldBlock } from './wait.js';

/** l_type values. */
export const F_RDLCK = 0;
export const F_WRLCK = 1;
export const F_UNLCK = 2;
/** flock(2) operations. */
export const LOCK_SH = 1;
export const LOCK_EX = 2;
export const LOCK_NB = 4;
export const LOCK_UN = 8;

/** A struct flock as fcntl(2) passes it (whence-relative), or as F_GETLK answers it. */
export interface FlockRequest {
  type: number;
  whence: number;
  start: number;
  len: number;
  pid: number;
}

interface RecordLock {
  owner: object;
  pid: number;
  type: number;
  start: number;
  /** Inclusive; Infinity for "to end of file and beyond". */
  end: number;
}

class InodeLocks {
  readonly records: RecordLock[] = [];
  readonly flocks = new Map<FileDescription, number>();
  readonly waitQueue = new WaitQueue();
}

const table = new WeakMap<Inode, InodeLocks>();
/** Which owner each blocked F_SETLKW caller waits for (for EDEADLK). */
const waitingFor = new Map<object, object>();

function locksOf(inode: Inode): InodeLocks {
  let l = table.get(inode);
  if (l === undefined) {
    l = new InodeLocks();
    table.set(inode, l);
  }
  return l;
}

/** Where waiters for locks of `inode` are woken (POLLIN on every unlock). */
export function lockWaitQueue(inode: Inode): WaitQueue {
  return locksOf(inode).waitQueue;
}

/**
 * Implements flock(2) on a description. EWOULDBLOCK (EAGAIN) with LOCK_NB on conflict,
 * WOULD_BLOCK without it; EINVAL for a bad operation. Changing the lock type is not atomic (the
 * old lock is dropped first), as on Linux.
 */
export function flock(file: FileDescription, op: number): 0 | LinuxError | WouldBlock {
  if (file.isPath) return E.EBADF;
  const nb = (op & LOCK_NB) !== 0;
  const kind = op & ~LOCK_NB;
  if (kind !== LOCK_SH && kind !== LOCK_EX && kind !== LOCK_UN) return E.EINVAL;
  const l = locksOf(file.location.inode);
  const held = l.flocks.get(file);
  if (kind === LOCK_UN) {
    if (held !== undefined) {
      l.flocks.delete(file);
      l.waitQueue.notify(POLLIN);
    }
    return 0;
  }
  if (held === kind) return 0;
  if (held !== undefined) {
    l.flocks.delete(file);
    l.waitQueue.notify(POLLIN);
  }
  for (const [other, k] of l.flocks) {
    if (other !== file && (k === LOCK_EX || kind === LOCK_EX)) return nb ? E.EAGAIN : WOULD_BLOCK;
  }
  l.flocks.set(file, kind);
  return 0;
}

/** Absolute inclusive range of a request (EINVAL for a negative start or overflow). */
function rangeOf(file: FileDescription, req: FlockRequest): [number, number] | LinuxError {
  let base: number;
  switch (req.whence) {
    case SEEK_SET:
      base = 0;
      break;
    case SEEK_CUR:
      base = file.offset;
      break;
    case SEEK_END:
      base = file.location.inode.size();
      break;
    default:
      return E.EINVAL;
  }
  let start = base + req.start;
  let end: number;
  if (req.len > 0) end = start + req.len - 1;
  else if (req.len === 0) end = Infinity;
  else {
    end = start - 1;
    start += req.len;
  }
  if (start < 0 || !Number.isSafeInteger(start)) return E.EINVAL;
  if (end !== Infinity && !Number.isSafeInteger(end)) return E.EOVERFLOW;
  return [start, end];
}

function conflicts(a: RecordLock, owner: object, type: number, start: number, end: number): boolean {
  return a.owner !== owner && a.start <= end && start <= a.end && (a.type === F_WRLCK || type === F_WRLCK);
}

/**
 * Implements F_GETLK / F_OFD_GETLK: the first lock that would block `req` (with its owner's pid,
 * -1 for OFD locks), or `req` with type F_UNLCK when none would. A request of type F_UNLCK
 * reports the caller's own lock on the range (Linux 6.x).
 */
export function getRecordLock(
  file: FileDescription,
  owner: object,
  req: FlockRequest,
): FlockRequest | LinuxError {
  if (req.type !== F_RDLCK && req.type !== F_WRLCK && req.type !== F_UNLCK) return E.EINVAL;
  const r = rangeOf(file, req);
  if (!Array.isArray(r)) return r;
  const l = locksOf(file.location.inode);
  for (const a of l.records) {
    // Linux 6.x: F_UNLCK asks about the caller's own locks on the range.
    const hit =
      req.type === F_UNLCK
        ? a.owner === owner && a.start <= r[1] && r[0] <= a.end
        : conflicts(a, owner, req.type, r[0], r[1]);
    if (hit) {
      return {
        type: a.type,
        whence: SEEK_SET,
        start: a.start,
        len: a.end === Infinity ? 0 : a.end - a.start + 1,
        pid: a.pid,
      };
    }
  }
  return { ...req, type: F_UNLCK };
}

/**
 * Implements F_SETLK / F_SETLKW (and the F_OFD_ variants with the description as `owner` and
 * pid -1): set, change or remove (F_UNLCK) a lock on a range, merging and splitting the owner's
 * locks as Linux does. On conflict: EAGAIN when `wait` is false; with `wait`, EDEADLK when the
 * holder waits (directly or not) for `owner`, else WOULD_BLOCK. EBADF when the description's
 * access mode does not allow the lock type.
 */
export function setRecordLock(
  file: FileDescription,
  owner: object,
  pid: number,
  req: FlockRequest,
  wait: boolean,
): 0 | LinuxError | WouldBlock {
  if (file.isPath) return E.EBADF;
  const type = req.type;
  if (type !== F_RDLCK && type !== F_WRLCK && type !== F_UNLCK) return E.EINVAL;
  const r = rangeOf(file, req);
  if (!Array.isArray(r)) return r;
  if (type === F_RDLCK && !file.readable) return E.EBADF;
  if (type === F_WRLCK && !file.writable) return E.EBADF;
  const [start, end] = r;
  const l = locksOf(file.location.inode);
  if (type !== F_UNLCK) {
    for (const a of l.records) {
      if (!conflicts(a, owner, type, start, end)) continue;
      if (!wait) return E.EAGAIN;
      for (
        let o: object | undefined = a.owner, n = 0;
        o !== undefined && n < 64;
        o = waitingFor.get(o), n++
      ) {
        if (o === owner) return E.EDEADLK;
      }
      waitingFor.set(owner, a.owner);
      return WOULD_BLOCK;
    }
  }
  waitingFor.delete(owner);
  // Cut [start, end] out of the owner's locks, then add the new one merged with same-type
  // neighbours that touch it.
  // The list keeps Linux's order (what F_GETLK reports first): owners in the order they first
  // locked, each owner's locks by start.
  const others: RecordLock[] = [];
  const mine: RecordLock[] = [];
  let insertAt = -1;
  let newStart = start;
  let newEnd = end;
  let changed = false;
  for (const a of l.records) {
    if (a.owner !== owner) {
      others.push(a);
      continue;
    }
    if (insertAt < 0) insertAt = others.length;
    const touches =
      a.start <= (end === Infinity ? Infinity : end + 1) && (a.end === Infinity || a.end + 1 >= start);
    if (type !== F_UNLCK && a.type === type && touches) {
      newStart = Math.min(newStart, a.start);
      newEnd = Math.max(newEnd, a.end);
      changed = true;
      continue;
    }
    if (a.end < start || a.start > end) {
      mine.push(a);
      continue;
    }
    changed = true;
    if (a.start < start) mine.push({ ...a, end: start - 1 });
    if (a.end > end) mine.push({ ...a, start: end + 1 });
  }
  if (type !== F_UNLCK) mine.push({ owner, pid, type, start: newStart, end: newEnd });
  mine.sort((x, y) => x.start - y.start);
  if (insertAt < 0) insertAt = others.length;
  others.splice(insertAt, 0, ...mine);
  l.records.length = 0;
  l.records.push(...others);
  if (changed || type === F_UNLCK) l.waitQueue.notify(POLLIN);
  return 0;
}

/**
 * Drop every POSIX lock `owner` holds on the file of `file` (close(2) of any fd of the file by
 * that process, and exit).
 */
export function releasePosixLocks(inode: Inode, owner: object): void {
  const l = table.get(inode);
  waitingFor.delete(owner);
  if (l === undefined) return;
  const before = l.records.length;
  const kept = l.records.filter((a) => a.owner !== owner);
  if (kept.length === before) return;
  l.records.length = 0;
  l.records.push(...kept);
  l.waitQueue.notify(POLLIN);
}

/**
 * Forget that `owner` waits for a lock (its F_SETLKW wait was interrupted by a signal or it gave
 * up), so deadlock detection does not count the abandoned wait.
 */
export function cancelLockWait(owner: object): void {
  waitingFor.delete(owner);
}

/** Drop the flock and OFD locks of a description (called by its release). */
export function releaseDescriptionLocks(file: FileDescription): void {
  const inode = file.location.inode;
  const l = table.get(inode);
  if (l === undefined) return;
  if (l.flocks.delete(file)) l.waitQueue.notify(POLLIN);
  releasePosixLocks(inode, file);
}
