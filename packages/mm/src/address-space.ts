/**
 * The address-space model: one per process (threads share it), holding the VMAs in an augmented
 * balanced tree (`VmaTree`: O(log n) lookup, insertion, removal and hole search), and implementing
 * the mmap family with Linux x86-64's argument checks, address choice, splitting and merging
 * (mm/mmap.c, mm/vma.c, mm/mprotect.c, mm/mremap.c, mm/madvise.c, mm/mlock.c, mm/msync.c).
 *
 * Every change also appends the host operations that make the real host process match to a
 * journal the platform drains ({@link AddressSpace.drainHostOps}).
 *
 * Modelling choice: Linux attaches an `anon_vma` to a private VMA when a page of it is first
 * written, and a few rules depend on it (mprotect drops VM_ACCOUNT from read-only private
 * anonymous VMAs only while they have none; a moved VMA keeps its old `vm_pgoff` once it has one,
 * so it may stop merging). The model cannot see faults, so it treats every VMA as never touched:
 * /proc/<pid>/maps matches Linux for untouched memory and may show fewer, larger VMAs than Linux
 * for touched memory that was later mprotect'ed read-only or mremap'ed.
 *
 * @module
 */
import {
  E,
  errorOf,
  isError,
  type LinuxError,
  Madv,
  MapFlag,
  Mcl,
  Mlock,
  Mremap,
  Msync,
  Prot,
} from '@tsvisor/abi';
import {
  DEFAULT_MAX_MAP_COUNT,
  DEFAULT_MMAP_MIN_ADDR,
  LEGACY_MAP_MASK,
  PAGE_SIZE,
  STACK_GUARD_GAP,
  TASK_SIZE,
} from './constants.js';
import { ShmemFile } from './shmem-file.js';
import { VmaTree } from './vma-tree.js';
import type { HostOp, MapFile, MmLimits, Vma, Word, WritebackRange } from './types.js';
import {
  VM,
  VM_ACCESS_FLAGS,
  VM_LOCKED_MASK,
  VM_SEALED,
  VM_SPECIAL,
  isDataMapping,
  isExecMapping,
  isStackMapping,
} from './vm-flags.js';

const U64_MAX = 2 ** 64;
const PMD_SIZE = 2 * 1024 * 1024;
/** Pages added below the initial stack by exec (`stack_expand`). */
const STACK_EXPAND = 128 * 1024;
/** Bit this model uses for VM_DROPPABLE (Linux keeps it above bit 31; it has no smaps mnemonic). */
const VM_DROPPABLE = 1 << 11;

/** A syscall argument as an unsigned 64-bit value (exact below 2^53). */
function u64(w: Word): number {
  if (typeof w === 'bigint') return Number(BigInt.asUintN(64, w));
  if (w < 0) return w + U64_MAX;
  return w;
}
/** A syscall argument as an exact unsigned 64-bit bigint (a number is taken as its integer part). */
function u64Big(w: Word): bigint {
  if (typeof w === 'bigint') return BigInt.asUintN(64, w);
  return Number.isFinite(w) ? BigInt.asUintN(64, BigInt(Math.trunc(w))) : 0n;
}
/** The low 12 bits of a syscall argument, exactly. */
function pageOffsetOf(w: Word): number {
  if (typeof w === 'bigint') return Number(w & 0xfffn);
  if (w < 0) return (PAGE_SIZE - (-w % PAGE_SIZE)) % PAGE_SIZE;
  return w % PAGE_SIZE;
}
/** The low 32 bits of a flags argument, and whether any higher bit was set. */
function flagsOf(w: Word): { low: number; high: boolean } {
  if (typeof w === 'bigint') {
    const v = BigInt.asUintN(64, w);
    return { low: Number(v & 0xffffffffn), high: v >> 32n !== 0n };
  }
  const v = u64(w);
  return { low: (v % 2 ** 32) >>> 0, high: v >= 2 ** 32 };
}
/** The errno a value in [2^64-4095, 2^64) stands for (`IS_ERR_VALUE`), else 0. */
function errValueOf(w: Word): number {
  const v = typeof w === 'bigint' ? BigInt.asUintN(64, w) : BigInt(Math.min(u64(w), U64_MAX - 1));
  const neg = 2n ** 64n - v;
  return neg <= 4095n ? Number(neg) : 0;
}
/** PAGE_ALIGN of a syscall argument, exact for bigints, 0 when it wraps past 2^64. */
function pageAlignW(w: Word): number {
  if (typeof w === 'bigint') return Number(BigInt.asUintN(64, BigInt.asUintN(64, w) + 0xfffn) & ~0xfffn);
  return pageAlign(u64(w));
}
/** PAGE_ALIGN with Linux's wrap-around: 0 when the rounded value reaches 2^64. */
function pageAlign(n: number): number {
  const r = Math.ceil(n / PAGE_SIZE) * PAGE_SIZE;
  return r >= U64_MAX ? 0 : r;
}
/**
 * The range check of madvise(2), which prctl(PR_SET_VMA_ANON_NAME) repeats as Linux's
 * madvise_set_anon_name() does: a page-aligned start, a length rounded up to pages without
 * wrapping, an end inside the 64-bit space; each failure is EINVAL. Returns [start, end), empty
 * for a zero length.
 */
function adviceRange(startW: Word, lenW: Word): readonly [number, number] | LinuxError {
  if (pageOffsetOf(startW) !== 0) return E.EINVAL;
  const start = u64(startW);
  const lenIn = u64(lenW);
  const len = pageAlign(lenIn);
  if (lenIn !== 0 && len === 0) return E.EINVAL;
  const end = start + len;
  if (end >= U64_MAX) return E.EINVAL;
  return [start, end];
}
function pagesOf(bytes: number): number {
  return bytes / PAGE_SIZE;
}
function protOfFlags(flags: number): number {
  return flags & (VM.READ | VM.WRITE | VM.EXEC);
}
function vmProtBits(prot: number): number {
  return prot & (Prot.PROT_READ | Prot.PROT_WRITE | Prot.PROT_EXEC);
}

/** One VMA as the model stores it (mutable inside this module, read-only outside). */
class VmaRecord implements Vma {
  constructor(
    public start: number,
    public end: number,
    public flags: number,
    public pgoff: number,
    public file: MapFile | null,
    public anonName: string | undefined,
    public special: string | undefined,
  ) {}

  get pages(): number {
    return (this.end - this.start) / PAGE_SIZE;
  }

  clone(): VmaRecord {
    return new VmaRecord(
      this.start,
      this.end,
      this.flags,
      this.pgoff,
      this.file,
      this.anonName,
      this.special,
    );
  }
}

/** Options for a new {@link AddressSpace}; every field has Linux's default. */
export interface AddressSpaceOptions {
  /**
   * Top of the area where mmap places mappings without a usable hint (`mm->mmap_base`). The
   * kernel computes it at exec with {@link mmapBaseFor} (randomised or not).
   */
  mmapBase?: number;
  /** Start of the bottom-up search used when the top-down one fails (`mmap_legacy_base`). */
  mmapLegacyBase?: number;
  /** `vm.max_map_count`. */
  maxMapCount?: number;
  /** `vm.mmap_min_addr`. */
  mmapMinAddr?: number;
  /** `stack_guard_gap` in bytes. */
  stackGuardGap?: number;
  /** Start of the MAP_32BIT search (Linux randomises it within 32 MiB above 1 GiB). */
  map32BitBase?: number;
  /** Resource limits; missing fields are unlimited / not privileged. */
  limits?: Partial<MmLimits>;
  /**
   * Ranges the platform owns inside the address space (the host stub's pages). See
   * {@link ReservedRange} for what the model answers about them.
   */
  reserved?: readonly ReservedRange[];
}

/**
 * A range of the address space that belongs to the platform, not the program: the stub that
 * traps system calls lives in every sandboxed process at 0x7ffffff00000. The model holds it as
 * a VMA sealed as by mseal(2), the way Linux 6.15+ seals its own system mappings (vDSO, vvar):
 * placement never picks it, MAP_FIXED_NOREPLACE over it gives EEXIST, and MAP_FIXED, munmap,
 * mremap, mprotect and discarding madvise touching it give EPERM, leaving everything unchanged
 * where Linux does. It shows in /proc/<pid>/maps under `name` (smaps flag `sl`) and counts in
 * VmSize like a vDSO, is kept by fork and recreated by exec, and never yields host operations.
 */
export interface ReservedRange {
  /** Page-aligned bounds, `end` exclusive, inside the user address space. */
  readonly start: number;
  readonly end: number;
  /** The access the program has there (PROT_* bits; the stub's code is PROT_READ | PROT_EXEC). */
  readonly prot: number;
  /** What /proc/<pid>/maps shows, e.g. `[tsvisor]`. */
  readonly name: string;
}

/** Linux's placement of `mmap_base` below the stack (`mmap_base()` in arch/x86/mm/mmap.c). */
export function mmapBaseFor(rlimitStack: number, random: number = 0, randomizeStack = true): number {
  const stackMaxRandom = randomizeStack ? 0x3fffff * PAGE_SIZE : 0;
  const pad = stackMaxRandom + STACK_GUARD_GAP;
  let gap = Number.isFinite(rlimitStack) ? rlimitStack + pad : Infinity;
  const gapMin = 128 * 1024 * 1024;
  const gapMax = Math.floor(TASK_SIZE / 6) * 5;
  if (gap < gapMin) gap = gapMin;
  else if (gap > gapMax) gap = gapMax;
  return pageAlign(TASK_SIZE - gap - random);
}

/** Page counts the kernel reports for a process (`/proc/<pid>/status`, statm). */
export interface MmStats {
  /** All mapped pages (VmSize). */
  readonly totalVm: number;
  /** The most pages ever mapped at once (VmPeak). */
  readonly peakVm: number;
  /** Private writable non-stack pages (VmData). */
  readonly dataVm: number;
  /** Executable, non-writable pages (VmExe + VmLib). */
  readonly execVm: number;
  /** Growsdown pages (VmStk). */
  readonly stackVm: number;
  /** mlocked pages (VmLck). */
  readonly lockedVm: number;
  /**
   * Pages charged to overcommit accounting (private writable memory, VM_ACCOUNT); the sum over
   * a sandbox's processes is /proc/meminfo's Committed_AS.
   */
  readonly committedVm: number;
  /** The number of VMAs. */
  readonly mapCount: number;
}

/** The program layout exec records (`mm->start_code` ...) for /proc and brk. */
export interface MmLayout {
  startCode: number;
  endCode: number;
  startData: number;
  endData: number;
  startBrk: number;
  brk: number;
  startStack: number;
  argStart: number;
  argEnd: number;
  envStart: number;
  envEnd: number;
}

