/**
 * userfs: a filesystem whose operations are TypeScript callbacks (FUSE's idea, in process), so a
 * sandbox can mount an API, a database or a remote store as a directory.
 *
 * The callbacks are path-based, like FUSE's high-level API: paths are relative to the userfs
 * root and start with `/` (the root is `/`). Any subset may be given; a missing one answers what
 * Linux answers for a missing inode or file operation (mkdir, mknod, link: EPERM, create: EACCES,
 * read and write: EINVAL, readlink: EINVAL, getxattr/setxattr/removexattr: EOPNOTSUPP, listxattr:
 * no names, ...). A callback returns its value, a `LinuxError` (`E.ENOENT`) or a promise of
 * either; a throw or a rejection that is not a `LinuxError` becomes EIO.
 *
 * Permissions are the VFS's, from the modes and owners the callbacks report (FUSE's
 * `default_permissions`).
 *
 * ## Async callbacks
 * The VFS is synchronous. When a callback returns a promise, the operation notes it
 * ({@link notePendingIo}) and answers EAGAIN (path and metadata operations, directory reads) or
 * WOULD_BLOCK (read/write of an open file, which also wakes the file's wait queue when the
 * answer arrives, so the kernel's ordinary blocking read/write works unchanged). Issuing the
 * same call again once the promise settled finds the answer: {@link settleVfs} does that loop.
 * Until a started mutation's answer is taken by the repeated call, lookups of the names it
 * touches keep answering what they did before it started, so the repeated call passes the same
 * checks. An answer nobody takes within 30 s is dropped (and the names it touched are looked up
 * afresh). One exception: an async `open` of a file that open(O_CREAT) has just made does not
 * restart the call (the repeated call would see the new file and fail O_EXCL); the description
 * exists at once, its I/O waits for the handle, and an open error shows at the first I/O.
 *
 * ## Caching
 * - A lookup (the `lookup` callback, else `getattr`) is cached with the attributes it returned
 *   for `entryTimeoutMs` (default 1000, FUSE's entry_timeout); names not found are not cached
 *   (`negativeTimeoutMs`, default 0), except that an answer that came from a promise is kept
 *   for at least 1 s so the repeated call sees it.
 * - Attributes of a cached file are refreshed with `getattr` when older than `attrTimeoutMs`
 *   (default 1000) when the VFS reads them (stat, open); an async `getattr` refreshes them in the
 *   background (the old values answer meanwhile).
 * - Changes made through this filesystem update the cache at once; changes made behind it show
 *   after the timeouts, or at once after {@link Userfs.invalidate}.
 * - A directory listing is taken by the first getdents of an open directory and again at each
 *   rewind to offset 0; file contents are never cached (every read and write reaches the
 *   callbacks).
 *
 * @module
 */

import { E, isError } from '@tsvisor/abi';
import type { LinuxError } from '@tsvisor/abi';
import { nowNs } from '../clock.js';
import { RENAME_EXCHANGE, S_IFDIR, S_IFMT, S_IFREG, SEEK_SET } from '../constants.js';
import { anonDev } from '../devices.js';
import { DirFileImpl } from '../dir-file.js';
import { DEFAULT_POLLMASK, FileDescriptionImpl } from '../file.js';
import type { FileDescription } from '../file.js';
import { Inode } from '../inode.js';
import type { CreateAttrs, FilesystemImpl } from '../inode.js';
import { notePendingIo } from '../pending-io.js';
import { simpleStatfs } from '../stat.js';
import { direntType } from '../tmpfs/tmpfs.js';
import type { DirentSink, SetAttr, Statfs } from '../types.js';
import { WOULD_BLOCK, WaitQueue } from '../wait.js';
import type { WouldBlock } from '../wait.js';

/** A callback's answer: the value, an errno, or a promise of either. */
export type UserfsResult<T> = T | LinuxError | Promise<T | LinuxError>;

/**
 * File attributes as a callback reports them. Only `mode` (type and permission bits) is
 * required; the rest default to: size 0, the filesystem's uid/gid, nlink 1 (2 for directories),
 * a stable inode number per path, times of the mount.
 */
export interface UserfsAttr {
  /**
   * The file type (S_IFREG, S_IFDIR, S_IFLNK, or S_IFIFO, S_IFSOCK, S_IFCHR, S_IFBLK for nodes
   * made by `mknod`) with the permission bits (`S_IFREG | 0o644`). The VFS opens FIFOs and
   * devices itself; only regular files and directories reach `open`/`readdir`.
   */
  mode: number;
  size?: number;
  uid?: number;
  gid?: number;
  nlink?: number;
  ino?: number;
  /** Device number of a character or block device (Linux's new_encode_dev layout). */
  rdev?: number;
  atimeNs?: bigint;
  mtimeNs?: bigint;
  ctimeNs?: bigint;
}

/** One directory entry from `readdir`: a name, or a name with its type or attributes. */
export type UserfsDirent = string | { name: string; mode?: number; ino?: number };

/** The caller's identity, passed to callbacks that create files. */
export interface UserfsCaller {
  uid: number;
  gid: number;
}

/** Attribute changes passed to `setattr` (only present fields change). */
export interface UserfsSetattr {
  mode?: number;
  uid?: number;
  gid?: number;
  size?: number;
  atimeNs?: bigint;
  mtimeNs?: bigint;
}

