// @tsvisor/netstack: a userspace TCP/IP stack in smoltcp's layering.
// Devices (phy), wire formats (wire), storage, the interface (iface), sockets, and Stack.

// Wire formats
export { WireError, isWireError } from './wire/error.js';
export { get16, get32, set16, set32 } from './wire/bytes.js';
export {
  checksumAdd,
  checksumFold,
  internetChecksum,
  pseudoHeaderSum,
  checksumVerifies,
} from './wire/checksum.js';
export { Ipv4Address, Ipv6Address, IpCidr, parseIpAddress, endpointToString } from './wire/ip-address.js';
export type { IpAddress, IpEndpoint } from './wire/ip-address.js';
export {
  EthernetAddress,
  EthernetFrame,
  EthernetRepr,
  EtherType,
  ETHERNET_HEADER_LEN,
} from './wire/ethernet.js';
export { ArpPacket, ArpRepr, ArpOperation, ARP_PACKET_LEN } from './wire/arp.js';
export { Ipv4Packet, Ipv4Repr, IpProtocol, IPV4_HEADER_LEN } from './wire/ipv4.js';
export { Ipv6Packet, Ipv6Repr, IPV6_HEADER_LEN } from './wire/ipv6.js';
export { Icmpv4Packet, Icmpv4Repr, Icmpv4Type, Icmpv4Unreachable, ICMPV4_HEADER_LEN } from './wire/icmpv4.js';
export {
  Icmpv6Packet,
  Icmpv6Repr,
  Icmpv6Type,
  Icmpv6Unreachable,
  ICMPV6_HEADER_LEN,
  NdpOption,
} from './wire/icmpv6.js';
export type { PrefixInfo } from './wire/icmpv6.js';
export { UdpPacket, UdpRepr, UdpLiteRepr, UDP_HEADER_LEN } from './wire/udp.js';
export {
  TcpPacket,
  TcpRepr,
  TcpFlag,
  TcpOptionKind,
  TCP_HEADER_LEN,
  TCP_MAX_HEADER_LEN,
  tcpSegmentLen,
  seqAdd,
  seqDiff,
  seqLt,
  seqLe,
} from './wire/tcp.js';
export type { SackBlock } from './wire/tcp.js';

// Devices
export type { Device, DeviceCapabilities, Medium } from './phy/device.js';
export { LOOPBACK_MTU, LoopbackDevice, linkPair } from './phy/loopback.js';
export { FaultInjector, seededRandom } from './phy/fault-injector.js';
export type { FaultConfig } from './phy/fault-injector.js';
export { PcapWriter, PcapLinkType } from './phy/pcap-writer.js';
export { StreamDevice, STREAM_FRAME_MAX } from './phy/stream-device.js';
export type { PcapSink } from './phy/pcap-writer.js';

// Storage
export { RingBuffer, PacketBuffer } from './storage/ring-buffer.js';
export type { SpanCopy } from './storage/ring-buffer.js';
export { Assembler } from './storage/assembler.js';

// Interface
export { Interface, cidr, linkCounters, linkLocalAddress, solicitedNodeAddress } from './iface/interface.js';
export {
  Ipv4Reassembler,
  Ipv6Reassembler,
  fragmentIpv4,
  fragmentIpv6,
  parseIpv6Fragment,
  IPV6_FRAGMENT_HEADER,
  IPV6_FRAGMENT_HEADER_LEN,
} from './iface/fragment.js';
export type { Ipv6FragmentHeader } from './iface/fragment.js';
export type { ReassemblyLimits } from './iface/fragment.js';
export type {
  HopLimitConf,
  IcmpErrorReport,
  InterfaceConfig,
  InterfaceStats,
  Ipv4IfaceSysctl,
  LinkCounters,
  RouteChoice,
  SocketTable,
  StaticRoute,
} from './iface/interface.js';
export { Slaac, IfaFlag, resolveAddrconf, linkLocalFor, eui64Address } from './iface/slaac.js';
export { IcmpRateLimiter, defaultIcmp4RateSysctl, defaultIcmp6Ratemask } from './iface/icmp-limit.js';
export type { Icmp4RateSysctl, Icmp6RateSysctl, IcmpLimitVerdict, IcmpPath } from './iface/icmp-limit.js';
export type {
  SlaacTarget,
  AddrGenMode,
  AddrconfOptions,
  ResolvedAddrconf,
  Ipv6AddressInfo,
  Ipv6DevConf,
  Ipv6Sysctl,
} from './iface/slaac.js';
export {
  stableAddress,
  stableAddressCandidate,
  randomAddress,
  isReservedInterfaceId,
  IDGEN_RETRIES,
} from './iface/interface-id.js';
export type { StableAddress } from './iface/interface-id.js';
export type { Outgoing, EmitResult, DispatchContext } from './iface/outgoing.js';
export {
  PacketType,
  ArpHardware,
  ethernetPacketType,
  ETH_P_802_3,
  ETH_P_802_2,
  ETH_P_802_3_MIN,
} from './iface/packet-tap.js';
export type { PacketTap, TappedFrame } from './iface/packet-tap.js';
export { frameTruesize } from './socket/skb-truesize.js';

