// Stable privacy (RFC 7217) and temporary (RFC 8981) addresses formed by SLAAC, on a virtual
// clock against a hand-driven router: DAD and its retries, rotation, deprecation, source choice
// and the flags Linux shows.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Device } from '../phy/device.js';
import { settle } from '../stack.test-util.js';
import type { Stack } from '../stack.js';
import { EthernetAddress } from '../wire/ethernet.js';
import { Ipv6Address, type IpAddress, type IpCidr } from '../wire/ip-address.js';
import { stableAddressCandidate } from './interface-id.js';
import { IfaFlag, resolveAddrconf, Slaac, type AddrconfOptions, type Ipv6AddressInfo } from './slaac.js';
import {
  allNodes,
  claim,
  dadTargets,
  prefixInfo,
  received,
  routerAddr,
  routerAdvert,
  scriptedBytes,
  sendIcmp,
  slaacStack,
} from './slaac.test-util.js';

const mac = EthernetAddress.parse('02:11:22:33:44:55')!;
const a6 = (s: string): Ipv6Address => Ipv6Address.parse(s)!;
const secret = a6('2001:db8:1:2:3:4:5:6');
const prefix = a6('2001:db8:7:8::');
const far = a6('2001:db8:99::1');
const DAY = 86400_000;

const setup = (addrconf: AddrconfOptions): ReturnType<typeof slaacStack> =>
  slaacStack({ mac, addrconf, seed: 5 });

/** The stack's IPv6 addresses as `address flags` strings. */
function shown(stack: Stack): string[] {
  return stack.iface.ipv6Addresses().map((a) => `${a.cidr.address.toString()} ${a.flags.toString(16)}`);
}

function info(stack: Stack, pred: (a: Ipv6AddressInfo) => boolean): Ipv6AddressInfo[] {
  return stack.iface.ipv6Addresses().filter(pred);
}
const isTemp = (a: Ipv6AddressInfo): boolean => (a.flags & IfaFlag.TEMPORARY) !== 0;

