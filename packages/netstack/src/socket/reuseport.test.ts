// SO_REUSEPORT groups with SO_ATTACH_REUSEPORT_CBPF programs (runtime/src/testdata/reuseport-cbpf.c
// compares the same steps with Linux): the group's array order as members join and leave, which
// member a program's index picks for UDP datagrams and TCP connections, which group keeps a
// program attached before bind, and where members that stop and start again go
// (runtime/src/testdata/reuseport-rejoin.c).
import { AddressFamily, E, isError, PollEvent, SockType } from '@tsvisor/abi';
import { describe, expect, it } from 'vitest';
import {
  checkClassicProgram,
  encodeSockFilters,
  SKF_NET_OFF,
  type ClassicProgram,
  type SockFilter,
} from './cbpf.js';
import { loopbackBed, mustSocket, res, sockaddr4, virtualClock } from './host-diff.test-util.js';
import { InetSocket } from './inet-socket.js';
import { ReuseportGroup } from './reuseport.js';
import type { UdpSocket } from './udp.js';
import { Stack } from '../stack.js';
import { LoopbackDevice } from '../phy/loopback.js';
import { cidr } from '../iface/interface.js';
import { Ipv4Address, Ipv6Address } from '../wire/ip-address.js';
import { emitSockaddr } from './sockaddr.js';

const SOL_SOCKET = 1;
const SHUT_RD = 0;
const SHUT_WR = 1;
const SHUT_RDWR = 2;
/** A sockaddr of family AF_UNSPEC: connect(2) with it disconnects. */
const UNSPEC = new Uint8Array(16);
const SO_REUSEPORT = 15;
const RET_K = 0x06;
const RET_A = 0x16;
const LD_B_ABS = 0x30;
const LD_W_LEN = 0x80;
const ADD_K = 0x04;

const stmt = (code: number, k: number): SockFilter => ({ code, jt: 0, jf: 0, k: k >>> 0 });

function program(insns: SockFilter[]): ClassicProgram {
  const p = checkClassicProgram(encodeSockFilters(insns));
  if (isError(p)) throw new Error(`bad program: ${p.name}`);
  return p;
}

const FIRST_BYTE = program([stmt(LD_B_ABS, 0), stmt(RET_A, 0)]);
const LENGTH_PLUS_ONE = program([stmt(LD_W_LEN, 0), stmt(ADD_K, 1), stmt(RET_A, 0)]);
const DST_LAST_BYTE = program([stmt(LD_B_ABS, SKF_NET_OFF + 19), stmt(RET_A, 0)]);
const ret = (k: number): ClassicProgram => program([stmt(RET_K, k)]);

describe('ReuseportGroup', () => {
  it('appends members and moves the last one into the slot of one that leaves', () => {
    const g = new ReuseportGroup<string>();
    for (const s of ['a', 'b', 'c', 'd', 'e']) g.add(s);
    expect(g.remove('b')).toBe(true);
    expect(g.socks).toEqual(['a', 'e', 'c', 'd']);
    expect(g.remove('d')).toBe(true); // the last one: nothing moves
    expect(g.socks).toEqual(['a', 'e', 'c']);
    expect(g.remove('x')).toBe(false);
    expect(g.remove('a')).toBe(true);
    g.add('f');
    expect(g.socks).toEqual(['c', 'e', 'f']);
  });

  it('picks the index the program returns, else by the hash', () => {
    const g = new ReuseportGroup<string>();
    const packet = { bytes: new Uint8Array([2, 7]), data: 0 };
    expect(g.select(0, () => packet)).toBeUndefined();
    for (const s of ['a', 'b', 'c', 'd']) g.add(s);
    // reciprocal_scale: the hash's share of 2^32 scaled to the group.
    expect(g.select(0, () => packet)).toBe('a');
    expect(g.select(0x80000000, () => packet)).toBe('c');
    expect(g.select(0xffffffff, () => packet)).toBe('d');
    g.program = FIRST_BYTE;
    expect(g.select(0, () => packet)).toBe('c');
    g.program = ret(4); // out of range: the hash
    expect(g.select(0x40000000, () => packet)).toBe('b');
    g.program = program([stmt(LD_B_ABS, 5), stmt(RET_A, 0)]); // a load past the end: 0
    expect(g.select(0xffffffff, () => packet)).toBe('a');
  });

  it('passes over connected members by the hash, not by the program', () => {
    const g = new ReuseportGroup<string>();
    for (const s of ['a', 'b', 'c', 'd']) g.add(s);
    const connected = (s: string): boolean => s === 'b' || s === 'd';
    const packet = { bytes: new Uint8Array([1]), data: 0 };
    expect(g.select(0x40000000, () => packet, connected)).toBe('c');
    expect(g.select(0xc0000000, () => packet, connected)).toBe('a'); // from the end round to the start
    g.program = FIRST_BYTE;
    expect(g.select(0, () => packet, connected)).toBe('b');
    g.program = undefined;
    const all = (): boolean => true;
    expect(g.select(0, () => packet, all)).toBeUndefined();
  });
});

