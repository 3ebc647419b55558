/**
 * Creating tasks: clone, clone3, fork, vfork. The kernel keeps the books (`Kernel.clone`), the
 * memory model is copied for a new process (`AddressSpace.fork`), and the platform creates the
 * host thread or forks the host process.
 *
 * @module
 */
import { CloneFlag, E, isError, type LinuxError } from '@tsvisor/abi';
import {
  SparseMemory,
  TASK_SIZE,
  WaitQueue,
  Waiter,
  type AddressSpace as KernelSpace,
  type Task,
} from '@tsvisor/kernel';
import type { AddressSpace } from '@tsvisor/mm';
import { FULL, partial, ptr, type SyscallArgs, type SyscallFamily, type SyscallResult } from './types.js';
import { inheritIoprio } from './sys-ioprio.js';
import { installPidfd } from './sys-pidfd.js';
import { filesOf } from './vfs-context.js';
import { inheritMembarrier } from './sys-membarrier.js';
import { newNetNamespace } from './sys-socket-file.js';
import { newUtsNamespace } from './sys-info.js';
import { inheritSched } from './sys-sched.js';

/** Options of one clone, as clone(2) and clone3(2) both describe it. */
interface CloneRequest {
  readonly flags: bigint;
  readonly exitSignal: number;
  /** New stack pointer (0: the parent's). */
  readonly stack: bigint;
  readonly parentTid: number;
  readonly childTid: number;
  readonly tls: bigint;
  /** Where CLONE_PIDFD stores the new pidfd (clone: parent_tid; clone3: the pidfd field). */
  readonly pidfd?: number;
}

const f = (name: keyof typeof CloneFlag): bigint => BigInt(CloneFlag[name]);

/** Flags tsvisor accepts and ignores, as they have no effect in a single-namespace sandbox. */
const IGNORED =
  f('CLONE_SYSVSEM') | f('CLONE_IO') | f('CLONE_PTRACE') | f('CLONE_UNTRACED') | f('CLONE_DETACHED');

async function doClone(t: Task, r: CloneRequest): Promise<SyscallResult> {
  const has = (name: keyof typeof CloneFlag): boolean => (r.flags & f(name)) !== 0n;
  // A pidfd for a thread (Linux 6.9's PIDFD_THREAD) is not supported (see the support note).
  if (has('CLONE_PIDFD') && has('CLONE_THREAD')) return E.EINVAL;
  // copy_process keeps CLONE_DETACHED for a future meaning of CLONE_PIDFD: the pair is EINVAL.
  if (has('CLONE_PIDFD') && has('CLONE_DETACHED')) return E.EINVAL;
  if (has('CLONE_SETTLS') && r.tls >= BigInt(TASK_SIZE)) return E.EPERM;
  const k = t.kernel;
  const regs = t.regs.clone();
  regs.set('rax', 0n);
  if (r.stack !== 0n) regs.set('rsp', r.stack);
  if (has('CLONE_SETTLS')) regs.set('fs_base', r.tls);

  const vm = has('CLONE_VM');
  let childSpace: KernelSpace | undefined;
  if (!vm) {
    const model = t.mm.model as AddressSpace | undefined;
    const childModel = model && typeof model.fork === 'function' ? model.fork() : undefined;
    // The host memory of the copy exists once the platform has forked; until then nothing is
    // reachable through it.
    childSpace = k.newAddressSpace(new SparseMemory(), childModel);
  }
  const child = k.clone(t, {
    flags: Number(r.flags & 0xffffff00n & ~IGNORED),
    exitSignal: r.exitSignal,
    regs,
    newNet: () => newNetNamespace(k),
    newUts: newUtsNamespace,
    ...(childSpace ? { mm: childSpace } : {}),
  });
  if (isError(child)) return child;
  inheritSched(t, child);
  inheritMembarrier(t, child);
  inheritIoprio(t, child);
  if (has('CLONE_CHILD_CLEARTID')) child.clearChildTid = r.childTid;
  const vfork = has('CLONE_VFORK');
  if (vfork) child.vforkDone = new WaitQueue();

  const platform = k.platform;
  if (platform) {
    const made = await platform.createTask(t, child, vm ? 'thread' : 'fork', child.regs);
    if (isError(made)) {
      k.discardTask(child);
      return made;
    }
    if (!vm && made) child.mm.memory = made;
    if (!vm) {
      // The host fork copied the parent's memory; the model's journal turns it into the child's.
      const childModel = child.mm.model as AddressSpace | undefined;
      const ops =
        childModel && typeof childModel.drainHostOps === 'function' ? childModel.drainHostOps() : [];
      if (ops.length > 0) {
        const e = await platform.applyMemoryOps(child, ops);
        if (e) return abort(t, child, e);
      }
    }
  } else if (!vm && childSpace) {
    // Bookkeeping-only kernels (no platform) give the child an empty address space.
    child.mm.memory = new SparseMemory();
  }
  if (has('CLONE_PIDFD')) {
    const fd = installPidfd(t, child.group);
    if (isError(fd)) return abort(t, child, fd);
    const e = t.memory.writeI32(r.pidfd ?? 0, fd);
    if (e) {
      filesOf(t).close(fd);
      return abort(t, child, e);
    }
  }
  if (has('CLONE_PARENT_SETTID')) {
    const e = t.memory.writeI32(r.parentTid, child.tid);
    if (e) return abort(t, child, e);
  }
  if (has('CLONE_CHILD_SETTID')) {
    const e = child.memory.writeI32(r.childTid, child.tid);
    if (e) return abort(t, child, e);
  }
  if (vfork) await waitVfork(t, child);
  return child.tid;
}

