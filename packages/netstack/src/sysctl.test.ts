import { E } from '@tsvisor/abi';
import { describe, expect, it } from 'vitest';
import { cidr } from './iface/interface.js';
import { LoopbackDevice } from './phy/loopback.js';
import { RingBuffer } from './storage/ring-buffer.js';
import { Ipv4Address } from './wire/ip-address.js';
import { Stack } from './stack.js';
import { settle } from './stack.test-util.js';

const stack = (): Stack =>
  new Stack({ device: new LoopbackDevice(), addresses: [cidr('127.0.0.1/8')], seed: 7 });
const rings = () => ({ rx: new RingBuffer(new Uint8Array(4096)), tx: new RingBuffer(new Uint8Array(4096)) });
const lo = Ipv4Address.LOOPBACK;

describe('Stack.sysctl', () => {
  it('starts at Linux defaults', () => {
    const s = stack();
    expect(s.sysctl).toEqual({
      portRange: [32768, 60999],
      reservedPorts: new Set(),
      autobindReuse: 0,
      defaultTtl: 64,
      reflectTos: 0,
      minPmtu: 552,
      mtuExpires: 600,
      congestion: 'cubic',
      sack: 1,
      timestamps: 1,
      keepaliveTime: 7200,
      keepaliveIntvl: 75,
      keepaliveProbes: 9,
      finTimeout: 60,
      frto: 2,
      pingGroupRange: [1, 0],
      syncookies: 1,
      maxSynBacklog: 128,
      synackRetries: 5,
      abortOnOverflow: 0,
      twReuse: 2,
      rfc1337: 0,
      earlyRetrans: 3,
      synRetries: 6,
      synLinearTimeouts: 4,
      retries2: 15,
      orphanRetries: 0,
      notsentLowat: 0xffffffff,
      dsack: 1,
      invalidRatelimit: 500,
    });
  });

  it('ip_local_port_range bounds later autobinds; a full range gives the errnos of Linux', () => {
    const s = stack();
    s.sysctl.portRange = [40000, 40000];
    const a = s.udpSocket(4);
    expect(a.connect({ addr: lo, port: 9 })).toBeUndefined();
    expect(a.local?.port).toBe(40000);
    const b = s.udpSocket(4);
    // A full range: connect's autobind says EAGAIN (inet_autobind), bind(0) EADDRINUSE.
    expect(b.connect({ addr: lo, port: 9 })).toBe(E.EAGAIN);
    expect(b.bind({ addr: lo, port: 0 })).toBe(E.EADDRINUSE);
    const t = s.tcpSocket(4, rings());
    // TCP has its own port space: 40000 is free there.
    expect(t.bind({ addr: lo, port: 0 })).toBeUndefined();
    expect(t.local?.port).toBe(40000);
    // With 40000 taken, a TCP connect finds no port (inet_hash_connect: EADDRNOTAVAIL).
    const t2 = s.tcpSocket(4, rings());
    expect(t2.connect({ addr: lo, port: 80 })).toBe(E.EADDRNOTAVAIL);
    s.sysctl.portRange = [40001, 40003];
    const seen = new Set<number>();
    for (let i = 0; i < 3; i++) {
      const u = s.udpSocket(4);
      expect(u.connect({ addr: lo, port: 9 })).toBeUndefined();
      seen.add(u.local?.port ?? -1);
    }
    expect([...seen].sort()).toEqual([40001, 40002, 40003]);
  });

  it('tcp_congestion_control and tcp_sack/tcp_timestamps apply to sockets created afterwards', () => {
    const s = stack();
    const before = s.tcpSocket(4, rings());
    s.sysctl.congestion = 'reno';
    expect(s.defaultCongestion).toBe('reno');
    const after = s.tcpSocket(4, rings());
    expect(before.congestion).toBe('cubic');
    expect(after.congestion).toBe('reno');

    // A connection made with tcp_sack and tcp_timestamps on negotiates both; after turning them
    // off, a new client's SYN offers neither, so neither is negotiated.
    const l = s.tcpListener(4, rings);
    expect(l.bind({ addr: lo, port: 80 })).toBeUndefined();
    l.listen(4);
    const on = s.tcpSocket(4, rings());
    on.connect({ addr: lo, port: 80 });
    settle([s], 0);
    expect(on.state).toBe('ESTABLISHED');
    expect(on.negotiated).toMatchObject({ sack: true, timestamps: true });
    s.sysctl.sack = 0;
    s.sysctl.timestamps = 0;
    const off = s.tcpSocket(4, rings());
    off.connect({ addr: lo, port: 80 });
    settle([s], 1);
    expect(off.state).toBe('ESTABLISHED');
    expect(off.negotiated).toMatchObject({ sack: false, timestamps: false });
  });
});
