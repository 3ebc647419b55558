/**
 * The IP-level (SOL_IP), IPv6-level (SOL_IPV6) and UDP-level (SOL_UDP) socket options of TCP
 * and UDP sockets that the socket layer keeps beside its own (IP_TOS, IP_TTL, the receive
 * reports, IPV6_V6ONLY...): their values, defaults and Linux's errnos (do_ip_setsockopt,
 * do_ipv6_setsockopt, udp_lib_setsockopt and their getsockopt twins in Linux 6.18). The
 * socket layer pushes the options with an effect down to its TCP and UDP sockets (see
 * InetSocket.applyIpOptions): IP_FREEBIND/IP_TRANSPARENT (bind to an address not of this host),
 * IP_BIND_ADDRESS_NO_PORT, IP_LOCAL_PORT_RANGE, IP_MINTTL/IPV6_MINHOPCOUNT, IP_MTU_DISCOVER and
 * IPV6_DONTFRAG (EMSGSIZE above the path MTU), IP_UNICAST_IF, the multicast options and group
 * memberships, UDP_CORK, UDP_SEGMENT, UDP_GRO and UDP_NO_CHECK6_TX/RX.
 *
 * @module
 */
import { E, IpOption, Ipv6Option, isError, type LinuxError } from '@tsvisor/abi';

/** SOL_IP, SOL_IPV6 and SOL_UDP. */
const SOL_IP = 0;
const SOL_IPV6 = 41;
/** SOL_UDP (IPPROTO_UDP). */
export const SOL_UDP = 17;

/** UDP-level options (include/uapi/linux/udp.h). */
export const UdpOption = {
  UDP_CORK: 1,
  UDP_ENCAP: 100,
  UDP_NO_CHECK6_TX: 101,
  UDP_NO_CHECK6_RX: 102,
  UDP_SEGMENT: 103,
  UDP_GRO: 104,
} as const;

/** UDP_ENCAP types udp_lib_setsockopt takes (0: none, ESPINUDP, L2TPINUDP). */
const UDP_ENCAP_TYPES: ReadonlySet<number> = new Set([0, 2, 3]);
/** UDP_MAX_SEGMENTS: the most datagrams one UDP_SEGMENT send may become. */
export const UDP_MAX_SEGMENTS = 128;

/** IP_PMTUDISC_* (and IPV6_PMTUDISC_*, the same numbers). */
export const PmtuDisc = { DONT: 0, WANT: 1, DO: 2, PROBE: 3, INTERFACE: 4, OMIT: 5 } as const;

/** The uapi numbers glibc's headers leave out. */
const IPV6_FLOWINFO = 11;
const IPV6_FLOWINFO_SEND = 33;

/** IPV6_PREFER_SRC_* of <linux/in6.h>. */
const PREFER_TMP = 0x1;
const PREFER_PUBLIC = 0x2;
const PREFER_PUBTMP_DEFAULT = 0x100;
const PREFER_COA = 0x4;
const PREFER_HOME = 0x400;
const PREFER_CGA = 0x8;
const PREFER_NONCGA = 0x800;

/**
 * The structs of the source-filter options: ip_mreq_source (IP_*_SOURCE*, exactly), struct
 * ip_msfilter with no source (IP_MSFILTER), group_req and group_source_req and group_filter
 * (MCAST_*, at least).
 */
const SOURCE_FILTER_SIZES: ReadonlyMap<number, number> = new Map([
  [IpOption.IP_UNBLOCK_SOURCE, 12],
  [IpOption.IP_BLOCK_SOURCE, 12],
  [IpOption.IP_ADD_SOURCE_MEMBERSHIP, 12],
  [IpOption.IP_DROP_SOURCE_MEMBERSHIP, 12],
  [IpOption.IP_MSFILTER, 16],
  [IpOption.MCAST_JOIN_GROUP, 136],
  [IpOption.MCAST_LEAVE_GROUP, 136],
  [IpOption.MCAST_BLOCK_SOURCE, 264],
  [IpOption.MCAST_UNBLOCK_SOURCE, 264],
  [IpOption.MCAST_JOIN_SOURCE_GROUP, 264],
  [IpOption.MCAST_LEAVE_SOURCE_GROUP, 264],
  [IpOption.MCAST_MSFILTER, 144],
]);

/** MRT_BASE..MRT_MAX: multicast routing, only for a raw IGMP socket (ip_mroute_setsockopt). */
function isMroute(name: number): boolean {
  return name >= 200 && name <= 212;
}

/** SO_ORIGINAL_DST (SOL_IP) and IP6T_SO_ORIGINAL_DST (SOL_IPV6): netfilter's NAT lookup. */
const SO_ORIGINAL_DST = 80;

/** net.ipv4.igmp_max_memberships. */
const IGMP_MAX_MEMBERSHIPS = 20;
/** MAX_IPOPTLEN: the most bytes of IPv4 options a socket keeps. */
const MAX_IPOPTLEN = 40;

/** SOL_IP options whose value is an int, or a byte when shorter (do_ip_setsockopt's list). */
const IP_BYTE_OPTIONS: ReadonlySet<number> = new Set([
  IpOption.IP_PKTINFO,
  IpOption.IP_RECVTTL,
  IpOption.IP_RECVOPTS,
  IpOption.IP_RECVTOS,
  IpOption.IP_RETOPTS,
  IpOption.IP_TOS,
  IpOption.IP_TTL,
  IpOption.IP_HDRINCL,
  IpOption.IP_MTU_DISCOVER,
  IpOption.IP_RECVERR,
  IpOption.IP_ROUTER_ALERT,
  IpOption.IP_FREEBIND,
  IpOption.IP_PASSSEC,
  IpOption.IP_TRANSPARENT,
  IpOption.IP_MINTTL,
  IpOption.IP_NODEFRAG,
  IpOption.IP_BIND_ADDRESS_NO_PORT,
  IpOption.IP_UNICAST_IF,
  IpOption.IP_MULTICAST_TTL,
  IpOption.IP_MULTICAST_ALL,
  IpOption.IP_MULTICAST_LOOP,
  IpOption.IP_RECVORIGDSTADDR,
  IpOption.IP_CHECKSUM,
  IpOption.IP_RECVFRAGSIZE,
  IpOption.IP_RECVERR_RFC4884,
  IpOption.IP_LOCAL_PORT_RANGE,
]);
/** Of those, the ones an empty value is EINVAL for ("optlen < 1"). */
const IP_NEED_BYTE: ReadonlySet<number> = new Set([
  IpOption.IP_TTL,
  IpOption.IP_FREEBIND,
  IpOption.IP_TRANSPARENT,
  IpOption.IP_MINTTL,
  IpOption.IP_MULTICAST_TTL,
  IpOption.IP_MULTICAST_LOOP,
  IpOption.IP_MULTICAST_ALL,
]);

