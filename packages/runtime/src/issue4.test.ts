// End-to-end checks of issue 4 ("First light"), through createSandbox with its
// default root (the host's / read-only under an in-memory overlay). Where a native run means
// something, the output is compared with it.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Platform } from '@tsvisor/trap-native';
import { captureStdio, workDir } from './c-programs.test-util.js';
import { createSandbox, type SandboxConfig } from './sandbox.js';

const here = dirname(fileURLToPath(import.meta.url));
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

  it('2. /bin/ls -la / lists the same names as natively, without complaint', async () => {
    const got = await sandboxed(['/bin/ls', '-la', '/']);
    expect(got).toMatchObject({ status: 0, stderr: '' });
    const names = got.stdout
      .trim()
      .split('\n')
      .slice(1)
      .map((l) =>
        l
          .split(/\s+/)
          .slice(8)
          .join(' ')
          .replace(/ -> .*$/, ''),
      );
    const want = native(['/bin/ls', '-1a', '/']).stdout.trim().split('\n');
    expect(names).toEqual(want);
  });

  it('3. sh runs a pipeline of dynamic programs, arithmetic and a loop, as natively', async () => {
    const script = 'ls / | wc -l; echo $((6*7)); for i in 1 2 3; do echo $i; done';
    const got = await sandboxed(['/bin/sh', '-c', script]);
    expect(got).toMatchObject({ status: 0, stderr: '' });
    expect(got.stdout).toBe(native(['/bin/sh', '-c', script]).stdout);
  });

  it('4. a write to /etc lands in the overlay: cat reads it back, the host never has it', async () => {
    expect(existsSync('/etc/tsvisor-probe')).toBe(false);
    const got = await sandboxed(['/bin/sh', '-c', 'echo hi > /etc/tsvisor-probe && cat /etc/tsvisor-probe']);
    expect(got).toMatchObject({ status: 0, stdout: 'hi\n', stderr: '' });
    expect(existsSync('/etc/tsvisor-probe')).toBe(false);
  });

  it('5. cat /proc/self/status, ls -l /proc/self/fd and dmesg (dynamic coreutils) see the sandbox', async () => {
    const got = await sandboxed(['/bin/sh', '-c', 'cat /proc/self/status; ls -l /proc/self/fd; dmesg']);
    expect(got).toMatchObject({ status: 0, stderr: '' });
    expect(got.stdout).toMatch(/^Name:\tcat$/m);
    expect(got.stdout).toMatch(/^Pid:\t2$/m);
    expect(got.stdout).toMatch(/^PPid:\t1$/m);
    // ls -l shows its three stdio links and the directory it is reading, as on Linux.
    expect(got.stdout).toMatch(/^total 0$/m);
    expect(got.stdout).toMatch(/^lr-x------ 1 root root 64 .* 0 -> /m);
    expect(got.stdout).toMatch(/^l-wx------ 1 root root 64 .* 1 -> /m);
    expect(got.stdout).toMatch(/^lr-x------ 1 root root 64 .* 3 -> \/proc\/\d+\/fd$/m);
    expect(got.stdout).toMatch(/^\[\s*\d+\.\d{6}\] Starting tsvisor/m);
  });

  it('7. python runs a thread, a dynamic /bin/echo subprocess and lists /proc/self/fd', async () => {
    const script = [
      'import os, subprocess, threading',
      't = threading.Thread(target=lambda: print("thread ok")); t.start(); t.join()',
      'print(subprocess.run(["/bin/echo", "sub ok"], capture_output=True, text=True).stdout, end="")',
      'print(sorted(os.listdir("/proc/self/fd")))',
    ].join('\n');
    const got = await sandboxed(['/usr/bin/python3.11', '-c', script]);
    expect(got.stderr).toBe('');
    expect(got).toMatchObject({ status: 0, stdout: "thread ok\nsub ok\n['0', '1', '2', '3']\n" });
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

  it('11. a volume mounted at a path the host root lacks gets its mount point in the overlay', async () => {
    const got = await sandboxed(['/bin/sh', '-c', 'echo y > /srv/tsvisor/nested/vol/g'], {
      volumes: [{ host: work.dir, sandbox: '/srv/tsvisor/nested/vol' }],
    });
    expect(got.status).toBe(0);
    expect(readFileSync(join(work.dir, 'g'), 'utf8')).toBe('y\n');
    expect(existsSync('/srv/tsvisor')).toBe(false);
  });
});

describe('the overlay root', () => {
  it('takes writes anywhere (a vforked static busybox reads them back) and the host never sees them', async () => {
    const probe = `/etc/tsvisor-probe-${process.pid}`;
    const got = await sandboxed(['/bin/sh', '-c', `echo hi > ${probe} && /bin/busybox cat ${probe}`]);
    expect(got).toMatchObject({ status: 0, stdout: 'hi\n' });
    expect(existsSync(probe)).toBe(false);
  });
});

