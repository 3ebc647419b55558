/**
 * mount(2) and umount2(2) over the sandbox's single mount namespace, as Linux does them for a
 * task with CAP_SYS_ADMIN in it (fs/namespace.c path_mount, path_umount): new mounts of the
 * filesystem types the sandbox offers, bind mounts of directories and of files (recursive too),
 * remounts that change the per-mount flags, MS_MOVE, and mount propagation (shared, slave,
 * private, unbindable; mounts and unmounts reach peers and slaves). The tree and its propagation
 * rules are the VFS's own ({@link Mount}, `attachMount`, `changePropagation`,
 * `umountPropagation`); this file checks the arguments and permissions and calls them.
 *
 * New filesystems come from factories the assembler of the sandbox registers with
 * {@link configureMounts} (procfs, sysfs, devpts and cgroup2 need the kernel's /proc source);
 * tmpfs is always available. Host directories are never reachable: there is no factory for
 * them, and a bind mount's source is a path in the sandbox's own view.
 *
 * @module
 */
import { Capability, At, E, MountFlag, UmountFlag, isError, type LinuxError } from '@tsvisor/abi';
import { capable, type Kernel, type Task } from '@tsvisor/kernel';
import {
  MS_NODEV,
  MS_NOEXEC,
  MS_NOSUID,
  MS_RDONLY,
  Mount,
  S_IFBLK,
  S_IFMT,
  Tmpfs,
  attachMount,
  changePropagation,
  copyForBind,
  fsnotifyUnmount,
  mountTree,
  umountMounts,
  umountPropagation,
  parseTmpfsMountData,
  type FileDescription,
  type FilesystemImpl,
  type HostMemoryProvider,
  type Location,
  type PropagationType,
  type Vfs,
} from '@tsvisor/vfs';
import { ctxOf, dirOf, filesOf, pathArg, vfsOf } from './vfs-context.js';
import { int, partial, ptr, type SyscallArgs, type SyscallFamily, type SyscallResult } from './types.js';

const {
  MS_REMOUNT,
  MS_BIND,
  MS_MOVE,
  MS_REC,
  MS_SILENT,
  MS_NOATIME,
  MS_NODIRATIME,
  MS_RELATIME,
  MS_STRICTATIME,
  MS_SHARED,
  MS_PRIVATE,
  MS_SLAVE,
  MS_UNBINDABLE,
  MS_NOUSER,
  MS_MGC_VAL,
  MS_MGC_MSK,
} = MountFlag;
const { MNT_FORCE, MNT_DETACH, MNT_EXPIRE, UMOUNT_NOFOLLOW } = UmountFlag;

/** Linux copies type, source and data strings up to one page. */
const PAGE = 4096;
const AT_FDCWD = -100;

/**
 * The per-mount flags a {@link Mount} records: the four the VFS enforces, and the atime policy
 * that mountinfo shows (a mount without MS_NOATIME or MS_STRICTATIME is relatime, Linux's default).
 */
const MOUNT_FLAGS =
  MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME | MS_STRICTATIME;

/**
 * Makes a new filesystem for `mount -t TYPE SOURCE DIR -o DATA`. `data` is the option string
 * after the generic options (ro, rw, sync, ...) were taken out. Returns EINVAL for options the
 * filesystem rejects.
 */
export type FilesystemFactory = (source: string | null, data: string) => FilesystemImpl | LinuxError;

/** What {@link configureMounts} gives a kernel. */
export interface MountSetup {
  /** Filesystem types mount(2) may create besides tmpfs (`proc`, `sysfs`, `devpts`, `cgroup2`). */
  readonly filesystems?: Readonly<Record<string, FilesystemFactory>>;
  /** Host memory for new tmpfs mounts, so their files can be mapped MAP_SHARED. */
  readonly hostMemory?: HostMemoryProvider;
}

const setups = new WeakMap<Kernel, MountSetup>();

/**
 * Registers the filesystem types mount(2) may create in `kernel`'s sandbox and the host memory
 * new tmpfs mounts get. Without it only tmpfs can be mounted (without host memory).
 *
 * @example
 * ```ts
 * configureMounts(kernel, { filesystems: { proc: () => createProcfs(source) } });
 * ```
 */
