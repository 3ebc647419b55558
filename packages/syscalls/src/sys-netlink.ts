/**
 * AF_NETLINK sockets of protocol NETLINK_ROUTE: the rtnetlink requests programs use to learn the
 * sandbox's network — RTM_GETLINK, RTM_GETADDR, RTM_GETROUTE and RTM_GETNEIGH dumps (getifaddrs,
 * if_nameindex, `ip link`, `ip addr`, `ip route`, `ip neigh`), RTM_GETRULE dumps (`ip rule`: a fresh
 * namespace's default rules), RTM_GETLINK by index or name, RTM_GETROUTE of one destination (`ip
 * route get`, and with RTA_IIF `ip route get ... iif DEV`: the input route), RTM_GETNSID (`ip
 * netns list-id`; a sandbox gives no namespace ids), NLMSG_ERROR answers and ACKs, with extended
 * ACKs (NETLINK_EXT_ACK: the text, the attribute at fault and its policy, sys-netlink-policy.ts).
 * Answers describe the interfaces of the sandbox's netstack, never the host's.
 * Changes need CAP_NET_ADMIN (EPERM); addresses and main-table routes change (RTM_NEWADDR,
 * RTM_DELADDR, RTM_NEWROUTE, RTM_DELROUTE: sys-netlink-change.ts), with extended ACK messages,
 * and what they did is announced to the members of the address and route
 * groups (`ip monitor`); the links themselves are fixed (RTM_NEWLINK, RTM_SETLINK: EOPNOTSUPP).
 *
 * Replies are built whole when the request is sent and queued as datagrams ("skbs") of at most
 * NLMSG_GOODSIZE bytes, each holding as many messages as fit, with NLMSG_DONE in its own datagram,
 * as Linux's netlink_dump delivers them.
 *
 * @module
 */
import {
  AddressFamily,
  E,
  PollEvent,
  SockType,
  SocketLevel,
  SocketOption,
  isError,
  type LinuxError,
} from '@tsvisor/abi';
import {
  Ipv4Address,
  Ipv6Address,
  WOULD_BLOCK,
  type IpAddress,
  type IpCidr,
  type Ipv6AddressInfo,
  type RecvResult,
  type WouldBlock,
} from '@tsvisor/netstack';
import { nsOf } from '@tsvisor/procfs';
import type { FileDescription } from '@tsvisor/vfs';
import {
  changeLinkFlags,
  changeWarning,
  rtnlChange,
  type AddressControl,
  type LinkControl,
  type RouteControl,
} from './sys-netlink-change.js';
import { netlinkFilter, netlinkFiltered } from './socket-filter-options.js';
import { RTM_IPV4_POLICY, RTM_IPV6_POLICY, checkPolicy, type ExtAck } from './sys-netlink-policy.js';

/** rtnetlink's protocol number. */
export const NETLINK_ROUTE = 0;
/** The socket monitoring protocol `ss` uses, served by the domain's {@link NetlinkDomain.sockDiag}. */
export const NETLINK_SOCK_DIAG = 4;

/** One NETLINK_SOCK_DIAG request as its handler sees it: the sender and where answers go. */
export interface SockDiagRequest {
  readonly seq: number;
  /** The sender's port id (the answers' nlmsg_pid). */
  readonly portid: number;
  /** The sending socket was opened with CAP_NET_ADMIN (netlink_net_capable). */
  readonly netAdmin: boolean;
  /** Queues `msgs` as a dump, then NLMSG_DONE. */
  dump(msgs: Uint8Array[]): void;
  /** Queues one answer (an exact lookup's). */
  reply(msg: Uint8Array): void;
}

/**
 * The kernel end of NETLINK_SOCK_DIAG: answers one request message (its type, flags and the
 * bytes after the header) through `out`; 'dump' when answered by a dump, else the errno to ack
 * with (undefined: success, acked only on NLM_F_ACK).
 */
export type SockDiagHandler = (
  type: number,
  flags: number,
  body: Uint8Array,
  out: SockDiagRequest,
) => 'dump' | LinuxError | undefined;
const MAX_LINKS = 32;

const NLMSG_HDRLEN = 16;
const NLMSG_ERROR = 2;
const NLMSG_DONE = 3;
const NLMSG_MIN_TYPE = 0x10;
const NLM_F_REQUEST = 0x1;
const NLM_F_MULTI = 0x2;
const NLM_F_ACK = 0x4;
const NLM_F_DUMP = 0x300;
const NLM_F_CAPPED = 0x100;

const RTM_NEWLINK = 16;
const RTM_GETLINK = 18;
const RTM_SETLINK = 19;
const RTM_NEWADDR = 20;
const RTM_GETADDR = 22;
const RTM_NEWROUTE = 24;
const RTM_GETROUTE = 26;
const RTM_NEWNEIGH = 28;
const RTM_GETNEIGH = 30;
const RTM_NEWRULE = 32;
const RTM_GETRULE = 34;
const RTM_NEWNSID = 88;
const RTM_GETNSID = 90;
const RTM_MAX = 127;
/** Attributes of RTM_GETNSID/RTM_NEWNSID (linux/net_namespace.h). */
const NETNSA_NSID = 1;
const NETNSA_PID = 2;
const NETNSA_FD = 3;
const NETNSA_TARGET_NSID = 4;
/** NETNSA_CURRENT_NSID: the first attribute type rtnl_net_policy does not check. */
const NETNSA_CURRENT_NSID = 5;
/** NETNSA_NSID of a namespace without an id in the asking one. */
const NETNSA_NSID_NOT_ASSIGNED = -1;

/**
 * Who sent a request, for the requests that depend on it: its capability, and for RTM_GETNSID the
 * processes and files it may name.
 */
export interface NetlinkSender {
  /** CAP_NET_ADMIN, which changes need besides the opener's (netlink_net_capable). */
  readonly netAdmin: boolean;
  /** The sender's uid, which `ip route get` shows (RTA_UID: current_uid); default 0. */
  readonly uid?: number;
  /** Thread `tid` of the sender's pid namespace is alive (a sandbox has one network namespace). */
  taskAlive?(tid: number): boolean;
  /** The sender's open file `fd` (a network namespace is named by its nsfs file), or EBADF. */
  file?(fd: number): FileDescription | LinuxError;
}
/**
 * get_net_ns_by_fd: undefined when `file` is a network namespace's nsfs file (the sandbox's one),
 * EINVAL for any other file, EBADF for none (an O_PATH file included: proc_ns_fget uses fget).
 */
function netnsFile(file: FileDescription | LinuxError): LinuxError | undefined {
  if (isError(file) || file.isPath) return E.EBADF;
  return nsOf(file.location)?.type === 'net' ? undefined : E.EINVAL;
}

/** Neighbour attributes (NDA_*) and the one state a resolved entry is shown in (NUD_REACHABLE). */
const NDA_DST = 1;
const NDA_LLADDR = 2;
const NUD_REACHABLE = 0x02;

const IFLA_ADDRESS = 1;
const IFLA_BROADCAST = 2;
const IFLA_IFNAME = 3;
const IFLA_MTU = 4;
const IFLA_QDISC = 6;
const IFLA_STATS = 7;
const IFLA_TXQLEN = 13;
const IFLA_OPERSTATE = 16;
const IFLA_LINKMODE = 17;
const IFLA_STATS64 = 23;
const IFLA_GROUP = 27;
const IFLA_PROMISCUITY = 30;
const IFLA_NUM_TX_QUEUES = 31;
const IFLA_NUM_RX_QUEUES = 32;
const IFLA_CARRIER = 33;
const IFLA_CARRIER_CHANGES = 35;
const IFLA_CARRIER_UP_COUNT = 47;
const IFLA_CARRIER_DOWN_COUNT = 48;

const IFA_ADDRESS = 1;
const IFA_LOCAL = 2;
const IFA_LABEL = 3;
const IFA_BROADCAST = 4;
const IFA_CACHEINFO = 6;
const IFA_FLAGS = 8;
const IFA_PROTO = 11;
const IFA_F_TEMPORARY = 0x01;
/** An IPv4 address in the subnet of an earlier one (the same bit as IFA_F_TEMPORARY). */
const IFA_F_SECONDARY = 0x01;
const IFA_F_NOPREFIXROUTE = 0x200;
const IFA_F_TENTATIVE = 0x40;
const IFA_F_PERMANENT = 0x80;
/** IFAPROT_*: who made an address (include/uapi/linux/if_addr.h). */
const IFAPROT_KERNEL_LO = 1;
const IFAPROT_KERNEL_RA = 2;
const IFAPROT_KERNEL_LL = 3;
/** INFINITY_LIFE_TIME: a lifetime without end in IFA_CACHEINFO. */
const INFINITY_LIFE_TIME = 0xffffffff;

const RTA_DST = 1;
const RTA_OIF = 4;
const RTA_GATEWAY = 5;
const RTA_PRIORITY = 6;
const RTA_PREFSRC = 7;
const RTA_TABLE = 15;
const RTA_PREF = 20;
const RT_TABLE_MAIN = 254;
const RT_TABLE_LOCAL = 255;
const RTPROT_KERNEL = 2;
const RTPROT_BOOT = 3;
const RTA_METRICS = 8;
const RTAX_LOCK = 1;
const RTAX_MTU = 2;
const RTPROT_STATIC = 4;
const RT_SCOPE_UNIVERSE = 0;
const RT_SCOPE_LINK = 253;
const RT_SCOPE_HOST = 254;
const RTN_UNICAST = 1;
const RTN_LOCAL = 2;
const RTN_BROADCAST = 3;

const NETLINK_ADD_MEMBERSHIP = 1;
const NETLINK_DROP_MEMBERSHIP = 2;
/** RTNLGRP_MAX of Linux 6.18's rtnetlink: the highest group a socket can join. */
const RTNLGRP_MAX = 39;
const NETLINK_CAP_ACK = 10;
const NETLINK_GET_STRICT_CHK = 12;
const NETLINK_EXT_ACK = 11;
/** NLM_F_ACK_TLVS: the NLMSG_ERROR carries extended ACK attributes; NLMSGERR_ATTR_MSG is the text. */
const NLM_F_ACK_TLVS = 0x200;
const NLMSGERR_ATTR_MSG = 1;
const NLMSGERR_ATTR_OFFS = 2;
const NLMSGERR_ATTR_POLICY = 4;
const NLA_F_NESTED = 0x8000;
const NETLINK_MAX_OPTION = 12;
const SOCKADDR_NL_LEN = 12;
/** SKB_WITH_OVERHEAD(PAGE_SIZE) on x86-64: the size of one dump datagram. */
const NLMSG_GOODSIZE = 3776;
const SK_RMEM_DEFAULT = 212992;
const SO_SNDBUFFORCE = 32;
const SO_RCVBUFFORCE = 33;
const WMEM_MAX = 212992;

/** Interface flags (IFF_*) of include/uapi/linux/if.h. */
export const IfFlag = {
  IFF_UP: 0x1,
  IFF_BROADCAST: 0x2,
  IFF_LOOPBACK: 0x8,
  IFF_POINTOPOINT: 0x10,
  IFF_RUNNING: 0x40,
  IFF_NOARP: 0x80,
  IFF_PROMISC: 0x100,
  IFF_MULTICAST: 0x1000,
  IFF_LOWER_UP: 0x10000,
} as const;

/** ARPHRD_ETHER: an Ethernet link. */
export const ARPHRD_ETHER = 1;
/** ARPHRD_LOOPBACK: the loopback link (`link/loopback` in `ip link`). */
export const ARPHRD_LOOPBACK = 772;
/** A link without a link layer (an IP-medium device, like a TUN device). */
export const ARPHRD_NONE = 0xfffe;

/**
 * A link's counters, the fields of struct rtnl_link_stats64 that rtnetlink, /proc/net/dev and
 * /sys/class/net/<if>/statistics show; an absent one is 0.
 */
export interface LinkStats {
  readonly rxPackets: number;
  readonly txPackets: number;
  readonly rxBytes?: number;
  readonly txBytes?: number;
  readonly rxErrors?: number;
  readonly txErrors?: number;
  readonly rxDropped?: number;
  readonly txDropped?: number;
  readonly multicast?: number;
}

/** One network interface of the sandbox as rtnetlink reports it. */
export interface LinkInfo {
  /** ifindex, from 1. */
  readonly index: number;
  readonly name: string;
  /** IFF_* bits. */
  readonly flags: number;
  readonly mtu: number;
  /** ARPHRD_* link type. */
  readonly type: number;
  /** Link-layer address and broadcast address (6 bytes each, zeros on lo; empty when none). */
  readonly address: Uint8Array;
  readonly broadcast: Uint8Array;
  /** The interface's addresses with their prefix lengths. */
  readonly addresses: readonly IpCidr[];
  /** Default gateways reached through this link. */
  readonly gateways: readonly IpAddress[];
  /** The link's counters so far (netstack's LinkCounters, or the host's). */
  readonly stats: () => LinkStats;
  /**
   * The link's IPv6 addresses with their IFA_F_* flags and lifetimes, tentative ones included,
   * oldest first (netstack's `Interface.ipv6Addresses()`, keeping this link's addresses). When
   * given, rtnetlink and /proc/net/if_inet6 show the link's IPv6 addresses from it, not from
   * `addresses`; without it every IPv6 address of `addresses` is shown as a permanent one.
   */
  readonly ipv6?: () => readonly Ipv6AddressInfo[];
  /**
   * The clock `ipv6`'s lifetimes are deadlines on, in milliseconds: the time the link's stack is
   * polled with. Default `performance.now()`, which the sandbox's stacks are driven by.
   */
  readonly clock?: () => number;
  /**
   * The link's resolved neighbours (ARP and NDP entries still valid): address and hardware
   * address, for RTM_GETNEIGH (`ip neigh`) and /proc/net/arp. Absent: none (a NOARP link).
   */
  readonly neighbors?: () => readonly { readonly address: IpAddress; readonly mac: Uint8Array }[];
  /** How RTM_NEWLINK, RTM_SETLINK and SIOCSIF* change the link; absent: EOPNOTSUPP. */
  readonly linkControl?: LinkControl;
  /** The transmit queue length (IFLA_TXQLEN, SIOCGIFTXQLEN, tx_queue_len); default 1000. */
  readonly txQueueLen?: number;
  /**
   * The queueing discipline (IFLA_QDISC); default noqueue, a virtual device's once it was up
   * (before, none is attached: noop).
   */
  readonly qdisc?: string;
  /** How RTM_NEWADDR and RTM_DELADDR change the link's addresses; absent: EOPNOTSUPP. */
  readonly addressControl?: AddressControl;
  /**
   * The main table's added routes and how RTM_NEWROUTE and RTM_DELROUTE change them: one object
   * shared by the links of a stack (see `interfaceRouting`); absent: EOPNOTSUPP.
   */
  readonly routeControl?: RouteControl;
  /**
   * How an IPv4 address of `addresses` is configured: IFA_F_* flags beyond IFA_F_PERMANENT
   * (IFA_F_SECONDARY for one in the subnet of an earlier address, IFA_F_NOPREFIXROUTE for one
   * added with `noprefixroute`), and whether it has a
   * broadcast address (IFA_BROADCAST; `ip addr add` without `brd` gives none). Absent: no
   * flags, and a broadcast address for a prefix below /31 off the loopback range.
   */
  readonly ipv4Detail?: (c: IpCidr) => { readonly flags: number; readonly broadcast: boolean };
}

