// Bind mounts of files onto files against Linux: testdata/mount-file-bind.c (path walks that end
// on a covered file, a second hard link left uncovered, ENOTDIR between files and directories,
// EBUSY for unlink and rename of a mount point, EXDEV for a link through one, stacked and
// read-only file mounts, MS_REC copying file mounts, busy and lazy unmounts, /dev/null masking a
// file, and the mountinfo lines) runs natively as root in a fresh mount namespace (`unshare -m`)
// and under tsvisor, and must print the same lines.
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compile, testbed } from './c-programs.test-util.js';

let native = '';
const bed = testbed((dir) => {
  const exe = compile(dir, 'mount-file-bind', ['-O1', '-Wall', '-Werror']);
  mkdirSync(join(dir, 'native-base'));
  native = execFileSync('unshare', ['-m', exe, join(dir, 'native-base')], {
    encoding: 'utf8',
    timeout: 20_000,
  });
});

describe('mount-file-bind.c', () => {
  it('prints what Linux answers', () => {
    // The program must show Linux's behaviour, or the comparison below proves nothing.
    expect(native).toContain("bind one on two: 0\ncat two: 'one'\ncat two-link: 'two'\n");
    expect(native).toContain('bind dir on file: ENOTDIR\nbind file on dir: ENOTDIR\n');
    expect(native).toContain('unlink mount point: EBUSY\nrename mount point: EBUSY\n');
    expect(native).toContain('BASE/three /d/sub/deep rw,relatime - tmpfs filebind\n');
    expect(native).toContain("cat r/x: 'written-through'\ncat nr/x: 'e-x'\n");
    expect(native).toContain('umount busy file mount: EBUSY\ndetach busy file mount: 0\n');
  });

  it('prints the same under tsvisor', async () => {
    const got = await bed.run(['/test/mount-file-bind', '/tmp/file-bind-base'], {
      volumes: [{ host: bed.dir, sandbox: '/test', readOnly: true }],
    });
    expect(got.stderr).toBe('');
    expect(got.stdout).toBe(native);
    expect(got.status).toBe(0);
  }, 30_000);
});
