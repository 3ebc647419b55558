/**
 * Text the kernel's procfs shows for an address space: /proc/<pid>/maps and smaps lines, statm,
 * and the Vm* lines of /proc/<pid>/status, formatted exactly as Linux formats them
 * (fs/proc/task_mmu.c).
 *
 * @module
 */
import type { AddressSpace } from './address-space.js';
import { PAGE_SIZE } from './constants.js';
import type { Vma } from './types.js';
import { VM, vmFlagMnemonics } from './vm-flags.js';

/** The name column of one VMA, or '' (`get_vma_name()`). */
export function vmaName(as: AddressSpace, v: Vma): string {
  if (v.special !== undefined) return v.special;
  if (v.file) {
    if (v.anonName !== undefined && v.file.mapDevMajor === 0 && v.file.mapDevMinor === 1) {
      return `[anon_shmem:${v.anonName}]`;
    }
    return v.file.mapPath();
  }
  const L = as.layout;
  if (v.start < L.brk && v.end > L.startBrk) return '[heap]';
  if (v.start <= L.startStack && v.end >= L.startStack && L.startStack !== 0) return '[stack]';
  if (v.anonName !== undefined) return `[anon:${v.anonName}]`;
  return '';
}

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, '0');
}

/** The header line of a VMA in maps/smaps, without the newline. */
export function mapsLine(as: AddressSpace, v: Vma): string {
  const f = v.flags;
  const perms =
    (f & VM.READ ? 'r' : '-') +
    (f & VM.WRITE ? 'w' : '-') +
    (f & VM.EXEC ? 'x' : '-') +
    (f & VM.MAYSHARE ? 's' : 'p');
  const file = v.file;
  const offset = file ? v.pgoff * PAGE_SIZE : 0;
  const major = file ? file.mapDevMajor : 0;
  const minor = file ? file.mapDevMinor : 0;
  const ino = file ? file.mapInode : 0;
  let line = `${hex(v.start, 8)}-${hex(v.end, 8)} ${perms} ${hex(offset, 8)} ${hex(major, 2)}:${hex(minor, 2)} ${ino} `;
  const name = vmaName(as, v);
  if (name) line = line.padEnd(72, ' ') + ' ' + name;
  return line;
}

/**
 * /proc/<pid>/maps. Pass `{ vsyscall: true }` to end it with the vsyscall page as x86-64 Linux
 * does.
 *
 * @example
 * ```ts
 * renderMaps(as); // "7f0000000000-7f0000002000 rw-p 00000000 00:00 0 \n"
 * ```
 */
export function renderMaps(as: AddressSpace, options: { vsyscall?: boolean } = {}): string {
  let out = '';
  for (const v of as.list()) out += mapsLine(as, v) + '\n';
  if (options.vsyscall) out += VSYSCALL_LINE + '\n';
  return out;
}

/**
 * The x86-64 vsyscall page, which Linux lists last in every process's maps (it is not a VMA) when
 * booted with vsyscall=xonly, the default.
 */
export const VSYSCALL_LINE =
  'ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0 '.padEnd(72, ' ') + ' [vsyscall]';

/**
 * Per-VMA resident figures for smaps. The model does not see page faults, so the caller supplies
 * them when it knows (from the host's smaps or mincore); absent figures are 0.
 */
export interface VmaResidency {
  rss: number;
  pss: number;
  anonymous: number;
  swap?: number;
}