/** A non-blocking AF_INET socket of `type` with SO_REUSEPORT. */
function sock(stack: Stack, type: number, reuse = true): InetSocket {
  const s = mustSocket(InetSocket.create(stack, AddressFamily.AF_INET, type | SockType.SOCK_NONBLOCK, 0));
  if (reuse) expect(s.setsockopt(SOL_SOCKET, SO_REUSEPORT, 1)).toBe(0);
  return s;
}

describe('UDP groups', () => {
  function group(n: number, port: number): { stack: Stack; WAIT: () => void; m: (InetSocket | undefined)[] } {
    const { stack, WAIT } = loopbackBed(7);
    const m: (InetSocket | undefined)[] = [];
    for (let i = 0; i < n; i++) {
      const s = sock(stack, SockType.SOCK_DGRAM);
      expect(s.bind(sockaddr4(port))).toBe(0);
      m.push(s);
    }
    return { stack, WAIT, m };
  }

  /** Sends `payload` to `port` from a fresh socket; the index of the one member that got it. */
  function who(
    stack: Stack,
    WAIT: () => void,
    m: readonly (InetSocket | undefined)[],
    port: number,
    payload: number[],
  ): number {
    const c = sock(stack, SockType.SOCK_DGRAM, false);
    expect(c.sendto(new Uint8Array(payload), 0, sockaddr4(port))).toBe(payload.length);
    WAIT();
    c.close();
    const got: number[] = [];
    const buf = new Uint8Array(16);
    m.forEach((s, i) => {
      if (s && res(s.recvfrom(buf)) !== 'WOULD_BLOCK') got.push(i);
    });
    expect(got).toHaveLength(1);
    return got[0]!;
  }

  it('runs the program on the payload and keeps it after its socket closes', () => {
    const { stack, WAIT, m } = group(4, 7440);
    expect(m[1]!.attachReuseportProgram(FIRST_BYTE)).toBe(0);
    for (let b = 0; b < 4; b++) expect(who(stack, WAIT, m, 7440, [b, 9, 9])).toBe(b);
    expect(m[3]!.attachReuseportProgram(LENGTH_PLUS_ONE)).toBe(0); // replaces the group's program
    expect(who(stack, WAIT, m, 7440, [])).toBe(1);
    expect(who(stack, WAIT, m, 7440, [5, 5])).toBe(3);
    expect(m[0]!.attachReuseportProgram(DST_LAST_BYTE)).toBe(0);
    expect(who(stack, WAIT, m, 7440, [3])).toBe(1);
    expect(m[0]!.attachReuseportProgram(FIRST_BYTE)).toBe(0);
    m[1]!.close();
    m[1] = undefined;
    // [m0, m3, m2]: member 3 took slot 1.
    expect([0, 1, 2].map((b) => who(stack, WAIT, m, 7440, [b]))).toEqual([0, 3, 2]);
    m[0]!.close();
    m[0] = undefined;
    // [m2, m3]
    expect([0, 1].map((b) => who(stack, WAIT, m, 7440, [b]))).toEqual([2, 3]);
    const late = sock(stack, SockType.SOCK_DGRAM);
    expect(late.bind(sockaddr4(7440))).toBe(0);
    m.push(late);
    expect(who(stack, WAIT, m, 7440, [2])).toBe(4);
  });

  /** The member of `m` that gets a datagram starting with `b` sent by `from`. */
  function whoFrom(
    WAIT: () => void,
    m: readonly InetSocket[],
    from: InetSocket,
    port: number,
    b: number,
  ): number {
    expect(from.sendto(new Uint8Array([b, 9]), 0, sockaddr4(port))).toBe(2);
    WAIT();
    const got = m.flatMap((s, i) => (res(s.recvfrom(new Uint8Array(4))) === 'WOULD_BLOCK' ? [] : [i]));
    expect(got).toHaveLength(1);
    return got[0]!;
  }

  it('takes a socket that connects out of its group, the last member taking its slot', () => {
    for (const ip of ['127.0.0.1', '0.0.0.0']) {
      const { stack, WAIT } = loopbackBed(8);
      const m = [0, 1, 2, 3].map(() => {
        const s = sock(stack, SockType.SOCK_DGRAM);
        expect(s.bind(sockaddr4(7445, ip))).toBe(0);
        return s;
      });
      const [S, C] = [7446, 7447].map((port) => {
        const s = sock(stack, SockType.SOCK_DGRAM, false);
        expect(s.bind(sockaddr4(port))).toBe(0);
        return s;
      });
      expect(m[0]!.attachReuseportProgram(FIRST_BYTE)).toBe(0);
      expect(m[1]!.connect(sockaddr4(7447))).toBe(0);
      // [m0, m3, m2]: the program still picks for other senders; the peer reaches m1.
      expect([0, 1, 2].map((b) => whoFrom(WAIT, m, S!, 7445, b))).toEqual([0, 3, 2]);
      expect([0, 1, 2].map((b) => whoFrom(WAIT, m, C!, 7445, b))).toEqual([1, 1, 1]);
      // Disconnected, it stays out; a socket binding now joins at the end.
      expect(m[1]!.connect(UNSPEC)).toBe(0);
      const late = sock(stack, SockType.SOCK_DGRAM);
      expect(late.bind(sockaddr4(7445, ip))).toBe(0);
      m.push(late);
      expect(whoFrom(WAIT, m, S!, 7445, 3)).toBe(4);
    }
  });

  it('lets the program, not the hash, pick a UDP-Lite member connected in its group', () => {
    const { stack, WAIT } = loopbackBed(10);
    const lite = (port: number, reuse: boolean): InetSocket => {
      const s = mustSocket(
        InetSocket.create(stack, AddressFamily.AF_INET, SockType.SOCK_DGRAM | SockType.SOCK_NONBLOCK, 136),
      );
      if (reuse) expect(s.setsockopt(SOL_SOCKET, SO_REUSEPORT, 1)).toBe(0);
      expect(s.bind(sockaddr4(port))).toBe(0);
      return s;
    };
    const m = [0, 1, 2, 3].map(() => lite(7452, true));
    const [S, C] = [lite(7453, false), lite(7454, false)];
    expect(m[0]!.attachReuseportProgram(FIRST_BYTE)).toBe(0);
    expect(m[1]!.connect(sockaddr4(7454))).toBe(0);
    // Even the sender's datagram that the program gives m1, connected to C, goes to m1.
    expect([0, 1, 2, 3].map((b) => whoFrom(WAIT, m, S, 7452, b))).toEqual([0, 1, 2, 3]);
    expect([0, 1, 2, 3].map((b) => whoFrom(WAIT, m, C, 7452, b))).toEqual([1, 1, 1, 1]);
    expect(m[0]!.detachReuseportProgram()).toBe(0);
    for (let port = 7460; port < 7476; port++)
      expect(whoFrom(WAIT, m, lite(port, false), 7452, 0)).not.toBe(1);
  });

  it('keeps a UDP-Lite socket bound to an address in its group when it connects', () => {
    const stack = new Stack({ device: new LoopbackDevice(), addresses: [cidr('127.0.0.1/8')], seed: 9 });
    const lite = (ip: string): UdpSocket => {
      const s = stack.udpliteSocket(4);
      s.reusePort = true;
      expect(s.bind({ addr: Ipv4Address.parse(ip)!, port: 7448 })).toBeUndefined();
      return s;
    };
    const peer = { addr: Ipv4Address.LOOPBACK, port: 7449 };
    const m = [0, 1, 2].map(() => lite('127.0.0.1'));
    expect(m[1]!.connect(peer)).toBeUndefined();
    expect(m[0]!.reuseportGroup!.socks).toEqual(m);
    const w = [0, 1, 2].map(() => lite('0.0.0.0'));
    expect(w[1]!.connect(peer)).toBeUndefined();
    expect(w[0]!.reuseportGroup!.socks).toEqual([w[0], w[2]]);
    expect(w[1]!.reuseportGroup).toBeUndefined();
  });

  it('groups IPv6 sockets bound to one address (IPv6-only from their bind, as all members)', () => {
    const stack = new Stack({ device: new LoopbackDevice(), addresses: [cidr('::1/128')], seed: 2 });
    const { sleep } = virtualClock(stack);
    const at = emitSockaddr({ addr: Ipv6Address.parse('::1')!, port: 7444 });
    const v6 = (): InetSocket =>
      mustSocket(
        InetSocket.create(stack, AddressFamily.AF_INET6, SockType.SOCK_DGRAM | SockType.SOCK_NONBLOCK, 0),
      );
    const m = [0, 1, 2].map(() => {
      const s = v6();
      expect(s.setsockopt(SOL_SOCKET, SO_REUSEPORT, 1)).toBe(0);
      expect(s.bind(at)).toBe(0);
      return s;
    });
    expect(m[1]!.attachReuseportProgram(FIRST_BYTE)).toBe(0);
    for (const b of [2, 0, 1]) {
      const c = v6();
      expect(c.sendto(new Uint8Array([b]), 0, at)).toBe(1);
      sleep(20);
      c.close();
      expect(m.map((s) => res(s.recvfrom(new Uint8Array(4))) !== 'WOULD_BLOCK')).toEqual(
        [0, 1, 2].map((i) => i === b),
      );
    }
  });

  it('gives a socket that attaches before bind a group of its own', () => {
    const { stack, WAIT, m } = group(2, 7441);
    const pending = sock(stack, SockType.SOCK_DGRAM);
    expect(pending.attachReuseportProgram(ret(0))).toBe(0);
    expect(res(pending.bind(sockaddr4(7441)))).toBe('EADDRINUSE');
    expect(pending.detachReuseportProgram()).toBe(0);
    expect(res(pending.detachReuseportProgram())).toBe('ENOENT');
    expect(res(pending.bind(sockaddr4(7441)))).toBe('EADDRINUSE'); // its group stays
    // First on its port, it keeps its group and program, which later members share.
    const first = sock(stack, SockType.SOCK_DGRAM);
    expect(first.attachReuseportProgram(ret(1))).toBe(0);
    expect(first.bind(sockaddr4(7442))).toBe(0);
    const g = [first, sock(stack, SockType.SOCK_DGRAM), sock(stack, SockType.SOCK_DGRAM)];
    expect(g[1]!.bind(sockaddr4(7442))).toBe(0);
    expect(g[2]!.bind(sockaddr4(7442))).toBe(0);
    expect(who(stack, WAIT, g, 7442, [0])).toBe(1);
    m.forEach((s) => s?.close());
  });

  it('answers the errnos of reuseport_attach_prog and reuseport_detach_prog', () => {
    const { stack } = loopbackBed(1);
    const plain = sock(stack, SockType.SOCK_DGRAM, false);
    expect(res(plain.attachReuseportProgram(ret(0)))).toBe('EINVAL');
    expect(res(plain.detachReuseportProgram())).toBe('EINVAL');
    const late = sock(stack, SockType.SOCK_DGRAM, false);
    expect(late.bind(sockaddr4(7450))).toBe(0);
    expect(late.setsockopt(SOL_SOCKET, SO_REUSEPORT, 1)).toBe(0);
    expect(res(late.attachReuseportProgram(ret(0)))).toBe('EINVAL'); // bound without a group
    expect(res(late.detachReuseportProgram())).toBe('ENOENT');
    const bound = sock(stack, SockType.SOCK_DGRAM);
    expect(bound.bind(sockaddr4(7451))).toBe(0);
    expect(res(bound.detachReuseportProgram())).toBe('ENOENT');
    expect(bound.attachReuseportProgram(ret(0))).toBe(0);
    expect(bound.detachReuseportProgram()).toBe(0);
    const raw = mustSocket(InetSocket.create(stack, AddressFamily.AF_INET, SockType.SOCK_RAW, 17));
    expect(raw.setsockopt(SOL_SOCKET, SO_REUSEPORT, 1)).toBe(0);
    expect(res(raw.attachReuseportProgram(ret(0)))).toBe('EINVAL');
    expect(res(raw.detachReuseportProgram())).toBe('ENOENT');
    // A ping socket takes a program while unbound (a group of its own, which it keeps).
    const ping = () => mustSocket(InetSocket.create(stack, AddressFamily.AF_INET, SockType.SOCK_DGRAM, 1));
    const p = ping();
    expect(p.setsockopt(SOL_SOCKET, SO_REUSEPORT, 1)).toBe(0);
    expect(p.attachReuseportProgram(ret(0))).toBe(0);
    expect(p.detachReuseportProgram()).toBe(0);
    expect(p.bind(sockaddr4(0))).toBe(0);
    expect(p.attachReuseportProgram(ret(0))).toBe(0);
    const q = ping();
    expect(q.setsockopt(SOL_SOCKET, SO_REUSEPORT, 1)).toBe(0);
    expect(q.bind(sockaddr4(0))).toBe(0);
    expect(res(q.attachReuseportProgram(ret(0)))).toBe('EINVAL');
  });
});

