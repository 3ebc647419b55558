// Spurious timeouts against the real Linux stack, over a TAP in a network namespace this test
// creates (and deletes): a delay spike on netstack's side of the link (every frame it sends
// held past the sender's RTO, then released in order) must be recognised as a delay, both when
// netstack sends (our Eifel detection reads Linux's timestamp echoes) and when Linux sends (Linux's
// own detection reads ours: its TcpExt TCPLossUndo counts it). Transfers are checked by SHA-256.
import { isError } from '@tsvisor/abi';
import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cidr } from '../iface/interface.js';
import type { Device } from '../phy/device.js';
import { seededRandom } from '../phy/fault-injector.js';
import { StreamDevice } from '../phy/stream-device.js';
import { Stack } from '../stack.js';
import { RingBuffer } from '../storage/ring-buffer.js';
import { EthernetAddress } from '../wire/ethernet.js';
import { Ipv4Address } from '../wire/ip-address.js';
import type { TcpSocket } from './tcp.js';
import { WOULD_BLOCK } from './would-block.js';

const NS = `tsvfrto-${process.pid}`;
const IF = 'tsv1';
const SPIKE = 450; // past a first RTO of about 200 ms, short of the second (about 600 ms)
const dir = mkdtempSync(join(tmpdir(), 'tsvisor-frto-'));
let relay: ChildProcessWithoutNullStreams | undefined;
let stack: Stack;
let spike: SpikeDevice;
const t0 = performance.now();
const clock = (): number => performance.now() - t0;
const rings = (): { rx: RingBuffer; tx: RingBuffer } => ({
  rx: new RingBuffer(new Uint8Array(256 * 1024)),
  tx: new RingBuffer(new Uint8Array(256 * 1024)),
});
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** Holds every frame sent during a spike and then sends them all, in order. */
class SpikeDevice implements Device {
  private held: Uint8Array[] = [];
  private until = -Infinity;
  constructor(private readonly inner: Device) {}
  get capabilities(): Device['capabilities'] {
    return this.inner.capabilities;
  }
  hold(now: number, ms: number): void {
    this.until = now + ms;
  }
  receive(now: number): Uint8Array | undefined {
    this.release(now);
    return this.inner.receive(now);
  }
  transmit(now: number, frame: Uint8Array): boolean {
    this.release(now);
    if (now >= this.until) return this.inner.transmit(now, frame);
    this.held.push(frame);
    return true;
  }
  pollAt(now: number): number | undefined {
    const inner = this.inner.pollAt?.(now);
    if (this.held.length === 0) return inner;
    return inner === undefined ? this.until : Math.min(inner, this.until);
  }
  private release(now: number): void {
    if (now < this.until || this.held.length === 0) return;
    for (const f of this.held) this.inner.transmit(now, f);
    this.held = [];
  }
}

/** Polls the stack on the real clock until `done()`, for at most `limit` ms. */
async function drive(done: () => boolean, limit = 30_000): Promise<void> {
  const end = clock() + limit;
  while (!done()) {
    if (clock() > end) throw new Error('timed out');
    stack.poll(clock());
    await sleep(1);
  }
  stack.poll(clock());
}

/** Starts a command in the namespace; the promise resolves with its stdout once it exits 0. */
function inNs(cmd: string[]): Promise<string> {
  const p = spawn('ip', ['netns', 'exec', NS, ...cmd]);
  let out = '';
  let err = '';
  p.stdout.on('data', (d: Buffer) => (out += d.toString()));
  p.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) =>
    p.on('exit', (c) => (c === 0 ? resolve(out) : reject(new Error(`${cmd.join(' ')} exited ${c}: ${err}`)))),
  );
}

/** Linux's TcpExt counters in the namespace (/proc/net/netstat). */
function linuxTcpExt(): Record<string, number> {
  const text = execFileSync('ip', ['netns', 'exec', NS, 'cat', '/proc/net/netstat']).toString();
  const lines = text.split('\n').filter((l) => l.startsWith('TcpExt:'));
  const names = lines[0]!.split(/\s+/).slice(1);
  const values = lines[1]!.split(/\s+/).slice(1).map(Number);
  return Object.fromEntries(names.map((n, i) => [n, values[i]!]));
}

beforeAll(async () => {
  const bin = join(dir, 'tap-relay');
  execFileSync('gcc', ['-O2', '-w', '-o', bin, join(import.meta.dirname, '../phy/tap-relay.test-util.c')]);
  execFileSync('ip', ['netns', 'add', NS]);
  relay = spawn('ip', ['netns', 'exec', NS, bin, IF]);
  const dev = new StreamDevice({ medium: 'ethernet', mtu: 1500 }, (b) => relay!.stdin.write(b));
  let ready = false;
  relay.stdout.on('data', (chunk: Buffer) => {
    ready = true;
    dev.feed(chunk);
    stack?.poll(clock());
  });
  while (!ready) await sleep(5);
  execFileSync('ip', [
    'netns',
    'exec',
    NS,
    'sh',
    '-c',
    `ip link set lo up && ip link set ${IF} up && ip addr add 10.8.0.1/24 dev ${IF}`,
  ]);
  spike = new SpikeDevice(dev);
  stack = new Stack({
    device: spike,
    addresses: [cidr('10.8.0.2/24')],
    hardwareAddress: EthernetAddress.parse('02:00:00:00:08:02')!,
    seed: 8,
  });
}, 30_000);