/**
 * The operations of a userfs, any subset. Paths start with `/` and are relative to the userfs
 * root. `handle` is whatever `open` returned (undefined without `open`).
 */
export interface UserfsOps {
  /** The attributes of `name` in directory `dir` (ENOENT when absent). Default: `getattr` of the joined path. */
  lookup?(dir: string, name: string): UserfsResult<UserfsAttr>;
  /** The attributes of `path`. */
  getattr?(path: string): UserfsResult<UserfsAttr>;
  /** The entries of directory `path`, without `.` and `..`. */
  readdir?(path: string): UserfsResult<readonly UserfsDirent[]>;
  /** Open `path` (O_* flags); the value is passed to read/write/release. */
  open?(path: string, flags: number): UserfsResult<unknown>;
  /** Up to `length` bytes of `path` from `offset` (fewer at the end, empty past it). */
  read?(path: string, offset: number, length: number, handle: unknown): UserfsResult<Uint8Array>;
  /** Write `data` at `offset`; the count written. */
  write?(path: string, data: Uint8Array, offset: number, handle: unknown): UserfsResult<number>;
  /** The last close of an open file (its answer is not waited for). */
  release?(path: string, handle: unknown): void | Promise<void>;
  /** Create an empty regular file (the name is free); its attributes, or nothing for the defaults. */
  create?(path: string, mode: number, caller: UserfsCaller): UserfsResult<UserfsAttr | undefined>;
  /** Create a directory (the name is free). */
  mkdir?(path: string, mode: number, caller: UserfsCaller): UserfsResult<UserfsAttr | undefined>;
  /** Create a symlink at `path` pointing to `target`. */
  symlink?(target: string, path: string, caller: UserfsCaller): UserfsResult<UserfsAttr | undefined>;
  /** Remove a non-directory. */
  unlink?(path: string): UserfsResult<undefined | void>;
  /** Remove an empty directory (ENOTEMPTY otherwise). */
  rmdir?(path: string): UserfsResult<undefined | void>;
  /**
   * Move `from` to `to`, replacing a `to` that exists (the VFS checked the type rules); with
   * RENAME_EXCHANGE in `flags`, swap them.
   */
  rename?(from: string, to: string, flags: number): UserfsResult<undefined | void>;
  /** The target of symlink `path`. */
  readlink?(path: string): UserfsResult<string>;
  /** Change attributes (chmod, chown, truncate, utimes); the new attributes, or nothing. */
  setattr?(path: string, changes: UserfsSetattr): UserfsResult<UserfsAttr | undefined>;
  /**
   * Make a FIFO, socket or device node at `path` (the name is free). `mode` holds the type;
   * `rdev` the device number of a device (0 otherwise). The VFS has already required
   * CAP_MKNOD for devices; a filesystem that wants none returns EPERM for them. Regular files
   * made by mknod(2) go to `create`.
   */
  mknod?(
    path: string,
    mode: number,
    rdev: number,
    caller: UserfsCaller,
  ): UserfsResult<UserfsAttr | undefined>;
  /**
   * Make `path` a new hard link to the non-directory `target` (the name is free, both in this
   * filesystem); the file's new attributes (nlink included), or nothing (then nlink goes up by
   * one and the new name shows the file's inode number).
   */
  link?(target: string, path: string): UserfsResult<UserfsAttr | undefined>;
  /** The value of extended attribute `name` of `path` (ENODATA when absent). */
  getxattr?(path: string, name: string): UserfsResult<Uint8Array>;
  /**
   * Set extended attribute `name` of `path`. `flags`: XATTR_CREATE (1: EEXIST if present),
   * XATTR_REPLACE (2: ENODATA if absent). The VFS checked the namespace and permissions.
   */
  setxattr?(path: string, name: string, value: Uint8Array, flags: number): UserfsResult<undefined | void>;
  /** The names of the extended attributes of `path`. */
  listxattr?(path: string): UserfsResult<readonly string[]>;
  /** Remove extended attribute `name` of `path` (ENODATA when absent). */
  removexattr?(path: string, name: string): UserfsResult<undefined | void>;
}

/** Options of a {@link Userfs}. */
export interface UserfsOptions {
  /** The type shown in /proc/mounts (default `userfs`). */
  name?: string;
  /** Attributes of the root when there is no `getattr` (default: a directory, mode 0755). */
  rootMode?: number;
  /** Owner reported when a callback gives none (default 0). */
  uid?: number;
  gid?: number;
  /** How long a looked-up name stays cached (ms, default 1000). */
  entryTimeoutMs?: number;
  /** How long attributes stay fresh (ms, default 1000). */
  attrTimeoutMs?: number;
  /** How long a name not found stays cached (ms, default 0). */
  negativeTimeoutMs?: number;
}

/** FUSE_SUPER_MAGIC, statfs f_type of every userfs. */
export const USERFS_MAGIC = 0x65735546;
/** How long the answer of an async callback is held for the repeated call. */
const ASYNC_HOLD_MS = 1000;
/** How long an answer nobody took is kept. */
const UNCLAIMED_MS = 30_000;
/** What the repeated call of a pending operation sees. */
const PENDING: unique symbol = Symbol('userfs pending');
type Pending = typeof PENDING;

