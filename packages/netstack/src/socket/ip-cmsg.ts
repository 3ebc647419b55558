/**
 * IP-level ancillary data of datagram sockets (RFC 3542 for IPv6, Linux's IP_* for IPv4):
 * the control messages recvmsg reports when IP_PKTINFO/IP_RECVTTL/IP_RECVTOS/IP_RECVORIGDSTADDR
 * or IPV6_RECVPKTINFO/IPV6_RECVHOPLIMIT/IPV6_RECVTCLASS/IPV6_RECVORIGDSTADDR are on, and the per-datagram overrides
 * sendmsg takes (ip_cmsg_send and ip6_datagram_send_ctl).
 *
 * @module
 */
import { E, IpOption, Ipv6Option, SocketLevel, type Cmsg, type LinuxError } from '@tsvisor/abi';
import type { IpAddress } from '../wire/ip-address.js';
import { Ipv4Address, Ipv6Address } from '../wire/ip-address.js';
import type { UdpRxMeta, UdpSendOptions } from './udp.js';

/** Which IP header fields recvmsg reports, per IP version of the received datagram. */
export interface IpRecvFlags {
  /** IP_PKTINFO / IPV6_RECVPKTINFO. */
  pktinfo: boolean;
  /** IP_RECVTTL / IPV6_RECVHOPLIMIT. */
  hopLimit: boolean;
  /** IP_RECVTOS / IPV6_RECVTCLASS. */
  trafficClass: boolean;
  /** IP_RECVORIGDSTADDR / IPV6_RECVORIGDSTADDR: the destination address and port. */
  origDst?: boolean;
}

/** All reports off (the default of a new socket). */
export function noIpRecvFlags(): IpRecvFlags {
  return { pktinfo: false, hopLimit: false, trafficClass: false, origDst: false };
}

function int(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setInt32(0, v, true);
  return b;
}

/**
 * How many bytes of a datagram as a raw or ping socket receives it {@link transportPort} needs
 * at most: an IPv4 header with all its options (60) and 4 bytes of the transport header.
 */
export const TRANSPORT_PORT_REACH = 64;

/**
 * The port ORIGDSTADDR reports for a datagram: ip_cmsg_recv_dstaddr and
 * ip6_datagram_recv_specific_ctl take bytes 2 and 3 of the transport header, where UDP and TCP
 * keep the destination port, whatever the protocol (an ICMP message's checksum on raw and ping
 * sockets). `datagram` is what the socket received, the first `len` bytes of it present; an
 * IPv4 raw socket's starts with the IP header (`ipHeader`). Undefined when the transport header
 * is shorter than 4 bytes: Linux then reports no ORIGDSTADDR (skb_header_pointer fails).
 *
 * @example
 * ```ts
 * transportPort(Uint8Array.of(0, 0, 0x12, 0x34), 4, false); // 0x1234
 * transportPort(Uint8Array.of(0, 0, 0x12), 3, false); // undefined
 * ```
 */
export function transportPort(datagram: Uint8Array, len: number, ipHeader: boolean): number | undefined {
  const avail = Math.min(len, datagram.length);
  if (ipHeader && avail < 1) return undefined;
  const off = ipHeader ? (datagram[0]! & 15) * 4 : 0;
  if (avail < off + 4) return undefined;
  return (datagram[off + 2]! << 8) | datagram[off + 3]!;
}

/**
 * The control messages for one received datagram, in the order Linux writes them
 * (ip_cmsg_recv_offset: PKTINFO, TTL, TOS, ORIGDSTADDR; ip6_datagram_recv_specific_ctl: PKTINFO,
 * HOPLIMIT, TCLASS, ORIGDSTADDR). IP_TOS carries one byte, ORIGDSTADDR a sockaddr of the
 * destination and `port` (see {@link transportPort}; undefined: no ORIGDSTADDR), the others an
 * int or a pktinfo struct. `specDst` is
 * in_pktinfo's ipi_spec_dst, the local address that would answer the sender. An IPv4 datagram
 * on a dual-stack AF_INET6 socket gets the IPv4 messages and then the IPv6 ones, with the
 * IPv4-mapped destination (udpv6_recvmsg), but never IPV6_ORIGDSTADDR.
 */
