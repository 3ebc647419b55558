import { E, MountFlag, UmountFlag, isError } from '@tsvisor/abi';
import { makeCredentials } from '@tsvisor/kernel';
import { renderMountinfo, vfsMounts } from '@tsvisor/procfs';
import {
  O_CREAT,
  O_WRONLY,
  Tmpfs,
  type FilesystemImpl,
  type HostMemoryProvider,
  type Location,
} from '@tsvisor/vfs';
import { describe, expect, it } from 'vitest';
import { BAD, BUF, harness, type Harness } from './harness.test-util.js';
import { configureMounts } from './sys-mount.js';
import { ctxOf, vfsOf } from './vfs-context.js';

const { MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT, MS_BIND, MS_MOVE, MS_REC } = MountFlag;
const { MS_PRIVATE, MS_SHARED, MS_SLAVE, MS_UNBINDABLE, MS_NOATIME, MS_STRICTATIME, MS_NOUSER } = MountFlag;
const { MNT_DETACH, MNT_EXPIRE } = UmountFlag;
const enc = new TextEncoder();

/** Strings go at fixed offsets of the scratch buffer; null stays a NULL pointer. */
function str(h: Harness, slot: number, s: string | null): number {
  if (s === null) return 0;
  const addr = BUF + slot * 0x1000;
  h.mem.write(addr, enc.encode(s + '\0'));
  return addr;
}

function mount(
  h: Harness,
  source: string | null,
  target: string,
  type: string | null,
  flags: number,
  data: string | null = null,
) {
  return h.call('mount', str(h, 0, source), str(h, 1, target), str(h, 2, type), flags, str(h, 3, data));
}

function umount(h: Harness, target: string, flags = 0) {
  return h.call('umount2', str(h, 1, target), flags);
}

function mkdir(h: Harness, path: string) {
  return h.call('mkdirat', -100, str(h, 4, path), 0o755);
}

/** mountinfo lines without the ids and device numbers: root, mount point, options, fields, type, source, super. */
function mountinfo(h: Harness): string[] {
  return renderMountinfo(vfsMounts(vfsOf(h.task), ctxOf(h.task)))
    .trim()
    .split('\n')
    .map((l) => l.split(' ').slice(3).join(' '));
}

function create(h: Harness, path: string) {
  return h.call('openat', -100, str(h, 4, path), O_CREAT | O_WRONLY, 0o644);
}

