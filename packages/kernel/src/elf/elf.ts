/**
 * ELF64 parsing and validation for execve: the file header, the program headers, and the load
 * plan (which pages to map from the file at which address with which protection, where bss
 * starts, the entry point, the program header address and the brk start).
 *
 * The loader reads the file only through a {@link FileReader} callback (the sandbox VFS file), so
 * binaries never come from the host's view of the filesystem and tests can feed bytes.
 *
 * @module
 */
import { E, isError, type LinuxError } from '@tsvisor/abi';

/** Reads up to `length` bytes at `offset` (fewer at end of file). */
export type FileReader = (
  offset: number,
  length: number,
) => Uint8Array | LinuxError | Promise<Uint8Array | LinuxError>;

export const PAGE_SIZE = 4096;

/** ELF constants the loader checks. */
export const ELF = {
  ELFCLASS64: 2,
  ELFDATA2LSB: 1,
  EV_CURRENT: 1,
  ET_EXEC: 2,
  ET_DYN: 3,
  EM_X86_64: 62,
  PT_NULL: 0,
  PT_LOAD: 1,
  PT_DYNAMIC: 2,
  PT_INTERP: 3,
  PT_NOTE: 4,
  PT_PHDR: 6,
  PT_TLS: 7,
  PT_GNU_EH_FRAME: 0x6474e550,
  PT_GNU_STACK: 0x6474e551,
  PT_GNU_RELRO: 0x6474e552,
  PT_GNU_PROPERTY: 0x6474e553,
  PF_X: 1,
  PF_W: 2,
  PF_R: 4,
} as const;

/** `sizeof(Elf64_Ehdr)` and `sizeof(Elf64_Phdr)`. */
export const EHDR_SIZE = 64;
export const PHDR_SIZE = 56;

/** Linux refuses program header tables larger than this (`ELF_MIN_ALIGN`-independent 64 KiB). */
const MAX_PHDRS_BYTES = 65536;

/** The fields of `Elf64_Ehdr` the loader uses. */
export interface ElfHeader {
  readonly type: number;
  readonly machine: number;
  readonly entry: number;
  readonly phoff: number;
  readonly phentsize: number;
  readonly phnum: number;
}

/** One `Elf64_Phdr`. */
export interface ProgramHeader {
  readonly type: number;
  readonly flags: number;
  readonly offset: number;
  readonly vaddr: number;
  readonly filesz: number;
  readonly memsz: number;
  readonly align: number;
}

/** A parsed ELF file: header, program headers, and the interpreter path if any. */
export interface ElfFile {
  readonly header: ElfHeader;
  readonly phdrs: readonly ProgramHeader[];
  /** The PT_INTERP path (the dynamic loader), if any. */
  readonly interp: string | undefined;
  /** PT_GNU_STACK asks for an executable stack. */
  readonly execStack: boolean;
}

/** True when the bytes begin with the ELF magic. */
export function isElf(head: Uint8Array): boolean {
  return head.length >= 4 && head[0] === 0x7f && head[1] === 0x45 && head[2] === 0x4c && head[3] === 0x46;
}

async function readExactly(
  read: FileReader,
  offset: number,
  length: number,
): Promise<Uint8Array | LinuxError> {
  const b = await read(offset, length);
  if (isError(b)) return b;
  // A short read of a header Linux treats as "not this format" (kernel_read < size: -EIO/ENOEXEC).
  return b.length < length ? E.ENOEXEC : b;
}

/**
 * Parses and validates an ELF64 x86-64 executable or shared object. `ENOEXEC` for anything this
 * loader cannot run (wrong magic/class/endianness/machine/type, bad program headers, a bad
 * PT_INTERP); read errors pass through.
 */
