import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { pingGroupAllowed } from './ping-group.js';

describe('pingGroupAllowed', () => {
  it('follows the examples of its doc comment', () => {
    expect(pingGroupAllowed([100, 200], 0, [150])).toBe(true);
    expect(pingGroupAllowed([1, 0], 0, [0])).toBe(false);
  });

  it('takes the ends inclusively, from the effective gid or any supplementary group', () => {
    expect(pingGroupAllowed([100, 200], 100, [])).toBe(true);
    expect(pingGroupAllowed([100, 200], 200, [])).toBe(true);
    expect(pingGroupAllowed([100, 200], 99, [])).toBe(false);
    expect(pingGroupAllowed([100, 200], 201, [5, 300])).toBe(false);
    expect(pingGroupAllowed([100, 200], 201, [5, 300, 100])).toBe(true);
    expect(pingGroupAllowed([0, 0xfffffffe], 0xfffffffe, [])).toBe(true);
  });

  it('agrees with range membership; a reversed range lets nobody in', () => {
    fc.assert(
      fc.property(
        fc.nat(0xfffffffe),
        fc.nat(0xfffffffe),
        fc.nat(0xfffffffe),
        fc.array(fc.nat(0xfffffffe), { maxLength: 4 }),
        (a, b, egid, groups) => {
          const [low, high] = a <= b ? [a, b] : [b, a];
          const inRange = [egid, ...groups].some((g) => g >= low && g <= high);
          expect(pingGroupAllowed([low, high], egid, groups)).toBe(inRange);
          if (low < high) expect(pingGroupAllowed([high, low], egid, groups)).toBe(false);
        },
      ),
    );
  });
});
