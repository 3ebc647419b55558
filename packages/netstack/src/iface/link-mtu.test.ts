// Stack.setMtu: what `ip link set DEV mtu N` changes in the stack: the MTU routes give sockets
// (IP_MTU, the MSS), and the size datagrams are fragmented to, on lo and on the device; the
// range it takes.
import { E } from '@tsvisor/abi';
import { describe, expect, it } from 'vitest';
import { LOOPBACK_MTU, LoopbackDevice, linkPair } from '../phy/loopback.js';
import { settle } from '../stack.test-util.js';
import { Stack } from '../stack.js';
import { EthernetAddress } from '../wire/ethernet.js';
import { Ipv4Address, Ipv6Address } from '../wire/ip-address.js';
import { cidr } from './interface.js';

const v4 = (s: string): Ipv4Address => Ipv4Address.parse(s)!;

describe('Stack.setMtu', () => {
  it('on a loopback device: lo is the device; datagrams are cut to the new MTU', () => {
    const stack = new Stack({
      device: new LoopbackDevice(),
      addresses: [cidr('127.0.0.1/8'), cidr('::1/128')],
      seed: 1,
    });
    expect(stack.mtu(true)).toBe(LOOPBACK_MTU);
    expect(stack.uniformMtu).toBe(LOOPBACK_MTU);
    expect(stack.setMtu(true, 1279)).toBe(E.EINVAL);
    expect(stack.setMtu(true, LOOPBACK_MTU + 1)).toBe(E.EINVAL);
    expect(stack.setMtu(true, 1400.5)).toBe(E.EINVAL);
    expect(stack.mtu(true)).toBe(LOOPBACK_MTU);
    const server = stack.udpSocket(4);
    expect(server.bind({ addr: v4('127.0.0.1'), port: 9 })).toBeUndefined();
    const client = stack.udpSocket(4);
    const send = (): void => {
      expect(client.sendto(new Uint8Array(3000).fill(7), { addr: v4('127.0.0.1'), port: 9 })).toBe(3000);
      settle([stack], 0);
      const got = server.recvfrom(new Uint8Array(4000));
      expect(typeof got === 'object' && 'len' in got ? got.len : got).toBe(3000);
    };
    send();
    expect(stack.mib.ip.FragCreates).toBe(0);
    expect(stack.setMtu(true, 1400)).toBeUndefined();
    expect([stack.mtu(true), stack.mtu(false)]).toEqual([1400, 1400]);
    expect(stack.mtuFor(v4('127.0.0.1'))).toBe(1400);
    expect(stack.mtuFor(Ipv6Address.parse('::1')!)).toBe(1400);
    // Connections now follow the route's MTU at each send.
    expect(stack.uniformMtu).toBeUndefined();
    send();
    // 8 + 3000 bytes of UDP in pieces of 1376 (1400 less the header, in eighths): 3 fragments.
    expect(stack.mib.ip.FragCreates).toBe(3);
    expect(stack.setMtu(true, LOOPBACK_MTU)).toBeUndefined();
    expect(stack.mtuFor(v4('127.0.0.1'))).toBe(65535); // IPv4 routes have at most IP_MAX_MTU
  });

  it('on an Ethernet device: the device and lo have their own MTU and maximum', () => {
    const [dev] = linkPair({ medium: 'ethernet', mtu: 1500 });
    const stack = new Stack({
      device: dev,
      addresses: [cidr('192.168.7.2/24')],
      hardwareAddress: EthernetAddress.parse('02:00:00:00:00:07')!,
      seed: 2,
    });
    expect([stack.maxMtu(false), stack.maxMtu(true)]).toEqual([1500, LOOPBACK_MTU]);
    expect(stack.setMtu(false, 1501)).toBe(E.EINVAL);
    expect(stack.setMtu(false, 1400)).toBeUndefined();
    expect([stack.mtu(false), stack.mtu(true)]).toEqual([1400, LOOPBACK_MTU]);
    expect(stack.mtuFor(v4('192.168.7.9'))).toBe(1400);
    // The stack's own address is reached through lo.
    expect(stack.mtuFor(v4('192.168.7.2'))).toBe(65535);
    expect(stack.setMtu(true, 9000)).toBeUndefined();
    expect(stack.mtuFor(v4('192.168.7.2'))).toBe(9000);
    expect(stack.mtuFor(v4('192.168.7.9'))).toBe(1400);
  });
});

it("README example: lo's MTU", () => {
  const stack = new Stack({ device: new LoopbackDevice(), addresses: [cidr('127.0.0.1/8')] });
  expect(stack.setMtu(true, 1400)).toBeUndefined();
  expect(stack.mtuFor(Ipv4Address.parse('127.0.0.1')!)).toBe(1400);
  expect(stack.setMtu(true, 1000)).toBe(E.EINVAL);
});
