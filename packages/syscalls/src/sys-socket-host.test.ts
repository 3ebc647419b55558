// Network mode `host` without a host: a fake HostSockets records what would reach the host, to
// check that nothing from the sandbox gets there unchecked, and that random input never throws.
// The real host sockets are exercised end to end in @tsvisor/runtime (host-network.test.ts).
import { E, isError, type LinuxError } from '@tsvisor/abi';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BAD, BUF, harness, type Harness } from './harness.test-util.js';
import { configureHostNetwork, hostSockaddr, type HostSockets } from './sys-socket-host.js';

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
}

/** Host calls that succeed (no data ever arrives) and record their arguments. */
function fakeHost(): { calls: HostSockets; seen: Seen[]; closed: number[] } {
  const seen: Seen[] = [];
  const closed: number[] = [];
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
    send: (_fd, d, a, flags) => {
      seen.push({ op: 'send', ...(a ? { bytes: copy(a) } : {}), flags });
      return d.length;
    },
    recv: (): LinuxError => E.EAGAIN,
    setsockopt: (_fd, level, name, v) => (seen.push({ op: 'setsockopt', level, name, bytes: copy(v) }), 0),
    getsockopt: (_fd, level, name, out) => {
      seen.push({ op: 'getsockopt', level, name, bytes: new Uint8Array(out.length) });
      return Math.min(out.length, 4);
    },
    shutdown: () => 0,
    ioctlInt: () => 0,
    poll: () => 0x4,
    watch: () => ({ arm: () => undefined, close: () => undefined }),
    close: (fd) => void closed.push(fd),
  };
  return { calls, seen, closed };
}

function hostHarness(): { h: Harness; seen: Seen[]; closed: number[] } {
  const h = harness();
  const f = fakeHost();
  configureHostNetwork(h.kernel, f.calls);
  return { h, seen: f.seen, closed: f.closed };
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

  it('refuses a lingering close (it would block the supervisor) but passes a resetting one', async () => {
    const { h, seen } = hostHarness();
    const fd = (await h.call('socket', AF_INET, SOCK_STREAM, 0)) as number;
    h.mem.write(BUF, Uint8Array.of(1, 0, 0, 0, 5, 0, 0, 0));
    expect(await h.call('setsockopt', fd, 1, 13, BUF, 8)).toBe(E.ENOPROTOOPT);
    h.mem.write(BUF, Uint8Array.of(1, 0, 0, 0, 0, 0, 0, 0, 9, 9));
    expect(await h.call('setsockopt', fd, 1, 13, BUF, 10)).toBe(0);
    expect(seen.filter((s) => s.op === 'setsockopt').map((s) => [...s.bytes!])).toEqual([
      [1, 0, 0, 0, 0, 0, 0, 0],
    ]);
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
            expect([0, 1, 6, 41]).toContain(s.level);
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
        }
      }),
      { numRuns: 100 },
    );
  });
});
