/**
 * File syscalls over `@tsvisor/vfs`: open/close, read/write and their vector and positional
 * forms, lseek, dup family, fcntl, ioctl, the stat family, getdents64, the path operations
 * (mkdir, unlink, rename, symlink, link, readlink, access, chmod, chown, utimensat, truncate),
 * getcwd/chdir/fchdir, pipe2 and close_range.
 *
 * Blocking: the VFS never blocks; it answers WOULD_BLOCK and the handler waits on the
 * description's wait queue, so a signal interrupts with ERESTARTSYS (restarted under SA_RESTART).
 *
 * @module
 */
import {
  Capability,
  E,
  Mode,
  PollEvent,
  SiCode,
  SockType,
  Signal,
  isError,
  stat as statStruct,
  statfs as statfsStruct,
  statx as statxStruct,
  timespec,
  Dirent64Writer,
  OPEN_HOW_SIZE_VER0,
  PAGE_SIZE,
  parseOpenHow,
  type LinuxError,
  At,
  LockType,
  OpenFlag,
} from '@tsvisor/abi';
import {
  CLOSE_RANGE_UNSHARE,
  ERESTARTSYS,
  type ControlResult,
  MAX_RW_COUNT,
  accessOk,
  capable,
  type Iovec,
  type Task,
} from '@tsvisor/kernel';
import {
  WOULD_BLOCK,
  checkOpenHow,
  createPipe,
  flock as vfsFlock,
  getRecordLock,
  lockWaitQueue,
  setRecordLock,
  type Waitable,
  type FileDescription,
  type Stat,
  type Statfs,
  type Timespec as VfsTimespec,
  type WouldBlock,
  type IOSequence,
  UserIOSequence,
} from '@tsvisor/vfs';
import { writeStream, writeStreamFrom, type WriteOutcome } from './stream-write.js';
import { SocketImpl } from './sys-socket-file.js';
import { readStruct, writeStruct } from './user-structs.js';
import { ttyIoCheck, ttyIoctl } from './sys-tty.js';
import { lingerOnClose, socketIoctl } from './sys-socket.js';
import { nsIoctl } from './sys-nsfs.js';
import {
  F_OWNER_PGRP,
  F_OWNER_PID,
  asyncSignalOf,
  noteReadBlocked,
  noteWriteBlocked,
  ownerOf,
  readerAsleep,
  setAsyncSignal,
  setOwner,
  supportsAsync,
  syncAsync,
} from './fasync.js';
import { hostBlockingIo, hostSocketWrite } from './sys-socket-host.js';
import { socketBlockingIo, socketSendTimeout, socketStreamRead, type SendTimeout } from './socket-timeout.js';
import {
  ctxOf,
  dirOf,
  fileAt,
  filesOf,
  nofile,
  pathArg,
  pathBytes,
  realCreds,
  vfsOf,
  waitReady,
} from './vfs-context.js';
import {
  FULL,
  MAX_SAFE_N,
  int,
  long,
  partial,
  ptr,
  size,
  uint,
  type SyscallArgs,
  type SyscallFamily,
  type SyscallHandler,
  type SyscallResult,
} from './types.js';

const F_DUPFD = 0;
const F_GETFD = 1;
const F_SETFD = 2;
const F_GETFL = 3;
const F_SETFL = 4;
const F_DUPFD_CLOEXEC = 1030;
const FD_CLOEXEC = 1;
const FIONCLEX = 0x5450;
const FIOCLEX = 0x5451;
const FIONBIO = 0x5421;
const FIOASYNC = 0x5452;
const FIONREAD = 0x541b;
const LOCK_SH = 1;
const LOCK_EX = 2;
const LOCK_NB = 4;
const LOCK_UN = 8;
/** Obsolete mandatory flock bit: ignored. */
const LOCK_MAND = 32;
const F_GETLK = 5;
const F_SETLK = 6;
const F_SETLKW = 7;
const F_OFD_GETLK = 36;
const F_OFD_SETLK = 37;
const F_OFD_SETLKW = 38;
const F_SETPIPE_SZ = 1031;
const F_NOTIFY = 1026;
const DN_MULTISHOT = 0x80000000n;
const F_GETPIPE_SZ = 1032;
const F_SETOWN = 8;
const F_GETOWN = 9;
const F_SETSIG = 10;
const F_GETSIG = 11;
const F_SETOWN_EX = 15;
const F_GETOWN_EX = 16;

type IoResult = number | LinuxError | WouldBlock;

/** Runs a VFS operation until it stops answering WOULD_BLOCK, waiting for `events` in between. */
async function blocking(
  t: Task,
  file: FileDescription,
  events: number,
  op: () => IoResult,
): Promise<SyscallResult> {
  for (;;) {
    const r = op();
    if (r !== WOULD_BLOCK) return r;
    const why = await waitReady(t, file, events);
    t.kernel.current = t; // others ran meanwhile (signalfd reads the current task's signals)
    if (why === 'interrupted') {
      // Data that arrived with the signal is still returned, as pipe_read checks before it gives up.
      const last = op();
      return last === WOULD_BLOCK ? ERESTARTSYS : last;
    }
  }
}

function maybeBlocking(
  t: Task,
  file: FileDescription,
  events: number,
  op: () => IoResult,
): SyscallResult | Promise<SyscallResult> {
  const r = op();
  if (r !== WOULD_BLOCK) return r;
  return waitAndRetry(t, file, events, op);
}

/** The wait of {@link maybeBlocking} once `op` answered WOULD_BLOCK. */
function waitAndRetry(
  t: Task,
  file: FileDescription,
  events: number,
  op: () => IoResult,
): Promise<SyscallResult> {
  // A host socket waits its own way (network mode host: SO_RCVTIMEO, host error queues); a
  // netstack socket with a timeout gives up after it.
  return (
    hostBlockingIo(t, file, events, op) ??
    socketBlockingIo(t, file, events, op) ??
    blocking(t, file, events, op)
  );
}

/** EPIPE from a write also sends SIGPIPE to the writer, as Linux does. */
function sigpipe(t: Task, r: SyscallResult): SyscallResult {
  if (r === E.EPIPE)
    t.kernel.sendToTask(t, { signo: Signal.SIGPIPE, code: SiCode.SI_USER, pid: t.tgid, uid: t.creds.uid });
  return r;
}

/** The largest transfer of one read/write call (16 MiB). */
const IO_CHUNK = 16 << 20;

const LLONG_MAX = (1n << 63n) - 1n;

/**
 * rw_verify_area: `EINVAL` when the transfer would start at a negative position or end past
 * LLONG_MAX (with the whole requested count, before clamping). Streams have no position to check.
 * `pos` null is the file position.
 */
function verifyArea(file: FileDescription, pos: bigint | null, count: bigint): LinuxError | undefined {
  if (file.impl.stream) return undefined;
  // The file position is a safe integer, so with a count below 2^53 the end is far below
  // LLONG_MAX: read(2) and write(2) need no bigint arithmetic.
  if (pos === null) {
    if (file.offset >= 0 && count <= MAX_SAFE_N) return undefined;
    pos = BigInt(file.offset);
  }
  if (pos < 0n || pos + count > LLONG_MAX) return E.EINVAL;
  return undefined;
}

/**
 * The checks vfs_read and vfs_write do before any byte moves, in their order: `EBADF` without
 * the access (`allowed`: the description is readable, or writable), `EFAULT` when the whole
 * requested range leaves user space (access_ok), `EINVAL` (rw_verify_area at `pos`, null for the
 * file position). Returns the byte count the call moves: at most Linux's MAX_RW_COUNT, and at
 * most {@link IO_CHUNK} so a huge count never makes the supervisor allocate gigabytes (the call
 * then transfers less, which read(2)/write(2) allow and callers loop on).
 */
function ioLength(
  allowed: boolean,
  file: FileDescription,
  addr: number,
  count: bigint,
  pos: bigint | null,
): number | LinuxError {
  if (!allowed) return E.EBADF;
  const n = size(count);
  if (!accessOk(addr, n)) return E.EFAULT;
  return verifyArea(file, pos, count) ?? Math.min(n, MAX_RW_COUNT, IO_CHUNK);
}

/** The app's buffer `[addr, addr+len)` as an I/O sequence: the file copies to or from it itself. */
function userBuffer(t: Task, addr: number, len: number): UserIOSequence {
  return new UserIOSequence(t.memory, { base: addr, len });
}

/** implements read(2). */
function read(t: Task, a: SyscallArgs): SyscallResult | Promise<SyscallResult> {
  const file = fileAt(t, int(a[0]));
  if (isError(file)) return file;
  const addr = ptr(a[1]);
  const len = ioLength(file.readable, file, addr, a[2], null);
  if (isError(len)) return len;
  return readFile(t, file, userBuffer(t, addr, len));
}

/**
 * read(2)/readv(2) into `dst` after their checks: the terminal job-control check, SO_RCVLOWAT on
 * a stream socket, then one read, and a wait only when it would block. The first read is made
 * here rather than through {@link maybeBlocking}, so a read that finds data makes no closure.
 */
function readFile(
  t: Task,
  file: FileDescription,
  dst: UserIOSequence,
): SyscallResult | Promise<SyscallResult> {
  const stopped = ttyIoCheck(t, file, false);
  if (stopped !== undefined) return stopped;
  // A stream socket with SO_RCVLOWAT gathers that many bytes, as its recvmsg does.
  const lowat = socketStreamRead(t, file, dst);
  if (lowat !== undefined) return lowat;
  const r = file.readIO(dst);
  if (r !== WOULD_BLOCK) {
    if (r === E.EAGAIN) noteReadBlocked(file.waitQueue);
    return r;
  }
  noteReadBlocked(file.waitQueue);
  return waitToRead(t, file, dst);
}

/**
 * The wait of a read that would block. Its own function so that {@link readFile} makes no
 * closure: one that captures its variables makes every call allocate a context for them.
 */
