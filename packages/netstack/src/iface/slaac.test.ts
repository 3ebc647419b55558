// IPv6 stateless address autoconfiguration (RFC 4862) from router advertisements, against a
// hand-driven router on the other end of an Ethernet link.
import { describe, expect, it } from 'vitest';
import { settle } from '../stack.test-util.js';
import { EthernetAddress, EthernetFrame } from '../wire/ethernet.js';
import { Icmpv6Packet, Icmpv6Repr, type PrefixInfo } from '../wire/icmpv6.js';
import { Ipv6Address } from '../wire/ip-address.js';
import { IpProtocol } from '../wire/ipv4.js';
import { Ipv6Packet, Ipv6Repr } from '../wire/ipv6.js';
import {
  allNodes,
  prefixInfo,
  received,
  routerAddr,
  routerAdvert,
  routerMac,
  sendIcmp,
  slaacStack,
} from './slaac.test-util.js';

const macA = EthernetAddress.parse('02:00:00:00:00:0a')!;
/** 2001:db8:1::/64 + the modified EUI-64 identifier of macA (the u/l bit flipped back to 0). */
const formed = Ipv6Address.parse('2001:db8:1::ff:fe00:a')!;

const prefix = (o: Partial<PrefixInfo> = {}): PrefixInfo => prefixInfo('2001:db8:1::', o);

const setup = (slaac = true): ReturnType<typeof slaacStack> => slaacStack({ mac: macA, slaac, seed: 9 });

describe('router advertisement wire format (RFC 4861 §4.1-4.2)', () => {
  it('emit -> parse -> equal, for solicitations and advertisements with options', () => {
    const src = routerAddr;
    const dst = allNodes;
    const msgs: Icmpv6Repr[] = [
      { type: 'routerSolicit', sourceLinkAddr: macA },
      { type: 'routerSolicit', sourceLinkAddr: undefined },
      routerAdvert([prefix(), prefix({ prefix: Ipv6Address.parse('fd00:1::')!, autonomous: false })]),
      { ...routerAdvert([], 0), managed: true, other: true, mtu: undefined, sourceLinkAddr: undefined },
    ];
    for (const m of msgs) {
      const buf = new Uint8Array(Icmpv6Repr.bufferLen(m));
      Icmpv6Repr.emit(m, Icmpv6Packet.unchecked(buf), src, dst);
      expect(Icmpv6Repr.parse(Icmpv6Packet.checked(buf) as Icmpv6Packet, src, dst)).toEqual(m);
    }
  });
});

