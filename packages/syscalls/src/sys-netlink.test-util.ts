// The loopback stack and its `lo` LinkInfo that the rtnetlink tests build their answers from.
import { cidr, LoopbackDevice, Stack } from '@tsvisor/netstack';
import { ARPHRD_LOOPBACK, IfFlag, type LinkInfo } from './sys-netlink.js';

/** A stack on a loopback device with lo's addresses, 127.0.0.1/8 and ::1. */
export function loopbackStack(): Stack {
  return new Stack({ device: new LoopbackDevice(), addresses: [cidr('127.0.0.1/8'), cidr('::1/128')] });
}

/** `lo` of `stack` (index 1, up, MTU 65536, no counters), with `fields` set over it. */
export function loLink(stack: Stack, fields: Partial<LinkInfo> = {}): LinkInfo {
  return {
    index: 1,
    name: 'lo',
    flags: IfFlag.IFF_UP | IfFlag.IFF_LOOPBACK,
    mtu: 65536,
    type: ARPHRD_LOOPBACK,
    address: new Uint8Array(6),
    broadcast: new Uint8Array(6),
    addresses: stack.iface.addresses,
    gateways: [],
    stats: () => ({ rxPackets: 0, txPackets: 0 }),
    ...fields,
  };
}
