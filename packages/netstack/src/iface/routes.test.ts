// Interface.addRoute / removeRoute / lookupRoute: routes added while the stack runs (what `ip
// route add/del` does): the longest prefix, then the lowest metric; gateways that must be on
// link; EEXIST and ESRCH; a route on lo; and the next hop a packet takes on Ethernet.
import { E } from '@tsvisor/abi';
import { describe, expect, it } from 'vitest';
import { LoopbackDevice, linkPair } from '../phy/loopback.js';
import { settle } from '../stack.test-util.js';
import { RingBuffer } from '../storage/ring-buffer.js';
import { Stack } from '../stack.js';
import { EthernetAddress } from '../wire/ethernet.js';
import { Ipv4Address, Ipv6Address, type IpAddress } from '../wire/ip-address.js';
import { cidr, type StaticRoute } from './interface.js';
import { IfaFlag } from './slaac.js';

const v4 = (s: string): Ipv4Address => Ipv4Address.parse(s)!;
const bufs = () => ({ rx: new RingBuffer(new Uint8Array(4096)), tx: new RingBuffer(new Uint8Array(4096)) });

function route(dst: string, more: Partial<StaticRoute> = {}): StaticRoute {
  return {
    dst: cidr(dst),
    gateway: undefined,
    loopback: false,
    metric: 0,
    src: undefined,
    mtu: undefined,
    ...more,
  };
}

