// RTM_GETROUTE with RTA_IIF (`ip route get ADDR from SRC iif DEV`) on a host with lo and two
// Ethernet links, d0 (10.1.0.1/24, 2001:db8::1/64, fe80::1:1/64) and d1 (10.2.0.1/24,
// 2001:db8:1::1/64). The answers expected are what Linux 6.18 gave in a fresh network namespace
// with two veth pairs set up so (forwarding off): runtime's route-get-iif.test.ts compares the
// lo-only cases with Linux directly, these need links a sandbox of --network none lacks.
import { AddressFamily, E } from '@tsvisor/abi';
import fc from 'fast-check';
import { cidr, WOULD_BLOCK } from '@tsvisor/netstack';
import { describe, expect, it, vi } from 'vitest';
import {
  ARPHRD_ETHER,
  ARPHRD_LOOPBACK,
  IfFlag,
  NetlinkDomain,
  NetlinkSocket,
  type LinkInfo,
} from './sys-netlink.js';

const RTM_GETROUTE = 26;
const NLMSG_ERROR = 2;
const NLM_F_REQUEST = 1;
const RTA_DST = 1;
const RTA_SRC = 2;
const RTA_IIF = 3;
const RTA_OIF = 4;
const RTA_PRIORITY = 6;
const RTA_PREFSRC = 7;
const RTA_CACHEINFO = 12;
const RTA_TABLE = 15;
const RTA_PREF = 20;
const RTM_F_NOTIFY = 0x100;
const RTM_F_CLONED = 0x200;
const RTM_F_FIB_MATCH = 0x2000;
const RTCF_NOTIFY = 0x10000;
const RTCF_BROADCAST = 0x10000000;
const RTCF_MULTICAST = 0x20000000;
const RTCF_LOCAL = 0x80000000;
const RTN_UNICAST = 1;
const RTN_LOCAL = 2;
const RTN_BROADCAST = 3;
const RTN_MULTICAST = 5;

function link(index: number, name: string, addresses: string[]): LinkInfo {
  const loopback = index === 1;
  return {
    index,
    name,
    flags: IfFlag.IFF_UP | IfFlag.IFF_RUNNING | (loopback ? IfFlag.IFF_LOOPBACK : IfFlag.IFF_BROADCAST),
    mtu: loopback ? 65536 : 1500,
    type: loopback ? ARPHRD_LOOPBACK : ARPHRD_ETHER,
    address: loopback ? new Uint8Array(6) : Uint8Array.of(2, 0, 0, 0, 0, index),
    broadcast: loopback ? new Uint8Array(6) : new Uint8Array(6).fill(0xff),
    addresses: addresses.map((a) => cidr(a)),
    gateways: [],
    stats: () => ({ rxPackets: 0, txPackets: 0 }),
  };
}

const links = (): LinkInfo[] => [
  link(1, 'lo', ['127.0.0.1/8', '::1/128']),
  link(2, 'd0', ['10.1.0.1/24', '2001:db8::1/64', 'fe80::1:1/64']),
  link(3, 'd1', ['10.2.0.1/24', '2001:db8:1::1/64']),
];

const ip4 = (s: string): number[] => s.split('.').map(Number);
function ip6(s: string): number[] {
  const [head, tail = ''] = s.split('::');
  const words = (p: string): number[] => (p ? p.split(':').map((w) => parseInt(w, 16)) : []);
  const h = words(head!);
  const t = s.includes('::') ? words(tail) : [];
  const all = [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t];
  return all.flatMap((w) => [w >> 8, w & 0xff]);
}
const u32 = (v: number): number[] => [...new Uint8Array(Uint32Array.of(v).buffer)];

interface Answer {
  readonly error?: number;
  readonly rtm: number[];
  readonly flags: number;
  readonly order: number[];
  readonly attrs: Map<number, number[]>;
}