/** IPv4 options that are only a flag a socket keeps (do_ip_setsockopt's bool options). */
const IP_FLAGS: readonly number[] = [
  IpOption.IP_RECVOPTS,
  IpOption.IP_RETOPTS,
  IpOption.IP_FREEBIND,
  IpOption.IP_PASSSEC,
  IpOption.IP_TRANSPARENT,
  IpOption.IP_CHECKSUM,
  IpOption.IP_BIND_ADDRESS_NO_PORT,
  IpOption.IP_MULTICAST_LOOP,
  IpOption.IP_RECVERR,
];
/** IPv6 options that are only a flag (do_ipv6_setsockopt's valbool options). */
const IP6_FLAGS: readonly number[] = [
  Ipv6Option.IPV6_2292PKTINFO,
  Ipv6Option.IPV6_2292HOPOPTS,
  Ipv6Option.IPV6_2292DSTOPTS,
  Ipv6Option.IPV6_2292RTHDR,
  Ipv6Option.IPV6_2292HOPLIMIT,
  IPV6_FLOWINFO,
  Ipv6Option.IPV6_MULTICAST_ALL,
  Ipv6Option.IPV6_ROUTER_ALERT_ISOLATE,
  IPV6_FLOWINFO_SEND,
  Ipv6Option.IPV6_RECVHOPOPTS,
  Ipv6Option.IPV6_RECVRTHDR,
  Ipv6Option.IPV6_RECVDSTOPTS,
  Ipv6Option.IPV6_RECVPATHMTU,
  Ipv6Option.IPV6_DONTFRAG,
  Ipv6Option.IPV6_AUTOFLOWLABEL,
  Ipv6Option.IPV6_RECVFRAGSIZE,
  Ipv6Option.IPV6_RECVERR,
];
/** UDP options that are only a flag. */
const UDP_FLAGS: readonly number[] = [
  UdpOption.UDP_CORK,
  UdpOption.UDP_NO_CHECK6_TX,
  UdpOption.UDP_NO_CHECK6_RX,
  UdpOption.UDP_GRO,
];
/** IPv6 sticky extension headers: read back empty, never set from an int. */
const IP6_STICKY: readonly number[] = [
  Ipv6Option.IPV6_HOPOPTS,
  Ipv6Option.IPV6_RTHDRDSTOPTS,
  Ipv6Option.IPV6_RTHDR,
  Ipv6Option.IPV6_DSTOPTS,
];

/** The IpOptions fields of the int options kept as set. */
type RangedField =
  | 'pmtuDisc'
  | 'pmtuDisc6'
  | 'minTtl'
  | 'minHopCount'
  | 'recvErrRfc4884'
  | 'recvErrRfc4884v6'
  | 'mcastAll'
  | 'mcastLoop6';
/** An int option kept as set: its field and the range setsockopt takes (EINVAL outside). */
type RangedOption = readonly [field: RangedField, lo: number, hi: number];

/** The SOL_IP int options kept as set. */
const IP_RANGED: ReadonlyMap<number, RangedOption> = new Map<number, RangedOption>([
  [IpOption.IP_MTU_DISCOVER, ['pmtuDisc', PmtuDisc.DONT, PmtuDisc.OMIT]],
  [IpOption.IP_MINTTL, ['minTtl', 0, 255]],
  [IpOption.IP_RECVERR_RFC4884, ['recvErrRfc4884', 0, 1]],
  [IpOption.IP_MULTICAST_ALL, ['mcastAll', 0, 1]],
]);
/** The SOL_IPV6 int options kept as set. */
const IP6_RANGED: ReadonlyMap<number, RangedOption> = new Map<number, RangedOption>([
  [Ipv6Option.IPV6_MTU_DISCOVER, ['pmtuDisc6', PmtuDisc.DONT, PmtuDisc.OMIT]],
  [Ipv6Option.IPV6_MINHOPCOUNT, ['minHopCount', 0, 255]],
  [Ipv6Option.IPV6_RECVERR_RFC4884, ['recvErrRfc4884v6', 0, 1]],
  [Ipv6Option.IPV6_MULTICAST_LOOP, ['mcastLoop6', 0, 1]],
]);

/** What the options need to know of the socket that has them. */
export interface IpOptionSocket {
  /** 4 for AF_INET, 6 for AF_INET6. */
  readonly family: 4 | 6;
  /** A SOCK_STREAM (TCP) socket; else a datagram one. */
  readonly stream: boolean;
  /** The bound local port, 0 when none (IP_PROTOCOL reads it, as Linux's inet_num). */
  readonly localPort: number;
  /**
   * The connected peer's address and the MTU of the route the socket holds towards it (0: it
   * holds none, see IcmpSocket.routeMtu), undefined when not connected.
   */
  connectedPath(): { readonly peer: Uint8Array; readonly mtu: number } | undefined;
  /** True when a link has index `ifindex` (IP_UNICAST_IF, IPV6_MULTICAST_IF). */
  ifindexExists(ifindex: number): boolean;
  /** The ifindex of the link that has IPv4 address `addr` (network order bytes), or undefined. */
  ifindexOfAddress(addr: Uint8Array): number | undefined;
  /**
   * The link a route to `addr` (4 or 16 bytes) leaves by, undefined without a route: this
   * host's addresses go by `lo`; a multicast group or another host by the NIC, none when
   * there is only `lo`.
   */
  routeIfindex(addr: Uint8Array): number | undefined;
  /** SO_BINDTODEVICE's ifindex, 0 when none. */
  readonly boundDevIf: number;
}

