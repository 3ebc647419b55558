import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { seqAdd } from '../wire/tcp.js';
import { DUP_THRESH, SackScoreboard } from './sack-scoreboard.js';

describe('SackScoreboard', () => {
  it('merges blocks, ignores D-SACK and blocks beyond what was sent, advances with SND.UNA', () => {
    const b = new SackScoreboard();
    const una = 0xfffffff0; // across the 2^32 wrap
    const at = (n: number): number => seqAdd(una, n);
    expect(b.update([[at(100), at(200)]], una, at(1000))).toBe(100);
    expect(b.update([[at(150), at(300)]], una, at(1000))).toBe(100);
    expect(b.update([[at(-50), at(-10)]], una, at(1000))).toBe(0); // D-SACK below SND.UNA
    expect(b.update([[at(900), at(1100)]], una, at(1000))).toBe(0); // never sent
    expect(b.held()).toEqual([[at(100), at(300)]]);
    expect(b.nextHole(una, at(1000))).toEqual([una, at(100)]);
    expect(b.nextHole(at(120), at(1000))).toEqual([at(300), at(1000)]);
    b.advance(at(250));
    expect(b.held()).toEqual([[at(250), at(300)]]);
    b.advance(at(300));
    expect(b.isEmpty()).toBe(true);
  });

  it('IsLost: three ranges or more than 2 MSS SACKed above a byte', () => {
    const b = new SackScoreboard();
    const mss = 100;
    b.update([[1100, 1200]], 1000, 2000);
    expect(b.lossBoundary(1000, mss)).toBe(1000); // one range, 100 bytes: nothing lost
    b.update([[1300, 1400]], 1000, 2000);
    expect(b.lossBoundary(1000, mss)).toBe(1000);
    b.update([[1500, 1550]], 1000, 2000);
    expect(b.lossBoundary(1000, mss)).toBe(1100); // three ranges above 1000..1099
    const c = new SackScoreboard();
    c.update([[1100, 1301]], 1000, 2000);
    expect(c.lossBoundary(1000, mss)).toBe(1100); // 201 bytes > 2 MSS
  });

  it('property: agrees with a byte-per-byte model (sacked, holes, unsacked counts, IsLost)', () => {
    const N = 400;
    fc.assert(
      fc.property(
        fc.array(
          fc
            .tuple(fc.integer({ min: 0, max: N }), fc.integer({ min: 0, max: N }))
            .map(([a, b]) => [Math.min(a, b), Math.max(a, b)]),
          { maxLength: 12 },
        ),
        fc.integer({ min: 0, max: N }),
        fc.integer({ min: 0, max: 2 ** 32 - 1 }),
        (blocks, una, base) => {
          const b = new SackScoreboard(64);
          const model = new Uint8Array(N);
          const S = (n: number): number => seqAdd(base, n);
          b.update(
            blocks.map(([l, r]) => [S(l!), S(r!)] as const),
            S(0),
            S(N),
          );
          for (const [l, r] of blocks) for (let i = l!; i < r!; i++) model[i] = 1;
          b.advance(S(una));
          for (let i = 0; i < una; i++) model[i] = 0;
          let sacked = 0;
          for (let i = una; i < N; i++) sacked += model[i]!;
          expect(b.sackedBytes()).toBe(sacked);
          for (let i = una; i < N; i += 7) expect(b.isSacked(S(i))).toBe(model[i] === 1);
          expect(b.unsackedBetween(S(una), S(N))).toBe(N - una - sacked);
          const hole = b.nextHole(S(una), S(N));
          const first = model.indexOf(0, una);
          if (first < 0 || first >= N) expect(hole).toBeUndefined();
          else {
            expect(hole![0]).toBe(S(first));
            let end = first;
            while (end < N && model[end] === 0) end++;
            expect(hole![1]).toBe(S(end));
          }
          // IsLost per RFC 6675 for each unSACKed byte, by counting ranges and bytes above it.
          const mss = 40;
          const boundary = b.lossBoundary(S(una), mss);
          for (let i = una; i < N; i++) {
            if (model[i]) continue;
            let bytes = 0;
            let ranges = 0;
            for (let j = i + 1; j < N; j++) {
              bytes += model[j]!;
              if (model[j] && !model[j - 1]) ranges++;
            }
            const lost = ranges >= DUP_THRESH || bytes > (DUP_THRESH - 1) * mss;
            expect(((S(i) - boundary) | 0) < 0).toBe(lost);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
