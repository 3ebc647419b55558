/**
 * Sparse, growable storage for the bytes of an in-memory regular file.
 *
 * The file is cut into 64 KiB chunks kept in a map by index; a chunk never written is a hole
 * (reads as zeros, costs nothing, however far away: a file can be 2^52 bytes long and hold one
 * page). A chunk is allocated at the size first needed and doubled as writes extend it, so small
 * files stay small and large sequential writes copy each byte once. Each chunk records which of
 * its 4 KiB pages were written, so SEEK_DATA/SEEK_HOLE and st_blocks have Linux tmpfs's page
 * granularity.
 *
 * Large writes fill whole chunks carved from shared slabs (see {@link FileData.writeSlab}); a
 * file written sequentially gets slabs that double in size (up to 256 MiB), so a 1 GiB file
 * costs about a dozen allocations. A slab is freed when none of its chunks is left; when
 * truncation or hole punching leaves less than half of a slab's chunks, those are copied out
 * into an allocation of their own so the slab can go (the copy is never larger than what was
 * freed, so it costs at most one more pass over the bytes written).
 *
 * A file the sandbox maps can move its bytes into host memory ({@link FileData.moveToHost}: a
 * memfd given by a {@link HostMemoryProvider}), once; from then on every read, write and size
 * change goes through that host fd, so the mappings (which map the same memfd) and read(2) /
 * write(2) see each other's bytes. Sparseness is then the host's business: SEEK_DATA/SEEK_HOLE
 * see one extent of data, and punching a hole writes zeros.
 *
 * @module
 */

import * as fs from 'node:fs';
import { E } from '@tsvisor/abi';
import type { LinuxError } from '@tsvisor/abi';

/**
 * Where an in-memory filesystem gets host memory for files that are mapped (the runtime gives
 * memfds; a standalone VFS has none, and its files are then never host-mapped).
 */
export interface HostMemoryProvider {
  /**
   * A new, empty host memory file open for reading and writing (node:fs I/O with a position
   * must work on it), or an error. `name` is for the host's /proc only.
   */
  create(name: string): number | LinuxError;
  /**
   * Adds F_SEAL_* `seals` to a file from {@link create}, where the host's mappings are:
   * `EBUSY` for F_SEAL_WRITE while a writable shared mapping exists.
   */
  addSeals(fd: number, seals: number): LinuxError | undefined;
}

/** Host fds of collected files are closed (a mapping keeps its own reference to the memory). */
const hostFds = new FinalizationRegistry<number>((fd) => {
  try {
    fs.closeSync(fd);
  } catch {
    // already closed
  }
});

const ZERO_PAGE = new Uint8Array(65536);

const CHUNK = 1 << 16;
const PAGE = 4096;
const PAGES_PER_CHUNK = CHUNK / PAGE;
const MIN_ALLOC = 64;
/** The most chunks one call of a large write fills (1 MiB). */
const SLAB_CHUNKS = 16;
/** The most chunks one slab holds (256 MiB). */
const MAX_SLAB = 4096;
/** The `present` bits of a chunk whose every page was written. */
const FULL_CHUNK = (1 << PAGES_PER_CHUNK) - 1;

interface Chunk {
  data: Uint8Array;
  /** Bit i: page i of the chunk was written. */
  present: number;
  /** The slab `data` is a view of, or null when the chunk has a buffer of its own. */
  slab: Slab | null;
}

/**
 * One allocation shared by whole chunks of one file. Its chunks have indices in
 * [firstCi, endCi) and sit in index order (some may have gone since, and a compacted slab
 * skips indices), so two consecutive indices in one slab are adjacent in its memory.
 */
interface Slab {
  readonly buf: Uint8Array;
  /** Chunks the slab can hold. */
  readonly chunks: number;
  /** Chunks handed out so far. */
  used: number;
  /** Chunks handed out and still in the file. */
  live: number;
  /** The lowest chunk index handed out. */
  firstCi: number;
  /** One past the highest chunk index handed out: where a sequential writer continues. */
  endCi: number;
}

