// net.ipv6.conf.<link>.{hop_limit,mtu,disable_ipv6} and net.ipv6.icmp.echo_ignore_all: what the
// stack does with them (runtime's ipv6-sysctls test compares the same on lo with Linux).
import { E, IpOption, Ipv6Option, SockType, SocketLevel, isError } from '@tsvisor/abi';
import { describe, expect, it } from 'vitest';
import { LoopbackDevice, linkPair } from '../phy/loopback.js';
import { addr, far4, far6, inetSocket, me6, routerLink } from '../socket/icmp-router.test-util.js';
import type { InetSocket } from '../socket/inet-socket.js';
import { settle } from '../stack.test-util.js';
import { Stack } from '../stack.js';
import { EthernetAddress } from '../wire/ethernet.js';
import { Icmpv6Packet, Icmpv6Repr } from '../wire/icmpv6.js';
import { Ipv4Address, Ipv6Address } from '../wire/ip-address.js';
import { IpProtocol } from '../wire/ipv4.js';
import { Ipv6Packet, Ipv6Repr } from '../wire/ipv6.js';
import { isWireError } from '../wire/error.js';
import { cidr } from './interface.js';

const { SOL_IPV6 } = SocketLevel;
const { IPV6_UNICAST_HOPS, IPV6_MTU, IPV6_RECVHOPLIMIT, IPV6_HOPLIMIT } = Ipv6Option;
const lo6 = Ipv6Address.LOOPBACK;

function loopback(): Stack {
  return new Stack({
    device: new LoopbackDevice(),
    addresses: [cidr('127.0.0.1/8'), cidr('::1/128')],
    seed: 1,
  });
}

/** The hop limit `s`'s next datagram arrives with at a fresh receiver on ::1 (IPV6_RECVHOPLIMIT). */
function hopsOfNextDatagram(stack: Stack, s: InetSocket): number | undefined {
  const r = inetSocket(stack, 6, SockType.SOCK_DGRAM);
  expect(r.bind(addr(lo6))).toBe(0);
  expect(r.setsockopt(SOL_IPV6, IPV6_RECVHOPLIMIT, 1)).toBe(0);
  expect(s.sendto(Uint8Array.of(1), 0, r.getsockname())).toBe(1);
  settle([stack], 0);
  const got = r.recvfrom(new Uint8Array(8));
  if (isError(got) || typeof got !== 'object') throw new Error('recv');
  return got.control?.find((c) => c.type === IPV6_HOPLIMIT)?.data[0];
}

/** The TTL `s`'s (AF_INET6) next datagram to ::ffff:127.0.0.1 arrives with (IP_RECVTTL). */
function ttlOfNextMapped(stack: Stack, s: InetSocket): number | undefined {
  const r = inetSocket(stack, 4, SockType.SOCK_DGRAM);
  expect(r.bind(addr(Ipv4Address.LOOPBACK))).toBe(0);
  expect(r.setsockopt(SocketLevel.SOL_IP, IpOption.IP_RECVTTL, 1)).toBe(0);
  const port = (r.getsockname()[2]! << 8) | r.getsockname()[3]!;
  expect(s.sendto(Uint8Array.of(1), 0, addr(Ipv6Address.mapped(Ipv4Address.LOOPBACK), port))).toBe(1);
  settle([stack], 0);
  const got = r.recvfrom(new Uint8Array(8));
  if (isError(got) || typeof got !== 'object') throw new Error('recv');
  return got.control?.find((c) => c.type === IpOption.IP_TTL)?.data[0];
}

/** The hop limits of the IPv6 packets the stack sent to the router since the last call. */
function hopsSent(sent: () => Uint8Array[]): number[] {
  return sent().map((p) => p[7]!);
}