/**
 * The IP-, IPv6- and UDP-level option values of one socket. Flags keyed by option number;
 * the rest named. IP_FREEBIND and IPV6_FREEBIND (likewise the TRANSPARENT pair) are one flag,
 * as Linux keeps them in inet_flags.
 */
export class IpOptions {
  private readonly ip = new Set<number>();
  private readonly ip6 = new Set<number>([Ipv6Option.IPV6_AUTOFLOWLABEL, Ipv6Option.IPV6_MULTICAST_ALL]);
  private readonly udp = new Set<number>();
  /** IP_OPTIONS as compiled (a multiple of 4 bytes, up to 40). */
  ipOptions: Uint8Array = new Uint8Array(0);
  /** IP_MTU_DISCOVER and IPV6_MTU_DISCOVER: IP_PMTUDISC_WANT unless ip_no_pmtu_disc is set. */
  pmtuDisc: number = PmtuDisc.WANT;
  pmtuDisc6: number = PmtuDisc.WANT;
  /** IP_MINTTL and IPV6_MINHOPCOUNT. */
  minTtl = 0;
  minHopCount = 0;
  /** IP_RECVFRAGSIZE / IP_RECVERR_RFC4884 / their IPv6 twins (0 or 1). */
  recvErrRfc4884 = 0;
  recvErrRfc4884v6 = 0;
  recvFragSize = 0;
  /** IP_MULTICAST_IF (the address as the int getsockopt returns, and its link), _TTL, _ALL. */
  mcastAddr = 0;
  mcastIndex = 0;
  mcastTtl = 1;
  mcastAll: number;
  /** IPV6_MULTICAST_IF, IPV6_MULTICAST_HOPS, IPV6_MULTICAST_LOOP. */
  mcastIf6 = 0;
  mcastHops6 = 1;
  mcastLoop6 = 1;
  /** IP_UNICAST_IF and IPV6_UNICAST_IF (ifindex, host order). */
  unicastIf = 0;
  unicastIf6 = 0;
  /** IP_LOCAL_PORT_RANGE: low port | high port << 16 (0: the sysctl's range). */
  localPortRange = 0;
  /** IPV6_MTU: the fragment size asked for (0: the path's). */
  frag6 = 0;
  /** IPV6_ADDR_PREFERENCES as Linux keeps them (srcprefs: TMP, PUBLIC, COA bits). */
  srcPrefs = 0;
  /** UDP_ENCAP and UDP_SEGMENT. */
  encap = 0;
  gsoSize = 0;

  constructor(family: 4 | 6) {
    // inet_create sets MC_ALL; inet6_create leaves it off.
    this.mcastAll = family === 4 ? 1 : 0;
  }

  /** Takes every value of `from` (a connection accepted from a listener gets the listener's). */
  inherit(from: IpOptions): void {
    for (const [mine, theirs] of [
      [this.ip, from.ip],
      [this.ip6, from.ip6],
      [this.udp, from.udp],
    ] as const) {
      mine.clear();
      for (const v of theirs) (mine as Set<unknown>).add(v);
    }
    this.ipOptions = from.ipOptions;
    this.pmtuDisc = from.pmtuDisc;
    this.pmtuDisc6 = from.pmtuDisc6;
    this.minTtl = from.minTtl;
    this.minHopCount = from.minHopCount;
    this.recvErrRfc4884 = from.recvErrRfc4884;
    this.recvErrRfc4884v6 = from.recvErrRfc4884v6;
    this.recvFragSize = from.recvFragSize;
    this.mcastAddr = from.mcastAddr;
    this.mcastIndex = from.mcastIndex;
    this.mcastTtl = from.mcastTtl;
    this.mcastAll = from.mcastAll;
    this.mcastIf6 = from.mcastIf6;
    this.mcastHops6 = from.mcastHops6;
    this.mcastLoop6 = from.mcastLoop6;
    this.unicastIf = from.unicastIf;
    this.unicastIf6 = from.unicastIf6;
    this.localPortRange = from.localPortRange;
    this.frag6 = from.frag6;
    this.srcPrefs = from.srcPrefs;
  }

  /** IP_FREEBIND or IP_TRANSPARENT (or their IPv6 names): bind may take an address not of this host. */
  get nonLocalBind(): boolean {
    return this.ip.has(IpOption.IP_FREEBIND) || this.ip.has(IpOption.IP_TRANSPARENT);
  }
  /** IP_BIND_ADDRESS_NO_PORT: bind(2) with port 0 leaves the port to connect(2). */
  get bindAddressNoPort(): boolean {
    return this.ip.has(IpOption.IP_BIND_ADDRESS_NO_PORT);
  }
  /** UDP_CORK. */
  get udpCork(): boolean {
    return this.udp.has(UdpOption.UDP_CORK);
  }
  /** UDP_NO_CHECK6_TX: IPv6 datagrams leave with a zero checksum. */
  get noCheck6Tx(): boolean {
    return this.udp.has(UdpOption.UDP_NO_CHECK6_TX);
  }
  /** Whether the socket joined group `group` (4 or 16 bytes) on link `ifindex`. */
  isMember(group: Uint8Array, ifindex: number): boolean {
    if (group.length === 4) {
      const g = new DataView(group.buffer, group.byteOffset, 4).getInt32(0, true);
      return this.groups.some((m) => m.group === g && m.index === ifindex);
    }
    return this.groups6.has(`${hex(group)}/${ifindex}`);
  }

  /** IP_MULTICAST_ALL (for IPv4 groups) or IPV6_MULTICAST_ALL (IPv6). */
  multicastAll(v: 4 | 6): boolean {
    return v === 4 ? this.mcastAll === 1 : this.ip6.has(Ipv6Option.IPV6_MULTICAST_ALL);
  }

