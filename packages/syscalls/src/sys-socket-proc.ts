/**
 * /proc/net of a sandbox: a procfs `ProcNetSource` over the sandbox's network state, so
 * `cat /proc/net/tcp`, `ss`, `netstat` and /sys/class/net see the sandbox's sockets and
 * interfaces. Inet sockets come from netstack's `Stack.sockets()`, each matched to its open file
 * for the inode and owner uid (0 for a connection the application already closed, as Linux);
 * AF_UNIX sockets from the open socket files. udplite, udplite6, icmp and icmp6 (ping sockets) come
 * from the same list; sockstat and sockstat6 count the lists and the open socket files, with the
 * stack's IP reassembly state as FRAG; ipv6_route is derived from the links' IPv6 addresses and
 * gateways as addrconf would fill Linux's tables; arp lists the resolved IPv4 neighbours of the
 * links that have them (the Ethernet eth0 of network mode sandbox).
 *
 * In network mode `host` (gVisor's hostinet) the inet sockets are host sockets: /proc/net/tcp,
 * tcp6, udp and udp6 list the sandbox's own open host sockets and nothing else of the host (the
 * host's other connections are not the sandbox's business), each described by what the host
 * says of that socket (getsockname, getpeername, TCP_INFO, SIOCINQ/SIOCOUTQ, SO_MEMINFO) with the
 * sandbox's inode and owner. The interfaces and routes are the host's, as rtnetlink shows them.
 * The net.ipv4 and net.core sysctls show the host's values (host sockets follow them) and refuse
 * opening for writing with EACCES: Linux's answer to root of a user namespace that does not own
 * the network namespace (proc_sys_permission: the other bits apply, and they grant no write;
 * the files show the overflow owner). A sandbox never changes a host sysctl.
 * In that mode udplite, udplite6, icmp and icmp6 list nothing yet (host sockets of those kinds are
 * not described), sockstat counts the listed host sockets (FRAG 0: the host's reassembly is not
 * the sandbox's), and ipv6_route is derived from the host's links as rtnetlink shows them.
 *
 * @module
 */
import { packetSockets } from './sys-socket-packet.js';
import { E, isError, type LinuxError } from '@tsvisor/abi';
import type { Kernel, Task } from '@tsvisor/kernel';
import {
  CONGESTION_ALGORITHMS,
  InetSocket,
  Ipv6Address,
  UnixSocket,
  type CongestionAlgorithm,
  type IpEndpoint,
  type Ipv6DevConf,
  type SocketEntry,
  type Stack,
  TcpTimeWait,
  type TcpSocket,
} from '@tsvisor/netstack';
import type {
  ProcInet6Address,
  ProcInetSocket,
  ProcArpEntry,
  ProcIpv6Route,
  ProcSockstat,
  ProcNetDevice,
  ProcNetlinkSocket,
  ProcNetIpv6Conf,
  ProcNetIpv6Sysctl,
  ProcNetIpv6SysctlWrite,
  ProcNetSource,
  ProcNetSysctl,
  ProcNetSysctlWrite,
  ProcRoute,
  ProcSockAddr,
  ProcUnixSocket,
} from '@tsvisor/procfs';
import { DEFAULT_NET_SYSCTL } from '@tsvisor/procfs';
import { closedHostConnectionsOf, type ClosedHostConnections } from './host-closed-sockets.js';
import { ARPHRD_LOOPBACK, IfFlag, ipv6AddressesOf, NetlinkSocket } from './sys-netlink.js';
import { initialNetOf, netOf, type NetState } from './sys-socket-file.js';
import { openHostSockets, type HostSocketImpl } from './sys-socket-host.js';

const ANY4 = new Uint8Array(4);
const ANY6 = new Uint8Array(16);
/** __SO_ACCEPTCON: the flag /proc/net/unix shows on a listening socket. */
const SO_ACCEPTCON = 0x10000;
const SS_UNCONNECTED = 1;
const SS_CONNECTED = 3;
/** IPV6_ADDR_* scopes as /proc/net/if_inet6 prints them. */
const SCOPE_GLOBAL = 0x00;
const SCOPE_HOST = 0x10;
const SCOPE_LINK = 0x20;

/** What {@link procNetSource} needs beyond the kernel. */
export interface ProcNetOptions {
  /**
   * Network mode `host`: the host's net.ipv4 sysctls and net.core.somaxconn, read when a program
   * reads them (host sockets follow the host's values). Without it, host mode shows Linux's
   * defaults. Opening them for writing is refused with EACCES either way.
   */
  readonly hostSysctl?: () => ProcNetSysctl;
  /**
   * Network mode `host`: the host's net.ipv6 sysctls (a conf directory per host link), read when
   * a program reads them. Without it, host mode shows Linux's defaults. Writes are refused with
   * EACCES either way.
   */
  readonly hostIpv6Sysctl?: () => ProcNetIpv6Sysctl;
  /**
   * Network mode `host`: the host's /proc/net/tcp (family 4) or tcp6 (6) text, read now; only
   * the lines of connections the sandbox closed are taken from it (see
   * {@link closedHostEntries}). Without it, closed connections are not listed.
   */
  readonly hostTcpTable?: (family: 4 | 6) => string | undefined;
}

/**
 * The sandbox's /proc/net (pass as `KernelProcSourceOptions.net`), in every network mode: over
 * netstack, or in mode `host` over the sandbox's own host sockets (see the module comment).
 *
 * Of the network namespace task `t` is in (/proc/<pid>/net shows the process's, /proc/net the
 * reader's); without one, of the initial namespace. Host sockets are in the initial one only.
 *
 * @example
 * ```ts
 * const proc = new KernelProcSource(kernel, { net: (t) => procNetSource(kernel, {}, t) });
 * ```
 */
