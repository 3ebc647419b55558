/**
 * A small kernfs: filesystems declared as trees of (name, mode, generator) nodes, the way gVisor
 * declares procfs and Linux's kernfs builds sysfs. Nodes are plain objects:
 *
 * - {@link FileNode}: content generated when read (seq-file style: generated at the first read
 *   and again whenever a read starts at offset 0, so an open file reads one consistent snapshot
 *   with offsets), optionally writable through a handler;
 * - {@link SymlinkNode}: a target computed on each readlink;
 * - {@link DirNode}: static entries plus optional dynamic ones computed on each lookup/getdents.
 *
 * {@link KernFs} turns a root {@link DirNode} into a VFS filesystem: inodes are created lazily
 * and cached per directory, so a directory is the same object for as long as it exists (the VFS
 * contract), and inode numbers stay stable while an entry exists.
 *
 * @module
 */

import { E, isError, Mode, OpenFlag, Seek } from '@tsvisor/abi';
import type { LinuxError } from '@tsvisor/abi';
import { DT_DIR, DT_LNK, DT_REG, FileDescriptionImpl, Inode, anonDev, nowNs } from '@tsvisor/vfs';
import type {
  Creds,
  CreateAttrs,
  DirentSink,
  FileDescription,
  FilesystemImpl,
  FsContext,
  Location,
  SetAttr,
  Statfs,
} from '@tsvisor/vfs';

/** Owner and, optionally, a mode computed when the VFS looks at a node (task-owned files). */
export interface NodeAttrs {
  readonly uid: number;
  readonly gid: number;
  /** Permission bits replacing the declared ones (fd links: by the fd's access mode). */
  readonly mode?: number;
}

interface NodeBase {
  /** Permission bits (the type comes from the kind). */
  readonly mode: number;
  /** Owner (and mode) computed on each refresh; default root-owned with `mode`. */
  readonly attrs?: () => NodeAttrs;
  /** Its own permission check instead of the VFS's (see `Inode.checkPermission`). */
  readonly permission?: (creds: Creds, mask: number) => LinuxError | undefined;
}

/** A file whose content is generated from kernel state. */
export interface FileNode extends NodeBase {
  readonly kind: 'file';
  /** The content, as bytes or a byte string (one char per byte). Absent: reads give EINVAL. */
  readonly read?: () => Uint8Array | string | LinuxError;
  /**
   * Handle a write of `data` at `offset`: return the count consumed or an error. Absent: writes
   * give {@link FileNode.writeError}.
   */
  readonly write?: (data: Uint8Array, offset: number) => number | LinuxError;
  /** The errno of a write to a file without a write handler (default EINVAL; /proc/<file>: EIO). */
  readonly writeError?: LinuxError;
  /**
   * Refuse opening for writing when no write permission bit is set, even for root (sysctl's
   * proc_sys_permission and kernfs behave so; plain procfs files let root open them).
   */
  readonly strictWrite?: boolean;
  /** Extra check when opening (ptrace access for environ, maps...): an error refuses the open. */
  readonly open?: (flags: number) => LinuxError | undefined;
  /** st_size (0 for procfs files, 4096 for sysfs attributes). */
  readonly size?: number;
  /**
   * A file that is not generated text (/proc/kmsg): opening it makes this description instead
   * (after the `open` check). `read`/`write` are then unused.
   */
  readonly openFile?: (flags: number) => FileDescriptionImpl | LinuxError;
}

/** A symbolic link with a computed target. */
export interface SymlinkNode extends NodeBase {
  readonly kind: 'symlink';
  /** The target, or an error (ENOENT when there is none, EACCES when the reader may not see it). */
  readonly target: () => string | LinuxError;
  /** st_size (0 for most procfs links, 64 for fd links). */
  readonly size?: number;
  /**
   * A magic link (Linux's nd_jump_link): the location the walk jumps to instead of resolving
   * the target text, or an error (EACCES, ENOENT). Null: resolve `target` as a path.
   */
  readonly jump?: (ctx: FsContext) => Location | LinuxError | null;
}

/** Entries of a directory computed on demand (pids, fds, tids). */
export interface DynamicEntries {
  /** What every dynamic entry is (its d_type in getdents). */
  readonly kind: 'file' | 'symlink' | 'dir';
  /** The current names, in listing order. */
  list(): readonly string[];
  /** The node for `name`, or null when there is no such entry. Must accept exactly the listed names. */
  lookup(name: string): TreeNode | null;
  /**
   * A stable getdents cookie of a listed name (a pid, an fd number): non-negative, strictly
   * increasing in listing order, and the same for as long as the entry exists, so a directory
   * read across calls neither skips nor repeats entries while others come and go (as Linux's
   * `pid + TGID_OFFSET` and `fd + 2` offsets). Absent: names get their listing index.
   */
  cookie?(name: string): number;
}