  /** UDP_NO_CHECK6_RX: IPv6 datagrams with checksum 0 are taken. */
  get noCheck6Rx(): boolean {
    return this.udp.has(UdpOption.UDP_NO_CHECK6_RX);
  }
  /** IP_RECVERR (`v` 4: errors from ICMP) or IPV6_RECVERR (6: from ICMPv6). */
  recvErr(v: 4 | 6): boolean {
    return v === 4 ? this.ip.has(IpOption.IP_RECVERR) : this.ip6.has(Ipv6Option.IPV6_RECVERR);
  }
  /** UDP_GRO. */
  get udpGro(): boolean {
    return this.udp.has(UdpOption.UDP_GRO);
  }
  /**
   * A datagram of IP version `v` may not be fragmented, so one above the path MTU is EMSGSIZE:
   * IPv4 with IP_PMTUDISC_DO/PROBE/INTERFACE (ip_sk_ignore_df false), IPv6 with
   * IPV6_PMTUDISC_DO/PROBE/INTERFACE or IPV6_DONTFRAG.
   */
  dontFragment(v: 4 | 6): boolean {
    const keepsDf = (p: number): boolean => p >= PmtuDisc.DO && p !== PmtuDisc.OMIT;
    if (v === 4) return keepsDf(this.pmtuDisc);
    return keepsDf(this.pmtuDisc6) || this.ip6.has(Ipv6Option.IPV6_DONTFRAG);
  }

  /**
   * getsockopt(2) of an option kept here, as bytes (IP_OPTIONS, IPV6_PATHMTU, the sticky
   * IPv6 headers) or an int; undefined for an option this module does not know, which the
   * caller answers itself.
   */
  get(
    s: IpOptionSocket,
    level: number,
    name: number,
    optlen = 4,
  ): number | Uint8Array | LinuxError | undefined {
    if (name === SO_ORIGINAL_DST && (level === SOL_IP || (level === SOL_IPV6 && s.family === 6))) {
      // getorigdst / ipv6_getorigdst: TCP only; no connection here was redirected by NAT.
      if (!s.stream) return E.ENOPROTOOPT;
      return optlen < (level === SOL_IP ? 16 : 28) ? E.EINVAL : E.ENOENT;
    }
    if (level === SOL_IP) return this.getIp(s, name);
    if (level === SOL_IPV6 && s.family === 6) return this.getIp6(s, name);
    if (level === SOL_UDP && !s.stream) return this.getUdp(name);
    return undefined;
  }

  private getIp(s: IpOptionSocket, name: number): number | Uint8Array | LinuxError | undefined {
    if (IP_FLAGS.includes(name)) {
      if (name === IpOption.IP_MULTICAST_LOOP) return this.ip.has(name) ? 0 : 1; // kept inverted: on by default
      return this.ip.has(name) ? 1 : 0;
    }
    const ranged = IP_RANGED.get(name);
    if (ranged) return this[ranged[0]];
    switch (name) {
      case IpOption.IP_HDRINCL:
      case IpOption.IP_ROUTER_ALERT:
      case IpOption.IP_NODEFRAG:
        return 0; // raw sockets' options: never set on TCP or UDP
      case IpOption.IP_OPTIONS:
        return this.ipOptions;
      case IpOption.IP_PKTOPTIONS:
        // do_ip_getsockopt: TCP only (the options of the last segment: none kept).
        return s.stream ? new Uint8Array(0) : E.ENOPROTOOPT;
      case IpOption.IP_MTU: {
        const p = s.connectedPath();
        if (!p || p.mtu === 0) return E.ENOTCONN;
        return p.peer.length === 4 ? Math.min(p.mtu, 0xffff) : p.mtu; // ipv4_mtu caps at IP_MAX_MTU
      }
      case IpOption.IP_RECVFRAGSIZE:
        return this.recvFragSize;
      case IpOption.IP_MULTICAST_IF:
        return this.mcastAddr;
      case IpOption.IP_MULTICAST_TTL:
        return this.mcastTtl;
      case IpOption.IP_UNICAST_IF:
        return htonl(this.unicastIf);
      case IpOption.IP_LOCAL_PORT_RANGE:
        return this.localPortRange | 0;
      case IpOption.IP_PROTOCOL:
        return s.localPort; // inet_num: the bound port of a TCP or UDP socket
      default:
        return isMroute(name) ? E.EOPNOTSUPP : undefined;
    }
  }

  private getIp6(s: IpOptionSocket, name: number): number | Uint8Array | LinuxError | undefined {
    if (IP6_FLAGS.includes(name)) return this.ip6.has(name) ? 1 : 0;
    if (IP6_STICKY.includes(name)) return new Uint8Array(0);
    const ranged = IP6_RANGED.get(name);
    if (ranged) return this[ranged[0]];
    switch (name) {
      case Ipv6Option.IPV6_2292PKTOPTIONS:
        // TCP only, as IP_PKTOPTIONS: the options of the last segment, none kept.
        return s.stream ? new Uint8Array(0) : E.ENOPROTOOPT;
      case Ipv6Option.IPV6_ADDRFORM:
        return s.connectedPath() ? 10 : E.ENOTCONN; // sk_family: AF_INET6
      case Ipv6Option.IPV6_MULTICAST_IF:
        return this.mcastIf6;
      case Ipv6Option.IPV6_MULTICAST_HOPS:
        return this.mcastHops6;
      case Ipv6Option.IPV6_ROUTER_ALERT:
        return 0;
      case Ipv6Option.IPV6_MTU: {
        const p = s.connectedPath();
        return p && p.mtu !== 0 ? p.mtu : E.ENOTCONN;
      }
      case Ipv6Option.IPV6_PATHMTU: {
        const p = s.connectedPath();
        if (!p || p.mtu === 0) return E.ENOTCONN;
        // struct ip6_mtuinfo: Linux fills in the MTU only, the sockaddr_in6 stays zero.
        const b = new Uint8Array(32);
        new DataView(b.buffer).setUint32(28, p.mtu, true);
        return b;
      }
      case Ipv6Option.IPV6_ADDR_PREFERENCES: {
        let v = 0;
        if (this.srcPrefs & PREFER_TMP) v |= PREFER_TMP;
        else if (this.srcPrefs & PREFER_PUBLIC) v |= PREFER_PUBLIC;
        else v |= PREFER_PUBTMP_DEFAULT;
        v |= this.srcPrefs & PREFER_COA ? PREFER_COA : PREFER_HOME;
        return v;
      }
      case Ipv6Option.IPV6_TRANSPARENT:
        return this.ip.has(IpOption.IP_TRANSPARENT) ? 1 : 0;
      case Ipv6Option.IPV6_FREEBIND:
        return this.ip.has(IpOption.IP_FREEBIND) ? 1 : 0;
      case Ipv6Option.IPV6_UNICAST_IF:
        return htonl(this.unicastIf6);
      default:
        return undefined;
    }
  }