export function procNetSource(kernel: Kernel, options: ProcNetOptions = {}, t?: Task): ProcNetSource {
  const net = t ? netOf(t) : initialNetOf(kernel);
  const hostOpen = (): readonly HostSocketImpl[] | undefined =>
    net.initial === undefined ? openHostSockets(kernel) : undefined;
  const inet = (protocol: 'tcp' | 'udp', family: 4 | 6): ProcInetSocket[] => {
    const host = hostOpen();
    if (!host) return inetSockets(net, protocol, family);
    const open = hostInetSockets(host, protocol, family);
    const table = options.hostTcpTable;
    if (protocol === 'udp' || table === undefined) return open;
    return [...open, ...closedHostEntries(closedHostConnectionsOf(kernel), family, () => table(family))];
  };
  const host = hostOpen() !== undefined;
  const hostSysctl = options.hostSysctl;
  const inetLite = (family: 4 | 6): ProcInetSocket[] =>
    hostOpen() ? [] : inetSockets(net, 'udplite', family);
  return {
    ...(host
      ? {
          sysctl: () => hostSysctl?.() ?? DEFAULT_NET_SYSCTL,
          setSysctl: (): LinuxError => E.EACCES,
          ...(options.hostIpv6Sysctl ? { ipv6Sysctl: options.hostIpv6Sysctl } : {}),
          setIpv6Sysctl: (): LinuxError => E.EACCES,
          sysctlOwned: false,
        }
      : {
          sysctl: () => netSysctl(net.stack),
          setSysctl: (w: ProcNetSysctlWrite) => setNetSysctl(net.stack, w),
          ipv6Sysctl: () => netIpv6Sysctl(net),
          setIpv6Sysctl: (w: ProcNetIpv6SysctlWrite) => setNetIpv6Sysctl(net, w),
          // /proc/net/snmp, netstat and snmp6 count what the sandbox's own stack did. In mode
          // `host` there is none: the host's counters are the host's business, so all read 0.
          mib: () => net.stack.mib.snapshot(),
        }),
    devices: () => devices(net),
    inet6Addresses: () => inet6Addresses(net),
    tcp: () => inet('tcp', 4),
    tcp6: () => inet('tcp', 6),
    udp: () => inet('udp', 4),
    udp6: () => inet('udp', 6),
    unix: () => unixSockets(net),
    routes: () => routes(net),
    udplite: () => inetLite(4),
    udplite6: () => inetLite(6),
    icmp: () => (hostOpen() ? [] : inetSockets(net, 'icmp', 4)),
    icmp6: () => (hostOpen() ? [] : inetSockets(net, 'icmp', 6)),
    raw: () => (hostOpen() ? [] : inetSockets(net, 'raw', 4)),
    raw6: () => (hostOpen() ? [] : inetSockets(net, 'raw', 6)),
    ipv6Routes: () => ipv6Routes(net),
    arp: () => arpEntries(net),
    netlink: () => netlinkSockets(net),
    packet: () => packetSockets(net),
    sockstat: () => {
      const hostSockets = hostOpen();
      const lists = {
        tcp4: inet('tcp', 4),
        tcp6: inet('tcp', 6),
        udp4: inet('udp', 4),
        udp6: inet('udp', 6),
        udplite4: inetLite(4),
        udplite6: inetLite(6),
        raw4: hostSockets ? [] : inetSockets(net, 'raw', 4),
        raw6: hostSockets ? [] : inetSockets(net, 'raw', 6),
      };
      let files = net.open.size;
      let tcpFiles = 0;
      for (const f of net.open)
        if (f.sock instanceof InetSocket && f.sock.protocol === IPPROTO_TCP) tcpFiles++;
      if (hostSockets) {
        files += hostSockets.length;
        for (const h of hostSockets) if (hostSocketFacts(h).protocol === IPPROTO_TCP) tcpFiles++;
      }
      const reassembly = hostSockets || !net.hasStack ? undefined : net.stack.iface;
      return sockstat(lists, files, tcpFiles, {
        inuse4: reassembly?.reassembler.pending ?? 0,
        memory4: reassembly?.reassembler.heldBytes ?? 0,
        inuse6: reassembly?.reassembler6.pending ?? 0,
        memory6: reassembly?.reassembler6.heldBytes ?? 0,
      });
    },
  };
}

/** The /proc/net socket lists {@link sockstat} counts. */
interface SockstatLists {
  readonly tcp4: readonly ProcInetSocket[];
  readonly tcp6: readonly ProcInetSocket[];
  readonly udp4: readonly ProcInetSocket[];
  readonly udp6: readonly ProcInetSocket[];
  readonly udplite4: readonly ProcInetSocket[];
  readonly udplite6: readonly ProcInetSocket[];
  /** Raw sockets; absent: none. */
  readonly raw4?: readonly ProcInetSocket[];
  readonly raw6?: readonly ProcInetSocket[];
}

/** sk_mem_pages: memory is charged to protocols in pages. */
const PAGE_SIZE = 4096;

/**
 * The TCP entries of the lists that are connections a listener holds for accept(2) (no owner
 * yet, like an orphan, but not closed by the application); see {@link inetSockets}.
 */
const acceptQueued = new WeakSet<ProcInetSocket>();
/** TCP_SYN_RECV: a handshake in progress, a request sock on Linux rather than a socket. */
const TCP_SYN_RECV = 3;

/**
 * /proc/net/sockstat and sockstat6 from the namespace's socket lists: `files` open socket files
 * of every family (`tcpFiles` of them TCP) and the IP reassembly state. A TCP entry without an
 * inode is a connection the application closed: an orphan while it finishes its close (still
 * hashed, so in `inuse`, and still allocated), a timewait minisock in TIME_WAIT (in `tw` only);
 * or one a listener holds for accept: a full socket once established (hashed, allocated, used,
 * not an orphan), a request sock while in SYN_RECV (none of those). Memory is the bytes queued
 * to send or to read, in pages rounded up: netstack charges no per-socket forward allocation as
 * Linux does, so Linux's figure is at least this one.
 */
export function sockstat(
  l: SockstatLists,
  files: number,
  tcpFiles: number,
  frag: { inuse4: number; memory4: number; inuse6: number; memory6: number },
): ProcSockstat {
  let orphan = 0;
  let queued = 0;
  let tw = 0;
  let tcpBytes = 0;
  const hashed = (list: readonly ProcInetSocket[]): number => {
    let n = 0;
    for (const s of list) {
      if (s.state === TCP_TIME_WAIT || s.timewait === true) {
        tw++;
        continue;
      }
      if (acceptQueued.has(s)) {
        if (s.state === TCP_SYN_RECV) continue;
        queued++;
      } else if (s.inode === 0) orphan++;
      n++;
      // A listener's queues count connections, not bytes.
      if (s.state !== TCP_LISTEN) tcpBytes += s.txQueue + s.rxQueue;
    }
    return n;
  };
  const tcpInuse = hashed(l.tcp4);
  const tcp6Inuse = hashed(l.tcp6);
  let udpBytes = 0;
  for (const list of [l.udp4, l.udp6, l.udplite4, l.udplite6])
    for (const s of list) udpBytes += s.txQueue + s.rxQueue;
  return {
    used: files + orphan + queued,
    tcpInuse,
    tcpOrphan: orphan,
    tcpTimeWait: tw,
    tcpAlloc: tcpFiles + orphan + queued,
    tcpMem: Math.ceil(tcpBytes / PAGE_SIZE),
    udpInuse: l.udp4.length,
    udpMem: Math.ceil(udpBytes / PAGE_SIZE),
    udpliteInuse: l.udplite4.length,
    rawInuse: l.raw4?.length ?? 0,
    fragInuse: frag.inuse4,
    fragMemory: frag.memory4,
    tcp6Inuse,
    udp6Inuse: l.udp6.length,
    udplite6Inuse: l.udplite6.length,
    raw6Inuse: l.raw6?.length ?? 0,
    frag6Inuse: frag.inuse6,
    frag6Memory: frag.memory6,
  };
}

