/**
 * Socket constants: address families, socket types, levels, options (`SO_*`, `IP_*`, `IPV6_*`,
 * `TCP_*`), message flags, shutdown modes, control-message types and IP protocol numbers.
 *
 * @module
 */
import { defineEnum, defineFlags } from './flagset.js';

/** Address families (`AF_*`); `PF_*` are the same numbers. */
export const AddressFamily = {
  AF_UNSPEC: 0,
  AF_UNIX: 1,
  AF_LOCAL: 1,
  AF_INET: 2,
  AF_AX25: 3,
  AF_IPX: 4,
  AF_APPLETALK: 5,
  AF_NETROM: 6,
  AF_BRIDGE: 7,
  AF_ATMPVC: 8,
  AF_X25: 9,
  AF_INET6: 10,
  AF_ROSE: 11,
  AF_DECnet: 12,
  AF_NETBEUI: 13,
  AF_SECURITY: 14,
  AF_KEY: 15,
  AF_NETLINK: 16,
  AF_ROUTE: 16,
  AF_PACKET: 17,
  AF_ASH: 18,
  AF_ECONET: 19,
  AF_ATMSVC: 20,
  AF_RDS: 21,
  AF_SNA: 22,
  AF_IRDA: 23,
  AF_PPPOX: 24,
  AF_WANPIPE: 25,
  AF_LLC: 26,
  AF_IB: 27,
  AF_MPLS: 28,
  AF_CAN: 29,
  AF_TIPC: 30,
  AF_BLUETOOTH: 31,
  AF_IUCV: 32,
  AF_RXRPC: 33,
  AF_ISDN: 34,
  AF_PHONET: 35,
  AF_IEEE802154: 36,
  AF_CAIF: 37,
  AF_ALG: 38,
  AF_NFC: 39,
  AF_VSOCK: 40,
  AF_KCM: 41,
  AF_QIPCRTR: 42,
  AF_SMC: 43,
  AF_XDP: 44,
  AF_MCTP: 45,
  AF_MAX: 46,
} as const;

/** Address families, for decoding (strace's names: AF_UNIX, AF_NETLINK). */
export const addressFamilies = defineEnum(
  'family',
  Object.entries(AddressFamily)
    .filter(([n]) => !['AF_LOCAL', 'AF_ROUTE', 'AF_MAX'].includes(n))
    .map(([name, value]) => ({ name, value })),
);

/** Socket types (`SOCK_*`) and the flags socket(2) accepts in the same word. */
export const SockType = {
  SOCK_STREAM: 1,
  SOCK_DGRAM: 2,
  SOCK_RAW: 3,
  SOCK_RDM: 4,
  SOCK_SEQPACKET: 5,
  SOCK_DCCP: 6,
  SOCK_PACKET: 10,
  SOCK_TYPE_MASK: 0xf,
  SOCK_NONBLOCK: 0o4000,
  SOCK_CLOEXEC: 0o2000000,
} as const;

const sockTypeValues = Object.entries(SockType)
  .filter(([n]) => n !== 'SOCK_TYPE_MASK' && n !== 'SOCK_NONBLOCK' && n !== 'SOCK_CLOEXEC')
  .map(([name, value]) => ({ name, value }));

/** socket(2)/socketpair type word: the type then `SOCK_CLOEXEC`/`SOCK_NONBLOCK`, like strace. */
export const sockTypes = defineFlags(
  'sock_type',
  { SOCK_CLOEXEC: SockType.SOCK_CLOEXEC, SOCK_NONBLOCK: SockType.SOCK_NONBLOCK },
  {
    mode: {
      mask: SockType.SOCK_TYPE_MASK,
      position: 'first',
      omitZero: false,
      values: sockTypeValues,
      unknown: 'remainder',
    },
    remainderComment: true,
  },
);

