// The stack-level effects of the TCP options of tcp-options.ts: the MSS a SYN offers and the
// segments sent under TCP_MAXSEG, the MSS reported as Linux bounds it, TCP_DEFER_ACCEPT's held
// connections, TCP_SYNCNT's retry count and TCP_RTO_MAX_MS's bound on the backoff; and the
// option checks and unit conversions (the values the host kernel gives, see runtime's
// tcp-sockopts test, which compares the whole socket API with Linux).
import { AddressFamily, E, isError, MsgFlag, SockType, SocketLevel, TcpOption } from '@tsvisor/abi';
import { describe, expect, it } from 'vitest';
import { cidr } from '../iface/interface.js';
import type { Device } from '../phy/device.js';
import { LoopbackDevice } from '../phy/loopback.js';
import { runUntil, settle } from '../stack.test-util.js';
import { Stack } from '../stack.js';
import { isWireError } from '../wire/error.js';
import { Ipv4Address } from '../wire/ip-address.js';
import { IpProtocol, Ipv4Packet } from '../wire/ipv4.js';
import { TcpFlag, TcpPacket, TcpRepr } from '../wire/tcp.js';
import { InetSocket } from './inet-socket.js';
import { emitSockaddr } from './sockaddr.js';
import type { TcpListener, TcpSocket } from './tcp.js';
import {
  deferRoundsToSeconds,
  deferSecondsToRounds,
  TCP_RTO_MAX_MS_OPT,
  TCP_RTO_MIN_US_OPT,
  TcpOptions,
  type TcpOptionsView,
} from './tcp-options.js';
import { bufs } from './tcp-transfer.test-util.js';
import { WOULD_BLOCK } from './would-block.js';

/** What a loopback device carried of TCP: flags (ACK is implied by an ack number), MSS option, payload length. */
interface Seen {
  readonly from: number;
  readonly flags: number;
  readonly mss: number | undefined;
  readonly len: number;
}

class RecordingLoopback implements Device {
  readonly inner = new LoopbackDevice();
  readonly seen: Seen[] = [];
  get capabilities(): Device['capabilities'] {
    return this.inner.capabilities;
  }
  receive(now: number): Uint8Array | undefined {
    return this.inner.receive(now);
  }
  transmit(now: number, frame: Uint8Array): boolean {
    const ip = Ipv4Packet.checked(frame);
    if (!isWireError(ip) && ip.protocol === IpProtocol.TCP) {
      const tcp = TcpPacket.checked(ip.payload);
      if (!isWireError(tcp)) {
        const r = TcpRepr.parse(tcp, Ipv4Address.LOOPBACK, Ipv4Address.LOOPBACK, false);
        if (!isWireError(r))
          this.seen.push({ from: r.srcPort, flags: r.flags, mss: r.maxSegSize, len: r.payload.length });
      }
    }
    return this.inner.transmit(now, frame);
  }
  pollAt(now: number): number | undefined {
    return this.inner.pollAt(now);
  }
}

/** A device that loses every frame: a peer that never answers. */
const BLACKHOLE: Device = {
  capabilities: { medium: 'ip', mtu: 1500 },
  receive: () => undefined,
  transmit: () => true,
};

function loopbackStack(dev: Device = new RecordingLoopback()): Stack {
  return new Stack({ device: dev, addresses: [cidr('127.0.0.1/8')], seed: 5 });
}

function accepted(l: TcpListener): TcpSocket {
  const s = l.accept();
  if (s === WOULD_BLOCK || isError(s)) throw new Error(`accept gave ${String(s)}`);
  return s;
}

function listen(stack: Stack, prepare?: (c: TcpSocket) => void, rx = 65536): TcpListener {
  const l = stack.tcpListener(4, () => bufs(rx));
  l.prepareChild = prepare;
  l.bind({ addr: Ipv4Address.LOOPBACK, port: 80 });
  l.listen(8);
  return l;
}

