/**
 * The interface: the layer between a device and the sockets. It parses what the device
 * receives (Ethernet and ARP when the medium is Ethernet, then IPv4/IPv6, ICMP, UDP, TCP),
 * answers what the stack itself answers (ARP requests, ICMP echo, ICMP port unreachable, TCP
 * RST for closed ports), hands the rest to sockets, and serialises what sockets send, routing
 * packets for the stack's own addresses back into itself (loopback).
 *
 * There is no clock and no thread: `poll(now, ...)` does all pending work and returns the time
 * it next needs to run.
 *
 * @module
 */
import { E, type LinuxError } from '@tsvisor/abi';
import type { Device } from '../phy/device.js';
import { LOOPBACK_MTU, LoopbackDevice } from '../phy/loopback.js';
import {
  PacketType,
  ethernetPacketType,
  tapDeviceFrame,
  withLoopbackHeader,
  type InterfaceTap,
} from './packet-tap.js';
import { ARP_PACKET_LEN, ArpOperation, ArpPacket, ArpRepr } from '../wire/arp.js';
import { isWireError, WireError } from '../wire/error.js';
import {
  ETHERNET_HEADER_LEN,
  EtherType,
  EthernetAddress,
  EthernetFrame,
  EthernetRepr,
} from '../wire/ethernet.js';
import { Icmpv4Packet, Icmpv4Repr, Icmpv4Type, Icmpv4Unreachable } from '../wire/icmpv4.js';
import { Icmpv6Packet, Icmpv6Repr, Icmpv6Type, Icmpv6Unreachable } from '../wire/icmpv6.js';
import type { IpAddress } from '../wire/ip-address.js';
import { IpCidr, Ipv4Address, Ipv6Address } from '../wire/ip-address.js';
import { IPV4_HEADER_LEN, IpProtocol, Ipv4Packet, Ipv4Repr } from '../wire/ipv4.js';
import { IPV6_HEADER_LEN, Ipv6Packet, Ipv6Repr } from '../wire/ipv6.js';
import { TCP_MAX_HEADER_LEN, TcpFlag, TcpPacket, TcpRepr, fixedOptionsLen } from '../wire/tcp.js';
import { UdpLiteRepr, UdpPacket, UdpRepr } from '../wire/udp.js';
import {
  fragmentIpv4,
  fragmentIpv6,
  IPV6_FRAGMENT_HEADER,
  IPV6_FRAGMENT_HEADER_LEN,
  Ipv4Reassembler,
  Ipv6Reassembler,
  parseIpv6Fragment,
  type ReassemblyLimits,
} from './fragment.js';
import { stableAddress } from './interface-id.js';
import { NEIGHBOR_RETRY, type DispatchContext, type EmitResult, type Outgoing } from './outgoing.js';
import {
  IfaFlag,
  isStableMode,
  linkLocalFor,
  resolveAddrconf,
  Slaac,
  type ResolvedAddrconf,
  dadKick,
  idgenStart,
  loopedDadSolicit,
  newIpv6Sysctl,
  type Ipv6DevConf,
  type Ipv6Sysctl,
  webCryptoBytes,
  type AddrconfOptions,
  type Ipv6AddressInfo,
} from './slaac.js';
import { NetMib, type IcmpMib, type IpMib, type UdpMib } from '../stats/mib.js';
import { defaultIcmp4RateSysctl, IcmpRateLimiter, randomCost, type Icmp4RateSysctl } from './icmp-limit.js';

/**
 * The net.ipv4 sysctls an interface reads for each packet that comes in, so a change applies to
 * the next one (and new sockets read ip_no_pmtu_disc). The ICMP rate limits (icmp_ratelimit,
 * icmp_ratemask, icmp_msgs_per_sec, icmp_msgs_burst) are read for each message the stack sends:
 * see icmp-limit.ts.
 */
export interface Ipv4IfaceSysctl extends Icmp4RateSysctl {
  /** icmp_echo_ignore_all (Linux: 0): no answer to any echo request (icmp_echo). */
  icmpEchoIgnoreAll: number;
  /**
   * icmp_echo_ignore_broadcasts (Linux: 1): an echo request to a broadcast or multicast address
   * is dropped, counted in Icmp InErrors (icmp_rcv); with 0 it is answered.
   */
  icmpEchoIgnoreBroadcasts: number;
  /**
   * ip_no_pmtu_disc (Linux: 0): new IPv4 sockets start with IP_PMTUDISC_DONT unless 0
   * (inet_create), and a fragmentation-needed report is used as it comes (0), taken as reporting
   * no MTU, which min_pmtu raises and locks (1, 4 and above), dropped (2), or used for TCP only
   * and dropped for the rest (3).
   */
  noPmtuDisc: number;
}

/**
 * Where a default TTL or hop limit is kept, read per packet (ip_select_ttl, ip6_dst_hoplimit):
 * {@link Interface.ipDefaultTtl} or an {@link Ipv6DevConf}. A TCP connection holds the one of
 * its route and reads the field for each segment it sends.
 */
export interface HopLimitConf {
  readonly hopLimit: number;
}

/** lo's hardware address, which is also its broadcast address. */
const LO_MAC = new Uint8Array(6);

/** The precedence of the stack's own ICMP errors (IPTOS_PREC_INTERNETCONTROL). */
const IPTOS_PREC_INTERNETCONTROL = 0xc0;

/** The RFC 1349 TOS bits of an IPv4 TOS byte that ICMP errors keep (IPTOS_TOS_MASK). */
const IPTOS_TOS_MASK = 0x1e;
/** The ECN field of a TOS byte or traffic class (INET_ECN_MASK). */
const IP_ECN_MASK = 0x03;

/** The Next Header field's offset in the IPv6 fixed header. */
const IPV6_NEXT_HEADER_OFFSET = 6;

/** ICMPv6 parameter problem code 1 (RFC 4443 §3.4, Linux's ICMPV6_UNK_NEXTHDR). */
const ICMPV6_UNRECOGNIZED_NEXT_HEADER = 1;

/** IGMP: Linux always has a handler (igmp_rcv), which this stack leaves to raw sockets. */
const IPPROTO_IGMP = 2;

/** IPv6's No Next Header (RFC 8200 §4.7): Linux's handler discards it (ipv6_nodata_init). */
const IPV6_NO_NEXT_HEADER = 59;

/** Hop-by-Hop Options, Routing and Destination Options: extension headers this stack does not walk. */
const IPV6_UNWALKED_HEADERS = new Set([0, 43, 60]);

/**
 * A protocol Linux has a handler for that drops what it does not want, so what no raw socket
 * took is delivered (InDelivers) and not answered as unknown.
 */
function isSilentProtocol(version: 4 | 6, protocol: number): boolean {
  return version === 4 ? protocol === IPPROTO_IGMP : protocol === IPV6_NO_NEXT_HEADER;
}

/** The IP header fields a received datagram carries up to its socket (IP_RECVTTL, IPV6_RECVTCLASS...). */
export interface ReceivedIp {
  /** TTL (IPv4) or hop limit (IPv6). */
  readonly hopLimit: number;
  /** The TOS byte (IPv4) or traffic class (IPv6). */
  readonly trafficClass: number;
  /** An IPv6 UDP datagram with checksum 0: only a socket with UDP_NO_CHECK6_RX takes it. */
  readonly zeroChecksum6?: boolean;
  /** A UDP_SEGMENT send from this host, whole: its segment size (see Outgoing's gsoSize). */
  readonly gsoSize?: number;
}

/** An ICMP error message as the interface hands it to the socket that sent the datagram it quotes. */
export interface IcmpErrorReport {
  /** 4 for ICMP, 6 for ICMPv6. */
  readonly version: 4 | 6;
  readonly type: number;
  readonly code: number;
  /**
   * ee_info: the next-hop MTU of a fragmentation-needed message, the MTU of a packet-too-big,
   * the pointer of a parameter problem; 0 otherwise.
   */
  readonly info: number;
  /** The ICMP message's source (the offender of sock_extended_err). */
  readonly offender: IpAddress;
  /**
   * The hops IP_MINTTL and IPV6_MINHOPCOUNT are compared with (tcp_v4_err, tcp_v6_err): for
   * ICMP the TTL of the IPv4 header the message quoted, for ICMPv6 the hop limit the ICMPv6
   * packet itself arrived with.
   */
  readonly hops: number;
  /** What the message quoted of the datagram from its transport header on. */
  readonly quoted: Uint8Array;
  /**
   * Where in {@link quoted} an RFC 4884 extension structure starts, as the message's datagram
   * length field says; -1 when it claims none (no such field, or less than 128 bytes).
   */
  readonly extension: number;
}

/** How the interface reaches the sockets (implemented by the stack's socket table). */
export interface SocketTable {
  /** Delivers an ICMP echo reply (the whole ICMP message) to the ping socket with its identifier. */
  icmpEchoReplyInput(
    src: IpAddress,
    dst: IpAddress,
    ident: number,
    message: Uint8Array,
    hopLimit: number,
    trafficClass: number,
  ): void;
  /** Delivers a UDP datagram with its IP header's fields; false when no socket wants it. */
  udpInput(src: IpAddress, dst: IpAddress, udp: UdpRepr, ip: ReceivedIp): boolean;
  /** Delivers a UDP-Lite datagram with its IP header's fields; false when no socket wants it. */
  udpliteInput(src: IpAddress, dst: IpAddress, udp: UdpLiteRepr, ip: ReceivedIp): boolean;
  /** An ICMP error about a UDP datagram we sent from `localPort` to `remote`. */
  udpError(
    local: IpAddress,
    localPort: number,
    remote: IpAddress,
    remotePort: number,
    report: IcmpErrorReport,
  ): void;
  /** An ICMP error about an echo request with identifier `ident` we sent to `remote`; absent: no ping sockets. */
  pingError?(local: IpAddress, remote: IpAddress, ident: number, report: IcmpErrorReport): void;
  /**
   * Delivers a TCP segment that arrived with TTL or hop limit `hopLimit` (IP_MINTTL and
   * IPV6_MINHOPCOUNT drop it below theirs) and TOS or traffic class `trafficClass` (what a
   * listener's SYN-ACK reflects with net.ipv4.tcp_reflect_tos); returns a reply to send (e.g. a
   * RST), if any.
   */
  tcpInput(
    now: number,
    src: IpAddress,
    dst: IpAddress,
    tcp: TcpRepr,
    hopLimit?: number,
    trafficClass?: number,
  ): TcpRepr | undefined;
  /**
   * The TTL or hop limit of the reply {@link tcpInput} last returned when a connection sends it
   * as its own segment (an ACK); -1 or absent: the stack sends it (a RST, a TIME_WAIT ACK).
   */
  readonly tcpReplyHops?: number;
  /**
   * Offers a received datagram of IP protocol `protocol` to the raw sockets: `packet` is the
   * whole IP datagram, `payload` what follows its IP header(s); true when one matched it (its
   * filters or a full receive queue may still drop its copy). Absent: no raw sockets.
   */
  rawInput?(
    src: IpAddress,
    dst: IpAddress,
    protocol: number,
    packet: Uint8Array,
    payload: Uint8Array,
  ): boolean;
  /**
   * An ICMP error about a datagram of IP protocol `protocol` we sent from `local` to `remote`,
   * for the raw sockets of that protocol; `datagram` is what the message quoted of it from its
   * IP header on. Absent: no raw sockets.
   */
  rawError?(
    local: IpAddress,
    remote: IpAddress,
    protocol: number,
    datagram: Uint8Array,
    report: IcmpErrorReport,
  ): void;
  /**
   * An ICMP error about a TCP segment with sequence number `seq` we sent from `local`:`localPort`
   * to `remote`:`remotePort`. Absent: TCP takes no ICMP errors.
   */
  tcpError?(
    local: IpAddress,
    localPort: number,
    remote: IpAddress,
    remotePort: number,
    seq: number,
    report: IcmpErrorReport,
  ): void;
  /** Whether a raw socket of `family` takes `protocol`: only then is a looped TCP segment rebuilt for it. */
  rawWants?(family: 4 | 6, protocol: number): boolean;
  /**
   * The MTU to `dst`, lowered to a path MTU learnt from ICMP errors: what the stack's own echo
   * replies are fragmented to, as icmp_reply and icmpv6_echo_reply build them with
   * ip_append_data (ip6_append_data) on the route. Absent: the link's.
   */
  mtuFor?(dst: IpAddress): number;
  /** A neighbor answered: sockets holding packets for it may try again now. */
  neighborResolved(): void;
  /** Lets every socket send what it has; true when any packet left. */
  dispatch(ctx: DispatchContext): boolean;
  /** The earliest time a socket needs to run (now when it has work). */
  pollAt(now: number): number | undefined;
}

/** Interface settings. */
export interface InterfaceConfig {
  /**
   * The interface's addresses with their prefixes; the loopback ranges are always local (but
   * see {@link loopbackDown}).
   */
  readonly addresses: readonly IpCidr[];
  /**
   * lo starts down and without addresses, as a new network namespace's does (copy_net_ns):
   * 127.0.0.0/8 is not local (ENETUNREACH) until an IPv4 loopback address is assigned, which
   * `Stack.setLoopbackUp` does as lo comes up. Default false.
   */
  readonly loopbackDown?: boolean;
  /** The MAC address (required on an Ethernet device). */
  readonly hardwareAddress?: EthernetAddress;
  /** Default routers for destinations outside every prefix. */
  readonly gateways?: readonly IpAddress[];
  /** Verify checksums on received packets (default true). */
  readonly verifyChecksums?: boolean;
  /** Limits of IPv4 and of IPv6 reassembly, each (defaults: 64 datagrams, 4 MiB, 30 s). */
  readonly reassembly?: Partial<ReassemblyLimits>;
  /**
   * Add the IPv6 link-local address fe80::/64 derived from `hardwareAddress` (modified EUI-64,
   * RFC 4291 Appendix A), as Linux does on an Ethernet link. Off by default so that an
   * interface has exactly the configured addresses unless asked.
   */
  readonly ipv6LinkLocal?: boolean;
  /**
   * IPv6 stateless address autoconfiguration (RFC 4862, see slaac.ts) from router
   * advertisements, with the link-local address (needs `ipv6LinkLocal` and a MAC). Linux does
   * it by default on a host; here it is asked for, like the link-local address.
   */
  readonly slaac?: boolean;
  /**
   * How IPv6 interface identifiers are formed (EUI-64, RFC 7217 stable privacy, none) and
   * RFC 8981 temporary addresses: Linux's net.ipv6.conf.<dev>.addr_gen_mode, stable_secret,
   * use_tempaddr and related settings (see slaac.ts); applies with `ipv6LinkLocal` and a MAC.
   * Default: EUI-64, no temporary addresses.
   */
  readonly addrconf?: AddrconfOptions;
}

/** The link-local address of a MAC (fe80::/64 with the modified EUI-64 interface identifier). */
export function linkLocalAddress(mac: EthernetAddress): Ipv6Address {
  const m = mac.bytes;
  return new Ipv6Address([
    0xfe,
    0x80,
    0,
    0,
    0,
    0,
    0,
    0,
    m[0]! ^ 0x02,
    m[1]!,
    m[2]!,
    0xff,
    0xfe,
    m[3]!,
    m[4]!,
    m[5]!,
  ]);
}

/** The solicited-node multicast address of `addr` (RFC 4291 §2.7.1: ff02::1:ff + low 24 bits). */
export function solicitedNodeAddress(addr: Ipv6Address): Ipv6Address {
  const b = addr.bytes;
  return new Ipv6Address([0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, b[13]!, b[14]!, b[15]!]);
}

/** The first 104 bits of every solicited-node multicast address (ff02::1:ff00:0/104). */
const SOLICITED_NODE_PREFIX = [0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff];

/** The IPv6 extension headers ipv6_ext_hdr knows (ipv6_skip_exthdr walks them). */
function isIpv6ExtensionHeader(nextHeader: number): boolean {
  return (
    nextHeader === 0 || // hop-by-hop options
    nextHeader === 43 || // routing
    nextHeader === IPV6_FRAGMENT_HEADER ||
    nextHeader === 51 || // authentication
    nextHeader === 59 || // no next header
    nextHeader === 60 // destination options
  );
}

/**
 * ipv6_skip_exthdr over the bytes `b` of an IPv6 datagram: from the header at `start`, named by
 * `nextHeader`, past every extension header to the first that is none, or to a Fragment header
 * whose offset is not 0 (what follows it is no header). Undefined where Linux answers -1: a "no
 * next header", or a header cut short.
 */
function skipExtensionHeaders(
  b: Uint8Array,
  start: number,
  nextHeader: number,
): { readonly offset: number; readonly nextHeader: number } | undefined {
  let at = start;
  let nh = nextHeader;
  while (isIpv6ExtensionHeader(nh)) {
    if (nh === 59 || b.length < at + 2) return undefined;
    let len: number;
    if (nh === IPV6_FRAGMENT_HEADER) {
      if (b.length < at + 4) return undefined;
      if (((b[at + 2]! << 8) | b[at + 3]!) & ~0x7) break; // a fragment offset: stop here
      len = 8;
    } else if (nh === 51)
      len = (b[at + 1]! + 2) << 2; // AH counts 32-bit words, less 2
    else len = (b[at + 1]! + 1) << 3;
    nh = b[at]!;
    at += len;
  }
  return { offset: at, nextHeader: nh };
}

