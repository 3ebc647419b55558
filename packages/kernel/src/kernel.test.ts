import { CldCode, E, SaFlag, SigSet, Signal, WaitOption } from '@tsvisor/abi';
import { describe, expect, it } from 'vitest';
import { ERESTARTSYS } from './control.js';
import { FutexTable } from './futex.js';
import { bootTestKernel, forkOf, threadOf } from './kernel.test-util.js';
import { SIG_IGN } from './signal/signal-state.js';

const WEXITED = WaitOption.WEXITED;

describe('pid namespace and clone', () => {
  it('numbers the first program 1 and its children upwards', () => {
    const { kernel, init } = bootTestKernel();
    expect(init.tid).toBe(1);
    expect(init.tgid).toBe(1);
    expect(init.group.session.sid).toBe(1);
    const c = forkOf(kernel, init);
    expect(c.tgid).toBe(2);
    expect(c.group.parent).toBe(init.group);
    expect(c.group.pgrp).toBe(init.group.pgrp);
    const th = threadOf(kernel, c);
    expect(th.tid).toBe(3);
    expect(th.tgid).toBe(2);
    expect(th.files).toBe(c.files);
    expect(c.files).not.toBe(init.files);
  });

  it('validates clone flag combinations like Linux', () => {
    const { kernel, init } = bootTestKernel();
    const regs = init.regs.clone();
    expect(kernel.clone(init, { flags: 0x10000, exitSignal: 0, regs })).toBe(E.EINVAL); // THREAD without SIGHAND
    expect(kernel.clone(init, { flags: 0x800, exitSignal: 0, regs })).toBe(E.EINVAL); // SIGHAND without VM
    expect(kernel.clone(init, { flags: 0x100, exitSignal: 65, regs })).toBe(E.EINVAL);
    expect(kernel.clone(init, { flags: 0x100 | 0x20000000, exitSignal: 17, regs })).toBe(E.EPERM); // NEWPID
    expect(kernel.clone(init, { flags: 0x100 | 0x8000, exitSignal: 17, regs })).toBe(E.EINVAL); // init has no parent
  });

  it('CLONE_NEWNET gives the child the namespace newNet makes; children and threads hold theirs until they go', () => {
    const { kernel, init } = bootTestKernel();
    const regs = init.regs.clone();
    const refs: number[] = [];
    const net = {
      inum: 0xf0000123,
      n: 0,
      get: () => void refs.push(++net.n),
      put: () => void refs.push(--net.n),
    };
    const NEWNET = 0x40000000;
    expect(kernel.clone(init, { flags: 0x100 | NEWNET, exitSignal: 17, regs })).toBe(E.EPERM); // no newNet
    const c = kernel.clone(init, { flags: 0x100 | NEWNET, exitSignal: 17, regs, newNet: () => net });
    if (typeof c !== 'object' || !('tid' in c)) throw new Error('clone failed');
    expect(init.netns).toBeUndefined();
    expect(c.netns).toBe(net);
    const th = threadOf(kernel, c);
    expect(th.netns).toBe(net);
    expect(net.n).toBe(2);
    kernel.exitGroup(c, 0);
    expect(net.n).toBe(0);
    expect(refs).toEqual([1, 2, 1, 0]);
    init.group.creds = { ...init.group.creds, euid: 1000, permitted: 0n, effective: 0n };
    expect(kernel.clone(init, { flags: 0x100 | NEWNET, exitSignal: 17, regs, newNet: () => net })).toBe(
      E.EPERM,
    );
  });

  it("CLONE_NEWUTS gives the child a copy of its parent's UTS namespace, freed when the child goes", () => {
    const { kernel, init } = bootTestKernel();
    const regs = init.regs.clone();
    const NEWUTS = 0x04000000;
    expect(kernel.clone(init, { flags: 0x100 | NEWUTS, exitSignal: 17, regs })).toBe(E.EPERM); // no newUts
    let freed = 0;
    const c = kernel.clone(init, {
      flags: 0x100 | NEWUTS,
      exitSignal: 17,
      regs,
      newUts: (parent) => parent.copy(0xf0000124, () => freed++),
    });
    if (typeof c !== 'object' || !('tid' in c)) throw new Error('clone failed');
    expect(init.uts).toBe(kernel.uts);
    expect(c.uts.inum).toBe(0xf0000124);
    expect(c.uts.setHostname(new TextEncoder().encode('inner'))).toBeUndefined();
    expect([c.uts.uname().nodename, kernel.uts.uname().nodename]).toEqual(['inner', 'tsvisor']);
    expect(threadOf(kernel, c).uts).toBe(c.uts);
    kernel.exitGroup(c, 0);
    expect(freed).toBe(1);
  });
});

