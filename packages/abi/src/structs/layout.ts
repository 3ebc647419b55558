/**
 * The layout machinery under every struct view: field codecs over a `DataView`, and
 * {@link defineStruct}, which turns one table of `(name, offset, codec)` into the two levels smoltcp
 * uses for wire formats:
 *
 * - a validated value ("repr"): `parse(bytes, offset)` returns a plain object or an errno, never
 *   throws; `emit(value, bytes, offset)` writes it back;
 * - direct access for hot paths: `read(dv, at)` / `write(dv, at, value)` on a caller's `DataView`
 *   allocate nothing but the value itself, and {@link structView} gives a zero-copy object whose
 *   properties are getters/setters over the bytes.
 *
 * Offsets live only in the field table, which every definition exposes as `fields` so tests can
 * compare it with the C headers.
 *
 * Integers: everything is little-endian (x86-64) except the `be16`/`be32` network-order fields of
 * socket addresses. 64-bit fields are `bigint` when the kernel stores the value and hands it back
 * verbatim or tests it bit by bit (inode and device numbers, file sizes and block counts, rlimits,
 * signal masks, u64 flag words, user cookies such as epoll data and sigval, saved registers and
 * saved handler/stack pointers). They are `number` when the value is a time, a count, an id, or an
 * address/length the kernel consumes immediately: canonical user addresses are below 2^47 and
 * lengths are clamped far below 2^53, so a `number` is exact for every valid value; an invalid raw
 * value of 2^53 or more is rounded monotonically (to the nearest double), which keeps every range
 * check (`len > limit`, `addr >= TASK_SIZE`, `sec < 0`) giving the same answer as on the raw value.
 *
 * @module
 */

import { E, type LinuxError } from '../errno.js';

/** The primitive kind of a field, used by tests to generate values and by docs to describe them. */
export type FieldKind =
  | 'u8'
  | 'u16'
  | 'i16'
  | 'be16'
  | 'u32'
  | 'i32'
  | 'be32'
  | 'u64'
  | 'i64'
  | 'u64n'
  | 'i64n'
  | 'bytes'
  | 'cstr'
  | 'struct'
  | 'array';

/** Reads and writes one field's value at a byte position of a `DataView`. */
export interface Codec<V> {
  readonly kind: FieldKind;
  /** Size in bytes. */
  readonly size: number;
  /** For `struct` fields: the nested definition. */
  readonly struct?: FixedStruct<unknown>;
  /** For `array` fields: the element codec and the element count. */
  readonly element?: Codec<unknown>;
  readonly count?: number;
  read(dv: DataView, at: number): V;
  write(dv: DataView, at: number, value: V): void;
}

/** One row of a struct's field table, as `offsetof`/`sizeof` would report it in C. */
export interface FieldInfo {
  readonly name: string;
  readonly offset: number;
  /** `sizeof` the member; 0 for a flexible array member (`char d_name[]`). */
  readonly size: number;
  readonly kind: FieldKind;
  /** True for a flexible array member, whose C `sizeof` is not defined. */
  readonly flexible?: true;
}

/** What every struct definition exposes for layout checks: its C name, size and field table. */
export interface StructLayout {
  /** The C struct name (`stat`, `kernel_sigaction`, ...). */
  readonly name: string;
  /** `sizeof` the C struct (for variable-length records, the size C gives the fixed part). */
  readonly size: number;
  readonly fields: readonly FieldInfo[];
}

/** A struct layout that can also decode itself from bytes (every registry entry). */
export interface StructCodec extends StructLayout {
  /** Decodes at `offset`; an errno for input that is short or malformed. Never throws. */
  parse(bytes: Uint8Array, offset?: number): unknown;
}

/** A field in a {@link defineStruct} table: where it is and how it is coded. */
export interface Field<V> {
  readonly offset: number;
  readonly codec: Codec<V>;
}

/** A fixed-size struct: the repr level (`parse`/`emit`) and the direct level (`read`/`write`). */
export interface FixedStruct<V> extends StructCodec {
  /**
   * Decodes the struct at `offset`. Input shorter than the struct gives `E.EFAULT` (it stands for
   * user memory that ends early); a negative or fractional offset gives `E.EINVAL`. Never throws.
   */
  parse(bytes: Uint8Array, offset?: number): V | LinuxError;
  /** Encodes `value` at `offset`; returns the bytes written, or `E.EFAULT` if they do not fit. */
  emit(value: V, bytes: Uint8Array, offset?: number): number | LinuxError;
  /** Decodes without checks from a caller's `DataView` (the caller guarantees the bounds). */
  read(dv: DataView, at: number): V;
  /** Encodes without checks or allocation into a caller's `DataView`. */
  write(dv: DataView, at: number, value: V): void;
  /** Encodes into a fresh buffer of `size` bytes (padding zeroed). */
  encode(value: V): Uint8Array;
  /** The codec table, in offset order, for views and generic tools. */
  readonly spec: readonly NamedField[];
}

