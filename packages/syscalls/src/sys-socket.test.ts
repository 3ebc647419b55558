import { E, Signal } from '@tsvisor/abi';
import { ERESTARTSYS } from '@tsvisor/kernel';
import { describe, expect, it } from 'vitest';
import { BAD, BUF, harness, type Harness } from './harness.test-util.js';

const AF_UNIX = 1;
const AF_INET = 2;
const SOCK_STREAM = 1;
const SOCK_DGRAM = 2;
const SOCK_SEQPACKET = 5;
const SOCK_NONBLOCK = 0o4000;
const SOL_SOCKET = 1;
const SO_TYPE = 3;
const SO_PASSCRED = 16;
const SO_PEERCRED = 17;
const MSG_PEEK = 2;
const MSG_DONTWAIT = 0x40;
const MSG_TRUNC = 0x20;
const MSG_NOSIGNAL = 0x4000;
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

async function pair(h: Harness, type: number): Promise<[number, number]> {
  expect(await h.call('socketpair', AF_UNIX, type, 0, BUF)).toBe(0);
  return [h.mem.readI32(BUF) as number, h.mem.readI32(BUF + 4) as number];
}
function put(h: Harness, addr: number, s: string | Uint8Array): number {
  const b = typeof s === 'string' ? enc(s) : s;
  h.mem.write(addr, b);
  return b.length;
}
function text(h: Harness, addr: number, n: number): string {
  return new TextDecoder().decode(h.mem.read(addr, n) as Uint8Array);
}
/** A sockaddr_un with a path or (leading '\0') an abstract name; returns its length. */
function sun(h: Harness, addr: number, name: string): number {
  const b = new Uint8Array(110);
  b[0] = AF_UNIX;
  const n = enc(name);
  b.set(n, 2);
  h.mem.write(addr, b);
  return name.startsWith('\0') ? 2 + n.length : 2 + n.length + 1;
}
function sin(h: Harness, addr: number, port: number): number {
  const b = new Uint8Array(16);
  b[0] = AF_INET;
  b[2] = port >> 8;
  b[3] = port & 0xff;
  b.set([127, 0, 0, 1], 4);
  h.mem.write(addr, b);
  return 16;
}

