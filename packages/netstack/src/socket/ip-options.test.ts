// The IP-, IPv6- and UDP-level options of ip-options.ts at the socket layer, on stacks whose
// links and MTUs the test chooses (the runtime's ip-sockopts.test.ts compares the loopback
// cases with Linux itself).
import { AddressFamily, E, IpOption, Ipv6Option, SockType, SocketOption, type Cmsg } from '@tsvisor/abi';
import { describe, expect, it } from 'vitest';
import { linkPair, LoopbackDevice } from '../phy/loopback.js';
import type { Device } from '../phy/device.js';
import { Stack } from '../stack.js';
import { settle } from '../stack.test-util.js';
import { IpCidr, Ipv4Address, Ipv6Address } from '../wire/ip-address.js';
import { InetSocket, type RecvResult } from './inet-socket.js';
import {
  compileIpOptions,
  IpOptions,
  PmtuDisc,
  SOL_UDP,
  UdpOption,
  udpSegmentControl,
} from './ip-options.js';
import { emitSockaddr, parseSockaddr } from './sockaddr.js';

const SOL_IP = 0;
const SOL_IPV6 = 41;
const cidr = (s: string): IpCidr => IpCidr.parse(s)!;

function loopback(): Stack {
  return new Stack({
    device: new LoopbackDevice(),
    addresses: [cidr('127.0.0.1/8'), cidr('::1/128')],
    seed: 7,
  });
}

/** A stack at 10.0.0.1 (and 2001:db8::1) on an IP link with MTU 1500; the far end only listens. */
function onLink(): { stack: Stack; peer: Device } {
  const [dev, peer] = linkPair({ medium: 'ip', mtu: 1500 });
  return {
    stack: new Stack({ device: dev, addresses: [cidr('10.0.0.1/24'), cidr('2001:db8::1/64')], seed: 3 }),
    peer,
  };
}

function udp(stack: Stack, family: 4 | 6 = 4): InetSocket {
  const s = InetSocket.create(
    stack,
    family === 4 ? AddressFamily.AF_INET : AddressFamily.AF_INET6,
    SockType.SOCK_DGRAM,
    0,
  );
  if (!(s instanceof InetSocket)) throw new Error('socket');
  return s;
}

function tcp(stack: Stack, family: 4 | 6 = 4): InetSocket {
  const s = InetSocket.create(
    stack,
    family === 4 ? AddressFamily.AF_INET : AddressFamily.AF_INET6,
    SockType.SOCK_STREAM,
    0,
  );
  if (!(s instanceof InetSocket)) throw new Error('socket');
  return s;
}

const sa4 = (a: string, port: number): Uint8Array => emitSockaddr({ addr: Ipv4Address.parse(a)!, port });
const sa6 = (a: string, port: number): Uint8Array => emitSockaddr({ addr: Ipv6Address.parse(a)!, port });
const portOf = (s: InetSocket): number => {
  const ep = parseSockaddr(s.getsockname(), s.family);
  if (!('port' in ep)) throw new Error('sockaddr');
  return ep.port;
};

/** The lengths of the datagrams queued on `r`. */
function lengths(r: InetSocket): number[] {
  const out: number[] = [];
  for (;;) {
    const got = r.recvfrom(new Uint8Array(70000));
    if (typeof got !== 'object' || !('len' in got)) return out;
    out.push((got as RecvResult).len);
  }
}

/** A UDP receiver on loopback and a sender connected to it. */
function udpPair(stack: Stack, family: 4 | 6 = 4): { r: InetSocket; u: InetSocket } {
  const r = udp(stack, family);
  expect(r.bind(family === 4 ? sa4('127.0.0.1', 0) : sa6('::1', 0))).toBe(0);
  const u = udp(stack, family);
  expect(u.connect(family === 4 ? sa4('127.0.0.1', portOf(r)) : sa6('::1', portOf(r)))).toBe(0);
  return { r, u };
}

