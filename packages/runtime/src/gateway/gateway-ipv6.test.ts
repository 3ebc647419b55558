// IPv6 on eth0 (GatewayOptions.ipv6), without a sandbox: the sandbox-side netstack Stack used
// directly, as a program inside would through the socket syscalls. Servers run on the host's ::1.
import { createSocket } from 'node:dgram';
import { connect, createServer, type AddressInfo } from 'node:net';
import { Ipv4Address, Ipv6Address, RingBuffer, WOULD_BLOCK, type TcpSocket } from '@tsvisor/netstack';
import { isError } from '@tsvisor/abi';
import { describe, expect, it } from 'vitest';
import { DNS_ADDRESS6, GATEWAY_ADDRESS6, GATEWAY_MAC, Gateway, SANDBOX_ADDRESS6 } from './gateway.js';
import { T, makeQuery, parseReply, startFakeDns } from './dns-fake.test-util.js';

/** Polls the sandbox-side stack (as the sandbox's kernel does) until `done()` or 5 s. */
async function until(g: Gateway, done: () => boolean): Promise<void> {
  const end = Date.now() + 5000;
  while (!done() && Date.now() < end) {
    g.stack.poll(performance.now());
    await new Promise((r) => setTimeout(r, 2));
  }
}

function ipv6Gateway(options: ConstructorParameters<typeof Gateway>[0] = {}): Gateway {
  const g = new Gateway({ ...options, ipv6: true });
  g.kickSandbox = () => void g.stack.poll(performance.now());
  return g;
}

const rings = () => ({
  rx: new RingBuffer(new Uint8Array(1 << 16)),
  tx: new RingBuffer(new Uint8Array(1 << 16)),
});
const gateway6 = Ipv6Address.parse(GATEWAY_ADDRESS6)!;