/** A field of a struct together with its name. */
export interface NamedField {
  readonly name: string;
  readonly offset: number;
  readonly codec: Codec<unknown>;
}

/** The value type of a field table. */
export type SpecValue<S extends Record<string, Field<unknown>>> = {
  [K in keyof S]: S[K] extends Field<infer V> ? V : never;
};

/** The value type of a struct definition. */
export type StructValue<D> = D extends FixedStruct<infer V> ? V : never;

const TWO32 = 4294967296;
const TWO63 = 2 ** 63;
const decoder = new TextDecoder('utf-8');
const encoder = new TextEncoder();

/** A `DataView` over exactly the bytes of `bytes`. */
export function dataView(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Checks that `[offset, offset + len)` lies inside `bytes`: `E.EINVAL` for a malformed offset or
 * length, `E.EFAULT` when the bytes end early, `undefined` when the range is good.
 */
export function checkRange(bytes: Uint8Array, offset: number, len: number): LinuxError | undefined {
  if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(len) || len < 0) return E.EINVAL;
  if (offset + len > bytes.length) return E.EFAULT;
  return undefined;
}

/** Reads a 64-bit little-endian unsigned integer as a number (monotone rounding above 2^53). */
export function readU64n(dv: DataView, at: number): number {
  return dv.getUint32(at + 4, true) * TWO32 + dv.getUint32(at, true);
}

/** Reads a 64-bit little-endian signed integer as a number (monotone rounding beyond ±2^53). */
export function readI64n(dv: DataView, at: number): number {
  return dv.getInt32(at + 4, true) * TWO32 + dv.getUint32(at, true);
}

/**
 * Writes an integral number as 64-bit two's complement; values beyond the 64-bit range saturate
 * (they can only come from rounding a raw value that was already out of every valid range).
 */
export function writeN64(dv: DataView, at: number, value: number): void {
  if (value >= 2 ** 64) {
    dv.setUint32(at, 0xffffffff, true);
    dv.setUint32(at + 4, 0xffffffff, true);
    return;
  }
  if (value < -TWO63) {
    dv.setUint32(at, 0, true);
    dv.setUint32(at + 4, 0x80000000, true);
    return;
  }
  const hi = Math.floor(value / TWO32);
  dv.setUint32(at, value >>> 0, true);
  dv.setUint32(at + 4, hi >>> 0, true);
}

function prim<V>(kind: FieldKind, size: number, read: Codec<V>['read'], write: Codec<V>['write']): Codec<V> {
  return { kind, size, read, write };
}

/** Unsigned 8-bit. */
export const u8: Codec<number> = prim(
  'u8',
  1,
  (dv, at) => dv.getUint8(at),
  (dv, at, v) => dv.setUint8(at, v),
);
/** Unsigned 16-bit little-endian. */
export const u16: Codec<number> = prim(
  'u16',
  2,
  (dv, at) => dv.getUint16(at, true),
  (dv, at, v) => dv.setUint16(at, v, true),
);
/** Signed 16-bit little-endian. */
export const i16: Codec<number> = prim(
  'i16',
  2,
  (dv, at) => dv.getInt16(at, true),
  (dv, at, v) => dv.setInt16(at, v, true),
);
/** Unsigned 16-bit in network byte order (ports). */
export const be16: Codec<number> = prim(
  'be16',
  2,
  (dv, at) => dv.getUint16(at, false),
  (dv, at, v) => dv.setUint16(at, v, false),
);
/** Unsigned 32-bit little-endian. */
export const u32: Codec<number> = prim(
  'u32',
  4,
  (dv, at) => dv.getUint32(at, true),
  (dv, at, v) => dv.setUint32(at, v, true),
);
/** Signed 32-bit little-endian. */
export const i32: Codec<number> = prim(
  'i32',
  4,
  (dv, at) => dv.getInt32(at, true),
  (dv, at, v) => dv.setInt32(at, v, true),
);
/** Unsigned 32-bit in network byte order (IPv6 flow info). */
export const be32: Codec<number> = prim(
  'be32',
  4,
  (dv, at) => dv.getUint32(at, false),
  (dv, at, v) => dv.setUint32(at, v, false),
);
/** Unsigned 64-bit as bigint (exact). */
export const u64: Codec<bigint> = prim(
  'u64',
  8,
  (dv, at) => dv.getBigUint64(at, true),
  (dv, at, v) => dv.setBigUint64(at, BigInt.asUintN(64, v), true),
);
/** Signed 64-bit as bigint (exact). */
export const i64: Codec<bigint> = prim(
  'i64',
  8,
  (dv, at) => dv.getBigInt64(at, true),
  (dv, at, v) => dv.setBigInt64(at, BigInt.asIntN(64, v), true),
);
/** Unsigned 64-bit as number: exact below 2^53, monotone rounding above (see the module note). */
export const u64n: Codec<number> = prim('u64n', 8, readU64n, writeN64);
/** Signed 64-bit as number: exact within ±2^53, monotone rounding beyond. */
export const i64n: Codec<number> = prim('i64n', 8, readI64n, writeN64);

