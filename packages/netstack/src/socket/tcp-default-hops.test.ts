// net.ipv4.ip_default_ttl and net.ipv6.conf.<link>.hop_limit as Linux reads them: per segment by
// TCP connections that set no IP_TTL or IPV6_UNICAST_HOPS (ip_select_ttl, ip6_dst_hoplimit), and
// per packet by the stack's own (RSTs and TIME_WAIT ACKs of its control socket, ICMP replies and
// errors). runtime's ipv4-ip-sysctls and ipv6-sysctls tests compare the same on lo with Linux.
import { IpOption, IpProto, Ipv6Option, SockType, SocketLevel, TcpOption, isError } from '@tsvisor/abi';
import { describe, expect, it } from 'vitest';
import { cidr } from '../iface/interface.js';
import { linkPair } from '../phy/loopback.js';
import { settle } from '../stack.test-util.js';
import { Stack } from '../stack.js';
import { Icmpv4Type } from '../wire/icmpv4.js';
import { Ipv4Address, Ipv6Address, type IpAddress } from '../wire/ip-address.js';
import { addr, inetSocket } from './icmp-router.test-util.js';
import { InetSocket } from './inet-socket.js';

const near4 = Ipv4Address.parse('10.0.0.1')!;
const far4 = Ipv4Address.parse('10.0.0.9')!;
const near6 = Ipv6Address.parse('fd00::1')!;
const far6 = Ipv6Address.parse('fd00::9')!;

/**
 * Two stacks, `near` at 10.0.0.1 and fd00::1 and `far` at 10.0.0.9 and fd00::9, each on its
 * own IP link, which `run` relays between until nothing moves; `near.hops` and `far.hops` list
 * the TTL or hop limit of every packet each sent.
 */
function twoHosts(): {
  near: { stack: Stack; hops: number[] };
  far: { stack: Stack; hops: number[] };
  run: () => void;
} {
  const [dev1, end1] = linkPair({ medium: 'ip', mtu: 1500 });
  const [dev2, end2] = linkPair({ medium: 'ip', mtu: 1500 });
  const near = {
    stack: new Stack({ device: dev1, addresses: [cidr('10.0.0.1/24'), cidr('fd00::1/64')], seed: 1 }),
    hops: [] as number[],
  };
  const far = {
    stack: new Stack({ device: dev2, addresses: [cidr('10.0.0.9/24'), cidr('fd00::9/64')], seed: 2 }),
    hops: [] as number[],
  };
  const hopsOf = (p: Uint8Array): number => (p[0]! >> 4 === 4 ? p[8]! : p[7]!);
  const run = (): void => {
    for (let moved = true; moved;) {
      moved = false;
      settle([near.stack, far.stack], 0);
      for (let p = end1.receive(0); p; p = end1.receive(0), moved = true) {
        near.hops.push(hopsOf(p));
        end2.transmit(0, p);
      }
      for (let p = end2.receive(0); p; p = end2.receive(0), moved = true) {
        far.hops.push(hopsOf(p));
        end1.transmit(0, p);
      }
    }
  };
  return { near, far, run };
}

/** Sets the sysctl a socket to `dst` without IP_TTL / IPV6_UNICAST_HOPS takes its TTL from. */
function setDefault(stack: Stack, dst: IpAddress, value: number): void {
  if (dst.version === 4) stack.sysctl.defaultTtl = value;
  else stack.iface.ipv6Sysctl.conf.device.hopLimit = value;
}

/** The hops of the packets sent since the last call. */
function taken(host: { hops: number[] }): number[] {
  return host.hops.splice(0);
}

function accepted(listener: InetSocket): InetSocket {
  const s = listener.accept();
  if (isError(s) || !(s instanceof InetSocket)) throw new Error('no connection');
  return s;
}

const own = (family: 4 | 6): readonly [number, number] =>
  family === 4 ? [SocketLevel.SOL_IP, IpOption.IP_TTL] : [SocketLevel.SOL_IPV6, Ipv6Option.IPV6_UNICAST_HOPS];

