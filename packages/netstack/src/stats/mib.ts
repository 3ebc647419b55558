/**
 * The SNMP MIB counters of one stack: what Linux shows in /proc/net/snmp, /proc/net/netstat and
 * /proc/net/snmp6 for a network namespace. Each group is a plain object of number fields named
 * exactly as Linux names the counter, so the hot paths pay one property increment per event
 * (no maps, no strings) and {@link NetMib.snapshot} can list a group without a translation table.
 *
 * The counters are incremented where Linux increments them (ip_rcv_core, ip_local_deliver_finish,
 * ip_finish_output2, icmp_rcv/icmp_out_count, tcp_v4_rcv, tcp_set_state, __tcp_transmit_skb,
 * tcp_rcv_established, tcp_ack, __udp4_lib_rcv, udp_recvmsg, udp_send_skb and their IPv6 twins);
 * a counter whose event netstack never has stays 0, as it does on Linux when the event never
 * happens.
 *
 * @module
 */

/**
 * One IP layer's counters: the `Ip` group of /proc/net/snmp (with `IpExt` of /proc/net/netstat)
 * for IPv4, the `Ip6` lines of /proc/net/snmp6 for IPv6. Both versions share the class, so code
 * that picks `mib.ip` or `mib.ip6` per packet stays monomorphic.
 */
export class IpMib {
  /** Every datagram received from a device or looped back, before any check. */
  InReceives = 0;
  /** Bad version or header length, checksum failures (IPv4). */
  InHdrErrors = 0;
  /** Not for one of our addresses (netstack does not forward, as Linux with forwarding off). */
  InAddrErrors = 0;
  /** No transport for the protocol number. */
  InUnknownProtos = 0;
  /** Shorter than its IP header claims (IpExt InTruncatedPkts, Ip6InTruncatedPkts). */
  InTruncatedPkts = 0;
  /** IPv4 header checksum failures (IpExt InCsumErrors). */
  InCsumErrors = 0;
  /** Handed to a transport protocol (ICMP, UDP, UDP-Lite, TCP). */
  InDelivers = 0;
  /** Datagrams the transports asked to send (one per datagram, before fragmentation). */
  OutRequests = 0;
  /**
   * Datagrams a sender's call failed to send after building them: an IP_HDRINCL or
   * IPV6_HDRINCL datagram refused on the way out (raw_send_hdrinc, rawv6_send_hdrinc).
   */
  OutDiscards = 0;
  /** Datagrams dropped for want of a route. */
  OutNoRoutes = 0;
  /** Fragments received for reassembly. */
  ReasmReqds = 0;
  /** Datagrams fragmented. */
  FragOKs = 0;
  /** Datagrams too large for the MTU that were not fragmented (ip_fragment, ip6_fragment). */
  FragFails = 0;
  /** Fragments made by fragmenting. */
  FragCreates = 0;
  /** Packets handed to the device (each fragment counts). */
  OutTransmits = 0;
  /** Multicast datagrams received (IpExt InMcastPkts, Ip6InMcastPkts). */
  InMcastPkts = 0;
  /** Multicast datagrams sent (IpExt OutMcastPkts, Ip6OutMcastPkts). */
  OutMcastPkts = 0;
  /**
   * Bytes of the datagrams counted in {@link InReceives}, IP header included, before any check
   * (ip_rcv_core / ipv6_rcv add skb->len there). IpExt InOctets, Ip6InOctets.
   */
  InOctets = 0;
  /** Bytes of the packets counted in {@link OutTransmits}, IP header included. */
  OutOctets = 0;
  /**
   * Received datagrams by the ECN field of their header (not-ECT, ECT(1), ECT(0), CE), counted
   * once the version and header length are known good, as ip_rcv_core / ipv6_rcv do. netstack
   * neither segments nor coalesces, so each is one packet (Linux adds gso_segs).
   */
  InNoECTPkts = 0;
  /** See {@link InNoECTPkts}. */
  InECT1Pkts = 0;
  /** See {@link InNoECTPkts}. */
  InECT0Pkts = 0;
  /** See {@link InNoECTPkts}. */
  InCEPkts = 0;
}

