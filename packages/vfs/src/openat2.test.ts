import { E, Resolve } from '@tsvisor/abi';
import { describe, expect, it } from 'vitest';
import {
  O_CREAT,
  O_DIRECTORY,
  O_EXCL,
  O_NOFOLLOW,
  O_PATH,
  O_RDONLY,
  O_RDWR,
  O_TMPFILE,
  O_TRUNC,
  O_WRONLY,
} from './constants.js';
import { Inode, Posix, ROOT_CREDS, Tmpfs, Vfs, checkOpenHow } from './index.js';
import type { FilesystemImpl, FsContext, Location, Statfs } from './index.js';
import type { LinuxError } from '@tsvisor/abi';
import type { Op } from './testing/differential.test-util.js';
import { normalize, runHost, runVfs } from './testing/differential.test-util.js';

const {
  RESOLVE_NO_XDEV,
  RESOLVE_NO_MAGICLINKS,
  RESOLVE_NO_SYMLINKS,
  RESOLVE_BENEATH,
  RESOLVE_IN_ROOT,
  RESOLVE_CACHED,
} = Resolve;
const AT_FDCWD = -100;
const O_TMPFILE_FLAGS = O_TMPFILE | O_RDWR;

/**
 * A tree where every file has a different size, so the fstat after openat2 tells which one the
 * walk reached: /f (outside the scope), /s (the dirfd), a tmpfs mounted on /s/mnt, symlinks of
 * every shape.
 */
const setup: Op[] = [
  ['mkdir', '/s', 0o755],
  ['mkdir', '/s/a', 0o755],
  ['mkdir', '/s/mnt', 0o755],
  ['mkdir', '/a', 0o755],
  ['open', '/f', O_CREAT | O_WRONLY, 0o644], // handle 0
  ['write', 0, 'outside-root'],
  ['open', '/s/f', O_CREAT | O_WRONLY, 0o644], // handle 1
  ['write', 1, 'inside'],
  ['open', '/s/a/g', O_CREAT | O_WRONLY, 0o600], // handle 2
  ['write', 2, 'ggg'],
  ['open', '/a/g', O_CREAT | O_WRONLY, 0o640], // handle 3
  ['write', 3, 'top-level-g'],
  ['symlink', 'a/../f', '/s/rel'],
  ['symlink', '/f', '/s/abs'],
  ['symlink', '/a/g', '/s/abs2'],
  ['symlink', '../f', '/s/up'],
  ['symlink', '../../f', '/s/a/upup'],
  ['symlink', 'a', '/s/dirlink'],
  ['symlink', '..', '/s/dotdot'],
  ['symlink', '/', '/s/slash'],
  ['mounttmpfs', '/s/mnt'],
  ['open', '/s/mnt/m', O_CREAT | O_WRONLY, 0o644], // handle 4
  ['write', 4, 'mounted-file!'],
  ['symlink', '../f', '/s/mnt/out'],
  ['symlink', '/s/f', '/s/mnt/absin'],
  ['open', '/s', O_DIRECTORY | O_RDONLY, 0], // handle 5: the scope
  ['open', '/s/mnt', O_DIRECTORY | O_RDONLY, 0], // handle 6: a mount root
  ['open', '/s/f', O_PATH, 0], // handle 7: not a directory
  ['chdir', '/s'],
];
const S = 5;
const MNT = 6;
const FILE = 7;

const paths = [
  'f',
  'a/g',
  'a/../f',
  '../f',
  'a/../../f',
  '/f',
  '/s/f',
  '/a/g',
  '.',
  '..',
  '../..',
  'rel',
  'abs',
  'a/../abs',
  '/s/abs',
  'dotdot/s/abs',
  'abs2',
  'up',
  'a/upup',
  'dirlink/g',
  'dotdot/f',
  'slash',
  'slash/f',
  'mnt',
  'mnt/m',
  'mnt/../f',
  'mnt/out',
  'mnt/absin',
  'nonexist',
  'a/nonexist',
  'f/',
  '',
];
const resolves = [
  0,
  RESOLVE_NO_XDEV,
  RESOLVE_NO_SYMLINKS,
  RESOLVE_NO_MAGICLINKS,
  RESOLVE_BENEATH,
  RESOLVE_IN_ROOT,
  RESOLVE_CACHED,
  RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS,
  RESOLVE_IN_ROOT | RESOLVE_NO_XDEV,
  RESOLVE_IN_ROOT | RESOLVE_CACHED,
];

