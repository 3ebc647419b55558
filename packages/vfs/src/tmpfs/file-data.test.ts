import { mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FileData } from './file-data.js';

describe('FileData', () => {
  it('behaves like a flat byte array under random writes, reads and truncates', () => {
    const op = fc.oneof(
      fc.record({
        kind: fc.constant('w' as const),
        off: fc.integer({ min: 0, max: 300000 }),
        len: fc.integer({ min: 0, max: 70000 }),
        b: fc.integer({ min: 1, max: 255 }),
      }),
      fc.record({ kind: fc.constant('t' as const), size: fc.integer({ min: 0, max: 300000 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 20 }), fc.integer({ min: 0, max: 400000 }), (ops, readAt) => {
        const d = new FileData();
        let model = new Uint8Array(0);
        for (const o of ops) {
          if (o.kind === 'w') {
            d.write(new Uint8Array(o.len).fill(o.b), o.off);
            if (o.off + o.len > model.length) {
              const m = new Uint8Array(o.off + o.len);
              m.set(model);
              model = m;
            }
            model.fill(o.b, o.off, o.off + o.len);
          } else {
            d.truncate(o.size);
            const m = new Uint8Array(o.size);
            m.set(model.subarray(0, o.size));
            model = m;
          }
        }
        expect(d.size).toBe(model.length);
        const buf = new Uint8Array(80000).fill(9);
        const n = d.read(buf, readAt);
        const want = model.subarray(readAt, readAt + 80000);
        expect(n).toBe(want.length);
        expect(Buffer.from(buf.subarray(0, n)).equals(Buffer.from(want))).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('keeps large chunk-aligned writes and appends (shared slabs) exact across truncates', () => {
    const CH = 65536;
    const op = fc.oneof(
      fc.record({
        kind: fc.constant('w' as const),
        chunk: fc.integer({ min: 0, max: 40 }),
        jitter: fc.constantFrom(0, 0, 1, 4096),
        len: fc.integer({ min: CH, max: 3 * CH + 5 }),
        b: fc.integer({ min: 1, max: 255 }),
      }),
      fc.record({
        kind: fc.constant('a' as const),
        chunks: fc.integer({ min: 1, max: 20 }),
        b: fc.integer({ min: 1, max: 255 }),
      }),
      fc.record({ kind: fc.constant('t' as const), size: fc.integer({ min: 0, max: 40 * CH }) }),
      fc.record({
        kind: fc.constant('p' as const),
        off: fc.integer({ min: 0, max: 60 * CH }),
        len: fc.integer({ min: 1, max: 30 * CH }),
      }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 12 }), fc.nat(), fc.nat(), (ops, r1, r2) => {
        const d = new FileData();
        let model = new Uint8Array(0);
        const put = (off: number, len: number, b: number): void => {
          d.write(new Uint8Array(len).fill(b), off);
          if (off + len > model.length) {
            const m = new Uint8Array(off + len);
            m.set(model);
            model = m;
          }
          model.fill(b, off, off + len);
        };
        for (const o of ops) {
          if (o.kind === 'w') put(o.chunk * CH + o.jitter, o.len, o.b);
          else if (o.kind === 'a') put(model.length, o.chunks * CH, o.b);
          else if (o.kind === 'p') {
            d.punch(o.off, o.len);
            model.fill(0, o.off, o.off + o.len);
          } else {
            d.truncate(o.size);
            const m = new Uint8Array(o.size);
            m.set(model.subarray(0, o.size));
            model = m;
          }
        }
        expect(d.size).toBe(model.length);
        const buf = new Uint8Array(model.length);
        expect(d.read(buf, 0)).toBe(model.length);
        expect(Buffer.from(buf).equals(Buffer.from(model))).toBe(true);
        // A read starting and ending anywhere (copies that span several chunks of a slab).
        const at = model.length === 0 ? 0 : r1 % model.length;
        const part = new Uint8Array(model.length === 0 ? 0 : r2 % (model.length - at + 1));
        expect(d.read(part, at)).toBe(Math.min(part.length, Math.max(0, model.length - at)));
        expect(Buffer.from(part).equals(Buffer.from(model.subarray(at, at + part.length)))).toBe(true);
      }),
      { numRuns: 60 },
    );
  });

  it('grows slabs geometrically for sequential writes and gives memory back on truncate and punch', () => {
    const MIB = 1 << 20;
    const d = new FileData();
    const block = new Uint8Array(MIB);
    for (let i = 0; i < 64; i++) d.write(block.fill(i + 1), i * MIB);
    // Doubling slabs: at most twice the data (1+1+2+4+...+64 MiB), not one buffer per write.
    expect(d.heldBytes()).toBeGreaterThanOrEqual(64 * MIB);
    expect(d.heldBytes()).toBeLessThanOrEqual(128 * MIB);
    const back = new Uint8Array(64 * MIB);
    expect(d.read(back, 0)).toBe(64 * MIB);
    for (let i = 0; i < 64; i++) expect(back[i * MIB + 12345]).toBe(i + 1);
    // Truncating to 3 MiB keeps less than half of the big slabs: their chunks are copied out.
    d.truncate(3 * MIB + 100);
    expect(d.heldBytes()).toBeLessThanOrEqual(5 * MIB);
    expect(d.read(back, 0)).toBe(3 * MIB + 100);
    for (let i = 0; i < 3; i++) expect(back[i * MIB + 777]).toBe(i + 1);
    expect(back[3 * MIB + 99]).toBe(4);
    // Punching the second half of a file: slabs left empty go, and the one slab keeping a
    // sixteenth of its chunks gives them an allocation of their own.
    const e = new FileData();
    for (let i = 0; i < 48; i++) e.write(block.fill(i + 1), i * MIB);
    expect(e.heldBytes()).toBeGreaterThan(60 * MIB);
    e.punch(16 * MIB, 40 * MIB);
    expect(e.heldBytes()).toBeGreaterThanOrEqual(16 * MIB);
    expect(e.heldBytes()).toBeLessThanOrEqual(17 * MIB);
    expect(e.size).toBe(48 * MIB);
    expect(e.pages()).toBe((16 * MIB) / 4096);
    const b2 = new Uint8Array(48 * MIB).fill(99);
    expect(e.read(b2, 0)).toBe(48 * MIB);
    for (let i = 0; i < 48; i++)
      expect([i, b2[i * MIB], b2[i * MIB + MIB - 1]]).toEqual(i < 16 ? [i, i + 1, i + 1] : [i, 0, 0]);
  });

  it('holds a huge sparse file cheaply and finds its data', () => {
    const d = new FileData();
    const far = 2 ** 50;
    d.write(new Uint8Array([1, 2, 3]), far);
    expect(d.size).toBe(far + 3);
    expect(d.pages()).toBe(1);
    expect(d.nextData(0)).toBe(far);
    expect(d.nextHole(0)).toBe(0);
    expect(d.nextHole(far)).toBe(far + 3);
    const buf = new Uint8Array(4);
    expect(d.read(buf, far - 1)).toBe(4);
    expect([...buf]).toEqual([0, 1, 2, 3]);
    d.truncate(10);
    expect(d.pages()).toBe(0);
    expect(d.nextData(0)).toBe(-1);
  });
});

describe('FileData in host memory', () => {
  it('reads, writes, truncates and punches like the in-memory form, moved at any point', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsvisor-filedata-'));
    let files = 0;
    const op = fc.oneof(
      fc.record({
        kind: fc.constant('w' as const),
        off: fc.integer({ min: 0, max: 200000 }),
        len: fc.integer({ min: 0, max: 70000 }),
        b: fc.integer({ min: 1, max: 255 }),
      }),
      fc.record({ kind: fc.constant('t' as const), size: fc.integer({ min: 0, max: 200000 }) }),
      fc.record({
        kind: fc.constant('p' as const),
        off: fc.integer({ min: 0, max: 200000 }),
        len: fc.integer({ min: 1, max: 70000 }),
      }),
    );
    try {
      fc.assert(
        fc.property(fc.array(op, { maxLength: 12 }), fc.nat(12), fc.nat(250000), (ops, moveAt, readAt) => {
          const mem = new FileData();
          const host = new FileData();
          ops.forEach((o, i) => {
            if (i === moveAt)
              expect(host.moveToHost(openSync(join(dir, `f${files++}`), 'w+'))).toBeUndefined();
            for (const d of [mem, host]) {
              if (o.kind === 'w') d.write(new Uint8Array(o.len).fill(o.b), o.off);
              else if (o.kind === 't') d.truncate(o.size);
              else d.punch(o.off, o.len);
            }
          });
          if (host.hostFd === null) host.moveToHost(openSync(join(dir, `f${files++}`), 'w+'));
          expect(host.size).toBe(mem.size);
          const a = new Uint8Array(5000).fill(9);
          const b = new Uint8Array(5000).fill(9);
          expect(host.read(a, readAt)).toBe(mem.read(b, readAt));
          expect(a).toEqual(b);
        }),
        { numRuns: 60 },
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
