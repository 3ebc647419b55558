/**
 * The per-VMA flag word (`vm_flags_t`), with Linux's bit positions so that smaps' `VmFlags`
 * mnemonics come out in the kernel's order. Two VMAs merge only when these words are equal,
 * which is why bits such as `ACCOUNT` and `NOHUGEPAGE` matter for /proc/<pid>/maps.
 *
 * @module
 */

/** VMA flag bits (Linux `VM_*`). */
export const VM = Object.freeze({
  NONE: 0,
  READ: 1 << 0,
  WRITE: 1 << 1,
  EXEC: 1 << 2,
  SHARED: 1 << 3,
  MAYREAD: 1 << 4,
  MAYWRITE: 1 << 5,
  MAYEXEC: 1 << 6,
  MAYSHARE: 1 << 7,
  GROWSDOWN: 1 << 8,
  PFNMAP: 1 << 10,
  LOCKED: 1 << 13,
  IO: 1 << 14,
  SEQ_READ: 1 << 15,
  RAND_READ: 1 << 16,
  DONTCOPY: 1 << 17,
  DONTEXPAND: 1 << 18,
  LOCKONFAULT: 1 << 19,
  ACCOUNT: 1 << 20,
  NORESERVE: 1 << 21,
  HUGETLB: 1 << 22,
  SYNC: 1 << 23,
  WIPEONFORK: 1 << 25,
  DONTDUMP: 1 << 26,
  MIXEDMAP: 1 << 28,
  HUGEPAGE: 1 << 29,
  NOHUGEPAGE: 1 << 30,
  MERGEABLE: 1 << 31,
});

/**
 * `VM_SEALED` (mseal(2)): the VMA cannot be unmapped, replaced, moved, resized or have its
 * protection changed (EPERM). Linux keeps it above bit 31; this model uses the free bit 12 (it
 * does not model userfaultfd's VM_UFFD_WP there) and marks the platform's reserved ranges with it.
 */
export const VM_SEALED = 1 << 12;

/** Flags that forbid merging and expansion (`VM_SPECIAL`). */
export const VM_SPECIAL = VM.IO | VM.DONTEXPAND | VM.PFNMAP | VM.MIXEDMAP;
/** `VM_LOCKED_MASK`. */
export const VM_LOCKED_MASK = VM.LOCKED | VM.LOCKONFAULT;
/** `VM_ACCESS_FLAGS`. */
export const VM_ACCESS_FLAGS = VM.READ | VM.WRITE | VM.EXEC;

const MNEMONICS: readonly (readonly [number, string])[] = [
  [VM.READ, 'rd'],
  [VM.WRITE, 'wr'],
  [VM.EXEC, 'ex'],
  [VM.SHARED, 'sh'],
  [VM.MAYREAD, 'mr'],
  [VM.MAYWRITE, 'mw'],
  [VM.MAYEXEC, 'me'],
  [VM.MAYSHARE, 'ms'],
  [VM.GROWSDOWN, 'gd'],
  [VM.PFNMAP, 'pf'],
  [VM.LOCKED, 'lo'],
  [VM.IO, 'io'],
  [VM.SEQ_READ, 'sr'],
  [VM.RAND_READ, 'rr'],
  [VM.DONTCOPY, 'dc'],
  [VM.DONTEXPAND, 'de'],
  [VM.LOCKONFAULT, 'lf'],
  [VM.ACCOUNT, 'ac'],
  [VM.NORESERVE, 'nr'],
  [VM.HUGETLB, 'ht'],
  [VM.SYNC, 'sf'],
  [VM.WIPEONFORK, 'wf'],
  [VM.DONTDUMP, 'dd'],
  [VM.MIXEDMAP, 'mm'],
  [VM.HUGEPAGE, 'hg'],
  [VM.NOHUGEPAGE, 'nh'],
  [VM.MERGEABLE, 'mg'],
  [VM_SEALED, 'sl'],
];

/** The smaps `VmFlags:` mnemonics of a flag word, in kernel order (`rd wr mr mw me ac`). */
export function vmFlagMnemonics(flags: number): string[] {
  const out: string[] = [];
  for (const [bit, name] of MNEMONICS) if ((flags & bit) !== 0) out.push(name);
  return out;
}

/** `is_exec_mapping`: executable, not writable, not a stack. */
export function isExecMapping(flags: number): boolean {
  return (flags & (VM.EXEC | VM.WRITE | VM.GROWSDOWN)) === VM.EXEC;
}
/** `is_stack_mapping`. */
export function isStackMapping(flags: number): boolean {
  return (flags & VM.GROWSDOWN) !== 0;
}
/** `is_data_mapping`: private writable, not a stack (what RLIMIT_DATA limits). */
export function isDataMapping(flags: number): boolean {
  return (flags & (VM.WRITE | VM.SHARED | VM.GROWSDOWN)) === VM.WRITE;
}