/**
 * One process's address space.
 *
 * @example
 * ```ts
 * const as = new AddressSpace();
 * const addr = as.mmap(0, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, null, 0);
 * if (isError(addr)) throw addr;
 * as.mprotect(addr, 4096, PROT_READ); // splits the VMA in two
 * as.drainHostOps(); // [{ op: 'mmap', ... }, { op: 'mprotect', ... }]
 * ```
 */
export class AddressSpace {
  /** Limits the model consults; the kernel updates them on setrlimit. */
  readonly limits: MmLimits;
  /** Program layout (code/data/brk/stack/args), set by the ELF loader. */
  readonly layout: MmLayout = {
    startCode: 0,
    endCode: 0,
    startData: 0,
    endData: 0,
    startBrk: 0,
    brk: 0,
    startStack: 0,
    argStart: 0,
    argEnd: 0,
    envStart: 0,
    envEnd: 0,
  };
  readonly mmapBase: number;
  readonly mmapLegacyBase: number;
  readonly maxMapCount: number;
  readonly mmapMinAddr: number;
  readonly stackGuardGap: number;
  readonly map32BitBase: number;

  private vmas = new VmaTree<VmaRecord>();
  private journal: HostOp[] = [];
  /** `mm->def_flags`: VM_LOCKED[|VM_LOCKONFAULT] after mlockall(MCL_FUTURE). */
  private defFlags = 0;
  private totalVm = 0;
  /** `hiwater_vm`: the largest totalVm so far (VmPeak). */
  private peakVm = 0;
  private dataVm = 0;
  private execVm = 0;
  private stackVm = 0;
  private lockedVm = 0;
  /** Pages charged to the overcommit accounting (VM_ACCOUNT): this process's Committed_AS. */
  private committedVm = 0;

  constructor(private readonly options: AddressSpaceOptions = {}) {
    this.mmapBase = options.mmapBase ?? mmapBaseFor(8 * 1024 * 1024);
    this.mmapLegacyBase = options.mmapLegacyBase ?? pageAlign(Math.floor(TASK_SIZE / 3));
    this.maxMapCount = options.maxMapCount ?? DEFAULT_MAX_MAP_COUNT;
    this.mmapMinAddr = options.mmapMinAddr ?? DEFAULT_MMAP_MIN_ADDR;
    this.stackGuardGap = options.stackGuardGap ?? STACK_GUARD_GAP;
    this.map32BitBase = options.map32BitBase ?? 0x40000000;
    this.limits = {
      as: Infinity,
      data: Infinity,
      dataMax: Infinity,
      stack: 8 * 1024 * 1024,
      memlock: 8 * 1024 * 1024,
      capIpcLock: false,
      capSysRawio: false,
      ...options.limits,
    };
    for (const r of options.reserved ?? []) this.reserve(r);
  }

  /** Adds a reserved range (a configuration error, not untrusted input, if it does not fit). */
  private reserve(r: ReservedRange): void {
    if (r.start % PAGE_SIZE || r.end % PAGE_SIZE || r.start >= r.end || r.start < 0 || r.end > TASK_SIZE)
      throw new Error(`reserved range ${r.start.toString(16)}-${r.end.toString(16)} is not a page range`);
    if (this.intersects(r.start, r.end))
      throw new Error(`reserved range ${r.start.toString(16)}-${r.end.toString(16)} overlaps another`);
    const mayFlags = VM.MAYREAD | VM.MAYWRITE | VM.MAYEXEC;
    const v = new VmaRecord(
      r.start,
      r.end,
      vmProtBits(r.prot) | mayFlags | VM_SEALED,
      r.start / PAGE_SIZE,
      null,
      undefined,
      r.name,
    );
    this.vmas.splice(this.indexAfter(r.start), 0, v);
    this.account(v, 1);
  }

  // ---------------------------------------------------------------- queries

  /** The number of VMAs (`mm->map_count`). */
  get mapCount(): number {
    return this.vmas.length;
  }

  /** All VMAs in address order (a snapshot array of read-only views). */
  list(): readonly Vma[] {
    return this.vmas.toArray();
  }

  /** The VMA containing `addr`, in O(log n). */
  findVma(addr: number): Vma | undefined {
    const v = this.vmas.after(addr);
    return v && v.start <= addr ? v : undefined;
  }

  /** The first VMA that ends above `addr` (Linux `find_vma`): the one containing it, or the next. */
  nextVma(addr: number): Vma | undefined {
    return this.vmas.after(addr);
  }

  /**
   * Whether `[addr, addr+len)` is entirely mapped and allows `prot` (PROT_READ/WRITE/EXEC bits)
   * as x86 enforces it: a page with any access right can be read, writing needs PROT_WRITE.
   * TaskMemory uses it to answer EFAULT before touching host memory.
   */
  isAccessible(addr: number, len: number, prot: number): boolean {
    if (len === 0) return true;
    const end = addr + len;
    if (addr < 0 || end > TASK_SIZE || end < addr) return false;
    let i = this.indexAfter(addr);
    let at = addr;
    while (at < end) {
      const v = this.vmas.at(i++);
      if (!v || v.start > at) return false;
      // x86 page tables: any access right makes a page readable (and executable); writing
      // needs VM_WRITE.
      if (prot & Prot.PROT_WRITE && (v.flags & VM.WRITE) === 0) return false;
      if (prot & (Prot.PROT_READ | Prot.PROT_EXEC) && (v.flags & VM_ACCESS_FLAGS) === 0) return false;
      at = v.end;
    }
    return true;
  }

  /** Page counts for /proc/<pid>/status and statm. */
  stats(): MmStats {
    return {
      totalVm: this.totalVm,
      peakVm: this.peakVm,
      dataVm: this.dataVm,
      execVm: this.execVm,
      stackVm: this.stackVm,
      lockedVm: this.lockedVm,
      committedVm: this.committedVm,
      mapCount: this.vmas.length,
    };
  }

  /**
   * Takes the host operations recorded since the last call, in order. The platform applies them
   * to the host process before the task runs again (see {@link HostOp} for the contract).
   */
  drainHostOps(): HostOp[] {
    const ops = this.journal;
    this.journal = [];
    return ops;
  }

  // ---------------------------------------------------------------- mmap

  /**
   * Implements mmap(2). `file` is the open file for a file mapping (ignored with MAP_ANONYMOUS);
   * pass the fd lookup's error (EBADF) instead of a file and the model returns it at the point
   * Linux does (after the offset check). Returns the mapping's address.
   */
  mmap(
    addrW: Word,
    lenW: Word,
    protW: Word,
    flagsW: Word,
    file: MapFile | LinuxError | null,
    offsetW: Word,
  ): number | LinuxError {
    if (pageOffsetOf(offsetW) !== 0) return E.EINVAL;
    let flags = flagsOf(flagsW).low;
    const flagsHigh = flagsOf(flagsW).high;
    const prot = flagsOf(protW).low;
    let theFile: MapFile | null = null;
    if ((flags & MapFlag.MAP_ANONYMOUS) === 0) {
      if (isError(file)) return file;
      if (file === null) return E.EBADF;
      if (flags & MapFlag.MAP_HUGETLB) return E.EINVAL;
      theFile = file;
    } else if (flags & MapFlag.MAP_HUGETLB) {
      const log = (flags >>> MapFlag.MAP_HUGE_SHIFT) & MapFlag.MAP_HUGE_MASK;
      if (log !== 0 && log !== 21 && log !== 30) return E.EINVAL;
      if (u64(lenW) === 0) return E.EINVAL;
      // No huge pages are reserved in the sandbox: the reservation fails. (Linux accepts
      // MAP_NORESERVE here and faults later; the model does not model hugetlbfs.)
      return E.ENOMEM;
    }
    const pgoffIn = Math.floor(u64(offsetW) / PAGE_SIZE);

    // do_mmap()
    if (u64(lenW) === 0) return E.EINVAL;
    if (flags & MapFlag.MAP_FIXED_NOREPLACE) flags |= MapFlag.MAP_FIXED;
    let addr = u64(addrW);
    if ((flags & MapFlag.MAP_FIXED) === 0) addr = this.roundHintToMin(addr);
    const len = pageAlignW(lenW);
    if (len === 0) return E.ENOMEM;
    if (this.vmas.length > this.maxMapCount) return E.ENOMEM;
    // A fixed address in the last 4095 bytes of the 64-bit space reads as an error value to
    // Linux's IS_ERR_VALUE() and comes back as that errno.
    const asErr = flags & MapFlag.MAP_FIXED && len <= TASK_SIZE ? errValueOf(addrW) : 0;
    if (asErr) return errorOf(asErr);
    const chosen = this.getUnmappedArea(theFile, addr, len, flags);
    if (isError(chosen)) return chosen;
    addr = chosen;
    if (flags & MapFlag.MAP_FIXED_NOREPLACE && this.intersects(addr, addr + len)) return E.EEXIST;

    let vmFlags = vmProtBits(prot) | this.defFlags | VM.MAYREAD | VM.MAYWRITE | VM.MAYEXEC;
    if (flags & MapFlag.MAP_GROWSDOWN) vmFlags |= VM.GROWSDOWN;
    if (flags & MapFlag.MAP_LOCKED) vmFlags |= VM.LOCKED;
    if (flags & MapFlag.MAP_SYNC) vmFlags |= VM.SYNC;
    if (flags & MapFlag.MAP_STACK) vmFlags |= VM.NOHUGEPAGE;
    if (this.defFlags & VM.LOCKED) flags |= MapFlag.MAP_LOCKED;
    if (flags & MapFlag.MAP_LOCKED && !this.canDoMlock()) return E.EPERM;
    if (!this.mlockFutureOk(vmFlags, len)) return E.EAGAIN;

    let pgoff = pgoffIn;
    if (theFile) {
      const max = theFile.mapMaxBytes ?? 2 ** 63 - 1;
      if (pgoff * PAGE_SIZE + len > max) return E.EOVERFLOW;
      let type = flags & MapFlag.MAP_TYPE;
      let validate = true;
      if (type === MapFlag.MAP_SHARED) {
        flags &= LEGACY_MAP_MASK;
        type = MapFlag.MAP_SHARED_VALIDATE;
        validate = false;
      }
      if (type !== MapFlag.MAP_SHARED_VALIDATE && type !== MapFlag.MAP_PRIVATE) return E.EINVAL;
      if (type === MapFlag.MAP_SHARED_VALIDATE) {
        // Plain MAP_SHARED arrives here with its unknown flags cleared.
        if ((flags & ~(LEGACY_MAP_MASK | MapFlag.MAP_ABOVE4G)) !== 0 || (validate && flagsHigh))
          return E.EOPNOTSUPP;
        if (prot & Prot.PROT_WRITE && !theFile.mapWritable) return E.EACCES;
        if (theFile.mapAppendOnly && theFile.mapWritable) return E.EACCES;
        vmFlags |= VM.SHARED | VM.MAYSHARE;
        if (!theFile.mapWritable) vmFlags &= ~(VM.MAYWRITE | VM.SHARED);
      }
      if (!theFile.mapReadable) return E.EACCES;
      if (theFile.mapNoexec) {
        if (vmFlags & VM.EXEC) return E.EPERM;
        vmFlags &= ~VM.MAYEXEC;
      }
      if (theFile.mapError) return theFile.mapError;
      if (vmFlags & VM.GROWSDOWN) return E.EINVAL;
      if (theFile.mapWriteSealed && vmFlags & VM.MAYSHARE) {
        if (vmFlags & VM.SHARED && vmFlags & VM.WRITE) return E.EPERM;
        vmFlags &= ~VM.MAYWRITE;
      }
    } else {
      switch (flags & MapFlag.MAP_TYPE) {
        case MapFlag.MAP_SHARED:
          if (vmFlags & VM.GROWSDOWN) return E.EINVAL;
          pgoff = 0;
          vmFlags |= VM.SHARED | VM.MAYSHARE;
          break;
        case MapFlag.MAP_DROPPABLE:
          // Droppable pages are neither locked, nor a stack, nor reserved, nor inherited.
          if (vmFlags & (VM.GROWSDOWN | VM.LOCKED)) return E.EINVAL;
          vmFlags |= VM_DROPPABLE | VM.NORESERVE | VM.WIPEONFORK | VM.DONTDUMP;
          pgoff = addr / PAGE_SIZE;
          break;
        case MapFlag.MAP_PRIVATE:
          pgoff = addr / PAGE_SIZE;
          break;
        default:
          return E.EINVAL;
      }
    }
    if (flags & MapFlag.MAP_NORESERVE) vmFlags |= VM.NORESERVE;
    const populate =
      (vmFlags & VM.LOCKED) !== 0 ||
      (flags & (MapFlag.MAP_POPULATE | MapFlag.MAP_NONBLOCK)) === MapFlag.MAP_POPULATE;
    // No file here supports synchronous faults (DAX). Linux 6.18 refuses MAP_SYNC on any file
    // (private ones too) only once the file's mmap hook ran: what MAP_FIXED replaced is gone.
    const lateError = theFile && flagsOf(flagsW).low & MapFlag.MAP_SYNC ? E.EOPNOTSUPP : undefined;
    return this.mmapRegion(theFile, addr, len, vmFlags, pgoff, populate, lateError);
  }