describe('IP_MTU_DISCOVER and IPV6_DONTFRAG', () => {
  it('a datagram above the path MTU is EMSGSIZE only when it may not be fragmented', () => {
    const { stack } = onLink();
    const u = udp(stack);
    expect(u.getsockopt(SOL_IP, IpOption.IP_MTU_DISCOVER)).toBe(PmtuDisc.WANT);
    const to = sa4('10.0.0.2', 9);
    // 1472 payload + 8 + 20 = 1500 fits; one more byte does not.
    expect(u.sendto(new Uint8Array(1473), 0, to)).toBe(1473); // WANT: fragmented
    for (const mode of [PmtuDisc.DO, PmtuDisc.PROBE, PmtuDisc.INTERFACE]) {
      expect(u.setsockopt(SOL_IP, IpOption.IP_MTU_DISCOVER, mode)).toBe(0);
      expect(u.sendto(new Uint8Array(1472), 0, to)).toBe(1472);
      expect(u.sendto(new Uint8Array(1473), 0, to)).toBe(E.EMSGSIZE);
    }
    for (const mode of [PmtuDisc.DONT, PmtuDisc.OMIT]) {
      expect(u.setsockopt(SOL_IP, IpOption.IP_MTU_DISCOVER, mode)).toBe(0);
      expect(u.sendto(new Uint8Array(1473), 0, to)).toBe(1473);
    }
    expect(u.setsockopt(SOL_IP, IpOption.IP_MTU_DISCOVER, 6)).toBe(E.EINVAL);
  });

  it('IPv6: IPV6_PMTUDISC_DO or IPV6_DONTFRAG', () => {
    const { stack } = onLink();
    const u = udp(stack, 6);
    const to = sa6('2001:db8::2', 9);
    // 1452 payload + 8 + 40 = 1500.
    expect(u.sendto(new Uint8Array(1453), 0, to)).toBe(1453);
    expect(u.setsockopt(SOL_IPV6, Ipv6Option.IPV6_DONTFRAG, 1)).toBe(0);
    expect(u.sendto(new Uint8Array(1452), 0, to)).toBe(1452);
    expect(u.sendto(new Uint8Array(1453), 0, to)).toBe(E.EMSGSIZE);
    expect(u.setsockopt(SOL_IPV6, Ipv6Option.IPV6_DONTFRAG, 0)).toBe(0);
    expect(u.setsockopt(SOL_IPV6, Ipv6Option.IPV6_MTU_DISCOVER, PmtuDisc.DO)).toBe(0);
    expect(u.sendto(new Uint8Array(1453), 0, to)).toBe(E.EMSGSIZE);
    // The IPv4 setting does not apply to IPv6 datagrams.
    expect(u.setsockopt(SOL_IPV6, Ipv6Option.IPV6_MTU_DISCOVER, PmtuDisc.WANT)).toBe(0);
    expect(u.setsockopt(SOL_IP, IpOption.IP_MTU_DISCOVER, PmtuDisc.DO)).toBe(0);
    expect(u.sendto(new Uint8Array(1453), 0, to)).toBe(1453);
  });

  it('IP_MTU and IPV6_MTU report the route MTU of a connected socket, ENOTCONN before', () => {
    const { stack } = onLink();
    const u = udp(stack);
    expect(u.getsockopt(SOL_IP, IpOption.IP_MTU)).toBe(E.ENOTCONN);
    expect(u.connect(sa4('10.0.0.2', 53))).toBe(0);
    expect(u.getsockopt(SOL_IP, IpOption.IP_MTU)).toBe(1500);
    const u6 = udp(stack, 6);
    expect(u6.getsockopt(SOL_IPV6, Ipv6Option.IPV6_MTU)).toBe(E.ENOTCONN);
    expect(u6.connect(sa6('2001:db8::2', 53))).toBe(0);
    expect(u6.getsockopt(SOL_IPV6, Ipv6Option.IPV6_MTU)).toBe(1500);
    const info = u6.getsockoptBytes(SOL_IPV6, Ipv6Option.IPV6_PATHMTU, 64);
    expect(info).toBeInstanceOf(Uint8Array);
    expect(new DataView((info as Uint8Array).buffer).getUint32(28, true)).toBe(1500);
  });
});

describe('UDP_SEGMENT', () => {
  it('one send becomes datagrams of the segment size; its limits', () => {
    const stack = loopback();
    const { r, u } = udpPair(stack);
    expect(u.setsockopt(SOL_UDP, UdpOption.UDP_SEGMENT, 100)).toBe(0);
    expect(u.sendto(new Uint8Array(250))).toBe(250);
    settle([stack], 0);
    expect(lengths(r)).toEqual([100, 100, 50]);
    expect(u.sendto(new Uint8Array(128 * 100 + 1))).toBe(E.EINVAL);
    expect(u.setsockopt(SOL_UDP, UdpOption.UDP_SEGMENT, 65536)).toBe(E.EINVAL);
    // A per-send control message overrides the option.
    const cmsg: Cmsg = { level: SOL_UDP, type: UdpOption.UDP_SEGMENT, data: Uint8Array.of(64, 0) };
    expect(u.sendto(new Uint8Array(130), 0, undefined, [cmsg])).toBe(130);
    settle([stack], 1);
    expect(lengths(r)).toEqual([64, 64, 2]);
  });

  it('segments must fit the path MTU; a NIC sends them as datagrams of their own', () => {
    const { stack, peer } = onLink();
    const u = udp(stack);
    expect(u.connect(sa4('10.0.0.2', 9))).toBe(0);
    expect(u.setsockopt(SOL_UDP, UdpOption.UDP_SEGMENT, 1473)).toBe(0);
    expect(u.sendto(new Uint8Array(3000))).toBe(E.EMSGSIZE);
    expect(u.setsockopt(SOL_UDP, UdpOption.UDP_SEGMENT, 1472)).toBe(0);
    expect(u.sendto(new Uint8Array(3000))).toBe(3000);
    settle([stack], 0);
    const frames: number[] = [];
    for (let f = peer.receive(0); f; f = peer.receive(0)) frames.push(f.length);
    expect(frames).toEqual([1500, 1500, 20 + 8 + 56]); // no fragments: three datagrams
    expect(stack.mib.udp.OutDatagrams).toBe(3);
  });

  it('a receiver with UDP_GRO reads a send from this host whole, with the UDP_GRO message', () => {
    const stack = loopback();
    const { r, u } = udpPair(stack, 6);
    expect(r.setsockopt(SOL_UDP, UdpOption.UDP_GRO, 1)).toBe(0);
    expect(u.setsockopt(SOL_UDP, UdpOption.UDP_SEGMENT, 100)).toBe(0);
    expect(u.sendto(new Uint8Array(250))).toBe(250);
    expect(u.sendto(new Uint8Array(50))).toBe(50);
    settle([stack], 0);
    const whole = r.recvfrom(new Uint8Array(1000)) as RecvResult;
    expect(whole.len).toBe(250);
    expect(whole.control).toEqual([
      { level: SOL_UDP, type: UdpOption.UDP_GRO, data: Uint8Array.of(100, 0, 0, 0) },
    ]);
    const single = r.recvfrom(new Uint8Array(1000)) as RecvResult;
    expect([single.len, single.control]).toEqual([50, undefined]);
  });

  it('the control message is a u16', () => {
    expect(udpSegmentControl(undefined)).toBeUndefined();
    expect(
      udpSegmentControl([{ level: SOL_UDP, type: UdpOption.UDP_SEGMENT, data: Uint8Array.of(0, 1) }]),
    ).toBe(256);
    expect(
      udpSegmentControl([{ level: SOL_UDP, type: UdpOption.UDP_SEGMENT, data: new Uint8Array(4) }]),
    ).toBe(E.EINVAL);
    expect(udpSegmentControl([{ level: SOL_UDP, type: 1, data: new Uint8Array(2) }])).toBe(E.EINVAL);
  });
});

