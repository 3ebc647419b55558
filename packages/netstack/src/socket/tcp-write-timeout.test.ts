// When retransmissions give up (Linux tcp_write_timeout, retransmits_timed_out): after the time
// that tcp_retries2 retransmissions take with the RTO doubling from TCP_RTO_MIN (200 ms) up to
// TCP_RTO_MAX (tcp_model_timeout), counted from the first retransmission, not after that
// number of them. On Linux 6.18 with tcp_retries2 = 3, a connection to a peer that drops
// everything retransmits 4 times (RTO 200 ms: at 0.2, 0.6, 1.4 and 3.0 s) and fails at 6.2 s.
import { E } from '@tsvisor/abi';
import { describe, expect, it } from 'vitest';
import { cidr } from '../iface/interface.js';
import { linkPair } from '../phy/loopback.js';
import { runUntil, settle } from '../stack.test-util.js';
import { Stack } from '../stack.js';
import { Ipv4Address } from '../wire/ip-address.js';
import { seqAdd } from '../wire/tcp.js';
import { bufs } from './tcp-transfer.test-util.js';
import type { TcpSocket } from './tcp.js';
import { connectToRawPeer, type RawPeer } from './tcp-peer.test-util.js';

type Connection = { sock: TcpSocket; peer: RawPeer; iss: number };

/**
 * A connection with `maxRetries` (tcp_retries2) whose peer answers nothing more: `prepare` runs
 * before 100 bytes are sent at time 0, `then` after; returns when it failed (ms).
 */
function deadPeer(
  maxRetries: number,
  prepare: (c: Connection) => void = () => {},
  then: (s: TcpSocket) => void = () => {},
) {
  const c = connectToRawPeer({}, { tcp: { timestamps: false, maxRetries } });
  prepare(c);
  const { sock, peer } = c;
  sock.send(new Uint8Array(100));
  then(sock);
  const failed = runUntil([peer.stack], 0, () => sock.state === 'CLOSED', 1_000_000);
  return { sock, peer, failed };
}

describe('retransmissions give up by time (retransmits_timed_out)', () => {
  it('with tcp_retries2 = 3 and an RTO of 200 ms: 4 retransmissions, ETIMEDOUT at 6.2 s', () => {
    const { sock, failed } = deadPeer(3);
    expect(failed).toBe(6200);
    expect(sock.stats.retransmits).toBe(4);
    expect(sock.recv(new Uint8Array(1))).toBe(E.ETIMEDOUT);
  });

  it('a larger RTO retransmits fewer times in the same time', () => {
    // TCP_RTO_MIN_US of 1 s, taken by the RTO at the ACK of a first byte: timeouts at 1, 3 and
    // 7 s, the model's 3 s (of an RTO from 200 ms) past at the third.
    const { sock, failed } = deadPeer(3, ({ sock, peer, iss }) => {
      sock.rtoMin = 1000;
      sock.send(new Uint8Array(1));
      settle([peer.stack], 0);
      peer.drain();
      peer.send({ ackNumber: seqAdd(iss, 2) });
      settle([peer.stack], 0);
    });
    expect(failed).toBe(7000);
    expect(sock.stats.retransmits).toBe(2);
  });

  it("a thin stream's RTO stays low (TCP_THIN_LINEAR_TIMEOUTS): more retransmissions", () => {
    const { sock, failed } = deadPeer(3, ({ sock }) => (sock.thinLinearTimeouts = true));
    // Seven timeouts 200 ms apart (the RTO stays for the first 6 retransmissions), then 400,
    // 800 and 1600 ms: 4 s after the first at 4.2 s.
    expect(failed).toBe(4200);
    expect(sock.stats.retransmits).toBe(9);
  });

  it('tcpi_backoff counts the doublings of the RTO, not the retransmissions', () => {
    const { sock, peer } = connectToRawPeer({}, { tcp: { timestamps: false } });
    sock.thinLinearTimeouts = true;
    sock.send(new Uint8Array(100));
    runUntil([peer.stack], 0, () => sock.info().retransmits >= 3, 10_000);
    expect(sock.info()).toMatchObject({ retransmits: 3, backoff: 0 });
    const plain = connectToRawPeer({}, { tcp: { timestamps: false } });
    plain.sock.send(new Uint8Array(100));
    runUntil([plain.peer.stack], 0, () => plain.sock.info().retransmits >= 3, 10_000);
    expect(plain.sock.info()).toMatchObject({ retransmits: 3, backoff: 3 });
  });

  it("an orphan is held to tcp_orphan_retries' 8 while its RTO is below the maximum", () => {
    // 8 retransmissions take 511 x 200 ms = 102.2 s: the timeout after the ninth (at 102.2 s,
    // 102 s after the first) gives up, at 204.6 s; a socket the application holds goes on.
    const orphan = deadPeer(15, undefined, (s) => s.close());
    expect(orphan.failed).toBe(204_600);
    expect(orphan.sock.stats.retransmits).toBe(9);
    expect(orphan.peer.stack.mib.tcpExt.TCPAbortOnTimeout).toBe(1);
  });
});

describe('TCP_USER_TIMEOUT', () => {
  it('counts from the first retransmission: 1 s after the first RTO', () => {
    const { failed, sock } = deadPeer(15, ({ sock }) => (sock.userTimeout = 1000));
    // Retransmissions at 0.2 and 0.6 s, the next timeout clamped to 1.2 s.
    expect(failed).toBe(1200);
    expect(sock.stats.retransmits).toBe(2);
  });
});

