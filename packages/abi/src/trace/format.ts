/**
 * strace-style rendering of system calls: `openat(AT_FDCWD, "/etc/passwd", O_RDONLY|O_CLOEXEC) = 3`.
 *
 * The formatter takes the syscall number, the six raw argument registers (as `number` or
 * `bigint`; a bigint is the full 64-bit register, a number must be an exact integer), the raw
 * return value (rax: `-errno` on error) and a memory reader for the traced task. Arguments are
 * narrowed as the kernel narrows them: fds and ints are the low 32 bits, signed.
 *
 * Nothing here throws on untrusted input: unreadable memory prints the pointer in hex, unknown
 * flag bits print in hex, unknown syscalls print as `syscall_0x1c8(...)`.
 *
 * @module
 */
import { E, errorOf, isError, MAX_ERRNO } from '../errno.js';
import type { LinuxError } from '../errno.js';
import { decodeEnum, decodeFlags } from '../constants/flagset.js';
import { clockIds } from '../constants/resource.js';
import { decodeFutexBitset, decodeFutexWakeOp } from '../constants/futex.js';
import { fileTypes, Mode } from '../constants/stat.js';
import { At } from '../constants/open.js';
import { signals, SigSet } from '../signals.js';
import { syscallByNumber } from '../syscalls/table.js';
import type { ArgType, ReturnKind, SyscallArg, SyscallInfo } from '../syscalls/signature.js';

/**
 * Reads `len` bytes of the traced task's memory at `addr`, or returns an error (EFAULT) when
 * any byte is unmapped. The formatter never asks for more than a page past a string's start
 * at once, and never for more than the string limit of a buffer.
 */
export type MemoryReader = (addr: number, len: number) => Uint8Array | LinuxError;

/** A raw register value: a 64-bit bigint, or a number holding an exact integer. */
export type RawValue = number | bigint;

/** Context handed to struct decoders. */
export interface StructContext {
  /** The traced task's memory, for structs that point elsewhere (iovec). */
  readonly read: MemoryReader;
  /** The string limit in effect (strace -s). */
  readonly stringLimit: number;
  /** Who writes the struct: the program (`in`), the kernel (`out`), or both. */
  readonly dir: 'in' | 'out' | 'inout';
  /** The raw return value when rendering a completed call (an output's valid length, often). */
  readonly ret: bigint | undefined;
}

/**
 * Renders one struct of a given name from its bytes, e.g. `{tv_sec=1, tv_nsec=0}`. The structs
 * part of this package (or any caller) supplies these through {@link FormatOptions.structs}.
 */
export interface StructDecoder {
  /** The struct's size in bytes (what the formatter reads). */
  readonly size: number;
  /** Renders the struct; `bytes.length === size`. */
  format(bytes: Uint8Array, ctx: StructContext): string;
}

/** Options of the formatter, mirroring strace's. */
export interface FormatOptions {
  /** The string and buffer limit (strace `-s`, default 32). */
  readonly stringLimit?: number;
  /**
   * Align ` = ` so that `=` falls at this 0-based column when the call is shorter (strace `-a`;
   * strace's default is 40). Default 0: no padding.
   */
  readonly column?: number;
  /** Text put before the call (e.g. a pid, `"1234 "`); it counts for the column, as in strace. */
  readonly prefix?: string;
  /** Struct decoders by struct name; these override the built-in ones. */
  readonly structs?: Readonly<Record<string, StructDecoder>>;
}

const PATH_MAX = 4096;
const PAGE = 4096;
/** Addresses at or above this are never user memory on x86-64, and also beyond exact doubles. */
const ADDRESS_LIMIT = 2 ** 53;

function u64(v: RawValue | undefined): bigint {
  if (v === undefined) return 0n;
  if (typeof v === 'bigint') return BigInt.asUintN(64, v);
  if (!Number.isFinite(v)) return 0n;
  return BigInt.asUintN(64, BigInt(Math.trunc(v)));
}

