// RTM_GETROUTE without NLM_F_DUMP (`ip route get`) over a netstack stack's lo, without a kernel:
// the answer inet_rtm_getroute and inet6_rtm_getroute give (fields and attributes in Linux's
// order), a route's `mtu lock` in answers and dumps, a learnt path MTU, and the request errors.
// runtime's route-get.test.ts compares what `ip` prints from the same answers with Linux.
import { AddressFamily, E } from '@tsvisor/abi';
import { LoopbackDevice, Stack, WOULD_BLOCK } from '@tsvisor/netstack';
import { describe, expect, it } from 'vitest';
import { loLink, loopbackStack } from './sys-netlink.test-util.js';
import { interfaceAddressing, interfaceRouting, type RouteControl } from './sys-netlink-change.js';
import { IfFlag, NetlinkDomain, NetlinkSocket, type LinkInfo } from './sys-netlink.js';

const RTM_NEWROUTE = 24;
const RTM_GETROUTE = 26;
const NLMSG_ERROR = 2;
const NLM_F_REQUEST = 1;
const NLM_F_CREATE = 0x400;
const NLM_F_DUMP = 0x300;
const SOL_NETLINK = 270;
const NETLINK_EXT_ACK = 11;
const NETLINK_GET_STRICT_CHK = 12;
const RTA_DST = 1;
const RTA_SRC = 2;
const RTA_IIF = 3;
const RTA_OIF = 4;
const RTA_PRIORITY = 6;
const RTA_PREFSRC = 7;
const RTA_METRICS = 8;
const RTA_CACHEINFO = 12;
const RTA_TABLE = 15;
const RTA_PREF = 20;
const RTA_UID = 25;
const RTM_F_CLONED = 0x200;
const RTM_F_LOOKUP_TABLE = 0x1000;
const RTM_F_FIB_MATCH = 0x2000;
const RTCF_LOCAL = 0x80000000;

function lo(stack: Stack, routing: RouteControl = interfaceRouting(stack, 1, 1)): LinkInfo {
  return loLink(stack, {
    flags: stack.loopbackUp ? IfFlag.IFF_UP | IfFlag.IFF_LOOPBACK | IfFlag.IFF_RUNNING : IfFlag.IFF_LOOPBACK,
    ipv6: () => stack.iface.ipv6Addresses(),
    ...interfaceAddressing(stack.iface, true),
    routeControl: routing,
  });
}

/** An attribute: its type and value. */
type Attr = [number, number[] | Uint8Array];

