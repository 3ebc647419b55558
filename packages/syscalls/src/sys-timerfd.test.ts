import { E } from '@tsvisor/abi';
import { describe, expect, it } from 'vitest';
import { BAD, BUF, harness, type Harness } from './harness.test-util.js';

const MS = 1_000_000n;
const TFD_NONBLOCK = 0o4000;
const SPEC = BUF + 0x100;
const OLD = BUF + 0x200;
const OUT = BUF + 0x300;

/** Writes an itimerspec (value, interval in ns) at SPEC. */
function spec(h: Harness, value: bigint, interval = 0n): number {
  const s = 1_000_000_000n;
  h.mem.writeU64(SPEC, interval / s);
  h.mem.writeU64(SPEC + 8, interval % s);
  h.mem.writeU64(SPEC + 16, value / s);
  h.mem.writeU64(SPEC + 24, value % s);
  return SPEC;
}

function readSpec(h: Harness, at: number): { interval: bigint; value: bigint } {
  const r = (o: number): bigint => h.mem.readU64(at + o) as bigint;
  return { interval: r(0) * 1_000_000_000n + r(8), value: r(16) * 1_000_000_000n + r(24) };
}

describe('timerfd', () => {
  it('counts every period, even those the host ran late, and a read resets the count', async () => {
    const h = harness();
    const fd = (await h.call('timerfd_create', 1, TFD_NONBLOCK)) as number;
    expect(fd).toBeGreaterThanOrEqual(0);
    expect(await h.call('read', fd, OUT, 8)).toBe(E.EAGAIN);
    expect(await h.call('timerfd_settime', fd, 0, spec(h, 10n * MS, 5n * MS), 0)).toBe(0);
    h.time.advance(9n * MS);
    expect(await h.call('read', fd, OUT, 8)).toBe(E.EAGAIN);
    h.time.advance(1n * MS + 12n * MS); // 10 ms, then 2 more periods and a bit
    expect(await h.call('read', fd, OUT, 8)).toBe(8);
    expect(h.mem.readU64(OUT)).toBe(3n);
    expect(await h.call('read', fd, OUT, 8)).toBe(E.EAGAIN);
    // Time to the next expiration (at 25 ms) and the interval.
    expect(await h.call('timerfd_gettime', fd, OLD)).toBe(0);
    expect(readSpec(h, OLD)).toEqual({ interval: 5n * MS, value: 3n * MS });
  });

  it('a blocking read sleeps until the expiration; short buffers are EINVAL', async () => {
    const h = harness();
    const fd = (await h.call('timerfd_create', 0, 0)) as number;
    expect(await h.call('read', fd, OUT, 7)).toBe(E.EINVAL);
    await h.call('timerfd_settime', fd, 0, spec(h, 4n * MS), 0);
    const p = h.call('read', fd, OUT, 8);
    await Promise.resolve();
    expect(h.task.blocked).toBe(true);
    h.time.advance(4n * MS);
    expect(await p).toBe(8);
    expect(h.mem.readU64(OUT)).toBe(1n);
    // A one-shot timer is disarmed after it expired.
    await h.call('timerfd_gettime', fd, OLD);
    expect(readSpec(h, OLD)).toEqual({ interval: 0n, value: 0n });
  });

  it('TFD_TIMER_ABSTIME on CLOCK_REALTIME, old value, disarm, and poll readiness', async () => {
    const h = harness();
    const fd = (await h.call('timerfd_create', 0, TFD_NONBLOCK)) as number;
    const now = h.time.realtimeNs();
    expect(await h.call('timerfd_settime', fd, 1, spec(h, now + 7n * MS), 0)).toBe(0);
    h.mem.writeI32(BUF, fd);
    h.mem.writeU32(BUF + 4, 1); // POLLIN
    expect(await h.call('poll', BUF, 1, 0)).toBe(0);
    h.time.advance(7n * MS);
    expect(await h.call('poll', BUF, 1, 0)).toBe(1);
    // Re-arming forgets pending expirations and reports the old (expired: zero) setting.
    expect(await h.call('timerfd_settime', fd, 0, spec(h, 0n), OLD)).toBe(0);
    expect(readSpec(h, OLD)).toEqual({ interval: 0n, value: 0n });
    expect(await h.call('poll', BUF, 1, 0)).toBe(0);
  });

  it('an absolute time in the past counts the periods since then', async () => {
    const h = harness();
    const fd = (await h.call('timerfd_create', 1, 0)) as number;
    const mono = h.time.monotonicNs();
    await h.call('timerfd_settime', fd, 1, spec(h, mono - 10n * MS, 3n * MS), 0);
    expect(await h.call('read', fd, OUT, 8)).toBe(8);
    expect(h.mem.readU64(OUT)).toBe(4n); // at -10, -7, -4, -1 ms
  });

  it('answers the errnos Linux gives', async () => {
    const h = harness();
    expect(await h.call('timerfd_create', 4, 0)).toBe(E.EINVAL); // CLOCK_MONOTONIC_RAW
    expect(await h.call('timerfd_create', 1, 1)).toBe(E.EINVAL);
    const fd = (await h.call('timerfd_create', 7, 0o2000000)) as number; // BOOTTIME, CLOEXEC
    expect(await h.call('fcntl', fd, 1)).toBe(1);
    expect(await h.call('timerfd_settime', fd, 4, spec(h, MS), 0)).toBe(E.EINVAL);
    expect(await h.call('timerfd_settime', fd, 0, BAD, 0)).toBe(E.EFAULT);
    h.mem.writeU64(SPEC + 24, 1_000_000_000n);
    expect(await h.call('timerfd_settime', fd, 0, SPEC, 0)).toBe(E.EINVAL);
    expect(await h.call('timerfd_settime', 99, 0, spec(h, MS), 0)).toBe(E.EBADF);
    const efd = (await h.call('eventfd2', 0, 0)) as number;
    expect(await h.call('timerfd_settime', efd, 0, spec(h, MS), 0)).toBe(E.EINVAL);
    expect(await h.call('timerfd_gettime', efd, OLD)).toBe(E.EINVAL);
    expect(await h.call('timerfd_gettime', fd, BAD)).toBe(E.EFAULT);
    expect(await h.call('write', fd, OUT, 8)).toBe(E.EINVAL);
  });

  it('closing the fd cancels its host timer', async () => {
    const h = harness();
    const before = h.time.pendingTimers;
    const fd = (await h.call('timerfd_create', 1, 0)) as number;
    await h.call('timerfd_settime', fd, 0, spec(h, MS, MS), 0);
    expect(h.time.pendingTimers).toBe(before + 1);
    await h.call('close', fd);
    expect(h.time.pendingTimers).toBe(before);
  });
});