describe('TCP_MAXSEG', () => {
  it("caps the MSS the client's SYN offers, so the segments the server sends", () => {
    const dev = new RecordingLoopback();
    const stack = loopbackStack(dev);
    const l = listen(stack);
    const c = stack.tcpSocket(4, bufs());
    c.setUserMss(1000);
    c.connect({ addr: Ipv4Address.LOOPBACK, port: 80 });
    settle([stack], 0);
    const s = accepted(l);
    const syn = dev.seen.find((x) => x.from !== 80 && x.flags & TcpFlag.SYN)!;
    const synAck = dev.seen.find((x) => x.from === 80 && x.flags & TcpFlag.SYN)!;
    expect(syn.mss).toBe(1000);
    expect(synAck.mss).toBe(s.info().advmss + 12); // the server's own (advmss less timestamps)
    expect(synAck.mss).toBeGreaterThan(60000);
    expect(s.send(new Uint8Array(3000))).toBe(3000);
    settle([stack], 1);
    const data = dev.seen.filter((x) => x.from === 80 && x.len > 0).map((x) => x.len);
    // 1000 less the timestamps option on every segment.
    expect(data).toEqual([988, 988, 988, 36]);
    expect(s.info().sndMss).toBe(988);
    expect(c.mssCache).toBe(988);
    expect(c.info().advmss).toBe(988); // as Linux reports it: timestamps taken off
  });

  it("a listener's value reaches its connections' SYN-ACK; the smaller of the two wins", () => {
    const dev = new RecordingLoopback();
    const stack = loopbackStack(dev);
    const l = listen(stack, (child) => child.setUserMss(700));
    const c = stack.tcpSocket(4, bufs());
    c.setUserMss(900);
    c.connect({ addr: Ipv4Address.LOOPBACK, port: 80 });
    settle([stack], 0);
    const s = accepted(l);
    const synAck = dev.seen.find((x) => x.from === 80 && x.flags & TcpFlag.SYN)!;
    expect(synAck.mss).toBe(700);
    expect(c.mssCache).toBe(688);
    expect(s.mssCache).toBe(688);
    expect(c.send(new Uint8Array(1500))).toBe(1500);
    settle([stack], 1);
    expect(dev.seen.filter((x) => x.from !== 80 && x.len > 0).map((x) => x.len)).toEqual([688, 688, 124]);
  });

  it('is reported bounded to half the largest window the peer offered (tcp_bound_to_half_wnd)', () => {
    const stack = loopbackStack();
    const l = listen(stack, undefined, 4000); // the server offers at most 4000 bytes
    const c = stack.tcpSocket(4, bufs(1 << 20)); // the client 1 MiB
    expect(c.mssCache).toBe(536); // before connecting
    c.connect({ addr: Ipv4Address.LOOPBACK, port: 80 });
    settle([stack], 0);
    const s = accepted(l);
    expect(c.info().sndWnd).toBeLessThanOrEqual(4000);
    expect(c.mssCache).toBe(c.info().sndWnd >> 1);
    // The server saw a window far above twice its MSS: its MSS is the route's, less timestamps.
    expect(s.info().sndWnd).toBeGreaterThan(2 * 65536);
    expect(s.mssCache).toBe(s.info().advmss);
    expect(s.info().sndMss).toBe(s.mssCache);
  });
});

describe('TCP_DEFER_ACCEPT', () => {
  it('holds a connection without data from accept until data comes', () => {
    const stack = loopbackStack();
    const l = listen(stack, (child) => (child.deferAccept = 1));
    const c = stack.tcpSocket(4, bufs());
    c.connect({ addr: Ipv4Address.LOOPBACK, port: 80 });
    settle([stack], 0);
    expect(c.state).toBe('ESTABLISHED');
    expect(l.accept()).toBe(WOULD_BLOCK);
    settle([stack], 500);
    expect(l.accept()).toBe(WOULD_BLOCK);
    c.send(new TextEncoder().encode('hello'));
    settle([stack], 501);
    const s = accepted(l);
    const buf = new Uint8Array(16);
    expect(s.recv(buf)).toBe(5);
  });

  it('hands the connection out after the SYN-ACK retransmission of its last round', () => {
    const dev = new RecordingLoopback();
    const stack = loopbackStack(dev);
    const l = listen(stack, (child) => (child.deferAccept = 2)); // 3 s
    const c = stack.tcpSocket(4, bufs());
    c.connect({ addr: Ipv4Address.LOOPBACK, port: 80 });
    const t = runUntil([stack], 0, () => l.accept() !== WOULD_BLOCK, 10_000);
    // The timer runs out at 1 s and 3 s; only the last round sends the SYN-ACK again, and the
    // client's answer to it completes the handshake.
    expect(t).toBe(3000);
    expect(dev.seen.filter((x) => x.from === 80 && x.flags & TcpFlag.SYN)).toHaveLength(2);
  });
});

