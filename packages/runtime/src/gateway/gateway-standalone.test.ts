// The gateway without a sandbox: its sandbox-side netstack Stack used directly from the test,
// as a program inside would through the socket syscalls. Fast, and no ptrace.
import { createServer, type AddressInfo } from 'node:net';
import { Ipv4Address, RingBuffer, WOULD_BLOCK } from '@tsvisor/netstack';
import { isError } from '@tsvisor/abi';
import { describe, expect, it } from 'vitest';
import { DNS_ADDRESS, GATEWAY_ADDRESS, GATEWAY_MAC, Gateway, SANDBOX_MAC } from './gateway.js';
import { T, makeQuery, parseReply, startFakeDns } from './dns-fake.test-util.js';

/** Polls the sandbox-side stack (as the sandbox's kernel does) until `done()` or 5 s. */
async function until(g: Gateway, done: () => boolean): Promise<void> {
  const end = Date.now() + 5000;
  while (!done() && Date.now() < end) {
    g.stack.poll(performance.now());
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** The sandbox's resolved neighbours as [address, MAC] text. */
function neighbors(g: Gateway): string[][] {
  return g.stack.iface
    .neighborEntries(performance.now())
    .map((e) => [e.address.toString(), e.mac.toString()]);
}

/** A standard query for `name`, type A, class IN, id 0x1234. */
function dnsQuery(name: string): Uint8Array {
  const labels = name.split('.').flatMap((l) => [l.length, ...Buffer.from(l)]);
  return Uint8Array.from([0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, ...labels, 0, 0, 1, 0, 1]);
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
      // The sandbox found the gateway's MAC by ARP on the way.
      expect(neighbors(g)).toEqual([[GATEWAY_ADDRESS, GATEWAY_MAC]]);
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

  it('eth0 is Ethernet: the sandbox ARPs for the DNS address and gets the answer back', async () => {
    const g = new Gateway({
      resolver: (name) => Promise.resolve(name === 'a.test' ? ['10.9.8.7'] : 'nxdomain'),
    });
    g.kickSandbox = () => void g.stack.poll(performance.now());
    try {
      const eth0 = g.links()[1]!;
      expect(eth0.type).toBe(1); // ARPHRD_ETHER
      expect([...eth0.address].map((b) => b.toString(16).padStart(2, '0')).join(':')).toBe(SANDBOX_MAC);
      expect([...eth0.broadcast]).toEqual([255, 255, 255, 255, 255, 255]);
      expect(eth0.flags).toBe(0x11043); // UP BROADCAST RUNNING MULTICAST LOWER_UP, no NOARP
      const u = g.stack.udpSocket(4);
      expect(u.sendto(dnsQuery('a.test'), { addr: Ipv4Address.parse(DNS_ADDRESS)!, port: 53 })).toBe(24);
      const buf = new Uint8Array(512);
      let reply: Uint8Array | undefined;
      await until(g, () => {
        const r = u.recvfrom(buf);
        if (r !== WOULD_BLOCK && !isError(r)) reply = buf.slice(0, r.len);
        return reply !== undefined;
      });
      expect(reply).toBeDefined();
      expect([...reply!.subarray(0, 2)]).toEqual([0x12, 0x34]);
      expect([...reply!.subarray(reply!.length - 4)]).toEqual([10, 9, 8, 7]);
      // eth0 counts frames with their Ethernet header, as a veth: the ARP request and the query
      // (14 + 20 + 8 + 24) out, the ARP reply and the answer in; lo saw nothing.
      const [lo, eth] = g.links();
      expect(eth!.stats()).toEqual({
        rxPackets: 2,
        rxBytes: 42 + 14 + 20 + 8 + reply!.length,
        rxDropped: 0,
        txPackets: 2,
        txBytes: 42 + 66,
        txDropped: 0,
      });
      expect(lo!.stats()).toMatchObject({ rxPackets: 0, txPackets: 0, rxBytes: 0, txBytes: 0 });
      // 10.0.2.3 is on eth0's /24: resolved to the gateway's end of the link, not routed.
      expect(neighbors(g)).toEqual([[DNS_ADDRESS, GATEWAY_MAC]]);
    } finally {
      g.close();
    }
  });

  it('loopback traffic stays off eth0: no frame, no ARP', async () => {
    const g = new Gateway();
    g.kickSandbox = () => void g.stack.poll(performance.now());
    try {
      const l = g.stack.tcpListener(4, rings);
      expect(l.bind({ addr: Ipv4Address.parse('127.0.0.1')!, port: 7000 }) ?? l.listen(4)).toBeUndefined();
      const c = g.stack.tcpSocket(4, rings());
      expect(c.connect({ addr: Ipv4Address.parse('127.0.0.1')!, port: 7000 })).toBeUndefined();
      await until(g, () => c.state === 'ESTABLISHED');
      expect(c.state).toBe('ESTABLISHED');
      expect(c.send(new Uint8Array(5000))).toBe(5000);
      await until(g, () => l.accept() !== WOULD_BLOCK);
      const stats = g.stack.iface.stats;
      expect([stats.txFrames, stats.rxFrames]).toEqual([0, 0]);
      // ... but on lo's counters, each segment once each way: the IP layer counted the same.
      await until(g, () => (g.links()[0]!.stats().txBytes ?? 0) > 5000);
      const [lo, eth] = g.links().map((l) => l.stats());
      expect(eth).toMatchObject({ rxPackets: 0, txPackets: 0, rxBytes: 0, txBytes: 0 });
      expect(lo!.txPackets).toBeGreaterThanOrEqual(4);
      expect(lo!.txBytes).toBe(g.stack.mib.ip.OutOctets);
      expect(lo!.txBytes).toBeGreaterThan(5000);
      expect([lo!.rxPackets, lo!.rxBytes]).toEqual([lo!.txPackets, lo!.txBytes]);
      expect(neighbors(g)).toEqual([]);
    } finally {
      g.close();
    }
  });

  it('forwards other types to the nameservers, over UDP and TCP through 10.0.2.3', async () => {
    const fake = await startFakeDns();
    const g = new Gateway({
      resolver: () => Promise.resolve('nxdomain'),
      nameservers: { servers: [{ address: '127.0.0.1', port: fake.port }], timeoutMs: 2000, attempts: 1 },
    });
    g.kickSandbox = () => void g.stack.poll(performance.now());
    const dns = { addr: Ipv4Address.parse(DNS_ADDRESS)!, port: 53 };
    try {
      const u = g.stack.udpSocket(4);
      const buf = new Uint8Array(70000);
      const udpAsk = async (q: Uint8Array): Promise<Uint8Array | undefined> => {
        expect(u.sendto(q, dns)).toBe(q.length);
        let reply: Uint8Array | undefined;
        await until(g, () => {
          const r = u.recvfrom(buf);
          if (r !== WOULD_BLOCK && !isError(r)) reply = buf.slice(0, r.len);
          return reply !== undefined;
        });
        return reply;
      };
      const mx = parseReply((await udpAsk(makeQuery('mx.test', T.MX, 0x0a0b)))!);
      expect([mx.id, mx.rcode, mx.answers.length]).toEqual([0x0a0b, 0, 2]);
      const big = parseReply((await udpAsk(makeQuery('big.test', T.TXT, 0x0c0d)))!);
      expect([big.id, big.tc, big.answers.length]).toEqual([0x0c0d, true, 0]);
      // Malformed: nothing comes back (the answer after it is the next query's).
      expect(u.sendto(new Uint8Array([1, 2, 3]), dns)).toBe(3);
      const next = parseReply((await udpAsk(makeQuery('txt.test', T.TXT, 0x0e0f)))!);
      expect([next.id, next.answers.length]).toEqual([0x0e0f, 2]);

      // The same over TCP: the whole answer, asked upstream over TCP after the truncated one.
      const mark = fake.received.length;
      const t = g.stack.tcpSocket(4, rings());
      expect(t.connect(dns)).toBeUndefined();
      await until(g, () => t.state === 'ESTABLISHED');
      const q = makeQuery('big.test', T.TXT, 0x1111);
      expect(t.send(Uint8Array.from([q.length >> 8, q.length & 0xff, ...q]))).toBe(q.length + 2);
      let got = new Uint8Array(0);
      await until(g, () => {
        const n = t.recv(buf);
        if (n !== WOULD_BLOCK && !isError(n)) got = Uint8Array.from([...got, ...buf.subarray(0, n)]);
        return got.length >= 2 && got.length >= 2 + ((got[0]! << 8) | got[1]!);
      });
      const whole = parseReply(got.subarray(2));
      expect([whole.id, whole.tc, whole.answers.length]).toEqual([0x1111, false, 10]);
      expect(fake.received.slice(mark).map((r) => r.transport)).toEqual(['udp', 'tcp']);
    } finally {
      g.close();
      await fake.close();
    }
  });
});
