// The host reports a thread-group leader's death only after every other thread of its process is
// reaped, and only the tracer's thread reaps: a wait for a leader while another thread is left
// unreaped blocks the supervisor for good. Two ways into that are checked here.
//
// Killing a process while a helper thread holds the stop of one of its threads: the helper's
// wait returned (the thread stopped at a syscall) but the event loop has not taken the result
// yet. The kill must still reap that thread; before, it was skipped as "a waiter collects it",
// and the wait for the process's leader, whose death the host reports only after all its threads
// are reaped, never returned (the supervisor hung: tsvisor's exit_group hang with many threads).
// Running exit in a leader whose threads live is refused (EINVAL) instead of hanging. A leader
// killed from outside while the tracer waits for it gets its stopped threads reaped by the
// watchdog thread. And stopped tasks killed from outside, which no wait of the platform sees,
// are found by reapStopped().
// A hang cannot fail a test from inside, so each case runs in a child Node process (the built
// package) with a time limit, like teardown.test.ts.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isError } from '@tsvisor/abi';
import { Platform } from './platform.js';

const dist = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'index.js');

/** Runs an ES module script in a child Node process, killed after 15 s; its stdout and signal. */
async function runScript(script: string): Promise<{ out: string; signal: NodeJS.Signals | null }> {
  const node = spawn(process.execPath, ['--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  node.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const timer = setTimeout(() => node.kill('SIGKILL'), 15_000);
  const signal = await new Promise<NodeJS.Signals | null>((r) => node.on('exit', (_code, sig) => r(sig)));
  clearTimeout(timer);
  return { out, signal };
}

describe('kill while a helper thread holds a stop', () => {
  it('reaps the thread and reports its death to the pending switch()', async () => {
    const script = `
      import { readFileSync } from 'node:fs';
      import { Platform } from ${JSON.stringify(dist)};
      const platform = Platform.create();
      const stub = platform.createStub();
      const leader = stub.task;
      // start: mov ecx, 300000000; loop: dec ecx; jnz loop; mov eax, 39 (getpid); syscall; jmp start
      // (about 0.1 s of spinning: far beyond the synchronous wait budget even when this process
      // is descheduled in the middle of that wait, as on a loaded machine, where 30000000 once
      // let the getpid arrive within the wait and switch() return it at once)
      const code = Uint8Array.from([
        0xb9, 0x00, 0xa3, 0xe1, 0x11, 0xff, 0xc9, 0x75, 0xfc,
        0xb8, 0x27, 0, 0, 0, 0x0f, 0x05, 0xeb, 0xee,
      ]);
      const at = leader.hostSyscall(9, 0x400000, 4096, 7, 0x32, -1, 0);
      leader.writeMemory(at, code);
      const thread = leader.newThread();
      const regs = thread.getRegs();
      regs.set('rip', at);
      thread.setRegs(regs);
      // The first switch() of a run starts on the next turn of the event loop (the platform's
      // quantum): let it. The spin outlasts the synchronous wait budget, so a helper thread
      // then waits for the stop.
      const pending = thread.switch();
      await new Promise((r) => setImmediate(r));
      // Block this thread (no turn of the event loop) until the thread stopped at its getpid
      // (/proc shows the syscall), then a little longer for the helper to take that stop (longer
      // than it needs on an idle machine).
      const nap = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
      const syscallOf = () =>
        readFileSync('/proc/' + leader.tid + '/task/' + thread.tid + '/syscall', 'utf8').split(' ')[0];
      let state = syscallOf();
      for (let i = 0; i < 500 && state !== '39'; i++) {
        nap(10);
        state = syscallOf();
      }
      nap(200);
      leader.kill();
      const ev = await pending;
      console.log(JSON.stringify({ state, ev }));
      platform.close();
    `;
    const got = await runScript(script);
    expect(got.signal).toBe(null); // SIGKILL: the supervisor hung in the kill
    // The thread was stopped at its getpid (39) when the kill came, and its pending switch()
    // resolves with its death.
    expect(JSON.parse(got.out)).toEqual({ state: '39', ev: { kind: 'killed', signo: 9, coreDumped: false } });
  });
});

describe('exit of a leader', () => {
  it('is refused while another thread of its process lives, and runs once none does', async () => {
    const script = `
      import { Platform } from ${JSON.stringify(dist)};
      const platform = Platform.create();
      const stub = platform.createStub();
      const leader = stub.task;
      const thread = leader.newThread();
      let refused = '';
      try {
        leader.hostSyscall(60, 0);
      } catch (e) {
        refused = e.code;
      }
      const threadExit = thread.hostSyscall(60, 0);
      const leaderExit = leader.hostSyscall(60, 0);
      const ev = await leader.switch();
      console.log(JSON.stringify({ refused, threadExit, leaderExit, ev }));
      platform.close();
    `;
    const got = await runScript(script);
    expect(got.signal).toBe(null);
    // Each exit ends its thread (-ESRCH: the task is gone, its next switch() reports it).
    expect(JSON.parse(got.out)).toEqual({
      refused: 'EINVAL',
      threadExit: -3,
      leaderExit: -3,
      ev: { kind: 'exited', status: 0 },
    });
  });
});

describe('a leader killed from outside while the platform waits for it', () => {
  it('is reported once its stopped threads are reaped for it', async () => {
    // An injected call that takes a while (a 2 s nanosleep) keeps the tracer's thread in its
    // wait for the leader; the process is SIGKILLed meanwhile, with its other thread stopped.
    const script = `
      import { spawn } from 'node:child_process';
      import { Platform } from ${JSON.stringify(dist)};
      const platform = Platform.create();
      const stub = platform.createStub();
      const leader = stub.task;
      const thread = leader.newThread();
      const at = leader.hostSyscall(9, 0x400000, 4096, 3, 0x32, -1, 0);
      leader.writeMemory(at, new Uint8Array(new BigInt64Array([2n, 0n]).buffer));
      spawn('sh', ['-c', 'sleep 0.3; kill -9 ' + leader.tgid], { stdio: 'ignore' });
      const started = performance.now();
      const r = leader.hostSyscall(35, at, 0);
      const early = performance.now() - started < 1500;
      console.log(JSON.stringify({ r, early, thread: await thread.switch(), leader: await leader.switch() }));
      platform.close();
    `;
    const got = await runScript(script);
    expect(got.signal).toBe(null); // SIGKILL: the supervisor hung in its wait for the leader
    const killed = { kind: 'killed', signo: 9, coreDumped: false };
    // -ESRCH: the leader died during the call, which did not run its 2 s.
    expect(JSON.parse(got.out)).toEqual({ r: -3, early: true, thread: killed, leader: killed });
  });
});

describe('Platform.reapStopped', () => {
  it('finds stopped tasks killed from outside; their next switch() reports the death', async () => {
    const platform = Platform.create();
    try {
      const stub = platform.createStub();
      const leader = stub.task;
      const thread = leader.newThread();
      if (isError(thread)) throw new Error('newThread failed');
      expect(platform.reapStopped()).toEqual([]);
      // The host's OOM killer would do this; both tasks are stopped, so no wait of the platform's
      // sees it.
      process.kill(leader.tgid, 'SIGKILL');
      let dead: number[] = [];
      for (let i = 0; i < 200 && dead.length < 2; i++) {
        await new Promise((r) => setTimeout(r, 10));
        dead = [...new Set([...dead, ...platform.reapStopped()])];
      }
      // The thread first: the host reports its leader only after it.
      expect(dead).toEqual([thread.tid, leader.tid]);
      expect(await thread.switch()).toEqual({ kind: 'killed', signo: 9, coreDumped: false });
      expect(await leader.switch()).toEqual({ kind: 'killed', signo: 9, coreDumped: false });
      expect(platform.reapStopped()).toEqual([]);
    } finally {
      platform.close();
    }
  });
});
