/**
 * A `node:fs/promises`-shaped facade over a {@link Vfs}, for memfs-style use: string paths,
 * Buffers, Stats objects and Node-style errors (`code`, `errno`, `syscall`, `path`), over the
 * same Linux semantics as the syscall API. Every call goes through {@link settleVfs}, so mounts
 * whose callbacks answer later ({@link Userfs}) work too.
 *
 * Paths are UTF-8 (Node's default); they are passed to the VFS as their bytes.
 *
 * @module
 */

import { E, isError } from '@tsvisor/abi';
import type { LinuxError } from '@tsvisor/abi';
import { getSystemErrorMap } from 'node:util';
import {
  AT_FDCWD,
  DT_BLK,
  DT_CHR,
  DT_DIR,
  DT_FIFO,
  DT_LNK,
  DT_REG,
  DT_SOCK,
  DT_UNKNOWN,
  O_APPEND,
  O_CREAT,
  O_DIRECTORY,
  O_EXCL,
  O_RDONLY,
  O_RDWR,
  O_SYNC,
  O_TRUNC,
  O_WRONLY,
  S_IFBLK,
  S_IFCHR,
  S_IFDIR,
  S_IFIFO,
  S_IFLNK,
  S_IFMT,
  S_IFREG,
  S_IFSOCK,
} from './constants.js';
import { settleVfs } from './pending-io.js';
import { Posix } from './posix.js';
import { ROOT_CREDS } from './types.js';
import type { Creds, Stat } from './types.js';
import type { Vfs } from './vfs.js';

/** A path as Node takes it: a UTF-8 string or the raw bytes. */
export type PathLike = string | Uint8Array;

const bytes = (p: PathLike): string =>
  typeof p === 'string' ? Buffer.from(p, 'utf8').toString('latin1') : Buffer.from(p).toString('latin1');
const text = (b: string): string => Buffer.from(b, 'latin1').toString('utf8');
const shown = (p: PathLike): string => (typeof p === 'string' ? p : Buffer.from(p).toString('utf8'));

let errorMap: Map<number, [string, string]> | null = null;

/**
 * The error Node's fs gives for errno `err`: an Error with `code` ('ENOENT'), negative `errno`,
 * `syscall`, `path` (and `dest`), and Node's message format.
 */
export interface FsError extends Error {
  code: string;
  errno: number;
  syscall: string;
  path?: string;
  dest?: string;
}

/** Make the Node-style error for `err` from `syscall` on `path` (and `dest`). */
export function fsError(err: LinuxError, syscall: string, path?: string, dest?: string): FsError {
  errorMap ??= getSystemErrorMap();
  const desc = errorMap.get(-err.errno)?.[1] ?? err.message.toLowerCase();
  let message = `${err.name}: ${desc}, ${syscall}`;
  if (path !== undefined) message += ` '${path}'`;
  if (dest !== undefined) message += ` -> '${dest}'`;
  const e = new Error(message) as FsError;
  e.errno = -err.errno;
  e.code = err.name;
  e.syscall = syscall;
  if (path !== undefined) e.path = path;
  if (dest !== undefined) e.dest = dest;
  return e;
}

/** A file's status as Node's `fs.Stats` shows it. */
export class Stats {
  dev: number;
  ino: number;
  mode: number;
  nlink: number;
  uid: number;
  gid: number;
  rdev: number;
  size: number;
  blksize: number;
  blocks: number;
  atimeMs: number;
  mtimeMs: number;
  ctimeMs: number;
  birthtimeMs: number;
  atime: Date;
  mtime: Date;
  ctime: Date;
  birthtime: Date;

