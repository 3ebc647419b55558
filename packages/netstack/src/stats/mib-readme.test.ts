// The README's SNMP counters example, run through the public entry point.
import { expect, it } from 'vitest';
import { cidr, Ipv4Address, LoopbackDevice, Stack } from '../index.js';

it('README example: SNMP counters', () => {
  const stack = new Stack({ device: new LoopbackDevice(), addresses: [cidr('127.0.0.1/8')] });
  stack.udpSocket(4).sendto(new TextEncoder().encode('anyone?'), { addr: Ipv4Address.LOOPBACK, port: 9 });
  stack.poll(0);
  expect(stack.mib.udp.NoPorts).toBe(1);
  const counters = stack.mib.snapshot();
  expect(counters['Udp.OutDatagrams']).toBe(1);
  expect(counters['IcmpMsg.OutType3']).toBe(1);
});
