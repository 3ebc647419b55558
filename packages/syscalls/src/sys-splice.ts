/**
 * Moving bytes between two open files inside the kernel: copy_file_range (regular file to regular
 * file), splice (a pipe on at least one side), tee (pipe to pipe, not consuming) and vmsplice
 * (user memory and a pipe). tsvisor has no page cache to share pages from, so they copy
 * through a bounded buffer; what Linux checks, and in which order, is kept.
 *
 * @module
 */
import {
  E,
  FcntlCmd,
  Ioctl,
  Mode,
  OpenFlag,
  PollEvent,
  SiCode,
  Signal,
  isError,
  type LinuxError,
} from '@tsvisor/abi';
import { ERESTARTSYS, MAX_RW_COUNT, type Task } from '@tsvisor/kernel';
import { BufferIOSequence, Pipe, WOULD_BLOCK, type FileDescription, type WouldBlock } from '@tsvisor/vfs';
import {
  FULL,
  int,
  partial,
  ptr,
  size,
  uint,
  type SyscallArgs,
  type SyscallFamily,
  type SyscallResult,
} from './types.js';
import { fileAt, waitReady } from './vfs-context.js';
import { hostBlockingIo } from './sys-socket-host.js';

const { S_IFMT, S_IFREG, S_IFDIR, S_IFIFO } = Mode;
const { O_APPEND, O_NONBLOCK } = OpenFlag;
const { FIONREAD } = Ioctl;
const { F_GETPIPE_SZ } = FcntlCmd;

const SPLICE_F_NONBLOCK = 0x02;
const SPLICE_F_ALL = 0x0f;
/** Bytes moved per step: bounded so a huge length never makes the supervisor allocate much. */
const CHUNK = 1 << 16;

type Io = number | LinuxError | WouldBlock;

function typeOf(f: FileDescription): number {
  return f.stat().mode & S_IFMT;
}

function isPipe(f: FileDescription): boolean {
  return typeOf(f) === S_IFIFO;
}

/** Reads a user `loff_t *` (NULL: undefined). */
function readOffset(t: Task, addr: bigint): bigint | undefined | LinuxError {
  if (addr === 0n) return undefined;
  const v = t.memory.readU64(ptr(addr));
  return isError(v) ? v : BigInt.asIntN(64, v);
}

/**
 * implements copy_file_range(2): generic_copy_file_checks in Linux's order (`EINVAL` for flags,
 * `EBADF`, `EFAULT` for the offsets, `EISDIR`, `EINVAL` unless both are regular files, `EBADF`
 * for modes and O_APPEND, `EOVERFLOW`, the copy shortened to EOF, `EINVAL` for overlapping
 * ranges of one file), `EXDEV` across filesystems (as Linux 6.x for filesystems without their
 * own copy_file_range). Offsets given by pointer are updated, the file positions otherwise.
 */
