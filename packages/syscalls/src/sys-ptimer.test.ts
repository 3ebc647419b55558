import { E, SiCode } from '@tsvisor/abi';
import { describe, expect, it } from 'vitest';
import { BAD, BUF, harness, type Harness } from './harness.test-util.js';

const MS = 1_000_000n;
const SIGALRM = 14;
const SIGUSR1 = 10;
const SIGRTMIN = 34;
const EV = BUF + 0x100;
const ID = BUF + 0x180;
const SPEC = BUF + 0x200;
const OLD = BUF + 0x300;
const SET = BUF + 0x380;
const INFO = BUF + 0x400;
const TS = BUF + 0x500;

const bit = (s: number): bigint => 1n << BigInt(s - 1);

function spec(h: Harness, value: bigint, interval = 0n): number {
  const s = 1_000_000_000n;
  h.mem.writeU64(SPEC, interval / s);
  h.mem.writeU64(SPEC + 8, interval % s);
  h.mem.writeU64(SPEC + 16, value / s);
  h.mem.writeU64(SPEC + 24, value % s);
  return SPEC;
}

function sigevent(h: Harness, notify: number, signo: number, value: bigint, tid = 0): number {
  h.mem.writeExact(EV, new Uint8Array(64));
  h.mem.writeU64(EV, value);
  h.mem.writeI32(EV + 8, signo);
  h.mem.writeI32(EV + 12, notify);
  h.mem.writeI32(EV + 16, tid);
  return EV;
}

async function create(h: Harness, clock: number, ev: number): Promise<number> {
  expect(await h.call('timer_create', clock, ev, ID)).toBe(0);
  return h.mem.readU32(ID) as number;
}

/** rt_sigtimedwait for `sig` with a zero timeout; returns the result and the siginfo fields. */
async function take(
  h: Harness,
  sig: number,
): Promise<{ r: unknown; code: number; tid: number; overrun: number; value: bigint }> {
  h.mem.writeU64(SET, bit(sig));
  h.mem.writeU64(TS, 0n);
  h.mem.writeU64(TS + 8, 0n);
  const r = await h.call('rt_sigtimedwait', SET, INFO, TS, 8);
  const v = new DataView((h.mem.read(INFO, 128) as Uint8Array).slice().buffer);
  return {
    r,
    code: v.getInt32(8, true),
    tid: v.getInt32(16, true),
    overrun: v.getInt32(20, true),
    value: v.getBigUint64(24, true),
  };
}

