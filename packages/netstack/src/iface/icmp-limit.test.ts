// Linux 6.18's ICMP rate limits (icmp-limit.ts): the namespace's global bucket (icmp_msgs_burst,
// refilled at icmp_msgs_per_sec, random costs), the ratemasks, the per-destination bucket of
// inet_peer_xrlim_allow (a burst of six, then one per icmp_ratelimit) on a link that is not
// loopback, lo's exemptions, and the MIB counters a held-back message moves. First the limiter
// alone, on a clock of our choosing and fixed costs; then a stack on an IP link and one on lo
// (the runtime's icmp-ratelimit.c compares lo with the host kernel).
import { describe, expect, it } from 'vitest';
import * as publicApi from '../index.js';
import { LoopbackDevice } from '../phy/loopback.js';
import { Stack } from '../stack.js';
import { NetMib } from '../stats/mib.js';
import { far4, far6, ipv4From, routerLink } from '../socket/icmp-router.test-util.js';
import { Icmpv4Packet, Icmpv4Repr, Icmpv4Type, Icmpv4Unreachable } from '../wire/icmpv4.js';
import { Icmpv6Type } from '../wire/icmpv6.js';
import { Ipv4Address, Ipv6Address } from '../wire/ip-address.js';
import { IpProtocol } from '../wire/ipv4.js';
import { Ipv6Packet, Ipv6Repr } from '../wire/ipv6.js';
import { cidr } from './interface.js';
import {
  defaultIcmp4RateSysctl,
  defaultIcmp6Ratemask,
  IcmpRateLimiter,
  jiffies,
  type Icmp4RateSysctl,
  type Icmp6RateSysctl,
  type IcmpPath,
} from './icmp-limit.js';

const WIRE: IcmpPath = { inLoopback: false, outLoopback: false };
const PEER = Ipv4Address.parse('10.0.0.2')!;
const PEER6 = Ipv6Address.parse('fd00::2')!;
const UNREACH = Icmpv4Type.DEST_UNREACHABLE;
const PORT = Icmpv4Unreachable.PORT;

/** A limiter over fresh sysctls (changed by `o4`, `o6`), charging `costs` in turn (1 each by default). */
function limiter(
  o4: Partial<Icmp4RateSysctl> = {},
  o6: Partial<Icmp6RateSysctl> = {},
  costs: readonly number[] = [1],
): { limit: IcmpRateLimiter; mib: NetMib; s4: Icmp4RateSysctl; s6: Icmp6RateSysctl } {
  const mib = new NetMib();
  const s4 = { ...defaultIcmp4RateSysctl(), ...o4 };
  const s6 = { icmpRatelimit: 100, icmpRatemask: defaultIcmp6Ratemask(), ...o6 };
  let i = 0;
  const limit = new IcmpRateLimiter(s4, s6, mib.icmp, mib.icmp6, () => costs[i++ % costs.length]!);
  return { limit, mib, s4, s6 };
}

/** How many of `n` port unreachables to `to` at `now` the limiter lets through. */
function sendMany(limit: IcmpRateLimiter, now: number, n: number, to = PEER, path = WIRE): number {
  let sent = 0;
  for (let k = 0; k < n; k++) if (limit.check4(now, UNREACH, PORT, to, path) === 'send') sent++;
  return sent;
}

