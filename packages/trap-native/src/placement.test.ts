// CPU placement: the default pins the tracer thread and the stubs to one CPU and close()
// restores the tracer's mask; 'none' leaves the stubs to the scheduler; a task that computes past
// the wait budget may use every CPU until its next stop. Its own file, because pinning applies to
// the whole test worker's main thread.
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { Platform } from './platform.js';
import { cleanupGuest, loadGuest, nextReport } from './guest.test-util.js';

function allowed(path: string): string {
  return /Cpus_allowed_list:\s*(\S+)/.exec(readFileSync(path, 'utf8'))?.[1] ?? '';
}

const self = () => allowed('/proc/thread-self/status');

describe('placement', () => {
  it('pins tracer and stubs to one CPU by default and restores the tracer on close', () => {
    const before = self();
    const platform = Platform.create();
    expect(platform.cpu).toBeGreaterThanOrEqual(0);
    expect(self()).toBe(String(platform.cpu));
    const stub = platform.createStub();
    expect(allowed(`/proc/${stub.pid}/status`)).toBe(String(platform.cpu));
    platform.close();
    expect(self()).toBe(before);
  });

  it("leaves the stubs to the scheduler with 'none'", () => {
    const before = self();
    const platform = Platform.create({ placement: 'none' });
    expect(platform.cpu).toBe(-1);
    const stub = platform.createStub();
    expect(allowed(`/proc/${stub.pid}/status`)).toBe(before);
    expect(self()).toBe(before);
    platform.close();
  });

  it.runIf(availableParallelism() > 1)('pins to a chosen CPU', () => {
    const platform = Platform.create({ placement: { cpu: 1 } });
    const stub = platform.createStub();
    expect(allowed(`/proc/${stub.pid}/status`)).toBe('1');
    expect(self()).toBe('1');
    platform.close();
  });

  it.runIf(availableParallelism() > 1)(
    'lets a task computing past the wait budget use every CPU, and pins it again at its next stop',
    async () => {
      const before = self();
      const platform = Platform.create();
      try {
        const stub = platform.createStub();
        const task = loadGuest(stub, 8);
        const status = `/proc/${task.tid}/status`;
        expect(await nextReport(task)).toEqual([50, 0]);
        expect(allowed(status)).toBe(String(platform.cpu));
        // About a second of additions without a system call: far past the 500 µs budget.
        task.setSyscallResult(1_500_000_000);
        let seen = '';
        let done = false;
        const report = nextReport(task).finally(() => (done = true));
        while (!done && seen !== before) {
          seen = allowed(status);
          await new Promise((r) => setTimeout(r, 2));
        }
        expect(seen).toBe(before);
        const [tag] = await report;
        expect(tag).toBe(51);
        expect(allowed(status)).toBe(String(platform.cpu));
        stub.kill();
      } finally {
        platform.close();
        cleanupGuest();
      }
    },
  );
});
