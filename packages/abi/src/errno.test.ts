import { describe, expect, it } from 'vitest';
import { E, Errno, allErrnos, errnoByName, errnoName, errorOf, isError } from './errno.js';

describe('errno', () => {
  it('has one preallocated error per number', () => {
    expect(errorOf(Errno.ENOENT)).toBe(E.ENOENT);
    expect(E.ENOENT.errno).toBe(2);
    expect(E.ENOENT.ret).toBe(-2);
    expect(E.ENOENT.message).toBe('No such file or directory');
    expect(Object.isFrozen(E.EBADF)).toBe(true);
  });

  it('covers 1..133 without gaps except the numbers Linux leaves unused (41, 58)', () => {
    const numbers = allErrnos().map((e) => e.errno);
    const expected = [];
    for (let n = 1; n <= 133; n++) if (n !== 41 && n !== 58) expected.push(n);
    expect(numbers).toEqual(expected);
  });

  it('maps names and aliases', () => {
    expect(errnoName(11)).toBe('EAGAIN');
    expect(errnoByName('EWOULDBLOCK')).toBe(11);
    expect(errnoByName('ENOTSUP')).toBe(95);
    expect(errnoByName('ENOPE')).toBeUndefined();
  });

  it('gives unknown numbers glibc text and rejects out-of-range ones', () => {
    expect(errorOf(600).message).toBe('Unknown error 600');
    expect(errorOf(600)).toBe(errorOf(600));
    expect(() => errorOf(0)).toThrow(RangeError);
    expect(isError(E.EIO)).toBe(true);
    expect(isError(5)).toBe(false);
  });
});