function popcount16(x: number): number {
  x = x - ((x >>> 1) & 0x5555);
  x = (x & 0x3333) + ((x >>> 2) & 0x3333);
  x = (x + (x >>> 4)) & 0x0f0f;
  return (x + (x >>> 8)) & 0x1f;
}

/** The bytes of one regular file. */
export class FileData {
  private readonly chunks = new Map<number, Chunk>();
  /** The slab last written into (its unused end serves the chunks that follow). */
  private last: Slab | null = null;
  /** The file size (may extend past the last allocated chunk: a trailing hole). */
  size = 0;
  /** The host fd holding the bytes once they moved to host memory, else -1. */
  private host = -1;

  /** The host fd the bytes live in, or null while they are in this process. */
  get hostFd(): number | null {
    return this.host < 0 ? null : this.host;
  }

  /**
   * Moves the bytes into the empty host file `fd` (from a {@link HostMemoryProvider}), which
   * this object owns from now on (it is closed when this is collected). Holes stay holes.
   * On a host error the bytes stay here, `fd` is closed and the error returned.
   */
  moveToHost(fd: number): LinuxError | undefined {
    if (this.host >= 0) throw new Error('FileData.moveToHost: already in host memory');
    try {
      for (const [ci, c] of this.chunks) {
        const at = ci * CHUNK;
        const len = Math.min(c.data.length, this.size - at);
        if (len > 0) writeAll(fd, c.data.subarray(0, len), at);
      }
      fs.ftruncateSync(fd, this.size);
    } catch (e) {
      fs.closeSync(fd);
      return hostErrno(e);
    }
    this.chunks.clear();
    this.last = null;
    this.host = fd;
    hostFds.register(this, fd, this);
    return undefined;
  }

  /**
   * The file is gone for good (evicted): close its host memory now rather than when this is
   * collected (host mappings keep their own reference to the pages). The data reads as empty.
   */
  releaseHostMemory(): void {
    if (this.host < 0) return;
    hostFds.unregister(this);
    fs.closeSync(this.host);
    this.host = -1;
    this.size = 0;
  }

  /**
   * Bytes of this process's memory the data keeps alive: chunk buffers, and every slab with a
   * chunk left counted whole (its never-touched end takes address space only). 0 once the
   * bytes are in host memory. For diagnostics and for tests that memory is given back.
   */
  heldBytes(): number {
    const slabs = new Set<Slab>();
    let n = 0;
    for (const c of this.chunks.values()) {
      if (c.slab === null) n += c.data.length;
      else if (!slabs.has(c.slab)) {
        slabs.add(c.slab);
        n += c.slab.buf.length;
      }
    }
    return n;
  }

  /** Pages holding data (st_blocks is 8 per page). */
  pages(): number {
    if (this.host >= 0) return Math.ceil(fs.fstatSync(this.host).blocks / 8);
    let n = 0;
    for (const c of this.chunks.values()) n += popcount16(c.present);
    return n;
  }

