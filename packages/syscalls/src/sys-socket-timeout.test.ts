// SO_RCVTIMEO/SO_SNDTIMEO on netstack and AF_UNIX sockets: setsockopt/getsockopt with bad input
// (the errnos a native run on Linux 6.18 gives, see runtime's testdata/sock-timeo.c for the same
// cases compared live), the rounding to jiffies, and the bounds on blocking calls under the
// harness's manual clock.
import { E, Signal } from '@tsvisor/abi';
import { CpuState, ERESTARTSYS, Kernel, SparseMemory } from '@tsvisor/kernel';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BAD, BUF, BUF_SIZE, harness, type Harness } from './harness.test-util.js';
import { createSyscallTable, dispatch } from './index.js';
import { encodeTimeout, parseTimeout } from './socket-timeout.js';

const AF_UNIX = 1;
const AF_INET = 2;
const SOCK_STREAM = 1;
const SOCK_DGRAM = 2;
const SOCK_SEQPACKET = 5;
const SOL_SOCKET = 1;
const SO_RCVTIMEO = 20;
const SO_SNDTIMEO = 21;
const SO_RCVTIMEO_NEW = 66;
const SO_SNDTIMEO_NEW = 67;
const MS = 1_000_000n;

function timeval(h: Harness, addr: number, sec: bigint, usec: bigint): number {
  const b = new Uint8Array(16);
  const dv = new DataView(b.buffer);
  dv.setBigInt64(0, sec, true);
  dv.setBigInt64(8, usec, true);
  h.mem.write(addr, b);
  return 16;
}

async function getTimeout(h: Harness, fd: number, name: number): Promise<[bigint, bigint]> {
  h.mem.writeI32(BUF + 400, 16);
  expect(await h.call('getsockopt', fd, SOL_SOCKET, name, BUF + 404, BUF + 400)).toBe(0);
  expect(h.mem.readI32(BUF + 400)).toBe(16);
  const b = h.mem.read(BUF + 404, 16) as Uint8Array;
  const dv = new DataView(b.buffer, b.byteOffset, 16);
  return [dv.getBigInt64(0, true), dv.getBigInt64(8, true)];
}

/** Every kind of socket netstack serves, as a fresh fd of `h`. */
const KINDS: readonly (readonly [string, number, number])[] = [
  ['unix stream', AF_UNIX, SOCK_STREAM],
  ['unix dgram', AF_UNIX, SOCK_DGRAM],
  ['unix seqpacket', AF_UNIX, SOCK_SEQPACKET],
  ['tcp', AF_INET, SOCK_STREAM],
  ['udp', AF_INET, SOCK_DGRAM],
];

