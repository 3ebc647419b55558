// `ip link set lo down|up|promisc|txqueuelen` without a kernel: rtnlChange's ifi_flags and
// IFLA_TXQLEN, and SIOCSIFFLAGS, SIOCSIFTXQLEN and SIOCGIFTXQLEN (interfaceIoctl) on links over
// netstack stacks, reaching the stack (Stack.loopbackUp) and what rtnetlink shows. The same
// requests run against Linux in packages/runtime/src/rtnl-link-updown.test.ts.
import { E, isError } from '@tsvisor/abi';
import { cidr, EthernetAddress, linkPair, LoopbackDevice, Stack } from '@tsvisor/netstack';
import { describe, expect, it } from 'vitest';
import { loLink, loopbackStack } from './sys-netlink.test-util.js';
import { changeLinkFlags, rtnlChange, stackLinkControl } from './sys-netlink-change.js';
import { IfFlag, interfaceIoctl, NetlinkDomain, NetlinkSocket, type LinkInfo } from './sys-netlink.js';

const RTM_NEWLINK = 16;
const RTM_SETLINK = 19;
const IFLA_TXQLEN = 13;
const SIOCSIFFLAGS = 0x8914;
const SIOCGIFFLAGS = 0x8913;
const SIOCGIFTXQLEN = 0x8942;
const SIOCSIFTXQLEN = 0x8943;
const IFF_PROMISC = 0x100;
const IFF_ALLMULTI = 0x200;
const IFF_MASTER = 0x400;
const IFF_DYNAMIC = 0x8000;

/** lo of `stack`, as the sandbox builds it at each request (flags and queue from the control). */
function lo(stack: Stack): LinkInfo {
  const control = stackLinkControl(stack, true);
  return loLink(stack, {
    flags: control.flags,
    txQueueLen: control.txQueueLen,
    mtu: stack.mtu(true),
    linkControl: control,
  });
}

/** A struct ifinfomsg (ifi_flags, ifi_change) with IFLA_TXQLEN `txq` when given. */
function ifinfo(index: number, flags: number, change: number, txq?: number): Uint8Array {
  const b = new Uint8Array(txq === undefined ? 16 : 24);
  const dv = new DataView(b.buffer);
  dv.setInt32(4, index, true);
  dv.setUint32(8, flags, true);
  dv.setUint32(12, change, true);
  if (txq !== undefined) {
    dv.setUint16(16, 8, true);
    dv.setUint16(18, IFLA_TXQLEN, true);
    dv.setUint32(20, txq, true);
  }
  return b;
}

/** Memory holding one struct ifreq at address 0x1000. */
function ifreqMemory(name: string) {
  const mem = new Uint8Array(40);
  for (let i = 0; i < name.length; i++) mem[i] = name.charCodeAt(i);
  const dv = new DataView(mem.buffer);
  return {
    dv,
    mem: {
      read: (addr: number, len: number) => (addr === 0x1000 ? mem.slice(0, len) : E.EFAULT),
      writeExact: (addr: number, bytes: Uint8Array) => {
        if (addr !== 0x1000) return E.EFAULT;
        mem.set(bytes);
        return undefined;
      },
    },
  };
}

