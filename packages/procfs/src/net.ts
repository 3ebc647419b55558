/**
 * /proc/net: the network interface procfs declares ({@link ProcNetSource}, implemented by the
 * network stack for one network namespace) and the renderers of its files in Linux's formats
 * (net/core/net-procfs.c, net/ipv4/tcp_ipv4.c, net/ipv6/tcp_ipv6.c, net/ipv4/udp.c,
 * net/unix/af_unix.c, net/ipv6/addrconf.c, net/ipv4/fib_trie.c).
 *
 * Kernel pointers (`%pK` fields) are printed as zeros, what Linux prints to readers it does not
 * trust with addresses.
 *
 * @module
 */
import type { LinuxError } from '@tsvisor/abi';
import { SNMP6_GROUPS, SNMP_GROUPS } from './net-mib.js';
import type { ProcNetIpv6Sysctl, ProcNetIpv6SysctlWrite } from './sys-net-ipv6.js';

/** Counters of one network device (/proc/net/dev); absent counters are 0. */
export interface ProcNetDeviceStats {
  readonly rxBytes?: number;
  readonly rxPackets?: number;
  readonly rxErrs?: number;
  readonly rxDrop?: number;
  readonly rxFifo?: number;
  readonly rxFrame?: number;
  readonly rxCompressed?: number;
  readonly rxMulticast?: number;
  readonly txBytes?: number;
  readonly txPackets?: number;
  readonly txErrs?: number;
  readonly txDrop?: number;
  readonly txFifo?: number;
  readonly txColls?: number;
  readonly txCarrier?: number;
  readonly txCompressed?: number;
}

/** A network device. */
export interface ProcNetDevice {
  readonly name: string;
  readonly index: number;
  readonly stats: ProcNetDeviceStats;
  /**
   * ARPHRD_* link type (/sys/class/net/<if>/type): 1 Ethernet, 772 loopback; default 772 for a
   * device named `lo`, else 1.
   */
  readonly type?: number;
  /** The hardware address (6 bytes for Ethernet); default all zero. */
  readonly address?: Uint8Array;
  /** The MTU; default 65536 for loopback, else 1500. */
  readonly mtu?: number;
  /**
   * dev->flags as sysfs shows them (IFF_UP 0x1, IFF_BROADCAST 0x2, IFF_LOOPBACK 0x8,
   * IFF_MULTICAST 0x1000); default 0x9 for loopback, else 0x1003.
   */
  readonly flags?: number;
  /** RFC 2863 operational state; default `unknown` for loopback (as Linux), else `up`. */
  readonly operstate?: 'up' | 'down' | 'unknown' | 'dormant' | 'lowerlayerdown';
  /** Transmit queue length; default 1000. */
  readonly txQueueLen?: number;
}

/** An IPv6 address of a device (/proc/net/if_inet6). */
export interface ProcInet6Address {
  /** 16 bytes. */
  readonly address: Uint8Array;
  readonly device: string;
  readonly ifindex: number;
  readonly prefixLen: number;
  /** IPV6_ADDR_* scope bits as Linux prints them (0x00 global, 0x10 host, 0x20 link). */
  readonly scope: number;
  /** IFA_F_* flags (0x80 permanent, ...). */
  readonly flags: number;
}

/** An address and port of an IP socket; the address has 4 (IPv4) or 16 (IPv6) bytes. */
export interface ProcSockAddr {
  readonly address: Uint8Array;
  readonly port: number;
}

/** An IP socket as /proc/net/{tcp,tcp6,udp,udp6} shows it. */
export interface ProcInetSocket {
  readonly local: ProcSockAddr;
  readonly remote: ProcSockAddr;
  /** TCP_* state number (1 ESTABLISHED ... 10 LISTEN); UDP uses 7 (CLOSE) or 1 when connected. */
  readonly state: number;
  readonly txQueue: number;
  readonly rxQueue: number;
  readonly uid: number;
  readonly inode: number;
  /** Socket reference count (default 1 for TCP, 2 for UDP). */
  readonly refCount?: number;
  /** TCP timer: 0 none, 1 retransmit, 2 keepalive, 3 TIME_WAIT, 4 zero window probe; default 0. */
  readonly timerActive?: number;
  /** Clock ticks until the timer fires; default 0. */
  readonly timerTicks?: number;
  readonly retransmits?: number;
  /** TCP: the probes sent unanswered (icsk_probes_out, the `timeout` column); default 0. */
  readonly probes?: number;
  /** TCP: retransmit timeout and ack timeout in clock ticks, congestion window and ssthresh. */
  readonly rtoTicks?: number;
  readonly atoTicks?: number;
  readonly quickAck?: number;
  readonly cwnd?: number;
  readonly ssthresh?: number;
  /** UDP: dropped datagrams. */
  readonly drops?: number;
  /** UDP: the hash slot (`sl` column); default the socket's index in the list. */
  readonly slot?: number;
  /**
   * TCP: a timewait minisock in another state than TIME_WAIT (an orphaned FIN_WAIT2 that Linux
   * keeps as one, printed with its substate): printed like TIME_WAIT, without the TCP figures.
   */
  readonly timewait?: boolean;
}

/** A Unix domain socket (/proc/net/unix). */
export interface ProcUnixSocket {
  readonly refCount: number;
  /** __SO_ACCEPTCON (0x10000) for a listening socket, else 0. */
  readonly flags: number;
  /** SOCK_STREAM 1, SOCK_DGRAM 2, SOCK_SEQPACKET 5. */
  readonly type: number;
  /** SS_UNCONNECTED 1, SS_CONNECTING 2, SS_CONNECTED 3, SS_DISCONNECTING 4. */
  readonly state: number;
  readonly inode: number;
  /** The bound path; an abstract name starts with a NUL byte. Absent when unbound. */
  readonly path?: string;
}