export function ipRecvControl(
  meta: Pick<UdpRxMeta, 'dst' | 'hopLimit' | 'trafficClass'>,
  flags: { readonly v4: IpRecvFlags; readonly v6: IpRecvFlags },
  ifindex: number,
  specDst: IpAddress,
  socketFamily: 4 | 6,
  port: number | undefined,
): Cmsg[] {
  const out: Cmsg[] = [];
  const dst6 = meta.dst.version === 4 ? Ipv6Address.mapped(meta.dst) : meta.dst;
  if (meta.dst.version === 4) {
    const f = flags.v4;
    if (f.pktinfo) {
      // struct in_pktinfo { int ipi_ifindex; struct in_addr ipi_spec_dst; struct in_addr ipi_addr; }
      const b = new Uint8Array(12);
      new DataView(b.buffer).setInt32(0, ifindex, true);
      b.set(specDst.version === 4 ? specDst.bytes : meta.dst.bytes, 4);
      b.set(meta.dst.bytes, 8);
      out.push({ level: SocketLevel.SOL_IP, type: IpOption.IP_PKTINFO, data: b });
    }
    if (f.hopLimit) out.push({ level: SocketLevel.SOL_IP, type: IpOption.IP_TTL, data: int(meta.hopLimit) });
    if (f.trafficClass)
      out.push({ level: SocketLevel.SOL_IP, type: IpOption.IP_TOS, data: Uint8Array.of(meta.trafficClass) });
    if (f.origDst === true && port !== undefined) {
      // struct sockaddr_in of the destination
      const b = new Uint8Array(16);
      const dv = new DataView(b.buffer);
      dv.setUint16(0, 2, true); // AF_INET
      dv.setUint16(2, port, false);
      b.set(meta.dst.bytes, 4);
      out.push({ level: SocketLevel.SOL_IP, type: IpOption.IP_ORIGDSTADDR, data: b });
    }
    if (socketFamily === 4) return out;
  }
  const f = flags.v6;
  if (f.pktinfo) {
    // struct in6_pktinfo { struct in6_addr ipi6_addr; int ipi6_ifindex; }
    const b = new Uint8Array(20);
    b.set(dst6.bytes, 0);
    new DataView(b.buffer).setInt32(16, ifindex, true);
    out.push({ level: SocketLevel.SOL_IPV6, type: Ipv6Option.IPV6_PKTINFO, data: b });
  }
  if (f.hopLimit)
    out.push({ level: SocketLevel.SOL_IPV6, type: Ipv6Option.IPV6_HOPLIMIT, data: int(meta.hopLimit) });
  if (f.trafficClass)
    out.push({ level: SocketLevel.SOL_IPV6, type: Ipv6Option.IPV6_TCLASS, data: int(meta.trafficClass) });
  if (f.origDst === true && meta.dst.version === 6 && port !== undefined) {
    // struct sockaddr_in6 of the destination (flow info and scope 0)
    const b = new Uint8Array(28);
    const dv = new DataView(b.buffer);
    dv.setUint16(0, 10, true); // AF_INET6
    dv.setUint16(2, port, false);
    b.set(meta.dst.bytes, 8);
    out.push({ level: SocketLevel.SOL_IPV6, type: Ipv6Option.IPV6_ORIGDSTADDR, data: b });
  }
  return out;
}

function readInt(data: Uint8Array): number {
  return new DataView(data.buffer, data.byteOffset, 4).getInt32(0, true);
}

/**
 * Parses sendmsg's control messages for a datagram socket of `family`. An AF_INET socket reads
 * SOL_IP messages as ip_cmsg_send does (IP_TTL 1..255, IP_TOS an int or a byte 0..255,
 * IP_PKTINFO); an AF_INET6 socket reads SOL_IPV6 ones as ip6_datagram_send_ctl does
 * (IPV6_HOPLIMIT and IPV6_TCLASS -1..255, IPV6_PKTINFO). Other levels
 * are skipped; a wrong length, a value out of range or a type not handled here is EINVAL, a
 * non-local source address EINVAL, an unknown interface index ENODEV.
 */
export function parseIpSendControl(
  family: 4 | 6,
  msgs: readonly Cmsg[],
  ifindexExists: (index: number) => boolean,
): UdpSendOptions | LinuxError {
  let hopLimit: number | undefined;
  let trafficClass: number | undefined;
  let src: IpAddress | undefined;
  for (const m of msgs) {
    const len = m.data.length;
    if (family === 4) {
      if (m.level !== SocketLevel.SOL_IP) continue;
      switch (m.type) {
        case IpOption.IP_TTL: {
          if (len !== 4) return E.EINVAL;
          const v = readInt(m.data);
          if (v < 1 || v > 255) return E.EINVAL;
          hopLimit = v;
          break;
        }
        case IpOption.IP_TOS: {
          let v: number;
          if (len === 4) v = readInt(m.data);
          else if (len === 1) v = m.data[0]!;
          else return E.EINVAL;
          if (v < 0 || v > 255) return E.EINVAL;
          trafficClass = v;
          break;
        }
        case IpOption.IP_PKTINFO: {
          if (len !== 12) return E.EINVAL;
          const index = readInt(m.data);
          if (index !== 0 && !ifindexExists(index)) return E.ENODEV;
          const a = new Ipv4Address(m.data.subarray(4, 8));
          if (!a.isUnspecified()) src = a;
          break;
        }
        default:
          return E.EINVAL;
      }
      continue;
    }
    if (m.level !== SocketLevel.SOL_IPV6) continue;
    switch (m.type) {
      case Ipv6Option.IPV6_HOPLIMIT:
      case Ipv6Option.IPV6_TCLASS: {
        if (len !== 4) return E.EINVAL;
        const v = readInt(m.data);
        if (v < -1 || v > 255) return E.EINVAL;
        // -1 asks for the socket's hop limit; a traffic class of -1 goes out as its low byte,
        // 0xff, as Linux's ip6_datagram_send_ctl leaves it (measured, see ip-cmsg.c).
        if (m.type === Ipv6Option.IPV6_TCLASS) trafficClass = v & 0xff;
        else if (v !== -1) hopLimit = v;
        break;
      }
      case Ipv6Option.IPV6_PKTINFO: {
        if (len < 20) return E.EINVAL;
        const index = readInt(m.data.subarray(16, 20));
        if (index !== 0 && !ifindexExists(index)) return E.ENODEV;
        const a = new Ipv6Address(m.data.subarray(0, 16));
        if (!a.isUnspecified()) src = a;
        break;
      }
      default:
        return E.EINVAL;
    }
  }
  return {
    ...(hopLimit !== undefined ? { hopLimit } : {}),
    ...(trafficClass !== undefined ? { trafficClass } : {}),
    ...(src !== undefined ? { src } : {}),
  };
}