describe('stable privacy addresses (addr_gen_mode 2, RFC 7217)', () => {
  const stableOpts: AddrconfOptions = {
    addrGenMode: 'stable-privacy',
    stableSecret: secret,
    permanentAddress: EthernetAddress.ZERO,
  };

  it('form the link-local and the SLAAC address Linux forms, with its flags', () => {
    const { stack, peer } = setup(stableOpts);
    settle([stack], 0);
    const ll = a6('fe80::ff05:eb87:4e94:b3ad'); // what Linux 6.18 formed for these inputs
    expect(received(peer).map((m) => [m.src.toString(), m.icmp.type])).toEqual([
      [ll.toString(), 'routerSolicit'],
    ]);
    sendIcmp(peer, mac, routerAddr, allNodes, routerAdvert([prefixInfo('2001:db8:7:8::')]));
    settle([stack], 10);
    const global = '2001:db8:7:8:af7f:2878:b8b5:f952';
    expect(dadTargets(received(peer))).toEqual([global]);
    // Tentative while DAD runs; IFA_F_PERMANENT only on the link-local address.
    expect(shown(stack)).toEqual([`${ll.toString()} 880`, `${global} 840`]);
    settle([stack], 1010);
    expect(shown(stack)).toEqual([`${ll.toString()} 880`, `${global} 800`]);
    expect(stack.sourceAddressFor(far)?.toString()).toBe(global);
  });

  it('retry with the next DAD counter idgen_delay after a conflict, up to idgen_retries', () => {
    const { stack, peer } = setup(stableOpts);
    settle([stack], 0);
    received(peer);
    sendIcmp(peer, mac, routerAddr, allNodes, routerAdvert([prefixInfo('2001:db8:7:8::')]));
    settle([stack], 10);
    let now = 10;
    for (let n = 0; n <= 3; n++) {
      const want = stableAddressCandidate(prefix, EthernetAddress.ZERO, n, secret);
      expect(dadTargets(received(peer))).toEqual([want.toString()]);
      sendIcmp(peer, mac, want, allNodes, claim(want));
      now += 100;
      settle([stack], now);
      expect(stack.iface.slaac?.isTentative(want)).toBe(false);
      // The next attempt waits idgen_delay (1 s) before its solicitation.
      settle([stack], now + 999);
      expect(dadTargets(received(peer))).toEqual([]);
      now += 1000;
      settle([stack], now);
    }
    // Counters 0..3 all conflicted: no fifth attempt, no address.
    settle([stack], now + 5000);
    expect(dadTargets(received(peer))).toEqual([]);
    expect(stack.iface.slaac?.stats).toMatchObject({ duplicates: 4, stableRetries: 3, formed: 0 });
    // Only the link-local address is left.
    expect(shown(stack)).toEqual(['fe80::ff05:eb87:4e94:b3ad 880']);
  });

  it('form the address of a later DAD counter when only the first conflicts', () => {
    const { stack, peer } = setup(stableOpts);
    settle([stack], 0);
    sendIcmp(peer, mac, routerAddr, allNodes, routerAdvert([prefixInfo('2001:db8:7:8::')]));
    settle([stack], 10);
    const first = stableAddressCandidate(prefix, EthernetAddress.ZERO, 0, secret);
    received(peer);
    sendIcmp(peer, mac, first, allNodes, claim(first));
    settle([stack], 20);
    settle([stack], 1020);
    settle([stack], 2020);
    const second = stableAddressCandidate(prefix, EthernetAddress.ZERO, 1, secret);
    expect(dadTargets(received(peer))).toEqual([second.toString()]);
    expect(stack.iface.hasAddress(second)).toBe(true);
    expect(stack.iface.hasAddress(first)).toBe(false);
    // A later advertisement for the prefix updates that address rather than starting over.
    sendIcmp(
      peer,
      mac,
      routerAddr,
      allNodes,
      routerAdvert([prefixInfo('2001:db8:7:8::', { validLifetime: 9000 })]),
    );
    settle([stack], 3000);
    expect(dadTargets(received(peer))).toEqual([]);
    expect(info(stack, (a) => a.cidr.address.equals(second))[0]?.validUntil).toBe(3000 + 9000_000);
  });

  it('random mode (3) draws one secret per interface; none (1) forms no link-local address', () => {
    const key = Uint8Array.from({ length: 16 }, (_, i) => 0xa0 + i);
    const { stack, peer } = setup({ addrGenMode: 'random', randomBytes: scriptedBytes([key]) });
    const ll = stableAddressCandidate(a6('fe80::'), mac, 0, new Ipv6Address(key));
    expect(stack.iface.hasAddress(ll)).toBe(true);
    settle([stack], 0);
    sendIcmp(peer, mac, routerAddr, allNodes, routerAdvert([prefixInfo('2001:db8:7:8::')]));
    settle([stack], 10);
    expect(dadTargets(received(peer))).toEqual([
      stableAddressCandidate(prefix, mac, 0, new Ipv6Address(key)).toString(),
    ]);

    const none = setup({ addrGenMode: 'none' });
    settle([none.stack], 0);
    settle([none.stack], 9000);
    expect(received(none.peer)).toEqual([]); // no link-local address: no router solicitation
    expect(none.stack.iface.ipv6Addresses()).toEqual([]);
    sendIcmp(none.peer, mac, routerAddr, allNodes, routerAdvert([prefixInfo('2001:db8:7:8::')]));
    settle([none.stack], 9010);
    expect(dadTargets(received(none.peer))).toEqual(['2001:db8:7:8:11:22ff:fe33:4455']); // still EUI-64
  });

  it('needs a secret in stable-privacy mode', () => {
    expect(() => setup({ addrGenMode: 'stable-privacy' })).toThrow(RangeError);
  });
});

