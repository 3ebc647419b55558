/**
 * Untrusted input never throws: every entry point of the model, fed arbitrary 64-bit (and wider,
 * negative, imprecise) arguments in any order, answers with a value or an errno, and the address
 * space stays well formed. The errno for each input is checked against Linux in
 * linux-diff.test.ts ("differential bad input"); this property covers far wider values than a
 * real process can be given safely.
 */
import { isError, MapFlag, Prot } from '@tsvisor/abi';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AddressSpace } from './address-space.js';
import { PAGE_SIZE, TASK_SIZE } from './constants.js';
import { ShmemFile } from './shmem-file.js';
import type { MapFile, Word } from './types.js';
import type { VmaTree } from './vma-tree.js';
import { VM } from './vm-flags.js';

const near = 0x7f0000000000;
const word: fc.Arbitrary<Word> = fc.oneof(
  // Addresses and lengths that hit the model's VMAs.
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 64 }).map((p) => near + p * PAGE_SIZE) },
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 16 }).map((p) => p * PAGE_SIZE) },
  { weight: 2, arbitrary: fc.integer() },
  { weight: 2, arbitrary: fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(2n ** 64n - 1n, 2n ** 64n - 4096n, 2n ** 63n, 2n ** 47n, 2n ** 32n),
  },
  { weight: 1, arbitrary: fc.constantFrom(TASK_SIZE, TASK_SIZE + 1, 2 ** 53, 2 ** 60, -1, -4096, -0, 1e300) },
);
const file: fc.Arbitrary<MapFile | null> = fc.constantFrom(null, new ShmemFile(PAGE_SIZE), {
  mapReadable: true,
  mapWritable: false,
  mapDevMajor: 8,
  mapDevMinor: 1,
  mapInode: 12,
  mapPath: () => '/bin/x',
});

type Call = (as: AddressSpace) => unknown;
/** Mostly well-formed mappings close together, so that the other calls meet, split and merge VMAs. */
const goodMmap: fc.Arbitrary<Call> = fc
  .tuple(fc.integer({ min: 0, max: 24 }), fc.integer({ min: 1, max: 8 }), fc.integer({ min: 0, max: 3 }))
  .map(
    ([p, n, prot]) =>
      (as: AddressSpace) =>
        as.mmap(
          near + p * PAGE_SIZE,
          n * PAGE_SIZE,
          prot,
          MapFlag.MAP_PRIVATE | MapFlag.MAP_ANONYMOUS | MapFlag.MAP_FIXED,
          null,
          0,
        ),
  );
const anyCall: fc.Arbitrary<Call> = fc.oneof(
  fc.tuple(word, word, word, word, file, word).map(
    ([a, l, p, f, fi, o]) =>
      (as: AddressSpace) =>
        as.mmap(a, l, p, f, fi, o),
  ),
  fc.tuple(word, word).map(
    ([a, l]) =>
      (as: AddressSpace) =>
        as.munmap(a, l),
  ),
  fc.tuple(word, word, word).map(
    ([a, l, p]) =>
      (as: AddressSpace) =>
        as.mprotect(a, l, p),
  ),
  fc.tuple(word, word, word, word, word).map(
    ([a, o, n, f, na]) =>
      (as: AddressSpace) =>
        as.mremap(a, o, n, f, na),
  ),
  fc.tuple(word, word, word).map(
    ([a, l, adv]) =>
      (as: AddressSpace) =>
        as.madvise(a, l, adv),
  ),
  fc.tuple(word, word, word).map(
    ([a, l, f]) =>
      (as: AddressSpace) =>
        as.msync(a, l, f),
  ),
  fc.tuple(word, word).map(
    ([a, l]) =>
      (as: AddressSpace) =>
        as.mincore(a, l),
  ),
  fc.tuple(word, word, word).map(
    ([a, l, f]) =>
      (as: AddressSpace) =>
        as.mlock(a, l, f),
  ),
  fc.tuple(word, word).map(
    ([a, l]) =>
      (as: AddressSpace) =>
        as.munlock(a, l),
  ),
  word.map((f) => (as: AddressSpace) => as.mlockall(f)),
  fc.constant((as: AddressSpace) => as.munlockall()),
  word.map((b) => (as: AddressSpace) => as.brk(b)),
  fc.tuple(word, word, fc.option(fc.string())).map(
    ([a, l, n]) =>
      (as: AddressSpace) =>
        as.setAnonName(a, l, n ?? undefined),
  ),
  fc.integer({ min: -1, max: 2 ** 48 }).map((a) => (as: AddressSpace) => as.expandStack(a)),
  fc.constant((as: AddressSpace) => as.fork()),
);
/** Well-formed growth: mremap in place, brk, stack faults (each edits a VMA's bounds in place). */
const goodGrowth: fc.Arbitrary<Call> = fc.oneof(
  fc
    .tuple(fc.integer({ min: 0, max: 24 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }))
    .map(
      ([p, n, k]) =>
        (as: AddressSpace) =>
          as.mremap(near + p * PAGE_SIZE, n * PAGE_SIZE, (n + k) * PAGE_SIZE, 0, 0),
    ),
  fc.integer({ min: 0, max: 12 }).map((k) => (as: AddressSpace) => as.brk(near - 16 * PAGE_SIZE + k * 3000)),
  fc
    .integer({ min: 0, max: 20 })
    .map((k) => (as: AddressSpace) => as.expandStack(near + (223 - k) * PAGE_SIZE)),
);
const call = fc.oneof(
  { weight: 2, arbitrary: goodMmap },
  { weight: 1, arbitrary: goodGrowth },
  { weight: 3, arbitrary: anyCall },
);