/** The netlink protocols the sandbox serves: NETLINK_ROUTE and NETLINK_SOCK_DIAG. */
const NETLINK_ROUTE = 0;
const NETLINK_SOCK_DIAG = 4;

/**
 * /proc/net/netlink, protocol by protocol (NETLINK_ROUTE, NETLINK_SOCK_DIAG): the kernel's
 * socket (port 0: the sandbox's rtnetlink or sock_diag, which has no file and so prints inode 0),
 * then the sandbox's netlink sockets of that protocol that have a port id (bound, or autobound
 * by a send: Linux lists only those, from its port hash), by port id. Rmem
 * is the bytes queued to read; nothing waits to be sent, and no dump stays in progress (a dump
 * is answered whole).
 */
function netlinkSockets(net: NetState): ProcNetlinkSocket[] {
  const kernel = [NETLINK_ROUTE, NETLINK_SOCK_DIAG].map((protocol) => ({
    protocol,
    portid: 0,
    groups: 0,
    rmem: 0,
    inode: 0,
  }));
  const bound: (typeof kernel)[number][] = [];
  for (const f of net.open) {
    const s = f.sock;
    if (!(s instanceof NetlinkSocket)) continue;
    const name = s.getsockname();
    const dv = new DataView(name.buffer, name.byteOffset, name.byteLength);
    const portid = name.length >= 12 ? dv.getUint32(4, true) : 0;
    if (portid === 0) continue;
    bound.push({
      protocol: s.protocol,
      portid,
      groups: dv.getUint32(8, true),
      rmem: s.inq(),
      inode: f.inode,
    });
  }
  const all = [...kernel, ...bound].sort((a, b) => a.protocol - b.protocol || a.portid - b.portid);
  return all.map((s) => ({
    ...s,
    wmem: 0,
    dump: 0,
    refCount: 2,
    drops: 0,
  }));
}

/** RTF_* flags /proc/net/ipv6_route prints. */
const RTF_UP = 0x1;
const RTF_GATEWAY = 0x2;
const RTF_NONEXTHOP = 0x200000;
const RTF_LOCAL = 0x80000000;
/** IP6_RT_PRIO_USER (static routes, the default route) and IP6_RT_PRIO_ADDRCONF (prefix routes). */
const METRIC_USER = 1024;
const METRIC_ADDRCONF = 256;
const IFA_F_TENTATIVE = 0x40;
const IFA_F_NOPREFIXROUTE = 0x200;
const FF00 = new Uint8Array([0xff, ...new Array<number>(15).fill(0)]);

/**
 * /proc/net/ipv6_route from the links' IPv6 state, as addrconf fills Linux's tables: in `local`
 * a /128 local route per address once its duplicate address detection is over, and ff00::/8 on
 * each multicast link; in `main` the prefix route of each address (unless IFA_F_NOPREFIXROUTE)
 * and a default route per IPv6 gateway. A link without IPv6 addresses gets none, as a link with
 * IPv6 disabled (the sandbox's eth0 speaks IPv4 only). Reference counts are the table's and, for
 * a local route, its address's (Linux adds those of cached lookups). Prefix and default routes
 * print as static ones (RTF_ADDRCONF and expiry of router-advertised ones are not kept by netstack).
 */
function ipv6Routes(net: NetState): ProcIpv6Route[] {
  const out: ProcIpv6Route[] = [];
  for (const l of net.links()) {
    const addrs = ipv6AddressesOf(l);
    if (addrs.length === 0) continue;
    const prefixes = new Set<string>();
    for (const { cidr: c, flags } of addrs) {
      const a = c.address.bytes;
      if ((flags & IFA_F_TENTATIVE) === 0)
        out.push({
          table: 'local',
          destination: a,
          prefixLen: 128,
          metric: 0,
          flags: (RTF_LOCAL | RTF_NONEXTHOP | RTF_UP) >>> 0,
          device: l.name,
          // The table's reference and the address's (inet6_ifaddr keeps its local route).
          refCount: 2,
        });
      if (c.prefixLen >= 128 || (flags & IFA_F_NOPREFIXROUTE) !== 0) continue;
      const dst = a.map((b, i) => {
        const bits = Math.min(8, Math.max(0, c.prefixLen - i * 8));
        return b & ((0xff00 >> bits) & 0xff);
      });
      const key = `${Buffer.from(dst).toString('hex')}/${c.prefixLen}`;
      if (prefixes.has(key)) continue;
      prefixes.add(key);
      out.push({
        table: 'main',
        destination: dst,
        prefixLen: c.prefixLen,
        metric: METRIC_ADDRCONF,
        flags: RTF_UP,
        device: l.name,
      });
    }
    for (const g of l.gateways)
      if (g.version === 6)
        out.push({
          table: 'main',
          destination: ANY6,
          prefixLen: 0,
          gateway: g.bytes,
          metric: METRIC_USER,
          flags: RTF_UP | RTF_GATEWAY,
          device: l.name,
        });
    if ((l.flags & IfFlag.IFF_MULTICAST) !== 0)
      out.push({
        table: 'local',
        destination: FF00,
        prefixLen: 8,
        metric: METRIC_ADDRCONF,
        flags: RTF_UP,
        device: l.name,
      });
  }
  return out;
}

