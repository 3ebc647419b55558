/**
 * Pipes and FIFOs (Linux's fs/pipe.c and fs/fifo.c): a byte ring with Linux's capacity,
 * PIPE_BUF atomicity, EOF and EPIPE rules, readiness for poll/epoll, and the FIFO open rules.
 *
 * Blocking is the kernel's job: a read of an empty pipe with writers, or a write that does not
 * fit, returns {@link WOULD_BLOCK} (EAGAIN with O_NONBLOCK, decided by {@link FileDescription}).
 * A blocking write larger than the free space writes what fits and returns the short count
 * (writes of at most PIPE_BUF bytes are never split); the kernel waits for POLLOUT and writes
 * the rest, which is Linux's pipe_write loop.
 *
 * EPIPE: a write with no reader returns E.EPIPE; the kernel then sends SIGPIPE to the writer.
 *
 * @module
 */

import { E, isError } from '@tsvisor/abi';
import type { LinuxError } from '@tsvisor/abi';
import { nowNs } from './clock.js';
import {
  CAP_SYS_RESOURCE,
  F_GETPIPE_SZ,
  F_SETPIPE_SZ,
  O_ACCMODE,
  O_NONBLOCK,
  O_RDONLY,
  O_RDWR,
  O_WRONLY,
  PIPE_DEF_SIZE,
  PIPE_MAX_SIZE,
  POLLERR,
  POLLHUP,
  POLLIN,
  POLLOUT,
  POLLRDNORM,
  POLLWRNORM,
  S_IFIFO,
} from './constants.js';
import { anonDev } from './devices.js';
import { FileDescription, FileDescriptionImpl } from './file.js';
import { Inode } from './inode.js';
import type { IOSequence } from './io-sequence.js';
import type { FilesystemImpl } from './inode.js';
import { Mount } from './mount.js';
import { simpleStatfs } from './stat.js';
import type { Creds, Location, Statfs } from './types.js';
import { capable } from './types.js';
import { WOULD_BLOCK, WaitQueue } from './wait.js';
import type { Waitable, WouldBlock } from './wait.js';

/** FIONREAD: bytes available to read. */
const FIONREAD = 0x541b;

const PAGE = 4096;

/** A reused buffer for gathering a transfer (pipes are served one call at a time). */
let stageBuf = new Uint8Array(16 * PAGE);

/** The first `n` bytes of the staging buffer, grown as needed. */
function staging(n: number): Uint8Array {
  if (stageBuf.length < n) stageBuf = new Uint8Array(Math.max(n, stageBuf.length * 2));
  return stageBuf.subarray(0, n);
}

/** One page of a pipe (Linux's pipe_buffer): bytes [start, end) of `data` are unread. */
interface PipeBuf {
  data: Uint8Array;
  start: number;
  end: number;
}

/**
 * The shared state of a pipe or FIFO: a ring of page buffers exactly as Linux keeps it, so
 * capacity, partial writes and readiness match byte for byte (a write merges into the last page
 * only when its sub-page remainder fits there; every other byte takes a fresh page; a page is
 * freed when fully read).
 */
export class Pipe {
  private bufs: PipeBuf[] = [];
  private first = 0;
  private spare: Uint8Array[] = [];
  private maxSlots: number;
  /** Bytes buffered. */
  length = 0;
  readers = 0;
  writers = 0;
  /** Opens for reading/writing ever made (FIFO open waits for these to change). */
  readCount = 0;
  writeCount = 0;
  readonly waitQueue = new WaitQueue();

  constructor(capacity = PIPE_DEF_SIZE) {
    this.maxSlots = capacity / PAGE;
  }

  /** The capacity in bytes (F_GETPIPE_SZ). */
  get capacity(): number {
    return this.maxSlots * PAGE;
  }

  private get slots(): number {
    return this.bufs.length - this.first;
  }