export function configureMounts(kernel: Kernel, setup: MountSetup): void {
  setups.set(kernel, setup);
}

/** Block-device filesystems: Linux knows them, but the sandbox has no block devices. */
const BLOCK_FS = new Set(['ext2', 'ext3', 'ext4', 'xfs', 'btrfs', 'vfat', 'msdos', 'iso9660', 'squashfs']);

/** Options every filesystem accepts in the data string (vfs_parse_sb_flag), mapped to mount flags. */
const SB_OPTIONS: Readonly<Record<string, number>> = {
  ro: MS_RDONLY,
  rw: 0,
  sync: 0,
  async: 0,
  dirsync: 0,
  lazytime: 0,
  nolazytime: 0,
  mand: 0,
  nomand: 0,
};

/** Options each pseudo filesystem's parser accepts (anything else is EINVAL). */
const KNOWN_OPTIONS: Readonly<Record<string, ReadonlySet<string> | null>> = {
  proc: new Set(['hidepid', 'gid', 'subset']),
  devpts: new Set(['uid', 'gid', 'mode', 'ptmxmode', 'newinstance', 'max']),
  cgroup2: new Set([
    'nsdelegate',
    'favordynmods',
    'memory_localevents',
    'memory_recursiveprot',
    'memory_hugetlb_accounting',
    'pids_localevents',
  ]),
  // sysfs takes no options and ignores what it is given.
  sysfs: null,
};

/** Splits the generic options out of a data string: [rdonly flag, the filesystem's own options]. */
function splitData(data: string): [number, string[]] {
  let ro = 0;
  const own: string[] = [];
  for (const item of data.split(',')) {
    if (item === '') continue;
    const f = SB_OPTIONS[item];
    if (f === undefined) own.push(item);
    else if (item === 'ro') ro = MS_RDONLY;
    else if (item === 'rw') ro = 0;
  }
  return [ro, own];
}

/** Reads a string argument (type or source): NULL is allowed, longer than a page is EINVAL. */
function stringArg(t: Task, addr: number): string | null | LinuxError {
  if (addr === 0) return null;
  const b = t.memory.readCStringBytes(addr, PAGE);
  if (isError(b)) return b === E.ENAMETOOLONG ? E.EINVAL : b;
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
}

/**
 * Reads the data argument as copy_mount_options does: up to a page, as much as is readable (a
 * fault after the first byte just ends it), then up to the first NUL.
 */
function dataArg(t: Task, addr: number): string | null | LinuxError {
  if (addr === 0) return null;
  const first = PAGE - (addr % PAGE);
  const head = t.memory.read(addr, first);
  if (isError(head)) return E.EFAULT;
  let bytes = head;
  if (first < PAGE) {
    const tail = t.memory.read(addr + first, PAGE - first);
    if (!isError(tail)) {
      bytes = new Uint8Array(PAGE);
      bytes.set(head);
      bytes.set(tail, first);
    }
  }
  const nul = bytes.indexOf(0);
  const end = nul < 0 ? Math.min(bytes.length, PAGE - 1) : nul;
  return Buffer.from(bytes.buffer, bytes.byteOffset, end).toString('latin1');
}

/** The per-mount flags of mount(2)'s `flags` (path_mount's mnt_flags), as {@link Mount.flags} bits. */
function mountFlagsOf(flags: number): number {
  let f = flags & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME);
  if ((flags & MS_STRICTATIME) !== 0) f = (f & ~MS_NOATIME) | MS_STRICTATIME;
  return f;
}

const ATIME_MASK = MS_NOATIME | MS_NODIRATIME | MS_STRICTATIME;

/** True when `m` is attached to the namespace (reachable from its root mount). */
function attached(vfs: Vfs, m: Mount): boolean {
  let cur: Mount | null = m;
  while (cur !== null) {
    if (cur === vfs.rootMount) return true;
    const p: Mount | null = cur.parent;
    if (p === null || cur.mountpoint === null || p.children.get(cur.mountpoint) !== cur) return false;
    cur = p;
  }
  return false;
}

