// Interface.addAddress / removeAddress: addresses assigned and removed while the stack runs (what
// `ip addr add/del` does), with Linux's rules: EEXIST, EADDRNOTAVAIL, secondary IPv4 addresses
// and their removal with the primary, an IPv4 prefix on lo that is local as a whole, and the
// caches derived from the address list (directed broadcasts, local prefixes, sources).
import { E } from '@tsvisor/abi';
import { describe, expect, it } from 'vitest';
import { LoopbackDevice, linkPair } from '../phy/loopback.js';
import { RingBuffer } from '../storage/ring-buffer.js';
import { WOULD_BLOCK } from '../socket/would-block.js';
import { settle } from '../stack.test-util.js';
import { Stack } from '../stack.js';
import { EthernetAddress } from '../wire/ethernet.js';
import { IpCidr, Ipv4Address, Ipv6Address, type IpAddress } from '../wire/ip-address.js';
import { IfaFlag } from './slaac.js';
import { cidr } from './interface.js';

const v4 = (s: string): Ipv4Address => Ipv4Address.parse(s)!;
const v6 = (s: string): Ipv6Address => Ipv6Address.parse(s)!;

function loopbackStack(): Stack {
  return new Stack({
    device: new LoopbackDevice(),
    addresses: [cidr('127.0.0.1/8'), cidr('::1/128')],
    seed: 5,
  });
}

/** Binds a UDP socket to `addr` and sends itself a datagram: the bind's result, then whether it arrived. */
function udpToItself(stack: Stack, addr: IpAddress): string {
  const s = stack.udpSocket(addr.version);
  const r = s.bind({ addr, port: 0 });
  if (r !== undefined) {
    s.close();
    return r.name;
  }
  s.sendto(new Uint8Array([1, 2]), s.local!);
  settle([stack], 0);
  const got = s.recvfrom(new Uint8Array(8));
  s.close();
  return got === WOULD_BLOCK ? 'lost' : 'received';
}

const names = (stack: Stack): string[] => stack.iface.addresses.map((c) => `${c.address}/${c.prefixLen}`);

