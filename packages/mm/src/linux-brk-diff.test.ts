/**
 * Differential test of brk(2): a real process moves its program break into an empty test region
 * (prctl PR_SET_MM_MAP), then runs random brk calls mixed with fixed mmap/munmap/mprotect there;
 * the model must return the same breaks and show the same maps lines, [heap] included.
 */
import { isError, MapFlag } from '@tsvisor/abi';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AddressSpace } from './address-space.js';
import { PAGE_SIZE } from './constants.js';
import { LinuxOracle, type OracleStep } from './linux-oracle.test-util.js';
import { mapsLine } from './render.js';

// Above the test program's data segment, as Linux requires of start_brk... and far from libraries.
const BASE = 0x600000000000;
const PAGES = 64;
const SIZE = PAGES * PAGE_SIZE;

interface Model {
  as: AddressSpace;
  steps: OracleStep[];
  i: number;
}

let oracle: LinuxOracle;
beforeAll(() => {
  oracle = new LinuxOracle(BASE, SIZE);
});
afterAll(() => oracle?.dispose());

class BrkCommand implements fc.Command<Model, object> {
  constructor(
    readonly kind: 'brk' | 'mmap' | 'munmap' | 'mprotect',
    readonly args: readonly number[],
  ) {}
  check(): boolean {
    return true;
  }
  run(m: Model): void {
    const step = m.steps[m.i++];
    if (!step) throw new Error('no oracle step');
    const [a = 0, b = 0, c = 0] = this.args;
    let r: number | { errno: number };
    if (this.kind === 'brk') r = m.as.brk(a);
    else if (this.kind === 'mmap')
      r = m.as.mmap(a, b, c, MapFlag.MAP_PRIVATE | MapFlag.MAP_ANONYMOUS | MapFlag.MAP_FIXED, null, 0);
    else if (this.kind === 'munmap') r = m.as.munmap(a, b);
    else r = m.as.mprotect(a, b, c);
    const text = isError(r) ? `-${r.errno}` : r.toString(16);
    expect(text, `result of ${this.toString()}`).toBe(step.result);
    const mine = m.as
      .list()
      .filter((v) => v.end > BASE && v.start < BASE + SIZE)
      .map((v) => mapsLine(m.as, v));
    expect(mine, `maps after ${this.toString()}`).toEqual(step.maps);
  }
  toString(): string {
    if (this.kind === 'mmap')
      return `mmap ${this.args[0]?.toString(16)} ${this.args[1]?.toString(16)} ${this.args[2]?.toString(16)} 32 -1 0`;
    return `${this.kind} ${this.args.map((x) => x.toString(16)).join(' ')}`;
  }
}

const page = fc.integer({ min: 0, max: PAGES - 1 });
const brkAddr = fc.oneof(
  { weight: 10, arbitrary: fc.integer({ min: 0, max: SIZE }).map((o) => BASE + o) },
  { weight: 3, arbitrary: page.map((p) => BASE + p * PAGE_SIZE) },
  { weight: 1, arbitrary: fc.constant(0) },
);
const len = fc.integer({ min: 1, max: 8 }).map((n) => n * PAGE_SIZE);
const commandArbs = [
  brkAddr.map((a) => new BrkCommand('brk', [a])),
  brkAddr.map((a) => new BrkCommand('brk', [a])),
  brkAddr.map((a) => new BrkCommand('brk', [a])),
  fc
    .tuple(page, len, fc.integer({ min: 0, max: 7 }))
    .map(([p, l, prot]) => new BrkCommand('mmap', [BASE + p * PAGE_SIZE, l, prot])),
  fc.tuple(page, len).map(([p, l]) => new BrkCommand('munmap', [BASE + p * PAGE_SIZE, l])),
  fc
    .tuple(page, len, fc.integer({ min: 0, max: 7 }))
    .map(([p, l, prot]) => new BrkCommand('mprotect', [BASE + p * PAGE_SIZE, l, prot])),
];

describe('brk differential against Linux', () => {
  it('brk sequences give the same breaks and maps as the host kernel', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 16 }),
        fc.commands(commandArbs, { maxCommands: 14 }),
        (startPage, cmds) => {
          const start = BASE + startPage * PAGE_SIZE;
          const steps = oracle.run([
            `munmap ${BASE.toString(16)} ${SIZE.toString(16)}`,
            `brkinit ${start.toString(16)}`,
            ...[...cmds].map((c) => c.toString()),
          ]);
          expect(steps[1]?.result, 'prctl(PR_SET_MM_MAP) in the helper').toBe('0');
          const as = new AddressSpace();
          as.initBrk(start);
          fc.modelRun(() => ({ model: { as, steps: steps.slice(2), i: 0 }, real: {} }), cmds);
        },
      ),
      { numRuns: Number(process.env['MM_DIFF_RUNS'] ?? 40) },
    );
  });
});
