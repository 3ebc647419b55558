// When a TCP socket is writable, at exact byte counts on small rings: Linux's tcp_poll reports
// POLLOUT only while the free send space is at least half of what is queued
// (sk_stream_is_writeable), and while twice the unsent bytes are below TCP_NOTSENT_LOWAT. The
// same rules against the host kernel: runtime's sock-stream-space.test.ts.
import { isError, PollEvent, SocketLevel, TcpOption } from '@tsvisor/abi';
import { describe, expect, it } from 'vitest';
import { loopbackTcpPair } from './host-diff.test-util.js';
import type { InetSocket } from './inet-socket.js';
import { WOULD_BLOCK } from './would-block.js';

function pair(sndRing: number, rcvRing: number) {
  return loopbackTcpPair(8, { tcpSndRing: sndRing, tcpRcvRing: rcvRing });
}

const writable = (s: InetSocket): boolean => (s.readiness() & PollEvent.POLLOUT) !== 0;

describe('POLLOUT of a TCP socket', () => {
  it('needs free space of at least half the queued bytes, not just any free byte', () => {
    const { c, s, clock } = pair(3000, 1000);
    expect(writable(c)).toBe(true);
    // The peer does not read: its 1000-byte window takes the first 700-byte send (the second
    // waits: a segment goes only when it fits whole in the window, the sender's silly window
    // avoidance, with the MSS held to half the largest window), then the 3000-byte send ring
    // fills.
    let sent = 0;
    for (let r = c.sendto(new Uint8Array(700)); r !== WOULD_BLOCK; r = c.sendto(new Uint8Array(700))) {
      if (isError(r)) throw new Error(r.name);
      sent += r;
      clock.sleep(5);
    }
    expect(sent).toBe(3700);
    expect(c.outq()).toBe(3000);
    expect(writable(c)).toBe(false);
    // Read the peer 100 bytes at a time: the queue shrinks as the window reopens, and POLLOUT
    // comes back exactly when 3000 - queued >= queued / 2, at 2000 bytes queued.
    const seen = new Set<string>();
    const buf = new Uint8Array(100);
    for (let i = 0; i < 40 && !writable(c); i++) {
      const r = s.recvfrom(buf);
      if (r === WOULD_BLOCK || isError(r)) throw new Error('peer has nothing to read');
      clock.sleep(300); // past the receiver's silly-window hold and a persist probe
      const q = c.outq();
      if (isError(q)) throw new Error('a connected socket has an output queue');
      expect(writable(c)).toBe(q <= 2000);
      seen.add(q < 3000 && q > 2000 ? 'room, not writable' : q <= 2000 ? 'writable' : 'full');
    }
    expect(seen).toContain('room, not writable');
    expect(seen).toContain('writable');
    // A send is taken with room free whatever POLLOUT says (sk_stream_memory_free).
    expect(c.sendto(new Uint8Array(1))).toBe(1);
  });

  it('TCP_NOTSENT_LOWAT: writable while twice the unsent bytes are below it; sends stop at it', () => {
    const { c, s, clock } = pair(1 << 16, 1000);
    const TCP = SocketLevel.SOL_TCP;
    expect(c.getsockopt(TCP, TcpOption.TCP_NOTSENT_LOWAT)).toBe(0);
    expect(c.setsockopt(TCP, TcpOption.TCP_NOTSENT_LOWAT, 100)).toBe(0);
    expect(c.getsockopt(TCP, TcpOption.TCP_NOTSENT_LOWAT)).toBe(100);
    // Fill the peer's window: those bytes are sent (and acknowledged), none is unsent.
    expect(c.sendto(new Uint8Array(1000))).toBe(1000);
    clock.sleep(10);
    expect(writable(c)).toBe(true);
    expect(c.sendto(new Uint8Array(49))).toBe(49); // unsent: 49, 98 < 100
    clock.sleep(10);
    expect(writable(c)).toBe(true);
    expect(c.sendto(new Uint8Array(1))).toBe(1); // 50: 100 < 100 no more
    expect(writable(c)).toBe(false);
    expect(c.sendto(new Uint8Array(60))).toBe(60); // still below 100 unsent: taken
    expect(c.sendto(new Uint8Array(1))).toBe(WOULD_BLOCK); // 110 unsent
    // The peer reads: everything goes out and the socket is writable again.
    const buf = new Uint8Array(2000);
    for (let i = 0; i < 10; i++) {
      s.recvfrom(buf);
      clock.sleep(300);
    }
    expect(c.outq()).toBe(0);
    expect(writable(c)).toBe(true);
    // -1 is kept as UINT_MAX (no limit) and read back as -1.
    expect(c.setsockopt(TCP, TcpOption.TCP_NOTSENT_LOWAT, -1)).toBe(0);
    expect(c.getsockopt(TCP, TcpOption.TCP_NOTSENT_LOWAT)).toBe(-1);
  });

  it('net.ipv4.tcp_notsent_lowat holds a socket without TCP_NOTSENT_LOWAT; the option overrides it', () => {
    const { c, clock, stack } = pair(1 << 16, 1000);
    const TCP = SocketLevel.SOL_TCP;
    stack.sysctl.notsentLowat = 100;
    expect(c.sendto(new Uint8Array(1000))).toBe(1000); // the peer's window: sent, none unsent
    clock.sleep(10);
    expect(c.sendto(new Uint8Array(49))).toBe(49);
    clock.sleep(10);
    expect(writable(c)).toBe(true);
    expect(c.sendto(new Uint8Array(1))).toBe(1); // 2 x 50 unsent: not below 100
    expect(writable(c)).toBe(false);
    expect(c.sendto(new Uint8Array(60))).toBe(60);
    expect(c.sendto(new Uint8Array(1))).toBe(WOULD_BLOCK); // 110 unsent
    // The option reads back 0 (the sysctl is not the socket's); a value of its own wins.
    expect(c.getsockopt(TCP, TcpOption.TCP_NOTSENT_LOWAT)).toBe(0);
    expect(c.setsockopt(TCP, TcpOption.TCP_NOTSENT_LOWAT, 1000)).toBe(0);
    expect(writable(c)).toBe(true);
    expect(c.sendto(new Uint8Array(1))).toBe(1);
    // A larger sysctl frees a socket back on it at once.
    expect(c.setsockopt(TCP, TcpOption.TCP_NOTSENT_LOWAT, 0)).toBe(0);
    expect(writable(c)).toBe(false);
    stack.sysctl.notsentLowat = 1000;
    expect(writable(c)).toBe(true);
  });
});
