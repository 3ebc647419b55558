import { E } from '@tsvisor/abi';
import { describe, expect, it } from 'vitest';
import { BAD, BUF, harness } from './harness.test-util.js';

const enc = new TextEncoder();
const F_ADD_SEALS = 1033;
const F_GET_SEALS = 1034;
const F_GETFD = 1;

describe('memfd_create', () => {
  it('makes a read-write memory file whose seals fcntl adds and reports', async () => {
    const h = harness();
    h.mem.write(BUF, enc.encode('buf\0'));
    const fd = (await h.call('memfd_create', BUF, 1 | 2)) as number; // MFD_CLOEXEC | MFD_ALLOW_SEALING
    expect(fd).toBeGreaterThanOrEqual(0);
    expect(await h.call('fcntl', fd, F_GETFD)).toBe(1);
    h.mem.write(BUF + 64, enc.encode('hello'));
    expect(await h.call('write', fd, BUF + 64, 5)).toBe(5);
    expect(await h.call('fcntl', fd, F_GET_SEALS)).toBe(0);
    expect(await h.call('fcntl', fd, F_ADD_SEALS, 4 | 8)).toBe(0); // GROW | WRITE
    expect(await h.call('write', fd, BUF + 64, 5)).toBe(E.EPERM);
    expect(await h.call('ftruncate', fd, 100)).toBe(E.EPERM);
    expect(await h.call('ftruncate', fd, 2)).toBe(0);
    expect(await h.call('pread64', fd, BUF + 128, 10, 0)).toBe(2);
    expect(await h.call('fcntl', fd, F_GET_SEALS)).toBe(12);
  });

  it('checks flags before the name, and the name length (249 bytes at most)', async () => {
    const h = harness();
    expect(await h.call('memfd_create', BAD, 0x100)).toBe(E.EINVAL);
    expect(await h.call('memfd_create', BAD, 0)).toBe(E.EFAULT);
    h.mem.write(BUF, enc.encode('a'.repeat(250) + '\0'));
    expect(await h.call('memfd_create', BUF, 0)).toBe(E.EINVAL);
    h.mem.write(BUF + 249, enc.encode('\0'));
    expect(await h.call('memfd_create', BUF, 0)).toBeGreaterThanOrEqual(0);
    // Without MFD_ALLOW_SEALING the file starts sealed against sealing.
    h.mem.write(BUF, enc.encode('s\0'));
    const fd = (await h.call('memfd_create', BUF, 0)) as number;
    expect(await h.call('fcntl', fd, F_GET_SEALS)).toBe(1);
    expect(await h.call('fcntl', fd, F_ADD_SEALS, 2)).toBe(E.EPERM);
  });
});

describe('preadv / pwritev and the v2 forms', () => {
  it('read and write at an offset, or at the file position with -1 (v2), and check RWF_ flags', async () => {
    const h = harness();
    h.mem.write(BUF, enc.encode('/f\0'));
    const fd = (await h.call('openat', -100, BUF, 0o102, 0o600)) as number; // O_RDWR | O_CREAT
    h.mem.write(BUF + 64, enc.encode('abcdefghij'));
    // iovecs: {BUF+64, 4}, {BUF+68, 6}
    const iov = BUF + 256;
    h.mem.writeU64(iov, BigInt(BUF + 64));
    h.mem.writeU64(iov + 8, 4n);
    h.mem.writeU64(iov + 16, BigInt(BUF + 68));
    h.mem.writeU64(iov + 24, 6n);
    expect(await h.call('pwritev', fd, iov, 2, 100)).toBe(10);
    expect(await h.call('lseek', fd, 0, 1)).toBe(0);
    expect(await h.call('pwritev2', fd, iov, 2, -1, 0, 0)).toBe(10);
    expect(await h.call('lseek', fd, 0, 1)).toBe(10);
    h.mem.write(BUF + 64, new Uint8Array(10));
    expect(await h.call('preadv', fd, iov, 2, 100)).toBe(10);
    expect(new TextDecoder().decode(h.mem.read(BUF + 64, 10) as Uint8Array)).toBe('abcdefghij');
    expect(await h.call('preadv', fd, iov, 2, -1)).toBe(E.EINVAL);
    expect(await h.call('preadv2', fd, iov, 2, -2, 0, 0)).toBe(E.EINVAL);
    expect(await h.call('preadv2', fd, iov, 2, 0, 0, 0x200)).toBe(E.EOPNOTSUPP);
    expect(await h.call('preadv2', fd, iov, 2, 0, 0, 8)).toBe(E.EOPNOTSUPP); // RWF_NOWAIT on tmpfs
    expect(await h.call('preadv2', fd, iov, 0, 0, 0, 0x200)).toBe(0); // nothing to read: flags unchecked
    expect(await h.call('pwritev2', fd, iov, 2, 0, 0, 0x10)).toBe(10); // RWF_APPEND
    expect(await h.call('lseek', fd, 0, 2)).toBe(120);
  });

  it('RWF_NOWAIT turns a blocking pipe read into EAGAIN; positional forms give ESPIPE', async () => {
    const h = harness();
    expect(await h.call('pipe2', BUF, 0)).toBe(0);
    const r = h.mem.readU32(BUF) as number;
    const iov = BUF + 256;
    h.mem.writeU64(iov, BigInt(BUF + 64));
    h.mem.writeU64(iov + 8, 8n);
    expect(await h.call('preadv2', r, iov, 1, -1, 0, 8)).toBe(E.EAGAIN);
    expect(await h.call('preadv', r, iov, 1, 0)).toBe(E.ESPIPE);
  });
});