describe('lo down and up through rtnetlink', () => {
  it('IFF_UP takes the stack down and up; the link shows it', () => {
    const stack = loopbackStack();
    expect(lo(stack).flags).toBe(
      IfFlag.IFF_UP | IfFlag.IFF_LOOPBACK | IfFlag.IFF_RUNNING | IfFlag.IFF_LOWER_UP,
    );
    expect(rtnlChange([lo(stack)], RTM_NEWLINK, 0, ifinfo(1, 0, IfFlag.IFF_UP))).toBeUndefined();
    expect(stack.loopbackUp).toBe(false);
    expect(lo(stack).flags).toBe(IfFlag.IFF_LOOPBACK);
    expect(stack.iface.addresses.map(String)).toEqual(['127.0.0.1/8']);
    // Down again changes nothing.
    expect(rtnlChange([lo(stack)], RTM_NEWLINK, 0, ifinfo(1, 0, IfFlag.IFF_UP))).toBeUndefined();
    expect(rtnlChange([lo(stack)], RTM_SETLINK, 0, ifinfo(1, IfFlag.IFF_UP, IfFlag.IFF_UP))).toBeUndefined();
    expect(stack.loopbackUp).toBe(true);
    expect(stack.iface.addresses.map(String)).toEqual(['127.0.0.1/8', '::1/128']);
  });

  it('keeps the other flags Linux keeps, drops IFF_MASTER, and takes ifi_change 0 as every bit', () => {
    const stack = loopbackStack();
    const bits = IFF_ALLMULTI | IfFlag.IFF_NOARP | IFF_DYNAMIC | IFF_MASTER;
    expect(rtnlChange([lo(stack)], RTM_SETLINK, 0, ifinfo(1, IFF_PROMISC, IFF_PROMISC))).toBeUndefined();
    expect(rtnlChange([lo(stack)], RTM_SETLINK, 0, ifinfo(1, bits, bits))).toBeUndefined();
    expect(lo(stack).flags & 0xffff).toBe(
      IfFlag.IFF_UP |
        IfFlag.IFF_LOOPBACK |
        IfFlag.IFF_RUNNING |
        IFF_PROMISC |
        IFF_ALLMULTI |
        IfFlag.IFF_NOARP |
        IFF_DYNAMIC,
    );
    // Every bit to what ifi_flags says: lo is down and plain.
    expect(rtnlChange([lo(stack)], RTM_SETLINK, 0, ifinfo(1, IfFlag.IFF_LOOPBACK, 0))).toBeUndefined();
    expect(lo(stack).flags).toBe(IfFlag.IFF_LOOPBACK);
    expect(stack.loopbackUp).toBe(false);
  });

  it('IFLA_TXQLEN: any u32, kept per link; a short attribute fails the policy (ERANGE)', () => {
    const stack = loopbackStack();
    expect(rtnlChange([lo(stack)], RTM_SETLINK, 0, ifinfo(1, 0, 0, 5))).toBeUndefined();
    expect(lo(stack).txQueueLen).toBe(5);
    expect(rtnlChange([lo(stack)], RTM_SETLINK, 0, ifinfo(1, 0, 0, 0xffffffff))).toBeUndefined();
    expect(lo(stack).txQueueLen).toBe(0xffffffff);
    const short = ifinfo(1, 0, 0, 7).slice(0, 22);
    new DataView(short.buffer).setUint16(16, 6, true);
    expect(rtnlChange([lo(stack)], RTM_SETLINK, 0, short)?.error).toBe(E.ERANGE);
    expect(lo(stack).txQueueLen).toBe(0xffffffff);
    // Another stack's lo has its own.
    expect(lo(loopbackStack()).txQueueLen).toBe(1000);
  });

  it('eth0 down and up: the stack follows; with SLAAC on it, EOPNOTSUPP', () => {
    const [dev] = linkPair({ medium: 'ethernet', mtu: 1500 });
    const stack = new Stack({
      device: dev,
      addresses: [cidr('192.168.7.2/24'), cidr('127.0.0.1/8')],
      gateways: [cidr('192.168.7.1/32').address],
      hardwareAddress: EthernetAddress.parse('02:00:00:00:00:07')!,
    });
    const eth0 = (): LinkInfo => ({ ...lo(stack), index: 2, name: 'eth0', ...ethFields(stack) });
    expect(rtnlChange([eth0()], RTM_SETLINK, 0, ifinfo(2, 0, IfFlag.IFF_UP))).toBeUndefined();
    expect([stack.deviceUp, stack.loopbackUp]).toEqual([false, true]);
    expect(eth0().flags).toBe(IfFlag.IFF_BROADCAST | IfFlag.IFF_MULTICAST);
    expect(stack.iface.gateways).toEqual([]);
    expect(rtnlChange([eth0()], RTM_SETLINK, 0, ifinfo(2, IfFlag.IFF_UP, IfFlag.IFF_UP))).toBeUndefined();
    expect(stack.deviceUp).toBe(true);
    const [dev6] = linkPair({ medium: 'ethernet', mtu: 1500 });
    const v6 = new Stack({
      device: dev6,
      addresses: [cidr('192.168.7.2/24')],
      hardwareAddress: EthernetAddress.parse('02:00:00:00:00:07')!,
      ipv6LinkLocal: true,
      slaac: true,
    });
    const eth6: LinkInfo = { ...lo(v6), index: 2, name: 'eth0', ...ethFields(v6) };
    expect(rtnlChange([eth6], RTM_SETLINK, 0, ifinfo(2, 0, IfFlag.IFF_UP))).toEqual({ error: E.EOPNOTSUPP });
    expect(v6.deviceUp).toBe(true);
  });

  it("eth0's flags: promiscuous kept, NOARP not modelled", () => {
    const [dev] = linkPair({ medium: 'ethernet', mtu: 1500 });
    const stack = new Stack({
      device: dev,
      addresses: [cidr('192.168.7.2/24'), cidr('127.0.0.1/8'), cidr('::1/128')],
      hardwareAddress: EthernetAddress.parse('02:00:00:00:00:07')!,
    });
    const eth0 = (): LinkInfo => ({ ...lo(stack), index: 2, name: 'eth0', ...ethFields(stack) });
    expect(eth0().flags).toBe(
      IfFlag.IFF_UP | IfFlag.IFF_BROADCAST | IfFlag.IFF_RUNNING | IfFlag.IFF_LOWER_UP | IfFlag.IFF_MULTICAST,
    );
    expect(changeLinkFlags(eth0(), eth0().flags | IfFlag.IFF_NOARP)).toBe(E.EOPNOTSUPP);
    expect(changeLinkFlags(eth0(), eth0().flags | IFF_PROMISC)).toBeUndefined();
    expect(eth0().flags & IFF_PROMISC).toBe(IFF_PROMISC);
    // lo of that stack is apart: down, it leaves the device up.
    expect(changeLinkFlags(lo(stack), IfFlag.IFF_LOOPBACK)).toBeUndefined();
    expect([stack.loopbackUp, stack.iface.deviceUp]).toEqual([false, true]);
    expect(lo(stack).flags & IFF_PROMISC).toBe(0);
  });
});

