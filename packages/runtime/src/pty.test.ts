// Pseudo-terminals end to end: conformance/pty.c (pty pairs, the line discipline, termios and
// pty ioctls, job control, hangups) must print under tsvisor what it prints on Linux, and
// CPython's pty.fork must work as it does natively.
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { testbed } from './c-programs.test-util.js';

const here = dirname(fileURLToPath(import.meta.url));
const conformance = join(here, '..', 'conformance');
const bed = testbed((dir) => {
  execFileSync('gcc', ['-w', '-O1', '-static', '-o', join(dir, 'pty'), join(conformance, 'pty.c')]);
});
const ENV = ['PATH=/usr/local/bin:/usr/bin:/bin', 'HOME=/root', 'LC_ALL=C'];

describe('pseudo-terminals', () => {
  it('conformance/pty.c prints the same natively and under tsvisor', async () => {
    // setsid: natively too the program starts as a session leader without a terminal, as pid 1
    // of a sandbox does (the program then works in a child).
    const want = spawnSync('setsid', ['-w', join(bed.dir, 'pty')], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    expect(want.status).toBe(0);
    expect(want.stdout.endsWith('\ndone\n')).toBe(true);
    const got = await bed.run(['/work/pty'], {
      env: ENV,
      volumes: [{ host: bed.dir, sandbox: '/work', readOnly: true }],
    });
    expect(got.stderr).toBe('');
    expect(got.stdout).toBe(want.stdout);
    expect(got.status).toBe(0);
  }, 30_000);

  it("python's pty.fork: the child prints on its terminal, the parent reads it and waits", async () => {
    const script = [
      'import os, pty, sys',
      'pid, fd = pty.fork()',
      'if pid == 0:',
      '    print("child", os.isatty(0), os.ttyname(0).startswith("/dev/pts/"), os.getsid(0) == os.getpid())',
      '    sys.stdout.flush()',
      '    os._exit(3)',
      'out = b""',
      'while True:',
      '    try:',
      '        chunk = os.read(fd, 1024)',
      '    except OSError:',
      '        break',
      '    if not chunk:',
      '        break',
      '    out += chunk',
      '_, st = os.waitpid(pid, 0)',
      'print(repr(out), os.waitstatus_to_exitcode(st))',
    ].join('\n');
    writeFileSync(join(bed.dir, 'fork.py'), script);
    const native = spawnSync('python3.11', [join(bed.dir, 'fork.py')], { encoding: 'utf8' });
    expect(native.stdout).toBe("b'child True True True\\r\\n' 3\n");
    const got = await bed.run(['/usr/bin/python3.11', '/work/fork.py'], {
      env: ENV,
      volumes: [{ host: bed.dir, sandbox: '/work', readOnly: true }],
    });
    expect(got.stderr).toBe('');
    expect(got).toMatchObject({ status: 0, stdout: native.stdout });
  }, 30_000);
});
