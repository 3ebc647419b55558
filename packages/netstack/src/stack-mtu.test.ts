// The loopback MTU (65536, Linux's lo) and the IPv4 cap on route MTUs (IP_MAX_MTU, 65535):
// what Stack.mtuFor gives on a loopback device and for this host's own addresses on a NIC.
// (runtime's lo-mtu test compares what programs see with Linux.)
import { describe, expect, it } from 'vitest';
import { cidr } from './iface/interface.js';
import { LOOPBACK_MTU, LoopbackDevice, linkPair } from './phy/loopback.js';
import { Stack } from './stack.js';
import { EthernetAddress } from './wire/ethernet.js';
import { Ipv4Address, Ipv6Address } from './wire/ip-address.js';

describe('route MTUs', () => {
  it('lo has 65536; IPv4 routes over it 65535', () => {
    const stack = new Stack({
      device: new LoopbackDevice(),
      addresses: [cidr('127.0.0.1/8'), cidr('::1/128')],
    });
    expect(stack.device.capabilities.mtu).toBe(LOOPBACK_MTU);
    expect(LOOPBACK_MTU).toBe(65536);
    expect(stack.mtuFor(Ipv6Address.LOOPBACK)).toBe(65536);
    expect(stack.mtuFor(Ipv4Address.LOOPBACK)).toBe(65535);
  });

  it("a NIC's stack reaches its own addresses at lo's MTU, others at the NIC's", () => {
    const [dev] = linkPair({ medium: 'ethernet', mtu: 1500 });
    const stack = new Stack({
      device: dev,
      hardwareAddress: new EthernetAddress([2, 0, 0, 0, 0, 1]),
      addresses: [cidr('10.0.0.1/24'), cidr('fd00::1/64')],
    });
    expect(stack.mtuFor(Ipv4Address.parse('10.0.0.1')!)).toBe(65535);
    expect(stack.mtuFor(Ipv6Address.parse('fd00::1')!)).toBe(65536);
    expect(stack.mtuFor(Ipv4Address.parse('10.0.0.2')!)).toBe(1500);
  });
});