function i64(v: bigint): bigint {
  return BigInt.asIntN(64, v);
}

function i32(v: bigint): number {
  return Number(BigInt.asIntN(32, v));
}

function u32(v: bigint): number {
  return Number(BigInt.asUintN(32, v));
}

function hex(v: bigint): string {
  return v === 0n ? '0' : '0x' + v.toString(16);
}

function pointer(v: bigint): string {
  return v === 0n ? 'NULL' : '0x' + v.toString(16);
}

function octal(v: number): string {
  // strace prints modes with "%#03o": 0 -> 000, 0644 -> 0644, 7 -> 007.
  return (v === 0 ? '0' : '0' + v.toString(8)).padStart(3, '0');
}

function isOctalDigit(c: number | undefined): boolean {
  return c !== undefined && c >= 0x30 && c <= 0x37;
}

/**
 * Quotes bytes the way strace does: `"` and `\` escaped, `\t \n \v \f \r` by name, other
 * non-printable bytes in octal (three digits when an octal digit follows, so the text is
 * unambiguous).
 *
 * @example
 * ```ts
 * quoteBytes(new TextEncoder().encode('a\n\0' + '7')); // '"a\\n\\0007"'
 * ```
 */
export function quoteBytes(bytes: Uint8Array): string {
  let out = '"';
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i]!;
    switch (c) {
      case 0x22:
        out += '\\"';
        break;
      case 0x5c:
        out += '\\\\';
        break;
      case 0x0c:
        out += '\\f';
        break;
      case 0x0a:
        out += '\\n';
        break;
      case 0x0d:
        out += '\\r';
        break;
      case 0x09:
        out += '\\t';
        break;
      case 0x0b:
        out += '\\v';
        break;
      default:
        if (c >= 0x20 && c <= 0x7e) out += String.fromCharCode(c);
        else if (isOctalDigit(bytes[i + 1])) out += '\\' + c.toString(8).padStart(3, '0');
        else out += '\\' + c.toString(8);
    }
  }
  return out + '"';
}

/** Quotes bytes as `"\xb7\x4c..."`, strace's style for binary buffers such as getrandom's. */
export function quoteBytesHex(bytes: Uint8Array): string {
  let out = '"';
  for (const c of bytes) out += '\\x' + c.toString(16).padStart(2, '0');
  return out + '"';
}

function toAddress(v: bigint): number | undefined {
  return v !== 0n && v < BigInt(ADDRESS_LIMIT) ? Number(v) : undefined;
}

/** Reads a NUL-terminated string of at most `max` bytes, page by page. */
function readCString(
  read: MemoryReader,
  addr: number,
  max: number,
): { bytes: Uint8Array; terminated: boolean } | undefined {
  const chunks: Uint8Array[] = [];
  let total = 0;
  let at = addr;
  while (total < max + 1) {
    const want = Math.min(PAGE - (at % PAGE), max + 1 - total);
    if (at + want > ADDRESS_LIMIT) return undefined;
    const got = safeRead(read, at, want);
    if (got === undefined) return undefined;
    const nul = got.indexOf(0);
    if (nul >= 0) {
      chunks.push(got.subarray(0, nul));
      return { bytes: concat(chunks, total + nul), terminated: true };
    }
    chunks.push(got);
    total += got.length;
    at += got.length;
  }
  return { bytes: concat(chunks, total), terminated: false };
}

function concat(chunks: Uint8Array[], total: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(total);
  let o = 0;
  for (const c of chunks) {
    out.set(c.subarray(0, Math.min(c.length, total - o)), o);
    o += c.length;
    if (o >= total) break;
  }
  return out;
}

/** Calls the reader, turning errors, exceptions and short or odd results into undefined. */
function safeRead(read: MemoryReader, addr: number, len: number): Uint8Array | undefined {
  try {
    const got = read(addr, len);
    if (isError(got) || !(got instanceof Uint8Array) || got.length < len) return undefined;
    return got.length === len ? got : got.subarray(0, len);
  } catch {
    return undefined;
  }
}

