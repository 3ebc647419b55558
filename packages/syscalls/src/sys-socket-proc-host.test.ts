// /proc/net in network mode `host` without a host: the line builder (hostInetEntry) on odd and
// hostile answers, and procNetSource over a fake HostSockets (which sockets are listed, with which
// inodes, and sysctl writes refused). The real host is compared in @tsvisor/runtime
// (proc-net-host.test.ts).
import { E, isError, type LinuxError } from '@tsvisor/abi';
import { renderTcp, renderTcp6 } from '@tsvisor/procfs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BUF, harness } from './harness.test-util.js';
import { configureHostNetwork, type HostSockets } from './sys-socket-host.js';
import { hostInetEntry, procNetSource, type HostSocketFacts } from './sys-socket-proc.js';

const AF_UNIX = 1;
const AF_INET = 2;
const AF_INET6 = 10;
const SOCK_STREAM = 1;
const SOCK_DGRAM = 2;
const TCP = 6;
const UDP = 17;

function sin(port: number, a: readonly number[]): Uint8Array {
  return Uint8Array.from([AF_INET, 0, port >> 8, port & 0xff, ...a, 0, 0, 0, 0, 0, 0, 0, 0]);
}

function sin6(port: number, a: readonly number[]): Uint8Array {
  return Uint8Array.from([AF_INET6, 0, port >> 8, port & 0xff, 0, 0, 0, 0, ...a, 0, 0, 0, 0]);
}

const MAPPED_LOOPBACK = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1];

/** A struct tcp_info of `state` with rto/ato (µs), ssthresh and cwnd. */
function tcpInfo(
  state: number,
  f: { rto?: number; ato?: number; ssthresh?: number; cwnd?: number } = {},
): Uint8Array {
  const b = new Uint8Array(232);
  const v = new DataView(b.buffer);
  b[0] = state;
  v.setUint32(8, f.rto ?? 200_000, true);
  v.setUint32(12, f.ato ?? 40_000, true);
  v.setUint32(76, f.ssthresh ?? 0x7fffffff, true);
  v.setUint32(80, f.cwnd ?? 10, true);
  return b;
}

function tcpFacts(over: Partial<HostSocketFacts> = {}): HostSocketFacts {
  return {
    domain: AF_INET,
    protocol: TCP,
    local: sin(8080, [127, 0, 0, 1]),
    remote: sin(40000, [127, 0, 0, 1]),
    tcpInfo: tcpInfo(1),
    inq: 3,
    outq: 5,
    inode: 77,
    uid: 1000,
    ...over,
  };
}

