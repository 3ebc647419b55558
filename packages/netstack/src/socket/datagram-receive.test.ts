// What UDP, ping and raw sockets do with the datagrams they receive, as Linux does: each is
// charged its sk_buff's truesize against SO_RCVBUF (not its payload), the drops show in the
// counters Linux keeps, and each datagram queued wakes the socket's waiters, readiness bits
// changed or not (an EPOLLET waiter hears of a second datagram behind an unread one). The
// runtime's dgram-rcvbuf and dgram-epollet tests compare the same with the host kernel.
import {
  AddressFamily,
  IpProto,
  isError,
  PollEvent,
  SocketLevel,
  SocketOption,
  SockType,
} from '@tsvisor/abi';
import { describe, expect, it } from 'vitest';
import { cidr } from '../iface/interface.js';
import { LoopbackDevice } from '../phy/loopback.js';
import { settle } from '../stack.test-util.js';
import { Stack } from '../stack.js';
import { Ipv4Address } from '../wire/ip-address.js';
import { InetSocket } from './inet-socket.js';
import { datagramTruesize, frameTruesize } from './skb-truesize.js';
import { emitSockaddr } from './sockaddr.js';

function setup() {
  const stack = new Stack({ device: new LoopbackDevice(), addresses: [cidr('127.0.0.1/8')], seed: 3 });
  const open = (type: number, proto: number): InetSocket => {
    const s = InetSocket.create(stack, AddressFamily.AF_INET, type | SockType.SOCK_NONBLOCK, proto);
    if (isError(s)) throw new Error(s.name);
    return s;
  };
  const run = (): void => void settle([stack], 0);
  return { stack, open, run };
}

const lo = (port = 0): Uint8Array => emitSockaddr({ addr: Ipv4Address.LOOPBACK, port });

/** An echo request of `data` bytes as a ping socket's caller writes it. */
function echo(seq: number, data: number): Uint8Array {
  const m = new Uint8Array(8 + data);
  m[0] = 8;
  m[7] = seq;
  return m;
}

/** SO_MEMINFO's rmem_alloc and drops. */
function meminfo(s: InetSocket): [number, number] {
  const b = s.getsockoptBytes(SocketLevel.SOL_SOCKET, SocketOption.SO_MEMINFO, 36);
  if (isError(b)) throw new Error(b.name);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return [dv.getUint32(0, true), dv.getUint32(32, true)];
}

function readAll(s: InetSocket): number {
  let n = 0;
  while (typeof s.recvfrom(new Uint8Array(2048)) === 'object') n++;
  return n;
}

describe('the truesize of a received datagram (as Linux 6.18 charges it on lo)', () => {
  it('matches the figures measured for UDP over IPv4 and IPv6 and for raw IPv4', () => {
    const sizes = [1, 100, 1000, 3000, 4000, 8000, 16000, 16100, 60000];
    expect(sizes.map((p) => datagramTruesize(28, p))).toEqual([
      832, 832, 2304, 4352, 8448, 16640, 16640, 16932, 60832,
    ]);
    // 16000 bytes behind IPv6's longer header no longer fit the head: they go in pages.
    expect(datagramTruesize(48, 16000)).toBe(16832);
    expect(datagramTruesize(20, 16000)).toBe(16640);
  });

  it('a packet socket is charged a frame as the datagram inside it (measured: as the UDP socket)', () => {
    const frame = (ip: number, udp: number): Uint8Array => {
      const f = new Uint8Array(14 + 20 + 8 + udp);
      f[14] = ip;
      f[14 + 9] = 17;
      return f;
    };
    expect([100, 16000, 16100, 60000].map((n) => frameTruesize(frame(0x45, n), 14))).toEqual([
      832, 16640, 16932, 60832,
    ]);
    // Not IP (an ARP frame, say): the whole of it in the head.
    expect(frameTruesize(new Uint8Array(14 + 28), 14)).toBe(832);
  });
});

