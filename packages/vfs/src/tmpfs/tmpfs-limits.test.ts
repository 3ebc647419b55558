// tmpfs size= / nr_inodes= / mode= / uid= / gid= against a Linux tmpfs mounted with the same
// options (host-ops -T, in a private mount namespace).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { E, isError } from '@tsvisor/abi';
import {
  AT_REMOVEDIR,
  O_APPEND,
  O_CREAT,
  O_DIRECTORY,
  O_NOFOLLOW,
  O_NONBLOCK,
  O_PATH,
  O_RDONLY,
  O_RDWR,
  O_TMPFILE,
  O_TRUNC,
  O_WRONLY,
  Posix,
  ROOT_CREDS,
  Tmpfs,
  Vfs,
  parseTmpfsMountData,
  registerMemDevices,
} from '../index.js';
import { normalize, runHost, runVfs } from '../testing/differential.test-util.js';
import type { Op } from '../testing/differential.test-util.js';

function compare(data: string, ops: Op[]): void {
  const host = normalize(runHost(ops, { tmpfsData: data }), ops, false);
  const options = parseTmpfsMountData(data);
  if (isError(options)) throw new Error(`bad options ${data}`);
  const vfs = new Vfs(new Tmpfs(options));
  registerMemDevices(vfs.devices);
  const p = new Posix(vfs, ROOT_CREDS);
  const mine = normalize(runVfs(p, ops), ops, false);
  const diffs = ops
    .map((op, i) => ({ i, op: JSON.stringify(op).slice(0, 100), host: host[i], mine: mine[i] }))
    .filter((d) => d.host !== d.mine);
  expect(diffs).toEqual([]);
}

const page = (c: string, n = 4096): string => c.repeat(n);

