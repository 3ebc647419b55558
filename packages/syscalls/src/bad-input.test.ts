/**
 * The cases of the conformance program `packages/runtime/conformance/bad-input.c` that tsvisor
 * once answered differently from Linux, each with the errno Linux gives (see
 * `bad-input.expected` there, produced on Linux 6.18), over fake memory and a tmpfs.
 */
import { E } from '@tsvisor/abi';
import { describe, expect, it } from 'vitest';
import { BAD, BUF, BUF_SIZE, harness, type Harness } from './harness.test-util.js';

const enc = new TextEncoder();
const dec = new TextDecoder();
const CWD = -100;
const O_WRONLY = 1;
const O_RDWR = 2;
const O_CREAT = 0o100;
const O_DIRECTORY = 0o200000;
const O_PATH = 0o10000000;
const KADDR = 0xffff800000000000n;
const LLONG_MAX = (1n << 63n) - 1n;
/** The first byte past the harness's scratch mapping. */
const END = BUF + BUF_SIZE;

function str(h: Harness, at: number, s: string): number {
  h.mem.write(at, enc.encode(`${s}\0`));
  return at;
}

/** A file holding `data`, opened with `flags`, position 0. */
async function fileWith(h: Harness, path: string, data: string, flags = O_RDWR): Promise<number> {
  const w = (await h.call('openat', CWD, str(h, BUF, path), O_RDWR | O_CREAT, 0o644)) as number;
  h.mem.write(BUF + 0x100, enc.encode(data));
  expect(await h.call('write', w, BUF + 0x100, data.length)).toBe(data.length);
  expect(await h.call('close', w)).toBe(0);
  return (await h.call('openat', CWD, str(h, BUF, path), flags, 0)) as number;
}

/** Names in a getdents64 result. */
function names(h: Harness, at: number, n: number): string[] {
  const out: string[] = [];
  for (let off = 0; off < n;) {
    const rec = h.mem.peek(at + off + 16, 2);
    out.push(h.mem.readCString(at + off + 19, 256) as string);
    off += rec[0]! | (rec[1]! << 8);
  }
  return out;
}

describe('read(2) and readv(2) with a buffer that faults', () => {
  it('leave the bytes unread (the position does not move over them)', async () => {
    const h = harness();
    const fd = await fileWith(h, '/f', 'hello world!');
    expect(await h.call('read', fd, 0, 1)).toBe(E.EFAULT);
    expect(await h.call('read', fd, BAD, 1)).toBe(E.EFAULT);
    expect(await h.call('lseek', fd, 0, 1)).toBe(0);
    // "read(file, buf, 1 GiB) [file holds 12 bytes] = 12" after the faulting reads.
    expect(await h.call('read', fd, BUF + 0x1000, 1n << 30n)).toBe(12);
    expect(dec.decode(h.mem.peek(BUF + 0x1000, 12))).toBe('hello world!');
  });

  it('a copy cut short by the end of the mapping returns the bytes copied; the rest stays unread', async () => {
    const h = harness();
    const fd = await fileWith(h, '/f', 'hello world!');
    expect(await h.call('read', fd, END - 5, 12)).toBe(5);
    expect(await h.call('read', fd, BUF + 0x1000, 100)).toBe(7);
    expect(dec.decode(h.mem.peek(BUF + 0x1000, 7))).toBe(' world!');
  });

  it('readv rewinds the same way', async () => {
    const h = harness();
    const fd = await fileWith(h, '/f', 'abcdef');
    const iov = BUF + 0x2000;
    h.mem.writeU64(iov, 0n);
    h.mem.writeU64(iov + 8, 4n);
    expect(await h.call('readv', fd, iov, 1)).toBe(E.EFAULT);
    h.mem.writeU64(iov, BigInt(BUF + 0x3000));
    expect(await h.call('readv', fd, iov, 1)).toBe(4);
    expect(dec.decode(h.mem.peek(BUF + 0x3000, 4))).toBe('abcd');
  });

  it('a read without read access is EBADF before the buffer is looked at', async () => {
    const h = harness();
    const fd = await fileWith(h, '/f', 'x', O_WRONLY);
    expect(await h.call('read', fd, 0, 1)).toBe(E.EBADF);
    expect(await h.call('readv', fd, 0, 1)).toBe(E.EBADF);
  });
});