describe('temporary addresses (use_tempaddr, RFC 8981)', () => {
  /** A router advertisement valid for 30 days, preferred for 10. */
  const longPrefix = prefixInfo('2001:db8:7:8::', {
    validLifetime: 30 * 86400,
    preferredLifetime: 10 * 86400,
  });

  function tempSetup(o: AddrconfOptions = {}): { stack: Stack; peer: Device; pub: Ipv6Address } {
    const s = setup({ useTempaddr: 2, randomBytes: scriptedBytes(), ...o });
    settle([s.stack], 0);
    sendIcmp(s.peer, mac, routerAddr, allNodes, routerAdvert([longPrefix]));
    settle([s.stack], 10);
    return { ...s, pub: a6('2001:db8:7:8:11:22ff:fe33:4455') };
  }

  it('come with the public address, run DAD, and are preferred as sources (use_tempaddr=2)', () => {
    const { stack, peer, pub } = tempSetup();
    const dad = dadTargets(received(peer));
    expect(dad).toHaveLength(2);
    expect(dad[0]).toBe(pub.toString());
    const temp = a6(dad[1]!);
    expect(temp.bytes.subarray(0, 8)).toEqual(prefix.bytes.subarray(0, 8));
    expect(shown(stack).slice(1)).toEqual([`${pub.toString()} 140`, `${temp.toString()} 41`]);
    settle([stack], 1010);
    expect(shown(stack).slice(1)).toEqual([`${pub.toString()} 100`, `${temp.toString()} 1`]);
    expect(stack.sourceAddressFor(far)?.equals(temp)).toBe(true);
    expect(stack.sourceAddressFor(a6('2001:db8:7:8::99'))?.equals(temp)).toBe(true); // on-link too
    // Lifetimes: valid temp_valid_lft (7 days); preferred temp_prefered_lft - DESYNC_FACTOR.
    const t = info(stack, isTemp)[0]!;
    expect(t.validUntil).toBe(10 + 7 * DAY);
    const desync = (10 + DAY - t.preferredUntil) / 1000;
    expect(Number.isInteger(desync) && desync >= 0 && desync < 600).toBe(true);
  });

  it('with use_tempaddr=1 exist but the public address stays the source', () => {
    const { stack, pub } = tempSetup({ useTempaddr: 1 });
    settle([stack], 1010);
    expect(info(stack, isTemp)).toHaveLength(1);
    expect(stack.sourceAddressFor(far)?.equals(pub)).toBe(true);
  });

  it('rotate REGEN_ADVANCE before deprecation; deprecated ones are not chosen, and expire', () => {
    const { stack, peer, pub } = tempSetup();
    // On-link: the router's lifetime (30 min) ends long before these days do.
    const near = a6('2001:db8:7:8::99');
    settle([stack], 1010);
    const first = info(stack, isTemp)[0]!;
    const regenAt = first.preferredUntil - 5000; // 2 s + 3 retries x 1 DAD x 1 s RetransTimer
    expect(settle([stack], regenAt - 1)).toBe(regenAt);
    expect(stack.iface.slaac?.stats.temporaries).toBe(1);
    received(peer);
    settle([stack], regenAt);
    expect(stack.iface.slaac?.stats.temporaries).toBe(2);
    const second = info(stack, (a) => isTemp(a) && !a.cidr.address.equals(first.cidr.address))[0]!;
    expect(dadTargets(received(peer))).toEqual([second.cidr.address.toString()]);
    expect(second.flags).toBe(IfaFlag.TEMPORARY | IfaFlag.TENTATIVE);
    expect(stack.sourceAddressFor(near)?.equals(first.cidr.address)).toBe(true); // the new one is tentative
    settle([stack], regenAt + 1000);
    expect(stack.sourceAddressFor(near)?.equals(second.cidr.address)).toBe(true);
    // The first one is deprecated at its preferred lifetime's end, and kept until its valid one.
    settle([stack], first.preferredUntil - 1);
    expect(info(stack, (a) => a.cidr.address.equals(first.cidr.address))[0]?.flags).toBe(IfaFlag.TEMPORARY);
    settle([stack], first.preferredUntil);
    expect(info(stack, (a) => a.cidr.address.equals(first.cidr.address))[0]?.flags).toBe(
      IfaFlag.TEMPORARY | IfaFlag.DEPRECATED,
    );
    expect(stack.sourceAddressFor(near)?.equals(first.cidr.address)).toBe(false);
    // Each day another one; after 7 days the first expires.
    let now = first.preferredUntil;
    while (now < first.validUntil) {
      const next = settle([stack], now);
      if (next === undefined) break;
      now = Math.min(next, first.validUntil);
    }
    settle([stack], first.validUntil);
    expect(stack.iface.hasAddress(first.cidr.address)).toBe(false);
    expect(stack.iface.hasAddress(pub)).toBe(true);
    const stats = stack.iface.slaac!.stats;
    expect(stats.temporaries).toBeGreaterThanOrEqual(7);
    expect(stats.temporaries).toBeLessThanOrEqual(8);
    // Only one temporary address is preferred at any time; the newest is the source.
    const live = info(stack, (a) => isTemp(a) && (a.flags & IfaFlag.DEPRECATED) === 0);
    expect(live.length).toBeLessThanOrEqual(2);
    const src = stack.sourceAddressFor(near)!;
    expect(live.some((a) => a.cidr.address.equals(src))).toBe(true);
  });

  it('never outlive their public address, and follow its later lifetimes', () => {
    const { stack, peer } = tempSetup();
    settle([stack], 1010);
    sendIcmp(
      peer,
      mac,
      routerAddr,
      allNodes,
      routerAdvert([prefixInfo('2001:db8:7:8::', { validLifetime: 3 * 3600, preferredLifetime: 600 })]),
    );
    settle([stack], 2000);
    const t = info(stack, isTemp)[0]!;
    expect(t.validUntil).toBe(2000 + 3 * 3600_000);
    expect(t.preferredUntil).toBe(2000 + 600_000);
  });

  it('are replaced after a DAD conflict, and turned off after regen_max_retry in a row', () => {
    const { stack, peer } = tempSetup();
    const firstTemp = a6(dadTargets(received(peer))[1]!);
    let temp = firstTemp;
    const seen: string[] = [];
    for (let i = 0; i < 3; i++) {
      seen.push(temp.toString());
      sendIcmp(peer, mac, temp, allNodes, claim(temp));
      settle([stack], 20 + i);
      const dad = dadTargets(received(peer));
      if (i < 2) {
        expect(dad).toHaveLength(1);
        temp = a6(dad[0]!);
        expect(seen).not.toContain(temp.toString());
      } else expect(dad).toEqual([]);
    }
    expect(stack.iface.slaac?.stats).toMatchObject({ temporaries: 3, duplicates: 3 });
    expect(stack.iface.slaac?.temporaryAddressesEnabled).toBe(false);
    settle([stack], 2000);
    expect(info(stack, isTemp)).toEqual([]);
    // A new prefix gets no temporary address either (use_tempaddr is -1 on Linux now).
    sendIcmp(peer, mac, routerAddr, allNodes, routerAdvert([prefixInfo('2001:db8:9::')]));
    settle([stack], 2010);
    expect(dadTargets(received(peer))).toEqual(['2001:db8:9:0:11:22ff:fe33:4455']);
  });

  it('skip reserved random identifiers', () => {
    const reserved = Uint8Array.from([0x02, 0x00, 0x5e, 0xff, 0xfe, 0x00, 0x52, 0x13]);
    const { stack, peer } = tempSetup({ randomBytes: scriptedBytes([reserved]) });
    const temp = dadTargets(received(peer))[1]!;
    expect(temp).not.toBe('2001:db8:7:8:200:5eff:fe00:5213');
    expect(info(stack, isTemp)).toHaveLength(1);
  });

  it('are not limited by max_addresses, which bounds public ones', () => {
    const { stack, peer } = tempSetup({ maxAddresses: 2 });
    expect(dadTargets(received(peer))).toHaveLength(2); // link-local + public reach the limit
    sendIcmp(peer, mac, routerAddr, allNodes, routerAdvert([prefixInfo('2001:db8:9::')]));
    settle([stack], 20);
    expect(dadTargets(received(peer))).toEqual([]);
  });
});

