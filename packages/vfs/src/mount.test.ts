import { E, isError } from '@tsvisor/abi';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  AT_REMOVEDIR,
  Hostfs,
  MS_RDONLY,
  O_CREAT,
  O_RDONLY,
  O_RDWR,
  O_WRONLY,
  Posix,
  ROOT_CREDS,
  Tmpfs,
  Vfs,
} from './index.js';

function setup(): { p: Posix; vfs: Vfs } {
  const vfs = new Vfs(new Tmpfs());
  const p = new Posix(vfs, ROOT_CREDS);
  p.mkdir('/mnt', 0o755);
  p.mkdir('/ro', 0o755);
  const inner = new Tmpfs({ mode: 0o755 });
  vfs.mount(p.ctx, p.ctx.cwd, '/mnt', inner);
  const ro = new Tmpfs({ mode: 0o755 });
  const roFile = ro.root.create('file', { mode: 0o100644, uid: 0, gid: 0, rdev: 0 });
  if (isError(roFile)) throw new Error();
  vfs.mount(p.ctx, p.ctx.cwd, '/ro', ro, MS_RDONLY);
  return { p, vfs };
}

describe('mounts', () => {
  it('crosses mount points both ways with .. and getcwd', () => {
    const { p } = setup();
    expect(p.mkdir('/mnt/sub', 0o755)).toBe(0);
    expect(p.chdir('/mnt/sub')).toBe(0);
    expect(p.getcwd()).toBe('/mnt/sub');
    expect(p.chdir('../..')).toBe(0);
    expect(p.getcwd()).toBe('/');
    const a = p.stat('/mnt');
    const b = p.stat('/mnt/sub/..');
    if (isError(a) || isError(b)) throw new Error();
    expect(b.ino).toBe(a.ino);
    expect(b.dev).toBe(a.dev);
    const root = p.stat('/');
    const up = p.stat('/mnt/..');
    if (isError(root) || isError(up)) throw new Error();
    expect([up.dev, up.ino]).toEqual([root.dev, root.ino]);
  });

  it('refuses writes on a read-only mount with EROFS, after EEXIST and ENOENT', () => {
    const { p } = setup();
    expect(p.open('/ro/file', O_RDONLY)).toBeTypeOf('number');
    expect(p.open('/ro/file', O_WRONLY)).toBe(E.EROFS);
    expect(p.open('/ro/new', O_CREAT | O_RDWR, 0o644)).toBe(E.EROFS);
    expect(p.mkdir('/ro/file', 0o755)).toBe(E.EEXIST);
    expect(p.mkdir('/ro/nope/x', 0o755)).toBe(E.ENOENT);
    expect(p.mkdir('/ro/d', 0o755)).toBe(E.EROFS);
    expect(p.unlink('/ro/file')).toBe(E.EROFS);
    expect(p.unlink('/ro/missing')).toBe(E.EROFS);
    expect(p.chmod('/ro/file', 0o600)).toBe(E.EROFS);
    expect(p.truncate('/ro/file', 0)).toBe(E.EROFS);
    expect(p.access('/ro/file', 2)).toBe(E.EROFS);
    expect(p.access('/ro/file', 4)).toBe(0);
    expect(p.statfs('/ro')).toMatchObject({ flags: 1 | 1024 });
  });

  it('keeps renames and links inside one mount and protects mount points', () => {
    const { p } = setup();
    expect(p.open('/mnt/f', O_CREAT | O_RDWR, 0o644)).toBeTypeOf('number');
    expect(p.rename('/mnt/f', '/g')).toBe(E.EXDEV);
    expect(p.link('/mnt/f', '/g')).toBe(E.EXDEV);
    expect(p.rmdir('/mnt')).toBe(E.EBUSY);
    expect(p.unlinkat(-100, '/mnt', AT_REMOVEDIR)).toBe(E.EBUSY);
    expect(p.rename('/mnt', '/elsewhere')).toBe(E.EBUSY);
  });

  it('lists mounts with their paths', () => {
    const { p, vfs } = setup();
    const paths = vfs.mounts().map((m) => vfs.pathOf(p.ctx, { mount: m, inode: m.root }));
    expect(paths).toEqual(['/', '/mnt', '/ro']);
    expect(vfs.mounts()[2]?.readOnly).toBe(true);
  });

  it('unmounts and shows the covered directory again', () => {
    const { p, vfs } = setup();
    p.open('/mnt/f', O_CREAT | O_RDWR, 0o644);
    expect(p.stat('/mnt/f')).toMatchObject({ size: 0 });
    expect(vfs.umount(p.ctx, p.ctx.cwd, '/mnt')).toBeUndefined();
    expect(p.stat('/mnt/f')).toBe(E.ENOENT);
    expect(vfs.umount(p.ctx, p.ctx.cwd, '/mnt')).toBe(E.EINVAL);
  });

  it('bind mounts a directory elsewhere', () => {
    const { p, vfs } = setup();
    p.mkdir('/src', 0o755);
    p.open('/src/x', O_CREAT | O_RDWR, 0o644);
    p.mkdir('/dst', 0o755);
    const src = vfs.lookupat(p.ctx, p.ctx.cwd, '/src', 0);
    if (isError(src)) throw new Error();
    expect(isError(vfs.bindMount(p.ctx, src, p.ctx.cwd, '/dst', MS_RDONLY))).toBe(false);
    expect(p.open('/dst/x', O_RDONLY)).toBeTypeOf('number');
    expect(p.open('/dst/x', O_WRONLY)).toBe(E.EROFS);
    expect(p.open('/src/x', O_WRONLY)).toBeTypeOf('number');
  });

  it('chroot confines absolute paths, .. and getcwd', () => {
    const { p } = setup();
    p.mkdir('/jail', 0o755);
    p.mkdir('/jail/in', 0o755);
    p.symlink('/in', '/jail/abs');
    expect(p.chdir('/jail/in')).toBe(0);
    expect(p.chroot('/jail')).toBe(0);
    expect(p.getcwd()).toBe('/in');
    expect(p.stat('/abs/../../../in')).toMatchObject({ mode: 0o40755 });
    expect(p.chdir('/../..')).toBe(0);
    expect(p.getcwd()).toBe('/');
  });

  describe('file bind mounts', () => {
    const enc = new TextEncoder();
    const dec = new TextDecoder();
    function put(p: Posix, path: string, text: string): void {
      const fd = p.open(path, O_CREAT | O_WRONLY, 0o644);
      if (isError(fd)) throw new Error(`open ${path}`);
      p.write(fd, enc.encode(text));
      p.close(fd);
    }
    function cat(p: Posix, path: string): string | number {
      const fd = p.open(path, O_RDONLY);
      if (isError(fd)) return fd.errno;
      const buf = new Uint8Array(64);
      const n = p.read(fd, buf);
      p.close(fd);
      return isError(n) ? n.errno : dec.decode(buf.subarray(0, n));
    }
    function bindFile(vfs: Vfs, p: Posix, from: string, to: string) {
      const src = vfs.lookupat(p.ctx, p.ctx.cwd, from, 0);
      if (isError(src)) return src;
      return vfs.bindMount(p.ctx, src, p.ctx.cwd, to);
    }

    it('covers one link of the target file: walks see the bound file, other links do not', () => {
      const { p, vfs } = setup();
      put(p, '/one', 'one');
      put(p, '/two', 'two');
      expect(p.link('/two', '/two-link')).toBe(0);
      const m = bindFile(vfs, p, '/one', '/two');
      if (isError(m)) throw new Error(String(m));
      expect(cat(p, '/two')).toBe('one');
      expect(cat(p, '/two-link')).toBe('two');
      const one = p.stat('/one');
      const two = p.stat('/two');
      if (isError(one) || isError(two)) throw new Error();
      expect(two.ino).toBe(one.ino);
      // The mount's root is the file; its path is the covered one, its source where it was found.
      expect(vfs.pathOf(p.ctx, { mount: m, inode: m.root })).toBe('/two');
      expect(m.rootName).toBe('one');
      expect(m.rootDir).toBe(vfs.rootMount.root);
      const fd = p.open('/two', O_RDONLY);
      if (isError(fd)) throw new Error();
      const file = p.file(fd);
      if (isError(file)) throw new Error();
      expect(file.location.mount).toBe(m);
      expect(vfs.pathOf(p.ctx, file.location)).toBe('/two');
      p.close(fd);
    });

    it('refuses to mix files and directories, and binds of an unbindable source', () => {
      const { p, vfs } = setup();
      put(p, '/f', 'f');
      expect(bindFile(vfs, p, '/mnt', '/f')).toBe(E.ENOTDIR);
      expect(bindFile(vfs, p, '/f', '/mnt')).toBe(E.ENOTDIR);
      expect(vfs.mount(p.ctx, p.ctx.cwd, '/f', new Tmpfs())).toBe(E.ENOTDIR);
      const mnt = vfs.lookupat(p.ctx, p.ctx.cwd, '/mnt', 0);
      if (isError(mnt)) throw new Error();
      mnt.mount.unbindable = true;
      expect(vfs.bindMount(p.ctx, mnt, p.ctx.cwd, '/ro')).toBe(E.EINVAL);
    });

    it('keeps a covered file from being unlinked or renamed (EBUSY), the source and other links not', () => {
      const { p, vfs } = setup();
      put(p, '/one', 'one');
      put(p, '/two', 'two');
      put(p, '/three', 'three');
      expect(p.link('/two', '/two-link')).toBe(0);
      expect(isError(bindFile(vfs, p, '/one', '/two'))).toBe(false);
      expect(p.unlink('/two')).toBe(E.EBUSY);
      expect(p.rename('/two', '/moved')).toBe(E.EBUSY);
      expect(p.rename('/three', '/two')).toBe(E.EBUSY);
      // A link through the mount crosses mounts.
      expect(p.link('/two', '/new')).toBe(E.EXDEV);
      expect(p.rename('/one', '/one-renamed')).toBe(0);
      expect(cat(p, '/two')).toBe('one');
      expect(p.unlink('/two-link')).toBe(0);
      expect(vfs.umount(p.ctx, p.ctx.cwd, '/two')).toBeUndefined();
      expect(cat(p, '/two')).toBe('two');
      expect(p.unlink('/two')).toBe(0);
    });

    it('stacks file mounts; umount takes the top one', () => {
      const { p, vfs } = setup();
      put(p, '/a', 'a');
      put(p, '/b', 'b');
      put(p, '/t', 't');
      expect(isError(bindFile(vfs, p, '/a', '/t'))).toBe(false);
      expect(isError(bindFile(vfs, p, '/b', '/t'))).toBe(false);
      expect(cat(p, '/t')).toBe('b');
      expect(vfs.umount(p.ctx, p.ctx.cwd, '/t')).toBeUndefined();
      expect(cat(p, '/t')).toBe('a');
      expect(vfs.umount(p.ctx, p.ctx.cwd, '/t')).toBeUndefined();
      expect(cat(p, '/t')).toBe('t');
      expect(vfs.umount(p.ctx, p.ctx.cwd, '/t')).toBe(E.EINVAL);
    });

    it('gives EBUSY for a mount on a second link of a covered file (mounts are keyed by inode)', () => {
      const { p, vfs } = setup();
      put(p, '/a', 'a');
      put(p, '/t', 't');
      expect(p.link('/t', '/t2')).toBe(0);
      expect(isError(bindFile(vfs, p, '/a', '/t'))).toBe(false);
      expect(bindFile(vfs, p, '/a', '/t2')).toBe(E.EBUSY);
      expect(cat(p, '/t2')).toBe('t');
    });

    it('binds onto a file of a filesystem that makes a new inode object at each lookup (hostfs)', () => {
      const host = mkdtempSync(join(tmpdir(), 'tsvisor-filebind-'));
      try {
        writeFileSync(join(host, 'file'), 'host');
        const { p, vfs } = setup();
        p.mkdir('/h', 0o755);
        expect(isError(vfs.mount(p.ctx, p.ctx.cwd, '/h', new Hostfs(host)))).toBe(false);
        put(p, '/one', 'one');
        expect(isError(bindFile(vfs, p, '/one', '/h/file'))).toBe(false);
        expect(cat(p, '/h/file')).toBe('one');
        expect(p.unlink('/h/file')).toBe(E.EBUSY);
        expect(vfs.umount(p.ctx, p.ctx.cwd, '/h/file')).toBeUndefined();
        expect(cat(p, '/h/file')).toBe('host');
      } finally {
        rmSync(host, { recursive: true, force: true });
      }
    });
  });
});