/** ipv6_addr_src_scope: 2 link-local and loopback, 5 site-local, 14 global. */
function srcScope(a: IpAddress): number {
  const b = a.bytes;
  if (a.isLoopback() || (b[0] === 0xfe && ((b[1] as number) & 0xc0) === 0x80)) return 2;
  if (b[0] === 0xfe && ((b[1] as number) & 0xc0) === 0xc0) return 5;
  return 14;
}

/**
 * The IPv6 addresses of `l` in the order Linux keeps an interface's list (ipv6_link_dev_addr:
 * wider scopes first, and within a scope the newest first), which is the order of its
 * RTM_GETADDR dump. Addresses of `addresses` (no `ipv6`) keep their order and are permanent:
 * they are what the link's owner configured, or the host's own list in network mode `host`.
 */
export function ipv6AddressesOf(l: LinkInfo): readonly Ipv6AddressInfo[] {
  if (!l.ipv6) {
    const out: Ipv6AddressInfo[] = [];
    for (const c of l.addresses)
      if (c.address.version === 6)
        out.push({ cidr: c, flags: IFA_F_PERMANENT, validUntil: Infinity, preferredUntil: Infinity });
    return out;
  }
  return l
    .ipv6()
    .map((a, i) => ({ a, i, scope: srcScope(a.cidr.address) }))
    .sort((x, y) => y.scope - x.scope || y.i - x.i)
    .map((x) => x.a);
}

/**
 * A deadline as IFA_CACHEINFO's remaining lifetime in seconds at `now`: INFINITY_LIFE_TIME for
 * none, else what Linux's `lft - (jiffies - tstamp) / HZ` gives (whole seconds elapsed since the
 * lifetime was set are taken off, so the count drops at each full second), never below 0.
 */
export function remainingLifetime(until: number, now: number): number {
  if (until === Infinity) return INFINITY_LIFE_TIME;
  // In whole microseconds first: deadlines are sums on a fractional clock (performance.now()),
  // and a rounding error must not turn exactly 1800 s left into 1801.
  const seconds = Math.ceil(Math.round((until - now) * 1000) / 1e6);
  return Math.min(Math.max(seconds, 0), INFINITY_LIFE_TIME - 1);
}

/** What the domain remembers of an autoconfigured address for IFA_CACHEINFO's stamps. */
interface AddressStamps {
  /** Stack times (ms) the address was first seen and its lifetimes last changed. */
  created: number;
  updated: number;
  validUntil: number;
  preferredUntil: number;
}

/** The netlink side of a sandbox: its links and the bound port ids. */
export class NetlinkDomain {
  private readonly ports = new Map<number, NetlinkSocket>();
  private nextRover = -4096;
  /** Creation time in hundredths of a second (IFA_CACHEINFO's stamps of permanent addresses). */
  readonly stamp = Math.floor(performance.now() / 10);
  /** Stamps of the links' autoconfigured IPv6 addresses, by `ifindex address`. */
  private readonly stamps = new Map<string, AddressStamps>();
  /**
   * The IPv4 input routes `ip route get ... iif` made, as Linux caches them.
   * @internal
   */
  readonly inputRoutes: InputRouteCache = { generation: '', routes: new Map() };
  /** NETLINK_SOCK_DIAG's kernel end; without it that protocol answers EPROTONOSUPPORT. */
  sockDiag: SockDiagHandler | undefined;

  constructor(
    /** The sandbox's interfaces, read at each request so they are always current. */
    readonly links: () => readonly LinkInfo[],
    /**
     * Runs the links' stacks after a change, so that what it started (duplicate address
     * detection of a new IPv6 address) goes on at once, as Linux's work items do, not at the
     * next socket call. Default: nothing to run.
     */
    private readonly settle: () => void = () => undefined,
  ) {}

  /** @internal */
  claim(s: NetlinkSocket, portid: number): boolean {
    if (this.ports.has(portid)) return false;
    this.ports.set(portid, s);
    return true;
  }

  /** netlink_autobind: the process's tgid if free, else negative ids counting down. */
  autobind(s: NetlinkSocket, tgid: number): number {
    if (this.claim(s, tgid)) return tgid;
    for (;;) {
      const id = this.nextRover-- >>> 0;
      if (this.nextRover < -0x7fffffff) this.nextRover = -4096;
      if (this.claim(s, id)) return id;
    }
  }

  /** @internal */
  release(portid: number): void {
    this.ports.delete(portid);
  }

  /** @internal */
  lookup(portid: number): NetlinkSocket | undefined {
    return this.ports.get(portid);
  }

  /** True when a socket of the domain is a member of any multicast group. */
  get watched(): boolean {
    for (const s of this.ports.values()) if (s.hasGroups) return true;
    return false;
  }

  /**
   * Runs `change`, which may change the links (rtnetlink's RTM_NEWLINK and RTM_SETLINK, or
   * SIOCSIFFLAGS and SIOCSIFTXQLEN), and when it succeeds (returns undefined) announces what it
   * did, as Linux does: see announceLinkChanges.
   * @internal
   */
  changeLinks<R extends object>(change: () => R | undefined): R | undefined {
    if (!this.watched) {
      const r = change();
      if (r === undefined) this.settle();
      return r;
    }
    const links = this.links();
    const before = announced(this, links);
    const states = new Map(links.map((l) => [l.index, l]));
    const r = change();
    if (r === undefined) {
      announceLinkChanges(this, states, before);
      this.settle();
    }
    return r;
  }

  /**
   * Duplicate address detection of `address`, an IPv6 address of a link, ended: announced as
   * Linux's addrconf_dad_completed does (the address, then its local route) or, when it found a
   * duplicate, addrconf_dad_failure (the address, tentative and dadfailed). Give it to netstack's
   * `Interface.dadListener`.
   */
  addressSettled(address: IpAddress): void {
    if (!this.watched) return;
    const owner = address.bytes.join('.');
    for (const a of announced(this, this.links()))
      if (
        a.owner === owner &&
        (a.group === RTNLGRP_IPV6_IFADDR || (a.group === RTNLGRP_IPV6_ROUTE && a.kind === 'local'))
      )
        this.multicast(a.group, a.msg);
  }

  /**
   * An address or route change succeeded: the links' stacks run (see the constructor's `settle`).
   * @internal
   */
  changed(): void {
    this.settle();
  }

  /** Sends `msg` to every socket that joined `group` (nlmsg_multicast). */
  multicast(group: number, msg: Uint8Array): void {
    for (const s of this.ports.values()) if (s.memberOf(group)) s.deliver({ data: msg.slice(), from: 0 });
  }

  /**
   * IFA_CACHEINFO's cstamp and tstamp (hundredths of a second) of each of `addrs`, the IPv6
   * addresses of link `index` at stack time `now`. A permanent address without lifetimes has the
   * domain's creation time. An address with lifetimes is stamped with the time rtnetlink first
   * listed it and the time it was first listed with its present deadlines: netstack does not
   * record when it formed or refreshed an address, so a refresh between two dumps is stamped at
   * the second one. Addresses of the link that are gone are forgotten.
   * @internal
   */
  addressStamps(index: number, addrs: readonly Ipv6AddressInfo[], now: number): [number, number][] {
    const prefix = `${index} `;
    const live = new Set<string>();
    const out = addrs.map((a): [number, number] => {
      if (a.validUntil === Infinity && a.preferredUntil === Infinity && (a.flags & IFA_F_PERMANENT) !== 0)
        return [this.stamp, this.stamp];
      const key = prefix + a.cidr.address.key;
      live.add(key);
      let s = this.stamps.get(key);
      if (!s) {
        s = { created: now, updated: now, validUntil: a.validUntil, preferredUntil: a.preferredUntil };
        this.stamps.set(key, s);
      } else if (s.validUntil !== a.validUntil || s.preferredUntil !== a.preferredUntil) {
        s.updated = now;
        s.validUntil = a.validUntil;
        s.preferredUntil = a.preferredUntil;
      }
      return [hundredths(s.created), hundredths(s.updated)];
    });
    for (const key of this.stamps.keys())
      if (key.startsWith(prefix) && !live.has(key)) this.stamps.delete(key);
    return out;
  }
}

/** A stack time in ms as IFA_CACHEINFO's u32 hundredths of a second. */
function hundredths(ms: number): number {
  return Math.floor(ms / 10) >>> 0;
}

/** Builds netlink messages: a header, a fixed part and attributes, each aligned to 4. */
/** Builds one netlink message: a fixed part, attributes aligned to 4, then the header. */
export class MessageWriter {
  private buf = new Uint8Array(512);
  private len = 0;

  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const b = new Uint8Array(Math.max(this.buf.length * 2, this.len + n));
    b.set(this.buf.subarray(0, this.len));
    this.buf = b;
  }

  bytes(b: Uint8Array): void {
    this.room(b.length + 3);
    this.buf.set(b, this.len);
    this.len += b.length;
    this.len = (this.len + 3) & ~3;
  }

  attr(type: number, value: Uint8Array): void {
    const h = new Uint8Array(4);
    const dv = new DataView(h.buffer);
    dv.setUint16(0, 4 + value.length, true);
    dv.setUint16(2, type, true);
    this.room(4 + value.length + 3);
    this.buf.set(h, this.len);
    this.buf.set(value, this.len + 4);
    this.len = (this.len + 4 + value.length + 3) & ~3;
  }

  u8(type: number, v: number): void {
    this.attr(type, Uint8Array.of(v));
  }

  u32(type: number, v: number): void {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, v >>> 0, true);
    this.attr(type, b);
  }

  u64(type: number, v: bigint): void {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, v, true);
    this.attr(type, b);
  }

  str(type: number, s: string): void {
    const b = new Uint8Array(s.length + 1);
    for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i) & 0xff;
    this.attr(type, b);
  }

  /** The message with its header filled in. */
  finish(type: number, flags: number, seq: number, pid: number): Uint8Array {
    const out = new Uint8Array(NLMSG_HDRLEN + this.len);
    const dv = new DataView(out.buffer);
    dv.setUint32(0, out.length, true);
    dv.setUint16(4, type, true);
    dv.setUint16(6, flags, true);
    dv.setUint32(8, seq >>> 0, true);
    dv.setUint32(12, pid >>> 0, true);
    out.set(this.buf.subarray(0, this.len), NLMSG_HDRLEN);
    return out;
  }
}

function performanceNow(): number {
  return performance.now();
}

function fixed(size: number, fill: (dv: DataView) => void): Uint8Array {
  const b = new Uint8Array(size);
  fill(new DataView(b.buffer));
  return b;
}

function familyOf(a: IpAddress): number {
  return a.version === 4 ? AddressFamily.AF_INET : AddressFamily.AF_INET6;
}

/** The address with its host bits cleared. */
function network(c: IpCidr): Uint8Array {
  const b = c.address.bytes.slice();
  for (let i = 0; i < b.length; i++) {
    const keep = Math.max(0, Math.min(8, c.prefixLen - i * 8));
    b[i] = (b[i] as number) & ((0xff00 >> keep) & 0xff);
  }
  return b;
}

function maskOf(prefixLen: number): Uint8Array {
  const b = new Uint8Array(4);
  for (let i = 0; i < 4; i++) b[i] = (0xff00 >> Math.max(0, Math.min(8, prefixLen - i * 8))) & 0xff;
  return b;
}

function broadcastOf(c: IpCidr): Uint8Array {
  const b = c.address.bytes.slice();
  for (let i = 0; i < b.length; i++) {
    const keep = Math.max(0, Math.min(8, c.prefixLen - i * 8));
    b[i] = (b[i] as number) | (0xff >> keep);
  }
  return b;
}

function addrScope(a: IpAddress): number {
  if (a.isLoopback()) return RT_SCOPE_HOST;
  if (a.version === 6 && a.bytes[0] === 0xfe && ((a.bytes[1] as number) & 0xc0) === 0x80)
    return RT_SCOPE_LINK;
  return RT_SCOPE_UNIVERSE;
}

/** rtnl_fill_ifinfo: link `l`; `change` is ifi_change, the IFF_* bits an announcement says changed. */
function newLink(l: LinkInfo, flags: number, seq: number, pid: number, change = 0): Uint8Array {
  const w = new MessageWriter();
  w.bytes(
    fixed(16, (dv) => {
      dv.setUint8(0, AddressFamily.AF_UNSPEC);
      dv.setUint16(2, l.type, true);
      dv.setInt32(4, l.index, true);
      dv.setUint32(8, l.flags, true);
      dv.setUint32(12, change, true);
    }),
  );
  const loopback = (l.flags & IfFlag.IFF_LOOPBACK) !== 0;
  const up = (l.flags & IfFlag.IFF_UP) !== 0;
  w.str(IFLA_IFNAME, l.name);
  w.u32(IFLA_TXQLEN, (l.txQueueLen ?? 1000) >>> 0);
  // IF_OPER_UNKNOWN for lo while up (it has no carrier state), else IF_OPER_UP while running;
  // IF_OPER_DOWN when down, and for a device just up, before linkwatch saw its carrier.
  const running = (l.flags & IfFlag.IFF_RUNNING) !== 0;
  w.u8(IFLA_OPERSTATE, loopback ? (up ? 0 : 2) : running ? 6 : 2);
  w.u8(IFLA_LINKMODE, 0);
  w.u32(IFLA_MTU, l.mtu);
  w.u32(IFLA_GROUP, 0);
  // dev->promiscuity: IFF_PROMISC set by a request counts one.
  w.u32(IFLA_PROMISCUITY, (l.flags & IfFlag.IFF_PROMISC) !== 0 ? 1 : 0);
  w.u32(IFLA_NUM_TX_QUEUES, 1);
  w.u32(IFLA_NUM_RX_QUEUES, 1);
  // lo's carrier is on from the start, up or down.
  w.u8(IFLA_CARRIER, up || loopback ? 1 : 0);
  // lo never had a carrier change; a veth starts without carrier and gains it when set up, the
  // two changes `ip -s -s link` shows as transns.
  const counted = l.linkControl?.carrierChanges;
  const carrierUps = counted ? counted.ups : !loopback && up ? 1 : 0;
  const carrierDowns = counted ? counted.downs : loopback ? 0 : 1;
  w.u32(IFLA_CARRIER_CHANGES, carrierUps + carrierDowns);
  w.u32(IFLA_CARRIER_UP_COUNT, carrierUps);
  w.u32(IFLA_CARRIER_DOWN_COUNT, carrierDowns);
  // A link without link-layer addresses (ARPHRD_NONE) has neither attribute, as on Linux.
  if (l.address.length > 0) w.attr(IFLA_ADDRESS, l.address);
  if (l.broadcast.length > 0) w.attr(IFLA_BROADCAST, l.broadcast);
  // struct rtnl_link_stats64 (25 u64) and rtnl_link_stats (24 u32, the low halves): the first
  // nine fields in both, in this order; the others (error details, compression) stay 0.
  const st = l.stats();
  const fields = [
    st.rxPackets,
    st.txPackets,
    st.rxBytes ?? 0,
    st.txBytes ?? 0,
    st.rxErrors ?? 0,
    st.txErrors ?? 0,
    st.rxDropped ?? 0,
    st.txDropped ?? 0,
    st.multicast ?? 0,
  ];
  w.attr(
    IFLA_STATS64,
    fixed(200, (dv) => fields.forEach((v, i) => dv.setBigUint64(i * 8, BigInt(v), true))),
  );
  w.attr(
    IFLA_STATS,
    fixed(96, (dv) => fields.forEach((v, i) => dv.setUint32(i * 4, v >>> 0, true))),
  );
  w.str(IFLA_QDISC, l.qdisc ?? 'noqueue');
  return w.finish(RTM_NEWLINK, flags, seq, pid);
}