describe('temporary address lifetimes (RFC 8981 §3.3-3.4), under any advertisements', () => {
  it('never exceed their public address’s nor temp_valid_lft / temp_prefered_lft', () => {
    const step = fc.record({
      wait: fc.integer({ min: 0, max: 2 * DAY }),
      valid: fc.oneof(
        fc.integer({ min: 0, max: 2 * 86400 }),
        fc.integer({ min: 0, max: 20 * 86400 }),
        fc.constant(0xffffffff),
      ),
      preferredFraction: fc.double({ min: 0, max: 1, noNaN: true }),
    });
    const run = (steps: { wait: number; valid: number; preferredFraction: number }[], pref: number): void => {
      const target = { addresses: [] as IpCidr[], gateways: [] as IpAddress[] };
      const cfg = resolveAddrconf(
        {
          useTempaddr: 2,
          tempPreferredLft: pref,
          tempValidLft: 2 * pref,
          randomBytes: scriptedBytes([], pref),
        },
        mac,
      );
      const slaac = new Slaac(target, a6('fe80::1:2'), mac, cfg);
      const born = new Map<string, number>();
      let now = 0;
      /** Polls at `now` and checks every temporary address against its public one. */
      const poll = (): number | undefined => {
        const next = slaac.poll(now, () => {});
        const all = slaac.addresses();
        const pub = all.find((a) => !isTemp(a));
        for (const t of all.filter(isTemp)) {
          const key = t.cidr.address.toString();
          if (!born.has(key)) born.set(key, now);
          const created = born.get(key)!;
          expect(pub).toBeDefined();
          expect(t.validUntil).toBeLessThanOrEqual(pub!.validUntil);
          expect(t.preferredUntil).toBeLessThanOrEqual(Math.min(pub!.preferredUntil, t.validUntil));
          expect(t.validUntil).toBeLessThanOrEqual(created + 2 * pref * 1000);
          expect(t.preferredUntil).toBeLessThanOrEqual(created + pref * 1000);
        }
        return next;
      };
      for (const s of steps) {
        const until = now + s.wait;
        // Every timer up to the next advertisement, as the stack would run them.
        for (let next = poll(); next !== undefined && next <= until; next = poll())
          now = Math.max(next, now + 1);
        now = until;
        const preferred = Math.floor((s.valid === 0xffffffff ? 0xfffffffe : s.valid) * s.preferredFraction);
        slaac.onRouterAdvert(now, routerAddr, {
          routerLifetime: 0,
          retransTimer: 0,
          prefixes: [prefixInfo('2001:db8:7:8::', { validLifetime: s.valid, preferredLifetime: preferred })],
        });
        poll();
      }
    };
    fc.assert(
      fc.property(
        fc.array(step, { minLength: 1, maxLength: 6 }),
        fc.integer({ min: 3600, max: 86400 }),
        (s, p) => run(s, p),
      ),
      { numRuns: 60 },
    );
  });
});
