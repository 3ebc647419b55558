// RACK-TLP (RFC 8985) and PRR (RFC 6937): fixed loss and reordering patterns on a link with a
// 20 ms RTT show each mechanism acting, and random patterns (fast-check, replayable seeds)
// still deliver every byte (SHA-256 compared) with RACK on and off.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { patternTransfer, type DataSegment, type Fate } from './loss-pattern.test-util.js';
import { Prr } from './prr.js';

const MSS = 1448; // 1500 - 20 - 20 - 12 (timestamps)

describe('tail loss probe (RFC 8985 §7)', () => {
  // Exactly the initial window (10 segments, the FIN on the last): the last two are lost, so
  // no later segment can be SACKed and only a probe or the RTO can reveal the loss.
  const total = 10 * MSS;
  const dropLast = (s: DataSegment): Fate => (s.index >= 8 && s.index <= 9 ? 'drop' : 'pass');

  it('resends the tail after two RTTs; its SACK lets RACK find the rest, well before the RTO', () => {
    const run = patternTransfer(dropLast, total);
    expect(run.gotHash).toBe(run.sentHash);
    expect(run.client.stats.tlpProbes).toBe(1); // segment 9 again
    expect(run.client.stats.fastRetransmits).toBe(1); // segment 8, found lost by RACK
    expect(run.client.stats.timeouts).toBe(0);
    expect(run.client.stats.retransmits).toBe(2);
    // The probe leaves 2 SRTT (40 ms) after the last ACK; everything is read by 120 ms, where
    // the RTO (200 ms after that ACK) would not even have fired.
    expect(run.elapsed).toBeLessThan(120);
  });

  it('the probe waits two SRTTs and 2 ms more after the last ACK (Linux 6.18: TCP_TIMEOUT_MIN_US)', () => {
    let probeAt: number | undefined;
    let timerAt: number | undefined;
    let armedAt = 0;
    let srtt = 0;
    const fate = (s: DataSegment): Fate => {
      if (s.index === 10) probeAt ??= s.at;
      return dropLast(s);
    };
    patternTransfer(fate, total, {
      onStep: (now, client) => {
        const at = client.pendingTimer?.at;
        if (probeAt !== undefined || at === timerAt) return;
        timerAt = at;
        armedAt = now;
        srtt = client.smoothedRtt ?? 0;
      },
    });
    expect(srtt).toBeGreaterThan(19);
    expect(probeAt! - armedAt).toBeCloseTo(2 * srtt + 2, 6);
  });

  it('a lone lost segment waits for the delayed ACK as well (1.5 SRTT + 200 ms), as on Linux', () => {
    const run = patternTransfer((s) => (s.index === 9 ? 'drop' : 'pass'), total);
    expect(run.gotHash).toBe(run.sentHash);
    expect(run.client.stats.retransmits).toBe(1);
    expect(run.elapsed).toBeGreaterThan(200);
  });

  it('without TLP the same loss waits for the retransmission timeout', () => {
    const run = patternTransfer(dropLast, total, { tcp: { tlp: false } });
    expect(run.gotHash).toBe(run.sentHash);
    expect(run.client.stats.tlpProbes).toBe(0);
    expect(run.client.stats.timeouts).toBe(1);
    expect(run.elapsed).toBeGreaterThan(200);
  });

  for (const earlyRetrans of [0, 2])
    it(`with net.ipv4.tcp_early_retrans ${earlyRetrans} the same loss waits for the timeout`, () => {
      const run = patternTransfer(dropLast, total, { sysctl: { earlyRetrans } });
      expect(run.gotHash).toBe(run.sentHash);
      expect(run.client.stats.tlpProbes).toBe(0);
      expect(run.client.stats.timeouts).toBe(1);
    });

  it('a probe that repairs a loss in mid-stream gets the congestion response', () => {
    // The probe resends segment 9; the ACK that covers it and the data sent after tells the
    // sender the original was lost (no D-SACK came for the probe).
    const run = patternTransfer((s) => (s.index === 9 ? 'drop' : 'pass'), 40 * MSS, { rx: 10 * MSS });
    expect(run.gotHash).toBe(run.sentHash);
    expect(run.client.stats.timeouts).toBe(0);
    expect(run.client.stats.retransmits).toBe(run.client.stats.tlpProbes + run.client.stats.fastRetransmits);
  });
});

