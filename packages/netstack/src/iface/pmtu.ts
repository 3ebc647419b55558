/**
 * Path MTU discovery's memory: the MTU that ICMP fragmentation-needed and ICMPv6 packet-too-big
 * messages report for a destination, kept per destination address as Linux keeps a route
 * exception (the fib nexthop exception of __ip_rt_update_pmtu, the rt6 exception of
 * __ip6_rt_update_pmtu) until it expires (net.ipv4.route.mtu_expires for IPv4,
 * net.ipv6.route.mtu_expires for IPv6, read when a report is learnt). The stack's routes give the
 * MTU it may lower, never raise.
 *
 * @module
 */
import { PmtuDisc } from '../socket/ip-options.js';
import { Icmpv4Type, Icmpv4Unreachable } from '../wire/icmpv4.js';
import { Icmpv6Type } from '../wire/icmpv6.js';
import type { IpAddress } from '../wire/ip-address.js';
import type { IcmpErrorReport } from './interface.js';

/** IPv6's minimum link MTU (RFC 8200): a packet-too-big below it teaches nothing. */
const IPV6_MIN_PMTU = 1280;
/** Linux's net.ipv4.route.mtu_expires and IPv6's ip6_rt_mtu_expires: 600 s, in ms. */
export const PMTU_EXPIRES = 600_000;

/** The net.ipv4.route and net.ipv6.route sysctls a {@link PathMtuCache} reads as reports come. */
export interface PmtuSysctl {
  /**
   * net.ipv4.route.min_pmtu (Linux: 552): an IPv4 report below it is raised to it, and the MTU
   * locked.
   */
  readonly minPmtu: number;
  /**
   * net.ipv4.route.mtu_expires (s, Linux: 600): how long an IPv4 path MTU is kept; 0 or less
   * forgets it at once.
   */
  readonly mtuExpires: number;
  /** net.ipv6.route.mtu_expires (s, Linux: 600): the same for an IPv6 path MTU. */
  readonly mtuExpires6: number;
}

/** The MTU a fragmentation-needed or packet-too-big message reports; undefined for other errors. */
export function reportedMtu(r: IcmpErrorReport): number | undefined {
  if (r.version === 4)
    return r.type === Icmpv4Type.DEST_UNREACHABLE && r.code === Icmpv4Unreachable.FRAG_NEEDED
      ? r.info
      : undefined;
  return r.type === Icmpv6Type.PACKET_TOO_BIG ? r.info : undefined;
}

/**
 * ip_sk_accept_pmtu / ip6_sk_accept_pmtu: a socket under IP(V6)_PMTUDISC_INTERFACE or _OMIT
 * takes no path MTU from the ICMP errors about what it sent.
 */
export function acceptsPmtu(pmtuDisc6: number): boolean {
  return pmtuDisc6 !== PmtuDisc.INTERFACE && pmtuDisc6 !== PmtuDisc.OMIT;
}

/** One learnt path MTU. */
interface PathMtu {
  readonly mtu: number;
  /**
   * Locked: an IPv4 report below min_pmtu was raised to it (rt_mtu_locked), so later reports
   * change nothing until it expires, and `ip route get` shows "mtu lock".
   */
  readonly locked: boolean;
  /** When it is forgotten (the poll clock, ms). */
  readonly expires: number;
}

/** The path MTUs learnt from ICMP errors, by destination. */
export class PathMtuCache {
  private readonly byDst = new Map<string, PathMtu>();

  /** @param sysctl the stack's current min_pmtu and mtu_expires. */
  constructor(private readonly sysctl: () => PmtuSysctl) {}

  /** How many destinations have one (expired ones included until they are looked up). */
  get size(): number {
    return this.byDst.size;
  }

  /** The learnt MTU to `dst` at `now`, if one is held and has not expired. */
  get(dst: IpAddress, now: number): PathMtu | undefined {
    const p = this.byDst.get(dst.key);
    if (p === undefined || p.expires > now) return p;
    this.byDst.delete(dst.key);
    return undefined;
  }

  /**
   * __ip_rt_update_pmtu / __ip6_rt_update_pmtu: a message reports `reported` as the MTU to
   * `dst`, whose path MTU is `current` (the route's, or what was learnt before). A report above
   * it is ignored; so is an IPv4 report while the MTU is locked (`routeLocked`, the route's
   * `mtu lock`, or a locked learnt one: ip_mtu_locked), not an IPv6 one (path MTU discovery is
   * not optional there: __ip6_rt_update_pmtu leaves the lock alone). IPv4 raises one below
   * min_pmtu to it (never above `current`) and locks it (then datagrams there go without DF
   * under IP_PMTUDISC_WANT: Stack.mtuLocked); IPv6 ignores one below 1280.
   */
  learn(dst: IpAddress, reported: number, current: number, now: number, routeLocked = false): void {
    if (dst.version === 4 && (routeLocked || this.get(dst, now)?.locked === true)) return;
    if (reported > current) return;
    if (dst.version === 6 && (reported < IPV6_MIN_PMTU || reported === current)) return;
    const { minPmtu, mtuExpires, mtuExpires6 } = this.sysctl();
    const locked = dst.version === 4 && reported < minPmtu;
    const mtu = locked ? Math.min(current, minPmtu) : reported;
    const lifetime = (dst.version === 4 ? mtuExpires : mtuExpires6) * 1000;
    this.byDst.set(dst.key, { mtu, locked, expires: now + lifetime });
  }
}
