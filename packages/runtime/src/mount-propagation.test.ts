// Mount propagation against Linux: testdata/mount-propagation.c (a shared mount bound twice with
// mounts under any peer appearing under the others, a peer bound from a subdirectory that only
// receives what is below it, umount propagation with its EBUSY and its exceptions, slaves that
// receive but do not send, shared slaves, private and unbindable mounts, mounts tucked under
// what a receiver already has, MS_REC variants of every type, binds of shared mounts under
// shared mounts, a file bind that propagates to peers and slaves, a lazy unmount of a peer, moves
// into and out of shared mounts, stacking on a shared root, a shared mount bound into itself,
// binds of slaves, an unmount that lets a slave's own mount take the place of the copy under it,
// and a recursive bind into a shared mount) runs natively as root in a fresh mount namespace
// (`unshare -m`) and under tsvisor, and must print the same.
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
  const exe = compile(dir, 'mount-propagation', ['-O1', '-Wall', '-Werror']);
  mkdirSync(join(dir, 'native-base'));
  native = execFileSync('unshare', ['-m', exe, join(dir, 'native-base')], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  copyFileSync(join(testdata, 'mount-propagation-tools.sh'), join(dir, 'mount-propagation-tools.sh'));
  mkdirSync(join(dir, 'native-tools'));
  nativeTools = execFileSync(
    'unshare',
    ['-m', 'sh', join(dir, 'mount-propagation-tools.sh'), join(dir, 'native-tools')],
    { encoding: 'utf8', timeout: 20_000 },
  );
});

describe('mount-propagation.c', () => {
  it('prints what Linux answers', () => {
    // The program must show Linux's behaviour, or the comparison below proves nothing.
    expect(native).toContain('who s/x: t1\nwho p1/x: t1\nwho p2/x: t1\n');
    expect(native).toContain('umount p2/x: 0\nwho s/x: ENOENT\nwho p1/x: ENOENT\nwho p2/x: ENOENT\n');
    expect(native).toContain('umount s/y: EBUSY\n');
    expect(native).toContain('who sl/a: ma\nwho m/b: ENOENT\nwho pr/c: ENOENT\nwho m/d: ENOENT\n');
    expect(native).toContain('BASE/sl/e / rw,relatime shared:7 master:4 - tmpfs me\n');
    expect(native).toContain('who m/t: mt\nwho sl/t: slt\n');
    expect(native).toContain('bind u/in on v: EINVAL\n');
    expect(native).toContain('who r/b/q: ENOENT\nwho r2/b/w: rbw\n');
    expect(native).toContain("q2/f: 2 'qs'\n");
    expect(native).toContain(
      'move mv to g/in: 0\nwho gp/in: moved\nwho gp/in/deep: deep2\nmove g/in out: EINVAL\n',
    );
    expect(native).toContain("gs2/f: 1 'g'\nunlink g/f: EBUSY\nunlink gs2/f: EBUSY\n");
    expect(native).toContain('umount tm/t: 0\nwho ts/t: own\numount ts/t: 0\nwho ts/t: ENOENT\n');
    expect(native).toContain('who gp/tree: r\nwho gp/tree/b/q: r2bq\nwho gs/tree/a/n: ran\n');
    expect(native).toContain('umount base: 0\n');
  });

  it('prints the same under tsvisor', async () => {
    const got = await bed.run(['/test/mount-propagation', '/tmp/propagation-base'], {
      volumes: [{ host: bed.dir, sandbox: '/test', readOnly: true }],
    });
    expect(got.stderr).toBe('');
    expect(got.stdout).toBe(native);
    expect(got.status).toBe(0);
  }, 30_000);
});

describe('mount-propagation-tools.sh (util-linux and busybox mount, umount, findmnt)', () => {
  it('prints what Linux answers', () => {
    expect(nativeTools).toContain('BASE/c/x /      private,slave under-b\n');
    expect(nativeTools).toContain("rm: cannot remove 'BASE/target': Device or resource busy\n");
    expect(nativeTools).toContain('BASE/target /a/file shared        tools[/a/file]\n');
    expect(nativeTools).toContain('mount: mounting BASE/c on BASE/d failed: Invalid argument\n');
    expect(nativeTools).toContain('umount -R: 0\nend\n');
  });

  it('prints the same under tsvisor', async () => {
    const got = await bed.run(['/bin/sh', '/test/mount-propagation-tools.sh', '/tmp/propagation-tools'], {
      volumes: [{ host: bed.dir, sandbox: '/test', readOnly: true }],
    });
    expect(got.stderr).toBe('');
    expect(got.stdout).toBe(nativeTools);
    expect(got.status).toBe(0);
  }, 30_000);
});
