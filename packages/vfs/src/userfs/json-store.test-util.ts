// A JSON object exposed as a directory tree, as userfs callbacks: objects are directories,
// strings are files, `{ link: target }` objects are symlinks, `{ node: mode, rdev }` objects are
// FIFOs, sockets and devices made by mknod (devices refused unless `devices`), and extended
// attributes live beside the tree in `xattrs` (path -> name -> value, moved by rename). With
// `async`, every answer comes from a promise resolved on a later turn of the event loop.
import { E } from '@tsvisor/abi';
import type { LinuxError } from '@tsvisor/abi';
import { S_IFBLK, S_IFCHR, S_IFDIR, S_IFLNK, S_IFMT, S_IFREG } from '../constants.js';

const XATTR_CREATE = 1;
const XATTR_REPLACE = 2;
import type { UserfsAttr, UserfsOps, UserfsResult } from './userfs.js';

type Node = { node: number; rdev: number };
type Tree = { [name: string]: Tree | string | { link: string } | Node };
type Entry = Tree[string];

const isLink = (v: unknown): v is { link: string } =>
  typeof v === 'object' && v !== null && typeof (v as { link?: unknown }).link === 'string';
const isNode = (v: unknown): v is Node =>
  typeof v === 'object' && v !== null && typeof (v as { node?: unknown }).node === 'number';
const isLeaf = (v: Entry): v is string | { link: string } | Node =>
  typeof v === 'string' || isLink(v) || isNode(v);

export interface StoreCalls {
  [op: string]: number;
}

export type Xattrs = Map<string, Map<string, Uint8Array>>;

