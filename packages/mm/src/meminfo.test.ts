import { isError, MapFlag, Prot } from '@tsvisor/abi';
import { describe, expect, it } from 'vitest';
import { AddressSpace } from './address-space.js';
import { PAGE_SIZE } from './constants.js';
import { meminfoTotals } from './meminfo.js';
import type { MapFile } from './types.js';

const P = PAGE_SIZE;
const RW = Prot.PROT_READ | Prot.PROT_WRITE;
const file: MapFile = {
  mapReadable: true,
  mapWritable: false,
  mapDevMajor: 8,
  mapDevMinor: 1,
  mapInode: 42,
  mapPath: () => '/lib/x.so',
};

function ok(r: number | { errno: number }): number {
  if (isError(r)) throw r;
  return r as number;
}

describe('meminfoTotals', () => {
  it('sums anonymous memory and commit per process, and counts shared and file pages once', () => {
    const parent = new AddressSpace({
      reserved: [{ start: 0x7ffffff00000, end: 0x7ffffff02000, prot: 5, name: '[tsvisor]' }],
    });
    ok(parent.mmap(0, 4 * P, RW, MapFlag.MAP_PRIVATE | MapFlag.MAP_ANONYMOUS, null, 0));
    ok(parent.mmap(0, 2 * P, RW, MapFlag.MAP_SHARED | MapFlag.MAP_ANONYMOUS, null, 0));
    // File pages 0-2 and 2-4: five distinct pages, one mapped twice.
    ok(parent.mmap(0, 3 * P, Prot.PROT_READ, MapFlag.MAP_PRIVATE, file, 0));
    ok(parent.mmap(0, 3 * P, Prot.PROT_READ, MapFlag.MAP_PRIVATE, file, 2 * P));
    ok(parent.mlock(ok(parent.mmap(0, P, RW, MapFlag.MAP_PRIVATE | MapFlag.MAP_ANONYMOUS, null, 0)), P));
    const child = parent.fork(); // shares the shmem object, copies the private memory, drops locks

    const t = meminfoTotals([parent, child, parent]);
    expect(t.anonPages).toBe(2 * 5 * P);
    expect(t.shmem).toBe(2 * P);
    expect(t.mapped).toBe(5 * P + 2 * P);
    expect(t.committedAs).toBe(2 * 5 * P);
    expect(t.committedAs).toBe((parent.stats().committedVm + child.stats().committedVm) * P);
    expect(t.mlocked).toBe(P);
    expect(t.totalVm).toBe((parent.stats().totalVm + child.stats().totalVm) * P);
    expect(t.rss).toBe(t.anonPages + t.mapped);

    const known = meminfoTotals([parent, child], (as) => (as === parent ? 3 * P : 100 * P));
    expect(known.rss).toBe(103 * P);
    expect(known.anonPages).toBe(3 * P + 5 * P);
  });

  it('is all zeros for no address spaces', () => {
    expect(meminfoTotals([])).toEqual({
      rss: 0,
      anonPages: 0,
      mapped: 0,
      shmem: 0,
      committedAs: 0,
      mlocked: 0,
      totalVm: 0,
    });
  });
});
