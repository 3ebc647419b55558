// TCP_SAVE_SYN / TCP_SAVED_SYN through the socket layer: the headers a listener keeps of each
// SYN, read once from the accepted socket. The looped-segment path (no frame, headers rebuilt)
// must save exactly the bytes the frame path carries; an Ethernet link saves the frame's own
// link-layer header. (runtime's tcp-save-syn test compares the whole behaviour with Linux.)
import { AddressFamily, E, isError, SockType, SocketLevel, TcpOption, type LinuxError } from '@tsvisor/abi';
import { describe, expect, it } from 'vitest';
import { cidr } from '../iface/interface.js';
import type { Device } from '../phy/device.js';
import { LoopbackDevice, linkPair } from '../phy/loopback.js';
import { settle } from '../stack.test-util.js';
import { Stack } from '../stack.js';
import { isWireError } from '../wire/error.js';
import { EtherType, EthernetAddress } from '../wire/ethernet.js';
import { Ipv4Address, Ipv6Address, type IpAddress } from '../wire/ip-address.js';
import { IpProtocol, Ipv4Packet } from '../wire/ipv4.js';
import { Ipv6Packet } from '../wire/ipv6.js';
import { TcpFlag, TcpPacket } from '../wire/tcp.js';
import { InetSocket } from './inet-socket.js';
import { emitSockaddr } from './sockaddr.js';

/** A loopback device that is not a LoopbackDevice: TCP crosses it as frames. */
class FramedLoopback implements Device {
  readonly inner = new LoopbackDevice();
  get capabilities(): Device['capabilities'] {
    return this.inner.capabilities;
  }
  receive(now: number): Uint8Array | undefined {
    return this.inner.receive(now);
  }
  transmit(now: number, frame: Uint8Array): boolean {
    return this.inner.transmit(now, frame);
  }
  pollAt(now: number): number | undefined {
    return this.inner.pollAt(now);
  }
}

function sock(stack: Stack, family: 4 | 6): InetSocket {
  const af = family === 4 ? AddressFamily.AF_INET : AddressFamily.AF_INET6;
  const s = InetSocket.create(stack, af, SockType.SOCK_STREAM, 0);
  if (isError(s)) throw new Error(s.name);
  return s;
}

/** Connects to a listener with TCP_SAVE_SYN `save` (and the client's TOS); returns the accepted socket. */
function acceptedWith(stack: Stack, addr: IpAddress, save: number, tos = 0, server = stack): InetSocket {
  const family = addr.version;
  const l = sock(server, family);
  expect(l.setsockopt(SocketLevel.SOL_TCP, TcpOption.TCP_SAVE_SYN, save)).toBe(0);
  const at = emitSockaddr({ addr, port: 80 });
  expect(l.bind(at)).toBe(0);
  expect(l.listen(4)).toBe(0);
  const c = sock(stack, family);
  if (tos !== 0)
    expect(
      family === 4
        ? c.setsockopt(SocketLevel.SOL_IP, 1, tos) // IP_TOS
        : c.setsockopt(SocketLevel.SOL_IPV6, 67, tos), // IPV6_TCLASS
    ).toBe(0);
  c.connect(at);
  settle(stack === server ? [stack] : [stack, server], 0);
  const s = l.accept();
  if (!(s instanceof InetSocket)) throw new Error('no connection');
  return s;
}

function savedSyn(s: InetSocket, optlen = 512): { bytes: Uint8Array | LinuxError; stored: number[] } {
  const stored: number[] = [];
  const bytes = s.getsockoptBytes(SocketLevel.SOL_TCP, TcpOption.TCP_SAVED_SYN, optlen, (n) => {
    stored.push(n);
    return undefined;
  });
  return { bytes, stored };
}

function bytesOf(r: Uint8Array | LinuxError): Uint8Array {
  if (isError(r)) throw new Error(r.name);
  return r;
}