  /** `mmap_region()`: replace whatever is in the range with one new VMA and merge it. */
  private mmapRegion(
    file: MapFile | null,
    addr: number,
    len: number,
    vmFlags: number,
    pgoff: number,
    populate: boolean,
    lateError?: LinuxError,
  ): number | LinuxError {
    const end = addr + len;
    // Unmapping a hole in the middle of one VMA adds one.
    const i = this.indexAfter(addr);
    const first = this.vmas.at(i);
    if (first && first.start < addr && first.end > end && this.vmas.length >= this.maxMapCount)
      return E.ENOMEM;
    if (this.sealedRefusal(addr, end)) return E.EPERM;
    const replaced = this.pagesIn(addr, end);
    if (!this.mayExpandVm(vmFlags, pagesOf(len) - replaced)) return E.ENOMEM;
    if ((vmFlags & (VM.NORESERVE | VM.SHARED | VM.WRITE)) === VM.WRITE) vmFlags |= VM.ACCOUNT;
    let backing = file;
    if (!file && vmFlags & VM.SHARED) backing = new ShmemFile(len);
    if (lateError) {
      const removed = this.removeRange(addr, end);
      const lo = removed[0];
      const hi = removed[removed.length - 1];
      if (lo && hi) this.journal.push({ op: 'munmap', addr: lo.start, length: hi.end - lo.start });
      return lateError;
    }
    this.removeRange(addr, end);
    this.insert(new VmaRecord(addr, end, vmFlags, pgoff, backing, undefined, undefined));
    this.journal.push({
      op: 'mmap',
      addr,
      length: len,
      prot: protOfFlags(vmFlags),
      shared: (vmFlags & VM.MAYSHARE) !== 0,
      file: backing,
      offset: backing ? pgoff * PAGE_SIZE : 0,
      populate,
    });
    return addr;
  }

  /**
   * Maps a special mapping (`[vdso]` when `prot` has PROT_EXEC, else a `[vvar]`-like data page)
   * at `addr`, or at an address the model picks when `addr` is 0. Special mappings never merge, cannot be mremap'ed bigger, and have no file.
   * The host operation is an anonymous `mmap` the platform fills with the vDSO image.
   */
  mapSpecial(addr: number, len: number, prot: number, name: string): number | LinuxError {
    len = pageAlign(len);
    if (len === 0) return E.EINVAL;
    const flags = addr ? MapFlag.MAP_FIXED : 0;
    const at = this.getUnmappedArea(null, addr, len, flags | MapFlag.MAP_PRIVATE);
    if (isError(at)) return at;
    if (this.sealedRefusal(at, at + len)) return E.EPERM;
    if (!this.mayExpandVm(VM.DONTEXPAND, pagesOf(len))) return E.ENOMEM;
    // Like the kernel's vDSO (rd ex mr mw me de) and vvar pages (rd mr pf io de dd).
    const vmFlags =
      prot & Prot.PROT_EXEC
        ? vmProtBits(prot) | VM.MAYREAD | VM.MAYWRITE | VM.MAYEXEC | VM.DONTEXPAND
        : vmProtBits(prot) | VM.MAYREAD | VM.PFNMAP | VM.IO | VM.DONTEXPAND | VM.DONTDUMP;
    this.removeRange(at, at + len);
    this.insert(new VmaRecord(at, at + len, vmFlags, 0, null, undefined, name));
    this.journal.push({
      op: 'mmap',
      addr: at,
      length: len,
      prot: protOfFlags(vmFlags),
      shared: false,
      file: null,
      offset: 0,
      populate: true,
    });
    return at;
  }

  // ---------------------------------------------------------------- munmap

  /** Implements munmap(2). */
  munmap(addrW: Word, lenW: Word): 0 | LinuxError {
    const start = u64(addrW);
    let len = u64(lenW);
    if (pageOffsetOf(addrW) !== 0 || start > TASK_SIZE || len > TASK_SIZE - start) return E.EINVAL;
    len = pageAlign(len);
    if (len === 0) return E.EINVAL;
    return this.doMunmap(start, start + len);
  }

  /** `do_vmi_munmap()` with its range checks, for callers inside the kernel (mremap). */
  private munmapRange(start: number, len: number): 0 | LinuxError {
    if (start % PAGE_SIZE !== 0 || start > TASK_SIZE || len > TASK_SIZE - start) return E.EINVAL;
    if (len === 0) return E.EINVAL;
    return this.doMunmap(start, start + len);
  }

  private doMunmap(start: number, end: number): 0 | LinuxError {
    const i = this.indexAfter(start);
    const first = this.vmas.at(i);
    if (!first || first.start >= end) return 0;
    if (first.start < start && end < first.end && this.vmas.length >= this.maxMapCount) return E.ENOMEM;
    if (this.sealedRefusal(start, end)) return E.EPERM;
    const removed = this.removeRange(start, end);
    const lo = removed[0];
    const hi = removed[removed.length - 1];
    if (lo && hi) this.journal.push({ op: 'munmap', addr: lo.start, length: hi.end - lo.start });
    return 0;
  }

  // ---------------------------------------------------------------- mprotect

  /** Implements mprotect(2), including PROT_GROWSDOWN and the partial change before a hole. */
  mprotect(startW: Word, lenW: Word, protW: Word): 0 | LinuxError {
    const p = flagsOf(protW);
    const grows = p.low & (Prot.PROT_GROWSDOWN | Prot.PROT_GROWSUP);
    const reqprot = p.low & ~(Prot.PROT_GROWSDOWN | Prot.PROT_GROWSUP);
    if (grows === (Prot.PROT_GROWSDOWN | Prot.PROT_GROWSUP)) return E.EINVAL;
    if (pageOffsetOf(startW) !== 0) return E.EINVAL;
    let start = u64(startW);
    const rawLen = u64(lenW);
    if (rawLen === 0) return 0;
    const len = pageAlign(rawLen);
    let end = start + len;
    if (len === 0 || end >= U64_MAX) return E.ENOMEM;
    if (p.high || reqprot & ~(Prot.PROT_READ | Prot.PROT_WRITE | Prot.PROT_EXEC | Prot.PROT_SEM))
      return E.EINVAL;
    let i = this.indexAfter(start);
    const vma = this.vmas.at(i);
    if (!vma || vma.start >= end) return E.ENOMEM;
    if (grows & Prot.PROT_GROWSDOWN) {
      start = vma.start;
      if ((vma.flags & VM.GROWSDOWN) === 0) return E.EINVAL;
    } else {
      if (vma.start > start) return E.ENOMEM;
      if (grows & Prot.PROT_GROWSUP) {
        end = vma.end;
        return E.EINVAL; // x86 has no VM_GROWSUP
      }
    }
    let nstart = start;
    let tmp = vma.start;
    let error: LinuxError | undefined;
    const changed: [number, number][] = [];
    while (i < this.vmas.length) {
      const v = this.vmas.at(i);
      if (!v || v.start >= end) break;
      if (v.start !== tmp) {
        error = E.ENOMEM;
        break;
      }
      let newFlags = vmProtBits(reqprot) | (v.flags & ~VM_ACCESS_FLAGS);
      if (newFlags & ~(newFlags >>> 4) & VM_ACCESS_FLAGS) {
        error = E.EACCES;
        break;
      }
      if (v.flags & VM_SEALED) {
        error = E.EPERM;
        break;
      }
      tmp = Math.min(v.end, end);
      const oldFlags = v.flags;
      if (newFlags !== oldFlags) {
        const nrPages = pagesOf(tmp - nstart);
        if (newFlags & VM.WRITE) {
          if (!this.mayExpandVm(newFlags, nrPages) && this.mayExpandVm(oldFlags, nrPages)) {
            error = E.ENOMEM;
            break;
          }
          if (!(oldFlags & (VM.ACCOUNT | VM.WRITE | VM.HUGETLB | VM.SHARED | VM.NORESERVE)))
            newFlags |= VM.ACCOUNT;
        } else if (oldFlags & VM.ACCOUNT && v.file === null) {
          // Untouched private anonymous memory gives its commit back (see the module comment).
          newFlags &= ~VM.ACCOUNT;
        }
        const r = this.modifyRange(i, nstart, tmp, (x) => {
          x.flags = newFlags;
        });
        if (isError(r)) {
          error = r;
          break;
        }
        i = r;
        changed.push([nstart, tmp]);
      } else {
        i++;
      }
      // Linux continues from the end of the VMA now covering the piece (it may have merged).
      tmp = this.vmaEndAt(nstart);
      nstart = tmp;
      if (nstart >= end) break;
      i = this.indexAfter(nstart);
    }
    if (!error && tmp < end) error = E.ENOMEM;
    for (const [s, e] of coalesce(changed)) {
      this.journal.push({ op: 'mprotect', addr: s, length: e - s, prot: vmProtBits(reqprot) });
    }
    return error ?? 0;
  }

