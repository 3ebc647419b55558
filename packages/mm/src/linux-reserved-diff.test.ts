/**
 * Differential test of reserved ranges: the model's {@link ReservedRange} must answer as Linux
 * answers for a sealed mapping. The helper maps the same range PROT_READ|PROT_EXEC and seals it
 * with mseal(2); random operations around and over it must give the same results and errnos, and
 * the maps lines of the region must be equal (the reserved range's own lines compared by range
 * and permissions, since only the model names it).
 */
import { Madv, MapFlag, Mlock, Mremap, Prot } from '@tsvisor/abi';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AddressSpace } from './address-space.js';
import { PAGE_SIZE } from './constants.js';
import { LinuxOracle } from './linux-oracle.test-util.js';
import { mapsLine } from './render.js';
import type { LinuxError } from '@tsvisor/abi';

const BASE = 0x100000000000;
const PAGES = 32;
const SIZE = PAGES * PAGE_SIZE;
/** The reserved pages: [RES_START, RES_END) of the region. */
const RES_START = BASE + 12 * PAGE_SIZE;
const RES_END = BASE + 16 * PAGE_SIZE;
const RX = Prot.PROT_READ | Prot.PROT_EXEC;
const ANON = MapFlag.MAP_PRIVATE | MapFlag.MAP_ANONYMOUS;

let oracle: LinuxOracle;
beforeAll(() => {
  oracle = new LinuxOracle(BASE, SIZE);
});
afterAll(() => oracle?.dispose());

/** The helper lines that make the same starting point: the region, then the sealed range. */
const PRELUDE = [
  `mmap ${RES_START.toString(16)} ${(RES_END - RES_START).toString(16)} ${RX.toString(16)} ${(ANON | MapFlag.MAP_FIXED).toString(16)} -1 0`,
  `mseal ${RES_START.toString(16)} ${(RES_END - RES_START).toString(16)}`,
];

function freshModel(): AddressSpace {
  const as = new AddressSpace({
    mmapBase: BASE + 0x40000000,
    limits: { capIpcLock: true, capSysRawio: true },
    reserved: [{ start: RES_START, end: RES_END, prot: RX, name: '[stub]' }],
  });
  const fixed = ANON | MapFlag.MAP_NORESERVE | MapFlag.MAP_FIXED;
  for (const [s, e] of [
    [BASE, RES_START],
    [RES_END, BASE + SIZE],
  ] as const) {
    if (as.mmap(s, e - s, Prot.PROT_NONE, fixed, null, 0) !== s) throw new Error('setup failed');
  }
  as.drainHostOps();
  return as;
}

type Cmd = readonly [kind: string, ...args: number[]];

const pageAddr = fc.integer({ min: 0, max: PAGES }).map((p) => BASE + p * PAGE_SIZE);
const nearReserved = fc.integer({ min: 8, max: 18 }).map((p) => BASE + p * PAGE_SIZE);
const addr = fc.oneof(pageAddr, nearReserved);
const len = fc.integer({ min: 1, max: 8 }).map((n) => n * PAGE_SIZE);
const prot = fc.constantFrom(Prot.PROT_NONE, Prot.PROT_READ, Prot.PROT_READ | Prot.PROT_WRITE, RX);
const cmdArb: fc.Arbitrary<Cmd> = fc.oneof(
  fc.tuple(
    fc.constant('mmap'),
    addr,
    len,
    prot,
    fc.constantFrom(
      ANON | MapFlag.MAP_FIXED,
      ANON | MapFlag.MAP_FIXED_NOREPLACE,
      ANON,
      MapFlag.MAP_SHARED | MapFlag.MAP_ANONYMOUS | MapFlag.MAP_FIXED,
    ),
  ),
  fc.tuple(fc.constant('munmap'), addr, len),
  fc.tuple(fc.constant('mprotect'), addr, len, prot),
  fc.tuple(
    fc.constant('mremap'),
    addr,
    len,
    len,
    fc.constantFrom(0, Mremap.MREMAP_MAYMOVE, Mremap.MREMAP_MAYMOVE | Mremap.MREMAP_FIXED),
    addr,
  ),
  fc.tuple(
    fc.constant('madvise'),
    addr,
    len,
    fc.constantFrom(
      Madv.MADV_DONTNEED,
      Madv.MADV_FREE,
      Madv.MADV_DONTFORK,
      Madv.MADV_DOFORK,
      Madv.MADV_WIPEONFORK,
      Madv.MADV_DONTDUMP,
      Madv.MADV_DODUMP,
      Madv.MADV_RANDOM,
      Madv.MADV_WILLNEED,
    ),
  ),
  fc.tuple(fc.constant('mlock2'), addr, len, fc.constantFrom(0, Mlock.MLOCK_ONFAULT)),
  fc.tuple(fc.constant('munlock'), addr, len),
);