describe('RACK loss detection (RFC 8985 §6)', () => {
  // Segment 20 arrives 15 ms late (over half the RTT), segment 300 arrives 4 ms late.
  const fate = (s: DataSegment): Fate =>
    s.index === 20 ? { delay: 15 } : s.index === 300 ? { delay: 4 } : 'pass';

  it('after a D-SACK shows reordering, a later reordered segment is waited for, not resent', () => {
    const run = patternTransfer(fate, 600 * MSS);
    expect(run.gotHash).toBe(run.sentHash);
    // The first late segment is resent (no reordering seen yet, three segments SACKed past it);
    // the D-SACK of that resend undoes the reduction and opens RACK's reordering window, so
    // the second late segment is simply waited for.
    expect(run.client.stats.fastRetransmits).toBe(1);
    expect(run.client.stats.undos).toBe(1);
    expect(run.server.stats.outOfOrderReceived).toBeGreaterThan(0);
  });

  it('DupThresh counting (RACK off) resends both', () => {
    const run = patternTransfer(fate, 600 * MSS, { tcp: { rack: false, tlp: false } });
    expect(run.gotHash).toBe(run.sentHash);
    expect(run.client.stats.fastRetransmits).toBe(2);
  });

  it('a lost retransmission is found by time, without an RTO', () => {
    // Segment 40 is lost, and so is its first retransmission (the first resend of its bytes).
    let seq40: number | undefined;
    let resends = 0;
    const run = patternTransfer((s) => {
      if (s.index === 40) {
        seq40 = s.seq;
        return 'drop';
      }
      if (s.seq === seq40 && resends++ === 0) return 'drop';
      return 'pass';
    }, 200 * MSS);
    expect(run.gotHash).toBe(run.sentHash);
    expect(resends).toBe(2);
    expect(run.client.stats.timeouts).toBe(0);
    const classic = patternTransfer(
      (s) => {
        if (s.index === 40) {
          seq40 = s.seq;
          resends = 0;
          return 'drop';
        }
        if (s.seq === seq40 && resends++ === 0) return 'drop';
        return 'pass';
      },
      200 * MSS,
      { tcp: { rack: false, tlp: false } },
    );
    expect(classic.gotHash).toBe(classic.sentHash);
    expect(classic.client.stats.timeouts).toBe(1); // RFC 6675 needs the RTO for it
  });
});

describe('fewer retransmissions and less time than NewReno under a fixed loss pattern', () => {
  // Losses spread over the transfer, including bursts, and the first resend of two of them lost too.
  const lost = new Set([30, 31, 32, 80, 150, 151, 220, 221, 222, 223]);
  const lostTwice = new Set([31, 151]);
  const pattern = () => {
    const resent = new Map<number, number>(); // seq of a twice-lost segment -> resends seen
    return (s: DataSegment): Fate => {
      if (lost.has(s.index)) {
        if (lostTwice.has(s.index)) resent.set(s.seq, 0);
        return 'drop';
      }
      const n = resent.get(s.seq);
      if (n === undefined) return 'pass';
      resent.set(s.seq, n + 1);
      return n === 0 ? 'drop' : 'pass';
    };
  };
  const total = 300 * MSS;

  it('RACK-TLP resends only what was lost (each lost resend once more) and never times out', () => {
    const rack = patternTransfer(pattern(), total);
    const sack = patternTransfer(pattern(), total, { tcp: { rack: false, tlp: false } });
    const newReno = patternTransfer(pattern(), total, { tcp: { sack: false, rack: false, tlp: false } });
    for (const r of [rack, sack, newReno]) expect(r.gotHash).toBe(r.sentHash);
    expect(rack.client.stats.timeouts).toBe(0);
    expect(rack.client.stats.retransmits).toBe(lost.size + lostTwice.size);
    // Without RACK a lost retransmission takes the RTO, and go-back-N resends what had arrived.
    expect(newReno.client.stats.timeouts).toBeGreaterThan(0);
    expect(rack.client.stats.retransmits).toBeLessThan(newReno.client.stats.retransmits);
    expect(rack.client.stats.retransmits).toBeLessThan(sack.client.stats.retransmits);
    expect(rack.elapsed).toBeLessThan(newReno.elapsed);
    expect(rack.elapsed).toBeLessThan(sack.elapsed);
  });
});