describe('mount(2): new mounts', () => {
  it('mounts a tmpfs with its options, source and flags, shown in mountinfo', async () => {
    const h = harness();
    expect(await mkdir(h, '/mnt')).toBe(0);
    expect(await mount(h, 'scratch', '/mnt', 'tmpfs', MS_NOSUID | MS_NODEV, 'size=64k,mode=0700')).toBe(0);
    expect(mountinfo(h)).toContain('/ /mnt rw,nosuid,nodev,relatime - tmpfs scratch rw');
    expect(await create(h, '/mnt/f')).toBeGreaterThanOrEqual(0);
    const loc = vfsOf(h.task).lookupat(ctxOf(h.task), ctxOf(h.task).cwd, '/mnt', 0) as Location;
    expect(loc.inode.mode & 0o7777).toBe(0o700);
    expect(loc.mount.fs).toBeInstanceOf(Tmpfs);
    // A NULL source is "none"; noatime and strictatime replace relatime.
    expect(await mkdir(h, '/a')).toBe(0);
    expect(await mount(h, null, '/a', 'tmpfs', MS_NOATIME | MS_RDONLY)).toBe(0);
    expect(mountinfo(h)).toContain('/ /a ro,noatime - tmpfs none rw');
    expect(await create(h, '/a/f')).toBe(E.EROFS);
    expect(await mkdir(h, '/b')).toBe(0);
    expect(await mount(h, 'x', '/b', 'tmpfs', MS_STRICTATIME, 'ro')).toBe(0);
    expect(mountinfo(h)).toContain('/ /b ro - tmpfs x rw');
  });

  it('gives new tmpfs mounts the configured host memory', async () => {
    const h = harness();
    const provider: HostMemoryProvider = { create: () => E.ENOSYS, addSeals: () => undefined };
    configureMounts(h.kernel, { hostMemory: provider });
    await mkdir(h, '/m');
    expect(await mount(h, 't', '/m', 'tmpfs', 0)).toBe(0);
    const loc = vfsOf(h.task).lookupat(ctxOf(h.task), ctxOf(h.task).cwd, '/m', 0) as Location;
    expect((loc.mount.fs as Tmpfs).hostMemory).toBe(provider);
  });

  it('mounts the registered pseudo filesystems and checks their options', async () => {
    const h = harness();
    const made: string[] = [];
    const factory = (type: string) => (): FilesystemImpl => {
      made.push(type);
      const fs = new Tmpfs();
      (fs as { type: string }).type = type;
      return fs;
    };
    configureMounts(h.kernel, { filesystems: { proc: factory('proc'), cgroup2: factory('cgroup2') } });
    await mkdir(h, '/proc');
    expect(await mount(h, 'proc', '/proc', 'proc', MS_NOSUID, 'hidepid=2')).toBe(0);
    expect(await mount(h, 'proc', '/proc', 'proc', 0, 'bogus=1')).toBe(E.EINVAL);
    expect(await mount(h, 'c', '/proc', 'cgroup2', 0, 'nsdelegate')).toBe(0);
    expect(made).toEqual(['proc', 'cgroup2']);
    expect(await mount(h, 'm', '/proc', 'mqueue', 0)).toBe(E.ENODEV);
    expect(await mount(h, 'd', '/proc', 'devpts', 0)).toBe(E.ENODEV);
  });

  it('answers the errnos of Linux for bad requests', async () => {
    const h = harness();
    await mkdir(h, '/d');
    expect(await create(h, '/file')).toBeGreaterThanOrEqual(0);
    expect(await mount(h, 'x', '/nope', 'tmpfs', 0)).toBe(E.ENOENT);
    expect(await mount(h, 'x', '/file', 'tmpfs', 0)).toBe(E.ENOTDIR);
    expect(await mount(h, 'x', '/d', 'nosuchfs', 0)).toBe(E.ENODEV);
    expect(await mount(h, 'x', '/d', '', 0)).toBe(E.ENODEV);
    expect(await mount(h, 'x', '/d', null, 0)).toBe(E.EINVAL);
    expect(await mount(h, 'x', '/d', 'tmpfs', 0, 'size=lots')).toBe(E.EINVAL);
    expect(await mount(h, 'x', '/d', 'tmpfs', MS_NOUSER)).toBe(E.EINVAL);
    // Block filesystems: there are no block devices in the sandbox.
    expect(await mount(h, '/dev/sda1', '/d', 'ext4', 0)).toBe(E.ENOENT);
    expect(await mount(h, '/file', '/d', 'ext4', 0)).toBe(E.ENOTBLK);
    expect(await mount(h, null, '/d', 'ext4', 0)).toBe(E.EINVAL);
    // Bad pointers fault; a type string longer than a page is EINVAL.
    expect(await h.call('mount', 0, str(h, 1, '/d'), BAD, 0, 0)).toBe(E.EFAULT);
    expect(await h.call('mount', BAD, str(h, 1, '/d'), str(h, 2, 'tmpfs'), 0, 0)).toBe(E.EFAULT);
    expect(await h.call('mount', 0, BAD, str(h, 2, 'tmpfs'), 0, 0)).toBe(E.EFAULT);
    expect(await h.call('mount', 0, str(h, 1, '/d'), str(h, 2, 'tmpfs'), 0, BAD)).toBe(E.EFAULT);
    h.mem.write(BUF + 0x8000, enc.encode('t'.repeat(5000) + '\0'));
    expect(await h.call('mount', 0, str(h, 1, '/d'), BUF + 0x8000, 0, 0)).toBe(E.EINVAL);
    // Nothing was mounted by any of these.
    expect(mountinfo(h)).toHaveLength(1);
  });

  it('needs CAP_SYS_ADMIN, after the target lookup', async () => {
    const h = harness();
    await mkdir(h, '/d');
    h.task.group.creds = makeCredentials(1000, 1000);
    expect(await mount(h, 'x', '/nope', 'tmpfs', 0)).toBe(E.ENOENT);
    expect(await mount(h, 'x', '/d', 'tmpfs', 0)).toBe(E.EPERM);
    expect(await umount(h, '/d')).toBe(E.EPERM);
  });
});

