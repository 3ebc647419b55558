import { E, isError } from '@tsvisor/abi';
import type { LinuxError } from '@tsvisor/abi';
import { describe, expect, it } from 'vitest';
import {
  O_CREAT,
  O_DIRECTORY,
  O_EXCL,
  O_RDONLY,
  O_RDWR,
  O_WRONLY,
  POLLIN,
  Posix,
  ROOT_CREDS,
  S_IFDIR,
  S_IFREG,
  Tmpfs,
  Userfs,
  Vfs,
  WOULD_BLOCK,
  collectPendingIo,
  settleVfs,
  userCreds,
  waitForEvents,
} from '../index.js';
import type { UserfsOps } from '../index.js';
import { jsonStore } from './json-store.test-util.js';
import type { StoreCalls } from './json-store.test-util.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

function mounted(
  ops: UserfsOps,
  options: ConstructorParameters<typeof Userfs>[1] = {},
): { p: Posix; fs: Userfs } {
  const vfs = new Vfs(new Tmpfs({ mode: 0o755 }));
  const ctx = vfs.rootContext(ROOT_CREDS);
  vfs.mkdirat(ctx, ctx.cwd, '/data', 0o755);
  const fs = new Userfs(ops, options);
  const err = vfs.mount(ctx, ctx.cwd, '/data', fs);
  if (isError(err)) throw new Error(`mount: ${err.name}`);
  return { p: new Posix(vfs, ROOT_CREDS), fs };
}

/** A script of operations whose results (values or errno names) are compared across runs. */
async function script(p: Posix, run: <T>(op: () => T) => Promise<T>): Promise<unknown[]> {
  const out: unknown[] = [];
  const show = (r: unknown): unknown => (isError(r) ? (r as LinuxError).name : r);
  const note = async (op: () => unknown): Promise<void> => {
    out.push(show(await run(op)));
  };
  const names = async (path: string): Promise<string[] | string> => {
    const fd = await run(() => p.open(path, O_RDONLY | O_DIRECTORY));
    if (isError(fd)) return fd.name;
    const list = await run(() => p.getdents(fd));
    p.close(fd);
    return isError(list)
      ? list.name
      : list
          .filter((d) => d.name !== '.' && d.name !== '..')
          .map((d) => `${d.name}:${d.type}`)
          .sort();
  };
  const readAll = async (path: string): Promise<string> => {
    const fd = await run(() => p.open(path, O_RDONLY));
    if (isError(fd)) return fd.name;
    const buf = new Uint8Array(100);
    const n = await run(() => p.read(fd, buf));
    p.close(fd);
    return isError(n) ? n.name : dec(buf.subarray(0, n));
  };
  out.push(await names('/data'));
  out.push(await readAll('/data/motd'));
  out.push(await readAll('/data/etc/hostname'));
  await note(() => {
    const st = p.stat('/data/etc/hostname');
    return isError(st) ? st : st.size;
  });
  await note(() => p.stat('/data/nope'));
  await note(() => p.mkdir('/data/new', 0o755));
  await note(() => p.mkdir('/data/new', 0o755));
  const fd = await run(() => p.open('/data/new/file', O_CREAT | O_WRONLY, 0o644));
  out.push(typeof fd);
  if (!isError(fd)) {
    await note(() => p.write(fd, enc('hello, ')));
    await note(() => p.write(fd, enc('world')));
    p.close(fd);
  }
  out.push(await readAll('/data/new/file'));
  await note(() => p.symlink('new/file', '/data/link'));
  await note(() => p.readlink('/data/link'));
  out.push(await readAll('/data/link'));
  await note(() => p.rename('/data/new/file', '/data/moved'));
  await note(() => p.stat('/data/new/file'));
  out.push(await readAll('/data/moved'));
  await note(() => p.rmdir('/data/etc'));
  await note(() => p.unlink('/data/etc/hostname'));
  await note(() => p.rmdir('/data/etc'));
  await note(() => p.truncate('/data/moved', 5));
  out.push(await readAll('/data/moved'));
  out.push(await names('/data'));
  return out;
}

const seed = (): Parameters<typeof jsonStore>[0] => ({ motd: 'hi\n', etc: { hostname: 'box\n' } });

