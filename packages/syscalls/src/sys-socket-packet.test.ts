// AF_PACKET sockets over the sandbox's loopback netstack, driven through the syscall table with
// fake memory. The same behaviour is compared with the host kernel in runtime's
// packet-socket.test.ts, packet-ring.test.ts and packet-tcpdump.test.ts; these tests pin the
// parts that need no platform (queues, blocking, the V3 block timer on a manual clock).
import { E, isError } from '@tsvisor/abi';
import { describe, expect, it } from 'vitest';
import { BUF, harness, type Harness } from './harness.test-util.js';
import { PacketSocketImpl } from './sys-socket-packet.js';
import { fileAt } from './vfs-context.js';

const AF_INET = 2;
const AF_PACKET = 17;
const SOCK_STREAM = 1;
const SOCK_DGRAM = 2;
const SOCK_RAW = 3;
const SOCK_NONBLOCK = 0o4000;
const SOL_PACKET = 263;
const SOL_SOCKET = 1;
const SO_RCVBUF = 8;
const PACKET_VERSION = 10;
const PACKET_RX_RING = 5;
const PACKET_TX_RING = 13;
const PACKET_STATISTICS = 6;
const MSG_PEEK = 2;
const MSG_TRUNC = 0x20;
const MSG_DONTWAIT = 0x40;
const ETH_P_ALL = 0x0003;
const ETH_P_IP = 0x0800;
const ETH_P_EXP = 0x88b5;

const ADDR = BUF; // sockaddr area
const LEN = BUF + 0x100; // socklen_t
const DATA = BUF + 0x200; // frame buffer
const OPT = BUF + 0x8000; // option values

/** htons as socket(2) takes the protocol: the __be16 in an int. */
const htons = (v: number): number => ((v & 0xff) << 8) | (v >>> 8);

function sll(protocol: number, ifindex: number): Uint8Array {
  const b = new Uint8Array(20);
  const dv = new DataView(b.buffer);
  dv.setUint16(0, AF_PACKET, true);
  dv.setUint16(2, protocol, false);
  dv.setInt32(4, ifindex, true);
  return b;
}

function parseSll(b: Uint8Array): Record<string, number> {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return {
    family: dv.getUint16(0, true),
    protocol: dv.getUint16(2, false),
    ifindex: dv.getInt32(4, true),
    hatype: dv.getUint16(8, true),
    pkttype: b[10]!,
    halen: b[11]!,
  };
}

async function packetSocket(h: Harness, type: number, protocol: number, ifindex = 1): Promise<number> {
  const fd = (await h.call('socket', AF_PACKET, type, htons(protocol))) as number;
  expect(fd).toBeGreaterThanOrEqual(0);
  h.mem.write(ADDR, sll(protocol, ifindex));
  expect(await h.call('bind', fd, ADDR, 20)).toBe(0);
  return fd;
}