  constructor(st: Stat) {
    const ms = (ns: bigint): number => Number(ns / 1000n) / 1000;
    this.dev = st.dev;
    this.ino = st.ino;
    this.mode = st.mode;
    this.nlink = st.nlink;
    this.uid = st.uid;
    this.gid = st.gid;
    this.rdev = st.rdev;
    this.size = st.size;
    this.blksize = st.blksize;
    this.blocks = st.blocks;
    this.atimeMs = ms(st.atimeNs);
    this.mtimeMs = ms(st.mtimeNs);
    this.ctimeMs = ms(st.ctimeNs);
    this.birthtimeMs = ms(st.btimeNs);
    this.atime = new Date(this.atimeMs);
    this.mtime = new Date(this.mtimeMs);
    this.ctime = new Date(this.ctimeMs);
    this.birthtime = new Date(this.birthtimeMs);
  }

  private is(type: number): boolean {
    return (this.mode & S_IFMT) === type;
  }
  isFile(): boolean {
    return this.is(S_IFREG);
  }
  isDirectory(): boolean {
    return this.is(S_IFDIR);
  }
  isSymbolicLink(): boolean {
    return this.is(S_IFLNK);
  }
  isFIFO(): boolean {
    return this.is(S_IFIFO);
  }
  isSocket(): boolean {
    return this.is(S_IFSOCK);
  }
  isCharacterDevice(): boolean {
    return this.is(S_IFCHR);
  }
  isBlockDevice(): boolean {
    return this.is(S_IFBLK);
  }
}

/** A directory entry as Node's `fs.Dirent` shows it (`readdir(..., { withFileTypes: true })`). */
export class Dirent {
  constructor(
    readonly name: string,
    /** The directory it was read from. */
    readonly parentPath: string,
    private readonly type: number,
  ) {}
  /** Node's older name for {@link Dirent.parentPath}. */
  get path(): string {
    return this.parentPath;
  }
  isFile(): boolean {
    return this.type === DT_REG;
  }
  isDirectory(): boolean {
    return this.type === DT_DIR;
  }
  isSymbolicLink(): boolean {
    return this.type === DT_LNK;
  }
  isFIFO(): boolean {
    return this.type === DT_FIFO;
  }
  isSocket(): boolean {
    return this.type === DT_SOCK;
  }
  isCharacterDevice(): boolean {
    return this.type === DT_CHR;
  }
  isBlockDevice(): boolean {
    return this.type === DT_BLK;
  }
}

/** Node's string flags for open/readFile/writeFile. */
const FLAGS: Record<string, number> = {
  r: O_RDONLY,
  'r+': O_RDWR,
  rs: O_RDONLY | O_SYNC,
  'rs+': O_RDWR | O_SYNC,
  w: O_TRUNC | O_CREAT | O_WRONLY,
  wx: O_TRUNC | O_CREAT | O_WRONLY | O_EXCL,
  'w+': O_TRUNC | O_CREAT | O_RDWR,
  'wx+': O_TRUNC | O_CREAT | O_RDWR | O_EXCL,
  a: O_APPEND | O_CREAT | O_WRONLY,
  ax: O_APPEND | O_CREAT | O_WRONLY | O_EXCL,
  as: O_APPEND | O_CREAT | O_WRONLY | O_SYNC,
  'a+': O_APPEND | O_CREAT | O_RDWR,
  'ax+': O_APPEND | O_CREAT | O_RDWR | O_EXCL,
  'as+': O_APPEND | O_CREAT | O_RDWR | O_SYNC,
};

function openFlags(flag: string | number | undefined, fallback: string): number {
  if (typeof flag === 'number') return flag;
  const f = FLAGS[flag ?? fallback];
  if (f === undefined) throw new TypeError(`Invalid value in flags: ${String(flag)}`);
  return f;
}

/** Seconds (number), a numeric string or a Date, as Node's utimes takes times. */
export type TimeLike = number | string | Date;

function timespec(t: TimeLike): { sec: number; nsec: number } {
  const s = t instanceof Date ? t.getTime() / 1000 : Number(t);
  const sec = Math.floor(s);
  return { sec, nsec: Math.round((s - sec) * 1e9) };
}

/** Options of {@link FsPromises}. */
export interface FsPromisesOptions {
  /** Who asks (default root). */
  creds?: Creds;
  /** The umask (default 0o022). */
  umask?: number;
  /** The working directory for relative paths (default `/`). */
  cwd?: string;
}

