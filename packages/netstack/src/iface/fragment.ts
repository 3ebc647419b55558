/**
 * IPv4 (RFC 791 §3.2) and IPv6 (RFC 8200 §4.5) fragmentation and reassembly with bounded
 * memory. Reassembly keeps at most `maxDatagrams` partial datagrams and `maxBytes` of fragment
 * data (per reassembler), forgets a datagram `timeout` ms after its first fragment (Linux
 * ipfrag_time: 30 s), and drops a datagram whose fragments overlap (as Linux does since 4.19,
 * and RFC 5722 requires for IPv6), so crafted overlaps cannot rewrite data already checked.
 *
 * IPv6 fragments are handled when the Fragment header follows the fixed header directly (no
 * other extension headers in the unfragmentable part), which is how Linux and this stack send
 * them.
 *
 * @module
 */
import { get16, get32, set16, set32 } from '../wire/bytes.js';
import { internetChecksum } from '../wire/checksum.js';
import type { Ipv4Packet } from '../wire/ipv4.js';
import type { Ipv6Packet } from '../wire/ipv6.js';

/** The IPv6 Fragment extension header's next-header number. */
export const IPV6_FRAGMENT_HEADER = 44;
/** Its length. */
export const IPV6_FRAGMENT_HEADER_LEN = 8;
const IPV6_FIXED_HEADER_LEN = 40;

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

/** The shared bookkeeping of both reassemblers. */
abstract class Reassembler {
  private readonly partial = new Map<string, PartialDatagram>();
  private bytes = 0;
  protected readonly limits: ReassemblyLimits;
  /** Counters: datagrams completed, and dropped for overlap, timeout or limits. */
  readonly stats = { reassembled: 0, overlaps: 0, timeouts: 0, evicted: 0 };

  constructor(limits: Partial<ReassemblyLimits> = {}) {
    this.limits = { ...DEFAULT_LIMITS, ...limits };
  }

  /** Partial datagrams held. */
  get pending(): number {
    return this.partial.size;
  }

  /** Payload bytes the partial datagrams hold (read-only; /proc/net/sockstat's FRAG memory). */
  get heldBytes(): number {
    return this.bytes;
  }