  private getUdp(name: number): number | undefined {
    if (UDP_FLAGS.includes(name)) return this.udp.has(name) ? 1 : 0;
    if (name === UdpOption.UDP_ENCAP) return this.encap;
    if (name === UdpOption.UDP_SEGMENT) return this.gsoSize;
    return undefined;
  }

  /**
   * setsockopt(2) of an option kept here: `value` is the int at the start of `bytes` (0 when
   * shorter). Undefined for an option this module does not know.
   */
  set(
    s: IpOptionSocket,
    level: number,
    name: number,
    value: number,
    bytes: Uint8Array,
  ): 0 | LinuxError | undefined {
    if (level === SOL_IP) return this.setIp(s, name, value, bytes);
    if (level === SOL_IPV6 && s.family === 6) return this.setIp6(s, name, value, bytes);
    if (level === SOL_UDP && !s.stream) return this.setUdp(name, value);
    return undefined;
  }

  private setIp(
    s: IpOptionSocket,
    name: number,
    value: number,
    bytes: Uint8Array,
  ): 0 | LinuxError | undefined {
    const flag = value !== 0;
    if (IP_FLAGS.includes(name)) {
      // IP_MULTICAST_LOOP is kept inverted (see getIp).
      setFlag(this.ip, name, name === IpOption.IP_MULTICAST_LOOP ? !flag : flag);
      return 0;
    }
    const ranged = IP_RANGED.get(name);
    if (ranged) return this.setRanged(ranged, value);
    switch (name) {
      case IpOption.IP_HDRINCL:
      case IpOption.IP_NODEFRAG:
      case IpOption.IP_PKTOPTIONS:
      case IpOption.IP_MTU:
      case IpOption.IP_PROTOCOL:
        return E.ENOPROTOOPT;
      case IpOption.IP_ROUTER_ALERT:
        return E.EINVAL; // ip_ra_control: raw sockets only
      case IpOption.IP_OPTIONS: {
        const opts = compileIpOptions(bytes);
        if (isErr(opts)) return opts;
        this.ipOptions = opts;
        return 0;
      }
      case IpOption.IP_RECVFRAGSIZE:
        if (s.stream) return E.EINVAL; // raw and datagram sockets only
        this.recvFragSize = flag ? 1 : 0;
        return 0;
      case IpOption.IP_MULTICAST_TTL: {
        if (s.stream) return E.EINVAL;
        const ttl = multicastHops(value);
        if (isError(ttl)) return ttl;
        this.mcastTtl = ttl;
        return 0;
      }
      case IpOption.IP_MULTICAST_IF:
        return this.setMulticastIf(s, bytes);
      case IpOption.IP_UNICAST_IF: {
        const index = unicastIfIndex(s, value);
        if (isError(index)) return index;
        this.unicastIf = index;
        return 0;
      }
      case IpOption.IP_LOCAL_PORT_RANGE: {
        const lo = value & 0xffff;
        const hi = (value >>> 16) & 0xffff;
        if (lo !== 0 && hi !== 0 && lo > hi) return E.EINVAL;
        this.localPortRange = value >>> 0;
        return 0;
      }
      case IpOption.IP_ADD_MEMBERSHIP:
      case IpOption.IP_DROP_MEMBERSHIP:
        return this.setMembership(s, name === IpOption.IP_ADD_MEMBERSHIP, bytes);
      default: {
        if (isMroute(name)) return E.EOPNOTSUPP;
        // Source filters and the protocol-independent requests are not kept: only a value
        // shorter than their struct has its errno (EINVAL); a whole one is ENOPROTOOPT.
        const size = SOURCE_FILTER_SIZES.get(name);
        if (size === undefined) return undefined;
        const exact = name >= IpOption.IP_UNBLOCK_SOURCE && name <= IpOption.IP_DROP_SOURCE_MEMBERSHIP;
        return (exact ? bytes.length !== size : bytes.length < size) ? E.EINVAL : undefined;
      }
    }
  }

  /** Sets an option kept as it is given: EINVAL outside its range. */
  private setRanged([field, lo, hi]: RangedOption, value: number): 0 | LinuxError {
    if (!inRange(value, lo, hi)) return E.EINVAL;
    this[field] = value;
    return 0;
  }

  /** Groups joined with IP_ADD_MEMBERSHIP: group and local address (as read, ints) and link. */
  private readonly groups: { group: number; index: number; local: number }[] = [];

  /**
   * IP_ADD_MEMBERSHIP / IP_DROP_MEMBERSHIP with an ip_mreq or ip_mreqn (ip_mc_join_group,
   * ip_mc_leave_group): EPROTO on TCP, EINVAL when short or not a multicast group, ENODEV
   * without a link for it, EADDRINUSE joining twice, EADDRNOTAVAIL leaving a group not joined,
   * ENOBUFS past igmp_max_memberships (20). The membership is kept; no link here delivers
   * multicast, so it changes no delivery.
   */
  private setMembership(s: IpOptionSocket, join: boolean, bytes: Uint8Array): 0 | LinuxError {
    if (s.stream) return E.EPROTO;
    if (bytes.length < 8) return E.EINVAL;
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const group = dv.getInt32(0, true);
    const local = dv.getInt32(4, true);
    let index = bytes.length >= 12 ? dv.getInt32(8, true) : 0;
    if (join && (bytes[0]! & 0xf0) !== 0xe0) return E.EINVAL; // ipv4_is_multicast
    // ip_mc_find_dev: the link by index, else by local address, else by the route to the group.
    let found: number | undefined;
    if (index !== 0) found = s.ifindexExists(index) ? index : undefined;
    else if (local !== 0) found = s.ifindexOfAddress(bytes.subarray(4, 8));
    else found = s.routeIfindex(bytes.subarray(0, 4));
    if (index === 0 && found !== undefined) index = found;
    if (!join) {
      // ip_mc_leave_group: ENODEV only when nothing named a link and no route found one.
      if (index === 0 && local === 0 && found === undefined) return E.ENODEV;
      const i = this.groups.findIndex(
        (m) => m.group === group && (index !== 0 ? m.index === index : local === 0 || m.local === local),
      );
      if (i < 0) return E.EADDRNOTAVAIL;
      this.groups.splice(i, 1);
      return 0;
    }
    if (found === undefined) return E.ENODEV;
    if (this.groups.some((m) => m.group === group && m.index === index)) return E.EADDRINUSE;
    if (this.groups.length >= IGMP_MAX_MEMBERSHIPS) return E.ENOBUFS;
    this.groups.push({ group, index, local });
    return 0;
  }