describe('hostInetEntry: one line of /proc/net/{tcp,udp}[6] from what the host says', () => {
  it('an established connection: addresses, queues, TCP_INFO times in clock ticks', () => {
    expect(hostInetEntry(tcpFacts(), 'tcp', 4)).toEqual({
      local: { address: Uint8Array.from([127, 0, 0, 1]), port: 8080 },
      remote: { address: Uint8Array.from([127, 0, 0, 1]), port: 40000 },
      state: 1,
      txQueue: 5,
      rxQueue: 3,
      uid: 1000,
      inode: 77,
      retransmits: 0,
      rtoTicks: 20,
      atoTicks: 4,
      cwnd: 10,
      ssthresh: -1,
    });
    expect(hostInetEntry(tcpFacts({ tcpInfo: tcpInfo(1, { ssthresh: 7 }) }), 'tcp', 4)?.ssthresh).toBe(7);
    // Listed only in its own protocol's and family's file.
    expect(hostInetEntry(tcpFacts(), 'udp', 4)).toBeUndefined();
    expect(hostInetEntry(tcpFacts(), 'tcp', 6)).toBeUndefined();
  });

  it('a listener shows its accept queue, no peer, rto 1 s', () => {
    const info = tcpInfo(10);
    new DataView(info.buffer).setUint32(24, 2, true); // tcpi_unacked: 2 connections to accept
    const e = hostInetEntry(
      tcpFacts({ tcpInfo: info, inq: E.EINVAL, outq: E.EINVAL, remote: E.ENOTCONN }),
      'tcp',
      4,
    );
    expect(e).toMatchObject({ state: 10, txQueue: 0, rxQueue: 2, rtoTicks: 100, ssthresh: 0 });
    expect(e?.remote).toEqual({ address: new Uint8Array(4), port: 0 });
  });

  it('closed, unbound and failing sockets are not listed', () => {
    // TCP_CLOSE: closed, or never bound/listening/connected (not in the listening or established hash).
    expect(hostInetEntry(tcpFacts({ tcpInfo: tcpInfo(7) }), 'tcp', 4)).toBeUndefined();
    // The host fd is gone or answers nonsense.
    expect(hostInetEntry(tcpFacts({ tcpInfo: E.EBADF }), 'tcp', 4)).toBeUndefined();
    expect(hostInetEntry(tcpFacts({ tcpInfo: tcpInfo(1).subarray(0, 40) }), 'tcp', 4)).toBeUndefined();
    expect(hostInetEntry(tcpFacts({ tcpInfo: tcpInfo(0) }), 'tcp', 4)).toBeUndefined();
    expect(hostInetEntry(tcpFacts({ tcpInfo: tcpInfo(13) }), 'tcp', 4)).toBeUndefined();
    expect(hostInetEntry(tcpFacts({ local: E.EBADF }), 'tcp', 4)).toBeUndefined();
    expect(hostInetEntry(tcpFacts({ protocol: E.EBADF }), 'tcp', 4)).toBeUndefined();
    // Short or foreign sockaddrs.
    expect(hostInetEntry(tcpFacts({ local: Uint8Array.from([AF_INET]) }), 'tcp', 4)).toBeUndefined();
    expect(
      hostInetEntry(tcpFacts({ local: Uint8Array.from([AF_UNIX, 0, 47, 0]) }), 'tcp', 4),
    ).toBeUndefined();
    // Failing queue ioctls count as empty queues, not as errors.
    expect(hostInetEntry(tcpFacts({ inq: E.EINVAL, outq: -3 }), 'tcp', 4)).toMatchObject({
      txQueue: 0,
      rxQueue: 0,
    });
    // A peer the host cannot name (SYN_SENT answers ENOTCONN) prints as the any address.
    expect(hostInetEntry(tcpFacts({ remote: E.ENOTCONN, tcpInfo: tcpInfo(2) }), 'tcp', 4)?.remote.port).toBe(
      0,
    );
  });

  it('IPv4-mapped addresses of an AF_INET6 socket go to tcp6 as the host gives them', () => {
    const f = tcpFacts({
      domain: AF_INET6,
      local: sin6(8080, MAPPED_LOOPBACK),
      remote: sin6(40000, MAPPED_LOOPBACK),
    });
    expect(hostInetEntry(f, 'tcp', 4)).toBeUndefined();
    const e = hostInetEntry(f, 'tcp', 6);
    expect(e?.local.address).toEqual(Uint8Array.from(MAPPED_LOOPBACK));
    const line = renderTcp6(e ? [e] : []).split('\n')[1] ?? '';
    expect(line).toMatch(
      /^ {3}0: 0000000000000000FFFF00000100007F:1F90 0000000000000000FFFF00000100007F:9C40 01 /,
    );
    // An AF_INET sockaddr from an AF_INET6 socket is shown mapped; an IPv6 address never in tcp.
    expect(hostInetEntry(tcpFacts({ domain: AF_INET6 }), 'tcp', 6)?.local.address).toEqual(
      Uint8Array.from(MAPPED_LOOPBACK),
    );
    expect(hostInetEntry(tcpFacts({ local: sin6(1, MAPPED_LOOPBACK) }), 'tcp', 4)).toBeUndefined();
  });

  it('UDP: listed once bound; connected is state 01; queues from SO_MEMINFO', () => {
    const mem = new Uint8Array(36);
    const v = new DataView(mem.buffer);
    v.setUint32(0, 768, true); // rmem_alloc
    v.setUint32(8, 256, true); // wmem_alloc
    v.setUint32(32, 4, true); // drops
    const udp = (over: Partial<HostSocketFacts>): HostSocketFacts =>
      tcpFacts({ protocol: UDP, tcpInfo: E.ENOPROTOOPT, memInfo: mem, remote: E.ENOTCONN, ...over });
    expect(hostInetEntry(udp({}), 'udp', 4)).toMatchObject({
      state: 7,
      rxQueue: 768,
      txQueue: 256,
      drops: 4,
      remote: { address: new Uint8Array(4), port: 0 },
    });
    expect(hostInetEntry(udp({ remote: sin(53, [10, 0, 0, 1]) }), 'udp', 4)).toMatchObject({
      state: 1,
      remote: { address: Uint8Array.from([10, 0, 0, 1]), port: 53 },
    });
    expect(hostInetEntry(udp({ local: sin(0, [0, 0, 0, 0]) }), 'udp', 4)).toBeUndefined();
    // Without SO_MEMINFO the queue ioctls stand in.
    expect(hostInetEntry(udp({ memInfo: E.ENOPROTOOPT }), 'udp', 4)).toMatchObject({
      rxQueue: 3,
      txQueue: 5,
    });
    expect(hostInetEntry(udp({ memInfo: mem.subarray(0, 8) }), 'udp', 4)).toMatchObject({ rxQueue: 3 });
  });

  it('never throws and only lists well-formed entries, whatever the host answers', () => {
    const answer = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | LinuxError> =>
      fc.oneof(
        { arbitrary: arb, weight: 4 },
        { arbitrary: fc.constantFrom(E.EBADF, E.ENOTCONN, E.EINVAL), weight: 1 },
      );
    // Well-formed sockaddrs of both families, and any bytes at all.
    const sockaddr = fc.oneof(
      fc.tuple(fc.nat(65535), fc.uint8Array({ minLength: 4, maxLength: 4 })).map(([p, a]) => sin(p, [...a])),
      fc
        .tuple(fc.nat(65535), fc.uint8Array({ minLength: 16, maxLength: 16 }))
        .map(([p, a]) => sin6(p, [...a])),
      fc.uint8Array({ maxLength: 40 }),
    );
    const tcpInfoBytes = fc.oneof(
      fc
        .tuple(fc.integer({ min: 0, max: 255 }), fc.nat(), fc.nat())
        .map(([st, rto, ss]) => tcpInfo(st, { rto, ssthresh: ss })),
      fc.uint8Array({ maxLength: 240 }),
    );
    let listed = 0;
    const facts = fc.record({
      domain: fc.constantFrom(AF_INET, AF_INET6, AF_INET, AF_INET6, AF_UNIX, 0),
      protocol: answer(fc.constantFrom(TCP, UDP, TCP, UDP, 1, 58)),
      local: answer(sockaddr),
      remote: answer(sockaddr),
      tcpInfo: answer(tcpInfoBytes),
      memInfo: answer(fc.uint8Array({ maxLength: 40 })),
      inq: answer(fc.integer()),
      outq: answer(fc.integer()),
      inode: fc.nat(),
      uid: fc.nat(),
    });
    fc.assert(
      fc.property(
        facts,
        fc.constantFrom('tcp' as const, 'udp' as const),
        fc.constantFrom(4 as const, 6 as const),
        (f, p, fam) => {
          const e = hostInetEntry(f, p, fam);
          if (!e) return;
          listed++;
          const len = fam === 4 ? 4 : 16;
          expect(e.local.address.length).toBe(len);
          expect(e.remote.address.length).toBe(len);
          expect(e.state).toBeGreaterThanOrEqual(1);
          expect(e.state).toBeLessThanOrEqual(12);
          expect(e.txQueue).toBeGreaterThanOrEqual(0);
          expect(e.rxQueue).toBeGreaterThanOrEqual(0);
          expect(() => (fam === 4 ? renderTcp([e]) : renderTcp6([e]))).not.toThrow();
        },
      ),
      { numRuns: 3000 },
    );
    // The property saw listed entries, not only rejections.
    expect(listed).toBeGreaterThan(5);
  });
});

