import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Assembler } from './assembler.js';
import { PacketBuffer, RingBuffer } from './ring-buffer.js';

describe('RingBuffer', () => {
  it('behaves as a FIFO of bytes against an array model', () => {
    const op = fc.oneof(
      fc.record({ enq: fc.uint8Array({ maxLength: 20 }) }),
      fc.record({ deq: fc.integer({ min: 0, max: 20 }) }),
      fc.record({ peekAt: fc.integer({ min: 0, max: 20 }), len: fc.integer({ min: 0, max: 20 }) }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 32 }), fc.array(op, { maxLength: 60 }), (cap, ops) => {
        const ring = new RingBuffer(new Uint8Array(cap));
        let model: number[] = [];
        for (const o of ops) {
          if ('enq' in o) {
            const n = ring.enqueue(o.enq);
            expect(n).toBe(Math.min(o.enq.length, cap - model.length));
            model.push(...o.enq.subarray(0, n));
          } else if ('deq' in o) {
            const out = new Uint8Array(o.deq);
            const n = ring.dequeue(out);
            expect(Array.from(out.subarray(0, n))).toEqual(model.slice(0, n));
            model = model.slice(n);
          } else {
            const out = new Uint8Array(o.len);
            const n = ring.read(o.peekAt, out);
            expect(Array.from(out.subarray(0, n))).toEqual(model.slice(o.peekAt, o.peekAt + o.len));
          }
          expect(ring.length).toBe(model.length);
        }
      }),
    );
  });
  it('writes past the tail and commits later (reassembly)', () => {
    const ring = new RingBuffer(new Uint8Array(8));
    ring.enqueue(Uint8Array.of(1, 2, 3, 4, 5, 6));
    ring.discard(5);
    expect(ring.writeUnallocated(2, Uint8Array.of(9, 9, 9, 9, 9, 9, 9, 9))).toBe(5); // clipped at free space
    expect(ring.writeUnallocated(0, Uint8Array.of(7, 8))).toBe(2);
    ring.commit(4);
    const out = new Uint8Array(8);
    expect(ring.dequeue(out)).toBe(5);
    expect(Array.from(out.subarray(0, 5))).toEqual([6, 7, 8, 9, 9]);
  });
});

describe('PacketBuffer', () => {
  it('keeps datagram boundaries, truncates on dequeue and refuses when full', () => {
    const q = new PacketBuffer<string>(2, new Uint8Array(6));
    expect(q.enqueue('a', Uint8Array.of(1, 2, 3))).toBe(true);
    expect(q.enqueue('b', Uint8Array.of(4, 5, 6, 7))).toBe(false); // payload full
    expect(q.enqueue('b', Uint8Array.of(4, 5))).toBe(true);
    expect(q.enqueue('c', Uint8Array.of())).toBe(false); // slots full
    const out = new Uint8Array(2);
    expect(q.dequeue(out)).toEqual({ meta: 'a', len: 3, truncated: true });
    expect(Array.from(out)).toEqual([1, 2]);
    expect(q.enqueue('c', Uint8Array.of(8, 9, 10, 11))).toBe(true); // wraps around the ring
    expect(q.dequeue(out)).toEqual({ meta: 'b', len: 2, truncated: false });
    const big = new Uint8Array(8);
    expect(q.dequeue(big)).toEqual({ meta: 'c', len: 4, truncated: false });
    expect(Array.from(big.subarray(0, 4))).toEqual([8, 9, 10, 11]);
    expect(q.dequeue(big)).toBeUndefined();
  });
});

describe('Assembler', () => {
  it('reports contiguous bytes like a bitmap model, within the range limit', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 60 }), fc.integer({ min: 1, max: 10 })), {
          maxLength: 30,
        }),
        (segs) => {
          const asm = new Assembler(4);
          const have = new Array<boolean>(100).fill(false);
          let front = 0;
          for (const [off, size] of segs) {
            if (off === 0) {
              // in-order delivery of `size` bytes at the contiguous point
              for (let i = 0; i < size; i++) have[front + i] = true;
              const extra = asm.advance(size);
              let expectFront = front + size;
              while (have[expectFront]) expectFront++;
              expect(front + size + extra).toBe(expectFront);
              front = expectFront;
            } else if (asm.add(off, size)) {
              for (let i = 0; i < size; i++) have[front + off + i] = true;
            }
            expect(asm.held().length).toBeLessThanOrEqual(4);
          }
        },
      ),
    );
  });
});
