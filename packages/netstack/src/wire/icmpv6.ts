/**
 * ICMPv6 (RFC 4443): echo request/reply and the four error messages, and neighbor discovery
 * (RFC 4861): router solicitation and advertisement (§4.1-4.2, with the prefix information,
 * MTU and source link-layer address options) and neighbor solicitation and advertisement
 * (§4.3-4.4) with their source/target link-layer address options (Ethernet), and a
 * solicitation's nonce option (RFC 3971 §5.3.2, enhanced DAD of RFC 7527). The checksum
 * covers the IPv6 pseudo-header. Redirects are not parsed (Unsupported).
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
  ROUTER_SOLICIT: 133,
  ROUTER_ADVERT: 134,
  NEIGHBOR_SOLICIT: 135,
  NEIGHBOR_ADVERT: 136,
} as const;

/** NDP option types (RFC 4861 §4.6). */
export const NdpOption = {
  SOURCE_LINK_ADDR: 1,
  TARGET_LINK_ADDR: 2,
  PREFIX_INFO: 3,
  MTU: 5,
  NONCE: 14,
} as const;

/** A prefix information option of a router advertisement (RFC 4861 §4.6.2). */
export interface PrefixInfo {
  readonly prefix: Ipv6Address;
  readonly prefixLength: number;
  /** L: the prefix is on-link. */
  readonly onLink: boolean;
  /** A: hosts may form addresses in it by stateless autoconfiguration (RFC 4862). */
  readonly autonomous: boolean;
  /** Seconds; 0xffffffff is infinity. */
  readonly validLifetime: number;
  readonly preferredLifetime: number;
}

/** Router advertisement flags, prefix information flags, and the fixed part lengths. */
const RA_MANAGED = 0x80;
const RA_OTHER = 0x40;
const PI_ON_LINK = 0x80;
const PI_AUTONOMOUS = 0x40;
const RA_FIXED_LEN = 16;
const RS_FIXED_LEN = 8;
const PREFIX_OPTION_LEN = 32;
const MTU_OPTION_LEN = 8;

/** Neighbor advertisement flag bits (RFC 4861 §4.4). */
const NA_ROUTER = 0x80;
const NA_SOLICITED = 0x40;
const NA_OVERRIDE = 0x20;
/** Header, reserved/flags word and target address of NS and NA. */
const NDP_FIXED_LEN = 24;
/** An Ethernet link-layer address option: type, length (in 8-byte units), six bytes. */
const LINK_ADDR_OPTION_LEN = 8;
/** A nonce option as enhanced DAD sends it: type, length 1, a six-byte nonce. */
const NONCE_OPTION_LEN = 8;

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
  | { readonly type: 'routerSolicit'; readonly sourceLinkAddr?: EthernetAddress | undefined }
  | {
      readonly type: 'routerAdvert';
      /** Cur Hop Limit (0: unspecified). */
      readonly curHopLimit: number;
      readonly managed: boolean;
      readonly other: boolean;
      /** Seconds as a default router (0: not one). */
      readonly routerLifetime: number;
      /** Milliseconds (0: unspecified). */
      readonly reachableTime: number;
      readonly retransTimer: number;
      readonly sourceLinkAddr?: EthernetAddress | undefined;
      readonly mtu?: number | undefined;
      readonly prefixes: readonly PrefixInfo[];
    }
  | {
      readonly type: 'neighborSolicit';
      readonly target: Ipv6Address;
      readonly sourceLinkAddr?: EthernetAddress | undefined;
      /**
       * The six bytes of the first nonce option (RFC 7527 §4.1), when its length is 1: Linux's
       * ndisc_parse_options keeps the first of a kind and ndisc_recv_ns uses it only then.
       */
      readonly nonce?: Uint8Array | undefined;
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
 * The link-layer address option of the given type among NDP options (RFC 4861 §4.6): the first
 * one, as Linux's ndisc_parse_options keeps the first of each kind and ignores the others; null
 * when that one is not the length of an Ethernet address's (ndisc_opt_addr_data finds none in
 * it). A zero length is malformed.
 */