describe('pread64(2)/pwrite64(2) offsets (ksys_pread64, rw_verify_area)', () => {
  it('EINVAL when offset + count passes LLONG_MAX, 0 when it just fits', async () => {
    const h = harness();
    const fd = await fileWith(h, '/f', 'hello world!');
    expect(await h.call('pread64', fd, BUF, 4, LLONG_MAX)).toBe(E.EINVAL);
    expect(await h.call('pread64', fd, BUF, 4, LLONG_MAX - 4n)).toBe(0);
    expect(await h.call('pread64', fd, BUF, 4, 1n << 62n)).toBe(0);
    h.mem.write(BUF + 0x100, enc.encode('x'));
    expect(await h.call('pwrite64', fd, BUF + 0x100, 1, LLONG_MAX)).toBe(E.EINVAL);
  });

  it('checks a negative offset before the fd, then ESPIPE, then EBADF, then EFAULT', async () => {
    const h = harness();
    expect(await h.call('pread64', -1, BUF, 1, -1)).toBe(E.EINVAL);
    expect(await h.call('pread64', -1, BUF, 1, 0)).toBe(E.EBADF);
    expect(await h.call('pipe2', BUF, 0)).toBe(0);
    const w = h.mem.readI32(BUF + 4) as number;
    expect(await h.call('pread64', w, 0, 1, 0)).toBe(E.ESPIPE);
    const wo = await fileWith(h, '/wo', 'abc', O_WRONLY);
    expect(await h.call('pread64', wo, 0, 1, 0)).toBe(E.EBADF);
    const rw = await fileWith(h, '/rw', 'abc');
    expect(await h.call('pread64', rw, KADDR, 1, 0)).toBe(E.EFAULT);
    expect(await h.call('pwrite64', rw, KADDR, 1, 0)).toBe(E.EFAULT);
  });
});

describe('getdents64(2) with a bad buffer or count', () => {
  it('EFAULT / EINVAL and the entries are still listed afterwards', async () => {
    const h = harness();
    expect(await h.call('mkdir', str(h, BUF, '/d'), 0o755)).toBe(0);
    for (const n of ['a', 'b', 'c']) {
      const fd = (await h.call('openat', CWD, str(h, BUF, `/d/${n}`), O_CREAT | O_RDWR, 0o644)) as number;
      await h.call('close', fd);
    }
    const dfd = (await h.call('openat', CWD, str(h, BUF, '/d'), O_DIRECTORY, 0)) as number;
    expect(await h.call('getdents64', dfd, KADDR, 4096)).toBe(E.EFAULT);
    expect(await h.call('getdents64', dfd, 0, 4096)).toBe(E.EFAULT);
    expect(await h.call('getdents64', dfd, BUF + 0x1000, 1)).toBe(E.EINVAL);
    expect(await h.call('getdents64', dfd, BUF + 0x1000, 0)).toBe(E.EINVAL);
    const n = (await h.call('getdents64', dfd, BUF + 0x1000, 4096)) as number;
    expect(names(h, BUF + 0x1000, n).sort()).toEqual(['.', '..', 'a', 'b', 'c']);
    expect(await h.call('getdents64', dfd, BUF + 0x1000, 4096)).toBe(0);
  });

  it('a buffer cut short by the end of the mapping keeps the whole entries; the rest come next', async () => {
    const h = harness();
    expect(await h.call('mkdir', str(h, BUF, '/d'), 0o755)).toBe(0);
    const dfd = (await h.call('openat', CWD, str(h, BUF, '/d'), O_DIRECTORY, 0)) as number;
    // "." and ".." take 24 bytes each: 30 mapped bytes hold one entry and part of the next.
    expect(await h.call('getdents64', dfd, END - 30, 4096)).toBe(24);
    expect(names(h, END - 30, 24)).toEqual(['.']);
    const n = (await h.call('getdents64', dfd, BUF + 0x1000, 4096)) as number;
    expect(names(h, BUF + 0x1000, n)).toEqual(['..']);
  });
});

