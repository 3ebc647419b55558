/**
 * AF_NETLINK sockets of protocol NETLINK_ROUTE: the rtnetlink requests programs use to learn the
 * sandbox's network — RTM_GETLINK, RTM_GETADDR, RTM_GETROUTE and RTM_GETNEIGH dumps (getifaddrs,
 * if_nameindex, `ip link`, `ip addr`, `ip route`, `ip neigh`), RTM_GETLINK by index or name, NLMSG_ERROR
 * answers and ACKs. Answers describe the interfaces of the sandbox's netstack, never the host's.
 * Changes (RTM_NEW*, RTM_DEL*, RTM_SETLINK) answer EOPNOTSUPP: the sandbox's links are fixed.
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
  WOULD_BLOCK,
  type IpAddress,
  type IpCidr,
  type Ipv6AddressInfo,
  type RecvResult,
  type WouldBlock,
} from '@tsvisor/netstack';

/** rtnetlink's protocol number; the only one served. */
export const NETLINK_ROUTE = 0;
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
const RTM_NEWADDR = 20;
const RTM_GETADDR = 22;
const RTM_NEWROUTE = 24;
const RTM_GETROUTE = 26;
const RTM_NEWNEIGH = 28;
const RTM_GETNEIGH = 30;
const RTM_MAX = 127;
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

const IFA_ADDRESS = 1;
const IFA_LOCAL = 2;
const IFA_LABEL = 3;
const IFA_BROADCAST = 4;
const IFA_CACHEINFO = 6;
const IFA_FLAGS = 8;
const IFA_PROTO = 11;
const IFA_F_TEMPORARY = 0x01;
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
const RTPROT_STATIC = 4;
const RT_SCOPE_UNIVERSE = 0;
const RT_SCOPE_LINK = 253;
const RT_SCOPE_HOST = 254;
const RTN_UNICAST = 1;
const RTN_LOCAL = 2;
const RTN_BROADCAST = 3;

const NETLINK_CAP_ACK = 10;
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
  IFF_MULTICAST: 0x1000,
  IFF_LOWER_UP: 0x10000,
} as const;