  // ---------------------------------------------------------------- mremap

  /** Implements mremap(2): shrink, grow in place, MREMAP_MAYMOVE, MREMAP_FIXED, MREMAP_DONTUNMAP. */
  mremap(addrW: Word, oldLenW: Word, newLenW: Word, flagsW: Word, newAddrW: Word): number | LinuxError {
    const f = flagsOf(flagsW);
    const flags = f.low;
    const addr = u64(addrW);
    const newAddr = u64(newAddrW);
    if (f.high || flags & ~(Mremap.MREMAP_FIXED | Mremap.MREMAP_MAYMOVE | Mremap.MREMAP_DONTUNMAP))
      return E.EINVAL;
    if (pageOffsetOf(addrW) !== 0) return E.EINVAL;
    const oldLen = pageAlignW(oldLenW);
    const newLen = pageAlignW(newLenW);
    if (newLen === 0) return E.EINVAL;
    if (newLen > TASK_SIZE) return E.EINVAL;
    const impliesNewAddr = (flags & (Mremap.MREMAP_FIXED | Mremap.MREMAP_DONTUNMAP)) !== 0;
    if (impliesNewAddr) {
      if (newAddr > TASK_SIZE - newLen) return E.EINVAL;
      if (pageOffsetOf(newAddrW) !== 0) return E.EINVAL;
      if ((flags & Mremap.MREMAP_MAYMOVE) === 0) return E.EINVAL;
      if (flags & Mremap.MREMAP_DONTUNMAP && oldLen !== newLen) return E.EINVAL;
      // 64-bit arithmetic: a huge old_len wraps around and does not count as overlapping.
      const oldEnd = (addr + oldLen) % U64_MAX;
      if (oldEnd > newAddr && newAddr + newLen > addr) return E.EINVAL;
      if (this.vmas.length + 2 >= this.maxMapCount - 3) return E.ENOMEM;
    }
    const vma = this.findVmaRecord(addr);
    if (!vma) return E.EFAULT;
    if (vma.flags & VM_SEALED) return E.EPERM;
    // check_prep_vma()
    if (oldLen === 0 && (vma.flags & VM.MAYSHARE) === 0) return E.EINVAL;
    if (flags & Mremap.MREMAP_DONTUNMAP && vma.flags & (VM.DONTEXPAND | VM.PFNMAP)) return E.EINVAL;
    if (vma.flags & VM.HUGETLB) return E.EINVAL;
    if (impliesNewAddr) return this.mremapTo(addr, oldLen, newAddr, newLen, flags);
    // Shrinking in place is an munmap of the tail.
    if (oldLen >= newLen) {
      if (oldLen > newLen) {
        const r = this.munmapRange(addr + newLen, oldLen - newLen);
        if (isError(r)) return r;
      }
      return addr;
    }
    const bad = this.resizeCheck(vma, addr, oldLen, newLen);
    if (bad) return bad;
    // Growing: in place when the VMA ends at the old range and the space after it is free.
    if (oldLen === vma.end - addr) {
      const delta = newLen - oldLen;
      const next = this.vmas.at(this.indexAfter(vma.end));
      const newEnd = vma.end + delta;
      if (newEnd <= TASK_SIZE && (!next || next.start >= newEnd)) {
        this.account(vma, -1);
        vma.end = newEnd;
        this.vmas.touch(vma);
        this.account(vma, 1);
        this.tryMerge(this.indexAfter(newEnd - 1) + 1);
        this.journal.push({
          op: 'mremap',
          oldAddr: addr,
          oldLength: oldLen,
          newAddr: addr,
          newLength: newLen,
          dontUnmap: false,
        });
        return addr;
      }
    }
    if ((flags & Mremap.MREMAP_MAYMOVE) === 0) return E.ENOMEM;
    const to = this.getUnmappedArea(
      vma.file,
      0,
      newLen,
      vma.flags & VM.MAYSHARE ? MapFlag.MAP_SHARED : MapFlag.MAP_PRIVATE,
    );
    if (isError(to)) return to;
    return this.moveVma(vma, addr, oldLen, to, newLen, flags);
  }

  /** `vma_to_resize()`'s checks on the VMA a resize or move starts from. */
  private resizeCheck(vma: VmaRecord, addr: number, oldLen: number, newLen: number): LinuxError | undefined {
    if (oldLen > vma.end - addr) return E.EFAULT;
    if (newLen === oldLen) return undefined;
    if (vma.flags & (VM.DONTEXPAND | VM.PFNMAP)) return E.EFAULT;
    if (newLen > oldLen) {
      if (!this.mlockFutureOk(vma.flags, newLen - oldLen)) return E.EAGAIN;
      if (!this.mayExpandVm(vma.flags, pagesOf(newLen - oldLen))) return E.ENOMEM;
    }
    return undefined;
  }

  private mremapTo(
    addr: number,
    oldLen: number,
    newAddr: number,
    newLen: number,
    flags: number,
  ): number | LinuxError {
    const first = this.findVmaRecord(addr);
    if (flags & Mremap.MREMAP_FIXED && oldLen === newLen && first && oldLen > first.end - addr) {
      return this.moveMany(addr, oldLen, newAddr, flags);
    }
    if (!first) return E.EFAULT;
    const early = this.resizeCheck(first, addr, Math.min(oldLen, newLen), newLen);
    if (early) return early;
    if (flags & Mremap.MREMAP_FIXED) {
      const r = this.doMunmap(newAddr, newAddr + newLen);
      if (isError(r)) return r;
    }
    // The target is unmapped first; it may have taken the source with it.
    const vma = this.findVmaRecord(addr);
    if (!vma) return E.EFAULT;
    if (oldLen > newLen) {
      const r = this.munmapRange(addr + newLen, oldLen - newLen);
      if (isError(r)) return r;
      oldLen = newLen;
    }
    const bad = this.resizeCheck(vma, addr, oldLen, newLen);
    if (bad) return bad;
    if (flags & Mremap.MREMAP_DONTUNMAP && !this.mayExpandVm(vma.flags, pagesOf(oldLen))) return E.ENOMEM;
    let target = newAddr;
    if ((flags & Mremap.MREMAP_FIXED) === 0) {
      const t = this.getUnmappedArea(
        vma.file,
        newAddr,
        newLen,
        vma.flags & VM.MAYSHARE ? MapFlag.MAP_SHARED : MapFlag.MAP_PRIVATE,
      );
      if (isError(t)) return t;
      target = t;
    }
    return this.moveVma(vma, addr, oldLen, target, newLen, flags);
  }

  /**
   * Linux 6.17+: a pure move (MREMAP_FIXED, same length) may span several VMAs and gaps; each VMA
   * moves on its own to the same offset in the target (replacing what is there), and the target's
   * parts facing the source's gaps keep their old contents.
   */
  private moveMany(addr: number, len: number, newAddr: number, flags: number): number | LinuxError {
    const pieces: [number, number][] = [];
    for (let i = this.indexAfter(addr); i < this.vmas.length; i++) {
      const v = this.vmas.at(i) as VmaRecord;
      if (v.start >= addr + len) break;
      pieces.push([Math.max(v.start, addr), Math.min(v.end, addr + len)]);
    }
    for (const [s, e] of pieces) {
      // Each VMA is checked as its turn comes (check_prep_vma): earlier ones have moved.
      if ((this.findVmaRecord(s) as VmaRecord).flags & VM_SEALED) return E.EPERM;
      const to = newAddr + (s - addr);
      const r = this.doMunmap(to, to + (e - s));
      if (isError(r)) return r;
      const v = this.findVmaRecord(s);
      if (!v) return E.EFAULT;
      const m = this.moveVma(v, s, e - s, to, e - s, flags);
      if (isError(m)) return m;
    }
    return newAddr;
  }

  /** `move_vma()`: the pages of `[addr, addr+oldLen)` move to a new VMA at `to` of `newLen`. */
  private moveVma(
    vma: VmaRecord,
    addr: number,
    oldLen: number,
    to: number,
    newLen: number,
    flags: number,
  ): number | LinuxError {
    if (this.vmas.length >= this.maxMapCount - 3) return E.ENOMEM;
    const dontUnmap = (flags & Mremap.MREMAP_DONTUNMAP) !== 0;
    const pgoff = vma.pgoff + (addr - vma.start) / PAGE_SIZE;
    const moved = new VmaRecord(
      to,
      to + newLen,
      vma.flags,
      vma.file === null ? to / PAGE_SIZE : pgoff,
      vma.file,
      vma.anonName,
      vma.special,
    );
    if (oldLen === 0) {
      // The "duplicate a shared mapping" special case: nothing moves, a second mapping appears.
      this.removeRange(to, to + newLen);
      this.insert(moved);
      this.journal.push({
        op: 'mmap',
        addr: to,
        length: newLen,
        prot: protOfFlags(vma.flags),
        shared: true,
        file: vma.file,
        offset: pgoff * PAGE_SIZE,
        populate: false,
      });
      return to;
    }
    if (dontUnmap) {
      // The old range stays mapped (emptied). Linux first places the new VMA (it may merge with
      // the old one), then clears VM_LOCKED on the whole old VMA in place, without merging.
      this.insert(moved);
      const old = this.findVmaRecord(addr);
      if (old && old.flags & VM_LOCKED_MASK) {
        this.account(old, -1);
        old.flags &= ~VM_LOCKED_MASK;
        this.account(old, 1);
      }
    } else {
      this.removeRange(addr, addr + oldLen);
      this.insert(moved);
    }
    this.journal.push({
      op: 'mremap',
      oldAddr: addr,
      oldLength: oldLen,
      newAddr: to,
      newLength: newLen,
      dontUnmap,
    });
    return to;
  }