// Sockets
export { WOULD_BLOCK } from './socket/would-block.js';
export type { WouldBlock } from './socket/would-block.js';
export { EPHEMERAL_PORT_MIN, EPHEMERAL_PORT_MAX } from './socket/socket-set.js';
export type { SocketEnv } from './socket/socket-set.js';
export { UdpSocket, udpBuffers } from './socket/udp.js';
export type { UdpBuffers, UdpReceived, UdpRxMeta, UdpSendOptions } from './socket/udp.js';
export { TcpSocket, TcpListener, rstFor } from './socket/tcp.js';
export { TcpTimeWait } from './socket/tcp-time-wait.js';
export { IcmpSocket } from './socket/icmp.js';
export type { IcmpReceived } from './socket/icmp.js';
export { RawSocket, IPPROTO_RAW } from './socket/raw.js';
export type { RawReceived, RawSendOptions } from './socket/raw.js';
export type { TcpState, TcpConfig, TcpBuffers } from './socket/tcp.js';
export {
  Cubic,
  Reno,
  congestionControl,
  CONGESTION_ALGORITHMS,
  CUBIC_BETA,
  CUBIC_C,
  HyStartPlusPlus,
} from './socket/congestion.js';
export type { CongestionAlgorithm, CongestionControl } from './socket/congestion.js';
export { encodeTcpInfo, TCP_INFO_LEN } from './socket/tcp-info.js';
export type { TcpInfo } from './socket/tcp-info.js';

// SNMP counters (/proc/net/snmp, netstat, snmp6)
export { NetMib, IpMib, IcmpMib, TcpMib, TcpExtMib, UdpMib } from './stats/mib.js';
export type { ReassemblyCounters } from './stats/mib.js';

// The stack
export { Stack, LINUX_TCP_STATE, LOOPBACK_IFINDEX } from './stack.js';
export type { StackConfig, SocketEntry, StackSysctl } from './stack.js';

// The socket layer (shaped for the socket syscalls)
export { InetSocket } from './socket/inet-socket.js';
export { pingGroupAllowed } from './socket/ping-group.js';
export {
  BPF_MAXINSNS,
  SOCK_FILTER_SIZE,
  SKF_AD_OFF,
  SKF_LL_OFF,
  SKF_NET_OFF,
  SkfAd,
  SocketFilter,
  checkClassicProgram,
  decodeSockFilters,
  encodeSockFilters,
  runClassicFilter,
} from './socket/cbpf.js';
export type { ClassicProgram, FilterPacket, SockFilter } from './socket/cbpf.js';
export type { InetSocketConfig, RecvResult } from './socket/inet-socket.js';
export { PmtuDisc, SOL_UDP, UdpOption, UDP_MAX_SEGMENTS } from './socket/ip-options.js';
export {
  parseSockaddr,
  emitSockaddr,
  sockaddrFamily,
  SOCKADDR_IN_LEN,
  SOCKADDR_IN6_LEN,
} from './socket/sockaddr.js';

// AF_UNIX
export { UnixDomain, UnixSocket, UNIX_DEFAULT_SNDBUF, UNIX_DEFAULT_RCVBUF } from './unix/unix-socket.js';
export type {
  UnixAncillary,
  UnixCreds,
  UnixDomainHooks,
  UnixPathBinder,
  UnixRecvResult,
} from './unix/unix-socket.js';