function waitToRead(t: Task, file: FileDescription, dst: UserIOSequence): Promise<SyscallResult> {
  // A sleeping reader holds back a stream socket's SIGIO (SOCKWQ_ASYNC_WAITDATA).
  return readerAsleep(
    file,
    waitAndRetry(t, file, PollEvent.POLLIN, () => file.readIO(dst)),
  );
}

/** implements write(2); EPIPE also raises SIGPIPE. */
function write(t: Task, a: SyscallArgs): SyscallResult | Promise<SyscallResult> {
  const file = fileAt(t, int(a[0]));
  if (isError(file)) return file;
  const addr = ptr(a[1]);
  const wlen = ioLength(file.writable, file, addr, a[2], null);
  if (isError(wlen)) return wlen;
  const stopped = ttyIoCheck(t, file, true);
  if (stopped !== undefined) return stopped;
  return writeFile(t, file, userBuffer(t, addr, wlen));
}

/** How pwritev2's flags change a write (RWF_APPEND, RWF_NOAPPEND, RWF_NOWAIT, RWF_NOSIGNAL). */
interface WriteMode {
  /** Overrides O_APPEND; undefined keeps it. */
  readonly append?: boolean | undefined;
  /** Never wait: EAGAIN (or the count so far) where the write would block. */
  readonly nowait?: boolean;
  /** No SIGPIPE with EPIPE. */
  readonly nosignal?: boolean;
}

/** write(2)'s mode: O_APPEND as the description says, waits, SIGPIPE. */
const PLAIN_WRITE: WriteMode = Object.freeze({});

/**
 * Writes `src` at the file position. Pipes, FIFOs and stream sockets that block keep going
 * until all of it is written (pipe_write, unix_stream_sendmsg, tcp_sendmsg); a signal after some
 * bytes gives their count, and so does a fault in the app's buffer. EPIPE raises SIGPIPE: always
 * on a pipe (pipe_write sends it even after a partial write), on a socket only when nothing
 * went out.
 */
function writeFile(
  t: Task,
  file: FileDescription,
  src: IOSequence,
  mode: WriteMode = PLAIN_WRITE,
): SyscallResult | Promise<SyscallResult> {
  // A host socket sends its own way (network mode host: whole stream writes, SO_SNDTIMEO).
  const host = hostSocketWrite(t, file, src, mode);
  if (host) return host;
  const type = file.location.inode.mode & Mode.S_IFMT;
  const sock = file.impl instanceof SocketImpl ? file.impl.sock : undefined;
  const loop = type === Mode.S_IFIFO || (sock !== undefined && sock.type === SockType.SOCK_STREAM);
  // SIGPIPE comes with EPIPE from pipes and stream sockets only (pipe_write, sk_stream_error,
  // unix_stream_sendmsg): a datagram socket's EPIPE (after shutdown) raises nothing.
  const signals = mode.nosignal !== true && (sock === undefined || sock.type === SockType.SOCK_STREAM);
  const nowait = mode.nowait === true;
  // O_NONBLOCK is the description's: its write answers EAGAIN rather than WOULD_BLOCK.
  const timeout = socketSendTimeout(t, file, nowait); // SO_SNDTIMEO
  let first: number | LinuxError | 'block' | undefined;
  if (timeout === undefined) {
    // The common case first, with nothing built for it: one attempt that ends the call (all of
    // the buffer taken, a datagram or regular file written, an error).
    const r = file.writeIO(src, mode.append);
    if (r !== WOULD_BLOCK) {
      if (r === E.EAGAIN) noteWriteBlocked(file.waitQueue, 0);
      if (isError(r)) return writeEnded(t, type, signals, 0, r);
      if (!loop || r >= src.length || r === 0) return writeEnded(t, type, signals, r, undefined);
    }
    first = r === WOULD_BLOCK ? 'block' : r;
  }
  return writeOn(t, file, src, mode, {
    type,
    socket: sock !== undefined,
    loop,
    signals,
    nowait,
    timeout,
    first,
  });
}

/** Where {@link writeFile} stands when its first attempt did not end the call. */
interface WriteState {
  /** The file type (S_IFMT bits). */
  readonly type: number;
  readonly socket: boolean;
  /** Whether the write goes on until all is written (pipes, FIFOs, stream sockets). */
  readonly loop: boolean;
  /** Whether EPIPE raises SIGPIPE (see {@link writeFile}). */
  readonly signals: boolean;
  readonly nowait: boolean;
  readonly timeout: SendTimeout | undefined;
  /** What the first attempt answered; undefined when it is still to be made (with SO_SNDTIMEO). */
  readonly first: number | LinuxError | 'block' | undefined;
}

/**
 * The rest of {@link writeFile}: more attempts, waits, SO_SNDTIMEO. A function of its own, as
 * its closures capture the call's variables, which would make every write allocate a context.
 */
function writeOn(
  t: Task,
  file: FileDescription,
  src: IOSequence,
  mode: WriteMode,
  st: WriteState,
): SyscallResult | Promise<SyscallResult> {
  const { type, signals, timeout, first } = st;
  // Sockets wake their waiters on any readiness change (see sys-socket.ts); pipes on POLLOUT.
  const mask = st.socket
    ? -1
    : PollEvent.POLLOUT | PollEvent.POLLWRNORM | PollEvent.POLLERR | PollEvent.POLLHUP;
  const attempt = (sent: number): number | LinuxError | 'block' => {
    // `sent` tells a TCP socket what this write queued already: a reset then ends the write with
    // that count and is reported by the next call, as tcp_sendmsg leaves sk_err.
    const r = file.writeIO(src.dropFirst(sent), mode.append, sent);
    if (r === E.EAGAIN) noteWriteBlocked(file.waitQueue, sent);
    return r === WOULD_BLOCK ? 'block' : r;
  };
  const wait = { queue: file.waitQueue ?? undefined, mask };
  const opts = { nonBlocking: st.nowait || timeout?.timeoutNs === 0n, loop: st.loop };
  const out =
    first === undefined
      ? writeStream(t, wait, src.length, timeout ? timeout.wrap(attempt) : attempt, opts)
      : writeStreamFrom(t, wait, src.length, attempt, opts, first);
  const finish = (o0: WriteOutcome): SyscallResult => {
    const o = timeout ? timeout.end(o0) : o0;
    return writeEnded(t, type, signals, o.sent, o.stop);
  };
  return out instanceof Promise ? out.then(finish) : finish(out);
}

/**
 * The answer of a write that moved `sent` bytes and stopped for `stop` (undefined: it did not
 * stop short): the count when there is one, else the error. EPIPE raises SIGPIPE as
 * {@link writeFile} says when `signals` (not RWF_NOSIGNAL, not a datagram socket).
 */
function writeEnded(
  t: Task,
  type: number,
  signals: boolean,
  sent: number,
  stop: LinuxError | ControlResult | undefined,
): SyscallResult {
  if (stop === E.EPIPE && (sent === 0 || type === Mode.S_IFIFO) && signals) sigpipe(t, stop);
  return sent > 0 ? sent : (stop ?? 0);
}

function offsetArg(a: bigint): number {
  const o = long(a);
  return o > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(o);
}

/**
 * implements pread64(2) in ksys_pread64's order: `EINVAL` for a negative offset (before the fd
 * is looked up), `EBADF`, `ESPIPE` on streams, then vfs_read's checks.
 */
function pread64(t: Task, a: SyscallArgs): SyscallResult | Promise<SyscallResult> {
  if (long(a[3]) < 0n) return E.EINVAL;
  const file = fileAt(t, int(a[0]));
  if (isError(file)) return file;
  if (file.impl.stream) return E.ESPIPE;
  const addr = ptr(a[1]);
  const len = ioLength(file.readable, file, addr, a[2], long(a[3]));
  if (isError(len)) return len;
  const off = offsetArg(a[3]);
  const dst = userBuffer(t, addr, len);
  return maybeBlocking(t, file, PollEvent.POLLIN, () => file.preadIO(dst, off));
}

/** implements pwrite64(2), in the order of pread64(2). */
function pwrite64(t: Task, a: SyscallArgs): SyscallResult | Promise<SyscallResult> {
  if (long(a[3]) < 0n) return E.EINVAL;
  const file = fileAt(t, int(a[0]));
  if (isError(file)) return file;
  if (file.impl.stream) return E.ESPIPE;
  const wlen = ioLength(file.writable, file, ptr(a[1]), a[2], long(a[3]));
  if (isError(wlen)) return wlen;
  const off = offsetArg(a[3]);
  const src = userBuffer(t, ptr(a[1]), wlen);
  const r = maybeBlocking(t, file, PollEvent.POLLOUT, () => file.pwriteIO(src, off));
  return r instanceof Promise ? r.then((v) => sigpipe(t, v)) : sigpipe(t, r);
}

/**
 * The iovec array of a vector read/write as one sequence, shortened to MAX_RW_COUNT (and
 * {@link IO_CHUNK}) as import_iovec does, after rw_verify_area's check of its total at `pos`
 * (the file position, or the offset of preadv/pwritev).
 */
function userVector(
  t: Task,
  file: FileDescription,
  iovAddr: number,
  count: number,
  pos: bigint | null,
): UserIOSequence | LinuxError {
  const iov = t.memory.readIovecs(iovAddr, count);
  if (isError(iov)) return iov;
  // The total in a double is exact up to MAX_RW_COUNT, and beyond it still above it, which is
  // all the clamp needs.
  let requested = 0;
  for (let i = 0; i < iov.length; i++) requested += (iov[i] as Iovec).len;
  const bad = verifyArea(file, pos, BigInt(Math.min(requested, MAX_RW_COUNT)));
  if (bad) return bad;
  return new UserIOSequence(t.memory, iov).takeFirst(Math.min(MAX_RW_COUNT, IO_CHUNK));
}

