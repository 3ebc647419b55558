// Stack.setLoopbackUp: what `ip link set lo down` and `up` do to the stack, as Linux (compared
// with the host kernel in packages/runtime/src/rtnl-link-updown.test.ts): IPv4 to itself is
// dropped without an error and counted, ::1 and lo's other IPv6 addresses and the routes through
// lo go, a TCP connection stalls and recovers after up, ::1 alone comes back.
import { E, isError } from '@tsvisor/abi';
import { describe, expect, it } from 'vitest';
import { LoopbackDevice, linkPair } from '../phy/loopback.js';
import { RingBuffer } from '../storage/ring-buffer.js';
import { runUntil, settle } from '../stack.test-util.js';
import { Stack } from '../stack.js';
import { EthernetAddress } from '../wire/ethernet.js';
import { Ipv4Address, Ipv6Address } from '../wire/ip-address.js';
import { WOULD_BLOCK } from '../socket/would-block.js';
import { cidr } from './interface.js';
import { IfaFlag } from './slaac.js';

const v4 = (s: string): Ipv4Address => Ipv4Address.parse(s)!;
const lo6 = Ipv6Address.LOOPBACK;
const rings = () => ({ rx: new RingBuffer(new Uint8Array(8192)), tx: new RingBuffer(new Uint8Array(8192)) });

function loopbackStack(): Stack {
  return new Stack({
    device: new LoopbackDevice(),
    addresses: [cidr('127.0.0.1/8'), cidr('::1/128')],
    seed: 3,
  });
}

/** Sends one UDP datagram to 127.0.0.1:9 and says whether a socket bound there got it. */
function udpRoundTrip(stack: Stack, now: number): boolean {
  const server = stack.udpSocket(4);
  expect(server.bind({ addr: v4('127.0.0.1'), port: 0 })).toBeUndefined();
  const port = server.local!.port;
  const client = stack.udpSocket(4);
  expect(client.sendto(new Uint8Array([1, 2, 3]), { addr: v4('127.0.0.1'), port })).toBe(3);
  settle([stack], now);
  const got = server.recvfrom(new Uint8Array(16));
  server.close();
  client.close();
  return typeof got === 'object' && 'len' in got;
}