/** /proc/sys/net/ipv4 from the stack's settings for new sockets. */
function netSysctl(stack: Stack): ProcNetSysctl {
  const s = stack.sysctl;
  return {
    ipLocalPortRange: s.portRange,
    ipLocalReservedPorts: s.reservedPorts,
    ipAutobindReuse: s.autobindReuse,
    icmpEchoIgnoreAll: stack.iface.ipv4Sysctl.icmpEchoIgnoreAll,
    icmpEchoIgnoreBroadcasts: stack.iface.ipv4Sysctl.icmpEchoIgnoreBroadcasts,
    icmpRatelimit: stack.iface.ipv4Sysctl.icmpRatelimit,
    icmpRatemask: stack.iface.ipv4Sysctl.icmpRatemask,
    icmpMsgsPerSec: stack.iface.ipv4Sysctl.icmpMsgsPerSec,
    icmpMsgsBurst: stack.iface.ipv4Sysctl.icmpMsgsBurst,
    ipDefaultTtl: s.defaultTtl,
    ipNoPmtuDisc: stack.iface.ipv4Sysctl.noPmtuDisc,
    routeMinPmtu: s.minPmtu,
    routeMtuExpires: s.mtuExpires,
    tcpCongestionControl: s.congestion,
    tcpAvailableCongestionControl: CONGESTION_ALGORITHMS,
    tcpSack: s.sack,
    tcpTimestamps: s.timestamps,
    tcpKeepaliveTime: s.keepaliveTime,
    tcpKeepaliveIntvl: s.keepaliveIntvl,
    tcpKeepaliveProbes: s.keepaliveProbes,
    tcpFinTimeout: s.finTimeout,
    tcpFrto: s.frto,
    tcpSyncookies: s.syncookies,
    tcpMaxSynBacklog: s.maxSynBacklog,
    tcpSynackRetries: s.synackRetries,
    tcpAbortOnOverflow: s.abortOnOverflow,
    tcpTwReuse: s.twReuse,
    tcpRfc1337: s.rfc1337,
    tcpEarlyRetrans: s.earlyRetrans,
    tcpSynRetries: s.synRetries,
    tcpSynLinearTimeouts: s.synLinearTimeouts,
    tcpRetries2: s.retries2,
    tcpOrphanRetries: s.orphanRetries,
    tcpNotsentLowat: s.notsentLowat,
    tcpDsack: s.dsack,
    tcpReflectTos: s.reflectTos,
    tcpInvalidRatelimit: s.invalidRatelimit,
    pingGroupRange: s.pingGroupRange,
  };
}

/**
 * Which of the stack's conf sets /proc/sys/net/ipv6/conf/`name` is: `all`, `default`, or a
 * link's (lo or the device; undefined for a name that is neither).
 */
function ipv6ConfName(net: NetState, name: string): 'all' | 'default' | 'lo' | 'device' | undefined {
  if (name === 'all' || name === 'default') return name;
  const link = net.links().find((l) => l.name === name);
  if (link === undefined) return undefined;
  return link.type === ARPHRD_LOOPBACK ? 'lo' : 'device';
}

/** /proc/sys/net/ipv6 from the stack's IPv6 sysctls, with a conf directory per link. */
function netIpv6Sysctl(net: NetState): ProcNetIpv6Sysctl {
  const s = net.stack.iface.ipv6Sysctl;
  const conf: Record<string, ProcNetIpv6Conf> = {};
  for (const name of ['all', 'default', ...net.links().map((l) => l.name)]) {
    const which = ipv6ConfName(net, name);
    if (which === undefined) continue;
    const c: Ipv6DevConf = s.conf[which];
    conf[name] = {
      dadTransmits: c.dadTransmits,
      enhancedDad: c.enhancedDad,
      hopLimit: c.hopLimit,
      mtu: c.mtu,
      disableIpv6: c.disableIpv6,
    };
  }
  return {
    idgenRetries: s.idgenRetries,
    idgenDelay: s.idgenDelay,
    icmpEchoIgnoreAll: s.icmpEchoIgnoreAll,
    icmpEchoIgnoreMulticast: s.icmpEchoIgnoreMulticast,
    icmpEchoIgnoreAnycast: s.icmpEchoIgnoreAnycast,
    icmpRatelimit: s.icmpRatelimit,
    icmpRatemask: s.icmpRatemask,
    routeMtuExpires: s.mtuExpires,
    conf,
  };
}

/**
 * A /proc/sys/net/ipv6 write applied to the stack: DAD runs that start later follow it, the
 * others the stack reads per packet or applies at once (mtu, disable_ipv6).
 */
function setNetIpv6Sysctl(net: NetState, w: ProcNetIpv6SysctlWrite): LinuxError | undefined {
  const s = net.stack.iface.ipv6Sysctl;
  if (!('conf' in w)) {
    if (w.key === 'routeMtuExpires') s.mtuExpires = w.value;
    else if (w.key === 'icmpRatemask') s.icmpRatemask = new Set(w.value);
    else s[w.key] = w.value;
    return undefined;
  }
  const which = ipv6ConfName(net, w.conf);
  if (which === undefined) return E.ENOENT; // the link went away while the file was open
  if (w.key === 'mtu') return net.stack.setIpv6Mtu(which, w.value);
  if (w.key === 'disableIpv6') return net.stack.setDisableIpv6(which, w.value);
  s.conf[which][w.key] = w.value;
  return undefined;
}

/** A /proc/sys/net/ipv4 write (procfs checked it) applied to the stack's later sockets. */
function setNetSysctl(stack: Stack, w: ProcNetSysctlWrite): undefined {
  const s = stack.sysctl;
  switch (w.key) {
    case 'ipLocalPortRange':
      s.portRange = [w.value[0], w.value[1]];
      break;
    case 'ipLocalReservedPorts':
      s.reservedPorts = new Set(w.value);
      break;
    case 'ipAutobindReuse':
      s.autobindReuse = w.value;
      break;
    case 'ipDefaultTtl':
      s.defaultTtl = w.value;
      break;
    case 'routeMinPmtu':
      s.minPmtu = w.value;
      break;
    case 'routeMtuExpires':
      s.mtuExpires = w.value;
      break;
    case 'icmpEchoIgnoreAll':
    case 'icmpEchoIgnoreBroadcasts':
    case 'icmpRatelimit':
    case 'icmpRatemask':
    case 'icmpMsgsPerSec':
    case 'icmpMsgsBurst':
      stack.iface.ipv4Sysctl[w.key] = w.value;
      break;
    case 'ipNoPmtuDisc':
      stack.iface.ipv4Sysctl.noPmtuDisc = w.value;
      break;
    case 'pingGroupRange':
      s.pingGroupRange = [w.value[0], w.value[1]];
      break;
    case 'tcpCongestionControl':
      // procfs accepted only names of tcpAvailableCongestionControl, CONGESTION_ALGORITHMS.
      s.congestion = w.value as CongestionAlgorithm;
      break;
    case 'tcpSack':
      s.sack = w.value;
      break;
    case 'tcpTimestamps':
      s.timestamps = w.value;
      break;
    case 'tcpKeepaliveTime':
      s.keepaliveTime = w.value;
      break;
    case 'tcpKeepaliveIntvl':
      s.keepaliveIntvl = w.value;
      break;
    case 'tcpKeepaliveProbes':
      s.keepaliveProbes = w.value;
      break;
    case 'tcpFinTimeout':
      s.finTimeout = w.value;
      break;
    case 'tcpFrto':
      s.frto = w.value;
      break;
    case 'tcpSyncookies':
      s.syncookies = w.value;
      break;
    case 'tcpReflectTos':
      s.reflectTos = w.value;
      break;
    case 'tcpMaxSynBacklog':
      s.maxSynBacklog = w.value;
      break;
    case 'tcpSynackRetries':
      s.synackRetries = w.value;
      break;
    case 'tcpAbortOnOverflow':
      s.abortOnOverflow = w.value;
      break;
    case 'tcpTwReuse':
      s.twReuse = w.value;
      break;
    case 'tcpRfc1337':
      s.rfc1337 = w.value;
      break;
    case 'tcpEarlyRetrans':
      s.earlyRetrans = w.value;
      break;
    case 'tcpSynRetries':
      s.synRetries = w.value;
      break;
    case 'tcpSynLinearTimeouts':
      s.synLinearTimeouts = w.value;
      break;
    case 'tcpRetries2':
      s.retries2 = w.value;
      break;
    case 'tcpOrphanRetries':
      s.orphanRetries = w.value;
      break;
    case 'tcpNotsentLowat':
      s.notsentLowat = w.value;
      break;
    case 'tcpDsack':
      s.dsack = w.value;
      break;
    case 'tcpInvalidRatelimit':
      s.invalidRatelimit = w.value;
      break;
  }
  return undefined;
}

