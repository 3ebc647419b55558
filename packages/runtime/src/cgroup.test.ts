// memory.max, cpu.max and pids.max enforced under createSandbox, in both modes: the host cgroup
// v2 (when this machine lets the supervisor create one) and the supervisor's own fallback.
import { mkdtempSync, readFileSync, readdirSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { compile, testbed } from './c-programs.test-util.js';
import {
  HostCgroup,
  SupervisorLimiter,
  probeHostCgroup,
  type LimitMode,
  type LimitTarget,
} from './cgroup.js';

const bed = testbed((dir) => compile(dir, 'cgroup-limits', ['-O1', '-pthread']));
const MB = 1024 * 1024;
const probe = probeHostCgroup();
const modes: LimitMode[] = probe.usable ? ['host-cgroup', 'supervisor'] : ['supervisor'];

/** Host cgroups of this process's sandboxes still on the host. */
function leftovers(): string[] {
  if (!probe.usable) return [];
  return readdirSync(probe.parent).filter((name) => name.startsWith(`tsvisor-${process.pid}-`));
}

afterEach(() => {
  // A host cgroup left by a failed run is removed (its stubs are dead by then).
  if (probe.usable) for (const name of leftovers()) rmdirSync(join(probe.parent, name));
});

const volumes = (): { host: string; sandbox: string; readOnly: boolean }[] => [
  { host: bed.dir, sandbox: '/test', readOnly: true },
];

describe.each(modes)('limits enforced by %s', (mode) => {
  it('a program touching more than memory.max dies of SIGKILL; memory.events counts the OOM kill', async () => {
    const r = await bed.run(
      ['/bin/sh', '-c', '/test/cgroup-limits oom 512; echo status=$?; cat /sys/fs/cgroup/memory.events'],
      { volumes: volumes(), limits: { memoryMax: 64 * MB }, limitMode: mode },
    );
    expect(r.stdout).not.toContain('survived');
    expect(r.stdout).toContain('status=137\n');
    expect(r.stdout).toMatch(/^oom_kill 1$/m);
    expect(r.status).toBe(0);
    expect(r.log.filter((l) => l.startsWith('bug'))).toEqual([]);
    // run() removed the host cgroup it made.
    expect(leftovers()).toEqual([]);
    expect(
      r.log.some((l) => l.includes(mode === 'supervisor' ? 'by the supervisor' : 'by a host cgroup')),
    ).toBe(true);
  });

  it('a program under memory.max runs to the end', async () => {
    const r = await bed.run(['/test/cgroup-limits', 'oom', '16'], {
      volumes: volumes(),
      limits: { memoryMax: 128 * MB },
      limitMode: mode,
    });
    expect(r.stdout).toBe('survived\n');
    expect(r.status).toBe(0);
  });

  it('a busy loop under cpu.max "20000 100000" gets about 20% of a CPU', async () => {
    const r = await bed.run(
      ['/bin/sh', '-c', '/test/cgroup-limits busy 1000; cat /sys/fs/cgroup/cpu.stat /sys/fs/cgroup/cpu.max'],
      { volumes: volumes(), limits: { cpuQuotaUs: 20000, cpuPeriodUs: 100000 }, limitMode: mode },
    );
    const m = /^cpu_ms (\d+) wall_ms (\d+)$/m.exec(r.stdout);
    expect(m).not.toBeNull();
    const share = Number(m?.[1]) / Number(m?.[2]);
    // A loose band: the machine's 2 cores are shared, so even an unlimited loop may get well
    // under 100%; the throttled time shows that the quota, not the load, held it back.
    expect(share).toBeGreaterThan(0.05);
    expect(share).toBeLessThan(0.4);
    expect(r.stdout).toContain('20000 100000\n');
    expect(Number(/^nr_throttled (\d+)$/m.exec(r.stdout)?.[1])).toBeGreaterThan(0);
    // At 20%, most of each period is spent held back.
    expect(Number(/^throttled_usec (\d+)$/m.exec(r.stdout)?.[1])).toBeGreaterThan(200_000);
  });

  it('the quota is shared by all the processes of the sandbox', async () => {
    const r = await bed.run(
      ['/bin/sh', '-c', '/test/cgroup-limits busy 1000 & /test/cgroup-limits busy 1000; wait'],
      { volumes: volumes(), limits: { cpuQuotaUs: 20000, cpuPeriodUs: 100000 }, limitMode: mode },
    );
    const runs = [...r.stdout.matchAll(/^cpu_ms (\d+) wall_ms (\d+)$/gm)];
    expect(runs).toHaveLength(2);
    const cpu = runs.reduce((sum, m) => sum + Number(m[1]), 0);
    const wall = Math.max(...runs.map((m) => Number(m[2])));
    expect(cpu / wall).toBeLessThan(0.4);
  });

  it('pids.max still makes clone fail with EAGAIN', async () => {
    const r = await bed.run(['/test/cgroup-limits', 'threads', '10'], {
      volumes: volumes(),
      limits: { pidsMax: 4, memoryMax: 256 * MB },
      limitMode: mode,
    });
    expect(r.stdout).toBe('started 3 errno EAGAIN\n');
  });
});

describe('mode choice', () => {
  it('the probe agrees with this machine: memory and cpu usable on a cgroup2 mount, or a reason', () => {
    if (probe.usable) expect(readdirSync(probe.parent)).toContain('cgroup.subtree_control');
    else expect(probe.reason).toMatch(/not root|no cgroup2|not available|cannot enable|no cgroup v2/);
  });

  it('without a usable host cgroup, forcing host-cgroup fails and the default falls back', async () => {
    if (probe.usable) return;
    await expect(
      bed.run(['/test/cgroup-limits', 'oom', '1'], {
        volumes: volumes(),
        limits: { memoryMax: 64 * MB },
        limitMode: 'host-cgroup',
      }),
    ).rejects.toThrow(/no usable host cgroup/);
    const r = await bed.run(['/test/cgroup-limits', 'oom', '1'], {
      volumes: volumes(),
      limits: { memoryMax: 64 * MB },
    });
    expect(r.stdout).toBe('survived\n');
    expect(r.log.some((l) => l.includes(`no host cgroup: ${probe.reason}`))).toBe(true);
  });
});

describe('SupervisorLimiter', () => {
  /** A fake sandbox: host processes with a resident size and threads with CPU time. */
  function fakeTarget(rss: Map<number, number>): {
    target: LimitTarget;
    killed: number[];
    paused: () => boolean;
  } {
    const killed: number[] = [];
    let paused = false;
    return {
      killed,
      paused: () => paused,
      target: {
        hostProcesses: () => [...rss.keys()],
        hostThreads: (pid) => [pid],
        oomKill: (pid) => {
          killed.push(pid);
          rss.delete(pid);
        },
        pause: () => (paused = true),
        resume: () => (paused = false),
      },
    };
  }

  it('kills the largest process once the total passes memory.max, and counts it', async () => {
    const rss = new Map([
      [10, 20 * MB],
      [11, 40 * MB],
      [12, 4 * MB],
    ]);
    const { target, killed } = fakeTarget(rss);
    const lim = new SupervisorLimiter({ memoryMax: 64 * MB }, target, 'test', {
      residentOf: (pid) => rss.get(pid) ?? null,
    });
    expect(lim.sampleMemory()).toBeUndefined();
    // At memory.max exactly: nothing happens.
    expect(lim.memoryCurrent()).toBe(64 * MB);
    rss.set(12, 10 * MB);
    // 70 MB > 64 MB: 11 is the largest.
    expect(lim.sampleMemory()).toBe(11);
    expect(killed).toEqual([11]);
    expect(lim.memoryEvents()).toEqual({ max: 1, oom: 1, oomKill: 1 });
    expect(lim.sampleMemory()).toBeUndefined();
    expect(lim.memoryCurrent()).toBe(30 * MB);
    expect(lim.memoryPeak()).toBe(70 * MB);
    await lim.stop();
  });

  it('holds the loops once the quota of a period is used, and lets them go in a later period', async () => {
    let cpuNs = 0;
    const { target, paused } = fakeTarget(new Map([[10, 0]]));
    const lim = new SupervisorLimiter({ cpuQuotaUs: 20000, cpuPeriodUs: 50000 }, target, 'test', {
      cpuNsOf: () => cpuNs,
    });
    lim.start(10);
    // 30 ms of CPU at once: over the 20 ms quota; paused until the overrun is paid back.
    cpuNs = 30_000_000;
    await new Promise((r) => setTimeout(r, 20));
    expect(paused()).toBe(true);
    await new Promise((r) => setTimeout(r, 150));
    expect(paused()).toBe(false);
    const t = lim.throttling();
    expect(t.nrThrottled).toBe(1);
    expect(t.nrPeriods).toBeGreaterThanOrEqual(2);
    expect(t.throttledUs).toBeGreaterThan(20_000);
    await lim.stop();
    expect(paused()).toBe(false);
  });
});

describe('probeHostCgroup with a cgroup parent', () => {
  it('enables the memory and cpu (and pids) controllers in the parent, or says why not', () => {
    const parent = mkdtempSync(join(tmpdir(), 'tsvisor-cgp-'));
    try {
      expect(probeHostCgroup(parent)).toMatchObject({ usable: false });
      writeFileSync(join(parent, 'cgroup.controllers'), 'cpuset cpu io memory pids\n');
      writeFileSync(join(parent, 'cgroup.subtree_control'), 'cpu\n');
      const p = probeHostCgroup(parent);
      if (process.getuid?.() !== 0) expect(p).toEqual({ usable: false, reason: 'not root' });
      else {
        expect(p).toEqual({ usable: true, parent });
        // Only what is missing is asked for, in cgroup.subtree_control's syntax.
        expect(readFileSync(join(parent, 'cgroup.subtree_control'), 'latin1')).toBe('+memory +pids');
        writeFileSync(join(parent, 'cgroup.controllers'), 'cpu pids\n');
        expect(probeHostCgroup(parent)).toEqual({
          usable: false,
          reason: `controllers memory not available in ${parent}`,
        });
      }
    } finally {
      rmSync(parent, { recursive: true, force: true });
    }
  });
});

describe('HostCgroup', () => {
  it('writes the limits in cgroup v2 syntax and reads the host files', async () => {
    // A plain directory stands in for the parent cgroup: it checks what is written and parsed.
    const parent = mkdtempSync(join(tmpdir(), 'tsvisor-cg-'));
    try {
      const cg = new HostCgroup(parent, { memoryMax: 64 * MB, cpuQuotaUs: 20000, pidsMax: 10 });
      expect(readFileSync(join(cg.dir, 'memory.max'), 'latin1')).toBe(String(64 * MB));
      expect(readFileSync(join(cg.dir, 'cpu.max'), 'latin1')).toBe('20000 100000');
      expect(cg.dir).toMatch(new RegExp(`/tsvisor-${process.pid}-\\d+$`));
      cg.start(4242);
      expect(readFileSync(join(cg.dir, 'cgroup.procs'), 'latin1')).toBe('4242');
      writeFileSync(
        join(cg.dir, 'memory.events'),
        'low 0\nhigh 0\nmax 7\noom 1\noom_kill 1\noom_group_kill 0\n',
      );
      writeFileSync(
        join(cg.dir, 'cpu.stat'),
        'usage_usec 300000\nuser_usec 250000\nsystem_usec 50000\nnr_periods 10\nnr_throttled 8\nthrottled_usec 700000\n',
      );
      writeFileSync(join(cg.dir, 'memory.current'), '1048576\n');
      expect(cg.memoryEvents()).toEqual({ max: 7, oom: 1, oomKill: 1 });
      expect(cg.cpuStat()).toEqual({
        userNs: 250_000_000,
        systemNs: 50_000_000,
        nrPeriods: 10,
        nrThrottled: 8,
        throttledUs: 700000,
      });
      expect(cg.memoryCurrent()).toBe(MB);
      expect(cg.memoryPeak()).toBe(MB);
    } finally {
      rmSync(parent, { recursive: true, force: true });
    }
  });
});