describe('TCP_SYNCNT and TCP_RTO_MAX_MS', () => {
  function giveUpTime(prepare: (c: TcpSocket) => void): number {
    const stack = new Stack({ device: BLACKHOLE, addresses: [cidr('10.0.0.1/24')], seed: 9 });
    const c = stack.tcpSocket(4, bufs());
    prepare(c);
    expect(c.connect({ addr: Ipv4Address.parse('10.0.0.2')!, port: 80 })).toBeUndefined();
    const t = runUntil([stack], 0, () => c.state === 'CLOSED', 600_000);
    expect(c.takeError()).toBe(E.ETIMEDOUT);
    return t;
  }

  it('TCP_SYNCNT counts the SYN retransmissions before ETIMEDOUT', () => {
    // tcp_syn_retries 6 and Linux 6.18's 4 linear timeouts: SYNs again at 1, 2, 3, 4 and 5 s,
    // then 7, 11, 19, 35 and 67 s; the timeout at 131 s is the eleventh.
    expect(giveUpTime(() => {})).toBe(131_000);
    expect(giveUpTime((c) => (c.synRetries = 2))).toBe(7_000);
  });

  it('TCP_RTO_MAX_MS bounds the backoff', () => {
    expect(giveUpTime((c) => ((c.synRetries = 5), (c.rtoMax = 2000)))).toBe(11_000); // 1+2+2+2+2+2
  });
});

describe('TCP_THIN_LINEAR_TIMEOUTS', () => {
  /** The RTO after each of the first `n` timeouts of one small segment the peer never acknowledges. */
  function rtos(thin: boolean, n: number): number[] {
    const dev = new RecordingLoopback();
    let drop = false;
    const lossy: Device = {
      capabilities: dev.capabilities,
      receive: (now) => dev.receive(now),
      transmit: (now, f) => drop || dev.transmit(now, f),
      pollAt: (now) => dev.pollAt(now),
    };
    const stack = loopbackStack(lossy);
    const l = listen(stack);
    const c = stack.tcpSocket(4, bufs());
    c.connect({ addr: Ipv4Address.LOOPBACK, port: 80 });
    settle([stack], 0);
    accepted(l);
    c.thinLinearTimeouts = thin;
    drop = true;
    c.send(new Uint8Array(100));
    const out: number[] = [];
    let now = 1;
    let next = settle([stack], now);
    const first = c.retransmitTimeout;
    while (out.length < n && next !== undefined) {
      now = next;
      next = settle([stack], now);
      out.push(c.retransmitTimeout / first);
    }
    return out;
  }

  it('keeps the RTO of a thin stream for its first 6 timeouts, then backs off', () => {
    expect(rtos(false, 4)).toEqual([2, 4, 8, 16]);
    expect(rtos(true, 8)).toEqual([1, 1, 1, 1, 1, 1, 2, 4]);
  });

  it("TCP_INFO's tcpi_total_rto (Linux 6.7's field) counts the timeouts", () => {
    const stack = new Stack({ device: BLACKHOLE, addresses: [cidr('10.0.0.1/24')], seed: 9 });
    const c = stack.tcpSocket(4, bufs());
    c.connect({ addr: Ipv4Address.parse('10.0.0.2')!, port: 80 });
    runUntil([stack], 0, () => c.info().totalRto >= 3, 60_000);
    expect(c.info().totalRto).toBe(3);
    expect(c.info().rcvWnd).toBeGreaterThan(0); // the window our SYN offered
  });
});

