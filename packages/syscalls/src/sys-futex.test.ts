import { E, Futex, Signal } from '@tsvisor/abi';
import { ERESTARTSYS } from '@tsvisor/kernel';
import { describe, expect, it } from 'vitest';
import { BUF, harness } from './harness.test-util.js';

const PRIVATE = Futex.FUTEX_PRIVATE_FLAG;

describe('futex', () => {
  it('WAIT sleeps until WAKE; WAKE reports how many it woke', async () => {
    const h = harness();
    h.mem.writeU32(BUF, 7);
    const w = h.call('futex', BUF, Futex.FUTEX_WAIT | PRIVATE, 7, 0, 0, 0);
    await Promise.resolve();
    expect(h.task.blocked).toBe(true);
    expect(await h.call('futex', BUF, Futex.FUTEX_WAKE | PRIVATE, 10, 0, 0, 0)).toBe(1);
    expect(await w).toBe(0);
    expect(await h.call('futex', BUF, Futex.FUTEX_WAKE, 10, 0, 0, 0)).toBe(0);
  });

  it('times out with ETIMEDOUT (relative for WAIT, absolute for WAIT_BITSET)', async () => {
    const h = harness();
    h.mem.writeU64(BUF + 8, 0n);
    h.mem.writeU64(BUF + 16, 1000n);
    const w = h.call('futex', BUF, Futex.FUTEX_WAIT, 0, BUF + 8, 0, 0);
    await Promise.resolve();
    h.time.advance(1000n);
    expect(await w).toBe(E.ETIMEDOUT);
    const deadline = h.time.monotonicNs() + 500n;
    h.mem.writeU64(BUF + 8, deadline / 1_000_000_000n);
    h.mem.writeU64(BUF + 16, deadline % 1_000_000_000n);
    const b = h.call('futex', BUF, Futex.FUTEX_WAIT_BITSET, 0, BUF + 8, 0, 1);
    await Promise.resolve();
    h.time.advance(500n);
    expect(await b).toBe(E.ETIMEDOUT);
  });

  it('bitsets select whom WAKE_BITSET wakes', async () => {
    const h = harness();
    const w = h.call('futex', BUF, Futex.FUTEX_WAIT_BITSET, 0, 0, 0, 0b10);
    await Promise.resolve();
    expect(await h.call('futex', BUF, Futex.FUTEX_WAKE_BITSET, 1, 0, 0, 0b01)).toBe(0);
    expect(await h.call('futex', BUF, Futex.FUTEX_WAKE_BITSET, 1, 0, 0, 0b10)).toBe(1);
    expect(await w).toBe(0);
  });

  it('a signal interrupts an untimed wait with ERESTARTSYS', async () => {
    const h = harness();
    h.task.group.actions.set(Signal.SIGUSR1, {
      handler: 0x401000n,
      flags: 0,
      restorer: 0n,
      mask: h.task.mask.clone(),
    });
    const w = h.call('futex', BUF, Futex.FUTEX_WAIT, 0, 0, 0, 0);
    await Promise.resolve();
    h.kernel.sendToTask(h.task, { signo: Signal.SIGUSR1, code: 0 });
    expect(await w).toBe(ERESTARTSYS);
  });

  it('CMP_REQUEUE moves waiters to the second futex', async () => {
    const h = harness();
    const w = h.call('futex', BUF, Futex.FUTEX_WAIT, 0, 0, 0, 0);
    await Promise.resolve();
    expect(await h.call('futex', BUF, Futex.FUTEX_CMP_REQUEUE, 0, 1, BUF + 64, 0)).toBe(1);
    expect(await h.call('futex', BUF, Futex.FUTEX_WAKE, 1, 0, 0, 0)).toBe(0);
    expect(await h.call('futex', BUF + 64, Futex.FUTEX_WAKE, 1, 0, 0, 0)).toBe(1);
    expect(await w).toBe(0);
  });

  it('WAKE_OP modifies the second word and wakes by comparison', async () => {
    const h = harness();
    h.mem.writeU32(BUF + 64, 5);
    const w = h.call('futex', BUF + 64, Futex.FUTEX_WAIT, 6, 0, 0, 0);
    expect(await w).toBe(E.EAGAIN);
    const w2 = h.call('futex', BUF + 64, Futex.FUTEX_WAIT, 5, 0, 0, 0);
    await Promise.resolve();
    // op ADD 1, cmp EQ 5: new value 6, old value 5 == 5, so the second futex is woken.
    const enc = (1 << 28) | (0 << 24) | (1 << 12) | 5;
    expect(await h.call('futex', BUF, Futex.FUTEX_WAKE_OP, 1, 1, BUF + 64, enc)).toBe(1);
    expect(h.mem.readU32(BUF + 64)).toBe(6);
    expect(await w2).toBe(0);
  });
});
