// TCP urgent data on the wire and in the socket: the URG flag and urgent pointer a send with
// MSG_OOB puts on its segments (Linux __tcp_transmit_skb), and what a receiver makes of them
// (tcp_urg, tcp_check_urg, tcp_recv_urg, tcp_recvmsg's mark, tcp_poll's POLLPRI). A RawPeer
// stands for the far end, so each test decides exactly which segments arrive.
import { AddressFamily, E, MsgFlag, PollEvent, SockType, isError } from '@tsvisor/abi';
import { describe, expect, it } from 'vitest';
import { InetSocket, Ipv4Address, LoopbackDevice, Stack, cidr, emitSockaddr } from '../index.js';
import { settle } from '../stack.test-util.js';
import { TcpFlag, seqAdd, type TcpRepr } from '../wire/tcp.js';
import { connectToRawPeer } from './tcp-peer.test-util.js';
import type { TcpSocket } from './tcp.js';
import { WOULD_BLOCK } from './would-block.js';

const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const data = (segs: readonly TcpRepr[]): TcpRepr[] => segs.filter((s) => s.payload.length > 0);

/** recv(2) of up to `n` bytes as a string, or the WOULD_BLOCK / errno it answered. */
function recv(sock: TcpSocket, n = 64): string {
  const out = new Uint8Array(n);
  const r = sock.recv(out);
  if (typeof r === 'number') return new TextDecoder().decode(out.subarray(0, r));
  return r === WOULD_BLOCK ? 'WOULD_BLOCK' : r.name;
}

/** recv(MSG_OOB) as the urgent byte's character, 'eof' or the errno's name. */
function oob(sock: TcpSocket, peek = false): string {
  const r = sock.recvUrgent(peek);
  if (typeof r === 'number') return String.fromCharCode(r);
  return r === 'eof' ? r : r.name;
}

const pri = (sock: TcpSocket): boolean => (sock.readiness() & PollEvent.POLLPRI) !== 0;
const readable = (sock: TcpSocket): boolean => (sock.readiness() & PollEvent.POLLIN) !== 0;

describe('sending urgent data', () => {
  it('marks segments before SND.UP with URG and a pointer one past the urgent byte', () => {
    const { sock, peer } = connectToRawPeer();
    sock.send(text('abc'));
    sock.markUrgent();
    settle([peer.stack], 0);
    const [seg] = data(peer.drain());
    expect(seg?.payload).toEqual(text('abc'));
    expect(seg!.flags & TcpFlag.URG).toBe(TcpFlag.URG);
    expect(seg!.urgentPointer).toBe(3);
    // Once the peer has acknowledged the urgent byte, urgent mode is over.
    peer.rcvNxt = seqAdd(seg!.seqNumber, 3);
    peer.send({});
    sock.send(text('d'));
    settle([peer.stack], 0);
    const [next] = data(peer.drain());
    expect(next?.payload).toEqual(text('d'));
    expect(next!.flags & TcpFlag.URG).toBe(0);
    expect(next!.urgentPointer).toBeUndefined();
  });

  it('sends urgent data at once where Nagle would hold a small segment', () => {
    const { sock, peer } = connectToRawPeer();
    sock.send(text('x'));
    settle([peer.stack], 0);
    expect(data(peer.drain()).map((s) => s.payload)).toEqual([text('x')]);
    // 'x' is unacknowledged: Nagle holds the next small segment...
    sock.send(text('y'));
    settle([peer.stack], 0);
    expect(data(peer.drain())).toEqual([]);
    // ...but not in urgent mode (tcp_nagle_test).
    sock.send(text('z'));
    sock.markUrgent();
    settle([peer.stack], 0);
    const segs = data(peer.drain());
    expect(segs.map((s) => [new TextDecoder().decode(s.payload), s.urgentPointer])).toEqual([['yz', 2]]);
  });

  it('points as far as 16 bits reach (0xffff) while SND.UP is further ahead', () => {
    const { sock, peer } = connectToRawPeer({ windowScale: 7 });
    sock.send(new Uint8Array(70_000));
    sock.markUrgent();
    settle([peer.stack], 0);
    const segs = data(peer.drain());
    const sndUp = seqAdd(segs[0]!.seqNumber, 70_000);
    const want = segs.map((s) => {
      const up = (sndUp - s.seqNumber) >>> 0;
      return up < 0x10000 ? up : 0xffff;
    });
    expect(segs.map((s) => s.urgentPointer)).toEqual(want);
    expect(segs.every((s) => (s.flags & TcpFlag.URG) !== 0)).toBe(true);
    expect(want[0]).toBe(0xffff); // the first segments are out of the field's reach
  });
});