describe('the global bucket (icmp_global_allow, icmp_global_consume)', () => {
  it('starts full: icmp_msgs_burst messages, then none until a refill is due', () => {
    // icmp_ratelimit 0: no per-destination limit, so only the global one counts.
    const { limit, mib } = limiter({ icmpRatelimit: 0 });
    expect(sendMany(limit, 0, 50)).toBe(50);
    expect(limit.globalCredit).toBe(0);
    expect(limit.check4(0, UNREACH, PORT, PEER, WIRE)).toBe('global');
    expect(mib.icmp.OutRateLimitGlobal).toBe(1);
    expect(mib.icmp.OutRateLimitHost).toBe(0);
  });

  it('refills after HZ / 50 (20 ms), icmp_msgs_per_sec * elapsed, at most icmp_msgs_burst', () => {
    const { limit, mib } = limiter({ icmpRatelimit: 0 });
    expect(sendMany(limit, 0, 60)).toBe(50);
    expect(sendMany(limit, 19.9, 5)).toBe(0); // 4 jiffies: too soon
    expect(sendMany(limit, 20, 30)).toBe(20); // 5 jiffies of 1000/s
    expect(sendMany(limit, 30, 5)).toBe(0); // 2.5 jiffies after that refill
    expect(sendMany(limit, 5000, 80)).toBe(50); // a second or more: the bucket's size
    expect(mib.icmp.OutRateLimitGlobal).toBe(10 + 5 + 10 + 5 + 30);
  });

  it('follows icmp_msgs_per_sec and icmp_msgs_burst as they are now', () => {
    const { limit, s4 } = limiter({ icmpRatelimit: 0, icmpMsgsBurst: 5 });
    expect(sendMany(limit, 0, 10)).toBe(5);
    s4.icmpMsgsPerSec = 0; // no refill ever
    expect(sendMany(limit, 10_000, 10)).toBe(0);
    s4.icmpMsgsPerSec = 100;
    s4.icmpMsgsBurst = 0; // a refill lets one through, and leaves nothing
    expect(sendMany(limit, 20_000, 3)).toBe(1);
    expect(sendMany(limit, 20_040, 3)).toBe(1);
  });

  it('charges each message sent a random 0, 1 or 2 credits, which may go below zero', () => {
    const { limit, s4 } = limiter({ icmpRatelimit: 0, icmpMsgsBurst: 3 }, {}, [2]);
    expect(sendMany(limit, 0, 5)).toBe(2); // 3, 1, then -1
    expect(limit.globalCredit).toBe(-1);
    s4.icmpMsgsPerSec = 100;
    expect(sendMany(limit, 20, 5)).toBe(1); // 5 jiffies of 100/s: -1 + 2, one message
    expect(limit.globalCredit).toBe(-1);
    const free = limiter({ icmpRatelimit: 0, icmpMsgsBurst: 3 }, {}, [0]).limit;
    expect(sendMany(free, 0, 500)).toBe(500); // costs of 0 never empty it
  });

  it('counts ICMPv6 messages it holds back in the IPv4 group (the bucket is the namespace)', () => {
    const { limit, mib } = limiter({ icmpMsgsBurst: 2 }, { icmpRatelimit: 0 });
    const verdicts = [1, 2, 3].map(() => limit.check6(0, Icmpv6Type.DEST_UNREACHABLE, PEER6, WIRE));
    expect(verdicts).toEqual(['send', 'send', 'global']);
    expect(mib.icmp.OutRateLimitGlobal).toBe(1);
    expect(mib.icmp6.OutRateLimitGlobal).toBe(0);
    // And the two versions share it.
    expect(limit.check4(0, UNREACH, PORT, PEER, WIRE)).toBe('global');
  });
});