describe('mount(2): bind, remount, move, propagation', () => {
  it('bind mounts a directory, recursively with MS_REC, keeping the source flags', async () => {
    const h = harness();
    for (const d of ['/src', '/src/sub', '/src/sub/x', '/dst', '/rdst']) expect(await mkdir(h, d)).toBe(0);
    expect(await mount(h, 'inner', '/src/sub', 'tmpfs', MS_NOEXEC)).toBe(0);
    expect(await mkdir(h, '/src/sub/y')).toBe(0);
    expect(await mount(h, '/src', '/dst', null, MS_BIND | MS_RDONLY)).toBe(0);
    expect(await mount(h, '/src', '/rdst', null, MS_BIND | MS_REC)).toBe(0);
    const info = mountinfo(h);
    // A bind of the root filesystem's /src; MS_RDONLY is ignored by a bind (it needs a remount).
    expect(info).toContain('/src /dst rw,relatime - tmpfs tmpfs rw');
    expect(info).toContain('/ /rdst/sub rw,noexec,relatime - tmpfs inner rw');
    expect(info.filter((l) => l.includes('/dst/sub'))).toEqual([]);
    // The recursive copy shows the inner tmpfs's files; the plain bind shows the empty mountpoint.
    expect(await h.call('mkdirat', -100, str(h, 4, '/rdst/sub/y'), 0o755)).toBe(E.EEXIST);
    expect(await h.call('mkdirat', -100, str(h, 4, '/dst/sub/x'), 0o755)).toBe(E.EEXIST);
    // Files made through one view appear in the other.
    expect(await create(h, '/dst/made')).toBeGreaterThanOrEqual(0);
    expect(await h.call('mkdirat', -100, str(h, 4, '/src/made'), 0o755)).toBe(E.EEXIST);
  });

  it('a bind source is a path of the caller\'s view: ".." cannot leave a chroot', async () => {
    const h = harness();
    await mkdir(h, '/outside-only');
    await mkdir(h, '/jail');
    await mkdir(h, '/jail/inside-only');
    expect(await h.call('chroot', str(h, 1, '/jail'))).toBe(0);
    expect(await h.call('chdir', str(h, 1, '/'))).toBe(0);
    await mkdir(h, '/view');
    expect(await mount(h, '/../..', '/view', null, MS_BIND)).toBe(0);
    expect(await mkdir(h, '/view/inside-only')).toBe(E.EEXIST);
    expect(await mount(h, '/../outside-only', '/view', null, MS_BIND)).toBe(E.ENOENT);
    expect(await mkdir(h, '/view/outside-only')).toBe(0);
  });

  it('bind errors: missing source, file onto directory, unbindable source', async () => {
    const h = harness();
    await mkdir(h, '/a');
    await mkdir(h, '/b');
    await create(h, '/f');
    expect(await mount(h, '/nope', '/a', null, MS_BIND)).toBe(E.ENOENT);
    expect(await mount(h, null, '/a', null, MS_BIND)).toBe(E.EINVAL);
    expect(await mount(h, '/f', '/a', null, MS_BIND)).toBe(E.ENOTDIR);
    expect(await mount(h, 'x', '/b', 'tmpfs', 0)).toBe(0);
    expect(await mount(h, null, '/b', null, MS_UNBINDABLE)).toBe(0);
    expect(await mount(h, '/b', '/a', null, MS_BIND)).toBe(E.EINVAL);
    expect(mountinfo(h)).toContain('/ /b rw,relatime unbindable - tmpfs x rw');
  });

  it('remount with MS_BIND|MS_RDONLY makes one mount read-only (EROFS), and back', async () => {
    const h = harness();
    await mkdir(h, '/src');
    await mkdir(h, '/ro');
    expect(await mount(h, '/src', '/ro', null, MS_BIND)).toBe(0);
    expect(await mount(h, null, '/ro', null, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID)).toBe(0);
    expect(mountinfo(h)).toContain('/src /ro ro,nosuid,relatime - tmpfs tmpfs rw');
    expect(await create(h, '/ro/f')).toBe(E.EROFS);
    expect(await create(h, '/src/f')).toBeGreaterThanOrEqual(0);
    expect(await h.call('unlinkat', -100, str(h, 4, '/ro/f'), 0)).toBe(E.EROFS);
    // A remount only applies to the root of a mount.
    expect(await mount(h, null, '/src', null, MS_REMOUNT | MS_BIND)).toBe(E.EINVAL);
    expect(await mount(h, null, '/ro', null, MS_REMOUNT | MS_BIND)).toBe(0);
    expect(await create(h, '/ro/g')).toBeGreaterThanOrEqual(0);
    // A plain remount checks the filesystem's options.
    expect(await mkdir(h, '/t')).toBe(0);
    expect(await mount(h, 't', '/t', 'tmpfs', MS_NOATIME)).toBe(0);
    expect(await mount(h, null, '/t', null, MS_REMOUNT, 'bogus')).toBe(E.EINVAL);
    expect(await mount(h, null, '/t', null, MS_REMOUNT, 'ro')).toBe(0);
    expect(mountinfo(h)).toContain('/ /t ro,noatime - tmpfs t rw');
  });

  it('MS_MOVE moves a mount and its submounts; not into itself, not a non-mount', async () => {
    const h = harness();
    for (const d of ['/a', '/b']) await mkdir(h, d);
    expect(await mount(h, 'x', '/a', 'tmpfs', 0)).toBe(0);
    await mkdir(h, '/a/in');
    expect(await mount(h, 'y', '/a/in', 'tmpfs', 0)).toBe(0);
    expect(await mount(h, '/a', '/a/in', null, MS_MOVE)).toBe(E.ELOOP);
    expect(await mount(h, '/b', '/a', null, MS_MOVE)).toBe(E.EINVAL);
    expect(await mount(h, '/a', '/b', null, MS_MOVE)).toBe(0);
    const info = mountinfo(h);
    expect(info).toContain('/ /b rw,relatime - tmpfs x rw');
    expect(info).toContain('/ /b/in rw,relatime - tmpfs y rw');
    expect(info.some((l) => l.includes(' /a '))).toBe(false);
  });

  it('records propagation types as mountinfo shows them', async () => {
    const h = harness();
    for (const d of ['/a', '/b', '/c']) await mkdir(h, d);
    expect(await mount(h, 'x', '/a', 'tmpfs', 0)).toBe(0);
    expect(await mount(h, null, '/a', null, MS_SHARED)).toBe(0);
    // A bind of a shared mount joins its peer group; a mount under a shared one is shared.
    expect(await mount(h, '/a', '/b', null, MS_BIND)).toBe(0);
    await mkdir(h, '/a/sub');
    expect(await mount(h, 's', '/a/sub', 'tmpfs', 0)).toBe(0);
    let info = mountinfo(h);
    expect(info).toContain('/ /a rw,relatime shared:1 - tmpfs x rw');
    expect(info).toContain('/ /b rw,relatime shared:1 - tmpfs x rw');
    expect(info).toContain('/ /a/sub rw,relatime shared:2 - tmpfs s rw');
    // A shared mount made slave with peers becomes a slave of their group.
    expect(await mount(h, null, '/b', null, MS_SLAVE)).toBe(0);
    // Only one propagation type at a time, on a mount root.
    expect(await mount(h, null, '/a', null, MS_PRIVATE | MS_SHARED)).toBe(E.EINVAL);
    expect(await mount(h, null, '/a', null, MS_PRIVATE | MS_NOSUID)).toBe(E.EINVAL);
    expect(await mount(h, null, '/c', null, MS_PRIVATE)).toBe(E.EINVAL);
    info = mountinfo(h);
    expect(info).toContain('/ /b rw,relatime master:1 - tmpfs x rw');
    expect(await mount(h, null, '/a', null, MS_PRIVATE | MS_REC)).toBe(0);
    info = mountinfo(h);
    expect(info).toContain('/ /a rw,relatime - tmpfs x rw');
    expect(info).toContain('/ /a/sub rw,relatime - tmpfs s rw');
    // MS_MOVE from under a shared parent is refused.
    expect(await mount(h, null, '/a', null, MS_SHARED)).toBe(0);
    expect(await mount(h, '/a/sub', '/c', null, MS_MOVE)).toBe(E.EINVAL);
  });
});