describe('TcpOptions checks and conversions', () => {
  const view = (over: Partial<TcpOptionsView> = {}): TcpOptionsView => ({
    conn: undefined,
    listening: false,
    receiveSpace: 65536,
    netns: { random: () => 0.5 },
    clockMs: () => 0,
    ...over,
  });

  it("TCP_DEFER_ACCEPT's seconds become SYN-ACK rounds and back as Linux's secs_to_retrans", () => {
    const secs = [1, 2, 3, 4, 7, 8, 100, 1000, 100000, -5, 0];
    const back = secs.map((s) => deferRoundsToSeconds(deferSecondsToRounds(s)));
    expect(back).toEqual([1, 3, 3, 7, 7, 15, 127, 1087, 29887, 0, 0]);
  });

  it('range checks and the jiffy rounding of the RTO options (HZ 250)', () => {
    const o = new TcpOptions();
    const v = view();
    const st = (name: number, value: number): string => {
      const r = o.set(name, value, v);
      const g = o.get(name, v);
      return `${r === 0 ? 'ok' : isError(r) ? r.name : String(r)}/${isError(g) ? g.name : String(g)}`;
    };
    expect([87, 88, 32767, 32768, -1, 0].map((x) => st(TcpOption.TCP_MAXSEG, x))).toEqual([
      'EINVAL/536',
      'ok/88',
      'ok/32767',
      'EINVAL/32767',
      'EINVAL/32767',
      'ok/536',
    ]);
    expect([0, 1, 127, 128].map((x) => st(TcpOption.TCP_SYNCNT, x))).toEqual([
      'EINVAL/6',
      'ok/1',
      'ok/127',
      'EINVAL/127',
    ]);
    expect([999, 1000, 1001, 120000, 120001].map((x) => st(TCP_RTO_MAX_MS_OPT, x))).toEqual([
      'EINVAL/120000',
      'ok/1000',
      'ok/1004',
      'ok/120000',
      'EINVAL/120000',
    ]);
    expect([0, 4000, 4001, 10001, 200000, 200001, -1].map((x) => st(TCP_RTO_MIN_US_OPT, x))).toEqual([
      'EINVAL/200000',
      'EINVAL/200000',
      'ok/8000',
      'ok/12000',
      'ok/200000',
      'EINVAL/200000',
      'EINVAL/200000',
    ]);
    expect([1, 1153, -1, 0].map((x) => st(TcpOption.TCP_WINDOW_CLAMP, x))).toEqual([
      'ok/1152',
      'ok/1153',
      'ok/1152',
      'ok/0',
    ]);
    expect([-1, 5, 100000, 0].map((x) => st(TcpOption.TCP_FASTOPEN, x))).toEqual([
      'EINVAL/0',
      'ok/5',
      'ok/4096',
      'ok/0',
    ]);
    expect(st(TcpOption.TCP_REPAIR, 1)).toBe('EPERM/0'); // no repair mode
    expect(st(TcpOption.TCP_TX_DELAY, 1 << 28)).toBe('EINVAL/0');
    expect(o.set(TcpOption.TCP_ULP, 1, v)).toBeUndefined(); // a string option: setBytes
    expect(o.setBytes(TcpOption.TCP_ULP, new TextEncoder().encode('tls'))).toBe(E.ENOENT);
    expect(o.getBytes(TcpOption.TCP_REPAIR_WINDOW, 4, v)).toBe(E.EINVAL);
    expect(o.getBytes(TcpOption.TCP_REPAIR_WINDOW, 20, v)).toBe(E.EPERM);
  });

  it('a listening socket keeps TCP_MAXSEG as set, a connection reports its MSS', () => {
    const stack = loopbackStack();
    const o = new TcpOptions();
    const l = listen(stack);
    const c = stack.tcpSocket(4, bufs());
    expect(o.set(TcpOption.TCP_MAXSEG, 1200, view({ conn: c }))).toBe(0);
    o.apply(c);
    expect(o.get(TcpOption.TCP_MAXSEG, view({ conn: c }))).toBe(1200); // closed: the value set
    expect(o.get(TcpOption.TCP_MAXSEG, view({ listening: true }))).toBe(1200);
    c.connect({ addr: Ipv4Address.LOOPBACK, port: 80 });
    settle([stack], 0);
    accepted(l);
    expect(o.get(TcpOption.TCP_MAXSEG, view({ conn: c }))).toBe(1188);
    // Connected, TCP_WINDOW_CLAMP 0 is refused (tcp_set_window_clamp).
    expect(o.set(TcpOption.TCP_WINDOW_CLAMP, 0, view({ conn: c }))).toBe(E.EINVAL);
  });
});

