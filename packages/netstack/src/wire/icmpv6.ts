/**
 * ICMPv6 (RFC 4443): echo request/reply and the four error messages. The checksum covers the
 * IPv6 pseudo-header. Neighbor discovery (RFC 4861) is not here yet.
 *
 * @module
 */
import { get32, set16, set32 } from './bytes.js';
import { checksumVerifies, internetChecksum, pseudoHeaderSum } from './checksum.js';
import { WireError } from './error.js';
import { emitEcho, ICMP_FIELD, IcmpHeaderView, parseEcho, type IcmpEcho } from './icmp-header.js';
import type { Ipv6Address } from './ip-address.js';
import { IpProtocol } from './ipv4.js';

/** ICMPv6 message types. */
export const Icmpv6Type = {
  DEST_UNREACHABLE: 1,
  PACKET_TOO_BIG: 2,
  TIME_EXCEEDED: 3,
  PARAM_PROBLEM: 4,
  ECHO_REQUEST: 128,
  ECHO_REPLY: 129,
} as const;

/** ICMPv6 destination-unreachable codes. */
export const Icmpv6Unreachable = {
  NO_ROUTE: 0,
  ADMIN_PROHIBITED: 1,
  BEYOND_SCOPE: 2,
  ADDRESS: 3,
  PORT: 4,
} as const;

const F = { ...ICMP_FIELD, PARAM: 4 } as const;

/** Length of the ICMPv6 header. */
export const ICMPV6_HEADER_LEN = F.DATA;

/** A zero-copy view of an ICMPv6 message. */
export class Icmpv6Packet extends IcmpHeaderView {
  private constructor(buffer: Uint8Array) {
    super(buffer);
  }
  /** Wraps untrusted bytes (the whole IPv6 payload). */
  static checked(buffer: Uint8Array): Icmpv6Packet | WireError {
    return buffer.length < F.DATA ? WireError.Truncated : new Icmpv6Packet(buffer);
  }
  /** Wraps a buffer the caller sized, for emitting. */
  static unchecked(buffer: Uint8Array): Icmpv6Packet {
    return new Icmpv6Packet(buffer);
  }
  /** The 32-bit parameter: MTU of packet-too-big, pointer of parameter-problem. */
  get param(): number {
    return get32(this.buffer, F.PARAM);
  }
  verifyChecksum(src: Ipv6Address, dst: Ipv6Address): boolean {
    return checksumVerifies(
      this.buffer,
      0,
      this.buffer.length,
      pseudoHeaderSum(src, dst, IpProtocol.ICMPV6, this.buffer.length),
    );
  }
}

/** An ICMPv6 message this stack understands. */
export type Icmpv6Repr =
  | IcmpEcho
  | { readonly type: 'destUnreachable'; readonly code: number; readonly invoking: Uint8Array }
  | { readonly type: 'packetTooBig'; readonly mtu: number; readonly invoking: Uint8Array }
  | { readonly type: 'timeExceeded'; readonly code: number; readonly invoking: Uint8Array }
  | {
      readonly type: 'paramProblem';
      readonly code: number;
      readonly pointer: number;
      readonly invoking: Uint8Array;
    };

/** parse / bufferLen / emit for {@link Icmpv6Repr}. */
export const Icmpv6Repr = {
  /** Validates the checksum (with the pseudo-header) and decodes the known types. */
  parse(p: Icmpv6Packet, src: Ipv6Address, dst: Ipv6Address, verifyChecksum = true): Icmpv6Repr | WireError {
    if (verifyChecksum && !p.verifyChecksum(src, dst)) return WireError.Checksum;
    switch (p.msgType) {
      case Icmpv6Type.ECHO_REQUEST:
      case Icmpv6Type.ECHO_REPLY:
        return parseEcho(p, Icmpv6Type.ECHO_REQUEST);
      case Icmpv6Type.DEST_UNREACHABLE:
        return { type: 'destUnreachable', code: p.code, invoking: p.data };
      case Icmpv6Type.PACKET_TOO_BIG:
        if (p.code !== 0) return WireError.Malformed;
        return { type: 'packetTooBig', mtu: p.param, invoking: p.data };
      case Icmpv6Type.TIME_EXCEEDED:
        return { type: 'timeExceeded', code: p.code, invoking: p.data };
      case Icmpv6Type.PARAM_PROBLEM:
        return { type: 'paramProblem', code: p.code, pointer: p.param, invoking: p.data };
      default:
        return WireError.Unsupported;
    }
  },
  bufferLen(repr: Icmpv6Repr): number {
    return F.DATA + ('data' in repr ? repr.data : repr.invoking).length;
  },
  /** Writes the message and its checksum into a buffer of exactly `bufferLen(repr)` bytes. */
  emit(repr: Icmpv6Repr, p: Icmpv6Packet, src: Ipv6Address, dst: Ipv6Address): void {
    const b = p.buffer;
    b.fill(0, 0, F.DATA);
    switch (repr.type) {
      case 'echoRequest':
      case 'echoReply':
        emitEcho(b, repr, Icmpv6Type.ECHO_REQUEST, Icmpv6Type.ECHO_REPLY);
        break;
      case 'destUnreachable':
        b[F.TYPE] = Icmpv6Type.DEST_UNREACHABLE;
        b[F.CODE] = repr.code;
        b.set(repr.invoking, F.DATA);
        break;
      case 'packetTooBig':
        b[F.TYPE] = Icmpv6Type.PACKET_TOO_BIG;
        set32(b, F.PARAM, repr.mtu);
        b.set(repr.invoking, F.DATA);
        break;
      case 'timeExceeded':
        b[F.TYPE] = Icmpv6Type.TIME_EXCEEDED;
        b[F.CODE] = repr.code;
        b.set(repr.invoking, F.DATA);
        break;
      case 'paramProblem':
        b[F.TYPE] = Icmpv6Type.PARAM_PROBLEM;
        b[F.CODE] = repr.code;
        set32(b, F.PARAM, repr.pointer);
        b.set(repr.invoking, F.DATA);
        break;
    }
    set16(
      b,
      F.CHECKSUM,
      internetChecksum(b, 0, b.length, pseudoHeaderSum(src, dst, IpProtocol.ICMPV6, b.length)),
    );
  },
};