describe('Userfs', () => {
  it('serves a JSON object as a directory (sync callbacks)', async () => {
    const data = seed();
    const { p } = mounted(jsonStore(data));
    const out = await script(p, (op) => Promise.resolve(op()));
    expect(out).toEqual([
      ['etc:4', 'motd:8'],
      'hi\n',
      'box\n',
      4,
      'ENOENT',
      0,
      'EEXIST',
      'number',
      7,
      5,
      'hello, world',
      0,
      'new/file',
      'hello, world',
      0,
      'ENOENT',
      'hello, world',
      'ENOTEMPTY',
      0,
      0,
      0,
      'hello',
      ['link:10', 'motd:8', 'moved:8', 'new:4'],
    ]);
    expect(data).toEqual({ motd: 'hi\n', new: {}, link: { link: 'new/file' }, moved: 'hello' });
  });

  it('gives the same results with async callbacks through settleVfs', async () => {
    const syncData = seed();
    const asyncData = seed();
    const a = await script(mounted(jsonStore(syncData)).p, (op) => Promise.resolve(op()));
    const b = await script(mounted(jsonStore(asyncData, { async: true })).p, settleVfs);
    expect(b).toEqual(a);
    expect(asyncData).toEqual(syncData);
  });

  it('answers EAGAIN with the work noted, then the result on the repeated call', async () => {
    const { p } = mounted(jsonStore(seed(), { async: true }));
    const first = collectPendingIo(() => p.stat('/data/motd'));
    expect(first.result).toBe(E.EAGAIN);
    expect(first.pending).not.toBeNull();
    await first.pending;
    const again = collectPendingIo(() => p.stat('/data/motd'));
    expect(again.pending).toBeNull();
    expect(isError(again.result) ? again.result : again.result.size).toBe(3);
  });

  it('async reads block the kernel way: WOULD_BLOCK, then readiness, then the data', async () => {
    const { p } = mounted(jsonStore(seed(), { async: true }));
    const fd = await settleVfs(() => p.open('/data/motd', O_RDONLY));
    if (isError(fd)) throw new Error(fd.name);
    const file = p.file(fd);
    if (isError(file)) throw new Error(file.name);
    const buf = new Uint8Array(10);
    expect(file.read(buf)).toBe(WOULD_BLOCK);
    expect(file.readiness(POLLIN)).toBe(0);
    expect(await waitForEvents(file, POLLIN)).toBe(POLLIN);
    expect(file.read(buf)).toBe(3);
    expect(dec(buf.subarray(0, 3))).toBe('hi\n');
    expect(file.offset).toBe(3);
  });

  it('two racing mkdirs of one name: one succeeds, the other sees EEXIST', async () => {
    const data = seed();
    const { p } = mounted(jsonStore(data, { async: true }));
    await settleVfs(() => p.stat('/data/x'));
    const [a, b] = await Promise.all([
      settleVfs(() => p.mkdir('/data/x', 0o700)),
      settleVfs(() => p.mkdir('/data/x', 0o700)),
    ]);
    expect([a, b].sort()).toEqual([0, E.EEXIST].sort());
    expect(data).toHaveProperty('x', {});
  });

  it('caches lookups for entryTimeoutMs; invalidate shows changes made behind its back', () => {
    const calls: StoreCalls = {};
    const data = seed();
    const { p, fs } = mounted(jsonStore(data, { calls }), { entryTimeoutMs: 60_000, attrTimeoutMs: 60_000 });
    expect(p.stat('/data/motd')).toMatchObject({ size: 3, mode: S_IFREG | 0o644 });
    const looked = calls['getattr'] ?? 0;
    expect(p.stat('/data/motd')).toMatchObject({ size: 3 });
    expect(calls['getattr']).toBe(looked);
    data.motd = 'changed\n';
    expect(p.stat('/data/motd')).toMatchObject({ size: 3 });
    fs.invalidate('/motd');
    expect(p.stat('/data/motd')).toMatchObject({ size: 8 });
    // Negative answers are not cached by default.
    expect(p.stat('/data/later')).toBe(E.ENOENT);
    data.later = 'x';
    expect(p.stat('/data/later')).toMatchObject({ size: 1 });
  });

  it('with timeouts of 0 every access asks the callbacks', () => {
    const data = seed();
    const { p } = mounted(jsonStore(data), { entryTimeoutMs: 0, attrTimeoutMs: 0 });
    expect(p.stat('/data/motd')).toMatchObject({ size: 3 });
    data.motd = 'longer\n';
    expect(p.stat('/data/motd')).toMatchObject({ size: 7 });
    delete (data as Record<string, unknown>).motd;
    expect(p.stat('/data/motd')).toBe(E.ENOENT);
  });

  it('missing operations give what Linux gives for a missing inode or file operation', () => {
    const ro: UserfsOps = {
      getattr: (path) =>
        path === '/'
          ? { mode: S_IFDIR | 0o777 }
          : path === '/f'
            ? { mode: S_IFREG | 0o666, size: 1 }
            : E.ENOENT,
    };
    const { p } = mounted(ro);
    expect(p.open('/data/new', O_CREAT | O_WRONLY, 0o644)).toBe(E.EACCES);
    expect(p.mkdir('/data/d', 0o755)).toBe(E.EPERM);
    expect(p.symlink('x', '/data/l')).toBe(E.EPERM);
    expect(p.unlink('/data/f')).toBe(E.EPERM);
    expect(p.rename('/data/f', '/data/g')).toBe(E.EPERM);
    expect(p.truncate('/data/f', 0)).toBe(E.EPERM);
    const fd = p.open('/data/f', O_RDWR);
    if (isError(fd)) throw new Error(fd.name);
    expect(p.read(fd, new Uint8Array(4))).toBe(E.EINVAL);
    expect(p.write(fd, enc('x'))).toBe(E.EINVAL);
    const dir = p.open('/data', O_RDONLY | O_DIRECTORY);
    if (isError(dir)) throw new Error(dir.name);
    expect(p.getdents(dir)).toBe(E.ENOTDIR);
    // chmod without setattr changes the in-memory inode, as simple_setattr does.
    expect(p.chmod('/data/f', 0o600)).toBe(0);
    expect(p.stat('/data/f')).toMatchObject({ mode: S_IFREG | 0o600 });
  });

  it('callback throws and rejections become EIO; a thrown LinuxError is that errno', async () => {
    const { p } = mounted({
      getattr: (path) => {
        if (path === '/boom') throw new Error('bug in the callback');
        if (path === '/gone') throw E.ENOENT;
        if (path === '/late') return Promise.reject(new Error('remote down'));
        return path === '/' ? { mode: S_IFDIR | 0o755 } : E.ENOENT;
      },
    });
    expect(p.stat('/data/boom')).toBe(E.EIO);
    expect(p.stat('/data/gone')).toBe(E.ENOENT);
    expect(await settleVfs(() => p.stat('/data/late'))).toBe(E.EIO);
  });

  it('permissions are checked by the VFS against the reported modes and owners', () => {
    const vfs = new Vfs(new Tmpfs({ mode: 0o755 }));
    const ctx = vfs.rootContext(ROOT_CREDS);
    vfs.mkdirat(ctx, ctx.cwd, '/data', 0o755);
    vfs.mount(ctx, ctx.cwd, '/data', new Userfs(jsonStore({ secret: 's' }), { uid: 0, gid: 0 }));
    const user = new Posix(vfs, userCreds(1000, 1000));
    expect(user.open('/data/secret', O_WRONLY)).toBe(E.EACCES);
    expect(user.mkdir('/data/mine', 0o755)).toBe(E.EACCES);
    expect(isError(user.open('/data/secret', O_RDONLY))).toBe(false);
  });
});