/** RTM_GETROUTE of `dst` (from `src`) arriving on ifindex `iif`, answered on `s`. */
function get(s: NetlinkSocket, dst: string, src: string | undefined, iif: number, rtmFlags = 0): Answer {
  const v6 = dst.includes(':');
  const addr = v6 ? ip6 : ip4;
  const attrs: [number, number[]][] = [[RTA_DST, addr(dst)]];
  if (src !== undefined) attrs.push([RTA_SRC, addr(src)]);
  attrs.push([RTA_IIF, u32(iif)]);
  const full = v6 ? 128 : 32;
  const body = [
    v6 ? AddressFamily.AF_INET6 : AddressFamily.AF_INET,
    full,
    src ? full : 0,
    0,
    0,
    0,
    0,
    0,
    ...u32(rtmFlags),
  ];
  for (const [t, v] of attrs) body.push(4 + v.length, 0, t, 0, ...v);
  const req = new Uint8Array(16 + body.length);
  const dv = new DataView(req.buffer);
  dv.setUint32(0, req.length, true);
  dv.setUint16(4, RTM_GETROUTE, true);
  dv.setUint16(6, NLM_F_REQUEST, true);
  req.set(body, 16);
  expect(s.sendto(req, 0, undefined, { netAdmin: false, uid: 0 })).toBe(req.length);
  const buf = new Uint8Array(4096);
  const got = s.recvfrom(buf);
  if (typeof got !== 'object' || !('n' in got)) throw new Error('no answer');
  expect(s.recvfrom(buf)).toBe(WOULD_BLOCK);
  const m = new DataView(buf.buffer, 0, got.n);
  if (m.getUint16(4, true) === NLMSG_ERROR)
    return { error: -m.getInt32(16, true), rtm: [], flags: 0, order: [], attrs: new Map() };
  const order: number[] = [];
  const out = new Map<number, number[]>();
  for (let a = 28; a + 4 <= got.n;) {
    const len = m.getUint16(a, true);
    order.push(m.getUint16(a + 2, true));
    out.set(m.getUint16(a + 2, true), [...buf.subarray(a + 4, a + len)]);
    a += (len + 3) & ~3;
  }
  return { rtm: [...buf.subarray(16, 24)], flags: m.getUint32(24, true), order, attrs: out };
}

function open(): NetlinkSocket {
  const s = NetlinkSocket.create(new NetlinkDomain(links), 3, 0, 7);
  if (!(s instanceof NetlinkSocket)) throw new Error('no socket');
  return s;
}

const refs = (a: Answer): number => a.attrs.get(RTA_CACHEINFO)![0]!;