function abort(t: Task, child: Task, e: LinuxError): LinuxError {
  t.kernel.discardTask(child);
  void t.kernel.platform?.destroyTask(child);
  return e;
}

/** The vfork parent sleeps until the child execs or exits; only its own death ends it early. */
async function waitVfork(t: Task, child: Task): Promise<void> {
  const q = child.vforkDone;
  while (q && child.vforkDone === q && t.state === 'alive') {
    const w = new Waiter(undefined);
    q.add(w);
    t.exited.then(
      () => w.wake('interrupted'),
      () => undefined,
    );
    await w.promise;
  }
}

/** implements clone(2): x86-64 argument order (flags, stack, parent_tid, child_tid, tls). */
async function clone(t: Task, a: SyscallArgs): Promise<SyscallResult> {
  // clone(2) returns the pidfd through parent_tid, so the two cannot be asked for together.
  const both = BigInt(CloneFlag.CLONE_PIDFD | CloneFlag.CLONE_PARENT_SETTID);
  if ((a[0] & both) === both) return E.EINVAL;
  return doClone(t, {
    pidfd: ptr(a[2]),
    flags: a[0] & 0xffffffffn & ~0xffn,
    exitSignal: Number(a[0] & 0xffn),
    stack: a[1],
    parentTid: ptr(a[2]),
    childTid: ptr(a[3]),
    tls: a[4],
  });
}

/** implements fork(2). */
function fork(t: Task): Promise<SyscallResult> {
  return doClone(t, { flags: 0n, exitSignal: 17, stack: 0n, parentTid: 0, childTid: 0, tls: 0n });
}

/** implements vfork(2). */
function vfork(t: Task): Promise<SyscallResult> {
  return doClone(t, {
    flags: f('CLONE_VM') | f('CLONE_VFORK'),
    exitSignal: 17,
    stack: 0n,
    parentTid: 0,
    childTid: 0,
    tls: 0n,
  });
}

/** `CLONE_ARGS_SIZE_VER0`: the smallest struct clone_args. */
const CLONE_ARGS_SIZE_VER0 = 64;

/**
 * implements clone3(2): `EINVAL` for a size below 64, an exit signal above 64, a stack without a
 * size or CLONE_CLEAR_SIGHAND with CLONE_SIGHAND; `E2BIG` for a size above a page with non-zero
 * tail; set_tid and cgroups are not supported.
 */
async function clone3(t: Task, a: SyscallArgs): Promise<SyscallResult> {
  const sz = Number(a[1] > 8192n ? 8192n : a[1]);
  if (sz < CLONE_ARGS_SIZE_VER0) return E.EINVAL;
  if (sz > 4096) return E.E2BIG;
  const raw = t.memory.read(ptr(a[0]), sz);
  if (isError(raw)) return raw;
  const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const u = (i: number): bigint => (i * 8 + 8 <= sz ? v.getBigUint64(i * 8, true) : 0n);
  // Fields past the ones this kernel knows must be zero.
  for (let i = 88; i < sz; i++) if (raw[i] !== 0) return E.E2BIG;
  const flags = u(0);
  const exitSignal = u(4);
  const stack = u(5);
  const stackSize = u(6);
  const setTidSize = u(9);
  const cgroup = u(10);
  if (exitSignal > 64n) return E.EINVAL;
  // clone3_args_valid, in its order: flag bits beyond the legacy 32 other than CLEAR_SIGHAND and
  // INTO_CGROUP, CLONE_DETACHED and the CSIGNAL bits (exit_signal has its own field).
  if (flags & ~(0xffffffffn | f('CLONE_CLEAR_SIGHAND') | f('CLONE_INTO_CGROUP'))) return E.EINVAL;
  if (flags & f('CLONE_DETACHED')) return E.EINVAL;
  if ((flags & 0xffn) !== 0n) return E.EINVAL;
  if ((stack === 0n) !== (stackSize === 0n)) return E.EINVAL;
  if (setTidSize !== 0n) return E.EINVAL;
  if (flags & f('CLONE_INTO_CGROUP') || cgroup !== 0n) return E.EINVAL;
  if (flags & f('CLONE_CLEAR_SIGHAND') && flags & f('CLONE_SIGHAND')) return E.EINVAL;
  const r = await doClone(t, {
    flags: flags & 0xffffffffn,
    exitSignal: Number(exitSignal),
    stack: stack === 0n ? 0n : stack + stackSize,
    parentTid: ptr(u(3)),
    childTid: ptr(u(2)),
    tls: u(7),
    pidfd: ptr(u(1)),
  });
  if (typeof r === 'number' && flags & f('CLONE_CLEAR_SIGHAND')) {
    const child = t.kernel.task(r);
    if (child) {
      for (let s = 1; s <= 64; s++) {
        const act = child.group.actions.get(s);
        if (act.handler > 1n)
          child.group.actions.set(s, { handler: 0n, flags: 0, restorer: 0n, mask: act.mask });
      }
    }
  }
  return r;
}

/** Task-creation syscalls. */
export const cloneSyscalls: SyscallFamily = {
  clone: {
    handler: clone,
    support: partial(
      'CLONE_PIDFD not with CLONE_THREAD; namespace flags but CLONE_NEWNET and CLONE_NEWUTS answer EPERM',
    ),
  },
  clone3: { handler: clone3, support: partial('no set_tid, no cgroups; CLONE_PIDFD not with CLONE_THREAD') },
  fork: { handler: fork, support: FULL },
  vfork: { handler: vfork, support: FULL },
};