function devices(net: NetState): ProcNetDevice[] {
  return net.links().map((l) => {
    const st = l.stats();
    return {
      name: l.name,
      index: l.index,
      type: l.type,
      address: l.address,
      mtu: l.mtu,
      flags: l.flags,
      // IF_OPER_UNKNOWN for an up lo, which has no carrier state.
      operstate: (l.flags & IfFlag.IFF_UP) === 0 ? 'down' : l.type === ARPHRD_LOOPBACK ? 'unknown' : 'up',
      // sysfs prints the u32 as an int (fmt_dec).
      ...(l.txQueueLen !== undefined ? { txQueueLen: l.txQueueLen | 0 } : {}),
      stats: {
        rxPackets: st.rxPackets,
        txPackets: st.txPackets,
        rxBytes: st.rxBytes ?? 0,
        txBytes: st.txBytes ?? 0,
        rxErrs: st.rxErrors ?? 0,
        txErrs: st.txErrors ?? 0,
        rxDrop: st.rxDropped ?? 0,
        txDrop: st.txDropped ?? 0,
        rxMulticast: st.multicast ?? 0,
      },
    };
  });
}

/**
 * /proc/net/if_inet6: every IPv6 address of every link, tentative ones included, with the low
 * byte of its IFA_F_* flags (if6_seq_show prints `(u8)ifa_flags`, so mngtmpaddr 0x100 and
 * stable-privacy 0x800 never show there).
 */
function inet6Addresses(net: NetState): ProcInet6Address[] {
  const out: ProcInet6Address[] = [];
  for (const l of net.links())
    for (const { cidr: c, flags } of ipv6AddressesOf(l)) {
      const a = c.address;
      out.push({
        address: a.bytes,
        device: l.name,
        ifindex: l.index,
        prefixLen: c.prefixLen,
        scope: a.isLoopback() ? SCOPE_HOST : a.version === 6 && a.isLinkLocal() ? SCOPE_LINK : SCOPE_GLOBAL,
        flags: flags & 0xff,
      });
    }
  return out;
}

/** /proc/net/arp: the resolved IPv4 neighbours of the Ethernet links (ATF_COM). */
function arpEntries(net: NetState): ProcArpEntry[] {
  const out: ProcArpEntry[] = [];
  for (const l of net.links())
    for (const n of l.neighbors?.() ?? [])
      if (n.address.version === 4)
        out.push({ address: n.address.bytes, hwType: l.type, flags: 0x2, hwAddress: n.mac, device: l.name });
  return out;
}

/** A prefix length as a netmask's bytes. */
function maskBytes(prefixLen: number): Uint8Array {
  const mask = prefixLen === 0 ? 0 : (0xffffffff << (32 - prefixLen)) >>> 0;
  return new Uint8Array([mask >>> 24, (mask >>> 16) & 0xff, (mask >>> 8) & 0xff, mask & 0xff]);
}

/**
 * IPv4 routes of the main table: one per IPv4 subnet of a non-loopback link, a default route per
 * gateway, and the routes added with `ip route add` (RTF_GATEWAY with a gateway, RTF_HOST for a
 * /32), in the order of Linux's trie walk: by destination, a longer prefix first.
 */
function routes(net: NetState): ProcRoute[] {
  const out: ProcRoute[] = [];
  const links = net.links();
  for (const control of new Set(links.flatMap((l) => (l.routeControl ? [l.routeControl] : []))))
    for (const r of control.list()) {
      const link = links.find((l) => l.index === r.oif);
      if (r.dst.address.version !== 4 || !link || (link.flags & IfFlag.IFF_UP) === 0) continue;
      out.push({
        device: link.name,
        destination: r.dst.address.bytes,
        gateway: r.gateway?.bytes ?? ANY4,
        flags: 0x1 | (r.gateway ? 0x2 : 0) | (r.dst.prefixLen === 32 ? 0x4 : 0),
        metric: r.metric,
        mask: maskBytes(r.dst.prefixLen),
      });
    }
  for (const l of links) {
    // A down link's routes went with it (fib_sync_down_dev).
    if (l.name === 'lo' || (l.flags & IfFlag.IFF_UP) === 0) continue;
    for (const g of l.gateways)
      if (g.version === 4)
        out.push({ device: l.name, destination: ANY4, gateway: g.bytes, flags: 0x3, metric: 0, mask: ANY4 });
    for (const c of l.addresses) {
      if (c.address.version !== 4 || ((l.ipv4Detail?.(c).flags ?? 0) & IFA_F_NOPREFIXROUTE) !== 0) continue;
      const mask = c.prefixLen === 0 ? 0 : (0xffffffff << (32 - c.prefixLen)) >>> 0;
      const m = new Uint8Array([mask >>> 24, (mask >>> 16) & 0xff, (mask >>> 8) & 0xff, mask & 0xff]);
      const dst = c.address.bytes.map((b, i) => b & m[i]!);
      out.push({ device: l.name, destination: dst, gateway: ANY4, flags: 0x1, metric: 0, mask: m });
    }
  }
  const key = (r: ProcRoute): number =>
    new DataView(r.destination.buffer, r.destination.byteOffset).getUint32(0);
  const len = (r: ProcRoute): number => new DataView(r.mask.buffer, r.mask.byteOffset).getUint32(0);
  return out.sort((a, b) => key(a) - key(b) || len(b) - len(a));
}