describe('SLAAC (RFC 4862)', () => {
  it('solicits a router, forms prefix + EUI-64, runs DAD, then uses the address and the router', () => {
    const { stack, peer } = setup();
    settle([stack], 0);
    const rs = received(peer);
    expect(rs).toEqual([
      {
        src: Ipv6Address.parse('fe80::ff:fe00:a')!,
        dst: Ipv6Address.parse('ff02::2')!,
        icmp: { type: 'routerSolicit', sourceLinkAddr: macA },
      },
    ]);
    sendIcmp(peer, macA, routerAddr, allNodes, routerAdvert([prefix()]));
    settle([stack], 10);
    // Duplicate address detection: a solicitation from :: to the solicited-node group.
    expect(received(peer)).toEqual([
      {
        src: Ipv6Address.UNSPECIFIED,
        dst: Ipv6Address.parse('ff02::1:ff00:a')!,
        icmp: {
          type: 'neighborSolicit',
          target: formed,
          sourceLinkAddr: undefined,
          nonce: expect.any(Uint8Array),
        },
      },
    ]);
    expect(stack.iface.hasAddress(formed)).toBe(false); // tentative for RetransTimer (1 s)
    settle([stack], 1009);
    expect(stack.iface.hasAddress(formed)).toBe(false);
    settle([stack], 1010);
    expect(stack.iface.hasAddress(formed)).toBe(true);
    expect(stack.iface.slaac?.stats.formed).toBe(1);
    // Off-link destinations go through the advertising router.
    const far = Ipv6Address.parse('2001:db8:99::1')!;
    expect(stack.sourceAddressFor(far)?.equals(formed)).toBe(true);
    const u = stack.udpSocket(6);
    expect(u.sendto(new Uint8Array(3), { addr: far, port: 53 })).toBe(3);
    settle([stack], 1011);
    const ns = received(peer).find((m) => m.icmp.type === 'neighborSolicit');
    expect(ns?.icmp).toMatchObject({ type: 'neighborSolicit', target: routerAddr });
    sendIcmp(peer, macA, routerAddr, ns!.src, {
      type: 'neighborAdvert',
      router: true,
      solicited: true,
      override: true,
      target: routerAddr,
      targetLinkAddr: routerMac,
    });
    settle([stack], 1012);
    const f = peer.receive(0)!;
    const eth = EthernetFrame.checked(f) as EthernetFrame;
    const ip = Ipv6Repr.parse(Ipv6Packet.checked(eth.payload) as Ipv6Packet) as Ipv6Repr;
    expect(eth.dst.equals(routerMac)).toBe(true); // to the router's MAC
    expect(ip.nextHeader).toBe(IpProtocol.UDP);
    expect(ip.src.equals(formed)).toBe(true); // from the autoconfigured (global) address
    expect(ip.dst.equals(far)).toBe(true);
    // The router solicitation is not repeated once a router answered.
    settle([stack], 9000);
    expect(received(peer).some((m) => m.icmp.type === 'routerSolicit')).toBe(false);
  });

  it('gives the address up when DAD finds it in use (an advertisement, or another DAD)', () => {
    for (const conflict of ['advert', 'solicit'] as const) {
      const { stack, peer } = setup();
      settle([stack], 0);
      sendIcmp(peer, macA, routerAddr, allNodes, routerAdvert([prefix()]));
      settle([stack], 10);
      received(peer);
      if (conflict === 'advert')
        sendIcmp(peer, macA, formed, allNodes, {
          type: 'neighborAdvert',
          router: false,
          solicited: false,
          override: true,
          target: formed,
          targetLinkAddr: routerMac,
        });
      else
        sendIcmp(peer, macA, Ipv6Address.UNSPECIFIED, Ipv6Address.parse('ff02::1:ff00:a')!, {
          type: 'neighborSolicit',
          target: formed,
        });
      settle([stack], 20);
      expect(received(peer)).toEqual([]); // a tentative address is not defended
      settle([stack], 2000);
      expect(stack.iface.hasAddress(formed)).toBe(false);
      expect(stack.iface.slaac?.stats.duplicates).toBe(1);
    }
  });

  it('enhanced DAD (RFC 7527): its solicitation looped back with its nonce forms the address; another nonce is a duplicate', () => {
    for (const reflected of [true, false]) {
      const { stack, peer } = setup();
      settle([stack], 0);
      sendIcmp(peer, macA, routerAddr, allNodes, routerAdvert([prefix()]));
      settle([stack], 10);
      const ns = received(peer).find((m) => m.icmp.type === 'neighborSolicit')!.icmp;
      if (ns.type !== 'neighborSolicit' || !ns.nonce) throw new Error('no nonce in the DAD solicitation');
      expect(ns.nonce.length).toBe(6);
      const nonce = ns.nonce.slice();
      if (!reflected) nonce[0] = nonce[0]! ^ 1;
      sendIcmp(peer, macA, Ipv6Address.UNSPECIFIED, Ipv6Address.parse('ff02::1:ff00:a')!, { ...ns, nonce });
      settle([stack], 2000);
      expect(stack.iface.hasAddress(formed)).toBe(reflected);
      expect(stack.iface.slaac?.stats.duplicates).toBe(reflected ? 0 : 1);
    }
  });

  it('follows lifetimes: the two-hour rule, expiry of the address and of the router', () => {
    const { stack, peer } = setup();
    settle([stack], 0);
    sendIcmp(
      peer,
      macA,
      routerAddr,
      allNodes,
      routerAdvert([prefix({ validLifetime: 3 * 3600, preferredLifetime: 3600 })], 600),
    );
    settle([stack], 10);
    settle([stack], 1010);
    expect(stack.iface.hasAddress(formed)).toBe(true);
    // A forged short lifetime cannot cut the remaining three hours below two (§5.5.3 e).
    sendIcmp(
      peer,
      macA,
      routerAddr,
      allNodes,
      routerAdvert([prefix({ validLifetime: 60, preferredLifetime: 30 })], 600),
    );
    settle([stack], 2000);
    settle([stack], 2000 + 3600_000);
    expect(stack.iface.hasAddress(formed)).toBe(true);
    // The router lifetime (600 s) passed: no default router any more.
    expect(stack.iface.gateways).toEqual([]);
    expect(stack.sourceAddressFor(Ipv6Address.parse('2001:db8:99::1')!)).toBeUndefined();
    settle([stack], 2000 + 2 * 3600_000);
    expect(stack.iface.hasAddress(formed)).toBe(false);
    expect(stack.iface.slaac?.stats.expired).toBe(1);
  });

  it('ignores advertisements that crossed a router or are not from a link-local address, and unusable prefixes', () => {
    const { stack, peer } = setup();
    settle([stack], 0);
    received(peer);
    sendIcmp(peer, macA, routerAddr, allNodes, routerAdvert([prefix()]), 64); // hop limit < 255
    sendIcmp(peer, macA, Ipv6Address.parse('2001:db8::1')!, allNodes, routerAdvert([prefix()])); // global source
    sendIcmp(
      peer,
      macA,
      routerAddr,
      allNodes,
      routerAdvert([
        prefix({ prefixLength: 48 }),
        prefix({ autonomous: false }),
        prefix({ prefix: Ipv6Address.parse('fe80::')! }),
        prefix({ preferredLifetime: 7200, validLifetime: 3600 }),
        prefix({ validLifetime: 0, preferredLifetime: 0 }),
      ]),
    );
    settle([stack], 10);
    expect(received(peer).filter((m) => m.icmp.type === 'neighborSolicit')).toEqual([]);
    settle([stack], 5000);
    expect(stack.iface.addresses.map((c) => c.address.toString())).toEqual(['fe80::ff:fe00:a']);
    // Only the valid advertisement (the last) made the router a default router.
    expect(stack.iface.gateways.map((g) => g.toString())).toEqual(['fe80::1']);
  });

  it('is off unless asked: no solicitation, advertisements change nothing', () => {
    const { stack, peer } = setup(false);
    settle([stack], 0);
    sendIcmp(peer, macA, routerAddr, allNodes, routerAdvert([prefix()]));
    settle([stack], 2000);
    expect(received(peer)).toEqual([]);
    expect(stack.iface.hasAddress(formed)).toBe(false);
  });
});

describe('SLAAC under the DAD sysctls', () => {
  it('dad_transmits 2 and enhanced_dad 0: two solicitations without a nonce, valid RetransTimer after the second', () => {
    const { stack, peer } = setup();
    stack.iface.ipv6Sysctl.conf.device.dadTransmits = 2;
    stack.iface.ipv6Sysctl.conf.device.enhancedDad = 0;
    stack.iface.ipv6Sysctl.conf.all.enhancedDad = 0;
    settle([stack], 0);
    received(peer);
    sendIcmp(peer, macA, routerAddr, allNodes, routerAdvert([prefix()]));
    const probes: [number, unknown][] = [];
    for (let t = 10; t <= 2010; t += 500) {
      settle([stack], t);
      for (const m of received(peer)) if (m.icmp.type === 'neighborSolicit') probes.push([t, m.icmp.nonce]);
      if (t === 1510) expect(stack.iface.hasAddress(formed)).toBe(false);
    }
    expect(probes).toEqual([
      [10, undefined],
      [1010, undefined],
    ]);
    expect(stack.iface.hasAddress(formed)).toBe(true);
  });
});