/** A directory. */
export interface DirNode extends NodeBase {
  readonly kind: 'dir';
  /** Entries that always exist, in listing order. */
  readonly entries?: Readonly<Record<string, TreeNode>>;
  /** Entries computed on each lookup and listing, after the static ones. */
  readonly dynamic?: DynamicEntries;
  /**
   * False once the object behind the directory is gone (an exited process): lookups give
   * ENOENT and listings show only `.` and `..`. Default: always valid.
   */
  readonly valid?: () => boolean;
  /** st_nlink (default 2 plus the static subdirectories). */
  readonly nlink?: number;
  /**
   * For a /proc/<tgid> directory: the process it stands for. Linux accepts an fd of such a
   * directory as a pidfd (pidfd_send_signal), so the syscall layer asks for it.
   */
  readonly tgid?: number;
}

/** Any node of a declared tree. */
export type TreeNode = FileNode | SymlinkNode | DirNode;

/** Declare a read-only file of mode 0444 (or `mode`) whose content `read` generates. */
export function file(read: () => Uint8Array | string | LinuxError, mode = 0o444): FileNode {
  return { kind: 'file', mode, read };
}

/** Declare a symlink whose target `target` computes. */
export function symlink(target: () => string | LinuxError): SymlinkNode {
  return { kind: 'symlink', mode: 0o777, target };
}

/** Declare a directory of mode 0555 (or `mode`) with static entries. */
export function dir(entries: Readonly<Record<string, TreeNode>>, mode = 0o555): DirNode {
  return { kind: 'dir', mode, entries };
}

const TYPE_BITS = { file: Mode.S_IFREG, symlink: Mode.S_IFLNK, dir: Mode.S_IFDIR } as const;
const DT = { file: DT_REG, symlink: DT_LNK, dir: DT_DIR } as const;

/**
 * A filesystem made from a declared tree. Mount it with `vfs.mount(ctx, dir, '/proc', fs)`.
 */
export class KernFs implements FilesystemImpl {
  readonly dev = anonDev();
  readonly root: KernDir;
  /** The next inode number to hand out. */
  private nextIno = 1;

  /**
   * @param type  the type name /proc/mounts shows (`proc`, `sysfs`).
   * @param magic the statfs f_type (PROC_SUPER_MAGIC 0x9fa0, SYSFS_MAGIC 0x62656572).
   * @param tree  the root directory.
   */
  constructor(
    readonly type: string,
    private readonly magic: number,
    tree: DirNode,
  ) {
    this.root = new KernDir(this, tree, null, '');
  }

  /** @internal A fresh inode number. */
  allocIno(): number {
    return this.nextIno++;
  }

  /** statfs: a pseudo filesystem with no blocks. */
  statfs(): Statfs {
    return {
      type: this.magic,
      bsize: 4096,
      blocks: 0,
      bfree: 0,
      bavail: 0,
      files: 0,
      ffree: 0,
      fsid: this.dev,
      namelen: 255,
      frsize: 4096,
      flags: 0,
    };
  }
}

/** The common part of the inodes of a {@link KernFs}. */
abstract class KernInode extends Inode {
  constructor(
    readonly fs: KernFs,
    readonly node: TreeNode,
  ) {
    super();
    this.ino = fs.allocIno();
    this.mode = TYPE_BITS[node.kind] | node.mode;
    if (node.permission) this.checkPermission = node.permission;
    const now = nowNs();
    this.atimeNs = now;
    this.mtimeNs = now;
    this.ctimeNs = now;
    this.refresh();
  }

  override refresh(): void {
    const a = this.node.attrs?.();
    if (a === undefined) return;
    this.uid = a.uid;
    this.gid = a.gid;
    this.mode = TYPE_BITS[this.node.kind] | (a.mode ?? this.node.mode);
  }

  /** procfs ignores chmod/chown/utimes (proc_setattr refuses mode changes: EPERM). */
  override setattr(attr: SetAttr): LinuxError | undefined {
    if (attr.mode !== undefined || attr.uid !== undefined || attr.gid !== undefined) return E.EPERM;
    if (attr.size !== undefined) return this.truncate(attr.size);
    return undefined;
  }

