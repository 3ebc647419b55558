/**
 * A read-only cgroup v2 view (kernel/cgroup/cgroup.c's cgroup_base_files plus the cpu, memory
 * and pids controllers' interface files), declared over a {@link ProcSource}: what a container
 * sees at /sys/fs/cgroup when its cgroup namespace is rooted at its own cgroup. The interface
 * files keep Linux's modes; the superblock is read-only, so opening one for writing gives EROFS.
 *
 * @module
 */

import { E, OpenFlag } from '@tsvisor/abi';
import type { FileNode, DirNode, TreeNode } from './kernfs.js';
import type { ProcCgroup, ProcCgroupCpuThrottling, ProcSource } from './source.js';

/** The cgroup a source shows when it has none: nothing enabled and no limit. */
const UNLIMITED: ProcCgroup = {
  controllers: [],
  memoryMax: null,
  cpuQuotaUs: null,
  cpuPeriodUs: 100000,
  pidsMax: null,
  memoryCurrent: () => 0,
};

/** Linux's listing order of controllers (cgroup_subsys order for cgroup.controllers). */
const CONTROLLER_ORDER = ['cpuset', 'cpu', 'io', 'memory', 'hugetlb', 'pids', 'rdma', 'misc'];
/** The subsystems of a cgroup v2-only kernel's default hierarchy, in cgroup_subsys order. */
const DFL_SUBSYS = ['cpuset', 'cpu', 'io', 'memory', 'perf_event', 'hugetlb', 'pids', 'rdma', 'misc'];

const PAGE = 4096;

/** `max` for null, else the number (memory values rounded down to whole pages, as Linux stores them). */
function maxOr(v: number | null, page = false): string {
  if (v === null) return 'max';
  return String(page ? Math.floor(v / PAGE) * PAGE : v);
}

