// Datagrams that came in a link-level broadcast or multicast frame get no ICMP error and no RST,
// as on Linux: icmp_send and icmp6_send give up on an skb whose pkt_type is not PACKET_HOST
// (eth_type_trans sets it from the Ethernet destination), and tcp_v4_rcv / tcp_v6_rcv discard
// such a segment before counting it in InSegs. The IP destination is the host's unicast address
// all along, so the datagram is still the host's: a UDP one to a closed port counts in NoPorts, an
// unknown protocol in InUnknownProtos. Checked on Linux 6.18 with a veth pair and an AF_PACKET
// socket sending the same frames: to the host's MAC, a port unreachable (3/3, 1/4), a RST, a
// protocol unreachable (3/2) or unrecognized next header (4/1); to ff:ff:ff:ff:ff:ff, 01:00:5e:00:00:01
// or 33:33:00:00:00:01, nothing, while UdpNoPorts and InUnknownProtos counted all three and
// TcpInSegs only the first.
import { AddressFamily, isError, SockType } from '@tsvisor/abi';
import { describe, expect, it } from 'vitest';
import type { Device } from '../phy/device.js';
import { linkPair } from '../phy/loopback.js';
import { InetSocket } from '../socket/inet-socket.js';
import { emitSockaddr } from '../socket/sockaddr.js';
import { WOULD_BLOCK } from '../socket/would-block.js';
import { Stack } from '../stack.js';
import { EthernetAddress } from '../wire/ethernet.js';
import { Ipv4Address, Ipv6Address, type IpAddress } from '../wire/ip-address.js';
import { cidr, solicitedNodeAddress } from './interface.js';
import { sendIcmp } from './slaac.test-util.js';

const mac = EthernetAddress.parse('02:00:00:00:0a:02')!;
const peerMac = EthernetAddress.parse('52:54:00:00:0b:01')!;
const me4 = Ipv4Address.parse('10.9.0.1')!;
const peer4 = Ipv4Address.parse('10.9.0.2')!;
const me6 = Ipv6Address.parse('fd00::1')!;
const peer6 = Ipv6Address.parse('fd00::2')!;
const UNKNOWN_PROTOCOL = 253; // RFC 3692's experimentation number: nothing handles it

const macs = {
  host: mac,
  broadcast: EthernetAddress.BROADCAST,
  multicast4: EthernetAddress.parse('01:00:5e:00:00:01')!,
  multicast6: EthernetAddress.parse('33:33:00:00:00:01')!,
};

