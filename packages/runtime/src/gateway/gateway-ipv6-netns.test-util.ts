// Run by gateway-ipv6-netns.test.ts in a network namespace of its own, through
// testdata/ts-loader.mjs, where HOST6 (argv[2]) is an address of this namespace's host side:
// servers there, and an IPv6 gateway whose sandbox-side stack connects to them. Prints one line
// per check.
import { createSocket } from 'node:dgram';
import { createServer, type AddressInfo } from 'node:net';
import { isError } from '@tsvisor/abi';
import { Ipv6Address, RingBuffer, WOULD_BLOCK } from '@tsvisor/netstack';
import { Gateway } from './gateway.js';

const host6 = process.argv[2]!;
const addr = Ipv6Address.parse(host6)!;
const rings = () => ({
  rx: new RingBuffer(new Uint8Array(1 << 16)),
  tx: new RingBuffer(new Uint8Array(1 << 16)),
});

const server = createServer((c) => c.end(`hello ${c.remoteAddress}`));
await new Promise<void>((r) => server.listen(0, host6, r));
const udp = createSocket('udp6');
udp.on('message', (m, r) => udp.send(Buffer.from(`${r.address} ${m.toString()}`), r.port, r.address));
await new Promise<void>((r) => udp.bind(0, host6, r));
const closed = createServer();
await new Promise<void>((r) => closed.listen(0, host6, r));
const closedPort = (closed.address() as AddressInfo).port;
await new Promise<void>((r) => closed.close(() => r()));

const g = new Gateway({ ipv6: true });
g.kickSandbox = () => void g.stack.poll(performance.now());
async function until(done: () => boolean): Promise<void> {
  const end = Date.now() + 5000;
  while (!done() && Date.now() < end) {
    g.stack.poll(performance.now());
    await new Promise((r) => setTimeout(r, 2));
  }
}
const buf = new Uint8Array(200);

const s = g.stack.tcpSocket(6, rings());
s.connect({ addr, port: (server.address() as AddressInfo).port });
let got = '';
await until(() => {
  const n = s.recv(buf);
  if (n !== WOULD_BLOCK && !isError(n)) got += new TextDecoder().decode(buf.subarray(0, n));
  return n === 0;
});
console.log(`tcp ${got}`);

const u = g.stack.udpSocket(6);
u.sendto(new TextEncoder().encode('ping'), { addr, port: udp.address().port });
let reply = '';
await until(() => {
  const r = u.recvfrom(buf);
  if (r !== WOULD_BLOCK && !isError(r))
    reply = `${new TextDecoder().decode(buf.subarray(0, r.len))} from ${r.from.addr.toString()}`;
  return reply !== '';
});
console.log(`udp ${reply}`);

const refused = g.stack.tcpSocket(6, rings());
refused.connect({ addr, port: closedPort });
await until(() => refused.state === 'CLOSED');
console.log(`closed port ${refused.state} errno ${refused.takeError()?.errno}`);

g.close();
server.close();
udp.close();