describe('POSIX timers', () => {
  it('a periodic timer queues one signal and counts the rest as overruns', async () => {
    const h = harness();
    h.mem.writeU64(SET, bit(SIGRTMIN));
    await h.call('rt_sigprocmask', 0, SET, 0, 8);
    const id = await create(h, 1, sigevent(h, 0, SIGRTMIN, 0xabcn));
    expect(await h.call('timer_settime', id, 0, spec(h, 2n * MS, 2n * MS), 0)).toBe(0);
    h.time.advance(2n * MS);
    h.time.advance(2n * MS);
    h.time.advance(2n * MS);
    const got = await take(h, SIGRTMIN);
    expect(got).toEqual({ r: SIGRTMIN, code: SiCode.SI_TIMER, tid: id, overrun: 2, value: 0xabcn });
    expect(await h.call('timer_getoverrun', id)).toBe(2);
    expect((await take(h, SIGRTMIN)).r).toBe(E.EAGAIN); // one signal, not three
    h.time.advance(2n * MS);
    expect(await take(h, SIGRTMIN)).toMatchObject({ r: SIGRTMIN, overrun: 0 });
    expect(await h.call('timer_getoverrun', id)).toBe(0);
    expect(await h.call('timer_gettime', id, OLD)).toBe(0);
    expect(h.mem.readU64(OLD + 8)).toBe(2n * MS); // interval
    expect(h.mem.readU64(OLD + 24)).toBe(2n * MS); // next expiration
    expect(await h.call('timer_delete', id)).toBe(0);
    h.time.advance(10n * MS);
    expect((await take(h, SIGRTMIN)).r).toBe(E.EAGAIN);
    expect(await h.call('timer_delete', id)).toBe(E.EINVAL);
  });

  it('a NULL sigevent sends SIGALRM with the timer id as value; ids count from 0', async () => {
    const h = harness();
    h.mem.writeU64(SET, bit(SIGALRM));
    await h.call('rt_sigprocmask', 0, SET, 0, 8);
    const first = await create(h, 0, 0);
    const second = await create(h, 0, 0);
    expect([first, second]).toEqual([0, 1]);
    await h.call('timer_settime', second, 0, spec(h, MS), 0);
    h.time.advance(MS);
    expect(await take(h, SIGALRM)).toMatchObject({ r: SIGALRM, tid: 1, value: 1n });
  });

  it('SIGEV_NONE never signals but keeps time; SIGEV_THREAD_ID targets the thread', async () => {
    const h = harness();
    const none = await create(h, 1, sigevent(h, 1, 0, 0n));
    await h.call('timer_settime', none, 0, spec(h, 5n * MS), 0);
    h.time.advance(2n * MS);
    await h.call('timer_gettime', none, OLD);
    expect(h.mem.readU64(OLD + 24)).toBe(3n * MS);
    h.mem.writeU64(SET, bit(SIGUSR1));
    await h.call('rt_sigprocmask', 0, SET, 0, 8);
    const th = await create(h, 1, sigevent(h, 4, SIGUSR1, 5n, 1));
    await h.call('timer_settime', th, 0, spec(h, MS), 0);
    h.time.advance(MS);
    expect(h.task.pending.has(SIGUSR1)).toBe(true);
    expect(h.task.group.sharedPending.has(SIGUSR1)).toBe(false);
  });

  it('TIMER_ABSTIME and the old setting', async () => {
    const h = harness();
    h.mem.writeU64(SET, bit(SIGALRM));
    await h.call('rt_sigprocmask', 0, SET, 0, 8);
    const id = await create(h, 0, 0);
    await h.call('timer_settime', id, 1, spec(h, h.time.realtimeNs() + 4n * MS), 0);
    expect(await h.call('timer_settime', id, 1, spec(h, h.time.realtimeNs() + 6n * MS), OLD)).toBe(0);
    expect(h.mem.readU64(OLD + 24)).toBe(4n * MS);
    h.time.advance(5n * MS);
    expect((await take(h, SIGALRM)).r).toBe(E.EAGAIN);
    h.time.advance(MS);
    expect((await take(h, SIGALRM)).r).toBe(SIGALRM);
  });

  it('a timer on the process CPU clock fires at the first syscall after that CPU time', async () => {
    const h = harness();
    h.mem.writeU64(SET, bit(SIGRTMIN));
    await h.call('rt_sigprocmask', 0, SET, 0, 8);
    const id = await create(h, 2, sigevent(h, 0, SIGRTMIN, 1n));
    await h.call('timer_settime', id, 0, spec(h, 10n * MS), 0);
    h.time.advance(50n * MS); // wall time does not count
    expect((await take(h, SIGRTMIN)).r).toBe(E.EAGAIN);
    h.task.cpu.userNs += 4n * MS;
    expect(await h.call('timer_gettime', id, OLD)).toBe(0);
    expect(h.mem.readU64(OLD + 24)).toBe(6n * MS);
    h.task.cpu.sysNs += 6n * MS;
    await h.call('getpid');
    expect(await take(h, SIGRTMIN)).toMatchObject({ r: SIGRTMIN, code: SiCode.SI_TIMER, tid: id });
    // The thread clock works too; clock ids of type 3 are invalid.
    expect(await h.call('timer_create', 3, 0, ID)).toBe(0);
    expect(await h.call('timer_create', -5, 0, ID)).toBe(E.EOPNOTSUPP); // an fd clock
    expect(await h.call('timer_create', -6 - (999 << 3), 0, ID)).toBe(E.EINVAL); // no pid 1000
  });

  it('drops a pending signal of a timer deleted or re-armed since (Linux 6.13+)', async () => {
    const h = harness();
    h.mem.writeU64(SET, bit(SIGRTMIN));
    await h.call('rt_sigprocmask', 0, SET, 0, 8);
    const id = await create(h, 1, sigevent(h, 0, SIGRTMIN, 0n));
    await h.call('timer_settime', id, 0, spec(h, MS), 0);
    h.time.advance(MS);
    expect(h.task.group.sharedPending.has(SIGRTMIN)).toBe(true);
    await h.call('timer_settime', id, 0, spec(h, 100n * MS), 0);
    expect((await take(h, SIGRTMIN)).r).toBe(E.EAGAIN);
    h.time.advance(100n * MS);
    await h.call('timer_delete', id);
    expect((await take(h, SIGRTMIN)).r).toBe(E.EAGAIN);
    expect(h.task.group.sharedPending.has(SIGRTMIN)).toBe(false);
  });

  it('answers the errnos Linux gives', async () => {
    const h = harness();
    expect(await h.call('timer_create', 99, 0, ID)).toBe(E.EINVAL);
    expect(await h.call('timer_create', 4, 0, ID)).toBe(E.EOPNOTSUPP); // MONOTONIC_RAW
    expect(await h.call('timer_create', 5, 0, ID)).toBe(E.EOPNOTSUPP); // REALTIME_COARSE
    expect(await h.call('timer_create', 1, BAD, ID)).toBe(E.EFAULT);
    expect(await h.call('timer_create', 1, sigevent(h, 0, 65, 0n), ID)).toBe(E.EINVAL);
    expect(await h.call('timer_create', 1, sigevent(h, 4, 10, 0n, 999), ID)).toBe(E.EINVAL);
    expect(await h.call('timer_create', 1, sigevent(h, 3, 10, 0n), ID)).toBe(E.EINVAL);
    expect(await h.call('timer_create', 1, 0, BAD)).toBe(E.EFAULT);
    const id = await create(h, 1, 0);
    expect(await h.call('timer_settime', id, 0, 0, 0)).toBe(E.EINVAL);
    expect(await h.call('timer_settime', id, 0, BAD, 0)).toBe(E.EFAULT);
    h.mem.writeU64(SPEC + 24, 1_000_000_000n);
    expect(await h.call('timer_settime', id, 0, SPEC, 0)).toBe(E.EINVAL);
    expect(await h.call('timer_settime', 42, 0, spec(h, MS), 0)).toBe(E.EINVAL);
    expect(await h.call('timer_gettime', 42, OLD)).toBe(E.EINVAL);
    expect(await h.call('timer_gettime', id, BAD)).toBe(E.EFAULT);
    expect(await h.call('timer_getoverrun', 42)).toBe(E.EINVAL);
  });
});