function ethFields(stack: Stack): Pick<LinkInfo, 'flags' | 'txQueueLen' | 'linkControl'> {
  const control = stackLinkControl(stack, false);
  return { flags: control.flags, txQueueLen: control.txQueueLen, linkControl: control };
}

describe('lo up in a new network namespace', () => {
  it('announces 127.0.0.1/8 and its routes, then ::1 and its route, in Linux order', () => {
    // inetdev_event gives lo 127.0.0.1/8 (RTM_NEWADDR), fib_add_ifaddr its local, prefix and
    // broadcast routes; init_loopback ::1 and its local route.
    const stack = new Stack({ device: new LoopbackDevice(), addresses: [], loopbackDown: true });
    const domain = new NetlinkDomain(() => [lo(stack)]);
    const open = (admin: boolean): NetlinkSocket => {
      const s = NetlinkSocket.create(domain, 3, 0, 7, admin);
      if (!(s instanceof NetlinkSocket)) throw new Error('no socket');
      return s;
    };
    const monitor = open(false);
    for (const group of [1, 5, 7, 9, 11]) expect(monitor.setsockopt(270, 1, group)).toBe(0);
    const body = ifinfo(1, IfFlag.IFF_UP, IfFlag.IFF_UP);
    const req = new Uint8Array(16 + body.length);
    new DataView(req.buffer).setUint32(0, req.length, true);
    new DataView(req.buffer).setUint16(4, RTM_SETLINK, true);
    new DataView(req.buffer).setUint16(6, 1, true);
    req.set(body, 16);
    expect(open(true).sendto(req)).toBe(req.length);
    const seen: string[] = [];
    const buf = new Uint8Array(4096);
    for (
      let got = monitor.recvfrom(buf);
      typeof got === 'object' && 'n' in got;
      got = monitor.recvfrom(buf)
    ) {
      const dv = new DataView(buf.buffer);
      const type = dv.getUint16(4, true);
      const family = buf[16]!;
      const len = buf[17]!;
      // RTM_NEWADDR: family and prefix length; RTM_NEWROUTE: also table and type.
      seen.push(
        type === RTM_NEWLINK
          ? 'link'
          : type === 20
            ? `addr ${family}/${len}`
            : `route ${family}/${len} table ${buf[20]} type ${buf[23]}`,
      );
    }
    expect(seen).toEqual([
      'link',
      'addr 2/8',
      'route 2/32 table 255 type 2',
      'route 2/8 table 255 type 2',
      'route 2/32 table 255 type 3',
      'addr 10/128',
      'route 10/128 table 255 type 2',
    ]);
  });
});