/** struct ifa_cacheinfo: the remaining lifetimes (seconds) and the stamps (hundredths). */
function cacheInfo(preferred: number, valid: number, cstamp: number, tstamp: number): Uint8Array {
  return fixed(16, (dv) => {
    dv.setUint32(0, preferred >>> 0, true);
    dv.setUint32(4, valid >>> 0, true);
    dv.setUint32(8, cstamp >>> 0, true);
    dv.setUint32(12, tstamp >>> 0, true);
  });
}

/** struct ifaddrmsg; its flags byte is the low 8 bits of the address's flags, as Linux's. */
function ifaddrmsg(c: IpCidr, flags: number, index: number): Uint8Array {
  return fixed(8, (dv) => {
    dv.setUint8(0, familyOf(c.address));
    dv.setUint8(1, c.prefixLen);
    dv.setUint8(2, flags & 0xff);
    dv.setUint8(3, addrScope(c.address));
    dv.setUint32(4, index, true);
  });
}

/** inet_fill_ifaddr: an IPv4 address (always permanent here). */
function newAddr4(
  d: NetlinkDomain,
  l: LinkInfo,
  c: IpCidr,
  flags: number,
  seq: number,
  pid: number,
): Uint8Array {
  const a = c.address;
  const detail = l.ipv4Detail?.(c) ?? { flags: 0, broadcast: !a.isLoopback() && c.prefixLen < 31 };
  const ifaFlags = IFA_F_PERMANENT | detail.flags;
  const w = new MessageWriter();
  w.bytes(ifaddrmsg(c, ifaFlags, l.index));
  w.attr(IFA_ADDRESS, a.bytes);
  w.attr(IFA_LOCAL, a.bytes);
  if (detail.broadcast) w.attr(IFA_BROADCAST, broadcastOf(c));
  w.str(IFA_LABEL, l.name);
  w.u32(IFA_FLAGS, ifaFlags);
  w.attr(IFA_CACHEINFO, cacheInfo(INFINITY_LIFE_TIME, INFINITY_LIFE_TIME, d.stamp, d.stamp));
  return w.finish(RTM_NEWADDR, flags, seq, pid);
}

/**
 * IFA_PROTO of an IPv6 address of `l`, as Linux's addrconf sets it: ::1 (init_loopback), the
 * link-local address the stack formed (addrconf_addr_gen: a permanent fe80::/64 of a link whose
 * addresses come with flags, as only the stack's own link-local one does), and public SLAAC
 * addresses (addrconf_prefix_rcv); 0 (no attribute) for configured and temporary ones.
 */
function addressProto(l: LinkInfo, a: Ipv6AddressInfo): number {
  const addr = a.cidr.address;
  if (addr.isLoopback()) return IFAPROT_KERNEL_LO;
  if (!l.ipv6 || (a.flags & IFA_F_TEMPORARY) !== 0) return 0;
  if ((a.flags & IFA_F_PERMANENT) === 0) return IFAPROT_KERNEL_RA;
  const linkLocal = addr.version === 6 && addr.isLinkLocal() && a.cidr.prefixLen === 64;
  return linkLocal && (l.flags & IfFlag.IFF_LOOPBACK) === 0 ? IFAPROT_KERNEL_LL : 0;
}

/**
 * inet6_fill_ifaddr: an IPv6 address with its flags (the low byte in ifaddrmsg, all of them in
 * IFA_FLAGS), IFA_CACHEINFO's remaining lifetimes at stack time `now`, and IFA_PROTO.
 */
function newAddr6(
  l: LinkInfo,
  a: Ipv6AddressInfo,
  stamps: [number, number],
  now: number,
  flags: number,
  seq: number,
  pid: number,
): Uint8Array {
  const w = new MessageWriter();
  w.bytes(ifaddrmsg(a.cidr, a.flags, l.index));
  w.attr(IFA_ADDRESS, a.cidr.address.bytes);
  w.attr(
    IFA_CACHEINFO,
    cacheInfo(
      remainingLifetime(a.preferredUntil, now),
      remainingLifetime(a.validUntil, now),
      stamps[0],
      stamps[1],
    ),
  );
  w.u32(IFA_FLAGS, a.flags);
  const proto = addressProto(l, a);
  if (proto !== 0) w.u8(IFA_PROTO, proto);
  return w.finish(RTM_NEWADDR, flags, seq, pid);
}

interface Route {
  readonly family: number;
  readonly dst: Uint8Array | undefined;
  readonly dstLen: number;
  readonly table: number;
  readonly protocol: number;
  readonly scope: number;
  readonly type: number;
  readonly oif: number;
  readonly gateway?: Uint8Array;
  readonly prefsrc?: Uint8Array;
  readonly priority?: number;
  /** RTAX_MTU in RTA_METRICS. */
  readonly mtu?: number;
  /** RTAX_LOCK's bit for RTAX_MTU in RTA_METRICS (`mtu lock`). */
  readonly mtuLocked?: boolean;
}

/**
 * The routes Linux derives from the links' addresses (fib_add_ifaddr, addrconf): for a primary
 * IPv4 address a prefix route in main (type local in the local table on a loopback link), a
 * broadcast route in the local table, and for every IPv4 address a local route (preferring the
 * subnet's primary address as source); for IPv6 a local route per address (not for a
 * tentative one) and a prefix route in main; plus a default route per gateway. In the order a
 * dump walks them: by table, then as the table's tree holds them (IPv4's trie by address, a
 * longer prefix first; IPv6's radix tree after its more specific prefixes, so a default route
 * comes last).
 */
function routesOf(links: readonly LinkInfo[]): Route[] {
  const out: Route[] = [];
  const seen = new Set<string>();
  const add = (r: Route): void => {
    const key = `${r.family} ${r.table} ${r.type} ${r.dstLen} ${r.dst?.join('.') ?? ''}`;
    if (seen.has(key)) return; // fib_magic of a route that exists already adds nothing
    seen.add(key);
    out.push(r);
  };
  for (const l of links) {
    const loopback = (l.flags & IfFlag.IFF_LOOPBACK) !== 0;
    // A down link keeps its IPv4 addresses' local routes (host scope) and loses the others
    // (fib_sync_down_dev); its IPv6 addresses went with their routes.
    const up = (l.flags & IfFlag.IFF_UP) !== 0;
    const v4 = l.addresses.filter((c) => c.address.version === 4);
    const secondary = (c: IpCidr): boolean => ((l.ipv4Detail?.(c).flags ?? 0) & IFA_F_SECONDARY) !== 0;
    for (const c of v4) {
      const a = c.address;
      const family = familyOf(a);
      const prim =
        secondary(c) && v4.find((p) => !secondary(p) && p.prefixLen === c.prefixLen && p.contains(a));
      const src = prim ? prim.address.bytes : a.bytes;
      add({
        family,
        dst: a.bytes,
        dstLen: 32,
        table: RT_TABLE_LOCAL,
        protocol: RTPROT_KERNEL,
        scope: RT_SCOPE_HOST,
        type: RTN_LOCAL,
        oif: l.index,
        prefsrc: src,
      });
      const net = network(c);
      if (secondary(c) || net.every((b) => b === 0) || c.prefixLen === 32) continue;
      const prefix = {
        family,
        dst: net,
        dstLen: c.prefixLen,
        protocol: RTPROT_KERNEL,
        oif: l.index,
        prefsrc: src,
      };
      // fib_add_ifaddr leaves out the prefix route of a noprefixroute address, not its broadcast.
      const routed = ((l.ipv4Detail?.(c).flags ?? 0) & IFA_F_NOPREFIXROUTE) === 0;
      if (routed && loopback)
        add({ ...prefix, table: RT_TABLE_LOCAL, scope: RT_SCOPE_HOST, type: RTN_LOCAL });
      else if (routed && up)
        add({ ...prefix, table: RT_TABLE_MAIN, scope: RT_SCOPE_LINK, type: RTN_UNICAST });
      if (up && c.prefixLen < 31)
        add({
          family,
          dst: broadcastOf(c),
          dstLen: 32,
          table: RT_TABLE_LOCAL,
          protocol: RTPROT_KERNEL,
          scope: RT_SCOPE_LINK,
          type: RTN_BROADCAST,
          oif: l.index,
          prefsrc: src,
        });
    }
    for (const info of ipv6AddressesOf(l)) {
      const c = info.cidr;
      const family = AddressFamily.AF_INET6;
      if (c.prefixLen < 128 && (info.flags & IFA_F_NOPREFIXROUTE) === 0)
        add({
          family,
          dst: network(c),
          dstLen: c.prefixLen,
          table: RT_TABLE_MAIN,
          protocol: RTPROT_KERNEL,
          scope: RT_SCOPE_UNIVERSE,
          type: RTN_UNICAST,
          oif: l.index,
          priority: 256,
        });
      // The local route comes when duplicate address detection passed (addrconf_dad_completed).
      if ((info.flags & IFA_F_TENTATIVE) !== 0) continue;
      add({
        family,
        dst: c.address.bytes,
        dstLen: 128,
        table: RT_TABLE_LOCAL,
        protocol: RTPROT_KERNEL,
        scope: RT_SCOPE_UNIVERSE,
        type: RTN_LOCAL,
        oif: l.index,
        priority: 0,
      });
    }
    for (const g of up ? l.gateways : [])
      add({
        family: familyOf(g),
        dst: undefined,
        dstLen: 0,
        table: RT_TABLE_MAIN,
        protocol: RTPROT_STATIC,
        scope: RT_SCOPE_UNIVERSE,
        type: RTN_UNICAST,
        oif: l.index,
        gateway: g.bytes,
        ...(g.version === 6 ? { priority: 1024 } : {}),
      });
  }
  // The routes added with `ip route add`, from the control the links of a stack share.
  for (const control of new Set(links.flatMap((l) => (l.routeControl ? [l.routeControl] : []))))
    for (const r of control.list()) {
      const v6 = r.dst.address.version === 6;
      out.push({
        family: familyOf(r.dst.address),
        dst: r.dst.prefixLen > 0 ? r.dst.address.bytes : undefined,
        dstLen: r.dst.prefixLen,
        table: RT_TABLE_MAIN,
        protocol: r.protocol ?? RTPROT_BOOT,
        scope: r.gateway !== undefined || v6 ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK,
        type: RTN_UNICAST,
        oif: r.oif,
        ...(r.gateway !== undefined ? { gateway: r.gateway.bytes } : {}),
        ...(r.src !== undefined ? { prefsrc: r.src.bytes } : {}),
        ...(v6 || r.metric !== 0 ? { priority: r.metric } : {}),
        ...(r.mtu !== undefined ? { mtu: r.mtu } : {}),
        ...(r.mtuLocked === true ? { mtuLocked: true } : {}),
      });
    }
  return out.sort(routeOrder);
}

/** The dump order of two routes (see {@link routesOf}). */
function routeOrder(x: Route, y: Route): number {
  if (x.family !== y.family) return x.family - y.family;
  if (x.table !== y.table) return x.table - y.table;
  const a = x.dst ?? new Uint8Array(x.family === AddressFamily.AF_INET ? 4 : 16);
  const b = y.dst ?? new Uint8Array(a.length);
  const common = Math.min(x.dstLen, y.dstLen);
  for (let bit = 0; bit < a.length * 8; bit++) {
    const i = bit >> 3;
    const m = 0x80 >> (bit & 7);
    // IPv4 compares whole keys; IPv6 only the bits both prefixes have.
    if (x.family !== AddressFamily.AF_INET && bit >= common) break;
    if (((a[i] as number) & m) !== ((b[i] as number) & m))
      return ((a[i] as number) & m) - ((b[i] as number) & m);
  }
  return y.dstLen - x.dstLen || (x.priority ?? 0) - (y.priority ?? 0);
}

function newRoute(r: Route, flags: number, seq: number, pid: number): Uint8Array {
  const w = new MessageWriter();
  w.bytes(
    fixed(12, (dv) => {
      dv.setUint8(0, r.family);
      dv.setUint8(1, r.dstLen);
      dv.setUint8(4, r.table);
      dv.setUint8(5, r.protocol);
      dv.setUint8(6, r.scope);
      dv.setUint8(7, r.type);
    }),
  );
  w.u32(RTA_TABLE, r.table);
  if (r.dst) w.attr(RTA_DST, r.dst);
  if (r.priority !== undefined) w.u32(RTA_PRIORITY, r.priority);
  putMetrics(w, r.mtu, r.mtuLocked === true);
  if (r.prefsrc) w.attr(RTA_PREFSRC, r.prefsrc);
  if (r.gateway) w.attr(RTA_GATEWAY, r.gateway);
  w.u32(RTA_OIF, r.oif);
  if (r.family === AddressFamily.AF_INET6) w.u8(RTA_PREF, 0);
  return w.finish(RTM_NEWROUTE, flags, seq, pid);
}

/**
 * rtnetlink_put_metrics of the one metric routes here have: RTA_METRICS with RTAX_LOCK (the bit
 * of a locked MTU) and RTAX_MTU, in that order; nothing when neither is set.
 */
function putMetrics(w: MessageWriter, mtu: number | undefined, locked: boolean): void {
  if (mtu === undefined && !locked) return;
  const m = new MessageWriter();
  if (locked) m.u32(RTAX_LOCK, 1 << RTAX_MTU);
  if (mtu !== undefined) m.u32(RTAX_MTU, mtu);
  w.attr(RTA_METRICS, m.finish(0, 0, 0, 0).subarray(NLMSG_HDRLEN));
}

/** Attributes and flags of RTM_GETROUTE's requests and answers (include/uapi/linux/rtnetlink.h). */
const RTA_SRC = 2;
const RTA_IIF = 3;
const RTA_CACHEINFO = 12;
const RTA_MARK = 16;
const RTA_UID = 25;
const RTA_IP_PROTO = 27;
const RTA_SPORT = 28;
const RTA_DPORT = 29;
const RTM_F_NOTIFY = 0x100;
const RTM_F_CLONED = 0x200;
const RTM_F_LOOKUP_TABLE = 0x1000;
const RTM_F_FIB_MATCH = 0x2000;
/** rt_flags of a route to this host and of a broadcast route (RTCF_*, in rtm_flags' top bits). */
const RTCF_LOCAL = 0x80000000;
const RTCF_BROADCAST = 0x10000000;
const RTCF_MULTICAST = 0x20000000;
const RTN_MULTICAST = 5;
const RTMSG_LEN = 12;
const RTA_CACHEINFO_LEN = 32;