describe('rt_sigtimedwait and sigqueueinfo', () => {
  it('waits for a blocked signal, times out with EAGAIN', async () => {
    const h = harness();
    h.mem.writeU64(SET, bit(SIGUSR1));
    await h.call('rt_sigprocmask', 0, SET, 0, 8);
    h.mem.writeU64(TS, 0n);
    h.mem.writeU64(TS + 8, 3n * MS);
    const p = h.call('rt_sigtimedwait', SET, INFO, TS, 8);
    await Promise.resolve();
    expect(h.task.blocked).toBe(true);
    h.time.advance(3n * MS);
    expect(await p).toBe(E.EAGAIN);
    const q = h.call('rt_sigtimedwait', SET, 0, 0, 8);
    await Promise.resolve();
    // rt_sigqueueinfo to ourselves with SI_QUEUE and a value.
    const si = new Uint8Array(128);
    const v = new DataView(si.buffer);
    v.setInt32(0, SIGUSR1, true);
    v.setInt32(8, SiCode.SI_QUEUE, true);
    v.setInt32(16, 1, true);
    v.setBigUint64(24, 77n, true);
    h.mem.writeExact(INFO, si);
    expect(await h.call('rt_sigqueueinfo', 1, SIGUSR1, INFO)).toBe(0);
    expect(await q).toBe(SIGUSR1);
  });

  it('an unblocked, handled signal interrupts it with EINTR', async () => {
    const h = harness();
    h.mem.writeU64(SET, bit(SIGUSR1));
    const p = h.call('rt_sigtimedwait', SET, 0, 0, 8);
    await Promise.resolve();
    // Install a handler for SIGUSR2 so it is not fatal, then send it.
    const act = BUF + 0x600;
    h.mem.writeExact(act, new Uint8Array(32));
    h.mem.writeU64(act, 0x401000n);
    h.mem.writeU64(act + 8, 0x04000000n); // SA_RESTORER
    expect(await h.call('rt_sigaction', 12, act, 0, 8)).toBe(0);
    h.kernel.sendToGroup(h.task.group, { signo: 12, code: SiCode.SI_USER });
    expect(await p).toBe(E.EINTR);
  });

  it('checks its arguments and the si_code rule', async () => {
    const h = harness();
    expect(await h.call('rt_sigtimedwait', SET, 0, 0, 4)).toBe(E.EINVAL);
    expect(await h.call('rt_sigtimedwait', BAD, 0, 0, 8)).toBe(E.EFAULT);
    h.mem.writeU64(TS, 0n);
    h.mem.writeU64(TS + 8, 1_000_000_000n);
    expect(await h.call('rt_sigtimedwait', SET, 0, TS, 8)).toBe(E.EINVAL);
    const si = new Uint8Array(128);
    new DataView(si.buffer).setInt32(8, SiCode.SI_USER, true); // a kernel code
    h.mem.writeExact(INFO, si);
    expect(await h.call('rt_sigqueueinfo', 2, SIGUSR1, INFO)).toBe(E.EPERM);
    expect(await h.call('rt_sigqueueinfo', 1, SIGUSR1, BAD)).toBe(E.EFAULT);
    new DataView(si.buffer).setInt32(8, SiCode.SI_QUEUE, true);
    h.mem.writeExact(INFO, si);
    expect(await h.call('rt_sigqueueinfo', 999, SIGUSR1, INFO)).toBe(E.ESRCH);
    expect(await h.call('rt_sigqueueinfo', 1, 99, INFO)).toBe(E.EINVAL);
    expect(await h.call('rt_tgsigqueueinfo', 0, 1, SIGUSR1, INFO)).toBe(E.EINVAL);
    expect(await h.call('rt_tgsigqueueinfo', 1, 5, SIGUSR1, INFO)).toBe(E.ESRCH);
    expect(await h.call('rt_tgsigqueueinfo', 1, 1, 0, INFO)).toBe(0);
  });
});
