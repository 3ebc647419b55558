import { describe, expect, it } from 'vitest';
import { HostTime } from './time-source.js';

const MS = 1_000_000n;

describe('HostTime', () => {
  it('gives realtime with nanoseconds, within a millisecond or two of the wall clock', () => {
    const t = new HostTime();
    const reads: bigint[] = [];
    for (let i = 0; i < 1000; i++) reads.push(t.realtimeNs());
    const wall = BigInt(Date.now()) * MS;
    const last = reads[reads.length - 1]!;
    expect(last >= wall - 2n * MS && last < wall + 2n * MS).toBe(true);
    // Readings between steps come from hrtime: they never go backwards and are not whole ms.
    for (let i = 1; i < reads.length; i++) expect(reads[i]! >= reads[i - 1]!).toBe(true);
    expect(reads.some((r) => r % MS !== 0n)).toBe(true);
  });

  it('follows a step of the host clock, forwards and backwards, as the vDSO does', () => {
    let shift = 0; // what settimeofday has moved the host's wall clock by, in ms
    const wallNs = () => BigInt(Date.now() + shift) * MS;
    const t = new HostTime(() => Date.now() + shift);
    const near = (r: bigint) => r - wallNs() < 2n * MS && r - wallNs() >= -3n * MS;
    const before = t.realtimeNs();
    expect(near(before)).toBe(true);
    shift = 3_600_000; // one hour ahead
    expect(near(t.realtimeNs())).toBe(true);
    shift = -3_600_000; // then an hour behind the real time
    const behind = t.realtimeNs();
    expect(near(behind)).toBe(true);
    expect(behind < before).toBe(true);
    // Without another step, readings go on from there and keep hrtime's nanoseconds.
    const later = [t.realtimeNs(), t.realtimeNs(), t.realtimeNs()];
    expect(later.every(near)).toBe(true);
    expect(later.some((r) => r % MS !== 0n)).toBe(true);
  });

  it('takes its offset from exactOffset when given, at the start and after a step', () => {
    let offset = 1_700_000_000_123_456_789n; // what the host's REALTIME - MONOTONIC reads
    const t = new HostTime(
      () => Number((offset + process.hrtime.bigint()) / MS),
      () => offset,
    );
    const r = t.realtimeNs();
    const expected = offset + process.hrtime.bigint();
    // Not Date.now's millisecond: the exact offset, to within the few µs between the two reads.
    expect(expected - r >= 0n && expected - r < MS / 10n).toBe(true);
    offset += 3_600_000_000_000n; // the host clock stepped an hour ahead
    const after = t.realtimeNs();
    expect(after - (offset + process.hrtime.bigint()) < MS / 10n).toBe(true);
    expect(offset + process.hrtime.bigint() - after >= 0n).toBe(true);
  });
});
