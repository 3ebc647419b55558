/**
 * Renderers: the text of each /proc file from {@link ProcSource} values, in Linux's exact formats
 * (fs/proc/array.c, fs/proc/base.c, fs/proc/meminfo.c, fs/proc_namespace.c, arch/x86/kernel/
 * cpu/proc.c). Pure functions of their inputs, so each is tested against the host's files.
 *
 * Strings are byte strings (one char per byte), as in the VFS.
 *
 * @module
 */

import type {
  ProcCpu,
  ProcCpuTimes,
  ProcFd,
  ProcKernelInfo,
  ProcLayout,
  ProcMeminfo,
  ProcMemory,
  ProcMount,
  ProcRlimit,
  ProcSched,
  ProcSignals,
  ProcTask,
  TaskState,
} from './source.js';

/** USER_HZ: the clock tick unit of /proc (stat, uptime's siblings). */
export const USER_HZ = 100;
/** The page size used for statm and stat's rss. */
export const PAGE_SIZE = 4096;
/** RLIM_INFINITY as /proc/<pid>/stat prints rsslim. */
const RLIM_INFINITY = 18446744073709551615n;

const STATE_NAMES: Record<TaskState, string> = {
  R: 'R (running)',
  S: 'S (sleeping)',
  D: 'D (disk sleep)',
  T: 'T (stopped)',
  t: 't (tracing stop)',
  X: 'X (dead)',
  Z: 'Z (zombie)',
  P: 'P (parked)',
  I: 'I (idle)',
};

/** Nanoseconds to clock ticks (nsec_to_clock_t). */
export function ticks(ns: number): number {
  return Math.floor(ns / (1e9 / USER_HZ));
}

function hex16(v: bigint): string {
  return BigInt.asUintN(64, v).toString(16).padStart(16, '0');
}

function kb(bytes: number, width = 8): string {
  return String(Math.floor(bytes / 1024)).padStart(width, ' ') + ' kB';
}

/** The comm as status's Name shows it: `\n` and `\` escaped (seq_escape_str "\n\\"). */
export function escapeComm(comm: string): string {
  return comm.replace(/[\n\\]/g, (c) => (c === '\n' ? '\\n' : '\\\\'));
}

/** A CPU list as Linux prints it (`0-3`, `0,2-5`). */
export function cpuList(cpus: readonly number[]): string {
  const parts: string[] = [];
  let i = 0;
  while (i < cpus.length) {
    const start = cpus[i] as number;
    let end = start;
    while (i + 1 < cpus.length && cpus[i + 1] === end + 1) end = cpus[++i] as number;
    parts.push(start === end ? String(start) : `${start}-${end}`);
    i++;
  }
  return parts.join(',');
}

/** A CPU bitmap of all `count` CPUs as status's Cpus_allowed shows it. */
export function cpuMask(count: number): string {
  return cpuSetMask(
    Array.from({ length: count }, (_, i) => i),
    count,
  );
}

/**
 * A set of CPUs as a sysfs/status bitmap (%*pb) over `nbits` CPUs: hex in 32-bit groups separated
 * by commas, the first group only as wide as its bits need.
 */
export function cpuSetMask(cpus: readonly number[], nbits: number): string {
  const nGroups = Math.max(1, Math.ceil(nbits / 32));
  const words = new Array<number>(nGroups).fill(0);
  for (const c of cpus)
    if (c >= 0 && c < nbits) words[c >>> 5] = ((words[c >>> 5] as number) | (1 << (c & 31))) >>> 0;
  const out: string[] = [];
  for (let g = nGroups - 1; g >= 0; g--) {
    const width = g === nGroups - 1 ? Math.ceil((nbits - g * 32) / 4) : 8;
    out.push((words[g] as number).toString(16).padStart(width, '0'));
  }
  return out.join(',');
}

const NO_SIGNALS: ProcSignals = {
  pending: 0n,
  shared: 0n,
  blocked: 0n,
  ignored: 0n,
  caught: 0n,
  queued: 0,
  queueLimit: 0,
};

/** FDSize when the source does not say: Linux's fd table grows in powers of two from 64. */
export function defaultFdTableSize(fds: readonly number[]): number {
  const max = fds.length === 0 ? 0 : (fds[fds.length - 1] as number);
  let size = 64;
  while (size <= max) size *= 2;
  return size;
}