/** Text encodings readFile and writeFile take, as Node names them. */
export type Encoding = BufferEncoding;

/**
 * The `node:fs/promises` API over a {@link Vfs}.
 *
 * @example
 * ```ts
 * const fs = new FsPromises(new Vfs(new Tmpfs()));
 * await fs.mkdir('/a/b', { recursive: true });
 * await fs.writeFile('/a/b/c.txt', 'hello');
 * await fs.readFile('/a/b/c.txt', 'utf8'); // 'hello'
 * ```
 */
export class FsPromises {
  /** The numeric-fd API underneath (for what this facade does not cover). */
  readonly posix: Posix;

  constructor(vfs: Vfs, options: FsPromisesOptions = {}) {
    this.posix = new Posix(vfs, options.creds ?? ROOT_CREDS);
    this.posix.umask(options.umask ?? 0o022);
    if (options.cwd !== undefined) {
      const r = this.posix.chdir(bytes(options.cwd));
      if (isError(r)) throw fsError(r, 'chdir', options.cwd);
    }
  }

  /** Run a VFS call to its end; throw the Node error for an errno. */
  private async run<T>(
    op: () => T | LinuxError,
    syscall: string,
    path?: PathLike,
    dest?: PathLike,
  ): Promise<T> {
    const r = await settleVfs(op);
    if (isError(r))
      throw fsError(
        r,
        syscall,
        path === undefined ? undefined : shown(path),
        dest === undefined ? undefined : shown(dest),
      );
    return r as T;
  }

  /** Implements fsPromises.open: a {@link FileHandle}. */
  async open(path: PathLike, flags: string | number = 'r', mode = 0o666): Promise<FileHandle> {
    const p = this.posix;
    const fd = await this.run(() => p.open(bytes(path), openFlags(flags, 'r'), mode), 'open', path);
    return new FileHandle(this, fd);
  }

  /** Implements fsPromises.readFile: a Buffer, or a string with an encoding. */
  async readFile(
    path: PathLike,
    options?: Encoding | { encoding?: Encoding | null; flag?: string },
  ): Promise<Buffer>;
  async readFile(path: PathLike, options: Encoding | { encoding: Encoding }): Promise<string>;
  async readFile(
    path: PathLike,
    options?: Encoding | { encoding?: Encoding | null; flag?: string },
  ): Promise<Buffer | string> {
    const o = typeof options === 'string' ? { encoding: options } : (options ?? {});
    const h = await this.open(path, o.flag ?? 'r');
    try {
      const data = await h.readAll();
      return o.encoding ? data.toString(o.encoding) : data;
    } finally {
      await h.close();
    }
  }

  /** Implements fsPromises.writeFile. */
  async writeFile(
    path: PathLike,
    data: string | Uint8Array,
    options?: Encoding | { encoding?: Encoding; mode?: number; flag?: string },
  ): Promise<void> {
    const o = typeof options === 'string' ? { encoding: options } : (options ?? {});
    const h = await this.open(path, o.flag ?? 'w', o.mode ?? 0o666);
    try {
      await h.writeAll(typeof data === 'string' ? Buffer.from(data, o.encoding ?? 'utf8') : data);
    } finally {
      await h.close();
    }
  }

  /** Implements fsPromises.appendFile. */
  async appendFile(
    path: PathLike,
    data: string | Uint8Array,
    options?: Encoding | { encoding?: Encoding; mode?: number; flag?: string },
  ): Promise<void> {
    const o = typeof options === 'string' ? { encoding: options } : (options ?? {});
    await this.writeFile(path, data, { ...o, flag: o.flag ?? 'a' });
  }