describe('Stack.setLoopbackUp', () => {
  it('on a loopback device: IPv4 is dropped and counted, ::1 goes and comes back', () => {
    const stack = loopbackStack();
    expect(stack.loopbackUp).toBe(true);
    expect(udpRoundTrip(stack, 0)).toBe(true);
    stack.iface.addAddress(cidr('::2/128'), { loopback: true });
    stack.iface.addRoute({
      dst: cidr('10.7.0.0/16'),
      gateway: undefined,
      loopback: true,
      metric: 0,
      src: undefined,
      mtu: undefined,
    });
    expect(stack.setLoopbackUp(false).map(String)).toEqual(['::1/128', '::2/128']);
    expect(stack.setLoopbackUp(false)).toEqual([]); // already down
    expect(stack.loopbackUp).toBe(false);
    expect(stack.iface.addresses.map(String)).toEqual(['127.0.0.1/8']);
    expect(stack.iface.routes).toEqual([]);
    const dropped = stack.iface.deviceCounters.txDropped;
    expect(udpRoundTrip(stack, 1)).toBe(false);
    expect(stack.iface.deviceCounters.txDropped).toBe(dropped + 1);
    // ::1 is no longer this host's.
    const s6 = stack.udpSocket(6);
    expect(s6.bind({ addr: lo6, port: 0 })).toBe(E.EADDRNOTAVAIL);
    expect(stack.iface.hasAddress(v4('127.0.0.1'))).toBe(true);
    expect(stack.setLoopbackUp(true).map(String)).toEqual(['::1/128']);
    expect(stack.iface.addresses.map(String)).toEqual(['127.0.0.1/8', '::1/128']);
    expect(udpRoundTrip(stack, 2)).toBe(true);
    expect(stack.udpSocket(6).bind({ addr: lo6, port: 0 })).toBeUndefined();
  });

  it('a TCP connection stalls while lo is down and delivers after up', () => {
    const stack = loopbackStack();
    const l = stack.tcpListener(4, rings);
    l.bind({ addr: Ipv4Address.LOOPBACK, port: 80 });
    l.listen(1);
    const c = stack.tcpSocket(4, rings());
    c.connect({ addr: Ipv4Address.LOOPBACK, port: 80 });
    settle([stack], 0);
    const s = l.accept();
    if (s === WOULD_BLOCK || isError(s)) throw new Error('no connection');
    stack.setLoopbackUp(false);
    expect(c.send(new Uint8Array([7, 7, 7]))).toBe(3);
    const out = new Uint8Array(16);
    let now = runUntil([stack], 1, () => false, 2000);
    expect(s.recv(out)).toBe(WOULD_BLOCK);
    expect(c.state).toBe('ESTABLISHED');
    stack.setLoopbackUp(true);
    now = runUntil([stack], now, () => s.readable > 0, 10_000);
    expect(s.recv(out)).toBe(3);
    // A connect begun while lo is down completes once its SYN is resent.
    stack.setLoopbackUp(false);
    const c2 = stack.tcpSocket(4, rings());
    c2.connect({ addr: Ipv4Address.LOOPBACK, port: 80 });
    now = runUntil([stack], now + 1, () => false, 500);
    expect(c2.state).toBe('SYN_SENT');
    stack.setLoopbackUp(true);
    runUntil([stack], now, () => c2.state === 'ESTABLISHED', 10_000);
    expect(c2.state).toBe('ESTABLISHED');
  });

  it('on an Ethernet device: lo alone goes down; the device still carries traffic', () => {
    const [da, db] = linkPair({ medium: 'ethernet', mtu: 1500 });
    const a = new Stack({
      device: da,
      addresses: [cidr('192.168.7.1/24'), cidr('127.0.0.1/8'), cidr('::1/128')],
      hardwareAddress: EthernetAddress.parse('02:00:00:00:00:01')!,
      seed: 4,
    });
    const b = new Stack({
      device: db,
      addresses: [cidr('192.168.7.2/24')],
      hardwareAddress: EthernetAddress.parse('02:00:00:00:00:02')!,
      seed: 5,
    });
    expect(a.setLoopbackUp(false).map(String)).toEqual(['::1/128']);
    expect(a.iface.deviceUp).toBe(true);
    expect(udpRoundTrip(a, 0)).toBe(false);
    expect(a.iface.loopCounters.txDropped).toBe(1);
    const server = b.udpSocket(4);
    expect(server.bind({ addr: v4('192.168.7.2'), port: 9 })).toBeUndefined();
    expect(a.udpSocket(4).sendto(new Uint8Array([1]), { addr: v4('192.168.7.2'), port: 9 })).toBe(1);
    settle([a, b], 1);
    const got = server.recvfrom(new Uint8Array(4));
    expect(typeof got === 'object' && 'len' in got).toBe(true);
  });
});