describe('mount(2): file bind mounts', () => {
  it('binds a file onto a file; unlink and rename of the mount point are EBUSY; umount restores', async () => {
    const h = harness();
    await mkdir(h, '/d');
    await create(h, '/one');
    await create(h, '/two');
    const fd = (await create(h, '/one')) as number;
    h.mem.write(BUF + 0x9000, enc.encode('ONE'));
    expect(await h.call('write', fd, BUF + 0x9000, 3)).toBe(3);
    expect(await h.call('close', fd)).toBe(0);
    expect(await mount(h, '/d', '/two', null, MS_BIND)).toBe(E.ENOTDIR);
    expect(await mount(h, '/one', '/two', null, MS_BIND)).toBe(0);
    expect(mountinfo(h)).toContain('/one /two rw,relatime - tmpfs tmpfs rw');
    const st = (path: string) =>
      vfsOf(h.task).statat(ctxOf(h.task), ctxOf(h.task).cwd, path, 0) as { size: number; ino: number };
    expect(st('/two').size).toBe(3);
    expect(st('/two').ino).toBe(st('/one').ino);
    expect(await h.call('unlinkat', -100, str(h, 4, '/two'), 0)).toBe(E.EBUSY);
    expect(await h.call('renameat', -100, str(h, 4, '/two'), -100, str(h, 5, '/x'))).toBe(E.EBUSY);
    // A file open through the mount keeps it busy.
    const busy = (await h.call('openat', -100, str(h, 4, '/two'), 0, 0)) as number;
    expect(await umount(h, '/two')).toBe(E.EBUSY);
    expect(await h.call('close', busy)).toBe(0);
    expect(await umount(h, '/two')).toBe(0);
    expect(st('/two').size).toBe(0);
    expect(await h.call('unlinkat', -100, str(h, 4, '/two'), 0)).toBe(0);
  });

  it('MS_MOVE moves a file mount onto another file, not onto a directory (EINVAL)', async () => {
    const h = harness();
    await mkdir(h, '/d');
    for (const f of ['/a', '/b', '/c']) await create(h, f);
    expect(await mount(h, '/a', '/b', null, MS_BIND)).toBe(0);
    expect(await mount(h, '/b', '/d', null, MS_MOVE)).toBe(E.EINVAL);
    expect(await mount(h, '/b', '/c', null, MS_MOVE)).toBe(0);
    expect(mountinfo(h)).toContain('/a /c rw,relatime - tmpfs tmpfs rw');
    expect(mountinfo(h).some((l) => l.includes(' /b '))).toBe(false);
  });
});

