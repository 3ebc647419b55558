import { describe, expect, it } from 'vitest';
import { ExpiringTimer } from './interval-timer.js';
import { ManualTime } from './time-source.js';

describe('ExpiringTimer', () => {
  it('counts every period that passed, however late the host runs it', () => {
    const time = new ManualTime();
    const seen: bigint[] = [];
    const t = new ExpiringTimer(time, (n) => seen.push(n));
    const start = time.monotonicNs();
    t.arm(start + 10n, 5n);
    time.advance(9n);
    expect(seen).toEqual([]);
    expect(t.remaining()).toBe(1n);
    time.advance(11n); // at 20: expirations at 10, 15, 20
    expect(seen).toEqual([3n]);
    expect(t.remaining()).toBe(5n);
    t.disarm();
    expect(t.armed).toBe(false);
    expect(time.pendingTimers).toBe(0);
  });

  it('a one-shot timer disarms itself; settle counts what is due before the host fires', () => {
    const time = new ManualTime();
    const seen: bigint[] = [];
    const t = new ExpiringTimer(time, (n) => seen.push(n));
    t.arm(time.monotonicNs() - 1n, 0n);
    expect(t.settle()).toBe(1n);
    expect(t.armed).toBe(false);
    expect(t.remaining()).toBe(0n);
    expect(seen).toEqual([]);
  });
});
