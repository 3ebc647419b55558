import { describe, expect, it } from 'vitest';
import { CUBIC_BETA, CUBIC_C, Cubic, Reno, congestionControl } from './congestion.js';

const MSS = 1000;

/** Acknowledges one full window per RTT, one segment per ACK, from `start` for `ms`; returns cwnd (segments) per RTT. */
function drive(cc: Cubic | Reno, start: number, ms: number, rtt: number): number[] {
  const trace: number[] = [];
  for (let t = start; t < start + ms; t += rtt) {
    const segs = Math.floor(cc.cwnd / MSS);
    for (let i = 0; i < segs; i++) cc.onAck(MSS, MSS, t + (i * rtt) / segs, rtt);
    trace.push(cc.cwnd / MSS);
  }
  return trace;
}

describe('Reno', () => {
  it('doubles per RTT in slow start, grows one MSS per RTT above ssthresh, halves on loss', () => {
    const r = new Reno(10 * MSS, 40 * MSS);
    const trace = drive(r, 0, 300, 100);
    expect(trace[0]).toBe(20);
    expect(trace[1]).toBe(40);
    expect(trace[2]).toBeGreaterThan(40.9);
    expect(trace[2]).toBeLessThan(41.1);
    r.onLoss(r.cwnd, MSS, 300);
    expect(r.ssthresh).toBe(Math.floor(r.cwnd / 2));
    r.onTimeout(r.cwnd, MSS, 400);
    expect(r.cwnd).toBe(MSS);
  });
});

describe('CUBIC (RFC 9438)', () => {
  it('reduces by beta = 0.7 and regains W_max after K = cbrt(W_max (1 - beta) / C) seconds', () => {
    // A large window, where the cubic function (not the Reno-friendly estimate) governs growth.
    const c = new Cubic(1000 * MSS, 50 * MSS);
    c.onLoss(1000 * MSS, MSS, 0);
    expect(c.ssthresh).toBe(700 * MSS);
    c.cwnd = c.ssthresh; // recovery ends with cwnd = ssthresh
    const rtt = 50;
    const k = Math.cbrt((1000 * (1 - CUBIC_BETA)) / CUBIC_C); // 9.09 s
    const trace = drive(c, 1000, 13_000, rtt);
    const at = (s: number): number => trace[Math.round((s * 1000) / rtt)]!;
    // Concave approach: most of the way back in the first half of K, then a plateau at W_max.
    expect(at(k / 2) - 700).toBeGreaterThan(1000 - at(k / 2));
    expect(at(k)).toBeGreaterThan(990);
    expect(at(k)).toBeLessThan(1010);
    expect(at(k + 0.5) - at(k - 0.5)).toBeLessThan(5);
    // Convex probing beyond W_max: growth accelerates.
    const late = at(k + 3) - at(k + 2);
    const early = at(k + 1) - at(k);
    expect(late).toBeGreaterThan(early);
  });

  it('fast convergence: a loss below the previous W_max lowers W_max further', () => {
    const c = new Cubic(1000 * MSS, 50 * MSS);
    c.onLoss(1000 * MSS, MSS, 0);
    c.cwnd = 800 * MSS; // lost again before reaching 1000
    c.onLoss(800 * MSS, MSS, 0);
    c.cwnd = c.ssthresh;
    expect(c.ssthresh).toBe(560 * MSS);
    // W_max = 800 (1 + 0.7) / 2 = 680: the window levels off there, not at 800.
    const k = Math.cbrt((680 - 560) / CUBIC_C);
    const trace = drive(c, 0, 10_000, 50);
    const plateau = trace[Math.round((k * 1000) / 50)]!;
    expect(plateau).toBeGreaterThan(675);
    expect(plateau).toBeLessThan(690);
  });

  it('is at least as fast as Reno would be (Reno-friendly region) at a long RTT and small window', () => {
    const c = new Cubic(20 * MSS, 10 * MSS);
    c.onLoss(20 * MSS, MSS, 0);
    c.cwnd = c.ssthresh; // 14 segments, W_max 20
    const rtt = 2000;
    const trace = drive(c, 0, 20 * rtt, rtt);
    // Reno-friendly growth is alpha = 3 (1 - 0.7) / 1.7 ~= 0.53 segments per RTT at least.
    expect(trace[19]! - trace[0]!).toBeGreaterThan(0.5 * 19 - 1);
  });

  it('a timeout collapses cwnd to one segment and slow start resumes up to ssthresh', () => {
    const c = congestionControl('cubic', 10 * MSS);
    c.onTimeout(40 * MSS, MSS, 0);
    expect(c.cwnd).toBe(MSS);
    expect(c.ssthresh).toBe(7 * MSS); // 0.7 of the 10-segment cwnd (flight capped by cwnd)
    c.onAck(MSS, MSS, 1, undefined);
    expect(c.cwnd).toBe(2 * MSS);
  });
});