  /**
   * Read what is buffered into `dst`: 0 at EOF (no writers), WOULD_BLOCK when empty with writers.
   * A buffer of this process cannot fault, so the bytes go straight from the pages into `dst`.
   */
  read(dst: Uint8Array): number | WouldBlock {
    if (dst.length === 0) return 0;
    if (this.length === 0) return this.writers === 0 ? 0 : WOULD_BLOCK;
    const n = this.peek(dst);
    return this.drop(n, n);
  }

  /**
   * pipe_read into a sequence that may fault: a buffer's bytes are consumed only when all of
   * them that were asked for arrived, so a fault leaves them (even a partly copied piece) in the
   * pipe. The count of what was consumed, or `EFAULT` when nothing was. The bytes go out in one
   * copy (one host call for a task's memory), which reaches exactly as far as Linux's per-buffer
   * copies would.
   */
  readIO(dst: IOSequence): number | LinuxError | WouldBlock {
    const want = dst.length;
    if (want === 0) return 0;
    if (this.length === 0) return this.writers === 0 ? 0 : WOULD_BLOCK;
    const n = Math.min(want, this.length);
    const bufs = this.bufs;
    const stage = staging(n);
    for (let i = this.first, at = 0; at < n; i++) {
      const b = bufs[i] as PipeBuf;
      const k = Math.min(n - at, b.end - b.start);
      stage.set(b.data.subarray(b.start, b.start + k), at);
      at += k;
    }
    const got = dst.copyOut(stage);
    const done = this.drop(n, isError(got) ? 0 : got);
    return done === 0 ? E.EFAULT : done;
  }

  /**
   * Consumes the first `n` buffered bytes (a read that copied `reached` of them): each buffer's
   * share leaves only when all of it arrived. Returns how many left; wakes writers when any did.
   */
  private drop(n: number, reached: number): number {
    const bufs = this.bufs;
    let done = 0;
    while (done < n) {
      const b = bufs[this.first] as PipeBuf;
      const k = Math.min(n - done, b.end - b.start);
      if (done + k > reached) break;
      b.start += k;
      done += k;
      if (b.start === b.end) {
        this.spare.push(b.data);
        this.first++;
      }
    }
    if (this.first > 32 && this.first * 2 > bufs.length) {
      this.bufs = bufs.slice(this.first);
      this.first = 0;
    }
    if (done === 0) return 0;
    this.length -= done;
    this.waitQueue.notify(POLLOUT | POLLWRNORM);
    return done;
  }

  /**
   * The first `max` buffered bytes as views of the pipe's pages, neither copied nor consumed:
   * what splice(2) and tee(2) hand to their output, which copies them once; {@link consume}
   * then drops what the output took.
   */
  views(max: number): Uint8Array[] {
    const out: Uint8Array[] = [];
    let left = Math.min(max, this.length);
    for (let i = this.first; left > 0; i++) {
      const b = this.bufs[i] as PipeBuf;
      const k = Math.min(left, b.end - b.start);
      out.push(b.data.subarray(b.start, b.start + k));
      left -= k;
    }
    return out;
  }

  /** Drops the first `n` buffered bytes (at most what is buffered), as a read would; returns how many. */
  consume(n: number): number {
    const k = Math.min(Math.max(0, n), this.length);
    return k === 0 ? 0 : this.drop(k, k);
  }

  /**
   * Copies the first bytes buffered into `dst` without consuming them (what tee(2) duplicates);
   * returns how many.
   */
  peek(dst: Uint8Array): number {
    const n = Math.min(dst.length, this.length);
    for (let i = this.first, at = 0; at < n; i++) {
      const b = this.bufs[i] as PipeBuf;
      const k = Math.min(n - at, b.end - b.start);
      dst.set(b.data.subarray(b.start, b.start + k), at);
      at += k;
    }
    return n;
  }

  /**
   * Write `src`: EPIPE without readers; all of it, or what fits (see the module comment). A
   * buffer of this process cannot fault, so its bytes go straight into the pages.
   */
  write(src: Uint8Array): number | LinuxError | WouldBlock {
    return this.put(src.length, src);
  }