/** accept4(2) flags. */
export const sockFlags = defineFlags('sock_flags', {
  SOCK_CLOEXEC: SockType.SOCK_CLOEXEC,
  SOCK_NONBLOCK: SockType.SOCK_NONBLOCK,
});

/** Socket option levels (`SOL_*`). */
export const SocketLevel = {
  SOL_IP: 0,
  SOL_SOCKET: 1,
  SOL_TCP: 6,
  SOL_UDP: 17,
  SOL_IPV6: 41,
  SOL_ICMPV6: 58,
  SOL_SCTP: 132,
  SOL_UDPLITE: 136,
  SOL_RAW: 255,
  SOL_IPX: 256,
  SOL_AX25: 257,
  SOL_ATALK: 258,
  SOL_NETROM: 259,
  SOL_ROSE: 260,
  SOL_DECNET: 261,
  SOL_X25: 262,
  SOL_PACKET: 263,
  SOL_ATM: 264,
  SOL_AAL: 265,
  SOL_IRDA: 266,
  SOL_NETBEUI: 267,
  SOL_LLC: 268,
  SOL_DCCP: 269,
  SOL_NETLINK: 270,
  SOL_TIPC: 271,
  SOL_RXRPC: 272,
  SOL_PPPOL2TP: 273,
  SOL_BLUETOOTH: 274,
  SOL_PNPIPE: 275,
  SOL_RDS: 276,
  SOL_IUCV: 277,
  SOL_CAIF: 278,
  SOL_ALG: 279,
  SOL_NFC: 280,
  SOL_KCM: 281,
  SOL_TLS: 282,
  SOL_XDP: 283,
  SOL_MPTCP: 284,
  SOL_MCTP: 285,
  SOL_SMC: 286,
} as const;

/** Socket levels, for decoding. */
export const socketLevels = defineEnum('sol', SocketLevel, { marker: 'SOL_??' });

/** `SOL_SOCKET` options (`SO_*`), x86-64 values (the time options are the 64-bit-time "OLD" ones). */
export const SocketOption = {
  SO_DEBUG: 1,
  SO_REUSEADDR: 2,
  SO_TYPE: 3,
  SO_ERROR: 4,
  SO_DONTROUTE: 5,
  SO_BROADCAST: 6,
  SO_SNDBUF: 7,
  SO_RCVBUF: 8,
  SO_KEEPALIVE: 9,
  SO_OOBINLINE: 10,
  SO_NO_CHECK: 11,
  SO_PRIORITY: 12,
  SO_LINGER: 13,
  SO_BSDCOMPAT: 14,
  SO_REUSEPORT: 15,
  SO_PASSCRED: 16,
  SO_PEERCRED: 17,
  SO_RCVLOWAT: 18,
  SO_SNDLOWAT: 19,
  SO_RCVTIMEO: 20,
  SO_SNDTIMEO: 21,
  SO_RCVTIMEO_OLD: 20,
  SO_SNDTIMEO_OLD: 21,
  SO_SECURITY_AUTHENTICATION: 22,
  SO_SECURITY_ENCRYPTION_TRANSPORT: 23,
  SO_SECURITY_ENCRYPTION_NETWORK: 24,
  SO_BINDTODEVICE: 25,
  SO_ATTACH_FILTER: 26,
  /** getsockopt's name for 26. */
  SO_GET_FILTER: 26,
  SO_DETACH_FILTER: 27,
  SO_PEERNAME: 28,
  SO_TIMESTAMP: 29,
  SO_TIMESTAMP_OLD: 29,
  SO_ACCEPTCONN: 30,
  SO_PEERSEC: 31,
  SO_SNDBUFFORCE: 32,
  SO_RCVBUFFORCE: 33,
  SO_PASSSEC: 34,
  SO_TIMESTAMPNS: 35,
  SO_TIMESTAMPNS_OLD: 35,
  SO_MARK: 36,
  SO_TIMESTAMPING: 37,
  SO_TIMESTAMPING_OLD: 37,
  SO_PROTOCOL: 38,
  SO_DOMAIN: 39,
  SO_RXQ_OVFL: 40,
  SO_WIFI_STATUS: 41,
  SO_PEEK_OFF: 42,
  SO_NOFCS: 43,
  SO_LOCK_FILTER: 44,
  SO_SELECT_ERR_QUEUE: 45,
  SO_BUSY_POLL: 46,
  SO_MAX_PACING_RATE: 47,
  SO_BPF_EXTENSIONS: 48,
  SO_INCOMING_CPU: 49,
  SO_ATTACH_BPF: 50,
  SO_ATTACH_REUSEPORT_CBPF: 51,
  SO_ATTACH_REUSEPORT_EBPF: 52,
  SO_CNX_ADVICE: 53,
  SO_MEMINFO: 55,
  SO_INCOMING_NAPI_ID: 56,
  SO_COOKIE: 57,
  SO_PEERGROUPS: 59,
  SO_ZEROCOPY: 60,
  SO_TXTIME: 61,
  SO_BINDTOIFINDEX: 62,
  SO_TIMESTAMP_NEW: 63,
  SO_TIMESTAMPNS_NEW: 64,
  SO_TIMESTAMPING_NEW: 65,
  SO_RCVTIMEO_NEW: 66,
  SO_SNDTIMEO_NEW: 67,
  SO_DETACH_REUSEPORT_BPF: 68,
  SO_PREFER_BUSY_POLL: 69,
  SO_BUSY_POLL_BUDGET: 70,
  SO_NETNS_COOKIE: 71,
  SO_BUF_LOCK: 72,
  SO_RESERVE_MEM: 73,
  SO_TXREHASH: 74,
  SO_RCVMARK: 75,
  /** Linux 6.5. */
  SO_PASSPIDFD: 76,
  /** Linux 6.5. */
  SO_PEERPIDFD: 77,
} as const;

