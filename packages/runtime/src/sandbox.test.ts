import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isError } from '@tsvisor/abi';
import { describe, expect, it } from 'vitest';
import { O_CREAT, O_WRONLY, Posix, ROOT_CREDS, Tmpfs, Vfs } from '@tsvisor/vfs';
import { NOLIBC, captureStdio, compile, testbed } from './c-programs.test-util.js';
import { createSandbox, exitCodeOf } from './sandbox.js';

const bed = testbed((dir) => compile(dir, 'first-light', NOLIBC));

describe('a static program under the sandbox', () => {
  it('gets its answers from the TypeScript kernel: pid 1, ENOSYS, uname, EFAULT, argv', async () => {
    const io = captureStdio(bed.dir);
    const log: string[] = [];
    const sandbox = createSandbox({
      argv: ['/test/first-light', 'one', 'two'],
      volumes: [{ host: bed.dir, sandbox: '/test', readOnly: true }],
      stdio: io.fds,
      platform: bed.platform,
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
    const io = captureStdio(bed.dir);
    const lines: string[] = [];
    const status = await createSandbox({
      argv: ['/test/first-light', 'one', 'two'],
      volumes: [{ host: bed.dir, sandbox: '/test', readOnly: true }],
      stdio: io.fds,
      platform: bed.platform,
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

  it('calls beforeStart once, after execve and before the program makes a system call', async () => {
    const io = captureStdio(bed.dir);
    const lines: string[] = [];
    const seen: number[] = [];
    await createSandbox({
      argv: ['/test/first-light'],
      volumes: [{ host: bed.dir, sandbox: '/test', readOnly: true }],
      stdio: io.fds,
      platform: bed.platform,
      log: () => undefined,
      strace: (l) => lines.push(l),
      beforeStart: () => seen.push(lines.length),
    }).run();
    io.close();
    expect(seen).toEqual([1]);
    expect(lines[0]).toMatch(/^execve\(/);
    expect(lines.length).toBeGreaterThan(2);
  });

  it('fails to start with the errno execve would give', async () => {
    const sandbox = createSandbox({
      argv: ['/nonexistent/program'],
      platform: bed.platform,
      log: () => undefined,
    });
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

describe('Sandbox.signal', () => {
  it("reaches pid 1 even while it spins in user code, and runs the shell's trap", async () => {
    const io = captureStdio(bed.dir);
    const sandbox = createSandbox({
      argv: ['/bin/sh', '-c', 'trap "exit 9" TERM; echo ready; while :; do :; done'],
      stdio: io.fds,
      platform: bed.platform,
      log: () => undefined,
    });
    const running = sandbox.run();
    // Wait for the loop to start, then signal it.
    for (let i = 0; i < 200 && io.read().stdout !== 'ready\n'; i++)
      await new Promise((r) => setTimeout(r, 10));
    expect(sandbox.signal(15)).toBe(true);
    expect(await running).toBe(9);
    io.close();
    expect(sandbox.signal(15)).toBe(false);
  });
});

describe('credentials and working directory', () => {
  it('runs as the configured uid/gid in the configured cwd', async () => {
    const io = captureStdio(bed.dir);
    const status = await createSandbox({
      argv: ['/bin/busybox', 'sh', '-c', 'busybox id -u; busybox id -g; busybox pwd; echo x > /etc/not-mine'],
      uid: 1000,
      gid: 1000,
      cwd: '/usr/bin',
      stdio: io.fds,
      platform: bed.platform,
      log: () => undefined,
    }).run();
    io.close();
    const { stdout, stderr } = io.read();
    expect(stdout).toBe('1000\n1000\n/usr/bin\n');
    // /etc belongs to root: an unprivileged user may not create files there, overlay or not.
    expect(stderr).toMatch(/Permission denied/);
    expect(status).not.toBe(0);
  });

  it('refuses a cwd that does not exist', () => {
    expect(() => createSandbox({ argv: ['/bin/true'], cwd: '/no/such/dir', platform: bed.platform })).toThrow(
      /ENOENT|No such file/,
    );
  });
});

describe("the sandbox's host name", () => {
  const run = async (argv: string[], hostname: string): Promise<string> => {
    const io = captureStdio(bed.dir);
    const status = await createSandbox({
      argv,
      hostname,
      network: 'none',
      stdio: io.fds,
      platform: bed.platform,
      log: () => undefined,
    }).run();
    io.close();
    expect(status).toBe(0);
    return io.read().stdout;
  };

  it('resolves through /etc/hosts (127.0.1.1 without a network), the host file untouched', async () => {
    const before = readFileSync('/etc/hosts');
    expect(await run(['/usr/bin/getent', 'hosts', 'box-7'], 'box-7')).toBe('127.0.1.1       box-7\n');
    expect(readFileSync('/etc/hosts')).toEqual(before);
  });

  it('is not added again when /etc/hosts names it already', async () => {
    const hosts = readFileSync('/etc/hosts', 'latin1');
    expect(await run(['/bin/cat', '/etc/hosts'], 'localhost')).toBe(hosts);
  });
});

describe('finding and loading the first program', () => {
  it('looks a bare name up in PATH and runs #! scripts through their interpreter', async () => {
    writeFileSync(join(bed.dir, 'greet'), '#!/bin/busybox sh\necho "script says $1"\n', { mode: 0o755 });
    const io = captureStdio(bed.dir);
    const status = await createSandbox({
      argv: ['greet', 'hi'],
      env: ['PATH=/nowhere:/scripts'],
      volumes: [{ host: bed.dir, sandbox: '/scripts', readOnly: true }],
      stdio: io.fds,
      platform: bed.platform,
      log: () => undefined,
    }).run();
    io.close();
    expect(io.read().stdout).toBe('script says hi\n');
    expect(status).toBe(0);
  });

  it('refuses a file without execute permission with EACCES', async () => {
    writeFileSync(join(bed.dir, 'plain'), '#!/bin/busybox sh\n', { mode: 0o644 });
    const sandbox = createSandbox({
      argv: ['/scripts/plain'],
      volumes: [{ host: bed.dir, sandbox: '/scripts', readOnly: true }],
      platform: bed.platform,
      log: () => undefined,
    });
    await expect(sandbox.run()).rejects.toMatchObject({ errno: { name: 'EACCES' } });
  });
});

describe('a custom root', () => {
  it('runs a program from an in-memory root that holds only it (nothing of the host is visible)', async () => {
    const root = new Tmpfs({ mode: 0o755 });
    const posix = new Posix(new Vfs(root), ROOT_CREDS);
    expect(posix.mkdir('/bin', 0o755)).toBe(0);
    const fd = posix.open('/bin/first-light', O_CREAT | O_WRONLY, 0o755);
    if (typeof fd !== 'number') throw fd;
    const bytes = new Uint8Array(readFileSync(join(bed.dir, 'first-light')));
    expect(posix.write(fd, bytes)).toBe(bytes.length);
    posix.close(fd);
    const io = captureStdio(bed.dir);
    const status = await createSandbox({
      argv: ['/bin/first-light', 'one', 'two'],
      root,
      stdio: io.fds,
      platform: bed.platform,
      log: () => undefined,
    }).run();
    io.close();
    expect(status).toBe(127);
    expect(io.read().stdout).toBe('first light\n');
    // The host's /bin/sh is not there.
    await expect(
      createSandbox({ argv: ['/bin/sh'], root, platform: bed.platform, log: () => undefined }).run(),
    ).rejects.toThrow(/ENOENT|No such file/);
  });
});

describe('host descriptors', () => {
  it('a finished sandbox holds only its host roots, and none after close()', async () => {
    // The sandbox's own count: other test files run in threads of this process, so the
    // process's fd table moves under us.
    const io = captureStdio(bed.dir);
    const sandbox = createSandbox({
      // ls -R walks many host directories, each opened as a directory fd by hostfs.
      argv: ['/bin/ls', '-R', '/usr/lib/python3.11/'],
      volumes: [{ host: bed.dir, sandbox: '/test', readOnly: true }],
      stdio: io.fds,
      platform: bed.platform,
      log: () => undefined,
    });
    expect(await sandbox.run()).toBe(0);
    io.close();
    expect(io.read().stdout.split('\n').length).toBeGreaterThan(100);
    // The host root and the /test volume keep one fd each, so results stay readable.
    expect(sandbox.hostDirFds).toBe(2);
    const p = new Posix(sandbox.vfs, ROOT_CREDS);
    expect(isError(p.stat('/test/first-light'))).toBe(false);
    sandbox.close();
    expect(sandbox.hostDirFds).toBe(0);
  });
});
