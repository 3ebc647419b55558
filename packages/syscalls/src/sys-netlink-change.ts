/**
 * The rtnetlink requests that change the sandbox's network: RTM_NEWADDR and RTM_DELADDR (`ip
 * addr add/del`), checked and answered as Linux's inet_rtm_newaddr, inet_rtm_deladdr,
 * inet6_rtm_newaddr and inet6_rtm_deladdr do, RTM_NEWROUTE and RTM_DELROUTE of unicast
 * routes in the main table (`ip route add/del`, inet_rtm_newroute, inet6_rtm_newroute...), and
 * RTM_NEWLINK and RTM_SETLINK of an existing link's MTU, flags and queue length (`ip link set
 * DEV mtu N`, `up`, `down`, `promisc on`, `txqueuelen N`: rtnl_newlink, rtnl_setlink,
 * do_setlink), with their errnos and extended ACK messages. The
 * caller (the NETLINK_ROUTE socket) has checked CAP_NET_ADMIN already, as rtnetlink_rcv_msg does
 * for every request that is not a GET.
 *
 * @module
 */
import { AddressFamily, E, isError, type LinuxError } from '@tsvisor/abi';
import {
  IfaFlag,
  IpCidr,
  Ipv4Address,
  Ipv6Address,
  type Interface,
  type IpAddress,
  type Stack,
  type StaticRoute,
} from '@tsvisor/netstack';
import { cString, netlinkAttrs, type LinkInfo } from './sys-netlink.js';
import {
  IFA_IPV4_POLICY,
  IFA_IPV6_POLICY,
  IFLA_POLICY,
  RTM_IPV4_POLICY,
  RTM_IPV6_POLICY,
  checkPolicy,
  leftover,
  type ExtAck,
} from './sys-netlink-policy.js';

const RTM_NEWLINK = 16;
const RTM_SETLINK = 19;
const RTM_NEWADDR = 20;
const RTM_DELADDR = 21;
const RTM_NEWROUTE = 24;
const RTM_DELROUTE = 25;
const RTA_DST = 1;
const RTA_OIF = 4;
const RTA_GATEWAY = 5;
const RTA_PRIORITY = 6;
const RTA_PREFSRC = 7;
const RTA_METRICS = 8;
const RTA_TABLE = 15;
const RTAX_LOCK = 1;
const RTAX_MTU = 2;
/** struct rtmsg's size. */
const RTMSG_LEN = 12;
const RT_TABLE_UNSPEC = 0;
const RT_TABLE_MAIN = 254;
const RTN_UNICAST = 1;
const RTPROT_BOOT = 3;
/** IFF_LOOPBACK of a link's flags. */
const IFF_LOOPBACK = 0x8;
/** IP6_RT_PRIO_USER: the metric of an IPv6 route added without one. */
const IP6_RT_PRIO_USER = 1024;
const NLM_F_REPLACE = 0x100;
const NLM_F_EXCL = 0x200;
const NLM_F_CREATE = 0x400;
/** ETH_MIN_MTU: the smallest MTU of an Ethernet device (ether_setup). */
const ETH_MIN_MTU = 68;
/** IPV6_MIN_MTU: below it Linux takes IPv6 off a link, which the sandbox does not model. */
const IPV6_MIN_MTU = 1280;

const IFA_ADDRESS = 1;
const IFA_LOCAL = 2;
const IFA_LABEL = 3;
const IFA_CACHEINFO = 6;
const IFA_FLAGS = 8;
/** struct ifaddrmsg's size. */
const IFADDRMSG_LEN = 8;
/** IFA_F_SECONDARY: an IPv4 address in the subnet of an earlier one. */
const IFA_F_SECONDARY = 0x01;
/** INFINITY_LIFE_TIME in IFA_CACHEINFO. */
const INFINITY_LIFE_TIME = 0xffffffff;

/** The IFA_F_* flags inet6_rtm_newaddr keeps of a request ("We ignore other flags so far"). */
const IPV6_NEW_FLAGS =
  IfaFlag.NODAD |
  IfaFlag.HOMEADDRESS |
  IfaFlag.MANAGETEMPADDR |
  IfaFlag.NOPREFIXROUTE |
  IfaFlag.MCAUTOJOIN |
  IfaFlag.OPTIMISTIC;

/**
 * What a change request ends with: nothing (success), or an errno with its extended ACK (sent
 * when the socket asked for them: NETLINK_EXT_ACK).
 */
export type ChangeResult = ExtAck;

/**
 * How a link's addresses change (netstack's Interface.addAddress and removeAddress on the link's
 * side of the interface). A link without it keeps its addresses: requests for it answer
 * EOPNOTSUPP.
 */
export interface AddressControl {
  /** Assigns `cidr` with IFA_F_* `flags` (IPv6); EEXIST when it is there already. */
  add(cidr: IpCidr, flags: number): undefined | LinuxError;
  /** Removes `cidr` (and, for an IPv4 primary, its secondaries); EADDRNOTAVAIL when absent. */
  remove(cidr: IpCidr): readonly IpCidr[] | LinuxError;
}

