// Extended attributes against Linux: testdata/xattr.c runs natively (on the host's /dev/shm
// tmpfs, which keeps user.* xattrs since Linux 6.6) and under tsvisor (on its /tmp tmpfs) and
// must print the same lines; then the read-only volume it runs from refuses changes with EROFS.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { compile, testbed } from './c-programs.test-util.js';

let native = '';
const bed = testbed((dir) => {
  const exe = compile(dir, 'xattr', ['-O1', '-Wall', '-Werror']);
  native = execFileSync(exe, ['/dev/shm'], { encoding: 'utf8', timeout: 20_000 });
});

describe('xattr.c', () => {
  it('prints what Linux answers', () => {
    // The program must show Linux's behaviour, or the comparison below proves nothing.
    expect(native).toContain('getxattr(size 0) = 5\ngetxattr = 5\n  value hello\n');
    expect(native).toContain('getxattr(size 2) = -1 ERANGE\n');
    expect(native).toContain('setxattr(65537 bytes) = -1 E2BIG\n');
    expect(native).toContain('  names: security.s trusted.t user.a user.b user.empty\n');
    expect(native).toContain('lsetxattr(symlink, user.a) = -1 EPERM\n');
    expect(native).toContain('fgetxattr(O_PATH) = -1 EBADF\n');
    expect(native).toContain('setxattrat(usize 24, tail) = -1 E2BIG\n');
    expect(native).toContain('getxattrat = 3\n  value rel\n');
    expect(native).toContain('user getxattr(0600 root file) = -1 EACCES\n');
    expect(native).toContain('user setxattr(trusted.u) = -1 EPERM\n');
    expect(native).toContain('user child status 0\n');
  });

  it('prints the same under tsvisor', async () => {
    const got = await bed.run(['/test/xattr', '/tmp'], {
      volumes: [{ host: bed.dir, sandbox: '/test', readOnly: true }],
    });
    expect(got.stderr).toBe('');
    expect(got.stdout).toBe(native);
    expect(got.status).toBe(0);
  });

  it('refuses changes on a read-only volume with EROFS; the root overlay keeps them in memory', async () => {
    const got = await bed.run(['/test/xattr', '--ro', '/test/xattr', '/'], {
      volumes: [{ host: bed.dir, sandbox: '/test', readOnly: true }],
    });
    expect(got.stderr).toBe('');
    expect(got.stdout).toContain(
      '/test/xattr:\n  setxattr(user.x) = -1 EROFS\n  setxattr(user.x, flags 4) = -1 EINVAL\n' +
        '  removexattr(user.x) = -1 EROFS\n',
    );
    // The default root is the host's / read-only under a tmpfs layer: the directory is copied up.
    expect(got.stdout).toContain('/:\n  setxattr(user.x) = 0\n');
    expect(got.status).toBe(0);
  });

  it('lets python3.11 os.*xattr and coreutils cp keep attributes', async () => {
    const py = (code: string): string => `python3.11 -c '${code}'`;
    const script = [
      'cd /tmp && touch a && mkdir d',
      py('import os; os.setxattr("a", "user.k", b"v1"); os.setxattr("d", "user.dir", b"v2")'),
      'cp --preserve=xattr a b && cp -a d e',
      py('import os; print(os.getxattr("b", "user.k"), os.getxattr("e", "user.dir"), os.listxattr("e"))'),
      py('import os; os.removexattr("b", "user.k"); print(os.listxattr("b"))'),
    ].join(' && ');
    const got = await bed.run(['/bin/sh', '-c', script]);
    expect(got.stderr).toBe('');
    expect(got.stdout).toBe("b'v1' b'v2' ['user.dir']\n[]\n");
    expect(got.status).toBe(0);
  });
});