/**
 * The stack's sockets of one protocol and family. An IPv4 connection of a dual-stack AF_INET6
 * socket is listed in tcp6 with IPv4-mapped addresses, as Linux lists it.
 */
function inetSockets(
  net: NetState,
  protocol: 'tcp' | 'udp' | 'udplite' | 'icmp' | 'raw',
  family: 4 | 6,
): ProcInetSocket[] {
  return inetSocketEntries(net, protocol, family).map((d) => {
    const listed = entry(d.entry, family, d.inode, d.uid);
    if (d.entry.inAcceptQueue === true) acceptQueued.add(listed);
    return listed;
  });
}

/** One of the stack's sockets as /proc/net and sock_diag list it (see {@link inetSocketEntries}). */
export interface DiagInetEntry {
  readonly entry: SocketEntry;
  /** The socket-layer object (an InetSocket) while the application holds it. */
  readonly owner: object | undefined;
  readonly state: number;
  /** Addresses as a file of the listing's family shows them (IPv4-mapped in a v6 listing). */
  readonly local: ProcSockAddr;
  readonly remote: ProcSockAddr;
  readonly rxQueue: number;
  readonly txQueue: number;
  /** The socket file's inode and owner; 0 once the application closed it. */
  readonly inode: number;
  readonly uid: number;
}

/**
 * The stack's sockets of one protocol and family with their files: the one enumeration behind
 * /proc/net/{tcp,udp,...} and NETLINK_SOCK_DIAG. The family is the socket's (an IPv4
 * connection of a dual-stack AF_INET6 socket is listed as 6).
 */
export function inetSocketEntries(
  net: NetState,
  protocol: 'tcp' | 'udp' | 'udplite' | 'icmp' | 'raw',
  family: 4 | 6,
): DiagInetEntry[] {
  if (!net.hasStack) return [];
  const out: DiagInetEntry[] = [];
  for (const e of net.stack.sockets()) {
    if (e.protocol !== protocol) continue;
    const file = e.owner ? net.fileOf.get(e.owner) : undefined;
    const ownerFamily = file && ownerIs6(file.sock) ? 6 : e.family;
    if (ownerFamily !== family) continue;
    out.push({
      entry: e,
      owner: e.owner,
      state: e.state,
      local: addr(e.local, family),
      remote: addr(e.remote, family),
      rxQueue: e.rxQueue,
      txQueue: e.txQueue,
      inode: file?.inode ?? 0,
      uid: file?.uid ?? 0,
    });
  }
  return out;
}

function ownerIs6(sock: unknown): boolean {
  return (sock as { family?: unknown }).family === 6;
}

function entry(e: SocketEntry, family: 4 | 6, inode: number, uid: number): ProcInetSocket {
  return {
    local: addr(e.local, family),
    remote: addr(e.remote, family),
    state: e.state,
    txQueue: e.txQueue,
    rxQueue: e.rxQueue,
    uid,
    inode,
    ...(e.drops !== undefined ? { drops: e.drops } : {}),
    ...(e.tcp ? tcpFigures(e.tcp, performance.now()) : {}),
  };
}

/** USER_HZ: /proc/net/tcp's times are clock ticks of 10 ms. */
const TICK_MS = 10;
/** TCP_INFINITE_SSTHRESH: still in the initial slow start. */
const INFINITE_SSTHRESH = 0x7fffffff;

/**
 * A TCP connection's pending timer as get_tcp4_sock and inet_sk_diag_fill show it: the kind
 * (1 retransmission, 2 keepalive, 3 TIME_WAIT, 4 zero window probe, 0 none), the ms until it
 * fires (never below 0), and the count beside it (retransmissions for 1, probes otherwise).
 */
export function tcpTimer(
  t: TcpSocket | TcpTimeWait,
  now: number,
  f = t.procFigures,
): { kind: number; ms: number; count: number } {
  const timer = t.pendingTimer;
  if (!timer) return { kind: 0, ms: 0, count: 0 };
  return {
    kind: timer.kind,
    ms: Math.max(0, timer.at - now),
    count: timer.kind === 1 ? f.retransmits : timer.kind === 3 ? 0 : f.probes,
  };
}

/**
 * The timer and TCP figures of a /proc/net/tcp line (get_tcp4_sock); a TIME_WAIT connection's
 * timewait sock has the timer only (get_timewait4_sock).
 */
function tcpFigures(t: TcpSocket | TcpTimeWait, now: number): Partial<ProcInetSocket> {
  const f = t.procFigures;
  const timer = tcpTimer(t, now, f);
  const timed = {
    timerActive: timer.kind,
    timerTicks: Math.floor(timer.ms / TICK_MS),
    retransmits: f.retransmits,
    probes: f.probes,
  };
  if (t instanceof TcpTimeWait) return timed;
  const info = t.info(now);
  return {
    ...timed,
    rtoTicks: Math.floor(info.rto / 1000 / TICK_MS),
    atoTicks: Math.floor(info.ato / 1000 / TICK_MS),
    quickAck: (f.quickAcks << 1) | (f.pingpong ? 1 : 0),
    cwnd: info.sndCwnd,
    ssthresh: info.sndSsthresh >= INFINITE_SSTHRESH ? -1 : info.sndSsthresh,
  };
}

function addr(ep: IpEndpoint | undefined, family: 4 | 6): ProcSockAddr {
  if (!ep) return { address: family === 4 ? ANY4 : ANY6, port: 0 };
  if (family === 6 && ep.addr.version === 4)
    return { address: Ipv6Address.mapped(ep.addr).bytes, port: ep.port };
  return { address: ep.addr.bytes, port: ep.port };
}

function unixSockets(net: NetState): ProcUnixSocket[] {
  const out: ProcUnixSocket[] = [];
  for (const f of net.open) {
    const s = f.sock;
    if (!(s instanceof UnixSocket)) continue;
    const a = s.address;
    const path =
      a?.kind === 'unix-path'
        ? Buffer.from(a.path).toString('latin1')
        : a?.kind === 'unix-abstract'
          ? `\0${Buffer.from(a.name).toString('latin1')}`
          : undefined;
    const connected = !s.listening && !isError(s.getpeername());
    out.push({
      refCount: 2,
      flags: s.listening ? SO_ACCEPTCON : 0,
      type: s.type,
      state: connected ? SS_CONNECTED : SS_UNCONNECTED,
      inode: f.inode,
      ...(path !== undefined ? { path } : {}),
    });
  }
  return out;
}

// ---- network mode `host` ------------------------------------------------------------------------