/** Socket options of SOL_SOCKET, for decoding (first name of a number wins). */
export const socketOptions = defineEnum(
  'so',
  // strace names 20, 21, 29, 35 and 37 by their explicit x86-64 "_OLD" names (SO_TIMESTAMP_OLD).
  Object.entries(SocketOption)
    .filter(
      ([n, v]) =>
        n !== 'SO_GET_FILTER' &&
        (n.endsWith('_OLD') ||
          !(`${n}_OLD` in SocketOption && SocketOption[`${n}_OLD` as keyof typeof SocketOption] === v)),
    )
    .map(([name, value]) => ({ name, value }))
    .sort((a, b) => a.value - b.value),
  { prefix: 'SO_' },
);

/** Control-message types at SOL_SOCKET (`SCM_*`). */
export const Scm = {
  SCM_RIGHTS: 1,
  SCM_CREDENTIALS: 2,
  SCM_SECURITY: 3,
  /** Linux 6.5. */
  SCM_PIDFD: 4,
  SCM_TIMESTAMP: 29,
  SCM_TIMESTAMPNS: 35,
  SCM_TIMESTAMPING: 37,
  SCM_WIFI_STATUS: 41,
  SCM_TXTIME: 61,
} as const;

/** IP protocol numbers (`IPPROTO_*`). */
export const IpProto = {
  IPPROTO_IP: 0,
  IPPROTO_ICMP: 1,
  IPPROTO_IGMP: 2,
  IPPROTO_IPIP: 4,
  IPPROTO_TCP: 6,
  IPPROTO_EGP: 8,
  IPPROTO_PUP: 12,
  IPPROTO_UDP: 17,
  IPPROTO_IDP: 22,
  IPPROTO_TP: 29,
  IPPROTO_DCCP: 33,
  IPPROTO_IPV6: 41,
  IPPROTO_RSVP: 46,
  IPPROTO_GRE: 47,
  IPPROTO_ESP: 50,
  IPPROTO_AH: 51,
  IPPROTO_ICMPV6: 58,
  IPPROTO_MTP: 92,
  IPPROTO_BEETPH: 94,
  IPPROTO_ENCAP: 98,
  IPPROTO_PIM: 103,
  IPPROTO_COMP: 108,
  IPPROTO_L2TP: 115,
  IPPROTO_SCTP: 132,
  IPPROTO_UDPLITE: 136,
  IPPROTO_MPLS: 137,
  IPPROTO_ETHERNET: 143,
  IPPROTO_RAW: 255,
  IPPROTO_MPTCP: 262,
} as const;