describe('TCP_SAVED_SYN', () => {
  it('hands the IPv4 SYN headers out once, EINVAL with the length needed before', () => {
    const stack = new Stack({ device: new LoopbackDevice(), addresses: [cidr('127.0.0.1/8')], seed: 1 });
    const s = acceptedWith(stack, Ipv4Address.LOOPBACK, 1);
    const small = savedSyn(s, 4);
    expect(small.bytes).toBe(E.EINVAL);
    expect(small.stored).toEqual([60]); // 20 bytes of IP, 40 of TCP (MSS, SACK, timestamps, WS)
    const syn = bytesOf(savedSyn(s).bytes);
    expect(syn.length).toBe(60);
    const ip = Ipv4Packet.checked(syn);
    if (isWireError(ip)) throw new Error(String(ip));
    expect([ip.protocol, ip.ttl, ip.totalLen]).toEqual([IpProtocol.TCP, 64, 60]);
    const tcp = TcpPacket.checked(ip.payload);
    if (isWireError(tcp)) throw new Error(String(tcp));
    expect(tcp.dstPort).toBe(80);
    expect(syn[20 + 13]).toBe(TcpFlag.SYN);
    expect(bytesOf(savedSyn(s).bytes).length).toBe(0); // gone once read
  });

  it('saves nothing when the listener did not ask', () => {
    const stack = new Stack({ device: new LoopbackDevice(), addresses: [cidr('127.0.0.1/8')], seed: 1 });
    const s = acceptedWith(stack, Ipv4Address.LOOPBACK, 0);
    expect(bytesOf(savedSyn(s, 4).bytes).length).toBe(0);
  });

  it.each([4, 6] as const)(
    'IPv%i: the rebuilt headers of a looped SYN are the bytes the frame path carries',
    (v) => {
      const addr = v === 4 ? Ipv4Address.LOOPBACK : Ipv6Address.LOOPBACK;
      const addresses = [cidr('127.0.0.1/8'), cidr('::1/128')];
      const fast = new Stack({ device: new LoopbackDevice(), addresses, seed: 3 });
      const framed = new Stack({ device: new FramedLoopback(), addresses, seed: 3 });
      const a = bytesOf(savedSyn(acceptedWith(fast, addr, 2, 0x20)).bytes);
      const b = bytesOf(savedSyn(acceptedWith(framed, addr, 2, 0x20)).bytes);
      expect(a).toEqual(b);
      // lo's link header: no addresses, the ethertype; then the IP header with the TOS.
      expect([...a.subarray(0, 14)]).toEqual([...new Uint8Array(12), ...(v === 4 ? [8, 0] : [0x86, 0xdd])]);
      if (v === 4) {
        expect(a[14 + 1]).toBe(0x20); // the TOS byte
      } else {
        const ip = Ipv6Packet.checked(a.subarray(14));
        if (isWireError(ip)) throw new Error(String(ip));
        expect(ip.trafficClass).toBe(0x20);
        expect(a.length).toBe(14 + 40 + 40);
      }
    },
  );

  it('on an Ethernet link, 2 keeps the frame header the SYN came with', () => {
    const [da, db] = linkPair({ medium: 'ethernet', mtu: 1500 });
    const macA = new EthernetAddress([2, 0, 0, 0, 0, 1]);
    const macB = new EthernetAddress([2, 0, 0, 0, 0, 2]);
    const client = new Stack({
      device: da,
      hardwareAddress: macA,
      addresses: [cidr('10.0.0.1/24')],
      seed: 4,
    });
    const server = new Stack({
      device: db,
      hardwareAddress: macB,
      addresses: [cidr('10.0.0.2/24')],
      seed: 5,
    });
    const s = acceptedWith(client, Ipv4Address.parse('10.0.0.2')!, 2, 0, server);
    const syn = bytesOf(savedSyn(s).bytes);
    expect(syn.length).toBe(14 + 60);
    expect([...syn.subarray(0, 12)]).toEqual([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1]);
    expect((syn[12]! << 8) | syn[13]!).toBe(EtherType.IPV4);
    const tcp = TcpPacket.checked(syn.subarray(14 + 20));
    if (isWireError(tcp)) throw new Error(String(tcp));
    expect(tcp.dstPort).toBe(80);
  });
});