export function jsonStore(
  data: Tree,
  opts: { async?: boolean; calls?: StoreCalls; xattrs?: Xattrs; devices?: boolean } = {},
): UserfsOps {
  const xattrs: Xattrs = opts.xattrs ?? new Map();
  const enc = new TextEncoder();
  const dec = new TextDecoder();
  const later = <T>(v: T | LinuxError): UserfsResult<T> =>
    opts.async === true ? new Promise((resolve) => setTimeout(() => resolve(v), 1)) : v;
  const count = (op: string): void => {
    if (opts.calls) opts.calls[op] = (opts.calls[op] ?? 0) + 1;
  };
  const parts = (path: string): string[] => path.split('/').filter((p) => p !== '');
  const find = (path: string): Entry | undefined => {
    let cur: Entry = data;
    for (const p of parts(path)) {
      if (isLeaf(cur)) return undefined;
      const next: Entry | undefined = cur[p];
      if (next === undefined) return undefined;
      cur = next;
    }
    return cur;
  };
  const parentOf = (path: string): [Tree, string] | LinuxError => {
    const ps = parts(path);
    const name = ps.pop() ?? '';
    const dir = find('/' + ps.join('/'));
    if (dir === undefined) return E.ENOENT;
    if (isLeaf(dir)) return E.ENOTDIR;
    return [dir, name];
  };
  const attr = (v: Entry): UserfsAttr =>
    typeof v === 'string'
      ? { mode: S_IFREG | 0o644, size: enc.encode(v).length }
      : isLink(v)
        ? { mode: S_IFLNK | 0o777, size: v.link.length }
        : isNode(v)
          ? { mode: v.node, rdev: v.rdev }
          : { mode: S_IFDIR | 0o755 };
  /** Move the attributes of `from` and everything below it to `to`. */
  const moveXattrs = (from: string, to: string): void => {
    for (const [p, v] of [...xattrs]) {
      if (p !== from && !p.startsWith(`${from}/`)) continue;
      xattrs.delete(p);
      xattrs.set(to + p.slice(from.length), v);
    }
  };
  return {
    getattr(path) {
      count('getattr');
      const v = find(path);
      return later(v === undefined ? E.ENOENT : attr(v));
    },
    readdir(path) {
      count('readdir');
      const v = find(path);
      if (v === undefined) return later(E.ENOENT);
      if (isLeaf(v)) return later(E.ENOTDIR);
      return later(Object.entries(v).map(([name, x]) => ({ name, mode: attr(x).mode })));
    },
    read(path, offset, length) {
      count('read');
      const v = find(path);
      if (typeof v !== 'string') return later(E.EISDIR);
      return later(enc.encode(v).subarray(offset, offset + length));
    },
    write(path, bytes, offset) {
      count('write');
      const at = parentOf(path);
      if (!Array.isArray(at)) return later(at);
      const [dir, name] = at;
      const old = enc.encode(typeof dir[name] === 'string' ? dir[name] : '');
      const out = new Uint8Array(Math.max(old.length, offset + bytes.length));
      out.set(old);
      out.set(bytes, offset);
      dir[name] = dec.decode(out);
      return later(bytes.length);
    },
    create(path) {
      count('create');
      const at = parentOf(path);
      if (!Array.isArray(at)) return later(at);
      at[0][at[1]] = '';
      return later(undefined);
    },
    mkdir(path) {
      count('mkdir');
      const at = parentOf(path);
      if (!Array.isArray(at)) return later(at);
      at[0][at[1]] = {};
      return later(undefined);
    },
    symlink(target, path) {
      count('symlink');
      const at = parentOf(path);
      if (!Array.isArray(at)) return later(at);
      at[0][at[1]] = { link: target };
      return later(undefined);
    },
    readlink(path) {
      count('readlink');
      const v = find(path);
      return later(isLink(v) ? v.link : E.EINVAL);
    },
    unlink(path) {
      count('unlink');
      const at = parentOf(path);
      if (!Array.isArray(at)) return later(at);
      delete at[0][at[1]];
      xattrs.delete(path);
      return later(undefined);
    },
    rmdir(path) {
      count('rmdir');
      const at = parentOf(path);
      if (!Array.isArray(at)) return later(at);
      const v = at[0][at[1]];
      if (typeof v === 'object' && !isLeaf(v) && Object.keys(v).length > 0) return later(E.ENOTEMPTY);
      delete at[0][at[1]];
      xattrs.delete(path);
      return later(undefined);
    },
    rename(from, to) {
      count('rename');
      const a = parentOf(from);
      const b = parentOf(to);
      if (!Array.isArray(a)) return later(a);
      if (!Array.isArray(b)) return later(b);
      const v = a[0][a[1]];
      if (v === undefined) return later(E.ENOENT);
      delete a[0][a[1]];
      b[0][b[1]] = v;
      xattrs.delete(to);
      moveXattrs(from, to);
      return later(undefined);
    },
    setattr(path, changes) {
      count('setattr');
      const at = parentOf(path);
      if (!Array.isArray(at)) return later(at);
      const v = at[0][at[1]];
      if (changes.size !== undefined && typeof v === 'string') {
        const bytes = enc.encode(v);
        const out = new Uint8Array(changes.size);
        out.set(bytes.subarray(0, changes.size));
        at[0][at[1]] = dec.decode(out);
      }
      // Modes and times are not stored: the JSON has no place for them.
      return later(undefined);
    },
    mknod(path, mode, rdev) {
      count('mknod');
      const type = mode & S_IFMT;
      if ((type === S_IFCHR || type === S_IFBLK) && opts.devices !== true) return later(E.EPERM);
      const at = parentOf(path);
      if (!Array.isArray(at)) return later(at);
      at[0][at[1]] = { node: mode, rdev };
      return later(undefined);
    },
    getxattr(path, name) {
      count('getxattr');
      if (find(path) === undefined) return later(E.ENOENT);
      return later(xattrs.get(path)?.get(name) ?? E.ENODATA);
    },
    setxattr(path, name, value, flags) {
      count('setxattr');
      if (find(path) === undefined) return later(E.ENOENT);
      const mine = xattrs.get(path) ?? new Map<string, Uint8Array>();
      if ((flags & XATTR_CREATE) !== 0 && mine.has(name)) return later(E.EEXIST);
      if ((flags & XATTR_REPLACE) !== 0 && !mine.has(name)) return later(E.ENODATA);
      mine.set(name, value.slice());
      xattrs.set(path, mine);
      return later(undefined);
    },
    listxattr(path) {
      count('listxattr');
      if (find(path) === undefined) return later(E.ENOENT);
      return later([...(xattrs.get(path)?.keys() ?? [])]);
    },
    removexattr(path, name) {
      count('removexattr');
      const mine = xattrs.get(path);
      if (mine?.delete(name) !== true) return later(E.ENODATA);
      return later(undefined);
    },
  };
}