const AF_INET = 2;
const AF_INET6 = 10;
const SOL_SOCKET = 1;
const SO_PROTOCOL = 38;
/** SO_MEMINFO: u32 sk_meminfo[SK_MEMINFO_VARS]; RMEM_ALLOC 0, WMEM_ALLOC 2, DROPS 8. */
const SO_MEMINFO = 55;
const SK_MEMINFO_VARS = 9;
const IPPROTO_TCP = 6;
const IPPROTO_UDP = 17;
const TCP_INFO = 11;
/** struct tcp_info up to tcpi_snd_cwnd (offset 80), the last field read here. */
const TCP_INFO_USED = 84;
const SIOCINQ = 0x541b;
const SIOCOUTQ = 0x5411;
const TCP_ESTABLISHED = 1;
const TCP_TIME_WAIT = 6;
const TCP_CLOSE = 7;
const TCP_LISTEN = 10;
/** TCP_NEW_SYN_RECV, the highest tcp_states value. */
const TCP_MAX_STATE = 12;
/** TCP_INFINITE_SSTHRESH: ssthresh before the first loss, which /proc/net/tcp prints as -1. */
const TCP_INFINITE_SSTHRESH = 0x7fffffff;
/** tcp_info's times are in microseconds, /proc/net/tcp's in USER_HZ (100) clock ticks. */
const US_PER_TICK = 10_000;
/** TCP_TIMEOUT_INIT (1 s) in clock ticks. */
const TCP_TIMEOUT_INIT_TICKS = 100;

/**
 * What the host says of one of the sandbox's host sockets (see {@link hostSocketFacts}), each
 * answer as the host gave it: the bytes of a sockaddr or struct, or the errno of the call.
 */
export interface HostSocketFacts {
  /** The socket's domain: AF_INET (2) or AF_INET6 (10). */
  readonly domain: number;
  /** SO_PROTOCOL: IPPROTO_TCP (6), IPPROTO_UDP (17), IPPROTO_ICMP... */
  readonly protocol: number | LinuxError;
  /** getsockname(2) and getpeername(2). */
  readonly local: Uint8Array | LinuxError;
  readonly remote: Uint8Array | LinuxError;
  /** TCP_INFO (struct tcp_info): TCP only. */
  readonly tcpInfo?: Uint8Array | LinuxError;
  /** SO_MEMINFO (u32 sk_meminfo[9]): UDP only. */
  readonly memInfo?: Uint8Array | LinuxError;
  /** SIOCINQ and SIOCOUTQ. */
  readonly inq: number | LinuxError;
  readonly outq: number | LinuxError;
  /** The sandbox socket's inode and owner. */
  readonly inode: number;
  readonly uid: number;
}

/** Asks the host about host socket `h` (never throws: every answer may be an errno). */
export function hostSocketFacts(h: HostSocketImpl): HostSocketFacts {
  const { calls, fd } = h;
  const opt = (level: number, name: number, size: number): Uint8Array | LinuxError => {
    const out = new Uint8Array(size);
    const n = calls.getsockopt(fd, level, name, out);
    return isError(n) ? n : out.subarray(0, Math.min(n, size));
  };
  const name = (peer: boolean): Uint8Array | LinuxError => {
    const out = new Uint8Array(128);
    const n = calls.name(fd, peer, out);
    return isError(n) ? n : out.subarray(0, Math.min(n, out.length));
  };
  const p = opt(SOL_SOCKET, SO_PROTOCOL, 4);
  const protocol = isError(p)
    ? p
    : p.length >= 4
      ? new DataView(p.buffer, p.byteOffset, 4).getInt32(0, true)
      : E.EINVAL;
  return {
    domain: h.domain,
    protocol,
    local: name(false),
    remote: name(true),
    ...(protocol === IPPROTO_TCP ? { tcpInfo: opt(IPPROTO_TCP, TCP_INFO, 256) } : {}),
    ...(protocol === IPPROTO_UDP ? { memInfo: opt(SOL_SOCKET, SO_MEMINFO, SK_MEMINFO_VARS * 4) } : {}),
    inq: calls.ioctlInt(fd, SIOCINQ),
    outq: calls.ioctlInt(fd, SIOCOUTQ),
    inode: h.inode,
    uid: h.uid,
  };
}

/**
 * A sockaddr_in or sockaddr_in6 as /proc/net prints it in a file of `family` (an IPv4 address in
 * a v6 file becomes IPv4-mapped); undefined for anything else (short, another family, or an IPv6
 * address that a v4 file cannot show).
 */
function hostAddr(sa: Uint8Array | LinuxError, family: 4 | 6): ProcSockAddr | undefined {
  if (isError(sa) || sa.length < 2) return undefined;
  const af = sa[0]! | (sa[1]! << 8);
  if (af === AF_INET && sa.length >= 8) {
    const port = (sa[2]! << 8) | sa[3]!;
    const v4 = sa.slice(4, 8);
    if (family === 4) return { address: v4, port };
    const mapped = new Uint8Array(16);
    mapped[10] = mapped[11] = 0xff;
    mapped.set(v4, 12);
    return { address: mapped, port };
  }
  if (af === AF_INET6 && sa.length >= 24 && family === 6)
    return { address: sa.slice(8, 24), port: (sa[2]! << 8) | sa[3]! };
  return undefined;
}

function u32(b: Uint8Array, off: number): number {
  return new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(off, true);
}

function count(v: number | LinuxError): number {
  return typeof v === 'number' && v > 0 ? v : 0;
}

/**
 * The /proc/net/{tcp,tcp6,udp,udp6} entry of a host socket of the sandbox, from what the host
 * said of it; undefined when Linux would not list it there: another protocol or family, a TCP
 * socket in CLOSE (unbound, only bound, or closed: not in the listening or established hash), a
 * UDP socket without a local port (not in the UDP hash), or answers that make no sense (a host
 * call failed, a state out of range). Queues are what Linux prints: for a listener the accept
 * queue (tcpi_unacked), for a connection the unread and the unacknowledged bytes, for UDP the
 * memory charged to the socket's receive and send buffers. The TCP timer
 * columns are not known from outside the host kernel and print as none.
 */
