import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BufferIOSequence, Pipe, WOULD_BLOCK } from './index.js';

/** One step on a pipe: a write of `n` bytes starting at `seed`, or a read / take of up to `n`. */
type Step = { op: 'write' | 'read' | 'take'; n: number; seed: number };

const bytes = (n: number, seed: number): Uint8Array =>
  Uint8Array.from({ length: n }, (_, i) => (seed + i) & 0xff);

/** Runs `steps` through the IOSequence paths (readIO/writeIO), the reference. */
function throughSequences(steps: readonly Step[], capacity: number): unknown[] {
  const p = new Pipe(capacity);
  p.readers = p.writers = 1;
  return steps.map(({ op, n, seed }) => {
    if (op === 'write') return [p.writeIO(new BufferIOSequence([bytes(n, seed)])), p.length];
    const dst = new Uint8Array(n);
    const r = p.readIO(new BufferIOSequence([dst]));
    return [r, [...dst.subarray(0, typeof r === 'number' ? r : 0)], p.length];
  });
}

/** The same steps through write/read and, for `take`, views + consume (what splice does). */
function throughBuffers(steps: readonly Step[], capacity: number): unknown[] {
  const p = new Pipe(capacity);
  p.readers = p.writers = 1;
  return steps.map(({ op, n, seed }) => {
    if (op === 'write') return [p.write(bytes(n, seed)), p.length];
    if (op === 'read') {
      const dst = new Uint8Array(n);
      const r = p.read(dst);
      return [r, [...dst.subarray(0, typeof r === 'number' ? r : 0)], p.length];
    }
    const views = p.views(n);
    const got = views.flatMap((v) => [...v]);
    // Nothing to take: what a read of the same size answers (an empty pipe with a writer).
    if (got.length === 0) return [n === 0 ? 0 : WOULD_BLOCK, [], p.length];
    expect(p.consume(got.length)).toBe(got.length);
    return [got.length, got, p.length];
  });
}

describe('pipe buffers of this process', () => {
  it('write/read and views/consume move the same bytes with the same counts as the sequence paths', () => {
    const step = fc.record({
      op: fc.constantFrom<Step['op']>('write', 'read', 'take'),
      n: fc.oneof(fc.integer({ min: 0, max: 64 }), fc.integer({ min: 4000, max: 20000 })),
      seed: fc.integer({ min: 0, max: 255 }),
    });
    fc.assert(
      fc.property(fc.array(step, { maxLength: 40 }), fc.constantFrom(4096, 16384, 65536), (steps, cap) => {
        expect(throughBuffers(steps, cap)).toEqual(throughSequences(steps, cap));
      }),
      { numRuns: 300 },
    );
  });

  it('views neither copy nor consume, and consume frees pages for writers', () => {
    const p = new Pipe(8192);
    p.readers = p.writers = 1;
    expect(p.write(bytes(8192, 1))).toBe(8192);
    expect(p.write(bytes(1, 0))).toBe(WOULD_BLOCK); // full
    const v = p.views(5000);
    expect(v.map((x) => x.length)).toEqual([4096, 904]);
    expect(p.length).toBe(8192);
    expect(p.consume(4096)).toBe(4096);
    expect(p.write(bytes(4096, 9))).toBe(4096);
    expect(p.consume(1e9)).toBe(8192);
    expect(p.consume(5)).toBe(0);
    expect(p.views(10)).toEqual([]);
  });
});
