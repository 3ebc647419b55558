/**
 * ICMP rate limiting as Linux 6.18 does it (net/ipv4/icmp.c, net/ipv6/icmp.c, net/ipv4/inetpeer.c).
 * Two limits, applied to the message types of a ratemask only:
 *
 * - a global token bucket of the network namespace, shared by ICMPv4 and ICMPv6
 *   (icmp_global_allow / icmp_global_consume): up to net.ipv4.icmp_msgs_burst credits, refilled
 *   at net.ipv4.icmp_msgs_per_sec once they are used up and at least 20 ms (HZ / 50) have
 *   passed since the last refill; each message sent takes a random 0, 1 or 2 credits. It is not
 *   asked for an error about a packet that came in on a loopback device (__icmp_send,
 *   icmp6_send, icmpv6_echo_reply), but it is for an ICMPv4 echo or timestamp reply (icmp_reply);
 * - a token bucket per destination address (inet_peer_xrlim_allow): one message per
 *   net.ipv4.icmp_ratelimit or net.ipv6.icmp.ratelimit, after a burst of six; none when the
 *   message leaves by a loopback device (icmpv4_xrlim_allow, icmpv6_xrlim_allow). It is asked
 *   only when the global limit was (apply_ratelimit), and a message it lets through takes the
 *   global credits.
 *
 * The ratemasks: net.ipv4.icmp_ratemask (0x1818: destination unreachable, source quench, time
 * exceeded, parameter problem), with fragmentation needed never limited (path MTU discovery);
 * net.ipv6.icmp.ratemask (types 0-1 and 3-127: every error but packet too big). A suppressed
 * message counts in Icmp OutRateLimitGlobal (for both versions) or Icmp OutRateLimitHost /
 * Icmp6OutRateLimitHost.
 *
 * Time is the poll clock in milliseconds, counted in jiffies of Linux's HZ 250 (what this
 * machine's kernel uses, and what the ms sysctls are rounded to). No hidden clock: every check
 * takes `now`. The random cost is drawn from a function the caller gives.
 *
 * @module
 */
import type { IpAddress } from '../wire/ip-address.js';
import type { IcmpMib } from '../stats/mib.js';

/** Linux's HZ on the kernels tsvisor is compared with (CONFIG_HZ_250). */
export const HZ = 250;

/** inet_peer_xrlim_allow lets a peer save up six messages' worth of tokens (XRLIM_BURST_FACTOR). */
const XRLIM_BURST_FACTOR = 6;

/** How far back a new inet_peer's rate_last starts (inet_getpeer: 60 * HZ), so it starts full. */
const PEER_FRESH_JIFFIES = 60 * HZ;

/** Peers kept before the idle ones are swept (Linux's inet_peer_threshold is 65536 + 128). */
const PEER_SWEEP_AT = 4096;
/** Peers kept at most: past this the oldest go, as inet_peer's garbage collection would. */
const PEER_MAX = 65536;

/** ICMPv4 types and codes the limiter treats apart. */
const ICMP_DEST_UNREACH = 3;
const ICMP_FRAG_NEEDED = 4;
/** NR_ICMP_TYPES: types above it are never limited. */
const NR_ICMP_TYPES = 18;

/** The net.ipv4 sysctls of the limits (milliseconds are whole jiffies of HZ 250). */
export interface Icmp4RateSysctl {
  /** icmp_ratelimit (ms, Linux: 1000): the per-destination interval; 0 turns that limit off. */
  icmpRatelimit: number;
  /** icmp_ratemask (Linux: 0x1818): bit N set limits ICMP type N. */
  icmpRatemask: number;
  /** icmp_msgs_per_sec (Linux: 1000): the global refill rate. */
  icmpMsgsPerSec: number;
  /** icmp_msgs_burst (Linux: 50): the global bucket's size. */
  icmpMsgsBurst: number;
}

/** The net.ipv6.icmp sysctls of the per-destination limit. */
export interface Icmp6RateSysctl {
  /** icmp/ratelimit (ms, Linux 6.18: 100): the per-destination interval; 0 turns it off. */
  icmpRatelimit: number;
  /** icmp/ratemask (Linux: 0-1,3-127): the ICMPv6 types limited. */
  icmpRatemask: ReadonlySet<number>;
}