export function hostInetEntry(
  f: HostSocketFacts,
  protocol: 'tcp' | 'udp',
  family: 4 | 6,
): ProcInetSocket | undefined {
  if ((f.domain === AF_INET6 ? 6 : f.domain === AF_INET ? 4 : 0) !== family) return undefined;
  if (f.protocol !== (protocol === 'tcp' ? IPPROTO_TCP : IPPROTO_UDP)) return undefined;
  const local = hostAddr(f.local, family);
  if (!local) return undefined;
  const any = { address: family === 4 ? ANY4 : ANY6, port: 0 };
  const remote = hostAddr(f.remote, family) ?? any;
  const owner = { uid: f.uid, inode: f.inode };
  if (protocol === 'udp') {
    if (local.port === 0) return undefined;
    const connected = remote.port !== 0;
    const mem =
      f.memInfo !== undefined && !isError(f.memInfo) && f.memInfo.length >= SK_MEMINFO_VARS * 4
        ? f.memInfo
        : undefined;
    return {
      local,
      remote: connected ? remote : any,
      state: connected ? TCP_ESTABLISHED : TCP_CLOSE,
      txQueue: mem ? u32(mem, 8) : count(f.outq),
      rxQueue: mem ? u32(mem, 0) : count(f.inq),
      ...owner,
      ...(mem ? { drops: u32(mem, 32) } : {}),
    };
  }
  const info = f.tcpInfo;
  if (info === undefined || isError(info) || info.length < TCP_INFO_USED) return undefined;
  const state = info[0]!;
  if (state === TCP_CLOSE || state < TCP_ESTABLISHED || state > TCP_MAX_STATE) return undefined;
  const listen = state === TCP_LISTEN;
  const ssthresh = u32(info, 76);
  return {
    local,
    remote: listen ? any : remote,
    state,
    // A listener shows its accept queue (sk_ack_backlog, which tcp_get_info reports in unacked)
    // and nothing to send (SIOCINQ and SIOCOUTQ refuse a listener).
    txQueue: listen ? 0 : count(f.outq),
    rxQueue: listen ? u32(info, 24) : count(f.inq),
    ...owner,
    retransmits: info[2]!,
    // tcp_get_info stops early for a listener, whose icsk_rto stays TCP_TIMEOUT_INIT (1 s).
    rtoTicks: listen ? TCP_TIMEOUT_INIT_TICKS : Math.floor(u32(info, 8) / US_PER_TICK),
    atoTicks: Math.floor(u32(info, 12) / US_PER_TICK),
    cwnd: u32(info, 80),
    ssthresh: listen ? 0 : ssthresh >= TCP_INFINITE_SSTHRESH ? -1 : ssthresh,
  };
}

/** The /proc/net entries of the sandbox's host sockets of one protocol and family. */
function hostInetSockets(
  sockets: readonly HostSocketImpl[],
  protocol: 'tcp' | 'udp',
  family: 4 | 6,
): ProcInetSocket[] {
  const out: ProcInetSocket[] = [];
  for (const h of sockets) {
    if ((h.domain === AF_INET6 ? 6 : 4) !== family) continue;
    const e = hostInetEntry(hostSocketFacts(h), protocol, family);
    if (e) out.push(e);
  }
  return out;
}

/** An address and port as /proc/net/tcp(6) prints them on x86-64 (each 32-bit word native-endian). */
function procAddrText(a: ProcSockAddr): string {
  let hex = '';
  for (let w = 0; w + 4 <= a.address.length; w += 4)
    hex += u32(a.address, w).toString(16).toUpperCase().padStart(8, '0');
  return `${hex}:${a.port.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** A field of a /proc/net line in base `radix`, or NaN when it is not one. */
function field(text: string | undefined, radix: 10 | 16): number {
  if (text === undefined || !(radix === 16 ? /^[0-9A-Fa-f]+$/ : /^-?[0-9]+$/).test(text)) return NaN;
  return parseInt(text, radix);
}

/**
 * A line of the host's /proc/net/tcp(6) (its fields split on blanks) as an entry: undefined when
 * malformed. A line without the TCP figures after the pointer is a timewait minisock.
 */
function hostTableEntry(
  f: readonly string[],
  local: ProcSockAddr,
  remote: ProcSockAddr,
  uid: number,
): ProcInetSocket | undefined {
  const [tx, rx] = (f[4] ?? '').split(':');
  const [tr, when] = (f[5] ?? '').split(':');
  const timewait = f.length < 17;
  const head = {
    state: field(f[3], 16),
    txQueue: field(tx, 16),
    rxQueue: field(rx, 16),
    timerActive: field(tr, 16),
    timerTicks: field(when, 16),
    retransmits: field(f[6], 16),
    refCount: field(f[10], 10),
  };
  const tail = timewait
    ? {}
    : {
        rtoTicks: field(f[12], 10),
        atoTicks: field(f[13], 10),
        quickAck: field(f[14], 10),
        cwnd: field(f[15], 10),
        ssthresh: field(f[16], 10),
      };
  const numbers = [...Object.values(head), ...Object.values(tail)];
  if (numbers.some((v) => !Number.isSafeInteger(v))) return undefined;
  if (head.state < TCP_ESTABLISHED || head.state > TCP_MAX_STATE) return undefined;
  return {
    local,
    remote,
    ...head,
    // A timewait minisock has no owner (Linux prints 0); an orphan that is still a full socket
    // keeps its creator's uid, the sandbox's owner here rather than the supervisor.
    uid: timewait ? 0 : uid,
    inode: 0,
    ...tail,
    ...(timewait && head.state !== TCP_TIME_WAIT ? { timewait: true } : {}),
  };
}

/**
 * The /proc/net/tcp (family 4) or tcp6 (6) entries of the connections the sandbox closed that
 * the host still keeps (TIME_WAIT, or an orphan finishing its close), taken from `table()`, the
 * host's own file, read only when there is such a connection of that family. A host line is
 * taken only when its 4-tuple is one the sandbox closed and it has no inode (no open socket has
 * it: a live socket with the same addresses is not the sandbox's); its timer and queues are the
 * host's now. A remembered connection the host no longer lists is forgotten.
 */
export function closedHostEntries(
  closed: ClosedHostConnections,
  family: 4 | 6,
  table: () => string | undefined,
): ProcInetSocket[] {
  const mine = closed.current().filter((c) => (c.domain === AF_INET6 ? 6 : 4) === family);
  if (mine.length === 0) return [];
  const text = table();
  if (text === undefined) return [];
  const lines = new Map<string, string[]>();
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    const key = `${f[1]} ${f[2]}`;
    // A 4-tuple a new connection reuses may be listed twice: the closed one has no inode.
    if (f.length >= 12 && (f[9] === '0' || !lines.has(key))) lines.set(key, f);
  }
  const out: ProcInetSocket[] = [];
  for (const c of mine) {
    const local = hostAddr(c.local, family);
    const remote = hostAddr(c.remote, family);
    const f = local && remote ? lines.get(`${procAddrText(local)} ${procAddrText(remote)}`) : undefined;
    if (!local || !remote || !f) {
      closed.forget(c);
      continue;
    }
    if (f[9] !== '0') continue;
    const e = hostTableEntry(f, local, remote, c.uid);
    if (e) out.push(e);
  }
  return out;
}