describe('exit and wait', () => {
  it('keeps a process killed while a clone of it waited for the host, for its parent to wait', () => {
    const { kernel, init } = bootTestKernel();
    const c = forkOf(kernel, init);
    const other = threadOf(kernel, c);
    // clone made the thread's task, then waits for its host thread; meanwhile another thread
    // calls exit_group, and the host side then fails (the process's host memory is gone).
    const cloned = threadOf(kernel, c);
    kernel.exitGroup(other, 5);
    kernel.discardTask(cloned);
    expect(kernel.tryWait(init, { kind: 'pid', pid: c.tgid }, WEXITED)).toMatchObject({ status: 5 << 8 });
    // A clone undone in a live process still leaves no trace.
    const d = forkOf(kernel, init);
    const undone = threadOf(kernel, d);
    kernel.discardTask(undone);
    expect(d.group.tasks.size).toBe(1);
    expect(kernel.task(undone.tid)).toBeUndefined();
    const e = forkOf(kernel, init);
    kernel.discardTask(e);
    expect(kernel.tryWait(init, { kind: 'pid', pid: e.tgid }, WEXITED)).toBe(E.ECHILD);
  });

  it('reports an exit status once, then ECHILD', async () => {
    const { kernel, init } = bootTestKernel();
    const c = forkOf(kernel, init);
    kernel.exitGroup(c, 42);
    const r = kernel.tryWait(init, { kind: 'any' }, WEXITED);
    expect(r).toMatchObject({ pid: 2, status: 42 << 8, code: CldCode.CLD_EXITED, siStatus: 42 });
    expect(kernel.tryWait(init, { kind: 'any' }, WEXITED)).toBe(E.ECHILD);
    expect(kernel.threadGroup(2)).toBeUndefined();
  });

  it('WNOHANG says none while children run; WNOWAIT leaves the zombie', () => {
    const { kernel, init } = bootTestKernel();
    const c = forkOf(kernel, init);
    expect(kernel.tryWait(init, { kind: 'any' }, WEXITED | WaitOption.WNOHANG)).toBe('none');
    kernel.exitThread(c, 3);
    expect(kernel.tryWait(init, { kind: 'pid', pid: 2 }, WEXITED | WaitOption.WNOWAIT)).toMatchObject({
      status: 3 << 8,
    });
    expect(kernel.tryWait(init, { kind: 'pid', pid: 2 }, WEXITED)).toMatchObject({ status: 3 << 8 });
    expect(kernel.tryWait(init, { kind: 'pid', pid: 99 }, WEXITED)).toBe(E.ECHILD);
    expect(kernel.tryWait(init, { kind: 'any' }, 0)).toBe(E.EINVAL);
    expect(kernel.tryWait(init, { kind: 'any' }, WEXITED | 0x100)).toBe(E.EINVAL);
  });

  it('distinguishes clone children (__WCLONE, __WALL)', () => {
    const { kernel, init } = bootTestKernel();
    const c = forkOf(kernel, init, 0);
    kernel.exitGroup(c, 1);
    expect(kernel.tryWait(init, { kind: 'any' }, WEXITED)).toBe(E.ECHILD);
    expect(kernel.tryWait(init, { kind: 'any' }, WEXITED | WaitOption.__WCLONE)).toMatchObject({ pid: 2 });
  });

  it('a blocked wait4 wakes when a child exits, and a signal interrupts it', async () => {
    const { kernel, init } = bootTestKernel();
    const c = forkOf(kernel, init);
    const waiting = kernel.waitChild(init, { kind: 'any' }, WEXITED);
    expect(init.blocked).toBe(true);
    kernel.exitGroup(c, 7);
    expect(await waiting).toMatchObject({ pid: 2, status: 7 << 8 });

    forkOf(kernel, init);
    init.group.actions.set(Signal.SIGUSR1, {
      handler: 0x401000n,
      flags: SaFlag.SA_RESTORER,
      restorer: 0n,
      mask: new SigSet(),
    });
    const again = kernel.waitChild(init, { kind: 'any' }, WEXITED);
    kernel.sendToGroup(init.group, { signo: Signal.SIGUSR1, code: 0 });
    expect(await again).toBe(ERESTARTSYS);
  });

  it('sends SIGCHLD to the parent, or reaps at once when the parent ignores it', () => {
    const { kernel, init } = bootTestKernel();
    const c = forkOf(kernel, init);
    init.group.actions.set(Signal.SIGCHLD, {
      handler: 0x401000n,
      flags: 0,
      restorer: 0n,
      mask: new SigSet(),
    });
    kernel.exitGroup(c, 0);
    expect(init.group.sharedPending.has(Signal.SIGCHLD)).toBe(true);
    const info = init.group.sharedPending.take(Signal.SIGCHLD);
    expect(info).toMatchObject({ code: CldCode.CLD_EXITED, pid: 2, status: 0 });
    expect(kernel.tryWait(init, { kind: 'any' }, WEXITED)).toMatchObject({ pid: 2 });

    init.group.actions.set(Signal.SIGCHLD, { handler: SIG_IGN, flags: 0, restorer: 0n, mask: new SigSet() });
    const d = forkOf(kernel, init);
    kernel.exitGroup(d, 0);
    expect(kernel.tryWait(init, { kind: 'any' }, WEXITED)).toBe(E.ECHILD);
  });

  it('reparents orphans to pid 1', () => {
    const { kernel, init } = bootTestKernel();
    const parent = forkOf(kernel, init);
    const grandchild = forkOf(kernel, parent);
    kernel.exitGroup(parent, 0);
    expect(grandchild.group.parent).toBe(init.group);
    kernel.exitGroup(grandchild, 5);
    expect(kernel.tryWait(init, { kind: 'pid', pid: grandchild.tgid }, WEXITED)).toMatchObject({
      status: 5 << 8,
    });
  });

  it('a process ends when its last thread exits, with the code of that exit', () => {
    const { kernel, init } = bootTestKernel();
    const c = forkOf(kernel, init);
    const th = threadOf(kernel, c);
    kernel.exitThread(c, 1);
    expect(c.group.state).toBe('alive');
    expect(kernel.tryWait(init, { kind: 'any' }, WEXITED | WaitOption.WNOHANG)).toBe('none');
    kernel.exitThread(th, 9);
    expect(kernel.tryWait(init, { kind: 'any' }, WEXITED)).toMatchObject({ status: 9 << 8 });
  });

  it('clears and futex-wakes the child tid word when a thread exits', async () => {
    const { kernel, init, mem } = bootTestKernel();
    const th = threadOf(kernel, init);
    th.clearChildTid = 0x10100;
    mem.writeU32(0x10100, th.tid);
    const waiter = kernel.futexes.enqueue(FutexTable.key(init.mm.id, 0x10100));
    kernel.exitThread(th, 0);
    expect(mem.readU32(0x10100)).toBe(0);
    expect(await waiter.promise).toBe('notified');
  });

  it('resolves initExited with pid 1 status, killing the rest', async () => {
    const { kernel, init } = bootTestKernel();
    const c = forkOf(kernel, init);
    kernel.exitGroup(init, 3);
    expect(await kernel.initExited).toBe(3 << 8);
    expect(c.state).toBe('exited');
  });
});

