/**
 * Bookkeeping for out-of-order TCP data: which byte ranges beyond the contiguous point have
 * arrived. The bytes themselves are written straight into the receive ring past its tail;
 * this only records the ranges. Memory is bounded twice: ranges lie inside the receive window,
 * and at most `maxRanges` separate ranges (holes + 1) are kept; a segment that would need more
 * is refused and will be retransmitted.
 *
 * @module
 */

/** Sorted, disjoint, non-adjacent byte ranges relative to the contiguous point. */
export class Assembler {
  private ranges: [start: number, end: number][] = [];
  /** How many ranges are held (a field: TCP asks for every segment whether any are). */
  readonly size: number = 0;

  constructor(private readonly maxRanges = 32) {}

  isEmpty(): boolean {
    return this.size === 0;
  }

  /** Replaces the ranges (the only writer of them and of {@link size}). */
  private setRanges(ranges: [number, number][]): void {
    this.ranges = ranges;
    (this as { size: number }).size = ranges.length;
  }

  /** The ranges held, as [start, end) offsets from the contiguous point. */
  held(): readonly (readonly [number, number])[] {
    return this.ranges;
  }

  /**
   * Records bytes [offset, offset+size). Returns false (nothing recorded) when that would
   * exceed the range limit.
   */
  add(offset: number, size: number): boolean {
    if (size <= 0) return true;
    let start = offset;
    let end = offset + size;
    const out: [number, number][] = [];
    let i = 0;
    const rs = this.ranges;
    while (i < rs.length && rs[i]![1] < start) out.push(rs[i++]!);
    while (i < rs.length && rs[i]![0] <= end) {
      start = Math.min(start, rs[i]![0]);
      end = Math.max(end, rs[i]![1]);
      i++;
    }
    out.push([start, end]);
    while (i < rs.length) out.push(rs[i++]!);
    if (out.length > this.maxRanges) return false;
    this.setRanges(out);
    return true;
  }

  /**
   * Advances the contiguous point by `n` bytes just delivered in order, and returns how many
   * further bytes are now contiguous (already held past them), removing those too.
   */
  advance(n: number): number {
    if (this.ranges.length === 0) return 0; // in-order data with no hole: the usual case
    const shifted: [number, number][] = [];
    for (const [s, e] of this.ranges) {
      if (e <= n) continue;
      shifted.push([Math.max(s - n, 0), e - n]);
    }
    let extra = 0;
    if (shifted.length > 0 && shifted[0]![0] === 0) {
      extra = shifted[0]![1];
      shifted.shift();
      for (const r of shifted) {
        r[0] -= extra;
        r[1] -= extra;
      }
    }
    this.setRanges(shifted);
    return extra;
  }

  clear(): void {
    this.setRanges([]);
  }
}
