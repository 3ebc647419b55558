/**
 * Memory syscalls over `@tsvisor/mm`: brk, mmap, munmap, mprotect, mremap, madvise, msync,
 * mincore, mlock family. The model decides (addresses, errors, VMAs); the host operations it
 * journals are then applied to the task's host address space through the platform port, before
 * the task runs again.
 *
 * @module
 */
import { Capability, E, MapFlag, Mode, isError, type LinuxError } from '@tsvisor/abi';
import { TASK_SIZE, capable, type Task } from '@tsvisor/kernel';
import type { AddressSpace, MapFile } from '@tsvisor/mm';
import {
  F_GET_SEALS,
  F_SEAL_FUTURE_WRITE,
  F_SEAL_WRITE,
  MS_NOEXEC,
  type FileDescription,
} from '@tsvisor/vfs';
import { ctxOf, fileAt, vfsOf } from './vfs-context.js';
import {
  FULL,
  int,
  partial,
  ptr,
  type SyscallArgs,
  type SyscallFamily,
  type SyscallResult,
} from './types.js';

/** The task's address-space model; a sandbox without one is a configuration bug. */
export function modelOf(t: Task): AddressSpace {
  const m = t.mm.model as AddressSpace | undefined;
  if (!m || typeof (m as { drainHostOps?: unknown }).drainHostOps !== 'function') {
    throw new Error('memory syscall on a task without an mm AddressSpace model');
  }
  // Locking past RLIMIT_MEMLOCK follows the calling task's CAP_IPC_LOCK at the time of the call.
  m.limits.capIpcLock = capable(t.creds, Capability.CAP_IPC_LOCK);
  return m;
}

/**
 * Applies the model's journal to the host. A host failure after the model changed leaves the
 * two out of step; it is reported as ENOMEM, the errno the app would see for a failed mapping.
 */
export async function applyHostOps(t: Task): Promise<LinuxError | undefined> {
  const ops = modelOf(t).drainHostOps();
  const platform = t.kernel.platform;
  if (ops.length === 0 || !platform) return undefined;
  const r = await platform.applyMemoryOps(t, ops);
  return r ?? undefined;
}

async function settle(t: Task, r: number | LinuxError): Promise<SyscallResult> {
  const e = await applyHostOps(t);
  if (isError(r)) return r;
  return e ?? r;
}

/**
 * A VFS open file as the memory model sees it. `description` is there for the platform, which
 * maps it (through `description.hostFd()`) or copies its bytes for a private mapping.
 */
export class VfsMapFile implements MapFile {
  readonly mapReadable: boolean;
  readonly mapWritable: boolean;
  readonly mapNoexec: boolean;
  readonly mapWriteSealed: boolean;
  readonly mapError?: LinuxError;
  readonly mapDevMajor: number;
  readonly mapDevMinor: number;
  readonly mapInode: number;
  readonly mapObject: string;

  /**
   * `region`, when given, is the mapping asked for (its length rounded to pages, its offset in
   * pages), for files whose mmap operation looks at it ({@link SizedMmapSource}).
   */
  constructor(
    readonly description: FileDescription,
    private readonly path: () => string,
    region?: { readonly len: number; readonly pgoff: number },
  ) {
    const st = description.stat();
    // Device and inode number: a host directory's filesystem makes a new inode object per lookup.
    this.mapObject = `${st.dev}:${st.ino}`;
    this.mapReadable = description.readable;
    this.mapWritable = description.writable;
    this.mapNoexec = (description.location.mount.flags & MS_NOEXEC) !== 0;
    // Only memfds answer F_GET_SEALS; every other file gives EINVAL.
    const seals = description.fcntl(F_GET_SEALS, 0);
    this.mapWriteSealed = typeof seals === 'number' && (seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)) !== 0;
    if ((st.mode & Mode.S_IFMT) !== Mode.S_IFREG) {
      const sized = description.impl as Partial<SizedMmapSource>;
      if (description.hostFd() === null) this.mapError = description.mmapRefusal();
      else if (region && typeof sized.mmapRegionRefusal === 'function') {
        const err = sized.mmapRegionRefusal(region.len, region.pgoff);
        if (err) this.mapError = err;
      }
    }
    this.mapDevMajor = (st.dev >>> 8) & 0xfff;
    this.mapDevMinor = (st.dev & 0xff) | ((st.dev >>> 12) & 0xfff00);
    this.mapInode = st.ino;
  }

  mapPath(): string {
    return this.path();
  }
}

/**
 * A file description whose mmap operation accepts only some mappings of it: an AF_PACKET
 * socket maps exactly its rings, from offset 0 (packet_mmap). The answer stands where Linux calls
 * the file's mmap operation, after the generic checks.
 */
export interface SizedMmapSource {
  /** Why a mapping of `len` bytes (a multiple of the page size) at page `pgoff` is refused. */
  mmapRegionRefusal(len: number, pgoff: number): LinuxError | undefined;
}

/**
 * The MapFile for an mmap fd argument (EBADF passed through for the model to report). mmap looks
 * the fd up with fget, which does not see O_PATH descriptions: EBADF for those too.
 */
function mapFileOf(t: Task, fd: number, len: bigint, offset: bigint): MapFile | LinuxError {
  const f = fileAt(t, fd);
  if (isError(f)) return f;
  if (f.isPath) return E.EBADF;
  const ctx = ctxOf(t);
  const region = {
    len: Number(BigInt.asUintN(64, len + 4095n) & ~4095n),
    pgoff: Number(BigInt.asUintN(64, offset) / 4096n),
  };
  return new VfsMapFile(f, () => vfsOf(t).pathOf(ctx, f.location), region);
}