/** The router's echo request to `dst`, sent to the stack. */
function echoFromRouter(peer: ReturnType<typeof routerLink>['peer'], dst: Ipv6Address): void {
  const src = Ipv6Address.parse('fd00::fe')!;
  const icmp: Icmpv6Repr = { type: 'echoRequest', ident: 7, seqNo: 1, data: new Uint8Array(4) };
  const len = Icmpv6Repr.bufferLen(icmp);
  const buf = new Uint8Array(40 + len);
  Ipv6Repr.emit(
    { src, dst, nextHeader: IpProtocol.ICMPV6, payloadLen: len, hopLimit: 64 },
    Ipv6Packet.unchecked(buf),
  );
  Icmpv6Repr.emit(icmp, Icmpv6Packet.unchecked(buf.subarray(40)), src, dst);
  peer.transmit(0, buf);
}

describe('net.ipv6.conf.<link>.hop_limit', () => {
  it("is the hop limit of sockets without IPV6_UNICAST_HOPS, read per send; getsockopt shows all's until connected", () => {
    const stack = loopback();
    const conf = stack.iface.ipv6Sysctl.conf;
    const s = inetSocket(stack, 6, SockType.SOCK_DGRAM);
    expect(s.getsockopt(SOL_IPV6, IPV6_UNICAST_HOPS)).toBe(64);
    expect(hopsOfNextDatagram(stack, s)).toBe(64);
    conf.lo.hopLimit = 33;
    expect(s.getsockopt(SOL_IPV6, IPV6_UNICAST_HOPS)).toBe(64);
    expect(hopsOfNextDatagram(stack, s)).toBe(33);
    conf.all.hopLimit = 40;
    expect(s.getsockopt(SOL_IPV6, IPV6_UNICAST_HOPS)).toBe(40);
    expect(hopsOfNextDatagram(stack, s)).toBe(33);
    const c = inetSocket(stack, 6, SockType.SOCK_DGRAM);
    expect(c.connect(addr(lo6, 9))).toBe(0);
    expect(c.getsockopt(SOL_IPV6, IPV6_UNICAST_HOPS)).toBe(33);
    // Its own wins; -1 hands it back to the link's.
    expect(s.setsockopt(SOL_IPV6, IPV6_UNICAST_HOPS, 17)).toBe(0);
    expect(s.getsockopt(SOL_IPV6, IPV6_UNICAST_HOPS)).toBe(17);
    expect(hopsOfNextDatagram(stack, s)).toBe(17);
    expect(s.setsockopt(SOL_IPV6, IPV6_UNICAST_HOPS, -1)).toBe(0);
    expect(s.getsockopt(SOL_IPV6, IPV6_UNICAST_HOPS)).toBe(40);
    expect(hopsOfNextDatagram(stack, s)).toBe(33);
    expect(s.setsockopt(SOL_IPV6, IPV6_UNICAST_HOPS, -2)).toBe(E.EINVAL);
    expect(s.setsockopt(SOL_IPV6, IPV6_UNICAST_HOPS, 256)).toBe(E.EINVAL);
  });

  it("leaves the IPv4 traffic of an AF_INET6 socket to IP_TTL and ip_default_ttl (udp_sendmsg's)", () => {
    const stack = loopback();
    stack.iface.ipv6Sysctl.conf.lo.hopLimit = 33;
    stack.sysctl.defaultTtl = 100;
    const s = inetSocket(stack, 6, SockType.SOCK_DGRAM);
    expect(ttlOfNextMapped(stack, s)).toBe(100);
    expect(s.setsockopt(SOL_IPV6, IPV6_UNICAST_HOPS, 17)).toBe(0);
    expect(ttlOfNextMapped(stack, s)).toBe(100);
    expect(s.setsockopt(SocketLevel.SOL_IP, IpOption.IP_TTL, 20)).toBe(0);
    expect(ttlOfNextMapped(stack, s)).toBe(20);
  });

  it("takes the device's for packets out of the device, lo's for this host's own addresses, echo replies too", () => {
    const { stack, peer, sent } = routerLink(3);
    const conf = stack.iface.ipv6Sysctl.conf;
    conf.device.hopLimit = 20;
    conf.lo.hopLimit = 30;
    const s = inetSocket(stack, 6, SockType.SOCK_DGRAM);
    expect(s.sendto(Uint8Array.of(1), 0, addr(far6, 9))).toBe(1);
    expect(hopsSent(sent)).toEqual([20]);
    expect(stack.ipv6HopLimit(me6)).toBe(30);
    const tcp = inetSocket(stack, 6, SockType.SOCK_STREAM);
    tcp.connect(addr(far6, 80));
    expect(hopsSent(sent)).toEqual([20]); // the SYN
    echoFromRouter(peer, me6);
    expect(hopsSent(sent)).toEqual([20]);
  });
});