/**
 * /proc/<pid>/status (proc_pid_status) of `task` (a thread shows its own Pid and its group's
 * Tgid and Threads); `cpus` is the number of online CPUs.
 */
export function renderStatus(task: ProcTask, cpus: number): string {
  const c = task.creds();
  const mem = task.memory();
  const sig = task.signals?.() ?? NO_SIGNALS;
  const sched: ProcSched = task.sched?.(false) ?? {};
  const seccomp = task.seccomp?.() ?? { mode: 0, filters: 0 };
  const fds = task.fds();
  const umask = task.umask?.() ?? 0o022;
  const lines: string[] = [
    `Name:\t${escapeComm(task.comm())}`,
    `Umask:\t${umask.toString(8).padStart(4, '0')}`,
    `State:\t${STATE_NAMES[task.state()]}`,
    `Tgid:\t${task.tgid}`,
    `Ngid:\t0`,
    `Pid:\t${task.tid}`,
    `PPid:\t${task.ppid()}`,
    `TracerPid:\t${task.tracerPid?.() ?? 0}`,
    `Uid:\t${c.ruid}\t${c.euid}\t${c.suid}\t${c.fsuid}`,
    `Gid:\t${c.rgid}\t${c.egid}\t${c.sgid}\t${c.fsgid}`,
    `FDSize:\t${task.fdTableSize?.() ?? defaultFdTableSize(fds)}`,
    `Groups:\t${c.groups.join(' ')} `,
    `NStgid:\t${task.tgid}`,
    `NSpid:\t${task.tid}`,
    `NSpgid:\t${task.pgrp()}`,
    `NSsid:\t${task.session()}`,
    `Kthread:\t0`,
  ];
  if (mem !== null) {
    const rss = mem.rssAnon + mem.rssFile + mem.rssShmem;
    lines.push(
      `VmPeak:\t${kb(mem.vmPeak)}`,
      `VmSize:\t${kb(mem.vmSize)}`,
      `VmLck:\t${kb(mem.vmLck)}`,
      `VmPin:\t${kb(mem.vmPin)}`,
      `VmHWM:\t${kb(Math.max(mem.vmHWM, rss))}`,
      `VmRSS:\t${kb(rss)}`,
      `RssAnon:\t${kb(mem.rssAnon)}`,
      `RssFile:\t${kb(mem.rssFile)}`,
      `RssShmem:\t${kb(mem.rssShmem)}`,
      `VmData:\t${kb(mem.vmData)}`,
      `VmStk:\t${kb(mem.vmStk)}`,
      `VmExe:\t${kb(mem.vmExe)}`,
      `VmLib:\t${kb(mem.vmLib)}`,
      `VmPTE:\t${kb(mem.vmPTE)}`,
      `VmSwap:\t${kb(mem.vmSwap)}`,
      `HugetlbPages:\t${kb(0)}`,
    );
  }
  lines.push(
    `CoreDumping:\t0`,
    `THP_enabled:\t${mem !== null ? 1 : 0}`,
    `untag_mask:\t0xffffffffffffffff`,
    `Threads:\t${task.threads().length}`,
    `SigQ:\t${sig.queued}/${sig.queueLimit}`,
    `SigPnd:\t${hex16(sig.pending)}`,
    `ShdPnd:\t${hex16(sig.shared)}`,
    `SigBlk:\t${hex16(sig.blocked)}`,
    `SigIgn:\t${hex16(sig.ignored)}`,
    `SigCgt:\t${hex16(sig.caught)}`,
    `CapInh:\t${hex16(c.capInh)}`,
    `CapPrm:\t${hex16(c.capPrm)}`,
    `CapEff:\t${hex16(c.capEff)}`,
    `CapBnd:\t${hex16(c.capBnd)}`,
    `CapAmb:\t${hex16(c.capAmb)}`,
    `NoNewPrivs:\t${task.noNewPrivs?.() === true ? 1 : 0}`,
    `Seccomp:\t${seccomp.mode}`,
    `Seccomp_filters:\t${seccomp.filters}`,
    // The sandbox makes no speculation-control promise; these are the values of an unmitigated task.
    `Speculation_Store_Bypass:\tvulnerable`,
    `SpeculationIndirectBranch:\talways enabled`,
    `Cpus_allowed:\t${cpuMask(cpus)}`,
    `Cpus_allowed_list:\t${cpuList(Array.from({ length: cpus }, (_, i) => i))}`,
    `Mems_allowed:\t${Array.from({ length: 32 }, (_, i) => (i === 31 ? '00000001' : '00000000')).join(',')}`,
    `Mems_allowed_list:\t0`,
    `voluntary_ctxt_switches:\t${sched.voluntaryCtxtSwitches ?? 0}`,
    `nonvoluntary_ctxt_switches:\t${sched.nonvoluntaryCtxtSwitches ?? 0}`,
  );
  return lines.join('\n') + '\n';
}

