/**
 * The packets the receive paths hand a socket filter (see cbpf.ts), built from what the stack
 * keeps of a received IP datagram. Linux runs the filter on the sk_buff itself; the stack has
 * parsed it by then, so the IP header is rebuilt from its fields (no options, identification 0,
 * flow label 0, DF set on IPv4) in front of the transport bytes, which are the received ones.
 *
 * @module
 */
import { checksumFold, internetChecksum, pseudoHeaderSum } from '../wire/checksum.js';
import type { IpAddress } from '../wire/ip-address.js';
import { TcpPacket, TcpRepr } from '../wire/tcp.js';
import type { FilterPacket, SocketFilter } from './cbpf.js';
import { LOOPBACK_IFINDEX } from './socket-set.js';

const ETH_P_IP = 0x0800;
const ETH_P_IPV6 = 0x86dd;
const ARPHRD_ETHER = 1;
const ARPHRD_LOOPBACK = 772;
const PACKET_HOST = 0;
const PACKET_MULTICAST = 2;
const IPPROTO_TCP = 6;

/** The IP header fields a rebuilt header takes. */
export interface FilterIpFields {
  readonly src: IpAddress;
  readonly dst: IpAddress;
  readonly protocol: number;
  readonly hopLimit: number;
  readonly trafficClass: number;
  /** The arrival link (1: loopback). */
  readonly ifindex: number;
}

/**
 * What __skb_get_poff adds for the transport header of `protocol` at the start of `transport`
 * (SKF_AD_PAY_OFFSET): TCP's data offset, 8 for UDP, UDP-Lite, ICMP, ICMPv6 and IGMP, 12 for
 * SCTP, nothing for others.
 */
export function transportHeaderLen(protocol: number, transport: Uint8Array): number {
  switch (protocol) {
    case IPPROTO_TCP:
      return Math.max(20, ((transport[12] ?? 0) >> 4) * 4);
    case 17: // UDP
    case 136: // UDP-Lite
    case 1: // ICMP
    case 58: // ICMPv6
    case 2: // IGMP
      return 8;
    case 132: // SCTP
      return 12;
    default:
      return 0;
  }
}

/**
 * A packet whose skb->data is the transport header (UDP, TCP, ICMP echo; raw IPv6) with the
 * network header before it: `transport` is copied behind a rebuilt IP header.
 */
export function ipFilterPacket(
  ip: FilterIpFields,
  transport: Uint8Array,
  dataAtNetwork = false,
): FilterPacket {
  const v4 = ip.src.version === 4;
  const hlen = v4 ? 20 : 40;
  const bytes = new Uint8Array(hlen + transport.length);
  const dv = new DataView(bytes.buffer);
  if (v4) {
    dv.setUint8(0, 0x45);
    dv.setUint8(1, ip.trafficClass);
    dv.setUint16(2, Math.min(bytes.length, 0xffff));
    dv.setUint16(6, 0x4000);
    dv.setUint8(8, ip.hopLimit);
    dv.setUint8(9, ip.protocol);
    bytes.set(ip.src.bytes, 12);
    bytes.set(ip.dst.bytes, 16);
    dv.setUint16(10, internetChecksum(bytes, 0, 20));
  } else {
    dv.setUint32(0, (6 << 28) | (ip.trafficClass << 20));
    dv.setUint16(4, Math.min(transport.length, 0xffff));
    dv.setUint8(6, ip.protocol);
    dv.setUint8(7, ip.hopLimit);
    bytes.set(ip.src.bytes, 8);
    bytes.set(ip.dst.bytes, 24);
  }
  bytes.set(transport, hlen);
  const loop = ip.ifindex === LOOPBACK_IFINDEX;
  return {
    bytes,
    data: dataAtNetwork ? 0 : hlen,
    network: 0,
    protocol: v4 ? ETH_P_IP : ETH_P_IPV6,
    // eth_type_trans: lo's frames are addressed to its own (all-zero) address.
    pktType: ip.dst.isMulticast() && !loop ? PACKET_MULTICAST : PACKET_HOST,
    ifindex: ip.ifindex,
    hatype: loop ? ARPHRD_LOOPBACK : ARPHRD_ETHER,
    // skb_get_poff counts from skb->data, through the transport header.
    payOffset: (dataAtNetwork ? hlen : 0) + transportHeaderLen(ip.protocol, transport),
  };
}