/** A port free on the host's ::1 (for TCP; UDP's is taken to be free too, as in the IPv4 tests). */
async function freePort6(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '::1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}
const dns6 = { addr: Ipv6Address.parse(DNS_ADDRESS6)!, port: 53 };

describe('Gateway with IPv6 (standalone)', () => {
  it('gives eth0 fd00::100/64 and an EUI-64 link-local address, with the default route via fd00::2', () => {
    const g = ipv6Gateway();
    try {
      const [lo, eth0] = g.links();
      const text = (l: typeof eth0) => l!.addresses.map((c) => `${c.address.toString()}/${c.prefixLen}`);
      expect(text(eth0)).toEqual(['10.0.2.15/24', 'fd00::100/64', 'fe80::42:aff:fe00:20f/64']);
      expect(text(lo)).toEqual(['127.0.0.1/8', '::1/128']);
      expect(eth0!.gateways.map((a) => a.toString())).toEqual(['10.0.2.2', GATEWAY_ADDRESS6]);
      // Without the option eth0 stays IPv4 only.
      const plain = new Gateway();
      expect(plain.links()[1]!.addresses.map((c) => c.address.version)).toEqual([4]);
      plain.close();
    } finally {
      g.close();
    }
  });

  it('carries TCP from fd00::100 to fd00::2 as a connection to the host ::1, after NDP', async () => {
    const server = createServer((c) => {
      c.write(`${c.remoteAddress}\n`);
      c.on('data', (d) => c.end(Buffer.from(d.toString().toUpperCase())));
    });
    await new Promise<void>((r) => server.listen(0, '::1', r));
    const port = (server.address() as AddressInfo).port;
    const g = ipv6Gateway();
    try {
      const s = g.stack.tcpSocket(6, rings());
      expect(s.connect({ addr: gateway6, port })).toBeUndefined();
      await until(g, () => s.state === 'ESTABLISHED');
      expect(s.state).toBe('ESTABLISHED');
      expect(s.local?.addr.toString()).toBe(SANDBOX_ADDRESS6);
      expect(s.send(new TextEncoder().encode('over ipv6'))).toBe(9);
      const buf = new Uint8Array(100);
      let got = '';
      await until(g, () => {
        const n = s.recv(buf);
        if (n !== WOULD_BLOCK && !isError(n)) got += new TextDecoder().decode(buf.subarray(0, n));
        return got.endsWith('OVER IPV6');
      });
      // The host saw a connection from its own ::1, as slirp's outbound connections come.
      expect(got).toBe('::1\nOVER IPV6');
      // fd00::2 resolved by neighbour discovery to the gateway's end of the link.
      const neighbours = g.stack.iface
        .neighborEntries(performance.now())
        .map((e) => [e.address.toString(), e.mac.toString()]);
      expect(neighbours).toEqual([[GATEWAY_ADDRESS6, GATEWAY_MAC]]);
    } finally {
      g.close();
      server.close();
    }
  });

  it('answers a SYN to a closed port of the host ::1 with RST (connection refused)', async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '::1', r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const g = ipv6Gateway();
    try {
      const s = g.stack.tcpSocket(6, rings());
      s.connect({ addr: gateway6, port });
      await until(g, () => s.state === 'CLOSED');
      expect(s.state).toBe('CLOSED');
      expect(s.takeError()?.errno).toBe(111); // ECONNREFUSED
    } finally {
      g.close();
    }
  });

  it('carries UDP to fd00::2 over a host udp6 socket; the reply comes from fd00::2', async () => {
    const server = createSocket('udp6');
    server.on('message', (m, r) =>
      server.send(Buffer.from(`${r.address} ${m.toString()}`), r.port, r.address),
    );
    await new Promise<void>((r) => server.bind(0, '::1', r));
    const port = server.address().port;
    const g = ipv6Gateway();
    try {
      const u = g.stack.udpSocket(6);
      expect(u.sendto(new TextEncoder().encode('ping6'), { addr: gateway6, port })).toBe(5);
      const buf = new Uint8Array(100);
      let reply: { text: string; from: string; port: number } | undefined;
      await until(g, () => {
        const r = u.recvfrom(buf);
        if (r !== WOULD_BLOCK && !isError(r))
          reply = {
            text: new TextDecoder().decode(buf.subarray(0, r.len)),
            from: r.from.addr.toString(),
            port: r.from.port,
          };
        return reply !== undefined;
      });
      expect(reply).toEqual({ text: '::1 ping6', from: GATEWAY_ADDRESS6, port });
    } finally {
      g.close();
      server.close();
    }
  });

  it('-p listens on the host [::1]:HOST too, carried to the sandbox over IPv4', async () => {
    const [tcpHost, udpHost] = [await freePort6(), await freePort6()];
    const g = ipv6Gateway({
      forwards: [
        { host: tcpHost, sandbox: 8000, protocol: 'tcp' },
        { host: udpHost, sandbox: 8001, protocol: 'udp' },
      ],
    });
    try {
      await g.open();
      const l = g.stack.tcpListener(4, rings);
      expect(l.bind({ addr: Ipv4Address.UNSPECIFIED, port: 8000 }) ?? l.listen(4)).toBeUndefined();
      const u = g.stack.udpSocket(4);
      expect(u.bind({ addr: Ipv4Address.UNSPECIFIED, port: 8001 })).toBeUndefined();
      const client = connect({ host: '::1', port: tcpHost });
      let text = '';
      client.on('data', (d) => (text += d.toString()));
      const accepted: TcpSocket[] = [];
      await until(g, () => {
        const c = l.accept();
        if (c !== WOULD_BLOCK && !isError(c)) accepted.push(c);
        return accepted.length > 0;
      });
      const conn = accepted[0]!;
      // The gateway stands for the host's client, as it does for 127.0.0.1.
      expect(conn.remote?.addr.toString()).toBe('10.0.2.2');
      expect(conn.send(new TextEncoder().encode('from the sandbox'))).toBe(16);
      await until(g, () => text.length >= 16);
      expect(text).toBe('from the sandbox');
      client.destroy();

      const host = createSocket('udp6');
      await new Promise<void>((r) => host.bind(0, '::1', r));
      const answered = new Promise<string>((resolve) =>
        host.once('message', (m, r) => resolve(`${r.address} ${m}`)),
      );
      host.send('to the sandbox', udpHost, '::1');
      const buf = new Uint8Array(100);
      let from: { addr: string; port: number } | undefined;
      await until(g, () => {
        const r = u.recvfrom(buf);
        if (r !== WOULD_BLOCK && !isError(r)) {
          expect(new TextDecoder().decode(buf.subarray(0, r.len))).toBe('to the sandbox');
          from = { addr: r.from.addr.toString(), port: r.from.port };
        }
        return from !== undefined;
      });
      expect(from?.addr).toBe('10.0.2.2');
      u.sendto(new TextEncoder().encode('reply'), { addr: Ipv4Address.parse(from!.addr)!, port: from!.port });
      let reply = '';
      void answered.then((r) => (reply = r));
      await until(g, () => reply !== '');
      expect(reply).toBe('::1 reply');
      host.close();
    } finally {
      g.close();
    }
  });

  it('serves DNS on fd00::3 over UDP and TCP: AAAA and A from the resolver, the rest forwarded', async () => {
    const fake = await startFakeDns();
    const g = ipv6Gateway({
      resolver: (name, family) =>
        Promise.resolve(name === 'v6.test' ? (family === 6 ? ['2001:db8::7'] : ['192.0.2.7']) : 'nxdomain'),
      nameservers: { servers: [{ address: '127.0.0.1', port: fake.port }], timeoutMs: 2000, attempts: 1 },
    });
    try {
      const u = g.stack.udpSocket(6);
      const buf = new Uint8Array(70000);
      const udpAsk = async (q: Uint8Array): Promise<Uint8Array | undefined> => {
        expect(u.sendto(q, dns6)).toBe(q.length);
        let reply: Uint8Array | undefined;
        await until(g, () => {
          const r = u.recvfrom(buf);
          if (r !== WOULD_BLOCK && !isError(r)) {
            expect(r.from.addr.toString()).toBe(DNS_ADDRESS6);
            reply = buf.slice(0, r.len);
          }
          return reply !== undefined;
        });
        return reply;
      };
      const aaaa = await udpAsk(makeQuery('v6.test', T.AAAA, 0x0101));
      expect(aaaa).toBeDefined();
      const a6 = parseReply(aaaa!);
      expect([a6.id, a6.rcode, a6.answers.length]).toEqual([0x0101, 0, 1]);
      expect([...aaaa!.subarray(aaaa!.length - 16)]).toEqual([...Ipv6Address.parse('2001:db8::7')!.bytes]);
      const a = await udpAsk(makeQuery('v6.test', T.A, 0x0202));
      expect([...a!.subarray(a!.length - 4)]).toEqual([192, 0, 2, 7]);
      const mx = parseReply((await udpAsk(makeQuery('mx.test', T.MX, 0x0303)))!);
      expect([mx.id, mx.rcode, mx.answers.length]).toEqual([0x0303, 0, 2]);

      // The same server over TCP on fd00::3.
      const t = g.stack.tcpSocket(6, rings());
      expect(t.connect(dns6)).toBeUndefined();
      await until(g, () => t.state === 'ESTABLISHED');
      const q = makeQuery('v6.test', T.AAAA, 0x0404);
      expect(t.send(Uint8Array.from([q.length >> 8, q.length & 0xff, ...q]))).toBe(q.length + 2);
      let got = new Uint8Array(0);
      await until(g, () => {
        const n = t.recv(buf);
        if (n !== WOULD_BLOCK && !isError(n)) got = Uint8Array.from([...got, ...buf.subarray(0, n)]);
        return got.length >= 2 && got.length >= 2 + ((got[0]! << 8) | got[1]!);
      });
      const overTcp = got.subarray(2);
      expect(parseReply(overTcp).id).toBe(0x0404);
      expect([...overTcp.subarray(overTcp.length - 16)]).toEqual([
        ...Ipv6Address.parse('2001:db8::7')!.bytes,
      ]);

      // Another port of fd00::3 is refused (RST), as a host that serves only DNS refuses it.
      const other = g.stack.tcpSocket(6, rings());
      other.connect({ addr: dns6.addr, port: 80 });
      await until(g, () => other.state === 'CLOSED');
      expect(other.takeError()?.errno).toBe(111);
    } finally {
      g.close();
      await fake.close();
    }
  });
});