function rssPages(mem: ProcMemory | null): number {
  return mem === null ? 0 : Math.floor((mem.rssAnon + mem.rssFile + mem.rssShmem) / PAGE_SIZE);
}

/**
 * /proc/<pid>/stat (do_task_stat). `permitted` is whether the reader may see the address-space
 * layout (ptrace read access): Linux hides it otherwise (start_code/end_code read 1, the rest 0).
 * `whole` is true for a process directory (group-wide times), false for task/<tid>.
 */
export function renderStat(task: ProcTask, permitted: boolean, whole = true): string {
  const mem = task.memory();
  const lay: ProcLayout | null = task.layout();
  const t = task.times(whole);
  const s: ProcSched = task.sched?.(whole) ?? {};
  const sig = task.signals?.() ?? NO_SIGNALS;
  const nice = s.nice ?? 0;
  const policy = s.policy ?? 0;
  const rt = s.rtPriority ?? 0;
  const priority = rt > 0 ? -1 - rt : 20 + nice;
  const low = (v: bigint): string => String(v & 0x7fffffffn);
  const m = mem !== null && lay !== null;
  const f: (string | number)[] = [
    task.tid,
    `(${task.comm()})`,
    task.state(),
    task.ppid(),
    task.pgrp(),
    task.session(),
    task.ttyNr?.() ?? 0,
    task.tpgid?.() ?? -1,
    s.flags ?? 0x400000,
    s.minflt ?? 0,
    s.cminflt ?? 0,
    s.majflt ?? 0,
    s.cmajflt ?? 0,
    ticks(t.utimeNs),
    ticks(t.stimeNs),
    ticks(t.cutimeNs),
    ticks(t.cstimeNs),
    priority,
    nice,
    task.threads().length,
    0,
    ticks(t.startNs),
    mem === null ? 0 : mem.vmSize,
    rssPages(mem),
    RLIM_INFINITY.toString(),
    m ? (permitted ? lay.startCode : 1) : 0,
    m ? (permitted ? lay.endCode : 1) : 0,
    m && permitted ? lay.startStack : 0,
    0,
    0,
    low(sig.pending | sig.shared),
    low(sig.blocked),
    low(sig.ignored),
    low(sig.caught),
    task.state() === 'S' || task.state() === 'D' ? 1 : 0,
    0,
    0,
    task.exitSignal?.() ?? 17,
    s.processor ?? 0,
    rt,
    policy,
    0,
    0,
    0,
    m && permitted ? lay.startData : 0,
    m && permitted ? lay.endData : 0,
    m && permitted ? lay.startBrk : 0,
    m && permitted ? lay.argStart : 0,
    m && permitted ? lay.argEnd : 0,
    m && permitted ? lay.envStart : 0,
    m && permitted ? lay.envEnd : 0,
    permitted ? (task.exitCode?.() ?? 0) : 0,
  ];
  return f.join(' ') + '\n';
}

/** /proc/<pid>/statm (proc_pid_statm): size resident shared text lib data dt, in pages. */
export function renderStatm(task: ProcTask): string {
  const mem = task.memory();
  if (mem === null) return '0 0 0 0 0 0 0\n';
  const pages = (b: number): number => Math.floor(b / PAGE_SIZE);
  const size = pages(mem.vmSize);
  const resident = rssPages(mem);
  const shared = pages(mem.rssFile + mem.rssShmem);
  const text = pages(mem.vmExe);
  const data = pages(mem.vmData + mem.vmStk);
  return `${size} ${resident} ${shared} ${text} 0 ${data} 0\n`;
}