/** True when inode `x` is `dir` or below it in its filesystem. */
function isBelow(x: Location['inode'], dir: Location['inode']): boolean {
  let cur: Location['inode'] | null = x;
  for (let i = 0; cur !== null && i < 4096; i++) {
    if (cur === dir) return true;
    const p: Location['inode'] | null = cur.parent;
    if (p === cur) break;
    cur = p;
  }
  return false;
}

/** True when some task uses a mount of `mounts`: cwd, root or an open file. */
function busy(t: Task, mounts: readonly Mount[]): boolean {
  const set = new Set(mounts);
  for (const task of t.kernel.allTasks()) {
    const cwd = task.fs.cwd as Location | undefined;
    const root = task.fs.root as Location | undefined;
    if ((cwd && set.has(cwd.mount)) || (root && set.has(root.mount))) return true;
    const files = filesOf(task);
    for (const fd of files.fds()) {
      const f = files.get(fd) as FileDescription | undefined;
      if (f && set.has(f.location.mount)) return true;
    }
  }
  return false;
}

/** Makes a new filesystem of `type` (do_new_mount's get_fs_type and get_tree). */
function newFilesystem(
  t: Task,
  type: string,
  source: string | null,
  own: string[],
): FilesystemImpl | LinuxError {
  const setup = setups.get(t.kernel);
  if (type === 'tmpfs') {
    const opts = parseTmpfsMountData(own.join(','));
    if (isError(opts)) return opts;
    const fs = new Tmpfs(opts);
    if (setup?.hostMemory) fs.hostMemory = setup.hostMemory;
    return fs;
  }
  if (BLOCK_FS.has(type)) {
    // get_tree_bdev: a source naming a block device, which the sandbox never has.
    if (source === null || source === '') return E.EINVAL;
    const loc = vfsOf(t).lookupat(ctxOf(t), dirOf(t, AT_FDCWD), source, 0);
    if (isError(loc)) return loc;
    loc.inode.refresh();
    if ((loc.inode.mode & S_IFMT) !== S_IFBLK) return E.ENOTBLK;
    return E.ENXIO;
  }
  const factory = setup?.filesystems?.[type];
  if (factory === undefined) return E.ENODEV;
  const known = KNOWN_OPTIONS[type];
  if (known) {
    for (const o of own) {
      const eq = o.indexOf('=');
      if (!known.has(eq < 0 ? o : o.slice(0, eq))) return E.EINVAL;
    }
  }
  return factory(source, own.join(','));
}

/** The propagation type of mount(2) flags (flags_to_propagation_type): exactly one, else 0. */
function propagationType(flags: number): PropagationType | 0 {
  const type = flags & ~(MS_REC | MS_SILENT);
  if (type === 0 || (type & (type - 1)) !== 0) return 0;
  switch (type) {
    case MS_SHARED:
    case MS_PRIVATE:
    case MS_SLAVE:
    case MS_UNBINDABLE:
      return type;
    default:
      return 0;
  }
}

/** The mount whose root is at `loc`, or EINVAL (Linux: "not a mount point"). */
function mountRootAt(vfs: Vfs, loc: Location): Mount | LinuxError {
  if (loc.inode !== loc.mount.root || !attached(vfs, loc.mount)) return E.EINVAL;
  return loc.mount;
}