describe('TCP listener groups', () => {
  function listeners(stack: Stack, n: number, port: number): (InetSocket | undefined)[] {
    const l: (InetSocket | undefined)[] = [];
    for (let i = 0; i < n; i++) {
      const s = sock(stack, SockType.SOCK_STREAM);
      expect(s.bind(sockaddr4(port))).toBe(0);
      expect(s.listen(16)).toBe(0);
      l.push(s);
    }
    return l;
  }

  /** Connects to `port`; the index of the one listener with a connection to accept. */
  function who(stack: Stack, WAIT: () => void, l: readonly (InetSocket | undefined)[], port: number): number {
    const c = sock(stack, SockType.SOCK_STREAM, false);
    expect(res(c.connect(sockaddr4(port)))).toBe('EINPROGRESS');
    WAIT();
    const got: number[] = [];
    l.forEach((s, i) => {
      const a = s?.accept();
      if (a instanceof InetSocket) {
        got.push(i);
        a.close();
      }
    });
    c.close();
    WAIT();
    expect(got).toHaveLength(1);
    return got[0]!;
  }

  it('runs the program on what follows the SYN header and reorders on close', () => {
    const { stack, WAIT } = loopbackBed(3);
    const l = listeners(stack, 4, 7460);
    expect(l[0]!.attachReuseportProgram(ret(2))).toBe(0);
    expect(who(stack, WAIT, l, 7460)).toBe(2);
    expect(l[3]!.attachReuseportProgram(FIRST_BYTE)).toBe(0); // nothing to load: 0
    expect(who(stack, WAIT, l, 7460)).toBe(0);
    expect(l[1]!.attachReuseportProgram(LENGTH_PLUS_ONE)).toBe(0); // a SYN's length is 0
    expect(who(stack, WAIT, l, 7460)).toBe(1);
    expect(l[2]!.attachReuseportProgram(ret(0))).toBe(0);
    l[0]!.close();
    l[0] = undefined;
    expect(who(stack, WAIT, l, 7460)).toBe(3); // [l3, l1, l2]
    l.push(...listeners(stack, 1, 7460));
    expect(l[1]!.attachReuseportProgram(ret(3))).toBe(0);
    expect(who(stack, WAIT, l, 7460)).toBe(4);
    expect(l[4]!.shutdown(2)).toBe(0); // a listener that stops listening leaves
    expect(l[1]!.attachReuseportProgram(ret(2))).toBe(0);
    expect(who(stack, WAIT, l, 7460)).toBe(2);
  });

  /** The group's array as listener indexes: a program returning i attached by `via` picks slot i. */
  function slots(
    stack: Stack,
    WAIT: () => void,
    l: readonly (InetSocket | undefined)[],
    via: InetSocket,
    n: number,
    port: number,
  ): number[] {
    return Array.from({ length: n }, (_, i) => {
      expect(via.attachReuseportProgram(ret(i))).toBe(0);
      return who(stack, WAIT, l, port);
    });
  }

  it('takes a disconnected listener out and puts it at the end when it listens again', () => {
    const { stack, WAIT } = loopbackBed(5);
    const l = listeners(stack, 4, 7464);
    const [l0, l1, l2, l3] = l as InetSocket[];
    expect(l1!.shutdown(SHUT_RD)).toBe(0);
    expect(l1!.accept()).toBe(E.EINVAL);
    expect(l1!.readiness()).toBe(PollEvent.POLLOUT | PollEvent.POLLWRNORM | PollEvent.POLLHUP);
    expect(slots(stack, WAIT, l, l0!, 3, 7464)).toEqual([0, 3, 2]);
    expect(l1!.listen(16)).toBe(0);
    expect(slots(stack, WAIT, l, l0!, 4, 7464)).toEqual([0, 3, 2, 1]);
    expect(l0!.shutdown(SHUT_WR)).toBe(0); // a listener ignores it
    expect(slots(stack, WAIT, l, l0!, 4, 7464)).toEqual([0, 3, 2, 1]);
    expect(l0!.shutdown(SHUT_RDWR)).toBe(0);
    expect(res(l0!.shutdown(SHUT_RDWR))).toBe('ENOTCONN');
    expect(l0!.getsockname()).toEqual(sockaddr4(7464)); // still bound
    expect(slots(stack, WAIT, l, l2!, 3, 7464)).toEqual([1, 3, 2]);
    expect(l0!.listen(16)).toBe(0);
    expect(slots(stack, WAIT, l, l2!, 4, 7464)).toEqual([1, 3, 2, 0]);
    expect(res(l3!.connect(sockaddr4(7464)))).toBe('EISCONN');
    expect(l3!.connect(UNSPEC)).toBe(0);
    expect(slots(stack, WAIT, l, l2!, 3, 7464)).toEqual([1, 0, 2]);
    expect(l3!.listen(16)).toBe(0);
    expect(slots(stack, WAIT, l, l2!, 4, 7464)).toEqual([1, 0, 2, 3]);
  });

  it('gives up the port listen(2) picked when a listener is disconnected', () => {
    const { stack, WAIT } = loopbackBed(6);
    const s = sock(stack, SockType.SOCK_STREAM, false);
    expect(s.listen(4)).toBe(0);
    const name = s.getsockname();
    expect(s.shutdown(SHUT_RD)).toBe(0);
    expect(s.getsockname()).toEqual(name); // shown, no longer held
    expect(s.listen(4)).toBe(0);
    expect(s.getsockname()).not.toEqual(name);
    // The old port is free: another socket listens there and gets its connections.
    const other = sock(stack, SockType.SOCK_STREAM, false);
    expect(other.bind(name)).toBe(0);
    expect(other.listen(4)).toBe(0);
    const c = sock(stack, SockType.SOCK_STREAM, false);
    expect(res(c.connect(name))).toBe('EINPROGRESS');
    WAIT();
    expect(other.accept()).toBeInstanceOf(InetSocket);
  });

  it('keeps the program of a socket that attached before it listened first', () => {
    const { stack, WAIT } = loopbackBed(4);
    const first = sock(stack, SockType.SOCK_STREAM);
    expect(first.attachReuseportProgram(ret(1))).toBe(0);
    expect(first.bind(sockaddr4(7461))).toBe(0);
    expect(first.listen(16)).toBe(0);
    const l = [first, ...listeners(stack, 2, 7461)];
    expect(who(stack, WAIT, l, 7461)).toBe(1);
    // A bound socket that attaches cannot listen where others are bound (EADDRINUSE, still bound).
    const a = sock(stack, SockType.SOCK_STREAM);
    const b = sock(stack, SockType.SOCK_STREAM);
    expect(a.bind(sockaddr4(7462))).toBe(0);
    expect(b.bind(sockaddr4(7462))).toBe(0);
    expect(a.attachReuseportProgram(ret(0))).toBe(0);
    expect(res(a.listen(16))).toBe('EADDRINUSE');
    expect(b.listen(16)).toBe(0);
    expect(res(a.bind(sockaddr4(7463)))).toBe('EINVAL'); // still bound
  });
});