  /**
   * Records one fragment's payload at `offset` (bytes). `header` is the unfragmentable part,
   * kept from the first fragment; `maxEnd` bounds the reassembled payload. Returns the header
   * and payload once complete.
   */
  protected addFragment(
    now: number,
    key: string,
    offset: number,
    payload: Uint8Array,
    more: boolean,
    header: Uint8Array,
    maxEnd: number,
  ): { header: Uint8Array; payload: Uint8Array } | undefined {
    this.expire(now);
    const end = offset + payload.length;
    if (end > maxEnd) return undefined; // would exceed the largest datagram
    if (more && payload.length % 8 !== 0) return undefined; // only the last fragment may be odd
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
    if (!more) {
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
    if (offset === 0) d.header = header.slice();
    // Complete when the ranges cover [0, total) without a gap.
    if (d.total === undefined || !d.header) return undefined;
    let covered = 0;
    for (const [s, e] of d.ranges) {
      if (s !== covered) return undefined;
      covered = e;
    }
    if (covered !== d.total) return undefined;
    const done = { header: d.header, payload: d.data.subarray(0, d.total) };
    this.drop(key, d);
    this.stats.reassembled++;
    return done;
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

/** Collects IPv4 fragments into whole datagrams. */
export class Ipv4Reassembler extends Reassembler {
  /**
   * Adds one fragment (checksum already verified). Returns the whole datagram (header of the
   * first fragment, fragment fields cleared, checksum recomputed) when this fragment completes
   * it, else undefined.
   */
  add(now: number, p: Ipv4Packet): Uint8Array | undefined {
    const key = `${p.src.key}|${p.dst.key}|${p.protocol}|${p.ident}`;
    const header = p.buffer.subarray(0, p.headerLen);
    const r = this.addFragment(
      now,
      key,
      p.fragmentOffset,
      p.payload,
      p.moreFragments,
      header,
      65535 - p.headerLen,
    );
    if (!r) return undefined;
    const hl = r.header.length;
    const out = new Uint8Array(hl + r.payload.length);
    out.set(r.header);
    out.set(r.payload, hl);
    set16(out, 2, out.length);
    set16(out, 6, get16(out, 6) & 0x4000); // keep DF, clear MF and the offset
    set16(out, 10, 0);
    set16(out, 10, internetChecksum(out, 0, hl));
    return out;
  }
}

/** The fields of an IPv6 Fragment header (RFC 8200 §4.5). */
export interface Ipv6FragmentHeader {
  readonly nextHeader: number;
  /** Offset of this fragment's data in bytes (a multiple of 8). */
  readonly offset: number;
  readonly more: boolean;
  readonly ident: number;
}

/** Reads the Fragment header at the start of `b` (undefined when too short). */
export function parseIpv6Fragment(b: Uint8Array): Ipv6FragmentHeader | undefined {
  if (b.length < IPV6_FRAGMENT_HEADER_LEN) return undefined;
  const w = get16(b, 2);
  return { nextHeader: b[0]!, offset: w & 0xfff8, more: (w & 1) !== 0, ident: get32(b, 4) };
}

/** Collects IPv6 fragments (Fragment header right after the fixed header) into whole packets. */
export class Ipv6Reassembler extends Reassembler {
  /** The next header of each datagram's first fragment (RFC 8200: that one counts). */
  private readonly firstNext = new Map<string, number>();

  /**
   * Adds one fragment. Returns the whole packet (the first fragment's fixed header with the
   * Fragment header removed: next header and payload length rewritten) once complete.
   */
  add(now: number, p: Ipv6Packet, frag: Ipv6FragmentHeader): Uint8Array | undefined {
    const key = `${p.src.key}|${p.dst.key}|${frag.ident}`;
    if (frag.offset === 0) this.firstNext.set(key, frag.nextHeader);
    const data = p.payload.subarray(IPV6_FRAGMENT_HEADER_LEN);
    const header = p.buffer.subarray(0, IPV6_FIXED_HEADER_LEN);
    const r = this.addFragment(now, key, frag.offset, data, frag.more, header, 65535);
    if (!r) {
      if (this.firstNext.size > 4 * this.limits.maxDatagrams) this.firstNext.clear(); // bounded too
      return undefined;
    }
    const out = new Uint8Array(IPV6_FIXED_HEADER_LEN + r.payload.length);
    out.set(r.header);
    out.set(r.payload, IPV6_FIXED_HEADER_LEN);
    set16(out, 4, r.payload.length);
    out[6] = this.firstNext.get(key) ?? frag.nextHeader;
    this.firstNext.delete(key);
    return out;
  }
}

/**
 * Splits an IPv6 packet (40-byte fixed header, no extension headers) into fragments of at
 * most `mtu` bytes: the fixed header, a Fragment header with `ident`, and a multiple of 8
 * payload bytes (RFC 8200 §4.5).
 */
export function fragmentIpv6(packet: Uint8Array, mtu: number, ident: number): Uint8Array[] {
  const hl = IPV6_FIXED_HEADER_LEN;
  const payload = packet.subarray(hl, hl + get16(packet, 4));
  const next = packet[6]!;
  const step = Math.floor((mtu - hl - IPV6_FRAGMENT_HEADER_LEN) / 8) * 8;
  if (step <= 0) throw new RangeError(`MTU ${mtu} too small to fragment`);
  const out: Uint8Array[] = [];
  for (let off = 0; off < payload.length; off += step) {
    const chunk = payload.subarray(off, Math.min(off + step, payload.length));
    const f = new Uint8Array(hl + IPV6_FRAGMENT_HEADER_LEN + chunk.length);
    f.set(packet.subarray(0, hl));
    f[6] = IPV6_FRAGMENT_HEADER;
    set16(f, 4, IPV6_FRAGMENT_HEADER_LEN + chunk.length);
    f[hl] = next;
    const more = off + chunk.length < payload.length;
    set16(f, hl + 2, off | (more ? 1 : 0));
    set32(f, hl + 4, ident);
    f.set(chunk, hl + IPV6_FRAGMENT_HEADER_LEN);
    out.push(f);
  }
  return out;
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