/**
 * The warning the ACK of a change that succeeded carries: bytes after the request's last whole
 * attribute, which the handlers' parsing passed over.
 */
export function changeWarning(type: number, body: Uint8Array): string | undefined {
  if (type === RTM_NEWLINK || type === RTM_SETLINK) return leftover(body, IFINFOMSG_LEN);
  if (type === RTM_NEWADDR || type === RTM_DELADDR) return leftover(body, IFADDRMSG_LEN);
  return leftover(body, RTMSG_LEN);
}

function fail(error: LinuxError, message?: string): ChangeResult {
  return message === undefined ? { error } : { error, message };
}

function u32(b: Uint8Array): number {
  return new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(0, true);
}

/** An address attribute: 4 bytes for IPv4, 16 for IPv6; undefined when too short (the policy's EINVAL). */
function address(b: Uint8Array | undefined, v6: boolean): IpAddress | undefined | 'short' {
  if (b === undefined) return undefined;
  if (b.length < (v6 ? 16 : 4)) return 'short';
  return v6 ? new Ipv6Address(b.subarray(0, 16)) : new Ipv4Address(b.subarray(0, 4));
}

/**
 * One RTM_NEWLINK, RTM_SETLINK, RTM_NEWADDR, RTM_DELADDR, RTM_NEWROUTE or RTM_DELROUTE request (its type, nlmsg_flags and the bytes after the header)
 * against the sandbox's `links`: undefined when done, else the errno and message to ACK with.
 * Requests of other types answer EOPNOTSUPP, as Linux does for changes without a handler.
 */
export function rtnlChange(
  links: readonly LinkInfo[],
  type: number,
  flags: number,
  body: Uint8Array,
): ChangeResult | undefined {
  const family = body.length > 0 ? body[0]! : AddressFamily.AF_UNSPEC;
  if (type === RTM_NEWLINK || type === RTM_SETLINK) return linkChange(links, type, flags, body);
  if (type === RTM_NEWROUTE || type === RTM_DELROUTE) return routeChange(links, type, flags, body, family);
  if (type !== RTM_NEWADDR && type !== RTM_DELADDR) return fail(E.EOPNOTSUPP);
  // The handlers are registered for AF_INET and AF_INET6 only (rtnl_get_link: none, EOPNOTSUPP).
  if (family !== AddressFamily.AF_INET && family !== AddressFamily.AF_INET6) return fail(E.EOPNOTSUPP);
  if (body.length < IFADDRMSG_LEN) return fail(E.EINVAL, 'Invalid header length');
  const v6 = family === AddressFamily.AF_INET6;
  const policyError = checkPolicy(body, IFADDRMSG_LEN, v6 ? IFA_IPV6_POLICY : IFA_IPV4_POLICY, false);
  if (policyError) return policyError;
  const dv = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const prefixLen = body[1]!;
  const ifaFlags = body[2]!;
  const index = dv.getInt32(4, true);
  const tb = netlinkAttrs(body, IFADDRMSG_LEN);
  const local = address(tb.get(IFA_LOCAL), v6);
  const addr = address(tb.get(IFA_ADDRESS), v6);
  if (local === 'short' || addr === 'short') return fail(E.EINVAL);
  const link = links.find((l) => l.index === index);
  const requested = tb.has(IFA_FLAGS) && tb.get(IFA_FLAGS)!.length >= 4 ? u32(tb.get(IFA_FLAGS)!) : ifaFlags;
  if (!v6)
    return type === RTM_NEWADDR
      ? newAddr4(link, prefixLen, local, flags, requested, tb)
      : delAddr4(link, prefixLen, local, addr, tb);
  // extract_addr: IFA_LOCAL when given, else IFA_ADDRESS.
  const pfx = local ?? addr;
  if (pfx === undefined) return fail(E.EINVAL);
  if (type === RTM_DELADDR) {
    if (prefixLen > 128) return fail(E.EINVAL, 'ipv6: Invalid prefix length');
    if (!link) return fail(E.ENODEV, 'ipv6: Unable to find the interface');
    const found = (link.ipv6?.() ?? []).find(
      (a) => a.cidr.prefixLen === prefixLen && a.cidr.address.equals(pfx),
    );
    const known = found ?? link.addresses.find((c) => c.prefixLen === prefixLen && c.address.equals(pfx));
    if (!known) return fail(E.EADDRNOTAVAIL, 'ipv6: address not found');
    if (!link.addressControl) return fail(E.EOPNOTSUPP);
    const r = link.addressControl.remove(new IpCidr(pfx, prefixLen));
    return Array.isArray(r) ? undefined : fail(r as LinuxError, 'ipv6: address not found');
  }
  const lifetime = cacheLifetimes(tb, 'ipv6');
  if (lifetime) return lifetime;
  if (!link) return fail(E.ENODEV, 'ipv6: Unable to find the interface');
  const keep = requested & IPV6_NEW_FLAGS;
  // Optimistic DAD is off by default (optimistic_dad 0): the flag is dropped before this test.
  const newFlags = keep & ~IfaFlag.OPTIMISTIC;
  const exists =
    link.addresses.some((c) => c.address.equals(pfx)) ||
    (link.ipv6?.() ?? []).some((a) => a.cidr.address.equals(pfx));
  if (exists) {
    if ((flags & NLM_F_EXCL) !== 0 || (flags & NLM_F_REPLACE) === 0)
      return fail(E.EEXIST, 'ipv6: address already assigned');
    // inet6_addr_modify with the lifetimes and flags of a permanent address: nothing changes.
    return undefined;
  }
  if (prefixLen > 128) return fail(E.EINVAL, 'ipv6: Invalid prefix length');
  if (pfx.isMulticast() && (newFlags & IfaFlag.MCAUTOJOIN) === 0)
    return fail(E.EINVAL, 'ipv6: Cannot assign multicast address without "IFA_F_MCAUTOJOIN" flag');
  if (!link.addressControl) return fail(E.EOPNOTSUPP);
  const r = link.addressControl.add(new IpCidr(pfx, prefixLen), newFlags);
  return r === undefined ? undefined : fail(r, r === E.EEXIST ? 'ipv6: address already assigned' : undefined);
}

