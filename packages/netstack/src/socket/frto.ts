/**
 * Spurious retransmission timeouts: after an RTO the sender cuts its window to one segment and
 * resends from SND.UNA, but a timeout can be caused by a delay (a route change, a long queue)
 * rather than a loss. Two detectors tell the cases apart, as Linux's tcp_process_loss does
 * (net.ipv4.tcp_frto=2):
 *
 * - Eifel (RFC 3522, Linux tcp_packet_delayed): the first ACK that advances SND.UNA echoes in
 *   its TSecr a timestamp older than our first retransmission, so the original got through.
 * - F-RTO (RFC 5682 §3, the SACK-enhanced variant): data that was sent before the timeout and
 *   never resent is acknowledged or SACKed; if the first ACK only covers the resent segment,
 *   two new segments go out instead of more resends, and what the next ACK covers decides.
 *
 * A spurious timeout is undone (cwnd and ssthresh come back, nothing more is resent); a real
 * one continues as the conventional go-back-N recovery.
 *
 * The detector keeps the episode's facts (its high mark, what was resent, what was SACKed
 * before the timeout) and gives a verdict per ACK; the connection acts on it.
 *
 * @module
 */
import { seqDiff, seqLt, type SackBlock } from '../wire/tcp.js';

/** What an ACK in a timeout's loss episode means for the sender. */
export type LossAckVerdict =
  /** Nothing changes: the conventional recovery goes on. */
  | 'none'
  /** Eifel: the ACK echoes a timestamp older than the first retransmission (Linux TCPLossUndo). */
  | 'undo-delayed'
  /** F-RTO step 3.b: never-resent data was delivered (Linux TCPSpuriousRTOs and TCPLossUndo). */
  | 'undo-spurious'
  /** F-RTO step 2.b: send up to two new segments, then judge by the next ACK. */
  | 'send-new'
  /** F-RTO step 3.a: the new segments were SACKed or duplicate-ACKed alone: the loss is real. */
  | 'probe-failed'
  /** SND.UNA reached the episode's high mark: the loss state is over. */
  | 'recovered';

/** The facts of one ACK that the detector needs (sequence numbers after the ACK was applied). */
export interface LossAck {
  /** SND.UNA before and after this ACK. */
  readonly unaBefore: number;
  readonly una: number;
  /** SND.MAX (the highest sequence number sent). */
  readonly sndMax: number;
  /** The end of the payload sent (the FIN's sequence number once it went out, else SND.MAX). */
  readonly dataEnd: number;
  /** TSecr when timestamps are on and the ACK echoed one. */
  readonly tsEcr: number | undefined;
  /** The ACK's SACK blocks (with SACK negotiated), the first a D-SACK when `dsack`. */
  readonly sackBlocks: readonly SackBlock[] | undefined;
  readonly dsack: boolean;
  /** A duplicate ACK (RFC 5681 §2 / RFC 6675 §2), and whether it SACKed bytes not SACKed before. */
  readonly duplicate: boolean;
  readonly sackNews: boolean;
  /** Unsent data is queued (F-RTO step 2.b needs some). */
  readonly newDataQueued: boolean;
  /** The episode's reduction may still be undone (Linux's undo_marker is set). */
  readonly undoArmed: boolean;
}

type Range = [start: number, end: number];

/** Ranges kept per list; past this the detector can no longer tell resent from original data. */
const MAX_RANGES = 64;

/** One connection's detector of spurious timeouts. */
export class SpuriousRtoDetector {
  /** A timeout's loss episode is running (Linux's TCP_CA_Loss). */
  inLoss = false;
  /** F-RTO is still judging this episode (Linux's tp->frto). */
  private frto = false;
  /** The episode's high mark (Linux's high_seq): SND.MAX at the timeout, or when new data went out. */
  private high = 0;
  /** F-RTO step 2.b moved SND.NXT to send new data instead of resending. */
  private probing = false;
  /** TSval of the episode's first retransmission (Linux's retrans_stamp). */
  private retransStamp: number | undefined;
  /** What was resent in the episode (and before it, still unacknowledged). */
  private resent: Range[] = [];
  /** What the peer had SACKed when the timeout fired (the scoreboard forgets it then). */
  private sacked: Range[] = [];

  /**
   * The retransmission timer fired: a loss episode begins, or a repeated timeout renews it (the
   * episode's first retransmission time and what was resent stay). `frto`: F-RTO may judge it
   * (Linux: tcp_frto set, and no fast recovery was running unless this timeout repeats one).
   * `sacked`: the scoreboard's ranges; `resent`: what was resent before and is unacknowledged.
   */
  onTimeout(
    sndMax: number,
    frto: boolean,
    sacked: readonly (readonly [number, number])[],
    resent: readonly (readonly [number, number])[],
  ): void {
    if (!this.inLoss) {
      this.retransStamp = undefined;
      this.resent = [];
      this.sacked = [];
    }
    this.inLoss = true;
    this.frto = frto;
    this.high = sndMax;
    this.probing = false;
    for (const [s, e] of sacked) addRange(this.sacked, s, e);
    for (const [s, e] of resent) addRange(this.resent, s, e);
    if (this.sacked.length > MAX_RANGES || this.resent.length > MAX_RANGES) this.frto = false;
  }