/** implements brk(2): returns the new break, or the old one when the request fails. */
function brk(t: Task, a: SyscallArgs): Promise<SyscallResult> {
  return settle(t, modelOf(t).brk(a[0]));
}

/** implements mmap(2). */
function mmap(t: Task, a: SyscallArgs): Promise<SyscallResult> {
  const flags = Number(a[3] & 0xffffffffn);
  const file = flags & MapFlag.MAP_ANONYMOUS ? null : mapFileOf(t, int(a[4]), a[1], a[5]);
  return settle(t, modelOf(t).mmap(a[0], a[1], a[2], a[3], file, a[5]));
}

/** implements munmap(2). */
function munmap(t: Task, a: SyscallArgs): Promise<SyscallResult> {
  return settle(t, modelOf(t).munmap(a[0], a[1]));
}

/** implements mprotect(2). */
function mprotect(t: Task, a: SyscallArgs): Promise<SyscallResult> {
  return settle(t, modelOf(t).mprotect(a[0], a[1], a[2]));
}

/** implements mremap(2). */
function mremap(t: Task, a: SyscallArgs): Promise<SyscallResult> {
  return settle(t, modelOf(t).mremap(a[0], a[1], a[2], a[3], a[4]));
}

/** implements madvise(2). */
function madvise(t: Task, a: SyscallArgs): Promise<SyscallResult> {
  return settle(t, modelOf(t).madvise(a[0], a[1], a[2]));
}

/** implements msync(2): validation and ranges from the model; shared file pages are the host's. */
function msync(t: Task, a: SyscallArgs): SyscallResult {
  const r = modelOf(t).msync(a[0], a[1], a[2]);
  return isError(r) ? r : 0;
}

const PAGE = 4096;

/**
 * implements mincore(2). Linux's order of checks: an unaligned start is EINVAL, a range outside
 * the user address space ENOMEM, a vector that cannot hold one byte per page EFAULT, then a hole
 * in the range ENOMEM (the model's VMAs decide all of these). Residency itself is the host's: the
 * platform runs mincore in the task's host process (a platform without that reports every mapped
 * page resident). Like Linux, which fills the vector one VMA at a time, a range with a hole still
 * gets the bytes of its mapped prefix written before the ENOMEM.
 */
async function mincore(t: Task, a: SyscallArgs): Promise<SyscallResult> {
  if (a[0] % BigInt(PAGE) !== 0n) return E.EINVAL;
  const start = a[0];
  const len = a[1];
  if (start > BigInt(TASK_SIZE) || len > BigInt(TASK_SIZE) - start) return E.ENOMEM;
  const pages = Math.ceil(Number(len) / PAGE);
  if (a[2] + BigInt(pages) > BigInt(TASK_SIZE)) return E.EFAULT; // access_ok(vec, pages)
  const model = modelOf(t);
  const checked = model.mincore(start, len);
  if (checked === 0) return 0;
  // The range checks are done above: an error here is a hole (ENOMEM).
  const mapped = isError(checked) ? mappedPrefix(model, Number(start), pages) : checked;
  if (mapped > 0) {
    const platform = t.kernel.platform;
    const vec = platform?.mincore
      ? await platform.mincore(t, Number(start), mapped)
      : new Uint8Array(mapped).fill(1);
    if (isError(vec)) return vec;
    const e = t.memory.writeExact(ptr(a[2]), vec);
    if (e) return e;
  }
  return isError(checked) ? checked : 0;
}

/**
 * How many pages from `start` (of the `pages` asked, which are not all mapped) the model maps
 * without a hole: mapping is monotone in the length, so a binary search over the model's checks.
 */
function mappedPrefix(model: AddressSpace, start: number, pages: number): number {
  let lo = 0; // mapped
  let hi = pages; // not all mapped
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (isError(model.mincore(start, mid * PAGE))) hi = mid;
    else lo = mid;
  }
  return lo;
}

/** implements mlock(2). */
function mlock(t: Task, a: SyscallArgs): Promise<SyscallResult> {
  return settle(t, modelOf(t).mlock(a[0], a[1]));
}

/** implements mlock2(2). */
function mlock2(t: Task, a: SyscallArgs): Promise<SyscallResult> {
  return settle(t, modelOf(t).mlock(a[0], a[1], a[2]));
}

/** implements munlock(2). */
function munlock(t: Task, a: SyscallArgs): Promise<SyscallResult> {
  return settle(t, modelOf(t).munlock(a[0], a[1]));
}

/** implements mlockall(2). */
function mlockall(t: Task, a: SyscallArgs): Promise<SyscallResult> {
  return settle(t, modelOf(t).mlockall(a[0]));
}

/** implements munlockall(2). */
function munlockall(t: Task): Promise<SyscallResult> {
  return settle(t, modelOf(t).munlockall());
}

/** Memory syscalls. */
export const mmSyscalls: SyscallFamily = {
  brk: { handler: brk, support: FULL },
  mmap: {
    handler: mmap,
    support: partial(
      'host files map through their host fd; tmpfs, overlay copies and memfds move their bytes into a host memfd when first mapped, so shared mappings see read(2)/write(2) and each other; in a kernel assembled without a host-memory provider, MAP_SHARED of an in-memory file answers ENODEV',
    ),
  },
  munmap: { handler: munmap, support: FULL },
  mprotect: { handler: mprotect, support: FULL },
  mremap: { handler: mremap, support: FULL },
  madvise: { handler: madvise, support: FULL },
  msync: { handler: msync, support: partial('validates; shared file pages are written back by the host') },
  mincore: { handler: mincore, support: FULL },
  mlock: { handler: mlock, support: FULL },
  mlock2: { handler: mlock2, support: FULL },
  munlock: { handler: munlock, support: FULL },
  mlockall: { handler: mlockall, support: FULL },
  munlockall: { handler: munlockall, support: FULL },
};