/** implements mount(2). */
function sysMount(t: Task, a: SyscallArgs): SyscallResult {
  const type = stringArg(t, ptr(a[2]));
  if (isError(type)) return type;
  const source = stringArg(t, ptr(a[0]));
  if (isError(source)) return source;
  const data = dataArg(t, ptr(a[4]));
  if (isError(data)) return data;
  const target = pathArg(t, ptr(a[1]));
  if (isError(target)) return target;
  const vfs = vfsOf(t);
  const ctx = ctxOf(t);
  const at = vfs.lookupat(ctx, dirOf(t, AT_FDCWD), target, 0);
  if (isError(at)) return at;

  // The flags are an unsigned long; only the low 32 bits mean anything.
  let flags = Number(a[3] & 0xffffffffn);
  if ((flags & MS_MGC_MSK) >>> 0 === MS_MGC_VAL) flags &= ~MS_MGC_MSK;
  if ((flags & MS_NOUSER) !== 0) return E.EINVAL;
  if (!capable(t.creds, Capability.CAP_SYS_ADMIN)) return E.EPERM;

  let mnt = mountFlagsOf(flags);
  if ((flags & MS_REMOUNT) !== 0) {
    // A remount without an atime flag keeps the mount's atime policy.
    if ((flags & (MS_NOATIME | MS_NODIRATIME | MS_RELATIME | MS_STRICTATIME)) === 0) {
      mnt = (mnt & ~ATIME_MASK) | (at.mount.flags & ATIME_MASK);
    }
    const m = mountRootAt(vfs, at);
    if (isError(m)) return m;
    if ((flags & MS_BIND) === 0 && data !== null) {
      // A remount reconfigures the filesystem too: its options must still parse.
      const [, own] = splitData(data);
      if (m.fs instanceof Tmpfs && isError(parseTmpfsMountData(own.join(',')))) return E.EINVAL;
      if ((flags & MS_RDONLY) === 0 && splitData(data)[0] !== 0) mnt |= MS_RDONLY;
    }
    m.flags = (m.flags & ~MOUNT_FLAGS) | mnt;
    return 0;
  }
  if ((flags & MS_BIND) !== 0) return bind(t, vfs, at, source, (flags & MS_REC) !== 0);
  if ((flags & (MS_SHARED | MS_PRIVATE | MS_SLAVE | MS_UNBINDABLE)) !== 0) {
    const m = mountRootAt(vfs, at);
    if (isError(m)) return m;
    const type = propagationType(flags);
    if (type === 0) return E.EINVAL;
    changePropagation(vfs.rootMount, m, type, (flags & MS_REC) !== 0);
    return 0;
  }
  if ((flags & MS_MOVE) !== 0) return move(t, vfs, at, source);

  // do_new_mount
  if (type === null) return E.EINVAL;
  const [ro, own] = data === null ? [0, []] : splitData(data);
  const fs = newFilesystem(t, type, source, own);
  if (isError(fs)) return fs;
  if (!at.inode.isDir) return E.ENOTDIR;
  const m = new Mount(fs, fs.root, null, null, mnt | ro);
  m.source = source ?? 'none';
  return attachMount(vfs.rootMount, m, at) ?? 0;
}

/** do_loopback: bind mount of the path `source` at `at`, with the mounts below it if `recurse`. */
function bind(t: Task, vfs: Vfs, at: Location, source: string | null, recurse: boolean): SyscallResult {
  if (source === null || source === '') return E.EINVAL;
  const old = vfs.lookupat(ctxOf(t), dirOf(t, AT_FDCWD), source, 0);
  if (isError(old)) return old;
  if (!attached(vfs, at.mount) || !attached(vfs, old.mount)) return E.EINVAL;
  if (old.mount.unbindable) return E.EINVAL;
  // graft_tree: a directory goes on a directory, any other file on a non-directory.
  if (old.inode.isDir !== at.inode.isDir) return E.ENOTDIR;
  return attachMount(vfs.rootMount, copyForBind(old, recurse), at) ?? 0;
}

/** do_move_mount_old: MS_MOVE of the mount whose root is `source` to `at`. */
function move(t: Task, vfs: Vfs, at: Location, source: string | null): SyscallResult {
  if (source === null || source === '') return E.EINVAL;
  const old = vfs.lookupat(ctxOf(t), dirOf(t, AT_FDCWD), source, 0);
  if (isError(old)) return old;
  const m = old.mount;
  if (old.inode !== m.root || m.parent === null || !attached(vfs, m) || !attached(vfs, at.mount)) {
    return E.EINVAL;
  }
  // do_move_mount: a directory moves onto a directory, a file onto a file; EINVAL otherwise.
  if (old.inode.isDir !== at.inode.isDir) return E.EINVAL;
  // A mount under a shared parent cannot move (it would have to vanish from the peers too).
  if (m.parent.peerGroup !== 0) return E.EINVAL;
  if (at.mount.peerGroup !== 0 && mountTree(m).some((x) => x.unbindable)) return E.EINVAL;
  // Moving a mount below itself would make a loop.
  for (let p: Mount | null = at.mount; p !== null; p = p.parent) if (p === m) return E.ELOOP;
  // The moved tree leaves its place only once propagation has been computed (it may receive).
  return attachMount(vfs.rootMount, m, at, true) ?? 0;
}

