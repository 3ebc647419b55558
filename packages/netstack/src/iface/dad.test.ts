// Duplicate address detection (RFC 4862 §5.4) of assigned IPv6 addresses, as Linux's
// addrconf_dad_start runs it: the link-local address that comes back when the device comes up,
// and addresses `ip addr add` puts on it. Compared with Linux on a veth by the runtime's
// gateway/gateway-ipv6-sandbox.test.ts (testdata/ipv6-dad.c, and `ip monitor` over down and up).
import { E } from '@tsvisor/abi';
import { describe, expect, it } from 'vitest';
import { linkPair } from '../phy/loopback.js';
import { settle } from '../stack.test-util.js';
import { Stack } from '../stack.js';
import { EthernetAddress } from '../wire/ethernet.js';
import type { Icmpv6Repr } from '../wire/icmpv6.js';
import { Ipv6Address } from '../wire/ip-address.js';
import { cidr } from './interface.js';
import { stableAddress } from './interface-id.js';
import { IfaFlag } from './slaac.js';
import {
  allNodes,
  claim,
  dadTargets,
  received,
  routerAddr,
  scriptedBytes,
  sendIcmp,
} from './slaac.test-util.js';

const mac = EthernetAddress.parse('02:42:0a:00:02:0f')!;
const ll = Ipv6Address.parse('fe80::42:aff:fe00:20f')!;
const solicitedNode = Ipv6Address.parse('ff02::1:ff00:20f')!;
const { PERMANENT, TENTATIVE, DADFAILED, NODAD } = IfaFlag;

/** The enhanced-DAD nonce of the `i`th DAD run of {@link eth0} (0-based). */
const nonceOf = (i: number): Uint8Array => Uint8Array.of(0x6e, 0x6f, 0x6e, 0x63, 0x65, i + 1);

/**
 * eth0 as the network sandbox has it, on an Ethernet link whose far end (`peer`) the tests
 * play; DAD's random delays are `delays` (ms, below 1000), in turn, each run's nonce
 * {@link nonceOf} its index (drawn after its delay, as addrconf_dad_kick draws them).
 */
function eth0(delays: number[] = [500]): { stack: Stack; peer: ReturnType<typeof linkPair>[1] } {
  const [dev, peer] = linkPair({ medium: 'ethernet', mtu: 1500 });
  const stack = new Stack({
    device: dev,
    addresses: [cidr('127.0.0.1/8'), cidr('::1/128'), cidr('fd00::100/64')],
    hardwareAddress: mac,
    ipv6LinkLocal: true,
    addrconf: {
      randomBytes: scriptedBytes(delays.flatMap((d, i) => [new Uint8Array([d >> 8, d & 0xff]), nonceOf(i)])),
    },
  });
  return { stack, peer };
}

/** The device's IPv6 addresses with their IFA_F_* flags. */
function flags(stack: Stack): [string, number][] {
  return stack.iface
    .ipv6Addresses()
    .filter((a) => !a.cidr.address.isLoopback())
    .map((a) => [a.cidr.address.toString(), a.flags]);
}

/** bind(2) of a UDP socket to `addr` port 0: undefined when it worked, else the errno. */
function bindTo(stack: Stack, addr: Ipv6Address): number | undefined {
  const u = stack.udpSocket(6);
  const r = u.bind({ addr, port: 0 });
  u.close();
  return r?.errno;
}

/** Takes the device down and up again, as `ip link set eth0 down; ip link set eth0 up`. */
function cycle(stack: Stack): void {
  expect(stack.setDeviceUp(false)).toBeUndefined();
  expect(stack.setDeviceUp(true)).toBeUndefined();
}

