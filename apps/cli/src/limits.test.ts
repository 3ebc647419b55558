// tsvisor do --memory/--cpus/--pids: parsing, and the limits reaching the sandbox's cgroup view.
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseArgs, parseLimit } from './args.js';
import { main } from './main.js';

const here = dirname(fileURLToPath(import.meta.url));

describe('limit flags', () => {
  it('map --memory, --cpus and --pids to the sandbox limits', () => {
    expect(
      parseArgs(['do', '--memory', '256M', '--cpus', '0.5', '--pids', '100', '--', 'true']),
    ).toMatchObject({
      kind: 'do',
      argv: ['true'],
      limits: { memoryMax: 256 * 1024 * 1024, cpuQuotaUs: 50000, cpuPeriodUs: 100000, pidsMax: 100 },
    });
    expect(parseArgs(['do', '--memory=1g', 'true'])).toMatchObject({ limits: { memoryMax: 1024 ** 3 } });
    expect(parseArgs(['do', 'true'])).not.toHaveProperty('limits');
  });

  it('parse sizes and counts, and refuse what is not one', () => {
    expect(parseLimit('--memory', '4096')).toEqual({ memoryMax: 4096 });
    expect(parseLimit('--memory', '64k')).toEqual({ memoryMax: 65536 });
    expect(parseLimit('--memory', '2T')).toEqual({ memoryMax: 2 * 1024 ** 4 });
    expect(parseLimit('--cpus', '2')).toEqual({ cpuQuotaUs: 200000, cpuPeriodUs: 100000 });
    for (const bad of ['', '0', '-5', '1.5M', '12X', 'max'])
      expect(parseLimit('--memory', bad)).toMatch(/--memory/);
    for (const bad of ['0', '0.001', '-1', 'half', '1e3'])
      expect(parseLimit('--cpus', bad)).toMatch(/--cpus/);
    for (const bad of ['0', '1.5', '-3', 'ten']) expect(parseLimit('--pids', bad)).toMatch(/--pids/);
    expect(parseArgs(['do', '--pids', 'x', 'true'])).toEqual({
      kind: 'error',
      message: "--pids wants a positive integer: 'x'",
    });
  });

  it('tsvisor do shows the limits in /sys/fs/cgroup and OOM-kills past --memory (exit 137)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsvisor-cli-limits-'));
    execFileSync('gcc', ['-O1', '-o', join(dir, 'hog'), join(here, 'testdata', 'hog.c')]);
    const out = join(dir, 'out');
    const fds: [number, number, number] = [
      openSync('/dev/null', 'r'),
      openSync(out, 'w'),
      openSync('/dev/null', 'w'),
    ];
    try {
      const script =
        'cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/cpu.max /sys/fs/cgroup/pids.max; ' +
        '/t/hog 512; echo status=$?';
      const status = await main(
        [
          'do',
          '-v',
          `${dir}:/t:ro`,
          '--memory',
          '64M',
          '--cpus',
          '0.5',
          '--pids',
          '100',
          '--',
          '/bin/sh',
          '-c',
          script,
        ],
        { stdio: fds, env: { PATH: '/usr/bin:/bin' } },
      );
      expect(status).toBe(0);
      expect(readFileSync(out, 'utf8')).toBe(`${64 * 1024 * 1024}\n50000 100000\n100\nstatus=137\n`);
    } finally {
      fds.forEach((fd) => closeSync(fd));
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
