/**
 * The shapes the address-space model shares with its callers: the file interface the VFS
 * implements for mappable files, the read-only view of a VMA, the host operations the platform
 * applies, and the limits the kernel supplies.
 *
 * @module
 */
import type { LinuxError } from '@tsvisor/abi';

/** A syscall argument as the trap delivers it: a number, or a bigint for exact 64-bit values. */
export type Word = number | bigint;

/**
 * An open file that can be mapped (Linux's `struct file` as mmap sees it). The VFS's file
 * description implements it; the model compares files with `===` (Linux merges two VMAs only if
 * they map the same `struct file`), never looks inside beyond these members, and hands the object
 * back unchanged in {@link HostOp}s so the platform can find the host memory behind it.
 */
export interface MapFile {
  /** Opened for reading (`FMODE_READ`): every mapping needs it (EACCES otherwise). */
  readonly mapReadable: boolean;
  /** Opened for writing (`FMODE_WRITE`): a shared writable mapping needs it (EACCES). */
  readonly mapWritable: boolean;
  /** The inode is append-only: shared mappings of a writable open fail with EACCES. */
  readonly mapAppendOnly?: boolean;
  /** On a noexec mount: PROT_EXEC gives EPERM and VM_MAYEXEC is dropped. */
  readonly mapNoexec?: boolean;
  /**
   * Why this file cannot be mapped at all (ENODEV for files without an mmap operation, such as
   * pipes and sockets; EACCES...). Absent means mappable.
   */
  readonly mapError?: LinuxError;
  /**
   * The largest byte offset a mapping may reach (`file_mmap_ok`, EOVERFLOW past it); absent means
   * `MAX_LFS_FILESIZE`, as for regular files.
   */
  readonly mapMaxBytes?: number;
  /** Device (major, minor) and inode shown in /proc/<pid>/maps. */
  readonly mapDevMajor: number;
  readonly mapDevMinor: number;
  readonly mapInode: number;
  /** The path shown in /proc/<pid>/maps (with " (deleted)" appended by the file if unlinked). */
  mapPath(): string;
  /**
   * Linux refuses to merge VMAs whose `vm_ops` has a `close` method; files of that kind set this
   * so the model keeps their VMAs apart too.
   */
  readonly mapNoMerge?: boolean;
  /**
   * The file carries F_SEAL_WRITE or F_SEAL_FUTURE_WRITE (a sealed memfd): a shared writable
   * mapping is refused with EPERM and a shared read-only one can never become writable
   * (`memfd_check_seals_mmap`).
   */
  readonly mapWriteSealed?: boolean;
  /**
   * What the mapping's pages belong to: two shared mappings with the same identity see the same
   * memory, in any process, whatever `MapFile` each was made with. An object (an inode) or a
   * string naming one (its device and inode numbers, for filesystems that make a new inode object
   * per lookup). Shared futexes are keyed by it. Absent means the `MapFile` itself.
   */
  readonly mapObject?: object | string;
}

/**
 * A read-only view of one VMA. `start`/`end` are page-aligned, `end` exclusive. Do not keep a
 * view across a change to the address space: the model replaces VMAs when it splits or merges.
 */
export interface Vma {
  readonly start: number;
  readonly end: number;
  /** `VM_*` flag word (see {@link VM}); prot bits are `flags & 7`. */
  readonly flags: number;
  /** Offset in pages into the file (`vm_pgoff`); for private anonymous VMAs, `start >> 12`. */
  readonly pgoff: number;
  /** The mapped file, or `null` for private anonymous memory. Shared anonymous memory is a {@link ShmemFile}. */
  readonly file: MapFile | null;
  /** Name set with prctl(PR_SET_VMA_ANON_NAME), or undefined. */
  readonly anonName: string | undefined;
  /** Name of a special mapping (`[vdso]`, `[vvar]`), or undefined. */
  readonly special: string | undefined;
}

/**
 * One operation on the host process that runs the task, making the host address space follow the
 * model. Addresses and lengths are page-aligned; operations are in the order to apply them.
 *
 * - `mmap`: map at exactly `addr` (host `MAP_FIXED`, replacing whatever is there); `file` null
 *   means private anonymous memory; `shared` selects MAP_SHARED. For a {@link ShmemFile} the
 *   platform uses one memfd per object. For private file mappings the platform may copy the
 *   contents instead of mapping the file. Never use host MAP_GROWSDOWN: the model grows stacks.
 * - `munmap`, `mprotect`: as the syscalls. The range may contain holes the host should ignore.
 * - `mremap`: move (or, when `newAddr === oldAddr`, grow in place) the contents of one range;
 *   host call `mremap(oldAddr, oldLength, newLength, MREMAP_MAYMOVE|MREMAP_FIXED
 *   [|MREMAP_DONTUNMAP], newAddr)`, or `mremap(oldAddr, oldLength, newLength, 0)` in place.
 *   `newLength` never shrinks (a shrink is an `munmap` of the tail).
 * - `madvise`: pass the advice to the host (DONTNEED zeroing, fork behaviour, REMOVE, ...).
 *
 * The model merges VMAs by Linux's rules; if the platform backs one model VMA with several host
 * mappings (say, a private file mapping it copied next to anonymous memory), it applies an
 * `mremap` piece by piece. An operation that fails on the host means the host and the model
 * disagree: the platform should treat it as fatal for the task (SIGKILL), not retry.
 */
export type HostOp =
  | {
      readonly op: 'mmap';
      readonly addr: number;
      readonly length: number;
      readonly prot: number;
      readonly shared: boolean;
      readonly file: MapFile | null;
      /** Byte offset into `file` (0 for anonymous memory). */
      readonly offset: number;
      /** MAP_POPULATE or VM_LOCKED asked for the pages to be faulted in now. */
      readonly populate: boolean;
    }
  | { readonly op: 'munmap'; readonly addr: number; readonly length: number }
  | { readonly op: 'mprotect'; readonly addr: number; readonly length: number; readonly prot: number }
  | {
      readonly op: 'mremap';
      readonly oldAddr: number;
      readonly oldLength: number;
      readonly newAddr: number;
      readonly newLength: number;
      readonly dontUnmap: boolean;
    }
  | { readonly op: 'madvise'; readonly addr: number; readonly length: number; readonly advice: number };

/**
 * Resource limits and capabilities the model consults (bytes; `Infinity` is RLIM_INFINITY). The
 * kernel owns rlimits; it updates this object on setrlimit/prlimit (threads share it with the
 * address space).
 */
export interface MmLimits {
  /** RLIMIT_AS (soft). */
  as: number;
  /** RLIMIT_DATA (soft). */
  data: number;
  /** RLIMIT_DATA hard limit (Linux's "valgrind" exception when the soft limit is 0). */
  dataMax: number;
  /** RLIMIT_STACK (soft): caps stack growth. */
  stack: number;
  /** RLIMIT_MEMLOCK (soft). */
  memlock: number;
  /** CAP_IPC_LOCK: mlock beyond RLIMIT_MEMLOCK. */
  capIpcLock: boolean;
  /** CAP_SYS_RAWIO: MAP_FIXED below vm.mmap_min_addr. */
  capSysRawio: boolean;
}

/** A range of a shared file mapping that msync(MS_SYNC) asks the kernel to write back. */
export interface WritebackRange {
  readonly file: MapFile;
  /** Byte offset into the file. */
  readonly offset: number;
  readonly length: number;
}