/**
 * IFA_CACHEINFO of a new address: only infinite lifetimes are kept (the sandbox's addresses are
 * permanent), so finite ones answer EOPNOTSUPP; a valid lifetime of 0 is Linux's EINVAL.
 */
function cacheLifetimes(tb: Map<number, Uint8Array>, module: 'ipv4' | 'ipv6'): ChangeResult | undefined {
  const ci = tb.get(IFA_CACHEINFO);
  if (ci === undefined) return undefined;
  if (ci.length < 16) return fail(E.EINVAL);
  const dv = new DataView(ci.buffer, ci.byteOffset, ci.byteLength);
  const preferred = dv.getUint32(0, true);
  const valid = dv.getUint32(4, true);
  if (valid === 0 || preferred > valid) return fail(E.EINVAL, `${module}: address lifetime invalid`);
  if (valid !== INFINITY_LIFE_TIME || preferred !== INFINITY_LIFE_TIME) return fail(E.EOPNOTSUPP);
  return undefined;
}

/**
 * inet_rtm_newaddr. Of the IFA_F_* flags asked for (`ifaFlags`) only IFA_F_NOPREFIXROUTE means
 * something to an IPv4 address (no prefix route: fib_add_ifaddr); it is the one kept.
 */
function newAddr4(
  link: LinkInfo | undefined,
  prefixLen: number,
  local: IpAddress | undefined,
  flags: number,
  ifaFlags: number,
  tb: Map<number, Uint8Array>,
): ChangeResult | undefined {
  if (prefixLen > 32) return fail(E.EINVAL, 'ipv4: Invalid prefix length');
  if (local === undefined) return fail(E.EINVAL, 'ipv4: Local address is not supplied');
  const lifetime = cacheLifetimes(tb, 'ipv4');
  if (lifetime) return lifetime;
  if (!link) return fail(E.ENODEV, 'ipv4: Device not found');
  const exists = link.addresses.some((c) => c.prefixLen === prefixLen && c.address.equals(local));
  if (exists) {
    if ((flags & NLM_F_EXCL) !== 0 || (flags & NLM_F_REPLACE) === 0)
      return fail(E.EEXIST, 'ipv4: Address already assigned');
    return undefined; // the lifetimes of a permanent address: nothing changes
  }
  if (!link.addressControl) return fail(E.EOPNOTSUPP);
  const r = link.addressControl.add(new IpCidr(local, prefixLen), ifaFlags & IfaFlag.NOPREFIXROUTE);
  return r === undefined ? undefined : fail(r, r === E.EEXIST ? 'ipv4: Address already assigned' : undefined);
}

/**
 * inet_rtm_deladdr: the first address of the link that matches what the request gives: its
 * IFA_LOCAL, its IFA_LABEL, and with IFA_ADDRESS the prefix length and subnet.
 */
function delAddr4(
  link: LinkInfo | undefined,
  prefixLen: number,
  local: IpAddress | undefined,
  addr: IpAddress | undefined,
  tb: Map<number, Uint8Array>,
): ChangeResult | undefined {
  if (!link) return fail(E.ENODEV, 'ipv4: Device not found');
  const label = tb.get(IFA_LABEL);
  const found = link.addresses.find((c) => {
    if (c.address.version !== 4) return false;
    if (local !== undefined && !c.address.equals(local)) return false;
    if (label !== undefined && cString(label) !== link.name) return false;
    if (addr !== undefined && (c.prefixLen !== prefixLen || !c.contains(addr))) return false;
    return true;
  });
  if (!found) return fail(E.EADDRNOTAVAIL, 'ipv4: Address not found');
  if (!link.addressControl) return fail(E.EOPNOTSUPP);
  const r = link.addressControl.remove(found);
  return Array.isArray(r) ? undefined : fail(r as LinuxError, 'ipv4: Address not found');
}