function join(dir: string, name: string): string {
  return dir === '/' ? `/${name}` : `${dir}/${name}`;
}

function toError(e: unknown): LinuxError {
  return isError(e) ? e : E.EIO;
}

function isPromise<T>(v: unknown): v is Promise<T> {
  return typeof (v as { then?: unknown } | null)?.then === 'function';
}

/** A finished async answer waiting for its repeated call. */
interface Settled {
  value: unknown;
  at: number;
  /** Paths whose pre-operation lookup answer is held until the answer is taken. */
  shadows: readonly string[];
}

/** A filesystem served by {@link UserfsOps} callbacks. */
export class Userfs implements FilesystemImpl {
  readonly type: string;
  readonly dev = anonDev();
  readonly root: UserfsNode;
  readonly options: Readonly<UserfsOptions>;
  /** Times reported when callbacks give none: the mount's. */
  readonly bornNs = nowNs();
  private readonly nodes = new Map<string, UserfsNode>();
  private readonly negative = new Map<string, number>();
  /** Errors (other than ENOENT) of async lookups, held for the repeated call. */
  private readonly failed = new Map<string, { err: LinuxError; until: number }>();
  private readonly inos = new Map<string, number>();
  private nextIno = 2;
  private readonly inflight = new Map<string, Promise<unknown>>();
  private readonly settled = new Map<string, Settled>();
  /** @hidden The file the current open(O_CREAT) just made (for {@link UserfsNode.open}). */
  justCreated: UserfsNode | null = null;
  /** Lookup answers held while a mutation is pending (null: the name was absent). */
  private readonly shadows = new Map<string, UserfsNode | null>();

  constructor(
    readonly ops: UserfsOps,
    options: UserfsOptions = {},
  ) {
    this.options = options;
    this.type = options.name ?? 'userfs';
    this.root = new UserfsNode(this, '/', { mode: S_IFDIR | ((options.rootMode ?? 0o755) & 0o7777) });
    this.root.parent = this.root;
    this.root.attrExpires = 0;
    this.nodes.set('/', this.root);
  }

  statfs(): Statfs {
    return simpleStatfs(USERFS_MAGIC);
  }

  /**
   * Forget what is cached about `path` (and, for a directory, everything below it), so the next
   * access asks the callbacks: for changes made behind the filesystem's back.
   */
  invalidate(path = '/'): void {
    const below = path === '/' ? '/' : `${path}/`;
    for (const [p, node] of this.nodes) {
      if (p === path || p.startsWith(below)) {
        node.entryExpires = p === '/' ? Infinity : 0;
        node.attrExpires = 0;
      }
    }
    for (const p of [...this.negative.keys()]) if (p === path || p.startsWith(below)) this.negative.delete(p);
  }

  /** @hidden A stable inode number for `path` (unless the callbacks give one). */
  inoFor(path: string): number {
    let ino = this.inos.get(path);
    if (ino === undefined) {
      ino = this.nextIno++;
      this.inos.set(path, ino);
    }
    return ino;
  }

  /**
   * @hidden
   * Run callback `start` for operation `key`: its answer now, or PENDING with the promise noted
   * (the answer is kept for the repeated call, or given to `apply` when it comes, for answers
   * that go to the cache rather than to one caller).
   */
  call<T>(
    key: string,
    start: () => UserfsResult<T>,
    opts: {
      shadows?: readonly string[];
      apply?: (v: T | LinuxError) => void;
      /** Called once the answer is stored (to wake waiters). */
      ready?: () => void;
    } = {},
  ): T | LinuxError | Pending {
    this.sweep();
    const done = this.settled.get(key);
    if (done !== undefined) {
      this.settled.delete(key);
      for (const p of done.shadows) this.shadows.delete(p);
      return done.value as T | LinuxError;
    }
    const running = this.inflight.get(key);
    if (running !== undefined) {
      notePendingIo(running);
      return PENDING;
    }
    let r: UserfsResult<T>;
    try {
      r = start();
    } catch (e) {
      return toError(e);
    }
    if (!isPromise<T | LinuxError>(r)) return r;
    const shadows = opts.shadows ?? [];
    for (const p of shadows) this.shadows.set(p, this.peek(p));
    const apply = opts.apply;
    const work = r
      .then(
        (v) => v,
        (e: unknown) => toError(e),
      )
      .then((v) => {
        this.inflight.delete(key);
        if (apply !== undefined) apply(v);
        else this.settled.set(key, { value: v, at: Date.now(), shadows });
        opts.ready?.();
      });
    this.inflight.set(key, work);
    notePendingIo(work);
    return PENDING;
  }

  /** Drop answers nobody came back for. */
  private sweep(): void {
    if (this.settled.size === 0) return;
    const old = Date.now() - UNCLAIMED_MS;
    for (const [k, s] of this.settled) {
      if (s.at > old) continue;
      this.settled.delete(k);
      for (const p of s.shadows) {
        this.shadows.delete(p);
        this.forget(p);
      }
    }
  }

  /** What a lookup of `path` would answer from the cache alone (ignoring expiry). */
  private peek(path: string): UserfsNode | null {
    const held = this.shadows.get(path);
    if (held !== undefined) return held;
    const node = this.nodes.get(path);
    return node !== undefined && node.entryExpires > 0 ? node : null;
  }