describe('setsockopt/getsockopt SO_RCVTIMEO and SO_SNDTIMEO', () => {
  it.each(KINDS)('%s: optlen and pointer checks in sk_setsockopt order', async (_name, domain, type) => {
    const h = harness();
    const fd = (await h.call('socket', domain, type, 0)) as number;
    expect(fd).toBeGreaterThanOrEqual(0);
    timeval(h, BUF, 1n, 0n);
    // The last 8 bytes of the mapped buffer: an int reads, a timeval does not.
    const edge = BUF + BUF_SIZE - 8;
    h.mem.write(edge, new Uint8Array(8));
    // [optlen, good pointer, unmapped pointer, straddling the end of the mapping]
    const cases: [number, LinuxResult, LinuxResult, LinuxResult][] = [
      [0, E.EINVAL, E.EINVAL, E.EINVAL],
      [3, E.EINVAL, E.EINVAL, E.EINVAL],
      [4, E.EINVAL, E.EFAULT, E.EINVAL],
      [7, E.EINVAL, E.EFAULT, E.EINVAL],
      [8, E.EINVAL, E.EFAULT, E.EINVAL],
      [15, E.EINVAL, E.EFAULT, E.EINVAL],
      [16, 0, E.EFAULT, E.EFAULT],
      [17, 0, E.EFAULT, E.EFAULT],
      [1_000_000, 0, E.EFAULT, E.EFAULT],
      [-1, E.EINVAL, E.EINVAL, E.EINVAL],
    ];
    for (const name of [SO_RCVTIMEO, SO_SNDTIMEO, SO_RCVTIMEO_NEW, SO_SNDTIMEO_NEW]) {
      for (const [len, good, bad, straddle] of cases) {
        expect([len, await h.call('setsockopt', fd, SOL_SOCKET, name, BUF, len)]).toEqual([len, good]);
        expect([len, await h.call('setsockopt', fd, SOL_SOCKET, name, BAD, len)]).toEqual([len, bad]);
        expect([len, await h.call('setsockopt', fd, SOL_SOCKET, name, edge, len)]).toEqual([len, straddle]);
      }
    }
    // tv_usec outside [0, 10^6): EDOM, the old value stays.
    timeval(h, BUF, 0n, 1_000_000n);
    expect(await h.call('setsockopt', fd, SOL_SOCKET, SO_RCVTIMEO, BUF, 16)).toBe(E.EDOM);
    timeval(h, BUF, 0n, -1n);
    expect(await h.call('setsockopt', fd, SOL_SOCKET, SO_RCVTIMEO_NEW, BUF, 16)).toBe(E.EDOM);
    expect(await getTimeout(h, fd, SO_RCVTIMEO)).toEqual([1n, 0n]);
  });

  it('getsockopt: EFAULT for either pointer, EINVAL for a negative length, a value cut to *optlen', async () => {
    const h = harness();
    const fd = (await h.call('socket', AF_UNIX, SOCK_STREAM, 0)) as number;
    timeval(h, BUF, 1n, 4000n);
    expect(await h.call('setsockopt', fd, SOL_SOCKET, SO_SNDTIMEO, BUF, 16)).toBe(0);
    h.mem.writeI32(BUF + 100, 16);
    expect(await h.call('getsockopt', fd, SOL_SOCKET, SO_SNDTIMEO, BAD, BUF + 100)).toBe(E.EFAULT);
    expect(await h.call('getsockopt', fd, SOL_SOCKET, SO_SNDTIMEO, BUF + 200, BAD)).toBe(E.EFAULT);
    h.mem.writeI32(BUF + 100, -1);
    expect(await h.call('getsockopt', fd, SOL_SOCKET, SO_SNDTIMEO, BUF + 200, BUF + 100)).toBe(E.EINVAL);
    h.mem.writeI32(BUF + 100, 0);
    expect(await h.call('getsockopt', fd, SOL_SOCKET, SO_SNDTIMEO, BAD, BUF + 100)).toBe(0);
    expect(h.mem.readI32(BUF + 100)).toBe(0);
    h.mem.write(BUF + 200, new Uint8Array(32).fill(0xee));
    h.mem.writeI32(BUF + 100, 7);
    expect(await h.call('getsockopt', fd, SOL_SOCKET, SO_SNDTIMEO_NEW, BUF + 200, BUF + 100)).toBe(0);
    expect(h.mem.readI32(BUF + 100)).toBe(7);
    expect([...(h.mem.read(BUF + 200, 8) as Uint8Array)]).toEqual([1, 0, 0, 0, 0, 0, 0, 0xee]);
    h.mem.writeI32(BUF + 100, 100);
    expect(await h.call('getsockopt', fd, SOL_SOCKET, SO_SNDTIMEO, BUF + 200, BUF + 100)).toBe(0);
    expect(h.mem.readI32(BUF + 100)).toBe(16);
    expect(await getTimeout(h, fd, SO_SNDTIMEO)).toEqual([1n, 4000n]);
    expect(await getTimeout(h, fd, SO_RCVTIMEO_NEW)).toEqual([0n, 0n]);
  });

  it('rounds up to whole jiffies at HZ 250; negative seconds and huge times read back as 0', () => {
    const read = (sec: bigint, usec: bigint) => (): Uint8Array => {
      const b = new Uint8Array(16);
      new DataView(b.buffer).setBigInt64(0, sec, true);
      new DataView(b.buffer).setBigInt64(8, usec, true);
      return b;
    };
    const value = (sec: bigint, usec: bigint): bigint | undefined | string => {
      const v = parseTimeout(read(sec, usec), 0, 16);
      return typeof v === 'object' ? v.name : v;
    };
    expect(value(0n, 1n)).toBe(4n * MS);
    expect(value(0n, 4001n)).toBe(8n * MS);
    expect(value(1n, 500n)).toBe(1004n * MS);
    expect(value(-1n, 0n)).toBe(0n);
    expect(value(0n, 0n)).toBeUndefined();
    expect(value(1n << 60n, 0n)).toBeUndefined();
    expect(value(0n, 1_000_000n)).toBe('EDOM');
    fc.assert(
      fc.property(fc.bigInt(0n, 1n << 40n), fc.bigInt(0n, 999_999n), (sec, usec) => {
        const ns = parseTimeout(read(sec, usec), 0, 16);
        if (typeof ns !== 'bigint') return sec === 0n && usec === 0n;
        const asked = sec * 1_000_000_000n + usec * 1000n;
        // The smallest multiple of 4 ms not below the time asked for; it reads back as itself.
        const b = encodeTimeout(ns);
        const dv = new DataView(b.buffer);
        const back = dv.getBigInt64(0, true) * 1_000_000_000n + dv.getBigInt64(8, true) * 1000n;
        return ns % (4n * MS) === 0n && ns >= asked && ns - asked < 4n * MS && back === ns;
      }),
    );
  });
});