/** A failed RTM_GETROUTE: the errno and its extended ACK. */
type GetRouteError = ExtAck;

/** The route of `routes` a packet to `dst` takes: the longest prefix, then the lowest metric. */
function longestMatch(routes: readonly Route[], dst: Uint8Array): Route | undefined {
  let best: Route | undefined;
  for (const r of routes) {
    let hit = true;
    for (let bit = 0; hit && bit < r.dstLen; bit++) {
      const m = 0x80 >> (bit & 7);
      hit = (((r.dst?.[bit >> 3] ?? 0) ^ (dst[bit >> 3] as number)) & m) === 0;
    }
    if (!hit) continue;
    if (
      !best ||
      r.dstLen > best.dstLen ||
      (r.dstLen === best.dstLen && (r.priority ?? 0) < (best.priority ?? 0))
    )
      best = r;
  }
  return best;
}

/**
 * RTM_GETROUTE without NLM_F_DUMP, as `ip route get` sends it: inet_rtm_getroute and
 * inet6_rtm_getroute check the request (more strictly with NETLINK_GET_STRICT_CHK, `strict`), look
 * up the route an output packet to RTA_DST takes (from RTA_SRC, out of RTA_OIF when given) and
 * answer one RTM_NEWROUTE: for IPv4 rt_fill_info's cached route (RTM_F_CLONED with the RTCF_*
 * bits of a local, broadcast or multicast route, the main table of a namespace without rules,
 * RTA_PREFSRC, RTA_UID), for IPv6 rt6_fill_node of the FIB route (its table, protocol and metric,
 * RTA_SRC ::). A path MTU the stack learnt is RTAX_MTU with the seconds it has left in
 * RTA_CACHEINFO ("expires 599sec mtu 1200"), locked below IPv4's min_pmtu; RTM_F_FIB_MATCH answers
 * the FIB route itself. Routes are the ones dumps list ({@link routesOf}); sources and path MTUs
 * are netstack's. With RTA_IIF the route a packet arriving on that link takes: see
 * {@link inputRoute4} and {@link inputRoute6}. No route: ENETUNREACH.
 */
function getRoute(
  links: readonly LinkInfo[],
  body: Uint8Array,
  strict: boolean,
  uid: number,
  seq: number,
  pid: number,
  cache: InputRouteCache,
): Uint8Array | GetRouteError {
  const family = body.length > 0 ? (body[0] as number) : AddressFamily.AF_UNSPEC;
  if (family !== AddressFamily.AF_INET && family !== AddressFamily.AF_INET6) return { error: E.EOPNOTSUPP };
  const v6 = family === AddressFamily.AF_INET6;
  const full = v6 ? 128 : 32;
  const invalid = (message?: string): GetRouteError =>
    message === undefined ? { error: E.EINVAL } : { error: E.EINVAL, message };
  if (body.length < RTMSG_LEN)
    return invalid(
      v6 ? 'ipv6: Invalid header for get route request' : 'ipv4: Invalid header for route get request',
    );
  const rtmFlags = new DataView(body.buffer, body.byteOffset).getUint32(8, true);
  const tb = netlinkAttrs(body, RTMSG_LEN);
  if (strict) {
    const [, dstLen, srcLen, , table, protocol, scope, type] = body;
    if (
      (dstLen !== 0 && dstLen !== full) ||
      (srcLen !== 0 && srcLen !== full) ||
      table ||
      protocol ||
      scope ||
      type
    )
      return invalid(
        v6
          ? 'ipv6: Invalid values in header for get route request'
          : 'ipv4: Invalid values in header for route get request',
      );
    if ((rtmFlags & ~(v6 ? RTM_F_FIB_MATCH : RTM_F_NOTIFY | RTM_F_LOOKUP_TABLE | RTM_F_FIB_MATCH)) !== 0)
      return invalid(
        v6
          ? 'ipv6: Invalid flags for get route request'
          : 'ipv4: Unsupported rtm_flags for route get request',
      );
  }
  const policyError = checkPolicy(body, RTMSG_LEN, v6 ? RTM_IPV6_POLICY : RTM_IPV4_POLICY, strict);
  if (policyError) return policyError;
  if (strict) {
    if ((tb.has(RTA_SRC) && body[2] === 0) || (tb.has(RTA_DST) && body[1] === 0))
      return invalid(
        v6
          ? 'ipv6: rtm_src_len and rtm_dst_len must be 128 for IPv6'
          : 'ipv4: rtm_src_len and rtm_dst_len must be 32 for IPv4',
      );
    const allowed = [
      RTA_IIF,
      RTA_OIF,
      RTA_SRC,
      RTA_DST,
      RTA_IP_PROTO,
      RTA_SPORT,
      RTA_DPORT,
      RTA_MARK,
      RTA_UID,
    ];
    if ([...tb.keys()].some((t) => !allowed.includes(t)))
      return invalid(
        v6
          ? 'ipv6: Unsupported attribute in get route request'
          : 'ipv4: Unsupported attribute in route get request',
      );
  }
  const len = v6 ? 16 : 4;
  if (v6 && [RTA_SRC, RTA_DST].some((t) => (tb.get(t)?.length ?? len) < len)) return invalid();
  const u32 = (t: number): number | undefined => {
    const v = tb.get(t);
    return v && new DataView(v.buffer, v.byteOffset).getUint32(0, true);
  };
  const dst = tb.get(RTA_DST)?.slice(0, len) ?? new Uint8Array(len);
  const src = tb.get(RTA_SRC)?.slice(0, len);
  const zero = (b: Uint8Array | undefined): boolean => b === undefined || b.every((x) => x === 0);
  // The source asked for (IPv4's fl4.saddr when not 0.0.0.0).
  const from = src && !zero(src) ? src : undefined;
  const iif = u32(RTA_IIF) ?? 0;
  if (iif !== 0) {
    const arriving = links.find((l) => l.index === iif);
    if (!arriving) return { error: E.ENODEV };
    const input = {
      links,
      arriving,
      dst,
      src,
      rtmFlags,
      mark: u32(RTA_MARK) ?? 0,
      uid: u32(RTA_UID),
      seq,
      pid,
    };
    return v6 ? inputRoute6(input) : inputRoute4(input, cache);
  }
  const oif = u32(RTA_OIF) ?? 0;
  const out = links.find((l) => l.index === oif);
  if (oif !== 0 && !out && !v6) return { error: E.ENODEV };
  const lo = links.find((l) => (l.flags & IfFlag.IFF_LOOPBACK) !== 0);
  const control = links.find((l) => l.routeControl)?.routeControl;
  const ip = (b: Uint8Array): IpAddress => (v6 ? new Ipv6Address(b) : new Ipv4Address(b));
  const routes = routesOf(links).filter((r) => r.family === family && (oif === 0 || r.oif === oif));
  let route: Route | undefined;
  if (v6) {
    // fib6_rule_lookup without rules: the local table, then main.
    const inTable = (t: number): Route[] => routes.filter((r) => r.table === t);
    route = longestMatch(inTable(RT_TABLE_LOCAL), dst) ?? longestMatch(inTable(RT_TABLE_MAIN), dst);
  } else {
    // ip_route_output_key_hash_rcu: a source must be an address of this host.
    if (from) {
      const s = ip(from);
      if (s.isMulticast() || s.isBroadcast() || from[0] === 0) return invalid();
      if (longestMatch(routes, from)?.type !== RTN_LOCAL) return { error: E.ENETUNREACH };
    }
    if (out && (out.flags & IfFlag.IFF_UP) === 0) return { error: E.ENETUNREACH };
    route = zero(dst) ? undefined : longestMatch(routes, dst);
  }
  const fibMatch = (rtmFlags & RTM_F_FIB_MATCH) !== 0;
  // Without a route: to 0.0.0.0 a local route to lo, out of a given link one on it; else none.
  if (!route && (v6 || (!zero(dst) && !out))) return { error: E.ENETUNREACH };
  if (fibMatch) {
    if (!route) return { error: E.EHOSTUNREACH };
    return newRoute(v6 ? route : { ...route, table: RT_TABLE_MAIN }, 0, seq, pid);
  }
  // __mkroute_output: the limited broadcast address and multicast groups leave by the route's
  // link, without its gateway (a multicast group keeps one of a route of a /4 or longer).
  const lbcast = !v6 && dst.every((b) => b === 0xff);
  const multicast = !v6 && (dst[0]! & 0xf0) === 0xe0;
  let type = route?.type ?? (zero(dst) ? RTN_LOCAL : RTN_UNICAST);
  if (lbcast) type = RTN_BROADCAST;
  else if (multicast) type = RTN_MULTICAST;
  const gateway = lbcast || (multicast && (route?.dstLen ?? 0) < 4) ? undefined : route?.gateway;
  const viaLo = type === RTN_LOCAL || (route ? route.oif === lo?.index : out === lo);
  // __mkroute_output: a loopback source leaves by lo only.
  if (!v6 && from?.[0] === 127 && !viaLo) return invalid();
  const oifOut = type === RTN_LOCAL ? (lo?.index ?? 0) : (route?.oif ?? oif);
  const learnt = zero(dst) ? undefined : control?.pathMtu(ip(dst));
  // The source (fl4->saddr, ip6_route_get_saddr): the route's preferred one, a local route's
  // destination, else what the stack picks on the route's link.
  let prefsrc: Uint8Array | undefined = route?.prefsrc;
  if (!prefsrc && type === RTN_LOCAL) prefsrc = zero(dst) ? Ipv4Address.LOOPBACK.bytes : dst;
  if (!prefsrc && route) prefsrc = control?.source(ip(dst))?.bytes;
  if (!prefsrc && out)
    prefsrc = out.addresses.find((c) => c.address.version === 4 && addrScope(c.address) !== RT_SCOPE_HOST)
      ?.address.bytes;
  if (prefsrc && zero(prefsrc)) prefsrc = undefined;
  const w = new MessageWriter();
  const table = v6 ? (route?.table ?? RT_TABLE_MAIN) : RT_TABLE_MAIN;
  let flags = learnt || !v6 ? RTM_F_CLONED : 0;
  if (!v6) {
    // A multicast group is RTCF_LOCAL when this host is a member (ip_check_mc_rcu): of all
    // hosts, 224.0.0.1, every link is (ip_mc_up); the groups sockets joined are not looked at.
    if (type === RTN_BROADCAST) flags |= RTCF_BROADCAST | RTCF_LOCAL;
    else if (type === RTN_MULTICAST)
      flags |= RTCF_MULTICAST | (dst.join('.') === '224.0.0.1' ? RTCF_LOCAL : 0);
    else if (viaLo) flags |= RTCF_LOCAL;
    flags |= rtmFlags & RTM_F_NOTIFY;
  }
  w.bytes(
    fixed(RTMSG_LEN, (dv) => {
      dv.setUint8(0, family);
      dv.setUint8(1, full);
      dv.setUint8(2, v6 || from ? full : 0);
      dv.setUint8(4, table);
      dv.setUint8(5, v6 ? (route?.protocol ?? 0) : 0);
      dv.setUint8(6, RT_SCOPE_UNIVERSE);
      dv.setUint8(7, type);
      dv.setUint32(8, flags >>> 0, true);
    }),
  );
  w.u32(RTA_TABLE, table);
  w.attr(RTA_DST, dst);
  const mtu = learnt?.mtu ?? route?.mtu;
  const locked = route?.mtuLocked === true || learnt?.locked === true;
  // RTA_CACHEINFO: rta_clntref (the lookup's and the socket buffer's references, and the
  // exception's), then rta_expires in USER_HZ ticks; the rest 0.
  const cacheInfo = fixed(RTA_CACHEINFO_LEN, (dv) => {
    dv.setUint32(0, learnt ? 3 : 2, true);
    if (learnt) dv.setInt32(8, Math.floor(Math.max(learnt.expiresIn, 0) / 10), true);
  });
  if (v6) {
    w.attr(RTA_SRC, src ?? new Uint8Array(16));
    if (prefsrc) w.attr(RTA_PREFSRC, prefsrc);
    if (route?.prefsrc) w.attr(RTA_PREFSRC, route.prefsrc);
    putMetrics(w, mtu, locked);
    w.u32(RTA_PRIORITY, route?.priority ?? 0);
    if (route?.gateway) w.attr(RTA_GATEWAY, route.gateway);
    w.u32(RTA_OIF, oifOut);
    w.attr(RTA_CACHEINFO, cacheInfo);
    w.u8(RTA_PREF, 0);
  } else {
    if (from) w.attr(RTA_SRC, from);
    w.u32(RTA_OIF, oifOut);
    // rt_fill_info names the source only when it is not the one asked for.
    if (prefsrc && !from) w.attr(RTA_PREFSRC, prefsrc);
    if (gateway) w.attr(RTA_GATEWAY, gateway);
    putMetrics(w, mtu, locked);
    const mark = u32(RTA_MARK) ?? 0;
    if (mark !== 0) w.u32(RTA_MARK, mark);
    w.u32(RTA_UID, u32(RTA_UID) ?? uid);
    w.attr(RTA_CACHEINFO, cacheInfo);
  }
  return w.finish(RTM_NEWROUTE, 0, seq, pid);
}

/** What an input route lookup is asked: the arriving link, the addresses and what else the request gave. */
interface InputRequest {
  readonly links: readonly LinkInfo[];
  readonly arriving: LinkInfo;
  readonly dst: Uint8Array;
  /** RTA_SRC, if given (0.0.0.0 and :: included). */
  readonly src: Uint8Array | undefined;
  readonly rtmFlags: number;
  readonly mark: number;
  /** RTA_UID, if given (without it an input route has no uid). */
  readonly uid: number | undefined;
  readonly seq: number;
  readonly pid: number;
}

/**
 * The IPv4 input routes Linux keeps on a FIB nexthop (nhc_rth_input), by the route they were made
 * from (routes of equal attributes share one fib_info, so one nexthop): the first lookup through
 * a nexthop makes one, which the answer and the cache hold (rta_clntref 2); later lookups borrow
 * the cached one (1, and rta_lastuse counts the ticks since it was made), and RTM_F_NOTIFY marks
 * it for good (RTCF_NOTIFY). A change of the routes drops them all (rt_cache_flush), so
 * `generation` is the routes they were made with.
 * @internal
 */
export interface InputRouteCache {
  generation: string;
  /** By route: when the cached route was made (performance.now() ms) and whether it notifies. */
  readonly routes: Map<string, { readonly made: number; notify: boolean }>;
}