/** `n` raw bytes, copied out on read; on write, a shorter value is zero-padded, a longer one cut. */
export function bytes(n: number): Codec<Uint8Array> {
  return {
    kind: 'bytes',
    size: n,
    read: (dv, at) => new Uint8Array(dv.buffer, dv.byteOffset + at, n).slice(),
    write: (dv, at, v) => {
      const dst = new Uint8Array(dv.buffer, dv.byteOffset + at, n);
      dst.fill(0);
      dst.set(v.length > n ? v.subarray(0, n) : v);
    },
  };
}

/**
 * A NUL-terminated string in an `n`-byte char array (utsname fields). Read stops at the first NUL
 * (or at `n`) and decodes UTF-8, replacing invalid sequences; write truncates to `n - 1` bytes so
 * the terminator always fits, and zero-fills the rest.
 */
export function cstr(n: number): Codec<string> {
  return {
    kind: 'cstr',
    size: n,
    read: (dv, at) => {
      const src = new Uint8Array(dv.buffer, dv.byteOffset + at, n);
      const nul = src.indexOf(0);
      return decoder.decode(nul < 0 ? src : src.subarray(0, nul));
    },
    write: (dv, at, v) => {
      const dst = new Uint8Array(dv.buffer, dv.byteOffset + at, n);
      dst.fill(0);
      const enc = encoder.encode(v);
      dst.set(enc.length > n - 1 ? enc.subarray(0, n - 1) : enc);
    },
  };
}

/** A nested struct. */
export function struct<V>(def: FixedStruct<V>): Codec<V> {
  return {
    kind: 'struct',
    size: def.size,
    struct: def as FixedStruct<unknown>,
    read: (dv, at) => def.read(dv, at),
    write: (dv, at, v) => def.write(dv, at, v),
  };
}

/** `count` elements in a row; on write, missing elements are zeroed and extra ones ignored. */
export function array<V>(element: Codec<V>, count: number): Codec<V[]> {
  return {
    kind: 'array',
    size: element.size * count,
    element: element as Codec<unknown>,
    count,
    read: (dv, at) => {
      const out: V[] = new Array<V>(count);
      for (let i = 0; i < count; i++) out[i] = element.read(dv, at + i * element.size);
      return out;
    },
    write: (dv, at, v) => {
      new Uint8Array(dv.buffer, dv.byteOffset + at, element.size * count).fill(0);
      const n = Math.min(count, v.length);
      for (let i = 0; i < n; i++) element.write(dv, at + i * element.size, v[i] as V);
    },
  };
}

/** Places a codec at a byte offset: one row of a field table. */
export function at<V>(offset: number, codec: Codec<V>): Field<V> {
  return { offset, codec };
}

/**
 * Defines a fixed-size struct from its field table. Padding is not a field: `emit`/`encode`
 * zero the whole struct first so no stale bytes leak into user memory.
 *
 * @example
 * ```ts
 * const timespec = defineStruct('timespec', 16, { tv_sec: at(0, i64n), tv_nsec: at(8, i64n) });
 * const bytes = timespec.encode({ tv_sec: 1, tv_nsec: 5 });
 * timespec.parse(bytes); // { tv_sec: 1, tv_nsec: 5 }
 * ```
 */
