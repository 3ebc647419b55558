// SO_PEEK_OFF (InetSocket.peekOff) on TCP and UDP: the values are what the host kernel prints
// for the same calls in runtime's testdata/sock-peek-off.c (compared there under tsvisor).
import { AddressFamily, isError, MsgFlag, SockType } from '@tsvisor/abi';
import { describe, expect, it } from 'vitest';
import { cidr } from '../iface/interface.js';
import { LoopbackDevice } from '../phy/loopback.js';
import { Stack } from '../stack.js';
import { Ipv4Address } from '../wire/ip-address.js';
import { virtualClock } from './host-diff.test-util.js';
import { InetSocket } from './inet-socket.js';
import { emitSockaddr } from './sockaddr.js';
import { WOULD_BLOCK } from './would-block.js';

const te = new TextEncoder();
const PEEK = MsgFlag.MSG_PEEK;

function setup(type: number) {
  const stack = new Stack({ device: new LoopbackDevice(), addresses: [cidr('127.0.0.1/8')], seed: 9 });
  const clock = virtualClock(stack);
  const mk = (): InetSocket => {
    const s = InetSocket.create(stack, AddressFamily.AF_INET, type | SockType.SOCK_NONBLOCK, 0);
    if (isError(s)) throw new Error(s.name);
    return s;
  };
  const at = emitSockaddr({ addr: Ipv4Address.parse('127.0.0.1')!, port: 7000 });
  const b = mk();
  b.bind(at);
  const a = mk();
  if (type === SockType.SOCK_STREAM) {
    b.listen(1);
    a.connect(at);
    clock.sleep(5);
    const s = b.accept();
    if (!(s instanceof InetSocket)) throw new Error('no connection');
    return { a, b: s, clock, stack, listener: b };
  }
  a.connect(at);
  return { a, b, clock, stack, listener: undefined };
}

/** recvfrom of up to `n` bytes: "count text [TRUNC] off=N", as the C program prints it. */
function rx(s: InetSocket, n: number, flags: number): string {
  const buf = new Uint8Array(n);
  const r = s.recvfrom(buf, flags);
  if (r === WOULD_BLOCK) return `EAGAIN off=${s.peekOff}`;
  if (isError(r)) return `${r.name} off=${s.peekOff}`;
  const ret = flags & MsgFlag.MSG_TRUNC ? r.len : r.n;
  const text = new TextDecoder().decode(buf.subarray(0, r.n));
  return `${ret} "${text}"${r.truncated ? ' TRUNC' : ''} off=${s.peekOff}`;
}

