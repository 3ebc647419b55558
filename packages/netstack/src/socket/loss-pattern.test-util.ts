// Fixed loss and reordering patterns for loss-recovery tests: a device wrapper that decides the
// fate of each TCP data segment by its ordinal (the first data segment sent is 0), so a test
// says "drop the 5th data segment" or "hold the 3rd back 20 ms" and gets the same run each time.
import { isError } from '@tsvisor/abi';
import { createHash } from 'node:crypto';
import { cidr } from '../iface/interface.js';
import type { Device } from '../phy/device.js';
import { FaultInjector, seededRandom } from '../phy/fault-injector.js';
import { linkPair } from '../phy/loopback.js';
import { settle } from '../stack.test-util.js';
import { Stack } from '../stack.js';
import { isWireError } from '../wire/error.js';
import { Ipv4Address } from '../wire/ip-address.js';
import { Ipv4Packet } from '../wire/ipv4.js';
import { TcpPacket } from '../wire/tcp.js';
import type { TcpConfig, TcpSocket } from './tcp.js';
import { bufs } from './tcp-transfer.test-util.js';
import { WOULD_BLOCK } from './would-block.js';

/** What happens to one data segment: sent as is, lost, sent twice, or delivered `delay` ms late. */
export type Fate = 'pass' | 'drop' | 'duplicate' | { readonly delay: number };

/** A TCP data segment seen on the wire: its ordinal among data segments, SEQ and length. */
export interface DataSegment {
  readonly index: number;
  readonly seq: number;
  readonly len: number;
  /** When it was sent. */
  readonly at: number;
}

/** The TCP payload facts of a bare IPv4 frame, if it carries TCP data. */
export function tcpData(frame: Uint8Array): { seq: number; len: number } | undefined {
  const ip = Ipv4Packet.checked(frame);
  if (isWireError(ip) || ip.protocol !== 6) return undefined;
  const tcp = TcpPacket.checked(ip.payload);
  if (isWireError(tcp) || tcp.payload.length === 0) return undefined;
  return { seq: tcp.seqNumber, len: tcp.payload.length };
}

/**
 * Wraps the sending end of a link: every data segment transmitted goes through `fate`; other
 * frames (ACKs, SYNs) pass untouched. `log` lists the data segments in sending order.
 */
export class PatternDevice implements Device {
  private held: { at: number; frame: Uint8Array }[] = [];
  private count = 0;
  readonly log: DataSegment[] = [];

  constructor(
    private readonly inner: Device,
    private readonly fate: (seg: DataSegment) => Fate,
  ) {}

  get capabilities(): Device['capabilities'] {
    return this.inner.capabilities;
  }

  receive(now: number): Uint8Array | undefined {
    this.release(now);
    return this.inner.receive(now);
  }

  transmit(now: number, frame: Uint8Array): boolean {
    this.release(now);
    const d = tcpData(frame);
    if (!d) return this.inner.transmit(now, frame);
    const seg = { index: this.count++, ...d, at: now };
    this.log.push(seg);
    const f = this.fate(seg);
    if (f === 'drop') return true;
    if (f === 'pass') return this.inner.transmit(now, frame);
    if (f === 'duplicate') return this.inner.transmit(now, frame.slice()) && this.inner.transmit(now, frame);
    this.held.push({ at: now + f.delay, frame });
    this.held.sort((a, b) => a.at - b.at);
    return true;
  }

  pollAt(now: number): number | undefined {
    const inner = this.inner.pollAt?.(now);
    const mine = this.held[0]?.at;
    if (mine === undefined) return inner;
    return inner === undefined ? mine : Math.min(inner, mine);
  }

  private release(now: number): void {
    while (this.held.length > 0 && this.held[0]!.at <= now)
      this.inner.transmit(now, this.held.shift()!.frame);
  }
}

/** What {@link patternTransfer} saw. */
export interface PatternRun {
  readonly client: TcpSocket;
  readonly server: TcpSocket;
  readonly device: PatternDevice;
  /** SHA-256 of what was sent and of what arrived. */
  readonly sentHash: string;
  readonly gotHash: string;
  /** When the last byte was read (ms of the virtual clock). */
  readonly elapsed: number;
}

/**
 * Sends `total` bytes from a client on stack A to a server on stack B over a link with `delay`
 * ms each way (so the RTT is twice that); A's data segments meet `fate`. The client closes
 * once everything is queued; the run ends when the server has read it all.
 */
export function patternTransfer(
  fate: (seg: DataSegment) => Fate,
  total: number,
  opts: {
    delay?: number;
    tcp?: Partial<TcpConfig>;
    seed?: number;
    rx?: number;
    /** The client stack's sysctls that differ from the defaults. */
    sysctl?: Partial<Stack['sysctl']>;
    /** Called at each step of the virtual clock (to watch the sender). */
    onStep?: (now: number, client: TcpSocket) => void;
  } = {},
): PatternRun {
  const [da, db] = linkPair();
  const delay = opts.delay ?? 10;
  const device = new PatternDevice(new FaultInjector(da, { delay }), fate);
  const seed = opts.seed ?? 5;
  const tcp = opts.tcp ? { tcp: opts.tcp } : {};
  const a = new Stack({ device, addresses: [cidr('10.0.0.1/24')], seed, ...tcp });
  const b = new Stack({
    device: new FaultInjector(db, { delay }),
    addresses: [cidr('10.0.0.2/24')],
    seed: seed + 1,
    ...tcp,
  });
  Object.assign(a.sysctl, opts.sysctl);
  const l = b.tcpListener(4, () => bufs(opts.rx ?? 1 << 20));
  l.bind({ addr: Ipv4Address.UNSPECIFIED, port: 5001 });
  l.listen(4);
  const client = a.tcpSocket(4, bufs(65536, 1 << 20));
  client.connect({ addr: Ipv4Address.parse('10.0.0.2')!, port: 5001 });
  const rnd = seededRandom(seed);
  const sent = Uint8Array.from({ length: total }, () => Math.floor(rnd() * 256));
  const got = new Uint8Array(total);
  const chunk = new Uint8Array(65536);
  let server: TcpSocket | undefined;
  let off = 0;
  let recvd = 0;
  let now = 0;
  let doneAt: number | undefined;
  while (recvd < total && now < 600_000) {
    const next = settle([a, b], now);
    if (!server) {
      const s = l.accept();
      if (s !== WOULD_BLOCK && !isError(s)) server = s;
    }
    if (off < total) {
      const n = client.send(sent.subarray(off));
      if (typeof n === 'number') off += n;
      if (off === total) client.shutdownWrite();
    }
    if (server)
      for (;;) {
        const n = server.recv(chunk);
        if (typeof n !== 'number' || n === 0) break;
        got.set(chunk.subarray(0, n), recvd);
        recvd += n;
        if (recvd === total) doneAt = now;
      }
    const after = settle([a, b], now);
    opts.onStep?.(now, client);
    const t = [next, after].filter((x): x is number => x !== undefined && x > now);
    now = t.length > 0 ? Math.min(...t) : now + 1;
  }
  const hash = (d: Uint8Array): string => createHash('sha256').update(d).digest('hex');
  if (!server) throw new Error('never connected');
  return {
    client,
    server,
    device,
    sentHash: hash(sent),
    gotHash: hash(got.subarray(0, recvd)),
    elapsed: doneAt ?? now,
  };
}