describe('UDP_CORK and MSG_MORE', () => {
  it('hold the data until uncorked, then send one datagram', () => {
    const stack = loopback();
    const { r, u } = udpPair(stack);
    expect(u.setsockopt(SOL_UDP, UdpOption.UDP_CORK, 1)).toBe(0);
    expect(u.sendto(new Uint8Array(10))).toBe(10);
    expect(u.sendto(new Uint8Array(20))).toBe(20);
    settle([stack], 0);
    expect(lengths(r)).toEqual([]);
    expect(u.setsockopt(SOL_UDP, UdpOption.UDP_CORK, 0)).toBe(0);
    settle([stack], 1);
    expect(lengths(r)).toEqual([30]);
    expect(u.sendto(new Uint8Array(5), 0x8000)).toBe(5); // MSG_MORE
    expect(u.sendto(new Uint8Array(6))).toBe(6);
    settle([stack], 2);
    expect(lengths(r)).toEqual([11]);
  });

  it('EDESTADDRREQ without a destination; past the largest datagram EMSGSIZE drops what was held', () => {
    const stack = loopback();
    const u = udp(stack);
    expect(u.sendto(new Uint8Array(5), 0x8000)).toBe(E.EDESTADDRREQ);
    const { r, u: c } = udpPair(stack);
    expect(c.sendto(new Uint8Array(60000), 0x8000)).toBe(60000);
    expect(c.sendto(new Uint8Array(6000), 0x8000)).toBe(E.EMSGSIZE);
    expect(c.sendto(new Uint8Array(7))).toBe(7);
    settle([stack], 0);
    expect(lengths(r)).toEqual([7]);
  });
});