  /** @hidden The cached node at `path`, if any. */
  peekNode(path: string): UserfsNode | undefined {
    return this.nodes.get(path);
  }

  /** @hidden Forget the cached entry of `path` (it changed or went away). */
  forget(path: string): void {
    const node = this.nodes.get(path);
    if (node !== undefined) node.entryExpires = 0;
    this.negative.delete(path);
  }

  /** @hidden Implements lookup for directory `dir`. */
  lookupIn(dir: UserfsNode, name: string, cachedOnly: boolean): UserfsNode | LinuxError | null {
    const path = join(dir.path, name);
    const held = this.shadows.get(path);
    if (held !== undefined) return held ?? E.ENOENT;
    const now = Date.now();
    const node = this.nodes.get(path);
    if (node !== undefined && node.entryExpires > now) return node;
    const neg = this.negative.get(path);
    if (neg !== undefined && neg > now) return E.ENOENT;
    const failed = this.failed.get(path);
    if (failed !== undefined) {
      this.failed.delete(path);
      if (failed.until > now) return failed.err;
    }
    if (cachedOnly) return null;
    const ops = this.ops;
    const lookup = ops.lookup;
    const getattr = ops.getattr;
    if (lookup === undefined && getattr === undefined) return E.ENOENT;
    const r = this.call<UserfsAttr>(
      `lookup:${path}`,
      () =>
        lookup !== undefined
          ? lookup.call(ops, dir.path, name)
          : (getattr as (p: string) => UserfsResult<UserfsAttr>).call(ops, path),
      { apply: (v) => this.cacheLookup(dir, name, v, ASYNC_HOLD_MS) },
    );
    if (r === PENDING) return E.EAGAIN;
    return this.cacheLookup(dir, name, r, 0);
  }

  /** Put a lookup answer into the cache; returns what the lookup answers. */
  private cacheLookup(
    dir: UserfsNode,
    name: string,
    r: UserfsAttr | LinuxError,
    holdMs: number,
  ): UserfsNode | LinuxError {
    const path = join(dir.path, name);
    const now = Date.now();
    if (isError(r)) {
      if (r === E.ENOENT) {
        this.forget(path);
        const t = Math.max(this.options.negativeTimeoutMs ?? 0, holdMs);
        if (t > 0) this.negative.set(path, now + t);
      } else if (holdMs > 0) this.failed.set(path, { err: r, until: now + holdMs });
      return r;
    }
    this.negative.delete(path);
    return this.place(dir, name, r, now + Math.max(this.options.entryTimeoutMs ?? 1000, holdMs));
  }

  /** @hidden The node for `name` in `dir` with attributes `attr`, cached until `expires`. */
  place(dir: UserfsNode, name: string, attr: UserfsAttr, expires: number): UserfsNode {
    const path = join(dir.path, name);
    let node = this.nodes.get(path);
    if (node === undefined || (node.mode & S_IFMT) !== (attr.mode & S_IFMT)) {
      node = new UserfsNode(this, path, attr);
      this.nodes.set(path, node);
    } else node.setAttrs(attr);
    if (node.isDir) {
      node.parent = dir;
      node.name = name;
    }
    node.entryExpires = expires;
    node.attrExpires = Date.now() + (this.options.attrTimeoutMs ?? 1000);
    return node;
  }

  /** @hidden A name went away through this filesystem. */
  removed(path: string): void {
    const node = this.nodes.get(path);
    this.nodes.delete(path);
    this.inos.delete(path);
    this.negative.delete(path);
    if (node?.isDir === true) {
      const below = `${path}/`;
      for (const p of [...this.nodes.keys()]) if (p.startsWith(below)) this.nodes.delete(p);
    }
  }

  /** @hidden A name of the non-directory numbered `ino` went away: its other names lose a link. */
  unlinked(ino: number): void {
    const now = nowNs();
    for (const node of this.nodes.values()) {
      if (node.ino !== ino || node.isDir || node.nlink === 0) continue;
      node.nlink--;
      node.ctimeNs = now;
    }
  }

  /** @hidden `from` became `to` through this filesystem (or they swapped). */
  moved(from: string, to: string, exchange: boolean): void {
    const rekey = <V>(map: Map<string, V>, a: string, b: string): void => {
      const moves: [string, V][] = [];
      for (const [p, v] of map) {
        if (p === a || p.startsWith(`${a}/`)) moves.push([b + p.slice(a.length), v]);
        else if (exchange && (p === b || p.startsWith(`${b}/`))) moves.push([a + p.slice(b.length), v]);
      }
      for (const [p] of map)
        if (p === a || p.startsWith(`${a}/`) || p === b || p.startsWith(`${b}/`)) map.delete(p);
      for (const [p, v] of moves) map.set(p, v);
    };
    rekey(this.nodes, from, to);
    rekey(this.inos, from, to);
    this.negative.delete(from);
    this.negative.delete(to);
    for (const [p, node] of this.nodes) node.path = p;
  }

  /** @hidden Attributes for a file made through this filesystem when the callback gave none. */
  madeAttrs(attrs: CreateAttrs, size: number): UserfsAttr {
    const now = nowNs();
    return {
      mode: attrs.mode,
      uid: attrs.uid,
      gid: attrs.gid,
      size,
      rdev: attrs.rdev,
      atimeNs: now,
      mtimeNs: now,
      ctimeNs: now,
    };
  }
}

