// net.ipv4.icmp_echo_ignore_all and icmp_echo_ignore_broadcasts: whether the interface answers
// an echo request, read for each one that arrives.
import { describe, expect, it } from 'vitest';
import { linkPair } from '../phy/loopback.js';
import type { Device } from '../phy/device.js';
import { settle } from '../stack.test-util.js';
import { Stack } from '../stack.js';
import { Icmpv4Packet, Icmpv4Repr } from '../wire/icmpv4.js';
import { Ipv4Address } from '../wire/ip-address.js';
import { IpProtocol, Ipv4Packet, Ipv4Repr } from '../wire/ipv4.js';
import { isWireError } from '../wire/error.js';
import { cidr } from './interface.js';

const ME = Ipv4Address.parse('10.0.0.1')!;
const PEER = Ipv4Address.parse('10.0.0.2')!;

function onLink(): { stack: Stack; peer: Device } {
  const [dev, peer] = linkPair({ medium: 'ip', mtu: 1500 });
  return { stack: new Stack({ device: dev, addresses: [cidr('10.0.0.1/24')], seed: 5 }), peer };
}

/** Sends the peer's echo request to `dst`; the source address of the reply, or undefined for none. */
function ping(stack: Stack, peer: Device, dst: Ipv4Address): string | undefined {
  const icmp: Icmpv4Repr = { type: 'echoRequest', ident: 7, seqNo: 1, data: new Uint8Array(4) };
  const len = Icmpv4Repr.bufferLen(icmp);
  const buf = new Uint8Array(20 + len);
  Ipv4Repr.emit(
    { src: PEER, dst, protocol: IpProtocol.ICMP, payloadLen: len, ttl: 64 },
    Ipv4Packet.unchecked(buf),
  );
  Icmpv4Repr.emit(icmp, Icmpv4Packet.unchecked(buf.subarray(20)));
  peer.transmit(0, buf);
  settle([stack], 0);
  const reply = peer.receive(0);
  if (reply === undefined) return undefined;
  const ip = Ipv4Packet.checked(reply);
  if (isWireError(ip)) throw new Error('reply');
  expect(Icmpv4Repr.parse(Icmpv4Packet.checked(ip.payload) as Icmpv4Packet)).toMatchObject({
    type: 'echoReply',
  });
  return ip.src.toString();
}

describe('ICMP echo sysctls', () => {
  it('icmp_echo_ignore_all silences every echo, without counting an error', () => {
    const { stack, peer } = onLink();
    const sysctl = stack.iface.ipv4Sysctl;
    expect(sysctl).toEqual({
      icmpEchoIgnoreAll: 0,
      icmpEchoIgnoreBroadcasts: 1,
      noPmtuDisc: 0,
      // The ICMP rate limits' (icmp-limit.test.ts), with Linux's defaults.
      icmpRatelimit: 1000,
      icmpRatemask: 0x1818,
      icmpMsgsPerSec: 1000,
      icmpMsgsBurst: 50,
    });
    expect(ping(stack, peer, ME)).toBe('10.0.0.1');
    sysctl.icmpEchoIgnoreAll = 1;
    expect(ping(stack, peer, ME)).toBeUndefined();
    expect([stack.mib.icmp.InMsgs, stack.mib.icmp.InErrors, stack.mib.icmp.inType[8]]).toEqual([2, 0, 2]);
    sysctl.icmpEchoIgnoreAll = 0;
    expect(ping(stack, peer, ME)).toBe('10.0.0.1');
  });

  it('icmp_echo_ignore_broadcasts: 1 drops a broadcast echo as an error, 0 answers it from our address', () => {
    const { stack, peer } = onLink();
    const bcast = Ipv4Address.parse('10.0.0.255')!;
    expect(ping(stack, peer, bcast)).toBeUndefined();
    expect(ping(stack, peer, Ipv4Address.BROADCAST)).toBeUndefined();
    expect(stack.mib.icmp.InErrors).toBe(2);
    stack.iface.ipv4Sysctl.icmpEchoIgnoreBroadcasts = 0;
    expect(ping(stack, peer, bcast)).toBe('10.0.0.1');
    expect(ping(stack, peer, Ipv4Address.BROADCAST)).toBe('10.0.0.1');
    // icmp_echo_ignore_all still wins.
    stack.iface.ipv4Sysctl.icmpEchoIgnoreAll = 1;
    expect(ping(stack, peer, bcast)).toBeUndefined();
  });
});