describe('tmpfs mount options against Linux tmpfs', () => {
  it('mode=, uid=, gid= set the root; statfs shows the limits', () => {
    compare('size=64k,nr_inodes=5,mode=0750,uid=12,gid=34', [
      ['stat', '/', 0],
      ['statfs', '/'],
    ]);
  });

  it('size=: writes stop at the first page that does not fit (short write, then ENOSPC)', () => {
    compare('size=16k,nr_inodes=50', [
      ['open', '/a', O_CREAT | O_RDWR, 0o644],
      ['write', 0, page('a', 5000)],
      ['statfs', '/'],
      ['write', 0, page('b', 10000)],
      ['write', 0, 'c'],
      ['fstat', 0],
      ['statfs', '/'],
      // Rewriting allocated pages needs no space.
      ['pwrite', 0, page('d', 8192), 0],
      ['pwrite', 0, 'e', 20000],
      ['open', '/b', O_CREAT | O_WRONLY | O_APPEND, 0o644],
      ['write', 1, 'x'],
      // Truncating down frees pages; the other file can then grow.
      ['ftruncate', 0, 4096],
      ['statfs', '/'],
      ['write', 1, page('y', 9000)],
      ['statfs', '/'],
      ['unlinkat', '/a', 0],
      ['statfs', '/'],
    ]);
  });

  it('size=: truncate up allocates nothing; sparse writes charge only their pages', () => {
    compare('size=12k,nr_inodes=50', [
      ['open', '/a', O_CREAT | O_RDWR, 0o644],
      ['ftruncate', 0, 1 << 30],
      ['statfs', '/'],
      ['pwrite', 0, 'x', 100_000_000],
      ['pwrite', 0, 'x', 200_000_000],
      ['pwrite', 0, 'x', 300_000_000],
      ['pwrite', 0, 'x', 400_000_000],
      ['pwrite', 0, 'x', 100_000_001],
      ['statfs', '/'],
      ['truncate', '/a', 4],
      ['statfs', '/'],
      ['truncate', '/a', 0],
    ]);
  });

  it('size=: fallocate reserves or fails whole; punching and unlinking give pages back', () => {
    compare('size=32k,nr_inodes=50', [
      ['open', '/a', O_CREAT | O_RDWR, 0o644],
      ['falloc', 0, 0, 0, 40960],
      ['falloc', 0, 0, 0, 16384],
      ['statfs', '/'],
      ['fstat', 0],
      ['falloc', 0, 1, 16384, 8192],
      ['statfs', '/'],
      ['falloc', 0, 0, 0, 20480],
      ['statfs', '/'],
      ['write', 0, page('a', 6000)],
      ['statfs', '/'],
      ['falloc', 0, 3, 4096, 8192],
      ['statfs', '/'],
      ['open', '/b', O_CREAT | O_RDWR, 0o644],
      ['write', 1, page('b', 40000)],
      ['statfs', '/'],
      ['ftruncate', 0, 0],
      ['statfs', '/'],
      ['falloc', 1, 1, 0, 4096 * 7],
      ['statfs', '/'],
    ]);
  });

  it('an unlinked file keeps its space until closed', () => {
    compare('size=16k,nr_inodes=4', [
      ['open', '/a', O_CREAT | O_RDWR, 0o644],
      ['write', 0, page('a', 12000)],
      ['unlinkat', '/a', 0],
      ['statfs', '/'],
      ['open', '/b', O_CREAT | O_RDWR, 0o644],
      ['write', 1, page('b', 8192)],
      ['close', 0],
      ['statfs', '/'],
      ['write', 1, page('b', 8192)],
      ['statfs', '/'],
    ]);
  });

  it('an O_PATH fd keeps an unlinked file: its blocks and its inode stay used until closed', () => {
    compare('size=16k,nr_inodes=4', [
      ['open', '/a', O_CREAT | O_RDWR, 0o644],
      ['write', 0, page('a', 12000)],
      ['open', '/a', O_PATH, 0],
      ['close', 0],
      ['unlinkat', '/a', 0],
      ['statfs', '/'],
      ['fstat', 1],
      ['open', '/b', O_CREAT | O_RDWR, 0o644],
      ['write', 2, page('b', 8192)],
      ['close', 1],
      ['statfs', '/'],
      ['write', 2, page('b', 8192)],
      ['statfs', '/'],
    ]);
  });

  it('every kind of fd and every hard link keeps the inode and its space until the last goes', () => {
    compare('size=16k,nr_inodes=8', [
      // A regular file with two names, open read-only, then O_PATH; names go first.
      ['open', '/f', O_CREAT | O_RDWR, 0o644],
      ['write', 0, page('f', 8192)],
      ['link', '/f', '/g', 0],
      ['close', 0],
      ['open', '/g', O_RDONLY, 0],
      ['open', '/f', O_PATH, 0],
      ['unlinkat', '/f', 0],
      ['statfs', '/'],
      ['unlinkat', '/g', 0],
      ['statfs', '/'],
      ['close', 1],
      ['statfs', '/'],
      ['close', 2],
      ['statfs', '/'],
      // A directory held open (and one held by O_PATH) after rmdir.
      ['mkdir', '/d', 0o755],
      ['mkdir', '/e', 0o755],
      ['open', '/d', O_RDONLY | O_DIRECTORY, 0],
      ['open', '/e', O_PATH | O_DIRECTORY, 0],
      ['unlinkat', '/d', AT_REMOVEDIR],
      ['unlinkat', '/e', AT_REMOVEDIR],
      ['statfs', '/'],
      ['close', 3],
      ['statfs', '/'],
      ['close', 4],
      ['statfs', '/'],
      // A FIFO open for reading and writing, and a long symlink held by O_PATH | O_NOFOLLOW.
      ['mknod', '/p', 0o10644, 0],
      ['open', '/p', O_RDWR | O_NONBLOCK, 0],
      ['symlink', 'l'.repeat(200), '/s'],
      ['open', '/s', O_PATH | O_NOFOLLOW, 0],
      ['unlinkat', '/p', 0],
      ['unlinkat', '/s', 0],
      ['statfs', '/'],
      ['close', 5],
      ['statfs', '/'],
      ['close', 6],
      ['statfs', '/'],
      // O_TMPFILE: no name at all, the fd alone holds it.
      ['open', '/', O_TMPFILE | O_RDWR, 0o600],
      ['write', 7, page('t', 4096)],
      ['statfs', '/'],
      ['close', 7],
      ['statfs', '/'],
      // A character device node (/dev/null's number) open for writing.
      ['mknod', '/n', 0o20666, (1 << 8) | 3],
      ['open', '/n', O_WRONLY, 0],
      ['unlinkat', '/n', 0],
      ['statfs', '/'],
      ['close', 8],
      ['statfs', '/'],
    ]);
  });

  it('nr_inodes=: create, mkdir, symlink, mknod, link and O_TMPFILE give ENOSPC past it', () => {
    compare('nr_inodes=6,size=1m', [
      ['statfs', '/'],
      ['open', '/f', O_CREAT | O_WRONLY, 0o644],
      ['mkdir', '/d', 0o755],
      ['link', '/f', '/g', 0],
      ['statfs', '/'],
      ['symlink', 'f', '/s'],
      ['mknod', '/p', 0o10644, 0],
      ['open', '/h', O_CREAT | O_WRONLY, 0o644],
      ['mkdir', '/e', 0o755],
      ['symlink', 'f', '/t'],
      ['link', '/f', '/k', 0],
      ['open', '/', O_TMPFILE | O_RDWR, 0o600],
      // Creating an existing name still says EEXIST; the existence rules come first.
      ['mkdir', '/d', 0o755],
      ['unlinkat', '/g', 0],
      ['statfs', '/'],
      ['symlink', 'f', '/t'],
      ['unlinkat', '/d', AT_REMOVEDIR],
      ['unlinkat', '/s', 0],
      ['open', '/', O_TMPFILE | O_RDWR, 0o600],
      ['statfs', '/'],
    ]);
  });

  it('nr_inodes=: extended attributes are charged to the inode space', () => {
    compare('nr_inodes=3,size=1m', [
      ['open', '/a', O_CREAT | O_RDWR, 0o644],
      ['statfs', '/'],
      // 1024 bytes are left: 40 + name + value must fit.
      ['xset', '/a', 'user.x', 'v'.repeat(979), 0, true],
      ['xset', '/a', 'user.x', 'v'.repeat(978), 0, true],
      ['statfs', '/'],
      ['xset', '/a', 'user.y', '', 0, true],
      ['xset', '/a', 'user.x', 'w'.repeat(978), 1, true],
      ['xset', '/a', 'user.x', 'w'.repeat(100), 2, true],
      ['statfs', '/'],
      ['xset', '/a', 'user.y', 'y'.repeat(800), 1, true],
      ['xset', '/a', 'user.z', 'z', 2, true],
      ['open', '/b', O_CREAT | O_RDWR, 0o644],
      ['xrm', '/a', 'user.x', true],
      ['statfs', '/'],
      ['open', '/b', O_CREAT | O_RDWR, 0o644],
      ['unlinkat', '/b', 0],
      ['close', 0],
      ['unlinkat', '/a', 0],
      ['statfs', '/'],
    ]);
  });

  it('a long symlink needs a block; a short one does not', () => {
    compare('size=4k,nr_inodes=50', [
      ['open', '/a', O_CREAT | O_RDWR, 0o644],
      ['write', 0, page('a')],
      ['symlink', 's'.repeat(127), '/short'],
      ['symlink', 'm'.repeat(128), '/mid'],
      ['symlink', 'l'.repeat(129), '/long'],
      ['ftruncate', 0, 0],
      ['symlink', 'l'.repeat(129), '/long'],
      ['statfs', '/'],
      ['readlink', '/long'],
      ['unlinkat', '/long', 0],
      ['statfs', '/'],
    ]);
  });

  it('rename over a file frees the replaced one; over a hard link frees the link', () => {
    compare('size=8k,nr_inodes=8', [
      ['open', '/a', O_CREAT | O_RDWR, 0o644],
      ['write', 0, page('a', 4096)],
      ['open', '/b', O_CREAT | O_RDWR, 0o644],
      ['write', 1, page('b', 4096)],
      ['close', 1],
      ['link', '/a', '/c', 0],
      ['statfs', '/'],
      ['rename', '/b', '/c', 0],
      ['statfs', '/'],
      ['rename', '/a', '/c', 0],
      ['statfs', '/'],
      ['mkdir', '/d', 0o755],
      ['mkdir', '/e', 0o755],
      ['rename', '/d', '/e', 0],
      ['statfs', '/'],
    ]);
  });

  it('random sequences under tight limits agree with Linux', () => {
    const name = fc.constantFrom('/a', '/b', '/c', '/d/x');
    const op: fc.Arbitrary<Op> = fc.oneof(
      name.map((p): Op => ['open', p, O_CREAT | O_RDWR, 0o644]),
      name.map((p): Op => ['open', p, O_CREAT | O_RDWR | O_TRUNC, 0o644]),
      name.map((p): Op => ['open', p, O_PATH, 0]),
      fc.constant<Op>(['open', '/d', O_RDONLY | O_DIRECTORY, 0]),
      fc.tuple(fc.nat(5), fc.nat(9000)).map(([h, n]): Op => ['write', h, 'w'.repeat(n)]),
      fc
        .tuple(fc.nat(5), fc.nat(6000), fc.nat(40000))
        .map(([h, n, o]): Op => ['pwrite', h, 'p'.repeat(n), o]),
      fc.tuple(fc.nat(5), fc.nat(50000)).map(([h, n]): Op => ['ftruncate', h, n]),
      fc
        .tuple(fc.nat(5), fc.constantFrom(0, 1, 3), fc.nat(30000), fc.integer({ min: 1, max: 30000 }))
        .map(([h, m, o, l]): Op => ['falloc', h, m, o, l]),
      fc.nat(5).map((h): Op => ['close', h]),
      name.map((p): Op => ['unlinkat', p, 0]),
      fc.tuple(name, name).map(([a, b]): Op => ['link', a, b, 0]),
      fc.tuple(name, name).map(([a, b]): Op => ['rename', a, b, 0]),
      fc.constant<Op>(['mkdir', '/d', 0o755]),
      fc.constant<Op>(['unlinkat', '/d', AT_REMOVEDIR]),
      fc.tuple(fc.integer({ min: 1, max: 200 }), name).map(([n, p]): Op => ['symlink', 't'.repeat(n), p]),
      fc.constant<Op>(['open', '/', O_TMPFILE | O_RDWR, 0o600]),
      fc
        .tuple(name, fc.constantFrom('user.a', 'user.b'), fc.nat(1500), fc.constantFrom(0, 1, 2))
        .map(([p, n, len, fl]): Op => ['xset', p, n, 'v'.repeat(len), fl, true]),
      fc.tuple(name, fc.constantFrom('user.a', 'user.b')).map(([p, n]): Op => ['xrm', p, n, true]),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 25 }), (ops) => {
        compare('size=24k,nr_inodes=6', [...ops, ['statfs', '/'], ['open', '/d', O_DIRECTORY, 0]]);
      }),
      { numRuns: 40 },
    );
  });
});

describe('parseTmpfsMountData', () => {
  it('reads sizes with suffixes, octal modes and ids; EINVAL otherwise', () => {
    expect(parseTmpfsMountData('size=64k,nr_inodes=1m,mode=1777,uid=5,gid=6')).toEqual({
      size: 65536,
      nrInodes: 1 << 20,
      mode: 0o1777,
      uid: 5,
      gid: 6,
    });
    expect(parseTmpfsMountData('nr_blocks=3')).toEqual({ size: 3 * 4096 });
    expect(parseTmpfsMountData('size=10%')).toBe(E.EINVAL);
    expect(parseTmpfsMountData('mode=9')).toBe(E.EINVAL);
    expect(parseTmpfsMountData('bogus=1')).toBe(E.EINVAL);
    expect(parseTmpfsMountData('uid=-1')).toBe(E.EINVAL);
  });
});
