// rtnlChange without a kernel: RTM_NEWADDR and RTM_DELADDR against a link over a netstack stack,
// the request parsing and the errors Linux gives (the same cases run against Linux in
// packages/runtime/src/rtnl-addr.test.ts), and a link that cannot change.
import { AddressFamily, E } from '@tsvisor/abi';
import { cidr, IfaFlag, LoopbackDevice, Stack, WOULD_BLOCK } from '@tsvisor/netstack';
import { describe, expect, it } from 'vitest';
import { loLink } from './sys-netlink.test-util.js';
import { interfaceAddressing, rtnlChange } from './sys-netlink-change.js';
import { NetlinkDomain, NetlinkSocket, type LinkInfo } from './sys-netlink.js';

const RTM_NEWADDR = 20;
const RTM_DELADDR = 21;
const RTM_NEWROUTE = 24;
const NLM_F_REPLACE = 0x100;
const NLM_F_EXCL = 0x200;
const NLM_F_CREATE = 0x400;

function lo(stack: Stack, control = true): LinkInfo {
  return loLink(stack, {
    ipv6: () => stack.iface.ipv6Addresses(),
    ...(control ? interfaceAddressing(stack.iface, true) : {}),
  });
}

/** A struct ifaddrmsg and attributes (type, bytes). */
function body(
  family: number,
  prefixLen: number,
  index: number,
  attrs: [number, number[]][],
  flags = 0,
): Uint8Array {
  const parts = [Uint8Array.from([family, prefixLen, flags, 0, index, 0, 0, 0])];
  for (const [type, value] of attrs) {
    const a = new Uint8Array((4 + value.length + 3) & ~3);
    new DataView(a.buffer).setUint16(0, 4 + value.length, true);
    new DataView(a.buffer).setUint16(2, type, true);
    a.set(value, 4);
    parts.push(a);
  }
  return Uint8Array.from(parts.flatMap((p) => [...p]));
}

const v4 = (family: number = AddressFamily.AF_INET, plen = 24, index = 1): Uint8Array =>
  body(family, plen, index, [[2, [10, 9, 9, 9]]]);
const v6 = (plen = 64, flags = 0): Uint8Array =>
  body(
    AddressFamily.AF_INET6,
    plen,
    1,
    [[2, [0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]]],
    flags,
  );