describe('PRR (RFC 6937)', () => {
  /**
   * A sender in recovery: `flight` segments out with one lost, ACKs each delivering one
   * segment; returns how many segments PRR let out after each ACK.
   */
  function simulate(flight: number, ssthresh: number, acks: number): number[] {
    const prr = new Prr();
    prr.start(flight * MSS);
    let pipe = (flight - 1) * MSS; // one segment lost
    const out: number[] = [];
    for (let i = 0; i < acks; i++) {
      pipe -= MSS;
      const cwnd = prr.cwnd(MSS, pipe, ssthresh * MSS, MSS, false, false);
      let n = 0;
      while (cwnd - pipe >= MSS) {
        pipe += MSS;
        prr.sent(MSS);
        n++;
      }
      prr.roundDone();
      out.push(n);
    }
    return out;
  }

  it('sends in proportion to what is delivered, then grows back to ssthresh (RFC 6937 §5)', () => {
    // RFC 6937's example: 20 in flight, ssthresh 10: one segment for every two delivered.
    const sends = simulate(20, 10, 18);
    const sum = (a: number[]) => a.reduce((x, y) => x + y, 0);
    expect(sends[0]).toBe(1); // the fast retransmit goes at once
    expect(Math.max(...sends)).toBe(1); // never a burst
    expect(sum(sends.slice(0, 14))).toBe(7); // half of what was delivered
    // Once the pipe is down to ssthresh, one segment out for each one delivered.
    expect(sends.slice(15)).toEqual([0, 1, 1].slice(0, sends.length - 15));
    // CUBIC's 0.7: seven segments for every ten delivered.
    const cubic = simulate(20, 14, 10);
    expect(cubic.reduce((a, b) => a + b, 0)).toBe(7);
  });

  it('below ssthresh (a burst of losses), grows by at most one MSS more than delivered (SSRB)', () => {
    const prr = new Prr();
    prr.start(20 * MSS);
    // Ten segments lost: the pipe (8) is already under ssthresh (14).
    expect(prr.cwnd(MSS, 8 * MSS, 14 * MSS, MSS, true, false)).toBe(8 * MSS + 2 * MSS);
    prr.sent(2 * MSS);
    prr.roundDone();
    expect(prr.cwnd(MSS, 9 * MSS, 14 * MSS, MSS, true, false)).toBe(9 * MSS + 2 * MSS);
  });
});

describe('random loss, reordering and duplication', () => {
  it('every byte arrives intact, RACK on and off (fast-check; seeds replay)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2 ** 31 - 1 }),
        fc.constantFrom(0.01, 0.03, 0.06),
        fc.boolean(),
        (seed, p, rack) => {
          let x = seed;
          const rnd = () => {
            x = (Math.imul(x ^ (x >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
            return x / 2 ** 32;
          };
          const fate = (): Fate => {
            const r = rnd();
            if (r < p) return 'drop';
            if (r < 2 * p) return { delay: 1 + Math.floor(rnd() * 25) };
            if (r < 3 * p) return 'duplicate';
            return 'pass';
          };
          const run = patternTransfer(fate, 120 * MSS, { seed, tcp: { rack, tlp: rack } });
          expect(run.gotHash).toBe(run.sentHash);
        },
      ),
      { numRuns: 12 },
    );
  });
});
