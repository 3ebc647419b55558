// Helpers for SLAAC tests: a hand-driven router on the far end of an Ethernet link.
import type { Device } from '../phy/device.js';
import { seededRandom } from '../phy/fault-injector.js';
import { linkPair } from '../phy/loopback.js';
import { Stack } from '../stack.js';
import {
  EtherType,
  EthernetAddress,
  EthernetFrame,
  EthernetRepr,
  ETHERNET_HEADER_LEN,
} from '../wire/ethernet.js';
import { isWireError } from '../wire/error.js';
import { Icmpv6Packet, Icmpv6Repr, type PrefixInfo } from '../wire/icmpv6.js';
import { Ipv6Address } from '../wire/ip-address.js';
import { IpProtocol } from '../wire/ipv4.js';
import { IPV6_HEADER_LEN, Ipv6Packet, Ipv6Repr } from '../wire/ipv6.js';
import type { AddrconfOptions } from './slaac.js';

/** The router's MAC and link-local address. */
export const routerMac = EthernetAddress.parse('52:54:00:00:00:01')!;
export const routerAddr = Ipv6Address.parse('fe80::1')!;
export const allNodes = Ipv6Address.parse('ff02::1')!;

/**
 * A stack with no configured address, a link-local one and SLAAC (unless `slaac` is false) on
 * one end of an Ethernet link; `peer` is the other end, where the tests play the router.
 */
export function slaacStack(options: {
  readonly mac: EthernetAddress;
  readonly seed: number;
  readonly slaac?: boolean;
  readonly addrconf?: AddrconfOptions;
}): { stack: Stack; peer: Device } {
  const [dev, peer] = linkPair({ medium: 'ethernet', mtu: 1500 });
  const stack = new Stack({
    device: dev,
    addresses: [],
    hardwareAddress: options.mac,
    ipv6LinkLocal: true,
    slaac: options.slaac ?? true,
    ...(options.addrconf ? { addrconf: options.addrconf } : {}),
    seed: options.seed,
  });
  return { stack, peer };
}

/**
 * Sends `icmp` from the router end `peer` (Ethernet source `from`) to the stack whose MAC is
 * `to` (multicast: group MAC).
 */
export function sendIcmp(
  peer: Device,
  to: EthernetAddress,
  src: Ipv6Address,
  dst: Ipv6Address,
  icmp: Icmpv6Repr,
  hopLimit = 255,
  from = routerMac,
): void {
  peer.transmit(0, icmpFrame(to, src, dst, icmp, hopLimit, from));
}

/** The Ethernet frame {@link sendIcmp} sends. */
export function icmpFrame(
  to: EthernetAddress,
  src: Ipv6Address,
  dst: Ipv6Address,
  icmp: Icmpv6Repr,
  hopLimit = 255,
  from = routerMac,
): Uint8Array {
  const len = Icmpv6Repr.bufferLen(icmp);
  const frame = new Uint8Array(ETHERNET_HEADER_LEN + IPV6_HEADER_LEN + len);
  const b = dst.bytes;
  const mac = dst.isMulticast() ? new EthernetAddress([0x33, 0x33, b[12]!, b[13]!, b[14]!, b[15]!]) : to;
  EthernetRepr.emit({ src: from, dst: mac, ethertype: EtherType.IPV6 }, EthernetFrame.unchecked(frame));
  const ip = frame.subarray(ETHERNET_HEADER_LEN);
  Ipv6Repr.emit(
    { src, dst, nextHeader: IpProtocol.ICMPV6, payloadLen: len, hopLimit },
    Ipv6Packet.unchecked(ip),
  );
  Icmpv6Repr.emit(icmp, Icmpv6Packet.unchecked(ip.subarray(IPV6_HEADER_LEN)), src, dst);
  return frame;
}

/** Every ICMPv6 message the stack sent since the last call, with its Ethernet destination. */
export function receivedFrames(
  peer: Device,
): { mac: EthernetAddress; src: Ipv6Address; dst: Ipv6Address; icmp: Icmpv6Repr }[] {
  const out: { mac: EthernetAddress; src: Ipv6Address; dst: Ipv6Address; icmp: Icmpv6Repr }[] = [];
  for (let f = peer.receive(0); f; f = peer.receive(0)) {
    const eth = EthernetFrame.checked(f);
    if (isWireError(eth) || eth.ethertype !== EtherType.IPV6) continue;
    const ip = Ipv6Repr.parse(Ipv6Packet.checked(eth.payload) as Ipv6Packet);
    if (isWireError(ip) || ip.nextHeader !== IpProtocol.ICMPV6) continue;
    const src = ip.src as Ipv6Address;
    const dst = ip.dst as Ipv6Address;
    const icmp = Icmpv6Repr.parse(
      Icmpv6Packet.checked(eth.payload.subarray(IPV6_HEADER_LEN)) as Icmpv6Packet,
      src,
      dst,
    );
    if (!isWireError(icmp)) out.push({ mac: eth.dst, src, dst, icmp });
  }
  return out;
}

/** Every ICMPv6 message the stack sent since the last call, with its addresses. */
export function received(peer: Device): { src: Ipv6Address; dst: Ipv6Address; icmp: Icmpv6Repr }[] {
  return receivedFrames(peer).map(({ src, dst, icmp }) => ({ src, dst, icmp }));
}

/** The targets of the DAD solicitations (from ::) among `msgs`. */
export function dadTargets(msgs: ReturnType<typeof received>): string[] {
  return msgs.flatMap((m) =>
    m.icmp.type === 'neighborSolicit' && m.src.isUnspecified() ? [m.icmp.target.toString()] : [],
  );
}

/** A prefix information option (autonomous, on-link /64) with `o` changed. */
export function prefixInfo(prefix: string, o: Partial<PrefixInfo> = {}): PrefixInfo {
  return {
    prefix: Ipv6Address.parse(prefix)!,
    prefixLength: 64,
    onLink: true,
    autonomous: true,
    validLifetime: 3600,
    preferredLifetime: 1800,
    ...o,
  };
}

/** A router advertisement with `prefixes`. */
export function routerAdvert(
  prefixes: PrefixInfo[],
  routerLifetime = 1800,
): Extract<Icmpv6Repr, { type: 'routerAdvert' }> {
  return {
    type: 'routerAdvert',
    curHopLimit: 64,
    managed: false,
    other: false,
    routerLifetime,
    reachableTime: 0,
    retransTimer: 0,
    sourceLinkAddr: routerMac,
    mtu: 1500,
    prefixes,
  };
}

/** A neighbor advertisement claiming `target`: makes a tentative address a duplicate. */
export function claim(target: Ipv6Address): Icmpv6Repr {
  return {
    type: 'neighborAdvert',
    router: false,
    solicited: false,
    override: true,
    target,
    targetLinkAddr: routerMac,
  };
}

/**
 * A deterministic stand-in for the random byte source: each call returns the next queued
 * byte string if any (cut or zero-padded to the size asked), then bytes of a seeded PRNG.
 */
export function scriptedBytes(queue: Uint8Array[] = [], seed = 1): (n: number) => Uint8Array {
  const random = seededRandom(seed);
  return (n) => {
    const q = queue.shift();
    const out = new Uint8Array(n);
    if (q) out.set(q.subarray(0, n));
    else for (let i = 0; i < n; i++) out[i] = Math.floor(random() * 256);
    return out;
  };
}