describe('bind and port options', () => {
  it('IP_FREEBIND and IP_TRANSPARENT (and the IPv6 names, the same flags) bind a foreign address', () => {
    const stack = loopback();
    for (const name of [IpOption.IP_FREEBIND, IpOption.IP_TRANSPARENT]) {
      const a = udp(stack);
      expect(a.bind(sa4('192.0.2.1', 0))).toBe(E.EADDRNOTAVAIL);
      const b = udp(stack);
      expect(b.setsockopt(SOL_IP, name, 1)).toBe(0);
      expect(b.bind(sa4('192.0.2.1', 0))).toBe(0);
      const t = tcp(stack);
      expect(t.setsockopt(SOL_IP, name, 1)).toBe(0);
      expect(t.bind(sa4('192.0.2.1', 5000 + name))).toBe(0);
      expect(t.listen(1)).toBe(0);
    }
    const s6 = udp(stack, 6);
    expect(s6.setsockopt(SOL_IPV6, Ipv6Option.IPV6_FREEBIND, 1)).toBe(0);
    expect(s6.getsockopt(SOL_IP, IpOption.IP_FREEBIND)).toBe(1);
    expect(s6.bind(sa6('2001:db8::9', 0))).toBe(0);
  });

  it('IP_LOCAL_PORT_RANGE narrows the ephemeral ports of bind, connect and autobind', () => {
    const stack = loopback();
    const range = 40000 | (40003 << 16);
    const seen = new Set<number>();
    for (let i = 0; i < 4; i++) {
      const s = udp(stack);
      expect(s.setsockopt(SOL_IP, IpOption.IP_LOCAL_PORT_RANGE, range)).toBe(0);
      expect(s.bind(sa4('127.0.0.1', 0))).toBe(0);
      seen.add(portOf(s));
    }
    expect([...seen].sort()).toEqual([40000, 40001, 40002, 40003]);
    const full = udp(stack);
    expect(full.setsockopt(SOL_IP, IpOption.IP_LOCAL_PORT_RANGE, range)).toBe(0);
    expect(full.bind(sa4('127.0.0.1', 0))).toBe(E.EADDRINUSE); // the socket's range is used up
    const t = tcp(stack);
    expect(t.setsockopt(SOL_IP, IpOption.IP_LOCAL_PORT_RANGE, 41000 | (41000 << 16))).toBe(0);
    const l = tcp(stack);
    expect(l.bind(sa4('127.0.0.1', 0))).toBe(0);
    expect(l.listen(1)).toBe(0);
    expect(t.connect(sa4('127.0.0.1', portOf(l)))).not.toBe(E.EADDRNOTAVAIL);
    expect(portOf(t)).toBe(41000);
    expect(t.getsockopt(SOL_IP, IpOption.IP_PROTOCOL)).toBe(41000); // inet_num
    expect(t.setsockopt(SOL_IP, IpOption.IP_LOCAL_PORT_RANGE, 2 | (1 << 16))).toBe(E.EINVAL);
  });

  it('IP_BIND_ADDRESS_NO_PORT leaves the port of bind(port 0) to connect', () => {
    const stack = loopback();
    const l = tcp(stack);
    expect(l.bind(sa4('127.0.0.1', 0))).toBe(0);
    expect(l.listen(1)).toBe(0);
    const t = tcp(stack);
    expect(t.setsockopt(SOL_IP, IpOption.IP_BIND_ADDRESS_NO_PORT, 1)).toBe(0);
    expect(t.bind(sa4('127.0.0.2', 0))).toBe(0);
    expect(portOf(t)).toBe(0);
    t.connect(sa4('127.0.0.1', portOf(l)));
    expect(portOf(t)).not.toBe(0);
    const local = parseSockaddr(t.getsockname(), 4);
    expect('addr' in local && local.addr.toString()).toBe('127.0.0.2');
  });
});

describe('IP_MINTTL', () => {
  it('a listener drops SYNs that arrive with a lower TTL (TcpExt TCPMinTTLDrop); the accepted socket inherits it', () => {
    const stack = loopback();
    const l = tcp(stack);
    expect(l.bind(sa4('127.0.0.1', 0))).toBe(0);
    expect(l.setsockopt(SOL_IP, IpOption.IP_MINTTL, 65)).toBe(0);
    expect(l.listen(4)).toBe(0);
    const low = tcp(stack);
    expect(low.setsockopt(SOL_IP, IpOption.IP_TTL, 64)).toBe(0);
    low.connect(sa4('127.0.0.1', portOf(l)));
    settle([stack], 0);
    expect(l.accept()).not.toBeInstanceOf(InetSocket);
    expect(stack.mib.tcpExt.TCPMinTTLDrop).toBe(1);
    const ok = tcp(stack);
    expect(ok.setsockopt(SOL_IP, IpOption.IP_TTL, 65)).toBe(0);
    ok.connect(sa4('127.0.0.1', portOf(l)));
    settle([stack], 1);
    const a = l.accept();
    expect(a).toBeInstanceOf(InetSocket);
    expect((a as InetSocket).getsockopt(SOL_IP, IpOption.IP_MINTTL)).toBe(65);
  });
});

describe('UDP_NO_CHECK6_TX / _RX', () => {
  it('an IPv6 datagram without a checksum reaches only a socket that takes it', () => {
    const stack = loopback();
    const { r, u } = udpPair(stack, 6);
    expect(u.setsockopt(SOL_UDP, UdpOption.UDP_NO_CHECK6_TX, 1)).toBe(0);
    expect(u.sendto(new Uint8Array(7))).toBe(7);
    settle([stack], 0);
    expect(lengths(r)).toEqual([]);
    expect(stack.mib.udp6.InCsumErrors).toBe(1);
    expect(r.setsockopt(SOL_UDP, UdpOption.UDP_NO_CHECK6_RX, 1)).toBe(0);
    expect(u.sendto(new Uint8Array(8))).toBe(8);
    settle([stack], 1);
    expect(lengths(r)).toEqual([8]);
    // GSO needs the checksum.
    expect(u.setsockopt(SOL_UDP, UdpOption.UDP_SEGMENT, 4)).toBe(0);
    expect(u.sendto(new Uint8Array(8))).toBe(E.EINVAL);
  });
});