/** An IPv4 route (/proc/net/route). Addresses are the 4 bytes in network order. */
export interface ProcRoute {
  readonly device: string;
  readonly destination: Uint8Array;
  readonly gateway: Uint8Array;
  /** RTF_UP 1, RTF_GATEWAY 2, RTF_HOST 4... */
  readonly flags: number;
  readonly metric: number;
  readonly mask: Uint8Array;
  readonly mtu?: number;
  readonly window?: number;
  readonly irtt?: number;
}

/**
 * The socket counts of one network namespace (/proc/net/sockstat and sockstat6). Linux counts
 * TCP orphan, alloc and mem, and UDP mem, over the whole host; a sandbox's stack is its whole
 * host, so they count the namespace's sockets.
 */
export interface ProcSockstat {
  /** Sockets of the namespace (every family: inet, unix, netlink), orphaned TCP ones included. */
  readonly used: number;
  /** AF_INET TCP sockets in a hash: listening, or connecting or connected (not TIME_WAIT). */
  readonly tcpInuse: number;
  /** TCP sockets the application closed that still finish their close (not TIME_WAIT). */
  readonly tcpOrphan: number;
  /** TIME_WAIT connections (both families). */
  readonly tcpTimeWait: number;
  /** TCP sockets that exist (both families; not TIME_WAIT ones). */
  readonly tcpAlloc: number;
  /** Pages (4096 bytes) of memory charged to TCP sockets. */
  readonly tcpMem: number;
  /** AF_INET UDP sockets with a local port. */
  readonly udpInuse: number;
  /** Pages charged to UDP and UDP-Lite sockets. */
  readonly udpMem: number;
  readonly udpliteInuse: number;
  readonly rawInuse: number;
  /** IPv4 datagrams being reassembled, and the bytes their fragments hold. */
  readonly fragInuse: number;
  readonly fragMemory: number;
  /** The AF_INET6 counterparts (a dual-stack socket counts here whatever it talks). */
  readonly tcp6Inuse: number;
  readonly udp6Inuse: number;
  readonly udplite6Inuse: number;
  readonly raw6Inuse: number;
  readonly frag6Inuse: number;
  readonly frag6Memory: number;
}

/** An IPv6 route (/proc/net/ipv6_route). */
export interface ProcIpv6Route {
  /** The routing table: `main` (254) is listed before `local` (255), as Linux walks them. */
  readonly table: 'main' | 'local';
  /** 16 bytes, and the prefix length. */
  readonly destination: Uint8Array;
  readonly prefixLen: number;
  /** The gateway (16 bytes); absent for a route without one. */
  readonly gateway?: Uint8Array;
  readonly metric: number;
  /** RTF_UP 0x1, RTF_GATEWAY 0x2, RTF_NONEXTHOP 0x200000, RTF_LOCAL 0x80000000... */
  readonly flags: number;
  readonly device: string;
  /** References to the route; default 1 (the table's). */
  readonly refCount?: number;
}

/** An entry of an IPv4 neighbour cache (/proc/net/arp). */
export interface ProcArpEntry {
  /** 4 bytes. */
  readonly address: Uint8Array;
  /** ARPHRD_* type of the device (1 Ethernet). */
  readonly hwType: number;
  /** ATF_COM 0x2 (resolved), ATF_PERM 0x4 (permanent). */
  readonly flags: number;
  /** The neighbour's hardware address. */
  readonly hwAddress: Uint8Array;
  readonly device: string;
}

/** A netlink socket (/proc/net/netlink). */
export interface ProcNetlinkSocket {
  /** NETLINK_ROUTE 0, ... */
  readonly protocol: number;
  /** The port id: 0 for the kernel's socket of the protocol. */
  readonly portid: number;
  /** The first 32 multicast groups joined, as a bitmask. */
  readonly groups: number;
  /** Bytes queued to read and to send. */
  readonly rmem: number;
  readonly wmem: number;
  /** 1 while a dump is in progress. */
  readonly dump: number;
  /** Socket reference count (the `Locks` column). */
  readonly refCount: number;
  readonly drops: number;
  readonly inode: number;
}

/** One AF_PACKET socket as /proc/net/packet shows it (packet_seq_show). */
export interface ProcPacketSocket {
  /** Socket references (Linux: 3 while the socket receives, 2 otherwise). */
  readonly refCount: number;
  /** SOCK_RAW or SOCK_DGRAM. */
  readonly type: number;
  /** The ethertype it receives, host order (0: none). */
  readonly protocol: number;
  readonly ifindex: number;
  readonly running: boolean;
  /** Receive memory charged by queued frames (sk_rmem_alloc). */
  readonly rmem: number;
  readonly uid: number;
  readonly inode: number;
}

