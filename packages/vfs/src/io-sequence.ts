/**
 * I/O sequences: where the bytes of a read go and where those of a write come from, without
 * copying them first (gVisor's usermem.IOSequence, Linux's iov_iter).
 *
 * A read or write used to see a Uint8Array that the syscall layer had already filled from (or
 * would later copy to) the app's memory. That gets Linux wrong in three ways: /dev/null and
 * /dev/full never touch the buffer (write(null_fd, NULL, 10) is 10 on Linux), and a pipe read
 * whose copy-out faults must leave the uncopied bytes in the pipe. An {@link IOSequence} lets the
 * file decide when, and how much, to copy, and tells it exactly how much did get copied.
 *
 * Sequences are immutable values: {@link IOSequence.dropFirst} and {@link IOSequence.takeFirst}
 * make new ones, so a blocked operation can be retried with the same sequence.
 *
 * @module
 */

import { E, isError } from '@tsvisor/abi';
import type { LinuxError } from '@tsvisor/abi';

/**
 * A scatter list of byte ranges in some memory (an app's address space, or plain buffers).
 *
 * Copies stop at the first unreachable byte: the result is the count copied before it, or
 * `EFAULT` when not even the first byte could be reached. A copy never reports a count larger
 * than asked for, and copies nothing past {@link IOSequence.length}.
 */
export interface IOSequence {
  /** The total number of bytes the sequence covers. */
  readonly length: number;
  /** Copies `src` (at most {@link length} bytes of it) to the start of the sequence. */
  copyOut(src: Uint8Array): number | LinuxError;
  /** Copies the start of the sequence into `dst` (at most {@link length} bytes). */
  copyIn(dst: Uint8Array): number | LinuxError;
  /** Writes `len` zero bytes to the start of the sequence (clear_user). */
  zeroOut(len: number): number | LinuxError;
  /** The sequence without its first `n` bytes. */
  dropFirst(n: number): IOSequence;
  /** The first `n` bytes of the sequence (all of it when `n >= length`). */
  takeFirst(n: number): IOSequence;
}

/**
 * The memory an {@link IOSequence} reaches: the two copies a task's memory offers (the kernel's
 * `TaskMemory` has this shape). Both return the count copied, with the partial-count rule of
 * {@link IOSequence}.
 */
export interface UserMemoryIO {
  /** Copies `dst.length` bytes at `addr` into `dst`. */
  readInto(addr: number, dst: Uint8Array): number | LinuxError;
  /** Copies `bytes` to `addr`. */
  write(addr: number, bytes: Uint8Array): number | LinuxError;
}

/** One range of an address space. */
export interface IORange {
  readonly base: number;
  readonly len: number;
}

const ZEROES = new Uint8Array(65536);

const NO_RANGES: readonly IORange[] = Object.freeze([]);

/**
 * An {@link IOSequence} over ranges of an address space (an app's buffer or iovec array).
 *
 * `ranges` is one range (read(2)/write(2)'s buffer) or a list of them (an iovec array).
 *
 * @example
 * ```ts
 * const seq = new UserIOSequence(task.memory, [{ base: 0x1000, len: 64 }]);
 * const n = file.readIO(seq); // bytes land straight in the app's buffer
 * ```
 */
export class UserIOSequence implements IOSequence {
  readonly length: number;
  /**
   * The only non-empty range when there is exactly one (every read(2) and write(2)): copies and
   * slices then go straight to it, with no list to walk or build. Null otherwise.
   */
  private readonly one: IORange | null;
  /** The non-empty ranges when there are several (else empty). */
  private readonly ranges: readonly IORange[];

  constructor(
    private readonly mem: UserMemoryIO,
    ranges: readonly IORange[] | IORange,
  ) {
    if (!Array.isArray(ranges)) {
      const r = ranges as IORange;
      this.one = r.len <= 0 ? null : r;
      this.ranges = NO_RANGES;
      this.length = r.len <= 0 ? 0 : r.len;
      return;
    }
    const list = ranges as readonly IORange[];
    const kept: IORange[] = [];
    let total = 0;
    for (let i = 0; i < list.length; i++) {
      const r = list[i] as IORange;
      if (r.len <= 0) continue;
      kept.push(r);
      total += r.len;
    }
    this.one = kept.length === 1 ? (kept[0] as IORange) : null;
    this.ranges = kept.length === 1 ? NO_RANGES : kept;
    this.length = total;
  }

  copyOut(src: Uint8Array): number | LinuxError {
    return this.copy(src, true);
  }

  copyIn(dst: Uint8Array): number | LinuxError {
    return this.copy(dst, false);
  }