/** IP protocols, for decoding. */
export const ipProtocols = defineEnum('ipproto', IpProto);

/** `SOL_IP` options (`IP_*`). */
export const IpOption = {
  IP_TOS: 1,
  IP_TTL: 2,
  IP_HDRINCL: 3,
  IP_OPTIONS: 4,
  IP_ROUTER_ALERT: 5,
  IP_RECVOPTS: 6,
  IP_RETOPTS: 7,
  IP_PKTINFO: 8,
  IP_PKTOPTIONS: 9,
  IP_MTU_DISCOVER: 10,
  IP_RECVERR: 11,
  IP_RECVTTL: 12,
  IP_RECVTOS: 13,
  IP_MTU: 14,
  IP_FREEBIND: 15,
  IP_IPSEC_POLICY: 16,
  IP_XFRM_POLICY: 17,
  IP_PASSSEC: 18,
  IP_TRANSPARENT: 19,
  IP_ORIGDSTADDR: 20,
  IP_RECVORIGDSTADDR: 20,
  IP_MINTTL: 21,
  IP_NODEFRAG: 22,
  IP_CHECKSUM: 23,
  IP_BIND_ADDRESS_NO_PORT: 24,
  IP_RECVFRAGSIZE: 25,
  IP_RECVERR_RFC4884: 26,
  IP_MULTICAST_IF: 32,
  IP_MULTICAST_TTL: 33,
  IP_MULTICAST_LOOP: 34,
  IP_ADD_MEMBERSHIP: 35,
  IP_DROP_MEMBERSHIP: 36,
  IP_UNBLOCK_SOURCE: 37,
  IP_BLOCK_SOURCE: 38,
  IP_ADD_SOURCE_MEMBERSHIP: 39,
  IP_DROP_SOURCE_MEMBERSHIP: 40,
  IP_MSFILTER: 41,
  /** Protocol-independent multicast options, valid at SOL_IP and SOL_IPV6. */
  MCAST_JOIN_GROUP: 42,
  MCAST_BLOCK_SOURCE: 43,
  MCAST_UNBLOCK_SOURCE: 44,
  MCAST_LEAVE_GROUP: 45,
  MCAST_JOIN_SOURCE_GROUP: 46,
  MCAST_LEAVE_SOURCE_GROUP: 47,
  MCAST_MSFILTER: 48,
  IP_MULTICAST_ALL: 49,
  IP_UNICAST_IF: 50,
  /** Linux 6.3. */
  IP_LOCAL_PORT_RANGE: 51,
  /** Linux 6.6. */
  IP_PROTOCOL: 52,
} as const;