describe('a connect that gets no answer (Linux 6.18)', () => {
  it('keeps the initial RTO for its first 4 timeouts (tcp_syn_linear_timeouts), 4 SYNs more than TCP_SYNCNT', () => {
    const [dev, far] = linkPair();
    const stack = new Stack({ device: dev, addresses: [cidr('10.0.0.1/24')], seed: 3 });
    const c = stack.tcpSocket(4, bufs());
    c.synRetries = 2;
    expect(c.connect({ addr: Ipv4Address.parse('10.0.0.2')!, port: 80 })).toBeUndefined();
    const syns: number[] = [];
    const backoff: number[] = [];
    let t = 0;
    for (; t <= 20_000 && c.state !== 'CLOSED'; t++) {
      settle([stack], t);
      let f = far.receive(t);
      if (f) backoff.push(c.info().backoff);
      for (; f; f = far.receive(t)) syns.push(t);
    }
    // Retransmitted at 1 to 5 s, the RTO doubled only after the fifth; the timeout at 7 s is
    // past the 7 s that TCP_SYNCNT's 2 backed-off retransmissions take.
    expect(syns).toEqual([0, 1000, 2000, 3000, 4000, 5000]);
    expect(backoff).toEqual([0, 0, 0, 0, 0, 1]);
    expect(t - 1).toBe(7000);
    expect(c.takeError()).toBe(E.ETIMEDOUT);
  });
});

describe("the stack's retransmission sysctls, read at each timeout", () => {
  it('net.ipv4.tcp_retries2 stands for the config: 3 fails at 6.2 s', () => {
    const { sock, failed } = deadPeer(15, ({ peer }) => (peer.stack.sysctl.retries2 = 3));
    expect(failed).toBe(6200);
    expect(sock.stats.retransmits).toBe(4);
  });

  it('a change of tcp_retries2 reaches a connection already retransmitting', () => {
    // By 1 s the retransmissions of 0.2 and 0.6 s are out; 2 then gives up at the timeout of
    // 3.0 s, 2.8 s after the first, past the 1.4 s that 2 take.
    const { sock, peer } = connectToRawPeer({}, { tcp: { timestamps: false } });
    sock.send(new Uint8Array(100));
    runUntil([peer.stack], 0, () => false, 1000);
    expect(sock.stats.retransmits).toBe(2);
    peer.stack.sysctl.retries2 = 2;
    expect(runUntil([peer.stack], 1000, () => sock.state === 'CLOSED', 1_000_000)).toBe(3000);
    expect(sock.stats.retransmits).toBe(3);
  });

  it('net.ipv4.tcp_orphan_retries 2 holds an orphan to the time of 2 retransmissions', () => {
    // (2^3 - 1) x 200 ms = 1.4 s after the first retransmission (0.2 s): the timeout at 3.0 s.
    const orphan = deadPeer(
      15,
      ({ peer }) => (peer.stack.sysctl.orphanRetries = 2),
      (s) => s.close(),
    );
    expect(orphan.failed).toBe(3000);
    expect(orphan.sock.stats.retransmits).toBe(3);
  });

  function connectTimes(set: (stack: Stack, c: TcpSocket) => void): { syns: number[]; end: number } {
    const [dev, far] = linkPair();
    const stack = new Stack({ device: dev, addresses: [cidr('10.0.0.1/24')], seed: 3 });
    const c = stack.tcpSocket(4, bufs());
    set(stack, c);
    expect(c.connect({ addr: Ipv4Address.parse('10.0.0.2')!, port: 80 })).toBeUndefined();
    const syns: number[] = [];
    let t = 0;
    for (; t <= 200_000 && c.state !== 'CLOSED'; t++) {
      settle([stack], t);
      for (let f = far.receive(t); f; f = far.receive(t)) syns.push(t);
    }
    expect(c.takeError()).toBe(E.ETIMEDOUT);
    return { syns, end: t - 1 };
  }

  it('net.ipv4.tcp_syn_retries counts the SYN retransmissions; TCP_SYNCNT overrides it', () => {
    expect(connectTimes((stack) => (stack.sysctl.synRetries = 2))).toEqual({
      syns: [0, 1000, 2000, 3000, 4000, 5000],
      end: 7000,
    });
    expect(connectTimes((stack, c) => ((stack.sysctl.synRetries = 2), (c.synRetries = 1))).end).toBe(3000);
  });

  it('net.ipv4.tcp_syn_linear_timeouts 0 backs off from the first timeout, as before Linux 6.18', () => {
    // Linux 6.18 in a namespace, a connect over a veth whose peer is silent: 7.2 s with
    // tcp_syn_retries 2 and tcp_syn_linear_timeouts 0 (the RTO's 200 ms of jitter aside).
    expect(
      connectTimes((stack) => ((stack.sysctl.synRetries = 2), (stack.sysctl.synLinearTimeouts = 0))),
    ).toEqual({ syns: [0, 1000, 3000], end: 7000 });
    // tcp_syn_retries 6: the 127 s of tcp(7), against 131 s with 4 linear timeouts.
    expect(connectTimes((stack) => (stack.sysctl.synLinearTimeouts = 0)).end).toBe(127_000);
  });
});