describe('Interface.addAddress and removeAddress', () => {
  it('an IPv4 address on lo: bind, traffic, its whole prefix local, EEXIST, then gone', () => {
    const stack = loopbackStack();
    const iface = stack.iface;
    expect(udpToItself(stack, v4('10.9.9.9'))).toBe('EADDRNOTAVAIL');
    expect(iface.isDirectedBroadcast(v4('10.9.9.255'))).toBe(false);
    expect(iface.addAddress(cidr('10.9.9.9/24'), { loopback: true })).toBeUndefined();
    expect(udpToItself(stack, v4('10.9.9.9'))).toBe('received');
    // fib_add_ifaddr makes the prefix a local route on lo: any address in it is this host's.
    expect(udpToItself(stack, v4('10.9.9.77'))).toBe('received');
    expect(iface.sourceAddressFor(v4('10.9.9.77'))?.toString()).toBe('10.9.9.9');
    expect(iface.isDirectedBroadcast(v4('10.9.9.255'))).toBe(true);
    expect(iface.addAddress(cidr('10.9.9.9/24'), { loopback: true })).toBe(E.EEXIST);
    // Another prefix length is another address for IPv4.
    expect(iface.addAddress(cidr('10.9.9.9/16'), { loopback: true })).toBeUndefined();
    expect(iface.removeAddress(cidr('10.1.1.1/24'))).toBe(E.EADDRNOTAVAIL);
    expect(iface.removeAddress(cidr('10.9.9.9/24'))).toEqual([cidr('10.9.9.9/24')]);
    expect(iface.removeAddress(cidr('10.9.9.9/24'))).toBe(E.EADDRNOTAVAIL);
    expect(names(stack)).toEqual(['127.0.0.1/8', '::1/128', '10.9.9.9/16']);
    expect(iface.removeAddress(cidr('10.9.9.9/16'))).toHaveLength(1);
    expect(udpToItself(stack, v4('10.9.9.9'))).toBe('EADDRNOTAVAIL');
    expect(udpToItself(stack, v4('10.9.9.77'))).toBe('EADDRNOTAVAIL');
    expect(iface.isDirectedBroadcast(v4('10.9.9.255'))).toBe(false);
  });

  it('secondary IPv4 addresses follow the primaries and go with their primary', () => {
    const stack = loopbackStack();
    const iface = stack.iface;
    expect(iface.addAddress(cidr('10.9.9.9/24'), { loopback: true })).toBeUndefined();
    expect(iface.addAddress(cidr('10.9.9.10/24'), { loopback: true })).toBeUndefined();
    expect(iface.addAddress(cidr('200.1.1.1/8'), { loopback: true })).toBeUndefined();
    expect(names(stack)).toEqual(['127.0.0.1/8', '::1/128', '10.9.9.9/24', '200.1.1.1/8', '10.9.9.10/24']);
    const secondary = iface.addresses.find((c) => c.address.equals(v4('10.9.9.10')))!;
    expect(iface.addressInfo(secondary)).toEqual({
      loopback: true,
      secondary: true,
      flags: 0,
      assigned: true,
    });
    // A local route's preferred source: the subnet's primary address.
    expect(iface.sourceAddressFor(v4('10.9.9.10'))?.toString()).toBe('10.9.9.9');
    expect(iface.removeAddress(cidr('10.9.9.9/24'))).toEqual([cidr('10.9.9.9/24'), cidr('10.9.9.10/24')]);
    expect(names(stack)).toEqual(['127.0.0.1/8', '::1/128', '200.1.1.1/8']);
    expect(iface.addressInfo(iface.addresses[0]!)).toEqual({
      loopback: true,
      secondary: false,
      flags: 0,
      assigned: false,
    });
  });

  it('IPv6: one address whatever its prefix length, permanent with its flags, its prefix not local', () => {
    const stack = loopbackStack();
    const iface = stack.iface;
    expect(
      iface.addAddress(cidr('2001:db8::1/64'), { loopback: true, flags: IfaFlag.NODAD }),
    ).toBeUndefined();
    expect(iface.addAddress(cidr('2001:db8::1/48'), { loopback: true })).toBe(E.EEXIST);
    expect(udpToItself(stack, v6('2001:db8::1'))).toBe('received');
    expect(udpToItself(stack, v6('2001:db8::5'))).toBe('EADDRNOTAVAIL');
    const info = iface.ipv6Addresses().find((a) => a.cidr.address.equals(v6('2001:db8::1')));
    expect(info).toMatchObject({ flags: IfaFlag.PERMANENT | IfaFlag.NODAD, validUntil: Infinity });
    expect(iface.removeAddress(cidr('2001:db8::1/48'))).toBe(E.EADDRNOTAVAIL);
    expect(iface.removeAddress(cidr('2001:db8::1/64'))).toHaveLength(1);
    expect(udpToItself(stack, v6('2001:db8::1'))).toBe('EADDRNOTAVAIL');
  });

  it('an address added on an Ethernet device is answered by ARP and reached from the other end', () => {
    const [da, db] = linkPair({ medium: 'ethernet', mtu: 1500 });
    const a = new Stack({
      device: da,
      addresses: [cidr('10.0.0.1/24')],
      hardwareAddress: EthernetAddress.parse('02:00:00:00:00:01')!,
      seed: 1,
    });
    const b = new Stack({
      device: db,
      addresses: [cidr('10.0.0.2/24')],
      hardwareAddress: EthernetAddress.parse('02:00:00:00:00:02')!,
      seed: 2,
    });
    expect(a.iface.addAddress(new IpCidr(v4('10.0.0.5'), 24))).toBeUndefined();
    expect(a.iface.addressInfo(a.iface.addresses[1]!)).toEqual({
      loopback: false,
      secondary: true,
      flags: 0,
      assigned: true,
    });
    const server = a.udpSocket(4);
    expect(server.bind({ addr: v4('10.0.0.5'), port: 7 })).toBeUndefined();
    const client = b.udpSocket(4);
    client.sendto(new Uint8Array([9]), { addr: v4('10.0.0.5'), port: 7 });
    settle([a, b], 0);
    const got = server.recvfrom(new Uint8Array(4));
    expect(got !== WOULD_BLOCK && 'len' in got ? got.len : got).toBe(1);
  });

  it('a TCP connection on a removed address stays established', () => {
    const stack = loopbackStack();
    const rings = () => ({
      rx: new RingBuffer(new Uint8Array(1 << 16)),
      tx: new RingBuffer(new Uint8Array(1 << 16)),
    });
    stack.iface.addAddress(cidr('10.9.9.9/24'), { loopback: true });
    const l = stack.tcpListener(4, rings);
    expect(l.bind({ addr: v4('10.9.9.9'), port: 80 })).toBeUndefined();
    l.listen(1);
    const c = stack.tcpSocket(4, rings());
    c.connect({ addr: v4('10.9.9.9'), port: 80 });
    settle([stack], 0);
    expect(c.state).toBe('ESTABLISHED');
    stack.iface.removeAddress(cidr('10.9.9.9/24'));
    settle([stack], 10);
    expect(c.state).toBe('ESTABLISHED');
  });
});
