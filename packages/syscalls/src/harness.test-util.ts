import { isError, syscallByName, type LinuxError } from '@tsvisor/abi';
import { CpuState, FsContext, Kernel, ManualTime, SparseMemory, isControl, type Task } from '@tsvisor/kernel';
import { AddressSpace } from '@tsvisor/mm';
import { Tmpfs, Vfs } from '@tsvisor/vfs';
import type { PlatformPort } from '@tsvisor/kernel';
import { fileDescriptionRefs } from './vfs-context.js';
import { dispatch } from './dispatch.js';
import { createSyscallTable } from './index.js';
import type { SyscallResult } from './types.js';

/** Scratch memory every test may use. */
export const BUF = 0x10000;
export const BUF_SIZE = 0x10000;
/** An address nothing maps. */
export const BAD = 1;

export interface Harness {
  kernel: Kernel;
  task: Task;
  mem: SparseMemory;
  time: ManualTime;
  logs: string[];
  /** Runs a syscall by name with up to six arguments. */
  call(name: string, ...args: (number | bigint)[]): Promise<SyscallResult>;
  /** The same, for a raw number. */
  callNr(nr: number, ...args: (number | bigint)[]): Promise<SyscallResult>;
}

const table = createSyscallTable();

/** A sandbox kernel with pid 1 running over fake memory. */
export function harness(opts: { platform?: PlatformPort } = {}): Harness {
  const time = new ManualTime();
  const logs: string[] = [];
  const vfs = new Vfs(new Tmpfs());
  const kernel = new Kernel({
    time,
    log: (l) => logs.push(l),
    cpuCount: 2,
    vfs,
    fileRefs: fileDescriptionRefs() as never,
    ...(opts.platform ? { platform: opts.platform } : {}),
  });
  const root = vfs.rootLocation();
  const mem = new SparseMemory();
  mem.map(BUF, BUF_SIZE);
  mem.map(0x7ff000000000 - 0x20000, 0x20000);
  const task = kernel.spawnInit({
    mm: kernel.newAddressSpace(mem, new AddressSpace()),
    regs: CpuState.fresh(0x401000, 0x7ff000000000 - 0x100),
    comm: 'init',
    fs: new FsContext(0o022, root, root),
  }) as Task;
  const callNr = async (nr: number, ...args: (number | bigint)[]): Promise<SyscallResult> => {
    const a = [0, 1, 2, 3, 4, 5].map((i) => BigInt.asUintN(64, BigInt(args[i] ?? 0))) as unknown as [
      bigint,
      bigint,
      bigint,
      bigint,
      bigint,
      bigint,
    ];
    return dispatch(table, task, nr, a);
  };
  const call = (name: string, ...args: (number | bigint)[]): Promise<SyscallResult> => {
    const info = syscallByName(name);
    if (!info) throw new Error(`no syscall ${name}`);
    return callNr(info.nr, ...args);
  };
  return { kernel, task, mem, time, logs, call, callNr };
}

/** (return value, errno) as a C program sees a raw syscall. */
export function asC(r: SyscallResult): [number, number] {
  if (isError(r)) return [-1, (r as LinuxError).errno];
  if (isControl(r)) throw new Error(`control result ${String(r)}`);
  return [Number(BigInt.asIntN(64, BigInt(r))), 0];
}