/** What /proc/net shows of one network namespace; implemented by the network stack. */
export interface ProcNetSource {
  devices(): readonly ProcNetDevice[];
  inet6Addresses(): readonly ProcInet6Address[];
  tcp(): readonly ProcInetSocket[];
  tcp6(): readonly ProcInetSocket[];
  udp(): readonly ProcInetSocket[];
  udp6(): readonly ProcInetSocket[];
  unix(): readonly ProcUnixSocket[];
  routes(): readonly ProcRoute[];
  /** /proc/net/sockstat and sockstat6. Absent: every count 0. */
  sockstat?(): ProcSockstat;
  /** /proc/net/ipv6_route (both tables). Absent: none, so each table shows its null route. */
  ipv6Routes?(): readonly ProcIpv6Route[];
  /** /proc/net/arp: the neighbour caches of ARP devices. Absent: none. */
  arp?(): readonly ProcArpEntry[];
  /** /proc/net/udplite and udplite6 (format of udp and udp6). Absent: none. */
  udplite?(): readonly ProcInetSocket[];
  udplite6?(): readonly ProcInetSocket[];
  /** /proc/net/icmp and icmp6: ping sockets with an identifier. Absent: none. */
  icmp?(): readonly ProcInetSocket[];
  icmp6?(): readonly ProcInetSocket[];
  /**
   * /proc/net/raw and raw6: the raw sockets, each with its protocol as the local port, the peer's
   * port 0 (`slot`: the hash bucket Linux prints as `sl`). Absent: none.
   */
  raw?(): readonly ProcInetSocket[];
  raw6?(): readonly ProcInetSocket[];
  /** /proc/net/netlink: the bound netlink sockets, the kernel's included. Absent: none. */
  netlink?(): readonly ProcNetlinkSocket[];
  /** /proc/net/packet: the AF_PACKET sockets, oldest first. Absent: none. */
  packet?(): readonly ProcPacketSocket[];
  /**
   * MIB counters for /proc/net/snmp, /proc/net/netstat and /proc/net/snmp6, keyed `Group.Name`
   * (`Tcp.ActiveOpens`, `TcpExt.ListenOverflows`, `Ip6.InReceives`); the per-type ICMP counters
   * as `IcmpMsg.InType8` / `IcmpMsg.OutType0` and `Icmp6.InType128` / `Icmp6.OutType135` (printed
   * only when not 0, as Linux does). Counters not given are 0, except the constants Linux reports
   * (Ip.Forwarding 2, Ip.DefaultTTL 64, Tcp.RtoAlgorithm 1, Tcp.RtoMin 200, Tcp.RtoMax 120000,
   * Tcp.MaxConn -1). Absent: all counters are those defaults.
   */
  mib?(): Readonly<Record<string, number>>;
  /**
   * The namespace's net.ipv4 sysctls for /proc/sys/net/ipv4. Absent: Linux's defaults, and
   * writes are kept by the procfs mount.
   */
  sysctl?(): ProcNetSysctl;
  /** Apply a write to /proc/sys/net/ipv4 (procfs parsed and range-checked it). */
  setSysctl?(w: ProcNetSysctlWrite): LinuxError | undefined;
  /**
   * The namespace's net.ipv6 sysctls for /proc/sys/net/ipv6. Absent: Linux's defaults, and
   * writes are kept by the procfs mount.
   */
  ipv6Sysctl?(): ProcNetIpv6Sysctl;
  /** Apply a write to /proc/sys/net/ipv6 (procfs parsed it). */
  setIpv6Sysctl?(w: ProcNetIpv6SysctlWrite): LinuxError | undefined;
  /**
   * False when the namespace belongs to a user namespace other than the reader's (network mode
   * `host`: the host's namespace, owned by the host's root, which the sandbox does not map).
   * Its /proc/sys/net/ipv4 and /proc/sys/net/core then look as Linux shows them to root of such a
   * user namespace: owned by the overflow id (65534), with the modes Linux declares (0644 for the
   * tunables), and opening a file for writing fails with EACCES whatever the reader's
   * capabilities (proc_sys_permission ignores CAP_DAC_OVERRIDE, and net_ctl_permissions grants
   * the owner's bits only with CAP_NET_ADMIN over the namespace's owner). Default true.
   */
  readonly sysctlOwned?: boolean;
}

