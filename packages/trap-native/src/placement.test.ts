// CPU placement: the default pins the tracer thread and the stubs to one CPU and close()
// restores the tracer's mask; 'none' leaves the stubs to the scheduler. Its own file, because
// pinning applies to the whole test worker's main thread.
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { Platform } from './platform.js';

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
});