  zeroOut(len: number): number | LinuxError {
    let done = 0;
    const want = Math.min(len, this.length);
    while (done < want) {
      const n = Math.min(ZEROES.length, want - done);
      const r = this.dropFirst(done).copyOut(ZEROES.subarray(0, n));
      if (isError(r)) return done > 0 ? done : r;
      done += r;
      if (r < n) break;
    }
    return done;
  }

  /** One memory copy between `addr` and `part`: to the app (`out`) or from it. */
  private move(addr: number, part: Uint8Array, out: boolean): number | LinuxError {
    return out ? this.mem.write(addr, part) : this.mem.readInto(addr, part);
  }

  private copy(buf: Uint8Array, out: boolean): number | LinuxError {
    const want = Math.min(buf.length, this.length);
    const one = this.one;
    if (one !== null) {
      if (want === 0) return 0;
      const got = this.move(one.base, want === buf.length ? buf : buf.subarray(0, want), out);
      if (isError(got)) return got;
      return got === 0 ? E.EFAULT : got;
    }
    const ranges = this.ranges;
    let done = 0;
    for (let i = 0; i < ranges.length; i++) {
      if (done >= want) break;
      const r = ranges[i] as IORange;
      const n = Math.min(r.len, want - done);
      const got = this.move(r.base, buf.subarray(done, done + n), out);
      if (isError(got)) return done > 0 ? done : got;
      done += got;
      if (got < n) break;
    }
    return done === 0 && want > 0 ? E.EFAULT : done;
  }

  dropFirst(n: number): UserIOSequence {
    if (n <= 0) return this;
    const one = this.one;
    if (one !== null) return new UserIOSequence(this.mem, { base: one.base + n, len: one.len - n });
    const out: IORange[] = [];
    let skip = n;
    for (const r of this.ranges) {
      if (skip >= r.len) {
        skip -= r.len;
        continue;
      }
      out.push(skip > 0 ? { base: r.base + skip, len: r.len - skip } : r);
      skip = 0;
    }
    return new UserIOSequence(this.mem, out);
  }

  takeFirst(n: number): UserIOSequence {
    if (n >= this.length) return this;
    const one = this.one;
    if (one !== null) return new UserIOSequence(this.mem, { base: one.base, len: Math.max(0, n) });
    const out: IORange[] = [];
    let left = Math.max(0, n);
    for (const r of this.ranges) {
      if (left <= 0) break;
      out.push(r.len <= left ? r : { base: r.base, len: left });
      left -= r.len;
    }
    return new UserIOSequence(this.mem, out);
  }
}

/**
 * An {@link IOSequence} over buffers of this process: copies never fault. For callers that hold
 * the bytes themselves (tools, tests, sendfile's bounce buffer).
 *
 * @example
 * ```ts
 * const buf = new Uint8Array(16);
 * file.readIO(new BufferIOSequence([buf]));
 * ```
 */
export class BufferIOSequence implements IOSequence {
  readonly length: number;
  private readonly bufs: readonly Uint8Array[];

  constructor(bufs: readonly Uint8Array[]) {
    this.bufs = bufs.filter((b) => b.length > 0);
    let total = 0;
    for (const b of this.bufs) total += b.length;
    this.length = total;
  }

  copyOut(src: Uint8Array): number {
    let done = 0;
    const want = Math.min(src.length, this.length);
    for (const b of this.bufs) {
      if (done >= want) break;
      const n = Math.min(b.length, want - done);
      b.set(src.subarray(done, done + n));
      done += n;
    }
    return done;
  }

  copyIn(dst: Uint8Array): number {
    let done = 0;
    const want = Math.min(dst.length, this.length);
    for (const b of this.bufs) {
      if (done >= want) break;
      const n = Math.min(b.length, want - done);
      dst.set(b.subarray(0, n), done);
      done += n;
    }
    return done;
  }

  zeroOut(len: number): number {
    let done = 0;
    const want = Math.min(len, this.length);
    for (const b of this.bufs) {
      if (done >= want) break;
      const n = Math.min(b.length, want - done);
      b.fill(0, 0, n);
      done += n;
    }
    return done;
  }

  dropFirst(n: number): BufferIOSequence {
    if (n <= 0) return this;
    const out: Uint8Array[] = [];
    let skip = n;
    for (const b of this.bufs) {
      if (skip >= b.length) {
        skip -= b.length;
        continue;
      }
      out.push(b.subarray(skip));
      skip = 0;
    }
    return new BufferIOSequence(out);
  }

  takeFirst(n: number): BufferIOSequence {
    if (n >= this.length) return this;
    const out: Uint8Array[] = [];
    let left = Math.max(0, n);
    for (const b of this.bufs) {
      if (left <= 0) break;
      out.push(b.subarray(0, Math.min(b.length, left)));
      left -= b.length;
    }
    return new BufferIOSequence(out);
  }
}
