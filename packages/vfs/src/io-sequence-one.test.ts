import { E } from '@tsvisor/abi';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { UserIOSequence } from './index.js';
import type { LinuxError } from '@tsvisor/abi';
import type { IOSequence, UserMemoryIO } from './index.js';

/** Bytes [0, mapped) exist, everything above faults. */
class FakeMemory implements UserMemoryIO {
  readonly bytes: Uint8Array;
  constructor(readonly mapped: number) {
    this.bytes = Uint8Array.from({ length: mapped }, (_, i) => (i * 7 + 3) & 0xff);
  }
  readInto(addr: number, dst: Uint8Array): number | LinuxError {
    const n = Math.max(0, Math.min(dst.length, this.mapped - addr));
    if (n === 0 && dst.length > 0) return E.EFAULT;
    dst.set(this.bytes.subarray(addr, addr + n));
    return n;
  }
  write(addr: number, src: Uint8Array): number | LinuxError {
    const n = Math.max(0, Math.min(src.length, this.mapped - addr));
    if (n === 0 && src.length > 0) return E.EFAULT;
    this.bytes.set(src.subarray(0, n), addr);
    return n;
  }
}

type Op =
  | { kind: 'in'; size: number }
  | { kind: 'out'; size: number }
  | { kind: 'zero'; size: number }
  | { kind: 'drop'; n: number }
  | { kind: 'take'; n: number };

/** Runs `ops` on a sequence; returns every observable result and the memory afterwards. */
function run(mem: FakeMemory, seq: IOSequence, ops: readonly Op[]): unknown[] {
  const seen: unknown[] = [];
  let s = seq;
  for (const op of ops) {
    if (op.kind === 'in') {
      const buf = new Uint8Array(op.size);
      seen.push(s.copyIn(buf), [...buf]);
    } else if (op.kind === 'out') {
      seen.push(s.copyOut(Uint8Array.from({ length: op.size }, (_, i) => 200 + (i & 31))));
    } else if (op.kind === 'zero') {
      seen.push(s.zeroOut(op.size));
    } else {
      s = op.kind === 'drop' ? s.dropFirst(op.n) : s.takeFirst(op.n);
    }
    seen.push(s.length);
  }
  seen.push([...mem.bytes]);
  return seen;
}

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('in' as const), size: fc.nat(80) }),
  fc.record({ kind: fc.constant('out' as const), size: fc.nat(80) }),
  fc.record({ kind: fc.constant('zero' as const), size: fc.nat(80) }),
  fc.record({ kind: fc.constant('drop' as const), n: fc.integer({ min: -2, max: 70 }) }),
  fc.record({ kind: fc.constant('take' as const), n: fc.integer({ min: -2, max: 70 }) }),
);

describe('UserIOSequence over one range', () => {
  it('behaves as the same bytes split into two ranges (copies, faults, slices)', () => {
    fc.assert(
      fc.property(
        fc.nat(64),
        fc.integer({ min: -3, max: 64 }),
        fc.nat(64),
        // Mostly all mapped, so copies move bytes; sometimes a fault part way.
        fc.oneof(fc.constant(200), fc.nat(140)),
        fc.array(opArb, { minLength: 1, maxLength: 8 }),
        (base, len, cut, mapped, ops) => {
          const one = new FakeMemory(mapped);
          const split = new FakeMemory(mapped);
          // Both parts non-empty when there are two bytes or more, so the list takes its own path.
          const k = len >= 2 ? 1 + (cut % (len - 1)) : Math.max(len, 0);
          const ranges = [
            { base, len: k },
            { base: base + k, len: len - k },
          ];
          expect(run(one, new UserIOSequence(one, { base, len }), ops)).toEqual(
            run(split, new UserIOSequence(split, ranges), ops),
          );
        },
      ),
      { numRuns: 400 },
    );
  });

  it('takes one range given alone or as a one-element list alike', () => {
    const a = new FakeMemory(32);
    const b = new FakeMemory(32);
    const ops: Op[] = [
      { kind: 'out', size: 10 },
      { kind: 'drop', n: 3 },
      { kind: 'in', size: 40 },
    ];
    expect(run(a, new UserIOSequence(a, { base: 28, len: 8 }), ops)).toEqual(
      run(b, new UserIOSequence(b, [{ base: 28, len: 8 }]), ops),
    );
  });

  it('answers EFAULT when the first byte is unmapped, and the count before a fault', () => {
    const mem = new FakeMemory(16);
    expect(new UserIOSequence(mem, { base: 20, len: 4 }).copyIn(new Uint8Array(4))).toBe(E.EFAULT);
    expect(new UserIOSequence(mem, { base: 12, len: 8 }).copyOut(new Uint8Array(8))).toBe(4);
    expect(new UserIOSequence(mem, { base: 12, len: 0 }).length).toBe(0);
  });
});
