/**
 * Formats of the per-task files added to fs/proc/base.c's list after the first round: io,
 * sched, schedstat, syscall, oom_score and smaps_rollup.
 *
 * @module
 */

import { PAGE_SIZE } from './render.js';
import type { ProcIo, ProcMeminfo, ProcSyscall, ProcTask } from './source.js';

/** sched_prio_to_weight (kernel/sched/core.c): the load weight of nice -20 .. 19. */
const NICE_WEIGHT = [
  88761, 71755, 56483, 46273, 36291, 29154, 23254, 18705, 14949, 11916, 9548, 7620, 6100, 4904, 3906, 3121,
  2501, 1991, 1586, 1277, 1024, 820, 655, 526, 423, 335, 272, 215, 172, 137, 110, 87, 70, 56, 45, 36, 29, 23,
  18, 15,
];
/** SCHED_FIFO, SCHED_RR: the real-time policies, whose prio is 99 - rt_priority. */
const SCHED_FIFO = 1;
const SCHED_RR = 2;

/** /proc/<pid>/io (proc_pid_io_accounting): seven `name: value` lines. */
export function renderIo(io: ProcIo | undefined): string {
  const v = io ?? {
    rchar: 0,
    wchar: 0,
    syscr: 0,
    syscw: 0,
    readBytes: 0,
    writeBytes: 0,
    cancelledWriteBytes: 0,
  };
  return (
    `rchar: ${v.rchar}\nwchar: ${v.wchar}\nsyscr: ${v.syscr}\nsyscw: ${v.syscw}\n` +
    `read_bytes: ${v.readBytes}\nwrite_bytes: ${v.writeBytes}\n` +
    `cancelled_write_bytes: ${v.cancelledWriteBytes}\n`
  );
}

/** The thread's own run time in nanoseconds (se.sum_exec_runtime). */
function runtimeNs(t: ProcTask): number {
  const own = t.times(false);
  return own.utimeNs + own.stimeNs;
}

/** A `%-45s:%21Ld` line of /proc/<pid>/sched. */
function schedLine(name: string, value: string): string {
  return `${name.padEnd(45)}:${value.padStart(21)}\n`;
}

/**
 * /proc/<pid>/sched (proc_sched_show_task), the fields a TypeScript scheduler knows: run time,
 * context switches, load weight, policy and priority. The header names the thread and its
 * group's thread count.
 */
export function renderSched(t: ProcTask): string {
  const s = t.sched?.(false) ?? {};
  const nice = s.nice ?? 0;
  const policy = s.policy ?? 0;
  const vol = s.voluntaryCtxtSwitches ?? 0;
  const invol = s.nonvoluntaryCtxtSwitches ?? 0;
  const ns = runtimeNs(t);
  // SPLIT_NS: milliseconds and the nanosecond remainder, `%14Ld.%06ld`.
  const split = `${String(Math.floor(ns / 1e6)).padStart(14)}.${String(ns % 1e6).padStart(6, '0')}`;
  const weight = (NICE_WEIGHT[Math.min(39, Math.max(0, nice + 20))] ?? 1024) * 1024;
  const prio = policy === SCHED_FIFO || policy === SCHED_RR ? 99 - (s.rtPriority ?? 0) : 120 + nice;
  return (
    `${t.comm()} (${t.tid}, #threads: ${t.threads().length})\n${'-'.repeat(67)}\n` +
    schedLine('se.sum_exec_runtime', split) +
    schedLine('nr_switches', String(vol + invol)) +
    schedLine('nr_voluntary_switches', String(vol)) +
    schedLine('nr_involuntary_switches', String(invol)) +
    schedLine('se.load.weight', String(weight)) +
    schedLine('policy', String(policy)) +
    schedLine('prio', String(prio))
  );
}

/** /proc/<pid>/schedstat: run time (ns), time waiting on a run queue (ns), timeslices run. */
export function renderSchedstat(t: ProcTask): string {
  const s = t.sched?.(false) ?? {};
  const slices = (s.voluntaryCtxtSwitches ?? 0) + (s.nonvoluntaryCtxtSwitches ?? 0);
  return `${runtimeNs(t)} 0 ${slices}\n`;
}

const hex = (v: bigint): string => `0x${BigInt.asUintN(64, v).toString(16)}`;

/** /proc/<pid>/syscall (proc_pid_syscall). */
export function renderSyscall(s: ProcSyscall): string {
  if (s === 'running') return 'running\n';
  if (s.nr < 0) return `${s.nr} ${hex(s.sp)} ${hex(s.pc)}\n`;
  return `${s.nr} ${s.args.map(hex).join(' ')} ${hex(s.sp)} ${hex(s.pc)}\n`;
}