/** The net.ipv4 sysctls a network namespace applies to its new sockets. */
export interface ProcNetSysctl {
  /** ip_local_port_range: the ephemeral ports, inclusive (Linux: 32768 60999). */
  readonly ipLocalPortRange: readonly [number, number];
  /**
   * ip_local_reserved_ports: the ports ephemeral searches pass over (an explicit bind(2) may
   * still name them). Absent: none, Linux's default.
   */
  readonly ipLocalReservedPorts?: ReadonlySet<number>;
  /**
   * ip_autobind_reuse: 1 lets TCP's bind(2) of port 0 share a port among SO_REUSEADDR sockets
   * once none is free. Absent: 0, Linux's default.
   */
  readonly ipAutobindReuse?: number;
  /**
   * ip_default_ttl: the TTL of packets from sockets that did not set IP_TTL, 1..255. Absent: 64,
   * Linux's default.
   */
  readonly ipDefaultTtl?: number;
  /**
   * ip_no_pmtu_disc: unless 0, new sockets start with IP_PMTUDISC_DONT; it also says what a
   * fragmentation-needed report does (0 to 3). Absent: 0, Linux's default.
   */
  readonly ipNoPmtuDisc?: number;
  /** icmp_echo_ignore_all: 1 answers no echo request. Absent: 0, Linux's default. */
  readonly icmpEchoIgnoreAll?: number;
  /**
   * icmp_echo_ignore_broadcasts: 1 drops echo requests to broadcast and multicast addresses.
   * Absent: 1, Linux's default.
   */
  readonly icmpEchoIgnoreBroadcasts?: number;
  /**
   * icmp_ratelimit (ms, whole jiffies): the interval of the per-destination ICMP limit, 0 none.
   * Absent: 1000, Linux's default.
   */
  readonly icmpRatelimit?: number;
  /** icmp_ratemask: bit N limits ICMP type N. Absent: 0x1818 (6168), Linux's default. */
  readonly icmpRatemask?: number;
  /** icmp_msgs_per_sec: the global ICMP bucket's refill rate. Absent: 1000, Linux's default. */
  readonly icmpMsgsPerSec?: number;
  /** icmp_msgs_burst: the global ICMP bucket's size. Absent: 50, Linux's default. */
  readonly icmpMsgsBurst?: number;
  /**
   * route/min_pmtu: an ICMP fragmentation-needed report below it is raised to it and locks the
   * path MTU. Absent: 552, Linux's default.
   */
  readonly routeMinPmtu?: number;
  /** route/mtu_expires (s): how long a learnt path MTU lasts. Absent: 600, Linux's default. */
  readonly routeMtuExpires?: number;
  /** tcp_congestion_control: the algorithm of new TCP sockets (Linux: cubic). */
  readonly tcpCongestionControl: string;
  /** tcp_available_congestion_control: the algorithms known, in Linux's listing order. */
  readonly tcpAvailableCongestionControl: readonly string[];
  /**
   * tcp_allowed_congestion_control: those an unprivileged process may pick. Absent: all the
   * available ones.
   */
  readonly tcpAllowedCongestionControl?: readonly string[];
  /** tcp_sack (1: offer SACK). */
  readonly tcpSack: number;
  /** tcp_timestamps (0 off; 1 on, with random offsets; 2 on without). */
  readonly tcpTimestamps: number;
  /** tcp_keepalive_time (s): idle time before the first keepalive probe (Linux: 7200). */
  readonly tcpKeepaliveTime: number;
  /** tcp_keepalive_intvl (s): between keepalive probes (Linux: 75). */
  readonly tcpKeepaliveIntvl: number;
  /** tcp_keepalive_probes: unanswered probes before giving up (Linux: 9). */
  readonly tcpKeepaliveProbes: number;
  /** tcp_fin_timeout (s): how long an orphaned connection waits in FIN_WAIT_2 (Linux: 60). */
  readonly tcpFinTimeout: number;
  /** tcp_frto: F-RTO (RFC 5682) on timeouts unless 0 (Linux: 2). */
  readonly tcpFrto: number;
  /** tcp_syncookies: SYN cookies off (0), when a request queue is full (1, Linux's), always (2). */
  readonly tcpSyncookies: number;
  /** tcp_max_syn_backlog: without cookies, requests a listener keeps for unproven peers (Linux: 128 or more). */
  readonly tcpMaxSynBacklog: number;
  /** tcp_synack_retries: SYN-ACK retransmissions before a request is dropped (Linux: 5). */
  readonly tcpSynackRetries: number;
  /** tcp_abort_on_overflow: reset handshakes whose ACK finds the accept queue full when 1 (Linux: 0). */
  readonly tcpAbortOnOverflow: number;
  /**
   * tcp_tw_reuse: whether connect(2) may take over a TIME_WAIT connection of its addresses and
   * ports, 0 never, 1 always, 2 over loopback only (Linux's).
   */
  readonly tcpTwReuse: number;
  /**
   * tcp_rfc1337: 1 keeps a TIME_WAIT connection that a RST at its RCV.NXT would end (Linux: 0).
   * Absent: 0.
   */
  readonly tcpRfc1337?: number;
  /**
   * tcp_early_retrans: tail loss probes with 3 or 4, none with 0-2 (Linux: 3). Absent: 3.
   */
  readonly tcpEarlyRetrans?: number;
  /** tcp_syn_retries: a connect's SYN retransmissions, TCP_SYNCNT aside (Linux: 6). Absent: 6. */
  readonly tcpSynRetries?: number;
  /**
   * tcp_syn_linear_timeouts: a connect's first timeouts that keep the initial RTO, each one SYN
   * retransmission more (Linux 6.18: 4). Absent: 4.
   */
  readonly tcpSynLinearTimeouts?: number;
  /** tcp_retries2: how many retransmissions' time unacknowledged data may take (Linux: 15). Absent: 15. */
  readonly tcpRetries2?: number;
  /** tcp_orphan_retries: tcp_retries2 of a closed connection, 0 meaning 8 (Linux: 0). Absent: 0. */
  readonly tcpOrphanRetries?: number;
  /** tcp_notsent_lowat: unsent bytes past which a socket without TCP_NOTSENT_LOWAT takes no more (Linux: UINT_MAX). */
  readonly tcpNotsentLowat?: number;
  /**
   * tcp_reflect_tos: 1 gives a listener's SYN-ACKs and connections the DSCP of the SYN (Linux:
   * 0). Absent: 0.
   */
  readonly tcpReflectTos?: number;
  /** tcp_dsack: D-SACK blocks sent for duplicates unless 0 (Linux: 1). Absent: 1. */
  readonly tcpDsack?: number;
  /** tcp_invalid_ratelimit (ms): the least time between ACKs to out-of-window segments (Linux: 500). */
  readonly tcpInvalidRatelimit?: number;
  /**
   * net.core.somaxconn: the cap on listen backlogs of the namespace's sockets. Absent: the
   * `ProcSource` tunable (4096, what netstack applies).
   */
  readonly somaxconn?: number;
  /**
   * ping_group_range: the groups, inclusive, whose members may open ping sockets. Absent:
   * Linux's value in a fresh namespace, 1 0 (nobody).
   */
  readonly pingGroupRange?: readonly [number, number];
}

