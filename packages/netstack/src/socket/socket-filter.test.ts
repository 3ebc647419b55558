// Socket filters on netstack's receive paths (the C program runtime/src/testdata/sock-filter.c
// compares the same paths with Linux): UDP and UDP-Lite from the UDP header with the IP header
// through SKF_NET_OFF, ICMP echo sockets from the ICMP header, TCP segments lost to a filter.
import { AddressFamily, isError, SockType } from '@tsvisor/abi';
import { describe, expect, it } from 'vitest';
import { encodeSockFilters, SKF_NET_OFF, type SockFilter } from './cbpf.js';
import { loopbackBed, mustSocket, res, sockaddr4 } from './host-diff.test-util.js';
import { InetSocket } from './inet-socket.js';
import type { Stack } from '../stack.js';

const stmt = (code: number, k: number): SockFilter => ({ code, jt: 0, jf: 0, k: k >>> 0 });
const jeq = (k: number, jt: number, jf: number): SockFilter => ({ code: 0x15, jt, jf, k });
const RET_K = 0x06;
const RET_A = 0x16;
const LD_B_ABS = 0x30;
const LD_H_ABS = 0x28;
const ADD_K = 0x04;
const IPPROTO_UDPLITE = 136;
const IPPROTO_ICMP = 1;

/** A non-blocking AF_INET datagram socket of `protocol` (0: UDP). */
function dgram(stack: Stack, protocol: number): InetSocket {
  return mustSocket(
    InetSocket.create(stack, AddressFamily.AF_INET, SockType.SOCK_DGRAM | SockType.SOCK_NONBLOCK, protocol),
  );
}

function attach(s: InetSocket, insns: SockFilter[]): void {
  expect(s.filter.attach(encodeSockFilters(insns))).toBe(0);
}

describe('UDP', () => {
  function udpPair(protocol = 0): { a: InetSocket; b: InetSocket; WAIT: () => void; stack: Stack } {
    const { stack, WAIT } = loopbackBed(64);
    const b = dgram(stack, protocol);
    expect(b.bind(sockaddr4(9901))).toBe(0);
    const a = dgram(stack, protocol);
    expect(a.connect(sockaddr4(9901))).toBe(0);
    return { a, b, WAIT, stack };
  }

  it('drops, trims above the header and counts drops as InErrors', () => {
    const { a, b, WAIT, stack } = udpPair();
    const buf = new Uint8Array(64);
    const msg = new TextEncoder().encode('hello, filter');
    attach(b, [stmt(RET_K, 0)]);
    a.sendto(msg);
    WAIT();
    expect(res(b.recvfrom(buf))).toBe('WOULD_BLOCK');
    expect(stack.mib.udp.InErrors).toBe(1);
    attach(b, [stmt(RET_K, 8 + 5)]);
    a.sendto(msg);
    WAIT();
    expect(res(b.recvfrom(buf))).toBe('5');
    attach(b, [stmt(RET_K, 1)]);
    a.sendto(msg);
    WAIT();
    expect(res(b.recvfrom(buf))).toBe('0');
    expect(stack.mib.udp.InErrors).toBe(1);
  });

  it('sees the destination port at offset 2 and the IP protocol through SKF_NET_OFF', () => {
    const { a, b, WAIT } = udpPair();
    const buf = new Uint8Array(64);
    // Keep 8 + (IP protocol) bytes when the destination port is 9901, else drop.
    attach(b, [
      stmt(LD_H_ABS, 2),
      jeq(9901, 0, 3),
      stmt(LD_B_ABS, SKF_NET_OFF + 9),
      stmt(ADD_K, 8),
      stmt(RET_A, 0),
      stmt(RET_K, 0),
    ]);
    a.sendto(new Uint8Array(40));
    WAIT();
    expect(res(b.recvfrom(buf))).toBe('17');
  });

  it('gives UDP-Lite datagrams their own protocol number', () => {
    const { a, b, WAIT } = udpPair(IPPROTO_UDPLITE);
    const buf = new Uint8Array(256);
    attach(b, [stmt(LD_B_ABS, SKF_NET_OFF + 9), stmt(ADD_K, 8), stmt(RET_A, 0)]);
    a.sendto(new Uint8Array(200));
    WAIT();
    expect(res(b.recvfrom(buf))).toBe(String(IPPROTO_UDPLITE));
  });
});

describe('ICMP echo sockets', () => {
  it('filter replies from the ICMP header', () => {
    const { stack, WAIT } = loopbackBed(65);
    const s = dgram(stack, IPPROTO_ICMP);
    const echo = Uint8Array.from([8, 0, 0, 0, 0, 0, 0, 1, 0x61, 0x62, 0x63, 0x64]);
    const buf = new Uint8Array(64);
    // Only echo replies (type 0), cut to the header and two bytes.
    attach(s, [stmt(LD_B_ABS, 0), jeq(0, 0, 1), stmt(RET_K, 10), stmt(RET_K, 0)]);
    expect(s.sendto(echo, 0, sockaddr4(0))).toBe(echo.length);
    WAIT();
    expect(res(s.recvfrom(buf))).toBe('10');
    attach(s, [stmt(LD_B_ABS, 0), jeq(8, 0, 1), stmt(RET_K, 0xffff), stmt(RET_K, 0)]);
    expect(s.sendto(echo, 0, sockaddr4(0))).toBe(echo.length);
    WAIT();
    expect(res(s.recvfrom(buf))).toBe('WOULD_BLOCK');
  });
});

describe('TCP', () => {
  it('loses what the filter drops: the sender retransmits once it is gone', () => {
    const { WAIT, sleep, tcp } = loopbackBed(66);
    const l = tcp();
    l.bind(sockaddr4(7801));
    l.listen(4);
    const c = tcp();
    c.connect(sockaddr4(7801));
    WAIT();
    const s = mustSocket(l.accept(0));
    attach(s, [stmt(RET_K, 0)]);
    expect(c.sendto(new TextEncoder().encode('abc'))).toBe(3);
    sleep(1000);
    const buf = new Uint8Array(16);
    expect(res(s.recvfrom(buf))).toBe('WOULD_BLOCK');
    expect(c.outq()).toBe(3);
    expect(s.filter.detach()).toBe(0);
    sleep(5000);
    expect(res(s.recvfrom(buf))).toBe('3');
    expect(c.outq()).toBe(0);
  });

  it('a listener that drops SYNs leaves the connect pending until it stops', () => {
    const { WAIT, sleep, tcp } = loopbackBed(67);
    const l = tcp();
    l.bind(sockaddr4(7802));
    l.listen(4);
    attach(l, [stmt(RET_K, 0)]);
    const c = tcp();
    c.connect(sockaddr4(7802));
    WAIT();
    expect(res(l.accept(0) as never)).toBe('WOULD_BLOCK');
    expect(l.filter.detach()).toBe(0);
    sleep(3000); // the SYN goes again after 1 s
    const s = l.accept(0);
    expect(!isError(s) && s instanceof InetSocket).toBe(true);
  });
});
