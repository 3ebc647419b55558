/**
 * The port for host-side effects: the few things the kernel cannot do by itself because they
 * change a host process (a stub) that runs sandboxed code. The runtime implements it over
 * `@tsvisor/trap-native`; tests use a recording fake.
 *
 * The kernel calls these only at the points where Linux would change the hardware state of a
 * process: after the memory model (`@tsvisor/mm`) has decided what an address space looks like,
 * when clone/fork creates a schedulable entity, when execve replaces the image, and when a task
 * must die. Policy (which pid, which signal, what the address space holds) stays in the kernel.
 *
 * Ordering across `await`: each method may complete asynchronously. The kernel awaits a
 * returned promise before it lets the affected task run again; it never calls two methods for
 * the same task concurrently.
 *
 * @module
 */
import type { LinuxError } from '@tsvisor/abi';
import type { CpuState } from './cpu-state.js';
import type { TaskMemory } from './task-memory.js';

/**
 * What the kernel knows of a task when it talks to the platform: a stable identity the runtime
 * maps to its host context (the kernel's `Task` satisfies it).
 */
export interface PlatformTask {
  /** Thread id in the sandbox pid namespace. */
  readonly tid: number;
  /** Thread-group id (the sandbox pid). */
  readonly tgid: number;
}

/** How a new schedulable entity relates to its creator's host process. */
export type HostCloneKind =
  /** A new host thread in the same host address space (`CLONE_VM`): threads, vfork children. */
  | 'thread'
  /** A host fork of the creator's stub: a copy-on-write copy of its address space (fork). */
  | 'fork';

/**
 * Host-side effects, generic over the memory-operation type of `@tsvisor/mm`'s host-operation
 * journal (`MemOp`), so the kernel does not interpret it.
 */
export interface PlatformPort<MemOp = unknown> {
  /**
   * Makes the host address space of `task` match the model: applies, in order, the operations
   * that `@tsvisor/mm` recorded (map anonymous or file-backed memory, unmap, protect, remap).
   * Returns `ENOMEM` (or the errno the host gave) if the host refused; the kernel then reports
   * it to the app as Linux would for the syscall that caused it.
   */
  applyMemoryOps(
    task: PlatformTask,
    ops: readonly MemOp[],
  ): undefined | LinuxError | Promise<undefined | LinuxError>;

  /**
   * Creates the host entity for `child`, a new task made by clone/fork/vfork of `parent`, whose
   * first run resumes with `cpu` (the kernel has already set the child's rax = 0, the new stack
   * and the new TLS). For `'thread'` the child shares `parent`'s host address space and the
   * result is `undefined`; for `'fork'` it gets a copy-on-write copy, and the result is the
   * {@link TaskMemory} of that new address space. `EAGAIN`/`ENOMEM` when the host cannot.
   */
  createTask(
    parent: PlatformTask,
    child: PlatformTask,
    kind: HostCloneKind,
    cpu: CpuState,
  ): TaskMemory | undefined | LinuxError | Promise<TaskMemory | undefined | LinuxError>;

  /**
   * Gives `task` a fresh, empty host address space for execve (other threads of its group are
   * already gone) and returns its {@link TaskMemory}. The task may still share its current host
   * address space with other tasks (a vfork child, or CLONE_VM without CLONE_THREAD): those keep
   * the old one, so the new space must be the task's alone (a new host process). The kernel then maps the new image through
   * {@link applyMemoryOps}, writes the stack and sets the registers.
   */
  execAddressSpace(task: PlatformTask): TaskMemory | LinuxError | Promise<TaskMemory | LinuxError>;

  /**
   * Ends the host entity of a task that has exited or been killed. The kernel has already done
   * all Linux bookkeeping; this only frees host resources. Never fails from the kernel's view.
   */
  destroyTask(task: PlatformTask): void | Promise<void>;

  /**
   * Residency of `pages` pages from page-aligned `start` in `task`'s host address space, one byte
   * per page as mincore(2) fills its vector (bit 0 set when the page is in memory). The kernel
   * calls it only for a range its memory model holds as fully mapped, while `task` is stopped in
   * a syscall: residency is the host's alone (the model sees no page faults or reclaim). A
   * platform without it makes mincore report every mapped page resident.
   */
  mincore?(
    task: PlatformTask,
    start: number,
    pages: number,
  ): Uint8Array | LinuxError | Promise<Uint8Array | LinuxError>;

  /**
   * A signal is pending for `task` while it may be running application code on the host: make
   * it enter the kernel soon (e.g. a host signal that makes the stub trap), so the kernel can
   * deliver. A task blocked in a syscall is woken by the kernel itself; this need not act then.
   */
  interruptTask?(task: PlatformTask): void;
}
