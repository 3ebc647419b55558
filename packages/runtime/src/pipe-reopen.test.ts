// Reopening an anonymous pipe through /proc/self/fd/N (open("/dev/stdin") on a pipe) against
// Linux: testdata/pipe-reopen.c runs natively and under tsvisor and must print the same.
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compile, testbed } from './c-programs.test-util.js';

let native = '';
const bed = testbed((dir) => {
  const exe = compile(dir, 'pipe-reopen', ['-O1', '-Wall', '-Werror']);
  const fifoDir = join(dir, 'fifo');
  mkdirSync(fifoDir);
  native = execFileSync(exe, [fifoDir], { encoding: 'utf8', timeout: 20_000 });
});

describe('pipe-reopen.c', () => {
  it('reopens pipes without waiting on the host kernel, and keeps ENXIO for a FIFO', () => {
    expect(native).toContain('read end, writer closed: open = ok\n  read = 3\n  read = 0\n');
    expect(native).toContain('write end, reader closed, O_NONBLOCK: open = ok\n  write = -1 EPIPE\n');
    expect(native).toContain('child: read = 3\n');
    expect(native).toContain('fifo O_WRONLY|O_NONBLOCK, no reader: open = -1 ENXIO\n');
  });

  it('prints the same under tsvisor', async () => {
    const got = await bed.run(['/test/pipe-reopen', '/tmp'], {
      volumes: [{ host: bed.dir, sandbox: '/test', readOnly: true }],
    });
    expect(got.stderr).toBe('');
    expect(got.stdout).toBe(native);
    expect(got.status).toBe(0);
  });
});