/** Linux's net.ipv4 values in a fresh namespace. */
export function defaultIcmp4RateSysctl(): Icmp4RateSysctl {
  return { icmpRatelimit: 1000, icmpRatemask: 0x1818, icmpMsgsPerSec: 1000, icmpMsgsBurst: 50 };
}

/** Linux's net.ipv6.icmp.ratemask in a fresh namespace: every type up to 127 but packet too big. */
export function defaultIcmp6Ratemask(): Set<number> {
  const mask = new Set<number>();
  for (let t = 0; t <= 127; t++) if (t !== 2) mask.add(t);
  return mask;
}

/** The poll clock's `now` (ms) in jiffies. */
export function jiffies(now: number): number {
  return Math.floor((now * HZ) / 1000);
}

/** msecs_to_jiffies: milliseconds to whole jiffies, rounded up. */
function msToJiffies(ms: number): number {
  return ms <= 0 ? 0 : Math.ceil((ms * HZ) / 1000);
}

/** get_random_u32_below(3) from 32 random bits: 0, 1 or 2, evenly. */
export function randomCost(randomBytes: (n: number) => Uint8Array): () => number {
  return () => {
    const b = randomBytes(4);
    const u32 = ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
    return Math.floor((u32 * 3) / 2 ** 32);
  };
}

/** One destination's tokens (struct inet_peer's rate_tokens and rate_last), in jiffies. */
interface Peer {
  tokens: number;
  last: number;
}

/** What the limiter decided about one message. */
export type IcmpLimitVerdict = 'send' | 'global' | 'host';

/**
 * Where a message comes from and goes, as the limits look at it: whether the packet it answers
 * came in on a loopback device (skb->dev; for an error raised on the way out, the device the
 * datagram was leaving by), and whether the message itself leaves by one (its route's device).
 */
export interface IcmpPath {
  readonly inLoopback: boolean;
  readonly outLoopback: boolean;
}

/**
 * The ICMP rate limits of one network namespace. `check4` and `check6` answer whether a message
 * may go and count a suppressed one in the MIB; a message they let through has been charged.
 *
 * @example
 * ```ts
 * const mib = new NetMib();
 * const sysctl6 = { icmpRatelimit: 100, icmpRatemask: defaultIcmp6Ratemask() };
 * const limit = new IcmpRateLimiter(defaultIcmp4RateSysctl(), sysctl6, mib.icmp, mib.icmp6, () => 1);
 * const peer = Ipv4Address.parse('10.0.0.2')!;
 * const path = { inLoopback: false, outLoopback: false };
 * limit.check4(0, 3, 3, peer, path); // 'send': port unreachable, the first of six
 * ```
 */
export class IcmpRateLimiter {
  /** icmp_global_credit: may go below 0, since the cost is drawn after the check. */
  private credit = 0;
  /** icmp_global_stamp in jiffies; undefined until the first refill (Linux's 0, long ago). */
  private stamp: number | undefined = undefined;
  private readonly peers4 = new Map<string, Peer>();
  private readonly peers6 = new Map<string, Peer>();

  constructor(
    private readonly sysctl4: Icmp4RateSysctl,
    private readonly sysctl6: Icmp6RateSysctl,
    private readonly mib4: IcmpMib,
    private readonly mib6: IcmpMib,
    /** get_random_u32_below(3): the credits one message takes. */
    private readonly cost: () => number,
  ) {}

  /** The global credits left (icmp_global_credit), for tests and diagnostics. */
  get globalCredit(): number {
    return this.credit;
  }

  /**
   * May an ICMPv4 message of `type`/`code` go to `to` at `now` (__icmp_send, icmp_reply)?
   * `path.inLoopback` exempts it from the global limit when it is an error (`reply` false);
   * a reply (echo, timestamp) is always asked.
   */
  check4(
    now: number,
    type: number,
    code: number,
    to: IpAddress,
    path: IcmpPath,
    reply = false,
  ): IcmpLimitVerdict {
    let apply = false;
    if ((reply || !path.inLoopback) && this.limited4(type, code)) {
      if (!this.globalAllow(now)) {
        this.mib4.OutRateLimitGlobal++;
        return 'global';
      }
      apply = true;
    }
    return this.xrlim(now, apply, this.peers4, to, this.sysctl4.icmpRatelimit, path, this.mib4);
  }