type LinuxResult = number | (typeof E)[keyof typeof E];

describe('blocking calls give up after the timeout', () => {
  it('recv waits until SO_RCVTIMEO passes, then EAGAIN; a signal gives EINTR, not a restart', async () => {
    const h = harness();
    expect(await h.call('socketpair', AF_UNIX, SOCK_DGRAM, 0, BUF)).toBe(0);
    const b = h.mem.readI32(BUF + 4) as number;
    timeval(h, BUF, 0n, 50_000n);
    expect(await h.call('setsockopt', b, SOL_SOCKET, SO_RCVTIMEO, BUF, 16)).toBe(0);
    let done = false;
    const waiting = h.call('recvfrom', b, BUF + 100, 8, 0, 0, 0).finally(() => (done = true));
    await Promise.resolve();
    expect(h.task.blocked).toBe(true);
    h.time.advance(51n * MS);
    await new Promise((r) => setImmediate(r));
    expect(done).toBe(false); // 50 ms rounds up to 13 jiffies: 52 ms
    h.time.advance(1n * MS);
    expect(await waiting).toBe(E.EAGAIN);

    const read = h.call('read', b, BUF + 100, 8);
    await Promise.resolve();
    expect(h.task.blocked).toBe(true);
    h.task.group.actions.set(Signal.SIGUSR1, {
      handler: 0x401000n,
      flags: 0,
      restorer: 0n,
      mask: h.task.mask.clone(),
    });
    h.kernel.sendToTask(h.task, { signo: Signal.SIGUSR1, code: 0 });
    expect(await read).toBe(E.EINTR);

    // A negative time does not wait; {0, 0} waits for ever again (a signal restarts the call).
    timeval(h, BUF, -1n, 0n);
    expect(await h.call('setsockopt', b, SOL_SOCKET, SO_RCVTIMEO, BUF, 16)).toBe(0);
    expect(await h.call('recvfrom', b, BUF + 100, 8, 0, 0, 0)).toBe(E.EAGAIN);
    timeval(h, BUF, 0n, 0n);
    expect(await h.call('setsockopt', b, SOL_SOCKET, SO_RCVTIMEO, BUF, 16)).toBe(0);
    const forever = h.call('recvfrom', b, BUF + 100, 8, 0, 0, 0);
    await Promise.resolve();
    h.time.advance(10_000n * MS);
    h.kernel.sendToTask(h.task, { signo: Signal.SIGUSR1, code: 0 });
    expect(await forever).toBe(ERESTARTSYS);
  });

  it('a stream send to a full peer returns what went once SO_SNDTIMEO passes, then EAGAIN', async () => {
    const h = harness();
    expect(await h.call('socketpair', AF_UNIX, SOCK_STREAM, 0, BUF)).toBe(0);
    const a = h.mem.readI32(BUF) as number;
    h.mem.writeI32(BUF, 4096);
    expect(await h.call('setsockopt', a, SOL_SOCKET, 7 /* SO_SNDBUF */, BUF, 4)).toBe(0);
    timeval(h, BUF, 0n, 8000n);
    expect(await h.call('setsockopt', a, SOL_SOCKET, SO_SNDTIMEO_NEW, BUF, 16)).toBe(0);
    const first = h.call('write', a, BUF, BUF_SIZE);
    await Promise.resolve();
    h.time.advance(8n * MS);
    const n = await first;
    expect(typeof n).toBe('number');
    expect(n).toBeGreaterThan(0);
    expect(n).toBeLessThan(BUF_SIZE);
    const again = h.call('sendto', a, BUF, 100, 0, 0, 0);
    await Promise.resolve();
    h.time.advance(8n * MS);
    expect(await again).toBe(E.EAGAIN);
  });
});