describe('net.ipv6.conf.<link>.mtu', () => {
  it("is the IPv6 MTU of the link, between 1280 and the link's MTU; IPv4 keeps the link's", () => {
    const { stack, sent } = routerLink(3);
    const conf = stack.iface.ipv6Sysctl.conf;
    expect([conf.all.mtu, conf.default.mtu, conf.device.mtu, conf.lo.mtu]).toEqual([1280, 1280, 1500, 65536]);
    expect(stack.setIpv6Mtu('device', 1279)).toBe(E.EINVAL);
    expect(stack.setIpv6Mtu('device', 1501)).toBe(E.EINVAL);
    expect(stack.setIpv6Mtu('device', 1400)).toBeUndefined();
    expect([stack.mtuFor(far6), stack.mtuFor(far4), stack.mtuFor(me6)]).toEqual([1400, 1500, 65536]);
    const s = inetSocket(stack, 6, SockType.SOCK_DGRAM);
    expect(s.connect(addr(far6, 9))).toBe(0);
    expect(s.getsockopt(SOL_IPV6, IPV6_MTU)).toBe(1400);
    expect(s.sendto(new Uint8Array(2000), 0)).toBe(2000);
    expect(sent().map((p) => p.length <= 1400)).toEqual([true, true]);
    // `all` and `default` take any MTU from 1280 and change nothing.
    expect(stack.setIpv6Mtu('all', 1279)).toBe(E.EINVAL);
    expect(stack.setIpv6Mtu('all', 70000)).toBeUndefined();
    expect(stack.mtuFor(far6)).toBe(1400);
    // A new link MTU is the link's IPv6 MTU too (NETDEV_CHANGEMTU).
    expect(stack.setMtu(false, 1450)).toBeUndefined();
    expect([conf.device.mtu, stack.mtuFor(far6)]).toEqual([1450, 1450]);
  });

  it('on a loopback device lo is the device: TCP takes its MSS from it', () => {
    const stack = loopback();
    expect(stack.setIpv6Mtu('lo', 1400)).toBeUndefined();
    expect([stack.mtuFor(lo6), stack.uniformMtu]).toEqual([1400, undefined]);
    expect(stack.setIpv6Mtu('lo', 65537)).toBe(E.EINVAL);
  });
});

