// UDP checksums across the gateway, without a sandbox: frames the sandbox's eth0 sends (written
// as a packet socket in the sandbox would, Stack.injectFrame) reach the host's socket only when
// Linux's stack would take them (IPv4: a valid header, and a checksum that verifies or is 0 for
// none; IPv6: a checksum that verifies, never 0), and what the gateway sends back to the sandbox
// carries a correct checksum. Host servers run on 127.0.0.1 and ::1.
import { createSocket, type Socket as DgramSocket } from 'node:dgram';
import {
  EtherType,
  EthernetAddress,
  EthernetFrame,
  EthernetRepr,
  ETHERNET_HEADER_LEN,
  IpProtocol,
  Ipv4Address,
  Ipv4Packet,
  Ipv4Repr,
  IPV4_HEADER_LEN,
  Ipv6Address,
  Ipv6Packet,
  Ipv6Repr,
  IPV6_HEADER_LEN,
  UDP_HEADER_LEN,
  UdpPacket,
  UdpRepr,
  WOULD_BLOCK,
  internetChecksum,
  isWireError,
  pseudoHeaderSum,
  type IpAddress,
} from '@tsvisor/netstack';
import { isError } from '@tsvisor/abi';
import { describe, expect, it } from 'vitest';
import {
  GATEWAY_ADDRESS,
  GATEWAY_ADDRESS6,
  GATEWAY_MAC,
  Gateway,
  SANDBOX_ADDRESS,
  SANDBOX_ADDRESS6,
  SANDBOX_MAC,
} from './gateway.js';

const sandbox4 = Ipv4Address.parse(SANDBOX_ADDRESS)!;
const gateway4 = Ipv4Address.parse(GATEWAY_ADDRESS)!;
const sandbox6 = Ipv6Address.parse(SANDBOX_ADDRESS6)!;
const gateway6 = Ipv6Address.parse(GATEWAY_ADDRESS6)!;
const te = new TextEncoder();

function gateway(ipv6: boolean): Gateway {
  const g = new Gateway({ ipv6 });
  g.kickSandbox = () => void g.stack.poll(performance.now());
  return g;
}