/** A file, directory, symlink or node (FIFO, socket, device) of a {@link Userfs}. */
export class UserfsNode extends Inode {
  /** When the name-to-node entry must be looked up again (ms since the epoch). */
  entryExpires = Infinity;
  /** When the attributes must be fetched again. */
  attrExpires = Infinity;
  private sizeBytes = 0;

  constructor(
    readonly fs: Userfs,
    /** The path inside the filesystem. */
    public path: string,
    attr: UserfsAttr,
  ) {
    super();
    this.setAttrs(attr);
  }

  /** Take the attributes a callback reported. */
  setAttrs(a: UserfsAttr): void {
    const fs = this.fs;
    this.mode = a.mode;
    this.ino = a.ino ?? fs.inoFor(this.path);
    this.sizeBytes = a.size ?? 0;
    this.uid = a.uid ?? fs.options.uid ?? 0;
    this.gid = a.gid ?? fs.options.gid ?? 0;
    this.nlink = a.nlink ?? (this.isDir ? 2 : 1);
    this.rdev = a.rdev ?? 0;
    this.atimeNs = a.atimeNs ?? fs.bornNs;
    this.mtimeNs = a.mtimeNs ?? fs.bornNs;
    this.ctimeNs = a.ctimeNs ?? fs.bornNs;
    this.btimeNs = fs.bornNs;
  }

  /** Note a size change made by a write through this filesystem. */
  grew(end: number): void {
    if (end > this.sizeBytes) this.sizeBytes = end;
    const now = nowNs();
    this.mtimeNs = now;
    this.ctimeNs = now;
  }

  override size(): number {
    return this.sizeBytes;
  }

  override blocks(): number {
    return Math.ceil(this.sizeBytes / 512);
  }

  /** Refresh stale attributes with `getattr` (in the background when it answers later). */
  override refresh(): void {
    const fs = this.fs;
    const getattr = fs.ops.getattr;
    if (getattr === undefined || this.attrExpires > Date.now()) return;
    const r = fs.call<UserfsAttr>(`getattr:${this.path}`, () => getattr.call(fs.ops, this.path), {
      apply: (v) => {
        if (!isError(v)) this.fresh(v);
      },
    });
    if (r !== PENDING && !isError(r)) this.fresh(r);
  }

  /** @hidden Take attributes a callback just reported for this file. */
  fresh(a: UserfsAttr): void {
    if ((a.mode & S_IFMT) !== (this.mode & S_IFMT)) return;
    this.setAttrs(a);
    this.attrExpires = Date.now() + (this.fs.options.attrTimeoutMs ?? 1000);
  }

  override lookup(name: string): Inode | LinuxError {
    if (!this.isDir) return E.ENOTDIR;
    return this.fs.lookupIn(this, name, false) ?? E.ENOENT;
  }

  override lookupCached(name: string): Inode | LinuxError | null {
    if (!this.isDir) return E.ENOTDIR;
    return this.fs.lookupIn(this, name, true);
  }

  /** The shared part of create, mkdir and symlink. */
  private make(
    name: string,
    attrs: CreateAttrs,
    cb: ((caller: UserfsCaller) => UserfsResult<UserfsAttr | undefined>) | undefined,
    kind: string,
    fallback: () => Inode | LinuxError,
    size = 0,
  ): Inode | LinuxError {
    if (cb === undefined) return fallback();
    const fs = this.fs;
    const path = join(this.path, name);
    const r = fs.call(`${kind}:${path}`, () => cb({ uid: attrs.uid, gid: attrs.gid }), { shadows: [path] });
    if (r === PENDING) return E.EAGAIN;
    if (isError(r)) return r;
    this.changed();
    const made = fs.place(
      this,
      name,
      r ?? fs.madeAttrs(attrs, size),
      Date.now() + (fs.options.entryTimeoutMs ?? 1000),
    );
    if (kind === 'create') {
      // open(O_CREAT) opens the new file in the same call: see UserfsNode.open.
      fs.justCreated = made;
      queueMicrotask(() => {
        if (fs.justCreated === made) fs.justCreated = null;
      });
    }
    return made;
  }

  /** This directory's entries changed through the filesystem. */
  private changed(): void {
    const now = nowNs();
    this.mtimeNs = now;
    this.ctimeNs = now;
  }

  override create(name: string, attrs: CreateAttrs): Inode | LinuxError {
    const { ops } = this.fs;
    const create = ops.create;
    const path = join(this.path, name);
    return this.make(name, attrs, create && ((c) => create.call(ops, path, attrs.mode, c)), 'create', () =>
      super.create(name, attrs),
    );
  }

  override mknod(name: string, attrs: CreateAttrs): Inode | LinuxError {
    const { ops } = this.fs;
    const mknod = ops.mknod;
    const path = join(this.path, name);
    return this.make(
      name,
      attrs,
      mknod && ((c) => mknod.call(ops, path, attrs.mode, attrs.rdev, c)),
      'mknod',
      () => super.mknod(name, attrs),
    );
  }