describe('DAD of the link-local address when the device comes up', () => {
  it('is tentative, solicits from :: after the random delay, and is valid a RetransTimer later', () => {
    const { stack, peer } = eth0([500]);
    expect(bindTo(stack, ll)).toBeUndefined(); // formed with the stack: valid from the start
    cycle(stack);
    expect(flags(stack)).toEqual([['fe80::42:aff:fe00:20f', PERMANENT | TENTATIVE]]);
    // Linux: EADDRNOTAVAIL (ipv6_chk_addr skips IFA_F_TENTATIVE); no source, no local address.
    expect(bindTo(stack, ll)).toBe(E.EADDRNOTAVAIL.errno);
    expect(stack.isLocalAddress(ll)).toBe(false);
    // The first poll starts DAD; its solicitation waits for the random delay.
    expect(settle([stack], 0)).toBe(500);
    expect(received(peer)).toEqual([]);
    expect(settle([stack], 500)).toBe(1500);
    expect(received(peer)).toEqual([
      {
        src: Ipv6Address.UNSPECIFIED,
        dst: solicitedNode,
        icmp: { type: 'neighborSolicit', target: ll, nonce: nonceOf(0) },
      },
    ]);
    settle([stack], 1499);
    expect(flags(stack)).toEqual([['fe80::42:aff:fe00:20f', PERMANENT | TENTATIVE]]);
    expect(settle([stack], 1500)).toBeUndefined();
    expect(flags(stack)).toEqual([['fe80::42:aff:fe00:20f', PERMANENT]]);
    expect(bindTo(stack, ll)).toBeUndefined();
    expect(stack.isLocalAddress(ll)).toBe(true);
    expect(received(peer)).toEqual([]); // one solicitation (dad_transmits 1)
  });

  it('keeps the prefix route while tentative, and answers no solicitation for the address', () => {
    const { stack, peer } = eth0([0]);
    cycle(stack);
    expect(stack.iface.lookupRoute(routerAddr)?.gateway).toBeUndefined(); // fe80::/64 on link
    settle([stack], 0);
    received(peer);
    // Address resolution of our tentative address from a unicast source: not answered, and
    // not a duplicate either (RFC 4862 §5.4.3).
    sendIcmp(peer, mac, routerAddr, solicitedNode, {
      type: 'neighborSolicit',
      target: ll,
      sourceLinkAddr: EthernetAddress.parse('52:54:00:00:00:01')!,
    });
    settle([stack], 10);
    expect(received(peer)).toEqual([]);
    settle([stack], 1000);
    expect(flags(stack)).toEqual([['fe80::42:aff:fe00:20f', PERMANENT]]);
    // Valid, the same solicitation is answered.
    sendIcmp(peer, mac, routerAddr, solicitedNode, {
      type: 'neighborSolicit',
      target: ll,
      sourceLinkAddr: EthernetAddress.parse('52:54:00:00:00:01')!,
    });
    settle([stack], 1010);
    expect(received(peer).map((m) => m.icmp.type)).toEqual(['neighborAdvert']);
  });

  it('an advertisement for it makes it dadfailed for good; down and up runs DAD again', () => {
    const { stack, peer } = eth0([100, 200]);
    cycle(stack);
    settle([stack], 0);
    settle([stack], 100);
    expect(received(peer).length).toBe(1);
    // The node that has the address defends it (RFC 4861 §7.2.4: to all nodes).
    sendIcmp(peer, mac, ll, allNodes, claim(ll));
    expect(settle([stack], 150)).toBeUndefined();
    for (const t of [1100, 5000]) settle([stack], t);
    expect(flags(stack)).toEqual([['fe80::42:aff:fe00:20f', PERMANENT | TENTATIVE | DADFAILED]]);
    expect(bindTo(stack, ll)).toBe(E.EADDRNOTAVAIL.errno);
    expect(received(peer)).toEqual([]);
    cycle(stack);
    expect(flags(stack)).toEqual([['fe80::42:aff:fe00:20f', PERMANENT | TENTATIVE]]);
    settle([stack], 6000);
    settle([stack], 6200);
    expect(received(peer).map((m) => [m.src.toString(), m.icmp.type])).toEqual([['::', 'neighborSolicit']]);
    settle([stack], 7200);
    expect(flags(stack)).toEqual([['fe80::42:aff:fe00:20f', PERMANENT]]);
  });

  it("another node's DAD solicitation for the same address fails both (RFC 4862 §5.4.3)", () => {
    const { stack, peer } = eth0([900]);
    cycle(stack);
    settle([stack], 0);
    sendIcmp(peer, mac, Ipv6Address.UNSPECIFIED, solicitedNode, { type: 'neighborSolicit', target: ll });
    settle([stack], 10);
    // Found before its own solicitation was due: none goes out.
    for (const t of [900, 3000]) settle([stack], t);
    expect(received(peer)).toEqual([]);
    expect(flags(stack)).toEqual([['fe80::42:aff:fe00:20f', PERMANENT | TENTATIVE | DADFAILED]]);
  });

  it('a DAD solicitation not sent to a solicited-node group is dropped: no conflict, no answer', () => {
    const { stack, peer } = eth0([900, 0]);
    cycle(stack);
    settle([stack], 0);
    // ndisc_recv_ns: "bad DAD packet (wrong destination)", to all nodes or to the address itself.
    for (const dst of [allNodes, ll])
      sendIcmp(peer, mac, Ipv6Address.UNSPECIFIED, dst, { type: 'neighborSolicit', target: ll });
    settle([stack], 10);
    for (const t of [900, 1900]) settle([stack], t);
    expect(dadTargets(received(peer))).toEqual([ll.toString()]);
    expect(flags(stack)).toEqual([['fe80::42:aff:fe00:20f', PERMANENT]]);
    // Valid now: the same probes are still no DAD probes, so they get no advertisement.
    for (const dst of [allNodes, ll])
      sendIcmp(peer, mac, Ipv6Address.UNSPECIFIED, dst, { type: 'neighborSolicit', target: ll });
    settle([stack], 1910);
    expect(received(peer)).toEqual([]);
    // Any solicited-node group will do, as ipv6_addr_is_solict_mult asks no more.
    sendIcmp(peer, mac, Ipv6Address.UNSPECIFIED, Ipv6Address.parse('ff02::1:ff99:9999')!, {
      type: 'neighborSolicit',
      target: ll,
    });
    settle([stack], 1920);
    expect(received(peer).map((m) => [m.dst.toString(), m.icmp.type])).toEqual([
      ['ff02::1', 'neighborAdvert'],
    ]);
  });

  it('a down device holds DAD until it is up', () => {
    const { stack, peer } = eth0([0, 0, 0]);
    expect(stack.setDeviceUp(false)).toBeUndefined();
    expect(stack.iface.addAddress(cidr('fd00::5/64'))).toBeUndefined();
    for (const t of [0, 5000]) settle([stack], t);
    expect(flags(stack)).toEqual([['fd00::5', PERMANENT | TENTATIVE]]);
    expect(stack.setDeviceUp(true)).toBeUndefined();
    settle([stack], 6000);
    expect(received(peer).map((m) => (m.icmp as { target: Ipv6Address }).target.toString())).toEqual([
      'fd00::5',
      'fe80::42:aff:fe00:20f',
    ]);
    settle([stack], 7000);
    expect(flags(stack)).toEqual([
      ['fd00::5', PERMANENT],
      ['fe80::42:aff:fe00:20f', PERMANENT],
    ]);
  });
});

