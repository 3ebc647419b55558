/**
 * What sockets hand to the interface to send: the IP-level addresses and one transport repr.
 * The interface picks the route, adds IP and link headers and serialises.
 *
 * @module
 */
import type { EthernetAddress } from '../wire/ethernet.js';
import type { Icmpv4Repr } from '../wire/icmpv4.js';
import type { Icmpv6Repr } from '../wire/icmpv6.js';
import type { IpAddress, Ipv4Address, Ipv6Address } from '../wire/ip-address.js';
import type { TcpRepr } from '../wire/tcp.js';
import type { UdpRepr } from '../wire/udp.js';

/** A packet to send, before serialisation. */
export type Outgoing =
  | {
      readonly kind: 'udp';
      readonly src: IpAddress;
      readonly dst: IpAddress;
      readonly hopLimit: number;
      readonly udp: UdpRepr;
      /** UDP-Lite (RFC 3828) with this checksum coverage (0: the whole datagram); absent: UDP. */
      readonly liteCoverage?: number;
      /** The TOS byte (IPv4) or traffic class (IPv6); absent is 0. */
      readonly trafficClass?: number;
      /** IPv6 with a zero checksum (UDP_NO_CHECK6_TX, RFC 6936). */
      readonly noChecksum?: boolean;
      /**
       * UDP_SEGMENT: the payload is segments of this size. The interface sends them as separate
       * datagrams where they leave the host, and whole (marked) to a socket on this host.
       */
      readonly gsoSize?: number;
      /**
       * The MTU the sender fragments to (ip_skb_dst_mtu: the path MTU learnt from ICMP errors),
       * where it is below the link's; absent: the link's.
       */
      readonly pathMtu?: number;
      /**
       * DF on an IPv4 datagram that is not fragmented (IP_MTU_DISCOVER's WANT, DO and PROBE,
       * __ip_make_skb); absent: set.
       */
      readonly dontFragment?: boolean;
    }
  | {
      readonly kind: 'tcp';
      readonly src: IpAddress;
      readonly dst: IpAddress;
      readonly hopLimit: number;
      readonly tcp: TcpRepr;
      /** The TOS byte (IPv4) or traffic class (IPv6), IP_TOS / IPV6_TCLASS; absent is 0. */
      readonly trafficClass?: number;
      /**
       * The payload is a view the sender leaves unchanged until the poll that sends it ends (a
       * send ring, whose sent bytes nothing overwrites before they are acknowledged and the
       * application writes again): a segment that stays on the host may then carry the view
       * itself, as Linux's loopback hands on the sender's skb. Absent: the interface copies.
       */
      readonly payloadHeld?: boolean;
    }
  | {
      readonly kind: 'icmpv4';
      readonly src: Ipv4Address;
      readonly dst: Ipv4Address;
      readonly hopLimit: number;
      /** The TOS byte (a ping socket's IP_TOS; an echo reply's is its request's). */
      readonly trafficClass?: number;
      readonly icmp: Icmpv4Repr;
      /**
       * DF on a datagram that is not fragmented (a ping socket's IP_MTU_DISCOVER, __ip_make_skb);
       * absent: not set, as the stack's own messages leave from icmp_sk, which is
       * IP_PMTUDISC_DONT.
       */
      readonly dontFragment?: boolean;
      /** As the UDP variant's: a ping socket's path MTU. */
      readonly pathMtu?: number;
    }
  | {
      readonly kind: 'icmpv6';
      readonly src: Ipv6Address;
      readonly dst: Ipv6Address;
      readonly hopLimit: number;
      /** The traffic class (a ping socket's IPV6_TCLASS; an echo reply's is its request's). */
      readonly trafficClass?: number;
      readonly icmp: Icmpv6Repr;
      /**
       * Neighbor discovery's own messages: the frame leaves by the device to this link address,
       * whatever the routes say, as Linux's ndisc_send_skb sends on the device it is given
       * without a route lookup (a solicitation is answered even when no route leads back).
       */
      readonly linkDst?: EthernetAddress;
      /** As the UDP variant's: a ping socket's path MTU. */
      readonly pathMtu?: number;
    }
  | {
      /**
       * A whole IP datagram built by a raw socket (header included); `src` and `dst` route it
       * (an IP_HDRINCL header's own destination is not looked at, as raw_sendmsg routes by the
       * sendto address).
       */
      readonly kind: 'ip';
      readonly src: IpAddress;
      readonly dst: IpAddress;
      readonly packet: Uint8Array;
      /**
       * As the UDP variant's (ip_skb_dst_mtu): a datagram larger than it is fragmented, or
       * refused when its header was included with DF set or in IPv6 (ip_fragment, ip6_fragment:
       * its source is answered with fragmentation needed or packet too big).
       */
      readonly pathMtu?: number;
      /**
       * The caller wrote the IP header (IP_HDRINCL, IPV6_HDRINCL): the datagram is refused
       * rather than fragmented as above, and an IPv4 one is not counted in OutRequests
       * (raw_send_hdrinc goes straight to dst_output, past __ip_local_out).
       */
      readonly headerIncluded?: boolean;
    };

/**
 * The result of handing a packet to the interface: sent (or queued on the device), held
 * back because the next hop's link address is being resolved (retry later), or dropped
 * because there is no route.
 */
export type EmitResult = 'sent' | 'pending' | 'unroutable';

/**
 * How long a socket waits after a 'pending' result before trying again (the ARP retry
 * interval); the interface cuts the wait short when the neighbor answers.
 */
export const NEIGHBOR_RETRY = 1_000;

/**
 * The interface as sockets see it while dispatching. One context stands for one poll: every
 * round of receiving and dispatching in that poll gets the same object, and no other poll
 * does. So a socket can tell a later round of a poll it already answered, where only what
 * reached it since (a segment, a resolved neighbor) can change what it has to send: the
 * clock and the application stand still within a poll.
 */
export interface DispatchContext {
  readonly now: number;
  /** Sends a packet. */
  emit(packet: Outgoing): EmitResult;
}
