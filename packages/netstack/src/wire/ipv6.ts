/**
 * IPv6 fixed headers (RFC 8200 §3). Extension headers are not walked yet: the next-header field
 * names the payload's protocol, and packets whose next header is an extension header are left
 * to the interface to drop.
 *
 * @module
 */
import { get16, get32, set16, set32 } from './bytes.js';
import { WireError } from './error.js';
import { Ipv6Address } from './ip-address.js';

const F = {
  VER_TC_FLOW: 0,
  PAYLOAD_LEN: 4,
  NEXT_HEADER: 6,
  HOP_LIMIT: 7,
  SRC: 8,
  DST: 24,
  PAYLOAD: 40,
} as const;

/** Length of the IPv6 fixed header. */
export const IPV6_HEADER_LEN = F.PAYLOAD;

/** A zero-copy view of an IPv6 packet. */
export class Ipv6Packet {
  private constructor(readonly buffer: Uint8Array) {}

  /** Wraps untrusted bytes: checks that the header and the declared payload fit. */
  static checked(buffer: Uint8Array): Ipv6Packet | WireError {
    if (buffer.length < F.PAYLOAD) return WireError.Truncated;
    const p = new Ipv6Packet(buffer);
    if (buffer.length < F.PAYLOAD + p.payloadLen) return WireError.Truncated;
    return p;
  }
  /** Wraps a buffer the caller sized, for emitting. */
  static unchecked(buffer: Uint8Array): Ipv6Packet {
    return new Ipv6Packet(buffer);
  }

  get version(): number {
    return this.buffer[F.VER_TC_FLOW]! >>> 4;
  }
  get trafficClass(): number {
    return (get16(this.buffer, F.VER_TC_FLOW) >>> 4) & 0xff;
  }
  get flowLabel(): number {
    return get32(this.buffer, F.VER_TC_FLOW) & 0xfffff;
  }
  get payloadLen(): number {
    return get16(this.buffer, F.PAYLOAD_LEN);
  }
  get nextHeader(): number {
    return this.buffer[F.NEXT_HEADER]!;
  }
  get hopLimit(): number {
    return this.buffer[F.HOP_LIMIT]!;
  }
  get src(): Ipv6Address {
    return new Ipv6Address(this.buffer.subarray(F.SRC, F.SRC + 16));
  }
  get dst(): Ipv6Address {
    return new Ipv6Address(this.buffer.subarray(F.DST, F.DST + 16));
  }
  get payload(): Uint8Array {
    return this.buffer.subarray(F.PAYLOAD, F.PAYLOAD + this.payloadLen);
  }
  /** The whole packet without trailing padding. */
  get packet(): Uint8Array {
    return this.buffer.subarray(0, F.PAYLOAD + this.payloadLen);
  }
}

/** The fields of an IPv6 fixed header this stack uses. */
export interface Ipv6Repr {
  readonly src: Ipv6Address;
  readonly dst: Ipv6Address;
  readonly nextHeader: number;
  readonly payloadLen: number;
  readonly hopLimit: number;
  /** Traffic class (IPV6_TCLASS, what IPV6_RECVTCLASS reports); absent is 0. */
  readonly trafficClass?: number;
}

/** parse / bufferLen / emit for {@link Ipv6Repr}. */
export const Ipv6Repr = {
  /** Validates a checked packet (version 6). */
  parse(p: Ipv6Packet): Ipv6Repr | WireError {
    if (p.version !== 6) return WireError.Malformed;
    return {
      src: p.src,
      dst: p.dst,
      nextHeader: p.nextHeader,
      payloadLen: p.payloadLen,
      hopLimit: p.hopLimit,
      trafficClass: p.trafficClass,
    };
  },
  bufferLen(_repr: Ipv6Repr): number {
    return IPV6_HEADER_LEN;
  },
  /** Writes the fixed header with flow label 0. */
  emit(repr: Ipv6Repr, p: Ipv6Packet): void {
    const b = p.buffer;
    set32(b, F.VER_TC_FLOW, (0x60000000 | (((repr.trafficClass ?? 0) & 0xff) << 20)) >>> 0);
    set16(b, F.PAYLOAD_LEN, repr.payloadLen);
    b[F.NEXT_HEADER] = repr.nextHeader;
    b[F.HOP_LIMIT] = repr.hopLimit;
    b.set(repr.src.bytes, F.SRC);
    b.set(repr.dst.bytes, F.DST);
  },
};
