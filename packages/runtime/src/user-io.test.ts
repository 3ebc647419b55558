// User-buffer I/O (reads and writes whose buffer is NULL or runs into an unmapped page, and the
// preadv/pwritev family) against Linux: testdata/user-io.c runs natively and under tsvisor and
// must print the same lines.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { compile, testbed } from './c-programs.test-util.js';

let native = '';
const bed = testbed((dir) => {
  const exe = compile(dir, 'user-io', ['-O1', '-Wall', '-Werror']);
  native = execFileSync(exe, { encoding: 'utf8', timeout: 20_000 });
});

describe('user-io.c', () => {
  it('prints what Linux answers for the cases the issue names', () => {
    // The program must show Linux's behaviour, or the comparison below proves nothing.
    expect(native).toContain('write(/dev/null, NULL, 10) = 10\n');
    expect(native).toContain('write(/dev/full, NULL, 10) = -1 ENOSPC\n');
    expect(native).toMatch(/pipe read\(NULL, 100\) = -1 EFAULT\npipe still holds 100\n/);
    expect(native).toMatch(/pipe read\(edge-4146, 4196\) = 4096\npipe still holds 100\n/);
    expect(native).toMatch(/unix stream read\(NULL, 100\) = -1 EFAULT\nsocket still holds 100\n/);
  });

  it('prints the same under tsvisor', async () => {
    const got = await bed.run(['/test/user-io'], {
      volumes: [{ host: bed.dir, sandbox: '/test', readOnly: true }],
    });
    expect(got.stderr).toBe('');
    expect(got.stdout).toBe(native);
    expect(got.status).toBe(0);
  });
});