describe('through the socket layer', () => {
  function sock(stack: Stack, flags = 0): InetSocket {
    const s = InetSocket.create(stack, AddressFamily.AF_INET, SockType.SOCK_STREAM | flags, 0);
    if (isError(s)) throw new Error(s.name);
    return s;
  }
  const addr = emitSockaddr({ addr: Ipv4Address.LOOPBACK, port: 80 });
  const te = new TextEncoder();

  it('MSG_FASTOPEN connects, then sends once the handshake is over; TCP_INQ reports what is left', () => {
    const stack = loopbackStack();
    const l = sock(stack);
    l.bind(addr);
    l.listen(4);
    const c = sock(stack);
    expect(c.getsockopt(SocketLevel.SOL_TCP, TcpOption.TCP_MAXSEG)).toBe(536);
    expect(c.sendto(te.encode('hello'), MsgFlag.MSG_FASTOPEN, addr)).toBe(WOULD_BLOCK);
    settle([stack], 0);
    expect(c.sendto(te.encode('hello'), MsgFlag.MSG_FASTOPEN, addr)).toBe(5);
    expect(c.sendto(te.encode('x'), MsgFlag.MSG_FASTOPEN, addr)).toBe(E.EISCONN);
    expect(c.connect(addr)).toBe(E.EISCONN);
    settle([stack], 1);
    const s = l.accept();
    if (!(s instanceof InetSocket)) throw new Error('no connection');
    expect(s.setsockopt(SocketLevel.SOL_TCP, TcpOption.TCP_INQ, 1)).toBe(0);
    const r = s.recvfrom(new Uint8Array(2));
    if (isError(r) || r === WOULD_BLOCK) throw new Error('no data');
    expect(r.n).toBe(2);
    expect(r.control).toEqual([
      { level: SocketLevel.SOL_TCP, type: TcpOption.TCP_CM_INQ, data: Uint8Array.of(3, 0, 0, 0) },
    ]);
    // The connection reports its MSS, bounded to half the window the peer offered.
    const mss = c.getsockopt(SocketLevel.SOL_TCP, TcpOption.TCP_MAXSEG);
    expect(mss).toBeGreaterThan(536);
  });

  it("a listener's TCP_TIMESTAMP is the bare clock (CLOCK_MONOTONIC's ms, low bit clear)", () => {
    let now = 5000.5;
    const stack = new Stack({
      device: new RecordingLoopback(),
      addresses: [cidr('127.0.0.1/8')],
      seed: 5,
      clock: () => now,
      monotonicOffset: 86_400_000.75,
    });
    const l = sock(stack);
    l.bind(addr);
    l.listen(4);
    expect(l.getsockopt(SocketLevel.SOL_TCP, TcpOption.TCP_TIMESTAMP)).toBe(86_405_000);
    now = 5002.5; // 86_405_003.25: read when asked, not at the last poll
    expect(l.getsockopt(SocketLevel.SOL_TCP, TcpOption.TCP_TIMESTAMP)).toBe(86_405_002);
  });

  it("a listener's TCP_MAXSEG and TCP_DEFER_ACCEPT shape its connections", () => {
    const stack = loopbackStack();
    const l = sock(stack, SockType.SOCK_NONBLOCK);
    expect(l.setsockopt(SocketLevel.SOL_TCP, TcpOption.TCP_MAXSEG, 700)).toBe(0);
    expect(l.setsockopt(SocketLevel.SOL_TCP, TcpOption.TCP_DEFER_ACCEPT, 1)).toBe(0);
    l.bind(addr);
    l.listen(4);
    expect(l.getsockopt(SocketLevel.SOL_TCP, TcpOption.TCP_MAXSEG)).toBe(700);
    const c = sock(stack);
    c.connect(addr);
    settle([stack], 0);
    expect(c.getsockopt(SocketLevel.SOL_TCP, TcpOption.TCP_MAXSEG)).toBe(688);
    expect(l.accept()).toBe(WOULD_BLOCK); // deferred: no data yet
    c.sendto(te.encode('hi'));
    settle([stack], 1);
    const s = l.accept();
    if (!(s instanceof InetSocket)) throw new Error('no connection');
    expect(s.getsockopt(SocketLevel.SOL_TCP, TcpOption.TCP_MAXSEG)).toBe(688);
    expect(s.getsockopt(SocketLevel.SOL_TCP, TcpOption.TCP_DEFER_ACCEPT)).toBe(1);
  });
});
