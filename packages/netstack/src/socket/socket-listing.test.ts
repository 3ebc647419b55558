import { AddressFamily, isError, SockType } from '@tsvisor/abi';
import { describe, expect, it } from 'vitest';
import { cidr } from '../iface/interface.js';
import { LoopbackDevice } from '../phy/loopback.js';
import { Stack } from '../stack.js';
import { Ipv4Address, Ipv6Address } from '../wire/ip-address.js';
import { InetSocket } from './inet-socket.js';
import { emitSockaddr } from './sockaddr.js';
import { WOULD_BLOCK } from './would-block.js';

describe('Stack.sockets() for /proc/net', () => {
  it('lists a ping socket once it has an identifier, connected or not, until it closes', () => {
    const stack = new Stack({
      device: new LoopbackDevice(),
      addresses: [cidr('127.0.0.1/8'), cidr('::1/128')],
    });
    const lo = Ipv4Address.parse('127.0.0.1')!;
    const p = stack.icmpSocket(4);
    const owner = {};
    p.owner = owner;
    expect(stack.sockets()).toEqual([]); // no identifier yet: not hashed
    expect(p.bind({ addr: lo, port: 4321 })).toBeUndefined();
    expect(stack.sockets()).toMatchObject([
      { protocol: 'icmp', family: 4, state: 7, local: { port: 4321 }, remote: undefined, rxQueue: 0, owner },
    ]);
    expect(p.connect({ addr: lo, port: 99 })).toBeUndefined();
    // Linux prints the peer of a ping socket with port 0.
    expect(stack.sockets()).toMatchObject([{ protocol: 'icmp', state: 1, remote: { port: 0 } }]);
    expect(stack.sockets()[0]?.remote?.addr.equals(lo)).toBe(true);
    const p6 = stack.icmpSocket(6);
    expect(p6.bind({ addr: Ipv6Address.parse('::1')!, port: 0 })).toBeUndefined();
    expect(stack.sockets().map((e) => [e.protocol, e.family])).toEqual([
      ['icmp', 4],
      ['icmp', 6],
    ]);
    p.close();
    expect(stack.sockets().map((e) => e.family)).toEqual([6]);
  });

  it('marks a connection a listener holds for accept, until accept takes it', () => {
    const stack = new Stack({ device: new LoopbackDevice(), addresses: [cidr('127.0.0.1/8')] });
    const listener = InetSocket.create(stack, AddressFamily.AF_INET, SockType.SOCK_STREAM, 0);
    const client = InetSocket.create(
      stack,
      AddressFamily.AF_INET,
      SockType.SOCK_STREAM | SockType.SOCK_NONBLOCK,
      0,
    );
    if (isError(listener) || isError(client)) throw new Error('socket');
    expect(listener.bind(emitSockaddr({ addr: Ipv4Address.LOOPBACK, port: 8000 }))).toBe(0);
    expect(listener.listen(5)).toBe(0);
    client.connect(emitSockaddr({ addr: Ipv4Address.LOOPBACK, port: 8000 }));
    for (let i = 0; i < 8; i++) stack.poll(0);
    const queued = stack.sockets().filter((e) => e.inAcceptQueue === true);
    expect(queued).toMatchObject([{ protocol: 'tcp', state: 1, local: { port: 8000 }, owner: undefined }]);
    const conn = listener.accept();
    if (conn === WOULD_BLOCK || isError(conn)) throw new Error('no connection');
    expect(stack.sockets().filter((e) => e.inAcceptQueue === true)).toEqual([]);
    expect(stack.sockets().filter((e) => e.owner === conn)).toHaveLength(1);
  });
});