  // ---------------------------------------------------------------- madvise

  /**
   * Implements madvise(2). The flag-changing advice (DONTFORK, WIPEONFORK, HUGEPAGE, RANDOM,
   * DONTDUMP, MERGEABLE...) splits and merges VMAs; DONTNEED/FREE/REMOVE and the fork flags are
   * passed to the host as `madvise` operations (the host does the zeroing).
   */
  madvise(startW: Word, lenW: Word, adviceW: Word): 0 | LinuxError {
    const advice = flagsOf(adviceW).low | 0; // an int in the syscall: high bits are dropped
    if (!isValidAdvice(advice)) return E.EINVAL;
    const range = adviceRange(startW, lenW);
    if (isError(range)) return range;
    const [start, end] = range;
    if (end === start) return 0;
    const touched: [number, number][] = [];
    const r = this.walkVmas(start, end, (i, s, e) => {
      const r2 = this.madviseVma(i, s, e, advice);
      if (!isError(r2)) touched.push([s, e]);
      return r2;
    });
    if (passesToHost(advice)) {
      for (const [s, e] of coalesce(touched))
        this.journal.push({ op: 'madvise', addr: s, length: e - s, advice });
    }
    return r;
  }

  private madviseVma(i: number, start: number, end: number, advice: number): number | LinuxError {
    const v = this.vmas.at(i);
    if (!v) throw new Error('madviseVma: no VMA');
    // can_madvise_modify(): a sealed VMA refuses discarding advice unless the program could
    // write (or the file could give back) the contents anyway.
    if (v.flags & VM_SEALED && isDiscard(advice) && !v.file && (v.flags & VM.WRITE) === 0) return E.EPERM;
    let newFlags = v.flags;
    switch (advice) {
      case Madv.MADV_REMOVE:
        if (v.flags & VM.LOCKED) return E.EINVAL;
        if (!v.file) return E.EINVAL;
        if ((v.flags & (VM.SHARED | VM.MAYWRITE)) !== (VM.SHARED | VM.MAYWRITE)) return E.EACCES;
        return i + 1;
      case Madv.MADV_COLD:
      case Madv.MADV_PAGEOUT:
        if (v.flags & (VM.LOCKED | VM.PFNMAP | VM.HUGETLB)) return E.EINVAL;
        return i + 1;
      case Madv.MADV_WILLNEED:
      case Madv.MADV_POPULATE_READ:
      case Madv.MADV_POPULATE_WRITE:
      case Madv.MADV_COLLAPSE:
        return i + 1;
      case Madv.MADV_FREE:
      case Madv.MADV_DONTNEED:
      case Madv.MADV_DONTNEED_LOCKED: {
        const forbidden = VM.PFNMAP | VM.HUGETLB | (advice === Madv.MADV_DONTNEED_LOCKED ? 0 : VM.LOCKED);
        if (v.flags & forbidden) return E.EINVAL;
        if (advice === Madv.MADV_FREE && (v.file !== null || v.special !== undefined)) return E.EINVAL;
        return i + 1;
      }
      case Madv.MADV_GUARD_INSTALL:
      case Madv.MADV_GUARD_REMOVE:
        if (v.flags & (VM_SPECIAL | VM.HUGETLB)) return E.EINVAL;
        if (advice === Madv.MADV_GUARD_INSTALL && v.flags & VM.LOCKED) return E.EINVAL;
        return i + 1;
      case Madv.MADV_NORMAL:
        newFlags &= ~(VM.RAND_READ | VM.SEQ_READ);
        break;
      case Madv.MADV_SEQUENTIAL:
        newFlags = (newFlags & ~VM.RAND_READ) | VM.SEQ_READ;
        break;
      case Madv.MADV_RANDOM:
        newFlags = (newFlags & ~VM.SEQ_READ) | VM.RAND_READ;
        break;
      case Madv.MADV_DONTFORK:
        newFlags |= VM.DONTCOPY;
        break;
      case Madv.MADV_DOFORK:
        if (v.flags & VM.IO) return E.EINVAL;
        newFlags &= ~VM.DONTCOPY;
        break;
      case Madv.MADV_WIPEONFORK:
        if (v.file || v.flags & VM.SHARED) return E.EINVAL;
        newFlags |= VM.WIPEONFORK;
        break;
      case Madv.MADV_KEEPONFORK:
        if (v.flags & VM_DROPPABLE) return E.EINVAL;
        newFlags &= ~VM.WIPEONFORK;
        break;
      case Madv.MADV_DONTDUMP:
        newFlags |= VM.DONTDUMP;
        break;
      case Madv.MADV_DODUMP:
        if (newFlags & VM_SPECIAL || newFlags & VM_DROPPABLE) return E.EINVAL;
        newFlags &= ~VM.DONTDUMP;
        break;
      case Madv.MADV_MERGEABLE:
        // KSM only marks VMAs it can merge: private, not special.
        if (v.flags & (VM.SHARED | VM.MAYSHARE | VM_SPECIAL | VM.HUGETLB | VM_DROPPABLE)) return i + 1;
        newFlags |= VM.MERGEABLE;
        break;
      case Madv.MADV_UNMERGEABLE:
        newFlags &= ~VM.MERGEABLE;
        break;
      case Madv.MADV_HUGEPAGE:
        newFlags = (newFlags & ~VM.NOHUGEPAGE) | VM.HUGEPAGE;
        break;
      case Madv.MADV_NOHUGEPAGE:
        newFlags = (newFlags & ~VM.HUGEPAGE) | VM.NOHUGEPAGE;
        break;
      default:
        return i + 1;
    }
    if (newFlags === v.flags) return i + 1;
    const r = this.modifyRange(i, start, end, (x) => {
      x.flags = newFlags;
    });
    return isError(r) ? r : r + 1;
  }

  /**
   * Sets (or with `undefined` clears) the name of anonymous VMAs in a range, as
   * prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME) does; the caller has validated the name string.
   */
  setAnonName(startW: Word, lenW: Word, name: string | undefined): 0 | LinuxError {
    const range = adviceRange(startW, lenW);
    if (isError(range)) return range;
    const [start, end] = range;
    if (end === start) return 0;
    return this.walkVmas(start, end, (i, s, e) => {
      const v = this.vmas.at(i);
      if (!v) throw new Error('setAnonName: no VMA');
      if (v.file && !(v.file instanceof ShmemFile)) return E.EBADF;
      if (v.anonName === name) return i + 1;
      const r = this.modifyRange(i, s, e, (x) => {
        x.anonName = name;
      });
      return isError(r) ? r : r + 1;
    });
  }

  /**
   * `madvise_walk_vmas()`: calls `visit` for each VMA piece in `[start, end)`, which returns the
   * index to continue from or an error that stops the walk. Holes give ENOMEM at the end.
   */
  private walkVmas(
    start: number,
    end: number,
    visit: (i: number, s: number, e: number) => number | LinuxError,
  ): 0 | LinuxError {
    let unmapped: LinuxError | undefined;
    let i = this.indexAfter(start);
    for (;;) {
      const v = this.vmas.at(i);
      if (!v) return E.ENOMEM;
      if (start < v.start) {
        unmapped = E.ENOMEM;
        start = v.start;
        if (start >= end) break;
      }
      const tmp = Math.min(v.end, end);
      const r = visit(i, start, tmp);
      if (isError(r)) return r;
      start = tmp;
      if (start >= end) break;
      i = this.indexAfter(start);
    }
    return unmapped ?? 0;
  }

  // ---------------------------------------------------------------- msync, mincore

  /**
   * Implements msync(2)'s checks and returns the shared file ranges MS_SYNC asks the kernel to
   * write back (the kernel writes the memfd's pages to the file).
   */
  msync(startW: Word, lenW: Word, flagsW: Word): WritebackRange[] | LinuxError {
    const flags = flagsOf(flagsW).low; // an int in the syscall
    if (flags & ~(Msync.MS_ASYNC | Msync.MS_INVALIDATE | Msync.MS_SYNC)) return E.EINVAL;
    if (pageOffsetOf(startW) !== 0) return E.EINVAL;
    if (flags & Msync.MS_ASYNC && flags & Msync.MS_SYNC) return E.EINVAL;
    let start = u64(startW);
    const len = pageAlignW(lenW);
    const end = start + len;
    if (end >= U64_MAX) return E.ENOMEM;
    const out: WritebackRange[] = [];
    if (end === start) return out;
    let unmapped: LinuxError | undefined;
    let i = this.indexAfter(start);
    for (;;) {
      const v = this.vmas.at(i);
      if (!v) return E.ENOMEM;
      if (start < v.start) {
        if (flags === Msync.MS_ASYNC) return E.ENOMEM;
        start = v.start;
        if (start >= end) return E.ENOMEM;
        unmapped = E.ENOMEM;
      }
      if (flags & Msync.MS_INVALIDATE && v.flags & VM.LOCKED) return E.EBUSY;
      const fstart = start - v.start + v.pgoff * PAGE_SIZE;
      const seg = Math.min(end, v.end) - start;
      start = v.end;
      if (flags & Msync.MS_SYNC && v.file && v.flags & VM.SHARED)
        out.push({ file: v.file, offset: fstart, length: seg });
      if (start >= end) break;
      i = this.indexAfter(start);
    }
    return unmapped ?? out;
  }

  /**
   * Implements mincore(2)'s checks: returns the number of pages (vector bytes) for a fully
   * mapped range, or ENOMEM/EINVAL. Residency itself is the host's to report.
   */
  mincore(startW: Word, lenW: Word): number | LinuxError {
    if (pageOffsetOf(startW) !== 0) return E.EINVAL;
    const start = u64(startW);
    const len = u64(lenW);
    if (start > TASK_SIZE || len > TASK_SIZE - start) return E.ENOMEM;
    const pages = Math.ceil(len / PAGE_SIZE);
    const end = start + pages * PAGE_SIZE;
    let at = start;
    let i = this.indexAfter(start);
    while (at < end) {
      const v = this.vmas.at(i++);
      if (!v || v.start > at) return E.ENOMEM;
      at = v.end;
    }
    return pages;
  }

  // ---------------------------------------------------------------- mlock