/**
 * One ICMP layer's counters: `Icmp` and `IcmpMsg` of /proc/net/snmp, or the `Icmp6` lines of
 * /proc/net/snmp6. The per-type counts are kept by type number, as Linux's icmpmsg statistics;
 * the named counters (InEchos, OutDestUnreachs...) are read from them.
 */
export class IcmpMib {
  /** Messages received (also those then found bad). */
  InMsgs = 0;
  /** Messages received that were bad: short, bad checksum, an echo to a broadcast address. */
  InErrors = 0;
  /** Messages received with a bad checksum. */
  InCsumErrors = 0;
  /** Messages sent, by the stack (echo replies, errors, neighbor discovery) or by ping sockets. */
  OutMsgs = 0;
  /**
   * Messages the global limit held back (icmp_global_allow said no). Only the IPv4 group's
   * counts, for ICMPv6 as well: the bucket is the namespace's (Icmp OutRateLimitGlobal).
   */
  OutRateLimitGlobal = 0;
  /** Messages a destination's limit held back (inet_peer_xrlim_allow said no). */
  OutRateLimitHost = 0;
  /** Messages received, by type. */
  readonly inType = new Float64Array(256);
  /** Messages sent, by type. */
  readonly outType = new Float64Array(256);
}

/** The `Tcp` group of /proc/net/snmp (shared by IPv4 and IPv6, as on Linux). */
export class TcpMib {
  /** connect(2) sent a SYN (CLOSED -> SYN_SENT). */
  ActiveOpens = 0;
  /** A passive open completed its handshake (SYN_RECEIVED -> ESTABLISHED). */
  PassiveOpens = 0;
  /** A connection attempt failed: a RST or a timeout in SYN_SENT or SYN_RECEIVED (tcp_done). */
  AttemptFails = 0;
  /** ESTABLISHED or CLOSE_WAIT straight to CLOSED (a RST sent or received, a timeout). */
  EstabResets = 0;
  /** A gauge: connections in ESTABLISHED or CLOSE_WAIT now. */
  CurrEstab = 0;
  /** Segments received, bad ones included. */
  InSegs = 0;
  /** Segments sent, except those that resend sequence space already sent. */
  OutSegs = 0;
  /** Segments that resent sequence space already sent. */
  RetransSegs = 0;
  /** Segments received that were bad (checksum, header length). */
  InErrs = 0;
  /** Segments sent with RST. */
  OutRsts = 0;
  /** Segments received with a bad checksum. */
  InCsumErrors = 0;
}

