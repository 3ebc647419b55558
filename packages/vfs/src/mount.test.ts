import { E, isError } from '@tsvisor/abi';
import { describe, expect, it } from 'vitest';
import {
  AT_REMOVEDIR,
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
});
