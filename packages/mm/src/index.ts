/**
 * @tsvisor/mm: the address-space model. One {@link AddressSpace} per process holds its VMAs and
 * implements mmap, munmap, mprotect, mremap, madvise, msync, mincore, mlock, brk, stack growth,
 * fork and exec with Linux x86-64's semantics, journaling the host operations that keep a real
 * host process in step. Renderers produce /proc/<pid>/maps, smaps, statm and status lines.
 *
 * @module
 */
export { AddressSpace, mmapBaseFor } from './address-space.js';
export type { AddressSpaceOptions, MmLayout, MmStats, ReservedRange } from './address-space.js';
export type { HostOp, MapFile, MmLimits, Vma, Word, WritebackRange } from './types.js';
export { ShmemFile } from './shmem-file.js';
export { VM, VM_SPECIAL, vmFlagMnemonics } from './vm-flags.js';
export {
  mapsLine,
  renderMaps,
  renderSmaps,
  renderStatm,
  renderStatusMemory,
  statusMemory,
  vmaName,
  VSYSCALL_LINE,
} from './render.js';
export type { StatusMemory, VmaResidency } from './render.js';
// Address-space layout figures and mm's kernel-internal numbers. The syscall flag values are
// @tsvisor/abi's Prot, MapFlag, Mremap, Madv, Msync, Mcl and Mlock (import them from there).
export {
  PAGE_SIZE,
  PAGE_SHIFT,
  TASK_SIZE,
  DEFAULT_MAX_MAP_COUNT,
  DEFAULT_MMAP_MIN_ADDR,
  STACK_GUARD_GAP,
  RLIM_INFINITY,
  LEGACY_MAP_MASK,
} from './constants.js';
export { meminfoTotals } from './meminfo.js';
export type { MeminfoTotals } from './meminfo.js';
