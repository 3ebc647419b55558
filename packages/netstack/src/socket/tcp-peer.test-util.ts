// A hand-driven TCP peer for tests: raw segments in and out of a link-pair device, so a test
// decides exactly which segments arrive, which ACK and SACK blocks go back, and what TSval.
import { cidr } from '../iface/interface.js';
import type { Device } from '../phy/device.js';
import { linkPair } from '../phy/loopback.js';
import { settle } from '../stack.test-util.js';
import { Stack, type StackConfig } from '../stack.js';
import { isWireError } from '../wire/error.js';
import { Ipv4Address } from '../wire/ip-address.js';
import { IpProtocol, Ipv4Packet, Ipv4Repr } from '../wire/ipv4.js';
import { TcpFlag, TcpPacket, TcpRepr, seqAdd } from '../wire/tcp.js';
import type { TcpSocket } from './tcp.js';
import { bufs } from './tcp-transfer.test-util.js';

export const ME = Ipv4Address.parse('10.0.0.1')!;
export const THEM = Ipv4Address.parse('10.0.0.2')!;

/** The far end: our stack's socket connects to it on port 80. */
export class RawPeer {
  /** The peer's next sequence number and what it acknowledged last. */
  seq = 5000;
  rcvNxt = 0;
  constructor(
    readonly stack: Stack,
    readonly dev: Device,
  ) {}

  send(o: Partial<TcpRepr>): void {
    const seg: TcpRepr = {
      srcPort: 80,
      dstPort: 40000,
      seqNumber: this.seq,
      ackNumber: this.rcvNxt,
      flags: 0,
      windowLen: 0xffff,
      payload: new Uint8Array(0),
      ...o,
    };
    const len = TcpRepr.bufferLen(seg);
    const buf = new Uint8Array(20 + len);
    Ipv4Repr.emit(
      { src: THEM, dst: ME, protocol: IpProtocol.TCP, payloadLen: len, ttl: 64 },
      Ipv4Packet.unchecked(buf),
    );
    TcpRepr.emit(seg, TcpPacket.unchecked(buf.subarray(20)), THEM, ME);
    this.dev.transmit(0, buf);
  }

  /** Every segment the stack sent since the last call. */
  drain(): TcpRepr[] {
    const out: TcpRepr[] = [];
    for (;;) {
      const f = this.dev.receive(0);
      if (!f) return out;
      const ip = Ipv4Packet.checked(f) as Ipv4Packet;
      const r = TcpRepr.parse(TcpPacket.checked(ip.payload) as TcpPacket, ME, THEM);
      if (isWireError(r)) throw new Error(`bad segment: ${String(r)}`);
      out.push({ ...r, payload: r.payload.slice() });
    }
  }
}

/**
 * Connects a socket of a fresh stack to a RawPeer; `synAck` adds options to the peer's SYN-ACK
 * (MSS 1000 unless given). Returns the established socket and the peer, drained.
 */
export function connectToRawPeer(
  synAck: Partial<TcpRepr> = {},
  config: Partial<StackConfig> = {},
  rx = 65536,
  tx = 1 << 20,
): { sock: TcpSocket; peer: RawPeer; syn: TcpRepr; iss: number } {
  const [dev, peerDev] = linkPair();
  const stack = new Stack({ device: dev, addresses: [cidr('10.0.0.1/24')], seed: 17, ...config });
  const sock = stack.tcpSocket(4, bufs(rx, tx));
  sock.bind({ addr: ME, port: 40000 });
  sock.connect({ addr: THEM, port: 80 });
  settle([stack], 0);
  const peer = new RawPeer(stack, peerDev);
  const syn = peer.drain()[0]!;
  peer.rcvNxt = seqAdd(syn.seqNumber, 1);
  peer.send({ flags: TcpFlag.SYN, maxSegSize: 1000, ...synAck });
  peer.seq = seqAdd(peer.seq, 1);
  settle([stack], 0);
  peer.drain(); // the ACK of the handshake
  return { sock, peer, syn, iss: syn.seqNumber };
}