/** A write to a net.ipv4 sysctl, parsed and checked by procfs. */
export type ProcNetSysctlWrite =
  | { readonly key: 'ipLocalPortRange'; readonly value: readonly [number, number] }
  | { readonly key: 'ipLocalReservedPorts'; readonly value: ReadonlySet<number> }
  | { readonly key: 'pingGroupRange'; readonly value: readonly [number, number] }
  | { readonly key: 'tcpCongestionControl'; readonly value: string }
  | {
      readonly key:
        | 'icmpEchoIgnoreAll'
        | 'icmpEchoIgnoreBroadcasts'
        | 'icmpRatelimit'
        | 'icmpRatemask'
        | 'icmpMsgsPerSec'
        | 'icmpMsgsBurst'
        | 'ipAutobindReuse'
        | 'ipDefaultTtl'
        | 'ipNoPmtuDisc'
        | 'routeMinPmtu'
        | 'routeMtuExpires'
        | 'tcpSack'
        | 'tcpTimestamps'
        | 'tcpKeepaliveTime'
        | 'tcpKeepaliveIntvl'
        | 'tcpKeepaliveProbes'
        | 'tcpFinTimeout'
        | 'tcpFrto'
        | 'tcpSyncookies'
        | 'tcpMaxSynBacklog'
        | 'tcpSynackRetries'
        | 'tcpAbortOnOverflow'
        | 'tcpTwReuse'
        | 'tcpRfc1337'
        | 'tcpEarlyRetrans'
        | 'tcpSynRetries'
        | 'tcpSynLinearTimeouts'
        | 'tcpRetries2'
        | 'tcpOrphanRetries'
        | 'tcpNotsentLowat'
        | 'tcpDsack'
        | 'tcpReflectTos'
        | 'tcpInvalidRatelimit';
      readonly value: number;
    };

/** The values Linux reports for the MIB entries that are settings rather than counters. */
const MIB_CONSTANTS: Readonly<Record<string, number>> = {
  'Ip.Forwarding': 2,
  'Ip.DefaultTTL': 64,
  'Tcp.RtoAlgorithm': 1,
  'Tcp.RtoMin': 200,
  'Tcp.RtoMax': 120000,
  'Tcp.MaxConn': -1,
};

/**
 * A MIB file (/proc/net/snmp, /proc/net/netstat): for each group, a line of names and a line of
 * values, both prefixed `Group:`.
 */
export function renderMib(
  groups: readonly (readonly [string, readonly string[]])[],
  counters: Readonly<Record<string, number>>,
): string {
  let out = '';
  for (const [group, names] of groups) {
    const values = names.map((n) => {
      const key = `${group}.${n}`;
      return String(counters[key] ?? MIB_CONSTANTS[key] ?? 0);
    });
    out += `${group}: ${names.join(' ')}\n${group}: ${values.join(' ')}\n`;
  }
  return out;
}

/**
 * The per-type ICMP counters of `counters` under `prefix` (`IcmpMsg.InType8`, `Icmp6.OutType135`)
 * that are not zero, in Linux's order: every received type by number, then every sent type.
 */
function icmpTypeCounters(
  counters: Readonly<Record<string, number>>,
  prefix: string,
): [name: string, value: number][] {
  const found: [number, string, number][] = [];
  for (const [key, value] of Object.entries(counters)) {
    if (!key.startsWith(prefix) || value === 0) continue;
    const m = /^(In|Out)Type(\d+)$/.exec(key.slice(prefix.length));
    if (!m) continue;
    const type = Number(m[2]);
    if (type > 255) continue;
    found.push([(m[1] === 'Out' ? 256 : 0) + type, key.slice(prefix.length), value]);
  }
  return found.sort((a, b) => a[0] - b[0]).map(([, name, value]) => [name, value]);
}

/**
 * /proc/net/snmp: the {@link SNMP_GROUPS} lines, with Linux's IcmpMsg lines after Icmp: the
 * message types counted (`IcmpMsg.InType3`, `IcmpMsg.OutType0` in `counters`), 16 to a pair of
 * lines (icmpmsg_put), none when no ICMP message was counted.
 */
export function renderSnmp(counters: Readonly<Record<string, number>>): string {
  const i = SNMP_GROUPS.findIndex(([g]) => g === 'Icmp') + 1;
  let msg = '';
  const types = icmpTypeCounters(counters, 'IcmpMsg.');
  for (let k = 0; k < types.length; k += 16) {
    const line = types.slice(k, k + 16);
    msg += `IcmpMsg: ${line.map(([n]) => n).join(' ')}\nIcmpMsg: ${line.map(([, v]) => v).join(' ')}\n`;
  }
  return renderMib(SNMP_GROUPS.slice(0, i), counters) + msg + renderMib(SNMP_GROUPS.slice(i), counters);
}

/**
 * /proc/net/snmp6: one `name value` line per counter ({@link SNMP6_GROUPS}, keyed `Ip6.InReceives`
 * ... in `counters`), the name padded to 32 columns and a tab before the value (`%-32s\t%lu`),
 * with Icmp6's per-type lines (`Icmp6.InType128`) after its named counters.
 */
