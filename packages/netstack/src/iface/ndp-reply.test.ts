// Neighbor discovery's own messages leave by the device, whatever the routes say, as Linux's
// ndisc_send_na and ndisc_send_ns send on the device they are given (ndisc_send_skb allocates
// its dst on that device, with no route lookup): a solicitation is answered even when no route
// leads back to its source, and through a route's gateway it is still answered to the source.
// Compared with Linux over a TAP by phy/tap-ndp.test.ts.
import { describe, expect, it } from 'vitest';
import type { Device } from '../phy/device.js';
import { linkPair } from '../phy/loopback.js';
import { settle } from '../stack.test-util.js';
import { Stack } from '../stack.js';
import { EthernetAddress } from '../wire/ethernet.js';
import type { Icmpv6Repr } from '../wire/icmpv6.js';
import { IpCidr, Ipv6Address } from '../wire/ip-address.js';
import { cidr, solicitedNodeAddress } from './interface.js';
import { IfaFlag } from './slaac.js';
import { receivedFrames, sendIcmp } from './slaac.test-util.js';

const mac = EthernetAddress.parse('02:00:00:00:0a:02')!;
const peerMac = EthernetAddress.parse('52:54:00:00:0b:01')!;
const gatewayMac = EthernetAddress.parse('52:54:00:00:0c:01')!;
const me = Ipv6Address.parse('fd0a::2')!;
const gateway = Ipv6Address.parse('fe80::1')!;
/** The peer's global address, in a prefix the stack reaches only through a route. */
const farPeer = Ipv6Address.parse('fd0c::1')!;

/** A frame the stack sent: its Ethernet destination, IPv6 addresses and ICMPv6 message. */
interface Sent {
  readonly mac: string;
  readonly src: string;
  readonly dst: string;
  readonly icmp: Icmpv6Repr;
}

/** Every ICMPv6 frame the stack sent since the last call. */
function sent(peer: Device): Sent[] {
  return receivedFrames(peer).map(({ mac, src, dst, icmp }) => ({
    mac: mac.toString(),
    src: src.toString(),
    dst: dst.toString(),
    icmp,
  }));
}

/** eth0 with fd0a::2/64 (no DAD: valid at once) and a default route through fe80::1. */
function eth0(): { stack: Stack; peer: Device } {
  const [dev, peer] = linkPair({ medium: 'ethernet', mtu: 1500 });
  const stack = new Stack({
    device: dev,
    addresses: [cidr('fd0a::2/64')],
    hardwareAddress: mac,
    ipv6LinkLocal: true,
    gateways: [gateway],
    seed: 3,
    // DAD's random delay fixed at 639 ms: a link-local address DAD probes again after the link
    // comes back must not be sent within the tests' 10 ms (Web Crypto's delay was under 10 ms
    // once in a hundred runs).
    addrconf: { randomBytes: (n) => new Uint8Array(n).fill(0x7f) },
  });
  return { stack, peer };
}

/** The solicited advertisement for `me` that answers a solicitation from `to`, as Linux sends it. */
const advert = (to: Ipv6Address, linkDst: EthernetAddress): Sent => ({
  mac: linkDst.toString(),
  src: me.toString(),
  dst: to.toString(),
  icmp: {
    type: 'neighborAdvert',
    router: false,
    solicited: true,
    override: true,
    target: me,
    targetLinkAddr: mac,
  },
});

/** A solicitation for `me` from `src` (to its solicited-node group unless `dst`), from `peerMac`. */
function solicit(peer: Device, src: Ipv6Address, sourceLinkAddr?: EthernetAddress, dst?: Ipv6Address): void {
  sendIcmp(
    peer,
    mac,
    src,
    dst ?? solicitedNodeAddress(me),
    { type: 'neighborSolicit', target: me, sourceLinkAddr },
    255,
    peerMac,
  );
}

