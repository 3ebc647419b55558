// Interop with the real Linux stack over a TAP device, in a network namespace this test creates
// (and ends): a C helper owns the TAP and relays frames to a StreamDevice; Linux pings the
// stack (ICMP, and ICMPv6 after NDP), and TCP moves megabytes both ways and an HTTP response,
// checked by SHA-256, while a fault injector drops and reorders frames on netstack's side.
import { isError } from '@tsvisor/abi';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cidr } from '../iface/interface.js';
import type { TcpSocket } from '../socket/tcp.js';
import { WOULD_BLOCK } from '../socket/would-block.js';
import { Stack } from '../stack.js';
import { EthernetAddress } from '../wire/ethernet.js';
import { Ipv4Address, Ipv6Address } from '../wire/ip-address.js';
import { FaultInjector, seededRandom } from './fault-injector.js';
import {
  HashingReceiver,
  openTapNetns,
  pythonHashingClient,
  pythonHashingServer,
  rings,
  sha256,
  type TapNetns,
} from './tap-netns.test-util.js';

const IF = 'tsv0';
let net: TapNetns;
let stack: Stack;
let faults: FaultInjector;
const drive = (done: () => boolean, limit?: number): Promise<void> => net.drive(done, limit);
const inNs = (cmd: string[], limit?: number): Promise<string> => net.inNs(cmd, limit);

beforeAll(async () => {
  net = await openTapNetns({
    ifname: IF,
    addresses: ['10.9.0.1/24', 'fd09::1/64'],
    tmpPrefix: 'tsvisor-tap-',
  });
  // Faults on netstack's side: 1% of frames each way lost, 2% held back behind later ones.
  faults = new FaultInjector(net.device, { drop: 0.01, reorder: 0.02, reorderDelay: 3 }, 606);
  stack = new Stack({
    device: faults,
    addresses: [cidr('10.9.0.2/24'), cidr('fd09::2/64')],
    hardwareAddress: EthernetAddress.parse('02:00:00:00:09:02')!,
    ipv6LinkLocal: true,
    seed: 6,
  });
  net.attach(stack);
}, 30_000);

afterAll(() => net?.close());