function copyFileRange(t: Task, a: SyscallArgs): SyscallResult {
  const fin = fileAt(t, int(a[0]));
  if (isError(fin)) return fin;
  const fout = fileAt(t, int(a[2]));
  if (isError(fout)) return fout;
  const offIn = readOffset(t, a[1]);
  if (isError(offIn)) return offIn;
  const offOut = readOffset(t, a[3]);
  if (isError(offOut)) return offOut;
  if (uint(a[5]) !== 0) return E.EINVAL;
  if (fin.isPath || fout.isPath) return E.EBADF;
  const tin = typeOf(fin);
  const tout = typeOf(fout);
  if (tin === S_IFDIR || tout === S_IFDIR) return E.EISDIR;
  if (tin !== S_IFREG || tout !== S_IFREG) return E.EINVAL;
  if (!fin.readable || !fout.writable || (fout.getFlags() & O_APPEND) !== 0) return E.EBADF;
  const posIn = offIn ?? BigInt(fin.offset);
  const posOut = offOut ?? BigInt(fout.offset);
  // "Ensure offsets don't wrap": the sums are taken as u64, before the length is clamped.
  let count = a[4];
  const wraps = (p: bigint): boolean =>
    BigInt.asUintN(64, BigInt.asUintN(64, p) + count) < BigInt.asUintN(64, p);
  if (wraps(posIn) || wraps(posOut)) return E.EOVERFLOW;
  const sizeIn = BigInt(fin.location.inode.size());
  count = posIn >= sizeIn ? 0n : count < sizeIn - posIn ? count : sizeIn - posIn;
  if (count > BigInt(MAX_RW_COUNT)) count = BigInt(MAX_RW_COUNT);
  if (fin.location.inode === fout.location.inode && posOut + count > posIn && posOut < posIn + count)
    return E.EINVAL;
  if (posIn < 0n || posOut < 0n) return E.EINVAL;
  if (count === 0n) return 0;
  if (fin.location.mount.fs !== fout.location.mount.fs) return E.EXDEV;
  let done = 0;
  let left = Number(count);
  const buf = new Uint8Array(Math.min(left, CHUNK));
  while (left > 0) {
    const chunk = buf.subarray(0, Math.min(left, buf.length));
    const r = fin.pread(chunk, Number(posIn) + done);
    if (r === WOULD_BLOCK || isError(r)) {
      if (done > 0) break;
      return r === WOULD_BLOCK ? E.EAGAIN : r;
    }
    if (r === 0) break;
    const w = fout.pwrite(chunk.subarray(0, r), Number(posOut) + done);
    if (w === WOULD_BLOCK || isError(w)) {
      if (done > 0) break;
      return w === WOULD_BLOCK ? E.EAGAIN : w;
    }
    done += w;
    left -= w;
    if (w < r) break;
  }
  if (offIn !== undefined) {
    const e = t.memory.writeU64(ptr(a[1]), posIn + BigInt(done));
    if (e) return e;
  } else fin.offset = Number(posIn) + done;
  if (offOut !== undefined) {
    const e = t.memory.writeU64(ptr(a[3]), posOut + BigInt(done));
    if (e) return e;
  } else fout.offset = Number(posOut) + done;
  return done;
}

/** A buffer reused by every splice: bytes pass through it with no wait between fill and use. */
let scratchBuf = new Uint8Array(CHUNK);

/** The first `n` bytes of the shared splice buffer, grown as needed (at most CHUNK * 16). */
function scratch(n: number): Uint8Array {
  if (scratchBuf.length < n) scratchBuf = new Uint8Array(Math.max(n, scratchBuf.length * 2));
  return scratchBuf.subarray(0, n);
}

/** Bytes a pipe can take now (capacity minus what it holds). */
function pipeSpace(p: FileDescription): number {
  const cap = p.impl.fcntl(F_GETPIPE_SZ, 0, p);
  const held = p.ioctl(FIONREAD, 0n);
  if (typeof cap !== 'number' || typeof held !== 'number') return 0;
  return Math.max(0, cap - held);
}

/**
 * Runs `op` until it does not block: waits for `events` on `file` unless `nonblock` (then
 * `EAGAIN`); a signal restarts the call.
 */
async function untilReady(
  t: Task,
  file: FileDescription,
  events: number,
  nonblock: boolean,
  op: () => Io,
): Promise<SyscallResult> {
  for (;;) {
    const r = op();
    if (r !== WOULD_BLOCK) return r;
    if (nonblock) return E.EAGAIN;
    // A host socket waits its own way (network mode host: SO_RCVTIMEO, host error queues).
    const host = hostBlockingIo(t, file, events, op);
    if (host) return host;
    const why = await waitReady(t, file, events);
    t.kernel.current = t; // others ran meanwhile (signalfd reads the current task's signals)
    if (why === 'interrupted') return ERESTARTSYS;
  }
}

/**
 * implements splice(2): `EINVAL` for unknown flags, `EBADF`, `ESPIPE` for an offset on a pipe
 * side, `EINVAL` unless one side is a pipe (or both are the same pipe, or the output has
 * O_APPEND). Pipe to file writes what the pipe holds (waiting for data unless nonblocking; 0 at
 * end of input); file to pipe reads at most the pipe's free space (waiting for space); pipe to
 * pipe moves bytes.
 */