describe('multicast options', () => {
  it('IP_ADD_MEMBERSHIP needs a link: none with only lo, the NIC otherwise', () => {
    const mreq = (group: number[], local: number[]): Uint8Array => Uint8Array.from([...group, ...local]);
    const lo = udp(loopback());
    expect(lo.setsockoptBytes(SOL_IP, IpOption.IP_ADD_MEMBERSHIP, mreq([224, 0, 0, 251], [0, 0, 0, 0]))).toBe(
      E.ENODEV,
    );
    const nic = udp(onLink().stack);
    const join = mreq([224, 0, 0, 251], [0, 0, 0, 0]);
    expect(nic.setsockoptBytes(SOL_IP, IpOption.IP_ADD_MEMBERSHIP, join)).toBe(0);
    expect(nic.setsockoptBytes(SOL_IP, IpOption.IP_ADD_MEMBERSHIP, join)).toBe(E.EADDRINUSE);
    expect(nic.setsockoptBytes(SOL_IP, IpOption.IP_DROP_MEMBERSHIP, join)).toBe(0);
    expect(nic.setsockoptBytes(SOL_IP, IpOption.IP_DROP_MEMBERSHIP, join)).toBe(E.EADDRNOTAVAIL);
    expect(nic.setsockoptBytes(SOL_IP, IpOption.IP_ADD_MEMBERSHIP, mreq([10, 0, 0, 1], [0, 0, 0, 0]))).toBe(
      E.EINVAL,
    );
  });

  it('a group sent out of lo reaches the sockets that joined it, or keep IP_MULTICAST_ALL', () => {
    const stack = loopback();
    const [a, b, c] = [udp(stack), udp(stack), udp(stack)];
    for (const s of [a, b, c]) expect(s.setsockopt(1, 2, 1)).toBe(0); // SO_REUSEADDR
    expect(a.bind(sa4('0.0.0.0', 5353))).toBe(0);
    expect(b.bind(sa4('0.0.0.0', 5353))).toBe(0);
    expect(c.bind(sa4('0.0.0.0', 5353))).toBe(0);
    expect(c.setsockopt(SOL_IP, IpOption.IP_MULTICAST_ALL, 0)).toBe(0);
    const u = udp(stack);
    const group = sa4('224.0.0.251', 5353);
    expect(u.sendto(new Uint8Array(1), 0, group)).toBe(E.ENETUNREACH); // no route to a group
    expect(u.setsockoptBytes(SOL_IP, IpOption.IP_MULTICAST_IF, Uint8Array.of(127, 0, 0, 1))).toBe(0);
    expect(u.sendto(new Uint8Array(1), 0, group)).toBe(1);
    settle([stack], 0);
    expect([a, b, c].map((s) => lengths(s).length)).toEqual([0, 0, 0]); // nobody joined
    const mreq = Uint8Array.of(224, 0, 0, 251, 127, 0, 0, 1);
    expect(a.setsockoptBytes(SOL_IP, IpOption.IP_ADD_MEMBERSHIP, mreq)).toBe(0);
    expect(u.setsockopt(SOL_IP, IpOption.IP_MULTICAST_TTL, 7)).toBe(0);
    expect(a.setsockopt(SOL_IP, IpOption.IP_RECVTTL, 1)).toBe(0);
    expect(u.sendto(new Uint8Array(2), 0, group)).toBe(2);
    settle([stack], 1);
    const got = a.recvfrom(new Uint8Array(8)) as RecvResult;
    expect(got.control?.[0]?.data).toEqual(Uint8Array.of(7, 0, 0, 0)); // the multicast TTL
    expect(lengths(b)).toEqual([2]);
    expect(lengths(c)).toEqual([]);
  });

  it('IP_MULTICAST_IF takes an address of this host, IP_MULTICAST_TTL a byte', () => {
    const s = udp(onLink().stack);
    expect(s.setsockoptBytes(SOL_IP, IpOption.IP_MULTICAST_IF, Uint8Array.of(10, 0, 0, 1))).toBe(0);
    expect(s.getsockoptBytes(SOL_IP, IpOption.IP_MULTICAST_IF, 4)).toEqual(Uint8Array.of(10, 0, 0, 1));
    expect(s.setsockoptBytes(SOL_IP, IpOption.IP_MULTICAST_IF, Uint8Array.of(10, 0, 0, 9))).toBe(
      E.EADDRNOTAVAIL,
    );
    expect(s.setsockoptBytes(SOL_IP, IpOption.IP_MULTICAST_TTL, Uint8Array.of(9))).toBe(0);
    expect(s.getsockopt(SOL_IP, IpOption.IP_MULTICAST_TTL)).toBe(9);
    expect(s.setsockoptBytes(SOL_IP, IpOption.IP_MULTICAST_TTL, new Uint8Array(0))).toBe(E.EINVAL);
  });
});

describe('compileIpOptions', () => {
  it('pads with EOL, zeroes what follows an EOL, checks option lengths', () => {
    expect(compileIpOptions(Uint8Array.of(1, 1, 1, 1, 1))).toEqual(Uint8Array.of(1, 1, 1, 1, 1, 0, 0, 0));
    expect(compileIpOptions(Uint8Array.of(0, 9, 9, 9))).toEqual(new Uint8Array(4));
    expect(compileIpOptions(Uint8Array.of(0x55, 4, 1, 2))).toEqual(Uint8Array.of(0x55, 4, 1, 2));
    expect(compileIpOptions(Uint8Array.of(0x55, 1, 0, 0))).toBe(E.EINVAL);
    expect(compileIpOptions(Uint8Array.of(0x55, 9, 0, 0))).toBe(E.EINVAL);
    expect(compileIpOptions(new Uint8Array(41).fill(1))).toBe(E.EINVAL);
    expect(compileIpOptions(new Uint8Array(0))).toEqual(new Uint8Array(0));
  });
});