/** RTCF_NOTIFY: a route asked for with RTM_F_NOTIFY (rt_flags above the low 16 bits). */
const RTCF_NOTIFY = 0x10000;
/** The all-hosts group, which every IPv4 link joins (ip_mc_up). */
const ALL_HOSTS = '224.0.0.1';

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean =>
  a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * RTM_GETROUTE with RTA_IIF for IPv4: ip_route_input_rcu and ip_route_input_slow with the
 * defaults of a fresh namespace (forwarding, rp_filter, route_localnet and accept_local off, no
 * multicast routing), answered by rt_fill_info. EINVAL for martians: a multicast or limited
 * broadcast source, a zero source (except to the limited broadcast), a zero destination, a
 * loopback address arriving anywhere, a source that is one of this host's addresses, a group this
 * host is not in (it is in 224.0.0.1 only). A local destination is delivered (RTN_LOCAL), a
 * broadcast one too (RTN_BROADCAST), a group joined (RTN_MULTICAST), each by lo; anything else
 * would be forwarded, and forwarding is off: EHOSTUNREACH. RTM_F_FIB_MATCH answers the FIB route
 * (EHOSTUNREACH without one).
 */
function inputRoute4(q: InputRequest, cache: InputRouteCache): Uint8Array | GetRouteError {
  const { links, dst } = q;
  const src = q.src ?? new Uint8Array(4);
  const invalid: GetRouteError = { error: E.EINVAL };
  const zero = (b: Uint8Array): boolean => b.every((x) => x === 0);
  const lbcast = (b: Uint8Array): boolean => b.every((x) => x === 0xff);
  const multicast = (b: Uint8Array): boolean => (b[0]! & 0xf0) === 0xe0;
  const loopback = (b: Uint8Array): boolean => b[0] === 127;
  // fib_validate_source without rp_filter: a source may be anything but this host's own address.
  const ours = (b: Uint8Array): boolean =>
    links.some((l) => l.addresses.some((c) => c.address.version === 4 && sameBytes(c.address.bytes, b)));
  const routes = routesOf(links).filter((r) => r.family === AddressFamily.AF_INET);
  let type: number;
  let rtFlags: number;
  let fib: Route | undefined;
  if (multicast(dst)) {
    // ip_check_mc_rcu, then ip_mc_validate_source (a zero source only to a link-local group).
    if (dst.join('.') !== ALL_HOSTS) return invalid;
    if (multicast(src) || lbcast(src) || loopback(src)) return invalid;
    if (!zero(src) && ours(src)) return invalid;
    type = RTN_MULTICAST;
    rtFlags = RTCF_MULTICAST | RTCF_LOCAL;
  } else {
    if (multicast(src) || lbcast(src)) return invalid;
    if (!lbcast(dst) && !(zero(src) && zero(dst))) {
      if (zero(src) || zero(dst) || loopback(dst) || loopback(src)) return invalid;
      // fib_lookup through the default rules: the local table, then main.
      const inTable = (t: number): Route[] => routes.filter((r) => r.table === t);
      fib = longestMatch(inTable(RT_TABLE_LOCAL), dst) ?? longestMatch(inTable(RT_TABLE_MAIN), dst);
      if (!fib || (fib.type !== RTN_LOCAL && fib.type !== RTN_BROADCAST)) return { error: E.EHOSTUNREACH };
    }
    if (!zero(src) && ours(src)) return invalid;
    type = fib?.type ?? RTN_BROADCAST;
    rtFlags = type === RTN_LOCAL ? RTCF_LOCAL : RTCF_BROADCAST | RTCF_LOCAL;
  }
  // Only a route made from a FIB route is cached on its nexthop.
  let refs = 1;
  let lastuse = 0;
  const notify = (q.rtmFlags & RTM_F_NOTIFY) !== 0;
  if (fib) {
    const generation = routes
      .map((r) => JSON.stringify(r, (_k, v: unknown) => (v instanceof Uint8Array ? [...v] : v)))
      .join();
    if (cache.generation !== generation) {
      cache.generation = generation;
      cache.routes.clear();
    }
    const key = [fib.table, fib.type, fib.scope, fib.protocol, fib.oif, fib.prefsrc?.join('.')].join(' ');
    const now = performanceNow();
    let cached = cache.routes.get(key);
    if (!cached) {
      cached = { made: now, notify: false };
      cache.routes.set(key, cached);
      refs = 2;
    }
    lastuse = hundredths(now - cached.made);
    if (notify) cached.notify = true;
    if (cached.notify) rtFlags |= RTCF_NOTIFY;
  } else if (notify) rtFlags |= RTCF_NOTIFY;
  if ((q.rtmFlags & RTM_F_FIB_MATCH) !== 0) {
    if (!fib) return { error: E.EHOSTUNREACH };
    return newRoute({ ...fib, table: RT_TABLE_MAIN }, 0, q.seq, q.pid);
  }
  const lo = links.find((l) => (l.flags & IfFlag.IFF_LOOPBACK) !== 0);
  const from = zero(src) ? undefined : src;
  const w = new MessageWriter();
  let flags = (rtFlags & ~0xffff) | RTM_F_CLONED;
  if ((rtFlags & RTCF_NOTIFY) !== 0) flags |= RTM_F_NOTIFY;
  w.bytes(
    fixed(RTMSG_LEN, (dv) => {
      dv.setUint8(0, AddressFamily.AF_INET);
      dv.setUint8(1, 32);
      dv.setUint8(2, from ? 32 : 0);
      dv.setUint8(4, RT_TABLE_MAIN);
      dv.setUint8(6, RT_SCOPE_UNIVERSE);
      dv.setUint8(7, type);
      dv.setUint32(8, flags >>> 0, true);
    }),
  );
  w.u32(RTA_TABLE, RT_TABLE_MAIN);
  w.attr(RTA_DST, dst);
  if (from) w.attr(RTA_SRC, from);
  // A delivered packet's route leaves by lo (ip_rt_get_dev without an L3 master device).
  w.u32(RTA_OIF, lo?.index ?? 0);
  if (q.mark !== 0) w.u32(RTA_MARK, q.mark);
  if (q.uid !== undefined) w.u32(RTA_UID, q.uid);
  w.u32(RTA_IIF, q.arriving.index);
  w.attr(
    RTA_CACHEINFO,
    fixed(RTA_CACHEINFO_LEN, (dv) => {
      dv.setUint32(0, refs, true);
      dv.setUint32(4, lastuse, true);
    }),
  );
  return w.finish(RTM_NEWROUTE, 0, q.seq, q.pid);
}

/**
 * RTM_GETROUTE with RTA_IIF for IPv6: ip6_route_input_lookup through the local table, then main,
 * answered by rt6_fill_node with RTA_IIF in place of the source it would pick. A loopback,
 * link-local or multicast destination is looked up strictly, among the arriving link's routes
 * (rt6_need_strict), so ::1 arrives on lo only. Forwarding does not matter to the lookup: a
 * route to another link is answered. No route: ENETUNREACH. A multicast destination arriving on a
 * link with IPv6 other than lo meets that link's ff00::/8 route, which rt6_fill_node asks
 * multicast routing about (ip6mr_get_route): without its table Linux fails to fill the answer
 * (EMSGSIZE).
 */
function inputRoute6(q: InputRequest): Uint8Array | GetRouteError {
  const { links, dst, arriving } = q;
  const lo = links.find((l) => (l.flags & IfFlag.IFF_LOOPBACK) !== 0);
  const linkLocal = dst[0] === 0xfe && (dst[1]! & 0xc0) === 0x80;
  const loopback = dst.every((b, i) => b === (i === 15 ? 1 : 0));
  const strict = dst[0] === 0xff || linkLocal || loopback;
  const routes = routesOf(links).filter(
    (r) => r.family === AddressFamily.AF_INET6 && (!strict || r.oif === arriving.index),
  );
  const inTable = (t: number): Route[] => routes.filter((r) => r.table === t);
  const route = longestMatch(inTable(RT_TABLE_LOCAL), dst) ?? longestMatch(inTable(RT_TABLE_MAIN), dst);
  if (!route) {
    const multicastRoute =
      dst[0] === 0xff &&
      arriving !== lo &&
      (arriving.flags & IfFlag.IFF_UP) !== 0 &&
      ipv6AddressesOf(arriving).length > 0;
    return { error: multicastRoute ? E.EMSGSIZE : E.ENETUNREACH };
  }
  const fibMatch = (q.rtmFlags & RTM_F_FIB_MATCH) !== 0;
  const learnt = fibMatch
    ? undefined
    : links.find((l) => l.routeControl)?.routeControl?.pathMtu(new Ipv6Address(dst));
  const w = new MessageWriter();
  w.bytes(
    fixed(RTMSG_LEN, (dv) => {
      dv.setUint8(0, AddressFamily.AF_INET6);
      dv.setUint8(1, fibMatch ? route.dstLen : 128);
      dv.setUint8(2, fibMatch ? 0 : 128);
      dv.setUint8(4, route.table);
      dv.setUint8(5, route.protocol);
      dv.setUint8(6, RT_SCOPE_UNIVERSE);
      dv.setUint8(7, route.type);
      dv.setUint32(8, learnt ? RTM_F_CLONED : 0, true);
    }),
  );
  w.u32(RTA_TABLE, route.table);
  if (!fibMatch) w.attr(RTA_DST, dst);
  else if (route.dst && route.dstLen > 0) w.attr(RTA_DST, route.dst);
  if (!fibMatch) w.attr(RTA_SRC, q.src ?? new Uint8Array(16));
  w.u32(RTA_IIF, arriving.index);
  if (route.prefsrc) w.attr(RTA_PREFSRC, route.prefsrc);
  putMetrics(w, learnt?.mtu ?? route.mtu, route.mtuLocked === true || learnt?.locked === true);
  w.u32(RTA_PRIORITY, route.priority ?? 0);
  if (route.gateway) w.attr(RTA_GATEWAY, route.gateway);
  // The answer of a lookup is its dst, whose local routes leave by lo; the FIB route's own
  // nexthop is the address's link.
  w.u32(RTA_OIF, !fibMatch && route.type === RTN_LOCAL ? (lo?.index ?? 0) : route.oif);
  // rta_clntref of a lookup's dst: the answer's reference and the per-CPU copy's (and an
  // exception's); a FIB route has no dst: all 0.
  w.attr(
    RTA_CACHEINFO,
    fixed(RTA_CACHEINFO_LEN, (dv) => {
      if (fibMatch) return;
      dv.setUint32(0, learnt ? 3 : 2, true);
      if (learnt) dv.setInt32(8, Math.floor(Math.max(learnt.expiresIn, 0) / 10), true);
    }),
  );
  w.u8(RTA_PREF, 0);
  return w.finish(RTM_NEWROUTE, 0, q.seq, q.pid);
}

/** Rule attributes (FRA_*) of include/uapi/linux/fib_rules.h and the rules' one action. */
const FRA_PRIORITY = 6;
const FRA_SUPPRESS_PREFIXLEN = 14;
const FRA_TABLE = 15;
const FRA_PROTOCOL = 21;
const FR_ACT_TO_TBL = 1;
const RT_TABLE_DEFAULT = 253;
/** RTNL_FAMILY_IPMR and RTNL_FAMILY_IP6MR: the multicast routing rules' own families. */
const RTNL_FAMILY_IPMR = 128;
const RTNL_FAMILY_IP6MR = 129;

/** A policy routing rule: every packet of `family` looks up `table` (`from all lookup <table>`). */
interface Rule {
  readonly family: number;
  readonly table: number;
  readonly priority: number;
}

/**
 * The rules of a fresh network namespace, in the order fib_nl_dumprule walks them for
 * AF_UNSPEC (the families in the order their rules_ops registered, each family's rules by
 * priority): IPv4's local, main and default tables (fib4_rules_init), the multicast routing
 * tables' default rules (ipmr_rules_init, ip6mr_rules_init; `ip rule` does not show those
 * families), and IPv6's local and main tables (fib6_rules_net_init).
 */
const DEFAULT_RULES: readonly Rule[] = [
  { family: AddressFamily.AF_INET, table: RT_TABLE_LOCAL, priority: 0 },
  { family: AddressFamily.AF_INET, table: RT_TABLE_MAIN, priority: 32766 },
  { family: AddressFamily.AF_INET, table: RT_TABLE_DEFAULT, priority: 32767 },
  { family: RTNL_FAMILY_IPMR, table: RT_TABLE_DEFAULT, priority: 32767 },
  { family: RTNL_FAMILY_IP6MR, table: RT_TABLE_MAIN, priority: 32767 },
  { family: AddressFamily.AF_INET6, table: RT_TABLE_LOCAL, priority: 0 },
  { family: AddressFamily.AF_INET6, table: RT_TABLE_MAIN, priority: 32766 },
];

/**
 * fib_nl_fill_rule of a rule made by the kernel: a struct fib_rule_hdr, FRA_TABLE,
 * FRA_SUPPRESS_PREFIXLEN (none: -1), FRA_PROTOCOL (RTPROT_KERNEL) and, unless 0, FRA_PRIORITY.
 */
function newRule(r: Rule, flags: number, seq: number, pid: number): Uint8Array {
  const w = new MessageWriter();
  w.bytes(
    fixed(12, (dv) => {
      dv.setUint8(0, r.family);
      dv.setUint8(4, r.table < 256 ? r.table : 0); // RT_TABLE_COMPAT beyond a byte
      dv.setUint8(7, FR_ACT_TO_TBL);
    }),
  );
  w.u32(FRA_TABLE, r.table);
  w.u32(FRA_SUPPRESS_PREFIXLEN, 0xffffffff);
  w.u8(FRA_PROTOCOL, RTPROT_KERNEL);
  if (r.priority !== 0) w.u32(FRA_PRIORITY, r.priority);
  return w.finish(RTM_NEWRULE, flags, seq, pid);
}

/** An RTM_NEWNEIGH message (a struct ndmsg, NDA_DST and NDA_LLADDR) for one resolved neighbour. */
function newNeigh(
  l: LinkInfo,
  n: { readonly address: IpAddress; readonly mac: Uint8Array },
  flags: number,
  seq: number,
  pid: number,
): Uint8Array {
  const w = new MessageWriter();
  w.bytes(
    fixed(12, (dv) => {
      dv.setUint8(0, n.address.version === 4 ? AddressFamily.AF_INET : AddressFamily.AF_INET6);
      dv.setInt32(4, l.index, true);
      dv.setUint16(8, NUD_REACHABLE, true);
      dv.setUint8(10, 0);
      dv.setUint8(11, RTN_UNICAST);
    }),
  );
  w.attr(NDA_DST, n.address.bytes);
  w.attr(NDA_LLADDR, n.mac);
  return w.finish(RTM_NEWNEIGH, flags, seq, pid);
}

/**
 * The attributes after a fixed part of `skip` bytes of a netlink message's body, by type: the
 * last of each type, as nla_parse keeps them, or with `first` the first (nlmsg_find_attr).
 * Parsing stops at a malformed attribute.
 */
export function netlinkAttrs(body: Uint8Array, skip: number, first = false): Map<number, Uint8Array> {
  const out = new Map<number, Uint8Array>();
  const dv = new DataView(body.buffer, body.byteOffset, body.byteLength);
  let off = (skip + 3) & ~3;
  while (off + 4 <= body.length) {
    const len = dv.getUint16(off, true);
    if (len < 4 || off + len > body.length) break;
    const type = dv.getUint16(off + 2, true) & 0x3fff;
    if (!first || !out.has(type)) out.set(type, body.subarray(off + 4, off + len));
    off += (len + 3) & ~3;
  }
  return out;
}

