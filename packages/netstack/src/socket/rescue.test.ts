// RFC 6675 rescue retransmission (NextSeg rule 4): a loss at the tail of the data, found during
// SACK recovery with nothing new to send, is repaired by one resend of the last segment instead
// of waiting for the retransmission timeout. Transfers stay byte-exact (SHA-256).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { patternTransfer, type DataSegment, type Fate } from './loss-pattern.test-util.js';
import { RescueRetransmission } from './rescue.js';
import { SackScoreboard } from './sack-scoreboard.js';

const MSS = 1448; // 1500 - 20 - 20 - 12 (timestamps)
// Twenty segments: 0-9 in the initial window, 10-19 (the FIN on 19) in the second flight.
const total = 20 * MSS;
const rfc6675 = { rack: false, tlp: false } as const;
const dropping =
  (...indices: number[]) =>
  (s: DataSegment): Fate =>
    indices.includes(s.index) ? 'drop' : 'pass';
/** The segment numbers (sequence offset / MSS) resent, in order. */
const resends = (log: readonly DataSegment[]) => log.slice(20).map((s) => (s.seq - log[0]!.seq) / MSS);

describe('rescue retransmission (RFC 6675 §4 rule 4)', () => {
  it('segment 12 and the last one are lost: 12 by fast retransmit, the tail by one rescue, no RTO', () => {
    const run = patternTransfer(dropping(12, 19), total, { tcp: rfc6675 });
    expect(run.gotHash).toBe(run.sentHash);
    expect(resends(run.device.log)).toEqual([12, 19]);
    expect(run.client.stats.fastRetransmits).toBe(1);
    expect(run.client.stats.rescueRetransmits).toBe(1);
    expect(run.client.stats.timeouts).toBe(0);
    expect(run.elapsed).toBeLessThan(200); // the RTO (200 ms at least) never had to fire
  });

  it('two lost at the tail: one rescue of the last, whose SACK lets rule 3 resend the other', () => {
    const run = patternTransfer(dropping(12, 18, 19), total, { tcp: rfc6675 });
    expect(run.gotHash).toBe(run.sentHash);
    expect(resends(run.device.log)).toEqual([12, 19, 18]);
    expect(run.client.stats.rescueRetransmits).toBe(1);
    expect(run.client.stats.timeouts).toBe(0);
  });

  it('once per episode: when the rescue is lost too, the timeout repairs it', () => {
    // Index 21 is the rescue (index 20 is the fast retransmit of 12).
    const run = patternTransfer(dropping(12, 19, 21), total, { tcp: rfc6675 });
    expect(run.gotHash).toBe(run.sentHash);
    expect(resends(run.device.log)).toEqual([12, 19, 19]);
    expect(run.client.stats.rescueRetransmits).toBe(1);
    expect(run.client.stats.timeouts).toBe(1);
  });

  it('RACK recovery (the default) sends no rescue, as Linux has none: the timeout repairs the tail', () => {
    const run = patternTransfer(dropping(12, 19), total);
    expect(run.gotHash).toBe(run.sentHash);
    expect(run.client.stats.rescueRetransmits).toBe(0);
    expect(run.client.stats.timeouts).toBe(1);
  });
});

describe('random losses near the tail (fast-check, replayable seeds)', () => {
  it('every byte arrives; at most one rescue per recovery episode', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 0, max: 45 }), { maxLength: 8 }), (drops) => {
        const run = patternTransfer(dropping(...drops), 40 * MSS, { tcp: rfc6675 });
        expect(run.gotHash).toBe(run.sentHash);
        // Each episode begins with a fast retransmission, so these bound the episodes.
        expect(run.client.stats.rescueRetransmits).toBeLessThanOrEqual(run.client.stats.fastRetransmits);
      }),
      { numRuns: 30, seed: 6675 },
    );
  });
});

describe('RescueRetransmission on its own', () => {
  const sb = (...ranges: [number, number][]) => {
    const s = new SackScoreboard();
    s.update(ranges, 1000, 20_000);
    return s;
  };

  it('waits for the ACK of the first retransmission, then offers the segment ending the last hole', () => {
    const r = new RescueRetransmission();
    const board = sb([3000, 9000]);
    expect(r.candidate(10_000, 2000, 10_000, 10_000, board, 1000)).toBeUndefined(); // no episode yet
    r.start(10_000, 2000);
    expect(r.candidate(10_000, 1000, 10_000, 10_000, board, 1000)).toBeUndefined(); // HighACK <= RescueRxt
    expect(r.candidate(10_000, 2000, 10_000, 10_000, board, 1000)).toEqual([9000, 10_000]);
    // Another episode (another RecoveryPoint) does not inherit this one's state.
    expect(r.candidate(12_000, 2000, 12_000, 12_000, board, 1000)).toBeUndefined();
    r.used(10_000);
    expect(r.candidate(10_000, 9000, 10_000, 10_000, board, 1000)).toBeUndefined();
  });

  it('skips a SACKed tail, clips to the hole, and ends on the FIN when it is outstanding', () => {
    const r = new RescueRetransmission();
    r.start(20_000, 2000);
    // The top is SACKed: the last hole is [9000, 15000).
    expect(r.candidate(20_000, 2000, 16_000, 16_000, sb([3000, 9000], [15_000, 16_000]), 1000)).toEqual([
      14_000, 15_000,
    ]);
    // A hole shorter than one MSS is resent whole and no more.
    expect(r.candidate(20_000, 2000, 16_000, 16_000, sb([3000, 15_500], [15_800, 16_000]), 1000)).toEqual([
      15_500, 15_800,
    ]);
    // The FIN (sequence 10000) went out: the last MSS of payload, and the FIN after it.
    expect(r.candidate(20_000, 2000, 10_001, 10_000, sb([3000, 9000]), 1000)).toEqual([9000, 10_001]);
    // Everything above SND.UNA SACKed: nothing to rescue.
    expect(r.candidate(20_000, 2000, 9000, 9000, sb([2000, 9000]), 1000)).toBeUndefined();
  });
});