describe('IP_UNICAST_IF and IP_RECVORIGDSTADDR', () => {
  it('IP_UNICAST_IF is the link of IPv4 UDP sends (network order index)', () => {
    const stack = loopback();
    const u = udp(stack);
    const far = sa4('192.0.2.1', 9);
    expect(u.sendto(new Uint8Array(1), 0, far)).toBe(E.ENETUNREACH);
    expect(u.setsockopt(SOL_IP, IpOption.IP_UNICAST_IF, 1 << 24)).toBe(0); // htonl(1): lo
    expect(u.getsockopt(SOL_IP, IpOption.IP_UNICAST_IF)).toBe(1 << 24);
    expect(u.sendto(new Uint8Array(1), 0, far)).toBe(1); // out of lo, where nothing answers
    expect(u.setsockopt(SOL_IP, IpOption.IP_UNICAST_IF, 7 << 24)).toBe(E.EADDRNOTAVAIL);
  });

  it('IP_RECVORIGDSTADDR reports the destination address and port after the other messages', () => {
    const stack = loopback();
    const { r, u } = udpPair(stack);
    expect(r.setsockopt(SOL_IP, IpOption.IP_RECVTTL, 1)).toBe(0);
    expect(r.setsockopt(SOL_IP, IpOption.IP_RECVORIGDSTADDR, 1)).toBe(0);
    expect(u.sendto(new Uint8Array(1))).toBe(1);
    settle([stack], 0);
    const got = r.recvfrom(new Uint8Array(8)) as RecvResult;
    expect(got.control?.map((c) => c.type)).toEqual([IpOption.IP_TTL, IpOption.IP_ORIGDSTADDR]);
    const sin = got.control![1]!.data;
    expect(sin.length).toBe(16);
    expect(parseSockaddr(sin, 4)).toEqual({ addr: Ipv4Address.LOOPBACK, port: portOf(r) });
  });
});

describe('SO_ORIGINAL_DST', () => {
  it('TCP only; no connection here went through NAT (ENOENT), a short buffer is EINVAL', () => {
    const stack = loopback();
    expect(tcp(stack).getsockoptBytes(SOL_IP, 80, 16)).toBe(E.ENOENT);
    expect(tcp(stack).getsockoptBytes(SOL_IP, 80, 8)).toBe(E.EINVAL);
    expect(tcp(stack, 6).getsockoptBytes(SOL_IPV6, 80, 28)).toBe(E.ENOENT);
    expect(tcp(stack, 6).getsockoptBytes(SOL_IPV6, 80, 16)).toBe(E.EINVAL);
    expect(udp(stack).getsockoptBytes(SOL_IP, 80, 16)).toBe(E.ENOPROTOOPT);
  });
});