  /**
   * Implements fsPromises.mkdir. With `recursive`, missing parents are made too, an existing
   * directory is no error, and the result is the first directory made (undefined if none).
   */
  async mkdir(
    path: PathLike,
    options?: number | { recursive?: boolean; mode?: number },
  ): Promise<string | undefined> {
    const o = typeof options === 'number' ? { mode: options } : (options ?? {});
    const mode = o.mode ?? 0o777;
    const p = this.posix;
    const target = bytes(path);
    if (o.recursive !== true) {
      await this.run(() => p.mkdir(target, mode), 'mkdir', path);
      return undefined;
    }
    // Walk up to the first existing ancestor, then make the rest downwards (Node's MKDirp).
    const missing: string[] = [];
    let cur = target;
    for (;;) {
      const st = await settleVfs(() => p.stat(cur));
      if (!isError(st)) {
        if ((st.mode & S_IFMT) !== S_IFDIR)
          throw fsError(missing.length === 0 ? E.EEXIST : E.ENOTDIR, 'mkdir', shown(path));
        break;
      }
      if (st !== E.ENOENT) throw fsError(st, 'mkdir', shown(path));
      missing.push(cur);
      const cut = cur.replace(/\/+$/, '').lastIndexOf('/');
      if (cut < 0) break;
      cur = cut === 0 ? '/' : cur.slice(0, cut);
    }
    let first: string | undefined;
    for (const dir of missing.reverse()) {
      const r = await settleVfs(() => p.mkdir(dir, mode));
      if (isError(r) && r !== E.EEXIST) throw fsError(r, 'mkdir', shown(path));
      if (!isError(r)) first ??= text(dir);
    }
    return first;
  }

  /** Implements fsPromises.readdir: names, or {@link Dirent}s with `withFileTypes`. */
  async readdir(
    path: PathLike,
    options?: { withFileTypes?: false; encoding?: Encoding } | Encoding,
  ): Promise<string[]>;
  async readdir(path: PathLike, options: { withFileTypes: true }): Promise<Dirent[]>;
  async readdir(
    path: PathLike,
    options?: { withFileTypes?: boolean; encoding?: Encoding } | Encoding,
  ): Promise<string[] | Dirent[]> {
    const p = this.posix;
    const fd = await this.run(() => p.open(bytes(path), O_RDONLY | O_DIRECTORY), 'scandir', path);
    try {
      const list = await this.run(() => p.getdents(fd), 'scandir', path);
      const entries = list.filter((d) => d.name !== '.' && d.name !== '..');
      if (typeof options !== 'object' || options.withFileTypes !== true)
        return entries.map((d) => text(d.name));
      const out: Dirent[] = [];
      for (const d of entries) {
        let type = d.type;
        if (type === DT_UNKNOWN) {
          const st = await settleVfs(() => p.fstatat(fd, d.name, 0x100 /* AT_SYMLINK_NOFOLLOW */));
          if (!isError(st)) type = dtOf(st.mode);
        }
        out.push(new Dirent(text(d.name), shown(path), type));
      }
      return out;
    } finally {
      p.close(fd);
    }
  }

  /** Implements fsPromises.stat. */
  async stat(path: PathLike): Promise<Stats> {
    const p = this.posix;
    return new Stats(await this.run(() => p.stat(bytes(path)), 'stat', path));
  }

  /** Implements fsPromises.lstat. */
  async lstat(path: PathLike): Promise<Stats> {
    const p = this.posix;
    return new Stats(await this.run(() => p.lstat(bytes(path)), 'lstat', path));
  }

  /** Implements fsPromises.rename. */
  async rename(oldPath: PathLike, newPath: PathLike): Promise<void> {
    const p = this.posix;
    await this.run(() => p.rename(bytes(oldPath), bytes(newPath)), 'rename', oldPath, newPath);
  }

  /** Implements fsPromises.unlink. */
  async unlink(path: PathLike): Promise<void> {
    const p = this.posix;
    await this.run(() => p.unlink(bytes(path)), 'unlink', path);
  }

  /** Implements fsPromises.rmdir (without the deprecated `recursive`). */
  async rmdir(path: PathLike): Promise<void> {
    const p = this.posix;
    await this.run(() => p.rmdir(bytes(path)), 'rmdir', path);
  }

