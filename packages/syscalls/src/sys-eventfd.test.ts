import { E } from '@tsvisor/abi';
import { describe, expect, it } from 'vitest';
import { BUF, harness } from './harness.test-util.js';

describe('eventfd', () => {
  it('counts writes, reads reset the counter, and an empty read blocks until a write', async () => {
    const h = harness();
    const fd = (await h.call('eventfd2', 3, 0)) as number;
    h.mem.writeU64(BUF, 4n);
    expect(await h.call('write', fd, BUF, 8)).toBe(8);
    expect(await h.call('read', fd, BUF + 8, 8)).toBe(8);
    expect(h.mem.readU64(BUF + 8)).toBe(7n);
    const p = h.call('read', fd, BUF + 8, 8);
    await Promise.resolve();
    expect(h.task.blocked).toBe(true);
    h.mem.writeU64(BUF, 2n);
    await h.call('write', fd, BUF, 8);
    expect(await p).toBe(8);
    expect(h.mem.readU64(BUF + 8)).toBe(2n);
    expect(await h.call('read', fd, BUF + 8, 4)).toBe(E.EINVAL);
    h.mem.writeU64(BUF, 0xffff_ffff_ffff_ffffn);
    expect(await h.call('write', fd, BUF, 8)).toBe(E.EINVAL);
  });

  it('semaphore mode hands out one at a time; EFD_NONBLOCK gives EAGAIN', async () => {
    const h = harness();
    const fd = (await h.call('eventfd2', 2, 1 | 0o4000)) as number;
    expect(await h.call('read', fd, BUF, 8)).toBe(8);
    expect(h.mem.readU64(BUF)).toBe(1n);
    expect(await h.call('read', fd, BUF, 8)).toBe(8);
    expect(await h.call('read', fd, BUF, 8)).toBe(E.EAGAIN);
  });
});