/** A NUL-terminated string attribute (IFLA_IFNAME, IFA_LABEL), Latin-1. */
export function cString(b: Uint8Array): string {
  let s = '';
  for (const c of b) {
    if (c === 0) break;
    s += String.fromCharCode(c);
  }
  return s;
}

/** sockaddr_nl {AF_NETLINK, 0, pid, groups}. */
function sockaddrNl(pid: number, groups: number): Uint8Array {
  return fixed(SOCKADDR_NL_LEN, (dv) => {
    dv.setUint16(0, AddressFamily.AF_NETLINK, true);
    dv.setUint32(4, pid >>> 0, true);
    dv.setUint32(8, groups >>> 0, true);
  });
}

interface Datagram {
  readonly data: Uint8Array;
  readonly from: number;
}

/**
 * An AF_NETLINK socket (NETLINK_ROUTE). It has the shape of netstack's InetSocket where the
 * socket syscalls use one, so the same handlers serve it; the kernel end answers requests
 * synchronously while the sender's call runs.
 */
export class NetlinkSocket {
  /** SO_ATTACH_FILTER's program and SO_LOCK_FILTER: run on every message queued here. */
  readonly filter = netlinkFilter();
  private portid = 0;
  private groups = 0;
  /** Groups joined with NETLINK_ADD_MEMBERSHIP (those above 32 are only here). */
  private readonly extraGroups = new Set<number>();
  private dstPid = 0;
  private readonly queue: Datagram[] = [];
  private queued = 0;
  private listener: ((events: number) => void) | undefined;
  private readonly options = new Map<number, number>();
  /** The extended ACK of the request being answered (its error's text, attribute, policy), if any. */
  private extack: Omit<ExtAck, 'error'> | undefined;
  private closed = false;
  /** SO_RCVBUF / SO_SNDBUF as getsockopt reports them. */
  rcvbuf = SK_RMEM_DEFAULT;
  sndbuf = SK_RMEM_DEFAULT;
  passcred = false;

  private constructor(
    private readonly domain: NetlinkDomain,
    readonly type: number,
    private readonly tgid: number,
    /** NETLINK_ROUTE or NETLINK_SOCK_DIAG. */
    readonly protocol: number = NETLINK_ROUTE,
    private readonly netAdmin = false,
  ) {}

  /**
   * netlink_create: `ESOCKTNOSUPPORT` unless SOCK_RAW or SOCK_DGRAM, `EPROTONOSUPPORT` for a
   * protocol other than NETLINK_ROUTE and NETLINK_SOCK_DIAG (when the domain serves it).
   * `netAdmin`: the creator has CAP_NET_ADMIN (what sock_diag checks of the socket's opener).
   */
  static create(
    domain: NetlinkDomain,
    type: number,
    protocol: number,
    tgid: number,
    netAdmin = false,
  ): NetlinkSocket | LinuxError {
    if (type !== SockType.SOCK_RAW && type !== SockType.SOCK_DGRAM) return E.ESOCKTNOSUPPORT;
    if (protocol < 0 || protocol >= MAX_LINKS) return E.EPROTONOSUPPORT;
    if (protocol !== NETLINK_ROUTE && !(protocol === NETLINK_SOCK_DIAG && domain.sockDiag))
      return E.EPROTONOSUPPORT;
    return new NetlinkSocket(domain, type, tgid, protocol, netAdmin);
  }

  private parseAddr(bytes: Uint8Array): { pid: number; groups: number } | LinuxError {
    if (bytes.length < SOCKADDR_NL_LEN) return E.EINVAL;
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (dv.getUint16(0, true) !== AddressFamily.AF_NETLINK) return E.EINVAL;
    return { pid: dv.getUint32(4, true), groups: dv.getUint32(8, true) };
  }

  private autobind(): void {
    if (this.portid === 0) this.portid = this.domain.autobind(this, this.tgid);
  }

  /** implements bind(2): a chosen nl_pid (`EADDRINUSE` when taken) or 0 for an automatic one. */
  bind(bytes: Uint8Array): 0 | LinuxError {
    const a = this.parseAddr(bytes);
    if (isError(a)) return a;
    if (this.portid !== 0) {
      if (a.pid !== this.portid) return E.EINVAL;
    } else if (a.pid !== 0) {
      if (!this.domain.claim(this, a.pid)) return E.EADDRINUSE;
      this.portid = a.pid;
    } else this.autobind();
    // The multicast groups (1 to 32) of the bitmask: changes are announced to their members.
    this.groups = a.groups;
    return 0;
  }

  /** implements connect(2): sets the default destination (AF_UNSPEC clears it). */
  connect(bytes: Uint8Array): 0 | LinuxError {
    if (
      bytes.length >= 2 &&
      new DataView(bytes.buffer, bytes.byteOffset).getUint16(0, true) === AddressFamily.AF_UNSPEC
    ) {
      this.dstPid = 0;
      return 0;
    }
    const a = this.parseAddr(bytes);
    if (isError(a)) return a;
    if (a.groups !== 0) return E.EPERM;
    this.autobind();
    this.dstPid = a.pid;
    return 0;
  }

  /** Netlink sockets do not listen or accept (sock_no_listen, sock_no_accept). */
  listen(_backlog: number): 0 | LinuxError {
    return E.EOPNOTSUPP;
  }

  accept(_flags?: number): LinuxError {
    return E.EOPNOTSUPP;
  }

  /** sock_no_shutdown. */
  shutdown(_how: number): 0 | LinuxError {
    return E.EOPNOTSUPP;
  }

  getsockname(): Uint8Array {
    return sockaddrNl(this.portid, this.groups);
  }

  /** netlink_getname with peer: the default destination, connected or not. */
  getpeername(): Uint8Array | LinuxError {
    return sockaddrNl(this.dstPid, 0);
  }

  /**
   * implements sendmsg on netlink: to the kernel (nl_pid 0) a request, answered into this
   * socket's queue; to another netlink socket of the sandbox a datagram (`ECONNREFUSED` when no
   * socket has that id). `EMSGSIZE` beyond the send buffer. `sender`: the sending task (see
   * {@link NetlinkSender}), or only whether it has CAP_NET_ADMIN.
   */
  sendto(
    data: Uint8Array,
    _flags = 0,
    to?: Uint8Array,
    sender: boolean | NetlinkSender = true,
  ): number | LinuxError | WouldBlock {
    let dst = this.dstPid;
    if (to !== undefined) {
      const a = this.parseAddr(to);
      if (isError(a)) return a;
      if (a.groups !== 0) return E.EPERM;
      dst = a.pid;
    }
    this.autobind();
    if (data.length > this.sndbuf - 32) return E.EMSGSIZE;
    if (dst !== 0) {
      const peer = this.domain.lookup(dst);
      if (!peer) return E.ECONNREFUSED;
      peer.deliver({ data: data.slice(), from: this.portid });
      return data.length;
    }
    this.request(data, typeof sender === 'boolean' ? { netAdmin: sender } : sender);
    return data.length;
  }

  /** netlink_recvmsg: one datagram, truncated to the buffer (MSG_TRUNC gives its length). */
  recvfrom(buf: Uint8Array, flags = 0): RecvResult | LinuxError | WouldBlock {
    const d = this.queue[0];
    if (!d) return WOULD_BLOCK;
    const n = Math.min(buf.length, d.data.length);
    buf.set(d.data.subarray(0, n));
    if ((flags & 2) === 0) {
      // MSG_PEEK leaves it queued.
      this.queue.shift();
      this.queued -= d.data.length;
      this.notify();
    }
    return { n, len: d.data.length, from: sockaddrNl(d.from, 0), truncated: d.data.length > buf.length };
  }

  /** Integer options: SOL_SOCKET buffer sizes and identity, SOL_NETLINK flags. */
  setsockopt(level: number, name: number, value: number): 0 | LinuxError {
    if (level === SocketLevel.SOL_SOCKET) {
      switch (name) {
        case SocketOption.SO_SNDBUF:
        case SO_SNDBUFFORCE:
          this.sndbuf = Math.max(
            Math.min(Math.max(value, 0), name === SO_SNDBUFFORCE ? 0x3fffffff : WMEM_MAX) * 2,
            4608,
          );
          return 0;
        case SocketOption.SO_RCVBUF:
        case SO_RCVBUFFORCE:
          this.rcvbuf = Math.max(
            Math.min(Math.max(value, 0), name === SO_RCVBUFFORCE ? 0x3fffffff : WMEM_MAX) * 2,
            2304,
          );
          return 0;
        case SocketOption.SO_PASSCRED:
          this.passcred = value !== 0;
          return 0;
        default:
          return E.ENOPROTOOPT;
      }
    }
    if (level !== SocketLevel.SOL_NETLINK) return E.ENOPROTOOPT;
    if (name < 1 || name > NETLINK_MAX_OPTION || name === 6 || name === 7 || name === 9) return E.ENOPROTOOPT;
    if (name === NETLINK_ADD_MEMBERSHIP || name === NETLINK_DROP_MEMBERSHIP) {
      // netlink_setsockopt: a group from 1 to the protocol's ngroups (RTNLGRP_MAX for rtnetlink).
      if (value < 1 || value > RTNLGRP_MAX) return E.EINVAL;
      this.autobind();
      if (name === NETLINK_ADD_MEMBERSHIP) this.extraGroups.add(value);
      else this.extraGroups.delete(value);
      if (value <= 32) {
        const bit = (1 << (value - 1)) >>> 0;
        this.groups = (name === NETLINK_ADD_MEMBERSHIP ? this.groups | bit : this.groups & ~bit) >>> 0;
      }
      return 0;
    }
    this.options.set(name, value);
    return 0;
  }

  /** True when the socket joined any multicast group. */
  get hasGroups(): boolean {
    return this.groups !== 0 || this.extraGroups.size > 0;
  }

  /** True when the socket is a member of multicast group `group` (RTNLGRP_*). */
  memberOf(group: number): boolean {
    if (group <= 32 && (this.groups & (1 << (group - 1))) !== 0) return true;
    return this.extraGroups.has(group);
  }

  getsockopt(level: number, name: number): number | LinuxError {
    if (level === SocketLevel.SOL_SOCKET) {
      switch (name) {
        case SocketOption.SO_TYPE:
          return this.type;
        case SocketOption.SO_DOMAIN:
          return AddressFamily.AF_NETLINK;
        case SocketOption.SO_PROTOCOL:
          return this.protocol;
        case SocketOption.SO_ERROR:
          return 0;
        case SocketOption.SO_SNDBUF:
          return this.sndbuf;
        case SocketOption.SO_RCVBUF:
          return this.rcvbuf;
        case SocketOption.SO_PASSCRED:
          return this.passcred ? 1 : 0;
        case SocketOption.SO_ACCEPTCONN:
          return 0;
        default:
          return E.ENOPROTOOPT;
      }
    }
    if (level !== SocketLevel.SOL_NETLINK) return E.ENOPROTOOPT;
    if (
      name < 1 ||
      name > NETLINK_MAX_OPTION ||
      name === 1 ||
      name === 2 ||
      name === 6 ||
      name === 7 ||
      name === 9
    )
      return E.ENOPROTOOPT;
    return this.options.get(name) ? 1 : 0;
  }

  /** POLLIN while a datagram waits; always writable. */
  readiness(): number {
    let ev = PollEvent.POLLOUT | PollEvent.POLLWRNORM;
    if (this.queue.length > 0) ev |= PollEvent.POLLIN | PollEvent.POLLRDNORM;
    return ev;
  }

  /** FIONREAD: the length of the next datagram's bytes queued (Linux: all queued bytes). */
  inq(): number {
    return this.queued;
  }

  outq(): number {
    return 0;
  }

