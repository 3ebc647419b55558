/**
 * ICMPv6 (RFC 4443): echo request/reply and the four error messages, and the neighbor
 * solicitation and advertisement of neighbor discovery (RFC 4861 §4.3-4.4) with their
 * source/target link-layer address options (Ethernet). The checksum covers the IPv6
 * pseudo-header. Router discovery and redirects are not parsed (Unsupported).
 *
 * @module
 */
import { get32, set16, set32 } from './bytes.js';
import { checksumVerifies, internetChecksum, pseudoHeaderSum } from './checksum.js';
import { WireError } from './error.js';
import { emitEcho, ICMP_FIELD, IcmpHeaderView, parseEcho, type IcmpEcho } from './icmp-header.js';
import { EthernetAddress } from './ethernet.js';
import { Ipv6Address } from './ip-address.js';
import { IpProtocol } from './ipv4.js';

/** ICMPv6 message types. */
export const Icmpv6Type = {
  DEST_UNREACHABLE: 1,
  PACKET_TOO_BIG: 2,
  TIME_EXCEEDED: 3,
  PARAM_PROBLEM: 4,
  ECHO_REQUEST: 128,
  ECHO_REPLY: 129,
  NEIGHBOR_SOLICIT: 135,
  NEIGHBOR_ADVERT: 136,
} as const;

/** NDP option types (RFC 4861 §4.6). */
export const NdpOption = {
  SOURCE_LINK_ADDR: 1,
  TARGET_LINK_ADDR: 2,
} as const;

/** Neighbor advertisement flag bits (RFC 4861 §4.4). */
const NA_ROUTER = 0x80;
const NA_SOLICITED = 0x40;
const NA_OVERRIDE = 0x20;
/** Header, reserved/flags word and target address of NS and NA. */
const NDP_FIXED_LEN = 24;
/** An Ethernet link-layer address option: type, length (in 8-byte units), six bytes. */
const LINK_ADDR_OPTION_LEN = 8;

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
    }
  | {
      readonly type: 'neighborSolicit';
      readonly target: Ipv6Address;
      readonly sourceLinkAddr?: EthernetAddress | undefined;
    }
  | {
      readonly type: 'neighborAdvert';
      readonly router: boolean;
      readonly solicited: boolean;
      readonly override: boolean;
      readonly target: Ipv6Address;
      readonly targetLinkAddr?: EthernetAddress | undefined;
    };

/**
 * The link-layer address option of the given type among NDP options (RFC 4861 §4.6): a zero
 * length is malformed; options with other lengths (not Ethernet) are ignored.
 */
function linkAddrOption(opts: Uint8Array, kind: number): EthernetAddress | undefined | WireError {
  let found: EthernetAddress | undefined;
  for (let i = 0; i < opts.length;) {
    if (i + 2 > opts.length) return WireError.Malformed;
    const len = opts[i + 1]! * 8;
    if (len === 0 || i + len > opts.length) return WireError.Malformed;
    if (opts[i] === kind && len === LINK_ADDR_OPTION_LEN)
      found = new EthernetAddress(opts.subarray(i + 2, i + 8));
    i += len;
  }
  return found;
}

function parseNdp(p: Icmpv6Packet): Icmpv6Repr | WireError {
  const b = p.buffer;
  if (p.code !== 0 || b.length < NDP_FIXED_LEN) return WireError.Malformed; // RFC 4861 §7.1.1
  const target = new Ipv6Address(b.subarray(8, 24));
  if (target.isMulticast()) return WireError.Malformed;
  const solicit = p.msgType === Icmpv6Type.NEIGHBOR_SOLICIT;
  const link = linkAddrOption(
    b.subarray(NDP_FIXED_LEN),
    solicit ? NdpOption.SOURCE_LINK_ADDR : NdpOption.TARGET_LINK_ADDR,
  );
  if (link instanceof WireError) return link;
  if (solicit) return { type: 'neighborSolicit', target, sourceLinkAddr: link };
  const flags = b[4]!;
  return {
    type: 'neighborAdvert',
    router: (flags & NA_ROUTER) !== 0,
    solicited: (flags & NA_SOLICITED) !== 0,
    override: (flags & NA_OVERRIDE) !== 0,
    target,
    targetLinkAddr: link,
  };
}

function emitNdp(
  b: Uint8Array,
  type: number,
  flags: number,
  target: Ipv6Address,
  optKind: number,
  link: EthernetAddress | undefined,
): void {
  b[F.TYPE] = type;
  b[4] = flags;
  b.set(target.bytes, 8);
  if (link) {
    b[NDP_FIXED_LEN] = optKind;
    b[NDP_FIXED_LEN + 1] = LINK_ADDR_OPTION_LEN / 8;
    b.set(link.bytes, NDP_FIXED_LEN + 2);
  }
}

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
      case Icmpv6Type.NEIGHBOR_SOLICIT:
      case Icmpv6Type.NEIGHBOR_ADVERT:
        return parseNdp(p);
      default:
        return WireError.Unsupported;
    }
  },
  bufferLen(repr: Icmpv6Repr): number {
    if (repr.type === 'neighborSolicit')
      return NDP_FIXED_LEN + (repr.sourceLinkAddr ? LINK_ADDR_OPTION_LEN : 0);
    if (repr.type === 'neighborAdvert')
      return NDP_FIXED_LEN + (repr.targetLinkAddr ? LINK_ADDR_OPTION_LEN : 0);
    return F.DATA + ('data' in repr ? repr.data : repr.invoking).length;
  },
  /** Writes the message and its checksum into a buffer of exactly `bufferLen(repr)` bytes. */
  emit(repr: Icmpv6Repr, p: Icmpv6Packet, src: Ipv6Address, dst: Ipv6Address): void {
    const b = p.buffer;
    b.fill(0, 0, F.DATA);
    switch (repr.type) {
      case 'neighborSolicit':
        b.fill(0);
        emitNdp(
          b,
          Icmpv6Type.NEIGHBOR_SOLICIT,
          0,
          repr.target,
          NdpOption.SOURCE_LINK_ADDR,
          repr.sourceLinkAddr,
        );
        break;
      case 'neighborAdvert':
        b.fill(0);
        emitNdp(
          b,
          Icmpv6Type.NEIGHBOR_ADVERT,
          (repr.router ? NA_ROUTER : 0) |
            (repr.solicited ? NA_SOLICITED : 0) |
            (repr.override ? NA_OVERRIDE : 0),
          repr.target,
          NdpOption.TARGET_LINK_ADDR,
          repr.targetLinkAddr,
        );
        break;
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