/** implements readv(2): one read straight into the iovecs. */
function readv(t: Task, a: SyscallArgs): SyscallResult | Promise<SyscallResult> {
  const file = fileAt(t, int(a[0]));
  if (isError(file)) return file;
  if (!file.readable) return E.EBADF;
  const dst = userVector(t, file, ptr(a[1]), int(a[2]), null);
  if (isError(dst)) return dst;
  if (dst.length === 0) return 0; // vfs_readv: the file is not asked at all
  return readFile(t, file, dst);
}

/** implements writev(2): one write straight from the iovecs, as write(2). */
function writev(t: Task, a: SyscallArgs): SyscallResult | Promise<SyscallResult> {
  const file = fileAt(t, int(a[0]));
  if (isError(file)) return file;
  if (!file.writable) return E.EBADF;
  const src = userVector(t, file, ptr(a[1]), int(a[2]), null);
  if (isError(src)) return src;
  if (src.length === 0) return 0; // vfs_writev: the file is not asked at all (/dev/full too)
  const stopped = ttyIoCheck(t, file, true);
  if (stopped !== undefined) return stopped;
  return writeFile(t, file, src);
}

const RWF_HIPRI = 0x01;
const RWF_DSYNC = 0x02;
const RWF_SYNC = 0x04;
const RWF_NOWAIT = 0x08;
const RWF_APPEND = 0x10;
const RWF_NOAPPEND = 0x20;
const RWF_ATOMIC = 0x40;
const RWF_DONTCACHE = 0x80;
const RWF_NOSIGNAL = 0x100;
const RWF_SUPPORTED =
  RWF_HIPRI |
  RWF_DSYNC |
  RWF_SYNC |
  RWF_NOWAIT |
  RWF_APPEND |
  RWF_NOAPPEND |
  RWF_ATOMIC |
  RWF_DONTCACHE |
  RWF_NOSIGNAL;

/**
 * kiocb_set_rw_flags: `EOPNOTSUPP` for unknown flags, RWF_ATOMIC (no file here can write
 * atomically), RWF_DONTCACHE (no uncached buffered I/O here) and RWF_NOWAIT on a file without
 * FMODE_NOWAIT. The sync flags need nothing: every write here is as durable as it gets.
 */
function rwFlags(file: FileDescription, flags: number): LinuxError | undefined {
  if ((flags & ~RWF_SUPPORTED) !== 0) return E.EOPNOTSUPP;
  if ((flags & (RWF_ATOMIC | RWF_DONTCACHE)) !== 0) return E.EOPNOTSUPP;
  if ((flags & RWF_NOWAIT) !== 0 && !file.impl.nowait) return E.EOPNOTSUPP;
  return undefined;
}

/**
 * The offset of preadv/pwritev and their v2 forms: pos_from_hilo on x86-64, where the low
 * register holds the whole 64-bit offset and the high one is shifted out.
 */
function vectorOffset(lo: bigint): bigint {
  return long(lo);
}

/** What {@link positionalVector} found for one preadv/pwritev call. */
interface PositionalVector {
  readonly file: FileDescription;
  readonly io: UserIOSequence;
  /** preadv2/pwritev2's offset -1: the file position is used (and moved), streams included. */
  readonly atPosition: boolean;
}

/**
 * The checks preadv, pwritev and their v2 forms share, in Linux's order: `EINVAL` for a negative
 * offset other than the v2 forms' -1, then `EBADF`, `ESPIPE` for a positional call on a stream,
 * `EBADF` when the description is not open for this direction, the iovecs, and the RWF_* flags
 * once there is a byte to move. A number result is the call's answer (0 for empty iovecs).
 */
function positionalVector(
  t: Task,
  a: SyscallArgs,
  flags: number,
  v2: boolean,
  writing: boolean,
): PositionalVector | LinuxError | 0 {
  const pos = vectorOffset(a[3]);
  const atPosition = v2 && pos === -1n;
  if (!atPosition && pos < 0n) return E.EINVAL;
  const file = fileAt(t, int(a[0]));
  if (isError(file)) return file;
  if (!atPosition && file.impl.stream) return E.ESPIPE;
  if (!(writing ? file.writable : file.readable)) return E.EBADF;
  const io = userVector(t, file, ptr(a[1]), int(a[2]), atPosition ? BigInt(file.offset) : pos);
  if (isError(io)) return io;
  if (io.length === 0) return 0;
  return rwFlags(file, flags) ?? { file, io, atPosition };
}

/**
 * implements preadv(2) and preadv2(2) (`flags` 0 for preadv), after {@link positionalVector}'s
 * checks. RWF_NOWAIT turns waiting into EAGAIN.
 */
function preadvCommon(
  t: Task,
  a: SyscallArgs,
  flags: number,
  v2: boolean,
): SyscallResult | Promise<SyscallResult> {
  const v = positionalVector(t, a, flags, v2, false);
  if (v === 0 || isError(v)) return v;
  const { file, io: dst, atPosition } = v;
  const off = offsetArg(a[3]);
  const op = (): IoResult => (atPosition ? file.readIO(dst) : file.preadIO(dst, off));
  if ((flags & RWF_NOWAIT) !== 0) {
    const r = op();
    return r === WOULD_BLOCK ? E.EAGAIN : r;
  }
  return maybeBlocking(t, file, PollEvent.POLLIN, op);
}

/** implements pwritev(2) and pwritev2(2), after {@link positionalVector}'s checks. */
function pwritevCommon(
  t: Task,
  a: SyscallArgs,
  flags: number,
  v2: boolean,
): SyscallResult | Promise<SyscallResult> {
  const v = positionalVector(t, a, flags, v2, true);
  if (v === 0 || isError(v)) return v;
  const { file, io: src, atPosition } = v;
  const mode: WriteMode = {
    append: (flags & RWF_APPEND) !== 0 ? true : (flags & RWF_NOAPPEND) !== 0 ? false : undefined,
    nowait: (flags & RWF_NOWAIT) !== 0,
    nosignal: (flags & RWF_NOSIGNAL) !== 0,
  };
  if (atPosition) return writeFile(t, file, src, mode);
  const off = offsetArg(a[3]);
  const op = (): IoResult => file.pwriteIO(src, off, mode.append);
  const done = (v: SyscallResult): SyscallResult => (mode.nosignal ? v : sigpipe(t, v));
  if (mode.nowait) {
    const r = op();
    return done(r === WOULD_BLOCK ? E.EAGAIN : r);
  }
  const r = maybeBlocking(t, file, PollEvent.POLLOUT, op);
  return r instanceof Promise ? r.then(done) : done(r);
}

/** implements preadv(2). */
function preadv(t: Task, a: SyscallArgs): SyscallResult | Promise<SyscallResult> {
  return preadvCommon(t, a, 0, false);
}

/** implements preadv2(2). */
function preadv2(t: Task, a: SyscallArgs): SyscallResult | Promise<SyscallResult> {
  return preadvCommon(t, a, int(a[5]), true);
}

/** implements pwritev(2). */
function pwritev(t: Task, a: SyscallArgs): SyscallResult | Promise<SyscallResult> {
  return pwritevCommon(t, a, 0, false);
}

/** implements pwritev2(2). */
function pwritev2(t: Task, a: SyscallArgs): SyscallResult | Promise<SyscallResult> {
  return pwritevCommon(t, a, int(a[5]), true);
}

/** implements lseek(2). */
function lseek(t: Task, a: SyscallArgs): SyscallResult {
  const file = fileAt(t, int(a[0]));
  if (isError(file)) return file;
  const off = long(a[1]);
  const n =
    off > BigInt(Number.MAX_SAFE_INTEGER)
      ? Number.MAX_SAFE_INTEGER
      : off < -BigInt(Number.MAX_SAFE_INTEGER)
        ? -Number.MAX_SAFE_INTEGER
        : Number(off);
  return file.lseek(n, int(a[2]));
}

/** Installs a new description, releasing it if the table is full. */
function install(t: Task, file: FileDescription, cloexec: boolean): SyscallResult {
  const fd = filesOf(t).install(file, { limit: nofile(t), cloexec });
  if (isError(fd)) file.release();
  return fd;
}

/**
 * implements openat(2): a FIFO opened without a peer waits (interruptibly) for one;
 * O_CLOEXEC applies to the new descriptor.
 */
function openat(t: Task, a: SyscallArgs): SyscallResult | Promise<SyscallResult> {
  const path = pathArg(t, ptr(a[1]));
  if (isError(path)) return path;
  const flags = int(a[2]);
  const file = vfsOf(t).openat(ctxOf(t), dirOf(t, int(a[0])), path, flags, uint(a[3]));
  if (isError(file)) return file;
  return installOpened(t, file, (flags & OpenFlag.O_CLOEXEC) !== 0);
}

/**
 * implements openat2(2): `struct open_how` read with copy_struct_from_user's size rules (EINVAL
 * below 24 bytes, E2BIG above a page or for non-zero bytes past the known fields), then
 * build_open_flags' EINVAL/EAGAIN checks before the path is read, then openat's path with the
 * RESOLVE_* restrictions.
 */
function openat2(t: Task, a: SyscallArgs): SyscallResult | Promise<SyscallResult> {
  const usize = Number(a[3] > 8192n ? 8192n : a[3]);
  const raw =
    usize >= OPEN_HOW_SIZE_VER0 && usize <= PAGE_SIZE ? t.memory.read(ptr(a[2]), usize) : new Uint8Array(0);
  if (isError(raw)) return raw;
  const how = parseOpenHow(raw, 0, usize);
  if (isError(how)) return how;
  // No valid flag, mode or resolve bit lies above bit 31.
  if (how.flags > 0xffffffffn || how.mode > 0xffffffffn || how.resolve > 0xffffffffn) return E.EINVAL;
  const req = { flags: Number(how.flags) | 0, mode: Number(how.mode), resolve: Number(how.resolve) };
  const bad = checkOpenHow(req);
  if (bad) return bad;
  const path = pathArg(t, ptr(a[1]));
  if (isError(path)) return path;
  const file = vfsOf(t).openat2(ctxOf(t), dirOf(t, int(a[0])), path, req);
  if (isError(file)) return file;
  return installOpened(t, file, (req.flags & OpenFlag.O_CLOEXEC) !== 0);
}