/**
 * What a link of a netstack interface needs to be changed by rtnetlink: its AddressControl and
 * its IPv4 addresses' flags and broadcast addresses. `loopback` says which side of the
 * interface the link is: lo (addresses assigned there are lo's, their IPv4 prefixes local) or
 * the device.
 */
export function interfaceAddressing(
  iface: Interface,
  loopback: boolean,
): Required<Pick<LinkInfo, 'addressControl' | 'ipv4Detail'>> {
  return {
    addressControl: {
      add: (cidr, flags) => iface.addAddress(cidr, { loopback, flags }),
      remove: (cidr) => iface.removeAddress(cidr),
    },
    ipv4Detail: (c) => {
      const info = iface.addressInfo(c);
      return {
        flags: (info.secondary ? IFA_F_SECONDARY : 0) | (info.flags & IfaFlag.NOPREFIXROUTE),
        // A configured address off the loopback range has its broadcast (what DHCP or a
        // network manager sets); one added without `brd` has none.
        broadcast: !info.assigned && !c.address.isLoopback() && c.prefixLen < 31,
      };
    },
  };
}

/** A route of the main table as rtnetlink lists it: netstack's StaticRoute and its link. */
export interface RouteEntry extends StaticRoute {
  /** The ifindex of the link it leaves by. */
  readonly oif: number;
}

/**
 * How the main table's routes change (netstack's Interface.addRoute and removeRoute); one object
 * for every link of a stack. A link without it answers route changes with EOPNOTSUPP.
 */
export interface RouteControl {
  /**
   * Adds `route` out of link `oif`, or, without one, out of the link that reaches its gateway;
   * EEXIST, ENETUNREACH (a gateway not on link) as netstack's addRoute.
   */
  add(
    route: Omit<StaticRoute, 'loopback'>,
    oif: number | undefined,
    replace: boolean,
  ): undefined | LinuxError;
  /** Removes the first route that matches; ESRCH when none does. */
  remove(match: {
    readonly dst: IpCidr;
    readonly metric?: number;
    readonly gateway?: IpAddress;
    readonly oif?: number;
  }): RouteEntry | LinuxError;
  /** The routes, oldest first. */
  list(): readonly RouteEntry[];
  /**
   * The source address the stack sends to `dst` from (netstack's sourceAddressFor): undefined
   * when nothing routes there, the unspecified address when the route's link has no address it
   * may use (inet_select_addr found none).
   */
  source(dst: IpAddress): IpAddress | undefined;
  /** The path MTU learnt for `dst`, while it holds (netstack's Stack.pathMtu). */
  pathMtu(
    dst: IpAddress,
  ): { readonly mtu: number; readonly locked: boolean; readonly expiresIn: number } | undefined;
}

/**
 * The RouteControl of a netstack stack whose lo is link `loIndex` and whose device is link
 * `deviceIndex` (the same index when the device is a loopback device).
 */
export function interfaceRouting(stack: Stack, loIndex: number, deviceIndex: number): RouteControl {
  const iface = stack.iface;
  const onLo = (oif: number): boolean => oif === loIndex;
  return {
    source: (dst) => iface.sourceAddressFor(dst),
    pathMtu: (dst) => stack.pathMtu(dst),
    add: (route, oif, replace) => {
      let loopback: boolean;
      if (oif !== undefined) loopback = onLo(oif);
      else {
        const g = route.gateway;
        if (g === undefined) return E.ENODEV;
        // The link of the gateway: lo for an address of this host, else the route reaching it.
        loopback = iface.hasAddress(g) || iface.lookupRoute(g)?.loopback === true;
      }
      return iface.addRoute({ ...route, loopback }, replace);
    },
    remove: (match) => {
      const r = iface.removeRoute({
        dst: match.dst,
        ...(match.metric !== undefined ? { metric: match.metric } : {}),
        ...(match.gateway !== undefined ? { gateway: match.gateway } : {}),
        ...(match.oif !== undefined ? { loopback: onLo(match.oif) } : {}),
      });
      return isError(r) ? r : { ...r, oif: r.loopback ? loIndex : deviceIndex };
    },
    list: () => iface.routes.map((r) => ({ ...r, oif: r.loopback ? loIndex : deviceIndex })),
  };
}

/** The network address of `a` with `len` prefix bits. */
function prefixOf(a: IpAddress, len: number): IpCidr {
  const b = a.bytes.slice();
  for (let i = 0; i < b.length; i++) {
    const keep = Math.max(0, Math.min(8, len - i * 8));
    b[i] = b[i]! & ((0xff00 >> keep) & 0xff);
  }
  return new IpCidr(a.version === 4 ? new Ipv4Address(b) : new Ipv6Address(b), len);
}

