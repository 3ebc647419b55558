/**
 * @tsvisor/procfs: /proc and a minimal /sys, declared as trees of (name, mode, generator) nodes
 * over a {@link ProcSource} that the kernel implements.
 *
 * - {@link createProcfs} / {@link createSysfs}: filesystems to mount into a `@tsvisor/vfs` Vfs.
 * - {@link ProcSource} and the types it returns: what the kernel must provide.
 * - {@link FixtureProcSource}: a fake kernel with a few processes, for tests and simulations.
 * - {@link KernFs} and the node types: the kernfs-like helper, to declare other pseudo
 *   filesystems the same way.
 * - The `render*` functions: Linux's formats of each file, from plain values.
 *
 * Nothing throws for bad input: lookups of unknown names give ENOENT, writes to read-only files
 * give the errno Linux gives (EINVAL, EIO or EACCES).
 *
 * @packageDocumentation
 */

export type {
  ProcSource,
  ProcTask,
  ProcCaller,
  ProcCreds,
  ProcFd,
  ProcIo,
  ProcSyscall,
  ProcKmsg,
  WritableTunable,
  ProcMemory,
  ProcLayout,
  ProcTimes,
  ProcSched,
  ProcSignals,
  ProcMount,
  ProcMeminfo,
  ProcKernelInfo,
  ProcCpu,
  ProcCpuTimes,
  ProcTunables,
  TaskState,
  ProcRlimit,
  NamespaceKind,
  ProcCgroup,
  ProcCgroupCpuUsage,
  ProcCgroupCpuThrottling,
  ProcCgroupMemoryEvents,
} from './source.js';
export {
  createProcfs,
  createSysfs,
  createCgroupfs,
  PROC_SUPER_MAGIC,
  SYSFS_MAGIC,
  CGROUP2_SUPER_MAGIC,
} from './procfs.js';
export { cgroupTree } from './cgroup-tree.js';
export { procTree, sysTree, parseNumber, parseKernelInt } from './proc-tree.js';
export type { ProcTreeOptions } from './proc-tree.js';
export { KernFs, KernDir, file, symlink, dir, bytesOf, byteString } from './kernfs.js';
export type { TreeNode, FileNode, SymlinkNode, DirNode, DynamicEntries, NodeAttrs } from './kernfs.js';
export {
  nsAllocInum,
  nsForget,
  nsLocation,
  nsOf,
  nsfsName,
  NS_CLONE_FLAG,
  NS_GET_USERNS,
  NS_GET_PARENT,
  NS_GET_NSTYPE,
  NS_GET_OWNER_UID,
} from './nsfs.js';
export type { NsHolder, NsType } from './nsfs.js';
export {
  renderStatus,
  renderStat,
  renderStatm,
  renderFdinfo,
  renderMountinfo,
  renderMounts,
  renderMountstats,
  renderMeminfo,
  renderCpuinfo,
  renderUptime,
  renderLoadavg,
  renderVersion,
  renderProcStat,
  renderFilesystems,
  renderLimits,
  escapeComm,
  mangle,
  cpuList,
  cpuMask,
  ticks,
  USER_HZ,
  PAGE_SIZE,
} from './render.js';
export type { StatCounters } from './render.js';
export {
  renderSysvShm,
  renderSysvSem,
  renderSysvMsg,
  type ProcSysvIpc,
  type ProcIpcPerm,
  type ProcShm,
  type ProcSem,
  type ProcMsg,
} from './sysvipc.js';
export {
  renderIo,
  renderOomScore,
  renderSched,
  renderSchedstat,
  renderSmapsRollup,
  renderSyscall,
} from './render-task.js';
export { vfsMounts } from './vfs-mounts.js';
export type { MountDescription } from './vfs-mounts.js';
export {
  FixtureProcSource,
  FixtureTask,
  fixtureCreds,
  fixtureMemory,
  fixtureRlimits,
  fixtureNet,
} from './fixture.js';
export {
  renderNetDev,
  renderTcp,
  renderTcp6,
  renderUdp,
  renderUdp6,
  renderUnix,
  renderIfInet6,
  renderRoute,
  renderMib,
  renderSnmp,
  renderSnmp6,
  renderSockstat,
  renderSockstat6,
  renderIpv6Route,
  renderArp,
  renderRawHeader,
  renderRaw,
  renderPsched,
  renderIcmp,
  renderNetlink,
  renderPacketHeader,
  renderPacket,
  EMPTY_SOCKSTAT,
} from './net.js';
export { SNMP_GROUPS, NETSTAT_GROUPS, SNMP6_GROUPS } from './net-mib.js';
export { DEFAULT_NET_SYSCTL } from './sys-net-ipv4.js';
export type { ProcNetIpv6Conf, ProcNetIpv6Sysctl, ProcNetIpv6SysctlWrite } from './sys-net-ipv6.js';
export type {
  ProcNetSource,
  ProcNetDevice,
  ProcNetDeviceStats,
  ProcInet6Address,
  ProcSockAddr,
  ProcInetSocket,
  ProcUnixSocket,
  ProcRoute,
  ProcNetSysctl,
  ProcNetSysctlWrite,
  ProcSockstat,
  ProcIpv6Route,
  ProcArpEntry,
  ProcNetlinkSocket,
  ProcPacketSocket,
} from './net.js';
export type { FixtureTaskData, FixtureTaskInit } from './fixture.js';
