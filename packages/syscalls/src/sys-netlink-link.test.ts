// rtnlChange without a kernel: RTM_NEWLINK and RTM_SETLINK on links over netstack stacks (lo of a
// loopback-only stack, eth0 of an Ethernet one): finding the link, the MTU range and its errors,
// what is not modelled (eth0 down with IPv6, renames, other attributes, creating links), and the MTU
// reaching the stack. The same requests on lo run against Linux in
// packages/runtime/src/rtnl-link.test.ts.
import { E } from '@tsvisor/abi';
import { cidr, EthernetAddress, linkPair, LoopbackDevice, Stack } from '@tsvisor/netstack';
import { describe, expect, it } from 'vitest';
import { rtnlChange, stackLinkControl } from './sys-netlink-change.js';
import { ARPHRD_LOOPBACK, IfFlag, type LinkInfo } from './sys-netlink.js';

const RTM_NEWLINK = 16;
const RTM_SETLINK = 19;
const NLM_F_REPLACE = 0x100;
const NLM_F_EXCL = 0x200;
const NLM_F_CREATE = 0x400;
const IFLA_IFNAME = 3;
const IFLA_MTU = 4;
const IFLA_TXQLEN = 13;

function link(stack: Stack, index: number, name: string, loopback: boolean, control = true): LinkInfo {
  const c = stackLinkControl(stack, loopback);
  return {
    index,
    name,
    flags: c.flags,
    txQueueLen: c.txQueueLen,
    mtu: stack.mtu(loopback),
    type: ARPHRD_LOOPBACK,
    address: new Uint8Array(6),
    broadcast: new Uint8Array(6),
    addresses: [],
    gateways: [],
    stats: () => ({ rxPackets: 0, txPackets: 0 }),
    ...(control ? { linkControl: c } : {}),
  };
}

function u32(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24];
}

function str(s: string): number[] {
  return [...s].map((c) => c.charCodeAt(0)).concat(0);
}

/** A struct ifinfomsg (index, ifi_flags, ifi_change) and attributes (type, bytes). */
function ifinfo(index: number, attrs: [number, number[]][], flags = 0, change = 0): Uint8Array {
  const head = new Uint8Array(16);
  const dv = new DataView(head.buffer);
  dv.setInt32(4, index, true);
  dv.setUint32(8, flags, true);
  dv.setUint32(12, change, true);
  const parts = [head];
  for (const [type, value] of attrs) {
    const a = new Uint8Array((4 + value.length + 3) & ~3);
    new DataView(a.buffer).setUint16(0, 4 + value.length, true);
    new DataView(a.buffer).setUint16(2, type, true);
    a.set(value, 4);
    parts.push(a);
  }
  return Uint8Array.from(parts.flatMap((p) => [...p]));
}

