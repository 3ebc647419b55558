// Looped TCP segments may carry the sender's own payload view (Outgoing.payloadHeld) for as long
// as the poll that sends them runs; segments still queued when a poll stops at its round limit
// get copies, so a sender that writes over those bytes afterwards changes nothing.
import { describe, expect, it } from 'vitest';
import { LoopbackDevice } from '../phy/loopback.js';
import { Ipv4Address } from '../wire/ip-address.js';
import type { TcpRepr } from '../wire/tcp.js';
import { cidr, Interface, type SocketTable } from './interface.js';
import type { DispatchContext } from './outgoing.js';

/** A socket table whose one "socket" sends a 4-byte segment per round, a view of `ring`. */
class HeldSender implements SocketTable {
  readonly ring = new Uint8Array(4 * 1024);
  readonly received: number[][] = [];
  sending = true;
  private sent = 0;

  dispatch(ctx: DispatchContext): boolean {
    if (!this.sending) return false;
    // Each segment has its own 4 bytes of the ring, holding its number: nothing in this poll
    // writes over a segment's bytes once it is sent.
    const at = 4 * this.sent;
    this.ring.fill(this.sent & 0xff, at, at + 4);
    const tcp: TcpRepr = {
      srcPort: 1000,
      dstPort: 2000,
      seqNumber: at,
      ackNumber: 0,
      flags: 0,
      windowLen: 1000,
      payload: this.ring.subarray(at, at + 4),
    };
    const r = ctx.emit({
      kind: 'tcp',
      src: Ipv4Address.LOOPBACK,
      dst: Ipv4Address.LOOPBACK,
      hopLimit: 64,
      tcp,
      payloadHeld: true,
    });
    expect(r).toBe('sent');
    this.sent++;
    return true; // progress every round: the poll runs to its round limit
  }
  tcpInput(_now: number, _src: Ipv4Address, _dst: Ipv4Address, tcp: TcpRepr): TcpRepr | undefined {
    this.received.push(Array.from(tcp.payload));
    return undefined;
  }
  pollAt(): number | undefined {
    return undefined;
  }
  icmpEchoReplyInput(): void {}
  udpInput(): boolean {
    return false;
  }
  udpliteInput(): boolean {
    return false;
  }
  udpError(): void {}
  neighborResolved(): void {}
}

describe('held loopback payloads', () => {
  it('are handed over as sent within a poll, and copied when a poll leaves segments queued', () => {
    const iface = new Interface({ addresses: [cidr('127.0.0.1/8')] });
    const device = new LoopbackDevice();
    const table = new HeldSender();
    // Every round sends, so the poll stops at its round limit and says to poll again at once,
    // with the last round's segment still queued.
    expect(iface.poll(5, device, table)).toBe(5);
    const inFirstPoll = table.received.length;
    expect(inFirstPoll).toBeGreaterThan(100);
    table.received.forEach((bytes, i) => expect(bytes).toEqual([i, i, i, i]));
    // The sender reuses its ring (as a send ring is written again once acknowledged).
    table.ring.fill(0xee);
    table.sending = false;
    iface.poll(6, device, table);
    expect(table.received.length).toBe(inFirstPoll + 1);
    const last = inFirstPoll & 0xff;
    expect(table.received[inFirstPoll]).toEqual([last, last, last, last]);
  });
});