/**
 * RTM_NEWROUTE and RTM_DELROUTE of IPv4 and IPv6 unicast routes in the main table. Other tables
 * and route types (blackhole, unreachable, prohibit...), multipath and nexthop objects answer
 * EOPNOTSUPP: netstack has one table of unicast routes.
 */
function routeChange(
  links: readonly LinkInfo[],
  type: number,
  flags: number,
  body: Uint8Array,
  family: number,
): ChangeResult | undefined {
  if (family !== AddressFamily.AF_INET && family !== AddressFamily.AF_INET6) return fail(E.EOPNOTSUPP);
  const v6 = family === AddressFamily.AF_INET6;
  // rtm_to_fib_config validates without a word for a short header; rtm_to_fib6_config parses.
  if (body.length < RTMSG_LEN) return v6 ? fail(E.EINVAL, 'Invalid header length') : fail(E.EINVAL);
  const policyError = checkPolicy(body, RTMSG_LEN, v6 ? RTM_IPV6_POLICY : RTM_IPV4_POLICY, false);
  if (policyError) return policyError;
  const dstLen = body[1]!;
  const tableByte = body[4]!;
  const rtType = body[7]!;
  const tb = netlinkAttrs(body, RTMSG_LEN);
  const table = tb.has(RTA_TABLE) && tb.get(RTA_TABLE)!.length >= 4 ? u32(tb.get(RTA_TABLE)!) : tableByte;
  if (dstLen > (v6 ? 128 : 32)) return fail(E.EINVAL, v6 ? undefined : 'Invalid prefix length');
  const control = links.find((l) => l.routeControl)?.routeControl;
  const dstAttr = address(tb.get(RTA_DST), v6);
  const gwAttr = address(tb.get(RTA_GATEWAY), v6);
  const srcAttr = address(tb.get(RTA_PREFSRC), v6);
  if (dstAttr === 'short' || gwAttr === 'short' || srcAttr === 'short') return fail(E.EINVAL);
  // rtm_to_fib_config: an IPv4 destination has no bits beyond its prefix (IPv6's are cleared).
  if (!v6 && dstAttr !== undefined && dstLen < 32 && !prefixOf(dstAttr, dstLen).address.equals(dstAttr))
    return fail(E.EINVAL, 'Invalid prefix for given prefix length');
  const dst = prefixOf(
    dstAttr ?? (v6 ? new Ipv6Address(new Uint8Array(16)) : Ipv4Address.UNSPECIFIED),
    dstLen,
  );
  const oifAttr = tb.get(RTA_OIF);
  const oif = oifAttr !== undefined && oifAttr.length >= 4 ? u32(oifAttr) : undefined;
  const prio = tb.get(RTA_PRIORITY);
  const metric = prio !== undefined && prio.length >= 4 ? u32(prio) : undefined;
  if (oif !== undefined && oif !== 0 && !links.some((l) => l.index === oif)) return fail(E.ENODEV);
  if (type === RTM_DELROUTE) {
    if (table !== RT_TABLE_MAIN && table !== RT_TABLE_UNSPEC) return fail(E.ESRCH);
    if (!control) return fail(E.EOPNOTSUPP);
    const r = control.remove({
      dst,
      ...(metric !== undefined ? { metric } : {}),
      ...(gwAttr !== undefined ? { gateway: gwAttr } : {}),
      ...(oif !== undefined && oif !== 0 ? { oif } : {}),
    });
    return isError(r) ? fail(r) : undefined;
  }
  if (table !== RT_TABLE_MAIN && table !== RT_TABLE_UNSPEC) return fail(E.EOPNOTSUPP);
  if (rtType !== RTN_UNICAST || tb.has(9 /* RTA_MULTIPATH */) || tb.has(30 /* RTA_NH_ID */))
    return fail(E.EOPNOTSUPP);
  const { mtu, mtuLocked } = routeMtu(tb.get(RTA_METRICS));
  if (v6 && gwAttr !== undefined && (gwAttr as Ipv6Address).isLinkLocal()) {
    const link = links.find((l) => l.index === oif);
    if (link && (link.flags & IFF_LOOPBACK) !== 0)
      return fail(E.EINVAL, 'Egress device can not be loopback device for this route');
  }
  if (gwAttr === undefined && (oif === undefined || oif === 0)) return fail(E.ENODEV);
  if (!control) return fail(E.EOPNOTSUPP);
  const r = control.add(
    {
      dst,
      gateway: gwAttr,
      metric: metric ?? (v6 ? IP6_RT_PRIO_USER : 0),
      src: srcAttr,
      mtu,
      ...(mtuLocked ? { mtuLocked } : {}),
      protocol: body[5]! !== 0 ? body[5]! : RTPROT_BOOT,
    },
    oif !== undefined && oif !== 0 ? oif : undefined,
    (flags & NLM_F_REPLACE) !== 0 && (flags & NLM_F_EXCL) === 0,
  );
  if (r === undefined) return undefined;
  // fib_check_nh_v4_gw says why; IPv6 (ip6_validate_gw) answers EHOSTUNREACH without a word.
  if (r === E.ENETUNREACH) return v6 ? fail(E.EHOSTUNREACH) : fail(r, 'Nexthop has invalid gateway');
  return fail(r);
}

