import { describe, expect, it } from 'vitest';
import { MountFlag } from '@tsvisor/abi';
import { MS_NODEV, MS_NOEXEC, MS_NOSUID, MS_RDONLY, ROOT_CREDS, Tmpfs, Vfs, type Mount } from '@tsvisor/vfs';
import { KernFs, dir } from './kernfs.js';
import { renderMountinfo } from './render.js';
import { vfsMounts } from './vfs-mounts.js';

describe('vfsMounts', () => {
  it('lists the mounts of a Vfs in mount order with their flags and paths', () => {
    const vfs = new Vfs(new Tmpfs({ mode: 0o755 }));
    const ctx = vfs.rootContext(ROOT_CREDS);
    vfs.mkdirat(ctx, ctx.cwd, '/proc', 0o555);
    vfs.mkdirat(ctx, ctx.cwd, '/a', 0o755);
    vfs.mkdirat(ctx, ctx.cwd, '/a/b c', 0o755);
    vfs.mount(ctx, ctx.cwd, '/proc', new KernFs('proc', 0x9fa0, dir({})), MS_NOSUID | MS_NODEV | MS_NOEXEC);
    vfs.mount(ctx, ctx.cwd, '/a/b c', new Tmpfs(), MS_RDONLY);
    const m = vfsMounts(vfs, ctx, (mnt) =>
      mnt.fs.type === 'tmpfs' ? { source: 'tmpfs', fsOptions: ['mode=1777'] } : {},
    );
    expect(m.map((x) => [x.mountPoint, x.fsType, x.mountOptions, x.superOptions, x.source])).toEqual([
      ['/', 'tmpfs', 'rw,relatime', 'rw,mode=1777', 'tmpfs'],
      ['/proc', 'proc', 'rw,nosuid,nodev,noexec,relatime', 'rw', 'proc'],
      ['/a/b c', 'tmpfs', 'ro,relatime', 'rw,mode=1777', 'tmpfs'],
    ]);
    expect(m[1]?.parentId).toBe(m[0]?.mountId);
    expect(m.every((x) => x.root === '/')).toBe(true);
    // The space in the mount point is escaped in mountinfo.
    expect(renderMountinfo(m).split('\n')[2]).toMatch(
      /^\d+ \d+ 0:\d+ \/ \/a\/b\\040c ro,relatime - tmpfs tmpfs rw,mode=1777$/,
    );
  });

  it('shows the source, atime policy and propagation mount(2) recorded', () => {
    const vfs = new Vfs(new Tmpfs({ mode: 0o755 }));
    const ctx = vfs.rootContext(ROOT_CREDS);
    vfs.mkdirat(ctx, ctx.cwd, '/s', 0o755);
    vfs.mkdirat(ctx, ctx.cwd, '/u', 0o755);
    const s = vfs.mount(ctx, ctx.cwd, '/s', new Tmpfs(), MS_NOSUID) as Mount;
    s.source = 'scratch';
    s.flags |= MountFlag.MS_NOATIME;
    s.peerGroup = 3;
    s.masterGroup = 1;
    const u = vfs.mount(ctx, ctx.cwd, '/u', new Tmpfs()) as Mount;
    u.flags |= MountFlag.MS_STRICTATIME;
    u.unbindable = true;
    const lines = renderMountinfo(vfsMounts(vfs, ctx)).split('\n');
    expect(lines[1]).toMatch(/ \/ \/s rw,nosuid,noatime shared:3 master:1 - tmpfs scratch rw$/);
    expect(lines[2]).toMatch(/ \/ \/u rw unbindable - tmpfs tmpfs rw$/);
  });
});