  /** Copy up to `dst.length` bytes from `offset` into `dst`; returns the count (0 at or past EOF). */
  read(dst: Uint8Array, offset: number): number {
    const size = this.size;
    if (offset >= size) return 0;
    const n = Math.min(dst.length, size - offset);
    if (this.host >= 0) {
      let got = 0;
      while (got < n) {
        const r = fs.readSync(this.host, dst, got, n - got, offset + got);
        if (r === 0) break;
        got += r;
      }
      dst.fill(0, got, n);
      return n;
    }
    let done = 0;
    while (done < n) {
      const pos = offset + done;
      const ci = Math.floor(pos / CHUNK);
      const within = pos - ci * CHUNK;
      const take = Math.min(n - done, CHUNK - within);
      const chunk = this.chunks.get(ci);
      if (chunk === undefined || within >= chunk.data.length) {
        dst.fill(0, done, done + take);
      } else if (chunk.slab !== null && within + take === CHUNK) {
        // The following chunks of the same slab go in the same copy: a slab keeps its chunks in
        // index order, so consecutive indices in one slab are adjacent in its memory.
        const data = chunk.data;
        let run = take;
        for (let next = ci + 1; done + run < n; next++) {
          const c = this.chunks.get(next);
          if (c === undefined || c.slab !== chunk.slab) break;
          run += Math.min(n - done - run, CHUNK);
        }
        dst.set(new Uint8Array(data.buffer, data.byteOffset + within, run), done);
        done += run;
        continue;
      } else {
        const data = chunk.data;
        const avail = Math.min(take, data.length - within);
        dst.set(data.subarray(within, within + avail), done);
        if (avail < take) dst.fill(0, done + avail, done + take);
      }
      done += take;
    }
    return n;
  }

  /** Write all of `src` at `offset`, growing the file as needed. */
  write(src: Uint8Array, offset: number): void {
    const n = src.length;
    if (this.host >= 0) {
      writeAll(this.host, src, offset);
      if (offset + n > this.size) this.size = offset + n;
      return;
    }
    let done = 0;
    while (done < n) {
      const pos = offset + done;
      const ci = Math.floor(pos / CHUNK);
      const within = pos - ci * CHUNK;
      if (within === 0 && n - done >= CHUNK && !this.chunks.has(ci)) {
        done += this.writeSlab(src, done, ci);
        continue;
      }
      const take = Math.min(n - done, CHUNK - within);
      const chunk = this.ensure(ci, within + take);
      chunk.data.set(src.subarray(done, done + take), within);
      const first = Math.floor(within / PAGE);
      const last = Math.floor((within + take - 1) / PAGE);
      chunk.present |= ((1 << (last + 1)) - 1) & ~((1 << first) - 1);
      done += take;
    }
    if (offset + n > this.size) this.size = offset + n;
  }

  /**
   * A large write into absent chunks: each whole absent chunk from `ci` on (at most SLAB_CHUNKS
   * in one call) becomes a view of a shared allocation, filled by one copy. Fewer, larger
   * buffers make big sequential writes much cheaper for the allocator and the garbage collector
   * (V8 weighs every new buffer against a limit that grows with what survived the last
   * collection, so many medium buffers cost many full collections, each walking the whole
   * heap). A write that continues where the last slab ended gets a slab twice that one's size
   * (up to MAX_SLAB), as memfs and realloc-style buffers grow, but without copying what was
   * written; the unused end serves the following chunks. Only touched pages of an allocation
   * this large take memory. Returns the bytes written.
   */
  private writeSlab(src: Uint8Array, from: number, ci: number): number {
    let k = 1;
    while (k < SLAB_CHUNKS && src.length - from >= (k + 1) * CHUNK && !this.chunks.has(ci + k)) k++;
    let slab = this.last;
    if (slab === null || slab.endCi !== ci || slab.chunks - slab.used < k) {
      const want = slab !== null && slab.endCi === ci ? Math.min(MAX_SLAB, Math.max(k, 2 * slab.chunks)) : k;
      // Every byte handed out is overwritten first, so the allocation need not be zeroed
      // (Node's unpooled, uninitialised buffer saves a pass over memory).
      const buf = Buffer.allocUnsafeSlow(want * CHUNK);
      slab = { buf, chunks: want, used: 0, live: 0, firstCi: ci, endCi: ci };
      this.last = slab;
    }
    const base = slab.used * CHUNK;
    const len = k * CHUNK;
    const buf = slab.buf;
    buf.set(src.subarray(from, from + len), base);
    for (let j = 0; j < k; j++) {
      const at = base + j * CHUNK;
      this.chunks.set(ci + j, { data: buf.subarray(at, at + CHUNK), present: FULL_CHUNK, slab });
    }
    slab.used += k;
    slab.live += k;
    slab.endCi = ci + k;
    return len;
  }

