// tcp_simple_retransmit: once a fragmentation-needed message lowers the path MTU of a connection
// with data in flight, only the segments longer than the new MSS go again (RACK's record of what
// was sent: a range sent at once counts as long as the MSS it was sent with), with no congestion
// response (the window keeps its number of segments). A peer on an IP link of MTU 1500 plays
// the router; runtime's pmtu-resend test compares the same on lo with Linux.
import { IpProto, isError, TcpOption } from '@tsvisor/abi';
import { describe, expect, it } from 'vitest';
import { fragNeeded, relayedConnection, seqOf } from './icmp-router.test-util.js';
import type { InetSocket } from './inet-socket.js';

/** A relayed connection whose client sends at once (TCP_NODELAY). */
function connection(): ReturnType<typeof relayedConnection> {
  const c = relayedConnection();
  expect(c.client.setsockopt(IpProto.IPPROTO_TCP, TcpOption.TCP_NODELAY, 1)).toBe(0);
  return c;
}

/** tcpi_snd_ssthresh and tcpi_snd_cwnd. */
function window(s: InetSocket): number[] {
  const i = s.getsockoptBytes(IpProto.IPPROTO_TCP, TcpOption.TCP_INFO, 104) as Uint8Array;
  const dv = new DataView(i.buffer, i.byteOffset, i.byteLength);
  return [dv.getUint32(76, true), dv.getUint32(80, true)];
}

describe('a lower path MTU with data in flight (tcp_simple_retransmit)', () => {
  it('resends only the segments longer than the new MSS, the window unchanged in segments', () => {
    const { client, server, peer, far, both, held } = connection();
    expect(client.sendto(new Uint8Array(2 * 1448), 0)).toBe(2 * 1448);
    const full = held(10);
    // A short segment sent on its own, later: it still fits the new MSS.
    expect(client.sendto(new Uint8Array(300), 0)).toBe(300);
    const short = held(11);
    expect([...full, ...short].map((p) => p.length)).toEqual([1500, 1500, 352]);
    const before = window(client);
    fragNeeded(peer, full[0]!, 1200);
    const again = held(12, true);
    // The two full segments' 2896 bytes in segments of 1148 (1200 - 52 of headers).
    expect(again.map((p) => p.length)).toEqual([1200, 1200, 2 * 1448 - 2 * 1148 + 52]);
    expect(seqOf(again[0]!)).toBe(seqOf(full[0]!));
    expect(window(client)).toEqual(before);
    for (const p of short) far.transmit(12, p);
    both(20);
    const r = server.recvfrom(new Uint8Array(8000), 0);
    expect(isError(r) ? r.name : (r as { n: number }).n).toBe(2 * 1448 + 300);
  });

  it('resends nothing when every segment in flight fits the new MSS', () => {
    const { client, peer, held } = connection();
    expect(client.sendto(new Uint8Array(1000), 0)).toBe(1000);
    const seg = held(10)[0]!;
    fragNeeded(peer, seg, 1200);
    expect(held(10)).toEqual([]);
    expect(client.getsockopt(IpProto.IPPROTO_TCP, TcpOption.TCP_MAXSEG)).toBe(1200 - 40 - 12);
  });

  it('leaves a SACKed segment alone', () => {
    const { client, server, peer, far, both, held, toClient } = connection();
    expect(client.sendto(new Uint8Array(3 * 1448), 0)).toBe(3 * 1448);
    const sent = held(10);
    expect(sent.length).toBe(3);
    // The third arrives (and is SACKed), the first two are lost; RACK may resend the first now.
    far.transmit(10, sent[2]!);
    toClient(10);
    held(10);
    fragNeeded(peer, sent[0]!, 1200);
    const again = held(11, true);
    // The first two in segments of 1148, nothing of the third.
    const third = seqOf(sent[2]!);
    expect(again.length).toBeGreaterThan(0);
    expect(again.every((p) => p.length <= 1200 && seqOf(p) < third)).toBe(true);
    both(20);
    const r = server.recvfrom(new Uint8Array(8000), 0);
    expect(isError(r) ? r.name : (r as { n: number }).n).toBe(3 * 1448);
  });
});