/** The `TcpExt` counters of /proc/net/netstat that netstack has the mechanism for. */
export class TcpExtMib {
  /** SYN-ACKs sent with a SYN cookie (cookie_init_sequence). */
  SyncookiesSent = 0;
  /** ACKs to a listener that carried a valid SYN cookie. */
  SyncookiesRecv = 0;
  /** ACKs to a listener, while its cookies are recent, whose cookie did not check out. */
  SyncookiesFailed = 0;
  /** A connection still in its handshake (a listener's embryo) was reset by the peer. */
  EmbryonicRsts = 0;
  /** ICMP errors about a sequence number the connection did not have in flight (tcp_v4_err, tcp_v6_err). */
  OutOfWindowIcmps = 0;
  /**
   * Connections that began to wait out their end (TIME_WAIT, an orphan in FIN_WAIT_2), counted
   * when they start to wait as Linux 6.x does (__inet_twsk_schedule).
   */
  TW = 0;
  /** TIME_WAIT connections a new connection of the same addresses and ports took over (connect). */
  TWRecycled = 0;
  /** As {@link TW}, for a wait of 4 s or less. */
  TWKilled = 0;
  /** Segments dropped by PAWS in a synchronized state. */
  PAWSEstab = 0;
  /** Segments to a TIME_WAIT connection dropped by PAWS (Linux 6.15's LINUX_MIB_PAWS_TW_REJECTED). */
  PAWSTimewait = 0;
  /** ACKs sent when the delayed-ACK timer fired. */
  DelayedACKs = 0;
  /** SYNs, and ACKs completing a handshake, dropped because a listener's accept queue was full. */
  ListenOverflows = 0;
  /**
   * SYNs (and handshake ACKs) a listener dropped: the overflows above, and SYNs dropped for a
   * full request queue without cookies (tcp_listendrop).
   */
  ListenDrops = 0;
  /**
   * Segments, and ICMP errors about segments, dropped for arriving with fewer hops left than
   * the socket's IP_MINTTL or IPV6_MINHOPCOUNT.
   */
  TCPMinTTLDrop = 0;
  /** Bare ACKs completing a handshake dropped while TCP_DEFER_ACCEPT waits for data. */
  TCPDeferAcceptDrop = 0;
  /** SYNs answered with a cookie because the request queue was full or cookies are forced. */
  TCPReqQFullDoCookies = 0;
  /** SYNs dropped because the request queue was full and cookies are off. */
  TCPReqQFullDrop = 0;
  /** RFC 6675 SACK loss recoveries entered. */
  TCPSackRecovery = 0;
  /** NewReno fast recoveries entered (no SACK). */
  TCPRenoRecovery = 0;
  /** Loss episodes undone because D-SACKs showed every retransmission needless. */
  TCPDSACKUndo = 0;
  /** Timeouts undone as spurious (by timestamps or F-RTO). */
  TCPLossUndo = 0;
  /** Spurious timeouts F-RTO found (frto.ts). */
  TCPSpuriousRTOs = 0;
  /** Segments resent by fast retransmit or loss recovery. */
  TCPFastRetrans = 0;
  /** Segments resent by go-back-N after a timeout. */
  TCPSlowStartRetrans = 0;
  /** Retransmission timeouts that resent data (or a SYN). */
  TCPTimeouts = 0;
  /** Tail loss probes sent. */
  TCPLossProbes = 0;
  /** Tail loss probes that repaired a loss. */
  TCPLossProbeRecovery = 0;
  /** D-SACKs set for a duplicate below RCV.NXT (tcp_dsack_set). */
  TCPDSACKOldSent = 0;
  /** D-SACKs set for a duplicate of held out-of-order data. */
  TCPDSACKOfoSent = 0;
  /** D-SACK blocks received. */
  TCPDSACKRecv = 0;
  /** Connections reset because data arrived after the application closed them. */
  TCPAbortOnData = 0;
  /** Connections reset because the application closed them with unread data. */
  TCPAbortOnClose = 0;
  /** Connections given up after timeouts (retries, TCP_USER_TIMEOUT, keepalive; tcp_write_err). */
  TCPAbortOnTimeout = 0;
  /** Connections reset when closed in FIN_WAIT_2 with a negative TCP_LINGER2. */
  TCPAbortOnLinger = 0;
  /** Segments that sent new data or a FIN (not a retransmission). */
  TCPOrigDataSent = 0;
  /**
   * Our segments (SYN, data, FIN) the peer acknowledged (tcp_newly_delivered); a passive open's
   * SYN-ACK is not among them. Counted once an ACK covers all that was sent (see tcp.ts).
   */
  TCPDelivered = 0;
  /** As {@link TCPDelivered}, with ECN's congestion echo: netstack does not negotiate ECN. */
  TCPDeliveredCE = 0;
  /**
   * ACKs that advanced SND.UNA on the header-prediction fast path, with data or without
   * (tcp_ack without FLAG_SLOWPATH). The prediction follows tcp_rcv_established; see tcp.ts.
   */
  TCPHPAcks = 0;
  /** Data segments taken on the fast path (tcp_rcv_established's TCPHPHits). */
  TCPHPHits = 0;
  /** Segments without data, SYN or FIN that tcp_ack processed off the fast path. */
  TCPPureAcks = 0;
  /** Out-of-order segments queued. */
  TCPOFOQueue = 0;
  /** SYNs (or SYN-ACKs) retransmitted. */
  TCPSynRetrans = 0;
  /** Out-of-window segments to a TIME_WAIT connection left unanswered by tcp_invalid_ratelimit. */
  TCPACKSkippedTimeWait = 0;
  /** Segments PAWS dropped whose ACK tcp_invalid_ratelimit held back. */
  TCPACKSkippedPAWS = 0;
  /** Zero-window probes sent. */
  TCPWinProbe = 0;
  /** Keepalive probes sent. */
  TCPKeepAlive = 0;
}

