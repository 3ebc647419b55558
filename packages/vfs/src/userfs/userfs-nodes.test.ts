// userfs's link, mknod and xattr callbacks: what a missing one answers (compared with a real
// filesystem that lacks them: Linux's mqueue), and the operations sync, async and through
// FsPromises.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { E, isError } from '@tsvisor/abi';
import type { LinuxError } from '@tsvisor/abi';
import { afterAll, describe, expect, it } from 'vitest';
import {
  FsPromises,
  O_CREAT,
  O_NONBLOCK,
  O_RDONLY,
  O_RDWR,
  O_WRONLY,
  Posix,
  ROOT_CREDS,
  S_IFCHR,
  S_IFDIR,
  S_IFIFO,
  S_IFMT,
  S_IFREG,
  S_IFSOCK,
  Tmpfs,
  Userfs,
  Vfs,
  settleVfs,
  userCreds,
} from '../index.js';
import type { UserfsAttr, UserfsOps, UserfsResult } from '../index.js';
import { jsonStore } from './json-store.test-util.js';
import type { StoreCalls, Xattrs } from './json-store.test-util.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array): string => new TextDecoder().decode(b);
const show = (r: unknown): unknown => (isError(r) ? (r as LinuxError).name : r);

const base = mkdtempSync(join(tmpdir(), 'tsvisor-userfs-nodes-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));

function mounted(ops: UserfsOps, creds = ROOT_CREDS, uid = 0): { p: Posix; vfs: Vfs } {
  const vfs = new Vfs(new Tmpfs({ mode: 0o755 }));
  const ctx = vfs.rootContext(ROOT_CREDS);
  vfs.mkdirat(ctx, ctx.cwd, '/data', 0o777);
  const err = vfs.mount(ctx, ctx.cwd, '/data', new Userfs(ops, { uid, gid: uid }));
  if (isError(err)) throw new Error(`mount: ${err.name}`);
  return { p: new Posix(vfs, creds), vfs };
}

/** The xattr calls of the VFS on a path (Posix has none). */
function xattr(p: Posix) {
  const at = (path: string) => p.vfs.lookupat(p.ctx, p.ctx.cwd, path, 0);
  return {
    get: (path: string, name: string) => {
      const loc = at(path);
      if (isError(loc)) return loc;
      const v = p.vfs.getxattr(p.ctx, loc, name);
      return isError(v) ? v : dec(v);
    },
    set: (path: string, name: string, value: string, flags = 0) => {
      const loc = at(path);
      return isError(loc) ? loc : (p.vfs.setxattr(p.ctx, loc, name, enc(value), flags) ?? 0);
    },
    remove: (path: string, name: string) => {
      const loc = at(path);
      return isError(loc) ? loc : (p.vfs.removexattr(p.ctx, loc, name) ?? 0);
    },
    list: (path: string) => {
      const loc = at(path);
      return isError(loc) ? loc : p.vfs.listxattr(p.ctx, loc);
    },
  };
}

/**
 * A store of inodes (so hard links are real): paths map to inode numbers, inodes hold the mode,
 * the bytes and the link count. With `async` every answer comes on a later turn.
 */
function inodeStore(
  async = false,
): UserfsOps & { inodes: Map<number, { mode: number; data: string; nlink: number }> } {
  const names = new Map<string, number>([['/', 1]]);
  const inodes = new Map([[1, { mode: S_IFDIR | 0o755, data: '', nlink: 2 }]]);
  let next = 2;
  const later = <T>(v: T | LinuxError): UserfsResult<T> =>
    async ? new Promise((resolve) => setTimeout(() => resolve(v), 1)) : v;
  const attr = (ino: number): UserfsAttr | LinuxError => {
    const i = inodes.get(ino);
    return i === undefined ? E.ENOENT : { mode: i.mode, size: i.data.length, nlink: i.nlink, ino };
  };
  return {
    inodes,
    getattr: (path) => later(attr(names.get(path) ?? -1)),
    readdir: () => later([...names.keys()].filter((n) => n !== '/').map((n) => n.slice(1))),
    read: (path, offset, length) =>
      later(enc(inodes.get(names.get(path) ?? -1)?.data ?? '').subarray(offset, offset + length)),
    write: (path, data, offset) => {
      const i = inodes.get(names.get(path) ?? -1);
      if (i === undefined) return later(E.ENOENT);
      i.data = i.data.slice(0, offset) + dec(data);
      return later(data.length);
    },
    create: (path, mode) => {
      names.set(path, next);
      inodes.set(next, { mode, data: '', nlink: 1 });
      return later(attr(next++));
    },
    unlink: (path) => {
      const ino = names.get(path) ?? -1;
      const i = inodes.get(ino);
      if (i === undefined) return later(E.ENOENT);
      names.delete(path);
      if (--i.nlink === 0) inodes.delete(ino);
      return later(undefined);
    },
    link: (target, path) => {
      const ino = names.get(target) ?? -1;
      const i = inodes.get(ino);
      if (i === undefined) return later(E.ENOENT);
      i.nlink++;
      names.set(path, ino);
      return later(attr(ino));
    },
  };
}

describe('userfs without link, mknod and xattr callbacks', () => {
  it('answers what a Linux filesystem without those operations answers (mqueue)', () => {
    // The same sequence on a fresh mqueue mount (its inodes have create, unlink and lookup only)
    // and on a userfs with create and unlink only.
    const dir = join(base, 'mq');
    mkdirSync(join(dir, 'm'), { recursive: true });
    const src = join(dir, 'ops.c');
    writeFileSync(
      src,
      `#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>
static void show(long r) { if (r < 0) printf("E%d ", errno); else printf("OK "); }
int main(int argc, char **argv) {
  char f[256], g[256], h[256], buf[64];
  snprintf(f, sizeof f, "%s/f", argv[1]);
  snprintf(g, sizeof g, "%s/g", argv[1]);
  snprintf(h, sizeof h, "%s/h", argv[1]);
  int fd = open(f, O_CREAT | O_WRONLY, 0644);
  show(fd);
  if (fd >= 0) close(fd);
  show(link(f, g));
  show(mknod(h, S_IFIFO | 0644, 0));
  show(mknod(h, S_IFSOCK | 0644, 0));
  show(mknod(h, S_IFCHR | 0644, makedev(1, 3)));
  show(getxattr(f, "user.k", buf, sizeof buf));
  show(setxattr(f, "user.k", "v", 1, 0));
  show(removexattr(f, "user.k"));
  printf("%ld\\n", listxattr(f, buf, sizeof buf));
  return 0;
}
`,
    );
    execFileSync('gcc', ['-o', join(dir, 'ops'), src]);
    const r = spawnSync(
      'unshare',
      ['-mi', 'sh', '-c', `mount -t mqueue none ${dir}/m && ${dir}/ops ${dir}/m`],
      {
        encoding: 'utf8',
      },
    );
    expect(r.status).toBe(0);
    const linux = r.stdout.trim();

    const files = new Set<string>();
    const { p } = mounted({
      getattr: (path) =>
        path === '/' ? { mode: S_IFDIR | 0o777 } : files.has(path) ? { mode: S_IFREG | 0o644 } : E.ENOENT,
      create: (path) => void files.add(path),
      unlink: (path) => void files.delete(path),
    });
    const x = xattr(p);
    const code = (r: unknown): string => (isError(r) ? `E${(r as LinuxError).errno}` : 'OK');
    const fd = p.open('/data/f', O_CREAT | O_WRONLY, 0o644);
    if (!isError(fd)) p.close(fd);
    const mine = [
      code(fd),
      code(p.link('/data/f', '/data/g')),
      code(p.mknodat(-100, '/data/h', S_IFIFO | 0o644, 0)),
      code(p.mknodat(-100, '/data/h', S_IFSOCK | 0o644, 0)),
      code(p.mknodat(-100, '/data/h', S_IFCHR | 0o644, 0x103)),
      code(x.get('/data/f', 'user.k')),
      code(x.set('/data/f', 'user.k', 'v')),
      code(x.remove('/data/f', 'user.k')),
    ].join(' ');
    const list = x.list('/data/f');
    expect(`${mine} ${isError(list) ? list.name : list.join('\0').length}`).toBe(linux);
    expect(linux).toBe(
      `OK E${E.EPERM.errno} E${E.EPERM.errno} E${E.EPERM.errno} E${E.EPERM.errno} E${E.EOPNOTSUPP.errno} E${E.EOPNOTSUPP.errno} E${E.EOPNOTSUPP.errno} 0`,
    );
  });
});

/** A script over mknod and xattrs whose results are compared between sync and async stores. */
async function nodeScript(p: Posix, run: <T>(op: () => T) => Promise<T>): Promise<unknown[]> {
  const out: unknown[] = [];
  const x = xattr(p);
  const note = async (op: () => unknown): Promise<void> => {
    out.push(show(await run(op)));
  };
  const type = async (path: string): Promise<void> => {
    const st = await run(() => p.lstat(path));
    out.push(isError(st) ? st.name : [st.mode & S_IFMT, st.rdev]);
  };
  await note(() => p.mknodat(-100, '/data/fifo', S_IFIFO | 0o600, 0));
  await type('/data/fifo');
  await note(() => p.mknodat(-100, '/data/fifo', S_IFIFO | 0o600, 0));
  await note(() => p.mknodat(-100, '/data/sock', S_IFSOCK | 0o600, 0));
  await type('/data/sock');
  // A device: the JSON store refuses devices unless it was made with `devices`.
  await note(() => p.mknodat(-100, '/data/null', S_IFCHR | 0o666, 0x103));
  await type('/data/null');
  await note(() => x.set('/data/motd', 'user.lang', 'en'));
  await note(() => x.get('/data/motd', 'user.lang'));
  await note(() => x.set('/data/motd', 'user.lang', 'fr', 1)); // XATTR_CREATE
  await note(() => x.set('/data/motd', 'user.other', 'x', 2)); // XATTR_REPLACE
  await note(() => x.set('/data/motd', 'user.lang', 'de', 2));
  await note(() => x.get('/data/motd', 'user.lang'));
  await note(() => x.set('/data/etc', 'user.dir', ''));
  await note(() => x.list('/data/etc'));
  await note(() => x.get('/data/motd', 'user.none'));
  await note(() => p.rename('/data/motd', '/data/etc/motd'));
  await note(() => x.get('/data/etc/motd', 'user.lang'));
  await note(() => x.remove('/data/etc/motd', 'user.lang'));
  await note(() => x.remove('/data/etc/motd', 'user.lang'));
  await note(() => x.list('/data/etc/motd'));
  // user.* attributes belong to regular files and directories only (the VFS's rule).
  await note(() => x.set('/data/fifo', 'user.k', 'v'));
  return out;
}

describe('userfs mknod and xattr callbacks', () => {
  const expected = [
    0,
    [S_IFIFO, 0],
    'EEXIST',
    0,
    [S_IFSOCK, 0],
    'EPERM',
    'ENOENT',
    0,
    'en',
    'EEXIST',
    'ENODATA',
    0,
    'de',
    0,
    ['user.dir'],
    'ENODATA',
    0,
    'de',
    0,
    'ENODATA',
    [],
    'EPERM',
  ];

  it('make FIFOs and sockets, refuse devices the store refuses, and keep xattrs (sync)', async () => {
    const xattrs: Xattrs = new Map();
    const data = { motd: 'hi\n', etc: {} };
    const { p } = mounted(jsonStore(data, { xattrs }));
    expect(await nodeScript(p, (op) => Promise.resolve(op()))).toEqual(expected);
    expect(data).toMatchObject({ fifo: { node: S_IFIFO | 0o600, rdev: 0 } });
    expect([...xattrs.keys()].sort()).toEqual(['/etc', '/etc/motd']);
  });

  it('give the same answers with async callbacks through settleVfs', async () => {
    const data = { motd: 'hi\n', etc: {} };
    const { p } = mounted(jsonStore(data, { async: true }));
    expect(await nodeScript(p, settleVfs)).toEqual(expected);
  });

  it('a FIFO made by mknod is a pipe of the VFS; a device the store allows opens its driver', () => {
    const { p } = mounted(jsonStore({}, { devices: true }));
    expect(p.mknodat(-100, '/data/fifo', S_IFIFO | 0o600, 0)).toBe(0);
    const w = p.open('/data/fifo', O_RDWR | O_NONBLOCK);
    if (isError(w)) throw new Error(w.name);
    expect(p.write(w, enc('through'))).toBe(7);
    const buf = new Uint8Array(16);
    expect(p.read(w, buf)).toBe(7);
    expect(dec(buf.subarray(0, 7))).toBe('through');
    expect(p.mknodat(-100, '/data/null', S_IFCHR | 0o666, 0x103)).toBe(0);
    expect(p.stat('/data/null')).toMatchObject({ mode: S_IFCHR | 0o644, rdev: 0x103 });
  });

  it('devices need CAP_MKNOD before the callback is asked', () => {
    const calls: StoreCalls = {};
    const { p } = mounted(jsonStore({}, { devices: true, calls }), userCreds(1000, 1000), 1000);
    expect(p.mknodat(-100, '/data/null', S_IFCHR | 0o666, 0x103)).toBe(E.EPERM);
    expect(calls['mknod']).toBeUndefined();
    expect(p.mknodat(-100, '/data/fifo', S_IFIFO | 0o666, 0)).toBe(0);
    expect(calls['mknod']).toBe(1);
  });
});

describe('userfs link callback', () => {
  for (const async of [false, true]) {
    it(`makes a second name for the same file (${async ? 'async' : 'sync'})`, async () => {
      const store = inodeStore(async);
      const { p } = mounted(store);
      const fd = await settleVfs(() => p.open('/data/a', O_CREAT | O_WRONLY, 0o644));
      if (isError(fd)) throw new Error(fd.name);
      expect(await settleVfs(() => p.write(fd, enc('shared')))).toBe(6);
      p.close(fd);
      expect(await settleVfs(() => p.link('/data/a', '/data/b'))).toBe(0);
      expect(await settleVfs(() => p.link('/data/a', '/data/b'))).toBe(E.EEXIST);
      expect(await settleVfs(() => p.link('/data/nope', '/data/c'))).toBe(E.ENOENT);
      const a = await settleVfs(() => p.stat('/data/a'));
      const b = await settleVfs(() => p.stat('/data/b'));
      if (isError(a) || isError(b)) throw new Error('stat');
      expect(b.ino).toBe(a.ino);
      expect([a.nlink, b.nlink]).toEqual([2, 2]);
      expect(await settleVfs(() => p.unlink('/data/a'))).toBe(0);
      // The remaining name's link count drops at once, without waiting for the attribute timeout.
      expect(await settleVfs(() => p.stat('/data/b'))).toMatchObject({ ino: a.ino, nlink: 1 });
      const rd = await settleVfs(() => p.open('/data/b', O_RDONLY));
      if (isError(rd)) throw new Error(rd.name);
      const buf = new Uint8Array(16);
      const n = await settleVfs(() => p.read(rd, buf));
      expect(dec(buf.subarray(0, n as number))).toBe('shared');
      expect(store.inodes.size).toBe(2); // the root and the file
    });
  }

  it('works through FsPromises.link', async () => {
    const store = inodeStore(true);
    const { vfs } = mounted(store);
    const fs = new FsPromises(vfs);
    await fs.writeFile('/data/config', 'v=1');
    await fs.link('/data/config', '/data/config.bak');
    const [a, b] = await Promise.all([fs.stat('/data/config'), fs.stat('/data/config.bak')]);
    expect(b.ino).toBe(a.ino);
    expect(b.nlink).toBe(2);
    expect(await fs.readFile('/data/config.bak', 'utf8')).toBe('v=1');
    await expect(fs.link('/data/config', '/data/config.bak')).rejects.toMatchObject({ code: 'EEXIST' });
  });
});

describe('README: userfs xattr callbacks', () => {
  it('the example store keeps attributes per path', () => {
    const ops: UserfsOps = {
      getattr: (path) =>
        path === '/' ? { mode: S_IFDIR | 0o755 } : path === '/f' ? { mode: S_IFREG | 0o644 } : E.ENOENT,
    };
    // As in the README.
    const attrs = new Map<string, Map<string, Uint8Array>>();
    const tagged = new Userfs({
      ...ops,
      getxattr: (path, name) => attrs.get(path)?.get(name) ?? E.ENODATA,
      setxattr: (path, name, value) => void attrs.set(path, (attrs.get(path) ?? new Map()).set(name, value)),
      listxattr: (path) => [...(attrs.get(path)?.keys() ?? [])],
      removexattr: (path, name) => (attrs.get(path)?.delete(name) ? undefined : E.ENODATA),
    });
    const vfs = new Vfs(tagged);
    const p = new Posix(vfs, ROOT_CREDS);
    const x = xattr(p);
    expect(x.set('/f', 'user.origin', 'upload')).toBe(0);
    expect(x.get('/f', 'user.origin')).toBe('upload');
    expect(x.list('/f')).toEqual(['user.origin']);
    expect(x.remove('/f', 'user.origin')).toBe(0);
    expect(x.remove('/f', 'user.origin')).toBe(E.ENODATA);
    expect(x.get('/f', 'user.origin')).toBe(E.ENODATA);
  });
});