describe('the ratemasks', () => {
  it('icmp_ratemask 0x1818: errors of types 3, 4, 11, 12 are limited, echo replies and the rest not', () => {
    const { limit, mib } = limiter({ icmpRatelimit: 0, icmpMsgsBurst: 0, icmpMsgsPerSec: 0 });
    for (const type of [3, 4, 11, 12]) expect(limit.check4(0, type, 0, PEER, WIRE)).toBe('global');
    for (const type of [0, 5, 8, 13, 14, 18, 19, 40, 255])
      expect(limit.check4(0, type, 0, PEER, WIRE, true)).toBe('send');
    expect(mib.icmp.OutRateLimitGlobal).toBe(4);
  });

  it('never limits fragmentation needed (path MTU discovery), whatever the mask', () => {
    const { limit } = limiter({ icmpRatemask: -1, icmpMsgsBurst: 0, icmpMsgsPerSec: 0 });
    expect(limit.check4(0, UNREACH, Icmpv4Unreachable.FRAG_NEEDED, PEER, WIRE)).toBe('send');
    expect(limit.check4(0, UNREACH, PORT, PEER, WIRE)).toBe('global');
    expect(limit.check4(0, Icmpv4Type.ECHO_REPLY, 0, PEER, WIRE, true)).toBe('global');
  });

  it('a mask bit set limits that type, one cleared frees it', () => {
    const { limit, s4 } = limiter({ icmpMsgsBurst: 0, icmpMsgsPerSec: 0 });
    s4.icmpRatemask = 0x1819; // echo replies too
    expect(limit.check4(0, Icmpv4Type.ECHO_REPLY, 0, PEER, WIRE, true)).toBe('global');
    s4.icmpRatemask = 0x1810; // no destination unreachable
    expect(limit.check4(0, UNREACH, PORT, PEER, WIRE)).toBe('send');
  });

  it('net.ipv6.icmp.ratemask 0-1,3-127: every error but packet too big; informational types free', () => {
    const { limit, mib, s6 } = limiter({ icmpMsgsBurst: 0, icmpMsgsPerSec: 0 });
    expect([...s6.icmpRatemask].length).toBe(127);
    for (const type of [0, 1, 3, 4, 127]) expect(limit.check6(0, type, PEER6, WIRE)).toBe('global');
    for (const type of [2, 128, 129, 135, 255]) expect(limit.check6(0, type, PEER6, WIRE)).toBe('send');
    expect(mib.icmp.OutRateLimitGlobal).toBe(5);
    s6.icmpRatemask = new Set([2, 129]);
    expect(limit.check6(0, Icmpv6Type.PACKET_TOO_BIG, PEER6, WIRE)).toBe('global');
    expect(limit.check6(0, Icmpv6Type.DEST_UNREACHABLE, PEER6, WIRE)).toBe('send');
  });
});

describe('the per-destination bucket (inet_peer_xrlim_allow) on a link that is not loopback', () => {
  it('IPv4: six at once, then one per icmp_ratelimit (1000 ms); each destination its own', () => {
    const { limit, mib } = limiter();
    expect(sendMany(limit, 0, 20)).toBe(6);
    expect(mib.icmp.OutRateLimitHost).toBe(14);
    expect(mib.icmp.OutRateLimitGlobal).toBe(0);
    // Held back by its destination, a message takes no global credit: 6 charged of 50.
    expect(limit.globalCredit).toBe(44);
    expect(sendMany(limit, 0, 20, Ipv4Address.parse('10.0.0.3')!)).toBe(6);
    expect(sendMany(limit, 500, 5)).toBe(0); // half a token
    expect(sendMany(limit, 1000, 5)).toBe(1);
    expect(sendMany(limit, 3000, 5)).toBe(2);
    expect(sendMany(limit, 60_000, 10)).toBe(6); // saved up to six again
  });

  it('a new destination starts with 60 s of tokens (inet_getpeer), so long intervals allow fewer', () => {
    // Linux over a veth pair: icmp_ratelimit 20000 lets 3 of 10 go to a new host, 7000 six.
    const { limit, s4 } = limiter({ icmpRatelimit: 20_000 });
    expect(sendMany(limit, 0, 10)).toBe(3);
    s4.icmpRatelimit = 7000;
    expect(sendMany(limit, 0, 10, Ipv4Address.parse('10.0.0.6')!)).toBe(6);
  });

  it('IPv4: counts in jiffies of HZ 250, and 0 turns it off', () => {
    const { limit, s4 } = limiter({ icmpRatelimit: 4 });
    expect(jiffies(3.99)).toBe(0);
    expect(jiffies(4)).toBe(1);
    expect(sendMany(limit, 0, 10)).toBe(6);
    expect(sendMany(limit, 3.9, 10)).toBe(0);
    expect(sendMany(limit, 4, 10)).toBe(1);
    s4.icmpRatelimit = 0;
    expect(sendMany(limit, 4, 10)).toBe(10);
  });

  it('IPv6: six at once, then one per net.ipv6.icmp.ratelimit (100 ms), counted in Icmp6OutRateLimitHost', () => {
    const { limit, mib } = limiter();
    const send6 = (now: number, n: number): number => {
      let sent = 0;
      for (let k = 0; k < n; k++)
        if (limit.check6(now, Icmpv6Type.DEST_UNREACHABLE, PEER6, WIRE) === 'send') sent++;
      return sent;
    };
    expect(send6(0, 10)).toBe(6);
    expect(send6(100, 10)).toBe(1);
    expect(send6(1000, 20)).toBe(6);
    expect(mib.icmp6.OutRateLimitHost).toBe(4 + 9 + 14);
    expect(mib.icmp.OutRateLimitHost).toBe(0);
  });
});