describe('SO_RCVBUF and the truesize of queued datagrams', () => {
  it('UDP drops a datagram that would take a non-empty queue over the limit, and counts it', () => {
    const { stack, open, run } = setup();
    const r = open(SockType.SOCK_DGRAM, 0);
    const s = open(SockType.SOCK_DGRAM, 0);
    expect(r.bind(lo())).toBe(0);
    expect(r.setsockopt(SocketLevel.SOL_SOCKET, SocketOption.SO_RCVBUF, 1664)).toBe(0); // 3328
    const before = stack.mib.udp.RcvbufErrors;
    for (let i = 0; i < 10; i++) s.sendto(new Uint8Array(100), 0, r.getsockname());
    run();
    // 832 bytes each: the fourth takes the queue to exactly 3328, which is not over it.
    expect(meminfo(r)).toEqual([3328, 6]);
    expect(stack.mib.udp.RcvbufErrors - before).toBe(6);
    const row = stack.sockets().find((e) => e.owner === r);
    expect([row?.rxQueue, row?.drops]).toEqual([3328, 6]);
    expect(r.inq()).toBe(100); // FIONREAD: still the next datagram's length
    expect(readAll(r)).toBe(4);
    expect(meminfo(r)).toEqual([0, 6]);
    // One datagram always fits an empty queue, however small the limit.
    for (let i = 0; i < 3; i++) s.sendto(new Uint8Array(1000), 0, r.getsockname());
    run();
    expect(meminfo(r)).toEqual([2304, 8]);
  });

  it('raw and ping sockets take nothing once the queue has reached the limit', () => {
    const { open, run } = setup();
    const raw = open(SockType.SOCK_RAW, 253);
    const ping = open(SockType.SOCK_DGRAM, IpProto.IPPROTO_ICMP);
    for (const s of [raw, ping])
      expect(s.setsockopt(SocketLevel.SOL_SOCKET, SocketOption.SO_RCVBUF, 0)).toBe(0);
    // A raw socket receives what it sends of its protocol; lo answers the ping socket's requests.
    for (let i = 0; i < 10; i++) {
      raw.sendto(new Uint8Array(1), 0, lo());
      ping.sendto(echo(i, 1), 0, lo());
    }
    run();
    // 832 bytes each against 2304: the third takes the queue to 2496, and that is the last.
    for (const s of [raw, ping]) expect(meminfo(s)).toEqual([2496, 7]);
    for (const s of [raw, ping]) expect(readAll(s)).toBe(3);
  });

  it('a raw socket whose queue is full still matched the datagram: IP counts it delivered', () => {
    const { stack, open, run } = setup();
    const raw = open(SockType.SOCK_RAW, 253);
    expect(raw.setsockopt(SocketLevel.SOL_SOCKET, SocketOption.SO_RCVBUF, 0)).toBe(0);
    const { InDelivers, InUnknownProtos } = stack.mib.ip;
    for (let i = 0; i < 5; i++) raw.sendto(new Uint8Array(1000), 0, lo());
    run();
    expect(meminfo(raw)).toEqual([2304, 4]);
    // raw_v4_input: delivered once a socket matched, whatever became of its copy.
    expect([stack.mib.ip.InDelivers - InDelivers, stack.mib.ip.InUnknownProtos - InUnknownProtos]).toEqual([
      5, 0,
    ]);
  });

  it('holds as many datagrams as the limit admits, however many that is', () => {
    const { open, run } = setup();
    const udp = open(SockType.SOCK_DGRAM, 0);
    const sender = open(SockType.SOCK_DGRAM, 0);
    expect(udp.bind(lo())).toBe(0);
    const raw = open(SockType.SOCK_RAW, 253);
    const ping = open(SockType.SOCK_DGRAM, IpProto.IPPROTO_ICMP);
    for (const s of [udp, raw, ping])
      expect(s.setsockopt(SocketLevel.SOL_SOCKET, SocketOption.SO_RCVBUF, 200000)).toBe(0); // 400000
    for (let i = 0; i < 600; i++) {
      sender.sendto(new Uint8Array(1), 0, udp.getsockname());
      raw.sendto(new Uint8Array(1), 0, lo());
      ping.sendto(echo(i & 0xff, 1), 0, lo());
      if (i % 32 === 31) run();
    }
    run();
    // 832 bytes each: UDP stops at 480 (399360; one more would pass 400000), raw and ping
    // take the 481st, which finds the charge below the limit.
    expect([udp, raw, ping].map(meminfo)).toEqual([
      [480 * 832, 120],
      [481 * 832, 119],
      [481 * 832, 119],
    ]);
    expect([udp, raw, ping].map(readAll)).toEqual([480, 481, 481]);
  });

  it('a ping socket answers FIONREAD and SIOCOUTQ with ENOTTY, as its protocol has no ioctl', () => {
    const { open } = setup();
    const ping = open(SockType.SOCK_DGRAM, IpProto.IPPROTO_ICMP);
    for (const v of [ping.inq(), ping.outq()]) expect(isError(v) ? v.name : v).toBe('ENOTTY');
  });
});