  /** Implements mlock(2) and mlock2(2) (`flags` = MLOCK_ONFAULT or 0). */
  mlock(startW: Word, lenW: Word, flagsW: Word = 0): 0 | LinuxError {
    const f = flagsOf(flagsW).low; // an int in the syscall
    if (f & ~Mlock.MLOCK_ONFAULT) return E.EINVAL;
    const vmFlags = VM.LOCKED | (f & Mlock.MLOCK_ONFAULT ? VM.LOCKONFAULT : 0);
    if (!this.canDoMlock()) return E.EPERM;
    const r = this.lockRange(startW, lenW);
    if (isError(r)) return r;
    const [start, len] = r;
    let locked = pagesOf(len) + this.lockedVm;
    const limit = Math.floor(this.limits.memlock / PAGE_SIZE);
    if (locked > limit && !this.limits.capIpcLock) locked -= this.lockedPagesIn(start, start + len);
    if (locked > limit && !this.limits.capIpcLock) return E.ENOMEM;
    const applied = this.applyLockFlags(start, len, vmFlags);
    if (isError(applied)) return applied;
    return this.populateCheck(start, start + len);
  }

  /**
   * `__mm_populate()` after mlock: faulting pages in fails (EFAULT, reported as ENOMEM) on a
   * VMA that has no access rights unless it locks on fault. The locking itself stays applied.
   */
  private populateCheck(start: number, end: number): 0 | LinuxError {
    if (end <= start) return 0;
    for (let i = this.indexAfter(start); i < this.vmas.length; i++) {
      const v = this.vmas.at(i) as VmaRecord;
      if (v.start >= end) break;
      if (v.flags & (VM.IO | VM.PFNMAP) || v.flags & VM.LOCKONFAULT) continue;
      if ((v.flags & VM_ACCESS_FLAGS) === 0) return E.ENOMEM;
    }
    return 0;
  }

  /** Implements munlock(2). */
  munlock(startW: Word, lenW: Word): 0 | LinuxError {
    const r = this.lockRange(startW, lenW);
    if (isError(r)) return r;
    return this.applyLockFlags(r[0], r[1], 0);
  }

  /** Implements mlockall(2). */
  mlockall(flagsW: Word): 0 | LinuxError {
    const flags = flagsOf(flagsW).low; // an int in the syscall
    if (!flags || flags & ~(Mcl.MCL_CURRENT | Mcl.MCL_FUTURE | Mcl.MCL_ONFAULT) || flags === Mcl.MCL_ONFAULT)
      return E.EINVAL;
    if (!this.canDoMlock()) return E.EPERM;
    const limit = Math.floor(this.limits.memlock / PAGE_SIZE);
    if (flags & Mcl.MCL_CURRENT && this.totalVm > limit && !this.limits.capIpcLock) return E.ENOMEM;
    this.applyMlockall(flags);
    return 0;
  }

  /** Implements munlockall(2). */
  munlockall(): 0 {
    this.applyMlockall(0);
    return 0;
  }

  /**
   * mlock's range: the start rounded down to a page, `len + offset` rounded up with 64-bit
   * wrap-around (a length that wraps to 0 locks nothing and succeeds), EINVAL past 2^64.
   */
  private lockRange(startW: Word, lenW: Word): [number, number] | LinuxError {
    const off = BigInt(pageOffsetOf(startW));
    const start = u64Big(startW) - off;
    const len = BigInt.asUintN(64, u64Big(lenW) + off + 0xfffn) & ~0xfffn;
    if (start + len >= 2n ** 64n) return E.EINVAL;
    return [Number(start), Number(len)];
  }

  private applyLockFlags(start: number, len: number, lockFlags: number): 0 | LinuxError {
    const end = start + len;
    if (end === start) return 0;
    let i = this.indexAfter(start);
    const first = this.vmas.at(i);
    if (!first || first.start > start) return E.ENOMEM;
    let nstart = start;
    let tmp = first.start;
    while (i < this.vmas.length) {
      const v = this.vmas.at(i);
      if (!v || v.start >= end) break;
      if (v.start !== tmp) return E.ENOMEM;
      const newFlags = (v.flags & ~VM_LOCKED_MASK) | lockFlags;
      tmp = Math.min(v.end, end);
      const r = this.mlockFixup(i, nstart, tmp, newFlags);
      if (isError(r)) return r;
      // Linux continues from the end of the VMA now covering the piece (it may have merged).
      tmp = this.vmaEndAt(nstart);
      nstart = tmp;
      if (nstart >= end) break;
      i = this.indexAfter(nstart);
    }
    if (tmp < end) return E.ENOMEM;
    return 0;
  }

  private mlockFixup(i: number, start: number, end: number, newFlags: number): number | LinuxError {
    const v = this.vmas.at(i);
    if (!v) throw new Error('mlockFixup: no VMA');
    if (newFlags === v.flags || v.flags & VM_SPECIAL || v.flags & VM.HUGETLB || v.flags & VM_DROPPABLE)
      return i + 1;
    const r = this.modifyRange(i, start, end, (x) => {
      x.flags = newFlags;
    });
    return isError(r) ? r : r + 1;
  }

  private applyMlockall(flags: number): void {
    this.defFlags &= ~VM_LOCKED_MASK;
    if (flags & Mcl.MCL_FUTURE) this.defFlags |= VM.LOCKED | (flags & Mcl.MCL_ONFAULT ? VM.LOCKONFAULT : 0);
    if (flags !== 0 && (flags & Mcl.MCL_CURRENT) === 0) return;
    const toAdd = flags === 0 ? 0 : VM.LOCKED | (flags & Mcl.MCL_ONFAULT ? VM.LOCKONFAULT : 0);
    let i = 0;
    while (i < this.vmas.length) {
      const v = this.vmas.at(i);
      if (!v) break;
      const r = this.mlockFixup(i, v.start, v.end, (v.flags & ~VM_LOCKED_MASK) | toAdd);
      i = isError(r) ? i + 1 : r;
    }
  }

  // ---------------------------------------------------------------- brk

  /**
   * Sets up the program break for a new image: `start` is the (possibly randomised) page after
   * the loaded data. Also records the data segment bounds RLIMIT_DATA counts against brk.
   */
  initBrk(start: number, dataBounds?: { startData: number; endData: number }): void {
    this.layout.startBrk = start;
    this.layout.brk = start;
    if (dataBounds) {
      this.layout.startData = dataBounds.startData;
      this.layout.endData = dataBounds.endData;
    }
  }

  /**
   * Implements brk(2): returns the new break, or the old one when the request is refused
   * (Linux's rule; brk never returns an errno).
   */
  brk(brkW: Word): number {
    const L = this.layout;
    const newBrk = u64(brkW);
    const orig = L.brk;
    if (newBrk < L.startBrk) return orig;
    if (
      Number.isFinite(this.limits.data) &&
      newBrk - L.startBrk + (L.endData - L.startData) > this.limits.data
    )
      return orig;
    const newPage = pageAlign(newBrk);
    const oldPage = pageAlign(L.brk);
    if (oldPage === newPage) {
      L.brk = newBrk;
      return newBrk;
    }
    if (newBrk <= L.brk) {
      // Shrinking needs a VMA in the freed pages (otherwise the break stays where it is).
      if (!this.intersects(newPage, oldPage)) return orig;
      if (isError(this.doMunmap(newPage, oldPage))) return orig;
      L.brk = newBrk;
      return newBrk;
    }
    // check_brk_limits()
    if (newPage === 0 || newPage > TASK_SIZE) return orig;
    if (!this.mlockFutureOk(this.defFlags, newPage - oldPage)) return orig;
    const next = this.vmas.at(this.indexAfter(oldPage));
    if (
      next &&
      next.start < newPage + PAGE_SIZE + this.stackGuardGap &&
      newPage + PAGE_SIZE > this.startGap(next)
    )
      return orig;
    // do_brk_flags()
    const len = newPage - oldPage;
    const flags = VM.READ | VM.WRITE | VM.MAYREAD | VM.MAYWRITE | VM.MAYEXEC | VM.ACCOUNT | this.defFlags;
    if (!this.mayExpandVm(flags, pagesOf(len))) return orig;
    if (this.vmas.length > this.maxMapCount) return orig;
    const pi = this.indexAfter(oldPage) - 1;
    const prev = pi >= 0 ? this.vmas.at(pi) : undefined;
    if (
      prev &&
      prev.end > L.startBrk &&
      prev.pgoff + prev.pages === oldPage / PAGE_SIZE &&
      prev.end === oldPage &&
      prev.flags === flags &&
      !prev.file &&
      !prev.special &&
      prev.anonName === undefined
    ) {
      this.account(prev, -1);
      prev.end = newPage;
      this.vmas.touch(prev);
      this.account(prev, 1);
    } else {
      this.insert(
        new VmaRecord(oldPage, newPage, flags, oldPage / PAGE_SIZE, null, undefined, undefined),
        false,
      );
    }
    this.journal.push({
      op: 'mmap',
      addr: oldPage,
      length: len,
      prot: Prot.PROT_READ | Prot.PROT_WRITE,
      shared: false,
      file: null,
      offset: 0,
      populate: (flags & VM.LOCKED) !== 0,
    });
    L.brk = newBrk;
    return newBrk;
  }

  // ---------------------------------------------------------------- stack

  /**
   * Creates the initial stack VMA for exec: `[pageDown(low) - 128 KiB, top)` (less if
   * RLIMIT_STACK is smaller), growsdown, read-write (and executable when `exec`). `low` is the
   * lowest address the loader writes (argv/envp/auxv); it also becomes `layout.startStack`.
   */
  setupStack(top: number, low: number, exec = false): number | LinuxError {
    if (top % PAGE_SIZE !== 0 || low > top || top > TASK_SIZE) return E.EINVAL;
    const vmStart = Math.floor(low / PAGE_SIZE) * PAGE_SIZE;
    const size = top - vmStart;
    let base: number;
    if (size + STACK_EXPAND > this.limits.stack)
      base = top - Math.floor(this.limits.stack / PAGE_SIZE) * PAGE_SIZE;
    else base = vmStart - STACK_EXPAND;
    if (base > vmStart) return E.E2BIG;
    const flags =
      VM.GROWSDOWN |
      VM.READ |
      VM.WRITE |
      VM.MAYREAD |
      VM.MAYWRITE |
      VM.MAYEXEC |
      VM.ACCOUNT |
      (exec ? VM.EXEC : 0) |
      this.defFlags;
    if (this.intersects(base, top)) return E.ENOMEM;
    if (!this.mayExpandVm(flags, pagesOf(top - base))) return E.ENOMEM;
    this.insert(new VmaRecord(base, top, flags, base / PAGE_SIZE, null, undefined, undefined), false);
    this.layout.startStack = low;
    this.journal.push({
      op: 'mmap',
      addr: base,
      length: top - base,
      prot: protOfFlags(flags),
      shared: false,
      file: null,
      offset: 0,
      populate: false,
    });
    return base;
  }

