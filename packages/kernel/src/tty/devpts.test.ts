// devpts on a VFS with a kernel: pairs appear as /pts/N and go with their master; opening a
// slave gives a session leader its controlling terminal; job control from the background.
import { E, OpenFlag, Signal, isError } from '@tsvisor/abi';
import { ROOT_CREDS, S_IFCHR, S_IFMT, Tmpfs, Vfs, major, minor, type FileDescription } from '@tsvisor/vfs';
import { describe, expect, it } from 'vitest';
import { ERESTARTSYS } from '../control.js';
import { Kernel } from '../kernel.js';
import { CpuState } from '../ports/cpu-state.js';
import { SparseMemory } from '../ports/sparse-memory.js';
import type { Task } from '../task/task.js';
import { Devpts, PtyMaster, ttyOf } from './devpts.js';
import { controllingTty, ttyCheckChange } from './job-control.js';

function setup(): {
  vfs: Vfs;
  kernel: Kernel;
  init: Task;
  open: (path: string, flags?: number) => FileDescription;
} {
  const vfs = new Vfs(new Tmpfs());
  const ctx = vfs.rootContext(ROOT_CREDS);
  vfs.mkdirat(ctx, ctx.cwd, '/pts', 0o755);
  const kernel = new Kernel({ vfs, quietBoot: true, log: () => undefined });
  const devpts = new Devpts(kernel, vfs.devices);
  expect(isError(vfs.mount(ctx, ctx.cwd, '/pts', devpts, 0))).toBe(false);
  const init = kernel.spawnInit({
    mm: kernel.newAddressSpace(new SparseMemory(), undefined),
    regs: CpuState.fresh(0, 0),
    comm: 'init',
  });
  kernel.current = init;
  const open = (path: string, flags: number = OpenFlag.O_RDWR): FileDescription => {
    const f = vfs.openat(ctx, ctx.cwd, path, flags);
    if (isError(f)) throw new Error(`open ${path}: ${f.message}`);
    return f;
  };
  return { vfs, kernel, init, open };
}

describe('devpts', () => {
  it('ptmx makes pair N: /pts/N is character device 136:N, mode 0620, gone with the master', () => {
    const { vfs, open } = setup();
    const ctx = vfs.rootContext(ROOT_CREDS);
    const m0 = open('/pts/ptmx', OpenFlag.O_RDWR | OpenFlag.O_NOCTTY);
    const m1 = open('/pts/ptmx', OpenFlag.O_RDWR | OpenFlag.O_NOCTTY);
    expect(m0.impl).toBeInstanceOf(PtyMaster);
    const st = vfs.statat(ctx, ctx.cwd, '/pts/1', 0);
    if (isError(st)) throw new Error(st.message);
    expect(st.mode & S_IFMT).toBe(S_IFCHR);
    expect(st.mode & 0o7777).toBe(0o620);
    expect([major(st.rdev), minor(st.rdev)]).toEqual([136, 1]);
    m0.release();
    expect(vfs.statat(ctx, ctx.cwd, '/pts/0', 0)).toBe(E.ENOENT);
    // The freed number is used again.
    open('/pts/ptmx');
    expect(isError(vfs.statat(ctx, ctx.cwd, '/pts/0', 0))).toBe(false);
    m1.release();
  });

  it('refuses changes from users, as the lookup-only devpts root of Linux does', () => {
    const { vfs, open } = setup();
    const ctx = vfs.rootContext(ROOT_CREDS);
    open('/pts/ptmx');
    expect(vfs.mkdirat(ctx, ctx.cwd, '/pts/d', 0o755)).toBe(E.EPERM);
    expect(vfs.openat(ctx, ctx.cwd, '/pts/f', OpenFlag.O_CREAT | OpenFlag.O_RDWR, 0o644)).toBe(E.EACCES);
    expect(vfs.unlinkat(ctx, ctx.cwd, '/pts/0', 0)).toBe(E.EPERM);
    expect(isError(vfs.statat(ctx, ctx.cwd, '/pts/0', 0))).toBe(false);
  });

  it('a locked slave does not open (EIO); unlocked it does, and a slave end reports its pair', () => {
    const { vfs, open } = setup();
    const ctx = vfs.rootContext(ROOT_CREDS);
    const m = open('/pts/ptmx');
    expect(vfs.openat(ctx, ctx.cwd, '/pts/0', OpenFlag.O_RDWR | OpenFlag.O_NOCTTY)).toBe(E.EIO);
    const end = ttyOf(m);
    if (!end) throw new Error('not a pty');
    end.tty.locked = false;
    const s = open('/pts/0', OpenFlag.O_RDWR | OpenFlag.O_NOCTTY);
    expect(ttyOf(s)).toEqual({ tty: end.tty, master: false });
  });

  it('a session leader opening a slave without O_NOCTTY gets it as its controlling terminal', () => {
    const { init, open } = setup();
    const m = open('/pts/ptmx');
    const tty = ttyOf(m)?.tty;
    if (!tty) throw new Error('not a pty');
    tty.locked = false;
    open('/pts/0', OpenFlag.O_RDWR | OpenFlag.O_NOCTTY);
    expect(controllingTty(init.group)).toBeUndefined();
    open('/pts/0');
    expect(controllingTty(init.group)).toBe(tty);
    expect(tty.session?.sid).toBe(1);
    expect(tty.pgrp?.pgid).toBe(1);
  });

  it('a background group reading gets SIGTTIN (ERESTARTSYS), or EIO when it ignores SIGTTIN', () => {
    const { kernel, init, open } = setup();
    const m = open('/pts/ptmx');
    const tty = ttyOf(m)?.tty;
    if (!tty) throw new Error('not a pty');
    tty.locked = false;
    open('/pts/0');
    const child = kernel.clone(init, {
      flags: 0,
      exitSignal: Signal.SIGCHLD,
      regs: init.regs.clone(),
      mm: kernel.newAddressSpace(new SparseMemory(), undefined),
    });
    if (isError(child)) throw new Error(child.message);
    expect(ttyCheckChange(child, tty, Signal.SIGTTIN)).toBeUndefined(); // foreground
    expect(kernel.setpgid(child, 0, 0)).toBeUndefined();
    // init is the parent, and children of init never count for orphaning: a grandchild does.
    const grandchild = kernel.clone(child, {
      flags: 0,
      exitSignal: Signal.SIGCHLD,
      regs: child.regs.clone(),
      mm: kernel.newAddressSpace(new SparseMemory(), undefined),
    });
    if (isError(grandchild)) throw new Error(grandchild.message);
    expect(kernel.setpgid(grandchild, 0, 0)).toBeUndefined();
    expect(ttyCheckChange(grandchild, tty, Signal.SIGTTIN)).toBe(ERESTARTSYS);
    expect(grandchild.group.sharedPending.has(Signal.SIGTTIN)).toBe(true);
    grandchild.mask.add(Signal.SIGTTIN);
    expect(ttyCheckChange(grandchild, tty, Signal.SIGTTIN)).toBe(E.EIO);
    // A write without TOSTOP checking SIGTTOU while it is blocked goes on.
    grandchild.mask.add(Signal.SIGTTOU);
    expect(ttyCheckChange(grandchild, tty, Signal.SIGTTOU)).toBeUndefined();
  });

  it("the session leader's exit sends SIGHUP to the foreground group and frees the terminal", () => {
    const { kernel, init, open } = setup();
    const m = open('/pts/ptmx');
    const tty = ttyOf(m)?.tty;
    if (!tty) throw new Error('not a pty');
    tty.locked = false;
    const leader = kernel.clone(init, {
      flags: 0,
      exitSignal: Signal.SIGCHLD,
      regs: init.regs.clone(),
      mm: kernel.newAddressSpace(new SparseMemory(), undefined),
    });
    if (isError(leader)) throw new Error(leader.message);
    expect(kernel.setsid(leader)).toBe(leader.tgid);
    kernel.current = leader;
    open('/pts/0');
    expect(controllingTty(leader.group)).toBe(tty);
    const member = kernel.clone(leader, {
      flags: 0,
      exitSignal: Signal.SIGCHLD,
      regs: leader.regs.clone(),
      mm: kernel.newAddressSpace(new SparseMemory(), undefined),
    });
    if (isError(member)) throw new Error(member.message);
    // The member blocks SIGHUP so that it stays pending instead of killing it.
    member.mask.add(Signal.SIGHUP);
    kernel.exitGroup(leader, 0);
    expect(member.group.sharedPending.has(Signal.SIGHUP)).toBe(true);
    expect(tty.session).toBeUndefined();
    expect(controllingTty(member.group)).toBeUndefined();
  });
});