describe('net.ipv6.conf.<link>.disable_ipv6', () => {
  it('takes ::1 away and keeps it away while lo goes down and up; 0 brings it back', () => {
    const stack = loopback();
    const conf = stack.iface.ipv6Sysctl.conf;
    const bind = (): number | object => inetSocket(stack, 6, SockType.SOCK_DGRAM).bind(addr(lo6));
    expect(stack.setDisableIpv6('lo', 1)).toBeUndefined();
    expect(stack.iface.ipv6Addresses()).toEqual([]);
    expect(bind()).toBe(E.EADDRNOTAVAIL);
    // ipv6_add_addr refuses an address on the link (`ip addr add ::2/128 dev lo`).
    expect(stack.iface.addAddress(cidr('::2/128'), { loopback: true })).toBe(E.EACCES);
    stack.setLoopbackUp(false);
    expect(stack.setLoopbackUp(true)).toEqual([]);
    expect(bind()).toBe(E.EADDRNOTAVAIL);
    // Another true value changes nothing; 0 is init_loopback again.
    expect(stack.setDisableIpv6('lo', 5)).toBeUndefined();
    expect(conf.lo.disableIpv6).toBe(5);
    expect(stack.setDisableIpv6('lo', 0)).toBeUndefined();
    expect(stack.iface.ipv6Addresses().map((a) => String(a.cidr))).toEqual(['::1/128']);
    expect(bind()).toBe(0);
    // `default` alone touches no link; `all` is written to `default` and every link.
    expect(stack.setDisableIpv6('default', 1)).toBeUndefined();
    expect([conf.default.disableIpv6, conf.lo.disableIpv6, stack.iface.ipv6Addresses().length]).toEqual([
      1, 0, 1,
    ]);
    expect(stack.setDisableIpv6('all', 1)).toBeUndefined();
    expect([conf.all.disableIpv6, conf.default.disableIpv6, conf.lo.disableIpv6]).toEqual([1, 1, 1]);
    expect(stack.iface.ipv6Addresses()).toEqual([]);
    expect(stack.setDisableIpv6('all', 0)).toBeUndefined();
    expect([conf.all.disableIpv6, conf.default.disableIpv6, conf.lo.disableIpv6]).toEqual([0, 0, 0]);
    expect(stack.iface.ipv6Addresses().map((a) => String(a.cidr))).toEqual(['::1/128']);
  });

  it('on the device: its IPv6 addresses, routes and gateways go; 0 brings the link-local address back, not while down', () => {
    const [dev] = linkPair({ medium: 'ethernet', mtu: 1500 });
    const stack = new Stack({
      device: dev,
      addresses: [cidr('127.0.0.1/8'), cidr('::1/128'), cidr('192.168.7.1/24'), cidr('fd00::100/64')],
      gateways: [Ipv6Address.parse('fd00::2')!],
      hardwareAddress: EthernetAddress.parse('02:42:0a:00:02:0f')!,
      ipv6LinkLocal: true,
    });
    const eui = 'fe80::42:aff:fe00:20f/64';
    expect(stack.setDisableIpv6('device', 1)).toBeUndefined();
    expect(stack.iface.addresses.map(String)).toEqual(['127.0.0.1/8', '::1/128', '192.168.7.1/24']);
    expect(stack.iface.gateways).toEqual([]);
    expect(stack.iface.addAddress(cidr('fd00::7/64'))).toBe(E.EACCES);
    const u = stack.udpSocket(6);
    expect(u.sendto(new Uint8Array([1]), { addr: Ipv6Address.parse('fd00::2')!, port: 9 })).toBe(
      E.ENETUNREACH,
    );
    // Up again without IPv6: no link-local address.
    expect(stack.setDeviceUp(false)).toBeUndefined();
    expect(stack.setDeviceUp(true)).toBeUndefined();
    expect(stack.iface.addresses.map(String)).toEqual(['127.0.0.1/8', '::1/128', '192.168.7.1/24']);
    expect(stack.setDisableIpv6('device', 0)).toBeUndefined();
    expect(stack.iface.addresses.map(String)).toEqual(['127.0.0.1/8', '::1/128', '192.168.7.1/24', eui]);
    // A down device gets it when it comes up.
    expect(stack.setDisableIpv6('device', 1)).toBeUndefined();
    expect(stack.setDeviceUp(false)).toBeUndefined();
    expect(stack.setDisableIpv6('device', 0)).toBeUndefined();
    expect(stack.iface.addresses.map(String)).toEqual(['127.0.0.1/8', '::1/128', '192.168.7.1/24']);
    expect(stack.setDeviceUp(true)).toBeUndefined();
    expect(stack.iface.addresses.map(String)).toEqual(['127.0.0.1/8', '::1/128', '192.168.7.1/24', eui]);
  });
});

/** What the stack sent to the router since the last call: each ICMPv6 message's type and source. */
function icmpSent(sent: () => Uint8Array[]): string[] {
  return sent().map((p) => {
    const ip = Ipv6Packet.checked(p);
    if (isWireError(ip)) throw new Error('reply');
    const icmp = Icmpv6Repr.parse(Icmpv6Packet.checked(ip.payload) as Icmpv6Packet, ip.src, ip.dst, false);
    return isWireError(icmp) ? 'bad' : `${icmp.type} from ${ip.src}`;
  });
}