  /** The SACKed ranges of the timeout, to restore the scoreboard on an undo. */
  sackedAtTimeout(): readonly (readonly [number, number])[] {
    return this.sacked;
  }

  /** Payload [seq, end) was sent again at TSval `tsVal` during the episode. */
  retransmitted(seq: number, end: number, tsVal: number): void {
    this.retransStamp ??= tsVal;
    addRange(this.resent, seq, end);
    if (this.resent.length > MAX_RANGES) this.frto = false;
  }

  /** The new data of step 2.b could not be sent (no window): conventional recovery. */
  probeAbandoned(): void {
    this.frto = false;
    this.probing = false;
  }

  /** The episode ended some other way (the connection closed, a D-SACK undo). */
  end(): void {
    this.inLoss = false;
    this.frto = false;
    this.probing = false;
    this.resent = [];
    this.sacked = [];
  }

  /** Judges one ACK of the episode (Linux tcp_process_loss with tcp_try_undo_loss). */
  onAck(a: LossAck): LossAckVerdict {
    const advanced = a.una !== a.unaBefore;
    const recovered = !seqLt(a.una, this.high);
    if (advanced && a.undoArmed && this.delayed(a.tsEcr)) return this.finish('undo-delayed');
    if (this.frto) {
      // Step 3.b: data never resent arrived, so the timeout was spurious.
      if (this.originalDelivered(a)) return this.finish('undo-spurious');
      if (seqLt(this.high, a.sndMax)) {
        // New data went out after the timeout; an ACK that only SACKs it or repeats SND.UNA
        // shows the old data is really missing (step 3.a).
        if (a.sackNews || a.duplicate) {
          const probed = this.probing;
          this.frto = false;
          this.probing = false;
          if (probed) return 'probe-failed';
        }
      } else if (advanced && !recovered) {
        // Step 2.b: the resent segment was acknowledged; probe with new data if there is any.
        if (a.newDataQueued) {
          this.high = a.sndMax;
          this.probing = true;
          return 'send-new';
        }
        this.frto = false;
      }
    }
    if (recovered) return this.finish('recovered');
    return 'none';
  }

  private finish(v: LossAckVerdict): LossAckVerdict {
    this.end();
    return v;
  }

  /** Eifel: the ACK echoes a TSval from before the first retransmission. */
  private delayed(tsEcr: number | undefined): boolean {
    return tsEcr !== undefined && this.retransStamp !== undefined && seqLt(tsEcr, this.retransStamp);
  }

  /**
   * Whether the ACK newly acknowledges or SACKs payload sent before the high mark that was
   * neither resent nor SACKed before the timeout (Linux's FLAG_ORIG_SACK_ACKED).
   */
  private originalDelivered(a: LossAck): boolean {
    const limit = seqLt(a.dataEnd, this.high) ? a.dataEnd : this.high;
    if (this.hasOriginal(a.unaBefore, seqLt(a.una, limit) ? a.una : limit)) return true;
    const blocks = a.sackBlocks;
    if (!blocks) return false;
    for (let i = a.dsack ? 1 : 0; i < blocks.length; i++) {
      const [l, r] = blocks[i]!;
      const s = seqLt(l, a.una) ? a.una : l;
      const e = seqLt(limit, r) ? limit : r;
      if (seqDiff(r, l) <= 0x3fffffff && this.hasOriginal(s, e)) return true;
    }
    return false;
  }

  /** Some byte of [s, e) is in neither the resent nor the SACKed-at-timeout ranges. */
  private hasOriginal(s: number, e: number): boolean {
    let cur = s;
    while (seqLt(cur, e)) {
      const next = coveredUntil(this.resent, cur) ?? coveredUntil(this.sacked, cur);
      if (next === undefined) return true;
      cur = next;
    }
    return false;
  }
}

/** If `seq` lies in one of `ranges`, the end of that range. */
function coveredUntil(ranges: readonly Range[], seq: number): number | undefined {
  for (const [s, e] of ranges) if (!seqLt(seq, s) && seqLt(seq, e)) return e;
  return undefined;
}

/** Adds [s, e) to a sorted list of disjoint ranges, merging what touches it. */
function addRange(ranges: Range[], s: number, e: number): void {
  if (!seqLt(s, e)) return;
  let i = 0;
  while (i < ranges.length && seqLt(ranges[i]![1], s)) i++;
  let j = i;
  let start = s;
  let end = e;
  while (j < ranges.length && !seqLt(end, ranges[j]![0])) {
    if (seqLt(ranges[j]![0], start)) start = ranges[j]![0];
    if (seqLt(end, ranges[j]![1])) end = ranges[j]![1];
    j++;
  }
  ranges.splice(i, j - i, [start, end]);
}
