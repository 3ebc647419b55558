// Helpers for tests where a peer on an IP link plays the router that sends us ICMP errors
// (error-queue, tcp-icmp-error, pmtu, tcp-mtu-reduced): one stack at 10.0.0.1 and fd00::1, a far host behind the
// router, and the router's messages built byte for byte.
import { AddressFamily, isError, SockType } from '@tsvisor/abi';
import { cidr } from '../iface/interface.js';
import type { Device } from '../phy/device.js';
import { linkPair } from '../phy/loopback.js';
import { settle } from '../stack.test-util.js';
import { Stack } from '../stack.js';
import { Icmpv4Packet, Icmpv4Repr, Icmpv4Unreachable } from '../wire/icmpv4.js';
import { Icmpv6Packet, Icmpv6Repr } from '../wire/icmpv6.js';
import { Ipv4Address, Ipv6Address, type IpAddress } from '../wire/ip-address.js';
import { IpProtocol, Ipv4Packet, Ipv4Repr } from '../wire/ipv4.js';
import { Ipv6Packet, Ipv6Repr } from '../wire/ipv6.js';
import { InetSocket } from './inet-socket.js';
import { emitSockaddr } from './sockaddr.js';

export const me4 = Ipv4Address.parse('10.0.0.1')!;
export const far4 = Ipv4Address.parse('10.0.0.9')!;
export const router4 = Ipv4Address.parse('10.0.0.254')!;
export const me6 = Ipv6Address.parse('fd00::1')!;
export const far6 = Ipv6Address.parse('fd00::9')!;
export const router6 = Ipv6Address.parse('fd00::fe')!;

export const addr = (a: IpAddress, port = 0): Uint8Array => emitSockaddr({ addr: a, port });

/** An IPv4 packet from `src` to `dst` that `peer` sends us; `emit` writes its `len` bytes of payload. */
export function ipv4From(
  peer: Device,
  src: Ipv4Address,
  dst: Ipv4Address,
  protocol: number,
  len: number,
  emit: (payload: Uint8Array) => void,
): void {
  const buf = new Uint8Array(20 + len);
  Ipv4Repr.emit({ src, dst, protocol, payloadLen: len, ttl: 64 }, Ipv4Packet.unchecked(buf));
  emit(buf.subarray(20));
  peer.transmit(0, buf);
}

/** The router's ICMPv4 message to us. */
export const icmp4 = (peer: Device, icmp: Icmpv4Repr): void =>
  ipv4From(peer, router4, me4, IpProtocol.ICMP, Icmpv4Repr.bufferLen(icmp), (b) =>
    Icmpv4Repr.emit(icmp, Icmpv4Packet.unchecked(b)),
  );

/** The router's ICMPv6 message to us. */
export function icmp6(peer: Device, icmp: Icmpv6Repr): void {
  const len = Icmpv6Repr.bufferLen(icmp);
  const buf = new Uint8Array(40 + len);
  Ipv6Repr.emit(
    { src: router6, dst: me6, nextHeader: IpProtocol.ICMPV6, payloadLen: len, hopLimit: 64 },
    Ipv6Packet.unchecked(buf),
  );
  Icmpv6Repr.emit(icmp, Icmpv6Packet.unchecked(buf.subarray(40)), router6, me6);
  peer.transmit(0, buf);
}

/**
 * A stack at 10.0.0.1 and fd00::1 on an IP link of MTU 1500 whose far end (`peer`) the test
 * reads and writes; `sent(now)` runs the stack and returns all it sent.
 */
export function routerLink(seed: number): {
  stack: Stack;
  peer: Device;
  sent: (now?: number) => Uint8Array[];
} {
  const [dev, peer] = linkPair({ medium: 'ip', mtu: 1500 });
  const stack = new Stack({ device: dev, addresses: [cidr('10.0.0.1/24'), cidr('fd00::1/64')], seed });
  const sent = (now = 0): Uint8Array[] => {
    settle([stack], now);
    const out: Uint8Array[] = [];
    for (let p = peer.receive(now); p; p = peer.receive(now)) out.push(p);
    return out;
  };
  return { stack, peer, sent };
}