describe('rtnlChange', () => {
  it('adds and removes IPv4 addresses with inet_rtm_newaddr and inet_rtm_deladdr errors', () => {
    const stack = new Stack({ device: new LoopbackDevice(), addresses: [cidr('127.0.0.1/8')] });
    const links = [lo(stack)];
    const add = (b: Uint8Array, flags = NLM_F_CREATE | NLM_F_EXCL) =>
      rtnlChange(links, RTM_NEWADDR, flags, b);
    expect(add(v4())).toBeUndefined();
    expect(stack.iface.hasAddress(cidr('10.9.9.77/32').address)).toBe(true);
    expect(add(v4())).toEqual({ error: E.EEXIST, message: 'ipv4: Address already assigned' });
    expect(add(v4(), NLM_F_CREATE)).toEqual({ error: E.EEXIST, message: 'ipv4: Address already assigned' });
    expect(add(v4(), NLM_F_CREATE | NLM_F_REPLACE)).toBeUndefined();
    expect(add(v4(AddressFamily.AF_INET, 33))).toEqual({
      error: E.EINVAL,
      message: 'ipv4: Invalid prefix length',
    });
    expect(add(v4(AddressFamily.AF_INET, 24, 9))).toEqual({
      error: E.ENODEV,
      message: 'ipv4: Device not found',
    });
    expect(add(body(AddressFamily.AF_INET, 24, 1, []))).toEqual({
      error: E.EINVAL,
      message: 'ipv4: Local address is not supplied',
    });
    // No RTM_NEWADDR handler for AF_UNSPEC; a short IFA_LOCAL fails the attribute policy.
    expect(add(v4(AddressFamily.AF_UNSPEC))).toEqual({ error: E.EOPNOTSUPP });
    expect(add(body(AddressFamily.AF_INET, 24, 1, [[2, [10, 9]]]))).toEqual({
      error: E.ERANGE,
      message: 'Attribute failed policy validation',
      offset: 8,
      policy: expect.any(Uint8Array),
    });
    expect(rtnlChange(links, RTM_DELADDR, 0, v4(AddressFamily.AF_INET, 24))).toBeUndefined();
    expect(rtnlChange(links, RTM_DELADDR, 0, v4(AddressFamily.AF_INET, 24))).toEqual({
      error: E.EADDRNOTAVAIL,
      message: 'ipv4: Address not found',
    });
    expect(stack.iface.hasAddress(cidr('10.9.9.77/32').address)).toBe(false);
  });

  it('adds and removes IPv6 addresses, keeping the flags Linux keeps', () => {
    const stack = new Stack({ device: new LoopbackDevice(), addresses: [cidr('::1/128')] });
    const links = [lo(stack)];
    expect(
      rtnlChange(links, RTM_NEWADDR, NLM_F_CREATE, v6(64, IfaFlag.NODAD | IfaFlag.TEMPORARY)),
    ).toBeUndefined();
    const added = stack.iface.ipv6Addresses().find((a) => a.cidr.prefixLen === 64);
    expect(added?.flags).toBe(IfaFlag.PERMANENT | IfaFlag.NODAD);
    // An existing address answers EEXIST before its prefix length is looked at.
    expect(rtnlChange(links, RTM_NEWADDR, NLM_F_CREATE, v6(129))).toEqual({
      error: E.EEXIST,
      message: 'ipv6: address already assigned',
    });
    expect(rtnlChange(links, RTM_DELADDR, 0, v6(129))).toEqual({
      error: E.EINVAL,
      message: 'ipv6: Invalid prefix length',
    });
    expect(rtnlChange(links, RTM_DELADDR, 0, v6(48))).toEqual({
      error: E.EADDRNOTAVAIL,
      message: 'ipv6: address not found',
    });
    expect(rtnlChange(links, RTM_DELADDR, 0, v6(64))).toBeUndefined();
    expect(stack.iface.ipv6Addresses()).toHaveLength(1);
  });

  it('a link without addressControl keeps its addresses; other changes are unsupported', () => {
    const stack = new Stack({ device: new LoopbackDevice(), addresses: [cidr('127.0.0.1/8')] });
    const fixed = [lo(stack, false)];
    expect(rtnlChange(fixed, RTM_NEWADDR, NLM_F_CREATE, v4())).toEqual({ error: E.EOPNOTSUPP });
    expect(stack.iface.addresses).toHaveLength(1);
    expect(rtnlChange(fixed, RTM_NEWROUTE, NLM_F_CREATE, new Uint8Array(12))).toEqual({
      error: E.EOPNOTSUPP,
    });
  });

  it("announces a change to the members of its groups, with the request's seq and port id", () => {
    const stack = new Stack({ device: new LoopbackDevice(), addresses: [cidr('127.0.0.1/8')] });
    const domain = new NetlinkDomain(() => [lo(stack)]);
    const open = (admin: boolean): NetlinkSocket => {
      const s = NetlinkSocket.create(domain, 3, 0, 7, admin);
      if (!(s instanceof NetlinkSocket)) throw new Error('no socket');
      return s;
    };
    const monitor = open(false);
    const NETLINK_ADD_MEMBERSHIP = 1;
    const SOL_NETLINK = 270;
    expect(monitor.setsockopt(SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, 0)).toBe(E.EINVAL);
    expect(monitor.setsockopt(SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, 40)).toBe(E.EINVAL);
    expect(monitor.setsockopt(SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, 5)).toBe(0); // RTNLGRP_IPV4_IFADDR
    // getsockname's nl_groups shows the groups up to 32 as a bitmask.
    expect(new DataView(monitor.getsockname().buffer).getUint32(8, true)).toBe(1 << 4);
    const admin = open(true);
    const b = v4();
    const req = new Uint8Array(16 + b.length);
    const dv = new DataView(req.buffer);
    dv.setUint32(0, req.length, true);
    dv.setUint16(4, RTM_NEWADDR, true);
    dv.setUint16(6, 0x1 | NLM_F_CREATE | NLM_F_EXCL, true);
    dv.setUint32(8, 77, true);
    req.set(b, 16);
    expect(admin.sendto(req)).toBe(req.length);
    const buf = new Uint8Array(4096);
    const got = monitor.recvfrom(buf);
    if (typeof got !== 'object' || !('n' in got)) throw new Error('no announcement');
    const m = new DataView(buf.buffer);
    // RTM_NEWADDR first (its routes, in group IPV4_ROUTE, go to nobody here), seq 77, the sender's id.
    expect([m.getUint16(4, true), m.getUint32(8, true), m.getUint32(12, true)]).toEqual([
      RTM_NEWADDR,
      77,
      new DataView(admin.getsockname().buffer).getUint32(4, true),
    ]);
    expect(monitor.recvfrom(buf)).toBe(WOULD_BLOCK);
  });
});