/** A UDP datagram from 127.0.0.1:4000 to 127.0.0.1:`port` (a bound receiver keeps ICMP away). */
async function udp(h: Harness, port: number, payload: string): Promise<void> {
  const rx = (await h.call('socket', AF_INET, SOCK_DGRAM, 0)) as number;
  const sin = (p: number): Uint8Array =>
    new Uint8Array([2, 0, p >> 8, p & 0xff, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
  h.mem.write(ADDR, sin(port));
  expect(await h.call('bind', rx, ADDR, 16)).toBe(0);
  const tx = (await h.call('socket', AF_INET, SOCK_DGRAM, 0)) as number;
  h.mem.write(DATA, new TextEncoder().encode(payload));
  h.mem.write(ADDR, sin(port));
  expect(await h.call('sendto', tx, DATA, payload.length, 0, ADDR, 16)).toBe(payload.length);
  await h.call('close', tx);
  await h.call('close', rx);
}

/** recvfrom with a sockaddr_ll: the count, the frame bytes and the address. */
async function recv(
  h: Harness,
  fd: number,
  len = 2048,
  flags = 0,
): Promise<{ n: number; bytes: Uint8Array; from: Record<string, number> } | unknown> {
  h.mem.writeI32(LEN, 20);
  const n = await h.call('recvfrom', fd, DATA, len, flags, ADDR, LEN);
  if (typeof n !== 'number') return n;
  const got = h.mem.read(DATA, Math.min(n, len)) as Uint8Array;
  return { n, bytes: got, from: parseSll(h.mem.read(ADDR, 20) as Uint8Array) };
}

describe('AF_PACKET sockets', () => {
  it('need CAP_NET_RAW and a datagram or raw type', async () => {
    const h = harness();
    expect(await h.call('socket', AF_PACKET, SOCK_STREAM, 0)).toBe(E.ESOCKTNOSUPPORT);
    h.task.group.creds = { ...h.task.creds, euid: 1000, effective: 0n };
    expect(await h.call('socket', AF_PACKET, SOCK_RAW, htons(ETH_P_ALL))).toBe(E.EPERM);
    expect(await h.call('socket', AF_PACKET, SOCK_STREAM, 0)).toBe(E.EPERM);
  });

  it('bind and getsockname with sockaddr_ll', async () => {
    const h = harness();
    const fd = (await h.call('socket', AF_PACKET, SOCK_RAW, htons(ETH_P_ALL))) as number;
    h.mem.write(ADDR, sll(ETH_P_ALL, 1));
    expect(await h.call('bind', fd, ADDR, 19)).toBe(E.EINVAL);
    h.mem.write(ADDR, sll(ETH_P_ALL, 7));
    expect(await h.call('bind', fd, ADDR, 20)).toBe(E.ENODEV);
    h.mem.write(ADDR, sll(0, 1));
    expect(await h.call('bind', fd, ADDR, 20)).toBe(0);
    h.mem.writeI32(LEN, 32);
    expect(await h.call('getsockname', fd, ADDR, LEN)).toBe(0);
    expect(h.mem.readI32(LEN)).toBe(18);
    expect(parseSll(h.mem.read(ADDR, 18) as Uint8Array)).toEqual({
      family: AF_PACKET,
      protocol: ETH_P_ALL, // a protocol of 0 keeps the socket's
      ifindex: 1,
      hatype: 772,
      pkttype: 0,
      halen: 6,
    });
    expect(await h.call('listen', fd, 1)).toBe(E.EOPNOTSUPP);
  });

  it('see a datagram on lo outgoing then received, with lo header on SOCK_RAW only', async () => {
    const h = harness();
    const raw = await packetSocket(h, SOCK_RAW, ETH_P_ALL);
    const dgram = await packetSocket(h, SOCK_DGRAM | SOCK_NONBLOCK, ETH_P_IP);
    await udp(h, 5000, 'hello');
    const out = (await recv(h, raw)) as { n: number; bytes: Uint8Array; from: Record<string, number> };
    expect(out.n).toBe(14 + 20 + 8 + 5);
    expect([...out.bytes.subarray(0, 14)]).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 8, 0]);
    expect(out.from).toEqual({
      family: AF_PACKET,
      protocol: ETH_P_IP,
      ifindex: 1,
      hatype: 772,
      pkttype: 4,
      halen: 6,
    });
    // MSG_PEEK keeps it, MSG_TRUNC reports the whole length.
    expect(await h.call('recvfrom', raw, DATA, 10, MSG_PEEK | MSG_TRUNC, 0, 0)).toBe(47);
    const inc = (await recv(h, raw, 10)) as { n: number; from: Record<string, number> };
    expect(inc.n).toBe(10);
    expect(inc.from.pkttype).toBe(0);
    // A protocol-bound socket gets the received copy only, without the link header.
    const d = (await recv(h, dgram)) as { n: number; bytes: Uint8Array; from: Record<string, number> };
    expect(d.n).toBe(33);
    expect(d.bytes[0]).toBe(0x45);
    expect(d.from.pkttype).toBe(0);
    expect(await h.call('recvfrom', dgram, DATA, 64, 0, 0, 0)).toBe(E.EAGAIN);
    expect(await h.call('recvfrom', raw, DATA, 64, MSG_DONTWAIT, 0, 0)).toBe(E.EAGAIN);
  });

  it('wake a blocked receive when a frame arrives', async () => {
    const h = harness();
    const raw = await packetSocket(h, SOCK_RAW, ETH_P_EXP);
    const pending = h.call('recvfrom', raw, DATA, 64, 0, 0, 0);
    const tx = await packetSocket(h, SOCK_RAW, ETH_P_ALL);
    const frame = new Uint8Array(20);
    frame.set([0x88, 0xb5], 12);
    frame.set(new TextEncoder().encode('exp!!!'), 14);
    h.mem.write(DATA + 0x1000, frame);
    expect(await h.call('sendto', tx, DATA + 0x1000, 20, 0, 0, 0)).toBe(20);
    expect(await pending).toBe(20);
    // The sender sees the frame lo received, never its own outgoing copy.
    const seen = (await recv(h, tx)) as { from: Record<string, number> };
    expect(seen.from.pkttype).toBe(0);
    expect(await h.call('recvfrom', tx, DATA, 64, MSG_DONTWAIT, 0, 0)).toBe(E.EAGAIN);
  });

  it('build the SOCK_DGRAM header on lo from sll_addr, whatever sll_halen says', async () => {
    const h = harness();
    const cap = await packetSocket(h, SOCK_RAW | SOCK_NONBLOCK, ETH_P_ALL);
    const tx = (await h.call('socket', AF_PACKET, SOCK_DGRAM, htons(ETH_P_EXP))) as number;
    const dst = [0x02, 0x11, 0x22, 0x33, 0x44, 0x55];
    const to = sll(ETH_P_EXP, 1);
    to.set([...dst, 0x66, 0x77], 12);
    to[11] = 0; // packet_snd checks sll_halen against msg_namelen only
    h.mem.write(ADDR + 0x40, to);
    h.mem.write(DATA + 0x1000, new TextEncoder().encode('lladdr'));
    expect(await h.call('sendto', tx, DATA + 0x1000, 6, 0, ADDR + 0x40, 20)).toBe(6);
    // Seen leaving, then arriving for another host (eth_type_trans against lo's zero address).
    for (const pkttype of [4, 3]) {
      const got = (await recv(h, cap)) as { n: number; bytes: Uint8Array; from: Record<string, number> };
      expect(got.n).toBe(20);
      expect([...got.bytes.subarray(0, 14)]).toEqual([...dst, 0, 0, 0, 0, 0, 0, 0x88, 0xb5]);
      expect(got.from.pkttype).toBe(pkttype);
    }
    to[11] = 9; // more than the 20 bytes given hold
    h.mem.write(ADDR + 0x40, to);
    expect(await h.call('sendto', tx, DATA + 0x1000, 6, 0, ADDR + 0x40, 20)).toBe(E.EINVAL);
    expect(await h.call('sendto', tx, DATA + 0x1000, 6, 0, ADDR + 0x40, 24)).toBe(6);
  });

  it('recvmmsg takes several frames with their addresses; sendmsg gathers iovecs', async () => {
    const h = harness();
    const raw = await packetSocket(h, SOCK_RAW, ETH_P_EXP);
    const tx = await packetSocket(h, SOCK_RAW, ETH_P_ALL);
    // sendmsg with two iovecs: the header, then the payload.
    const head = new Uint8Array(14);
    head.set([0x88, 0xb5], 12);
    h.mem.write(DATA, head);
    h.mem.write(DATA + 0x100, new TextEncoder().encode('gathered'));
    const iov = new DataView(new ArrayBuffer(32));
    iov.setBigUint64(0, BigInt(DATA), true);
    iov.setBigUint64(8, 14n, true);
    iov.setBigUint64(16, BigInt(DATA + 0x100), true);
    iov.setBigUint64(24, 8n, true);
    h.mem.write(OPT, new Uint8Array(iov.buffer));
    const msg = new DataView(new ArrayBuffer(56));
    msg.setBigUint64(16, BigInt(OPT), true);
    msg.setBigUint64(24, 2n, true);
    h.mem.write(OPT + 0x100, new Uint8Array(msg.buffer));
    expect(await h.call('sendmsg', tx, OPT + 0x100, 0)).toBe(22);
    expect(await h.call('sendmsg', tx, OPT + 0x100, 0)).toBe(22);
    // Two mmsghdrs, each with one 64-byte buffer and room for a sockaddr_ll.
    const vec = new DataView(new ArrayBuffer(128));
    for (let i = 0; i < 2; i++) {
      const o = i * 64;
      vec.setBigUint64(o, BigInt(ADDR + i * 32), true); // msg_name
      vec.setInt32(o + 8, 20, true); // msg_namelen
      vec.setBigUint64(o + 16, BigInt(OPT + 0x200 + i * 16), true); // msg_iov
      vec.setBigUint64(o + 24, 1n, true);
      const one = new DataView(new ArrayBuffer(16));
      one.setBigUint64(0, BigInt(DATA + 0x400 + i * 64), true);
      one.setBigUint64(8, 64n, true);
      h.mem.write(OPT + 0x200 + i * 16, new Uint8Array(one.buffer));
    }
    h.mem.write(OPT + 0x400, new Uint8Array(vec.buffer));
    expect(await h.call('recvmmsg', raw, OPT + 0x400, 2, MSG_DONTWAIT, 0)).toBe(2);
    expect([h.mem.readI32(OPT + 0x400 + 56), h.mem.readI32(OPT + 0x400 + 64 + 56)]).toEqual([22, 22]);
    expect(new TextDecoder().decode(h.mem.read(DATA + 0x400 + 14, 8) as Uint8Array)).toBe('gathered');
    expect(parseSll(h.mem.read(ADDR + 32, 20) as Uint8Array).protocol).toBe(ETH_P_EXP);
    expect(h.mem.readI32(OPT + 0x400 + 64 + 8)).toBe(20);
  });

  it('drop beyond SO_RCVBUF and count it in PACKET_STATISTICS, which resets on read', async () => {
    const h = harness();
    const s = await packetSocket(h, SOCK_DGRAM, ETH_P_IP);
    h.mem.writeI32(OPT, 0);
    expect(await h.call('setsockopt', s, SOL_SOCKET, SO_RCVBUF, OPT, 4)).toBe(0);
    for (let i = 0; i < 10; i++) await udp(h, 5001, 'flood');
    let got = 0;
    while (typeof (await h.call('recvfrom', s, DATA, 64, MSG_DONTWAIT, 0, 0)) === 'number') got++;
    h.mem.writeI32(LEN, 8);
    expect(await h.call('getsockopt', s, SOL_PACKET, PACKET_STATISTICS, OPT, LEN)).toBe(0);
    const packets = h.mem.readI32(OPT) as number;
    const drops = h.mem.readI32(OPT + 4) as number;
    expect(packets).toBe(10);
    expect(drops).toBeGreaterThan(0);
    expect(got + drops).toBe(packets);
    expect(await h.call('getsockopt', s, SOL_PACKET, PACKET_STATISTICS, OPT, LEN)).toBe(0);
    expect([h.mem.readI32(OPT), h.mem.readI32(OPT + 4)]).toEqual([0, 0]);
  });

  it('retire a TPACKET_V3 block after tp_retire_blk_tov on the kernel clock', async () => {
    const h = harness();
    const s = await packetSocket(h, SOCK_RAW, ETH_P_ALL);
    h.mem.writeI32(OPT, 2);
    expect(await h.call('setsockopt', s, SOL_PACKET, PACKET_VERSION, OPT, 4)).toBe(0);
    const req = new DataView(new ArrayBuffer(28));
    [4096, 2, 2048, 4, 50, 0, 0].forEach((v, i) => req.setUint32(i * 4, v, true));
    h.mem.write(OPT, new Uint8Array(req.buffer));
    expect(await h.call('setsockopt', s, SOL_PACKET, PACKET_RX_RING, OPT, 16)).toBe(E.EINVAL);
    expect(await h.call('setsockopt', s, SOL_PACKET, PACKET_RX_RING, OPT, 28)).toBe(0);
    expect(await h.call('setsockopt', s, SOL_PACKET, PACKET_RX_RING, OPT, 28)).toBe(E.EBUSY);
    const file = fileAt(h.task, s);
    if (isError(file) || !(file.impl instanceof PacketSocketImpl)) throw new Error('no packet socket');
    const ring = file.impl.sock.ring!;
    const u32 = (at: number): number => ring.mem.readU32(ring.base + at);
    await udp(h, 5002, 'v3');
    // Two packets in block 0 (seq 1), still the kernel's.
    expect([u32(8), u32(12), u32(24)]).toEqual([0, 2, 1]);
    expect(file.impl.readiness(1)).toBe(0);
    h.time.advance(49_000_000n);
    expect(u32(8)).toBe(0);
    h.time.advance(1_000_000n);
    // TP_STATUS_USER | TP_STATUS_BLK_TMO; block 1 opened with seq 2.
    expect(u32(8)).toBe(0x21);
    expect(u32(4096 + 24)).toBe(2);
    expect(file.impl.readiness(1)).toBe(1);
    // The packet chain: the first points at the second, which ends it.
    const first = u32(16);
    expect(first).toBe(48);
    const next = u32(first);
    expect(u32(first + next)).toBe(0);
    expect(await h.call('close', s)).toBe(0);
  });

  it('send the frames of a TX ring placed after the RX ring in one memory', async () => {
    const h = harness();
    const tx = await packetSocket(h, SOCK_DGRAM, ETH_P_IP);
    const rx = await packetSocket(h, SOCK_DGRAM | SOCK_NONBLOCK, ETH_P_IP);
    h.mem.writeI32(OPT, 1);
    expect(await h.call('setsockopt', tx, SOL_PACKET, PACKET_VERSION, OPT, 4)).toBe(0);
    const req = new DataView(new ArrayBuffer(16));
    [4096, 1, 2048, 2].forEach((v, i) => req.setUint32(i * 4, v, true));
    h.mem.write(OPT, new Uint8Array(req.buffer));
    expect(await h.call('setsockopt', tx, SOL_PACKET, PACKET_TX_RING, OPT, 16)).toBe(0);
    expect(await h.call('setsockopt', tx, SOL_PACKET, PACKET_RX_RING, OPT, 16)).toBe(0);
    const file = fileAt(h.task, tx);
    if (isError(file) || !(file.impl instanceof PacketSocketImpl)) throw new Error('no packet socket');
    const sock = file.impl.sock;
    expect([sock.ring!.base, sock.txRing!.base]).toEqual([0, 4096]);
    expect(file.impl.mmapRegionRefusal(4096, 0)).toBe(E.EINVAL);
    expect(file.impl.mmapRegionRefusal(8192, 1)).toBe(E.EINVAL);
    expect(file.impl.mmapRegionRefusal(8192, 0)).toBeUndefined();
    // Frame 1 of the TX ring: an IPv4 header of 20 bytes, then 4 bytes, marked SEND_REQUEST.
    const mem = sock.ringMemory!;
    const frame = 4096 + 2048;
    const ip = new Uint8Array(24);
    ip.set([0x45, 0, 0, 24, 0, 0, 0, 0, 64, 253, 0, 0, 127, 0, 0, 1, 127, 0, 0, 1, 1, 2, 3, 4]);
    mem.write(frame + 32, ip);
    const hdr = new DataView(new ArrayBuffer(8));
    hdr.setUint32(0, 1, true); // TP_STATUS_SEND_REQUEST
    hdr.setUint32(4, ip.length, true); // tp_len
    mem.write(frame, new Uint8Array(hdr.buffer));
    // The head is frame 0, which asks for nothing: nothing goes.
    expect(await h.call('sendto', tx, 0, 0, 0, 0, 0)).toBe(0);
    mem.write(4096, new Uint8Array(hdr.buffer));
    mem.write(4096 + 32, ip);
    expect(await h.call('sendto', tx, 0, 0, 0, 0, 0)).toBe(48);
    expect([mem.readU32(4096), mem.readU32(frame)]).toEqual([0, 0]);
    for (let i = 0; i < 2; i++) {
      const got = (await recv(h, rx)) as { n: number; bytes: Uint8Array };
      expect([...got.bytes]).toEqual([...ip]);
    }
    // tp_len past the frame: TP_STATUS_WRONG_FORMAT and EMSGSIZE.
    hdr.setUint32(4, 2048, true);
    mem.write(4096, new Uint8Array(hdr.buffer));
    expect(await h.call('sendto', tx, 0, 0, 0, 0, 0)).toBe(E.EMSGSIZE);
    expect(mem.readU32(4096)).toBe(4);
    // The TX ring goes: the RX ring stays, alone in new memory.
    h.mem.write(OPT, new Uint8Array(16));
    expect(await h.call('setsockopt', tx, SOL_PACKET, PACKET_TX_RING, OPT, 16)).toBe(0);
    expect(sock.txRing).toBeUndefined();
    expect(file.impl.mmapRegionRefusal(4096, 0)).toBeUndefined();
  });
});
