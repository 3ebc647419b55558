// Signal-driven I/O rules at the syscall level (fake memory, no host): which events of an O_ASYNC
// description signal its owner. The differential test against Linux is the runtime's
// sigio-cond.test.ts; these pin the rules the nginx channel and pipes depend on.
import { E, isError } from '@tsvisor/abi';
import { describe, expect, it } from 'vitest';
import { BUF, harness, type Harness } from './harness.test-util.js';

const SIG = 35; // SIGRTMIN+1: queued, so each signal counts
const F_SETOWN = 8;
const F_SETSIG = 10;
const F_GETFL = 3;
const F_SETFL = 4;
const O_ASYNC = 0o20000;
const O_NONBLOCK = 0o4000;
const FIOASYNC = 0x5452;
const POLL_IN = 1;
const POLL_OUT = 2;
const POLL_HUP = 6;
const SET = BUF + 0x100;
const INFO = BUF + 0x200;
const ZERO = BUF + 0x300;
const DATA = BUF + 0x1000;

/** The test's task blocks SIG, so what O_ASYNC sends waits to be counted. */
async function setup(): Promise<Harness> {
  const h = harness();
  h.mem.writeU64(SET, 1n << BigInt(SIG - 1));
  h.mem.writeU64(ZERO, 0n);
  h.mem.writeU64(ZERO + 8, 0n);
  expect(await h.call('rt_sigprocmask', 0, SET, 0, 8)).toBe(0);
  return h;
}

async function arm(h: Harness, fd: number): Promise<void> {
  expect(await h.call('fcntl', fd, F_SETOWN, h.task.tgid)).toBe(0);
  expect(await h.call('fcntl', fd, F_SETSIG, SIG)).toBe(0);
  const fl = (await h.call('fcntl', fd, F_GETFL)) as number;
  expect(await h.call('fcntl', fd, F_SETFL, fl | O_ASYNC)).toBe(0);
}

/** The queued signals' si_code and si_fd, taken with rt_sigtimedwait. */
async function taken(h: Harness): Promise<string[]> {
  const out: string[] = [];
  for (;;) {
    const r = await h.call('rt_sigtimedwait', SET, INFO, ZERO, 8);
    if (r === E.EAGAIN) return out;
    expect(r).toBe(SIG);
    const info = h.mem.read(INFO, 32);
    if (isError(info)) throw new Error('siginfo unreadable');
    const v = new DataView(info.buffer, info.byteOffset, info.byteLength);
    out.push(`${v.getInt32(8, true)}@${v.getInt32(24, true)}`);
  }
}

async function pair(h: Harness, type: number): Promise<[number, number]> {
  expect(await h.call('socketpair', 1, type, 0, BUF)).toBe(0);
  return [h.mem.readI32(BUF) as number, h.mem.readI32(BUF + 4) as number];
}

describe('O_ASYNC on an AF_UNIX stream pair', () => {
  it('signals data from the peer, not the peer reading what this side sent (nginx channel)', async () => {
    const h = await setup();
    const [a, b] = await pair(h, 1);
    await arm(h, a);
    expect(await h.call('write', a, DATA, 32)).toBe(32);
    expect(await h.call('read', b, DATA, 32)).toBe(32);
    expect(await taken(h)).toEqual([]);
    expect(await h.call('write', b, DATA, 1)).toBe(1);
    expect(await h.call('write', b, DATA, 1)).toBe(1);
    expect(await taken(h)).toEqual([`${POLL_IN}@${a}`, `${POLL_IN}@${a}`]);
  });

  it('signals the peer shutting its sending side or both, not own shutdowns or its SHUT_RD', async () => {
    const h = await setup();
    const [a, b] = await pair(h, 1);
    await arm(h, a);
    expect(await h.call('shutdown', a, 2)).toBe(0);
    expect(await h.call('shutdown', b, 0)).toBe(0);
    expect(await taken(h)).toEqual([]);
    expect(await h.call('shutdown', b, 1)).toBe(0);
    expect(await taken(h)).toEqual([`${POLL_IN}@${a}`]);
    expect(await h.call('shutdown', b, 2)).toBe(0);
    expect(await h.call('close', b)).toBe(0);
    expect(await taken(h)).toEqual([`${POLL_HUP}@${a}`, `${POLL_HUP}@${a}`]);
  });

  it('signals write space once, and only after a send found no room', async () => {
    const h = await setup();
    const [a, b] = await pair(h, 1);
    await arm(h, a);
    for (const fd of [a, b]) {
      const fl = (await h.call('fcntl', fd, F_GETFL)) as number;
      expect(await h.call('fcntl', fd, F_SETFL, fl | O_NONBLOCK)).toBe(0);
    }
    let r: unknown;
    while ((r = await h.call('write', a, DATA, 4096)) === 4096);
    expect(r).toBe(E.EAGAIN);
    expect(await taken(h)).toEqual([]);
    while ((await h.call('read', b, DATA, 4096)) === 4096);
    expect(await taken(h)).toEqual([`${POLL_OUT}@${a}`]);
  });
});

describe('O_ASYNC on a pipe', () => {
  it('signals the read end on writes and the write end on reads, each only its own', async () => {
    const h = await setup();
    expect(await h.call('pipe2', BUF, O_NONBLOCK)).toBe(0);
    const rd = h.mem.readI32(BUF) as number;
    const wr = h.mem.readI32(BUF + 4) as number;
    await arm(h, wr);
    expect(await h.call('write', wr, DATA, 2)).toBe(2);
    expect(await taken(h)).toEqual([]);
    expect(await h.call('read', rd, DATA, 1)).toBe(1);
    expect(await taken(h)).toEqual([`${POLL_OUT}@${wr}`]);
    // pipe_read signals the writers even when it finds nothing.
    expect(await h.call('read', rd, DATA, 1)).toBe(1);
    expect(await h.call('read', rd, DATA, 1)).toBe(E.EAGAIN);
    expect(await taken(h)).toEqual([`${POLL_OUT}@${wr}`, `${POLL_OUT}@${wr}`]);
    await arm(h, rd);
    expect(await h.call('close', wr)).toBe(0);
    expect(await taken(h)).toEqual([`${POLL_IN}@${rd}`]);
  });
});

describe('files without ->fasync', () => {
  it('refuse FIOASYNC with ENOTTY and drop O_ASYNC from F_SETFL (eventfd)', async () => {
    const h = await setup();
    const fd = (await h.call('eventfd2', 0, 0)) as number;
    h.mem.writeI32(DATA, 1);
    expect(await h.call('ioctl', fd, FIOASYNC, DATA)).toBe(E.ENOTTY);
    await arm(h, fd);
    expect(((await h.call('fcntl', fd, F_GETFL)) as number) & O_ASYNC).toBe(0);
    h.mem.writeU64(DATA, 1n);
    expect(await h.call('write', fd, DATA, 8)).toBe(8);
    expect(await taken(h)).toEqual([]);
  });
});
