// The gateway without a sandbox: its sandbox-side netstack Stack used directly from the test,
// as a program inside would through the socket syscalls. Fast, and no ptrace.
import { createServer, type AddressInfo } from 'node:net';
import { Ipv4Address, RingBuffer, WOULD_BLOCK } from '@tsvisor/netstack';
import { isError } from '@tsvisor/abi';
import { describe, expect, it } from 'vitest';
import { GATEWAY_ADDRESS, Gateway } from './gateway.js';

/** Polls the sandbox-side stack (as the sandbox's kernel does) until `done()` or 5 s. */
async function until(g: Gateway, done: () => boolean): Promise<void> {
  const end = Date.now() + 5000;
  while (!done() && Date.now() < end) {
    g.stack.poll(performance.now());
    await new Promise((r) => setTimeout(r, 2));
  }
}

const rings = () => ({
  rx: new RingBuffer(new Uint8Array(1 << 16)),
  tx: new RingBuffer(new Uint8Array(1 << 16)),
});

describe('Gateway (standalone)', () => {
  it('carries a TCP connection from its stack to a server on the host loopback', async () => {
    const server = createServer((c) => c.on('data', (d) => c.end(Buffer.from(d.toString().toUpperCase()))));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const g = new Gateway();
    g.kickSandbox = () => void g.stack.poll(performance.now());
    try {
      const s = g.stack.tcpSocket(4, rings());
      expect(s.connect({ addr: Ipv4Address.parse(GATEWAY_ADDRESS)!, port })).toBeUndefined();
      await until(g, () => s.state === 'ESTABLISHED');
      expect(s.send(new TextEncoder().encode('through the gateway'))).toBe(19);
      const buf = new Uint8Array(100);
      let got = '';
      await until(g, () => {
        const n = s.recv(buf);
        if (n !== WOULD_BLOCK && !isError(n)) got += new TextDecoder().decode(buf.subarray(0, n));
        return got.length >= 19;
      });
      expect(got).toBe('THROUGH THE GATEWAY');
      expect(g.links().map((l) => l.name)).toEqual(['lo', 'eth0']);
    } finally {
      g.close();
      server.close();
    }
  });

  it('answers a SYN to a closed host port with RST (connection refused)', async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const g = new Gateway();
    g.kickSandbox = () => void g.stack.poll(performance.now());
    try {
      const s = g.stack.tcpSocket(4, rings());
      s.connect({ addr: Ipv4Address.parse(GATEWAY_ADDRESS)!, port });
      await until(g, () => s.state === 'CLOSED');
      expect(s.state).toBe('CLOSED');
      expect(s.takeError()?.errno).toBe(111); // ECONNREFUSED
    } finally {
      g.close();
    }
  });
});
