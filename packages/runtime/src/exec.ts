/**
 * Starting a sandbox's first program: pid 1 is created with an empty address space, paired with
 * a fresh stub, and the kernel's own execve (`execTask` of `@tsvisor/kernel`, the same code the
 * execve(2) handler runs) loads the program into it: the binary and its PT_INTERP from the
 * sandbox VFS, the `@tsvisor/mm` model, the host mappings through the platform port, the stack.
 *
 * @module
 */
import { E, isError, type LinuxError } from '@tsvisor/abi';
import {
  CpuState,
  FsContext as TaskFs,
  execTask,
  isControl,
  type FdTable,
  type Kernel,
  type Task,
} from '@tsvisor/kernel';
import { AddressSpace as MmSpace } from '@tsvisor/mm';
import { STUB_REGION, type Task as HostTask } from '@tsvisor/trap-native';
import type { FileDescription, FsContext } from '@tsvisor/vfs';
import type { Machine } from './machine.js';
import { TrapMemory } from './trap-memory.js';

/** Where the initial stack ends: just below the stub's pages, which sit at the top of user space. */
export const STACK_TOP = STUB_REGION.start;

/**
 * Creates pid 1 on `host` (a fresh stub) and execs `path` into it with `argv` and `envp`, as if
 * it had called execve: `ctx` is the VFS context the path is resolved in (its cwd and root
 * become the task's). The task is paired with its host thread but not started (`machine.adopt`
 * does that). Errors are execve's (ENOENT, EACCES, ENOEXEC, E2BIG, ELIBBAD, ENOMEM...).
 */
export async function spawnFirstProgram(opts: {
  kernel: Kernel<FileDescription>;
  machine: Machine;
  host: HostTask;
  ctx: FsContext;
  files: FdTable<FileDescription>;
  path: string;
  argv: readonly string[];
  envp: readonly string[];
}): Promise<Task | LinuxError> {
  const { kernel, machine } = opts;
  const enc = new TextEncoder();
  const task = kernel.spawnInit({
    mm: kernel.newAddressSpace(new TrapMemory(opts.host), new MmSpace()),
    regs: new CpuState(),
    comm: commOf(opts.path),
    files: opts.files,
    fs: new TaskFs(0o022, opts.ctx.cwd, opts.ctx.root),
  });
  machine.attach(task as Task, opts.host);
  const r = await execTask(task as Task, {
    path: enc.encode(opts.path),
    argv: opts.argv.map((a) => enc.encode(a)),
    envp: opts.envp.map((e) => enc.encode(e)),
    ctx: opts.ctx,
    dir: opts.ctx.cwd,
  });
  if (isError(r)) return r;
  // A failure past the point of no return has killed pid 1 already; what remains is to say so.
  if (isControl(r)) return E.ENOMEM;
  const strace = machine.strace;
  strace?.emit(
    task.tid,
    strace.render(task.tid, 59, [r.execfnAddr, r.argvAddr, r.envpAddr], 0, (addr, len) =>
      task.memory.read(addr, len),
    ),
  );
  return task as Task;
}

/** The short name a task gets from its program path (comm: the last component, 15 bytes). */
function commOf(path: string): string {
  const slash = path.lastIndexOf('/');
  return path.slice(slash + 1).slice(0, 15);
}
