import { E } from '@tsvisor/abi';
import { describe, expect, it } from 'vitest';
import { cidr } from '../iface/interface.js';
import { LoopbackDevice } from '../phy/loopback.js';
import { Stack } from '../stack.js';
import { RingBuffer } from '../storage/ring-buffer.js';
import { Ipv4Address, type IpAddress } from '../wire/ip-address.js';

const lo = Ipv4Address.LOOPBACK;
const lo2 = Ipv4Address.parse('127.0.0.2')!;
const any = Ipv4Address.UNSPECIFIED;
const rings = () => ({ rx: new RingBuffer(new Uint8Array(4096)), tx: new RingBuffer(new Uint8Array(4096)) });

function stack(seed: number, range: [number, number]): Stack {
  const s = new Stack({ device: new LoopbackDevice(), addresses: [cidr('127.0.0.1/8')], seed });
  s.sysctl.portRange = range;
  // The listener connect(2) goes to, outside every range used here.
  const l = s.tcpListener(4, rings);
  l.bind({ addr: lo, port: 80 });
  l.listen(4096);
  return s;
}

type How = 'bind' | 'listen' | 'connect' | 'udp bind' | 'udp connect';

/** Sockets take a port each until one fails: the ports taken, sorted, then that errno's name. */
function fill(s: Stack, how: How): (number | string)[] {
  const ports: number[] = [];
  for (;;) {
    let err;
    let sock;
    if (how === 'udp bind' || how === 'udp connect') {
      sock = s.udpSocket(4);
      err = how === 'udp bind' ? sock.bind({ addr: lo, port: 0 }) : sock.connect({ addr: lo, port: 9 });
    } else if (how === 'listen') {
      sock = s.tcpListener(4, rings);
      err = sock.listen(1);
    } else {
      sock = s.tcpSocket(4, rings());
      err = how === 'bind' ? sock.bind({ addr: lo, port: 0 }) : sock.connect({ addr: lo, port: 80 });
    }
    if (err) return [...ports.sort(), err.name];
    ports.push(sock.local!.port);
  }
}

interface Opts {
  reuseAddr?: boolean;
  reusePort?: boolean;
}

/** A TCP socket with the options given bound to `addr`:0 (listening if `listen`): its port or errno. */
function tcpBind(s: Stack, addr: IpAddress, o: Opts = {}, listen = false): number | string {
  const t = listen ? s.tcpListener(4, rings) : s.tcpSocket(4, rings());
  t.reuseAddr = o.reuseAddr ?? false;
  t.reusePort = o.reusePort ?? false;
  const err = listen ? (t as ReturnType<Stack['tcpListener']>).listen(1) : t.bind({ addr, port: 0 });
  return err ? err.name : t.local!.port;
}

function udpBind(s: Stack, addr: IpAddress, o: Opts = {}): number | string {
  const u = s.udpSocket(4);
  u.reuseAddr = o.reuseAddr ?? false;
  u.reusePort = o.reusePort ?? false;
  const err = u.bind({ addr, port: 0 });
  return err ? err.name : u.local!.port;
}

describe('net.ipv4.ip_local_reserved_ports', () => {
  it('every ephemeral search skips the reserved ports; an explicit bind(2) still takes them', () => {
    for (const seed of [1, 2, 3]) {
      const s = stack(seed, [40000, 40009]);
      s.sysctl.reservedPorts = new Set([40001, 40003, 40004, 40005, 40008, 50000]);
      const free = [40000, 40002, 40006, 40007, 40009];
      expect(fill(s, 'bind')).toEqual([...free, 'EADDRINUSE']);
      expect(fill(stack(seed, [40000, 40009]), 'bind')).toHaveLength(11);
      for (const [how, errno] of [
        ['listen', 'EADDRINUSE'],
        ['connect', 'EADDRNOTAVAIL'],
        ['udp bind', 'EADDRINUSE'],
        ['udp connect', 'EAGAIN'],
      ] as const) {
        const t = stack(seed, [40000, 40009]);
        t.sysctl.reservedPorts = s.sysctl.reservedPorts;
        expect(fill(t, how)).toEqual([...free, errno]);
      }
      expect(s.tcpSocket(4, rings()).bind({ addr: lo, port: 40001 })).toBeUndefined();
      expect(s.udpSocket(4).bind({ addr: lo, port: 40004 })).toBeUndefined();
    }
  });

  it('reserving the whole range leaves no ephemeral port; echo identifiers are not ports', () => {
    const s = stack(4, [40000, 40009]);
    s.sysctl.reservedPorts = new Set(Array.from({ length: 65535 }, (_, i) => i + 1));
    expect(fill(s, 'bind')).toEqual(['EADDRINUSE']);
    expect(fill(s, 'connect')).toEqual(['EADDRNOTAVAIL']);
    expect(fill(s, 'udp bind')).toEqual(['EADDRINUSE']);
    // ping_get_port looks at no sysctl.
    const p = s.icmpSocket(4);
    expect(p.bind({ addr: lo, port: 0 })).toBeUndefined();
    expect(p.local?.port).toBeGreaterThan(0);
  });
});

