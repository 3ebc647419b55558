/**
 * The sender's SACK scoreboard (RFC 6675 §3): which bytes above SND.UNA the peer reported in
 * SACK blocks (RFC 2018), and the derived questions loss recovery asks: is a byte lost
 * (IsLost), how many bytes are in the network (SetPipe's inputs), and where the next hole is
 * (NextSeg's first rule).
 *
 * Memory is bounded: at most `maxRanges` disjoint ranges are kept; when a block would need
 * more, the highest range is forgotten. Forgetting SACK information only makes the sender
 * more conservative (it may resend bytes the peer has), never wrong.
 *
 * @module
 */
import { seqDiff, seqLe, seqLt, type SackBlock } from '../wire/tcp.js';

/** RFC 6675 DupThresh. */
export const DUP_THRESH = 3;

/** SACKed sequence ranges [start, end), sorted and disjoint, all above SND.UNA. */
export class SackScoreboard {
  private ranges: [start: number, end: number][] = [];
  /**
   * Bytes SACKed in total ({@link sackedBytes}; 0 exactly when empty, as no range is empty), a
   * field kept as the ranges change: every ACK asks, SACK or not.
   */
  readonly bytes: number = 0;

  constructor(private readonly maxRanges = 32) {}

  isEmpty(): boolean {
    return this.ranges.length === 0;
  }

  /** Sets {@link bytes} from the ranges (its only writer). */
  private recount(): void {
    const rs = this.ranges;
    let n = 0;
    for (let i = 0; i < rs.length; i++) n += seqDiff(rs[i]![1], rs[i]![0]);
    (this as { bytes: number }).bytes = n;
  }

  /** The SACKed ranges, lowest first. */
  held(): readonly (readonly [number, number])[] {
    return this.ranges;
  }

  /** Bytes SACKed in total. */
  sackedBytes(): number {
    return this.bytes;
  }

  /** Forgets everything (RFC 2018 §8: after a retransmission timeout, since the peer may have reneged). */
  clear(): void {
    this.ranges = [];
    this.recount();
  }

  /** SND.UNA moved to `una`: forget what is now cumulatively acknowledged. */
  advance(una: number): void {
    const rs = this.ranges;
    if (rs.length === 0) return;
    let i = 0;
    while (i < rs.length && seqLe(rs[i]![1], una)) i++;
    if (i > 0) rs.splice(0, i);
    if (rs.length > 0 && seqLt(rs[0]![0], una)) rs[0]![0] = una;
    this.recount();
  }

  /**
   * Records the blocks of one ACK. Blocks outside (una, max] (D-SACKs, stale or bogus ones)
   * are ignored. Returns the number of bytes newly SACKed.
   */
  update(blocks: readonly SackBlock[], una: number, max: number): number {
    const before = this.sackedBytes();
    for (const [l, r] of blocks) {
      if (!seqLt(l, r) || !seqLt(una, r) || seqLt(max, r) || seqDiff(r, l) > 0x3fffffff) continue;
      this.add(seqLt(l, una) ? una : l, r);
    }
    return this.sackedBytes() - before;
  }

  private add(start: number, end: number): void {
    const rs = this.ranges;
    const out: [number, number][] = [];
    let i = 0;
    while (i < rs.length && seqLt(rs[i]![1], start)) out.push(rs[i++]!);
    let s = start;
    let e = end;
    while (i < rs.length && seqLe(rs[i]![0], e)) {
      if (seqLt(rs[i]![0], s)) s = rs[i]![0];
      if (seqLt(e, rs[i]![1])) e = rs[i]![1];
      i++;
    }
    out.push([s, e]);
    while (i < rs.length) out.push(rs[i++]!);
    if (out.length > this.maxRanges) out.length = this.maxRanges; // drop the highest
    this.ranges = out;
    this.recount();
  }

  /** Whether `seq` is SACKed. */
  isSacked(seq: number): boolean {
    for (const [s, e] of this.ranges) {
      if (seqLt(seq, s)) return false;
      if (seqLt(seq, e)) return true;
    }
    return false;
  }

  /**
   * RFC 6675 IsLost as a boundary: every unSACKed byte below the returned sequence number is
   * lost (DupThresh discontiguous SACKed ranges, or more than (DupThresh - 1) * SMSS SACKed
   * bytes, lie above it); bytes at or above it are not. `una` when nothing is lost.
   */
  lossBoundary(una: number, mss: number): number {
    let bytes = 0;
    for (let i = this.ranges.length - 1, count = 1; i >= 0; i--, count++) {
      const [s, e] = this.ranges[i]!;
      bytes += seqDiff(e, s);
      if (count >= DUP_THRESH || bytes > (DUP_THRESH - 1) * mss) return s;
    }
    return una;
  }

  /** UnSACKed bytes in [from, to). */
  unsackedBetween(from: number, to: number): number {
    if (!seqLt(from, to)) return 0;
    let n = seqDiff(to, from);
    for (const [s, e] of this.ranges) {
      if (!seqLt(s, to)) break;
      const lo = seqLt(s, from) ? from : s;
      const hi = seqLt(e, to) ? e : to;
      if (seqLt(lo, hi)) n -= seqDiff(hi, lo);
    }
    return n;
  }

  /**
   * The first unSACKed range [start, end) at or after `from` and before `limit` (clipped to
   * it), or undefined when everything there is SACKed.
   */
  nextHole(from: number, limit: number): readonly [number, number] | undefined {
    let cur = from;
    for (const [s, e] of this.ranges) {
      if (!seqLt(cur, limit)) return undefined;
      if (seqLe(e, cur)) continue;
      if (seqLt(cur, s)) return [cur, seqLt(s, limit) ? s : limit];
      cur = e; // cur is inside this range: skip past it
    }
    return seqLt(cur, limit) ? [cur, limit] : undefined;
  }

  /** The highest SACKed sequence number (exclusive end), if any. */
  highest(): number | undefined {
    return this.ranges.length > 0 ? this.ranges[this.ranges.length - 1]![1] : undefined;
  }
}
