// The README's example, run through the public entry point.
import { E, isError, MapFlag, Prot } from '@tsvisor/abi';
import { expect, it } from 'vitest';
import { AddressSpace, meminfoTotals, renderMaps } from './index.js';

it('README example', () => {
  const as = new AddressSpace();
  const addr = as.mmap(
    0,
    8192,
    Prot.PROT_READ | Prot.PROT_WRITE,
    MapFlag.MAP_PRIVATE | MapFlag.MAP_ANONYMOUS,
    null,
    0,
  );
  if (isError(addr)) throw addr;
  as.mprotect(addr, 4096, Prot.PROT_READ);
  expect(renderMaps(as)).toBe(
    '7ffbff6fe000-7ffbff6ff000 r--p 00000000 00:00 0 \n' +
      '7ffbff6ff000-7ffbff700000 rw-p 00000000 00:00 0 \n',
  );
  expect(as.drainHostOps().map((op) => op.op)).toEqual(['mmap', 'mprotect']);
});

it('README reserved-range example', () => {
  const as = new AddressSpace({
    reserved: [
      { start: 0x7ffffff00000, end: 0x7ffffff01000, prot: Prot.PROT_READ | Prot.PROT_EXEC, name: '[stub]' },
    ],
  });
  expect(as.munmap(0x7ffffff00000, 4096)).toBe(E.EPERM);
  expect(renderMaps(as)).toMatch(/^7ffffff00000-7ffffff01000 r-xp 00000000 00:00 0 +\[stub\]\n$/);
});

it('README meminfo example', () => {
  const parent = new AddressSpace();
  parent.mmap(
    0,
    8192,
    Prot.PROT_READ | Prot.PROT_WRITE,
    MapFlag.MAP_PRIVATE | MapFlag.MAP_ANONYMOUS,
    null,
    0,
  );
  const child = parent.fork();
  const hostRss = new Map([[parent, 4096]]);
  const t = meminfoTotals([parent, child], (as) => hostRss.get(as) ?? null);
  expect(t.committedAs).toBe(2 * 8192);
  expect(t.anonPages).toBe(4096 + 8192);
});