function linkAddrOption(opts: Uint8Array, kind: number): EthernetAddress | undefined | null | WireError {
  let found: EthernetAddress | undefined | null;
  for (let i = 0; i < opts.length;) {
    if (i + 2 > opts.length) return WireError.Malformed;
    const len = opts[i + 1]! * 8;
    if (len === 0 || i + len > opts.length) return WireError.Malformed;
    if (opts[i] === kind && found === undefined)
      found = len === LINK_ADDR_OPTION_LEN ? new EthernetAddress(opts.subarray(i + 2, i + 8)) : null;
    i += len;
  }
  return found;
}

/** Router solicitation and advertisement (RFC 4861 §4.1-4.2; §6.1 validity checks). */
function parseRouterMessage(p: Icmpv6Packet): Icmpv6Repr | WireError {
  const b = p.buffer;
  const advert = p.msgType === Icmpv6Type.ROUTER_ADVERT;
  const fixed = advert ? RA_FIXED_LEN : RS_FIXED_LEN;
  if (p.code !== 0 || b.length < fixed) return WireError.Malformed;
  const opts = b.subarray(fixed);
  const option = linkAddrOption(opts, NdpOption.SOURCE_LINK_ADDR);
  if (option instanceof WireError) return option;
  // Not an Ethernet address's length: left out (a host uses neither message's).
  const link = option ?? undefined;
  if (!advert) return { type: 'routerSolicit', sourceLinkAddr: link };
  const prefixes: PrefixInfo[] = [];
  let mtu: number | undefined;
  // linkAddrOption checked every option's length already.
  for (let i = 0; i < opts.length; i += opts[i + 1]! * 8) {
    const kind = opts[i]!;
    const len = opts[i + 1]! * 8;
    if (kind === NdpOption.PREFIX_INFO && len === PREFIX_OPTION_LEN) {
      const flags = opts[i + 3]!;
      prefixes.push({
        prefix: new Ipv6Address(opts.subarray(i + 16, i + 32)),
        prefixLength: opts[i + 2]!,
        onLink: (flags & PI_ON_LINK) !== 0,
        autonomous: (flags & PI_AUTONOMOUS) !== 0,
        validLifetime: get32(opts, i + 4),
        preferredLifetime: get32(opts, i + 8),
      });
    } else if (kind === NdpOption.MTU && len === MTU_OPTION_LEN) mtu = get32(opts, i + 4);
  }
  return {
    type: 'routerAdvert',
    curHopLimit: b[4]!,
    managed: (b[5]! & RA_MANAGED) !== 0,
    other: (b[5]! & RA_OTHER) !== 0,
    routerLifetime: (b[6]! << 8) | b[7]!,
    reachableTime: get32(b, 8),
    retransTimer: get32(b, 12),
    sourceLinkAddr: link,
    mtu,
    prefixes,
  };
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
  // ndisc_recv_ns and ndisc_recv_na drop a message whose address option does not fit the link
  // ("invalid link-layer address length").
  if (link === null) return WireError.Malformed;
  if (solicit) return { type: 'neighborSolicit', target, sourceLinkAddr: link, nonce: nonceOption(b) };
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

/** The nonce of a solicitation's options (whose lengths linkAddrOption checked). */
function nonceOption(b: Uint8Array): Uint8Array | undefined {
  for (let i = NDP_FIXED_LEN; i < b.length; i += b[i + 1]! * 8)
    if (b[i] === NdpOption.NONCE)
      return b[i + 1]! * 8 === NONCE_OPTION_LEN ? b.slice(i + 2, i + 8) : undefined;
  return undefined;
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
      case Icmpv6Type.ROUTER_SOLICIT:
      case Icmpv6Type.ROUTER_ADVERT:
        return parseRouterMessage(p);
      default:
        return WireError.Unsupported;
    }
  },
  bufferLen(repr: Icmpv6Repr): number {
    if (repr.type === 'routerSolicit') return RS_FIXED_LEN + (repr.sourceLinkAddr ? LINK_ADDR_OPTION_LEN : 0);
    if (repr.type === 'routerAdvert')
      return (
        RA_FIXED_LEN +
        (repr.sourceLinkAddr ? LINK_ADDR_OPTION_LEN : 0) +
        (repr.mtu !== undefined ? MTU_OPTION_LEN : 0) +
        repr.prefixes.length * PREFIX_OPTION_LEN
      );
    if (repr.type === 'neighborSolicit')
      return (
        NDP_FIXED_LEN + (repr.sourceLinkAddr ? LINK_ADDR_OPTION_LEN : 0) + (repr.nonce ? NONCE_OPTION_LEN : 0)
      );
    if (repr.type === 'neighborAdvert')
      return NDP_FIXED_LEN + (repr.targetLinkAddr ? LINK_ADDR_OPTION_LEN : 0);
    return F.DATA + ('data' in repr ? repr.data : repr.invoking).length;
  },
  /** Writes the message and its checksum into a buffer of exactly `bufferLen(repr)` bytes. */
  emit(repr: Icmpv6Repr, p: Icmpv6Packet, src: Ipv6Address, dst: Ipv6Address): void {
    const b = p.buffer;
    b.fill(0, 0, F.DATA);
    switch (repr.type) {
      case 'routerSolicit':
        b.fill(0);
        b[F.TYPE] = Icmpv6Type.ROUTER_SOLICIT;
        if (repr.sourceLinkAddr) {
          b[RS_FIXED_LEN] = NdpOption.SOURCE_LINK_ADDR;
          b[RS_FIXED_LEN + 1] = LINK_ADDR_OPTION_LEN / 8;
          b.set(repr.sourceLinkAddr.bytes, RS_FIXED_LEN + 2);
        }
        break;
      case 'routerAdvert': {
        b.fill(0);
        b[F.TYPE] = Icmpv6Type.ROUTER_ADVERT;
        b[4] = repr.curHopLimit;
        b[5] = (repr.managed ? RA_MANAGED : 0) | (repr.other ? RA_OTHER : 0);
        set16(b, 6, repr.routerLifetime);
        set32(b, 8, repr.reachableTime);
        set32(b, 12, repr.retransTimer);
        let at = RA_FIXED_LEN;
        if (repr.sourceLinkAddr) {
          b[at] = NdpOption.SOURCE_LINK_ADDR;
          b[at + 1] = LINK_ADDR_OPTION_LEN / 8;
          b.set(repr.sourceLinkAddr.bytes, at + 2);
          at += LINK_ADDR_OPTION_LEN;
        }
        if (repr.mtu !== undefined) {
          b[at] = NdpOption.MTU;
          b[at + 1] = MTU_OPTION_LEN / 8;
          set32(b, at + 4, repr.mtu);
          at += MTU_OPTION_LEN;
        }
        for (const pi of repr.prefixes) {
          b[at] = NdpOption.PREFIX_INFO;
          b[at + 1] = PREFIX_OPTION_LEN / 8;
          b[at + 2] = pi.prefixLength;
          b[at + 3] = (pi.onLink ? PI_ON_LINK : 0) | (pi.autonomous ? PI_AUTONOMOUS : 0);
          set32(b, at + 4, pi.validLifetime);
          set32(b, at + 8, pi.preferredLifetime);
          b.set(pi.prefix.bytes, at + 16);
          at += PREFIX_OPTION_LEN;
        }
        break;
      }
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
        if (repr.nonce) {
          const at = NDP_FIXED_LEN + (repr.sourceLinkAddr ? LINK_ADDR_OPTION_LEN : 0);
          b[at] = NdpOption.NONCE;
          b[at + 1] = NONCE_OPTION_LEN / 8;
          b.set(repr.nonce.subarray(0, 6), at + 2);
        }
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