/** /proc/<pid>/fdinfo/<n>: pos, flags (octal with a leading 0), mnt_id, ino, then type lines. */
export function renderFdinfo(fd: ProcFd): string {
  let out = `pos:\t${fd.pos}\nflags:\t0${fd.flags.toString(8)}\nmnt_id:\t${fd.mntId}\nino:\t${fd.ino}\n`;
  for (const line of fd.extra ?? []) out += line + '\n';
  return out;
}

/** Escape a path for mounts/mountinfo (mangle: space, tab, newline and backslash in octal). */
export function mangle(s: string): string {
  return s.replace(/[ \t\n\\]/g, (c) => '\\' + c.charCodeAt(0).toString(8).padStart(3, '0'));
}

/** /proc/<pid>/mountinfo (show_mountinfo). */
export function renderMountinfo(mounts: readonly ProcMount[]): string {
  let out = '';
  for (const m of mounts) {
    const optional = (m.optional ?? []).map((o) => ' ' + o).join('');
    out +=
      `${m.mountId} ${m.parentId} ${m.major}:${m.minor} ${mangle(m.root)} ${mangle(m.mountPoint)} ` +
      `${m.mountOptions}${optional} - ${m.fsType} ${mangle(m.source)} ${m.superOptions}\n`;
  }
  return out;
}

/**
 * /proc/<pid>/mountstats (show_vfsstat): `device <source> mounted on <point> with fstype <type>`
 * per mount; filesystems without statistics (all of the sandbox's: no NFS) add nothing more.
 */
export function renderMountstats(mounts: readonly ProcMount[]): string {
  return mounts
    .map(
      (m) =>
        `${m.source === '' ? 'no device' : `device ${mangle(m.source)}`} mounted on ${mangle(m.mountPoint)} with fstype ${mangle(m.fsType)}\n`,
    )
    .join('');
}

/**
 * /proc/<pid>/mounts (show_vfsmnt): `source mountpoint type options 0 0`, the options being ro/rw
 * (read-only if either the mount or the superblock is), the mount flags, then the filesystem's own.
 */
export function renderMounts(mounts: readonly ProcMount[]): string {
  let out = '';
  for (const m of mounts) {
    const mnt = m.mountOptions.split(',');
    const sb = m.superOptions.split(',');
    const ro = mnt[0] === 'ro' || sb[0] === 'ro';
    const opts = [ro ? 'ro' : 'rw', ...mnt.slice(1), ...sb.slice(1)].filter((o) => o.length > 0);
    out += `${mangle(m.source)} ${mangle(m.mountPoint)} ${m.fsType} ${opts.join(',')} 0 0\n`;
  }
  return out;
}

/** The rows of /proc/meminfo in Linux 6.x's order: label and the field feeding it. */
/** The numeric fields of {@link ProcMeminfo} (bytes). */
type MeminfoAmount = Exclude<keyof ProcMeminfo, 'gigabytePages'>;

const MEMINFO_ROWS: readonly [string, MeminfoAmount | null][] = [
  ['MemTotal', 'memTotal'],
  ['MemFree', 'memFree'],
  ['MemAvailable', 'memAvailable'],
  ['Buffers', 'buffers'],
  ['Cached', 'cached'],
  ['SwapCached', null],
  ['Active', 'active'],
  ['Inactive', 'inactive'],
  ['Active(anon)', 'activeAnon'],
  ['Inactive(anon)', 'inactiveAnon'],
  ['Active(file)', 'activeFile'],
  ['Inactive(file)', 'inactiveFile'],
  ['Unevictable', null],
  ['Mlocked', null],
  ['SwapTotal', 'swapTotal'],
  ['SwapFree', 'swapFree'],
  ['Zswap', null],
  ['Zswapped', null],
  ['Dirty', null],
  ['Writeback', null],
  ['AnonPages', 'anonPages'],
  ['Mapped', 'mapped'],
  ['Shmem', 'shmem'],
  ['KReclaimable', null],
  ['Slab', 'slab'],
  ['SReclaimable', null],
  ['SUnreclaim', 'slab'],
  ['KernelStack', 'kernelStack'],
  ['PageTables', 'pageTables'],
  ['SecPageTables', null],
  ['NFS_Unstable', null],
  ['Bounce', null],
  ['WritebackTmp', null],
  ['CommitLimit', null],
  ['Committed_AS', 'committedAs'],
  ['VmallocTotal', null],
  ['VmallocUsed', null],
  ['VmallocChunk', null],
  ['Percpu', null],
  ['AnonHugePages', null],
  ['ShmemHugePages', null],
  ['ShmemPmdMapped', null],
  ['FileHugePages', null],
  ['FilePmdMapped', null],
  ['Balloon', null],
];

