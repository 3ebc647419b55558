/**
 * Descriptors of Linux constant groups, so that one generic decoder can render any flags or enum
 * argument the way strace does (`O_RDONLY|O_CLOEXEC`, `MAP_PRIVATE|MAP_ANONYMOUS`, `SEEK_END`).
 *
 * Values are JavaScript numbers (exact up to 2^53, enough for every flag Linux defines, e.g.
 * `CLONE_INTO_CGROUP` = 2^33); decoding accepts a number or a raw 64-bit register as bigint and
 * works on two 32-bit halves so it allocates nothing but the output string.
 *
 * @module
 */

/** One named value of a group. */
export interface NamedValue {
  /** The Linux name, e.g. `O_CLOEXEC`. */
  readonly name: string;
  /** Its value (a bit, a multi-bit combination, or an enum value). */
  readonly value: number;
}

/**
 * The enum part that Linux mixes into some flag words: `O_ACCMODE` in open flags, `MAP_TYPE` in
 * mmap flags, the exit signal (`CSIGNAL`) in clone flags.
 */
export interface ModePart {
  /** The bits that hold the enum value. */
  readonly mask: number;
  /** Names for the values of `value & mask`. */
  readonly values: readonly NamedValue[];
  /** Print the mode before the flags (open) or after them (clone's exit signal). */
  readonly position: 'first' | 'last';
  /** Leave the mode out when it is 0 (clone without an exit signal). */
  readonly omitZero: boolean;
  /**
   * An unnamed mode value: printed as `0x5 /* MAP_??? *\/` in its place (`comment`, the default),
   * or left among the unknown bits (`remainder`, as strace does for socket types).
   */
  readonly unknown?: 'comment' | 'remainder';
}

/**
 * A numeric field inside a flag word, printed as `N<<NAME` after the flags: the huge page size
 * of mmap and memfd_create (`21<<MAP_HUGE_SHIFT`).
 */
export interface ShiftedField {
  readonly shift: number;
  /** The field's mask after shifting (0x3f for 6 bits). */
  readonly mask: number;
  /** The name of the shift, e.g. `MAP_HUGE_SHIFT`. */
  readonly name: string;
}

/** A flag word: named bits, optionally with an enum part. */
export interface FlagSet {
  readonly kind: 'flags';
  /** A short name for the group, e.g. `open`. */
  readonly name: string;
  /** Named bits and bit combinations, in the order strace prints them (first match wins). */
  readonly bits: readonly NamedValue[];
  /** The enum part of the word, if Linux mixes one in. */
  readonly mode?: ModePart;
  /** A numeric field inside the word, if any. */
  readonly field?: ShiftedField;
  /**
   * Whether leftover bits get strace's `/* X_??? *\/` comment when no flag of the word has a
   * name. strace does so for plain flag words and socket types, not after open's or mmap's mode.
   */
  readonly remainderComment: boolean;
  /** The comment's text when it is not `${prefix}???` (strace writes `RENAME_??`). */
  readonly marker?: string;
  /** What strace prints for 0 when no mode part names it: `0`, `PROT_NONE`, ... */
  readonly zero: string;
  /** The names' prefix, for strace's comment on values it cannot name: `0x10 /* PROT_??? *\/`. */
  readonly prefix: string;
  /**
   * How many bits of the register the kernel reads: 32 for `int`/`unsigned int` flag arguments
   * (the upper half of the register is ignored, as the kernel ignores it), 64 for `unsigned long`
   * ones (mmap, clone, unshare).
   */
  readonly width: 32 | 64;
}

/** A set of exclusive values (an enum): `SEEK_*`, `F_*` commands, `CLOCK_*`. */
export interface EnumSet {
  readonly kind: 'enum';
  readonly name: string;
  /** The values with their names; the first name of a value is the one printed. */
  readonly values: readonly NamedValue[];
  /** Interpret the raw value as a signed 32-bit int (true for `int` arguments, the default). */
  readonly signed: boolean;
  /** The names' prefix, for strace's comment on unnamed values: `0x4d /* SEEK_??? *\/`. */
  readonly prefix: string;
  /** How an unnamed value prints: hex with the comment (strace's default) or a plain decimal. */
  readonly unknown: 'hex' | 'decimal';
  /** The comment's text when it is not `${prefix}???` (strace writes `SOL_??` for levels). */
  readonly marker?: string;
}

