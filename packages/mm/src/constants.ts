/**
 * Numeric constants of the Linux x86-64 memory-management ABI (`<asm-generic/mman*.h>`,
 * `<linux/mman.h>`) and the layout figures of a 4-level-paging x86-64 address space.
 *
 * They are defined here because `@tsvisor/abi` did not export them when this package was
 * written; the values are the kernel's, so either copy can be used interchangeably.
 *
 * @module
 */

/** Size of a page on x86-64. */
export const PAGE_SIZE = 4096;
/** log2 of {@link PAGE_SIZE}. */
export const PAGE_SHIFT = 12;
/**
 * Highest user address + 1 on x86-64 with 4-level paging (`TASK_SIZE_MAX`): the last page below
 * 2^47 is left unmapped by Linux to keep the non-canonical hole away from `syscall`'s return.
 */
export const TASK_SIZE = 0x7ffffffff000;
/** `vm.max_map_count` default: the number of VMAs a process may have. */
export const DEFAULT_MAX_MAP_COUNT = 65530;
/** `vm.mmap_min_addr` default on Debian: MAP_FIXED below it gives EPERM. */
export const DEFAULT_MMAP_MIN_ADDR = 4096;
/** `stack_guard_gap` default (256 pages): the gap kept free below a MAP_GROWSDOWN mapping. */
export const STACK_GUARD_GAP = 256 * PAGE_SIZE;
/** `RLIM_INFINITY` as this package takes it: any limit of `Infinity` is unlimited. */
export const RLIM_INFINITY = Infinity;

// mmap(2)/mprotect(2) prot bits.
/** Page can not be accessed. */
export const PROT_NONE = 0x0;
/** Page can be read. */
export const PROT_READ = 0x1;
/** Page can be written. */
export const PROT_WRITE = 0x2;
/** Page can be executed. */
export const PROT_EXEC = 0x4;
/** Page may be used for atomic ops (accepted and ignored on x86). */
export const PROT_SEM = 0x8;
/** mprotect: extend the change down to the start of a growsdown mapping. */
export const PROT_GROWSDOWN = 0x01000000;
/** mprotect: extend the change up to the end of a growsup mapping (none exist on x86). */
export const PROT_GROWSUP = 0x02000000;

// mmap(2) flags.
/** Share changes. */
export const MAP_SHARED = 0x01;
/** Changes are private (copy-on-write). */
export const MAP_PRIVATE = 0x02;
/** MAP_SHARED, and reject unknown flags with EOPNOTSUPP. */
export const MAP_SHARED_VALIDATE = 0x03;
/** Droppable private anonymous memory (Linux 6.11). */
export const MAP_DROPPABLE = 0x08;
/** Mask of the mapping type. */
export const MAP_TYPE = 0x0f;
/** Interpret addr exactly, replacing what is there. */
export const MAP_FIXED = 0x10;
/** Not backed by a file. */
export const MAP_ANONYMOUS = 0x20;
/** Place the mapping in the first 2 GiB (x86-64: between 1 and 2 GiB). */
export const MAP_32BIT = 0x40;
/** Place the mapping above 4 GiB when the kernel chooses the address (Linux 6.4, x86). */
export const MAP_ABOVE4G = 0x80;
/** Stack-like segment that grows down on faults below it. */
export const MAP_GROWSDOWN = 0x0100;
/** Ignored (historically ETXTBSY on writes to the file). */
export const MAP_DENYWRITE = 0x0800;
/** Ignored. */
export const MAP_EXECUTABLE = 0x1000;
/** Lock the pages (mlock). */
export const MAP_LOCKED = 0x2000;
/** Do not reserve swap space (no overcommit accounting). */
export const MAP_NORESERVE = 0x4000;
/** Prefault the pages. */
export const MAP_POPULATE = 0x8000;
/** With MAP_POPULATE: do not block on I/O. */
export const MAP_NONBLOCK = 0x10000;
/** Address suitable for a thread stack (Linux 6.7+: also VM_NOHUGEPAGE). */
export const MAP_STACK = 0x20000;
/** Use huge pages. */
export const MAP_HUGETLB = 0x40000;
/** Synchronous page faults (DAX files only, with MAP_SHARED_VALIDATE). */
export const MAP_SYNC = 0x80000;
/** Like MAP_FIXED but fail with EEXIST instead of replacing. */
export const MAP_FIXED_NOREPLACE = 0x100000;
/** Do not clear anonymous pages (needs a kernel configured for it; ignored otherwise). */
export const MAP_UNINITIALIZED = 0x4000000;
/** The flags MAP_SHARED accepts silently (`LEGACY_MAP_MASK`); others need MAP_SHARED_VALIDATE. */
export const LEGACY_MAP_MASK =
  MAP_SHARED |
  MAP_PRIVATE |
  MAP_FIXED |
  MAP_ANONYMOUS |
  MAP_DENYWRITE |
  MAP_EXECUTABLE |
  MAP_UNINITIALIZED |
  MAP_GROWSDOWN |
  MAP_LOCKED |
  MAP_NORESERVE |
  MAP_POPULATE |
  MAP_NONBLOCK |
  MAP_STACK |
  MAP_HUGETLB |
  MAP_32BIT |
  (0x3f << 26); // MAP_HUGE_SHIFT mask bits