/** Mounts marked by a first MNT_EXPIRE (a second one unmounts them if still unused). */
const expiryMarks = new WeakSet<Mount>();

/** implements umount2(2). */
function sysUmount2(t: Task, a: SyscallArgs): SyscallResult {
  const flags = int(a[1]);
  if ((flags & ~(MNT_FORCE | MNT_DETACH | MNT_EXPIRE | UMOUNT_NOFOLLOW)) !== 0) return E.EINVAL;
  if (!capable(t.creds, Capability.CAP_SYS_ADMIN)) return E.EPERM;
  const path = pathArg(t, ptr(a[0]));
  if (isError(path)) return path;
  const vfs = vfsOf(t);
  const ctx = ctxOf(t);
  // umount2 looks the path up with LOOKUP_MOUNTPOINT: a final symlink is followed unless
  // UMOUNT_NOFOLLOW.
  const follow = (flags & UMOUNT_NOFOLLOW) === 0 ? 0 : At.AT_SYMLINK_NOFOLLOW;
  const found = vfs.lookupat(ctx, dirOf(t, AT_FDCWD), path, follow);
  if (isError(found)) return found;
  // LOOKUP_MOUNTPOINT: mounts stacked on the final directory count (`umount .` after pivot_root).
  const at = topOf(found);
  const m = at.mount;
  if (at.inode !== m.root || !attached(vfs, m)) return E.EINVAL;
  const isRoot = m === ctx.root.mount || m.parent === null;
  if ((flags & MNT_EXPIRE) !== 0) {
    if (isRoot || (flags & (MNT_FORCE | MNT_DETACH)) !== 0) return E.EINVAL;
    if (m.children.size > 0 || busy(t, [m, ...umountPropagation(vfs.rootMount, [m])])) return E.EBUSY;
    if (!expiryMarks.has(m)) {
      expiryMarks.add(m);
      return E.EAGAIN;
    }
  }
  if ((flags & MNT_DETACH) !== 0) {
    // Lazy unmount: the tree leaves the namespace now; open files and cwds in it keep working.
    if (m.parent === null) return E.EINVAL;
    const tree = mountTree(m);
    unmount(vfs, [...tree, ...umountPropagation(vfs.rootMount, tree)]);
    return 0;
  }
  // Unmounting the root remounts it read-only in Linux; the sandbox's root stays as it is.
  if (isRoot) return E.EBUSY;
  if (m.children.size > 0) return E.EBUSY;
  // propagate_mount_busy: the copies that would go too must not be in use either.
  const all = [m, ...umountPropagation(vfs.rootMount, [m])];
  if (busy(t, all)) return E.EBUSY;
  unmount(vfs, all);
  return 0;
}

/** The topmost mount stacked on `loc` (follow_mount), or `loc` itself. */
function topOf(loc: Location): Location {
  let m = loc.mount;
  let inode = loc.inode;
  for (let sub = m.children.get(inode); sub !== undefined; sub = m.children.get(inode)) {
    m = sub;
    inode = sub.root;
  }
  return m === loc.mount ? loc : { mount: m, inode };
}

/** is_path_reachable: is (`m`, `inode`) at or below `target`, through mount parents? */
function reachable(m: Mount, inode: Location['inode'], target: Location): boolean {
  while (m !== target.mount && m.parent !== null && m.mountpoint !== null) {
    inode = m.mountpoint;
    m = m.parent;
  }
  return m === target.mount && isBelow(inode, target.inode);
}

/** True when `a` and `b` are the same place (mount and directory). */
function samePlace(a: Location | undefined, b: Location): boolean {
  return a !== undefined && a.mount === b.mount && a.inode === b.inode;
}

/**
 * implements pivot_root(2): the mount at `new_root` becomes the caller's root mount and the old
 * root mount moves to `put_old`, with Linux's checks (fs/namespace.c). As on Linux's rootfs, the
 * sandbox's own root mount has no parent, so pivoting needs a root that is a mount below it
 * (after chroot into one); `pivot_root(".", ".")` then stacks the old root on the new one.
 */
