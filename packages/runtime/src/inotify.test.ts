// inotify against Linux: testdata/inotify.c (errnos, events of file and directory operations in
// Linux's order, rename cookies, merging of identical events, FIONREAD, poll, IN_ONESHOT,
// IN_MASK_ADD/IN_MASK_CREATE, queue overflow, a blocking read woken by a child, IN_UNMOUNT) runs
// natively as root in a fresh mount namespace on a tmpfs it mounts, and under tsvisor, and must
// print the same lines.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compile, testbed } from './c-programs.test-util.js';

let native = '';
const bed = testbed((dir) => {
  const exe = compile(dir, 'inotify', ['-O1', '-Wall', '-Werror']);
  native = execFileSync('unshare', ['-m', exe, join(dir, 'native-base')], {
    encoding: 'utf8',
    timeout: 20_000,
  });
});

describe('inotify.c', () => {
  it('prints what Linux answers', () => {
    // The program must show Linux's behaviour, or the comparison below proves nothing.
    expect(native).toContain('dir CREATE 0 f\ndir OPEN 0 f\ndir MODIFY 0 f\ndir CLOSE_WRITE 0 f\n');
    expect(native).toContain('dir MOVED_FROM A f\ndir MOVED_TO A g\nf MOVE_SELF 0 -\n');
    expect(native).toContain('f ATTRIB 0 -\nf DELETE_SELF 0 -\nf IGNORED 0 -\ndir DELETE 0 g\n');
    expect(native).toContain('kept CLOSE_NOWRITE 0 -\nkept DELETE_SELF 0 -\nkept IGNORED 0 -\n');
    expect(native).toContain('overflow: events==max 1, overflow events 1, wd -1\n');
    expect(native).toContain('blocking read: 32 bytes, CREATE|ISDIR made\n');
    expect(native).toContain('mnt/d UNMOUNT|ISDIR 0 -\nmnt/d IGNORED 0 -\n');
  });

  it('prints the same under tsvisor', async () => {
    const got = await bed.run(['/test/inotify', '/tmp/inotify-base'], {
      volumes: [{ host: bed.dir, sandbox: '/test', readOnly: true }],
    });
    expect(got.stderr).toBe('');
    expect(got.stdout).toBe(native);
    expect(got.status).toBe(0);
  }, 30_000);
});