// mremap(2) flags.
/** The mapping may be moved. */
export const MREMAP_MAYMOVE = 1;
/** Move to new_addr (implies MAYMOVE). */
export const MREMAP_FIXED = 2;
/** Leave the old range mapped (emptied) after a move. */
export const MREMAP_DONTUNMAP = 4;

// madvise(2) advice.
/** Default readahead. */
export const MADV_NORMAL = 0;
/** Expect random access. */
export const MADV_RANDOM = 1;
/** Expect sequential access. */
export const MADV_SEQUENTIAL = 2;
/** Will need these pages. */
export const MADV_WILLNEED = 3;
/** Drop the pages: private anonymous memory reads back as zeroes. */
export const MADV_DONTNEED = 4;
/** Pages may be freed lazily (private anonymous only). */
export const MADV_FREE = 8;
/** Free the backing store (shared/shmem mappings). */
export const MADV_REMOVE = 9;
/** Do not inherit across fork. */
export const MADV_DONTFORK = 10;
/** Inherit across fork (undoes DONTFORK). */
export const MADV_DOFORK = 11;
/** KSM may merge the pages. */
export const MADV_MERGEABLE = 12;
/** KSM may not merge the pages. */
export const MADV_UNMERGEABLE = 13;
/** Use transparent huge pages. */
export const MADV_HUGEPAGE = 14;
/** Do not use transparent huge pages. */
export const MADV_NOHUGEPAGE = 15;
/** Leave out of core dumps. */
export const MADV_DONTDUMP = 16;
/** Include in core dumps (undoes DONTDUMP). */
export const MADV_DODUMP = 17;
/** Child sees zero-filled memory after fork (private anonymous only). */
export const MADV_WIPEONFORK = 18;
/** Undo WIPEONFORK. */
export const MADV_KEEPONFORK = 19;
/** Deactivate the pages. */
export const MADV_COLD = 20;
/** Reclaim the pages. */
export const MADV_PAGEOUT = 21;
/** Prefault readable. */
export const MADV_POPULATE_READ = 22;
/** Prefault writable. */
export const MADV_POPULATE_WRITE = 23;
/** Like DONTNEED, also on locked pages. */
export const MADV_DONTNEED_LOCKED = 24;
/** Synchronous huge-page collapse. */
export const MADV_COLLAPSE = 25;
/** Poison the pages (CAP_SYS_ADMIN). */
export const MADV_HWPOISON = 100;
/** Soft-offline the pages (CAP_SYS_ADMIN). */
export const MADV_SOFT_OFFLINE = 101;
/** Install guard regions (Linux 6.13). */
export const MADV_GUARD_INSTALL = 102;
/** Remove guard regions (Linux 6.13). */
export const MADV_GUARD_REMOVE = 103;

// msync(2) flags.
/** Schedule the write-back. */
export const MS_ASYNC = 1;
/** Invalidate other mappings of the file. */
export const MS_INVALIDATE = 2;
/** Write back and wait. */
export const MS_SYNC = 4;

// mlock2(2) / mlockall(2) flags.
/** mlock2: lock pages as they are faulted in. */
export const MLOCK_ONFAULT = 1;
/** Lock current mappings. */
export const MCL_CURRENT = 1;
/** Lock future mappings. */
export const MCL_FUTURE = 2;
/** With CURRENT/FUTURE: lock on fault. */
export const MCL_ONFAULT = 4;