/**
 * /proc/<pid>/oom_score (proc_oom_score): oom_badness scaled into 0..2000 and by 2/3, so a
 * small process with oom_score_adj 0 scores 666. Badness is resident pages plus swap plus page
 * tables, plus oom_score_adj thousandths of RAM and swap; a process without memory, or with
 * oom_score_adj -1000, scores 0.
 */
export function renderOomScore(t: ProcTask, mem: ProcMeminfo): string {
  const m = t.memory();
  const adj = t.oomScoreAdj?.() ?? 0;
  const total = Math.floor(mem.memTotal / PAGE_SIZE) + Math.floor((mem.swapTotal ?? 0) / PAGE_SIZE);
  if (m === null || adj === -1000 || total <= 0) return '0\n';
  const pages = (b: number): number => Math.floor(b / PAGE_SIZE);
  const badness =
    pages(m.rssAnon) +
    pages(m.rssFile) +
    pages(m.rssShmem) +
    pages(m.vmSwap) +
    pages(m.vmPTE) +
    adj * Math.floor(total / 1000);
  const points = Math.trunc(((1000 + Math.trunc((badness * 1000) / total)) * 2) / 3);
  return `${Math.max(0, points)}\n`;
}

/** The fields of smaps_rollup, in Linux's order (show_smap_vma_rollup / __show_smap). */
const ROLLUP_FIELDS = [
  'Rss',
  'Pss',
  'Pss_Dirty',
  'Pss_Anon',
  'Pss_File',
  'Pss_Shmem',
  'Shared_Clean',
  'Shared_Dirty',
  'Private_Clean',
  'Private_Dirty',
  'Referenced',
  'Anonymous',
  'KSM',
  'LazyFree',
  'AnonHugePages',
  'ShmemPmdMapped',
  'FilePmdMapped',
  'Shared_Hugetlb',
  'Private_Hugetlb',
  'Swap',
  'SwapPss',
  'Locked',
] as const;

/** Where a mapping's proportional set counts in the rollup's Pss_Anon/Pss_File/Pss_Shmem. */
function backing(name: string, shared: boolean): 'anon' | 'file' | 'shmem' {
  if (/^\/(dev\/zero|SYSV|memfd:)/.test(name)) return 'shmem';
  if (name.startsWith('/')) return 'file';
  return shared ? 'shmem' : 'anon';
}

/**
 * /proc/<pid>/smaps_rollup from the smaps text: the sums of each mapping's figures under a
 * `start-end ---p 00000000 00:00 0 [rollup]` header spanning the first to the last mapping.
 * Linux splits Pss by each page's kind; here a mapping's anonymous share of its Pss counts as
 * Pss_Anon and the rest as Pss_File (file mappings) or Pss_Shmem (shared memory).
 */
export function renderSmapsRollup(smaps: string): string {
  const sums = new Map<string, number>();
  let first: string | null = null;
  let last = '';
  let cur: Map<string, number> | null = null;
  let curName = '';
  let curShared = false;
  const flush = (): void => {
    if (cur === null) return;
    for (const [k, v] of cur) sums.set(k, (sums.get(k) ?? 0) + v);
    const rss = cur.get('Rss') ?? 0;
    const pss = cur.get('Pss') ?? 0;
    const anon = rss > 0 ? Math.floor((pss * (cur.get('Anonymous') ?? 0)) / rss) : 0;
    const rest = backing(curName, curShared);
    const add = (k: string, v: number): void => void sums.set(k, (sums.get(k) ?? 0) + v);
    add('Pss_Anon', anon);
    add(rest === 'anon' ? 'Pss_Anon' : rest === 'file' ? 'Pss_File' : 'Pss_Shmem', pss - anon);
  };
  for (const line of smaps.split('\n')) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) (\S{4}) \S+ \S+ \S+ *(.*)$/.exec(line);
    if (head !== null) {
      flush();
      first ??= head[1] as string;
      last = head[2] as string;
      cur = new Map();
      curShared = (head[3] as string)[3] === 's';
      curName = head[4] as string;
      continue;
    }
    const field = /^([A-Za-z_]+):\s+(\d+) kB$/.exec(line);
    if (field !== null && cur !== null) cur.set(field[1] as string, Number(field[2]));
  }
  flush();
  if (first === null) return '';
  let out = `${first}-${last} ---p 00000000 00:00 0`.padEnd(73) + '[rollup]\n';
  for (const f of ROLLUP_FIELDS) out += `${(f + ':').padEnd(16)}${String(sums.get(f) ?? 0).padStart(8)} kB\n`;
  return out;
}