/** The TCP sequence number of a sent IPv4 (`hl` 20) or IPv6 (40) datagram. */
export const seqOf = (p: Uint8Array, hl = 20): number =>
  new DataView(p.buffer, p.byteOffset + hl + 4).getUint32(0);

/** `p` with its TCP sequence number moved by `by`. */
export function shifted(p: Uint8Array, by: number, hl = 20): Uint8Array {
  const q = p.slice();
  new DataView(q.buffer, hl + 4).setUint32(0, (seqOf(p, hl) + by) >>> 0);
  return q;
}

export function inetSocket(stack: Stack, family: 4 | 6, type: number, protocol = 0): InetSocket {
  const s = InetSocket.create(
    stack,
    family === 4 ? AddressFamily.AF_INET : AddressFamily.AF_INET6,
    type,
    protocol,
  );
  if (isError(s)) throw new Error(s.name);
  return s;
}

/** The router's fragmentation needed with next-hop MTU `mtu`, quoting `datagram` (576 bytes at most). */
export function fragNeeded(peer: Device, datagram: Uint8Array, mtu: number): void {
  icmp4(peer, {
    type: 'destUnreachable',
    code: Icmpv4Unreachable.FRAG_NEEDED,
    nextHopMtu: mtu,
    invoking: datagram.subarray(0, 576 - 28),
  });
}

/**
 * A TCP connection (SACK and timestamps on: MSS 1448) from a stack at 10.0.0.1 to one at
 * 10.0.0.9, each on its own IP link of MTU 1500 whose far ends (`peer` the client's, `far` the
 * server's) the test relays between.
 */
export function relayedConnection(): {
  client: InetSocket;
  server: InetSocket;
  peer: Device;
  far: Device;
  /** Runs both stacks and relays until nothing moves. */
  both: (now: number) => void;
  /** What the client sent, taken from the link: lost, or with `deliver` passed on. */
  held: (now: number, deliver?: boolean) => Uint8Array[];
  /** The server's segments to the client, delivered (and nothing back). */
  toClient: (now: number) => void;
} {
  const [dev, peer] = linkPair({ medium: 'ip', mtu: 1500 });
  const a = new Stack({ device: dev, addresses: [cidr('10.0.0.1/24')], seed: 1 });
  const [dev2, far] = linkPair({ medium: 'ip', mtu: 1500 });
  const b = new Stack({ device: dev2, addresses: [cidr('10.0.0.9/24')], seed: 2 });
  const relay = (now: number): boolean => {
    let moved = false;
    for (let p = peer.receive(now); p; p = peer.receive(now), moved = true) far.transmit(now, p);
    for (let p = far.receive(now); p; p = far.receive(now), moved = true) peer.transmit(now, p);
    return moved;
  };
  const both = (now: number): void => {
    do settle([a, b], now);
    while (relay(now));
  };
  const held = (now: number, deliver = false): Uint8Array[] => {
    settle([a], now);
    const out: Uint8Array[] = [];
    for (let p = peer.receive(now); p; p = peer.receive(now)) out.push(p);
    if (deliver) for (const p of out) far.transmit(now, p);
    return out;
  };
  const toClient = (now: number): void => {
    settle([b], now);
    for (let p = far.receive(now); p; p = far.receive(now)) peer.transmit(now, p);
  };
  const listener = inetSocket(b, 4, SockType.SOCK_STREAM);
  if (listener.bind(addr(far4, 80)) !== 0 || listener.listen(1) !== 0) throw new Error('no listener');
  const client = inetSocket(a, 4, SockType.SOCK_STREAM);
  client.connect(addr(far4, 80));
  both(0);
  const server = listener.accept();
  if (isError(server) || !(server instanceof InetSocket)) throw new Error('no connection');
  return { client, server, peer, far, both, held, toClient };
}