/** A host whose sockets are all 127.0.0.1 listeners on port 1000 + their fd; closes recorded. */
function fakeHost(): { calls: HostSockets; closed: number[] } {
  const closed: number[] = [];
  let next = 50;
  const calls: HostSockets = {
    socket: () => next++,
    bind: () => 0,
    connect: () => 0,
    listen: () => 0,
    accept: (): LinuxError => E.EAGAIN,
    name: (fd, peer, out) => {
      if (peer) return E.ENOTCONN;
      out.set(sin(1000 + fd, [127, 0, 0, 1]));
      return 16;
    },
    send: () => E.EAGAIN,
    recv: () => E.EAGAIN,
    setsockopt: () => 0,
    getsockopt: (_fd, level, name, out) => {
      if (level === 1 && name === 38) {
        new DataView(out.buffer, out.byteOffset).setInt32(0, TCP, true); // SO_PROTOCOL
        return 4;
      }
      if (level === TCP && name === 11) {
        const info = tcpInfo(10);
        out.set(info.subarray(0, out.length));
        return Math.min(out.length, info.length);
      }
      return E.ENOPROTOOPT;
    },
    shutdown: () => 0,
    ioctlInt: (): LinuxError => E.EINVAL,
    poll: () => 0,
    watch: () => ({ arm: () => undefined, edges: () => undefined, close: () => undefined }),
    close: (fd) => void closed.push(fd),
  };
  return { calls, closed };
}

