/**
 * Sandbox-wide memory totals for /proc/meminfo, summed over every address space of the sandbox
 * (Linux's meminfo_proc_show() reads global counters; a sandbox's are the sum over its own
 * processes).
 *
 * @module
 */
import type { AddressSpace } from './address-space.js';
import { PAGE_SIZE } from './constants.js';
import { ShmemFile } from './shmem-file.js';
import type { MapFile } from './types.js';
import { VM } from './vm-flags.js';

/** /proc/meminfo figures of a set of address spaces, in bytes. */
export interface MeminfoTotals {
  /**
   * Resident memory: the sum of what `resident` reports per address space (the host sees the
   * faults, the model does not) when it knows every one, else the upper bound
   * `anonPages + mapped`.
   */
  readonly rss: number;
  /**
   * AnonPages: private anonymous memory (brk, stacks, anonymous mmap). Per address space, its
   * private anonymous size, capped by its resident bytes when `resident` is given.
   */
  readonly anonPages: number;
  /**
   * Mapped: file pages mapped into some address space, each page of each file counted once
   * however many processes or VMAs map it (shared anonymous memory included, as in Linux). An
   * upper bound: every mapped page counts as if it were in memory.
   */
  readonly mapped: number;
  /**
   * Shmem: shared anonymous memory (`MAP_SHARED|MAP_ANONYMOUS`, {@link ShmemFile}), each object
   * counted once over the pages mapped anywhere. An upper bound, like `mapped`.
   */
  readonly shmem: number;
  /** Committed_AS: the pages charged to overcommit accounting (VM_ACCOUNT), summed. */
  readonly committedAs: number;
  /** Mlocked: the mlocked pages, summed. */
  readonly mlocked: number;
  /** The sum of VmSize: every mapped byte of every address space. */
  readonly totalVm: number;
}

/**
 * Sums the memory figures of /proc/meminfo over `spaces` (each counted once, so a list of tasks'
 * address spaces where threads repeat one is fine). `resident`, when given, returns the resident
 * bytes of one address space (the host process's VmRSS), or null when unknown.
 *
 * @example
 * ```ts
 * const t = meminfoTotals([parent, child], (as) => hostRss.get(as) ?? null);
 * t.committedAs; // Committed_AS in bytes
 * ```
 */
export function meminfoTotals(
  spaces: Iterable<AddressSpace>,
  resident?: (as: AddressSpace) => number | null,
): MeminfoTotals {
  const seen = new Set<AddressSpace>();
  /** Page ranges [first, end) mapped per file object, for counting each page once. */
  const filePages = new Map<MapFile, [number, number][]>();
  let anonPages = 0;
  let rss = 0;
  let rssKnown = resident !== undefined;
  let committed = 0;
  let locked = 0;
  let total = 0;
  for (const as of spaces) {
    if (seen.has(as)) continue;
    seen.add(as);
    const s = as.stats();
    committed += s.committedVm * PAGE_SIZE;
    locked += s.lockedVm * PAGE_SIZE;
    total += s.totalVm * PAGE_SIZE;
    let anon = 0;
    for (const v of as.list()) {
      const bytes = v.end - v.start;
      if (v.file === null) {
        // Special mappings (vDSO, the platform's reserved pages) are not process memory.
        if (v.special === undefined && (v.flags & VM.PFNMAP) === 0) anon += bytes;
        continue;
      }
      let ranges = filePages.get(v.file);
      if (!ranges) filePages.set(v.file, (ranges = []));
      ranges.push([v.pgoff, v.pgoff + bytes / PAGE_SIZE]);
    }
    const r = resident?.(as);
    if (r === null || r === undefined) rssKnown = false;
    else rss += r;
    anonPages += r === null || r === undefined ? anon : Math.min(anon, r);
  }
  let mapped = 0;
  let shmem = 0;
  for (const [file, ranges] of filePages) {
    const pages = unionLength(ranges) * PAGE_SIZE;
    mapped += pages;
    if (file instanceof ShmemFile) shmem += pages;
  }
  return {
    rss: rssKnown ? rss : anonPages + mapped,
    anonPages,
    mapped,
    shmem,
    committedAs: committed,
    mlocked: locked,
    totalVm: total,
  };
}

/** The total length of a set of half-open ranges, overlaps counted once. */
function unionLength(ranges: [number, number][]): number {
  ranges.sort((a, b) => a[0] - b[0]);
  let sum = 0;
  let curStart = -Infinity;
  let curEnd = -Infinity;
  for (const [s, e] of ranges) {
    if (s > curEnd) {
      if (curEnd > curStart) sum += curEnd - curStart;
      curStart = s;
      curEnd = e;
    } else if (e > curEnd) curEnd = e;
  }
  if (curEnd > curStart) sum += curEnd - curStart;
  return sum;
}