describe('HyStart++ (RFC 9406)', () => {
  /**
   * Slow start of a CUBIC sender: each round acknowledges the whole window, one segment per
   * ACK, each with the RTT `rttOf(round)`; returns cwnd (segments) after each round.
   */
  const seqs = new WeakMap<Cubic, { una: number }>();
  function slowStart(c: Cubic, rounds: number, rttOf: (round: number) => number): number[] {
    const st = seqs.get(c) ?? { una: 0 };
    seqs.set(c, st);
    let nxt = st.una;
    let una = st.una;
    const trace: number[] = [];
    for (let r = 0; r < rounds && c.cwnd < c.ssthresh; r++) {
      const segs = Math.floor(c.cwnd / MSS);
      nxt = una + segs * MSS; // the window goes out at the start of the round
      for (let i = 0; i < segs; i++) {
        una += MSS;
        c.onRoundAck(rttOf(r), una, nxt);
        c.onAck(MSS, MSS, r * 100 + i, rttOf(r));
      }
      trace.push(c.cwnd / MSS);
    }
    st.una = una;
    return trace;
  }

  it('doubles per round while the RTT holds', () => {
    const c = new Cubic(10 * MSS);
    expect(slowStart(c, 4, () => 50)).toEqual([20, 40, 80, 160]);
    expect(c.hystart.inCss).toBe(false);
  });

  it('a rising RTT turns slow start conservative (a quarter of the growth), then ends it after 5 rounds', () => {
    const c = new Cubic(10 * MSS);
    // Round 2's RTT is 10 ms above round 1's (threshold: max(4, min(50 / 8, 16)) = 6.25 ms).
    const trace = slowStart(c, 12, (r) => (r < 2 ? 50 : 60));
    expect(trace[0]).toBe(20);
    expect(trace[1]).toBe(40);
    // Round 2: 7 samples at full growth, then CSS from the 8th (the check comes before its
    // growth): 40 + 7 + 33 / 4 segments.
    expect(trace[2]).toBe(40 + 7 + 33 / 4);
    expect(c.hystart.inCss || c.ssthresh < 0x7fffffff).toBe(true);
    // Each CSS round grows by a quarter of its ACKs.
    expect(trace[3]).toBe(trace[2]! + Math.floor(trace[2]!) / 4);
    // After 5 CSS rounds, slow start is over: ssthresh = cwnd, and growth is CUBIC's.
    expect(c.ssthresh).toBeLessThan(0x7fffffff);
    expect(c.hystart.done).toBe(true);
    expect(c.cwnd).toBeGreaterThanOrEqual(c.ssthresh);
    expect(c.cwnd).toBeLessThan(c.ssthresh * 1.05); // the rest of that round in avoidance
  });

  it('goes back to slow start when the RTT falls below the CSS baseline', () => {
    const c = new Cubic(10 * MSS);
    slowStart(c, 3, (r) => (r < 2 ? 50 : 60));
    expect(c.hystart.inCss).toBe(true);
    const t = slowStart(c, 1, () => 50);
    expect(c.hystart.inCss).toBe(false);
    // The first 7 ACKs of the round are still conservative; the other 48 double again.
    expect(t[0]).toBe(55.25 + 7 / 4 + 48);
  });

  it('a loss ends it for good', () => {
    const c = new Cubic(10 * MSS);
    c.onLoss(10 * MSS, MSS, 0);
    expect(c.hystart.done).toBe(true);
  });
});