describe('Stack.setDeviceUp', () => {
  function pair(): [Stack, Stack] {
    const [da, db] = linkPair({ medium: 'ethernet', mtu: 1500 });
    const a = new Stack({
      device: da,
      addresses: [cidr('192.168.7.1/24'), cidr('127.0.0.1/8'), cidr('::1/128')],
      gateways: [v4('192.168.7.2')],
      hardwareAddress: EthernetAddress.parse('02:00:00:00:00:01')!,
      seed: 6,
    });
    const b = new Stack({
      device: db,
      addresses: [cidr('192.168.7.2/24')],
      hardwareAddress: EthernetAddress.parse('02:00:00:00:00:02')!,
      seed: 7,
    });
    return [a, b];
  }

  it('down: no route off the host, nothing in or out, the gateway gone for good', () => {
    const [a, b] = pair();
    a.iface.addRoute({
      dst: cidr('10.5.0.0/16'),
      gateway: v4('192.168.7.2'),
      loopback: false,
      metric: 0,
      src: undefined,
      mtu: undefined,
    });
    const server = b.udpSocket(4);
    expect(server.bind({ addr: v4('192.168.7.2'), port: 9 })).toBeUndefined();
    const l = b.tcpListener(4, rings);
    l.bind({ addr: v4('192.168.7.2'), port: 80 });
    l.listen(1);
    const c = a.tcpSocket(4, rings());
    c.connect({ addr: v4('192.168.7.2'), port: 80 });
    let now = runUntil([a, b], 0, () => c.state === 'ESTABLISHED', 5000);
    const s = l.accept();
    if (s === WOULD_BLOCK || isError(s)) throw new Error('no connection');
    const connected = a.udpSocket(4);
    expect(connected.connect({ addr: v4('192.168.7.2'), port: 9 })).toBeUndefined();
    expect(a.setDeviceUp(false)).toBeUndefined();
    expect([a.deviceUp, a.loopbackUp]).toEqual([false, true]);
    expect(a.iface.gateways).toEqual([]);
    expect(a.iface.routes).toEqual([]);
    expect(a.iface.addresses.map(String)).toContain('192.168.7.1/24');
    const u = a.udpSocket(4);
    expect(u.sendto(new Uint8Array([1]), { addr: v4('192.168.7.2'), port: 9 })).toBe(E.ENETUNREACH);
    // A socket with a source of its own finds no route either.
    expect(connected.sendto(new Uint8Array([1]))).toBe(E.ENETUNREACH);
    expect(u.sendto(new Uint8Array([1]), { addr: v4('8.8.8.8'), port: 53 })).toBe(E.ENETUNREACH);
    // This host is still reached, through lo.
    expect(udpRoundTrip(a, now)).toBe(true);
    // The peer's datagrams are not taken.
    const mine = a.udpSocket(4);
    expect(mine.bind({ addr: v4('192.168.7.1'), port: 7 })).toBeUndefined();
    expect(b.udpSocket(4).sendto(new Uint8Array([2]), { addr: v4('192.168.7.1'), port: 7 })).toBe(1);
    expect(c.send(new Uint8Array([7, 7]))).toBe(2);
    now = runUntil([a, b], now + 1, () => false, 1500);
    expect(mine.recvfrom(new Uint8Array(4))).toBe(WOULD_BLOCK);
    const out = new Uint8Array(8);
    expect(s.recv(out)).toBe(WOULD_BLOCK);
    // Up: the prefix is on link again, the connection delivers; the default route stays gone.
    expect(a.setDeviceUp(true)).toBeUndefined();
    now = runUntil([a, b], now, () => s.readable > 0, 10_000);
    expect(s.recv(out)).toBe(2);
    expect(u.sendto(new Uint8Array([1]), { addr: v4('192.168.7.2'), port: 9 })).toBe(1);
    expect(connected.sendto(new Uint8Array([1]))).toBe(1);
    expect(u.sendto(new Uint8Array([1]), { addr: v4('8.8.8.8'), port: 53 })).toBe(E.ENETUNREACH);
  });

  it("IPv6: down removes the device's addresses and their routes, up brings the link-local one back", () => {
    const [dev] = linkPair({ medium: 'ethernet', mtu: 1500 });
    const stack = new Stack({
      device: dev,
      addresses: [cidr('127.0.0.1/8'), cidr('::1/128'), cidr('192.168.7.1/24'), cidr('fd00::100/64')],
      gateways: [v4('192.168.7.2'), Ipv6Address.parse('fd00::2')!],
      hardwareAddress: EthernetAddress.parse('02:42:0a:00:02:0f')!,
      ipv6LinkLocal: true,
    });
    const eui = 'fe80::42:aff:fe00:20f/64';
    expect(stack.iface.linkLocal?.toString()).toBe('fe80::42:aff:fe00:20f');
    expect(stack.iface.addresses.map(String)).toEqual([
      '127.0.0.1/8',
      '::1/128',
      '192.168.7.1/24',
      'fd00::100/64',
      eui,
    ]);
    const u = stack.udpSocket(6);
    expect(u.sendto(new Uint8Array([1]), { addr: Ipv6Address.parse('fd00::2')!, port: 9 })).toBe(1);
    expect(stack.setDeviceUp(false)).toBeUndefined();
    // lo's ::1 and the IPv4 address stay; the device's IPv6 addresses and the gateways go.
    expect(stack.iface.addresses.map(String)).toEqual(['127.0.0.1/8', '::1/128', '192.168.7.1/24']);
    expect(stack.iface.gateways).toEqual([]);
    expect(stack.iface.ipv6Addresses().map((a) => String(a.cidr))).toEqual(['::1/128']);
    expect(u.sendto(new Uint8Array([1]), { addr: Ipv6Address.parse('fd00::2')!, port: 9 })).toBe(
      E.ENETUNREACH,
    );
    expect(stack.setDeviceUp(true)).toBeUndefined();
    // Up: the link-local address alone comes back (a static address is gone for good on Linux),
    // tentative until duplicate address detection passed (see dad.test.ts).
    expect(stack.iface.addresses.map(String)).toEqual(['127.0.0.1/8', '::1/128', '192.168.7.1/24', eui]);
    expect(stack.iface.ipv6Addresses().map((a) => [String(a.cidr), a.flags])).toEqual([
      ['::1/128', IfaFlag.PERMANENT],
      [eui, IfaFlag.PERMANENT | IfaFlag.TENTATIVE],
    ]);
    for (const now of [0, 1000, 2000]) settle([stack], now);
    expect(stack.iface.ipv6Addresses().map((a) => [String(a.cidr), a.flags])).toEqual([
      ['::1/128', IfaFlag.PERMANENT],
      [eui, IfaFlag.PERMANENT],
    ]);
    expect(u.sendto(new Uint8Array([1]), { addr: Ipv6Address.parse('fe80::1')!, port: 9 })).toBe(1);
    expect(u.sendto(new Uint8Array([1]), { addr: Ipv6Address.parse('fd00::2')!, port: 9 })).toBe(
      E.ENETUNREACH,
    );
  });

  it('a device with SLAAC stays up: EOPNOTSUPP', () => {
    const [dev] = linkPair({ medium: 'ethernet', mtu: 1500 });
    const stack = new Stack({
      device: dev,
      addresses: [cidr('192.168.7.1/24')],
      hardwareAddress: EthernetAddress.parse('02:00:00:00:00:01')!,
      ipv6LinkLocal: true,
      slaac: true,
    });
    expect(stack.deviceHasSlaac).toBe(true);
    expect(stack.setDeviceUp(false)).toBe(E.EOPNOTSUPP);
    expect(stack.deviceUp).toBe(true);
  });

  it('on a loopback device it is lo', () => {
    const stack = loopbackStack();
    expect(stack.setDeviceUp(false)).toBeUndefined();
    expect([stack.deviceUp, stack.loopbackUp]).toEqual([false, false]);
  });
});