  private ensure(ci: number, need: number): Chunk {
    let chunk = this.chunks.get(ci);
    if (chunk !== undefined && chunk.data.length >= need) return chunk;
    const cur = chunk?.data;
    let len = cur === undefined ? MIN_ALLOC : cur.length * 2;
    while (len < need) len *= 2;
    if (len > CHUNK) len = CHUNK;
    const grown = new Uint8Array(len);
    if (cur !== undefined) grown.set(cur);
    if (chunk === undefined) {
      chunk = { data: grown, present: 0, slab: null };
      this.chunks.set(ci, chunk);
    } else chunk.data = grown;
    return chunk;
  }

  /** Remove chunk `ci`; returns its slab when that may now be worth compacting. */
  private drop(ci: number, chunk: Chunk): Slab | null {
    this.chunks.delete(ci);
    const slab = chunk.slab;
    if (slab === null) return null;
    slab.live--;
    return slab;
  }

  /**
   * After chunks of `slab` went: when fewer than half of the chunks it handed out are left, copy
   * those into an allocation of their own, so the slab (and the memory of the chunks that went)
   * is freed. The copy is at most as large as what was dropped.
   */
  private compact(slab: Slab): void {
    if (slab.live * 2 >= slab.used) return;
    if (this.last === slab) this.last = null;
    if (slab.live === 0) return;
    const buf = Buffer.allocUnsafeSlow(slab.live * CHUNK);
    const packed: Slab = { buf, chunks: slab.live, used: slab.live, live: slab.live, firstCi: -1, endCi: -1 };
    let j = 0;
    for (let ci = slab.firstCi; ci < slab.endCi && j < slab.live; ci++) {
      const c = this.chunks.get(ci);
      if (c === undefined || c.slab !== slab) continue;
      const at = j * CHUNK;
      buf.set(c.data, at);
      c.data = buf.subarray(at, at + CHUNK);
      c.slab = packed;
      if (j === 0) packed.firstCi = ci;
      packed.endCi = ci + 1;
      j++;
    }
    if (j !== slab.live) throw new Error('FileData.compact: slab bookkeeping is off');
  }

  /** Set the size: shrinking frees pages past the end and zeroes the tail of the last one. */
  truncate(size: number): void {
    if (this.host >= 0) {
      fs.ftruncateSync(this.host, size);
      this.size = size;
      return;
    }
    // A later write past the end starts a new slab (the old one's spare end is not reused).
    this.last = null;
    if (size < this.size) {
      const keep = Math.ceil(size / CHUNK);
      let touched: Set<Slab> | null = null;
      for (const [ci, c] of this.chunks)
        if (ci >= keep) {
          const slab = this.drop(ci, c);
          if (slab !== null) (touched ??= new Set()).add(slab);
        }
      if (touched !== null) for (const slab of touched) this.compact(slab);
      const last = this.chunks.get(keep - 1);
      if (last !== undefined) {
        const within = size - (keep - 1) * CHUNK;
        if (within < last.data.length) last.data.fill(0, within);
        last.present &= (1 << Math.ceil(within / PAGE)) - 1;
      }
    }
    this.size = size;
  }

  /** fallocate mode 0 / KEEP_SIZE: make the pages of [offset, offset+len) present (zeros). */
  allocate(offset: number, len: number): void {
    if (this.host >= 0) return; // host memory is allocated when touched
    const endPage = Math.ceil((offset + len) / PAGE);
    for (let pg = Math.floor(offset / PAGE); pg < endPage;) {
      const ci = Math.floor(pg / PAGES_PER_CHUNK);
      const first = pg - ci * PAGES_PER_CHUNK;
      const last = Math.min(PAGES_PER_CHUNK, endPage - ci * PAGES_PER_CHUNK) - 1;
      const chunk = this.ensure(ci, (last + 1) * PAGE);
      chunk.present |= ((1 << (last + 1)) - 1) & ~((1 << first) - 1);
      pg = ci * PAGES_PER_CHUNK + last + 1;
    }
  }

