import { E, Signal, isError, stat as statStruct } from '@tsvisor/abi';
import { ERESTARTSYS } from '@tsvisor/kernel';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUF, harness } from './harness.test-util.js';

const enc = new TextEncoder();
const dec = new TextDecoder();
const CWD = -100;
const O_RDWR = 2;
const O_CREAT = 0o100;
const O_CLOEXEC = 0o2000000;

function str(h: ReturnType<typeof harness>, at: number, s: string): number {
  h.mem.write(at, enc.encode(`${s}\0`));
  return at;
}

describe('file syscalls over the VFS', () => {
  it('creates, writes, seeks, reads and stats a file', async () => {
    const h = harness();
    const fd = (await h.call(
      'openat',
      CWD,
      str(h, BUF, '/f'),
      O_RDWR | O_CREAT | O_CLOEXEC,
      0o640,
    )) as number;
    expect(fd).toBe(0);
    expect(await h.call('fcntl', fd, 1)).toBe(1);
    h.mem.write(BUF + 100, enc.encode('hello world'));
    expect(await h.call('write', fd, BUF + 100, 11)).toBe(11);
    expect(await h.call('lseek', fd, 6, 0)).toBe(6);
    expect(await h.call('read', fd, BUF + 200, 100)).toBe(5);
    expect(dec.decode(h.mem.peek(BUF + 200, 5))).toBe('world');
    expect(await h.call('pread64', fd, BUF + 300, 5, 0)).toBe(5);
    expect(dec.decode(h.mem.peek(BUF + 300, 5))).toBe('hello');
    expect(await h.call('fstat', fd, BUF + 400)).toBe(0);
    const st = statStruct.parse(h.mem.peek(BUF + 400, statStruct.size));
    if (isError(st)) throw new Error();
    expect(st.st_size).toBe(11n);
    expect(st.st_mode & 0o7777).toBe(0o640);
    expect(await h.call('read', fd, 1, 1)).toBe(0); // at EOF nothing is copied
    expect(await h.call('lseek', fd, 0, 0)).toBe(0);
    expect(await h.call('read', fd, 1, 1)).toBe(E.EFAULT);
    expect(await h.call('close', fd)).toBe(0);
    expect(await h.call('close', fd)).toBe(E.EBADF);
  });

  it('readv/writev scatter and gather', async () => {
    const h = harness();
    const fd = (await h.call('openat', CWD, str(h, BUF, '/v'), O_RDWR | O_CREAT, 0o600)) as number;
    h.mem.write(BUF + 100, enc.encode('abcXYZ'));
    const iov = BUF + 200;
    h.mem.writeU64(iov, BigInt(BUF + 100));
    h.mem.writeU64(iov + 8, 3n);
    h.mem.writeU64(iov + 16, BigInt(BUF + 103));
    h.mem.writeU64(iov + 24, 3n);
    expect(await h.call('writev', fd, iov, 2)).toBe(6);
    expect(await h.call('lseek', fd, 0, 0)).toBe(0);
    h.mem.writeU64(iov, BigInt(BUF + 300));
    h.mem.writeU64(iov + 8, 2n);
    h.mem.writeU64(iov + 16, BigInt(BUF + 400));
    h.mem.writeU64(iov + 24, 10n);
    expect(await h.call('readv', fd, iov, 2)).toBe(6);
    expect(dec.decode(h.mem.peek(BUF + 300, 2))).toBe('ab');
    expect(dec.decode(h.mem.peek(BUF + 400, 4))).toBe('cXYZ');
    expect(await h.call('readv', fd, iov, 1025)).toBe(E.EINVAL);
  });

  it('directories: mkdir, getdents64, chdir, getcwd, rename, unlink, symlink, readlink', async () => {
    const h = harness();
    expect(await h.call('mkdir', str(h, BUF, '/d'), 0o755)).toBe(0);
    expect(await h.call('mkdir', str(h, BUF, '/d'), 0o755)).toBe(E.EEXIST);
    expect(await h.call('chdir', str(h, BUF, '/d'))).toBe(0);
    expect(await h.call('getcwd', BUF + 100, 100)).toBe(3);
    expect(h.mem.readCString(BUF + 100, 100)).toBe('/d');
    const fd = (await h.call('openat', CWD, str(h, BUF, 'a'), O_CREAT | O_RDWR, 0o600)) as number;
    await h.call('close', fd);
    expect(await h.call('renameat2', CWD, str(h, BUF, 'a'), CWD, str(h, BUF + 50, 'b'), 0)).toBe(0);
    expect(await h.call('symlinkat', str(h, BUF, '/d/b'), CWD, str(h, BUF + 50, 'l'))).toBe(0);
    expect(await h.call('readlinkat', CWD, str(h, BUF, 'l'), BUF + 100, 100)).toBe(4);
    expect(dec.decode(h.mem.peek(BUF + 100, 4))).toBe('/d/b');
    const dfd = (await h.call('openat', CWD, str(h, BUF, '.'), 0o200000, 0)) as number;
    const n = (await h.call('getdents64', dfd, BUF + 1000, 4096)) as number;
    expect(n).toBeGreaterThan(0);
    const names: string[] = [];
    for (let off = 0; off < n;) {
      const reclen = h.mem.peek(BUF + 1000 + off + 16, 2);
      const len = reclen[0]! | (reclen[1]! << 8);
      names.push(h.mem.readCString(BUF + 1000 + off + 19, 256) as string);
      off += len;
    }
    expect(names.sort()).toEqual(['.', '..', 'b', 'l']);
    expect(await h.call('getdents64', dfd, BUF + 1000, 4096)).toBe(0);
    expect(await h.call('unlink', str(h, BUF, 'b'))).toBe(0);
    expect(await h.call('unlink', str(h, BUF, 'b'))).toBe(E.ENOENT);
  });

  it('a pipe blocks the reader until a writer writes; a signal interrupts; EPIPE raises SIGPIPE', async () => {
    const h = harness();
    expect(await h.call('pipe2', BUF, O_CLOEXEC)).toBe(0);
    const r = h.mem.readI32(BUF) as number;
    const w = h.mem.readI32(BUF + 4) as number;
    expect(h.task.files.entry(r)?.cloexec).toBe(true);
    const reading = h.call('read', r, BUF + 100, 10);
    await Promise.resolve();
    expect(h.task.blocked).toBe(true);
    h.mem.write(BUF + 200, enc.encode('ping'));
    expect(await h.call('write', w, BUF + 200, 4)).toBe(4);
    expect(await reading).toBe(4);
    expect(dec.decode(h.mem.peek(BUF + 100, 4))).toBe('ping');

    h.task.mask.add(Signal.SIGPIPE);
    const again = h.call('read', r, BUF + 100, 10);
    await Promise.resolve();
    h.task.mask.delete(Signal.SIGPIPE);
    h.task.group.actions.set(Signal.SIGUSR1, {
      handler: 0x401000n,
      flags: 0,
      restorer: 0n,
      mask: h.task.mask.clone(),
    });
    h.kernel.sendToTask(h.task, { signo: Signal.SIGUSR1, code: 0 });
    expect(await again).toBe(ERESTARTSYS);
    h.task.pending.clear();

    expect(await h.call('close', r)).toBe(0);
    h.task.mask.add(Signal.SIGPIPE);
    expect(await h.call('write', w, BUF + 200, 4)).toBe(E.EPIPE);
    expect(h.task.pending.has(Signal.SIGPIPE)).toBe(true);
  });

  it('dup2, F_DUPFD_CLOEXEC and FIOCLEX manage descriptors', async () => {
    const h = harness();
    const fd = (await h.call('openat', CWD, str(h, BUF, '/x'), O_CREAT | O_RDWR, 0o600)) as number;
    expect(await h.call('dup2', fd, 10)).toBe(10);
    expect(await h.call('fcntl', fd, 1030, 20)).toBe(20);
    expect(await h.call('fcntl', 20, 1)).toBe(1);
    expect(await h.call('ioctl', 10, 0x5451, 0)).toBe(0);
    expect(await h.call('fcntl', 10, 1)).toBe(1);
    expect(await h.call('ioctl', 10, 0x5401, BUF)).toBe(E.ENOTTY);
    expect(await h.call('fcntl', fd, 3)).toBe(O_RDWR | 0o100000);
  });
});