/** VmallocTotal on x86-64 with 4-level paging (32 TiB), in bytes. */
const VMALLOC_TOTAL = 34359738367 * 1024;

/** /proc/meminfo (meminfo_proc_show): a 16-column label, an 8-wide value and ` kB`. */
export function renderMeminfo(mi: ProcMeminfo): string {
  let out = '';
  const row = (label: string, value: number, unit = ' kB'): void => {
    out += (label + ':').padEnd(16, ' ') + String(value).padStart(8, ' ') + unit + '\n';
  };
  for (const [label, key] of MEMINFO_ROWS) {
    let bytes = key === null ? 0 : (mi[key] ?? 0);
    if (label === 'VmallocTotal') bytes = VMALLOC_TOTAL;
    // Without swap, CommitLimit is half of RAM (overcommit_ratio 50).
    if (label === 'CommitLimit') bytes = Math.floor(mi.memTotal / 2) + (mi.swapTotal ?? 0);
    row(label, Math.floor(bytes / 1024));
  }
  row('HugePages_Total', 0, '');
  row('HugePages_Free', 0, '');
  row('HugePages_Rsvd', 0, '');
  row('HugePages_Surp', 0, '');
  row('Hugepagesize', 2048);
  row('Hugetlb', 0);
  row('DirectMap4k', 0);
  row('DirectMap2M', 0);
  if (mi.gigabytePages !== false) row('DirectMap1G', 0);
  return out;
}

/** /proc/cpuinfo (show_cpuinfo on x86): one block per CPU, a blank line after each. */
export function renderCpuinfo(cpus: readonly ProcCpu[]): string {
  let out = '';
  cpus.forEach((c, i) => {
    out +=
      `processor\t: ${i}\n` +
      `vendor_id\t: ${c.vendorId}\n` +
      `cpu family\t: ${c.family}\n` +
      `model\t\t: ${c.model}\n` +
      `model name\t: ${c.modelName}\n` +
      `stepping\t: ${c.stepping}\n` +
      `cpu MHz\t\t: ${c.mhz.toFixed(3)}\n` +
      `cache size\t: ${c.cacheSizeKb} KB\n` +
      `physical id\t: 0\n` +
      `siblings\t: ${cpus.length}\n` +
      `core id\t\t: ${i}\n` +
      `cpu cores\t: ${cpus.length}\n` +
      `apicid\t\t: ${i}\n` +
      `initial apicid\t: ${i}\n` +
      `fpu\t\t: yes\n` +
      `fpu_exception\t: yes\n` +
      `cpuid level\t: ${c.cpuidLevel}\n` +
      `wp\t\t: yes\n` +
      `flags\t\t: ${c.flags.join(' ')}\n` +
      `bugs\t\t: \n` +
      `bogomips\t: ${c.bogomips.toFixed(2)}\n` +
      `clflush size\t: 64\n` +
      `cache_alignment\t: 64\n` +
      `address sizes\t: ${c.addressSizes}\n` +
      `power management:\n\n`;
  });
  return out;
}

/** Seconds with two decimals, truncated (uptime's %lu.%02lu). */
function centis(ns: number): string {
  const c = Math.floor(ns / 1e7);
  return `${Math.floor(c / 100)}.${String(c % 100).padStart(2, '0')}`;
}

/** /proc/uptime: seconds since boot and summed idle seconds of all CPUs. */
export function renderUptime(uptimeNs: number, idleNs: number): string {
  return `${centis(uptimeNs)} ${centis(idleNs)}\n`;
}

/** /proc/loadavg: three averages, runnable/total threads, last pid. */
export function renderLoadavg(
  avg: readonly [number, number, number],
  running: number,
  threads: number,
  lastPid: number,
): string {
  const f = (v: number): string => {
    const c = Math.floor(v * 100 + 0.5);
    return `${Math.floor(c / 100)}.${String(c % 100).padStart(2, '0')}`;
  };
  return `${f(avg[0])} ${f(avg[1])} ${f(avg[2])} ${running}/${threads} ${lastPid}\n`;
}

