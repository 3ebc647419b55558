/**
 * The /proc tree, declared over a {@link ProcSource}: the root files, /proc/sys, and the
 * per-process and per-thread directories (fs/proc/base.c's tgid_base_stuff and tid_base_stuff).
 *
 * Access rules follow Linux: per-task files belong to the task's effective uid/gid (root when
 * the task is not dumpable); environ, maps, fd targets, exe/cwd/root and fdinfo need ptrace read
 * access to the task (same thread group, same uids and gids, or CAP_SYS_PTRACE), else EACCES.
 *
 * @module
 */

import { E, OpenFlag, isError } from '@tsvisor/abi';
import type { LinuxError } from '@tsvisor/abi';
import type { Location } from '@tsvisor/vfs';
import { byteString, dir, symlink } from './kernfs.js';
import type { DirNode, FileNode, NodeAttrs, SymlinkNode, TreeNode } from './kernfs.js';
import {
  cpuList,
  cpuSetMask,
  renderCpuinfo,
  renderFdinfo,
  renderFilesystems,
  renderLimits,
  renderLoadavg,
  renderMeminfo,
  renderMountinfo,
  renderMounts,
  renderMountstats,
  renderProcStat,
  renderStat,
  renderStatm,
  renderStatus,
  renderUptime,
  renderVersion,
} from './render.js';
import {
  renderIfInet6,
  renderNetDev,
  renderRoute,
  renderTcp,
  renderTcp6,
  renderUdp,
  renderUdp6,
  renderUnix,
  renderMib,
  renderSnmp,
  renderSnmp6,
  renderSockstat,
  renderSockstat6,
  renderIpv6Route,
  renderArp,
  renderRaw,
  renderPsched,
  renderIcmp,
  renderNetlink,
  renderPacket,
  EMPTY_SOCKSTAT,
} from './net.js';
import { NETSTAT_GROUPS } from './net-mib.js';
import { nsLocation, nsName } from './nsfs.js';
import type { NsType } from './nsfs.js';
import { sysNetTrees } from './sys-net.js';
import { netCoreTree, netIpv4Tree } from './sys-net-ipv4.js';
import { netIpv6Tree } from './sys-net-ipv6.js';
import { renderSysvMsg, renderSysvSem, renderSysvShm } from './sysvipc.js';
import type { ProcNetSource } from './net.js';
import type {
  NamespaceKind,
  ProcCpuTimes,
  ProcSource,
  ProcTask,
  ProcTunables,
  WritableTunable,
} from './source.js';
import {
  renderIo,
  renderOomScore,
  renderSched,
  renderSchedstat,
  renderSmapsRollup,
  renderSyscall,
} from './render-task.js';

/** CAP_SYS_PTRACE, CAP_SYS_ADMIN, CAP_SYS_RESOURCE (capabilities(7)). */
const CAP_SYS_PTRACE = 19n;
const CAP_SYS_ADMIN = 21n;
const CAP_SYS_RESOURCE = 24n;
const CAP_SYS_NICE = 23n;
const CAP_AUDIT_CONTROL = 30n;
/** CORENAME_MAX_SIZE: the longest core_pattern. */
const CORENAME_MAX = 128;
/** The default timer slack (50 us). */
const DEFAULT_TIMERSLACK_NS = 50000;
/** AUDIT_UID_UNSET / AUDIT_SID_UNSET: (unsigned)-1. */
const AUDIT_UNSET = 4294967295;
/** CAP_LAST_CAP of Linux 6.x (CAP_CHECKPOINT_RESTORE). */
const CAP_LAST_CAP = 40;
/** The ns/ entries in Linux's order. */
const NS_KINDS: readonly NamespaceKind[] = [
  'cgroup',
  'ipc',
  'mnt',
  'net',
  'pid',
  'pid_for_children',
  'time',
  'time_for_children',
  'user',
  'uts',
];
/** What a ns/ link points at: pid_for_children is a pid namespace, and so on. */
const NS_TYPE: Record<NamespaceKind, NsType> = {
  cgroup: 'cgroup',
  ipc: 'ipc',
  mnt: 'mnt',
  net: 'net',
  pid: 'pid',
  pid_for_children: 'pid',
  time: 'time',
  time_for_children: 'time',
  user: 'user',
  uts: 'uts',
};

/**
 * kstrtoint(s, 0): an optionally signed decimal, octal (leading 0) or hex (0x) integer, after
 * strstrip; null when malformed or out of int range.
 */
