/**
 * IPv6 stateless address autoconfiguration (RFC 4862) and default routers from router
 * advertisements (RFC 4861 §6.3.4), for an Ethernet interface, as a Linux host does with
 * accept_ra=1 and autoconf=1:
 *
 * - on start, a router solicitation to all routers (ff02::2), up to 3, 4 s apart, until an
 *   advertisement arrives;
 * - a prefix information option with the A flag and a /64 prefix forms prefix + modified EUI-64
 *   interface identifier (the one of the link-local address); the address is tentative while
 *   duplicate address detection runs (one neighbor solicitation from ::, then RetransTimer,
 *   1 s unless the router says otherwise), and joins the interface only if no one claimed it;
 * - lifetimes: the preferred and valid lifetimes follow later advertisements with §5.5.3's
 *   two-hour rule against a forged short lifetime; when the valid lifetime ends the address
 *   goes; a router lifetime makes the sender a default router until it ends.
 *
 * Not here: RFC 7217 stable privacy addresses and RFC 8981 temporary addresses, on-link-only
 * prefixes (L without A), deprecated addresses being avoided as sources, router preference.
 *
 * @module
 */
import { IpCidr, Ipv6Address, type IpAddress } from '../wire/ip-address.js';
import type { PrefixInfo } from '../wire/icmpv6.js';
import type { EthernetAddress } from '../wire/ethernet.js';
import type { Outgoing } from './outgoing.js';

/** RFC 4861 §10: host constants, and the RetransTimer default. */
const MAX_RTR_SOLICITATIONS = 3;
const RTR_SOLICITATION_INTERVAL = 4000;
const RETRANS_TIMER = 1000;
/** RFC 4862 §5.5.3 (e): a received valid lifetime may not cut a longer one below two hours. */
const TWO_HOURS = 2 * 3600 * 1000;
/** 0xffffffff seconds: a lifetime without end. */
const INFINITE = 0xffffffff;
const NDP_HOP_LIMIT = 255;

/** ff02::2, all routers on the link. */
const ALL_ROUTERS = new Ipv6Address([0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);

/** One autoconfigured address. */
interface AutoAddress {
  readonly addr: Ipv6Address;
  /** Tentative until DAD ends at `dadEnd` with no conflict. */
  tentative: boolean;
  dadEnd: number;
  /** The DAD solicitation still has to go out. */
  dadDue: boolean;
  validUntil: number;
  preferredUntil: number;
}

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
  private solicitations = 0;
  private nextSolicit: number | undefined = 0;
  private retransTimer = RETRANS_TIMER;
  /** Counters for tests: addresses formed, given up because DAD found a duplicate, expired. */
  readonly stats = { formed: 0, duplicates: 0, expired: 0, routerSolicits: 0 };

  constructor(
    private readonly target: SlaacTarget,
    private readonly linkLocal: Ipv6Address,
    private readonly mac: EthernetAddress,
  ) {}

  /** Sends what is due and applies timers; returns the next deadline. */
  poll(now: number, send: (out: Outgoing) => void): number | undefined {
    let next: number | undefined;
    const at = (t: number | undefined): void => {
      if (t !== undefined && t !== Infinity && (next === undefined || t < next)) next = t;
    };
    if (this.nextSolicit !== undefined && now >= this.nextSolicit) {
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
    for (let i = this.auto.length - 1; i >= 0; i--) {
      const a = this.auto[i]!;
      if (now >= a.validUntil) {
        this.auto.splice(i, 1);
        this.removeAddress(a.addr);
        this.stats.expired++;
        continue;
      }
      if (a.dadDue) {
        // RFC 4862 §5.4.2: from the unspecified address to the solicited-node group.
        a.dadDue = false;
        send({
          kind: 'icmpv6',
          src: Ipv6Address.UNSPECIFIED,
          dst: solicitedNode(a.addr),
          hopLimit: NDP_HOP_LIMIT,
          icmp: { type: 'neighborSolicit', target: a.addr },
        });
      }
      if (a.tentative && now >= a.dadEnd) {
        a.tentative = false;
        this.target.addresses.push(new IpCidr(a.addr, 64));
        this.stats.formed++;
      }
      if (a.tentative) at(a.dadEnd);
      at(a.validUntil);
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
    const bytes = p.prefix.bytes.slice();
    bytes.set(this.linkLocal.bytes.subarray(8), 8);
    const addr = new Ipv6Address(bytes);
    const valid = lifetimeEnd(now, p.validLifetime);
    const preferred = lifetimeEnd(now, p.preferredLifetime);
    const existing = this.auto.find((a) => a.addr.equals(addr));
    if (!existing) {
      if (p.validLifetime === 0) return;
      if (this.target.addresses.some((c) => c.address.equals(addr))) return; // configured already
      this.auto.push({
        addr,
        tentative: true,
        dadEnd: now + this.retransTimer,
        dadDue: true,
        validUntil: valid,
        preferredUntil: preferred,
      });
      return;
    }
    existing.preferredUntil = preferred;
    // (e): a longer valid lifetime, or one over two hours, is taken; a shorter one cuts the
    // remaining lifetime to no less than two hours.
    const remaining = existing.validUntil - now;
    if (valid - now > TWO_HOURS || valid > existing.validUntil) existing.validUntil = valid;
    else if (remaining > TWO_HOURS) existing.validUntil = now + TWO_HOURS;
  }

  /** A neighbor advertisement for `target` (RFC 4862 §5.4.4: a tentative one is a duplicate). */
  onNeighborAdvert(target: Ipv6Address): void {
    this.duplicate(target);
  }

  /**
   * A neighbor solicitation: from the unspecified address for our tentative address, another
   * node is running DAD for the same address (§5.4.3), so neither may use it.
   */
  onSolicit(src: Ipv6Address, target: Ipv6Address): void {
    if (src.isUnspecified()) this.duplicate(target);
  }

  /** Whether `addr` is tentative (DAD running): not ours to answer for yet. */
  isTentative(addr: Ipv6Address): boolean {
    return this.auto.some((a) => a.tentative && a.addr.equals(addr));
  }

  private duplicate(target: Ipv6Address): void {
    const i = this.auto.findIndex((a) => a.tentative && a.addr.equals(target));
    if (i < 0) return;
    this.auto.splice(i, 1);
    this.stats.duplicates++;
  }

  private removeAddress(addr: Ipv6Address): void {
    const i = this.target.addresses.findIndex((c) => c.address.equals(addr));
    if (i >= 0) this.target.addresses.splice(i, 1);
  }
}

function lifetimeEnd(now: number, seconds: number): number {
  return seconds === INFINITE ? Infinity : now + seconds * 1000;
}

/** The solicited-node group of `addr` (RFC 4291 §2.7.1). */
function solicitedNode(addr: Ipv6Address): Ipv6Address {
  const b = addr.bytes;
  return new Ipv6Address([0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, b[13]!, b[14]!, b[15]!]);
}
