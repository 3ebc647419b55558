/**
 * IPv6 stateless address autoconfiguration (RFC 4862) and default routers from router
 * advertisements (RFC 4861 §6.3.4), for an Ethernet interface, as a Linux host does with
 * accept_ra=1 and autoconf=1:
 *
 * - on start, a router solicitation to all routers (ff02::2), up to 3, 4 s apart, until an
 *   advertisement arrives;
 * - a prefix information option with the A flag and a /64 prefix forms prefix + an interface
 *   identifier chosen by addr_gen_mode: modified EUI-64 of the MAC (`eui64`, and `none`, which
 *   only suppresses the link-local address), or RFC 7217's stable, semantically opaque
 *   identifier (`stable-privacy` with a configured secret, `random` with one drawn per
 *   interface; see interface-id.ts). The address is tentative while duplicate address
 *   detection runs (dad_transmits neighbor solicitations from ::, 1 by default, with enhanced
 *   DAD's nonce unless enhanced_dad is off, each followed by RetransTimer, 1 s unless the router
 *   says otherwise), and joins the interface only if no one claimed it (its own solicitation
 *   looped back by the link, nonce and all, is no claim). A stable address that DAD finds in
 *   use is formed again with the next DAD counter, idgen_delay (1 s) later, up to
 *   idgen_retries (3) times, as Linux's `addrconf_dad_failure` does (see {@link Ipv6Sysctl});
 * - temporary addresses (RFC 8981, Linux use_tempaddr >= 1): with each new public address, one
 *   with a random identifier, valid for at most temp_valid_lft (7 days) and preferred for at most
 *   temp_prefered_lft (1 day) minus a per-interface DESYNC_FACTOR (random below
 *   max_desync_factor, 600 s), never longer than its public address; REGEN_ADVANCE
 *   (regen_min_advance 2 s + regen_max_retry 3 x DupAddrDetectTransmits 1 x RetransTimer) before
 *   it is deprecated a successor is made; a duplicate one is replaced, and after regen_max_retry
 *   attempts in a row temporary addresses are turned off for the interface (Linux sets
 *   use_tempaddr to -1). With use_tempaddr=2 they are preferred as sources (RFC 6724 rule 7);
 * - lifetimes: the preferred and valid lifetimes follow later advertisements with §5.5.3's
 *   two-hour rule against a forged short lifetime; an address whose preferred lifetime ended is
 *   deprecated (kept, but avoided as a source: RFC 6724 rule 3); when the valid lifetime ends
 *   the address goes; a router lifetime makes the sender a default router until it ends;
 * - max_addresses (16) bounds the public addresses formed (Linux does not apply it to
 *   temporary ones).
 *
 * Differences from Linux: a later advertisement for a prefix whose stable address moved to a
 * later DAD counter updates that address (Linux looks the counter-0 address up, misses it and
 * runs DAD on it again); lifetimes are kept in milliseconds, not whole seconds.
 * Not here: on-link-only prefixes (L without A), router preference, optimistic DAD.
 *
 * @module
 */
import { bytesEqual } from '../wire/bytes.js';
import { EthernetAddress } from '../wire/ethernet.js';
import type { PrefixInfo } from '../wire/icmpv6.js';
import { IpCidr, Ipv6Address, type IpAddress } from '../wire/ip-address.js';
import { IDGEN_RETRIES, randomAddress, stableAddress } from './interface-id.js';
import type { Outgoing } from './outgoing.js';
import { defaultIcmp6Ratemask, type Icmp6RateSysctl } from './icmp-limit.js';

/** RFC 4861 §10: host constants, and the RetransTimer default. */
const MAX_RTR_SOLICITATIONS = 3;
const RTR_SOLICITATION_INTERVAL = 4000;
const RETRANS_TIMER = 1000;
/** RFC 4862 §5.5.3 (e): a received valid lifetime may not cut a longer one below two hours. */
const TWO_HOURS = 2 * 3600 * 1000;
/** 0xffffffff seconds: a lifetime without end. */
const INFINITE = 0xffffffff;
const NDP_HOP_LIMIT = 255;
/** The length of enhanced DAD's nonce (RFC 7527 §4.1: six bytes, as Linux sends it). */
const DAD_NONCE_LEN = 6;

/**
 * A nonce for enhanced duplicate address detection (RFC 7527; Linux's addrconf_dad_kick with
 * enhanced_dad 1, its default): random and never all zero, which would mean none.
 */
export function dadNonce(randomBytes: (n: number) => Uint8Array): Uint8Array {
  for (;;) {
    const n = randomBytes(DAD_NONCE_LEN).slice(0, DAD_NONCE_LEN);
    if (n.some((b) => b !== 0)) return n;
  }
}

/**
 * True when a DAD solicitation carried `nonce` and it is `ours`: our own solicitation looped
 * back by the link, not another node's (ndisc_recv_ns: a zero nonce matches nothing).
 */
export function loopedDadSolicit(ours: Uint8Array | undefined, nonce: Uint8Array | undefined): boolean {
  return ours !== undefined && nonce !== undefined && bytesEqual(ours, nonce);
}