  /**
   * Implements fsPromises.rm: a file or symlink, or with `recursive` a directory and everything
   * in it; `force` ignores a missing path. A directory without `recursive` is Node's
   * ERR_FS_EISDIR.
   */
  async rm(path: PathLike, options: { recursive?: boolean; force?: boolean } = {}): Promise<void> {
    const p = this.posix;
    const target = bytes(path);
    const st = await settleVfs(() => p.lstat(target));
    if (isError(st)) {
      if (st === E.ENOENT && options.force === true) return;
      throw fsError(st, 'lstat', shown(path));
    }
    if ((st.mode & S_IFMT) !== S_IFDIR) {
      await this.run(() => p.unlink(target), 'unlink', path);
      return;
    }
    if (options.recursive !== true) {
      const e = fsError(E.EISDIR, 'rm', shown(path));
      e.code = 'ERR_FS_EISDIR';
      e.errno = E.EISDIR.errno; // Node's SystemError keeps it positive
      e.message = `Path is a directory: rm returned EISDIR (is a directory) ${shown(path)}`;
      throw e;
    }
    await this.removeTree(target, path);
  }

  private async removeTree(dir: string, shownPath: PathLike): Promise<void> {
    const p = this.posix;
    const fd = await this.run(() => p.open(dir, O_RDONLY | O_DIRECTORY), 'scandir', shownPath);
    let list;
    try {
      list = await this.run(() => p.getdents(fd), 'scandir', shownPath);
    } finally {
      p.close(fd);
    }
    for (const d of list) {
      if (d.name === '.' || d.name === '..') continue;
      const child = dir.endsWith('/') ? dir + d.name : `${dir}/${d.name}`;
      const st = await this.run(() => p.lstat(child), 'lstat', text(child));
      if ((st.mode & S_IFMT) === S_IFDIR) await this.removeTree(child, text(child));
      else await this.run(() => p.unlink(child), 'unlink', text(child));
    }
    await this.run(() => p.rmdir(dir), 'rmdir', shownPath);
  }

  /** Implements fsPromises.symlink (`type` is ignored, as on Linux). */
  async symlink(target: PathLike, path: PathLike, _type?: string): Promise<void> {
    const p = this.posix;
    await this.run(() => p.symlink(bytes(target), bytes(path)), 'symlink', target, path);
  }

  /** Implements fsPromises.readlink. */
  async readlink(path: PathLike): Promise<string> {
    const p = this.posix;
    return text(await this.run(() => p.readlink(bytes(path)), 'readlink', path));
  }

  /** Implements fsPromises.link. */
  async link(existingPath: PathLike, newPath: PathLike): Promise<void> {
    const p = this.posix;
    await this.run(() => p.link(bytes(existingPath), bytes(newPath)), 'link', existingPath, newPath);
  }

  /** Implements fsPromises.realpath: the absolute path with every symlink, `.` and `..` resolved. */
  async realpath(path: PathLike): Promise<string> {
    const p = this.posix;
    const cwd = p.getcwd();
    if (isError(cwd)) throw fsError(cwd, 'realpath', shown(path));
    let rest = bytes(path).split('/');
    let done: string[] = bytes(path).startsWith('/') ? [] : cwd.split('/').filter((c) => c !== '');
    let links = 0;
    while (rest.length > 0) {
      const c = rest.shift() as string;
      if (c === '' || c === '.') continue;
      if (c === '..') {
        done.pop();
        continue;
      }
      const here = `/${[...done, c].join('/')}`;
      const st = await settleVfs(() => p.lstat(here));
      if (isError(st)) throw fsError(st, 'realpath', shown(path));
      if ((st.mode & S_IFMT) === S_IFLNK) {
        if (++links > 40) throw fsError(E.ELOOP, 'realpath', shown(path));
        const t = await this.run(() => p.readlink(here), 'realpath', path);
        if (t.startsWith('/')) done = [];
        rest = [...t.split('/'), ...rest];
        continue;
      }
      if ((st.mode & S_IFMT) !== S_IFDIR && rest.some((r) => r !== '')) {
        throw fsError(E.ENOTDIR, 'realpath', shown(path));
      }
      done.push(c);
    }
    return text(`/${done.join('/')}`);
  }