describe('getsockopt with a negative optlen', () => {
  // runtime's getsockopt-negative-len.c compares the same with Linux through the system call.
  const SOL_SOCKET = 1;
  const SOL_TCP = 6;
  it("reads as unsigned only at SOL_IPV6 of an AF_INET6 socket (do_ipv6_getsockopt's min_t)", () => {
    expect(IpOptions.takesUnsignedOptlen(6, SOL_IPV6)).toBe(true);
    for (const level of [SOL_IP, SOL_TCP, SOL_UDP, SOL_SOCKET])
      expect(IpOptions.takesUnsignedOptlen(6, level)).toBe(false);
    for (const level of [SOL_IP, SOL_IPV6, SOL_TCP, SOL_UDP])
      expect(IpOptions.takesUnsignedOptlen(4, level)).toBe(false);
  });

  it('the length it then stands for gives each IPv6 option whole: an int, a struct, or nothing', () => {
    const huge = 0x7fffffff; // what (unsigned) -1 is cut to
    const stack = loopback();
    const int = (b: Uint8Array | unknown): number | undefined =>
      b instanceof Uint8Array && b.length === 4
        ? new DataView(b.buffer, b.byteOffset).getInt32(0, true)
        : undefined;
    for (const s of [udp(stack, 6), tcp(stack, 6)]) {
      expect(int(s.getsockoptBytes(SOL_IPV6, Ipv6Option.IPV6_UNICAST_HOPS, huge))).toBe(64);
      expect(int(s.getsockoptBytes(SOL_IPV6, Ipv6Option.IPV6_MULTICAST_HOPS, huge))).toBe(1);
      expect(int(s.getsockoptBytes(SOL_IPV6, Ipv6Option.IPV6_V6ONLY, huge))).toBe(0);
      expect(int(s.getsockoptBytes(SOL_IPV6, Ipv6Option.IPV6_MTU_DISCOVER, huge))).toBe(PmtuDisc.WANT);
      expect(s.getsockoptBytes(SOL_IPV6, Ipv6Option.IPV6_HOPOPTS, huge)).toEqual(new Uint8Array(0));
      expect(s.getsockoptBytes(SOL_IPV6, Ipv6Option.IPV6_MTU, huge)).toBe(E.ENOTCONN);
      expect(s.getsockoptBytes(SOL_IPV6, Ipv6Option.IPV6_PATHMTU, huge)).toBe(E.ENOTCONN);
      expect(s.getsockoptBytes(SOL_IPV6, 12345, huge)).toBe(E.ENOPROTOOPT);
    }
    const { u } = udpPair(stack, 6);
    expect(int(u.getsockoptBytes(SOL_IPV6, Ipv6Option.IPV6_MTU, huge))).toBe(65536);
    const pathMtu = u.getsockoptBytes(SOL_IPV6, Ipv6Option.IPV6_PATHMTU, huge);
    expect(pathMtu instanceof Uint8Array ? pathMtu.length : pathMtu).toBe(32); // struct ip6_mtuinfo
  });

  // Linux refuses a level or a name the socket's protocol lacks before it reads the length.
  const SOL_UDPLITE = 136;
  const SOL_RAW = 255;
  const SOL_ICMPV6 = 58;
  const MRT_VERSION = 201;
  const sockets = (stack: Stack, family: 4 | 6) => {
    const make = (type: number, proto: number): InetSocket => {
      const s = InetSocket.create(
        stack,
        family === 4 ? AddressFamily.AF_INET : AddressFamily.AF_INET6,
        type,
        proto,
      );
      if (!(s instanceof InetSocket)) throw new Error(`socket: ${s.name}`);
      return s;
    };
    const icmp = family === 4 ? 1 : 58;
    return {
      tcp: make(SockType.SOCK_STREAM, 0),
      udp: make(SockType.SOCK_DGRAM, 0),
      udplite: make(SockType.SOCK_DGRAM, 136),
      ping: make(SockType.SOCK_DGRAM, icmp),
      rawIcmp: make(SockType.SOCK_RAW, icmp),
      rawUdp: make(SockType.SOCK_RAW, 17),
    };
  };

  it('IPv4: EOPNOTSUPP at a level ip_getsockopt lacks, EINVAL at SOL_IP and the protocol level', () => {
    const s = sockets(loopback(), 4);
    for (const sock of Object.values(s)) {
      expect(sock.negativeOptlenError(SOL_SOCKET, 12345)).toBe(E.EINVAL); // sk_getsockopt
      expect(sock.negativeOptlenError(SOL_IP, IpOption.IP_TTL)).toBe(E.EINVAL);
      expect(sock.negativeOptlenError(SOL_IP, 12345)).toBe(E.EINVAL);
      expect(sock.negativeOptlenError(SOL_IP, MRT_VERSION)).toBe(E.EOPNOTSUPP); // ip_mroute_getsockopt
      expect(sock.negativeOptlenError(SOL_IPV6, Ipv6Option.IPV6_UNICAST_HOPS)).toBe(E.EOPNOTSUPP);
      expect(sock.negativeOptlenError(SOL_ICMPV6, 1)).toBe(E.EOPNOTSUPP);
      expect(sock.negativeOptlenError(999, 1)).toBe(E.EOPNOTSUPP);
    }
    expect(s.tcp.negativeOptlenError(SOL_TCP, 12345)).toBe(E.EINVAL);
    expect(s.tcp.negativeOptlenError(SOL_UDP, 1)).toBe(E.EOPNOTSUPP);
    for (const u of [s.udp, s.udplite]) {
      expect(u.negativeOptlenError(SOL_UDP, 12345)).toBe(E.EINVAL);
      expect(u.negativeOptlenError(SOL_UDPLITE, 12345)).toBe(E.EINVAL);
      expect(u.negativeOptlenError(SOL_TCP, 1)).toBe(E.EOPNOTSUPP);
    }
    expect(s.ping.negativeOptlenError(SOL_UDP, 1)).toBe(E.EOPNOTSUPP);
    expect(s.ping.negativeOptlenError(SOL_RAW, 1)).toBe(E.EOPNOTSUPP);
    // raw_getsockopt: SOL_RAW's only name is ICMP_FILTER, of an IPPROTO_ICMP socket.
    expect(s.rawIcmp.negativeOptlenError(SOL_RAW, 1)).toBe(E.EINVAL);
    expect(s.rawUdp.negativeOptlenError(SOL_RAW, 1)).toBe(E.EOPNOTSUPP);
    expect(s.rawIcmp.negativeOptlenError(SOL_RAW, 7)).toBe(E.ENOPROTOOPT);
    expect(s.rawUdp.negativeOptlenError(SOL_RAW, 12345)).toBe(E.ENOPROTOOPT);
    expect(s.rawIcmp.negativeOptlenError(SOL_TCP, 1)).toBe(E.EOPNOTSUPP);
  });

  it('IPv6: ENOPROTOOPT at a level ipv6_getsockopt lacks; SOL_IP goes to ip_getsockopt but on raw sockets', () => {
    const s = sockets(loopback(), 6);
    for (const sock of Object.values(s)) {
      expect(sock.negativeOptlenError(SOL_SOCKET, SocketOption.SO_TYPE)).toBe(E.EINVAL);
      expect(sock.negativeOptlenError(999, 1)).toBe(E.ENOPROTOOPT);
    }
    for (const sock of [s.tcp, s.udp, s.udplite, s.ping]) {
      expect(sock.negativeOptlenError(SOL_IP, IpOption.IP_TTL)).toBe(E.EINVAL);
      expect(sock.negativeOptlenError(SOL_IP, MRT_VERSION)).toBe(E.EOPNOTSUPP);
      expect(sock.negativeOptlenError(SOL_RAW, 7)).toBe(E.ENOPROTOOPT);
      expect(sock.negativeOptlenError(SOL_ICMPV6, 1)).toBe(E.ENOPROTOOPT);
    }
    for (const raw of [s.rawIcmp, s.rawUdp]) {
      expect(raw.negativeOptlenError(SOL_IP, IpOption.IP_TTL)).toBe(E.ENOPROTOOPT);
      expect(raw.negativeOptlenError(SOL_IP, MRT_VERSION)).toBe(E.ENOPROTOOPT);
      expect(raw.negativeOptlenError(SOL_RAW, 12345)).toBe(E.ENOPROTOOPT);
      expect(raw.takesUnsignedOptlen(SOL_RAW, 7)).toBe(true); // IPV6_CHECKSUM: do_rawv6_getsockopt
    }
    expect(s.tcp.negativeOptlenError(SOL_TCP, 12345)).toBe(E.EINVAL);
    expect(s.tcp.negativeOptlenError(SOL_UDP, 1)).toBe(E.ENOPROTOOPT);
    expect(s.udp.negativeOptlenError(SOL_UDP, 12345)).toBe(E.EINVAL);
    expect(s.udp.negativeOptlenError(SOL_TCP, 1)).toBe(E.ENOPROTOOPT);
    expect(s.ping.negativeOptlenError(SOL_UDP, 1)).toBe(E.ENOPROTOOPT);
    // rawv6_getsockopt: SOL_ICMPV6 is an IPPROTO_ICMPV6 socket's, ICMPV6_FILTER its one name.
    expect(s.rawIcmp.negativeOptlenError(SOL_ICMPV6, 1)).toBe(E.EINVAL);
    expect(s.rawIcmp.negativeOptlenError(SOL_ICMPV6, 12345)).toBe(E.ENOPROTOOPT);
    expect(s.rawUdp.negativeOptlenError(SOL_ICMPV6, 1)).toBe(E.EOPNOTSUPP);
    expect(s.rawUdp.negativeOptlenError(SOL_ICMPV6, 12345)).toBe(E.EOPNOTSUPP);
  });

  it('IpOptions.negativeOptlenError, the IP part alone', () => {
    expect(IpOptions.negativeOptlenError(4, false, SOL_IPV6, 16)).toBe(E.EOPNOTSUPP);
    expect(IpOptions.negativeOptlenError(4, true, SOL_IP, IpOption.IP_TTL)).toBe(E.EINVAL);
    expect(IpOptions.negativeOptlenError(6, true, SOL_IP, IpOption.IP_TTL)).toBe(E.ENOPROTOOPT);
    expect(IpOptions.negativeOptlenError(6, false, SOL_IP, IpOption.IP_TTL)).toBe(E.EINVAL);
    // MRT_BASE (200) to MRT_MAX (212).
    for (const name of [199, 213])
      expect(IpOptions.negativeOptlenError(4, false, SOL_IP, name)).toBe(E.EINVAL);
    for (const name of [200, 212])
      expect(IpOptions.negativeOptlenError(4, false, SOL_IP, name)).toBe(E.EOPNOTSUPP);
  });
});

