import { Signal } from '@tsvisor/abi';
import { ERESTARTNOHAND } from '@tsvisor/kernel';
import { describe, expect, it } from 'vitest';
import { BUF, harness } from './harness.test-util.js';

const POLLIN = 1;
const POLLOUT = 4;

describe('poll and select', () => {
  it('poll reports a pipe readable after a write, and sleeps until then', async () => {
    const h = harness();
    await h.call('pipe2', BUF, 0);
    const r = h.mem.readI32(BUF) as number;
    const w = h.mem.readI32(BUF + 4) as number;
    h.mem.writeI32(BUF + 64, r);
    h.mem.writeI32(BUF + 68, POLLIN);
    h.mem.writeI32(BUF + 72, w);
    h.mem.writeI32(BUF + 76, POLLOUT);
    expect(await h.call('poll', BUF + 64, 2, 0)).toBe(1);
    expect((h.mem.readU32(BUF + 76) as number) >>> 16).toBe(POLLOUT);
    const waiting = h.call('poll', BUF + 64, 1, -1);
    await Promise.resolve();
    expect(h.task.blocked).toBe(true);
    h.mem.write(BUF + 200, new Uint8Array([1]));
    await h.call('write', w, BUF + 200, 1);
    expect(await waiting).toBe(1);
    expect((h.mem.readU32(BUF + 68) as number) >>> 16).toBe(POLLIN);
  });

  it('poll times out on the clock and is interrupted by signals', async () => {
    const h = harness();
    await h.call('pipe2', BUF, 0);
    h.mem.writeI32(BUF + 64, h.mem.readI32(BUF) as number);
    h.mem.writeI32(BUF + 68, POLLIN);
    const p = h.call('poll', BUF + 64, 1, 5);
    await Promise.resolve();
    h.time.advance(5_000_000n);
    expect(await p).toBe(0);
    h.task.group.actions.set(Signal.SIGUSR1, {
      handler: 0x401000n,
      flags: 0,
      restorer: 0n,
      mask: h.task.mask.clone(),
    });
    const q = h.call('ppoll', BUF + 64, 1, 0, 0, 8);
    await Promise.resolve();
    h.kernel.sendToTask(h.task, { signo: Signal.SIGUSR1, code: 0 });
    expect(await q).toBe(ERESTARTNOHAND);
  });

  it('select marks ready descriptors in the sets', async () => {
    const h = harness();
    await h.call('pipe2', BUF, 0);
    const r = h.mem.readI32(BUF) as number;
    const w = h.mem.readI32(BUF + 4) as number;
    h.mem.write(BUF + 256, new Uint8Array(24));
    h.mem.writeU64(BUF + 256, 1n << BigInt(r));
    h.mem.writeU64(BUF + 264, 1n << BigInt(w));
    h.mem.write(BUF + 300, new Uint8Array(16));
    expect(await h.call('select', Math.max(r, w) + 1, BUF + 256, BUF + 264, 0, BUF + 300)).toBe(1);
    expect(h.mem.readU64(BUF + 256)).toBe(0n);
    expect(h.mem.readU64(BUF + 264)).toBe(1n << BigInt(w));
  });
});