/** True when `addr` is a solicited-node multicast address (ipv6_addr_is_solict_mult). */
function isSolicitedNode(addr: Ipv6Address): boolean {
  const b = addr.bytes;
  return SOLICITED_NODE_PREFIX.every((v, i) => b[i] === v);
}

/** ff02::1, all nodes on the link. */
const ALL_NODES = new Ipv6Address([0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
const ALL_NODES_MAC = EthernetAddress.ipv6Multicast(ALL_NODES);
/** RFC 4861 §7.1: neighbor discovery messages are sent, and must arrive, with hop limit 255. */
const NDP_HOP_LIMIT = 255;

/**
 * Duplicate address detection of an assigned IPv6 address (Linux's defaults): the solicitation
 * waits a random part of rtr_solicit_delay (1 s), dad_transmits (Ipv6Sysctl) go out
 * RetransTimer (1 s) apart, and the address is valid RetransTimer after the last.
 */
const DAD_MAX_DELAY = 1000;
const DAD_RETRANS_TIMER = 1000;

/** How long an ARP entry lives (ms); unanswered requests repeat every NEIGHBOR_RETRY. */
const NEIGHBOR_LIFETIME = 60_000;
/** Rounds of receive/dispatch per poll before yielding (returns `now` as the deadline). */
const MAX_ROUNDS = 256;

/** Offloaded frames shorter than this are not kept for reuse (allocating them is cheap). */
const SPARE_MIN = 4096;
/** How many consumed frames of one length, and how many lengths, are kept for reuse. */
const SPARE_PER_LENGTH = 4;
const SPARE_LENGTHS = 8;
/** Size of the reused payload buffers of looped segments (the largest loopback payload fits). */
const LOOP_PAYLOAD_SIZE = 65536;
const NO_PAYLOAD = new Uint8Array(0);

/**
 * A TCP segment that stays on the host, queued as its parsed form: what the receiving side
 * would get from parsing the frame (see {@link wireImage}), without building and parsing one.
 */
interface LoopSegment {
  readonly src: IpAddress;
  readonly dst: IpAddress;
  readonly tcp: TcpRepr;
  /** It went through the loopback device (and counts as a frame each way), not the local shortcut. */
  readonly viaDevice: boolean;
  /** The reused buffer its payload was copied into, if any. */
  readonly pooled: Uint8Array | undefined;
  /** Its payload is the sender's own view (Outgoing.payloadHeld), good until the poll ends. */
  readonly held: boolean;
  /** `dst.isLoopback()`, asked once at emit (an address never changes). */
  readonly dstLoopback: boolean;
  /** Its frame as lo's taps saw it leave, kept for its arrival (only while a tap is set). */
  tapFrame?: Uint8Array;
  /** The length of the IP datagram it stands for (InOctets on arrival). */
  readonly octets: number;
  /** The TTL or hop limit it was sent with. */
  readonly hopLimit: number;
  /** The TOS byte or traffic class it was sent with. */
  readonly trafficClass: number;
}

/**
 * The segment a receiver parses out of the frame that `TcpRepr.emit` would build from `t`, with
 * `payload` as its payload: fields clipped to their wire widths, ACK folded into `ackNumber`,
 * the window scale capped at 14 as the parser caps it, absent options undefined, and only the
 * SACK blocks that fit in the 40 option bytes. Loopback TCP hands this to the receiver instead of
 * a frame; a test checks it against emit-then-parse.
 */
export function wireImage(t: TcpRepr, payload: Uint8Array): TcpRepr {
  const sack = t.sackBlocks;
  let sackRoom = 0;
  if (sack && sack.length > 0) sackRoom = Math.floor((40 - fixedOptionsLen(t) - 4) / 8);
  return {
    srcPort: t.srcPort & 0xffff,
    dstPort: t.dstPort & 0xffff,
    seqNumber: t.seqNumber >>> 0,
    ackNumber: t.ackNumber === undefined ? undefined : t.ackNumber >>> 0,
    flags: t.flags & ~TcpFlag.ACK & 0xff,
    windowLen: t.windowLen & 0xffff,
    maxSegSize: t.maxSegSize === undefined ? undefined : t.maxSegSize & 0xffff,
    windowScale: t.windowScale === undefined ? undefined : Math.min(t.windowScale & 0xff, 14),
    sackPermitted: t.sackPermitted ? true : undefined,
    sackBlocks:
      sack && sack.length > 0 && sackRoom > 0
        ? sack.slice(0, sackRoom).map(([l, r]) => [l >>> 0, r >>> 0] as const)
        : undefined,
    timestamp: t.timestamp ? { tsVal: t.timestamp.tsVal >>> 0, tsEcr: t.timestamp.tsEcr >>> 0 } : undefined,
    urgentPointer: t.flags & TcpFlag.URG ? (t.urgentPointer ?? 0) & 0xffff : undefined,
    payload,
  };
}

/**
 * The counters Linux keeps for a network device (the fields of struct rtnl_link_stats64 netstack
 * can know): what /proc/net/dev, `ip -s link` and IFLA_STATS64 show. A packet counts with its
 * length as the device carries it: with the Ethernet header on an Ethernet device, the IP datagram
 * alone on a device with the IP medium and on Linux's `lo` (loopback_xmit counts the packet
 * after eth_type_trans took lo's link header off). A packet the device refused counts only as
 * dropped: tx_dropped, or rx_dropped on a loopback device (whose full backlog is its receive side).
 */
export interface LinkCounters {
  rxPackets: number;
  rxBytes: number;
  rxDropped: number;
  txPackets: number;
  txBytes: number;
  txDropped: number;
}

/** True when `r` is the route of prefix `dst` with metric `metric` (fib_find_alias's key). */
function sameRoute(r: StaticRoute, dst: IpCidr, metric: number): boolean {
  return r.dst.prefixLen === dst.prefixLen && r.dst.address.equals(dst.address) && r.metric === metric;
}

/** A fresh set of {@link LinkCounters}, all zero. */
export function linkCounters(): LinkCounters {
  return { rxPackets: 0, rxBytes: 0, rxDropped: 0, txPackets: 0, txBytes: 0, txDropped: 0 };
}

/**
 * A route of the main table that the stack's owner added (`ip route add`): packets to `dst` go
 * to `gateway` (else to the destination itself, on link), out of lo or the device.
 */
export interface StaticRoute {
  /** The destination prefix (its host bits clear). */
  readonly dst: IpCidr;
  /** The next hop; undefined: the destination is on link. */
  readonly gateway: IpAddress | undefined;
  /** The route leaves by lo (else by the device). */
  readonly loopback: boolean;
  /** Its priority (RTA_PRIORITY): among routes of one prefix the lowest wins. */
  readonly metric: number;
  /** The preferred source address (RTA_PREFSRC), if one was given. */
  readonly src: IpAddress | undefined;
  /** The route's MTU (RTAX_MTU), if one was given: sockets to its destinations use it. */
  readonly mtu: number | undefined;
  /**
   * The MTU is locked (`mtu lock N`, RTAX_LOCK's RTAX_MTU bit): path MTU discovery leaves it as
   * it is (ip_mtu_locked, dst_metric_locked). Absent: not locked.
   */
  readonly mtuLocked?: boolean;
  /** Who added it (RTPROT_*, as `ip route` shows it; `ip route add` says 3, boot); default 3. */
  readonly protocol?: number;
}

/** The route a packet to a destination takes, as {@link Interface.lookupRoute} finds it. */
export interface RouteChoice {
  readonly gateway: IpAddress | undefined;
  readonly loopback: boolean;
  readonly src: IpAddress | undefined;
  readonly mtu: number | undefined;
  /** The route's MTU is locked (see {@link StaticRoute.mtuLocked}). */
  readonly mtuLocked?: boolean;
  /** The route is one of {@link Interface.routes} (else a prefix of an address, or a gateway). */
  readonly static: boolean;
}

/** What the interface keeps of an address {@link Interface.addAddress} assigned. */
interface AssignedAddress {
  /** It is on lo (else on the device). */
  readonly loopback: boolean;
  /** An IPv4 address in the subnet of an earlier one (IFA_F_SECONDARY). */
  readonly secondary: boolean;
  /** IFA_F_* bits it was assigned with. */
  readonly flags: number;
}

/** Duplicate address detection of one assigned IPv6 address (Linux's addrconf_dad_work). */
interface DadRun {
  /** The next step: a solicitation, or the end once none is left; undefined until DAD starts. */
  at: number | undefined;
  /** DAD starts no earlier (idgen_delay after the conflict that made the address). */
  readonly notBefore: number;
  /** Solicitations still to send (dad_transmits when it starts). */
  probes: number;
  /** Another node has the address (IFA_F_DADFAILED): it stays tentative, never used. */
  failed: boolean;
  /** The nonce of this run's solicitations, drawn when it starts. */
  nonce: Uint8Array | undefined;
}

/** Traffic counters (like /proc/net/snmp, a few of them). */
export interface InterfaceStats {
  rxFrames: number;
  txFrames: number;
  rxDropped: number;
  icmpEchoReplies: number;
  tcpResets: number;
  udpNoPort: number;
}

/**
 * A network interface bound to one device.
 *
 * @example
 * ```ts
 * const iface = new Interface({ addresses: [IpCidr.parse('127.0.0.1/8')!] });
 * const deadline = iface.poll(now, device, sockets);
 * ```
 */
export class Interface {
  readonly addresses: IpCidr[];
  readonly hardwareAddress: EthernetAddress | undefined;
  readonly gateways: IpAddress[];
  /** Stateless autoconfiguration, when enabled (`slaac`). */
  readonly slaac: Slaac | undefined;
  readonly stats: InterfaceStats = {
    rxFrames: 0,
    txFrames: 0,
    rxDropped: 0,
    icmpEchoReplies: 0,
    tcpResets: 0,
    udpNoPort: 0,
  };
  /**
   * The device's counters: every frame it gave the interface, every frame the interface gave it
   * (see {@link LinkCounters}). On a loopback device these are `lo`'s.
   */
  readonly deviceCounters: LinkCounters = linkCounters();
  /**
   * The counters of the packets this host sends to its own addresses without the device (which
   * is not a loopback device then): Linux's `lo` carries them, each counted once sent and once
   * received. They stay 0 on a loopback device, which carries that traffic itself.
   */
  readonly loopCounters: LinkCounters = linkCounters();
  /** The stack's SNMP counters (/proc/net/snmp, netstat, snmp6), incremented as Linux does. */
  readonly mib = new NetMib();
  private readonly verify: boolean;
  /** Neighbor cache (ARP for IPv4, NDP for IPv6): address key -> MAC and expiry. */
  private readonly neighbors = new Map<string, { addr: IpAddress; mac: EthernetAddress; expires: number }>();
  /** Outstanding ARP requests and neighbor solicitations: address key -> time of the last one. */
  private readonly arpPending = new Map<string, number>();
  /** Collects IPv4 fragments addressed to this host. */
  readonly reassembler: Ipv4Reassembler;
  /** Collects IPv6 fragments addressed to this host (same limits, counted separately). */
  readonly reassembler6: Ipv6Reassembler;
  /** Identification of the next fragmented IPv6 packet. */
  private ip6Ident = 0;
  /** Identification of the next fragmented IPv4 datagram. */
  private ipIdent = 0;
  /** IP packets routed to ourselves, waiting to be received. */
  private readonly loopQueue: Uint8Array[] = [];
  /**
   * TCP packets this interface emitted without a checksum because they never leave the host
   * (to itself, or through a loopback device), like Linux's CHECKSUM_UNNECESSARY on `lo`. Only
   * these exact objects skip verification on the way in: a copy (a fault injector's corrupted
   * or duplicated frame) is verified as usual.
   */
  private readonly offloaded = new WeakSet<Uint8Array>();
  /** True while the packet being received is one of {@link offloaded}. */
  private rxOffloaded = false;
  /**
   * UDP datagrams of a UDP_SEGMENT send that stayed on this host whole (loopback keeps a GSO
   * packet whole, as Linux's lo does), with their segment size; and that of the frame being
   * received (0: none).
   */
  private readonly gsoFrames = new WeakMap<Uint8Array, number>();
  private rxGso = 0;
  /**
   * The TCP segment being delivered, for TCP_SAVE_SYN ({@link receivedTcpHeaders}): its IP
   * packet and where its TCP header ends in it, or the looped segment (which has no frame);
   * and the link-layer header it came with: an Ethernet frame's, lo's (zeros), or none.
   */
  private rxTcpPacket: Uint8Array | undefined;
  private rxTcpHeaderEnd = 0;
  private rxTcpLoop: LoopSegment | undefined;
  private rxFrame: Uint8Array | undefined;
  private rxLink: 'frame' | 'lo' | 'none' = 'none';
  /**
   * skb->pkt_type of the frame being received (eth_type_trans): HOST when its Ethernet
   * destination is the device's address (always off Ethernet), else BROADCAST or MULTICAST.
   * Linux answers no datagram of a link-level broadcast or multicast with an ICMP error or a RST.
   */
  private rxPktType: number = PacketType.HOST;
  /**
   * Large offloaded frames that came back and were consumed (TCP copies a segment's payload
   * into the receive ring and keeps no view of it), by length, for the next segments of that
   * size: a bulk transfer then allocates (and zero-fills) no 64 KiB frame per segment.
   */
  private readonly spareFrames = new Map<number, Uint8Array[]>();
  /**
   * TCP segments on their way back into this stack through a {@link LoopbackDevice} (or to one of
   * its own addresses): the sender's segment, copied, is what the receiver gets, as Linux's
   * loopback hands the skb itself to the receive path. Serialising a frame and parsing it back
   * would only cost time: nothing between the two ends can see or change it.
   */
  private readonly loopSegments: LoopSegment[] = [];
  /** The next of {@link loopSegments} to receive (those before it were received). */
  private loopHead = 0;
  /** Payload buffers of looped segments, reused once their receiver copied the bytes out. */
  private readonly loopPayloads: Uint8Array[] = [];

  /**
   * lo's MTU: what packets to this host's own addresses (and routes on lo) are cut to when the
   * device is not itself a loopback device. `ip link set lo mtu N` changes it (Stack.setMtu).
   */
  loopbackMtu = LOOPBACK_MTU;
  /**
   * lo is up (IFF_UP). Down, what this host sends to itself is dropped before any tap sees it,
   * counted in the link's txDropped, as a down lo's dev_queue_xmit drops it (ENETDOWN, which
   * senders do not see); Stack.setLoopbackUp changes it. One field read per packet.
   */
  loopbackUp = true;
  /**
   * ::1 is this host's: lo is up and IPv6 is not disabled on it (net.ipv6.conf.lo.disable_ipv6).
   * Stack.setLoopbackUp and Stack.setDisableIpv6 keep it.
   */
  loopback6 = true;
  /**
   * The device is up. Down, every packet it would carry is dropped (counted in txDropped). A
   * Stack keeps it equal to {@link loopbackUp} when the device is itself a loopback device.
   */
  deviceUp = true;
  /**
   * Told when duplicate address detection of an address {@link addAddress} assigned ends, with
   * the address now valid or dadfailed: rtnetlink announces it then, as Linux's
   * addrconf_dad_completed and addrconf_dad_failure do.
   */
  dadListener: ((c: IpCidr) => void) | undefined = undefined;
  /**
   * Sees every frame the links carry while set (AF_PACKET: see packet-tap.ts); undefined, the
   * usual case, costs one read of this field per packet.
   */
  packetTap: InterfaceTap | undefined = undefined;
  /**
   * The device's MTU, undefined for the device's own (`capabilities.mtu`): what datagrams leaving
   * by the device are fragmented to. A Stack sets it at once, so the send paths read one field.
   */
  deviceMtu: number | undefined;

  constructor(config: InterfaceConfig) {
    this.addresses = [...config.addresses];
    this.hardwareAddress = config.hardwareAddress;
    let ll: Ipv6Address | undefined;
    const mac = config.hardwareAddress;
    const addrconf = config.ipv6LinkLocal && mac ? resolveAddrconf(config.addrconf, mac) : undefined;
    if (addrconf && mac) {
      ll = linkLocalFor(mac, addrconf);
      if (ll && !this.addresses.some((c) => c.address.equals(ll!))) this.addresses.push(new IpCidr(ll, 64));
      if (ll && isStableMode(addrconf.mode)) this.stableLinkLocal = ll;
    }
    this.addrconf = addrconf;
    this.linkLocal = ll;
    this.gateways = [...(config.gateways ?? [])];
    this.ipv6Sysctl = newIpv6Sysctl(config.addrconf);
    this.slaac =
      config.slaac && addrconf && mac ? new Slaac(this, ll, mac, addrconf, this.ipv6Sysctl) : undefined;
    this.verify = config.verifyChecksums ?? true;
    this.randomBytes = config.addrconf?.randomBytes ?? webCryptoBytes;
    this.icmpLimit = new IcmpRateLimiter(
      this.ipv4Sysctl,
      this.ipv6Sysctl,
      this.mib.icmp,
      this.mib.icmp6,
      randomCost(this.randomBytes),
    );
    this.broadcasts = this.addresses.flatMap((c) => c.broadcast() ?? []);
    this.loopback4Implicit = config.loopbackDown !== true;
    this.loopback4 = this.loopback4Implicit || this.addresses.some(isLoopback4);
    this.reassembler = new Ipv4Reassembler(config.reassembly);
    this.reassembler6 = new Ipv6Reassembler(config.reassembly);
    this.mib.reassembly4 = this.reassembler.stats;
    this.mib.reassembly6 = this.reassembler6.stats;
  }

  /** The directed broadcast addresses of the IPv4 prefixes (kept by {@link addressesChanged}). */
  private broadcasts: Ipv4Address[];
  /**
   * 127.0.0.0/8 is this host's: always, unless the interface began with lo down
   * ({@link InterfaceConfig.loopbackDown}); then while an IPv4 loopback address is assigned,
   * whose local route covers it (one deleted with `ip addr del` takes 127/8 with it).
   */
  private loopback4: boolean;
  private readonly loopback4Implicit: boolean;
  /**
   * The IPv4 prefixes of addresses on lo beyond 127.0.0.0/8: Linux makes each a local route
   * (fib_add_ifaddr on a loopback device), so every address in them is this host's.
   */
  private localPrefixes: IpCidr[] = [];
  /** What {@link addAddress} recorded of the addresses it assigned (configured ones have none). */
  private readonly assigned = new Map<IpCidr, AssignedAddress>();
  /** The routes {@link addRoute} added, in the order they came. */
  private readonly staticRoutes: StaticRoute[] = [];
  /**
   * The assigned IPv6 addresses still tentative (duplicate address detection running, or found
   * a duplicate), keyed by their entry in {@link addresses}: they stay listed there (their
   * prefix route exists, as on Linux) but are not this host's ({@link hasAddress}): no bind, no
   * source, no packets taken for them, no answer to solicitations for them.
   */
  private readonly dad = new Map<IpCidr, DadRun>();
  /**
   * The IPv6 sysctls DAD and address generation read as they run (/proc/sys/net/ipv6 sets
   * them): a change applies to DAD runs that start later, as on Linux.
   */
  readonly ipv6Sysctl: Ipv6Sysctl;
  /** The net.ipv4 sysctls read as packets arrive (/proc/sys/net/ipv4 sets them). */
  readonly ipv4Sysctl: Ipv4IfaceSysctl = {
    icmpEchoIgnoreAll: 0,
    icmpEchoIgnoreBroadcasts: 1,
    noPmtuDisc: 0,
    ...defaultIcmp4RateSysctl(),
  };
  /**
   * Linux's ICMP rate limits over {@link ipv4Sysctl} and {@link ipv6Sysctl}: every ICMP error
   * and echo reply the stack sends asks it first.
   */
  readonly icmpLimit: IcmpRateLimiter;
  /** net.ipv4.ip_default_ttl (Linux: 64; Stack.sysctl.defaultTtl sets it), in the shape of a link's hop_limit. */
  readonly ipDefaultTtl: { hopLimit: number } = { hopLimit: 64 };
  /** Random bytes for DAD's delay (the addrconf option's, else Web Crypto). */
  private readonly randomBytes: (n: number) => Uint8Array;
  /** The link-local address when RFC 7217 formed it (flagged stable-privacy, as on Linux). */
  private readonly stableLinkLocal: Ipv6Address | undefined;
  /** The address generation settings of `ipv6LinkLocal` (undefined without it). */
  private readonly addrconf: ResolvedAddrconf | undefined;
  /**
   * The stable-privacy addresses formed again after DAD found the one before them in use (see
   * {@link retryStable}), with the DAD counter that formed them (Linux's stable_privacy_retry).
   */
  private readonly stableRetries = new Map<IpCidr, number>();
  /**
   * The device's link-local address as `ipv6LinkLocal` formed it (undefined without one): what
   * Stack.setDeviceUp puts back when the device comes up again, as Linux's addrconf_dev_up.
   */
  readonly linkLocal: Ipv6Address | undefined;

  /**
   * The IPv6 addresses with Linux's IFA_F_* flags and lifetimes, as /proc/net/if_inet6 and
   * RTM_GETADDR show them: configured ones and the link-local one permanent (tentative while
   * duplicate address detection runs, tentative and dadfailed after it found a duplicate),
   * autoconfigured ones (tentative ones included) as SLAAC keeps them.
   */
  ipv6Addresses(): Ipv6AddressInfo[] {
    const auto = this.slaac?.addresses() ?? [];
    const out: Ipv6AddressInfo[] = [];
    for (const c of this.addresses) {
      if (c.address.version !== 6 || auto.some((a) => a.cidr.address.equals(c.address))) continue;
      const stable =
        this.stableLinkLocal?.equals(c.address) || this.stableRetries.has(c) ? IfaFlag.STABLE_PRIVACY : 0;
      const run = this.dad.get(c);
      const dad = run ? IfaFlag.TENTATIVE | (run.failed ? IfaFlag.DADFAILED : 0) : 0;
      out.push({
        cidr: c,
        flags: IfaFlag.PERMANENT | stable | dad | (this.assigned.get(c)?.flags ?? 0),
        validUntil: Infinity,
        preferredUntil: Infinity,
      });
    }
    return [...out, ...auto];
  }

  /** True when `addr` is the directed broadcast address of one of the interface's prefixes. */
  isDirectedBroadcast(addr: IpAddress): boolean {
    const all = this.broadcasts;
    if (all.length === 0 || addr.version !== 4) return false;
    // Ipv4Address.equals, written out: every received segment asks.
    const a = addr.bytes;
    for (let i = 0; i < all.length; i++) {
      const b = all[i]!.bytes;
      if (a[0] === b[0] && a[1] === b[1] && a[2] === b[2] && a[3] === b[3]) return true;
    }
    return false;
  }

  /**
   * A read-only copy of the neighbor cache (ARP and NDP entries still valid at `now`, in the
   * order they were learned), for /proc/net/arp and `ip neigh`: Linux shows resolved entries
   * only, so outstanding requests are left out. `expires` is on the clock the stack is polled with.
   */
  neighborEntries(now: number): { address: IpAddress; mac: EthernetAddress; expires: number }[] {
    const out: { address: IpAddress; mac: EthernetAddress; expires: number }[] = [];
    for (const e of this.neighbors.values())
      if (e.expires > now) out.push({ address: e.addr, mac: e.mac, expires: e.expires });
    return out;
  }

  /**
   * True when `addr` belongs to this host: an interface address (not a tentative one), a
   * loopback address, or an address in the IPv4 prefix of an address assigned to lo.
   */
  hasAddress(addr: IpAddress): boolean {
    // ::1 is this host's while lo is up: a down lo loses it (addrconf_ifdown), 127/8 stays.
    if (addr.isLoopback()) return addr.version === 4 ? this.loopback4 : this.loopback6;
    const all = this.addresses;
    for (let i = 0; i < all.length; i++)
      if (all[i]!.address.equals(addr)) return this.dad.size === 0 || !this.dad.has(all[i]!);
    const local = this.localPrefixes;
    for (let i = 0; i < local.length; i++) if (local[i]!.contains(addr)) return true;
    return false;
  }

  /**
   * Assigns `cidr` to the interface, as `ip addr add` does (inet_rtm_newaddr,
   * inet6_rtm_newaddr): on lo when `loopback` (then on IPv4 its whole prefix is local), else on
   * the device. An IPv4 address in the subnet of another with the same prefix length is a
   * secondary one (IFA_F_SECONDARY), listed after the primaries. `flags` are IFA_F_* bits kept
   * with the address (NODAD, NOPREFIXROUTE...); every assigned address is permanent. With
   * NOPREFIXROUTE its prefix gets no route (nor, on lo, the local route of an IPv4 prefix).
   *
   * An IPv6 address on an Ethernet device without IFA_F_NODAD is tentative until duplicate
   * address detection (RFC 4862 §5.4) passes, as Linux's addrconf_dad_start: the first poll
   * with the device up starts it, a neighbor solicitation from :: to the address's
   * solicited-node group goes out after a random delay below 1 s, and 1 s later the address is
   * valid; a neighbor advertisement for it, or another node's DAD solicitation, meanwhile leaves
   * it tentative and dadfailed for good (a solicitation with the nonce of our own is our own,
   * looped back: enhanced DAD). A tentative address is listed with its prefix route,
   * but binding to it is EADDRNOTAVAIL, it is no source, and packets to it are not taken. On lo
   * and on an IP-medium device (Linux's IFF_NOARP) there is no DAD.
   *
   * EEXIST when the address is assigned already (IPv4: the same address with the same prefix
   * length; IPv6: the same address with any, tentative or not); EACCES for an IPv6 address on a
   * link whose net.ipv6.conf.<link>.disable_ipv6 is set (ipv6_add_addr).
   * Other addresses are usable at once: sockets may bind to them, and packets to them are received.
   */
  addAddress(cidr: IpCidr, options: { loopback?: boolean; flags?: number } = {}): undefined | LinuxError {
    const a = cidr.address;
    const conf = this.ipv6Sysctl.conf;
    if (a.version === 6 && (options.loopback === true ? conf.lo : conf.device).disableIpv6 !== 0)
      return E.EACCES;
    let secondary = false;
    for (const c of this.addresses) {
      if (c.address.version !== a.version) continue;
      if (a.version === 6) {
        if (c.address.equals(a)) return E.EEXIST;
      } else if (c.prefixLen === cidr.prefixLen && c.contains(a)) {
        if (c.address.equals(a)) return E.EEXIST;
        secondary = true;
      }
    }
    const entry = new IpCidr(a, cidr.prefixLen);
    const firstSecondary = this.addresses.findIndex((c) => this.assigned.get(c)?.secondary === true);
    if (a.version === 4 && !secondary && firstSecondary >= 0) this.addresses.splice(firstSecondary, 0, entry);
    else this.addresses.push(entry);
    const flags = options.flags ?? 0;
    this.assigned.set(entry, { loopback: options.loopback === true, secondary, flags });
    if (a.version === 6 && options.loopback !== true && this.hardwareAddress && !(flags & IfaFlag.NODAD))
      this.dad.set(entry, {
        at: undefined,
        notBefore: 0,
        probes: 0,
        failed: false,
        nonce: undefined,
      });
    this.addressesChanged();
    return undefined;
  }

  /**
   * Removes the address `cidr` (address and prefix length), as `ip addr del` does; with an IPv4
   * primary address go the secondary ones of its subnet (Linux's default, promote_secondaries
   * off). Returns the addresses removed, or EADDRNOTAVAIL when none matches. Sockets bound to
   * a removed address keep it (a TCP connection on it stays, unable to reach its peer).
   */
  removeAddress(cidr: IpCidr): IpCidr[] | LinuxError {
    const i = this.addresses.findIndex(
      (c) => c.prefixLen === cidr.prefixLen && c.address.equals(cidr.address),
    );
    if (i < 0) return E.EADDRNOTAVAIL;
    const gone = this.addresses[i]!;
    const removed = [gone];
    if (gone.address.version === 4 && this.assigned.get(gone)?.secondary !== true)
      for (const c of this.addresses)
        if (
          this.assigned.get(c)?.secondary === true &&
          c.prefixLen === gone.prefixLen &&
          gone.contains(c.address)
        )
          removed.push(c);
    for (const c of removed) {
      this.addresses.splice(this.addresses.indexOf(c), 1);
      this.assigned.delete(c);
      this.dad.delete(c);
      this.stableRetries.delete(c);
    }
    this.addressesChanged();
    return removed;
  }

  /**
   * Where an address of {@link addresses} is and how Linux flags it: on lo (the loopback ranges,
   * and what {@link addAddress} put there), a secondary IPv4 address, the IFA_F_* flags it was
   * assigned with, and whether {@link addAddress} assigned it (else it was configured).
   */
  addressInfo(c: IpCidr): {
    readonly loopback: boolean;
    readonly secondary: boolean;
    readonly flags: number;
    readonly assigned: boolean;
  } {
    const a = this.assigned.get(c);
    if (a) return { ...a, assigned: true };
    return { loopback: c.address.isLoopback(), secondary: false, flags: 0, assigned: false };
  }

  /**
   * The source of packets to `dst`, one of this host's addresses, as Linux takes it from the
   * local route's preferred source: `dst` itself, but the primary address of the subnet for a
   * secondary address or for another address of a prefix on lo.
   */
  private localSource(dst: IpAddress): IpAddress {
    const own = this.addresses.find((c) => c.address.equals(dst));
    if (own && this.assigned.get(own)?.secondary !== true) return dst;
    const primary = this.addresses.find(
      (c) =>
        c.address.version === 4 &&
        this.assigned.get(c)?.secondary !== true &&
        (own
          ? c.prefixLen === own.prefixLen && c.contains(dst)
          : this.localPrefixes.includes(c) && c.contains(dst)),
    );
    return primary?.address ?? dst;
  }

  /** Recomputes what is derived from the address list. */
  private addressesChanged(): void {
    this.broadcasts = this.addresses.flatMap((c) => c.broadcast() ?? []);
    this.loopback4 = this.loopback4Implicit || this.addresses.some(isLoopback4);
    this.localPrefixes = this.addresses.filter(
      (c) =>
        c.address.version === 4 &&
        !c.address.isLoopback() &&
        c.prefixLen < 32 &&
        this.assigned.get(c)?.loopback === true &&
        this.hasPrefixRoute(c),
    );
  }

  /** True when a packet to `addr` is for this host (own, broadcast or multicast). */
  private acceptsDestination(addr: IpAddress): boolean {
    if (this.hasAddress(addr) || addr.isMulticast() || addr.isBroadcast()) return true;
    return this.isDirectedBroadcast(addr);
  }

  /** True when packets to `dst` can leave: on-link, or a gateway of its family exists. */
  hasRoute(dst: IpAddress): boolean {
    if (this.staticRoutes.length > 0 && this.lookupRoute(dst)) return true;
    for (const c of this.addresses) if (c.contains(dst) && this.hasPrefixRoute(c)) return true;
    for (const g of this.gateways) if (g.version === dst.version) return true;
    return dst.isBroadcast() || dst.isMulticast();
  }

  /** The routes {@link addRoute} added, oldest first. */
  get routes(): readonly StaticRoute[] {
    return this.staticRoutes;
  }

  /** Called after {@link addRoute} or {@link removeRoute} changed {@link routes}. */
  onRoutesChange: (() => void) | undefined;

  /**
   * Adds a route to the main table (`ip route add`): EEXIST when one with the same prefix and
   * metric is there (fib_table_insert with NLM_F_EXCL; `replace` swaps it instead), ENETUNREACH
   * when the gateway is not reached by a route on link (fib_check_nh: "Nexthop has invalid
   * gateway"). Sockets see it at once: packets to its prefix take it unless a more specific
   * route or one with a lower metric exists.
   */
  addRoute(route: StaticRoute, replace = false): undefined | LinuxError {
    const g = route.gateway;
    if (g !== undefined) {
      const via = this.hasAddress(g) ? undefined : this.lookupRoute(g);
      if (!this.hasAddress(g) && (via === undefined || via.gateway !== undefined)) return E.ENETUNREACH;
    }
    const i = this.staticRoutes.findIndex((r) => sameRoute(r, route.dst, route.metric));
    if (i >= 0) {
      if (!replace) return E.EEXIST;
      this.staticRoutes[i] = route;
    } else this.staticRoutes.push(route);
    this.onRoutesChange?.();
    return undefined;
  }

  /**
   * Removes the first route of the main table that matches (`ip route del`, fib_table_delete):
   * the prefix, and the metric, gateway and link when given. ESRCH when none does.
   */
  removeRoute(match: {
    readonly dst: IpCidr;
    readonly metric?: number;
    readonly gateway?: IpAddress;
    readonly loopback?: boolean;
  }): StaticRoute | LinuxError {
    const i = this.staticRoutes.findIndex(
      (r) =>
        r.dst.prefixLen === match.dst.prefixLen &&
        r.dst.address.equals(match.dst.address) &&
        (match.metric === undefined || r.metric === match.metric) &&
        (match.gateway === undefined || (r.gateway !== undefined && r.gateway.equals(match.gateway))) &&
        (match.loopback === undefined || r.loopback === match.loopback),
    );
    if (i < 0) return E.ESRCH;
    const removed = this.staticRoutes.splice(i, 1)[0]!;
    this.onRoutesChange?.();
    return removed;
  }

  /**
   * Whether the prefix of address `c` is routed on its link: not when it was assigned with
   * IFA_F_NOPREFIXROUTE (Linux's addrconf_prefix_route and fib_add_ifaddr add no route then).
   */
  private hasPrefixRoute(c: IpCidr): boolean {
    return this.assigned.size === 0 || ((this.assigned.get(c)?.flags ?? 0) & IfaFlag.NOPREFIXROUTE) === 0;
  }

  /**
   * The route to `dst`, not one of this host's addresses: of the prefixes of the interface's
   * addresses (on their link, unless IFA_F_NOPREFIXROUTE; IPv4 metric 0, IPv6 256), the
   * {@link routes} and the default routes of the gateways (IPv4 metric 0, IPv6 1024), the
   * longest prefix, then the lowest metric, then the oldest. Undefined: no route.
   */
  lookupRoute(dst: IpAddress): RouteChoice | undefined {
    const v6 = dst.version === 6;
    let best: RouteChoice | undefined;
    let bestLen = -1;
    let bestMetric = Infinity;
    const offer = (len: number, metric: number, choice: () => RouteChoice): void => {
      if (len > bestLen || (len === bestLen && metric < bestMetric)) {
        best = choice();
        bestLen = len;
        bestMetric = metric;
      }
    };
    for (const c of this.addresses)
      if (!c.address.isLoopback() && c.contains(dst) && this.hasPrefixRoute(c))
        offer(c.prefixLen, v6 ? 256 : 0, () => ({
          gateway: undefined,
          loopback: this.addressInfo(c).loopback,
          src: undefined,
          mtu: undefined,
          static: false,
        }));
    for (const r of this.staticRoutes)
      if (r.dst.contains(dst)) offer(r.dst.prefixLen, r.metric, () => ({ ...r, static: true }));
    for (const g of this.gateways)
      if (g.version === dst.version)
        offer(0, v6 ? 1024 : 0, () => ({
          gateway: g,
          loopback: false,
          src: undefined,
          mtu: undefined,
          static: false,
        }));
    return best;
  }

  /**
   * The net.ipv6.conf of the link packets to `dst` leave by: lo's for this host's own addresses
   * and routes on lo, and for everything on a loopback `device` (which is lo); else the device's.
   */
  ipv6ConfFor(dst: IpAddress, device: Device): Ipv6DevConf {
    const conf = this.ipv6Sysctl.conf;
    const lo =
      device.capabilities.loopback === true ||
      dst.isLoopback() ||
      this.hasAddress(dst) ||
      this.routedToLoopback(dst);
    return lo ? conf.lo : conf.device;
  }

  /**
   * The TTL or hop limit of packets to `dst` from a socket that sets none (the stack's own
   * control sockets among them): ip_default_ttl for IPv4, the hop_limit of the link to `dst`
   * for IPv6.
   */
  hopLimitConf(dst: IpAddress, device: Device): HopLimitConf {
    return dst.version === 4 ? this.ipDefaultTtl : this.ipv6ConfFor(dst, device);
  }

  /**
   * Whether a packet to `dst` leaves by a loopback device (the ICMP rate limits' route device):
   * one to this host, or routed to lo, or any when the device is itself a loopback one.
   */
  private leavesByLoopback(dst: IpAddress, device: Device): boolean {
    return (
      device.capabilities.loopback === true ||
      dst.isLoopback() ||
      this.hasAddress(dst) ||
      this.routedToLoopback(dst)
    );
  }

  /** True when a packet to `dst`, not this host's, leaves by lo (a route on lo takes it). */
  private routedToLoopback(dst: IpAddress): boolean {
    return this.staticRoutes.length > 0 && this.lookupRoute(dst)?.loopback === true;
  }

  /** The source address for packets to `dst` (undefined: no route). */
  sourceAddressFor(dst: IpAddress): IpAddress | undefined {
    if (dst.isLoopback()) {
      if (dst.version === 4) return this.loopback4 ? Ipv4Address.LOOPBACK : undefined;
      return this.loopback6 ? Ipv6Address.LOOPBACK : undefined;
    }
    if (this.hasAddress(dst)) return this.assigned.size > 0 ? this.localSource(dst) : dst;
    // A down device has no routes left: only this host and routes through lo are reached.
    if (!this.deviceUp && !this.routedToLoopback(dst)) return undefined;
    const same = this.addresses.filter(
      (c) => c.address.version === dst.version && !c.address.isLoopback() && !this.dad.has(c),
    );
    const route = this.staticRoutes.length > 0 ? this.lookupRoute(dst) : undefined;
    if (route?.static) {
      if (route.src) return route.src;
      // inet_select_addr: an address of the route's link, on link with the gateway if any.
      const g = route.gateway;
      const onItsLink = same.filter((c) => this.addressInfo(c).loopback === route.loopback);
      const pick = (g && onItsLink.find((c) => c.contains(g))) ?? onItsLink[0] ?? same[0];
      if (pick) return pick.address;
      // Only host-scoped addresses (the loopback range): IPv4 finds none (inet_select_addr wants
      // link scope at most) and leaves the source unset, so the socket is named 0.0.0.0; IPv6's
      // source selection (ipv6_dev_get_saddr) takes ::1 when nothing better is there.
      if (dst.version === 4) return Ipv4Address.UNSPECIFIED;
      return this.hasAddress(Ipv6Address.LOOPBACK) ? Ipv6Address.LOOPBACK : Ipv6Address.UNSPECIFIED;
    }
    const onLink = this.pickSource(same.filter((c) => c.contains(dst) && this.hasPrefixRoute(c)));
    if (onLink) return onLink.address;
    if ((dst.isBroadcast() || dst.isMulticast()) && same[0]) return same[0].address;
    if (this.gateways.some((g) => g.version === dst.version) && same[0]) {
      // RFC 6724 rule 2: a global destination gets a global source (an autoconfigured one) if any.
      const global = this.pickSource(
        same.filter((c) => !(c.address.version === 6 && c.address.isLinkLocal())),
      );
      return (global ?? same[0]).address;
    }
    return undefined;
  }

  /** The best of equally good source candidates: SLAAC's RFC 6724 rules 3 and 7, else the first. */
  private pickSource(candidates: readonly IpCidr[]): IpCidr | undefined {
    return this.slaac ? this.slaac.pickSource(candidates) : candidates[0];
  }

  /**
   * Does all pending work at time `now`: receives every frame the device has, lets sockets
   * send, repeats while packets move. Returns the time of the next deadline (a timer, a
   * delayed frame), `now` when work remains, or undefined when idle until new input.
   */
  poll(now: number, device: Device, sockets: SocketTable): number | undefined {
    const ctx = new PollContext(this, device, now);
    let rounds = 0;
    for (; rounds < MAX_ROUNDS; rounds++) {
      let progress = false;
      for (let f = device.receive(now); f; f = device.receive(now)) {
        progress = true;
        if (!this.deviceUp) continue; // a down link takes nothing (its peer counts the drop)
        this.stats.rxFrames++;
        const dc = this.deviceCounters;
        dc.rxPackets++;
        dc.rxBytes += f.length;
        const own = this.offloaded.delete(f);
        this.rxOffloaded = own || (device.takeOffloaded !== undefined && device.takeOffloaded(f));
        this.rxGso = this.gsoFrames.get(f) ?? 0;
        this.rxFrame = f;
        this.rxLink =
          device.capabilities.medium === 'ethernet'
            ? 'frame'
            : device.capabilities.loopback === true
              ? 'lo'
              : 'none';
        if (this.packetTap !== undefined)
          tapDeviceFrame(this.packetTap, device, f, false, this.hardwareAddress?.bytes);
        this.receiveFrame(now, device, f, sockets);
        this.rxPktType = PacketType.HOST;
        if (own) this.recycle(f);
        this.rxOffloaded = false;
        this.rxGso = 0;
      }
      if (this.loopQueue.length > 0)
        for (let p = this.loopQueue.shift(); p; p = this.loopQueue.shift()) {
          progress = true;
          const lc = this.loopCounters;
          lc.rxPackets++;
          lc.rxBytes += p.length;
          this.rxOffloaded = this.offloaded.delete(p);
          this.rxGso = this.gsoFrames.get(p) ?? 0;
          this.rxLink = 'lo'; // a packet to this host's own address goes through lo on Linux
          if (this.packetTap !== undefined)
            this.packetTap.frame(true, PacketType.HOST, withLoopbackHeader(p), ETHERNET_HEADER_LEN);
          this.receiveIp(now, device, p, sockets);
          if (this.rxOffloaded) this.recycle(p);
          this.rxOffloaded = false;
          this.rxGso = 0;
        }
      // Read by index (no shift): segments looped while these are received join the same pass.
      const segs = this.loopSegments;
      if (this.loopHead < segs.length) {
        progress = true;
        while (this.loopHead < segs.length)
          this.receiveLoopSegment(now, device, segs[this.loopHead++]!, sockets);
        segs.length = 0;
        this.loopHead = 0;
      }
      const sent = sockets.dispatch(ctx);
      if (sent) progress = true;
      if (!progress) break;
      // Nothing sent and nothing queued: the next round could only receive the device's frames
      // (every socket that sent nothing sends nothing again without news: see DispatchContext).
      // A device that says it has none to give (pollAt) ends the poll here, as that round would.
      if (
        !sent &&
        rounds + 1 < MAX_ROUNDS &&
        this.loopQueue.length === 0 &&
        segs.length === 0 &&
        device.pollAt
      ) {
        const devAt = device.pollAt(now);
        if (devAt === undefined || devAt > now) break;
      }
    }
    if (rounds === MAX_ROUNDS) {
      this.copyHeldPayloads(); // the segments left for the next poll outlive the sender's views
      return now;
    }
    // After the frames of this poll: an advertisement just received starts DAD at once.
    const slaacAt = this.slaac ? this.pollSlaac(ctx) : undefined;
    const dadAt = this.dad.size > 0 ? this.pollDad(ctx) : undefined;
    let next = sockets.pollAt(now);
    const dev = device.pollAt?.(now);
    if (dev !== undefined) next = next === undefined ? dev : Math.min(next, dev);
    if (slaacAt !== undefined) next = next === undefined ? slaacAt : Math.min(next, slaacAt);
    if (dadAt !== undefined) next = next === undefined ? dadAt : Math.min(next, dadAt);
    return next;
  }

  /**
   * Duplicate address detection of the tentative addresses (see {@link addAddress}); returns
   * its next deadline. A down device holds it: DAD starts when the device is up.
   */
  private pollDad(ctx: PollContext): number | undefined {
    if (!this.deviceUp) return undefined;
    const now = ctx.now;
    let next: number | undefined;
    for (const [c, run] of this.dad) {
      if (run.failed) continue;
      if (now < run.notBefore) {
        if (run.notBefore !== Infinity && (next === undefined || run.notBefore < next)) next = run.notBefore;
        continue;
      }
      if (run.at === undefined) {
        const r = this.randomBytes(2);
        run.at = now + (((r[0]! << 8) | r[1]!) % DAD_MAX_DELAY);
        const kick = dadKick(this.ipv6Sysctl, this.randomBytes);
        run.probes = kick.probes;
        run.nonce = kick.nonce;
      }
      if (now >= run.at) {
        if (run.probes === 0) {
          this.dad.delete(c);
          this.dadListener?.(c);
          continue;
        }
        run.probes--;
        run.at = now + DAD_RETRANS_TIMER;
        const target = c.address as Ipv6Address;
        const dst = solicitedNodeAddress(target);
        ctx.emit({
          kind: 'icmpv6',
          src: Ipv6Address.UNSPECIFIED,
          dst,
          hopLimit: NDP_HOP_LIMIT,
          icmp: { type: 'neighborSolicit', target, nonce: run.nonce },
          linkDst: EthernetAddress.ipv6Multicast(dst),
        });
      }
      if (next === undefined || run.at < next) next = run.at;
    }
    return next;
  }

  /**
   * RFC 4862 §5.4.3-5.4.4: an advertisement for a tentative address, or a solicitation for it
   * from :: (another node's DAD), means another node has it (Linux's addrconf_dad_failure).
   * A solicitation from a unicast source only resolves it: ignored; so is one with the nonce
   * of our own solicitations, which the link looped back (RFC 7527 §4.2). A stable-privacy
   * address is formed again with the next DAD counter ({@link retryStable}).
   */
  private dadConflict(
    now: number,
    target: Ipv6Address,
    advert: boolean,
    src: Ipv6Address,
    nonce: Uint8Array | undefined,
  ): void {
    if (!advert && !src.isUnspecified()) return;
    for (const [c, run] of this.dad)
      if (!run.failed && c.address.equals(target) && (advert || !loopedDadSolicit(run.nonce, nonce))) {
        run.failed = true;
        run.at = undefined;
        this.dadListener?.(c);
        const retry = this.stableRetries.get(c) ?? (this.stableLinkLocal?.equals(target) ? 0 : undefined);
        if (retry !== undefined) this.retryStable(now, c, retry + 1);
        return;
      }
  }

  /**
   * Linux's addrconf_dad_failure for a stable-privacy address (RFC 7217 §6): the address of
   * DAD counter `retries` beside the failed one `failed`, tentative, its DAD starting
   * idgen_delay later; none past idgen_retries, nor when max_addresses are on the device. The
   * failed one stays dadfailed. The new one's dadListener call comes when its DAD ends.
   */
  private retryStable(now: number, failed: IpCidr, retries: number): void {
    const cfg = this.addrconf;
    const sysctl = this.ipv6Sysctl;
    if (!cfg?.secret || retries > sysctl.idgenRetries) return;
    const s = stableAddress(
      failed.address as Ipv6Address,
      cfg.permanentAddress,
      retries,
      cfg.secret,
      sysctl.idgenRetries,
    );
    if (!s || this.addresses.some((c) => c.address.equals(s.address))) return;
    const onDevice = this.addresses.filter((c) => c.address.version === 6 && !this.addressInfo(c).loopback);
    if (cfg.maxAddresses > 0 && onDevice.length >= cfg.maxAddresses) return;
    const entry = new IpCidr(s.address, failed.prefixLen);
    this.addresses.push(entry);
    this.assigned.set(entry, {
      loopback: false,
      secondary: false,
      flags: this.assigned.get(failed)?.flags ?? 0,
    });
    this.dad.set(entry, {
      at: undefined,
      notBefore: idgenStart(now, this.ipv6Sysctl),
      probes: 0,
      failed: false,
      nonce: undefined,
    });
    this.stableRetries.set(entry, retries);
    this.addressesChanged();
  }

  /** SLAAC's timers (a function of its own, so that poll itself makes no closure). */
  private pollSlaac(ctx: PollContext): number | undefined {
    return this.slaac!.poll(ctx.now, (p) => ctx.emit(p));
  }

  // ---- ingress ----

  private receiveFrame(now: number, device: Device, frame: Uint8Array, sockets: SocketTable): void {
    if (device.capabilities.medium === 'ip') {
      this.receiveIp(now, device, frame, sockets);
      return;
    }
    const eth = EthernetFrame.checked(frame);
    if (isWireError(eth)) return this.drop();
    const repr = EthernetRepr.parse(eth);
    const me = this.hardwareAddress;
    if (!me || !(repr.dst.equals(me) || repr.dst.isMulticast())) return this.drop();
    if (!repr.dst.equals(me))
      this.rxPktType = repr.dst.isBroadcast() ? PacketType.BROADCAST : PacketType.MULTICAST;
    switch (repr.ethertype) {
      case EtherType.ARP:
        return this.receiveArp(now, device, eth.payload, sockets);
      case EtherType.IPV4:
      case EtherType.IPV6:
        return this.receiveIp(now, device, eth.payload, sockets);
      default:
        return this.drop();
    }
  }

  private receiveArp(now: number, device: Device, bytes: Uint8Array, sockets: SocketTable): void {
    const p = ArpPacket.checked(bytes);
    if (isWireError(p)) return this.drop();
    const arp = ArpRepr.parse(p);
    if (isWireError(arp)) return this.drop();
    const forMe = this.addresses.some((c) => c.address.equals(arp.targetProtocolAddr));
    // RFC 826: update an existing entry from any packet; create one when the packet is for us.
    const key = arp.sourceProtocolAddr.key;
    if (arp.sourceHardwareAddr.isUnicast() && (forMe || this.neighbors.has(key))) {
      this.neighbors.set(key, {
        addr: arp.sourceProtocolAddr,
        mac: arp.sourceHardwareAddr,
        expires: now + NEIGHBOR_LIFETIME,
      });
      if (this.arpPending.delete(key)) sockets.neighborResolved();
    }
    if (forMe && arp.operation === ArpOperation.REQUEST && this.hardwareAddress) {
      const reply: ArpRepr = {
        operation: ArpOperation.REPLY,
        sourceHardwareAddr: this.hardwareAddress,
        sourceProtocolAddr: arp.targetProtocolAddr,
        targetHardwareAddr: arp.sourceHardwareAddr,
        targetProtocolAddr: arp.sourceProtocolAddr,
      };
      this.sendArp(now, device, reply, arp.sourceHardwareAddr);
    }
  }

  /** Receives one IP datagram; `reassembled` when it is the product of reassembly (counted as fragments). */
  private receiveIp(
    now: number,
    device: Device,
    bytes: Uint8Array,
    sockets: SocketTable,
    reassembled = false,
  ): void {
    const version = bytes.length > 0 ? bytes[0]! >>> 4 : 0;
    if (version === 4) {
      const mib = this.mib.ip;
      if (!reassembled) {
        mib.InReceives++;
        mib.InOctets += bytes.length;
        if (bytes.length >= IPV4_HEADER_LEN && (bytes[0]! & 0xf) >= 5) countEcn(mib, bytes[1]!);
      }
      const p = Ipv4Packet.checked(bytes);
      if (isWireError(p))
        return this.ipHeaderError(mib, p, bytes, Math.max(IPV4_HEADER_LEN, (bytes[0]! & 0xf) * 4));
      if (p.moreFragments || p.fragmentOffset !== 0) {
        if (p.version !== 4) return this.ipHeaderError(mib, WireError.Malformed, bytes, 0);
        if (this.verify && !p.verifyChecksum()) return this.ipHeaderError(mib, WireError.Checksum, bytes, 0);
        if (!this.acceptsDestination(p.dst)) {
          mib.InAddrErrors++;
          return this.drop();
        }
        mib.ReasmReqds++;
        const whole = this.reassembler.add(now, p);
        if (whole) this.receiveIp(now, device, whole, sockets, true);
        return;
      }
      const ip = Ipv4Repr.parse(p, this.verify);
      if (isWireError(ip)) return this.ipHeaderError(mib, ip, bytes, 0);
      if (!this.acceptsDestination(ip.dst)) {
        mib.InAddrErrors++; // ip_error: no forwarding
        return this.drop();
      }
      if (ip.dst.isMulticast()) mib.InMcastPkts++;
      this.receiveTransport(
        now,
        device,
        ip.src,
        ip.dst,
        ip.protocol,
        p.payload,
        p.packet,
        sockets,
        ip.ttl,
        ip.tos,
      );
    } else if (version === 6) {
      const mib = this.mib.ip6;
      if (!reassembled) {
        mib.InReceives++;
        mib.InOctets += bytes.length;
        if (bytes.length >= IPV6_HEADER_LEN) countEcn(mib, bytes[1]! >>> 4); // the traffic class's low bits
      }
      const p = Ipv6Packet.checked(bytes);
      if (isWireError(p)) return this.ipHeaderError(mib, p, bytes, IPV6_HEADER_LEN);
      const ip = Ipv6Repr.parse(p);
      if (isWireError(ip)) return this.ipHeaderError(mib, ip, bytes, 0);
      if (!this.acceptsDestination(ip.dst)) {
        mib.InAddrErrors++; // ip6_forward with forwarding off
        return this.drop();
      }
      if (ip.dst.isMulticast()) mib.InMcastPkts++;
      if (ip.nextHeader === IPV6_FRAGMENT_HEADER) {
        const frag = parseIpv6Fragment(p.payload);
        if (!frag) return this.ipHeaderError(mib, WireError.Malformed, bytes, 0);
        if (frag.offset === 0 && !frag.more) {
          // An atomic fragment (RFC 6946): the packet is whole, no reassembly state.
          const inner = p.payload.subarray(IPV6_FRAGMENT_HEADER_LEN);
          return this.receiveTransport(
            now,
            device,
            ip.src,
            ip.dst,
            frag.nextHeader,
            inner,
            p.packet,
            sockets,
            ip.hopLimit,
            ip.trafficClass,
            IPV6_HEADER_LEN, // the Fragment header's own Next Header byte (ipv6_frag_rcv's nhoff)
          );
        }
        mib.ReasmReqds++;
        const whole = this.reassembler6.add(now, p, frag);
        if (whole) this.receiveIp(now, device, whole, sockets, true);
        return;
      }
      this.receiveTransport(
        now,
        device,
        ip.src,
        ip.dst,
        ip.nextHeader,
        p.payload,
        p.packet,
        sockets,
        ip.hopLimit,
        ip.trafficClass,
      );
    } else {
      this.drop();
    }
  }

  /**
   * Counts a datagram the IP header checks rejected, as ip_rcv_core / ipv6_rcv do: shorter than
   * its declared length (once the header itself is there, `headerLen`) is a truncated packet,
   * anything else a header error (a bad checksum also counts as a checksum error).
   */
  private ipHeaderError(mib: IpMib, e: WireError, bytes: Uint8Array, headerLen: number): void {
    if (e === WireError.Truncated && headerLen > 0 && bytes.length >= headerLen) mib.InTruncatedPkts++;
    else {
      if (e === WireError.Checksum) mib.InCsumErrors++;
      mib.InHdrErrors++;
    }
    this.drop();
  }

  private receiveTransport(
    now: number,
    device: Device,
    src: IpAddress,
    dst: IpAddress,
    protocol: number,
    payload: Uint8Array,
    whole: Uint8Array,
    sockets: SocketTable,
    hopLimit = 0,
    trafficClass = 0,
    nextHeaderOffset = IPV6_NEXT_HEADER_OFFSET,
  ): void {
    const unicastDst = !dst.isMulticast() && !dst.isBroadcast() && !this.isDirectedBroadcast(dst);
    const ipMib = dst.version === 4 ? this.mib.ip : this.mib.ip6;
    // raw_local_deliver: raw sockets get their copies before the protocol's own handler.
    const raw = sockets.rawInput !== undefined && sockets.rawInput(src, dst, protocol, whole, payload);
    switch (protocol) {
      case IpProtocol.ICMP:
        if (src.version === 4 && dst.version === 4) {
          ipMib.InDelivers++;
          return this.receiveIcmpv4(
            now,
            device,
            src,
            dst,
            payload,
            unicastDst,
            sockets,
            hopLimit,
            trafficClass,
          );
        }
        break;
      case IpProtocol.ICMPV6:
        if (src.version === 6 && dst.version === 6) {
          ipMib.InDelivers++;
          return this.receiveIcmpv6(
            now,
            device,
            src,
            dst,
            payload,
            unicastDst,
            sockets,
            hopLimit,
            trafficClass,
          );
        }
        break;
      case IpProtocol.UDP: {
        ipMib.InDelivers++;
        const um = dst.version === 4 ? this.mib.udp : this.mib.udp6;
        const p = UdpPacket.checked(payload);
        if (isWireError(p)) {
          um.InErrors++;
          return this.drop();
        }
        // RFC 6936: an IPv6 datagram without a checksum is left to the socket (udp6_csum_init).
        const zero6 = src.version === 6 && p.checksum === 0;
        const udp = UdpRepr.parse(p, src, dst, this.verify && !zero6, zero6);
        if (isWireError(udp)) {
          if (udp === WireError.Checksum) um.InCsumErrors++;
          um.InErrors++;
          return this.drop();
        }
        const gso = this.rxGso;
        const ip: ReceivedIp =
          zero6 || gso > 0
            ? {
                hopLimit,
                trafficClass,
                ...(zero6 ? { zeroChecksum6: true } : {}),
                ...(gso > 0 ? { gsoSize: gso } : {}),
              }
            : { hopLimit, trafficClass };
        if (sockets.udpInput(src, dst, udp, ip)) return;
        this.stats.udpNoPort++;
        this.udpUndelivered(um, now, device, src, dst, whole, unicastDst);
        return;
      }
      case IpProtocol.UDPLITE: {
        ipMib.InDelivers++;
        const um = dst.version === 4 ? this.mib.udpLite : this.mib.udpLite6;
        const udp = UdpLiteRepr.parse(payload, src, dst, this.verify);
        if (isWireError(udp)) {
          if (udp === WireError.Checksum) um.InCsumErrors++;
          um.InErrors++;
          return this.drop();
        }
        if (sockets.udpliteInput(src, dst, udp, { hopLimit, trafficClass })) return;
        this.stats.udpNoPort++;
        this.udpUndelivered(um, now, device, src, dst, whole, unicastDst);
        return;
      }
      case IpProtocol.TCP: {
        ipMib.InDelivers++;
        // tcp_v4_rcv / tcp_v6_rcv: a datagram not for this host's link address (pkt_type other
        // than PACKET_HOST) is discarded before InSegs, unanswered.
        if (!unicastDst || this.rxPktType !== PacketType.HOST) return this.drop();
        const tm = this.mib.tcp;
        tm.InSegs++; // "count it even if it's bad"
        const p = TcpPacket.checked(payload);
        if (isWireError(p)) {
          if (p === WireError.Malformed) tm.InErrs++; // a data offset below 5; short ones are discarded
          return this.drop();
        }
        const tcp = TcpRepr.parse(p, src, dst, this.verify && !this.rxOffloaded);
        if (isWireError(tcp)) {
          if (tcp === WireError.Checksum) tm.InCsumErrors++;
          tm.InErrs++;
          return this.drop();
        }
        this.rxTcpPacket = payload.buffer === whole.buffer ? whole : undefined;
        this.rxTcpHeaderEnd = payload.byteOffset - whole.byteOffset + p.headerLen;
        this.rxTcpLoop = undefined;
        const reply = sockets.tcpInput(now, src, dst, tcp, hopLimit, trafficClass);
        if (reply) this.sendTcpReply(now, device, dst, src, reply, trafficClass, sockets.tcpReplyHops);
        return;
      }
    }
    if (raw || isSilentProtocol(dst.version, protocol)) {
      // ip_protocol_deliver_rcu: a raw socket (or a handler that drops it) took it, no answer.
      ipMib.InDelivers++;
      return;
    }
    ipMib.InUnknownProtos++;
    this.drop();
    // Extension headers Linux walks (ipv6_parse_hopopts, ipv6_rthdr_rcv, ipv6_destopt_rcv) and
    // this stack does not are dropped unanswered: they are no unknown next header.
    const unwalked = dst.version === 6 && IPV6_UNWALKED_HEADERS.has(protocol);
    if (unicastDst && !unwalked) this.sendProtocolUnknown(now, device, src, dst, whole, nextHeaderOffset);
  }

  /**
   * Answers a unicast datagram whose protocol no handler and no raw socket took, as
   * ip_protocol_deliver_rcu and ip6_protocol_deliver_rcu do: IPv4 with a destination
   * unreachable, code 2 (protocol unreachable), IPv6 with a parameter problem, code 1
   * (unrecognized next header) pointing at the Next Header byte at `nextHeaderOffset` that named
   * it. Both quote as much of `whole` as port unreachable does; nothing goes to a source that
   * names no single host (icmp_send's route to it, icmp6_send's source check), nor about a
   * datagram that came in a link-level broadcast or multicast frame (icmp_send's and
   * icmp6_send's pkt_type check; icmp6_send's exception is a parameter problem about an unknown
   * option, which this stack sends none of). Rate limited as every ICMP error (icmp-limit.ts):
   * not at all when it came in on lo.
   */
  private sendProtocolUnknown(
    now: number,
    device: Device,
    src: IpAddress,
    dst: IpAddress,
    whole: Uint8Array,
    nextHeaderOffset: number,
  ): void {
    if (src.isUnspecified() || src.isMulticast() || src.isBroadcast()) return;
    if (this.rxPktType !== PacketType.HOST) return;
    if (src.version === 4 && dst.version === 4) {
      if (this.isDirectedBroadcast(src)) return;
      this.sendUnreachable4(
        now,
        device,
        dst,
        src,
        Icmpv4Unreachable.PROTOCOL,
        0,
        whole,
        this.rxLink === 'lo',
      );
    } else if (src.version === 6 && dst.version === 6) {
      this.sendError6(
        now,
        device,
        dst,
        src,
        whole,
        Icmpv6Type.PARAM_PROBLEM,
        this.rxLink === 'lo',
        (invoking) => ({
          type: 'paramProblem',
          code: ICMPV6_UNRECOGNIZED_NEXT_HEADER,
          pointer: nextHeaderOffset,
          invoking,
        }),
      );
    }
  }

  /**
   * A UDP datagram no socket took: a unicast one counts in NoPorts and is answered with a port
   * unreachable; a broadcast or multicast one counts in IgnoredMulti (__udp4_lib_mcast_deliver).
   */
  private udpUndelivered(
    um: UdpMib,
    now: number,
    device: Device,
    src: IpAddress,
    dst: IpAddress,
    whole: Uint8Array,
    unicastDst: boolean,
  ): void {
    if (!unicastDst) {
      um.IgnoredMulti++;
      return;
    }
    um.NoPorts++;
    this.sendPortUnreachable(now, device, src, dst, whole);
  }

  /**
   * Sends the segment the socket table answered with (a RST for a closed port, an ACK) to the
   * one that came with TOS or traffic class `received`, with TTL or hop limit `hops` (-1: the
   * stack's own, see {@link SocketTable.tcpReplyHops}).
   */
  private sendTcpReply(
    now: number,
    device: Device,
    src: IpAddress,
    dst: IpAddress,
    reply: TcpRepr,
    received: number,
    hops = -1,
  ): void {
    const tm = this.mib.tcp;
    let trafficClass = 0;
    if (reply.flags & TcpFlag.RST) {
      this.stats.tcpResets++;
      tm.OutRsts++;
      // tcp_v4_send_reset and tcp_v6_send_reset answer with the received TOS or traffic class
      // less its ECN bits (ip_send_unicast_reply's and tcp_v6_send_response's mask).
      trafficClass = received & ~IP_ECN_MASK;
    }
    // tcp_v4_send_reset and tcp_v6_send_response send from a control socket without IP_TTL.
    const hopLimit = hops >= 0 ? hops : this.hopLimitConf(dst, device).hopLimit;
    const out = { kind: 'tcp', src, dst, hopLimit, trafficClass, tcp: reply } as const;
    if (this.emit(now, device, out) === 'sent') tm.OutSegs++;
  }

  private receiveIcmpv4(
    now: number,
    device: Device,
    src: Ipv4Address,
    dst: Ipv4Address,
    payload: Uint8Array,
    unicastDst: boolean,
    sockets: SocketTable,
    hopLimit: number,
    trafficClass: number,
  ): void {
    const im = this.mib.icmp;
    im.InMsgs++;
    const p = Icmpv4Packet.checked(payload);
    if (isWireError(p)) return this.icmpError(im, false);
    if (this.verify && !p.verifyChecksum()) return this.icmpError(im, true);
    im.inType[p.msgType]!++;
    const icmp = Icmpv4Repr.parse(p, false);
    if (isWireError(icmp)) return this.drop();
    if (icmp.type === 'echoRequest') {
      // icmp_rcv drops a broadcast or multicast echo as an error before icmp_echo looks at it.
      if (!unicastDst && this.ipv4Sysctl.icmpEchoIgnoreBroadcasts !== 0) return this.icmpError(im, false);
      if (this.ipv4Sysctl.icmpEchoIgnoreAll !== 0) return;
      // icmp_reply answers from an address of the host, not from the group or broadcast one.
      const from = unicastDst ? dst : this.sourceAddressFor(src);
      if (from?.version !== 4 || from.isUnspecified()) return;
      // icmp_reply asks the limits whatever link the request came in on (a ratemask with bit 0).
      const path = { inLoopback: this.rxLink === 'lo', outLoopback: this.leavesByLoopback(src, device) };
      if (this.icmpLimit.check4(now, Icmpv4Type.ECHO_REPLY, 0, src, path, true) !== 'send') return;
      this.stats.icmpEchoReplies++;
      this.emit(now, device, {
        kind: 'icmpv4',
        src: from,
        dst: src,
        hopLimit: this.ipDefaultTtl.hopLimit, // icmp_reply's control socket sets no IP_TTL
        trafficClass, // icmp_reply: the request's TOS
        icmp: { type: 'echoReply', ident: icmp.ident, seqNo: icmp.seqNo, data: icmp.data },
        ...replyMtu(sockets, src),
      });
    } else if (icmp.type === 'echoReply') {
      sockets.icmpEchoReplyInput(src, dst, icmp.ident, payload, hopLimit, trafficClass);
    } else if ('invoking' in icmp) {
      // icmp_unreach's info: the next-hop MTU, a parameter problem's pointer.
      let info =
        icmp.type === 'destUnreachable' ? icmp.nextHopMtu : icmp.type === 'paramProblem' ? icmp.pointer : 0;
      if (icmp.type === 'destUnreachable' && p.code === Icmpv4Unreachable.FRAG_NEEDED) {
        // ip_no_pmtu_disc: 2 drops the report, 3 keeps it for TCP only (the protocol that checks
        // it against its sequence numbers), and modes other than 0 and 3 take no MTU from it.
        const mode = this.ipv4Sysctl.noPmtuDisc;
        if (mode === 2 || (mode === 3 && icmp.invoking[9] !== IpProtocol.TCP)) return;
        if (mode !== 0 && mode !== 3) info = 0;
      }
      const hops = icmp.invoking.length > 8 ? icmp.invoking[8]! : 0;
      const report = { version: 4, type: p.msgType, code: p.code, info, offender: src, hops } as const;
      // RFC 4884's length of the original datagram, in 32-bit words (all three types carry it).
      this.quotedError(icmp.invoking, report, sockets, payload[5]! * 4);
    }
  }

  private receiveIcmpv6(
    now: number,
    device: Device,
    src: Ipv6Address,
    dst: Ipv6Address,
    payload: Uint8Array,
    unicastDst: boolean,
    sockets: SocketTable,
    hopLimit: number,
    trafficClass: number,
  ): void {
    const im = this.mib.icmp6;
    im.InMsgs++;
    const p = Icmpv6Packet.checked(payload);
    if (isWireError(p)) return this.icmpError(im, false);
    if (this.verify && !p.verifyChecksum(src, dst)) return this.icmpError(im, true);
    im.inType[p.msgType]!++;
    const icmp = Icmpv6Repr.parse(p, src, dst, false);
    if (isWireError(icmp)) return this.drop();
    if (icmp.type === 'neighborSolicit' || icmp.type === 'neighborAdvert') {
      // RFC 4861 §7.1: a hop limit below 255 means the message crossed a router: forged.
      if (hopLimit !== NDP_HOP_LIMIT || !this.hardwareAddress) return this.drop();
      // ndisc_recv_ns: a DAD probe goes to a solicited-node group (RFC 4861 §7.1.1); one to
      // another destination is dropped, neither a conflict nor answered.
      if (icmp.type === 'neighborSolicit' && src.isUnspecified() && !isSolicitedNode(dst)) return this.drop();
      const nonce = icmp.type === 'neighborSolicit' ? icmp.nonce : undefined;
      if (this.dad.size > 0) this.dadConflict(now, icmp.target, icmp.type === 'neighborAdvert', src, nonce);
      if (icmp.type === 'neighborSolicit') {
        this.slaac?.onSolicit(src, icmp.target, nonce);
        this.receiveSolicit(now, device, src, icmp.target, icmp.sourceLinkAddr, unicastDst, sockets);
      } else {
        this.slaac?.onNeighborAdvert(icmp.target);
        if (icmp.targetLinkAddr) this.learnNeighbor(now, icmp.target, icmp.targetLinkAddr, false, sockets);
      }
      return;
    }
    if (icmp.type === 'routerAdvert' || icmp.type === 'routerSolicit') {
      // RFC 4861 §6.1.2: only from a link-local source with hop limit 255; a host ignores
      // solicitations (§6.2.6 is for routers).
      if (icmp.type === 'routerAdvert' && hopLimit === NDP_HOP_LIMIT && src.isLinkLocal())
        this.slaac?.onRouterAdvert(now, src, icmp);
      return;
    }
    if (icmp.type === 'echoRequest') {
      const sysctl = this.ipv6Sysctl;
      if (sysctl.icmpEchoIgnoreAll !== 0 || (!unicastDst && sysctl.icmpEchoIgnoreMulticast !== 0)) return;
      // echo_ignore_anycast would drop an echo to an anycast address of the host here; the stack
      // has none (see Ipv6Sysctl.icmpEchoIgnoreAnycast), so every other echo is answered.
      // A group's echo is answered from the address source selection picks for the requester.
      const from = unicastDst ? dst : this.sourceAddressFor(src);
      if (from?.version !== 6 || src.isUnspecified() || src.isMulticast()) return;
      // icmpv6_echo_reply: the limits of a ratemask with type 129, the global one not on lo.
      const path = { inLoopback: this.rxLink === 'lo', outLoopback: this.leavesByLoopback(src, device) };
      if (this.icmpLimit.check6(now, Icmpv6Type.ECHO_REPLY, src, path) !== 'send') return;
      this.stats.icmpEchoReplies++;
      this.emit(now, device, {
        kind: 'icmpv6',
        src: from,
        dst: src,
        // icmpv6_echo_reply's socket leaves its hop limit unset: the link's (ip6_sk_dst_hoplimit).
        hopLimit: this.ipv6ConfFor(src, device).hopLimit,
        trafficClass, // icmpv6_echo_reply: the request's traffic class
        icmp: { type: 'echoReply', ident: icmp.ident, seqNo: icmp.seqNo, data: icmp.data },
        ...replyMtu(sockets, src),
      });
    } else if (icmp.type === 'echoReply') {
      sockets.icmpEchoReplyInput(src, dst, icmp.ident, payload, hopLimit, trafficClass);
    } else if (
      icmp.type === 'destUnreachable' ||
      icmp.type === 'packetTooBig' ||
      icmp.type === 'timeExceeded' ||
      icmp.type === 'paramProblem'
    ) {
      // icmpv6_notify's info: the 32 bits after the code (the MTU, the pointer).
      const info = icmp.type === 'packetTooBig' ? icmp.mtu : icmp.type === 'paramProblem' ? icmp.pointer : 0;
      const report = {
        version: 6,
        type: p.msgType,
        code: p.code,
        info,
        offender: src,
        hops: hopLimit,
      } as const;
      // RFC 4884's length of the original datagram, in 64-bit words: only these two carry it.
      const words = icmp.type === 'destUnreachable' || icmp.type === 'timeExceeded' ? payload[4]! : 0;
      this.quotedError(icmp.invoking, report, sockets, words * 8);
    }
  }

  /**
   * RFC 4861 §7.2.3-7.2.4: a solicitation for one of our addresses teaches us the sender's link
   * address and is answered with a solicited advertisement out of the device it came in by,
   * whatever the routes say (Linux's ndisc_recv_ns and ndisc_send_na): to all nodes for
   * duplicate address detection (unspecified source), else to the source at the link address
   * the solicitation gave, or at the one the neighbor cache has for it (stale or not, as
   * Linux's NUD_STALE entry serves). Without either, a unicast solicitation makes us solicit
   * the sender from the target address, and the advertisement is dropped where Linux queues it
   * until the answer (the sender asks again); a multicast one is not answered, as Linux makes
   * no neighbor entry for it.
   */
  private receiveSolicit(
    now: number,
    device: Device,
    src: Ipv6Address,
    target: Ipv6Address,
    sourceLink: EthernetAddress | undefined,
    unicastDst: boolean,
    sockets: SocketTable,
  ): void {
    if (!this.addresses.some((c) => c.address.equals(target) && !this.dad.has(c))) return;
    const dad = src.isUnspecified();
    if (dad && sourceLink) return this.drop(); // §7.1.1: DAD solicitations carry no link address
    let linkDst: EthernetAddress | undefined = ALL_NODES_MAC;
    if (!dad) {
      if (sourceLink) this.learnNeighbor(now, src, sourceLink, true, sockets);
      linkDst = this.neighbors.get(src.key)?.mac;
      if (!linkDst) {
        const last = this.arpPending.get(src.key);
        if (unicastDst && (last === undefined || now - last >= NEIGHBOR_RETRY)) {
          this.arpPending.set(src.key, now);
          this.sendSolicit(now, device, target, src);
        }
        return;
      }
    }
    this.emit(now, device, {
      kind: 'icmpv6',
      src: target,
      dst: dad ? ALL_NODES : src,
      hopLimit: NDP_HOP_LIMIT,
      icmp: {
        type: 'neighborAdvert',
        router: false,
        solicited: !dad,
        override: true,
        target,
        targetLinkAddr: this.hardwareAddress,
      },
      linkDst,
    });
  }

  /** Solicits `target`'s link address (RFC 4861 §7.2.2) from our address `src`. */
  private sendSolicit(now: number, device: Device, src: Ipv6Address, target: Ipv6Address): void {
    const dst = solicitedNodeAddress(target);
    this.emit(now, device, {
      kind: 'icmpv6',
      src,
      dst,
      hopLimit: NDP_HOP_LIMIT,
      icmp: { type: 'neighborSolicit', target, sourceLinkAddr: this.hardwareAddress },
      linkDst: EthernetAddress.ipv6Multicast(dst),
    });
  }

  /** Records a neighbor's link address: always when it asked us, else only when we asked or know it. */
  private learnNeighbor(
    now: number,
    addr: IpAddress,
    mac: EthernetAddress,
    create: boolean,
    sockets: SocketTable,
  ): void {
    if (!mac.isUnicast()) return;
    const key = addr.key;
    if (!create && !this.neighbors.has(key) && !this.arpPending.has(key)) return;
    this.neighbors.set(key, { addr, mac, expires: now + NEIGHBOR_LIFETIME });
    if (this.arpPending.delete(key)) sockets.neighborResolved();
  }

  /**
   * Finds the raw, UDP, TCP or ping sockets an ICMP error is about, from the quoted IP header
   * and the UDP or TCP header or echo request after it (icmp_socket_deliver, icmpv6_notify).
   */
  private quotedError(
    invoking: Uint8Array,
    report: Omit<IcmpErrorReport, 'quoted' | 'extension'>,
    sockets: SocketTable,
    datagramLength: number,
  ): void {
    const version = invoking.length > 0 ? invoking[0]! >>> 4 : 0;
    let src: IpAddress, dst: IpAddress, proto: number, hl: number;
    if (version === 4 && invoking.length >= IPV4_HEADER_LEN) {
      hl = (invoking[0]! & 0x0f) * 4;
      if (hl < IPV4_HEADER_LEN || invoking.length < hl + 8) return;
      src = new Ipv4Address(invoking.subarray(12, 16));
      dst = new Ipv4Address(invoking.subarray(16, 20));
      proto = invoking[9]!;
    } else if (version === 6 && invoking.length >= IPV6_HEADER_LEN) {
      // icmpv6_notify: past the extension headers to the transport header (or to a Fragment
      // header of a later fragment, for protocol 44), whose first 8 bytes must be there.
      const inner = skipExtensionHeaders(invoking, IPV6_HEADER_LEN, invoking[6]!);
      if (inner === undefined || invoking.length < inner.offset + 8) return;
      hl = inner.offset;
      src = new Ipv6Address(invoking.subarray(8, 24));
      dst = new Ipv6Address(invoking.subarray(24, 40));
      proto = inner.nextHeader;
    } else return;
    const rest = invoking.subarray(hl);
    // RFC 4884 §4.1: an extension follows an original datagram of at least 128 bytes.
    const r = { ...report, quoted: rest, extension: datagramLength >= 128 ? datagramLength - hl : -1 };
    // raw_icmp_error / raw6_icmp_error: every raw socket of the protocol hears of it first.
    sockets.rawError?.(src, dst, proto, invoking, r);
    if (proto === IpProtocol.UDP)
      sockets.udpError(src, (rest[0]! << 8) | rest[1]!, dst, (rest[2]! << 8) | rest[3]!, r);
    else if (proto === IpProtocol.TCP) {
      const seq = ((rest[4]! << 24) | (rest[5]! << 16) | (rest[6]! << 8) | rest[7]!) >>> 0;
      sockets.tcpError?.(src, (rest[0]! << 8) | rest[1]!, dst, (rest[2]! << 8) | rest[3]!, seq, r);
    }
    // ping_err: only an error about one of our echo requests (ping_supported).
    const echo = src.version === 4 ? Icmpv4Type.ECHO_REQUEST : Icmpv6Type.ECHO_REQUEST;
    const icmpProto = src.version === 4 ? IpProtocol.ICMP : IpProtocol.ICMPV6;
    if (proto === icmpProto && rest[0] === echo && rest[1] === 0)
      sockets.pingError?.(src, dst, (rest[4]! << 8) | rest[5]!, r);
  }

  /**
   * The port unreachable about a unicast UDP datagram no socket took; none when the datagram
   * came in a link-level broadcast or multicast frame (icmp_send / icmp6_send: pkt_type other
   * than PACKET_HOST), though it still counted in NoPorts (__udp4_lib_rcv goes by the route).
   */
  private sendPortUnreachable(
    now: number,
    device: Device,
    src: IpAddress,
    dst: IpAddress,
    whole: Uint8Array,
  ): void {
    if (this.rxPktType !== PacketType.HOST) return;
    if (src.version === 4 && dst.version === 4) {
      this.sendUnreachable4(now, device, dst, src, Icmpv4Unreachable.PORT, 0, whole, this.rxLink === 'lo');
    } else if (src.version === 6 && dst.version === 6) {
      this.sendError6(
        now,
        device,
        dst,
        src,
        whole,
        Icmpv6Type.DEST_UNREACHABLE,
        this.rxLink === 'lo',
        (invoking) => ({
          type: 'destUnreachable',
          code: Icmpv6Unreachable.PORT,
          invoking,
        }),
      );
    }
  }

  /**
   * icmp_send's fragmentation needed about the IPv4 datagram `ip`, which may not be fragmented
   * to `mtu`: to its source, from its destination when that is this host's (else the source
   * the route back picks), quoting as much of it as fits in 576 bytes. `inLoopback`: the
   * datagram was leaving by lo (for the rate limits, which never hold this one back).
   */
  private sendFragNeeded(
    now: number,
    device: Device,
    ip: Uint8Array,
    mtu: number,
    inLoopback: boolean,
  ): void {
    const src = new Ipv4Address(ip.slice(12, 16));
    const dst = new Ipv4Address(ip.slice(16, 20));
    const from = this.hasAddress(dst) ? dst : this.sourceAddressFor(src);
    if (from?.version !== 4) return;
    this.sendUnreachable4(now, device, from, src, Icmpv4Unreachable.FRAG_NEEDED, mtu, ip, inLoopback);
  }

  /**
   * icmpv6_send's packet too big about the IPv6 datagram `ip`, larger than `mtu`: to its
   * source, from its destination when that is this host's (else the source the route back
   * picks), quoting as much of it as fits in 1280 bytes. `inLoopback`: the datagram was leaving
   * by lo (for the rate limits, which hold it back only when the ratemask has type 2).
   */
  private sendPacketTooBig(
    now: number,
    device: Device,
    ip: Uint8Array,
    mtu: number,
    inLoopback: boolean,
  ): void {
    const src = new Ipv6Address(ip.slice(8, 24));
    const dst = new Ipv6Address(ip.slice(24, 40));
    if (src.isUnspecified() || src.isMulticast()) return;
    const from = this.hasAddress(dst) ? dst : this.sourceAddressFor(src);
    if (from?.version !== 6) return;
    this.sendError6(now, device, from, src, ip, Icmpv6Type.PACKET_TOO_BIG, inLoopback, (invoking) => ({
      type: 'packetTooBig',
      mtu,
      invoking,
    }));
  }

  /**
   * An ICMPv6 error of `type` from `from` to `to` about the IPv6 datagram `whole`, quoting as
   * much of it as fits in 1280 bytes (RFC 4443 §2.4 (c)), with the hop limit of the link towards
   * `to` (icmpv6_send), unless the rate limits hold it back: the global one unless `inLoopback`
   * (the datagram came in on lo, or was leaving by it), the destination's unless it leaves by lo.
   */
  private sendError6(
    now: number,
    device: Device,
    from: Ipv6Address,
    to: Ipv6Address,
    whole: Uint8Array,
    type: number,
    inLoopback: boolean,
    icmp: (invoking: Uint8Array) => Icmpv6Repr,
  ): void {
    const path = { inLoopback, outLoopback: this.leavesByLoopback(to, device) };
    if (this.icmpLimit.check6(now, type, to, path) !== 'send') return;
    const invoking = whole.subarray(0, Math.min(whole.length, 1280 - IPV6_HEADER_LEN - 8));
    this.emit(now, device, {
      kind: 'icmpv6',
      src: from,
      dst: to,
      hopLimit: this.ipv6ConfFor(to, device).hopLimit,
      icmp: icmp(invoking),
    });
  }

  /**
   * An ICMP destination unreachable of `code` from `from` to `to` about the IPv4 datagram
   * `whole`, quoting as much of it as fits in 576 bytes (RFC 1812 §4.3.2.3). Its TOS is
   * __icmp_send's for an error: internetwork control precedence and the datagram's TOS bits
   * (IPTOS_TOS_MASK), no DSCP or ECN of it. The rate limits may hold it back: the global one
   * unless `inLoopback` (the datagram came in on lo, or was leaving by it), the destination's
   * unless it leaves by lo; fragmentation needed never.
   */
  private sendUnreachable4(
    now: number,
    device: Device,
    from: Ipv4Address,
    to: Ipv4Address,
    code: number,
    nextHopMtu: number,
    whole: Uint8Array,
    inLoopback: boolean,
  ): void {
    const path = { inLoopback, outLoopback: this.leavesByLoopback(to, device) };
    if (this.icmpLimit.check4(now, Icmpv4Type.DEST_UNREACHABLE, code, to, path) !== 'send') return;
    const invoking = whole.subarray(0, Math.min(whole.length, 576 - IPV4_HEADER_LEN - 8));
    this.emit(now, device, {
      kind: 'icmpv4',
      src: from,
      dst: to,
      hopLimit: this.ipDefaultTtl.hopLimit, // as icmp_send's control socket
      trafficClass: IPTOS_PREC_INTERNETCONTROL | ((whole[1] ?? 0) & IPTOS_TOS_MASK),
      icmp: { type: 'destUnreachable', code, nextHopMtu, invoking },
    });
  }

  private drop(): void {
    this.stats.rxDropped++;
  }

  /** An ICMP message too short to read, or with a bad checksum (icmp_rcv's error paths). */
  private icmpError(im: IcmpMib, checksum: boolean): void {
    if (checksum) im.InCsumErrors++;
    im.InErrors++;
    this.drop();
  }

  // ---- egress ----

  /** Serialises and routes one packet. */
  emit(now: number, device: Device, out: Outgoing): EmitResult {
    if (out.kind === 'tcp') {
      const loopback = ipLoopback(device);
      if (loopback) return this.emitLoopbackTcp(loopback, out);
    } else if (out.kind === 'ip') return this.emitIpDatagram(now, device, out);
    const ipHeaderLen = out.dst.version === 4 ? IPV4_HEADER_LEN : IPV6_HEADER_LEN;
    let transportLen: number, protocol: number;
    let direct: EthernetAddress | undefined;
    switch (out.kind) {
      case 'udp':
        transportLen = UdpRepr.bufferLen(out.udp);
        protocol = out.liteCoverage === undefined ? IpProtocol.UDP : IpProtocol.UDPLITE;
        break;
      case 'tcp':
        transportLen = TcpRepr.bufferLen(out.tcp);
        protocol = IpProtocol.TCP;
        break;
      case 'icmpv4':
        transportLen = Icmpv4Repr.bufferLen(out.icmp);
        protocol = IpProtocol.ICMP;
        break;
      case 'icmpv6':
        transportLen = Icmpv6Repr.bufferLen(out.icmp);
        protocol = IpProtocol.ICMPV6;
        direct = out.linkDst;
        break;
    }
    // A route on lo takes a packet that is not this host's the way of its own packets.
    const local = direct === undefined && (this.hasAddress(out.dst) || this.routedToLoopback(out.dst));
    let fragment = false;
    const viaDevice = !local || device.capabilities.loopback === true;
    let linkDst: EthernetAddress | undefined;
    const ethernet = viaDevice && device.capabilities.medium === 'ethernet';
    const ipMib = out.dst.version === 4 ? this.mib.ip : this.mib.ip6;
    // Packets to this host's own addresses on another device take lo, with lo's MTU.
    let mtu = viaDevice ? (this.deviceMtu ?? device.capabilities.mtu) : this.loopbackMtu;
    if (out.kind !== 'tcp' && out.pathMtu !== undefined && out.pathMtu < mtu) mtu = out.pathMtu;
    if (ipHeaderLen + transportLen > mtu) {
      // Datagrams are fragmented (TCP segments always fit the MSS).
      if (out.kind === 'tcp') return 'unroutable';
      fragment = true;
    }
    if (direct !== undefined) linkDst = direct;
    else if (viaDevice) {
      const hop = this.nextHop(now, device, out.dst, local, ethernet, ipMib);
      if (hop === 'pending' || hop === 'unroutable') return hop;
      linkDst = hop;
    }
    // A UDP_SEGMENT send stays whole only on this host (the local loop, or the loopback device
    // when it fits); elsewhere it leaves as its segments.
    if (
      out.kind === 'udp' &&
      out.gsoSize !== undefined &&
      (fragment || (viaDevice && !(device instanceof LoopbackDevice)))
    )
      return this.emitSegments(now, device, out, out.gsoSize);
    if (out.kind === 'tcp' && (!viaDevice || device instanceof LoopbackDevice))
      return this.loopSegment(
        out.src,
        out.dst,
        out.tcp,
        viaDevice,
        viaDevice ? (device as LoopbackDevice).queueLimit : Infinity,
        out.payloadHeld === true,
        out.dst.isLoopback(),
        out.hopLimit,
        out.trafficClass ?? 0,
      );
    const linkLen = ethernet ? ETHERNET_HEADER_LEN : 0;
    // TCP that stays on this host carries no checksum (see `offloaded`), nor does TCP on a link
    // whose other end trusts it (Device.markOffloaded).
    const offload = out.kind === 'tcp' && (!viaDevice || device.capabilities.loopback === true);
    const trusted = out.kind === 'tcp' && !offload && device.markOffloaded !== undefined;
    const frame = offload
      ? this.frameOfSize(linkLen + ipHeaderLen + transportLen)
      : new Uint8Array(linkLen + ipHeaderLen + transportLen);
    if (ethernet)
      EthernetRepr.emit(
        {
          src: this.hardwareAddress!,
          dst: linkDst!,
          ethertype: out.dst.version === 4 ? EtherType.IPV4 : EtherType.IPV6,
        },
        EthernetFrame.unchecked(frame),
      );
    const ipBuf = frame.subarray(linkLen);
    if (out.src.version === 4 && out.dst.version === 4)
      Ipv4Repr.emit(
        {
          src: out.src,
          dst: out.dst,
          protocol,
          payloadLen: transportLen,
          ttl: out.hopLimit,
          tos: out.trafficClass ?? 0,
          // DF as the sender's IP_MTU_DISCOVER asks; the stack's own ICMP messages go without. A
          // datagram without it gets an identification (ip_select_ident).
          ...((out.kind === 'icmpv4' && out.dontFragment !== true) ||
          (out.kind === 'udp' && out.dontFragment === false)
            ? { dontFragment: false, ident: (this.ipIdent = (this.ipIdent + 1) & 0xffff) }
            : {}),
        },
        Ipv4Packet.unchecked(ipBuf),
      );
    else if (out.src.version === 6 && out.dst.version === 6)
      Ipv6Repr.emit(
        {
          src: out.src,
          dst: out.dst,
          nextHeader: protocol,
          payloadLen: transportLen,
          hopLimit: out.hopLimit,
          trafficClass: out.trafficClass ?? 0,
        },
        Ipv6Packet.unchecked(ipBuf),
      );
    else throw new Error('source and destination of different IP versions');
    const tBuf = ipBuf.subarray(ipHeaderLen);
    switch (out.kind) {
      case 'udp':
        if (out.liteCoverage === undefined) {
          UdpRepr.emit(out.udp, UdpPacket.unchecked(tBuf), out.src, out.dst);
          if (out.noChecksum === true) tBuf.fill(0, 6, 8); // the checksum field
        } else UdpLiteRepr.emit({ ...out.udp, coverage: out.liteCoverage }, tBuf, out.src, out.dst);
        break;
      case 'tcp':
        TcpRepr.emit(out.tcp, TcpPacket.unchecked(tBuf), out.src, out.dst, !offload && !trusted);
        if (offload) this.offloaded.add(frame);
        else if (trusted) device.markOffloaded!(frame);
        break;
      case 'icmpv4':
        Icmpv4Repr.emit(out.icmp, Icmpv4Packet.unchecked(tBuf));
        this.mib.icmp.OutMsgs++; // icmp_out_count
        this.mib.icmp.outType[tBuf[0]!]!++;
        break;
      case 'icmpv6':
        Icmpv6Repr.emit(
          out.icmp,
          Icmpv6Packet.unchecked(tBuf),
          out.src as Ipv6Address,
          out.dst as Ipv6Address,
        );
        this.mib.icmp6.OutMsgs++;
        this.mib.icmp6.outType[tBuf[0]!]!++;
        break;
    }
    ipMib.OutRequests++;
    if (out.dst.isMulticast()) ipMib.OutMcastPkts++;
    if (out.kind === 'udp' && out.gsoSize !== undefined) this.gsoFrames.set(frame, out.gsoSize);
    if (fragment) {
      if (out.dst.version === 4) ipBuf[6] = 0; // clear DF: this datagram is fragmented on purpose
      const fragments = this.fragmentDatagram(ipBuf, out.dst.version === 4, mtu, ipMib);
      for (const f of fragments) {
        const framed = new Uint8Array(linkLen + f.length);
        framed.set(frame.subarray(0, linkLen));
        framed.set(f, linkLen);
        ipMib.OutTransmits++;
        ipMib.OutOctets += f.length;
        if (viaDevice) this.transmit(now, device, framed);
        else this.loop(framed);
      }
      return 'sent';
    }
    if (!viaDevice) {
      ipMib.OutTransmits++;
      ipMib.OutOctets += ipHeaderLen + transportLen;
      this.loop(frame);
      return 'sent';
    }
    ipMib.OutTransmits++;
    ipMib.OutOctets += ipHeaderLen + transportLen;
    this.transmit(now, device, frame);
    return 'sent';
  }

  /** Gives `frame` to the device, counted in {@link deviceCounters} as sent or dropped. */
  private transmit(now: number, device: Device, frame: Uint8Array): boolean {
    if (!this.deviceUp) {
      this.deviceCounters.txDropped++;
      return false;
    }
    if (this.packetTap !== undefined) tapDeviceFrame(this.packetTap, device, frame, true, undefined);
    return this.transmitUntapped(now, device, frame);
  }

  private transmitUntapped(now: number, device: Device, frame: Uint8Array): boolean {
    this.stats.txFrames++;
    const c = this.deviceCounters;
    if (device.transmit(now, frame)) {
      c.txPackets++;
      c.txBytes += frame.length;
      return true;
    }
    if (device.capabilities.loopback === true) c.rxDropped++;
    else c.txDropped++;
    return false;
  }

  /**
   * @internal A packet socket's send (Stack.injectFrame): `frame`, with the link's header
   * (`linkLen` bytes), leaves by lo (`lo`) or by the device, seen by the taps as OUTGOING with
   * `origin`. On lo it comes back as eth_type_trans classifies it against lo's zero address:
   * an IPv4 or IPv6 packet for this host (HOST) is received by the stack (the taps see it
   * again as it arrives, with lo's zero header); any other frame is seen by the taps only, as
   * Linux's IP layer would drop it. False when the device dropped it (its queue is full).
   */
  inject(
    now: number,
    device: Device,
    lo: boolean,
    frame: Uint8Array,
    linkLen: number,
    origin: object | undefined,
    protocol?: number,
  ): boolean {
    this.packetTap?.frame(lo, PacketType.OUTGOING, frame, linkLen, origin, protocol);
    if (!lo) return this.transmitUntapped(now, device, frame);
    const type = linkLen >= ETHERNET_HEADER_LEN ? (frame[12]! << 8) | frame[13]! : 0;
    // lo's address and broadcast address are both all zeros (eth_type_trans on loopback).
    const pktType = ethernetPacketType(frame, LO_MAC, LO_MAC);
    const ip = frame.subarray(linkLen);
    if (
      pktType === PacketType.HOST &&
      (type === EtherType.IPV4 || type === EtherType.IPV6) &&
      ip.length > 0
    ) {
      if (device.capabilities.loopback === true) return this.transmitUntapped(now, device, ip);
      const c = this.loopCounters;
      c.txPackets++;
      c.txBytes += ip.length;
      this.loopQueue.push(ip);
      return true;
    }
    const c = device.capabilities.loopback === true ? this.deviceCounters : this.loopCounters;
    c.txPackets++;
    c.txBytes += ip.length;
    c.rxPackets++;
    c.rxBytes += ip.length;
    this.packetTap?.frame(true, pktType, frame, linkLen);
    return true;
  }

  /** Queues an IP packet to this host's own address that does not go through the device. */
  private loop(packet: Uint8Array): void {
    const c = this.loopCounters;
    if (!this.loopbackUp) {
      c.txDropped++;
      return;
    }
    c.txPackets++;
    c.txBytes += packet.length;
    if (this.packetTap !== undefined)
      this.packetTap.frame(true, PacketType.OUTGOING, withLoopbackHeader(packet), ETHERNET_HEADER_LEN);
    this.loopQueue.push(packet);
  }

  /**
   * {@link emit} of a raw socket's whole IP datagram: routed as the others, fragmented when
   * larger than the device's MTU or the path MTU it was given, counted in the IP and ICMP
   * output counters. One whose header the caller wrote is refused instead when it has DF
   * (IPv4) or is IPv6 (no ignore_df): the socket refused it when larger than the device's MTU,
   * and one larger than the path MTU gets its source a fragmentation-needed or packet-too-big
   * message, as ip_fragment and ip6_fragment send, counted in FragFails and OutDiscards.
   */
  private emitIpDatagram(now: number, device: Device, out: Outgoing & { readonly kind: 'ip' }): EmitResult {
    const bytes = out.packet;
    const v4 = out.dst.version === 4;
    // A route on lo takes a packet that is not this host's the way of its own packets.
    const local = this.hasAddress(out.dst) || this.routedToLoopback(out.dst);
    const viaDevice = !local || device.capabilities.loopback === true;
    const ethernet = viaDevice && device.capabilities.medium === 'ethernet';
    const ipMib = v4 ? this.mib.ip : this.mib.ip6;
    let linkDst: EthernetAddress | undefined;
    if (viaDevice) {
      const hop = this.nextHop(now, device, out.dst, local, ethernet, ipMib);
      if (hop === 'pending' || hop === 'unroutable') return hop;
      linkDst = hop;
    }
    const protocol = v4 ? bytes[9]! : bytes[6]!;
    const hl = v4 ? (bytes[0]! & 0x0f) * 4 : IPV6_HEADER_LEN;
    if (hl < bytes.length && protocol === (v4 ? IpProtocol.ICMP : IpProtocol.ICMPV6)) {
      const im = v4 ? this.mib.icmp : this.mib.icmp6;
      im.OutMsgs++;
      im.outType[bytes[hl]!]!++;
    }
    if (!v4 || out.headerIncluded !== true) ipMib.OutRequests++;
    if (out.dst.isMulticast()) ipMib.OutMcastPkts++;
    let pieces = [bytes];
    let mtu = viaDevice ? (this.deviceMtu ?? device.capabilities.mtu) : this.loopbackMtu;
    if (out.pathMtu !== undefined && out.pathMtu < mtu) mtu = out.pathMtu;
    if (bytes.length > mtu) {
      if (v4 ? (bytes[6]! & 0x40) !== 0 : out.headerIncluded === true) {
        ipMib.FragFails++;
        ipMib.OutDiscards++;
        if (out.pathMtu === mtu) {
          // skb->dev there is the device the datagram was leaving by: lo for this host's own.
          const lo = !viaDevice || device.capabilities.loopback === true;
          if (v4) this.sendFragNeeded(now, device, bytes, mtu, lo);
          else this.sendPacketTooBig(now, device, bytes, mtu, lo);
        }
        return 'unroutable';
      }
      pieces = this.fragmentDatagram(bytes, v4, mtu, ipMib);
    }
    const linkLen = ethernet ? ETHERNET_HEADER_LEN : 0;
    for (const piece of pieces) {
      const frame = new Uint8Array(linkLen + piece.length);
      if (ethernet)
        EthernetRepr.emit(
          { src: this.hardwareAddress!, dst: linkDst!, ethertype: v4 ? EtherType.IPV4 : EtherType.IPV6 },
          EthernetFrame.unchecked(frame),
        );
      frame.set(piece, linkLen);
      ipMib.OutTransmits++;
      ipMib.OutOctets += piece.length;
      if (!viaDevice) this.loop(frame);
      else this.transmit(now, device, frame);
    }
    return 'sent';
  }

  /**
   * The link-layer step of sending to `dst` by `device`: on Ethernet the next hop's link
   * address ('pending' while it is being resolved); otherwise undefined when a route (or this
   * host, `local`) takes it. 'unroutable' without one, counted in OutNoRoutes.
   */
  private nextHop(
    now: number,
    device: Device,
    dst: IpAddress,
    local: boolean,
    ethernet: boolean,
    ipMib: IpMib,
  ): EthernetAddress | undefined | 'pending' | 'unroutable' {
    if (ethernet) {
      const r = this.resolve(now, device, dst);
      if (r === 'unroutable') ipMib.OutNoRoutes++;
      return r;
    }
    if (!local && !this.hasRoute(dst)) {
      ipMib.OutNoRoutes++;
      return 'unroutable';
    }
    return undefined;
  }

  /**
   * An IPv4 (`v4`) or IPv6 datagram, from its header, cut into fragments of at most `mtu` bytes
   * with the next identification of its IP version; counted in FragOKs and FragCreates.
   */
  private fragmentDatagram(ip: Uint8Array, v4: boolean, mtu: number, ipMib: IpMib): Uint8Array[] {
    let pieces: Uint8Array[];
    if (v4) {
      this.ipIdent = (this.ipIdent + 1) & 0xffff;
      pieces = fragmentIpv4(ip, mtu, this.ipIdent);
    } else {
      this.ip6Ident = (this.ip6Ident + 1) >>> 0;
      pieces = fragmentIpv6(ip, mtu, this.ip6Ident);
    }
    ipMib.FragOKs++;
    ipMib.FragCreates += pieces.length;
    return pieces;
  }

  /**
   * @internal {@link emit} of a TCP segment on a loopback device (with the IP medium), the path
   * of every segment of a sandbox in network mode `none`, which emit and the poll's
   * DispatchContext take: the checks emit makes there (such a device is always the way), then
   * the segment joins {@link loopSegments}.
   */
  emitLoopbackTcp(device: LoopbackDevice, out: Outgoing & { readonly kind: 'tcp' }): EmitResult {
    const caps = device.capabilities;
    const dst = out.dst;
    const ipHeaderLen = dst.version === 4 ? IPV4_HEADER_LEN : IPV6_HEADER_LEN;
    // TCP segments always fit the MSS: one that does not is not sent. (With the largest TCP
    // header, 60 bytes, a segment surely fits; only near the MTU is its header worked out.)
    const tcp = out.tcp;
    const mtu = this.deviceMtu ?? caps.mtu;
    if (ipHeaderLen + TCP_MAX_HEADER_LEN + tcp.payload.length > mtu)
      if (ipHeaderLen + TcpRepr.bufferLen(tcp) > mtu) return 'unroutable';
    const dstLoopback = dst.isLoopback();
    if (!dstLoopback && !this.hasAddress(dst) && !this.hasRoute(dst)) {
      (dst.version === 4 ? this.mib.ip : this.mib.ip6).OutNoRoutes++;
      return 'unroutable';
    }
    return this.loopSegment(
      out.src,
      dst,
      tcp,
      true,
      device.queueLimit,
      out.payloadHeld === true,
      dstLoopback,
      out.hopLimit,
      out.trafficClass ?? 0,
    );
  }

  /** Queues a TCP segment that stays on the host (see {@link loopSegments}). */
  private loopSegment(
    src: IpAddress,
    dst: IpAddress,
    tcp: TcpRepr,
    viaDevice: boolean,
    limit: number,
    held: boolean,
    dstLoopback: boolean,
    hopLimit: number,
    trafficClass: number,
  ): EmitResult {
    if (viaDevice) this.stats.txFrames++;
    // ip_output and ip_finish_output2 count the segment whether or not the device then drops it.
    const ipMib = dst.version === 4 ? this.mib.ip : this.mib.ip6;
    // The datagram's length, for the octet counters.
    const octets =
      (dst.version === 4 ? IPV4_HEADER_LEN : IPV6_HEADER_LEN) + TcpRepr.headerLen(tcp) + tcp.payload.length;
    ipMib.OutRequests++;
    ipMib.OutTransmits++;
    ipMib.OutOctets += octets;
    const counters = viaDevice ? this.deviceCounters : this.loopCounters;
    // A down link drops it (TCP resends it once the link is up again).
    if (!(viaDevice ? this.deviceUp : this.loopbackUp)) {
      counters.txDropped++;
      return 'sent';
    }
    // A full device queue drops the packet, as LoopbackDevice.transmit would; TCP resends it.
    // Packets to the stack's own addresses on another device were never limited.
    if (this.loopSegments.length - this.loopHead >= limit) {
      counters.rxDropped++; // lo's backlog is full: enqueue_to_backlog counts it, loopback_xmit not
      return 'sent';
    }
    counters.txPackets++;
    counters.txBytes += octets;
    const n = tcp.payload.length;
    let pooled: Uint8Array | undefined;
    let payload: Uint8Array = NO_PAYLOAD;
    if (n > 0 && held)
      payload = tcp.payload; // the sender's send ring: see Outgoing.payloadHeld
    else if (n > 0) {
      // Another payload may be a view of a scratch buffer that the next segment overwrites:
      // the receiver gets its own copy.
      pooled =
        n <= LOOP_PAYLOAD_SIZE
          ? (this.loopPayloads.pop() ?? new Uint8Array(LOOP_PAYLOAD_SIZE))
          : new Uint8Array(n);
      pooled.set(tcp.payload);
      payload = pooled.subarray(0, n);
    }
    const seg: LoopSegment = {
      src,
      dst,
      tcp: wireImage(tcp, payload),
      viaDevice,
      pooled,
      held: n > 0 && held,
      dstLoopback,
      octets,
      hopLimit,
      trafficClass,
    };
    this.loopSegments.push(seg);
    // Its bytes exist only for a tap (see packet-tap.ts), built once for both of lo's copies.
    if (this.packetTap !== undefined) {
      seg.tapFrame = this.loopPacket(seg, ETHERNET_HEADER_LEN);
      this.packetTap.frame(true, PacketType.OUTGOING, seg.tapFrame, ETHERNET_HEADER_LEN);
    }
    return 'sent';
  }

  /** Sends a UDP_SEGMENT datagram as its segments, each a datagram of its own. */
  private emitSegments(
    now: number,
    device: Device,
    out: Extract<Outgoing, { kind: 'udp' }>,
    gso: number,
  ): EmitResult {
    const p = out.udp.payload;
    let r: EmitResult = 'sent';
    for (let at = 0; at < p.length && r === 'sent'; at += gso) {
      const seg = { ...out.udp, payload: p.subarray(at, at + gso) };
      r = this.emit(now, device, {
        kind: 'udp',
        src: out.src,
        dst: out.dst,
        hopLimit: out.hopLimit,
        udp: seg,
        ...(out.trafficClass !== undefined ? { trafficClass: out.trafficClass } : {}),
        ...(out.noChecksum !== undefined ? { noChecksum: out.noChecksum } : {}),
        ...(out.dontFragment !== undefined ? { dontFragment: out.dontFragment } : {}),
      });
    }
    return r;
  }

  /**
   * @internal The headers of the TCP segment being delivered (call it from within
   * SocketTable.tcpInput), as Linux's TCP_SAVE_SYN keeps a SYN's (tcp_reqsk_record_syn): the IP
   * header with any extension headers and the TCP header with its options, and with `withLink`
   * the link-layer header before them (an Ethernet frame's; lo's, 14 bytes of zero addresses and
   * the ethertype; none for a device with the IP medium that is not a loopback). A looped
   * segment has no frame: its headers are rebuilt with the emitters as they would have been on
   * the loopback wire (the IP ident 0, no TCP checksum). A fresh copy, or undefined
   * outside a delivery.
   */
  receivedTcpHeaders(withLink: boolean): Uint8Array | undefined {
    let headers: Uint8Array;
    let linkKind = this.rxLink;
    const seg = this.rxTcpLoop;
    if (seg) {
      linkKind = 'lo';
      const ipLen = seg.dst.version === 4 ? IPV4_HEADER_LEN : IPV6_HEADER_LEN;
      headers = this.loopPacket(seg).subarray(0, ipLen + TcpRepr.headerLen(seg.tcp));
    } else if (this.rxTcpPacket) {
      headers = this.rxTcpPacket.subarray(0, this.rxTcpHeaderEnd);
    } else {
      return undefined;
    }
    const link =
      !withLink || linkKind === 'none'
        ? 0
        : linkKind === 'frame' && this.rxFrame
          ? Math.min(ETHERNET_HEADER_LEN, this.rxFrame.length)
          : ETHERNET_HEADER_LEN;
    const out = new Uint8Array(link + headers.length);
    if (link > 0 && linkKind === 'frame' && this.rxFrame) out.set(this.rxFrame.subarray(0, link));
    else if (link > 0) {
      // lo's header: no addresses, the ethertype of the packet.
      const type = (headers[0]! >>> 4 === 4 ? EtherType.IPV4 : EtherType.IPV6) as number;
      out[12] = type >>> 8;
      out[13] = type & 0xff;
    }
    out.set(headers, link);
    return out;
  }

  /**
   * The bytes a looped segment would have had on the loopback wire, rebuilt with the emitters:
   * the IP ident 0 and no TCP checksum, as on the frame path of a loopback device (see `offloaded`).
   * With `link` (14), behind lo's link header (zero addresses and the ethertype).
   */
  private loopPacket(seg: LoopSegment, link = 0): Uint8Array {
    const ipLen = seg.dst.version === 4 ? IPV4_HEADER_LEN : IPV6_HEADER_LEN;
    const tcpLen = TcpRepr.bufferLen(seg.tcp);
    const frame = new Uint8Array(link + ipLen + tcpLen);
    if (link > 0) {
      const type = (seg.dst.version === 4 ? EtherType.IPV4 : EtherType.IPV6) as number;
      frame[12] = type >>> 8;
      frame[13] = type & 0xff;
    }
    const packet = link > 0 ? frame.subarray(link) : frame;

    if (seg.src.version === 4 && seg.dst.version === 4)
      Ipv4Repr.emit(
        {
          src: seg.src,
          dst: seg.dst,
          protocol: IpProtocol.TCP,
          payloadLen: tcpLen,
          ttl: seg.hopLimit,
          tos: seg.trafficClass,
        },
        Ipv4Packet.unchecked(packet),
      );
    else
      Ipv6Repr.emit(
        {
          src: seg.src as Ipv6Address,
          dst: seg.dst as Ipv6Address,
          nextHeader: IpProtocol.TCP,
          payloadLen: tcpLen,
          hopLimit: seg.hopLimit,
          trafficClass: seg.trafficClass,
        },
        Ipv6Packet.unchecked(packet),
      );
    // No checksum, as on the frame path of a loopback device (see `offloaded`).
    TcpRepr.emit(seg.tcp, TcpPacket.unchecked(packet.subarray(ipLen)), seg.src, seg.dst, false);
    return frame;
  }

  /**
   * Receives a looped TCP segment: the checks the IP and TCP parsers and receiveTransport make
   * on such a packet (our own destination, unicast, non-zero ports), then the socket table.
   */
  private receiveLoopSegment(now: number, device: Device, seg: LoopSegment, sockets: SocketTable): void {
    const counters = seg.viaDevice ? this.deviceCounters : this.loopCounters;
    if (seg.viaDevice) this.stats.rxFrames++;
    if (this.packetTap !== undefined)
      this.packetTap.frame(
        true,
        PacketType.HOST,
        seg.tapFrame ?? this.loopPacket(seg, ETHERNET_HEADER_LEN),
        ETHERNET_HEADER_LEN,
      );
    counters.rxPackets++;
    counters.rxBytes += seg.octets;
    const { src, dst, tcp } = seg;
    const ipMib = dst.version === 4 ? this.mib.ip : this.mib.ip6;
    ipMib.InReceives++;
    ipMib.InOctets += seg.octets;
    ipMib.InNoECTPkts++; // TCP sends with the ECN field 0
    // A loopback address is this host's and neither multicast nor the limited broadcast; it
    // may still be a prefix's directed broadcast (127.255.255.255).
    const loopback = seg.dstLoopback;
    if (!loopback && !this.acceptsDestination(dst)) {
      ipMib.InAddrErrors++;
      this.drop();
    } else if ((!loopback && (dst.isMulticast() || dst.isBroadcast())) || this.isDirectedBroadcast(dst)) {
      ipMib.InDelivers++;
      this.drop();
    } else {
      ipMib.InDelivers++;
      const tm = this.mib.tcp;
      tm.InSegs++;
      if (tcp.srcPort === 0 || tcp.dstPort === 0) {
        tm.InErrs++;
        this.drop();
      } else {
        this.rxTcpLoop = seg;
        if (sockets.rawWants?.(dst.version, IpProtocol.TCP) === true) {
          // A looped segment has no bytes: raw sockets get them rebuilt as on the wire.
          const packet = this.loopPacket(seg);
          const ipLen = dst.version === 4 ? IPV4_HEADER_LEN : IPV6_HEADER_LEN;
          sockets.rawInput?.(src, dst, IpProtocol.TCP, packet, packet.subarray(ipLen));
        }
        const reply = sockets.tcpInput(now, src, dst, tcp, seg.hopLimit, seg.trafficClass);
        if (reply) this.sendTcpReply(now, device, dst, src, reply, seg.trafficClass, sockets.tcpReplyHops);
      }
    }
    // TCP copied the payload into its receive ring and keeps no view of it.
    if (seg.pooled?.length === LOOP_PAYLOAD_SIZE && this.loopPayloads.length < SPARE_PER_LENGTH)
      this.loopPayloads.push(seg.pooled);
  }

  /**
   * Gives the looped segments still queued their own copies of payloads that were the
   * senders' views (Outgoing.payloadHeld): those are good only until the poll ends.
   */
  private copyHeldPayloads(): void {
    const segs = this.loopSegments;
    for (let i = this.loopHead; i < segs.length; i++) {
      const seg = segs[i]!;
      if (seg.held) segs[i] = { ...seg, tcp: { ...seg.tcp, payload: seg.tcp.payload.slice() }, held: false };
    }
  }

  /** A frame of `size` bytes for an offloaded packet: a spare one when there is one. */
  private frameOfSize(size: number): Uint8Array {
    const f = size >= SPARE_MIN ? this.spareFrames.get(size)?.pop() : undefined;
    if (!f) return new Uint8Array(size);
    // Headers (at most 100 bytes) read as in a fresh frame; the payload is overwritten whole.
    f.fill(0, 0, Math.min(size, 128));
    return f;
  }

  /** Keeps a consumed offloaded frame for reuse (a few per length, a few lengths). */
  private recycle(frame: Uint8Array): void {
    if (frame.length < SPARE_MIN) return;
    let list = this.spareFrames.get(frame.length);
    if (!list) {
      if (this.spareFrames.size >= SPARE_LENGTHS) this.spareFrames.clear();
      list = [];
      this.spareFrames.set(frame.length, list);
    }
    if (list.length < SPARE_PER_LENGTH) list.push(frame);
  }

  /** The link address of the next hop to `dst`, or why there is none yet. */
  private resolve(now: number, device: Device, dst: IpAddress): EthernetAddress | 'pending' | 'unroutable' {
    if (dst.version === 6) return this.resolveIpv6(now, device, dst);
    if (dst.isBroadcast() || this.isDirectedBroadcast(dst)) return EthernetAddress.BROADCAST;
    if (dst.isMulticast()) {
      const b = dst.bytes; // RFC 1112 §6.4: 01:00:5e + low 23 bits
      return new EthernetAddress([0x01, 0x00, 0x5e, b[1]! & 0x7f, b[2]!, b[3]!]);
    }
    let hop: IpAddress | undefined;
    if (this.staticRoutes.length > 0) {
      const r = this.lookupRoute(dst);
      hop = r === undefined ? undefined : (r.gateway ?? dst);
    } else {
      const onLink = this.addresses.some(
        (c) => c.address.version === 4 && c.contains(dst) && this.hasPrefixRoute(c),
      );
      hop = onLink ? dst : this.gateways.find((g) => g.version === 4);
    }
    if (!hop) return 'unroutable';
    const entry = this.neighbors.get(hop.key);
    if (entry && entry.expires > now) return entry.mac;
    const last = this.arpPending.get(hop.key);
    if (last === undefined || now - last >= NEIGHBOR_RETRY) {
      this.arpPending.set(hop.key, now);
      const src = this.sourceAddressFor(hop);
      if (src && src.version === 4)
        this.sendArp(
          now,
          device,
          {
            operation: ArpOperation.REQUEST,
            sourceHardwareAddr: this.hardwareAddress!,
            sourceProtocolAddr: src,
            targetHardwareAddr: EthernetAddress.ZERO,
            targetProtocolAddr: hop as Ipv4Address,
          },
          EthernetAddress.BROADCAST,
        );
    }
    return 'pending';
  }

  /**
   * IPv6 next-hop resolution by neighbor discovery (RFC 4861 §7.2.2): multicast maps to
   * 33:33 + the low 32 bits (RFC 2464 §7); an unknown neighbor is solicited at its
   * solicited-node address, again every NEIGHBOR_RETRY while packets wait.
   */
  private resolveIpv6(
    now: number,
    device: Device,
    dst: Ipv6Address,
  ): EthernetAddress | 'pending' | 'unroutable' {
    if (dst.isMulticast()) return EthernetAddress.ipv6Multicast(dst);
    const onLink =
      dst.isLinkLocal() ||
      this.addresses.some((c) => c.address.version === 6 && c.contains(dst) && this.hasPrefixRoute(c));
    let hop: IpAddress | undefined;
    if (this.staticRoutes.length > 0 && !dst.isLinkLocal()) {
      const r = this.lookupRoute(dst);
      hop = r === undefined ? undefined : (r.gateway ?? dst);
    } else hop = onLink ? dst : this.gateways.find((g) => g.version === 6);
    if (!hop) return 'unroutable';
    const entry = this.neighbors.get(hop.key);
    if (entry && entry.expires > now) return entry.mac;
    const last = this.arpPending.get(hop.key);
    if (last === undefined || now - last >= NEIGHBOR_RETRY) {
      this.arpPending.set(hop.key, now);
      const src = this.sourceAddressFor(hop);
      if (src && src.version === 6) this.sendSolicit(now, device, src, hop as Ipv6Address);
    }
    return 'pending';
  }

  private sendArp(now: number, device: Device, arp: ArpRepr, to: EthernetAddress): void {
    const frame = new Uint8Array(ETHERNET_HEADER_LEN + ARP_PACKET_LEN);
    EthernetRepr.emit(
      { src: this.hardwareAddress!, dst: to, ethertype: EtherType.ARP },
      EthernetFrame.unchecked(frame),
    );
    ArpRepr.emit(arp, ArpPacket.unchecked(frame.subarray(ETHERNET_HEADER_LEN)));
    this.transmit(now, device, frame);
  }
}

/**
 * The {@link DispatchContext} of one {@link Interface.poll}: a new one per poll (sockets tell
 * the rounds of one poll by it), sending through the interface on the poll's device.
 */
class PollContext implements DispatchContext {
  /** The device is a loopback one with the IP medium: TCP takes emitLoopbackTcp's way. */
  private readonly loopback: LoopbackDevice | undefined;
  constructor(
    private readonly iface: Interface,
    private readonly device: Device,
    readonly now: number,
  ) {
    this.loopback = ipLoopback(device);
  }
  emit(packet: Outgoing): EmitResult {
    // What Interface.emit would choose, chosen once per poll rather than per segment.
    if (packet.kind === 'tcp' && this.loopback) return this.iface.emitLoopbackTcp(this.loopback, packet);
    return this.iface.emit(this.now, this.device, packet);
  }
}

/** `device` when it is a loopback device with the IP medium (TCP takes emitLoopbackTcp's way). */
function ipLoopback(device: Device): LoopbackDevice | undefined {
  const caps = device.capabilities;
  return device instanceof LoopbackDevice && caps.loopback === true && caps.medium === 'ip'
    ? device
    : undefined;
}

/** Counts a received datagram under the ECN codepoint in the low two bits of `tos`. */
function countEcn(mib: IpMib, tos: number): void {
  const ecn = tos & 3;
  if (ecn === 0) mib.InNoECTPkts++;
  else if (ecn === 1) mib.InECT1Pkts++;
  else if (ecn === 2) mib.InECT0Pkts++;
  else mib.InCEPkts++;
}

/** Parses `a.b.c.d/n` or IPv6 CIDR text, throwing on a bad literal (configuration, not input). */
export function cidr(text: string): IpCidr {
  const c = IpCidr.parse(text);
  if (!c) throw new RangeError(`bad CIDR ${text}`);
  return c;
}

function isLoopback4(c: IpCidr): boolean {
  return c.address.version === 4 && c.address.isLoopback();
}

/** The path MTU a reply of the stack's own to `dst` is fragmented to (SocketTable.mtuFor). */
function replyMtu(sockets: SocketTable, dst: IpAddress): { readonly pathMtu?: number } {
  const mtu = sockets.mtuFor?.(dst);
  return mtu === undefined ? {} : { pathMtu: mtu };
}