describe('IPv4 input routes (ip_route_input_slow)', () => {
  it('delivers local destinations by lo, from any source but a martian or this host', () => {
    const s = open();
    const a = get(s, '10.1.0.1', '10.1.0.7', 2);
    // local 10.1.0.1 from 10.1.0.7 dev lo / cache <local> iif d0
    expect(a.rtm).toEqual([AddressFamily.AF_INET, 32, 32, 0, 254, 0, 0, RTN_LOCAL]);
    expect(a.flags >>> 0).toBe((RTCF_LOCAL | RTM_F_CLONED) >>> 0);
    expect(a.order).toEqual([RTA_TABLE, RTA_DST, RTA_SRC, RTA_OIF, RTA_IIF, RTA_CACHEINFO]);
    expect(a.attrs.get(RTA_OIF)).toEqual(u32(1));
    expect(a.attrs.get(RTA_IIF)).toEqual(u32(2));
    // Another link's address, and sources Linux lets through: another subnet, d0's broadcast.
    expect(get(s, '10.2.0.1', '10.1.0.7', 2).rtm[7]).toBe(RTN_LOCAL);
    expect(get(s, '10.1.0.1', '10.2.0.7', 2).rtm[7]).toBe(RTN_LOCAL);
    expect(get(s, '10.1.0.1', '10.1.0.255', 2).rtm[7]).toBe(RTN_LOCAL);
    // Martians: loopback and zero destinations, loopback, multicast, zero and own sources.
    for (const [dst, src] of [
      ['127.0.0.1', '10.1.0.7'],
      ['10.1.0.1', '127.0.0.1'],
      ['10.1.0.1', '224.0.0.1'],
      ['10.1.0.1', '0.0.0.0'],
      ['0.0.0.0', '10.1.0.7'],
      ['10.1.0.1', '10.1.0.1'],
      ['224.0.0.5', '10.1.0.7'],
    ])
      expect(get(s, dst!, src, 2).error, `${dst} from ${src}`).toBe(E.EINVAL.errno);
    expect(get(s, '10.1.0.1', undefined, 2).error).toBe(E.EINVAL.errno);
    expect(get(s, '10.1.0.1', '10.1.0.7', 99).error).toBe(E.ENODEV.errno);
  });

  it('answers EHOSTUNREACH for what it would have to forward (forwarding off)', () => {
    const s = open();
    expect(get(s, '10.2.0.5', '10.1.0.7', 2).error).toBe(E.EHOSTUNREACH.errno);
    expect(get(s, '10.9.0.1', '10.1.0.7', 2).error).toBe(E.EHOSTUNREACH.errno);
    expect(get(s, '10.2.0.5', '10.1.0.7', 2, RTM_F_FIB_MATCH).error).toBe(E.EHOSTUNREACH.errno);
  });

  it('delivers broadcasts and the all-hosts group', () => {
    const s = open();
    for (const dst of ['10.1.0.255', '255.255.255.255']) {
      const a = get(s, dst, '10.1.0.7', 2);
      expect(a.rtm[7], dst).toBe(RTN_BROADCAST);
      expect(a.flags >>> 0).toBe((RTCF_BROADCAST | RTCF_LOCAL | RTM_F_CLONED) >>> 0);
    }
    const mc = get(s, '224.0.0.1', '10.1.0.7', 2);
    expect(mc.rtm[7]).toBe(RTN_MULTICAST);
    expect(mc.flags >>> 0).toBe((RTCF_MULTICAST | RTCF_LOCAL | RTM_F_CLONED) >>> 0);
    expect(mc.attrs.get(RTA_OIF)).toEqual(u32(1));
  });

  it('caches the route on its nexthop: two references at first, one after, notify for good', () => {
    const s = open();
    expect(refs(get(s, '10.1.0.1', '10.1.0.7', 2))).toBe(2);
    expect(refs(get(s, '10.1.0.1', '10.2.0.9', 3))).toBe(1);
    // A limited broadcast has no FIB route to cache on; a subnet's has.
    expect(refs(get(s, '255.255.255.255', '10.1.0.7', 2))).toBe(1);
    expect(refs(get(s, '255.255.255.255', '10.1.0.7', 2))).toBe(1);
    expect(refs(get(s, '10.1.0.255', '10.1.0.7', 2))).toBe(2);
    const notified = get(s, '10.1.0.1', '10.1.0.7', 2, RTM_F_NOTIFY);
    expect(notified.flags >>> 0).toBe((RTCF_LOCAL | RTCF_NOTIFY | RTM_F_NOTIFY | RTM_F_CLONED) >>> 0);
    expect(get(s, '10.1.0.1', '10.1.0.7', 2).flags & RTM_F_NOTIFY).toBe(RTM_F_NOTIFY);
    expect(get(s, '10.1.0.255', '10.1.0.7', 2).flags & RTM_F_NOTIFY).toBe(0);
  });

  it("counts the cached route's age in rta_lastuse, in hundredths of a second", () => {
    vi.useFakeTimers({ toFake: ['performance'] });
    try {
      const s = open();
      const lastuse = (a: Answer): number =>
        new DataView(Uint8Array.from(a.attrs.get(RTA_CACHEINFO)!).buffer).getUint32(4, true);
      expect(lastuse(get(s, '10.1.0.1', '10.1.0.7', 2))).toBe(0);
      vi.advanceTimersByTime(1234);
      expect(lastuse(get(s, '10.2.0.1', '10.1.0.7', 2))).toBe(0); // another route, made now
      expect(lastuse(get(s, '10.1.0.1', '10.1.0.7', 2))).toBe(123);
    } finally {
      vi.useRealTimers();
    }
  });

  it('answers the FIB route with RTM_F_FIB_MATCH', () => {
    // local 10.1.0.1 dev d0 proto kernel scope host src 10.1.0.1
    const a = get(open(), '10.1.0.1', '10.1.0.7', 2, RTM_F_FIB_MATCH);
    expect(a.rtm).toEqual([AddressFamily.AF_INET, 32, 0, 0, 254, 2, 254, RTN_LOCAL]);
    expect(a.attrs.get(RTA_OIF)).toEqual(u32(2));
    expect(a.attrs.get(RTA_PREFSRC)).toEqual(ip4('10.1.0.1'));
    expect(a.attrs.has(RTA_IIF)).toBe(false);
  });
});