describe('mount(2): propagation', () => {
  it('mounts and unmounts under a shared mount reach its peers and slaves, not the other way', async () => {
    const h = harness();
    for (const d of ['/s', '/p', '/sl']) await mkdir(h, d);
    expect(await mount(h, 'src', '/s', 'tmpfs', 0)).toBe(0);
    for (const d of ['/s/x', '/s/y']) await mkdir(h, d);
    expect(await mount(h, null, '/s', null, MS_SHARED)).toBe(0);
    expect(await mount(h, '/s', '/p', null, MS_BIND)).toBe(0);
    expect(await mount(h, '/s', '/sl', null, MS_BIND)).toBe(0);
    expect(await mount(h, null, '/sl', null, MS_SLAVE)).toBe(0);
    expect(await mount(h, 't', '/p/x', 'tmpfs', 0)).toBe(0);
    expect(await mount(h, 'mine', '/sl/y', 'tmpfs', 0)).toBe(0);
    const info = mountinfo(h);
    expect(info).toContain('/ /s/x rw,relatime shared:2 - tmpfs t rw');
    expect(info).toContain('/ /p/x rw,relatime shared:2 - tmpfs t rw');
    expect(info).toContain('/ /sl/x rw,relatime master:2 - tmpfs t rw');
    expect(info).toContain('/ /sl/y rw,relatime - tmpfs mine rw');
    expect(info.some((l) => l.includes(' /s/y ') || l.includes(' /p/y '))).toBe(false);
    // A copy in use makes the unmount EBUSY; then all go together.
    const fd = (await create(h, '/sl/x/f')) as number;
    expect(await umount(h, '/s/x')).toBe(E.EBUSY);
    expect(await h.call('close', fd)).toBe(0);
    expect(await umount(h, '/s/x')).toBe(0);
    expect(mountinfo(h).filter((l) => l.includes('tmpfs t '))).toEqual([]);
  });

  it('MNT_DETACH of a tree takes the propagated copies of its mounts along', async () => {
    const h = harness();
    for (const d of ['/q', '/q2']) await mkdir(h, d);
    expect(await mount(h, 'q', '/q', 'tmpfs', 0)).toBe(0);
    await mkdir(h, '/q/z');
    expect(await mount(h, null, '/q', null, MS_SHARED)).toBe(0);
    expect(await mount(h, '/q', '/q2', null, MS_BIND)).toBe(0);
    expect(await mount(h, 'z', '/q/z', 'tmpfs', 0)).toBe(0);
    expect(mountinfo(h).filter((l) => l.includes('tmpfs z '))).toHaveLength(2);
    expect(await umount(h, '/q', MNT_DETACH)).toBe(0);
    expect(mountinfo(h).filter((l) => l.includes('tmpfs z '))).toEqual([]);
    expect(mountinfo(h)).toContain('/ /q2 rw,relatime shared:1 - tmpfs q rw');
  });
});

