// RACK's bookkeeping on its own (RFC 8985 §6): which segments a delivery marks lost, and when.
import { describe, expect, it } from 'vitest';
import { Rack } from './rack.js';
import { SackScoreboard } from './sack-scoreboard.js';

const SEG = 1000;
const una = 0;

/** Three segments sent at t = 0, 1 and 2; the scoreboard SACKs those in `sacked`. */
function threeSent(sacked: number[]): { rack: Rack; sb: SackScoreboard } {
  const rack = new Rack();
  for (let i = 0; i < 3; i++) rack.sent(i * SEG, (i + 1) * SEG, i, SEG);
  const sb = new SackScoreboard();
  sb.update(
    sacked.map((i) => [i * SEG, (i + 1) * SEG] as const),
    una,
    3 * SEG,
  );
  return { rack, sb };
}

describe('RACK', () => {
  it('marks lost what was sent before a delivered segment, once RTT + reordering window passed', () => {
    const { rack, sb } = threeSent([2]);
    rack.onAck(una, sb, 20, 18); // segment 2 (sent at 2) delivered at 20: RACK.rtt 18
    // With a 5 ms window: segment 0 is due at 0 + 18 + 5 = 23, segment 1 at 24.
    expect(rack.detectLoss(20, 5)).toEqual({ lost: 0, wait: 4 });
    expect(rack.detectLoss(23, 5)).toEqual({ lost: SEG, wait: 1 });
    expect(rack.nextLost()).toEqual([0, SEG]);
    expect(rack.detectLoss(24, 5)).toEqual({ lost: SEG, wait: undefined });
    expect(rack.pipe()).toBe(0); // both lost, the third SACKed
    rack.resent(0, SEG, 25, SEG);
    expect(rack.pipe()).toBe(SEG); // a resend in flight counts once
    expect(rack.nextLost()).toEqual([SEG, 2 * SEG]);
  });

  it('finds a lost retransmission by time, and sees reordering in a late original', () => {
    const { rack, sb } = threeSent([2]);
    rack.onAck(una, sb, 20, 18);
    rack.detectLoss(30, 0);
    rack.resent(0, SEG, 30, SEG);
    rack.resent(SEG, 2 * SEG, 31, SEG);
    rack.sent(3 * SEG, 4 * SEG, 32, SEG);
    sb.update([[3 * SEG, 4 * SEG]], una, 4 * SEG);
    rack.onAck(una, sb, 52, 18); // new data sent after both resends arrived: they are overdue
    expect(rack.detectLoss(52, 0)).toEqual({ lost: 2 * SEG, wait: undefined });
    expect(rack.reorderingSeen).toBe(false);
    // A never-resent segment delivered below the highest delivered one is reordering.
    const r2 = threeSent([2]);
    r2.rack.onAck(una, r2.sb, 20, 18);
    r2.sb.update([[SEG, 3 * SEG]], una, 3 * SEG);
    r2.rack.onAck(una, r2.sb, 21, 18);
    expect(r2.rack.reorderingSeen).toBe(true);
  });

  it('has no window before reordering was seen once DupThresh segments are SACKed, or in recovery', () => {
    const rack = new Rack();
    for (let i = 0; i < 5; i++) rack.sent(i * SEG, (i + 1) * SEG, i, SEG);
    const sb = new SackScoreboard();
    sb.update([[SEG, 4 * SEG]], una, 5 * SEG);
    rack.onAck(una, sb, 20, 20);
    expect(rack.reorderWindow(20, 25, false)).toBe(0);
    expect(rack.reorderWindow(20, 25, true)).toBe(0);
    rack.onDsack(una, 5 * SEG); // a needless resend: reordering, and a wider window
    expect(rack.reorderWindow(20, 25, true)).toBe(10); // 2 x min RTT / 4
    expect(rack.reorderWindow(20, 8, true)).toBe(8); // at most SRTT
  });

  it('keeps ranges sent together as one, and splits them at SACK edges', () => {
    const rack = new Rack();
    rack.sent(0, SEG, 0, SEG);
    rack.sent(SEG, 2 * SEG, 0, SEG); // same time: one range
    rack.sent(2 * SEG, 3 * SEG, 0, SEG);
    rack.sent(3 * SEG, 4 * SEG, 1, SEG);
    const sb = new SackScoreboard();
    sb.update([[SEG, 2 * SEG]], una, 4 * SEG);
    rack.onAck(una, sb, 1, 1);
    sb.update([[3 * SEG, 4 * SEG]], una, 4 * SEG);
    rack.onAck(una, sb, 21, 1);
    // Segment 3 (sent at 1) delivered at 21: 0 and 2 of the range sent at 0 are lost, 1 is SACKed.
    expect(rack.detectLoss(21, 0)).toEqual({ lost: 2 * SEG, wait: undefined });
    expect(rack.counts()).toEqual({ lost: 2 * SEG, retrans: 0 });
    expect(rack.nextLost()).toEqual([0, SEG]);
  });
});