/** ff02::2, all routers on the link. */
const ALL_ROUTERS = new Ipv6Address([0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);

/**
 * IFA_F_* address flags (include/uapi/linux/if_addr.h), as /proc/net/if_inet6 (low byte only)
 * and rtnetlink's IFA_FLAGS attribute show them.
 */
export const IfaFlag = {
  TEMPORARY: 0x01,
  NODAD: 0x02,
  OPTIMISTIC: 0x04,
  DADFAILED: 0x08,
  HOMEADDRESS: 0x10,
  DEPRECATED: 0x20,
  TENTATIVE: 0x40,
  PERMANENT: 0x80,
  MANAGETEMPADDR: 0x100,
  NOPREFIXROUTE: 0x200,
  MCAUTOJOIN: 0x400,
  STABLE_PRIVACY: 0x800,
} as const;

/**
 * How interface identifiers are formed (net.ipv6.conf.*.addr_gen_mode): `eui64` (0), `none` (1:
 * no link-local address; autoconfigured ones still use EUI-64), `stable-privacy` (2, RFC 7217
 * with `stableSecret`), `random` (3, RFC 7217 with a secret drawn once per interface unless
 * `stableSecret` is given).
 */
export type AddrGenMode = 'eui64' | 'none' | 'stable-privacy' | 'random';

/** Address generation and privacy settings: Linux's net.ipv6.conf.<dev>.* of the same names. */
export interface AddrconfOptions {
  /** addr_gen_mode (default `eui64`). */
  readonly addrGenMode?: AddrGenMode;
  /** stable_secret: RFC 7217's secret key; required by `stable-privacy`. */
  readonly stableSecret?: Ipv6Address;
  /**
   * The permanent hardware address that stable identifiers hash (Linux: `perm_addr`, what
   * `ethtool -P` shows). Default: the interface's MAC. Linux's veth and tap devices have none
   * (all zeros): pass {@link EthernetAddress.ZERO} to form the addresses Linux forms there.
   */
  readonly permanentAddress?: EthernetAddress;
  /** use_tempaddr: 0 no temporary addresses (default), 1 form them, 2 also prefer them. */
  readonly useTempaddr?: number;
  /** temp_valid_lft in seconds (default 604800, 7 days). */
  readonly tempValidLft?: number;
  /** temp_prefered_lft in seconds (default 86400, 1 day). */
  readonly tempPreferredLft?: number;
  /** max_desync_factor in seconds (default 600). */
  readonly maxDesyncFactor?: number;
  /** regen_max_retry (default 3). */
  readonly regenMaxRetry?: number;
  /** regen_min_advance in seconds (default 2). */
  readonly regenMinAdvance?: number;
  /** max_addresses: the most IPv6 addresses autoconfiguration adds up to; 0 no limit (default 16). */
  readonly maxAddresses?: number;
  /** net.ipv6.idgen_retries (default 3). */
  readonly idgenRetries?: number;
  /** net.ipv6.idgen_delay in seconds (default 1). */
  readonly idgenDelay?: number;
  /**
   * Random bytes for temporary identifiers, DESYNC_FACTOR, `random`'s secret and the delay of
   * duplicate address detection (default: Web Crypto).
   */
  readonly randomBytes?: (n: number) => Uint8Array;
}

/**
 * The net.ipv6.conf.<dev>.* values the stack reads (Linux's ipv6_devconf): duplicate address
 * detection's, and the hop limit, MTU and switch of IPv6 on the link.
 */
export interface Ipv6DevConf {
  /**
   * dad_transmits (Linux: 1): the solicitations of a DAD run, read when the run starts and kept
   * in a byte, as ifp->dad_probes keeps it (-1 sends 255, 256 none); with none the address is
   * valid once the run's delay is over.
   */
  dadTransmits: number;
  /**
   * enhanced_dad (Linux: 1): DAD solicitations carry a nonce (RFC 7527) when this or `all`'s is
   * not 0; without one, the link looping ours back looks like another node's DAD.
   */
  enhancedDad: number;
  /**
   * hop_limit (Linux: 64, 1..255): the hop limit of packets out of the link from sockets that
   * leave IPV6_UNICAST_HOPS unset, and of the stack's own echo replies and errors, read per
   * packet (ip6_dst_hoplimit); `all`'s is what getsockopt shows for a socket without a route.
   */
  hopLimit: number;
  /**
   * mtu (Linux: the link's MTU; `all` and `default` 1280 and unused): the IPv6 MTU of the link,
   * at least 1280 and at most the link's MTU, which a change of the link's MTU sets again
   * (Stack.setIpv6Mtu, Stack.setMtu).
   */
  mtu: number;
  /**
   * disable_ipv6 (Linux: 0): not 0 takes the link's IPv6 addresses away and keeps them away
   * (Stack.setDisableIpv6).
   */
  disableIpv6: number;
}

/**
 * The IPv6 sysctls the stack reads as it runs (what /proc/sys/net/ipv6 sets):
 * net.ipv6.idgen_retries and idgen_delay, icmp/echo_ignore_all and echo_ignore_multicast,
 * icmp/ratelimit and ratemask (icmp-limit.ts), route/mtu_expires, and net.ipv6.conf.<dev> for
 * `device` and `lo` beside `all` and `default`.
 * As on Linux, `all`'s dad_transmits, hop_limit and mtu change no device and `default` only seeds
 * devices made later (a stack makes none); `all`'s enhanced_dad turns nonces on everywhere, and
 * `all`'s disable_ipv6 is written through to every link (Stack.setDisableIpv6).
 */
export interface Ipv6Sysctl extends Icmp6RateSysctl {
  /** idgen_retries (Linux: 3): how many times a stable address is formed again after conflicts. */
  idgenRetries: number;
  /**
   * idgen_delay in seconds (Linux: 1): how long after a conflict DAD of the next stable address
   * starts. A negative delay is a huge unsigned one for Linux's timer: that DAD never starts.
   */
  idgenDelay: number;
  /** icmp/echo_ignore_all (Linux: 0): no answer to any ICMPv6 echo request (icmpv6_rcv). */
  icmpEchoIgnoreAll: number;
  /**
   * icmp/echo_ignore_multicast (Linux: 0): no answer to an echo request to a multicast group;
   * with 0 it is answered from the address source selection picks (icmpv6_echo_reply).
   */
  icmpEchoIgnoreMulticast: number;
  /**
   * icmp/echo_ignore_anycast (Linux: 0): no answer to an echo request to an anycast address of
   * the host (icmpv6_echo_reply). This stack has none: Linux's come from forwarding (each
   * prefix's subnet-router anycast address, RFC 4291 §2.6.1) or IPV6_JOIN_ANYCAST, and it does
   * neither, so the value is kept and shown but holds no echo back.
   */
  icmpEchoIgnoreAnycast: number;
  /**
   * route/mtu_expires (s, Linux: 600): how long a path MTU a packet-too-big taught lasts, fixed
   * when it is learnt; 0 or less forgets it at once.
   */
  mtuExpires: number;
  readonly conf: {
    readonly all: Ipv6DevConf;
    readonly default: Ipv6DevConf;
    readonly lo: Ipv6DevConf;
    readonly device: Ipv6DevConf;
  };
}

/** Linux's IPv6 sysctls, with idgen_retries and idgen_delay from `o` when it gives them. */
export function newIpv6Sysctl(
  o: { readonly idgenRetries?: number; readonly idgenDelay?: number } = {},
): Ipv6Sysctl {
  const conf = (): Ipv6DevConf => ({
    dadTransmits: 1,
    enhancedDad: 1,
    hopLimit: 64,
    mtu: 1280,
    disableIpv6: 0,
  });
  return {
    idgenRetries: o.idgenRetries ?? IDGEN_RETRIES,
    idgenDelay: o.idgenDelay ?? 1,
    icmpEchoIgnoreAll: 0,
    icmpEchoIgnoreMulticast: 0,
    icmpEchoIgnoreAnycast: 0,
    icmpRatelimit: 100,
    icmpRatemask: defaultIcmp6Ratemask(),
    mtuExpires: 600,
    conf: { all: conf(), default: conf(), lo: conf(), device: conf() },
  };
}

/** When DAD of a stable address formed again at `now` starts (idgen_delay later; never if negative). */
export function idgenStart(now: number, sysctl: Ipv6Sysctl): number {
  return sysctl.idgenDelay < 0 ? Infinity : now + sysctl.idgenDelay * 1000;
}

/**
 * The solicitations and nonce of a DAD run on the device starting now (addrconf_dad_kick): the
 * device's dad_transmits as a byte, and a nonce when enhanced DAD is on.
 */
export function dadKick(
  sysctl: Ipv6Sysctl,
  randomBytes: (n: number) => Uint8Array,
): { probes: number; nonce: Uint8Array | undefined } {
  const { all, device } = sysctl.conf;
  const nonce = device.enhancedDad !== 0 || all.enhancedDad !== 0 ? dadNonce(randomBytes) : undefined;
  return { probes: device.dadTransmits & 0xff, nonce };
}

/** One IPv6 address of an interface with its Linux flags and lifetimes. */
export interface Ipv6AddressInfo {
  readonly cidr: IpCidr;
  /** IFA_F_* bits ({@link IfaFlag}). */
  readonly flags: number;
  /** When the valid lifetime ends (stack clock, ms); Infinity: forever. */
  readonly validUntil: number;
  /** When the preferred lifetime ends (stack clock, ms); Infinity: forever. */
  readonly preferredUntil: number;
}

/** Settings with their defaults applied (see {@link resolveAddrconf}). */
export interface ResolvedAddrconf {
  readonly mode: AddrGenMode;
  /** The RFC 7217 secret of `stable-privacy` and `random`. */
  readonly secret: Ipv6Address | undefined;
  readonly permanentAddress: EthernetAddress;
  readonly useTempaddr: number;
  readonly tempValidLft: number;
  readonly tempPreferredLft: number;
  readonly maxDesyncFactor: number;
  readonly regenMaxRetry: number;
  readonly regenMinAdvance: number;
  readonly maxAddresses: number;
  readonly idgenRetries: number;
  readonly idgenDelay: number;
  readonly randomBytes: (n: number) => Uint8Array;
}

/** `n` random bytes from Web Crypto: what {@link AddrconfOptions.randomBytes} defaults to. */
export function webCryptoBytes(n: number): Uint8Array {
  return globalThis.crypto.getRandomValues(new Uint8Array(n));
}

/**
 * Applies Linux's defaults to `options` for an interface with MAC `mac`. `random` draws its
 * secret here, once. Throws a RangeError for `stable-privacy` without a secret (Linux refuses
 * that addr_gen_mode with EINVAL).
 */
export function resolveAddrconf(
  options: AddrconfOptions | undefined,
  mac: EthernetAddress,
): ResolvedAddrconf {
  const o = options ?? {};
  const mode = o.addrGenMode ?? 'eui64';
  const randomBytes = o.randomBytes ?? webCryptoBytes;
  let secret = o.stableSecret;
  if (mode === 'stable-privacy' && !secret)
    throw new RangeError("addrGenMode 'stable-privacy' needs a stableSecret");
  if (mode === 'random' && !secret) secret = new Ipv6Address(randomBytes(16).subarray(0, 16));
  return {
    mode,
    secret,
    permanentAddress: o.permanentAddress ?? mac,
    useTempaddr: o.useTempaddr ?? 0,
    tempValidLft: o.tempValidLft ?? 604800,
    tempPreferredLft: o.tempPreferredLft ?? 86400,
    maxDesyncFactor: o.maxDesyncFactor ?? 600,
    regenMaxRetry: o.regenMaxRetry ?? 3,
    regenMinAdvance: o.regenMinAdvance ?? 2,
    maxAddresses: o.maxAddresses ?? 16,
    idgenRetries: o.idgenRetries ?? IDGEN_RETRIES,
    idgenDelay: o.idgenDelay ?? 1,
    randomBytes,
  };
}

/** True when `mode` forms RFC 7217 identifiers. */
export function isStableMode(mode: AddrGenMode): boolean {
  return mode === 'stable-privacy' || mode === 'random';
}

/** `prefix` (first 64 bits) + the modified EUI-64 identifier of `mac` (RFC 4291 Appendix A). */
export function eui64Address(prefix: Ipv6Address, mac: EthernetAddress): Ipv6Address {
  const m = mac.bytes;
  const b = new Uint8Array(16);
  b.set(prefix.bytes.subarray(0, 8), 0);
  b.set([m[0]! ^ 0x02, m[1]!, m[2]!, 0xff, 0xfe, m[3]!, m[4]!, m[5]!], 8);
  return new Ipv6Address(b);
}

const LINK_LOCAL_PREFIX = new Ipv6Address([0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);

/**
 * The link-local address Linux gives an Ethernet interface under `cfg` (addrconf_addr_gen):
 * EUI-64, RFC 7217 with fe80:: as the prefix, or none (`none`, or no stable identifier left).
 */
export function linkLocalFor(mac: EthernetAddress, cfg: ResolvedAddrconf): Ipv6Address | undefined {
  if (cfg.mode === 'none') return undefined;
  if (!isStableMode(cfg.mode) || !cfg.secret) return eui64Address(LINK_LOCAL_PREFIX, mac);
  return stableAddress(LINK_LOCAL_PREFIX, cfg.permanentAddress, 0, cfg.secret, cfg.idgenRetries)?.address;
}

/** One autoconfigured address. */
interface AutoAddress {
  readonly addr: Ipv6Address;
  /** The /64 prefix it was formed from. */
  readonly prefix: Ipv6Address;
  readonly temporary: boolean;
  readonly stablePrivacy: boolean;
  /** A public address whose temporary addresses are managed (IFA_F_MANAGETEMPADDR). */
  readonly manageTemp: boolean;
  /** RFC 7217's DAD counter (Linux: stable_privacy_retry). */
  readonly dadCount: number;
  /** Tentative until its DAD run ends with no conflict. */
  tentative: boolean;
  /**
   * The next step of its DAD run: the start (later than creation after a conflict: idgen_delay),
   * a solicitation, or the end once none is left.
   */
  dadAt: number;
  /** Solicitations still to send; undefined until the run starts. */
  dadProbes: number | undefined;
  /** The nonce of its DAD solicitations, drawn when the run starts (none: enhanced DAD off). */
  dadNonce: Uint8Array | undefined;
  validUntil: number;
  preferredUntil: number;
  deprecated: boolean;
  readonly created: number;
  /** A temporary address: the public address it stands in for. */
  pub: AutoAddress | undefined;
  /** A temporary address whose successor was made (Linux: its regen_count is not 0). */
  regenerated: boolean;
  /** A public address: temporary addresses made for it in a row (Linux: ifpub->regen_count). */
  regenCount: number;
}

/** Work found while receiving, done at the next poll (which has the time). */
type Pending =
  | { readonly kind: 'stable-retry'; readonly failed: AutoAddress }
  | { readonly kind: 'temp-retry'; readonly pub: AutoAddress };

/** What autoconfiguration changes on its interface. */
export interface SlaacTarget {
  /** The interface's addresses (autoconfigured ones are added and removed here). */
  readonly addresses: IpCidr[];
  /** The default routers (routers from advertisements are added and removed here). */
  readonly gateways: IpAddress[];
}

/** Stateless autoconfiguration state of one interface. */
export class Slaac {
  private readonly auto: AutoAddress[] = [];
  private readonly routers = new Map<string, { addr: Ipv6Address; until: number }>();
  private readonly pending: Pending[] = [];
  private solicitations = 0;
  private nextSolicit: number | undefined;
  private retransTimer = RETRANS_TIMER;
  /** DESYNC_FACTOR in seconds, drawn with the first temporary address (Linux: idev->desync_factor). */
  private desyncFactor: number | undefined;
  /** Temporary addresses turned off after regen_max_retry failures (Linux: use_tempaddr = -1). */
  private tempDisabled = false;
  private readonly cfg: ResolvedAddrconf;
  private readonly sysctl: Ipv6Sysctl;
  /**
   * Counters for tests: addresses formed (DAD passed), given up because DAD found a duplicate,
   * expired; temporary addresses created; stable addresses formed again with the next DAD
   * counter; router solicitations sent.
   */
  readonly stats = {
    formed: 0,
    duplicates: 0,
    expired: 0,
    temporaries: 0,
    stableRetries: 0,
    routerSolicits: 0,
  };

  /**
   * @param linkLocal the source of router solicitations; without one (addr_gen_mode `none`)
   *   none are sent, as on Linux, but advertisements are still followed.
   * @param cfg address generation settings (default: EUI-64, no temporary addresses).
   * @param sysctl the IPv6 sysctls, read as they are when used (default: Linux's, with `cfg`'s
   *   idgen_retries and idgen_delay).
   */
  constructor(
    private readonly target: SlaacTarget,
    private readonly linkLocal: Ipv6Address | undefined,
    private readonly mac: EthernetAddress,
    cfg?: ResolvedAddrconf,
    sysctl?: Ipv6Sysctl,
  ) {
    this.cfg = cfg ?? resolveAddrconf(undefined, mac);
    this.sysctl = sysctl ?? newIpv6Sysctl(this.cfg);
    this.nextSolicit = linkLocal ? 0 : undefined;
  }

  /** Whether temporary addresses are on (use_tempaddr > 0 and not turned off by failures). */
  get temporaryAddressesEnabled(): boolean {
    return this.cfg.useTempaddr > 0 && !this.tempDisabled;
  }

  /** Sends what is due and applies timers; returns the next deadline. */
  poll(now: number, send: (out: Outgoing) => void): number | undefined {
    let next: number | undefined;
    const at = (t: number | undefined): void => {
      if (t !== undefined && t !== Infinity && (next === undefined || t < next)) next = t;
    };
    for (let p = this.pending.shift(); p; p = this.pending.shift()) {
      if (p.kind === 'temp-retry') this.createTemporary(now, p.pub);
      else this.retryStable(now, p.failed);
    }
    if (this.linkLocal && this.nextSolicit !== undefined && now >= this.nextSolicit) {
      send({
        kind: 'icmpv6',
        src: this.linkLocal,
        dst: ALL_ROUTERS,
        hopLimit: NDP_HOP_LIMIT,
        icmp: { type: 'routerSolicit', sourceLinkAddr: this.mac },
      });
      this.stats.routerSolicits++;
      this.solicitations++;
      this.nextSolicit =
        this.solicitations < MAX_RTR_SOLICITATIONS ? now + RTR_SOLICITATION_INTERVAL : undefined;
    }
    at(this.nextSolicit);
    const regenAdvance = this.regenAdvance();
    // Regeneration appends successors: they are visited too, in a later pass.
    const visited = new Set<AutoAddress>();
    for (let fresh = [...this.auto]; fresh.length > 0; fresh = this.auto.filter((a) => !visited.has(a)))
      for (const a of fresh) {
        visited.add(a);
        at(this.visit(now, a, regenAdvance, send));
      }
    for (const [key, r] of this.routers) {
      if (now >= r.until) {
        this.routers.delete(key);
        const i = this.target.gateways.findIndex((g) => g.version === 6 && g.equals(r.addr));
        if (i >= 0) this.target.gateways.splice(i, 1);
      } else at(r.until);
    }
    return next;
  }

  /** Timers of one address: expiry, DAD, regeneration, deprecation; returns its next deadline. */
  private visit(
    now: number,
    a: AutoAddress,
    regenAdvance: number,
    send: (out: Outgoing) => void,
  ): number | undefined {
    let next: number | undefined;
    const at = (t: number): void => {
      if (t !== Infinity && (next === undefined || t < next)) next = t;
    };
    if (now >= a.validUntil) {
      this.forget(a);
      this.removeAddress(a.addr);
      this.stats.expired++;
      return undefined;
    }
    if (a.tentative && now >= a.dadAt) {
      if (a.dadProbes === undefined) {
        const kick = dadKick(this.sysctl, this.cfg.randomBytes);
        a.dadProbes = kick.probes;
        a.dadNonce = kick.nonce;
      }
      if (a.dadProbes === 0) {
        a.tentative = false;
        this.target.addresses.push(new IpCidr(a.addr, 64));
        this.stats.formed++;
      } else {
        // RFC 4862 §5.4.2: from the unspecified address to the solicited-node group.
        a.dadProbes--;
        a.dadAt = now + this.retransTimer;
        const dst = solicitedNode(a.addr);
        send({
          kind: 'icmpv6',
          src: Ipv6Address.UNSPECIFIED,
          dst,
          hopLimit: NDP_HOP_LIMIT,
          icmp: { type: 'neighborSolicit', target: a.addr, nonce: a.dadNonce },
          linkDst: EthernetAddress.ipv6Multicast(dst),
        });
      }
    }
    if (a.tentative) at(a.dadAt);
    // RFC 8981 §3.4 (Linux addrconf_verify_rtnl): REGEN_ADVANCE before a temporary address is
    // deprecated, its successor is made.
    if (a.temporary && !a.tentative && !a.regenerated && a.pub && this.auto.includes(a.pub)) {
      if (now + regenAdvance >= a.preferredUntil) {
        a.regenerated = true;
        a.pub.regenCount = 0;
        this.createTemporary(now, a.pub);
      } else at(a.preferredUntil - regenAdvance);
    }
    a.deprecated = now >= a.preferredUntil;
    if (!a.deprecated) at(a.preferredUntil);
    at(a.validUntil);
    return next;
  }

  /** A router advertisement from link-local `src` that passed RFC 4861 §6.1.2's checks. */
  onRouterAdvert(
    now: number,
    src: Ipv6Address,
    ra: {
      readonly routerLifetime: number;
      readonly retransTimer: number;
      readonly prefixes: readonly PrefixInfo[];
    },
  ): void {
    this.nextSolicit = undefined; // §6.3.7: a router answered
    if (ra.retransTimer > 0) this.retransTimer = ra.retransTimer;
    const known = this.routers.get(src.key);
    if (ra.routerLifetime > 0) {
      if (!known && !this.target.gateways.some((g) => g.version === 6 && g.equals(src)))
        this.target.gateways.push(src);
      this.routers.set(src.key, { addr: src, until: now + ra.routerLifetime * 1000 });
    } else if (known) this.routers.set(src.key, { addr: src, until: now }); // removed at the next poll
    for (const p of ra.prefixes) this.onPrefix(now, p);
  }

  /** RFC 4862 §5.5.3. */
  private onPrefix(now: number, p: PrefixInfo): void {
    if (!p.autonomous || p.prefix.isLinkLocal() || p.preferredLifetime > p.validLifetime) return;
    if (p.prefixLength !== 64) return; // the interface identifier is 64 bits (RFC 4291)
    const valid = lifetimeEnd(now, p.validLifetime);
    const preferred = lifetimeEnd(now, p.preferredLifetime);
    const prefix = prefixOf(p.prefix);
    const existing = this.auto.find((a) => !a.temporary && a.prefix.equals(prefix));
    if (!existing) {
      if (p.validLifetime === 0) return;
      let addr: Ipv6Address;
      let dadCount = 0;
      const stable = isStableMode(this.cfg.mode) && this.cfg.secret !== undefined;
      if (stable) {
        const s = stableAddress(
          prefix,
          this.cfg.permanentAddress,
          0,
          this.cfg.secret!,
          this.sysctl.idgenRetries,
        );
        if (!s) return; // every DAD counter gave a reserved identifier
        addr = s.address;
        dadCount = s.dadCount;
      } else addr = eui64Address(prefix, this.mac);
      if (this.target.addresses.some((c) => c.address.equals(addr))) return; // configured already
      if (this.atAddressLimit()) return;
      const pub = this.add(now, {
        addr,
        prefix,
        temporary: false,
        stablePrivacy: stable,
        manageTemp: this.cfg.useTempaddr > 0,
        dadCount,
        dadStart: now,
        validUntil: valid,
        preferredUntil: preferred,
        pub: undefined,
      });
      this.manageTemporaries(now, pub, true);
      return;
    }
    existing.preferredUntil = preferred;
    // (e): a longer valid lifetime, or one over two hours, is taken; a shorter one cuts the
    // remaining lifetime to no less than two hours.
    const remaining = existing.validUntil - now;
    if (valid - now > TWO_HOURS || valid > existing.validUntil) existing.validUntil = valid;
    else if (remaining > TWO_HOURS) existing.validUntil = now + TWO_HOURS;
    this.manageTemporaries(now, existing, false);
  }

  /**
   * RFC 8981 §3.4 (Linux manage_tempaddrs): the public address `pub` was formed (`created`) or
   * its lifetimes changed. Its temporary addresses follow, never past temp_valid_lft and
   * temp_prefered_lft - DESYNC_FACTOR from their own creation; a new public address, or an
   * interface left without temporary addresses, gets one.
   */
  private manageTemporaries(now: number, pub: AutoAddress, created: boolean): void {
    const desync = (this.desyncFactor ?? 0) * 1000;
    let any = false;
    for (const t of this.auto) {
      if (!t.temporary) continue;
      any = true;
      if (t.pub !== pub) continue;
      t.validUntil = Math.min(pub.validUntil, t.created + this.cfg.tempValidLft * 1000);
      t.preferredUntil = Math.min(
        pub.preferredUntil,
        t.validUntil,
        Math.max(t.created, t.created + this.cfg.tempPreferredLft * 1000 - desync),
      );
    }
    if (created || (!any && (pub.validUntil > now || pub.preferredUntil > now)))
      this.createTemporary(now, pub);
  }

  /** RFC 8981 §3.3 (Linux ipv6_create_tempaddr): a new temporary address for `pub`'s prefix. */
  private createTemporary(now: number, pub: AutoAddress): void {
    if (!this.temporaryAddressesEnabled) return;
    if (pub.regenCount++ >= this.cfg.regenMaxRetry) {
      this.tempDisabled = true; // "regeneration time exceeded - disabled temporary address support"
      return;
    }
    let addr = randomAddress(pub.prefix, this.cfg.randomBytes);
    while (this.hasAny(addr)) addr = randomAddress(pub.prefix, this.cfg.randomBytes);
    const regenAdvance = this.regenAdvance();
    const maxDesync = Math.min(this.cfg.maxDesyncFactor, this.cfg.tempPreferredLft - regenAdvance / 1000);
    if (this.desyncFactor === undefined || this.desyncFactor > maxDesync) {
      const r = this.cfg.randomBytes(4);
      const u32 = ((r[0]! << 24) | (r[1]! << 16) | (r[2]! << 8) | r[3]!) >>> 0;
      this.desyncFactor = maxDesync > 0 ? u32 % Math.floor(maxDesync) : 0;
    }
    const validUntil = Math.min(pub.validUntil, now + this.cfg.tempValidLft * 1000);
    let preferredUntil = Math.min(
      now + (this.cfg.tempPreferredLft - this.desyncFactor) * 1000,
      pub.preferredUntil,
      validUntil,
    );
    // §3.3: never one with a preferred lifetime of REGEN_ADVANCE or less; Linux raises it just
    // past REGEN_ADVANCE when its public address and valid lifetime allow.
    if (preferredUntil - now <= regenAdvance) {
      preferredUntil = now + regenAdvance + 1000;
      if (preferredUntil > validUntil || preferredUntil > pub.preferredUntil) return;
    }
    this.add(now, {
      addr,
      prefix: pub.prefix,
      temporary: true,
      stablePrivacy: false,
      manageTemp: false,
      dadCount: 0,
      dadStart: now,
      validUntil,
      preferredUntil,
      pub,
    });
    this.stats.temporaries++;
  }

  /**
   * Linux addrconf_dad_failure for a stable address: the next DAD counter, idgen_delay later,
   * unless idgen_retries are used up or max_addresses is reached.
   */
  private retryStable(now: number, failed: AutoAddress): void {
    const retries = failed.dadCount + 1;
    if (retries > this.sysctl.idgenRetries || !this.cfg.secret) return;
    const s = stableAddress(
      failed.prefix,
      this.cfg.permanentAddress,
      retries,
      this.cfg.secret,
      this.sysctl.idgenRetries,
    );
    if (!s || this.hasAny(s.address) || this.atAddressLimit()) return;
    const next = this.add(now, {
      addr: s.address,
      prefix: failed.prefix,
      temporary: false,
      stablePrivacy: true,
      manageTemp: failed.manageTemp,
      dadCount: s.dadCount,
      dadStart: idgenStart(now, this.sysctl),
      validUntil: failed.validUntil,
      preferredUntil: failed.preferredUntil,
      pub: undefined,
    });
    next.regenCount = failed.regenCount;
    for (const t of this.auto) if (t.pub === failed) t.pub = next;
    this.stats.stableRetries++;
  }

  private add(
    now: number,
    a: Pick<
      AutoAddress,
      | 'addr'
      | 'prefix'
      | 'temporary'
      | 'stablePrivacy'
      | 'manageTemp'
      | 'dadCount'
      | 'validUntil'
      | 'preferredUntil'
      | 'pub'
    > & {
      /** When its DAD run starts. */
      readonly dadStart: number;
    },
  ): AutoAddress {
    const { dadStart, ...rest } = a;
    const entry: AutoAddress = {
      ...rest,
      tentative: true,
      dadAt: dadStart,
      dadProbes: undefined,
      dadNonce: undefined,
      deprecated: false,
      created: now,
      regenerated: false,
      regenCount: 0,
    };
    this.auto.push(entry);
    return entry;
  }

  /** REGEN_ADVANCE in ms (Linux ipv6_get_regen_advance, whole seconds). */
  private regenAdvance(): number {
    const retrans = Math.max(this.retransTimer, 10);
    const s =
      this.cfg.regenMinAdvance +
      Math.floor((this.cfg.regenMaxRetry * this.sysctl.conf.device.dadTransmits * retrans) / 1000);
    return s * 1000;
  }

  /** max_addresses: the interface's IPv6 addresses, tentative ones included, reached the limit. */
  private atAddressLimit(): boolean {
    if (this.cfg.maxAddresses <= 0) return false;
    const v6 = this.target.addresses.filter((c) => c.address.version === 6).length;
    return v6 + this.auto.filter((a) => a.tentative).length >= this.cfg.maxAddresses;
  }

  private hasAny(addr: Ipv6Address): boolean {
    return (
      this.auto.some((a) => a.addr.equals(addr)) || this.target.addresses.some((c) => c.address.equals(addr))
    );
  }

  /** A neighbor advertisement for `target` (RFC 4862 §5.4.4: a tentative one is a duplicate). */
  onNeighborAdvert(target: Ipv6Address): void {
    this.duplicate(target);
  }

  /**
   * A neighbor solicitation: from the unspecified address for our tentative address, another
   * node is running DAD for the same address (§5.4.3), so neither may use it; unless it carries
   * the nonce of our own, which the link looped back (RFC 7527 §4.2).
   */
  onSolicit(src: Ipv6Address, target: Ipv6Address, nonce?: Uint8Array): void {
    if (src.isUnspecified()) this.duplicate(target, nonce);
  }

  /** Whether `addr` is tentative (DAD running): not ours to answer for yet. */
  isTentative(addr: Ipv6Address): boolean {
    return this.auto.some((a) => a.tentative && a.addr.equals(addr));
  }

  /**
   * The autoconfigured addresses, tentative ones included, with their IFA_F_* flags and
   * lifetimes (what /proc/net/if_inet6 and RTM_GETADDR show for them). Flags are as of the last
   * poll, as Linux's are as of its last address check.
   */
  addresses(): Ipv6AddressInfo[] {
    return this.auto.map((a) => ({
      cidr: new IpCidr(a.addr, 64),
      flags:
        (a.temporary ? IfaFlag.TEMPORARY : 0) |
        (a.tentative ? IfaFlag.TENTATIVE : 0) |
        (a.deprecated ? IfaFlag.DEPRECATED : 0) |
        (a.manageTemp ? IfaFlag.MANAGETEMPADDR : 0) |
        (a.stablePrivacy ? IfaFlag.STABLE_PRIVACY : 0),
      validUntil: a.validUntil,
      preferredUntil: a.preferredUntil,
    }));
  }

  /**
   * Of `candidates` (equally good so far), the source address RFC 6724 picks by its rule 3
   * (avoid deprecated addresses) and rule 7 (prefer temporary addresses when use_tempaddr is 2,
   * public ones otherwise, as Linux's IPV6_SADDR_RULE_PRIVACY). Among equals the newest
   * autoconfigured address wins (Linux lists an interface's newest addresses first and keeps
   * the first of equals), other ties keep their order.
   */
  pickSource(candidates: readonly IpCidr[]): IpCidr | undefined {
    let best: IpCidr | undefined;
    let bestScore = -1;
    let bestCreated = -Infinity;
    const preferTemp = this.cfg.useTempaddr >= 2;
    for (const c of candidates) {
      const a = c.address.version === 6 ? this.auto.find((x) => x.addr.equals(c.address)) : undefined;
      const temporary = a?.temporary ?? false;
      const score = (a?.deprecated ? 0 : 2) + (temporary === preferTemp ? 1 : 0);
      const created = a?.created ?? -Infinity;
      if (score > bestScore || (score === bestScore && created > bestCreated)) {
        best = c;
        bestScore = score;
        bestCreated = created;
      }
    }
    return best;
  }

  private duplicate(target: Ipv6Address, nonce?: Uint8Array): void {
    const a = this.auto.find((x) => x.tentative && x.addr.equals(target));
    if (!a || loopedDadSolicit(a.dadNonce, nonce)) return;
    this.forget(a);
    this.stats.duplicates++;
    if (a.temporary) {
      // Linux addrconf_dad_stop: a new temporary address for the same public one.
      if (a.pub && this.auto.includes(a.pub)) this.pending.push({ kind: 'temp-retry', pub: a.pub });
    } else if (a.stablePrivacy) this.pending.push({ kind: 'stable-retry', failed: a });
  }

  private forget(a: AutoAddress): void {
    const i = this.auto.indexOf(a);
    if (i >= 0) this.auto.splice(i, 1);
  }

  private removeAddress(addr: Ipv6Address): void {
    const i = this.target.addresses.findIndex((c) => c.address.equals(addr));
    if (i >= 0) this.target.addresses.splice(i, 1);
  }
}

function lifetimeEnd(now: number, seconds: number): number {
  return seconds === INFINITE ? Infinity : now + seconds * 1000;
}

/** The first 64 bits of `addr`, the rest zero. */
function prefixOf(addr: Ipv6Address): Ipv6Address {
  const b = new Uint8Array(16);
  b.set(addr.bytes.subarray(0, 8), 0);
  return new Ipv6Address(b);
}

/** The solicited-node group of `addr` (RFC 4291 §2.7.1). */
function solicitedNode(addr: Ipv6Address): Ipv6Address {
  const b = addr.bytes;
  return new Ipv6Address([0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, b[13]!, b[14]!, b[15]!]);
}
