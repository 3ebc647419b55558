/**
 * Linux's nsfs: the files the /proc/<pid>/ns links lead to. Each namespace has one inode whose
 * number is the namespace's own (the number in `net:[4026531840]`), so tools tell whether two
 * processes share a namespace by comparing `stat -L` of their links. The inode is a regular file
 * of mode 0444 with no content: opening it gives a handle to the namespace for setns(2), the
 * NS_GET_* ioctls and RTM_GETNSID's NETNSA_FD; reading it is EINVAL (no read op).
 *
 * {@link nsLocation} gives the location a link jumps to; {@link nsOf} tells the syscall layer
 * which namespace an open file stands for.
 *
 * @module
 */

import { CloneFlag, E, Mode } from '@tsvisor/abi';
import type { LinuxError } from '@tsvisor/abi';
import { FileDescriptionImpl, Inode, Mount, anonDev, nowNs, simpleStatfs } from '@tsvisor/vfs';
import type { FilesystemImpl, Location, Statfs } from '@tsvisor/vfs';

/** NSFS_MAGIC. */
const NSFS_MAGIC = 0x6e736673;
/** ioctl type of include/uapi/linux/nsfs.h. */
const NSIO = 0xb7;
/** _IO(NSIO, 0x1): an fd of the user namespace owning this one. */
export const NS_GET_USERNS = (NSIO << 8) | 0x1;
/** _IO(NSIO, 0x2): an fd of the parent namespace (pid and user namespaces). */
export const NS_GET_PARENT = (NSIO << 8) | 0x2;
/** _IO(NSIO, 0x3): the namespace's CLONE_NEW* type. */
export const NS_GET_NSTYPE = (NSIO << 8) | 0x3;
/** _IO(NSIO, 0x4): the owner uid of a user namespace, written through the argument. */
export const NS_GET_OWNER_UID = (NSIO << 8) | 0x4;

/** The namespace types (the text before the colon of a ns/ link). */
export type NsType = 'cgroup' | 'ipc' | 'mnt' | 'net' | 'pid' | 'time' | 'user' | 'uts';

/** The CLONE_NEW* flag of each type (proc_ns_operations.type). */
export const NS_CLONE_FLAG: Readonly<Record<NsType, number>> = {
  cgroup: CloneFlag.CLONE_NEWCGROUP,
  ipc: CloneFlag.CLONE_NEWIPC,
  mnt: CloneFlag.CLONE_NEWNS,
  net: CloneFlag.CLONE_NEWNET,
  pid: CloneFlag.CLONE_NEWPID,
  time: CloneFlag.CLONE_NEWTIME,
  user: CloneFlag.CLONE_NEWUSER,
  uts: CloneFlag.CLONE_NEWUTS,
};

/**
 * A namespace made inside the sandbox, as its nsfs inode sees it: an open file holds a reference
 * to it (a namespace lives while a process, an open nsfs file or the owner's objects hold it).
 */
export interface NsHolder {
  get(): void;
  put(): void;
}

/**
 * The first number {@link nsAllocInum} hands out: above the numbers of the initial namespaces
 * (PROC_*_INIT_INO and the kernel's own first allocations), in proc_inum_ida's range.
 */
const FIRST_DYNAMIC_INUM = 0xf0000100;
let nextInum = FIRST_DYNAMIC_INUM;

/**
 * A fresh inode number for a namespace made inside a sandbox (ns_alloc_inum), unique in this
 * process, so namespaces of every sandbox the process runs stay apart in the one nsfs.
 *
 * @example
 * ```ts
 * const inum = nsAllocInum();
 * nsLocation('net', inum, namespace); // each open of its inode holds `namespace`
 * nsForget(inum); // once nothing holds it
 * ```
 */
export function nsAllocInum(): number {
  return nextInum++;
}

class NsFs implements FilesystemImpl {
  readonly type = 'nsfs';
  readonly dev = anonDev();
  readonly root: Inode;
  readonly mount: Mount;
  /** One inode per namespace, kept as Linux keeps it stashed in the namespace. */
  readonly inodes = new Map<number, NsInode>();
  constructor() {
    this.root = new NsRoot(this);
    this.mount = new Mount(this, this.root, null, null, 0);
  }
  statfs(): Statfs {
    return simpleStatfs(NSFS_MAGIC);
  }
}