/** ARPHRD_ETHER: an Ethernet link. */
export const ARPHRD_ETHER = 1;
/** ARPHRD_LOOPBACK: the loopback link (`link/loopback` in `ip link`). */
export const ARPHRD_LOOPBACK = 772;
/** A link without a link layer (an IP-medium device, like a TUN device). */
export const ARPHRD_NONE = 0xfffe;

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
  /** Packets received and sent so far. */
  readonly stats: () => { rxPackets: number; txPackets: number };
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

  constructor(
    /** The sandbox's interfaces, read at each request so they are always current. */
    readonly links: () => readonly LinkInfo[],
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
class MessageWriter {
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

function newLink(l: LinkInfo, flags: number, seq: number, pid: number): Uint8Array {
  const w = new MessageWriter();
  w.bytes(
    fixed(16, (dv) => {
      dv.setUint8(0, AddressFamily.AF_UNSPEC);
      dv.setUint16(2, l.type, true);
      dv.setInt32(4, l.index, true);
      dv.setUint32(8, l.flags, true);
    }),
  );
  const loopback = (l.flags & IfFlag.IFF_LOOPBACK) !== 0;
  const up = (l.flags & IfFlag.IFF_UP) !== 0;
  w.str(IFLA_IFNAME, l.name);
  w.u32(IFLA_TXQLEN, 1000);
  // IF_OPER_UNKNOWN for lo (it has no carrier state), IF_OPER_UP/DOWN otherwise.
  w.u8(IFLA_OPERSTATE, loopback ? 0 : up ? 6 : 2);
  w.u8(IFLA_LINKMODE, 0);
  w.u32(IFLA_MTU, l.mtu);
  w.u32(IFLA_GROUP, 0);
  w.u32(IFLA_PROMISCUITY, 0);
  w.u32(IFLA_NUM_TX_QUEUES, 1);
  w.u32(IFLA_NUM_RX_QUEUES, 1);
  w.u8(IFLA_CARRIER, up ? 1 : 0);
  // A link without link-layer addresses (ARPHRD_NONE) has neither attribute, as on Linux.
  if (l.address.length > 0) w.attr(IFLA_ADDRESS, l.address);
  if (l.broadcast.length > 0) w.attr(IFLA_BROADCAST, l.broadcast);
  // struct rtnl_link_stats64 (25 u64) and rtnl_link_stats (24 u32): packet counts only.
  const st = l.stats();
  w.attr(
    IFLA_STATS64,
    fixed(200, (dv) => {
      dv.setBigUint64(0, BigInt(st.rxPackets), true);
      dv.setBigUint64(8, BigInt(st.txPackets), true);
    }),
  );
  w.attr(
    IFLA_STATS,
    fixed(96, (dv) => {
      dv.setUint32(0, st.rxPackets >>> 0, true);
      dv.setUint32(4, st.txPackets >>> 0, true);
    }),
  );
  w.str(IFLA_QDISC, 'noqueue');
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
  const w = new MessageWriter();
  w.bytes(ifaddrmsg(c, IFA_F_PERMANENT, l.index));
  w.attr(IFA_ADDRESS, a.bytes);
  w.attr(IFA_LOCAL, a.bytes);
  if (!a.isLoopback() && c.prefixLen < 31) w.attr(IFA_BROADCAST, broadcastOf(c));
  w.str(IFA_LABEL, l.name);
  w.u32(IFA_FLAGS, IFA_F_PERMANENT);
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
}

/**
 * The routes Linux derives from the links' addresses (fib_add_ifaddr, addrconf): for IPv4 a
 * prefix route in main (type local on a loopback link), a local route per address and a
 * broadcast route in the local table; for IPv6 a local route per address and a prefix route in
 * main off loopback; plus a default route per gateway.
 */
function routesOf(links: readonly LinkInfo[]): Route[] {
  const main: Route[] = [];
  const local: Route[] = [];
  for (const l of links) {
    const loopback = (l.flags & IfFlag.IFF_LOOPBACK) !== 0;
    for (const c of l.addresses) {
      const a = c.address;
      const full = a.version === 4 ? 32 : 128;
      const family = familyOf(a);
      if (a.version === 4) {
        if (c.prefixLen < 32) {
          const prefix = {
            family,
            dst: network(c),
            dstLen: c.prefixLen,
            protocol: RTPROT_KERNEL,
            oif: l.index,
            prefsrc: a.bytes,
          };
          if (loopback)
            local.push({ ...prefix, table: RT_TABLE_LOCAL, scope: RT_SCOPE_HOST, type: RTN_LOCAL });
          else main.push({ ...prefix, table: RT_TABLE_MAIN, scope: RT_SCOPE_LINK, type: RTN_UNICAST });
        }
        local.push({
          family,
          dst: a.bytes,
          dstLen: full,
          table: RT_TABLE_LOCAL,
          protocol: RTPROT_KERNEL,
          scope: RT_SCOPE_HOST,
          type: RTN_LOCAL,
          oif: l.index,
          prefsrc: a.bytes,
        });
        if (c.prefixLen < 31)
          local.push({
            family,
            dst: broadcastOf(c),
            dstLen: full,
            table: RT_TABLE_LOCAL,
            protocol: RTPROT_KERNEL,
            scope: RT_SCOPE_LINK,
            type: RTN_BROADCAST,
            oif: l.index,
            prefsrc: a.bytes,
          });
      } else {
        if (!loopback && c.prefixLen < 128)
          main.push({
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
        local.push({
          family,
          dst: a.bytes,
          dstLen: full,
          table: RT_TABLE_LOCAL,
          protocol: RTPROT_KERNEL,
          scope: RT_SCOPE_UNIVERSE,
          type: RTN_LOCAL,
          oif: l.index,
          priority: 0,
        });
      }
    }
    for (const g of l.gateways)
      main.push({
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
  return [...main, ...local];
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
  if (r.prefsrc) w.attr(RTA_PREFSRC, r.prefsrc);
  if (r.gateway) w.attr(RTA_GATEWAY, r.gateway);
  w.u32(RTA_OIF, r.oif);
  if (r.family === AddressFamily.AF_INET6) w.u8(RTA_PREF, 0);
  return w.finish(RTM_NEWROUTE, flags, seq, pid);
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

/** The attributes after a fixed part of `skip` bytes, by type (the first of each type wins). */
function parseAttrs(body: Uint8Array, skip: number): Map<number, Uint8Array> {
  const out = new Map<number, Uint8Array>();
  const dv = new DataView(body.buffer, body.byteOffset, body.byteLength);
  let off = (skip + 3) & ~3;
  while (off + 4 <= body.length) {
    const len = dv.getUint16(off, true);
    if (len < 4 || off + len > body.length) break;
    const type = dv.getUint16(off + 2, true) & 0x3fff;
    if (!out.has(type)) out.set(type, body.subarray(off + 4, off + len));
    off += (len + 3) & ~3;
  }
  return out;
}

function cString(b: Uint8Array): string {
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
  private portid = 0;
  private groups = 0;
  private dstPid = 0;
  private readonly queue: Datagram[] = [];
  private queued = 0;
  private listener: ((events: number) => void) | undefined;
  private readonly options = new Map<number, number>();
  private closed = false;
  /** SO_RCVBUF / SO_SNDBUF as getsockopt reports them. */
  rcvbuf = SK_RMEM_DEFAULT;
  sndbuf = SK_RMEM_DEFAULT;
  passcred = false;

  private constructor(
    private readonly domain: NetlinkDomain,
    readonly type: number,
    private readonly tgid: number,
  ) {}

  /**
   * netlink_create: `ESOCKTNOSUPPORT` unless SOCK_RAW or SOCK_DGRAM, `EPROTONOSUPPORT` for a
   * protocol other than NETLINK_ROUTE.
   */
  static create(
    domain: NetlinkDomain,
    type: number,
    protocol: number,
    tgid: number,
  ): NetlinkSocket | LinuxError {
    if (type !== SockType.SOCK_RAW && type !== SockType.SOCK_DGRAM) return E.ESOCKTNOSUPPORT;
    if (protocol < 0 || protocol >= MAX_LINKS) return E.EPROTONOSUPPORT;
    if (protocol !== NETLINK_ROUTE) return E.EPROTONOSUPPORT;
    return new NetlinkSocket(domain, type, tgid);
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
    // Multicast groups are accepted; the sandbox's links never change, so no event is sent.
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
   * socket has that id). `EMSGSIZE` beyond the send buffer.
   */
  sendto(data: Uint8Array, _flags = 0, to?: Uint8Array): number | LinuxError | WouldBlock {
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
    this.request(data);
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
    this.options.set(name, value);
    return 0;
  }

  getsockopt(level: number, name: number): number | LinuxError {
    if (level === SocketLevel.SOL_SOCKET) {
      switch (name) {
        case SocketOption.SO_TYPE:
          return this.type;
        case SocketOption.SO_DOMAIN:
          return AddressFamily.AF_NETLINK;
        case SocketOption.SO_PROTOCOL:
          return NETLINK_ROUTE;
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
  private request(data: Uint8Array): void {
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
      if ((flags & NLM_F_REQUEST) !== 0 && type >= NLMSG_MIN_TYPE) {
        const r = this.rtnetlink(msg, type, flags);
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
    const flags = capped ? NLM_F_CAPPED : 0;
    this.deliver({ data: w.finish(NLMSG_ERROR, flags, dv.getUint32(8, true), this.portid), from: 0 });
  }

  /** One rtnetlink request: 'dump' when answered by a dump, else the errno to ack with. */
  private rtnetlink(msg: Uint8Array, type: number, flags: number): 'dump' | LinuxError | undefined {
    if (type > RTM_MAX) return E.EOPNOTSUPP;
    const seq = new DataView(msg.buffer, msg.byteOffset).getUint32(8, true);
    const body = msg.subarray(NLMSG_HDRLEN);
    const family = body.length > 0 ? (body[0] as number) : AddressFamily.AF_UNSPEC;
    const isGet = (type - RTM_NEWLINK) % 4 === 2;
    if (!isGet) return E.EOPNOTSUPP;
    const links = this.domain.links();
    const pid = this.portid;
    const dump = (msgs: Uint8Array[]): 'dump' => {
      this.deliverBatched(msgs);
      const w = new MessageWriter();
      w.bytes(new Uint8Array(4));
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
    if (type !== RTM_GETLINK) return E.EOPNOTSUPP;
    // rtnl_getlink: by ifi_index, else by IFLA_IFNAME.
    if (body.length < 16) return E.EINVAL;
    const index = new DataView(body.buffer, body.byteOffset).getInt32(4, true);
    let link: LinkInfo | undefined;
    if (index > 0) link = links.find((l) => l.index === index);
    else {
      const name = parseAttrs(body, 16).get(IFLA_IFNAME);
      if (name === undefined) return E.EINVAL;
      const want = cString(name);
      link = links.find((l) => l.name === want);
    }
    if (!link) return E.ENODEV;
    this.deliver({ data: newLink(link, 0, seq, pid), from: 0 });
    return undefined;
  }
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

/**
 * The interface ioctls of every socket (dev_ioctl): SIOCGIFINDEX, SIOCGIFNAME, SIOCGIFFLAGS,
 * SIOCGIFMTU, SIOCGIFHWADDR and SIOCGIFCONF over the sandbox's links, and on AF_INET sockets
 * (`inet`, devinet_ioctl) SIOCGIFADDR, SIOCGIFNETMASK and SIOCGIFBRDADDR; undefined for other
 * requests. `ENODEV` for an unknown interface, `EADDRNOTAVAIL` when it has no IPv4 address.
 */
export function interfaceIoctl(
  links: readonly LinkInfo[],
  mem: IoctlMemory,
  cmd: number,
  arg: number,
  inet: boolean,
): number | LinuxError | undefined {
  if (!inet && (cmd === SIOCGIFADDR || cmd === SIOCGIFNETMASK || cmd === SIOCGIFBRDADDR)) return undefined;
  switch (cmd) {
    case SIOCGIFCONF:
      return ifconf(links, mem, arg);
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