describe('net.ipv6.icmp echo switches', () => {
  it('echo_ignore_all silences echo replies, read for each request', () => {
    const { stack, peer, sent } = routerLink(3);
    echoFromRouter(peer, me6);
    expect(icmpSent(sent)).toEqual(['echoReply from fd00::1']);
    stack.iface.ipv6Sysctl.icmpEchoIgnoreAll = 1;
    echoFromRouter(peer, me6);
    expect(icmpSent(sent)).toEqual([]);
    stack.iface.ipv6Sysctl.icmpEchoIgnoreAll = 0;
    echoFromRouter(peer, me6);
    expect(icmpSent(sent)).toEqual(['echoReply from fd00::1']);
  });

  it("echo_ignore_multicast: a group's echo is answered from our address unless it is set", () => {
    const { stack, peer, sent } = routerLink(3);
    const allNodes = Ipv6Address.parse('ff02::1')!;
    echoFromRouter(peer, allNodes);
    expect(icmpSent(sent)).toEqual(['echoReply from fd00::1']);
    stack.iface.ipv6Sysctl.icmpEchoIgnoreMulticast = 1;
    echoFromRouter(peer, allNodes);
    expect(icmpSent(sent)).toEqual([]);
    echoFromRouter(peer, me6);
    expect(icmpSent(sent)).toEqual(['echoReply from fd00::1']);
    // echo_ignore_all wins over a 0.
    stack.iface.ipv6Sysctl.icmpEchoIgnoreMulticast = 0;
    stack.iface.ipv6Sysctl.icmpEchoIgnoreAll = 1;
    echoFromRouter(peer, allNodes);
    expect(icmpSent(sent)).toEqual([]);
  });
});

// net.ipv6.icmp.echo_ignore_anycast (Linux 6.18: 0) keeps icmpv6_echo_reply from answering an
// echo request to an anycast address of the host. Linux's anycast addresses come from forwarding
// (each prefix's subnet-router anycast address, RFC 4291 §2.6.1: checked in a namespace with a
// veth, fd00:1::5/64 and forwarding 1, an echo to fd00:1:: is answered with 0 and not with 1) or
// from IPV6_JOIN_ANYCAST; netstack has neither, so the sysctl is kept and changes no answer: a
// unicast or multicast echo is answered whatever it says, and the subnet-router anycast address
// of our own prefix is no address of ours (a host's: InAddrErrors, as ip6_forward with
// forwarding off counts it).
describe('net.ipv6.icmp.echo_ignore_anycast', () => {
  it('is 0 at first, and with no anycast address of ours holds back no echo reply', () => {
    const { stack, peer, sent } = routerLink(4);
    const sysctl = stack.iface.ipv6Sysctl;
    expect(sysctl.icmpEchoIgnoreAnycast).toBe(0);
    const subnetRouter = Ipv6Address.parse('fd00::')!; // of our fd00::/64
    const allNodes = Ipv6Address.parse('ff02::1')!;
    const answers = (): string[][] =>
      [me6, allNodes, subnetRouter].map((dst) => {
        echoFromRouter(peer, dst);
        return icmpSent(sent);
      });
    const before = stack.mib.ip6.InAddrErrors;
    expect(answers()).toEqual([['echoReply from fd00::1'], ['echoReply from fd00::1'], []]);
    sysctl.icmpEchoIgnoreAnycast = 1;
    expect(answers()).toEqual([['echoReply from fd00::1'], ['echoReply from fd00::1'], []]);
    expect(stack.mib.ip6.InAddrErrors - before).toBe(2);
    // echo_ignore_all still silences them all.
    sysctl.icmpEchoIgnoreAll = 1;
    expect(answers()).toEqual([[], [], []]);
  });
});
