// A bulk transfer between two stacks over a (faulty) link, driven on a virtual clock.
import { isError } from '@tsvisor/abi';
import { cidr } from '../iface/interface.js';
import { FaultInjector, seededRandom, type FaultConfig } from '../phy/fault-injector.js';
import type { Device } from '../phy/device.js';
import { linkPair } from '../phy/loopback.js';
import { RingBuffer } from '../storage/ring-buffer.js';
import { settle } from '../stack.test-util.js';
import { Stack } from '../stack.js';
import { Ipv4Address } from '../wire/ip-address.js';
import type { TcpBuffers, TcpConfig, TcpSocket } from './tcp.js';
import { WOULD_BLOCK } from './would-block.js';

export const bufs = (rx = 65536, tx = 65536): TcpBuffers => ({
  rx: new RingBuffer(new Uint8Array(rx)),
  tx: new RingBuffer(new Uint8Array(tx)),
});

/** Moves `total` bytes from a to b (and `back` bytes from b to a) across a faulty link; returns what arrived. */
export function transfer(
  faults: FaultConfig,
  seed: number,
  total: number,
  opts: {
    rxBuf?: number;
    txBuf?: number;
    readChunk?: number;
    back?: number;
    mtu?: number;
    dropFrames?: readonly number[];
    /** The server reads one chunk per step instead of draining (a slow reader). */
    readOnce?: boolean;
    /** TCP tunables of both stacks. */
    tcp?: Partial<TcpConfig>;
  } = {},
): {
  sent: Uint8Array;
  got: Uint8Array;
  gotBack: Uint8Array;
  backSent: Uint8Array;
  elapsed: number;
  client: TcpSocket;
  server: TcpSocket;
  faultsA: FaultInjector['stats'];
} {
  const [da, db] = linkPair({ mtu: opts.mtu ?? 1500 });
  const injectorA = new FaultInjector(
    opts.dropFrames ? new FrameDropper(da, opts.dropFrames) : da,
    faults,
    seed,
  );
  const stackA = new Stack({
    device: injectorA,
    addresses: [cidr('10.0.0.1/24')],
    seed,
    ...(opts.tcp ? { tcp: opts.tcp } : {}),
  });
  const stackB = new Stack({
    device: new FaultInjector(db, faults, seed + 1),
    addresses: [cidr('10.0.0.2/24')],
    seed: seed + 2,
    ...(opts.tcp ? { tcp: opts.tcp } : {}),
  });
  const l = stackB.tcpListener(4, () => bufs(opts.rxBuf ?? 65536));
  l.bind({ addr: Ipv4Address.UNSPECIFIED, port: 5001 });
  l.listen(4);
  const client = stackA.tcpSocket(4, bufs(opts.rxBuf ?? 65536, opts.txBuf ?? 65536));
  client.connect({ addr: Ipv4Address.parse('10.0.0.2')!, port: 5001 });
  const rnd = seededRandom(seed);
  const sent = Uint8Array.from({ length: total }, () => Math.floor(rnd() * 256));
  const backSent = Uint8Array.from({ length: opts.back ?? 0 }, () => Math.floor(rnd() * 256));
  const got = new Uint8Array(total);
  const gotBack = new Uint8Array(backSent.length);
  let server: TcpSocket | undefined;
  let off = 0;
  let recvd = 0;
  let backOff = 0;
  let backRecvd = 0;
  const chunk = new Uint8Array(opts.readChunk ?? 65536);
  let clientClosed = false;
  let serverClosed = false;
  const step = (): boolean => {
    if (!server) {
      const s = l.accept();
      if (s !== WOULD_BLOCK && !isError(s)) server = s;
    }
    if (off < total) {
      const n = client.send(sent.subarray(off));
      if (typeof n === 'number') off += n;
    } else if (!clientClosed && client.isConnected) {
      client.shutdownWrite();
      clientClosed = true;
    }
    if (server) {
      for (;;) {
        const n = server.recv(chunk);
        if (typeof n !== 'number' || n === 0) break;
        got.set(chunk.subarray(0, n), recvd);
        recvd += n;
        if (opts.readOnce) break;
      }
      if (backOff < backSent.length) {
        const n = server.send(backSent.subarray(backOff));
        if (typeof n === 'number') backOff += n;
      } else if (!serverClosed && recvd === total && server.state === 'CLOSE_WAIT') {
        server.close();
        serverClosed = true;
      }
    }
    for (;;) {
      const n = client.recv(chunk);
      if (typeof n !== 'number' || n === 0) break;
      gotBack.set(chunk.subarray(0, n), backRecvd);
      backRecvd += n;
    }
    return (
      serverClosed &&
      (client.state === 'TIME_WAIT' || client.state === 'CLOSED') &&
      backRecvd === backSent.length
    );
  };
  let now = 0;
  let done = false;
  while (!done && now < 3_600_000) {
    const next = settle([stackA, stackB], now);
    done = step();
    const after = settle([stackA, stackB], now);
    if (step()) break;
    const t = [next, after].filter((x): x is number => x !== undefined);
    // Reading or sending above may have created work; otherwise jump to the next deadline.
    // An application reads as soon as data is there: do not jump past unread data.
    const busy = server !== undefined && server.recvQueue > 0;
    now = t.length && !busy ? Math.max(Math.min(...t), now + 1) : now + 1;
  }
  return {
    sent,
    got: got.subarray(0, recvd),
    gotBack: gotBack.subarray(0, backRecvd),
    backSent,
    elapsed: now,
    client,
    server: server!,
    faultsA: injectorA.stats,
  };
}

/** Drops the frames with the given ordinal numbers (0 = the first frame transmitted). */
class FrameDropper implements Device {
  private count = 0;
  constructor(
    private readonly inner: Device,
    private readonly drop: readonly number[],
  ) {}
  get capabilities(): Device['capabilities'] {
    return this.inner.capabilities;
  }
  receive(now: number): Uint8Array | undefined {
    return this.inner.receive(now);
  }
  transmit(now: number, frame: Uint8Array): boolean {
    return this.drop.includes(this.count++) ? true : this.inner.transmit(now, frame);
  }
  pollAt(now: number): number | undefined {
    return this.inner.pollAt?.(now);
  }
}