  override link(name: string, target: Inode): LinuxError | undefined {
    const fs = this.fs;
    const link = fs.ops.link;
    // vfs_link: a directory without a link operation is EPERM.
    if (link === undefined) return E.EPERM;
    if (!(target instanceof UserfsNode) || target.fs !== fs) return E.EXDEV;
    const path = join(this.path, name);
    const from = target.path;
    const r = fs.call(`link:${from}:${path}`, () => link.call(fs.ops, from, path), { shadows: [path] });
    if (r === PENDING) return E.EAGAIN;
    if (isError(r)) return r;
    if (r !== undefined) target.fresh({ ...r, ino: r.ino ?? target.ino });
    else {
      target.nlink++;
      target.ctimeNs = nowNs();
    }
    this.changed();
    // The new name is the same file: same inode number, attributes and link count.
    fs.place(this, name, target.attrs(), Date.now() + (fs.options.entryTimeoutMs ?? 1000));
    return undefined;
  }

  /** The cached attributes, as a callback would report them. */
  attrs(): UserfsAttr {
    return {
      mode: this.mode,
      size: this.sizeBytes,
      uid: this.uid,
      gid: this.gid,
      nlink: this.nlink,
      ino: this.ino,
      rdev: this.rdev,
      atimeNs: this.atimeNs,
      mtimeNs: this.mtimeNs,
      ctimeNs: this.ctimeNs,
    };
  }

  override getxattr(name: string): Uint8Array | LinuxError {
    const fs = this.fs;
    const getxattr = fs.ops.getxattr;
    // No xattr handlers: __vfs_getxattr's EOPNOTSUPP.
    if (getxattr === undefined) return E.EOPNOTSUPP;
    const r = fs.call(`getxattr:${this.path}:${name}`, () => getxattr.call(fs.ops, this.path, name));
    return r === PENDING ? E.EAGAIN : r;
  }

  override listxattr(): string[] | LinuxError {
    const fs = this.fs;
    const listxattr = fs.ops.listxattr;
    // No listxattr operation: vfs_listxattr lists only security labels, of which there are none.
    if (listxattr === undefined) return [];
    const r = fs.call(`listxattr:${this.path}`, () => listxattr.call(fs.ops, this.path));
    if (r === PENDING) return E.EAGAIN;
    return isError(r) ? r : [...r];
  }

  override setxattr(name: string, value: Uint8Array, flags: number): LinuxError | undefined {
    const fs = this.fs;
    const setxattr = fs.ops.setxattr;
    if (setxattr === undefined) return E.EOPNOTSUPP;
    const copy = value.slice();
    // The value is part of the key: a repeated call with other bytes is another operation.
    const key = `setxattr:${this.path}:${name}:${flags}:${Buffer.from(copy).toString('latin1')}`;
    const r = fs.call(key, () => setxattr.call(fs.ops, this.path, name, copy, flags));
    if (r === PENDING) return E.EAGAIN;
    if (isError(r)) return r;
    this.ctimeNs = nowNs();
    return undefined;
  }

  override removexattr(name: string): LinuxError | undefined {
    const fs = this.fs;
    const removexattr = fs.ops.removexattr;
    if (removexattr === undefined) return E.EOPNOTSUPP;
    const r = fs.call(`removexattr:${this.path}:${name}`, () => removexattr.call(fs.ops, this.path, name));
    if (r === PENDING) return E.EAGAIN;
    if (isError(r)) return r;
    this.ctimeNs = nowNs();
    return undefined;
  }

  override mkdir(name: string, attrs: CreateAttrs): Inode | LinuxError {
    const { ops } = this.fs;
    const mkdir = ops.mkdir;
    const path = join(this.path, name);
    return this.make(name, attrs, mkdir && ((c) => mkdir.call(ops, path, attrs.mode, c)), 'mkdir', () =>
      super.mkdir(name, attrs),
    );
  }

  override symlink(name: string, target: string, attrs: CreateAttrs): Inode | LinuxError {
    const { ops } = this.fs;
    const symlink = ops.symlink;
    const path = join(this.path, name);
    return this.make(
      name,
      attrs,
      symlink && ((c) => symlink.call(ops, target, path, c)),
      'symlink',
      () => super.symlink(name, target, attrs),
      target.length,
    );
  }

  /** The shared part of unlink and rmdir. */
  private remove(
    name: string,
    cb: ((path: string) => UserfsResult<undefined | void>) | undefined,
    kind: string,
  ): LinuxError | undefined {
    const fs = this.fs;
    const path = join(this.path, name);
    if (cb === undefined) return E.EPERM;
    const r = fs.call(`${kind}:${path}`, () => cb.call(fs.ops, path), { shadows: [path] });
    if (r === PENDING) return E.EAGAIN;
    if (isError(r)) return r;
    const gone = fs.peekNode(path);
    fs.removed(path);
    // The file's other names (hard links) lose one link, as its inode does in the kernel.
    if (gone !== undefined && !gone.isDir && gone.nlink > 1) fs.unlinked(gone.ino);
    this.changed();
    return undefined;
  }

  override unlink(name: string, _child: Inode): LinuxError | undefined {
    return this.remove(name, this.fs.ops.unlink, 'unlink');
  }

  override rmdir(name: string, _child: Inode): LinuxError | undefined {
    return this.remove(name, this.fs.ops.rmdir, 'rmdir');
  }