/** Installs a newly opened description, first waiting for a FIFO's peer if it needs one. */
function installOpened(
  t: Task,
  file: FileDescription,
  cloexec: boolean,
): SyscallResult | Promise<SyscallResult> {
  const wait = file.openWait;
  if (!wait) return install(t, file, cloexec);
  return (async (): Promise<SyscallResult> => {
    if ((await waitReady(t, wait, PollEvent.POLLIN)) === 'interrupted') {
      file.release();
      return ERESTARTSYS;
    }
    file.openWait = null;
    return install(t, file, cloexec);
  })();
}

/** implements open(2). */
function open(t: Task, a: SyscallArgs): SyscallResult | Promise<SyscallResult> {
  return openat(t, [BigInt.asUintN(64, BigInt(At.AT_FDCWD)), a[0], a[1], a[2], 0n, 0n]);
}

/** implements creat(2). */
function creat(t: Task, a: SyscallArgs): SyscallResult | Promise<SyscallResult> {
  return openat(t, [
    BigInt.asUintN(64, BigInt(At.AT_FDCWD)),
    a[0],
    BigInt(OpenFlag.O_CREAT | OpenFlag.O_WRONLY | OpenFlag.O_TRUNC),
    a[1],
    0n,
    0n,
  ]);
}

/** implements close(2). */
function close(t: Task, a: SyscallArgs): SyscallResult | Promise<SyscallResult> {
  const r = filesOf(t).close(int(a[0]));
  return isError(r) ? r : lingerOnClose(t, r);
}

/** implements close_range(2). */
function closeRange(t: Task, a: SyscallArgs): SyscallResult {
  const flags = uint(a[2]);
  if (flags & CLOSE_RANGE_UNSHARE && t.files !== undefined) {
    // Unshare first so other tasks sharing the table keep their descriptors.
    t.files = t.files.fork();
  }
  return filesOf(t).closeRange(uint(a[0]), uint(a[1]), flags) ?? 0;
}

/** implements dup(2). */
function dup(t: Task, a: SyscallArgs): SyscallResult {
  return filesOf(t).dup(int(a[0]), nofile(t));
}

/** implements dup2(2). */
function dup2(t: Task, a: SyscallArgs): SyscallResult {
  return filesOf(t).dup2(int(a[0]), int(a[1]), nofile(t));
}

/** implements dup3(2). */
function dup3(t: Task, a: SyscallArgs): SyscallResult {
  return filesOf(t).dup3(int(a[0]), int(a[1]), int(a[2]), nofile(t));
}

/** Offsets in x86-64's struct flock (32 bytes). */
const FLOCK_SIZE = 32;

/**
 * fcntl's record locks: F_GETLK/F_SETLK/F_SETLKW, owned by the fd table (Linux's
 * current->files; released when the table closes any descriptor of the file, see
 * fileDescriptionRefs), and the F_OFD_* forms, owned by the open file description. In
 * do_fcntl's order: `EBADF` for O_PATH, `EFAULT` for the struct, then the lock's own checks
 * (`EINVAL` for a bad type, whence or an OFD l_pid other than 0, `EBADF` for a lock type the
 * open mode does not allow, `EAGAIN` on conflict, `EDEADLK`).
 */
function recordLock(
  t: Task,
  file: FileDescription,
  cmd: number,
  addr: number,
): SyscallResult | Promise<SyscallResult> {
  if (file.isPath) return E.EBADF;
  const raw = new Uint8Array(FLOCK_SIZE);
  const bad = t.memory.readExact(addr, raw);
  if (bad) return bad;
  const v = new DataView(raw.buffer);
  const start = v.getBigInt64(8, true);
  const len = v.getBigInt64(16, true);
  const clamp = (x: bigint): number =>
    x > BigInt(Number.MAX_SAFE_INTEGER)
      ? 2 ** 53
      : x < -BigInt(Number.MAX_SAFE_INTEGER)
        ? -(2 ** 53)
        : Number(x);
  const req = {
    type: v.getInt16(0, true),
    whence: v.getInt16(2, true),
    start: clamp(start),
    len: clamp(len),
    pid: v.getInt32(24, true),
  };
  const ofd = cmd === F_OFD_GETLK || cmd === F_OFD_SETLK || cmd === F_OFD_SETLKW;
  if (ofd && req.pid !== 0) return E.EINVAL;
  const owner: object = ofd ? file : filesOf(t);
  if (cmd === F_GETLK || cmd === F_OFD_GETLK) {
    const r = getRecordLock(file, owner, req);
    if (isError(r)) return r;
    const out = new Uint8Array(raw);
    const o = new DataView(out.buffer);
    o.setInt16(0, r.type, true);
    if (r.type !== LockType.F_UNLCK) {
      o.setInt16(2, r.whence, true);
      o.setBigInt64(8, BigInt(r.start), true);
      o.setBigInt64(16, BigInt(r.len), true);
      o.setInt32(24, r.pid, true);
    }
    return t.memory.writeExact(addr, out) ?? 0;
  }
  // F_GETLK reports an OFD lock's holder as pid -1.
  const pid = ofd ? -1 : t.tgid;
  const wait = cmd === F_SETLKW || cmd === F_OFD_SETLKW;
  return lockWithWait(t, file, () => setRecordLock(file, owner, pid, req, wait));
}

/**
 * Runs a lock attempt; while it answers WOULD_BLOCK, sleeps until the next unlock of the file's
 * inode and tries again. A signal ends the wait with ERESTARTSYS (F_SETLKW and flock(2) are
 * restarted under SA_RESTART, as on Linux).
 */
function lockWithWait(
  t: Task,
  file: FileDescription,
  attempt: () => 0 | LinuxError | WouldBlock,
): SyscallResult | Promise<SyscallResult> {
  const first = attempt();
  if (first !== WOULD_BLOCK) return first;
  const unlocked: Waitable = { readiness: () => 0, waitQueue: lockWaitQueue(file.location.inode) };
  return (async (): Promise<SyscallResult> => {
    for (;;) {
      if ((await waitReady(t, unlocked, PollEvent.POLLIN)) === 'interrupted') return ERESTARTSYS;
      const r = attempt();
      if (r !== WOULD_BLOCK) return r;
    }
  })();
}

/**
 * implements fcntl(2): F_DUPFD, F_DUPFD_CLOEXEC, F_GETFD, F_SETFD, F_GETFL, F_SETFL and the
 * record locks here; other commands go to the file (pipe sizes, ...), and `EINVAL` if it does
 * not know them.
 */
function fcntl(t: Task, a: SyscallArgs): SyscallResult | Promise<SyscallResult> {
  const fd = int(a[0]);
  const cmd = int(a[1]);
  const files = filesOf(t);
  const entry = files.entry(fd);
  if (!entry) return E.EBADF;
  switch (cmd) {
    case F_DUPFD:
    case F_DUPFD_CLOEXEC:
      return files.dupMin(fd, int(a[2]), cmd === F_DUPFD_CLOEXEC, nofile(t));
    case F_GETFD:
      return entry.cloexec ? FD_CLOEXEC : 0;
    case F_SETFD:
      return files.setCloexec(fd, (int(a[2]) & FD_CLOEXEC) !== 0) ?? 0;
    case F_GETFL:
      return entry.file.getFlags();
    case F_SETFL:
      return setStatusFlags(t, entry.file, fd, int(a[2]));
    case F_SETOWN:
    case F_GETOWN:
    case F_SETSIG:
    case F_GETSIG:
    case F_SETOWN_EX:
    case F_GETOWN_EX:
      return fcntlOwner(t, entry.file, cmd, a[2]);
    case F_GETLK:
    case F_SETLK:
    case F_SETLKW:
    case F_OFD_GETLK:
    case F_OFD_SETLK:
    case F_OFD_SETLKW:
      return recordLock(t, entry.file, cmd, ptr(a[2]));
    case F_NOTIFY:
      return dirNotify(entry.file, a[2]);
    case F_SETPIPE_SZ:
    case F_GETPIPE_SZ:
      // pipe_fcntl: get_pipe_info() finds no pipe behind any other file: EBADF.
      if (entry.file.isPath) return E.EBADF;
      return entry.file.impl.fcntl(cmd, int(a[2]), entry.file) ?? E.EBADF;
    default:
      return entry.file.fcntl(cmd, int(a[2]));
  }
}

/** F_SETFL (and FIOASYNC): the new status flags, then O_ASYNC's signal-driven I/O follows them. */
function setStatusFlags(t: Task, file: FileDescription, fd: number, flags: number): SyscallResult {
  const before = file.getFlags();
  // setfl: O_ASYNC sticks only on files with ->fasync.
  const e = file.setFlags(supportsAsync(file) ? flags : flags & ~OpenFlag.O_ASYNC);
  if (e) return e;
  const on = (file.getFlags() & OpenFlag.O_ASYNC) !== 0;
  if (on !== ((before & OpenFlag.O_ASYNC) !== 0)) syncAsync(t, file, fd, on);
  return 0;
}

/**
 * The owner commands (f_setown, f_getown, F_SETSIG, f_setown_ex, f_getown_ex): `EBADF` on an
 * O_PATH description; F_SETOWN takes a pid, or minus a process group id; the _EX forms read and
 * write a struct f_owner_ex { int type; pid_t pid; }.
 */