export function renderSnmp6(counters: Readonly<Record<string, number>>): string {
  let out = '';
  const line = (name: string, value: number): void => {
    out += `${name.padEnd(32)}\t${value}\n`;
  };
  for (const [group, names] of SNMP6_GROUPS) {
    for (const n of names) line(group + n, counters[`${group}.${n}`] ?? 0);
    if (group === 'Icmp6') for (const [n, v] of icmpTypeCounters(counters, 'Icmp6.')) line(group + n, v);
  }
  return out;
}

const ZERO_PTR = '0000000000000000';

function hex(v: number, width: number): string {
  return (v >>> 0).toString(16).toUpperCase().padStart(width, '0');
}

/** A 4-byte address as Linux prints a __be32 with %08X on little-endian x86. */
function be32(b: Uint8Array): string {
  const v = ((b[3] ?? 0) << 24) | ((b[2] ?? 0) << 16) | ((b[1] ?? 0) << 8) | (b[0] ?? 0);
  return hex(v, 8);
}

/** A 16-byte address as tcp6/udp6 print it: four native-endian 32-bit words. */
function in6(b: Uint8Array): string {
  let out = '';
  for (let w = 0; w < 4; w++) out += be32(b.subarray(w * 4, w * 4 + 4));
  return out;
}

/** Pad a line to `width` characters, as seq_setwidth/seq_pad do. */
function pad(line: string, width: number): string {
  return line.padEnd(width, ' ') + '\n';
}

/** /proc/net/dev. */
export function renderNetDev(devices: readonly ProcNetDevice[]): string {
  let out =
    'Inter-|   Receive                                                |  Transmit\n' +
    ' face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n';
  for (const d of devices) {
    const s = d.stats;
    const n = (v: number | undefined, w: number): string => String(v ?? 0).padStart(w);
    out +=
      `${d.name.padStart(6)}: ${n(s.rxBytes, 7)} ${n(s.rxPackets, 7)} ${n(s.rxErrs, 4)} ${n(s.rxDrop, 4)} ` +
      `${n(s.rxFifo, 4)} ${n(s.rxFrame, 5)} ${n(s.rxCompressed, 10)} ${n(s.rxMulticast, 9)} ` +
      `${n(s.txBytes, 8)} ${n(s.txPackets, 7)} ${n(s.txErrs, 4)} ${n(s.txDrop, 4)} ${n(s.txFifo, 4)} ` +
      `${n(s.txColls, 5)} ${n(s.txCarrier, 7)} ${n(s.txCompressed, 10)}\n`;
  }
  return out;
}

/** The columns shared by tcp and tcp6 after the addresses. */
/** TCP_TIME_WAIT: such sockets are timewait minisocks, printed without the TCP figures. */
const TCP_TIME_WAIT = 6;

function tcpTail(s: ProcInetSocket): string {
  const listen = s.state === 10;
  const common =
    `${hex(s.state, 2)} ${hex(s.txQueue, 8)}:${hex(s.rxQueue, 8)} ${hex(s.timerActive ?? 0, 2)}:` +
    `${hex(s.timerTicks ?? 0, 8)} ${hex(s.retransmits ?? 0, 8)} ${String(s.uid).padStart(5)} ` +
    `${String(s.probes ?? 0).padStart(8)} ${s.inode} ${s.refCount ?? 1} ${ZERO_PTR}`;
  // get_timewait4_sock / get_timewait6_sock end at the socket pointer.
  if (s.state === TCP_TIME_WAIT || s.timewait === true) return common;
  return (
    `${common} ${s.rtoTicks ?? 100} ` +
    `${s.atoTicks ?? 0} ${s.quickAck ?? 0} ${s.cwnd ?? 10} ${s.ssthresh ?? (listen ? 0 : -1)}`
  );
}

/** /proc/net/tcp: lines padded to 149 columns. */
export function renderTcp(sockets: readonly ProcInetSocket[]): string {
  let out = pad(
    '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
    149,
  );
  sockets.forEach((s, i) => {
    out += pad(
      `${String(i).padStart(4)}: ${be32(s.local.address)}:${hex(s.local.port, 4)} ` +
        `${be32(s.remote.address)}:${hex(s.remote.port, 4)} ${tcpTail(s)}`,
      149,
    );
  });
  return out;
}

/** /proc/net/tcp6. */
export function renderTcp6(sockets: readonly ProcInetSocket[]): string {
  let out =
    '  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
  sockets.forEach((s, i) => {
    out +=
      `${String(i).padStart(4)}: ${in6(s.local.address)}:${hex(s.local.port, 4)} ` +
      `${in6(s.remote.address)}:${hex(s.remote.port, 4)} ${tcpTail(s)}\n`;
  });
  return out;
}

function udpTail(s: ProcInetSocket): string {
  return (
    `${hex(s.state, 2)} ${hex(s.txQueue, 8)}:${hex(s.rxQueue, 8)} 00:00000000 00000000 ` +
    `${String(s.uid).padStart(5)} ${String(0).padStart(8)} ${s.inode} ${s.refCount ?? 2} ${ZERO_PTR} ${s.drops ?? 0}`
  );
}

/** The IPv4 datagram tables (udp, udplite, icmp): `header`, then a line per socket, padded to 127. */
function renderDatagram4(header: string, sockets: readonly ProcInetSocket[]): string {
  let out = pad(header, 127);
  sockets.forEach((s, i) => {
    out += pad(
      `${String(s.slot ?? i).padStart(5)}: ${be32(s.local.address)}:${hex(s.local.port, 4)} ` +
        `${be32(s.remote.address)}:${hex(s.remote.port, 4)} ${udpTail(s)}`,
      127,
    );
  });
  return out;
}