  setReadinessListener(wake: ((events: number) => void) | undefined): void {
    this.listener = wake;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.portid !== 0) this.domain.release(this.portid);
    this.queue.length = 0;
    this.queued = 0;
    this.listener = undefined;
  }

  private notify(): void {
    this.listener?.(this.readiness());
  }

  /** @internal */
  deliver(d: Datagram): void {
    if (this.closed) return;
    const data = netlinkFiltered(this.filter, d.data);
    if (!data) return;
    if (data !== d.data) d = { ...d, data };
    this.queue.push(d);
    this.queued += d.data.length;
    this.notify();
  }

  /** Queues `msgs` as dump datagrams of at most NLMSG_GOODSIZE bytes. */
  private deliverBatched(msgs: Uint8Array[]): void {
    let parts: Uint8Array[] = [];
    let size = 0;
    const flush = (): void => {
      if (parts.length === 0) return;
      const out = new Uint8Array(size);
      let off = 0;
      for (const p of parts) {
        out.set(p, off);
        off += p.length;
      }
      this.deliver({ data: out, from: 0 });
      parts = [];
      size = 0;
    };
    for (const m of msgs) {
      if (size + m.length > NLMSG_GOODSIZE) flush();
      parts.push(m);
      size += m.length;
    }
    flush();
  }

  /** netlink_rcv_skb over rtnetlink_rcv_msg: every complete message of the request. */
  private request(data: Uint8Array, sender: NetlinkSender): void {
    const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
    let off = 0;
    while (off + NLMSG_HDRLEN <= data.length) {
      const len = dv.getUint32(off, true);
      if (len < NLMSG_HDRLEN || len > data.length - off) break;
      const msg = data.subarray(off, off + len);
      const type = dv.getUint16(off + 4, true);
      const flags = dv.getUint16(off + 6, true);
      let err: LinuxError | undefined;
      let dumped = false;
      this.extack = undefined;
      if ((flags & NLM_F_REQUEST) !== 0 && type >= NLMSG_MIN_TYPE) {
        const r =
          this.protocol === NETLINK_SOCK_DIAG
            ? this.sockDiag(msg, type, flags, sender.netAdmin)
            : this.rtnetlink(msg, type, flags, sender);
        if (r === 'dump') dumped = true;
        else err = r;
      }
      // A dump answers with its own messages; everything else is acked on error or on request.
      if (!dumped && (err !== undefined || (flags & NLM_F_ACK) !== 0)) this.ack(msg, err);
      off += (len + 3) & ~3;
    }
  }

  /** NLMSG_ERROR: the errno (0 for an ACK) and the request's header (its whole text on error). */
  private ack(msg: Uint8Array, err: LinuxError | undefined): void {
    const dv = new DataView(msg.buffer, msg.byteOffset, msg.byteLength);
    const capped = err === undefined || this.options.get(NETLINK_CAP_ACK);
    const echoed = capped ? msg.subarray(0, NLMSG_HDRLEN) : msg;
    const w = new MessageWriter();
    w.bytes(
      fixed(4 + echoed.length, (out) => {
        out.setInt32(0, err === undefined ? 0 : -err.errno, true);
        new Uint8Array(out.buffer).set(echoed, 4);
      }),
    );
    let flags = capped ? NLM_F_CAPPED : 0;
    const extack = this.extack;
    this.extack = undefined;
    if (extack !== undefined && this.options.get(NETLINK_EXT_ACK)) {
      // netlink_ack_tlv_fill: the text (NUL-terminated; an ACK's is a warning), and for an error
      // the offset of the attribute at fault from the request's header and the policy it failed.
      const text = extack.message;
      if (text !== undefined) {
        const b = new Uint8Array(text.length + 1);
        for (let i = 0; i < text.length; i++) b[i] = text.charCodeAt(i) & 0xff;
        w.attr(NLMSGERR_ATTR_MSG, b);
      }
      const at = err === undefined ? undefined : extack.offset;
      if (at !== undefined) w.u32(NLMSGERR_ATTR_OFFS, NLMSG_HDRLEN + at);
      if (err !== undefined && extack.policy !== undefined)
        w.attr(NLMSGERR_ATTR_POLICY | NLA_F_NESTED, extack.policy);
      if (text !== undefined || at !== undefined) flags |= NLM_F_ACK_TLVS;
    }
    this.deliver({ data: w.finish(NLMSG_ERROR, flags, dv.getUint32(8, true), this.portid), from: 0 });
  }

  /**
   * One sock_diag request, answered by the domain's handler into this socket's queue. CAP_NET_ADMIN
   * counts when both the socket's opener and the sender have it (netlink_net_capable).
   */
  private sockDiag(
    msg: Uint8Array,
    type: number,
    flags: number,
    senderNetAdmin: boolean,
  ): 'dump' | LinuxError | undefined {
    const handler = this.domain.sockDiag;
    if (!handler) return E.EOPNOTSUPP;
    const seq = new DataView(msg.buffer, msg.byteOffset).getUint32(8, true);
    const pid = this.portid;
    return handler(type, flags, msg.subarray(NLMSG_HDRLEN), {
      seq,
      portid: pid,
      netAdmin: this.netAdmin && senderNetAdmin,
      dump: (msgs) => {
        this.deliverBatched(msgs);
        const w = new MessageWriter();
        w.bytes(new Uint8Array(4));
        this.deliver({ data: w.finish(NLMSG_DONE, NLM_F_MULTI, seq, pid), from: 0 });
      },
      reply: (m) => this.deliver({ data: m, from: 0 }),
    });
  }

  /**
   * RTM_GETNSID (rtnl_net_getid, rtnl_net_dumpid): the id this namespace gave another one. A
   * sandbox has one network namespace and gives no ids: a dump is empty, a peer named by a live
   * thread (NETNSA_PID) is this namespace, answered NETNSA_NSID_NOT_ASSIGNED, and a peer named by
   * an id (NETNSA_NSID, NETNSA_TARGET_NSID) does not exist; a file (NETNSA_FD) names this
   * namespace when it is its nsfs file (/proc/<pid>/ns/net), else EINVAL (EBADF when not open).
   */
  private getNsid(
    body: Uint8Array,
    flags: number,
    seq: number,
    sender: NetlinkSender,
  ): 'dump' | LinuxError | undefined {
    const pid = this.portid;
    if ((flags & NLM_F_DUMP) !== 0) {
      const w = new MessageWriter();
      w.bytes(new Uint8Array(4));
      this.deliver({ data: w.finish(NLMSG_DONE, NLM_F_MULTI, seq, pid), from: 0 });
      return 'dump';
    }
    // nlmsg_parse_deprecated_strict of a struct rtgenmsg and rtnl_net_policy (an attribute of an
    // unknown type is passed over).
    if (body.length < 1) return E.EINVAL;
    const tb = netlinkAttrs(body, 1);
    for (const [t, v] of tb) if (t < NETNSA_CURRENT_NSID && v.length < 4) return E.EINVAL;
    const num = (t: number): number =>
      new DataView(tb.get(t)!.buffer, tb.get(t)!.byteOffset).getInt32(0, true);
    if (tb.has(NETNSA_TARGET_NSID)) {
      this.extack = { message: 'Target netns reference is invalid' };
      return E.EINVAL;
    }
    let peer: LinuxError | undefined;
    if (tb.has(NETNSA_PID)) peer = (sender.taskAlive?.(num(NETNSA_PID) >>> 0) ?? false) ? undefined : E.ESRCH;
    else if (tb.has(NETNSA_FD)) peer = netnsFile(sender.file?.(num(NETNSA_FD)) ?? E.EBADF);
    else if (tb.has(NETNSA_NSID)) peer = E.ENOENT;
    else {
      this.extack = { message: 'Peer netns reference is missing' };
      return E.EINVAL;
    }
    if (peer !== undefined) {
      this.extack = { message: 'Peer netns reference is invalid' };
      return peer;
    }
    const w = new MessageWriter();
    w.bytes(new Uint8Array(1)); // struct rtgenmsg: AF_UNSPEC
    w.u32(NETNSA_NSID, NETNSA_NSID_NOT_ASSIGNED);
    this.deliver({ data: w.finish(RTM_NEWNSID, 0, seq, pid), from: 0 });
    return undefined;
  }

  /** One rtnetlink request: 'dump' when answered by a dump, else the errno to ack with. */
  private rtnetlink(
    msg: Uint8Array,
    type: number,
    flags: number,
    sender: NetlinkSender,
  ): 'dump' | LinuxError | undefined {
    if (type > RTM_MAX) return E.EOPNOTSUPP;
    const senderNetAdmin = sender.netAdmin;
    const seq = new DataView(msg.buffer, msg.byteOffset).getUint32(8, true);
    const body = msg.subarray(NLMSG_HDRLEN);
    const family = body.length > 0 ? (body[0] as number) : AddressFamily.AF_UNSPEC;
    const isGet = (type - RTM_NEWLINK) % 4 === 2;
    if (!isGet) {
      // rtnetlink_rcv_msg: every change needs CAP_NET_ADMIN, whether or not it has a handler.
      if (!this.netAdmin || !senderNetAdmin) return E.EPERM;
      if (type === RTM_NEWLINK || type === RTM_SETLINK) {
        const r = this.domain.changeLinks(() => rtnlChange(this.domain.links(), type, flags, body));
        this.extack = r ?? warning(changeWarning(type, body));
        return r?.error;
      }
      const watched = this.domain.watched;
      const before = watched ? announced(this.domain, this.domain.links()) : undefined;
      const r = rtnlChange(this.domain.links(), type, flags, body);
      if (r !== undefined) {
        this.extack = r;
        return r.error;
      }
      if (before) announceChanges(this.domain, before, family, seq, this.portid);
      this.domain.changed();
      this.extack = warning(changeWarning(type, body));
      return undefined;
    }
    if (type === RTM_GETNSID) return this.getNsid(body, flags, seq, sender);
    const links = this.domain.links();
    const pid = this.portid;
    // NLMSG_DONE carries the dump's result: 0, or the error that ended it (-errno).
    const dump = (msgs: Uint8Array[], error?: LinuxError): 'dump' => {
      this.deliverBatched(msgs);
      const w = new MessageWriter();
      w.bytes(fixed(4, (dv) => dv.setInt32(0, error === undefined ? 0 : -error.errno, true)));
      this.deliver({ data: w.finish(NLMSG_DONE, NLM_F_MULTI, seq, pid), from: 0 });
      return 'dump';
    };
    const wantFamily = (f: number): boolean => family === AddressFamily.AF_UNSPEC || family === f;
    if ((flags & NLM_F_DUMP) !== 0) {
      switch (type) {
        case RTM_GETLINK:
          return dump(links.map((l) => newLink(l, NLM_F_MULTI, seq, pid)));
        case RTM_GETADDR: {
          const out: Uint8Array[] = [];
          // Linux dumps IPv4 addresses of every link first, then IPv6 (one family at a time).
          if (wantFamily(AddressFamily.AF_INET))
            for (const l of links)
              for (const c of l.addresses)
                if (c.address.version === 4) out.push(newAddr4(this.domain, l, c, NLM_F_MULTI, seq, pid));
          if (wantFamily(AddressFamily.AF_INET6))
            for (const l of links) {
              const now = (l.clock ?? performanceNow)();
              const v6 = ipv6AddressesOf(l);
              const stamps = this.domain.addressStamps(l.index, v6, now);
              v6.forEach((a, i) => out.push(newAddr6(l, a, stamps[i]!, now, NLM_F_MULTI, seq, pid)));
            }
          return dump(out);
        }
        case RTM_GETROUTE:
          return dump(
            routesOf(links)
              .filter((r) => wantFamily(r.family))
              .sort((a, b) => a.family - b.family)
              .map((r) => newRoute(r, NLM_F_MULTI, seq, pid)),
          );
        case RTM_GETRULE: {
          // fib_nl_dumprule: every family's rules for AF_UNSPEC, else that family's, and
          // EAFNOSUPPORT (in NLMSG_DONE) for a family without rules.
          const rules = DEFAULT_RULES.filter((r) => wantFamily(r.family));
          if (rules.length === 0) return dump([], E.EAFNOSUPPORT);
          return dump(rules.map((r) => newRule(r, NLM_F_MULTI, seq, pid)));
        }
        case RTM_GETNEIGH: {
          // neigh_dump_info: the ARP table, then the NDP one.
          const out: Uint8Array[] = [];
          for (const v of [4, 6] as const) {
            if (!wantFamily(v === 4 ? AddressFamily.AF_INET : AddressFamily.AF_INET6)) continue;
            for (const l of links)
              for (const n of l.neighbors?.() ?? [])
                if (n.address.version === v) out.push(newNeigh(l, n, NLM_F_MULTI, seq, pid));
          }
          return dump(out);
        }
        default:
          return E.EOPNOTSUPP;
      }
    }
    if (type === RTM_GETROUTE) {
      const r = getRoute(
        links,
        body,
        (this.options.get(NETLINK_GET_STRICT_CHK) ?? 0) !== 0,
        sender.uid ?? 0,
        seq,
        pid,
        this.domain.inputRoutes,
      );
      if (r instanceof Uint8Array) {
        this.deliver({ data: r, from: 0 });
        return undefined;
      }
      this.extack = r;
      return r.error;
    }
    if (type !== RTM_GETLINK) return E.EOPNOTSUPP;
    // rtnl_getlink: by ifi_index, else by IFLA_IFNAME.
    if (body.length < 16) return E.EINVAL;
    const index = new DataView(body.buffer, body.byteOffset).getInt32(4, true);
    let link: LinkInfo | undefined;
    if (index > 0) link = links.find((l) => l.index === index);
    else {
      const name = netlinkAttrs(body, 16, true).get(IFLA_IFNAME);
      if (name === undefined) return E.EINVAL;
      const want = cString(name);
      link = links.find((l) => l.name === want);
    }
    if (!link) return E.ENODEV;
    this.deliver({ data: newLink(link, 0, seq, pid), from: 0 });
    return undefined;
  }
}

/** An extended ACK of only a warning's text, if there is one. */
function warning(message: string | undefined): Omit<ExtAck, 'error'> | undefined {
  return message === undefined ? undefined : { message };
}

/** Multicast groups of rtnetlink's announcements (RTNLGRP_*). */
const RTNLGRP_LINK = 1;
const RTNLGRP_IPV4_IFADDR = 5;
const RTNLGRP_IPV4_ROUTE = 7;
const RTNLGRP_IPV6_IFADDR = 9;
const RTNLGRP_IPV6_ROUTE = 11;

/** One address or route as rtnetlink announces it: its RTM_NEW* message (seq and pid 0). */
interface Announced {
  readonly key: string;
  readonly group: number;
  /** 'addr', or the kind of route: 'local' (an address's own), 'prefix', 'broadcast', 'other'. */
  readonly kind: 'addr' | 'local' | 'prefix' | 'broadcast' | 'other';
  readonly msg: Uint8Array;
  /** The address it belongs to: its own, a local route's destination, or a route's source. */
  readonly owner: string;
  /** A secondary IPv4 address (its removal is announced before its primary's). */
  readonly secondary?: boolean;
  /** A tentative IPv6 address (duplicate address detection has not passed). */
  readonly tentative?: boolean;
}

/** The sandbox's addresses and routes as messages, keyed, to tell what a change made or removed. */
function announced(d: NetlinkDomain, links: readonly LinkInfo[]): Announced[] {
  const out: Announced[] = [];
  for (const l of links) {
    for (const c of l.addresses)
      if (c.address.version === 4)
        out.push({
          key: `a ${l.index} ${c.address.toString()}/${c.prefixLen}`,
          group: RTNLGRP_IPV4_IFADDR,
          kind: 'addr',
          msg: newAddr4(d, l, c, 0, 0, 0),
          owner: c.address.bytes.join('.'),
          secondary: ((l.ipv4Detail?.(c).flags ?? 0) & IFA_F_SECONDARY) !== 0,
        });
    const now = (l.clock ?? performanceNow)();
    const v6 = ipv6AddressesOf(l);
    const stamps = d.addressStamps(l.index, v6, now);
    v6.forEach((a, i) =>
      out.push({
        key: `a ${l.index} ${a.cidr.address.toString()}/${a.cidr.prefixLen}`,
        group: RTNLGRP_IPV6_IFADDR,
        kind: 'addr',
        msg: newAddr6(l, a, stamps[i]!, now, 0, 0, 0),
        owner: a.cidr.address.bytes.join('.'),
        tentative: (a.flags & IFA_F_TENTATIVE) !== 0,
      }),
    );
  }
  for (const r of routesOf(links)) {
    const full = r.family === AddressFamily.AF_INET ? 32 : 128;
    const kind =
      r.type === RTN_BROADCAST
        ? 'broadcast'
        : r.type === RTN_LOCAL && r.dstLen === full && r.table === RT_TABLE_LOCAL
          ? 'local'
          : r.protocol === RTPROT_KERNEL
            ? 'prefix'
            : 'other';
    out.push({
      key: `r ${r.family} ${r.table} ${r.type} ${r.dstLen} ${r.dst?.join('.') ?? ''} ${r.priority ?? ''} ${r.gateway?.join('.') ?? ''} ${r.oif}`,
      group: r.family === AddressFamily.AF_INET ? RTNLGRP_IPV4_ROUTE : RTNLGRP_IPV6_ROUTE,
      kind,
      msg: newRoute(r, 0, 0, 0),
      owner: (kind === 'local' ? r.dst : (r.prefsrc ?? r.dst))?.join('.') ?? '',
    });
  }
  return out;
}

/**
 * The order Linux announces what one change made (`made`) or removed, by the kind of message:
 * an IPv4 address, then its local route, prefix route and broadcast route (fib_add_ifaddr), and
 * on removal the prefix and broadcast routes before the local one (fib_del_ifaddr); an IPv6
 * address after its prefix route and before its local route (addrconf), and on removal the local
 * route before the prefix route.
 */
function announceRank(kind: Announced['kind'], v6: boolean, made: boolean): number {
  const order: readonly Announced['kind'][] = v6
    ? made
      ? ['prefix', 'addr', 'local', 'broadcast', 'other']
      : ['addr', 'local', 'prefix', 'broadcast', 'other']
    : made
      ? ['addr', 'local', 'prefix', 'broadcast', 'other']
      : ['addr', 'prefix', 'broadcast', 'local', 'other'];
  return order.indexOf(kind);
}

/**
 * Announces to the groups' members what a change request did: RTM_NEW* for what is there now and
 * was not `before`, RTM_DEL* for what went, with the request's sequence number and port id.
 */
