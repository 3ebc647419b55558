import { describe, expect, it } from 'vitest';
import { fillRandom, randomUuid } from './random.js';

describe('fillRandom', () => {
  it('fills the whole buffer, differently each time', () => {
    const a = fillRandom(new Uint8Array(4096));
    const b = fillRandom(new Uint8Array(4096));
    expect(a).not.toEqual(b);
    // 4096 random bytes take nearly every value; a zero-filled or short read would not.
    expect(new Set(a).size).toBeGreaterThan(200);
    expect(new Set(b.subarray(4000)).size).toBeGreaterThan(40);
  });

  it('takes an empty buffer', () => {
    expect(fillRandom(new Uint8Array(0))).toHaveLength(0);
  });
});

describe('randomUuid', () => {
  it('is a version 4 UUID of the RFC 9562 variant, new each call', () => {
    const u = randomUuid();
    expect(u).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(randomUuid()).not.toBe(u);
  });
});
