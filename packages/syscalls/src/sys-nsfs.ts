/**
 * Namespace files (nsfs, the files /proc/<pid>/ns links lead to) as system calls use them:
 * setns(2) and the NS_GET_* ioctls that need the caller. A sandbox is one namespace of each type
 * but the network and UTS ones, each presented as the initial one, so every other namespace a
 * caller can name is one it is in: setns answers as Linux does for joining the namespace one is
 * already in (each type's install check, then nothing changes but what Linux's commit does to
 * the caller even then), and the ioctls answer as for initial namespaces. Network and UTS
 * namespaces can be made inside the sandbox (unshare, clone): setns moves the calling thread
 * into the one named.
 *
 * @module
 */
import { Capability, CloneFlag, E, OpenFlag, isError, type LinuxError } from '@tsvisor/abi';
import { NAMESPACE_INODES, capable, ptraceCredsMatch, type Task, type UtsNamespace } from '@tsvisor/kernel';
import { NS_CLONE_FLAG, NS_GET_OWNER_UID, NS_GET_USERNS, nsLocation, nsOf } from '@tsvisor/procfs';
import type { FileDescription, Location } from '@tsvisor/vfs';
import { PidfdImpl } from './sys-pidfd.js';
import { madeUtsOf } from './sys-info.js';
import { madeNetOf, type NetState } from './sys-socket-file.js';
import { ipcNow } from './sys-sysv-common.js';
import { int, partial, ptr, type SyscallArgs, type SyscallFamily, type SyscallResult } from './types.js';
import { ctxOf, fileAt, filesOf, nofile, vfsOf } from './vfs-context.js';

/**
 * The namespace types in the order validate_nsset installs them for a pidfd, which decides the
 * errno when several would fail.
 */
const INSTALL_ORDER: readonly number[] = [
  CloneFlag.CLONE_NEWUSER,
  CloneFlag.CLONE_NEWNS,
  CloneFlag.CLONE_NEWUTS,
  CloneFlag.CLONE_NEWIPC,
  CloneFlag.CLONE_NEWPID,
  CloneFlag.CLONE_NEWCGROUP,
  CloneFlag.CLONE_NEWNET,
  CloneFlag.CLONE_NEWTIME,
];
/** check_setns_flags: the types a pidfd may be joined by. */
const ALL_TYPES = INSTALL_ORDER.reduce((a, b) => a | b, 0) >>> 0;

/**
 * The ioctls of ns_ioctl that need the caller: NS_GET_USERNS opens the owning user namespace
 * (close-on-exec, O_RDONLY, as open_related_ns does), which for an initial user namespace has no
 * owner in view (ns_get_owner: EPERM); NS_GET_OWNER_UID writes the creator's uid, root for the
 * initial user namespace, and is EINVAL on other types. Undefined: not an nsfs file, or a
 * request the file answers itself.
 */
export function nsIoctl(t: Task, file: FileDescription, cmd: number, arg: bigint): SyscallResult | undefined {
  const ns = nsOf(file.location);
  if (ns === null) return undefined;
  switch (cmd) {
    case NS_GET_USERNS: {
      if (ns.type === 'user') return E.EPERM;
      const f = vfsOf(t).openLocation(ctxOf(t), nsLocation('user', NAMESPACE_INODES.user), OpenFlag.O_RDONLY);
      if (isError(f)) return f;
      const fd = filesOf(t).install(f, { limit: nofile(t), cloexec: true });
      if (isError(fd)) f.release();
      return fd;
    }
    case NS_GET_OWNER_UID:
      if (ns.type !== 'user') return E.EINVAL;
      return t.memory.writeU32(ptr(arg), 0) ?? 0;
    default:
      return undefined;
  }
}

/** Tasks sharing `t`'s fs context (CLONE_FS), `t` included: fs_struct's users. */
function fsUsers(t: Task): number {
  let n = 0;
  for (const other of t.kernel.allTasks()) if (other.state === 'alive' && other.fs === t.fs) n++;
  return n;
}

/**
 * The namespace's install op, for the namespace the caller is already in: each needs
 * CAP_SYS_ADMIN over the namespace's owner and the caller's user namespace (one and the same
 * here), and more on some types. `alone`: the mount namespace is joined by itself, so
 * mntns_install works on the caller's own fs_struct (with other types it works on a copy, which
 * nobody else uses).
 */