/** Polls the sandbox-side stack (as the sandbox's kernel does) until `done()` or 5 s. */
async function until(g: Gateway, done: () => boolean): Promise<void> {
  const end = Date.now() + 5000;
  while (!done() && Date.now() < end) {
    g.stack.poll(performance.now());
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** A host UDP server on `address` that records the text of what it receives. */
async function hostServer(
  type: 'udp4' | 'udp6',
  address: string,
): Promise<{ sock: DgramSocket; got: string[] }> {
  const sock = createSocket(type);
  const got: string[] = [];
  sock.on('message', (m) => got.push(m.toString()));
  await new Promise<void>((r) => sock.bind(0, address, r));
  return { sock, got };
}

/**
 * An Ethernet frame from the sandbox's eth0 to the gateway's MAC carrying a UDP datagram from
 * `src`:40000 to `dst`:`port` with `text`; `damage` changes the IP packet after it was built.
 */
function udpFrame(
  src: IpAddress,
  dst: IpAddress,
  port: number,
  text: string,
  damage: (ip: Uint8Array, udpAt: number) => void = () => undefined,
): Uint8Array {
  const payload = te.encode(text);
  const udpLen = UDP_HEADER_LEN + payload.length;
  const v4 = src.version === 4;
  const headerLen = v4 ? IPV4_HEADER_LEN : IPV6_HEADER_LEN;
  const frame = new Uint8Array(ETHERNET_HEADER_LEN + headerLen + udpLen);
  EthernetRepr.emit(
    {
      src: EthernetAddress.parse(SANDBOX_MAC)!,
      dst: EthernetAddress.parse(GATEWAY_MAC)!,
      ethertype: v4 ? EtherType.IPV4 : EtherType.IPV6,
    },
    EthernetFrame.unchecked(frame),
  );
  const ip = frame.subarray(ETHERNET_HEADER_LEN);
  if (src.version === 4 && dst.version === 4)
    Ipv4Repr.emit(
      { src, dst, protocol: IpProtocol.UDP, payloadLen: udpLen, ttl: 64 },
      Ipv4Packet.unchecked(ip),
    );
  else if (src.version === 6 && dst.version === 6)
    Ipv6Repr.emit(
      { src, dst, nextHeader: IpProtocol.UDP, payloadLen: udpLen, hopLimit: 64 },
      Ipv6Packet.unchecked(ip),
    );
  UdpRepr.emit(
    { srcPort: 40000, dstPort: port, payload },
    UdpPacket.unchecked(ip.subarray(headerLen)),
    src,
    dst,
  );
  damage(ip, headerLen);
  return frame;
}

/** Zeroes the UDP checksum field. */
const noChecksum = (ip: Uint8Array, udpAt: number): void => void ip.fill(0, udpAt + 6, udpAt + 8);
/** Flips a payload bit: the checksum no longer verifies. */
const flipPayload = (ip: Uint8Array, udpAt: number): void =>
  void (ip[udpAt + UDP_HEADER_LEN] = ip[udpAt + UDP_HEADER_LEN]! ^ 1);

/** Writes `frames` to eth0 in order, then waits until the host server got `last`. */
async function send(g: Gateway, frames: Uint8Array[], got: string[], last: string): Promise<void> {
  for (const f of frames)
    expect(g.stack.injectFrame(performance.now(), g.stack.deviceIfindex, f)).toBeUndefined();
  await until(g, () => got.includes(last));
}

describe('the gateway and UDP checksums', () => {
  it('IPv4 from the sandbox: a bad checksum or IP header is dropped, checksum 0 (none) passes', async () => {
    const { sock, got } = await hostServer('udp4', '127.0.0.1');
    const port = sock.address().port;
    const g = gateway(false);
    try {
      await send(
        g,
        [
          udpFrame(sandbox4, gateway4, port, 'bad checksum', flipPayload),
          udpFrame(sandbox4, gateway4, port, 'no checksum', noChecksum),
          // The IP header's checksum is wrong (its TTL changed), the UDP one still verifies.
          udpFrame(sandbox4, gateway4, port, 'bad header', (ip) => void (ip[8] = 1)),
          // Another source address than the pseudo-header's: the UDP checksum catches it.
          udpFrame(sandbox4, gateway4, port, 'forged source', (ip) => {
            ip[15] = 16;
            ip.fill(0, 10, 12);
            const sum = internetChecksum(ip, 0, IPV4_HEADER_LEN);
            ip[10] = sum >> 8;
            ip[11] = sum & 0xff;
          }),
          udpFrame(sandbox4, gateway4, port, 'good'),
        ],
        got,
        'good',
      );
      expect(got).toEqual(['no checksum', 'good']);
    } finally {
      g.close();
      sock.close();
    }
  });

  it('IPv6 from the sandbox: a bad checksum, or none (0), is dropped', async () => {
    const { sock, got } = await hostServer('udp6', '::1');
    const port = sock.address().port;
    const g = gateway(true);
    try {
      await send(
        g,
        [
          udpFrame(sandbox6, gateway6, port, 'bad checksum', flipPayload),
          udpFrame(sandbox6, gateway6, port, 'no checksum', noChecksum),
          udpFrame(sandbox6, gateway6, port, 'good'),
        ],
        got,
        'good',
      );
      expect(got).toEqual(['good']);
    } finally {
      g.close();
      sock.close();
    }
  });

  for (const v6 of [false, true])
    it(`IPv${v6 ? 6 : 4} to the sandbox: each datagram carries a checksum that verifies; a sum of 0 is sent as 0xffff`, async () => {
      const host = createSocket(v6 ? 'udp6' : 'udp4');
      host.on('message', (m, r) => host.send(m, r.port, r.address));
      await new Promise<void>((r) => host.bind(0, v6 ? '::1' : '127.0.0.1', r));
      const hostPort = host.address().port;
      const g = gateway(v6);
      const seen: { checksum: number; verifies: boolean }[] = [];
      const off = g.stack.addPacketTap((f) => {
        if (f.ifindex !== g.stack.deviceIfindex || f.protocol !== (v6 ? 0x86dd : 0x0800)) return;
        const ipBytes = f.bytes.subarray(f.linkLen);
        const ip = v6 ? Ipv6Packet.checked(ipBytes) : Ipv4Packet.checked(ipBytes);
        if (isWireError(ip)) return;
        if ((v6 ? (ip as Ipv6Packet).nextHeader : (ip as Ipv4Packet).protocol) !== IpProtocol.UDP) return;
        const udp = UdpPacket.checked(ip.payload);
        if (isWireError(udp) || !ip.dst.equals(v6 ? sandbox6 : sandbox4)) return;
        seen.push({
          checksum: udp.checksum,
          verifies: udp.checksum !== 0 && udp.verifyChecksum(ip.src, ip.dst),
        });
      });
      try {
        const u = g.stack.udpSocket(v6 ? 6 : 4);
        expect(u.bind({ addr: v6 ? sandbox6 : sandbox4, port: 5000 })).toBeUndefined();
        const from = v6 ? gateway6 : gateway4;
        const to = v6 ? sandbox6 : sandbox4;
        // Two bytes at the end make the datagram's sum come to 0 (its checksum field would be 0).
        const zeroSum = new Uint8Array([0x7a, 0x65, 0x72, 0x6f, 0, 0]);
        const udpLen = UDP_HEADER_LEN + zeroSum.length;
        const b = new Uint8Array(udpLen);
        b.set([hostPort >> 8, hostPort & 0xff, 5000 >> 8, 5000 & 0xff, 0, udpLen], 0);
        b.set(zeroSum, UDP_HEADER_LEN);
        const rest =
          0xffff -
          (~internetChecksum(b, 0, udpLen, pseudoHeaderSum(from, to, IpProtocol.UDP, udpLen)) & 0xffff);
        zeroSum[4] = rest >> 8;
        zeroSum[5] = rest & 0xff;
        const replies: string[] = [];
        const buf = new Uint8Array(100);
        for (const payload of [te.encode('echo me'), zeroSum]) {
          expect(u.sendto(payload, { addr: from, port: hostPort })).toBe(payload.length);
          const before = replies.length;
          await until(g, () => {
            const r = u.recvfrom(buf);
            if (r !== WOULD_BLOCK && !isError(r))
              replies.push(Buffer.from(buf.subarray(0, r.len)).toString('hex'));
            return replies.length > before;
          });
        }
        expect(replies).toEqual([
          Buffer.from('echo me').toString('hex'),
          Buffer.from(zeroSum).toString('hex'),
        ]);
        expect(seen.map((s) => s.verifies)).toEqual([true, true]);
        expect(seen[1]!.checksum).toBe(0xffff);
      } finally {
        off();
        g.close();
        host.close();
      }
    });
});