const probes: Op[] = [];
for (const r of resolves) {
  for (const p of paths) probes.push(['openat2', S, p, O_RDONLY, 0, r]);
  for (const p of ['..', 'm', 'out', 'absin', '/m']) probes.push(['openat2', MNT, p, O_RDONLY, 0, r]);
  for (const p of ['f', '..', '/f', '../f']) probes.push(['openat2', AT_FDCWD, p, O_RDONLY, 0, r]);
  // A non-directory dirfd, a bad dirfd, with relative and absolute paths.
  for (const p of ['x', '/f']) {
    probes.push(['openat2', FILE, p, O_RDONLY, 0, r]);
    probes.push(['openat2', 99, p, O_RDONLY, 0, r]);
  }
  // The final symlink itself (not followed), creation, truncation.
  probes.push(['openat2', S, 'abs', O_PATH | O_NOFOLLOW, 0, r]);
  probes.push(['openat2', S, 'abs', O_RDONLY | O_NOFOLLOW, 0, r]);
  probes.push(['openat2', S, `new${r}`, O_CREAT | O_RDWR, 0o600, r]);
  probes.push(['openat2', S, `../new${r}`, O_CREAT | O_EXCL | O_RDWR, 0o600, r]);
  probes.push(['openat2', S, 'up', O_CREAT | O_RDWR, 0o600, r]);
  probes.push(['openat2', S, 'abs', O_CREAT | O_RDWR, 0o600, r]);
  probes.push(['openat2', S, 'a/g', O_TRUNC | O_RDWR, 0, r]);
  probes.push(['openat2', S, 'a', O_TMPFILE_FLAGS, 0o600, r]);
  probes.push(['openat2', S, '..', O_TMPFILE_FLAGS, 0o600, r]);
}
// Argument checks (build_open_flags), before any path lookup.
for (const [flags, mode, r] of [
  [O_RDONLY, 0, 0x40],
  [O_RDONLY, 0, RESOLVE_BENEATH | RESOLVE_IN_ROOT],
  [O_RDONLY, 0o644, 0],
  [O_CREAT | O_RDWR, 0o10000, 0],
  [O_CREAT | O_DIRECTORY | O_RDWR, 0o600, 0],
  [O_PATH | O_RDWR, 0, 0],
  [O_PATH | O_NOFOLLOW | O_DIRECTORY | 0o2000000, 0, 0],
  [1 << 30, 0, 0],
  [0o20000000 | O_RDWR, 0o600, 0],
  [O_TMPFILE_FLAGS & ~O_RDWR, 0o600, 0],
  [O_CREAT | O_RDWR, 0o600, RESOLVE_CACHED | RESOLVE_BENEATH],
] as const) {
  probes.push(['openat2', 99, '', flags, mode, r]);
  probes.push(['openat2', S, 'f', flags, mode, r]);
}

describe('openat2 RESOLVE_*, differential against Linux', () => {
  it('reaches the same files and gives the same errnos as the kernel', () => {
    const ops = [...setup, ...probes];
    const host = normalize(runHost(ops), ops);
    const p = new Posix(new Vfs(new Tmpfs()), ROOT_CREDS);
    const mine = normalize(runVfs(p, ops), ops);
    const diffs = ops
      .map((op, i) => ({ i, op: JSON.stringify(op), host: host[i], mine: mine[i] }))
      .filter((d) => d.host !== d.mine);
    expect(diffs).toEqual([]);
    // The probes did reach files, in and out of the scope, and were refused too.
    expect(host.filter((l) => l.startsWith('OK 100644 6')).length).toBeGreaterThan(20);
    expect(host.filter((l) => l === 'E18').length).toBeGreaterThan(20);
    expect(host.filter((l) => l === 'E40').length).toBeGreaterThan(5);
    expect(host.filter((l) => l === 'E11').length).toBeGreaterThan(5);
  });
});

/** A filesystem with one procfs-style magic link, `fd0`, that jumps to `target`. */
class MagicLink extends Inode {
  override mode = 0o120777;
  constructor(
    readonly fs: FilesystemImpl,
    private readonly target: () => Location,
  ) {
    super();
  }
  override readlink(): string {
    return '/s/f';
  }
  override magicLink(_ctx: FsContext): Location {
    return this.target();
  }
}

class MagicRoot extends Inode {
  override mode = 0o40555;
  readonly fd0: MagicLink;
  constructor(
    readonly fs: FilesystemImpl,
    target: () => Location,
  ) {
    super();
    this.fd0 = new MagicLink(fs, target);
  }
  override lookup(name: string): Inode | LinuxError {
    return name === 'fd0' ? this.fd0 : E.ENOENT;
  }
}

class MagicFs implements FilesystemImpl {
  readonly type = 'magic';
  readonly dev = 0x2a;
  readonly root: Inode;
  constructor(target: () => Location) {
    this.root = new MagicRoot(this, target);
  }
  statfs(): Statfs {
    throw new Error('statfs is not used by these tests');
  }
}

