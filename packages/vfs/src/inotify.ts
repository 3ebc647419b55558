/**
 * The inotify instance: the file behind an inotify fd (inotify_init1(2)), with its watches and
 * the queue of events that read(2) returns. Events come from the VFS's hooks (`fsnotify.ts`).
 *
 * @module
 */
import { E, type LinuxError } from '@tsvisor/abi';
import { POLLIN, POLLRDNORM } from './constants.js';
import { FileDescriptionImpl, type FileDescription } from './file.js';
import {
  IN_ALL_EVENTS,
  IN_IGNORED,
  IN_ISDIR,
  IN_MASK_ADD,
  IN_MASK_CREATE,
  IN_DONT_FOLLOW,
  IN_ONESHOT,
  IN_ONLYDIR,
  IN_Q_OVERFLOW,
  IN_UNMOUNT,
  addMark,
  removeMark,
  type FsnotifyGroup,
  type Watch,
} from './fsnotify.js';
import type { Inode } from './inode.js';
import { WOULD_BLOCK, WaitQueue, type WouldBlock } from './wait.js';

/** struct inotify_event without the name: wd, mask, cookie, len. */
const EVENT_HEADER = 16;
const FIONREAD = 0x541b;

/** One queued event. */
interface QueuedEvent {
  readonly wd: number;
  readonly mask: number;
  readonly cookie: number;
  readonly name: string | null;
  /** Bytes it takes in read(2)'s buffer. */
  readonly size: number;
}

function eventSize(name: string | null): number {
  if (name === null) return EVENT_HEADER;
  const len = Buffer.byteLength(name, 'latin1') + 1;
  return EVENT_HEADER + Math.ceil(len / EVENT_HEADER) * EVENT_HEADER;
}

/** The limits of an inotify instance (/proc/sys/fs/inotify). */
export interface InotifyLimits {
  /** max_queued_events: events past it are dropped for one IN_Q_OVERFLOW. */
  readonly maxQueuedEvents: number;
  /** max_user_watches: inotify_add_watch past it gives ENOSPC. */
  readonly maxWatches: number;
}

/**
 * An inotify instance (the file behind an inotify fd): watches by descriptor and the event
 * queue read(2) returns. Readable (POLLIN) while events are queued.
 *
 * @example
 * ```ts
 * const ino = new InotifyInstance({ maxQueuedEvents: 16384, maxWatches: 8192 });
 * const wd = ino.addWatch(dirLocation.inode, IN_CREATE); // 1
 * vfs.mkdirat(ctx, ctx.cwd, '/dir/sub', 0o755); // queues IN_CREATE|IN_ISDIR "sub"
 * ```
 */
export class InotifyInstance extends FileDescriptionImpl implements FsnotifyGroup {
  private readonly queue: QueuedEvent[] = [];
  private queuedBytes = 0;
  private overflowQueued = false;
  private readonly watches = new Map<number, Watch>();
  private readonly byInode = new Map<Inode, Watch>();
  private nextWd = 1;
  private readonly wq = new WaitQueue();

  constructor(readonly limits: InotifyLimits) {
    super();
  }

  /**
   * inotify_add_watch's update: a new watch (ENOSPC past the limit), or the existing one of the
   * inode with its mask replaced, or extended with IN_MASK_ADD (EEXIST with IN_MASK_CREATE).
   * Returns the watch descriptor.
   */
  addWatch(inode: Inode, mask: number): number | LinuxError {
    const events = (mask & ~(IN_MASK_ADD | IN_MASK_CREATE | IN_ONLYDIR | IN_DONT_FOLLOW)) >>> 0;
    const old = this.byInode.get(inode);
    if (old !== undefined) {
      if ((mask & IN_MASK_CREATE) !== 0) return E.EEXIST;
      old.mask = ((mask & IN_MASK_ADD) !== 0 ? old.mask | events : events) >>> 0;
      return old.wd;
    }
    if (this.watches.size >= this.limits.maxWatches) return E.ENOSPC;
    const w: Watch = { owner: this, wd: this.nextWd++, inode, mask: events };
    this.watches.set(w.wd, w);
    this.byInode.set(inode, w);
    addMark(w);
    return w.wd;
  }