export async function parseElf(read: FileReader): Promise<ElfFile | LinuxError> {
  const eh = await readExactly(read, 0, EHDR_SIZE);
  if (isError(eh)) return eh;
  if (!isElf(eh)) return E.ENOEXEC;
  const v = new DataView(eh.buffer, eh.byteOffset, eh.byteLength);
  if (eh[4] !== ELF.ELFCLASS64 || eh[5] !== ELF.ELFDATA2LSB || eh[6] !== ELF.EV_CURRENT) return E.ENOEXEC;
  const header: ElfHeader = {
    type: v.getUint16(16, true),
    machine: v.getUint16(18, true),
    entry: num(v.getBigUint64(24, true)),
    phoff: num(v.getBigUint64(32, true)),
    phentsize: v.getUint16(54, true),
    phnum: v.getUint16(56, true),
  };
  if (header.type !== ELF.ET_EXEC && header.type !== ELF.ET_DYN) return E.ENOEXEC;
  if (header.machine !== ELF.EM_X86_64) return E.ENOEXEC;
  if (header.phentsize !== PHDR_SIZE) return E.ENOEXEC;
  const tableSize = header.phnum * PHDR_SIZE;
  if (header.phnum < 1 || tableSize > MAX_PHDRS_BYTES) return E.ENOEXEC;
  const table = await readExactly(read, header.phoff, tableSize);
  if (isError(table)) return table;
  const tv = new DataView(table.buffer, table.byteOffset, table.byteLength);
  const phdrs: ProgramHeader[] = [];
  for (let i = 0; i < header.phnum; i++) {
    const o = i * PHDR_SIZE;
    phdrs.push({
      type: tv.getUint32(o, true),
      flags: tv.getUint32(o + 4, true),
      offset: num(tv.getBigUint64(o + 8, true)),
      vaddr: num(tv.getBigUint64(o + 16, true)),
      filesz: num(tv.getBigUint64(o + 32, true)),
      memsz: num(tv.getBigUint64(o + 40, true)),
      align: num(tv.getBigUint64(o + 48, true)),
    });
  }
  let interp: string | undefined;
  const ip = phdrs.find((p) => p.type === ELF.PT_INTERP);
  if (ip) {
    // Linux: the path must fit PATH_MAX, be at least 2 bytes and end with its NUL.
    if (ip.filesz > 4096 || ip.filesz < 2) return E.ENOEXEC;
    const raw = await readExactly(read, ip.offset, ip.filesz);
    if (isError(raw)) return raw;
    if (raw[raw.length - 1] !== 0) return E.ENOEXEC;
    const nul = raw.indexOf(0);
    interp = new TextDecoder().decode(raw.subarray(0, nul));
  }
  const stack = phdrs.find((p) => p.type === ELF.PT_GNU_STACK);
  // No PT_GNU_STACK means an executable stack on x86-64 (an old toolchain's default).
  const execStack = stack ? (stack.flags & ELF.PF_X) !== 0 : true;
  for (const p of phdrs) {
    if (p.type !== ELF.PT_LOAD) continue;
    if (p.filesz > p.memsz) return E.ENOEXEC;
    if (p.vaddr % PAGE_SIZE !== p.offset % PAGE_SIZE) return E.EINVAL;
  }
  if (!phdrs.some((p) => p.type === ELF.PT_LOAD)) return E.ENOEXEC;
  return { header, phdrs, interp, execStack };
}

/** PROT_* bits for a segment's PF_* flags. */
export function segmentProt(flags: number): number {
  return (flags & ELF.PF_R ? 1 : 0) | (flags & ELF.PF_W ? 2 : 0) | (flags & ELF.PF_X ? 4 : 0);
}

/** One mapping of the load plan. Addresses are absolute (the load bias is applied). */
export type LoadMapping =
  | {
      readonly kind: 'file';
      /** Page-aligned start. */
      readonly addr: number;
      /** Page-rounded length of the file-backed part. */
      readonly len: number;
      /** Page-aligned file offset. */
      readonly offset: number;
      readonly prot: number;
      /**
       * Bytes `[zeroFrom, zeroTo)` inside the last file page lie past the segment's file data and
       * must read as zero (bss start). Linux clears them after mapping ("padzero") up to the end
       * of the page, even where p_memsz ends earlier: ld.so allocates from the rest of its last
       * data page and relies on those zeros.
       */
      readonly zeroFrom?: number;
      readonly zeroTo?: number;
    }
  | { readonly kind: 'anon'; readonly addr: number; readonly len: number; readonly prot: number };

