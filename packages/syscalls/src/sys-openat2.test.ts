import { E } from '@tsvisor/abi';
import { describe, expect, it } from 'vitest';
import { BAD, BUF, harness } from './harness.test-util.js';

const enc = new TextEncoder();
const CWD = -100;
const O_RDWR = 2;
const O_CREAT = 0o100;
const O_DIRECTORY = 0o200000;
const O_CLOEXEC = 0o2000000;
const O_PATH = 0o10000000;
const RESOLVE_BENEATH = 0x08;
const RESOLVE_IN_ROOT = 0x10;
const RESOLVE_CACHED = 0x20;
const PATH = BUF;
const HOW = BUF + 0x1000;

type H = ReturnType<typeof harness>;

function putHow(h: H, flags: bigint, mode: bigint, resolve: bigint, tail: number[] = []): void {
  const b = new Uint8Array(24 + tail.length);
  const v = new DataView(b.buffer);
  v.setBigUint64(0, flags, true);
  v.setBigUint64(8, mode, true);
  v.setBigUint64(16, resolve, true);
  b.set(tail, 24);
  h.mem.write(HOW, b);
}

async function openat2(h: H, dirfd: number, path: string, size = 24): Promise<unknown> {
  h.mem.write(PATH, enc.encode(`${path}\0`));
  return h.call('openat2', dirfd, PATH, HOW, size);
}

describe('openat2(2)', () => {
  it('opens with RESOLVE_* restrictions and applies O_CLOEXEC', async () => {
    const h = harness();
    putHow(h, BigInt(O_CREAT | O_RDWR | O_CLOEXEC), 0o600n, 0n);
    const fd = (await openat2(h, CWD, '/f')) as number;
    expect(fd).toBeGreaterThanOrEqual(0);
    expect(await h.call('fcntl', fd, 1)).toBe(1);
    expect(await h.call('mkdir', (h.mem.write(PATH, enc.encode('/d\0')), PATH), 0o755)).toBe(0);
    putHow(h, BigInt(O_DIRECTORY | O_PATH), 0n, 0n);
    const d = (await openat2(h, CWD, '/d')) as number;
    putHow(h, 0n, 0n, BigInt(RESOLVE_BENEATH));
    expect(await openat2(h, d, '../f')).toBe(E.EXDEV);
    expect(await openat2(h, d, '/f')).toBe(E.EXDEV);
    putHow(h, 0n, 0n, BigInt(RESOLVE_IN_ROOT));
    expect(await openat2(h, d, '../f')).toBe(E.ENOENT); // `..` stays in /d
    expect(await openat2(h, CWD, 'f')).toBeGreaterThanOrEqual(0);
  });

  it('applies the size rules and build_open_flags checks before reading the path', async () => {
    const h = harness();
    putHow(h, 0n, 0n, 0n);
    expect(await openat2(h, CWD, '/', 23)).toBe(E.EINVAL);
    expect(await openat2(h, CWD, '/', 4097)).toBe(E.E2BIG);
    expect(await h.call('openat2', CWD, PATH, HOW, 2n ** 63n)).toBe(E.E2BIG);
    expect(await h.call('openat2', CWD, PATH, BAD, 24)).toBe(E.EFAULT);
    putHow(h, 0n, 0n, 0n, [0, 0, 0, 0, 0, 0, 0, 0]);
    expect(await openat2(h, CWD, '/', 32)).toBeGreaterThanOrEqual(0); // zero tail: accepted
    putHow(h, 0n, 0n, 0n, [0, 0, 1]);
    expect(await openat2(h, CWD, '/', 27)).toBe(E.E2BIG);
    putHow(h, 1n << 40n, 0n, 0n);
    expect(await openat2(h, CWD, '/')).toBe(E.EINVAL);
    putHow(h, 0n, 0n, 0x40n);
    expect(await openat2(h, CWD, '/')).toBe(E.EINVAL);
    putHow(h, 0n, 0n, BigInt(RESOLVE_BENEATH | RESOLVE_IN_ROOT));
    expect(await openat2(h, CWD, '/')).toBe(E.EINVAL);
    putHow(h, 0n, 0o644n, 0n);
    expect(await openat2(h, CWD, '/')).toBe(E.EINVAL); // mode without O_CREAT
    putHow(h, BigInt(O_CREAT | O_RDWR), 0o10000n, 0n);
    expect(await openat2(h, CWD, '/x')).toBe(E.EINVAL);
    putHow(h, BigInt(O_CREAT | O_RDWR), 0o600n, BigInt(RESOLVE_CACHED));
    expect(await openat2(h, CWD, '/x')).toBe(E.EAGAIN);
    // Flags are checked before the path is read: EINVAL, not EFAULT.
    putHow(h, BigInt(O_PATH | O_RDWR), 0n, 0n);
    expect(await h.call('openat2', CWD, BAD, HOW, 24)).toBe(E.EINVAL);
    putHow(h, 0n, 0n, 0n);
    expect(await h.call('openat2', CWD, BAD, HOW, 24)).toBe(E.EFAULT);
  });
});