describe('flags Linux rejects', () => {
  it('statx with AT_STATX_FORCE_SYNC|AT_STATX_DONT_SYNC: EINVAL', async () => {
    const h = harness();
    expect(await h.call('statx', CWD, str(h, BUF, '/'), 0x2000 | 0x4000, 0x7ff, BUF + 0x100)).toBe(E.EINVAL);
    expect(await h.call('statx', CWD, str(h, BUF, '/'), 0x2000, 0x7ff, BUF + 0x100)).toBe(0);
  });

  it('utimensat(fd, NULL, times, flags) takes no flag: EINVAL', async () => {
    const h = harness();
    const fd = await fileWith(h, '/f', 'x');
    expect(await h.call('utimensat', fd, 0, 0, 0x100)).toBe(E.EINVAL);
    expect(await h.call('utimensat', fd, 0, 0, 0)).toBe(0);
    expect(await h.call('utimensat', CWD, 0, 0, 0x8)).toBe(E.EINVAL);
    expect(await h.call('utimensat', CWD, 0, 0, 0)).toBe(E.EFAULT);
  });

  it('fchmodat ignores its (nonexistent) fourth argument', async () => {
    const h = harness();
    const fd = await fileWith(h, '/f', 'x');
    expect(await h.call('fchmodat', CWD, str(h, BUF, '/f'), 0o600, 0xdead)).toBe(0);
    expect(await h.call('fstat', fd, BUF + 0x100)).toBe(0);
    expect((h.mem.readU32(BUF + 0x100 + 24) as number) & 0o7777).toBe(0o600); // st_mode
  });

  it('tgkill and tkill with an id <= 0: EINVAL', async () => {
    const h = harness();
    const self = h.task.tid;
    expect(await h.call('tgkill', -1, self, 0)).toBe(E.EINVAL);
    expect(await h.call('tgkill', self, 0, 0)).toBe(E.EINVAL);
    expect(await h.call('tgkill', 0, self, 0)).toBe(E.EINVAL);
    expect(await h.call('tgkill', self, self, 0)).toBe(0);
    expect(await h.call('tkill', -1, 0)).toBe(E.EINVAL);
    expect(await h.call('tkill', self, 0)).toBe(0);
  });

  it('clone3 with a flag bit beyond the known ones, or CLONE_DETACHED: EINVAL', async () => {
    const h = harness();
    const args = BUF + 0x100;
    h.mem.write(args, new Uint8Array(88));
    h.mem.writeU64(args, 1n << 40n);
    expect(await h.call('clone3', args, 88)).toBe(E.EINVAL);
    h.mem.writeU64(args, 0x400000n);
    expect(await h.call('clone3', args, 88)).toBe(E.EINVAL);
  });
});

describe('fd kinds', () => {
  it('F_GETPIPE_SZ/F_SETPIPE_SZ on a file: EBADF; on a pipe: the size', async () => {
    const h = harness();
    const fd = await fileWith(h, '/f', 'x');
    expect(await h.call('fcntl', fd, 1032)).toBe(E.EBADF);
    expect(await h.call('fcntl', fd, 1031, 4096)).toBe(E.EBADF);
    expect(await h.call('pipe2', BUF, 0)).toBe(0);
    const r = h.mem.readI32(BUF) as number;
    expect(await h.call('fcntl', r, 1032)).toBe(65536);
  });

  it('FIONREAD on a regular file: the bytes from the position to the end', async () => {
    const h = harness();
    const fd = await fileWith(h, '/f', 'hello world!');
    expect(await h.call('lseek', fd, 4, 0)).toBe(4);
    expect(await h.call('ioctl', fd, 0x541b, BUF + 0x100)).toBe(0);
    expect(h.mem.readI32(BUF + 0x100)).toBe(8);
    expect(await h.call('ioctl', fd, 0x541b, 0)).toBe(E.EFAULT);
  });

  it('ioctl on an O_PATH fd: EBADF for every request, FIOCLEX included', async () => {
    const h = harness();
    await fileWith(h, '/f', 'x');
    const fd = (await h.call('openat', CWD, str(h, BUF, '/f'), O_PATH, 0)) as number;
    expect(await h.call('ioctl', fd, 0x541b, BUF + 0x100)).toBe(E.EBADF); // FIONREAD
    expect(await h.call('ioctl', fd, 0x5451)).toBe(E.EBADF); // FIOCLEX
  });

  it('mmap of an O_PATH fd: EBADF (fget does not see O_PATH)', async () => {
    const h = harness();
    await fileWith(h, '/f', 'x');
    const fd = (await h.call('openat', CWD, str(h, BUF, '/f'), O_PATH, 0)) as number;
    expect(await h.call('mmap', 0, 4096, 1, 2, fd, 0)).toBe(E.EBADF);
  });
});

/** Writes a struct flock at `at`. */
function flock(h: Harness, at: number, type: number, whence = 0, start = 0, len = 0, pid = 0): number {
  const b = new Uint8Array(32);
  const v = new DataView(b.buffer);
  v.setInt16(0, type, true);
  v.setInt16(2, whence, true);
  v.setBigInt64(8, BigInt(start), true);
  v.setBigInt64(16, BigInt(len), true);
  v.setInt32(24, pid, true);
  h.mem.write(at, b);
  return at;
}

const F_GETLK = 5;
const F_SETLK = 6;
const F_OFD_GETLK = 36;
const F_OFD_SETLK = 37;
const F_OFD_SETLKW = 38;
const F_RDLCK = 0;
const F_WRLCK = 1;
const F_UNLCK = 2;