/** The load plan of one ELF image. */
export interface LoadPlan {
  readonly mappings: readonly LoadMapping[];
  /** Added to every vaddr (0 for ET_EXEC). */
  readonly bias: number;
  /** Entry point with the bias applied. */
  readonly entry: number;
  /** Address of the program header table in memory (AT_PHDR). */
  readonly phdrAddr: number;
  /** End of the highest segment, page-aligned: where the heap (brk) starts. */
  readonly brk: number;
  /** Lowest and highest (exclusive) address the image spans. */
  readonly start: number;
  readonly end: number;
}

/** The span an image needs (`[minVaddr, maxEnd)` page-rounded) and its largest alignment. */
export function imageSpan(elf: ElfFile): { min: number; max: number; align: number } {
  let min = Infinity;
  let max = 0;
  let align = PAGE_SIZE;
  for (const p of elf.phdrs) {
    if (p.type !== ELF.PT_LOAD) continue;
    min = Math.min(min, floorPage(p.vaddr));
    max = Math.max(max, ceilPage(p.vaddr + p.memsz));
    if (p.align > align && (p.align & (p.align - 1)) === 0) align = p.align;
  }
  return { min, max, align };
}

/**
 * Lays out the PT_LOAD segments of `elf` at `bias` (0 for ET_EXEC; for ET_DYN the caller chose
 * where the image goes, see {@link ELF_ET_DYN_BASE}).
 */
export function planLoad(elf: ElfFile, bias: number): LoadPlan {
  const mappings: LoadMapping[] = [];
  let brk = 0;
  for (const p of elf.phdrs) {
    if (p.type !== ELF.PT_LOAD || p.memsz === 0) continue;
    const prot = segmentProt(p.flags);
    const start = floorPage(bias + p.vaddr);
    const fileEnd = bias + p.vaddr + p.filesz;
    const memEnd = bias + p.vaddr + p.memsz;
    const fileMapEnd = ceilPage(fileEnd);
    if (p.filesz > 0) {
      const zero =
        p.memsz > p.filesz && fileEnd % PAGE_SIZE !== 0 ? { zeroFrom: fileEnd, zeroTo: fileMapEnd } : {};
      const m: LoadMapping = {
        kind: 'file',
        addr: start,
        len: fileMapEnd - start,
        offset: floorPage(p.offset),
        prot,
        ...zero,
      };
      mappings.push(m);
    }
    const anonStart = p.filesz > 0 ? fileMapEnd : start;
    const anonEnd = ceilPage(memEnd);
    if (anonEnd > anonStart) mappings.push({ kind: 'anon', addr: anonStart, len: anonEnd - anonStart, prot });
    brk = Math.max(brk, memEnd);
  }
  const span = imageSpan(elf);
  return {
    mappings,
    bias,
    entry: elf.header.entry + bias,
    phdrAddr: phdrAddress(elf) + bias,
    brk: ceilPage(brk),
    start: span.min + bias,
    end: span.max + bias,
  };
}

/** Where the program header table sits in the image (before the bias). */
function phdrAddress(elf: ElfFile): number {
  const pt = elf.phdrs.find((p) => p.type === ELF.PT_PHDR);
  if (pt) return pt.vaddr;
  const phoff = elf.header.phoff;
  for (const p of elf.phdrs) {
    if (p.type === ELF.PT_LOAD && p.offset <= phoff && phoff < p.offset + p.filesz)
      return phoff - p.offset + p.vaddr;
  }
  return 0;
}

/**
 * Where Linux puts a PIE main program on x86-64 without randomization: two thirds of the 47-bit
 * address space, page-aligned (`ELF_ET_DYN_BASE`), 0x555555554000.
 */
export const ELF_ET_DYN_BASE = 0x555555554000;

/** The top of the stack of a fresh process without randomization (`STACK_TOP`). */
export const STACK_TOP = 0x7ffffffff000;

export function floorPage(n: number): number {
  return n - (n % PAGE_SIZE);
}

export function ceilPage(n: number): number {
  return floorPage(n + PAGE_SIZE - 1);
}

function num(v: bigint): number {
  // Values beyond 2^53 cannot be valid addresses or sizes; keep them huge so range checks fail.
  return v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v);
}
