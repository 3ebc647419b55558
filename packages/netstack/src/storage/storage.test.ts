import { E, type LinuxError } from '@tsvisor/abi';
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

describe('RingBuffer spans and in-place copies', () => {
  /** A copy that moves at most `limit` bytes (then "faults"), or fails at once when limit is 0. */
  const limited = (src: Uint8Array, limit: number, into: boolean) => {
    let at = 0;
    return (span: Uint8Array): number | LinuxError => {
      const n = Math.min(span.length, limit - at);
      if (n <= 0) return E.EFAULT;
      if (into) span.set(src.subarray(at, at + n));
      else src.set(span.subarray(0, n), at);
      at += n;
      return n;
    };
  };

  it('behaves as a FIFO of bytes against an array model, growing its storage as it fills', () => {
    // `resize` changes the capacity (SO_SNDBUF/SO_RCVBUF on a live socket), below what is
    // queued too: then nothing fits until the queue drains below it.
    const op = fc.oneof(
      fc.record({ resize: fc.oneof(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 70_000 })) }),
      fc.record({ fill: fc.integer({ min: 0, max: 40_000 }), limit: fc.integer({ min: 0, max: 40_000 }) }),
      fc.record({
        drain: fc.integer({ min: 0, max: 40_000 }),
        limit: fc.integer({ min: 0, max: 40_000 }),
        peek: fc.boolean(),
      }),
      fc.record({ enq: fc.integer({ min: 0, max: 40_000 }) }),
    );
    const caps = fc.oneof(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 16_000, max: 70_000 }));
    fc.assert(
      fc.property(caps, fc.array(op, { maxLength: 25 }), (cap, ops) => {
        const ring = new RingBuffer(cap); // storage allocated as bytes arrive
        let limit = cap;
        const free = (): number => Math.max(0, limit - model.length);
        let model: number[] = [];
        let seq = 0;
        const bytes = (n: number): Uint8Array => Uint8Array.from({ length: n }, () => seq++ & 0xff);
        for (const o of ops) {
          if ('resize' in o) {
            ring.resize(o.resize);
            limit = o.resize;
          } else if ('fill' in o) {
            const src = bytes(o.fill);
            const want = Math.min(o.fill, free());
            const r = ring.fillFrom(o.fill, limited(src, o.limit, true));
            const moved = Math.min(want, o.limit);
            if (moved === 0 && want > 0) expect(r).toBe(E.EFAULT);
            else expect(r).toBe(moved);
            model.push(...src.subarray(0, moved));
          } else if ('drain' in o) {
            const out = new Uint8Array(o.drain);
            const want = Math.min(o.drain, model.length);
            const r = ring.drainTo(o.drain, limited(out, o.limit, false), !o.peek);
            const moved = Math.min(want, o.limit);
            if (moved === 0 && want > 0) expect(r).toBe(E.EFAULT);
            else expect(r).toBe(moved);
            expect(Array.from(out.subarray(0, moved))).toEqual(model.slice(0, moved));
            if (!o.peek) model = model.slice(moved);
          } else {
            const n = ring.enqueue(bytes(o.enq));
            expect(n).toBe(Math.min(o.enq, free()));
            for (let i = 0; i < n; i++) model.push((seq - o.enq + i) & 0xff);
          }
          expect(ring.length).toBe(model.length);
          expect(ring.window).toBe(free());
          expect(ring.isFull()).toBe(free() === 0);
          // The spans cover the queued bytes and the free space, each in at most two pieces.
          const first = ring.readableSpan(0);
          const second = ring.readableSpan(first.length);
          expect(first.length + second.length).toBe(model.length);
          expect(Array.from(first)).toEqual(model.slice(0, first.length));
          expect(Array.from(second)).toEqual(model.slice(first.length));
          // The writable pieces are the free space, however large the storage grew before.
          const w1 = ring.writableSpan(0);
          expect(w1.length + ring.writableSpan(w1.length).length).toBe(free());
        }
      }),
      { numRuns: 60 },
    );
  });

  it('keeps bytes written past the tail (out-of-order data) when the storage grows', () => {
    const ring = new RingBuffer(100_000);
    const data = Uint8Array.from({ length: 30_000 }, (_, i) => (i * 13) & 0xff);
    expect(ring.enqueue(data.subarray(0, 10))).toBe(10);
    const out = new Uint8Array(30_000);
    expect(ring.dequeue(out.subarray(0, 5))).toBe(5); // the head is no longer at the start
    // Queued: data[5..10). Bytes 15 000 past the tail (data[15 010...]) make the storage grow.
    expect(ring.writeUnallocated(15_000, data.subarray(15_010, 20_010))).toBe(5_000);
    expect(ring.writeUnallocated(0, data.subarray(10, 15_010))).toBe(15_000); // the hole
    ring.commit(20_000);
    expect(ring.length).toBe(20_005);
    expect(ring.dequeue(out)).toBe(20_005);
    expect(Buffer.compare(out.subarray(0, 20_005), data.subarray(5, 20_010))).toBe(0);
  });

  it('a writable span is free space in place: written and committed, it reads back', () => {
    const ring = new RingBuffer(new Uint8Array(8));
    ring.enqueue(Uint8Array.of(1, 2, 3, 4, 5, 6));
    ring.discard(4);
    const span = ring.writableSpan(0);
    expect(span.length).toBe(2); // up to the end of the storage; the rest wraps
    span.set([7, 8]);
    ring.commit(2);
    const wrapped = ring.writableSpan(0);
    expect(wrapped.length).toBe(4);
    wrapped.set([9, 10, 11, 12]);
    ring.commit(4);
    expect(ring.isFull()).toBe(true);
    expect(ring.writableSpan(0).length).toBe(0);
    expect(Array.from(ring.readableSpan(0))).toEqual([5, 6, 7, 8]);
    expect(Array.from(ring.readableSpan(4))).toEqual([9, 10, 11, 12]);
  });

  it('allocates nothing for a ring that never holds a byte', () => {
    const ring = new RingBuffer(6 << 20);
    expect(ring.readableSpan(0).length).toBe(0);
    expect(ring.fillFrom(0, () => E.EFAULT)).toBe(0);
    expect(ring.fillFrom(100, () => E.EFAULT)).toBe(E.EFAULT);
    expect(ring.writableSpan(0, 10).buffer.byteLength).toBe(16384); // the first storage, not 6 MiB
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

  it('resize takes more datagrams and bytes, keeping the queued ones in order', () => {
    const q = new PacketBuffer<number>(100, new Uint8Array(8));
    const out = new Uint8Array(4);
    for (let i = 0; i < 8; i++) expect(q.enqueue(i, Uint8Array.of(i))).toBe(true);
    expect(q.enqueue(8, Uint8Array.of(8))).toBe(false); // the bytes
    q.resize(200, 200);
    // Past the ring's storage and the first slots, from a head that is not at their start.
    for (let i = 0; i < 3; i++) q.dequeue(out);
    for (let i = 8; i < 150; i++) expect(q.enqueue(i, Uint8Array.of(i))).toBe(true);
    const got: number[] = [];
    for (let d = q.dequeue(out); d; d = q.dequeue(out)) got.push(d.meta * 1000 + out[0]!);
    expect(got).toEqual(Array.from({ length: 147 }, (_, k) => (k + 3) * 1001));
    // A smaller limit keeps what is queued and takes nothing past it.
    for (let i = 0; i < 3; i++) q.enqueue(i, Uint8Array.of(i));
    q.resize(2, 200);
    expect([q.length, q.enqueue(3, Uint8Array.of(3))]).toEqual([3, false]);
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