describe('net.ipv4.ip_autobind_reuse', () => {
  it('lets bind(2) of port 0 share a full range only among SO_REUSEADDR sockets', () => {
    const reuse = { reuseAddr: true };
    const pair = (first: Opts, second: Opts, secondListens = false): (number | string)[] => {
      const s = stack(6, [40000, 40000]);
      s.sysctl.autobindReuse = 1;
      return [tcpBind(s, lo, first), tcpBind(s, lo, second, secondListens)];
    };
    const s = stack(6, [40000, 40000]);
    expect([tcpBind(s, lo, reuse), tcpBind(s, lo, reuse)]).toEqual([40000, 'EADDRINUSE']);
    expect(pair(reuse, reuse)).toEqual([40000, 40000]);
    expect(pair(reuse, {})).toEqual([40000, 'EADDRINUSE']);
    expect(pair({}, reuse)).toEqual([40000, 'EADDRINUSE']);
    // Both with SO_REUSEPORT too would make a group no one asked for.
    const both = { reuseAddr: true, reusePort: true };
    expect(pair(both, both)).toEqual([40000, 'EADDRINUSE']);
    expect(pair(both, reuse)).toEqual([40000, 40000]);
    expect(pair({ reusePort: true }, { reusePort: true })).toEqual([40000, 'EADDRINUSE']);
    // listen(2)'s autobind shares with a socket that is bound only; a listener keeps its port.
    expect(pair(reuse, reuse, true)).toEqual([40000, 40000]);
    const l = stack(7, [40000, 40000]);
    l.sysctl.autobindReuse = 1;
    expect(tcpBind(l, lo, reuse, true)).toBe(40000);
    expect(tcpBind(l, lo, reuse)).toBe('EADDRINUSE');
  });

  it('is tried only once no port is free', () => {
    for (const seed of [8, 9, 10]) {
      const s = stack(seed, [40000, 40009]);
      s.sysctl.autobindReuse = 1;
      const ports = Array.from({ length: 10 }, () => tcpBind(s, lo, { reuseAddr: true }));
      expect(new Set(ports).size).toBe(10);
      expect(tcpBind(s, lo, { reuseAddr: true })).toBeGreaterThanOrEqual(40000);
    }
  });
});

describe('bind(2) of port 0 and the ports of other specific addresses', () => {
  it('takes a port held on another specific address, not one held on the wildcard', () => {
    const s = stack(11, [40000, 40000]);
    expect(tcpBind(s, lo2)).toBe(40000);
    expect(tcpBind(s, lo)).toBe(40000);
    expect(tcpBind(s, Ipv4Address.parse('127.0.0.3')!)).toBe(40000);
    expect(tcpBind(s, any)).toBe('EADDRINUSE');
    expect(udpBind(s, lo2)).toBe(40000);
    expect(udpBind(s, lo)).toBe(40000);
    expect(udpBind(s, any)).toBe('EADDRINUSE');
    const w = stack(12, [40000, 40000]);
    expect(tcpBind(w, any)).toBe(40000);
    expect(tcpBind(w, lo2)).toBe('EADDRINUSE');
    // connect(2) takes no port that bind(2) made, whatever its address.
    expect(s.tcpSocket(4, rings()).connect({ addr: lo, port: 80 })).toBe(E.EADDRNOTAVAIL);
  });

  it('not only when the range is full: TCP tries the odd offsets first', () => {
    for (const seed of [13, 14, 15]) {
      const s = stack(seed, [40000, 40001]);
      expect(s.tcpSocket(4, rings()).bind({ addr: lo2, port: 40001 })).toBeUndefined();
      expect(tcpBind(s, lo)).toBe(40001);
    }
  });

  it("UDP's autobind shares a port as an explicit bind(2) would", () => {
    const s = stack(17, [40000, 40000]);
    expect(udpBind(s, lo, { reuseAddr: true })).toBe(40000);
    expect(udpBind(s, lo, { reuseAddr: true })).toBe(40000);
    expect(udpBind(s, lo)).toBe('EADDRINUSE');
    const p = stack(18, [40000, 40000]);
    expect(udpBind(p, lo, { reusePort: true })).toBe(40000);
    expect(udpBind(p, lo, { reusePort: true })).toBe(40000);
    expect(udpBind(p, lo, { reuseAddr: true })).toBe('EADDRINUSE');
  });
});
