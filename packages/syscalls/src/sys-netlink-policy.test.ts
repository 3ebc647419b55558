// Attribute policies and extended ACKs: what __nla_validate_parse and netlink_ack give for
// malformed rtnetlink requests. The policy nests expected are the bytes Linux 6.18 sent
// (runtime's rtnl-extack.test.ts compares whole answers with Linux); random requests of every
// type never throw and are answered with an errno Linux uses.
import { AddressFamily, E } from '@tsvisor/abi';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loLink, loopbackStack } from './sys-netlink.test-util.js';
import { interfaceAddressing, interfaceRouting, stackLinkControl } from './sys-netlink-change.js';
import { IFA_IPV4_POLICY, IFLA_POLICY, RTM_IPV4_POLICY, checkPolicy } from './sys-netlink-policy.js';
import { IfFlag, NetlinkDomain, NetlinkSocket } from './sys-netlink.js';

const NLMSG_ERROR = 2;
const NLM_F_REQUEST = 1;
const NLM_F_ACK = 4;
const NLM_F_CREATE = 0x400;
const NLM_F_EXCL = 0x200;
const NLM_F_CAPPED = 0x100;
const NLM_F_ACK_TLVS = 0x200;
const SOL_NETLINK = 270;
const NETLINK_CAP_ACK = 10;
const NETLINK_EXT_ACK = 11;
const NETLINK_GET_STRICT_CHK = 12;
const RTM_NEWLINK = 16;
const RTM_NEWROUTE = 24;
const RTM_GETROUTE = 26;
const RTA_DST = 1;
const RTA_OIF = 4;
const RTA_PRIORITY = 6;
const NLMSGERR_ATTR_MSG = 1;
const NLMSGERR_ATTR_OFFS = 2;
const NLMSGERR_ATTR_POLICY = 4;
const NLA_F_NESTED = 0x8000;

/** The nest Linux wrote for a u32 attribute: its range, then NL_ATTR_TYPE_U32. */
const U32_POLICY = [
  12, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 12, 0, 5, 0, 255, 255, 255, 255, 0, 0, 0, 0, 8, 0, 1, 0, 4, 0, 0, 0,
];
/** ... for a u8 (IFLA_OPERSTATE). */
const U8_POLICY = [
  12, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 12, 0, 5, 0, 255, 0, 0, 0, 0, 0, 0, 0, 8, 0, 1, 0, 2, 0, 0, 0,
];
/** ... for an s32 (IFA_TARGET_NETNSID). */
const S32_POLICY = [
  12, 0, 2, 0, 0, 0, 0, 128, 255, 255, 255, 255, 12, 0, 3, 0, 255, 255, 255, 127, 0, 0, 0, 0, 8, 0, 1, 0, 8,
  0, 0, 0,
];
/** ... for an interface name (NLA_STRING of at most IFNAMSIZ - 1). */
const NAME_POLICY = [8, 0, 7, 0, 15, 0, 0, 0, 8, 0, 1, 0, 11, 0, 0, 0];

type Attr = [number, number[]];
const u32 = (v: number): number[] => [...new Uint8Array(Uint32Array.of(v).buffer)];

/** `fixed` bytes of a header, then attributes (each padded to 4 bytes). */
function body(fixed: number[], attrs: Attr[]): Uint8Array {
  const out = [...fixed];
  for (const [type, value] of attrs) {
    out.push((4 + value.length) & 0xff, (4 + value.length) >> 8, type & 0xff, type >> 8, ...value);
    while (out.length % 4 !== 0) out.push(0);
  }
  return Uint8Array.from(out);
}

const rtmsg = (family: number, dstLen: number, attrs: Attr[], table = 0): Uint8Array =>
  body([family, dstLen, 0, 0, table, table ? 3 : 0, table ? 253 : 0, table ? 1 : 0, 0, 0, 0, 0], attrs);