  override rename(
    oldName: string,
    _moved: Inode,
    newDir: Inode,
    newName: string,
    _replaced: Inode | null,
    exchange: boolean,
  ): LinuxError | undefined {
    const fs = this.fs;
    const rename = fs.ops.rename;
    if (rename === undefined) return E.EPERM;
    if (!(newDir instanceof UserfsNode) || newDir.fs !== fs) return E.EXDEV;
    const from = join(this.path, oldName);
    const to = join(newDir.path, newName);
    const flags = exchange ? RENAME_EXCHANGE : 0;
    const r = fs.call(`rename:${flags}:${from}:${to}`, () => rename.call(fs.ops, from, to, flags), {
      shadows: [from, to],
    });
    if (r === PENDING) return E.EAGAIN;
    if (isError(r)) return r;
    if (!exchange) fs.removed(to);
    fs.moved(from, to, exchange);
    const moved = fs.peekNode(to);
    if (moved?.isDir === true) {
      moved.parent = newDir;
      moved.name = newName;
    }
    const other = exchange ? fs.peekNode(from) : undefined;
    if (other?.isDir === true) {
      other.parent = this;
      other.name = oldName;
    }
    this.changed();
    newDir.changed();
    return undefined;
  }

  override readlink(): string | LinuxError {
    const fs = this.fs;
    const readlink = fs.ops.readlink;
    if (!this.isSymlink || readlink === undefined) return E.EINVAL;
    const r = fs.call(`readlink:${this.path}`, () => readlink.call(fs.ops, this.path));
    return r === PENDING ? E.EAGAIN : r;
  }

  override setattr(attr: SetAttr): LinuxError | undefined {
    const fs = this.fs;
    const setattr = fs.ops.setattr;
    // No setattr: Linux's simple_setattr, which changes only the in-memory inode.
    if (setattr === undefined) return attr.size !== undefined ? E.EPERM : super.setattr(attr);
    const changes: UserfsSetattr = {};
    if (attr.mode !== undefined) changes.mode = attr.mode;
    if (attr.uid !== undefined) changes.uid = attr.uid;
    if (attr.gid !== undefined) changes.gid = attr.gid;
    if (attr.size !== undefined) changes.size = attr.size;
    if (attr.atimeNs !== undefined) changes.atimeNs = attr.atimeNs;
    if (attr.mtimeNs !== undefined) changes.mtimeNs = attr.mtimeNs;
    // Times are left out of the key: a repeated truncate or utimensat(UTIME_NOW) computes a
    // new "now", and must still find the answer of the call it repeats.
    const key = `setattr:${this.path}:${changes.mode}:${changes.uid}:${changes.gid}:${changes.size}:${changes.atimeNs !== undefined}:${changes.mtimeNs !== undefined}`;
    const r = fs.call(key, () => setattr.call(fs.ops, this.path, changes));
    if (r === PENDING) return E.EAGAIN;
    if (isError(r)) return r;
    if (r !== undefined) this.fresh(r);
    else {
      if (attr.mode !== undefined) this.mode = (this.mode & S_IFMT) | (attr.mode & 0o7777);
      if (attr.uid !== undefined) this.uid = attr.uid;
      if (attr.gid !== undefined) this.gid = attr.gid;
      if (attr.size !== undefined) this.sizeBytes = attr.size;
      if (attr.atimeNs !== undefined) this.atimeNs = attr.atimeNs;
      if (attr.mtimeNs !== undefined) this.mtimeNs = attr.mtimeNs;
      if (attr.ctimeNs !== undefined) this.ctimeNs = attr.ctimeNs;
    }
    return undefined;
  }

  override truncate(size: number): LinuxError | undefined {
    return this.setattr({ size });
  }

  override open(flags: number): FileDescriptionImpl | LinuxError {
    const fs = this.fs;
    if (this.isDir) return new UserfsDirFile(this);
    if ((this.mode & S_IFMT) !== S_IFREG) return E.ENXIO;
    const open = fs.ops.open;
    if (open === undefined) return new UserfsFile(this, undefined);
    if (fs.justCreated === this) {
      // The file was made by this very open(O_CREAT): a repeated call would now find it and
      // fail O_EXCL, so an async open does not restart the call; the description exists at
      // once and its I/O waits for the handle (an open error shows at the first read/write).
      fs.justCreated = null;
      let r: UserfsResult<unknown>;
      try {
        r = open.call(fs.ops, this.path, flags);
      } catch (e) {
        return toError(e);
      }
      if (!isPromise<unknown>(r)) return isError(r) ? r : new UserfsFile(this, r);
      const file = new UserfsFile(this, undefined);
      file.awaitHandle(r);
      return file;
    }
    const r = fs.call(`open:${this.path}:${flags}`, () => open.call(fs.ops, this.path, flags));
    if (r === PENDING) return E.EAGAIN;
    if (isError(r)) return r;
    return new UserfsFile(this, r);
  }
}

let nextFileId = 1;
/** POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM: what a regular file always is, between answers. */
const READY = DEFAULT_POLLMASK;

/** An open userfs regular file: every read and write goes to the callbacks. */
class UserfsFile extends FileDescriptionImpl {
  private readonly id = nextFileId++;
  private readonly queue = new WaitQueue();
  private busy = 0;
  /** While the handle of an async open is on its way: the promise; after a failed one: the error. */
  private opening: Promise<unknown> | LinuxError | null = null;