async function splice(t: Task, a: SyscallArgs): Promise<SyscallResult> {
  let len = Math.min(size(a[4]), MAX_RW_COUNT);
  if (len === 0) return 0;
  const flags = uint(a[5]);
  if ((flags & ~SPLICE_F_ALL) !== 0) return E.EINVAL;
  const fin = fileAt(t, int(a[0]));
  if (isError(fin)) return fin;
  const fout = fileAt(t, int(a[2]));
  if (isError(fout)) return fout;
  if (!fin.readable || !fout.writable) return E.EBADF;
  const ipipe = isPipe(fin);
  const opipe = isPipe(fout);
  if (ipipe && a[1] !== 0n) return E.ESPIPE;
  if (opipe && a[3] !== 0n) return E.ESPIPE;
  const offOut = readOffset(t, a[3]);
  if (isError(offOut)) return offOut;
  const offIn = readOffset(t, a[1]);
  if (isError(offIn)) return offIn;
  let nonblock = (flags & SPLICE_F_NONBLOCK) !== 0;
  len = Math.min(len, CHUNK * 16);

  if (ipipe && opipe) {
    if (fin.location.inode === fout.location.inode) return E.EINVAL;
    nonblock ||= ((fin.getFlags() | fout.getFlags()) & O_NONBLOCK) !== 0;
    // Wait for input first, then for room in the output (splice_pipe_to_pipe).
    const held = await untilReady(t, fin, PollEvent.POLLIN, nonblock, () => {
      const n = fin.ioctl(FIONREAD, 0n);
      if (isError(n)) return n;
      if (n > 0) return n;
      // Empty: end of input once no writer is left (POLLHUP), else wait.
      return (fin.readiness(PollEvent.POLLIN) & PollEvent.POLLHUP) !== 0 ? 0 : WOULD_BLOCK;
    });
    if (typeof held !== 'number' || held === 0) return held;
    const room = await untilReady(t, fout, PollEvent.POLLOUT, nonblock, () => {
      const s = pipeSpace(fout);
      return s > 0 ? s : WOULD_BLOCK;
    });
    if (typeof room !== 'number') return room;
    const buf = scratch(Math.min(len, held, room));
    const r = fin.read(buf);
    if (r === WOULD_BLOCK || isError(r)) return r === WOULD_BLOCK ? E.EAGAIN : r;
    return fout.write(buf.subarray(0, r)) as SyscallResult;
  }

  if (ipipe) {
    if (offOut !== undefined && typeOf(fout) !== S_IFREG) return E.EINVAL;
    if ((fout.getFlags() & O_APPEND) !== 0) return E.EINVAL;
    if (offOut !== undefined && offOut < 0n) return E.EINVAL;
    const ip = pipeOf(fin);
    if (!ip) return E.EINVAL;
    nonblock ||= (fin.getFlags() & O_NONBLOCK) !== 0;
    // SPLICE_F_NONBLOCK and the pipe's O_NONBLOCK decide the wait for input; the output waits
    // for room unless its own O_NONBLOCK is set (splice_to_socket's MSG_DONTWAIT).
    const outNonblock = (fout.getFlags() & O_NONBLOCK) !== 0;
    let done = 0;
    for (;;) {
      const held = await untilReady(t, fin, PollEvent.POLLIN, nonblock, () =>
        ip.length > 0 ? ip.length : ip.writers === 0 ? 0 : WOULD_BLOCK,
      );
      if (typeof held !== 'number' || held === 0) return held;
      // Only what the output took leaves the pipe, as Linux consumes pipe buffers as they are
      // sent: a full non-blocking socket answers EAGAIN with the pipe untouched. The output
      // copies straight from the pipe's pages, taken afresh after each wait (another reader may
      // have drained some meanwhile: a write of nothing says so).
      const want = Math.min(len, held);
      let stop: SyscallResult | undefined;
      while (done < want) {
        const at = offOut === undefined ? undefined : Number(offOut) + done;
        const w = await untilReady(t, fout, PollEvent.POLLOUT, outNonblock, () => {
          const part = new BufferIOSequence(ip.views(want - done));
          if (part.length === 0) return 0;
          return at === undefined ? fout.writeIO(part) : fout.pwriteIO(part, at);
        });
        if (typeof w !== 'number' || w === 0) {
          stop = w;
          break;
        }
        ip.consume(w);
        done += w;
      }
      if (done > 0) break;
      if (stop !== 0) return stop ?? 0;
      // The pipe was emptied by another reader while the output was full: wait for input again.
    }
    if (offOut !== undefined) {
      const e = t.memory.writeU64(ptr(a[3]), offOut + BigInt(done));
      if (e) return e;
    }
    return done;
  }

  if (opipe) {
    if (offIn !== undefined && typeOf(fin) !== S_IFREG) return E.EINVAL;
    if (offIn !== undefined && offIn < 0n) return E.EINVAL;
    nonblock ||= (fout.getFlags() & O_NONBLOCK) !== 0;
    const room = await untilReady(t, fout, PollEvent.POLLOUT, nonblock, () => {
      const s = pipeSpace(fout);
      return s > 0 ? s : WOULD_BLOCK;
    });
    if (typeof room !== 'number') return room;
    // Filled and written with no wait between, so a buffer shared by every call serves.
    const buf = scratch(Math.min(len, room));
    const seekable = typeOf(fin) === S_IFREG;
    const pos = offIn ?? (seekable ? BigInt(fin.offset) : 0n);
    const r = await untilReady(t, fin, PollEvent.POLLIN, nonblock, () =>
      seekable ? fin.pread(buf, Number(pos)) : fin.read(buf),
    );
    if (typeof r !== 'number' || r === 0) return r;
    const w = fout.write(buf.subarray(0, r));
    if (w === WOULD_BLOCK || isError(w)) return w === WOULD_BLOCK ? E.EAGAIN : w;
    if (offIn !== undefined) {
      const e = t.memory.writeU64(ptr(a[1]), pos + BigInt(w));
      if (e) return e;
    } else if (seekable) fin.offset = Number(pos) + w;
    return w;
  }
  return E.EINVAL;
}