describe('receiving urgent data', () => {
  it('keeps the urgent byte aside: POLLPRI, the mark, recv(MSG_OOB) once, reads skip it', () => {
    const { sock, peer } = connectToRawPeer();
    let announced = 0;
    sock.onUrgent = () => announced++;
    peer.send({ flags: TcpFlag.URG, urgentPointer: 3, payload: text('abcde') });
    settle([peer.stack], 0);
    expect(announced).toBe(1);
    expect(pri(sock)).toBe(true);
    expect(sock.atUrgentMark).toBe(false);
    expect(sock.readable).toBe(2); // FIONREAD stops at the mark
    expect(sock.recvQueue).toBe(5);
    expect(recv(sock)).toBe('ab'); // a read stops before the mark
    expect(sock.atUrgentMark).toBe(true);
    expect(oob(sock, true)).toBe('c');
    expect(oob(sock)).toBe('c');
    expect(oob(sock)).toBe(E.EINVAL.name);
    expect(pri(sock)).toBe(false);
    expect(sock.atUrgentMark).toBe(true); // the mark stands until read past
    expect(recv(sock)).toBe('de');
    expect(sock.atUrgentMark).toBe(false);
  });

  it('answers EAGAIN while the pointer is ahead of the data, then takes the byte when it comes', () => {
    const { sock, peer } = connectToRawPeer();
    const s0 = peer.seq;
    peer.send({ flags: TcpFlag.URG, urgentPointer: 5, payload: text('ab') });
    settle([peer.stack], 0);
    expect(pri(sock)).toBe(false);
    expect(oob(sock)).toBe(E.EAGAIN.name);
    expect(recv(sock)).toBe('ab');
    peer.send({ seqNumber: seqAdd(s0, 2), payload: text('cdef') });
    settle([peer.stack], 0);
    expect(pri(sock)).toBe(true);
    expect(recv(sock)).toBe('cd');
    expect(oob(sock)).toBe('e');
    expect(recv(sock)).toBe('f');
  });

  it('reads end of stream from recv(MSG_OOB) when the FIN comes before the announced byte', () => {
    const { sock, peer } = connectToRawPeer();
    peer.send({ flags: TcpFlag.URG, urgentPointer: 9, payload: text('ab') });
    peer.seq = seqAdd(peer.seq, 2);
    peer.send({ flags: TcpFlag.FIN });
    settle([peer.stack], 0);
    expect(oob(sock)).toBe('eof');
  });

  it('loses the urgent byte to a read past the mark, and keeps the only byte out of POLLIN', () => {
    const { sock, peer } = connectToRawPeer();
    const s0 = peer.seq;
    peer.send({ flags: TcpFlag.URG, urgentPointer: 1, payload: text('u') });
    settle([peer.stack], 0);
    expect(pri(sock)).toBe(true);
    expect(readable(sock)).toBe(false); // tcp_poll: the urgent byte is not data to read
    expect(recv(sock)).toBe('WOULD_BLOCK'); // steps over it
    expect(oob(sock)).toBe(E.EINVAL.name);
    // The same pointer again (a retransmission) announces nothing new.
    let announced = 0;
    sock.onUrgent = () => announced++;
    peer.send({ seqNumber: s0, flags: TcpFlag.URG, urgentPointer: 1, payload: text('u') });
    settle([peer.stack], 0);
    expect(announced).toBe(0);
    expect(oob(sock)).toBe(E.EINVAL.name);
  });

  it('with SO_OOBINLINE leaves the byte in the stream and recv(MSG_OOB) answers EINVAL', () => {
    const { sock, peer } = connectToRawPeer();
    sock.oobInline = true;
    peer.send({ flags: TcpFlag.URG, urgentPointer: 3, payload: text('abcde') });
    settle([peer.stack], 0);
    expect(pri(sock)).toBe(true);
    expect(sock.readable).toBe(5);
    expect(oob(sock)).toBe(E.EINVAL.name);
    expect(recv(sock)).toBe('ab');
    expect(sock.atUrgentMark).toBe(true);
    expect(recv(sock)).toBe('cde');
    expect(pri(sock)).toBe(false);
  });

  it('keeps only the newest urgent byte, dropping an older one that was next in the stream', () => {
    const { sock, peer } = connectToRawPeer();
    const s0 = peer.seq;
    peer.send({ flags: TcpFlag.URG, urgentPointer: 1, payload: text('P') });
    peer.send({ seqNumber: seqAdd(s0, 1), flags: TcpFlag.URG, urgentPointer: 1, payload: text('Q') });
    settle([peer.stack], 0);
    expect(oob(sock)).toBe('Q');
    expect(recv(sock)).toBe('WOULD_BLOCK');
  });

  it('peeks past the urgent byte without consuming anything', () => {
    const { sock, peer } = connectToRawPeer();
    peer.send({ flags: TcpFlag.URG, urgentPointer: 2, payload: text('xyz') });
    settle([peer.stack], 0);
    const out = new Uint8Array(8);
    expect(sock.peek(out)).toBe(1);
    expect(recv(sock)).toBe('x');
    expect(sock.peek(out)).toBe(1);
    expect(out[0]).toBe('z'.charCodeAt(0));
    expect(oob(sock)).toBe('y');
    expect(recv(sock)).toBe('z');
  });
});

describe('README example: urgent data through the public API', () => {
  it('sends one urgent byte between two InetSockets on loopback', () => {
    const stack = new Stack({ device: new LoopbackDevice(), addresses: [cidr('127.0.0.1/8')] });
    const make = () => {
      const s = InetSocket.create(
        stack,
        AddressFamily.AF_INET,
        SockType.SOCK_STREAM | SockType.SOCK_NONBLOCK,
        0,
      );
      if (isError(s)) throw s;
      return s;
    };
    const addr = emitSockaddr({ addr: Ipv4Address.LOOPBACK, port: 8080 });
    const listener = make();
    listener.bind(addr);
    listener.listen(1);
    const client = make();
    client.connect(addr);
    stack.poll(0);
    const server = listener.accept();
    if (isError(server) || !(server instanceof InetSocket)) throw new Error('no connection');
    expect(client.sendto(new TextEncoder().encode('!'), MsgFlag.MSG_OOB)).toBe(1);
    stack.poll(0);
    expect(server.readiness() & PollEvent.POLLPRI).toBe(PollEvent.POLLPRI);
    expect(server.atMark()).toBe(1);
    const one = new Uint8Array(1);
    expect(server.recvfrom(one, MsgFlag.MSG_OOB)).toEqual({
      n: 1,
      len: 1,
      from: undefined,
      truncated: false,
      oob: true,
    });
    expect(one[0]).toBe(33);
    expect(server.recvfrom(one, MsgFlag.MSG_OOB)).toBe(E.EINVAL);
  });
});