/** /proc/net/udp: lines padded to 127 columns. */
export function renderUdp(sockets: readonly ProcInetSocket[]): string {
  return renderDatagram4(
    '   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops',
    sockets,
  );
}

/**
 * /proc/net/icmp (ping_v4_seq_show): the ping sockets that have an identifier, as udp lists its
 * sockets (the identifier as the local port, the peer's port 0), under a header of its own (one
 * space less before `sl`); lines padded to 127 columns. /proc/net/icmp6 is {@link renderUdp6}'s
 * format.
 */
export function renderIcmp(sockets: readonly ProcInetSocket[]): string {
  return renderDatagram4(
    '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops',
    sockets,
  );
}

/** /proc/net/udp6. */
export function renderUdp6(sockets: readonly ProcInetSocket[]): string {
  let out =
    '  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n';
  sockets.forEach((s, i) => {
    out +=
      `${String(s.slot ?? i).padStart(5)}: ${in6(s.local.address)}:${hex(s.local.port, 4)} ` +
      `${in6(s.remote.address)}:${hex(s.remote.port, 4)} ${udpTail(s)}\n`;
  });
  return out;
}

/** /proc/net/unix: an abstract name prints as `@name` with its NULs as `@`. */
export function renderUnix(sockets: readonly ProcUnixSocket[]): string {
  let out = 'Num       RefCount Protocol Flags    Type St Inode Path\n';
  for (const s of sockets) {
    out +=
      `${ZERO_PTR}: ${hex(s.refCount, 8)} 00000000 ${hex(s.flags, 8)} ${hex(s.type, 4)} ` +
      `${hex(s.state, 2)} ${String(s.inode).padStart(5)}`;
    if (s.path !== undefined) out += ' ' + s.path.replace(/\0/g, '@');
    out += '\n';
  }
  return out;
}

/** /proc/net/if_inet6. */
export function renderIfInet6(addrs: readonly ProcInet6Address[]): string {
  return addrs
    .map((a) => {
      const addr = Array.from(a.address, (b) => b.toString(16).padStart(2, '0')).join('');
      const h = (v: number): string => v.toString(16).padStart(2, '0');
      return `${addr} ${h(a.ifindex)} ${h(a.prefixLen)} ${h(a.scope)} ${h(a.flags)} ${a.device.padStart(8)}\n`;
    })
    .join('');
}

/** /proc/net/route: tab-separated, every line padded to 127 columns. */
export function renderRoute(routes: readonly ProcRoute[]): string {
  let out = pad('Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT', 127);
  for (const r of routes) {
    out += pad(
      `${r.device}\t${be32(r.destination)}\t${be32(r.gateway)}\t${hex(r.flags, 4)}\t0\t0\t${r.metric}\t` +
        `${be32(r.mask)}\t${r.mtu ?? 0}\t${r.window ?? 0}\t${r.irtt ?? 0}`,
      127,
    );
  }
  return out;
}

/** /proc/net/sockstat (sockstat_seq_show). */
export function renderSockstat(s: ProcSockstat): string {
  return (
    `sockets: used ${s.used}\n` +
    `TCP: inuse ${s.tcpInuse} orphan ${s.tcpOrphan} tw ${s.tcpTimeWait} alloc ${s.tcpAlloc} mem ${s.tcpMem}\n` +
    `UDP: inuse ${s.udpInuse} mem ${s.udpMem}\n` +
    `UDPLITE: inuse ${s.udpliteInuse}\n` +
    `RAW: inuse ${s.rawInuse}\n` +
    `FRAG: inuse ${s.fragInuse} memory ${s.fragMemory}\n`
  );
}

/** /proc/net/sockstat6 (sockstat6_seq_show). */
export function renderSockstat6(s: ProcSockstat): string {
  return (
    `TCP6: inuse ${s.tcp6Inuse}\n` +
    `UDP6: inuse ${s.udp6Inuse}\n` +
    `UDPLITE6: inuse ${s.udplite6Inuse}\n` +
    `RAW6: inuse ${s.raw6Inuse}\n` +
    `FRAG6: inuse ${s.frag6Inuse} memory ${s.frag6Memory}\n`
  );
}

/** The counts of a namespace without sockets. */
export const EMPTY_SOCKSTAT: ProcSockstat = {
  used: 0,
  tcpInuse: 0,
  tcpOrphan: 0,
  tcpTimeWait: 0,
  tcpAlloc: 0,
  tcpMem: 0,
  udpInuse: 0,
  udpMem: 0,
  udpliteInuse: 0,
  rawInuse: 0,
  fragInuse: 0,
  fragMemory: 0,
  tcp6Inuse: 0,
  udp6Inuse: 0,
  udplite6Inuse: 0,
  raw6Inuse: 0,
  frag6Inuse: 0,
  frag6Memory: 0,
};

/** Bit `i` (from the most significant) of a 16-byte address. */
function bit(a: Uint8Array, i: number): number {
  return ((a[i >> 3] ?? 0) >> (7 - (i & 7))) & 1;
}

/**
 * The order fib6_walk visits routes of one table: the radix tree in order (a 0 bit before a 1
 * bit), a node's own routes after those of the longer prefixes below it, and the routes of one
 * prefix by metric.
 */
function fib6Order(a: ProcIpv6Route, b: ProcIpv6Route): number {
  const common = Math.min(a.prefixLen, b.prefixLen);
  for (let i = 0; i < common; i++) {
    const d = bit(a.destination, i) - bit(b.destination, i);
    if (d !== 0) return d;
  }
  if (a.prefixLen !== b.prefixLen) return b.prefixLen - a.prefixLen;
  return a.metric - b.metric;
}