function announceChanges(
  d: NetlinkDomain,
  before: readonly Announced[],
  family: number,
  seq: number,
  pid: number,
): void {
  const after = announced(d, d.links());
  const had = new Set(before.map((a) => a.key));
  const has = new Set(after.map((a) => a.key));
  const v6 = family === AddressFamily.AF_INET6;
  const send = (items: Announced[], isNew: boolean): void => {
    // __inet_del_ifa removes a primary's secondaries (each with its local route) before it.
    const secondaries = new Set(items.filter((a) => a.secondary === true).map((a) => a.owner));
    const ranked = items
      .map((a, i) => ({
        a,
        i,
        first: secondaries.has(a.owner) ? 0 : 1,
        rank: announceRank(a.kind, v6, isNew),
      }))
      .sort((x, y) => x.first - y.first || x.rank - y.rank || x.i - y.i);
    for (const { a } of ranked) {
      const m = a.msg.slice();
      const dv = new DataView(m.buffer);
      if (!isNew) dv.setUint16(4, dv.getUint16(4, true) + 1, true); // RTM_DEL* follows RTM_NEW*
      dv.setUint32(8, seq >>> 0, true);
      dv.setUint32(12, pid >>> 0, true);
      d.multicast(a.group, m);
    }
  };
  const gone = before.filter((a) => !has.has(a.key));
  const fresh = after.filter((a) => !had.has(a.key));
  // Removals first: a replace removes, then adds.
  send(gone, false);
  send(fresh, true);
}

/** IFF_RUNNING and IFF_LOWER_UP: state of the link that ifi_change never names. */
const IFF_OPER_BITS = IfFlag.IFF_RUNNING | IfFlag.IFF_LOWER_UP;

/**
 * Announces what a change of links did, with sequence number and port id 0 (these are the
 * kernel's own events): to RTNLGRP_LINK an RTM_NEWLINK for each link whose flags, MTU or queue
 * length differ from `before`, its ifi_change the IFF_* bits that changed (dev_change_flags's
 * rtmsg_ifinfo; 0 for NETDEV_CHANGEMTU and NETDEV_CHANGE_TX_QUEUE_LEN); then what a link going
 * down or up did to addresses and routes: down, the IPv6 routes deleted (rt6_sync_down_dev),
 * then the IPv6 addresses (addrconf_ifdown), while IPv4 routes go silently (fib_sync_down_dev
 * flushes without a word); up, the IPv4 address lo is given when it has none (inetdev_event)
 * and the IPv4 routes fib_add_ifaddr makes (again), then each IPv6 address with its routes
 * (init_loopback, addrconf).
 */
function announceLinkChanges(
  d: NetlinkDomain,
  states: ReadonlyMap<number, LinkInfo>,
  before: readonly Announced[],
): void {
  // Sent after the addresses and routes an up link brought: the queue length's (do_setlink sets
  // it after the flags), then a device's carrier, which follows a moment later (linkwatch).
  const late: Uint8Array[] = [];
  const carrier: Uint8Array[] = [];
  for (const l of d.links()) {
    const was = states.get(l.index);
    // One message per event, in do_setlink's order, each with the link as it was then: the
    // MTU's, the flags', the queue length's.
    if (!was) d.multicast(RTNLGRP_LINK, newLink(l, 0, 0, 0));
    else {
      const oldQueue = was.txQueueLen === undefined ? {} : { txQueueLen: was.txQueueLen };
      if (was.mtu !== l.mtu)
        d.multicast(RTNLGRP_LINK, newLink({ ...l, flags: was.flags, ...oldQueue }, 0, 0, 0));
      if (was.flags !== l.flags) {
        const change = (was.flags ^ l.flags) & ~IFF_OPER_BITS;
        const cameUp = (change & IfFlag.IFF_UP) !== 0 && (l.flags & IfFlag.IFF_UP) !== 0;
        if (cameUp && (l.flags & IfFlag.IFF_LOOPBACK) === 0) {
          // A veth is up before linkwatch sees its carrier (NO-CARRIER, still IF_OPER_DOWN).
          const early = { ...l, ...oldQueue, flags: l.flags & ~IfFlag.IFF_RUNNING };
          d.multicast(RTNLGRP_LINK, newLink(early, 0, 0, 0, change));
          carrier.push(newLink(l, 0, 0, 0));
        } else d.multicast(RTNLGRP_LINK, newLink({ ...l, ...oldQueue }, 0, 0, 0, change));
      }
      if (was.txQueueLen !== l.txQueueLen) late.push(newLink(l, 0, 0, 0));
    }
  }
  const after = announced(d, d.links());
  const had = new Set(before.map((a) => a.key));
  const has = new Set(after.map((a) => a.key));
  const v6 = (a: Announced): boolean => a.group === RTNLGRP_IPV6_IFADDR || a.group === RTNLGRP_IPV6_ROUTE;
  const route = (a: Announced): boolean => a.kind !== 'addr';
  const gone = before.filter((a) => !has.has(a.key) && v6(a));
  const fresh = after.filter((a) => !had.has(a.key));
  const send = (a: Announced, isNew: boolean): void => {
    const m = a.msg.slice();
    const dv = new DataView(m.buffer);
    if (!isNew) dv.setUint16(4, dv.getUint16(4, true) + 1, true); // RTM_DEL* follows RTM_NEW*
    d.multicast(a.group, m);
  };
  for (const a of gone.filter(route)) send(a, false);
  for (const a of gone.filter((a) => !route(a))) send(a, false);
  // Address by address: one the link gained (lo's 127.0.0.1/8, which inetdev_event gives it
  // when it comes up without IPv4 addresses, as in a new namespace) with inet_insert_ifa's
  // RTM_NEWADDR, then fib_add_ifaddr's routes: the local route, a broadcast address it was given
  // (as a configured address has), the prefix route, the subnet's broadcast.
  const given = new Set<string>();
  for (const l of d.links())
    for (const c of l.addresses)
      if (c.address.version === 4 && l.ipv4Detail?.(c).broadcast === true)
        given.add(c.address.bytes.join('.'));
  const owners = new Map<string, number>();
  const order: readonly Announced['kind'][] = ['addr', 'local', 'broadcast', 'prefix'];
  const fresh4 = fresh
    .filter((a) => !v6(a))
    .map((a, i) => {
      if (!owners.has(a.owner)) owners.set(a.owner, owners.size);
      const kind = a.kind === 'broadcast' && !given.has(a.owner) ? 'subnet' : a.kind;
      const rank =
        kind === 'subnet' ? order.length : kind === 'other' ? order.length + 1 : order.indexOf(kind);
      return { a, i, group: owners.get(a.owner)!, rank };
    })
    .sort((x, y) => x.group - y.group || x.rank - y.rank || x.i - y.i);
  for (const { a } of fresh4) send(a, true);
  // A link-local address an up link brought is announced when its DAD ends (addressSettled).
  const ranked = fresh
    .filter((a) => v6(a) && a.tentative !== true)
    .map((a, i) => ({ a, i, rank: announceRank(a.kind, true, false) }))
    .sort((x, y) => x.rank - y.rank || x.i - y.i);
  for (const { a } of ranked) send(a, true);
  for (const m of [...late, ...carrier]) d.multicast(RTNLGRP_LINK, m);
}

const SIOCGIFNAME = 0x8910;
const SIOCGIFCONF = 0x8912;
const SIOCGIFFLAGS = 0x8913;
const SIOCGIFADDR = 0x8915;
const SIOCGIFBRDADDR = 0x8919;
const SIOCGIFNETMASK = 0x891b;
const SIOCGIFMTU = 0x8921;
const SIOCGIFHWADDR = 0x8927;
const SIOCGIFINDEX = 0x8933;
const SIOCSIFFLAGS = 0x8914;
const SIOCGIFTXQLEN = 0x8942;
const SIOCSIFTXQLEN = 0x8943;
const IFREQ_SIZE = 40;
const IFNAMSIZ = 16;

/** The memory a socket ioctl reads and writes (the calling task's). */
export interface IoctlMemory {
  read(addr: number, len: number): Uint8Array | LinuxError;
  writeExact(addr: number, bytes: Uint8Array): LinuxError | undefined;
}

function sockaddrIn(a: Uint8Array): Uint8Array {
  return fixed(16, (dv) => {
    dv.setUint16(0, AddressFamily.AF_INET, true);
    new Uint8Array(dv.buffer).set(a, 4);
  });
}

/** Who asks an interface ioctl that changes a link: the links' domain, and CAP_NET_ADMIN. */
export interface LinkSetter {
  /** Where the change is announced (NetlinkDomain.changeLinks). */
  readonly domain: NetlinkDomain;
  /** The caller has CAP_NET_ADMIN (dev_ioctl answers EPERM without it). */
  readonly netAdmin: boolean;
}

/**
 * The interface ioctls of every socket (dev_ioctl): SIOCGIFINDEX, SIOCGIFNAME, SIOCGIFFLAGS,
 * SIOCGIFMTU, SIOCGIFHWADDR, SIOCGIFTXQLEN and SIOCGIFCONF over the sandbox's links, with
 * `setter` SIOCSIFFLAGS and SIOCSIFTXQLEN (as `ip link set` through rtnetlink: see
 * changeLinkFlags), and on AF_INET sockets (`inet`, devinet_ioctl) SIOCGIFADDR, SIOCGIFNETMASK
 * and SIOCGIFBRDADDR; undefined for other requests. `ENODEV` for an unknown interface,
 * `EADDRNOTAVAIL` when it has no IPv4 address.
 */
export function interfaceIoctl(
  links: readonly LinkInfo[],
  mem: IoctlMemory,
  cmd: number,
  arg: number,
  inet: boolean,
  setter?: LinkSetter,
): number | LinuxError | undefined {
  if (!inet && (cmd === SIOCGIFADDR || cmd === SIOCGIFNETMASK || cmd === SIOCGIFBRDADDR)) return undefined;
  switch (cmd) {
    case SIOCGIFCONF:
      return ifconf(links, mem, arg);
    case SIOCSIFFLAGS:
    case SIOCSIFTXQLEN:
      return setter ? setLinkIoctl(links, mem, cmd, arg, setter) : undefined;
    case SIOCGIFTXQLEN:
    case SIOCGIFNAME:
    case SIOCGIFINDEX:
    case SIOCGIFFLAGS:
    case SIOCGIFMTU:
    case SIOCGIFADDR:
    case SIOCGIFNETMASK:
    case SIOCGIFBRDADDR:
    case SIOCGIFHWADDR:
      break;
    default:
      return undefined;
  }
  const req = mem.read(arg, IFREQ_SIZE);
  if (isError(req)) return req;
  const dv = new DataView(req.buffer, req.byteOffset, req.byteLength);
  let link: LinkInfo | undefined;
  if (cmd === SIOCGIFNAME) {
    const index = dv.getInt32(16, true);
    link = links.find((l) => l.index === index);
    if (!link) return E.ENODEV;
    const name = new Uint8Array(IFNAMSIZ);
    for (let i = 0; i < link.name.length && i < IFNAMSIZ - 1; i++) name[i] = link.name.charCodeAt(i);
    req.set(name, 0);
    return mem.writeExact(arg, req) ?? 0;
  }
  const want = cString(req.subarray(0, IFNAMSIZ));
  link = links.find((l) => l.name === want);
  if (!link) return E.ENODEV;
  const out = req.subarray(16);
  out.fill(0);
  const v4 = link.addresses.find((c) => c.address.version === 4);
  switch (cmd) {
    case SIOCGIFINDEX:
      dv.setInt32(16, link.index, true);
      break;
    case SIOCGIFFLAGS:
      dv.setUint16(16, link.flags & 0xffff, true);
      break;
    case SIOCGIFMTU:
      dv.setInt32(16, link.mtu, true);
      break;
    case SIOCGIFTXQLEN:
      dv.setInt32(16, link.txQueueLen ?? 1000, true);
      break;
    case SIOCGIFHWADDR:
      dv.setUint16(16, link.type, true);
      out.set(link.address, 2);
      break;
    default: {
      if (!v4) return E.EADDRNOTAVAIL;
      const bytes =
        cmd === SIOCGIFADDR
          ? v4.address.bytes
          : cmd === SIOCGIFNETMASK
            ? maskOf(v4.prefixLen)
            : broadcastOf(v4);
      out.set(sockaddrIn(bytes));
    }
  }
  return mem.writeExact(arg, req) ?? 0;
}

/**
 * SIOCSIFFLAGS (dev_change_flags with ifr_flags, a short widened to an int) and SIOCSIFTXQLEN
 * (a negative length is EINVAL): EPERM without CAP_NET_ADMIN, then ENODEV for an unknown link.
 */
function setLinkIoctl(
  links: readonly LinkInfo[],
  mem: IoctlMemory,
  cmd: number,
  arg: number,
  setter: LinkSetter,
): number | LinuxError {
  if (!setter.netAdmin) return E.EPERM;
  const req = mem.read(arg, IFREQ_SIZE);
  if (isError(req)) return req;
  const dv = new DataView(req.buffer, req.byteOffset, req.byteLength);
  const want = cString(req.subarray(0, IFNAMSIZ));
  const link = links.find((l) => l.name === want);
  if (!link) return E.ENODEV;
  if (cmd === SIOCSIFFLAGS) {
    const flags = dv.getInt16(16, true) >>> 0;
    return setter.domain.changeLinks(() => changeLinkFlags(link, flags)) ?? 0;
  }
  const qlen = dv.getInt32(16, true);
  if (qlen < 0) return E.EINVAL;
  if (qlen === (link.txQueueLen ?? 1000)) return 0;
  const control = link.linkControl;
  if (!control) return E.EOPNOTSUPP;
  return setter.domain.changeLinks(() => control.setTxQueueLen(qlen)) ?? 0;
}

/** SIOCGIFCONF: one ifreq per IPv4 address; a null buffer asks for the length needed. */
function ifconf(links: readonly LinkInfo[], mem: IoctlMemory, arg: number): number | LinuxError {
  const conf = mem.read(arg, 16);
  if (isError(conf)) return conf;
  const dv = new DataView(conf.buffer, conf.byteOffset, conf.byteLength);
  const len = dv.getInt32(0, true);
  const buf = Number(dv.getBigUint64(8, true));
  const entries: Uint8Array[] = [];
  for (const l of links)
    for (const c of l.addresses) {
      if (c.address.version !== 4) continue;
      const r = new Uint8Array(IFREQ_SIZE);
      for (let i = 0; i < l.name.length && i < IFNAMSIZ - 1; i++) r[i] = l.name.charCodeAt(i);
      r.set(sockaddrIn(c.address.bytes), 16);
      entries.push(r);
    }
  let used = 0;
  if (buf === 0) used = entries.length * IFREQ_SIZE;
  else
    for (const e of entries) {
      if (used + IFREQ_SIZE > len) break;
      const err = mem.writeExact(buf + used, e);
      if (err) return err;
      used += IFREQ_SIZE;
    }
  dv.setInt32(0, used, true);
  return mem.writeExact(arg, conf.subarray(0, 4)) ?? 0;
}
