import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VmaTree } from './vma-tree.js';

interface S {
  start: number;
  end: number;
}

/** The obvious answers, by scanning a sorted array. */
function refIndexAfter(a: readonly S[], addr: number): number {
  const i = a.findIndex((s) => s.end > addr);
  return i < 0 ? a.length : i;
}
function refLastGapBefore(a: readonly S[], limit: number, len: number): number {
  for (let i = a.length - 1; i >= 0; i--) {
    const s = a[i] as S;
    const predEnd = i > 0 ? (a[i - 1] as S).end : 0;
    if (s.start <= limit && s.start - predEnd >= len) return i;
  }
  return -1;
}
function refFirstGapAfter(a: readonly S[], from: number, len: number): number {
  for (let i = 0; i < a.length; i++) {
    const s = a[i] as S;
    const predEnd = i > 0 ? (a[i - 1] as S).end : 0;
    if (predEnd >= from && s.start - predEnd >= len) return i;
  }
  return -1;
}

type Op =
  | { k: 'insert'; at: number; len: number }
  | { k: 'remove'; i: number; n: number }
  | { k: 'grow'; i: number; by: number }
  | { k: 'shrink'; i: number; by: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ k: fc.constant('insert' as const), at: fc.nat(400), len: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ k: fc.constant('remove' as const), i: fc.nat(60), n: fc.integer({ min: 0, max: 3 }) }),
  fc.record({ k: fc.constant('grow' as const), i: fc.nat(60), by: fc.integer({ min: 1, max: 4 }) }),
  fc.record({ k: fc.constant('shrink' as const), i: fc.nat(60), by: fc.integer({ min: 1, max: 4 }) }),
);

/** Applies one operation to the tree and the reference array alike (skipping impossible ones). */
function apply(tree: VmaTree<S>, ref: S[], op: Op): void {
  switch (op.k) {
    case 'insert': {
      const s = { start: op.at, end: op.at + op.len };
      if (ref.some((r) => r.start < s.end && s.start < r.end)) return;
      const i = refIndexAfter(ref, s.start);
      tree.splice(i, 0, s);
      ref.splice(i, 0, s);
      return;
    }
    case 'remove': {
      if (ref.length === 0) return;
      const i = op.i % ref.length;
      const removed = tree.splice(i, op.n);
      expect(removed).toEqual(ref.splice(i, op.n));
      return;
    }
    case 'grow': {
      // Edit in place, as the address space does when a VMA grows into the hole after it.
      if (ref.length === 0) return;
      const i = op.i % ref.length;
      const s = ref[i] as S;
      const next = ref[i + 1];
      const end = Math.min(s.end + op.by, next ? next.start : Infinity);
      s.end = end;
      tree.touch(s);
      return;
    }
    case 'shrink': {
      if (ref.length === 0) return;
      const i = op.i % ref.length;
      const s = ref[i] as S;
      if (s.end - s.start <= op.by) return;
      s.start += op.by;
      tree.touch(s);
      return;
    }
  }
}

describe('VmaTree', () => {
  it('answers every query as a scan of a sorted array would, after any edit sequence', () => {
    fc.assert(
      fc.property(
        fc.array(opArb, { maxLength: 150 }),
        fc.array(fc.tuple(fc.nat(420), fc.integer({ min: 1, max: 30 })), { minLength: 1, maxLength: 8 }),
        fc.constantFrom(4, 5, 8, 64),
        (ops, queries, max) => {
          const tree = new VmaTree<S>(max);
          const ref: S[] = [];
          for (const op of ops) {
            apply(tree, ref, op);
            tree.check();
          }
          expect(tree.toArray()).toEqual(ref);
          expect(tree.length).toBe(ref.length);
          for (let i = -1; i <= ref.length; i++) expect(tree.at(i)).toBe(ref[i]);
          for (const [addr, len] of queries) {
            expect(tree.indexAfter(addr)).toBe(refIndexAfter(ref, addr));
            expect(tree.after(addr)).toBe(ref[refIndexAfter(ref, addr)]);
            expect(tree.lastGapBefore(addr, len)).toBe(refLastGapBefore(ref, addr, len));
            expect(tree.firstGapAfter(addr, len)).toBe(refFirstGapAfter(ref, addr, len));
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('stays shallow: 100 000 appends and lookups do not overflow the stack', () => {
    const tree = new VmaTree<S>();
    for (let i = 0; i < 100_000; i++) tree.push({ start: i * 2, end: i * 2 + 1 });
    expect(tree.length).toBe(100_000);
    expect(tree.indexAfter(150_001)).toBe(75_001);
    expect(tree.lastGapBefore(Infinity, 2)).toBe(-1);
    expect(tree.lastGapBefore(Infinity, 1)).toBe(99_999);
    expect(tree.firstGapAfter(1000, 1)).toBe(501);
  });

  it('refuses to refresh a span it does not hold', () => {
    const tree = new VmaTree<S>();
    tree.push({ start: 0, end: 1 });
    expect(() => tree.touch({ start: 0, end: 1 })).toThrow(/not in the tree/);
  });
});