describe('umount2(2)', () => {
  it('unmounts, refusing busy mounts unless MNT_DETACH', async () => {
    const h = harness();
    await mkdir(h, '/m');
    expect(await mount(h, 'x', '/m', 'tmpfs', 0)).toBe(0);
    const fd = (await create(h, '/m/f')) as number;
    expect(await umount(h, '/m')).toBe(E.EBUSY);
    expect(await h.call('close', fd)).toBe(0);
    await mkdir(h, '/m/sub');
    expect(await mount(h, 'y', '/m/sub', 'tmpfs', 0)).toBe(0);
    expect(await umount(h, '/m')).toBe(E.EBUSY);
    expect(await umount(h, '/m/sub')).toBe(0);
    expect(await umount(h, '/m/sub')).toBe(E.EINVAL);
    expect(await umount(h, '/m')).toBe(0);
    expect(await umount(h, '/m')).toBe(E.EINVAL);
    expect(await umount(h, '/nope')).toBe(E.ENOENT);
    expect(await h.call('umount2', BAD, 0)).toBe(E.EFAULT);
    expect(await umount(h, '/m', 0x10)).toBe(E.EINVAL);
    expect(mountinfo(h)).toHaveLength(1);
  });

  it('MNT_DETACH removes a busy tree at once; files open in it keep working', async () => {
    const h = harness();
    await mkdir(h, '/m');
    expect(await mount(h, 'x', '/m', 'tmpfs', 0)).toBe(0);
    const fd = (await create(h, '/m/f')) as number;
    await mkdir(h, '/m/sub');
    expect(await mount(h, 'y', '/m/sub', 'tmpfs', 0)).toBe(0);
    expect(await h.call('chdir', str(h, 4, '/m/sub'))).toBe(0);
    expect(await umount(h, '/m', MNT_DETACH)).toBe(0);
    expect(mountinfo(h)).toHaveLength(1);
    h.mem.write(BUF + 0x9000, enc.encode('hi'));
    expect(await h.call('write', fd, BUF + 0x9000, 2)).toBe(2);
    expect(await h.call('chdir', str(h, 4, '/'))).toBe(0);
    expect(await create(h, '/m/f')).toBeGreaterThanOrEqual(0);
  });

  it('MNT_EXPIRE marks first (EAGAIN), unmounts on the second call, EBUSY when used', async () => {
    const h = harness();
    await mkdir(h, '/m');
    expect(await mount(h, 'x', '/m', 'tmpfs', 0)).toBe(0);
    expect(await umount(h, '/m', MNT_EXPIRE | MNT_DETACH)).toBe(E.EINVAL);
    expect(await umount(h, '/m', MNT_EXPIRE)).toBe(E.EAGAIN);
    expect(await umount(h, '/m', MNT_EXPIRE)).toBe(0);
    expect(await mount(h, 'x', '/m', 'tmpfs', 0)).toBe(0);
    expect(await h.call('chdir', str(h, 4, '/m'))).toBe(0);
    expect(await umount(h, '/m', MNT_EXPIRE)).toBe(E.EBUSY);
    expect(await umount(h, '/m')).toBe(E.EBUSY);
  });

  it('the namespace root cannot be unmounted', async () => {
    const h = harness();
    expect(await umount(h, '/')).toBe(E.EBUSY);
    expect(await umount(h, '/', MNT_DETACH)).toBe(E.EINVAL);
    expect(isError(await umount(h, '/'))).toBe(true);
  });

  it('umount2 of a directory with mounts stacked on it takes the top one', async () => {
    const h = harness();
    await mkdir(h, '/m');
    expect(await mount(h, 'low', '/m', 'tmpfs', 0)).toBe(0);
    expect(await mount(h, 'high', '/m', 'tmpfs', 0)).toBe(0);
    expect(await umount(h, '/m')).toBe(0);
    expect(mountinfo(h).slice(1)).toEqual(['/ /m rw,relatime - tmpfs low rw']);
  });
});