function installCheck(t: Task, type: number, alone: boolean): LinuxError | undefined {
  const admin = capable(t.creds, Capability.CAP_SYS_ADMIN);
  switch (type) {
    case CloneFlag.CLONE_NEWUSER:
      // userns_install: re-entering one's own user namespace would regain capabilities.
      return E.EINVAL;
    case CloneFlag.CLONE_NEWNS:
      if (!admin || !capable(t.creds, Capability.CAP_SYS_CHROOT)) return E.EPERM;
      return alone && fsUsers(t) !== 1 ? E.EINVAL : undefined;
    case CloneFlag.CLONE_NEWTIME:
      // timens_install: a process with other threads cannot change its clocks' namespace.
      if (t.group.tasks.size > 1) return E.EUSERS;
      return admin ? undefined : E.EPERM;
    default:
      return admin ? undefined : E.EPERM;
  }
}

/**
 * commit_nsset's effects: the calling thread moves to network namespace `net` (undefined: the
 * initial one) and UTS namespace `uts` when it joins them (only that thread: the nsproxy is a
 * thread's). The others remain even when the namespaces are the caller's own: joining a mount
 * namespace moves root and cwd to the namespace's root (mounts stacked on it followed, as
 * LOOKUP_DOWN does), which leaves a chroot; joining an IPC namespace applies the process's
 * SEM_UNDO adjustments (exit_sem; the undo list is the process's, so only when it is alone).
 */
function commit(t: Task, types: number, net: NetState | undefined, uts: UtsNamespace): void {
  if (types & CloneFlag.CLONE_NEWNET) t.setNetns(net);
  if (types & CloneFlag.CLONE_NEWUTS) t.setUts(uts);
  if (types & CloneFlag.CLONE_NEWNS) {
    let root: Location = vfsOf(t).rootLocation();
    for (let up = root.mount.children.get(root.inode); up !== undefined; up = up.children.get(up.root)) {
      root = { mount: up, inode: up.root };
    }
    t.fs.root = root;
    t.fs.cwd = root;
  }
  if (types & CloneFlag.CLONE_NEWIPC && t.group.tasks.size === 1) {
    t.kernel.ipc.sem.exitUndo(t.group, t.tgid, ipcNow(t));
  }
}

/**
 * implements setns(2): an nsfs file (from /proc/<pid>/ns or NS_GET_USERNS) with its own type or
 * 0, or a pidfd with a set of CLONE_NEW* types (EINVAL otherwise, EBADF for no fd or O_PATH);
 * ESRCH for a pidfd whose process has exited, EPERM without ptrace read access to it; then each
 * type's install check (EPERM without CAP_SYS_ADMIN, EINVAL for the user namespace, ...).
 */
function setns(t: Task, a: SyscallArgs): SyscallResult {
  const file = fileAt(t, int(a[0]));
  if (isError(file)) return file;
  if (file.isPath) return E.EBADF;
  const flags = int(a[1]) >>> 0;
  const ns = nsOf(file.location);
  let types: number;
  // The network namespace joined (undefined: the initial one) and the UTS namespace joined, when
  // their types are in `types`.
  let net: NetState | undefined;
  let uts = t.kernel.uts;
  if (ns !== null) {
    const type = NS_CLONE_FLAG[ns.type];
    if (flags !== 0 && flags !== type) return E.EINVAL;
    types = type;
    // An open nsfs file holds its namespace: a number not the initial one's is one still made.
    if (ns.type === 'net') net = ns.inum === NAMESPACE_INODES.net ? undefined : madeNetOf(ns.inum);
    if (ns.type === 'uts') uts = madeUtsOf(ns.inum) ?? uts;
  } else if (file.impl instanceof PidfdImpl) {
    if (flags === 0 || (flags & ~ALL_TYPES) !== 0) return E.EINVAL;
    const g = file.impl.group;
    if (g.state !== 'alive') return E.ESRCH;
    if (g !== t.group && !ptraceCredsMatch(t.creds, g.creds)) return E.EPERM;
    // validate_nsset: a leader that has exited has no namespaces left to join.
    if (g.leader.state !== 'alive') return E.ESRCH;
    types = flags;
    // A pidfd names its process's leader, whose namespaces are joined (pidfd's task).
    net = g.leader.netns as NetState | undefined;
    uts = g.leader.uts;
  } else {
    return E.EINVAL;
  }
  for (const type of INSTALL_ORDER) {
    if ((types & type) === 0) continue;
    const err = installCheck(t, type, types === CloneFlag.CLONE_NEWNS);
    if (err) return err;
  }
  commit(t, types, net, uts);
  return 0;
}

/** Joining namespaces. */
export const nsfsSyscalls: SyscallFamily = {
  setns: {
    handler: setns,
    support: partial(
      "nsfs files and pidfds; network and UTS namespaces are joined (the calling thread moves); every other namespace is the caller's own, so only the checks and the root/cwd move of a mount namespace take effect",
    ),
  },
};
