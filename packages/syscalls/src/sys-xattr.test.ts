// The xattr syscalls over the harness's tmpfs root: argument copying (names, sizes, flags,
// struct xattr_args), targets (paths, fds, O_PATH, AT_EMPTY_PATH) and the packing of answers.
// runtime/src/xattr.test.ts compares the same calls with the host kernel.
import { E, MountFlag } from '@tsvisor/abi';
import { describe, expect, it } from 'vitest';
import { BAD, BUF, harness, type Harness } from './harness.test-util.js';

const enc = new TextEncoder();
const dec = new TextDecoder();
const O_CREAT = 0o100;
const O_PATH = 0o10000000;
const O_DIRECTORY = 0o200000;
const AT_FDCWD = -100;
const AT_SYMLINK_NOFOLLOW = 0x100;
const AT_EMPTY_PATH = 0x1000;

/** Writes a NUL-terminated string into scratch slot `slot` (256 bytes each) and returns its address. */
function str(h: Harness, slot: number, s: string): number {
  const addr = BUF + slot * 256;
  h.mem.write(addr, enc.encode(`${s}\0`));
  return addr;
}

/** The scratch area answers are read into. */
const OUT = BUF + 0x4000;
const ARGS = BUF + 0x3000;

function xattrArgs(h: Harness, value: number, size: number, flags: number, extra: number[] = []): void {
  const b = new Uint8Array(16 + extra.length);
  const v = new DataView(b.buffer);
  v.setBigUint64(0, BigInt(value), true);
  v.setUint32(8, size, true);
  v.setUint32(12, flags, true);
  b.set(extra, 16);
  h.mem.write(ARGS, b);
}

async function withFile(): Promise<{ h: Harness; fd: number }> {
  const h = harness();
  const fd = (await h.call('openat', AT_FDCWD, str(h, 0, '/f'), O_CREAT | 2, 0o644)) as number;
  expect(fd).toBeGreaterThanOrEqual(0);
  return { h, fd };
}