/** `SOL_IPV6` options (`IPV6_*`). */
export const Ipv6Option = {
  IPV6_ADDRFORM: 1,
  IPV6_2292PKTINFO: 2,
  IPV6_2292HOPOPTS: 3,
  IPV6_2292DSTOPTS: 4,
  IPV6_2292RTHDR: 5,
  IPV6_2292PKTOPTIONS: 6,
  IPV6_CHECKSUM: 7,
  IPV6_2292HOPLIMIT: 8,
  IPV6_NEXTHOP: 9,
  IPV6_AUTHHDR: 10,
  IPV6_UNICAST_HOPS: 16,
  IPV6_MULTICAST_IF: 17,
  IPV6_MULTICAST_HOPS: 18,
  IPV6_MULTICAST_LOOP: 19,
  IPV6_ADD_MEMBERSHIP: 20,
  IPV6_JOIN_GROUP: 20,
  IPV6_DROP_MEMBERSHIP: 21,
  IPV6_LEAVE_GROUP: 21,
  IPV6_ROUTER_ALERT: 22,
  IPV6_MTU_DISCOVER: 23,
  IPV6_MTU: 24,
  IPV6_RECVERR: 25,
  IPV6_V6ONLY: 26,
  IPV6_JOIN_ANYCAST: 27,
  IPV6_LEAVE_ANYCAST: 28,
  IPV6_MULTICAST_ALL: 29,
  IPV6_ROUTER_ALERT_ISOLATE: 30,
  IPV6_RECVERR_RFC4884: 31,
  IPV6_IPSEC_POLICY: 34,
  IPV6_XFRM_POLICY: 35,
  IPV6_HDRINCL: 36,
  IPV6_RECVPKTINFO: 49,
  IPV6_PKTINFO: 50,
  IPV6_RECVHOPLIMIT: 51,
  IPV6_HOPLIMIT: 52,
  IPV6_RECVHOPOPTS: 53,
  IPV6_HOPOPTS: 54,
  IPV6_RTHDRDSTOPTS: 55,
  IPV6_RECVRTHDR: 56,
  IPV6_RTHDR: 57,
  IPV6_RECVDSTOPTS: 58,
  IPV6_DSTOPTS: 59,
  IPV6_RECVPATHMTU: 60,
  IPV6_PATHMTU: 61,
  IPV6_DONTFRAG: 62,
  IPV6_RECVTCLASS: 66,
  IPV6_TCLASS: 67,
  IPV6_AUTOFLOWLABEL: 70,
  IPV6_ADDR_PREFERENCES: 72,
  IPV6_MINHOPCOUNT: 73,
  IPV6_ORIGDSTADDR: 74,
  IPV6_RECVORIGDSTADDR: 74,
  IPV6_TRANSPARENT: 75,
  IPV6_UNICAST_IF: 76,
  IPV6_RECVFRAGSIZE: 77,
  IPV6_FREEBIND: 78,
} as const;

/**
 * IPv6 options only the uapi header <linux/in6.h> defines (glibc's <netinet/in.h> lacks them and
 * conflicts with it).
 */
export const Ipv6OptionLinux = {
  IPV6_FLOWINFO: 11,
  IPV6_FLOWLABEL_MGR: 32,
  IPV6_FLOWINFO_SEND: 33,
} as const;

/** `SOL_TCP` options (`TCP_*`). */
export const TcpOption = {
  TCP_NODELAY: 1,
  TCP_MAXSEG: 2,
  TCP_CORK: 3,
  TCP_KEEPIDLE: 4,
  TCP_KEEPINTVL: 5,
  TCP_KEEPCNT: 6,
  TCP_SYNCNT: 7,
  TCP_LINGER2: 8,
  TCP_DEFER_ACCEPT: 9,
  TCP_WINDOW_CLAMP: 10,
  TCP_INFO: 11,
  TCP_QUICKACK: 12,
  TCP_CONGESTION: 13,
  TCP_MD5SIG: 14,
  /** Removed from Linux in 3.10; glibc still defines it and strace still names it. */
  TCP_COOKIE_TRANSACTIONS: 15,
  TCP_THIN_LINEAR_TIMEOUTS: 16,
  TCP_THIN_DUPACK: 17,
  TCP_USER_TIMEOUT: 18,
  TCP_REPAIR: 19,
  TCP_REPAIR_QUEUE: 20,
  TCP_QUEUE_SEQ: 21,
  TCP_REPAIR_OPTIONS: 22,
  TCP_FASTOPEN: 23,
  TCP_TIMESTAMP: 24,
  TCP_NOTSENT_LOWAT: 25,
  TCP_CC_INFO: 26,
  TCP_SAVE_SYN: 27,
  TCP_SAVED_SYN: 28,
  TCP_REPAIR_WINDOW: 29,
  TCP_FASTOPEN_CONNECT: 30,
  TCP_ULP: 31,
  TCP_MD5SIG_EXT: 32,
  TCP_FASTOPEN_KEY: 33,
  TCP_FASTOPEN_NO_COOKIE: 34,
  TCP_ZEROCOPY_RECEIVE: 35,
  TCP_INQ: 36,
  TCP_CM_INQ: 36,
  TCP_TX_DELAY: 37,
} as const;

