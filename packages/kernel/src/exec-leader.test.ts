import { E, Signal, WaitOption } from '@tsvisor/abi';
import { describe, expect, it } from 'vitest';
import { bootTestKernel, forkOf, threadOf } from './kernel.test-util.js';

/** What execTask does past its point of no return, for the identity: de_thread's two halves. */
function deThread(kernel: ReturnType<typeof bootTestKernel>['kernel'], t: ReturnType<typeof threadOf>): void {
  for (const other of [...t.group.tasks]) if (other !== t) kernel.exitThread(other as typeof t, 0);
  kernel.takeOverLeader(t);
}

describe('exec by a thread that is not the leader (de_thread)', () => {
  it("gives the exec'ing thread the leader's tid and frees its own", () => {
    const { kernel, init, time } = bootTestKernel();
    const child = forkOf(kernel, init);
    time.advance(5_000_000n);
    const th = threadOf(kernel, child);
    const other = threadOf(kernel, child);
    const pid = child.tgid;
    const oldTid = th.tid;
    expect(oldTid).not.toBe(pid);
    expect(th.startNs).not.toBe(child.startNs);

    deThread(kernel, th);

    expect(th.tid).toBe(pid);
    expect(th.tgid).toBe(pid);
    expect(th.group.leader).toBe(th);
    expect(th.startNs).toBe(child.startNs);
    expect(child.state).toBe('exited');
    expect(other.state).toBe('exited');
    expect(kernel.task(pid)).toBe(th);
    expect(kernel.task(oldTid)).toBeUndefined();
    expect(kernel.allTasks().filter((t) => t.tgid === pid)).toEqual([th]);
    // Signals addressed to the old tid find nobody; the pid reaches the exec'ing thread.
    expect(kernel.tgkill(init, pid, oldTid, 0)).toBe(E.ESRCH);
    expect(kernel.tgkill(init, -1, oldTid, 0)).toBe(E.ESRCH);
    expect(kernel.kill(init, oldTid, 0)).toBe(E.ESRCH);
    th.mask.add(Signal.SIGUSR1); // pending, not fatal
    expect(kernel.tgkill(init, pid, pid, Signal.SIGUSR1)).toBeUndefined();
    expect(th.pending.set.has(Signal.SIGUSR1)).toBe(true);
    // The process is the one its parent forked: its exit is reported under the same pid.
    expect(child.group.state).toBe('alive');
    kernel.exitThread(th, 9);
    expect(kernel.task(pid)).toBeUndefined();
    expect(kernel.tryWait(init, { kind: 'pid', pid }, WaitOption.WEXITED)).toMatchObject({
      pid,
      status: 9 << 8,
    });
  });

  it('takes over a leader that exited before the exec (a zombie leader)', () => {
    const { kernel, init } = bootTestKernel();
    const child = forkOf(kernel, init);
    const th = threadOf(kernel, child);
    const pid = child.tgid;
    const oldTid = th.tid;
    kernel.exitThread(child, 0);
    expect(child.state).toBe('exited');
    expect(th.group.state).toBe('alive');

    deThread(kernel, th);

    expect(th.tid).toBe(pid);
    expect(kernel.task(pid)).toBe(th);
    expect(kernel.task(oldTid)).toBeUndefined();
    expect(kernel.tgkill(init, pid, pid, 0)).toBeUndefined();
  });

  it('changes nothing when the leader execs', () => {
    const { kernel, init } = bootTestKernel();
    const child = forkOf(kernel, init);
    const th = threadOf(kernel, child);
    const thTid = th.tid;
    deThread(kernel, child);
    expect(child.tid).toBe(child.tgid);
    expect(kernel.task(child.tgid)).toBe(child);
    expect(th.state).toBe('exited');
    expect(kernel.task(thTid)).toBeUndefined();
  });

  it('refuses (a bug) while other threads of the process live', () => {
    const { kernel, init } = bootTestKernel();
    const child = forkOf(kernel, init);
    const th = threadOf(kernel, child);
    expect(() => kernel.takeOverLeader(th)).toThrow();
    expect(th.tid).not.toBe(child.tgid);
  });
});
