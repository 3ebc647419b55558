/**
 * The layout figures of a 4-level-paging x86-64 address space, and the few memory-management
 * numbers that are kernel-internal rather than uapi. The syscall flags themselves (`PROT_*`,
 * `MAP_*`, `MREMAP_*`, `MADV_*`, `MS_*`, `MCL_*`, `MLOCK_*`) are `@tsvisor/abi`'s `Prot`,
 * `MapFlag`, `Mremap`, `Madv`, `Msync`, `Mcl` and `Mlock`.
 *
 * @module
 */
import { MapFlag } from '@tsvisor/abi';

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

/**
 * The flags MAP_SHARED accepts silently (`LEGACY_MAP_MASK` in `<linux/mman.h>`, which is not
 * uapi, so `@tsvisor/abi` does not carry it); other flags need MAP_SHARED_VALIDATE.
 */
export const LEGACY_MAP_MASK =
  MapFlag.MAP_SHARED |
  MapFlag.MAP_PRIVATE |
  MapFlag.MAP_FIXED |
  MapFlag.MAP_ANONYMOUS |
  MapFlag.MAP_DENYWRITE |
  MapFlag.MAP_EXECUTABLE |
  MapFlag.MAP_UNINITIALIZED |
  MapFlag.MAP_GROWSDOWN |
  MapFlag.MAP_LOCKED |
  MapFlag.MAP_NORESERVE |
  MapFlag.MAP_POPULATE |
  MapFlag.MAP_NONBLOCK |
  MapFlag.MAP_STACK |
  MapFlag.MAP_HUGETLB |
  MapFlag.MAP_32BIT |
  (MapFlag.MAP_HUGE_MASK << MapFlag.MAP_HUGE_SHIFT);