describe('loopback', () => {
  it('an error about a packet that came in on lo is not limited at all, nor counted, nor charged', () => {
    const { limit, mib } = limiter({ icmpMsgsBurst: 0, icmpMsgsPerSec: 0 });
    const lo = { inLoopback: true, outLoopback: true };
    expect(sendMany(limit, 0, 500, Ipv4Address.LOOPBACK, lo)).toBe(500);
    let sent6 = 0;
    for (let k = 0; k < 500; k++)
      if (limit.check6(0, Icmpv6Type.DEST_UNREACHABLE, Ipv6Address.LOOPBACK, lo) === 'send') sent6++;
    expect(sent6).toBe(500);
    expect([mib.icmp.OutRateLimitGlobal, mib.icmp.OutRateLimitHost, mib.icmp6.OutRateLimitHost]).toEqual([
      0, 0, 0,
    ]);
    expect(limit.globalCredit).toBe(0);
  });

  it('a message that leaves by lo skips the destination limit but not the global one', () => {
    const { limit, mib } = limiter({ icmpMsgsBurst: 10 });
    const out = { inLoopback: false, outLoopback: true };
    expect(sendMany(limit, 0, 30, PEER, out)).toBe(10);
    expect(mib.icmp.OutRateLimitHost).toBe(0);
    expect(mib.icmp.OutRateLimitGlobal).toBe(20);
  });

  it('an ICMPv4 reply asks the global limit on lo too (icmp_reply), an ICMPv6 one does not', () => {
    const { limit, mib } = limiter(
      { icmpRatemask: 0x1819, icmpMsgsPerSec: 0 },
      { icmpRatemask: new Set([129]) },
    );
    const lo = { inLoopback: true, outLoopback: true };
    expect(limit.check4(0, Icmpv4Type.ECHO_REPLY, 0, Ipv4Address.LOOPBACK, lo, true)).toBe('global');
    expect(limit.check6(0, Icmpv6Type.ECHO_REPLY, Ipv6Address.LOOPBACK, lo)).toBe('send');
    expect(mib.icmp.OutRateLimitGlobal).toBe(1);
  });
});

it('the doc example', () => {
  const mib = new NetMib();
  const sysctl6 = { icmpRatelimit: 100, icmpRatemask: defaultIcmp6Ratemask() };
  const limit = new IcmpRateLimiter(defaultIcmp4RateSysctl(), sysctl6, mib.icmp, mib.icmp6, () => 1);
  const peer = Ipv4Address.parse('10.0.0.2')!;
  const path = { inLoopback: false, outLoopback: false };
  expect(limit.check4(0, 3, 3, peer, path)).toBe('send');
});