describe('signals: sending', () => {
  it('SIGKILL and unhandled fatal signals kill the whole group at once', () => {
    const { kernel, init } = bootTestKernel();
    const c = forkOf(kernel, init);
    const th = threadOf(kernel, c);
    kernel.sendToGroup(c.group, { signo: Signal.SIGTERM, code: 0 });
    expect(th.state).toBe('exited');
    expect(kernel.tryWait(init, { kind: 'any' }, WEXITED)).toMatchObject({
      status: Signal.SIGTERM,
      code: CldCode.CLD_KILLED,
    });
    const d = forkOf(kernel, init);
    kernel.sendToGroup(d.group, { signo: Signal.SIGQUIT, code: 0 });
    expect(kernel.tryWait(init, { kind: 'any' }, WEXITED)).toMatchObject({
      status: Signal.SIGQUIT | 0x80,
      code: CldCode.CLD_DUMPED,
    });
  });

  it('blocked signals stay pending; ignored ones are dropped', () => {
    const { kernel, init } = bootTestKernel();
    const c = forkOf(kernel, init);
    c.mask.add(Signal.SIGTERM);
    kernel.sendToGroup(c.group, { signo: Signal.SIGTERM, code: 0 });
    expect(c.state).toBe('alive');
    expect(c.group.sharedPending.has(Signal.SIGTERM)).toBe(true);
    kernel.sendToGroup(c.group, { signo: Signal.SIGWINCH, code: 0 });
    expect(c.group.sharedPending.has(Signal.SIGWINCH)).toBe(false);
  });

  it('stop and continue notify the parent for WUNTRACED / WCONTINUED', () => {
    const { kernel, init } = bootTestKernel();
    const c = forkOf(kernel, init);
    kernel.stopGroup(c.group, Signal.SIGTSTP);
    expect(kernel.tryWait(init, { kind: 'any' }, WEXITED | WaitOption.WNOHANG)).toBe('none');
    expect(kernel.tryWait(init, { kind: 'any' }, WEXITED | WaitOption.WSTOPPED)).toMatchObject({
      status: (Signal.SIGTSTP << 8) | 0x7f,
      code: CldCode.CLD_STOPPED,
    });
    kernel.sendToGroup(c.group, { signo: Signal.SIGCONT, code: 0 });
    expect(c.group.stopped).toBe(false);
    expect(kernel.tryWait(init, { kind: 'any' }, WEXITED | WaitOption.WCONTINUED)).toMatchObject({
      status: 0xffff,
    });
  });

  it('kill(2) targets processes, groups and everyone, with permission checks', () => {
    const { kernel, init } = bootTestKernel();
    const a = forkOf(kernel, init);
    const b = forkOf(kernel, init);
    expect(kernel.kill(init, 99, Signal.SIGTERM)).toBe(E.ESRCH);
    expect(kernel.kill(init, 2, 65)).toBe(E.EINVAL);
    expect(kernel.kill(init, 2, 0)).toBeUndefined();
    b.group.creds = { ...b.group.creds, uid: 1000, euid: 1000, suid: 1000, permitted: 0n, effective: 0n };
    a.group.creds = { ...a.group.creds, uid: 1001, euid: 1001, suid: 1001, permitted: 0n, effective: 0n };
    expect(kernel.kill(b, a.tgid, Signal.SIGTERM)).toBe(E.EPERM);
    expect(kernel.kill(init, -1, Signal.SIGKILL)).toBeUndefined();
    expect(a.state).toBe('exited');
    expect(b.state).toBe('exited');
    expect(init.state).toBe('alive');
  });

  it('tgkill checks the thread group', () => {
    const { kernel, init } = bootTestKernel();
    const c = forkOf(kernel, init);
    expect(kernel.tgkill(init, 1, c.tid, Signal.SIGUSR1)).toBe(E.ESRCH);
    expect(kernel.tgkill(init, 0, c.tid, Signal.SIGUSR1)).toBe(E.EINVAL);
    c.mask.add(Signal.SIGUSR1);
    expect(kernel.tgkill(init, c.tgid, c.tid, Signal.SIGUSR1)).toBeUndefined();
    expect(c.pending.has(Signal.SIGUSR1)).toBe(true);
  });
});

