/**
 * IPv4 fragmentation (RFC 791 §3.2) and reassembly with bounded memory. Reassembly keeps at
 * most `maxDatagrams` partial datagrams and `maxBytes` of fragment data, forgets a datagram
 * `timeout` ms after its first fragment (Linux ipfrag_time: 30 s), and drops a datagram
 * whose fragments overlap (as Linux does since 4.19, and RFC 5722 asks for IPv6), so crafted
 * overlaps cannot rewrite data already checked.
 *
 * @module
 */
import { get16, set16 } from '../wire/bytes.js';
import { internetChecksum } from '../wire/checksum.js';
import type { Ipv4Packet } from '../wire/ipv4.js';

/** Reassembly limits. */
export interface ReassemblyLimits {
  readonly maxDatagrams: number;
  readonly maxBytes: number;
  readonly timeout: number;
}

const DEFAULT_LIMITS: ReassemblyLimits = { maxDatagrams: 64, maxBytes: 4 << 20, timeout: 30_000 };

interface PartialDatagram {
  readonly created: number;
  /** The first fragment's header (with its options), once it arrived. */
  header: Uint8Array | undefined;
  /** Payload bytes at their offsets (grown as needed, at most 65535). */
  data: Uint8Array;
  /** Received [start, end) payload ranges, sorted and disjoint. */
  ranges: [number, number][];
  /** Payload length, known once the last fragment (MF clear) arrived. */
  total: number | undefined;
  bytes: number;
}

/** Collects IPv4 fragments into whole datagrams. */
export class Ipv4Reassembler {
  private readonly partial = new Map<string, PartialDatagram>();
  private bytes = 0;
  private readonly limits: ReassemblyLimits;
  /** Counters: datagrams completed, and dropped for overlap, timeout or limits. */
  readonly stats = { reassembled: 0, overlaps: 0, timeouts: 0, evicted: 0 };

  constructor(limits: Partial<ReassemblyLimits> = {}) {
    this.limits = { ...DEFAULT_LIMITS, ...limits };
  }

  /** Partial datagrams held. */
  get pending(): number {
    return this.partial.size;
  }

  /**
   * Adds one fragment (checksum already verified). Returns the whole datagram (header of the
   * first fragment, fragment fields cleared, checksum recomputed) when this fragment completes
   * it, else undefined.
   */
  add(now: number, p: Ipv4Packet): Uint8Array | undefined {
    this.expire(now);
    const b = p.buffer;
    const key = `${p.src.key}|${p.dst.key}|${p.protocol}|${p.ident}`;
    const offset = p.fragmentOffset;
    const payload = p.payload;
    const end = offset + payload.length;
    if (end > 65535 - p.headerLen) return undefined; // would exceed the largest datagram
    if (p.moreFragments && payload.length % 8 !== 0) return undefined; // RFC 791: only the last may be odd
    let d = this.partial.get(key);
    if (!d) {
      if (this.partial.size >= this.limits.maxDatagrams) this.evictOldest();
      d = {
        created: now,
        header: undefined,
        data: new Uint8Array(0),
        ranges: [],
        total: undefined,
        bytes: 0,
      };
      this.partial.set(key, d);
    }
    // Overlap (or a duplicate) with data already held: drop the whole datagram.
    if (d.ranges.some(([s, e]) => offset < e && end > s) || (d.total !== undefined && end > d.total)) {
      this.drop(key, d);
      this.stats.overlaps++;
      return undefined;
    }
    if (!p.moreFragments) {
      if (d.total !== undefined || d.ranges.some(([, e]) => e > end)) {
        this.drop(key, d);
        this.stats.overlaps++;
        return undefined;
      }
      d.total = end;
    }
    while (this.bytes + payload.length > this.limits.maxBytes && this.partial.size > 1) this.evictOldest(key);
    if (this.bytes + payload.length > this.limits.maxBytes) {
      this.drop(key, d);
      this.stats.evicted++;
      return undefined;
    }
    if (d.data.length < end) {
      const grown = new Uint8Array(Math.min(65535, Math.max(end, d.data.length * 2)));
      grown.set(d.data);
      d.data = grown;
    }
    d.data.set(payload, offset);
    d.bytes += payload.length;
    this.bytes += payload.length;
    d.ranges.push([offset, end]);
    d.ranges.sort((x, y) => x[0] - y[0]);
    if (offset === 0) d.header = b.slice(0, p.headerLen);
    // Complete when the ranges cover [0, total) without a gap.
    if (d.total === undefined || !d.header) return undefined;
    let covered = 0;
    for (const [s, e] of d.ranges) {
      if (s !== covered) return undefined;
      covered = e;
    }
    if (covered !== d.total) return undefined;
    const hl = d.header.length;
    const out = new Uint8Array(hl + d.total);
    out.set(d.header);
    out.set(d.data.subarray(0, d.total), hl);
    set16(out, 2, hl + d.total);
    set16(out, 6, get16(out, 6) & 0x4000); // keep DF, clear MF and the offset
    set16(out, 10, 0);
    set16(out, 10, internetChecksum(out, 0, hl));
    this.drop(key, d);
    this.stats.reassembled++;
    return out;
  }

  /** Forgets datagrams older than the timeout. */
  expire(now: number): void {
    for (const [key, d] of this.partial) {
      if (now - d.created < this.limits.timeout) continue;
      this.drop(key, d);
      this.stats.timeouts++;
    }
  }

  /** The time the oldest partial datagram expires, if any. */
  nextExpiry(): number | undefined {
    let t: number | undefined;
    for (const d of this.partial.values()) {
      const at = d.created + this.limits.timeout;
      if (t === undefined || at < t) t = at;
    }
    return t;
  }

  private evictOldest(except?: string): void {
    let oldest: [string, PartialDatagram] | undefined;
    for (const e of this.partial)
      if (e[0] !== except && (!oldest || e[1].created < oldest[1].created)) oldest = e;
    if (!oldest) return;
    this.drop(oldest[0], oldest[1]);
    this.stats.evicted++;
  }

  private drop(key: string, d: PartialDatagram): void {
    this.partial.delete(key);
    this.bytes -= d.bytes;
  }
}

/**
 * Splits an IPv4 packet (20-byte header, DF clear) into fragments of at most `mtu` bytes, each
 * with its own header, offset, MF flag, the identification `ident` and a fresh checksum.
 */
export function fragmentIpv4(packet: Uint8Array, mtu: number, ident: number): Uint8Array[] {
  const hl = (packet[0]! & 0x0f) * 4;
  const payload = packet.subarray(hl, get16(packet, 2));
  const step = Math.floor((mtu - hl) / 8) * 8;
  if (step <= 0) throw new RangeError(`MTU ${mtu} too small to fragment`);
  const out: Uint8Array[] = [];
  for (let off = 0; off < payload.length; off += step) {
    const chunk = payload.subarray(off, Math.min(off + step, payload.length));
    const f = new Uint8Array(hl + chunk.length);
    f.set(packet.subarray(0, hl));
    f.set(chunk, hl);
    set16(f, 2, f.length);
    set16(f, 4, ident);
    const more = off + chunk.length < payload.length;
    set16(f, 6, (more ? 0x2000 : 0) | (off / 8));
    set16(f, 10, 0);
    set16(f, 10, internetChecksum(f, 0, hl));
    out.push(f);
  }
  return out;
}