function formatCString(read: MemoryReader, v: bigint, limit: number): string {
  const addr = toAddress(v);
  if (addr === undefined) return pointer(v);
  const s = readCString(read, addr, limit);
  if (!s) return pointer(v);
  const shown = s.bytes.length > limit ? s.bytes.subarray(0, limit) : s.bytes;
  return quoteBytes(shown) + (s.terminated && s.bytes.length <= limit ? '' : '...');
}

function formatBuffer(read: MemoryReader, v: bigint, len: bigint, limit: number, asHex = false): string {
  if (v === 0n) return 'NULL';
  const addr = toAddress(v);
  if (addr === undefined) return pointer(v);
  const n = len > BigInt(limit) ? limit : Number(len);
  const bytes = n === 0 ? new Uint8Array(0) : safeRead(read, addr, n);
  if (!bytes) return pointer(v);
  return (asHex ? quoteBytesHex(bytes) : quoteBytes(bytes)) + (len > BigInt(limit) ? '...' : '');
}

function readU64(bytes: Uint8Array, off: number): bigint {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(off, true);
}

function makedev(dev: bigint): string {
  const major = ((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn);
  const minor = (dev & 0xffn) | ((dev >> 12n) & ~0xffn);
  return `makedev(${hex(BigInt.asUintN(32, major))}, ${hex(BigInt.asUintN(32, minor))})`;
}

/** strace's abbreviated `struct stat`: the type and permissions, then the size or the device. */
function formatStat(b: Uint8Array): string {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const mode = dv.getUint32(24, true);
  const type = mode & Mode.S_IFMT;
  const modeText = type === 0 ? octal(mode) : `${decodeFlags(fileTypes, type)}|${octal(mode & ~Mode.S_IFMT)}`;
  const tail =
    type === Mode.S_IFCHR || type === Mode.S_IFBLK
      ? `st_rdev=${makedev(readU64(b, 40))}`
      : `st_size=${BigInt.asIntN(64, readU64(b, 48))}`;
  return `{st_mode=${modeText}, ${tail}, ...}`;
}

/** Per-call budget of bytes an iovec array may show: the return value for reads. */
const iovBudget = new WeakMap<StructContext, { left: bigint }>();

/** `{iov_base="hello", iov_len=5}`; for reads, data up to the bytes the call returned. */
function formatIovec(b: Uint8Array, ctx: StructContext): string {
  const base = readU64(b, 0);
  const len = readU64(b, 8);
  let shown = len;
  if (ctx.dir !== 'in') {
    let budget = iovBudget.get(ctx);
    if (!budget) iovBudget.set(ctx, (budget = { left: ctx.ret ?? 0n }));
    shown = len < budget.left ? len : budget.left;
    budget.left -= shown;
  }
  return `{iov_base=${formatBuffer(ctx.read, base, shown, ctx.stringLimit)}, iov_len=${len}}`;
}

/** Built-in decoders for the structs every trace is full of; the structs package may add more. */
const builtinStructs: Readonly<Record<string, StructDecoder>> = {
  stat: { size: 144, format: formatStat },
  iovec: { size: 16, format: formatIovec },
  timespec: {
    size: 16,
    format: (b) =>
      `{tv_sec=${BigInt.asIntN(64, readU64(b, 0))}, tv_nsec=${BigInt.asIntN(64, readU64(b, 8))}}`,
  },
  timeval: {
    size: 16,
    format: (b) =>
      `{tv_sec=${BigInt.asIntN(64, readU64(b, 0))}, tv_usec=${BigInt.asIntN(64, readU64(b, 8))}}`,
  },
  sigset: { size: 8, format: (b) => SigSet.fromBigInt(readU64(b, 0)).toString() },
};

const ARRAY_LIMIT = 32;

interface Phase {
  /** Undefined on entry; the raw return value on exit. */
  readonly ret: bigint | undefined;
  readonly ok: boolean;
}

class Renderer {
  readonly limit: number;
  readonly structs: Readonly<Record<string, StructDecoder>>;
  constructor(
    readonly read: MemoryReader,
    options: FormatOptions,
  ) {
    this.limit = Math.max(0, Math.trunc(options.stringLimit ?? 32));
    this.structs = options.structs ? { ...builtinStructs, ...options.structs } : builtinStructs;
  }

  /** Output arguments print only on a successful exit; before that, and on error, the pointer. */
  arg(type: ArgType, v: bigint, args: readonly bigint[], phase: Phase): string {
    switch (type.kind) {
      case 'fd':
      case 'int':
      case 'pid':
      case 'uid':
      case 'gid':
        return String(i32(v));
      case 'dirfd': {
        const fd = i32(v);
        return fd === At.AT_FDCWD ? 'AT_FDCWD' : String(fd);
      }
      case 'uint':
        return String(u32(v));
      case 'long':
      case 'offset':
        return String(i64(v));
      case 'ulong':
      case 'size':
        return String(v);
      case 'hexOffset':
      case 'hex':
        return hex(v);
      case 'address':
        return pointer(v);
      case 'signal':
        return decodeEnum(signals, v);
      case 'clockId':
        return decodeEnum(clockIds, v);
      case 'futexBitset':
        return decodeFutexBitset(u32(v));
      case 'futexWakeOp':
        return decodeFutexWakeOp(u32(v));
      case 'mode':
        return octal(u32(v));
      case 'fileMode': {
        const m = u32(v);
        const perms = octal(m & ~Mode.S_IFMT);
        return (m & Mode.S_IFMT) === 0 ? perms : `${decodeFlags(fileTypes, m & Mode.S_IFMT)}|${perms}`;
      }
      case 'flags':
        return decodeFlags(type.set, v);
      case 'enum':
        return decodeEnum(type.set, v);
      case 'path':
        return v === 0n ? 'NULL' : formatCString(this.read, v, PATH_MAX);
      case 'string':
        return v === 0n ? 'NULL' : formatCString(this.read, v, this.limit);
      case 'outString':
        // strace prints getcwd's result as a path: in full, not cut at the string limit.
        return phase.ok && v !== 0n ? formatCString(this.read, v, PATH_MAX) : pointer(v);
      case 'fdPair':
        return phase.ok ? this.fdPair(v) : pointer(v);
      case 'intOut':
        return phase.ok ? this.intAt(v) : pointer(v);
      case 'argv':
        return this.argv(v);
      case 'envp':
        return this.envp(v);
      case 'inBuffer':
        return formatBuffer(this.read, v, args[type.len] ?? 0n, this.limit);
      case 'outBuffer': {
        if (!phase.ok || phase.ret === undefined) return pointer(v);
        const len = type.len === 'ret' ? phase.ret : (args[type.len] ?? 0n);
        return formatBuffer(this.read, v, len, this.limit, type.hex === true);
      }
      case 'struct': {
        if (type.dir !== 'in' && !phase.ok) return pointer(v);
        return this.struct(type.struct, v, 1n, false, type.dir, phase);
      }
      case 'array': {
        if (type.dir === 'out' && !phase.ok) return pointer(v);
        if (type.count === 'ret' && phase.ret === undefined) return pointer(v);
        const count = type.count === 'ret' ? (phase.ret ?? 0n) : BigInt(u32(args[type.count] ?? 0n));
        return this.struct(type.struct, v, count, true, type.dir, phase);
      }
    }
  }

  struct(
    name: string,
    v: bigint,
    count: bigint,
    array: boolean,
    dir: 'in' | 'out' | 'inout',
    phase: Phase,
  ): string {
    const dec = this.structs[name];
    const addr = toAddress(v);
    if (!dec || addr === undefined || dec.size <= 0) return pointer(v);
    const n = count > BigInt(ARRAY_LIMIT) ? ARRAY_LIMIT : Number(count);
    if (n <= 0) return array ? '[]' : pointer(v);
    const bytes = safeRead(this.read, addr, dec.size * n);
    if (!bytes) return pointer(v);
    const ctx: StructContext = { read: this.read, stringLimit: this.limit, dir, ret: phase.ret };
    const parts: string[] = [];
    for (let i = 0; i < n; i++) {
      try {
        parts.push(dec.format(bytes.subarray(i * dec.size, (i + 1) * dec.size), ctx));
      } catch {
        return pointer(v);
      }
    }
    if (!array) return parts[0]!;
    return `[${parts.join(', ')}${count > BigInt(ARRAY_LIMIT) ? ', ...' : ''}]`;
  }

  intAt(v: bigint): string {
    const addr = toAddress(v);
    const b = addr === undefined ? undefined : safeRead(this.read, addr, 4);
    if (!b) return pointer(v);
    return `[${new DataView(b.buffer, b.byteOffset, 4).getInt32(0, true)}]`;
  }

  fdPair(v: bigint): string {
    const addr = toAddress(v);
    const b = addr === undefined ? undefined : safeRead(this.read, addr, 8);
    if (!b) return pointer(v);
    const dv = new DataView(b.buffer, b.byteOffset, 8);
    return `[${dv.getInt32(0, true)}, ${dv.getInt32(4, true)}]`;
  }

  /** Reads a NULL-terminated pointer array; undefined when any pointer is unreadable. */
  pointers(v: bigint, max: number): { ptrs: bigint[]; more: boolean } | undefined {
    const addr = toAddress(v);
    if (addr === undefined) return undefined;
    const ptrs: bigint[] = [];
    for (let i = 0; i <= max; i++) {
      const b = safeRead(this.read, addr + i * 8, 8);
      if (!b) return undefined;
      const p = readU64(b, 0);
      if (p === 0n) return { ptrs, more: false };
      if (i === max) return { ptrs, more: true };
      ptrs.push(p);
    }
    return { ptrs, more: true };
  }

  argv(v: bigint): string {
    const list = this.pointers(v, ARRAY_LIMIT);
    if (!list) return pointer(v);
    const items = list.ptrs.map((p) => formatCString(this.read, p, this.limit));
    return `[${items.join(', ')}${list.more ? ', ...' : ''}]`;
  }

  envp(v: bigint): string {
    const list = this.pointers(v, 4096);
    if (!list) return pointer(v);
    const n = list.ptrs.length;
    return `${pointer(v)} /* ${n}${list.more ? '+' : ''} var${n === 1 ? '' : 's'} */`;
  }
}

/** The arguments to show for these raw values. */
function visibleArgs(info: SyscallInfo, args: readonly bigint[]): readonly SyscallArg[] {
  return info.refine ? info.refine(args) : info.args;
}

/** Whether a raw return value is an error (`-4095..-1`). */
function errnoOf(ret: bigint): number | undefined {
  const s = i64(ret);
  return s < 0n && s >= BigInt(-MAX_ERRNO) ? Number(-s) : undefined;
}

/**
 * Renders a return value like strace: `3`, `0x7f12...`, `-1 ENOENT (No such file or directory)`,
 * `?` for calls that do not return.
 */
export function formatReturn(kind: ReturnKind, ret: RawValue): string {
  if (kind === 'none') return '?';
  const r = u64(ret);
  const e = errnoOf(r);
  if (e !== undefined) {
    const err = errorOf(e);
    return `-1 ${err.name} (${err.message})`;
  }
  switch (kind) {
    case 'address':
    case 'hex':
      return hex(r);
    case 'mode':
      return octal(u32(r));
    case 'signal': {
      const s = i64(r);
      return s > 0n && s <= 64n ? `${s} (${decodeEnum(signals, s)})` : String(s);
    }
    default:
      return String(i64(r));
  }
}

function normalize(args: readonly RawValue[]): bigint[] {
  const out: bigint[] = [];
  for (let i = 0; i < 6; i++) out.push(u64(args[i]));
  return out;
}

function callText(
  nr: number,
  args: readonly bigint[],
  render: Renderer,
  phase: Phase,
): { name: string; text: string; info: SyscallInfo | undefined } {
  const info = syscallByNumber(nr);
  if (!info) {
    const name = `syscall_0x${(nr >>> 0).toString(16)}`;
    return { name, text: args.map(hex).join(', '), info };
  }
  const parts = visibleArgs(info, args).map((a) => {
    const v = args[info.args.findIndex((x) => x.name === a.name)] ?? 0n;
    const text = render.arg(a.type, v, args, phase);
    return a.label === undefined ? text : `${a.label}=${text}`;
  });
  return { name: info.name, text: parts.join(', '), info };
}

/**
 * Renders a completed syscall as strace prints it on exit, e.g.
 * `read(3, "root:x:0:0:root:/root:/bin/bash\n"..., 4096) = 1024`. Output buffers and structs
 * are read from memory as they are after the call. Never throws.
 *
 * @param nr the syscall number (rax on entry)
 * @param args the six argument registers (rdi, rsi, rdx, r10, r8, r9), as raw 64-bit values
 * @param ret the raw return value (rax on exit: `-errno` on error)
 * @param read reads the task's memory
 *
 * @example
 * ```ts
 * formatSyscall(3, [99n], -9n, () => E.EFAULT); // 'close(99) = -1 EBADF (Bad file descriptor)'
 * ```
 */
export function formatSyscall(
  nr: number,
  args: readonly RawValue[],
  ret: RawValue,
  read: MemoryReader,
  options: FormatOptions = {},
): string {
  const raw = normalize(args);
  const r = u64(ret);
  const render = new Renderer(read, options);
  const phase: Phase = { ret: r, ok: errnoOf(r) === undefined };
  const { name, text, info } = callText(nr, raw, render, phase);
  const call = `${options.prefix ?? ''}${name}(${text})`;
  const column = options.column ?? 0;
  const pad = call.length < column - 1 ? ' '.repeat(column - 1 - call.length) : '';
  return `${call}${pad} = ${formatReturn(info?.ret ?? 'int', r)}`;
}

/**
 * Renders a syscall at entry, for calls that block: the arguments known so far (up to the first
 * one the kernel fills in) followed by `<unfinished ...>`, as strace prints an interrupted
 * line. Never throws.
 */
export function formatSyscallEntry(
  nr: number,
  args: readonly RawValue[],
  read: MemoryReader,
  options: FormatOptions = {},
): string {
  const raw = normalize(args);
  const render = new Renderer(read, options);
  const info = syscallByNumber(nr);
  const prefix = options.prefix ?? '';
  if (!info)
    return `${prefix}syscall_0x${(nr >>> 0).toString(16)}(${raw.map(hex).join(', ')} <unfinished ...>`;
  const shown: string[] = [];
  for (const a of visibleArgs(info, raw)) {
    if (isOutput(a.type)) break;
    const index = info.args.findIndex((x) => x.name === a.name);
    const text = render.arg(a.type, raw[index] ?? 0n, raw, { ret: undefined, ok: false });
    shown.push(a.label === undefined ? text : `${a.label}=${text}`);
  }
  return `${prefix}${info.name}(${shown.map((s) => s + ', ').join('')}<unfinished ...>`;
}

function isOutput(t: ArgType): boolean {
  switch (t.kind) {
    case 'outBuffer':
    case 'outString':
    case 'fdPair':
    case 'intOut':
      return true;
    case 'struct':
    case 'array':
      return t.dir !== 'in';
    default:
      return false;
  }
}

/** Exposed for tests and tools: a task memory reader over one buffer mapped at `base`. */
export function bufferReader(base: number, memory: Uint8Array): MemoryReader {
  return (addr, len) => {
    const off = addr - base;
    if (!Number.isInteger(off) || off < 0 || len < 0 || off + len > memory.length) return E.EFAULT;
    return memory.subarray(off, off + len);
  };
}