function run(as: AddressSpace, c: Cmd): number | LinuxError {
  const [k, a = 0, b = 0, x = 0, y = 0, z = 0] = c;
  switch (k) {
    case 'mmap':
      return as.mmap(a, b, x, y, null, 0);
    case 'munmap':
      return as.munmap(a, b);
    case 'mprotect':
      return as.mprotect(a, b, x);
    case 'mremap':
      return as.mremap(a, b, x, y, z);
    case 'madvise':
      return as.madvise(a, b, x);
    case 'mlock2':
      return as.mlock(a, b, x);
    case 'munlock':
      return as.munlock(a, b);
  }
  throw new Error(`unknown command ${k}`);
}

function line(c: Cmd): string {
  const [k, ...args] = c;
  // The helper takes a file index after mmap's flags (-1: anonymous) and an offset.
  if (k === 'mmap') return `mmap ${args.map((n) => n.toString(16)).join(' ')} -1 0`;
  return `${k} ${args.map((n) => n.toString(16)).join(' ')}`;
}

function resultText(r: number | LinuxError, isAddr: boolean): string {
  if (typeof r !== 'number') return `-${r.errno}`;
  if (isAddr && (r < BASE || r >= BASE + SIZE)) return 'OUT';
  return r.toString(16);
}

/** Maps lines of the region, the reserved range's name and shmem inode numbers left out. */
function norm(lines: readonly string[]): string[] {
  return lines.map((l) =>
    l
      .replace(/ +\[stub\]$/, ' ')
      .replace(/ 00:01 \d+ +\/dev\/zero \(deleted\)$/, ' 00:01 SHM /dev/zero (deleted)')
      .trimEnd(),
  );
}

describe('reserved ranges answer as mseal-sealed mappings do on Linux', () => {
  it('random operations around and over a reserved range: same results, errnos and maps', () => {
    fc.assert(
      fc.property(fc.array(cmdArb, { minLength: 1, maxLength: 12 }), (cmds) => {
        const steps = oracle.run([...PRELUDE, ...cmds.map(line)]);
        const as = freshModel();
        const start = steps[PRELUDE.length - 1];
        expect(start?.result).toBe('0'); // mseal worked
        const mine = (): string[] =>
          as
            .list()
            .filter((v) => v.end > BASE && v.start < BASE + SIZE)
            .map((v) => mapsLine(as, v));
        expect(norm(mine())).toEqual(norm(start?.maps ?? []));
        cmds.forEach((c, i) => {
          const step = steps[PRELUDE.length + i];
          if (!step) throw new Error('missing step');
          const isAddr = c[0] === 'mmap' || c[0] === 'mremap';
          const r = run(as, c);
          const theirs = step.result.startsWith('-')
            ? step.result
            : resultText(parseInt(step.result, 16), isAddr);
          expect(resultText(r, isAddr), `result of ${line(c)}`).toBe(theirs);
          expect(norm(mine()), `maps after ${line(c)}`).toEqual(norm(step.maps));
          // The platform's pages are never the subject of a host operation.
          for (const op of as.drainHostOps()) {
            const [s, l] = op.op === 'mremap' ? [op.newAddr, op.newLength] : [op.addr, op.length];
            const touchesReserved = s < RES_END && s + l > RES_START;
            const isAdvice = op.op === 'madvise';
            if (touchesReserved && !isAdvice)
              expect.fail(`host op over the reserved range: ${JSON.stringify(op)}`);
          }
        });
      }),
      { numRuns: 60 },
    );
  });

  it('keeps reserved ranges out of placement, fork and exec', () => {
    const top = 0x7ffffff00000;
    const as = new AddressSpace({
      mmapBase: top + 0x2000,
      reserved: [{ start: top, end: top + 0x2000, prot: RX, name: '[tsvisor]' }],
    });
    // Top-down placement starts at mmap_base, right above the reserved pages: it goes below.
    const a = as.mmap(0, PAGE_SIZE, Prot.PROT_READ, ANON, null, 0);
    expect(a).toBe(top - PAGE_SIZE);
    // A hint inside the reserved range is not honoured either.
    expect(as.mmap(top, PAGE_SIZE, Prot.PROT_READ, ANON, null, 0)).not.toBe(top);
    expect(as.mmap(top, PAGE_SIZE, Prot.PROT_READ, ANON | MapFlag.MAP_FIXED, null, 0)).toMatchObject({
      name: 'EPERM',
    });
    expect(as.munmap(top - PAGE_SIZE, 3 * PAGE_SIZE)).toMatchObject({ name: 'EPERM' });
    expect(as.findVma(top - PAGE_SIZE)).toBeDefined(); // nothing was unmapped
    const child = as.fork();
    expect(child.findVma(top)?.special).toBe('[tsvisor]');
    const fresh = as.exec();
    expect(fresh.findVma(top)?.special).toBe('[tsvisor]');
    const unmapped = fresh.drainHostOps();
    expect(unmapped.length).toBeGreaterThan(0);
    for (const op of unmapped) {
      expect(op.op).toBe('munmap');
      if (op.op === 'munmap') expect(op.addr + op.length <= top || op.addr >= top + 0x2000).toBe(true);
    }
    expect(() => new AddressSpace({ reserved: [{ start: 1, end: 4096, prot: 0, name: 'x' }] })).toThrow(
      /not a page range/,
    );
  });
});