/** /proc/version (linux_proc_banner): `Linux version <release> <builder> <version>`. */
export function renderVersion(k: ProcKernelInfo): string {
  return `${k.ostype} version ${k.osrelease} ${k.builder} ${k.version}\n`;
}

/** System-wide counters of /proc/stat. */
export interface StatCounters {
  readonly cpus: readonly ProcCpuTimes[];
  readonly ctxt: number;
  readonly btime: number;
  readonly processes: number;
  readonly running: number;
  readonly blocked: number;
}

/** /proc/stat (show_stat): the cpu lines, interrupts, context switches, boot time, processes. */
export function renderProcStat(c: StatCounters): string {
  const line = (t: ProcCpuTimes): string =>
    [t.userNs, t.niceNs, t.systemNs, t.idleNs, t.iowaitNs, t.irqNs, t.softirqNs, 0, 0, 0]
      .map((v) => ticks(v))
      .join(' ');
  const sum: ProcCpuTimes = {
    userNs: 0,
    niceNs: 0,
    systemNs: 0,
    idleNs: 0,
    iowaitNs: 0,
    irqNs: 0,
    softirqNs: 0,
  };
  const total = c.cpus.reduce(
    (a, t) => ({
      userNs: a.userNs + t.userNs,
      niceNs: a.niceNs + t.niceNs,
      systemNs: a.systemNs + t.systemNs,
      idleNs: a.idleNs + t.idleNs,
      iowaitNs: a.iowaitNs + t.iowaitNs,
      irqNs: a.irqNs + t.irqNs,
      softirqNs: a.softirqNs + t.softirqNs,
    }),
    sum,
  );
  let out = `cpu  ${line(total)}\n`;
  c.cpus.forEach((t, i) => (out += `cpu${i} ${line(t)}\n`));
  out += `intr 0\nctxt ${c.ctxt}\nbtime ${c.btime}\nprocesses ${c.processes}\n`;
  out += `procs_running ${c.running}\nprocs_blocked ${c.blocked}\nsoftirq 0 0 0 0 0 0 0 0 0 0 0\n`;
  return out;
}

/** /proc/filesystems: `nodev\t<name>` or `\t<name>`. */
export function renderFilesystems(
  fss: readonly { readonly name: string; readonly nodev: boolean }[],
): string {
  return fss.map((f) => `${f.nodev ? 'nodev' : ''}\t${f.name}\n`).join('');
}

/** The rows of /proc/<pid>/limits: name and unit per RLIMIT_* number (fs/proc/base.c lnames). */
const LIMIT_NAMES: readonly [string, string][] = [
  ['Max cpu time', 'seconds'],
  ['Max file size', 'bytes'],
  ['Max data size', 'bytes'],
  ['Max stack size', 'bytes'],
  ['Max core file size', 'bytes'],
  ['Max resident set', 'bytes'],
  ['Max processes', 'processes'],
  ['Max open files', 'files'],
  ['Max locked memory', 'bytes'],
  ['Max address space', 'bytes'],
  ['Max file locks', 'locks'],
  ['Max pending signals', 'signals'],
  ['Max msgqueue size', 'bytes'],
  ['Max nice priority', ''],
  ['Max realtime priority', ''],
  ['Max realtime timeout', 'us'],
];

/** /proc/<pid>/limits (proc_pid_limits): fixed-width columns, `unlimited` for RLIM_INFINITY. */
export function renderLimits(limits: readonly ProcRlimit[]): string {
  let out = `${'Limit'.padEnd(25)} ${'Soft Limit'.padEnd(20)} ${'Hard Limit'.padEnd(20)} ${'Units'.padEnd(10)}\n`;
  LIMIT_NAMES.forEach(([name, unit], i) => {
    const l = limits[i] ?? { soft: null, hard: null };
    const v = (x: number | null): string => (x === null ? 'unlimited' : String(x)).padEnd(20);
    out += `${name.padEnd(25)} ${v(l.soft)} ${v(l.hard)} ${unit === '' ? '' : unit.padEnd(10)}\n`;
  });
  return out;
}