  /**
   * O_TRUNC on a procfs file is accepted and does nothing (proc_setattr lets ATTR_SIZE through),
   * so `echo x > /proc/...` reaches the write handler or the write errno.
   */
  override truncate(_size: number): LinuxError | undefined {
    return this.node.kind === 'file' ? undefined : E.EPERM;
  }
}

/** A generated file. */
class KernFile extends KernInode {
  declare readonly node: FileNode;

  override size(): number {
    return this.node.size ?? 0;
  }

  override open(flags: number): FileDescriptionImpl | LinuxError {
    const acc = flags & OpenFlag.O_ACCMODE;
    const writing = acc === OpenFlag.O_WRONLY || acc === OpenFlag.O_RDWR;
    if (writing && this.node.strictWrite === true && (this.mode & 0o222) === 0) return E.EACCES;
    const err = this.node.open?.(flags);
    if (err) return err;
    if (this.node.openFile !== undefined) return this.node.openFile(flags);
    return new GeneratedFile(this.node, acc === OpenFlag.O_RDONLY || acc === OpenFlag.O_RDWR);
  }
}

const latin1 = new TextDecoder('latin1');

/** A byte string (one char per byte) as bytes. */
export function bytesOf(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i) & 0xff;
  return out;
}

/** Bytes as a byte string (one char per byte). */
export function byteString(b: Uint8Array): string {
  return latin1.decode(b);
}

/** An open generated file: a snapshot made at the first read (and at each read from offset 0). */
class GeneratedFile extends FileDescriptionImpl {
  private snapshot: Uint8Array | null = null;

  constructor(
    private readonly node: FileNode,
    private readonly readable: boolean,
  ) {
    super();
  }

  override read(dst: Uint8Array, offset: number): number | LinuxError {
    const gen = this.node.read;
    if (gen === undefined || !this.readable) return E.EINVAL;
    if (this.snapshot === null || offset === 0) {
      const content = gen();
      if (isError(content)) return content;
      this.snapshot = typeof content === 'string' ? bytesOf(content) : content;
    }
    const snap = this.snapshot;
    if (offset >= snap.length) return 0;
    const n = Math.min(dst.length, snap.length - offset);
    dst.set(snap.subarray(offset, offset + n));
    return n;
  }

  override write(src: Uint8Array, offset: number): number | LinuxError {
    const w = this.node.write;
    if (w === undefined) return this.node.writeError ?? E.EINVAL;
    return w(src, offset);
  }

  /** seq_lseek: SEEK_SET and SEEK_CUR only, never negative. */
  override seek(file: FileDescription, offset: number, whence: number): number | LinuxError {
    let pos: number;
    if (whence === Seek.SEEK_SET) pos = offset;
    else if (whence === Seek.SEEK_CUR) pos = file.offset + offset;
    else return E.EINVAL;
    if (pos < 0 || !Number.isSafeInteger(pos)) return E.EINVAL;
    return pos;
  }
}

/** A computed symlink. */
class KernSymlink extends KernInode {
  declare readonly node: SymlinkNode;

  override size(): number {
    return this.node.size ?? 0;
  }

  override readlink(): string | LinuxError {
    return this.node.target();
  }

  override magicLink(ctx: FsContext): Location | LinuxError | null {
    return this.node.jump?.(ctx) ?? null;
  }
}

function nodeInode(fs: KernFs, node: TreeNode, parent: KernDir, name: string): KernInode {
  switch (node.kind) {
    case 'file':
      return new KernFile(fs, node);
    case 'symlink':
      return new KernSymlink(fs, node);
    case 'dir':
      return new KernDir(fs, node, parent, name);
  }
}

/** A declared directory; children are made on first lookup and cached while they exist. */
export class KernDir extends KernInode {
  declare readonly node: DirNode;
  private readonly cache = new Map<string, KernInode>();

  constructor(fs: KernFs, node: DirNode, parent: KernDir | null, name: string) {
    super(fs, node);
    this.parent = parent ?? this;
    this.name = name;
    let subdirs = 0;
    for (const child of Object.values(node.entries ?? {})) if (child.kind === 'dir') subdirs++;
    this.nlink = node.nlink ?? 2 + subdirs;
  }

  /** False once the object behind the directory is gone. */
  isValid(): boolean {
    return this.node.valid?.() ?? true;
  }

