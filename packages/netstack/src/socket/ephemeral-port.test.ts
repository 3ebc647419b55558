import { E } from '@tsvisor/abi';
import { describe, expect, it } from 'vitest';
import { cidr } from '../iface/interface.js';
import { LoopbackDevice } from '../phy/loopback.js';
import { Stack } from '../stack.js';
import { RingBuffer } from '../storage/ring-buffer.js';
import { Ipv4Address } from '../wire/ip-address.js';
import type { TcpListener, TcpSocket } from './tcp.js';

const lo = Ipv4Address.LOOPBACK;
const rings = () => ({ rx: new RingBuffer(new Uint8Array(4096)), tx: new RingBuffer(new Uint8Array(4096)) });

function stack(seed: number, range?: [number, number]): Stack {
  const s = new Stack({ device: new LoopbackDevice(), addresses: [cidr('127.0.0.1/8')], seed });
  if (range) s.sysctl.portRange = range;
  // The listener connect(2) goes to, on a port outside every range used here.
  const l = s.tcpListener(4, rings);
  l.bind({ addr: lo, port: 80 });
  l.listen(4096);
  return s;
}

/** The ports of `n` UDP sockets bound to port 0 (each bind must succeed). */
function udpPorts(s: Stack, n: number): number[] {
  const ports: number[] = [];
  for (let i = 0; i < n; i++) {
    const u = s.udpSocket(4);
    expect(u.bind({ addr: lo, port: 0 })).toBeUndefined();
    ports.push(u.local!.port);
  }
  return ports;
}

/** How each socket got its port, as in testdata/ephemeral-parity.c of the runtime. */
type How = 'bind' | 'listen' | 'connect' | 'bind SO_REUSEADDR';

/** Options a socket is given before it takes its port. */
interface Opts {
  localPortRange?: number;
}

/** `n` sockets take a port each; their ports in order, ending at the first errno. */
function take(s: Stack, how: How, n: number, opts: Opts = {}): (number | string)[] {
  const out: (number | string)[] = [];
  for (let i = 0; i < n; i++) {
    const sock: TcpSocket | TcpListener =
      how === 'listen' ? s.tcpListener(4, rings) : s.tcpSocket(4, rings());
    sock.localPortRange = opts.localPortRange ?? 0;
    if (how === 'bind SO_REUSEADDR') sock.reuseAddr = true;
    const err =
      how === 'listen'
        ? (sock as TcpListener).listen(1)
        : how === 'connect'
          ? (sock as TcpSocket).connect({ addr: lo, port: 80 })
          : sock.bind({ addr: lo, port: 0 });
    if (err) {
      out.push(err.name);
      break;
    }
    out.push(sock.local!.port);
  }
  return out;
}

const parities = (ports: (number | string)[]): string =>
  ports.map((p) => (typeof p === 'string' ? p : p % 2 ? 'o' : 'e')).join(' ');