  /**
   * IP_MULTICAST_IF: an in_addr, an ip_mreq or an ip_mreqn. The any address clears it; else
   * the link is the one with that index, or with that address (EADDRNOTAVAIL when none).
   */
  private setMulticastIf(s: IpOptionSocket, bytes: Uint8Array): 0 | LinuxError {
    if (s.stream) return E.EINVAL;
    if (bytes.length < 4) return E.EINVAL;
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let addr: Uint8Array;
    let index = 0;
    if (bytes.length >= 12) {
      addr = bytes.subarray(4, 8);
      index = dv.getInt32(8, true);
    } else if (bytes.length >= 8) addr = bytes.subarray(4, 8);
    else addr = bytes.subarray(0, 4);
    const addrInt = new DataView(addr.buffer, addr.byteOffset, 4).getInt32(0, true);
    if (index === 0) {
      if (addrInt === 0) {
        this.mcastIndex = 0;
        this.mcastAddr = 0;
        return 0;
      }
      const found = s.ifindexOfAddress(addr);
      if (found === undefined) return E.EADDRNOTAVAIL;
      index = found;
    } else if (!s.ifindexExists(index)) return E.EADDRNOTAVAIL;
    if (s.boundDevIf !== 0 && index !== s.boundDevIf) return E.EINVAL;
    this.mcastIndex = index;
    this.mcastAddr = addrInt;
    return 0;
  }

  private setIp6(
    s: IpOptionSocket,
    name: number,
    value: number,
    bytes: Uint8Array,
  ): 0 | LinuxError | undefined {
    const flag = value !== 0;
    if (IP6_FLAGS.includes(name)) {
      setFlag(this.ip6, name, flag);
      return 0;
    }
    if (IP6_STICKY.includes(name)) return E.EINVAL; // an int is no extension header
    const ranged = IP6_RANGED.get(name);
    if (ranged) return this.setRanged(ranged, value);
    switch (name) {
      case Ipv6Option.IPV6_MULTICAST_IF:
        if (s.stream) return E.ENOPROTOOPT;
        if (s.boundDevIf !== 0 && value !== 0 && value !== s.boundDevIf) return E.EINVAL;
        if (value !== 0 && !s.ifindexExists(value)) return E.ENODEV;
        this.mcastIf6 = value;
        return 0;
      case Ipv6Option.IPV6_MULTICAST_HOPS: {
        if (s.stream) return E.ENOPROTOOPT;
        const hops = multicastHops(value);
        if (isError(hops)) return hops;
        this.mcastHops6 = hops;
        return 0;
      }
      case Ipv6Option.IPV6_ROUTER_ALERT:
      case Ipv6Option.IPV6_PATHMTU:
        return E.ENOPROTOOPT; // ip6_ra_control: raw sockets only; PATHMTU is read-only
      case Ipv6Option.IPV6_MTU:
        if (value !== 0 && value < 1280) return E.EINVAL; // IPV6_MIN_MTU
        this.frag6 = value;
        return 0;
      case Ipv6Option.IPV6_ADDR_PREFERENCES:
        return this.setAddrPreferences(value);
      case Ipv6Option.IPV6_TRANSPARENT:
      case Ipv6Option.IPV6_FREEBIND: {
        setFlag(
          this.ip,
          name === Ipv6Option.IPV6_FREEBIND ? IpOption.IP_FREEBIND : IpOption.IP_TRANSPARENT,
          flag,
        );
        return 0;
      }
      case Ipv6Option.IPV6_ADD_MEMBERSHIP:
      case Ipv6Option.IPV6_DROP_MEMBERSHIP:
        return this.setMembership6(s, name === Ipv6Option.IPV6_ADD_MEMBERSHIP, bytes);
      case Ipv6Option.IPV6_UNICAST_IF: {
        const index = unicastIfIndex(s, value);
        if (isError(index)) return index;
        this.unicastIf6 = index;
        return 0;
      }
      default:
        return undefined;
    }
  }

  /** Groups joined with IPV6_JOIN_GROUP, as "group hex/ifindex". */
  private readonly groups6 = new Set<string>();

  /**
   * IPV6_JOIN_GROUP / IPV6_LEAVE_GROUP with a struct ipv6_mreq (ipv6_sock_mc_join/drop): EINVAL
   * when short (before TCP's EPROTO) or not a multicast group, ENODEV without a link,
   * EADDRINUSE joining twice, EADDRNOTAVAIL leaving a group not joined. Kept, with no effect on
   * delivery (see setMembership).
   */
  private setMembership6(s: IpOptionSocket, join: boolean, bytes: Uint8Array): 0 | LinuxError {
    if (bytes.length < 20) return E.EINVAL;
    if (s.stream) return E.EPROTO;
    const group = bytes.subarray(0, 16);
    let index = new DataView(bytes.buffer, bytes.byteOffset, 20).getInt32(16, true);
    const g = hex(group);
    if (!join) {
      const key = index === 0 ? [...this.groups6].find((k) => k.startsWith(`${g}/`)) : `${g}/${index}`;
      if (key === undefined || !this.groups6.delete(key)) return E.EADDRNOTAVAIL;
      return 0;
    }
    if (group[0] !== 0xff) return E.EINVAL; // ipv6_addr_is_multicast
    if (index === 0) {
      const found = s.routeIfindex(group);
      if (found === undefined) return E.ENODEV;
      index = found;
    } else if (!s.ifindexExists(index)) return E.ENODEV;
    const key = `${g}/${index}`;
    if (this.groups6.has(key)) return E.EADDRINUSE;
    this.groups6.add(key);
    return 0;
  }