  /**
   * pipe_write from a sequence that may fault. As Linux: the sub-page remainder merged into the
   * last page must copy whole (else `EFAULT`); then each page is filled, and a page cut short by
   * a fault is dropped and ends the write with the count before it (`EFAULT` if none). What fits
   * is copied in at once and then cut into pages, with the same outcome.
   */
  writeIO(src: IOSequence): number | LinuxError | WouldBlock {
    return this.put(src.length, src);
  }

  /**
   * pipe_write of `total` bytes from `src`: a buffer of this process is read in place, a sequence
   * is copied in first (once, for all that fits).
   */
  private put(total: number, src: Uint8Array | IOSequence): number | LinuxError | WouldBlock {
    if (total === 0) return 0;
    if (this.readers === 0) return E.EPIPE;
    const rem = total & (PAGE - 1);
    const last = this.slots > 0 ? (this.bufs[this.bufs.length - 1] as PipeBuf) : undefined;
    const merge = last !== undefined && rem !== 0 && last.end + rem <= PAGE ? rem : 0;
    const n = Math.min(total, merge + (this.maxSlots - this.slots) * PAGE);
    if (n === 0) return WOULD_BLOCK;
    let stage: Uint8Array;
    let reached: number;
    if (src instanceof Uint8Array) {
      stage = src;
      reached = n;
    } else {
      stage = staging(n);
      const got = src.copyIn(stage);
      reached = isError(got) ? 0 : got;
    }
    let done = 0;
    if (merge > 0 && last !== undefined) {
      if (reached < merge) return E.EFAULT;
      last.data.set(stage.subarray(0, merge), last.end);
      last.end += merge;
      done = merge;
    }
    let fault = false;
    while (done < n) {
      const k = Math.min(PAGE, n - done);
      if (done + k > reached) {
        fault = true;
        break;
      }
      const data = this.spare.pop() ?? new Uint8Array(PAGE);
      data.set(stage.subarray(done, done + k), 0);
      this.bufs.push({ data, start: 0, end: k });
      done += k;
    }
    if (done === 0) return fault ? E.EFAULT : WOULD_BLOCK;
    this.length += done;
    this.waitQueue.notify(POLLIN | POLLRDNORM);
    return done;
  }

  /** F_SETPIPE_SZ: a power-of-two number of pages; EBUSY if the data would not fit. */
  resize(size: number, creds: Creds): number | LinuxError {
    if (size < 0 || size > 0x80000000) return E.EINVAL;
    let bytes = PAGE;
    while (bytes < size) bytes *= 2;
    if (bytes > PIPE_MAX_SIZE && !capable(creds, CAP_SYS_RESOURCE)) return E.EPERM;
    if (bytes / PAGE < this.slots) return E.EBUSY;
    this.maxSlots = bytes / PAGE;
    this.waitQueue.notify(POLLOUT | POLLWRNORM);
    return bytes;
  }

  /** Readiness of the read side. */
  readReadiness(mask: number): number {
    let ev = 0;
    if (this.length > 0) ev |= POLLIN | POLLRDNORM;
    if (this.writers === 0 && this.writeCount > 0) ev |= POLLHUP;
    return ev & (mask | POLLHUP);
  }

  /** Readiness of the write side. */
  writeReadiness(mask: number): number {
    let ev = 0;
    if (this.slots < this.maxSlots) ev |= POLLOUT | POLLWRNORM;
    if (this.readers === 0) ev |= POLLERR;
    return ev & (mask | POLLERR);
  }
}

/** One end (or both, for O_RDWR FIFOs) of a pipe as a file description implementation. */
export class PipeEnd extends FileDescriptionImpl {
  constructor(
    readonly pipe: Pipe,
    private readonly reads: boolean,
    private readonly writes: boolean,
    private readonly inode: Inode,
  ) {
    super();
  }

