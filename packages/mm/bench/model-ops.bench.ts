/**
 * Model operations per second with 10 000 VMAs: an mmap+munmap pair, an mprotect that splits and
 * a second one that merges back, and an address lookup. Run with `npx vitest bench`.
 */
import { MapFlag, Prot } from '@tsvisor/abi';
import { bench, describe } from 'vitest';
import { AddressSpace, PAGE_SIZE } from '../src/index.js';

const BASE = 0x100000000000;
const N = 10_000;

function populated(): AddressSpace {
  const as = new AddressSpace();
  // Alternate protections so that neighbours do not merge: N VMAs.
  for (let i = 0; i < N; i++) {
    as.mmap(
      BASE + i * 2 * PAGE_SIZE,
      2 * PAGE_SIZE,
      i % 2 ? Prot.PROT_READ : Prot.PROT_READ | Prot.PROT_WRITE,
      MapFlag.MAP_PRIVATE | MapFlag.MAP_ANONYMOUS | MapFlag.MAP_FIXED,
      null,
      0,
    );
  }
  as.drainHostOps();
  return as;
}

describe(`${N} VMAs`, () => {
  const as = populated();
  let k = 0;
  bench('mmap + munmap (address chosen top-down)', () => {
    const a = as.mmap(0, PAGE_SIZE, Prot.PROT_READ, MapFlag.MAP_PRIVATE | MapFlag.MAP_ANONYMOUS, null, 0);
    as.munmap(a as number, PAGE_SIZE);
    as.drainHostOps();
  });
  bench('mprotect split + merge back', () => {
    const i = (k++ % (N / 2)) * 2; // an RW VMA
    const at = BASE + i * 2 * PAGE_SIZE;
    as.mprotect(at, PAGE_SIZE, Prot.PROT_READ);
    as.mprotect(at, PAGE_SIZE, Prot.PROT_READ | Prot.PROT_WRITE);
    as.drainHostOps();
  });
  bench('findVma', () => {
    as.findVma(BASE + ((k++ * 7919) % (2 * N)) * PAGE_SIZE + 5);
  });
});