  /** The child `name`: a static entry, else a dynamic one; ENOENT otherwise. */
  override lookup(name: string): Inode | LinuxError {
    if (!this.isValid()) return E.ENOENT;
    const entries = this.node.entries;
    if (entries !== undefined && Object.hasOwn(entries, name)) {
      const cached = this.cache.get(name);
      if (cached !== undefined) return cached;
      const made = nodeInode(this.fs, entries[name] as TreeNode, this, name);
      this.cache.set(name, made);
      return made;
    }
    const dyn = this.node.dynamic;
    if (dyn === undefined) return E.ENOENT;
    const node = dyn.lookup(name);
    const cached = this.cache.get(name);
    if (node === null) {
      // The entry went away: forget it so a later one with the same name is a new inode.
      if (cached !== undefined) this.cache.delete(name);
      return E.ENOENT;
    }
    if (cached !== undefined && cached.node.kind === node.kind) return cached;
    const made = nodeInode(this.fs, node, this, name);
    this.cache.set(name, made);
    return made;
  }

  /**
   * Names, d_types and getdents offsets in listing order (after `.` and `..`, which are 0 and
   * 1). Static entries take 2, 3, ...; dynamic ones follow at their stable cookie (or index).
   */
  entryList(): { name: string; type: number; off: number }[] {
    if (!this.isValid()) return [];
    const out: { name: string; type: number; off: number }[] = [];
    const entries = this.node.entries;
    if (entries !== undefined)
      for (const [name, n] of Object.entries(entries))
        out.push({ name, type: DT[n.kind], off: out.length + 2 });
    const dyn = this.node.dynamic;
    if (dyn !== undefined) {
      const base = out.length + 2;
      const names = dyn.list();
      const live = new Set(names);
      for (const name of this.cache.keys()) {
        if (entries !== undefined && Object.hasOwn(entries, name)) continue;
        if (!live.has(name)) this.cache.delete(name);
      }
      names.forEach((name, i) => {
        out.push({ name, type: DT[dyn.kind], off: base + (dyn.cookie?.(name) ?? i) });
      });
    }
    return out;
  }

  override open(flags: number): FileDescriptionImpl | LinuxError {
    const acc = flags & OpenFlag.O_ACCMODE;
    if (acc !== OpenFlag.O_RDONLY) return E.EISDIR;
    return new KernDirFile(this);
  }

  // A failed lookup in procfs is an error, not a negative dentry, so creating anything in a
  // procfs directory fails with ENOENT as on Linux (mkdir /proc/x, open(O_CREAT)).
  override create(_name: string, _attrs: CreateAttrs): Inode | LinuxError {
    return E.ENOENT;
  }
  override mkdir(_name: string, _attrs: CreateAttrs): Inode | LinuxError {
    return E.ENOENT;
  }
  override mknod(_name: string, _attrs: CreateAttrs): Inode | LinuxError {
    return E.ENOENT;
  }
  override symlink(_name: string, _target: string, _attrs: CreateAttrs): Inode | LinuxError {
    return E.ENOENT;
  }
  override link(_name: string, _target: Inode): LinuxError | undefined {
    return E.ENOENT;
  }
}

/**
 * An open declared directory. Offsets: 0 is `.`, 1 is `..`, then each entry's own offset (see
 * {@link KernDir.entryList}); a read resumes at the first entry whose offset is at least the
 * file position, so with stable cookies entries that come and go between calls never make the
 * others be skipped or repeated. (Without cookies, offsets are listing indexes, which may.)
 */
class KernDirFile extends FileDescriptionImpl {
  constructor(private readonly dir: KernDir) {
    super();
  }

  override getdents(pos: number, sink: DirentSink): number | LinuxError {
    const d = this.dir;
    // proc_pident_readdir: the directory of a task that is gone reads as ENOENT.
    if (!d.isValid()) return E.ENOENT;
    if (pos === 0) {
      if (!sink(d.ino, 1, DT_DIR, '.')) return 0;
      pos = 1;
    }
    if (pos === 1) {
      const parent = d.parent ?? d;
      if (!sink(parent.ino, 2, DT_DIR, '..')) return 1;
      pos = 2;
    }
    const list = d.entryList();
    let end = pos;
    for (const e of list) {
      if (e.off < pos) continue;
      const child = d.lookup(e.name);
      if (isError(child)) continue; // gone between listing and lookup
      if (!sink(child.ino, e.off + 1, e.type, e.name)) return e.off;
      end = e.off + 1;
    }
    return end;
  }

  override seek(file: FileDescription, offset: number, whence: number): number | LinuxError {
    let pos: number;
    if (whence === Seek.SEEK_SET) pos = offset;
    else if (whence === Seek.SEEK_CUR) pos = file.offset + offset;
    else return E.EINVAL;
    if (pos < 0 || !Number.isSafeInteger(pos)) return E.EINVAL;
    return pos;
  }
}
