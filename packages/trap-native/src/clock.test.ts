import { describe, expect, it } from 'vitest';
import { hostClockOffsetNs } from './clock.js';

describe('hostClockOffsetNs', () => {
  it("is the host's realtime minus hrtime: Date.now's reading, to its millisecond, and steady", () => {
    const a = hostClockOffsetNs();
    const realtime = a + process.hrtime.bigint();
    const wall = BigInt(Date.now()) * 1_000_000n;
    // Date.now truncates to the millisecond: the exact reading lies at or just past it.
    expect(realtime - wall >= -1_000_000n && realtime - wall < 2_000_000n).toBe(true);
    // Two readings a moment apart differ by the reads' own jitter, not by milliseconds.
    const b = hostClockOffsetNs();
    expect(b - a < 50_000n && a - b < 50_000n).toBe(true);
  });
});
