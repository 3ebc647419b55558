import { Kernel } from './kernel.js';
import { CpuState } from './ports/cpu-state.js';
import { SparseMemory } from './ports/sparse-memory.js';
import type { Task } from './task/task.js';
import { ManualTime } from './time/time-source.js';

/** A kernel on a manual clock with pid 1 running over a SparseMemory with a mapped stack. */
export function bootTestKernel(): {
  kernel: Kernel<string>;
  init: Task<string>;
  mem: SparseMemory;
  time: ManualTime;
  logs: string[];
} {
  const time = new ManualTime();
  const logs: string[] = [];
  const kernel = new Kernel<string>({ time, log: (l) => logs.push(l), cpuCount: 2 });
  const mem = new SparseMemory();
  mem.map(0x10000, 0x10000);
  mem.map(0x7ff000000000 - 0x20000, 0x20000);
  const init = kernel.spawnInit({
    mm: kernel.newAddressSpace(mem, undefined),
    regs: CpuState.fresh(0x401000, 0x7ff000000000 - 0x100),
    comm: 'init',
  });
  return { kernel, init, mem, time, logs };
}

/** fork() as the kernel sees it: a new process with its own (here: a fresh) address space. */
export function forkOf(kernel: Kernel<string>, parent: Task<string>, exitSignal = 17): Task<string> {
  const child = kernel.clone(parent, {
    flags: 0,
    exitSignal,
    regs: parent.regs.clone(),
    mm: kernel.newAddressSpace(new SparseMemory(), undefined),
  });
  if (!('tid' in child)) throw new Error(`fork failed: ${String(child)}`);
  return child;
}

/** pthread_create as the kernel sees it. */
export function threadOf(kernel: Kernel<string>, parent: Task<string>): Task<string> {
  const t = kernel.clone(parent, {
    flags: 0x100 | 0x200 | 0x400 | 0x800 | 0x10000 | 0x40000 | 0x80000 | 0x100000 | 0x200000,
    exitSignal: 0,
    regs: parent.regs.clone(),
  });
  if (!('tid' in t)) throw new Error(`clone failed: ${String(t)}`);
  return t;
}