const ZERO_IN6 = '0'.repeat(32);
/** ip6_null_entry: what a table without a ::/0 route holds at its root, a reject route on lo. */
const NULL_ROUTE = `${ZERO_IN6} 00 ${ZERO_IN6} 00 ${ZERO_IN6} ffffffff 00000001 00000000 00200200       lo\n`;

/**
 * /proc/net/ipv6_route (ipv6_route_native_seq_show): the main table, then the local one, each in
 * fib6 walk order and ending with the null route when it has no default route. Addresses print
 * as 32 hex digits, numbers as 8 lowercase ones; the source prefix (subtrees) is always empty.
 */
export function renderIpv6Route(routes: readonly ProcIpv6Route[]): string {
  const hexAddr = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  const h8 = (v: number): string => (v >>> 0).toString(16).padStart(8, '0');
  let out = '';
  for (const table of ['main', 'local'] as const) {
    const mine = routes.filter((r) => r.table === table).sort(fib6Order);
    for (const r of mine)
      out +=
        `${hexAddr(r.destination)} ${r.prefixLen.toString(16).padStart(2, '0')} ${ZERO_IN6} 00 ` +
        `${r.gateway ? hexAddr(r.gateway) : ZERO_IN6} ${h8(r.metric)} ${h8(r.refCount ?? 1)} ${h8(0)} ` +
        `${h8(r.flags)} ${r.device.padStart(8)}\n`;
    if (!mine.some((r) => r.prefixLen === 0)) out += NULL_ROUTE;
  }
  return out;
}

/** /proc/net/arp (arp_seq_show): a header, then one line per neighbour. */
export function renderArp(entries: readonly ProcArpEntry[]): string {
  let out = 'IP address       HW type     Flags       HW address            Mask     Device\n';
  for (const e of entries) {
    const ip = Array.from(e.address.subarray(0, 4)).join('.');
    const mac = Array.from(e.hwAddress, (b) => b.toString(16).padStart(2, '0')).join(':');
    out +=
      `${ip.padEnd(16)} 0x${e.hwType.toString(16).padEnd(10)}0x${e.flags.toString(16).padEnd(10)}` +
      `${mac.padEnd(17)}     ${'*'.padEnd(8)} ${e.device}\n`;
  }
  return out;
}

/** The header line of /proc/net/raw (family 4) or raw6, what a namespace without raw sockets shows. */
export function renderRawHeader(family: 4 | 6): string {
  return family === 4
    ? '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n'
    : '  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n';
}

/**
 * /proc/net/raw (raw_sock_seq_show): udp's columns with a narrower `sl`, lines not padded; raw6
 * (ip6_dgram_sock_seq_show) is udp6's line format under {@link renderRawHeader}'s header.
 */
export function renderRaw(family: 4 | 6, sockets: readonly ProcInetSocket[]): string {
  let out = renderRawHeader(family);
  sockets.forEach((s, i) => {
    const sl = String(s.slot ?? i).padStart(family === 4 ? 4 : 5);
    const at = (a: ProcSockAddr): string =>
      `${family === 4 ? be32(a.address) : in6(a.address)}:${hex(a.port, 4)}`;
    out += `${sl}: ${at(s.local)} ${at(s.remote)} ${udpTail(s)}\n`;
  });
  return out;
}

/**
 * /proc/net/psched (psched_show): nanoseconds per microsecond, nanoseconds per scheduler tick
 * (64), the clock's ticks per second (1000000), and the clock resolution as a rate (1e9: the
 * sandbox's clocks count nanoseconds, as high-resolution timers do).
 */
export function renderPsched(): string {
  return '000003e8 00000040 000f4240 3b9aca00\n';
}

/** /proc/net/netlink (netlink_seq_show). */
export function renderNetlink(sockets: readonly ProcNetlinkSocket[]): string {
  let out = 'sk               Eth Pid        Groups   Rmem     Wmem     Dump  Locks    Drops    Inode\n';
  for (const s of sockets)
    out +=
      `${ZERO_PTR} ${String(s.protocol).padEnd(3)} ${String(s.portid).padEnd(10)} ${hex(s.groups, 8).toLowerCase()} ` +
      `${String(s.rmem).padEnd(8)} ${String(s.wmem).padEnd(8)} ${String(s.dump).padEnd(5)} ` +
      `${String(s.refCount).padEnd(8)} ${String(s.drops).padEnd(8)} ${String(s.inode).padEnd(8)}\n`;
  return out;
}

/** The header line of /proc/net/packet, what a namespace without packet sockets shows. */
export function renderPacketHeader(): string {
  return 'sk               RefCnt Type Proto  Iface R Rmem   User   Inode\n';
}

/** /proc/net/packet (packet_seq_show), the socket pointer hidden as kptr_restrict does. */
export function renderPacket(sockets: readonly ProcPacketSocket[]): string {
  let out = renderPacketHeader();
  for (const s of sockets)
    out +=
      `${ZERO_PTR} ${String(s.refCount).padEnd(6)} ${String(s.type).padEnd(4)} ` +
      `${hex(s.protocol, 4).toLowerCase()}   ${String(s.ifindex).padEnd(5)} ${s.running ? 1 : 0} ` +
      `${String(s.rmem).padEnd(6)} ${String(s.uid).padEnd(6)} ${String(s.inode).padEnd(6)}\n`;
  return out;
}
