/**
 * Congestion control for TCP: the window growth and the reaction to loss, apart from the
 * loss detection and recovery machinery (which lives in the connection). Two algorithms, named
 * as Linux names them for TCP_CONGESTION:
 *
 * - `reno`: RFC 5681 slow start and congestion avoidance (one MSS per RTT), halving on loss.
 * - `cubic` (the default, as on Linux): RFC 9438, a cubic function of the time since the last
 *   loss that plateaus near the window where the loss happened (W_max), with multiplicative
 *   decrease β = 0.7, fast convergence, and the Reno-friendly region of §4.3. Slow start ends
 *   early by HyStart++ (RFC 9406) when the round trip time starts to grow (a queue builds),
 *   through Conservative Slow Start, before losses force it.
 *
 * Windows are in bytes; the algorithms are pure state machines driven by the connection with
 * the current time (ms), so they are deterministic and testable on their own.
 *
 * @module
 */

/** The congestion control algorithms this stack has (TCP_CONGESTION names). */
export type CongestionAlgorithm = 'reno' | 'cubic';

/** The names TCP_CONGESTION accepts, in the order Linux lists them in tcp_available_congestion_control. */
export const CONGESTION_ALGORITHMS: readonly CongestionAlgorithm[] = ['reno', 'cubic'];

/** One connection's congestion window and its reaction to ACKs and losses. */
export interface CongestionControl {
  readonly name: CongestionAlgorithm;
  /** Congestion window (bytes). */
  cwnd: number;
  /** Slow start threshold (bytes). */
  ssthresh: number;
  /** `acked` new bytes were acknowledged outside recovery at `now`; `rtt` is the smoothed RTT (ms) if known. */
  onAck(acked: number, mss: number, now: number, rtt: number | undefined): void;
  /**
   * A loss was detected by duplicate ACKs or SACK (a congestion event, RFC 5681 §3.2 /
   * RFC 9438 §4.6); sets ssthresh. `flight` is the bytes outstanding.
   */
  onLoss(flight: number, mss: number, now: number): void;
  /** The retransmission timer fired (the first time for this loss): ssthresh as for a loss, cwnd one segment. */
  onTimeout(flight: number, mss: number, now: number): void;
  /**
   * Before each `onAck` outside recovery: the ACK's RTT sample (ms) if it gave one, the ACK
   * number and SND.NXT, for algorithms that watch RTTs per round trip (HyStart++).
   */
  onRoundAck?(rttSample: number | undefined, ack: number, sndNxt: number): void;
}

/** RFC 9406 §4.3 constants (non-paced sender). */
const HYSTART = {
  MIN_RTT_THRESH: 4,
  MAX_RTT_THRESH: 16,
  MIN_RTT_DIVISOR: 8,
  N_RTT_SAMPLE: 8,
  CSS_GROWTH_DIVISOR: 4,
  CSS_ROUNDS: 5,
} as const;

/**
 * HyStart++ (RFC 9406): per round trip (a round ends when the ACK passes the SND.NXT of its
 * start) it keeps the lowest RTT of the first samples; when a round's minimum exceeds the last
 * round's by a threshold (1/8 of it, clamped to 4..16 ms), slow start turns into Conservative
 * Slow Start (growth divided by 4); if the RTT falls back below the baseline, slow start
 * resumes, and after 5 CSS rounds the sender moves to congestion avoidance (ssthresh = cwnd).
 */
export class HyStartPlusPlus {
  private windowEnd: number | undefined;
  private lastRoundMinRtt = Infinity;
  private currentRoundMinRtt = Infinity;
  private rttSampleCount = 0;
  /** The round minimum that started CSS, and rounds spent in CSS (undefined: not in CSS). */
  private cssBaselineMinRtt = Infinity;
  private cssRounds: number | undefined;
  /** Set once slow start is over for good (CSS finished, or a loss). */
  done = false;

  /** In Conservative Slow Start: slow start growth is divided by CSS_GROWTH_DIVISOR. */
  get inCss(): boolean {
    return this.cssRounds !== undefined;
  }