  /**
   * Grows a MAP_GROWSDOWN VMA down to cover `addr` after a fault below it (`expand_downwards`),
   * keeping the guard gap and RLIMIT_STACK. Returns 0 when `addr` is now mapped, or the error
   * that makes the fault a SIGSEGV.
   */
  expandStack(addr: number): 0 | LinuxError {
    const i = this.indexAfter(addr);
    const v = this.vmas.at(i);
    if (!v) return E.EFAULT;
    if (v.start <= addr) return 0;
    if ((v.flags & VM.GROWSDOWN) === 0) return E.EFAULT;
    const address = Math.floor(addr / PAGE_SIZE) * PAGE_SIZE;
    if (address < this.mmapMinAddr) return E.EPERM;
    const prev = i > 0 ? this.vmas.at(i - 1) : undefined;
    if (
      prev &&
      (prev.flags & VM.GROWSDOWN) === 0 &&
      prev.flags & VM_ACCESS_FLAGS &&
      address - prev.end < this.stackGuardGap
    )
      return E.ENOMEM;
    const size = v.end - address;
    const grow = pagesOf(v.start - address);
    if (!this.mayExpandVm(v.flags, grow)) return E.ENOMEM;
    if (size > this.limits.stack) return E.ENOMEM;
    if (!this.mlockFutureOk(v.flags, grow * PAGE_SIZE)) return E.ENOMEM;
    const oldStart = v.start;
    this.account(v, -1);
    v.pgoff -= grow;
    v.start = address;
    this.vmas.touch(v);
    this.account(v, 1);
    this.journal.push({
      op: 'mmap',
      addr: address,
      length: oldStart - address,
      prot: protOfFlags(v.flags),
      shared: false,
      file: null,
      offset: 0,
      populate: false,
    });
    return 0;
  }

  // ---------------------------------------------------------------- fork, exec

  /**
   * The child's address space after fork(2): VMAs marked DONTFORK are left out, locks are not
   * inherited, WIPEONFORK VMAs come back empty. Its journal holds the operations that turn a
   * byte-for-byte copy of the parent's host memory into the child's (a host fork that saw the
   * parent's madvise operations already did them; repeating them is harmless).
   */
  fork(): AddressSpace {
    const child = new AddressSpace(this.options);
    Object.assign(child.limits, this.limits);
    Object.assign(child.layout, this.layout);
    child.defFlags = this.defFlags & VM.NOHUGEPAGE;
    child.peakVm = this.peakVm; // dup_mm copies hiwater_vm
    for (const v of this.vmas.toArray()) {
      if (v.flags & VM.DONTCOPY) {
        child.journal.push({ op: 'munmap', addr: v.start, length: v.end - v.start });
        continue;
      }
      const c = v.clone();
      c.flags &= ~VM_LOCKED_MASK;
      child.vmas.push(c);
      child.account(c, 1);
      if (v.flags & VM.WIPEONFORK) {
        child.journal.push({
          op: 'mmap',
          addr: c.start,
          length: c.end - c.start,
          prot: protOfFlags(c.flags),
          shared: false,
          file: null,
          offset: 0,
          populate: false,
        });
      }
    }
    return child;
  }

  /**
   * A fresh address space for execve(2) with this one's options and limits. Its journal starts
   * with the unmapping of everything this one mapped.
   */
  exec(): AddressSpace {
    const fresh = new AddressSpace(this.options);
    Object.assign(fresh.limits, this.limits);
    // The platform's reserved ranges stay where they are on the host; the fresh model has them.
    const owned = this.vmas.toArray().filter((v) => !(v.flags & VM_SEALED && v.special !== undefined));
    const ranges = coalesce(owned.map((v): [number, number] => [v.start, v.end]));
    for (const [s, e] of ranges) fresh.journal.push({ op: 'munmap', addr: s, length: e - s });
    return fresh;
  }

  // ---------------------------------------------------------------- internals

  /** Index of the first VMA with `end > addr` (Linux `find_vma`), or `vmas.length`. */
  private indexAfter(addr: number): number {
    return this.vmas.indexAfter(addr);
  }

  private vmaEndAt(addr: number): number {
    const v = this.findVmaRecord(addr);
    if (!v) throw new Error('vmaEndAt: no VMA');
    return v.end;
  }

  private findVmaRecord(addr: number): VmaRecord | undefined {
    const v = this.vmas.after(addr);
    return v && v.start <= addr ? v : undefined;
  }

  private intersects(start: number, end: number): boolean {
    const v = this.vmas.after(start);
    return v !== undefined && v.start < end;
  }

  /**
   * Whether unmapping `[start, end)` meets a sealed VMA (`vms_gather_munmap_vmas()`). As in Linux,
   * the first VMA is split at `start` before the later ones are checked, and that split stays
   * when a sealed VMA further on refuses the whole operation.
   */
  private sealedRefusal(start: number, end: number): boolean {
    if (!this.sealedIn(start, end)) return false;
    const first = this.vmas.after(start);
    if (first && first.start < start && (first.flags & VM_SEALED) === 0) this.splitAt(start);
    return true;
  }

  /** Whether a sealed VMA intersects `[start, end)` (`can_modify_vma()` fails for it). */
  private sealedIn(start: number, end: number): boolean {
    // Only reserved ranges are sealed (the model has no mseal(2)): most spaces have none.
    if (!this.options.reserved?.length) return false;
    for (let i = this.indexAfter(start); i < this.vmas.length; i++) {
      const v = this.vmas.at(i) as VmaRecord;
      if (v.start >= end) return false;
      if (v.flags & VM_SEALED) return true;
    }
    return false;
  }

  private pagesIn(start: number, end: number): number {
    let n = 0;
    for (let i = this.indexAfter(start); i < this.vmas.length; i++) {
      const v = this.vmas.at(i) as VmaRecord;
      if (v.start >= end) break;
      n += Math.min(v.end, end) - Math.max(v.start, start);
    }
    return pagesOf(n);
  }

  private lockedPagesIn(start: number, end: number): number {
    let n = 0;
    for (let i = this.indexAfter(start); i < this.vmas.length; i++) {
      const v = this.vmas.at(i) as VmaRecord;
      if (v.start >= end) break;
      if (v.flags & VM.LOCKED) n += Math.min(v.end, end) - Math.max(v.start, start);
    }
    return pagesOf(n);
  }

  /** `vm_start_gap()`: a growsdown VMA keeps the guard gap below it free of new mappings. */
  private startGap(v: VmaRecord): number {
    if (v.flags & VM.GROWSDOWN) return Math.max(0, v.start - this.stackGuardGap);
    return v.start;
  }

  /** `vm_stat_account()` for a whole VMA, added (`sign` 1) or removed (-1). */
  private account(v: VmaRecord, sign: 1 | -1): void {
    const n = v.pages * sign;
    this.totalVm += n;
    if (this.totalVm > this.peakVm) this.peakVm = this.totalVm;
    if (isExecMapping(v.flags)) this.execVm += n;
    else if (isStackMapping(v.flags)) this.stackVm += n;
    else if (isDataMapping(v.flags)) this.dataVm += n;
    if (v.flags & VM.LOCKED) this.lockedVm += n;
    if (v.flags & VM.ACCOUNT) this.committedVm += n;
  }

  private mayExpandVm(flags: number, npages: number): boolean {
    if (this.totalVm + npages > Math.floor(this.limits.as / PAGE_SIZE)) return false;
    if (isDataMapping(flags) && this.dataVm + npages > Math.floor(this.limits.data / PAGE_SIZE)) {
      if (this.limits.data === 0 && this.dataVm + npages <= Math.floor(this.limits.dataMax / PAGE_SIZE))
        return true;
      return false;
    }
    return true;
  }

  private canDoMlock(): boolean {
    return this.limits.memlock !== 0 || this.limits.capIpcLock;
  }

  private mlockFutureOk(flags: number, bytes: number): boolean {
    if ((flags & VM.LOCKED) === 0 || this.limits.capIpcLock) return true;
    return pagesOf(bytes) + this.lockedVm <= Math.floor(this.limits.memlock / PAGE_SIZE);
  }

  private roundHintToMin(hint: number): number {
    hint -= hint % PAGE_SIZE;
    if (hint !== 0 && hint < this.mmapMinAddr) return pageAlign(this.mmapMinAddr);
    return hint;
  }

  /** `__get_unmapped_area()` for x86-64 with top-down allocation. */
  private getUnmappedArea(
    file: MapFile | null,
    addr: number,
    len: number,
    flags: number,
  ): number | LinuxError {
    if (len > TASK_SIZE) return E.ENOMEM;
    let at: number | LinuxError;
    if (flags & MapFlag.MAP_FIXED) at = addr;
    else if (
      !file &&
      !(flags & MapFlag.MAP_SHARED) &&
      !addr &&
      len % PMD_SIZE === 0 &&
      !(flags & MapFlag.MAP_32BIT)
    ) {
      // Anonymous mappings of whole 2 MiB multiples are placed 2 MiB-aligned (THP).
      const padded = this.topDown(0, len + PMD_SIZE, flags);
      if (isError(padded)) at = this.topDown(0, len, flags);
      else {
        const offSub = (PMD_SIZE - (padded % PMD_SIZE)) % PMD_SIZE;
        at = offSub === 0 ? padded + PMD_SIZE : padded + offSub;
      }
    } else at = this.topDown(addr, len, flags);
    if (isError(at)) return at;
    if (at > TASK_SIZE - len) return E.ENOMEM;
    if (at % PAGE_SIZE !== 0) return E.EINVAL;
    if (at < this.mmapMinAddr && !this.limits.capSysRawio) return E.EPERM;
    return at;
  }

  private topDown(hint: number, len: number, flags: number): number | LinuxError {
    if (flags & MapFlag.MAP_32BIT) return this.bottomUp(hint, len, flags);
    if (hint) {
      hint -= hint % PAGE_SIZE;
      if (TASK_SIZE - len >= hint) {
        const v = this.vmas.at(this.indexAfter(hint));
        if (!v || hint + len <= this.startGap(v)) return hint;
      }
    }
    const low = Math.max(flags & MapFlag.MAP_ABOVE4G ? 2 ** 32 : PAGE_SIZE, this.mmapMinAddr);
    const found = this.unmappedAreaTopdown(len, low, this.mmapBase);
    if (!isError(found)) return found;
    // A failed mmap very likely kills the program: Linux falls back to a bottom-up search.
    return this.bottomUp(hint, len, flags);
  }