function fcntlOwner(t: Task, file: FileDescription, cmd: number, arg: bigint): SyscallResult {
  if (file.isPath) return E.EBADF;
  switch (cmd) {
    case F_SETOWN: {
      const who = Number(BigInt.asIntN(32, arg));
      if (who === -0x80000000) return E.EINVAL;
      return who < 0 ? setOwner(t, file, F_OWNER_PGRP, -who) : setOwner(t, file, F_OWNER_PID, who);
    }
    case F_GETOWN: {
      const o = ownerOf(file);
      return o.type === F_OWNER_PGRP ? -o.id : o.id;
    }
    case F_SETSIG:
      return setAsyncSignal(file, Number(BigInt.asIntN(32, arg)));
    case F_GETSIG:
      return asyncSignalOf(file);
    case F_SETOWN_EX: {
      const v = t.memory.read(ptr(arg), 8);
      if (isError(v)) return v;
      const dv = new DataView(v.buffer, v.byteOffset, 8);
      return setOwner(t, file, dv.getInt32(0, true), dv.getInt32(4, true));
    }
    default: {
      const o = ownerOf(file);
      const out = new Uint8Array(8);
      const dv = new DataView(out.buffer);
      dv.setInt32(0, o.type, true);
      dv.setInt32(4, o.id, true);
      return t.memory.writeExact(ptr(arg), out) ?? 0;
    }
  }
}

/**
 * fcntl(F_NOTIFY) (fcntl_dirnotify): `EBADF` for O_PATH; a request of DN_MULTISHOT alone (bit 31
 * of the unsigned long, which must not be truncated to an int) removes the registration and
 * succeeds on any file; other requests need a directory (`ENOTDIR`) and are accepted, but no
 * change signal is sent.
 */
function dirNotify(file: FileDescription, arg: bigint): SyscallResult {
  if (file.isPath) return E.EBADF;
  if ((arg & ~DN_MULTISHOT) === 0n) return 0;
  if ((file.stat().mode & 0o170000) !== 0o040000) return E.ENOTDIR;
  return 0;
}

/**
 * implements ioctl(2): FIOCLEX/FIONCLEX/FIONBIO/FIOASYNC here, FIONREAD written through the
 * pointer; other requests go to the file, which answers ENOTTY for what it does not know.
 */
function ioctl(t: Task, a: SyscallArgs): SyscallResult {
  const fd = int(a[0]);
  const cmd = uint(a[1]);
  const files = filesOf(t);
  const entry = files.entry(fd);
  // ioctl looks the fd up with fdget, which does not see O_PATH descriptions.
  if (!entry || entry.file.isPath) return E.EBADF;
  switch (cmd) {
    case FIOCLEX:
    case FIONCLEX:
      return files.setCloexec(fd, cmd === FIOCLEX) ?? 0;
    case FIONBIO: {
      const on = t.memory.readI32(ptr(a[2]));
      if (isError(on)) return on;
      const fl = entry.file.getFlags();
      return entry.file.setFlags(on ? fl | OpenFlag.O_NONBLOCK : fl & ~OpenFlag.O_NONBLOCK) ?? 0;
    }
    case FIOASYNC: {
      const on = t.memory.readI32(ptr(a[2]));
      if (isError(on)) return on;
      const fl = entry.file.getFlags();
      // ioctl_fioasync: a change of O_ASYNC on a file without ->fasync is ENOTTY.
      if (!supportsAsync(entry.file) && (on !== 0) !== ((fl & OpenFlag.O_ASYNC) !== 0)) return E.ENOTTY;
      return setStatusFlags(t, entry.file, fd, on ? fl | OpenFlag.O_ASYNC : fl & ~OpenFlag.O_ASYNC);
    }
    case FIONREAD: {
      const file = entry.file;
      const inode = file.location.inode;
      // do_vfs_ioctl answers for regular files itself: the bytes between the position and EOF,
      // stored as an int.
      if (inode.isRegular) return t.memory.writeI32(ptr(a[2]), (inode.size() - file.offset) | 0) ?? 0;
      const n = file.ioctl(cmd, a[2]);
      if (isError(n)) return n;
      return t.memory.writeI32(ptr(a[2]), n) ?? 0;
    }
    default:
      // Terminal requests on pty ends and namespace files' requests need the caller and its
      // memory (sys-tty.ts, sys-nsfs.ts).
      return (
        ttyIoctl(t, entry.file, cmd, a[2]) ??
        socketIoctl(t, entry.file, cmd, a[2]) ??
        nsIoctl(t, entry.file, cmd, a[2]) ??
        entry.file.ioctl(cmd, a[2])
      );
  }
}

function splitNs(ns: bigint): [number, number] {
  return [Number(ns / 1_000_000_000n), Number(ns % 1_000_000_000n)];
}

function statValue(s: Stat): Parameters<typeof statStruct.encode>[0] {
  const [as, an] = splitNs(s.atimeNs);
  const [ms, mn] = splitNs(s.mtimeNs);
  const [cs, cn] = splitNs(s.ctimeNs);
  return {
    st_dev: BigInt(s.dev),
    st_ino: BigInt(s.ino),
    st_nlink: s.nlink,
    st_mode: s.mode,
    st_uid: s.uid,
    st_gid: s.gid,
    __pad0: 0,
    st_rdev: BigInt(s.rdev),
    st_size: BigInt(s.size),
    st_blksize: s.blksize,
    st_blocks: BigInt(s.blocks),
    st_atime: as,
    st_atime_nsec: an,
    st_mtime: ms,
    st_mtime_nsec: mn,
    st_ctime: cs,
    st_ctime_nsec: cn,
    __unused: new Uint8Array(24),
  };
}

/** implements fstat(2). */
function fstat(t: Task, a: SyscallArgs): SyscallResult {
  const file = fileAt(t, int(a[0]));
  if (isError(file)) return file;
  return writeStruct(t, ptr(a[1]), statStruct, statValue(file.stat())) ?? 0;
}

function statPath(t: Task, dirfd: number, pathAddr: bigint, flags: number): Stat | LinuxError {
  const path = pathArg(t, ptr(pathAddr));
  if (isError(path)) return path;
  return vfsOf(t).statat(ctxOf(t), dirOf(t, dirfd), path, flags);
}

/** implements newfstatat(2). */
function newfstatat(t: Task, a: SyscallArgs): SyscallResult {
  const s = statPath(t, int(a[0]), a[1], int(a[3]));
  if (isError(s)) return s;
  return writeStruct(t, ptr(a[2]), statStruct, statValue(s)) ?? 0;
}

/** implements stat(2). */
function stat(t: Task, a: SyscallArgs): SyscallResult {
  const s = statPath(t, At.AT_FDCWD, a[0], 0);
  return isError(s) ? s : (writeStruct(t, ptr(a[1]), statStruct, statValue(s)) ?? 0);
}

/** implements lstat(2). */
function lstat(t: Task, a: SyscallArgs): SyscallResult {
  const s = statPath(t, At.AT_FDCWD, a[0], At.AT_SYMLINK_NOFOLLOW);
  return isError(s) ? s : (writeStruct(t, ptr(a[1]), statStruct, statValue(s)) ?? 0);
}

const STATX_BASIC_STATS = 0x7ff;
const STATX_BTIME = 0x800;
const STATX_MNT_ID = 0x1000;
const STATX_RESERVED = 0x80000000;
/** AT_STATX_FORCE_SYNC | AT_STATX_DONT_SYNC. */
const AT_STATX_SYNC_TYPE = 0x6000;

/**
 * implements statx(2): basic stats, birth time and mount id; `EINVAL` for STATX__RESERVED and
 * for AT_STATX_FORCE_SYNC together with AT_STATX_DONT_SYNC (do_statx's order).
 */
function statx(t: Task, a: SyscallArgs): SyscallResult {
  const mask = uint(a[3]);
  if (mask & STATX_RESERVED) return E.EINVAL;
  if ((int(a[2]) & AT_STATX_SYNC_TYPE) === AT_STATX_SYNC_TYPE) return E.EINVAL;
  const s = statPath(t, int(a[0]), a[1], int(a[2]) & ~0x6000);
  if (isError(s)) return s;
  const ts = (ns: bigint): { tv_sec: number; tv_nsec: number; __reserved: number } => {
    const [sec, nsec] = splitNs(ns);
    return { tv_sec: sec, tv_nsec: nsec, __reserved: 0 };
  };
  const value = {
    stx_mask: STATX_BASIC_STATS | STATX_BTIME | STATX_MNT_ID,
    stx_blksize: s.blksize,
    stx_attributes: 0n,
    stx_nlink: s.nlink,
    stx_uid: s.uid,
    stx_gid: s.gid,
    stx_mode: s.mode,
    __spare0: 0,
    stx_ino: BigInt(s.ino),
    stx_size: BigInt(s.size),
    stx_blocks: BigInt(s.blocks),
    stx_attributes_mask: 0n,
    stx_atime: ts(s.atimeNs),
    stx_btime: ts(s.btimeNs),
    stx_ctime: ts(s.ctimeNs),
    stx_mtime: ts(s.mtimeNs),
    stx_rdev_major: (s.rdev >>> 8) & 0xfff,
    stx_rdev_minor: (s.rdev & 0xff) | ((s.rdev >>> 12) & 0xfff00),
    stx_dev_major: (s.dev >>> 8) & 0xfff,
    stx_dev_minor: (s.dev & 0xff) | ((s.dev >>> 12) & 0xfff00),
    stx_mnt_id: BigInt(s.mountId),
    stx_dio_mem_align: 0,
    stx_dio_offset_align: 0,
    __spare3: new Uint8Array(96),
  } as unknown as Parameters<typeof statxStruct.encode>[0];
  return writeStruct(t, ptr(a[4]), statxStruct, value) ?? 0;
}