export function defineStruct<S extends Record<string, Field<unknown>>>(
  name: string,
  size: number,
  table: S,
): FixedStruct<SpecValue<S>> {
  type V = SpecValue<S>;
  const spec: NamedField[] = Object.entries(table)
    .map(([fname, f]) => ({ name: fname, offset: f.offset, codec: f.codec }))
    .sort((a, b) => a.offset - b.offset);
  for (const f of spec) {
    if (f.offset < 0 || f.offset + f.codec.size > size) {
      throw new Error(`struct ${name}: field ${f.name} lies outside its ${size} bytes`);
    }
  }
  const fields: FieldInfo[] = spec.map((f) => ({
    name: f.name,
    offset: f.offset,
    size: f.codec.size,
    kind: f.codec.kind,
  }));
  const read = (dv: DataView, base: number): V => {
    const out: Record<string, unknown> = {};
    for (const f of spec) out[f.name] = f.codec.read(dv, base + f.offset);
    return out as V;
  };
  const write = (dv: DataView, base: number, value: V): void => {
    const rec = value as Record<string, unknown>;
    for (const f of spec) f.codec.write(dv, base + f.offset, rec[f.name]);
  };
  const def: FixedStruct<V> = {
    name,
    size,
    fields,
    spec,
    read,
    write,
    parse(buf, offset = 0) {
      const bad = checkRange(buf, offset, size);
      if (bad) return bad;
      return read(dataView(buf), offset);
    },
    emit(value, buf, offset = 0) {
      const bad = checkRange(buf, offset, size);
      if (bad) return bad;
      buf.fill(0, offset, offset + size);
      write(dataView(buf), offset, value);
      return size;
    },
    encode(value) {
      const buf = new Uint8Array(size);
      write(dataView(buf), 0, value);
      return buf;
    },
  };
  return Object.freeze(def);
}

/** A zero-copy view: the struct's fields as properties backed by the bytes of a `DataView`. */
export type StructView<V> = { -readonly [K in keyof V]: V[K] } & {
  /** The bytes being viewed. */
  readonly dv: DataView;
  /** Where the struct starts in `dv`. */
  readonly offset: number;
};

/** A class of views over one struct; `new View(dv, offset)` reads and writes in place. */
export type StructViewClass<V> = new (dv: DataView, offset?: number) => StructView<V>;

const viewClasses = new WeakMap<object, unknown>();

/**
 * The view class for a struct: instances hold only `(dv, offset)` and every property access reads
 * or writes the underlying bytes, so the kernel can fill a user buffer field by field without
 * building a value object. The caller guarantees `offset + def.size <= dv.byteLength`.
 *
 * @example
 * ```ts
 * const Stat = structView(stat);
 * const st = new Stat(new DataView(buf.buffer), 0);
 * st.st_size = 4096n;
 * ```
 */
export function structView<V>(def: FixedStruct<V>): StructViewClass<V> {
  const cached = viewClasses.get(def);
  if (cached) return cached as StructViewClass<V>;
  class View {
    constructor(
      readonly dv: DataView,
      readonly offset = 0,
    ) {}
  }
  for (const f of def.spec) {
    const { codec, offset } = f;
    Object.defineProperty(View.prototype, f.name, {
      enumerable: true,
      get(this: View) {
        return codec.read(this.dv, this.offset + offset);
      },
      set(this: View, v: unknown) {
        codec.write(this.dv, this.offset + offset, v);
      },
    });
  }
  viewClasses.set(def, View);
  return View as unknown as StructViewClass<V>;
}

/** Rounds `n` up to a multiple of `align` (a power of two). */
export function alignUp(n: number, align: number): number {
  return Math.ceil(n / align) * align;
}

/**
 * Parses `count` consecutive structs (an array in user memory). A negative or non-integral count
 * gives `E.EINVAL`, input that ends early `E.EFAULT`.
 */
export function parseArray<V>(
  def: FixedStruct<V>,
  buf: Uint8Array,
  offset: number,
  count: number,
): V[] | LinuxError {
  if (!Number.isSafeInteger(count) || count < 0) return E.EINVAL;
  const bad = checkRange(buf, offset, count * def.size);
  if (bad) return bad;
  const dv = dataView(buf);
  const out: V[] = new Array<V>(count);
  for (let i = 0; i < count; i++) out[i] = def.read(dv, offset + i * def.size);
  return out;
}

/** Emits `values` as consecutive structs; returns the bytes written or `E.EFAULT` if short. */
export function emitArray<V>(
  def: FixedStruct<V>,
  values: readonly V[],
  buf: Uint8Array,
  offset = 0,
): number | LinuxError {
  const len = values.length * def.size;
  const bad = checkRange(buf, offset, len);
  if (bad) return bad;
  buf.fill(0, offset, offset + len);
  const dv = dataView(buf);
  for (let i = 0; i < values.length; i++) def.write(dv, offset + i * def.size, values[i] as V);
  return len;
}

/**
 * The field codecs and `at`, grouped so the package root does not export names as short as `u8`.
 *
 * @example
 * ```ts
 * const { at, u32, i32 } = codecs;
 * const ucred = defineStruct('ucred', 12, { pid: at(0, i32), uid: at(4, u32), gid: at(8, u32) });
 * ```
 */
export const codecs = Object.freeze({
  at,
  u8,
  u16,
  i16,
  be16,
  u32,
  i32,
  be32,
  u64,
  i64,
  u64n,
  i64n,
  bytes,
  cstr,
  struct,
  array,
});
