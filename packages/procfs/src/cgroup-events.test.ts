// memory.events and cpu.stat's throttling counters of the cgroup v2 view, as the source reports them.
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FixtureProcSource } from './fixture.js';
import { mounted, readAll } from './mount.test-util.js';

describe('/sys/fs/cgroup memory.events and cpu.stat throttling', () => {
  it('memory.events shows the source counters in the host file layout, 0 when the source has none', () => {
    const src = FixtureProcSource.sample();
    const { p } = mounted(undefined, src);
    expect(readAll(p, '/sys/fs/cgroup/memory.events')).toBe(
      'low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\noom_group_kill 0\n',
    );
    const base = src.cgroupValue;
    if (base === null) throw new Error('the sample has a cgroup');
    src.cgroupValue = { ...base, memoryEvents: () => ({ max: 3, oom: 1, oomKill: 1 }) };
    expect(readAll(p, '/sys/fs/cgroup/memory.events')).toBe(
      'low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\noom_group_kill 0\n',
    );
    expect(readAll(p, '/sys/fs/cgroup/memory.events.local')).toBe(
      'low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\noom_group_kill 0\n',
    );
    // Same keys, same order as a host cgroup v2 (when this machine has one with memory).
    const host = '/sys/fs/cgroup/memory.events';
    if (existsSync(host))
      expect(
        readFileSync(host, 'latin1')
          .split('\n')
          .map((l) => l.split(' ')[0]),
      ).toEqual(['low', 'high', 'max', 'oom', 'oom_kill', 'oom_group_kill', '']);
  });

  it('cpu.stat and cpu.stat.local carry the throttling counters', () => {
    const src = FixtureProcSource.sample();
    const { p } = mounted(undefined, src);
    const base = src.cgroupValue;
    if (base === null) throw new Error('the sample has a cgroup');
    src.cgroupValue = {
      ...base,
      cpuThrottling: () => ({ nrPeriods: 10, nrThrottled: 8, throttledUs: 640000 }),
    };
    const stat = readAll(p, '/sys/fs/cgroup/cpu.stat');
    expect(stat).toContain('nr_periods 10\nnr_throttled 8\nthrottled_usec 640000\n');
    expect(readAll(p, '/sys/fs/cgroup/cpu.stat.local')).toBe('throttled_usec 640000\n');
  });
});
