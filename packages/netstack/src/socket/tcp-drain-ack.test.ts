import { isError } from '@tsvisor/abi';
import { describe, expect, it } from 'vitest';
import { Ipv4Address, LoopbackDevice, Stack, WOULD_BLOCK, cidr, emitSockaddr } from '../index.js';
import { InetSocket } from './inet-socket.js';

const AF_INET = 2;
const SOCK_STREAM = 1;

describe('ACK when the application drains the receive queue', () => {
  it('a Nagle-held sender never waits for the delayed-ACK timer while the reader keeps up', () => {
    const stack = new Stack({ device: new LoopbackDevice(), addresses: [cidr('127.0.0.1/8')], seed: 1 });
    let now = 0;
    const run = (): number | undefined => {
      for (let i = 0; i < 64; i++) {
        const next = stack.poll(now);
        if (next === undefined || next > now) return next;
      }
      return now;
    };
    const addr = emitSockaddr({ addr: Ipv4Address.LOOPBACK, port: 80 });
    const l = InetSocket.create(stack, AF_INET, SOCK_STREAM, 0) as InetSocket;
    expect(l.bind(addr)).toBe(0);
    expect(l.listen(1)).toBe(0);
    const c = InetSocket.create(stack, AF_INET, SOCK_STREAM, 0) as InetSocket;
    c.nonBlocking = true;
    c.connect(addr);
    run();
    const s = l.accept() as InetSocket;
    // Python's socket.sendfile test: 64 KiB writes, 8 KiB reads (smaller than one loopback segment).
    const total = 2 << 20;
    const chunk = new Uint8Array(65536);
    const small = new Uint8Array(8192);
    let sent = 0;
    let got = 0;
    while (got < total) {
      let moved = false;
      if (sent < total) {
        const r = c.sendto(chunk.subarray(0, Math.min(chunk.length, total - sent)));
        if (typeof r === 'number') {
          sent += r;
          moved = true;
        }
      }
      run();
      const r = s.recvfrom(small);
      if (r !== WOULD_BLOCK && !isError(r)) {
        got += r.n;
        moved = true;
      }
      const next = run();
      if (!moved) {
        expect(next).toBeDefined();
        now = Math.max(now, next!);
      }
    }
    // Before the fix every 64 KiB window waited out a 40 ms delayed ACK (over 1 s for 2 MiB).
    expect(now).toBeLessThan(40);
  });
});
