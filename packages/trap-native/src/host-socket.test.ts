import { E, isError, type LinuxError } from '@tsvisor/abi';
import fc from 'fast-check';
import * as net from 'node:net';
import { describe, expect, it } from 'vitest';
import { hostSockets as h } from './index.js';
import { native } from './native.native.js';

const AF_INET = 2;
const SOCK_STREAM = 1;
const SOCK_DGRAM = 2;
const NONBLOCK_CLOEXEC = 0o4000 | 0o2000000;
const POLLIN = 1;
const POLLPRI = 2;
const MSG_OOB = 1;

function sin(port: number, ip = [127, 0, 0, 1]): Uint8Array {
  const b = new Uint8Array(16);
  const v = new DataView(b.buffer);
  v.setUint16(0, AF_INET, true);
  v.setUint16(2, port, false);
  b.set(ip, 4);
  return b;
}

function portOf(fd: number): number {
  const out = new Uint8Array(128);
  const n = h.name(fd, false, out);
  if (isError(n)) throw new Error(String(n));
  return new DataView(out.buffer).getUint16(2, false);
}

function num(r: number | object): number {
  if (typeof r !== 'number') throw new Error(`host call failed: ${String(r)}`);
  return r;
}

describe('hostSockets', () => {
  it('listens, wakes the watch when a client connects, accepts and moves bytes', async () => {
    const fd = num(h.socket(AF_INET, SOCK_STREAM | NONBLOCK_CLOEXEC, 0));
    expect(h.bind(fd, sin(0))).toBe(0);
    expect(h.listen(fd, 8)).toBe(0);
    const port = portOf(fd);
    expect(h.accept(fd, NONBLOCK_CLOEXEC)).toBe(E.EAGAIN);
    let woke = 0;
    const w = h.watch(
      fd,
      () => woke++,
      () => undefined,
    );
    if (isError(w)) throw new Error(String(w));
    w.arm(POLLIN);
    const client = net.connect(port, '127.0.0.1');
    client.on('data', () => undefined);
    client.write('hello');
    await new Promise<void>((resolve) => {
      const tick = (): void => void (woke > 0 ? resolve() : setTimeout(tick, 5));
      tick();
    });
    w.close();
    const c = num(h.accept(fd, NONBLOCK_CLOEXEC));
    const peer = new Uint8Array(128);
    expect(h.name(c, true, peer)).toBe(16);
    expect(new DataView(peer.buffer).getUint16(2, false)).toBe(client.localPort);
    // The bytes may still be in flight: poll until they are there.
    for (let i = 0; i < 200 && h.poll(c, POLLIN) === 0; i++) await new Promise((r) => setTimeout(r, 5));
    const buf = new Uint8Array(16);
    const meta = new Int32Array(2);
    const n = num(h.recv(c, buf, 0, new Uint8Array(128), meta));
    expect(Buffer.from(buf.subarray(0, n)).toString()).toBe('hello');
    expect(h.send(c, new TextEncoder().encode('bye'), null, 0)).toBe(3);
    client.destroy();
    h.close(c);
    h.close(fd);
  });

  it('reports each datagram as an edge while earlier ones are unread, and priority data when armed', async () => {
    const a = num(h.socket(AF_INET, SOCK_DGRAM | NONBLOCK_CLOEXEC, 0));
    const b = num(h.socket(AF_INET, SOCK_DGRAM | NONBLOCK_CLOEXEC, 0));
    expect(h.bind(b, sin(0))).toBe(0);
    const edges: number[] = [];
    const w = h.watch(
      b,
      () => undefined,
      (events) => edges.push(events),
    );
    if (isError(w)) throw new Error(String(w));
    const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 20));
    expect(h.send(a, Uint8Array.of(1), sin(portOf(b)), 0)).toBe(1);
    // Ready before edges were asked for: not a wakeup.
    w.edges(POLLIN);
    await settle();
    expect(edges).toEqual([]);
    for (let i = 0; i < 3; i++) {
      expect(h.send(a, Uint8Array.of(2), sin(portOf(b)), 0)).toBe(1);
      await settle();
    }
    expect(edges).toEqual([POLLIN, POLLIN, POLLIN]);
    w.edges(0);
    expect(h.send(a, Uint8Array.of(3), sin(portOf(b)), 0)).toBe(1);
    await settle();
    expect(edges).toHaveLength(3);
    w.close();
    h.close(a);
    h.close(b);

    // Urgent data on a TCP connection: POLLPRI, which the level watch reports when armed for it.
    const l = num(h.socket(AF_INET, SOCK_STREAM | NONBLOCK_CLOEXEC, 0));
    expect(h.bind(l, sin(0))).toBe(0);
    expect(h.listen(l, 1)).toBe(0);
    const c = num(h.socket(AF_INET, SOCK_STREAM | NONBLOCK_CLOEXEC, 0));
    expect(h.connect(c, sin(portOf(l)))).toBe(E.EINPROGRESS);
    let s: number | LinuxError = E.EAGAIN;
    for (let i = 0; i < 200 && s === E.EAGAIN; i++) {
      s = h.accept(l, NONBLOCK_CLOEXEC);
      if (s === E.EAGAIN) await settle();
    }
    const server = num(s);
    let woke = 0;
    const p = h.watch(
      server,
      () => woke++,
      () => undefined,
    );
    if (isError(p)) throw new Error(String(p));
    p.arm(POLLPRI);
    expect(h.send(c, Uint8Array.of(1), null, 0)).toBe(1);
    await settle();
    expect(woke).toBe(0); // readable, but not urgent
    expect(h.send(c, Uint8Array.of(9), null, MSG_OOB)).toBe(1);
    await settle();
    expect(woke).toBe(1);
    p.close();
    h.close(server);
    h.close(c);
    h.close(l);
  });

  it('answers host errnos as values', () => {
    const a = num(h.socket(AF_INET, SOCK_STREAM | NONBLOCK_CLOEXEC, 0));
    expect(h.bind(a, sin(0))).toBe(0);
    const port = portOf(a);
    const b = num(h.socket(AF_INET, SOCK_STREAM | NONBLOCK_CLOEXEC, 0));
    expect(h.bind(b, sin(port))).toBe(E.EADDRINUSE);
    expect(h.bind(b, new Uint8Array(3))).toBe(E.EINVAL);
    expect(h.listen(-1, 1)).toBe(E.EBADF);
    expect(h.socket(1234, SOCK_DGRAM, 0)).toBe(E.EAFNOSUPPORT);
    h.close(a);
    h.close(b);
  });

  it('sends and receives a datagram with its sender address', () => {
    const a = num(h.socket(AF_INET, SOCK_DGRAM | NONBLOCK_CLOEXEC, 0));
    const b = num(h.socket(AF_INET, SOCK_DGRAM | NONBLOCK_CLOEXEC, 0));
    expect(h.bind(a, sin(0))).toBe(0);
    expect(h.bind(b, sin(0))).toBe(0);
    expect(h.send(a, Uint8Array.of(1, 2, 3), sin(portOf(b)), 0)).toBe(3);
    const from = new Uint8Array(128);
    const meta = new Int32Array(2);
    const buf = new Uint8Array(2);
    // MSG_TRUNC (0x20): the datagram's real length, and the flag in msg_flags.
    expect(h.recv(b, buf, 0x20, from, meta)).toBe(3);
    expect(meta[0]).toBe(16);
    expect(meta[1]! & 0x20).toBe(0x20);
    expect(new DataView(from.buffer).getUint16(2, false)).toBe(portOf(a));
    h.close(a);
    h.close(b);
  });

  it('passes control messages both ways, with MSG_CTRUNC when the room is short', () => {
    const SOL_IP = 0;
    const IP_TTL = 2;
    const IP_RECVTTL = 12;
    const a = num(h.socket(AF_INET, SOCK_DGRAM | NONBLOCK_CLOEXEC, 0));
    const b = num(h.socket(AF_INET, SOCK_DGRAM | NONBLOCK_CLOEXEC, 0));
    expect(h.bind(b, sin(0))).toBe(0);
    expect(h.setsockopt(b, SOL_IP, IP_RECVTTL, Uint8Array.of(1, 0, 0, 0))).toBe(0);
    // One IP_TTL cmsg: cmsg_len 20, SOL_IP, IP_TTL, the int 9.
    const ttl = new Uint8Array(20);
    const v = new DataView(ttl.buffer);
    v.setBigUint64(0, 20n, true);
    v.setInt32(8, SOL_IP, true);
    v.setInt32(12, IP_TTL, true);
    v.setInt32(16, 9, true);
    expect(h.send(a, Uint8Array.of(1), sin(portOf(b)), 0, ttl)).toBe(1);
    expect(h.send(a, Uint8Array.of(2), sin(portOf(b)), 0)).toBe(1);
    const meta = new Int32Array(3);
    const control = new Uint8Array(64);
    expect(h.recv(b, new Uint8Array(4), 0, new Uint8Array(128), meta, control)).toBe(1);
    expect(meta[2]).toBe(24); // CMSG_SPACE(4): put_cmsg advances by the aligned size
    expect(meta[1]! & 0x8).toBe(0);
    expect([...control.subarray(8, 20)]).toEqual([0, 0, 0, 0, IP_TTL, 0, 0, 0, 9, 0, 0, 0]);
    // No room: the cmsg is cut (MSG_CTRUNC) and none is stored.
    expect(h.recv(b, new Uint8Array(4), 0, new Uint8Array(128), meta, new Uint8Array(0))).toBe(1);
    expect(meta[2]).toBe(0);
    expect(meta[1]! & 0x8).toBe(0x8);
    // A bad cmsg is the host's EINVAL.
    v.setBigUint64(0, 99n, true);
    expect(h.send(a, Uint8Array.of(3), sin(portOf(b)), 0, ttl)).toBe(E.EINVAL);
    h.close(a);
    h.close(b);
  });

  it('throws a usage error for wrong argument shapes', () => {
    const bad = h.bind as unknown as (fd: unknown, a: unknown) => unknown;
    expect(() => bad('x', null)).toThrow(/Usage: sockBind/);
  });

  it('answers any arguments on its own fd (or -1) with a number or a usage TypeError', () => {
    // A listening TCP socket on 127.0.0.1: random addresses given to it can send nothing anywhere.
    const own = num(h.socket(AF_INET, SOCK_STREAM | NONBLOCK_CLOEXEC, 0));
    expect(h.bind(own, sin(0))).toBe(0);
    expect(h.listen(own, 1)).toBe(0);
    const addon = native().addon as unknown as Record<string, (...a: unknown[]) => unknown>;
    // Only fds this test owns: on a random fd these calls would act (shut down vitest's pipes).
    const names = [
      'sockBind',
      'sockConnect',
      'sockListen',
      'sockAccept',
      'sockName',
      'sockSend',
      'sockRecv',
      'sockSetOpt',
      'sockGetOpt',
      'sockShutdown',
      'ioctlInt',
      'fdPoll',
      'fdWatchArm',
      'fdWatchEdges',
      'fdUnwatch',
    ];
    const typed = fc.oneof(
      fc.integer({ min: 0, max: 200 }).map((n) => new Uint8Array(n)),
      fc.integer({ min: 0, max: 4 }).map((n) => new Int32Array(n)),
      fc.integer({ min: 0, max: 4 }).map((n) => new Float64Array(n)),
    );
    const value = fc.oneof(fc.integer(), fc.double(), fc.bigInt(), typed, fc.constant(null), fc.anything());
    fc.assert(
      fc.property(
        fc.constantFrom(...names),
        fc.constantFrom(own, -1),
        fc.array(value, { maxLength: 6 }),
        (name, fd, rest) => {
          try {
            // connect and send could reach a random address once a shutdown has reset the socket.
            const target = name === 'sockConnect' || name === 'sockSend' ? -1 : fd;
            expect(typeof addon[name]?.(target, ...rest)).toMatch(/number|undefined/);
          } catch (e) {
            expect(e).toBeInstanceOf(TypeError);
            expect(String(e)).toMatch(/Usage: /);
          }
        },
      ),
      { numRuns: 1500 },
    );
    h.close(own);
  });
});