describe('UDP gives back the memory of datagrams read a quarter of SO_RCVBUF at a time (udp_rmem_release)', () => {
  const row = (stack: Stack, s: InetSocket) => stack.sockets().find((e) => e.owner === s)?.rxQueue;

  it('SO_MEMINFO keeps the charge until a quarter of the limit was read; /proc/net/udp does not', () => {
    const { stack, open, run } = setup();
    const r = open(SockType.SOCK_DGRAM, 0);
    const s = open(SockType.SOCK_DGRAM, 0);
    expect(r.bind(lo())).toBe(0);
    expect(r.setsockopt(SocketLevel.SOL_SOCKET, SocketOption.SO_RCVBUF, 100000)).toBe(0); // 200000: 50000
    for (let i = 0; i < 100; i++) {
      s.sendto(new Uint8Array(1), 0, r.getsockname());
      if (i % 32 === 31) run();
    }
    run();
    const read = (n: number) => {
      for (let i = 0; i < n; i++) expect(typeof r.recvfrom(new Uint8Array(8))).toBe('object');
      return [meminfo(r)[0], row(stack, r)];
    };
    // 60 reads are 49920 bytes, short of 50000: all still charged; the 61st gives them back.
    expect(read(60)).toEqual([100 * 832, 40 * 832]);
    expect(read(1)).toEqual([39 * 832, 39 * 832]);
    // Emptying the reader queue gives back what is left.
    expect(read(38)).toEqual([39 * 832, 832]);
    expect(read(1)).toEqual([0, 0]);
  });

  it("SO_MEMINFO's fwd_alloc: whole pages reserved on arrival, the last one kept on release", () => {
    const { open, run } = setup();
    const r = open(SockType.SOCK_DGRAM, 0);
    const s = open(SockType.SOCK_DGRAM, 0);
    expect(r.bind(lo())).toBe(0);
    const fwd = () => {
      const b = r.getsockoptBytes(SocketLevel.SOL_SOCKET, SocketOption.SO_MEMINFO, 36);
      if (isError(b)) throw new Error(b.name);
      return new DataView(b.buffer, b.byteOffset).getUint32(16, true);
    };
    expect(fwd()).toBe(0);
    // Truesizes 832, 832, 4352, 8448 (measured on Linux 6.18 with the same sizes: see
    // runtime's dgram-rmem-release and this file's first test).
    const after = [100, 100, 3000, 5000].map((n) => {
      s.sendto(new Uint8Array(n), 0, r.getsockname());
      run();
      return fwd();
    });
    expect(after).toEqual([4096 - 832, 4096 - 1664, 8192 - 6016, 16384 - 14464]);
    expect(readAll(r)).toBe(4);
    expect(fwd()).toBe(4096);
  });

  it('a datagram that finds the charge of read ones at the limit is dropped', () => {
    const { open, run } = setup();
    const r = open(SockType.SOCK_DGRAM, 0);
    const s = open(SockType.SOCK_DGRAM, 0);
    expect(r.bind(lo())).toBe(0);
    const send = (n: number) => {
      for (let i = 0; i < n; i++) {
        s.sendto(new Uint8Array(1), 0, r.getsockname());
        if (i % 32 === 31) run();
      }
      run();
    };
    send(300); // the default 212992 holds 256
    expect(meminfo(r)).toEqual([212992, 44]);
    expect(typeof r.recvfrom(new Uint8Array(8))).toBe('object');
    send(1);
    expect(meminfo(r)).toEqual([212992, 45]);
    for (let i = 0; i < 63; i++) r.recvfrom(new Uint8Array(8));
    expect(meminfo(r)).toEqual([212992 - 64 * 832, 45]);
    send(3);
    expect(meminfo(r)).toEqual([212992 - 61 * 832, 45]);
    expect(readAll(r)).toBe(195);
  });

  it('the reader queue is what was queued when a read or FIONREAD last found it empty', () => {
    const { open, run } = setup();
    const r = open(SockType.SOCK_DGRAM, 0);
    const s = open(SockType.SOCK_DGRAM, 0);
    expect(r.bind(lo())).toBe(0);
    const send = (n: number) => {
      for (let i = 0; i < n; i++) s.sendto(new Uint8Array(1), 0, r.getsockname());
      run();
    };
    const read = (n: number) => {
      for (let i = 0; i < n; i++) expect(typeof r.recvfrom(new Uint8Array(8))).toBe('object');
    };
    send(10);
    read(1); // takes the 10 into the reader queue
    send(5);
    read(9); // the reader queue is empty: everything read goes back
    expect(meminfo(r)[0]).toBe(5 * 832);
    read(5);
    send(10);
    expect(r.inq()).toBe(1); // FIONREAD takes the 10 into the reader queue
    send(5);
    read(9); // one left there: nothing goes back yet
    expect(meminfo(r)[0]).toBe(15 * 832);
    read(1);
    expect(meminfo(r)[0]).toBe(5 * 832);
  });
});

