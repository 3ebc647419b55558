// Host-side peers for the network-mode tests, on the host's loopback only.
import { connect, createServer, type AddressInfo } from 'node:net';
import { createSocket } from 'node:dgram';

/** A port nothing listens on right now (the kernel's choice, then closed). */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** A TCP echo server and a UDP server that answers in capitals, on 127.0.0.1. */
export interface EchoServers {
  readonly tcpPort: number;
  readonly udpPort: number;
  close(): void;
}

/** Starts {@link EchoServers}. */
export async function startEchoServers(): Promise<EchoServers> {
  const tcp = createServer((c) => c.pipe(c));
  await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', r));
  const udp = createSocket('udp4');
  udp.on('message', (m, r) => udp.send(Buffer.from(m.toString().toUpperCase()), r.port, r.address));
  await new Promise<void>((r) => udp.bind(0, '127.0.0.1', r));
  return {
    tcpPort: (tcp.address() as AddressInfo).port,
    udpPort: udp.address().port,
    close: () => {
      tcp.close();
      udp.close();
    },
  };
}

/** Sends `data` to a TCP server on 127.0.0.1:`port`, half-closes, and returns all it sent back. */
export function tcpRoundTrip(port: number, data: Buffer): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const c = connect(port, '127.0.0.1');
    const parts: Buffer[] = [];
    c.on('data', (d) => parts.push(d));
    c.on('end', () => resolve(Buffer.concat(parts)));
    c.on('error', reject);
    c.end(data);
  });
}

/** Sends one datagram to 127.0.0.1:`port` and returns the first reply as text. */
export async function udpRoundTrip(port: number, text: string): Promise<string> {
  const u = createSocket('udp4');
  try {
    return await new Promise<string>((resolve) => {
      u.on('message', (m) => resolve(m.toString()));
      u.send(text, port, '127.0.0.1');
    });
  } finally {
    u.close();
  }
}