function statfsValue(s: Statfs): Parameters<typeof statfsStruct.encode>[0] {
  return {
    f_type: s.type,
    f_bsize: s.bsize,
    f_blocks: BigInt(s.blocks),
    f_bfree: BigInt(s.bfree),
    f_bavail: BigInt(s.bavail),
    f_files: BigInt(s.files),
    f_ffree: BigInt(s.ffree),
    f_fsid: [s.fsid | 0, 0],
    f_namelen: s.namelen,
    f_frsize: s.frsize,
    f_flags: BigInt(s.flags),
    f_spare: new Uint8Array(32),
  } as unknown as Parameters<typeof statfsStruct.encode>[0];
}

/** implements statfs(2). */
function statfs(t: Task, a: SyscallArgs): SyscallResult {
  const path = pathArg(t, ptr(a[0]));
  if (isError(path)) return path;
  const s = vfsOf(t).statfsat(ctxOf(t), t.fs.cwd as never, path);
  if (isError(s)) return s;
  return writeStruct(t, ptr(a[1]), statfsStruct, statfsValue(s)) ?? 0;
}

/** implements fstatfs(2). */
function fstatfs(t: Task, a: SyscallArgs): SyscallResult {
  const file = fileAt(t, int(a[0]));
  if (isError(file)) return file;
  return writeStruct(t, ptr(a[1]), statfsStruct, statfsValue(vfsOf(t).statfsOf(file.location))) ?? 0;
}

/**
 * implements getdents64(2): `EINVAL` when the buffer cannot hold the next entry, `EFAULT` when
 * no entry could be copied. Linux's filldir64 copies entry by entry and the directory position
 * moves only past entries that reached the app, so entries that could not be copied (bad buffer,
 * buffer too small) are listed by the next call.
 */
function getdents64(t: Task, a: SyscallArgs): SyscallResult {
  const file = fileAt(t, int(a[0]));
  if (isError(file)) return file;
  const start = file.offset;
  const len = Math.min(uint(a[2]), 1 << 20);
  const buf = new Uint8Array(len);
  const w = new Dirent64Writer(buf);
  let more = false;
  // End of each entry in `buf` and the directory offset after it.
  const ends: number[] = [];
  const nexts: number[] = [];
  const r = file.getdents((ino, next, type, name) => {
    const ok = w.add(BigInt(ino), BigInt(next), type, pathBytes(name));
    if (!ok) more = true;
    else {
      ends.push(w.written);
      nexts.push(next);
    }
    return ok;
  });
  if (isError(r)) return r;
  const n = w.result(more);
  if (isError(n)) return n;
  if (n === 0) return 0;
  const copied = t.memory.write(ptr(a[1]), buf.subarray(0, n));
  const got = isError(copied) ? 0 : copied;
  if (got === n) return n;
  // A fault part way: keep the entries copied whole, give the rest back to the directory.
  let k = ends.length;
  while (k > 0 && (ends[k - 1] ?? 0) > got) k--;
  if (k === 0) {
    file.offset = start;
    return E.EFAULT;
  }
  file.offset = nexts[k - 1] ?? start;
  return ends[k - 1] ?? 0;
}

/** implements readlinkat(2): truncates to `bufsiz` without a NUL; `EINVAL` for bufsiz <= 0. */
function readlinkat(t: Task, a: SyscallArgs): SyscallResult {
  const bufsiz = int(a[3]);
  if (bufsiz <= 0) return E.EINVAL;
  const path = pathArg(t, ptr(a[1]));
  if (isError(path)) return path;
  const target = vfsOf(t).readlinkat(ctxOf(t), dirOf(t, int(a[0])), path);
  if (isError(target)) return target;
  const bytes = pathBytes(target).subarray(0, bufsiz);
  return t.memory.writeExact(ptr(a[2]), bytes) ?? bytes.length;
}

/** implements readlink(2). */
function readlink(t: Task, a: SyscallArgs): SyscallResult {
  return readlinkat(t, [BigInt.asUintN(64, BigInt(At.AT_FDCWD)), a[0], a[1], a[2], 0n, 0n]);
}

const CWD = BigInt.asUintN(64, BigInt(At.AT_FDCWD));

/** implements mkdirat(2). */
function mkdirat(t: Task, a: SyscallArgs): SyscallResult {
  const path = pathArg(t, ptr(a[1]));
  if (isError(path)) return path;
  return vfsOf(t).mkdirat(ctxOf(t), dirOf(t, int(a[0])), path, uint(a[2])) ?? 0;
}

/** implements mkdir(2). */
function mkdir(t: Task, a: SyscallArgs): SyscallResult {
  return mkdirat(t, [CWD, a[0], a[1], 0n, 0n, 0n]);
}

/** implements mknodat(2). */
function mknodat(t: Task, a: SyscallArgs): SyscallResult {
  const path = pathArg(t, ptr(a[1]));
  if (isError(path)) return path;
  return vfsOf(t).mknodat(ctxOf(t), dirOf(t, int(a[0])), path, uint(a[2]), uint(a[3])) ?? 0;
}

/** implements mknod(2). */
function mknod(t: Task, a: SyscallArgs): SyscallResult {
  return mknodat(t, [CWD, a[0], a[1], a[2], 0n, 0n]);
}

/** implements unlinkat(2): `EINVAL` for flags other than AT_REMOVEDIR. */
function unlinkat(t: Task, a: SyscallArgs): SyscallResult {
  const flags = int(a[2]);
  if (flags & ~At.AT_REMOVEDIR) return E.EINVAL;
  const path = pathArg(t, ptr(a[1]));
  if (isError(path)) return path;
  return vfsOf(t).unlinkat(ctxOf(t), dirOf(t, int(a[0])), path, flags) ?? 0;
}

/** implements unlink(2). */
function unlink(t: Task, a: SyscallArgs): SyscallResult {
  return unlinkat(t, [CWD, a[0], 0n, 0n, 0n, 0n]);
}

/** implements rmdir(2). */
function rmdir(t: Task, a: SyscallArgs): SyscallResult {
  return unlinkat(t, [CWD, a[0], BigInt(At.AT_REMOVEDIR), 0n, 0n, 0n]);
}

/** implements renameat2(2). */
function renameat2(t: Task, a: SyscallArgs): SyscallResult {
  const from = pathArg(t, ptr(a[1]));
  if (isError(from)) return from;
  const to = pathArg(t, ptr(a[3]));
  if (isError(to)) return to;
  return vfsOf(t).renameat2(ctxOf(t), dirOf(t, int(a[0])), from, dirOf(t, int(a[2])), to, uint(a[4])) ?? 0;
}

/** implements renameat(2). */
function renameat(t: Task, a: SyscallArgs): SyscallResult {
  return renameat2(t, [a[0], a[1], a[2], a[3], 0n, 0n]);
}

/** implements rename(2). */
function rename(t: Task, a: SyscallArgs): SyscallResult {
  return renameat2(t, [CWD, a[0], CWD, a[1], 0n, 0n]);
}

/** implements symlinkat(2). */
function symlinkat(t: Task, a: SyscallArgs): SyscallResult {
  const target = pathArg(t, ptr(a[0]));
  if (isError(target)) return target;
  const path = pathArg(t, ptr(a[2]));
  if (isError(path)) return path;
  return vfsOf(t).symlinkat(ctxOf(t), target, dirOf(t, int(a[1])), path) ?? 0;
}

/** implements symlink(2). */
function symlink(t: Task, a: SyscallArgs): SyscallResult {
  return symlinkat(t, [a[0], CWD, a[1], 0n, 0n, 0n]);
}

/** implements linkat(2). */
function linkat(t: Task, a: SyscallArgs): SyscallResult {
  const from = pathArg(t, ptr(a[1]));
  if (isError(from)) return from;
  const to = pathArg(t, ptr(a[3]));
  if (isError(to)) return to;
  return vfsOf(t).linkat(ctxOf(t), dirOf(t, int(a[0])), from, dirOf(t, int(a[2])), to, int(a[4])) ?? 0;
}

/** implements link(2). */
function link(t: Task, a: SyscallArgs): SyscallResult {
  return linkat(t, [CWD, a[0], CWD, a[1], 0n, 0n]);
}

/** implements faccessat2(2): without AT_EACCESS, checks with the real uid/gid. */
function faccessat2(t: Task, a: SyscallArgs): SyscallResult {
  const path = pathArg(t, ptr(a[1]));
  if (isError(path)) return path;
  return vfsOf(t).faccessat(ctxOf(t), dirOf(t, int(a[0])), path, int(a[2]), int(a[3]), realCreds(t)) ?? 0;
}

/** implements faccessat(2) (no flags argument). */
function faccessat(t: Task, a: SyscallArgs): SyscallResult {
  return faccessat2(t, [a[0], a[1], a[2], 0n, 0n, 0n]);
}

/** implements access(2). */
function access(t: Task, a: SyscallArgs): SyscallResult {
  return faccessat2(t, [CWD, a[0], a[1], 0n, 0n, 0n]);
}

/** implements fchmodat(2) (no flags argument: that is fchmodat2's). */
function fchmodat(t: Task, a: SyscallArgs): SyscallResult {
  const path = pathArg(t, ptr(a[1]));
  if (isError(path)) return path;
  // fchmodat has three arguments: the fourth register is whatever the caller left there.
  return vfsOf(t).fchmodat(ctxOf(t), dirOf(t, int(a[0])), path, uint(a[2]), 0) ?? 0;
}

/** implements chmod(2). */
function chmod(t: Task, a: SyscallArgs): SyscallResult {
  return fchmodat(t, [CWD, a[0], a[1], 0n, 0n, 0n]);
}

/** implements fchmod(2). */
function fchmod(t: Task, a: SyscallArgs): SyscallResult {
  const file = fileAt(t, int(a[0]));
  if (isError(file)) return file;
  return vfsOf(t).fchmod(ctxOf(t), file, uint(a[1])) ?? 0;
}