describe('SO_PEEK_OFF', () => {
  it('TCP: peeks start at the offset and move it; reads move it back', () => {
    const { a, b, clock, stack, listener } = setup(SockType.SOCK_STREAM);
    a.sendto(te.encode('abcdefghij'));
    clock.sleep(5);
    expect(b.peekOff).toBe(-1);
    expect(rx(b, 3, PEEK)).toBe('3 "abc" off=-1');
    b.peekOff = 0;
    expect(rx(b, 3, PEEK)).toBe('3 "abc" off=3');
    expect(rx(b, 3, PEEK)).toBe('3 "def" off=6');
    expect(rx(b, 2, 0)).toBe('2 "ab" off=4');
    expect(rx(b, 3, PEEK)).toBe('3 "ghi" off=7');
    expect(rx(b, 10, PEEK)).toBe('1 "j" off=8');
    expect(rx(b, 10, PEEK)).toBe('EAGAIN off=8');
    // The in-place path (recvInto) follows the same offset.
    const got: number[] = [];
    const copy = (span: Uint8Array): number => (got.push(...span), span.length);
    a.sendto(te.encode('KLM'));
    clock.sleep(5);
    expect(b.recvInto(10, copy, PEEK)).toBe(3);
    expect(new TextDecoder().decode(Uint8Array.from(got))).toBe('KLM');
    expect(b.peekOff).toBe(11);
    expect(b.recvInto(100, (span) => span.length, 0)).toBe(11);
    expect(b.peekOff).toBe(0);
    // Negative values are kept but peek from the front; reads do not move them.
    a.sendto(te.encode('op'));
    clock.sleep(5);
    b.peekOff = -5;
    expect(rx(b, 2, PEEK)).toBe('2 "op" off=-5');
    b.peekOff = 100;
    expect(rx(b, 2, 0)).toBe('2 "op" off=98');
    // An accepted socket starts with its listener's offset (sk_clone_lock copies it).
    listener!.peekOff = 3;
    const c = InetSocket.create(stack, AddressFamily.AF_INET, SockType.SOCK_STREAM, 0);
    if (isError(c)) throw new Error(c.name);
    c.connect(emitSockaddr({ addr: Ipv4Address.parse('127.0.0.1')!, port: 7000 }));
    clock.sleep(5);
    const d = listener!.accept();
    if (!(d instanceof InetSocket)) throw new Error('no connection');
    expect(d.peekOff).toBe(3);
  });

  it('UDP: the offset runs across datagrams; MSG_TRUNC moves it by the whole length', () => {
    const { a, b, clock } = setup(SockType.SOCK_DGRAM);
    for (const d of ['12345', 'abcdefgh', 'XY']) a.sendto(te.encode(d));
    clock.sleep(5);
    b.peekOff = 0;
    expect(rx(b, 3, PEEK)).toBe('3 "123" TRUNC off=3');
    expect(rx(b, 10, PEEK)).toBe('2 "45" off=5');
    expect(rx(b, 10, PEEK)).toBe('8 "abcdefgh" off=13');
    expect(rx(b, 4, PEEK)).toBe('2 "XY" off=15');
    expect(rx(b, 4, PEEK)).toBe('EAGAIN off=15');
    expect(rx(b, 100, 0)).toBe('5 "12345" off=10');
    expect(rx(b, 3, 0)).toBe('3 "abc" TRUNC off=7');
    expect(rx(b, 4, PEEK)).toBe('EAGAIN off=7');
    b.peekOff = 0;
    expect(rx(b, 1, PEEK)).toBe('1 "X" TRUNC off=1');
    expect(rx(b, 1, PEEK | MsgFlag.MSG_TRUNC)).toBe('2 "Y" TRUNC off=3');
    // A zero-length datagram is returned once at offset 0, then passed over (skb->peeked).
    a.sendto(new Uint8Array(0));
    a.sendto(te.encode('st'));
    clock.sleep(5);
    b.peekOff = 2;
    expect(rx(b, 10, PEEK)).toBe('0 "" off=2');
    expect(rx(b, 10, PEEK)).toBe('2 "st" off=4');
    expect(rx(b, 10, PEEK)).toBe('EAGAIN off=4');
    expect(rx(b, 10, MsgFlag.MSG_TRUNC)).toBe('2 "XY" off=2');
    expect(rx(b, 10, 0)).toBe('0 "" off=2');
    expect(rx(b, 10, 0)).toBe('2 "st" off=0');
  });
});

describe('README example (writability, peek offsets and device binding)', () => {
  it('runs as written', async () => {
    const { linkPair } = await import('../phy/loopback.js');
    const { LOOPBACK_IFINDEX } = await import('../stack.js');
    const [nic] = linkPair({ medium: 'ip', mtu: 1500 });
    const host = new Stack({ device: nic, addresses: [cidr('127.0.0.1/8'), cidr('10.9.0.1/24')] });
    const local = InetSocket.create(
      host,
      AddressFamily.AF_INET,
      SockType.SOCK_DGRAM | SockType.SOCK_NONBLOCK,
      0,
    );
    const outside = InetSocket.create(
      host,
      AddressFamily.AF_INET,
      SockType.SOCK_DGRAM | SockType.SOCK_NONBLOCK,
      0,
    );
    if (isError(local) || isError(outside)) throw new Error('socket');
    local.bindToDevice(LOOPBACK_IFINDEX);
    outside.bindToDevice(host.deviceIfindex);
    expect(local.bind(emitSockaddr({ addr: Ipv4Address.UNSPECIFIED, port: 53 }))).toBe(0);
    expect(outside.bind(emitSockaddr({ addr: Ipv4Address.UNSPECIFIED, port: 53 }))).toBe(0);
    local.peekOff = 0;
    const sent = outside.sendto(
      new TextEncoder().encode('hello'),
      0,
      emitSockaddr({ addr: Ipv4Address.LOOPBACK, port: 53 }),
    );
    expect(sent).toBe(5);
    virtualClock(host).sleep(10);
    expect(local.recvfrom(new Uint8Array(8))).toBe(WOULD_BLOCK);
    expect(outside.recvfrom(new Uint8Array(8))).toBe(WOULD_BLOCK);
  });
});
