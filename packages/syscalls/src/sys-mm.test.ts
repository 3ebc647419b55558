import { E } from '@tsvisor/abi';
import { SparseMemory, type PlatformPort } from '@tsvisor/kernel';
import type { HostOp } from '@tsvisor/mm';
import { describe, expect, it } from 'vitest';
import { BUF, harness } from './harness.test-util.js';
import { VfsMapFile } from './sys-mm.js';

const PROT_RW = 3;
const MAP_PRIVATE_ANON = 0x22;

function recording(): { ops: HostOp[]; platform: PlatformPort } {
  const ops: HostOp[] = [];
  return {
    ops,
    platform: {
      applyMemoryOps: (_t, o) => {
        ops.push(...(o as HostOp[]));
        return undefined;
      },
      createTask: () => undefined,
      execAddressSpace: () => new SparseMemory(),
      destroyTask: () => undefined,
    },
  };
}

describe('memory syscalls', () => {
  it('mmap/munmap follow the model and hand its journal to the platform', async () => {
    const { ops, platform } = recording();
    const h = harness({ platform });
    const addr = (await h.call('mmap', 0, 8192, PROT_RW, MAP_PRIVATE_ANON, -1, 0)) as number;
    expect(addr % 4096).toBe(0);
    expect(ops).toEqual([
      expect.objectContaining({ op: 'mmap', addr, length: 8192, prot: PROT_RW, file: null }),
    ]);
    expect(await h.call('mprotect', addr, 4096, 1)).toBe(0);
    expect(await h.call('munmap', addr, 8192)).toBe(0);
    expect(ops.map((o) => o.op)).toEqual(['mmap', 'mprotect', 'munmap']);
    expect(await h.call('mmap', 0, 0, PROT_RW, MAP_PRIVATE_ANON, -1, 0)).toBe(E.EINVAL);
    expect(await h.call('mmap', 0, 4096, 1, 2, 9999, 0)).toBe(E.EBADF);
    expect(await h.call('munmap', addr + 1, 4096)).toBe(E.EINVAL);
  });

  it('maps a VFS file through a VfsMapFile', async () => {
    const { ops, platform } = recording();
    const h = harness({ platform });
    h.mem.write(BUF, new TextEncoder().encode('/m\0'));
    const fd = (await h.call('openat', -100, BUF, 0o102, 0o600)) as number;
    const addr = await h.call('mmap', 0, 4096, 1, 2, fd, 0);
    expect(typeof addr).toBe('number');
    const op = ops[0];
    expect(op?.op === 'mmap' && op.file instanceof VfsMapFile && op.file.mapPath()).toBe('/m');
  });

  it('brk grows from the initial break and refuses to go below it', async () => {
    const h = harness();
    const model = h.task.mm.model as { initBrk(a: number): void };
    model.initBrk(0x600000);
    expect(await h.call('brk', 0)).toBe(0x600000);
    expect(await h.call('brk', 0x602000)).toBe(0x602000);
    expect(await h.call('brk', 0x100)).toBe(0x602000);
  });
});