/** RTAX_MTU of a nested RTA_METRICS, if any, and RTAX_LOCK's bit for it (`mtu lock N`). */
function routeMtu(metrics: Uint8Array | undefined): { mtu: number | undefined; mtuLocked: boolean } {
  if (metrics === undefined) return { mtu: undefined, mtuLocked: false };
  const tb = netlinkAttrs(metrics, 0);
  const m = tb.get(RTAX_MTU);
  const lock = tb.get(RTAX_LOCK);
  return {
    mtu: m !== undefined && m.length >= 4 ? u32(m) : undefined,
    mtuLocked: lock !== undefined && lock.length >= 4 && (u32(lock) & (1 << RTAX_MTU)) !== 0,
  };
}

/**
 * How a link's settings change (`ip link set`); a link without it answers EOPNOTSUPP to every
 * change. Its range is the device's (dev->min_mtu, dev->max_mtu): Linux's EINVAL outside it.
 */
export interface LinkControl {
  /** The link's IFF_* flags as rtnetlink shows them (with IFF_RUNNING and IFF_LOWER_UP while up). */
  readonly flags: number;
  /**
   * The IFF_* bits of IFF_CHANGEABLE whose change the link takes; a request that changes
   * another answers EOPNOTSUPP (what Linux does there is not modelled).
   */
  readonly changeableFlags: number;
  /**
   * Sets the link's flags to `flags` (the bits of `changeableFlags` that differ; IFF_UP takes
   * the link down or up), once changeLinkFlags checked them.
   */
  setFlags(flags: number): void;
  /** The transmit queue length (dev->tx_queue_len). */
  readonly txQueueLen: number;
  /** How often the link's carrier came and went (IFLA_CARRIER_UP_COUNT, _DOWN_COUNT). */
  readonly carrierChanges?: { readonly ups: number; readonly downs: number };
  /** Sets the transmit queue length (any u32: the sandbox's links have no queue it limits). */
  setTxQueueLen(len: number): undefined | LinuxError;
  /** The smallest MTU the device takes (0 for lo). */
  readonly minMtu: number;
  /** The largest MTU the device takes; undefined for none (lo). */
  readonly maxMtu: number | undefined;
  /**
   * Sets the MTU, once it is in the device's range. EOPNOTSUPP for an MTU Linux takes but the
   * sandbox does not model (below IPv6's 1280, where Linux takes IPv6, or below 68 IPv4 too, off
   * the link; above what its stack carries).
   */
  setMtu(mtu: number): undefined | LinuxError;
}

/** struct ifinfomsg's size. */
const IFINFOMSG_LEN = 16;
const IFLA_IFNAME = 3;
const IFLA_MTU = 4;
const IFLA_TXQLEN = 13;
const IFF_UP = 0x1;
const IFF_BROADCAST = 0x2;
const IFF_POINTOPOINT = 0x10;
const IFF_RUNNING = 0x40;
const IFF_NOARP = 0x80;
const IFF_PROMISC = 0x100;
const IFF_ALLMULTI = 0x200;
const IFF_MASTER = 0x400;
const IFF_SLAVE = 0x800;
const IFF_MULTICAST = 0x1000;
const IFF_LOWER_UP = 0x10000;
/**
 * The IFF_* bits dev_change_flags lets a request change: IFF_UP, IFF_DEBUG, IFF_NOTRAILERS,
 * IFF_NOARP, IFF_PROMISC, IFF_ALLMULTI, IFF_MASTER, IFF_SLAVE, IFF_MULTICAST, IFF_PORTSEL,
 * IFF_AUTOMEDIA, IFF_DYNAMIC.
 */
const IFF_CHANGEABLE =
  0x1 | 0x4 | 0x20 | 0x80 | 0x100 | 0x200 | 0x400 | 0x800 | 0x1000 | 0x2000 | 0x4000 | 0x8000;
/**
 * The bits __dev_change_flags keeps of a request besides IFF_UP: IFF_DEBUG, IFF_NOTRAILERS,
 * IFF_NOARP, IFF_DYNAMIC, IFF_MULTICAST, IFF_PORTSEL, IFF_AUTOMEDIA, and IFF_PROMISC and
 * IFF_ALLMULTI (through dev->gflags). IFF_MASTER and IFF_SLAVE it takes and drops.
 */
const IFF_KEPT =
  0x4 | 0x20 | IFF_NOARP | 0x8000 | IFF_MULTICAST | 0x2000 | 0x4000 | IFF_PROMISC | IFF_ALLMULTI;