describe('socket syscalls', () => {
  it('validates domain, type, protocol and fds as Linux does', async () => {
    const h = harness();
    expect(await h.call('socket', 99, SOCK_STREAM, 0)).toBe(E.EAFNOSUPPORT);
    expect(await h.call('socket', 12, SOCK_DGRAM, 0)).toBe(E.EAFNOSUPPORT); // AF_DECnet, gone from Linux
    expect(await h.call('socket', 16, SOCK_STREAM, 0)).toBe(E.ESOCKTNOSUPPORT); // AF_NETLINK
    expect(await h.call('socket', 16, SOCK_DGRAM, 1)).toBe(E.EPROTONOSUPPORT);
    expect(await h.call('socket', AF_UNIX, 0x100, 0)).toBe(E.EINVAL);
    expect(await h.call('socket', AF_UNIX, 4, 0)).toBe(E.ESOCKTNOSUPPORT);
    expect(await h.call('socket', AF_UNIX, SOCK_STREAM, 6)).toBe(E.EPROTONOSUPPORT);
    expect(await h.call('socketpair', AF_INET, SOCK_STREAM, 0, BUF)).toBe(E.EOPNOTSUPP);
    expect(await h.call('socketpair', AF_UNIX, SOCK_STREAM, 0, BAD)).toBe(E.EFAULT);
    const efd = (await h.call('eventfd2', 0, 0)) as number;
    expect(await h.call('listen', efd, 1)).toBe(E.ENOTSOCK);
    expect(await h.call('listen', 77, 1)).toBe(E.EBADF);
    const s = (await h.call('socket', AF_UNIX, SOCK_STREAM, 0)) as number;
    expect(await h.call('bind', s, BUF, 129)).toBe(E.EINVAL);
    expect(await h.call('bind', s, BAD, 10)).toBe(E.EFAULT);
    h.mem.writeI32(BUF + 200, 4);
    expect(await h.call('getsockopt', s, SOL_SOCKET, SO_TYPE, BUF + 204, BUF + 200)).toBe(0);
    expect(h.mem.readI32(BUF + 204)).toBe(SOCK_STREAM);
    expect(await h.call('accept4', s, 0, 0, 1)).toBe(E.EINVAL);
    expect(await h.call('accept', s, 0, 0)).toBe(E.EINVAL);
  });

  it('moves bytes across a socketpair; recv blocks until a send; EPIPE with MSG_NOSIGNAL', async () => {
    const h = harness();
    const [a, b] = await pair(h, SOCK_STREAM);
    const n = put(h, BUF + 100, 'hello');
    expect(await h.call('sendto', a, BUF + 100, n, 0, 0, 0)).toBe(5);
    expect(await h.call('recvfrom', b, BUF + 200, 64, MSG_PEEK, 0, 0)).toBe(5);
    expect(await h.call('read', b, BUF + 200, 64)).toBe(5);
    expect(text(h, BUF + 200, 5)).toBe('hello');
    expect(await h.call('recvfrom', b, BUF + 200, 64, MSG_DONTWAIT, 0, 0)).toBe(E.EAGAIN);
    const p = h.call('recvfrom', b, BUF + 200, 64, 0, 0, 0);
    await Promise.resolve();
    expect(h.task.blocked).toBe(true);
    expect(await h.call('write', a, BUF + 100, 2)).toBe(2);
    expect(await p).toBe(2);
    expect(await h.call('shutdown', a, 1)).toBe(0);
    expect(await h.call('read', b, BUF + 200, 64)).toBe(0);
    expect(await h.call('sendto', a, BUF + 100, 1, MSG_NOSIGNAL, 0, 0)).toBe(E.EPIPE);
  });

  it('keeps datagram boundaries and reports MSG_TRUNC lengths', async () => {
    const h = harness();
    const [a, b] = await pair(h, SOCK_SEQPACKET);
    put(h, BUF + 100, 'abcdef');
    expect(await h.call('sendto', a, BUF + 100, 6, 0, 0, 0)).toBe(6);
    expect(await h.call('recvfrom', b, BUF + 200, 2, MSG_TRUNC, 0, 0)).toBe(6);
    const [c, d] = await pair(h, SOCK_DGRAM);
    expect(await h.call('sendto', c, BUF + 100, 3, 0, 0, 0)).toBe(3);
    expect(await h.call('recvfrom', d, BUF + 200, 64, 0, 0, 0)).toBe(3);
  });

  it('binds a path (an S_IFSOCK node), listens, connects and accepts; SO_PEERCRED', async () => {
    const h = harness();
    const srv = (await h.call('socket', AF_UNIX, SOCK_STREAM, 0)) as number;
    const len = sun(h, BUF, '/srv.sock');
    expect(await h.call('bind', srv, BUF, len)).toBe(0);
    put(h, BUF + 400, '/srv.sock\0');
    expect(await h.call('newfstatat', -100, BUF + 400, BUF + 600, 0)).toBe(0);
    expect((h.mem.readU32(BUF + 600 + 24) as number) & 0o170000).toBe(0o140000);
    const again = (await h.call('socket', AF_UNIX, SOCK_STREAM, 0)) as number;
    expect(await h.call('bind', again, BUF, len)).toBe(E.EADDRINUSE);
    const cli = (await h.call('socket', AF_UNIX, SOCK_STREAM, 0)) as number;
    expect(await h.call('connect', cli, BUF, len)).toBe(E.ECONNREFUSED);
    expect(await h.call('listen', srv, 4)).toBe(0);
    const acc = h.call('accept4', srv, 0, 0, 0);
    expect(await h.call('connect', cli, BUF, len)).toBe(0);
    const conn = (await acc) as number;
    expect(conn).toBeGreaterThan(cli);
    h.mem.writeI32(BUF + 300, 110);
    expect(await h.call('getpeername', cli, BUF + 310, BUF + 300)).toBe(0);
    expect(h.mem.readI32(BUF + 300)).toBe(len);
    h.mem.writeI32(BUF + 300, 12);
    expect(await h.call('getsockopt', conn, SOL_SOCKET, SO_PEERCRED, BUF + 310, BUF + 300)).toBe(0);
    expect(h.mem.readI32(BUF + 310)).toBe(h.task.tgid);
    const missing = sun(h, BUF, '/nothing');
    expect(await h.call('connect', again, BUF, missing)).toBe(E.ENOENT);
  });

  it('passes a descriptor with SCM_RIGHTS and credentials with SO_PASSCRED', async () => {
    const h = harness();
    const [a, b] = await pair(h, SOCK_DGRAM);
    const efd = (await h.call('eventfd2', 5, 0)) as number;
    h.mem.writeI32(BUF + 500, 1);
    expect(await h.call('setsockopt', b, SOL_SOCKET, SO_PASSCRED, BUF + 500, 4)).toBe(0);
    // msghdr at BUF: iov at BUF+100 -> "x" at BUF+200, control at BUF+300
    const msg = (control: number, controllen: number): void => {
      h.mem.write(BUF, new Uint8Array(56));
      h.mem.writeU64(BUF + 16, BigInt(BUF + 100));
      h.mem.writeU64(BUF + 24, 1n);
      h.mem.writeU64(BUF + 32, BigInt(control));
      h.mem.writeU64(BUF + 40, BigInt(controllen));
      h.mem.writeU64(BUF + 100, BigInt(BUF + 200));
      h.mem.writeU64(BUF + 108, 1n);
    };
    put(h, BUF + 200, 'x');
    msg(BUF + 300, 24);
    h.mem.writeU64(BUF + 300, 20n);
    h.mem.writeI32(BUF + 308, SOL_SOCKET);
    h.mem.writeI32(BUF + 312, 1);
    h.mem.writeI32(BUF + 316, efd);
    expect(await h.call('sendmsg', a, BUF, 0)).toBe(1);
    expect(await h.call('close', efd)).toBe(0);
    msg(BUF + 1000, 64);
    expect(await h.call('recvmsg', b, BUF, 0)).toBe(1);
    // SCM_CREDENTIALS (16 + 12 -> 32 with padding) then SCM_RIGHTS.
    expect(h.mem.readI32(BUF + 1000 + 12)).toBe(2);
    expect(h.mem.readI32(BUF + 1000 + 16)).toBe(h.task.tgid);
    expect(h.mem.readI32(BUF + 1032 + 12)).toBe(1);
    const got = h.mem.readI32(BUF + 1032 + 16) as number;
    expect(await h.call('read', got, BUF + 800, 8)).toBe(8);
    expect(h.mem.readU64(BUF + 800)).toBe(5n);
    // A bad descriptor in SCM_RIGHTS is EBADF.
    msg(BUF + 300, 24);
    h.mem.writeI32(BUF + 316, 999);
    expect(await h.call('sendmsg', a, BUF, 0)).toBe(E.EBADF);
  });

  it('reports readiness to poll on socket fds', async () => {
    const h = harness();
    const [a, b] = await pair(h, SOCK_STREAM | SOCK_NONBLOCK);
    // struct pollfd { int fd; short events; short revents; }
    h.mem.writeI32(BUF, b);
    h.mem.write(BUF + 4, new Uint8Array([1, 0, 0, 0]));
    expect(await h.call('poll', BUF, 1, 0)).toBe(0);
    put(h, BUF + 100, 'z');
    expect(await h.call('write', a, BUF + 100, 1)).toBe(1);
    expect(await h.call('poll', BUF, 1, 0)).toBe(1); // after write
    expect(await h.call('ioctl', b, 0x541b, BUF + 200)).toBe(0);
    expect(h.mem.readI32(BUF + 200)).toBe(1);
  });

  it('runs TCP and UDP over 127.0.0.1', async () => {
    const h = harness();
    const srv = (await h.call('socket', AF_INET, SOCK_STREAM, 0)) as number;
    expect(await h.call('bind', srv, BUF, sin(h, BUF, 7000))).toBe(0);
    expect(await h.call('listen', srv, 4)).toBe(0);
    const cli = (await h.call('socket', AF_INET, SOCK_STREAM, 0)) as number;
    expect(await h.call('connect', cli, BUF, sin(h, BUF, 7000))).toBe(0);
    const conn = (await h.call('accept', srv, 0, 0)) as number;
    expect(conn).toBeGreaterThan(0);
    put(h, BUF + 100, 'echo');
    expect(await h.call('sendto', cli, BUF + 100, 4, 0, 0, 0)).toBe(4);
    expect(await h.call('recvfrom', conn, BUF + 200, 4, 0x100, 0, 0)).toBe(4); // MSG_WAITALL
    expect(text(h, BUF + 200, 4)).toBe('echo');
    const cli2 = (await h.call('socket', AF_INET, SOCK_STREAM, 0)) as number;
    expect(await h.call('connect', cli2, BUF, sin(h, BUF, 7001))).toBe(E.ECONNREFUSED);
    const u1 = (await h.call('socket', AF_INET, SOCK_DGRAM, 0)) as number;
    const u2 = (await h.call('socket', AF_INET, SOCK_DGRAM, 0)) as number;
    expect(await h.call('bind', u1, BUF, sin(h, BUF, 7002))).toBe(0);
    expect(await h.call('sendto', u2, BUF + 100, 4, 0, BUF, sin(h, BUF, 7002))).toBe(4);
    h.mem.writeI32(BUF + 300, 16);
    expect(await h.call('recvfrom', u1, BUF + 200, 64, 0, BUF + 310, BUF + 300)).toBe(4);
    expect(h.mem.readI32(BUF + 300)).toBe(16);
  });

  it('raises SIGPIPE on EPIPE unless MSG_NOSIGNAL; a signal interrupts a blocked recv', async () => {
    const h = harness();
    const [a, b] = await pair(h, SOCK_STREAM);
    expect(await h.call('close', b)).toBe(0);
    h.task.mask.add(Signal.SIGPIPE);
    expect(await h.call('sendto', a, BUF, 1, MSG_NOSIGNAL, 0, 0)).toBe(E.EPIPE);
    expect(h.task.pending.set.has(Signal.SIGPIPE)).toBe(false);
    expect(await h.call('sendto', a, BUF, 1, 0, 0, 0)).toBe(E.EPIPE);
    expect(h.task.pending.set.has(Signal.SIGPIPE)).toBe(true);
    h.task.pending.clear();
    const [c] = await pair(h, SOCK_DGRAM);
    const waiting = h.call('recvfrom', c, BUF, 8, 0, 0, 0);
    await Promise.resolve();
    expect(h.task.blocked).toBe(true);
    h.task.group.actions.set(Signal.SIGUSR1, {
      handler: 0x401000n,
      flags: 0,
      restorer: 0n,
      mask: h.task.mask.clone(),
    });
    h.kernel.sendToTask(h.task, { signo: Signal.SIGUSR1, code: 0 });
    expect(await waiting).toBe(ERESTARTSYS);
  });

  it('wakes epoll_wait when a socket becomes readable', async () => {
    const h = harness();
    const [a, b] = await pair(h, SOCK_STREAM);
    const ep = (await h.call('epoll_create1', 0)) as number;
    // struct epoll_event { u32 events; u64 data; } packed: 12 bytes
    h.mem.write(BUF, new Uint8Array(12));
    h.mem.writeU32(BUF, 1);
    expect(await h.call('epoll_ctl', ep, 1, b, BUF)).toBe(0);
    const waiting = h.call('epoll_wait', ep, BUF + 100, 4, -1);
    await Promise.resolve();
    expect(h.task.blocked).toBe(true);
    put(h, BUF + 200, 'q');
    expect(await h.call('write', a, BUF + 200, 1)).toBe(1);
    expect(await waiting).toBe(1);
    expect(h.mem.readU32(BUF + 100)).toBe(1);
  });
});