/** Declare the cgroup v2 tree over `src` (see {@link createCgroupfs}). */
export function cgroupTree(src: ProcSource): DirNode {
  const cg = (): ProcCgroup => src.cgroup?.() ?? UNLIMITED;
  const enabled = (c: string): boolean => cg().controllers.includes(c);
  /**
   * A cgroup interface file: read-only (0444) or writable on Linux (0644). The view is a
   * read-only superblock, so opening any of them for writing gives EROFS, as on a cgroup2 mount
   * made read-only.
   */
  const cfile = (read: () => string, mode = 0o444): FileNode => ({
    kind: 'file',
    mode,
    read,
    open: (flags) => ((flags & OpenFlag.O_ACCMODE) === OpenFlag.O_RDONLY ? undefined : E.EROFS),
  });

  const threads = (): number[] => {
    const out: number[] = [];
    for (const pid of src.pids()) out.push(...(src.task(pid)?.threads() ?? []));
    return out;
  };
  const usage = (): { userNs: number; systemNs: number } => {
    const given = cg().cpuUsage?.();
    if (given !== undefined) return given;
    let userNs = 0;
    let systemNs = 0;
    for (const pid of src.pids()) {
      const t = src.task(pid)?.times(true);
      if (t === undefined) continue;
      userNs += t.utimeNs;
      systemNs += t.stimeNs;
    }
    return { userNs, systemNs };
  };
  const usec = (ns: number): number => Math.floor(ns / 1000);
  const throttling = (): ProcCgroupCpuThrottling =>
    cg().cpuThrottling?.() ?? { nrPeriods: 0, nrThrottled: 0, throttledUs: 0 };
  /** memory.events (and .local, the same for a cgroup without children). */
  const memoryEvents = (): string => {
    const e = cg().memoryEvents?.() ?? { max: 0, oom: 0, oomKill: 0 };
    return `low 0\nhigh 0\nmax ${e.max}\noom ${e.oom}\noom_kill ${e.oomKill}\noom_group_kill 0\n`;
  };

  /** `a b c\n`, or nothing at all for an empty mask (cgroup_print_ss_mask). */
  const mask = (names: readonly string[]): string => (names.length === 0 ? '' : names.join(' ') + '\n');
  /**
   * Pressure stall information (PSI): a TypeScript kernel does not measure stalls, so every
   * average and total is 0, what Linux shows for a cgroup that never waited.
   */
  const pressure = (): string =>
    'some avg10=0.00 avg60=0.00 avg300=0.00 total=0\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n';
  /** cgroup.stat: descendants, then live csses per subsystem of the hierarchy, then the dying. */
  const stat = (): string => {
    const on = cg().controllers;
    // perf_event is implicitly enabled everywhere on the default hierarchy.
    const live = (ss: string): number => (ss === 'perf_event' || on.includes(ss) ? 1 : 0);
    return (
      'nr_descendants 0\n' +
      DFL_SUBSYS.map((ss) => `nr_subsys_${ss} ${live(ss)}\n`).join('') +
      'nr_dying_descendants 0\n' +
      DFL_SUBSYS.map((ss) => `nr_dying_subsys_${ss} 0\n`).join('')
    );
  };

  // cgroup_base_files (and the PSI files) of a non-root cgroup; cgroup.kill, a write-only
  // control, is left out of a read-only view.
  const base: Record<string, TreeNode> = {
    'cgroup.controllers': cfile(() => mask(CONTROLLER_ORDER.filter((c) => cg().controllers.includes(c)))),
    'cgroup.events': cfile(() => `populated ${src.pids().length > 0 ? 1 : 0}\nfrozen 0\n`),
    'cgroup.freeze': cfile(() => '0\n', 0o644),
    'cgroup.max.depth': cfile(() => 'max\n', 0o644),
    'cgroup.max.descendants': cfile(() => 'max\n', 0o644),
    'cgroup.pressure': cfile(() => '1\n', 0o644),
    'cgroup.procs': cfile(
      () =>
        src
          .pids()
          .map((p) => `${p}\n`)
          .join(''),
      0o644,
    ),
    'cgroup.stat': cfile(stat),
    'cgroup.stat.local': cfile(() => 'frozen_usec 0\n'),
    // The view is the sandbox's cgroup with no children: nothing enabled below it.
    'cgroup.subtree_control': cfile(() => '', 0o644),
    'cgroup.threads': cfile(
      () =>
        threads()
          .map((t) => `${t}\n`)
          .join(''),
      0o644,
    ),
    'cgroup.type': cfile(() => 'domain\n', 0o644),
    'cpu.pressure': cfile(pressure, 0o644),
    // cpu.stat is always there (cgroup_base_stat); the cpu controller adds the throttling lines.
    'cpu.stat': cfile(() => {
      const u = usage();
      let out = `usage_usec ${usec(u.userNs + u.systemNs)}\nuser_usec ${usec(u.userNs)}\nsystem_usec ${usec(u.systemNs)}\nnice_usec 0\n`;
      if (enabled('cpu')) {
        const t = throttling();
        out += `nr_periods ${t.nrPeriods}\nnr_throttled ${t.nrThrottled}\nthrottled_usec ${t.throttledUs}\nnr_bursts 0\nburst_usec 0\n`;
      }
      return out;
    }),
    'cpu.stat.local': cfile(() => (enabled('cpu') ? `throttled_usec ${throttling().throttledUs}\n` : '')),
    'io.pressure': cfile(pressure, 0o644),
    'memory.pressure': cfile(pressure, 0o644),
  };
  const cpu: Record<string, TreeNode> = {
    'cpu.max': cfile(() => `${maxOr(cg().cpuQuotaUs)} ${cg().cpuPeriodUs}\n`, 0o644),
    'cpu.max.burst': cfile(() => '0\n', 0o644),
    'cpu.weight': cfile(() => '100\n', 0o644),
    'cpu.weight.nice': cfile(() => '0\n', 0o644),
  };
  const current = (): number => cg().memoryCurrent();
  const memory: Record<string, TreeNode> = {
    'memory.current': cfile(() => `${current()}\n`),
    'memory.events': cfile(memoryEvents, 0o444),
    'memory.events.local': cfile(memoryEvents, 0o444),
    'memory.high': cfile(() => 'max\n', 0o644),
    'memory.low': cfile(() => '0\n', 0o644),
    'memory.max': cfile(() => `${maxOr(cg().memoryMax, true)}\n`, 0o644),
    'memory.min': cfile(() => '0\n', 0o644),
    'memory.peak': cfile(() => `${Math.max(current(), cg().memoryPeak?.() ?? 0)}\n`, 0o644),
    'memory.swap.current': cfile(() => '0\n'),
    'memory.swap.max': cfile(() => 'max\n', 0o644),
  };
  const pids: Record<string, TreeNode> = {
    'pids.current': cfile(() => `${cg().pidsCurrent?.() ?? threads().length}\n`),
    'pids.max': cfile(() => `${maxOr(cg().pidsMax)}\n`, 0o644),
  };

  const root: DirNode = {
    kind: 'dir',
    mode: 0o755,
    entries: base,
    dynamic: {
      kind: 'file',
      // The controllers' files exist while the controller is enabled.
      list: () => [
        ...(enabled('cpu') ? Object.keys(cpu) : []),
        ...(enabled('memory') ? Object.keys(memory) : []),
        ...(enabled('pids') ? Object.keys(pids) : []),
      ],
      lookup: (name) => {
        if (enabled('cpu') && name in cpu) return cpu[name] ?? null;
        if (enabled('memory') && name in memory) return memory[name] ?? null;
        if (enabled('pids') && name in pids) return pids[name] ?? null;
        return null;
      },
    },
  };
  return root;
}
