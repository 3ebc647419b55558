/**
 * Differential test of address choice: the helper puts the region where its next top-down mmap
 * would land, so that mmap without MAP_FIXED (hint or none), mremap with MREMAP_MAYMOVE and
 * MAP_GROWSDOWN guard gaps pick addresses inside it; the model, given the same surroundings
 * (the two file pages around the region, mmap_base just above them), must pick the same ones.
 */
import { isError, MapFlag, Mremap, Prot } from '@tsvisor/abi';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AddressSpace } from './address-space.js';
import { PAGE_SIZE } from './constants.js';
import { LinuxOracle, type OracleStep } from './linux-oracle.test-util.js';
import { mapsLine } from './render.js';

const PAGES = 64;
const SIZE = PAGES * PAGE_SIZE;

interface Model {
  as: AddressSpace;
  base: number;
  steps: OracleStep[];
  i: number;
}

let oracle: LinuxOracle;
beforeAll(() => {
  oracle = new LinuxOracle(0, SIZE);
});
afterAll(() => oracle?.dispose());

/** Arguments marked `rel` are region offsets, written `@off` for the helper. */
type Arg = number | { rel: number };

class PlacedCommand implements fc.Command<Model, object> {
  constructor(
    readonly kind: 'mmap' | 'munmap' | 'mprotect' | 'mremap',
    readonly args: readonly Arg[],
  ) {}
  check(): boolean {
    return true;
  }
  run(m: Model): void {
    const step = m.steps[m.i++];
    if (!step) throw new Error('no oracle step');
    const a = this.args.map((x) => (typeof x === 'number' ? x : m.base + x.rel));
    const [p0 = 0, p1 = 0, p2 = 0, p3 = 0, p4 = 0] = a;
    let r: number | { errno: number };
    if (this.kind === 'mmap') r = m.as.mmap(p0, p1, p2, p3, null, 0);
    else if (this.kind === 'munmap') r = m.as.munmap(p0, p1);
    else if (this.kind === 'mprotect') r = m.as.mprotect(p0, p1, p2);
    else r = m.as.mremap(p0, p1, p2, p3, p4);
    const norm = (s: string): string => {
      if (s.startsWith('-')) return s;
      const n = parseInt(s, 16);
      return n >= m.base && n < m.base + SIZE ? `@${(n - m.base).toString(16)}` : n === 0 ? '0' : 'OUT';
    };
    expect(norm(isError(r) ? `-${r.errno}` : r.toString(16)), `result of ${this.toString()}`).toBe(
      norm(step.result),
    );
    const mine = m.as
      .list()
      .filter((v) => v.end > m.base && v.start < m.base + SIZE)
      .map((v) => mapsLine(m.as, v));
    expect(normShm(mine), `maps after ${this.toString()}`).toEqual(normShm(step.maps));
  }
  toString(): string {
    const text = this.args.map((x) => (typeof x === 'number' ? x.toString(16) : `@${x.rel.toString(16)}`));
    return this.kind === 'mmap' ? `mmap ${text.join(' ')} -1 0` : `${this.kind} ${text.join(' ')}`;
  }
}

/** Shared anonymous memory lives on shmem inodes whose numbers cannot be predicted. */
function normShm(lines: readonly string[]): string[] {
  return lines.map((l) =>
    l.replace(/ 00:01 \d+ +\/dev\/zero \(deleted\)$/, ' 00:01 SHM /dev/zero (deleted)'),
  );
}

const page = fc.integer({ min: 0, max: PAGES - 1 });
const len = fc.integer({ min: 1, max: 10 }).map((n) => n * PAGE_SIZE);
/**
 * A range inside the region: above it are the helper's own libraries, which a MAP_FIXED,
 * munmap or mprotect reaching past the region would destroy.
 */
const range = fc
  .tuple(page, fc.integer({ min: 1, max: 10 }))
  .map(([p, n]): [number, number] => [p * PAGE_SIZE, Math.min(n, PAGES - p) * PAGE_SIZE]);
const prot = fc.integer({ min: 0, max: 3 });
const anon = MapFlag.MAP_PRIVATE | MapFlag.MAP_ANONYMOUS;
const commandArbs = [
  // No hint: top-down.
  fc
    .tuple(
      len,
      prot,
      fc.constantFrom(
        anon,
        anon,
        anon | MapFlag.MAP_GROWSDOWN,
        anon | MapFlag.MAP_STACK,
        MapFlag.MAP_SHARED | MapFlag.MAP_ANONYMOUS,
      ),
    )
    .map(([l, p, f]) => new PlacedCommand('mmap', [0, l, p, f])),
  // A hint inside the region.
  fc
    .tuple(page, len, prot, fc.constantFrom(anon, anon, anon | MapFlag.MAP_GROWSDOWN))
    .map(([pg, l, p, f]) => new PlacedCommand('mmap', [{ rel: pg * PAGE_SIZE }, l, p, f])),
  fc
    .tuple(range, prot, fc.constantFrom(anon, anon | MapFlag.MAP_GROWSDOWN))
    .map(([[off, l], p, f]) => new PlacedCommand('mmap', [{ rel: off }, l, p, f | MapFlag.MAP_FIXED])),
  range.map(([off, l]) => new PlacedCommand('munmap', [{ rel: off }, l])),
  range.map(([off, l]) => new PlacedCommand('munmap', [{ rel: off }, l])),
  fc.tuple(range, prot).map(([[off, l], p]) => new PlacedCommand('mprotect', [{ rel: off }, l, p])),
  fc
    .tuple(range, len)
    .map(([[off, o], n]) => new PlacedCommand('mremap', [{ rel: off }, o, n, Mremap.MREMAP_MAYMOVE, 0])),
];

describe('placement differential against Linux', () => {
  it('mmap without MAP_FIXED and mremap MAYMOVE choose the addresses the host kernel chooses', () => {
    fc.assert(
      fc.property(fc.commands(commandArbs, { maxCommands: 16 }), (cmds) => {
        const { base, steps } = oracle.runPlaced([...cmds].map((c) => c.toString()));
        const as = new AddressSpace({ mmapBase: base + SIZE + PAGE_SIZE, limits: { capSysRawio: true } });
        const guard = oracle.files[1];
        for (const at of [base - PAGE_SIZE, base + SIZE]) {
          if (
            as.mmap(at, PAGE_SIZE, Prot.PROT_NONE, MapFlag.MAP_PRIVATE | MapFlag.MAP_FIXED, guard, 0) !== at
          )
            throw new Error('guard');
        }
        if (
          as.mmap(base, SIZE, Prot.PROT_NONE, anon | MapFlag.MAP_NORESERVE | MapFlag.MAP_FIXED, null, 0) !==
          base
        )
          throw new Error('reserve');
        fc.modelRun(() => ({ model: { as, base, steps, i: 0 }, real: {} }), cmds);
      }),
      { numRuns: Number(process.env['MM_DIFF_RUNS'] ?? 40) },
    );
  });
});