describe('checkPolicy (__nla_validate_parse)', () => {
  it('fails a short integer with ERANGE, its offset and the policy Linux writes', () => {
    const b = rtmsg(AddressFamily.AF_INET, 32, [
      [RTA_DST, [10, 1, 2, 3]],
      [RTA_OIF, [1, 0]],
    ]);
    expect(checkPolicy(b, 12, RTM_IPV4_POLICY, false)).toEqual({
      error: E.ERANGE,
      message: 'Attribute failed policy validation',
      offset: 20,
      policy: Uint8Array.from(U32_POLICY),
    });
    const state = body(new Array<number>(16).fill(0), [[16, []]]);
    expect(checkPolicy(state, 16, IFLA_POLICY, false)?.policy).toEqual(Uint8Array.from(U8_POLICY));
    const nsid = body(new Array<number>(8).fill(0), [[10, [1, 0]]]);
    expect(checkPolicy(nsid, 8, IFA_IPV4_POLICY, false)?.policy).toEqual(Uint8Array.from(S32_POLICY));
  });

  it('fails a long string with its length policy, short bytes with none', () => {
    const name = [...new TextEncoder().encode('abcdefghijklmnopqrst'), 0];
    const b = body(new Array<number>(8).fill(0), [
      [2, [10, 0, 0, 1]],
      [3, name],
    ]);
    expect(checkPolicy(b, 8, IFA_IPV4_POLICY, false)).toMatchObject({ error: E.ERANGE, offset: 16 });
    expect(checkPolicy(b, 8, IFA_IPV4_POLICY, false)?.policy).toEqual(Uint8Array.from(NAME_POLICY));
    // 15 characters and the NUL pass.
    const fits = body(new Array<number>(8).fill(0), [
      [3, [...new TextEncoder().encode('abcdefghijklmno'), 0]],
    ]);
    expect(checkPolicy(fits, 8, IFA_IPV4_POLICY, false)).toBeUndefined();
    const cacheinfo = body(new Array<number>(8).fill(0), [[6, [0, 0, 0, 0]]]);
    const r = checkPolicy(cacheinfo, 8, IFA_IPV4_POLICY, false);
    expect(r).toEqual({ error: E.ERANGE, message: 'Attribute failed policy validation', offset: 8 });
  });

  it('passes over unknown types and trailing bytes, unless strict', () => {
    const unknown = rtmsg(AddressFamily.AF_INET, 32, [
      [RTA_DST, [10, 1, 2, 3]],
      [200, u32(1)],
    ]);
    expect(checkPolicy(unknown, 12, RTM_IPV4_POLICY, false)).toBeUndefined();
    expect(checkPolicy(unknown, 12, RTM_IPV4_POLICY, true)).toEqual({
      error: E.EINVAL,
      message: 'Unknown attribute type',
      offset: 20,
    });
    const zero = rtmsg(AddressFamily.AF_INET, 32, [[0, u32(1)]]);
    expect(checkPolicy(zero, 12, RTM_IPV4_POLICY, true)).toMatchObject({ offset: 12 });
    // An attribute header claiming 9 bytes where 4 are left.
    const trailing = Uint8Array.from([
      ...rtmsg(AddressFamily.AF_INET, 32, [[RTA_DST, [10, 1, 2, 3]]]),
      9,
      0,
      6,
      0,
    ]);
    expect(checkPolicy(trailing, 12, RTM_IPV4_POLICY, false)).toBeUndefined();
    expect(checkPolicy(trailing, 12, RTM_IPV4_POLICY, true)).toEqual({
      error: E.EINVAL,
      message: 'bytes leftover after parsing attributes',
    });
  });
});

function lo(stack = loopbackStack()) {
  return loLink(stack, {
    flags: IfFlag.IFF_UP | IfFlag.IFF_LOOPBACK | IfFlag.IFF_RUNNING,
    ipv6: () => stack.iface.ipv6Addresses(),
    ...interfaceAddressing(stack.iface, true),
    routeControl: interfaceRouting(stack, 1, 1),
    linkControl: stackLinkControl(stack, true),
  });
}

function open(admin = true): NetlinkSocket {
  const stack = loopbackStack();
  const s = NetlinkSocket.create(new NetlinkDomain(() => [lo(stack)]), 3, 0, 7, admin);
  if (!(s instanceof NetlinkSocket)) throw new Error('no socket');
  return s;
}

function request(type: number, flags: number, b: Uint8Array): Uint8Array {
  const req = new Uint8Array(16 + b.length);
  const dv = new DataView(req.buffer);
  dv.setUint32(0, req.length, true);
  dv.setUint16(4, type, true);
  dv.setUint16(6, NLM_F_REQUEST | flags, true);
  dv.setUint32(8, 5, true);
  req.set(b, 16);
  return req;
}

interface Ack {
  readonly flags: number;
  readonly errno: number;
  readonly echoed: number;
  readonly tlvs: Map<number, Uint8Array>;
}