/** implements fchownat(2). */
function fchownat(t: Task, a: SyscallArgs): SyscallResult {
  const path = pathArg(t, ptr(a[1]));
  if (isError(path)) return path;
  return vfsOf(t).fchownat(ctxOf(t), dirOf(t, int(a[0])), path, int(a[2]), int(a[3]), int(a[4])) ?? 0;
}

/** implements chown(2). */
function chown(t: Task, a: SyscallArgs): SyscallResult {
  return fchownat(t, [CWD, a[0], a[1], a[2], 0n, 0n]);
}

/** implements lchown(2). */
function lchown(t: Task, a: SyscallArgs): SyscallResult {
  return fchownat(t, [CWD, a[0], a[1], a[2], BigInt(At.AT_SYMLINK_NOFOLLOW), 0n]);
}

/** implements fchown(2). */
function fchown(t: Task, a: SyscallArgs): SyscallResult {
  const file = fileAt(t, int(a[0]));
  if (isError(file)) return file;
  return vfsOf(t).fchown(ctxOf(t), file, int(a[1]), int(a[2])) ?? 0;
}

/**
 * implements utimensat(2): a NULL path means the fd itself (futimens); NULL times mean now.
 */
function utimensat(t: Task, a: SyscallArgs): SyscallResult {
  let times: [VfsTimespec, VfsTimespec] | null = null;
  if (a[2] !== 0n) {
    const at0 = readStruct(t, ptr(a[2]), timespec);
    if (isError(at0)) return at0;
    const at1 = readStruct(t, ptr(a[2]) + 16, timespec);
    if (isError(at1)) return at1;
    times = [
      { sec: at0.tv_sec, nsec: at0.tv_nsec },
      { sec: at1.tv_sec, nsec: at1.tv_nsec },
    ];
  }
  const flags = int(a[3]);
  const dirfd = int(a[0]);
  if (a[1] === 0n) {
    if (dirfd === At.AT_FDCWD)
      return flags & ~(At.AT_SYMLINK_NOFOLLOW | At.AT_EMPTY_PATH) ? E.EINVAL : E.EFAULT;
    // do_utimes_fd: no flag applies to an fd.
    if (flags !== 0) return E.EINVAL;
    const file = fileAt(t, dirfd);
    if (isError(file)) return file;
    return vfsOf(t).futimens(ctxOf(t), file, times) ?? 0;
  }
  const path = pathArg(t, ptr(a[1]));
  if (isError(path)) return path;
  return vfsOf(t).utimensat(ctxOf(t), dirOf(t, dirfd), path, times, flags) ?? 0;
}

/** implements truncate(2): `EINVAL` for a negative length. */
function truncate(t: Task, a: SyscallArgs): SyscallResult {
  const path = pathArg(t, ptr(a[0]));
  if (isError(path)) return path;
  const len = long(a[1]);
  if (len < 0n) return E.EINVAL;
  return vfsOf(t).truncateat(ctxOf(t), t.fs.cwd as never, path, Number(len)) ?? 0;
}

/** implements ftruncate(2). */
function ftruncate(t: Task, a: SyscallArgs): SyscallResult {
  const file = fileAt(t, int(a[0]));
  if (isError(file)) return file;
  const len = long(a[1]);
  if (len < 0n) return E.EINVAL;
  return vfsOf(t).ftruncate(file, Number(len)) ?? 0;
}

/** implements getcwd(2): `ERANGE` when the buffer is too small; returns the length with NUL. */
function getcwd(t: Task, a: SyscallArgs): SyscallResult {
  const cwd = vfsOf(t).getcwd(ctxOf(t));
  if (isError(cwd)) return cwd;
  const bytes = pathBytes(cwd + '\0');
  if (bytes.length > size(a[1])) return E.ERANGE;
  return t.memory.writeExact(ptr(a[0]), bytes) ?? bytes.length;
}

/** implements chdir(2). */
function chdir(t: Task, a: SyscallArgs): SyscallResult {
  const path = pathArg(t, ptr(a[0]));
  if (isError(path)) return path;
  const loc = vfsOf(t).chdir(ctxOf(t), t.fs.cwd as never, path);
  if (isError(loc)) return loc;
  t.fs.cwd = loc;
  return 0;
}

/** implements fchdir(2). */
function fchdir(t: Task, a: SyscallArgs): SyscallResult {
  const file = fileAt(t, int(a[0]));
  if (isError(file)) return file;
  const loc = vfsOf(t).fchdir(ctxOf(t), file.location);
  if (isError(loc)) return loc;
  t.fs.cwd = loc;
  return 0;
}

/** implements chroot(2): a searchable directory (ENOTDIR, EACCES), then EPERM without privilege. */
function chroot(t: Task, a: SyscallArgs): SyscallResult {
  const path = pathArg(t, ptr(a[0]));
  if (isError(path)) return path;
  const loc = vfsOf(t).chdir(ctxOf(t), t.fs.cwd as never, path);
  if (isError(loc)) return loc;
  if (!capable(t.creds, Capability.CAP_SYS_CHROOT)) return E.EPERM;
  t.fs.root = loc;
  return 0;
}

/** implements pipe2(2): `EINVAL` for unknown flags, `EMFILE`, `EFAULT` (both fds closed again). */
function pipe2(t: Task, a: SyscallArgs): SyscallResult {
  const flags = int(a[1]);
  const ends = createPipe(ctxOf(t).creds, flags & ~OpenFlag.O_CLOEXEC);
  if (isError(ends)) return ends;
  const [r, w] = ends;
  const files = filesOf(t);
  const cloexec = (flags & OpenFlag.O_CLOEXEC) !== 0;
  const rfd = files.install(r, { limit: nofile(t), cloexec });
  if (isError(rfd)) {
    r.release();
    w.release();
    return rfd;
  }
  const wfd = files.install(w, { limit: nofile(t), cloexec });
  if (isError(wfd)) {
    files.close(rfd);
    w.release();
    return wfd;
  }
  const out = new Uint8Array(8);
  const v = new DataView(out.buffer);
  v.setInt32(0, rfd, true);
  v.setInt32(4, wfd, true);
  const e = t.memory.writeExact(ptr(a[0]), out);
  if (e) {
    files.close(rfd);
    files.close(wfd);
    return e;
  }
  return 0;
}

/** implements pipe(2). */
function pipe(t: Task, a: SyscallArgs): SyscallResult {
  return pipe2(t, [a[0], 0n, 0n, 0n, 0n, 0n]);
}

/** implements fsync(2) and fdatasync(2): the file's fsync (EINVAL for pipes, as Linux). */
function fsync(t: Task, a: SyscallArgs): SyscallResult {
  const file = fileAt(t, int(a[0]));
  if (isError(file)) return file;
  return file.fsync() ?? 0;
}

/** implements sync(2): nothing is buffered outside the filesystems' own state. */
function sync(): SyscallResult {
  return 0;
}

/** implements syncfs(2). */
function syncfs(t: Task, a: SyscallArgs): SyscallResult {
  const file = fileAt(t, int(a[0]));
  return isError(file) ? file : 0;
}

/**
 * implements flock(2) over the VFS's flock locks (owned by the open file description): 0 for
 * LOCK_MAND, `EINVAL` for a bad operation, then `EBADF`, `EWOULDBLOCK` with LOCK_NB on conflict,
 * otherwise waits (interruptibly) for the holder to unlock.
 */
function flock(t: Task, a: SyscallArgs): SyscallResult | Promise<SyscallResult> {
  const op = uint(a[1]);
  // Linux ignores LOCK_MAND requests (and says so once in its log) before looking at anything.
  if (op & LOCK_MAND) return 0;
  const kind = op & ~LOCK_NB;
  if (kind !== LOCK_SH && kind !== LOCK_EX && kind !== LOCK_UN) return E.EINVAL;
  const file = fileAt(t, int(a[0]));
  if (isError(file)) return file;
  return lockWithWait(t, file, () => vfsFlock(file, op));
}

/** implements fadvise64(2): advice is accepted and ignored; `ESPIPE` on pipes, `EINVAL` bad advice. */
function fadvise64(t: Task, a: SyscallArgs): SyscallResult {
  const file = fileAt(t, int(a[0]));
  if (isError(file)) return file;
  const advice = int(a[3]);
  if (advice < 0 || advice > 5 || long(a[2]) < 0n) return E.EINVAL;
  if ((file.stat().mode & 0o170000) === 0o010000) return E.ESPIPE;
  return 0;
}

/**
 * implements sendfile(2): reads from `in_fd` (at `*offset` when given, updating it) and writes
 * to `out_fd`, in chunks, until `count` bytes or a short transfer.
 */
async function sendfile(t: Task, a: SyscallArgs): Promise<SyscallResult> {
  const out = fileAt(t, int(a[0]));
  if (isError(out)) return out;
  const inp = fileAt(t, int(a[1]));
  if (isError(inp)) return inp;
  if (!inp.readable || !out.writable) return E.EBADF;
  let offset: number | undefined;
  const offAddr = a[2] === 0n ? 0 : ptr(a[2]);
  if (offAddr) {
    const o = t.memory.readU64(offAddr);
    if (isError(o)) return o;
    // An offset needs a positional input (FMODE_PREAD): pipes and sockets give ESPIPE.
    const inType = inp.stat().mode & 0o170000;
    if (inType === 0o010000 || inType === 0o140000) return E.ESPIPE;
    if (BigInt.asIntN(64, o) < 0n) return E.EINVAL;
    offset = Number(o);
  }
  // Unless the output is a pipe, Linux splices directly, which takes regular or block-device
  // input only (splice_direct_to_actor) and refuses an O_APPEND output.
  if ((out.stat().mode & 0o170000) !== 0o010000) {
    const inType = inp.stat().mode & 0o170000;
    if (inType !== 0o100000 && inType !== 0o060000) return E.EINVAL;
    if (out.getFlags() & 0o2000) return E.EINVAL;
  }
  let left = Math.min(size(a[3]), MAX_RW_COUNT);
  let done = 0;
  const buf = new Uint8Array(Math.min(left, 65536));
  while (left > 0) {
    const chunk = buf.subarray(0, Math.min(left, buf.length));
    const off = offset;
    const r = await blocking(t, inp, PollEvent.POLLIN, () =>
      off === undefined ? inp.read(chunk) : inp.pread(chunk, off),
    );
    if (typeof r !== 'number') {
      if (done > 0) break;
      return r;
    }
    if (r === 0) break;
    const w = await blocking(t, out, PollEvent.POLLOUT, () => out.write(chunk.subarray(0, r)));
    if (typeof w !== 'number') {
      if (done > 0) break;
      return sigpipe(t, w);
    }
    done += w;
    left -= w;
    if (offset !== undefined) offset += w;
    if (w < r) break;
  }
  if (offAddr && offset !== undefined) {
    const e = t.memory.writeU64(offAddr, BigInt(offset));
    if (e) return e;
  }
  return done;
}

