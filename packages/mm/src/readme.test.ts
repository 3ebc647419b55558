// The README's example, run through the public entry point.
import { isError, MapFlag, Prot } from '@tsvisor/abi';
import { expect, it } from 'vitest';
import { AddressSpace, renderMaps } from './index.js';

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