  /** An ACK in slow start; returns true when slow start should end now (ssthresh = cwnd). */
  onAck(rtt: number | undefined, ack: number, sndNxt: number): boolean {
    if (this.done) return false;
    if (this.windowEnd === undefined || seqLe32(this.windowEnd, ack)) {
      // A new round begins.
      if (this.windowEnd !== undefined && this.cssRounds !== undefined) {
        this.cssRounds++;
        if (this.cssRounds >= HYSTART.CSS_ROUNDS) {
          this.done = true;
          return true;
        }
      }
      this.lastRoundMinRtt = this.currentRoundMinRtt;
      this.currentRoundMinRtt = Infinity;
      this.rttSampleCount = 0;
      this.windowEnd = sndNxt;
    }
    if (rtt === undefined) return false;
    this.currentRoundMinRtt = Math.min(this.currentRoundMinRtt, rtt);
    this.rttSampleCount++;
    if (this.rttSampleCount < HYSTART.N_RTT_SAMPLE) return false;
    if (this.cssRounds === undefined) {
      if (this.currentRoundMinRtt === Infinity || this.lastRoundMinRtt === Infinity) return false;
      const thresh = Math.max(
        HYSTART.MIN_RTT_THRESH,
        Math.min(this.lastRoundMinRtt / HYSTART.MIN_RTT_DIVISOR, HYSTART.MAX_RTT_THRESH),
      );
      if (this.currentRoundMinRtt >= this.lastRoundMinRtt + thresh) {
        this.cssBaselineMinRtt = this.currentRoundMinRtt;
        this.cssRounds = 0;
      }
    } else if (this.currentRoundMinRtt < this.cssBaselineMinRtt) {
      // The RTT rise was spurious: back to slow start.
      this.cssBaselineMinRtt = Infinity;
      this.cssRounds = undefined;
    }
    return false;
  }
}

/** `a` <= `b` in 32-bit sequence space. */
function seqLe32(a: number, b: number): boolean {
  return ((b - a) | 0) >= 0;
}

/** RFC 5681 Reno (the growth NewReno uses). */
export class Reno implements CongestionControl {
  readonly name = 'reno';
  constructor(
    public cwnd: number,
    public ssthresh = 0x7fffffff,
  ) {}
  onAck(acked: number, mss: number, _now: number, _rtt: number | undefined): void {
    // Slow start by all the ACK covers, up to ssthresh; avoidance by one MSS per window's worth
    // acknowledged: as Linux counts them (tcp_slow_start, tcp_cong_avoid_ai: delivered segments,
    // so an ACK for many grows as much as many ACKs would).
    if (this.cwnd < this.ssthresh) this.cwnd = Math.min(this.cwnd + acked, this.ssthresh);
    else this.cwnd += Math.max(1, Math.floor((mss * acked) / this.cwnd));
  }
  onLoss(flight: number, mss: number, _now: number): void {
    this.ssthresh = Math.max(Math.floor(flight / 2), 2 * mss);
  }
  onTimeout(flight: number, mss: number, _now: number): void {
    this.ssthresh = Math.max(Math.floor(flight / 2), 2 * mss);
    this.cwnd = mss;
  }
}

/** RFC 9438 §4.5: the multiplicative decrease factor. */
export const CUBIC_BETA = 0.7;
/** RFC 9438 §4.2: the scaling constant C (segments / s^3). */
export const CUBIC_C = 0.4;
/** RFC 9438 §4.3: the Reno-friendly additive increase, 3 (1 - β) / (1 + β). */
const ALPHA_CUBIC = (3 * (1 - CUBIC_BETA)) / (1 + CUBIC_BETA);

/** RFC 9438 CUBIC. Internally in segments and seconds, as the RFC writes its formulas. */
export class Cubic implements CongestionControl {
  readonly name = 'cubic';
  /** W_max: the window (segments) just before the last reduction. */
  private wMax = 0;
  /** K (s): when the cubic function reaches W_max again. */
  private k = 0;
  /** Start of the current congestion avoidance epoch (ms), undefined until the first ACK in it. */
  private epochStart: number | undefined;
  /** W_est: the Reno-friendly estimate (segments). */
  private wEst = 0;
  /** HyStart++ (RFC 9406 §4.2) for the initial slow start; off after the first loss. */
  readonly hystart = new HyStartPlusPlus();