describe('setxattr / getxattr / listxattr / removexattr', () => {
  it('stores a value, answers size 0 queries with the size and short buffers with ERANGE', async () => {
    const { h } = await withFile();
    const path = str(h, 0, '/f');
    expect(await h.call('setxattr', path, str(h, 1, 'user.a'), str(h, 2, 'hello'), 5, 0)).toBe(0);
    expect(await h.call('getxattr', path, str(h, 1, 'user.a'), 0, 0)).toBe(5);
    expect(await h.call('getxattr', path, str(h, 1, 'user.a'), OUT, 4)).toBe(E.ERANGE);
    expect(await h.call('getxattr', path, str(h, 1, 'user.a'), OUT, 100)).toBe(5);
    expect(dec.decode(h.mem.read(OUT, 5) as Uint8Array)).toBe('hello');
    expect(await h.call('getxattr', path, str(h, 1, 'user.a'), BAD, 100)).toBe(E.EFAULT);
    expect(await h.call('getxattr', path, str(h, 1, 'user.none'), OUT, 100)).toBe(E.ENODATA);
    expect(await h.call('setxattr', path, str(h, 1, 'user.b'), 0, 0, 0)).toBe(0);
    // An empty value copies nothing out, so even a bad buffer is fine.
    expect(await h.call('getxattr', path, str(h, 1, 'user.b'), BAD, 10)).toBe(0);
    expect(await h.call('listxattr', path, 0, 0)).toBe(14);
    expect(await h.call('listxattr', path, OUT, 13)).toBe(E.ERANGE);
    expect(await h.call('listxattr', path, OUT, 14)).toBe(14);
    const names = dec.decode(h.mem.read(OUT, 14) as Uint8Array).split('\0');
    expect(names.slice(0, 2).sort()).toEqual(['user.a', 'user.b']);
    expect(await h.call('removexattr', path, str(h, 1, 'user.a'))).toBe(0);
    expect(await h.call('removexattr', path, str(h, 1, 'user.a'))).toBe(E.ENODATA);
    expect(await h.call('listxattr', path, 0, 0)).toBe(7);
  });

  it('copies flags, name and value before resolving the path, as Linux does', async () => {
    const { h } = await withFile();
    const path = str(h, 0, '/f');
    const missing = str(h, 3, '/nonexistent');
    expect(await h.call('setxattr', missing, str(h, 1, ''), 0, 0, 4)).toBe(E.EINVAL);
    expect(await h.call('setxattr', missing, str(h, 1, ''), 0, 0, 0)).toBe(E.ERANGE);
    expect(await h.call('setxattr', missing, BAD, 0, 0, 0)).toBe(E.EFAULT);
    expect(await h.call('setxattr', missing, str(h, 1, 'user.x'), 0, 65537, 0)).toBe(E.E2BIG);
    expect(await h.call('setxattr', missing, str(h, 1, 'user.x'), BAD, 4, 0)).toBe(E.EFAULT);
    expect(await h.call('setxattr', missing, str(h, 1, 'user.x'), 0, 0, 0)).toBe(E.ENOENT);
    expect(await h.call('getxattr', missing, str(h, 1, 'u'.repeat(256)), 0, 0)).toBe(E.ERANGE);
    expect(await h.call('setxattr', path, str(h, 1, `user.${'n'.repeat(250)}`), 0, 0, 0)).toBe(0);
    expect(await h.call('setxattr', path, str(h, 1, 'user.x'), 0, 0, 1)).toBe(0);
    expect(await h.call('setxattr', path, str(h, 1, 'user.x'), 0, 0, 1)).toBe(E.EEXIST); // CREATE
    expect(await h.call('setxattr', path, str(h, 1, 'user.y'), 0, 0, 2)).toBe(E.ENODATA); // REPLACE
    expect(await h.call('setxattr', path, str(h, 1, 'nons.x'), 0, 0, 0)).toBe(E.EOPNOTSUPP);
  });

  it('l* variants act on a symlink itself, where user.* is not allowed', async () => {
    const { h } = await withFile();
    expect(await h.call('symlinkat', str(h, 0, 'f'), AT_FDCWD, str(h, 1, '/l'))).toBe(0);
    const link = str(h, 1, '/l');
    expect(await h.call('setxattr', link, str(h, 2, 'user.a'), str(h, 3, 'v'), 1, 0)).toBe(0);
    expect(await h.call('getxattr', link, str(h, 2, 'user.a'), 0, 0)).toBe(1);
    expect(await h.call('lgetxattr', link, str(h, 2, 'user.a'), 0, 0)).toBe(E.ENODATA);
    expect(await h.call('lsetxattr', link, str(h, 2, 'user.a'), str(h, 3, 'v'), 1, 0)).toBe(E.EPERM);
    expect(await h.call('lsetxattr', link, str(h, 2, 'trusted.a'), str(h, 3, 'v'), 1, 0)).toBe(0);
    expect(await h.call('llistxattr', link, 0, 0)).toBe(10);
    expect(await h.call('listxattr', link, 0, 0)).toBe(7);
  });

  it('refuses changes on a read-only mount with EROFS but still reads', async () => {
    const h = harness();
    expect(await h.call('mkdirat', AT_FDCWD, str(h, 0, '/ro'), 0o755)).toBe(0);
    const flags = MountFlag.MS_RDONLY;
    expect(await h.call('mount', str(h, 1, 'none'), str(h, 0, '/ro'), str(h, 2, 'tmpfs'), flags, 0)).toBe(0);
    const ro = str(h, 0, '/ro');
    expect(await h.call('setxattr', ro, str(h, 1, 'user.a'), 0, 0, 0)).toBe(E.EROFS);
    expect(await h.call('removexattr', ro, str(h, 1, 'user.a'))).toBe(E.EROFS);
    expect(await h.call('getxattr', ro, str(h, 1, 'user.a'), 0, 0)).toBe(E.ENODATA);
    expect(await h.call('listxattr', ro, 0, 0)).toBe(0);
  });
});

describe('the f* variants', () => {
  it('act on the open file; bad and O_PATH descriptors are EBADF, after the name checks', async () => {
    const { h, fd } = await withFile();
    expect(await h.call('fsetxattr', fd, str(h, 1, 'user.f'), str(h, 2, 'F'), 1, 0)).toBe(0);
    expect(await h.call('fgetxattr', fd, str(h, 1, 'user.f'), OUT, 10)).toBe(1);
    expect(await h.call('flistxattr', fd, 0, 0)).toBe(7);
    expect(await h.call('fgetxattr', 99, str(h, 1, ''), OUT, 10)).toBe(E.ERANGE);
    expect(await h.call('fsetxattr', 99, str(h, 1, 'user.f'), 0, 0, 8)).toBe(E.EINVAL);
    expect(await h.call('fgetxattr', 99, str(h, 1, 'user.f'), OUT, 10)).toBe(E.EBADF);
    const pfd = (await h.call('openat', AT_FDCWD, str(h, 0, '/f'), O_PATH, 0)) as number;
    expect(pfd).toBeGreaterThanOrEqual(0);
    expect(await h.call('fgetxattr', pfd, str(h, 1, 'user.f'), OUT, 10)).toBe(E.EBADF);
    expect(await h.call('fsetxattr', pfd, str(h, 1, 'user.f'), 0, 0, 0)).toBe(E.EBADF);
    expect(await h.call('flistxattr', pfd, 0, 0)).toBe(E.EBADF);
    expect(await h.call('fremovexattr', pfd, str(h, 1, 'user.f'))).toBe(E.EBADF);
    expect(await h.call('fremovexattr', fd, str(h, 1, 'user.f'))).toBe(0);
    expect(await h.call('flistxattr', fd, 0, 0)).toBe(0);
  });
});