describe('huge counts and kernel pointers', () => {
  it('rejects ranges outside user space with EFAULT and never allocates the whole count', async () => {
    const h = harness();
    const fd = (await h.call('openat', CWD, str(h, BUF, '/big'), O_RDWR | O_CREAT, 0o600)) as number;
    h.mem.write(BUF + 100, enc.encode('abc'));
    expect(await h.call('write', fd, BUF + 100, 3)).toBe(3);
    await h.call('lseek', fd, 0, 0);
    expect(await h.call('read', fd, 0xffff800000000000n, 10)).toBe(E.EFAULT);
    expect(await h.call('read', fd, BUF + 200, 2n ** 47n)).toBe(E.EFAULT); // runs past TASK_SIZE
    expect(await h.call('read', fd, BUF + 200, 2n ** 40n)).toBe(3); // in range: clamped, short read
  });
});

describe('O_TMPFILE', () => {
  const O_TMPFILE = 0o20200000;
  const AT_EMPTY_PATH = 0x1000;
  const O_EXCL = 0o200;

  /** The host's answer to open(path, flags) on a fresh directory with a file `f` in it. */
  function hostOpen(rel: string, flags: number): number {
    const dir = mkdtempSync(join(tmpdir(), 'tsvisor-tmpfile-'));
    try {
      writeFileSync(join(dir, 'f'), '');
      const fd = openSync(join(dir, rel), flags, 0o600);
      closeSync(fd);
      return 0;
    } catch (e) {
      return (e as { errno: number }).errno; // node's errno is already negative
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it('opens an unnamed file in a tmpfs directory that linkat can name, as the host does', async () => {
    const h = harness();
    expect(await h.call('mkdir', str(h, BUF, '/d'), 0o755)).toBe(0);
    expect(await h.call('openat', CWD, str(h, BUF, '/d/f'), O_RDWR | O_CREAT, 0o600)).toBe(0);
    expect(await h.call('close', 0)).toBe(0);
    const cases: [string, number][] = [
      ['', O_TMPFILE | O_RDWR],
      ['', O_TMPFILE], // no write access: EINVAL
      ['f', O_TMPFILE | O_RDWR], // not a directory: ENOTDIR
    ];
    for (const [rel, flags] of cases) {
      const r = await h.call('openat', CWD, str(h, BUF, rel ? `/d/${rel}` : '/d'), flags, 0o600);
      const ours = typeof r === 'number' ? 0 : -(r as { errno: number }).errno;
      expect([rel, flags, ours]).toEqual([rel, flags, hostOpen(rel, flags)]);
      if (typeof r === 'number') await h.call('close', r);
    }

    const fd = (await h.call('openat', CWD, str(h, BUF, '/d'), O_TMPFILE | O_RDWR, 0o600)) as number;
    h.mem.write(BUF + 100, enc.encode('abc'));
    expect(await h.call('write', fd, BUF + 100, 3)).toBe(3);
    expect(await h.call('fstat', fd, BUF + 400)).toBe(0);
    const st = statStruct.parse(h.mem.peek(BUF + 400, statStruct.size));
    if (isError(st)) throw new Error('stat');
    expect(st.st_nlink).toBe(0);
    expect(
      await h.call('linkat', fd, str(h, BUF, ''), CWD, str(h, BUF + 50, '/d/named'), AT_EMPTY_PATH),
    ).toBe(0);
    expect(await h.call('newfstatat', CWD, str(h, BUF, '/d/named'), BUF + 400, 0)).toBe(0);
    const named = statStruct.parse(h.mem.peek(BUF + 400, statStruct.size));
    if (isError(named)) throw new Error('stat');
    expect([named.st_size, named.st_nlink]).toEqual([3n, 1]);

    // O_EXCL: the file can never get a name (linkat's ENOENT for nlink 0 without I_LINKABLE).
    const ex = (await h.call('openat', CWD, str(h, BUF, '/d'), O_TMPFILE | O_RDWR | O_EXCL, 0o600)) as number;
    expect(
      await h.call('linkat', ex, str(h, BUF, ''), CWD, str(h, BUF + 50, '/d/never'), AT_EMPTY_PATH),
    ).toBe(E.ENOENT);
  });
});