/** A struct rtmsg of `family` (dst_len, src_len, rtm_flags) and attributes. */
function rtmsg(family: number, dstLen: number, attrs: Attr[], rtmFlags = 0, srcLen = 0): Uint8Array {
  const head = Uint8Array.from([family, dstLen, srcLen, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  new DataView(head.buffer).setUint32(8, rtmFlags, true);
  const out = [...head];
  for (const [type, value] of attrs) {
    const a = new Uint8Array((4 + value.length + 3) & ~3);
    new DataView(a.buffer).setUint16(0, 4 + value.length, true);
    new DataView(a.buffer).setUint16(2, type, true);
    a.set(value, 4);
    out.push(...a);
  }
  return Uint8Array.from(out);
}

const u32 = (v: number): number[] => [...new Uint8Array(Uint32Array.of(v).buffer)];
const v6 = (last: number, first = 0): number[] => [
  first >> 8,
  first & 0xff,
  ...new Array<number>(13).fill(0),
  last,
];

interface Answer {
  readonly type: number;
  readonly rtm: number[];
  readonly rtmFlags: number;
  /** The attributes in the order they came. */
  readonly order: number[];
  readonly attrs: Map<number, Uint8Array>;
  /** NLMSG_ERROR's errno (negative) and its extended ACK text. */
  readonly error?: number;
  readonly text?: string;
}

/** A netlink message of `type` and `flags` with `body`, sequence number 9. */
function request(type: number, flags: number, body: Uint8Array): Uint8Array {
  const req = new Uint8Array(16 + body.length);
  const dv = new DataView(req.buffer);
  dv.setUint32(0, req.length, true);
  dv.setUint16(4, type, true);
  dv.setUint16(6, flags, true);
  dv.setUint32(8, 9, true);
  req.set(body, 16);
  return req;
}

/** Sends one RTM_GETROUTE request with `body` on `s` and reads the answer. */
function ask(s: NetlinkSocket, body: Uint8Array, uid = 0): Answer {
  const req = request(RTM_GETROUTE, NLM_F_REQUEST, body);
  expect(s.sendto(req, 0, undefined, { netAdmin: false, uid })).toBe(req.length);
  const buf = new Uint8Array(8192);
  const got = s.recvfrom(buf);
  if (typeof got !== 'object' || !('n' in got)) throw new Error('no answer');
  const m = new DataView(buf.buffer, 0, got.n);
  const type = m.getUint16(4, true);
  expect(m.getUint32(8, true)).toBe(9);
  if (type === NLMSG_ERROR) {
    const len = m.getUint32(0, true);
    const echoed = m.getUint32(20, true);
    const capped = (m.getUint16(6, true) & 0x100) !== 0;
    const at = 20 + (capped ? 16 : echoed);
    const text =
      at + 4 < len
        ? new TextDecoder().decode(buf.subarray(at + 4, at + m.getUint16(at, true) - 1))
        : undefined;
    return {
      type,
      rtm: [],
      rtmFlags: 0,
      order: [],
      attrs: new Map(),
      error: m.getInt32(16, true),
      ...(text ? { text } : {}),
    };
  }
  const order: number[] = [];
  const attrs = new Map<number, Uint8Array>();
  for (let a = 28; a + 4 <= got.n;) {
    const len = m.getUint16(a, true);
    order.push(m.getUint16(a + 2, true));
    attrs.set(m.getUint16(a + 2, true), buf.slice(a + 4, a + len));
    a += (len + 3) & ~3;
  }
  expect(s.recvfrom(buf)).toBe(WOULD_BLOCK);
  return { type, rtm: [...buf.subarray(16, 24)], rtmFlags: m.getUint32(24, true), order, attrs };
}

function open(domain: NetlinkDomain, admin = false): NetlinkSocket {
  const s = NetlinkSocket.create(domain, 3, 0, 7, admin);
  if (!(s instanceof NetlinkSocket)) throw new Error('no socket');
  return s;
}

const word = (b: Uint8Array | undefined): number => new DataView(b!.buffer, b!.byteOffset).getUint32(0, true);

describe('RTM_GETROUTE without NLM_F_DUMP (ip route get)', () => {
  it("IPv4: the cached route of rt_fill_info, in main, with lo, its source and the sender's uid", () => {
    const stack = loopbackStack();
    const s = open(new NetlinkDomain(() => [lo(stack)]));
    const a = ask(s, rtmsg(AddressFamily.AF_INET, 32, [[RTA_DST, [127, 0, 0, 1]]], RTM_F_LOOKUP_TABLE), 1000);
    expect(a.type).toBe(RTM_NEWROUTE);
    // family, dst_len 32, src_len 0, tos 0, table main, protocol unspec, scope universe, local.
    expect(a.rtm).toEqual([AddressFamily.AF_INET, 32, 0, 0, 254, 0, 0, 2]);
    expect(a.rtmFlags >>> 0).toBe((RTCF_LOCAL | RTM_F_CLONED) >>> 0);
    expect(a.order).toEqual([RTA_TABLE, RTA_DST, RTA_OIF, RTA_PREFSRC, RTA_UID, RTA_CACHEINFO]);
    expect([...a.attrs.get(RTA_PREFSRC)!]).toEqual([127, 0, 0, 1]);
    expect(word(a.attrs.get(RTA_OIF))).toBe(1);
    expect(word(a.attrs.get(RTA_UID))).toBe(1000);
    // rta_clntref 2, nothing expires.
    expect([...new Uint32Array(a.attrs.get(RTA_CACHEINFO)!.slice().buffer)]).toEqual([
      2, 0, 0, 0, 0, 0, 0, 0,
    ]);
    // 127.0.0.5 is local through 127.0.0.0/8, sent from the prefix's source; from 127.0.0.1 no
    // RTA_PREFSRC (the source is the asked one).
    const b = ask(
      s,
      rtmsg(
        AddressFamily.AF_INET,
        32,
        [
          [RTA_SRC, [127, 0, 0, 1]],
          [RTA_DST, [127, 0, 0, 5]],
        ],
        0,
        32,
      ),
    );
    expect(b.rtm.slice(0, 3)).toEqual([AddressFamily.AF_INET, 32, 32]);
    expect(b.order).toEqual([RTA_TABLE, RTA_DST, RTA_SRC, RTA_OIF, RTA_UID, RTA_CACHEINFO]);
    // A broadcast address: RTCF_BROADCAST and RTCF_LOCAL.
    const c = ask(s, rtmsg(AddressFamily.AF_INET, 32, [[RTA_DST, [127, 255, 255, 255]]]));
    expect(c.rtm[7]).toBe(3);
    expect(c.rtmFlags >>> 0).toBe(0x90000200);
    // 0.0.0.0 (no RTA_DST): this host, from 127.0.0.1.
    const d = ask(s, rtmsg(AddressFamily.AF_INET, 0, []));
    expect([d.rtm[7], [...d.attrs.get(RTA_DST)!], [...d.attrs.get(RTA_PREFSRC)!]]).toEqual([
      2,
      [0, 0, 0, 0],
      [127, 0, 0, 1],
    ]);
  });

  it('IPv6: rt6_fill_node of the FIB route: its table, protocol and metric, RTA_SRC ::, no uid', () => {
    const stack = loopbackStack();
    const s = open(new NetlinkDomain(() => [lo(stack)]));
    const a = ask(s, rtmsg(AddressFamily.AF_INET6, 128, [[RTA_DST, v6(1)]]));
    expect(a.rtm).toEqual([AddressFamily.AF_INET6, 128, 128, 0, 255, 2, 0, 2]);
    expect(a.rtmFlags).toBe(0);
    expect(a.order).toEqual([
      RTA_TABLE,
      RTA_DST,
      RTA_SRC,
      RTA_PREFSRC,
      RTA_PRIORITY,
      RTA_OIF,
      RTA_CACHEINFO,
      RTA_PREF,
    ]);
    expect([...a.attrs.get(RTA_SRC)!]).toEqual(new Array(16).fill(0));
    expect([...a.attrs.get(RTA_PREFSRC)!]).toEqual(v6(1));
    expect(word(a.attrs.get(RTA_PRIORITY))).toBe(0);
  });

  it('a route with `mtu lock`: RTAX_LOCK then RTAX_MTU, in the answer and in dumps', () => {
    const stack = loopbackStack();
    const domain = new NetlinkDomain(() => [lo(stack)]);
    const admin = open(domain, true);
    // ip route add 10.6.0.0/16 dev lo mtu lock 1400
    const metrics = [
      ...rtmsg(0, 0, [
        [1, u32(4)],
        [2, u32(1400)],
      ]).subarray(12),
    ];
    const add = rtmsg(AddressFamily.AF_INET, 16, [
      [RTA_DST, [10, 6, 0, 0]],
      [RTA_OIF, u32(1)],
      [RTA_METRICS, metrics],
    ]);
    add.set([254, 3, 0, 1], 4); // main, boot, universe, unicast
    const req = request(RTM_NEWROUTE, NLM_F_REQUEST | NLM_F_CREATE, add);
    expect(admin.sendto(req)).toBe(req.length);
    expect(stack.iface.routes[0]).toMatchObject({ mtu: 1400, mtuLocked: true });
    const a = ask(admin, rtmsg(AddressFamily.AF_INET, 32, [[RTA_DST, [10, 6, 0, 1]]]));
    expect(a.rtm[7]).toBe(1); // unicast
    // No RTA_PREFSRC: lo has no address of link scope (127.0.0.1 is host scope).
    expect(a.order).toEqual([RTA_TABLE, RTA_DST, RTA_OIF, RTA_METRICS, RTA_UID, RTA_CACHEINFO]);
    expect([...a.attrs.get(RTA_METRICS)!]).toEqual(metrics);
    // The dump shows the lock too.
    const dumpReq = request(RTM_GETROUTE, NLM_F_REQUEST | NLM_F_DUMP, rtmsg(AddressFamily.AF_INET, 0, []));
    expect(admin.sendto(dumpReq)).toBe(dumpReq.length);
    const buf = new Uint8Array(8192);
    const got = admin.recvfrom(buf);
    if (typeof got !== 'object' || !('n' in got)) throw new Error('no dump');
    const hex = Buffer.from(buf.subarray(0, got.n)).toString('hex');
    expect(hex).toContain(Buffer.from([20, 0, RTA_METRICS, 0, ...metrics]).toString('hex'));
  });

  it('a learnt path MTU: RTM_F_CLONED, RTAX_MTU (locked below min_pmtu) and the seconds it has left', () => {
    const stack = loopbackStack();
    const routing: RouteControl = {
      ...interfaceRouting(stack, 1, 1),
      pathMtu: (dst) =>
        dst.toString() === '127.0.0.2' ? { mtu: 552, locked: true, expiresIn: 599_876 } : undefined,
    };
    const s = open(new NetlinkDomain(() => [lo(stack, routing)]));
    const a = ask(s, rtmsg(AddressFamily.AF_INET, 32, [[RTA_DST, [127, 0, 0, 2]]]));
    expect(a.order).toEqual([RTA_TABLE, RTA_DST, RTA_OIF, RTA_PREFSRC, RTA_METRICS, RTA_UID, RTA_CACHEINFO]);
    expect([...a.attrs.get(RTA_METRICS)!]).toEqual([8, 0, 1, 0, ...u32(4), 8, 0, 2, 0, ...u32(552)]);
    // rta_expires in USER_HZ: 599876 ms is 59987 ticks (`ip` prints 599sec).
    const ci = new Uint32Array(a.attrs.get(RTA_CACHEINFO)!.slice().buffer);
    expect([ci[0], ci[2]]).toEqual([3, 59987]);
  });

  it('errors as Linux gives them', () => {
    const stack = loopbackStack();
    const s = open(new NetlinkDomain(() => [lo(stack)]));
    const dst4: Attr = [RTA_DST, [127, 0, 0, 1]];
    const errno = (body: Uint8Array): number | undefined => ask(s, body).error;
    expect(errno(rtmsg(AddressFamily.AF_INET, 32, [[RTA_DST, [10, 0, 2, 2]]]))).toBe(-E.ENETUNREACH.errno);
    expect(errno(rtmsg(AddressFamily.AF_INET6, 128, [[RTA_DST, v6(1, 0x2001)]]))).toBe(-E.ENETUNREACH.errno);
    expect(errno(rtmsg(AddressFamily.AF_INET6, 128, [[RTA_DST, [0, 0, 0, 1]]]))).toBe(-E.EINVAL.errno);
    expect(errno(rtmsg(AddressFamily.AF_UNSPEC, 32, [dst4]))).toBe(-E.EOPNOTSUPP.errno);
    expect(errno(rtmsg(AddressFamily.AF_INET, 32, [dst4, [RTA_OIF, u32(9)]]))).toBe(-E.ENODEV.errno);
    // An input route to a loopback destination is a martian's; an unknown link is ENODEV.
    expect(errno(rtmsg(AddressFamily.AF_INET, 32, [dst4, [RTA_IIF, u32(1)]]))).toBe(-E.EINVAL.errno);
    expect(errno(rtmsg(AddressFamily.AF_INET, 32, [dst4, [RTA_IIF, u32(9)]]))).toBe(-E.ENODEV.errno);
    // A source that is not this host's.
    expect(errno(rtmsg(AddressFamily.AF_INET, 32, [[RTA_SRC, [10, 1, 1, 1]], dst4], 0, 32))).toBe(
      -E.ENETUNREACH.errno,
    );
    expect(s.setsockopt(SOL_NETLINK, NETLINK_EXT_ACK, 1)).toBe(0);
    expect(ask(s, rtmsg(AddressFamily.AF_INET, 32, []).subarray(0, 8))).toMatchObject({
      error: -E.EINVAL.errno,
      text: 'ipv4: Invalid header for route get request',
    });
    expect(ask(s, rtmsg(AddressFamily.AF_INET, 32, [[RTA_DST, [127, 0]]]))).toMatchObject({
      error: -E.ERANGE.errno,
      text: 'Attribute failed policy validation',
    });
    // Loose checks pass what strict ones (NETLINK_GET_STRICT_CHK) refuse.
    const loose = rtmsg(AddressFamily.AF_INET, 24, [dst4, [RTA_TABLE, u32(254)]], 0x800);
    expect(ask(s, loose).type).toBe(RTM_NEWROUTE);
    expect(s.setsockopt(SOL_NETLINK, NETLINK_GET_STRICT_CHK, 1)).toBe(0);
    expect(ask(s, loose)).toMatchObject({
      error: -E.EINVAL.errno,
      text: 'ipv4: Invalid values in header for route get request',
    });
    expect(ask(s, rtmsg(AddressFamily.AF_INET, 32, [dst4], 0x800))).toMatchObject({
      text: 'ipv4: Unsupported rtm_flags for route get request',
    });
    expect(ask(s, rtmsg(AddressFamily.AF_INET, 32, [dst4, [RTA_TABLE, u32(254)]]))).toMatchObject({
      text: 'ipv4: Unsupported attribute in route get request',
    });
  });

  it('RTM_F_FIB_MATCH answers the FIB route; a new namespace (lo down, no address) has none', () => {
    const stack = loopbackStack();
    const s = open(new NetlinkDomain(() => [lo(stack)]));
    const a = ask(s, rtmsg(AddressFamily.AF_INET, 32, [[RTA_DST, [127, 0, 0, 1]]], RTM_F_FIB_MATCH));
    // local 127.0.0.1, main (the local table is merged into it), kernel, host scope.
    expect(a.rtm).toEqual([AddressFamily.AF_INET, 32, 0, 0, 254, 2, 254, 2]);
    expect(a.rtmFlags).toBe(0);
    const fresh = new Stack({ device: new LoopbackDevice(), addresses: [], loopbackDown: true });
    const t = open(new NetlinkDomain(() => [lo(fresh)]));
    expect(ask(t, rtmsg(AddressFamily.AF_INET, 32, [[RTA_DST, [127, 0, 0, 1]]])).error).toBe(
      -E.ENETUNREACH.errno,
    );
    expect(ask(t, rtmsg(AddressFamily.AF_INET6, 128, [[RTA_DST, v6(1)]])).error).toBe(-E.ENETUNREACH.errno);
  });
});