describe('Interface routes', () => {
  it('the most specific prefix wins, then the lowest metric; EEXIST, replace and ESRCH', () => {
    const [dev] = linkPair({ medium: 'ethernet', mtu: 1500 });
    const stack = new Stack({
      device: dev,
      addresses: [cidr('192.168.7.2/24')],
      gateways: [v4('192.168.7.1')],
      hardwareAddress: EthernetAddress.parse('02:00:00:00:00:07')!,
    });
    const iface = stack.iface;
    const gw = (dst: string): string | undefined => iface.lookupRoute(v4(dst))?.gateway?.toString();
    expect(gw('10.1.2.3')).toBe('192.168.7.1'); // the default route
    expect(iface.addRoute(route('10.0.0.0/8', { gateway: v4('192.168.7.3'), metric: 5 }))).toBeUndefined();
    expect(iface.addRoute(route('10.0.0.0/8', { gateway: v4('192.168.7.4'), metric: 5 }))).toBe(E.EEXIST);
    expect(iface.addRoute(route('10.0.0.0/8', { gateway: v4('192.168.7.4'), metric: 2 }))).toBeUndefined();
    expect(iface.addRoute(route('10.1.0.0/16', { gateway: v4('192.168.7.5'), metric: 9 }))).toBeUndefined();
    expect(gw('10.2.0.1')).toBe('192.168.7.4'); // metric 2 beats 5
    expect(gw('10.1.0.1')).toBe('192.168.7.5'); // /16 beats /8 whatever its metric
    expect(gw('192.168.7.9')).toBeUndefined(); // on link
    // A gateway must be on link (fib_check_nh), not behind another gateway.
    expect(iface.addRoute(route('10.9.0.0/16', { gateway: v4('10.1.0.9') }))).toBe(E.ENETUNREACH);
    expect(
      iface.addRoute(route('10.0.0.0/8', { gateway: v4('192.168.7.6'), metric: 2 }), true),
    ).toBeUndefined();
    expect(gw('10.2.0.1')).toBe('192.168.7.6');
    expect(iface.removeRoute({ dst: cidr('10.0.0.0/8'), metric: 7 })).toBe(E.ESRCH);
    expect(iface.removeRoute({ dst: cidr('10.0.0.0/8') })).toMatchObject({ metric: 5 }); // the oldest
    expect(iface.removeRoute({ dst: cidr('10.0.0.0/8') })).toMatchObject({ metric: 2 });
    expect(gw('10.2.0.1')).toBe('192.168.7.1');
    expect(iface.routes.map((r) => r.dst.toString())).toEqual(['10.1.0.0/16']);
  });

  it('packets to a routed prefix go to its gateway on Ethernet, with the route source and MTU', () => {
    const [da, db] = linkPair({ medium: 'ethernet', mtu: 1500 });
    const a = new Stack({
      device: da,
      addresses: [cidr('192.168.7.2/24')],
      hardwareAddress: EthernetAddress.parse('02:00:00:00:00:02')!,
      seed: 1,
    });
    // b is the router: it owns 192.168.7.1 and, to see the packet, 10.5.0.1 too.
    const b = new Stack({
      device: db,
      addresses: [cidr('192.168.7.1/24'), cidr('10.5.0.1/32')],
      hardwareAddress: EthernetAddress.parse('02:00:00:00:00:01')!,
      seed: 2,
    });
    const s = a.udpSocket(4);
    expect(s.sendto(new Uint8Array(4), { addr: v4('10.5.0.1'), port: 9 })).toBe(E.ENETUNREACH);
    expect(
      a.iface.addRoute(
        route('10.5.0.0/16', { gateway: v4('192.168.7.1'), src: v4('192.168.7.2'), mtu: 1280 }),
      ),
    ).toBeUndefined();
    expect(a.mtuFor(v4('10.5.0.1'))).toBe(1280);
    expect(a.uniformMtu).toBeUndefined();
    const server = b.udpSocket(4);
    server.bind({ addr: v4('10.5.0.1'), port: 9 });
    expect(s.sendto(new Uint8Array(4), { addr: v4('10.5.0.1'), port: 9 })).toBe(4);
    settle([a, b], 0);
    const got = server.recvfrom(new Uint8Array(8));
    expect(typeof got === 'object' && 'from' in got ? got.from.addr.toString() : got).toBe('192.168.7.2');
  });

  it('on a loopback device, a route makes connections ask for the MTU per destination until it goes', () => {
    const stack = new Stack({ device: new LoopbackDevice(), addresses: [cidr('127.0.0.1/8')], seed: 3 });
    const uniform = stack.uniformMtu;
    expect(uniform).toBe(stack.mtu(true));
    const r = route('10.8.0.0/16', { loopback: true, mtu: 1400 });
    expect(stack.iface.addRoute(r)).toBeUndefined();
    expect(stack.uniformMtu).toBeUndefined();
    expect(stack.mtuFor(v4('10.8.0.1'))).toBe(1400);
    expect(stack.iface.addRoute(route('10.9.0.0/16', { loopback: true }))).toBeUndefined();
    expect(stack.iface.removeRoute({ dst: r.dst })).toBe(r);
    expect(stack.uniformMtu).toBeUndefined(); // one route is left
    expect(stack.iface.removeRoute({ dst: cidr('10.9.0.0/16') })).not.toBe(E.ESRCH);
    expect(stack.uniformMtu).toBe(uniform);
    expect(stack.iface.removeRoute({ dst: r.dst })).toBe(E.ESRCH);
    expect(stack.uniformMtu).toBe(uniform);
  });

  it('a route on lo: its packets loop back and are dropped, not refused with ENETUNREACH', () => {
    const stack = new Stack({ device: new LoopbackDevice(), addresses: [cidr('127.0.0.1/8')], seed: 3 });
    const s = stack.udpSocket(4);
    const dst: IpAddress = v4('10.8.0.1');
    expect(s.sendto(new Uint8Array(4), { addr: dst, port: 9 })).toBe(E.ENETUNREACH);
    expect(stack.iface.addRoute(route('10.8.0.0/16', { loopback: true }))).toBeUndefined();
    expect(stack.iface.sourceAddressFor(dst)?.toString()).toBe('0.0.0.0'); // lo has no scope-link address
    expect(s.sendto(new Uint8Array(4), { addr: dst, port: 9 })).toBe(4);
    settle([stack], 0);
    expect(stack.iface.deviceCounters.txPackets).toBe(1);
    expect(stack.mib.ip.InAddrErrors).toBe(1);
  });

  it('an IPv6 route on lo sends from ::1 when lo has nothing better (ipv6_dev_get_saddr)', () => {
    const stack = new Stack({
      device: new LoopbackDevice(),
      addresses: [cidr('127.0.0.1/8'), cidr('::1/128')],
    });
    const dst = Ipv6Address.parse('2001:db8:1::1')!;
    expect(stack.iface.addRoute(route('2001:db8:1::/64', { loopback: true, metric: 1024 }))).toBeUndefined();
    expect(stack.iface.sourceAddressFor(dst)?.toString()).toBe('::1');
    const s = stack.udpSocket(6);
    expect(s.connect({ addr: dst, port: 9 })).toBeUndefined();
    expect(s.local?.addr.toString()).toBe('::1');
  });
});