  /** FALLOC_FL_PUNCH_HOLE: zero [offset, offset+len) and free the whole pages inside it. */
  punch(offset: number, len: number): void {
    const end = Math.min(offset + len, this.size);
    if (offset >= end) return;
    if (this.host >= 0) {
      // node:fs has no fallocate: the range reads as zeros, its memory is not given back.
      for (let at = offset; at < end; at += ZERO_PAGE.length)
        writeAll(this.host, ZERO_PAGE.subarray(0, Math.min(ZERO_PAGE.length, end - at)), at);
      return;
    }
    let touched: Set<Slab> | null = null;
    for (let pos = offset; pos < end;) {
      const ci = Math.floor(pos / CHUNK);
      const within = pos - ci * CHUNK;
      const take = Math.min(end - pos, CHUNK - within);
      const chunk = this.chunks.get(ci);
      if (chunk !== undefined) {
        if (within < chunk.data.length)
          chunk.data.fill(0, within, Math.min(chunk.data.length, within + take));
        const firstWhole = Math.ceil(within / PAGE);
        const lastWhole = Math.floor((within + take) / PAGE) - 1;
        const atEof = pos + take >= this.size;
        const lastFreed = atEof ? Math.ceil((within + take) / PAGE) - 1 : lastWhole;
        if (lastFreed >= firstWhole)
          chunk.present &= ~(((1 << (lastFreed + 1)) - 1) & ~((1 << firstWhole) - 1));
        if (chunk.present === 0) {
          const slab = this.drop(ci, chunk);
          if (slab !== null) (touched ??= new Set()).add(slab);
        }
      }
      pos += take;
    }
    if (touched !== null) for (const slab of touched) this.compact(slab);
  }

  /** SEEK_DATA: the first offset >= `offset` in a written page, or -1. */
  nextData(offset: number): number {
    if (this.host >= 0) return offset < this.size ? offset : -1;
    let best = -1;
    const startChunk = Math.floor(offset / CHUNK);
    for (const [ci, c] of this.chunks) {
      if (ci < startChunk || c.present === 0) continue;
      for (let pg = 0; pg < PAGES_PER_CHUNK; pg++) {
        if (((c.present >>> pg) & 1) === 0) continue;
        const pageEnd = ci * CHUNK + (pg + 1) * PAGE;
        if (pageEnd <= offset) continue;
        const at = Math.max(offset, ci * CHUNK + pg * PAGE);
        if (best < 0 || at < best) best = at;
        break;
      }
    }
    return best >= this.size ? -1 : best;
  }

  /** SEEK_HOLE: the first offset >= `offset` in a hole (the end of file counts as one). */
  nextHole(offset: number): number {
    if (this.host >= 0) return this.size;
    let pos = offset;
    while (pos < this.size) {
      const ci = Math.floor(pos / CHUNK);
      const c = this.chunks.get(ci);
      const pg = Math.floor((pos - ci * CHUNK) / PAGE);
      if (c === undefined || ((c.present >>> pg) & 1) === 0) return pos;
      pos = ci * CHUNK + (pg + 1) * PAGE;
    }
    return this.size;
  }
}

function writeAll(fd: number, src: Uint8Array, offset: number): void {
  let done = 0;
  while (done < src.length) done += fs.writeSync(fd, src, done, src.length - done, offset + done);
}

/** The errno of a node:fs failure on host memory (ENOMEM/ENOSPC when the host runs out). */
function hostErrno(e: unknown): LinuxError {
  const code = (e as { code?: unknown }).code;
  return code === 'ENOSPC' ? E.ENOSPC : code === 'EPERM' ? E.EPERM : E.ENOMEM;
}
