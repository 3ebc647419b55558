/**
 * RACK loss detection (RFC 8985 §6, Linux's tcp_recovery=1): a segment is lost when a segment
 * sent after it has been delivered (ACKed or SACKed) and more than one RTT plus a reordering
 * window has passed since it was sent. Time, not a count of duplicate ACKs, decides, so a lost
 * retransmission is found like any other loss and mild reordering causes no retransmission.
 *
 * The connection reports every transmission (`sent`, `resent`) and every ACK (`onAck` with its
 * SACK scoreboard); `detectLoss` marks segments lost and says when to look again (the reorder
 * timer). The per-segment flags also give RFC 6675's pipe as Linux computes it
 * (packets_out - sacked_out - lost_out + retrans_out), and the next lost segment to resend.
 *
 * Segments are byte ranges of payload, kept in sequence order above SND.UNA. Ranges sent at the
 * same time with the same MSS are one entry (as Linux's TSO skbs: only the transmit time
 * matters; all but the last of its segments are full), split where a retransmission or a SACK
 * block ends inside one. Times are the stack's milliseconds.
 *
 * @module
 */
import { seqDiff, seqLe, seqLt } from '../wire/tcp.js';
import type { SackScoreboard } from './sack-scoreboard.js';

/** One transmitted range as RACK sees it. */
interface Segment {
  start: number;
  end: number;
  /** When it was (last) sent. */
  xmit: number;
  /** Marked lost, not yet resent since. */
  lost: boolean;
  /** A retransmission of it is in flight (Linux TCPCB_SACKED_RETRANS). */
  rtx: boolean;
  /** Ever retransmitted (its delivery time is ambiguous; its late arrival is no reordering). */
  everRtx: boolean;
  sacked: boolean;
  /** The MSS it was (last) sent with: its segments are that long, but for a short last one. */
  mss: number;
}

/** RFC 8985 §6.2: the reordering window grows by this much per D-SACK round, up to this many steps. */
const REO_WND_PERSIST = 16;
/** RFC 6675 DupThresh: without reordering seen, this many SACKed segments leave no reordering window. */
const DUP_THRESH = 3;

/** RACK's state for one connection. */
export class Rack {
  private segs: Segment[] = [];
  /**
   * Tracked segments that were ever resent (while none are, and nothing is SACKed, nothing can
   * be lost: see {@link mayDetect}, which the connection may ask this way without a call).
   */
  readonly resentCount: number = 0;

  /** Moves {@link resentCount} (its only writer). */
  private countResent(delta: number): void {
    (this as { resentCount: number }).resentCount += delta;
  }
  /** RACK.xmit_ts, RACK.end_seq, RACK.rtt: the most recently sent segment known delivered. */
  private xmitTs = -Infinity;
  private endSeq = 0;
  private rtt = 0;
  /** RACK.fack: the highest sequence number known delivered. */
  private fack: number | undefined;
  /** RACK.reordering_seen, and the D-SACK-driven window multiplier (RACK.reo_wnd_mult). */
  reorderingSeen = false;
  private reoWndMult = 1;
  private reoWndPersist = 0;
  /** A D-SACK round: the multiplier grows at most once until SND.UNA passes this. */
  private dsackRoundEnd: number | undefined;

  /** Forgets everything (a new connection). */
  reset(): void {
    this.segs = [];
    this.countResent(-this.resentCount);
    this.xmitTs = -Infinity;
    this.fack = undefined;
  }

  /** New data [start, end) left at `now` in segments of `mss`. */
  sent(start: number, end: number, now: number, mss: number): void {
    // (seqLt written out here and in onAck: they run for every segment.)
    if (((end - start) | 0) <= 0) return;
    const last = this.segs[this.segs.length - 1];
    if (last && ((last.end - start) | 0) > 0) {
      // Overlaps what is tracked: a go-back-N resend, perhaps reaching past the highest byte sent.
      const top = last.end;
      this.resent(start, seqLt(end, top) ? end : top, now, mss);
      if (seqLt(top, end)) this.sent(top, end, now, mss);
      return;
    }
    if (
      last &&
      last.end === start &&
      last.xmit === now &&
      last.mss === mss &&
      ((last.end - last.start) | 0) % mss === 0 && // no short segment before this one
      !last.everRtx &&
      !last.lost &&
      !last.sacked
    ) {
      last.end = end; // sent together: one range, one allocation less per segment
      return;
    }
    this.segs.push({ start, end, xmit: now, lost: false, rtx: false, everRtx: false, sacked: false, mss });
  }