describe('/proc and dmesg (checks 5 and 7, with static busybox and python children)', () => {
  it('/proc/self/status, /proc/self/fd and dmesg describe the sandbox, not the host', async () => {
    const got = await sandboxed([
      '/bin/busybox',
      'sh',
      '-c',
      'busybox cat /proc/self/status; busybox ls /proc/self/fd; busybox dmesg; busybox cat /proc/mounts',
    ]);
    expect(got.status).toBe(0);
    // busybox cat is pid 2, a child of the shell (pid 1), root inside.
    expect(got.stdout).toMatch(/^Name:\tbusybox$/m);
    expect(got.stdout).toMatch(/^Pid:\t2$/m);
    expect(got.stdout).toMatch(/^PPid:\t1$/m);
    expect(got.stdout).toMatch(/^Uid:\t0\t0\t0\t0$/m);
    // ls sees its stdio and the directory it reads.
    expect(got.stdout).toMatch(/^0\n1\n2\n3\n/m);
    // dmesg prints tsvisor's boot log.
    expect(got.stdout).toMatch(/^\[\s*\d+\.\d{6}\] Starting tsvisor/m);
    expect(got.stdout).toMatch(/^overlay \/ overlay rw/m);
    expect(got.stdout).toMatch(/^proc \/proc proc /m);
  });

  it('python runs a thread, a subprocess and lists /proc/self/fd', async () => {
    const script = [
      'import os, subprocess, threading',
      't = threading.Thread(target=lambda: print("thread ok")); t.start(); t.join()',
      'print(subprocess.run(["/bin/busybox", "echo", "sub ok"], capture_output=True, text=True).stdout, end="")',
      'print(sorted(os.listdir("/proc/self/fd")))',
    ].join('\n');
    const got = await sandboxed(['/usr/bin/python3.11', '-c', script]);
    expect(got.stderr).toBe('');
    expect(got).toMatchObject({ status: 0, stdout: "thread ok\nsub ok\n['0', '1', '2', '3']\n" });
  });
});

describe('check 9: bad pointers, lengths, fds, flags and unknown syscalls', () => {
  it('a static C program prints the same results natively and under tsvisor, and survives', async () => {
    const bin = join(work.dir, 'conformance');
    execFileSync('gcc', ['-w', '-O1', '-static', '-o', bin, join(here, 'testdata', 'conformance.c')]);
    const want = spawnSync(bin, [], { encoding: 'utf8', cwd: '/', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(want.status).toBe(0);
    for (const e of ['ENOSYS', 'EFAULT', 'EBADF', 'EINVAL', 'ESPIPE']) expect(want.stdout).toContain(e);
    const got = await sandboxed(['/work/conformance'], {
      volumes: [{ host: work.dir, sandbox: '/work', readOnly: true }],
    });
    expect(got.stdout).toBe(want.stdout);
    expect(got.stdout.endsWith('alive\n')).toBe(true);
    expect(got.status).toBe(0);
  });
});

describe('check 10: escapes', () => {
  it('symlinks, .., /proc/*/root, stray fds, a read-only volume and ptrace stay inside the view', async () => {
    const vol = join(work.dir, 'vol');
    const ro = join(work.dir, 'ro');
    mkdirSync(vol);
    mkdirSync(ro);
    symlinkSync('/etc', join(vol, 'abs'));
    symlinkSync('../../../..', join(vol, 'up'));
    execFileSync('gcc', [
      '-w',
      '-O1',
      '-static',
      '-o',
      join(ro, 'escape'),
      join(here, 'testdata', 'escape.c'),
    ]);
    const tag = `t${process.pid}`;
    const got = await sandboxed(['/ro/escape', tag], {
      volumes: [
        { host: vol, sandbox: '/data' },
        { host: ro, sandbox: '/ro', readOnly: true },
      ],
    });
    expect(got.status).toBe(0);
    expect(got.stdout).toBe(
      [
        'create through abs symlink: ok',
        'create through up symlink: ok',
        'create through ..: ok',
        'cwd after 20 x ..: /',
        'create through /proc/1/root: ok',
        'create through /proc/self/root: ok',
        'open fds above 2: 0',
        'create in read-only volume: EROFS',
        'ptrace attach parent: refused',
        'ptrace attach 1: refused',
        'done',
        '',
      ].join('\n'),
    );
    // The creations landed in the sandbox's own /etc (the overlay), never in the host's.
    expect(readdirSync('/etc').filter((n) => n.includes(tag))).toEqual([]);
    expect(readdirSync(vol).sort()).toEqual(['abs', 'up']);
    expect(readdirSync(ro)).toEqual(['escape']);
  });
});

describe('more real programs', () => {
  it('bash: subshells, command substitution, here-strings, arrays, traps', async () => {
    const script =
      'echo ${BASH_VERSION%%.*}; (echo sub) & wait; read x <<< "abc"; echo $x $(echo nested); a=(1 2 3); echo ${#a[@]}; trap "echo bye" EXIT';
    const got = await sandboxed(['/bin/bash', '-c', script]);
    expect(got).toMatchObject({ status: 0, stderr: '' });
    expect(got.stdout).toBe(native(['/bin/bash', '-c', script]).stdout);
  });

  it('node: threads, epoll and a timer, then a clean exit', async () => {
    const got = await sandboxed([
      process.execPath,
      '-e',
      'setTimeout(() => console.log("timer", 6 * 7), 20)',
    ]);
    expect(got).toMatchObject({ status: 0, stdout: 'timer 42\n', stderr: '' });
  });
});
