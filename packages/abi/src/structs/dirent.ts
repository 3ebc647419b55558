/**
 * `struct linux_dirent64`, the variable-length records getdents64(2) packs into a user buffer:
 * a 19-byte header (`d_ino`, `d_off`, `d_reclen`, `d_type`), the NUL-terminated name, padding to
 * a multiple of 8. {@link Dirent64Writer} packs as many entries as fit, the way filldir64 does.
 *
 * @module
 */

import { E, type LinuxError } from '../errno.js';
import { alignUp, checkRange, dataView, type FieldInfo } from './layout.js';

/** Offset of `d_name` (the end of the packed header). */
export const DIRENT64_NAME_OFFSET = 19;

/** One directory entry. The name is raw bytes (Linux file names are bytes, not text). */
export interface Dirent64 {
  /** Inode number. */
  d_ino: bigint;
  /** Opaque position of the next entry, as the filesystem's llseek understands it (s64). */
  d_off: bigint;
  /** DT_* file type. */
  d_type: number;
  d_name: Uint8Array;
}

const fields: readonly FieldInfo[] = [
  { name: 'd_ino', offset: 0, size: 8, kind: 'u64' },
  { name: 'd_off', offset: 8, size: 8, kind: 'i64' },
  { name: 'd_reclen', offset: 16, size: 2, kind: 'u16' },
  { name: 'd_type', offset: 18, size: 1, kind: 'u8' },
  { name: 'd_name', offset: 19, size: 0, kind: 'bytes', flexible: true },
];

/** Record length for a name of `nameLen` bytes: header + name + NUL, rounded up to 8. */
export function dirent64RecLen(nameLen: number): number {
  return alignUp(DIRENT64_NAME_OFFSET + nameLen + 1, 8);
}

/**
 * Writes one record at `at` without checks (the caller has ensured `dirent64RecLen(name.length)`
 * bytes are there). Like filldir64 it writes the header, the name and its NUL, and leaves the
 * alignment padding after the NUL untouched. Returns the record length.
 */
export function writeDirent64(
  dv: DataView,
  at: number,
  d_ino: bigint,
  d_off: bigint,
  d_type: number,
  name: Uint8Array,
): number {
  const reclen = dirent64RecLen(name.length);
  dv.setBigUint64(at, BigInt.asUintN(64, d_ino), true);
  dv.setBigInt64(at + 8, BigInt.asIntN(64, d_off), true);
  dv.setUint16(at + 16, reclen, true);
  dv.setUint8(at + 18, d_type);
  const dst = new Uint8Array(dv.buffer, dv.byteOffset + at + DIRENT64_NAME_OFFSET, name.length + 1);
  dst.set(name);
  dst[name.length] = 0;
  return reclen;
}

/**
 * The linux_dirent64 record codec. `size` is what C's `sizeof(struct linux_dirent64)` gives (the
 * header padded to 8); a record's real length is `bufferLen(value)`.
 */
export const linux_dirent64 = {
  name: 'linux_dirent64',
  size: 24,
  fields,
  /** Bytes one record takes. */
  bufferLen(value: Dirent64): number {
    return dirent64RecLen(value.d_name.length);
  },
  /**
   * Parses one record at `offset`: `E.EFAULT` if the header or the record runs past the input,
   * `E.EINVAL` if `d_reclen` is too small for a name or not a multiple of 8. The name ends at the
   * first NUL inside the record.
   */
  parse(buf: Uint8Array, offset = 0): Dirent64 | LinuxError {
    const bad = checkRange(buf, offset, DIRENT64_NAME_OFFSET);
    if (bad) return bad;
    const dv = dataView(buf);
    const reclen = dv.getUint16(offset + 16, true);
    if (reclen < DIRENT64_NAME_OFFSET + 1 || reclen % 8 !== 0) return E.EINVAL;
    if (offset + reclen > buf.length) return E.EFAULT;
    const nameArea = buf.subarray(offset + DIRENT64_NAME_OFFSET, offset + reclen);
    const nul = nameArea.indexOf(0);
    if (nul < 0) return E.EINVAL;
    return {
      d_ino: dv.getBigUint64(offset, true),
      d_off: dv.getBigInt64(offset + 8, true),
      d_type: dv.getUint8(offset + 18),
      d_name: nameArea.slice(0, nul),
    };
  },
  /** Emits one record (padding untouched); returns its length, or `E.EFAULT` if it does not fit. */
  emit(value: Dirent64, buf: Uint8Array, offset = 0): number | LinuxError {
    const len = dirent64RecLen(value.d_name.length);
    const bad = checkRange(buf, offset, len);
    if (bad) return bad;
    return writeDirent64(dataView(buf), offset, value.d_ino, value.d_off, value.d_type, value.d_name);
  },
  /** Parses every record in `buf[offset, offset + len)`, as a getdents64 caller walks them. */
  parseAll(buf: Uint8Array, offset = 0, len = buf.length - offset): Dirent64[] | LinuxError {
    const bad = checkRange(buf, offset, len);
    if (bad) return bad;
    const region = buf.subarray(offset, offset + len);
    const dv = dataView(region);
    const out: Dirent64[] = [];
    let p = 0;
    while (p < region.length) {
      const d = linux_dirent64.parse(region, p);
      if ('errno' in d) return d;
      out.push(d);
      p += dv.getUint16(p + 16, true);
    }
    return out;
  },
};

/**
 * Packs directory entries into a getdents64 buffer. `add` returns false, writing nothing, when the
 * record does not fit; the directory iterator then stops and remembers the entry for the next
 * call. If nothing fit at all the syscall returns EINVAL ("result buffer is too small"), which
 * {@link Dirent64Writer.result} encodes.
 *
 * @example
 * ```ts
 * const w = new Dirent64Writer(buf);
 * w.add(2n, 1n, DT_DIR, new TextEncoder().encode('.'));
 * w.result(true); // bytes written, or E.EINVAL if entries remain but none fit
 * ```
 */
export class Dirent64Writer {
  private readonly dv: DataView;
  private pos: number;

  /** Writes into `buf[offset, offset + len)`. */
  constructor(
    private readonly buf: Uint8Array,
    private readonly offset = 0,
    private readonly len = buf.length - offset,
  ) {
    this.dv = dataView(buf);
    this.pos = offset;
  }

  /** Bytes written so far. */
  get written(): number {
    return this.pos - this.offset;
  }

  /** Appends one entry if it fits; returns whether it was written. */
  add(d_ino: bigint, d_off: bigint, d_type: number, name: Uint8Array): boolean {
    const reclen = dirent64RecLen(name.length);
    if (this.written + reclen > this.len || this.pos + reclen > this.buf.length) return false;
    this.pos += writeDirent64(this.dv, this.pos, d_ino, d_off, d_type, name);
    return true;
  }

  /** The getdents64 return value: bytes written, or `E.EINVAL` when the buffer held no entry. */
  result(moreEntries: boolean): number | LinuxError {
    if (this.written === 0 && moreEntries) return E.EINVAL;
    return this.written;
  }
}