/** The Internet checksum of `parts` taken as one run of bytes. */
function checksum(...parts: Uint8Array[]): number {
  let sum = 0;
  let odd = false;
  for (const p of parts)
    for (const b of p) {
      sum += odd ? b : b << 8;
      odd = !odd;
    }
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

function pseudoHeader(src: IpAddress, dst: IpAddress, protocol: number, len: number): Uint8Array {
  if (src.version === 4)
    return new Uint8Array([...src.bytes, ...dst.bytes, 0, protocol, len >> 8, len & 0xff]);
  return new Uint8Array([...src.bytes, ...dst.bytes, 0, 0, len >> 8, len & 0xff, 0, 0, 0, protocol]);
}

/** The transport header and data of `kind`, from the peer to the host, checksummed. */
function transport(kind: 'udp' | 'tcp' | 'unknown', src: IpAddress, dst: IpAddress): Uint8Array {
  if (kind === 'unknown') return new Uint8Array(8);
  const t =
    kind === 'udp'
      ? new Uint8Array([0x9c, 0x40, 0, 9, 0, 12, 0, 0, 0x61, 0x62, 0x63, 0x64]) // 40000 -> 9, 'abcd'
      : new Uint8Array([0x9c, 0x41, 0, 9, 0, 0, 3, 0xe8, 0, 0, 0, 0, 0x50, 0x02, 0x03, 0xe8, 0, 0, 0, 0]); // SYN
  const c = checksum(pseudoHeader(src, dst, kind === 'udp' ? 17 : 6, t.length), t);
  const at = kind === 'udp' ? 6 : 16;
  t[at] = c >> 8;
  t[at + 1] = c & 0xff;
  return t;
}

/** An Ethernet frame to `to` from the peer holding an IP datagram of `kind` from the peer to the host. */
function frame(to: EthernetAddress, version: 4 | 6, kind: 'udp' | 'tcp' | 'unknown'): Uint8Array {
  const protocol = kind === 'udp' ? 17 : kind === 'tcp' ? 6 : UNKNOWN_PROTOCOL;
  const [src, dst] = version === 4 ? [peer4, me4] : [peer6, me6];
  const payload = transport(kind, src, dst);
  let ip: Uint8Array;
  if (version === 4) {
    const len = 20 + payload.length;
    ip = new Uint8Array([
      0x45,
      0,
      len >> 8,
      len & 0xff,
      0,
      1,
      0,
      0,
      64,
      protocol,
      0,
      0,
      ...src.bytes,
      ...dst.bytes,
    ]);
    const c = checksum(ip);
    ip[10] = c >> 8;
    ip[11] = c & 0xff;
  } else {
    const len = payload.length;
    ip = new Uint8Array([0x60, 0, 0, 0, len >> 8, len & 0xff, protocol, 64, ...src.bytes, ...dst.bytes]);
  }
  return new Uint8Array([
    ...to.bytes,
    ...peerMac.bytes,
    ...(version === 4 ? [8, 0] : [0x86, 0xdd]),
    ...ip,
    ...payload,
  ]);
}

/** eth0 with 10.9.0.1/24 and fd00::1/64, which already knows the peer's MAC for both addresses. */
function eth0(): { stack: Stack; peer: Device } {
  const [dev, peer] = linkPair({ medium: 'ethernet', mtu: 1500 });
  const stack = new Stack({
    device: dev,
    addresses: [cidr('10.9.0.1/24'), cidr('fd00::1/64')],
    hardwareAddress: mac,
    seed: 3,
  });
  // An ARP request for the host's address and a neighbor solicitation with the peer's link
  // address teach the host the peer's MAC (answered; the answers are read away below).
  const arp = new Uint8Array([
    ...EthernetAddress.BROADCAST.bytes,
    ...peerMac.bytes,
    8,
    6,
    0,
    1,
    8,
    0,
    6,
    4,
    0,
    1,
    ...peerMac.bytes,
    ...peer4.bytes,
    0,
    0,
    0,
    0,
    0,
    0,
    ...me4.bytes,
  ]);
  peer.transmit(0, arp);
  const group = solicitedNodeAddress(me6);
  sendIcmp(
    peer,
    EthernetAddress.ipv6Multicast(group),
    peer6,
    group,
    { type: 'neighborSolicit', target: me6, sourceLinkAddr: peerMac },
    255,
    peerMac,
  );
  stack.poll(0);
  answers(peer);
  return { stack, peer };
}

/** What the host sent the peer since the last call, other than neighbor discovery and ARP. */
function answers(peer: Device): string[] {
  const out: string[] = [];
  for (let f = peer.receive(0); f; f = peer.receive(0)) {
    const type = (f[12]! << 8) | f[13]!;
    if (type === 0x0800 && f[23] === 1) out.push(`icmp ${f[34]}/${f[35]}`);
    else if (type === 0x0800 && f[23] === 6) out.push(`tcp flags ${f[47]!.toString(16)}`);
    else if (type === 0x86dd && f[20] === 58 && (f[54]! < 133 || f[54]! > 137))
      out.push(`icmp6 ${f[54]}/${f[55]}`);
    else if (type === 0x86dd && f[20] === 6) out.push(`tcp flags ${f[67]!.toString(16)}`);
  }
  return out;
}

describe('datagrams of link-level broadcast and multicast frames', () => {
  for (const version of [4, 6] as const)
    it(`IPv${version}: answered only when the frame was for the host's MAC`, () => {
      const { stack, peer } = eth0();
      const multicast = version === 4 ? macs.multicast4 : macs.multicast6;
      const seen: Record<string, string[]> = {};
      let now = 0;
      for (const kind of ['udp', 'tcp', 'unknown'] as const)
        for (const [name, to] of [
          ['host', macs.host],
          ['broadcast', macs.broadcast],
          ['multicast', multicast],
        ] as const) {
          // Two seconds apart: no rate limit of icmp-limit.ts holds an answer back.
          now += 2000;
          peer.transmit(now, frame(to, version, kind));
          stack.poll(now);
          seen[`${kind} ${name}`] = answers(peer);
        }
      const [unreach, unknown] = version === 4 ? ['icmp 3/3', 'icmp 3/2'] : ['icmp6 1/4', 'icmp6 4/1'];
      expect(seen).toEqual({
        'udp host': [unreach],
        'udp broadcast': [],
        'udp multicast': [],
        'tcp host': ['tcp flags 14'], // RST|ACK
        'tcp broadcast': [],
        'tcp multicast': [],
        'unknown host': [unknown],
        'unknown broadcast': [],
        'unknown multicast': [],
      });
      const ip = version === 4 ? stack.mib.ip : stack.mib.ip6;
      const udp = version === 4 ? stack.mib.udp : stack.mib.udp6;
      expect({
        noPorts: udp.NoPorts,
        ignoredMulti: udp.IgnoredMulti,
        unknownProtos: ip.InUnknownProtos,
      }).toEqual({
        noPorts: 3,
        ignoredMulti: 0,
        unknownProtos: 3,
      });
      // tcp_v4_rcv and tcp_v6_rcv count the one segment they looked at (the MIB is shared).
      expect(stack.mib.tcp.InSegs).toBe(1);
    });

  it('a UDP socket still receives a datagram of a broadcast frame to its unicast address', () => {
    const { stack, peer } = eth0();
    const udp = InetSocket.create(
      stack,
      AddressFamily.AF_INET,
      SockType.SOCK_DGRAM | SockType.SOCK_NONBLOCK,
      0,
    );
    if (isError(udp)) throw new Error('no socket');
    expect(udp.bind(emitSockaddr({ addr: me4, port: 9 }))).toBe(0);
    peer.transmit(1, frame(macs.broadcast, 4, 'udp'));
    stack.poll(1);
    const r = udp.recvfrom(new Uint8Array(16));
    expect(r !== WOULD_BLOCK && !isError(r) ? r.n : r).toBe(4);
    expect(answers(peer)).toEqual([]);
  });
});
