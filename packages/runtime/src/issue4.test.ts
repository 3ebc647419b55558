// End-to-end checks of issue 4 ("First light") that pass today, through createSandbox with its
// default root (the host's / read-only under an in-memory overlay). Where a native run means
// something, the output is compared with it.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Platform } from '@tsvisor/trap-native';
import { captureStdio, workDir } from './c-programs.test-util.js';
import { createSandbox, type SandboxConfig } from './sandbox.js';

let work: ReturnType<typeof workDir>;
let platform: Platform;

beforeAll(() => {
  work = workDir();
  platform = Platform.create();
});

afterAll(() => {
  platform.close();
  work.cleanup();
});

const ENV = ['PATH=/usr/local/bin:/usr/bin:/bin', 'HOME=/root', 'LC_ALL=C'];

async function sandboxed(
  argv: string[],
  extra: Partial<SandboxConfig> = {},
): Promise<{ status: number; stdout: string; stderr: string; log: string[] }> {
  const io = captureStdio(work.dir);
  const log: string[] = [];
  try {
    const status = await createSandbox({
      argv,
      env: ENV,
      stdio: io.fds,
      platform,
      log: (l) => log.push(l),
      ...extra,
    }).run();
    return { status, ...io.read(), log };
  } finally {
    io.close();
  }
}

function native(argv: string[]): { status: number; stdout: string } {
  const r = spawnSync(argv[0] as string, argv.slice(1), {
    encoding: 'utf8',
    env: { PATH: '/usr/bin:/bin', LC_ALL: 'C' },
  });
  return { status: r.status ?? -1, stdout: r.stdout };
}

describe('issue 4 checks', () => {
  it('1. busybox echo (static)', async () => {
    const argv = ['/bin/busybox', 'echo', 'hello'];
    const got = await sandboxed(argv);
    expect(got).toMatchObject({ status: 0, stdout: 'hello\n', stderr: '' });
    expect(got.stdout).toBe(native(argv).stdout);
  });

  it('2. /bin/echo (dynamic glibc: ld.so and libc.so come from the sandbox VFS)', async () => {
    const argv = ['/bin/echo', 'hello'];
    const got = await sandboxed(argv);
    expect(got).toMatchObject({ status: 0, stdout: 'hello\n', stderr: '' });
    expect(got.stdout).toBe(native(argv).stdout);
  });

  it('2. /bin/ls -la / lists the root', async () => {
    const got = await sandboxed(['/bin/ls', '-la', '/']);
    expect(got.status).toBe(0);
    const names = got.stdout
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split(/\s+/).slice(8).join(' '));
    for (const n of ['.', '..', 'bin -> usr/bin', 'etc', 'usr', 'tmp', 'dev']) expect(names).toContain(n);
  });

  it('6. sh -c "exit 42" exits 42 and sh -c "kill -9 $$" exits 137, as natively', async () => {
    for (const script of ['exit 42', 'kill -9 $$']) {
      const got = await sandboxed(['/bin/sh', '-c', script]);
      const want = spawnSync('/bin/sh', ['-c', script]);
      const wantStatus = want.signal === 'SIGKILL' ? 137 : want.status;
      expect(got.status).toBe(wantStatus);
    }
  });

  it('8. --strace /bin/true lists execve ... exit_group(0) in strace format', async () => {
    const lines: string[] = [];
    const got = await sandboxed(['/bin/true'], { strace: (l) => lines.push(l) });
    expect(got.status).toBe(0);
    expect(lines[0]).toMatch(
      /^execve\("\/bin\/true", \["\/bin\/true"\], 0x[0-9a-f]+ \/\* 3 vars \*\/\) = 0$/,
    );
    expect(lines.some((l) => /^brk\(NULL\) = 0x[0-9a-f]+$/.test(l))).toBe(true);
    expect(
      lines.some((l) =>
        /^openat\(AT_FDCWD, "\/lib\/x86_64-linux-gnu\/libc\.so\.6", O_RDONLY\|O_CLOEXEC\) = 3$/.test(l),
      ),
    ).toBe(true);
    expect(lines.at(-2)).toBe('exit_group(0) = ?');
    expect(lines.at(-1)).toBe('+++ exited with 0 +++');
  });

  it('11. -v HOST:/data lets sh write to the host directory', async () => {
    const got = await sandboxed(['/bin/sh', '-c', 'echo x > /data/f'], {
      volumes: [{ host: work.dir, sandbox: '/data' }],
    });
    expect(got.status).toBe(0);
    expect(readFileSync(join(work.dir, 'f'), 'utf8')).toBe('x\n');
  });
});

describe('the overlay root', () => {
  it('takes writes anywhere (a vforked static busybox reads them back) and the host never sees them', async () => {
    const probe = `/etc/tsvisor-probe-${process.pid}`;
    const got = await sandboxed(['/bin/sh', '-c', `echo hi > ${probe} && /bin/busybox cat ${probe}`]);
    expect(got).toMatchObject({ status: 0, stdout: 'hi\n' });
    expect(existsSync(probe)).toBe(false);
  });

  it('hides the host /proc until procfs is mounted', async () => {
    const got = await sandboxed(['/bin/busybox', 'ls', '/proc']);
    expect(got.status).toBe(0);
    expect(got.stdout).toBe('');
    expect(execFileSync('/bin/ls', ['/proc'], { encoding: 'utf8' })).not.toBe('');
  });
});