describe('process groups and sessions', () => {
  it('follows setpgid/setsid rules', () => {
    const { kernel, init } = bootTestKernel();
    const c = forkOf(kernel, init);
    expect(kernel.setsid(init)).toBe(E.EPERM); // already a group leader
    expect(kernel.setpgid(init, c.tgid, 0)).toBeUndefined();
    expect(c.group.pgrp.pgid).toBe(c.tgid);
    expect(kernel.setpgid(init, c.tgid, 77)).toBe(E.EPERM);
    expect(kernel.setpgid(init, 99, 0)).toBe(E.ESRCH);
    expect(kernel.setpgid(init, 0, -1)).toBe(E.EINVAL);
    const d = forkOf(kernel, init);
    expect(kernel.setsid(d)).toBe(d.tgid);
    expect(kernel.getsid(d, 0)).toBe(d.tgid);
    expect(kernel.setpgid(init, d.tgid, 0)).toBe(E.EPERM); // other session
    c.group.didExec = true;
    expect(kernel.setpgid(init, c.tgid, 1)).toBe(E.EACCES);
    expect(kernel.getpgid(init, 12345)).toBe(E.ESRCH);
  });
});

describe('robust futexes', () => {
  it('marks locks held by a dying thread FUTEX_OWNER_DIED and wakes a waiter', async () => {
    const { kernel, init, mem } = bootTestKernel();
    const th = threadOf(kernel, init);
    // robust_list_head at 0x10000: { next, futex_offset, pending }; one lock entry at 0x10100
    // whose futex word sits 16 bytes after the entry.
    mem.writeU64(0x10000, 0x10100n);
    mem.writeU64(0x10008, 16n);
    mem.writeU64(0x10010, 0n);
    mem.writeU64(0x10100, 0x10000n);
    mem.writeU32(0x10110, (0x80000000 | th.tid) >>> 0);
    th.robustList = { head: 0x10000, len: 24 };
    const waiter = kernel.futexes.enqueue(FutexTable.key(init.mm.id, 0x10110));
    kernel.exitThread(th, 0);
    expect(mem.readU32(0x10110)).toBe(0xc0000000);
    expect(await waiter.promise).toBe('notified');
  });
});

describe('wait4 and SIGCHLD together', () => {
  it('returns the child even when its SIGCHLD (with a handler) interrupts the wait', async () => {
    const { kernel, init } = bootTestKernel();
    init.group.actions.set(Signal.SIGCHLD, {
      handler: 0x401000n,
      flags: 0,
      restorer: 0n,
      mask: new SigSet(),
    });
    const c = forkOf(kernel, init);
    const waiting = kernel.waitChild(init, { kind: 'any' }, WEXITED);
    kernel.exitGroup(c, 4);
    expect(await waiting).toMatchObject({ pid: c.tgid, status: 4 << 8 });
  });
});
