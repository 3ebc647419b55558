// Network mode `host` without a host: a fake HostSockets records what would reach the host, to
// check that nothing from the sandbox gets there unchecked, and that random input never throws.
// The real host sockets are exercised end to end in @tsvisor/runtime (host-network.test.ts).
import { E, isError, type LinuxError } from '@tsvisor/abi';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BAD, BUF, BUF_SIZE, harness, type Harness } from './harness.test-util.js';
import { configureHostNetwork, hostControl, hostSockaddr, type HostSockets } from './sys-socket-host.js';

const AF_UNIX = 1;
const AF_INET = 2;
const AF_INET6 = 10;
const SOCK_STREAM = 1;
const SOCK_DGRAM = 2;
const SOCK_RAW = 3;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;

interface Seen {
  op: string;
  bytes?: Uint8Array;
  level?: number;
  name?: number;
  flags?: number;
  type?: number;
  control?: Uint8Array;
}

/** The fake host's readiness: what poll answers, the watch's arms, and its report callback. */
interface FakeWatch {
  revents: number;
  arms: number[];
  report: (() => void) | undefined;
}

/** What the fake host's recv answers next: data, cmsgs and msg_flags, or an errno. */
interface Incoming {
  data: Uint8Array;
  control?: Uint8Array;
  msgFlags?: number;
}

/**
 * Host calls that succeed and record their arguments. No data arrives unless a test queues it in
 * `incoming`; socket options read back as the last value set (a zero int otherwise).
 */
function fakeHost(): {
  calls: HostSockets;
  seen: Seen[];
  closed: number[];
  incoming: Incoming[];
  outq: number[];
  watch: FakeWatch;
  sendCap: number[];
} {
  const watch: FakeWatch = { revents: 0x4, arms: [], report: undefined };
  const seen: Seen[] = [];
  const closed: number[] = [];
  const incoming: Incoming[] = [];
  const outq = [0];
  /** The most one host send takes (the rest would not fit the socket buffer). */
  const sendCap = [Infinity];
  const options = new Map<string, Uint8Array>();
  let next = 1000;
  const copy = (b: Uint8Array): Uint8Array => b.slice();
  const calls: HostSockets = {
    socket: (_d, type) => {
      seen.push({ op: 'socket', type });
      return next++;
    },
    bind: (_fd, a) => (seen.push({ op: 'bind', bytes: copy(a) }), 0),
    connect: (_fd, a) => (seen.push({ op: 'connect', bytes: copy(a) }), 0),
    listen: () => 0,
    accept: (): LinuxError => E.EAGAIN,
    name: (_fd, _peer, out) => {
      out.set([AF_INET, 0, 0x1f, 0x90, 127, 0, 0, 1]);
      return 16;
    },
    send: (_fd, d, a, flags, control) => {
      seen.push({
        op: 'send',
        ...(a ? { bytes: copy(a) } : {}),
        flags,
        ...(control ? { control: copy(control) } : {}),
      });
      return Math.min(d.length, sendCap[0]!);
    },
    recv: (_fd, buf, _flags, _addr, meta, control): number | LinuxError => {
      const next = incoming.shift();
      if (!next) return E.EAGAIN;
      buf.set(next.data.subarray(0, buf.length));
      meta[0] = 0;
      meta[1] = next.msgFlags ?? 0;
      if (control) {
        const c = next.control ?? new Uint8Array(0);
        const n = Math.min(c.length, control.length);
        control.set(c.subarray(0, n));
        meta[2] = n;
        if (n < c.length) meta[1] |= 0x8; // MSG_CTRUNC
      }
      return next.data.length;
    },
    setsockopt: (_fd, level, name, v) => {
      seen.push({ op: 'setsockopt', level, name, bytes: copy(v) });
      options.set(`${level}:${name}`, copy(v));
      return 0;
    },
    getsockopt: (_fd, level, name, out) => {
      seen.push({ op: 'getsockopt', level, name, bytes: new Uint8Array(out.length) });
      const v = options.get(`${level}:${name}`) ?? new Uint8Array(4);
      out.set(v.subarray(0, out.length));
      return Math.min(out.length, v.length);
    },
    shutdown: (_fd, how) => (seen.push({ op: 'shutdown', flags: how }), 0),
    ioctlInt: (_fd, cmd) => (cmd === 0x5411 ? outq[0]! : 0), // SIOCOUTQ
    poll: (_fd, events) => watch.revents & (events | 0x18),
    watch: (_fd, onReady) => {
      watch.report = onReady;
      return {
        arm: (events) => void watch.arms.push(events),
        edges: () => undefined,
        close: () => undefined,
      };
    },
    close: (fd) => void closed.push(fd),
  };
  return { calls, seen, closed, incoming, outq, watch, sendCap };
}

/** Bytes of the harness memory (a test bug if unmapped). */
function peek(h: Harness, addr: number, len: number): Uint8Array {
  const b = h.mem.read(addr, len);
  if (isError(b)) throw new Error(`unmapped ${addr}`);
  return b;
}

function hostHarness(): {
  h: Harness;
  seen: Seen[];
  closed: number[];
  incoming: Incoming[];
  outq: number[];
  watch: FakeWatch;
  sendCap: number[];
} {
  const h = harness();
  const f = fakeHost();
  configureHostNetwork(h.kernel, f.calls);
  return { h, ...f };
}