describe('the other SOL_SOCKET options (socket-options.ts)', () => {
  const SO_PRIORITY = 12;
  const SO_BINDTODEVICE = 25;
  const SO_MARK = 36;
  const SO_PEEK_OFF = 42;
  const SO_COOKIE = 57;
  const SO_PEERGROUPS = 59;
  const SO_NETNS_COOKIE = 71;

  it.each(KINDS)('%s: int options need 4 bytes, then a readable int', async (_name, domain, type) => {
    const h = harness();
    const fd = (await h.call('socket', domain, type, 0)) as number;
    h.mem.writeI32(BUF, 3);
    for (const len of [0, 3])
      expect(await h.call('setsockopt', fd, SOL_SOCKET, SO_PRIORITY, BUF, len)).toBe(E.EINVAL);
    expect(await h.call('setsockopt', fd, SOL_SOCKET, SO_PRIORITY, BAD, 4)).toBe(E.EFAULT);
    expect(await h.call('setsockopt', fd, SOL_SOCKET, SO_PRIORITY, BUF, 4)).toBe(0);
    h.mem.writeI32(BUF + 100, 4);
    expect(await h.call('getsockopt', fd, SOL_SOCKET, SO_PRIORITY, BUF + 104, BUF + 100)).toBe(0);
    expect(h.mem.readI32(BUF + 104)).toBe(3);
    // Read-only ones: ENOPROTOOPT after the int is read.
    expect(await h.call('setsockopt', fd, SOL_SOCKET, SO_COOKIE, BAD, 8)).toBe(E.EFAULT);
    expect(await h.call('setsockopt', fd, SOL_SOCKET, SO_COOKIE, BUF, 8)).toBe(E.ENOPROTOOPT);
    // Lengths getsockopt insists on.
    h.mem.writeI32(BUF + 100, 7);
    expect(await h.call('getsockopt', fd, SOL_SOCKET, SO_COOKIE, BUF + 104, BUF + 100)).toBe(E.EINVAL);
    h.mem.writeI32(BUF + 100, 16);
    expect(await h.call('getsockopt', fd, SOL_SOCKET, SO_NETNS_COOKIE, BUF + 104, BUF + 100)).toBe(E.EINVAL);
    h.mem.writeI32(BUF + 100, 8);
    expect(await h.call('getsockopt', fd, SOL_SOCKET, SO_NETNS_COOKIE, BAD, BUF + 100)).toBe(E.EFAULT);
    expect(await h.call('getsockopt', fd, SOL_SOCKET, SO_NETNS_COOKIE, BUF + 104, BUF + 100)).toBe(0);
  });

  it('SO_BINDTODEVICE: names of the sandbox links only, a bad pointer is EFAULT', async () => {
    const h = harness();
    const fd = (await h.call('socket', AF_INET, SOCK_DGRAM, 0)) as number;
    h.mem.write(BUF, new TextEncoder().encode('lo\0'));
    h.mem.write(BUF + 16, new TextEncoder().encode('nosuch0\0'));
    expect(await h.call('setsockopt', fd, SOL_SOCKET, SO_BINDTODEVICE, BAD, 3)).toBe(E.EFAULT);
    expect(await h.call('setsockopt', fd, SOL_SOCKET, SO_BINDTODEVICE, BUF + 16, 8)).toBe(E.ENODEV);
    expect(await h.call('setsockopt', fd, SOL_SOCKET, SO_BINDTODEVICE, BUF, -1)).toBe(E.EINVAL);
    expect(await h.call('setsockopt', fd, SOL_SOCKET, SO_BINDTODEVICE, BUF, 2)).toBe(0);
    h.mem.writeI32(BUF + 100, 15);
    expect(await h.call('getsockopt', fd, SOL_SOCKET, SO_BINDTODEVICE, BUF + 104, BUF + 100)).toBe(E.EINVAL);
    h.mem.writeI32(BUF + 100, 16);
    expect(await h.call('getsockopt', fd, SOL_SOCKET, SO_BINDTODEVICE, BUF + 104, BUF + 100)).toBe(0);
    expect(h.mem.readI32(BUF + 100)).toBe(3);
    expect(new TextDecoder().decode(h.mem.read(BUF + 104, 2) as Uint8Array)).toBe('lo');
  });

  it('SO_MARK and SO_PRIORITY above 6 need privilege; SO_PEERGROUPS answers ERANGE with the length', async () => {
    const h = harness();
    const fd = (await h.call('socket', AF_UNIX, SOCK_STREAM, 0)) as number;
    h.task.group.creds = { ...h.task.creds, euid: 1000, effective: 0n };
    h.mem.writeI32(BUF, 7);
    expect(await h.call('setsockopt', fd, SOL_SOCKET, SO_PRIORITY, BUF, 4)).toBe(E.EPERM);
    expect(await h.call('setsockopt', fd, SOL_SOCKET, SO_MARK, BUF, 4)).toBe(E.EPERM);
    h.mem.writeI32(BUF + 100, 64);
    expect(await h.call('getsockopt', fd, SOL_SOCKET, SO_PEERGROUPS, BUF + 104, BUF + 100)).toBe(E.ENODATA);
    h.task.group.creds = { ...h.task.creds, groups: [5, 7, 9] };
    expect(await h.call('socketpair', AF_UNIX, SOCK_STREAM, 0, BUF + 200)).toBe(0);
    const a = h.mem.readI32(BUF + 200) as number;
    h.mem.writeI32(BUF + 100, 8);
    expect(await h.call('getsockopt', a, SOL_SOCKET, SO_PEERGROUPS, BUF + 104, BUF + 100)).toBe(E.ERANGE);
    expect(h.mem.readI32(BUF + 100)).toBe(12);
    expect(await h.call('getsockopt', a, SOL_SOCKET, SO_PEERGROUPS, BUF + 104, BUF + 100)).toBe(0);
    expect([0, 4, 8].map((o) => h.mem.readI32(BUF + 104 + o))).toEqual([5, 7, 9]);
  });

  it('SO_PEEK_OFF moves an AF_UNIX stream peek on, and a read back', async () => {
    const h = harness();
    expect(await h.call('socketpair', AF_UNIX, SOCK_STREAM, 0, BUF)).toBe(0);
    const [a, b] = [h.mem.readI32(BUF) as number, h.mem.readI32(BUF + 4) as number];
    h.mem.write(BUF + 16, new TextEncoder().encode('abcdef'));
    expect(await h.call('sendto', a, BUF + 16, 6, 0, 0, 0)).toBe(6);
    h.mem.writeI32(BUF + 32, 2);
    expect(await h.call('setsockopt', b, SOL_SOCKET, SO_PEEK_OFF, BUF + 32, 4)).toBe(0);
    expect(await h.call('recvfrom', b, BUF + 64, 2, 2 /* MSG_PEEK */, 0, 0)).toBe(2);
    expect(new TextDecoder().decode(h.mem.read(BUF + 64, 2) as Uint8Array)).toBe('cd');
    expect(await h.call('recvfrom', b, BUF + 64, 3, 0, 0, 0)).toBe(3);
    h.mem.writeI32(BUF + 100, 4);
    expect(await h.call('getsockopt', b, SOL_SOCKET, SO_PEEK_OFF, BUF + 104, BUF + 100)).toBe(0);
    expect(h.mem.readI32(BUF + 104)).toBe(1);
  });
});

describe('README example (Sockets: SO_RCVTIMEO)', () => {
  it('runs as written: recvfrom gives EAGAIN after 52 ms', async () => {
    const kernel = new Kernel({ log: () => {} });
    const mem = new SparseMemory();
    mem.map(0x10000, 0x1000);
    const task = kernel.spawnInit({
      mm: kernel.newAddressSpace(mem, undefined),
      regs: CpuState.fresh(0x401000, 0x7fff0000),
      comm: 'demo',
    });
    const table = createSyscallTable();
    expect(await dispatch(table, task, 53, [1n, 2n, 0n, 0x10000n, 0n, 0n])).toBe(0);
    const fd = BigInt(mem.readI32(0x10004) as number);
    const tv = new Uint8Array(16);
    new DataView(tv.buffer).setBigInt64(8, 50_000n, true);
    mem.write(0x10100, tv);
    expect(await dispatch(table, task, 54, [fd, 1n, 20n, 0x10100n, 16n, 0n])).toBe(0);
    const t0 = performance.now();
    expect(await dispatch(table, task, 45, [fd, 0x10200n, 8n, 0n, 0n, 0n])).toBe(E.EAGAIN);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(50);
  });
});