/** An IPv4 UDP datagram from far4 to 10.0.0.1 port 9 (closed), checksum 0 (none). */
function udpFromFar(peer: Parameters<typeof ipv4From>[0]): void {
  ipv4From(peer, far4, Ipv4Address.parse('10.0.0.1')!, IpProtocol.UDP, 9, (b) => {
    b.set([0x30, 0x39, 0, 9, 0, 9, 0, 0, 0x78]);
  });
}

/** An IPv6 datagram of protocol 253 (nothing takes it) from far6 to fd00::1. */
function unknownFromFar6(peer: Parameters<typeof ipv4From>[0]): void {
  const buf = new Uint8Array(48);
  Ipv6Repr.emit(
    { src: far6, dst: Ipv6Address.parse('fd00::1')!, nextHeader: 253, payloadLen: 8, hopLimit: 64 },
    Ipv6Packet.unchecked(buf),
  );
  peer.transmit(0, buf);
}

describe('a stack', () => {
  // As Linux over a veth pair: 6 of 20 (IPv4 and IPv6 alike), and nothing more in the same second.
  it('on an IP link: 6 of 20 port unreachables to one host, more once the clock moves', () => {
    const { stack, peer, sent } = routerLink(7);
    for (let k = 0; k < 20; k++) udpFromFar(peer);
    const out = sent(0);
    expect(out).toHaveLength(6);
    for (const p of out) {
      const icmp = Icmpv4Packet.checked(p.subarray(20));
      if (!(icmp instanceof Icmpv4Packet)) throw new Error('not ICMP');
      expect([icmp.msgType, icmp.code]).toEqual([Icmpv4Type.DEST_UNREACHABLE, PORT]);
    }
    expect(stack.mib.udp.NoPorts).toBe(20);
    expect(stack.mib.icmp.OutRateLimitHost).toBe(14);
    expect(stack.mib.snapshot()['Icmp.OutRateLimitHost']).toBe(14);
    expect(stack.mib.snapshot()['IcmpMsg.OutType3']).toBe(6);
    for (let k = 0; k < 3; k++) udpFromFar(peer);
    expect(sent(1000)).toHaveLength(1);
    // The sysctl as it is now: 0 turns the per-host limit off (the global one stays).
    stack.iface.ipv4Sysctl.icmpRatelimit = 0;
    for (let k = 0; k < 3; k++) udpFromFar(peer);
    expect(sent(1000)).toHaveLength(3);
  });

  it('on an IP link, IPv6: 6 parameter problems, then one per 100 ms', () => {
    const { stack, peer, sent } = routerLink(7);
    for (let k = 0; k < 10; k++) unknownFromFar6(peer);
    expect(sent(0)).toHaveLength(6);
    for (let k = 0; k < 10; k++) unknownFromFar6(peer);
    expect(sent(100)).toHaveLength(1);
    expect(stack.mib.icmp6.OutRateLimitHost).toBe(13);
    expect(stack.mib.snapshot()['Icmp6.OutRateLimitHost']).toBe(13);
    expect(stack.mib.snapshot()['Icmp6.OutRateLimitGlobal']).toBeUndefined();
  });

  it('on an IP link: echo replies are free, unless icmp_ratemask has bit 0', () => {
    const { stack, peer, sent } = routerLink(7);
    const echo = (seqNo: number): void => {
      const icmp: Icmpv4Repr = { type: 'echoRequest', ident: 1, seqNo, data: new Uint8Array(8) };
      ipv4From(peer, far4, Ipv4Address.parse('10.0.0.1')!, 1, Icmpv4Repr.bufferLen(icmp), (b) =>
        Icmpv4Repr.emit(icmp, Icmpv4Packet.unchecked(b)),
      );
    };
    for (let k = 0; k < 20; k++) echo(k);
    expect(sent(0)).toHaveLength(20);
    stack.iface.ipv4Sysctl.icmpRatemask |= 1;
    for (let k = 0; k < 20; k++) echo(k);
    expect(sent(0)).toHaveLength(6);
    expect(stack.mib.icmp.OutRateLimitHost).toBe(14);
  });

  it('on lo: every port unreachable goes, whatever the sysctls say', () => {
    const stack = new Stack({
      device: new LoopbackDevice(),
      addresses: [cidr('127.0.0.1/8'), cidr('::1/128')],
    });
    const s4 = stack.iface.ipv4Sysctl;
    s4.icmpMsgsBurst = 0;
    s4.icmpMsgsPerSec = 0;
    s4.icmpRatelimit = 4;
    stack.iface.ipv6Sysctl.icmpRatelimit = 4;
    const udp = stack.udpSocket(4);
    const udp6 = stack.udpSocket(6);
    for (let k = 0; k < 200; k++) {
      udp.sendto(new Uint8Array([k]), { addr: Ipv4Address.LOOPBACK, port: 9 });
      udp6.sendto(new Uint8Array([k]), { addr: Ipv6Address.LOOPBACK, port: 9 });
      stack.poll(0);
    }
    const m = stack.mib;
    expect([m.icmp.outType[3], m.icmp6.outType[1]]).toEqual([200, 200]);
    expect([m.icmp.OutRateLimitGlobal, m.icmp.OutRateLimitHost, m.icmp6.OutRateLimitHost]).toEqual([0, 0, 0]);
  });

  it('on lo: an ICMPv4 echo reply of a ratemask with bit 0 still asks the global bucket', () => {
    const stack = new Stack({ device: new LoopbackDevice(), addresses: [cidr('127.0.0.1/8')] });
    stack.iface.ipv4Sysctl.icmpRatemask = 0x1819;
    stack.iface.ipv4Sysctl.icmpMsgsPerSec = 0; // never refilled, and it starts empty
    const ping = stack.icmpSocket(4);
    const buf = new Uint8Array(16);
    for (let k = 0; k < 5; k++) {
      Icmpv4Repr.emit(
        { type: 'echoRequest', ident: 0, seqNo: k, data: new Uint8Array(8) },
        Icmpv4Packet.unchecked(buf),
      );
      ping.sendto(buf, { addr: Ipv4Address.LOOPBACK, port: 0 });
      stack.poll(0);
    }
    expect(stack.mib.icmp.inType[Icmpv4Type.ECHO_REQUEST]).toBe(5);
    expect(stack.mib.icmp.outType[Icmpv4Type.ECHO_REPLY]).toBe(0);
    expect(stack.mib.icmp.OutRateLimitGlobal).toBe(5);
  });
});