describe('hostSockaddr', () => {
  it('rebuilds inet addresses from their fields and never passes other bytes', () => {
    const sin = Uint8Array.from([2, 0, 0x1f, 0x90, 127, 0, 0, 1, 9, 9, 9, 9, 9, 9, 9, 9, 7, 7]);
    expect([...hostSockaddr(sin)]).toEqual([2, 0, 0x1f, 0x90, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(hostSockaddr(sin.subarray(0, 8)).length).toBe(8);
    const unix = Uint8Array.from([1, 0, 47, 116, 109, 112]);
    expect([...hostSockaddr(unix)]).toEqual([1, 0, 0, 0, 0, 0]);
    const six = new Uint8Array(40).fill(5);
    six[0] = AF_INET6;
    six[1] = 0;
    expect(hostSockaddr(six).length).toBe(28);
  });
});

describe('destination addresses in host mode', () => {
  it('reach the host re-encoded from sendto and sendmsg, never as the bytes the sandbox gave', async () => {
    // An AF_UNSPEC destination of 29 bytes (seed 468550387 of the random test below): Linux's
    // udp_sendmsg reads 16 of them; the host gets those 16, rebuilt.
    const { h, seen } = hostHarness();
    const fd = (await h.call('socket', AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0)) as number;
    const to = new Uint8Array(29).fill(7);
    to[0] = 0;
    to[1] = 0;
    h.mem.write(BUF, to);
    await h.call('sendto', fd, BUF + 64, 0, 0, BUF, 29);
    // struct msghdr: name, namelen, iov, iovlen (no control).
    const hdr = new DataView(new ArrayBuffer(56));
    hdr.setBigUint64(0, BigInt(BUF), true);
    hdr.setUint32(8, 29, true);
    h.mem.write(BUF + 128, new Uint8Array(hdr.buffer));
    await h.call('sendmsg', fd, BUF + 128, 0);
    const sends = seen.filter((s) => s.op === 'send' && s.bytes);
    expect(sends).toHaveLength(2);
    for (const s of sends) expect([...s.bytes!]).toEqual([0, 0, 7, 7, 7, 7, 7, 7, 0, 0, 0, 0, 0, 0, 0, 0]);
  });
});

describe('socket(2) in host mode', () => {
  it('makes host sockets for AF_INET/AF_INET6, non-blocking and close-on-exec on the host', async () => {
    const { h, seen } = hostHarness();
    const fd = await h.call('socket', AF_INET, SOCK_STREAM, 0);
    expect(typeof fd).toBe('number');
    expect(await h.call('socket', AF_INET6, SOCK_DGRAM, 0)).toBe((fd as number) + 1);
    expect(seen.filter((s) => s.op === 'socket').map((s) => s.type)).toEqual([
      SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
      SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
    ]);
    expect(await h.call('socket', AF_INET, SOCK_RAW, 1)).toBe(E.EPERM);
    expect(await h.call('socket', AF_INET, SOCK_STREAM | 0x100, 0)).toBe(E.EINVAL);
  });

  it('leaves AF_UNIX to the sandbox, and AF_INET too outside host mode', async () => {
    const { h, seen } = hostHarness();
    expect(typeof (await h.call('socket', AF_UNIX, SOCK_STREAM, 0))).toBe('number');
    expect(seen).toEqual([]);
    const plain = harness();
    const fd = await plain.call('socket', AF_INET, SOCK_STREAM, 0);
    expect(typeof fd).toBe('number');
  });

  it('closes the host fd when the last sandbox fd goes', async () => {
    const { h, closed } = hostHarness();
    const fd = (await h.call('socket', AF_INET, SOCK_STREAM, 0)) as number;
    const dup = (await h.call('dup', fd)) as number;
    expect(await h.call('close', fd)).toBe(0);
    expect(closed).toEqual([]);
    expect(await h.call('close', dup)).toBe(0);
    expect(closed).toEqual([1000]);
  });

  it('answers EFAULT and EINVAL for bad pointers and lengths before the host sees them', async () => {
    const { h, seen } = hostHarness();
    const fd = (await h.call('socket', AF_INET, SOCK_STREAM, 0)) as number;
    expect(await h.call('bind', fd, BAD, 16)).toBe(E.EFAULT);
    expect(await h.call('bind', fd, BUF, 129)).toBe(E.EINVAL);
    expect(await h.call('bind', fd, BUF, -1)).toBe(E.EINVAL);
    expect(await h.call('setsockopt', fd, 1, 2, BAD, 4)).toBe(E.EFAULT);
    expect(await h.call('setsockopt', fd, 1, 9999, BUF, 4)).toBe(E.ENOPROTOOPT);
    expect(await h.call('setsockopt', fd, 1, 25, BUF, 16)).toBe(E.ENOPROTOOPT); // SO_BINDTODEVICE
    expect(await h.call('getsockopt', fd, 1, 3, BUF, BAD)).toBe(E.EFAULT);
    expect(await h.call('sendto', fd, BAD, 10, 0, 0, 0)).toBe(E.EFAULT);
    expect(seen.filter((s) => s.op !== 'socket')).toEqual([]);
  });

  it('never lets the host linger (its close would block the supervisor): the closing task waits', async () => {
    const { h, seen, closed, outq } = hostHarness();
    const fd = (await h.call('socket', AF_INET, SOCK_STREAM, 0)) as number;
    h.mem.write(BUF, Uint8Array.of(1, 0, 0, 0, 5, 0, 0, 0));
    expect(await h.call('setsockopt', fd, 1, 13, BUF, 8)).toBe(0);
    // The host records the time with the flag off; getsockopt shows the sandbox's flag.
    expect(seen.filter((s) => s.op === 'setsockopt').map((s) => [...s.bytes!])).toEqual([
      [1, 0, 0, 0, 5, 0, 0, 0],
      [0, 0, 0, 0, 5, 0, 0, 0],
    ]);
    h.mem.write(BUF + 64, Uint8Array.of(8, 0, 0, 0));
    expect(await h.call('getsockopt', fd, 1, 13, BUF + 32, BUF + 64)).toBe(0);
    expect([...peek(h, BUF + 32, 8)]).toEqual([1, 0, 0, 0, 5, 0, 0, 0]);

    // Unacknowledged data: close waits (the host fd stays open) until the host's queue empties.
    outq[0] = 1000;
    let done = false;
    const closing = h.call('close', fd).then((r) => ((done = true), r));
    await new Promise((r) => setImmediate(r));
    expect(done).toBe(false);
    expect(closed).toEqual([]);
    h.time.advance(20_000_000n);
    await new Promise((r) => setImmediate(r));
    expect(done).toBe(false);
    // The FIN went at once (tcp_close sends it before waiting), the host close only at the end.
    expect(seen.filter((s) => s.op === 'shutdown').map((s) => s.flags)).toEqual([1]);
    outq[0] = 0;
    h.time.advance(20_000_000n);
    expect(await closing).toBe(0);
    expect(closed).toEqual([1000]);

    // ... and at most the linger time.
    const fd2 = (await h.call('socket', AF_INET, SOCK_STREAM, 0)) as number;
    h.mem.write(BUF, Uint8Array.of(1, 0, 0, 0, 1, 0, 0, 0));
    expect(await h.call('setsockopt', fd2, 1, 13, BUF, 8)).toBe(0);
    outq[0] = 1000;
    const closing2 = h.call('close', fd2);
    for (let i = 0; i < 120; i++) h.time.advance(10_000_000n);
    expect(await closing2).toBe(0);
    expect(closed).toEqual([1000, 1001]);
  });

  it('passes a resetting linger (zero time) as it is; a lingering socket dropped without close(2) closes at once', async () => {
    const { h, seen, closed, outq } = hostHarness();
    const fd = (await h.call('socket', AF_INET, SOCK_STREAM, 0)) as number;
    h.mem.write(BUF, Uint8Array.of(1, 0, 0, 0, 0, 0, 0, 0, 9, 9));
    expect(await h.call('setsockopt', fd, 1, 13, BUF, 10)).toBe(0);
    expect(seen.filter((s) => s.op === 'setsockopt').map((s) => [...s.bytes!])).toEqual([
      [1, 0, 0, 0, 0, 0, 0, 0],
    ]);
    h.mem.write(BUF, Uint8Array.of(1, 0, 0, 0, 3, 0, 0, 0));
    expect(await h.call('setsockopt', fd, 1, 13, BUF, 8)).toBe(0);
    outq[0] = 50;
    // dup2 over the last reference: no close(2) of it, so no linger (as an exiting process).
    const other = (await h.call('socket', AF_INET, SOCK_DGRAM, 0)) as number;
    expect(await h.call('dup2', other, fd)).toBe(fd);
    await new Promise((r) => setImmediate(r));
    expect(closed).toEqual([1000]);
  });
});

/** The option lengths the allowlist gives, to check what reached the host. */
const MAX_OPTION = 256;

describe('random socket calls in host mode', () => {
  it('never throw, answer numbers or errnos, and pass only canonical addresses and allowlisted options', async () => {
    const names = [
      'bind',
      'connect',
      'sendto',
      'setsockopt',
      'getsockopt',
      'getsockname',
      'getpeername',
      'accept4',
      'sendmsg',
      'recvmsg',
    ];
    const arg = fc.oneof(
      fc.constantFrom(0, BUF, BUF + 8, BAD, -1, 16, 28, 128, 129, 0x7fffffff),
      fc.integer({ min: -4, max: 300 }),
      fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
    );
    const call = fc.record({
      name: fc.constantFrom(...names),
      args: fc.array(arg, { minLength: 5, maxLength: 5 }),
      bytes: fc.uint8Array({ minLength: 0, maxLength: 64 }),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(call, { minLength: 1, maxLength: 12 }), async (calls) => {
        const { h, seen } = hostHarness();
        const fd = (await h.call('socket', AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0)) as number;
        for (const c of calls) {
          h.mem.write(BUF, c.bytes);
          const r = await h.call(c.name, fd, ...c.args);
          expect(typeof r === 'number' || typeof r === 'bigint' || isError(r)).toBe(true);
        }
        // A handler that threw is logged by the dispatcher (and answered EFAULT): none may.
        expect(h.logs).toEqual([]);
        for (const s of seen) {
          if (s.op === 'setsockopt' || s.op === 'getsockopt') {
            expect([0, 1, 6, 17, 41, 136]).toContain(s.level);
            expect(s.bytes!.length).toBeLessThanOrEqual(MAX_OPTION);
          }
          if (s.bytes && (s.op === 'bind' || s.op === 'connect' || s.op === 'send')) {
            const b = s.bytes;
            expect(b.length).toBeLessThanOrEqual(28);
            const family = b.length >= 2 ? b[0]! | (b[1]! << 8) : -1;
            if (family === AF_INET || family === 0)
              expect([...b.subarray(8)].every((x) => x === 0)).toBe(true);
            else if (family !== AF_INET6 && b.length >= 2)
              expect([...b.subarray(2)].every((x) => x === 0)).toBe(true);
          }
          if (s.op === 'send') expect(s.flags! & 0x4040).toBe(0x4040); // MSG_NOSIGNAL | MSG_DONTWAIT
          // Control messages reach the host well formed and never as SCM_RIGHTS/SCM_CREDENTIALS.
          if (s.control) for (const [lv, ty] of cmsgsOf(s.control)) expect(lv === 1 && ty <= 2).toBe(false);
        }
      }),
      { numRuns: 100 },
    );
  });
});

/** One cmsg as x86-64 lays it out: cmsg_len (u64), level, type, data, padded to 8 bytes. */
function cmsg(level: number, type: number, data: number[] | Uint8Array, len?: number): Uint8Array {
  const n = 16 + data.length;
  const b = new Uint8Array((n + 7) & ~7);
  const v = new DataView(b.buffer);
  v.setBigUint64(0, BigInt(len ?? n), true);
  v.setInt32(8, level, true);
  v.setInt32(12, type, true);
  b.set(data, 16);
  return b;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** (level, type) of each cmsg in `b`, walking it as the kernel does. */
function cmsgsOf(b: Uint8Array): [number, number][] {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out: [number, number][] = [];
  for (let off = 0; off + 16 <= b.length;) {
    const n = Number(v.getBigUint64(off, true));
    if (n < 16 || n > b.length - off) throw new Error(`bad cmsg_len ${n} at ${off}`);
    out.push([v.getInt32(off + 8, true), v.getInt32(off + 12, true)]);
    off += (n + 7) & ~7;
  }
  return out;
}

const SOL_SOCKET = 1;
const SOL_IP = 0;
const SOL_IPV6 = 41;
const SCM_RIGHTS = 1;
const SCM_CREDENTIALS = 2;
const int32 = (x: number): number[] => [x & 255, (x >>> 8) & 255, (x >>> 16) & 255, x >>> 24];
const DGRAM4 = { stream: false, domain: AF_INET };
const DGRAM6 = { stream: false, domain: AF_INET6 };
const STREAM4 = { stream: true, domain: AF_INET };

describe('hostControl: the cmsgs of a sendmsg, rebuilt for the host', () => {
  it('drops SCM_RIGHTS and SCM_CREDENTIALS (inet sockets ignore them): no sandbox fd reaches the host', () => {
    const ttl = cmsg(SOL_IP, 2, int32(9));
    const rights = cmsg(SOL_SOCKET, SCM_RIGHTS, [...int32(0), ...int32(1), ...int32(2)]);
    const creds = cmsg(SOL_SOCKET, SCM_CREDENTIALS, new Array<number>(12).fill(0));
    const out = hostControl(concat(rights, ttl, creds), DGRAM4);
    if (isError(out)) throw new Error(String(out));
    expect(cmsgsOf(out)).toEqual([[SOL_IP, 2]]);
    expect([...out]).toEqual([...ttl.subarray(0, 20)]);
    const only = hostControl(rights, STREAM4);
    expect(isError(only) ? only : only.length).toBe(0);
  });

  it('answers EINVAL for a cmsg_len below the header or past the buffer, as CMSG_OK', () => {
    expect(hostControl(cmsg(SOL_IP, 2, int32(9), 8), DGRAM4)).toBe(E.EINVAL);
    expect(hostControl(cmsg(SOL_IP, 2, int32(9), 64), DGRAM4)).toBe(E.EINVAL);
    expect(hostControl(cmsg(SOL_SOCKET, SCM_RIGHTS, int32(3), 2 ** 40), STREAM4)).toBe(E.EINVAL);
    // Less than one header: no cmsg at all (CMSG_FIRSTHDR is NULL).
    expect(hostControl(new Uint8Array(15).fill(0xff), DGRAM4)).toEqual(new Uint8Array(0));
  });

  it('keeps what each protocol reads: IP levels on datagram sockets only, SOL_IPV6 on AF_INET6 only', () => {
    const ttl = cmsg(SOL_IP, 2, int32(9));
    const hop = cmsg(SOL_IPV6, 52, int32(3));
    const other = cmsg(1234, 1, int32(1));
    const all = concat(ttl, hop, other);
    const ok = (r: Uint8Array | object): [number, number][] => cmsgsOf(r as Uint8Array);
    expect(ok(hostControl(all, DGRAM4))).toEqual([[SOL_IP, 2]]);
    expect(ok(hostControl(all, DGRAM6))).toEqual([
      [SOL_IP, 2],
      [SOL_IPV6, 52],
    ]);
    expect(ok(hostControl(all, STREAM4))).toEqual([]);
    // TCP ignores IP-level cmsgs, even unknown ones; UDP refuses unknown ones.
    const unknown = cmsg(SOL_IP, 4321, int32(1));
    expect(ok(hostControl(unknown, STREAM4))).toEqual([]);
    expect(hostControl(unknown, DGRAM4)).toBe(E.EINVAL);
  });

  it('refuses what would borrow the supervisor privileges: SO_MARK, high SO_PRIORITY, IP options, IPv6 headers', () => {
    expect(hostControl(cmsg(SOL_SOCKET, 36, int32(1)), STREAM4)).toBe(E.EPERM); // SO_MARK
    expect(hostControl(cmsg(SOL_SOCKET, 12, int32(7)), DGRAM4)).toBe(E.EPERM); // SO_PRIORITY
    expect(hostControl(cmsg(SOL_SOCKET, 12, [1, 0]), DGRAM4)).toBe(E.EINVAL);
    expect(cmsgsOf(hostControl(cmsg(SOL_SOCKET, 12, int32(6)), DGRAM4) as Uint8Array)).toEqual([[1, 12]]);
    expect(hostControl(cmsg(SOL_IP, 7, int32(0)), DGRAM4)).toBe(E.EPERM); // IP_RETOPTS
    expect(hostControl(cmsg(SOL_IPV6, 54, new Array<number>(8).fill(0)), DGRAM6)).toBe(E.EPERM); // HOPOPTS
    expect(hostControl(cmsg(SOL_SOCKET, 9999, int32(0)), DGRAM4)).toBe(E.EINVAL);
  });

  it('never throws, and what it passes is well formed, allowlisted and free of fds', () => {
    const level = fc.constantFrom(SOL_SOCKET, SOL_IP, SOL_IPV6, 6, 17, -1, 0x7fffffff);
    const type = fc.oneof(fc.constantFrom(1, 2, 7, 8, 12, 36, 37, 50, 52, 54, 61, 67), fc.integer());
    const one = fc.record({
      level,
      type,
      data: fc.uint8Array({ maxLength: 40 }),
      len: fc.option(fc.integer({ min: 0, max: 80 }), { nil: undefined }),
    });
    const sock = fc.record({ stream: fc.boolean(), domain: fc.constantFrom(AF_INET, AF_INET6) });
    fc.assert(
      fc.property(fc.array(one, { maxLength: 6 }), fc.nat(8), sock, (list, cut, s) => {
        const raw = concat(...list.map((c) => cmsg(c.level, c.type, c.data, c.len)));
        const out = hostControl(raw.subarray(0, Math.max(0, raw.length - cut)), s);
        if (isError(out)) return;
        for (const [lv, ty] of cmsgsOf(out)) {
          expect([SOL_SOCKET, SOL_IP, SOL_IPV6]).toContain(lv);
          if (lv === SOL_SOCKET) expect([12, 37, 61]).toContain(ty);
          else expect(s.stream).toBe(false);
          if (lv === SOL_IPV6) expect(s.domain).toBe(AF_INET6);
        }
      }),
      { numRuns: 500 },
    );
  });
});

/** A msghdr at BUF + 512: one iovec (BUF + 1024, `len`), control at BUF + 2048. */
function msghdrAt(
  h: Harness,
  opts: { len: number; control?: Uint8Array; controllen?: number; noControl?: boolean },
): number {
  const mp = BUF + 512;
  const v = new DataView(new ArrayBuffer(56));
  v.setBigUint64(16, BigInt(BUF + 768), true); // msg_iov
  v.setBigUint64(24, 1n, true); // msg_iovlen
  if (!opts.noControl) v.setBigUint64(32, BigInt(BUF + 2048), true);
  v.setBigUint64(40, BigInt(opts.controllen ?? opts.control?.length ?? 0), true);
  h.mem.write(mp, new Uint8Array(v.buffer));
  const iov = new DataView(new ArrayBuffer(16));
  iov.setBigUint64(0, BigInt(BUF + 1024), true);
  iov.setBigUint64(8, BigInt(opts.len), true);
  h.mem.write(BUF + 768, new Uint8Array(iov.buffer));
  if (opts.control) h.mem.write(BUF + 2048, opts.control);
  return mp;
}

describe('sendmsg/recvmsg control messages in host mode', () => {
  it('sendmsg passes the rebuilt cmsgs, drops SCM_RIGHTS, and checks size and memory first', async () => {
    const { h, seen } = hostHarness();
    const fd = (await h.call('socket', AF_INET, SOCK_DGRAM, 0)) as number;
    const ttl = cmsg(SOL_IP, 2, int32(9));
    const rights = cmsg(SOL_SOCKET, SCM_RIGHTS, int32(fd));
    expect(await h.call('sendmsg', fd, msghdrAt(h, { len: 3, control: concat(rights, ttl) }), 0)).toBe(3);
    expect(await h.call('sendmsg', fd, msghdrAt(h, { len: 3, control: rights }), 0)).toBe(3);
    const sends = seen.filter((s) => s.op === 'send');
    expect(sends.map((s) => (s.control ? cmsgsOf(s.control) : null))).toEqual([[[SOL_IP, 2]], null]);
    expect(await h.call('sendmsg', fd, msghdrAt(h, { len: 3, controllen: 131072 }), 0)).toBe(E.ENOBUFS);
    expect(await h.call('sendmsg', fd, msghdrAt(h, { len: 3, controllen: 16, noControl: true }), 0)).toBe(
      E.EFAULT,
    );
    expect(
      await h.call('sendmsg', fd, msghdrAt(h, { len: 3, control: cmsg(SOL_IP, 2, int32(9), 99) }), 0),
    ).toBe(E.EINVAL);
    expect(seen.filter((s) => s.op === 'send').length).toBe(2);
  });

  it('recvmsg stores the host cmsgs and msg_controllen, with MSG_CTRUNC when they do not fit', async () => {
    const { h, incoming } = hostHarness();
    const fd = (await h.call('socket', AF_INET, SOCK_DGRAM, 0)) as number;
    const ttl = cmsg(SOL_IP, 2, int32(64));
    const tos = cmsg(SOL_IP, 1, [0x10]);
    const control = concat(ttl, tos);
    incoming.push({ data: Uint8Array.of(1, 2), control: control.subarray(0, 24 + 17) });
    const mp = msghdrAt(h, { len: 8, controllen: 64 });
    expect(await h.call('recvmsg', fd, mp, 0)).toBe(2);
    const hdr = new DataView(peek(h, mp, 56).buffer);
    expect(hdr.getBigUint64(40, true)).toBe(41n);
    expect(hdr.getInt32(48, true)).toBe(0);
    expect(cmsgsOf(peek(h, BUF + 2048, 41))).toEqual([
      [SOL_IP, 2],
      [SOL_IP, 1],
    ]);
    incoming.push({ data: Uint8Array.of(3), control: ttl });
    const short = msghdrAt(h, { len: 8, controllen: 16 });
    expect(await h.call('recvmsg', fd, short, 0)).toBe(1);
    const hdr2 = new DataView(peek(h, short, 56).buffer);
    expect(hdr2.getBigUint64(40, true)).toBe(16n);
    expect(hdr2.getInt32(48, true)).toBe(0x8);
  });

  it('recvmsg drops an SCM_RIGHTS from the host (inet sockets never carry one) and closes its fds', async () => {
    const { h, incoming, closed } = hostHarness();
    const fd = (await h.call('socket', AF_INET, SOCK_DGRAM, 0)) as number;
    const ttl = cmsg(SOL_IP, 2, int32(64));
    incoming.push({
      data: Uint8Array.of(1),
      control: concat(cmsg(SOL_SOCKET, SCM_RIGHTS, [...int32(77), ...int32(78)]), ttl),
    });
    const mp = msghdrAt(h, { len: 8, controllen: 128 });
    expect(await h.call('recvmsg', fd, mp, 0)).toBe(1);
    expect(closed).toEqual([77, 78]);
    const len = Number(new DataView(peek(h, mp, 56).buffer).getBigUint64(40, true));
    expect(cmsgsOf(peek(h, BUF + 2048, len))).toEqual([[SOL_IP, 2]]);
  });

  it('MSG_ERRQUEUE reaches the host and never waits, even on a blocking socket', async () => {
    const { h, incoming } = hostHarness();
    const fd = (await h.call('socket', AF_INET, SOCK_DGRAM, 0)) as number;
    const mp = msghdrAt(h, { len: 8, controllen: 64 });
    expect(await h.call('recvmsg', fd, mp, 0x2000)).toBe(E.EAGAIN);
    incoming.push({
      data: Uint8Array.of(9),
      control: cmsg(SOL_IP, 11, new Array<number>(32).fill(0)),
      msgFlags: 0x2000,
    });
    expect(await h.call('recvmsg', fd, mp, 0x2000)).toBe(1);
    expect(new DataView(peek(h, mp, 56).buffer).getInt32(48, true)).toBe(0x2000);
  });
});

/** struct timeval bytes. */
function timeval(sec: bigint, usec: bigint): Uint8Array {
  const v = new DataView(new ArrayBuffer(16));
  v.setBigInt64(0, sec, true);
  v.setBigInt64(8, usec, true);
  return new Uint8Array(v.buffer);
}

const SO_RCVTIMEO = 20;
const SO_SNDTIMEO = 21;

describe('SO_RCVTIMEO and SO_SNDTIMEO in host mode', () => {
  it('checks the value (EINVAL, EFAULT, EDOM) before the host sees it; a negative time goes as 0', async () => {
    const { h, seen } = hostHarness();
    const fd = (await h.call('socket', AF_INET, SOCK_DGRAM, 0)) as number;
    h.mem.write(BUF, timeval(1n, 0n));
    expect(await h.call('setsockopt', fd, 1, SO_RCVTIMEO, BUF, 8)).toBe(E.EINVAL);
    expect(await h.call('setsockopt', fd, 1, SO_RCVTIMEO, BAD, 16)).toBe(E.EFAULT);
    h.mem.write(BUF, timeval(1n, 1_000_000n));
    expect(await h.call('setsockopt', fd, 1, SO_RCVTIMEO, BUF, 16)).toBe(E.EDOM);
    h.mem.write(BUF, timeval(-5n, -1n));
    expect(await h.call('setsockopt', fd, 1, SO_SNDTIMEO, BUF, 16)).toBe(E.EDOM);
    expect(seen.filter((s) => s.op === 'setsockopt')).toEqual([]);
    h.mem.write(BUF, timeval(-5n, 0n));
    expect(await h.call('setsockopt', fd, 1, SO_SNDTIMEO, BUF, 16)).toBe(0);
    expect(seen.filter((s) => s.op === 'setsockopt').map((s) => [...s.bytes!])).toEqual([
      [...timeval(0n, 0n)],
    ]);
  });

  it('a blocking recv gives up with EAGAIN after SO_RCVTIMEO; a negative time does not wait', async () => {
    const { h } = hostHarness();
    const fd = (await h.call('socket', AF_INET, SOCK_DGRAM, 0)) as number;
    h.mem.write(BUF, timeval(0n, 200_000n));
    expect(await h.call('setsockopt', fd, 1, SO_RCVTIMEO, BUF, 16)).toBe(0);
    let r: unknown = 'pending';
    const recv = h.call('recvfrom', fd, BUF + 64, 16, 0, 0, 0).then((x) => (r = x));
    await new Promise((res) => setImmediate(res));
    h.time.advance(150_000_000n);
    await new Promise((res) => setImmediate(res));
    expect(r).toBe('pending');
    h.time.advance(50_000_000n);
    await recv;
    expect(r).toBe(E.EAGAIN);
    // read(2) too.
    const read = h.call('read', fd, BUF + 64, 16);
    await new Promise((res) => setImmediate(res));
    h.time.advance(200_000_000n);
    expect(await read).toBe(E.EAGAIN);
    h.mem.write(BUF, timeval(-1n, 0n));
    expect(await h.call('setsockopt', fd, 1, SO_RCVTIMEO, BUF, 16)).toBe(0);
    expect(await h.call('recvfrom', fd, BUF + 64, 16, 0, 0, 0)).toBe(E.EAGAIN);
  });

  it('a signal during a wait with a timeout answers EINTR; without one, a restart', async () => {
    const { h } = hostHarness();
    const fd = (await h.call('socket', AF_INET, SOCK_DGRAM, 0)) as number;
    const blocked = h.call('recvfrom', fd, BUF + 64, 16, 0, 0, 0);
    await new Promise((res) => setImmediate(res));
    h.task.interrupt();
    expect(isControlResult(await blocked)).toBe(true);
    h.mem.write(BUF, timeval(10n, 0n));
    expect(await h.call('setsockopt', fd, 1, SO_RCVTIMEO, BUF, 16)).toBe(0);
    const timed = h.call('recvfrom', fd, BUF + 64, 16, 0, 0, 0);
    await new Promise((res) => setImmediate(res));
    h.task.interrupt();
    expect(await timed).toBe(E.EINTR);
  });
});

/** A restart request (ERESTARTSYS) rather than a number or an errno. */
function isControlResult(r: unknown): boolean {
  return typeof r === 'object' && r !== null && !isError(r);
}

describe('waits on host sockets', () => {
  it('a queued error (POLLERR that recv does not return) neither wakes a blocked recv nor spins the watch', async () => {
    const { h, watch, incoming } = hostHarness();
    const fd = (await h.call('socket', AF_INET, SOCK_DGRAM, 0)) as number;
    watch.revents = 0x4 | 0x8; // writable, and an error queue that nobody reads
    let r: unknown = 'pending';
    const recv = h.call('recvfrom', fd, BUF + 64, 16, 0, 0, 0).then((x) => (r = x));
    await new Promise((res) => setImmediate(res));
    expect(r).toBe('pending');
    expect(watch.arms).toEqual([0x1]);
    // The watch reports the error: the waiter looks (EAGAIN again) and sleeps; the next arm waits.
    watch.report?.();
    await new Promise((res) => setImmediate(res));
    expect(r).toBe('pending');
    expect(watch.arms).toEqual([0x1]);
    await new Promise((res) => setTimeout(res, 30));
    expect(watch.arms).toEqual([0x1, 0x1]);
    // Data: the next report wakes it.
    incoming.push({ data: Uint8Array.of(7) });
    watch.revents |= 0x1;
    watch.report?.();
    await recv;
    expect(r).toBe(1);
  });

  it('read(2) and splice(2) from such a socket sleep too, and wake for data', async () => {
    const { h, watch, incoming } = hostHarness();
    const fd = (await h.call('socket', AF_INET, SOCK_DGRAM, 0)) as number;
    watch.revents = 0x4 | 0x8;
    expect(await h.call('pipe2', BUF + 256, 0)).toBe(0);
    const pipeWrite = new DataView(peek(h, BUF + 256, 8).buffer).getInt32(4, true);
    let read: unknown = 'pending';
    let spliced: unknown = 'pending';
    const reading = h.call('read', fd, BUF + 64, 16).then((x) => (read = x));
    const splicing = h.call('splice', fd, 0, pipeWrite, 0, 16, 0).then((x) => (spliced = x));
    await new Promise((res) => setTimeout(res, 30));
    expect([read, spliced]).toEqual(['pending', 'pending']);
    incoming.push({ data: Uint8Array.of(1, 2) }, { data: Uint8Array.of(3, 4, 5) });
    watch.revents |= 0x1;
    watch.report?.();
    await Promise.all([reading, splicing]);
    expect([read, spliced].sort()).toEqual([2, 3]);
  });
});

describe('privileges are the sandbox task own, not the supervisor', () => {
  it('bind to a port below 1024 needs CAP_NET_BIND_SERVICE (the sandbox root has it)', async () => {
    const { h, seen } = hostHarness();
    const fd = (await h.call('socket', AF_INET, SOCK_STREAM, 0)) as number;
    h.mem.write(BUF, Uint8Array.of(AF_INET, 0, 0, 80, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0));
    h.task.group.creds = { ...h.task.group.creds, euid: 1000, effective: 0n };
    expect(await h.call('bind', fd, BUF, 16)).toBe(E.EACCES);
    h.mem.write(BUF, Uint8Array.of(AF_INET, 0, 0x1f, 0x90, 127, 0, 0, 1));
    expect(await h.call('bind', fd, BUF, 16)).toBe(0);
    h.task.group.creds = { ...h.task.group.creds, euid: 0, effective: h.task.group.creds.permitted };
    h.mem.write(BUF, Uint8Array.of(AF_INET, 0, 0, 80));
    expect(await h.call('bind', fd, BUF, 16)).toBe(0);
    expect(seen.filter((s) => s.op === 'bind').length).toBe(2);
  });

  it('SO_PRIORITY above 6 is EPERM (it needs CAP_NET_ADMIN, which only the supervisor has)', async () => {
    const { h, seen } = hostHarness();
    const fd = (await h.call('socket', AF_INET, SOCK_DGRAM, 0)) as number;
    h.mem.write(BUF, Uint8Array.of(7, 0, 0, 0));
    expect(await h.call('setsockopt', fd, 1, 12, BUF, 4)).toBe(E.EPERM);
    h.mem.write(BUF, Uint8Array.of(6, 0, 0, 0));
    expect(await h.call('setsockopt', fd, 1, 12, BUF, 4)).toBe(0);
    expect(seen.filter((s) => s.op === 'setsockopt').map((s) => s.bytes![0])).toEqual([6]);
  });

  it('TCP_CONGESTION picks only algorithms the host has loaded and allows (no module loading)', async () => {
    const { h, seen } = hostHarness();
    const fd = (await h.call('socket', AF_INET, SOCK_STREAM, 0)) as number;
    const set = async (name: string, len = name.length): Promise<unknown> => {
      h.mem.write(BUF, new TextEncoder().encode(name.padEnd(20, '\0')));
      return h.call('setsockopt', fd, 6, 13, BUF, len);
    };
    expect(await set('reno')).toBe(0);
    expect(await set('cubic\0junk', 10)).toBe(0);
    expect(await set('bbr')).toBe(E.ENOENT); // not loaded: the supervisor would autoload it
    expect(await set('tcp_evil_module')).toBe(E.ENOENT);
    const sets = seen.filter((s) => s.op === 'setsockopt').map((s) => new TextDecoder().decode(s.bytes));
    expect(sets).toEqual(['reno', 'cubic\0junk']);
  });
});

describe('sends copy from the app as they go', () => {
  it('a blocking stream write(2) goes on until all is sent, however little the host takes at once', async () => {
    const { h, seen, sendCap } = hostHarness();
    const fd = (await h.call('socket', AF_INET, SOCK_STREAM, 0)) as number;
    sendCap[0] = 4096;
    expect(await h.call('write', fd, BUF, 40_000)).toBe(40_000);
    expect(seen.filter((s) => s.op === 'send').length).toBe(10);
    // send(2) too; a datagram goes whole in one host send.
    expect(await h.call('sendto', fd, BUF, 10_000, 0, 0, 0)).toBe(10_000);
    const udp = (await h.call('socket', AF_INET, SOCK_DGRAM, 0)) as number;
    sendCap[0] = Infinity;
    expect(await h.call('write', udp, BUF, 30_000)).toBe(30_000);
    expect(seen.filter((s) => s.op === 'send').length).toBe(10 + 3 + 1);
  });

  it('a fault part way: a stream sends what came before it, a datagram is EFAULT and not sent', async () => {
    const { h, seen } = hostHarness();
    const tcp = (await h.call('socket', AF_INET, SOCK_STREAM, 0)) as number;
    const udp = (await h.call('socket', AF_INET, SOCK_DGRAM, 0)) as number;
    const end = BUF + BUF_SIZE - 10;
    expect(await h.call('sendto', tcp, end, 100, 0, 0, 0)).toBe(10);
    expect(await h.call('sendto', udp, end, 100, 0, 0, 0)).toBe(E.EFAULT);
    expect(await h.call('write', udp, end, 100)).toBe(E.EFAULT);
    expect(seen.filter((s) => s.op === 'send').length).toBe(1);
  });
});