it('README example: lo down and up', () => {
  const stack = new Stack({
    device: new LoopbackDevice(),
    addresses: [cidr('127.0.0.1/8'), cidr('::1/128')],
  });
  expect(stack.setLoopbackUp(false).map(String)).toEqual(['::1/128']);
  expect(stack.setLoopbackUp(true).map(String)).toEqual(['::1/128']);
});

describe('a stack whose lo starts down (a new network namespace)', () => {
  it('reaches nothing on 127/8 until lo comes up with 127.0.0.1/8 and ::1; deleting 127.0.0.1/8 unreaches it', () => {
    const stack = new Stack({ device: new LoopbackDevice(), addresses: [], loopbackDown: true, seed: 3 });
    expect([stack.loopbackUp, stack.deviceUp]).toEqual([false, false]);
    expect(stack.iface.addresses).toEqual([]);
    expect(stack.iface.hasAddress(v4('127.0.0.1'))).toBe(false);
    expect(stack.tcpSocket(4, rings()).connect({ addr: v4('127.0.0.1'), port: 80 })).toBe(E.ENETUNREACH);
    expect(stack.setLoopbackUp(true).map(String)).toEqual(['::1/128']);
    expect(stack.iface.addresses.map(String)).toEqual(['127.0.0.1/8', '::1/128']);
    expect(udpRoundTrip(stack, 0)).toBe(true);
    // Down keeps 127.0.0.1/8; up again adds nothing twice.
    stack.setLoopbackUp(false);
    stack.setLoopbackUp(true);
    expect(stack.iface.addresses.map(String)).toEqual(['127.0.0.1/8', '::1/128']);
    expect(String(stack.iface.removeAddress(cidr('127.0.0.1/8')))).toBe('127.0.0.1/8');
    expect(stack.tcpSocket(4, rings()).connect({ addr: v4('127.0.0.5'), port: 80 })).toBe(E.ENETUNREACH);
  });
});