/**
 * A UDP (or UDP-Lite) datagram as the filter sees it in udp_queue_rcv_one_skb: skb->data at the
 * UDP header. The header's checksum is what the receiver finds there: on loopback the partial
 * one the sender left for the device to finish (CHECKSUM_PARTIAL: the folded pseudo-header
 * sum), elsewhere the full one. `lengthField` is the length (UDP) or checksum coverage (UDP-Lite).
 */
export function udpFilterPacket(
  ip: FilterIpFields,
  srcPort: number,
  dstPort: number,
  payload: Uint8Array,
  lengthField: number,
): FilterPacket {
  const udp = new Uint8Array(8 + payload.length);
  const dv = new DataView(udp.buffer);
  dv.setUint16(0, srcPort);
  dv.setUint16(2, dstPort);
  dv.setUint16(4, lengthField & 0xffff);
  udp.set(payload, 8);
  const pseudo = pseudoHeaderSum(ip.src, ip.dst, ip.protocol, udp.length);
  let sum: number;
  if (ip.ifindex === LOOPBACK_IFINDEX) sum = checksumFold(pseudo) & 0xffff;
  else {
    sum = internetChecksum(udp, 0, udp.length, pseudo);
    if (sum === 0) sum = 0xffff;
  }
  dv.setUint16(6, sum);
  return ipFilterPacket(ip, udp);
}

/**
 * tcp_filter: runs `filter` on a received segment with skb->data at the TCP header (rebuilt
 * from the parsed segment, options in the stack's order, full checksum) and the cap at the
 * header's end. Returns the segment with its payload cut to what the filter keeps (flags as
 * they were, as Linux leaves them), or undefined when it drops it: the segment is then as if lost.
 */
export function tcpFilterSegment(
  filter: SocketFilter,
  seg: TcpRepr,
  src: IpAddress,
  dst: IpAddress,
  ifindex: number,
): TcpRepr | undefined {
  const tcp = new Uint8Array(TcpRepr.bufferLen(seg));
  TcpRepr.emit(seg, TcpPacket.unchecked(tcp), src, dst, true);
  const hlen = tcp.length - seg.payload.length;
  const ip = { src, dst, protocol: IPPROTO_TCP, hopLimit: 64, trafficClass: 0, ifindex };
  const keep = filter.keep(ipFilterPacket(ip, tcp), hlen);
  if (keep < 0) return undefined;
  const n = keep - hlen;
  return n >= seg.payload.length ? seg : { ...seg, payload: seg.payload.subarray(0, n) };
}

/**
 * run_bpf_filter of reuseport_select_sock: an SO_ATTACH_REUSEPORT_CBPF program runs with
 * skb->data moved past the transport header of `hlen` bytes (UDP's 8, TCP's data offset), so
 * absolute loads read the payload and SKF_AD_PAY_OFFSET is 0; the network header stays in reach.
 */
export function pastTransportHeader(p: FilterPacket, hlen: number): FilterPacket {
  return { ...p, data: p.data + hlen, payOffset: 0 };
}

/**
 * A received TCP segment as an SO_ATTACH_REUSEPORT_CBPF program sees it when it picks the
 * listener (inet_lookup_reuseport with the segment's data offset): the bytes after the TCP
 * header, none for a SYN without data. The header is rebuilt as {@link tcpFilterSegment} does.
 */
export function tcpReuseportPacket(
  seg: TcpRepr,
  src: IpAddress,
  dst: IpAddress,
  ifindex: number,
): FilterPacket {
  const tcp = new Uint8Array(TcpRepr.bufferLen(seg));
  TcpRepr.emit(seg, TcpPacket.unchecked(tcp), src, dst, true);
  const ip = { src, dst, protocol: IPPROTO_TCP, hopLimit: 64, trafficClass: 0, ifindex };
  return pastTransportHeader(ipFilterPacket(ip, tcp), tcp.length - seg.payload.length);
}