describe('enhanced DAD (RFC 7527, Linux enhanced_dad 1)', () => {
  /** Starts DAD of the link-local address after down and up; returns its solicitation. */
  function solicited(stack: Stack, peer: ReturnType<typeof linkPair>[1]): Icmpv6Repr {
    cycle(stack);
    settle([stack], 0);
    settle([stack], 100);
    const [ns, ...rest] = received(peer);
    expect(rest).toEqual([]);
    return ns!.icmp;
  }

  it('its own solicitation looped back by the link (its nonce) is no conflict: the address becomes valid', () => {
    const { stack, peer } = eth0([100, 100]);
    const ns = solicited(stack, peer);
    expect(ns).toEqual({ type: 'neighborSolicit', target: ll, nonce: nonceOf(0) });
    // A bridge that reflects multicast hands the frame back as it was.
    sendIcmp(peer, mac, Ipv6Address.UNSPECIFIED, solicitedNode, ns);
    settle([stack], 110);
    expect(flags(stack)).toEqual([['fe80::42:aff:fe00:20f', PERMANENT | TENTATIVE]]);
    settle([stack], 1100);
    expect(flags(stack)).toEqual([['fe80::42:aff:fe00:20f', PERMANENT]]);
    // Each run draws its own nonce: the next one's solicitation carries the next.
    cycle(stack);
    for (const t of [1200, 1300]) settle([stack], t);
    expect(received(peer).map((m) => m.icmp)).toEqual([
      { type: 'neighborSolicit', target: ll, nonce: nonceOf(1) },
    ]);
  });

  it("another nonce, a zero nonce, or none is another node's DAD: dadfailed", () => {
    const other = nonceOf(0).slice();
    other[5] = other[5]! ^ 0x80;
    for (const nonce of [other, new Uint8Array(6), undefined]) {
      const { stack, peer } = eth0([100]);
      solicited(stack, peer);
      sendIcmp(peer, mac, Ipv6Address.UNSPECIFIED, solicitedNode, {
        type: 'neighborSolicit',
        target: ll,
        nonce,
      });
      settle([stack], 110);
      expect(flags(stack)).toEqual([['fe80::42:aff:fe00:20f', PERMANENT | TENTATIVE | DADFAILED]]);
    }
  });
});

