// read/write/readv/writev on a TCP socket go straight between the app's memory and the socket's
// rings (no staging buffer). A buffer that ends part way (the next byte unmapped) moves the bytes
// before the fault and reports their count, EFAULT only when none moved, and a read consumes only
// what reached the app. Linux's own granularity here is coarser (tcp_sendmsg copies in chunks of
// up to 32 KiB and fails a chunk whole, so on the host `write` of a buffer with 100 good bytes
// gives EFAULT): this follows the byte-exact rule of the VFS's I/O sequences, as gVisor does.
import { E } from '@tsvisor/abi';
import { describe, expect, it, vi } from 'vitest';
import { BAD, BUF, BUF_SIZE, harness, type Harness } from './harness.test-util.js';
import { initialNetOf } from './sys-socket-file.js';

const AF_INET = 2;
const SOCK_STREAM = 1;
const FIONREAD = 0x541b;
const END = BUF + BUF_SIZE; // the first unmapped byte after the scratch memory

async function tcpPair(h: Harness): Promise<[number, number]> {
  const sin = new Uint8Array(16);
  sin[0] = AF_INET;
  sin[2] = 7100 >> 8;
  sin[3] = 7100 & 0xff;
  sin.set([127, 0, 0, 1], 4);
  h.mem.write(BUF, sin);
  const l = (await h.call('socket', AF_INET, SOCK_STREAM, 0)) as number;
  expect(await h.call('bind', l, BUF, 16)).toBe(0);
  expect(await h.call('listen', l, 1)).toBe(0);
  const c = (await h.call('socket', AF_INET, SOCK_STREAM, 0)) as number;
  expect(await h.call('connect', c, BUF, 16)).toBe(0);
  const s = (await h.call('accept', l, 0, 0)) as number;
  expect(s).toBeGreaterThan(0);
  return [c, s];
}

async function queued(h: Harness, fd: number): Promise<number> {
  expect(await h.call('ioctl', fd, FIONREAD, BUF + 64)).toBe(0);
  return h.mem.readI32(BUF + 64) as number;
}

const letters = (n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => 65 + (i % 26));