/** A flag set or an enum set. */
export type ConstantSet = FlagSet | EnumSet;

const TWO32 = 4294967296;

/** Splits a non-negative number below 2^53 into 32-bit halves. */
function halves(v: number): [lo: number, hi: number] {
  const lo = v >>> 0;
  return [lo, Math.floor(v / TWO32) >>> 0];
}

/** Builds a {@link FlagSet}. `bits` are given in print order. */
export function defineFlags(
  name: string,
  bits: readonly NamedValue[] | Readonly<Record<string, number>>,
  options: {
    zero?: string;
    mode?: ModePart;
    field?: ShiftedField;
    prefix?: string;
    width?: 32 | 64;
    remainderComment?: boolean;
    marker?: string;
  } = {},
): FlagSet {
  // C ints such as `1 << 31` are negative; as flag bits they mean the unsigned 32-bit value.
  const list = (Array.isArray(bits) ? bits : namedValues(bits as Readonly<Record<string, number>>)).map(
    (b) => (b.value < 0 && b.value >= -0x80000000 ? { name: b.name, value: b.value >>> 0 } : b),
  );
  const first = options.mode?.values[0] ?? list[0];
  const set: FlagSet = {
    kind: 'flags',
    name,
    bits: Object.freeze(list.filter((b) => b.value !== 0)),
    zero: options.zero ?? '0',
    prefix: options.prefix ?? prefixOf(first?.name ?? ''),
    width: options.width ?? (list.some((b) => b.value > 0xffffffff) ? 64 : 32),
    remainderComment: options.remainderComment ?? options.mode === undefined,
    ...(options.marker !== undefined ? { marker: options.marker } : {}),
    ...(options.mode ? { mode: options.mode } : {}),
    ...(options.field ? { field: options.field } : {}),
  };
  return Object.freeze(set);
}

/** Builds an {@link EnumSet}. */
export function defineEnum(
  name: string,
  values: readonly NamedValue[] | Readonly<Record<string, number>>,
  options: { signed?: boolean; prefix?: string; unknown?: 'hex' | 'decimal'; marker?: string } = {},
): EnumSet {
  const list = Array.isArray(values) ? values : namedValues(values as Readonly<Record<string, number>>);
  return Object.freeze({
    kind: 'enum',
    name,
    values: Object.freeze(list),
    signed: options.signed ?? true,
    prefix: options.prefix ?? prefixOf(list[0]?.name ?? ''),
    unknown: options.unknown ?? 'hex',
    ...(options.marker !== undefined ? { marker: options.marker } : {}),
  });
}

/** `O_` from `O_CREAT`, `MAP_` from `MAP_FIXED`, `__W` stays whole: strace's `???` comment prefix. */
function prefixOf(name: string): string {
  const m = /^_*[A-Za-z0-9]+_/.exec(name);
  return m ? m[0].replace(/^_+/, '') : name;
}

/** Turns `{ O_RDONLY: 0, ... }` into named values in key order. */
export function namedValues(record: Readonly<Record<string, number>>): NamedValue[] {
  return Object.entries(record).map(([name, value]) => ({ name, value }));
}

function hex(lo: number, hi: number): string {
  if (hi === 0) return lo === 0 ? '0' : '0x' + lo.toString(16);
  return '0x' + hi.toString(16) + lo.toString(16).padStart(8, '0');
}

/** Splits a raw value (number or 64-bit bigint, two's complement for negatives) into halves. */
export function splitRaw(value: number | bigint): [lo: number, hi: number] {
  if (typeof value === 'bigint') {
    const v = BigInt.asUintN(64, value);
    return [Number(v & 0xffffffffn), Number(v >> 32n)];
  }
  if (!Number.isFinite(value)) return [0, 0];
  const t = Math.trunc(value);
  if (t >= 0) return halves(t);
  // Negative numbers: two's complement over 64 bits.
  const [lo, hi] = halves(-t);
  const nlo = (~lo + 1) >>> 0;
  const nhi = (~hi + (nlo === 0 ? 1 : 0)) >>> 0;
  return [nlo, nhi];
}

