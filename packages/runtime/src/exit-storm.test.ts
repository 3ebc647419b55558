// A process ends (exit_group, its leader leaving first, a fatal signal, execve by a non-leader
// thread) while its threads sit in every kind of syscall or run application code:
// testdata/exit-storm.c, natively first, then under tsvisor. Before the fix, the supervisor's
// thread blocked forever in a host wait for a thread-group leader whose other threads nobody
// reaped (every run of `exit-storm exit 3 24` hung, and so did every `signal`, `exec` and
// `leader` run; CPython's test_threading hung once in four). Once that was fixed, a thread still
// inside clone when its process died made the dead process vanish (its parent's wait4 said
// ECHILD in 8 of 12 runs of `exit-storm leader 10 24`). A blocked event loop cannot fail a test
// by itself, so a watchdog thread ends this test process with a message if the loop stops
// turning.
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compile, testbed } from './c-programs.test-util.js';

const ROUNDS = 6;
const THREADS = 24;
/** How long the event loop may stand still before the watchdog ends the test process. */
const STALL_MS = 20_000;

let exe = '';
const bed = testbed((dir) => {
  exe = compile(dir, 'exit-storm', ['-O1', '-Wall', '-Werror', '-pthread']);
});

/**
 * A worker thread that watches a counter this thread bumps every 100 ms: if it stops moving for
 * {@link STALL_MS}, the event loop is blocked in native code (the bug this file tests for), and
 * the worker kills the process, which vitest reports as a failed test file instead of hanging.
 */
function loopWatchdog(): () => Promise<number> {
  const beat = new Int32Array(new SharedArrayBuffer(4));
  const timer = setInterval(() => Atomics.add(beat, 0, 1), 100);
  const worker = new Worker(
    `const { workerData } = require('node:worker_threads');
     const { writeSync } = require('node:fs');
     const beat = workerData.beat;
     let last = -1, since = Date.now();
     setInterval(() => {
       const now = Atomics.load(beat, 0);
       if (now !== last) { last = now; since = Date.now(); return; }
       if (Date.now() - since < workerData.stallMs) return;
       writeSync(2, 'exit-storm.test: the event loop has been blocked for ' + workerData.stallMs +
         ' ms (a host wait that never returns); killing the test process\\n');
       process.kill(process.pid, 'SIGKILL');
     }, 250);`,
    { eval: true, workerData: { beat, stallMs: STALL_MS } },
  );
  worker.unref();
  return () => {
    clearInterval(timer);
    return worker.terminate();
  };
}

/** The host processes this test process traces (the stubs it started), with their thread counts. */
function hostStubs(): { pid: number; threads: number }[] {
  const out: { pid: number; threads: number }[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'latin1');
    } catch {
      continue; // gone meanwhile
    }
    if (!stat.includes(' (tsvisor-stub) ')) continue;
    // After the parenthesised comm: field 4 is the parent pid, field 20 the thread count.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(rest[1]) === process.pid) out.push({ pid: Number(name), threads: Number(rest[17]) });
  }
  return out;
}

let stopWatchdog: (() => Promise<number>) | undefined;
beforeAll(() => {
  stopWatchdog = loopWatchdog();
});
afterAll(async () => {
  await stopWatchdog?.();
});

describe('exit-storm.c', () => {
  it('passes natively', () => {
    expect(execFileSync(exe, ['mix', '8', String(THREADS)], { encoding: 'utf8', timeout: 20_000 })).toBe(
      'ok 8\n',
    );
  });

  for (const mode of ['exit', 'leader', 'signal', 'exec']) {
    it(`under tsvisor: ${ROUNDS} children end by ${mode} with ${THREADS} threads in syscalls`, async () => {
      const got = await bed.run(['/test/exit-storm', mode, String(ROUNDS), String(THREADS)], {
        volumes: [{ host: bed.dir, sandbox: '/test', readOnly: true }],
      });
      expect(got.stderr).toBe('');
      expect(got.stdout).toBe(`ok ${ROUNDS}\n`);
      expect(got.status).toBe(0);
      expect(got.log.filter((l) => l.includes('bug'))).toEqual([]);
    });
  }

  // The host's OOM killer (a host cgroup's memory.max) kills a host process from outside: every
  // thread stopped in a handler, or the leader too running application code. Nothing waits for
  // stopped threads, so the supervisor must look for their deaths itself; before, the sandbox
  // waited for ever.
  for (const mode of ['park', 'park-spin']) {
    it(`under tsvisor: a child whose host process is SIGKILLed from outside (${mode})`, async () => {
      const run = bed.run(['/test/exit-storm', mode, '1', String(THREADS)], {
        volumes: [{ host: bed.dir, sandbox: '/test', readOnly: true }],
      });
      let victim: { pid: number; threads: number } | undefined;
      for (let i = 0; i < 200 && !victim; i++) {
        await sleep(50);
        if (readFileSync(join(bed.dir, 'stdout'), 'utf8').includes('ready'))
          victim = hostStubs().find((p) => p.threads > 1);
      }
      if (!victim) throw new Error('the child never became ready');
      process.kill(victim.pid, 'SIGKILL');
      const got = await run;
      // The parent's wait4 saw the child killed by SIGKILL.
      expect(got.stderr).toBe('');
      expect(got.stdout).toBe('ready\nok 1\n');
      expect(got.status).toBe(0);
    });
  }
});