  /** May an ICMPv6 message of `type` go to `to` at `now` (icmp6_send, icmpv6_echo_reply)? */
  check6(now: number, type: number, to: IpAddress, path: IcmpPath): IcmpLimitVerdict {
    let apply = false;
    if (!path.inLoopback && this.sysctl6.icmpRatemask.has(type)) {
      if (!this.globalAllow(now)) {
        // icmpv6_global_allow counts in the IPv4 MIB: the bucket is the namespace's.
        this.mib4.OutRateLimitGlobal++;
        return 'global';
      }
      apply = true;
    }
    return this.xrlim(now, apply, this.peers6, to, this.sysctl6.icmpRatelimit, path, this.mib6);
  }

  /** icmpv4_mask_allow, negated: whether the ratemask limits this type (frag needed never). */
  private limited4(type: number, code: number): boolean {
    if (type > NR_ICMP_TYPES) return false;
    if (type === ICMP_DEST_UNREACH && code === ICMP_FRAG_NEEDED) return false;
    return ((1 << type) & this.sysctl4.icmpRatemask) !== 0;
  }

  /** icmp_global_allow: credit left, or a refill due. */
  private globalAllow(now: number): boolean {
    if (this.credit > 0) return true;
    const j = jiffies(now);
    const delta = this.stamp === undefined ? HZ : Math.min(Math.max(j - this.stamp, 0), HZ);
    if (delta < Math.floor(HZ / 50)) return false;
    const incr = Math.floor((this.sysctl4.icmpMsgsPerSec * delta) / HZ);
    if (incr === 0) return false;
    this.stamp = j;
    this.credit = Math.min(this.credit + incr, this.sysctl4.icmpMsgsBurst);
    return true;
  }

  /** icmpv4_xrlim_allow / icmpv6_xrlim_allow: the per-destination bucket, then the global charge. */
  private xrlim(
    now: number,
    apply: boolean,
    peers: Map<string, Peer>,
    to: IpAddress,
    intervalMs: number,
    path: IcmpPath,
    mib: IcmpMib,
  ): IcmpLimitVerdict {
    if (!apply) return 'send';
    const timeout = msToJiffies(intervalMs);
    if (timeout > 0 && !path.outLoopback && !this.peerAllow(jiffies(now), peers, to, timeout)) {
      mib.OutRateLimitHost++;
      return 'host';
    }
    // icmp_global_consume: the credits may go below zero.
    this.credit -= this.cost();
    return 'send';
  }

  /** inet_peer_xrlim_allow on the peer of `to` (a new one starts 60 s in the past: full). */
  private peerAllow(j: number, peers: Map<string, Peer>, to: IpAddress, timeout: number): boolean {
    const key = to.toString();
    let peer = peers.get(key);
    if (peer === undefined) {
      if (peers.size >= PEER_SWEEP_AT) sweep(peers, j, timeout);
      peer = { tokens: 0, last: j - PEER_FRESH_JIFFIES };
      peers.set(key, peer);
    }
    let token = peer.tokens;
    const delta = j - peer.last;
    if (delta > 0) {
      peer.last = j;
      token = Math.min(token + delta, XRLIM_BURST_FACTOR * timeout);
    }
    let ok = false;
    if (token >= timeout) {
      token -= timeout;
      ok = true;
    }
    peer.tokens = token;
    return ok;
  }
}

/**
 * Forgets peers idle long enough to be full again (a new one starts full, so nothing changes for
 * intervals up to 10 s); if that leaves too many, the oldest, as inet_peer's collector would.
 */
function sweep(peers: Map<string, Peer>, j: number, timeout: number): void {
  const full = XRLIM_BURST_FACTOR * timeout;
  for (const [key, p] of peers) if (j - p.last + p.tokens >= full) peers.delete(key);
  for (const key of peers.keys()) {
    if (peers.size < PEER_MAX) break;
    peers.delete(key);
  }
}
