/**
 * The port through which the kernel reaches a sandboxed address space.
 *
 * A sandboxed program hands the kernel raw pointers. Every one of them is untrusted: it may be
 * null, unmapped, not readable, straddle the end of a mapping or lie outside user space. The
 * kernel never dereferences app pointers itself; it asks a {@link TaskMemory}, which answers
 * `EFAULT` for any byte it cannot reach, exactly where Linux's `copy_from_user` would fail.
 *
 * The runtime implements this port over the platform (`process_vm_readv`/`writev` or a shared
 * page); tests and standalone users use {@link FlatMemory}. {@link TaskMemoryBase} derives the
 * string, vector and integer helpers from the two primitives, so an implementation needs only
 * `readInto` and `write`.
 *
 * @module
 */
import { E, isError, type LinuxError } from '@tsvisor/abi';

/**
 * The end of the x86-64 user address space (47-bit, 4-level paging): Linux's `TASK_SIZE_MAX`
 * (`(1 << 47) - PAGE_SIZE`). Addresses at or above it are never valid user pointers.
 */
export const TASK_SIZE = 2 ** 47 - 4096;

/** One `struct iovec` as read from the app: a base pointer and a length, both untrusted. */
export interface Iovec {
  readonly base: number;
  readonly len: number;
}

/** Linux's `UIO_MAXIOV`: the most iovecs one readv/writev-style call may pass. */
export const UIO_MAXIOV = 1024;

/** Linux's `MAX_RW_COUNT`: one read/write moves at most `INT_MAX & PAGE_MASK` bytes. */
export const MAX_RW_COUNT = 0x7ffff000;

/**
 * Access to the memory of one address space, as the sandboxed program sees it.
 *
 * Contract for every method:
 * - addresses are plain numbers; anything negative, non-integer, or at/after {@link TASK_SIZE}
 *   (including a range that wraps past it) is `EFAULT`, never an exception;
 * - a request that touches any unmapped or inaccessible byte fails with `EFAULT` as a whole,
 *   except where a method says it reports a partial count;
 * - permissions are those of the app: writing read-only memory is `EFAULT` (the kernel's own
 *   writes to the app, e.g. a signal frame, follow the same rule);
 * - zero-length accesses succeed without touching memory, whatever the address (as Linux).
 */
export interface TaskMemory {
  /** Copies `len` bytes starting at `addr` into a new buffer. */
  read(addr: number, len: number): Uint8Array | LinuxError;
  /**
   * Copies `dst.length` bytes from `addr` into `dst`. Returns the count copied, which is
   * `dst.length` on success; if the first byte is already unreachable the result is `EFAULT`, and
   * if a later byte is, the count of the bytes before it (what `read(2)` into a partly mapped
   * buffer reports).
   */
  readInto(addr: number, dst: Uint8Array): number | LinuxError;
  /**
   * Copies `bytes` to `addr`. Returns the count written (all of them on success), with the same
   * partial-count rule as {@link readInto}.
   */
  write(addr: number, bytes: Uint8Array): number | LinuxError;
  /**
   * Reads a NUL-terminated string of at most `max` bytes including the NUL, decoded as UTF-8
   * (paths and names are bytes; invalid sequences become U+FFFD, so callers that need the exact
   * bytes use {@link readCStringBytes}). `ENAMETOOLONG` when no NUL is found within `max` bytes,
   * `EFAULT` when a byte before the NUL is unreachable.
   */
  readCString(addr: number, max: number): string | LinuxError;
  /** Like {@link readCString}, returning the bytes without the NUL. */
  readCStringBytes(addr: number, max: number): Uint8Array | LinuxError;
  /**
   * Reads `count` `struct iovec`s at `addr`. `EINVAL` when `count` is negative or above
   * {@link UIO_MAXIOV} or when a length is negative as `ssize_t`, `EFAULT` for the array itself.
   * The iovecs' own base pointers are not checked here: they are checked when used.
   */
  readIovecs(addr: number, count: number): readonly Iovec[] | LinuxError;
  /** Reads exactly `dst.length` bytes or fails with `EFAULT` (`copy_from_user` for a struct). */
  readExact(addr: number, dst: Uint8Array): LinuxError | undefined;
  /** Writes exactly `bytes` or fails with `EFAULT` (`copy_to_user` for a struct). */
  writeExact(addr: number, bytes: Uint8Array): LinuxError | undefined;
  /** Reads a little-endian u32. */
  readU32(addr: number): number | LinuxError;
  /** Reads a little-endian i32. */
  readI32(addr: number): number | LinuxError;
  /** Reads a little-endian u64. */
  readU64(addr: number): bigint | LinuxError;
  /** Writes a little-endian u32. */
  writeU32(addr: number, value: number): LinuxError | undefined;
  /** Writes a little-endian i32. */
  writeI32(addr: number, value: number): LinuxError | undefined;
  /** Writes a little-endian u64 (two's complement for negative values). */
  writeU64(addr: number, value: bigint): LinuxError | undefined;
  /**
   * Reads a NULL-terminated array of string pointers (argv/envp of execve): `E2BIG` past
   * `maxCount` entries or for a string longer than `maxLen`, `EFAULT` for anything unreachable.
   */
  readStringArray(addr: number, maxCount: number, maxLen: number): Uint8Array[] | LinuxError;
}