  /** [start, end) was sent again at `now`, in segments of `mss`. */
  resent(start: number, end: number, now: number, mss: number): void {
    this.split(start);
    this.split(end);
    for (const s of this.segs) {
      if (seqLe(end, s.start)) break;
      if (seqLe(s.end, start)) continue;
      s.mss = mss;
      s.xmit = now; // still lost if it was (Linux keeps TCPCB_LOST): pipe counts the resend only
      s.rtx = true;
      if (!s.everRtx) this.countResent(1);
      s.everRtx = true;
    }
  }

  /** Makes `seq` a segment boundary (when it falls inside one). */
  private split(seq: number): void {
    const segs = this.segs;
    for (let i = 0; i < segs.length; i++) {
      const s = segs[i]!;
      if (seqLe(seq, s.start)) return;
      if (seqLt(seq, s.end)) {
        segs.splice(i + 1, 0, { ...s, start: seq });
        s.end = seq;
        if (s.everRtx) this.countResent(1);
        return;
      }
    }
  }

  /**
   * An ACK: `una` is the new SND.UNA, `sb` the scoreboard after it. Updates RACK.xmit_ts/rtt
   * from the segments this ACK delivers (RFC 8985 §6.2 steps 1-3), skipping retransmissions
   * whose delivery may be the original's (sent again less than `minRtt` ago), and notes
   * reordering: a never-retransmitted segment delivered below RACK.fack.
   */
  onAck(una: number, sb: SackScoreboard, now: number, minRtt: number): void {
    const segs = this.segs;
    let k = 0;
    while (k < segs.length && ((una - segs[k]!.end) | 0) >= 0) {
      const s = segs[k++]!;
      if (s.everRtx) this.countResent(-1);
      if (!s.sacked) this.delivered(s, now, minRtt);
    }
    if (k > 0) segs.splice(0, k);
    const head = segs[0];
    if (head && ((una - head.start) | 0) > 0) head.start = una;
    if (sb.bytes === 0) return; // nothing SACKed
    // A SACK block edge inside a range splits it, so that a range is SACKed whole or not at all.
    for (const [start, end] of sb.held()) {
      this.split(start);
      this.split(end);
    }
    for (const s of segs) {
      if (s.sacked || !sb.isSacked(s.start)) continue;
      if (sb.unsackedBetween(s.start, s.end) > 0) continue;
      s.sacked = true;
      s.lost = false;
      s.rtx = false;
      this.delivered(s, now, minRtt);
    }
  }

  private delivered(s: Segment, now: number, minRtt: number): void {
    if (this.fack !== undefined && seqLt(s.end, this.fack) && !s.everRtx) this.reorderingSeen = true;
    if (this.fack === undefined || seqLt(this.fack, s.end)) this.fack = s.end;
    const rtt = now - s.xmit;
    if (s.everRtx && rtt < minRtt) return; // the original's ACK, most likely: no RTT from it
    if (s.xmit > this.xmitTs || (s.xmit === this.xmitTs && seqLt(this.endSeq, s.end))) {
      this.xmitTs = s.xmit;
      this.endSeq = s.end;
      this.rtt = rtt;
    }
  }

  /**
   * A D-SACK arrived: a retransmission was needless, so reordering happens on this path; the
   * window grows one step per round trip with D-SACKs (RFC 8985 §6.2 step 4).
   */
  onDsack(una: number, sndMax: number): void {
    this.reorderingSeen = true;
    if (this.dsackRoundEnd !== undefined && seqLt(una, this.dsackRoundEnd)) return;
    this.dsackRoundEnd = sndMax;
    this.reoWndMult = Math.min(this.reoWndMult + 1, 255);
    this.reoWndPersist = REO_WND_PERSIST;
  }

  /** A loss recovery ended: after 16 without D-SACKs the window shrinks back. */
  onRecoveryEnd(): void {
    if (this.reoWndPersist > 0 && --this.reoWndPersist === 0) this.reoWndMult = 1;
  }