describe('the *xattrat calls', () => {
  it('read struct xattr_args like copy_struct_from_user and check the AT_* flags', async () => {
    const { h, fd } = await withFile();
    const path = str(h, 0, '/f');
    const name = str(h, 1, 'user.at');
    xattrArgs(h, str(h, 2, 'at!'), 3, 0);
    expect(await h.call('setxattrat', AT_FDCWD, path, 0, name, ARGS, 16)).toBe(0);
    expect(await h.call('setxattrat', AT_FDCWD, path, 0, name, ARGS, 8)).toBe(E.EINVAL);
    expect(await h.call('setxattrat', AT_FDCWD, path, 0, name, ARGS, 8192)).toBe(E.E2BIG);
    expect(await h.call('setxattrat', AT_FDCWD, path, 0, name, BAD, 16)).toBe(E.EFAULT);
    expect(await h.call('setxattrat', AT_FDCWD, path, 1, name, ARGS, 16)).toBe(E.EINVAL);
    xattrArgs(h, str(h, 2, 'at!'), 3, 0, [0, 0, 0, 0]);
    expect(await h.call('setxattrat', AT_FDCWD, path, 0, name, ARGS, 20)).toBe(0);
    xattrArgs(h, str(h, 2, 'at!'), 3, 0, [0, 1, 0, 0]);
    expect(await h.call('setxattrat', AT_FDCWD, path, 0, name, ARGS, 20)).toBe(E.E2BIG);
    xattrArgs(h, str(h, 2, 'at!'), 3, 1); // XATTR_CREATE
    expect(await h.call('setxattrat', AT_FDCWD, path, 0, name, ARGS, 16)).toBe(E.EEXIST);

    xattrArgs(h, OUT, 64, 0);
    expect(await h.call('getxattrat', AT_FDCWD, path, 0, name, ARGS, 16)).toBe(3);
    expect(dec.decode(h.mem.read(OUT, 3) as Uint8Array)).toBe('at!');
    xattrArgs(h, OUT, 2, 0);
    expect(await h.call('getxattrat', AT_FDCWD, path, 0, name, ARGS, 16)).toBe(E.ERANGE);
    xattrArgs(h, OUT, 64, 1);
    expect(await h.call('getxattrat', AT_FDCWD, path, 0, name, ARGS, 16)).toBe(E.EINVAL);
    xattrArgs(h, OUT, 64, 0);
    expect(await h.call('getxattrat', fd, 0, AT_EMPTY_PATH, name, ARGS, 16)).toBe(3);
    expect(await h.call('getxattrat', fd, str(h, 3, ''), AT_EMPTY_PATH, name, ARGS, 16)).toBe(3);
    expect(await h.call('getxattrat', fd, str(h, 3, ''), 0, name, ARGS, 16)).toBe(E.ENOENT);

    expect(await h.call('listxattrat', AT_FDCWD, path, 0, 0, 0)).toBe(8);
    expect(await h.call('listxattrat', AT_FDCWD, path, 2, 0, 0)).toBe(E.EINVAL);
    expect(await h.call('removexattrat', AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, name)).toBe(0);
    expect(await h.call('removexattrat', AT_FDCWD, path, 0, name)).toBe(E.ENODATA);
  });

  it('resolve relative paths from a directory fd and refuse O_PATH with AT_EMPTY_PATH', async () => {
    const { h } = await withFile();
    const dfd = (await h.call('openat', AT_FDCWD, str(h, 0, '/'), O_DIRECTORY, 0)) as number;
    xattrArgs(h, str(h, 2, 'rel'), 3, 0);
    expect(await h.call('setxattrat', dfd, str(h, 0, 'f'), 0, str(h, 1, 'user.rel'), ARGS, 16)).toBe(0);
    expect(await h.call('getxattr', str(h, 0, '/f'), str(h, 1, 'user.rel'), 0, 0)).toBe(3);
    const pfd = (await h.call('openat', AT_FDCWD, str(h, 0, '/f'), O_PATH, 0)) as number;
    expect(await h.call('listxattrat', pfd, 0, AT_EMPTY_PATH, 0, 0)).toBe(E.EBADF);
    expect(await h.call('removexattrat', pfd, str(h, 0, ''), AT_EMPTY_PATH, str(h, 1, 'user.rel'))).toBe(
      E.EBADF,
    );
  });
});