/** nsfs's root: never reachable by a path, it only anchors the mount. */
class NsRoot extends Inode {
  constructor(readonly fs: NsFs) {
    super();
    this.ino = 1;
    this.mode = Mode.S_IFDIR | 0o555;
  }
}

/** A namespace's inode: `S_IFREG | 0444`, root-owned, one link, size 0. */
class NsInode extends Inode {
  constructor(
    readonly fs: NsFs,
    readonly nsType: NsType,
    inum: number,
    readonly holder: NsHolder | undefined,
  ) {
    super();
    this.ino = inum;
    this.mode = Mode.S_IFREG | 0o444;
    const now = nowNs();
    this.atimeNs = this.mtimeNs = this.ctimeNs = this.btimeNs = now;
  }

  override open(_flags: number): FileDescriptionImpl {
    this.holder?.get();
    return new NsFile(this.nsType, this.holder);
  }
}

/**
 * An open namespace file (ns_file_operations: no read, write or llseek). The ioctls that need
 * the caller (NS_GET_USERNS, NS_GET_OWNER_UID) are the syscall layer's; this answers the rest
 * for the namespaces a sandbox has, which are each the initial one of its type.
 */
class NsFile extends FileDescriptionImpl {
  constructor(
    readonly nsType: NsType,
    private readonly holder: NsHolder | undefined,
  ) {
    super();
  }

  override release(): void {
    this.holder?.put();
  }

  /** No llseek (Linux 6.12 dropped no_llseek; a file without llseek is ESPIPE either way). */
  override seek(): LinuxError {
    return E.ESPIPE;
  }

  override ioctl(cmd: number): number | LinuxError {
    switch (cmd) {
      case NS_GET_NSTYPE:
        return NS_CLONE_FLAG[this.nsType];
      case NS_GET_PARENT:
        // pidns_get_parent / ns_get_owner: an initial pid or user namespace has no parent, EPERM
        // as for a parent outside the caller's view; other types have no get_parent, EINVAL.
        return this.nsType === 'pid' || this.nsType === 'user' ? E.EPERM : E.EINVAL;
      default:
        return E.ENOTTY;
    }
  }
}

let shared: NsFs | undefined;

/**
 * The nsfs file of the namespace of type `type` numbered `inum`: where a /proc/<pid>/ns link
 * jumps to, and what NS_GET_USERNS opens. The same inode for the same number, always (until
 * {@link nsForget}). A namespace made inside the sandbox passes its `holder` the first time, which
 * each open of its file then holds.
 *
 * @example
 * ```ts
 * const loc = nsLocation('net', 4026531840);
 * loc.inode.ino; // 4026531840
 * nsOf(loc); // { type: 'net', inum: 4026531840 }
 * ```
 */
export function nsLocation(type: NsType, inum: number, holder?: NsHolder): Location {
  shared ??= new NsFs();
  let inode = shared.inodes.get(inum);
  if (inode === undefined || inode.nsType !== type) {
    inode = new NsInode(shared, type, inum, holder);
    shared.inodes.set(inum, inode);
  }
  return { mount: shared.mount, inode, name: nsName(type, inum) };
}

/** Drops the inode of a namespace made inside the sandbox once nothing holds the namespace. */
export function nsForget(inum: number): void {
  shared?.inodes.delete(inum);
}

/** A namespace's name, as its /proc/<pid>/ns link reads and /proc/<pid>/fd shows it (`net:[4026531840]`). */
export function nsName(type: NsType, inum: number): string {
  return `${type}:[${inum}]`;
}

/** The namespace a location made by {@link nsLocation} stands for, or null for any other. */
export function nsOf(loc: Location): { readonly type: NsType; readonly inum: number } | null {
  const inode = loc.inode;
  if (!(inode instanceof NsInode)) return null;
  return { type: inode.nsType, inum: inode.ino };
}

/** What /proc/<pid>/fd shows for an nsfs location (ns_dname: `net:[4026531840]`), or null. */
export function nsfsName(loc: Location): string | null {
  const ns = nsOf(loc);
  return ns === null ? null : nsName(ns.type, ns.inum);
}