/** Maps a 64-bit syscall argument that is a user pointer to a number address (see {@link TASK_SIZE}). */
export function userAddress(arg: bigint): number {
  // Anything that does not fit in user space becomes a value every TaskMemory rejects.
  return arg < TASK_SIZE_BIG && arg >= 0n ? Number(arg) : TASK_SIZE;
}

/** TASK_SIZE as a bigint, made once (userAddress runs for most syscalls). */
const TASK_SIZE_BIG = BigInt(TASK_SIZE);

/** True when `[addr, addr+len)` lies inside user space (a quick `access_ok`). */
export function accessOk(addr: number, len: number): boolean {
  return (
    Number.isInteger(addr) &&
    Number.isInteger(len) &&
    addr >= 0 &&
    len >= 0 &&
    addr <= TASK_SIZE &&
    len <= TASK_SIZE - addr
  );
}

/**
 * Derives the whole {@link TaskMemory} surface, plus little-endian integer helpers, from
 * `readInto` and `write`. Implementations override the derived methods only to go faster.
 */
export abstract class TaskMemoryBase implements TaskMemory {
  abstract readInto(addr: number, dst: Uint8Array): number | LinuxError;
  abstract write(addr: number, bytes: Uint8Array): number | LinuxError;

  read(addr: number, len: number): Uint8Array | LinuxError {
    if (!Number.isInteger(len) || len < 0) return E.EFAULT;
    const dst = new Uint8Array(len);
    if (len === 0) return dst;
    const n = this.readInto(addr, dst);
    if (isError(n)) return n;
    return n === len ? dst : E.EFAULT;
  }

  readExact(addr: number, dst: Uint8Array): LinuxError | undefined {
    if (dst.length === 0) return undefined;
    const n = this.readInto(addr, dst);
    if (isError(n)) return n;
    return n === dst.length ? undefined : E.EFAULT;
  }

  writeExact(addr: number, bytes: Uint8Array): LinuxError | undefined {
    if (bytes.length === 0) return undefined;
    const n = this.write(addr, bytes);
    if (isError(n)) return n;
    return n === bytes.length ? undefined : E.EFAULT;
  }