  private bottomUp(hint: number, len: number, flags: number): number | LinuxError {
    let begin = this.mmapLegacyBase;
    let end = TASK_SIZE;
    if (flags & MapFlag.MAP_32BIT) {
      begin = this.map32BitBase;
      end = 0x80000000;
    }
    if (len > end) return E.ENOMEM;
    if (hint) {
      hint = pageAlign(hint);
      const v = this.vmas.at(this.indexAfter(hint));
      if (end - len >= hint && (!v || hint + len <= this.startGap(v))) return hint;
    }
    return this.unmappedArea(len, begin, end);
  }

  /**
   * `unmapped_area_topdown()`: the highest free range of `len` in `[low, high)`. As in Linux, when
   * the range found ends inside the guard gap of a growsdown VMA above it, the search starts
   * again below that guard gap (skipping any holes in between). O(log n): the hole straddling
   * `high` is checked directly, every lower one through the tree's gap summaries.
   */
  private unmappedAreaTopdown(len: number, low: number, high: number): number | LinuxError {
    for (;;) {
      let k = this.indexAfter(high - 1);
      const above = this.vmas.at(k);
      const below = k > 0 ? this.vmas.at(k - 1) : undefined;
      let gapEnd = Math.min(above ? above.start : high, high);
      if (gapEnd - Math.max(below ? below.end : 0, low) < len) {
        if (!below || below.end <= low) return E.ENOMEM;
        // The highest hole of `len` below `below`; if it reaches under `low` none fits.
        k = this.vmas.lastGapBefore(below.start, len);
        if (k < 0) return E.ENOMEM;
        const b = k > 0 ? this.vmas.at(k - 1) : undefined;
        gapEnd = (this.vmas.at(k) as VmaRecord).start;
        if (gapEnd - Math.max(b ? b.end : 0, low) < len) return E.ENOMEM;
      }
      const next = this.vmas.at(k);
      if (next && next.flags & VM.GROWSDOWN && this.startGap(next) < gapEnd) {
        high = this.startGap(next);
        if (high < low) return E.ENOMEM;
        continue;
      }
      return gapEnd - len;
    }
  }

  /**
   * `unmapped_area()`: the lowest free range of `len` in `[low, high)`, with the same guard-gap
   * retry, in O(log n) the same way.
   */
  private unmappedArea(len: number, low: number, high: number): number | LinuxError {
    low = Math.max(low, this.mmapMinAddr);
    for (;;) {
      let k = this.indexAfter(low);
      const above = this.vmas.at(k);
      const below = k > 0 ? this.vmas.at(k - 1) : undefined;
      let gap = Math.max(below ? below.end : 0, low);
      if (Math.min(above ? above.start : high, high) - gap < len) {
        if (!above || above.end >= high) return E.ENOMEM;
        // The lowest hole of `len` above `above` (or the space after the last VMA); if it
        // reaches past `high` none fits.
        k = this.vmas.firstGapAfter(above.end, len);
        if (k < 0) k = this.vmas.length;
        const a = this.vmas.at(k);
        gap = (this.vmas.at(k - 1) as VmaRecord).end;
        if (Math.min(a ? a.start : high, high) - gap < len) return E.ENOMEM;
      }
      const next = this.vmas.at(k);
      if (next && next.flags & VM.GROWSDOWN && this.startGap(next) < gap + len) {
        low = next.end;
        continue;
      }
      return gap;
    }
  }

  /** Splits the VMA containing `addr` there (if `addr` is inside it); returns the upper index. */
  private splitAt(addr: number): number {
    const i = this.indexAfter(addr);
    const v = this.vmas.at(i);
    if (!v || v.start >= addr) return i;
    const upper = v.clone();
    upper.start = addr;
    upper.pgoff = v.pgoff + (addr - v.start) / PAGE_SIZE;
    v.end = addr;
    this.vmas.touch(v);
    this.vmas.splice(i + 1, 0, upper);
    return i + 1;
  }

  /** Removes every VMA page in `[start, end)`, splitting at the edges; returns what was removed. */
  private removeRange(start: number, end: number): VmaRecord[] {
    const v = this.vmas.at(this.indexAfter(start));
    if (!v || v.start >= end) return [];
    const i = this.splitAt(start);
    const j = this.splitAt(end);
    const removed = this.vmas.splice(i, j - i);
    for (const r of removed) this.account(r, -1);
    return removed;
  }

  /** Inserts a VMA into a free range and merges it with its neighbours (unless `merge` is false). */
  private insert(v: VmaRecord, merge = true): void {
    const i = this.indexAfter(v.start);
    this.vmas.splice(i, 0, v);
    this.account(v, 1);
    if (!merge) return;
    this.tryMerge(i + 1);
    this.tryMerge(i);
  }

  private mergeable(a: VmaRecord, b: VmaRecord): boolean {
    return (
      a.end === b.start &&
      a.flags === b.flags &&
      (a.flags & VM_SPECIAL) === 0 &&
      a.file === b.file &&
      a.anonName === b.anonName &&
      // Special mappings carry VM_SPECIAL flags; pieces of one reserved range may re-merge.
      a.special === b.special &&
      !a.file?.mapNoMerge &&
      b.pgoff === a.pgoff + a.pages
    );
  }

  /** Merges `vmas[i-1]` and `vmas[i]` when Linux would; returns whether it did. */
  private tryMerge(i: number): boolean {
    if (i <= 0) return false;
    const a = this.vmas.at(i - 1);
    const b = this.vmas.at(i);
    if (!a || !b || !this.mergeable(a, b)) return false;
    this.vmas.splice(i, 1);
    a.end = b.end;
    this.vmas.touch(a);
    return true;
  }

  /**
   * `vma_modify()`: applies `change` to `[start, end)` of `vmas[i]`, splitting it as needed
   * (each split refused with ENOMEM at vm.max_map_count, unless a merge makes it unneeded) and
   * merging the result with its neighbours. Returns the index of the VMA now covering `start`.
   */
  private modifyRange(
    i: number,
    start: number,
    end: number,
    change: (v: VmaRecord) => void,
    merge = true,
  ): number | LinuxError {
    const v = this.vmas.at(i);
    if (!v) throw new Error('modifyRange: no VMA');
    const probe = v.clone();
    probe.start = start;
    probe.end = end;
    probe.pgoff = v.pgoff + (start - v.start) / PAGE_SIZE;
    change(probe);
    const prev = this.vmas.at(i - 1);
    const next = this.vmas.at(i + 1);
    const mergesPrev = merge && start === v.start && prev !== undefined && this.mergeable(prev, probe);
    const mergesNext = merge && end === v.end && next !== undefined && this.mergeable(probe, next);
    if (start > v.start && this.vmas.length >= this.maxMapCount && !(end === v.end && mergesNext))
      return E.ENOMEM;
    if (end < v.end && this.vmas.length + (start > v.start ? 1 : 0) >= this.maxMapCount && !mergesPrev)
      return E.ENOMEM;
    // Build the pieces and the merges first, then edit the array with a single splice (it is
    // O(n) to edit, so one edit instead of up to four). Merging does not change the counters.
    this.account(v, -1);
    this.account(probe, 1);
    const pieces: VmaRecord[] = [];
    if (start > v.start) {
      const lower = v.clone();
      lower.end = start;
      this.account(lower, 1);
      pieces.push(lower);
    }
    let covering: VmaRecord = probe;
    if (mergesPrev && prev) {
      prev.end = end;
      covering = prev;
    } else {
      pieces.push(probe);
    }
    let removed = 1;
    if (end < v.end) {
      const upper = v.clone();
      upper.start = end;
      upper.pgoff = v.pgoff + (end - v.start) / PAGE_SIZE;
      this.account(upper, 1);
      pieces.push(upper);
    } else if (mergesNext && next) {
      covering.end = next.end;
      removed = 2;
    }
    this.vmas.splice(i, removed, ...pieces);
    if (covering === prev) this.vmas.touch(prev);
    return covering === prev ? i - 1 : i + (start > v.start ? 1 : 0);
  }
}

function isValidAdvice(a: number): boolean {
  switch (a) {
    case Madv.MADV_NORMAL:
    case Madv.MADV_RANDOM:
    case Madv.MADV_SEQUENTIAL:
    case Madv.MADV_WILLNEED:
    case Madv.MADV_DONTNEED:
    case Madv.MADV_FREE:
    case Madv.MADV_REMOVE:
    case Madv.MADV_DONTFORK:
    case Madv.MADV_DOFORK:
    case Madv.MADV_MERGEABLE:
    case Madv.MADV_UNMERGEABLE:
    case Madv.MADV_HUGEPAGE:
    case Madv.MADV_NOHUGEPAGE:
    case Madv.MADV_DONTDUMP:
    case Madv.MADV_DODUMP:
    case Madv.MADV_WIPEONFORK:
    case Madv.MADV_KEEPONFORK:
    case Madv.MADV_COLD:
    case Madv.MADV_PAGEOUT:
    case Madv.MADV_POPULATE_READ:
    case Madv.MADV_POPULATE_WRITE:
    case Madv.MADV_DONTNEED_LOCKED:
    case Madv.MADV_COLLAPSE:
    case Madv.MADV_GUARD_INSTALL:
    case Madv.MADV_GUARD_REMOVE:
      return true;
    default:
      return false;
  }
}

/** `is_discard()`: advice that throws page contents away or keeps them from a child. */
function isDiscard(a: number): boolean {
  switch (a) {
    case Madv.MADV_FREE:
    case Madv.MADV_DONTNEED:
    case Madv.MADV_DONTNEED_LOCKED:
    case Madv.MADV_REMOVE:
    case Madv.MADV_DONTFORK:
    case Madv.MADV_WIPEONFORK:
    case Madv.MADV_GUARD_INSTALL:
      return true;
    default:
      return false;
  }
}

/** Advice whose effect lives in the host's page tables or fork behaviour. */
function passesToHost(a: number): boolean {
  switch (a) {
    case Madv.MADV_DONTNEED:
    case Madv.MADV_DONTNEED_LOCKED:
    case Madv.MADV_FREE:
    case Madv.MADV_REMOVE:
    case Madv.MADV_DONTFORK:
    case Madv.MADV_DOFORK:
    case Madv.MADV_WIPEONFORK:
    case Madv.MADV_KEEPONFORK:
    case Madv.MADV_GUARD_INSTALL:
    case Madv.MADV_GUARD_REMOVE:
      return true;
    default:
      return false;
  }
}

/** Sorted, joined ranges. */
function coalesce(ranges: [number, number][]): [number, number][] {
  const out: [number, number][] = [];
  for (const [s, e] of ranges) {
    const last = out[out.length - 1];
    if (last && last[1] === s) last[1] = e;
    else out.push([s, e]);
  }
  return out;
}
