import { E, stat as statStruct, isError } from '@tsvisor/abi';
import { describe, expect, it } from 'vitest';
import { BUF, harness } from './harness.test-util.js';

const enc = new TextEncoder();
const dec = new TextDecoder();
const CWD = -100;
const O_RDONLY = 0;
const O_CREAT = 0o100;
const O_DIRECTORY = 0o200000;

type H = ReturnType<typeof harness>;

function str(h: H, at: number, s: string): number {
  h.mem.write(at, enc.encode(`${s}\0`));
  return at;
}

function timevals(h: H, at: number, v: [number, number, number, number]): number {
  const b = new DataView(new ArrayBuffer(32));
  v.forEach((x, i) => b.setBigInt64(i * 8, BigInt(x), true));
  h.mem.write(at, new Uint8Array(b.buffer));
  return at;
}

async function times(h: H, path: string): Promise<[number, number]> {
  expect(await h.call('newfstatat', CWD, str(h, BUF, path), BUF + 2048, 0)).toBe(0);
  const st = statStruct.parse(h.mem.peek(BUF + 2048, statStruct.size));
  if (isError(st)) throw new Error('stat did not parse');
  return [
    Number(st.st_atime) * 1e6 + Number(st.st_atime_nsec) / 1000,
    Number(st.st_mtime) * 1e6 + Number(st.st_mtime_nsec) / 1000,
  ];
}

describe('utime, utimes, futimesat, getdents', () => {
  it('set microsecond (utimes, futimesat) and second (utime) times; bad microseconds are EINVAL', async () => {
    const h = harness();
    expect(await h.call('mkdirat', CWD, str(h, BUF, '/d'), 0o755)).toBeGreaterThanOrEqual(0);
    expect(await h.call('openat', CWD, str(h, BUF, '/d/f'), O_CREAT, 0o644)).toBeGreaterThanOrEqual(0);
    expect(
      await h.call('utimes', str(h, BUF + 512, '/d/f'), timevals(h, BUF + 1024, [10, 5, 20, 999999])),
    ).toBe(0);
    expect(await times(h, '/d/f')).toEqual([10_000_005, 20_999_999]);
    expect(
      await h.call('utimes', str(h, BUF + 512, '/d/f'), timevals(h, BUF + 1024, [1, 1_000_000, 2, 0])),
    ).toBe(E.EINVAL);
    const ub = new DataView(new ArrayBuffer(16));
    ub.setBigInt64(0, 30n, true);
    ub.setBigInt64(8, 40n, true);
    h.mem.write(BUF + 1024, new Uint8Array(ub.buffer));
    expect(await h.call('utime', str(h, BUF + 512, '/d/f'), BUF + 1024)).toBe(0);
    expect(await times(h, '/d/f')).toEqual([30_000_000, 40_000_000]);
    const dfd = (await h.call('openat', CWD, str(h, BUF, '/d'), O_RDONLY | O_DIRECTORY, 0)) as number;
    expect(
      await h.call('futimesat', dfd, str(h, BUF + 512, 'f'), timevals(h, BUF + 1024, [50, 1, 60, 2])),
    ).toBe(0);
    expect(await times(h, '/d/f')).toEqual([50_000_001, 60_000_002]);
    expect(await h.call('futimesat', CWD, 0, 0)).toBe(E.EFAULT);
  });

  it('getdents writes struct linux_dirent records with d_type in the last byte', async () => {
    const h = harness();
    expect(await h.call('mkdirat', CWD, str(h, BUF, '/d'), 0o755)).toBe(0);
    expect(await h.call('mkdirat', CWD, str(h, BUF, '/d/sub'), 0o755)).toBe(0);
    const dfd = (await h.call('openat', CWD, str(h, BUF, '/d'), O_RDONLY | O_DIRECTORY, 0)) as number;
    expect(await h.call('getdents', dfd, BUF + 4096, 10)).toBe(E.EINVAL);
    const n = (await h.call('getdents', dfd, BUF + 4096, 4096)) as number;
    const raw = h.mem.peek(BUF + 4096, n).slice();
    const v = new DataView(raw.buffer);
    const seen: string[] = [];
    for (let off = 0; off < n;) {
      const reclen = v.getUint16(off + 16, true);
      expect(reclen % 8).toBe(0);
      const name = raw.subarray(off + 18, raw.indexOf(0, off + 18));
      seen.push(`${dec.decode(name)}:${raw[off + reclen - 1]}`);
      off += reclen;
    }
    expect(seen.sort()).toEqual(['..:4', '.:4', 'sub:4']);
    expect(await h.call('getdents', dfd, BUF + 4096, 4096)).toBe(0);
  });
});