describe('README example (Terminals)', () => {
  it('runs as written', () => {
    const vfs = new Vfs(new Tmpfs());
    const ctx = vfs.rootContext(ROOT_CREDS);
    vfs.mkdirat(ctx, ctx.cwd, '/pts', 0o755);
    const kernel = new Kernel({ vfs, quietBoot: true });
    vfs.mount(ctx, ctx.cwd, '/pts', new Devpts(kernel, vfs.devices), 0);
    const master = vfs.openat(ctx, ctx.cwd, '/pts/ptmx', 2 /* O_RDWR */);
    if (isError(master)) throw new Error(master.message);
    const end = ttyOf(master);
    if (!end) throw new Error('not a pty');
    end.tty.masterWrite(new TextEncoder().encode('hi\n'));
    const buf = new Uint8Array(16);
    expect(end.tty.slaveRead(buf)).toBe(3);
    expect(new TextDecoder().decode(buf.subarray(0, 3))).toBe('hi\n');
    expect(end.tty.masterRead(buf)).toBe(4);
    expect(new TextDecoder().decode(buf.subarray(0, 4))).toBe('hi\r\n');
    expect(isError(vfs.statat(ctx, ctx.cwd, '/pts/0', 0))).toBe(false);
  });
});

describe('orphaned process groups', () => {
  it("a parent's exit that orphans a group with a stopped member sends it SIGHUP and SIGCONT", () => {
    const { kernel, init } = setup();
    const fork = (parent: Task): Task => {
      const c = kernel.clone(parent, {
        flags: 0,
        exitSignal: Signal.SIGCHLD,
        regs: parent.regs.clone(),
        mm: kernel.newAddressSpace(new SparseMemory(), undefined),
      });
      if (isError(c)) throw new Error(c.message);
      return c;
    };
    const parent = fork(init);
    const child = fork(parent);
    expect(kernel.setpgid(child, 0, 0)).toBeUndefined();
    child.mask.add(Signal.SIGHUP); // keep it pending rather than be killed by it
    kernel.stopGroup(child.group, Signal.SIGSTOP);
    expect(child.group.stopped).toBe(true);
    // A sibling group that is not stopped is left alone.
    const other = fork(parent);
    expect(kernel.setpgid(other, 0, 0)).toBeUndefined();
    other.mask.add(Signal.SIGHUP);
    kernel.exitGroup(parent, 0);
    expect(child.group.sharedPending.has(Signal.SIGHUP)).toBe(true);
    expect(child.group.stopped).toBe(false);
    expect(other.group.sharedPending.has(Signal.SIGHUP)).toBe(false);
  });
});