describe('fcntl(2) record locks', () => {
  it('check the struct pointer, the type, whence and the open mode in do_fcntl order', async () => {
    const h = harness();
    const fd = await fileWith(h, '/f', 'hello');
    const wo = (await h.call('openat', CWD, str(h, BUF, '/f'), O_WRONLY, 0)) as number;
    const path = (await h.call('openat', CWD, str(h, BUF, '/f'), O_PATH, 0)) as number;
    const fl = BUF + 0x200;
    expect(await h.call('fcntl', fd, F_GETLK, 0)).toBe(E.EFAULT);
    expect(await h.call('fcntl', fd, F_SETLK, KADDR)).toBe(E.EFAULT);
    expect(await h.call('fcntl', fd, F_SETLK, flock(h, fl, 99))).toBe(E.EINVAL);
    expect(await h.call('fcntl', fd, F_SETLK, flock(h, fl, F_RDLCK, 99))).toBe(E.EINVAL);
    expect(await h.call('fcntl', wo, F_SETLK, flock(h, fl, F_RDLCK))).toBe(E.EBADF);
    expect(await h.call('fcntl', path, F_SETLK, 0)).toBe(E.EBADF);
    expect(await h.call('fcntl', fd, F_OFD_SETLK, flock(h, fl, F_RDLCK, 0, 0, 0, 1))).toBe(E.EINVAL);
    expect(await h.call('fcntl', wo, F_SETLK, flock(h, fl, F_WRLCK))).toBe(0);
  });

  it('a POSIX lock blocks another description’s OFD lock until any fd of the file is closed', async () => {
    const h = harness();
    const a = await fileWith(h, '/f', 'hello');
    const b = (await h.call('openat', CWD, str(h, BUF, '/f'), O_RDWR, 0)) as number;
    const c = (await h.call('dup', a)) as number;
    const fl = BUF + 0x200;
    expect(await h.call('fcntl', a, F_SETLK, flock(h, fl, F_WRLCK, 0, 0, 3))).toBe(0);
    // The owner's own lock never conflicts with itself.
    expect(await h.call('fcntl', a, F_GETLK, flock(h, fl, F_WRLCK))).toBe(0);
    expect(new DataView(h.mem.peek(fl, 2).buffer).getInt16(0, true)).toBe(F_UNLCK);
    // Another owner (the description b, with OFD locks) sees it, with the holder's pid.
    expect(await h.call('fcntl', b, F_OFD_GETLK, flock(h, fl, F_RDLCK))).toBe(0);
    const got = new DataView(h.mem.peek(fl, 32).buffer);
    expect([got.getInt16(0, true), got.getBigInt64(8, true), got.getBigInt64(16, true)]).toEqual([
      F_WRLCK,
      0n,
      3n,
    ]);
    expect(got.getInt32(24, true)).toBe(h.task.tgid);
    expect(await h.call('fcntl', b, F_OFD_SETLK, flock(h, fl, F_RDLCK))).toBe(E.EAGAIN);
    // Closing an O_PATH descriptor of the file does not count.
    const path = (await h.call('openat', CWD, str(h, BUF, '/f'), O_PATH, 0)) as number;
    expect(await h.call('close', path)).toBe(0);
    expect(await h.call('fcntl', b, F_OFD_SETLK, flock(h, fl, F_RDLCK))).toBe(E.EAGAIN);
    const waiting = h.call('fcntl', b, F_OFD_SETLKW, flock(h, fl + 0x40, F_RDLCK));
    // Closing any descriptor of the file drops the table's POSIX locks on it (locks_remove_posix).
    expect(await h.call('close', c)).toBe(0);
    expect(await waiting).toBe(0);
    expect(await h.call('fcntl', a, F_GETLK, flock(h, fl, F_WRLCK))).toBe(0);
    expect(new DataView(h.mem.peek(fl, 32).buffer).getInt32(24, true)).toBe(-1); // an OFD lock's pid
  });
});

describe('flock(2)', () => {
  it('arbitrates between open file descriptions: EWOULDBLOCK with LOCK_NB, otherwise waits', async () => {
    const h = harness();
    const a = await fileWith(h, '/f', 'x');
    const b = (await h.call('openat', CWD, str(h, BUF, '/f'), O_RDWR, 0)) as number;
    const path = (await h.call('openat', CWD, str(h, BUF, '/f'), O_PATH, 0)) as number;
    expect(await h.call('flock', path, 2)).toBe(E.EBADF);
    expect(await h.call('flock', a, 3)).toBe(E.EINVAL);
    expect(await h.call('flock', a, 2)).toBe(0); // LOCK_EX
    expect(await h.call('flock', b, 1 | 4)).toBe(E.EAGAIN); // LOCK_SH|LOCK_NB
    const waiting = h.call('flock', b, 2);
    expect(await h.call('flock', a, 8)).toBe(0); // LOCK_UN
    expect(await waiting).toBe(0);
    expect(await h.call('flock', a, 1 | 4)).toBe(E.EAGAIN);
  });
});