/** The pipe behind a pipe end, if `f` is one. */
function pipeOf(f: FileDescription): Pipe | undefined {
  const p = (f.impl as { pipe?: unknown }).pipe;
  return p instanceof Pipe ? p : undefined;
}

/**
 * implements tee(2): duplicates up to `len` bytes from the front of one pipe into another
 * without consuming them. `EINVAL` for unknown flags or unless both are distinct pipes, `EBADF`
 * for the modes; waits for input and for room unless nonblocking; 0 when the input is empty and
 * has no writer.
 */
async function tee(t: Task, a: SyscallArgs): Promise<SyscallResult> {
  const flags = uint(a[3]);
  if ((flags & ~SPLICE_F_ALL) !== 0) return E.EINVAL;
  const len = Math.min(size(a[2]), MAX_RW_COUNT);
  if (len === 0) return 0;
  const fin = fileAt(t, int(a[0]));
  if (isError(fin)) return fin;
  if (!fin.readable) return E.EBADF;
  const fout = fileAt(t, int(a[1]));
  if (isError(fout)) return fout;
  if (!fout.writable) return E.EBADF;
  const ip = pipeOf(fin);
  const op = pipeOf(fout);
  if (!ip || !op || ip === op) return E.EINVAL;
  const nonblock =
    (flags & SPLICE_F_NONBLOCK) !== 0 || ((fin.getFlags() | fout.getFlags()) & O_NONBLOCK) !== 0;
  const held = await untilReady(t, fin, PollEvent.POLLIN, nonblock, () =>
    ip.length > 0 ? ip.length : ip.writers === 0 ? 0 : WOULD_BLOCK,
  );
  if (typeof held !== 'number' || held === 0) return held;
  const room = await untilReady(t, fout, PollEvent.POLLOUT, nonblock, () => {
    if (op.readers === 0) return E.EPIPE;
    const s = op.capacity - op.length;
    return s > 0 ? s : WOULD_BLOCK;
  });
  if (typeof room !== 'number') return room === E.EPIPE ? sigpipe(t) : room;
  const w = op.writeIO(new BufferIOSequence(ip.views(Math.min(len, room))));
  if (w === WOULD_BLOCK) return E.EAGAIN;
  return w;
}

