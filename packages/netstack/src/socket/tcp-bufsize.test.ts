// SO_SNDBUF and SO_RCVBUF on TCP sockets, stack to stack in one process at exact byte counts:
// SO_SNDBUF bounds the send queue (sk_wmem_queued against sk_sndbuf), SO_RCVBUF the receive queue
// and the window (half of sk_rcvbuf, tcp_adv_win_scale 1), picked at SYN time or, set later,
// without taking back window already offered. The same against the host kernel, as relations:
// runtime's sock-bufsize.test.ts.
import { E, isError, PollEvent, SocketLevel, SocketOption } from '@tsvisor/abi';
import { describe, expect, it } from 'vitest';
import { loopbackTcpPair } from './host-diff.test-util.js';
import type { InetSocket, InetSocketConfig } from './inet-socket.js';
import { WOULD_BLOCK } from './would-block.js';

const SOL = SocketLevel.SOL_SOCKET;

/** A connected pair with default buffers but for the options set before the handshake. */
function pair(
  opts: { listenerRcvBuf?: number; clientSndBuf?: number; clientRcvBuf?: number } = {},
  cfg: Partial<InetSocketConfig> = {},
) {
  const set = (sock: InetSocket, name: number, v: number | undefined): void => {
    if (v !== undefined) sock.setsockopt(SOL, name, v);
  };
  return loopbackTcpPair(3, cfg, {
    listener: (l) => set(l, SocketOption.SO_RCVBUF, opts.listenerRcvBuf),
    client: (c) => {
      set(c, SocketOption.SO_SNDBUF, opts.clientSndBuf);
      set(c, SocketOption.SO_RCVBUF, opts.clientRcvBuf);
    },
  });
}

const CHUNK = new Uint8Array(65536);

/** Sends until the socket takes nothing more, letting segments flow in between; the bytes taken. */
function fill(c: InetSocket, clock: { sleep: (ms: number) => void }): number {
  let sent = 0;
  for (let round = 0; round < 5; round++) {
    for (;;) {
      const r = c.sendto(CHUNK);
      if (r === WOULD_BLOCK) break;
      if (isError(r)) throw new Error(r.name);
      sent += r;
    }
    clock.sleep(20);
  }
  return sent;
}

/** Reads everything queued; the count. */
function drain(s: InetSocket): number {
  let got = 0;
  for (;;) {
    const r = s.recvfrom(CHUNK);
    if (r === WOULD_BLOCK) return got;
    if (isError(r)) throw new Error(r.name);
    got += r.n;
  }
}

const num = (v: number | unknown): number => {
  if (typeof v !== 'number') throw new Error('not a number');
  return v;
};
const writable = (s: InetSocket): boolean => (s.readiness() & PollEvent.POLLOUT) !== 0;

describe('SO_SNDBUF on a TCP socket', () => {
  it('set before connect: the send queue holds sk_sndbuf bytes, as Linux (12288 taken, 8192 queued)', () => {
    const { c, s, clock } = pair({ listenerRcvBuf: 4096, clientSndBuf: 4096 });
    expect(c.getsockopt(SOL, SocketOption.SO_SNDBUF)).toBe(8192);
    expect(writable(c)).toBe(true);
    // The peer's 4096-byte window, then 8192 bytes queued here: what Linux's loopback takes too.
    expect(fill(c, clock)).toBe(12288);
    expect(c.outq()).toBe(8192);
    expect(s.inq()).toBe(4096);
    expect(writable(c)).toBe(false);
    expect(c.sendto(CHUNK.subarray(0, 1))).toBe(WOULD_BLOCK);
    // The peer reads: the queue drains and POLLOUT comes back.
    for (let i = 0; i < 10 && num(c.outq()) > 0; i++) {
      drain(s);
      clock.sleep(300);
    }
    expect(c.outq()).toBe(0);
    expect(writable(c)).toBe(true);
  });

  it('set below what is queued: nothing more is taken until the queue drains below it', () => {
    const { c, s, clock } = pair({ listenerRcvBuf: 4096 });
    const before = fill(c, clock);
    expect(before).toBeGreaterThan(1 << 19); // the default ring: far more than 8 KiB
    c.setsockopt(SOL, SocketOption.SO_SNDBUF, 4096);
    expect(c.sendto(CHUNK.subarray(0, 1))).toBe(WOULD_BLOCK);
    expect(writable(c)).toBe(false);
    // Drain the peer until the queue is under 8192: then sends take only up to 8192 queued.
    for (let i = 0; i < 400 && num(c.outq()) >= 8192; i++) {
      drain(s);
      clock.sleep(50);
    }
    const q = num(c.outq());
    expect(q).toBeLessThan(8192);
    const r = c.sendto(CHUNK);
    expect(r).toBe(8192 - q);
    expect(c.outq()).toBe(8192);
  });

  it('POLLOUT follows sk_stream_is_writeable against sk_sndbuf: free space >= half of what is queued', () => {
    const { c, s, clock } = pair({ listenerRcvBuf: 4096, clientSndBuf: 4096 });
    fill(c, clock);
    expect(c.outq()).toBe(8192);
    const seen = new Set<string>();
    const buf = new Uint8Array(512);
    for (let i = 0; i < 40 && !writable(c); i++) {
      const r = s.recvfrom(buf);
      if (r === WOULD_BLOCK || isError(r)) throw new Error('peer has nothing to read');
      clock.sleep(300);
      const q = num(c.outq());
      // Writable exactly when 8192 - q >= q / 2, so at q <= 5461.
      expect(writable(c)).toBe(8192 - q >= q >> 1);
      seen.add(writable(c) ? 'writable' : q < 8192 ? 'room, not writable' : 'full');
    }
    expect(seen).toContain('writable');
    expect(seen).toContain('room, not writable');
  });

  it('an accepted socket inherits the listener’s SO_SNDBUF', () => {
    const stackPair = pair({ listenerRcvBuf: 4096 });
    expect(stackPair.s.getsockopt(SOL, SocketOption.SO_RCVBUF)).toBe(8192);
    expect(stackPair.s.getsockopt(SOL, SocketOption.SO_SNDBUF)).toBe(16384); // never set: tcp_wmem[1]
  });
});

