// The README's "Device counters and addresses that change" example, through the public entry point.
import { E } from '@tsvisor/abi';
import { expect, it } from 'vitest';
import { cidr, Ipv4Address, LoopbackDevice, Stack } from '../index.js';

it('README example: device counters and addresses that change', () => {
  const stack = new Stack({ device: new LoopbackDevice(), addresses: [cidr('127.0.0.1/8')] });
  expect(stack.iface.addAddress(cidr('10.9.9.9/24'), { loopback: true })).toBeUndefined();
  expect(stack.iface.addAddress(cidr('10.9.9.9/24'), { loopback: true })).toBe(E.EEXIST);
  const s = stack.udpSocket(4);
  expect(s.bind({ addr: Ipv4Address.parse('10.9.9.77')!, port: 9 })).toBeUndefined();
  s.sendto(new Uint8Array(100), s.local!);
  stack.poll(0);
  expect(stack.iface.deviceCounters).toEqual({
    rxPackets: 1,
    rxBytes: 128,
    rxDropped: 0,
    txPackets: 1,
    txBytes: 128,
    txDropped: 0,
  });
  expect(stack.iface.removeAddress(cidr('10.9.9.9/24'))).toEqual([cidr('10.9.9.9/24')]);
});