const SOCKET_FAULT =
  'a stream socket whose copy to the app faults part way through one queued write keeps the bytes that arrived consumed (Linux refuses that socket buffer whole: EFAULT or a shorter count); nothing is ever lost, and files, pipes and devices copy straight into the app';
const RWF_NOTE =
  'RWF_ATOMIC and RWF_DONTCACHE give EOPNOTSUPP; RWF_NOWAIT works on pipes, /dev/null and /dev/zero (EOPNOTSUPP elsewhere, as on tmpfs)';

/** How a read/write syscall reaches the file, which decides when Linux counts it (see {@link accounted}). */
type IoShape = 'plain' | 'positional' | 'vector' | 'vectorPositional' | 'vectorPositional2';

/**
 * Whether Linux counts a call in syscr/syscw. read, write, pread64 and pwrite64 count only once
 * vfs_read/vfs_write is past its checks (not for a bad fd, ESPIPE, a negative offset, or a
 * buffer outside user space; a fault while copying counts). The vector calls count always
 * (do_readv and friends increment after vfs_readv whatever it answered), except for the
 * negative offset refused first.
 */
function counted(shape: IoShape, a: SyscallArgs, r: SyscallResult): boolean {
  const negative = r === E.EINVAL && long(a[3]) < 0n;
  switch (shape) {
    case 'plain':
      return r !== E.EBADF && !(r === E.EFAULT && !accessOk(ptr(a[1]), size(a[2])));
    case 'positional':
      return (
        r !== E.EBADF && r !== E.ESPIPE && !negative && !(r === E.EFAULT && !accessOk(ptr(a[1]), size(a[2])))
      );
    case 'vector':
      return true;
    case 'vectorPositional':
      return !negative;
    case 'vectorPositional2':
      return !(negative && long(a[3]) !== -1n);
  }
}

/**
 * Task I/O accounting (add_rchar/inc_syscr, add_wchar/inc_syscw) around a read-like or
 * write-like handler, for /proc/<pid>/io: the calls Linux counts ({@link counted}) and the bytes
 * they moved. The thread's and the process's counters both grow, so the process keeps the counts
 * of its exited threads.
 */
function accounted(kind: 'read' | 'write', shape: IoShape, h: SyscallHandler): SyscallHandler {
  const reads = kind === 'read';
  // This runs for every read and write: a call that moved bytes (every shape counts it) is
  // counted without asking counted(), and the thread's and the process's counters are updated
  // in place rather than through a loop or helper calls.
  const count = (t: Task, a: SyscallArgs, r: SyscallResult): SyscallResult => {
    if (typeof r !== 'number' && !counted(shape, a, r)) return r;
    const bytes = typeof r === 'number' && r > 0 ? r : 0;
    const own = t.ioac;
    const all = t.group.ioac;
    if (reads) {
      own.syscr++;
      own.rchar += bytes;
      all.syscr++;
      all.rchar += bytes;
    } else {
      own.syscw++;
      own.wchar += bytes;
      all.syscw++;
      all.wchar += bytes;
    }
    return r;
  };
  // The wait is counted in a function of its own: a closure here would make every call allocate
  // a context for `t` and `a`.
  const later = (p: Promise<SyscallResult>, t: Task, a: SyscallArgs): Promise<SyscallResult> =>
    p.then((v) => count(t, a, v));
  return (t, a) => {
    const r = h(t, a);
    // A count first: unoptimized, `instanceof` looks Promise's Symbol.hasInstance up each time.
    return typeof r === 'object' && r instanceof Promise ? later(r, t, a) : count(t, a, r);
  };
}

/** File syscalls. */
export const fileSyscalls: SyscallFamily = {
  fsync: { handler: fsync, support: FULL },
  fdatasync: { handler: fsync, support: FULL },
  sync: { handler: sync, support: FULL },
  syncfs: { handler: syncfs, support: FULL },
  flock: { handler: flock, support: FULL },
  fadvise64: { handler: fadvise64, support: partial('advice is accepted and ignored') },
  sendfile: { handler: sendfile, support: FULL },
  read: { handler: accounted('read', 'plain', read), support: partial(SOCKET_FAULT) },
  write: { handler: accounted('write', 'plain', write), support: FULL },
  pread64: { handler: accounted('read', 'positional', pread64), support: FULL },
  pwrite64: { handler: accounted('write', 'positional', pwrite64), support: FULL },
  readv: { handler: accounted('read', 'vector', readv), support: partial(SOCKET_FAULT) },
  writev: { handler: accounted('write', 'vector', writev), support: FULL },
  preadv: { handler: accounted('read', 'vectorPositional', preadv), support: FULL },
  pwritev: { handler: accounted('write', 'vectorPositional', pwritev), support: FULL },
  preadv2: { handler: accounted('read', 'vectorPositional2', preadv2), support: partial(RWF_NOTE) },
  pwritev2: { handler: accounted('write', 'vectorPositional2', pwritev2), support: partial(RWF_NOTE) },
  lseek: { handler: lseek, support: FULL },
  open: { handler: open, support: FULL },
  openat: {
    handler: openat,
    support: partial('O_TMPFILE works on tmpfs, devfs and the overlay root; hostfs volumes give EOPNOTSUPP'),
  },
  openat2: { handler: openat2, support: FULL },
  creat: { handler: creat, support: FULL },
  close: { handler: close, support: FULL },
  close_range: { handler: closeRange, support: FULL },
  dup: { handler: dup, support: FULL },
  dup2: { handler: dup2, support: FULL },
  dup3: { handler: dup3, support: FULL },
  fcntl: {
    handler: fcntl,
    support: partial(
      'descriptor flags, status flags, dup, POSIX and OFD record locks, pipe sizes, memfd seals, owners and signal-driven I/O (F_SETOWN, F_SETOWN_EX, F_SETSIG; O_ASYNC signals where Linux sends them, per file type); F_NOTIFY accepted on directories without sending signals; no leases (EINVAL)',
    ),
  },
  ioctl: {
    handler: ioctl,
    support: partial(
      'generic fd ioctls (FIOCLEX, FIONCLEX, FIONBIO, FIOASYNC, FIONREAD); terminal ioctls on ptys (termios, window size, job control, pty numbers and locks, packet mode; no TIOCSTI or legacy termio); SIOCGIF* interface ioctls on sockets; NS_GET_USERNS, NS_GET_PARENT, NS_GET_NSTYPE and NS_GET_OWNER_UID on namespace files; other device ioctls as the file implements them',
    ),
  },
  fstat: { handler: fstat, support: FULL },
  stat: { handler: stat, support: FULL },
  lstat: { handler: lstat, support: FULL },
  newfstatat: { handler: newfstatat, support: FULL },
  statx: { handler: statx, support: partial('basic stats, btime and mnt_id') },
  statfs: { handler: statfs, support: FULL },
  fstatfs: { handler: fstatfs, support: FULL },
  getdents64: { handler: getdents64, support: FULL },
  readlinkat: { handler: readlinkat, support: FULL },
  readlink: { handler: readlink, support: FULL },
  mkdirat: { handler: mkdirat, support: FULL },
  mkdir: { handler: mkdir, support: FULL },
  mknodat: { handler: mknodat, support: FULL },
  mknod: { handler: mknod, support: FULL },
  unlinkat: { handler: unlinkat, support: FULL },
  unlink: { handler: unlink, support: FULL },
  rmdir: { handler: rmdir, support: FULL },
  renameat2: { handler: renameat2, support: partial('RENAME_WHITEOUT is EOPNOTSUPP') },
  renameat: { handler: renameat, support: FULL },
  rename: { handler: rename, support: FULL },
  symlinkat: { handler: symlinkat, support: FULL },
  symlink: { handler: symlink, support: FULL },
  linkat: { handler: linkat, support: FULL },
  link: { handler: link, support: FULL },
  faccessat2: { handler: faccessat2, support: FULL },
  faccessat: { handler: faccessat, support: FULL },
  access: { handler: access, support: FULL },
  fchmodat: { handler: fchmodat, support: FULL },
  chmod: { handler: chmod, support: FULL },
  fchmod: { handler: fchmod, support: FULL },
  fchownat: { handler: fchownat, support: FULL },
  chown: { handler: chown, support: FULL },
  lchown: { handler: lchown, support: FULL },
  fchown: { handler: fchown, support: FULL },
  utimensat: { handler: utimensat, support: FULL },
  truncate: { handler: truncate, support: FULL },
  ftruncate: { handler: ftruncate, support: FULL },
  getcwd: { handler: getcwd, support: FULL },
  chdir: { handler: chdir, support: FULL },
  fchdir: { handler: fchdir, support: FULL },
  pipe2: { handler: pipe2, support: FULL },
  pipe: { handler: pipe, support: FULL },
  chroot: { handler: chroot, support: FULL },
};
