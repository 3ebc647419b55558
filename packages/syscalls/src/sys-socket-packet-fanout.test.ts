// PACKET_FANOUT's group logic without a platform: joining in Linux's order of checks, the member
// order that round robin follows, rollover between members short of room, and the flow hash.
// The whole path is compared with the host kernel in runtime's packet-fanout.test.ts.
import { E } from '@tsvisor/abi';
import { PacketType, SocketFilter, type TappedFrame } from '@tsvisor/netstack';
import { describe, expect, it } from 'vitest';
import {
  FanoutFlag,
  FanoutMode,
  FanoutRegistry,
  Room,
  fanoutAdd,
  flowHash,
  rolloverStats,
  type FanoutMember,
} from './sys-socket-packet-fanout.js';

const ETH_P_IP = 0x0800;

/** A member that counts what it gets and has `space` frames of room (NORMAL above a quarter). */
class Fake implements FanoutMember {
  fanout: FanoutMember['fanout'];
  rollover: FanoutMember['rollover'];
  pressure = false;
  readonly filter = new SocketFilter();
  got = 0;
  constructor(
    readonly name: string,
    private space = 1000,
    private readonly size = 1000,
  ) {}
  room(): Room {
    if (this.space > this.size >> 2) return Room.NORMAL;
    return this.space > 0 ? Room.LOW : Room.NONE;
  }
  /** The lengths of the frames it took. */
  readonly lengths: number[] = [];
  rcv(f: TappedFrame): void {
    if (this.space > 0) {
      this.space--;
      this.got++;
      this.lengths.push(f.bytes.length);
    }
  }
}

/** A UDP/IPv4 frame on lo from `sport` to `dport` (127.0.0.1 both ways). */
function udpFrame(sport: number, dport: number, src = 1, dst = 1): TappedFrame {
  const b = new Uint8Array(14 + 28);
  b[12] = 8;
  b.set([0x45, 0, 0, 28, 0, 0, 0x40, 0, 64, 17, 0, 0, 127, 0, 0, src, 127, 0, 0, dst], 14);
  b.set([sport >> 8, sport & 0xff, dport >> 8, dport & 0xff, 0, 8, 0, 0], 34);
  return {
    ifindex: 1,
    pktType: PacketType.HOST,
    hatype: 772,
    bytes: b,
    linkLen: 14,
    protocol: ETH_P_IP,
    origin: undefined,
  };
}

function join(reg: FanoutRegistry, m: Fake, id: number, typeFlags: number, max = 0, running = true): number {
  const r = fanoutAdd(reg, { member: m, running, protocol: ETH_P_IP, ifindex: 1 }, id, typeFlags, max);
  return r === 0 ? 0 : -r.errno;
}