  /** inotify_rm_watch: IN_IGNORED for the watch, which ends. EINVAL for an unknown wd. */
  removeWatch(wd: number): LinuxError | undefined {
    const w = this.watches.get(wd);
    if (w === undefined) return E.EINVAL;
    this.drop(w);
    return undefined;
  }

  /** Ends watch `w` with IN_IGNORED. */
  drop(w: Watch): void {
    if (this.watches.get(w.wd) !== w) return;
    this.watches.delete(w.wd);
    this.byInode.delete(w.inode);
    removeMark(w);
    this.push(w.wd, IN_IGNORED, 0, null);
  }

  /** An event for watch `w`, if its mask wants it. */
  event(w: Watch, mask: number, ck: number, name: string | null): void {
    const wanted = mask & IN_ALL_EVENTS;
    const always = mask & (IN_UNMOUNT | IN_IGNORED);
    if ((wanted & w.mask) === 0 && always === 0) return;
    this.push(w.wd, (wanted & w.mask) | always | (mask & IN_ISDIR), ck, name);
    if ((w.mask & IN_ONESHOT) !== 0 && always === 0) this.drop(w);
  }

  private push(wd: number, mask: number, ck: number, name: string | null): void {
    // Identical to the last queued event: merged (inotify_merge).
    const last = this.queue[this.queue.length - 1];
    if (last && last.wd === wd && last.mask === mask && last.cookie === ck && last.name === name) return;
    if (this.queue.length >= this.limits.maxQueuedEvents) {
      if (this.overflowQueued) return;
      this.overflowQueued = true;
      wd = -1;
      mask = IN_Q_OVERFLOW;
      ck = 0;
      name = null;
    }
    const size = eventSize(name);
    this.queue.push({ wd, mask: mask >>> 0, cookie: ck, name, size });
    this.queuedBytes += size;
    this.wq.notify(POLLIN | POLLRDNORM);
  }

  /** Bytes of the queued events (FIONREAD). */
  get pendingBytes(): number {
    return this.queuedBytes;
  }

  /** Whole events that fit in `dst`; EINVAL if even the first does not. */
  override read(dst: Uint8Array): number | LinuxError | WouldBlock {
    if (this.queue.length === 0) return WOULD_BLOCK;
    let off = 0;
    const view = new DataView(dst.buffer, dst.byteOffset, dst.byteLength);
    while (this.queue.length > 0) {
      const ev = this.queue[0]!;
      if (off + ev.size > dst.length) break;
      view.setInt32(off, ev.wd, true);
      view.setUint32(off + 4, ev.mask, true);
      view.setUint32(off + 8, ev.cookie, true);
      view.setUint32(off + 12, ev.size - EVENT_HEADER, true);
      dst.fill(0, off + EVENT_HEADER, off + ev.size);
      if (ev.name !== null) dst.set(Buffer.from(ev.name, 'latin1'), off + EVENT_HEADER);
      off += ev.size;
      this.queue.shift();
      this.queuedBytes -= ev.size;
      if (ev.mask === IN_Q_OVERFLOW && ev.wd === -1) this.overflowQueued = false;
    }
    return off === 0 ? E.EINVAL : off;
  }

  override write(): number | LinuxError {
    return E.EINVAL;
  }

  override readiness(mask: number): number {
    return this.queue.length > 0 ? mask & (POLLIN | POLLRDNORM) : 0;
  }

  override get waitQueue(): WaitQueue {
    return this.wq;
  }

  override get stream(): boolean {
    return true;
  }

  /** FIONREAD: the bytes queued. */
  override ioctl(cmd: number): number | LinuxError {
    return cmd === FIONREAD ? this.queuedBytes : E.ENOTTY;
  }

  /** Closing the instance ends its watches (without events: nobody can read them). */
  override release(): void {
    for (const w of this.watches.values()) removeMark(w);
    this.watches.clear();
    this.byInode.clear();
  }
}

/** The inotify instance behind a description, or EINVAL (inotify_add_watch on another fd). */
export function inotifyOf(file: FileDescription): InotifyInstance | LinuxError {
  return file.impl instanceof InotifyInstance ? file.impl : E.EINVAL;
}
