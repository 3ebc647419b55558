/**
 * IPv4 headers (RFC 791). Options are skipped, never interpreted: the payload starts at IHL*4
 * whatever the options hold. `Ipv4Repr.parse` refuses fragments (Unsupported): the interface
 * hands them to its reassembler (iface/fragment.ts) first.
 *
 * @module
 */
import { get16, set16 } from './bytes.js';
import { checksumVerifies, internetChecksum } from './checksum.js';
import { WireError } from './error.js';
import { Ipv4Address } from './ip-address.js';

/** IP protocol numbers this stack knows (shared by IPv6 next-header values). */
export const IpProtocol = { ICMP: 1, TCP: 6, UDP: 17, ICMPV6: 58, UDPLITE: 136 } as const;

const F = {
  VER_IHL: 0,
  DSCP_ECN: 1,
  TOTAL_LEN: 2,
  IDENT: 4,
  FLAGS_FRAG: 6,
  TTL: 8,
  PROTOCOL: 9,
  CHECKSUM: 10,
  SRC: 12,
  DST: 16,
  OPTIONS: 20,
} as const;

/** Length of an IPv4 header without options. */
export const IPV4_HEADER_LEN = F.OPTIONS;

/**
 * The largest IPv4 route MTU (Linux's IP_MAX_MTU): the 16-bit total length caps a packet at
 * 65535 bytes, so a device with a larger MTU (lo's 65536) gives IPv4 routes 65535.
 */
export const IPV4_MAX_MTU = 0xffff;

/** A zero-copy view of an IPv4 packet. */
export class Ipv4Packet {
  private constructor(readonly buffer: Uint8Array) {}

  /**
   * Wraps untrusted bytes: checks that the header, its options and the total length fit in
   * `buffer` (trailing bytes beyond the total length, e.g. Ethernet padding, are allowed).
   */
  static checked(buffer: Uint8Array): Ipv4Packet | WireError {
    if (buffer.length < F.OPTIONS) return WireError.Truncated;
    const p = new Ipv4Packet(buffer);
    if (p.headerLen < F.OPTIONS) return WireError.Malformed;
    if (buffer.length < p.headerLen) return WireError.Truncated;
    if (p.totalLen < p.headerLen) return WireError.Malformed;
    if (buffer.length < p.totalLen) return WireError.Truncated;
    return p;
  }
  /** Wraps a buffer the caller sized, for emitting. */
  static unchecked(buffer: Uint8Array): Ipv4Packet {
    return new Ipv4Packet(buffer);
  }

  get version(): number {
    return this.buffer[F.VER_IHL]! >>> 4;
  }
  /** Header length in bytes (IHL * 4). */
  get headerLen(): number {
    return (this.buffer[F.VER_IHL]! & 0x0f) * 4;
  }
  get dscpEcn(): number {
    return this.buffer[F.DSCP_ECN]!;
  }
  get totalLen(): number {
    return get16(this.buffer, F.TOTAL_LEN);
  }
  get ident(): number {
    return get16(this.buffer, F.IDENT);
  }
  get dontFragment(): boolean {
    return (this.buffer[F.FLAGS_FRAG]! & 0x40) !== 0;
  }
  get moreFragments(): boolean {
    return (this.buffer[F.FLAGS_FRAG]! & 0x20) !== 0;
  }
  /** Fragment offset in bytes. */
  get fragmentOffset(): number {
    return (get16(this.buffer, F.FLAGS_FRAG) & 0x1fff) * 8;
  }
  get ttl(): number {
    return this.buffer[F.TTL]!;
  }
  get protocol(): number {
    return this.buffer[F.PROTOCOL]!;
  }
  get checksum(): number {
    return get16(this.buffer, F.CHECKSUM);
  }
  get src(): Ipv4Address {
    return new Ipv4Address(this.buffer.subarray(F.SRC, F.SRC + 4));
  }
  get dst(): Ipv4Address {
    return new Ipv4Address(this.buffer.subarray(F.DST, F.DST + 4));
  }
  /** True when the header checksum verifies. */
  verifyChecksum(): boolean {
    return checksumVerifies(this.buffer, 0, this.headerLen);
  }
  /** The payload: from the end of the options to the total length. */
  get payload(): Uint8Array {
    return this.buffer.subarray(this.headerLen, this.totalLen);
  }
  /** The whole packet (header and payload, without trailing padding). */
  get packet(): Uint8Array {
    return this.buffer.subarray(0, this.totalLen);
  }
}

/** The fields of an IPv4 header this stack uses. */
export interface Ipv4Repr {
  readonly src: Ipv4Address;
  readonly dst: Ipv4Address;
  readonly protocol: number;
  readonly payloadLen: number;
  readonly ttl: number;
  /** The TOS byte (DSCP and ECN); absent is 0 (IP_TOS, and what IP_RECVTOS reports). */
  readonly tos?: number;
  /** DF; absent is set (emit only: parse leaves it out). */
  readonly dontFragment?: boolean;
  /** The identification; absent is 0 (emit only). */
  readonly ident?: number;
}

/** parse / bufferLen / emit for {@link Ipv4Repr}. */
export const Ipv4Repr = {
  /**
   * Validates a checked packet: version 4, header checksum, not a fragment. Options are
   * skipped. `verifyChecksum` false is for devices that checksum in hardware (or loopback).
   */
  parse(p: Ipv4Packet, verifyChecksum = true): Ipv4Repr | WireError {
    if (p.version !== 4) return WireError.Malformed;
    if (verifyChecksum && !p.verifyChecksum()) return WireError.Checksum;
    if (p.moreFragments || p.fragmentOffset !== 0) return WireError.Unsupported;
    return {
      src: p.src,
      dst: p.dst,
      protocol: p.protocol,
      payloadLen: p.totalLen - p.headerLen,
      ttl: p.ttl,
      tos: p.dscpEcn,
    };
  },
  /** The header length this stack emits (no options). */
  bufferLen(_repr: Ipv4Repr): number {
    return IPV4_HEADER_LEN;
  },
  /** Writes a 20-byte header with DF (unless `dontFragment` is false), the ident (0 unless given), the TOS byte and the checksum. */
  emit(repr: Ipv4Repr, p: Ipv4Packet): void {
    const b = p.buffer;
    b[F.VER_IHL] = 0x45;
    b[F.DSCP_ECN] = (repr.tos ?? 0) & 0xff;
    set16(b, F.TOTAL_LEN, IPV4_HEADER_LEN + repr.payloadLen);
    set16(b, F.IDENT, repr.ident ?? 0);
    set16(b, F.FLAGS_FRAG, repr.dontFragment === false ? 0 : 0x4000);
    b[F.TTL] = repr.ttl;
    b[F.PROTOCOL] = repr.protocol;
    set16(b, F.CHECKSUM, 0);
    b.set(repr.src.bytes, F.SRC);
    b.set(repr.dst.bytes, F.DST);
    set16(b, F.CHECKSUM, internetChecksum(b, 0, IPV4_HEADER_LEN));
  },
};