describe('SIOCSIFFLAGS, SIOCSIFTXQLEN, SIOCGIFTXQLEN', () => {
  it('set and read lo; EPERM without CAP_NET_ADMIN, ENODEV, EINVAL for a negative length', () => {
    const stack = loopbackStack();
    const domain = new NetlinkDomain(() => [lo(stack)]);
    const admin = { domain, netAdmin: true };
    const ask = (name: string, cmd: number, value: number, setter = admin): number | LinuxErrorLike => {
      const { dv, mem } = ifreqMemory(name);
      if (cmd === SIOCSIFFLAGS) dv.setInt16(16, value, true);
      else dv.setInt32(16, value, true);
      const r = interfaceIoctl(domain.links(), mem, cmd, 0x1000, true, setter);
      if (r === undefined || isError(r)) return r ?? E.ENOTTY;
      if (cmd === SIOCSIFFLAGS || cmd === SIOCSIFTXQLEN) return r;
      return cmd === SIOCGIFFLAGS ? dv.getInt16(16, true) : dv.getInt32(16, true);
    };
    expect(ask('lo', SIOCSIFFLAGS, IfFlag.IFF_LOOPBACK, { domain, netAdmin: false })).toBe(E.EPERM);
    expect(ask('lo', SIOCSIFTXQLEN, 5, { domain, netAdmin: false })).toBe(E.EPERM);
    expect(ask('nosuch', SIOCSIFFLAGS, IfFlag.IFF_LOOPBACK)).toBe(E.ENODEV);
    expect(stack.loopbackUp).toBe(true);
    expect(ask('lo', SIOCSIFFLAGS, IfFlag.IFF_LOOPBACK)).toBe(0);
    expect(stack.loopbackUp).toBe(false);
    expect(ask('lo', SIOCGIFFLAGS, 0)).toBe(IfFlag.IFF_LOOPBACK);
    // A short's sign reaches dev_change_flags widened: IFF_DYNAMIC (0x8000) is kept.
    expect(ask('lo', SIOCSIFFLAGS, IfFlag.IFF_UP | IfFlag.IFF_LOOPBACK | IFF_DYNAMIC)).toBe(0);
    expect(stack.loopbackUp).toBe(true);
    expect(ask('lo', SIOCGIFFLAGS, 0)).toBe(
      ((IfFlag.IFF_UP | IfFlag.IFF_LOOPBACK | IfFlag.IFF_RUNNING | IFF_DYNAMIC) << 16) >> 16,
    );
    expect(ask('lo', SIOCSIFTXQLEN, -1)).toBe(E.EINVAL);
    expect(ask('nosuch', SIOCSIFTXQLEN, 7)).toBe(E.ENODEV);
    expect(ask('lo', SIOCSIFTXQLEN, 0)).toBe(0);
    expect(ask('lo', SIOCGIFTXQLEN, 0)).toBe(0);
    expect(lo(stack).txQueueLen).toBe(0);
    // Without a setter (a caller that does not change links) the set requests are not answered.
    const { mem } = ifreqMemory('lo');
    expect(interfaceIoctl(domain.links(), mem, SIOCSIFFLAGS, 0x1000, true)).toBeUndefined();
  });
});

type LinuxErrorLike = typeof E.EPERM;