describe('pivot_root(2)', () => {
  it('is EINVAL on the sandbox root (a mount without parent, like rootfs)', async () => {
    const h = harness();
    await mkdir(h, '/new');
    expect(await mount(h, 'n', '/new', 'tmpfs', 0)).toBe(0);
    expect(await h.call('pivot_root', str(h, 1, '/new'), str(h, 2, '/new'))).toBe(E.EINVAL);
  });

  it('pivot_root(".", ".") in a chroot, then umount2(".", MNT_DETACH) leaves only the new root', async () => {
    const h = harness();
    await mkdir(h, '/jail');
    expect(await mount(h, 'jail', '/jail', 'tmpfs', 0)).toBe(0);
    expect(await h.call('chroot', str(h, 1, '/jail'))).toBe(0);
    expect(await h.call('chdir', str(h, 1, '/'))).toBe(0);
    await mkdir(h, '/new');
    await mkdir(h, '/file-dir');
    expect(await mount(h, 'newroot', '/new', 'tmpfs', 0)).toBe(0);
    await mkdir(h, '/new/inside');
    expect(await h.call('pivot_root', str(h, 1, '/new/inside'), str(h, 2, '/new/inside'))).toBe(E.EINVAL);
    // Checks: not a mount root, new_root or put_old on the root mount, put_old not under new_root.
    expect(await h.call('pivot_root', str(h, 1, '/file-dir'), str(h, 2, '/file-dir'))).toBe(E.EBUSY);
    expect(await h.call('pivot_root', str(h, 1, '/'), str(h, 2, '/new'))).toBe(E.EBUSY);
    expect(await h.call('pivot_root', str(h, 1, '/new'), str(h, 2, '/file-dir'))).toBe(E.EBUSY);
    expect(await mount(h, 'other', '/file-dir', 'tmpfs', 0)).toBe(0);
    expect(await h.call('pivot_root', str(h, 1, '/new'), str(h, 2, '/file-dir'))).toBe(E.EINVAL);
    expect(await umount(h, '/file-dir')).toBe(0);
    expect(await h.call('pivot_root', str(h, 1, '/nope'), str(h, 2, '/new'))).toBe(E.ENOENT);
    expect(await h.call('chdir', str(h, 1, '/new'))).toBe(0);
    expect(await h.call('pivot_root', str(h, 1, '.'), str(h, 2, '.'))).toBe(0);
    // The old root is stacked on the new one; the caller's root is the new mount.
    // (Listed by mount id, as Linux 6 lists a namespace: the older jail mount first.)
    expect(mountinfo(h)).toEqual(['/ / rw,relatime - tmpfs jail rw', '/ / rw,relatime - tmpfs newroot rw']);
    expect(await umount(h, '.', MNT_DETACH)).toBe(0);
    expect(mountinfo(h)).toEqual(['/ / rw,relatime - tmpfs newroot rw']);
    expect(await h.call('mkdirat', -100, str(h, 4, '/inside'), 0o755)).toBe(E.EEXIST);
    h.task.group.creds = makeCredentials(1000, 1000);
    expect(await h.call('pivot_root', str(h, 1, '.'), str(h, 2, '.'))).toBe(E.EPERM);
  });
});
