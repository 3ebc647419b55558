/**
 * Proportional Rate Reduction (RFC 6937), as Linux's tcp_cwnd_reduction runs it during fast
 * recovery: instead of halving the window at once (a pause of half an RTT, then a burst), the
 * sender sends in proportion to what the receiver reports delivered, so that by the end of
 * recovery it has sent about ssthresh worth per RTT; once the pipe has fallen below ssthresh
 * it may grow back toward it by at most one MSS more than was delivered (slow start reduction
 * bound, PRR-SSRB). All quantities are bytes.
 *
 * @module
 */

/** One recovery episode's PRR counters. */
export class Prr {
  /** prr_delivered, prr_out, and RecoverFS (Linux uses the window before the reduction). */
  private delivered = 0;
  private out = 0;
  private recoverFs = 1;
  /**
   * Delivered since the sender last had the chance to send: ACKs processed together before one
   * transmission round each add their credit, as they would with a send after each ACK.
   */
  private pending = 0;
  /** The most PRR let out at one ACK of this round (later ACKs of a round never take it back). */
  private allowance = 0;

  /**
   * Recovery begins with `priorCwnd` as the window being reduced. `batchCredit`: bytes the
   * ACKs handled since the sender's last turn delivered before this one; with a send after
   * each ACK their room would already be filled again, so it counts as credit for the bounds
   * that apply below ssthresh (not for the proportional part).
   */
  start(priorCwnd: number, batchCredit = 0): void {
    this.delivered = 0;
    this.out = 0;
    this.pending = Math.max(0, batchCredit);
    this.allowance = 0;
    this.recoverFs = Math.max(1, priorCwnd);
  }

  /** Bytes (new or resent) sent during recovery. */
  sent(bytes: number): void {
    this.out += bytes;
  }

  /** The sender had its chance to send what the window allowed: later ACKs bring new credit. */
  roundDone(): void {
    this.pending = 0;
    this.allowance = 0;
  }

  /**
   * An ACK reported `deliveredData` bytes delivered (SND.UNA advance plus newly SACKed); the
   * window to use now is the pipe plus what PRR lets out (`sndcnt`). `unaAdvanced` and
   * `newlyLost` choose Linux's bound below ssthresh: SSRB when the ACK moved SND.UNA and marked
   * nothing lost, else no more than was delivered. The first call always lets one MSS out
   * (the fast retransmit).
   */
  cwnd(
    deliveredData: number,
    pipe: number,
    ssthresh: number,
    mss: number,
    unaAdvanced: boolean,
    newlyLost: boolean,
  ): number {
    // Linux: an ACK that delivers nothing changes nothing.
    if (deliveredData <= 0) return pipe + this.allowance;
    this.delivered += deliveredData;
    this.pending += deliveredData;
    const credit = this.pending;
    const delta = ssthresh - pipe;
    let sndcnt: number;
    if (delta < 0) {
      // Proportional part: sent so far tracks delivered * ssthresh / RecoverFS.
      sndcnt = Math.ceil((this.delivered * ssthresh) / this.recoverFs) - this.out;
    } else if (unaAdvanced && !newlyLost) {
      sndcnt = Math.min(delta, Math.max(this.delivered - this.out, credit) + mss);
    } else sndcnt = Math.min(delta, credit);
    sndcnt = Math.max(sndcnt, this.out === 0 ? mss : 0);
    this.allowance = Math.max(this.allowance, sndcnt);
    return pipe + this.allowance;
  }
}
