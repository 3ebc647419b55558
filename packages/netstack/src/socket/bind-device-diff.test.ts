// SO_BINDTODEVICE (InetSocket.bindToDevice) against the host kernel: bind-device-diff.test-util.c
// runs in a network namespace with `lo` and a veth `eth0` (10.9.0.1/24); netstack runs the same
// calls on a stack with loopback addresses and 10.9.0.1/24 on a device (link 2) whose far end
// never answers. Both print which datagrams and connections get through from and to sockets
// bound to each link, which second binds of a port succeed, and the ENODEV of an unknown index.
import {
  AddressFamily,
  IpOption,
  isError,
  PollEvent,
  SockType,
  SocketLevel,
  SocketOption,
} from '@tsvisor/abi';
import { expect, it } from 'vitest';
import { cidr } from '../iface/interface.js';
import { linkPair } from '../phy/loopback.js';
import { LOOPBACK_IFINDEX, Stack } from '../stack.js';
import { Ipv4Address } from '../wire/ip-address.js';
import { hostProgram, res, virtualClock } from './host-diff.test-util.js';
import { InetSocket } from './inet-socket.js';
import { WOULD_BLOCK } from './would-block.js';
import { emitSockaddr } from './sockaddr.js';

const hostRun = hostProgram(
  'bind-device-diff',
  'ip link add eth0 type veth peer name eth0p && ip addr add 10.9.0.1/24 dev eth0 && ' +
    'ip link set eth0 up && ip link set eth0p up',
);

const DEVS = ['', 'lo', 'eth0'] as const;
const IPS = ['127.0.0.1', '10.9.0.1'] as const;

