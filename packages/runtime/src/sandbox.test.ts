import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Platform } from '@tsvisor/trap-native';
import { NOLIBC, captureStdio, compile, workDir } from './c-programs.test-util.js';
import { createSandbox, exitCodeOf } from './sandbox.js';

let work: ReturnType<typeof workDir>;
let platform: Platform;

beforeAll(() => {
  work = workDir();
  compile(work.dir, 'first-light', NOLIBC);
  platform = Platform.create();
});

afterAll(() => {
  platform.close();
  work.cleanup();
});

describe('a static program under the sandbox', () => {
  it('gets its answers from the TypeScript kernel: pid 1, ENOSYS, uname, EFAULT, argv', async () => {
    const io = captureStdio(work.dir);
    const log: string[] = [];
    const sandbox = createSandbox({
      argv: ['/test/first-light', 'one', 'two'],
      volumes: [{ host: work.dir, sandbox: '/test', readOnly: true }],
      stdio: io.fds,
      platform,
      log: (l) => log.push(l),
    });
    const status = await sandbox.run();
    io.close();
    // pid 1, ppid 0, ENOSYS, uname, EFAULT, argv, write: 1+2+4+8+16+32+64.
    expect(status).toBe(127);
    expect(io.read().stdout).toBe('first light\n');
    // The unknown syscall is reported once in the sandbox log.
    expect(log.filter((l) => l.includes('100000'))).toHaveLength(1);
  });

  it('reports the program as pid 1 in strace format, from execve to exit_group', async () => {
    const io = captureStdio(work.dir);
    const lines: string[] = [];
    const status = await createSandbox({
      argv: ['/test/first-light', 'one', 'two'],
      volumes: [{ host: work.dir, sandbox: '/test', readOnly: true }],
      stdio: io.fds,
      platform,
      log: () => undefined,
      strace: (l) => lines.push(l),
    }).run();
    io.close();
    expect(lines[0]).toMatch(
      /^execve\("\/test\/first-light", \["\/test\/first-light", "one", "two"\], 0x[0-9a-f]+ \/\* \d+ vars \*\/\) = 0$/,
    );
    expect(lines).toContain('getpid() = 1');
    expect(lines).toContain('getppid() = 0');
    expect(lines.some((l) => /^uname\(0x8\) = -1 EFAULT/.test(l))).toBe(true);
    expect(lines.at(-2)).toBe(`exit_group(${status}) = ?`);
    expect(lines.at(-1)).toBe(`+++ exited with ${status} +++`);
  });

  it('fails to start with the errno execve would give', async () => {
    const sandbox = createSandbox({ argv: ['/nonexistent/program'], platform, log: () => undefined });
    await expect(sandbox.run()).rejects.toThrow(/ENOENT|No such file/);
  });
});

describe('exitCodeOf', () => {
  it('maps wait statuses to shell exit codes', () => {
    expect(exitCodeOf(42 << 8)).toBe(42);
    expect(exitCodeOf(9)).toBe(137);
    expect(exitCodeOf(11 | 0x80)).toBe(139);
  });
});