  readCStringBytes(addr: number, max: number): Uint8Array | LinuxError {
    if (!accessOk(addr, 0)) return E.EFAULT;
    // Read in chunks that never cross a page boundary, so a string that ends just before an
    // unmapped page is still found, as strncpy_from_user does.
    const out: Uint8Array[] = [];
    let total = 0;
    let at = addr;
    while (total < max) {
      const toPage = 4096 - (at % 4096);
      const chunk = new Uint8Array(Math.min(toPage, max - total));
      const n = this.readInto(at, chunk);
      if (isError(n)) return n;
      const nul = chunk.subarray(0, n).indexOf(0);
      if (nul >= 0) {
        out.push(chunk.subarray(0, nul));
        return concat(out, total + nul);
      }
      if (n < chunk.length) return E.EFAULT;
      out.push(chunk);
      total += n;
      at += n;
    }
    return E.ENAMETOOLONG;
  }

  readCString(addr: number, max: number): string | LinuxError {
    const bytes = this.readCStringBytes(addr, max);
    return isError(bytes) ? bytes : decoder.decode(bytes);
  }

  readIovecs(addr: number, count: number): readonly Iovec[] | LinuxError {
    if (!Number.isInteger(count) || count < 0 || count > UIO_MAXIOV) return E.EINVAL;
    if (count === 0) return [];
    const raw = this.read(addr, count * 16);
    if (isError(raw)) return raw;
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const out: Iovec[] = [];
    for (let i = 0; i < count; i++) {
      const base = view.getBigUint64(i * 16, true);
      const len = view.getBigInt64(i * 16 + 8, true);
      if (len < 0n) return E.EINVAL;
      out.push({ base: userAddress(base), len: len > BigInt(TASK_SIZE) ? TASK_SIZE : Number(len) });
    }
    return out;
  }

  /** Reads a little-endian u32. */
  readU32(addr: number): number | LinuxError {
    const b = this.read(addr, 4);
    return isError(b) ? b : new DataView(b.buffer, b.byteOffset).getUint32(0, true);
  }

  /** Reads a little-endian i32. */
  readI32(addr: number): number | LinuxError {
    const b = this.read(addr, 4);
    return isError(b) ? b : new DataView(b.buffer, b.byteOffset).getInt32(0, true);
  }

  /** Reads a little-endian u64. */
  readU64(addr: number): bigint | LinuxError {
    const b = this.read(addr, 8);
    return isError(b) ? b : new DataView(b.buffer, b.byteOffset).getBigUint64(0, true);
  }

  /** Writes a little-endian u32. */
  writeU32(addr: number, value: number): LinuxError | undefined {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, value >>> 0, true);
    return this.writeExact(addr, b);
  }

  /** Writes a little-endian i32. */
  writeI32(addr: number, value: number): LinuxError | undefined {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setInt32(0, value | 0, true);
    return this.writeExact(addr, b);
  }

  /** Writes a little-endian u64 (a negative bigint is stored as its two's complement). */
  writeU64(addr: number, value: bigint): LinuxError | undefined {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, BigInt.asUintN(64, value), true);
    return this.writeExact(addr, b);
  }

  /**
   * Reads a NULL-terminated array of string pointers (argv/envp of execve). `E2BIG` past
   * `maxCount` entries, `EFAULT` for an unreachable pointer or string.
   */
  readStringArray(addr: number, maxCount: number, maxLen: number): Uint8Array[] | LinuxError {
    const out: Uint8Array[] = [];
    if (addr === 0) return out;
    for (let i = 0; ; i++) {
      if (i >= maxCount) return E.E2BIG;
      const p = this.readU64(addr + i * 8);
      if (isError(p)) return p;
      if (p === 0n) return out;
      const s = this.readCStringBytes(userAddress(p), maxLen);
      if (isError(s)) return s === E.ENAMETOOLONG ? E.E2BIG : s;
      out.push(s);
    }
  }
}

const decoder = new TextDecoder('utf-8');

function concat(parts: Uint8Array[], len: number): Uint8Array {
  if (parts.length === 1) return parts[0] as Uint8Array;
  const out = new Uint8Array(len);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