  /** __ip6_sock_set_addr_preferences: one of PUBLIC/TMP/PUBTMP_DEFAULT, of HOME/COA, of CGA/NONCGA. */
  private setAddrPreferences(val: number): 0 | LinuxError {
    let pref = 0;
    let mask = ~0;
    switch (val & (PREFER_PUBLIC | PREFER_TMP | PREFER_PUBTMP_DEFAULT)) {
      case PREFER_PUBLIC:
        pref |= PREFER_PUBLIC;
        mask &= ~(PREFER_PUBLIC | PREFER_TMP);
        break;
      case PREFER_TMP:
        pref |= PREFER_TMP;
        mask &= ~(PREFER_PUBLIC | PREFER_TMP);
        break;
      case PREFER_PUBTMP_DEFAULT:
        mask &= ~(PREFER_PUBLIC | PREFER_TMP);
        break;
      case 0:
        break;
      default:
        return E.EINVAL;
    }
    switch (val & (PREFER_HOME | PREFER_COA)) {
      case PREFER_HOME:
        mask &= ~PREFER_COA;
        break;
      case PREFER_COA:
        pref |= PREFER_COA;
        break;
      case 0:
        break;
      default:
        return E.EINVAL;
    }
    if ((val & (PREFER_CGA | PREFER_NONCGA)) === (PREFER_CGA | PREFER_NONCGA)) return E.EINVAL;
    this.srcPrefs = ((this.srcPrefs & mask) | pref) & 7; // a 3-bit field
    return 0;
  }

  private setUdp(name: number, value: number): 0 | LinuxError | undefined {
    if (UDP_FLAGS.includes(name)) {
      setFlag(this.udp, name, value !== 0);
      return 0;
    }
    if (name === UdpOption.UDP_ENCAP) {
      if (!UDP_ENCAP_TYPES.has(value)) return E.ENOPROTOOPT;
      this.encap = value;
      return 0;
    }
    if (name === UdpOption.UDP_SEGMENT) {
      if (value < 0 || value > 0xffff) return E.EINVAL;
      this.gsoSize = value;
      return 0;
    }
    return undefined;
  }

  /**
   * How many bytes of setsockopt's value an option of this module reads: IP_OPTIONS up to 40
   * (41 to see that more is EINVAL), IP_MULTICAST_IF and the IPv4 memberships a struct
   * ip_mreqn, the IPv6 ones a struct ipv6_mreq, IP_UNICAST_IF and IP_LOCAL_PORT_RANGE 8 (to
   * see that their length is not exactly an int's); else an int.
   */
  static valueLength(level: number, name: number): number {
    if (level === SOL_IPV6)
      return name === Ipv6Option.IPV6_ADD_MEMBERSHIP || name === Ipv6Option.IPV6_DROP_MEMBERSHIP ? 20 : 4;
    if (level !== SOL_IP) return 4;
    switch (name) {
      case IpOption.IP_OPTIONS:
        return MAX_IPOPTLEN + 1;
      case IpOption.IP_MULTICAST_IF:
      case IpOption.IP_ADD_MEMBERSHIP:
      case IpOption.IP_DROP_MEMBERSHIP:
        return 12;
      case IpOption.IP_UNICAST_IF:
      case IpOption.IP_LOCAL_PORT_RANGE:
        return 8;
      default: {
        // One byte more than a struct with an exact size, to see a longer value.
        const size = SOURCE_FILTER_SIZES.get(name);
        return size === undefined ? 4 : size + 1;
      }
    }
  }

  /**
   * The shortest setsockopt(2) value an option takes before its own checks: SOL_IP's int
   * options read a lone byte, or nothing (then 0), as do_ip_setsockopt; everything else needs
   * an int (EINVAL).
   */
  static minValueLength(level: number, name: number): number {
    return level === SOL_IP && (IP_BYTE_OPTIONS.has(name) || name === IpOption.IP_OPTIONS) ? 0 : 4;
  }

  /**
   * Whether getsockopt(2) of a SOL_IP int option into `optlen` (1 to 3) bytes answers the one
   * byte `value` fits in (do_ip_getsockopt), rather than the int cut to `optlen`.
   */
  static answersByte(level: number, name: number, optlen: number, value: number): boolean {
    return (
      level === SOL_IP &&
      name !== IpOption.IP_MULTICAST_IF && // an in_addr, cut to optlen
      optlen > 0 &&
      optlen < 4 &&
      value >= 0 &&
      value <= 255
    );
  }

  /**
   * Whether getsockopt(2) at `level` of a socket of `family` reads a negative `*optlen` as the
   * large unsigned length it also is, rather than failing with EINVAL: the SOL_IPV6 options of
   * an AF_INET6 socket (TCP, UDP, raw, ping). do_ipv6_getsockopt never tests `len < 0`: an int
   * option cuts the length with min_t(unsigned int, ...), so the whole int is copied and
   * `*optlen` comes back 4; IPV6_PATHMTU compares it with a sizeof; the sticky headers and
   * IPV6_2292PKTOPTIONS copy no more than they hold. do_ip_getsockopt (SOL_IP, also of an
   * AF_INET6 socket), do_tcp_getsockopt, udp_lib_getsockopt and sk_getsockopt test it first.
   *
   * @example
   * ```ts
   * IpOptions.takesUnsignedOptlen(6, SocketLevel.SOL_IPV6); // true: IPV6_UNICAST_HOPS gives 4 bytes
   * IpOptions.takesUnsignedOptlen(6, SocketLevel.SOL_IP); // false: IP_TTL is EINVAL
   * ```
   */
  static takesUnsignedOptlen(family: 4 | 6, level: number): boolean {
    return family === 6 && level === SOL_IPV6;
  }