it('README example: ICMP rate limits, through the public entry point', () => {
  const { cidr: cidrOf, Ipv4Address: V4, linkPair: pair, Stack: PublicStack } = publicApi;
  const [devA, devB] = pair({ medium: 'ip', mtu: 1500 });
  const a = new PublicStack({ device: devA, addresses: [cidrOf('10.0.0.1/24')] });
  const b = new PublicStack({ device: devB, addresses: [cidrOf('10.0.0.2/24')] });
  const udp = b.udpSocket(4);
  for (let i = 0; i < 20; i++) udp.sendto(new Uint8Array([i]), { addr: V4.parse('10.0.0.1')!, port: 9 });
  for (let i = 0; i < 10; i++) [b, a].forEach((s) => s.poll(0));
  expect(a.mib.udp.NoPorts).toBe(20);
  expect(a.mib.icmp.outType[3]).toBe(6);
  expect(a.mib.icmp.OutRateLimitHost).toBe(14);
  a.iface.ipv4Sysctl.icmpRatelimit = 0;
  for (let i = 0; i < 3; i++) udp.sendto(new Uint8Array([i]), { addr: V4.parse('10.0.0.1')!, port: 9 });
  for (let i = 0; i < 10; i++) [b, a].forEach((s) => s.poll(0));
  expect(a.mib.icmp.outType[3]).toBe(9);
});
