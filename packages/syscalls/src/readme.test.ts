import { E } from '@tsvisor/abi';
import { CpuState, Kernel, SparseMemory } from '@tsvisor/kernel';
import { describe, expect, it } from 'vitest';
import { createSyscallTable, dispatch } from './index.js';

describe('README example', () => {
  it('runs as written', async () => {
    const kernel = new Kernel({ log: () => {} });
    const mem = new SparseMemory();
    mem.map(0x10000, 0x1000);
    const task = kernel.spawnInit({
      mm: kernel.newAddressSpace(mem, undefined),
      regs: CpuState.fresh(0x401000, 0x7fff0000),
      comm: 'demo',
    });
    const table = createSyscallTable();
    expect(await dispatch(table, task, 39, [0n, 0n, 0n, 0n, 0n, 0n])).toBe(1);
    expect(await dispatch(table, task, 63, [0x10000n, 0n, 0n, 0n, 0n, 0n])).toBe(0);
    expect(mem.readCString(0x10000, 65)).toBe('Linux');
    expect(await dispatch(table, task, 63, [1n, 0n, 0n, 0n, 0n, 0n])).toBe(E.EFAULT);
    table.override('getpid', () => 4242, { level: 'full' });
    expect(await dispatch(table, task, 39, [0n, 0n, 0n, 0n, 0n, 0n])).toBe(4242);
  });
});