  /**
   * The errno of getsockopt(2) with a negative `*optlen` at `level` when the socket's own
   * protocol does not take that level (the caller answers SOL_SOCKET and the protocol levels):
   * what ip_getsockopt or ipv6_getsockopt say before they read the length. An AF_INET socket's
   * do_ip_getsockopt refuses any level but SOL_IP with EOPNOTSUPP; an AF_INET6 socket's
   * ipv6_getsockopt hands SOL_IP of a socket that is not raw to ip_getsockopt and refuses any
   * other level but SOL_IPV6 with ENOPROTOOPT. At SOL_IP the multicast routing options go to
   * ip_mroute_getsockopt, EOPNOTSUPP but for a raw IGMP socket (which netstack does not route
   * for); every other SOL_IP name reaches the length test: EINVAL. Not for what
   * {@link takesUnsignedOptlen} takes.
   *
   * @example
   * ```ts
   * IpOptions.negativeOptlenError(4, false, SocketLevel.SOL_IPV6, 16); // EOPNOTSUPP
   * IpOptions.negativeOptlenError(6, true, SocketLevel.SOL_IP, IpOption.IP_TTL); // ENOPROTOOPT
   * IpOptions.negativeOptlenError(6, false, SocketLevel.SOL_IP, IpOption.IP_TTL); // EINVAL
   * ```
   */
  static negativeOptlenError(family: 4 | 6, raw: boolean, level: number, name: number): LinuxError {
    if (level === SOL_IP && (family === 4 || !raw)) return isMroute(name) ? E.EOPNOTSUPP : E.EINVAL;
    return family === 4 ? E.EOPNOTSUPP : E.ENOPROTOOPT;
  }

  /**
   * Whether a setsockopt(2) needs CAP_NET_RAW or CAP_NET_ADMIN: IP_TRANSPARENT (its int or
   * byte) or IPV6_TRANSPARENT (an int) set to non-zero. Linux checks before the value's length
   * (IPv4) and after it (IPv6: a short value is EINVAL first, which the caller's length check
   * already answered).
   */
  static needsNetAdmin(level: number, name: number, value: Uint8Array): boolean {
    const on = (): boolean =>
      value.subarray(0, level === SOL_IP && value.length < 4 ? 1 : 4).some((b) => b !== 0);
    if (level === SOL_IP && name === IpOption.IP_TRANSPARENT) return on();
    return level === SOL_IPV6 && name === Ipv6Option.IPV6_TRANSPARENT && value.length >= 4 && on();
  }

  /**
   * The int a SOL_IP int option's value stands for (do_ip_setsockopt): an int when there are 4
   * bytes or more, else the byte, else 0; EINVAL for the lengths an option refuses (IP_TTL,
   * IP_FREEBIND and others need a byte, IP_UNICAST_IF and IP_LOCAL_PORT_RANGE exactly an int).
   * Undefined for an option that is not one of them.
   */
  static byteOptionValue(level: number, name: number, bytes: Uint8Array): number | LinuxError | undefined {
    if (level !== SOL_IP || !IP_BYTE_OPTIONS.has(name)) return undefined;
    if ((name === IpOption.IP_UNICAST_IF || name === IpOption.IP_LOCAL_PORT_RANGE) && bytes.length !== 4)
      return E.EINVAL;
    if (bytes.length < 1 && IP_NEED_BYTE.has(name)) return E.EINVAL;
    if (bytes.length >= 4) return new DataView(bytes.buffer, bytes.byteOffset, 4).getInt32(0, true);
    return bytes.length >= 1 ? bytes[0]! : 0;
  }
}

/**
 * ip_options_get for a socket: the bytes are padded with EOL to a multiple of 4; after an EOL
 * the rest reads as zeros; every other option than NOP must have a length byte of at least 2
 * that stays within the buffer (EINVAL otherwise). Up to 40 bytes; longer is EINVAL.
 */
export function compileIpOptions(raw: Uint8Array): Uint8Array | LinuxError {
  if (raw.length > MAX_IPOPTLEN) return E.EINVAL;
  const out = new Uint8Array((raw.length + 3) & ~3);
  out.set(raw);
  for (let i = 0; i < out.length;) {
    const type = out[i]!;
    if (type === 0) {
      out.fill(0, i);
      break;
    }
    if (type === 1) {
      i++;
      continue;
    }
    const left = out.length - i;
    if (left < 2) return E.EINVAL;
    const len = out[i + 1]!;
    if (len < 2 || len > left) return E.EINVAL;
    i += len;
  }
  return out;
}

/** Keeps flag option `name` in `set` when `on`, else drops it. */
function setFlag(set: Set<number>, name: number, on: boolean): void {
  if (on) set.add(name);
  else set.delete(name);
}

function inRange(value: number, lo: number, hi: number): boolean {
  return value >= lo && value <= hi;
}

/**
 * IP_UNICAST_IF and IPV6_UNICAST_IF (ip_sock_set_unicast_if, ipv6's twin): the ifindex the
 * value names as a big-endian u32, 0 to clear; EADDRNOTAVAIL without that link, EINVAL when
 * SO_BINDTODEVICE binds the socket to another.
 */
function unicastIfIndex(s: IpOptionSocket, value: number): number | LinuxError {
  const index = ntohl(value);
  if (index === 0) return 0;
  if (index < 0 || !s.ifindexExists(index)) return E.EADDRNOTAVAIL;
  if (s.boundDevIf !== 0 && index !== s.boundDevIf) return E.EINVAL;
  return index;
}

/** IP_MULTICAST_TTL and IPV6_MULTICAST_HOPS: 0 to 255, or -1 for the default, 1. */
function multicastHops(value: number): number | LinuxError {
  const v = value === -1 ? 1 : value;
  return inRange(v, 0, 255) ? v : E.EINVAL;
}

function isErr(v: Uint8Array | LinuxError): v is LinuxError {
  return !(v instanceof Uint8Array);
}

/** An address as hex digits (the key of an IPv6 membership). */
function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** The int a big-endian u32 in memory reads as on x86-64, and back. */
function ntohl(v: number): number {
  return ((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | ((v >>> 24) & 0xff) | 0;
}
const htonl = ntohl;

/**
 * The UDP_SEGMENT control message of a sendmsg (udp_cmsg_send): its u16 segment size, EINVAL
 * when its length is not a u16's or for another SOL_UDP message; undefined without one.
 */
export function udpSegmentControl(
  control:
    readonly { readonly level: number; readonly type: number; readonly data: Uint8Array }[] | undefined,
): number | LinuxError | undefined {
  let gso: number | undefined;
  for (const m of control ?? []) {
    if (m.level !== SOL_UDP) continue;
    if (m.type !== UdpOption.UDP_SEGMENT || m.data.length !== 2) return E.EINVAL;
    gso = m.data[0]! | (m.data[1]! << 8);
  }
  return gso;
}