describe('an address assigned with IFA_F_NOPREFIXROUTE (ip addr add ... noprefixroute)', () => {
  const v6 = (s: string): Ipv6Address => Ipv6Address.parse(s)!;

  it('routes no prefix: the rest of it is unreachable until a route covers it', () => {
    const [da, db] = linkPair({ medium: 'ethernet', mtu: 1500 });
    const a = new Stack({
      device: da,
      addresses: [cidr('127.0.0.1/8'), cidr('::1/128')],
      hardwareAddress: EthernetAddress.parse('02:00:00:00:00:0a')!,
      seed: 1,
    });
    const b = new Stack({
      device: db,
      addresses: [cidr('2001:db8::2/64')],
      hardwareAddress: EthernetAddress.parse('02:00:00:00:00:0b')!,
      seed: 2,
    });
    const flags = IfaFlag.NODAD | IfaFlag.NOPREFIXROUTE;
    expect(a.iface.addAddress(cidr('2001:db8::1/64'), { flags })).toBeUndefined();
    const peer = v6('2001:db8::2');
    expect(a.iface.lookupRoute(peer)).toBeUndefined();
    expect(a.udpSocket(6).connect({ addr: peer, port: 9 })).toBe(E.ENETUNREACH);
    expect(a.udpSocket(6).sendto(new Uint8Array(4), { addr: peer, port: 9 })).toBe(E.ENETUNREACH);
    expect(a.tcpSocket(6, bufs()).connect({ addr: peer, port: 9 })).toBe(E.ENETUNREACH);
    // The address itself is still this host's.
    const self = a.udpSocket(6);
    expect(self.bind({ addr: v6('2001:db8::1'), port: 0 })).toBeUndefined();
    expect(self.connect({ addr: v6('2001:db8::1'), port: 9 })).toBeUndefined();
    // The route `ip -6 route add 2001:db8::/64 dev eth0` adds makes the peer reachable.
    expect(a.iface.addRoute(route('2001:db8::/64', { metric: 1024 }))).toBeUndefined();
    const server = b.udpSocket(6);
    server.bind({ addr: peer, port: 9 });
    const s = a.udpSocket(6);
    expect(s.sendto(new Uint8Array(4), { addr: peer, port: 9 })).toBe(4);
    settle([a, b], 0);
    const got = server.recvfrom(new Uint8Array(8));
    expect(typeof got === 'object' && 'from' in got ? got.from.addr.toString() : got).toBe('2001:db8::1');
  });

  it('IPv4 too (fib_add_ifaddr): no route on the device, and on lo its prefix is not local', () => {
    const [da] = linkPair({ medium: 'ethernet', mtu: 1500 });
    const a = new Stack({
      device: da,
      addresses: [cidr('127.0.0.1/8')],
      hardwareAddress: EthernetAddress.parse('02:00:00:00:00:0a')!,
      seed: 1,
    });
    const flags = IfaFlag.NOPREFIXROUTE;
    expect(a.iface.addAddress(cidr('192.168.9.1/24'), { flags })).toBeUndefined();
    expect(a.iface.lookupRoute(v4('192.168.9.2'))).toBeUndefined();
    expect(a.udpSocket(4).connect({ addr: v4('192.168.9.2'), port: 9 })).toBe(E.ENETUNREACH);
    expect(a.iface.addAddress(cidr('10.7.0.1/24'), { loopback: true, flags })).toBeUndefined();
    expect(a.iface.addAddress(cidr('10.8.0.1/24'), { loopback: true })).toBeUndefined();
    expect(a.isLocalAddress(v4('10.7.0.2'))).toBe(false);
    expect(a.isLocalAddress(v4('10.8.0.2'))).toBe(true);
    expect(a.udpSocket(4).connect({ addr: v4('10.7.0.2'), port: 9 })).toBe(E.ENETUNREACH);
    expect(a.udpSocket(4).connect({ addr: v4('10.7.0.1'), port: 9 })).toBeUndefined();
  });

  it('behind a default router the prefix goes to the router, not on link', () => {
    const [da] = linkPair({ medium: 'ethernet', mtu: 1500 });
    const a = new Stack({
      device: da,
      addresses: [cidr('fd00::1/64')],
      gateways: [v6('fd00::fe')],
      hardwareAddress: EthernetAddress.parse('02:00:00:00:00:0a')!,
      seed: 1,
    });
    expect(a.iface.addAddress(cidr('2001:db8::1/64'), { flags: IfaFlag.NOPREFIXROUTE })).toBeUndefined();
    expect(a.iface.lookupRoute(v6('2001:db8::2'))?.gateway?.toString()).toBe('fd00::fe');
    expect(a.iface.lookupRoute(v6('fd00::2'))?.gateway).toBeUndefined();
  });
});