describe('ephemeral ports (inet_csk_find_open_port, __inet_hash_connect)', () => {
  it('bind(2) of port 0 and listen(2) take odd ports, connect(2) even ones, in the default range', () => {
    for (const seed of [1, 2, 3]) {
      const s = stack(seed);
      const odd = Array(50).fill('o').join(' ');
      expect(parities(take(s, 'bind', 50))).toBe(odd);
      expect(parities(take(s, 'listen', 50))).toBe(odd);
      expect(parities(take(s, 'connect', 50))).toBe(Array(50).fill('e').join(' '));
      for (const p of take(s, 'connect', 50)) {
        expect(p).toBeGreaterThanOrEqual(32768);
        expect(p).toBeLessThanOrEqual(60999);
      }
    }
  });

  it('UDP prefers no parity (udp_lib_get_port)', () => {
    const seen = new Set(udpPorts(stack(4), 40).map((p) => p % 2));
    expect(seen.size).toBe(2);
  });

  it('UDP starts each search at a random port (udp_lib_get_port)', () => {
    for (const seed of [8, 9, 10]) {
      const s = stack(seed);
      const ports = udpPorts(s, 20);
      // Consecutive binds land far apart: a rotating search would give p, p+1, p+2, ...
      const steps = ports.slice(1).map((p, i) => p - ports[i]!);
      expect(steps.filter((d) => d === 1).length).toBeLessThan(3);
      // A full range still gives every port: a narrow one fills exactly.
      s.sysctl.portRange = [41000, 41003];
      expect(udpPorts(s, 4).sort()).toEqual([41000, 41001, 41002, 41003]);
      expect(s.udpSocket(4).bind({ addr: lo, port: 0 })).toBe(E.EADDRINUSE);
    }
  });

  it('falls back to the other parity when one runs out, then to the errno of a full range', () => {
    for (const seed of [5, 6, 7]) {
      expect(parities(take(stack(seed, [40000, 40009]), 'bind', 12))).toBe('o o o o o e e e e e EADDRINUSE');
      expect(parities(take(stack(seed, [40000, 40009]), 'listen', 12))).toBe(
        'o o o o o e e e e e EADDRINUSE',
      );
      expect(parities(take(stack(seed, [40000, 40009]), 'connect', 12))).toBe(
        'e e e e e o o o o o EADDRNOTAVAIL',
      );
      // Offsets count from the low end: an odd one makes bind's first ports even.
      expect(parities(take(stack(seed, [40001, 40006]), 'bind', 7))).toBe('e e e o o o EADDRINUSE');
      expect(parities(take(stack(seed, [40001, 40006]), 'connect', 7))).toBe('o o o e e e EADDRNOTAVAIL');
      // Both searches cover an even count of ports: the third of three is never reached.
      expect(take(stack(seed, [40001, 40003]), 'bind', 3)).toEqual([40002, 40001, 'EADDRINUSE']);
      expect(take(stack(seed, [40001, 40003]), 'connect', 3)).toEqual([40001, 40002, 'EADDRNOTAVAIL']);
    }
  });

  it('with SO_REUSEADDR, bind(2) searches the lower half of the range first', () => {
    const half = (p: number | string): string =>
      typeof p === 'string' ? p : `${p % 2 ? 'o' : 'e'}${p < 40004 ? 'L' : 'H'}`;
    for (const seed of [8, 9]) {
      expect(
        take(stack(seed, [40000, 40009]), 'bind SO_REUSEADDR', 12)
          .map(half)
          .join(' '),
      ).toBe('oL oL eL eL oH oH oH eH eH eH EADDRINUSE');
      for (const p of take(stack(seed), 'bind SO_REUSEADDR', 20)) expect(p).toBeLessThan(32768 + 14116);
    }
  });

  it('IP_LOCAL_PORT_RANGE narrows both searches; connect then steps by one port, bind keeps its parity', () => {
    const own = (low: number, high: number): Opts => ({ localPortRange: low | (high << 16) });
    for (const seed of [10, 11]) {
      expect(parities(take(stack(seed, [40000, 49999]), 'bind', 12, own(40100, 40109)))).toBe(
        'o o o o o e e e e e EADDRINUSE',
      );
      const ports = take(stack(seed, [40000, 49999]), 'connect', 11, own(40100, 40109));
      expect(ports.pop()).toBe('EADDRNOTAVAIL');
      expect([...ports].sort()).toEqual([
        40100, 40101, 40102, 40103, 40104, 40105, 40106, 40107, 40108, 40109,
      ]);
      // Three ports: bind still reaches two of them, connect all three.
      expect(take(stack(seed, [40000, 49999]), 'bind', 3, own(40101, 40103))).toEqual([
        40102,
        40101,
        'EADDRINUSE',
      ]);
      const three = take(stack(seed, [40000, 49999]), 'connect', 4, own(40101, 40103));
      expect(three.pop()).toBe('EADDRNOTAVAIL');
      expect([...three].sort()).toEqual([40101, 40102, 40103]);
    }
  });

  it('connect(2) shares a port among connections to different peers, even ports first for each', () => {
    const s = stack(12, [40000, 40001]);
    const l2 = s.tcpListener(4, rings);
    l2.bind({ addr: lo, port: 81 });
    l2.listen(8);
    const to = (port: number): number | string => {
      const t = s.tcpSocket(4, rings());
      const err = t.connect({ addr: lo, port });
      return err ? err.name : t.local!.port;
    };
    // Each destination gets both ports, even first, however its own offset falls.
    expect([to(80), to(80), to(80)]).toEqual([40000, 40001, 'EADDRNOTAVAIL']);
    expect([to(81), to(81), to(81)]).toEqual([40000, 40001, 'EADDRNOTAVAIL']);
  });
});