describe('rtnlChange: RTM_NEWLINK and RTM_SETLINK', () => {
  it('finds lo by index or name and sets its MTU; errors as Linux for missing links', () => {
    const stack = new Stack({ device: new LoopbackDevice(), addresses: [cidr('127.0.0.1/8')] });
    const links = (): LinkInfo[] => [link(stack, 1, 'lo', true)];
    const mtu = (v: number): [number, number[]] => [IFLA_MTU, u32(v)];
    expect(rtnlChange(links(), RTM_NEWLINK, 0, ifinfo(99, [mtu(1400)]))).toEqual({ error: E.ENODEV });
    expect(rtnlChange(links(), RTM_NEWLINK, 0, ifinfo(0, [[IFLA_IFNAME, str('eth9')], mtu(1400)]))).toEqual({
      error: E.ENODEV,
    });
    expect(rtnlChange(links(), RTM_SETLINK, 0, ifinfo(0, [mtu(1400)]))).toEqual({ error: E.EINVAL });
    expect(rtnlChange(links(), RTM_NEWLINK, 0, ifinfo(0, [mtu(1400)]))).toEqual({ error: E.ENODEV });
    expect(rtnlChange(links(), RTM_NEWLINK, 0, ifinfo(-1, [mtu(1400)]))).toMatchObject({ error: E.EINVAL });
    expect(rtnlChange(links(), RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, ifinfo(1, [mtu(1400)]))).toEqual({
      error: E.EEXIST,
    });
    expect(rtnlChange(links(), RTM_NEWLINK, NLM_F_REPLACE, ifinfo(1, [mtu(1400)]))).toEqual({
      error: E.EOPNOTSUPP,
    });
    // A link that is not there, with NLM_F_CREATE: creating links is not modelled, as Linux
    // without the kind's module says.
    expect(rtnlChange(links(), RTM_NEWLINK, NLM_F_CREATE, ifinfo(0, [[IFLA_IFNAME, str('d0')]]))).toEqual({
      error: E.EOPNOTSUPP,
      message: 'Unknown device type',
    });
    expect(rtnlChange(links(), RTM_NEWLINK, 0, ifinfo(1, [mtu(-1)]))).toEqual({
      error: E.EINVAL,
      message: 'mtu less than device minimum',
    });
    expect(rtnlChange(links(), RTM_NEWLINK, 0, ifinfo(1, [[IFLA_MTU, [0, 5]]]))?.error).toBe(E.ERANGE);
    // Linux takes these on lo (and IPv6, or IPv4 too, off it below 1280 and 68): not modelled.
    for (const v of [1279, 67, 70000])
      expect(rtnlChange(links(), RTM_NEWLINK, 0, ifinfo(1, [mtu(v)]))).toEqual({ error: E.EOPNOTSUPP });
    expect(stack.mtu(true)).toBe(65536);
    expect(rtnlChange(links(), RTM_NEWLINK, 0, ifinfo(1, [mtu(1400)]))).toBeUndefined();
    expect(stack.mtu(true)).toBe(1400);
    expect(links()[0]!.mtu).toBe(1400);
    expect(stack.mtuFor(cidr('127.0.0.1/8').address)).toBe(1400);
    expect(
      rtnlChange(links(), RTM_SETLINK, 0, ifinfo(0, [[IFLA_IFNAME, str('lo')], mtu(1280)])),
    ).toBeUndefined();
    expect(stack.mtu(true)).toBe(1280);
  });

  it('answers EOPNOTSUPP to what the links cannot do, and checks a request whole first', () => {
    const stack = new Stack({ device: new LoopbackDevice(), addresses: [cidr('127.0.0.1/8')] });
    const links = (): LinkInfo[] => [link(stack, 1, 'lo', true)];
    // `ip link set lo up` on a link that is up changes nothing; ifi_change 0 means every flag.
    const up = IfFlag.IFF_UP | IfFlag.IFF_LOOPBACK | IfFlag.IFF_RUNNING | IfFlag.IFF_LOWER_UP;
    expect(rtnlChange(links(), RTM_NEWLINK, 0, ifinfo(1, [], IfFlag.IFF_UP, IfFlag.IFF_UP))).toBeUndefined();
    expect(rtnlChange(links(), RTM_NEWLINK, 0, ifinfo(1, [], up, 0))).toBeUndefined();
    // eth0 down with SLAAC on it, without ARP or multicast: not modelled, and the MTU of the
    // same request is left alone.
    const [dev] = linkPair({ medium: 'ethernet', mtu: 1500 });
    const eth = new Stack({
      device: dev,
      addresses: [cidr('192.168.7.2/24')],
      hardwareAddress: EthernetAddress.parse('02:00:00:00:00:07')!,
      ipv6LinkLocal: true,
      slaac: true,
    });
    const eth0 = link(eth, 2, 'eth0', false);
    for (const [flags, change] of [
      [0, IfFlag.IFF_UP],
      [IfFlag.IFF_NOARP, IfFlag.IFF_NOARP],
      [0, 0x1000],
    ])
      expect(rtnlChange([eth0], RTM_NEWLINK, 0, ifinfo(2, [[IFLA_MTU, u32(1400)]], flags, change))).toEqual({
        error: E.EOPNOTSUPP,
      });
    expect(eth.mtu(false)).toBe(1500);
    expect(rtnlChange(links(), RTM_NEWLINK, 0, ifinfo(1, [[IFLA_IFNAME, str('lo2')]]))).toEqual({
      error: E.EOPNOTSUPP,
    });
    expect(
      rtnlChange([link(stack, 1, 'lo', true, false)], RTM_NEWLINK, 0, ifinfo(1, [[IFLA_TXQLEN, u32(500)]])),
    ).toEqual({ error: E.EOPNOTSUPP });
    expect(stack.mtu(true)).toBe(65536);
    // The same MTU is no change, even where another would not be modelled.
    expect(rtnlChange(links(), RTM_NEWLINK, 0, ifinfo(1, [[IFLA_MTU, u32(65536)]]))).toBeUndefined();
    // A link without a LinkControl keeps its MTU.
    expect(
      rtnlChange([link(stack, 1, 'lo', true, false)], RTM_NEWLINK, 0, ifinfo(1, [[IFLA_MTU, u32(1400)]])),
    ).toEqual({
      error: E.EOPNOTSUPP,
    });
  });

  it("eth0: an Ethernet device's range, 68 to its device's MTU, apart from lo's", () => {
    const [dev] = linkPair({ medium: 'ethernet', mtu: 9000 });
    const stack = new Stack({
      device: dev,
      addresses: [cidr('192.168.7.2/24')],
      hardwareAddress: EthernetAddress.parse('02:00:00:00:00:07')!,
    });
    const links = (): LinkInfo[] => [link(stack, 1, 'lo', true), link(stack, 2, 'eth0', false)];
    const set = (index: number, v: number): unknown =>
      rtnlChange(links(), RTM_NEWLINK, 0, ifinfo(index, [[IFLA_MTU, u32(v)]]));
    expect(set(2, 9001)).toEqual({ error: E.EINVAL, message: 'mtu greater than device maximum' });
    expect(set(2, 67)).toEqual({ error: E.EINVAL, message: 'mtu less than device minimum' });
    expect(set(2, 1000)).toEqual({ error: E.EOPNOTSUPP });
    expect(set(2, 1500)).toBeUndefined();
    expect(set(1, 16384)).toBeUndefined();
    expect(links().map((l) => l.mtu)).toEqual([16384, 1500]);
  });
});