  override get stream(): boolean {
    return true;
  }

  override get nowait(): boolean {
    return true;
  }

  override read(dst: Uint8Array): number | LinuxError | WouldBlock {
    const n = this.pipe.read(dst);
    if (typeof n === 'number' && n > 0) this.inode.atimeNs = nowNs();
    return n;
  }

  override write(src: Uint8Array): number | LinuxError | WouldBlock {
    return this.wrote(this.pipe.write(src));
  }

  /** Bytes that did not reach the app stay in the pipe (see {@link Pipe.readIO}). */
  override readIO(dst: IOSequence): number | LinuxError | WouldBlock {
    const n = this.pipe.readIO(dst);
    if (typeof n === 'number' && n > 0) this.inode.atimeNs = nowNs();
    return n;
  }

  override writeIO(src: IOSequence): number | LinuxError | WouldBlock {
    return this.wrote(this.pipe.writeIO(src));
  }

  private wrote(n: number | LinuxError | WouldBlock): number | LinuxError | WouldBlock {
    if (typeof n === 'number' && n > 0) {
      const now = nowNs();
      this.inode.mtimeNs = now;
      this.inode.ctimeNs = now;
    }
    return n;
  }

  override readiness(mask: number): number {
    let ev = 0;
    if (this.reads) ev |= this.pipe.readReadiness(mask);
    if (this.writes) ev |= this.pipe.writeReadiness(mask);
    return ev;
  }

  override get waitQueue(): WaitQueue {
    return this.pipe.waitQueue;
  }

  override ioctl(cmd: number): number | LinuxError {
    if (cmd === FIONREAD) return this.pipe.length;
    return E.ENOTTY;
  }

  override fcntl(cmd: number, arg: number, file: FileDescription): number | LinuxError | undefined {
    if (cmd === F_GETPIPE_SZ) return this.pipe.capacity;
    if (cmd === F_SETPIPE_SZ) return this.pipe.resize(arg, file.creds);
    return undefined;
  }

  override fsync(): LinuxError | undefined {
    return E.EINVAL;
  }

  override release(): void {
    const p = this.pipe;
    if (this.reads) p.readers--;
    if (this.writes) p.writers--;
    p.waitQueue.notify(POLLIN | POLLOUT | POLLHUP | POLLERR | POLLRDNORM | POLLWRNORM);
  }
}

/** The pseudo filesystem anonymous pipes live on (st_dev of a pipe; "pipe:[ino]" names). */
class PipeFs implements FilesystemImpl {
  readonly type = 'pipefs';
  readonly dev = anonDev();
  readonly root: Inode;
  nextIno = 1;
  constructor() {
    this.root = new PipeInode(this, 0o040555, 0, 0);
    this.root.parent = this.root;
  }
  statfs(): Statfs {
    return simpleStatfs(0x50495045);
  }
}

class PipeInode extends Inode {
  constructor(
    readonly fs: PipeFs,
    mode: number,
    uid: number,
    gid: number,
  ) {
    super();
    this.ino = fs.nextIno++;
    this.mode = mode;
    this.uid = uid;
    this.gid = gid;
    const now = nowNs();
    this.atimeNs = now;
    this.mtimeNs = now;
    this.ctimeNs = now;
  }
}

/** The pipe of each FIFO (and anonymous pipe) inode: Linux's inode->i_pipe. */
const fifos = new WeakMap<Inode, Pipe>();

let pipeFs: PipeFs | null = null;
let pipeMount: Mount | null = null;

/**
 * Implements pipe2(2)'s VFS part: a new pipe's read and write descriptions (flags: O_NONBLOCK,
 * O_DIRECT is accepted and ignored (packet mode is not implemented), O_CLOEXEC is the caller's).
 * EINVAL for other flags.
 */