/** A UDP (or UDP-Lite) group: `Udp`/`UdpLite` of /proc/net/snmp, `Udp6`/`UdpLite6` of snmp6. */
export class UdpMib {
  /** Datagrams read by the application (udp_recvmsg counts them there, not on arrival). */
  InDatagrams = 0;
  /** Unicast datagrams for a port no socket holds. */
  NoPorts = 0;
  /** Datagrams dropped on the way in: bad length or checksum, a full receive queue. */
  InErrors = 0;
  /** Datagrams sent. */
  OutDatagrams = 0;
  /** Datagrams dropped because the receive queue was full. */
  RcvbufErrors = 0;
  /** Datagrams received with a bad checksum. */
  InCsumErrors = 0;
  /** Broadcast or multicast datagrams no socket wanted. */
  IgnoredMulti = 0;
}

/** Counters a reassembler keeps itself (the shape of `Ipv4Reassembler.stats`). */
export interface ReassemblyCounters {
  readonly reassembled: number;
  readonly overlaps: number;
  readonly timeouts: number;
  readonly evicted: number;
}

/** Linux's named ICMPv4 counters and their message types (icmpmibmap of net/ipv4/proc.c). */
const ICMP_NAMES: readonly (readonly [string, number])[] = [
  ['DestUnreachs', 3],
  ['TimeExcds', 11],
  ['ParmProbs', 12],
  ['SrcQuenchs', 4],
  ['Redirects', 5],
  ['Echos', 8],
  ['EchoReps', 0],
  ['Timestamps', 13],
  ['TimestampReps', 14],
  ['AddrMasks', 17],
  ['AddrMaskReps', 18],
];

/** Linux's named ICMPv6 counters and their types (icmp6_list of net/ipv6/proc.c). */
const ICMP6_NAMES: readonly (readonly [string, number])[] = [
  ['DestUnreachs', 1],
  ['PktTooBigs', 2],
  ['TimeExcds', 3],
  ['ParmProblems', 4],
  ['Echos', 128],
  ['EchoReplies', 129],
  ['GroupMembQueries', 130],
  ['GroupMembResponses', 131],
  ['GroupMembReductions', 132],
  ['RouterSolicits', 133],
  ['RouterAdvertisements', 134],
  ['NeighborSolicits', 135],
  ['NeighborAdvertisements', 136],
  ['Redirects', 137],
  ['MLDv2Reports', 143],
];

/** The IP counters Linux reports in IpExt (/proc/net/netstat) rather than Ip. */
const IP_EXT = new Set([
  'InTruncatedPkts',
  'InCsumErrors',
  'InMcastPkts',
  'OutMcastPkts',
  'InOctets',
  'OutOctets',
  'InNoECTPkts',
  'InECT1Pkts',
  'InECT0Pkts',
  'InCEPkts',
]);

/**
 * All MIB counters of one stack. The stack increments the group objects directly; readers take
 * a {@link NetMib.snapshot}.
 *
 * @example
 * ```ts
 * const stack = new Stack({ device: new LoopbackDevice(), addresses: [cidr('127.0.0.1/8')] });
 * // ... traffic ...
 * stack.mib.tcp.ActiveOpens; // a live counter
 * stack.mib.snapshot()['Tcp.ActiveOpens']; // the same, keyed as /proc/net/snmp names it
 * ```
 */
export class NetMib {
  /** Ip (and IpExt) of /proc/net/snmp (netstat). */
  readonly ip = new IpMib();
  /** The Ip6 lines of /proc/net/snmp6. */
  readonly ip6 = new IpMib();
  /** Icmp and IcmpMsg of /proc/net/snmp. */
  readonly icmp = new IcmpMib();
  /** The Icmp6 lines of /proc/net/snmp6. */
  readonly icmp6 = new IcmpMib();
  /** Tcp of /proc/net/snmp (IPv4 and IPv6 connections alike). */
  readonly tcp = new TcpMib();
  /** TcpExt of /proc/net/netstat. */
  readonly tcpExt = new TcpExtMib();
  /** Udp of /proc/net/snmp (datagrams over IPv4). */
  readonly udp = new UdpMib();
  /** UdpLite of /proc/net/snmp. */
  readonly udpLite = new UdpMib();
  /** The Udp6 lines of /proc/net/snmp6 (datagrams over IPv6). */
  readonly udp6 = new UdpMib();
  /** The UdpLite6 lines of /proc/net/snmp6. */
  readonly udpLite6 = new UdpMib();
  /**
   * The IPv4 reassembler's own counters, read at snapshot time for Reasm{OKs,Fails,Timeout}:
   * it already counts those events, so the MIB does not count them twice on the packet path.
   */
  reassembly4: ReassemblyCounters | undefined;
  /** The IPv6 reassembler's counters, likewise for Ip6Reasm{OKs,Fails,Timeout}. */
  reassembly6: ReassemblyCounters | undefined;