describe('each datagram queued wakes the waiters (sk_data_ready)', () => {
  it('a second datagram runs the readiness listener of UDP, raw and ping sockets though POLLIN is up', () => {
    const { open, run } = setup();
    const udp = open(SockType.SOCK_DGRAM, 0);
    const sender = open(SockType.SOCK_DGRAM, 0);
    expect(udp.bind(lo())).toBe(0);
    const raw = open(SockType.SOCK_RAW, 253);
    const ping = open(SockType.SOCK_DGRAM, IpProto.IPPROTO_ICMP);
    const sends: [InetSocket, () => void][] = [
      [udp, () => void sender.sendto(new Uint8Array(8), 0, udp.getsockname())],
      [raw, () => void raw.sendto(new Uint8Array(8), 0, lo())],
      [ping, () => void ping.sendto(echo(1, 8), 0, lo())],
    ];
    for (const [s, send] of sends) {
      const wakes: number[] = [];
      s.setReadinessListener((ev) => wakes.push(ev & PollEvent.POLLIN));
      run();
      wakes.length = 0;
      send();
      run();
      expect(wakes).toContain(PollEvent.POLLIN);
      wakes.length = 0;
      send();
      run();
      expect(wakes).toContain(PollEvent.POLLIN);
      // A read is no arrival: nobody wakes while the socket stays readable.
      wakes.length = 0;
      expect(typeof s.recvfrom(new Uint8Array(64))).toBe('object');
      run();
      expect(wakes).toEqual([]);
      s.setReadinessListener(undefined);
    }
  });
});
