// The trap loop against real processes: signal delivery and rt_sigreturn through the kernel,
// faults turned into signals, stack growth, handlers that wait or throw. Each case also runs
// natively first, so the expectations are Linux's.
import { execFileSync, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { E } from '@tsvisor/abi';
import { createSyscallTable } from '@tsvisor/syscalls';
import { NOLIBC, compile, testbed, type SandboxRun } from './c-programs.test-util.js';
import type { SandboxConfig } from './sandbox.js';

const here = dirname(fileURLToPath(import.meta.url));
let signals = '';
const bed = testbed((dir) => {
  signals = compile(dir, 'signals', NOLIBC);
  compile(dir, 'first-light', NOLIBC);
});

/** Runs `argv` (programs under /test) in a sandbox; returns the status, output and log. */
function sandboxed(argv: string[], extra: Partial<SandboxConfig> = {}): Promise<SandboxRun> {
  return bed.run(argv, { volumes: [{ host: bed.dir, sandbox: '/test', readOnly: true }], ...extra });
}

/** The native run's status in the shell's convention (128 + signal). */
function native(path: string, args: string[]): { status: number; stdout: string } {
  const r = spawnSync(path, args, { encoding: 'utf8' });
  const sig = r.signal ? ({ SIGSEGV: 11, SIGKILL: 9 } as Record<string, number>)[r.signal] : undefined;
  return { status: sig !== undefined ? 128 + sig : (r.status ?? -1), stdout: r.stdout };
}

describe('signals and faults, as natively', () => {
  for (const mode of ['handler', 'blocked', 'segv', 'segvh', 'kill9', 'stack', 'spin', 'unmap']) {
    it(mode, async () => {
      const want = native(signals, [mode]);
      const got = await sandboxed(['/test/signals', mode]);
      expect(got.status).toBe(want.status);
      expect(got.stdout).toBe(want.stdout);
    });
  }

  it('the expected statuses hold natively (the comparison is not vacuous)', () => {
    expect(native(signals, ['handler']).status).toBe(0);
    expect(native(signals, ['segv']).status).toBe(139);
    expect(native(signals, ['segvh']).status).toBe(42);
    expect(native(signals, ['kill9']).status).toBe(137);
  });
});

describe('vfork', () => {
  it("a vfork child's failed exec and exit, or its exec, leave the parent running", async () => {
    const bin = join(bed.dir, 'vfork-exit');
    execFileSync('gcc', ['-O1', '-static', '-o', bin, join(here, 'testdata', 'vfork-exit.c')]);
    const want = native(bin, []);
    expect(want).toEqual({
      status: 0,
      stdout: 'failed exec: child status 127\nexec: child status 0, parent memory intact\n',
    });
    const got = await sandboxed(['/test/vfork-exit']);
    expect(got.stdout).toBe(want.stdout);
    expect(got.status).toBe(0);
  });
});

describe('CPU time', () => {
  it("a child's user time, spent without syscalls, reaches the parent's wait4 rusage", async () => {
    const bin = join(bed.dir, 'cpu-time');
    execFileSync('gcc', ['-O1', '-static', '-o', bin, join(here, 'testdata', 'cpu-time.c')]);
    const want = native(bin, []);
    expect(want.stdout).toBe('child user time >= 100 ms: yes\n');
    const got = await sandboxed(['/test/cpu-time']);
    expect(got.stdout).toBe(want.stdout);
  });
});

describe('handlers', () => {
  it('a handler that throws is logged with its syscall and answered ENOSYS; the sandbox goes on', async () => {
    const table = createSyscallTable();
    table.override(
      'getppid',
      () => {
        throw new Error('boom');
      },
      { level: 'full' },
    );
    const got = await sandboxed(['/test/first-light', 'one', 'two'], { syscalls: table });
    // Everything but the getppid bit (2) still holds.
    expect(got.status).toBe(127 - 2);
    expect(got.log.some((l) => l.includes('getppid(110)') && l.includes('boom'))).toBe(true);
  });

  it('a handler that returns a promise parks only its task while the event loop runs', async () => {
    const table = createSyscallTable();
    let timerRan = false;
    table.override(
      'getppid',
      () =>
        new Promise((resolve) => {
          setTimeout(() => {
            timerRan = true;
            resolve(0);
          }, 20);
        }),
      { level: 'full' },
    );
    const lines: string[] = [];
    const got = await sandboxed(['/test/first-light', 'one', 'two'], {
      syscalls: table,
      strace: (l) => lines.push(l),
    });
    expect(timerRan).toBe(true);
    expect(got.status).toBe(127);
    // Nothing else printed while it waited: one complete line, as strace prints it.
    expect(lines).toContain('getppid() = 0');
  });

  it('an errno result reaches the program as -errno', async () => {
    const table = createSyscallTable();
    table.override('getpid', () => E.EPERM, { level: 'full' });
    const lines: string[] = [];
    const got = await sandboxed(['/test/first-light', 'one', 'two'], {
      syscalls: table,
      strace: (l) => lines.push(l),
    });
    expect(got.status).toBe(127 - 1);
    expect(lines).toContain('getpid() = -1 EPERM (Operation not permitted)');
  });
});