describe('Userfs open(O_CREAT) with an async open callback', () => {
  it('creates exclusively once; the handle reaches write and release', async () => {
    const data: Parameters<typeof jsonStore>[0] = {};
    const store = jsonStore(data, { async: true });
    const handles: unknown[] = [];
    const released: unknown[] = [];
    let next = 0;
    const ops: UserfsOps = {
      ...store,
      open: (path) => new Promise((resolve) => setTimeout(() => resolve(`h${next++}:${path}`), 1)),
      write: (path, bytes, offset, handle) => {
        handles.push(handle);
        return (store.write as NonNullable<UserfsOps['write']>)(path, bytes, offset, handle);
      },
      release: (_path, handle) => void released.push(handle),
    };
    const { p } = mounted(ops);
    const fd = await settleVfs(() => p.open('/data/new', O_CREAT | O_EXCL | O_WRONLY, 0o644));
    if (isError(fd)) throw new Error(fd.name);
    expect(await settleVfs(() => p.write(fd, enc('x')))).toBe(1);
    expect(handles).toEqual(['h0:/new']);
    p.close(fd);
    expect(released).toEqual(['h0:/new']);
    expect(data).toEqual({ new: 'x' });
    expect(await settleVfs(() => p.open('/data/new', O_CREAT | O_EXCL | O_WRONLY, 0o644))).toBe(E.EEXIST);
    // An existing file's async open restarts the call as usual.
    const again = await settleVfs(() => p.open('/data/new', O_RDONLY));
    expect(typeof again).toBe('number');
  });

  it('an async open that fails shows its error at the first I/O', async () => {
    const data: Parameters<typeof jsonStore>[0] = {};
    const { p } = mounted({
      ...jsonStore(data),
      open: () => Promise.resolve(E.EROFS),
    });
    const fd = await settleVfs(() => p.open('/data/f', O_CREAT | O_WRONLY, 0o644));
    if (isError(fd)) throw new Error(fd.name);
    expect(await settleVfs(() => p.write(fd, enc('x')))).toBe(E.EROFS);
  });
});