describe('SO_RCVBUF on a TCP socket', () => {
  it('set on the listener: the accepted socket queues and offers half of sk_rcvbuf, unscaled', () => {
    const { c, s, clock } = pair({ listenerRcvBuf: 4096 });
    expect(s.getsockopt(SOL, SocketOption.SO_RCVBUF)).toBe(8192);
    const sent = fill(c, clock);
    expect(s.inq()).toBe(4096);
    expect(sent).toBe(4096 + num(c.outq()));
    // The connection goes on as the peer reads.
    let got = 0;
    for (let i = 0; i < 1000 && got < sent; i++) {
      got += drain(s);
      clock.sleep(5);
    }
    expect(got).toBe(sent);
  });

  it('set before connect: the window scale is chosen from it (none for 4096)', () => {
    const { c, s, clock } = pair({ clientRcvBuf: 4096 });
    const sent = fill(s, clock);
    expect(c.inq()).toBe(4096);
    expect(sent).toBeGreaterThan(4096);
  });

  it('the default keeps today’s rings: a peer that does not read queues far more than 64 KiB', () => {
    const { c, s, clock } = pair();
    fill(c, clock);
    expect(num(s.inq())).toBeGreaterThan(65536);
  });

  it('set after connect: no window offered is taken back, and the window stops growing', () => {
    // 64 KiB rings: the accepted socket has offered all of its ring by the time it is accepted.
    const { c, s, clock } = pair({}, { tcpRcvRing: 65536 });
    s.setsockopt(SOL, SocketOption.SO_RCVBUF, 4096);
    fill(c, clock);
    // All of the window offered may be used, and no more.
    const first = num(s.inq());
    expect(first).toBeGreaterThan(60000);
    expect(first).toBeLessThanOrEqual(65536);
    // Once that is read, the window is the new size's: at most 4096 bytes queue.
    let max = 0;
    for (let i = 0; i < 50; i++) {
      drain(s);
      clock.sleep(50);
      max = Math.max(max, num(s.inq()));
    }
    expect(max).toBeLessThanOrEqual(4096);
    expect(max).toBeGreaterThan(0);
  });
});

describe('close with unread data', () => {
  it('sends RST: the sender gets ECONNRESET, then EPIPE', () => {
    const { c, s, clock } = pair({ listenerRcvBuf: 4096 });
    c.setsockopt(SOL, SocketOption.SO_SNDBUF, 4096);
    fill(c, clock);
    const r = s.recvfrom(new Uint8Array(1024));
    expect(r !== WOULD_BLOCK && !isError(r) && r.n).toBe(1024);
    s.close();
    clock.sleep(10);
    const ev = c.readiness();
    expect(ev & (PollEvent.POLLERR | PollEvent.POLLHUP)).toBe(PollEvent.POLLERR | PollEvent.POLLHUP);
    expect(c.sendto(CHUNK.subarray(0, 100))).toBe(E.ECONNRESET);
    expect(c.sendto(CHUNK.subarray(0, 100))).toBe(E.EPIPE);
  });
});
