import { closeSync, fstatSync, readSync, readlinkSync, writeSync } from 'node:fs';
import { E } from '@tsvisor/abi';
import { describe, expect, it } from 'vitest';
import { memfdAddSeals, memfdCreate } from './index.js';

describe('memfdCreate', () => {
  it('makes a memory file that node:fs reads and writes, and that takes seals', () => {
    const fd = memfdCreate('tsvisor-test');
    if (typeof fd !== 'number') throw new Error(String(fd));
    try {
      expect(readlinkSync(`/proc/self/fd/${fd}`)).toBe('/memfd:tsvisor-test (deleted)');
      expect(writeSync(fd, Buffer.from('hello'), 0, 5, 10)).toBe(5);
      expect(fstatSync(fd).size).toBe(15);
      const buf = Buffer.alloc(5);
      expect(readSync(fd, buf, 0, 5, 10)).toBe(5);
      expect(buf.toString()).toBe('hello');
      expect(memfdAddSeals(fd, 4 /* F_SEAL_GROW */)).toBeUndefined();
      expect(() => writeSync(fd, Buffer.from('x'), 0, 1, 100)).toThrow(/EPERM/);
      expect(memfdAddSeals(fd, 1 /* F_SEAL_SEAL */)).toBeUndefined();
      expect(memfdAddSeals(fd, 2)).toBe(E.EPERM);
    } finally {
      closeSync(fd);
    }
  });
});