describe('netstack behind a TAP, against the Linux stack', () => {
  it('Linux pings the stack over IPv4 (ARP) and IPv6 (NDP)', async () => {
    const v4 = await inNs(['busybox', 'ping', '-A', '-c', '3', '-W', '5', '10.9.0.2']);
    expect(v4).toMatch(/3 packets transmitted, 3 packets received/);
    const v6 = await inNs(['busybox', 'ping6', '-A', '-c', '3', '-W', '5', 'fd09::2']);
    expect(v6).toMatch(/3 packets transmitted, 3 packets received/);
    // Our link-local address (modified EUI-64 of 02:00:00:00:09:02) answers too.
    const ll = await inNs(['busybox', 'ping6', '-A', '-c', '2', '-W', '5', '-I', IF, 'fe80::ff:fe00:902']);
    expect(ll).toMatch(/2 packets transmitted, 2 packets received/);
    // Linux learned our MAC through our advertisement.
    const neigh = await inNs(['ip', '-6', 'neigh', 'show', 'fd09::2']);
    expect(neigh).toContain('02:00:00:00:09:02');
  }, 60_000);

  it('bulk TCP from Linux to netstack: 2 MiB arrive intact (SHA-256)', async () => {
    const l = stack.tcpListener(4, rings);
    l.bind({ addr: Ipv4Address.UNSPECIFIED, port: 5001 });
    l.listen(4);
    const client = inNs(pythonHashingClient('10.9.0.2', 5001, 2 << 20));
    const rx = new HashingReceiver(l);
    const done = client.then((out) => out.trim());
    let result: string | undefined;
    void done.then((h) => (result = h));
    // netstack sends only ACKs here, and few of them (one per read of what arrived, as Linux
    // does): a fifth of them lost, a tenth held back.
    const usual = faults.config;
    const before = faults.stats.dropped;
    faults.config = { drop: 0.2, reorder: 0.1, reorderDelay: 3 };
    try {
      await drive(() => (rx.pump(), result !== undefined), 60_000);
    } finally {
      faults.config = usual;
    }
    expect(rx.total).toBe(2 << 20);
    expect(rx.digest()).toBe(result);
    expect(faults.stats.dropped).toBeGreaterThan(before); // the faults really happened
    l.close();
  }, 90_000);

  it('bulk TCP from netstack to Linux: 2 MiB arrive intact (SHA-256), with SACK and timestamps negotiated', async () => {
    const server = inNs(pythonHashingServer('10.9.0.1', 5002));
    let result: string | undefined;
    void server.then((o) => (result = o));
    const rnd = seededRandom(42);
    const data = Uint8Array.from({ length: 2 << 20 }, () => Math.floor(rnd() * 256));
    // The listener may not be up yet: a refused connection is retried on a fresh socket.
    const c = await net.connect({ addr: Ipv4Address.parse('10.9.0.1')!, port: 5002 });
    expect(c.negotiated).toMatchObject({ sack: true, timestamps: true, windowScaling: true });
    let off = 0;
    await drive(() => {
      if (off < data.length) {
        const n = c.send(data.subarray(off));
        if (typeof n === 'number') off += n;
        if (off === data.length) c.shutdownWrite();
      }
      return result !== undefined;
    }, 60_000);
    const lines = result!.trim().split('\n');
    expect(lines.at(-1)).toBe(`${data.length} ${sha256(data)}`);
    expect(c.info().state).toBeGreaterThan(0);
  }, 90_000);

  it('netstack fetches a file from python -m http.server over HTTP intact (SHA-256)', async () => {
    const rnd = seededRandom(11);
    const file = Uint8Array.from({ length: 500_000 }, () => Math.floor(rnd() * 256));
    const www = mkdtempSync(join(net.dir, 'www-'));
    writeFileSync(join(www, 'blob'), file);
    const server = net.netns.spawn([
      'python3',
      '-m',
      'http.server',
      '8000',
      '--bind',
      '10.9.0.1',
      '--directory',
      www,
    ]);
    try {
      const c = await net.connect({ addr: Ipv4Address.parse('10.9.0.1')!, port: 8000 });
      const get = new TextEncoder().encode('GET /blob HTTP/1.0\r\nHost: 10.9.0.1\r\n\r\n');
      expect(c.send(get)).toBe(get.length);
      const chunks: Uint8Array[] = [];
      let eof = false;
      const buf = new Uint8Array(65536);
      await drive(() => {
        for (;;) {
          const n = c.recv(buf);
          if (typeof n !== 'number') break;
          if (n === 0) {
            eof = true;
            break;
          }
          chunks.push(buf.slice(0, n));
        }
        return eof;
      }, 30_000);
      const all = Buffer.concat(chunks);
      const split = all.indexOf('\r\n\r\n');
      expect(all.subarray(0, split).toString()).toMatch(/^HTTP\/1\.0 200 OK/);
      expect(sha256(all.subarray(split + 4))).toBe(sha256(file));
      c.close();
    } finally {
      server.kill();
    }
  }, 90_000);

  it('an HTTP response over IPv6 reaches curl intact (SHA-256)', async () => {
    const rnd = seededRandom(7);
    const body = Uint8Array.from({ length: 300_000 }, () => Math.floor(rnd() * 256));
    const l = stack.tcpListener(6, rings);
    l.bind({ addr: Ipv6Address.UNSPECIFIED, port: 8080 });
    l.listen(4);
    const curl = inNs(['sh', '-c', 'curl -s -g "http://[fd09::2]:8080/file" | sha256sum']);
    let result: string | undefined;
    void curl.then((o) => (result = o));
    let conn: TcpSocket | undefined;
    let request = '';
    let response: Uint8Array | undefined;
    let sent = 0;
    const buf = new Uint8Array(4096);
    await drive(() => {
      if (!conn) {
        const s = l.accept();
        if (s !== WOULD_BLOCK && !isError(s)) conn = s;
      }
      if (conn && !response) {
        const n = conn.recv(buf);
        if (typeof n === 'number' && n > 0) request += new TextDecoder().decode(buf.subarray(0, n));
        if (request.includes('\r\n\r\n')) {
          expect(request.startsWith('GET /file HTTP/1.1\r\n')).toBe(true);
          const head = new TextEncoder().encode(
            `HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`,
          );
          response = new Uint8Array(head.length + body.length);
          response.set(head);
          response.set(body, head.length);
        }
      }
      if (conn && response && sent < response.length) {
        const n = conn.send(response.subarray(sent));
        if (typeof n === 'number') sent += n;
        if (sent === response.length) conn.close();
      }
      return result !== undefined;
    }, 60_000);
    expect(result!.split(' ')[0]).toBe(sha256(body));
    l.close();
  }, 90_000);
});