  /** Implements fsPromises.access (mode F_OK, R_OK, W_OK, X_OK). */
  async access(path: PathLike, mode = 0): Promise<void> {
    const p = this.posix;
    await this.run(() => p.access(bytes(path), mode), 'access', path);
  }

  /** Implements fsPromises.chmod. */
  async chmod(path: PathLike, mode: number): Promise<void> {
    const p = this.posix;
    await this.run(() => p.chmod(bytes(path), mode), 'chmod', path);
  }

  /** Implements fsPromises.chown. */
  async chown(path: PathLike, uid: number, gid: number): Promise<void> {
    const p = this.posix;
    await this.run(() => p.chown(bytes(path), uid, gid), 'chown', path);
  }

  /** Implements fsPromises.utimes (seconds, numeric strings or Dates). */
  async utimes(path: PathLike, atime: TimeLike, mtime: TimeLike): Promise<void> {
    const p = this.posix;
    const times = [timespec(atime), timespec(mtime)] as const;
    await this.run(() => p.utimensat(AT_FDCWD, bytes(path), times, 0), 'utime', path);
  }

  /** Implements fsPromises.truncate. */
  async truncate(path: PathLike, len = 0): Promise<void> {
    const p = this.posix;
    await this.run(() => p.truncate(bytes(path), len), 'open', path);
  }

  /**
   * Implements fsPromises.copyFile: the data and the permission bits. `mode` COPYFILE_EXCL (1)
   * fails with EEXIST when the destination exists.
   */
  async copyFile(src: PathLike, dest: PathLike, mode = 0): Promise<void> {
    const p = this.posix;
    const from = await this.run(() => p.open(bytes(src), O_RDONLY), 'copyfile', src, dest);
    try {
      const st = await this.run(() => p.fstat(from), 'copyfile', src, dest);
      if ((st.mode & S_IFMT) === S_IFDIR) throw fsError(E.EISDIR, 'copyfile', shown(src), shown(dest));
      const flags = O_WRONLY | O_CREAT | ((mode & 1) !== 0 ? O_EXCL : 0);
      const to = await this.run(() => p.open(bytes(dest), flags, st.mode & 0o7777), 'copyfile', src, dest);
      try {
        const dst = await this.run(() => p.fstat(to), 'copyfile', src, dest);
        if (dst.dev === st.dev && dst.ino === st.ino) return;
        await this.run(() => p.ftruncate(to, 0), 'copyfile', src, dest);
        const buf = new Uint8Array(1 << 16);
        for (;;) {
          const n = await this.run(() => p.read(from, buf), 'copyfile', src, dest);
          if (n === 0) break;
          for (let off = 0; off < n;) {
            const w = await this.run(() => p.write(to, buf.subarray(off, n)), 'copyfile', src, dest);
            off += w;
          }
        }
        await this.run(() => p.fchmod(to, st.mode & 0o7777), 'copyfile', src, dest);
      } finally {
        p.close(to);
      }
    } finally {
      p.close(from);
    }
  }

  /** @internal for FileHandle */
  call<T>(op: () => T | LinuxError, syscall: string): Promise<T> {
    return this.run(op, syscall);
  }
}

function dtOf(mode: number): number {
  switch (mode & S_IFMT) {
    case S_IFREG:
      return DT_REG;
    case S_IFDIR:
      return DT_DIR;
    case S_IFLNK:
      return DT_LNK;
    case S_IFIFO:
      return DT_FIFO;
    case S_IFSOCK:
      return DT_SOCK;
    case S_IFCHR:
      return DT_CHR;
    case S_IFBLK:
      return DT_BLK;
    default:
      return DT_UNKNOWN;
  }
}

/** An open file, as fsPromises.open gives it. */
export class FileHandle {
  private closed = false;

  constructor(
    private readonly fs: FsPromises,
    /** The numeric descriptor in {@link FsPromises.posix}. */
    readonly fd: number,
  ) {}

  private get p(): Posix {
    return this.fs.posix;
  }