/** Throws unless the address space is well formed: ordered page-aligned VMAs and exact counters. */
function wellFormed(as: AddressSpace): void {
  let prevEnd = 0;
  let total = 0;
  let committed = 0;
  const list = as.list();
  for (const v of list) {
    const aligned = v.start % PAGE_SIZE === 0 && v.end % PAGE_SIZE === 0;
    if (!aligned || v.start < prevEnd || v.end <= v.start || v.end > TASK_SIZE)
      throw new Error(`bad VMA ${v.start.toString(16)}-${v.end.toString(16)} after ${prevEnd.toString(16)}`);
    prevEnd = v.end;
    total += (v.end - v.start) / PAGE_SIZE;
    if (v.flags & VM.ACCOUNT) committed += (v.end - v.start) / PAGE_SIZE;
  }
  const s = as.stats();
  expect([s.totalVm, s.committedVm, s.mapCount]).toEqual([total, committed, list.length]);
  (as as unknown as { vmas: VmaTree<never> }).vmas.check();
}

describe('bad input at the model API', () => {
  it('never throws, answers a value or an errno, and keeps the address space well formed', () => {
    fc.assert(
      fc.property(fc.array(call, { minLength: 1, maxLength: 25 }), fc.boolean(), (calls, crowded) => {
        const as = new AddressSpace({ limits: { memlock: 64 * PAGE_SIZE } });
        as.initBrk(near - 16 * PAGE_SIZE);
        as.setupStack(near + 256 * PAGE_SIZE, near + 255 * PAGE_SIZE);
        if (crowded) {
          // 400 one-page VMAs with one-page holes around the busy pages: a tree several levels deep.
          for (let p = -400; p < 400; p += 2) {
            const prot = p % 4 === 0 ? Prot.PROT_READ : Prot.PROT_NONE;
            as.mmap(
              near + p * PAGE_SIZE,
              PAGE_SIZE,
              prot,
              MapFlag.MAP_PRIVATE | MapFlag.MAP_ANONYMOUS | MapFlag.MAP_FIXED,
              null,
              0,
            );
          }
        }
        for (const c of calls) {
          const r = c(as);
          if (isError(r)) expect(r.errno).toBeGreaterThan(0);
          else if (typeof r === 'number') expect(Number.isFinite(r)).toBe(true);
          wellFormed(as);
          as.drainHostOps();
        }
      }),
      { numRuns: 300 },
    );
  });

  it('answers ENOMEM, EINVAL or EEXIST at the top of the address space, not a wrapped address', () => {
    const as = new AddressSpace();
    const fixed = MapFlag.MAP_PRIVATE | MapFlag.MAP_ANONYMOUS | MapFlag.MAP_FIXED;
    const rw = Prot.PROT_READ | Prot.PROT_WRITE;
    expect(as.mmap(TASK_SIZE - PAGE_SIZE, 2 * PAGE_SIZE, rw, fixed, null, 0)).toMatchObject({
      name: 'ENOMEM',
    });
    expect(as.mmap(2n ** 64n - 4096n, PAGE_SIZE, rw, fixed, null, 0)).toMatchObject({ name: 'ENOMEM' });
    expect(
      as.mmap(0, 2n ** 64n - 1n, rw, MapFlag.MAP_PRIVATE | MapFlag.MAP_ANONYMOUS, null, 0),
    ).toMatchObject({
      name: 'ENOMEM',
    });
    expect(as.munmap(TASK_SIZE, PAGE_SIZE)).toMatchObject({ name: 'EINVAL' });
    expect(as.mprotect(2n ** 64n - 4096n, 8192, 1)).toMatchObject({ name: 'ENOMEM' });
    expect(as.mremap(0x10000, 4096, 2n ** 63n, 1, 0)).toMatchObject({ name: 'EINVAL' });
    expect(as.list()).toEqual([]);
  });
});