  constructor(
    public cwnd: number,
    public ssthresh = 0x7fffffff,
  ) {}

  /** W_cubic(t) of RFC 9438 §4.2 (segments), t in seconds since the epoch start. */
  windowAt(t: number): number {
    return CUBIC_C * (t - this.k) ** 3 + this.wMax;
  }

  onRoundAck(rttSample: number | undefined, ack: number, sndNxt: number): void {
    if (this.cwnd >= this.ssthresh) return;
    if (this.hystart.onAck(rttSample, ack, sndNxt)) this.ssthresh = this.cwnd; // CSS over: avoidance
  }

  onAck(acked: number, mss: number, now: number, rtt: number | undefined): void {
    if (this.cwnd < this.ssthresh) {
      // Slow start (RFC 9438 §4.10) by all the ACK covers, up to ssthresh, as Linux's
      // tcp_slow_start counts the delivered segments; a quarter as fast in HyStart++'s
      // Conservative Slow Start.
      const inc = this.hystart.inCss ? acked / HYSTART.CSS_GROWTH_DIVISOR : acked;
      this.cwnd = Math.min(this.cwnd + inc, this.ssthresh);
      return;
    }
    const cwndSeg = this.cwnd / mss;
    if (this.epochStart === undefined) {
      // §4.2: the epoch begins with the first ACK in congestion avoidance.
      this.epochStart = now;
      this.wEst = cwndSeg;
      if (this.wMax <= cwndSeg) {
        // No previous loss above us (e.g. after slow start): grow from here.
        this.wMax = cwndSeg;
        this.k = 0;
      } else this.k = Math.cbrt((this.wMax - cwndSeg) / CUBIC_C);
    }
    const t = (now - this.epochStart) / 1000;
    const rttS = (rtt ?? 0) / 1000;
    // §4.2: aim at W_cubic one RTT ahead, growing by at most half the window per RTT.
    let target = this.windowAt(t + rttS);
    target = Math.min(Math.max(target, cwndSeg), 1.5 * cwndSeg);
    // §4.3: the Reno-friendly estimate grows by alpha segments per RTT (acked / cwnd per ACK).
    this.wEst += (ALPHA_CUBIC * acked) / mss / cwndSeg;
    let next: number;
    if (this.windowAt(t) < this.wEst) next = this.wEst;
    else next = cwndSeg + ((target - cwndSeg) * (acked / mss)) / cwndSeg;
    // Fractional bytes are kept so that tiny per-ACK increments add up; never shrink here.
    this.cwnd = Math.max(this.cwnd, next * mss);
  }

  onLoss(flight: number, mss: number, _now: number): void {
    this.reduce(flight, mss);
  }

  onTimeout(flight: number, mss: number, _now: number): void {
    this.reduce(flight, mss);
    this.cwnd = mss;
  }

  /** §4.6 multiplicative decrease with §4.7 fast convergence; cwnd follows ssthresh at recovery exit. */
  private reduce(flight: number, mss: number): void {
    this.hystart.done = true; // RFC 9406 §4.2: a loss ends slow start and HyStart++ with it
    const cwndSeg = this.cwnd / mss;
    this.wMax = cwndSeg < this.wMax ? (cwndSeg * (1 + CUBIC_BETA)) / 2 : cwndSeg;
    // Linux (and §4.6) scale the window in flight rather than cwnd when the sender was app-limited.
    const base = Math.min(this.cwnd, Math.max(flight, 2 * mss));
    this.ssthresh = Math.max(Math.floor(base * CUBIC_BETA), 2 * mss);
    this.epochStart = undefined;
  }
}

/** A fresh algorithm instance by name, starting from the initial window. */
export function congestionControl(name: CongestionAlgorithm, initialWindow: number): CongestionControl {
  return name === 'reno' ? new Reno(initialWindow) : new Cubic(initialWindow);
}