describe('README', () => {
  it('UDP_SEGMENT example, through the public entry point', async () => {
    const ns = await import('../index.js');
    const stack = new ns.Stack({ device: new ns.LoopbackDevice(), addresses: [ns.cidr('127.0.0.1/8')] });
    const rx = ns.InetSocket.create(stack, AddressFamily.AF_INET, SockType.SOCK_DGRAM, 0);
    const tx = ns.InetSocket.create(stack, AddressFamily.AF_INET, SockType.SOCK_DGRAM, 0);
    if (!(rx instanceof ns.InetSocket) || !(tx instanceof ns.InetSocket)) throw new Error('socket');
    expect(rx.bind(ns.emitSockaddr({ addr: ns.Ipv4Address.LOOPBACK, port: 4433 }))).toBe(0);
    expect(tx.connect(ns.emitSockaddr({ addr: ns.Ipv4Address.LOOPBACK, port: 4433 }))).toBe(0);
    expect(tx.setsockopt(ns.SOL_UDP, ns.UdpOption.UDP_SEGMENT, 1200)).toBe(0);
    expect(tx.sendto(new Uint8Array(3000))).toBe(3000);
    stack.poll(0);
    expect(rx.recvfrom(new Uint8Array(2048))).toMatchObject({ n: 1200, len: 1200 });
    expect(tx.getsockopt(0, 14)).toBe(65535);
    expect(lengths(rx)).toEqual([1200, 600]);
  });
});