  /**
   * The counters keyed `Group.Name` as /proc/net/snmp, /proc/net/netstat and /proc/net/snmp6
   * name them: `Ip.InReceives`, `IpExt.InCsumErrors`, `Icmp.OutEchoReps`, `IcmpMsg.InType8`,
   * `Tcp.CurrEstab`, `TcpExt.TW`, `Udp.NoPorts`, `UdpLite.InErrors`, `Ip6.InDelivers`,
   * `Icmp6.InEchos`, `Icmp6.OutType135`, `Udp6.InDatagrams`, `UdpLite6.OutDatagrams`. Per-type
   * ICMP entries (`IcmpMsg.*`, `Icmp6.InTypeN`/`OutTypeN`) appear only for types seen, as
   * Linux prints them.
   */
  snapshot(): Record<string, number> {
    const out: Record<string, number> = {};
    ipGroup(out, this.ip, this.reassembly4, 'Ip', 'IpExt');
    ipGroup(out, this.ip6, this.reassembly6, 'Ip6', 'Ip6');
    icmpGroup(out, this.icmp, ICMP_NAMES, 'Icmp', 'IcmpMsg');
    icmpGroup(out, this.icmp6, ICMP6_NAMES, 'Icmp6', 'Icmp6');
    plainGroup(out, this.tcp, 'Tcp');
    plainGroup(out, this.tcpExt, 'TcpExt');
    plainGroup(out, this.udp, 'Udp');
    plainGroup(out, this.udpLite, 'UdpLite');
    plainGroup(out, this.udp6, 'Udp6');
    plainGroup(out, this.udpLite6, 'UdpLite6');
    return out;
  }
}

function plainGroup(out: Record<string, number>, group: object, name: string): void {
  for (const [k, v] of Object.entries(group)) if (typeof v === 'number') out[`${name}.${k}`] = v;
}

function ipGroup(
  out: Record<string, number>,
  ip: IpMib,
  reasm: ReassemblyCounters | undefined,
  name: string,
  ext: string,
): void {
  for (const [k, v] of Object.entries(ip)) {
    if (name === 'Ip6' && k === 'InCsumErrors') continue; // IPv6 has no header checksum (nor line)
    out[`${IP_EXT.has(k) ? ext : name}.${k}`] = v as number;
  }
  if (!reasm) return;
  out[`${name}.ReasmOKs`] = reasm.reassembled;
  out[`${name}.ReasmTimeout`] = reasm.timeouts;
  // ip_expire counts a timeout as a failure too; overlaps and evictions fail the datagram.
  out[`${name}.ReasmFails`] = reasm.timeouts + reasm.overlaps + reasm.evicted;
}

function icmpGroup(
  out: Record<string, number>,
  icmp: IcmpMib,
  names: readonly (readonly [string, number])[],
  name: string,
  perType: string,
): void {
  out[`${name}.InMsgs`] = icmp.InMsgs;
  out[`${name}.InErrors`] = icmp.InErrors;
  out[`${name}.InCsumErrors`] = icmp.InCsumErrors;
  out[`${name}.OutMsgs`] = icmp.OutMsgs;
  // snmp6 has no global line: icmpv6_global_allow counts in the IPv4 group.
  if (name === 'Icmp') out[`${name}.OutRateLimitGlobal`] = icmp.OutRateLimitGlobal;
  out[`${name}.OutRateLimitHost`] = icmp.OutRateLimitHost;
  for (const [n, type] of names) {
    out[`${name}.In${n}`] = icmp.inType[type]!;
    out[`${name}.Out${n}`] = icmp.outType[type]!;
  }
  for (let t = 0; t < 256; t++) {
    if (icmp.inType[t]! > 0) out[`${perType}.InType${t}`] = icmp.inType[t]!;
    if (icmp.outType[t]! > 0) out[`${perType}.OutType${t}`] = icmp.outType[t]!;
  }
}