const secret = Ipv6Address.parse('2001:db8:1:2:3:4:5:6')!;
/** The link-local address RFC 7217 forms with DAD counter `n`. */
const stableLl = (n: number): Ipv6Address =>
  stableAddress(Ipv6Address.parse('fe80::')!, mac, n, secret)!.address;

/**
 * {@link eth0} with addr_gen_mode 2 (stable-privacy): each DAD run's random delay (ms) from
 * `delays`, its nonce nonceOf(run).
 */
function stableEth0(delays: number[]): { stack: Stack; peer: ReturnType<typeof linkPair>[1] } {
  const [dev, peer] = linkPair({ medium: 'ethernet', mtu: 1500 });
  const stack = new Stack({
    device: dev,
    addresses: [],
    hardwareAddress: mac,
    ipv6LinkLocal: true,
    addrconf: {
      addrGenMode: 'stable-privacy',
      stableSecret: secret,
      randomBytes: scriptedBytes(delays.flatMap((d, i) => [new Uint8Array([d >> 8, d & 0xff]), nonceOf(i)])),
    },
  });
  return { stack, peer };
}

describe('a stable-privacy link-local address that DAD finds in use (RFC 7217 §6, addrconf_dad_failure)', () => {
  const { STABLE_PRIVACY } = IfaFlag;

  it('is formed again with the next DAD counter, idgen_delay (1 s) later; that one is used', () => {
    const { stack, peer } = stableEth0([100, 200]);
    const [ll0, ll1] = [stableLl(0), stableLl(1)];
    expect(stack.iface.linkLocal).toEqual(ll0);
    cycle(stack);
    settle([stack], 0);
    settle([stack], 100);
    expect(dadTargets(received(peer))).toEqual([ll0.toString()]);
    sendIcmp(peer, mac, ll0, allNodes, claim(ll0));
    settle([stack], 150);
    expect(flags(stack)).toEqual([
      [ll0.toString(), PERMANENT | STABLE_PRIVACY | TENTATIVE | DADFAILED],
      [ll1.toString(), PERMANENT | STABLE_PRIVACY | TENTATIVE],
    ]);
    // idgen_delay, then DAD as for any address: its random delay (200 ms), one solicitation.
    expect(settle([stack], 1149)).toBe(1150);
    expect(received(peer)).toEqual([]);
    expect(settle([stack], 1150)).toBe(1350);
    settle([stack], 1350);
    expect(received(peer).map((m) => m.icmp)).toEqual([
      { type: 'neighborSolicit', target: ll1, nonce: nonceOf(1) },
    ]);
    expect(bindTo(stack, ll1)).toBe(E.EADDRNOTAVAIL.errno);
    expect(settle([stack], 2350)).toBeUndefined();
    expect(flags(stack)).toEqual([
      [ll0.toString(), PERMANENT | STABLE_PRIVACY | TENTATIVE | DADFAILED],
      [ll1.toString(), PERMANENT | STABLE_PRIVACY],
    ]);
    expect(bindTo(stack, ll1)).toBeUndefined();
    expect(stack.sourceAddressFor(routerAddr)).toEqual(ll1);
    // Down and up forms the counter-0 address again (addrconf_addr_gen), as Linux does.
    cycle(stack);
    expect(flags(stack)).toEqual([[ll0.toString(), PERMANENT | STABLE_PRIVACY | TENTATIVE]]);
  });

  it('gives up after idgen_retries (3) more addresses, each found in use', () => {
    const { stack, peer } = stableEth0([0, 0, 0, 0, 0]);
    cycle(stack);
    const tried: string[] = [];
    for (let t = 0; t <= 8000; t += 100) {
      settle([stack], t);
      for (const target of dadTargets(received(peer))) {
        tried.push(target);
        const a = Ipv6Address.parse(target)!;
        sendIcmp(peer, mac, a, allNodes, claim(a));
      }
    }
    expect(tried).toEqual([0, 1, 2, 3].map((n) => stableLl(n).toString()));
    expect(flags(stack)).toEqual(
      [0, 1, 2, 3].map((n) => [stableLl(n).toString(), PERMANENT | STABLE_PRIVACY | TENTATIVE | DADFAILED]),
    );
  });

  it('an EUI-64 link-local address is not formed again', () => {
    const { stack, peer } = eth0([0]);
    cycle(stack);
    settle([stack], 0);
    received(peer);
    sendIcmp(peer, mac, ll, allNodes, claim(ll));
    for (const t of [10, 2000, 5000]) settle([stack], t);
    expect(flags(stack)).toEqual([['fe80::42:aff:fe00:20f', PERMANENT | TENTATIVE | DADFAILED]]);
  });
});

