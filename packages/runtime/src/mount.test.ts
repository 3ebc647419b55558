// mount(2)/umount2(2) against Linux: testdata/mount.c (new tmpfs mounts and their errnos, bind
// and recursive bind mounts, per-mount read-only remounts, MS_MOVE, propagation types in
// mountinfo, busy/lazy/expiring unmounts, pivot_root(".", ".") in a chroot, mounting proc) runs
// natively as root in a fresh mount namespace (`unshare -m`, which makes every mount private, as
// a sandbox's are) and under tsvisor, and must print the same lines.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { compile, testbed } from './c-programs.test-util.js';

const testdata = join(dirname(fileURLToPath(import.meta.url)), 'testdata');
let native = '';
let nativeTools = '';
const bed = testbed((dir) => {
  const exe = compile(dir, 'mount', ['-O1', '-Wall', '-Werror']);
  mkdirSync(join(dir, 'native-base'));
  native = execFileSync('unshare', ['-m', exe, join(dir, 'native-base')], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  copyFileSync(join(testdata, 'mount-tools.sh'), join(dir, 'mount-tools.sh'));
  mkdirSync(join(dir, 'native-tools'));
  nativeTools = execFileSync(
    'unshare',
    ['-m', 'sh', join(dir, 'mount-tools.sh'), join(dir, 'native-tools')],
    {
      encoding: 'utf8',
      timeout: 20_000,
    },
  );
});

describe('mount.c', () => {
  it('prints what Linux answers', () => {
    // The program must show Linux's behaviour, or the comparison below proves nothing.
    expect(native).toContain('create in ro c: EROFS\n');
    expect(native).toContain('ext4 missing device: ENOENT\n');
    expect(native).toContain('BASE/m / rw,nosuid,nodev,relatime shared:2 master:1 - tmpfs scratch\n');
    expect(native).toContain('expire c: EAGAIN\nexpire c again: 0\n');
    expect(native).toContain('umount cwd mount: EBUSY\n');
    expect(native).toContain('pivot . .: 0\numount old root: 0\nproc: 0\n-- pivoted\n');
  });

  it('prints the same under tsvisor', async () => {
    const got = await bed.run(['/test/mount', '/tmp/mount-base'], {
      volumes: [{ host: bed.dir, sandbox: '/test', readOnly: true }],
    });
    expect(got.stderr).toBe('');
    expect(got.stdout).toBe(native);
    expect(got.status).toBe(0);
  }, 30_000);
});

describe('mount-tools.sh (busybox and util-linux mount/umount)', () => {
  it('prints what Linux answers', () => {
    expect(nativeTools).toContain('touch: BASE/bb/y/f: Read-only file system\n');
    expect(nativeTools).toContain('/x BASE/bb/y ro,nosuid,relatime unbindable - tmpfs bbfs\n');
    expect(nativeTools).toContain(
      'mount: mounting /dev/nosuchdisk on BASE/bb/x failed: No such file or directory\n',
    );
    expect(nativeTools).toContain('umount: BASE/ul: target is busy.\n');
    expect(nativeTools).toContain('end\n');
  });

  it('prints the same under tsvisor', async () => {
    const got = await bed.run(['/bin/sh', '/test/mount-tools.sh', '/tmp/tools-base'], {
      volumes: [{ host: bed.dir, sandbox: '/test', readOnly: true }],
    });
    expect(got.stderr).toBe('');
    expect(got.stdout).toBe(nativeTools);
    expect(got.status).toBe(0);
  }, 30_000);
});