/**
 * implements vmsplice(2) as the copy Linux allows it to be: to a pipe's write end, the bytes of
 * the iovecs go in (what fits once there is room, as a pipe write); from a read end, buffered
 * bytes go out to the iovecs (0 at end of input). `EINVAL` for unknown flags or too many
 * iovecs, `EBADF` unless the fd is a pipe end, `EFAULT`, `EAGAIN` when it would wait and
 * SPLICE_F_NONBLOCK or O_NONBLOCK is set.
 */
async function vmsplice(t: Task, a: SyscallArgs): Promise<SyscallResult> {
  const flags = uint(a[3]);
  if ((flags & ~SPLICE_F_ALL) !== 0) return E.EINVAL;
  const file = fileAt(t, int(a[0]));
  if (isError(file)) return file;
  const toPipe = file.writable;
  if (!toPipe && !file.readable) return E.EBADF;
  const iovs = t.memory.readIovecs(ptr(a[1]), size(a[2]));
  if (isError(iovs)) return iovs;
  const total = Math.min(
    iovs.reduce((n, v) => n + v.len, 0),
    MAX_RW_COUNT,
  );
  if (total === 0) return 0;
  const pipe = pipeOf(file);
  if (!pipe) return E.EBADF;
  const nonblock = (flags & SPLICE_F_NONBLOCK) !== 0 || (file.getFlags() & O_NONBLOCK) !== 0;
  const want = Math.min(total, CHUNK * 16);
  if (toPipe) {
    const room = await untilReady(t, file, PollEvent.POLLOUT, nonblock, () => {
      if (pipe.readers === 0) return E.EPIPE;
      const free = pipe.capacity - pipe.length;
      return free > 0 ? free : WOULD_BLOCK;
    });
    if (typeof room !== 'number') return room === E.EPIPE ? sigpipe(t) : room;
    const buf = new Uint8Array(Math.min(want, room));
    let at = 0;
    for (const v of iovs) {
      if (at >= buf.length) break;
      const n = Math.min(v.len, buf.length - at);
      if (n === 0) continue;
      const bytes = t.memory.read(v.base, n);
      if (isError(bytes) || bytes.length < n) {
        if (at > 0) break;
        return E.EFAULT;
      }
      buf.set(bytes, at);
      at += n;
    }
    const w = pipe.write(buf.subarray(0, at));
    return w === WOULD_BLOCK ? E.EAGAIN : w;
  }
  const held = await untilReady(t, file, PollEvent.POLLIN, nonblock, () =>
    pipe.length > 0 ? pipe.length : pipe.writers === 0 ? 0 : WOULD_BLOCK,
  );
  if (typeof held !== 'number' || held === 0) return held;
  const buf = new Uint8Array(Math.min(want, held));
  pipe.peek(buf);
  let done = 0;
  for (const v of iovs) {
    if (done >= buf.length) break;
    const n = Math.min(v.len, buf.length - done);
    if (n === 0) continue;
    const w = t.memory.write(v.base, buf.subarray(done, done + n));
    const got = isError(w) ? 0 : w;
    done += got;
    if (got < n) break;
  }
  if (done === 0) return E.EFAULT;
  // Consume exactly what reached the app; the rest stays in the pipe.
  pipe.read(new Uint8Array(done));
  return done;
}

/** EPIPE with SIGPIPE to the caller, as a write to a pipe without readers. */
function sigpipe(t: Task): SyscallResult {
  t.kernel.sendToTask(t, { signo: Signal.SIGPIPE, code: SiCode.SI_USER, pid: t.tgid, uid: t.creds.uid });
  return E.EPIPE;
}

/** In-kernel copy syscalls. */
export const spliceSyscalls: SyscallFamily = {
  copy_file_range: { handler: copyFileRange, support: FULL },
  vmsplice: {
    handler: vmsplice,
    support: partial('copies (SPLICE_F_GIFT pages are not donated); counts pipe room in bytes'),
  },
  tee: { handler: tee, support: partial('counts the output pipe room in bytes, not in page slots') },
  splice: {
    handler: splice,
    support: partial(
      'copies through a buffer (no page sharing); bytes read from a non-seekable input are lost if the output fails part way',
    ),
  },
};