/** /proc/<pid>/smaps, with residency from `residency` (bytes) when given. */
export function renderSmaps(as: AddressSpace, residency?: (v: Vma) => VmaResidency | undefined): string {
  let out = '';
  const kb = (bytes: number, label: string): string =>
    `${(label + ':').padEnd(16)}${String(Math.floor(bytes / 1024)).padStart(8)} kB\n`;
  for (const v of as.list()) {
    const r = residency?.(v);
    const rss = r?.rss ?? 0;
    const anon = r?.anonymous ?? 0;
    const shared = (v.flags & VM.MAYSHARE) !== 0;
    out += mapsLine(as, v) + '\n';
    out += kb(v.end - v.start, 'Size');
    out += kb(PAGE_SIZE, 'KernelPageSize');
    out += kb(PAGE_SIZE, 'MMUPageSize');
    out += kb(rss, 'Rss');
    out += kb(r?.pss ?? 0, 'Pss');
    out += kb(0, 'Pss_Dirty');
    out += kb(shared ? rss : 0, 'Shared_Clean');
    out += kb(0, 'Shared_Dirty');
    out += kb(shared ? 0 : rss - anon, 'Private_Clean');
    out += kb(shared ? 0 : anon, 'Private_Dirty');
    out += kb(rss, 'Referenced');
    out += kb(anon, 'Anonymous');
    out += kb(0, 'KSM');
    out += kb(0, 'LazyFree');
    out += kb(0, 'AnonHugePages');
    out += kb(0, 'ShmemPmdMapped');
    out += kb(0, 'FilePmdMapped');
    out += kb(0, 'Shared_Hugetlb');
    out += kb(0, 'Private_Hugetlb');
    out += kb(r?.swap ?? 0, 'Swap');
    out += kb(0, 'SwapPss');
    out += kb(v.flags & VM.LOCKED ? rss : 0, 'Locked');
    out += `${'THPeligible:'.padEnd(16)}${'0'.padStart(8)}\n`;
    out += `VmFlags: ${vmFlagMnemonics(v.flags).join(' ')} \n`;
  }
  return out;
}

/**
 * /proc/<pid>/statm: size resident shared text lib data dt, in pages. Resident and shared pages
 * are the caller's (the model does not see faults).
 */
export function renderStatm(as: AddressSpace, residentPages = 0, sharedPages = 0): string {
  const s = as.stats();
  const L = as.layout;
  const text = Math.ceil(L.endCode / PAGE_SIZE) - Math.floor(L.startCode / PAGE_SIZE);
  const data = s.dataVm + s.stackVm;
  return `${s.totalVm} ${residentPages} ${sharedPages} ${Math.max(0, text)} 0 ${data} 0\n`;
}

/** The VmSize..VmLib figures of /proc/<pid>/status, in kB. */
export interface StatusMemory {
  VmPeak: number;
  VmSize: number;
  VmLck: number;
  VmData: number;
  VmStk: number;
  VmExe: number;
  VmLib: number;
}

/** The memory figures of /proc/<pid>/status (`task_mem()`), in kB. */
export function statusMemory(as: AddressSpace): StatusMemory {
  const s = as.stats();
  const L = as.layout;
  const textBytes = Math.min(
    Math.ceil(L.endCode / PAGE_SIZE) * PAGE_SIZE - Math.floor(L.startCode / PAGE_SIZE) * PAGE_SIZE,
    s.execVm * PAGE_SIZE,
  );
  const text = Math.max(0, textBytes);
  const lib = s.execVm * PAGE_SIZE - text;
  const k = PAGE_SIZE / 1024;
  return {
    VmPeak: s.peakVm * k,
    VmSize: s.totalVm * k,
    VmLck: s.lockedVm * k,
    VmData: s.dataVm * k,
    VmStk: s.stackVm * k,
    VmExe: text / 1024,
    VmLib: lib / 1024,
  };
}

/** The status lines themselves, e.g. `VmSize:\t    2280 kB`. */
export function renderStatusMemory(as: AddressSpace): string {
  const m = statusMemory(as);
  const line = (k: string, v: number): string => `${k}:\t${String(v).padStart(8)} kB\n`;
  return (
    line('VmPeak', m.VmPeak) +
    line('VmSize', m.VmSize) +
    line('VmLck', m.VmLck) +
    line('VmData', m.VmData) +
    line('VmStk', m.VmStk) +
    line('VmExe', m.VmExe) +
    line('VmLib', m.VmLib)
  );
}