describe('TCP read/write straight between app memory and the rings', () => {
  it('write sends the bytes before a fault, EFAULT when the first byte faults', async () => {
    const h = harness();
    const [c, s] = await tcpPair(h);
    h.mem.write(END - 100, letters(100));
    expect(await h.call('write', c, END - 100, 1000)).toBe(100);
    expect(await h.call('write', c, BAD, 10)).toBe(E.EFAULT);
    expect(await queued(h, s)).toBe(100);
    // writev: the first iovec whole, the second up to the fault.
    h.mem.write(BUF + 1000, letters(10));
    h.mem.writeU64(BUF + 200, BigInt(BUF + 1000));
    h.mem.writeU64(BUF + 208, 10n);
    h.mem.writeU64(BUF + 216, BigInt(END - 7));
    h.mem.writeU64(BUF + 224, 50n);
    expect(await h.call('writev', c, BUF + 200, 2)).toBe(17);
    expect(await queued(h, s)).toBe(117);
  });

  it('read consumes only what reached the app; readv fills iovecs up to the fault', async () => {
    const h = harness();
    const [c, s] = await tcpPair(h);
    const data = letters(100);
    h.mem.write(BUF + 2000, data);
    expect(await h.call('write', c, BUF + 2000, 100)).toBe(100);
    expect(await h.call('read', s, END - 30, 100)).toBe(30);
    expect(h.mem.read(END - 30, 30)).toEqual(data.subarray(0, 30));
    expect(await queued(h, s)).toBe(70);
    expect(await h.call('read', s, BAD, 10)).toBe(E.EFAULT);
    expect(await queued(h, s)).toBe(70);
    h.mem.writeU64(BUF + 200, BigInt(BUF + 3000));
    h.mem.writeU64(BUF + 208, 10n);
    h.mem.writeU64(BUF + 216, BigInt(END - 5));
    h.mem.writeU64(BUF + 224, 100n);
    expect(await h.call('readv', s, BUF + 200, 2)).toBe(15);
    expect(h.mem.read(BUF + 3000, 10)).toEqual(data.subarray(30, 40));
    expect(h.mem.read(END - 5, 5)).toEqual(data.subarray(40, 45));
    expect(await queued(h, s)).toBe(55);
    // A short buffer takes what fits; the rest follows.
    expect(await h.call('read', s, BUF + 4000, 20)).toBe(20);
    expect(await h.call('read', s, BUF + 4020, 100)).toBe(35);
    expect(h.mem.read(BUF + 4000, 55)).toEqual(data.subarray(45));
  });

  it('a blocked read wakes with the data; a 1 MiB write arrives intact through 64 KiB reads', async () => {
    const h = harness();
    const [c, s] = await tcpPair(h);
    const waiting = h.call('read', s, BUF + 100, 64);
    await Promise.resolve();
    expect(h.task.blocked).toBe(true);
    h.mem.write(BUF + 5000, letters(26));
    expect(await h.call('write', c, BUF + 5000, 26)).toBe(26);
    expect(await waiting).toBe(26);
    expect(h.mem.read(BUF + 100, 26)).toEqual(letters(26));
    // 1 MiB from a 32 KiB region written 32 times, read back in 64 KiB reads.
    const chunk = Uint8Array.from({ length: 32768 }, (_, i) => (i * 31) & 0xff);
    h.mem.write(BUF + 32768, chunk);
    for (let i = 0; i < 32; i++) expect(await h.call('write', c, BUF + 32768, 32768)).toBe(32768);
    let total = 0;
    while (total < 1 << 20) {
      const n = (await h.call('read', s, BUF, 32768)) as number;
      expect(n).toBeGreaterThan(0);
      const got = h.mem.read(BUF, n) as Uint8Array;
      for (let i = 0; i < n; i++)
        if (got[i] !== chunk[(total + i) % 32768]) throw new Error(`byte ${total + i}`);
      total += n;
    }
    expect(total).toBe(1 << 20);
  });

  it('recv: MSG_PEEK leaves the bytes, MSG_WAITALL waits for all, a fault consumes only what was copied', async () => {
    const h = harness();
    const [c, s] = await tcpPair(h);
    const MSG_PEEK = 2;
    const MSG_DONTWAIT = 0x40;
    const MSG_WAITALL = 0x100;
    const data = letters(60);
    h.mem.write(BUF + 2000, data);
    expect(await h.call('recvfrom', s, BUF + 100, 10, MSG_DONTWAIT, 0, 0)).toBe(E.EAGAIN);
    expect(await h.call('sendto', c, BUF + 2000, 40, 0, 0, 0)).toBe(40);
    expect(await h.call('recvfrom', s, BUF + 100, 100, MSG_PEEK, 0, 0)).toBe(40);
    expect(h.mem.read(BUF + 100, 40)).toEqual(data.subarray(0, 40));
    expect(await queued(h, s)).toBe(40);
    // The source address of a TCP segment is not reported: the length comes back as 0.
    h.mem.writeI32(BUF + 300, 16);
    expect(await h.call('recvfrom', s, END - 10, 100, 0, BUF + 310, BUF + 300)).toBe(10);
    expect(h.mem.readI32(BUF + 300)).toBe(0);
    expect(h.mem.read(END - 10, 10)).toEqual(data.subarray(0, 10));
    expect(await h.call('recvfrom', s, BAD, 100, 0, 0, 0)).toBe(E.EFAULT);
    expect(await queued(h, s)).toBe(30);
    // MSG_WAITALL: 30 bytes are there, 50 asked; the call waits for the other 20.
    const waiting = h.call('recvfrom', s, BUF + 400, 50, MSG_WAITALL, 0, 0);
    await Promise.resolve();
    expect(h.task.blocked).toBe(true);
    expect(await h.call('sendto', c, BUF + 2040, 20, 0, 0, 0)).toBe(20);
    expect(await waiting).toBe(50);
    expect(h.mem.read(BUF + 400, 50)).toEqual(data.subarray(10, 60));
    // MSG_WAITALL ends early at end of stream with what arrived.
    expect(await h.call('sendto', c, BUF + 2000, 5, 0, 0, 0)).toBe(5);
    expect(await h.call('shutdown', c, 1)).toBe(0);
    expect(await h.call('recvfrom', s, BUF + 400, 50, MSG_WAITALL, 0, 0)).toBe(5);
    expect(await h.call('recvfrom', s, BUF + 400, 50, 0, 0, 0)).toBe(0);
  });

  it('send: a fault part way sends the bytes before it; EPIPE after shutdown', async () => {
    const h = harness();
    const [c, s] = await tcpPair(h);
    h.mem.write(END - 50, letters(50));
    expect(await h.call('sendto', c, END - 50, 500, 0, 0, 0)).toBe(50);
    expect(await h.call('sendto', c, BAD, 10, 0, 0, 0)).toBe(E.EFAULT);
    expect(await h.call('sendto', c, BUF, 0, 0, 0, 0)).toBe(0);
    expect(await queued(h, s)).toBe(50);
    expect(await h.call('sendto', c, BUF, 10, 0, BUF, 200)).toBe(E.EINVAL); // address length checked
    expect(await h.call('shutdown', c, 1)).toBe(0);
    const MSG_NOSIGNAL = 0x4000;
    expect(await h.call('sendto', c, BUF, 10, MSG_NOSIGNAL, 0, 0)).toBe(E.EPIPE);
  });
});

describe('readiness followed for waiters only', () => {
  it("the stack reads an inet socket's readiness while a task waits on it, not before or after", async () => {
    const h = harness();
    const [c, s] = await tcpPair(h);
    const stack = initialNetOf(h.kernel).stack;
    const follow = vi.spyOn(stack, 'followWatcher');
    h.mem.write(BUF + 2000, letters(10));
    expect(await h.call('write', c, BUF + 2000, 10)).toBe(10);
    expect(await h.call('read', s, BUF + 3000, 10)).toBe(10);
    expect(follow).not.toHaveBeenCalled(); // nobody waited
    const read = h.call('read', s, BUF + 3000, 10); // blocks: nothing queued
    await new Promise((r) => setImmediate(r));
    expect(follow.mock.calls.map(([, on]) => on)).toEqual([true]);
    expect(await h.call('write', c, BUF + 2000, 4)).toBe(4);
    expect(await read).toBe(4);
    expect(follow.mock.calls.map(([, on]) => on)).toEqual([true, false]);
    expect(await h.call('write', c, BUF + 2000, 4)).toBe(4);
    expect(follow).toHaveBeenCalledTimes(2);
  });
});