describe('DAD of addresses ip addr add puts on the device', () => {
  it('runs for an IPv6 address on an Ethernet device unless nodad; never on lo or a NOARP device', () => {
    const { stack } = eth0([0]);
    const added = Ipv6Address.parse('2001:db8::5')!;
    expect(stack.iface.addAddress(cidr('2001:db8::5/64'))).toBeUndefined();
    expect(stack.iface.addAddress(cidr('2001:db8::5/64'))).toBe(E.EEXIST);
    expect(stack.iface.addAddress(cidr('2001:db8::6/64'), { flags: NODAD })).toBeUndefined();
    expect(stack.iface.addAddress(cidr('2001:db8::7/128'), { loopback: true })).toBeUndefined();
    expect(flags(stack)).toEqual([
      ['fd00::100', PERMANENT],
      ['fe80::42:aff:fe00:20f', PERMANENT],
      ['2001:db8::5', PERMANENT | TENTATIVE],
      ['2001:db8::6', PERMANENT | NODAD],
      ['2001:db8::7', PERMANENT],
    ]);
    // No source while tentative: the route's other address is taken.
    expect(stack.sourceAddressFor(Ipv6Address.parse('2001:db8::9')!)?.toString()).toBe('2001:db8::6');
    expect(bindTo(stack, added)).toBe(E.EADDRNOTAVAIL.errno);
    settle([stack], 0);
    settle([stack], 1000);
    expect(bindTo(stack, added)).toBeUndefined();
    // Removing a tentative address ends its DAD.
    expect(stack.iface.addAddress(cidr('2001:db8::8/64'))).toBeUndefined();
    expect(stack.iface.removeAddress(cidr('2001:db8::8/64'))).not.toBe(E.EADDRNOTAVAIL);
    expect(settle([stack], 2000)).toBeUndefined();

    const [ipDev] = linkPair({ medium: 'ip', mtu: 1500 });
    const tun = new Stack({ device: ipDev, addresses: [cidr('10.0.0.1/24')] });
    expect(tun.iface.addAddress(cidr('fd01::1/64'))).toBeUndefined();
    expect(tun.iface.ipv6Addresses().map((a) => a.flags)).toEqual([PERMANENT]);
  });
});

