import { describe, expect, it } from 'vitest';
import { FutexTable } from './futex.js';
import { ManualTime } from './time/time-source.js';
import { Waiter, WaitQueue } from './wait-queue.js';

describe('WaitQueue', () => {
  it('wakes in arrival order, at most n', async () => {
    const q = new WaitQueue();
    const a = new Waiter(undefined);
    const b = new Waiter(undefined);
    q.add(a);
    q.add(b);
    expect(q.notify(1)).toBe(1);
    expect(await a.promise).toBe('notified');
    expect(b.reason).toBeUndefined();
    expect(q.size).toBe(1);
  });

  it('times out on the manual clock and leaves every queue', async () => {
    const time = new ManualTime();
    const q1 = new WaitQueue();
    const q2 = new WaitQueue();
    const w = new Waiter(undefined);
    q1.add(w);
    q2.add(w);
    w.setDeadline(time, time.monotonicNs() + 1000n);
    time.advance(999n);
    expect(w.reason).toBeUndefined();
    time.advance(1n);
    expect(await w.promise).toBe('timeout');
    expect(q1.size + q2.size).toBe(0);
  });

  it('cancels the timer when woken first', () => {
    const time = new ManualTime();
    const w = new Waiter(undefined);
    w.setDeadline(time, time.monotonicNs() + 1000n);
    expect(time.pendingTimers).toBe(1);
    w.wake('interrupted');
    expect(time.pendingTimers).toBe(0);
    expect(w.wake('notified')).toBe(false);
  });
});

describe('FutexTable', () => {
  it('wakes by key and bitset', () => {
    const f = new FutexTable();
    const k = FutexTable.key(1, 0x1000);
    const a = f.enqueue(k, 0b01);
    const b = f.enqueue(k, 0b10);
    expect(f.wake(FutexTable.key(2, 0x1000), 10)).toBe(0);
    expect(f.wake(k, 10, 0b10)).toBe(1);
    expect(b.reason).toBe('notified');
    expect(a.reason).toBeUndefined();
    expect(f.wake(k, 10)).toBe(1);
  });

  it('requeues waiters beyond those it wakes', () => {
    const f = new FutexTable();
    const from = FutexTable.key(1, 0x1000);
    const to = FutexTable.key(1, 0x2000);
    const ws = [f.enqueue(from), f.enqueue(from), f.enqueue(from)];
    expect(f.requeue(from, to, 1, 1)).toBe(2);
    expect(ws[0]?.reason).toBe('notified');
    expect(f.waiters(from)).toBe(1);
    expect(f.waiters(to)).toBe(1);
    expect(f.wake(to, 1)).toBe(1);
    expect(ws[1]?.reason).toBe('notified');
  });

  it('forgets futex words whose waiters all left', async () => {
    const time = new ManualTime();
    const f = new FutexTable();
    const w = f.enqueue(FutexTable.key(1, 0x40));
    w.setDeadline(time, time.monotonicNs() + 10n);
    expect(f.activeKeys).toBe(1);
    time.advance(10n);
    await w.promise;
    await Promise.resolve();
    expect(f.activeKeys).toBe(0);
  });
});