describe('PACKET_FANOUT groups', () => {
  it('check a join in Linux order and drop an unused group', () => {
    const reg = new FanoutRegistry();
    const a = new Fake('a');
    expect(join(reg, a, 1, FanoutMode.ROLLOVER | FanoutFlag.ROLLOVER)).toBe(-E.EINVAL.errno);
    expect(join(reg, a, 1, 8)).toBe(-E.EINVAL.errno);
    expect(join(reg, a, 1, FanoutMode.LB, 0, false)).toBe(-E.EINVAL.errno);
    expect(reg.groups.size).toBe(0);
    expect(join(reg, a, 1, FanoutMode.LB | FanoutFlag.DEFRAG)).toBe(0);
    expect(a.fanout?.word).toBe(0x80010001);
    expect(join(reg, a, 2, FanoutMode.LB)).toBe(-E.EALREADY.errno);
    const b = new Fake('b');
    expect(join(reg, b, 1, FanoutMode.LB)).toBe(-E.EINVAL.errno); // other flags
    expect(join(reg, b, 1, FanoutMode.LB | FanoutFlag.DEFRAG, 7)).toBe(-E.EINVAL.errno);
    expect(join(reg, b, 0, FanoutMode.LB | FanoutFlag.UNIQUEID)).toBe(0);
    expect(b.fanout?.id).toBe(0);
    expect(b.fanout?.flags).toBe(0);
    expect(reg.newId()).toBe(2); // 1 is taken
    expect(rolloverStats(a)).toBe(E.EINVAL);
    a.fanout!.release(a);
    expect(reg.groups.has(1)).toBe(false);
  });

  it('hand out frames round robin, in the order members joined and left', () => {
    const reg = new FanoutRegistry();
    const ms = [new Fake('a'), new Fake('b'), new Fake('c')];
    for (const m of ms) expect(join(reg, m, 9, FanoutMode.LB)).toBe(0);
    const g = ms[0]!.fanout!;
    for (let i = 0; i < 10; i++) g.deliver(udpFrame(1000 + i, 53), 0n);
    expect(ms.map((m) => m.got)).toEqual([3, 4, 3]);
    // a leaves its place to the last member: [c, b].
    g.release(ms[0]!);
    expect(g.members.map((m) => (m as Fake).name)).toEqual(['c', 'b']);
    g.deliver(udpFrame(1, 53), 0n); // the 11th: 11 % 2 = 1
    expect(ms.map((m) => m.got)).toEqual([3, 5, 3]);
  });

  it('roll over to the next member with room, counting in the first one', () => {
    const reg = new FanoutRegistry();
    const a = new Fake('a', 4, 4);
    const b = new Fake('b', 4, 4);
    join(reg, a, 3, FanoutMode.ROLLOVER);
    join(reg, b, 3, FanoutMode.ROLLOVER);
    for (let i = 0; i < 10; i++) a.fanout!.deliver(udpFrame(2000 + i, 53), 0n);
    // a takes 3 while more than a quarter is free, b 3, then both are under pressure and the
    // frames go back to a, which takes its last one and drops the rest.
    expect([a.got, b.got]).toEqual([4, 3]);
    const st = new DataView((rolloverStats(a) as Uint8Array).buffer);
    expect([st.getBigUint64(0, true), st.getBigUint64(8, true), st.getBigUint64(16, true)]).toEqual([
      6n,
      0n,
      4n,
    ]);
  });

  it('hand out a fragmented datagram once, whole, with the DEFRAG flag', () => {
    const reg = new FanoutRegistry();
    const a = new Fake('a');
    const b = new Fake('b');
    join(reg, a, 5, FanoutMode.LB | FanoutFlag.DEFRAG);
    join(reg, b, 5, FanoutMode.LB | FanoutFlag.DEFRAG);
    const frag = (offset: number, len: number, more: boolean): TappedFrame => {
      const f = udpFrame(1, 2);
      const bytes = new Uint8Array(14 + 20 + len);
      bytes.set(f.bytes.subarray(0, 34));
      bytes[14 + 3] = 20 + len;
      bytes[14 + 6] = (more ? 0x20 : 0) | ((offset / 8) >> 8);
      bytes[14 + 7] = (offset / 8) & 0xff;
      return { ...f, bytes };
    };
    a.fanout!.deliver(frag(0, 16, true), 0n);
    expect([a.got, b.got]).toEqual([0, 0]);
    a.fanout!.deliver(frag(16, 8, false), 0n);
    // One datagram of 20 + 24 bytes behind lo's header, to member 1 (the first round robin pick).
    expect([a.got, b.lengths]).toEqual([0, [14 + 44]]);
  });

  it('hash a flow the same both ways and apart from other flows', () => {
    const seed = 12345;
    const there = flowHash(udpFrame(4000, 53, 1, 2), seed, true);
    expect(flowHash(udpFrame(53, 4000, 2, 1), seed, true)).toBe(there);
    expect(flowHash(udpFrame(53, 4000, 2, 1), seed, false)).not.toBe(
      flowHash(udpFrame(4000, 53, 1, 2), seed, false),
    );
    const others = new Set([4001, 4002, 4003, 4004].map((p) => flowHash(udpFrame(p, 53, 1, 2), seed, true)));
    expect(others.has(there)).toBe(false);
    expect(others.size).toBe(4);
  });
});