afterAll(() => {
  relay?.stdin.end();
  relay?.kill();
  try {
    execFileSync('ip', ['netns', 'del', NS]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

describe('a delay spike longer than the RTO, against Linux', () => {
  it('netstack sending: the timeout is undone by Linux echoing the originals’ timestamps', async () => {
    const server = inNs([
      'python3',
      '-c',
      'import socket,hashlib\n' +
        'l=socket.socket(); l.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\n' +
        'l.bind(("10.8.0.1",5003)); l.listen(1); print("listening",flush=True)\n' +
        'c,_=l.accept(); h=hashlib.sha256(); n=0\n' +
        'while True:\n' +
        '  b=c.recv(65536)\n' +
        '  if not b: break\n' +
        '  h.update(b); n+=len(b)\n' +
        'print(n,h.hexdigest())',
    ]);
    let result: string | undefined;
    void server.then((o) => (result = o));
    const rnd = seededRandom(43);
    const data = Uint8Array.from({ length: 2 << 20 }, () => Math.floor(rnd() * 256));
    const dst = { addr: Ipv4Address.parse('10.8.0.1')!, port: 5003 };
    let c = stack.tcpSocket(4, rings());
    c.connect(dst);
    await drive(() => {
      if (c.state === 'CLOSED') {
        c.close(); // refused while python starts: try again on a fresh socket
        c = stack.tcpSocket(4, rings());
        c.connect(dst);
      }
      return c.state === 'ESTABLISHED';
    }, 20_000);
    expect(c.negotiated).toMatchObject({ sack: true, timestamps: true });
    let off = 0;
    let spiked = false;
    await drive(() => {
      if (off < data.length) {
        const n = c.send(data.subarray(off));
        if (typeof n === 'number') off += n;
        if (off === data.length) c.shutdownWrite();
      }
      if (!spiked && off > 1 << 20) {
        spiked = true;
        spike.hold(clock(), SPIKE);
      }
      return result !== undefined;
    }, 60_000);
    expect(result!.trim().split('\n').at(-1)).toBe(`${data.length} ${sha256(data)}`);
    // At least: a stall of this busy machine's event loop may add a spurious timeout of its own.
    expect(c.stats.timeouts).toBeGreaterThanOrEqual(1);
    expect(c.stats.lossUndos).toBeGreaterThanOrEqual(1);
    expect(stack.mib.tcpExt.TCPLossUndo).toBe(c.stats.lossUndos);
  }, 90_000);

  it('Linux sending while our ACKs are held: Linux undoes its timeout by our timestamps', async () => {
    // A receive buffer larger than the data: the window never closes, so Linux's data stays
    // outstanding (an RTO, not a zero-window probe) while our ACKs are held.
    const l = stack.tcpListener(4, () => ({
      rx: new RingBuffer(new Uint8Array(4 << 20)),
      tx: new RingBuffer(new Uint8Array(65536)),
    }));
    l.bind({ addr: Ipv4Address.UNSPECIFIED, port: 5004 });
    l.listen(4);
    const before = linuxTcpExt();
    const client = inNs([
      'python3',
      '-c',
      'import socket,os,hashlib\n' +
        'd=os.urandom(3<<20)\n' +
        's=socket.create_connection(("10.8.0.2",5004))\n' +
        's.sendall(d); s.shutdown(socket.SHUT_WR)\n' +
        'assert s.recv(1)==b""\n' +
        'print(hashlib.sha256(d).hexdigest())',
    ]);
    let result: string | undefined;
    void client.then((o) => (result = o.trim()));
    let server: TcpSocket | undefined;
    const hash = createHash('sha256');
    let total = 0;
    let eof = false;
    let spiked = false;
    const buf = new Uint8Array(65536);
    await drive(() => {
      if (!server) {
        const s = l.accept();
        if (s !== WOULD_BLOCK && !isError(s)) server = s;
      }
      while (server && !eof) {
        const n = server.recv(buf);
        if (n === WOULD_BLOCK || isError(n)) break;
        if (n === 0) {
          eof = true;
          server.close();
        } else {
          hash.update(buf.subarray(0, n));
          total += n;
        }
      }
      if (!spiked && total > 1 << 20) {
        spiked = true;
        spike.hold(clock(), SPIKE);
      }
      return result !== undefined;
    }, 60_000);
    expect(total).toBe(3 << 20);
    expect(hash.digest('hex')).toBe(result);
    const after = linuxTcpExt();
    expect(after['TCPTimeouts']! - before['TCPTimeouts']!).toBeGreaterThanOrEqual(1);
    expect(after['TCPLossUndo']! - before['TCPLossUndo']!).toBeGreaterThanOrEqual(1);
    l.close();
  }, 90_000);
});
