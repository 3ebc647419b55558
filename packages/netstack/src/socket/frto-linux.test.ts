// Spurious timeouts against the real Linux stack, over a TAP in a network namespace this test
// creates (and ends): a delay spike on netstack's side of the link (every frame it sends
// held past the sender's RTO, then released in order) must be recognised as a delay, both when
// netstack sends (our Eifel detection reads Linux's timestamp echoes) and when Linux sends (Linux's
// own detection reads ours: its TcpExt TCPLossUndo counts it). Transfers are checked by SHA-256.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cidr } from '../iface/interface.js';
import type { Device } from '../phy/device.js';
import { seededRandom } from '../phy/fault-injector.js';
import {
  HashingReceiver,
  openTapNetns,
  pythonHashingClient,
  pythonHashingServer,
  sha256,
  type TapNetns,
} from '../phy/tap-netns.test-util.js';
import { Stack } from '../stack.js';
import { RingBuffer } from '../storage/ring-buffer.js';
import { EthernetAddress } from '../wire/ethernet.js';
import { Ipv4Address } from '../wire/ip-address.js';

const SPIKE = 450; // past a first RTO of about 200 ms, short of the second (about 600 ms)
let net: TapNetns;
let stack: Stack;
let spike: SpikeDevice;

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

/** Linux's TcpExt counters in the namespace (/proc/net/netstat). */
function linuxTcpExt(): Record<string, number> {
  const text = net.netns.run(['cat', '/proc/net/netstat']);
  const lines = text.split('\n').filter((l) => l.startsWith('TcpExt:'));
  const names = lines[0]!.split(/\s+/).slice(1);
  const values = lines[1]!.split(/\s+/).slice(1).map(Number);
  return Object.fromEntries(names.map((n, i) => [n, values[i]!]));
}

beforeAll(async () => {
  net = await openTapNetns({
    ifname: 'tsv1',
    addresses: ['10.8.0.1/24'],
    tmpPrefix: 'tsvisor-frto-',
  });
  spike = new SpikeDevice(net.device);
  stack = new Stack({
    device: spike,
    addresses: [cidr('10.8.0.2/24')],
    hardwareAddress: EthernetAddress.parse('02:00:00:00:08:02')!,
    seed: 8,
  });
  net.attach(stack);
}, 30_000);

afterAll(() => net?.close());

describe('a delay spike longer than the RTO, against Linux', () => {
  it('netstack sending: the timeout is undone by Linux echoing the originals’ timestamps', async () => {
    const server = net.spawnInNs(pythonHashingServer('10.8.0.1', 5003));
    let result: string | undefined;
    void server.then((o) => (result = o));
    const rnd = seededRandom(43);
    const data = Uint8Array.from({ length: 2 << 20 }, () => Math.floor(rnd() * 256));
    const c = await net.connect({ addr: Ipv4Address.parse('10.8.0.1')!, port: 5003 });
    expect(c.negotiated).toMatchObject({ sack: true, timestamps: true });
    let off = 0;
    let spiked = false;
    await net.drive(() => {
      if (off < data.length) {
        const n = c.send(data.subarray(off));
        if (typeof n === 'number') off += n;
        if (off === data.length) c.shutdownWrite();
      }
      if (!spiked && off > 1 << 20) {
        spiked = true;
        spike.hold(net.clock(), SPIKE);
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
    const client = net.spawnInNs(pythonHashingClient('10.8.0.2', 5004, 3 << 20));
    let result: string | undefined;
    void client.then((o) => (result = o.trim()));
    const rx = new HashingReceiver(l);
    let spiked = false;
    await net.drive(() => {
      rx.pump();
      if (!spiked && rx.total > 1 << 20) {
        spiked = true;
        spike.hold(net.clock(), SPIKE);
      }
      return result !== undefined;
    }, 60_000);
    expect(rx.total).toBe(3 << 20);
    expect(rx.digest()).toBe(result);
    const after = linuxTcpExt();
    expect(after['TCPTimeouts']! - before['TCPTimeouts']!).toBeGreaterThanOrEqual(1);
    expect(after['TCPLossUndo']! - before['TCPLossUndo']!).toBeGreaterThanOrEqual(1);
    l.close();
  }, 90_000);
});