describe('openat2 and magic links', () => {
  // The expected values are what Linux 6.18 answers for /proc/self/fd/0 opened from / and from a
  // dirfd on /proc (checked with a C program calling openat2 on the host): a magic link fails
  // lockless walks (EAGAIN under CACHED) before nd_jump_link's NO_MAGICLINKS / NO_XDEV / scoped
  // checks, and crossing into /proc is itself EXDEV under NO_XDEV.
  const vfs = new Vfs(new Tmpfs());
  const p = new Posix(vfs, ROOT_CREDS);
  p.mkdir('/s', 0o755);
  p.close(p.open('/s/f', O_CREAT | O_WRONLY, 0o644) as number);
  p.mkdir('/proc', 0o555);
  vfs.mount(
    p.ctx,
    p.ctx.cwd,
    '/proc',
    new MagicFs(() => vfs.lookupat(p.ctx, p.ctx.cwd, '/s/f', 0) as Location),
  );
  const proc = p.open('/proc', O_DIRECTORY | O_PATH) as number;
  const open = (dirfd: number, path: string, flags: number, resolve: number): string => {
    const fd = p.openat2(dirfd, path, { flags, mode: 0, resolve });
    if (typeof fd !== 'number') return `E${fd.errno}`;
    p.close(fd);
    return 'OK';
  };
  it.each([
    [AT_FDCWD, '/proc/fd0', O_RDONLY, 0, 'OK'],
    [AT_FDCWD, '/proc/fd0', O_RDONLY, RESOLVE_CACHED, 'E11'],
    [AT_FDCWD, '/proc/fd0', O_RDONLY, RESOLVE_NO_MAGICLINKS, 'E40'],
    [AT_FDCWD, '/proc/fd0', O_PATH | O_NOFOLLOW, RESOLVE_NO_MAGICLINKS, 'OK'],
    [AT_FDCWD, '/proc/fd0', O_RDONLY, RESOLVE_NO_XDEV, 'E18'],
    [AT_FDCWD, '/proc/fd0', O_RDONLY, RESOLVE_NO_SYMLINKS, 'E40'],
    [-1, 'fd0', O_RDONLY, RESOLVE_BENEATH, 'E18'],
    [-1, 'fd0', O_RDONLY, RESOLVE_IN_ROOT, 'E18'],
    [-1, 'fd0', O_RDONLY, RESOLVE_NO_XDEV, 'E18'],
    [-1, 'fd0', O_RDONLY, RESOLVE_BENEATH | RESOLVE_CACHED, 'E11'],
    [-1, 'fd0', O_RDONLY, RESOLVE_NO_MAGICLINKS | RESOLVE_CACHED, 'E11'],
  ])('dirfd %i %s flags %o resolve %i: %s', (dirfd, path, flags, resolve, want) => {
    expect(open(dirfd === -1 ? proc : dirfd, path, flags, resolve)).toBe(want);
  });
});

describe('checkOpenHow', () => {
  it('accepts what openat2 accepts and refuses the rest with EINVAL or EAGAIN', () => {
    expect(checkOpenHow({ flags: O_RDONLY, mode: 0, resolve: 0 })).toBeUndefined();
    expect(
      checkOpenHow({
        flags: O_CREAT | O_RDWR,
        mode: 0o7777,
        resolve: 0x3f & ~RESOLVE_IN_ROOT & ~RESOLVE_CACHED,
      }),
    ).toBeUndefined();
    expect(checkOpenHow({ flags: O_RDONLY, mode: 0, resolve: 0x40 })).toBe(E.EINVAL);
    expect(checkOpenHow({ flags: O_RDONLY, mode: 1, resolve: 0 })).toBe(E.EINVAL);
    expect(checkOpenHow({ flags: O_RDONLY | O_TRUNC, mode: 0, resolve: RESOLVE_CACHED })).toBe(E.EAGAIN);
  });
});

describe('README openat2 example', () => {
  it('runs as shown', () => {
    const p = new Posix(new Vfs(new Tmpfs()), ROOT_CREDS);
    p.mkdir('/etc', 0o755);
    p.close(p.open('/etc/hostname', O_CREAT | O_WRONLY, 0o644) as number);
    const dir = p.open('/etc', O_DIRECTORY | O_PATH) as number;
    expect(
      p.openat2(dir, '../etc/hostname', { flags: O_RDONLY, mode: 0, resolve: Resolve.RESOLVE_BENEATH }),
    ).toBe(E.EXDEV);
    const fd = p.openat2(dir, '/hostname', { flags: O_RDONLY, mode: 0, resolve: Resolve.RESOLVE_IN_ROOT });
    expect(typeof fd).toBe('number');
    expect(p.fstat(fd as number)).toEqual(p.stat('/etc/hostname'));
  });
});
