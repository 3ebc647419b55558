import { describe, expect, it } from 'vitest';
import { CpuState, ExpiringTimer, Kernel, ManualTime, SparseMemory } from './index.js';

describe('README example', () => {
  it('runs as written', async () => {
    const kernel = new Kernel({ hostname: 'box', log: () => {} });
    const mem = new SparseMemory();
    mem.map(0x7fff0000, 0x10000);
    const init = kernel.spawnInit({
      mm: kernel.newAddressSpace(mem, undefined),
      regs: CpuState.fresh(0x401000, 0x7fff8000),
      comm: 'sh',
    });
    expect(init.tgid).toBe(1);
    kernel.kill(init, 1, 15);
    expect(await kernel.initExited).toBe(15);
  });

  it('runs the Timers example as written', () => {
    const time = new ManualTime();
    const counts: bigint[] = [];
    const timer = new ExpiringTimer(time, (n) => counts.push(n));
    timer.arm(time.monotonicNs() + 10n, 5n);
    time.advance(20n);
    expect(counts).toEqual([3n]);
  });
});