  /**
   * RACK.reo_wnd (Linux tcp_rack_reo_wnd): none before any reordering was seen if recovery is
   * on or DupThresh segments are SACKed; else a quarter of the minimum RTT per step, at most SRTT.
   */
  reorderWindow(minRtt: number, srtt: number, inRecovery: boolean): number {
    if (!this.reorderingSeen && (inRecovery || this.sackedSegments() >= DUP_THRESH)) return 0;
    return Math.min((minRtt / 4) * this.reoWndMult, srtt);
  }

  private sackedSegments(): number {
    let n = 0;
    for (const s of this.segs) if (s.sacked) n++;
    return n;
  }

  /**
   * Whether {@link detectLoss} could find anything: only when something is SACKed (`sacked`)
   * or was resent can a segment sent later have been delivered before an earlier one.
   */
  mayDetect(sacked: boolean): boolean {
    return sacked || this.resentCount > 0;
  }

  /**
   * RFC 8985 §6.2 step 5: marks lost every unSACKed segment sent before the RACK segment whose
   * deadline (sent + RACK.rtt + `reoWnd`) has passed. Returns the bytes newly marked and, if
   * some segment's deadline is still ahead, how long until the last of them (the reorder timer).
   */
  detectLoss(now: number, reoWnd: number): { lost: number; wait: number | undefined } {
    let lost = 0;
    let wait: number | undefined;
    if (this.xmitTs === -Infinity) return { lost, wait };
    for (const s of this.segs) {
      if (s.sacked || (s.lost && !s.rtx)) continue;
      const before = s.xmit < this.xmitTs || (s.xmit === this.xmitTs && seqLt(s.end, this.endSeq));
      if (!before) continue;
      const remaining = s.xmit + this.rtt + reoWnd - now;
      if (remaining <= 0) {
        s.lost = true;
        s.rtx = false;
        lost += seqDiff(s.end, s.start);
      } else if (wait === undefined || remaining > wait) wait = remaining;
    }
    return { lost, wait };
  }

  /** After a retransmission timeout: every unSACKed segment is lost (Linux tcp_enter_loss). */
  onTimeout(): void {
    for (const s of this.segs) {
      s.sacked = false;
      s.lost = true;
      s.rtx = false;
    }
  }

  /**
   * The timeout proved spurious (Linux tcp_undo_cwnd_reduction unmarking losses): nothing is
   * lost any more; resends in flight stay counted (they are in the network too).
   */
  undoTimeout(): void {
    for (const s of this.segs) s.lost = false;
  }

  /**
   * tcp_simple_retransmit's marking once the path MTU fell: every unSACKed range whose segments
   * are longer than `mss` (tcp_skb_seglen: the MSS it was sent with, or its length when that is
   * shorter) is lost, a resend of it in flight too. Returns whether anything is lost now.
   */
  markLongerThan(mss: number): boolean {
    let any = false;
    for (const s of this.segs) {
      if (s.sacked) continue;
      const len = seqDiff(s.end, s.start);
      if ((len < s.mss ? len : s.mss) > mss) {
        s.lost = true;
        s.rtx = false;
      }
      if (s.lost) any = true;
    }
    return any;
  }

  /** The first segment marked lost and not yet resent, as [start, end). */
  nextLost(): readonly [number, number] | undefined {
    for (const s of this.segs) if (s.lost && !s.rtx && !s.sacked) return [s.start, s.end];
    return undefined;
  }

  /** Bytes marked lost (resent or not) and bytes resent still in flight, for TCP_INFO. */
  counts(): { lost: number; retrans: number } {
    let lost = 0;
    let retrans = 0;
    for (const s of this.segs) {
      if (s.sacked) continue;
      if (s.lost) lost += seqDiff(s.end, s.start);
      if (s.rtx) retrans += seqDiff(s.end, s.start);
    }
    return { lost, retrans };
  }

  /** Payload bytes in the network (Linux's in_flight: sent, less SACKed, less lost, plus resent). */
  pipe(): number {
    let n = 0;
    for (const s of this.segs) {
      if (s.sacked) continue;
      const len = seqDiff(s.end, s.start);
      if (!s.lost) n += len;
      if (s.rtx) n += len;
    }
    return n;
  }
}