describe.each([
  { family: 4 as const, nearAddr: near4, farAddr: far4 },
  { family: 6 as const, nearAddr: near6, farAddr: far6 },
])('IPv$family', ({ family, nearAddr, farAddr }) => {
  it('an established connection takes a change of the sysctl at its next segment, both ends', () => {
    const { near, far, run } = twoHosts();
    const listener = inetSocket(far.stack, family, SockType.SOCK_STREAM);
    expect(listener.bind(addr(farAddr, 80))).toBe(0);
    expect(listener.listen(1)).toBe(0);
    const client = inetSocket(near.stack, family, SockType.SOCK_STREAM);
    expect(client.setsockopt(SocketLevel.SOL_TCP, TcpOption.TCP_NODELAY, 1)).toBe(0);
    client.connect(addr(farAddr, 80));
    run();
    const server = accepted(listener);
    expect([...taken(near), ...taken(far)].every((h) => h === 64)).toBe(true);
    setDefault(near.stack, farAddr, 99);
    setDefault(far.stack, nearAddr, 77);
    expect(client.sendto(Uint8Array.of(1), 0)).toBe(1);
    run();
    expect(server.sendto(Uint8Array.of(2), 0)).toBe(1);
    run();
    expect(new Set(taken(near))).toEqual(new Set([99]));
    expect(new Set(taken(far))).toEqual(new Set([77]));
    // The socket's own wins; -1 hands it back to the sysctl.
    const [level, name] = own(family);
    expect(client.setsockopt(level, name, 12)).toBe(0);
    expect(client.sendto(Uint8Array.of(3), 0)).toBe(1);
    run();
    expect(taken(near)).toEqual([12]);
    expect(client.setsockopt(level, name, -1)).toBe(0);
    setDefault(near.stack, farAddr, 98);
    expect(client.sendto(Uint8Array.of(4), 0)).toBe(1);
    run();
    expect(taken(near)).toEqual([98]);
  });

  it("a listener's connection answers with the sysctl, or the listener's own, before it is accepted", () => {
    const { near, far, run } = twoHosts();
    const listener = inetSocket(far.stack, family, SockType.SOCK_STREAM);
    expect(listener.bind(addr(farAddr, 80))).toBe(0);
    expect(listener.listen(4)).toBe(0);
    setDefault(far.stack, nearAddr, 50);
    const first = inetSocket(near.stack, family, SockType.SOCK_STREAM);
    first.connect(addr(farAddr, 80));
    run();
    expect(taken(far)).toEqual([50]); // the SYN-ACK
    const [level, name] = own(family);
    expect(listener.setsockopt(level, name, 13)).toBe(0);
    const second = inetSocket(near.stack, family, SockType.SOCK_STREAM);
    second.connect(addr(farAddr, 80));
    run();
    expect(taken(far)).toEqual([13]);
    // Data the peer sends before accept(2) is ACKed from the accept queue.
    expect(first.sendto(Uint8Array.of(1), 0)).toBe(1);
    expect(second.sendto(Uint8Array.of(1), 0)).toBe(1);
    run();
    expect(taken(far).sort()).toEqual([13, 50]);
  });

  it("RSTs for no socket and TIME_WAIT ACKs take the sysctl, never the closed connection's own", () => {
    const { near, far, run } = twoHosts();
    setDefault(far.stack, nearAddr, 33);
    const refused = inetSocket(near.stack, family, SockType.SOCK_STREAM);
    refused.connect(addr(farAddr, 81));
    run();
    expect(taken(far)).toEqual([33]);

    const listener = inetSocket(far.stack, family, SockType.SOCK_STREAM);
    expect(listener.bind(addr(farAddr, 80))).toBe(0);
    expect(listener.listen(1)).toBe(0);
    const client = inetSocket(near.stack, family, SockType.SOCK_STREAM);
    client.connect(addr(farAddr, 80));
    run();
    const server = accepted(listener);
    const [level, name] = own(family);
    expect(server.setsockopt(level, name, 7)).toBe(0);
    taken(far);
    // The server closes first: its ACK of the client's FIN leaves from TIME_WAIT.
    server.close();
    run();
    client.close();
    run();
    expect(taken(far)).toEqual([7, 33]);
  });
});

describe("the stack's own ICMPv4", () => {
  it('echo replies and port unreachables take ip_default_ttl (icmp_reply, icmp_send)', () => {
    const { near, far, run } = twoHosts();
    far.stack.sysctl.defaultTtl = 21;
    const ping = inetSocket(near.stack, 4, SockType.SOCK_DGRAM, IpProto.IPPROTO_ICMP);
    const echo = Uint8Array.of(Icmpv4Type.ECHO_REQUEST, 0, 0, 0, 0, 0, 0, 1);
    expect(ping.sendto(echo, 0, addr(far4))).toBe(8);
    run();
    expect(taken(far)).toEqual([21]);
    const udp = inetSocket(near.stack, 4, SockType.SOCK_DGRAM);
    expect(udp.sendto(Uint8Array.of(1), 0, addr(far4, 9))).toBe(1);
    run();
    expect(taken(far)).toEqual([21]);
    expect(taken(near)).toEqual([64, 64]);
  });
});