/** Sends `req` and reads the NLMSG_ERROR that answers it. */
function ack(s: NetlinkSocket, req: Uint8Array): Ack {
  expect(s.sendto(req, 0, undefined, { netAdmin: true })).toBe(req.length);
  const buf = new Uint8Array(4096);
  const got = s.recvfrom(buf);
  if (typeof got !== 'object' || !('n' in got)) throw new Error('no answer');
  const dv = new DataView(buf.buffer, 0, got.n);
  expect(dv.getUint16(4, true)).toBe(NLMSG_ERROR);
  const flags = dv.getUint16(6, true);
  const echoed = (flags & NLM_F_CAPPED) !== 0 ? 16 : dv.getUint32(20, true);
  const tlvs = new Map<number, Uint8Array>();
  for (let a = 20 + echoed; a + 4 <= got.n;) {
    const len = dv.getUint16(a, true);
    tlvs.set(dv.getUint16(a + 2, true), buf.slice(a + 4, a + len));
    a += (len + 3) & ~3;
  }
  return { flags, errno: 0 - dv.getInt32(16, true), echoed, tlvs };
}

const text = (b: Uint8Array | undefined): string | undefined =>
  b && new TextDecoder().decode(b.subarray(0, b.length - 1));
const offs = (b: Uint8Array | undefined): number | undefined =>
  b && new DataView(b.buffer, b.byteOffset).getUint32(0, true);

describe('extended ACKs (netlink_ack)', () => {
  const shortOif = rtmsg(
    AddressFamily.AF_INET,
    32,
    [
      [RTA_DST, [10, 1, 2, 3]],
      [RTA_OIF, [1, 0]],
    ],
    254,
  );

  it('adds the text, the offset from the request header and the policy with NETLINK_EXT_ACK', () => {
    const s = open();
    const plain = ack(s, request(RTM_NEWROUTE, NLM_F_ACK | NLM_F_CREATE, shortOif));
    expect(plain).toMatchObject({ flags: 0, errno: E.ERANGE.errno, echoed: 16 + shortOif.length });
    expect(plain.tlvs.size).toBe(0);
    expect(s.setsockopt(SOL_NETLINK, NETLINK_EXT_ACK, 1)).toBe(0);
    const uncapped = ack(s, request(RTM_NEWROUTE, NLM_F_ACK | NLM_F_CREATE, shortOif));
    expect(uncapped.flags).toBe(NLM_F_ACK_TLVS);
    expect(uncapped.echoed).toBe(16 + shortOif.length);
    expect(offs(uncapped.tlvs.get(NLMSGERR_ATTR_OFFS))).toBe(36);
    expect(s.setsockopt(SOL_NETLINK, NETLINK_CAP_ACK, 1)).toBe(0);
    expect(s.getsockopt(SOL_NETLINK, NETLINK_CAP_ACK)).toBe(1);
    const capped = ack(s, request(RTM_NEWROUTE, NLM_F_ACK | NLM_F_CREATE, shortOif));
    expect(capped.flags).toBe(NLM_F_CAPPED | NLM_F_ACK_TLVS);
    expect(text(capped.tlvs.get(NLMSGERR_ATTR_MSG))).toBe('Attribute failed policy validation');
    expect(offs(capped.tlvs.get(NLMSGERR_ATTR_OFFS))).toBe(36);
    expect(capped.tlvs.get(NLMSGERR_ATTR_POLICY | NLA_F_NESTED)).toEqual(Uint8Array.from(U32_POLICY));
  });

  it("gives Linux's text for an IPv4 route with bits beyond its prefix", () => {
    const s = open();
    s.setsockopt(SOL_NETLINK, NETLINK_EXT_ACK, 1);
    const r = ack(
      s,
      request(
        RTM_NEWROUTE,
        NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL,
        rtmsg(
          AddressFamily.AF_INET,
          16,
          [
            [RTA_DST, [10, 1, 2, 3]],
            [RTA_OIF, u32(1)],
          ],
          254,
        ),
      ),
    );
    expect(r.errno).toBe(E.EINVAL.errno);
    expect(text(r.tlvs.get(NLMSGERR_ATTR_MSG))).toBe('Invalid prefix for given prefix length');
    expect(r.tlvs.has(NLMSGERR_ATTR_OFFS)).toBe(false);
  });

  it('warns in the ACK of a request that succeeded with bytes after its attributes', () => {
    const s = open();
    s.setsockopt(SOL_NETLINK, NETLINK_EXT_ACK, 1);
    const route = rtmsg(
      AddressFamily.AF_INET,
      32,
      [
        [RTA_DST, [10, 9, 9, 9]],
        [RTA_OIF, u32(1)],
      ],
      254,
    );
    const r = ack(
      s,
      request(RTM_NEWROUTE, NLM_F_ACK | NLM_F_CREATE, Uint8Array.from([...route, 9, 0, RTA_PRIORITY, 0])),
    );
    expect(r).toMatchObject({ errno: 0, flags: NLM_F_CAPPED | NLM_F_ACK_TLVS });
    expect(text(r.tlvs.get(NLMSGERR_ATTR_MSG))).toBe('bytes leftover after parsing attributes');
    expect(r.tlvs.has(NLMSGERR_ATTR_OFFS)).toBe(false);
    // The same route again, ending cleanly: EEXIST without a word, the request echoed whole.
    const again = ack(s, request(RTM_NEWROUTE, NLM_F_ACK | NLM_F_CREATE, route));
    expect(again).toMatchObject({ errno: E.EEXIST.errno, flags: 0, echoed: 16 + route.length });
    expect(again.tlvs.size).toBe(0);
  });

  it('names an unknown attribute of a strict RTM_GETROUTE', () => {
    const s = open(false);
    s.setsockopt(SOL_NETLINK, NETLINK_EXT_ACK, 1);
    s.setsockopt(SOL_NETLINK, NETLINK_GET_STRICT_CHK, 1);
    const r = ack(
      s,
      request(
        RTM_GETROUTE,
        0,
        rtmsg(AddressFamily.AF_INET6, 128, [
          [RTA_DST, new Array<number>(16).fill(1)],
          [200, u32(1)],
        ]),
      ),
    );
    expect(r.errno).toBe(E.EINVAL.errno);
    expect(text(r.tlvs.get(NLMSGERR_ATTR_MSG))).toBe('Unknown attribute type');
    expect(offs(r.tlvs.get(NLMSGERR_ATTR_OFFS))).toBe(48);
  });
});