describe('neighbor advertisements leave by the device the solicitation came in by', () => {
  it('after down and up, a solicitation from an address no route reaches any more is answered', () => {
    const { stack, peer } = eth0();
    expect(stack.iface.lookupRoute(farPeer)?.gateway?.equals(gateway)).toBe(true);
    // ip link set eth0 down; up; ip addr add fd0a::2/64 nodad: the default route is gone.
    expect(stack.setDeviceUp(false)).toBeUndefined();
    expect(stack.setDeviceUp(true)).toBeUndefined();
    expect(stack.iface.addAddress(cidr('fd0a::2/64'), { flags: IfaFlag.NODAD })).toBeUndefined();
    expect(stack.iface.lookupRoute(farPeer)).toBeUndefined();
    settle([stack], 0);
    sent(peer);
    solicit(peer, farPeer, peerMac);
    settle([stack], 10);
    expect(sent(peer)).toEqual([advert(farPeer, peerMac)]);
    // The solicitation taught the stack the peer's link address, but no route: an echo request
    // from it gets no reply (Linux: ENETUNREACH in icmpv6_echo_reply's route lookup).
    expect(stack.sourceAddressFor(farPeer)).toBeUndefined();
  });

  it('goes to the link address the solicitation gave, not to the gateway a route names', () => {
    const { stack, peer } = eth0();
    sendIcmp(
      peer,
      mac,
      gateway,
      solicitedNodeAddress(me),
      { type: 'neighborSolicit', target: me, sourceLinkAddr: gatewayMac },
      255,
      gatewayMac,
    );
    settle([stack], 0);
    expect(sent(peer)).toEqual([advert(gateway, gatewayMac)]);
    // A station that the routes put behind the gateway is on this link after all.
    solicit(peer, farPeer, peerMac);
    settle([stack], 10);
    expect(sent(peer)).toEqual([advert(farPeer, peerMac)]);
  });

  it('without a link address option: the cached one; unknown, a unicast one is solicited, a multicast one ignored', () => {
    const { stack, peer } = eth0();
    settle([stack], 0);
    sent(peer);
    // Unknown sender, to the solicited-node group: Linux makes no entry and sends nothing.
    solicit(peer, farPeer);
    settle([stack], 10);
    expect(sent(peer)).toEqual([]);
    // Unknown sender, unicast (a reachability probe): the stack asks for it from the target
    // address, on the link, though the routes lead elsewhere.
    solicit(peer, farPeer, undefined, me);
    settle([stack], 20);
    expect(sent(peer)).toEqual([
      {
        mac: EthernetAddress.ipv6Multicast(solicitedNodeAddress(farPeer)).toString(),
        src: me.toString(),
        dst: solicitedNodeAddress(farPeer).toString(),
        icmp: { type: 'neighborSolicit', target: farPeer, sourceLinkAddr: mac },
      },
    ]);
    // Its answer is learnt, and the next probe is answered there.
    sendIcmp(
      peer,
      mac,
      farPeer,
      me,
      {
        type: 'neighborAdvert',
        router: false,
        solicited: true,
        override: true,
        target: farPeer,
        targetLinkAddr: peerMac,
      },
      255,
      peerMac,
    );
    settle([stack], 30);
    solicit(peer, farPeer, undefined, me);
    settle([stack], 40);
    expect(sent(peer)).toEqual([advert(farPeer, peerMac)]);
    // So is a multicast one now that the sender is known.
    solicit(peer, farPeer);
    settle([stack], 50);
    expect(sent(peer)).toEqual([advert(farPeer, peerMac)]);
  });

  it("DAD's solicitation and its defence leave by the device, even with a default route on lo", () => {
    const { stack, peer } = eth0();
    const lo = { gateway: undefined, loopback: true, metric: 1, src: undefined, mtu: undefined };
    expect(stack.iface.addRoute({ dst: new IpCidr(Ipv6Address.UNSPECIFIED, 0), ...lo })).toBeUndefined();
    expect(stack.iface.addAddress(cidr('fd0a::5/64'))).toBeUndefined();
    for (const t of [0, 1000]) settle([stack], t);
    const dad = sent(peer);
    expect(dad.map((m) => [m.mac, m.src, m.dst, m.icmp.type])).toEqual([
      ['33:33:ff:00:00:05', '::', 'ff02::1:ff00:5', 'neighborSolicit'],
    ]);
    settle([stack], 2000);
    expect(stack.isLocalAddress(Ipv6Address.parse('fd0a::5')!)).toBe(true);
    // Another node's DAD for fd0a::2 is defended to all nodes on the link.
    sendIcmp(
      peer,
      mac,
      Ipv6Address.UNSPECIFIED,
      solicitedNodeAddress(me),
      { type: 'neighborSolicit', target: me },
      255,
      peerMac,
    );
    settle([stack], 2010);
    expect(sent(peer).map((m) => [m.mac, m.src, m.dst, m.icmp.type])).toEqual([
      ['33:33:00:00:00:01', 'fd0a::2', 'ff02::1', 'neighborAdvert'],
    ]);
  });
});