function netstackRun(): string {
  const [nic] = linkPair({ medium: 'ip', mtu: 1500 });
  const stack = new Stack({ device: nic, addresses: [cidr('127.0.0.1/8'), cidr('10.9.0.1/24')], seed: 5 });
  const index = { '': 0, lo: LOOPBACK_IFINDEX, eth0: stack.deviceIfindex };
  const clock = virtualClock(stack);
  const out: string[] = [];
  const sock = (type: number, dev: (typeof DEVS)[number]): InetSocket => {
    const s = InetSocket.create(stack, AddressFamily.AF_INET, type | SockType.SOCK_NONBLOCK, 0);
    if (isError(s)) throw new Error(s.name);
    if (dev) s.bindToDevice(index[dev]);
    return s;
  };
  const sa = (ip: string, port: number): Uint8Array => emitSockaddr({ addr: Ipv4Address.parse(ip)!, port });
  let port = 4000;
  for (const sd of DEVS)
    for (const cd of DEVS)
      for (const ip of IPS) {
        port++;
        const s = sock(SockType.SOCK_DGRAM, sd);
        s.bind(sa('0.0.0.0', port));
        const c = sock(SockType.SOCK_DGRAM, cd);
        const sent = res(c.sendto(Uint8Array.of(0x78), 0, sa(ip, port)));
        clock.sleep(20);
        out.push(
          `udp srv=${sd} cli=${cd} dst=${ip}: send ${sent} recv ${res(s.recvfrom(new Uint8Array(8)))}`,
        );
        s.close();
        c.close();
      }
  for (const sd of DEVS)
    for (const cd of DEVS)
      for (const ip of IPS) {
        port++;
        const l = sock(SockType.SOCK_STREAM, sd);
        l.bind(sa('0.0.0.0', port));
        l.listen(4);
        const c = sock(SockType.SOCK_STREAM, cd);
        const r = res(c.connect(sa(ip, port)));
        clock.sleep(300);
        const err = c.getsockopt(SocketLevel.SOL_SOCKET, SocketOption.SO_ERROR);
        const errName = typeof err === 'number' && err !== 0 ? errnoName(err) : undefined;
        const then = errName ?? (c.readiness() & PollEvent.POLLOUT ? 'ok' : 'pending');
        out.push(`tcp srv=${sd} cli=${cd} dst=${ip}: connect ${r} then ${then}`);
        l.close();
        c.close();
        clock.sleep(1);
      }
  for (const tcp of [false, true])
    for (const x of DEVS)
      for (const y of DEVS)
        for (const ra of [0, 1]) {
          port++;
          const type = tcp ? SockType.SOCK_STREAM : SockType.SOCK_DGRAM;
          const a1 = sock(type, '');
          const a2 = sock(type, '');
          a1.setsockopt(SocketLevel.SOL_SOCKET, SocketOption.SO_REUSEADDR, ra);
          a2.setsockopt(SocketLevel.SOL_SOCKET, SocketOption.SO_REUSEADDR, ra);
          if (x) a1.bindToDevice(index[x]);
          if (y) a2.bindToDevice(index[y]);
          a1.bind(sa('0.0.0.0', port));
          if (tcp) a1.listen(1);
          out.push(
            `${tcp ? 'tcp' : 'udp'} bind ${x} then ${y} reuse ${ra}: ${res(a2.bind(sa('0.0.0.0', port)))}`,
          );
          a1.close();
          a2.close();
        }
  const u = sock(SockType.SOCK_DGRAM, '');
  const bound = res(u.bindToDevice(77));
  const sendto = res(u.sendto(Uint8Array.of(1), 0, sa('127.0.0.1', 9)));
  out.push(`udp bindtoifindex 77: ${bound} sendto ${sendto} connect ${res(u.connect(sa('127.0.0.1', 9)))}`);
  const t = sock(SockType.SOCK_STREAM, '');
  t.bindToDevice(77);
  out.push(`tcp bindtoifindex 77: connect ${res(t.connect(sa('127.0.0.1', 9)))}`);
  const names: Record<number, string> = { [LOOPBACK_IFINDEX]: 'lo', [stack.deviceIfindex]: 'eth0' };
  port = 6000;
  for (const cd of DEVS)
    for (const ip of IPS) {
      const s = sock(SockType.SOCK_DGRAM, '');
      s.setsockopt(SocketLevel.SOL_IP, IpOption.IP_PKTINFO, 1);
      s.bind(sa('0.0.0.0', ++port));
      const c = sock(SockType.SOCK_DGRAM, cd);
      c.sendto(Uint8Array.of(0x78), 0, sa(ip, port));
      clock.sleep(20);
      const r = s.recvfrom(new Uint8Array(8));
      let shown = 'ifindex none spec - addr -';
      const info =
        r !== WOULD_BLOCK && !isError(r) ? r.control?.find((m) => m.type === IpOption.IP_PKTINFO) : undefined;
      if (info) {
        const index = new DataView(info.data.buffer, info.data.byteOffset).getInt32(0, true);
        const ip4 = (at: number): string => [...info.data.subarray(at, at + 4)].join('.');
        shown = `ifindex ${names[index] ?? index} spec ${ip4(4)} addr ${ip4(8)}`;
      }
      out.push(`pktinfo cli=${cd} dst=${ip}: ${shown}`);
      s.close();
      c.close();
    }
  return out.join('\n') + '\n';
}

/** The errno names SO_ERROR can give here. */
function errnoName(n: number): string {
  return (
    (
      { 111: 'ECONNREFUSED', 110: 'ETIMEDOUT', 113: 'EHOSTUNREACH', 101: 'ENETUNREACH' } as Record<
        number,
        string
      >
    )[n] ?? String(n)
  );
}

it('SO_BINDTODEVICE: what gets through, and port sharing, as on the host', () => {
  const host = hostRun();
  // The host must show the device's effect, not only agree.
  expect(host).toContain('udp srv=lo cli= dst=10.9.0.1: send 1 recv WOULD_BLOCK\n');
  expect(host).toContain('tcp srv=lo cli= dst=10.9.0.1: connect EINPROGRESS then ECONNREFUSED\n');
  expect(host).toContain('udp bind lo then eth0 reuse 0: 0\n');
  expect(host).toContain('pktinfo cli= dst=10.9.0.1: ifindex eth0 spec 10.9.0.1 addr 10.9.0.1\n');
  expect(host).toContain('pktinfo cli=lo dst=10.9.0.1: ifindex lo spec 10.9.0.1 addr 10.9.0.1\n');
  expect(netstackRun()).toBe(host);
}, 30_000);