export function parseKernelInt(text: string): number | null {
  const t = text.trim();
  const m = /^([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/.exec(t);
  if (m === null) return null;
  const body = m[2] as string;
  const mag =
    body.startsWith('0x') || body.startsWith('0X')
      ? parseInt(body.slice(2), 16)
      : body.startsWith('0')
        ? parseInt(body, 8)
        : parseInt(body, 10);
  const v = m[1] === '-' ? -mag : mag;
  return v >= -0x80000000 && v <= 0x7fffffff ? v : null;
}
/** TASK_COMM_LEN - 1: the longest command name. */
const COMM_MAX = 15;
/** __NEW_UTS_LEN: the longest hostname. */
const UTS_LEN = 64;
/** The largest pid Linux accepts as a /proc name (PID_MAX_LIMIT). */
const PID_LIMIT = 4194304;

/** Linux's x86-64 defaults for the tunables a source does not give. */
const DEFAULT_TUNABLES: Required<ProcTunables> = {
  pidMax: 4194304,
  ngroupsMax: 65536,
  overcommitMemory: 0,
  maxMapCount: 65530,
  fileMax: 9223372036854775807n,
  nrOpen: 1048576,
  pipeMaxSize: 1048576,
  threadsMax: 126935,
  shmmax: 18446744073692774399n,
  shmall: 18446744073692774399n,
  mmapMinAddr: 65536,
  somaxconn: 4096,
  inotifyMaxQueuedEvents: 16384,
  inotifyMaxUserInstances: 128,
  inotifyMaxUserWatches: 8192,
  mqQueuesMax: 256,
  mqMsgMax: 10,
  mqMsgsizeMax: 8192,
  mqMsgDefault: 10,
  mqMsgsizeDefault: 8192,
  corePattern: 'core',
};

/** Character devices Linux registers whatever the hardware (drivers/char/mem.c, tty_io.c). */
const DEFAULT_DEVICES = {
  char: [
    [1, 'mem'],
    [5, '/dev/tty'],
    [5, '/dev/console'],
    [5, '/dev/ptmx'],
  ],
  block: [],
} as const;

/** /proc/devices: `%3d %s` per major, character devices then block devices. */
function renderDevices(d: {
  readonly char: readonly (readonly [number, string])[];
  readonly block: readonly (readonly [number, string])[];
}): string {
  const rows = (l: readonly (readonly [number, string])[]): string =>
    l.map(([maj, name]) => `${String(maj).padStart(3)} ${name}\n`).join('');
  return `Character devices:\n${rows(d.char)}\nBlock devices:\n${rows(d.block)}`;
}

/** A /proc name that is a pid or fd number: canonical decimal (no sign, no leading zero). */
export function parseNumber(name: string): number | null {
  if (!/^(0|[1-9][0-9]{0,9})$/.test(name)) return null;
  const n = Number(name);
  return n <= 0x7fffffff ? n : null;
}

/** Options of the /proc tree. */
export interface ProcTreeOptions {
  /** Random UUIDs for /proc/sys/kernel/random/uuid; default `crypto.randomUUID`. */
  readonly randomUuid?: () => string;
}

/** Declare the /proc tree over `src`. */
export function procTree(src: ProcSource, options: ProcTreeOptions = {}): DirNode {
  const randomUuid = options.randomUuid ?? (() => crypto.randomUUID());
  /** Tunables written through this mount when the source has no setTunable. */
  const written = new Map<keyof ProcTunables, unknown>();
  const tunable = <K extends keyof ProcTunables>(k: K): Required<ProcTunables>[K] =>
    (written.get(k) ?? src.tunables?.()[k] ?? DEFAULT_TUNABLES[k]) as Required<ProcTunables>[K];
  const setTunable = (t: WritableTunable): LinuxError | undefined => {
    if (src.setTunable !== undefined) return src.setTunable(t);
    written.set(t.key, t.value);
    return undefined;
  };

  /** __ptrace_may_access with PTRACE_MODE_READ_FSCREDS, as procfs uses it. */
  const mayAccess = (task: ProcTask): boolean => {
    const caller = src.caller();
    if (caller === null || caller.tgid === task.tgid) return true;
    const me = caller.creds;
    if ((me.capEff >> CAP_SYS_PTRACE) & 1n) return true;
    const t = task.creds();
    const sameIds =
      me.fsuid === t.ruid &&
      me.fsuid === t.euid &&
      me.fsuid === t.suid &&
      me.fsgid === t.rgid &&
      me.fsgid === t.egid &&
      me.fsgid === t.sgid;
    return sameIds && (task.dumpable?.() ?? true);
  };

  const callerHas = (cap: bigint): boolean => {
    const c = src.caller();
    return c === null || ((c.creds.capEff >> cap) & 1n) === 1n;
  };

  const ownerOf = (task: ProcTask | null): NodeAttrs => {
    if (task === null || !(task.dumpable?.() ?? true)) return { uid: 0, gid: 0 };
    const c = task.creds();
    return { uid: c.euid, gid: c.egid };
  };

  const cpuCount = (): number => Math.max(1, src.cpus().length);

  /** Everything the root-level files of the namespace count. */
  const allThreads = (): ProcTask[] => {
    const out: ProcTask[] = [];
    for (const pid of src.pids()) {
      const leader = src.task(pid);
      if (leader === null) continue;
      for (const tid of leader.threads()) {
        const t = tid === pid ? leader : src.task(tid);
        if (t !== null) out.push(t);
      }
    }
    return out;
  };

  // --- per-task files -------------------------------------------------------------------------

  /**
   * The directory of task `tid`. `tgid` is set for task/<tid> entries (the thread must belong to
   * that group); `withTasks` adds task/ (process directories only).
   */
  const taskDir = (tid: number, tgid: number | null, withTasks: boolean): DirNode => {
    const get = (): ProcTask | null => {
      const t = src.task(tid);
      if (t === null) return null;
      if (tgid !== null && t.tgid !== tgid) return null;
      return t;
    };
    const attrs = (): NodeAttrs => ownerOf(get());
    /** A file generated from the task; ESRCH once it is gone. */
    const taskFile = (
      gen: (t: ProcTask) => Uint8Array | string | LinuxError,
      mode = 0o444,
      guarded = false,
    ): FileNode => ({
      kind: 'file',
      mode,
      attrs,
      read: () => {
        const t = get();
        return t === null ? E.ESRCH : gen(t);
      },
      ...(guarded
        ? {
            open: (): LinuxError | undefined => {
              const t = get();
              if (t === null) return E.ESRCH;
              return mayAccess(t) ? undefined : E.EACCES;
            },
          }
        : {}),
    });
    /** exe, cwd, root: readable by those with ptrace access; ENOENT when unset. */
    const pathLink = (
      which: (t: ProcTask) => string | null,
      where: (t: ProcTask) => Location | null | undefined,
    ): SymlinkNode => ({
      kind: 'symlink',
      mode: 0o777,
      attrs,
      target: () => {
        const t = get();
        if (t === null) return E.ENOENT;
        if (!mayAccess(t)) return E.EACCES;
        return which(t) ?? E.ENOENT;
      },
      // proc_exe_link / proc_cwd_link / proc_root_link through proc_pid_get_link: the walk jumps
      // to the task's own location (nd_jump_link) once ptrace read access is granted.
      jump: () => {
        const t = get();
        if (t === null) return E.ENOENT;
        if (!mayAccess(t)) return E.EACCES;
        return where(t) ?? null;
      },
    });

    const comm: FileNode = {
      kind: 'file',
      mode: 0o644,
      attrs,
      read: () => {
        const t = get();
        return t === null ? E.ESRCH : t.comm() + '\n';
      },
      write: (data) => {
        const t = get();
        if (t === null) return E.ESRCH;
        const caller = src.caller();
        // comm_write: only the task's own thread group may rename it.
        if (caller !== null && caller.tgid !== t.tgid) return E.EINVAL;
        if (t.setComm === undefined) return E.EACCES;
        const err = t.setComm(byteString(data.subarray(0, COMM_MAX)));
        return err ?? data.length;
      },
    };

    const fdDir: DirNode = {
      kind: 'dir',
      mode: 0o500,
      attrs,
      valid: () => get() !== null,
      dynamic: {
        kind: 'symlink',
        list: () => get()?.fds().map(String) ?? [],
        lookup: (name) => {
          const n = parseNumber(name);
          const t = get();
          if (n === null || t === null || t.fd(n) === null) return null;
          return {
            kind: 'symlink',
            mode: 0o700,
            size: 64,
            attrs: (): NodeAttrs => {
              const fd = get()?.fd(n) ?? null;
              const o = attrs();
              if (fd === null) return o;
              const acc = fd.flags & OpenFlag.O_ACCMODE;
              const path = (fd.flags & OpenFlag.O_PATH) !== 0;
              const r = !path && (acc === OpenFlag.O_RDONLY || acc === OpenFlag.O_RDWR) ? 0o500 : 0;
              const w = !path && (acc === OpenFlag.O_WRONLY || acc === OpenFlag.O_RDWR) ? 0o300 : 0;
              return { uid: o.uid, gid: o.gid, mode: r | w };
            },
            target: () => {
              const cur = get();
              if (cur === null) return E.ENOENT;
              if (!mayAccess(cur)) return E.EACCES;
              return cur.fd(n)?.path ?? E.ENOENT;
            },
            // proc_fd_link: the open file itself, whatever its path has become.
            jump: () => {
              const cur = get();
              if (cur === null) return E.ENOENT;
              if (!mayAccess(cur)) return E.EACCES;
              const fd = cur.fd(n);
              if (fd === null) return E.ENOENT;
              return fd.location ?? null;
            },
          };
        },
        cookie: (name) => Number(name),
      },
    };

    const fdinfoDir: DirNode = {
      kind: 'dir',
      mode: 0o555,
      attrs,
      valid: () => get() !== null,
      dynamic: {
        kind: 'file',
        cookie: (name) => Number(name),
        list: () => get()?.fds().map(String) ?? [],
        lookup: (name) => {
          const n = parseNumber(name);
          const t = get();
          if (n === null || t === null || t.fd(n) === null) return null;
          return {
            kind: 'file',
            mode: 0o444,
            attrs,
            open: () => {
              const cur = get();
              if (cur === null) return E.ENOENT;
              return mayAccess(cur) ? undefined : E.EACCES;
            },
            read: () => {
              const fd = get()?.fd(n) ?? null;
              return fd === null ? E.ENOENT : renderFdinfo(fd);
            },
          };
        },
      },
    };

    const oomScoreAdj: FileNode = {
      kind: 'file',
      mode: 0o644,
      attrs,
      read: () => {
        const t = get();
        return t === null ? E.ESRCH : `${t.oomScoreAdj?.() ?? 0}\n`;
      },
      // oom_score_adj_write: at most 12 bytes parsed by kstrtoint, -1000..1000; going below the
      // default minimum (0) needs CAP_SYS_RESOURCE.
      write: (data) => {
        const t = get();
        if (t === null) return E.ESRCH;
        const v = parseKernelInt(byteString(data.subarray(0, 12)));
        if (v === null || v < -1000 || v > 1000) return E.EINVAL;
        if (v < Math.min(0, t.oomScoreAdj?.() ?? 0) && !callerHas(CAP_SYS_RESOURCE)) return E.EACCES;
        if (t.setOomScoreAdj === undefined) return E.EACCES;
        return t.setOomScoreAdj(v) ?? data.length;
      },
    };

    const timerslack: FileNode = {
      kind: 'file',
      mode: 0o666,
      attrs,
      // timerslack_ns_show: ptrace read access, or CAP_SYS_NICE for another's task.
      open: () => {
        const t = get();
        if (t === null) return E.ESRCH;
        const caller = src.caller();
        if (caller !== null && caller.tgid !== t.tgid && !mayAccess(t)) return E.EACCES;
        return undefined;
      },
      read: () => {
        const t = get();
        return t === null ? E.ESRCH : `${t.timerslackNs?.() ?? DEFAULT_TIMERSLACK_NS}\n`;
      },
      // timerslack_ns_write: kstrtoull; changing another task's slack needs CAP_SYS_NICE.
      write: (data) => {
        const t = get();
        if (t === null) return E.ESRCH;
        const text = byteString(data).trim();
        if (!/^(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/.test(text)) return E.EINVAL;
        const v = BigInt(/^0[0-7]+$/.test(text) ? '0o' + text.slice(1) : text);
        if (v > 0xffffffffffffffffn) return E.ERANGE;
        const caller = src.caller();
        if (caller !== null && caller.tgid !== t.tgid && !callerHas(CAP_SYS_NICE)) return E.EPERM;
        if (t.setTimerslackNs === undefined) return E.EPERM;
        return t.setTimerslackNs(v) ?? data.length;
      },
    };

    const loginuid: FileNode = {
      kind: 'file',
      mode: 0o644,
      attrs,
      read: () => {
        const t = get();
        return t === null ? E.ESRCH : `${t.loginuid?.() ?? AUDIT_UNSET}`;
      },
      // proc_loginuid_write: only a task's own thread group, a uint (-1 is unset), and
      // audit_set_loginuid wants CAP_AUDIT_CONTROL.
      write: (data, offset) => {
        const t = get();
        if (t === null) return E.ESRCH;
        const caller = src.caller();
        if (caller !== null && caller.tgid !== t.tgid) return E.EPERM;
        if (offset !== 0) return E.EINVAL;
        const text = byteString(data).trim();
        if (!/^[0-9]+$/.test(text) || Number(text) > AUDIT_UNSET) return E.EINVAL;
        if (!callerHas(CAP_AUDIT_CONTROL)) return E.EPERM;
        if (t.setLoginuid === undefined) return E.EPERM;
        return t.setLoginuid(Number(text)) ?? data.length;
      },
    };

    const nsDir: DirNode = {
      kind: 'dir',
      mode: 0o511,
      attrs,
      valid: () => get() !== null,
      dynamic: {
        kind: 'symlink',
        list: () => {
          const ns = get()?.namespaces?.() ?? {};
          return NS_KINDS.filter((k) => ns[k] !== undefined);
        },
        lookup: (name) => {
          const kind = NS_KINDS.find((k) => k === name);
          if (kind === undefined || get()?.namespaces?.()[kind] === undefined) return null;
          /** The namespace's number, for a caller that may look at the task. */
          const inum = (): number | LinuxError => {
            const t = get();
            if (t === null) return E.ENOENT;
            if (!mayAccess(t)) return E.EACCES;
            return t.namespaces?.()[kind] ?? E.ENOENT;
          };
          return {
            kind: 'symlink',
            mode: 0o777,
            attrs,
            target: () => {
              const n = inum();
              return isError(n) ? n : nsName(NS_TYPE[kind], n);
            },
            // proc_ns_get_link: the walk jumps to the namespace's nsfs inode, so open and stat
            // reach a file whose inode number is the one in the link text.
            jump: () => {
              const n = inum();
              return isError(n) ? n : nsLocation(NS_TYPE[kind], n);
            },
          };
        },
      },
    };

    /** uid_map / gid_map: `%10u %10u %10u` per extent; the map is already set (EPERM). */
    const idMap = (
      which: (t: ProcTask) => readonly (readonly [number, number, number])[] | undefined,
    ): FileNode => ({
      ...taskFile(
        (t) =>
          (which(t) ?? [[0, 0, 4294967295]])
            .map(
              ([a, b, c]) =>
                `${String(a).padStart(10)} ${String(b).padStart(10)} ${String(c).padStart(10)}\n`,
            )
            .join(''),
        0o644,
      ),
      write: () => E.EPERM,
    });

    const setgroups: FileNode = {
      ...taskFile((t) => ((t.setgroupsAllowed?.() ?? true) ? 'allow\n' : 'deny\n'), 0o644),
      // proc_setgroups_write: "allow" or "deny" (EINVAL otherwise); once the gid map is set, EPERM.
      write: (data) => {
        const word = byteString(data).trim();
        return word === 'allow' || word === 'deny' ? E.EPERM : E.EINVAL;
      },
    };

    /** net/: the files of the task's network namespace, generated from the stack on each read. */
    const netFile = (render: (n: ProcNetSource) => string): FileNode =>
      taskFile((t) => {
        const n = t.net?.() ?? null;
        return n === null ? E.ENOENT : render(n);
      });
    const netDir: DirNode = {
      kind: 'dir',
      mode: 0o555,
      attrs,
      valid: () => (get()?.net?.() ?? null) !== null,
      entries: {
        // No anycast addresses: netstack does not forward, so it joins no subnet-router anycast.
        anycast6: netFile(() => ''),
        arp: netFile((n) => renderArp(n.arp?.() ?? [])),
        dev: netFile((n) => renderNetDev(n.devices())),
        icmp: netFile((n) => renderIcmp(n.icmp?.() ?? [])),
        icmp6: netFile((n) => renderUdp6(n.icmp6?.() ?? [])),
        if_inet6: netFile((n) => renderIfInet6(n.inet6Addresses())),
        ipv6_route: netFile((n) => renderIpv6Route(n.ipv6Routes?.() ?? [])),
        netlink: netFile((n) => renderNetlink(n.netlink?.() ?? [])),
        netstat: netFile((n) => renderMib(NETSTAT_GROUPS, n.mib?.() ?? {})),
        packet: netFile((n) => renderPacket(n.packet?.() ?? [])),
        psched: netFile(() => renderPsched()),
        raw: netFile((n) => renderRaw(4, n.raw?.() ?? [])),
        raw6: netFile((n) => renderRaw(6, n.raw6?.() ?? [])),
        route: netFile((n) => renderRoute(n.routes())),
        snmp: netFile((n) => renderSnmp(n.mib?.() ?? {})),
        snmp6: netFile((n) => renderSnmp6(n.mib?.() ?? {})),
        sockstat: netFile((n) => renderSockstat(n.sockstat?.() ?? EMPTY_SOCKSTAT)),
        sockstat6: netFile((n) => renderSockstat6(n.sockstat?.() ?? EMPTY_SOCKSTAT)),
        tcp: netFile((n) => renderTcp(n.tcp())),
        tcp6: netFile((n) => renderTcp6(n.tcp6())),
        udp: netFile((n) => renderUdp(n.udp())),
        udp6: netFile((n) => renderUdp6(n.udp6())),
        udplite: netFile((n) => renderUdp(n.udplite?.() ?? [])),
        udplite6: netFile((n) => renderUdp6(n.udplite6?.() ?? [])),
        unix: netFile((n) => renderUnix(n.unix())),
      },
    };

    /**
     * attr/: the LSM attributes. With no LSM loaded (as on this kernel), security_getprocattr and
     * security_setprocattr answer EINVAL: the files open, and reads and writes fail.
     */
    const lsmAttr = (mode: number): FileNode => ({ kind: 'file', mode, attrs, read: () => E.EINVAL });
    const attrDir: DirNode = {
      kind: 'dir',
      mode: 0o555,
      attrs,
      valid: () => get() !== null,
      entries: {
        current: lsmAttr(0o666),
        exec: lsmAttr(0o666),
        fscreate: lsmAttr(0o666),
        keycreate: lsmAttr(0o666),
        prev: lsmAttr(0o444),
        sockcreate: lsmAttr(0o666),
      },
    };

    const entries: Record<string, TreeNode> = {
      attr: attrDir,
      auxv: taskFile((t) => t.auxv?.() ?? new Uint8Array(0), 0o400, true),
      // Without a cgroup hierarchy the task sits at the root of a cgroup v2 namespace.
      cgroup: taskFile(() => '0::/\n'),
      cmdline: taskFile((t) => t.cmdline()),
      comm,
      cwd: pathLink(
        (t) => t.cwd(),
        (t) => t.cwdLocation?.(),
      ),
      environ: taskFile((t) => t.environ(), 0o400, true),
      exe: pathLink(
        (t) => t.exe(),
        (t) => t.exeLocation?.(),
      ),
      fd: fdDir,
      fdinfo: fdinfoDir,
      gid_map: idMap((t) => t.gidMap?.()),
      io: taskFile((t) => renderIo(t.io?.(tgid === null)), 0o400, true),
      limits: taskFile((t) => renderLimits(t.rlimits())),
      loginuid,
      maps: taskFile(
        (t) =>
          t
            .maps()
            .map((l) => l + '\n')
            .join(''),
        0o444,
        true,
      ),
      mountinfo: taskFile((t) => renderMountinfo(t.mounts())),
      mounts: taskFile((t) => renderMounts(t.mounts())),
      mountstats: taskFile((t) => renderMountstats(t.mounts()), 0o400),
      net: netDir,
      ns: nsDir,
      oom_score: taskFile((t) => renderOomScore(t, src.meminfo())),
      oom_score_adj: oomScoreAdj,
      personality: taskFile(
        (t) => `${(t.personality?.() ?? 0).toString(16).padStart(8, '0')}\n`,
        0o400,
        true,
      ),
      root: pathLink(
        (t) => t.root(),
        (t) => t.rootLocation?.(),
      ),
      setgroups,
      stat: taskFile((t) => renderStat(t, mayAccess(t), tgid === null)),
      sched: taskFile((t) => renderSched(t), 0o644),
      schedstat: taskFile((t) => renderSchedstat(t)),
      sessionid: taskFile((t) => `${t.sessionid?.() ?? AUDIT_UNSET}`),
      smaps: taskFile((t) => t.smaps?.() ?? '', 0o444, true),
      smaps_rollup: taskFile(
        (t) => {
          const text = t.smaps?.() ?? '';
          return typeof text === 'string' ? renderSmapsRollup(text) : text;
        },
        0o444,
        true,
      ),
      timerslack_ns: timerslack,
      statm: taskFile((t) => renderStatm(t)),
      // The kernel stack: only CAP_SYS_ADMIN may read it, and a TypeScript kernel has none to show.
      stack: taskFile(() => (callerHas(CAP_SYS_ADMIN) ? '' : E.EACCES), 0o400, true),
      status: taskFile((t) => renderStatus(t, cpuCount())),
      uid_map: idMap((t) => t.uidMap?.()),
      // No kernel symbols: Linux prints 0 when it cannot name the wait channel.
      wchan: taskFile(() => '0'),
    };
    if ((src.task(tid)?.syscall?.() ?? null) !== null)
      entries['syscall'] = taskFile(
        (t) => {
          const sc = t.syscall?.() ?? null;
          return sc === null ? E.ESRCH : renderSyscall(sc);
        },
        0o400,
        true,
      );
    if (withTasks) {
      entries['task'] = {
        kind: 'dir',
        mode: 0o555,
        attrs,
        valid: () => get() !== null,
        dynamic: {
          kind: 'dir',
          list: () => get()?.threads().map(String) ?? [],
          cookie: (name) => Number(name),
          lookup: (name) => {
            const n = parseNumber(name);
            const t = get();
            if (n === null || t === null || !t.threads().includes(n)) return null;
            return taskDir(n, t.tgid, false);
          },
        },
      };
    }
    return {
      kind: 'dir',
      mode: 0o555,
      attrs,
      valid: () => get() !== null,
      entries,
      ...(withTasks ? { tgid: tid } : {}),
    };
  };

  // --- /proc/sys ------------------------------------------------------------------------------

  const readOnly = (read: () => string): FileNode => ({ kind: 'file', mode: 0o444, read, strictWrite: true });

  /** A string sysctl (hostname, domainname, core_pattern): proc_dostring, at most `max` bytes. */
  const utsString = (
    get: () => string,
    set: (v: string) => LinuxError | undefined,
    max = UTS_LEN,
  ): FileNode => ({
    kind: 'file',
    mode: 0o644,
    strictWrite: true,
    read: () => get() + '\n',
    // proc_dostring with sysctl_writes_strict: a write at offset 0 replaces the value, one inside
    // it continues from there, one past its end is ignored; the value stops at a newline or NUL.
    write: (data, offset) => {
      const cur = get();
      if (offset > cur.length) return data.length;
      let s = byteString(data);
      const cut = s.search(/[\n\0]/);
      if (cut >= 0) s = s.slice(0, cut);
      const next = (cur.slice(0, offset) + s).slice(0, max);
      return set(next) ?? data.length;
    },
  });
  const hostname = utsString(
    () => src.hostname(),
    (v) => src.setHostname(v),
  );
  const domainname = utsString(
    () => src.domainname(),
    (v) => src.setDomainname(v),
  );

  /**
   * An int sysctl written with proc_dointvec_minmax (overcommit_memory) or a converter
   * (pipe-max-size): one optionally signed decimal with surrounding blanks, else EINVAL; a
   * write past offset 0 is ignored (sysctl_writes_strict).
   */
  const intTunable = (read: () => string, store: (v: number) => LinuxError | undefined): FileNode => ({
    kind: 'file',
    mode: 0o644,
    strictWrite: true,
    read,
    write: (data, offset) => {
      if (offset !== 0) return data.length;
      const text = byteString(data);
      const m = /^[ \t\n]*([+-]?[0-9]+)[ \t\n\0]*$/.exec(text);
      if (m === null) return E.EINVAL;
      const v = Number(m[1]);
      if (!Number.isSafeInteger(v)) return E.EINVAL;
      return store(v) ?? data.length;
    },
  });
  const overcommit = intTunable(
    () => `${tunable('overcommitMemory')}\n`,
    (v) => (v < 0 || v > 2 ? E.EINVAL : setTunable({ key: 'overcommitMemory', value: v })),
  );
  // proc_dopipe_max_size: round_pipe_size (at least a page, a power of two, at most 2^31).
  const pipeMaxSize = intTunable(
    () => `${tunable('pipeMaxSize')}\n`,
    (v) => {
      if (v < 0 || v > 2 ** 31) return E.EINVAL;
      let size = 4096;
      while (size < v) size *= 2;
      return setTunable({ key: 'pipeMaxSize', value: size });
    },
  );
  const corePattern = utsString(
    () => tunable('corePattern'),
    (v) => setTunable({ key: 'corePattern', value: v }),
    CORENAME_MAX - 1,
  );

  /** The reader's network namespace, else the first process's (as sysfs's net views). */
  const readerNet = (): ProcNetSource | null => {
    const c = src.caller();
    return src.task(c?.tid ?? src.pids()[0] ?? 0)?.net?.() ?? null;
  };
  const sys = dir({
    fs: dir({
      'file-max': readOnly(() => `${tunable('fileMax')}\n`),
      inotify: dir({
        max_queued_events: readOnly(() => `${tunable('inotifyMaxQueuedEvents')}\n`),
        max_user_instances: readOnly(() => `${tunable('inotifyMaxUserInstances')}\n`),
        max_user_watches: readOnly(() => `${tunable('inotifyMaxUserWatches')}\n`),
      }),
      mqueue: dir({
        msg_default: readOnly(() => `${tunable('mqMsgDefault')}\n`),
        msg_max: readOnly(() => `${tunable('mqMsgMax')}\n`),
        msgsize_default: readOnly(() => `${tunable('mqMsgsizeDefault')}\n`),
        msgsize_max: readOnly(() => `${tunable('mqMsgsizeMax')}\n`),
        queues_max: readOnly(() => `${tunable('mqQueuesMax')}\n`),
      }),
      nr_open: readOnly(() => `${tunable('nrOpen')}\n`),
      'pipe-max-size': pipeMaxSize,
    }),
    kernel: dir({
      cap_last_cap: readOnly(() => `${CAP_LAST_CAP}\n`),
      core_pattern: corePattern,
      domainname,
      hostname,
      ngroups_max: readOnly(() => `${tunable('ngroupsMax')}\n`),
      osrelease: readOnly(() => src.kernel().osrelease + '\n'),
      ostype: readOnly(() => src.kernel().ostype + '\n'),
      pid_max: readOnly(() => `${tunable('pidMax')}\n`),
      random: dir({
        boot_id: readOnly(() => src.bootId() + '\n'),
        uuid: readOnly(() => randomUuid() + '\n'),
      }),
      shmall: readOnly(() => `${tunable('shmall')}\n`),
      shmmax: readOnly(() => `${tunable('shmmax')}\n`),
      'threads-max': readOnly(() => `${tunable('threadsMax')}\n`),
      version: readOnly(() => src.kernel().version + '\n'),
    }),
    net: dir({
      core: netCoreTree(readerNet, () => tunable('somaxconn')),
      ipv4: netIpv4Tree(readerNet),
      ipv6: netIpv6Tree(readerNet),
    }),
    vm: dir({
      max_map_count: readOnly(() => `${tunable('maxMapCount')}\n`),
      mmap_min_addr: readOnly(() => `${tunable('mmapMinAddr')}\n`),
      overcommit_memory: overcommit,
    }),
  });

  // --- root files -----------------------------------------------------------------------------

  /** A root-level /proc file: writes give EIO (proc_reg_write without a proc_write). */
  const rootFile = (read: () => string): FileNode => ({ kind: 'file', mode: 0o444, read, writeError: E.EIO });

  const cpuTimes = (): readonly ProcCpuTimes[] => {
    const given = src.cpuTimes?.();
    if (given !== undefined) return given;
    const n = cpuCount();
    const idle = src.idleNs() / n;
    return Array.from({ length: n }, () => ({
      userNs: 0,
      niceNs: 0,
      systemNs: 0,
      idleNs: idle,
      iowaitNs: 0,
      irqNs: 0,
      softirqNs: 0,
    }));
  };

  const selfLink = symlink(() => {
    const c = src.caller();
    return c === null ? E.ENOENT : String(c.tgid);
  });
  const threadSelfLink = symlink(() => {
    const c = src.caller();
    return c === null ? E.ENOENT : `${c.tgid}/task/${c.tid}`;
  });

  const kmsg = src.kmsg?.() ?? null;
  const root: DirNode = {
    kind: 'dir',
    mode: 0o555,
    entries: {
      sys,
      cmdline: rootFile(() => `${src.bootCmdline?.() ?? ''}\n`),
      cpuinfo: rootFile(() => renderCpuinfo(src.cpus())),
      devices: rootFile(() => renderDevices(src.devices?.() ?? DEFAULT_DEVICES)),
      ...(kmsg === null
        ? {}
        : {
            kmsg: {
              kind: 'file',
              mode: 0o400,
              writeError: E.EIO,
              openFile: (flags: number) => kmsg.open(flags),
            } satisfies FileNode,
          }),
      filesystems: rootFile(() => renderFilesystems(src.filesystems())),
      loadavg: rootFile(() => {
        const threads = allThreads();
        const running = threads.filter((t) => t.state() === 'R').length;
        return renderLoadavg(src.loadavg(), running, threads.length, src.lastPid());
      }),
      meminfo: rootFile(() => renderMeminfo(src.meminfo())),
      mounts: symlink(() => 'self/mounts'),
      net: symlink(() => 'self/net'),
      // No block devices and no swap in a sandbox: the headers alone, as Linux prints them then.
      partitions: rootFile(() => 'major minor  #blocks  name\n\n'),
      stat: rootFile(() => {
        const threads = allThreads();
        return renderProcStat({
          cpus: cpuTimes(),
          ctxt: src.contextSwitches?.() ?? 0,
          btime: src.bootTimeSec(),
          processes: src.forks?.() ?? src.lastPid(),
          running: threads.filter((t) => t.state() === 'R').length,
          blocked: threads.filter((t) => t.state() === 'D').length,
        });
      }),
      swaps: rootFile(() => 'Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n'),
      sysvipc: dir({
        shm: rootFile(() => renderSysvShm(src.sysvipc?.().shm ?? [])),
        sem: rootFile(() => renderSysvSem(src.sysvipc?.().sem ?? [])),
        msg: rootFile(() => renderSysvMsg(src.sysvipc?.().msg ?? [])),
      }),
      uptime: rootFile(() => renderUptime(src.uptimeNs(), src.idleNs())),
      version: rootFile(() => renderVersion(src.kernel())),
      self: selfLink,
      'thread-self': threadSelfLink,
    },
    dynamic: {
      kind: 'dir',
      list: () => src.pids().map(String),
      // proc_pid_readdir: a pid's offset is pid + TGID_OFFSET, stable while others come and go.
      cookie: (name) => Number(name),
      // Any thread id resolves (Linux hides non-leader tids from the listing but finds them).
      lookup: (name) => {
        const n = parseNumber(name);
        if (n === null || n === 0 || n >= PID_LIMIT) return null;
        const t = src.task(n);
        if (t === null) return null;
        return taskDir(n, null, true);
      },
    },
  };
  return root;
}

/**
 * Declare the minimal /sys tree over `src`: /sys/devices/system/cpu/{online,possible,present,
 * cpuN/topology}, /sys/kernel/mm/transparent_hugepage/{enabled,defrag}, /sys/class/net/<if>
 * (symlinks to /sys/devices/virtual/net/<if>, the devices of the reader's network namespace) and
 * the empty mount point /sys/fs/cgroup.
 */
export function sysTree(src: ProcSource): DirNode {
  /** A sysfs attribute: 0444, st_size 4096, no write (open for writing: EACCES). */
  const attr = (read: () => string): FileNode => ({
    kind: 'file',
    mode: 0o444,
    size: 4096,
    read,
    strictWrite: true,
  });
  const count = (): number => Math.max(1, src.cpus().length);
  const all = (): number[] => Array.from({ length: count() }, (_, i) => i);
  const cpus = (): string => cpuList(all()) + '\n';
  /** A topology pair: `name` (bitmap) and `name_list` (list) of the set `set()`. */
  const pair = (name: string, set: () => number[]): Record<string, FileNode> => ({
    [name]: attr(() => cpuSetMask(set(), count()) + '\n'),
    [`${name}_list`]: attr(() => cpuList(set()) + '\n'),
  });
  /**
   * cpuN: one package with one die, one thread per core (the sandbox shows its CPUs as plain
   * cores). cpu0 has no `online` switch, as on x86.
   */
  const cpuDir = (n: number): DirNode =>
    dir(
      {
        ...(n === 0 ? {} : { online: attr(() => '1\n') }),
        topology: dir(
          {
            ...pair('core_cpus', () => [n]),
            core_id: attr(() => `${n}\n`),
            ...pair('core_siblings', all),
            ...pair('die_cpus', all),
            die_id: attr(() => '0\n'),
            ...pair('package_cpus', all),
            physical_package_id: attr(() => '0\n'),
            ...pair('thread_siblings', () => [n]),
          },
          0o755,
        ),
      },
      0o755,
    );
  // The network namespace sysfs shows: the reader's, else the first process's.
  const net = (): ProcNetSource | null => {
    const c = src.caller();
    const t = src.task(c?.tid ?? src.pids()[0] ?? 0);
    return t?.net?.() ?? null;
  };
  const { classNet, virtualNet } = sysNetTrees(net);
  return dir(
    {
      class: dir({ net: classNet }, 0o755),
      // The mount point of the cgroup v2 view (createCgroupfs), empty as on Linux before the mount.
      fs: dir({ cgroup: dir({}, 0o755) }, 0o755),
      kernel: dir(
        {
          mm: dir(
            {
              // mm maps no huge pages: THP is off, which the kernel must report as such.
              transparent_hugepage: dir(
                {
                  enabled: attr(() => 'always madvise [never]\n'),
                  defrag: attr(() => 'always defer defer+madvise madvise [never]\n'),
                },
                0o755,
              ),
            },
            0o755,
          ),
        },
        0o755,
      ),
      devices: dir(
        {
          system: dir(
            {
              cpu: {
                kind: 'dir',
                mode: 0o755,
                entries: { online: attr(cpus), possible: attr(cpus), present: attr(cpus) },
                dynamic: {
                  kind: 'dir',
                  list: () => all().map((i) => `cpu${i}`),
                  lookup: (name) => {
                    const m = /^cpu(0|[1-9][0-9]*)$/.exec(name);
                    const n = m === null ? -1 : Number(m[1]);
                    return n >= 0 && n < count() ? cpuDir(n) : null;
                  },
                },
              },
            },
            0o755,
          ),
          virtual: dir({ net: virtualNet }, 0o755),
        },
        0o755,
      ),
    },
    0o555,
  );
}