  /**
   * Read up to `length` bytes into `buffer` at `offset`, from `position` (or the file position
   * when null or omitted).
   */
  async read<B extends Uint8Array>(
    buffer: B,
    offset = 0,
    length = buffer.length - offset,
    position: number | null = null,
  ): Promise<{ bytesRead: number; buffer: B }> {
    const dst = buffer.subarray(offset, offset + length);
    const p = this.p;
    const n = await this.fs.call(
      () => (position === null || position < 0 ? p.read(this.fd, dst) : p.pread(this.fd, dst, position)),
      'read',
    );
    return { bytesRead: n, buffer };
  }

  /**
   * Write `data` (bytes from `offset` for `length`, or a string) at `position` (or the file
   * position when null or omitted).
   */
  async write(
    data: Uint8Array | string,
    offset?: number | null,
    length?: number | string,
    position?: number | null,
  ): Promise<{ bytesWritten: number; buffer: Uint8Array | string }> {
    let src: Uint8Array;
    let pos: number | null | undefined;
    if (typeof data === 'string') {
      src = Buffer.from(data, typeof length === 'string' ? (length as Encoding) : 'utf8');
      pos = offset;
    } else {
      const off = offset ?? 0;
      src = data.subarray(off, off + (typeof length === 'number' ? length : data.length - off));
      pos = position;
    }
    const p = this.p;
    const n = await this.fs.call(
      () => (pos === null || pos === undefined ? p.write(this.fd, src) : p.pwrite(this.fd, src, pos)),
      'write',
    );
    return { bytesWritten: n, buffer: data };
  }

  /** The rest of the file from the current position. */
  async readAll(): Promise<Buffer> {
    const parts: Uint8Array[] = [];
    const p = this.p;
    for (;;) {
      const buf = new Uint8Array(1 << 16);
      const n = await this.fs.call(() => p.read(this.fd, buf), 'read');
      if (n === 0) break;
      parts.push(buf.subarray(0, n));
    }
    return Buffer.concat(parts);
  }

  /** Write all of `data` at the file position. */
  async writeAll(data: Uint8Array): Promise<void> {
    const p = this.p;
    for (let off = 0; off < data.length;) {
      const n = await this.fs.call(() => p.write(this.fd, data.subarray(off)), 'write');
      off += n;
    }
  }

  /** Implements filehandle.readFile. */
  async readFile(options?: Encoding | { encoding?: Encoding | null }): Promise<Buffer | string> {
    const enc = typeof options === 'string' ? options : options?.encoding;
    const data = await this.readAll();
    return enc ? data.toString(enc) : data;
  }

  /** Implements filehandle.writeFile. */
  async writeFile(data: string | Uint8Array, encoding: Encoding = 'utf8'): Promise<void> {
    await this.writeAll(typeof data === 'string' ? Buffer.from(data, encoding) : data);
  }

  /** Implements filehandle.stat. */
  async stat(): Promise<Stats> {
    const p = this.p;
    return new Stats(await this.fs.call(() => p.fstat(this.fd), 'fstat'));
  }

  /** Implements filehandle.truncate. */
  async truncate(len = 0): Promise<void> {
    const p = this.p;
    await this.fs.call(() => p.ftruncate(this.fd, len), 'ftruncate');
  }

  /** Implements filehandle.chmod. */
  async chmod(mode: number): Promise<void> {
    const p = this.p;
    await this.fs.call(() => p.fchmod(this.fd, mode), 'fchmod');
  }

  /** Implements filehandle.sync. */
  async sync(): Promise<void> {
    const p = this.p;
    await this.fs.call(() => p.fsync(this.fd), 'fsync');
  }

  /** Implements filehandle.utimes. */
  async utimes(atime: TimeLike, mtime: TimeLike): Promise<void> {
    const p = this.p;
    const times = [timespec(atime), timespec(mtime)] as const;
    await this.fs.call(() => p.utimensat(this.fd, null, times, 0), 'futime');
  }

  /** Implements filehandle.close (a second close does nothing). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const p = this.p;
    await this.fs.call(() => p.close(this.fd), 'close');
  }
}