function sysPivotRoot(t: Task, a: SyscallArgs): SyscallResult {
  if (!capable(t.creds, Capability.CAP_SYS_ADMIN)) return E.EPERM;
  const vfs = vfsOf(t);
  const ctx = ctxOf(t);
  const newPath = pathArg(t, ptr(a[0]));
  if (isError(newPath)) return newPath;
  const neu = vfs.lookupat(ctx, dirOf(t, AT_FDCWD), newPath, 0);
  if (isError(neu)) return neu;
  if (!neu.inode.isDir) return E.ENOTDIR;
  const oldPath = pathArg(t, ptr(a[1]));
  if (isError(oldPath)) return oldPath;
  const old = vfs.lookupat(ctx, dirOf(t, AT_FDCWD), oldPath, 0);
  if (isError(old)) return old;
  if (!old.inode.isDir) return E.ENOTDIR;
  const root = ctx.root;
  const newM = neu.mount;
  const rootM = root.mount;
  const oldM = old.mount;
  if (oldM.peerGroup !== 0 || (newM.parent?.peerGroup ?? 0) !== 0 || (rootM.parent?.peerGroup ?? 0) !== 0) {
    return E.EINVAL;
  }
  if (!attached(vfs, rootM) || !attached(vfs, newM)) return E.EINVAL;
  if (neu.inode.nlink === 0) return E.ENOENT;
  if (newM === rootM || oldM === rootM) return E.EBUSY;
  if (root.inode !== rootM.root || rootM.parent === null || rootM.mountpoint === null) return E.EINVAL;
  if (neu.inode !== newM.root || newM.parent === null) return E.EINVAL;
  if (!reachable(oldM, old.inode, neu) || !reachable(newM, neu.inode, root)) return E.EINVAL;
  const rootParent = rootM.parent;
  const rootMp = rootM.mountpoint;
  newM.detach();
  rootM.detach();
  rootM.attach({ mount: oldM, inode: old.inode });
  newM.attach({ mount: rootParent, inode: rootMp });
  // chroot_fs_refs: whoever had the old root as root or cwd now has the new one.
  const newRoot: Location = { mount: newM, inode: newM.root };
  for (const task of t.kernel.allTasks()) {
    if (samePlace(task.fs.root as Location | undefined, root)) task.fs.root = newRoot;
    if (samePlace(task.fs.cwd as Location | undefined, root)) task.fs.cwd = newRoot;
  }
  return 0;
}

/**
 * Unmounts `gone` (a tree and the copies propagation takes with it); watches on files of a
 * filesystem that has no mount left get IN_UNMOUNT (Linux sends it when the superblock goes).
 */
function unmount(vfs: Vfs, gone: readonly Mount[]): void {
  umountMounts(vfs.rootMount, gone);
  const still = new Set(vfs.mounts().map((x) => x.fs));
  for (const x of gone) if (!still.has(x.fs)) fsnotifyUnmount(x.fs);
}

const MOUNT_NOTE =
  'one mount namespace; new mounts of tmpfs, proc, sysfs, devpts, cgroup2, bind of directories and files ' +
  '(MS_REC too), remount of per-mount flags, MS_MOVE, propagation (shared/slave/private/unbindable, MS_REC); ' +
  'block filesystems fail as without devices, other types ENODEV; mountinfo has no propagate_from; a file ' +
  'mount point is one per inode (a mount on a second hard link of a covered file gives EBUSY)';

/** The mount family. */
export const mountSyscalls: SyscallFamily = {
  mount: { handler: sysMount, support: partial(MOUNT_NOTE) },
  umount2: {
    handler: sysUmount2,
    support: partial(
      'unmounts propagate to peers and slaves; MNT_EXPIRE marks are not cleared by later use; unmounting the root gives EBUSY',
    ),
  },
  pivot_root: {
    handler: sysPivotRoot,
    support: partial(
      "the sandbox's root mount has no parent (like Linux's rootfs: EINVAL); works once chrooted into a mount",
    ),
  },
};
