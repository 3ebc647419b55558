import { E, isError, stat as statStruct } from '@tsvisor/abi';
import { describe, expect, it } from 'vitest';
import { BUF, harness } from './harness.test-util.js';

const enc = new TextEncoder();
const CWD = -100;
const O_RDONLY = 0;
const O_RDWR = 2;
const O_CREAT = 0o100;
const O_DIRECTORY = 0o200000;
const O_PATH = 0o10000000;
const F_NOTIFY = 1026;

type H = ReturnType<typeof harness>;

async function open(h: H, path: string, flags: number): Promise<number> {
  h.mem.write(BUF, enc.encode(`${path}\0`));
  return (await h.call('openat', CWD, BUF, flags, 0o644)) as number;
}

async function sizeAndBlocks(h: H, fd: number): Promise<[bigint | number, bigint | number]> {
  expect(await h.call('fstat', fd, BUF + 1024)).toBe(0);
  const st = statStruct.parse(h.mem.peek(BUF + 1024, statStruct.size));
  if (isError(st)) throw new Error('stat did not parse');
  return [st.st_size, st.st_blocks];
}

describe('fallocate, sync_file_range, readahead', () => {
  it('fallocate allocates on tmpfs (size and blocks as Linux counts them) with vfs_fallocate errors', async () => {
    const h = harness();
    const fd = await open(h, '/f', O_RDWR | O_CREAT);
    expect(await h.call('fallocate', fd, 0, 0, 10000)).toBe(0);
    expect((await sizeAndBlocks(h, fd)).map(Number)).toEqual([10000, 24]);
    expect(await h.call('fallocate', fd, 1, 10000, 8192)).toBe(0);
    expect((await sizeAndBlocks(h, fd)).map(Number)).toEqual([10000, 40]);
    expect(await h.call('fallocate', fd, 3, 0, 4096)).toBe(0);
    expect((await sizeAndBlocks(h, fd)).map(Number)).toEqual([10000, 32]);
    expect(await h.call('fallocate', fd, 2, 0, 4096)).toBe(E.EOPNOTSUPP);
    expect(await h.call('fallocate', fd, 0, 0, 0)).toBe(E.EINVAL);
    expect(await h.call('fallocate', fd, 0, -1n, 10)).toBe(E.EINVAL);
    expect(await h.call('fallocate', fd, 0, 0x7fff_ffff_ffff_fff5n, 100)).toBe(E.EFBIG);
    expect(await h.call('fallocate', 99, 0, 0, 10)).toBe(E.EBADF);
    const ro = await open(h, '/f', O_RDONLY);
    expect(await h.call('fallocate', ro, 0, 0, 10)).toBe(E.EBADF);
    expect(await h.call('readahead', ro, 0, 4096)).toBe(0);
    const dir = await open(h, '/', O_RDONLY | O_DIRECTORY);
    expect(await h.call('readahead', dir, 0, 4096)).toBe(E.EINVAL);
  });

  it('sync_file_range checks the fd, then flags and range, then the file type', async () => {
    const h = harness();
    const fd = await open(h, '/f', O_RDWR | O_CREAT);
    expect(await h.call('sync_file_range', fd, 0, 4096, 1)).toBe(0);
    expect(await h.call('sync_file_range', fd, 0, 4096, 8)).toBe(E.EINVAL);
    expect(await h.call('sync_file_range', fd, -1n, 4096, 0)).toBe(E.EINVAL);
    expect(await h.call('sync_file_range', 99, 0, 4096, 8)).toBe(E.EBADF);
    expect(await h.call('pipe2', BUF + 512, 0)).toBe(0);
    const rd = h.mem.readI32(BUF + 512) as number;
    expect(await h.call('sync_file_range', rd, 0, 10, 0)).toBe(E.ESPIPE);
    expect(await h.call('fallocate', h.mem.readI32(BUF + 516) as number, 0, 0, 10)).toBe(E.ESPIPE);
  });

  it('fcntl(F_NOTIFY): DN_MULTISHOT alone on any file; other requests need a directory', async () => {
    const h = harness();
    const dir = await open(h, '/', O_RDONLY | O_DIRECTORY);
    const file = await open(h, '/f', O_RDWR | O_CREAT);
    const path = await open(h, '/', O_PATH);
    expect(await h.call('fcntl', dir, F_NOTIFY, 0x80000000n)).toBe(0);
    expect(await h.call('fcntl', dir, F_NOTIFY, 4)).toBe(0);
    expect(await h.call('fcntl', file, F_NOTIFY, 0x80000000n)).toBe(0);
    expect(await h.call('fcntl', file, F_NOTIFY, 4)).toBe(E.ENOTDIR);
    expect(await h.call('fcntl', path, F_NOTIFY, 0)).toBe(E.EBADF);
  });
});