/**
 * Checks `flags`, the whole IFF_* word a request wants for `link` (SIOCSIFFLAGS, or ifi_flags
 * combined with the link's under ifi_change), and sets it, as dev_change_flags does: bits
 * outside IFF_CHANGEABLE are ignored; a change the link cannot make answers EOPNOTSUPP.
 */
export function changeLinkFlags(link: LinkInfo, flags: number): undefined | LinuxError {
  const r = checkLinkFlags(link, flags);
  if (r !== undefined) return r;
  if (((flags ^ link.flags) & IFF_CHANGEABLE & ~(IFF_MASTER | IFF_SLAVE)) !== 0)
    link.linkControl!.setFlags(flags);
  return undefined;
}

/** changeLinkFlags's check, before anything changes. */
function checkLinkFlags(link: LinkInfo, flags: number): undefined | LinuxError {
  const changed = (flags ^ link.flags) & IFF_CHANGEABLE & ~(IFF_MASTER | IFF_SLAVE);
  if (changed === 0) return undefined;
  const control = link.linkControl;
  if (!control || (changed & ~control.changeableFlags) !== 0) return E.EOPNOTSUPP;
  return undefined;
}

/**
 * RTM_NEWLINK (without NLM_F_CREATE, or on an existing link) and RTM_SETLINK: the link by
 * ifi_index, else by IFLA_IFNAME (rtnl_newlink, rtnl_setlink), then do_setlink with IFLA_MTU,
 * ifi_flags/ifi_change (changeLinkFlags) and IFLA_TXQLEN. A flag change the link cannot make
 * (eth0 down), a new name, any other attribute and creating a link answer EOPNOTSUPP: the
 * sandbox's links are fixed. A request is checked whole before anything changes.
 */
function linkChange(
  links: readonly LinkInfo[],
  type: number,
  flags: number,
  body: Uint8Array,
): ChangeResult | undefined {
  if (body.length < IFINFOMSG_LEN) return fail(E.EINVAL, 'Invalid header length');
  const dv = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const index = dv.getInt32(4, true);
  const ifiFlags = dv.getUint32(8, true);
  const ifiChange = dv.getUint32(12, true);
  const policyError = checkPolicy(body, IFINFOMSG_LEN, IFLA_POLICY, false);
  if (policyError) return policyError;
  const tb = netlinkAttrs(body, IFINFOMSG_LEN);
  const nameAttr = tb.get(IFLA_IFNAME);
  const mtuAttr = tb.get(IFLA_MTU);
  let link: LinkInfo | undefined;
  if (index > 0) link = links.find((l) => l.index === index);
  else if (index < 0 && type === RTM_NEWLINK) return fail(E.EINVAL, "ifindex can't be negative");
  else if (nameAttr !== undefined) link = links.find((l) => l.name === cString(nameAttr));
  // rtnl_setlink needs a link named; rtnl_newlink without one would create (or change a group).
  else if (type === RTM_SETLINK) return fail(E.EINVAL);
  if (!link) {
    // rtnl_newlink: the sandbox has no link types to make one of, as Linux without the kind's module.
    if (type === RTM_NEWLINK && (flags & NLM_F_CREATE) !== 0)
      return fail(E.EOPNOTSUPP, 'Unknown device type');
    return fail(E.ENODEV);
  }
  if (type === RTM_NEWLINK) {
    if ((flags & NLM_F_EXCL) !== 0) return fail(E.EEXIST);
    if ((flags & NLM_F_REPLACE) !== 0) return fail(E.EOPNOTSUPP);
  }
  for (const t of tb.keys())
    if (t !== IFLA_IFNAME && t !== IFLA_MTU && t !== IFLA_TXQLEN) return fail(E.EOPNOTSUPP);
  // dev_change_tx_queue_len takes any u32.
  const txqAttr = tb.get(IFLA_TXQLEN);
  const txq = txqAttr !== undefined ? u32(txqAttr) : undefined;
  if (txq !== undefined && txq !== (link.txQueueLen ?? 1000) && !link.linkControl) return fail(E.EOPNOTSUPP);
  // A name given with an ifindex renames the link (dev_change_name): the same name is no change.
  if (index > 0 && nameAttr !== undefined && cString(nameAttr) !== link.name) return fail(E.EOPNOTSUPP);
  let mtu: number | undefined;
  if (mtuAttr !== undefined) {
    // dev_set_mtu_ext: the same MTU is no change; else dev_validate_mtu, on an int.
    const want = u32(mtuAttr) | 0;
    if (want !== link.mtu) {
      const control = link.linkControl;
      if (want < 0 || want < (control?.minMtu ?? 0)) return fail(E.EINVAL, 'mtu less than device minimum');
      if (control?.maxMtu !== undefined && want > control.maxMtu)
        return fail(E.EINVAL, 'mtu greater than device maximum');
      if (!control) return fail(E.EOPNOTSUPP);
      mtu = want;
    }
  }
  let wanted: number | undefined;
  if (ifiFlags !== 0 || ifiChange !== 0) {
    // rtnl_dev_combine_flags: ifi_change 0 stands for every bit ("bugwards compatibility").
    const change = ifiChange === 0 ? 0xffffffff : ifiChange;
    wanted = ((ifiFlags & change) | (link.flags & ~change)) >>> 0;
    const r = checkLinkFlags(link, wanted);
    if (r !== undefined) return fail(r);
  }
  // do_setlink's order: the MTU, the flags, then the queue length.
  if (mtu !== undefined) {
    const r = link.linkControl!.setMtu(mtu);
    if (r !== undefined) return fail(r);
  }
  if (wanted !== undefined) changeLinkFlags(link, wanted);
  if (txq !== undefined && txq !== (link.txQueueLen ?? 1000)) {
    const r = link.linkControl!.setTxQueueLen(txq);
    if (r !== undefined) return fail(r);
  }
  return undefined;
}

