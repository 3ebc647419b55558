/**
 * Memory-management constants: mmap/mprotect protections and flags, mremap, madvise, msync and
 * mlockall.
 *
 * @module
 */
import { defineEnum, defineFlags } from './flagset.js';

/** Page protections (`PROT_*`). */
export const Prot = {
  PROT_NONE: 0x0,
  PROT_READ: 0x1,
  PROT_WRITE: 0x2,
  PROT_EXEC: 0x4,
  PROT_SEM: 0x8,
  PROT_GROWSDOWN: 0x01000000,
  PROT_GROWSUP: 0x02000000,
} as const;

/** Page protections, for decoding (0 is `PROT_NONE`). */
export const protFlags = defineFlags('prot', Prot, { zero: 'PROT_NONE', width: 64 });

/** mmap(2) flags (`MAP_*`); the mapping type is the enum in `MAP_TYPE`. */
export const MapFlag = {
  MAP_SHARED: 0x01,
  MAP_PRIVATE: 0x02,
  MAP_SHARED_VALIDATE: 0x03,
  /** Linux 6.11. */
  MAP_DROPPABLE: 0x08,
  MAP_TYPE: 0x0f,
  MAP_FIXED: 0x10,
  MAP_ANONYMOUS: 0x20,
  MAP_ANON: 0x20,
  MAP_32BIT: 0x40,
  /** Linux 6.4. */
  MAP_ABOVE4G: 0x80,
  MAP_GROWSDOWN: 0x0100,
  MAP_DENYWRITE: 0x0800,
  MAP_EXECUTABLE: 0x1000,
  MAP_LOCKED: 0x2000,
  MAP_NORESERVE: 0x4000,
  MAP_POPULATE: 0x8000,
  MAP_NONBLOCK: 0x10000,
  MAP_STACK: 0x20000,
  MAP_HUGETLB: 0x40000,
  MAP_SYNC: 0x80000,
  MAP_FIXED_NOREPLACE: 0x100000,
  MAP_UNINITIALIZED: 0x4000000,
  MAP_FILE: 0,
  /** Huge page size selection: log2(size) << MAP_HUGE_SHIFT. */
  MAP_HUGE_SHIFT: 26,
  MAP_HUGE_MASK: 0x3f,
  /** Huge page sizes for MAP_HUGETLB (log2 of the size, shifted by MAP_HUGE_SHIFT). */
  MAP_HUGE_16KB: 14 * 2 ** 26,
  MAP_HUGE_64KB: 16 * 2 ** 26,
  MAP_HUGE_512KB: 19 * 2 ** 26,
  MAP_HUGE_1MB: 20 * 2 ** 26,
  MAP_HUGE_2MB: 21 * 2 ** 26,
  MAP_HUGE_8MB: 23 * 2 ** 26,
  MAP_HUGE_16MB: 24 * 2 ** 26,
  MAP_HUGE_32MB: 25 * 2 ** 26,
  MAP_HUGE_256MB: 28 * 2 ** 26,
  MAP_HUGE_512MB: 29 * 2 ** 26,
  MAP_HUGE_1GB: 30 * 2 ** 26,
  MAP_HUGE_2GB: 31 * 2 ** 26,
  MAP_HUGE_16GB: 34 * 2 ** 26,
} as const;

/**
 * mmap flags, for decoding: the type first, then the flags in strace's order, then the huge page
 * size field (`21<<MAP_HUGE_SHIFT`; MAP_UNINITIALIZED, bit 26, falls in that field as in strace).
 */
export const mapFlags = defineFlags(
  'mmap',
  [
    'MAP_FIXED',
    'MAP_ANONYMOUS',
    'MAP_32BIT',
    'MAP_ABOVE4G',
    'MAP_NORESERVE',
    'MAP_POPULATE',
    'MAP_NONBLOCK',
    'MAP_GROWSDOWN',
    'MAP_DENYWRITE',
    'MAP_EXECUTABLE',
    'MAP_LOCKED',
    'MAP_STACK',
    'MAP_HUGETLB',
    'MAP_SYNC',
    'MAP_FIXED_NOREPLACE',
  ].map((name) => ({ name, value: MapFlag[name as keyof typeof MapFlag] })),
  {
    width: 64,
    field: { shift: MapFlag.MAP_HUGE_SHIFT, mask: MapFlag.MAP_HUGE_MASK, name: 'MAP_HUGE_SHIFT' },
    mode: {
      mask: MapFlag.MAP_TYPE,
      position: 'first',
      omitZero: false,
      values: [
        { name: 'MAP_FILE', value: MapFlag.MAP_FILE },
        { name: 'MAP_SHARED', value: MapFlag.MAP_SHARED },
        { name: 'MAP_PRIVATE', value: MapFlag.MAP_PRIVATE },
        { name: 'MAP_SHARED_VALIDATE', value: MapFlag.MAP_SHARED_VALIDATE },
        { name: 'MAP_DROPPABLE', value: MapFlag.MAP_DROPPABLE },
      ],
    },
  },
);

/** mremap(2) flags. */
export const Mremap = { MREMAP_MAYMOVE: 1, MREMAP_FIXED: 2, MREMAP_DONTUNMAP: 4 } as const;

/** mremap flags, for decoding. */
export const mremapFlags = defineFlags('mremap', Mremap, { width: 64 });

/** madvise(2) advice values. */
export const Madv = {
  MADV_NORMAL: 0,
  MADV_RANDOM: 1,
  MADV_SEQUENTIAL: 2,
  MADV_WILLNEED: 3,
  MADV_DONTNEED: 4,
  MADV_FREE: 8,
  MADV_REMOVE: 9,
  MADV_DONTFORK: 10,
  MADV_DOFORK: 11,
  MADV_MERGEABLE: 12,
  MADV_UNMERGEABLE: 13,
  MADV_HUGEPAGE: 14,
  MADV_NOHUGEPAGE: 15,
  MADV_DONTDUMP: 16,
  MADV_DODUMP: 17,
  MADV_WIPEONFORK: 18,
  MADV_KEEPONFORK: 19,
  MADV_COLD: 20,
  MADV_PAGEOUT: 21,
  MADV_POPULATE_READ: 22,
  MADV_POPULATE_WRITE: 23,
  MADV_DONTNEED_LOCKED: 24,
  MADV_COLLAPSE: 25,
  MADV_HWPOISON: 100,
  MADV_SOFT_OFFLINE: 101,
  /** Linux 6.13. */
  MADV_GUARD_INSTALL: 102,
  /** Linux 6.13. */
  MADV_GUARD_REMOVE: 103,
} as const;

/** madvise advice, for decoding. */
export const madvAdvice = defineEnum('madvise', Madv);

/** msync(2) flags. */
export const Msync = { MS_ASYNC: 1, MS_INVALIDATE: 2, MS_SYNC: 4 } as const;

/** msync flags, for decoding. */
export const msyncFlags = defineFlags('msync', { MS_SYNC: 4, MS_ASYNC: 1, MS_INVALIDATE: 2 });

/** mlockall(2) flags (and mlock2's MLOCK_ONFAULT). */
export const Mcl = { MCL_CURRENT: 1, MCL_FUTURE: 2, MCL_ONFAULT: 4 } as const;

/** mlockall flags, for decoding. */
export const mclFlags = defineFlags('mlockall', Mcl);

/** mlock2(2) flags. */
export const Mlock = { MLOCK_ONFAULT: 1 } as const;

/** mlock2 flags, for decoding. */
export const mlockFlags = defineFlags('mlock2', Mlock);