/**
 * Renders a flag word like strace: the enum part (if any), the names in the set's order joined
 * with `|`, unknown bits as one hex number, then a shifted field (`21<<MAP_HUGE_SHIFT`); the
 * set's `zero` text for 0, and a value with no known name at all as hex with a
 * `/* PREFIX_??? *\/` comment. Never throws, whatever the value.
 *
 * @example
 * ```ts
 * decodeFlags(openFlags, OpenFlag.O_WRONLY | OpenFlag.O_CREAT | OpenFlag.O_TRUNC); // 'O_WRONLY|O_CREAT|O_TRUNC'
 * decodeFlags(protFlags, 0); // 'PROT_NONE'
 * decodeFlags(protFlags, 0x10n); // '0x10 /* PROT_??? *\/'
 * ```
 */
export function decodeFlags(set: FlagSet, value: number | bigint): string {
  let [lo, hi] = splitRaw(value);
  if (set.width === 32) hi = 0;
  const parts: string[] = [];
  let named = 0;
  let modeText: string | undefined;
  const mode = set.mode;
  if (mode) {
    const [mlo, mhi] = halves(mode.mask);
    const vlo = (lo & mlo) >>> 0;
    const vhi = (hi & mhi) >>> 0;
    const v = vhi * TWO32 + vlo;
    const name = mode.values.find((n) => n.value === v)?.name;
    if (name !== undefined || mode.unknown !== 'remainder') {
      lo = (lo & ~mlo) >>> 0;
      hi = (hi & ~mhi) >>> 0;
      if (v !== 0 || !mode.omitZero) modeText = name ?? unknownText(set, vlo, vhi);
    }
    if (modeText !== undefined && mode.position === 'first') parts.push(modeText);
  }
  let fieldText: string | undefined;
  const field = set.field;
  if (field) {
    const f = (lo >>> field.shift) & field.mask;
    if (f !== 0) {
      fieldText = `${f}<<${field.name}`;
      lo = (lo & ~(field.mask << field.shift)) >>> 0;
    }
  }
  for (const bit of set.bits) {
    if (lo === 0 && hi === 0) break;
    const [blo, bhi] = halves(bit.value);
    if ((lo & blo) >>> 0 === blo && (hi & bhi) >>> 0 === bhi) {
      parts.push(bit.name);
      named++;
      lo = (lo & ~blo) >>> 0;
      hi = (hi & ~bhi) >>> 0;
    }
  }
  if (lo !== 0 || hi !== 0) {
    const alone = parts.length === 0 && modeText === undefined && fieldText === undefined;
    parts.push(alone || (named === 0 && set.remainderComment) ? unknownText(set, lo, hi) : hex(lo, hi));
  }
  if (fieldText !== undefined) parts.push(fieldText);
  if (modeText !== undefined && mode?.position === 'last') parts.push(modeText);
  return parts.length === 0 ? set.zero : parts.join('|');
}

function unknownText(set: { prefix: string; marker?: string }, lo: number, hi: number): string {
  const marker = set.marker ?? `${set.prefix}???`;
  return `${hex(lo, hi)} /* ${marker} */`;
}

/**
 * Renders an enum value like strace: its name, or for an unnamed value the number in hex with a
 * `/* PREFIX_??? *\/` comment (or in decimal for sets such as signals that strace prints that way).
 * Never throws.
 *
 * @example
 * ```ts
 * decodeEnum(seekWhence, 2); // 'SEEK_END'
 * decodeEnum(seekWhence, 77); // '0x4d /* SEEK_??? *\/'
 * ```
 */
export function decodeEnum(set: EnumSet, value: number | bigint): string {
  const v = enumValue(set, value);
  for (const n of set.values) if (n.value === v) return n.name;
  if (set.unknown === 'decimal') return String(v);
  return unknownText(set, v >>> 0, 0);
}

/** The value an enum argument holds: the low 32 bits, signed or not as the set says. */
function enumValue(set: EnumSet, value: number | bigint): number {
  const [lo] = splitRaw(value);
  return set.signed ? lo | 0 : lo;
}

/** Decodes a value with either kind of set. */
export function decodeConstant(set: ConstantSet, value: number | bigint): string {
  return set.kind === 'flags' ? decodeFlags(set, value) : decodeEnum(set, value);
}

/** The name of a value in a set (`undefined` when unnamed). */
export function constantName(set: ConstantSet, value: number): string | undefined {
  const list = set.kind === 'flags' ? [...set.bits, ...(set.mode?.values ?? [])] : set.values;
  return list.find((n) => n.value === value)?.name;
}