describe('the DAD sysctls (net.ipv6.conf.<dev>.dad_transmits, enhanced_dad; net.ipv6.idgen_*)', () => {
  it('dad_transmits: that many solicitations, RetransTimer apart, taken when a run starts', () => {
    const { stack, peer } = eth0([100, 0, 0]);
    const conf = stack.iface.ipv6Sysctl.conf;
    conf.all.dadTransmits = 5; // `all` changes no device (its value is never read)
    conf.device.dadTransmits = 3;
    cycle(stack);
    const sent: number[] = [];
    for (let t = 0; t <= 4000; t += 50) {
      settle([stack], t);
      if (dadTargets(received(peer)).length > 0) sent.push(t);
      if (t === 150) conf.device.dadTransmits = 1; // the run under way keeps its count
    }
    expect(sent).toEqual([100, 1100, 2100]);
    expect(flags(stack)).toEqual([['fe80::42:aff:fe00:20f', PERMANENT]]);
    expect(settle([stack], 3100)).toBeUndefined();
  });

  it('dad_transmits 0 (or 256, kept in a byte): valid after the delay, no solicitation', () => {
    for (const n of [0, 256]) {
      const { stack, peer } = eth0([300]);
      stack.iface.ipv6Sysctl.conf.device.dadTransmits = n;
      cycle(stack);
      expect(settle([stack], 0)).toBe(300);
      expect(flags(stack)).toEqual([['fe80::42:aff:fe00:20f', PERMANENT | TENTATIVE]]);
      expect(settle([stack], 300)).toBeUndefined();
      expect(flags(stack)).toEqual([['fe80::42:aff:fe00:20f', PERMANENT]]);
      expect(received(peer)).toEqual([]);
    }
  });

  it('enhanced_dad 0 on the device and on all: no nonce, and its own solicitation looped back is a conflict', () => {
    const { stack, peer } = eth0([100]);
    const conf = stack.iface.ipv6Sysctl.conf;
    conf.device.enhancedDad = 0;
    conf.all.enhancedDad = 0;
    cycle(stack);
    settle([stack], 0);
    settle([stack], 100);
    const [ns] = received(peer);
    expect(ns!.icmp).toEqual({ type: 'neighborSolicit', target: ll, nonce: undefined });
    sendIcmp(peer, mac, Ipv6Address.UNSPECIFIED, solicitedNode, ns!.icmp);
    settle([stack], 110);
    expect(flags(stack)).toEqual([['fe80::42:aff:fe00:20f', PERMANENT | TENTATIVE | DADFAILED]]);
    // Either one on is enough (addrconf_dad_kick ORs the device's and all's).
    const again = eth0([100]);
    again.stack.iface.ipv6Sysctl.conf.device.enhancedDad = 0;
    cycle(again.stack);
    settle([again.stack], 0);
    settle([again.stack], 100);
    expect(received(again.peer).map((m) => m.icmp)).toEqual([
      { type: 'neighborSolicit', target: ll, nonce: nonceOf(0) },
    ]);
  });
});

describe('idgen_retries and idgen_delay for a stable-privacy link-local address in use', () => {
  /** Claims every address the stack probes for until `end` (ms); the times of the probes. */
  function claimAll(stack: Stack, peer: ReturnType<typeof linkPair>[1], end: number): [number, string][] {
    const tried: [number, string][] = [];
    for (let t = 0; t <= end; t += 100) {
      settle([stack], t);
      for (const target of dadTargets(received(peer))) {
        tried.push([t, target]);
        const a = Ipv6Address.parse(target)!;
        sendIcmp(peer, mac, a, allNodes, claim(a));
      }
    }
    return tried;
  }

  it('the next address waits idgen_delay as set when the conflict came; idgen_retries bounds them', () => {
    const { stack, peer } = stableEth0([0, 0, 0, 0]);
    stack.iface.ipv6Sysctl.idgenDelay = 3;
    stack.iface.ipv6Sysctl.idgenRetries = 1;
    cycle(stack);
    expect(claimAll(stack, peer, 8000)).toEqual([
      [0, stableLl(0).toString()],
      [3100, stableLl(1).toString()], // the claim arrived at 100
    ]);
    expect(flags(stack).map(([a]) => a)).toEqual([stableLl(0).toString(), stableLl(1).toString()]);
  });

  it('idgen_retries 0 forms no other; a negative idgen_delay leaves the next one tentative for good', () => {
    const none = stableEth0([0, 0, 0, 0]);
    none.stack.iface.ipv6Sysctl.idgenRetries = 0;
    cycle(none.stack);
    expect(claimAll(none.stack, none.peer, 3000)).toEqual([[0, stableLl(0).toString()]]);
    expect(flags(none.stack)).toHaveLength(1);

    const never = stableEth0([0, 0, 0, 0]);
    never.stack.iface.ipv6Sysctl.idgenDelay = -1;
    cycle(never.stack);
    expect(claimAll(never.stack, never.peer, 5000)).toEqual([[0, stableLl(0).toString()]]);
    expect(flags(never.stack)[1]).toEqual([
      stableLl(1).toString(),
      PERMANENT | IfaFlag.STABLE_PRIVACY | TENTATIVE,
    ]);
    expect(settle([never.stack], 6000)).toBeUndefined();
  });
});
