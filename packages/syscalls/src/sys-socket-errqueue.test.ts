// recvmsg(2) and recvfrom(2) with MSG_ERRQUEUE on netstack sockets (ip_recv_error,
// inet_recv_error): the queued error's payload, its destination as msg_name, the IP_RECVERR
// message and MSG_ERRQUEUE in msg_flags; EAGAIN at once on an empty queue, blocking socket or
// not. Compared with the host kernel in runtime's recv-err.test.ts.
import { E, isError } from '@tsvisor/abi';
import { describe, expect, it } from 'vitest';
import { BUF, harness } from './harness.test-util.js';

const AF_INET = 2;
const SOCK_STREAM = 1;
const SOCK_DGRAM = 2;
const SOL_IP = 0;
const IP_RECVERR = 11;
const MSG_ERRQUEUE = 0x2000;

const MSG = BUF; // struct msghdr (56 bytes)
const IOV = BUF + 0x40;
const DATA = BUF + 0x80;
const SA = BUF + 0x100;
const OPT = BUF + 0x180;
const CTL = BUF + 0x400;

/** sockaddr_in of 127.0.0.1:`port`. */
function loopback(port: number): Uint8Array {
  return Uint8Array.of(2, 0, port >> 8, port & 0xff, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0);
}

function u32(b: Uint8Array, at: number): number {
  return new DataView(b.buffer, b.byteOffset).getUint32(at, true);
}

describe('MSG_ERRQUEUE', () => {
  it('reads an ICMP error of a UDP socket with IP_RECVERR (set with a one-byte value)', async () => {
    const h = harness();
    const fd = Number(await h.call('socket', AF_INET, SOCK_DGRAM, 0));
    h.mem.write(OPT, Uint8Array.of(1));
    expect(await h.call('setsockopt', fd, SOL_IP, IP_RECVERR, OPT, 1)).toBe(0);
    h.mem.write(DATA, new TextEncoder().encode('hey'));
    h.mem.write(SA, loopback(9));
    expect(await h.call('sendto', fd, DATA, 3, 0, SA, 16)).toBe(3);

    const hdr = new Uint8Array(56);
    const dv = new DataView(hdr.buffer);
    dv.setBigUint64(0, BigInt(SA), true);
    dv.setUint32(8, 16, true);
    dv.setBigUint64(16, BigInt(IOV), true);
    dv.setBigUint64(24, 1n, true);
    dv.setBigUint64(32, BigInt(CTL), true);
    dv.setBigUint64(40, 256n, true);
    h.mem.write(MSG, hdr);
    const iov = new Uint8Array(16);
    new DataView(iov.buffer).setBigUint64(0, BigInt(DATA), true);
    new DataView(iov.buffer).setBigUint64(8, 64n, true);
    h.mem.write(IOV, iov);
    h.mem.write(SA, new Uint8Array(16));
    h.mem.write(DATA, new Uint8Array(8));

    expect(await h.call('recvmsg', fd, MSG, MSG_ERRQUEUE)).toBe(3);
    const out = (h.mem.read(MSG, 56) as Uint8Array).slice();
    expect(new TextDecoder().decode(h.mem.read(DATA, 3) as Uint8Array)).toBe('hey');
    expect(u32(out, 48)).toBe(MSG_ERRQUEUE); // msg_flags
    expect(u32(out, 8)).toBe(16); // msg_namelen
    expect((h.mem.read(SA, 16) as Uint8Array).slice()).toEqual(loopback(9));
    expect(Number(new DataView(out.buffer).getBigUint64(40, true))).toBe(48); // msg_controllen
    const c = (h.mem.read(CTL, 48) as Uint8Array).slice();
    expect([Number(new DataView(c.buffer).getBigUint64(0, true)), u32(c, 8), u32(c, 12)]).toEqual([
      48,
      SOL_IP,
      IP_RECVERR,
    ]);
    // sock_extended_err: ECONNREFUSED from ICMP (origin 2), port unreachable (type 3, code 3).
    expect([u32(c, 16), c[20], c[21], c[22], c[23], u32(c, 24), u32(c, 28)]).toEqual([
      E.ECONNREFUSED.errno,
      2,
      3,
      3,
      0,
      0,
      0,
    ]);
    expect(c.subarray(32, 48)).toEqual(loopback(0)); // the offender
    // The queue is empty: EAGAIN at once on this blocking socket.
    expect(await h.call('recvmsg', fd, MSG, MSG_ERRQUEUE)).toBe(E.EAGAIN);
  });

  it('answers EAGAIN at once on a TCP socket and on a UDP socket without errors', async () => {
    const h = harness();
    for (const type of [SOCK_STREAM, SOCK_DGRAM]) {
      const fd = Number(await h.call('socket', AF_INET, type, 0));
      const r = await h.call('recvfrom', fd, DATA, 64, MSG_ERRQUEUE, 0, 0);
      expect(isError(r) ? r.name : r).toBe('EAGAIN');
    }
  });
});