describe('IPv6 input routes (ip6_route_input_lookup)', () => {
  it('answers routes to other links, forwarding or not, and local ones by lo', () => {
    const s = open();
    // 2001:db8:1::5 from 2001:db8::7 dev d1 proto kernel metric 256 iif d0 pref medium
    const a = get(s, '2001:db8:1::5', '2001:db8::7', 2);
    expect(a.rtm).toEqual([AddressFamily.AF_INET6, 128, 128, 0, 254, 2, 0, RTN_UNICAST]);
    expect(a.flags).toBe(0);
    expect(a.order).toEqual([
      RTA_TABLE,
      RTA_DST,
      RTA_SRC,
      RTA_IIF,
      RTA_PRIORITY,
      RTA_OIF,
      RTA_CACHEINFO,
      RTA_PREF,
    ]);
    expect(a.attrs.get(RTA_OIF)).toEqual(u32(3));
    expect(a.attrs.get(RTA_PRIORITY)).toEqual(u32(256));
    // local 2001:db8::1 from 2001:db8::7 dev lo table local proto kernel metric 0 iif d0
    for (const dst of ['2001:db8::1', '2001:db8:1::1']) {
      const l = get(s, dst, '2001:db8::7', 2);
      expect(l.rtm, dst).toEqual([AddressFamily.AF_INET6, 128, 128, 0, 255, 2, 0, RTN_LOCAL]);
      expect(l.attrs.get(RTA_OIF)).toEqual(u32(1));
    }
    expect(get(s, '2001:db8::1', '::1', 2).rtm[7]).toBe(RTN_LOCAL);
    expect(get(s, '2001:db8::1', undefined, 2).attrs.get(RTA_SRC)).toEqual(new Array<number>(16).fill(0));
    expect(get(s, '2001:db9::1', '2001:db8::7', 2).error).toBe(E.ENETUNREACH.errno);
  });

  it('looks loopback, link-local and multicast destinations up on the arriving link only', () => {
    const s = open();
    expect(get(s, '::1', '2001:db8::7', 2).error).toBe(E.ENETUNREACH.errno);
    expect(get(s, '::1', '::1', 2).error).toBe(E.ENETUNREACH.errno);
    expect(get(s, '::1', '::1', 1).rtm[7]).toBe(RTN_LOCAL);
    expect(get(s, 'fe80::1', '2001:db8::7', 2).attrs.get(RTA_OIF)).toEqual(u32(2));
    // d1 has no link-local address here, so no fe80::/64 route (Linux's veth had one of its own).
    expect(get(s, 'fe80::1', '2001:db8::7', 3).error).toBe(E.ENETUNREACH.errno);
    // d0's ff00::/8 route, which rt6_fill_node cannot fill without multicast routing; lo has none.
    expect(get(s, 'ff02::1', '2001:db8::7', 2).error).toBe(E.EMSGSIZE.errno);
    expect(get(s, 'ff02::1', '::1', 1).error).toBe(E.ENETUNREACH.errno);
  });

  it('answers the FIB route with RTM_F_FIB_MATCH, with RTA_IIF', () => {
    // 2001:db8:1::/64 dev d1 proto kernel metric 256 iif d0 pref medium
    const a = get(open(), '2001:db8:1::5', '2001:db8::7', 2, RTM_F_FIB_MATCH);
    expect(a.rtm).toEqual([AddressFamily.AF_INET6, 64, 0, 0, 254, 2, 0, RTN_UNICAST]);
    expect(a.order).toEqual([RTA_TABLE, RTA_DST, RTA_IIF, RTA_PRIORITY, RTA_OIF, RTA_CACHEINFO, RTA_PREF]);
    expect(a.attrs.get(RTA_DST)).toEqual(ip6('2001:db8:1::'));
    expect(a.attrs.get(RTA_OIF)).toEqual(u32(3));
    expect(refs(a)).toBe(0);
  });
});

describe('input routes of any addresses', () => {
  it('are answered or refused with the errnos above, never a throw', () => {
    const errnos = [E.EINVAL, E.EHOSTUNREACH, E.ENETUNREACH, E.ENODEV, E.EMSGSIZE].map((e) => e.errno);
    const octets = (n: number) =>
      fc.array(fc.oneof(fc.constantFrom(0, 1, 10, 127, 224, 254, 255), fc.nat(255)), {
        minLength: n,
        maxLength: n,
      });
    const v4 = octets(4).map((b) => b.join('.'));
    const v6 = octets(16).map((b) =>
      Array.from({ length: 8 }, (_, i) => ((b[2 * i]! << 8) | b[2 * i + 1]!).toString(16)).join(':'),
    );
    const s = open();
    fc.assert(
      fc.property(
        fc.oneof(fc.tuple(v4, fc.option(v4)), fc.tuple(v6, fc.option(v6))),
        fc.integer({ min: 1, max: 4 }),
        fc.constantFrom(0, RTM_F_NOTIFY, RTM_F_FIB_MATCH),
        ([dst, src], iif, flags) => {
          const a = get(s, dst, src ?? undefined, iif, flags);
          if (a.error !== undefined) expect(errnos).toContain(a.error);
          else
            expect(a.attrs.has(flags === RTM_F_FIB_MATCH && !dst.includes(':') ? RTA_OIF : RTA_IIF)).toBe(
              true,
            );
        },
      ),
      { numRuns: 500 },
    );
  });
});