export function createPipe(creds: Creds, flags = 0): [FileDescription, FileDescription] | LinuxError {
  if ((flags & ~(O_NONBLOCK | 0o2000000 | 0o40000)) !== 0) return E.EINVAL;
  pipeFs ??= new PipeFs();
  pipeMount ??= new Mount(pipeFs, pipeFs.root, null, null, 0);
  const inode = new PipeInode(pipeFs, S_IFIFO | 0o600, creds.fsuid, creds.fsgid);
  const pipe = new Pipe();
  fifos.set(inode, pipe); // reopening through /proc/self/fd/N reaches the same pipe
  pipe.readers = 1;
  pipe.writers = 1;
  pipe.readCount = 1;
  pipe.writeCount = 1;
  const loc: Location = { mount: pipeMount, inode };
  const st = flags & O_NONBLOCK;
  const r = new FileDescription(new PipeEnd(pipe, true, false, inode), loc, O_RDONLY | st, creds);
  const w = new FileDescription(new PipeEnd(pipe, false, true, inode), loc, O_WRONLY | st, creds);
  return [r, w];
}

/** Waits for a FIFO's peer to open (the blocking part of fifo_open). */
class FifoOpenWait implements Waitable {
  constructor(
    private readonly pipe: Pipe,
    private readonly forReader: boolean,
    private readonly seen: number,
  ) {}
  readiness(mask: number): number {
    const p = this.pipe;
    const changed = this.forReader ? p.writeCount !== this.seen : p.readCount !== this.seen;
    return changed ? mask & POLLIN : 0;
  }
  get waitQueue(): WaitQueue {
    return this.pipe.waitQueue;
  }
}

/**
 * fifo_open: open the FIFO `loc` with Linux's rules. O_RDONLY waits for a writer unless
 * O_NONBLOCK; O_WRONLY waits for a reader, or fails with ENXIO under O_NONBLOCK; O_RDWR never
 * waits. A waiting open returns a description with `openWait` set. An anonymous pipe reopened
 * through /proc/self/fd/N (Linux's is_pipe: a pipefs inode) never waits and never fails with
 * ENXIO: its peer may be gone for good (`open("/dev/stdin")` after the writer closed reads the
 * data, then EOF).
 */
export function openFifo(loc: Location, flags: number, creds: Creds): FileDescription | LinuxError {
  let pipe = fifos.get(loc.inode);
  if (pipe === undefined) {
    pipe = new Pipe();
    fifos.set(loc.inode, pipe);
  }
  const acc = flags & O_ACCMODE;
  const nonblock = (flags & O_NONBLOCK) !== 0;
  const fifo = !(loc.inode instanceof PipeInode);
  if (acc === O_RDONLY) {
    const seen = pipe.writeCount;
    pipe.readers++;
    pipe.readCount++;
    pipe.waitQueue.notify(POLLIN | POLLOUT);
    const f = new FileDescription(new PipeEnd(pipe, true, false, loc.inode), loc, flags, creds);
    if (fifo && pipe.writers === 0 && !nonblock) f.openWait = new FifoOpenWait(pipe, true, seen);
    return f;
  }
  if (acc === O_WRONLY) {
    if (fifo && pipe.readers === 0 && nonblock) return E.ENXIO;
    const seen = pipe.readCount;
    pipe.writers++;
    pipe.writeCount++;
    pipe.waitQueue.notify(POLLIN | POLLOUT);
    const f = new FileDescription(new PipeEnd(pipe, false, true, loc.inode), loc, flags, creds);
    if (fifo && pipe.readers === 0) f.openWait = new FifoOpenWait(pipe, false, seen);
    return f;
  }
  if (acc === O_RDWR) {
    pipe.readers++;
    pipe.writers++;
    pipe.readCount++;
    pipe.writeCount++;
    pipe.waitQueue.notify(POLLIN | POLLOUT);
    return new FileDescription(new PipeEnd(pipe, true, true, loc.inode), loc, flags, creds);
  }
  return E.EINVAL;
}