/** Message flags of send/recv (`MSG_*`). */
export const MsgFlag = {
  MSG_OOB: 0x1,
  MSG_PEEK: 0x2,
  MSG_DONTROUTE: 0x4,
  MSG_CTRUNC: 0x8,
  MSG_PROBE: 0x10,
  MSG_TRUNC: 0x20,
  MSG_DONTWAIT: 0x40,
  MSG_EOR: 0x80,
  MSG_WAITALL: 0x100,
  MSG_FIN: 0x200,
  MSG_SYN: 0x400,
  MSG_CONFIRM: 0x800,
  MSG_RST: 0x1000,
  MSG_ERRQUEUE: 0x2000,
  MSG_NOSIGNAL: 0x4000,
  MSG_MORE: 0x8000,
  MSG_WAITFORONE: 0x10000,
  MSG_BATCH: 0x40000,
  MSG_ZEROCOPY: 0x4000000,
  MSG_FASTOPEN: 0x20000000,
  MSG_CMSG_CLOEXEC: 0x40000000,
} as const;

/**
 * Message flags, for decoding. Besides the uapi flags this names the kernel-internal bits strace
 * names too (include/linux/socket.h), so a trace shows them by name.
 */
export const msgFlags = defineFlags(
  'msg',
  [
    ...Object.entries(MsgFlag).map(([name, value]) => ({ name, value })),
    { name: 'MSG_SENDPAGE_NOTLAST', value: 0x20000 },
    { name: 'MSG_NO_SHARED_FRAGS', value: 0x80000 },
    { name: 'MSG_CMSG_COMPAT', value: 0x80000000 },
  ].sort((a, b) => a.value - b.value),
);

/** shutdown(2) modes. */
export const Shut = { SHUT_RD: 0, SHUT_WR: 1, SHUT_RDWR: 2 } as const;

/** shutdown modes, for decoding. */
export const shutHow = defineEnum('shut', Shut);

function firstNames(record: Readonly<Record<string, number>>): { name: string; value: number }[] {
  const seen = new Set<number>();
  const out: { name: string; value: number }[] = [];
  for (const [name, value] of Object.entries(record)) {
    if (!seen.has(value)) out.push({ name, value });
    seen.add(value);
  }
  return out;
}

/** `SOL_IP` options, for decoding (the first name of a number wins). */
export const ipOptions = defineEnum('ip_opt', firstNames(IpOption), { prefix: 'IP_' });

/** `SOL_IPV6` options, for decoding. */
export const ipv6Options = defineEnum(
  'ipv6_opt',
  [
    ...firstNames(Ipv6Option),
    ...firstNames(Ipv6OptionLinux),
    ...Object.entries(IpOption)
      .filter(([n]) => n.startsWith('MCAST_'))
      .map(([name, value]) => ({ name, value })),
  ],
  { prefix: 'IPV6_' },
);

/** `SOL_TCP` options, for decoding. */
export const tcpOptions = defineEnum('tcp_opt', firstNames(TcpOption), { prefix: 'TCP_' });

/** SOL_SOCKET options as getsockopt names them (26 reads the filter: SO_GET_FILTER). */
export const socketGetOptions = defineEnum(
  'so_get',
  [{ name: 'SO_GET_FILTER', value: SocketOption.SO_GET_FILTER }, ...socketOptions.values],
  { prefix: 'SO_' },
);
