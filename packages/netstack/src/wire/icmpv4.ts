/**
 * ICMPv4 (RFC 792): echo request/reply and the errors a host stack sends and reacts to,
 * destination unreachable, time exceeded and parameter problem. An error carries the invoking datagram (its IP
 * header and at least 8 bytes of its payload) as raw bytes, so the receiver can find the socket.
 *
 * @module
 */
import { get16, set16 } from './bytes.js';
import { checksumVerifies, internetChecksum } from './checksum.js';
import { WireError } from './error.js';
import { emitEcho, ICMP_FIELD, IcmpHeaderView, parseEcho, type IcmpEcho } from './icmp-header.js';

/** ICMPv4 message types. */
export const Icmpv4Type = {
  ECHO_REPLY: 0,
  DEST_UNREACHABLE: 3,
  ECHO_REQUEST: 8,
  TIME_EXCEEDED: 11,
  PARAMETER_PROBLEM: 12,
} as const;

/** ICMPv4 destination-unreachable codes. */
export const Icmpv4Unreachable = {
  NET: 0,
  HOST: 1,
  PROTOCOL: 2,
  PORT: 3,
  FRAG_NEEDED: 4,
  ADMIN_PROHIBITED: 13,
} as const;

const F = { ...ICMP_FIELD, POINTER: 4, MTU: 6 } as const;

/** Length of the ICMPv4 header (type, code, checksum and the 4-byte rest of header). */
export const ICMPV4_HEADER_LEN = F.DATA;

/** A zero-copy view of an ICMPv4 message. */
export class Icmpv4Packet extends IcmpHeaderView {
  private constructor(buffer: Uint8Array) {
    super(buffer);
  }
  /** Wraps untrusted bytes (the whole IP payload). */
  static checked(buffer: Uint8Array): Icmpv4Packet | WireError {
    return buffer.length < F.DATA ? WireError.Truncated : new Icmpv4Packet(buffer);
  }
  /** Wraps a buffer the caller sized, for emitting. */
  static unchecked(buffer: Uint8Array): Icmpv4Packet {
    return new Icmpv4Packet(buffer);
  }
  /** Next-hop MTU of a fragmentation-needed message (RFC 1191). */
  get nextHopMtu(): number {
    return get16(this.buffer, F.MTU);
  }
  verifyChecksum(): boolean {
    return checksumVerifies(this.buffer);
  }
}

/** An ICMPv4 message this stack understands. */
export type Icmpv4Repr =
  | IcmpEcho
  | {
      readonly type: 'destUnreachable';
      readonly code: number;
      /** Only meaningful for code FRAG_NEEDED; 0 otherwise. */
      readonly nextHopMtu: number;
      readonly invoking: Uint8Array;
    }
  | { readonly type: 'timeExceeded'; readonly code: number; readonly invoking: Uint8Array }
  | {
      readonly type: 'paramProblem';
      readonly code: number;
      /** The offset of the offending octet in the invoking datagram (RFC 792). */
      readonly pointer: number;
      readonly invoking: Uint8Array;
    };

/** parse / bufferLen / emit for {@link Icmpv4Repr}. */
export const Icmpv4Repr = {
  /** Validates the checksum and decodes the known types; others are Unsupported. */
  parse(p: Icmpv4Packet, verifyChecksum = true): Icmpv4Repr | WireError {
    if (verifyChecksum && !p.verifyChecksum()) return WireError.Checksum;
    switch (p.msgType) {
      case Icmpv4Type.ECHO_REQUEST:
      case Icmpv4Type.ECHO_REPLY:
        return parseEcho(p, Icmpv4Type.ECHO_REQUEST);
      case Icmpv4Type.DEST_UNREACHABLE:
        return {
          type: 'destUnreachable',
          code: p.code,
          nextHopMtu: p.code === Icmpv4Unreachable.FRAG_NEEDED ? p.nextHopMtu : 0,
          invoking: p.data,
        };
      case Icmpv4Type.TIME_EXCEEDED:
        return { type: 'timeExceeded', code: p.code, invoking: p.data };
      case Icmpv4Type.PARAMETER_PROBLEM:
        return { type: 'paramProblem', code: p.code, pointer: p.buffer[F.POINTER]!, invoking: p.data };
      default:
        return WireError.Unsupported;
    }
  },
  bufferLen(repr: Icmpv4Repr): number {
    return F.DATA + ('data' in repr ? repr.data : repr.invoking).length;
  },
  /** Writes the message and its checksum into a buffer of exactly `bufferLen(repr)` bytes. */
  emit(repr: Icmpv4Repr, p: Icmpv4Packet): void {
    const b = p.buffer;
    b.fill(0, 0, F.DATA);
    switch (repr.type) {
      case 'echoRequest':
      case 'echoReply':
        emitEcho(b, repr, Icmpv4Type.ECHO_REQUEST, Icmpv4Type.ECHO_REPLY);
        break;
      case 'destUnreachable':
        b[F.TYPE] = Icmpv4Type.DEST_UNREACHABLE;
        b[F.CODE] = repr.code;
        set16(b, F.MTU, repr.nextHopMtu);
        b.set(repr.invoking, F.DATA);
        break;
      case 'timeExceeded':
        b[F.TYPE] = Icmpv4Type.TIME_EXCEEDED;
        b[F.CODE] = repr.code;
        b.set(repr.invoking, F.DATA);
        break;
      case 'paramProblem':
        b[F.TYPE] = Icmpv4Type.PARAMETER_PROBLEM;
        b[F.CODE] = repr.code;
        b[F.POINTER] = repr.pointer;
        b.set(repr.invoking, F.DATA);
        break;
    }
    set16(b, F.CHECKSUM, internetChecksum(b));
  },
};