describe('malformed requests', () => {
  /** Errnos Linux answers rtnetlink requests with. */
  const linuxErrnos = new Set(
    [
      E.EINVAL,
      E.ERANGE,
      E.EOPNOTSUPP,
      E.ENODEV,
      E.ENETUNREACH,
      E.EHOSTUNREACH,
      E.EEXIST,
      E.ESRCH,
      E.EADDRNOTAVAIL,
      E.EAFNOSUPPORT,
      E.EPERM,
      E.EMSGSIZE,
      E.ENOENT,
      E.EBADF,
    ].map((e) => e.errno),
  );

  it('never throw: every request is answered, errors with an errno Linux gives', () => {
    const attr = fc.record({
      len: fc.oneof(fc.integer({ min: 0, max: 40 }), fc.constant(-1)),
      type: fc.oneof(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 0xffff })),
      value: fc.uint8Array({ maxLength: 24 }),
    });
    fc.assert(
      fc.property(
        fc.integer({ min: RTM_NEWLINK, max: 35 }),
        fc.constantFrom(0, 1, 2, 7, 10, 129),
        fc.uint8Array({ minLength: 0, maxLength: 16 }),
        fc.array(attr, { maxLength: 5 }),
        fc.boolean(),
        (type, family, head, attrs, strict) => {
          const s = open();
          s.setsockopt(SOL_NETLINK, NETLINK_EXT_ACK, 1);
          s.setsockopt(SOL_NETLINK, NETLINK_GET_STRICT_CHK, strict ? 1 : 0);
          const bytes = [family, ...head];
          for (const a of attrs) {
            // A length of -1 is the true one; others may lie.
            const len = a.len === -1 ? 4 + a.value.length : a.len;
            bytes.push(len & 0xff, len >> 8, a.type & 0xff, a.type >> 8, ...a.value);
          }
          const req = request(type, NLM_F_ACK, Uint8Array.from(bytes));
          expect(s.sendto(req, 0, undefined, { netAdmin: true })).toBe(req.length);
          const buf = new Uint8Array(65536);
          let answers = 0;
          for (let got = s.recvfrom(buf); typeof got === 'object' && 'n' in got; got = s.recvfrom(buf)) {
            answers++;
            const dv = new DataView(buf.buffer, 0, got.n);
            expect(dv.getUint32(0, true)).toBeLessThanOrEqual(got.n);
            if (dv.getUint16(4, true) !== NLMSG_ERROR) continue;
            const errno = -dv.getInt32(16, true);
            if (errno !== 0) expect(linuxErrnos, `errno ${errno}`).toContain(errno);
          }
          expect(answers).toBeGreaterThan(0);
        },
      ),
      { numRuns: 400 },
    );
  });
});
