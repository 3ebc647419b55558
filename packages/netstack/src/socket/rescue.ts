/**
 * RFC 6675's rescue retransmission (§4, NextSeg rule 4, the RescueRxt variable): when the last
 * segments of a window are lost and no new data is waiting, no later segment can be SACKed to
 * reveal the loss, so SACK recovery would stall until the retransmission timeout. Once per
 * recovery episode, after the first retransmission was acknowledged, the sender may resend one
 * segment holding the highest unSACKed byte instead; its ACK or SACK restarts the ACK clock.
 *
 * It serves recovery by RFC 6675's own rules (`rack: false`); with RACK, tail loss probes
 * (RFC 8985 §7) do this job, as on Linux, which has no rescue retransmission.
 *
 * @module
 */
import { seqAdd, seqLt } from '../wire/tcp.js';
import type { SackScoreboard } from './sack-scoreboard.js';

/** RescueRxt of one connection, kept per recovery episode (named by its RecoveryPoint). */
export class RescueRetransmission {
  /** The RecoveryPoint of the episode the state belongs to. */
  private episode: number | undefined;
  /**
   * RescueRxt as an exclusive end: a rescue may go once SND.UNA has reached it (RFC 6675:
   * HighACK > RescueRxt). Step 4.3 sets it to the end of the first retransmission; a rescue sets
   * it to RecoveryPoint, which SND.UNA reaches only when recovery is over.
   */
  private rescueRxt = 0;

  /** Recovery toward `recoveryPoint` began and its first retransmission ended at `end` (step 4.3). */
  start(recoveryPoint: number, end: number): void {
    this.episode = recoveryPoint;
    this.rescueRxt = end;
  }

  /** A rescue segment was sent in the episode: no other until the next episode. */
  used(recoveryPoint: number): void {
    this.episode = recoveryPoint;
    this.rescueRxt = recoveryPoint;
  }

  /**
   * NextSeg rule 4, asked when rules 1-3 found nothing: the range [seq, limit) to resend (at
   * most `mss` bytes of payload from `seq`, the FIN too when it lies at `dataEnd` below `limit`),
   * ending with the highest unSACKed sequence number below SND.MAX; undefined when no rescue is
   * allowed or every byte is SACKed.
   */
  candidate(
    recoveryPoint: number,
    una: number,
    sndMax: number,
    dataEnd: number,
    sb: SackScoreboard,
    mss: number,
  ): readonly [number, number] | undefined {
    if (this.episode !== recoveryPoint || seqLt(una, this.rescueRxt)) return undefined;
    // The last hole: below SND.MAX, or below the highest SACKed range when that reaches it.
    const held = sb.held();
    let i = held.length - 1;
    let end = sndMax;
    if (i >= 0 && !seqLt(held[i]![1], sndMax)) end = held[i--]![0];
    const start = i >= 0 ? held[i]![1] : una;
    if (!seqLt(start, end)) return undefined;
    const payloadEnd = seqLt(dataEnd, end) ? dataEnd : end;
    const from = seqAdd(payloadEnd, -mss);
    return [seqLt(from, start) ? start : from, end];
  }
}