  constructor(
    readonly node: UserfsNode,
    public handle: unknown,
  ) {
    super();
  }

  /** Take the handle from an open callback's promise; I/O waits for it. */
  awaitHandle(p: Promise<unknown>): void {
    this.busy++;
    const done = (v: unknown): void => {
      this.busy--;
      if (isError(v)) this.opening = v;
      else {
        this.opening = null;
        this.handle = v;
      }
      this.queue.notify(READY);
    };
    this.opening = p.then(done, (e: unknown) => done(toError(e)));
  }

  override get waitQueue(): WaitQueue {
    return this.queue;
  }

  /** Not ready while an answer is on its way, so a blocked reader sleeps until it comes. */
  override readiness(mask: number): number {
    return this.busy > 0 ? 0 : mask & READY;
  }

  private io<T>(key: string, start: () => UserfsResult<T>): T | LinuxError | WouldBlock {
    const opening = this.opening;
    if (opening !== null) {
      if (isError(opening)) return opening;
      notePendingIo(opening);
      return WOULD_BLOCK;
    }
    const fs = this.node.fs;
    const r = fs.call<T>(
      key,
      () => {
        const out = start();
        if (isPromise(out)) this.busy++;
        return out;
      },
      {
        ready: () => {
          this.busy--;
          this.queue.notify(READY);
        },
      },
    );
    return r === PENDING ? WOULD_BLOCK : r;
  }

  override read(dst: Uint8Array, offset: number): number | LinuxError | WouldBlock {
    const { fs, path } = this.node;
    const read = fs.ops.read;
    if (read === undefined) return E.EINVAL;
    const len = dst.length;
    const r = this.io(`read:${this.id}:${offset}:${len}`, () =>
      read.call(fs.ops, path, offset, len, this.handle),
    );
    if (typeof r !== 'object' || isError(r)) return r;
    const n = Math.min(r.length, len);
    dst.set(r.subarray(0, n));
    return n;
  }

  override write(src: Uint8Array, offset: number): number | LinuxError | WouldBlock {
    const { fs, path } = this.node;
    const write = fs.ops.write;
    if (write === undefined) return E.EINVAL;
    const data = src.slice();
    const r = this.io(`write:${this.id}:${offset}:${src.length}`, () =>
      write.call(fs.ops, path, data, offset, this.handle),
    );
    if (typeof r === 'number') this.node.grew(offset + r);
    return r;
  }

  override fsync(): LinuxError | undefined {
    return undefined;
  }

  override release(): void {
    const { fs, path } = this.node;
    const release = fs.ops.release;
    if (release === undefined) return;
    const opening = this.opening;
    if (isError(opening)) return;
    if (opening !== null) {
      // Closed before the handle came: release it when it does.
      void opening.then(() => {
        if (this.opening === null) this.release();
      });
      return;
    }
    try {
      const r = release.call(fs.ops, path, this.handle);
      if (isPromise(r)) r.catch(() => undefined);
    } catch {
      // close(2) of a FUSE file does not report release errors either.
    }
  }
}

/** An open userfs directory: the listing from `readdir`, taken at the first read and at each rewind. */
class UserfsDirFile extends DirFileImpl {
  private listing: { name: string; ino: number; type: number }[] | null = null;
  private readonly id = nextFileId++;

  constructor(protected override readonly dir: UserfsNode) {
    super();
  }

  private list(): LinuxError | undefined {
    const node = this.dir;
    const fs = node.fs;
    const readdir = fs.ops.readdir;
    if (readdir === undefined) return E.ENOTDIR;
    const r = fs.call(`readdir:${this.id}`, () => readdir.call(fs.ops, node.path));
    if (r === PENDING) return E.EAGAIN;
    if (isError(r)) return r;
    this.listing = r.map((e) => {
      const name = typeof e === 'string' ? e : e.name;
      const path = join(node.path, name);
      const cached = fs.peekNode(path);
      const mode = typeof e === 'string' ? (cached?.mode ?? 0) : (e.mode ?? cached?.mode ?? 0);
      const ino = (typeof e === 'string' ? undefined : e.ino) ?? cached?.ino ?? fs.inoFor(path);
      return { name, ino, type: mode === 0 ? 0 : direntType(mode) };
    });
    return undefined;
  }

  override getdents(pos: number, sink: DirentSink): number | LinuxError {
    if (pos === 0 || this.listing === null) {
      const err = this.list();
      if (err) return err;
    }
    return super.getdents(pos, sink);
  }

  protected override entriesFrom(pos: number, sink: DirentSink): number | LinuxError {
    const list = this.listing ?? [];
    for (let i = pos - 2; i < list.length; i++) {
      const e = list[i];
      if (e === undefined) break;
      if (!sink(e.ino, i + 3, e.type, e.name)) return i + 2;
    }
    return list.length + 2;
  }

  /** dcache_dir_lseek-like: SEEK_SET to any offset (a rewind re-reads the listing). */
  override seek(file: FileDescription, offset: number, whence: number): number | LinuxError {
    if (whence !== SEEK_SET) return super.seek(file, offset, whence);
    return offset < 0 ? E.EINVAL : offset;
  }
}