describe('procNetSource in network mode host', () => {
  it('lists the open host sockets with their own inodes, and stops when they close', async () => {
    const h = harness();
    const host = fakeHost();
    configureHostNetwork(h.kernel, host.calls);
    const net = procNetSource(h.kernel);
    expect(net.tcp()).toEqual([]);
    const a = (await h.call('socket', AF_INET, SOCK_STREAM, 0)) as number;
    const b = (await h.call('socket', AF_INET, SOCK_STREAM, 0)) as number;
    const u = (await h.call('socket', AF_UNIX, SOCK_DGRAM, 0)) as number;
    expect([a, b, u].every((fd) => fd >= 0)).toBe(true);
    const inodes: number[] = [];
    for (const fd of [a, b]) {
      expect(await h.call('fstat', fd, BUF)).toBe(0);
      const st = h.mem.read(BUF + 8, 8);
      if (isError(st)) throw new Error('unmapped');
      inodes.push(Number(new DataView(st.buffer, st.byteOffset, 8).getBigUint64(0, true)));
    }
    expect(inodes[0]).not.toBe(inodes[1]);
    const listed = net.tcp();
    expect(listed.map((e) => [e.local.port, e.state, e.inode])).toEqual([
      [1050, 10, inodes[0]],
      [1051, 10, inodes[1]],
    ]);
    expect(net.tcp6()).toEqual([]);
    expect(net.udp()).toEqual([]);
    // AF_UNIX sockets stay the sandbox's own and are listed as before.
    expect(net.unix()).toHaveLength(1);
    expect(await h.call('close', a)).toBe(0);
    expect(host.closed).toEqual([50]);
    expect(net.tcp().map((e) => e.inode)).toEqual([inodes[1]]);
  });

  it('shows the given host sysctls and refuses every write with EACCES', () => {
    const h = harness();
    configureHostNetwork(h.kernel, fakeHost().calls);
    const given = {
      ipLocalPortRange: [20000, 30000] as const,
      tcpCongestionControl: 'bbr',
      tcpAvailableCongestionControl: ['reno', 'cubic', 'bbr'],
      tcpSack: 0,
      tcpTimestamps: 1,
      tcpKeepaliveTime: 600,
      tcpKeepaliveIntvl: 30,
      tcpKeepaliveProbes: 5,
      tcpFinTimeout: 30,
      tcpFrto: 2,
      tcpSyncookies: 1,
      tcpMaxSynBacklog: 4096,
      tcpSynackRetries: 5,
      tcpAbortOnOverflow: 0,
      tcpTwReuse: 2,
    };
    const net = procNetSource(h.kernel, { hostSysctl: () => given });
    expect(net.sysctl?.()).toEqual(given);
    // The host's namespace is not the sandbox's: procfs refuses opening its sysctls for writing.
    expect(net.sysctlOwned).toBe(false);
    expect(net.setSysctl?.({ key: 'tcpSack', value: 1 })).toBe(E.EACCES);
    expect(net.setSysctl?.({ key: 'ipLocalPortRange', value: [40000, 50000] })).toBe(E.EACCES);
    expect(net.sysctl?.()).toEqual(given);
    // Without the host's values: Linux's defaults, still read-only.
    const bare = procNetSource(h.kernel);
    expect(bare.sysctl?.().ipLocalPortRange).toEqual([32768, 60999]);
    expect(bare.setSysctl?.({ key: 'tcpFinTimeout', value: 1 })).toBe(E.EACCES);
  });
});
