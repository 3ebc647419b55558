// linkPair's checksumOffload: two stacks in one process leave TCP checksums unfilled and unchecked,
// as a veth with offloads does, while a copy of a frame (what a fault injector or tap makes) is
// checked as usual.
import { isError } from '@tsvisor/abi';
import { describe, expect, it } from 'vitest';
import {
  cidr,
  internetChecksum,
  Ipv4Address,
  linkPair,
  RingBuffer,
  Stack,
  WOULD_BLOCK,
  type Device,
} from '../index.js';
import { runUntil } from '../stack.test-util.js';

/** A device that records the frames it transmits and, when `copy`, sends copies instead. */
function recording(inner: Device, sent: Uint8Array[], copy: () => boolean): Device {
  const d: Device = {
    capabilities: inner.capabilities,
    receive: (now) => inner.receive(now),
    transmit: (now, frame) => {
      const f = copy() ? frame.slice() : frame;
      sent.push(f);
      return inner.transmit(now, f);
    },
    pollAt: (now) => inner.pollAt?.(now),
  };
  if (inner.markOffloaded && inner.takeOffloaded) {
    d.markOffloaded = inner.markOffloaded.bind(inner);
    d.takeOffloaded = inner.takeOffloaded.bind(inner);
  }
  return d;
}

/** Whether an IPv4 TCP frame's checksum (over the pseudo-header) is right. */
function tcpChecksumOk(ip: Uint8Array): boolean {
  const hl = (ip[0]! & 0x0f) * 4;
  const len = ((ip[2]! << 8) | ip[3]!) - hl;
  const pseudo = new Uint8Array(12 + len);
  pseudo.set(ip.subarray(12, 20), 0);
  pseudo[9] = 6;
  pseudo[10] = len >> 8;
  pseudo[11] = len & 0xff;
  pseudo.set(ip.subarray(hl, hl + len), 12);
  return internetChecksum(pseudo, 0, pseudo.length) === 0;
}

function transfer(offload: boolean, copyAfter = Infinity): { got: number; sent: Uint8Array[] } {
  const [da, db] = linkPair({ medium: 'ip', mtu: 1500, checksumOffload: offload });
  const sent: Uint8Array[] = [];
  let frames = 0;
  const a = new Stack({
    device: recording(da, sent, () => ++frames > copyAfter),
    addresses: [cidr('10.0.0.1/24')],
    seed: 1,
  });
  const b = new Stack({ device: db, addresses: [cidr('10.0.0.2/24')], seed: 2 });
  const rings = () => ({
    rx: new RingBuffer(new Uint8Array(65536)),
    tx: new RingBuffer(new Uint8Array(65536)),
  });
  const l = b.tcpListener(4, rings);
  l.bind({ addr: Ipv4Address.UNSPECIFIED, port: 80 });
  l.listen(4);
  const c = a.tcpSocket(4, rings());
  c.connect({ addr: Ipv4Address.parse('10.0.0.2')!, port: 80 });
  const data = new Uint8Array(20000).fill(7);
  let got = 0;
  let server: ReturnType<typeof l.accept> = WOULD_BLOCK;
  const buf = new Uint8Array(65536);
  const now = runUntil([a, b], 0, () => c.state === 'ESTABLISHED', 5000);
  c.send(data);
  runUntil(
    [a, b],
    now + 1,
    () => {
      if (server === WOULD_BLOCK) server = l.accept();
      if (server !== WOULD_BLOCK && !isError(server)) {
        const n = server.recv(buf);
        if (typeof n === 'number') got += n;
      }
      return got >= data.length;
    },
    3000,
  );
  return { got, sent };
}

describe('linkPair checksumOffload', () => {
  it('carries TCP with unfilled checksums between two stacks that trust each other', () => {
    const { got, sent } = transfer(true);
    expect(got).toBe(20000);
    const tcp = sent.filter((f) => f[9] === 6);
    expect(tcp.length).toBeGreaterThan(5);
    expect(tcp.filter(tcpChecksumOk).length).toBeLessThan(tcp.length);
  });

  it('fills them in without the option', () => {
    const { got, sent } = transfer(false);
    expect(got).toBe(20000);
    const tcp = sent.filter((f) => f[9] === 6);
    expect(tcp.every(tcpChecksumOk)).toBe(true);
  });

  it('checks a copy of a marked frame: the unfilled checksum fails and the data does not arrive', () => {
    // After the handshake every frame the client sends is a copy, which the receiver does not trust.
    const { got } = transfer(true, 1);
    expect(got).toBe(0);
  });
});