/** What a link of a netstack stack keeps that netstack does not: its flags and queue length. */
interface LinkSettings {
  /** dev->flags without IFF_UP (which is the stack's). */
  flags: number;
  txQueueLen: number;
  /** A device's carrier changes: a veth starts without carrier and gains it when set up. */
  carrier?: { ups: number; downs: number };
}

/** The settings of each stack's lo and device; on a loopback device, lo is the device. */
const linkSettings = new WeakMap<Stack, { lo: LinkSettings; device: LinkSettings }>();

/** The IFF_* bits a device (not lo) may change besides IFF_UP: it keeps ARP and multicast. */
const DEVICE_CHANGEABLE = IFF_CHANGEABLE & ~(IFF_UP | IFF_NOARP | IFF_MULTICAST);

/**
 * The LinkControl of lo (`loopback`) or the device of a netstack stack: the MTU range of Linux's
 * lo (0, no maximum) or of an Ethernet device (68 to the device's MTU), set through
 * Stack.setMtu; lo goes down and up through Stack.setLoopbackUp, the device through
 * Stack.setDeviceUp (EOPNOTSUPP for a device with SLAAC); IFF_PROMISC, IFF_ALLMULTI, IFF_DEBUG
 * and the other bits Linux keeps are kept and shown (nothing in the stack depends on them; an
 * Ethernet device's IFF_NOARP and IFF_MULTICAST, which would, answer EOPNOTSUPP); the queue
 * length and the device's carrier changes are kept and shown. The settings live with the stack:
 * each call gives a snapshot of them and of the stack's link state.
 */
export function stackLinkControl(stack: Stack, loopback: boolean): LinkControl {
  const lo = loopback || stack.device.capabilities.loopback === true;
  let both = linkSettings.get(stack);
  if (!both) {
    const loSettings = { flags: IFF_LOOPBACK, txQueueLen: 1000 };
    // What `ip link` shows of a veth (Ethernet) or a TUN device (IP).
    const base =
      stack.device.capabilities.medium === 'ethernet'
        ? IFF_BROADCAST | IFF_MULTICAST
        : IFF_POINTOPOINT | IFF_NOARP | IFF_MULTICAST;
    both = {
      lo: loSettings,
      device:
        stack.device.capabilities.loopback === true
          ? loSettings
          : { flags: base, txQueueLen: 1000, carrier: { ups: 1, downs: 1 } },
    };
    linkSettings.set(stack, both);
  }
  const settings = loopback ? both.lo : both.device;
  const up = lo ? stack.loopbackUp : stack.deviceUp;
  return {
    flags: (settings.flags | (up ? IFF_UP | IFF_RUNNING | IFF_LOWER_UP : 0)) >>> 0,
    // Down and up on a device with SLAAC is not modelled (Stack.setDeviceUp).
    changeableFlags: lo ? IFF_CHANGEABLE : DEVICE_CHANGEABLE | (stack.deviceHasSlaac ? 0 : IFF_UP),
    setFlags: (flags) => {
      settings.flags = ((flags & IFF_KEPT) | (settings.flags & ~IFF_KEPT)) >>> 0;
      const wantUp = (flags & IFF_UP) !== 0;
      if (lo) stack.setLoopbackUp(wantUp);
      else if (wantUp !== stack.deviceUp && stack.setDeviceUp(wantUp) === undefined && settings.carrier) {
        // The carrier follows a device's state (lo's never changes).
        if (wantUp) settings.carrier.ups++;
        else settings.carrier.downs++;
      }
    },
    txQueueLen: settings.txQueueLen,
    ...(settings.carrier ? { carrierChanges: { ...settings.carrier } } : {}),
    setTxQueueLen: (len) => {
      settings.txQueueLen = len >>> 0;
      return undefined;
    },
    minMtu: lo ? 0 : ETH_MIN_MTU,
    maxMtu: lo ? undefined : stack.maxMtu(false),
    setMtu: (mtu) => {
      if (mtu < IPV6_MIN_MTU || mtu > stack.maxMtu(loopback)) return E.EOPNOTSUPP;
      return stack.setMtu(loopback, mtu);
    },
  };
}
