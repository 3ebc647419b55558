import { E } from '@tsvisor/abi';
import { describe, expect, it } from 'vitest';
import { SparseMemory } from './sparse-memory.js';
import { TASK_SIZE, userAddress } from './task-memory.js';

const enc = new TextEncoder();

describe('SparseMemory as a TaskMemory', () => {
  it('reads back what was written and faults outside mappings', () => {
    const m = new SparseMemory();
    m.map(0x10000, 8192);
    expect(m.write(0x10ffe, enc.encode('abcd'))).toBe(4);
    expect(m.read(0x10ffe, 4)).toEqual(enc.encode('abcd'));
    expect(m.read(0x20000, 1)).toBe(E.EFAULT);
    expect(m.read(0, 1)).toBe(E.EFAULT);
    expect(m.read(-5, 1)).toBe(E.EFAULT);
    expect(m.read(TASK_SIZE - 1, 2)).toBe(E.EFAULT);
    expect(m.read(0x20000, 0)).toEqual(new Uint8Array(0));
  });

  it('reports partial counts for reads and writes that run off a mapping', () => {
    const m = new SparseMemory();
    m.map(0x10000, 4096);
    const dst = new Uint8Array(100);
    expect(m.readInto(0x10fce, dst)).toBe(50);
    expect(m.read(0x10fce, 100)).toBe(E.EFAULT);
    expect(m.write(0x10fff, new Uint8Array(2))).toBe(1);
    expect(m.writeExact(0x10fff, new Uint8Array(2))).toBe(E.EFAULT);
  });

  it('honours page permissions', () => {
    const m = new SparseMemory();
    m.map(0x10000, 4096, { read: true, write: false });
    expect(m.write(0x10000, new Uint8Array(1))).toBe(E.EFAULT);
    expect(m.read(0x10000, 1)).toEqual(new Uint8Array(1));
    m.protect(0x10000, 4096, { read: false, write: false });
    expect(m.read(0x10000, 1)).toBe(E.EFAULT);
  });

  it('reads C strings across pages, up to a limit', () => {
    const m = new SparseMemory();
    m.map(0x10000, 8192);
    m.write(0x10ffc, enc.encode('hello\0'));
    expect(m.readCString(0x10ffc, 100)).toBe('hello');
    expect(m.readCString(0x10ffc, 5)).toBe(E.ENAMETOOLONG);
    expect(m.readCString(0x10ffc, 6)).toBe('hello');
    // A string that ends exactly at the end of the mapping without a NUL faults.
    m.write(0x11ffe, enc.encode('xy'));
    expect(m.readCString(0x11ffe, 100)).toBe(E.EFAULT);
    expect(m.readCString(0x90000, 100)).toBe(E.EFAULT);
  });

  it('reads iovecs and rejects bad counts and negative lengths', () => {
    const m = new SparseMemory();
    m.map(0x10000, 4096);
    const b = new Uint8Array(32);
    const v = new DataView(b.buffer);
    v.setBigUint64(0, 0x20000n, true);
    v.setBigUint64(8, 5n, true);
    v.setBigUint64(16, 0xffff_ffff_ffff_ffffn, true);
    v.setBigUint64(24, 3n, true);
    m.write(0x10000, b);
    expect(m.readIovecs(0x10000, 2)).toEqual([
      { base: 0x20000, len: 5 },
      { base: TASK_SIZE, len: 3 },
    ]);
    expect(m.readIovecs(0x10000, 1025)).toBe(E.EINVAL);
    expect(m.readIovecs(0x10000, -1)).toBe(E.EINVAL);
    expect(m.readIovecs(0x50000, 1)).toBe(E.EFAULT);
    v.setBigInt64(8, -1n, true);
    m.write(0x10000, b);
    expect(m.readIovecs(0x10000, 1)).toBe(E.EINVAL);
  });

  it('reads NULL-terminated string arrays (argv)', () => {
    const m = new SparseMemory();
    m.map(0x10000, 4096);
    m.write(0x10100, enc.encode('ls\0-l\0'));
    m.writeU64(0x10000, 0x10100n);
    m.writeU64(0x10008, 0x10103n);
    m.writeU64(0x10010, 0n);
    const arr = m.readStringArray(0x10000, 10, 100);
    expect(Array.isArray(arr) && arr.map((a) => new TextDecoder().decode(a))).toEqual(['ls', '-l']);
    expect(m.readStringArray(0x10000, 1, 100)).toBe(E.E2BIG);
    expect(m.readStringArray(0, 1, 100)).toEqual([]);
    m.writeU64(0x10008, 0x99999n);
    expect(m.readStringArray(0x10000, 10, 100)).toBe(E.EFAULT);
  });

  it('maps 64-bit pointer arguments into numbers that fault when out of range', () => {
    expect(userAddress(0x1000n)).toBe(0x1000);
    expect(userAddress(0xffff_ffff_ffff_f000n)).toBe(TASK_SIZE);
    const m = new SparseMemory();
    expect(m.read(userAddress(0xffff_8000_0000_0000n), 1)).toBe(E.EFAULT);
  });

  it('integer helpers are little-endian', () => {
    const m = new SparseMemory();
    m.map(0x10000, 4096);
    m.writeU32(0x10000, 0xdeadbeef);
    expect(m.peek(0x10000, 4)).toEqual(new Uint8Array([0xef, 0xbe, 0xad, 0xde]));
    expect(m.readU32(0x10000)).toBe(0xdeadbeef);
    expect(m.readI32(0x10000)).toBe(0xdeadbeef | 0);
    m.writeU64(0x10008, -2n);
    expect(m.readU64(0x10008)).toBe(0xffff_ffff_ffff_fffen);
  });
});
